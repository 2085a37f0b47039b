/* SPDX-License-Identifier: GPL-2.0 */
/* Guests for ioctl_errors: one that halts, one that reads slot 1. */
#include "asm.h"

PAYLOAD_BEGIN(ioctl_hlt)
	.code16
	hlt
MARK(ioctl_hlt_done)
	jmp .
PAYLOAD_END(ioctl_hlt)

PAYLOAD_BEGIN(ioctl_read_slot1)
	.code32
	mov 0x400000, %eax
	hlt
	jmp .
PAYLOAD_END(ioctl_read_slot1)
