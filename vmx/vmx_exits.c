// SPDX-License-Identifier: GPL-2.0
/*
 * VMX exit handling: the exit reason, qualification and information fields
 * turned into calls of core's vendor-neutral handlers (core/exits.c), plus
 * what is VMX's own business (CR and DR accesses, the event windows, entry
 * failures).  Return convention as core's: > 0 re-enter, 0 to userspace,
 * < 0 errno.
 *
 * Choices made here:
 *  - Every VMX instruction, INVEPT, INVVPID, VMFUNC, GETSEC, RSM, ENCLS,
 *    XSAVES/XRSTORS, UMWAIT/TPAUSE, MONITOR and MWAIT are #UD: no nested
 *    virtualization, nothing CPUID offers.  RDPMC is #GP(0).  RDTSCP and
 *    RDPID run in the guest ("enable RDTSCP", TSC_AUX switched by
 *    core/tsc_aux.c); RDTSCP exits only with RDTSC, while studied.
 *  - INVD and WBINVD are skipped: guest memory is ordinary write-back RAM.
 *  - MOV to/from CR0, CR3 (only where the CPU forces CR3 exiting), CR4 and
 *    CR8, CLTS and LMSW are emulated from the exit qualification.
 *  - Debug registers: every MOV DR exits and is emulated against vcpu->dr[]
 *    (DR0-3), vmx->dr6 and the VMCS's DR7, as in the SVM backend.
 *  - Entry failures (exit reason bit 31) and a failing VMLAUNCH/VMRESUME
 *    are KHV_EXIT_FAIL_ENTRY; TASK_SWITCH and any reason not listed become
 *    an UNHANDLED_EXIT internal error; nothing here can BUG.
 */
#include <linux/kernel.h>
#include <asm/msr-index.h>
#include <asm/traps.h>

#include "vmx.h"
#include "../irq/irqchip.h"
#include "../core/emulate.h"

typedef int (*vmx_exit_fn)(struct vmx_vcpu *vmx);

static int vmx_exit_unhandled(struct vmx_vcpu *vmx)
{
	u64 data[4] = {
		vmx->exit_reason, vmcs_read(VMCS_EXIT_QUALIFICATION),
		vmx->exit_intr_info, vmx->idt_vectoring,
	};

	return khv_exit_internal_error(&vmx->vcpu, KHV_INTERNAL_ERROR_UNHANDLED_EXIT,
				       ARRAY_SIZE(data), data);
}

/* The host took what caused the exit (interrupt, NMI, SMI, INIT) already. */
static int vmx_exit_host(struct vmx_vcpu *vmx)
{
	return 1;
}

static int vmx_exit_ud(struct vmx_vcpu *vmx)
{
	khv_inject_ud(&vmx->vcpu);
	return 1;
}

static int vmx_exit_gp(struct vmx_vcpu *vmx)
{
	khv_inject_gp(&vmx->vcpu);
	return 1;
}

static int vmx_exit_skip(struct vmx_vcpu *vmx)
{
	return khv_skip_instruction(&vmx->vcpu);
}

/* INVPCID, INVLPG (exiting only where the CPU forces it): drop the VPID's. */
static int vmx_exit_flush_vpid(struct vmx_vcpu *vmx)
{
	vmx->flush_vpid = true;
	return khv_skip_instruction(&vmx->vcpu);
}

/* INVLPG while studied: the qualification is the linear address. */
static int vmx_exit_invlpg(struct vmx_vcpu *vmx)
{
	if (khv_studies(&vmx->vcpu, KHV_STUDY_INVLPG))
		return khv_handle_invlpg(&vmx->vcpu, vmcs_read(VMCS_EXIT_QUALIFICATION));
	return vmx_exit_flush_vpid(vmx);
}

/* PAUSE: a PAUSE-loop exit (core may reschedule), or every PAUSE while studied. */
static int vmx_exit_pause(struct vmx_vcpu *vmx)
{
	if (khv_studies(&vmx->vcpu, KHV_STUDY_PAUSE))
		return khv_handle_pause(&vmx->vcpu);
	return 1;
}

static int vmx_exit_cpuid(struct vmx_vcpu *vmx)
{
	return khv_handle_cpuid(&vmx->vcpu);
}

/* Only while the vCPU studies RDTSC (vmx_set_study). */
/* RDTSC exiting (set only while studied) covers RDTSCP, with its own reason. */
static int vmx_exit_rdtsc(struct vmx_vcpu *vmx)
{
	return khv_handle_rdtsc(&vmx->vcpu, (vmx->exit_reason & 0xffff) == EXIT_RDTSCP);
}

static int vmx_exit_hlt(struct vmx_vcpu *vmx)
{
	return khv_handle_hlt(&vmx->vcpu);
}

static int vmx_exit_vmcall(struct vmx_vcpu *vmx)
{
	return khv_handle_hypercall(&vmx->vcpu);
}

static int vmx_exit_xsetbv(struct vmx_vcpu *vmx)
{
	return khv_handle_xsetbv(&vmx->vcpu);
}

static int vmx_exit_rdmsr(struct vmx_vcpu *vmx)
{
	return khv_handle_rdmsr(&vmx->vcpu);
}

static int vmx_exit_wrmsr(struct vmx_vcpu *vmx)
{
	return khv_handle_wrmsr(&vmx->vcpu);
}

/*
 * A triple fault: report it, and put the vCPU back in its RESET state so
 * that a later KHV_RUN starts from something VM entry accepts.
 */
static int vmx_exit_triple_fault(struct vmx_vcpu *vmx)
{
	int r = khv_handle_shutdown(&vmx->vcpu);

	vmx_vcpu_reset(vmx);
	return r;
}

/* The guest can take an interrupt now. */
static int vmx_exit_intr_window(struct vmx_vcpu *vmx)
{
	struct khv_vcpu *vcpu = &vmx->vcpu;

	vmx->proc &= ~PROC_INTR_WINDOW;
	vmcs_write(VMCS_PROC_CTLS, vmx->proc);
	if (vcpu->extint_pending || vcpu->irq_window)
		return 1;	/* vmx_run() injects it */
	if (READ_ONCE(vcpu->run->request_interrupt_window))
		return khv_exit_irq_window(vcpu);
	return 1;
}

/* NMIs are open again: vmx_run() injects the pending one. */
static int vmx_exit_nmi_window(struct vmx_vcpu *vmx)
{
	vmx->proc &= ~PROC_NMI_WINDOW;
	vmcs_write(VMCS_PROC_CTLS, vmx->proc);
	return 1;
}

/*
 * Exception or NMI (EXIT_EXCEPTION_NMI): #DB, #AC and #MC always intercept,
 * the others only while studied (vmx_set_study).
 */
static int vmx_exit_exception(struct vmx_vcpu *vmx)
{
	struct khv_vcpu *vcpu = &vmx->vcpu;
	u32 info = vmx->exit_intr_info;
	u32 type = info & INTR_INFO_TYPE;
	struct khv_queued_exception x = { .vector = info & INTR_INFO_VECTOR };
	bool study = khv_studies(vcpu, KHV_STUDY_EXCEPTION);

	if (type == INTR_TYPE_NMI)
		return 1;	/* vmx_run() called the host's handler */
	switch (info & INTR_INFO_VECTOR) {
	case X86_TRAP_MC:
		return 1;	/* vmx_run() forwarded it */
	case X86_TRAP_DB:
		if (type == INTR_TYPE_PRIV_SOFT_EXC) {
			/* INT1 (ICEBP): the #DB it raises, as a trap after it. */
			x.int1 = true;
			return khv_handle_exception(vcpu, &x);
		}
		/*
		 * The qualification has the DR6 bits the #DB would have set; the
		 * breakpoint bits B0-B3 of an earlier #DB do not stay.
		 */
		vmx->dr6 &= ~0xfULL;
		x.has_payload = true;
		x.payload = vmcs_read(VMCS_EXIT_QUALIFICATION) & QUAL_DB_BITS;
		if (study && khv_study_exception(vcpu, &x))
			return 0;
		khv_queue_exception(vcpu, X86_TRAP_DB, false, 0);
		vcpu->exception.has_payload = true;
		vcpu->exception.payload = x.payload;
		return 1;
	case X86_TRAP_AC:
		x.has_error_code = true;
		if (study && khv_study_exception(vcpu, &x))
			return 0;
		khv_queue_exception(vcpu, X86_TRAP_AC, true, 0);
		return 1;
	}
	if (!study || !(BIT(x.vector) & KHV_STUDY_EXCEPTIONS))
		return vmx_exit_unhandled(vmx);
	/* A studied one: the CPU says whether it pushes an error code. */
	if (info & INTR_INFO_HAS_ERROR) {
		x.has_error_code = true;
		x.error_code = vmcs_read32(VMCS_EXIT_INTR_ERROR);
	}
	if (x.vector == X86_TRAP_PF) {
		x.has_payload = true;
		x.payload = vmcs_read(VMCS_EXIT_QUALIFICATION);
	}
	return khv_handle_exception(vcpu, &x);
}

/* ---- MOV CR, CLTS, LMSW -------------------------------------------------- */

/* CR8 is the TPR: the in-kernel APIC's, or only stored without one. */
int vmx_set_cr8(struct vmx_vcpu *vmx, u64 val)
{
	if (val & ~0xfULL)
		return -EINVAL;
	vmx->cr8 = val;
	khv_apic_set_cr8(&vmx->vcpu, val);
	return 0;
}

static u64 vmx_cr8(struct vmx_vcpu *vmx)
{
	return vmx->vcpu.apic ? khv_apic_cr8(&vmx->vcpu) : vmx->cr8;
}

/* The CR a study sees replaced. */
static u64 vmx_cr_now(struct vmx_vcpu *vmx, int cr)
{
	switch (cr) {
	case 0:
		return vmx_get_cr0(vmx);
	case 3:
		return vmcs_read(VMCS_GUEST_CR3);
	case 4:
		return vmx_get_cr4(vmx);
	}
	return vmx_cr8(vmx);
}

static int vmx_exit_cr(struct vmx_vcpu *vmx)
{
	struct khv_vcpu *vcpu = &vmx->vcpu;
	u64 q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	int cr = QUAL_CR_NUM(q), gpr = QUAL_CR_GPR(q);
	bool wide = vmx_long_mode_64(vmx);
	u64 val, cr0;

	switch (QUAL_CR_TYPE(q)) {
	case QUAL_CR_TYPE_TO_CR:
		if (cr != 0 && cr != 3 && cr != 4 && cr != 8)
			return vmx_exit_unhandled(vmx);
		val = wide ? vcpu->regs[gpr] : (u32)vcpu->regs[gpr];
		break;
	case QUAL_CR_TYPE_FROM_CR:
		if (cr == 3)
			val = vmcs_read(VMCS_GUEST_CR3);
		else if (cr == 8)
			val = vmx_cr8(vmx);
		else
			return vmx_exit_unhandled(vmx);
		if (cr == 8 && khv_studies(vcpu, KHV_STUDY_CR8_READ)) {
			khv_study_cr8_read(vcpu, val, gpr);
			return 0;
		}
		vcpu->regs[gpr] = wide ? val : (u32)val;
		return khv_skip_instruction(vcpu);
	case QUAL_CR_TYPE_CLTS:
		cr = 0;
		val = vmx_get_cr0(vmx) & ~X86_CR0_TS;
		break;
	default:	/* LMSW */
		/* PE, MP, EM, TS from the operand; LMSW cannot clear PE. */
		cr = 0;
		cr0 = vmx_get_cr0(vmx);
		val = (cr0 & ~0xeULL) | (QUAL_CR_LMSW_DATA(q) & 0xf);
		break;
	}
	if (khv_studies(vcpu, KHV_STUDY_CR_WRITE) &&
	    khv_study_cr_write(vcpu, cr, val, vmx_cr_now(vmx, cr)))
		return 0;
	if (vmx_set_cr(vcpu, cr, val)) {
		khv_inject_gp(vcpu);
		return 1;
	}
	return khv_skip_instruction(vcpu);
}

/* ---- MOV to/from DRn ------------------------------------------------------ */

static int vmx_exit_dr(struct vmx_vcpu *vmx)
{
	u64 q = vmcs_read(VMCS_EXIT_QUALIFICATION);

	return khv_emulate_mov_dr(&vmx->vcpu, QUAL_DR_NUM(q), QUAL_DR_GPR(q),
				  !(q & QUAL_DR_FROM_DR), vmx_long_mode_64(vmx));
}

/* ---- port I/O ------------------------------------------------------------ */

/*
 * Address size and (OUTS) segment of string I/O: from the VM-exit
 * instruction information where IA32_VMX_BASIC[54] says the CPU gives it,
 * else from the instruction.  false when the exit is settled otherwise
 * (*ret: 1 with the fetch's #PF queued, 0 with an internal error filled).
 */
static bool vmx_string_io_operands(struct vmx_vcpu *vmx, struct khv_pio *pio, int *ret)
{
	struct khv_insn insn;
	int err;

	if (vmx_caps.insn_info_io) {
		u32 info = vmcs_read32(VMCS_EXIT_INSN_INFO);
		u32 seg = INSN_INFO_SEG(info);

		pio->addr_size = 2 << min_t(u32, INSN_INFO_ADDR_SIZE(info), 2);
		if (!pio->in)
			pio->seg = seg <= KHV_SEG_GS ? seg : KHV_SEG_DS;
		return true;
	}
	err = khv_decode_at_rip(&vmx->vcpu, &insn);
	if (err == -EFAULT) {
		*ret = khv_queue_fetch_fault(&vmx->vcpu, &insn);
		return false;
	}
	if (err) {
		u64 data[2] = { vmx->vcpu.regs[KHV_REG_RIP], insn.fetched };

		*ret = khv_exit_internal_error(&vmx->vcpu, KHV_INTERNAL_ERROR_EMULATION,
					       ARRAY_SIZE(data), data);
		return false;
	}
	pio->addr_size = insn.addrsize;
	if (!pio->in)
		pio->seg = insn.seg_override >= 0 ? insn.seg_override : KHV_SEG_DS;
	return true;
}

static int vmx_exit_io(struct vmx_vcpu *vmx)
{
	struct khv_vcpu *vcpu = &vmx->vcpu;
	u64 q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	u64 next = vcpu->regs[KHV_REG_RIP] + vmcs_read32(VMCS_EXIT_INSN_LEN);
	bool wide = vmx_long_mode_64(vmx);
	struct khv_pio pio = {
		.port = QUAL_IO_PORT(q),
		.size = QUAL_IO_SIZE(q),
		.in = q & QUAL_IO_IN,
		.string = q & QUAL_IO_STRING,
		.rep = q & QUAL_IO_REP,
		.addr_size = wide ? 8 : 4,
		.seg = KHV_SEG_ES,	/* INS always writes ES:rDI */
		.next_rip = wide ? next : (u32)next,
	};
	int r;

	if (pio.string && !vmx_string_io_operands(vmx, &pio, &r))
		return r;
	return khv_handle_pio(vcpu, &pio);
}

/* ---- EPT ------------------------------------------------------------------- */

static int vmx_exit_ept_violation(struct vmx_vcpu *vmx)
{
	struct khv_vcpu *vcpu = &vmx->vcpu;
	u64 q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	u64 gpa = vmcs_read(VMCS_GUEST_PHYS_ADDR);
	unsigned int access = KHV_PROT_READ;
	int r;

	/*
	 * The fault hit an IRET that had already unblocked NMIs: the IRET runs
	 * again, so NMIs are blocked until then.
	 */
	if ((q & QUAL_EPT_NMI_UNBLOCK) && !(vmx->idt_vectoring & INTR_INFO_VALID))
		vmx->intr_state |= INTR_STATE_NMI;

	if (q & QUAL_EPT_WRITE)
		access |= KHV_PROT_WRITE;
	/*
	 * During event delivery (IDT, GDT, stack or TSS access), or on a guest
	 * page-table access (which the CPU counts as a write when EPT A/D is
	 * on): map RAM and retry; there is no instruction to emulate if this
	 * is not RAM.
	 */
	if ((vmx->idt_vectoring & INTR_INFO_VALID) ||
	    ((q & QUAL_EPT_GLA_VALID) && !(q & QUAL_EPT_GLA_TRANSLATED))) {
		r = khv_mmu_fault(vcpu->vm, gpa, access);
		if (r == KHV_MMU_MMIO) {
			u64 data[3] = { gpa, q, vmx->idt_vectoring };

			return khv_exit_internal_error(vcpu, (vmx->idt_vectoring & INTR_INFO_VALID) ?
						       KHV_INTERNAL_ERROR_DELIVERY_EV :
						       KHV_INTERNAL_ERROR_EMULATION,
						       ARRAY_SIZE(data), data);
		}
		return r < 0 ? r : 1;
	}
	return khv_handle_npf(vcpu, gpa, q & QUAL_EPT_WRITE, q & QUAL_EPT_FETCH);
}

/* A misconfigured EPT entry is an mmu/ bug, not the guest's doing. */
static int vmx_exit_ept_misconfig(struct vmx_vcpu *vmx)
{
	u64 data[1] = { vmcs_read(VMCS_GUEST_PHYS_ADDR) };

	return khv_exit_internal_error(&vmx->vcpu, KHV_INTERNAL_ERROR_MMU,
				       ARRAY_SIZE(data), data);
}

/*
 * SGDT, SIDT, LGDT, LIDT (EXIT_GDTR_IDTR) and SLDT, STR, LLDT, LTR
 * (EXIT_LDTR_TR): "descriptor-table exiting" is set only while studied
 * (vmx_set_study).  The instruction information's bits 29:28 say which of
 * the four; core decodes the operand itself (core/desc.c says why).
 */
static int vmx_exit_desc(struct vmx_vcpu *vmx)
{
	u32 id = (vmcs_read32(VMCS_EXIT_INSN_INFO) >> 28) & 3;
	bool ldtr_tr = (vmx->exit_reason & 0xffff) == EXIT_LDTR_TR;

	return khv_handle_desc(&vmx->vcpu, (ldtr_tr ? KHV_DESC_SLDT : KHV_DESC_SGDT) + id);
}

/*
 * The PML buffer was full: vmx_handle_exit() drained it already, and the
 * write that wanted to log runs again.  NMI blocking as after an EPT
 * violation.
 */
static int vmx_exit_pml_full(struct vmx_vcpu *vmx)
{
	u64 q = vmcs_read(VMCS_EXIT_QUALIFICATION);

	if ((q & QUAL_EPT_NMI_UNBLOCK) && !(vmx->idt_vectoring & INTR_INFO_VALID))
		vmx->intr_state |= INTR_STATE_NMI;
	return 1;
}

static const vmx_exit_fn vmx_exit_handlers[EXIT_MAX] = {
	[EXIT_EXCEPTION_NMI]		= vmx_exit_exception,
	[EXIT_EXTINT]			= vmx_exit_host,
	[EXIT_TRIPLE_FAULT]		= vmx_exit_triple_fault,
	[EXIT_INIT]			= vmx_exit_host,
	[EXIT_IO_SMI]			= vmx_exit_host,
	[EXIT_OTHER_SMI]		= vmx_exit_host,
	[EXIT_INTR_WINDOW]		= vmx_exit_intr_window,
	[EXIT_NMI_WINDOW]		= vmx_exit_nmi_window,
	[EXIT_CPUID]			= vmx_exit_cpuid,
	[EXIT_GETSEC]			= vmx_exit_ud,
	[EXIT_HLT]			= vmx_exit_hlt,
	[EXIT_RDTSC]			= vmx_exit_rdtsc,
	[EXIT_INVD]			= vmx_exit_skip,
	[EXIT_INVLPG]			= vmx_exit_invlpg,
	[EXIT_RDPMC]			= vmx_exit_gp,
	[EXIT_RSM]			= vmx_exit_ud,
	[EXIT_VMCALL]			= vmx_exit_vmcall,
	[EXIT_VMCLEAR ... EXIT_VMXON]	= vmx_exit_ud,
	[EXIT_CR_ACCESS]		= vmx_exit_cr,
	[EXIT_DR_ACCESS]		= vmx_exit_dr,
	[EXIT_IO]			= vmx_exit_io,
	[EXIT_RDMSR]			= vmx_exit_rdmsr,
	[EXIT_WRMSR]			= vmx_exit_wrmsr,
	[EXIT_MWAIT]			= vmx_exit_ud,
	[EXIT_MONITOR]			= vmx_exit_ud,
	[EXIT_PAUSE]			= vmx_exit_pause,
	[EXIT_GDTR_IDTR]		= vmx_exit_desc,
	[EXIT_LDTR_TR]			= vmx_exit_desc,
	[EXIT_EPT_VIOLATION]		= vmx_exit_ept_violation,
	[EXIT_EPT_MISCONFIG]		= vmx_exit_ept_misconfig,
	[EXIT_INVEPT]			= vmx_exit_ud,
	[EXIT_RDTSCP]			= vmx_exit_rdtsc,
	[EXIT_PREEMPTION_TIMER]		= vmx_exit_host,	/* the time slice bound */
	[EXIT_INVVPID]			= vmx_exit_ud,
	[EXIT_WBINVD]			= vmx_exit_skip,
	[EXIT_XSETBV]			= vmx_exit_xsetbv,
	[EXIT_INVPCID]			= vmx_exit_flush_vpid,
	[EXIT_VMFUNC]			= vmx_exit_ud,
	[EXIT_ENCLS]			= vmx_exit_ud,
	[EXIT_PML_FULL]			= vmx_exit_pml_full,
	[EXIT_XSAVES]			= vmx_exit_ud,
	[EXIT_XRSTORS]			= vmx_exit_ud,
	[EXIT_UMWAIT]			= vmx_exit_ud,
	[EXIT_TPAUSE]			= vmx_exit_ud,
};

/* Exits whose VM-exit instruction length field is valid (SDM 28.2.5). */
static bool vmx_exit_has_insn_len(const struct vmx_vcpu *vmx)
{
	u32 basic = VMX_EXIT_BASIC(vmx->exit_reason), type;

	switch (basic) {
	case EXIT_EXCEPTION_NMI:
		type = vmx->exit_intr_info & INTR_INFO_TYPE;
		return type == INTR_TYPE_SOFT_EXC || type == INTR_TYPE_PRIV_SOFT_EXC;
	case EXIT_CPUID ... EXIT_WRMSR:
	case EXIT_MWAIT:
	case EXIT_MONITOR:
	case EXIT_PAUSE:
	case EXIT_GDTR_IDTR:
	case EXIT_LDTR_TR:
	case EXIT_INVEPT:
	case EXIT_RDTSCP:
	case EXIT_INVVPID ... EXIT_XSETBV:
	case EXIT_RDRAND ... EXIT_RDSEED:
	case EXIT_XSAVES ... EXIT_XRSTORS:
	case EXIT_UMWAIT ... EXIT_TPAUSE:
		return true;
	default:
		return false;
	}
}

/* The length of the intercepted instruction still at RIP, else 0. */
/* DR6 lives in the vCPU (VMX does not switch it), DR7 in the VMCS. */
u64 vmx_get_dr67(struct khv_vcpu *vcpu, int dr)
{
	return dr == 6 ? to_vmx(vcpu)->dr6 : vmcs_read(VMCS_GUEST_DR7);
}

void vmx_set_dr67(struct khv_vcpu *vcpu, int dr, u64 val)
{
	if (dr == 6)
		to_vmx(vcpu)->dr6 = val;
	else
		vmcs_write(VMCS_GUEST_DR7, val);
}

u32 vmx_hw_insn_len(struct khv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 len;

	if (vmx->exit_reason == EXIT_VMFAIL || (vmx->exit_reason & VMX_EXIT_ENTRY_FAILURE) ||
	    vcpu->regs[KHV_REG_RIP] != vmx->exit_rip || !vmx_exit_has_insn_len(vmx))
		return 0;
	len = vmcs_read32(VMCS_EXIT_INSN_LEN);
	return len <= 15 ? len : 0;
}

void vmx_exit_info(struct khv_vcpu *vcpu, u64 *info1, u64 *info2)
{
	u32 basic = VMX_EXIT_BASIC(to_vmx(vcpu)->exit_reason);

	*info1 = vmcs_read(VMCS_EXIT_QUALIFICATION);
	if (basic == EXIT_EPT_VIOLATION || basic == EXIT_EPT_MISCONFIG)
		*info2 = vmcs_read(VMCS_GUEST_PHYS_ADDR);
	else if (basic == EXIT_EXCEPTION_NMI)
		*info2 = vmcs_read32(VMCS_EXIT_INTR_INFO);
	else
		*info2 = 0;
}

/* What KHV_RUN reports about interrupt acceptance after every exit. */
static void vmx_update_run_flags(struct vmx_vcpu *vmx)
{
	struct khv_vcpu *vcpu = &vmx->vcpu;
	bool if_set = vcpu->rflags & X86_EFLAGS_IF;

	vcpu->run->if_flag = if_set;
	vcpu->run->ready_for_interrupt_injection =
		if_set && !vmx_in_shadow(vmx) && !vcpu->extint_pending && !vmx->reinject;
}

/*
 * Entry failures, as KHV_EXIT_FAIL_ENTRY.  hardware_entry_failure_reason:
 *  - VMLAUNCH/VMRESUME failed (VMfail): the VM-instruction error (bit 31
 *    clear; 0 if VMX was off); hw_exit_reason is 0xffffffff;
 *  - the entry failed while or after loading guest state: bits 31:0 the
 *    exit reason with bit 31 set (0x80000021 invalid guest state,
 *    0x80000022 MSR loading, 0x80000029 machine check), bits 63:32 the exit
 *    qualification (for 0x80000021: 0 default, 2 PDPTE, 3 NMI injection,
 *    4 VMCS link pointer; for 0x80000022 the failing MSR entry, from 1).
 */
static int vmx_exit_fail_entry(struct vmx_vcpu *vmx)
{
	struct khv_vcpu *vcpu = &vmx->vcpu;
	u64 reason;

	if (vmx->exit_reason == EXIT_VMFAIL) {
		reason = vmx->vm_insn_error;
		pr_info_ratelimited("khv: vmx: VM%s failed: VM-instruction error %llu\n",
				    vmx->launched ? "RESUME" : "LAUNCH", reason);
	} else {
		u64 q = vmcs_read(VMCS_EXIT_QUALIFICATION);

		reason = vmx->exit_reason | (q << 32);
		pr_info_ratelimited("khv: vmx: VM entry failed: reason %#x qualification %#llx cr0 %#llx cr4 %#llx efer %#llx\n",
				    vmx->exit_reason, q, vmcs_read(VMCS_GUEST_CR0),
				    vmcs_read(VMCS_GUEST_CR4), vmx->efer);
	}
	return khv_exit_fail_entry(vcpu, reason);
}

int vmx_handle_exit(struct khv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 basic = VMX_EXIT_BASIC(vmx->exit_reason);
	vmx_exit_fn fn = NULL;
	int r;

	khv_count_exit(vcpu, vmx->exit_reason);
	/* Before any handler, so that userspace never sees an exit before its log. */
	if (vmx->exit_reason != EXIT_VMFAIL)
		vmx_pml_drain(vmx);

	if (vmx->exit_reason == EXIT_VMFAIL || (vmx->exit_reason & VMX_EXIT_ENTRY_FAILURE)) {
		r = vmx_exit_fail_entry(vmx);
	} else {
		if (basic < ARRAY_SIZE(vmx_exit_handlers))
			fn = vmx_exit_handlers[basic];
		r = fn ? fn(vmx) : vmx_exit_unhandled(vmx);
	}
	vmx_update_run_flags(vmx);
	return r;
}

/* ---- exit statistics ----------------------------------------------------- */

/* Index 0: reasons khv has no name for; 1..EXIT_MAX: reason + 1; then VMfail. */
#define VMX_STAT_OTHER		0
#define VMX_STAT_VMFAIL		(EXIT_MAX + 1)
#define VMX_STAT_OTHER_CODE	0xfffffff0u

static const char *const vmx_exit_names[VMX_STAT_VMFAIL + 1] = {
	[VMX_STAT_OTHER]		= "vmx_other",
	[EXIT_EXCEPTION_NMI + 1] = "vmx_exception_nmi",
	[EXIT_EXTINT + 1] = "vmx_external_interrupt",
	[EXIT_TRIPLE_FAULT + 1] = "vmx_triple_fault",
	[EXIT_INIT + 1] = "vmx_init_signal",
	[EXIT_SIPI + 1] = "vmx_sipi",
	[EXIT_IO_SMI + 1] = "vmx_io_smi",
	[EXIT_OTHER_SMI + 1] = "vmx_other_smi",
	[EXIT_INTR_WINDOW + 1] = "vmx_interrupt_window",
	[EXIT_NMI_WINDOW + 1] = "vmx_nmi_window",
	[EXIT_TASK_SWITCH + 1] = "vmx_task_switch",
	[EXIT_CPUID + 1] = "vmx_cpuid",
	[EXIT_GETSEC + 1] = "vmx_getsec",
	[EXIT_HLT + 1] = "vmx_hlt",
	[EXIT_INVD + 1] = "vmx_invd",
	[EXIT_INVLPG + 1] = "vmx_invlpg",
	[EXIT_RDPMC + 1] = "vmx_rdpmc",
	[EXIT_RDTSC + 1] = "vmx_rdtsc",
	[EXIT_RSM + 1] = "vmx_rsm",
	[EXIT_VMCALL + 1] = "vmx_vmcall",
	[EXIT_VMCLEAR + 1] = "vmx_vmclear",
	[EXIT_VMLAUNCH + 1] = "vmx_vmlaunch",
	[EXIT_VMPTRLD + 1] = "vmx_vmptrld",
	[EXIT_VMPTRST + 1] = "vmx_vmptrst",
	[EXIT_VMREAD + 1] = "vmx_vmread",
	[EXIT_VMRESUME + 1] = "vmx_vmresume",
	[EXIT_VMWRITE + 1] = "vmx_vmwrite",
	[EXIT_VMXOFF + 1] = "vmx_vmxoff",
	[EXIT_VMXON + 1] = "vmx_vmxon",
	[EXIT_CR_ACCESS + 1] = "vmx_cr_access",
	[EXIT_DR_ACCESS + 1] = "vmx_dr_access",
	[EXIT_IO + 1] = "vmx_io_instruction",
	[EXIT_RDMSR + 1] = "vmx_rdmsr",
	[EXIT_WRMSR + 1] = "vmx_wrmsr",
	[EXIT_BAD_GUEST_STATE + 1] = "vmx_invalid_guest_state",
	[EXIT_MSR_LOADING + 1] = "vmx_msr_loading",
	[EXIT_MWAIT + 1] = "vmx_mwait",
	[EXIT_MONITOR_TRAP + 1] = "vmx_monitor_trap_flag",
	[EXIT_MONITOR + 1] = "vmx_monitor",
	[EXIT_PAUSE + 1] = "vmx_pause",
	[EXIT_MCE_DURING_ENTRY + 1] = "vmx_mce_during_entry",
	[EXIT_TPR_BELOW_THRESHOLD + 1] = "vmx_tpr_below_threshold",
	[EXIT_APIC_ACCESS + 1] = "vmx_apic_access",
	[EXIT_VIRTUALIZED_EOI + 1] = "vmx_virtualized_eoi",
	[EXIT_GDTR_IDTR + 1] = "vmx_gdtr_idtr",
	[EXIT_LDTR_TR + 1] = "vmx_ldtr_tr",
	[EXIT_EPT_VIOLATION + 1] = "vmx_ept_violation",
	[EXIT_EPT_MISCONFIG + 1] = "vmx_ept_misconfig",
	[EXIT_INVEPT + 1] = "vmx_invept",
	[EXIT_RDTSCP + 1] = "vmx_rdtscp",
	[EXIT_PREEMPTION_TIMER + 1] = "vmx_preemption_timer",
	[EXIT_INVVPID + 1] = "vmx_invvpid",
	[EXIT_WBINVD + 1] = "vmx_wbinvd",
	[EXIT_XSETBV + 1] = "vmx_xsetbv",
	[EXIT_APIC_WRITE + 1] = "vmx_apic_write",
	[EXIT_RDRAND + 1] = "vmx_rdrand",
	[EXIT_INVPCID + 1] = "vmx_invpcid",
	[EXIT_VMFUNC + 1] = "vmx_vmfunc",
	[EXIT_ENCLS + 1] = "vmx_encls",
	[EXIT_RDSEED + 1] = "vmx_rdseed",
	[EXIT_PML_FULL + 1] = "vmx_pml_full",
	[EXIT_XSAVES + 1] = "vmx_xsaves",
	[EXIT_XRSTORS + 1] = "vmx_xrstors",
	[EXIT_PCONFIG + 1] = "vmx_pconfig",
	[EXIT_SPP + 1] = "vmx_spp",
	[EXIT_UMWAIT + 1] = "vmx_umwait",
	[EXIT_TPAUSE + 1] = "vmx_tpause",
	[EXIT_LOADIWKEY + 1] = "vmx_loadiwkey",
	[EXIT_ENCLV + 1] = "vmx_enclv",
	[EXIT_ENQCMD_PASID + 1] = "vmx_enqcmd_pasid",
	[EXIT_ENQCMDS_PASID + 1] = "vmx_enqcmds_pasid",
	[EXIT_BUS_LOCK + 1] = "vmx_bus_lock",
	[EXIT_NOTIFY + 1] = "vmx_notify",
	[EXIT_SEAMCALL + 1] = "vmx_seamcall",
	[EXIT_TDCALL + 1] = "vmx_tdcall",
	[VMX_STAT_VMFAIL]		= "vmx_vmfail",
};

static_assert(ARRAY_SIZE(vmx_exit_names) <= KHV_MAX_EXIT_STATS);

/* Full exit reason (or EXIT_VMFAIL) -> counter index. */
u32 vmx_exit_stat_index(u32 hw_code)
{
	u32 basic = VMX_EXIT_BASIC(hw_code);

	if (hw_code == EXIT_VMFAIL)
		return VMX_STAT_VMFAIL;
	if (basic < EXIT_MAX && vmx_exit_names[basic + 1])
		return basic + 1;
	return VMX_STAT_OTHER;
}

bool vmx_exit_stat_info(u32 index, u32 *hw_code, const char **name)
{
	if (index >= ARRAY_SIZE(vmx_exit_names) || !vmx_exit_names[index])
		return false;
	if (index == VMX_STAT_OTHER)
		*hw_code = VMX_STAT_OTHER_CODE;
	else if (index == VMX_STAT_VMFAIL)
		*hw_code = EXIT_VMFAIL;
	else
		*hw_code = index - 1;
	*name = vmx_exit_names[index];
	return true;
}
