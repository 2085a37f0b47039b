/* SPDX-License-Identifier: GPL-2.0 */
/*
 * remap_watch: load the qword at RDI again and again; report (OUT to
 * PORT_ECHO, low 32 bits) the first value and every change.
 */
#include "asm.h"

PAYLOAD_BEGIN(remap_watch)
	.code64
	mov (%rdi), %rax
	out %eax, $PORT_ECHO
1:	mov (%rdi), %rbx
	cmp %rax, %rbx
	je 1b
	mov %rbx, %rax
	out %eax, $PORT_ECHO
	jmp 1b
PAYLOAD_END(remap_watch)
