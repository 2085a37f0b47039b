/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Study mode (selftest study): CPUID, RDMSR, WRMSR, RDTSC and HLT, each
 * followed by an OUT of what the guest got, so the test sees the outcome
 * of its answers.  Real mode, CPL 0.
 */
#include "asm.h"

#define MSR_STAR	0xc0000081
#define MSR_UNKNOWN	0x1234

PAYLOAD_BEGIN(study_real)
	.code16
	/* Leaf 0 is not studied, leaf 1 is: its EBX is the test's. */
	xor %eax, %eax
	cpuid
MARK(study_cpuid1)
	mov $1, %eax
	xor %ecx, %ecx
	cpuid
	mov %ebx, %eax
	out %eax, $PORT_ECHO
	/* An MSR khv does not know: the test answers for it. */
	mov $MSR_UNKNOWN, %ecx
	rdmsr
	out %eax, $PORT_ECHO
	mov %edx, %eax
	out %eax, $PORT_ECHO
	/* STAR, which the guest reaches without exits unless studied. */
	mov $MSR_STAR, %ecx
	mov $0x11223344, %eax
	mov $0x00230010, %edx
	wrmsr
	/* Skipped by the test: STAR keeps the value above. */
	mov $MSR_STAR, %ecx
	mov $0x55667788, %eax
	mov $0x00330020, %edx
	wrmsr
	mov $MSR_STAR, %ecx
	rdmsr
	out %eax, $PORT_ECHO
	mov %edx, %eax
	out %eax, $PORT_ECHO
	/* RDTSC, answered by the test. */
	rdtsc
	out %eax, $PORT_ECHO
	mov %edx, %eax
	out %eax, $PORT_ECHO
MARK(study_hlt)
	hlt
	/* Study off: none of these exits to the test. */
	mov $1, %eax
	cpuid
	rdtsc
	mov $MSR_STAR, %ecx
	rdmsr
	out %eax, $PORT_ECHO
MARK(study_hlt2)
	hlt
	jmp .
PAYLOAD_END(study_real)

/*
 * CR writes, INVLPG, PAUSE and port I/O (selftest study, more_events).
 * Each studied step is marked for the test; the echoes on PORT_ECHO
 * (never studied: the test's port list is 0x80 only) show the outcome.
 */
#define PORT_POST	0x80
#define CR0_MP		0x2
#define CR0_TS		0x8
#define CR4_PGE		0x80

PAYLOAD_BEGIN(study_more)
	.code16
	/* Only CR3 studied at first: this CR0 write passes by. */
	mov %cr0, %eax
	or $CR0_MP, %eax
	mov %eax, %cr0
MARK(study_cr3_a)
	mov $0x1000, %eax
	mov %eax, %cr3
	mov %cr3, %eax
	out %eax, $PORT_ECHO
	/* Skipped by the test: CR3 stays 0x1000. */
	mov $0x2000, %eax
	mov %eax, %cr3
	mov %cr3, %eax
	out %eax, $PORT_ECHO
	/* Every CR from here: TS (the guest's own bit on VT-x unless studied). */
	mov %cr0, %eax
	or $CR0_TS, %eax
	mov %eax, %cr0
	clts			/* skipped: TS stays */
	mov %cr0, %eax
	out %eax, $PORT_ECHO
	clts			/* done */
	mov %cr4, %eax
	or $CR4_PGE, %eax
	mov %eax, %cr4
	mov %cr4, %eax
	out %eax, $PORT_ECHO
	mov $0x2345, %bx
	invlpg (%bx)
MARK(study_pause)
	pause			/* dropped once: it comes again */
	mov $0x5a, %al
	out %al, $PORT_POST
	xor %eax, %eax
	mov $0x77, %al
	in $PORT_POST, %al	/* skipped: AL stays 0x77 */
	out %eax, $PORT_ECHO
MARK(study_more_hlt)
	hlt
	/* Study off: nothing of this exits to the test but the OUT. */
	mov $0x3000, %eax
	mov %eax, %cr3
	pause
	invlpg (%bx)
	mov $0x5b, %al
	out %al, $PORT_POST
MARK(study_more_hlt2)
	hlt
	jmp .
PAYLOAD_END(study_more)

/* CR8, the TPR: 64-bit code only on VT-x (selftest study, cr8). */
PAYLOAD_BEGIN(study_long)
	.code64
	mov $5, %eax
	mov %rax, %cr8		/* studied, done */
	mov %cr8, %rbx		/* studied, answered 9 */
	mov %rbx, %rax
	out %eax, $PORT_ECHO
	mov $7, %eax
	mov %rax, %cr8		/* skipped: CR8 stays 5 */
	mov %cr8, %rax		/* studied, khv's answer kept */
	out %eax, $PORT_ECHO
MARK(study_long_hlt)
	hlt
	jmp .
PAYLOAD_END(study_long)

/*
 * Exceptions (selftest study, exceptions): each handler reports its vector,
 * error code and CR2 on PORT_ECHO, then resumes: after the UD2 for #UD,
 * at %r15 for #PF and #GP, after the INT3 (where the CPU put it) for #BP.
 * Last, a #UD whose delivery finds no stack: #PF, then #DF, then a triple
 * fault, every step studied.
 */
#define UNMAPPED	0x100000000	/* past GUEST_MAP_SIZE's identity map */

	.macro exc_handler v, err
MARK(exc_\v)
	.if !\err
	push $0
	.endif
	push $\v
	jmp exc_common
	.endm

PAYLOAD_BEGIN(study_exc)
	.code64
MARK(study_ud)
	ud2			/* dropped once, then delivered */
	lea 1f(%rip), %r15
	mov $UNMAPPED, %rcx
MARK(study_pf)
	mov (%rcx), %rax
1:
MARK(study_bp)
	int3			/* delivered: the handler sees RIP after it */
MARK(study_bp2)
	int3			/* skipped by the test */
MARK(study_int1)
	.byte 0xf1		/* INT1: its #DB, delivered as a trap after it */
MARK(study_int1b)
	.byte 0xf1		/* skipped by the test */
	lea 2f(%rip), %r15
	mov $0x8000000000000000, %rax
MARK(study_gp)
	mov (%rax), %rbx	/* not canonical: #GP(0) */
2:
	mov $UNMAPPED + 0x1000, %rsp
MARK(study_ud_nostack)
	ud2
	jmp .

	exc_handler 1, 0
	exc_handler 3, 0
	exc_handler 6, 0
	exc_handler 13, 1
	exc_handler 14, 1

exc_common:
	push %rax
	mov 8(%rsp), %eax		/* vector */
	out %eax, $PORT_ECHO
	mov 16(%rsp), %eax		/* error code */
	out %eax, $PORT_ECHO
	cmpl $14, 8(%rsp)
	jne 3f
	mov %cr2, %rax
	out %eax, $PORT_ECHO
	shr $32, %rax
	out %eax, $PORT_ECHO
3:	cmpl $6, 8(%rsp)
	jne 4f
	addq $2, 24(%rsp)		/* past the UD2 */
	jmp 5f
4:	cmpl $3, 8(%rsp)
	je 5f
	cmpl $1, 8(%rsp)
	je 5f				/* INT1's #DB: a trap too */
	mov %r15, 24(%rsp)		/* #PF, #GP: where the test said */
5:	pop %rax
	add $16, %rsp
	iretq
PAYLOAD_END(study_exc)

/*
 * Descriptor-table instructions (selftest study, desc), 64-bit, CPL 0:
 * each store is echoed, each load checked through a store after it.  A new
 * GDT (the harness's four descriptors, an LDT at 0x20 and a TSS at 0x30,
 * each 16 bytes) is loaded, then LDTR and TR from it.
 */
#define DESC_LDT_BASE	0x9000
#define DESC_TSS_BASE	0xa000

	.macro echo_dt			/* limit, base low, base high of desc_buf */
	movzwl desc_buf(%rip), %eax
	out %eax, $PORT_ECHO
	mov desc_buf+2(%rip), %rax
	out %eax, $PORT_ECHO
	shr $32, %rax
	out %eax, $PORT_ECHO
	.endm

	.macro echo64 reg
	mov \reg, %rax
	out %eax, $PORT_ECHO
	shr $32, %rax
	out %eax, $PORT_ECHO
	.endm

PAYLOAD_BEGIN(study_desc)
	.code64
MARK(study_sgdt)
	sgdt desc_buf(%rip)
	echo_dt
MARK(study_sidt)
	sidt desc_buf(%rip)		/* the test answers with other values */
	echo_dt
MARK(study_lgdt)
	lgdt new_gdt_ptr(%rip)
MARK(study_sgdt2)
	sgdt desc_buf(%rip)
	echo_dt
	mov $0x20, %eax
MARK(study_lldt)
	lldt %ax
	mov $-1, %rbx
MARK(study_sldt16)
	sldt %bx			/* 16 bits: the rest of RBX stays */
	echo64 %rbx
	mov $-1, %rcx
MARK(study_sldt32)
	sldt %ecx			/* 32 bits: zero-extended */
	echo64 %rcx
	mov $0x30, %edx
MARK(study_ltr)
	ltr %dx
	movzbl new_gdt+0x35(%rip), %eax	/* the TSS descriptor's type: busy now */
	out %eax, $PORT_ECHO
MARK(study_str)
	str desc_buf(%rip)
	movzwl desc_buf(%rip), %eax
	out %eax, $PORT_ECHO
	lea 1f(%rip), %r15
	mov $0x24, %eax			/* TI set: #GP(0x24), before any study */
MARK(study_lldt_bad)
	lldt %ax
1:
MARK(study_lidt)
	lidt bogus_ptr(%rip)		/* skipped by the test */
MARK(study_desc_hlt)
	hlt
	sgdt desc_buf(%rip)		/* study off: no exit but the OUT */
	movzwl desc_buf(%rip), %eax
	out %eax, $PORT_ECHO
MARK(study_desc_hlt2)
	hlt
	jmp .

MARK(desc_gp)				/* #GP: vector, error code, resume at %r15 */
	mov $13, %eax
	out %eax, $PORT_ECHO
	mov (%rsp), %eax
	out %eax, $PORT_ECHO
	mov %r15, 8(%rsp)
	add $8, %rsp
	iretq

	.balign 16
MARK(desc_buf)
	.fill 16, 1, 0
MARK(bogus_ptr)
	.word 0x1234
	.quad 0x5678000
	.balign 16
MARK(new_gdt)
	.quad 0
	.quad 0x00af9b000000ffff	/* 0x08: code, L=1 */
	.quad 0x00cf93000000ffff	/* 0x10: data */
	.quad 0x00cf9b000000ffff	/* 0x18: code, D=1 */
	/* 0x20: LDT, base DESC_LDT_BASE, limit 0xfff, present */
	.long ((DESC_LDT_BASE & 0xffff) << 16) | 0x0fff, 0x00008200
	.long 0, 0
	/* 0x30: available 64-bit TSS, base DESC_TSS_BASE, limit 0x67, present */
	.long ((DESC_TSS_BASE & 0xffff) << 16) | 0x0067, 0x00008900
	.long 0, 0
new_gdt_end:
	.balign 8
	.word 0
MARK(new_gdt_ptr)
	.word new_gdt_end - new_gdt - 1
	.quad GA(study_desc, new_gdt)
PAYLOAD_END(study_desc)

/*
 * RDTSCP and RDPID (selftest study, rdtscp), 64-bit: TSC_AUX written by the
 * guest, then an RDTSCP and an RDTSC studied, then study off: RDTSCP and
 * (when CPUID offers it) RDPID read the guest's TSC_AUX without an exit.
 */
PAYLOAD_BEGIN(study_tscp)
	.code64
	mov $0xc0000103, %ecx		/* TSC_AUX */
	mov $0x1234, %eax
	xor %edx, %edx
	wrmsr
MARK(study_rdtscp)
	rdtscp				/* studied: the test answers */
	mov %eax, %r8d
	mov %ecx, %eax
	out %eax, $PORT_ECHO
	mov %r8d, %eax
	out %eax, $PORT_ECHO
	mov %edx, %eax
	out %eax, $PORT_ECHO
	mov $-1, %rcx
MARK(study_rdtsc_plain)
	rdtsc				/* studied: ECX untouched */
	mov %ecx, %eax
	out %eax, $PORT_ECHO
MARK(study_tscp_hlt)
	hlt
	xor %ecx, %ecx
	rdtscp				/* study off: no exit */
	mov %ecx, %eax
	out %eax, $PORT_ECHO
	mov $7, %eax
	xor %ecx, %ecx
	cpuid
	shr $22, %ecx			/* RDPID */
	and $1, %ecx
	mov %ecx, %eax
	out %eax, $PORT_ECHO
	test %eax, %eax
	jz 1f
	rdpid %rax
	out %eax, $PORT_ECHO
1:
MARK(study_tscp_hlt2)
	hlt
	jmp .
PAYLOAD_END(study_tscp)
