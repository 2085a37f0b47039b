/* SPDX-License-Identifier: GPL-2.0 */
/*
 * R8 CPUIDs (quick exits khv handles itself), then one OUT to userspace,
 * forever: each KHV_RUN is R8 + 1 VM entries.
 */
#include "asm.h"

PAYLOAD_BEGIN(l1d_loop)
	.code64
1:	mov %r8, %r9
2:	xor %eax, %eax
	xor %ecx, %ecx
	cpuid
	dec %r9
	jnz 2b
	out %al, $PORT_ECHO
	jmp 1b
PAYLOAD_END(l1d_loop)
