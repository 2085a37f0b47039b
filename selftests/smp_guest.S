/* SPDX-License-Identifier: GPL-2.0 */
/*
 * smp_store: store an ever-increasing counter to the qword at RDI, forever
 * (no exit of its own: while the slot is deleted, each store is an MMIO
 * write exit).
 */
#include "asm.h"

PAYLOAD_BEGIN(smp_store)
	.code64
	mov $1, %rax
1:	mov %rax, (%rdi)
	inc %rax
	jmp 1b
PAYLOAD_END(smp_store)

/* smp_spin: never exits on its own. */
PAYLOAD_BEGIN(smp_spin)
	.code64
	jmp .
PAYLOAD_END(smp_spin)
