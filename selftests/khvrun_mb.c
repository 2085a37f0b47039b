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

/*
 * Snapshots and live migration where Linux is too slow to boot nested
 * (Bochs: VT-x): mbtest's counting workload, which checks its own memory
 * pass after pass, is saved and the process quits; a new khv-run restores
 * it and the passes go on, all good, from the one the snapshot cut short;
 * then it migrates to a third khv-run (--incoming) and goes on there.
 */
TEST_F_TIMEOUT(khvrun_mb, snapshot_and_migrate, 400)
{
	const char *sock = "/tmp/khvrun-mb.sock", *sock2 = "/tmp/khvrun-mb2.sock";
	const char *snap = "/tmp/khvrun-mb.snap", *mig = "unix:/tmp/khvrun-mb-mig.sock";
	const char *prefix = "KHVRUN-MB-PASS ";
	const char *argv[] = { NULL, "-k", mbtest(), "-m", "32M", "-c", "2", "--control", sock,
			       "-a", "count", NULL, NULL, NULL, NULL };
	char cmd[256], line[4096], *r, *o0, *two, *all;
	struct kr_proc p, p2;
	struct kr_out o, o2;
	int fd, saved, restored, migrated = 0, first = 0;

	NEED_FILES();
	ASSERT_EQ(0, kr_start(&p, &o, argv));
	EXPECT_TRUE(kr_pump(&p, &o, prefix, 3, now() + 120));
	fd = ctl_open(sock);
	EXPECT_LE(0, fd);
	snprintf(cmd, sizeof(cmd), "{\"execute\": \"snapshot-save\", \"arguments\": "
		 "{\"file\": \"%s\", \"quit\": true}}\n", snap);
	r = fd >= 0 ? ctl_cmd(fd, cmd, line, sizeof(line)) : NULL;
	EXPECT_TRUE(r && strstr(r, "\"return\"")) TH_LOG("%s", r);
	if (fd >= 0)
		close(fd);
	kr_finish(&p, &o, now() + 60);
	EXPECT_EQ(0, o.status) TH_LOG("%s", o.buf);
	saved = last_number(o.buf, prefix);
	EXPECT_EQ(0, count(o.buf, " BAD"));
	o0 = o.buf;		/* the first run's output, for the order of the passes */

	/*
	 * Restored --paused: no boot, nothing runs until cont (libvirt's
	 * restore of a domain saved paused); then the passes go on.
	 */
	argv[11] = "--restore";
	argv[12] = snap;
	argv[13] = "--paused";
	ASSERT_EQ(0, kr_start(&p, &o, argv));
	fd = -1;
	for (double until = now() + 60; fd < 0 && now() < until; usleep(50000))
		fd = ctl_open(sock);
	EXPECT_LE(0, fd);
	r = fd >= 0 ? ctl_cmd(fd, "{\"execute\": \"query-status\"}\n", line, sizeof(line)) : NULL;
	EXPECT_TRUE(r && strstr(r, "\"paused\"")) TH_LOG("%s", r);
	kr_pump(&p, &o, prefix, 1, now() + 1);
	EXPECT_EQ(0, count(o.buf, prefix)) TH_LOG("it ran while paused: %s", o.buf);
	r = fd >= 0 ? ctl_cmd(fd, "{\"execute\": \"cont\"}\n", line, sizeof(line)) : NULL;
	EXPECT_TRUE(r && strstr(r, "\"return\"")) TH_LOG("%s", r);
	if (fd >= 0)
		close(fd);
	EXPECT_TRUE(kr_pump(&p, &o, prefix, 3, now() + 120));
	EXPECT_EQ(0, count(o.buf, "KHVRUN-MULTIBOOT")) TH_LOG("it booted again");

	/* Migrated to a third khv-run. */
	{
		const char *argv2[] = { NULL, "-k", mbtest(), "-m", "32M", "-c", "2",
					"--control", sock2, "-a", "count", "--incoming", mig,
					NULL };

		ASSERT_EQ(0, kr_start(&p2, &o2, argv2));
	}
	EXPECT_TRUE(kr_pump(&p2, &o2, "waiting for a migration", 1, now() + 60));
	/* The destination answers while it waits: queries only. */
	fd = ctl_open(sock2);
	EXPECT_LE(0, fd);
	r = fd >= 0 ? ctl_cmd(fd, "{\"execute\": \"query-status\"}\n", line, sizeof(line)) : NULL;
	EXPECT_TRUE(r && strstr(r, "\"inmigrate\"")) TH_LOG("%s", r);
	r = fd >= 0 ? ctl_cmd(fd, "{\"execute\": \"cont\"}\n", line, sizeof(line)) : NULL;
	EXPECT_TRUE(r && strstr(r, "migrating in")) TH_LOG("%s", r);
	if (fd >= 0)
		close(fd);
	fd = ctl_open(sock);
	EXPECT_LE(0, fd);
	snprintf(cmd, sizeof(cmd), "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"%s\"}}\n",
		 mig);
	r = fd >= 0 ? ctl_cmd(fd, cmd, line, sizeof(line)) : NULL;
	EXPECT_TRUE(r && strstr(r, "\"return\"")) TH_LOG("%s", r);
	for (double until = now() + 120; fd >= 0 && now() < until; usleep(100000)) {
		r = ctl_cmd(fd, "{\"execute\": \"query-migrate\"}\n", line, sizeof(line));
		if (!r || strstr(r, "\"completed\"") || strstr(r, "\"failed\"") ||
		    strstr(r, "\"cancelled\""))
			break;
	}
	EXPECT_TRUE(r && strstr(r, "\"completed\"")) TH_LOG("%s", r);
	ksft_print_msg("snapshot_and_migrate: %s", r ? r : "no answer\n");
	if (fd >= 0) {
		ctl_cmd(fd, "{\"execute\": \"quit\"}\n", line, sizeof(line));
		close(fd);
	}
	kr_finish(&p, &o, now() + 60);
	EXPECT_EQ(0, o.status);
	restored = last_number(o.buf, prefix);
	EXPECT_TRUE(kr_pump(&p2, &o2, prefix, 3, now() + 120));
	fd = ctl_open(sock2);
	if (fd >= 0) {
		ctl_cmd(fd, "{\"execute\": \"quit\"}\n", line, sizeof(line));
		close(fd);
	}
	kr_finish(&p2, &o2, now() + 60);
	EXPECT_EQ(0, o2.status) TH_LOG("%s", o2.buf);
	EXPECT_EQ(0, count(o.buf, " BAD"));
	EXPECT_EQ(0, count(o2.buf, " BAD"));
	EXPECT_EQ(0, count(o2.buf, "KHVRUN-MULTIBOOT")) TH_LOG("it booted again");
	/* Pass after pass through all three: none lost, none twice, all good. */
	two = guest_output(o0, o.buf);
	all = two ? guest_output(two, o2.buf) : NULL;
	EXPECT_TRUE(all && passes_in_order(all, prefix, &first, &migrated)) TH_LOG("%s", all);
	EXPECT_EQ(1, first);
	EXPECT_LT(restored, migrated);
	free(two);
	free(all);
	ksft_print_msg("snapshot_and_migrate: passes 1-%d, restored to %d, migrated to %d\n",
		       saved, restored, migrated);
	free(o0);
	free(o.buf);
	free(o2.buf);
	unlink(snap);
}

TEST_HARNESS_MAIN
