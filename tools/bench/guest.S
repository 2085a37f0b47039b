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
	.globl khv_bench_guest_dirty
	.globl khv_bench_guest_dirty_sparse
	.globl khv_bench_guest_timer
	.globl khv_bench_guest_hlt_timer
	.globl khv_bench_guest_ipi
	.globl khv_bench_guest_ipi_ap
	.globl khv_bench_guest_msi
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

/*
 * (c) The dirty log: a byte written in each page of the logged slot, then
 * an OUT, where the host gets the log (it must name every page).  The
 * first write to a page after a get costs a second-level fault where the
 * log write-protects; the CPU's dirty flags cost none.
 */
khv_bench_guest_dirty:
	xorb	%al, %al
1:	movw	$(BENCH_DIRTY_GPA >> 4), %bx
	movw	$BENCH_DIRTY_PAGES, %cx
2:	movw	%bx, %es
	movb	%cl, %es:0
	addw	$(4096 >> 4), %bx	/* the next page */
	loop	2b
	outb	%al, $BENCH_PORT_LOOP
	decl	%esi
	jnz	1b
	outb	%al, $BENCH_PORT_DONE
2:	hlt
	jmp	2b

/*
 * (d) The dirty log of a large guest that writes little: a byte in one page
 * of every BENCH_SPARSE_STRIDE of the BENCH_SPARSE_PAGES at
 * BENCH_SPARSE_GPA, then the OUT where the host gets the log (it must name
 * exactly those pages).  The slot is above 1 MiB: ES is loaded in
 * protected mode with a flat 4 GiB descriptor and keeps that limit back in
 * real mode ("unreal" mode), where 32-bit addresses then reach it.
 */
khv_bench_guest_dirty_sparse:
	cli
	lgdtl	%cs:(sparse_gdtr - khv_bench_guest + BENCH_GUEST_LOAD)
	movl	%cr0, %eax
	orb	$1, %al
	movl	%eax, %cr0
	movw	$8, %bx			/* sparse_gdt's flat data descriptor */
	movw	%bx, %es
	andb	$0xfe, %al
	movl	%eax, %cr0
	xorw	%bx, %bx		/* base 0 again; the 4 GiB limit stays */
	movw	%bx, %es
	xorb	%al, %al
1:	movl	$BENCH_SPARSE_GPA, %ebx
	movl	$BENCH_SPARSE_WRITTEN, %ecx
2:	movb	%cl, %es:(%ebx)
	addl	$(BENCH_SPARSE_STRIDE * 4096), %ebx
	decl	%ecx
	jnz	2b
	outb	%al, $BENCH_PORT_LOOP
	decl	%esi
	jnz	1b
	outb	%al, $BENCH_PORT_DONE
3:	hlt
	jmp	3b

	.balign	8
sparse_gdt:
	.quad	0
	.quad	0x00cf92000000ffff	/* data: base 0, limit 4 GiB, writable */
sparse_gdtr:
	.word	15
	.long	sparse_gdt - khv_bench_guest + BENCH_GUEST_LOAD

/*
 * The interrupt loops, in a VM with the in-kernel irqchip.  Each one sets
 * up its APIC, reports BENCH_PORT_READY (the host starts timing there),
 * takes N interrupts and reports BENCH_PORT_DONE with interrupts off.  No
 * other exit reaches the host: the handlers EOI through the x2APIC EOI MSR
 * and count in BENCH_VAR_COUNT*, which the host checks afterwards.
 */

/* The guest-physical address of a label: the payload runs at LOAD, CS = 0. */
#define GPA(label)	((label) - khv_bench_guest + BENCH_GUEST_LOAD)

.macro	wrmsr_imm msr, lo, hi=0
	movl	$\msr, %ecx
	movl	$\lo, %eax
	movl	$\hi, %edx
	wrmsr
.endm

.macro	set_ivt vec, isr
	movw	$GPA(\isr), (\vec * 4)
	movw	$0, (\vec * 4 + 2)
.endm

/* Fixed IPI, physical destination, level assert (x2APIC ICR). */
.macro	send_ipi dest, vec
	wrmsr_imm MSR_X2APIC_ICR, (0x4000 | \vec), \dest
.endm

/* Wait with HLT until \var reaches \reg (interrupts off on return). */
.macro	hlt_until var, reg
.Lwait\@:
	cmpl	\reg, \var
	jae	.Lwoken\@
	sti			/* the STI shadow covers the HLT: no lost wake-up */
	hlt
	cli
	jmp	.Lwait\@
.Lwoken\@:
.endm

/*
 * x2APIC on (IA32_APIC_BASE.EXTD), the APIC software-enabled (SVR bit 8,
 * spurious vector 0xff).  CPUID must offer x2APIC, or nothing here works;
 * then the loop reports BENCH_FAIL_NO_X2APIC.  Clobbers EAX-EDX.
 */
apic_setup:
	movl	$1, %eax
	cpuid
	testl	$(1 << 21), %ecx
	jz	no_x2apic
	movl	$MSR_APIC_BASE, %ecx
	rdmsr
	orl	$0xc00, %eax	/* EN | EXTD */
	wrmsr
	wrmsr_imm MSR_X2APIC_SVR, 0x1ff
	ret
no_x2apic:
	movb	$BENCH_FAIL_NO_X2APIC, %al
fail:
	outb	%al, $BENCH_PORT_FAIL
1:	cli
	hlt
	jmp	1b

/*
 * (c) timer: a one-shot APIC timer of 1 tick (divide by 1), then spin
 * until its handler ran: the cost of arming, delivering and EOI-ing one
 * timer interrupt, with the vCPU running all the time.
 */
khv_bench_guest_timer:
	cli
	call	apic_setup
	set_ivt	BENCH_VEC_TIMER, timer_isr
	wrmsr_imm MSR_X2APIC_TDCR, 0xb			/* divide by 1 */
	wrmsr_imm MSR_X2APIC_LVTT, BENCH_VEC_TIMER	/* one-shot, unmasked */
	movl	$0, BENCH_VAR_COUNT0
	xorl	%edi, %edi
	outb	%al, $BENCH_PORT_READY
	sti
1:	incl	%edi
	wrmsr_imm MSR_X2APIC_TMICT, 1
2:	cmpl	%edi, BENCH_VAR_COUNT0
	jne	2b
	decl	%esi
	jnz	1b
	cli
	outb	%al, $BENCH_PORT_DONE
	jmp	fail

timer_isr:
	pushl	%eax
	pushl	%ecx
	pushl	%edx
	wrmsr_imm MSR_X2APIC_EOI, 0
	incl	BENCH_VAR_COUNT0
	popl	%edx
	popl	%ecx
	popl	%eax
	iret

/*
 * (d) hlt-timer: TSC-deadline mode, a deadline BENCH_VAR_DELAY cycles
 * ahead, then HLT until the handler ran.  The arming and the HLT exit
 * happen while the delay runs; what is left per iteration beyond the delay
 * is the wake-up: the host timer, waking the sleeping vCPU thread, the
 * injection, the handler and its EOI.  An iteration whose deadline had
 * already passed just before the HLT is counted in BENCH_VAR_LATE.
 */
khv_bench_guest_hlt_timer:
	cli
	call	apic_setup
	movl	$1, %eax
	cpuid
	testl	$(1 << 24), %ecx
	movb	$BENCH_FAIL_NO_DEADLINE, %al
	jz	fail
	set_ivt	BENCH_VEC_TIMER, timer_isr
	wrmsr_imm MSR_X2APIC_LVTT, (BENCH_VEC_TIMER | (2 << 17))	/* TSC deadline */
	movl	$0, BENCH_VAR_COUNT0
	movl	$0, BENCH_VAR_LATE
	xorl	%edi, %edi
	outb	%al, $BENCH_PORT_READY
1:	incl	%edi
	rdtsc
	addl	BENCH_VAR_DELAY, %eax
	adcl	BENCH_VAR_DELAY + 4, %edx
	movl	%eax, %ebx		/* EBP:EBX = the deadline */
	movl	%edx, %ebp
	movl	$MSR_TSC_DEADLINE, %ecx
	wrmsr
	rdtsc
	subl	%ebx, %eax
	sbbl	%ebp, %edx
	jc	2f			/* TSC < deadline: in time */
	incl	BENCH_VAR_LATE
2:	hlt_until BENCH_VAR_COUNT0, %edi
	decl	%esi
	jnz	1b
	outb	%al, $BENCH_PORT_DONE
	jmp	fail

/*
 * (e) ipi: vCPU 0 and vCPU 1 (entered at khv_bench_guest_ipi_ap, its own
 * stack and host thread) send each other fixed IPIs, x2APIC physical
 * destination; each waits for the other's in HLT (so that it also works
 * with one host CPU), and answers after its handler ran.  vCPU 1 starts
 * when vCPU 0 is set up (the host releases it at vCPU 0's READY) and
 * announces itself with one IPI, so vCPU 0 counts N + 1 and vCPU 1 N.
 */
khv_bench_guest_ipi:
	cli
	call	apic_setup
	set_ivt	BENCH_VEC_IPI0, ipi0_isr
	set_ivt	BENCH_VEC_IPI1, ipi1_isr
	movl	$0, BENCH_VAR_COUNT0
	movl	$0, BENCH_VAR_COUNT1
	outb	%al, $BENCH_PORT_READY
	movl	$1, %edi
	hlt_until BENCH_VAR_COUNT0, %edi	/* vCPU 1 is up */
1:	incl	%edi
	send_ipi 1, BENCH_VEC_IPI1
	hlt_until BENCH_VAR_COUNT0, %edi
	decl	%esi
	jnz	1b
	outb	%al, $BENCH_PORT_DONE
	jmp	fail

khv_bench_guest_ipi_ap:
	cli
	call	apic_setup
	xorl	%edi, %edi
	send_ipi 0, BENCH_VEC_IPI0		/* up */
1:	incl	%edi
	hlt_until BENCH_VAR_COUNT1, %edi
	send_ipi 0, BENCH_VEC_IPI0
	decl	%esi
	jnz	1b
	outb	%al, $BENCH_PORT_DONE
	jmp	fail

ipi0_isr:
	pushl	%eax
	pushl	%ecx
	pushl	%edx
	wrmsr_imm MSR_X2APIC_EOI, 0
	incl	BENCH_VAR_COUNT0
	popl	%edx
	popl	%ecx
	popl	%eax
	iret

ipi1_isr:
	pushl	%eax
	pushl	%ecx
	pushl	%edx
	wrmsr_imm MSR_X2APIC_EOI, 0
	incl	BENCH_VAR_COUNT1
	popl	%edx
	popl	%ecx
	popl	%eax
	iret

/*
 * (f) msi: a host thread signals an irqfd (MSI to APIC 0); the handler
 * EOIs and rings the doorbell port, whose ioeventfd the host thread waits
 * on before it signals again.  vCPU 0 sits in HLT in between: no exit
 * reaches its thread until the N-th interrupt.
 */
khv_bench_guest_msi:
	cli
	call	apic_setup
	set_ivt	BENCH_VEC_MSI, msi_isr
	movl	$0, BENCH_VAR_COUNT0
	outb	%al, $BENCH_PORT_READY
	hlt_until BENCH_VAR_COUNT0, %esi
	outb	%al, $BENCH_PORT_DONE
	jmp	fail

msi_isr:
	pushl	%eax
	pushl	%ecx
	pushl	%edx
	wrmsr_imm MSR_X2APIC_EOI, 0
	incl	BENCH_VAR_COUNT0
	outb	%al, $BENCH_PORT_DOORBELL
	popl	%edx
	popl	%ecx
	popl	%eax
	iret

khv_bench_guest_end:

	.section .note.GNU-stack, "", @progbits
