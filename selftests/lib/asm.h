/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for guest payloads written in GNU assembler.
 *
 * A payload is a blob of guest code bracketed by the global symbols
 * <name>_start and <name>_end.  The test copies the bytes to GUEST_CODE (or,
 * for the exception stubs, GUEST_STUBS), so a payload must not depend on
 * where the linker put it: branches are PC-relative, and an absolute guest
 * address is written GA(name, label), a difference of two symbols of the
 * same section that the assembler resolves on its own.  An absolute
 * reference to a symbol would need a relocation, which the PIE link refuses:
 * mistakes fail the build instead of the guest.
 */
#ifndef KHVT_ASM_H
#define KHVT_ASM_H

#include "guest.h"

/* Payloads are data for the host: keep them out of .text. */
#define PAYLOAD_BEGIN(name)			\
	.section .rodata.khvt_guest, "a";	\
	.balign 16;				\
	.globl name##_start;			\
	name##_start:

#define PAYLOAD_END(name)			\
	.globl name##_end;			\
	name##_end:

/* Guest address of label in payload name, loaded at GUEST_CODE. */
#define GA(name, label)		(GUEST_CODE + ((label) - name##_start))

/* A global label the C side uses to compute a guest address (PAYLOAD_GPA). */
#define MARK(label)		.globl label; label:

/* Not an executable-stack object. */
	.section .note.GNU-stack, "", @progbits

#endif /* KHVT_ASM_H */
