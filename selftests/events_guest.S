/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Event injection.  The guest marks each step on PORT_MARK; the test injects
 * an event at the exit; the handler (ev_<vector>) reports vector and error
 * code on PORT_ECHO, sets the flag at GUEST_DATA and returns.
 *   1..3  exceptions and an NMI injected at an OUT exit
 *   4     STI; HLT: an external interrupt injected at the HLT exit
 *   6     CLI: no injection possible; STI and a spin on the flag, during
 *         which an interrupt-window exit lets the test inject one
 */
#include "asm.h"

	.macro mark n
	mov $\n, %eax
	out %eax, $PORT_MARK
	.endm

	.macro handler v, err
MARK(ev_\v)
	.if !\err
	push $0
	.endif
	push $\v
	jmp ev_common
	.endm

PAYLOAD_BEGIN(events_long)
	.code64
	mark 1
	mark 2
	mark 3
	mark 4
	sti
	hlt
MARK(events_after_hlt)
	mark 5
	cli
	mark 6
	movl $0, GUEST_DATA
	sti
1:	cmpl $0, GUEST_DATA
	je 1b
	mark 7
	hlt
MARK(events_done)
	jmp .

	handler 2, 0
	handler 6, 0
	handler 13, 1
	handler 32, 0
	handler 65, 0

ev_common:
	push %rax
	mov 8(%rsp), %eax		/* vector */
	out %eax, $PORT_ECHO
	mov 16(%rsp), %eax		/* error code */
	out %eax, $PORT_ECHO
	movl $1, GUEST_DATA
	pop %rax
	add $16, %rsp
	iretq
PAYLOAD_END(events_long)
