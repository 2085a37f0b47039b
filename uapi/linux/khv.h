/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * khv: the userspace ABI of /dev/khv.
 *
 * Three kinds of file descriptor, as with KVM:
 *   /dev/khv          system fd: version, capabilities, CPUID, VM creation
 *   VM fd             memory slots, vCPU creation
 *   vCPU fd           KHV_RUN, register state, MSRs, CPUID, events, statistics;
 *                     mmap() of the vCPU fd gives the shared struct khv_run
 *
 * Every structure has explicit sizes and padding; the kernel checks the sizes
 * with static asserts.  Every field named "reserved" or "pad*" must be zero on
 * input, or the ioctl fails with EINVAL.  Documentation/khv/uapi.rst lists,
 * for each ioctl, its arguments and every errno it returns.
 */
#ifndef _UAPI_LINUX_KHV_H
#define _UAPI_LINUX_KHV_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define KHV_API_VERSION		1

/* 0xB8 is unused in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define KHVIO			0xB8

/* Limits (also reported through KHV_CHECK_EXTENSION). */
#define KHV_MAX_VCPUS		64
#define KHV_MAX_MEMSLOTS	32
#define KHV_MAX_CPUID_ENTRIES	256
#define KHV_MAX_MSR_ENTRIES	256
#define KHV_MAX_EXIT_STATS	128

/* ---- system fd ioctls ---------------------------------------------------- */
#define KHV_GET_API_VERSION	_IO(KHVIO, 0x00)
#define KHV_CREATE_VM		_IO(KHVIO, 0x01)	/* arg: 0 */
#define KHV_GET_MSR_INDEX_LIST	_IOWR(KHVIO, 0x02, struct khv_msr_list)
#define KHV_CHECK_EXTENSION	_IO(KHVIO, 0x03)	/* arg: KHV_CAP_* */
#define KHV_GET_VCPU_MMAP_SIZE	_IO(KHVIO, 0x04)
#define KHV_GET_SUPPORTED_CPUID	_IOWR(KHVIO, 0x05, struct khv_cpuid)
#define KHV_GET_VMS		_IOWR(KHVIO, 0x06, struct khv_vm_list)
#define KHV_OPEN_STATS		_IOW(KHVIO, 0x07, struct khv_stats_open)

/* Capabilities: KHV_CHECK_EXTENSION returns 0 for "absent", else a value. */
#define KHV_CAP_NR_VCPUS	1	/* max vCPUs per VM */
#define KHV_CAP_NR_MEMSLOTS	2	/* max memory slots per VM */
#define KHV_CAP_READONLY_MEM	3
#define KHV_CAP_IMMEDIATE_EXIT	4
#define KHV_CAP_HYPERCALL	5
#define KHV_CAP_EXIT_STATS	6
#define KHV_CAP_XSAVE		7
#define KHV_CAP_VENDOR		8	/* KHV_VENDOR_* */
#define KHV_CAP_NPT_LEVELS	9	/* depth of second-level tables: 4 or 5 */
#define KHV_CAP_INJECT_EVENT	10
#define KHV_CAP_IRQCHIP		11	/* KHV_CREATE_IRQCHIP, KHV_IRQ_LINE */
#define KHV_CAP_SIGNAL_MSI	12	/* KHV_SIGNAL_MSI */
#define KHV_CAP_MP_STATE	13	/* KHV_GET/SET_MP_STATE, INIT and SIPI */
#define KHV_CAP_IRQFD		14	/* KHV_IRQFD, with KHV_IRQFD_RESAMPLE */
#define KHV_CAP_IOEVENTFD	15	/* KHV_IOEVENTFD */
#define KHV_CAP_STATE		16	/* KHV_GET/SET_LAPIC, _IRQCHIP, _VCPU_EVENTS */
#define KHV_CAP_PVCLOCK		17	/* kvmclock MSRs behind the KVM CPUID leaves */
#define KHV_CAP_STATS_FD	18	/* KHV_GET_STATS_FD, KHV_GET_VMS, KHV_OPEN_STATS */
#define KHV_CAP_STUDY		19	/* KHV_SET/GET_STUDY: the KHV_STUDY_* it offers */
#define KHV_CAP_DIRTY_LOG	20	/* KHV_MEM_LOG_DIRTY, KHV_GET/CLEAR_DIRTY_LOG: KHV_DIRTY_LOG_BY_* */
/* KHV_GET_MSR_INDEX_LIST, KHV_GET/SET_DEBUGREGS, _XCRS, _CLOCK: the rest of the state */
#define KHV_CAP_SAVE_STATE	21

#define KHV_VENDOR_AMD		1	/* AMD-V (SVM) backend */
#define KHV_VENDOR_INTEL	2	/* Intel VT-x (VMX) backend */

/* ---- VM fd ioctls -------------------------------------------------------- */
#define KHV_CREATE_VCPU		_IO(KHVIO, 0x41)	/* arg: vCPU id */
#define KHV_SET_USER_MEMORY_REGION _IOW(KHVIO, 0x46, struct khv_userspace_memory_region)
#define KHV_GET_DIRTY_LOG	_IOW(KHVIO, 0x47, struct khv_dirty_log)
#define KHV_CLEAR_DIRTY_LOG	_IOW(KHVIO, 0x48, struct khv_dirty_log)
#define KHV_CREATE_IRQCHIP	_IO(KHVIO, 0x60)	/* arg: 0; before any vCPU */
#define KHV_IRQ_LINE		_IOW(KHVIO, 0x61, struct khv_irq_level)
#define KHV_SIGNAL_MSI		_IOW(KHVIO, 0x62, struct khv_msi)
#define KHV_IRQFD		_IOW(KHVIO, 0x63, struct khv_irqfd)
#define KHV_IOEVENTFD		_IOW(KHVIO, 0x64, struct khv_ioeventfd)
#define KHV_GET_IRQCHIP		_IOR(KHVIO, 0x65, struct khv_irqchip_state)
#define KHV_SET_IRQCHIP		_IOW(KHVIO, 0x66, struct khv_irqchip_state)
#define KHV_SET_CLOCK		_IOW(KHVIO, 0x7b, struct khv_clock_data)
#define KHV_GET_CLOCK		_IOR(KHVIO, 0x7c, struct khv_clock_data)
/* On a VM fd: the VM's statistics file; on a vCPU fd: the vCPU's (below). */
#define KHV_GET_STATS_FD	_IO(KHVIO, 0xce)	/* arg: 0 */

/* Guest writes to a read-only slot become KHV_EXIT_MMIO exits. */
#define KHV_MEM_READONLY	(1u << 0)
/* Log the pages the guest (or khv for it) writes: KHV_GET_DIRTY_LOG. */
#define KHV_MEM_LOG_DIRTY	(1u << 1)
#define KHV_MEM_FLAGS_ALL	(KHV_MEM_READONLY | KHV_MEM_LOG_DIRTY)

/*
 * Add (memory_size != 0, slot unused), move (same slot, same size, flags and
 * userspace_addr, new guest_phys_addr), change flags (same slot, address,
 * size and userspace_addr: only KHV_MEM_LOG_DIRTY may change), delete
 * (memory_size == 0).  Addresses and sizes are 4 KiB aligned; slots never
 * overlap.  KHV_MEM_LOG_DIRTY cannot go with KHV_MEM_READONLY.
 */
struct khv_userspace_memory_region {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
};

/*
 * KHV_CHECK_EXTENSION(KHV_CAP_DIRTY_LOG): how a VM created now logs (the
 * same calls and the same promise in every mode; module parameters
 * dirty_bits and pml choose where the CPU allows).
 */
#define KHV_DIRTY_LOG_BY_WP	1	/* write protection: a fault per page and pass */
#define KHV_DIRTY_LOG_BY_CPU	2	/* the CPU's dirty flags in NPT/EPT leaves */
#define KHV_DIRTY_LOG_BY_PML	3	/* the flags, and VT-x's log of the pages it dirties */

/*
 * Dirty-page logging (KHV_CAP_DIRTY_LOG, Documentation/khv/migration.rst).
 * A slot with KHV_MEM_LOG_DIRTY has a bitmap of its 4 KiB pages, bit n for
 * the page at guest_phys_addr + n * 4096, set when the guest may have
 * written the page since the bit was last cleared (and when khv wrote it
 * for the guest: kvmclock, emulated string I/O).  Logging starts with every
 * bit clear; the VMM's own writes to guest memory are not logged.
 *
 * KHV_GET_DIRTY_LOG copies the bits of pages [first_page, first_page +
 * num_pages) of the slot to bitmap (bit n of the byte array: page
 * first_page + n; num_pages bits rounded up to a multiple of 64) and,
 * unless KHV_DIRTY_LOG_KEEP, clears them: the guest's next write to such a
 * page sets its bit again.  A write that the guest makes before the call
 * returns is in the copied page, a later one in the next bitmap.  Returns
 * the number of bits set.  KHV_CLEAR_DIRTY_LOG clears the bits set in
 * bitmap (those of a KHV_DIRTY_LOG_KEEP get, typically) and returns 0.
 * first_page is a multiple of 64; the range lies inside the slot; flags
 * and reserved are zero for KHV_CLEAR_DIRTY_LOG.  ENOENT: the slot does
 * not log.  EFAULT: bitmap unreadable or unwritable (a get then clears
 * nothing).
 */
#define KHV_DIRTY_LOG_KEEP	(1u << 0)	/* GET: copy, do not clear */
#define KHV_DIRTY_LOG_FLAGS_ALL	(KHV_DIRTY_LOG_KEEP)

struct khv_dirty_log {
	__u32 slot;
	__u32 flags;		/* KHV_DIRTY_LOG_* */
	__u64 first_page;
	__u64 num_pages;
	__u64 bitmap;		/* user address of (num_pages + 63) / 64 __u64s */
	__u64 reserved[2];
};

/*
 * The in-kernel interrupt controllers (KHV_CREATE_IRQCHIP): a local APIC
 * per vCPU, an IOAPIC (24 pins at 0xfec00000), the 8259A pair with its
 * ELCR and the 8254 PIT, wired as a PC: ISA IRQ n drives PIC input n and
 * IOAPIC pin n, except IRQ 0 (the PIT) which drives IOAPIC pin 2, as the
 * MADT's interrupt source override says.
 *
 * KHV_IRQ_LINE: irq 0-15 is an ISA IRQ (not 2, the cascade), 16-23 an
 * IOAPIC pin alone; level 1 asserts, 0 deasserts (an edge is 1 then 0).
 */
struct khv_irq_level {
	__u32 irq;
	__u32 level;
	__u64 reserved;
};

/*
 * KHV_SIGNAL_MSI: the write a PCI device makes, address 0xfeeXXXXX and its
 * data; returns how many local APICs took it (0: none did).
 */
struct khv_msi {
	__u64 address;
	__u32 data;
	__u32 flags;		/* 0 */
	__u64 reserved[2];
};

/*
 * KHV_IRQFD: an eventfd whose every signal raises an interrupt without a
 * system call to khv: an edge on ISA IRQ / IOAPIC pin irq (as KHV_IRQ_LINE
 * 1 then 0), or with KHV_IRQFD_MSI the MSI msi_address/msi_data.  With
 * KHV_IRQFD_RESAMPLE (a line only) the line stays asserted until the guest
 * ends the interrupt (the EOI that clears the IOAPIC pin's remote IRR);
 * then khv lowers it and signals resamplefd, so that the device can assert
 * it again if it still needs service.  KHV_IRQFD_DEASSIGN removes the
 * irqfd of fd (and irq).  At most KHV_MAX_IRQFDS per VM.
 */
#define KHV_IRQFD_DEASSIGN	(1u << 0)
#define KHV_IRQFD_RESAMPLE	(1u << 1)
#define KHV_IRQFD_MSI		(1u << 2)
#define KHV_IRQFD_FLAGS_ALL	(KHV_IRQFD_DEASSIGN | KHV_IRQFD_RESAMPLE | KHV_IRQFD_MSI)
#define KHV_MAX_IRQFDS		256

struct khv_irqfd {
	__s32 fd;
	__u32 irq;
	__u32 flags;
	__s32 resamplefd;
	__u64 msi_address;
	__u32 msi_data;
	__u32 pad;
	__u64 reserved[2];
};

/*
 * KHV_IOEVENTFD: a guest write of len bytes (1, 2, 4 or 8; 0: any size)
 * to addr, in port space with KHV_IOEVENTFD_PIO or else guest physical
 * memory outside RAM, and (with KHV_IOEVENTFD_DATAMATCH) of the value
 * datamatch, signals the eventfd fd and completes in the kernel.
 * KHV_IOEVENTFD_DEASSIGN removes the one with the same fd, addr, len,
 * flags and datamatch.  At most KHV_MAX_IOEVENTFDS per VM.
 */
#define KHV_IOEVENTFD_DATAMATCH	(1u << 0)
#define KHV_IOEVENTFD_PIO	(1u << 1)
#define KHV_IOEVENTFD_DEASSIGN	(1u << 2)
#define KHV_IOEVENTFD_FLAGS_ALL	(KHV_IOEVENTFD_DATAMATCH | KHV_IOEVENTFD_PIO | \
				 KHV_IOEVENTFD_DEASSIGN)
#define KHV_MAX_IOEVENTFDS	1000

struct khv_ioeventfd {
	__u64 datamatch;
	__u64 addr;
	__u32 len;
	__s32 fd;
	__u32 flags;
	__u32 pad;
	__u64 reserved[2];
};

/*
 * KHV_GET_IRQCHIP / KHV_SET_IRQCHIP: the VM's PIC pair, IOAPIC and PIT,
 * for a VMM that saves and restores a VM.  Times are relative to the
 * call: a set resumes every count where the get left it.  A set checks
 * every field (EINVAL for a value the device cannot hold) and changes
 * nothing when it refuses.  Restore the local APICs (KHV_SET_LAPIC)
 * first: an asserted level-triggered IOAPIC pin is delivered again by the
 * set.  Reserved fields and pads are zero.
 */
#define KHV_PIC_ICW4_NEEDED	(1u << 0)	/* ICW1 asked for ICW4 */
#define KHV_PIC_SINGLE		(1u << 1)	/* ICW1: no cascade */
#define KHV_PIC_AUTO_EOI	(1u << 2)
#define KHV_PIC_ROTATE_AEOI	(1u << 3)	/* rotate on automatic EOI */
#define KHV_PIC_SFNM		(1u << 4)	/* special fully nested mode */
#define KHV_PIC_SPECIAL_MASK	(1u << 5)
#define KHV_PIC_READ_ISR	(1u << 6)	/* OCW3: reads return ISR, not IRR */
#define KHV_PIC_POLL		(1u << 7)	/* OCW3: the next read polls */
#define KHV_PIC_FLAGS_ALL	0xffu

struct khv_pic_chip_state {
	__u8 irr, isr, imr;
	__u8 lines;		/* input levels (edge detection) */
	__u8 elcr;		/* level-triggered inputs */
	__u8 vector_base;	/* ICW2, a multiple of 8 */
	__u8 lowest;		/* the input with the lowest priority, 0-7 */
	__u8 init_step;		/* 0: initialised; 2, 3, 4: the ICW expected next */
	__u32 flags;		/* KHV_PIC_* */
	__u32 pad;
};

struct khv_ioapic_state {
	__u64 base;		/* read-only: a set must give the same */
	__u32 id;		/* the ID register, bits 27:24 */
	__u32 regsel;		/* IOREGSEL, 0-255 */
	__u32 lines;		/* pin n asserted: bit n */
	__u32 pad;
	__u64 redir[24];	/* redirection entries, bits 17-55 zero */
};

#define KHV_PIT_CH_BCD		(1u << 0)
#define KHV_PIT_CH_ARMED	(1u << 1)	/* counting */
#define KHV_PIT_CH_GATE		(1u << 2)	/* channels 0 and 1: always set */
#define KHV_PIT_CH_WRITE_MSB	(1u << 3)	/* the next count byte is the MSB */
#define KHV_PIT_CH_READ_MSB	(1u << 4)	/* the next read byte is the MSB */
#define KHV_PIT_CH_LATCHED	(1u << 5)	/* latch holds a latched count */
#define KHV_PIT_CH_STATUS_LATCHED (1u << 6)	/* status holds a latched status */
#define KHV_PIT_CH_FLAGS_ALL	0x7fu

struct khv_pit_channel_state {
	__u32 count;		/* reload value, 1-65536 */
	__u8 mode;		/* 0-5 */
	__u8 rw;		/* 1: LSB, 2: MSB, 3: LSB then MSB */
	__u8 write_lsb;		/* first byte of a two-byte count */
	__u8 status;		/* status byte */
	__u16 latch;		/* latched count */
	__u16 flags;		/* KHV_PIT_CH_* */
	__u32 pad;
	__u64 elapsed_ns;	/* ARMED: time counted since the count was loaded */
};

#define KHV_PIT_SPEAKER		(1u << 0)	/* port 0x61 bit 1 */

struct khv_pit_state {
	struct khv_pit_channel_state ch[3];
	__u32 flags;		/* KHV_PIT_SPEAKER */
	__u32 pad;
	__u64 irq0_in_ns;	/* time until channel 0's next IRQ0; 0: none due */
};

struct khv_irqchip_state {
	struct khv_pic_chip_state pic[2];	/* master, slave */
	struct khv_ioapic_state ioapic;
	struct khv_pit_state pit;
	__u64 reserved[8];
};

/*
 * KHV_GET_CLOCK / KHV_SET_CLOCK: the guest's kvmclock, in ns, VM-wide
 * (Documentation/khv/time.rst).  A get gives clock (what kvmclock reads
 * now) and realtime (the host's CLOCK_REALTIME at the same moment, with
 * KHV_CLOCK_REALTIME).  A set makes kvmclock read clock from now on;
 * with KHV_CLOCK_REALTIME it adds the CLOCK_REALTIME time elapsed since
 * realtime (a migration's downtime: the guest's clock does not fall
 * behind; a realtime in the future adds nothing).  Independent of the
 * vCPUs' TSC offsets (IA32_TSC may be restored before or after).  ENODEV:
 * the host's TSC frequency is unknown.  EINVAL: unknown flags, pad or
 * reserved not zero.
 */
#define KHV_CLOCK_REALTIME	(1u << 0)

struct khv_clock_data {
	__u64 clock;
	__u32 flags;		/* KHV_CLOCK_REALTIME */
	__u32 pad;
	__u64 realtime;
	__u64 reserved[5];
};

/* ---- vCPU fd ioctls ------------------------------------------------------ */
#define KHV_RUN			_IO(KHVIO, 0x80)
#define KHV_GET_REGS		_IOR(KHVIO, 0x81, struct khv_regs)
#define KHV_SET_REGS		_IOW(KHVIO, 0x82, struct khv_regs)
#define KHV_GET_SREGS		_IOR(KHVIO, 0x83, struct khv_sregs)
#define KHV_SET_SREGS		_IOW(KHVIO, 0x84, struct khv_sregs)
#define KHV_INJECT_EVENT	_IOW(KHVIO, 0x86, struct khv_event)
#define KHV_GET_MSRS		_IOWR(KHVIO, 0x88, struct khv_msrs)
#define KHV_SET_MSRS		_IOW(KHVIO, 0x89, struct khv_msrs)
#define KHV_SET_CPUID		_IOW(KHVIO, 0x8a, struct khv_cpuid)
#define KHV_GET_CPUID		_IOWR(KHVIO, 0x8b, struct khv_cpuid)
#define KHV_GET_EXIT_STATS	_IOWR(KHVIO, 0x90, struct khv_exit_stats)
#define KHV_GET_MP_STATE	_IOR(KHVIO, 0x98, struct khv_mp_state)
#define KHV_SET_MP_STATE	_IOW(KHVIO, 0x99, struct khv_mp_state)
#define KHV_GET_VCPU_EVENTS	_IOR(KHVIO, 0x9a, struct khv_vcpu_events)
#define KHV_SET_VCPU_EVENTS	_IOW(KHVIO, 0x9b, struct khv_vcpu_events)
#define KHV_GET_LAPIC		_IOR(KHVIO, 0x9c, struct khv_lapic_state)
#define KHV_SET_LAPIC		_IOW(KHVIO, 0x9d, struct khv_lapic_state)
#define KHV_GET_XSAVE		_IOR(KHVIO, 0xa4, struct khv_xsave)
#define KHV_SET_XSAVE		_IOW(KHVIO, 0xa5, struct khv_xsave)
#define KHV_SET_STUDY		_IOW(KHVIO, 0xa6, struct khv_study)
#define KHV_GET_STUDY		_IOR(KHVIO, 0xa7, struct khv_study)
#define KHV_GET_DEBUGREGS	_IOR(KHVIO, 0xa1, struct khv_debugregs)
#define KHV_SET_DEBUGREGS	_IOW(KHVIO, 0xa2, struct khv_debugregs)
#define KHV_GET_XCRS		_IOR(KHVIO, 0xa8, struct khv_xcrs)
#define KHV_SET_XCRS		_IOW(KHVIO, 0xa9, struct khv_xcrs)

/* General purpose registers, RIP and RFLAGS: 18 x 8 = 144 bytes. */
struct khv_regs {
	__u64 rax, rbx, rcx, rdx;
	__u64 rsi, rdi, rsp, rbp;
	__u64 r8, r9, r10, r11;
	__u64 r12, r13, r14, r15;
	__u64 rip, rflags;
};

/* One segment register, hidden part included: 24 bytes. */
struct khv_segment {
	__u64 base;
	__u32 limit;		/* in bytes, already scaled by g */
	__u16 selector;
	__u8  type;		/* descriptor type field, 4 bits */
	__u8  present, dpl, db, s, l, g, avl;
	__u8  unusable;		/* "null" segment for VMX; 0 on output for SVM */
	__u8  pad;
};

struct khv_dtable {
	__u64 base;
	__u16 limit;
	__u16 pad[3];
};

/* System registers: 312 bytes. */
struct khv_sregs {
	struct khv_segment cs, ds, es, fs, gs, ss;
	struct khv_segment tr, ldt;
	struct khv_dtable gdt, idt;
	__u64 cr0, cr2, cr3, cr4, cr8;
	__u64 efer;
	__u64 apic_base;
	__u64 reserved[4];
};

/* FPU/SSE/AVX state in the XSAVE standard format: 4096 bytes. */
struct khv_xsave {
	__u32 region[1024];
};

struct khv_msr_entry {
	__u32 index;
	__u32 reserved;
	__u64 data;
};

/*
 * KHV_GET_MSRS / KHV_SET_MSRS return the number of entries processed; a
 * return smaller than nmsrs means entries[ret] names an MSR khv does not
 * support (or, for SET, a value it refuses).
 */
struct khv_msrs {
	__u32 nmsrs;
	__u32 pad;
	struct khv_msr_entry entries[];
};

/*
 * KHV_GET_MSR_INDEX_LIST (system fd): the MSRs a VMM saves with
 * KHV_GET_MSRS and restores with KHV_SET_MSRS.  First those every vCPU
 * has, then those its CPUID may not offer (machine check, kvmclock): for
 * those a short count names the first one the vCPU lacks; skip it and go
 * on.  The APIC's MSRs are in KHV_GET_LAPIC (TSC deadline too), FS/GS
 * bases in KHV_GET_SREGS.  nmsrs: capacity on input, number written on
 * output; E2BIG (nmsrs set to the number needed) when too small.
 */
struct khv_msr_list {
	__u32 nmsrs;
	__u32 pad;
	__u32 indices[];
};

/*
 * KHV_GET_DEBUGREGS / KHV_SET_DEBUGREGS: DR0-DR3, DR6, DR7 as the guest
 * reads them.  A set refuses (EINVAL, nothing changed) a non-canonical
 * DR0-DR3 and a DR6/DR7 with a bit the register cannot hold (fixed bits
 * as the CPU reads them: DR6 0xffff0ff0 set, DR7 bit 10 set).
 */
struct khv_debugregs {
	__u64 db[4];
	__u64 dr6;
	__u64 dr7;
	__u64 flags;		/* 0 */
	__u64 reserved[9];
};

/*
 * KHV_GET_XCRS / KHV_SET_XCRS: the extended control registers (XSETBV's).
 * Only XCR0 exists.  A get gives nr_xcrs 1; a set takes nr_xcrs (at most
 * KHV_MAX_XCRS) entries and refuses (EINVAL) another xcr, or a value the
 * guest's XSETBV could not set (beyond its CPUID leaf 0xD or the host's
 * XCR0, x87 off, AVX without SSE, AVX-512 partly or without AVX).
 */
#define KHV_MAX_XCRS	16

struct khv_xcr {
	__u32 xcr;
	__u32 reserved;
	__u64 value;
};

struct khv_xcrs {
	__u32 nr_xcrs;
	__u32 flags;		/* 0 */
	struct khv_xcr xcrs[KHV_MAX_XCRS];
	__u64 reserved[16];
};

/* flags of struct khv_cpuid_entry */
#define KHV_CPUID_FLAG_SIGNIFICANT_INDEX (1u << 0)	/* index (ECX) selects */

struct khv_cpuid_entry {
	__u32 function;		/* EAX on input to CPUID */
	__u32 index;		/* ECX on input, if SIGNIFICANT_INDEX */
	__u32 flags;
	__u32 eax, ebx, ecx, edx;
	__u32 reserved;
};

/*
 * kvmclock (KHV_CAP_PVCLOCK, Documentation/khv/uapi.rst): on for a vCPU
 * whose CPUID has leaf 0x40000000 with the KVM signature (EAX >=
 * 0x40000001) and leaf 0x40000001 EAX with KHV_KVM_FEATURE_CLOCKSOURCE2.
 * Only the two feature bits below are implemented.
 */
#define KHV_CPUID_KVM_SIGNATURE		0x40000000	/* EBX ECX EDX "KVMKVMKVM\0\0\0" */
#define KHV_CPUID_KVM_FEATURES		0x40000001	/* EAX: feature bits */
#define KHV_KVM_SIG_EBX			0x4b4d564b	/* "KVMK" */
#define KHV_KVM_SIG_ECX			0x564b4d56	/* "VMKV" */
#define KHV_KVM_SIG_EDX			0x0000004d	/* "M\0\0\0" */
#define KHV_KVM_FEATURE_CLOCKSOURCE2	(1u << 3)
#define KHV_KVM_FEATURE_CLOCKSOURCE_STABLE_BIT	(1u << 24)
#define KHV_MSR_KVM_WALL_CLOCK_NEW	0x4b564d00
#define KHV_MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01

/*
 * KHV_GET_SUPPORTED_CPUID / KHV_GET_CPUID: nent is the capacity of entries on
 * input and the number written on output; E2BIG (with nent set to the number
 * needed) when it is too small.
 */
struct khv_cpuid {
	__u32 nent;
	__u32 pad;
	struct khv_cpuid_entry entries[];
};

/*
 * A vCPU's multiprocessor state (KHV_GET/SET_MP_STATE).  Without the
 * in-kernel irqchip a vCPU is always RUNNABLE.  With it, vCPU 0 starts
 * RUNNABLE and the others UNINITIALIZED: they sleep in KHV_RUN until an
 * INIT (then INIT_RECEIVED, still asleep) and a SIPI start them in real
 * mode at vector << 12, as firmware and Linux start application
 * processors.  HALTED: after HLT, until an interrupt or NMI wakes it.
 */
#define KHV_MP_STATE_RUNNABLE		0
#define KHV_MP_STATE_UNINITIALIZED	1
#define KHV_MP_STATE_INIT_RECEIVED	2
#define KHV_MP_STATE_HALTED		3

struct khv_mp_state {
	__u32 mp_state;
	__u32 pad;
};

/*
 * KHV_GET_LAPIC / KHV_SET_LAPIC (in-kernel irqchip): one local APIC.
 * regs is its register page by offset / 4 (regs[0x80 / 4] is the TPR):
 * the ID as the page shows it (bits 31:24 in xAPIC mode, 32 bits in
 * x2APIC mode), TMCCT the timer's count at the get; a set resumes the
 * timer from that count.  A set takes apic_base as a host write of
 * IA32_APIC_BASE (any consistent mode change), then every register, and
 * refuses (EINVAL, nothing changed) a bit the register cannot hold:
 * bits 0-15 of IRR/ISR/TMR, an unmasked LVT entry while the APIC is
 * software-disabled, reserved bits of any register.  VERSION, PPR, EOI,
 * RRD, SELF_IPI and, in x2APIC mode, LDR are computed and ignored.
 * tsc_deadline is IA32_TSC_DEADLINE in TSC-deadline mode (guest TSC).
 */
struct khv_lapic_state {
	__u64 apic_base;
	__u64 tsc_deadline;
	__u32 regs[256];
	__u32 esr_pending;	/* errors not yet moved into ESR */
	__u32 flags;		/* 0 */
	__u64 reserved[4];
};

/*
 * KHV_GET_VCPU_EVENTS / KHV_SET_VCPU_EVENTS: what the vCPU has pending
 * around its instruction stream, for save and restore.
 *  injected:  an event whose delivery a VM exit cut short; the next
 *             entry delivers it before anything else.  type KHV_EVENT_*.
 *  exception: queued (KHV_INJECT_EVENT, or raised by khv), not yet
 *             delivered; payload is CR2 for #PF, DR6 bits for #DB.
 *  nmi:       pending, and masked (an NMI handler runs: blocked until
 *             its IRET).
 *  interrupt: an external interrupt already taken from the interrupt
 *             controller (or KHV_INJECT_EVENT'ed), waiting for RFLAGS.IF.
 *  shadow:    the STI / MOV SS interrupt shadow covers the instruction at
 *             RIP (set the events after the registers: moving RIP ends it).
 * A set checks each event as KHV_INJECT_EVENT does, except that an
 * injected exception may lack its error code (real mode pushes none) and
 * interrupts may have any vector (a PIC can be programmed below 32); it
 * refuses a shadow together with an injected event, and an injected
 * interrupt with RFLAGS.IF clear; it replaces all of it (EINVAL: nothing
 * changed).
 */
struct khv_vcpu_events {
	struct {
		__u8 pending;
		__u8 vector;
		__u8 has_error_code;
		__u8 has_payload;
		__u32 error_code;
		__u64 payload;
	} exception;
	struct {
		__u8 valid;
		__u8 type;
		__u8 vector;
		__u8 has_error_code;
		__u32 error_code;
	} injected;
	struct {
		__u8 pending;
		__u8 masked;
		__u8 pad[6];
	} nmi;
	struct {
		__u8 pending;
		__u8 vector;
		__u8 pad[6];
	} interrupt;
	__u8 shadow;
	__u8 pad[7];
	__u64 reserved[6];
};

/* Event injection (KHV_INJECT_EVENT). */
#define KHV_EVENT_EXCEPTION	0	/* vector 0..31, not 2; error code where the SDM has one */
#define KHV_EVENT_EXTINT	1	/* external interrupt, vector 16..255 */
#define KHV_EVENT_NMI		2	/* vector must be 2 */

struct khv_event {
	__u8  type;
	__u8  vector;
	__u8  has_error_code;
	__u8  pad;
	__u32 error_code;
	__u64 reserved[2];
};

/* Exit statistics (KHV_GET_EXIT_STATS). */
#define KHV_STAT_HW		0	/* a hardware exit code (VMEXIT / exit reason) */
#define KHV_STAT_USER		1	/* an exit to userspace, by KHV_EXIT_* reason */
#define KHV_STAT_KERNEL		2	/* work khv did around an entry, by KHV_KSTAT_* */

/* KHV_STAT_KERNEL codes */
#define KHV_KSTAT_L1D_FLUSH	0	/* L1D flushed before VM entry (L1TF, VT-x) */
#define KHV_KSTAT_HALT_SLEEP	1	/* HLT slept in the kernel (in-kernel irqchip) */
#define KHV_KSTAT_IRQ_INJECTED	2	/* interrupts the in-kernel irqchip delivered */
#define KHV_KSTAT_HALT_POLL_HIT	3	/* a halt poll saw the wake-up (no sleep) */
#define KHV_KSTAT_HALT_POLL_MISS 4	/* a halt poll ran out; the vCPU slept */
#define KHV_KSTAT_TLB_FLUSH	5	/* second-level translations flushed at an entry */
#define KHV_KSTAT_NPF_MAPPED	6	/* a second-level fault mapped guest memory */
#define KHV_KSTAT_NPF_MMIO	7	/* a second-level fault was an MMIO access */
#define KHV_KSTAT_IRQ_PIC	8	/* of irq_injected: vectors from the PIC */
#define KHV_KSTAT_INJ_INTR	9	/* external interrupts delivered at an entry */
#define KHV_KSTAT_INJ_NMI	10	/* NMIs delivered at an entry */
#define KHV_KSTAT_INJ_EXCEPTION	11	/* exceptions delivered at an entry */
#define KHV_KSTAT_INJ_SOFT	12	/* software interrupts/exceptions re-delivered */
#define KHV_KSTAT_INJ_AGAIN	13	/* deliveries cut short by an exit, redone */
#define KHV_KSTAT_INJ_USER	14	/* events queued by KHV_INJECT_EVENT */
#define KHV_KSTAT_NPF_DIRTY	15	/* a write to a page of a logging slot, logged */
#define KHV_KSTAT_PML_LOGGED	16	/* pages the CPU logged as dirtied (VT-x PML) */
#define KHV_KSTAT_MAX		17

struct khv_exit_stat {
	__u32 kind;		/* KHV_STAT_* */
	__u32 code;		/* hardware code, KHV_EXIT_* or KHV_KSTAT_* */
	__u64 count;
	char  name[32];		/* NUL terminated, e.g. "svm_cpuid", "io" */
};

/*
 * nent: capacity on input, number written on output (only non-zero counters);
 * E2BIG with nent set to the number needed when too small.
 */
struct khv_exit_stats {
	__u32 nent;
	__u32 pad;
	struct khv_exit_stat entries[];
};

/*
 * ---- binary statistics (KHV_CAP_STATS_FD) --------------------------------
 *
 * KHV_GET_STATS_FD (VM or vCPU fd) and KHV_OPEN_STATS (system fd, any VM
 * of the caller's effective uid; every VM with CAP_SYS_ADMIN) return a
 * read-only file descriptor.  pread() at offset 0 gives the header; the
 * descriptors follow at desc_offset, desc_size bytes apart; the values are
 * __u64s at data_offset + desc.offset, read live at each pread() of the
 * data (one read gives one consistent-enough snapshot: each value is read
 * once, values are not taken together under a lock).  The layout of one
 * file never changes; a reader finds counters by name, so that later
 * versions of khv add descriptors (and grow header_size and desc_size)
 * without breaking it.  The file keeps the statistics of a VM (or vCPU)
 * that has gone: the VM's "alive" reads 0 then.  Documentation/khv/observe.rst
 * lists the names.
 */
#define KHV_STATS_MAGIC		0x5356484bu	/* "KHVS" in a little-endian file */
#define KHV_STATS_VERSION	1
#define KHV_STATS_NAME_SIZE	48

/* header.flags */
#define KHV_STATS_F_VCPU	(1u << 0)	/* a vCPU's file; vcpu_id says which */

struct khv_stats_header {
	__u32 magic;		/* KHV_STATS_MAGIC */
	__u32 version;		/* KHV_STATS_VERSION; a reader refuses another */
	__u32 header_size;	/* at least sizeof(struct khv_stats_header) */
	__u32 desc_size;	/* at least sizeof(struct khv_stats_desc) */
	__u32 num_desc;
	__u32 flags;		/* KHV_STATS_F_* */
	__u64 desc_offset;
	__u64 data_offset;
	__u64 data_size;	/* bytes */
	__u32 vm_id;		/* as KHV_GET_VMS lists it */
	__u32 vcpu_id;
	__u64 reserved[4];
};

/* desc.flags: type in bits 0-3, unit in 4-7, shape in 8-11 */
#define KHV_STATS_TYPE_MASK		0xfu
#define KHV_STATS_TYPE_CUMULATIVE	0u	/* only grows */
#define KHV_STATS_TYPE_INSTANT		1u	/* a level that comes and goes */
#define KHV_STATS_UNIT_MASK		0xf0u
#define KHV_STATS_UNIT_NONE		0x00u	/* a count of events */
#define KHV_STATS_UNIT_CYCLES		0x10u	/* host TSC cycles (see "tsc_khz") */
#define KHV_STATS_UNIT_NS		0x20u
#define KHV_STATS_UNIT_PAGES		0x30u	/* 4 KiB pages */
#define KHV_STATS_UNIT_KHZ		0x40u
#define KHV_STATS_UNIT_BOOLEAN		0x50u
#define KHV_STATS_SHAPE_MASK		0xf00u
#define KHV_STATS_SHAPE_SCALAR		0x000u	/* count is 1 */
/*
 * count buckets of a log2 histogram of the unit: bucket 0 counts the
 * value 0, bucket i (i >= 1) the values v with 2^(i-1) <= v < 2^i, and
 * the last bucket every value from 2^(count-2) up.
 */
#define KHV_STATS_SHAPE_LOG2_HIST	0x100u

struct khv_stats_desc {
	__u32 flags;		/* KHV_STATS_TYPE_* | KHV_STATS_UNIT_* | KHV_STATS_SHAPE_* */
	__u32 count;		/* number of __u64 values */
	__u64 offset;		/* of the first value, from header.data_offset */
	__u32 code;		/* "exit/" names: the hardware exit code; else 0 */
	__u32 pad;
	char  name[KHV_STATS_NAME_SIZE];	/* NUL terminated, '/'-separated */
};

/* KHV_GET_VMS: the VMs on this host, as khv-top lists them. */
struct khv_vm_info {
	__u32 vm_id;		/* never reused while the module is loaded */
	__s32 pid;		/* creator's process id, in the caller's namespace; 0 unseen */
	__u32 nr_vcpus;
	__u32 flags;		/* 0 */
	__u64 created_ns;	/* CLOCK_BOOTTIME */
	char  comm[16];		/* creator's command name */
	__u64 reserved[2];
};

/*
 * nent: capacity on input, number written on output; E2BIG with nent set
 * to the number needed when too small (as KHV_GET_EXIT_STATS).
 */
struct khv_vm_list {
	__u32 nent;
	__u32 pad;
	struct khv_vm_info entries[];
};

/* KHV_OPEN_STATS */
#define KHV_STATS_OPEN_VCPU	(1u << 0)	/* vcpu_id's file, not the VM's */

struct khv_stats_open {
	__u32 vm_id;
	__u32 vcpu_id;
	__u32 flags;		/* KHV_STATS_OPEN_* */
	__u32 pad;
	__u64 reserved[2];
};

/*
 * ---- study mode (KHV_CAP_STUDY) ------------------------------------------
 *
 * KHV_SET_STUDY asks khv to deliver, on top of what it handles itself, the
 * chosen events of this vCPU to userspace as KHV_EXIT_STUDY exits, before
 * khv's own handling of them.  The exit has the decoded event in
 * run->study (the registers through KHV_GET_REGS/SREGS); the next KHV_RUN
 * carries on with khv's handling, with the answer run->study holds (which
 * userspace may change: a CPUID result, an MSR value, the TSC read), or
 * skips the instruction (KHV_STUDY_F_SKIP: RIP moves past it, nothing else
 * happens) or leaves it undone (KHV_STUDY_F_DROP: RIP stays on it; with
 * KHV_INJECT_EVENT, the guest takes an exception there instead).
 * Documentation/khv/observe.rst, "Study mode".
 */
#define KHV_STUDY_CPUID		(1ull << 0)	/* CPUID of the leaves in cpuid[] */
#define KHV_STUDY_RDMSR		(1ull << 1)	/* RDMSR of the MSRs in msrs[] */
#define KHV_STUDY_WRMSR		(1ull << 2)	/* WRMSR of the MSRs in msrs[] */
#define KHV_STUDY_RDTSC		(1ull << 3)	/* RDTSC, RDTSCP */
#define KHV_STUDY_HLT		(1ull << 4)	/* HLT */
#define KHV_STUDY_CR_WRITE	(1ull << 5)	/* MOV to the CRs in cr_write, CLTS, LMSW */
#define KHV_STUDY_CR8_READ	(1ull << 6)	/* MOV from CR8 (64-bit code) */
#define KHV_STUDY_INVLPG	(1ull << 7)	/* INVLPG */
#define KHV_STUDY_PAUSE		(1ull << 8)	/* PAUSE */
#define KHV_STUDY_IO		(1ull << 9)	/* IN, OUT, INS, OUTS of the ports in ports[] */
#define KHV_STUDY_EXCEPTION	(1ull << 10)	/* the exception vectors in exceptions */
#define KHV_STUDY_DESC		(1ull << 11)	/* SGDT SIDT SLDT STR LGDT LIDT LLDT LTR */
#define KHV_STUDY_ALL		((1ull << 12) - 1)

/* run->study.event: the bit number of the KHV_STUDY_* event */
#define KHV_STUDY_EV_CPUID	0
#define KHV_STUDY_EV_RDMSR	1
#define KHV_STUDY_EV_WRMSR	2
#define KHV_STUDY_EV_RDTSC	3
#define KHV_STUDY_EV_HLT	4
#define KHV_STUDY_EV_CR_WRITE	5
#define KHV_STUDY_EV_CR8_READ	6
#define KHV_STUDY_EV_INVLPG	7
#define KHV_STUDY_EV_PAUSE	8
#define KHV_STUDY_EV_IO		9
#define KHV_STUDY_EV_EXCEPTION	10
#define KHV_STUDY_EV_DESC	11

/* run->study.desc.insn: the descriptor-table instruction */
#define KHV_DESC_SGDT		0
#define KHV_DESC_SIDT		1
#define KHV_DESC_LGDT		2
#define KHV_DESC_LIDT		3
#define KHV_DESC_SLDT		4
#define KHV_DESC_STR		5
#define KHV_DESC_LLDT		6
#define KHV_DESC_LTR		7

/* cr_write: which control registers KHV_STUDY_CR_WRITE watches (0: all four) */
#define KHV_STUDY_CR0		(1u << 0)
#define KHV_STUDY_CR3		(1u << 3)
#define KHV_STUDY_CR4		(1u << 4)
#define KHV_STUDY_CR8		(1u << 8)

/*
 * exceptions: bit n for vector n, of the exceptions a guest can raise:
 * #DE #DB #BP #OF #BR #UD #NM #TS #NP #SS #GP #PF #MF #AC #XM (not NMI, not
 * #DF, not #MC, which are the host's).  0: all of these.
 */
#define KHV_STUDY_EXCEPTIONS	0x000b7cfbu

/* run->study.flags, set by userspace before the next KHV_RUN */
#define KHV_STUDY_F_SKIP	(1u << 0)
#define KHV_STUDY_F_DROP	(1u << 1)

#define KHV_STUDY_MAX_LIST	16

struct khv_study {
	__u64 events;		/* KHV_STUDY_* */
	__u32 nr_cpuid;		/* leaves (EAX) in cpuid[]; 0: every leaf */
	__u32 nr_msrs;		/* indexes (ECX) in msrs[]; 0: every MSR */
	__u32 cpuid[KHV_STUDY_MAX_LIST];
	__u32 msrs[KHV_STUDY_MAX_LIST];
	__u32 cr_write;		/* KHV_STUDY_CR0/3/4/8; 0: all four */
	__u32 nr_ports;		/* ports in ports[]; 0: every port */
	__u16 ports[KHV_STUDY_MAX_LIST];
	__u32 exceptions;	/* vectors, within KHV_STUDY_EXCEPTIONS; 0: all of them */
	__u32 reserved32;
	__u64 reserved[2];
};

/* ---- the shared run page (mmap of the vCPU fd, offset 0) ----------------- */

/* exit_reason values */
#define KHV_EXIT_UNKNOWN	0
#define KHV_EXIT_IO		1
#define KHV_EXIT_MMIO		2
#define KHV_EXIT_HLT		3
#define KHV_EXIT_SHUTDOWN	4	/* triple fault */
#define KHV_EXIT_FAIL_ENTRY	5
#define KHV_EXIT_INTERNAL_ERROR	6
#define KHV_EXIT_INTR		7	/* KHV_RUN returned -EINTR */
#define KHV_EXIT_HYPERCALL	8
#define KHV_EXIT_IRQ_WINDOW_OPEN 9
#define KHV_EXIT_STUDY		10	/* an event KHV_SET_STUDY asked for */
#define KHV_EXIT_MAX		11

#define KHV_EXIT_IO_IN		0
#define KHV_EXIT_IO_OUT		1

/* internal.suberror */
#define KHV_INTERNAL_ERROR_EMULATION	1	/* data: gpa, insn length, insn bytes */
#define KHV_INTERNAL_ERROR_UNHANDLED_EXIT 2	/* data: hw code, info1, info2 */
#define KHV_INTERNAL_ERROR_DELIVERY_EV	3	/* exit while delivering an event */
#define KHV_INTERNAL_ERROR_MMU		4	/* bad second-level state, e.g. EPT misconfig */
#define KHV_INTERNAL_ERROR_HOST_STATE	5	/* exit with the host's state: code, info1, info2, alias */

/* Port I/O data lives at run page + io.data_offset. */
#define KHV_IO_DATA_OFFSET	4096
#define KHV_RUN_MMAP_SIZE	8192

struct khv_run {
	/* in */
	__u8  request_interrupt_window;
	__u8  immediate_exit;
	__u8  pad0[6];

	/* out */
	__u32 exit_reason;		/* KHV_EXIT_* */
	__u32 hw_exit_reason;		/* the hardware exit that caused it */
	__u8  ready_for_interrupt_injection;
	__u8  if_flag;
	__u8  pad1[6];
	__u64 reserved[4];

	union {
		/* KHV_EXIT_FAIL_ENTRY */
		struct {
			__u64 hardware_entry_failure_reason;
			__u32 cpu;
			__u32 pad;
		} fail_entry;
		/* KHV_EXIT_IO */
		struct {
			__u8  direction;	/* KHV_EXIT_IO_IN / _OUT */
			__u8  size;		/* 1, 2 or 4 */
			__u16 port;
			__u32 count;		/* elements at data_offset */
			__u64 data_offset;
		} io;
		/* KHV_EXIT_MMIO */
		struct {
			__u64 phys_addr;
			__u8  data[8];
			__u32 len;		/* 1, 2, 4 or 8 */
			__u8  is_write;
			__u8  pad[3];
		} mmio;
		/* KHV_EXIT_HYPERCALL: nr = RAX, args = RBX RCX RDX RSI RDI R8 */
		struct {
			__u64 nr;
			__u64 args[6];
			__u64 ret;		/* written back to RAX */
		} hypercall;
		/* KHV_EXIT_INTERNAL_ERROR */
		struct {
			__u32 suberror;
			__u32 ndata;
			__u64 data[16];
		} internal;
		/* KHV_EXIT_STUDY */
		struct {
			__u32 event;		/* KHV_STUDY_EV_* */
			__u32 flags;		/* in: KHV_STUDY_F_*, 0 on exit */
			__u64 rip;		/* of the instruction */
			union {
				/* leaf and subleaf; khv's answer, which the next KHV_RUN uses */
				struct {
					__u32 leaf, subleaf;
					__u32 eax, ebx, ecx, edx;
				} cpuid;
				/*
				 * RDMSR: khv's answer (gp 1: a #GP), used as it is then;
				 * WRMSR: what the guest writes (value), done unless skipped.
				 */
				struct {
					__u32 index;
					__u32 gp;
					__u64 value;
				} msr;
				/*
				 * RDTSC, RDTSCP: the guest's TSC now, the answer EDX:EAX
				 * gets; for RDTSCP, its TSC_AUX, the answer ECX gets.
				 */
				struct {
					__u64 tsc;
					__u32 aux;
					__u8 rdtscp;
					__u8 pad[3];
				} rdtsc;
				/*
				 * CR_WRITE: the CR (0, 3, 4, 8), the value the guest writes
				 * (for CLTS and LMSW, the CR0 they make) and the one it
				 * replaces; done with the guest's value unless skipped.
				 * CR8_READ: value is khv's answer (old the same), used as
				 * it is then.
				 */
				struct {
					__u32 cr;
					__u32 gpr;	/* CR8_READ: destination, 0 RAX .. 15 R15 as encoded */
					__u64 value;
					__u64 old;
				} cr;
				/* INVLPG: the linear address whose translations it drops */
				struct {
					__u64 addr;
				} invlpg;
				/*
				 * IO: before khv's own handling (a device in the kernel,
				 * an ioeventfd, or a KHV_EXIT_IO).  value: what an OUT
				 * writes (not for INS/OUTS: their data is in guest memory).
				 */
				struct {
					__u16 port;
					__u8 size;	/* 1, 2, 4 */
					__u8 in;
					__u8 string;	/* INS, OUTS */
					__u8 rep;
					__u16 pad;
					__u32 value;
				} io;
				/*
				 * EXCEPTION: raised by the guest, before it is delivered
				 * (RIP: the faulting instruction; for #BP and #OF, the
				 * INT3 or INTO, for INT1's #DB the INT1; for another
				 * #DB trap, the next instruction).
				 * payload: CR2 for #PF, the DR6 bits for #DB.  khv then
				 * delivers it as the CPU would have (during the delivery
				 * of another event: as a #DF, or a triple fault, where the
				 * CPU would); SKIP moves past the instruction at RIP and
				 * delivers nothing; DROP delivers nothing.
				 */
				struct {
					__u32 vector;
					__u32 error_code;
					__u8 has_error_code;
					__u8 has_payload;
					__u8 during_delivery;	/* of another event */
					__u8 int1;	/* #DB raised by INT1 (ICEBP) at RIP */
					__u8 pad[4];
					__u64 payload;
				} exception;
				/*
				 * DESC: a descriptor-table instruction, before khv
				 * emulates it.  The stores (SGDT, SIDT, SLDT, STR): what
				 * they store, which the next KHV_RUN stores (userspace may
				 * change it); the loads (LGDT, LIDT, LLDT, LTR): what they
				 * load (for LLDT and LTR, the selector and its
				 * descriptor's base and limit), done with the guest's
				 * values.  Faults the instruction takes come first, as
				 * exceptions, without this event.
				 */
				struct {
					__u8 insn;	/* KHV_DESC_* */
					__u8 mem;	/* operand in memory at addr; else register gpr */
					__u8 gpr;	/* 0 RAX .. 15 R15 */
					__u8 size;	/* bytes it reads or writes */
					__u32 pad;
					__u64 addr;	/* linear address of the memory operand */
					__u64 base;	/* GDTR, IDTR; LDTR, TR: descriptor's base */
					__u32 limit;
					__u16 selector;	/* SLDT, STR, LLDT, LTR */
					__u16 pad2;
				} desc;
			};
		} study;
		char padding[256];
	};
};

#endif /* _UAPI_LINUX_KHV_H */
