/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guests of the irqsmp test: four vCPUs of one VM sending each other IPIs
 * through the in-kernel local APICs (xAPIC page in r15), with no exit but
 * the marks that end each vCPU's part.  r13 holds the vCPU's APIC ID (and
 * index); r12, in the ring, the next one's.
 *
 * Every handler counts its vector twice, with locked increments because
 * all vCPUs share the page: in cnt[vector] for all of them, and in the
 * handling vCPU's own row, mine(id)[vector] (CNTV below), which the host
 * reads at the end.  Then it sends the EOI and returns.
 */
#include "asm.h"

#define CNT(v)		(GUEST_DATA + 4 * (v))
#define CNTV(v)		(GUEST_DATA + 0x400 + 4 * (v))	/* + 0x400 * id */
#define READY		(GUEST_DATA + 0x3f0)

#define APIC_TPR	0x80
#define APIC_EOI	0xb0
#define APIC_LDR	0xd0
#define APIC_SVR	0xf0
#define APIC_ICR	0x300
#define APIC_ICR2	0x310

#define RING_LAPS	50

	.macro mark n
	mov $\n, %eax
	out %eax, $PORT_MARK
	.endm

	/* An IPI: destination (register or immediate) into ICR2, then ICR. */
	.macro ipi dest, icr
	mov \dest, %eax
	shl $24, %eax
	mov %eax, APIC_ICR2(%r15)
	movl $\icr, APIC_ICR(%r15)
	.endm

	/* Sleep in HLT until this vCPU has taken vector v n times. */
	.macro wait_mine v, n
	mov %r13, %rdx
	shl $10, %rdx
1:	cli
	cmpl $\n, CNTV(\v)(%rdx)
	jae 2f
	sti
	hlt
	jmp 1b
2:	sti
	.endm

	.macro handler v
MARK(smp_vec_\v)
	push $\v
	jmp smp_common
	.endm

PAYLOAD_BEGIN(irqsmp_guest)
	.code64

/*
 * Targets (APIC IDs 1-3): logical ID bit id in the flat model, TPR class
 * id (so vCPU 1 has the lowest priority), ready; then they take what vCPU
 * 0 sends until they have had the last IPI (0x40, below the others'
 * vectors, so it is taken after everything already pending).
 */
MARK(smp_target)
	movl $0x1ff, APIC_SVR(%r15)
	mov $1, %eax
	mov %r13d, %ecx
	shl %cl, %eax
	shl $24, %eax
	mov %eax, APIC_LDR(%r15)
	mov %r13d, %eax
	shl $4, %eax
	mov %eax, APIC_TPR(%r15)
	lock incl READY
	wait_mine 0x40, 1
	mark 98

/*
 * vCPU 0, once the three targets are ready: lowest priority to logical
 * 0b1110 first (while every target is idle, so only TPR decides), fixed
 * to each physical ID, fixed to logical 0b1010, all but self, all
 * including self, an NMI to logical 0b0100, and the last IPI.
 */
MARK(smp_source)
	movl $0x1ff, APIC_SVR(%r15)
	sti
1:	pause
	cmpl $3, READY
	jne 1b
	ipi $0x0e, 0x976			/* lowest priority, logical */
	ipi $1, 0x070				/* fixed, physical */
	ipi $2, 0x071
	ipi $3, 0x072
	ipi $0x0a, 0x873			/* fixed, logical */
	movl $0xc0074, APIC_ICR(%r15)		/* all but self */
	movl $0x80075, APIC_ICR(%r15)		/* all including self */
	ipi $0x04, 0xc00			/* NMI, logical */
	movl $0xc0040, APIC_ICR(%r15)		/* the last one */
	wait_mine 0x75, 1
	mark 99

/*
 * A token passed around a ring of four by fixed IPIs (vector 0x50):
 * vCPU 0 starts it, each vCPU forwards every token it receives to r12,
 * and vCPU 0 ends the ring when its RING_LAPS-th token comes back, so
 * every vCPU receives exactly RING_LAPS of them.
 */
MARK(smp_ring)
	movl $0x1ff, APIC_SVR(%r15)
	mov %r13, %r10
	shl $10, %r10
	add $CNTV(0x50), %r10			/* my count of tokens */
	lock incl READY
1:	pause
	cmpl $4, READY
	jne 1b
	xor %ebx, %ebx				/* tokens handled */
	test %r13, %r13
	jnz 2f
	ipi %r12d, 0x050
2:	cli
	cmp %ebx, (%r10)
	ja 3f
	sti
	hlt
	jmp 2b
3:	sti
	inc %ebx
	cmp $RING_LAPS, %ebx
	jne 4f
	test %r13, %r13
	jz 5f					/* vCPU 0: the ring is done */
	ipi %r12d, 0x050			/* the others forward their last */
	jmp 5f
4:	ipi %r12d, 0x050
	jmp 2b
5:	mark 97

	handler 0x02
	handler 0x40
	handler 0x50
	handler 0x70
	handler 0x71
	handler 0x72
	handler 0x73
	handler 0x74
	handler 0x75
	handler 0x76

smp_common:
	push %rax
	push %rdx
	mov 16(%rsp), %eax			/* vector */
	lock incl CNT(0)(,%rax,4)
	mov %r13, %rdx
	shl $10, %rdx
	lock incl CNTV(0)(%rdx,%rax,4)
	cmp $2, %eax				/* an NMI has no EOI */
	je 1f
	movl $0, APIC_EOI(%r15)
1:	pop %rdx
	pop %rax
	add $8, %rsp
	iretq
PAYLOAD_END(irqsmp_guest)
