/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-side helpers for payloads that check which instructions fault
 * (svm_guest.S, vmx_guest.S); the host side is expect_fault() in
 * khvt_harness.h.
 *
 * "faulting <label>, <insn>" runs insn with R15 = the address after it; if
 * insn faults, the handler FAULT_REPORTERS installs reports the vector, the
 * error code and the faulting RIP (32-bit OUTs to PORT_ECHO) and resumes at
 * R15; if it completes, 0xffffffff (KHVT_NO_FAULT) is reported instead.
 */
#ifndef KHVT_FAULTING_H
#define KHVT_FAULTING_H

#include "asm.h"

	/* One 32-bit value to PORT_ECHO (from reg; clobbers EAX). */
	.macro echo reg=%eax
	.ifnc \reg,%eax
	mov \reg, %eax
	.endif
	out %eax, $PORT_ECHO
	.endm

	.macro faulting label, insn:vararg
	lea 1f(%rip), %r15
MARK(\label)
	\insn
	mov $0xffffffff, %eax
	out %eax, $PORT_ECHO
1:
	.endm

	/*
	 * #UD and #GP handlers (entry points \ud and \gp, for khvt_set_gate)
	 * that report and resume as above.  Place them inside the payload.
	 * Stack on entry to the common part: vector, error code, RIP, CS,
	 * RFLAGS, RSP, SS.  RAX is kept.
	 */
	.macro FAULT_REPORTERS ud, gp
MARK(\ud)
	push $0
	push $6
	jmp 2f
MARK(\gp)
	push $13
2:
	push %rax
	mov 8(%rsp), %eax
	echo
	mov 16(%rsp), %eax
	echo
	mov 24(%rsp), %eax
	echo
	mov %r15, 24(%rsp)
	pop %rax
	add $16, %rsp
	iretq
	.endm

#endif /* KHVT_FAULTING_H */
