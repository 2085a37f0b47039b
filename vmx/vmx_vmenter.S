/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One guest entry with VT-x.
 *
 * VM entry loads RSP, RIP, RFLAGS, the control registers, segments and the
 * MSRs the VMCS holds; VM exit loads the host's from the VMCS host-state
 * area, RIP = __khv_vmx_vmexit and RSP = what was written into HOST_RSP
 * just before the entry.  The general-purpose registers other than RSP are
 * switched here, through vcpu->regs.  Everything else the exit leaves to
 * software is restored in C (vmx.c).
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>
#include <asm/segment.h>
#include <asm/unwind_hints.h>

/* Byte offsets into vcpu->regs[] (enum khv_reg, asserted in vmx.c). */
#define REG_RAX		(0 * 8)
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

/* VMCS field encoding of HOST_RSP (vmcs.h: VMCS_HOST_RSP). */
#define FIELD_HOST_RSP	0x6c14

	.text

/*
 * int __khv_vmx_vmenter(u64 *regs, bool launched)
 *
 * Returns 0 after a VM exit (the guest's GPRs are in regs), 1 when VMLAUNCH,
 * VMRESUME or the HOST_RSP write failed (VMfail: the VM-instruction error
 * field says why, no guest code ran), 2 when one of them faulted: VMX was
 * switched off under us (emergency reboot or crash), also reported as a
 * failed entry.
 */
SYM_FUNC_START(__khv_vmx_vmenter)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	/* regs, for the exit path: the top of the stack at VM exit. */
	push	%rdi

	/* VM exit comes back with this RSP. */
	mov	$FIELD_HOST_RSP, %eax
1:	vmwrite	%rsp, %rax
	jna	.Lvmfail

	/* CF = launched: VERW below clobbers ZF, not CF. */
	bt	$0, %esi

	/* Guest GPRs; RSP is the VMCS's, RAX goes last (it holds regs). */
	mov	%rdi, %rax
	mov	REG_RCX(%rax), %rcx
	mov	REG_RDX(%rax), %rdx
	mov	REG_RBX(%rax), %rbx
	mov	REG_RBP(%rax), %rbp
	mov	REG_RSI(%rax), %rsi
	mov	REG_RDI(%rax), %rdi
	mov	REG_R8(%rax), %r8
	mov	REG_R9(%rax), %r9
	mov	REG_R10(%rax), %r10
	mov	REG_R11(%rax), %r11
	mov	REG_R12(%rax), %r12
	mov	REG_R13(%rax), %r13
	mov	REG_R14(%rax), %r14
	mov	REG_R15(%rax), %r15
	mov	REG_RAX(%rax), %rax

	/* VERW for the CPUs that need buffers cleared before guest code. */
	CLEAR_CPU_BUFFERS

	jnc	.Llaunch
	/* A successful entry "returns" at __khv_vmx_vmexit, not below. */
	UNWIND_HINT_SAVE
2:	vmresume
	jmp	.Lvmfail
.Llaunch:
3:	vmlaunch
	jmp	.Lvmfail

SYM_INNER_LABEL(__khv_vmx_vmexit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	ENDBR
	/* RSP is as at the entry: regs on top.  Guest RAX goes through the stack. */
	push	%rax
	mov	8(%rsp), %rax
	pop	REG_RAX(%rax)
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
	xor	%ebx, %ebx

.Lout:
	/* Drop regs; RBX holds the return value. */
	pop	%rax
	/* Leave no guest value in a register, not even speculatively. */
	xor	%eax, %eax
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%ebp, %ebp
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	xor	%r12d, %r12d
	xor	%r13d, %r13d
	xor	%r14d, %r14d
	xor	%r15d, %r15d

	/* No guest-trained return prediction before the first unbalanced RET. */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT, \
			   X86_FEATURE_RSB_VMEXIT_LITE
	CLEAR_BRANCH_HISTORY_VMEXIT

	mov	%ebx, %eax
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET

.Lvmfail:
	mov	$1, %ebx
	jmp	.Lout
.Lfault:
	mov	$2, %ebx
	jmp	.Lout

	_ASM_EXTABLE(1b, .Lfault)
	_ASM_EXTABLE(2b, .Lfault)
	_ASM_EXTABLE(3b, .Lfault)
SYM_FUNC_END(__khv_vmx_vmenter)

/*
 * void __khv_vmx_do_nmi(void)
 *
 * An NMI caused the VM exit: the CPU did not deliver it, and NMIs stay
 * blocked until the next IRET.  Call the host's NMI entry (the variant
 * without IST that Linux provides for this) on an interrupt frame built as
 * the CPU would: its IRET returns here and unblocks NMIs.  Interrupts off.
 */
SYM_FUNC_START(__khv_vmx_do_nmi)
	push	%rbp
	mov	%rsp, %rbp
	/* The CPU aligns the stack to 16 bytes before pushing the frame. */
	and	$-16, %rsp
	push	$__KERNEL_DS
	push	%rbp
	pushf
	push	$__KERNEL_CS
	call	asm_exc_nmi_noist
	/* IRET restored RSP already; say so for objtool. */
	mov	%rbp, %rsp
	pop	%rbp
	RET
SYM_FUNC_END(__khv_vmx_do_nmi)
