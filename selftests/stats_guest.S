/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ESI CPUIDs (answered in the kernel), then EDI OUTs to PORT_ECHO (each a
 * round trip through userspace), then HLT; after the HLT, the same again
 * with whatever ESI and EDI the test set meanwhile.
 */
#include "asm.h"

PAYLOAD_BEGIN(stats_loop)
	.code16
1:	test %esi, %esi
	jz 2f
	xor %eax, %eax
	cpuid
	dec %esi
	jmp 1b
2:	test %edi, %edi
	jz 3f
	out %al, $PORT_ECHO
	dec %edi
	jmp 2b
3:	hlt
	jmp 1b
PAYLOAD_END(stats_loop)
