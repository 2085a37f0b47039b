// SPDX-License-Identifier: GPL-2.0
/*
 * exit_stats: after a guest (lib/server.S) executed CPUID N times and did
 * port I/O and HLT, KHV_GET_EXIT_STATS reports a hardware counter whose name
 * contains "cpuid" with count >= N, and user-exit counters for IO and HLT at
 * least as large as the exits the test saw.  Only non-zero counters are
 * listed; nent too small gives E2BIG with nent set to the number needed.
 */
#include <sys/ioctl.h>

#include "khvt_harness.h"

#define N_CPUID		10
#define MAX_STATS	(KHV_MAX_EXIT_STATS + KHV_EXIT_MAX + KHV_KSTAT_MAX)

static const struct khv_exit_stat *find_user(const struct khv_exit_stat *s, uint32_t n,
					     uint32_t code)
{
	for (uint32_t i = 0; i < n; i++)
		if (s[i].kind == KHV_STAT_USER && s[i].code == code)
			return &s[i];
	return NULL;
}

static void dump_stats(const struct khv_exit_stat *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		fprintf(stderr, "#   %s code %#x count %llu \"%.32s\"\n",
			s[i].kind == KHV_STAT_HW ? "hw  " : "user", s[i].code,
			(unsigned long long)s[i].count, s[i].name);
}

TEST(counts_after_run)
{
	struct khv_exit_stat *s = calloc(MAX_STATS, sizeof(*s));
	const struct khv_exit_stat *io, *hlt, *cpuid = NULL;
	uint32_t n, i, r[4];
	struct khvt_vm t;

	ASSERT_NE(NULL, s);
	VM_WITH_PAYLOAD(&t, KHVT_LONG, server64);
	REQUIRE_CAP(&t, KHV_CAP_EXIT_STATS);

	KHV_OK(khv_vcpu_get_exit_stats(&t.vcpu, s, MAX_STATS, &n));
	EXPECT_EQ(0u, n) {
		TH_LOG("a vCPU that never ran has %u non-zero counters:", n);
		dump_stats(s, n);
	}

	for (i = 0; i < N_CPUID; i++)
		srv_cpuid(&t, 0, 0, r);
	srv_halt(&t);

	KHV_OK(khv_vcpu_get_exit_stats(&t.vcpu, s, MAX_STATS, &n));
	ASSERT_GT(n, 0u);
	for (i = 0; i < n; i++) {
		EXPECT_TRUE(s[i].kind == KHV_STAT_HW || s[i].kind == KHV_STAT_USER ||
			    (s[i].kind == KHV_STAT_KERNEL && s[i].code < KHV_KSTAT_MAX))
			TH_LOG("entry %u: kind %u", i, s[i].kind);
		EXPECT_NE(0ull, (unsigned long long)s[i].count) TH_LOG("entry %u: zero count", i);
		EXPECT_NE(NULL, memchr(s[i].name, 0, sizeof(s[i].name)))
			TH_LOG("entry %u: name not NUL terminated", i);
		EXPECT_NE(0, s[i].name[0]) TH_LOG("entry %u: empty name", i);
		if (s[i].kind == KHV_STAT_HW && strstr(s[i].name, "cpuid"))
			cpuid = &s[i];
	}
	/* Exits the test saw: 7 per CPUID op (3 IN, 4 OUT), 1 for SRV_HALT's IN. */
	io = find_user(s, n, KHV_EXIT_IO);
	hlt = find_user(s, n, KHV_EXIT_HLT);
	if (!cpuid || !io || !hlt) {
		dump_stats(s, n);
		KHVT_FAIL("missing counter: hw \"cpuid\" %s, user IO %s, user HLT %s",
			  cpuid ? "found" : "MISSING", io ? "found" : "MISSING",
			  hlt ? "found" : "MISSING");
	}
	EXPECT_GE(cpuid->count, (uint64_t)N_CPUID) dump_stats(s, n);
	EXPECT_GE(io->count, (uint64_t)(7 * N_CPUID + 1)) dump_stats(s, n);
	EXPECT_GE(hlt->count, 1ull) dump_stats(s, n);
	free(s);
	khvt_destroy(&t);
}

TEST(too_small)
{
	struct khv_exit_stats *st;
	struct khvt_vm t;
	uint32_t needed;
	int ret;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, server64);
	REQUIRE_CAP(&t, KHV_CAP_EXIT_STATS);
	srv_halt(&t);

	st = calloc(1, sizeof(*st) + MAX_STATS * sizeof(st->entries[0]));
	ASSERT_NE(NULL, st);
	st->nent = 0;
	ret = ioctl(t.vcpu.fd, KHV_GET_EXIT_STATS, st);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(E2BIG, errno);
	needed = st->nent;
	EXPECT_GE(needed, 2u) TH_LOG("after IO and HLT exits, nent %u", needed);

	st->nent = needed - 1;
	EXPECT_EQ(-1, ioctl(t.vcpu.fd, KHV_GET_EXIT_STATS, st));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(needed, st->nent);

	st->nent = needed;
	EXPECT_EQ(0, ioctl(t.vcpu.fd, KHV_GET_EXIT_STATS, st)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(needed, st->nent);
	free(st);
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
