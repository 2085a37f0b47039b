/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dirty_log: what the guest writes and reads while the host logs.  Each
 * entry point ends in HLT; the test sets RIP and the registers for the
 * next one.
 *
 * dl_list:   RDI = base, RSI = count, RDX = gpa of count u32 page numbers,
 *            RCX = tag.  Page n gets the qword (tag << 32) | n at offset
 *            (n * 8) & 0xff8.
 * dl_read:   RDI = base, RSI = pages: reads a qword of each page.
 * dl_random: RDI = base, RSI = pages (a power of two), RDX = stores,
 *            RCX = seed (not 0), R9 = gpa of a stop flag.  Each store:
 *            xorshift64 state x; the qword x goes to page
 *            (x >> 20) & (pages - 1), offset x & 0xff8, and the qword
 *            before the flag counts it.  Stops early when the flag is not
 *            0 (RDX: the stores not made).
 * dl_ins:    one INSB from PORT_STR_INB to the byte at RDI (khv writes it
 *            for the guest when the IN completes).
 */
#include "asm.h"

PAYLOAD_BEGIN(dl_guest)
	.code64
MARK(dl_list)
	xor %r9d, %r9d
	shl $32, %rcx
1:	cmp %rsi, %r9
	je 2f
	mov (%rdx, %r9, 4), %eax	/* page number n */
	mov %rax, %r10
	shl $12, %r10
	lea (, %rax, 8), %r11
	and $0xff8, %r11
	add %r11, %r10
	or %rcx, %rax
	mov %rax, (%rdi, %r10)
	inc %r9
	jmp 1b
2:	hlt
MARK(dl_list_done)

MARK(dl_read)
	xor %eax, %eax
	xor %r9d, %r9d
1:	cmp %rsi, %r9
	je 2f
	mov %r9, %r10
	shl $12, %r10
	add (%rdi, %r10), %rax
	inc %r9
	jmp 1b
2:	hlt
MARK(dl_read_done)

MARK(dl_random)
	lea -1(%rsi), %r11		/* page mask */
1:	test %rdx, %rdx
	jz 2f
	cmpq $0, (%r9)
	jne 2f
	mov %rcx, %rax			/* xorshift64 */
	shl $13, %rax
	xor %rax, %rcx
	mov %rcx, %rax
	shr $7, %rax
	xor %rax, %rcx
	mov %rcx, %rax
	shl $17, %rax
	xor %rax, %rcx
	mov %rcx, %r10
	shr $20, %r10
	and %r11, %r10
	shl $12, %r10
	mov %rcx, %rax
	and $0xff8, %rax
	add %rax, %r10
	mov %rcx, (%rdi, %r10)
	incq -8(%r9)			/* stores made, for the host */
	dec %rdx
	jmp 1b
2:	hlt
MARK(dl_random_done)

MARK(dl_ins)
	mov $PORT_STR_INB, %dx
	insb
	hlt
MARK(dl_ins_done)
PAYLOAD_END(dl_guest)
