#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC2034 # the settings below are read by scripts/mutants.sh
#
# Mutation check of the vmx_caps selftest: each mutant below is one
# deliberate bug in a scratch copy of vmx/ (never in the tree itself), and
# the harness must fail on every one.  Run: make -C vmx/selftest mutants
#
# A mutant is "file@@old@@new": the one line of vmx/file that contains old
# gets old replaced by new.  A mutant whose text no longer matches exactly
# one line is reported as stale: update it with the source.
# The runner is scripts/mutants.sh.
set -u

name=vmx_caps
subdir=vmx
copy=(vmx core/khv.h)
harness=vmx/selftest
bin=vmx_test
fail_re='FAILED|runtime error|ERROR'
mutants=(
	# ---- the tables of required controls
	'vmx_caps.c@@{ PROC_RDPMC_EXITING, "RDPMC exiting" },@@'
	'vmx_caps.c@@{ PIN_VIRTUAL_NMIS, "virtual NMIs" },@@'
	'vmx_caps.c@@{ ENTRY_LOAD_EFER, "load IA32_EFER (entry)" },@@'
	'vmx_caps.c@@{ PROC2_UNRESTRICTED, "unrestricted guest" },@@'
	'vmx_caps.c@@{ EXIT_HOST_64, "host address-space size" },@@'
	'vmx_caps.c@@{ PROC_RDPMC_EXITING, "RDPMC exiting" },@@{ PROC_RDPMC_EXITING, "RDPMC exiting" }, { PROC_RDTSC_EXITING, "RDTSC exiting" },'
	'vmx_caps.c@@{ PROC_HLT_EXITING, "HLT exiting" },@@{ PROC_HLT_EXITING, "MOV-DR exiting" },'
	# ---- IA32_FEATURE_CONTROL, IA32_VMX_BASIC
	'vmx_caps.c@@if (!(feat & FEAT_CTL_LOCKED) ||@@if ((feat & FEAT_CTL_LOCKED) ||'
	'vmx_caps.c@@ || !(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {@@) {'
	'vmx_caps.c@@feat = 0;@@feat = FEAT_CTL_LOCKED | FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX;'
	'vmx_caps.c@@return -EIO;@@return -ENODEV;'
	'vmx_caps.c@@VMX_BASIC_SIZE(basic) > PAGE_SIZE@@VMX_BASIC_SIZE(basic) >= PAGE_SIZE'
	'vmx_caps.c@@VMX_BASIC_SIZE(basic) > PAGE_SIZE ||@@0 ||'
	'vmx_caps.c@@(basic & VMX_BASIC_32BIT_ADDR) ||@@0 ||'
	'vmx_caps.c@@VMX_BASIC_MEMTYPE(basic) != 6@@0'
	'vmcs.h@@(((b) >> 50) & 0xf)@@(((b) >> 50) & 0x7)'
	'vmcs.h@@VMX_BASIC_IO_INFO		BIT_ULL(54)@@VMX_BASIC_IO_INFO		BIT_ULL(53)'
	'vmcs.h@@PROC_HLT_EXITING		BIT(7)@@PROC_HLT_EXITING		BIT(8)'
	'vmcs.h@@VMX_VPID_CAP_ALL		BIT_ULL(42)@@VMX_VPID_CAP_ALL		BIT_ULL(43)'
	# ---- TRUE_* or plain control MSRs
	'vmx_caps.c@@true_ctls = basic & VMX_BASIC_TRUE;@@true_ctls = false;'
	'vmx_caps.c@@true_ctls = basic & VMX_BASIC_TRUE;@@true_ctls = true;'
	'vmx_caps.c@@true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS@@MSR_IA32_VMX_PROCBASED_CTLS'
	'vmx_caps.c@@true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS@@MSR_IA32_VMX_TRUE_ENTRY_CTLS'
	'vmcs.h@@VMX_BASIC_TRUE		BIT_ULL(55)@@VMX_BASIC_TRUE		BIT_ULL(54)'
	# ---- vmx_adjust()
	'vmx_caps.c@@*out = ((want & ~forbidden) | must1) & may1;@@*out = (want & ~forbidden) & may1;'
	'vmx_caps.c@@*out = ((want & ~forbidden) | must1) & may1;@@*out = (want & ~forbidden) | must1;'
	'vmx_caps.c@@*out = ((want & ~forbidden) | must1) & may1;@@*out = (want | must1) & may1;'
	'vmx_caps.c@@u32 must1 = (u32)msr_val, may1 = msr_val >> 32;@@u32 may1 = (u32)msr_val, must1 = msr_val >> 32;'
	'vmx_caps.c@@if (must1 & forbidden) {@@if (0) {'
	'vmx_caps.c@@why->missing = req[i].name;@@why->missing = req[i].name; continue;'
	'vmx_caps.c@@(PROC_TPR_SHADOW | PROC_MONITOR_TRAP@@(PROC_MONITOR_TRAP'
	'vmx_caps.c@@PROC_INTR_WINDOW | PROC_NMI_WINDOW | PROC_UNCOND_IO_EXITING)@@PROC_INTR_WINDOW | PROC_NMI_WINDOW)'
	'vmx_caps.c@@(EXIT_ACK_INTR | EXIT_SAVE_TIMER)@@(EXIT_SAVE_TIMER)'
	'vmx_caps.c@@(ENTRY_SMM | ENTRY_IA32E)@@(ENTRY_SMM)'
	# ---- secondary controls, EPT and VPID capabilities
	'vmx_caps.c@@((proc >> 32) & PROC_SECONDARY_CTLS) ? vmx_rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) : 0@@vmx_rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2)'
	'vmx_caps.c@@((proc >> 32) & PROC_SECONDARY_CTLS)@@(proc & PROC_SECONDARY_CTLS)'
	'vmx_caps.c@@((proc2 >> 32) & (PROC2_EPT | PROC2_VPID)) ? vmx_rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) : 0@@vmx_rdmsr(MSR_IA32_VMX_EPT_VPID_CAP)'
	'vmx_caps.c@@((proc2 >> 32) & (PROC2_EPT | PROC2_VPID))@@((proc2 >> 32) & PROC2_EPT)'
	'vmx_caps.c@@if (!(ept & VMX_EPT_CAP_WALK4))@@if (0)'
	'vmx_caps.c@@!(ept & VMX_EPT_CAP_WB)@@0'
	'vmx_caps.c@@!(ept & VMX_EPT_CAP_2M)@@0'
	'vmx_caps.c@@else if (!(ept & VMX_EPT_CAP_INVEPT))@@else if (0)'
	'vmx_caps.c@@else if (!(ept & VMX_EPT_CAP_INVEPT_ALL))@@else if (!(ept & VMX_EPT_CAP_INVEPT_SINGLE))'
	'vmx_caps.c@@(ept & VMX_VPID_CAP_INVVPID) && @@'
	'vmx_caps.c@@if ((ept & VMX_VPID_CAP_INVVPID) && (ept & VMX_VPID_CAP_ALL))@@if ((ept & VMX_VPID_CAP_INVVPID) && (ept & (VMX_VPID_CAP_SINGLE | VMX_VPID_CAP_ALL)))'
	'vmx_caps.c@@if (boot_cpu_has(X86_FEATURE_INVPCID))@@if (1)'
	'vmx_caps.c@@if (boot_cpu_has(X86_FEATURE_INVPCID))@@if (0)'
	'vmx_caps.c@@PROC2_WBINVD_EXITING | PROC2_PAUSE_LOOP | PROC2_ENCLS_EXITING@@PROC2_WBINVD_EXITING | PROC2_ENCLS_EXITING'
	'vmx_caps.c@@proc_optional = PROC_MWAIT_EXITING | PROC_MONITOR_EXITING;@@proc_optional = PROC_MWAIT_EXITING | PROC_MONITOR_EXITING | PROC_PAUSE_EXITING;'
	'vmx_caps.c@@PIN_PREEMPTION_TIMER, 0, &vmx_caps.pin@@0, 0, &vmx_caps.pin'
	# ---- the flags kept
	'vmx_caps.c@@vmx_caps.invvpid_single = ept & VMX_VPID_CAP_SINGLE;@@vmx_caps.invvpid_single = ept & VMX_VPID_CAP_ALL;'
	'vmx_caps.c@@vmx_caps.invept_single = ept & VMX_EPT_CAP_INVEPT_SINGLE;@@vmx_caps.invept_single = ept & VMX_EPT_CAP_INVEPT;'
	'vmx_caps.c@@vmx_caps.ept_ad = ept & VMX_EPT_CAP_AD;@@vmx_caps.ept_ad = ept & VMX_EPT_CAP_WALK5;'
	'vmx_caps.c@@vmx_caps.pml = vmx_caps.ept_ad && ((proc2 >> 32) & PROC2_PML);@@vmx_caps.pml = (proc2 >> 32) & PROC2_PML;'
	'vmx_caps.c@@vmx_caps.pml = vmx_caps.ept_ad && ((proc2 >> 32) & PROC2_PML);@@vmx_caps.pml = vmx_caps.ept_ad && (proc2 & PROC2_PML);'
	'vmx_caps.c@@vmx_caps.vpid = vmx_caps.proc2 & PROC2_VPID;@@vmx_caps.vpid = (proc2 >> 32) & PROC2_VPID;'
	'vmx_caps.c@@vmx_caps.insn_info_io = basic & VMX_BASIC_IO_INFO;@@vmx_caps.insn_info_io = true;'
	'vmx_caps.c@@memset(&vmx_caps, 0, sizeof(vmx_caps));@@'
	# ---- the log
	'vmx_caps.c@@pr_err("khv: vmx: this CPU lacks %s\n", why.missing);@@pr_warn("khv: vmx: this CPU lacks %s\n", why.missing);'
	'vmx_caps.c@@pr_err("khv: vmx: this CPU lacks %s\n", why.missing);@@{ pr_err("khv: vmx: this CPU lacks %s\n", why.missing); pr_err("khv: vmx: refusing\n"); }'
	'vmx_caps.c@@why->bits = must1 & forbidden;@@why->bits = forbidden;'
	'vmx_caps.c@@pr_err("khv: vmx: this CPU forces %s (bits %#x)\n", why.forced, why.bits);@@pr_err("khv: vmx: this CPU lacks %s\n", why.forced);'
	'vmx_caps.c@@pr_info("khv: vmx: revision@@if (0) pr_info("khv: vmx: revision'
	# ---- vmx_caps_setup(), vmx_hw_cr0(), vmx_hw_cr4()
	'vmx_caps.c@@ & ~X86_CR4_VMXE;@@;'
	'vmx_caps.c@@khv_cr4_supported() & vmx_caps.cr4_fixed1@@khv_cr4_supported()'
	'vmx_caps.c@@cpuid_edx(0x80000001) & BIT(20)@@cpuid_edx(0x80000001) & BIT(29)'
	'vmx_caps.c@@return ticks > U32_MAX ? U32_MAX : max_t(u64, ticks, 1);@@return ticks > U32_MAX ? U32_MAX : ticks;'
	'vmx_caps.c@@return ticks > U32_MAX ? U32_MAX : max_t(u64, ticks, 1);@@return max_t(u64, ticks, 1);'
	'vmx_caps.c@@ticks >>= VMX_MISC_TIMER_RATE(vmx_caps.misc);@@ticks >>= vmx_caps.misc & 0x3f;'
	'vmcs.h@@((m) & 0x1f)@@((m) & 0xf)'
	'vmx_caps.c@@(tsc_khz ? tsc_khz : 1000000)@@(tsc_khz)'
	'vmx_caps.c@@#define VMX_TIMER_SLICE_MS	10@@#define VMX_TIMER_SLICE_MS	1'
	'vmx_caps.c@@if (vmx_caps.preemption_timer)@@if (1)'
	'vmx_caps.c@@vmx_caps.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG)@@vmx_caps.cr0_fixed0'
	'vmx_caps.c@@vmx_caps.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG)@@vmx_caps.cr0_fixed0 & ~X86_CR0_PG'
	'vmx_caps.c@@(cr0 & ~(X86_CR0_CD | X86_CR0_NW))@@(cr0 & ~X86_CR0_CD)'
	'vmx_caps.c@@| fixed0) & vmx_caps.cr0_fixed1;@@| fixed0);'
	'vmx_caps.c@@return (cr4 | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1;@@return cr4 | vmx_caps.cr4_fixed0;'
	'vmx_caps.c@@return (cr4 | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1;@@return cr4 & vmx_caps.cr4_fixed1;'
)

. "$(dirname "$0")/../../scripts/mutants.sh"
mutants_main
