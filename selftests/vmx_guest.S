/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code of the vmx test: what the Intel backend emulates or refuses by
 * itself.
 *
 * vmx_long: a long-mode payload with several entry points (vmx_cr,
 * vmx_insns, vmx_dr, vmx_nmi); the test puts RIP at one, each part ends at vmx_done
 * (after a HLT).  An instruction expected to fault is written "faulting
 * <label>, <insn>": R15 holds the address to resume at, the #UD/#GP handler
 * reports vector, error code and faulting RIP on PORT_ECHO and resumes
 * there; an instruction that completes reports 0xffffffff instead.
 *
 * vmx_switch: starts in real mode and walks the guest through the mode
 * changes VMX leaves to software: real -> IA-32e (CR0.PE|PG with EFER.LME),
 * 64-bit code, compatibility mode, paging off (back to legacy protected
 * mode).  Values are reported as 32-bit OUTs to PORT_ECHO.
 */
#include "faulting.h"

#define MSR_EFER	0xc0000080
#define CR0_PE		0x1
#define CR0_NW		0x20000000
#define CR0_CD		0x40000000
#define CR0_PG		0x80000000
#define CR4_PAE		0x20
#define CR4_VMXE	0x2000
#define EFER_LME	0x100
#define NMI_COUNT	GUEST_DATA	/* NMIs the guest's handler has taken */
#define PAE_PROBE	0x150000	/* vmx.c puts a value there */

PAYLOAD_BEGIN(vmx_long)
	.code64

/*
 * Control registers.  The guest sees its own CR4 (never VMXE, which is set
 * in the real one), setting VMXE is #GP; CR0.CD/NW are kept in the shadow;
 * CR8 stores the 4-bit TPR and refuses more.  In: R8 a CR8 value.
 */
MARK(vmx_cr)
	mov %cr4, %rax
	echo
	mov %rax, %rbx
	or $CR4_VMXE, %rax
	faulting cr4_vmxe_insn, mov %rax, %cr4
	mov %cr4, %rax			/* unchanged by the refused write */
	echo
	mov %cr0, %rax
	or $(CR0_CD | CR0_NW), %eax
	mov %rax, %cr0
	mov %cr0, %rax
	echo
	and $~(CR0_CD | CR0_NW), %eax
	mov %rax, %cr0
	mov %cr0, %rax
	echo
	mov %r8, %cr8
	mov %cr8, %rax
	echo
	mov $0x10, %eax
	faulting cr8_high_insn, mov %rax, %cr8
	mov %cr8, %rax
	echo
	jmp vmx_halt

/* No nested virtualization: the VMX instructions are #UD. */
MARK(vmx_insns)
	mov $GUEST_DATA, %eax
	xor %ecx, %ecx
	faulting vmxon_insn, vmxon (%rax)
	faulting vmptrld_insn, vmptrld (%rax)
	faulting vmclear_insn, vmclear (%rax)
	faulting vmread_insn, vmread %rcx, %rdx
	faulting vmwrite_insn, vmwrite %rdx, %rcx
	faulting vmlaunch_insn, vmlaunch
	faulting vmresume_insn, vmresume
	faulting vmxoff_insn, vmxoff
	faulting invept_insn, invept (%rax), %rcx
	faulting invvpid_insn, invvpid (%rax), %rcx
	jmp vmx_halt

/*
 * Debug registers through MOV DR exits: DR0 and DR7 round trips, DR6 fixed
 * bits, and DR7.GD raising #DB on the next access.  In: R8 for DR0, R9 for
 * DR7.
 */
MARK(vmx_dr)
	mov %dr6, %rax
	echo
	mov %dr7, %rax
	echo
	mov %r8, %dr0
	mov %dr0, %rax
	echo
	shr $32, %rax
	echo
	mov %r9, %dr7
	mov %dr7, %rax
	echo
	xor %eax, %eax
	mov %rax, %dr6
	mov %dr6, %rax
	echo
	mov $0x2400, %eax		/* GD */
	mov %rax, %dr7
MARK(gd_insn)
	mov %dr0, %rax			/* #DB, then runs again after the handler */
	echo
	mov %dr7, %rax
	echo
	jmp vmx_halt

/*
 * NMI blocking: the test injects an NMI at the mark; while its handler runs
 * the test injects a second one, which must wait for the handler's IRET
 * (virtual-NMI blocking, NMI-window exit).  The guest then spins until the
 * second NMI has come, and reports how long.
 */
MARK(vmx_nmi)
	movl $0, NMI_COUNT
	mov $1, %eax
	out %eax, $PORT_MARK
MARK(nmi_resume)
	xor %ecx, %ecx
MARK(nmi_spin)
	inc %rcx
	cmpl $2, NMI_COUNT
	jne nmi_spin
MARK(nmi_spin_end)
	echo %ecx
	jmp vmx_halt

vmx_halt:
	hlt
MARK(vmx_done)
	jmp vmx_halt

/* NMI: count, then report the count, the interrupted RIP, count + 0x100. */
MARK(vx_nmi)
	push %rax
	incl NMI_COUNT
	mov NMI_COUNT, %eax
	echo
	mov 8(%rsp), %rax
	echo
	mov NMI_COUNT, %eax
	add $0x100, %eax
	echo
	pop %rax
	iretq

/* #DB: report 1, DR6, DR7 and RIP; reset DR6; return to the instruction. */
MARK(vx_db)
	push %rax
	mov $1, %eax
	echo
	mov %dr6, %rax
	echo
	mov %dr7, %rax
	echo
	mov 8(%rsp), %rax
	echo
	mov $0xffff0ff0, %eax
	mov %rax, %dr6
	pop %rax
	iretq

	FAULT_REPORTERS vx_ud, vx_gp
PAYLOAD_END(vmx_long)

/*
 * 32-bit PAE paging, set up by the test through KHV_SET_SREGS: VM entry
 * takes the four PDPTEs from the VMCS, so khv must have loaded them from
 * the PDPT CR3 points at.  Then paging off and on again (an exit: khv loads
 * them once more), and a MOV to CR3 (no exit: the CPU loads them).
 */
PAYLOAD_BEGIN(vmx_pae)
	.code32
	mov PAE_PROBE, %eax
	out %eax, $PORT_ECHO
	mov %cr0, %eax
	and $~CR0_PG, %eax
	mov %eax, %cr0
	mov %cr0, %eax
	or $CR0_PG, %eax
	mov %eax, %cr0
	mov PAE_PROBE + 4, %eax
	out %eax, $PORT_ECHO
	mov %cr3, %eax
	mov %eax, %cr3
	mov PAE_PROBE + 8, %eax
	out %eax, $PORT_ECHO
	hlt
MARK(pae_done)
	jmp pae_done
PAYLOAD_END(vmx_pae)

/*
 * From real mode to long mode and back to legacy protected mode, the way an
 * OS does it.  Uses the GDT and the identity page tables of a KHVT_LONG VM;
 * every segment base is 0.
 */
PAYLOAD_BEGIN(vmx_switch)
	.code16
	cli
	lgdtl %cs:GA(vmx_switch, sw_gdtr)
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $GUEST_PT, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $(CR0_PE | CR0_PG), %eax
	mov %eax, %cr0			/* IA-32e mode, still 16-bit code */
	mov $MSR_EFER, %ecx
	rdmsr
	out %eax, $PORT_ECHO		/* LME | LMA */
	ljmpl $SEL_CODE64, $GA(vmx_switch, sw_long)

	.code64
sw_long:
	mov $SEL_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov $GUEST_STACK_TOP, %esp
	mov %cr0, %rax
	out %eax, $PORT_ECHO		/* PE | PG (| ET) */
	lea 1f(%rip), %rax		/* 64-bit only: a RIP-relative address */
	out %eax, $PORT_ECHO
1:	pushq $SEL_CODE32
	lea sw_compat(%rip), %rax
	push %rax
	lretq

	.code32
sw_compat:
	mov %cr0, %eax
	and $~CR0_PG, %eax
	mov %eax, %cr0			/* leaves IA-32e mode: EFER.LMA = 0 */
	mov $MSR_EFER, %ecx
	rdmsr
	out %eax, $PORT_ECHO		/* LME only */
	mov %cr0, %eax
	out %eax, $PORT_ECHO
	hlt
MARK(sw_done)
	jmp sw_done

	.balign 4
sw_gdtr:
	.word 4 * 8 - 1			/* null, code64, data, code32 */
	.long GUEST_GDT
PAYLOAD_END(vmx_switch)
