/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khv kernel-private definitions shared by core/, the backends (svm/, vmx/)
 * and mmu/.  Nothing here is ABI: the ABI is uapi/linux/khv.h.
 *
 * Locking, outermost first:
 *   khv_vcpu.mutex    serialises every ioctl on one vCPU (KHV_RUN included)
 *   khv_vm.lock       vCPU creation, VM-wide configuration
 *   khv_vm.slots_lock (rwsem) the memory slot array; read for faults and
 *                     guest memory access, write for slot changes
 *   mm->mmap_lock     (pinning, under slots_lock; the MMU notifier runs
 *                     under it: core/mmu_notifier.c)
 *   khv_vm.slots_spin the slot array again, for the MMU notifier: writers
 *                     hold slots_lock for write and this
 *   khv_mmu.lock      (spinlock: the notifier may not sleep) the
 *                     second-level page tables
 *   khv_mmu.inval_lock (spinlock) invalidation count and sequence
 */
#ifndef KHV_CORE_KHV_H
#define KHV_CORE_KHV_H

#include <linux/types.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/preempt.h>
#include <linux/atomic.h>
#include <linux/mm_types.h>
#include <linux/mmu_notifier.h>
#include <linux/spinlock.h>
#include <linux/rcuwait.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/sched.h>
#include <linux/uidgid.h>
#include <asm/msr.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>

#include "../uapi/linux/khv.h"
#include "../mmu/mmu.h"

struct khv_vm;
struct khv_vcpu;
struct khv_irqchip;		/* irq/irqchip.h */
struct khv_vcpu_apic;

/* GPR indices in the x86 ModRM/REX encoding order, then RIP. */
enum khv_reg {
	KHV_REG_RAX, KHV_REG_RCX, KHV_REG_RDX, KHV_REG_RBX,
	KHV_REG_RSP, KHV_REG_RBP, KHV_REG_RSI, KHV_REG_RDI,
	KHV_REG_R8, KHV_REG_R9, KHV_REG_R10, KHV_REG_R11,
	KHV_REG_R12, KHV_REG_R13, KHV_REG_R14, KHV_REG_R15,
	KHV_REG_RIP,
	KHV_NR_REGS
};

/* Segment indices in the x86 encoding order (prefixes, MOV Sreg), then system. */
enum khv_seg {
	KHV_SEG_ES, KHV_SEG_CS, KHV_SEG_SS, KHV_SEG_DS, KHV_SEG_FS, KHV_SEG_GS,
	KHV_SEG_TR, KHV_SEG_LDTR,
	KHV_NR_SEGS
};

/* Debug-register bits (architectural; both backends emulate MOV DR via core/dr.c). */
#define KHV_DR6_B0_3		0xfULL
#define KHV_DR6_BD		BIT_ULL(13)	/* general detect hit */
#define KHV_DR6_BS		BIT_ULL(14)	/* single step */
#define KHV_DR6_VOLATILE	0xe00fULL	/* B0-B3, BD, BS, BT */
#define KHV_DR6_FIXED1		0xffff0ff0ULL
#define KHV_DR7_ENABLES		0xffULL		/* L0-L3, G0-G3 */
#define KHV_DR7_GD		BIT_ULL(13)	/* general detect */
#define KHV_DR7_VOLATILE	0xffff23ffULL	/* L/G0-3, LE, GE, GD, R/W, LEN */
#define KHV_DR7_FIXED1		0x400ULL

/* vcpu->mode: tells a kicker whether an IPI is needed to force an exit. */
enum khv_vcpu_mode {
	KHV_OUTSIDE_GUEST_MODE,
	KHV_IN_GUEST_MODE,
};

/* vcpu->requests bits, consumed on the way into the guest. */
#define KHV_REQ_TLB_FLUSH	0	/* second-level mappings changed */
#define KHV_REQ_APIC_TIMER	1	/* re-arm the local APIC's host timer */
#define KHV_REQ_NMI		2	/* an NMI message arrived (irq/) */
#define KHV_REQ_INIT		3	/* an INIT message arrived (irq/) */
#define KHV_REQ_SIPI		4	/* a SIPI arrived; vector in apic (irq/) */
#define KHV_REQ_PVCLOCK		5	/* rewrite the kvmclock structure (core/pvclock.c) */
/* For khv_kick_all_and_wait(): no request, the exit alone (mmu/dirty.c). */
#define KHV_REQ_NONE		BITS_PER_LONG

/* What KHV_RUN must finish before it re-enters the guest. */
enum khv_completion {
	KHV_COMPLETE_NONE,
	KHV_COMPLETE_PIO_IN,		/* copy run->io data into AL/AX/EAX or memory */
	KHV_COMPLETE_MMIO_READ,		/* write run->mmio.data to the decoded operand */
	KHV_COMPLETE_HYPERCALL,		/* copy run->hypercall.ret to RAX */
	KHV_COMPLETE_STUDY,		/* carry on with a study event (core/study.c) */
};

/* A port I/O exit, decoded by the backend from its exit information. */
struct khv_pio {
	u16 port;
	u8 size;		/* 1, 2, 4 */
	bool in;
	bool string;		/* INS/OUTS */
	bool rep;
	u8 addr_size;		/* 2, 4, 8: for string I/O address arithmetic */
	u8 seg;			/* enum khv_seg of the OUTS source (INS uses ES) */
	u32 count;		/* elements handed to userspace this round */
	u64 next_rip;		/* RIP after the instruction */
};

/*
 * An event the VMM asked for (KHV_INJECT_EVENT) or khv raised (#GP, #UD,
 * #PF, #DB).  The payload is what the CPU records as it delivers the
 * exception: for #PF the faulting address, loaded into CR2; for #DB the DR6
 * bits the cause sets (DR6.BS for a single-step trap), ORed into DR6.
 */
struct khv_queued_exception {
	bool pending;
	bool has_error_code;
	bool has_payload;
	bool int1;		/* #DB raised by INT1 (ICEBP): a trap after it */
	u8 vector;
	u32 error_code;
	u64 payload;
};

/*
 * A descriptor-table instruction as core/desc.c emulates it: decoded, its
 * operand read (loads) or its destination checked (stores), then done.
 */
struct khv_desc_op {
	u8 insn;			/* KHV_DESC_* */
	bool mem;			/* operand at addr, else register gpr */
	u8 gpr;
	u8 size;			/* bytes read or written; a register's width */
	u64 addr;			/* linear */
	u64 next_rip;
	u64 base;			/* stored or loaded: GDTR/IDTR, or the descriptor's */
	u32 limit;
	u16 selector;
	struct khv_segment seg;		/* LLDT, LTR: the register as loaded */
	u64 tss_desc;			/* LTR: linear address of the descriptor to mark busy */
};

/* Study mode (core/study.c): what KHV_SET_STUDY chose, and the event out. */
struct khv_vcpu_study {
	struct khv_study set;		/* as KHV_SET_STUDY took it */
	u32 event;			/* KHV_STUDY_EV_* delivered, for the completion */
	bool rdtscp;			/* RDTSC: it was RDTSCP (ECX gets TSC_AUX) */
	u32 msr_index;			/* its RDMSR/WRMSR operands, as the guest gave them */
	u64 msr_value;
	u32 cr;				/* CR_WRITE, CR8_READ: the CR, the GPR (reads) */
	u32 cr_gpr;
	u64 cr_value;			/* CR_WRITE: what the guest writes */
	struct khv_pio pio;		/* IO: the instruction, as the backend decoded it */
	struct khv_queued_exception exc; /* EXCEPTION: as khv would deliver it */
	struct khv_desc_op desc;	/* DESC: decoded, the loads' operands read */
};

/* A decoded memory-operand instruction, kept across an MMIO read exit. */
struct khv_mmio_op {
	u64 gpa;
	u8 len;			/* access size in bytes */
	u8 dst_reg;		/* enum khv_reg for reads */
	u8 dst_size;		/* register write width: 1, 2, 4 (zero-extends to 8), 8 */
	bool sign_extend;	/* MOVSX */
	bool high_byte;		/* AH/CH/DH/BH destination */
	u64 next_rip;
};

/* core/mce.c: the guest's machine-check banks (they never report an error). */
#define KHV_MCE_BANKS		10
#define KHV_CPUID1_EDX_MCA	BIT(14)

struct khv_vcpu_mce {
	u64 mcg_status;
	u64 mcg_ctl;
	u64 bank[KHV_MCE_BANKS][4];	/* CTL, STATUS, ADDR, MISC */
};

/* AMD's HWCR (MSR_K7_HWCR): the two bits khv models. */
#define KHV_HWCR_MCSTATUSWREN	BIT_ULL(18)	/* MCi_STATUS writable */
#define KHV_HWCR_TSCFREQSEL	BIT_ULL(24)	/* the TSC counts at P0 frequency */

struct khv_vcpu {
	struct khv_vm *vm;
	u32 id;

	struct mutex mutex;
	struct khv_run *run;		/* KHV_RUN_MMAP_SIZE bytes, shared with userspace */
	struct preempt_notifier preempt_notifier;
	int cpu;			/* CPU the backend state is loaded on, or -1 */
	atomic_t mode;			/* enum khv_vcpu_mode */
	unsigned long requests;		/* KHV_REQ_* bits */

	/*
	 * Architectural state owned by core: GPRs and RIP in regs[], RFLAGS.
	 * Backends copy RAX/RSP/RIP/RFLAGS to and from their control block
	 * around each entry; the other GPRs live only here.
	 */
	u64 regs[KHV_NR_REGS];
	u64 rflags;
	u64 xcr0;			/* guest XCR0, switched around entry */
	u64 xcr0_refused;		/* XCR0 the guest set without an exit, 0 */
	struct fpu_guest guest_fpu;

	/* Emulated MSR state that is not in the hardware control block. */
	u64 apic_base;
	u64 tsc_aux;
	u64 misc_enable;
	u64 mtrr_def_type;
	u64 hwcr;			/* MSR_K7_HWCR */
	struct khv_vcpu_mce mce;	/* its MSRs exist while CPUID has MCA */
	u64 dr[4];			/* guest DR0..3, emulated (DR accesses are intercepted) */

	/* CPUID as set by KHV_SET_CPUID (or the supported defaults). */
	struct khv_cpuid_entry *cpuid;
	u32 cpuid_nent;

	/* Pending events, delivered by the backend on the next entry. */
	struct khv_queued_exception exception;
	bool nmi_pending;
	bool extint_pending;
	u8 extint_vector;
	/* The in-kernel irqchip has an interrupt the guest cannot take yet. */
	bool irq_window;

	/* The in-kernel local APIC (irq/apic.c), NULL without an irqchip. */
	struct khv_vcpu_apic *apic;
	u32 mp_state;			/* KHV_MP_STATE_*; not RUNNABLE: asleep in KHV_RUN */
	/* Where a halted vCPU sleeps; its own thread is the only waiter. */
	struct rcuwait wait;
	u64 tsc_offset;			/* guest TSC - host TSC, as the backend has it */

	/* kvmclock (core/pvclock.c); the MSRs only exist with pvclock_on. */
	bool pvclock_on;		/* CPUID has the KVM leaves with CLOCKSOURCE2 */
	u64 pvclock_system_time;	/* MSR_KVM_SYSTEM_TIME_NEW: GPA | enable */
	u64 pvclock_wall_clock;		/* MSR_KVM_WALL_CLOCK_NEW: last GPA written */
	u32 pvclock_version;		/* of the structure khv writes */
	int pvclock_cpu;			/* host CPU of the last structure, or -1 */

	/* Completion of an exit that userspace is answering. */
	enum khv_completion completion;
	struct khv_pio pio;
	struct khv_mmio_op mmio;
	struct khv_vcpu_study study;

	/*
	 * Set when the host may have pulled data worth stealing into this CPU's
	 * L1D since the last entry: a return from userspace, a reschedule, a
	 * second-level fault or emulation.  The VT-x backend's conditional L1TF
	 * mitigation flushes the L1D on the next entry only then
	 * (vmx/vmx_l1d.c); quick exits (CPUID, MSR, ...) leave it clear.
	 */
	bool l1d_flush_hint;

	/*
	 * Statistics (core/stats.c), in a block of their own that outlives
	 * the vCPU while a statistics file holds it.  Exit timing: the TSC at
	 * the last timed entry (0: not timed) and at the last exit
	 * (KHV_TSC_NONE: not timed); where that exit's time goes (its
	 * reason's kernel way, moved to the user way if KHV_RUN returns).
	 */
	struct khv_vcpu_stats *stats;
	u64 entry_tsc;
	u64 exit_tsc;
	struct khv_exit_way *timing_slot;
};

/*
 * Per-vCPU statistics: counts, times and per exit reason latency
 * histograms.  Written only by the vCPU's own thread (the vCPU mutex),
 * read racily by statistics files: each u64 is read whole, nothing more.
 */
/*
 * Log2 buckets of TSC cycles (KHV_STATS_SHAPE_LOG2_HIST): fls64() of a
 * difference the entry has checked to be below 2^63 is at most 63, so the
 * bucket needs no clamp on the exit path.
 */
#define KHV_HIST_BUCKETS	64

enum khv_timing_way {
	KHV_WAY_KERNEL,		/* exit handled in the kernel, straight back in */
	KHV_WAY_USER,		/* exit that went through userspace (KHV_RUN returned) */
	KHV_WAYS
};

/* Kernel and user time are the sums of the ways' cycles (stats_fd.c). */
enum khv_time {
	KHV_TIME_GUEST,		/* cycles from entry to exit */
	KHV_TIME_HALT,		/* ns asleep in KHV_RUN (halted, waiting for SIPI) */
	KHV_TIME_MAX
};

/* One way of one exit reason: its cycles, and their log2 histogram. */
struct khv_exit_way {
	u64 cycles;
	u64 hist[KHV_HIST_BUCKETS];
};

struct khv_exit_timing {
	struct khv_exit_way way[KHV_WAYS];
};

struct khv_vcpu_stats {
	struct kref ref;
	/* Indices are exit_stat_index() / KHV_EXIT_* / KHV_KSTAT_* / enum khv_time. */
	u64 hw_exits[KHV_MAX_EXIT_STATS];
	u64 user_exits[KHV_EXIT_MAX];
	u64 kernel_stats[KHV_KSTAT_MAX];
	u64 time[KHV_TIME_MAX];
	struct khv_exit_timing timing[KHV_MAX_EXIT_STATS];
};

/* The VM's statistics: its vCPUs' blocks and what the VM alone has. */
struct khv_vm_stats {
	struct kref ref;
	u32 vm_id;
	spinlock_t lock;		/* vm, the vcpu[] slots, the mmu_* snapshot */
	struct khv_vm *vm;		/* NULL once the VM is gone */
	struct khv_vcpu_stats *vcpu[KHV_MAX_VCPUS];
	u64 mmu_pinned, mmu_tables, mmu_large;	/* the last values, once gone */
};

/* One memory slot: the guest physical range [gpa, gpa + size) at uaddr. */
struct khv_memslot {
	u64 gpa;
	u64 size;		/* 0: slot unused */
	u64 uaddr;
	u32 flags;		/* KHV_MEM_* */
	u32 id;
	/*
	 * With KHV_MEM_LOG_DIRTY: a bit per 4 KiB page, set (atomically) when
	 * the page may have been written since it was last cleared; else
	 * NULL.  The pointer changes only under slots_lock held for write.
	 * A fault sets a bit under khv_mmu.lock before the writable leaf goes
	 * in; khv's own writes set it after the write, without that lock;
	 * bits are taken out under it (core/dirty_log.c, mmu/dirty.c).
	 */
	unsigned long *dirty_bitmap;
};

struct khv_vm {
	struct mutex lock;
	struct mm_struct *mm;		/* the creator's mm: only it may use the VM */
	refcount_t users;		/* the VM fd, and one per vCPU fd */

	struct rw_semaphore slots_lock;
	spinlock_t slots_spin;		/* see the locking order above */
	struct khv_memslot slots[KHV_MAX_MEMSLOTS];

	struct khv_mmu mmu;
	struct mmu_notifier mmu_notifier;	/* core/mmu_notifier.c */

	struct khv_vcpu *vcpus[KHV_MAX_VCPUS];
	atomic_t nr_vcpus;
	/*
	 * One past the highest id of a vCPU created: the walks over vcpus[]
	 * (every MSI and IPI delivery) stop there instead of at 64.  Only
	 * grows; written under lock after vcpus[id] is published.
	 */
	unsigned int vcpu_end;

	/* KHV_CREATE_IRQCHIP, before the first vCPU; then never changes. */
	struct khv_irqchip *irqchip;

	/* irq/irqfd.c; the lock is taken with interrupts off (irqfd wakeups). */
	spinlock_t irqfds_lock;
	struct list_head irqfds;
	unsigned int nr_irqfds;
	struct mutex resample_lock;	/* the resampling irqfds' own list */
	struct list_head resamplers;
	/* core/ioeventfd.c: RCU list, changed under vm->lock */
	struct list_head ioeventfds;
	unsigned int nr_ioeventfds;

	/* core/stats.c: the statistics, and the host-wide list (KHV_GET_VMS). */
	struct khv_vm_stats *stats;
	struct list_head node;		/* on khv_vms, under khv_vms_lock */
	u32 id;
	struct pid *pid;		/* the creator's thread group */
	kuid_t owner;			/* the creator's effective uid */
	char comm[TASK_COMM_LEN];
	u64 created_ns;

	/* kvmclock's VM-wide reference (core/pvclock.c), under pvclock_lock. */
	spinlock_t pvclock_lock;
	bool pvclock_ready;		/* the reference below is set */
	bool pvclock_stable;		/* PVCLOCK_TSC_STABLE_BIT last published */
	u64 pvclock_ref_tsc;		/* host TSC ... */
	u64 pvclock_ref_ns;		/* ... when kvmclock read this many ns */
	u64 pvclock_epoch;		/* boot-time ns at kvmclock 0 */
};

/*
 * The backend ops table: the only way core/ reaches svm/ or vmx/.  Chosen
 * once at module load by khv_backend_ident() (core/backend.c).  Unless a
 * comment says otherwise, hooks run in process context with the vCPU mutex
 * held and preemption enabled, with the vCPU loaded (vcpu_load done).
 */
struct khv_backend {
	const char *name;		/* "svm" or "vmx" */
	u32 vendor;			/* KHV_VENDOR_* */
	size_t vcpu_size;		/* backend vCPU struct embedding struct khv_vcpu */

	/* Whether this CPU can run the backend; logs one line on refusal. */
	int (*probe)(void);
	/* Global setup after probe succeeds (bitmaps, capability caching). */
	int (*setup)(void);
	void (*teardown)(void);
	/* On each CPU, from the CPU-hotplug callbacks; interrupts may be off. */
	int (*cpu_enable)(void);
	void (*cpu_disable)(void);

	int (*vm_init)(struct khv_vm *vm);
	void (*vm_destroy)(struct khv_vm *vm);
	/* Not loaded: vcpu_init runs before the first vcpu_load, vcpu_destroy after the last put. */
	int (*vcpu_init)(struct khv_vcpu *vcpu);	/* architectural reset state */
	void (*vcpu_destroy)(struct khv_vcpu *vcpu);

	/* Preemption disabled. cpu is smp_processor_id(). */
	void (*vcpu_load)(struct khv_vcpu *vcpu, int cpu);
	void (*vcpu_put)(struct khv_vcpu *vcpu);

	/*
	 * One guest entry: interrupts disabled, preemption disabled, guest FPU
	 * loaded.  Consumes vcpu->requests, injects pending events, copies
	 * regs in, enters, copies regs out, records the exit for handle_exit.
	 */
	void (*run)(struct khv_vcpu *vcpu);
	/*
	 * Handle the exit recorded by run(), interrupts and preemption enabled.
	 * Returns > 0 to re-enter, 0 to return to userspace with vcpu->run
	 * filled in, < 0 errno to fail KHV_RUN.
	 */
	int (*handle_exit)(struct khv_vcpu *vcpu);

	void (*get_segment)(struct khv_vcpu *vcpu, struct khv_segment *s, enum khv_seg seg);
	void (*get_sregs)(struct khv_vcpu *vcpu, struct khv_sregs *sregs);
	int (*set_sregs)(struct khv_vcpu *vcpu, const struct khv_sregs *sregs);
	/*
	 * One segment register, and GDTR or IDTR, as LLDT, LTR, LGDT and LIDT
	 * load them (core/desc.c): no other state changes.
	 */
	void (*set_segment)(struct khv_vcpu *vcpu, const struct khv_segment *s, enum khv_seg seg);
	void (*set_dtable)(struct khv_vcpu *vcpu, bool idt, u64 base, u16 limit);
	u64 (*get_cr)(struct khv_vcpu *vcpu, int cr);	/* 0, 2, 3, 4 */
	u64 (*get_efer)(struct khv_vcpu *vcpu);
	int (*get_cpl)(struct khv_vcpu *vcpu);
	/* Interrupt shadow (STI / MOV SS) in effect. */
	bool (*in_interrupt_shadow)(struct khv_vcpu *vcpu);
	/*
	 * Put the vCPU in the state INIT leaves (loaded, preemption enabled):
	 * the control block's registers and the backend's event state; core
	 * resets its own registers around the call.
	 */
	void (*reset)(struct khv_vcpu *vcpu);
	/*
	 * Make guest TSC = host TSC + @offset exactly (IA32_TSC writes go
	 * through set_msr, which can only aim at a value): INIT keeps the
	 * offset, and kvmclock needs vCPUs' offsets to stay equal.
	 */
	void (*set_tsc_offset)(struct khv_vcpu *vcpu, u64 offset);
	/*
	 * Interrupts off, before run(): an external interrupt queued now
	 * would go in on this entry (RFLAGS.IF, no shadow, no other event
	 * to deliver first).
	 */
	bool (*interrupt_allowed)(struct khv_vcpu *vcpu);
	/*
	 * KHV_GET/SET_VCPU_EVENTS: the event state the backend keeps (an
	 * interrupted delivery to redo, NMI blocking, the interrupt shadow)
	 * to and from the uAPI's fields injected, nmi.masked and shadow; set
	 * gets values core has checked, after the registers (RIP) are set.
	 */
	void (*get_events)(struct khv_vcpu *vcpu, struct khv_vcpu_events *ev);
	void (*set_events)(struct khv_vcpu *vcpu, const struct khv_vcpu_events *ev);

	/*
	 * MSRs the backend keeps in its control block (EFER, PAT, the syscall
	 * and segment-base MSRs, TSC offset...).  Return 0, or 1 when the MSR is
	 * not the backend's (core then tries its own), or -EINVAL when the value
	 * is refused (#GP for a guest, a short count for KHV_SET_MSRS).
	 */
	int (*get_msr)(struct khv_vcpu *vcpu, u32 index, u64 *data);
	int (*set_msr)(struct khv_vcpu *vcpu, u32 index, u64 data, bool host);

	/* DR6 and DR7, wherever the hardware keeps them (dr is 6 or 7). */
	u64 (*get_dr67)(struct khv_vcpu *vcpu, int dr);
	void (*set_dr67)(struct khv_vcpu *vcpu, int dr, u64 val);

	/* Length of the instruction at RIP when the hardware knows it, else 0. */
	u32 (*hw_insn_len)(struct khv_vcpu *vcpu);
	/*
	 * The last exit's own information, for tracing: SVM's EXITINFO1 and
	 * EXITINFO2; VT-x's exit qualification and the guest-physical address
	 * (EPT exits) or the exit interruption information (exceptions, NMIs).
	 */
	void (*exit_info)(struct khv_vcpu *vcpu, u64 *info1, u64 *info2);
	/*
	 * Study mode changed (vcpu->study.set): intercept what it needs on top
	 * of khv's own intercepts (RDTSC; every MSR, including those khv lets
	 * the guest reach directly), and stop when it no longer does.
	 */
	void (*set_study)(struct khv_vcpu *vcpu);
	/* Optional: the KHV_STUDY_* events this CPU cannot intercept. */
	u64 (*study_missing)(void);
	/* Optional: false when a guest cannot run RDTSCP and RDPID (CPUID hides them). */
	bool (*has_rdtscp)(void);
	/*
	 * A guest's MOV to CRn (0, 3, 4 or 8), with the checks and effects the
	 * CPU's would have: 0, or -EINVAL for a #GP (nothing changed).  For the
	 * CR writes a study delivered before the backend did them.
	 */
	int (*set_cr)(struct khv_vcpu *vcpu, int cr, u64 val);
	/*
	 * Forget the event whose delivery the last exit interrupted (the one
	 * KHV_GET_VCPU_EVENTS reports as injected): an exception raised during
	 * that delivery takes its place (khv_reflect_exception()).
	 */
	void (*drop_redelivery)(struct khv_vcpu *vcpu);

	/* Second-level paging: format and depth of the tables this backend walks. */
	const struct khv_mmu_format *mmu_format;
	int (*mmu_levels)(void);
	/*
	 * The best dirty log this CPU offers (KHV_DIRTY_LOG_BY_*): write
	 * protection, the leaves' dirty flags, or the flags and a log of the
	 * pages whose flag the CPU set (then the backend calls
	 * khv_log_dirty_gpas() at every exit of a VM with mmu.hw_log, before
	 * handling it).
	 */
	int (*dirty_log_mode)(void);

	/* Exit statistics: hardware code -> index < KHV_MAX_EXIT_STATS, and back. */
	u32 (*exit_stat_index)(u32 hw_code);
	bool (*exit_stat_info)(u32 index, u32 *hw_code, const char **name);
};

extern const struct khv_backend *khv_ops;
extern const struct khv_backend khv_svm_backend;
extern const struct khv_backend khv_vmx_backend;

/* core/backend.c */
int khv_backend_ident(void);

/*
 * Walking the vCPUs from any context: ids below khv_vcpu_end(), each
 * khv_vcpu_at() that is not NULL.  A vCPU created during the walk may or
 * may not be seen.
 */
static inline unsigned int khv_vcpu_end(struct khv_vm *vm)
{
	/* Pairs with the second release in khv_vcpu_create(). */
	return smp_load_acquire(&vm->vcpu_end);
}

static inline struct khv_vcpu *khv_vcpu_at(struct khv_vm *vm, unsigned int id)
{
	/* Pairs with the first release in khv_vcpu_create(): a set-up vCPU. */
	return smp_load_acquire(&vm->vcpus[id]);
}

/* core/vcpu.c: run-loop helpers for backends. */
void khv_kick_all_and_wait(struct khv_vm *vm, unsigned int req);
void khv_vcpu_init_signal(struct khv_vcpu *vcpu);
void khv_vcpu_sipi(struct khv_vcpu *vcpu, u8 vector);
/*
 * Consume request @req.  Most entries have none: a plain read first, and
 * the locked read-modify-write only for a bit that is there.
 */
static inline bool khv_test_clear_request(struct khv_vcpu *vcpu, unsigned int req)
{
	return test_bit(req, &vcpu->requests) && test_and_clear_bit(req, &vcpu->requests);
}

/* core/exits.c: the vendor-neutral halves of exit handling. */
int khv_handle_cpuid(struct khv_vcpu *vcpu);
int khv_handle_rdmsr(struct khv_vcpu *vcpu);
int khv_handle_wrmsr(struct khv_vcpu *vcpu);
int khv_handle_xsetbv(struct khv_vcpu *vcpu);
void khv_xcr0_after_exit(struct khv_vcpu *vcpu, u64 host_xcr0, bool loaded);
int khv_handle_pio(struct khv_vcpu *vcpu, const struct khv_pio *pio);
int khv_handle_hlt(struct khv_vcpu *vcpu);
int khv_handle_hypercall(struct khv_vcpu *vcpu);
int khv_handle_shutdown(struct khv_vcpu *vcpu);
int khv_handle_rdtsc(struct khv_vcpu *vcpu, bool rdtscp);
bool khv_rip_is_rdtscp(struct khv_vcpu *vcpu);
/* The default handling a study event carries on with (core/study.c). */
int khv_wrmsr(struct khv_vcpu *vcpu, u32 index, u64 data);
int khv_hlt(struct khv_vcpu *vcpu);
int khv_do_pio(struct khv_vcpu *vcpu, const struct khv_pio *pio);
int khv_invlpg(struct khv_vcpu *vcpu);
void khv_set_edx_eax(struct khv_vcpu *vcpu, u64 v);

/*
 * core/study.c: does the vCPU study this event (and, for CPUID and MSRs,
 * is the leaf or index on its list)?  Then deliver it (returns 0).
 */
static inline bool khv_studies(const struct khv_vcpu *vcpu, u64 event)
{
	return unlikely(vcpu->study.set.events & event);
}

bool khv_study_cpuid(struct khv_vcpu *vcpu, u32 leaf);
bool khv_study_msr(struct khv_vcpu *vcpu, u32 index);
int khv_study_exit(struct khv_vcpu *vcpu, u32 event);
/*
 * The backends' CR accesses, port I/O and exceptions, decoded, of a vCPU
 * that studies them (the caller tests the event): true when the access
 * went out as a study exit (the handler then returns 0), false when this
 * CR, port or vector is not on the list.  A CR8 read always goes out (no
 * list); @gpr is its destination.
 */
bool khv_study_cr_write(struct khv_vcpu *vcpu, int cr, u64 val, u64 old);
void khv_study_cr8_read(struct khv_vcpu *vcpu, u64 val, int gpr);
bool khv_study_io(struct khv_vcpu *vcpu, const struct khv_pio *pio);
bool khv_study_exception(struct khv_vcpu *vcpu, const struct khv_queued_exception *x);
int khv_handle_invlpg(struct khv_vcpu *vcpu, u64 addr);
int khv_handle_pause(struct khv_vcpu *vcpu);
/*
 * An exception the guest raised and the backend intercepted (khv's own #DB
 * and #AC, or a studied vector), as the CPU would deliver it (@x: vector,
 * error code, CR2 or DR6 payload; RIP at the faulting instruction, or at
 * the INT3/INTO of a #BP/#OF): offered to the study, then delivered
 * (core/events.c, khv_reflect_exception()).
 */
int khv_handle_exception(struct khv_vcpu *vcpu, const struct khv_queued_exception *x);
/*
 * core/desc.c: a descriptor-table instruction the backend intercepted
 * (@insn: KHV_DESC_*, as the hardware named it), emulated; offered to the
 * study first.  khv_desc_finish() does it (also as the study's completion).
 */
int khv_handle_desc(struct khv_vcpu *vcpu, unsigned int insn);
int khv_desc_finish(struct khv_vcpu *vcpu, const struct khv_desc_op *op);
bool khv_desc_is_load(unsigned int insn);	/* LGDT, LIDT, LLDT, LTR */
int khv_reflect_exception(struct khv_vcpu *vcpu, const struct khv_queued_exception *x);
int khv_handle_npf(struct khv_vcpu *vcpu, u64 gpa, bool write, bool fetch);
int khv_exit_internal_error(struct khv_vcpu *vcpu, u32 suberror, u32 ndata, const u64 *data);
int khv_exit_fail_entry(struct khv_vcpu *vcpu, u64 reason);
int khv_exit_irq_window(struct khv_vcpu *vcpu);
int khv_skip_instruction(struct khv_vcpu *vcpu);
/* core/dr.c: MOV DR, once the backend has decoded the operands. */
int khv_emulate_mov_dr(struct khv_vcpu *vcpu, int dr, int gpr, bool write, bool wide);
void khv_complete_instruction(struct khv_vcpu *vcpu, u64 next_rip);
void khv_queue_single_step(struct khv_vcpu *vcpu);
void khv_queue_exception(struct khv_vcpu *vcpu, u8 vector, bool has_error, u32 error_code);
static inline void khv_inject_gp(struct khv_vcpu *vcpu)
{
	khv_queue_exception(vcpu, 13, true, 0);
}
static inline void khv_inject_ud(struct khv_vcpu *vcpu)
{
	khv_queue_exception(vcpu, 6, false, 0);
}

/* core/cpuid.c */
const struct khv_cpuid_entry *khv_cpuid_find(struct khv_vcpu *vcpu, u32 fn, u32 idx);
u64 khv_supported_xcr0(void);
u32 khv_xsave_size(u64 xcr0);
bool khv_canonical(u64 v);
u64 khv_cr4_supported(void);
bool khv_pat_valid(u64 pat);	/* standard-format XSAVE area for xcr0 */

/* core/pvclock.c: kvmclock */
void khv_pvclock_vm_init(struct khv_vm *vm);
void khv_pvclock_cpuid_changed(struct khv_vcpu *vcpu);
void khv_pvclock_tsc_changed(struct khv_vcpu *vcpu);
void khv_pvclock_update(struct khv_vcpu *vcpu);
int khv_pvclock_get_clock(struct khv_vm *vm, struct khv_clock_data *c);
int khv_pvclock_set_clock(struct khv_vm *vm, const struct khv_clock_data *c);
/* 0, 1 when the MSR is not kvmclock's, or -EINVAL (#GP / short count). */
int khv_pvclock_get_msr(struct khv_vcpu *vcpu, u32 index, u64 *data);
int khv_pvclock_set_msr(struct khv_vcpu *vcpu, u32 index, u64 data, bool host);

/* core/mce.c; get/set return 0, 1 when the MSR is not theirs, or -EINVAL. */
int khv_mce_get_msr(struct khv_vcpu *vcpu, u32 index, u64 *data);
int khv_mce_set_msr(struct khv_vcpu *vcpu, u32 index, u64 data, bool host);

/* core/memslot.c: guest physical memory as seen through the slots. */
/* slots_lock held, or slots_spin (which slot changes hold while they write). */
const struct khv_memslot *khv_find_slot(struct khv_vm *vm, u64 gpa);
/* khv wrote the page at gpa of slot s for the guest: log it (core/dirty_log.c). */
void khv_mark_dirty(const struct khv_memslot *s, u64 gpa);
/* The dirty log mode of a VM created now, KHV_DIRTY_LOG_BY_* (core/dirty_log.c). */
int khv_dirty_log_mode(void);
/*
 * The backend's log of pages the CPU dirtied (mmu.hw_log), after an exit:
 * set their bits, count them.  Process context: takes slots_lock for read.
 */
void khv_log_dirty_gpas(struct khv_vcpu *vcpu, const u64 *gpas, unsigned int n);
/*
 * The guest physical ranges whose slots map [start, end) of the VMM's
 * memory, into @out (KHV_MAX_MEMSLOTS entries); their number.  Takes
 * slots_spin, not slots_lock: for the MMU notifier.
 */
unsigned int khv_slots_for_hva(struct khv_vm *vm, unsigned long start, unsigned long end,
			       struct khv_gpa_range *out);
int khv_read_guest(struct khv_vm *vm, u64 gpa, void *buf, size_t len);
int khv_write_guest(struct khv_vm *vm, u64 gpa, const void *buf, size_t len);

/* core/stats.c */
extern bool khv_exit_timing;

static inline void khv_count_exit(struct khv_vcpu *vcpu, u32 hw_code)
{
	struct khv_vcpu_stats *s = vcpu->stats;
	u32 index = khv_ops->exit_stat_index(hw_code);

	s->hw_exits[index]++;
	vcpu->timing_slot = &s->timing[index].way[KHV_WAY_KERNEL];
	vcpu->run->hw_exit_reason = hw_code;
}

static inline void khv_kstat(struct khv_vcpu *vcpu, unsigned int kstat)
{
	vcpu->stats->kernel_stats[kstat]++;
}

/* An event an entry delivers (the backends): traced, counted by type. */
void khv_note_inject(struct khv_vcpu *vcpu, u32 info, u32 error, bool again);

/*
 * exit_tsc of an exit that was not timed: far enough ahead of any TSC that
 * the difference from it is negative, which skips it (one test for this
 * and for TSCs that disagree).
 */
#define KHV_TSC_NONE	BIT_ULL(63)

/*
 * Around khv_ops->run(), interrupts off: the time from the last exit to
 * this entry goes to that exit's histogram; from entry to exit is guest
 * time.  Two RDTSCs per exit, none with exit_timing off.  Every entry
 * is followed by exactly one exit, and (but for the first) preceded by
 * one: exit_tsc is KHV_TSC_NONE only before the first, and after timing
 * was off.
 * The cost is counted by make bench (Documentation/khv/observe.rst).
 */
static __always_inline void khv_timing_entry(struct khv_vcpu *vcpu)
{
	u64 now, cycles;

	if (!READ_ONCE(khv_exit_timing)) {
		vcpu->entry_tsc = 0;
		vcpu->exit_tsc = KHV_TSC_NONE;
		return;
	}
	now = rdtsc();
	cycles = now - vcpu->exit_tsc;
	/* Not after an untimed exit, nor across TSCs that disagree (migration). */
	if (likely((s64)cycles >= 0)) {
		struct khv_exit_way *w = vcpu->timing_slot;

		w->cycles += cycles;
		/*
		 * fls64(cycles) without its test for 0: an exit and the next
		 * entry are never the same cycle (bucket 0 stays empty here).
		 */
		w->hist[__fls(cycles | 1) + 1]++;
	}
	vcpu->entry_tsc = now;
}

static __always_inline void khv_timing_exit(struct khv_vcpu *vcpu)
{
	u64 entry = vcpu->entry_tsc, now, run;

	if (!entry)
		return;
	now = rdtsc();
	vcpu->exit_tsc = now;
	/* One add to memory, not GCC's load, subtract, add, store. */
	run = now - entry;
	OPTIMIZER_HIDE_VAR(run);
	vcpu->stats->time[KHV_TIME_GUEST] += run;
}

/*
 * KHV_RUN returns: the exit waiting for its entry goes through userspace
 * (its reason's user way).  Once only: KHV_RUN may return again before the
 * next entry.
 */
static inline void khv_timing_to_user(struct khv_vcpu *vcpu)
{
	size_t at = (void *)vcpu->timing_slot - (void *)vcpu->stats->timing;

	if (vcpu->exit_tsc != KHV_TSC_NONE && !(at % sizeof(struct khv_exit_timing)))
		vcpu->timing_slot++;
}

/* core/stats.c: the statistics blocks and files, the list of VMs. */
int khv_vm_stats_create(struct khv_vm *vm);
void khv_vm_stats_gone(struct khv_vm *vm);
int khv_vcpu_stats_create(struct khv_vcpu *vcpu);
void khv_vcpu_stats_put(struct khv_vcpu_stats *s);
void khv_vcpu_stats_publish(struct khv_vcpu *vcpu);
void khv_vm_stats_put(struct khv_vm_stats *vs);
void khv_vm_stats_mmu(struct khv_vm_stats *vs);

#endif /* KHV_CORE_KHV_H */
