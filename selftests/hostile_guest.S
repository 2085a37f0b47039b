/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code of the hostile test: a long-mode guest that tries to change
 * host state or to leave state VM entry refuses.  One payload, several
 * entry points, values in R8..R14 (start_at()); each part ends in a HLT at
 * hostile_done.  Instructions expected to fault are written "faulting"
 * (lib/faulting.h): vector, error code and RIP go out on PORT_ECHO.
 */
#include "faulting.h"

#define CR4_OSXSAVE	0x40000
#define PKRU_AD0	0x1		/* access-disable, protection key 0 */

	/* RAX, as two OUTs; clobbers RAX. */
	.macro echo64
	out %eax, $PORT_ECHO
	shr $32, %rax
	out %eax, $PORT_ECHO
	.endm

PAYLOAD_BEGIN(hostile_long)
	.code64

/* MOV to CR4 of CR4 | R8, then CR4 as the guest reads it afterwards. */
MARK(hostile_cr4)
	mov %cr4, %rax
	or %r8, %rax
	faulting cr4_insn, mov %rax, %cr4
	mov %cr4, %rax
	echo64
	jmp hostile_done

/* MOV to CR0 of R8, then CR0 as read afterwards. */
MARK(hostile_cr0)
	faulting cr0_insn, mov %r8, %cr0
	mov %cr0, %rax
	echo64
	jmp hostile_done

/* MOV to CR3 of CR3 | R8, then CR3 as read afterwards. */
MARK(hostile_cr3)
	mov %cr3, %rax
	or %r8, %rax
	faulting cr3_insn, mov %rax, %cr3
	mov %cr3, %rax
	echo64
	jmp hostile_done

/* LMSW R8w (register form), then CR0 as read afterwards. */
MARK(hostile_lmsw)
	faulting lmsw_insn, lmsw %r8w
	mov %cr0, %rax
	echo64
	/* The memory form, from GUEST_DATA, value in R9. */
	mov %r9w, GUEST_DATA
	faulting lmsw_mem_insn, lmsw GUEST_DATA
	mov %cr0, %rax
	echo64
	jmp hostile_done

/* WRPKRU of access-disable for key 0, after trying to set CR4.PKE. */
MARK(hostile_pkru)
	mov %cr4, %rax
	or %r8, %rax			/* R8 = CR4.PKE */
	faulting pke_insn, mov %rax, %cr4
	xor %ecx, %ecx
	xor %edx, %edx
	mov $PKRU_AD0, %eax
	faulting wrpkru_insn, wrpkru
	jmp hostile_done

/* Far JMP through the pointer at GUEST_DATA (selector from the host). */
MARK(hostile_ljmp)
	faulting ljmp_insn, ljmpl *GUEST_DATA
	jmp hostile_done
MARK(hostile_ljmp_target)
	mov $0xf00d, %eax
	out %eax, $PORT_ECHO
	jmp hostile_done

/*
 * XSAVE features enabled by the guest itself, then AVX and XSAVE with
 * operands khv must emulate or refuse (GUEST_MMIO is in no slot).  XMM0
 * (SSE) and YMM0's upper half (AVX) are loaded from GUEST_DATA first and
 * echoed at the end, once the guest's FPU state has been through exits, a
 * return to userspace and a re-entry.  PORT_MARK splits the echoes into
 * groups: 1 the AVX probe's report, 2 the accesses, 3 XMM0 (4 dwords),
 * the VEXTRACTI128 report and YMM0[255:128] (4 dwords).
 */
	.macro mark n
	mov $\n, %eax
	out %eax, $PORT_MARK
	.endm

	.macro echo_xmm reg
	movd \reg, %eax
	out %eax, $PORT_ECHO
	pextrd $1, \reg, %eax
	out %eax, $PORT_ECHO
	pextrd $2, \reg, %eax
	out %eax, $PORT_ECHO
	pextrd $3, \reg, %eax
	out %eax, $PORT_ECHO
	.endm

MARK(hostile_avx)
	movdqu GUEST_DATA, %xmm0
	mov %cr4, %rax
	or $CR4_OSXSAVE, %rax
	mov %rax, %cr4
	xor %ecx, %ecx
	xor %edx, %edx
	mov $7, %eax			/* x87, SSE, AVX */
	xsetbv
	mark 1
	faulting avx_first, vinserti128 $1, GUEST_DATA + 16, %ymm0, %ymm0
	mark 2
	mov $GUEST_MMIO, %rbx
	faulting avx_load, vmovdqu (%rbx), %ymm1
	faulting avx_store, vmovdqu %ymm0, (%rbx)
	faulting avx_movd, vmovd %xmm0, (%rbx)
	faulting avx_bcast, vpbroadcastd (%rbx), %ymm2
	faulting avx_mask, vmaskmovps %ymm0, %ymm0, (%rbx)
	xor %edx, %edx
	mov $7, %eax
	faulting xsave_insn, xsave (%rbx)
	mark 3
	echo_xmm %xmm0
	pxor %xmm3, %xmm3
	faulting avx_last, vextracti128 $1, %ymm0, %xmm3
	echo_xmm %xmm3
	jmp hostile_done

/*
 * Everything a guest can write that is host state while it runs: the MSRs
 * the CPU lets it write without an exit (FS/GS bases, KERNEL_GS_BASE, the
 * SYSCALL and SYSENTER MSRs), MSRs khv emulates or refuses (TSC_AUX,
 * SPEC_CTRL), MXCSR, the x87 control word, XMM7, XCR0, and a hardware
 * breakpoint on the VMM's own variable (its host address in R8, which the
 * guest never touches).  R9 is a canonical value for the address MSRs.
 * Each write is "faulting": refused ones are fine, the VMM checks its own
 * state afterwards.
 */
	.macro wrmsr_reg msr, reg
	mov $\msr, %ecx		/* mov to ECX: RCX[63:32] = 0 (testbeds.md) */
	mov \reg, %rax
	mov \reg, %rdx
	shr $32, %rdx
	faulting hs_wrmsr_\@, wrmsr
	.endm

MARK(hostile_state)
	wrmsr_reg 0xc0000100, %r9	/* FS_BASE */
	wrmsr_reg 0xc0000101, %r9	/* GS_BASE */
	wrmsr_reg 0xc0000102, %r9	/* KERNEL_GS_BASE */
	wrmsr_reg 0xc0000081, %r9	/* STAR */
	wrmsr_reg 0xc0000082, %r9	/* LSTAR */
	wrmsr_reg 0xc0000083, %r9	/* CSTAR */
	wrmsr_reg 0xc0000084, %r10	/* SFMASK */
	wrmsr_reg 0x174, %r10		/* SYSENTER_CS */
	wrmsr_reg 0x175, %r9		/* SYSENTER_ESP */
	wrmsr_reg 0x176, %r9		/* SYSENTER_EIP */
	wrmsr_reg 0xc0000103, %r11	/* TSC_AUX */
	wrmsr_reg 0x48, %r12		/* SPEC_CTRL */
	ldmxcsr GUEST_DATA		/* the host put the guest's MXCSR there */
	fldcw GUEST_DATA + 4		/* and its x87 control word */
	movdqu GUEST_DATA + 16, %xmm7
	mov %cr4, %rax
	or $CR4_OSXSAVE, %rax
	faulting hs_osxsave, mov %rax, %cr4
	xor %ecx, %ecx
	xor %edx, %edx
	mov $3, %eax			/* x87 and SSE only */
	faulting hs_xsetbv, xsetbv
	/*
	 * XCR0 with PKRU (never offered: #GP from khv), then an XRSTOR of
	 * PKRU only, from the area the host prepared (access-disable on key 0).
	 * Where the CPU lets XSETBV through without an exit (QEMU), this loads
	 * the guest's value into the real PKRU.
	 */
	lea 3f(%rip), %r15		/* one "faulting" region, no exit inside */
	xor %ecx, %ecx
	xor %edx, %edx
	mov $0x207, %eax
MARK(hs_xsetbv_pkru)
	xsetbv
	mov $0x200, %eax
	xrstor GUEST_DATA + 0x1000
3:	mov %r8, %dr0
	mov $0xf0202, %rax		/* G0, GE; DR0 read/write, 4 bytes */
	mov %rax, %dr7
	hlt
	jmp hostile_done

/* A load through R8, whose translation walks tables the host placed. */
MARK(hostile_walk)
	mov (%r8), %rax
	mov $0xcafe, %eax
	out %eax, $PORT_ECHO
	jmp hostile_done
/* The same with a store. */
MARK(hostile_walk_store)
	mov %rax, (%r8)
	mov $0xcafe, %eax
	out %eax, $PORT_ECHO
	jmp hostile_done

MARK(hostile_done)
	hlt
	jmp hostile_done

	FAULT_REPORTERS ev_ud, ev_gp
PAYLOAD_END(hostile_long)

/*
 * 32-bit protected mode: transfers that switch tasks.  The host puts a
 * 32-bit TSS descriptor at selector 0x28 and a task gate for it at IDT
 * vector 0x40; for the IRET, TR is a busy TSS at 0x30 linked to 0x28.  Reaching the echo after one means the switch was skipped.
 */
PAYLOAD_BEGIN(hostile_prot32)
	.code32
MARK(hostile_task_jmp)
	ljmp $0x28, $0
	jmp 1f
MARK(hostile_task_call)
	lcall $0x28, $0
	jmp 1f
MARK(hostile_task_gate)
	int $0x40
	jmp 1f
/* IRET with EFLAGS.NT returns to the task in the current TSS's link. */
MARK(hostile_task_iret)
	pushfl
	orl $0x4000, (%esp)
	popfl
	iret
1:	mov $0xbad, %eax
	out %eax, $PORT_ECHO
2:	hlt
	jmp 2b
/* Where the new task starts, if the switch happens (the TSS's EIP). */
MARK(hostile_task_new)
	mov $0x7a5c, %eax
	out %eax, $PORT_ECHO
	jmp 2b
PAYLOAD_END(hostile_prot32)
