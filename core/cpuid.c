// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID: what khv offers guests, and what a vCPU answers.
 *
 * The supported table is taken once from the host at load and then cut down:
 * leaves describing features khv does not virtualise (VMX/SVM themselves,
 * performance monitoring, thermal and power MSRs, speculation-control MSRs it
 * does not switch, MTRRs, PKU, AMX...) are cleared, and the hypervisor bit and
 * the KVM leaves 0x40000000-0x40000001 are added (kvmclock, core/pvclock.c,
 * which a VMM turns on by keeping them).  A vCPU's default CPUID has khv's
 * own signature there instead: no paravirtual interface unless the VMM asks.
 * KHV_SET_CPUID may then set any table: CPUID only tells the guest what to
 * expect; everything that matters for host safety is enforced at the
 * intercept, not here.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/processor.h>
#include <asm/fpu/xcr.h>
#include <asm/fpu/xstate.h>

#include "khv.h"
#include "internal.h"

#define KHV_CPUID1_X2APIC	BIT(21)		/* leaf 1 ECX */
#define KHV_CPUID1_TSC_DEADLINE	BIT(24)

#define KHV_MAX_BASIC_LEAF	0xd
#define KHV_MAX_EXT_LEAF	0x80000008
#define KHV_HV_LEAF		0x40000000
/* What core/pvclock.c implements, and nothing else (Documentation/khv/time.rst). */
#define KHV_KVM_FEATURES	(KHV_KVM_FEATURE_CLOCKSOURCE2 | \
				 KHV_KVM_FEATURE_CLOCKSOURCE_STABLE_BIT)

/* XSAVE components khv switches for guests: x87, SSE, AVX, AVX-512. */
#define KHV_XCR0_MASK (XFEATURE_MASK_FP | XFEATURE_MASK_SSE | XFEATURE_MASK_YMM | \
		       XFEATURE_MASK_OPMASK | XFEATURE_MASK_ZMM_Hi256 | XFEATURE_MASK_Hi16_ZMM)

static unsigned int khv_va_bits = 48;	/* the host CPU's linear-address width */
static struct khv_cpuid_entry *khv_supported;
static u32 khv_nsupported;
static u64 khv_xcr0;
/* Uncompacted XSAVE layout of each component: offset and size (leaf 0xD.i). */
static u32 khv_xstate_off[64], khv_xstate_sz[64];

/* Canonical for the CPU's widest paging mode, as the CPU checks MSRs and DRs. */
bool khv_canonical(u64 v)
{
	unsigned int shift = 64 - khv_va_bits;

	return (u64)((s64)(v << shift) >> shift) == v;
}

/*
 * CR4 bits a guest may set: those this CPU implements and khv switches.  Not
 * PKE (PKRU is not switched: a guest WRPKRU would stay in the VMM's PKRU),
 * not CET (its state is not switched either); CPUID hides both.
 */
u64 khv_cr4_supported(void)
{
	u32 ecx1 = cpuid_ecx(1), edx1 = cpuid_edx(1), ebx7 = 0, ecx7 = 0, eax7, edx7;
	u64 cr4 = X86_CR4_PCE | X86_CR4_MCE | X86_CR4_PGE | X86_CR4_PAE |
		  X86_CR4_PSE | X86_CR4_DE | X86_CR4_TSD | X86_CR4_OSFXSR |
		  X86_CR4_OSXMMEXCPT;

	if (edx1 & BIT(1))
		cr4 |= X86_CR4_VME | X86_CR4_PVI;
	if (ecx1 & BIT(17))
		cr4 |= X86_CR4_PCIDE;
	if (ecx1 & BIT(26))
		cr4 |= X86_CR4_OSXSAVE;
	if (cpuid_eax(0) >= 7)
		cpuid_count(7, 0, &eax7, &ebx7, &ecx7, &edx7);
	if (ebx7 & BIT(0))
		cr4 |= X86_CR4_FSGSBASE;
	if (ebx7 & BIT(7))
		cr4 |= X86_CR4_SMEP;
	if (ebx7 & BIT(20))
		cr4 |= X86_CR4_SMAP;
	if (ecx7 & BIT(2))
		cr4 |= X86_CR4_UMIP;
	if (ecx7 & BIT(16))
		cr4 |= X86_CR4_LA57;
	return cr4;
}

/* PAT: eight memory types, each UC, WC, WT, WP, WB or UC- (2 and 3 are reserved). */
bool khv_pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 type = pat >> (i * 8);

		if (type > 7 || type == 2 || type == 3)
			return false;
	}
	return true;
}

u64 khv_supported_xcr0(void)
{
	return khv_xcr0;
}

u32 khv_xsave_size(u64 xcr0)
{
	u32 size = 512 + 64;	/* legacy area + XSAVE header */
	int i;

	for (i = 2; i < 64; i++)
		if ((xcr0 & khv_xcr0 & BIT_ULL(i)) && khv_xstate_off[i] + khv_xstate_sz[i] > size)
			size = khv_xstate_off[i] + khv_xstate_sz[i];
	return size;
}

/*
 * RDTSCP and RDPID run in the guest and read its TSC_AUX (core/tsc_aux.c),
 * unless the backend cannot let them (VT-x without "enable RDTSCP").
 */
static bool khv_rdtscp_offered(void)
{
	return !khv_ops->has_rdtscp || khv_ops->has_rdtscp();
}

static struct khv_cpuid_entry *khv_add(u32 fn, u32 idx, bool indexed)
{
	struct khv_cpuid_entry *e;

	if (khv_nsupported >= KHV_MAX_CPUID_ENTRIES)
		return NULL;
	e = &khv_supported[khv_nsupported++];
	e->function = fn;
	e->index = indexed ? idx : 0;
	e->flags = indexed ? KHV_CPUID_FLAG_SIGNIFICANT_INDEX : 0;
	cpuid_count(fn, idx, &e->eax, &e->ebx, &e->ecx, &e->edx);
	return e;
}

static void khv_sanitize(struct khv_cpuid_entry *e)
{
	switch (e->function) {
	case 0:
		e->eax = min_t(u32, e->eax, KHV_MAX_BASIC_LEAF);
		break;
	case 1:
		/* DTES64 MONITOR DS-CPL VMX SMX EST TM2 SDBG xTPR PDCM DCA */
		e->ecx &= ~(BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) | BIT(8) |
			    BIT(11) | BIT(14) | BIT(15) | BIT(18));
		/* The in-kernel local APIC has both (KHV_CREATE_IRQCHIP). */
		e->ecx |= KHV_CPUID1_X2APIC | KHV_CPUID1_TSC_DEADLINE;
		e->ecx |= BIT(31);	/* running under a hypervisor */
		/* MTRR DS ACPI TM PBE; MCE and MCA stay: core/mce.c has the banks */
		e->edx &= ~(BIT(12) | BIT(21) | BIT(22) | BIT(29) | BIT(31));
		break;
	case 5:
	case 6:
		/* MONITOR/MWAIT and thermal/power leaves: nothing to offer. */
		e->eax = e->ebx = e->ecx = e->edx = 0;
		break;
	case 7:
		if (e->index == 0) {
			e->eax = 0;	/* no further subleaves */
			/*
			 * TSC_ADJUST (the MSR is not emulated: Linux reads it
			 * unchecked when it is listed), SGX, PQM, PQE, MPX,
			 * Intel PT
			 */
			e->ebx &= ~(BIT(1) | BIT(2) | BIT(12) | BIT(14) | BIT(15) | BIT(25));
			/* PKU, OSPKE, WAITPKG, CET shadow stacks (state not switched), SGX-LC */
			e->ecx &= ~(BIT(3) | BIT(4) | BIT(5) | BIT(7) | BIT(30));
			if (!khv_rdtscp_offered())
				e->ecx &= ~BIT(22);	/* RDPID */
			/* hybrid, CET IBT, AMX, speculation controls, capability MSRs: not switched */
			e->edx &= ~(BIT(15) | BIT(20) | BIT(22) | BIT(24) | BIT(25) | BIT(26) |
				    BIT(27) | BIT(28) | BIT(29) | BIT(30) | BIT(31));
		} else {
			e->eax = e->ebx = e->ecx = e->edx = 0;
		}
		break;
	case 0xa:
		/* Architectural performance monitoring: not virtualised. */
		e->eax = e->ebx = e->ecx = e->edx = 0;
		break;
	case 0xd:
		if (e->index == 0) {
			e->eax = (u32)khv_xcr0;
			e->edx = khv_xcr0 >> 32;
			e->ecx = khv_xsave_size(khv_xcr0);
			e->ebx = khv_xsave_size(XFEATURE_MASK_FP);
		} else if (e->index == 1) {
			/* XSAVEOPT, XSAVEC, XGETBV1; no XSAVES (no IA32_XSS), no XFD */
			e->eax &= BIT(0) | BIT(1) | BIT(2);
			e->ebx = e->ecx = e->edx = 0;
		}
		break;
	case 0x80000000:
		e->eax = min_t(u32, e->eax, KHV_MAX_EXT_LEAF);
		break;
	case 0x80000001:
		/* SVM IBS SKINIT WDT LWP NodeId perfctr_core perfctr_nb DBX perfctr_llc MWAITX */
		e->ecx &= ~(BIT(2) | BIT(10) | BIT(12) | BIT(13) | BIT(15) | BIT(19) | BIT(23) |
			    BIT(24) | BIT(26) | BIT(28) | BIT(29));
		/* RDTSCP: the guest's TSC_AUX is switched in (core/tsc_aux.c) */
		if (!khv_rdtscp_offered())
			e->edx &= ~BIT(27);
		break;
	case 0x80000007:
		e->eax = e->ebx = e->ecx = 0;
		e->edx &= BIT(8);	/* invariant TSC only */
		break;
	case 0x80000008:
		e->ebx = 0;	/* speculation-control and misc MSR bits */
		e->ecx &= 0xff;	/* core count, no APIC id size games */
		e->edx = 0;
		break;
	}
}

static int khv_collect_basic(void)
{
	u32 max = min_t(u32, cpuid_eax(0), KHV_MAX_BASIC_LEAF);
	u32 fn, i;

	for (fn = 0; fn <= max; fn++) {
		switch (fn) {
		case 4:	/* deterministic cache parameters, until type 0 */
			for (i = 0; i < 16; i++)
				if (!khv_add(fn, i, true) || !(khv_supported[khv_nsupported - 1].eax & 0x1f))
					break;
			break;
		case 7:
			khv_add(fn, 0, true);
			break;
		case 0xb:	/* topology levels, until level type 0 */
			for (i = 0; i < 8; i++)
				if (!khv_add(fn, i, true) ||
				    !(khv_supported[khv_nsupported - 1].ecx & 0xff00))
					break;
			break;
		case 0xd:
			khv_add(fn, 0, true);
			khv_add(fn, 1, true);
			for (i = 2; i < 64; i++)
				if (khv_xcr0 & BIT_ULL(i))
					khv_add(fn, i, true);
			break;
		default:
			khv_add(fn, 0, false);
		}
	}
	return 0;
}

int khv_cpuid_init(void)
{
	struct khv_cpuid_entry *e;
	u32 max_ext, fn, i;

	if (cpuid_eax(0) >= 7 && (cpuid_ecx(7) & BIT(16)))
		khv_va_bits = 57;
	if (boot_cpu_has(X86_FEATURE_XSAVE))
		khv_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK) & KHV_XCR0_MASK;
	else
		khv_xcr0 = XFEATURE_MASK_FP | XFEATURE_MASK_SSE;
	for (i = 2; i < 64; i++) {
		if (khv_xcr0 & BIT_ULL(i)) {
			u32 a, b, c, d;

			cpuid_count(0xd, i, &a, &b, &c, &d);
			khv_xstate_sz[i] = a;
			khv_xstate_off[i] = b;
		}
	}

	khv_supported = kcalloc(KHV_MAX_CPUID_ENTRIES, sizeof(*khv_supported), GFP_KERNEL);
	if (!khv_supported)
		return -ENOMEM;
	khv_collect_basic();

	/* Linux reads these only with CPUID.1:ECX.hypervisor, set in khv_sanitize(). */
	e = &khv_supported[khv_nsupported++];
	e->function = KHV_CPUID_KVM_SIGNATURE;
	e->eax = KHV_CPUID_KVM_FEATURES;
	e->ebx = KHV_KVM_SIG_EBX;
	e->ecx = KHV_KVM_SIG_ECX;
	e->edx = KHV_KVM_SIG_EDX;
	e = &khv_supported[khv_nsupported++];
	e->function = KHV_CPUID_KVM_FEATURES;
	e->eax = KHV_KVM_FEATURES;

	max_ext = min_t(u32, cpuid_eax(0x80000000), KHV_MAX_EXT_LEAF);
	for (fn = 0x80000000; fn <= max_ext; fn++)
		khv_add(fn, 0, false);

	for (i = 0; i < khv_nsupported; i++)
		khv_sanitize(&khv_supported[i]);
	return 0;
}

void khv_cpuid_exit(void)
{
	kfree(khv_supported);
	khv_supported = NULL;
	khv_nsupported = 0;
}

int khv_get_supported_cpuid(struct khv_cpuid __user *argp)
{
	u32 cap;
	int err = khv_array_capacity(argp, &cap);

	if (err)
		return err;
	return khv_array_out(argp, cap, khv_supported, khv_nsupported, sizeof(*khv_supported));
}

const struct khv_cpuid_entry *khv_cpuid_find(struct khv_vcpu *vcpu, u32 fn, u32 idx)
{
	u32 i;

	for (i = 0; i < vcpu->cpuid_nent; i++) {
		const struct khv_cpuid_entry *e = &vcpu->cpuid[i];

		if (e->function == fn &&
		    (!(e->flags & KHV_CPUID_FLAG_SIGNIFICANT_INDEX) || e->index == idx))
			return e;
	}
	return NULL;
}

int khv_vcpu_cpuid_default(struct khv_vcpu *vcpu)
{
	u32 i, n = 0;

	vcpu->cpuid = kcalloc(khv_nsupported, sizeof(*khv_supported), GFP_KERNEL_ACCOUNT);
	if (!vcpu->cpuid)
		return -ENOMEM;
	/* No kvmclock by default: khv's own signature, no KVM feature leaf. */
	for (i = 0; i < khv_nsupported; i++) {
		struct khv_cpuid_entry *e = &vcpu->cpuid[n];

		if (khv_supported[i].function == KHV_CPUID_KVM_FEATURES)
			continue;
		*e = khv_supported[i];
		n++;
		if (e->function == KHV_HV_LEAF) {
			/* "khvkhvkhv" in EBX, ECX, EDX, as the signature is read back. */
			e->eax = KHV_HV_LEAF;
			e->ebx = 0x6b76686b;	/* "khvk" */
			e->ecx = 0x686b7668;	/* "hvkh" */
			e->edx = 0x00000076;	/* "v" */
		}
	}
	vcpu->cpuid_nent = n;
	/* Without an in-kernel irqchip there is no x2APIC and no APIC timer. */
	if (!vcpu->vm->irqchip) {
		u32 i;

		for (i = 0; i < vcpu->cpuid_nent; i++)
			if (vcpu->cpuid[i].function == 1)
				vcpu->cpuid[i].ecx &= ~(KHV_CPUID1_X2APIC | KHV_CPUID1_TSC_DEADLINE);
	}
	return 0;
}

int khv_vcpu_set_cpuid(struct khv_vcpu *vcpu, struct khv_cpuid __user *argp)
{
	struct khv_cpuid hdr;
	struct khv_cpuid_entry *ents;
	u32 i;

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (hdr.pad)
		return -EINVAL;
	if (hdr.nent > KHV_MAX_CPUID_ENTRIES)
		return -E2BIG;
	ents = memdup_user(argp->entries, hdr.nent * sizeof(*ents));
	if (IS_ERR(ents))
		return PTR_ERR(ents);
	for (i = 0; i < hdr.nent; i++) {
		if (ents[i].reserved || (ents[i].flags & ~KHV_CPUID_FLAG_SIGNIFICANT_INDEX) ||
		    (!(ents[i].flags & KHV_CPUID_FLAG_SIGNIFICANT_INDEX) && ents[i].index)) {
			kfree(ents);
			return -EINVAL;
		}
	}
	kfree(vcpu->cpuid);
	vcpu->cpuid = ents;
	vcpu->cpuid_nent = hdr.nent;
	khv_pvclock_cpuid_changed(vcpu);
	return 0;
}

int khv_vcpu_get_cpuid(struct khv_vcpu *vcpu, struct khv_cpuid __user *argp)
{
	u32 cap;
	int err = khv_array_capacity(argp, &cap);

	if (err)
		return err;
	return khv_array_out(argp, cap, vcpu->cpuid, vcpu->cpuid_nent, sizeof(*vcpu->cpuid));
}
