/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guests of the irqchip test: 64-bit code that programs the in-kernel
 * local APIC (xAPIC page at 0xfee00000, x2APIC MSRs), IOAPIC (0xfec00000),
 * PIC and PIT, and takes their interrupts.  Each entry point is one test;
 * it marks its steps on PORT_MARK (the host acts there: raises a line,
 * sends an MSI) and reports results on PORT_ECHO.  Every interrupt handler
 * reports its vector on PORT_IRQ, counts it in cnt[vector] (GUEST_DATA,
 * 32-bit counters), sends the EOI (the local APIC's, or the PIC's when
 * EOI_MODE is 1) and returns.
 *
 * Registers: r15 = local APIC page, r14 = IOAPIC page, for every entry.
 */
#include "asm.h"

#define PORT_IRQ	0x52
#define CNT(v)		(GUEST_DATA + 4 * (v))
#define EOI_MODE	(GUEST_DATA + 0x400)
#define DEADLINE	(GUEST_DATA + 0x410)	/* the last TSC deadline armed */
#define TSC_AT(v)	(GUEST_DATA + 0x2000 + 8 * (v))

#define APIC_ID		0x20
#define APIC_TPR	0x80
#define APIC_LDR	0xd0
#define APIC_EOI	0xb0
#define APIC_SVR	0xf0
#define APIC_ISR	0x100
#define APIC_ICR	0x300
#define APIC_ICR2	0x310
#define APIC_LVTT	0x320
#define APIC_LINT0	0x350
#define APIC_TMICT	0x380
#define APIC_TMCCT	0x390
#define APIC_TDCR	0x3e0

	.macro mark n
	mov $\n, %eax
	out %eax, $PORT_MARK
	.endm

	/* Report a 32-bit value (in eax) to the host. */
	.macro echo
	out %eax, $PORT_ECHO
	.endm

	.macro echo_cnt v
	mov CNT(\v), %eax
	out %eax, $PORT_ECHO
	.endm

	/* Sleep in HLT until cnt[v] >= n; STI's shadow covers the HLT. */
	.macro wait_for v, n
1:	cli
	cmpl $\n, CNT(\v)
	jae 2f
	sti
	hlt
	jmp 1b
2:	sti
	.endm

	.macro ioapic_write reg, val
	movl $\reg, (%r14)
	movl $\val, 0x10(%r14)
	.endm

	.macro ioapic_read reg
	movl $\reg, (%r14)
	mov 0x10(%r14), %eax
	.endm

	.macro handler v
MARK(irq_vec_\v)
	push $\v
	jmp irq_common
	.endm

PAYLOAD_BEGIN(irqchip_guest)
	.code64

/* One-shot, periodic and TSC-deadline timer interrupts, each after HLT. */
MARK(irq_timer)
	movl $0x1ff, APIC_SVR(%r15)		/* enabled, spurious vector 0xff */
	movl $0xb, APIC_TDCR(%r15)		/* divide by 1 */
	movl $0x40, APIC_LVTT(%r15)		/* one-shot, vector 0x40 */
	movl $2000000, APIC_TMICT(%r15)	/* 2 ms */
	wait_for 0x40, 1
	echo_cnt 0x40
	mov APIC_TMCCT(%r15), %eax		/* expired: 0 */
	echo
	mark 1
	movl $0x20041, APIC_LVTT(%r15)		/* periodic, vector 0x41 */
	movl $1000000, APIC_TMICT(%r15)	/* 1 ms */
	wait_for 0x41, 5
	movl $0x10041, APIC_LVTT(%r15)		/* masked */
	movl $0, APIC_TMICT(%r15)		/* stopped */
	echo_cnt 0x41
	mark 2
	movl $0x40042, APIC_LVTT(%r15)		/* TSC deadline, vector 0x42 */
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	add $3000000, %rax
	mov %rax, %rdx
	shr $32, %rdx
	mov $0x6e0, %ecx
	wrmsr
	wait_for 0x42, 1
	echo_cnt 0x42
	xor %eax, %eax
	xor %edx, %edx
	mov $0x6e0, %ecx
	rdmsr					/* 0 once fired */
	echo
	mark 99

/*
 * Save and restore: a periodic timer (vector 0x41, 20 ms) keeps running
 * while the host moves the vCPU and the irqchip into a new VM at mark 1.
 */
MARK(irq_state)
	movl $0x1ff, APIC_SVR(%r15)
	movl $0xb, APIC_TDCR(%r15)		/* divide by 1 */
	movl $0x20041, APIC_LVTT(%r15)		/* periodic, vector 0x41 */
	movl $20000000, APIC_TMICT(%r15)	/* 20 ms */
	wait_for 0x41, 2
	mark 1					/* host: into a new VM */
	mov APIC_TMCCT(%r15), %eax		/* counting on in the new VM */
	echo
	mov APIC_LVTT(%r15), %eax
	echo
	wait_for 0x41, 4
	mark 99

/* IOAPIC pin 5 edge (vector 0x50), pin 6 level (0x51), remote IRR. */
MARK(irq_ioapic)
	movl $0x1ff, APIC_SVR(%r15)
	ioapic_write 0x1a, 0x50			/* pin 5: fixed, edge, physical */
	ioapic_write 0x1b, 0			/* to APIC 0 */
	ioapic_write 0x1c, 0x8051		/* pin 6: level */
	ioapic_write 0x1d, 0
	sti
	mark 1					/* host: pin 5 edge */
	wait_for 0x50, 1
	echo_cnt 0x50
	mark 2					/* host: pin 6 up; down at the 0x51 PORT_IRQ */
	wait_for 0x51, 1
	ioapic_read 0x1c			/* remote IRR (bit 14) clear after the EOI */
	echo
	echo_cnt 0x51
	ioapic_read 0x01			/* version register */
	echo
	mark 99

/* The PIC through LINT0 in ExtINT mode: IRQ 3 at vector 0x23, PIC EOI. */
MARK(irq_pic)
	movl $1, EOI_MODE
	movl $0x1ff, APIC_SVR(%r15)
	movl $0x700, APIC_LINT0(%r15)		/* ExtINT, unmasked */
	mov $0x11, %al				/* ICW1: edge, cascade, ICW4 */
	out %al, $0x20
	out %al, $0xa0
	mov $0x20, %al				/* ICW2: vector bases */
	out %al, $0x21
	mov $0x28, %al
	out %al, $0xa1
	mov $0x04, %al				/* ICW3: slave on IR2 */
	out %al, $0x21
	mov $0x02, %al
	out %al, $0xa1
	mov $0x01, %al				/* ICW4: 8086 mode */
	out %al, $0x21
	out %al, $0xa1
	mov $0xf7, %al				/* only IRQ 3 */
	out %al, $0x21
	mov $0xff, %al
	out %al, $0xa1
	in $0x21, %al				/* the mask reads back */
	movzbl %al, %eax
	echo
	sti
	mark 1					/* host: IRQ 3 edge */
	wait_for 0x23, 1
	echo_cnt 0x23
	mov $0x0b, %al				/* OCW3: read ISR */
	out %al, $0x20
	in $0x20, %al
	movzbl %al, %eax
	echo
	/* Cascade: IRQ 10 on the slave's IR2, through the master's IR2. */
	mov $0xf3, %al				/* master: IRQ 2 (the slave) and 3 */
	out %al, $0x21
	mov $0xfb, %al				/* slave: only IR2, IRQ 10 */
	out %al, $0xa1
	movl $3, EOI_MODE			/* EOI to the slave, then the master */
	mark 2					/* host: IRQ 10 edge */
	wait_for 0x2a, 1
	echo_cnt 0x2a
	mov $0x0b, %al				/* slave ISR, after its EOI */
	out %al, $0xa0
	in $0xa0, %al
	movzbl %al, %eax
	echo
	mark 99

/*
 * TPR masking through CR8: a self-IPI below the TPR's class waits in IRR;
 * lowering CR8 (no exit on AMD-V, where it is V_TPR) lets it in before
 * the next instruction.  With TPR_VIA_PAGE set (QEMU's TCG, which aborts
 * on a nested guest's CR8 write while a virtual interrupt is armed:
 * testing.rst) the TPR is lowered through the APIC page instead.
 */
#define TPR_VIA_PAGE	(GUEST_DATA + 0x408)

MARK(irq_tpr)
	movl $0x1ff, APIC_SVR(%r15)
	sti
	mov $7, %eax
	mov %rax, %cr8				/* TPR 0x70 */
	movl $0x40061, APIC_ICR(%r15)		/* self, vector 0x61 */
	mov CNT(0x61), %eax			/* held back */
	echo
	mov APIC_TPR(%r15), %eax
	echo
	xor %eax, %eax
	cmpl $1, TPR_VIA_PAGE
	je 1f
	mov %rax, %cr8
	jmp 2f
1:	mov %eax, APIC_TPR(%r15)
2:	mov CNT(0x61), %eax			/* taken */
	echo
	mark 99

/*
 * Every timer mode against the host's clock, and two timers in expiry
 * order: the PIT's one-shot (mode 0, 2 ms, vector 0x30 through IOAPIC pin
 * 2) before the APIC's one-shot (6 ms, 0x40) armed at the same time (a
 * guest that runs only after both finds them pending and takes the higher
 * vector first).  Then five ticks of a 1 ms
 * periodic timer, then a TSC deadline r13 cycles ahead (the host's 3 ms),
 * whose handler must not start before it (TSC_AT, however early the host
 * timer fired: timer_advance_ns).
 */
MARK(irq_timer_order)
	movl $0x1ff, APIC_SVR(%r15)
	ioapic_write 0x14, 0x30			/* pin 2 = ISA IRQ 0: vector 0x30 */
	ioapic_write 0x15, 0
	movl $0xb, APIC_TDCR(%r15)		/* divide by 1 */
	movl $0x40, APIC_LVTT(%r15)		/* one-shot, vector 0x40 */
	mov $0x30, %al				/* PIT channel 0, LSB then MSB, mode 0 */
	out %al, $0x43
	mark 1					/* host: the clock starts */
	movl $6000000, APIC_TMICT(%r15)	/* 6 ms */
	mov $0x52, %al				/* 2386: 2 ms */
	out %al, $0x40
	mov $0x09, %al
	out %al, $0x40
	/*
	 * Both, whatever the order: a guest delayed more than 4 ms between
	 * the two writes above (a loaded host) sees the APIC's first.
	 */
	wait_for 0x40, 1
	wait_for 0x30, 1
	ioapic_write 0x14, 0x10030		/* masked */
	mark 2
	movl $0x20041, APIC_LVTT(%r15)		/* periodic, vector 0x41 */
	movl $1000000, APIC_TMICT(%r15)	/* 1 ms */
	wait_for 0x41, 5
	movl $0x10041, APIC_LVTT(%r15)
	movl $0, APIC_TMICT(%r15)
	mark 3
	movl $0x40042, APIC_LVTT(%r15)		/* TSC deadline, vector 0x42 */
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	add %r13, %rax
	mov %rax, DEADLINE
	mov %rax, %rdx
	shr $32, %rdx
	mov $0x6e0, %ecx
	wrmsr
	wait_for 0x42, 1
	mark 99

/* Halt polling: 20 ticks of an 800 us periodic timer, each waited for in HLT. */
MARK(irq_poll)
	movl $0x1ff, APIC_SVR(%r15)
	movl $0xb, APIC_TDCR(%r15)		/* divide by 1 */
	movl $0x20041, APIC_LVTT(%r15)		/* periodic, vector 0x41 */
	movl $800000, APIC_TMICT(%r15)		/* 800 us */
	wait_for 0x41, 20
	movl $0x10041, APIC_LVTT(%r15)		/* masked */
	movl $0, APIC_TMICT(%r15)		/* stopped */
	mark 99

/* MSIs from the host (vector 0x61). */
MARK(irq_msi)
	movl $0x1ff, APIC_SVR(%r15)
	sti
	mark 1					/* host: KHV_SIGNAL_MSI */
	wait_for 0x61, 1
	echo_cnt 0x61
	mark 99

/* IPIs to self: xAPIC self and all-including-self shorthands, x2APIC SELF_IPI. */
MARK(irq_ipi)
	movl $0x1ff, APIC_SVR(%r15)
	sti
	movl $0, APIC_ICR2(%r15)
	movl $0x40070, APIC_ICR(%r15)		/* self, fixed, vector 0x70 */
	wait_for 0x70, 1
	movl $0x80071, APIC_ICR(%r15)		/* all including self */
	wait_for 0x71, 1
	movl $0, APIC_ICR2(%r15)		/* destination APIC 0 */
	movl $0x00072, APIC_ICR(%r15)		/* physical, fixed, vector 0x72 */
	wait_for 0x72, 1
	mov $0x1b, %ecx				/* to x2APIC mode */
	rdmsr
	or $0xc00, %eax
	wrmsr
	mov $0x83f, %ecx			/* SELF_IPI, vector 0x73 */
	mov $0x73, %eax
	xor %edx, %edx
	wrmsr
	wait_for 0x73, 1
	mov $0x802, %ecx			/* x2APIC ID */
	rdmsr
	echo
	mark 99

/* The PIT's channel 0 in mode 2 at 1 kHz, through IOAPIC pin 2 (vector 0x30). */
MARK(irq_pit)
	movl $0x1ff, APIC_SVR(%r15)
	ioapic_write 0x14, 0x30			/* pin 2 = ISA IRQ 0 */
	ioapic_write 0x15, 0
	mov $0x34, %al				/* channel 0, LSB then MSB, mode 2 */
	out %al, $0x43
	mov $0xa9, %al				/* 1193: 1 ms */
	out %al, $0x40
	mov $0x04, %al
	out %al, $0x40
	wait_for 0x30, 5
	ioapic_write 0x14, 0x10030		/* masked */
	echo_cnt 0x30
	mark 99

/*
 * Hostile timers: a periodic timer of one tick (khv clamps it to 200 us)
 * and a TSC deadline of 2^64-1 (never due; the host's timer must not
 * spin on it).
 */
MARK(irq_hostile_timer)
	movl $0x1ff, APIC_SVR(%r15)
	movl $0xb, APIC_TDCR(%r15)
	movl $0x20041, APIC_LVTT(%r15)		/* periodic, vector 0x41 */
	movl $1, APIC_TMICT(%r15)		/* 1 ns */
	wait_for 0x41, 20
	movl $0x10041, APIC_LVTT(%r15)
	movl $0, APIC_TMICT(%r15)
	echo_cnt 0x41
	movl $0x40042, APIC_LVTT(%r15)		/* TSC deadline, vector 0x42 */
	mov $0x6e0, %ecx
	mov $-1, %eax
	mov $-1, %edx
	wrmsr
	sti
	mov $200000, %ecx
1:	dec %ecx				/* interrupts open meanwhile */
	jnz 1b
	echo_cnt 0x42
	mark 99

/*
 * More of what a hostile guest does: 20000 ICR writes to all including
 * self with interrupts off (they coalesce into one), the APIC page moved
 * to an MMIO hole and over RAM, and a level-triggered pin (7, vector 0x77)
 * whose handler never sends an EOI while the host keeps the line up.
 */
MARK(irq_hostile_misc)
	movl $0x1ff, APIC_SVR(%r15)
	cli
	/*
	 * 5000 broadcasts: a storm all the same, and one that ends within the
	 * harness's 10 s in a QEMU lane that shares two cores with five other
	 * emulators (20000 took 15 s there once the khvrun lane came).
	 */
	mov $5000, %ecx
1:	movl $0x80071, APIC_ICR(%r15)		/* all including self, 0x71 */
	dec %ecx
	jnz 1b
	wait_for 0x71, 1
	echo_cnt 0x71				/* 1: coalesced */
	mov $0x1b, %ecx				/* the APIC page to 0xfed00000 */
	mov $0xfed00900, %eax
	xor %edx, %edx
	wrmsr
	mov $0xfed00000, %r15d			/* the handlers' EOI goes there too */
	movl $0x40074, APIC_ICR(%r15)		/* self IPI through the new page */
	wait_for 0x74, 1
	echo_cnt 0x74
	cli					/* no handler runs while the page is RAM */
	mov $0x1b, %ecx				/* over RAM: RAM wins */
	mov $(GUEST_DATA + 0x1000 + 0x900), %eax
	xor %edx, %edx
	wrmsr
	mov $(GUEST_DATA + 0x1000), %r13d
	movl $0x12345678, APIC_TPR(%r13)
	mov APIC_TPR(%r13), %eax
	echo					/* 0x12345678: memory */
	mov $0x1b, %ecx				/* back home */
	mov $0xfee00900, %eax
	wrmsr
	mov $0xfee00000, %r15d
	sti
	movl $2, EOI_MODE			/* handlers send no EOI */
	ioapic_write 0x1e, 0x8077		/* pin 7: level, vector 0x77 */
	ioapic_write 0x1f, 0
	mark 1					/* host: pin 7 up, for good */
	mov $200000, %ecx
2:	dec %ecx				/* interrupts open meanwhile */
	jnz 2b
	echo_cnt 0x77				/* 1: remote IRR holds it */
	mark 99

/* x2APIC MSRs in xAPIC mode: #GP (to the default stub, PORT_EXC). */
MARK(irq_x2apic_gp)
	mov $0x802, %ecx
	rdmsr
	mark 99

/*
 * Starting an application processor as Linux does: INIT (level assert),
 * then SIPI twice, to APIC 1, the trampoline at page 0x09 (the host copies
 * irq_ap_tramp there).  The ICR's delivery status reads idle after each.
 */
MARK(irq_smp)
	movl $0x1ff, APIC_SVR(%r15)
	movl $(1 << 24), APIC_ICR2(%r15)
	movl $0x4500, APIC_ICR(%r15)		/* INIT, level assert */
	mov APIC_ICR(%r15), %eax
	and $0x1000, %eax			/* delivery status */
	echo
	movl $(1 << 24), APIC_ICR2(%r15)
	movl $0x0609, APIC_ICR(%r15)		/* SIPI, vector 0x09 */
	movl $(1 << 24), APIC_ICR2(%r15)
	movl $0x0609, APIC_ICR(%r15)		/* the second SIPI: ignored */
	mark 99

/*
 * IPIs between two vCPUs.  vCPU 1 (irq_ipi_target) takes logical ID bit 1
 * (flat model), says it is ready and waits for a fixed IPI (0x74), a
 * logical one (0x75), an all-but-self broadcast (0x76) and an NMI; vCPU 0
 * (irq_ipi_source) sends them.
 */
#define AP_READY	(GUEST_DATA + 0x404)

MARK(irq_ipi_target)
	movl $0x1ff, APIC_SVR(%r15)
	movl $0x02000000, APIC_LDR(%r15)	/* logical ID: bit 1 */
	movl $1, AP_READY
	wait_for 0x74, 1
	wait_for 0x75, 1
	wait_for 0x76, 1
	wait_for 0x02, 1			/* the NMI (not held by IF) */
	mark 98

MARK(irq_ipi_source)
	movl $0x1ff, APIC_SVR(%r15)
	sti
1:	pause
	cmpl $1, AP_READY
	jne 1b
	movl $(1 << 24), APIC_ICR2(%r15)
	movl $0x00074, APIC_ICR(%r15)		/* fixed, physical APIC 1 */
	movl $(2 << 24), APIC_ICR2(%r15)
	movl $0x00875, APIC_ICR(%r15)		/* fixed, logical 0x02 */
	movl $0xc0076, APIC_ICR(%r15)		/* fixed, all but self */
	movl $(1 << 24), APIC_ICR2(%r15)
	movl $0x00400, APIC_ICR(%r15)		/* NMI to APIC 1 */
	mark 99

/* The AP's first code: real mode at 0900:0000; reports CS on port 0x53. */
	.code16
MARK(irq_ap_tramp)
	mov %cs, %ax
	out %ax, $0x53
	cli
1:	hlt
	jmp 1b
MARK(irq_ap_tramp_end)
	.code64

/*
 * Doorbells (ioeventfd): an OUT of 0x1234 to PORT_ECHO and a store to
 * GUEST_MMIO that the host's ioeventfds take in the kernel; an OUT of
 * another value goes to the host as usual.
 */
MARK(irq_doorbell)
	mov $0x1234, %eax
	echo
	mov $0x5678, %eax
	echo
	mov $GUEST_MMIO, %edx
	movl $7, (%rdx)
	mark 99

/*
 * An interrupt pending at a HLT in an STI shadow: the HLT runs first, the
 * interrupt wakes it, so the handler of vector 0x62 returns after the HLT.
 * The host sets that state at mark 1 (RIP at irq_shadow_hlt, RFLAGS.IF,
 * shadow, an MSI); the handler stores the RIP it interrupted.
 */
#define SHADOW_RIP	(GUEST_DATA + 0x418)
MARK(irq_shadow)
	movl $0x1ff, APIC_SVR(%r15)
	cli
	mark 1
MARK(irq_shadow_hlt)
	hlt
	mark 99

/*
 * The same at the head of a spin loop: RIP at irq_shadow_spin, RFLAGS.IF,
 * shadow, an MSI; the loop ends once the handler has stored a RIP.
 */
MARK(irq_shadow_spin)
	cmpq $0, SHADOW_RIP
	je irq_shadow_spin
	mark 99

MARK(irq_vec_0x62)
	push %rax
	mov 8(%rsp), %rax			/* the RIP it interrupted */
	mov %rax, SHADOW_RIP
	movl $0, APIC_EOI(%r15)
	pop %rax
	iretq

/* HLT with nothing to wake it (RFLAGS.IF set): sleeps until a signal. */
MARK(irq_hlt)
	sti
1:	hlt
	jmp 1b

	handler 0x02
	handler 0x23
	handler 0x2a
	handler 0x30
	handler 0x40
	handler 0x41
	handler 0x42
	handler 0x50
	handler 0x51
	handler 0x61
	handler 0x70
	handler 0x71
	handler 0x72
	handler 0x73
	handler 0x74
	handler 0x75
	handler 0x76
	handler 0x77

irq_common:
	push %rax
	push %rcx
	push %rdx
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov 24(%rsp), %eax			/* vector */
	mov %rdx, TSC_AT(0)(,%rax,8)		/* the TSC as the handler starts */
	out %eax, $PORT_IRQ
	incl CNT(0)(,%rax,4)
	cmpl $1, EOI_MODE
	je 1f
	cmpl $2, EOI_MODE
	je 3f
	cmpl $3, EOI_MODE
	je 4f
	mov $0x1b, %ecx				/* x2APIC mode: the EOI MSR */
	rdmsr
	test $0x400, %eax
	jnz 2f
	movl $0, APIC_EOI(%r15)
	jmp 3f
1:	mov $0x20, %al				/* non-specific EOI to the master */
	out %al, $0x20
	jmp 3f
2:	mov $0x80b, %ecx
	xor %eax, %eax
	xor %edx, %edx
	wrmsr
	jmp 3f
4:	mov $0x20, %al				/* the slave's EOI, then the master's */
	out %al, $0xa0
	out %al, $0x20
3:	pop %rdx
	pop %rcx
	pop %rax
	add $8, %rsp
	iretq
PAYLOAD_END(irqchip_guest)
