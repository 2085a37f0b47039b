/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Intel VT-x backend, private to vmx/.  core/ sees only khv_vmx_backend.
 *
 * Files: vmx_caps.c (capability MSRs -> controls, probe), vmx_cpu.c (VMXON
 * per CPU, which VMCS is active where), vmx_vpid.c (VPIDs, INVEPT and
 * INVVPID), vmx.c (the VMCS, one guest entry), vmx_host.c (host state VM
 * exits leave alone), vmx_events.c (event injection), vmx_state.c (guest
 * registers and MSRs for core), vmx_exits.c (exit table, statistics),
 * vmx_pml.c (page-modification logging), vmx_vmenter.S
 * (VMLAUNCH/VMRESUME).  Documentation/khv/vmx.rst.
 */
#ifndef KHV_VMX_VMX_H
#define KHV_VMX_VMX_H

#include <linux/list.h>
#include <linux/percpu.h>
#include <linux/types.h>
#include <asm/asm.h>

#include "../core/khv.h"
#include "vmcs.h"

/* What the capability MSRs allow, and what khv chose (vmx_caps.c). */
struct vmx_caps {
	u64 basic;			/* IA32_VMX_BASIC */
	u64 misc;			/* IA32_VMX_MISC */
	u64 ept_vpid;			/* IA32_VMX_EPT_VPID_CAP */
	u32 pin, proc, proc2, exit, entry;	/* the controls every VMCS starts with */
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;

	bool vpid;			/* VPIDs with single-context or all-context INVVPID */
	bool preemption_timer;
	bool ept_ad;
	bool pml;			/* page-modification logging (with ept_ad; vmx_pml.c) */
	bool pause_loop;		/* PAUSE-loop exiting */
	bool insn_info_io;		/* INS/OUTS exits report address size and segment */
	bool invept_single;		/* else all-context */
	bool invvpid_single;		/* else all-context */
	bool desc_exiting;		/* "descriptor-table exiting" can be set (study) */
	bool rdtscp;			/* "enable RDTSCP": guests run RDTSCP and RDPID */
	u32 timer_value;		/* preemption timer reload, in timer ticks */

	/* What guests may hold: the host CPU's features. */
	u64 cr4_allowed;
	u64 efer_allowed;
};

extern struct vmx_caps vmx_caps;

/* DR6/DR7 as the guest sees them (emulated: every MOV DR exits). */

/* CR0/CR4 bits the guest changes without an exit (the rest are host-owned). */
#define VMX_CR0_GUEST_OWNED	X86_CR0_TS
#define VMX_CR4_GUEST_OWNED	(X86_CR4_TSD | X86_CR4_DE | X86_CR4_PGE | X86_CR4_PCE | \
				 X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT)

/* Per physical CPU (vmx_cpu.c). */
struct vmx_cpu {
	void *vmxon_region;
	u64 vmxon_pa;
	bool enabled;			/* VMXON done by khv */
	struct list_head loaded;	/* vCPUs whose VMCS is active here */
	struct vmx_vcpu *current_vmcs;	/* the current VMCS (VMPTRLD), or NULL */
};

DECLARE_PER_CPU(struct vmx_cpu, vmx_cpu);

/* The VM-entry/VM-exit MSR-load areas: perf MSRs switched atomically. */
#define VMX_AUTOLOAD_MAX	8

struct vmx_msr_entry {
	u32 index;
	u32 reserved;
	u64 value;
} __aligned(16);

/* Host state saved while the guest's is in the CPU (vmx.c, lazily). */
struct vmx_host_state {
	u16 ds, es, fs, gs, ldt;
	u64 kernel_gs_base;
};

struct vmx_vcpu {
	struct khv_vcpu vcpu;		/* first: core allocates vcpu_size bytes */

	void *vmcs;			/* one page, VMX_BASIC_SIZE bytes used */
	u64 vmcs_pa;
	/*
	 * Where the VMCS is active (VMPTRLD done, no VMCLEAR since), or -1.
	 * Written only on that CPU with interrupts off, or by the owner
	 * after a VMCLEAR IPI returned (vmx_cpu.c).
	 */
	int vmcs_cpu;
	bool launched;			/* VMRESUME, not VMLAUNCH, for the next entry */
	struct list_head loaded_link;	/* on vmx_cpu.loaded of vmcs_cpu */

	int last_run_cpu;		/* translations elsewhere may be stale: flush */
	u16 vpid;			/* 0: none (the host's) */
	bool flush_vpid;		/* guest paging state changed behind its back */

	/* Guest state kept in software (the VMCS has shadows or nothing). */
	u64 cr0;			/* as the guest sees it (TS: see VMX_CR0_GUEST_OWNED) */
	u64 cr4;
	u64 cr2;			/* not in the VMCS: loaded into the CPU around entry */
	u64 efer;
	u8 cr8;				/* TPR: MOV CR8 always exits */
	u64 dr6;
	u64 star, lstar, cstar, sfmask, kernel_gs_base;

	/* Host/guest switching of what VMX leaves alone (vmx.c). */
	bool guest_msrs_loaded;
	struct vmx_host_state host;
	unsigned long host_cr3, host_cr4;	/* values in the VMCS host area */
	struct vmx_msr_entry *autoload;	/* [0..MAX): entry load, [MAX..2*MAX): exit load */
	u32 nr_autoload;		/* entries in use in each half */

	/* The last exit. */
	u32 exit_reason;		/* full, or EXIT_VMFAIL */
	u32 vm_insn_error;		/* after EXIT_VMFAIL */
	u32 exit_intr_info;
	u32 idt_vectoring;
	u64 exit_rip;			/* RIP at that exit; see vmx_in_shadow() */
	u32 intr_state;			/* guest interruptibility, as in the VMCS */
	bool fault_exit;		/* the exit stopped an instruction (see vmx.c) */

	/* Events: the last injection, and a delivery to retry. */
	u32 injected;			/* interruption info given to the last entry */
	u32 injected_error;
	u32 injected_len;
	u32 reinject;			/* 0 or interruption info */
	u32 reinject_error;
	u32 reinject_len;

	u64 *pml;			/* the PML buffer (VMs with mmu.hw_log), or NULL */

	u32 proc;			/* current primary controls (window exits vary) */
	u32 entry;			/* current entry controls (IA-32e mode varies) */
};

static inline struct vmx_vcpu *to_vmx(struct khv_vcpu *vcpu)
{
	return container_of(vcpu, struct vmx_vcpu, vcpu);
}

/* enum khv_seg -> index of the VMCS per-segment runs (LDTR and TR swap). */
static inline unsigned int vmx_seg_index(enum khv_seg seg)
{
	if (seg == KHV_SEG_TR)
		return 7;
	if (seg == KHV_SEG_LDTR)
		return 6;
	return seg;
}

/* ---- VMX instructions ---------------------------------------------------- */

/*
 * Every VMX instruction may #UD if VMX was switched off under us (the
 * kernel's emergency reboot and crash paths do VMXOFF on every CPU): the
 * exception table then skips it and the caller sees a failure or a zero.
 */
void vmx_vmwrite_error(u32 field, u64 value);
void vmx_vmread_error(u32 field);

/*
 * STC first: a VMX instruction that faults leaves the flags as they were,
 * so a fault reads as a failure (CF=1); one that executes sets CF or ZF on
 * failure and clears both on success.
 */
static __always_inline u64 vmcs_read(u32 field)
{
	u64 value = 0;
	bool fail;

	asm volatile("stc\n\t"
		     "1: vmread %[field], %[value]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     CC_SET(na)
		     : CC_OUT(na) (fail), [value] "+r" (value)
		     : [field] "r" ((u64)field)
		     : "cc");
	if (unlikely(fail))
		vmx_vmread_error(field);
	return value;
}

static __always_inline u32 vmcs_read32(u32 field)
{
	return vmcs_read(field);
}

static __always_inline void vmcs_write(u32 field, u64 value)
{
	bool fail;

	asm volatile("stc\n\t"
		     "1: vmwrite %[value], %[field]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     CC_SET(na)
		     : CC_OUT(na) (fail)
		     : [field] "r" ((u64)field), [value] "rm" (value)
		     : "cc");
	if (unlikely(fail))
		vmx_vmwrite_error(field, value);
}

/* VMPTRLD, VMCLEAR, VMXON: 0, or -EIO when the instruction failed or faulted. */
#define VMX_PA_INSN(insn, pa) ({					\
	bool __fail;							\
	asm volatile("stc\n\t"						\
		     "1: " insn " %[addr]\n\t"				\
		     "2:\n\t"						\
		     _ASM_EXTABLE(1b, 2b)				\
		     CC_SET(na)						\
		     : CC_OUT(na) (__fail)				\
		     : [addr] "m" (pa)					\
		     : "cc", "memory");					\
	__fail ? -EIO : 0;						\
})

static __always_inline int vmx_vmptrld(u64 pa)
{
	return VMX_PA_INSN("vmptrld", pa);
}

static __always_inline int vmx_vmclear(u64 pa)
{
	return VMX_PA_INSN("vmclear", pa);
}

static __always_inline int vmx_vmxon(u64 pa)
{
	return VMX_PA_INSN("vmxon", pa);
}

/* The VM-exit landing point in vmx_vmenter.S, for VMCS_HOST_RIP. */
extern const u8 __khv_vmx_vmexit[];

/* ---- vmx_caps.c ---------------------------------------------------------- */
int vmx_probe(void);
int vmx_caps_setup(void);

/* vmx_l1d.c: the L1TF mitigation (the l1d_flush module parameter). */
int vmx_l1d_setup(void);
void vmx_l1d_teardown(void);
void vmx_l1d_flush(struct khv_vcpu *vcpu);
/* CR0/CR4 as the CPU must hold them for a guest wanting cr0/cr4. */
u64 vmx_hw_cr0(u64 cr0);
u64 vmx_hw_cr4(u64 cr4);

/* ---- vmx_cpu.c ----------------------------------------------------------- */
int vmx_cpu_setup(void);
void vmx_cpu_teardown(void);
int vmx_cpu_enable(void);
void vmx_cpu_disable(void);
/* Make the VMCS current on this CPU (preemption off); true if it moved CPU. */
bool vmx_vmcs_load(struct vmx_vcpu *vmx, int cpu);
/* VMCLEAR wherever it is active (process context, interrupts on). */
void vmx_vmcs_clear(struct vmx_vcpu *vmx);

/* ---- vmx_vpid.c ---------------------------------------------------------- */
int vmx_vpid_setup(void);
void vmx_vpid_teardown(void);
u16 vmx_vpid_alloc(void);
void vmx_vpid_free(u16 vpid);
void vmx_flush_ept(u64 eptp);		/* INVEPT for one EPT context */
void vmx_flush_ept_all(void);
void vmx_flush_vpid(u16 vpid);		/* INVVPID for one vCPU's linear mappings */
void vmx_flush_vpid_all(void);

/* ---- vmx_pml.c: page-modification logging for the dirty log ------------- */
int vmx_pml_dirty_log_mode(void);
int vmx_pml_alloc(struct vmx_vcpu *vmx);
void vmx_pml_free(struct vmx_vcpu *vmx);
u32 vmx_pml_init_vmcs(struct vmx_vcpu *vmx, u32 proc2);
void vmx_pml_drain(struct vmx_vcpu *vmx);	/* after an exit, VMCS loaded */

/* ---- vmx.c --------------------------------------------------------------- */
u64 vmx_eptp(struct khv_vcpu *vcpu);
void vmx_vcpu_reset(struct vmx_vcpu *vmx);

/* ---- vmx_host.c: switching what VM exits leave alone ------------------- */
void vmx_host_setup(void);
void vmx_load_guest_msrs(struct vmx_vcpu *vmx);	/* interrupts off */
void vmx_put_guest_msrs(struct vmx_vcpu *vmx);	/* preemption off */
void vmx_switch_perf_msrs(struct vmx_vcpu *vmx);	/* interrupts off */

/* ---- vmx_events.c -------------------------------------------------------- */
bool vmx_in_shadow(struct vmx_vcpu *vmx);
void vmx_inject_events(struct vmx_vcpu *vmx);	/* before entry */
void vmx_complete_events(struct vmx_vcpu *vmx);	/* after a VM exit */
struct khv_vcpu_events;
void vmx_get_events(struct khv_vcpu *vcpu, struct khv_vcpu_events *ev);
void vmx_set_events(struct khv_vcpu *vcpu, const struct khv_vcpu_events *ev);

/* ---- vmx_state.c --------------------------------------------------------- */
bool vmx_long_mode_64(struct vmx_vcpu *vmx);
u64 vmx_get_cr0(struct vmx_vcpu *vmx);
u64 vmx_get_cr4(struct vmx_vcpu *vmx);
/* Guest MOV to CR0/CR3/CR4: 0, or -EINVAL for a #GP. */
int vmx_set_cr0(struct vmx_vcpu *vmx, u64 cr0);
int vmx_set_cr3(struct vmx_vcpu *vmx, u64 cr3);
int vmx_set_cr4(struct vmx_vcpu *vmx, u64 cr4);
int vmx_set_cr8(struct vmx_vcpu *vmx, u64 cr8);
int vmx_set_cr(struct khv_vcpu *vcpu, int cr, u64 val);

/*
 * The exceptions always intercepted: #DB and #AC are re-injected (their
 * delivery can otherwise loop in microcode forever), #MC goes to the
 * host's handler.  A study adds others (vmx_set_study).
 */
#define VMX_EXC_INTERCEPTS	(BIT(X86_TRAP_DB) | BIT(X86_TRAP_AC) | BIT(X86_TRAP_MC))
void vmx_get_segment(struct khv_vcpu *vcpu, struct khv_segment *s, enum khv_seg seg);
void vmx_get_sregs(struct khv_vcpu *vcpu, struct khv_sregs *sregs);
int vmx_set_sregs(struct khv_vcpu *vcpu, const struct khv_sregs *sregs);
void vmx_set_segment_op(struct khv_vcpu *vcpu, const struct khv_segment *s, enum khv_seg seg);
void vmx_set_dtable(struct khv_vcpu *vcpu, bool idt, u64 base, u16 limit);
u64 vmx_get_cr(struct khv_vcpu *vcpu, int cr);
u64 vmx_get_efer(struct khv_vcpu *vcpu);
int vmx_get_cpl(struct khv_vcpu *vcpu);
int vmx_get_msr(struct khv_vcpu *vcpu, u32 index, u64 *data);
int vmx_set_msr(struct khv_vcpu *vcpu, u32 index, u64 data, bool host);

/* ---- vmx_exits.c --------------------------------------------------------- */
int vmx_handle_exit(struct khv_vcpu *vcpu);
u32 vmx_hw_insn_len(struct khv_vcpu *vcpu);
void vmx_exit_info(struct khv_vcpu *vcpu, u64 *info1, u64 *info2);
u64 vmx_get_dr67(struct khv_vcpu *vcpu, int dr);
void vmx_set_dr67(struct khv_vcpu *vcpu, int dr, u64 val);
u32 vmx_exit_stat_index(u32 hw_code);
bool vmx_exit_stat_info(u32 index, u32 *hw_code, const char **name);

/*
 * vmx_vmenter.S: load the guest GPRs from regs (all but RSP, which is in the
 * VMCS), write HOST_RSP, VMLAUNCH (launched == 0) or VMRESUME, and on VM exit
 * store the guest GPRs back.  0 after a VM exit, 1 when the instruction
 * failed (VMfail: no guest code ran), 2 when it faulted (VMX is off).
 */
int __khv_vmx_vmenter(u64 *regs, bool launched);
/* Call the host's NMI handler as if an NMI had hit here (interrupts off). */
void __khv_vmx_do_nmi(void);

#endif /* KHV_VMX_VMX_H */
