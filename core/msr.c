// SPDX-License-Identifier: GPL-2.0
/*
 * Guest MSRs that are not in the backend's control block.
 *
 * Policy: an MSR is either passed through by the backend (only those the
 * hardware switches itself), emulated here or by the backend, or refused
 * (#GP for the guest, a short count for KHV_GET/SET_MSRS).  Nothing reaches
 * a host MSR by accident.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/msr-index.h>

#include "khv.h"
#include "internal.h"
#include "../irq/irqchip.h"

int khv_get_msr(struct khv_vcpu *vcpu, u32 index, u64 *data, bool host)
{
	/* The in-kernel local APIC's: APIC base, x2APIC, TSC deadline. */
	int r = khv_apic_get_msr(vcpu, index, data);

	if (r <= 0)
		return r;
	r = khv_pvclock_get_msr(vcpu, index, data);
	if (r <= 0)
		return r;
	r = khv_mce_get_msr(vcpu, index, data);
	if (r <= 0)
		return r;
	r = khv_ops->get_msr(vcpu, index, data);
	if (r <= 0)
		return r;
	switch (index) {
	case MSR_IA32_APICBASE:
		*data = vcpu->apic_base;
		return 0;
	case MSR_TSC_AUX:
		*data = vcpu->tsc_aux;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*data = vcpu->misc_enable;
		return 0;
	case MSR_IA32_UCODE_REV:
		/* Linux reads it to report microcode; there is none to report. */
		*data = 0;
		return 0;
	case MSR_K8_INT_PENDING_MSG:
		/*
		 * Linux reads it on AMD family 0xf/0x10 parts (erratum 400) to
		 * learn whether C1E is on; an unchecked read that faults costs
		 * the guest a warning.  There is no C1E here: 0.  Read-only.
		 */
		*data = 0;
		return 0;
	case MSR_K7_HWCR:
		*data = vcpu->hwcr;
		return 0;
	default:
		return -EINVAL;
	}
}

int khv_set_msr(struct khv_vcpu *vcpu, u32 index, u64 data, bool host)
{
	int r = khv_apic_set_msr(vcpu, index, data, host);

	if (r <= 0)
		return r;
	r = khv_pvclock_set_msr(vcpu, index, data, host);
	if (r <= 0)
		return r;
	r = khv_mce_set_msr(vcpu, index, data, host);
	if (r <= 0)
		return r;
	r = khv_ops->set_msr(vcpu, index, data, host);
	/* kvmclock follows the vCPU's TSC offset. */
	if (!r && index == MSR_IA32_TSC)
		khv_pvclock_tsc_changed(vcpu);
	if (r <= 0)
		return r;
	switch (index) {
	case MSR_IA32_APICBASE:
		if (khv_check_apic_base(data))
			return -EINVAL;
		vcpu->apic_base = data;
		return 0;
	case MSR_TSC_AUX:
		if (data >> 32)
			return -EINVAL;
		vcpu->tsc_aux = data;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		/* Only fast strings is a guest-settable bit khv models. */
		if (!host && (data & ~1ULL) != (vcpu->misc_enable & ~1ULL))
			return -EINVAL;
		vcpu->misc_enable = data;
		return 0;
	case MSR_IA32_UCODE_REV:
		/* Writing 0 before CPUID is how Intel guests ask for the revision. */
		return 0;
	case MSR_K7_HWCR:
		/*
		 * Linux reads it unchecked on AMD family 0x10 (model 2 on)
		 * and later when the TSC is constant, and complains unless
		 * TscFreqSel says the TSC counts at the P0 frequency: set, as
		 * KVM sets it, since the guest's TSC does not follow P-states.
		 * The guest may change McStatusWrEn (core/mce.c) and nothing
		 * else; the VMM (a restore) either bit.
		 */
		if (data & ~(KHV_HWCR_MCSTATUSWREN | KHV_HWCR_TSCFREQSEL))
			return -EINVAL;
		if (!host && ((data ^ vcpu->hwcr) & ~KHV_HWCR_MCSTATUSWREN))
			return -EINVAL;
		vcpu->hwcr = data;
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * KHV_GET_MSR_INDEX_LIST: what a save must read.  The array holds those
 * every vCPU has (the backends' and this file's), then MCG_STATUS and
 * MCG_CTL, which like the banks added after them need MCA in the vCPU's
 * CPUID; kvmclock's two come last.  The selftest "state" checks that a
 * vCPU with the supported CPUID takes each one, and one without kvmclock
 * refuses only those two.
 */
static const u32 khv_msrs_saved[] = {
	MSR_EFER, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE,
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_IA32_CR_PAT, MSR_IA32_TSC, MSR_IA32_DEBUGCTLMSR, MSR_TSC_AUX,
	MSR_IA32_MISC_ENABLE, MSR_K7_HWCR,
	MSR_IA32_MCG_STATUS, MSR_IA32_MCG_CTL,
};

#define KHV_NR_MSRS_SAVED \
	(ARRAY_SIZE(khv_msrs_saved) + 4 * KHV_MCE_BANKS + 2)

int khv_get_msr_index_list(struct khv_msr_list __user *argp)
{
	u32 *list, cap, n = 0, i;
	int r;

	r = khv_array_capacity(argp, &cap);
	if (r)
		return r;
	list = kmalloc_array(KHV_NR_MSRS_SAVED, sizeof(*list), GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(khv_msrs_saved); i++)
		list[n++] = khv_msrs_saved[i];
	for (i = 0; i < 4 * KHV_MCE_BANKS; i++)
		list[n++] = MSR_IA32_MC0_CTL + i;
	list[n++] = KHV_MSR_KVM_SYSTEM_TIME_NEW;
	list[n++] = KHV_MSR_KVM_WALL_CLOCK_NEW;
	r = khv_array_out(argp, cap, list, n, sizeof(*list));
	kfree(list);
	return r;
}

long khv_msrs_ioctl(struct khv_vcpu *vcpu, struct khv_msrs __user *argp, bool set)
{
	struct khv_msr_entry *ents;
	u32 i, nmsrs;
	long r;

	r = khv_array_capacity(argp, &nmsrs);
	if (r)
		return r;
	if (nmsrs > KHV_MAX_MSR_ENTRIES)
		return -E2BIG;
	ents = memdup_user(argp->entries, nmsrs * sizeof(*ents));
	if (IS_ERR(ents))
		return PTR_ERR(ents);
	for (i = 0; i < nmsrs; i++) {
		if (ents[i].reserved) {
			r = -EINVAL;
			goto out;
		}
	}
	for (i = 0; i < nmsrs; i++) {
		if (set ? khv_set_msr(vcpu, ents[i].index, ents[i].data, true)
			: khv_get_msr(vcpu, ents[i].index, &ents[i].data, true))
			break;
	}
	r = i;
	if (!set && copy_to_user(argp->entries, ents, i * sizeof(*ents)))
		r = -EFAULT;
out:
	kfree(ents);
	return r;
}
