/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Default exception handlers, loaded at GUEST_STUBS for every test VM: the
 * IDT (IVT in real mode) points vectors 0..31 here, so an exception a test did
 * not expect ends in one OUT to PORT_EXC with
 *   RAX = vector, RBX = error code (0 if none), RCX = faulting RIP, RSI = CR2
 * which the host decodes into a readable failure instead of a triple fault.
 *
 * Stub v starts at offset v * GUEST_STUB_SIZE; .org checks that no stub
 * outgrows its slot (the assembler refuses to move .org backwards).
 */
#include "asm.h"

/* Vectors for which the CPU pushes an error code in protected/long mode. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || \
		    (v) == 21 || (v) == 29 || (v) == 30)

/* ---- 64-bit ----------------------------------------------------------- */
PAYLOAD_BEGIN(stubs64)
	.code64
	.altmacro
	.macro stub64 v
	.org stubs64_start + \v * GUEST_STUB_SIZE
	.if !HAS_ERR(\v)
	push $0
	.endif
	push $\v
	jmp stubs64_common
	.endm
	.set vec, 0
	.rept 32
	stub64 %vec
	.set vec, vec + 1
	.endr
	.org stubs64_start + 32 * GUEST_STUB_SIZE
stubs64_common:
	mov (%rsp), %rax		/* vector */
	mov 8(%rsp), %rbx		/* error code */
	mov 16(%rsp), %rcx		/* RIP */
	mov %cr2, %rsi
	mov $PORT_EXC, %edx
	out %eax, %dx
1:	hlt
	jmp 1b
PAYLOAD_END(stubs64)

/* ---- 32-bit ----------------------------------------------------------- */
PAYLOAD_BEGIN(stubs32)
	.code32
	.macro stub32 v
	.org stubs32_start + \v * GUEST_STUB_SIZE
	.if !HAS_ERR(\v)
	push $0
	.endif
	push $\v
	jmp stubs32_common
	.endm
	.set vec, 0
	.rept 32
	stub32 %vec
	.set vec, vec + 1
	.endr
	.org stubs32_start + 32 * GUEST_STUB_SIZE
stubs32_common:
	mov (%esp), %eax
	mov 4(%esp), %ebx
	mov 8(%esp), %ecx
	mov %cr2, %esi
	mov $PORT_EXC, %edx
	out %eax, %dx
1:	hlt
	jmp 1b
PAYLOAD_END(stubs32)

/* ---- real mode: no error codes; the frame is IP, CS, FLAGS ----------- */
PAYLOAD_BEGIN(stubs16)
	.code16
	.macro stub16 v
	.org stubs16_start + \v * GUEST_STUB_SIZE
	push $\v
	jmp stubs16_common
	.endm
	.set vec, 0
	.rept 32
	stub16 %vec
	.set vec, vec + 1
	.endr
	.org stubs16_start + 32 * GUEST_STUB_SIZE
stubs16_common:
	mov %sp, %bp
	xor %eax, %eax
	mov (%bp), %ax			/* vector */
	xor %ebx, %ebx
	xor %ecx, %ecx
	mov 2(%bp), %cx			/* IP */
	xor %esi, %esi
	mov $PORT_EXC, %dx
	out %eax, %dx
1:	hlt
	jmp 1b
PAYLOAD_END(stubs16)
	.code64
