/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pages: long-mode routines over whole 4 KiB pages of guest memory, for the
 * tests in which the host moves, merges or reaps the VMM's memory under a
 * VM (mrelease, ksm, migrate; helpers in lib/pages.h).  Each entry point
 * takes R8 = first guest physical address, R9 = number of pages, R10 = a
 * qword value:
 *
 *   pages_fill   store R10 into every qword of the pages; OUT PORT_ECHO
 *                the number of pages; HLT
 *   pages_check  OUT PORT_ECHO the number of qwords that differ from R10;
 *                HLT
 *   pages_spin   OUT PORT_ECHO the number of pages, then store R10 into
 *                the first qword of each page, round after round, without
 *                ever exiting on its own
 */
#include "asm.h"

PAYLOAD_BEGIN(pages)
	.code64
MARK(pages_fill)
	mov %r8, %rdi
	mov %r9, %rcx
	shl $9, %rcx			/* 512 qwords a page */
	mov %r10, %rax
	cld
	rep stosq
	mov %r9d, %eax
	out %eax, $PORT_ECHO
	hlt

MARK(pages_check)
	mov %r8, %rsi
	mov %r9, %rcx
	shl $9, %rcx
	xor %edx, %edx
1:	cmp %r10, (%rsi)
	je 2f
	inc %edx
2:	add $8, %rsi
	loop 1b
	mov %edx, %eax
	out %eax, $PORT_ECHO
	hlt

MARK(pages_spin)
	mov %r9d, %eax
	out %eax, $PORT_ECHO
3:	mov %r8, %rdi
	mov %r9, %rcx
4:	mov %r10, (%rdi)
	add $4096, %rdi
	loop 4b
	jmp 3b
PAYLOAD_END(pages)
