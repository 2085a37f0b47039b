// SPDX-License-Identifier: GPL-2.0
/*
 * The vendor-neutral halves of exit handling.  A backend decodes its own exit
 * information (VMCB exit code and EXITINFO, or VMCS exit reason and
 * qualification) and calls one of these; they decide what the guest sees and
 * whether the exit goes on to userspace.
 *
 * Return convention, shared with the backends' handle_exit(): > 0 re-enter
 * the guest, 0 return to userspace with vcpu->run filled, < 0 errno for
 * KHV_RUN.  Handlers for intercepted instructions advance RIP themselves.
 */
#include <linux/kernel.h>
#include <asm/fpu/xcr.h>
#include <asm/fpu/xstate.h>
#include <asm/debugreg.h>
#include <asm/trapnr.h>

#include "khv.h"
#include "internal.h"
#include "../irq/irqchip.h"
#include "emulate.h"
#include "trace.h"

static bool khv_long_mode_64(struct khv_vcpu *vcpu)
{
	struct khv_segment cs;

	if (!(khv_ops->get_efer(vcpu) & EFER_LMA))
		return false;
	khv_ops->get_segment(vcpu, &cs, KHV_SEG_CS);
	return cs.l;
}

int khv_exit_internal_error(struct khv_vcpu *vcpu, u32 suberror, u32 ndata, const u64 *data)
{
	struct khv_run *run = vcpu->run;

	ndata = min_t(u32, ndata, ARRAY_SIZE(run->internal.data));
	run->exit_reason = KHV_EXIT_INTERNAL_ERROR;
	run->internal.suberror = suberror;
	run->internal.ndata = ndata;
	memcpy(run->internal.data, data, ndata * sizeof(u64));
	return 0;
}

int khv_exit_fail_entry(struct khv_vcpu *vcpu, u64 reason)
{
	struct khv_run *run = vcpu->run;

	run->exit_reason = KHV_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = reason;
	run->fail_entry.cpu = raw_smp_processor_id();
	run->fail_entry.pad = 0;
	return 0;
}

int khv_exit_irq_window(struct khv_vcpu *vcpu)
{
	vcpu->run->exit_reason = KHV_EXIT_IRQ_WINDOW_OPEN;
	return 0;
}

/*
 * An instruction khv completed for the guest ran with RFLAGS.TF set: the
 * CPU would have raised the single-step trap after it, #DB with DR6.BS.
 * Not when the instruction itself raised an exception (callers then do not
 * get here), nor over an event already queued for this boundary.
 */
void khv_queue_single_step(struct khv_vcpu *vcpu)
{
	if (!(vcpu->rflags & X86_EFLAGS_TF) || vcpu->exception.pending)
		return;
	khv_queue_exception(vcpu, X86_TRAP_DB, false, 0);
	vcpu->exception.has_payload = true;
	vcpu->exception.payload = DR_STEP;
}

/*
 * Every path that finishes an intercepted or emulated instruction ends
 * here: RIP moves past it, RF no longer suppresses instruction breakpoints,
 * and a TF set during the instruction traps.
 */
void khv_complete_instruction(struct khv_vcpu *vcpu, u64 next_rip)
{
	vcpu->regs[KHV_REG_RIP] = next_rip;
	vcpu->rflags &= ~X86_EFLAGS_RF;
	khv_queue_single_step(vcpu);
}

/*
 * Advance RIP past the intercepted instruction.  The hardware's next-RIP
 * when it has one, else the decoder's length.  1 on success, 0 when the
 * instruction could not be decoded (an INTERNAL_ERROR exit is filled).
 */
int khv_skip_instruction(struct khv_vcpu *vcpu)
{
	u32 len = khv_ops->hw_insn_len(vcpu);
	u64 rip;

	if (!len) {
		struct khv_insn insn;
		int err = khv_decode_at_rip(vcpu, &insn);

		/* The code page is gone from the guest's tables: it sees the #PF. */
		if (err == -EFAULT)
			return khv_queue_fetch_fault(vcpu, &insn);
		if (err) {
			u64 data[2] = { vcpu->regs[KHV_REG_RIP], insn.len };

			return khv_exit_internal_error(vcpu, KHV_INTERNAL_ERROR_EMULATION,
						       ARRAY_SIZE(data), data);
		}
		len = insn.len;
	}
	rip = vcpu->regs[KHV_REG_RIP] + len;
	if (!khv_long_mode_64(vcpu))
		rip = (u32)rip;
	khv_complete_instruction(vcpu, rip);
	return 1;
}

void khv_set_edx_eax(struct khv_vcpu *vcpu, u64 v)
{
	vcpu->regs[KHV_REG_RAX] = (u32)v;
	vcpu->regs[KHV_REG_RDX] = v >> 32;
}

int khv_handle_cpuid(struct khv_vcpu *vcpu)
{
	u32 fn = vcpu->regs[KHV_REG_RAX], idx = vcpu->regs[KHV_REG_RCX];
	const struct khv_cpuid_entry *e = khv_cpuid_find(vcpu, fn, idx);
	u32 eax = 0, ebx = 0, ecx = 0, edx = 0;

	/* A leaf khv does not list reads as zeros, as on AMD parts. */
	if (e) {
		eax = e->eax;
		ebx = e->ebx;
		ecx = e->ecx;
		edx = e->edx;
	}
	/* The bits that depend on this vCPU's current state. */
	if (fn == 1) {
		ebx = (ebx & 0x00ffffff) | (vcpu->id << 24);
		ecx &= ~BIT(27);
		if (khv_ops->get_cr(vcpu, 4) & X86_CR4_OSXSAVE)
			ecx |= BIT(27);
		if (!(vcpu->apic_base & BIT_ULL(11)))
			edx &= ~BIT(9);
	} else if (fn == 0xd && idx == 0) {
		ebx = khv_xsave_size(vcpu->xcr0);
	}
	if (khv_studies(vcpu, KHV_STUDY_CPUID) && khv_study_cpuid(vcpu, fn)) {
		struct khv_run *run = vcpu->run;

		run->study.cpuid.leaf = fn;
		run->study.cpuid.subleaf = idx;
		run->study.cpuid.eax = eax;
		run->study.cpuid.ebx = ebx;
		run->study.cpuid.ecx = ecx;
		run->study.cpuid.edx = edx;
		return khv_study_exit(vcpu, KHV_STUDY_EV_CPUID);
	}
	vcpu->regs[KHV_REG_RAX] = eax;
	vcpu->regs[KHV_REG_RBX] = ebx;
	vcpu->regs[KHV_REG_RCX] = ecx;
	vcpu->regs[KHV_REG_RDX] = edx;
	return khv_skip_instruction(vcpu);
}

int khv_handle_rdmsr(struct khv_vcpu *vcpu)
{
	u32 index = vcpu->regs[KHV_REG_RCX];
	int err;
	u64 data = 0;

	err = khv_get_msr(vcpu, index, &data, false);
	if (khv_studies(vcpu, KHV_STUDY_RDMSR) && khv_study_msr(vcpu, index)) {
		vcpu->run->study.msr.index = index;
		vcpu->run->study.msr.gp = !!err;
		vcpu->run->study.msr.value = err ? 0 : data;
		return khv_study_exit(vcpu, KHV_STUDY_EV_RDMSR);
	}
	if (err) {
		khv_inject_gp(vcpu);
		return 1;
	}
	khv_set_edx_eax(vcpu, data);
	return khv_skip_instruction(vcpu);
}

int khv_handle_wrmsr(struct khv_vcpu *vcpu)
{
	u64 data = (u32)vcpu->regs[KHV_REG_RAX] | (vcpu->regs[KHV_REG_RDX] << 32);
	u32 index = vcpu->regs[KHV_REG_RCX];

	if (khv_studies(vcpu, KHV_STUDY_WRMSR) && khv_study_msr(vcpu, index)) {
		vcpu->study.msr_index = index;
		vcpu->study.msr_value = data;
		vcpu->run->study.msr.index = index;
		vcpu->run->study.msr.gp = 0;
		vcpu->run->study.msr.value = data;
		return khv_study_exit(vcpu, KHV_STUDY_EV_WRMSR);
	}
	return khv_wrmsr(vcpu, index, data);
}

/* WRMSR of data to index: done and skipped, or #GP. */
int khv_wrmsr(struct khv_vcpu *vcpu, u32 index, u64 data)
{
	if (khv_set_msr(vcpu, index, data, false)) {
		khv_inject_gp(vcpu);
		return 1;
	}
	return khv_skip_instruction(vcpu);
}

/* XCR0 values the architecture allows: x87 always, AVX needs SSE, AVX-512 all-or-nothing with AVX. */
static bool khv_xcr0_valid(u64 v, u64 allowed)
{
	u64 avx512 = XFEATURE_MASK_OPMASK | XFEATURE_MASK_ZMM_Hi256 | XFEATURE_MASK_Hi16_ZMM;

	if (v & ~allowed || !(v & XFEATURE_MASK_FP))
		return false;
	if ((v & XFEATURE_MASK_YMM) && !(v & XFEATURE_MASK_SSE))
		return false;
	if ((v & avx512) && ((v & avx512) != avx512 || !(v & XFEATURE_MASK_YMM)))
		return false;
	return true;
}

/* XCR0 values this guest may set: those its own CPUID leaf 0xD offers. */
bool khv_xcr0_allowed(struct khv_vcpu *vcpu, u64 v)
{
	const struct khv_cpuid_entry *e = khv_cpuid_find(vcpu, 0xd, 0);
	u64 allowed = khv_supported_xcr0();

	allowed &= e ? ((u64)e->edx << 32 | e->eax) : XFEATURE_MASK_FP;
	return khv_xcr0_valid(v, allowed);
}

int khv_handle_xsetbv(struct khv_vcpu *vcpu)
{
	u64 v = (u32)vcpu->regs[KHV_REG_RAX] | (vcpu->regs[KHV_REG_RDX] << 32);

	if ((u32)vcpu->regs[KHV_REG_RCX] != 0 || khv_ops->get_cpl(vcpu) != 0 ||
	    !khv_xcr0_allowed(vcpu, v)) {
		khv_inject_gp(vcpu);
		return 1;
	}
	vcpu->xcr0 = v;
	return khv_skip_instruction(vcpu);
}

/*
 * Right after an exit, interrupts off, when the guest ran with CR4.OSXSAVE:
 * XCR0 becomes the host's again, whatever the guest did.  XSETBV always
 * exits on hardware, but an emulated CPU may let it through (QEMU 7.2's
 * nested SVM never checks the XSETBV intercept: testing.rst).  Without this
 * the host would go on with the guest's XCR0, and its next XRSTOR of a
 * state with more components would fault ("Bad FPU state").  A value the
 * guest wrote that way is kept for it when khv would have accepted it from
 * XSETBV; a value khv refuses is dropped (the guest can no longer be given
 * the #GP hardware would have raised) and logged once by the run loop
 * (not here: GIF or interrupts are off).
 * @loaded: svm/vmx loaded vcpu->xcr0 before the entry.
 */
void khv_xcr0_after_exit(struct khv_vcpu *vcpu, u64 host_xcr0, bool loaded)
{
	u64 now = xgetbv(XCR_XFEATURE_ENABLED_MASK);

	if (now != (loaded ? vcpu->xcr0 : host_xcr0)) {
		if (khv_xcr0_allowed(vcpu, now))
			vcpu->xcr0 = now;
		else
			vcpu->xcr0_refused = now;	/* logged by the run loop */
	}
	if (now != host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, host_xcr0);
}

int khv_handle_hlt(struct khv_vcpu *vcpu)
{
	if (khv_studies(vcpu, KHV_STUDY_HLT))
		return khv_study_exit(vcpu, KHV_STUDY_EV_HLT);
	return khv_hlt(vcpu);
}

/* HLT, past the study: skip it, then sleep in KHV_RUN or exit to userspace. */
int khv_hlt(struct khv_vcpu *vcpu)
{
	int r = khv_skip_instruction(vcpu);

	if (r <= 0)
		return r;
	/* With the in-kernel irqchip the vCPU sleeps in KHV_RUN (irq/apic.c). */
	if (vcpu->apic)
		return khv_apic_halt(vcpu);
	/* Without: userspace decides when to wake. */
	vcpu->run->exit_reason = KHV_EXIT_HLT;
	return 0;
}

int khv_handle_hypercall(struct khv_vcpu *vcpu)
{
	struct khv_run *run = vcpu->run;
	int r = khv_skip_instruction(vcpu);

	if (r <= 0)
		return r;
	/* Only the guest kernel talks to the VMM; user code gets -1 back. */
	if (khv_ops->get_cpl(vcpu) != 0) {
		vcpu->regs[KHV_REG_RAX] = ~0ULL;
		return 1;
	}
	run->exit_reason = KHV_EXIT_HYPERCALL;
	run->hypercall.nr = vcpu->regs[KHV_REG_RAX];
	run->hypercall.args[0] = vcpu->regs[KHV_REG_RBX];
	run->hypercall.args[1] = vcpu->regs[KHV_REG_RCX];
	run->hypercall.args[2] = vcpu->regs[KHV_REG_RDX];
	run->hypercall.args[3] = vcpu->regs[KHV_REG_RSI];
	run->hypercall.args[4] = vcpu->regs[KHV_REG_RDI];
	run->hypercall.args[5] = vcpu->regs[KHV_REG_R8];
	run->hypercall.ret = 0;
	vcpu->completion = KHV_COMPLETE_HYPERCALL;
	return 0;
}

/*
 * RDTSC and RDTSCP exit only while the vCPU studies them (the backends'
 * set_study): the guest's TSC, as RDMSR of IA32_TSC reads it, and for
 * RDTSCP its TSC_AUX in ECX.
 */
int khv_handle_rdtsc(struct khv_vcpu *vcpu, bool rdtscp)
{
	u64 tsc = 0;

	khv_get_msr(vcpu, MSR_IA32_TSC, &tsc, true);
	if (khv_studies(vcpu, KHV_STUDY_RDTSC)) {
		struct khv_run *run = vcpu->run;

		run->study.rdtsc.tsc = tsc;
		run->study.rdtsc.aux = rdtscp ? vcpu->tsc_aux : 0;
		run->study.rdtsc.rdtscp = rdtscp;
		memset(run->study.rdtsc.pad, 0, sizeof(run->study.rdtsc.pad));
		vcpu->study.rdtscp = rdtscp;
		return khv_study_exit(vcpu, KHV_STUDY_EV_RDTSC);
	}
	khv_set_edx_eax(vcpu, tsc);
	if (rdtscp)
		vcpu->regs[KHV_REG_RCX] = (u32)vcpu->tsc_aux;
	return khv_skip_instruction(vcpu);
}

/*
 * Whether the instruction at RIP is RDTSCP (0F 01 F9), for a CPU that
 * reports it as RDTSC (QEMU's SVM: testing.rst, "Emulator gaps").
 */
bool khv_rip_is_rdtscp(struct khv_vcpu *vcpu)
{
	struct khv_insn in;

	return !khv_decode_at_rip(vcpu, &in) && in.map == KHV_MAP_0F && in.opcode == 0x01 &&
	       in.modrm_mod == 3 && in.modrm_reg == 7 && in.modrm_rm == 1;
}

int khv_handle_shutdown(struct khv_vcpu *vcpu)
{
	vcpu->run->exit_reason = KHV_EXIT_SHUTDOWN;
	return 0;
}

int khv_handle_pio(struct khv_vcpu *vcpu, const struct khv_pio *pio)
{
	if (khv_studies(vcpu, KHV_STUDY_IO) && khv_study_io(vcpu, pio))
		return 0;
	return khv_do_pio(vcpu, pio);
}

/* Port I/O, past the study: a device in the kernel, an ioeventfd or userspace. */
int khv_do_pio(struct khv_vcpu *vcpu, const struct khv_pio *pio)
{
	struct khv_run *run = vcpu->run;
	void *data = (void *)run + KHV_IO_DATA_OFFSET;
	int r;

	vcpu->pio = *pio;
	if (pio->string) {
		vcpu->pio.count = khv_pio_string_batch(vcpu, &vcpu->pio);
		trace_khv_pio(vcpu->id, pio->port, pio->size, pio->in, vcpu->pio.count, 0,
			      KHV_TRACE_USER);
		/* REP with a zero count: nothing moves, RIP is already past it. */
		if (!vcpu->pio.count)
			return 1;
		if (!pio->in) {
			r = khv_pio_string_out(vcpu, &vcpu->pio, data);
			if (r <= 0)
				return r;
			/* The guest's tables changed under us: a #PF is queued instead. */
			if (!vcpu->pio.count)
				return 1;
		}
	} else {
		u32 val = vcpu->regs[KHV_REG_RAX];

		/* A doorbell: the eventfd is signalled, the OUT is done. */
		if (!pio->in && khv_ioeventfd_write(vcpu->vm, true, pio->port, pio->size, val)) {
			trace_khv_pio(vcpu->id, pio->port, pio->size, false, 1, val,
				      KHV_TRACE_IOEVENTFD);
			khv_complete_instruction(vcpu, pio->next_rip);
			return 1;
		}
		/* The irqchip's ports (PIC, ELCR, PIT, port 0x61) stay in the kernel. */
		if (khv_irqchip_pio(vcpu, pio->port, pio->in, pio->size, &val)) {
			trace_khv_pio(vcpu->id, pio->port, pio->size, pio->in, 1, val,
				      KHV_TRACE_KERNEL);
			if (pio->in)
				vcpu->regs[KHV_REG_RAX] = (vcpu->regs[KHV_REG_RAX] & ~0xffULL) |
							  (u8)val;
			khv_complete_instruction(vcpu, pio->next_rip);
			return 1;
		}
		vcpu->pio.count = 1;
		trace_khv_pio(vcpu->id, pio->port, pio->size, pio->in, 1, pio->in ? 0 : val,
			      KHV_TRACE_USER);
		if (!pio->in)
			memcpy(data, &vcpu->regs[KHV_REG_RAX], pio->size);
		/* An IN completes with the data on the next KHV_RUN, before any entry. */
		khv_complete_instruction(vcpu, pio->next_rip);
	}
	if (pio->in)
		vcpu->completion = KHV_COMPLETE_PIO_IN;

	run->exit_reason = KHV_EXIT_IO;
	run->io.direction = pio->in ? KHV_EXIT_IO_IN : KHV_EXIT_IO_OUT;
	run->io.size = pio->size;
	run->io.port = pio->port;
	run->io.count = vcpu->pio.count;
	run->io.data_offset = KHV_IO_DATA_OFFSET;
	return 0;
}

/*
 * INVLPG, intercepted only while studied (the backends' set_study; VT-x
 * CPUs that force INVLPG exiting have their own handler).  @addr is the
 * linear address, for the study exit.
 */
int khv_handle_invlpg(struct khv_vcpu *vcpu, u64 addr)
{
	if (khv_studies(vcpu, KHV_STUDY_INVLPG)) {
		vcpu->run->study.invlpg.addr = addr;
		return khv_study_exit(vcpu, KHV_STUDY_EV_INVLPG);
	}
	return khv_invlpg(vcpu);
}

/*
 * INVLPG done: the guest's translations are dropped, all of them rather
 * than the one page (INVLPGA or INVVPID would be exact; this is study
 * mode's path only), on the next entry.
 */
int khv_invlpg(struct khv_vcpu *vcpu)
{
	set_bit(KHV_REQ_TLB_FLUSH, &vcpu->requests);
	return khv_skip_instruction(vcpu);
}

int khv_handle_exception(struct khv_vcpu *vcpu, const struct khv_queued_exception *x)
{
	if (khv_studies(vcpu, KHV_STUDY_EXCEPTION) && khv_study_exception(vcpu, x))
		return 0;
	return khv_reflect_exception(vcpu, x);
}

/* PAUSE, when every one exits (study): a hint, done by moving past it. */
int khv_handle_pause(struct khv_vcpu *vcpu)
{
	if (khv_studies(vcpu, KHV_STUDY_PAUSE))
		return khv_study_exit(vcpu, KHV_STUDY_EV_PAUSE);
	return khv_skip_instruction(vcpu);
}

int khv_handle_npf(struct khv_vcpu *vcpu, u64 gpa, bool write, bool fetch)
{
	unsigned int access = KHV_PROT_READ;
	int r;

	/* Pinning, mapping or emulating walks host memory: see l1d_flush_hint. */
	vcpu->l1d_flush_hint = true;
	if (write)
		access |= KHV_PROT_WRITE;
	if (fetch)
		access |= KHV_PROT_EXEC;
	r = khv_mmu_fault(vcpu->vm, gpa, access);
	trace_khv_npf(vcpu->id, gpa, write, fetch, r);
	if (r < 0)
		return r;
	if (r == KHV_MMU_LOGGED) {
		khv_kstat(vcpu, KHV_KSTAT_NPF_DIRTY);
		return 1;
	}
	if (r == KHV_MMU_MAPPED) {
		khv_kstat(vcpu, KHV_KSTAT_NPF_MAPPED);
		return 1;
	}
	khv_kstat(vcpu, KHV_KSTAT_NPF_MMIO);
	if (fetch) {
		/* Executing from MMIO: nothing sensible to emulate. */
		u64 data[2] = { gpa, vcpu->regs[KHV_REG_RIP] };

		return khv_exit_internal_error(vcpu, KHV_INTERNAL_ERROR_EMULATION,
					       ARRAY_SIZE(data), data);
	}
	return khv_emulate_mmio(vcpu, gpa, write);
}

/* Finish, on the next KHV_RUN, the exit userspace has just answered. */
int khv_complete_userspace_exit(struct khv_vcpu *vcpu)
{
	struct khv_run *run = vcpu->run;
	enum khv_completion c = vcpu->completion;
	int r = 1;

	vcpu->completion = KHV_COMPLETE_NONE;
	switch (c) {
	case KHV_COMPLETE_NONE:
		break;
	case KHV_COMPLETE_PIO_IN: {
		const void *data = (void *)run + KHV_IO_DATA_OFFSET;
		u64 *rax = &vcpu->regs[KHV_REG_RAX];
		u32 v = 0;

		if (vcpu->pio.string)
			return khv_pio_string_in_complete(vcpu, &vcpu->pio, data);
		memcpy(&v, data, vcpu->pio.size);
		if (vcpu->pio.size == 1)
			*rax = (*rax & ~0xffULL) | (u8)v;
		else if (vcpu->pio.size == 2)
			*rax = (*rax & ~0xffffULL) | (u16)v;
		else
			*rax = v;	/* a 32-bit destination zero-extends */
		break;
	}
	case KHV_COMPLETE_MMIO_READ:
		khv_complete_mmio_read(vcpu);
		break;
	case KHV_COMPLETE_HYPERCALL:
		vcpu->regs[KHV_REG_RAX] = run->hypercall.ret;
		break;
	case KHV_COMPLETE_STUDY:
		return khv_study_complete(vcpu);
	}
	return r;
}
