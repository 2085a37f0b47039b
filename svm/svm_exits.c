// SPDX-License-Identifier: GPL-2.0
/*
 * SVM exit handling: decode the VMCB's exit code and EXITINFO into calls of
 * core's vendor-neutral handlers (core/exits.c), plus the few exits that are
 * SVM's own business (DR accesses, the interrupt window, NMI unmasking).
 * Return convention as core's: > 0 re-enter, 0 to userspace, < 0 errno.
 *
 * Choices made here:
 *  - RDTSCP and RDPID run in the guest, with its TSC_AUX (core/tsc_aux.c);
 *    RDTSCP exits only with RDTSC, while studied.
 *  - VMRUN, VMLOAD, VMSAVE, STGI, CLGI, SKINIT, INVLPGA, MONITOR, MWAIT,
 *    RDPRU, RSM, INVLPGB, TLBSYNC are #UD: no nested virtualization, no SMM,
 *    no MONITOR/MWAIT in CPUID.  RDPMC is #GP(0): no counter is offered.
 *  - INVD and WBINVD are skipped: guest memory is ordinary write-back RAM.
 *  - Debug registers: every MOV DR exits and is emulated against vcpu->dr[]
 *    (DR0-3) and the VMCB's DR6/DR7, which VMRUN loads; svm_run() puts
 *    DR0-3 in the hardware only while the guest's DR7 enables a breakpoint.
 *  - MOV to CR0 and CR4 (and CLTS, LMSW) exit and are checked as the CPU
 *    would, against the bits khv offers (svm_set_cr0/4): #GP otherwise, so
 *    the VMCB never holds a value VMRUN refuses and the guest never owns a
 *    CR4 feature whose state khv does not switch (PKE, CET).  MOV to CR3
 *    and CR8, from CR8, INVLPG, every PAUSE and the exceptions other than
 *    #DB, #AC and #MC exit only while the vCPU studies them (core/study.c).
 *  - TASK_SWITCH and any exit not listed become an UNHANDLED_EXIT internal
 *    error; nothing here can BUG.
 */
#include <linux/kernel.h>
#include <asm/msr-index.h>
#include <asm/processor.h>
#include <asm/traps.h>

#include "svm.h"
#include "../core/emulate.h"

typedef int (*svm_exit_fn)(struct svm_vcpu *svm);

static int svm_exit_unhandled(struct svm_vcpu *svm)
{
	const struct svm_vmcb_control *c = &svm->vmcb->control;
	u64 data[3] = { svm_exit_code(svm), c->exit_info_1, c->exit_info_2 };

	return khv_exit_internal_error(&svm->vcpu, KHV_INTERNAL_ERROR_UNHANDLED_EXIT,
				       ARRAY_SIZE(data), data);
}

/* The host took what caused the exit (interrupt, NMI, SMI, #MC) already. */
static int svm_exit_host(struct svm_vcpu *svm)
{
	return 1;
}

static int svm_exit_ud(struct svm_vcpu *svm)
{
	khv_inject_ud(&svm->vcpu);
	return 1;
}

static int svm_exit_rdpmc(struct svm_vcpu *svm)
{
	khv_inject_gp(&svm->vcpu);
	return 1;
}

static int svm_exit_skip(struct svm_vcpu *svm)
{
	return khv_skip_instruction(&svm->vcpu);
}

/*
 * PAUSE exits through the filter only.  The instruction is not skipped: the
 * next VMRUN reloads the filter count, so the same PAUSE then runs natively.
 */
static int svm_exit_pause(struct svm_vcpu *svm)
{
	if (khv_studies(&svm->vcpu, KHV_STUDY_PAUSE))
		return khv_handle_pause(&svm->vcpu);
	return 1;
}

static int svm_exit_cpuid(struct svm_vcpu *svm)
{
	return khv_handle_cpuid(&svm->vcpu);
}

/* Only while the vCPU studies RDTSC (svm_set_study). */
/*
 * RDTSC, and RDTSCP: both intercepted only while studied.  QEMU reports
 * an RDTSCP under the RDTSC code; the instruction says which it was (not
 * its length: a prefixed RDTSC is as long as RDTSCP).
 */
static int svm_exit_rdtsc(struct svm_vcpu *svm)
{
	return khv_handle_rdtsc(&svm->vcpu, khv_rip_is_rdtscp(&svm->vcpu));
}

static int svm_exit_rdtscp(struct svm_vcpu *svm)
{
	return khv_handle_rdtsc(&svm->vcpu, true);
}

static int svm_exit_hlt(struct svm_vcpu *svm)
{
	return khv_handle_hlt(&svm->vcpu);
}

static int svm_exit_vmmcall(struct svm_vcpu *svm)
{
	return khv_handle_hypercall(&svm->vcpu);
}

static int svm_exit_xsetbv(struct svm_vcpu *svm)
{
	return khv_handle_xsetbv(&svm->vcpu);
}

static int svm_exit_emulation_failed(struct svm_vcpu *svm, int err)
{
	struct khv_vcpu *vcpu = &svm->vcpu;
	u64 data[3] = { svm_exit_code(svm), vcpu->regs[KHV_REG_RIP], err };

	return khv_exit_internal_error(vcpu, KHV_INTERNAL_ERROR_EMULATION,
				       ARRAY_SIZE(data), data);
}

/* ---- MOV to CR0/CR3/CR4/CR8, CLTS, LMSW, MOV from CR8 -------------------- */

static u64 svm_insn_rm_reg(const struct svm_vcpu *svm, const struct khv_insn *insn)
{
	return svm->vcpu.regs[(insn->modrm_rm & 7) | ((insn->rex & 1) << 3)];
}

/*
 * The CR a MOV to or from CRn names: ModRM.reg, extended by REX.R; with a
 * LOCK prefix, CR0 means CR8 (AMD's alias for code outside 64-bit mode).
 */
static int svm_insn_cr(const struct khv_insn *insn)
{
	int cr = (insn->modrm_reg & 7) | ((insn->rex & 4) << 1);

	return insn->lock && cr == 0 ? 8 : cr;
}

/*
 * The value an intercepted CR write would store, from EXITINFO1 with decode
 * assists (MOV CR only), else from the instruction at RIP.  false when the
 * exit is settled otherwise (*ret: a queued fault or an internal error).
 */
static bool svm_cr_write_value(struct svm_vcpu *svm, int cr, u64 *val, int *ret)
{
	struct khv_vcpu *vcpu = &svm->vcpu;
	const struct svm_vmcb_control *c = &svm->vmcb->control;
	u64 cr0 = svm->vmcb->save.cr0;
	struct khv_insn insn;
	u16 msw;
	int err;

	if (svm_caps.decode_assists && (c->exit_info_1 & VMCB_CR_MOV_VALID)) {
		*val = vcpu->regs[c->exit_info_1 & VMCB_MOV_GPR_MASK];
		if (!svm_long_mode_64(svm))
			*val = (u32)*val;
		return true;
	}
	err = khv_decode_at_rip(vcpu, &insn);
	if (err == -EFAULT) {
		*ret = khv_queue_fetch_fault(vcpu, &insn);
		return false;
	}
	if (err || insn.map != KHV_MAP_0F)
		goto fail;
	/* MOV CRn, reg: ModRM.reg (REX.R) names the CR, ModRM.rm the GPR. */
	if (insn.opcode == 0x22 && svm_insn_cr(&insn) == cr) {
		*val = svm_insn_rm_reg(svm, &insn);
		if (insn.mode != 8)
			*val = (u32)*val;
		return true;
	}
	if (cr == 0 && insn.opcode == 0x06) {		/* CLTS */
		*val = cr0 & ~X86_CR0_TS;
		return true;
	}
	if (cr == 0 && insn.opcode == 0x01 && (insn.modrm_reg & 7) == 6) {	/* LMSW */
		if (insn.mem_operand) {
			err = khv_read_guest_virt(vcpu, khv_insn_mem_linear(vcpu, &insn), &msw,
						  sizeof(msw), 0);
			if (err == -EFAULT) {
				*ret = 1;	/* the fault is queued */
				return false;
			}
			if (err)
				goto fail;
		} else {
			msw = svm_insn_rm_reg(svm, &insn);
		}
		/* PE, MP, EM and TS only; LMSW sets PE but never clears it. */
		*val = (cr0 & ~0xfULL) | (msw & 0xf) | (cr0 & X86_CR0_PE);
		return true;
	}
fail:
	*ret = svm_exit_emulation_failed(svm, err);
	return false;
}

/* The CR a study sees replaced: CR8 is the TPR, in V_TPR. */
static u64 svm_cr_now(struct svm_vcpu *svm, int cr)
{
	const struct svm_vmcb *vmcb = svm->vmcb;

	switch (cr) {
	case 0:
		return vmcb->save.cr0;
	case 3:
		return vmcb->save.cr3;
	case 4:
		return vmcb->save.cr4;
	}
	return vmcb->control.int_ctl & VMCB_V_TPR_MASK;
}

static int svm_exit_cr_write(struct svm_vcpu *svm)
{
	int cr = svm_exit_code(svm) - VMEXIT_CR0_WRITE, r;
	u64 val;

	if (!svm_cr_write_value(svm, cr, &val, &r))
		return r;
	if (khv_studies(&svm->vcpu, KHV_STUDY_CR_WRITE) &&
	    khv_study_cr_write(&svm->vcpu, cr, val, svm_cr_now(svm, cr)))
		return 0;
	if (svm_set_cr(&svm->vcpu, cr, val)) {
		khv_inject_gp(&svm->vcpu);
		return 1;
	}
	return khv_skip_instruction(&svm->vcpu);
}

/*
 * MOV from CR8, intercepted only while studied: V_TPR into the GPR that
 * EXITINFO1 names (decode assists) or the instruction does.
 */
static int svm_exit_cr8_read(struct svm_vcpu *svm)
{
	struct khv_vcpu *vcpu = &svm->vcpu;
	const struct svm_vmcb_control *c = &svm->vmcb->control;
	u64 val = c->int_ctl & VMCB_V_TPR_MASK;
	struct khv_insn insn;
	int gpr, err;

	if (svm_caps.decode_assists && (c->exit_info_1 & VMCB_CR_MOV_VALID)) {
		gpr = c->exit_info_1 & VMCB_MOV_GPR_MASK;
	} else {
		err = khv_decode_at_rip(vcpu, &insn);
		if (err == -EFAULT)
			return khv_queue_fetch_fault(vcpu, &insn);
		if (err || insn.map != KHV_MAP_0F || insn.opcode != 0x20 || svm_insn_cr(&insn) != 8)
			return svm_exit_emulation_failed(svm, err);
		gpr = (insn.modrm_rm & 7) | ((insn.rex & 1) << 3);
	}
	if (khv_studies(vcpu, KHV_STUDY_CR8_READ)) {
		khv_study_cr8_read(vcpu, val, gpr);
		return 0;
	}
	vcpu->regs[gpr] = val;	/* 0-15: the same in any operand size */
	return khv_skip_instruction(vcpu);
}

/*
 * INVLPG, intercepted only while studied: the address from EXITINFO1
 * (decode assists) or the instruction's memory operand.
 */
static int svm_exit_invlpg(struct svm_vcpu *svm)
{
	struct khv_vcpu *vcpu = &svm->vcpu;
	struct khv_insn insn;
	int err;

	if (svm_caps.decode_assists)
		return khv_handle_invlpg(vcpu, svm->vmcb->control.exit_info_1);
	err = khv_decode_at_rip(vcpu, &insn);
	if (err == -EFAULT)
		return khv_queue_fetch_fault(vcpu, &insn);
	if (err || insn.map != KHV_MAP_0F || insn.opcode != 0x01 ||
	    (insn.modrm_reg & 7) != 7 || !insn.mem_operand)
		return svm_exit_emulation_failed(svm, err);
	return khv_handle_invlpg(vcpu, khv_insn_mem_linear(vcpu, &insn));
}

/* EXITINFO1 is 0 for RDMSR, 1 for WRMSR. */
static int svm_exit_msr(struct svm_vcpu *svm)
{
	if (svm->vmcb->control.exit_info_1)
		return khv_handle_wrmsr(&svm->vcpu);
	return khv_handle_rdmsr(&svm->vcpu);
}

/*
 * What a string IN/OUT needs beyond the sizes: the address size (EXITINFO1
 * bits A16/A32/A64) and an OUTS source's segment (EXITINFO1 with decode
 * assists, else the instruction's own prefix: DS when none).  QEMU's TCG
 * sets none of the address-size bits, and has no decode assists: the
 * instruction's decode (the mode and a 0x67 prefix) says then.
 */
static int svm_pio_string(struct svm_vcpu *svm, u64 info, struct khv_pio *pio)
{
	bool need_seg = !pio->in && !svm_caps.decode_assists;
	struct khv_insn insn;
	int err;

	if (info & VMCB_IO_A64)
		pio->addr_size = 8;
	else if (info & VMCB_IO_A32)
		pio->addr_size = 4;
	else if (info & VMCB_IO_A16)
		pio->addr_size = 2;
	if (!pio->in && svm_caps.decode_assists) {
		pio->seg = (info >> VMCB_IO_SEG_SHIFT) & 7;
		if (pio->seg > KHV_SEG_GS)
			pio->seg = KHV_SEG_DS;
	}
	if (pio->addr_size && !need_seg)
		return 0;
	err = khv_decode_at_rip(&svm->vcpu, &insn);
	if (err == -EFAULT)
		return khv_queue_fetch_fault(&svm->vcpu, &insn);
	if (!pio->addr_size)
		pio->addr_size = err ? insn.mode : insn.addrsize;	/* mode: the default */
	if (need_seg)
		pio->seg = (!err && insn.seg_override >= 0) ? insn.seg_override : KHV_SEG_DS;
	return 0;
}

static int svm_exit_ioio(struct svm_vcpu *svm)
{
	const struct svm_vmcb_control *c = &svm->vmcb->control;
	u64 info = c->exit_info_1;
	struct khv_pio pio = {
		.port = info >> VMCB_IO_PORT_SHIFT,
		.in = info & VMCB_IO_IN,
		.string = info & VMCB_IO_STR,
		.rep = info & VMCB_IO_REP,
		.seg = KHV_SEG_ES,	/* INS always writes ES:rDI */
		.next_rip = c->exit_info_2,
	};
	int r;

	if (info & VMCB_IO_SZ32)
		pio.size = 4;
	else if (info & VMCB_IO_SZ16)
		pio.size = 2;
	else
		pio.size = 1;
	if (pio.string) {
		r = svm_pio_string(svm, info, &pio);
		if (r)
			return r;	/* a #PF on the fetch is queued */
	}
	return khv_handle_pio(&svm->vcpu, &pio);
}

static int svm_exit_npf(struct svm_vcpu *svm)
{
	const struct svm_vmcb_control *c = &svm->vmcb->control;
	u64 err = c->exit_info_1, gpa = c->exit_info_2;

	unsigned int access = KHV_PROT_READ;
	int r;

	/* Reserved bits in our own tables: an mmu/ bug, not the guest's. */
	if (err & VMCB_NPF_RSVD) {
		u64 data[2] = { gpa, err };

		return khv_exit_internal_error(&svm->vcpu, KHV_INTERNAL_ERROR_MMU,
					       ARRAY_SIZE(data), data);
	}
	if (!(c->exit_int_info & VMCB_EV_VALID) && !(err & VMCB_NPF_WALK))
		return khv_handle_npf(&svm->vcpu, gpa, err & VMCB_NPF_WRITE,
				      err & VMCB_NPF_FETCH);

	/*
	 * The fault hit while the CPU was delivering an event (IDT, GDT, stack
	 * or TSS access), or walking the guest's own page tables (a read, or
	 * an A/D update), not the access of the instruction at RIP: map RAM
	 * and let the CPU retry.  Not RAM (MMIO, or a write to a read-only
	 * slot): there is nothing to emulate, and an MMIO exit would blame the
	 * instruction for an address it never named.
	 */
	if (err & VMCB_NPF_WRITE)
		access |= KHV_PROT_WRITE;
	r = khv_mmu_fault(svm->vcpu.vm, gpa, access);
	if (r == KHV_MMU_MMIO) {
		u64 data[3] = { gpa, err, c->exit_int_info };
		bool delivery = c->exit_int_info & VMCB_EV_VALID;

		return khv_exit_internal_error(&svm->vcpu, delivery ?
					       KHV_INTERNAL_ERROR_DELIVERY_EV :
					       KHV_INTERNAL_ERROR_EMULATION,
					       ARRAY_SIZE(data), data);
	}
	return r < 0 ? r : 1;
}

/*
 * The SHUTDOWN intercept (triple fault) leaves the VMCB undefined: report
 * it, and put the vCPU back in its RESET state so that a later KHV_RUN
 * starts from something VMRUN accepts.
 */
static int svm_exit_shutdown(struct svm_vcpu *svm)
{
	int r = khv_handle_shutdown(&svm->vcpu);

	svm_vcpu_reset(svm);
	return r;
}

/* The guest can take an interrupt now. */
static int svm_exit_vintr(struct svm_vcpu *svm)
{
	struct khv_vcpu *vcpu = &svm->vcpu;
	struct svm_vmcb_control *c = &svm->vmcb->control;

	c->int_ctl &= ~(VMCB_V_IRQ | VMCB_V_IGN_TPR | VMCB_V_INTR_PRIO_MASK);
	c->intercept_misc1 &= ~VMCB_ICPT1_VINTR;
	if (vcpu->extint_pending || vcpu->irq_window)
		return 1;	/* svm_run() injects it */
	/*
	 * Only a window that is open: under an emulated SVM that drops the
	 * interrupt shadow at VMRUN, the virtual interrupt can be taken inside
	 * a shadow that svm_keep_shadow() then keeps; the window opens at a
	 * later exit.
	 */
	if (READ_ONCE(vcpu->run->request_interrupt_window) &&
	    (vcpu->rflags & X86_EFLAGS_IF) && !(c->int_state & VMCB_INT_SHADOW))
		return khv_exit_irq_window(vcpu);
	return 1;
}

/*
 * IRET while an NMI is masked: the intercept comes before the IRET runs, so
 * NMIs open only once it has run: with an NMI pending, svm_run() steps it
 * and the #DB right after says so; else RIP moving past it does, seen at
 * the next exit.
 */
static int svm_exit_iret(struct svm_vcpu *svm)
{
	svm->nmi_iret_seen = true;
	svm->nmi_iret_rip = svm->vcpu.regs[KHV_REG_RIP];
	svm->vmcb->control.intercept_misc1 &= ~VMCB_ICPT1_IRET;
	return 1;
}

/* INT1 (ICEBP): a #DB trap after it, which a study sees at the INT1. */
static int svm_exit_icebp(struct svm_vcpu *svm)
{
	struct khv_queued_exception x = { .vector = X86_TRAP_DB, .int1 = true };

	return khv_handle_exception(&svm->vcpu, &x);
}

/*
 * The #DB that follows the IRET khv stepped (svm_nmi_step_arm()): the
 * guest's own as well when its TF was set for that IRET too, or when one of
 * its enabled breakpoints newly hit.  Then DR6 keeps what the CPU recorded,
 * less the BS of khv's step if the guest's TF had no part in it; else DR6
 * goes back to what it was and the #DB is dropped.
 */
static bool svm_nmi_step_is_guests(struct svm_vcpu *svm)
{
	struct svm_vmcb_save *s = &svm->vmcb->save;
	u64 hit = s->dr6 & ~svm->nmi_ss_dr6 & KHV_DR6_B0_3;
	u64 enabled = 0;
	int i;

	if (svm->nmi_ss_guest_tf)
		return true;
	for (i = 0; i < 4; i++)
		if (s->dr7 & (3ULL << (2 * i)))
			enabled |= BIT_ULL(i);
	if (!(hit & enabled)) {
		s->dr6 = svm->nmi_ss_dr6;
		return false;
	}
	s->dr6 = (s->dr6 & ~KHV_DR6_BS) | (svm->nmi_ss_dr6 & KHV_DR6_BS);
	return true;
}

/*
 * Intercepted #DB: the CPU has already recorded the cause in the guest's DR6
 * (the VMCB's), as it would have before delivery; deliver it.  The NMI it
 * may have been stepped for is unmasked already and goes in next, right
 * after this #DB if both are due (svm_inject_events()).
 */
static int svm_exit_db(struct svm_vcpu *svm)
{
	struct khv_queued_exception x = {
		.vector = X86_TRAP_DB,
		.has_payload = true,	/* for the study to show: DR6 has it already */
		.payload = svm->vmcb->save.dr6 & KHV_DR6_VOLATILE,
	};

	if (svm->nmi_ss_trap) {
		svm->nmi_ss_trap = false;
		if (!svm_nmi_step_is_guests(svm))
			return 1;
	}
	if (khv_studies(&svm->vcpu, KHV_STUDY_EXCEPTION) && khv_study_exception(&svm->vcpu, &x))
		return 0;
	khv_queue_exception(&svm->vcpu, X86_TRAP_DB, false, 0);
	return 1;
}

static int svm_exit_ac(struct svm_vcpu *svm)
{
	struct khv_queued_exception x = { .vector = X86_TRAP_AC, .has_error_code = true };

	if (khv_studies(&svm->vcpu, KHV_STUDY_EXCEPTION) && khv_study_exception(&svm->vcpu, &x))
		return 0;
	khv_queue_exception(&svm->vcpu, X86_TRAP_AC, true, 0);
	return 1;
}

/*
 * Any other exception: intercepted only while studied (svm_set_study).
 * EXITINFO1 is the error code, EXITINFO2 the faulting address of a #PF
 * (CR2 is not written: the delivery khv makes does that).
 */
static int svm_exit_exception(struct svm_vcpu *svm)
{
	const struct svm_vmcb *vmcb = svm->vmcb;
	u8 vector = svm_exit_code(svm) - VMEXIT_EXCP_BASE;
	struct khv_queued_exception x = { .vector = vector };

	switch (vector) {
	case X86_TRAP_TS: case X86_TRAP_NP: case X86_TRAP_SS: case X86_TRAP_GP:
	case X86_TRAP_PF:
		/* Real mode pushes no error code. */
		x.has_error_code = vmcb->save.cr0 & X86_CR0_PE;
		x.error_code = vmcb->control.exit_info_1;
		break;
	}
	if (vector == X86_TRAP_PF) {
		x.has_payload = true;
		x.payload = vmcb->control.exit_info_2;
	}
	return khv_handle_exception(&svm->vcpu, &x);
}

/* ---- MOV to/from DRn ------------------------------------------------------ */

/*
 * Which DR and which GPR: from EXITINFO1 with decode assists, else decoded.
 * false when the exit is settled otherwise (*ret: a queued fault, or an
 * internal error for an instruction that is not MOV DR).
 */
static bool svm_dr_operands(struct svm_vcpu *svm, bool write, int *dr, int *gpr,
			    bool *wide, int *ret)
{
	struct khv_vcpu *vcpu = &svm->vcpu;
	const struct svm_vmcb_control *c = &svm->vmcb->control;
	struct khv_insn insn;
	int err;

	if (svm_caps.decode_assists) {
		*dr = (svm_exit_code(svm) - VMEXIT_DR0_READ) & 0xf;
		*gpr = c->exit_info_1 & VMCB_MOV_GPR_MASK;
		*wide = svm_long_mode_64(svm);
		return true;
	}
	err = khv_decode_at_rip(vcpu, &insn);
	if (err == -EFAULT) {
		*ret = khv_queue_fetch_fault(vcpu, &insn);
		return false;
	}
	if (err || insn.map != KHV_MAP_0F || insn.opcode != (write ? 0x23 : 0x21) ||
	    !insn.has_modrm) {
		u64 data[3] = { svm_exit_code(svm), vcpu->regs[KHV_REG_RIP], err };

		*ret = khv_exit_internal_error(vcpu, KHV_INTERNAL_ERROR_EMULATION,
					       ARRAY_SIZE(data), data);
		return false;
	}
	/* MOV DR ignores ModRM.mod: always a register.  REX.R would name DR8+. */
	if (insn.rex & 4) {
		khv_inject_ud(vcpu);
		*ret = 1;
		return false;
	}
	*dr = insn.modrm_reg & 7;
	*gpr = (insn.modrm_rm & 7) | ((insn.rex & 1) << 3);
	*wide = insn.mode == 8;
	return true;
}

static int svm_exit_dr(struct svm_vcpu *svm)
{
	bool write = svm_exit_code(svm) >= VMEXIT_DR0_WRITE;
	int dr, gpr, r;
	bool wide;

	if (!svm_dr_operands(svm, write, &dr, &gpr, &wide, &r))
		return r;
	return khv_emulate_mov_dr(&svm->vcpu, dr, gpr, write, wide);
}

/*
 * SGDT, SIDT, SLDT, STR and their loads: intercepted only while studied
 * (svm_set_study); the exit code names the table and the direction, no
 * more, so core decodes and emulates them (core/desc.c).
 */
static int svm_exit_desc(struct svm_vcpu *svm)
{
	static const u8 insn[] = {
		[VMEXIT_IDTR_READ - VMEXIT_IDTR_READ] = KHV_DESC_SIDT,
		[VMEXIT_GDTR_READ - VMEXIT_IDTR_READ] = KHV_DESC_SGDT,
		[VMEXIT_LDTR_READ - VMEXIT_IDTR_READ] = KHV_DESC_SLDT,
		[VMEXIT_TR_READ - VMEXIT_IDTR_READ] = KHV_DESC_STR,
		[VMEXIT_IDTR_WRITE - VMEXIT_IDTR_READ] = KHV_DESC_LIDT,
		[VMEXIT_GDTR_WRITE - VMEXIT_IDTR_READ] = KHV_DESC_LGDT,
		[VMEXIT_LDTR_WRITE - VMEXIT_IDTR_READ] = KHV_DESC_LLDT,
		[VMEXIT_TR_WRITE - VMEXIT_IDTR_READ] = KHV_DESC_LTR,
	};

	return khv_handle_desc(&svm->vcpu, insn[svm_exit_code(svm) - VMEXIT_IDTR_READ]);
}

static const svm_exit_fn svm_exit_handlers[] = {
	[VMEXIT_CR0_READ + 8]			= svm_exit_cr8_read,
	[VMEXIT_CR0_WRITE]			= svm_exit_cr_write,
	[VMEXIT_CR0_WRITE + 3]			= svm_exit_cr_write,
	[VMEXIT_CR0_WRITE + 4]			= svm_exit_cr_write,
	[VMEXIT_CR0_WRITE + 8]			= svm_exit_cr_write,
	[VMEXIT_DR0_READ ... VMEXIT_DR15_WRITE]	= svm_exit_dr,
	[VMEXIT_EXCP_BASE + X86_TRAP_DE]	= svm_exit_exception,
	[VMEXIT_EXCP_BASE + X86_TRAP_DB]	= svm_exit_db,
	[VMEXIT_EXCP_BASE + X86_TRAP_BP ... VMEXIT_EXCP_BASE + X86_TRAP_NM] = svm_exit_exception,
	[VMEXIT_EXCP_BASE + X86_TRAP_TS ... VMEXIT_EXCP_BASE + X86_TRAP_PF] = svm_exit_exception,
	[VMEXIT_EXCP_BASE + X86_TRAP_MF]	= svm_exit_exception,
	[VMEXIT_EXCP_BASE + X86_TRAP_XF]	= svm_exit_exception,
	[VMEXIT_EXCP_BASE + X86_TRAP_AC]	= svm_exit_ac,
	[VMEXIT_EXCP_BASE + X86_TRAP_MC]	= svm_exit_host,	/* svm_run() forwarded it */
	[VMEXIT_INTR]				= svm_exit_host,
	[VMEXIT_NMI]				= svm_exit_host,
	[VMEXIT_SMI]				= svm_exit_host,
	[VMEXIT_VINTR]				= svm_exit_vintr,
	[VMEXIT_IDTR_READ ... VMEXIT_TR_WRITE]	= svm_exit_desc,
	[VMEXIT_RDPMC]				= svm_exit_rdpmc,
	[VMEXIT_RDTSC]				= svm_exit_rdtsc,
	[VMEXIT_CPUID]				= svm_exit_cpuid,
	[VMEXIT_RSM]				= svm_exit_ud,
	[VMEXIT_IRET]				= svm_exit_iret,
	[VMEXIT_INVD]				= svm_exit_skip,
	[VMEXIT_PAUSE]				= svm_exit_pause,
	[VMEXIT_HLT]				= svm_exit_hlt,
	[VMEXIT_INVLPG]				= svm_exit_invlpg,
	[VMEXIT_INVLPGA]			= svm_exit_ud,
	[VMEXIT_IOIO]				= svm_exit_ioio,
	[VMEXIT_MSR]				= svm_exit_msr,
	[VMEXIT_SHUTDOWN]			= svm_exit_shutdown,
	[VMEXIT_VMRUN]				= svm_exit_ud,
	[VMEXIT_VMMCALL]			= svm_exit_vmmcall,
	[VMEXIT_VMLOAD]				= svm_exit_ud,
	[VMEXIT_VMSAVE]				= svm_exit_ud,
	[VMEXIT_STGI]				= svm_exit_ud,
	[VMEXIT_CLGI]				= svm_exit_ud,
	[VMEXIT_SKINIT]				= svm_exit_ud,
	[VMEXIT_RDTSCP]				= svm_exit_rdtscp,
	[VMEXIT_ICEBP]				= svm_exit_icebp,
	[VMEXIT_WBINVD]				= svm_exit_skip,
	[VMEXIT_MONITOR]			= svm_exit_ud,
	[VMEXIT_MWAIT]				= svm_exit_ud,
	[VMEXIT_MWAIT_COND]			= svm_exit_ud,
	[VMEXIT_XSETBV]				= svm_exit_xsetbv,
	[VMEXIT_RDPRU]				= svm_exit_ud,
	[VMEXIT_INVLPGB]			= svm_exit_ud,
	[VMEXIT_INVLPGB_ILLEGAL]		= svm_exit_ud,
	[VMEXIT_TLBSYNC]			= svm_exit_ud,
};

/*
 * Which of VMRUN's consistency checks (APM vol. 2, 15.5.1) the state that
 * failed breaks, for the log: khv's own checks should make each of them
 * unreachable, so a name here points at what let the guest through (an
 * emulated CPU that does not fault where hardware does: testing.rst).
 */
static const char *svm_vmrun_check(const struct svm_vcpu *svm)
{
	const struct svm_vmcb_save *s = &svm->vmcb->save;
	const struct svm_vmcb_control *c = &svm->vmcb->control;
	bool long_paging = (s->efer & EFER_LME) && (s->cr0 & X86_CR0_PG);

	if (!(s->efer & EFER_SVME))
		return "EFER.SVME clear";
	if ((s->cr0 & X86_CR0_NW) && !(s->cr0 & X86_CR0_CD))
		return "CR0.NW without CR0.CD";
	if (s->cr0 >> 32)
		return "CR0[63:32] set";
	if (long_paging ? s->cr3 >> boot_cpu_data.x86_phys_bits :
	    (s->cr4 & X86_CR4_PAE) && s->cr3 >> 32)
		return "CR3 reserved bits set";
	if (s->cr4 & ~svm_cr4_allowed)
		return "CR4 bit khv does not offer";
	if ((s->dr6 >> 32) || (s->dr7 >> 32))
		return "DR6/DR7[63:32] set";
	if (long_paging && !(s->cr4 & X86_CR4_PAE))
		return "long mode without CR4.PAE";
	if (long_paging && !(s->cr0 & X86_CR0_PE))
		return "long mode without CR0.PE";
	if (long_paging && (s->cs.attrib & VMCB_ATTR_L) && (s->cs.attrib & VMCB_ATTR_DB))
		return "CS.L and CS.D both set";
	if (!c->asid)
		return "ASID 0";
	if (!(c->intercept_misc2 & VMCB_ICPT2_VMRUN))
		return "VMRUN intercept clear";
	return "none of khv's list (EFER, event injection?)";
}

/* What KHV_RUN reports about interrupt acceptance after every exit. */
static void svm_update_run_flags(struct svm_vcpu *svm)
{
	struct khv_vcpu *vcpu = &svm->vcpu;
	bool if_set = vcpu->rflags & X86_EFLAGS_IF;

	vcpu->run->if_flag = if_set;
	vcpu->run->ready_for_interrupt_injection =
		if_set && !svm_in_shadow(svm) && !vcpu->extint_pending && !svm->reinject;
}

int svm_handle_exit(struct khv_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	u32 code = svm_exit_code(svm);
	svm_exit_fn fn = NULL;
	int r;

	khv_count_exit(vcpu, code);

	if (unlikely(svm->host_state)) {
		const struct svm_vmcb_control *c = &svm->vmcb->control;
		u64 data[4] = { code, c->exit_info_1, c->exit_info_2, svm->host_state_alias };

		pr_warn_ratelimited("khv: svm: exit %#x came back with the host's state as the guest's (emulator fault?); VM stopped\n",
				    code);
		r = khv_exit_internal_error(vcpu, KHV_INTERNAL_ERROR_HOST_STATE,
					    ARRAY_SIZE(data), data);
	} else if (code == VMEXIT_INVALID) {
		const struct svm_vmcb_save *s = &svm->vmcb->save;

		/* svm_run() put back the state VMRUN was given. */
		pr_info_ratelimited("khv: svm: VMRUN failed (%s): efer %llx cr0 %llx cr3 %llx cr4 %llx cs %x/%llx\n",
				    svm_vmrun_check(svm), s->efer, s->cr0, s->cr3, s->cr4,
				    s->cs.attrib, s->cs.base);
		/* The architectural EXITCODE, -1, whatever the CPU stored. */
		r = khv_exit_fail_entry(vcpu, ~0ULL);
	} else {
		if (code < ARRAY_SIZE(svm_exit_handlers))
			fn = svm_exit_handlers[code];
		else if (code == VMEXIT_NPF)
			fn = svm_exit_npf;
		r = fn ? fn(svm) : svm_exit_unhandled(svm);
	}
	svm_update_run_flags(svm);
	return r;
}

/* ---- exit statistics --------------------------------------------------- */

/* Index 0 collects codes not in the table; it reports this code. */
#define SVM_STAT_OTHER		0xfffffff0u

struct svm_exit_stat {
	u32 first, last;	/* the codes counted under one name */
	const char *name;
};

#define STAT(code, n)		{ code, code, "svm_" n }
#define STAT_RANGE(a, b, n)	{ a, b, "svm_" n }
#define EXCP(v, n)		STAT(VMEXIT_EXCP_BASE + (v), "excp_" n)

/* Sorted by code (index 0 aside): svm_exit_stat_search() bisects it. */
static const struct svm_exit_stat svm_exit_stats[] = {
	STAT(SVM_STAT_OTHER, "other"),
	STAT_RANGE(VMEXIT_CR0_READ, VMEXIT_CR0_READ + 15, "cr_read"),
	STAT_RANGE(VMEXIT_CR0_WRITE, VMEXIT_CR0_WRITE + 15, "cr_write"),
	STAT_RANGE(VMEXIT_DR0_READ, VMEXIT_DR15_READ, "dr_read"),
	STAT_RANGE(VMEXIT_DR0_WRITE, VMEXIT_DR15_WRITE, "dr_write"),
	EXCP(0, "de"), EXCP(1, "db"), EXCP(2, "nmi"), EXCP(3, "bp"),
	EXCP(4, "of"), EXCP(5, "br"), EXCP(6, "ud"), EXCP(7, "nm"),
	EXCP(8, "df"), EXCP(9, "09"), EXCP(10, "ts"), EXCP(11, "np"),
	EXCP(12, "ss"), EXCP(13, "gp"), EXCP(14, "pf"), EXCP(15, "15"),
	EXCP(16, "mf"), EXCP(17, "ac"), EXCP(18, "mc"), EXCP(19, "xm"),
	EXCP(20, "ve"), EXCP(21, "cp"), EXCP(22, "22"), EXCP(23, "23"),
	EXCP(24, "24"), EXCP(25, "25"), EXCP(26, "26"), EXCP(27, "27"),
	EXCP(28, "hv"), EXCP(29, "vc"), EXCP(30, "sx"), EXCP(31, "31"),
	STAT(VMEXIT_INTR, "intr"),
	STAT(VMEXIT_NMI, "nmi"),
	STAT(VMEXIT_SMI, "smi"),
	STAT(VMEXIT_INIT, "init"),
	STAT(VMEXIT_VINTR, "vintr"),
	STAT(VMEXIT_CR0_SEL_WRITE, "cr0_sel_write"),
	STAT(VMEXIT_IDTR_READ, "idtr_read"),
	STAT(VMEXIT_GDTR_READ, "gdtr_read"),
	STAT(VMEXIT_LDTR_READ, "ldtr_read"),
	STAT(VMEXIT_TR_READ, "tr_read"),
	STAT(VMEXIT_IDTR_WRITE, "idtr_write"),
	STAT(VMEXIT_GDTR_WRITE, "gdtr_write"),
	STAT(VMEXIT_LDTR_WRITE, "ldtr_write"),
	STAT(VMEXIT_TR_WRITE, "tr_write"),
	STAT(VMEXIT_RDTSC, "rdtsc"),
	STAT(VMEXIT_RDPMC, "rdpmc"),
	STAT(VMEXIT_PUSHF, "pushf"),
	STAT(VMEXIT_POPF, "popf"),
	STAT(VMEXIT_CPUID, "cpuid"),
	STAT(VMEXIT_RSM, "rsm"),
	STAT(VMEXIT_IRET, "iret"),
	STAT(VMEXIT_SWINT, "swint"),
	STAT(VMEXIT_INVD, "invd"),
	STAT(VMEXIT_PAUSE, "pause"),
	STAT(VMEXIT_HLT, "hlt"),
	STAT(VMEXIT_INVLPG, "invlpg"),
	STAT(VMEXIT_INVLPGA, "invlpga"),
	STAT(VMEXIT_IOIO, "ioio"),
	STAT(VMEXIT_MSR, "msr"),
	STAT(VMEXIT_TASK_SWITCH, "task_switch"),
	STAT(VMEXIT_FERR_FREEZE, "ferr_freeze"),
	STAT(VMEXIT_SHUTDOWN, "shutdown"),
	STAT(VMEXIT_VMRUN, "vmrun"),
	STAT(VMEXIT_VMMCALL, "vmmcall"),
	STAT(VMEXIT_VMLOAD, "vmload"),
	STAT(VMEXIT_VMSAVE, "vmsave"),
	STAT(VMEXIT_STGI, "stgi"),
	STAT(VMEXIT_CLGI, "clgi"),
	STAT(VMEXIT_SKINIT, "skinit"),
	STAT(VMEXIT_RDTSCP, "rdtscp"),
	STAT(VMEXIT_ICEBP, "icebp"),
	STAT(VMEXIT_WBINVD, "wbinvd"),
	STAT(VMEXIT_MONITOR, "monitor"),
	STAT(VMEXIT_MWAIT, "mwait"),
	STAT(VMEXIT_MWAIT_COND, "mwait_cond"),
	STAT(VMEXIT_XSETBV, "xsetbv"),
	STAT(VMEXIT_RDPRU, "rdpru"),
	STAT(VMEXIT_EFER_WRITE_TRAP, "efer_write_trap"),
	STAT_RANGE(VMEXIT_CR0_WRITE_TRAP, VMEXIT_CR15_WRITE_TRAP, "cr_write_trap"),
	STAT(VMEXIT_INVLPGB, "invlpgb"),
	STAT(VMEXIT_INVLPGB_ILLEGAL, "invlpgb_illegal"),
	STAT(VMEXIT_INVPCID, "invpcid"),
	STAT(VMEXIT_MCOMMIT, "mcommit"),
	STAT(VMEXIT_TLBSYNC, "tlbsync"),
	STAT(VMEXIT_NPF, "npf"),
	STAT(VMEXIT_AVIC_INCOMPLETE_IPI, "avic_incomplete_ipi"),
	STAT(VMEXIT_AVIC_NOACCEL, "avic_noaccel"),
	STAT(VMEXIT_VMGEXIT, "vmgexit"),
	STAT(VMEXIT_INVALID, "invalid"),
};

static_assert(ARRAY_SIZE(svm_exit_stats) <= KHV_MAX_EXIT_STATS);

static u32 svm_exit_stat_search(u32 hw_code)
{
	u32 lo = 1, hi = ARRAY_SIZE(svm_exit_stats);

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		const struct svm_exit_stat *e = &svm_exit_stats[mid];

		if (hw_code < e->first)
			hi = mid;
		else if (hw_code > e->last)
			lo = mid + 1;
		else
			return mid;
	}
	return 0;
}

/*
 * The search's answer for every code up to VMGEXIT, so that counting an
 * exit costs one load (a bisection showed in the exit profile); the
 * rest (VMEXIT_INVALID) are rare and searched.
 */
static u8 svm_exit_stat_map[VMEXIT_VMGEXIT + 1];
static_assert(ARRAY_SIZE(svm_exit_stats) <= U8_MAX + 1);

void svm_exit_stats_init(void)
{
	u32 code;

	for (code = 0; code < ARRAY_SIZE(svm_exit_stat_map); code++)
		svm_exit_stat_map[code] = svm_exit_stat_search(code);
}

u32 svm_exit_stat_index(u32 hw_code)
{
	if (hw_code < ARRAY_SIZE(svm_exit_stat_map))
		return svm_exit_stat_map[hw_code];
	return svm_exit_stat_search(hw_code);
}

bool svm_exit_stat_info(u32 index, u32 *hw_code, const char **name)
{
	if (index >= ARRAY_SIZE(svm_exit_stats))
		return false;
	*hw_code = svm_exit_stats[index].first;
	*name = svm_exit_stats[index].name;
	return true;
}
