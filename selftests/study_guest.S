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
