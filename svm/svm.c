// SPDX-License-Identifier: GPL-2.0
/*
 * AMD-V (SVM) backend: probing and enabling SVM, the VMCB of each vCPU, one
 * guest entry (svm_run), and the guest state core reads and writes through
 * the khv_backend hooks.  Exit handling is in svm_exits.c, ASIDs in
 * svm_asid.c, the world switch itself in svm_vmrun.S.
 *
 * Entry, with interrupts already off (core):
 *   CLGI; guest XCR0 and debug registers; STI; VMSAVE host, VMLOAD guest,
 *   VMRUN, VMSAVE guest, VMLOAD host; CLI; host XCR0 and breakpoints; STGI.
 * GIF=0 holds INTR, NMI and SMI from CLGI to STGI, so the host can set IF
 * (which, with V_INTR_MASKING, is what lets a physical interrupt end guest
 * execution with an INTR intercept) without taking an interrupt on host
 * state that is half the guest's.  IF is set in C, several instructions
 * before VMRUN, rather than with an STI right before it: an STI shadow still
 * pending at VMRUN leaks into the guest's interrupt shadow.  After STGI the
 * held NMI (and SMI) is taken at once, the interrupt when core enables IRQs.
 *
 * VMCB clean bits: always 0.  The CPU then reloads every field from the VMCB
 * on each VMRUN, which is always correct (also when the vCPU moved CPU or
 * the VMCB was rewritten by set_sregs), at a small cost per entry.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/io.h>
#include <asm/debugreg.h>
#include <asm/fpu/xcr.h>
#include <asm/mce.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <asm/traps.h>

#include "svm.h"
#include "../irq/irqchip.h"

/* vcpu->regs[] layout that svm_vmrun.S hard-codes. */
static_assert(KHV_REG_RCX == 1 && KHV_REG_RDX == 2 && KHV_REG_RBX == 3);
static_assert(KHV_REG_RBP == 5 && KHV_REG_RSI == 6 && KHV_REG_RDI == 7);
static_assert(KHV_REG_R8 == 8 && KHV_REG_R15 == 15);

/* enum khv_seg's first six follow the VMCB's and IOIO's segment numbering. */
static_assert(KHV_SEG_ES == 0 && KHV_SEG_CS == 1 && KHV_SEG_SS == 2 &&
	      KHV_SEG_DS == 3 && KHV_SEG_FS == 4 && KHV_SEG_GS == 5);

#define EFER_TCE		BIT_ULL(15)

/* CR0 bits that exist (all of 63:32 are reserved). */
#define SVM_CR0_VALID	(X86_CR0_PE | X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | \
			 X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_AM | \
			 X86_CR0_NW | X86_CR0_CD | X86_CR0_PG)
#define SVM_CR0_RESET	(X86_CR0_CD | X86_CR0_NW | X86_CR0_ET)

#define SVM_PAT_RESET	0x0007040600070406ULL

/* Pause filter: exit after this many PAUSEs (within the threshold's cycles). */
#define SVM_PAUSE_COUNT		3000
#define SVM_PAUSE_THRESHOLD	128

struct svm_caps svm_caps;
DEFINE_PER_CPU(struct svm_cpu, svm_cpu);

static struct page *svm_iopm;
static struct page *svm_msrpm;
/* Every MSR intercepted: for vCPUs that study RDMSR/WRMSR (core/study.c). */
static struct page *svm_msrpm_all;
static u64 svm_efer_allowed;	/* guest-visible EFER bits this CPU has */
u64 svm_cr4_allowed;	/* guest CR4 bits: khv_cr4_supported() */
static u64 svm_host_xcr0;
static bool svm_has_xsave;
static bool svm_has_invlpgb;

/*
 * QEMU's emulated SVM (TCG, at least up to 9.x) delivers an external
 * interrupt injected through EVENTINJ at VMRUN, but leaves the vector
 * behind as its CPU's pending exception: if anything then kicks that CPU
 * (another vCPU's IPI, the round-robin scheduler of single-threaded TCG)
 * before the guest's next exit, QEMU delivers the vector a second time, as
 * an exception that ignores RFLAGS.IF, into the first delivery's handler.
 * A guest then sees one interrupt twice (selftests irqsmp and events did,
 * one run in a few hundred), and a Linux guest can take it before its
 * entry code swapped GS, and die.  The workaround is an exit right after
 * each injected interrupt, before the handler's first instruction (the
 * same self-IPI as an NMI behind an injected event): that exit makes QEMU
 * forget the vector.  intr_inject_exit: -1 (the default) when the CPU says
 * it is QEMU's TCG (CPUID 0x40000000 "TCGTCGTCGTCG"), 1 always, 0 never.
 */
static int intr_inject_exit = -1;
module_param(intr_inject_exit, int, 0444);
MODULE_PARM_DESC(intr_inject_exit,
		 "exit after each injected interrupt (-1: on QEMU's TCG, 1: always, 0: never)");
static bool svm_intr_exit;

/* ---- probe, setup, per-CPU enable ------------------------------------------ */

static int svm_probe(void)
{
	u32 eax, ebx, ecx, edx;
	u64 vm_cr;

	if (cpuid_eax(0x80000000) < SVM_CPUID_LEAF) {
		pr_err("khv: svm: no CPUID leaf 0x8000000a\n");
		return -ENODEV;
	}
	if (!(cpuid_ecx(0x80000001) & BIT(2))) {
		pr_err("khv: svm: CPUID 0x80000001 ECX[2] (SVM) is clear\n");
		return -ENODEV;
	}
	/* Unreadable (some emulators): then nothing says SVM is disabled. */
	if (rdmsrl_safe(MSR_VM_CR, &vm_cr))
		vm_cr = 0;
	if (vm_cr & SVM_VM_CR_SVMDIS) {
		pr_err("khv: svm: SVM is disabled by the firmware (VM_CR.SVMDIS)\n");
		return -ENODEV;
	}
	cpuid(SVM_CPUID_LEAF, &eax, &ebx, &ecx, &edx);
	if (!(edx & SVM_FEAT_NP)) {
		pr_err("khv: svm: no nested paging (CPUID 0x8000000a EDX[0])\n");
		return -ENODEV;
	}
	if (ebx < 2) {
		pr_err("khv: svm: no ASID for guests (CPUID 0x8000000a EBX=%u)\n", ebx);
		return -ENODEV;
	}
	svm_caps.nr_asids = ebx;
	svm_caps.nrips = edx & SVM_FEAT_NRIPS;
	svm_caps.tsc_rate = edx & SVM_FEAT_TSC_RATE;
	svm_caps.flush_by_asid = edx & SVM_FEAT_FLUSH_BY_ASID;
	svm_caps.decode_assists = edx & SVM_FEAT_DECODE_ASSISTS;
	svm_caps.pause_filter = edx & SVM_FEAT_PAUSE_FILTER;
	svm_caps.pf_threshold = edx & SVM_FEAT_PF_THRESHOLD;
	svm_caps.vgif = edx & SVM_FEAT_VGIF;
	pr_info("khv: svm: %u ASIDs, nrips %d, flushbyasid %d, decodeassists %d, pausefilter %d, vgif %d\n",
		ebx, svm_caps.nrips, svm_caps.flush_by_asid, svm_caps.decode_assists,
		svm_caps.pause_filter, svm_caps.vgif);
	svm_intr_exit = intr_inject_exit > 0 ||
			(intr_inject_exit < 0 && boot_cpu_has(X86_FEATURE_HYPERVISOR) &&
			 hypervisor_cpuid_base("TCGTCGTCGTCG", 0));
	if (svm_intr_exit)
		pr_info("khv: svm: an exit after each injected interrupt (intr_inject_exit, QEMU's TCG)\n");
	return 0;
}

/* What the guest may hold in EFER and CR4: what this CPU implements. */
static void svm_init_masks(void)
{
	u32 ecx81 = cpuid_ecx(0x80000001), edx81 = cpuid_edx(0x80000001);

	svm_efer_allowed = EFER_SCE | EFER_LME | EFER_LMA;
	if (edx81 & BIT(20))
		svm_efer_allowed |= EFER_NX;
	if (edx81 & BIT(25))
		svm_efer_allowed |= EFER_FFXSR;
	if (ecx81 & BIT(17))
		svm_efer_allowed |= EFER_TCE;

	svm_cr4_allowed = khv_cr4_supported();

	svm_has_invlpgb = cpuid_eax(0x80000000) >= 0x80000008 &&
			  (cpuid_ebx(0x80000008) & BIT(3));
	svm_has_xsave = boot_cpu_has(X86_FEATURE_OSXSAVE);
	if (svm_has_xsave)
		svm_host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
}

/* MSRPM bit of the read intercept of msr (the write one follows), or -1. */
static long svm_msrpm_bit(u32 msr)
{
	if (msr <= 0x1fff)
		return msr * 2;
	if (msr >= 0xc0000000 && msr <= 0xc0001fff)
		return 0x800 * 8 + (msr - 0xc0000000) * 2;
	if (msr >= 0xc0010000 && msr <= 0xc0011fff)
		return 0x1000 * 8 + (msr - 0xc0010000) * 2;
	return -1;
}

/*
 * Guest access without exit only to the MSRs VMSAVE/VMLOAD switch: their
 * values live in the VMCB and never reach the host's.
 */
static const u32 svm_passthrough_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE,
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
};

static void svm_free_pages(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct svm_cpu *sd = per_cpu_ptr(&svm_cpu, cpu);

		if (sd->hsave)
			__free_page(sd->hsave);
		if (sd->host_save)
			__free_page(sd->host_save);
		sd->hsave = NULL;
		sd->host_save = NULL;
		sd->host_save_pa = 0;
	}
	if (svm_iopm)
		__free_pages(svm_iopm, get_order(SVM_IOPM_SIZE));
	if (svm_msrpm)
		__free_pages(svm_msrpm, get_order(SVM_MSRPM_SIZE));
	if (svm_msrpm_all)
		__free_pages(svm_msrpm_all, get_order(SVM_MSRPM_SIZE));
	svm_iopm = NULL;
	svm_msrpm = NULL;
	svm_msrpm_all = NULL;
}

static int svm_setup(void)
{
	unsigned long *msrpm;
	int cpu, i;

	svm_init_masks();
	svm_exit_stats_init();

	/* Every port intercepted: all ones. */
	svm_iopm = alloc_pages(GFP_KERNEL, get_order(SVM_IOPM_SIZE));
	if (!svm_iopm)
		goto nomem;
	memset(page_address(svm_iopm), 0xff, SVM_IOPM_SIZE);

	svm_msrpm = alloc_pages(GFP_KERNEL, get_order(SVM_MSRPM_SIZE));
	svm_msrpm_all = alloc_pages(GFP_KERNEL, get_order(SVM_MSRPM_SIZE));
	if (!svm_msrpm || !svm_msrpm_all)
		goto nomem;
	memset(page_address(svm_msrpm_all), 0xff, SVM_MSRPM_SIZE);
	msrpm = page_address(svm_msrpm);
	memset(msrpm, 0xff, SVM_MSRPM_SIZE);
	for (i = 0; i < ARRAY_SIZE(svm_passthrough_msrs); i++) {
		long bit = svm_msrpm_bit(svm_passthrough_msrs[i]);

		__clear_bit(bit, msrpm);
		__clear_bit(bit + 1, msrpm);
	}

	/* cpu_enable may run with interrupts off: allocate for all CPUs now. */
	for_each_possible_cpu(cpu) {
		struct svm_cpu *sd = per_cpu_ptr(&svm_cpu, cpu);
		int node = cpu_to_node(cpu);

		sd->hsave = alloc_pages_node(node, GFP_KERNEL | __GFP_ZERO, 0);
		sd->host_save = alloc_pages_node(node, GFP_KERNEL | __GFP_ZERO, 0);
		if (!sd->hsave || !sd->host_save)
			goto nomem;
		sd->host_save_pa = page_to_phys(sd->host_save);
	}
	return 0;

nomem:
	svm_free_pages();
	return -ENOMEM;
}

static void svm_teardown(void)
{
	svm_free_pages();
}

static int svm_cpu_enable(void)
{
	struct svm_cpu *sd = this_cpu_ptr(&svm_cpu);
	u64 efer;

	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME) {
		pr_err("khv: svm: EFER.SVME is already set on CPU %d: another hypervisor (kvm_amd?) owns SVM\n",
		       smp_processor_id());
		return -EBUSY;
	}
	if (!sd->hsave)
		return -ENOMEM;
	if (wrmsrl_safe(MSR_EFER, efer | EFER_SVME)) {
		pr_err("khv: svm: setting EFER.SVME faults on CPU %d\n", smp_processor_id());
		return -EIO;
	}
	if (wrmsrl_safe(MSR_VM_HSAVE_PA, page_to_phys(sd->hsave))) {
		pr_err("khv: svm: cannot set VM_HSAVE_PA on CPU %d\n", smp_processor_id());
		wrmsrl(MSR_EFER, efer);
		return -EIO;
	}
	/* A ratio left behind by a previous hypervisor would skew guest TSCs. */
	if (svm_caps.tsc_rate)
		wrmsrl_safe(MSR_AMD64_TSC_RATIO, SVM_TSC_RATIO_ONE);
	svm_asid_cpu_init(sd);
	sd->last_vmcb = NULL;
	sd->enabled = true;
	return 0;
}

static void svm_cpu_disable(void)
{
	struct svm_cpu *sd = this_cpu_ptr(&svm_cpu);
	u64 efer;

	if (!sd->enabled)
		return;
	wrmsrl(MSR_VM_HSAVE_PA, 0);
	rdmsrl(MSR_EFER, efer);
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
	sd->last_vmcb = NULL;
	sd->enabled = false;
}

static int svm_vm_init(struct khv_vm *vm)
{
	return 0;	/* IOPM and MSRPM are global; the NPT root is core's */
}

static void svm_vm_destroy(struct khv_vm *vm)
{
}

/* ---- the VMCB ----------------------------------------------------------- */

static void svm_init_control(struct svm_vcpu *svm)
{
	struct svm_vmcb_control *c = &svm->vmcb->control;

	/* Every DR read and write: see svm_exits.c. */
	c->intercept_dr = ~0u;
	/*
	 * CR0 and CR4 writes (MOV, and CLTS/LMSW for CR0): the CPU would let
	 * a guest set CR4 bits khv does not switch (PKE: the VMM's PKRU) and,
	 * emulated, store values VMRUN then refuses.  svm_set_cr0/4() check
	 * them as MOV CR does and give the guest #GP.  CR3 is not
	 * intercepted: the CPU checks it, and Linux guests write it on every
	 * context switch.
	 */
	c->intercept_cr = VMCB_CR_WRITE(0) | VMCB_CR_WRITE(4);
	c->intercept_exc = SVM_EXC_INTERCEPTS;
	c->intercept_misc1 = VMCB_ICPT1_INTR | VMCB_ICPT1_NMI | VMCB_ICPT1_SMI |
			     VMCB_ICPT1_RDPMC | VMCB_ICPT1_CPUID | VMCB_ICPT1_RSM |
			     VMCB_ICPT1_INVD | VMCB_ICPT1_HLT | VMCB_ICPT1_INVLPGA |
			     VMCB_ICPT1_IOIO | VMCB_ICPT1_MSR |
			     VMCB_ICPT1_TASK_SWITCH | VMCB_ICPT1_SHUTDOWN;
	c->intercept_misc2 = VMCB_ICPT2_VMRUN | VMCB_ICPT2_VMMCALL |
			     VMCB_ICPT2_VMLOAD | VMCB_ICPT2_VMSAVE |
			     VMCB_ICPT2_STGI | VMCB_ICPT2_CLGI | VMCB_ICPT2_SKINIT |
			     VMCB_ICPT2_ICEBP |
			     VMCB_ICPT2_WBINVD | VMCB_ICPT2_MONITOR |
			     VMCB_ICPT2_MWAIT | VMCB_ICPT2_MWAIT_COND |
			     VMCB_ICPT2_XSETBV | VMCB_ICPT2_RDPRU;
	/* Only where the CPU knows these bits; they are reserved elsewhere. */
	if (svm_has_invlpgb)
		c->intercept_misc3 = VMCB_ICPT3_INVLPGB | VMCB_ICPT3_INVLPGB_ILL |
				     VMCB_ICPT3_TLBSYNC;
	/*
	 * PAUSE exits only through the filter: a spinning guest gives the CPU
	 * back now and then.  Without a filter every PAUSE would exit.
	 */
	if (svm_caps.pause_filter) {
		c->intercept_misc1 |= VMCB_ICPT1_PAUSE;
		c->pause_filter_count = SVM_PAUSE_COUNT;
		if (svm_caps.pf_threshold)
			c->pause_filter_thresh = SVM_PAUSE_THRESHOLD;
	}

	c->iopm_base_pa = page_to_phys(svm_iopm);
	c->msrpm_base_pa = page_to_phys(svm_msrpm);
	c->tsc_offset = 0;
	svm->vcpu.tsc_offset = 0;
	/* Guest RFLAGS.IF masks virtual interrupts only; the host's, physical. */
	c->int_ctl = VMCB_V_INTR_MASKING;
	c->nested_ctl = VMCB_NP_ENABLE;
	c->n_cr3 = svm->vcpu.vm->mmu.root_pa;
}

static void svm_set_seg(struct svm_vmcb_seg *s, u16 sel, u64 base, u32 limit, u16 attrib)
{
	s->selector = sel;
	s->base = base;
	s->limit = limit;
	s->attrib = attrib;
}

/* The state after RESET: real mode at F000:FFF0, caches disabled. */
static void svm_init_save(struct svm_vmcb_save *s)
{
	/* P, S, type 3 (data, read/write, accessed); CS: type 11 (code, read, accessed) */
	const u16 data = VMCB_ATTR_P | VMCB_ATTR_S | 3;

	svm_set_seg(&s->cs, 0xf000, 0xffff0000, 0xffff, VMCB_ATTR_P | VMCB_ATTR_S | 11);
	svm_set_seg(&s->ds, 0, 0, 0xffff, data);
	svm_set_seg(&s->es, 0, 0, 0xffff, data);
	svm_set_seg(&s->fs, 0, 0, 0xffff, data);
	svm_set_seg(&s->gs, 0, 0, 0xffff, data);
	svm_set_seg(&s->ss, 0, 0, 0xffff, data);
	svm_set_seg(&s->gdtr, 0, 0, 0xffff, 0);
	svm_set_seg(&s->idtr, 0, 0, 0xffff, 0);
	/* LDT (type 2) and busy 16-bit TSS (type 3), present. */
	svm_set_seg(&s->ldtr, 0, 0, 0xffff, VMCB_ATTR_P | 2);
	svm_set_seg(&s->tr, 0, 0, 0xffff, VMCB_ATTR_P | 3);
	s->cpl = 0;
	s->efer = EFER_SVME;	/* VMRUN requires it; the guest never sees it */
	s->cr0 = SVM_CR0_RESET;
	s->cr2 = 0;
	s->cr3 = 0;
	s->cr4 = 0;
	s->dr6 = KHV_DR6_FIXED1;
	s->dr7 = KHV_DR7_FIXED1;
	s->rflags = X86_EFLAGS_FIXED;
	s->rip = 0xfff0;
	s->rsp = 0;
	s->rax = 0;
	s->g_pat = SVM_PAT_RESET;
}

static void svm_set_study(struct khv_vcpu *vcpu);

/*
 * Everything back to the RESET state: used at creation and after a SHUTDOWN
 * intercept, which leaves the VMCB undefined.  The GPRs other than RIP are
 * left to core (it sets RDX).
 */
void svm_vcpu_reset(struct svm_vcpu *svm)
{
	struct khv_vcpu *vcpu = &svm->vcpu;

	memset(svm->vmcb, 0, sizeof(*svm->vmcb));
	svm_init_control(svm);
	svm_init_save(&svm->vmcb->save);

	vcpu->regs[KHV_REG_RIP] = svm->vmcb->save.rip;
	vcpu->rflags = svm->vmcb->save.rflags;
	memset(vcpu->dr, 0, sizeof(vcpu->dr));
	vcpu->exception.pending = false;
	vcpu->nmi_pending = false;
	vcpu->extint_pending = false;

	svm->exit_rip = vcpu->regs[KHV_REG_RIP];
	svm->injected = 0;
	svm->reinject = 0;
	svm->nmi_masked = false;
	svm->nmi_iret_seen = false;
	svm->nmi_ss_armed = false;
	svm->nmi_ss_trap = false;
	svm->force_exit = false;
	svm->shadow_kept = false;
	svm->asid_gen = 0;	/* a fresh ASID: nothing of the old state cached */
	/* The intercepts a study added went with the VMCB: the study goes on. */
	svm_set_study(vcpu);
}

static int svm_vcpu_init(struct khv_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct page *page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);

	if (!page)
		return -ENOMEM;
	svm->vmcb = page_address(page);
	svm->vmcb_pa = page_to_phys(page);
	svm->asid_cpu = -1;
	svm_vcpu_reset(svm);
	return 0;
}

static void svm_vcpu_destroy(struct khv_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	int cpu;

	if (!svm->vmcb)
		return;
	/* A later VMCB at this address must still count as a switch. */
	for_each_possible_cpu(cpu)
		cmpxchg(&per_cpu_ptr(&svm_cpu, cpu)->last_vmcb, svm->vmcb, NULL);
	free_page((unsigned long)svm->vmcb);
	svm->vmcb = NULL;
}

static void svm_vcpu_load(struct khv_vcpu *vcpu, int cpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct svm_cpu *sd = per_cpu_ptr(&svm_cpu, cpu);

	/*
	 * Another guest context on this CPU: keep its branch predictions from
	 * steering this one, unless every exit already does an IBPB.
	 */
	if (sd->last_vmcb != svm->vmcb) {
		sd->last_vmcb = svm->vmcb;
		if (!boot_cpu_has(X86_FEATURE_IBPB_ON_VMEXIT))
			indirect_branch_prediction_barrier();
	}
}

static void svm_vcpu_put(struct khv_vcpu *vcpu)
{
	/* Nothing: all host state is restored on every exit. */
}

/* ---- one guest entry ------------------------------------------------------- */

bool svm_long_mode_64(struct svm_vcpu *svm)
{
	const struct svm_vmcb_save *s = &svm->vmcb->save;

	return (s->efer & EFER_LMA) && (s->cs.attrib & VMCB_ATTR_L);
}

/* STI/MOV SS shadow, unless the VMM moved RIP past that instruction. */
bool svm_in_shadow(struct svm_vcpu *svm)
{
	return (svm->vmcb->control.int_state & VMCB_INT_SHADOW) &&
	       svm->vcpu.regs[KHV_REG_RIP] == svm->exit_rip;
}

static u64 svm_event(u8 vector, u32 type, bool has_error, u32 error)
{
	u64 ev = vector | type | VMCB_EV_VALID;

	if (has_error)
		ev |= VMCB_EV_ERR_VALID | (u64)error << VMCB_EV_ERR_SHIFT;
	return ev;
}

/* What an exception's delivery records: CR2 for #PF, DR6 bits for #DB. */
static void svm_deliver_payload(struct svm_vcpu *svm, const struct khv_queued_exception *e)
{
	struct svm_vmcb_save *s = &svm->vmcb->save;

	if (!e->has_payload)
		return;
	if (e->vector == X86_TRAP_PF)
		s->cr2 = e->payload;
	else if (e->vector == X86_TRAP_DB)
		s->dr6 |= e->payload & KHV_DR6_VOLATILE;
}

/*
 * EVENTINJ for this entry, one event at most: an interrupted delivery first,
 * then an exception, then an NMI unless blocked, then an external interrupt
 * if RFLAGS.IF=1 and no shadow.  An interrupt that cannot go in now, or
 * userspace asking for the window, arms a virtual interrupt with the VINTR
 * intercept: the exit comes as soon as the guest can take one.  So does
 * one the in-kernel APIC's TPR holds back, with that interrupt's priority:
 * the exit comes when the guest lowers V_TPR.
 *
 * NMIs have no such window on SVM without vNMI; the two ways an NMI can
 * be held up are covered here.  Behind an injected event, it is due before
 * the first instruction of that event's handler: the entry asks for an
 * immediate exit (force_exit), which comes once the injection is done.
 * Behind the IRET of the NMI handler (intercepted, not yet executed), it is
 * due right after that IRET: the entry single-steps the IRET (nmi_ss_armed).
 */
static void svm_inject_events(struct svm_vcpu *svm, u8 tpr_blocked)
{
	struct khv_vcpu *vcpu = &svm->vcpu;
	struct svm_vmcb_control *c = &svm->vmcb->control;
	bool shadow = c->int_state & VMCB_INT_SHADOW;
	bool if_set = vcpu->rflags & X86_EFLAGS_IF;
	bool window, again = svm->reinject;
	u64 ev = 0;

	if (svm->reinject) {
		ev = svm->reinject;
		svm->reinject = 0;
	} else if (vcpu->exception.pending) {
		ev = svm_event(vcpu->exception.vector, VMCB_EV_TYPE_EXC,
			       vcpu->exception.has_error_code, vcpu->exception.error_code);
		svm_deliver_payload(svm, &vcpu->exception);
		vcpu->exception.pending = false;
	} else if (vcpu->nmi_pending && !svm->nmi_masked && !shadow) {
		ev = svm_event(X86_TRAP_NMI, VMCB_EV_TYPE_NMI, false, 0);
		vcpu->nmi_pending = false;
		svm->nmi_masked = true;
		svm->nmi_iret_seen = false;
	} else if (vcpu->extint_pending && if_set && !shadow) {
		ev = svm_event(vcpu->extint_vector, VMCB_EV_TYPE_INTR, false, 0);
		vcpu->extint_pending = false;
	}
	c->event_inj = ev;
	svm->injected = ev;
	if (ev)
		khv_note_inject(vcpu, (u32)ev, ev >> 32, again);

	/*
	 * An event delivered while the NMI handler's IRET is still ahead: the
	 * IRET that unblocks NMIs is now the one that ends this event's
	 * handler (any IRET does), so watch for the next one.
	 */
	if (ev && svm->nmi_iret_seen)
		svm->nmi_iret_seen = false;
	svm->force_exit = ev && ((vcpu->nmi_pending && !svm->nmi_masked) ||
				 (svm_intr_exit && (ev & VMCB_EV_TYPE_MASK) == VMCB_EV_TYPE_INTR));
	svm->nmi_ss_armed = !ev && vcpu->nmi_pending && svm->nmi_masked && svm->nmi_iret_seen;

	/* While an NMI handler runs, its IRET tells us when NMIs are open. */
	if (svm->nmi_masked && !svm->nmi_iret_seen)
		c->intercept_misc1 |= VMCB_ICPT1_IRET;
	else
		c->intercept_misc1 &= ~VMCB_ICPT1_IRET;

	window = vcpu->extint_pending || vcpu->irq_window ||
		 READ_ONCE(vcpu->run->request_interrupt_window);
	/*
	 * A VMRUN that drops the shadow would take the virtual interrupt
	 * before the shadowed instruction: let that instruction run first
	 * (its own exit, or any later one, opens the window).
	 */
	if (shadow && svm->drops_shadow) {
		window = false;
		tpr_blocked = 0;
	}
	/*
	 * Without a window to wait for, an interrupt may still wait for the
	 * guest to lower its TPR, which it does in V_TPR without an exit: a
	 * virtual interrupt of that priority class, compared against V_TPR,
	 * exits (VINTR) as soon as the guest lowers it below that class with
	 * RFLAGS.IF set, and the interrupt goes in on the next entry.
	 */
	c->int_ctl &= ~(VMCB_V_IRQ | VMCB_V_IGN_TPR | VMCB_V_INTR_PRIO_MASK);
	if (window) {
		c->int_ctl |= VMCB_V_IRQ | VMCB_V_IGN_TPR | (0xfu << VMCB_V_INTR_PRIO_SHIFT);
		c->intercept_misc1 |= VMCB_ICPT1_VINTR;
	} else if (tpr_blocked) {
		c->int_ctl |= VMCB_V_IRQ | ((u32)tpr_blocked << VMCB_V_INTR_PRIO_SHIFT);
		c->intercept_misc1 |= VMCB_ICPT1_VINTR;
	} else {
		c->intercept_misc1 &= ~VMCB_ICPT1_VINTR;
	}
}

/*
 * After the exit: an event whose delivery the exit interrupted (EXITINTINFO)
 * is delivered again on the next entry.  Software interrupts and the INT3 /
 * INTO exceptions the guest raised itself are not: RIP still points at the
 * instruction, which simply runs again.
 */
static void svm_complete_events(struct svm_vcpu *svm)
{
	struct svm_vmcb_control *c = &svm->vmcb->control;
	u64 info = c->exit_int_info;
	u32 type, vector;

	c->event_inj = 0;
	if (svm_exit_code(svm) == VMEXIT_INVALID) {
		/* Nothing was delivered; keep the event for the next try. */
		svm->reinject = svm->injected;
		return;
	}
	if (!(info & VMCB_EV_VALID))
		return;
	info &= VMCB_EV_VECTOR_MASK | VMCB_EV_TYPE_MASK | VMCB_EV_ERR_VALID |
		VMCB_EV_VALID | ((info & VMCB_EV_ERR_VALID) ? GENMASK_ULL(63, 32) : 0);
	type = info & VMCB_EV_TYPE_MASK;
	vector = info & VMCB_EV_VECTOR_MASK;
	if (info != svm->injected) {
		if (type == VMCB_EV_TYPE_SOFT)
			return;
		if (type == VMCB_EV_TYPE_EXC &&
		    (vector == X86_TRAP_BP || vector == X86_TRAP_OF))
			return;
	}
	svm->reinject = info;
}

/*
 * An intercepted #MC was not seen by the host: hand it to the host's
 * handler, as if it had hit user mode (the guest is, to the host, its
 * process's business), so recovery can kill the task instead of panicking.
 */
static void svm_forward_mce(void)
{
#ifdef CONFIG_X86_MCE
	struct pt_regs regs = {
		.cs = 3,
		.flags = X86_EFLAGS_IF,
	};

	do_machine_check(&regs);
#endif
}

static __always_inline void svm_clgi(void)
{
	/* #UD only if SVME went away (emergency reboot): then carry on. */
	asm volatile("1: clgi\n2:\n" _ASM_EXTABLE(1b, 2b) ::: "memory");
}

static __always_inline void svm_stgi(void)
{
	asm volatile("1: stgi\n2:\n" _ASM_EXTABLE(1b, 2b) ::: "memory");
}

/* XCR0 values the CPU accepts from us: x87 set, nothing the host lacks. */
static bool svm_xcr0_loadable(u64 xcr0)
{
	return (xcr0 & XFEATURE_MASK_FP) && !(xcr0 & ~svm_host_xcr0);
}

#define SVM_RFLAGS_VALID	0x3f7fd7ULL

/*
 * Step the NMI handler's IRET: TF in the VMCB only, so that neither
 * vcpu->rflags (what userspace reads) nor a later entry sees it.  The
 * single-step trap after IRET uses the TF in effect before the IRET, so the
 * #DB exit comes right after it whatever RFLAGS image it pops.  DR6.BS is
 * cleared meanwhile so that, after the exit, BS says this step trapped.
 */
static void svm_nmi_step_arm(struct svm_vcpu *svm)
{
	struct svm_vmcb_save *s = &svm->vmcb->save;

	svm->nmi_ss_guest_tf = svm->vcpu.rflags & X86_EFLAGS_TF;
	svm->nmi_ss_dr6 = s->dr6;
	s->dr6 &= ~KHV_DR6_BS;
	s->rflags |= X86_EFLAGS_TF;
}

/*
 * After an entry that stepped the IRET.  Past the IRET (its #DB trap, or
 * RIP moved on by any other exit) NMIs are open, and the RFLAGS the guest
 * now has is the one the IRET popped.  Still before it (an exit on the way,
 * e.g. a nested page fault on the stack it pops), the TF is ours: the
 * guest's goes back, and the next entry steps the IRET again.
 */
static void svm_nmi_step_done(struct svm_vcpu *svm, bool entered)
{
	struct khv_vcpu *vcpu = &svm->vcpu;
	struct svm_vmcb_save *s = &svm->vmcb->save;
	bool trap = entered && svm_exit_code(svm) == VMEXIT_EXCP_BASE + X86_TRAP_DB &&
		    (s->dr6 & KHV_DR6_BS);

	svm->nmi_ss_armed = false;
	if (!entered) {
		s->dr6 = svm->nmi_ss_dr6;
		return;
	}
	if (trap || vcpu->regs[KHV_REG_RIP] != svm->nmi_iret_rip) {
		svm->nmi_masked = false;
		svm->nmi_iret_seen = false;
	} else {
		vcpu->rflags &= ~X86_EFLAGS_TF;
		if (svm->nmi_ss_guest_tf)
			vcpu->rflags |= X86_EFLAGS_TF;
	}
	/* svm_exit_db() decides whose #DB that was and fixes DR6. */
	svm->nmi_ss_trap = trap;
	if (!trap)
		s->dr6 |= svm->nmi_ss_dr6 & KHV_DR6_BS;
}

/*
 * After an exit from an entry made under an interrupt shadow, with RIP
 * still at the instruction it covers: that instruction has not run, so
 * the shadow is still on.  A CPU says so in int_state; QEMU's SVM before
 * 9.1 does not load int_state at VMRUN, so its guest ran without the
 * shadow and the exit reports none.  Keep it: an interrupt injected now
 * would come before the STI's next instruction, and for STI; HLT that
 * means a HLT that sleeps after its wake-up came.  A virtual interrupt
 * taken there (VINTR), or a physical one reported without the shadow,
 * shows the VMRUN dropped it: note that for svm_inject_events().  On a
 * CPU, RIP comes back to the same place only through a loop that runs
 * the shadowed instruction and returns to it; read as a shadow, that
 * makes an interrupt wait for a later exit, never loses it.
 */
static void svm_keep_shadow(struct svm_vcpu *svm, u64 entry_rip)
{
	struct svm_vmcb_control *c = &svm->vmcb->control;
	u32 code = svm_exit_code(svm);
	bool kept = svm->shadow_kept;

	svm->shadow_kept = false;
	if (!svm->entry_shadow || svm->vmcb->save.rip != entry_rip ||
	    (c->exit_int_info & VMCB_EV_VALID) || (c->int_state & VMCB_INT_SHADOW))
		return;
	/*
	 * Kept once already: under QEMU's TCG, every exit from a loop whose
	 * first instruction is the shadowed one comes back at that RIP (it
	 * checks for interrupts where a block of code starts), so a shadow
	 * kept again and again would hold an interrupt back forever.
	 */
	if (kept && svm->drops_shadow)
		return;
	c->int_state |= VMCB_INT_SHADOW;
	svm->shadow_kept = true;
	if ((code == VMEXIT_VINTR || code == VMEXIT_INTR) && !svm->drops_shadow) {
		svm->drops_shadow = true;
		pr_info_once("khv: svm: VMRUN dropped the guest's interrupt shadow (an emulated SVM); khv keeps it\n");
	}
}

static void svm_run(struct khv_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct svm_vmcb *vmcb = svm->vmcb;
	struct svm_cpu *sd = this_cpu_ptr(&svm_cpu);
	bool guest_xcr0, guest_dr, entered;
	u8 tpr_blocked;

	/* RIP moved by core (skip, emulation) or userspace: shadow is over. */
	if (vcpu->regs[KHV_REG_RIP] != svm->exit_rip)
		vmcb->control.int_state &= ~VMCB_INT_SHADOW;
	/* The IRET that ended the NMI handler has run once RIP moved on. */
	if (svm->nmi_iret_seen && vcpu->regs[KHV_REG_RIP] != svm->nmi_iret_rip) {
		svm->nmi_masked = false;
		svm->nmi_iret_seen = false;
	}
	svm->nmi_ss_trap = false;

	if (khv_test_clear_request(vcpu, KHV_REQ_TLB_FLUSH)) {
		svm_asid_flush(svm);
		khv_kstat(vcpu, KHV_KSTAT_TLB_FLUSH);
	}
	svm_asid_assign(svm, sd, smp_processor_id());
	svm_asid_prepare(svm, sd);
	vmcb->control.asid = svm->asid;

	/* The guest's CR8 lives in V_TPR: the in-kernel APIC's TPR goes in. */
	tpr_blocked = 0;
	if (vcpu->apic)
		svm->tpr_in = khv_apic_tpr(vcpu, &tpr_blocked);
	svm_inject_events(svm, tpr_blocked);
	if (vcpu->apic)
		vmcb->control.int_ctl = (vmcb->control.int_ctl & ~VMCB_V_TPR_MASK) | svm->tpr_in;

	vmcb->save.rax = vcpu->regs[KHV_REG_RAX];
	vmcb->save.rsp = vcpu->regs[KHV_REG_RSP];
	vmcb->save.rip = vcpu->regs[KHV_REG_RIP];
	vmcb->save.rflags = (vcpu->rflags & SVM_RFLAGS_VALID) | X86_EFLAGS_FIXED;
	if (svm->nmi_ss_armed)
		svm_nmi_step_arm(svm);
	vmcb->control.n_cr3 = vcpu->vm->mmu.root_pa;
	vmcb->control.clean = 0;
	/* Outputs: stale values must not survive an exit that does not write them. */
	vmcb->control.next_rip = 0;
	vmcb->control.exit_int_info = 0;
	vmcb->control.exit_code = VMEXIT_INVALID;

	memcpy(svm->save_before, &vmcb->save, SVM_SAVE_KEPT);
	svm->cr2_before = vmcb->save.cr2;
	svm->entry_shadow = (vmcb->control.int_state & VMCB_INT_SHADOW) &&
			    !(vmcb->control.event_inj & VMCB_EV_VALID);

	guest_xcr0 = svm_has_xsave && (vmcb->save.cr4 & X86_CR4_OSXSAVE) &&
		     vcpu->xcr0 != svm_host_xcr0 && svm_xcr0_loadable(vcpu->xcr0);
	guest_dr = vmcb->save.dr7 & KHV_DR7_ENABLES;

	svm_clgi();
	/*
	 * A self-IPI, held by GIF=0 until VMRUN: the CPU delivers the injected
	 * event first, then takes the INTR intercept before the handler's first
	 * instruction, where the waiting NMI is due (or where QEMU's TCG must
	 * forget the interrupt it just delivered: intr_inject_exit).
	 */
	if (svm->force_exit)
		smp_send_reschedule(smp_processor_id());
	if (guest_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vcpu->xcr0);
	if (guest_dr) {
		/* Host breakpoints must not fire on guest addresses meanwhile. */
		if (hw_breakpoint_active())
			set_debugreg(0, 7);
		set_debugreg(vcpu->dr[0], 0);
		set_debugreg(vcpu->dr[1], 1);
		set_debugreg(vcpu->dr[2], 2);
		set_debugreg(vcpu->dr[3], 3);
	}
	amd_clear_divider();
	raw_local_irq_enable();
	__khv_svm_vmrun(vcpu->regs, svm->vmcb_pa, sd->host_save_pa);
	raw_local_irq_disable();
	/* The guest's CR4 now: it may have set OSXSAVE (an exit, but later). */
	if (guest_xcr0 || (svm_has_xsave && (vmcb->save.cr4 & X86_CR4_OSXSAVE)))
		khv_xcr0_after_exit(vcpu, svm_host_xcr0, guest_xcr0);
	/*
	 * #VMEXIT left DR7 = 0x400 and the guest's DR6: bring the host's
	 * breakpoints back, or at least a clean DR6 for its #DB handler.
	 */
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	else if (guest_dr || vmcb->save.dr6 != DR6_RESERVED)
		set_debugreg(DR6_RESERVED, 6);
	svm_stgi();

	entered = svm_exit_code(svm) != VMEXIT_INVALID;
	/*
	 * An exit whose guest RIP is the instruction after our own VMRUN, under
	 * our own CR3, carries the host's state as the guest's.  No CPU should;
	 * QEMU's emulated SVM has, rarely, under load (the "guest" then ran at
	 * that RIP and took a nested page fault on the host's CR3).  What the
	 * guest's state was is lost: keep the host's addresses from userspace
	 * and from the next VMRUN (the entry state stays, as for a failed
	 * VMRUN), and svm_handle_exit() ends the VM.
	 */
	svm->host_state = entered && vmcb->save.rip == (unsigned long)khv_svm_vmexit_rip &&
			  vmcb->save.cr3 == __read_cr3();
	if (unlikely(svm->host_state)) {
		svm->host_state_alias = svm->vmcb_pa == page_to_phys(sd->hsave);
		entered = false;
	}
	/*
	 * A failed VMRUN ran no guest code: keep core's registers, and the
	 * save area as it was (QEMU writes its own host state there).
	 */
	if (!entered) {
		memcpy(&vmcb->save, svm->save_before, SVM_SAVE_KEPT);
		vmcb->save.cr2 = svm->cr2_before;
	}
	if (entered) {
		svm_keep_shadow(svm, vcpu->regs[KHV_REG_RIP]);
		vcpu->regs[KHV_REG_RAX] = vmcb->save.rax;
		vcpu->regs[KHV_REG_RSP] = vmcb->save.rsp;
		vcpu->regs[KHV_REG_RIP] = vmcb->save.rip;
		vcpu->rflags = vmcb->save.rflags;
		svm->exit_rip = vmcb->save.rip;
	}
	if (svm->nmi_ss_armed)
		svm_nmi_step_done(svm, entered);
	if (vcpu->apic && !svm->host_state &&
	    (vmcb->control.int_ctl & VMCB_V_TPR_MASK) != svm->tpr_in)
		khv_apic_set_cr8(vcpu, vmcb->control.int_ctl & VMCB_V_TPR_MASK);

	svm_asid_entered(svm, sd, entered);

	/* Before anything else can run on this CPU. */
	if (svm_exit_code(svm) == VMEXIT_EXCP_BASE + X86_TRAP_MC)
		svm_forward_mce();

	svm_complete_events(svm);
}

/* ---- guest state for core ------------------------------------------------ */

static struct svm_vmcb_seg *svm_seg(struct svm_vcpu *svm, enum khv_seg seg)
{
	struct svm_vmcb_save *s = &svm->vmcb->save;

	switch (seg) {
	case KHV_SEG_ES:
		return &s->es;
	case KHV_SEG_CS:
		return &s->cs;
	case KHV_SEG_SS:
		return &s->ss;
	case KHV_SEG_DS:
		return &s->ds;
	case KHV_SEG_FS:
		return &s->fs;
	case KHV_SEG_GS:
		return &s->gs;
	case KHV_SEG_TR:
		return &s->tr;
	case KHV_SEG_LDTR:
	default:
		return &s->ldtr;
	}
}

static void svm_get_segment(struct khv_vcpu *vcpu, struct khv_segment *out, enum khv_seg seg)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	const struct svm_vmcb_seg *s = svm_seg(svm, seg);
	u16 a = s->attrib;

	memset(out, 0, sizeof(*out));
	out->base = s->base;
	out->limit = s->limit;
	out->selector = s->selector;
	out->type = a & VMCB_ATTR_TYPE_MASK;
	out->s = !!(a & VMCB_ATTR_S);
	out->dpl = (a >> VMCB_ATTR_DPL_SHIFT) & 3;
	out->present = !!(a & VMCB_ATTR_P);
	out->avl = !!(a & VMCB_ATTR_AVL);
	out->l = !!(a & VMCB_ATTR_L);
	out->db = !!(a & VMCB_ATTR_DB);
	/* The CPU does not keep G (limit is byte-granular); derive a legal one. */
	out->g = s->limit > 0xfffff;
	out->unusable = 0;
	/* SS.DPL is the CPL; the VMCB keeps the CPL apart. */
	if (seg == KHV_SEG_SS)
		out->dpl = svm->vmcb->save.cpl;
}

static void svm_set_segment(struct svm_vcpu *svm, const struct khv_segment *in, enum khv_seg seg)
{
	struct svm_vmcb_seg *s = svm_seg(svm, seg);
	u16 a;

	a = in->type & VMCB_ATTR_TYPE_MASK;
	if (in->s)
		a |= VMCB_ATTR_S;
	a |= (in->dpl & 3) << VMCB_ATTR_DPL_SHIFT;
	if (in->present && !in->unusable)
		a |= VMCB_ATTR_P;
	if (in->avl)
		a |= VMCB_ATTR_AVL;
	if (in->l)
		a |= VMCB_ATTR_L;
	if (in->db)
		a |= VMCB_ATTR_DB;
	if (in->g)
		a |= VMCB_ATTR_G;
	s->selector = in->selector;
	s->attrib = a;
	s->limit = in->limit;
	s->base = in->base;
}

static void svm_get_sregs(struct khv_vcpu *vcpu, struct khv_sregs *sregs)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	const struct svm_vmcb_save *s = &svm->vmcb->save;

	svm_get_segment(vcpu, &sregs->cs, KHV_SEG_CS);
	svm_get_segment(vcpu, &sregs->ds, KHV_SEG_DS);
	svm_get_segment(vcpu, &sregs->es, KHV_SEG_ES);
	svm_get_segment(vcpu, &sregs->fs, KHV_SEG_FS);
	svm_get_segment(vcpu, &sregs->gs, KHV_SEG_GS);
	svm_get_segment(vcpu, &sregs->ss, KHV_SEG_SS);
	svm_get_segment(vcpu, &sregs->tr, KHV_SEG_TR);
	svm_get_segment(vcpu, &sregs->ldt, KHV_SEG_LDTR);
	sregs->gdt.base = s->gdtr.base;
	sregs->gdt.limit = s->gdtr.limit;
	sregs->idt.base = s->idtr.base;
	sregs->idt.limit = s->idtr.limit;
	sregs->cr0 = s->cr0;
	sregs->cr2 = s->cr2;
	sregs->cr3 = s->cr3;
	sregs->cr4 = s->cr4;
	sregs->cr8 = svm->vmcb->control.int_ctl & VMCB_V_TPR_MASK;
	sregs->efer = s->efer & ~EFER_SVME;
	sregs->apic_base = vcpu->apic_base;
}

/*
 * The CR0/CR4/EFER/CS combinations VMRUN refuses or the architecture does
 * not allow, checked here so that userspace gets -EINVAL rather than a
 * FAIL_ENTRY exit.
 */
static int svm_check_sregs(const struct khv_sregs *s)
{
	u64 cr0 = s->cr0 | X86_CR0_ET;

	if (cr0 & ~SVM_CR0_VALID)
		return -EINVAL;
	if ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE))
		return -EINVAL;
	if ((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD))
		return -EINVAL;
	if (s->cr4 & ~svm_cr4_allowed)
		return -EINVAL;
	if (s->efer & ~svm_efer_allowed)
		return -EINVAL;
	if ((s->efer & EFER_LME) && (cr0 & X86_CR0_PG)) {
		if (!(s->cr4 & X86_CR4_PAE) || !(s->efer & EFER_LMA))
			return -EINVAL;
		if (s->cs.l && s->cs.db)
			return -EINVAL;
		/* Entry refuses CR3 bits at or above the CPU's MAXPHYADDR. */
		if (s->cr3 & GENMASK_ULL(63, boot_cpu_data.x86_phys_bits))
			return -EINVAL;
	} else {
		if ((s->efer & EFER_LMA) || s->cs.l)
			return -EINVAL;
		if ((s->cr4 & X86_CR4_PCIDE) || (s->cr3 >> 32))
			return -EINVAL;
	}
	return 0;
}

static int svm_set_sregs(struct khv_vcpu *vcpu, const struct khv_sregs *sregs)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct svm_vmcb *vmcb = svm->vmcb;
	struct svm_vmcb_save *s = &vmcb->save;
	u64 cr0 = sregs->cr0 | X86_CR0_ET;
	u64 efer = sregs->efer | EFER_SVME;
	bool paging_changed;
	int err;

	err = svm_check_sregs(sregs);
	if (err)
		return err;

	paging_changed = s->cr0 != cr0 || s->cr3 != sregs->cr3 ||
			 s->cr4 != sregs->cr4 || s->efer != efer;

	svm_set_segment(svm, &sregs->cs, KHV_SEG_CS);
	svm_set_segment(svm, &sregs->ds, KHV_SEG_DS);
	svm_set_segment(svm, &sregs->es, KHV_SEG_ES);
	svm_set_segment(svm, &sregs->fs, KHV_SEG_FS);
	svm_set_segment(svm, &sregs->gs, KHV_SEG_GS);
	svm_set_segment(svm, &sregs->ss, KHV_SEG_SS);
	svm_set_segment(svm, &sregs->tr, KHV_SEG_TR);
	svm_set_segment(svm, &sregs->ldt, KHV_SEG_LDTR);
	s->gdtr.base = sregs->gdt.base;
	s->gdtr.limit = sregs->gdt.limit;
	s->idtr.base = sregs->idt.base;
	s->idtr.limit = sregs->idt.limit;
	s->cr0 = cr0;
	s->cr2 = sregs->cr2;
	s->cr3 = sregs->cr3;
	s->cr4 = sregs->cr4;
	s->efer = efer;
	/* CPL: 0 in real mode, else SS.DPL (which always equals it). */
	s->cpl = (cr0 & X86_CR0_PE) ? (sregs->ss.dpl & 3) : 0;
	vmcb->control.int_ctl = (vmcb->control.int_ctl & ~VMCB_V_TPR_MASK) |
				(sregs->cr8 & VMCB_V_TPR_MASK);

	/* Translations cached under the old paging state are now wrong. */
	if (paging_changed)
		set_bit(KHV_REQ_TLB_FLUSH, &vcpu->requests);
	return 0;
}

static void svm_set_segment_op(struct khv_vcpu *vcpu, const struct khv_segment *s,
			       enum khv_seg seg)
{
	svm_set_segment(to_svm(vcpu), s, seg);
}

static void svm_set_dtable(struct khv_vcpu *vcpu, bool idt, u64 base, u16 limit)
{
	struct svm_vmcb_save *s = &to_svm(vcpu)->vmcb->save;
	struct svm_vmcb_seg *t = idt ? &s->idtr : &s->gdtr;

	t->base = base;
	t->limit = limit;
}

static u64 svm_get_cr(struct khv_vcpu *vcpu, int cr)
{
	const struct svm_vmcb_save *s = &to_svm(vcpu)->vmcb->save;

	switch (cr) {
	case 0:
		return s->cr0;
	case 2:
		return s->cr2;
	case 3:
		return s->cr3;
	case 4:
		return s->cr4;
	default:
		return 0;
	}
}

static u64 svm_get_efer(struct khv_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb->save.efer & ~EFER_SVME;
}

static int svm_get_cpl(struct khv_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb->save.cpl & 3;
}

static bool svm_in_interrupt_shadow(struct khv_vcpu *vcpu)
{
	return svm_in_shadow(to_svm(vcpu));
}

/* EVENTINJ types and KHV_EVENT_*, by the other's index. */
static const u8 svm_ev_to_khv[8] = {
	[VMCB_EV_TYPE_INTR >> VMCB_EV_TYPE_SHIFT] = KHV_EVENT_EXTINT,
	[VMCB_EV_TYPE_NMI >> VMCB_EV_TYPE_SHIFT] = KHV_EVENT_NMI,
	[VMCB_EV_TYPE_EXC >> VMCB_EV_TYPE_SHIFT] = KHV_EVENT_EXCEPTION,
};
static const u32 khv_to_svm_ev[3] = {
	[KHV_EVENT_EXCEPTION] = VMCB_EV_TYPE_EXC,
	[KHV_EVENT_EXTINT] = VMCB_EV_TYPE_INTR,
	[KHV_EVENT_NMI] = VMCB_EV_TYPE_NMI,
};

/*
 * The interrupted delivery is only ever an interrupt, an NMI or an
 * exception: svm_complete_events() drops software interrupts, and khv
 * never injects one.
 */
static void svm_get_events(struct khv_vcpu *vcpu, struct khv_vcpu_events *ev)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	u64 r = svm->reinject;

	if (r & VMCB_EV_VALID) {
		ev->injected.valid = 1;
		ev->injected.type = svm_ev_to_khv[(r & VMCB_EV_TYPE_MASK) >> VMCB_EV_TYPE_SHIFT];
		ev->injected.vector = r & VMCB_EV_VECTOR_MASK;
		if (r & VMCB_EV_ERR_VALID) {
			ev->injected.has_error_code = 1;
			ev->injected.error_code = r >> VMCB_EV_ERR_SHIFT;
		}
	}
	ev->nmi.masked = svm->nmi_masked;
	ev->shadow = svm_in_shadow(svm);
}

static void svm_set_events(struct khv_vcpu *vcpu, const struct khv_vcpu_events *ev)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	const typeof(ev->injected) *inj = &ev->injected;
	/* Real mode pushes no error code: none goes in, as on a real CPU. */
	bool err = inj->has_error_code && (svm->vmcb->save.cr0 & X86_CR0_PE);

	svm->reinject = inj->valid ? svm_event(inj->vector, khv_to_svm_ev[inj->type],
					       err, inj->error_code) : 0;
	/* An NMI on its way in blocks NMIs, as its first delivery did. */
	svm->nmi_masked = ev->nmi.masked || (inj->valid && inj->type == KHV_EVENT_NMI);
	svm->nmi_iret_seen = false;
	svm->nmi_ss_armed = false;
	if (ev->shadow)
		svm->vmcb->control.int_state |= VMCB_INT_SHADOW;
	else
		svm->vmcb->control.int_state &= ~VMCB_INT_SHADOW;
	svm->exit_rip = vcpu->regs[KHV_REG_RIP];
}

static void svm_reset(struct khv_vcpu *vcpu)
{
	svm_vcpu_reset(to_svm(vcpu));
}

static void svm_set_tsc_offset(struct khv_vcpu *vcpu, u64 offset)
{
	to_svm(vcpu)->vmcb->control.tsc_offset = offset;
	WRITE_ONCE(vcpu->tsc_offset, offset);
}

/* svm_inject_events() would put an external interrupt in on this entry. */
static bool svm_interrupt_allowed(struct khv_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	return (vcpu->rflags & X86_EFLAGS_IF) && !svm_in_shadow(svm) && !svm->reinject &&
	       !vcpu->exception.pending;
}

static u64 svm_get_dr67(struct khv_vcpu *vcpu, int dr)
{
	const struct svm_vmcb_save *s = &to_svm(vcpu)->vmcb->save;

	return dr == 6 ? s->dr6 : s->dr7;
}

static void svm_set_dr67(struct khv_vcpu *vcpu, int dr, u64 val)
{
	struct svm_vmcb_save *s = &to_svm(vcpu)->vmcb->save;

	if (dr == 6)
		s->dr6 = val;
	else
		s->dr7 = val;
}

static void svm_intercept(u32 *field, u32 bits, bool on)
{
	if (on)
		*field |= bits;
	else
		*field &= ~bits;
}

/*
 * Study mode: RDTSC exits, every MSR (the pass-through ones too), MOV to
 * CR3 and CR8 and from CR8 (CR0 and CR4 writes always exit), INVLPG,
 * every PAUSE (a filter count of 0 with the intercept set is no filter),
 * and the exceptions chosen.
 */
static void svm_set_study(struct khv_vcpu *vcpu)
{
	struct svm_vmcb_control *c = &to_svm(vcpu)->vmcb->control;
	const struct khv_study *set = &vcpu->study.set;
	u32 crs = set->cr_write ?: ~0u;
	u64 ev = set->events;
	bool cr_write = ev & KHV_STUDY_CR_WRITE;

	svm_intercept(&c->intercept_misc1, VMCB_ICPT1_RDTSC, ev & KHV_STUDY_RDTSC);
	svm_intercept(&c->intercept_misc2, VMCB_ICPT2_RDTSCP, ev & KHV_STUDY_RDTSC);
	c->msrpm_base_pa = page_to_phys(ev & (KHV_STUDY_RDMSR | KHV_STUDY_WRMSR) ?
					svm_msrpm_all : svm_msrpm);
	svm_intercept(&c->intercept_cr, VMCB_CR_WRITE(3), cr_write && (crs & KHV_STUDY_CR3));
	svm_intercept(&c->intercept_cr, VMCB_CR_WRITE(8), cr_write && (crs & KHV_STUDY_CR8));
	svm_intercept(&c->intercept_cr, VMCB_CR_READ(8), ev & KHV_STUDY_CR8_READ);
	svm_intercept(&c->intercept_misc1, VMCB_ICPT1_INVLPG, ev & KHV_STUDY_INVLPG);
	svm_intercept(&c->intercept_misc1, VMCB_ICPT1_DESC_ALL, ev & KHV_STUDY_DESC);
	c->intercept_exc = SVM_EXC_INTERCEPTS |
			   (ev & KHV_STUDY_EXCEPTION ? set->exceptions ?: KHV_STUDY_EXCEPTIONS : 0);
	if (ev & KHV_STUDY_PAUSE) {
		c->intercept_misc1 |= VMCB_ICPT1_PAUSE;
		c->pause_filter_count = 0;
	} else {
		svm_intercept(&c->intercept_misc1, VMCB_ICPT1_PAUSE, svm_caps.pause_filter);
		c->pause_filter_count = svm_caps.pause_filter ? SVM_PAUSE_COUNT : 0;
	}
}

static void svm_drop_redelivery(struct khv_vcpu *vcpu)
{
	to_svm(vcpu)->reinject = 0;
}

int svm_set_cr(struct khv_vcpu *vcpu, int cr, u64 val)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	switch (cr) {
	case 0:
		return svm_set_cr0(svm, val);
	case 3:
		return svm_set_cr3(svm, val);
	case 4:
		return svm_set_cr4(svm, val);
	case 8:
		return svm_set_cr8(svm, val);
	}
	return -EINVAL;
}

static void svm_exit_info(struct khv_vcpu *vcpu, u64 *info1, u64 *info2)
{
	const struct svm_vmcb_control *c = &to_svm(vcpu)->vmcb->control;

	*info1 = c->exit_info_1;
	*info2 = c->exit_info_2;
}

/* With NRIPS, the length of the intercepted instruction still at RIP. */
static u32 svm_hw_insn_len(struct khv_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	u64 next = svm->vmcb->control.next_rip;
	u64 rip = vcpu->regs[KHV_REG_RIP];

	if (!svm_caps.nrips || !next || rip != svm->exit_rip)
		return 0;
	if (next <= rip || next - rip > 15)
		return 0;	/* not an instruction intercept, or RIP wrapped */
	return next - rip;
}



/*
 * A guest MOV to CR0 (or CLTS, LMSW), intercepted: the checks of MOV CR0,
 * then the effects the CPU would have had: EFER.LMA follows paging when
 * EFER.LME is set, and a change of paging mode flushes this guest's TLB.
 * -EINVAL means #GP for the guest; the VMCB is then unchanged.
 */
int svm_set_cr0(struct svm_vcpu *svm, u64 cr0)
{
	struct svm_vmcb_save *s = &svm->vmcb->save;
	u64 old = s->cr0, efer = s->efer;

	if (cr0 >> 32)
		return -EINVAL;
	/* Bits 31:0 that do not exist are ignored, ET reads as one. */
	cr0 = (cr0 & SVM_CR0_VALID) | X86_CR0_ET;
	if ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE))
		return -EINVAL;
	if ((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD))
		return -EINVAL;

	if ((cr0 & X86_CR0_PG) && !(old & X86_CR0_PG) && (efer & EFER_LME)) {
		/* Entering long mode: PAE paging, from a non-64-bit CS. */
		if (!(s->cr4 & X86_CR4_PAE) || (s->cs.attrib & VMCB_ATTR_L))
			return -EINVAL;
		efer |= EFER_LMA;
	} else if (!(cr0 & X86_CR0_PG) && (old & X86_CR0_PG)) {
		/* Leaving paging: only from compatibility mode, without PCIDs. */
		if (svm_long_mode_64(svm) || (s->cr4 & X86_CR4_PCIDE))
			return -EINVAL;
		efer &= ~EFER_LMA;
	}

	s->cr0 = cr0;
	s->efer = efer;
	if ((cr0 ^ old) & (X86_CR0_PG | X86_CR0_PE | X86_CR0_WP))
		set_bit(KHV_REQ_TLB_FLUSH, &svm->vcpu.requests);
	return 0;
}

/*
 * A guest MOV to CR3, intercepted only while studied: in long mode bit 63
 * is PCID's no-flush hint and the bits above MAXPHYADDR give #GP; outside
 * it only bits 31:0 count.  The guest's translations go, all of them
 * (the hint and global pages notwithstanding: more than the CPU would).
 */
int svm_set_cr3(struct svm_vcpu *svm, u64 cr3)
{
	struct svm_vmcb_save *s = &svm->vmcb->save;

	if (s->efer & EFER_LMA) {
		if (s->cr4 & X86_CR4_PCIDE)
			cr3 &= ~BIT_ULL(63);
		if (cr3 & GENMASK_ULL(63, boot_cpu_data.x86_phys_bits))
			return -EINVAL;
	} else {
		cr3 = (u32)cr3;
	}
	s->cr3 = cr3;
	set_bit(KHV_REQ_TLB_FLUSH, &svm->vcpu.requests);
	return 0;
}

/*
 * A guest MOV to CR8, intercepted only while studied: the TPR, in V_TPR
 * and the in-kernel APIC's (svm_run() would copy it there after the next
 * exit otherwise).  Bits 63:4 set give #GP.
 */
int svm_set_cr8(struct svm_vcpu *svm, u64 cr8)
{
	struct svm_vmcb_control *c = &svm->vmcb->control;

	if (cr8 & ~(u64)VMCB_V_TPR_MASK)
		return -EINVAL;
	c->int_ctl = (c->int_ctl & ~VMCB_V_TPR_MASK) | cr8;
	khv_apic_set_cr8(&svm->vcpu, cr8);
	return 0;
}

/* CR4 bits whose change makes cached translations wrong. */
#define SVM_CR4_PAGING	(X86_CR4_PGE | X86_CR4_PAE | X86_CR4_PSE | X86_CR4_PCIDE | \
			 X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_LA57)

/*
 * A guest MOV to CR4, intercepted: only bits khv offers (never VMXE, PKE,
 * CET or SMXE), PAE and the paging depth fixed in long mode, PCIDE only in
 * long mode with CR3[11:0] zero.  -EINVAL means #GP, VMCB unchanged.
 */
int svm_set_cr4(struct svm_vcpu *svm, u64 cr4)
{
	struct svm_vmcb_save *s = &svm->vmcb->save;
	u64 old = s->cr4;
	bool lma = s->efer & EFER_LMA;

	if (cr4 & ~svm_cr4_allowed)
		return -EINVAL;
	if (lma && (!(cr4 & X86_CR4_PAE) || ((cr4 ^ old) & X86_CR4_LA57)))
		return -EINVAL;
	if ((cr4 & X86_CR4_PCIDE) && !(old & X86_CR4_PCIDE) && (!lma || (s->cr3 & 0xfff)))
		return -EINVAL;

	s->cr4 = cr4;
	if ((cr4 ^ old) & SVM_CR4_PAGING)
		set_bit(KHV_REQ_TLB_FLUSH, &svm->vcpu.requests);
	return 0;
}

static int svm_set_efer(struct svm_vcpu *svm, u64 data, bool host)
{
	struct svm_vmcb_save *s = &svm->vmcb->save;
	u64 old = s->efer & ~EFER_SVME;

	/* Includes SVME: no nested virtualization, #GP for the guest. */
	if (data & ~svm_efer_allowed)
		return -EINVAL;
	if (!host) {
		/* LME may not change under paging; LMA is the CPU's to set. */
		if ((s->cr0 & X86_CR0_PG) && ((data ^ old) & EFER_LME))
			return -EINVAL;
		data = (data & ~EFER_LMA) | (old & EFER_LMA);
	}
	s->efer = data | EFER_SVME;
	return 0;
}

static int svm_get_msr(struct khv_vcpu *vcpu, u32 index, u64 *data)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	const struct svm_vmcb_save *s = &svm->vmcb->save;

	switch (index) {
	case MSR_EFER:
		*data = s->efer & ~EFER_SVME;
		break;
	case MSR_STAR:
		*data = s->star;
		break;
	case MSR_LSTAR:
		*data = s->lstar;
		break;
	case MSR_CSTAR:
		*data = s->cstar;
		break;
	case MSR_SYSCALL_MASK:
		*data = s->sfmask;
		break;
	case MSR_KERNEL_GS_BASE:
		*data = s->kernel_gs_base;
		break;
	case MSR_FS_BASE:
		*data = s->fs.base;
		break;
	case MSR_GS_BASE:
		*data = s->gs.base;
		break;
	case MSR_IA32_SYSENTER_CS:
		*data = s->sysenter_cs;
		break;
	case MSR_IA32_SYSENTER_ESP:
		*data = s->sysenter_esp;
		break;
	case MSR_IA32_SYSENTER_EIP:
		*data = s->sysenter_eip;
		break;
	case MSR_IA32_CR_PAT:
		*data = s->g_pat;
		break;
	case MSR_IA32_TSC:
		*data = rdtsc() + svm->vmcb->control.tsc_offset;
		break;
	case MSR_IA32_DEBUGCTLMSR:
		*data = 0;	/* no LBR virtualization: reads as off */
		break;
	default:
		return 1;
	}
	return 0;
}

static int svm_set_msr(struct khv_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct svm_vmcb_save *s = &svm->vmcb->save;

	switch (index) {
	case MSR_EFER:
		return svm_set_efer(svm, data, host);
	case MSR_STAR:
		s->star = data;
		return 0;
	case MSR_SYSCALL_MASK:
		if (data >> 32)
			return -EINVAL;
		s->sfmask = data;
		return 0;
	case MSR_IA32_SYSENTER_CS:
		if (data >> 32)
			return -EINVAL;
		s->sysenter_cs = data;
		return 0;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_KERNEL_GS_BASE:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		/* VMLOAD puts these in host MSRs: never a non-canonical value. */
		if (!khv_canonical(data))
			return -EINVAL;
		break;
	case MSR_IA32_CR_PAT:
		if (!khv_pat_valid(data))
			return -EINVAL;
		s->g_pat = data;
		return 0;
	case MSR_IA32_TSC:
		svm->vmcb->control.tsc_offset = data - rdtsc();
		WRITE_ONCE(vcpu->tsc_offset, svm->vmcb->control.tsc_offset);
		return 0;
	case MSR_IA32_DEBUGCTLMSR:
		/* LBR and BTF are accepted and ignored; the rest is reserved. */
		return (data & ~(DEBUGCTLMSR_LBR | DEBUGCTLMSR_BTF)) ? -EINVAL : 0;
	default:
		return 1;
	}

	switch (index) {
	case MSR_LSTAR:
		s->lstar = data;
		break;
	case MSR_CSTAR:
		s->cstar = data;
		break;
	case MSR_KERNEL_GS_BASE:
		s->kernel_gs_base = data;
		break;
	case MSR_FS_BASE:
		s->fs.base = data;
		break;
	case MSR_GS_BASE:
		s->gs.base = data;
		break;
	case MSR_IA32_SYSENTER_ESP:
		s->sysenter_esp = data;
		break;
	case MSR_IA32_SYSENTER_EIP:
		s->sysenter_eip = data;
		break;
	}
	return 0;
}

/* NPT walks with the host's paging depth. */
static int svm_mmu_levels(void)
{
	return (__read_cr4() & X86_CR4_LA57) ? 5 : 4;
}

/*
 * The CPU sets A and D in nested page table entries as in its own tables
 * (AMD64 APM vol. 2, nested paging): the dirty log may read them.
 */
static int svm_dirty_log_mode(void)
{
	return KHV_DIRTY_LOG_BY_CPU;
}

const struct khv_backend khv_svm_backend = {
	.name			= "svm",
	.vendor			= KHV_VENDOR_AMD,
	.vcpu_size		= sizeof(struct svm_vcpu),

	.probe			= svm_probe,
	.setup			= svm_setup,
	.teardown		= svm_teardown,
	.cpu_enable		= svm_cpu_enable,
	.cpu_disable		= svm_cpu_disable,

	.vm_init		= svm_vm_init,
	.vm_destroy		= svm_vm_destroy,
	.vcpu_init		= svm_vcpu_init,
	.vcpu_destroy		= svm_vcpu_destroy,
	.vcpu_load		= svm_vcpu_load,
	.vcpu_put		= svm_vcpu_put,

	.run			= svm_run,
	.handle_exit		= svm_handle_exit,

	.get_segment		= svm_get_segment,
	.get_sregs		= svm_get_sregs,
	.set_sregs		= svm_set_sregs,
	.set_segment		= svm_set_segment_op,
	.set_dtable		= svm_set_dtable,
	.get_cr			= svm_get_cr,
	.get_efer		= svm_get_efer,
	.get_cpl		= svm_get_cpl,
	.in_interrupt_shadow	= svm_in_interrupt_shadow,
	.get_events		= svm_get_events,
	.set_events		= svm_set_events,
	.interrupt_allowed	= svm_interrupt_allowed,
	.reset			= svm_reset,
	.set_tsc_offset		= svm_set_tsc_offset,
	.get_msr		= svm_get_msr,
	.set_msr		= svm_set_msr,
	.get_dr67		= svm_get_dr67,
	.set_dr67		= svm_set_dr67,
	.hw_insn_len		= svm_hw_insn_len,
	.exit_info		= svm_exit_info,
	.set_study		= svm_set_study,
	.set_cr			= svm_set_cr,
	.drop_redelivery	= svm_drop_redelivery,

	.mmu_format		= &khv_npt_format,
	.mmu_levels		= svm_mmu_levels,
	.dirty_log_mode		= svm_dirty_log_mode,

	.exit_stat_index	= svm_exit_stat_index,
	.exit_stat_info		= svm_exit_stat_info,
};
