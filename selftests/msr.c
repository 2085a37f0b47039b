// SPDX-License-Identifier: GPL-2.0
/*
 * msr: RDMSR/WRMSR from a guest (lib/server.S) and KHV_GET/SET_MSRS;
 * the machine-check banks and AMD's HWCR that khv emulates.
 *
 * MSRs khv allows work from the guest and their values are what
 * KHV_GET_MSRS reports; an MSR khv refuses, or a value it refuses, raises
 * #GP(0) in the guest (the server's #GP handler reports vector and error
 * code, then resumes).  KHV_GET/SET_MSRS return the number of entries
 * processed: they stop at the first unsupported index or refused value.
 */
#include <sys/ioctl.h>

#include "khvt_harness.h"

#define MSR_IA32_TSC		0x00000010
#define MSR_IA32_SYSENTER_CS	0x00000174
#define MSR_IA32_CR_PAT		0x00000277
#define MSR_IA32_VMX_BASIC	0x00000480
#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_VM_HSAVE_PA		0xc0010117
#define MSR_BOGUS		0xdeadbeef
#define MSR_IA32_MCG_CAP	0x00000179
#define MSR_IA32_MCG_STATUS	0x0000017a
#define MSR_IA32_MCG_CTL	0x0000017b
#define MSR_MC_CTL(i)		(0x00000400 + 4 * (i))
#define MSR_MC_STATUS(i)	(0x00000401 + 4 * (i))
#define MSR_MC_ADDR(i)		(0x00000402 + 4 * (i))
#define MSR_MC_MISC(i)		(0x00000403 + 4 * (i))
#define MSR_K7_HWCR		0xc0010015

#define MCE_BANKS		10	/* core/mce.c: KHV_MCE_BANKS */
#define MCG_CTL_P		(1ull << 8)
#define HWCR_MCSTATUSWREN	(1ull << 18)
#define HWCR_TSCFREQSEL		(1ull << 24)
#define CPUID1_EDX_MCE		(1u << 7)
#define CPUID1_EDX_MCA		(1u << 14)

#define EFER_LME		(1ull << 8)
#define EFER_LMA		(1ull << 10)
#define EFER_SVME		(1ull << 12)

#define STAR_VAL		0x0023001000000000ull
#define LSTAR_VAL		0xffffffff81000000ull
#define SYSENTER_CS_VAL		0x10ull
#define PAT_VAL			0x0000000100040506ull	/* types 6,5,4,0,1,0,0,0 */
#define PAT_BAD			0x0000000000000002ull	/* type 2 is reserved */

/* RDMSR in the guest must succeed. */
static uint64_t guest_rdmsr(KHVT_MD, struct khvt_vm *t, uint32_t idx)
{
	uint32_t err = 0;
	uint64_t v = 0;
	unsigned int vec = srv_rdmsr(t, idx, &v, &err);

	if (vec)
		KHVT_FAIL("guest RDMSR %#x raised %s (error code %#x)", idx,
			  khvt_vector_name(vec), err);
	return v;
}

static void guest_wrmsr(KHVT_MD, struct khvt_vm *t, uint32_t idx, uint64_t val)
{
	uint32_t err = 0;
	unsigned int vec = srv_wrmsr(t, idx, val, &err);

	if (vec)
		KHVT_FAIL("guest WRMSR %#x <- %#llx raised %s (error code %#x)", idx,
			  (unsigned long long)val, khvt_vector_name(vec), err);
}

/* RDMSR / WRMSR in the guest must raise #GP(0). */
static void guest_msr_gp(KHVT_MD, struct khvt_vm *t, bool write, uint32_t idx, uint64_t val)
{
	uint32_t err = 0xffffffff;
	unsigned int vec;
	uint64_t got = 0;

	vec = write ? srv_wrmsr(t, idx, val, &err) : srv_rdmsr(t, idx, &got, &err);
	if (!vec)
		KHVT_FAIL("guest %s %#x succeeded (value %#llx), expected #GP", write ? "WRMSR" : "RDMSR",
			  idx, (unsigned long long)(write ? val : got));
	EXPECT_EQ(13u, vec) TH_LOG("%s %#x: vector %u", write ? "WRMSR" : "RDMSR", idx, vec);
	EXPECT_EQ(0u, err) TH_LOG("%s %#x: #GP error code %#x", write ? "WRMSR" : "RDMSR", idx, err);
}

static uint64_t host_get(KHVT_MD, struct khvt_vm *t, uint32_t idx)
{
	uint64_t v = 0;
	int r = khv_vcpu_get_msr(&t->vcpu, idx, &v);

	ASSERT_EQ(0, r) TH_LOG("KHV_GET_MSRS %#x: %s", idx, strerror(-r));
	return v;
}

/* Raw KHV_GET_MSRS / KHV_SET_MSRS over n entries; returns ioctl()'s value. */
static int msrs_ioctl(int fd, unsigned long req, const uint32_t *idx, uint64_t *data, uint32_t n)
{
	struct khv_msrs *m = calloc(1, sizeof(*m) + n * sizeof(m->entries[0]));
	uint32_t i;
	int r;

	if (!m)
		return -1;
	m->nmsrs = n;
	for (i = 0; i < n; i++) {
		m->entries[i].index = idx[i];
		m->entries[i].data = data[i];
	}
	r = ioctl(fd, req, m);
	for (i = 0; i < n; i++)
		data[i] = m->entries[i].data;
	free(m);
	return r;
}

TEST(guest_allowed)
{
	struct khvt_vm t;
	uint64_t efer, tsc1, tsc2;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, server64);
	srv_catch_gp(&t);

	guest_wrmsr(_metadata, &t, MSR_STAR, STAR_VAL);
	guest_wrmsr(_metadata, &t, MSR_LSTAR, LSTAR_VAL);
	guest_wrmsr(_metadata, &t, MSR_IA32_SYSENTER_CS, SYSENTER_CS_VAL);
	guest_wrmsr(_metadata, &t, MSR_IA32_CR_PAT, PAT_VAL);
	EXPECT_VAL("guest RDMSR STAR", STAR_VAL, guest_rdmsr(_metadata, &t, MSR_STAR));
	EXPECT_VAL("guest RDMSR LSTAR", LSTAR_VAL, guest_rdmsr(_metadata, &t, MSR_LSTAR));
	EXPECT_VAL("guest RDMSR SYSENTER_CS", SYSENTER_CS_VAL,
		   guest_rdmsr(_metadata, &t, MSR_IA32_SYSENTER_CS));
	EXPECT_VAL("guest RDMSR PAT", PAT_VAL, guest_rdmsr(_metadata, &t, MSR_IA32_CR_PAT));

	efer = guest_rdmsr(_metadata, &t, MSR_EFER);
	EXPECT_VAL("guest EFER.LME|LMA", EFER_LME | EFER_LMA, efer & (EFER_LME | EFER_LMA));
	EXPECT_VAL("guest EFER.SVME (hidden from the guest)", 0, efer & EFER_SVME);

	tsc1 = guest_rdmsr(_metadata, &t, MSR_IA32_TSC);
	tsc2 = guest_rdmsr(_metadata, &t, MSR_IA32_TSC);
	EXPECT_NE(0ull, (unsigned long long)tsc1);
	EXPECT_LT(tsc1, tsc2) TH_LOG("TSC went from %#llx to %#llx", (unsigned long long)tsc1,
				     (unsigned long long)tsc2);
	srv_halt(&t);

	EXPECT_VAL("KHV_GET_MSRS STAR", STAR_VAL, host_get(_metadata, &t, MSR_STAR));
	EXPECT_VAL("KHV_GET_MSRS LSTAR", LSTAR_VAL, host_get(_metadata, &t, MSR_LSTAR));
	EXPECT_VAL("KHV_GET_MSRS SYSENTER_CS", SYSENTER_CS_VAL,
		   host_get(_metadata, &t, MSR_IA32_SYSENTER_CS));
	EXPECT_VAL("KHV_GET_MSRS PAT", PAT_VAL, host_get(_metadata, &t, MSR_IA32_CR_PAT));
	EXPECT_VAL("KHV_GET_MSRS EFER.LME|LMA", EFER_LME | EFER_LMA,
		   host_get(_metadata, &t, MSR_EFER) & (EFER_LME | EFER_LMA));
	khvt_destroy(&t);
}

TEST(guest_refused)
{
	struct khvt_vm t;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, server64);
	srv_catch_gp(&t);

	guest_msr_gp(_metadata, &t, false, MSR_BOGUS, 0);
	guest_msr_gp(_metadata, &t, true, MSR_BOGUS, 1);
	guest_msr_gp(_metadata, &t, false, MSR_IA32_VMX_BASIC, 0);
	guest_msr_gp(_metadata, &t, false, MSR_VM_HSAVE_PA, 0);
	guest_msr_gp(_metadata, &t, true, MSR_VM_HSAVE_PA, 0x100000);
	guest_msr_gp(_metadata, &t, true, MSR_IA32_CR_PAT, PAT_BAD);
	/* The refused write left PAT alone, and the guest carries on. */
	EXPECT_NE(PAT_BAD, guest_rdmsr(_metadata, &t, MSR_IA32_CR_PAT));
	guest_wrmsr(_metadata, &t, MSR_STAR, STAR_VAL);
	srv_halt(&t);
	khvt_destroy(&t);
}

TEST(host_get_set_count)
{
	uint32_t idx[4];
	uint64_t data[4], v;
	struct khvt_vm t;
	int fd;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, server64);
	fd = t.vcpu.fd;

	/* SET stops at the refused value (entry 1) and at the unknown index. */
	idx[0] = MSR_STAR; data[0] = STAR_VAL;
	idx[1] = MSR_IA32_CR_PAT; data[1] = PAT_BAD;
	idx[2] = MSR_LSTAR; data[2] = LSTAR_VAL;
	EXPECT_EQ(1, msrs_ioctl(fd, KHV_SET_MSRS, idx, data, 3));
	idx[0] = MSR_IA32_CR_PAT; data[0] = PAT_VAL;
	idx[1] = MSR_LSTAR; data[1] = LSTAR_VAL;
	idx[2] = MSR_BOGUS; data[2] = 0;
	idx[3] = MSR_IA32_SYSENTER_CS; data[3] = SYSENTER_CS_VAL;
	EXPECT_EQ(2, msrs_ioctl(fd, KHV_SET_MSRS, idx, data, 4));
	EXPECT_EQ(0, msrs_ioctl(fd, KHV_SET_MSRS, idx, data, 0));

	/* GET stops at the unknown index. */
	idx[0] = MSR_STAR; idx[1] = MSR_LSTAR; idx[2] = MSR_BOGUS; idx[3] = MSR_IA32_CR_PAT;
	memset(data, 0, sizeof(data));
	EXPECT_EQ(2, msrs_ioctl(fd, KHV_GET_MSRS, idx, data, 4));
	EXPECT_VAL("KHV_GET_MSRS STAR (set by the first KHV_SET_MSRS)", STAR_VAL, data[0]);
	EXPECT_VAL("KHV_GET_MSRS LSTAR", LSTAR_VAL, data[1]);
	idx[0] = MSR_BOGUS;
	EXPECT_EQ(0, msrs_ioctl(fd, KHV_GET_MSRS, idx, data, 1));
	idx[0] = MSR_IA32_CR_PAT; idx[1] = MSR_IA32_SYSENTER_CS;
	EXPECT_EQ(2, msrs_ioctl(fd, KHV_GET_MSRS, idx, data, 2));
	EXPECT_VAL("KHV_GET_MSRS PAT", PAT_VAL, data[0]);
	EXPECT_NE(SYSENTER_CS_VAL, data[1]) TH_LOG("SYSENTER_CS was after the refused entry");

	/* The libkhv one-MSR wrappers map a short count to -ENOENT / -EINVAL. */
	EXPECT_EQ(-ENOENT, khv_vcpu_get_msr(&t.vcpu, MSR_BOGUS, &v));
	EXPECT_EQ(-EINVAL, khv_vcpu_set_msr(&t.vcpu, MSR_IA32_CR_PAT, PAT_BAD));

	/* The guest sees what the host set. */
	srv_catch_gp(&t);
	EXPECT_VAL("guest RDMSR STAR after KHV_SET_MSRS", STAR_VAL,
		   guest_rdmsr(_metadata, &t, MSR_STAR));
	EXPECT_VAL("guest RDMSR PAT after KHV_SET_MSRS", PAT_VAL,
		   guest_rdmsr(_metadata, &t, MSR_IA32_CR_PAT));
	srv_halt(&t);
	khvt_destroy(&t);
}

/*
 * Machine-check architecture (core/mce.c): CPUID offers MCE and MCA, the
 * banks hold what software writes under the SDM's rules and never report
 * an error, and AMD's HWCR.McStatusWrEn makes MCi_STATUS writable.
 */
TEST(machine_check_banks)
{
	struct khv_cpuid_entry *e = calloc(KHV_MAX_CPUID_ENTRIES, sizeof(*e));
	const uint32_t last = MCE_BANKS - 1;
	uint32_t idx[2], i, n = 0;
	uint64_t data[2];
	struct khvt_vm t;
	uint32_t regs[4];

	ASSERT_NE(NULL, e);
	VM_WITH_PAYLOAD(&t, KHVT_LONG, server64);
	srv_catch_gp(&t);

	srv_cpuid(&t, 1, 0, regs);
	EXPECT_VAL("guest CPUID.1 EDX MCE|MCA", CPUID1_EDX_MCE | CPUID1_EDX_MCA,
		   regs[3] & (CPUID1_EDX_MCE | CPUID1_EDX_MCA));
	EXPECT_VAL("guest MCG_CAP", MCE_BANKS | MCG_CTL_P,
		   guest_rdmsr(_metadata, &t, MSR_IA32_MCG_CAP));
	guest_msr_gp(_metadata, &t, true, MSR_IA32_MCG_CAP, MCE_BANKS | MCG_CTL_P);

	/* What Linux's machine-check setup writes, read back. */
	guest_wrmsr(_metadata, &t, MSR_IA32_MCG_CTL, ~0ull);
	EXPECT_VAL("guest MCG_CTL", ~0ull, guest_rdmsr(_metadata, &t, MSR_IA32_MCG_CTL));
	guest_msr_gp(_metadata, &t, true, MSR_IA32_MCG_CTL, 1);
	for (i = 0; i < MCE_BANKS; i++) {
		guest_wrmsr(_metadata, &t, MSR_MC_CTL(i), ~0ull - i);
		guest_wrmsr(_metadata, &t, MSR_MC_STATUS(i), 0);
	}
	EXPECT_VAL("guest MC0_CTL", ~0ull, guest_rdmsr(_metadata, &t, MSR_MC_CTL(0)));
	EXPECT_VAL("guest MC9_CTL", ~0ull - last, guest_rdmsr(_metadata, &t, MSR_MC_CTL(last)));
	EXPECT_VAL("guest MC9_STATUS (no error ever)", 0,
		   guest_rdmsr(_metadata, &t, MSR_MC_STATUS(last)));
	EXPECT_VAL("guest MC9_MISC", 0, guest_rdmsr(_metadata, &t, MSR_MC_MISC(last)));
	/* One bank too far, and the registers software may only clear. */
	guest_msr_gp(_metadata, &t, false, MSR_MC_CTL(MCE_BANKS), 0);
	guest_msr_gp(_metadata, &t, true, MSR_MC_STATUS(1), 1);
	guest_msr_gp(_metadata, &t, true, MSR_MC_ADDR(1), 0x1000);
	guest_msr_gp(_metadata, &t, true, MSR_MC_MISC(1), 1);
	guest_wrmsr(_metadata, &t, MSR_IA32_MCG_STATUS, 7);	/* RIPV EIPV MCIP */
	guest_msr_gp(_metadata, &t, true, MSR_IA32_MCG_STATUS, 8);	/* LMCE_S: no LMCE */
	guest_wrmsr(_metadata, &t, MSR_IA32_MCG_STATUS, 0);

	/* HWCR: TscFreqSel set and fixed; McStatusWrEn opens MCi_STATUS. */
	EXPECT_VAL("guest HWCR", HWCR_TSCFREQSEL, guest_rdmsr(_metadata, &t, MSR_K7_HWCR));
	guest_msr_gp(_metadata, &t, true, MSR_K7_HWCR, 0);
	guest_msr_gp(_metadata, &t, true, MSR_K7_HWCR, HWCR_TSCFREQSEL | 1);
	guest_wrmsr(_metadata, &t, MSR_K7_HWCR, HWCR_TSCFREQSEL | HWCR_MCSTATUSWREN);
	guest_wrmsr(_metadata, &t, MSR_MC_STATUS(2), 0x8000000000000001ull);
	EXPECT_VAL("guest MC2_STATUS (McStatusWrEn)", 0x8000000000000001ull,
		   guest_rdmsr(_metadata, &t, MSR_MC_STATUS(2)));
	guest_msr_gp(_metadata, &t, true, MSR_MC_ADDR(2), 1);
	guest_wrmsr(_metadata, &t, MSR_K7_HWCR, HWCR_TSCFREQSEL);
	guest_msr_gp(_metadata, &t, true, MSR_MC_STATUS(2), 2);
	srv_halt(&t);

	/* The VMM reads and writes every bank (a restore, an injection). */
	EXPECT_VAL("KHV_GET_MSRS MC2_STATUS", 0x8000000000000001ull,
		   host_get(_metadata, &t, MSR_MC_STATUS(2)));
	KHV_OK(khv_vcpu_set_msr(&t.vcpu, MSR_MC_ADDR(3), 0x123000));
	KHV_OK(khv_vcpu_set_msr(&t.vcpu, MSR_IA32_MCG_CAP, MCE_BANKS | MCG_CTL_P));
	EXPECT_EQ(-EINVAL, khv_vcpu_set_msr(&t.vcpu, MSR_IA32_MCG_CAP, 4 | MCG_CTL_P));
	EXPECT_EQ(-EINVAL, khv_vcpu_set_msr(&t.vcpu, MSR_K7_HWCR, 1));
	idx[0] = MSR_IA32_MCG_CTL; data[0] = 2;
	idx[1] = MSR_MC_CTL(0); data[1] = 0;
	EXPECT_EQ(0, msrs_ioctl(t.vcpu.fd, KHV_SET_MSRS, idx, data, 2));
	srv_catch_gp(&t);
	EXPECT_VAL("guest MC3_ADDR after KHV_SET_MSRS", 0x123000,
		   guest_rdmsr(_metadata, &t, MSR_MC_ADDR(3)));

	/* A CPUID without MCA: no machine-check MSRs at all. */
	KHV_OK(khv_vcpu_get_cpuid(&t.vcpu, e, KHV_MAX_CPUID_ENTRIES, &n));
	for (i = 0; i < n; i++)
		if (e[i].function == 1)
			e[i].edx &= ~(CPUID1_EDX_MCE | CPUID1_EDX_MCA);
	KHV_OK(khv_vcpu_set_cpuid(&t.vcpu, e, n));
	guest_msr_gp(_metadata, &t, false, MSR_IA32_MCG_CAP, 0);
	guest_msr_gp(_metadata, &t, false, MSR_MC_STATUS(0), 0);
	guest_msr_gp(_metadata, &t, true, MSR_IA32_MCG_STATUS, 0);
	srv_halt(&t);
	EXPECT_EQ(-ENOENT, khv_vcpu_get_msr(&t.vcpu, MSR_IA32_MCG_CAP, &data[0]));
	free(e);
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
