/* SPDX-License-Identifier: GPL-2.0 */
/*
 * server64: a long-mode guest that executes whatever the host asks, one
 * operation at a time, so a test can interleave host-side changes (CPUID
 * table, MSRs, memory slots) with guest accesses:
 *
 *   IN  PORT_SRV_OP   -> op (SRV_*)
 *   IN  PORT_SRV_ARG  -> each 32-bit argument of op, in order
 *   OUT PORT_SRV_RES  <- each 32-bit result, in order
 *
 * srv_gp (vector 13, installed by tests that expect #GP) reports
 * OUT PORT_SRV_FAULT <- 13 with RBX = error code, and resumes at the top of
 * the loop, abandoning the faulting operation.
 */
#include "asm.h"

PAYLOAD_BEGIN(server64)
	.code64
srv_loop:
	mov $PORT_SRV_OP, %edx
	in %dx, %eax
	cmp $SRV_HALT, %eax
	je op_halt
	cmp $SRV_CPUID, %eax
	je op_cpuid
	cmp $SRV_RDMSR, %eax
	je op_rdmsr
	cmp $SRV_WRMSR, %eax
	je op_wrmsr
	cmp $SRV_READ64, %eax
	je op_read64
	cmp $SRV_WRITE64, %eax
	je op_write64
	ud2				/* unknown op: the default #UD stub reports it */

op_halt:
	hlt
	jmp srv_loop

op_cpuid:
	call get_arg
	mov %eax, %r8d
	call get_arg
	mov %eax, %ecx
	mov %r8d, %eax
	cpuid
	mov %ebx, %r9d
	mov %ecx, %r10d
	mov %edx, %r11d
	call put_res
	mov %r9d, %eax
	call put_res
	mov %r10d, %eax
	call put_res
	mov %r11d, %eax
	call put_res
	jmp srv_loop

op_rdmsr:
	call get_arg
	mov %eax, %ecx
	rdmsr
	mov %edx, %r9d
	call put_res
	mov %r9d, %eax
	call put_res
	jmp srv_loop

op_wrmsr:
	call get_arg
	mov %eax, %r8d
	call get_arg
	mov %eax, %r9d
	call get_arg
	mov %eax, %r10d
	mov %r8d, %ecx
	mov %r9d, %eax
	mov %r10d, %edx
	wrmsr
	xor %eax, %eax
	call put_res
	jmp srv_loop

op_read64:
	call get_arg64
	mov %rax, %rbx
	mov (%rbx), %rax		/* RAM, or an MMIO exit */
	mov %rax, %r9
	call put_res
	mov %r9, %rax
	shr $32, %rax
	call put_res
	jmp srv_loop

op_write64:
	call get_arg64
	mov %rax, %rbx
	call get_arg64
	mov %rax, (%rbx)		/* RAM, or an MMIO exit */
	xor %eax, %eax
	call put_res
	jmp srv_loop

/* EAX = next argument (upper half of RAX cleared). Clobbers EDX. */
get_arg:
	mov $PORT_SRV_ARG, %edx
	in %dx, %eax
	ret

/* RAX = two arguments, low half first. Clobbers RDX, R8. */
get_arg64:
	call get_arg
	mov %eax, %r8d
	call get_arg
	shl $32, %rax
	or %r8, %rax
	ret

/* OUT EAX as the next result. Clobbers EDX. */
put_res:
	mov $PORT_SRV_RES, %edx
	out %eax, %dx
	ret

/* #GP: report, drop the error code, resume at srv_loop. */
MARK(srv_gp)
	mov (%rsp), %rbx
	mov $13, %eax
	mov $PORT_SRV_FAULT, %edx
	out %eax, %dx
	add $8, %rsp
	movq $GA(server64, srv_loop), (%rsp)
	iretq
PAYLOAD_END(server64)
	.code64
