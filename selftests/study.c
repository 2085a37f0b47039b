// SPDX-License-Identifier: GPL-2.0
/*
 * study: study mode (KHV_SET_STUDY, KHV_EXIT_STUDY) on both vendors.  The
 * guest (study_guest.S) runs CPUID, RDMSR, WRMSR, RDTSC and HLT and echoes
 * what it got; the test studies some of them, checks that each arrives
 * exactly once (and only those chosen) with the right decode, answers or
 * skips or drops them, and checks what the guest saw.  Then study off:
 * nothing arrives, and the intercepts study added are gone.  Every field
 * of struct khv_study is checked, and so are the flags of the answer.
 */
#include <sys/ioctl.h>

#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(study_real);
extern const uint8_t study_cpuid1[], study_hlt[], study_hlt2[];

#define MSR_STAR	0xc0000081u
#define MSR_UNKNOWN	0x1234u

static uint64_t user_exits(KHVT_MD, struct khvt_vm *t, uint32_t reason)
{
	struct khv_exit_stat s[KHV_MAX_EXIT_STATS + KHV_EXIT_MAX + KHV_KSTAT_MAX];
	uint32_t n = 0;

	EXPECT_EQ(0, khv_vcpu_get_exit_stats(&t->vcpu, s, sizeof(s) / sizeof(s[0]), &n));
	for (uint32_t i = 0; i < n; i++)
		if (s[i].kind == KHV_STAT_USER && s[i].code == reason)
			return s[i].count;
	return 0;
}

/* The next exit is a study exit of @event at @rip (0: any). */
static struct khv_run *__expect_study(KHVT_MD, int line, struct khvt_vm *t, uint32_t event,
				      uint64_t rip)
{
	struct khv_run *run = t->vcpu.run;

	__expect_exit(_metadata, line, t, KHV_EXIT_STUDY);
	EXPECT_EQ(event, run->study.event) TH_LOG("line %d", line);
	EXPECT_EQ(0u, run->study.flags) TH_LOG("line %d: flags out", line);
	if (rip)
		EXPECT_EQ(rip, run->study.rip) TH_LOG("line %d", line);
	return run;
}
#define expect_study(t, ev, rip) __expect_study(_metadata, __LINE__, (t), (ev), (rip))

TEST(events)
{
	struct khv_study s = { 0 }, got;
	struct khv_run *run;
	struct khv_regs r;
	struct khvt_vm t;
	uint64_t before;

	VM_WITH_PAYLOAD(&t, KHVT_REAL, study_real);
	REQUIRE_CAP(&t, KHV_CAP_STUDY);
	EXPECT_EQ((int)KHV_STUDY_ALL, khv_check_extension(&t.sys, KHV_CAP_STUDY));
	s.events = KHV_STUDY_ALL;
	s.nr_cpuid = 1;
	s.cpuid[0] = 1;
	s.nr_msrs = 2;
	s.msrs[0] = MSR_STAR;
	s.msrs[1] = MSR_UNKNOWN;
	KHV_OK(khv_vcpu_set_study(&t.vcpu, &s));
	KHV_OK(khv_vcpu_get_study(&t.vcpu, &got));
	EXPECT_EQ(0, memcmp(&s, &got, sizeof(s)));

	/* CPUID leaf 1 (leaf 0 passed by): dropped once, so it comes again. */
	run = expect_study(&t, KHV_STUDY_EV_CPUID, PAYLOAD_GPA(study_real, study_cpuid1) + 9);
	EXPECT_EQ(1u, run->study.cpuid.leaf);
	EXPECT_EQ(0u, run->study.cpuid.subleaf);
	EXPECT_NE(0u, run->study.cpuid.edx) TH_LOG("khv's own answer: feature bits");
	run->study.flags = KHV_STUDY_F_DROP;
	run = expect_study(&t, KHV_STUDY_EV_CPUID, PAYLOAD_GPA(study_real, study_cpuid1) + 9);
	run->study.cpuid.ebx = 0x12345678;
	EXPECT_VAL("EBX of the studied CPUID", 0x12345678, expect_out(&t, PORT_ECHO, 4));

	/* RDMSR of an MSR khv does not know: #GP, unless the test answers. */
	run = expect_study(&t, KHV_STUDY_EV_RDMSR, 0);
	EXPECT_EQ(MSR_UNKNOWN, run->study.msr.index);
	EXPECT_EQ(1u, run->study.msr.gp);
	run->study.msr.gp = 0;
	run->study.msr.value = 0xabcdef0123456789ull;
	EXPECT_VAL("EAX of the answered RDMSR", 0x23456789, expect_out(&t, PORT_ECHO, 4));
	EXPECT_VAL("EDX of the answered RDMSR", 0xabcdef01, expect_out(&t, PORT_ECHO, 4));

	/* WRMSR of STAR: done; the second one skipped. */
	run = expect_study(&t, KHV_STUDY_EV_WRMSR, 0);
	EXPECT_EQ(MSR_STAR, run->study.msr.index);
	EXPECT_EQ(0x0023001011223344ull, run->study.msr.value);
	run->study.msr.value = 0;	/* ignored: the guest's value is written */
	run = expect_study(&t, KHV_STUDY_EV_WRMSR, 0);
	EXPECT_EQ(0x0033002055667788ull, run->study.msr.value);
	before = run->study.rip;
	run->study.flags = KHV_STUDY_F_SKIP;
	run = expect_study(&t, KHV_STUDY_EV_RDMSR, 0);
	EXPECT_LT(before, run->study.rip);
	EXPECT_EQ(MSR_STAR, run->study.msr.index);
	EXPECT_EQ(0u, run->study.msr.gp);
	EXPECT_EQ(0x0023001011223344ull, run->study.msr.value) TH_LOG("the skipped WRMSR wrote");
	EXPECT_VAL("STAR low", 0x11223344, expect_out(&t, PORT_ECHO, 4));
	EXPECT_VAL("STAR high", 0x00230010, expect_out(&t, PORT_ECHO, 4));

	/* RDTSC: khv's answer is the guest's TSC; the test's replaces it. */
	run = expect_study(&t, KHV_STUDY_EV_RDTSC, 0);
	EXPECT_NE(0ull, run->study.rdtsc.tsc);
	run->study.rdtsc.tsc = 0x1122334455667788ull;
	EXPECT_VAL("RDTSC low", 0x55667788, expect_out(&t, PORT_ECHO, 4));
	EXPECT_VAL("RDTSC high", 0x11223344, expect_out(&t, PORT_ECHO, 4));

	/* HLT: the study exit at the HLT, then khv's own (no irqchip: to userspace). */
	run = expect_study(&t, KHV_STUDY_EV_HLT, PAYLOAD_GPA(study_real, study_hlt));
	/* Flags khv does not know: KHV_RUN refuses, the event stays. */
	run->study.flags = 4;
	EXPECT_EQ(-EINVAL, khvt_run(&t));
	run->study.flags = KHV_STUDY_F_SKIP | KHV_STUDY_F_DROP;
	EXPECT_EQ(-EINVAL, khvt_run(&t));
	run->study.flags = 0;
	expect_hlt(&t, PAYLOAD_GPA(study_real, study_hlt) + 1);
	/* Each studied event once, the dropped CPUID twice; refused runs are no exits. */
	EXPECT_EQ(8u, user_exits(_metadata, &t, KHV_EXIT_STUDY));

	/* Study off: the rest runs without a study exit, RDTSC without an exit. */
	memset(&s, 0, sizeof(s));
	KHV_OK(khv_vcpu_set_study(&t.vcpu, &s));
	EXPECT_VAL("STAR, read without study", 0x11223344, expect_out(&t, PORT_ECHO, 4));
	expect_hlt(&t, PAYLOAD_GPA(study_real, study_hlt2) + 1);
	EXPECT_EQ(8u, user_exits(_metadata, &t, KHV_EXIT_STUDY));
	KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
	EXPECT_EQ(0x11223344u, (uint32_t)r.rax);
	khvt_destroy(&t);
}

/* Every field of struct khv_study is checked; a refused one changes nothing. */
TEST(bad_settings)
{
	struct khv_study s, got;
	struct khvt_vm t;

	VM_WITH_PAYLOAD(&t, KHVT_REAL, study_real);
	REQUIRE_CAP(&t, KHV_CAP_STUDY);
#define REFUSED(field, value) do {						\
		memset(&s, 0, sizeof(s));					\
		s.events = KHV_STUDY_CPUID | KHV_STUDY_RDMSR;			\
		s.field = value;						\
		EXPECT_EQ(-EINVAL, khv_vcpu_set_study(&t.vcpu, &s)) TH_LOG(#field); \
	} while (0)
	REFUSED(events, KHV_STUDY_ALL + 1);
	REFUSED(events, 1ull << 63);
	REFUSED(nr_cpuid, KHV_STUDY_MAX_LIST + 1);
	REFUSED(nr_msrs, 0xffffffffu);
	REFUSED(cpuid[3], 7);		/* beyond nr_cpuid (0) */
	REFUSED(msrs[15], 1);
	REFUSED(reserved[7], 1);
	REFUSED(reserved[0], 1);
	memset(&s, 0, sizeof(s));
	s.events = KHV_STUDY_RDTSC;
	s.nr_cpuid = 1;			/* a list for an event not asked for */
	EXPECT_EQ(-EINVAL, khv_vcpu_set_study(&t.vcpu, &s));
	s.nr_cpuid = 0;
	s.nr_msrs = 1;
	EXPECT_EQ(-EINVAL, khv_vcpu_set_study(&t.vcpu, &s));
	KHV_OK(khv_vcpu_get_study(&t.vcpu, &got));
	memset(&s, 0, sizeof(s));
	EXPECT_EQ(0, memcmp(&s, &got, sizeof(s))) TH_LOG("a refused setting stuck");
	EXPECT_EQ(-1, ioctl(t.vcpu.fd, KHV_SET_STUDY, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
