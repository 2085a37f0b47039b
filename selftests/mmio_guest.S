/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MMIO: accesses at GUEST_MMIO, outside every slot, with the instruction
 * forms khv has to decode.  Writes first, then reads, each read followed by
 * a report of its destination register.  mmio.c holds the matching table
 * (offset, length, data, expected register): keep the two in step.
 */
#include "asm.h"

	.macro report64 reg
	mov \reg, %rax
	out %eax, $PORT_ECHO
	shr $32, %rax
	out %eax, $PORT_ECHO
	.endm

PAYLOAD_BEGIN(mmio_long)
	.code64
	mov $GUEST_MMIO, %ebx
	mov %rbx, %r12

	/* writes */
	movb $0x11, (%rbx)			/* C6 /0 ib */
	movw $0x2233, 2(%rbx)			/* 66 C7 /0 iw */
	movl $0x44556677, 4(%rbx)		/* C7 /0 id */
	movq $-2, 8(%rbx)			/* REX.W C7 /0 id, sign-extended */
	movabs $0x11111111111111a5, %rcx
	mov %cl, (%rbx)				/* 88 /r */
	movabs $0x222222222222ab00, %rax
	mov %ah, 1(%rbx)			/* 88 /r, AH without REX */
	movabs $0x3333333333339876, %rdx
	mov %dx, 2(%rbx)			/* 66 89 /r */
	movabs $0x4444444413579bdf, %rsi
	mov %esi, 4(%rbx)			/* 89 /r */
	movabs $0x0123456789abcdef, %r9
	mov %r9, 8(%rbx)			/* REX.WR 89 /r */
	movabs $0x555555555555553c, %r10
	mov %r10b, 16(%rbx)			/* REX.R 88 /r */
	mov %sil, 17(%rbx)			/* REX 88 /r: SIL, not DH */
	mov $8, %ecx
	mov $0xdeadbeef, %eax
	mov %eax, (%rbx, %rcx, 4)		/* SIB with index: GUEST_MMIO + 32 */
	movabs $0x666666666666c3d4, %r11
	mov %r11w, 24(%r12)			/* 66 REX.RB 89 /r */

	/* reads */
	movabs $0x1122334455667788, %rax
	mov (%rbx), %al				/* 8A /r */
	report64 %rax
	movabs $0x1122334455667788, %rax
	mov 1(%rbx), %ah			/* 8A /r, AH */
	report64 %rax
	mov $-1, %rcx
	mov 2(%rbx), %cx			/* 66 8B /r */
	report64 %rcx
	mov $-1, %rdx
	mov 4(%rbx), %edx			/* 8B /r: zero-extends */
	report64 %rdx
	mov $-1, %r11
	mov 8(%rbx), %r11			/* REX.WR 8B /r */
	report64 %r11
	mov $-1, %rsi
	movzbl (%rbx), %esi			/* 0F B6 */
	report64 %rsi
	mov $-1, %rdi
	movsbq (%rbx), %rdi			/* REX.W 0F BE */
	report64 %rdi
	mov $-1, %r8
	movzwl 2(%rbx), %r8d			/* REX.R 0F B7 */
	report64 %r8
	mov $-1, %r9
	movswl 2(%rbx), %r9d			/* REX.R 0F BF, 32-bit: zero-extends */
	report64 %r9
	mov $-1, %rsi
	mov 16(%rbx), %sil			/* REX 8A /r: SIL */
	report64 %rsi
	mov $-1, %rax
	movzbw (%rbx), %ax			/* 66 0F B6 */
	report64 %rax
	xor %edx, %edx
	movsbw (%rbx), %dx			/* 66 0F BE */
	report64 %rdx
	mov $-1, %r13
	mov 24(%r12), %r13w			/* 66 REX.RB 8B /r */
	report64 %r13
	mov $0, %r14
	movswq 2(%rbx), %r14			/* REX.WR 0F BF */
	report64 %r14
	hlt
MARK(mmio_long_done)
	jmp .
PAYLOAD_END(mmio_long)

PAYLOAD_BEGIN(mmio_prot32)
	.code32
	mov $GUEST_MMIO, %ebx

	/* writes */
	movb $0x11, (%ebx)
	movw $0x2233, 2(%ebx)
	movl $0x44556677, 4(%ebx)
	mov $0x111111a5, %ecx
	mov %cl, (%ebx)
	mov $0x2222ab00, %eax
	mov %ah, 1(%ebx)
	mov $0x33339876, %edx
	mov %dx, 2(%ebx)
	mov $0x13579bdf, %esi
	mov %esi, 4(%ebx)
	mov %dh, 3(%ebx)			/* DH */
	mov $8, %ecx
	mov $0xdeadbeef, %eax
	mov %eax, (%ebx, %ecx, 4)

	/* reads */
	mov $0x11223344, %eax
	mov (%ebx), %al
	out %eax, $PORT_ECHO
	mov $0x11223344, %eax
	mov 1(%ebx), %ah
	out %eax, $PORT_ECHO
	mov $-1, %ecx
	mov 2(%ebx), %cx
	mov %ecx, %eax
	out %eax, $PORT_ECHO
	mov $-1, %edx
	mov 4(%ebx), %edx
	mov %edx, %eax
	out %eax, $PORT_ECHO
	mov $-1, %esi
	movzbl (%ebx), %esi
	mov %esi, %eax
	out %eax, $PORT_ECHO
	mov $0, %edi
	movsbl (%ebx), %edi
	mov %edi, %eax
	out %eax, $PORT_ECHO
	mov $-1, %esi
	movzwl 2(%ebx), %esi
	mov %esi, %eax
	out %eax, $PORT_ECHO
	mov $0, %edi
	movswl 2(%ebx), %edi
	mov %edi, %eax
	out %eax, $PORT_ECHO
	mov $-1, %eax
	movzbw (%ebx), %ax
	out %eax, $PORT_ECHO
	mov $0, %ecx
	mov 1(%ebx), %ch			/* CH */
	mov %ecx, %eax
	out %eax, $PORT_ECHO
	hlt
MARK(mmio_prot32_done)
	jmp .
PAYLOAD_END(mmio_prot32)
	.code64
