/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code of the singlestep test: a run of instructions under RFLAGS.TF,
 * mixing ones the CPU executes itself with ones khv completes for it
 * (CPUID, OUT, IN, an MMIO store and load, REP OUTSB, REP INSB) and an
 * RDMSR that faults.  Every #DB is logged by ss_db (DR6 and the RIP it
 * interrupted, i.e. the address after the traced instruction); once TF is
 * off again the guest reports the #GP count, the #DB count and the log.
 *
 * Each instruction under TF is followed by a MARK so the test can name the
 * RIP every trap must report.
 */
#include "asm.h"

#define DB_COUNT	GUEST_DATA		/* #DBs taken */
#define GP_COUNT	(GUEST_DATA + 4)	/* #GPs taken */
#define OUT_BUF		(GUEST_DATA + 0x100)	/* REP OUTSB source: 'a', 'b', 'c' */
#define IN_BUF		(GUEST_DATA + 0x180)	/* REP INSB destination */
#define DB_LOG		(GUEST_DATA + 0x200)	/* 16 bytes per #DB: DR6, RIP */
#define DB_LOG_MAX	32
#define RFLAGS_TF	0x100
#define DR6_INIT	0xffff0ff0
#define MSR_NONE	0x4b4856ff		/* an MSR nobody implements: #GP */

	.macro echo
	out %eax, $PORT_ECHO
	.endm

PAYLOAD_BEGIN(ss_long)
	.code64
	movl $0, DB_COUNT
	movl $0, GP_COUNT
	movl $0x00636261, OUT_BUF
	movl $0, IN_BUF
	mov $GUEST_MMIO, %r12d
	mov $OUT_BUF, %esi
	mov $IN_BUF, %edi
	xor %eax, %eax			/* CPUID leaf 0 */
	mov $DR6_INIT, %ecx
	mov %rcx, %dr6
	pushfq
	orl $RFLAGS_TF, (%rsp)
	popfq				/* TF was clear for the POPF: no trap yet */
	nop
MARK(ss_after_nop)
	cpuid
MARK(ss_after_cpuid)
	mov $1, %eax
MARK(ss_after_mov)
	out %eax, $PORT_MARK
MARK(ss_after_out)
	movl $0x12345678, (%r12)
MARK(ss_after_mmio_store)
	mov 8(%r12), %ecx
MARK(ss_after_mmio_load)
	in $PORT_IN8, %al
MARK(ss_after_in)
	mov $PORT_STR_OUTB, %edx
MARK(ss_after_dx_out)
	mov $3, %ecx
MARK(ss_outs)
	rep outsb			/* a trap after each iteration */
MARK(ss_after_outs)
	rep outsb			/* RCX = 0: no iteration, still a trap */
MARK(ss_after_outs0)
	mov $PORT_STR_INB, %edx
MARK(ss_after_dx_in)
	mov $2, %ecx
MARK(ss_ins)
	rep insb
MARK(ss_after_ins)
	mov $MSR_NONE, %ecx
MARK(ss_after_ecx)
	lea ss_after_rdmsr(%rip), %r15
MARK(ss_rdmsr)
	rdmsr				/* #GP, a fault: no trap; ss_gp resumes below */
MARK(ss_after_rdmsr)
	pushfq
MARK(ss_after_pushf)
	andl $~RFLAGS_TF, (%rsp)
MARK(ss_after_and)
	popfq				/* TF was still set for the POPF: one more trap */
MARK(ss_tf_off)
	mov GP_COUNT, %eax
	echo
	mov DB_COUNT, %eax
	echo
	mov %eax, %r8d
	cmp $DB_LOG_MAX, %r8d
	jbe 1f
	mov $DB_LOG_MAX, %r8d
1:	xor %ebx, %ebx
2:	cmp %r8d, %ebx
	jae 3f
	mov %ebx, %ecx
	shl $4, %ecx
	mov DB_LOG(%rcx), %eax
	echo
	mov DB_LOG + 8(%rcx), %eax
	echo
	inc %ebx
	jmp 2b
3:	hlt
MARK(ss_done)
	jmp 3b

/* #DB: log DR6 and the interrupted RIP, then reset DR6 for the next one. */
MARK(ss_db)
	push %rax
	push %rbx
	mov DB_COUNT, %ebx
	cmp $DB_LOG_MAX, %ebx
	jae 1f
	shl $4, %ebx
	mov %dr6, %rax
	mov %rax, DB_LOG(%rbx)
	mov 16(%rsp), %rax
	mov %rax, DB_LOG + 8(%rbx)
1:	incl DB_COUNT
	mov $DR6_INIT, %eax
	mov %rax, %dr6
	pop %rbx
	pop %rax
	iretq

/* #GP: count it and resume at R15 (the frame's RFLAGS keeps TF). */
MARK(ss_gp)
	incl GP_COUNT
	mov %r15, 8(%rsp)
	add $8, %rsp			/* the error code */
	iretq
PAYLOAD_END(ss_long)
