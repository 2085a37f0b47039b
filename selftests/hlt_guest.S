/* SPDX-License-Identifier: GPL-2.0 */
/* HLT exits, and the guest resumes after the HLT. */
#include "asm.h"

PAYLOAD_BEGIN(hlt_real)
	.code16
	mov $0x1234, %ax
	hlt
MARK(hlt_real_after1)
	out %ax, $PORT_ECHO
	inc %ax
	hlt
MARK(hlt_real_after2)
	jmp .
PAYLOAD_END(hlt_real)

/* With IF=1 (nothing to deliver, so HLT still exits), then IF=0. */
PAYLOAD_BEGIN(hlt_long)
	.code64
	movabs $0x123456789, %rax
	sti
	hlt
MARK(hlt_long_after1)
	out %eax, $PORT_ECHO
	cli
	hlt
MARK(hlt_long_after2)
	jmp .
PAYLOAD_END(hlt_long)
