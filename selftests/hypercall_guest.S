/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hypercalls: nr in RAX, arguments in RBX RCX RDX RSI RDI R8, result in RAX.
 * The same guest twice, with VMMCALL (AMD) and VMCALL (Intel).
 */
#include "asm.h"

	.macro report64 reg
	mov \reg, %rax
	out %eax, $PORT_ECHO
	shr $32, %rax
	out %eax, $PORT_ECHO
	.endm

	.macro hypercalls insn
	movabs $0x4b48560000000001, %rax
	movabs $0x1111111111111111, %rbx
	movabs $0x2222222222222222, %rcx
	movabs $0x3333333333333333, %rdx
	movabs $0x4444444444444444, %rsi
	movabs $0x5555555555555555, %rdi
	movabs $0x6666666666666666, %r8
	movabs $0x7777777777777777, %r9
	\insn
	mov %rax, %r15
	report64 %r15

	mov $2, %eax
	mov $0xa, %ebx
	mov $0xb, %ecx
	mov $0xc, %edx
	mov $0xd, %esi
	mov $0xe, %edi
	mov $0xf, %r8d
	\insn
	mov %rax, %r14
	report64 %r14
	mov %r14, %rax
	hlt
	.endm

PAYLOAD_BEGIN(hypercall_amd)
	.code64
	hypercalls vmmcall
MARK(hypercall_amd_done)
	jmp .
PAYLOAD_END(hypercall_amd)

PAYLOAD_BEGIN(hypercall_intel)
	.code64
	hypercalls vmcall
MARK(hypercall_intel_done)
	jmp .
PAYLOAD_END(hypercall_intel)
