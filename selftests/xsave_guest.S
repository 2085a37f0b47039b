/* SPDX-License-Identifier: GPL-2.0 */
/*
 * XMM state in and out of the guest: XMM0 and XMM7 come from KHV_SET_XSAVE;
 * the guest stores XMM0 to GUEST_DATA and reports it, then loads XMM1 from
 * GUEST_DATA + 16 and XMM3 from GUEST_DATA + 32 and copies XMM7 to XMM2,
 * for KHV_GET_XSAVE to find.
 */
#include "asm.h"

PAYLOAD_BEGIN(xsave_long)
	.code64
	movdqu %xmm0, GUEST_DATA
	mov GUEST_DATA, %rax
	out %eax, $PORT_ECHO
	shr $32, %rax
	out %eax, $PORT_ECHO
	mov GUEST_DATA + 8, %rax
	out %eax, $PORT_ECHO
	shr $32, %rax
	out %eax, $PORT_ECHO
	movdqu GUEST_DATA + 16, %xmm1
	movdqa %xmm7, %xmm2
	movdqu GUEST_DATA + 32, %xmm3
	hlt
MARK(xsave_done)
	jmp .
PAYLOAD_END(xsave_long)
