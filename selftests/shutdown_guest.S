/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Triple faults: the test loads an IDT with limit 0, so the exception
 * cannot be delivered, nor the #DF that follows: shutdown.
 */
#include "asm.h"

PAYLOAD_BEGIN(shutdown_long_ud2)
	.code64
	mov $1, %eax
	out %eax, $PORT_MARK
	ud2
	jmp .
PAYLOAD_END(shutdown_long_ud2)

/*
 * 32-bit, INT3.  (Not real mode: AMD CPUs deliver real-mode interrupts
 * through the IVT whatever the IDTR limit says.)
 */
PAYLOAD_BEGIN(shutdown_prot32_int3)
	.code32
	mov $1, %eax
	out %eax, $PORT_MARK
	int3
	jmp .
PAYLOAD_END(shutdown_prot32_int3)

/* A #PF with a working IDT whose #PF gate points outside the IDT limit. */
PAYLOAD_BEGIN(shutdown_long_pf)
	.code64
	mov $1, %eax
	out %eax, $PORT_MARK
	movabs $0x7fff00000000, %rbx		/* canonical, not mapped: #PF */
	mov (%rbx), %eax
	jmp .
PAYLOAD_END(shutdown_long_pf)
