/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest of the state test's copy of a running VM: four vCPUs (r13 =
 * APIC ID, r12 = the next one's, r15 = the xAPIC page) pass a token around
 * a ring by fixed IPIs (vector 0x50) r11 times, sleeping in HLT between
 * their turns, while each one's local APIC timer interrupts it every 0.5 ms
 * (vector 0x60).  Each vCPU keeps what it has done where a copy of the VM
 * must carry it: its token count in r14 (a register), as a double in xmm0
 * (the XSAVE area), in memory (its row, as in irqsmp), and a value of its
 * own in DR0 and, where XSAVE exists, XCR0 = x87|SSE.  At the end it checks
 * that all of them agree and marks 97, or marks 96 with EAX saying which
 * check failed (1 xmm0, 2 r14, 3 memory, 4 DR0, 5 XCR0).
 */
#include "asm.h"

#define CNTV(v)		(GUEST_DATA + 0x400 + 4 * (v))	/* + 0x400 * id */
#define READY		(GUEST_DATA + 0x3f0)

#define APIC_EOI	0xb0
#define APIC_SVR	0xf0
#define APIC_ICR	0x300
#define APIC_ICR2	0x310
#define APIC_LVTT	0x320
#define APIC_TMICT	0x380
#define APIC_TDCR	0x3e0

#define ST_TIMER_NS	500000		/* divide by 1: one tick per ns */

	.macro mark n
	mov $\n, %eax
	out %eax, $PORT_MARK
	.endm

	.macro ipi dest, icr
	mov \dest, %eax
	shl $24, %eax
	mov %eax, APIC_ICR2(%r15)
	movl $\icr, APIC_ICR(%r15)
	.endm

PAYLOAD_BEGIN(state_guest)
	.code64
MARK(st_ring)
	movl $0x1ff, APIC_SVR(%r15)
	movl $0xb, APIC_TDCR(%r15)		/* divide by 1 */
	movl $0x20060, APIC_LVTT(%r15)		/* periodic, vector 0x60 */
	movl $ST_TIMER_NS, APIC_TMICT(%r15)
	mov %r13, %rax				/* DR0: this vCPU's value */
	shl $12, %rax
	add $0x7000, %rax
	mov %rax, %db0
	mov $1, %eax				/* XSAVE in CPUID: XCR0 = x87|SSE */
	cpuid
	bt $26, %ecx
	jnc 1f
	mov %cr4, %rax
	bts $18, %rax				/* OSXSAVE */
	mov %rax, %cr4
	xor %ecx, %ecx
	mov $3, %eax
	xor %edx, %edx
	xsetbv
1:	xorps %xmm0, %xmm0
	mov $1, %eax
	cvtsi2sd %eax, %xmm1			/* 1.0 */
	xor %r14d, %r14d
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
	inc %r14
	addsd %xmm1, %xmm0
	cmp %r11d, %ebx
	jne 4f
	test %r13, %r13
	jz 5f					/* vCPU 0: the ring is done */
	ipi %r12d, 0x050			/* the others forward their last */
	jmp 5f
4:	ipi %r12d, 0x050
	jmp 2b

5:	movl $0, APIC_TMICT(%r15)		/* the timer stops */
	mov $1, %ecx
	cvttsd2si %xmm0, %rax
	cmp %r11, %rax
	jne 9f
	mov $2, %ecx
	cmp %r11, %r14
	jne 9f
	mov $3, %ecx
	cmp %r11d, (%r10)
	jne 9f
	mov $4, %ecx
	mov %db0, %rax
	mov %r13, %rdx
	shl $12, %rdx
	add $0x7000, %rdx
	cmp %rdx, %rax
	jne 9f
	mov %cr4, %rax
	bt $18, %rax
	jnc 8f
	mov $5, %esi
	xor %ecx, %ecx
	xgetbv
	mov %esi, %ecx
	cmp $3, %eax
	jne 9f
8:	mark 97
9:	mov %ecx, %eax
	out %eax, $PORT_ECHO
	mark 96

MARK(st_vec_0x50)
	push $0x50
	jmp st_common
MARK(st_vec_0x60)
	push $0x60
	jmp st_common

/* Count the vector in this vCPU's row, EOI, return. */
st_common:
	push %rax
	push %rdx
	mov 16(%rsp), %eax
	mov %r13, %rdx
	shl $10, %rdx
	lock incl CNTV(0)(%rdx,%rax,4)
	movl $0, APIC_EOI(%r15)
	pop %rdx
	pop %rax
	add $8, %rsp
	iretq
PAYLOAD_END(state_guest)
