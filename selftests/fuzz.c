// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz: khv's uAPI fuzzer (selftests/fuzz/) for a bounded run, as make
 * check runs it in every lane: random ioctl sequences over system, VM and
 * vCPU fds, random guests in every mode, closes, unmaps, slot changes,
 * signals and forks racing running vCPUs.  Fails on a contract violation
 * (an undocumented errno, an accepted reserved field, an exit reason out
 * of range, a child process served by its parent's VM), on a crash (the
 * seed and the last calls are printed), and on any kernel warning.
 *
 * The environment sets the run (make fuzz passes it from the kernel
 * command line): KHV_FUZZ_SEED (default: the day number, printed),
 * KHV_FUZZ_CALLS (operations; default 20000), KHV_FUZZ_SECONDS (default
 * 30, whichever comes first: the lane's per-test limit is 60 s; 0 = no
 * limit); KHV_FUZZ_OPS and KHV_FUZZ_INSNS, bit masks over the operation
 * table (fuzz/ops.c) and the guest instruction templates (fuzz/guest.c),
 * narrow a run down when hunting a failure (0: all).
 */
#include <stdlib.h>
#include <time.h>

#include "khvt_harness.h"
#include "fuzz/fuzz.h"

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
}

FIXTURE_TEARDOWN(fuzz)
{
}

/* The harness's own limit: far above any KHV_FUZZ_SECONDS make fuzz asks for. */
TEST_F_TIMEOUT(fuzz, bounded_run, 86400)
{
	struct fuzz_config cfg = {
		.seed = env_u64("KHV_FUZZ_SEED", (uint64_t)time(NULL) / 86400),
		.calls = env_u64("KHV_FUZZ_CALLS", 20000),
		.seconds = (unsigned int)env_u64("KHV_FUZZ_SECONDS", 30),
		.op_mask = env_u64("KHV_FUZZ_OPS", 0),
		.insn_mask = env_u64("KHV_FUZZ_INSNS", 0),
	};
	struct fuzz_stats st;
	struct khv_sys sys;
	char first[256];
	int kmsg, ret, problems;

	ret = khv_open(&sys, NULL);
	if (khvt_no_device(ret))
		SKIP(return, "no khv device: %s", strerror(-ret));
	khv_close(&sys);
	kmsg = khvt_kmsg_open();
	ASSERT_GE(kmsg, 0);
	printf("# fuzz: seed=%llu calls=%llu seconds=%u (KHV_FUZZ_SEED=%llu reproduces the sequence)\n",
	       (unsigned long long)cfg.seed, (unsigned long long)cfg.calls, cfg.seconds,
	       (unsigned long long)cfg.seed);
	fflush(stdout);
	fuzz_run(&cfg, &st);
	fuzz_print_stats(&st, "# fuzz: ");
	EXPECT_EQ(0ull, (unsigned long long)st.violations) TH_LOG("seed %llu", (unsigned long long)cfg.seed);
	problems = khvt_kmsg_problems(kmsg, first, sizeof(first));
	EXPECT_EQ(0, problems) TH_LOG("kernel log after seed %llu: %s",
				      (unsigned long long)cfg.seed, first);
	close(kmsg);
}

TEST_HARNESS_MAIN
