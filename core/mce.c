// SPDX-License-Identifier: GPL-2.0
/*
 * Machine-check architecture for guests: KHV_MCE_BANKS error-reporting
 * banks that hold what software writes and never report an error.
 *
 * Why it exists: a Linux guest whose CPUID lacks MCE and MCA leaves its
 * machine-check code off and says so at every boot ("mce: Unable to init
 * MCE device").  khv offers both bits and the MSRs they promise, in the
 * shape KVM guests know (QEMU's default: 10 banks and IA32_MCG_CTL).
 * A host machine check taken while a guest runs stays the host's (the
 * backends hand it to the host's handler) and is never logged here.  The
 * VMM may write any bank with KHV_SET_MSRS: that is how it restores them.
 *
 * The MSRs exist while the vCPU's CPUID has MCA (leaf 1 EDX bit 14); a
 * VMM that hides it gets #GP for all of them, as on a CPU without MCA.
 *
 * What a guest may write (Intel SDM vol. 3B, "Machine-Check Architecture";
 * AMD APM vol. 2, "Machine-Check Architecture"): IA32_MCG_CAP is
 * read-only; IA32_MCG_CTL takes all zeros or all ones; IA32_MCi_CTL any
 * value (only P6 parts restricted it); IA32_MCG_STATUS its three defined
 * bits (no LMCE here); IA32_MCi_STATUS, _ADDR and _MISC may only be
 * cleared: writing ones raises #GP, except that AMD's HWCR.McStatusWrEn
 * makes MCi_STATUS writable (what error-injection tools use).
 *
 * Locking: the vCPU's mutex, as for all of its MSRs.
 */
#include <linux/kernel.h>
#include <asm/mce.h>
#include <asm/msr-index.h>

#include "khv.h"

#define KHV_MCG_CAP		(KHV_MCE_BANKS | MCG_CTL_P)
#define KHV_MCG_STATUS_BITS	(MCG_STATUS_RIPV | MCG_STATUS_EIPV | MCG_STATUS_MCIP)

/* The four MSRs of bank i are MC0_CTL + 4 i + {CTL, STATUS, ADDR, MISC}. */
enum { KHV_MCA_CTL, KHV_MCA_STATUS, KHV_MCA_ADDR, KHV_MCA_MISC };

static bool khv_mce_msr(u32 index)
{
	return index == MSR_IA32_MCG_CAP || index == MSR_IA32_MCG_STATUS ||
	       index == MSR_IA32_MCG_CTL ||
	       (index >= MSR_IA32_MC0_CTL && index < MSR_IA32_MC0_CTL + 4 * KHV_MCE_BANKS);
}

/*
 * 1: not a machine-check MSR; -EINVAL: one, absent (no MCA in the vCPU's
 * CPUID); 0: present.  Looked up each time: these MSRs are read at boot
 * and by Linux's poll every five minutes, not on any hot path.
 */
static int khv_mce_present(struct khv_vcpu *vcpu, u32 index)
{
	const struct khv_cpuid_entry *e;

	if (!khv_mce_msr(index))
		return 1;
	e = khv_cpuid_find(vcpu, 1, 0);
	return e && (e->edx & KHV_CPUID1_EDX_MCA) ? 0 : -EINVAL;
}

int khv_mce_get_msr(struct khv_vcpu *vcpu, u32 index, u64 *data)
{
	u32 off = index - MSR_IA32_MC0_CTL;
	int r = khv_mce_present(vcpu, index);

	if (r)
		return r;
	switch (index) {
	case MSR_IA32_MCG_CAP:
		*data = KHV_MCG_CAP;
		break;
	case MSR_IA32_MCG_STATUS:
		*data = vcpu->mce.mcg_status;
		break;
	case MSR_IA32_MCG_CTL:
		*data = vcpu->mce.mcg_ctl;
		break;
	default:
		*data = vcpu->mce.bank[off / 4][off % 4];
	}
	return 0;
}

int khv_mce_set_msr(struct khv_vcpu *vcpu, u32 index, u64 data, bool host)
{
	u32 off = index - MSR_IA32_MC0_CTL;
	int r = khv_mce_present(vcpu, index);

	if (r)
		return r;
	switch (index) {
	case MSR_IA32_MCG_CAP:
		/* Read-only; a VMM restoring state writes back what it read. */
		return host && data == KHV_MCG_CAP ? 0 : -EINVAL;
	case MSR_IA32_MCG_STATUS:
		if (data & ~KHV_MCG_STATUS_BITS)
			return -EINVAL;
		vcpu->mce.mcg_status = data;
		return 0;
	case MSR_IA32_MCG_CTL:
		if (data && data != ~0ULL)
			return -EINVAL;
		vcpu->mce.mcg_ctl = data;
		return 0;
	}
	if (data && !host && off % 4 != KHV_MCA_CTL &&
	    !(off % 4 == KHV_MCA_STATUS && (vcpu->hwcr & KHV_HWCR_MCSTATUSWREN)))
		return -EINVAL;
	vcpu->mce.bank[off / 4][off % 4] = data;
	return 0;
}
