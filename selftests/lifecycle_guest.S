/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lifecycle: each vCPU writes BL into ECX pages from EDI on (4 KiB apart),
 * so the VM's memory gets pinned, then halts.
 */
#include "asm.h"

PAYLOAD_BEGIN(lifecycle_touch)
	.code32
1:	mov %bl, (%edi)
	add $4096, %edi
	loop 1b
	hlt
MARK(lifecycle_done)
	jmp .
PAYLOAD_END(lifecycle_touch)
