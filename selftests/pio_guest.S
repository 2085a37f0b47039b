/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Port I/O, the same sequence in real mode and in long mode (pio.c checks
 * each step in order):
 *   OUT 1/2/4 bytes (imm8 and DX ports), IN 1/2/4 bytes echoed back with the
 *   register bits IN must leave alone, then string I/O: REP OUTSB/W/D and a
 *   single OUTSB from GUEST_DATA, REP INSB/W/D into GUEST_DATA, each followed
 *   by a report of the count and index registers.
 */
#include "asm.h"

/* ---- long mode ---------------------------------------------------------- */
	.macro report64 reg
	mov \reg, %rax
	out %eax, $PORT_ECHO
	shr $32, %rax
	out %eax, $PORT_ECHO
	.endm

	.macro str64 insn, idx, n, port
	mov $GUEST_DATA, \idx
	mov $\n, %ecx
	mov $\port, %edx
	rep \insn
	report64 %rcx
	report64 \idx
	.endm

PAYLOAD_BEGIN(pio_long)
	.code64
	cld
	mov $0x12, %al
	out %al, $PORT_OUT8
	mov $0x3456, %ax
	mov $PORT_DX_OUT16, %edx
	out %ax, %dx
	mov $0x89abcdef, %eax
	mov $PORT_DX_OUT32, %edx
	out %eax, %dx

	movabs $0x11223344aabbcc00, %rax
	in $PORT_IN8, %al		/* bits 8..63 stay */
	report64 %rax
	movabs $0x5566778811223344, %rax
	mov $PORT_DX_IN16, %edx
	in %dx, %ax			/* bits 16..63 stay */
	report64 %rax
	mov $-1, %rax
	mov $PORT_DX_IN32, %edx
	in %dx, %eax			/* bits 32..63 are cleared */
	report64 %rax

	str64 outsb, %rsi, PIO_N_OUTSB, PORT_STR_OUTB
	str64 outsw, %rsi, PIO_N_OUTSW, PORT_STR_OUTW
	str64 outsl, %rsi, PIO_N_OUTSL, PORT_STR_OUTL
	mov $GUEST_DATA, %esi		/* OUTSB without REP: one element */
	mov $PORT_STR_OUTB, %edx
	outsb
	report64 %rsi

	str64 insb, %rdi, PIO_N_INSB, PORT_STR_INB
	str64 insw, %rdi, PIO_N_INSW, PORT_STR_INW
	str64 insl, %rdi, PIO_N_INSL, PORT_STR_INL
	hlt
MARK(pio_long_done)
	jmp .
PAYLOAD_END(pio_long)

/* ---- real mode: 16-bit reports, 32-bit data with the 66 prefix ------------ */
	.macro str16 insn, idx, n, port
	mov $GUEST_DATA, \idx
	mov $\n, %cx
	mov $\port, %dx
	rep \insn
	mov %cx, %ax
	out %ax, $PORT_ECHO
	mov \idx, %ax
	out %ax, $PORT_ECHO
	.endm

PAYLOAD_BEGIN(pio_real)
	.code16
	cld
	mov $0x12, %al
	out %al, $PORT_OUT8
	mov $0x3456, %ax
	mov $PORT_DX_OUT16, %dx
	out %ax, %dx
	mov $0x89abcdef, %eax
	mov $PORT_DX_OUT32, %dx
	out %eax, %dx

	mov $0xaabbcc00, %eax
	in $PORT_IN8, %al
	out %eax, $PORT_ECHO
	mov $0x11223344, %eax
	mov $PORT_DX_IN16, %dx
	in %dx, %ax
	out %eax, $PORT_ECHO
	mov $0xffffffff, %eax
	mov $PORT_DX_IN32, %dx
	in %dx, %eax
	out %eax, $PORT_ECHO

	str16 outsb, %si, PIO_N_OUTSB, PORT_STR_OUTB
	str16 outsw, %si, PIO_N_OUTSW, PORT_STR_OUTW
	str16 outsl, %si, PIO_N_OUTSL, PORT_STR_OUTL
	mov $GUEST_DATA, %si
	mov $PORT_STR_OUTB, %dx
	outsb
	mov %si, %ax
	out %ax, $PORT_ECHO

	str16 insb, %di, PIO_N_INSB, PORT_STR_INB
	str16 insw, %di, PIO_N_INSW, PORT_STR_INW
	str16 insl, %di, PIO_N_INSL, PORT_STR_INL
	hlt
MARK(pio_real_done)
	jmp .
PAYLOAD_END(pio_real)
	.code64
