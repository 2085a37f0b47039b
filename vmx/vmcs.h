/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMX architecture as khv uses it: VMCS field encodings, control bits,
 * exit reasons and the formats of the exit information fields.  Values are
 * from the Intel SDM vol. 3C (appendix B "Field encoding in VMCS",
 * appendix A "VMX capability reporting facility", chapters 25-28, and
 * appendix C "VMX basic exit reasons").  Private to vmx/.
 *
 * A field encoding is: bit 0 access type (1 = high 32 bits of a 64-bit
 * field), bits 9:1 index, bits 11:10 type (0 control, 1 exit information,
 * 2 guest state, 3 host state), bits 14:13 width (0 16-bit, 1 64-bit,
 * 2 32-bit, 3 natural width).
 */
#ifndef KHV_VMX_VMCS_H
#define KHV_VMX_VMCS_H

#include <linux/bits.h>

/* ---- 16-bit fields --------------------------------------------------------- */
#define VMCS_VPID			0x0000
#define VMCS_GUEST_ES_SEL		0x0800	/* guest selectors: ES CS SS DS FS GS LDTR TR */
#define VMCS_GUEST_CS_SEL		0x0802
#define VMCS_GUEST_SS_SEL		0x0804
#define VMCS_GUEST_DS_SEL		0x0806
#define VMCS_GUEST_FS_SEL		0x0808
#define VMCS_GUEST_GS_SEL		0x080a
#define VMCS_GUEST_LDTR_SEL		0x080c
#define VMCS_GUEST_TR_SEL		0x080e
#define VMCS_GUEST_PML_INDEX		0x0812	/* next free entry of the PML buffer */
#define VMCS_HOST_ES_SEL		0x0c00
#define VMCS_HOST_CS_SEL		0x0c02
#define VMCS_HOST_SS_SEL		0x0c04
#define VMCS_HOST_DS_SEL		0x0c06
#define VMCS_HOST_FS_SEL		0x0c08
#define VMCS_HOST_GS_SEL		0x0c0a
#define VMCS_HOST_TR_SEL		0x0c0c

/* ---- 64-bit fields (full; +1 is the high half) ----------------------------- */
#define VMCS_IO_BITMAP_A		0x2000	/* ports 0x0000-0x7fff */
#define VMCS_IO_BITMAP_B		0x2002	/* ports 0x8000-0xffff */
#define VMCS_MSR_BITMAP			0x2004
#define VMCS_EXIT_MSR_STORE_ADDR	0x2006
#define VMCS_EXIT_MSR_LOAD_ADDR		0x2008
#define VMCS_ENTRY_MSR_LOAD_ADDR	0x200a
#define VMCS_PML_ADDRESS		0x200e	/* the page-modification log: 512 GPAs */
#define VMCS_TSC_OFFSET			0x2010
#define VMCS_EPT_POINTER		0x201a
#define VMCS_GUEST_PHYS_ADDR		0x2400	/* exit information: EPT faults */
#define VMCS_LINK_POINTER		0x2800	/* all ones: no shadow VMCS */
#define VMCS_GUEST_DEBUGCTL		0x2802
#define VMCS_GUEST_PAT			0x2804
#define VMCS_GUEST_EFER			0x2806
#define VMCS_GUEST_PDPTE0		0x280a	/* PDPTE1..3 follow, 2 apart */
#define VMCS_HOST_PAT			0x2c00
#define VMCS_HOST_EFER			0x2c02

/* ---- 32-bit fields ---------------------------------------------------------- */
#define VMCS_PIN_CTLS			0x4000
#define VMCS_PROC_CTLS			0x4002
#define VMCS_EXCEPTION_BITMAP		0x4004
#define VMCS_PF_ERROR_MASK		0x4006
#define VMCS_PF_ERROR_MATCH		0x4008
#define VMCS_CR3_TARGET_COUNT		0x400a
#define VMCS_EXIT_CTLS			0x400c
#define VMCS_EXIT_MSR_STORE_COUNT	0x400e
#define VMCS_EXIT_MSR_LOAD_COUNT	0x4010
#define VMCS_ENTRY_CTLS			0x4012
#define VMCS_ENTRY_MSR_LOAD_COUNT	0x4014
#define VMCS_ENTRY_INTR_INFO		0x4016	/* event injection: interruption info */
#define VMCS_ENTRY_EXCEPTION_ERROR	0x4018
#define VMCS_ENTRY_INSN_LEN		0x401a
#define VMCS_TPR_THRESHOLD		0x401c
#define VMCS_PROC_CTLS2			0x401e
#define VMCS_PLE_GAP			0x4020
#define VMCS_PLE_WINDOW			0x4022
#define VMCS_VM_INSN_ERROR		0x4400	/* exit information (read-only) */
#define VMCS_EXIT_REASON		0x4402
#define VMCS_EXIT_INTR_INFO		0x4404
#define VMCS_EXIT_INTR_ERROR		0x4406
#define VMCS_IDT_VECTORING_INFO		0x4408
#define VMCS_IDT_VECTORING_ERROR	0x440a
#define VMCS_EXIT_INSN_LEN		0x440c
#define VMCS_EXIT_INSN_INFO		0x440e
#define VMCS_GUEST_ES_LIMIT		0x4800	/* limits: ES CS SS DS FS GS LDTR TR GDTR IDTR */
#define VMCS_GUEST_GDTR_LIMIT		0x4810
#define VMCS_GUEST_IDTR_LIMIT		0x4812
#define VMCS_GUEST_ES_AR		0x4814	/* access rights: ES CS SS DS FS GS LDTR TR */
#define VMCS_GUEST_SS_AR		0x4818
#define VMCS_GUEST_INTERRUPTIBILITY	0x4824
#define VMCS_GUEST_ACTIVITY		0x4826
#define VMCS_GUEST_SYSENTER_CS		0x482a
#define VMCS_PREEMPTION_TIMER		0x482e
#define VMCS_HOST_SYSENTER_CS		0x4c00

/* ---- natural-width fields -------------------------------------------------- */
#define VMCS_CR0_MASK			0x6000	/* guest/host mask: 1 = host owns the bit */
#define VMCS_CR4_MASK			0x6002
#define VMCS_CR0_SHADOW			0x6004	/* read shadows: what the guest reads */
#define VMCS_CR4_SHADOW			0x6006
#define VMCS_EXIT_QUALIFICATION		0x6400
#define VMCS_GUEST_LINEAR_ADDR		0x640a
#define VMCS_GUEST_CR0			0x6800
#define VMCS_GUEST_CR3			0x6802
#define VMCS_GUEST_CR4			0x6804
#define VMCS_GUEST_ES_BASE		0x6806	/* bases: ES CS SS DS FS GS LDTR TR GDTR IDTR */
#define VMCS_GUEST_FS_BASE		0x680e
#define VMCS_GUEST_GS_BASE		0x6810
#define VMCS_GUEST_GDTR_BASE		0x6816
#define VMCS_GUEST_IDTR_BASE		0x6818
#define VMCS_GUEST_DR7			0x681a
#define VMCS_GUEST_RSP			0x681c
#define VMCS_GUEST_RIP			0x681e
#define VMCS_GUEST_RFLAGS		0x6820
#define VMCS_GUEST_PENDING_DBG		0x6822
#define VMCS_GUEST_SYSENTER_ESP		0x6824
#define VMCS_GUEST_SYSENTER_EIP		0x6826
#define VMCS_HOST_CR0			0x6c00
#define VMCS_HOST_CR3			0x6c02
#define VMCS_HOST_CR4			0x6c04
#define VMCS_HOST_FS_BASE		0x6c06
#define VMCS_HOST_GS_BASE		0x6c08
#define VMCS_HOST_TR_BASE		0x6c0a
#define VMCS_HOST_GDTR_BASE		0x6c0c
#define VMCS_HOST_IDTR_BASE		0x6c0e
#define VMCS_HOST_SYSENTER_ESP		0x6c10
#define VMCS_HOST_SYSENTER_EIP		0x6c12
#define VMCS_HOST_RSP			0x6c14
#define VMCS_HOST_RIP			0x6c16

/*
 * Per-segment guest fields: each kind is a run of encodings 2 apart in the
 * order ES CS SS DS FS GS LDTR TR.  enum khv_seg has TR before LDTR, so
 * index with vmx_seg_index() (vmx.h), not with the enum directly.
 */
#define VMCS_GUEST_SEL(seg)		(0x0800 + 2 * (seg))
#define VMCS_GUEST_LIMIT(seg)		(0x4800 + 2 * (seg))
#define VMCS_GUEST_AR(seg)		(0x4814 + 2 * (seg))
#define VMCS_GUEST_BASE(seg)		(0x6806 + 2 * (seg))

/* ---- IA32_VMX_BASIC (MSR 0x480) -------------------------------------------- */
#define VMX_BASIC_REVISION(b)		((u32)(b) & 0x7fffffff)
#define VMX_BASIC_SIZE(b)		(((b) >> 32) & 0x1fff)	/* VMCS/VMXON bytes */
#define VMX_BASIC_32BIT_ADDR		BIT_ULL(48)	/* 1: addresses limited to 32 bits */
#define VMX_BASIC_MEMTYPE(b)		(((b) >> 50) & 0xf)	/* of the VMCS: 6 = WB */
#define VMX_BASIC_IO_INFO		BIT_ULL(54)	/* INS/OUTS give instruction info */
#define VMX_BASIC_TRUE		BIT_ULL(55)	/* the TRUE_*_CTLS MSRs exist */

/* ---- IA32_VMX_MISC (MSR 0x485) ------------------------------------------- */
#define VMX_MISC_TIMER_RATE(m)		((m) & 0x1f)	/* timer ticks every 2^rate TSC */

/* ---- IA32_VMX_EPT_VPID_CAP (MSR 0x48c) ----------------------------------- */
#define VMX_EPT_CAP_WALK4		BIT_ULL(6)	/* 4-level EPT */
#define VMX_EPT_CAP_WALK5		BIT_ULL(7)	/* 5-level EPT */
#define VMX_EPT_CAP_WB			BIT_ULL(14)	/* EPT tables may be write-back */
#define VMX_EPT_CAP_2M			BIT_ULL(16)
#define VMX_EPT_CAP_1G			BIT_ULL(17)
#define VMX_EPT_CAP_INVEPT		BIT_ULL(20)
#define VMX_EPT_CAP_AD			BIT_ULL(21)	/* accessed/dirty flags */
#define VMX_EPT_CAP_INVEPT_SINGLE	BIT_ULL(25)
#define VMX_EPT_CAP_INVEPT_ALL		BIT_ULL(26)
#define VMX_VPID_CAP_INVVPID		BIT_ULL(32)
#define VMX_VPID_CAP_SINGLE		BIT_ULL(41)
#define VMX_VPID_CAP_ALL		BIT_ULL(42)

/* EPT pointer (VMCS_EPT_POINTER): memory type, walk length - 1, A/D enable. */
#define VMX_EPTP_WB			6ULL
#define VMX_EPTP_WALK(levels)		((u64)((levels) - 1) << 3)
#define VMX_EPTP_AD			BIT_ULL(6)

/* INVEPT / INVVPID types. */
#define VMX_INVEPT_SINGLE		1
#define VMX_INVEPT_ALL			2
#define VMX_INVVPID_SINGLE		1
#define VMX_INVVPID_ALL			2

/* ---- pin-based VM-execution controls ------------------------------------- */
#define PIN_EXTINT_EXITING		BIT(0)
#define PIN_NMI_EXITING			BIT(3)
#define PIN_VIRTUAL_NMIS		BIT(5)
#define PIN_PREEMPTION_TIMER		BIT(6)

/* ---- primary processor-based controls -------------------------------------- */
#define PROC_INTR_WINDOW		BIT(2)
#define PROC_TSC_OFFSETTING		BIT(3)
#define PROC_HLT_EXITING		BIT(7)
#define PROC_INVLPG_EXITING		BIT(9)
#define PROC_MWAIT_EXITING		BIT(10)
#define PROC_RDPMC_EXITING		BIT(11)
#define PROC_RDTSC_EXITING		BIT(12)
#define PROC_CR3_LOAD_EXITING		BIT(15)
#define PROC_CR3_STORE_EXITING		BIT(16)
#define PROC_TERTIARY_CTLS		BIT(17)
#define PROC_CR8_LOAD_EXITING		BIT(19)
#define PROC_CR8_STORE_EXITING		BIT(20)
#define PROC_TPR_SHADOW			BIT(21)
#define PROC_NMI_WINDOW			BIT(22)
#define PROC_MOV_DR_EXITING		BIT(23)
#define PROC_UNCOND_IO_EXITING		BIT(24)
#define PROC_IO_BITMAPS			BIT(25)
#define PROC_MONITOR_TRAP		BIT(27)
#define PROC_MSR_BITMAPS		BIT(28)
#define PROC_MONITOR_EXITING		BIT(29)
#define PROC_PAUSE_EXITING		BIT(30)
#define PROC_SECONDARY_CTLS		BIT(31)

/* ---- secondary processor-based controls ------------------------------------ */
#define PROC2_APIC_ACCESSES		BIT(0)
#define PROC2_EPT			BIT(1)
#define PROC2_DESC_EXITING		BIT(2)
#define PROC2_RDTSCP			BIT(3)
#define PROC2_X2APIC			BIT(4)
#define PROC2_VPID			BIT(5)
#define PROC2_WBINVD_EXITING		BIT(6)
#define PROC2_UNRESTRICTED		BIT(7)
#define PROC2_PAUSE_LOOP		BIT(10)
#define PROC2_RDRAND_EXITING		BIT(11)
#define PROC2_INVPCID			BIT(12)
#define PROC2_VMFUNC			BIT(13)
#define PROC2_ENCLS_EXITING		BIT(15)
#define PROC2_RDSEED_EXITING		BIT(16)
#define PROC2_PML			BIT(17)
#define PROC2_XSAVES			BIT(20)
#define PROC2_USER_WAIT_PAUSE		BIT(26)

/* ---- VM-exit controls ---------------------------------------------------- */
#define EXIT_SAVE_DEBUG			BIT(2)
#define EXIT_HOST_64			BIT(9)	/* host address-space size */
#define EXIT_LOAD_PERF_GLOBAL		BIT(12)
#define EXIT_ACK_INTR			BIT(15)
#define EXIT_SAVE_PAT			BIT(18)
#define EXIT_LOAD_PAT			BIT(19)
#define EXIT_SAVE_EFER			BIT(20)
#define EXIT_LOAD_EFER			BIT(21)
#define EXIT_SAVE_TIMER			BIT(22)

/* ---- VM-entry controls --------------------------------------------------- */
#define ENTRY_LOAD_DEBUG		BIT(2)
#define ENTRY_IA32E			BIT(9)	/* IA-32e mode guest: EFER.LMA on entry */
#define ENTRY_SMM			BIT(10)
#define ENTRY_LOAD_PERF_GLOBAL		BIT(13)
#define ENTRY_LOAD_PAT			BIT(14)
#define ENTRY_LOAD_EFER			BIT(15)

/* ---- exit reason (VMCS_EXIT_REASON) -------------------------------------- */
#define VMX_EXIT_BASIC(r)		((r) & 0xffff)
#define VMX_EXIT_ENTRY_FAILURE		BIT(31)

/* Basic exit reasons (SDM appendix C). */
#define EXIT_EXCEPTION_NMI		0
#define EXIT_EXTINT			1
#define EXIT_TRIPLE_FAULT		2
#define EXIT_INIT			3
#define EXIT_SIPI			4
#define EXIT_IO_SMI			5
#define EXIT_OTHER_SMI			6
#define EXIT_INTR_WINDOW		7
#define EXIT_NMI_WINDOW			8
#define EXIT_TASK_SWITCH		9
#define EXIT_CPUID			10
#define EXIT_GETSEC			11
#define EXIT_HLT			12
#define EXIT_INVD			13
#define EXIT_INVLPG			14
#define EXIT_RDPMC			15
#define EXIT_RDTSC			16
#define EXIT_RSM			17
#define EXIT_VMCALL			18
#define EXIT_VMCLEAR			19
#define EXIT_VMLAUNCH			20
#define EXIT_VMPTRLD			21
#define EXIT_VMPTRST			22
#define EXIT_VMREAD			23
#define EXIT_VMRESUME			24
#define EXIT_VMWRITE			25
#define EXIT_VMXOFF			26
#define EXIT_VMXON			27
#define EXIT_CR_ACCESS			28
#define EXIT_DR_ACCESS			29
#define EXIT_IO				30
#define EXIT_RDMSR			31
#define EXIT_WRMSR			32
#define EXIT_BAD_GUEST_STATE		33	/* entry failures: with VMX_EXIT_ENTRY_FAILURE */
#define EXIT_MSR_LOADING		34
#define EXIT_MWAIT			36
#define EXIT_MONITOR_TRAP		37
#define EXIT_MONITOR			39
#define EXIT_PAUSE			40
#define EXIT_MCE_DURING_ENTRY		41
#define EXIT_TPR_BELOW_THRESHOLD	43
#define EXIT_APIC_ACCESS		44
#define EXIT_VIRTUALIZED_EOI		45
#define EXIT_GDTR_IDTR			46
#define EXIT_LDTR_TR			47
#define EXIT_EPT_VIOLATION		48
#define EXIT_EPT_MISCONFIG		49
#define EXIT_INVEPT			50
#define EXIT_RDTSCP			51
#define EXIT_PREEMPTION_TIMER		52
#define EXIT_INVVPID			53
#define EXIT_WBINVD			54
#define EXIT_XSETBV			55
#define EXIT_APIC_WRITE			56
#define EXIT_RDRAND			57
#define EXIT_INVPCID			58
#define EXIT_VMFUNC			59
#define EXIT_ENCLS			60
#define EXIT_RDSEED			61
#define EXIT_PML_FULL			62
#define EXIT_XSAVES			63
#define EXIT_XRSTORS			64
#define EXIT_PCONFIG			65
#define EXIT_SPP			66
#define EXIT_UMWAIT			67
#define EXIT_TPAUSE			68
#define EXIT_LOADIWKEY			69
#define EXIT_ENCLV			70
#define EXIT_ENQCMD_PASID		72
#define EXIT_ENQCMDS_PASID		73
#define EXIT_BUS_LOCK			74
#define EXIT_NOTIFY			75
#define EXIT_SEAMCALL			76
#define EXIT_TDCALL			77
#define EXIT_MAX			78

/*
 * Not a hardware exit reason: VMLAUNCH/VMRESUME itself failed (VMfail), the
 * VM-instruction error field says why.  Counted under this code.
 */
#define EXIT_VMFAIL			0xffffffffu

/* ---- interruption information (entry injection, exit, IDT vectoring) ----- */
#define INTR_INFO_VECTOR		0xffu
#define INTR_INFO_TYPE_SHIFT		8
#define INTR_INFO_TYPE			(7u << INTR_INFO_TYPE_SHIFT)
#define INTR_INFO_HAS_ERROR		BIT(11)
#define INTR_INFO_NMI_UNBLOCK		BIT(12)	/* exit info: IRET unblocked NMIs */
#define INTR_INFO_VALID			BIT(31)

#define INTR_TYPE_EXTINT		(0u << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_NMI			(2u << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_HW_EXC		(3u << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_SOFT_INT		(4u << INTR_INFO_TYPE_SHIFT)	/* INT n */
#define INTR_TYPE_PRIV_SOFT_EXC		(5u << INTR_INFO_TYPE_SHIFT)	/* INT1 */
#define INTR_TYPE_SOFT_EXC		(6u << INTR_INFO_TYPE_SHIFT)	/* INT3, INTO */

/* ---- guest interruptibility state --------------------------------------- */
#define INTR_STATE_STI			BIT(0)
#define INTR_STATE_MOV_SS		BIT(1)
#define INTR_STATE_SMI			BIT(2)
#define INTR_STATE_NMI			BIT(3)
#define INTR_STATE_SHADOW		(INTR_STATE_STI | INTR_STATE_MOV_SS)

/* Guest activity states. */
#define ACTIVITY_ACTIVE			0

/* Pending debug exceptions: BS, the single-step trap. */
#define PENDING_DBG_BS			BIT(14)

/* ---- segment access rights (VMCS_GUEST_*_AR) ----------------------------- */
#define SEGAR_TYPE				0xfu
#define SEGAR_S				BIT(4)
#define SEGAR_DPL_SHIFT			5
#define SEGAR_DPL				(3u << SEGAR_DPL_SHIFT)
#define SEGAR_P				BIT(7)
#define SEGAR_AVL				BIT(12)
#define SEGAR_L				BIT(13)
#define SEGAR_DB				BIT(14)
#define SEGAR_G				BIT(15)
#define SEGAR_UNUSABLE			BIT(16)

/* ---- exit qualifications ------------------------------------------------- */
/* MOV CR, CLTS, LMSW */
#define QUAL_CR_NUM(q)			((q) & 0xf)
#define QUAL_CR_TYPE(q)			(((q) >> 4) & 3)
#define QUAL_CR_TYPE_TO_CR		0
#define QUAL_CR_TYPE_FROM_CR		1
#define QUAL_CR_TYPE_CLTS		2
#define QUAL_CR_TYPE_LMSW		3
#define QUAL_CR_GPR(q)			(((q) >> 8) & 0xf)
#define QUAL_CR_LMSW_DATA(q)		(((q) >> 16) & 0xffff)

/* MOV DR */
#define QUAL_DR_NUM(q)			((q) & 7)
#define QUAL_DR_FROM_DR			BIT(4)	/* 0: MOV to DR */
#define QUAL_DR_GPR(q)			(((q) >> 8) & 0xf)

/* I/O instructions */
#define QUAL_IO_SIZE(q)			(((q) & 7) + 1)	/* 1, 2 or 4 */
#define QUAL_IO_IN			BIT(3)
#define QUAL_IO_STRING			BIT(4)
#define QUAL_IO_REP			BIT(5)
#define QUAL_IO_PORT(q)			(((q) >> 16) & 0xffff)

/* VM-exit instruction information of INS/OUTS */
#define INSN_INFO_ADDR_SIZE(i)		(((i) >> 7) & 7)	/* 0: 16, 1: 32, 2: 64 bit */
#define INSN_INFO_SEG(i)		(((i) >> 15) & 7)	/* ES CS SS DS FS GS */

/* EPT violations */
#define QUAL_EPT_READ			BIT(0)
#define QUAL_EPT_WRITE			BIT(1)
#define QUAL_EPT_FETCH			BIT(2)
#define QUAL_EPT_GLA_VALID		BIT(7)
#define QUAL_EPT_GLA_TRANSLATED		BIT(8)	/* 0 with GLA_VALID: a guest table access */
#define QUAL_EPT_NMI_UNBLOCK		BIT(12)

/* #DB exits: the DR6-format bits the exception would have set */
#define QUAL_DB_BITS			0x600fULL	/* B0-B3, BD, BS */

/* VM-instruction errors that can follow VMLAUNCH/VMRESUME */
#define VMXERR_BAD_CONTROLS		7
#define VMXERR_BAD_HOST_STATE		8

#endif /* KHV_VMX_VMCS_H */
