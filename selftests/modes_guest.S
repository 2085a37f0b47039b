/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One guest per CPU mode.  Each computes a value, reports it on PORT_ECHO,
 * leaves known values in registers and memory, and halts; the test checks
 * all of it.
 */
#include "asm.h"

/* Real mode: sum 1..100, 12 * 12 through a call, a segmented store. */
PAYLOAD_BEGIN(modes_real)
	.code16
	xor %ax, %ax
	mov $100, %cx
1:	add %cx, %ax
	loop 1b
	out %ax, $PORT_ECHO		/* 5050, 2 bytes */

	mov $12, %ax
	call square
	out %ax, $PORT_ECHO		/* 144 */

	mov $(GUEST_DATA >> 4), %ax	/* ES base = GUEST_DATA */
	mov %ax, %es
	movw $0x5a5a, %es:0
	xor %ax, %ax
	mov %ax, %es

	mov $0x1234, %bx
	push %bx
	pop %dx
	mov $0xbeef, %si
	mov $0x4321, %di
	mov $5050, %ax
	hlt
MARK(modes_real_after_hlt)
	jmp .

square:
	mul %ax				/* DX:AX = AX * AX */
	ret
PAYLOAD_END(modes_real)

/* 32-bit protected mode, flat: 10!, a store above 1 MiB, the stack. */
PAYLOAD_BEGIN(modes_prot32)
	.code32
	mov $1, %eax
	mov $10, %ecx
1:	imul %ecx, %eax
	loop 1b
	out %eax, $PORT_ECHO		/* 3628800, 4 bytes */

	movl $0xcafebabe, 0x150000
	mov 0x150000, %ebx
	push %ebx
	pop %esi
	mov $0x600d600d, %edi
	hlt
MARK(modes_prot32_after_hlt)
	jmp .
PAYLOAD_END(modes_prot32)

/* 64-bit mode: fib(90), 64-bit registers and memory. */
PAYLOAD_BEGIN(modes_long)
	.code64
	xor %eax, %eax
	mov $1, %ebx
	mov $90, %ecx
1:	lea (%rax, %rbx), %rdx
	mov %rbx, %rax
	mov %rdx, %rbx
	dec %ecx
	jnz 1b
	mov %rax, %r15
	out %eax, $PORT_ECHO
	shr $32, %rax
	out %eax, $PORT_ECHO
	mov %r15, %rax

	movabs $0x0123456789abcdef, %r8
	mov %r8, 0x1f0000
	mov 0x1f0000, %r9
	push %r9
	pop %r10
	hlt
MARK(modes_long_after_hlt)
	jmp .
PAYLOAD_END(modes_long)
