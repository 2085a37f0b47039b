// SPDX-License-Identifier: GPL-2.0
/*
 * VT-x capabilities: probing, and the VMCS controls khv runs every guest
 * with, computed once from the capability MSRs (SDM vol. 3D appendix A).
 *
 * Each control MSR reports, per bit, "allowed-0" in bits 31:0 (a 1 there
 * means the control must be 1) and "allowed-1" in bits 63:32 (a 0 there
 * means the control must be 0).  When IA32_VMX_BASIC[55] is set, the TRUE_*
 * MSRs lift the default-1 requirement of some controls (CR3 exiting among
 * them); khv reads those then.
 *
 * Required (the backend refuses to load without them, logging the first one
 * missing): external-interrupt, NMI exiting and virtual NMIs; HLT, MOV DR,
 * CR8 load/store exiting, I/O and MSR bitmaps, TSC offsetting, RDPMC exiting,
 * the interrupt- and NMI-window exits, secondary controls; EPT (4-level,
 * write-back tables, 2 MiB pages, INVEPT with the all-context type) and
 * unrestricted guest; "host
 * address-space size", load/save of debug controls, load of IA32_PAT and
 * IA32_EFER on entry and exit, the "IA-32e mode guest" entry control.
 * Used when present: VPID (with all-context INVVPID), the preemption timer, EPT
 * accessed/dirty flags, PAUSE-loop exiting, WBINVD/MONITOR/MWAIT/ENCLS
 * exiting, INVPCID for guests (when the host has it).
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/tsc.h>

#include "vmx.h"

struct vmx_caps vmx_caps;

/* A control and its name, for the refusal message. */
struct vmx_ctl {
	u32 bit;
	const char *name;
};

/* Guest time slice bound by the preemption timer (see vmx.rst). */
#define VMX_TIMER_SLICE_MS	10

static const struct vmx_ctl vmx_pin_required[] = {
	{ PIN_EXTINT_EXITING, "external-interrupt exiting" },
	{ PIN_NMI_EXITING, "NMI exiting" },
	{ PIN_VIRTUAL_NMIS, "virtual NMIs" },
};

static const struct vmx_ctl vmx_proc_required[] = {
	{ PROC_HLT_EXITING, "HLT exiting" },
	{ PROC_MOV_DR_EXITING, "MOV-DR exiting" },
	{ PROC_CR8_LOAD_EXITING, "CR8-load exiting" },
	{ PROC_CR8_STORE_EXITING, "CR8-store exiting" },
	{ PROC_IO_BITMAPS, "use I/O bitmaps" },
	{ PROC_MSR_BITMAPS, "use MSR bitmaps" },
	{ PROC_TSC_OFFSETTING, "use TSC offsetting" },
	{ PROC_RDPMC_EXITING, "RDPMC exiting" },
	{ PROC_SECONDARY_CTLS, "activate secondary controls" },
	/* Set and cleared at run time: only their 1-setting is checked. */
	{ PROC_INTR_WINDOW, "interrupt-window exiting" },
	{ PROC_NMI_WINDOW, "NMI-window exiting" },
};

static const struct vmx_ctl vmx_proc2_required[] = {
	{ PROC2_EPT, "enable EPT" },
	{ PROC2_UNRESTRICTED, "unrestricted guest" },
};

static const struct vmx_ctl vmx_exit_required[] = {
	{ EXIT_HOST_64, "host address-space size" },
	{ EXIT_SAVE_DEBUG, "save debug controls" },
	{ EXIT_LOAD_PAT, "load IA32_PAT (exit)" },
	{ EXIT_LOAD_EFER, "load IA32_EFER (exit)" },
};

static const struct vmx_ctl vmx_entry_required[] = {
	{ ENTRY_LOAD_DEBUG, "load debug controls" },
	{ ENTRY_LOAD_PAT, "load IA32_PAT (entry)" },
	{ ENTRY_LOAD_EFER, "load IA32_EFER (entry)" },
	{ ENTRY_IA32E, "IA-32e mode guest" },
};

/* Controls khv must never run with, even if a CPU made them default-1. */
#define PROC_FORBIDDEN		(PROC_TPR_SHADOW | PROC_MONITOR_TRAP | PROC_TERTIARY_CTLS | \
				 PROC_INTR_WINDOW | PROC_NMI_WINDOW | PROC_UNCOND_IO_EXITING)
#define EXIT_FORBIDDEN		(EXIT_ACK_INTR | EXIT_SAVE_TIMER)
#define ENTRY_FORBIDDEN		(ENTRY_SMM | ENTRY_IA32E)

static u64 vmx_rdmsr(u32 msr)
{
	u64 v;

	return rdmsrl_safe(msr, &v) ? 0 : v;
}

/* Why vmx_adjust() refused: the first thing wrong, for the one log line. */
struct vmx_refusal {
	const char *missing;	/* a required control the CPU lacks */
	const char *forced;	/* or: a kind of control it forces on ... */
	u32 bits;		/* ... and which bits of that kind */
};

/*
 * want | must-be-1, limited to may-be-1.  Returns false, saying why in *why,
 * if a required control is absent or a forbidden one is must-be-1.
 */
static bool vmx_adjust(u64 msr_val, const struct vmx_ctl *req, unsigned int nreq,
		       u32 optional, u32 forbidden, u32 *out, struct vmx_refusal *why,
		       const char *kind)
{
	u32 must1 = (u32)msr_val, may1 = msr_val >> 32;
	u32 want = optional;
	unsigned int i;

	for (i = 0; i < nreq; i++) {
		if (!(may1 & req[i].bit)) {
			why->missing = req[i].name;
			return false;
		}
		want |= req[i].bit;
	}
	if (must1 & forbidden) {
		why->forced = kind;
		why->bits = must1 & forbidden;
		return false;
	}
	*out = ((want & ~forbidden) | must1) & may1;
	return true;
}

static void vmx_guest_masks(void)
{
	vmx_caps.efer_allowed = EFER_SCE | EFER_LME | EFER_LMA;
	if (cpuid_edx(0x80000001) & BIT(20))
		vmx_caps.efer_allowed |= EFER_NX;

	/* Only what VMX operation allows (VMXE itself is never the guest's). */
	vmx_caps.cr4_allowed = khv_cr4_supported() & vmx_caps.cr4_fixed1 & ~X86_CR4_VMXE;
}

/* The preemption timer reload value for VMX_TIMER_SLICE_MS of guest time. */
static u32 vmx_timer_value(void)
{
	u64 ticks = (u64)(tsc_khz ? tsc_khz : 1000000) * VMX_TIMER_SLICE_MS;

	ticks >>= VMX_MISC_TIMER_RATE(vmx_caps.misc);
	return ticks > U32_MAX ? U32_MAX : max_t(u64, ticks, 1);
}

/*
 * Everything khv needs from this CPU.  Logs one line naming what is missing
 * and returns -ENODEV (-EIO when IA32_VMX_BASIC cannot be read; any other
 * capability MSR that faults reads as 0, so as "nothing allowed").
 */
int vmx_probe(void)
{
	bool true_ctls;
	struct vmx_refusal why = { };
	const char *missing = NULL;
	u64 feat, basic, ept, pin, proc, proc2, exit, entry;
	u32 proc2_optional, proc_optional;

	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &feat))
		feat = 0;
	if (!(feat & FEAT_CTL_LOCKED) || !(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		pr_err("khv: vmx: VMX is disabled by the firmware (IA32_FEATURE_CONTROL %#llx: locked %d, VMX outside SMX %d)\n",
		       feat, !!(feat & FEAT_CTL_LOCKED),
		       !!(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX));
		return -ENODEV;
	}
	if (rdmsrl_safe(MSR_IA32_VMX_BASIC, &basic)) {
		pr_err("khv: vmx: IA32_VMX_BASIC cannot be read\n");
		return -EIO;
	}
	if (VMX_BASIC_SIZE(basic) > PAGE_SIZE || (basic & VMX_BASIC_32BIT_ADDR) ||
	    VMX_BASIC_MEMTYPE(basic) != 6) {
		pr_err("khv: vmx: unusable VMCS format (IA32_VMX_BASIC %#llx: size, 32-bit addresses or not write-back)\n",
		       basic);
		return -ENODEV;
	}
	true_ctls = basic & VMX_BASIC_TRUE;
	pin = vmx_rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
	proc = vmx_rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	exit = vmx_rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	entry = vmx_rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);

	memset(&vmx_caps, 0, sizeof(vmx_caps));
	vmx_caps.basic = basic;
	vmx_caps.misc = vmx_rdmsr(MSR_IA32_VMX_MISC);
	vmx_caps.cr0_fixed0 = vmx_rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	vmx_caps.cr0_fixed1 = vmx_rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	vmx_caps.cr4_fixed0 = vmx_rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	vmx_caps.cr4_fixed1 = vmx_rdmsr(MSR_IA32_VMX_CR4_FIXED1);

	/* The secondary controls MSR exists only with their 1-setting. */
	proc2 = ((proc >> 32) & PROC_SECONDARY_CTLS) ? vmx_rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) : 0;
	ept = ((proc2 >> 32) & (PROC2_EPT | PROC2_VPID)) ? vmx_rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) : 0;
	vmx_caps.ept_vpid = ept;

	proc_optional = PROC_MWAIT_EXITING | PROC_MONITOR_EXITING;
	proc2_optional = PROC2_WBINVD_EXITING | PROC2_PAUSE_LOOP | PROC2_ENCLS_EXITING;
	/* Without it RDTSCP and RDPID are #UD, and CPUID hides them. */
	if (boot_cpu_has(X86_FEATURE_RDTSCP))
		proc2_optional |= PROC2_RDTSCP;
	/* INVPCID is #UD for the guest without it, and CPUID passes it on. */
	if (boot_cpu_has(X86_FEATURE_INVPCID))
		proc2_optional |= PROC2_INVPCID;
	/*
	 * VPIDs only with all-context INVVPID: VMXON must be able to drop what
	 * a previous VMX user left tagged with the numbers khv hands out.
	 */
	if ((ept & VMX_VPID_CAP_INVVPID) && (ept & VMX_VPID_CAP_ALL))
		proc2_optional |= PROC2_VPID;

	if (!vmx_adjust(pin, vmx_pin_required, ARRAY_SIZE(vmx_pin_required),
			PIN_PREEMPTION_TIMER, 0, &vmx_caps.pin, &why,
			"a pin-based control khv cannot run with") ||
	    !vmx_adjust(proc, vmx_proc_required, ARRAY_SIZE(vmx_proc_required),
			proc_optional, PROC_FORBIDDEN, &vmx_caps.proc, &why,
			"a default-1 processor-based control khv cannot run with") ||
	    !vmx_adjust(proc2, vmx_proc2_required, ARRAY_SIZE(vmx_proc2_required),
			proc2_optional, 0, &vmx_caps.proc2, &why,
			"a secondary control khv cannot run with") ||
	    !vmx_adjust(exit, vmx_exit_required, ARRAY_SIZE(vmx_exit_required),
			0, EXIT_FORBIDDEN, &vmx_caps.exit, &why,
			"a default-1 VM-exit control khv cannot run with") ||
	    !vmx_adjust(entry, vmx_entry_required, ARRAY_SIZE(vmx_entry_required),
			0, ENTRY_FORBIDDEN, &vmx_caps.entry, &why,
			"a default-1 VM-entry control khv cannot run with")) {
		if (why.missing)
			pr_err("khv: vmx: this CPU lacks %s\n", why.missing);
		else
			pr_err("khv: vmx: this CPU forces %s (bits %#x)\n", why.forced, why.bits);
		return -ENODEV;
	}

	if (!(ept & VMX_EPT_CAP_WALK4))
		missing = "4-level EPT";
	else if (!(ept & VMX_EPT_CAP_WB))
		missing = "write-back EPT paging structures";
	else if (!(ept & VMX_EPT_CAP_2M))
		missing = "2-MiB EPT pages";
	else if (!(ept & VMX_EPT_CAP_INVEPT))
		missing = "INVEPT";
	/* VMXON drops what a previous VMX user cached: all-context INVEPT. */
	else if (!(ept & VMX_EPT_CAP_INVEPT_ALL))
		missing = "all-context INVEPT";
	if (missing) {
		pr_err("khv: vmx: this CPU lacks %s (IA32_VMX_EPT_VPID_CAP %#llx)\n", missing, ept);
		return -ENODEV;
	}

	vmx_caps.vpid = vmx_caps.proc2 & PROC2_VPID;
	vmx_caps.preemption_timer = vmx_caps.pin & PIN_PREEMPTION_TIMER;
	vmx_caps.ept_ad = ept & VMX_EPT_CAP_AD;
	/* PML logs only the dirty flags the CPU sets: nothing without A/D. */
	vmx_caps.pml = vmx_caps.ept_ad && ((proc2 >> 32) & PROC2_PML);
	vmx_caps.pause_loop = vmx_caps.proc2 & PROC2_PAUSE_LOOP;
	vmx_caps.insn_info_io = basic & VMX_BASIC_IO_INFO;
	vmx_caps.invept_single = ept & VMX_EPT_CAP_INVEPT_SINGLE;
	vmx_caps.invvpid_single = ept & VMX_VPID_CAP_SINGLE;
	vmx_caps.desc_exiting = (proc2 >> 32) & PROC2_DESC_EXITING;
	vmx_caps.rdtscp = vmx_caps.proc2 & PROC2_RDTSCP;

	pr_info("khv: vmx: revision %#x, true controls %d, VPID %d, EPT A/D %d, PML %d, 5-level EPT %d, preemption timer %d, PLE %d, INS/OUTS info %d\n",
		VMX_BASIC_REVISION(basic), true_ctls, vmx_caps.vpid, vmx_caps.ept_ad,
		vmx_caps.pml, !!(ept & VMX_EPT_CAP_WALK5), vmx_caps.preemption_timer, vmx_caps.pause_loop,
		vmx_caps.insn_info_io);
	return 0;
}

/* After probe: what guests may hold, the timer reload. */
int vmx_caps_setup(void)
{
	vmx_guest_masks();
	if (vmx_caps.preemption_timer)
		vmx_caps.timer_value = vmx_timer_value();
	return 0;
}

/*
 * The CR0 the CPU runs the guest with: NE and whatever else VMX operation
 * fixes to 1 (PE and PG excepted: unrestricted guest), and never CD or NW,
 * so that a guest "disabling caches" (the RESET value has CD and NW) does
 * not run uncached; the guest reads its own value from the read shadow.
 */
u64 vmx_hw_cr0(u64 cr0)
{
	u64 fixed0 = vmx_caps.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG);

	return ((cr0 & ~(X86_CR0_CD | X86_CR0_NW)) | fixed0) & vmx_caps.cr0_fixed1;
}

/* The CR4 the CPU runs the guest with: VMXE (and any other fixed-1 bit). */
u64 vmx_hw_cr4(u64 cr4)
{
	return (cr4 | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1;
}

