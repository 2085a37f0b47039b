/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One guest entry with AMD-V, host state switch included.
 *
 * VMRUN and #VMEXIT switch RAX, RSP, RIP, RFLAGS, CR0/3/4, EFER and the
 * CS/SS/DS/ES segments, but not FS, GS, TR, LDTR (hidden parts included),
 * KERNEL_GS_BASE, STAR, LSTAR, CSTAR, SFMASK or the SYSENTER MSRs: VMSAVE
 * and VMLOAD move exactly that set.  So: VMSAVE the host's set into the
 * per-CPU host save area, VMLOAD the guest's from its VMCB, VMRUN, VMSAVE the
 * guest's back into the VMCB and VMLOAD the host's.  Between the two VMLOADs
 * GS.base is the guest's, so nothing in here may touch per-CPU data; the
 * caller has cleared GIF, so no interrupt or NMI can come in meanwhile.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>

/* Byte offsets into vcpu->regs[] (enum khv_reg, asserted in svm.c). */
#define REG_RCX		(1 * 8)
#define REG_RDX		(2 * 8)
#define REG_RBX		(3 * 8)
#define REG_RBP		(5 * 8)
#define REG_RSI		(6 * 8)
#define REG_RDI		(7 * 8)
#define REG_R8		(8 * 8)
#define REG_R9		(9 * 8)
#define REG_R10		(10 * 8)
#define REG_R11		(11 * 8)
#define REG_R12		(12 * 8)
#define REG_R13		(13 * 8)
#define REG_R14		(14 * 8)
#define REG_R15		(15 * 8)

/* Stack slots below the saved callee-saved registers, from RSP at VMRUN. */
#define STK_VMCB_PA	0
#define STK_HOST_PA	8
#define STK_REGS	16
/*
 * From RSP at VMRUN: the saved RBP (where the frame pointer points), 8 slots
 * up, and the CFA (caller's RSP), 2 more.  No spaces: macro arguments.
 */
#define STK_FRAME	64
#define STK_CFA		80

	.text

/*
 * void __khv_svm_vmrun(u64 *regs, u64 vmcb_pa, u64 host_save_pa)
 *
 * The SVM instructions only fault (#UD) if EFER.SVME was cleared under us,
 * which the kernel's emergency reboot/crash path does; each of them then
 * just falls through to the next, so the exit code stays VMEXIT_INVALID,
 * which the caller set, and the entry is reported as failed.
 */
SYM_FUNC_START(__khv_svm_vmrun)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	/* What the exit path needs, in the order it needs it (top first). */
	push	%rdi
	push	%rdx
	push	%rsi

	/* The host's FS/GS/TR/LDTR and syscall MSRs. */
	mov	%rdx, %rax
1:	vmsave	%rax
2:
	/* The guest's: from here on, no per-CPU access. */
	mov	%rsi, %rax
3:	vmload	%rax
4:
	/* Guest GPRs; RAX and RSP come from the VMCB, RDI goes last. */
	mov	REG_RCX(%rdi), %rcx
	mov	REG_RDX(%rdi), %rdx
	mov	REG_RBX(%rdi), %rbx
	mov	REG_RSI(%rdi), %rsi
	mov	REG_R8(%rdi), %r8
	mov	REG_R9(%rdi), %r9
	mov	REG_R10(%rdi), %r10
	mov	REG_R11(%rdi), %r11
	mov	REG_R12(%rdi), %r12
	mov	REG_R13(%rdi), %r13
	mov	REG_R14(%rdi), %r14
	/* Remember this frame description for when RBP is ours again. */
	UNWIND_HINT_SAVE
	mov	REG_R15(%rdi), %r15
	/*
	 * RBP is about to hold the guest's RBP: until it is the frame pointer
	 * again, describe the frame from RSP, which is always the host's.
	 */
	UNWIND_HINT sp_reg=ORC_REG_SP sp_offset=STK_CFA type=UNWIND_HINT_TYPE_CALL
	mov	REG_RBP(%rdi), %rbp
	mov	REG_RDI(%rdi), %rdi

	/* VERW for the CPUs that need buffers cleared before guest code. */
	VM_CLEAR_CPU_BUFFERS

5:	vmrun	%rax
6:
SYM_INNER_LABEL(khv_svm_vmexit_rip, SYM_L_GLOBAL)
	/* #VMEXIT: RAX holds the VMCB PA again, RSP is as at VMRUN. */
	mov	STK_REGS(%rsp), %rax
	mov	%rcx, REG_RCX(%rax)
	mov	%rdx, REG_RDX(%rax)
	mov	%rbx, REG_RBX(%rax)
	mov	%rbp, REG_RBP(%rax)
	mov	%rsi, REG_RSI(%rax)
	mov	%rdi, REG_RDI(%rax)
	mov	%r8, REG_R8(%rax)
	mov	%r9, REG_R9(%rax)
	mov	%r10, REG_R10(%rax)
	mov	%r11, REG_R11(%rax)
	mov	%r12, REG_R12(%rax)
	mov	%r13, REG_R13(%rax)
	mov	%r14, REG_R14(%rax)
	mov	%r15, REG_R15(%rax)
	/* The frame pointer again. */
	lea	STK_FRAME(%rsp), %rbp
	UNWIND_HINT_RESTORE

	pop	%rax			/* STK_VMCB_PA */
7:	vmsave	%rax
8:
	pop	%rax			/* STK_HOST_PA */
9:	vmload	%rax
10:
	/* Host GS.base, TR and syscall MSRs are back. */

	/* Stuff the RSB before any RET, so no guest-trained entry is used. */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RETPOLINE
	/* RETBleed/SRSO untraining, and IBPB where the mitigation wants it. */
	UNTRAIN_RET
	ALTERNATIVE "", "call entry_ibpb", X86_FEATURE_IBPB_ON_VMEXIT

	/* Leave no guest value in a register the host does not reload. */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d

	pop	%rdi			/* STK_REGS: vcpu->regs, a host pointer */
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET

	_ASM_EXTABLE(1b, 2b)
	_ASM_EXTABLE(3b, 4b)
	_ASM_EXTABLE(5b, 6b)
	_ASM_EXTABLE(7b, 8b)
	_ASM_EXTABLE(9b, 10b)
SYM_FUNC_END(__khv_svm_vmrun)
