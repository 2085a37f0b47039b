// SPDX-License-Identifier: GPL-2.0
/*
 * L1 Terminal Fault: flushing the L1 data cache before VM entry.
 *
 * On CPUs with the L1TF bug, a guest can read whatever sits in this core's
 * L1D through a not-present guest page-table entry, whatever the EPT says:
 * the speculative load uses the guest's PTE address as a host physical one.
 * khv cannot stop the guest from building such PTEs, so what must not be in
 * the L1D at VM entry is host data.  Three policies, as the module parameter
 * l1d_flush (read back from /sys/module/khv/parameters/l1d_flush):
 *
 *   never   no flush (the CPU is not affected, the host turned the
 *           mitigation off with l1tf=off, or the administrator chose so);
 *   cond    flush only when the host may have touched data worth stealing
 *           since the last entry: a return from userspace, a reschedule, an
 *           interrupt on this CPU, a second-level fault or emulation (see
 *           khv_vcpu.l1d_flush_hint).  Quick exits (CPUID, MSRs, I/O-port
 *           decoding, ...) run a few hundred instructions of khv code on
 *           khv's own data and re-enter without a flush.  The host kernel's
 *           default policy (l1tf=flush) maps to this;
 *   always  flush before every entry (l1tf=full or full,force).
 *   auto    (written only) the choice above from the host's l1tf= setting.
 *
 * The flush itself is one write to IA32_FLUSH_CMD where the CPU has it,
 * otherwise the software sequence: read a 64 KiB buffer (twice the usual L1D)
 * line by line, after touching each of its pages so that TLB misses do not
 * leave lines unread.  The buffer is allocated when a mode first needs it and
 * kept until unload, so a mode switch never frees memory a CPU is reading.
 *
 * With SMT on, the sibling thread shares the L1D and may run host code while
 * this one runs the guest: no flush helps then (the host's l1tf=flush,nosmt
 * disables SMT).  khv says so once, when the mitigation becomes active.
 *
 * AMD CPUs are not affected; on the SVM backend the parameter reads "never".
 */
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched/smt.h>
#include <linux/sysfs.h>
#include <asm/cpufeature.h>
#include <asm/hardirq.h>
#include <asm/msr.h>
#include <asm/processor.h>

#include "vmx.h"

enum vmx_l1d_mode {
	VMX_L1D_AUTO,		/* requested only: resolved at backend setup */
	VMX_L1D_NEVER,
	VMX_L1D_COND,
	VMX_L1D_ALWAYS,
};

static const char *const vmx_l1d_names[] = {
	[VMX_L1D_AUTO]		= "auto",
	[VMX_L1D_NEVER]		= "never",
	[VMX_L1D_COND]		= "cond",
	[VMX_L1D_ALWAYS]	= "always",
};

/* The software sequence reads 2^4 pages: 64 KiB. */
#define VMX_L1D_BUF_ORDER	4
#define VMX_L1D_BUF_SIZE	(PAGE_SIZE << VMX_L1D_BUF_ORDER)
#define VMX_L1D_LINE		64

/*
 * vmx_l1d_request: what the parameter asked for.  vmx_l1d_mode: what entries
 * do, read with READ_ONCE at every entry (any CPU, interrupts off) and
 * written only under the module's kernel_param_lock (parameter writes) or
 * at backend setup, after vmx_l1d_buf is in place.
 */
static enum vmx_l1d_mode vmx_l1d_request = VMX_L1D_AUTO;
static enum vmx_l1d_mode vmx_l1d_mode = VMX_L1D_NEVER;
static bool vmx_l1d_active;	/* the VT-x backend is set up */
static bool vmx_l1d_msr;	/* IA32_FLUSH_CMD exists */
static void *vmx_l1d_buf;
static bool vmx_l1d_smt_warned;

/* The host's own verdict: is this CPU affected, and what did l1tf= say? */
static enum vmx_l1d_mode vmx_l1d_auto(const char **why)
{
	u64 arch_cap = 0;

	if (!boot_cpu_has_bug(X86_BUG_L1TF)) {
		*why = "CPU not affected by L1TF";
		return VMX_L1D_NEVER;
	}
	if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES) &&
	    !rdmsrl_safe(MSR_IA32_ARCH_CAPABILITIES, &arch_cap) &&
	    (arch_cap & ARCH_CAP_SKIP_VMENTRY_L1DFLUSH)) {
		/* A hypervisor below us flushes on its own entries. */
		*why = "IA32_ARCH_CAPABILITIES says no flush is needed on VM entry";
		return VMX_L1D_NEVER;
	}
	switch (l1tf_mitigation) {
	case L1TF_MITIGATION_OFF:
		*why = "l1tf=off";
		return VMX_L1D_NEVER;
	case L1TF_MITIGATION_FULL:
	case L1TF_MITIGATION_FULL_FORCE:
		*why = "l1tf=full";
		return VMX_L1D_ALWAYS;
	default:
		*why = "l1tf=flush";
		return VMX_L1D_COND;
	}
}

/* The software flush needs its buffer; filled so no page is shared zero. */
static int vmx_l1d_alloc(void)
{
	struct page *page;

	if (vmx_l1d_msr || vmx_l1d_buf)
		return 0;
	page = alloc_pages(GFP_KERNEL, VMX_L1D_BUF_ORDER);
	if (!page)
		return -ENOMEM;
	memset(page_address(page), 0x5a, VMX_L1D_BUF_SIZE);
	vmx_l1d_buf = page_address(page);
	return 0;
}

/*
 * Resolve @req and publish it, saying so the first time and whenever the
 * mode changes; the caller holds kernel_param_lock (serialises setters).
 */
static int vmx_l1d_apply(enum vmx_l1d_mode req, bool first)
{
	const char *why = "l1d_flush parameter";
	enum vmx_l1d_mode mode = req;
	int r;

	if (mode == VMX_L1D_AUTO)
		mode = vmx_l1d_auto(&why);
	if (mode != VMX_L1D_NEVER) {
		r = vmx_l1d_alloc();
		if (r)
			return r;
	}
	if (first || mode != vmx_l1d_mode) {
		if (mode == VMX_L1D_NEVER)
			pr_info("khv: vmx: L1D flush on VM entry: never (%s)\n", why);
		else
			pr_info("khv: vmx: L1D flush on VM entry: %s (%s, %s)\n",
				vmx_l1d_names[mode], why,
				vmx_l1d_msr ? "IA32_FLUSH_CMD" : "software sequence");
	}
	WRITE_ONCE(vmx_l1d_mode, mode);
	if (mode != VMX_L1D_NEVER && boot_cpu_has_bug(X86_BUG_L1TF) &&
	    sched_smt_active() && !vmx_l1d_smt_warned) {
		vmx_l1d_smt_warned = true;
		pr_warn("khv: vmx: L1TF with SMT on: a sibling thread can still see host data in the L1D\n");
	}
	return 0;
}

static int vmx_l1d_param_set(const char *val, const struct kernel_param *kp)
{
	int m;

	m = sysfs_match_string(vmx_l1d_names, val);
	if (m < 0)
		return -EINVAL;
	if (!vmx_l1d_active) {
		/* At insmod (backend not chosen yet), or on the SVM backend. */
		if (khv_ops && m != VMX_L1D_AUTO && m != VMX_L1D_NEVER)
			return -EINVAL;
		vmx_l1d_request = m;
		return 0;
	}
	vmx_l1d_request = m;
	return vmx_l1d_apply(m, false);
}

static int vmx_l1d_param_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", vmx_l1d_names[READ_ONCE(vmx_l1d_mode)]);
}

static const struct kernel_param_ops vmx_l1d_param_ops = {
	.set = vmx_l1d_param_set,
	.get = vmx_l1d_param_get,
};
module_param_cb(l1d_flush, &vmx_l1d_param_ops, NULL, 0644);
MODULE_PARM_DESC(l1d_flush,
		 "L1D flush before VT-x entries (L1TF): auto (default), never, cond, always");

/* Backend setup: the first resolution of the request, logged. */
int vmx_l1d_setup(void)
{
	int r;

	vmx_l1d_msr = boot_cpu_has(X86_FEATURE_FLUSH_L1D);
	kernel_param_lock(THIS_MODULE);
	r = vmx_l1d_apply(vmx_l1d_request, true);
	if (!r)
		vmx_l1d_active = true;
	kernel_param_unlock(THIS_MODULE);
	return r;
}

void vmx_l1d_teardown(void)
{
	kernel_param_lock(THIS_MODULE);
	vmx_l1d_active = false;
	WRITE_ONCE(vmx_l1d_mode, VMX_L1D_NEVER);
	kernel_param_unlock(THIS_MODULE);
	if (vmx_l1d_buf)
		free_pages((unsigned long)vmx_l1d_buf, VMX_L1D_BUF_ORDER);
	vmx_l1d_buf = NULL;
}

/* Lines read per turn of the fill loop: every line, an eighth of the loop's own work. */
#define VMX_L1D_UNROLL		8
static_assert(VMX_L1D_BUF_SIZE % (VMX_L1D_UNROLL * VMX_L1D_LINE) == 0);

static void vmx_l1d_flush_sw(void)
{
	const u8 *buf = vmx_l1d_buf;
	unsigned long i;

	for (i = 0; i < VMX_L1D_BUF_SIZE; i += PAGE_SIZE)
		(void)READ_ONCE(buf[i]);
	/* Every translation in place before the line-by-line pass starts. */
	rmb();
	/*
	 * One load per line, unrolled: the loads are the flush; the compare
	 * and branch after each would be a third more instructions per line
	 * for nothing (and, in an emulator whose clock counts instructions,
	 * the largest part of an interrupt's round trip).
	 */
	for (i = 0; i < VMX_L1D_BUF_SIZE; i += VMX_L1D_UNROLL * VMX_L1D_LINE) {
		(void)READ_ONCE(buf[i]);
		(void)READ_ONCE(buf[i + 1 * VMX_L1D_LINE]);
		(void)READ_ONCE(buf[i + 2 * VMX_L1D_LINE]);
		(void)READ_ONCE(buf[i + 3 * VMX_L1D_LINE]);
		(void)READ_ONCE(buf[i + 4 * VMX_L1D_LINE]);
		(void)READ_ONCE(buf[i + 5 * VMX_L1D_LINE]);
		(void)READ_ONCE(buf[i + 6 * VMX_L1D_LINE]);
		(void)READ_ONCE(buf[i + 7 * VMX_L1D_LINE]);
	}
}

/* Just before VM entry, interrupts off: flush if the mode says so. */
void vmx_l1d_flush(struct khv_vcpu *vcpu)
{
	enum vmx_l1d_mode mode = READ_ONCE(vmx_l1d_mode);
	bool hint = vcpu->l1d_flush_hint;

	vcpu->l1d_flush_hint = false;
	if (mode == VMX_L1D_NEVER)
		return;
	if (mode == VMX_L1D_COND) {
#if IS_ENABLED(CONFIG_KVM_INTEL)
		/* Set by the host's interrupt entry on this CPU (asm/hardirq.h). */
		hint |= kvm_get_cpu_l1tf_flush_l1d();
		kvm_clear_cpu_l1tf_flush_l1d();
#else
		/* Without that per-CPU flag an interrupt would go unnoticed. */
		hint = true;
#endif
		if (!hint)
			return;
	}
	if (vmx_l1d_msr)
		wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
	else
		vmx_l1d_flush_sw();
	khv_kstat(vcpu, KHV_KSTAT_L1D_FLUSH);
}
