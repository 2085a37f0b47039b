/* SPDX-License-Identifier: GPL-2.0 */
/*
 * largepages: one byte into each 4 KiB page of a range, then HLT.
 *   In: RDI = first byte of the range, ESI = number of pages.
 *   Page i gets the byte ((i + (i >> 9) * 0x40) & 0x7f) | 0x80 at offset
 *   (i & 511) * 8: never zero, and a page written at the wrong place shows.
 * After the HLT (RIP at lp_done) the next KHV_RUN starts over with the
 * registers the test has set meanwhile; ESI = 0 writes nothing.
 */
#include "asm.h"

PAYLOAD_BEGIN(lp_touch)
	.code64
lp_top:
	xor %ecx, %ecx
1:	cmp %esi, %ecx
	je 2f
	mov %ecx, %edx			/* value */
	shr $9, %edx
	shl $6, %edx
	add %ecx, %edx
	and $0x7f, %edx
	or $0x80, %edx
	mov %ecx, %eax			/* offset: i * 4096 + (i & 511) * 8 */
	shl $12, %rax
	mov %ecx, %ebx
	and $511, %ebx
	lea (%rax, %rbx, 8), %rax
	mov %dl, (%rdi, %rax)
	inc %ecx
	jmp 1b
2:	hlt
MARK(lp_done)
	jmp lp_top
PAYLOAD_END(lp_touch)
