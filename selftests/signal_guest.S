/* SPDX-License-Identifier: GPL-2.0 */
/* A guest that never exits on its own, and one OUT to prove it was entered. */
#include "asm.h"

PAYLOAD_BEGIN(signal_spin)
	.code64
MARK(signal_spin_loop)
	jmp .
MARK(signal_out)
	mov $0x77, %eax
	out %eax, $PORT_MARK
	hlt
MARK(signal_done)
	jmp .
PAYLOAD_END(signal_spin)
