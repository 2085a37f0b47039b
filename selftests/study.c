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
KHVT_DECLARE_PAYLOAD(study_more);
KHVT_DECLARE_PAYLOAD(study_long);
extern const uint8_t study_cpuid1[], study_hlt[], study_hlt2[];
extern const uint8_t study_cr3_a[], study_pause[], study_more_hlt[], study_more_hlt2[];
extern const uint8_t study_long_hlt[];
KHVT_DECLARE_PAYLOAD(study_exc);
extern const uint8_t study_ud[], study_pf[], study_bp[], study_bp2[], study_gp[];
extern const uint8_t study_int1[], study_int1b[];
extern const uint8_t study_ud_nostack[], exc_1[], exc_3[], exc_6[], exc_13[], exc_14[];
KHVT_DECLARE_PAYLOAD(study_desc);
extern const uint8_t study_sgdt[], study_sidt[], study_lgdt[], study_sgdt2[], study_lldt[];
extern const uint8_t study_sldt16[], study_sldt32[], study_ltr[], study_str[];
extern const uint8_t study_lidt[], study_desc_hlt[], study_desc_hlt2[], desc_gp[];
extern const uint8_t desc_buf[], new_gdt[], new_gdt_ptr[], bogus_ptr[];
KHVT_DECLARE_PAYLOAD(study_tscp);
extern const uint8_t study_rdtscp[], study_rdtsc_plain[], study_tscp_hlt[], study_tscp_hlt2[];

#define PORT_POST	0x80
#define CR0_MP		0x2ull
#define CR0_TS		0x8ull
#define CR4_PGE		0x80ull

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
	s.events = KHV_STUDY_CPUID | KHV_STUDY_RDMSR | KHV_STUDY_WRMSR | KHV_STUDY_RDTSC |
		   KHV_STUDY_HLT;
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

/* The next exit is a study of a write of @value to CR@cr, over @old. */
static struct khv_run *__expect_cr_write(KHVT_MD, int line, struct khvt_vm *t, uint32_t cr,
					 uint64_t value, uint64_t old)
{
	struct khv_run *run = __expect_study(_metadata, line, t, KHV_STUDY_EV_CR_WRITE, 0);

	EXPECT_EQ(cr, run->study.cr.cr) TH_LOG("line %d", line);
	EXPECT_EQ(value, run->study.cr.value) TH_LOG("line %d", line);
	EXPECT_EQ(old, run->study.cr.old) TH_LOG("line %d", line);
	return run;
}
#define expect_cr_write(t, cr, value, old) \
	__expect_cr_write(_metadata, __LINE__, (t), (cr), (value), (old))

/*
 * CR writes (one CR chosen, then all), CLTS, INVLPG, PAUSE and port I/O of
 * one chosen port: each arrives once with its decode, and khv's handling
 * after it, a skip or a drop is what the guest sees.  Then study off.
 */
TEST(more_events)
{
	struct khv_study s = { 0 };
	struct khv_sregs sr;
	struct khv_run *run;
	struct khvt_vm t;
	uint64_t cr0, cr4;

	VM_WITH_PAYLOAD(&t, KHVT_REAL, study_more);
	REQUIRE_CAP(&t, KHV_CAP_STUDY);
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &sr));
	cr0 = sr.cr0 | CR0_MP;
	cr4 = sr.cr4;
	s.events = KHV_STUDY_CR_WRITE | KHV_STUDY_INVLPG | KHV_STUDY_PAUSE | KHV_STUDY_IO;
	s.cr_write = KHV_STUDY_CR3;
	s.nr_ports = 1;
	s.ports[0] = PORT_POST;
	KHV_OK(khv_vcpu_set_study(&t.vcpu, &s));

	/* CR3 only: the CR0 write before it went by. */
	run = expect_cr_write(&t, 3, 0x1000, sr.cr3);
	EXPECT_EQ(PAYLOAD_GPA(study_more, study_cr3_a) + 6, run->study.rip);
	EXPECT_VAL("CR3 after the studied write", 0x1000, expect_out(&t, PORT_ECHO, 4));
	run = expect_cr_write(&t, 3, 0x2000, 0x1000);
	run->study.flags = KHV_STUDY_F_SKIP;
	EXPECT_VAL("CR3 after the skipped write", 0x1000, expect_out(&t, PORT_ECHO, 4));

	/* Every CR now (cr_write 0). */
	s.cr_write = 0;
	KHV_OK(khv_vcpu_set_study(&t.vcpu, &s));
	expect_cr_write(&t, 0, cr0 | CR0_TS, cr0);
	run = expect_cr_write(&t, 0, cr0, cr0 | CR0_TS);	/* CLTS */
	run->study.flags = KHV_STUDY_F_SKIP;
	EXPECT_VAL("CR0 after the skipped CLTS", (uint32_t)(cr0 | CR0_TS),
		   expect_out(&t, PORT_ECHO, 4));
	expect_cr_write(&t, 0, cr0, cr0 | CR0_TS);		/* CLTS, done */
	expect_cr_write(&t, 4, cr4 | CR4_PGE, cr4);
	EXPECT_VAL("CR4 after the studied write", (uint32_t)(cr4 | CR4_PGE),
		   expect_out(&t, PORT_ECHO, 4));

	run = expect_study(&t, KHV_STUDY_EV_INVLPG, 0);
	EXPECT_EQ(0x2345ull, run->study.invlpg.addr);

	run = expect_study(&t, KHV_STUDY_EV_PAUSE, PAYLOAD_GPA(study_more, study_pause));
	run->study.flags = KHV_STUDY_F_DROP;
	expect_study(&t, KHV_STUDY_EV_PAUSE, PAYLOAD_GPA(study_more, study_pause));

	/* Port 0x80: studied before khv's own exit, which then comes. */
	run = expect_study(&t, KHV_STUDY_EV_IO, 0);
	EXPECT_EQ(PORT_POST, run->study.io.port);
	EXPECT_EQ(1, run->study.io.size);
	EXPECT_EQ(0, run->study.io.in);
	EXPECT_EQ(0, run->study.io.string);
	EXPECT_EQ(0x5au, run->study.io.value);
	EXPECT_VAL("the OUT after its study", 0x5a, expect_out(&t, PORT_POST, 1));
	run = expect_study(&t, KHV_STUDY_EV_IO, 0);
	EXPECT_EQ(PORT_POST, run->study.io.port);
	EXPECT_EQ(1, run->study.io.in);
	run->study.flags = KHV_STUDY_F_SKIP;
	EXPECT_VAL("AL after the skipped IN", 0x77, expect_out(&t, PORT_ECHO, 4));
	expect_hlt(&t, PAYLOAD_GPA(study_more, study_more_hlt) + 1);
	EXPECT_EQ(11u, user_exits(_metadata, &t, KHV_EXIT_STUDY));

	/* Study off: the CR3 write, PAUSE and INVLPG run without a word. */
	memset(&s, 0, sizeof(s));
	KHV_OK(khv_vcpu_set_study(&t.vcpu, &s));
	EXPECT_VAL("the OUT without study", 0x5b, expect_out(&t, PORT_POST, 1));
	expect_hlt(&t, PAYLOAD_GPA(study_more, study_more_hlt2) + 1);
	EXPECT_EQ(11u, user_exits(_metadata, &t, KHV_EXIT_STUDY));
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &sr));
	EXPECT_EQ(0x3000ull, sr.cr3);
	EXPECT_EQ(cr0, sr.cr0);
	EXPECT_EQ(cr4 | CR4_PGE, sr.cr4);
	khvt_destroy(&t);
}

/* CR8 in 64-bit code: a write done, a read answered, a write skipped. */
TEST(cr8)
{
	struct khv_study s = { 0 };
	struct khv_sregs sr;
	struct khv_run *run;
	struct khvt_vm t;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, study_long);
	REQUIRE_CAP(&t, KHV_CAP_STUDY);
	s.events = KHV_STUDY_CR_WRITE | KHV_STUDY_CR8_READ;
	s.cr_write = KHV_STUDY_CR8;
	KHV_OK(khv_vcpu_set_study(&t.vcpu, &s));

	expect_cr_write(&t, 8, 5, 0);
	run = expect_study(&t, KHV_STUDY_EV_CR8_READ, 0);
	EXPECT_EQ(8u, run->study.cr.cr);
	EXPECT_EQ(3u, run->study.cr.gpr) TH_LOG("RBX");
	EXPECT_EQ(5ull, run->study.cr.value);
	run->study.cr.value = 9;
	EXPECT_VAL("RBX after the answered read", 9, expect_out(&t, PORT_ECHO, 4));
	run = expect_cr_write(&t, 8, 7, 5);
	run->study.flags = KHV_STUDY_F_SKIP;
	run = expect_study(&t, KHV_STUDY_EV_CR8_READ, 0);
	EXPECT_EQ(0u, run->study.cr.gpr) TH_LOG("RAX");
	EXPECT_EQ(5ull, run->study.cr.value) TH_LOG("the skipped write left CR8 alone");
	EXPECT_VAL("RAX after the read", 5, expect_out(&t, PORT_ECHO, 4));
	expect_hlt(&t, PAYLOAD_GPA(study_long, study_long_hlt) + 1);
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &sr));
	EXPECT_EQ(5ull, sr.cr8);
	khvt_destroy(&t);
}

/* The next exit is a study of exception @vector raised at @rip. */
static struct khv_run *__expect_exc(KHVT_MD, int line, struct khvt_vm *t, uint32_t vector,
				    uint64_t rip)
{
	struct khv_run *run = __expect_study(_metadata, line, t, KHV_STUDY_EV_EXCEPTION, rip);

	EXPECT_EQ(vector, run->study.exception.vector) TH_LOG("line %d", line);
	return run;
}
#define expect_exc(t, vector, rip) __expect_exc(_metadata, __LINE__, (t), (vector), (rip))

/* The guest's handler reports vector and error code (and CR2 for #PF). */
#define expect_handler(t, vector, error) do {					\
		EXPECT_VAL("vector", (vector), expect_out((t), PORT_ECHO, 4));	\
		EXPECT_VAL("error code", (error), expect_out((t), PORT_ECHO, 4)); \
	} while (0)

#define UNMAPPED	0x100000000ull

/*
 * Exceptions in 64-bit code, studied then delivered by khv as the CPU
 * would: a fault (#UD, dropped once: it comes again), a #PF with its error
 * code and address (which reach the guest's handler and its CR2), a #GP(0)
 * of a non-canonical access, an INT3 whose #BP the guest's handler sees as
 * a trap after it, and one skipped; the same for INT1 (ICEBP) and its #DB,
 * which a study sees at the INT1.  Unstudied vectors do not exit.  Then
 * a #UD whose delivery faults on an unmapped stack: after the #UD, each
 * step is a studied #PF during the delivery of another event, which khv
 * turns into what the CPU would: the #PF (a #UD is benign), a #DF (a #PF
 * during a #PF), a triple fault (a #PF during a #DF): the VM shuts down.
 */
TEST(exceptions)
{
	struct khv_study s = { 0 };
	struct khv_run *run;
	struct khvt_vm t;
	bool bp_exits;	/* INT3 and INT1 raise their #BP and #DB */
	uint64_t cr2;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, study_exc);
	REQUIRE_CAP(&t, KHV_CAP_STUDY);
	bp_exits = !(t.vendor == KHV_VENDOR_AMD &&
		     khvt_under_tcg());
	KHV_OK(khvt_set_gate(&t, 1, PAYLOAD_GPA(study_exc, exc_1)));
	KHV_OK(khvt_set_gate(&t, 3, PAYLOAD_GPA(study_exc, exc_3)));
	KHV_OK(khvt_set_gate(&t, 6, PAYLOAD_GPA(study_exc, exc_6)));
	KHV_OK(khvt_set_gate(&t, 13, PAYLOAD_GPA(study_exc, exc_13)));
	KHV_OK(khvt_set_gate(&t, 14, PAYLOAD_GPA(study_exc, exc_14)));
	s.events = KHV_STUDY_EXCEPTION;
	s.exceptions = 1u << 1 | 1u << 3 | 1u << 6 | 1u << 13 | 1u << 14;
	KHV_OK(khv_vcpu_set_study(&t.vcpu, &s));

	run = expect_exc(&t, 6, PAYLOAD_GPA(study_exc, study_ud));
	EXPECT_EQ(0, run->study.exception.has_error_code);
	EXPECT_EQ(0, run->study.exception.during_delivery);
	run->study.flags = KHV_STUDY_F_DROP;
	expect_exc(&t, 6, PAYLOAD_GPA(study_exc, study_ud));
	expect_handler(&t, 6, 0);

	run = expect_exc(&t, 14, PAYLOAD_GPA(study_exc, study_pf));
	EXPECT_EQ(1, run->study.exception.has_error_code);
	EXPECT_EQ(0u, run->study.exception.error_code) TH_LOG("a supervisor read, not present");
	EXPECT_EQ(1, run->study.exception.has_payload);
	EXPECT_EQ(UNMAPPED, run->study.exception.payload);
	expect_handler(&t, 14, 0);
	cr2 = expect_out(&t, PORT_ECHO, 4);
	cr2 |= (uint64_t)expect_out(&t, PORT_ECHO, 4) << 32;
	EXPECT_EQ(UNMAPPED, cr2) TH_LOG("the guest's CR2");

	/*
	 * QEMU's SVM takes INT3 for a software interrupt (its INTn intercept,
	 * which khv does not set), not a #BP: testing.rst, "Emulator gaps".
	 */
	if (bp_exits) {
		run = expect_exc(&t, 3, PAYLOAD_GPA(study_exc, study_bp));
		EXPECT_EQ(0, run->study.exception.has_error_code);
	}
	expect_handler(&t, 3, 0);
	if (bp_exits) {
		run = expect_exc(&t, 3, PAYLOAD_GPA(study_exc, study_bp2));
		run->study.flags = KHV_STUDY_F_SKIP;
	} else {
		expect_handler(&t, 3, 0);
	}

	/*
	 * QEMU's TCG has INT1 compiled out (WANT_ICEBP): a #UD there, which
	 * the test skips, twice (testing.rst, "Emulator gaps").
	 */
	if (bp_exits) {
		run = expect_exc(&t, 1, PAYLOAD_GPA(study_exc, study_int1));
		EXPECT_EQ(1, run->study.exception.int1);
		EXPECT_EQ(0, run->study.exception.has_error_code);
		EXPECT_EQ(0, run->study.exception.has_payload) TH_LOG("INT1 sets no DR6 bit");
		expect_handler(&t, 1, 0);
	} else {
		expect_exc(&t, 6, PAYLOAD_GPA(study_exc, study_int1))->study.flags = KHV_STUDY_F_SKIP;
	}
	run = expect_exc(&t, bp_exits ? 1 : 6, PAYLOAD_GPA(study_exc, study_int1b));
	EXPECT_EQ(bp_exits, run->study.exception.int1);
	run->study.flags = KHV_STUDY_F_SKIP;

	run = expect_exc(&t, 13, PAYLOAD_GPA(study_exc, study_gp));
	EXPECT_EQ(1, run->study.exception.has_error_code);
	EXPECT_EQ(0u, run->study.exception.error_code);
	expect_handler(&t, 13, 0);

	/* No stack: the #UD, then #PF during it, during the #PF, during the #DF. */
	run = expect_exc(&t, 6, PAYLOAD_GPA(study_exc, study_ud_nostack));
	EXPECT_EQ(0, run->study.exception.during_delivery);
	run = expect_exc(&t, 14, PAYLOAD_GPA(study_exc, study_ud_nostack));
	EXPECT_EQ(1, run->study.exception.during_delivery);
	EXPECT_EQ(2u, run->study.exception.error_code) TH_LOG("a supervisor write, not present");
	EXPECT_LE(UNMAPPED, run->study.exception.payload);
	EXPECT_GT(UNMAPPED + 0x1000, run->study.exception.payload);
	run = expect_exc(&t, 14, PAYLOAD_GPA(study_exc, study_ud_nostack));
	EXPECT_EQ(1, run->study.exception.during_delivery) TH_LOG("the #PF's own delivery");
	run = expect_exc(&t, 14, PAYLOAD_GPA(study_exc, study_ud_nostack));
	EXPECT_EQ(1, run->study.exception.during_delivery) TH_LOG("the #DF's delivery");
	expect_exit(&t, KHV_EXIT_SHUTDOWN);
	EXPECT_EQ(bp_exits ? 12u : 10u, user_exits(_metadata, &t, KHV_EXIT_STUDY));
	khvt_destroy(&t);
}

/* The next exit is a study of descriptor-table instruction @insn at @rip. */
static struct khv_run *__expect_desc(KHVT_MD, int line, struct khvt_vm *t, uint32_t insn,
				     uint64_t rip, int mem, uint32_t size)
{
	struct khv_run *run = __expect_study(_metadata, line, t, KHV_STUDY_EV_DESC, rip);

	EXPECT_EQ(insn, run->study.desc.insn) TH_LOG("line %d", line);
	EXPECT_EQ(mem, run->study.desc.mem) TH_LOG("line %d", line);
	EXPECT_EQ(size, run->study.desc.size) TH_LOG("line %d", line);
	EXPECT_EQ(0u, run->study.desc.pad);
	EXPECT_EQ(0u, run->study.desc.pad2);
	return run;
}
#define expect_desc(t, insn, label, mem, size) \
	__expect_desc(_metadata, __LINE__, (t), (insn), PAYLOAD_GPA(study_desc, label), (mem), (size))

#define expect_echo64(t) \
	(expect_out((t), PORT_ECHO, 4) | (uint64_t)expect_out((t), PORT_ECHO, 4) << 32)

/*
 * The descriptor-table instructions, emulated by khv while studied (SVM
 * has no decode for them, VT-x's "descriptor-table exiting" stops them
 * undone): each arrives once, decoded, before it is done; a store stores
 * the answer (a SIDT told another IDT, as a VM detector would be), a load
 * loads the guest's operand, and LLDT/LTR read their descriptor from the
 * GDT LGDT just loaded (LTR marks it busy).  A fault (#GP of an LDT
 * selector with TI set) comes before any event.  A skipped LIDT loads
 * nothing.  Study off: SGDT runs without an exit.
 */
TEST(desc)
{
	uint64_t new_gdt_gpa, idt_base;
	struct khv_study s = { 0 };
	struct khv_sregs sr;
	struct khv_run *run;
	struct khvt_vm t;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, study_desc);
	REQUIRE_CAP(&t, KHV_CAP_STUDY);
	if (!(khv_check_extension(&t.sys, KHV_CAP_STUDY) & KHV_STUDY_DESC))
		SKIP(return, "this CPU cannot intercept descriptor-table instructions");
	new_gdt_gpa = PAYLOAD_GPA(study_desc, new_gdt);
	KHV_OK(khvt_set_gate(&t, 13, PAYLOAD_GPA(study_desc, desc_gp)));
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &sr));
	idt_base = sr.idt.base;
	s.events = KHV_STUDY_DESC;
	KHV_OK(khv_vcpu_set_study(&t.vcpu, &s));

	run = expect_desc(&t, KHV_DESC_SGDT, study_sgdt, 1, 10);
	EXPECT_EQ(PAYLOAD_GPA(study_desc, desc_buf), run->study.desc.addr);
	EXPECT_EQ(sr.gdt.base, run->study.desc.base);
	EXPECT_EQ(sr.gdt.limit, run->study.desc.limit);
	EXPECT_VAL("limit", sr.gdt.limit, expect_out(&t, PORT_ECHO, 4));
	EXPECT_VAL("base", sr.gdt.base, expect_echo64(&t));

	run = expect_desc(&t, KHV_DESC_SIDT, study_sidt, 1, 10);
	EXPECT_EQ(idt_base, run->study.desc.base);
	EXPECT_EQ(sr.idt.limit, run->study.desc.limit);
	run->study.desc.base = 0xfffffe0000001000ull;
	run->study.desc.limit = 0x7ff;
	EXPECT_VAL("limit (the answer)", 0x7ffu, expect_out(&t, PORT_ECHO, 4));
	EXPECT_VAL("base", 0xfffffe0000001000ull, expect_echo64(&t));

	run = expect_desc(&t, KHV_DESC_LGDT, study_lgdt, 1, 10);
	EXPECT_EQ(PAYLOAD_GPA(study_desc, new_gdt_ptr), run->study.desc.addr);
	EXPECT_EQ(new_gdt_gpa, run->study.desc.base);
	EXPECT_EQ(0x3fu, run->study.desc.limit);
	run = expect_desc(&t, KHV_DESC_SGDT, study_sgdt2, 1, 10);
	EXPECT_EQ(new_gdt_gpa, run->study.desc.base) TH_LOG("LGDT loaded GDTR");
	EXPECT_VAL("limit", 0x3fu, expect_out(&t, PORT_ECHO, 4));
	EXPECT_VAL("base", new_gdt_gpa, expect_echo64(&t));

	run = expect_desc(&t, KHV_DESC_LLDT, study_lldt, 0, 2);
	EXPECT_EQ(0u, run->study.desc.gpr) TH_LOG("AX");
	EXPECT_EQ(0x20u, run->study.desc.selector);
	EXPECT_EQ(0x9000u, run->study.desc.base);
	EXPECT_EQ(0xfffu, run->study.desc.limit);
	run = expect_desc(&t, KHV_DESC_SLDT, study_sldt16, 0, 2);
	EXPECT_EQ(3u, run->study.desc.gpr) TH_LOG("BX");
	EXPECT_EQ(0x20u, run->study.desc.selector) TH_LOG("LLDT loaded LDTR");
	EXPECT_VAL("RBX", 0xffffffffffff0020ull, expect_echo64(&t));
	run = expect_desc(&t, KHV_DESC_SLDT, study_sldt32, 0, 4);
	EXPECT_EQ(1u, run->study.desc.gpr) TH_LOG("ECX");
	EXPECT_VAL("RCX", 0x20ull, expect_echo64(&t));

	run = expect_desc(&t, KHV_DESC_LTR, study_ltr, 0, 2);
	EXPECT_EQ(2u, run->study.desc.gpr) TH_LOG("DX");
	EXPECT_EQ(0x30u, run->study.desc.selector);
	EXPECT_EQ(0xa000u, run->study.desc.base);
	EXPECT_EQ(0x67u, run->study.desc.limit);
	EXPECT_VAL("TSS type byte (busy)", 0x8bu, expect_out(&t, PORT_ECHO, 4));
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &sr));
	EXPECT_EQ(0x30, sr.tr.selector);
	EXPECT_EQ(11, sr.tr.type);
	EXPECT_EQ(0xa000ull, sr.tr.base);
	EXPECT_EQ(0x20, sr.ldt.selector);
	EXPECT_EQ(2, sr.ldt.type);
	EXPECT_EQ(0x9000ull, sr.ldt.base);
	EXPECT_EQ(0xfffu, sr.ldt.limit);

	run = expect_desc(&t, KHV_DESC_STR, study_str, 1, 2);
	EXPECT_EQ(0x30u, run->study.desc.selector);
	EXPECT_VAL("STR", 0x30u, expect_out(&t, PORT_ECHO, 4));

	/* LLDT 0x24: TI set, a #GP(0x24) the guest sees, no study event. */
	EXPECT_VAL("vector", 13u, expect_out(&t, PORT_ECHO, 4));
	EXPECT_VAL("error code", 0x24u, expect_out(&t, PORT_ECHO, 4));

	run = expect_desc(&t, KHV_DESC_LIDT, study_lidt, 1, 10);
	EXPECT_EQ(0x5678000ull, run->study.desc.base);
	EXPECT_EQ(0x1234u, run->study.desc.limit);
	run->study.flags = KHV_STUDY_F_SKIP;
	expect_hlt(&t, PAYLOAD_GPA(study_desc, study_desc_hlt) + 1);
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &sr));
	EXPECT_EQ(idt_base, sr.idt.base) TH_LOG("the skipped LIDT loaded nothing");
	EXPECT_EQ(10u, user_exits(_metadata, &t, KHV_EXIT_STUDY));

	s.events = 0;
	KHV_OK(khv_vcpu_set_study(&t.vcpu, &s));
	EXPECT_VAL("limit", 0x3fu, expect_out(&t, PORT_ECHO, 4));
	expect_hlt(&t, PAYLOAD_GPA(study_desc, study_desc_hlt2) + 1);
	EXPECT_EQ(10u, user_exits(_metadata, &t, KHV_EXIT_STUDY));
	khvt_destroy(&t);
}

static bool supported_rdtscp(KHVT_MD, struct khvt_vm *t)
{
	struct khv_cpuid_entry e[256];
	uint32_t n = 0;

	KHV_OK(khv_get_supported_cpuid(&t->sys, e, 256, &n));
	for (uint32_t i = 0; i < n; i++)
		if (e[i].function == 0x80000001)
			return e[i].edx & (1u << 27);
	return false;
}

/*
 * RDTSCP: studied with RDTSC (one event, rdtscp set, the guest's TSC_AUX
 * as the answer ECX gets, which the test changes), RDTSC's event says it
 * is not one; study off, RDTSCP and RDPID run in the guest and read the
 * TSC_AUX it wrote (core/tsc_aux.c switches it in; selftest hostile checks
 * that the host gets its own back).
 */
TEST(rdtscp)
{
	struct khv_study s = { 0 };
	struct khv_run *run;
	struct khvt_vm t;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, study_tscp);
	REQUIRE_CAP(&t, KHV_CAP_STUDY);
	if (!supported_rdtscp(_metadata, &t))
		SKIP(return, "khv offers no RDTSCP on this CPU");
	s.events = KHV_STUDY_RDTSC;
	KHV_OK(khv_vcpu_set_study(&t.vcpu, &s));

	run = expect_study(&t, KHV_STUDY_EV_RDTSC, PAYLOAD_GPA(study_tscp, study_rdtscp));
	EXPECT_EQ(1, run->study.rdtsc.rdtscp);
	EXPECT_EQ(0x1234u, run->study.rdtsc.aux);
	run->study.rdtsc.tsc = 0x1122334455667788ull;
	run->study.rdtsc.aux = 0x4321;
	EXPECT_VAL("ECX", 0x4321u, expect_out(&t, PORT_ECHO, 4));
	EXPECT_VAL("EAX", 0x55667788u, expect_out(&t, PORT_ECHO, 4));
	EXPECT_VAL("EDX", 0x11223344u, expect_out(&t, PORT_ECHO, 4));

	run = expect_study(&t, KHV_STUDY_EV_RDTSC, PAYLOAD_GPA(study_tscp, study_rdtsc_plain));
	EXPECT_EQ(0, run->study.rdtsc.rdtscp);
	EXPECT_EQ(0u, run->study.rdtsc.aux);
	EXPECT_VAL("ECX (RDTSC leaves it)", 0xffffffffu, expect_out(&t, PORT_ECHO, 4));
	expect_hlt(&t, PAYLOAD_GPA(study_tscp, study_tscp_hlt) + 1);

	s.events = 0;
	KHV_OK(khv_vcpu_set_study(&t.vcpu, &s));
	EXPECT_VAL("RDTSCP's ECX", 0x1234u, expect_out(&t, PORT_ECHO, 4));
	if (expect_out(&t, PORT_ECHO, 4))
		EXPECT_VAL("RDPID", 0x1234u, expect_out(&t, PORT_ECHO, 4));
	else
		TH_LOG("no RDPID on this CPU");
	expect_hlt(&t, PAYLOAD_GPA(study_tscp, study_tscp_hlt2) + 1);
	EXPECT_EQ(2u, user_exits(_metadata, &t, KHV_EXIT_STUDY));
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
	REFUSED(reserved[1], 1);
	REFUSED(reserved[0], 1);
	REFUSED(reserved32, 1);
	REFUSED(exceptions, 1u << 14);		/* without KHV_STUDY_EXCEPTION */
	REFUSED(cr_write, KHV_STUDY_CR3);	/* without KHV_STUDY_CR_WRITE */
	REFUSED(nr_ports, 1);			/* without KHV_STUDY_IO */
	REFUSED(nr_ports, KHV_STUDY_MAX_LIST + 1);
	REFUSED(ports[2], 0x80);		/* beyond nr_ports (0) */
	memset(&s, 0, sizeof(s));
	s.events = KHV_STUDY_CR_WRITE;
	s.cr_write = 1u << 2;			/* CR2: not one KHV_STUDY_CR_WRITE watches */
	EXPECT_EQ(-EINVAL, khv_vcpu_set_study(&t.vcpu, &s));
	s.cr_write = 1u << 9;
	EXPECT_EQ(-EINVAL, khv_vcpu_set_study(&t.vcpu, &s));
	s.events = KHV_STUDY_EXCEPTION;
	s.cr_write = 0;
	s.exceptions = 1u << 2;			/* NMI: the host's */
	EXPECT_EQ(-EINVAL, khv_vcpu_set_study(&t.vcpu, &s));
	s.exceptions = 1u << 8 | 1u << 14;	/* #DF */
	EXPECT_EQ(-EINVAL, khv_vcpu_set_study(&t.vcpu, &s));
	s.exceptions = 1u << 18;		/* #MC */
	EXPECT_EQ(-EINVAL, khv_vcpu_set_study(&t.vcpu, &s));
	s.exceptions = 0;
	s.events = KHV_STUDY_IO;
	s.cr_write = 0;
	s.nr_ports = 1;
	s.ports[0] = 0x80;
	s.ports[1] = 0x81;			/* beyond nr_ports */
	EXPECT_EQ(-EINVAL, khv_vcpu_set_study(&t.vcpu, &s));
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
