// SPDX-License-Identifier: GPL-2.0
/*
 * khvrun_mb: khv-run boots its Multiboot test kernel
 * (tools/khv-run/tests/guest/mbtest.S), which checks what the loader handed
 * over, prints a line on COM1 and leaves by the debug-exit port.  No Linux
 * inside: quick enough for every lane, Bochs (VT-x) included, where the
 * khvrun lane's nested Linux boots do not run.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "khvrun_util.h"

/* mbtest.elf: $KHVRUN_MBTEST, else next to the tools in the lane's image. */
static const char *mbtest(void)
{
	return env_or("KHVRUN_MBTEST", "/khv/tools/mbtest.elf");
}

#define NEED_FILES() do {							\
	if (access(bin(), X_OK) || access(mbtest(), R_OK))			\
		SKIP(return, "no khv-run or mbtest.elf (%s, %s)", bin(), mbtest()); \
	if (access("/dev/khv", R_OK | W_OK))					\
		SKIP(return, "no /dev/khv");					\
} while (0)

FIXTURE(khvrun_mb) {
	int unused;
};

FIXTURE_SETUP(khvrun_mb)
{
}

FIXTURE_TEARDOWN(khvrun_mb)
{
}

/* The kernel's checks passed: status (0x21 << 1) | 1, its line on COM1. */
static void boot(struct __test_metadata *_metadata, const char *cpus)
{
	const char *argv[] = { NULL, "-k", mbtest(), "-m", "64M", "-c", cpus,
			       "-a", "mbtest hello", NULL };
	struct kr_out o;

	ASSERT_EQ(0, kr_run(&o, 120, NULL, 0, argv));
	EXPECT_EQ((0x21 << 1) | 1, o.status) TH_LOG("output: %s", o.buf);
	EXPECT_EQ(1, count(o.buf, "KHVRUN-MULTIBOOT ok cmdline=mbtest hello\n"))
		TH_LOG("output: %s", o.buf);
	free(o.buf);
}

TEST_F_TIMEOUT(khvrun_mb, debug_exit_1_vcpu, 150)
{
	NEED_FILES();
	boot(_metadata, "1");
}

/* The application processors wait for a SIPI that never comes. */
TEST_F_TIMEOUT(khvrun_mb, debug_exit_3_vcpus, 150)
{
	NEED_FILES();
	boot(_metadata, "3");
}

/* Cut short: its header is there, its segments are not: status 4. */
TEST_F_TIMEOUT(khvrun_mb, truncated_image, 60)
{
	/* 200 bytes: the header (at 0x60) but not all of the segment after it. */
	char path[] = "/tmp/khvrun-mb-XXXXXX", buf[200];
	const char *argv[] = { NULL, "-k", path, NULL };
	int in = open(mbtest(), O_RDONLY), fd;
	struct kr_out o;

	NEED_FILES();
	ASSERT_LE(0, in);
	ASSERT_EQ((ssize_t)sizeof(buf), read(in, buf, sizeof(buf)));
	close(in);
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)sizeof(buf), write(fd, buf, sizeof(buf)));
	close(fd);
	ASSERT_EQ(0, kr_run(&o, 60, NULL, 0, argv));
	unlink(path);
	EXPECT_EQ(4, o.status) TH_LOG("output: %s", o.buf);
	EXPECT_NE(NULL, strstr(o.buf, "multiboot")) TH_LOG("output: %s", o.buf);
	EXPECT_EQ(0, count(o.buf, "KHVRUN-MULTIBOOT"));
	free(o.buf);
}

TEST_HARNESS_MAIN
