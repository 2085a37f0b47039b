// SPDX-License-Identifier: GPL-2.0
/*
 * l1d_flush: the L1TF mitigation of the VT-x backend, through the l1d_flush
 * module parameter and the "l1d_flush" counter (KHV_STAT_KERNEL).
 *
 * The guest (l1d_flush_guest.S) runs R8 CPUIDs, then one OUT to userspace,
 * in a loop; every VM entry ends in exactly one hardware exit, so the sum of
 * the KHV_STAT_HW counters is the number of entries.
 *
 *  - always: one flush per entry, exactly.
 *  - never: no flush at all.
 *  - cond: a flush after each return from userspace (one per KHV_RUN at
 *    least), but not after each CPUID: with 50 CPUIDs per KHV_RUN, fewer
 *    than a quarter of the entries flush (the rest of the flushes follow
 *    host interrupts).
 *  - auto: resolves to what the host's L1TF state and l1tf= ask for (never
 *    when /sys/devices/system/cpu/vulnerabilities/l1tf says "Not affected"
 *    or the command line has l1tf=off; always for l1tf=full; else cond).
 *  - bad_value: an unknown policy is EINVAL and changes nothing.
 *  - other_vendor: on the SVM backend the parameter reads "never", only
 *    "never"/"auto" may be written, and no flush is ever counted.
 * Every test leaves the parameter at "auto", the default.
 */
#include <fcntl.h>
#include <unistd.h>

#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(l1d_loop);

#define PARAM		"/sys/module/khv/parameters/l1d_flush"
#define MAX_STATS	(KHV_MAX_EXIT_STATS + KHV_EXIT_MAX + KHV_KSTAT_MAX)

/* 0 or the errno of writing @val to the parameter. */
static int param_write(const char *val)
{
	int fd = open(PARAM, O_WRONLY), err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, val, strlen(val)) < 0)
		err = errno;
	close(fd);
	return err;
}


struct counts {
	uint64_t entries;	/* sum of KHV_STAT_HW */
	uint64_t flushes;	/* KHV_STAT_KERNEL / KHV_KSTAT_L1D_FLUSH */
	uint64_t user_io;
};

static void dump_stats(const struct khv_exit_stat *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		fprintf(stderr, "#   kind %u code %#x count %llu \"%.32s\"\n", s[i].kind,
			s[i].code, (unsigned long long)s[i].count, s[i].name);
}

static void __get_counts(KHVT_MD, struct khvt_vm *t, struct counts *c, bool dump)
{
	struct khv_exit_stat s[MAX_STATS];
	uint32_t n, i;

	memset(c, 0, sizeof(*c));
	KHV_OK(khv_vcpu_get_exit_stats(&t->vcpu, s, MAX_STATS, &n));
	for (i = 0; i < n; i++) {
		if (s[i].kind == KHV_STAT_HW)
			c->entries += s[i].count;
		else if (s[i].kind == KHV_STAT_USER && s[i].code == KHV_EXIT_IO)
			c->user_io = s[i].count;
		else if (s[i].kind == KHV_STAT_KERNEL && s[i].code == KHV_KSTAT_L1D_FLUSH)
			c->flushes = s[i].count;
	}
	if (dump)
		dump_stats(s, n);
}
#define get_counts(t, c) __get_counts(_metadata, (t), (c), false)
#define dump_counts(t) do { struct counts __c; __get_counts(_metadata, (t), &__c, true); } while (0)

/* A fresh VM running the loop: @runs KHV_RUNs of @cpuids CPUIDs and an OUT. */
static void __run_loop(KHVT_MD, struct khvt_vm *t, unsigned int runs, uint64_t cpuids)
{
	struct khv_regs r;

	KHV_OK(khv_vcpu_get_regs(&t->vcpu, &r));
	r.r8 = cpuids;
	KHV_OK(khv_vcpu_set_regs(&t->vcpu, &r));
	for (unsigned int i = 0; i < runs; i++)
		expect_out(t, PORT_ECHO, 1);
}
#define run_loop(t, runs, cpuids) __run_loop(_metadata, (t), (runs), (cpuids))

/* Skip unless Intel; *t is then a VM with the loop loaded. */
#define INTEL_VM(t) do {							\
	VM_WITH_PAYLOAD((t), KHVT_LONG, l1d_loop);				\
	REQUIRE_CAP((t), KHV_CAP_EXIT_STATS);					\
	if ((t)->vendor != KHV_VENDOR_INTEL) {					\
		khvt_destroy(t);						\
		SKIP(return, "not Intel: the parameter is VT-x's");		\
	}									\
} while (0)

#define SET_MODE(m) ASSERT_EQ(0, param_write(m)) TH_LOG("write %s: %s", m, strerror(errno))

#define EXPECT_MODE(m) do {							\
	char __v[32];								\
	ASSERT_TRUE(khvt_read_line(PARAM, __v, sizeof(__v))) TH_LOG(PARAM " unreadable");	\
	EXPECT_STREQ(m, __v);							\
} while (0)

FIXTURE(l1d) {
	int unused;
};

FIXTURE_SETUP(l1d)
{
	if (access(PARAM, R_OK))
		SKIP(return, PARAM " missing: khv.ko without the parameter?");
}

FIXTURE_TEARDOWN(l1d)
{
	param_write("auto");
}

TEST_F(l1d, always)
{
	struct khvt_vm t;
	struct counts c;

	INTEL_VM(&t);
	SET_MODE("always");
	EXPECT_MODE("always");
	run_loop(&t, 5, 20);
	get_counts(&t, &c);
	EXPECT_GE(c.entries, 5u * 21);
	EXPECT_EQ(c.entries, c.flushes) dump_counts(&t);
	khvt_destroy(&t);
}

TEST_F(l1d, never)
{
	struct khvt_vm t;
	struct counts c;

	INTEL_VM(&t);
	SET_MODE("never");
	EXPECT_MODE("never");
	run_loop(&t, 5, 20);
	get_counts(&t, &c);
	EXPECT_GE(c.entries, 5u * 21);
	EXPECT_EQ(0u, c.flushes) dump_counts(&t);
	khvt_destroy(&t);
}

TEST_F(l1d, cond)
{
	const unsigned int runs = 20;
	struct khvt_vm t;
	struct counts c;

	INTEL_VM(&t);
	SET_MODE("cond");
	EXPECT_MODE("cond");
	run_loop(&t, runs, 50);
	get_counts(&t, &c);
	EXPECT_EQ(runs, c.user_io);
	EXPECT_GE(c.entries, runs * 51u);
	EXPECT_GE(c.flushes, runs) dump_counts(&t);
	EXPECT_LT(c.flushes, c.entries / 4) dump_counts(&t);
	fprintf(stderr, "# cond: %llu entries, %llu flushes, %u KHV_RUNs\n",
		(unsigned long long)c.entries, (unsigned long long)c.flushes, runs);
	khvt_destroy(&t);
}

/* What auto must pick on this host. */
static const char *auto_expected(void)
{
	char vuln[256] = "", cmdline[4096] = "";

	khvt_read_line("/sys/devices/system/cpu/vulnerabilities/l1tf", vuln, sizeof(vuln));
	if (!strncmp(vuln, "Not affected", 12))
		return "never";
	khvt_read_line("/proc/cmdline", cmdline, sizeof(cmdline));
	if (strstr(cmdline, "l1tf=off") || strstr(cmdline, "mitigations=off"))
		return "never";
	if (strstr(cmdline, "l1tf=full"))
		return "always";
	return "cond";
}

TEST_F(l1d, auto_follows_host)
{
	struct khvt_vm t;

	INTEL_VM(&t);
	SET_MODE("always");
	SET_MODE("auto");
	EXPECT_MODE(auto_expected());
	khvt_destroy(&t);
}

TEST_F(l1d, bad_value)
{
	struct khvt_vm t;

	INTEL_VM(&t);
	SET_MODE("never");
	EXPECT_EQ(EINVAL, param_write("sometimes"));
	EXPECT_EQ(EINVAL, param_write("\n"));
	EXPECT_EQ(EINVAL, param_write("always2"));
	EXPECT_MODE("never");
	khvt_destroy(&t);
}

TEST_F(l1d, other_vendor)
{
	struct khvt_vm t;
	struct counts c;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, l1d_loop);
	REQUIRE_CAP(&t, KHV_CAP_EXIT_STATS);
	if (t.vendor == KHV_VENDOR_INTEL) {
		khvt_destroy(&t);
		SKIP(return, "Intel: see the other tests");
	}
	EXPECT_MODE("never");
	EXPECT_EQ(EINVAL, param_write("always"));
	EXPECT_EQ(EINVAL, param_write("cond"));
	EXPECT_EQ(0, param_write("never"));
	EXPECT_EQ(0, param_write("auto"));
	EXPECT_MODE("never");
	run_loop(&t, 3, 10);
	get_counts(&t, &c);
	EXPECT_GE(c.entries, 3u * 11);
	EXPECT_EQ(0u, c.flushes) dump_counts(&t);
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
