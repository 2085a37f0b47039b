/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code of the svm test: what the AMD backend emulates or refuses by
 * itself.  One payload, several entry points (svm_dr, svm_gd, ...); the
 * test puts RIP at one, with the values to use in R8..R14, and each part
 * ends at svm_done (after a HLT).
 *
 * An instruction expected to fault is written "faulting <label>, <insn>":
 * R15 holds the address to resume at, the #UD/#GP handler (ev_ud, ev_gp)
 * reports vector, error code and faulting RIP on PORT_ECHO and resumes
 * there; an instruction that does not fault reports 0xffffffff instead of a
 * vector.  Values are reported as 32-bit OUTs to PORT_ECHO, 64-bit ones as
 * two (low half first).
 */
#include "faulting.h"

#define NMI_COUNT	GUEST_DATA	/* NMIs the guest's handler has taken */
#define NMI_TF_AT	(GUEST_DATA + 4)	/* the NMI whose handler sets TF for its IRET */
#define RFLAGS_TF	0x100
#define MSR_EFER	0xc0000080
#define EFER_SVME	0x1000
#define CR4_DE		0x8

	/* RAX, as two OUTs; clobbers RAX. */
	.macro echo64
	out %eax, $PORT_ECHO
	shr $32, %rax
	out %eax, $PORT_ECHO
	.endm

	.macro mark n
	mov $\n, %eax
	out %eax, $PORT_MARK
	.endm

PAYLOAD_BEGIN(svm_long)
	.code64

/*
 * DR emulation.  In: R8-R11 for DR0-DR3, R12 for DR7, R13 a DR7 value with
 * bits 63:32 set, R14 a non-canonical address.
 */
MARK(svm_dr)
	mov %dr6, %rax			/* reset values */
	echo
	mov %dr7, %rax
	echo
	mov %r8, %dr0
	mov %r9, %dr1
	mov %r10, %dr2
	mov %r11, %dr3
	mov %dr0, %rax
	echo64
	mov %dr1, %rax
	echo64
	mov %dr2, %rax
	echo64
	mov %dr3, %rax
	echo64
	xor %eax, %eax			/* DR6: only B0-B3, BD, BS, BT are writable */
	mov %rax, %dr6
	mov %dr6, %rax
	echo
	mov $0xffffffff, %eax
	mov %rax, %dr6
	mov %dr6, %rax
	echo
	mov %r12, %dr7
	mov %dr7, %rax
	echo64
	mov %dr4, %rax			/* CR4.DE = 0: DR4/DR5 are DR6/DR7 */
	echo
	mov %dr5, %rax
	echo
	mov $0x400, %eax
	mov %rax, %dr5
	mov %dr7, %rax
	echo
	mov $0xffff0ff0, %eax
	mov %rax, %dr4
	mov %dr6, %rax
	echo
	faulting dr7_high_insn, mov %r13, %dr7
	faulting dr0_noncanon_insn, mov %r14, %dr0
	mov %dr7, %rax			/* the refused writes changed nothing */
	echo64
	mov %dr0, %rax
	echo64
	mov %cr4, %rax			/* CR4.DE = 1: DR4/DR5 are #UD */
	or $CR4_DE, %rax
	mov %rax, %cr4
	faulting dr4_de_insn, mov %dr4, %rax
	faulting dr5_de_insn, mov %rax, %dr5
	mov %cr4, %rax
	and $~CR4_DE, %rax
	mov %rax, %cr4
	jmp svm_halt

/*
 * DR7.GD: the next MOV DR raises #DB (a fault, DR6.BD set, GD cleared);
 * ev_db reports and returns, and the MOV then runs.  In: R8 for DR0.
 */
MARK(svm_gd)
	mov %r8, %dr0
	mov $0x2400, %eax
	mov %rax, %dr7
MARK(gd_insn)
	mov %dr0, %rax
	echo64
	mov %dr7, %rax
	echo
	jmp svm_halt

MARK(svm_rdpmc)
	xor %ecx, %ecx
	faulting rdpmc_insn, rdpmc
	jmp svm_halt

/* WRMSR EFER with SVME set: #GP(0); EFER stays as it was. */
MARK(svm_efer)
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_SVME, %eax
	faulting efer_insn, wrmsr
	mov $MSR_EFER, %ecx
	rdmsr
	echo
	jmp svm_halt

/* No nested virtualization: the SVM instructions are #UD. */
MARK(svm_insns)
	mov $GUEST_DATA, %eax		/* a page-aligned RAM address for rAX */
	xor %ecx, %ecx
	faulting vmrun_insn, vmrun %rax
	faulting vmload_insn, vmload %rax
	faulting vmsave_insn, vmsave %rax
	faulting stgi_insn, stgi
	faulting clgi_insn, clgi
	faulting skinit_insn, skinit %eax
	faulting invlpga_insn, invlpga %rax, %ecx
	jmp svm_halt

/*
 * NMI masking: the test injects an NMI at the mark; while its handler runs
 * the test injects a second one, which must wait for the handler's IRET.
 * The guest then spins until the second NMI has come, and reports how long,
 * then DR6 and RFLAGS (nothing of khv's single step over the IRET shows).
 */
MARK(svm_nmi)
	movl $0, NMI_COUNT
	movl $0, NMI_TF_AT
	mark 1
MARK(nmi_resume)
	xor %ecx, %ecx
MARK(nmi_spin)
	inc %rcx
	cmpl $2, NMI_COUNT
	jne nmi_spin
MARK(nmi_spin_end)
	echo %ecx
	mov %dr6, %rax
	echo
	pushfq
	pop %rax
	echo
	jmp svm_halt

/*
 * The same, but the first handler sets TF for its own IRET: the single-step
 * #DB after that IRET is the guest's, and the second NMI, due at the same
 * boundary, comes before the #DB handler's first instruction.  The guest
 * then reports DR6 once more (ev_db has reset it).
 */
MARK(svm_nmi_tf)
	movl $0, NMI_COUNT
	movl $1, NMI_TF_AT
	mark 2
MARK(nmi_tf_resume)
	mov %dr6, %rax
	echo
	jmp svm_halt

svm_halt:
	hlt
MARK(svm_done)
	jmp svm_halt

/*
 * NMI: count, then report the count, the interrupted RIP, count + 0x100.
 * The NMI_TF_AT-th one sets TF by POPF: the trap comes after the next
 * instruction, the IRET.
 */
MARK(ev_nmi)
	push %rax
	incl NMI_COUNT
	mov NMI_COUNT, %eax
	echo
	mov 8(%rsp), %rax
	echo
	mov NMI_COUNT, %eax
	add $0x100, %eax
	echo
	mov NMI_COUNT, %eax
	cmp NMI_TF_AT, %eax
	pop %rax
	jne 1f
	pushfq
	orl $RFLAGS_TF, (%rsp)
	popfq
1:	iretq

/* #DB: report 1, DR6, DR7 and RIP; reset DR6; return to the instruction. */
MARK(ev_db)
	push %rax
	mov $1, %eax
	echo
	mov %dr6, %rax
	echo
	mov %dr7, %rax
	echo
	mov 8(%rsp), %rax
	echo
	mov $0xffff0ff0, %eax
	mov %rax, %dr6
	pop %rax
	iretq

	FAULT_REPORTERS ev_ud, ev_gp
PAYLOAD_END(svm_long)
