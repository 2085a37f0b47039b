/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The benchmark's guest: real-mode code, copied by the host program to
 * BENCH_GUEST_LOAD and entered with CS = 0, IP = load + entry offset and
 * the iteration count in ESI.  Both loops count ESI down to zero, report
 * the end with an OUT to BENCH_PORT_DONE and stop with HLT, so the host sees
 * exactly N exits of the kind being measured plus two.
 *
 * The bytes are data for the host (they run inside the guest only), hence
 * an allocatable, non-executable section.
 */
#include "guest.h"

	.section .rodata.khv_bench_guest, "a"
	.code16

	.globl khv_bench_guest
	.globl khv_bench_guest_cpuid
	.globl khv_bench_guest_io
	.globl khv_bench_guest_end

khv_bench_guest:

/* (a) CPUID: an exit the hypervisor's kernel part handles on its own. */
khv_bench_guest_cpuid:
1:	xorl	%eax, %eax		/* leaf 0; CPUID overwrites EAX..EDX */
	cpuid
	decl	%esi
	jnz	1b
	outb	%al, $BENCH_PORT_DONE
2:	hlt
	jmp	2b

/* (b) OUT: an exit that goes all the way to the userspace VMM and back. */
khv_bench_guest_io:
	xorb	%al, %al
1:	outb	%al, $BENCH_PORT_LOOP
	decl	%esi
	jnz	1b
	outb	%al, $BENCH_PORT_DONE
2:	hlt
	jmp	2b

khv_bench_guest_end:

	.section .note.GNU-stack, "", @progbits
