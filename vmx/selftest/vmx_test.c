// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace unit tests of vmx/vmx_caps.c, the real file compiled into this
 * one over the shim (shim.h, shim.c), which plays a CPU whose capability
 * MSRs, CPUID and features each test sets.  Run: make -C vmx/selftest run
 *
 * Covered:
 *  - the vmx.h/vmcs.h bits and fields vmx_caps.c uses, against the SDM;
 *  - a Skylake-class CPU (true controls): vmx_probe() returns 0, every
 *    control word is exactly the required and available optional controls
 *    plus the must-be-1 bits, without a forbidden one; the flags (VPID,
 *    preemption timer, EPT A/D, PLE, INS/OUTS info, INVEPT/INVVPID types)
 *    and one pr_info line; no absent MSR is read;
 *  - IA32_FEATURE_CONTROL unlocked, locked without VMX outside SMX, or
 *    faulting: -ENODEV, one pr_err line, nothing else read;
 *  - IA32_VMX_BASIC faulting (-EIO); VMCS larger than 4 KiB, 32-bit
 *    addresses, not write-back (-ENODEV); exactly 4 KiB accepted;
 *  - every entry of the five tables of required controls (walked from
 *    vmx_caps.c itself, so a new entry is covered) missing in turn, with
 *    the TRUE_* and with the plain control MSRs: -ENODEV, the line names it;
 *    the tables hold exactly the controls this file expects;
 *  - each forbidden control forced to 1 (processor-based, exit, entry):
 *    refused; other must-be-1 controls honoured;
 *  - IA32_VMX_BASIC[55] chooses the TRUE_* or the plain MSRs, and only
 *    those are read;
 *  - the secondary controls MSR read only with their 1-setting, the
 *    EPT/VPID capability MSR only with EPT or VPID allowed;
 *  - EPT capability gaps (4-level walk, WB, 2 MiB, INVEPT, all-context INVEPT);
 *  - VPID only with INVVPID and its all-context type; INVPCID only
 *    when the host has it; the other optional controls only when allowed;
 *  - vmx_caps_setup(): preemption timer value from tsc_khz and the MISC
 *    rate, clamped to [1, U32_MAX]; cr4_allowed without VMXE; NX in
 *    efer_allowed only with CPUID 0x80000001 EDX[20];
 *  - vmx_hw_cr0()/vmx_hw_cr4(): fixed bits applied, CD/NW dropped, PE/PG
 *    not forced.
 *
 * Output is TAP: "1..N", then "ok N - group (K checks)" or "not ok ..."
 * per group, each failed check on a "#" line before it (with the captured
 * log), then "vmx_caps selftest: all tests passed (G groups, C checks)" or
 * "vmx_caps selftest: F of C checks failed" and exit status 1.
 */
#include "shim.h"
#include "shim_test.h"
#include "core/khv.h"

/*
 * The code under test.  Included (first, so that it sees nothing but the
 * shim) rather than linked, so that the tests can walk its static tables.
 */
#include "../vmx_caps.c"

#include <stdarg.h>
#include <stdio.h>

static unsigned int passed, failed;
static char ctx[200];		/* the case at hand, for failure messages */

static __printf(1, 2) void set_ctx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
}

static void dump_log(void)
{
	unsigned int i;

	for (i = 0; i < shim.nr_log && i < SHIM_MAX_LOG; i++) {
		const char *t = shim.log[i].text;
		size_t n = strlen(t);

		printf("#     log %u: <%d>%.*s\n", i, shim.log[i].level,
		       (int)(n && t[n - 1] == '\n' ? n - 1 : n), t);
	}
	if (!shim.nr_log)
		printf("#     (nothing logged)\n");
}

static void fail_head(const char *file, int line)
{
	failed++;
	printf("#   FAILED %s:%d: %s%s", file, line, ctx, ctx[0] ? ": " : "");
}

static void check(bool ok, const char *expr, const char *file, int line)
{
	if (ok) {
		passed++;
		return;
	}
	fail_head(file, line);
	printf("%s\n", expr);
	dump_log();
}

static void check_eq(u64 a, u64 b, const char *ea, const char *eb, const char *file, int line)
{
	if (a == b) {
		passed++;
		return;
	}
	fail_head(file, line);
	printf("%s == %s: %lld (%#llx) != %lld (%#llx)\n", ea, eb, (long long)a, a,
	       (long long)b, b);
	dump_log();
}

/*
 * One printk call since the probe started, at level, a single line ending
 * in a newline, holding each of the NULL-terminated strings.
 */
static void check_log(int level, const char *file, int line, ...)
{
	const char *t = shim.log[0].text, *s, *bad = NULL;
	size_t n = strlen(t);
	va_list ap;

	if (shim.nr_log != 1)
		bad = "not exactly one printk";
	else if (shim.log[0].level != level)
		bad = "wrong level";
	else if (!n || strchr(t, '\n') != t + n - 1)
		bad = "not one line ending in a newline";
	va_start(ap, line);
	while ((s = va_arg(ap, const char *)))
		if (!bad && !strstr(t, s))
			bad = s;
	va_end(ap);
	if (!bad) {
		passed++;
		return;
	}
	fail_head(file, line);
	printf("log: expected one level-%d line, got %u; missing or wrong: \"%s\"\n",
	       level, shim.nr_log, bad);
	dump_log();
}

#define CHECK(c)	check(!!(c), #c, __FILE__, __LINE__)
#define CHECK_EQ(a, b)	check_eq((u64)(a), (u64)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_LOG(level, ...)	check_log(level, __FILE__, __LINE__, __VA_ARGS__, NULL)
#define CHECK_ERR(...)	CHECK_LOG(SHIM_LOG_ERR, __VA_ARGS__)
#define CHECK_INFO(...)	CHECK_LOG(SHIM_LOG_INFO, __VA_ARGS__)

/*
 * ---- the model: a Skylake-class client part -----------------------------
 * Values as a Core i7-6700-like CPU reports them (the test_model() checks
 * spell out what matters).
 */

#define SKL_FEAT_CTL	0x0000000000000005ULL	/* locked, VMX outside SMX */
/* Revision 4, 0x400 bytes, dual-monitor SMM, WB, INS/OUTS info, true controls. */
#define SKL_BASIC	0x00da040000000004ULL
#define SKL_PIN		0x0000007f00000016ULL
#define SKL_PROC	0xfff9fffe0401e172ULL
#define SKL_EXIT	0x01ffffff00036dffULL
#define SKL_ENTRY	0x0003ffff000011ffULL
#define SKL_MISC	0x000000007004c1e7ULL	/* timer rate 7 */
#define SKL_CR0_FIXED0	0x0000000080000021ULL	/* PG NE PE */
#define SKL_CR0_FIXED1	0x00000000ffffffffULL
#define SKL_CR4_FIXED0	0x0000000000002000ULL	/* VMXE */
#define SKL_CR4_FIXED1	0x00000000003767ffULL
#define SKL_VMCS_ENUM	0x000000000000002eULL
/*
 * Bits 0-7 (APIC accesses to unrestricted guest, EPT and VPID among them),
 * PLE, RDRAND, INVPCID, VMFUNC, shadow VMCS, ENCLS, RDSEED, PML, #VE, PT,
 * XSAVES, TSC scaling; no APICv.
 */
#define SKL_PROC2	0x021ffcff00000000ULL
/*
 * Execute-only, 4-level, UC, WB, 2M, 1G, INVEPT, A/D, INVEPT single and all;
 * INVVPID individual-address, single, all, single-retaining-globals.
 */
#define SKL_EPT_VPID	0x00000f0106734141ULL
#define SKL_TRUE_PIN	0x0000007f00000016ULL
#define SKL_TRUE_PROC	0xfff9fffe04006172ULL	/* CR3 load/store exiting may be 0 */
#define SKL_TRUE_EXIT	0x01ffffff00036dfbULL	/* save debug controls may be 0 */
#define SKL_TRUE_ENTRY	0x0003ffff000011fbULL	/* load debug controls may be 0 */
#define SKL_VMFUNC	0x0000000000000001ULL
#define SKL_TSC_KHZ	3400000
/* CPUID 0x80000001 EDX: SYSCALL, NX, 1-GiB pages, RDTSCP, LM */
#define SKL_EXT_EDX	(BIT(11) | BIT(20) | BIT(26) | BIT(27) | BIT(29))
/* What khv_cr4_supported() gives there (no UMIP, no LA57). */
#define SKL_CR4_SUPPORTED (X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |	\
			   X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE |	\
			   X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT |		\
			   X86_CR4_FSGSBASE | X86_CR4_PCIDE | X86_CR4_OSXSAVE |	\
			   X86_CR4_SMEP | X86_CR4_SMAP)

static const struct {
	u32 index;
	u64 value;
} skylake[] = {
	{ MSR_IA32_FEAT_CTL, SKL_FEAT_CTL },
	{ MSR_IA32_VMX_BASIC, SKL_BASIC },
	{ MSR_IA32_VMX_PINBASED_CTLS, SKL_PIN },
	{ MSR_IA32_VMX_PROCBASED_CTLS, SKL_PROC },
	{ MSR_IA32_VMX_EXIT_CTLS, SKL_EXIT },
	{ MSR_IA32_VMX_ENTRY_CTLS, SKL_ENTRY },
	{ MSR_IA32_VMX_MISC, SKL_MISC },
	{ MSR_IA32_VMX_CR0_FIXED0, SKL_CR0_FIXED0 },
	{ MSR_IA32_VMX_CR0_FIXED1, SKL_CR0_FIXED1 },
	{ MSR_IA32_VMX_CR4_FIXED0, SKL_CR4_FIXED0 },
	{ MSR_IA32_VMX_CR4_FIXED1, SKL_CR4_FIXED1 },
	{ MSR_IA32_VMX_VMCS_ENUM, SKL_VMCS_ENUM },
	{ MSR_IA32_VMX_PROCBASED_CTLS2, SKL_PROC2 },
	{ MSR_IA32_VMX_EPT_VPID_CAP, SKL_EPT_VPID },
	{ MSR_IA32_VMX_TRUE_PINBASED_CTLS, SKL_TRUE_PIN },
	{ MSR_IA32_VMX_TRUE_PROCBASED_CTLS, SKL_TRUE_PROC },
	{ MSR_IA32_VMX_TRUE_EXIT_CTLS, SKL_TRUE_EXIT },
	{ MSR_IA32_VMX_TRUE_ENTRY_CTLS, SKL_TRUE_ENTRY },
	{ MSR_IA32_VMX_VMFUNC, SKL_VMFUNC },
};

/*
 * What khv requires, written down here independently of vmx_caps.c's
 * tables (the tests check that the two agree).  RUNTIME_*: required, but
 * set and cleared per entry, so never in the controls vmx_caps holds.
 */
#define REQ_PIN		(PIN_EXTINT_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS)
#define REQ_PROC	(PROC_HLT_EXITING | PROC_MOV_DR_EXITING | PROC_CR8_LOAD_EXITING |	\
			 PROC_CR8_STORE_EXITING | PROC_IO_BITMAPS | PROC_MSR_BITMAPS |	\
			 PROC_TSC_OFFSETTING | PROC_RDPMC_EXITING | PROC_SECONDARY_CTLS |	\
			 PROC_INTR_WINDOW | PROC_NMI_WINDOW)
#define REQ_PROC2	(PROC2_EPT | PROC2_UNRESTRICTED)
#define REQ_EXIT	(EXIT_HOST_64 | EXIT_SAVE_DEBUG | EXIT_LOAD_PAT | EXIT_LOAD_EFER)
#define REQ_ENTRY	(ENTRY_LOAD_DEBUG | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER | ENTRY_IA32E)
#define RUNTIME_PROC	(PROC_INTR_WINDOW | PROC_NMI_WINDOW)
#define RUNTIME_ENTRY	ENTRY_IA32E
#define OPT_PROC	(PROC_MWAIT_EXITING | PROC_MONITOR_EXITING)
#define OPT_PROC2	(PROC2_VPID | PROC2_WBINVD_EXITING | PROC2_PAUSE_LOOP |	\
			 PROC2_ENCLS_EXITING | PROC2_INVPCID | PROC2_RDTSCP)

/* The controls khv should compute from control MSR value v (all optional ones allowed). */
static u32 expect_ctls(u64 v, u32 want, u32 runtime)
{
	return (((u32)v | want) & (u32)(v >> 32)) & ~runtime;
}

static void cpu_skylake(void)
{
	unsigned int i;

	shim_reset();
	for (i = 0; i < ARRAY_SIZE(skylake); i++)
		shim_msr_set(skylake[i].index, skylake[i].value);
	shim.cpuid_80000001_edx = SKL_EXT_EDX;
	shim.cr4_supported = SKL_CR4_SUPPORTED;
	shim_set_feature(X86_FEATURE_INVPCID, true);
	shim_set_feature(X86_FEATURE_RDTSCP, true);
	tsc_khz = SKL_TSC_KHZ;
	ctx[0] = '\0';
}

/* The CPU without IA32_VMX_BASIC[55] and so without the TRUE_* MSRs. */
static void cpu_no_true_ctls(void)
{
	shim_msr_set(MSR_IA32_VMX_BASIC, SKL_BASIC & ~VMX_BASIC_TRUE);
	shim_msr_fault(MSR_IA32_VMX_TRUE_PINBASED_CTLS);
	shim_msr_fault(MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
	shim_msr_fault(MSR_IA32_VMX_TRUE_EXIT_CTLS);
	shim_msr_fault(MSR_IA32_VMX_TRUE_ENTRY_CTLS);
}

static void msr_and_not(u32 msr, u64 bits)
{
	shim_msr_set(msr, shim_msr_get(msr) & ~bits);
}

static void msr_or(u32 msr, u64 bits)
{
	shim_msr_set(msr, shim_msr_get(msr) | bits);
}

/* Control bit not available (allowed-1 clear, and so not must-be-1 either). */
static void ctl_disallow(u32 msr, u32 bit)
{
	msr_and_not(msr, ((u64)bit << 32) | bit);
}

/* Control bit must be 1 (allowed-0 set, and so allowed-1 too). */
static void ctl_force(u32 msr, u32 bit)
{
	msr_or(msr, ((u64)bit << 32) | bit);
}

/*
 * vmx_probe() on the CPU as set up, with a fresh log and read counts, and
 * vmx_caps full of garbage (the probe must set every field it keeps); the
 * flags true, garbage UBSan lets a failed check read after a refusal.
 */
static int probe(void)
{
	shim_log_clear();
	shim_msr_clear_reads();
	memset(&vmx_caps, 0xa5, sizeof(vmx_caps));
	vmx_caps.vpid = true;
	vmx_caps.preemption_timer = true;
	vmx_caps.ept_ad = true;
	vmx_caps.pml = true;
	vmx_caps.pause_loop = true;
	vmx_caps.insn_info_io = true;
	vmx_caps.invept_single = true;
	vmx_caps.invvpid_single = true;
	return vmx_probe();
}

/* RDMSR of an MSR the simulated CPU does not have (a #GP on hardware). */
static unsigned int absent_msr_reads(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < shim.nr_msrs; i++)
		if (!shim.msrs[i].present)
			n += shim.msrs[i].reads;
	return n;
}

/* ---- the tests --------------------------------------------------------- */

/*
 * The vmcs.h definitions vmx_caps.c relies on, against the SDM (vol. 3
 * appendix A, section 25.6 and following): the rest of this file uses them
 * too, so a wrong one would otherwise go unnoticed on both sides.
 */
static void test_vmcs_h(void)
{
#define SDM(macro, value)	{ #macro, (u64)(macro), (u64)(value) }
	static const struct {
		const char *name;
		u64 got, sdm;
	} defs[] = {
		SDM(VMX_BASIC_REVISION(~0ULL), 0x7fffffff),
		SDM(VMX_BASIC_SIZE(~0ULL), 0x1fff),
		SDM(VMX_BASIC_SIZE(0x0000123400000000ULL), 0x1234),
		SDM(VMX_BASIC_32BIT_ADDR, BIT_ULL(48)),
		SDM(VMX_BASIC_MEMTYPE(~0ULL), 0xf),
		SDM(VMX_BASIC_MEMTYPE(6ULL << 50), 6),
		SDM(VMX_BASIC_IO_INFO, BIT_ULL(54)),
		SDM(VMX_BASIC_TRUE, BIT_ULL(55)),
		SDM(VMX_MISC_TIMER_RATE(~0ULL), 31),
		SDM(VMX_MISC_TIMER_RATE(0x10ULL), 16),
		SDM(VMX_EPT_CAP_WALK4, BIT_ULL(6)),
		SDM(VMX_EPT_CAP_WALK5, BIT_ULL(7)),
		SDM(VMX_EPT_CAP_WB, BIT_ULL(14)),
		SDM(VMX_EPT_CAP_2M, BIT_ULL(16)),
		SDM(VMX_EPT_CAP_INVEPT, BIT_ULL(20)),
		SDM(VMX_EPT_CAP_AD, BIT_ULL(21)),
		SDM(VMX_EPT_CAP_INVEPT_SINGLE, BIT_ULL(25)),
		SDM(VMX_EPT_CAP_INVEPT_ALL, BIT_ULL(26)),
		SDM(VMX_VPID_CAP_INVVPID, BIT_ULL(32)),
		SDM(VMX_VPID_CAP_SINGLE, BIT_ULL(41)),
		SDM(VMX_VPID_CAP_ALL, BIT_ULL(42)),
		SDM(PIN_EXTINT_EXITING, BIT(0)),
		SDM(PIN_NMI_EXITING, BIT(3)),
		SDM(PIN_VIRTUAL_NMIS, BIT(5)),
		SDM(PIN_PREEMPTION_TIMER, BIT(6)),
		SDM(PROC_INTR_WINDOW, BIT(2)),
		SDM(PROC_TSC_OFFSETTING, BIT(3)),
		SDM(PROC_HLT_EXITING, BIT(7)),
		SDM(PROC_INVLPG_EXITING, BIT(9)),
		SDM(PROC_MWAIT_EXITING, BIT(10)),
		SDM(PROC_RDPMC_EXITING, BIT(11)),
		SDM(PROC_RDTSC_EXITING, BIT(12)),
		SDM(PROC_CR3_LOAD_EXITING, BIT(15)),
		SDM(PROC_CR3_STORE_EXITING, BIT(16)),
		SDM(PROC_TERTIARY_CTLS, BIT(17)),
		SDM(PROC_CR8_LOAD_EXITING, BIT(19)),
		SDM(PROC_CR8_STORE_EXITING, BIT(20)),
		SDM(PROC_TPR_SHADOW, BIT(21)),
		SDM(PROC_NMI_WINDOW, BIT(22)),
		SDM(PROC_MOV_DR_EXITING, BIT(23)),
		SDM(PROC_UNCOND_IO_EXITING, BIT(24)),
		SDM(PROC_IO_BITMAPS, BIT(25)),
		SDM(PROC_MONITOR_TRAP, BIT(27)),
		SDM(PROC_MSR_BITMAPS, BIT(28)),
		SDM(PROC_MONITOR_EXITING, BIT(29)),
		SDM(PROC_PAUSE_EXITING, BIT(30)),
		SDM(PROC_SECONDARY_CTLS, BIT(31)),
		SDM(PROC2_EPT, BIT(1)),
		SDM(PROC2_VPID, BIT(5)),
		SDM(PROC2_WBINVD_EXITING, BIT(6)),
		SDM(PROC2_UNRESTRICTED, BIT(7)),
		SDM(PROC2_PAUSE_LOOP, BIT(10)),
		SDM(PROC2_INVPCID, BIT(12)),
		SDM(PROC2_ENCLS_EXITING, BIT(15)),
		SDM(EXIT_SAVE_DEBUG, BIT(2)),
		SDM(EXIT_HOST_64, BIT(9)),
		SDM(EXIT_ACK_INTR, BIT(15)),
		SDM(EXIT_SAVE_PAT, BIT(18)),
		SDM(EXIT_LOAD_PAT, BIT(19)),
		SDM(EXIT_LOAD_EFER, BIT(21)),
		SDM(EXIT_SAVE_TIMER, BIT(22)),
		SDM(ENTRY_LOAD_DEBUG, BIT(2)),
		SDM(ENTRY_IA32E, BIT(9)),
		SDM(ENTRY_SMM, BIT(10)),
		SDM(ENTRY_LOAD_PERF_GLOBAL, BIT(13)),
		SDM(ENTRY_LOAD_PAT, BIT(14)),
		SDM(ENTRY_LOAD_EFER, BIT(15)),
	};
#undef SDM
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(defs); i++) {
		set_ctx("%s", defs[i].name);
		CHECK_EQ(defs[i].got, defs[i].sdm);
	}
}

/* The model itself says what it claims to. */
static void test_model(void)
{
	CHECK_EQ(VMX_BASIC_REVISION(SKL_BASIC), 4);
	CHECK_EQ(VMX_BASIC_SIZE(SKL_BASIC), 0x400);
	CHECK_EQ(VMX_BASIC_MEMTYPE(SKL_BASIC), 6);
	CHECK(!(SKL_BASIC & VMX_BASIC_32BIT_ADDR));
	CHECK(SKL_BASIC & VMX_BASIC_IO_INFO);
	CHECK(SKL_BASIC & VMX_BASIC_TRUE);
	/* TRUE_* only lift default-1 bits: same allowed-1, fewer must-be-1. */
	CHECK_EQ(SKL_TRUE_PIN >> 32, SKL_PIN >> 32);
	CHECK_EQ(SKL_TRUE_PROC >> 32, SKL_PROC >> 32);
	CHECK_EQ(SKL_TRUE_EXIT >> 32, SKL_EXIT >> 32);
	CHECK_EQ(SKL_TRUE_ENTRY >> 32, SKL_ENTRY >> 32);
	CHECK_EQ((u32)SKL_TRUE_PROC & ~(u32)SKL_PROC, 0);
	CHECK_EQ((u32)SKL_PROC & ~(u32)SKL_TRUE_PROC,
		 PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING);
	CHECK_EQ((u32)SKL_EXIT & ~(u32)SKL_TRUE_EXIT, EXIT_SAVE_DEBUG);
	CHECK_EQ((u32)SKL_ENTRY & ~(u32)SKL_TRUE_ENTRY, ENTRY_LOAD_DEBUG);
	/* Everything khv wants, and some it must not use, is allowed. */
	CHECK_EQ((SKL_TRUE_PIN >> 32) & (REQ_PIN | PIN_PREEMPTION_TIMER),
		 REQ_PIN | PIN_PREEMPTION_TIMER);
	CHECK_EQ((SKL_TRUE_PROC >> 32) & (REQ_PROC | OPT_PROC), REQ_PROC | OPT_PROC);
	CHECK_EQ((SKL_PROC2 >> 32) & (REQ_PROC2 | OPT_PROC2), REQ_PROC2 | OPT_PROC2);
	CHECK_EQ((SKL_TRUE_EXIT >> 32) & REQ_EXIT, REQ_EXIT);
	CHECK_EQ((SKL_TRUE_ENTRY >> 32) & REQ_ENTRY, REQ_ENTRY);
	CHECK((SKL_TRUE_PROC >> 32) & PROC_TPR_SHADOW);
	CHECK((SKL_TRUE_EXIT >> 32) & (EXIT_ACK_INTR | EXIT_SAVE_TIMER));
	CHECK((SKL_TRUE_ENTRY >> 32) & ENTRY_SMM);
	CHECK_EQ((u32)SKL_PROC2, 0);
	CHECK_EQ(SKL_EPT_VPID & (VMX_EPT_CAP_WALK4 | VMX_EPT_CAP_WB | VMX_EPT_CAP_2M |
				 VMX_EPT_CAP_INVEPT | VMX_EPT_CAP_AD | VMX_EPT_CAP_INVEPT_SINGLE |
				 VMX_EPT_CAP_INVEPT_ALL | VMX_VPID_CAP_INVVPID |
				 VMX_VPID_CAP_SINGLE | VMX_VPID_CAP_ALL | VMX_EPT_CAP_WALK5),
		 VMX_EPT_CAP_WALK4 | VMX_EPT_CAP_WB | VMX_EPT_CAP_2M | VMX_EPT_CAP_INVEPT |
		 VMX_EPT_CAP_AD | VMX_EPT_CAP_INVEPT_SINGLE | VMX_EPT_CAP_INVEPT_ALL |
		 VMX_VPID_CAP_INVVPID | VMX_VPID_CAP_SINGLE | VMX_VPID_CAP_ALL);
	CHECK_EQ(VMX_MISC_TIMER_RATE(SKL_MISC), 7);
}

static void test_good_cpu(void)
{
	u32 pin = (u32)SKL_TRUE_PIN | REQ_PIN | PIN_PREEMPTION_TIMER;
	u32 proc = ((u32)SKL_TRUE_PROC | REQ_PROC | OPT_PROC) & ~RUNTIME_PROC;
	u32 proc2 = REQ_PROC2 | OPT_PROC2;
	u32 exit = (u32)SKL_TRUE_EXIT | REQ_EXIT;
	u32 entry = ((u32)SKL_TRUE_ENTRY | REQ_ENTRY) & ~RUNTIME_ENTRY;

	cpu_skylake();
	CHECK_EQ(probe(), 0);
	CHECK_INFO("khv: vmx: ", "revision 0x4,", "true controls 1,", "VPID 1,", "EPT A/D 1,",
		   "5-level EPT 0,", "preemption timer 1,", "PLE 1,", "INS/OUTS info 1\n");
	CHECK_EQ(vmx_caps.pin, pin);
	CHECK_EQ(vmx_caps.proc, proc);
	CHECK_EQ(vmx_caps.proc2, proc2);
	CHECK_EQ(vmx_caps.exit, exit);
	CHECK_EQ(vmx_caps.entry, entry);
	/* The same, spelled out. */
	CHECK_EQ(vmx_caps.pin, 0x7f);
	CHECK_EQ(vmx_caps.proc, 0xb6986dfa);
	CHECK_EQ(vmx_caps.proc2, 0x94ea);
	CHECK_EQ(vmx_caps.exit, 0x002b6fff);
	CHECK_EQ(vmx_caps.entry, 0x0000d1ff);
	/* Within allowed-1, every must-be-1 kept, nothing forbidden. */
	CHECK_EQ(vmx_caps.pin & ~(u32)(SKL_TRUE_PIN >> 32), 0);
	CHECK_EQ(vmx_caps.proc & ~(u32)(SKL_TRUE_PROC >> 32), 0);
	CHECK_EQ(vmx_caps.proc2 & ~(u32)(SKL_PROC2 >> 32), 0);
	CHECK_EQ(vmx_caps.exit & ~(u32)(SKL_TRUE_EXIT >> 32), 0);
	CHECK_EQ(vmx_caps.entry & ~(u32)(SKL_TRUE_ENTRY >> 32), 0);
	CHECK_EQ(~vmx_caps.pin & (u32)SKL_TRUE_PIN, 0);
	CHECK_EQ(~vmx_caps.proc & (u32)SKL_TRUE_PROC, 0);
	CHECK_EQ(~vmx_caps.exit & (u32)SKL_TRUE_EXIT, 0);
	CHECK_EQ(~vmx_caps.entry & (u32)SKL_TRUE_ENTRY, 0);
	CHECK_EQ(vmx_caps.proc & (PROC_TPR_SHADOW | PROC_MONITOR_TRAP | PROC_TERTIARY_CTLS |
				  PROC_INTR_WINDOW | PROC_NMI_WINDOW | PROC_UNCOND_IO_EXITING |
				  PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING |
				  PROC_INVLPG_EXITING | PROC_RDTSC_EXITING |
				  PROC_PAUSE_EXITING), 0);
	CHECK_EQ(vmx_caps.exit & (EXIT_ACK_INTR | EXIT_SAVE_TIMER), 0);
	CHECK_EQ(vmx_caps.entry & (ENTRY_SMM | ENTRY_IA32E), 0);
	/* What the probe keeps. */
	CHECK_EQ(vmx_caps.basic, SKL_BASIC);
	CHECK_EQ(vmx_caps.misc, SKL_MISC);
	CHECK_EQ(vmx_caps.ept_vpid, SKL_EPT_VPID);
	CHECK_EQ(vmx_caps.cr0_fixed0, SKL_CR0_FIXED0);
	CHECK_EQ(vmx_caps.cr0_fixed1, SKL_CR0_FIXED1);
	CHECK_EQ(vmx_caps.cr4_fixed0, SKL_CR4_FIXED0);
	CHECK_EQ(vmx_caps.cr4_fixed1, SKL_CR4_FIXED1);
	CHECK(vmx_caps.vpid);
	CHECK(vmx_caps.preemption_timer);
	CHECK(vmx_caps.ept_ad);
	CHECK(vmx_caps.pml);
	CHECK_EQ(vmx_caps.proc2 & PROC2_PML, 0);	/* only VMs that log by PML */
	CHECK(vmx_caps.pause_loop);
	CHECK(vmx_caps.insn_info_io);
	CHECK(vmx_caps.invept_single);
	CHECK(vmx_caps.invvpid_single);
	/* Only MSRs the CPU has, the true ones, each once. */
	CHECK_EQ(absent_msr_reads(), 0);
	CHECK_EQ(shim_msr_reads(MSR_IA32_FEAT_CTL), 1);
	CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_BASIC), 1);
	CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_TRUE_PINBASED_CTLS), 1);
	CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_TRUE_PROCBASED_CTLS), 1);
	CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_TRUE_EXIT_CTLS), 1);
	CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_TRUE_ENTRY_CTLS), 1);
	CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_PROCBASED_CTLS2), 1);
	CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_EPT_VPID_CAP), 1);
	CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_PINBASED_CTLS) +
		 shim_msr_reads(MSR_IA32_VMX_PROCBASED_CTLS) +
		 shim_msr_reads(MSR_IA32_VMX_EXIT_CTLS) +
		 shim_msr_reads(MSR_IA32_VMX_ENTRY_CTLS), 0);

	/* And what setup derives from it. */
	CHECK_EQ(vmx_caps_setup(), 0);
	CHECK_EQ(vmx_caps.timer_value, (SKL_TSC_KHZ * 10ULL) >> 7);
	CHECK_EQ(vmx_caps.timer_value, 265625);
	CHECK_EQ(vmx_caps.efer_allowed, EFER_SCE | EFER_LME | EFER_LMA | EFER_NX);
	CHECK_EQ(vmx_caps.cr4_allowed, SKL_CR4_SUPPORTED);
	CHECK_EQ(shim.cpuid_other, 0);
	CHECK_EQ(shim.nr_log, 1);	/* setup logs nothing */
}

static void test_firmware_lock(void)
{
	static const struct {
		u64 feat;
		const char *says;
	} off[] = {
		{ 0, "locked 0, VMX outside SMX 0" },
		{ FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX, "locked 0, VMX outside SMX 1" },
		{ FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX | FEAT_CTL_VMX_ENABLED_INSIDE_SMX,
		  "locked 0, VMX outside SMX 1" },
		{ FEAT_CTL_LOCKED, "locked 1, VMX outside SMX 0" },
		{ FEAT_CTL_LOCKED | FEAT_CTL_VMX_ENABLED_INSIDE_SMX,
		  "locked 1, VMX outside SMX 0" },
		{ FEAT_CTL_LOCKED | BIT(18) | BIT(20), "locked 1, VMX outside SMX 0" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(off); i++) {
		cpu_skylake();
		set_ctx("IA32_FEATURE_CONTROL %#llx", off[i].feat);
		shim_msr_set(MSR_IA32_FEAT_CTL, off[i].feat);
		CHECK_EQ(probe(), -ENODEV);
		CHECK_ERR("khv: vmx: ", "disabled by the firmware", "IA32_FEATURE_CONTROL",
			  off[i].says);
		CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_BASIC), 0);
	}

	cpu_skylake();
	set_ctx("IA32_FEATURE_CONTROL faults");
	shim_msr_fault(MSR_IA32_FEAT_CTL);
	CHECK_EQ(probe(), -ENODEV);
	CHECK_ERR("khv: vmx: ", "disabled by the firmware", "IA32_FEATURE_CONTROL");
	CHECK_EQ(shim_msr_reads(MSR_IA32_FEAT_CTL), 1);
	CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_BASIC), 0);

	/* Other bits (SENTER, SGX, LMCE) do not matter. */
	cpu_skylake();
	set_ctx("IA32_FEATURE_CONTROL with SENTER, SGX, LMCE");
	shim_msr_set(MSR_IA32_FEAT_CTL, SKL_FEAT_CTL | 0x7f00 | BIT(15) | BIT(18) | BIT(20));
	CHECK_EQ(probe(), 0);
	CHECK_EQ(shim.nr_log, 1);
}

static void test_basic(void)
{
	static const struct {
		u64 basic;
		const char *why;
	} bad[] = {
		{ (SKL_BASIC & ~(0x1fffULL << 32)) | (0x1001ULL << 32), "VMCS of 4097 bytes" },
		{ (SKL_BASIC & ~(0x1fffULL << 32)) | (0x1fffULL << 32), "VMCS of 8191 bytes" },
		{ SKL_BASIC | VMX_BASIC_32BIT_ADDR, "32-bit physical addresses" },
		{ SKL_BASIC & ~(0xfULL << 50), "uncacheable VMCS" },
		{ (SKL_BASIC & ~(0xfULL << 50)) | (7ULL << 50), "VMCS memory type 7" },
		{ (SKL_BASIC & ~(0xfULL << 50)) | (0xeULL << 50), "VMCS memory type 14" },
	};
	char hex[40];
	unsigned int i;

	cpu_skylake();
	set_ctx("IA32_VMX_BASIC faults");
	shim_msr_fault(MSR_IA32_VMX_BASIC);
	CHECK_EQ(probe(), -EIO);
	CHECK_ERR("khv: vmx: ", "IA32_VMX_BASIC cannot be read");
	CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_TRUE_PINBASED_CTLS) +
		 shim_msr_reads(MSR_IA32_VMX_PINBASED_CTLS), 0);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		cpu_skylake();
		set_ctx("%s", bad[i].why);
		shim_msr_set(MSR_IA32_VMX_BASIC, bad[i].basic);
		snprintf(hex, sizeof(hex), "IA32_VMX_BASIC %#llx", bad[i].basic);
		CHECK_EQ(probe(), -ENODEV);
		CHECK_ERR("khv: vmx: ", "unusable VMCS format", hex);
		CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_TRUE_PINBASED_CTLS), 0);
	}

	/* Exactly one page is fine. */
	cpu_skylake();
	set_ctx("VMCS of 4096 bytes");
	shim_msr_set(MSR_IA32_VMX_BASIC, (SKL_BASIC & ~(0x1fffULL << 32)) | (0x1000ULL << 32));
	CHECK_EQ(probe(), 0);
	CHECK_INFO("revision 0x4,");

	/* Another revision is just reported. */
	cpu_skylake();
	set_ctx("VMCS revision 0x12");
	shim_msr_set(MSR_IA32_VMX_BASIC, (SKL_BASIC & ~0xffffffffULL) | 0x12);
	CHECK_EQ(probe(), 0);
	CHECK_INFO("revision 0x12,");
	CHECK_EQ(vmx_caps.basic, (SKL_BASIC & ~0xffffffffULL) | 0x12);
}

/* The five tables of required controls, as vmx_caps.c has them. */
static const struct {
	const char *what;
	const struct vmx_ctl *req;
	unsigned int n;
	u32 msr, true_msr;		/* true_msr 0: the same MSR either way */
	u32 expected;			/* REQ_* */
	u32 runtime;			/* RUNTIME_* */
	u32 *ctls;			/* in vmx_caps */
} tables[] = {
	{ "pin-based", vmx_pin_required, ARRAY_SIZE(vmx_pin_required),
	  MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS, REQ_PIN, 0, &vmx_caps.pin },
	{ "processor-based", vmx_proc_required, ARRAY_SIZE(vmx_proc_required),
	  MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, REQ_PROC, RUNTIME_PROC,
	  &vmx_caps.proc },
	{ "secondary", vmx_proc2_required, ARRAY_SIZE(vmx_proc2_required),
	  MSR_IA32_VMX_PROCBASED_CTLS2, 0, REQ_PROC2, 0, &vmx_caps.proc2 },
	{ "VM-exit", vmx_exit_required, ARRAY_SIZE(vmx_exit_required),
	  MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS, REQ_EXIT, 0, &vmx_caps.exit },
	{ "VM-entry", vmx_entry_required, ARRAY_SIZE(vmx_entry_required),
	  MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS, REQ_ENTRY, RUNTIME_ENTRY,
	  &vmx_caps.entry },
};

static void test_required_tables(void)
{
	unsigned int t, i, j;

	for (t = 0; t < ARRAY_SIZE(tables); t++) {
		u32 all = 0;

		set_ctx("%s table", tables[t].what);
		CHECK(tables[t].n > 0);
		for (i = 0; i < tables[t].n; i++) {
			u32 bit = tables[t].req[i].bit;
			const char *name = tables[t].req[i].name;
			bool unique = true;

			CHECK(bit && !(bit & (bit - 1)));		/* one bit */
			CHECK(!(all & bit));				/* listed once */
			CHECK(name && name[0]);
			for (j = 0; j < i; j++)
				unique &= strcmp(name, tables[t].req[j].name) != 0;
			CHECK(unique);					/* named once */
			all |= bit;
		}
		CHECK_EQ(all, tables[t].expected);
	}

	/* On the good CPU: each one in its control word (unless per-entry). */
	cpu_skylake();
	CHECK_EQ(probe(), 0);
	for (t = 0; t < ARRAY_SIZE(tables); t++) {
		for (i = 0; i < tables[t].n; i++) {
			u32 bit = tables[t].req[i].bit;

			set_ctx("%s control \"%s\" on the good CPU", tables[t].what,
				tables[t].req[i].name);
			if (bit & tables[t].runtime)
				CHECK(!(*tables[t].ctls & bit));
			else
				CHECK(*tables[t].ctls & bit);
		}
	}
}

/* Each required control missing in turn, with the true or the plain MSRs. */
static void test_required_missing(void)
{
	char says[120];
	unsigned int t, i;
	int true_ctls;

	for (true_ctls = 1; true_ctls >= 0; true_ctls--) {
		for (t = 0; t < ARRAY_SIZE(tables); t++) {
			u32 msr = tables[t].msr;

			if (true_ctls && tables[t].true_msr)
				msr = tables[t].true_msr;

			for (i = 0; i < tables[t].n; i++) {
				const struct vmx_ctl *c = &tables[t].req[i];

				cpu_skylake();
				if (!true_ctls)
					cpu_no_true_ctls();
				set_ctx("%s control \"%s\" missing, true controls %d",
					tables[t].what, c->name, true_ctls);
				ctl_disallow(msr, c->bit);
				snprintf(says, sizeof(says), "this CPU lacks %s\n", c->name);
				CHECK_EQ(probe(), -ENODEV);
				CHECK_ERR("khv: vmx: ", says);
			}
		}
	}
}

/* Forbidden controls made must-be-1 by the CPU; other must-be-1 ones kept. */
static void test_forced(void)
{
	static const struct {
		u32 msr;
		u32 bit;
		const char *name;
		const char *kind;
	} forbidden[] = {
		{ MSR_IA32_VMX_TRUE_PROCBASED_CTLS, PROC_TPR_SHADOW, "TPR shadow",
		  "default-1 processor-based control" },
		{ MSR_IA32_VMX_TRUE_PROCBASED_CTLS, PROC_MONITOR_TRAP, "monitor trap flag",
		  "default-1 processor-based control" },
		{ MSR_IA32_VMX_TRUE_PROCBASED_CTLS, PROC_TERTIARY_CTLS, "tertiary controls",
		  "default-1 processor-based control" },
		{ MSR_IA32_VMX_TRUE_PROCBASED_CTLS, PROC_INTR_WINDOW, "interrupt-window exiting",
		  "default-1 processor-based control" },
		{ MSR_IA32_VMX_TRUE_PROCBASED_CTLS, PROC_NMI_WINDOW, "NMI-window exiting",
		  "default-1 processor-based control" },
		{ MSR_IA32_VMX_TRUE_PROCBASED_CTLS, PROC_UNCOND_IO_EXITING,
		  "unconditional I/O exiting", "default-1 processor-based control" },
		{ MSR_IA32_VMX_TRUE_EXIT_CTLS, EXIT_ACK_INTR, "acknowledge interrupt on exit",
		  "default-1 VM-exit control" },
		{ MSR_IA32_VMX_TRUE_EXIT_CTLS, EXIT_SAVE_TIMER, "save preemption timer",
		  "default-1 VM-exit control" },
		{ MSR_IA32_VMX_TRUE_ENTRY_CTLS, ENTRY_SMM, "entry to SMM",
		  "default-1 VM-entry control" },
		{ MSR_IA32_VMX_TRUE_ENTRY_CTLS, ENTRY_IA32E, "IA-32e mode guest",
		  "default-1 VM-entry control" },
	};
	static const struct {
		u32 msr;
		u32 bit;
		const char *name;
		u32 *ctls;
	} kept[] = {
		{ MSR_IA32_VMX_TRUE_PROCBASED_CTLS, PROC_CR3_LOAD_EXITING, "CR3-load exiting",
		  &vmx_caps.proc },
		{ MSR_IA32_VMX_TRUE_PROCBASED_CTLS, PROC_RDTSC_EXITING, "RDTSC exiting",
		  &vmx_caps.proc },
		{ MSR_IA32_VMX_TRUE_PROCBASED_CTLS, PROC_INVLPG_EXITING, "INVLPG exiting",
		  &vmx_caps.proc },
		{ MSR_IA32_VMX_TRUE_EXIT_CTLS, EXIT_SAVE_PAT, "save IA32_PAT", &vmx_caps.exit },
		{ MSR_IA32_VMX_TRUE_ENTRY_CTLS, ENTRY_LOAD_PERF_GLOBAL,
		  "load IA32_PERF_GLOBAL_CTRL", &vmx_caps.entry },
		{ MSR_IA32_VMX_TRUE_PINBASED_CTLS, BIT(7), "process posted interrupts",
		  &vmx_caps.pin },
	};
	char says[160];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(forbidden); i++) {
		cpu_skylake();
		set_ctx("%s forced to 1", forbidden[i].name);
		ctl_force(forbidden[i].msr, forbidden[i].bit);
		CHECK_EQ(probe(), -ENODEV);
		snprintf(says, sizeof(says), "this CPU forces a %s khv cannot run with",
			 forbidden[i].kind);
		CHECK_ERR("khv: vmx: ", says);
		snprintf(says, sizeof(says), "(bits %#x)\n", forbidden[i].bit);
		CHECK_ERR("khv: vmx: ", says);
	}
	/* The same through the plain MSR. */
	cpu_skylake();
	cpu_no_true_ctls();
	set_ctx("TPR shadow forced to 1 in IA32_VMX_PROCBASED_CTLS");
	ctl_force(MSR_IA32_VMX_PROCBASED_CTLS, PROC_TPR_SHADOW);
	CHECK_EQ(probe(), -ENODEV);
	CHECK_ERR("khv: vmx: ", "this CPU forces a default-1 processor-based control");

	for (i = 0; i < ARRAY_SIZE(kept); i++) {
		cpu_skylake();
		set_ctx("%s forced to 1", kept[i].name);
		ctl_force(kept[i].msr, kept[i].bit);
		CHECK_EQ(probe(), 0);
		CHECK(*kept[i].ctls & kept[i].bit);
		CHECK_EQ(shim.nr_log, 1);
	}
}

/* IA32_VMX_BASIC[55] decides which control MSRs are read, and only those. */
static void test_true_ctls(void)
{
	static const u32 true_msrs[] = {
		MSR_IA32_VMX_TRUE_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
		MSR_IA32_VMX_TRUE_EXIT_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS,
	};
	static const u32 plain_msrs[] = {
		MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_PROCBASED_CTLS,
		MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_ENTRY_CTLS,
	};
	unsigned int i;

	/* No bit 55, no TRUE_* MSRs: the plain ones, default-1 bits and all. */
	cpu_skylake();
	cpu_no_true_ctls();
	set_ctx("BASIC[55] clear, TRUE_* absent");
	CHECK_EQ(probe(), 0);
	CHECK_INFO("true controls 0,");
	CHECK_EQ(absent_msr_reads(), 0);
	for (i = 0; i < 4; i++) {
		CHECK_EQ(shim_msr_reads(true_msrs[i]), 0);
		CHECK_EQ(shim_msr_reads(plain_msrs[i]), 1);
	}
	CHECK_EQ(vmx_caps.pin, expect_ctls(SKL_PIN, REQ_PIN | PIN_PREEMPTION_TIMER, 0));
	CHECK_EQ(vmx_caps.proc, expect_ctls(SKL_PROC, REQ_PROC | OPT_PROC, RUNTIME_PROC));
	CHECK_EQ(vmx_caps.exit, expect_ctls(SKL_EXIT, REQ_EXIT, 0));
	CHECK_EQ(vmx_caps.entry, expect_ctls(SKL_ENTRY, REQ_ENTRY, RUNTIME_ENTRY));
	/* Default-1 bits the TRUE MSR would have let go. */
	CHECK_EQ(vmx_caps.proc & (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING),
		 PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING);

	/* No bit 55, TRUE_* present but refusing everything: not read. */
	cpu_skylake();
	shim_msr_set(MSR_IA32_VMX_BASIC, SKL_BASIC & ~VMX_BASIC_TRUE);
	for (i = 0; i < 4; i++)
		shim_msr_set(true_msrs[i], 0);
	set_ctx("BASIC[55] clear, TRUE_* would refuse");
	CHECK_EQ(probe(), 0);
	for (i = 0; i < 4; i++)
		CHECK_EQ(shim_msr_reads(true_msrs[i]), 0);

	/* Bit 55, plain MSRs refusing everything: not read. */
	cpu_skylake();
	for (i = 0; i < 4; i++)
		shim_msr_set(plain_msrs[i], 0);
	set_ctx("BASIC[55] set, plain MSRs would refuse");
	CHECK_EQ(probe(), 0);
	CHECK_INFO("true controls 1,");
	for (i = 0; i < 4; i++)
		CHECK_EQ(shim_msr_reads(plain_msrs[i]), 0);
	CHECK_EQ(vmx_caps.proc & (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING), 0);

	/* Bit 55: the TRUE MSR decides, whatever the plain one says. */
	cpu_skylake();
	set_ctx("BASIC[55] set, TRUE_PROCBASED without HLT exiting");
	ctl_disallow(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, PROC_HLT_EXITING);
	CHECK_EQ(probe(), -ENODEV);
	CHECK_ERR("this CPU lacks HLT exiting\n");

	cpu_skylake();
	cpu_no_true_ctls();
	for (i = 0; i < 4; i++)
		shim_msr_set(true_msrs[i], shim_msr_get(plain_msrs[i]));
	set_ctx("BASIC[55] clear, PROCBASED without HLT exiting, TRUE_PROCBASED with");
	ctl_disallow(MSR_IA32_VMX_PROCBASED_CTLS, PROC_HLT_EXITING);
	CHECK_EQ(probe(), -ENODEV);
	CHECK_ERR("this CPU lacks HLT exiting\n");
}

/* The secondary controls and EPT/VPID capability MSRs exist only conditionally. */
static void test_secondary(void)
{
	cpu_skylake();
	set_ctx("no secondary controls");
	ctl_disallow(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, PROC_SECONDARY_CTLS);
	ctl_disallow(MSR_IA32_VMX_PROCBASED_CTLS, PROC_SECONDARY_CTLS);
	shim_msr_fault(MSR_IA32_VMX_PROCBASED_CTLS2);
	shim_msr_fault(MSR_IA32_VMX_EPT_VPID_CAP);
	CHECK_EQ(probe(), -ENODEV);
	CHECK_ERR("this CPU lacks activate secondary controls\n");
	CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_PROCBASED_CTLS2), 0);
	CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_EPT_VPID_CAP), 0);
	CHECK_EQ(absent_msr_reads(), 0);

	/* Secondary controls without EPT or VPID: no EPT/VPID capability MSR. */
	cpu_skylake();
	set_ctx("secondary controls without EPT or VPID");
	ctl_disallow(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_EPT | PROC2_VPID);
	shim_msr_fault(MSR_IA32_VMX_EPT_VPID_CAP);
	CHECK_EQ(probe(), -ENODEV);
	CHECK_ERR("this CPU lacks enable EPT\n");
	CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_PROCBASED_CTLS2), 1);
	CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_EPT_VPID_CAP), 0);
	CHECK_EQ(absent_msr_reads(), 0);

	/* VPID alone is enough for the MSR to exist (EPT is still required). */
	cpu_skylake();
	set_ctx("secondary controls with VPID, without EPT");
	ctl_disallow(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_EPT);
	CHECK_EQ(probe(), -ENODEV);
	CHECK_ERR("this CPU lacks enable EPT\n");
	CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_EPT_VPID_CAP), 1);

	/* EPT alone, likewise; no VPID then. */
	cpu_skylake();
	set_ctx("secondary controls with EPT, without VPID");
	ctl_disallow(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_VPID);
	CHECK_EQ(probe(), 0);
	CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_EPT_VPID_CAP), 1);
	CHECK(!vmx_caps.vpid);
	CHECK(!(vmx_caps.proc2 & PROC2_VPID));
	CHECK_INFO("VPID 0,");

	/* The secondary controls MSR faulting reads as no secondary control. */
	cpu_skylake();
	set_ctx("PROCBASED_CTLS2 faults");
	shim_msr_fault(MSR_IA32_VMX_PROCBASED_CTLS2);
	CHECK_EQ(probe(), -ENODEV);
	CHECK_ERR("this CPU lacks enable EPT\n");
	CHECK_EQ(shim_msr_reads(MSR_IA32_VMX_EPT_VPID_CAP), 0);
}

static void test_ept_caps(void)
{
	static const struct {
		u64 clear;
		const char *what;
	} gaps[] = {
		{ VMX_EPT_CAP_WALK4, "4-level EPT" },
		{ VMX_EPT_CAP_WB, "write-back EPT paging structures" },
		{ VMX_EPT_CAP_2M, "2-MiB EPT pages" },
		{ VMX_EPT_CAP_INVEPT, "INVEPT" },
		{ VMX_EPT_CAP_INVEPT_SINGLE | VMX_EPT_CAP_INVEPT_ALL, "all-context INVEPT" },
		{ VMX_EPT_CAP_INVEPT_ALL, "all-context INVEPT" },
		{ ~0ULL, "4-level EPT" },
	};
	char says[120];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(gaps); i++) {
		u64 ept = SKL_EPT_VPID & ~gaps[i].clear;

		cpu_skylake();
		set_ctx("IA32_VMX_EPT_VPID_CAP %#llx", ept);
		shim_msr_set(MSR_IA32_VMX_EPT_VPID_CAP, ept);
		snprintf(says, sizeof(says), "this CPU lacks %s (IA32_VMX_EPT_VPID_CAP %#llx)\n",
			 gaps[i].what, ept);
		CHECK_EQ(probe(), -ENODEV);
		CHECK_ERR("khv: vmx: ", says);
	}

	cpu_skylake();
	set_ctx("IA32_VMX_EPT_VPID_CAP faults");
	shim_msr_fault(MSR_IA32_VMX_EPT_VPID_CAP);
	CHECK_EQ(probe(), -ENODEV);
	CHECK_ERR("khv: vmx: ", "this CPU lacks 4-level EPT (IA32_VMX_EPT_VPID_CAP 0)\n");

	/* All-context INVEPT is needed (after VMXON); single-context is optional. */
	cpu_skylake();
	set_ctx("all-context INVEPT only");
	msr_and_not(MSR_IA32_VMX_EPT_VPID_CAP, VMX_EPT_CAP_INVEPT_SINGLE);
	CHECK_EQ(probe(), 0);
	CHECK(!vmx_caps.invept_single);
	CHECK_EQ(vmx_caps.ept_vpid, SKL_EPT_VPID & ~VMX_EPT_CAP_INVEPT_SINGLE);

	/* Optional: A/D flags, 1-GiB pages; 5-level is only reported. */
	cpu_skylake();
	set_ctx("no EPT A/D flags, no 1-GiB pages");
	msr_and_not(MSR_IA32_VMX_EPT_VPID_CAP, VMX_EPT_CAP_AD | VMX_EPT_CAP_1G);
	CHECK_EQ(probe(), 0);
	CHECK(!vmx_caps.ept_ad);
	CHECK(!vmx_caps.pml);		/* PML logs dirty flags: none without A/D */
	CHECK_INFO("EPT A/D 0, PML 0,");

	cpu_skylake();
	set_ctx("no PML");
	ctl_disallow(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_PML);
	CHECK_EQ(probe(), 0);
	CHECK(vmx_caps.ept_ad);
	CHECK(!vmx_caps.pml);
	CHECK_INFO("EPT A/D 1, PML 0,");

	cpu_skylake();
	set_ctx("5-level EPT");
	msr_or(MSR_IA32_VMX_EPT_VPID_CAP, VMX_EPT_CAP_WALK5);
	CHECK_EQ(probe(), 0);
	CHECK_INFO("5-level EPT 1,");
}

static void test_vpid(void)
{
	static const struct {
		u64 clear;
		bool vpid, single;
		const char *what;
	} cases[] = {
		{ 0, true, true, "INVVPID of every type" },
		{ VMX_VPID_CAP_INVVPID, false, true, "no INVVPID" },
		{ VMX_VPID_CAP_SINGLE | VMX_VPID_CAP_ALL, false, false,
		  "INVVPID individual-address and single-context-retaining-globals only" },
		{ VMX_VPID_CAP_ALL, false, true, "single-context INVVPID only" },
		{ VMX_VPID_CAP_SINGLE, true, false, "all-context INVVPID only" },
		{ VMX_VPID_CAP_INVVPID | VMX_VPID_CAP_SINGLE | VMX_VPID_CAP_ALL | BIT_ULL(40) |
		  BIT_ULL(43), false, false, "no INVVPID at all" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		cpu_skylake();
		set_ctx("%s", cases[i].what);
		msr_and_not(MSR_IA32_VMX_EPT_VPID_CAP, cases[i].clear);
		CHECK_EQ(probe(), 0);
		CHECK_EQ(vmx_caps.vpid, cases[i].vpid);
		CHECK_EQ(!!(vmx_caps.proc2 & PROC2_VPID), cases[i].vpid);
		CHECK_EQ(vmx_caps.invvpid_single, cases[i].single);
		if (cases[i].vpid)
			CHECK_INFO("VPID 1,");
		else
			CHECK_INFO("VPID 0,");
	}

	/* INVVPID, but the control not allowed. */
	cpu_skylake();
	set_ctx("INVVPID without the enable-VPID control");
	ctl_disallow(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_VPID);
	CHECK_EQ(probe(), 0);
	CHECK(!vmx_caps.vpid);
	CHECK(!(vmx_caps.proc2 & PROC2_VPID));
}

static void test_invpcid(void)
{
	cpu_skylake();
	set_ctx("host and CPU have INVPCID");
	CHECK_EQ(probe(), 0);
	CHECK(vmx_caps.proc2 & PROC2_INVPCID);

	cpu_skylake();
	set_ctx("host without INVPCID");
	shim_set_feature(X86_FEATURE_INVPCID, false);
	CHECK_EQ(probe(), 0);
	CHECK(!(vmx_caps.proc2 & PROC2_INVPCID));
	CHECK_EQ(vmx_caps.proc2, (REQ_PROC2 | OPT_PROC2) & ~PROC2_INVPCID);

	cpu_skylake();
	set_ctx("host with INVPCID, control not allowed");
	ctl_disallow(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_INVPCID);
	CHECK_EQ(probe(), 0);
	CHECK(!(vmx_caps.proc2 & PROC2_INVPCID));
}

/*
 * "enable RDTSCP": set when the host has RDTSCP and the CPU allows it; it
 * is what lets CPUID offer RDTSCP and RDPID (vmx_caps.rdtscp).  Descriptor-
 * table exiting is only noted (study mode sets it).
 */
static void test_rdtscp(void)
{
	cpu_skylake();
	set_ctx("host and CPU have RDTSCP");
	CHECK_EQ(probe(), 0);
	CHECK(vmx_caps.proc2 & PROC2_RDTSCP);
	CHECK(vmx_caps.rdtscp);
	CHECK(vmx_caps.desc_exiting);
	CHECK(!(vmx_caps.proc2 & PROC2_DESC_EXITING));

	cpu_skylake();
	set_ctx("host without RDTSCP");
	shim_set_feature(X86_FEATURE_RDTSCP, false);
	CHECK_EQ(probe(), 0);
	CHECK(!(vmx_caps.proc2 & PROC2_RDTSCP));
	CHECK(!vmx_caps.rdtscp);

	cpu_skylake();
	set_ctx("host with RDTSCP, control not allowed");
	ctl_disallow(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_RDTSCP | PROC2_DESC_EXITING);
	CHECK_EQ(probe(), 0);
	CHECK(!vmx_caps.rdtscp);
	CHECK(!vmx_caps.desc_exiting);
}

/* Optional controls the CPU does not offer are left out, and that is all. */
static void test_optional(void)
{
	cpu_skylake();
	set_ctx("no preemption timer");
	ctl_disallow(MSR_IA32_VMX_TRUE_PINBASED_CTLS, PIN_PREEMPTION_TIMER);
	CHECK_EQ(probe(), 0);
	CHECK(!vmx_caps.preemption_timer);
	CHECK_EQ(vmx_caps.pin, (u32)SKL_TRUE_PIN | REQ_PIN);
	CHECK_INFO("preemption timer 0,");
	CHECK_EQ(vmx_caps_setup(), 0);
	CHECK_EQ(vmx_caps.timer_value, 0);

	cpu_skylake();
	set_ctx("no PAUSE-loop exiting");
	ctl_disallow(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_PAUSE_LOOP);
	CHECK_EQ(probe(), 0);
	CHECK(!vmx_caps.pause_loop);
	CHECK(!(vmx_caps.proc2 & PROC2_PAUSE_LOOP));
	CHECK_INFO("PLE 0,");

	cpu_skylake();
	set_ctx("no MWAIT or MONITOR exiting");
	ctl_disallow(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, PROC_MWAIT_EXITING | PROC_MONITOR_EXITING);
	CHECK_EQ(probe(), 0);
	CHECK_EQ(vmx_caps.proc & (PROC_MWAIT_EXITING | PROC_MONITOR_EXITING), 0);
	CHECK(vmx_caps.proc & PROC_HLT_EXITING);

	cpu_skylake();
	set_ctx("no WBINVD or ENCLS exiting");
	ctl_disallow(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_WBINVD_EXITING | PROC2_ENCLS_EXITING);
	CHECK_EQ(probe(), 0);
	CHECK_EQ(vmx_caps.proc2, (REQ_PROC2 | OPT_PROC2) &
		 ~(PROC2_WBINVD_EXITING | PROC2_ENCLS_EXITING));

	cpu_skylake();
	set_ctx("no INS/OUTS instruction information");
	msr_and_not(MSR_IA32_VMX_BASIC, VMX_BASIC_IO_INFO);
	CHECK_EQ(probe(), 0);
	CHECK(!vmx_caps.insn_info_io);
	CHECK_INFO("INS/OUTS info 0\n");

	/* A control MSR that faults reads as "nothing allowed". */
	cpu_skylake();
	set_ctx("TRUE_PINBASED_CTLS faults");
	shim_msr_fault(MSR_IA32_VMX_TRUE_PINBASED_CTLS);
	CHECK_EQ(probe(), -ENODEV);
	CHECK_ERR("this CPU lacks external-interrupt exiting\n");
}

/* Probe the good CPU with this MISC and tsc_khz, then set up. */
static void setup_timer(u64 misc, unsigned int khz)
{
	cpu_skylake();
	shim_msr_set(MSR_IA32_VMX_MISC, misc);
	tsc_khz = khz;
	set_ctx("MISC %#llx, tsc_khz %u", misc, khz);
	CHECK_EQ(probe(), 0);
	CHECK_EQ(vmx_caps_setup(), 0);
}

static void test_timer(void)
{
	setup_timer(SKL_MISC, 3400000);
	CHECK_EQ(vmx_caps.timer_value, 265625);
	/* Only bits 4:0 are the rate. */
	setup_timer(0xffffffe5ULL, 3400000);
	CHECK_EQ(vmx_caps.timer_value, 34000000 >> 5);
	setup_timer(0xffffffffffffffe0ULL, 2000000);
	CHECK_EQ(vmx_caps.timer_value, 20000000);
	/* tsc_khz unknown: 1 GHz. */
	setup_timer(SKL_MISC, 0);
	CHECK_EQ(vmx_caps.timer_value, 10000000 >> 7);
	/* Clamped to U32_MAX. */
	setup_timer(0, 4000000000U);
	CHECK_EQ(vmx_caps.timer_value, U32_MAX);
	setup_timer(0, 429496730);
	CHECK_EQ(vmx_caps.timer_value, U32_MAX);
	setup_timer(0, 429496729);
	CHECK_EQ(vmx_caps.timer_value, 4294967290U);
	setup_timer(4, 4000000000U);
	CHECK_EQ(vmx_caps.timer_value, 2500000000U);
	setup_timer(0x10, 4000000000U);
	CHECK_EQ(vmx_caps.timer_value, 40000000000ULL >> 16);
	/* Never 0. */
	setup_timer(31, 1);
	CHECK_EQ(vmx_caps.timer_value, 1);
	setup_timer(4, 1);
	CHECK_EQ(vmx_caps.timer_value, 1);
	setup_timer(3, 1);
	CHECK_EQ(vmx_caps.timer_value, 1);
	setup_timer(0, 1);
	CHECK_EQ(vmx_caps.timer_value, 10);
}

static void test_guest_masks(void)
{
	cpu_skylake();
	set_ctx("Skylake, NX");
	CHECK_EQ(probe(), 0);
	CHECK_EQ(vmx_caps_setup(), 0);
	CHECK_EQ(vmx_caps.efer_allowed, EFER_SCE | EFER_LME | EFER_LMA | EFER_NX);
	CHECK_EQ(vmx_caps.cr4_allowed, SKL_CR4_SUPPORTED);
	CHECK(!(vmx_caps.cr4_allowed & X86_CR4_VMXE));

	/* No NX in CPUID: none in EFER, whatever else the leaf says. */
	cpu_skylake();
	set_ctx("no NX");
	shim.cpuid_80000001_edx = ~(u32)BIT(20);
	CHECK_EQ(probe(), 0);
	CHECK_EQ(vmx_caps_setup(), 0);
	CHECK_EQ(vmx_caps.efer_allowed, EFER_SCE | EFER_LME | EFER_LMA);

	cpu_skylake();
	set_ctx("NX only");
	shim.cpuid_80000001_edx = BIT(20);
	CHECK_EQ(probe(), 0);
	CHECK_EQ(vmx_caps_setup(), 0);
	CHECK_EQ(vmx_caps.efer_allowed, EFER_SCE | EFER_LME | EFER_LMA | EFER_NX);

	/* What the host supports, limited by CR4_FIXED1, never VMXE. */
	cpu_skylake();
	set_ctx("host claims VMXE, LA57, UMIP, PKE");
	shim.cr4_supported = SKL_CR4_SUPPORTED | X86_CR4_VMXE | X86_CR4_LA57 |
			     X86_CR4_UMIP | X86_CR4_PKE;
	CHECK_EQ(probe(), 0);
	CHECK_EQ(vmx_caps_setup(), 0);
	CHECK_EQ(vmx_caps.cr4_allowed, SKL_CR4_SUPPORTED);

	cpu_skylake();
	set_ctx("CR4_FIXED1 all ones, host claims everything");
	shim_msr_set(MSR_IA32_VMX_CR4_FIXED1, ~0ULL);
	shim.cr4_supported = ~0ULL;
	CHECK_EQ(probe(), 0);
	CHECK_EQ(vmx_caps_setup(), 0);
	CHECK_EQ(vmx_caps.cr4_allowed, ~(u64)X86_CR4_VMXE);

	cpu_skylake();
	set_ctx("CR4_FIXED1 without SMAP and SMEP");
	shim_msr_set(MSR_IA32_VMX_CR4_FIXED1, SKL_CR4_FIXED1 & ~(X86_CR4_SMAP | X86_CR4_SMEP));
	CHECK_EQ(probe(), 0);
	CHECK_EQ(vmx_caps_setup(), 0);
	CHECK_EQ(vmx_caps.cr4_allowed, SKL_CR4_SUPPORTED & ~(X86_CR4_SMAP | X86_CR4_SMEP));
}

static void test_hw_cr(void)
{
	cpu_skylake();
	CHECK_EQ(probe(), 0);

	/* RESET CR0 (CD NW ET): NE added, CD and NW gone, not PE or PG. */
	set_ctx("Skylake fixed bits");
	CHECK_EQ(vmx_hw_cr0(X86_CR0_CD | X86_CR0_NW | X86_CR0_ET), X86_CR0_ET | X86_CR0_NE);
	CHECK_EQ(vmx_hw_cr0(0), X86_CR0_NE);
	CHECK_EQ(vmx_hw_cr0(X86_CR0_PE), X86_CR0_PE | X86_CR0_NE);
	CHECK_EQ(vmx_hw_cr0(X86_CR0_PE | X86_CR0_PG | X86_CR0_WP | X86_CR0_ET | X86_CR0_TS),
		 X86_CR0_PE | X86_CR0_PG | X86_CR0_WP | X86_CR0_ET | X86_CR0_TS | X86_CR0_NE);
	CHECK_EQ(vmx_hw_cr0(X86_CR0_PE | X86_CR0_PG | X86_CR0_CD),
		 X86_CR0_PE | X86_CR0_PG | X86_CR0_NE);
	/* Above what FIXED1 allows. */
	CHECK_EQ(vmx_hw_cr0(BIT_ULL(32) | X86_CR0_PE), X86_CR0_PE | X86_CR0_NE);

	CHECK_EQ(vmx_hw_cr4(0), X86_CR4_VMXE);
	CHECK_EQ(vmx_hw_cr4(X86_CR4_PAE | X86_CR4_PGE), X86_CR4_PAE | X86_CR4_PGE | X86_CR4_VMXE);
	CHECK_EQ(vmx_hw_cr4(X86_CR4_PAE | X86_CR4_LA57 | X86_CR4_UMIP),
		 X86_CR4_PAE | X86_CR4_VMXE);

	/* Other fixed bits are applied too; PE and PG still not forced. */
	cpu_skylake();
	shim_msr_set(MSR_IA32_VMX_CR0_FIXED0, SKL_CR0_FIXED0 | X86_CR0_WP);
	shim_msr_set(MSR_IA32_VMX_CR0_FIXED1, SKL_CR0_FIXED1 & ~X86_CR0_AM);
	shim_msr_set(MSR_IA32_VMX_CR4_FIXED0, SKL_CR4_FIXED0 | X86_CR4_SMXE);
	shim_msr_set(MSR_IA32_VMX_CR4_FIXED1, SKL_CR4_FIXED1 & ~X86_CR4_SMAP);
	set_ctx("other fixed bits");
	CHECK_EQ(probe(), 0);
	CHECK_EQ(vmx_hw_cr0(X86_CR0_AM | X86_CR0_CD), X86_CR0_WP | X86_CR0_NE);
	CHECK_EQ(vmx_hw_cr0(X86_CR0_PE | X86_CR0_PG), X86_CR0_PE | X86_CR0_PG | X86_CR0_WP |
		 X86_CR0_NE);
	CHECK_EQ(vmx_hw_cr4(X86_CR4_SMAP | X86_CR4_PAE), X86_CR4_PAE | X86_CR4_VMXE | X86_CR4_SMXE);
}

static const struct {
	const char *name;
	void (*fn)(void);
} groups[] = {
	{ "vmcs.h against the SDM", test_vmcs_h },
	{ "the Skylake-class model", test_model },
	{ "good CPU: controls, flags, one info line", test_good_cpu },
	{ "firmware lock (IA32_FEATURE_CONTROL)", test_firmware_lock },
	{ "IA32_VMX_BASIC", test_basic },
	{ "tables of required controls", test_required_tables },
	{ "each required control missing", test_required_missing },
	{ "forbidden and must-be-1 controls", test_forced },
	{ "TRUE_* or plain control MSRs", test_true_ctls },
	{ "secondary controls and EPT/VPID capability MSRs", test_secondary },
	{ "EPT capabilities", test_ept_caps },
	{ "VPID and INVVPID", test_vpid },
	{ "INVPCID for guests", test_invpcid },
	{ "RDTSCP for guests", test_rdtscp },
	{ "other optional controls", test_optional },
	{ "vmx_caps_setup(): preemption timer", test_timer },
	{ "vmx_caps_setup(): guest CR4 and EFER", test_guest_masks },
	{ "vmx_hw_cr0(), vmx_hw_cr4()", test_hw_cr },
};

int main(void)
{
	unsigned int i, p0, f0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%zu\n", ARRAY_SIZE(groups));
	for (i = 0; i < ARRAY_SIZE(groups); i++) {
		p0 = passed;
		f0 = failed;
		ctx[0] = '\0';
		groups[i].fn();
		printf("%s %u - %s (%u checks%s)\n", failed == f0 ? "ok" : "not ok", i + 1,
		       groups[i].name, passed - p0 + failed - f0,
		       failed == f0 ? "" : ", some failed");
	}
	if (failed)
		printf("vmx_caps selftest: %u of %u checks failed\n", failed, passed + failed);
	else
		printf("vmx_caps selftest: all tests passed (%zu groups, %u checks)\n",
		       ARRAY_SIZE(groups), passed);
	return failed ? 1 : 0;
}
