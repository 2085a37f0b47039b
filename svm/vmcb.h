/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMCB, as the AMD64 APM vol. 2 (appendix B, tables B-1 and B-2) lays it
 * out: one 4 KiB page, the control area at 0x000 and the state save area at
 * 0x400.  Every offset is asserted at the bottom of this file; reserved bytes
 * are never written (the page is zeroed once), as the APM requires.
 *
 * Names are khv's own (VMCB_*, VMEXIT_*, struct svm_vmcb*) so that nothing
 * here can clash with arch/x86/include/asm/svm.h should a kernel header pull
 * it in.
 */
#ifndef KHV_SVM_VMCB_H
#define KHV_SVM_VMCB_H

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <linux/types.h>

/* ---- control area ------------------------------------------------------ */

struct svm_vmcb_control {
	u32 intercept_cr;		/* 0x000: CRn read bit n, CRn write bit 16 + n */
	u32 intercept_dr;		/* 0x004: DRn read bit n, DRn write bit 16 + n */
	u32 intercept_exc;		/* 0x008: exception vector n is bit n */
	u32 intercept_misc1;		/* 0x00c: VMCB_ICPT1_* */
	u32 intercept_misc2;		/* 0x010: VMCB_ICPT2_* */
	u32 intercept_misc3;		/* 0x014: VMCB_ICPT3_* */
	u8 rsvd_018[0x03c - 0x018];
	u16 pause_filter_thresh;	/* 0x03c */
	u16 pause_filter_count;		/* 0x03e */
	u64 iopm_base_pa;		/* 0x040: 12 KiB, 4 KiB aligned */
	u64 msrpm_base_pa;		/* 0x048: 8 KiB, 4 KiB aligned */
	u64 tsc_offset;			/* 0x050 */
	u32 asid;			/* 0x058: guest ASID, never 0 */
	u8 tlb_control;			/* 0x05c: VMCB_TLB_* */
	u8 rsvd_05d[3];
	u32 int_ctl;			/* 0x060: V_TPR, V_IRQ, ... (VMCB_V_*) */
	u32 int_vector;			/* 0x064: V_INTR_VECTOR in bits 7:0 */
	u32 int_state;			/* 0x068: VMCB_INT_SHADOW */
	u32 rsvd_06c;
	u64 exit_code;			/* 0x070: VMEXIT_* (see svm_exit_code()) */
	u64 exit_info_1;		/* 0x078 */
	u64 exit_info_2;		/* 0x080 */
	u64 exit_int_info;		/* 0x088: EVENTINJ format, error code in 63:32 */
	u64 nested_ctl;			/* 0x090: VMCB_NP_ENABLE */
	u64 avic_apic_bar;		/* 0x098 */
	u64 ghcb_pa;			/* 0x0a0 */
	u64 event_inj;			/* 0x0a8: VMCB_EV_*, error code in 63:32 */
	u64 n_cr3;			/* 0x0b0: nested page table root */
	u64 virt_ext;			/* 0x0b8: LBR virtualization, virtual VMLOAD/VMSAVE */
	u32 clean;			/* 0x0c0: VMCB clean bits */
	u32 rsvd_0c4;
	u64 next_rip;			/* 0x0c8: with NRIPS */
	u8 insn_len;			/* 0x0d0: with decode assists */
	u8 insn_bytes[15];		/* 0x0d1 */
	u64 avic_backing_page;		/* 0x0e0 */
	u8 rsvd_0e8[8];
	u64 avic_logical_table;		/* 0x0f0 */
	u64 avic_physical_table;	/* 0x0f8 */
	u8 rsvd_100[8];
	u64 vmsa_pa;			/* 0x108: SEV-ES only */
	u8 rsvd_110[0x400 - 0x110];	/* 0x3e0..0x3ff: for the hypervisor's own use */
} __packed;

/* intercept_misc1 (0x00c) */
#define VMCB_ICPT1_INTR		BIT(0)
#define VMCB_ICPT1_NMI		BIT(1)
#define VMCB_ICPT1_SMI		BIT(2)
#define VMCB_ICPT1_INIT		BIT(3)
#define VMCB_ICPT1_VINTR	BIT(4)
#define VMCB_ICPT1_CR0_SEL	BIT(5)
#define VMCB_ICPT1_IDTR_READ	BIT(6)	/* SIDT; 7-13: GDTR, LDTR, TR reads, then writes */
#define VMCB_ICPT1_DESC_ALL	GENMASK(13, 6)
#define VMCB_ICPT1_RDTSC	BIT(14)
#define VMCB_ICPT1_RDPMC	BIT(15)
#define VMCB_ICPT1_CPUID	BIT(18)
#define VMCB_ICPT1_RSM		BIT(19)
#define VMCB_ICPT1_IRET		BIT(20)
#define VMCB_ICPT1_INTN		BIT(21)
#define VMCB_ICPT1_INVD		BIT(22)
#define VMCB_ICPT1_PAUSE	BIT(23)
#define VMCB_ICPT1_HLT		BIT(24)
#define VMCB_ICPT1_INVLPG	BIT(25)
#define VMCB_ICPT1_INVLPGA	BIT(26)
#define VMCB_ICPT1_IOIO		BIT(27)
#define VMCB_ICPT1_MSR		BIT(28)
#define VMCB_ICPT1_TASK_SWITCH	BIT(29)
#define VMCB_ICPT1_FERR_FREEZE	BIT(30)
#define VMCB_ICPT1_SHUTDOWN	BIT(31)

/* intercept_misc2 (0x010) */
#define VMCB_ICPT2_VMRUN	BIT(0)
#define VMCB_ICPT2_VMMCALL	BIT(1)
#define VMCB_ICPT2_VMLOAD	BIT(2)
#define VMCB_ICPT2_VMSAVE	BIT(3)
#define VMCB_ICPT2_STGI		BIT(4)
#define VMCB_ICPT2_CLGI		BIT(5)
#define VMCB_ICPT2_SKINIT	BIT(6)
#define VMCB_ICPT2_RDTSCP	BIT(7)
#define VMCB_ICPT2_ICEBP	BIT(8)
#define VMCB_ICPT2_WBINVD	BIT(9)
#define VMCB_ICPT2_MONITOR	BIT(10)
#define VMCB_ICPT2_MWAIT	BIT(11)
#define VMCB_ICPT2_MWAIT_COND	BIT(12)
#define VMCB_ICPT2_XSETBV	BIT(13)
#define VMCB_ICPT2_RDPRU	BIT(14)

/* intercept_misc3 (0x014) */
#define VMCB_ICPT3_INVLPGB	BIT(0)
#define VMCB_ICPT3_INVLPGB_ILL	BIT(1)
#define VMCB_ICPT3_INVPCID	BIT(2)
#define VMCB_ICPT3_MCOMMIT	BIT(3)
#define VMCB_ICPT3_TLBSYNC	BIT(4)

/* tlb_control (0x05c) */
#define VMCB_TLB_NONE		0
#define VMCB_TLB_FLUSH_ALL	1	/* every entry, every ASID */
#define VMCB_TLB_FLUSH_ASID	3	/* this guest's ASID (FlushByAsid) */
#define VMCB_TLB_FLUSH_ASID_LOCAL 7	/* this ASID's non-global entries */

/* int_ctl (0x060) */
#define VMCB_V_TPR_MASK		0xfu
#define VMCB_V_IRQ		BIT(8)
#define VMCB_V_GIF		BIT(9)
#define VMCB_V_INTR_PRIO_SHIFT	16
#define VMCB_V_INTR_PRIO_MASK	(0xfu << VMCB_V_INTR_PRIO_SHIFT)
#define VMCB_V_IGN_TPR		BIT(20)
#define VMCB_V_INTR_MASKING	BIT(24)	/* guest IF masks only virtual interrupts */
#define VMCB_V_GIF_ENABLE	BIT(25)

/* int_state (0x068) */
#define VMCB_INT_SHADOW		BIT(0)	/* STI / MOV SS shadow */

/* nested_ctl (0x090) */
#define VMCB_NP_ENABLE		BIT_ULL(0)

/* event_inj (0x0a8) and exit_int_info (0x088) */
#define VMCB_EV_VECTOR_MASK	0xffu
#define VMCB_EV_TYPE_SHIFT	8
#define VMCB_EV_TYPE_MASK	(7u << VMCB_EV_TYPE_SHIFT)
#define VMCB_EV_TYPE_INTR	(0u << VMCB_EV_TYPE_SHIFT)
#define VMCB_EV_TYPE_NMI	(2u << VMCB_EV_TYPE_SHIFT)
#define VMCB_EV_TYPE_EXC	(3u << VMCB_EV_TYPE_SHIFT)
#define VMCB_EV_TYPE_SOFT	(4u << VMCB_EV_TYPE_SHIFT)
#define VMCB_EV_ERR_VALID	BIT(11)
#define VMCB_EV_VALID		BIT(31)
#define VMCB_EV_ERR_SHIFT	32

/* IOIO intercept: EXITINFO1; EXITINFO2 is the RIP after the instruction. */
#define VMCB_IO_IN		BIT(0)
#define VMCB_IO_STR		BIT(2)
#define VMCB_IO_REP		BIT(3)
#define VMCB_IO_SZ8		BIT(4)
#define VMCB_IO_SZ16		BIT(5)
#define VMCB_IO_SZ32		BIT(6)
#define VMCB_IO_A16		BIT(7)
#define VMCB_IO_A32		BIT(8)
#define VMCB_IO_A64		BIT(9)
#define VMCB_IO_SEG_SHIFT	10	/* 3 bits, only filled in with decode assists */
#define VMCB_IO_PORT_SHIFT	16

/* Nested page fault: EXITINFO1 (EXITINFO2 is the guest physical address). */
#define VMCB_NPF_PRESENT	BIT_ULL(0)
#define VMCB_NPF_WRITE		BIT_ULL(1)
#define VMCB_NPF_USER		BIT_ULL(2)
#define VMCB_NPF_RSVD		BIT_ULL(3)
#define VMCB_NPF_FETCH		BIT_ULL(4)
#define VMCB_NPF_FINAL		BIT_ULL(32)	/* translating the final guest physical address */
#define VMCB_NPF_WALK		BIT_ULL(33)	/* reading the guest's own page tables */

/* DR and CR intercepts with decode assists: EXITINFO1[3:0] is the GPR. */
#define VMCB_MOV_GPR_MASK	0xfu
/* CR write intercepts: EXITINFO1[63] set for MOV CR (clear for CLTS, LMSW). */
#define VMCB_CR_MOV_VALID	BIT_ULL(63)

/* intercept_cr (0x000) */
#define VMCB_CR_READ(n)		BIT(n)
#define VMCB_CR_WRITE(n)	BIT(16 + (n))

/* ---- exit codes (APM vol. 2, appendix C) -------------------------------- */

#define VMEXIT_CR0_READ		0x000	/* + n, n = 0..15 */
#define VMEXIT_CR0_WRITE	0x010
#define VMEXIT_DR0_READ		0x020
#define VMEXIT_DR15_READ	0x02f
#define VMEXIT_DR0_WRITE	0x030
#define VMEXIT_DR15_WRITE	0x03f
#define VMEXIT_EXCP_BASE	0x040	/* + vector, 0..31 */
#define VMEXIT_INTR		0x060
#define VMEXIT_NMI		0x061
#define VMEXIT_SMI		0x062
#define VMEXIT_INIT		0x063
#define VMEXIT_VINTR		0x064
#define VMEXIT_CR0_SEL_WRITE	0x065
#define VMEXIT_IDTR_READ	0x066
#define VMEXIT_GDTR_READ	0x067
#define VMEXIT_LDTR_READ	0x068
#define VMEXIT_TR_READ		0x069
#define VMEXIT_IDTR_WRITE	0x06a
#define VMEXIT_GDTR_WRITE	0x06b
#define VMEXIT_LDTR_WRITE	0x06c
#define VMEXIT_TR_WRITE		0x06d
#define VMEXIT_RDTSC		0x06e
#define VMEXIT_RDPMC		0x06f
#define VMEXIT_PUSHF		0x070
#define VMEXIT_POPF		0x071
#define VMEXIT_CPUID		0x072
#define VMEXIT_RSM		0x073
#define VMEXIT_IRET		0x074
#define VMEXIT_SWINT		0x075
#define VMEXIT_INVD		0x076
#define VMEXIT_PAUSE		0x077
#define VMEXIT_HLT		0x078
#define VMEXIT_INVLPG		0x079
#define VMEXIT_INVLPGA		0x07a
#define VMEXIT_IOIO		0x07b
#define VMEXIT_MSR		0x07c
#define VMEXIT_TASK_SWITCH	0x07d
#define VMEXIT_FERR_FREEZE	0x07e
#define VMEXIT_SHUTDOWN		0x07f
#define VMEXIT_VMRUN		0x080
#define VMEXIT_VMMCALL		0x081
#define VMEXIT_VMLOAD		0x082
#define VMEXIT_VMSAVE		0x083
#define VMEXIT_STGI		0x084
#define VMEXIT_CLGI		0x085
#define VMEXIT_SKINIT		0x086
#define VMEXIT_RDTSCP		0x087
#define VMEXIT_ICEBP		0x088
#define VMEXIT_WBINVD		0x089
#define VMEXIT_MONITOR		0x08a
#define VMEXIT_MWAIT		0x08b
#define VMEXIT_MWAIT_COND	0x08c
#define VMEXIT_XSETBV		0x08d
#define VMEXIT_RDPRU		0x08e
#define VMEXIT_EFER_WRITE_TRAP	0x08f
#define VMEXIT_CR0_WRITE_TRAP	0x090	/* + n, n = 0..15 */
#define VMEXIT_CR15_WRITE_TRAP	0x09f
#define VMEXIT_INVLPGB		0x0a0
#define VMEXIT_INVLPGB_ILLEGAL	0x0a1
#define VMEXIT_INVPCID		0x0a2
#define VMEXIT_MCOMMIT		0x0a3
#define VMEXIT_TLBSYNC		0x0a4
#define VMEXIT_NPF		0x400
#define VMEXIT_AVIC_INCOMPLETE_IPI 0x401
#define VMEXIT_AVIC_NOACCEL	0x402
#define VMEXIT_VMGEXIT		0x403
/*
 * VMRUN's consistency checks failed.  EXITCODE is then -1 (all 64 bits);
 * QEMU's SVM model stores it zero-extended from 32 bits, so khv looks at
 * the low 32 bits of EXITCODE only (no exit code needs more).
 */
#define VMEXIT_INVALID		0xffffffffu

/* ---- state save area ---------------------------------------------------- */

/*
 * A segment as the VMCB holds it.  attrib packs descriptor bits 40..47 (type,
 * S, DPL, P) into bits 0..7 and descriptor bits 52..55 (AVL, L, D/B, G) into
 * bits 8..11; limit is the byte-granular limit (G already applied).
 */
struct svm_vmcb_seg {
	u16 selector;
	u16 attrib;
	u32 limit;
	u64 base;
} __packed;

#define VMCB_ATTR_TYPE_MASK	0xfu
#define VMCB_ATTR_S		BIT(4)
#define VMCB_ATTR_DPL_SHIFT	5
#define VMCB_ATTR_P		BIT(7)
#define VMCB_ATTR_AVL		BIT(8)
#define VMCB_ATTR_L		BIT(9)
#define VMCB_ATTR_DB		BIT(10)
#define VMCB_ATTR_G		BIT(11)

struct svm_vmcb_save {
	struct svm_vmcb_seg es;		/* 0x000 */
	struct svm_vmcb_seg cs;		/* 0x010 */
	struct svm_vmcb_seg ss;		/* 0x020 */
	struct svm_vmcb_seg ds;		/* 0x030 */
	struct svm_vmcb_seg fs;		/* 0x040 */
	struct svm_vmcb_seg gs;		/* 0x050 */
	struct svm_vmcb_seg gdtr;	/* 0x060: base and limit only */
	struct svm_vmcb_seg ldtr;	/* 0x070 */
	struct svm_vmcb_seg idtr;	/* 0x080: base and limit only */
	struct svm_vmcb_seg tr;		/* 0x090 */
	u8 rsvd_0a0[0x0cb - 0x0a0];	/* 0x0ca is VMPL, SEV-SNP only */
	u8 cpl;				/* 0x0cb */
	u32 rsvd_0cc;
	u64 efer;			/* 0x0d0 */
	u8 rsvd_0d8[0x148 - 0x0d8];
	u64 cr4;			/* 0x148 */
	u64 cr3;			/* 0x150 */
	u64 cr0;			/* 0x158 */
	u64 dr7;			/* 0x160 */
	u64 dr6;			/* 0x168 */
	u64 rflags;			/* 0x170 */
	u64 rip;			/* 0x178 */
	u8 rsvd_180[0x1d8 - 0x180];
	u64 rsp;			/* 0x1d8 */
	u64 s_cet;			/* 0x1e0 */
	u64 ssp;			/* 0x1e8 */
	u64 isst_addr;			/* 0x1f0 */
	u64 rax;			/* 0x1f8 */
	u64 star;			/* 0x200: STAR..SYSENTER_EIP: VMLOAD/VMSAVE */
	u64 lstar;			/* 0x208 */
	u64 cstar;			/* 0x210 */
	u64 sfmask;			/* 0x218 */
	u64 kernel_gs_base;		/* 0x220 */
	u64 sysenter_cs;		/* 0x228 */
	u64 sysenter_esp;		/* 0x230 */
	u64 sysenter_eip;		/* 0x238 */
	u64 cr2;			/* 0x240 */
	u8 rsvd_248[0x268 - 0x248];
	u64 g_pat;			/* 0x268: guest PAT, used with nested paging */
	u64 dbgctl;			/* 0x270: only with LBR virtualization */
	u64 br_from;			/* 0x278 */
	u64 br_to;			/* 0x280 */
	u64 last_excp_from;		/* 0x288 */
	u64 last_excp_to;		/* 0x290 */
	u8 rsvd_298[0x2e0 - 0x298];
	u32 spec_ctrl;			/* 0x2e0: with V_SPEC_CTRL */
} __packed;

struct svm_vmcb {
	struct svm_vmcb_control control;	/* 0x000 */
	struct svm_vmcb_save save;		/* 0x400 */
	u8 rsvd_6e4[0x1000 - 0x6e4];
} __packed;

/* IOPM: one bit per port, plus room for accesses that run past 0xffff. */
#define SVM_IOPM_SIZE		(12 * 1024)
/*
 * MSRPM: two bits per MSR (even: read, odd: write) for three ranges of 8192
 * MSRs, 2 KiB each, then 2 KiB reserved.
 */
#define SVM_MSRPM_SIZE		(8 * 1024)

/* CPUID 0x8000000A EDX: SVM features. */
#define SVM_CPUID_LEAF		0x8000000a
#define SVM_FEAT_NP		BIT(0)
#define SVM_FEAT_NRIPS		BIT(3)
#define SVM_FEAT_TSC_RATE	BIT(4)
#define SVM_FEAT_VMCB_CLEAN	BIT(5)
#define SVM_FEAT_FLUSH_BY_ASID	BIT(6)
#define SVM_FEAT_DECODE_ASSISTS	BIT(7)
#define SVM_FEAT_PAUSE_FILTER	BIT(10)
#define SVM_FEAT_PF_THRESHOLD	BIT(12)
#define SVM_FEAT_VGIF		BIT(16)

/* VM_CR (MSR 0xc0010114) */
#define SVM_VM_CR_SVMDIS	BIT_ULL(4)

/* The TSC ratio MSR's 1.0 (8.32 fixed point). */
#define SVM_TSC_RATIO_ONE	BIT_ULL(32)

#define VMCB_CTRL_AT(field, off) \
	static_assert(offsetof(struct svm_vmcb_control, field) == (off))
#define VMCB_SAVE_AT(field, off) \
	static_assert(offsetof(struct svm_vmcb_save, field) == (off))

VMCB_CTRL_AT(intercept_cr, 0x000);
VMCB_CTRL_AT(intercept_dr, 0x004);
VMCB_CTRL_AT(intercept_exc, 0x008);
VMCB_CTRL_AT(intercept_misc1, 0x00c);
VMCB_CTRL_AT(intercept_misc2, 0x010);
VMCB_CTRL_AT(intercept_misc3, 0x014);
VMCB_CTRL_AT(pause_filter_thresh, 0x03c);
VMCB_CTRL_AT(pause_filter_count, 0x03e);
VMCB_CTRL_AT(iopm_base_pa, 0x040);
VMCB_CTRL_AT(msrpm_base_pa, 0x048);
VMCB_CTRL_AT(tsc_offset, 0x050);
VMCB_CTRL_AT(asid, 0x058);
VMCB_CTRL_AT(tlb_control, 0x05c);
VMCB_CTRL_AT(int_ctl, 0x060);
VMCB_CTRL_AT(int_vector, 0x064);
VMCB_CTRL_AT(int_state, 0x068);
VMCB_CTRL_AT(exit_code, 0x070);
VMCB_CTRL_AT(exit_info_1, 0x078);
VMCB_CTRL_AT(exit_info_2, 0x080);
VMCB_CTRL_AT(exit_int_info, 0x088);
VMCB_CTRL_AT(nested_ctl, 0x090);
VMCB_CTRL_AT(avic_apic_bar, 0x098);
VMCB_CTRL_AT(ghcb_pa, 0x0a0);
VMCB_CTRL_AT(event_inj, 0x0a8);
VMCB_CTRL_AT(n_cr3, 0x0b0);
VMCB_CTRL_AT(virt_ext, 0x0b8);
VMCB_CTRL_AT(clean, 0x0c0);
VMCB_CTRL_AT(next_rip, 0x0c8);
VMCB_CTRL_AT(insn_len, 0x0d0);
VMCB_CTRL_AT(insn_bytes, 0x0d1);
VMCB_CTRL_AT(avic_backing_page, 0x0e0);
VMCB_CTRL_AT(avic_logical_table, 0x0f0);
VMCB_CTRL_AT(avic_physical_table, 0x0f8);
VMCB_CTRL_AT(vmsa_pa, 0x108);
static_assert(sizeof(struct svm_vmcb_control) == 0x400);

static_assert(sizeof(struct svm_vmcb_seg) == 16);
VMCB_SAVE_AT(es, 0x000);
VMCB_SAVE_AT(cs, 0x010);
VMCB_SAVE_AT(ss, 0x020);
VMCB_SAVE_AT(ds, 0x030);
VMCB_SAVE_AT(fs, 0x040);
VMCB_SAVE_AT(gs, 0x050);
VMCB_SAVE_AT(gdtr, 0x060);
VMCB_SAVE_AT(ldtr, 0x070);
VMCB_SAVE_AT(idtr, 0x080);
VMCB_SAVE_AT(tr, 0x090);
VMCB_SAVE_AT(cpl, 0x0cb);
VMCB_SAVE_AT(efer, 0x0d0);
VMCB_SAVE_AT(cr4, 0x148);
VMCB_SAVE_AT(cr3, 0x150);
VMCB_SAVE_AT(cr0, 0x158);
VMCB_SAVE_AT(dr7, 0x160);
VMCB_SAVE_AT(dr6, 0x168);
VMCB_SAVE_AT(rflags, 0x170);
VMCB_SAVE_AT(rip, 0x178);
VMCB_SAVE_AT(rsp, 0x1d8);
VMCB_SAVE_AT(s_cet, 0x1e0);
VMCB_SAVE_AT(ssp, 0x1e8);
VMCB_SAVE_AT(isst_addr, 0x1f0);
VMCB_SAVE_AT(rax, 0x1f8);
VMCB_SAVE_AT(star, 0x200);
VMCB_SAVE_AT(lstar, 0x208);
VMCB_SAVE_AT(cstar, 0x210);
VMCB_SAVE_AT(sfmask, 0x218);
VMCB_SAVE_AT(kernel_gs_base, 0x220);
VMCB_SAVE_AT(sysenter_cs, 0x228);
VMCB_SAVE_AT(sysenter_esp, 0x230);
VMCB_SAVE_AT(sysenter_eip, 0x238);
VMCB_SAVE_AT(cr2, 0x240);
VMCB_SAVE_AT(g_pat, 0x268);
VMCB_SAVE_AT(dbgctl, 0x270);
VMCB_SAVE_AT(br_from, 0x278);
VMCB_SAVE_AT(br_to, 0x280);
VMCB_SAVE_AT(last_excp_from, 0x288);
VMCB_SAVE_AT(last_excp_to, 0x290);
VMCB_SAVE_AT(spec_ctrl, 0x2e0);
static_assert(sizeof(struct svm_vmcb_save) == 0x2e4);

static_assert(offsetof(struct svm_vmcb, save) == 0x400);
static_assert(sizeof(struct svm_vmcb) == 0x1000);

#undef VMCB_CTRL_AT
#undef VMCB_SAVE_AT

#endif /* KHV_SVM_VMCB_H */
