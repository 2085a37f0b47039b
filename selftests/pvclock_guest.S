/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvclock: the guest's side of kvmclock, as Linux's pvclock reader does it.
 * Copied by the test next to the server (it is position-independent) and
 * started with R8 = GPA of this vCPU's struct pvclock_vcpu_time_info and
 * R9 = TSC cycles to spin between two readings.  Reports on PORT_ECHO, each
 * as two 4-byte OUTs, low half first: the two times (ns), the TSC values
 * they were computed from, and the version of the second reading; then HLT.
 */
#include "asm.h"

/* struct pvclock_vcpu_time_info */
#define PV_VERSION	0
#define PV_TSC		8
#define PV_SYSTIME	16
#define PV_MUL		24
#define PV_SHIFT	28

PAYLOAD_BEGIN(pvclock_read)
	.code64
	mov %r8, %rdi
	call pv_now
	mov %rax, %r12			/* t1 */
	mov %r10, %r13			/* TSC at t1 */
1:	rdtsc				/* spin R9 cycles */
	shl $32, %rdx
	or %rdx, %rax
	sub %r13, %rax
	cmp %r9, %rax
	jb 1b
	call pv_now
	mov %rax, %r14			/* t2 */
	mov %r10, %rbx			/* TSC at t2 */
	mov %r12, %rax
	call out64
	mov %r14, %rax
	call out64
	mov %r13, %rax
	call out64
	mov %rbx, %rax
	call out64
	mov %rsi, %rax			/* version */
	call out64
	hlt
	jmp .

/* RAX as two 4-byte OUTs to PORT_ECHO. */
out64:
	out %eax, $PORT_ECHO
	shr $32, %rax
	out %eax, $PORT_ECHO
	ret

/*
 * RAX = system_time + ((TSC - tsc_timestamp) shifted by tsc_shift) *
 * tsc_to_system_mul >> 32, read under an even, unchanged version; R10 = the
 * TSC used, RSI = the version.  Clobbers RCX, RDX, R11.
 */
pv_now:
	mov PV_VERSION(%rdi), %esi
	lfence				/* version before the fields */
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, %r10
	sub PV_TSC(%rdi), %rax
	movsbl PV_SHIFT(%rdi), %ecx
	test %ecx, %ecx
	js 2f
	shl %cl, %rax
	jmp 3f
2:	neg %ecx
	shr %cl, %rax
3:	mov PV_MUL(%rdi), %r11d
	mul %r11			/* RDX:RAX = delta * mul */
	shrd $32, %rdx, %rax
	add PV_SYSTIME(%rdi), %rax
	lfence				/* the fields before the version again */
	test $1, %esi
	jnz pv_now
	cmp PV_VERSION(%rdi), %esi
	jne pv_now
	ret
PAYLOAD_END(pvclock_read)
