// SPDX-License-Identifier: GPL-2.0
/*
 * khvrun_io: khv-run's second-level Linux guest with its devices at work,
 * and moved: a disk whose flushed writes survive SIGKILL of khv-run, a
 * virtio-net on a tap, two guests on one bridge, guest memory on hugetlbfs
 * pages, and live migration between two khv-run processes plus snapshot
 * and restore while the guest writes memory and serves a connection.
 *
 * The tests of selftest khvrun (boots, resets, the control socket, the
 * console, bad input) with the guest's files and checks of khvrun_guest.h;
 * a program of its own so that make check runs it in another lane than
 * khvrun (scripts/check.sh: lane 5level, while lane khvrun stays under
 * its ten minutes).  Files: KHVRUN_BIN, KHVRUN_KERNEL, KHVRUN_INITRD,
 * KHVRUN_VMLINUX; without them the tests skip.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <glob.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * Waits on khv-run itself, no guest boot in them (its start, a migration
 * of the 256 MiB guest, its end): seconds alone, but the lane runs beside
 * five other emulators on two cores, where a khv-run's start once took
 * more than 30 s.
 */
#define KR_STEP_TIMEOUT		120

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "khvrun_util.h"
#include "khvrun_guest.h"

/* The guest's disk pattern (tools/khv-run/tests/guest/init, pattern()). */
static size_t disk_pattern(char *buf, size_t len)
{
	size_t n = 0;

	for (int i = 0; i < 2048 && n + 27 <= len; i++)
		n += snprintf(buf + n, len - n, "khvrun disk line %08d\n", i);
	return n;
}

/*
 * virtio-blk: the guest writes with a flush (conv=fsync) and says so; at
 * that line khv-run is killed with SIGKILL, and what the guest flushed must
 * be in the image.  Then the image boots again, read-only: the guest reads
 * the data back and its write is refused, and a second khv-run that wants
 * to write the image meanwhile is refused (the image is locked).
 */
TEST_F_TIMEOUT(khvrun, disk_flush_survives_sigkill, 500)
{
	char img[] = "/tmp/khvrun-disk-XXXXXX", disk[64], disk_ro[80];
	static char want[65536], got[65536];
	const char *argv[] = { NULL, "-k", quick_kernel(), "-i", initrd(), "-m", "256M", "-c", "2",
			       "--disk", disk, "-a", CMDLINE("disk"), NULL };
	const char *argv2[] = { NULL, "-k", kernel(), "-m", "256M", "--disk", disk, NULL };
	const char *argv_ro[] = { NULL, "-k", quick_kernel(), "-i", initrd(), "-m", "256M",
				  "--disk", disk_ro, "-a", CMDLINE("diskcheck:hold"), NULL };
	size_t n = disk_pattern(want, sizeof(want));
	struct kr_proc p;
	struct kr_out o, o2;
	int fd;

	NEED_FILES();
	fd = mkstemp(img);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 16 << 20));
	close(fd);
	snprintf(disk, sizeof(disk), "path=%s", img);
	snprintf(disk_ro, sizeof(disk_ro), "path=%s,ro", img);

	ASSERT_EQ(0, kr_start(&p, &o, argv));
	EXPECT_TRUE(kr_pump(&p, &o, "KHVRUN-DISK-FLUSHED", 1, now() + KR_BOOT_TIMEOUT));
	kill(p.pid, SIGKILL);
	kr_finish(&p, &o, now() + 30);
	EXPECT_EQ(-1, o.status);			/* killed, as meant */
	check_guest(_metadata, &o, 2, 1);
	/* What the guest flushed before the kill is in the image. */
	fd = open(img, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ((ssize_t)n, read(fd, got, n));
	close(fd);
	EXPECT_EQ(0, memcmp(want, got, n)) TH_LOG("the flushed data is not in the image");
	free(o.buf);

	/*
	 * Read-only again, the guest checks and then stays up; a writer
	 * beside it meanwhile is refused (locked): status 4.  Then SIGTERM.
	 */
	ASSERT_EQ(0, kr_start(&p, &o, argv_ro));
	EXPECT_TRUE(kr_pump(&p, &o, "KHVRUN-DISK-RO-WRITE", 1, now() + KR_BOOT_TIMEOUT));
	ASSERT_EQ(0, kr_run(&o2, 60, NULL, 0, argv2));
	EXPECT_EQ(4, o2.status) TH_LOG("%s", o2.buf);
	EXPECT_NE(NULL, strstr(o2.buf, "in use")) TH_LOG("%s", o2.buf);
	free(o2.buf);
	kill(p.pid, SIGTERM);
	kr_finish(&p, &o, now() + 60);
	EXPECT_EQ(0, o.status);
	EXPECT_EQ(1, count(o.buf, "KHVRUN-DISK-READBACK ok"));
	EXPECT_EQ(1, count(o.buf, "KHVRUN-DISK-RO-WRITE refused"));
	check_guest(_metadata, &o, 1, 1);
	free(o.buf);
	unlink(img);
}

/* Wait up to 60 s for a network interface to appear. */
static bool wait_netdev(const char *name)
{
	char path[96];
	double deadline = now() + 60;

	snprintf(path, sizeof(path), "/sys/class/net/%s", name);
	while (access(path, F_OK) && now() < deadline)
		usleep(100000);
	return !access(path, F_OK);
}

/* /dev/net/tun, from tun.ko in the lane's image (a module in Debian's kernel). */
static bool have_tun(void)
{
	if (access("/dev/net/tun", R_OK | W_OK) && !access("/khv/l2/tun.ko", R_OK) &&
	    system("insmod /khv/l2/tun.ko") == 0) {
		for (int i = 0; i < 50 && access("/dev/net/tun", F_OK); i++)
			usleep(100000);
	}
	return !access("/dev/net/tun", R_OK | W_OK);
}

/*
 * virtio-net on a tap: khv-run creates tap khvtap0, the test machine takes
 * 10.0.3.1 on it, the guest 10.0.3.2; the guest pings, then sends 4 MiB
 * over TCP (about 2,900 full frames: the queues wrap many times), which
 * the test receives and times (a figure in the log, not a pass condition:
 * the emulator's speed is not khv's; make bench BENCH_LANES=vmm sends
 * 16 MiB).
 */
TEST_F_TIMEOUT(khvrun, net_tap_traffic, 400)
{
	const char *argv[] = { NULL, "-k", quick_kernel(), "-i", initrd(), "-m", "256M", "-c", "2",
			       "--net", "tap=khvtap0", "-a", CMDLINE("net"), NULL };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(5001) };
	const long want = 4 << 20;
	struct kr_proc p;
	struct kr_out o;
	double t0 = 0, t1 = 0;
	long got = 0;
	int ls, c = -1, one = 1;
	struct pollfd lpf = { .events = POLLIN };
	static char buf[65536];

	NEED_FILES();
	if (!have_tun())
		SKIP(return, "no /dev/net/tun");
	ASSERT_EQ(0, kr_start(&p, &o, argv));
	EXPECT_TRUE(wait_netdev("khvtap0"));
	ASSERT_EQ(0, system("ip addr add 10.0.3.1/24 dev khvtap0 && ip link set khvtap0 up"));
	inet_pton(AF_INET, "10.0.3.1", &sa.sin_addr);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, ls);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ASSERT_EQ(0, bind(ls, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, listen(ls, 1));
	lpf.fd = ls;
	if (poll(&lpf, 1, KR_BOOT_TIMEOUT * 1000) == 1)
		c = accept(ls, NULL, NULL);
	EXPECT_LE(0, c) TH_LOG("the guest never connected");
	while (c >= 0 && got < want) {
		struct pollfd pf = { .fd = c, .events = POLLIN };
		ssize_t n;

		if (poll(&pf, 1, 60000) != 1)
			break;
		n = read(c, buf, sizeof(buf));
		if (n <= 0)
			break;
		if (!got)
			t0 = now();
		got += n;
		t1 = now();
	}
	if (c >= 0)
		close(c);		/* the guest's nc ends when we do */
	close(ls);
	EXPECT_EQ(want, got);
	if (got && t1 > t0)
		ksft_print_msg("khvrun net: %ld bytes guest -> test machine in %.2f s: %.1f MB/s\n",
			       got, t1 - t0, got / (t1 - t0) / 1e6);
	kr_finish(&p, &o, now() + KR_BOOT_TIMEOUT);
	EXPECT_EQ(0, o.status);
	EXPECT_EQ(1, count(o.buf, "KHVRUN-NET ping=ok"));
	check_guest(_metadata, &o, 2, 1);
	free(o.buf);
}

/*
 * Two guests on a bridge: khv-run A and B, each on its own tap, both taps
 * in bridge khvbr0 of the test machine.  B pings A, then sends it 3.4 MB
 * over TCP; A reports the size and checksum it received, which must be
 * what B says it sent.
 */
TEST_F_TIMEOUT(khvrun, two_guests_on_a_bridge, 600)
{
	const char *argv_a[] = { NULL, "-k", quick_kernel(), "-i", initrd(), "-m", "128M", "-c", "1",
				 "--net", "tap=khvtapa,mac=52:54:00:12:04:01",
				 "-a", CMDLINE("peer:listen"), NULL };
	const char *argv_b[] = { NULL, "-k", quick_kernel(), "-i", initrd(), "-m", "128M", "-c", "1",
				 "--net", "tap=khvtapb,mac=52:54:00:12:04:02",
				 "-a", CMDLINE("peer:send"), NULL };
	struct kr_proc pa, pb;
	struct kr_out a, b;
	char sent[64] = "", got[64] = "";
	const char *l;

	NEED_FILES();
	if (!have_tun())
		SKIP(return, "no /dev/net/tun");
	/* The lane's image carries the bridge module and what it needs. */
	if (system("ip link add khvbr0 type bridge 2>/dev/null") &&
	    (system("for m in llc stp bridge; do [ -d /sys/module/$m ] || "
		    "insmod /khv/l2/$m.ko || exit 1; done") ||
	     system("ip link add khvbr0 type bridge")))
		SKIP(return, "no bridge here");
	ASSERT_EQ(0, system("ip link set khvbr0 up"));

	ASSERT_EQ(0, kr_start(&pa, &a, argv_a));
	ASSERT_EQ(0, kr_start(&pb, &b, argv_b));
	EXPECT_TRUE(wait_netdev("khvtapa"));
	EXPECT_TRUE(wait_netdev("khvtapb"));
	EXPECT_EQ(0, system("for t in khvtapa khvtapb; do ip link set $t master khvbr0 || "
			    "brctl addif khvbr0 $t || exit 1; ip link set $t up || exit 1; done"));
	/* Each guest powers off by itself once the stream is through. */
	kr_finish(&pb, &b, pb.t0 + 2 * KR_BOOT_TIMEOUT);
	kr_finish(&pa, &a, now() + 60);
	system("ip link del khvbr0");

	l = strstr(b.buf, "KHVRUN-PEER sent=");
	if (l)
		sscanf(l, "KHVRUN-PEER sent=%63[^\r\n]", sent);
	l = strstr(a.buf, "KHVRUN-PEER got=");
	if (l)
		sscanf(l, "KHVRUN-PEER got=%63[^\r\n]", got);
	EXPECT_STRNE("", sent) TH_LOG("sender: %s", b.buf + (b.len > 3000 ? b.len - 3000 : 0));
	EXPECT_STREQ(sent, got) TH_LOG("receiver: %s", a.buf + (a.len > 3000 ? a.len - 3000 : 0));
	EXPECT_EQ(0, strncmp(sent, "3407872 ", 8)) TH_LOG("sent %s", sent);
	ksft_print_msg("khvrun bridge: guest to guest %s\n", got);
	EXPECT_EQ(0, a.status);
	EXPECT_EQ(0, b.status);
	check_guest(_metadata, &a, 1, 1);
	check_guest(_metadata, &b, 1, 1);
	free(a.buf);
	free(b.buf);
}

/* /proc/meminfo's "<key>: N", or -1. */
static long meminfo(const char *key)
{
	char line[128];
	size_t kl = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static int set_nr_hugepages(long n)
{
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "w");
	int ok = f && fprintf(f, "%ld\n", n) > 0;

	if (f && fclose(f))
		ok = 0;
	return ok ? 0 : -1;
}

/*
 * --hugepages: guest RAM in hugetlb pages.  With 64 reserved for a 128 MiB
 * guest, it boots, and every one of them is either in use or reserved for
 * it; with none reserved khv-run says so and exits 6 (host error).
 */
TEST_F_TIMEOUT(khvrun, hugepages, 300)
{
	const char *argv[] = { NULL, "-k", quick_kernel(), "-i", initrd(), "-m", "128M", "-c", "1",
			       "--hugepages", "-a", CMDLINE("hold"), NULL };
	long before = meminfo("HugePages_Total"), used, rsvd;
	struct kr_proc p;
	struct kr_out o;

	NEED_FILES();
	if (meminfo("Hugepagesize") != 2048 || before != 0 || set_nr_hugepages(64) ||
	    meminfo("HugePages_Total") != 64) {
		set_nr_hugepages(before > 0 ? before : 0);
		SKIP(return, "cannot reserve 64 huge pages of 2 MiB here");
	}
	ASSERT_EQ(0, kr_start(&p, &o, argv));
	EXPECT_TRUE(kr_pump(&p, &o, "action=hold", 1, p.t0 + KR_BOOT_TIMEOUT));
	used = meminfo("HugePages_Total") - meminfo("HugePages_Free");
	rsvd = meminfo("HugePages_Rsvd");
	kill(p.pid, SIGTERM);
	kr_finish(&p, &o, now() + 60);
	EXPECT_LT(0, used);
	EXPECT_EQ(64, used + rsvd) TH_LOG("in use %ld, reserved %ld", used, rsvd);
	EXPECT_EQ(0, o.status);
	check_guest(_metadata, &o, 1, 1);
	free(o.buf);

	/* None reserved: one clear line, exit 6. */
	ASSERT_EQ(0, set_nr_hugepages(0));
	ASSERT_EQ(0, kr_run(&o, 60, NULL, 0, argv));
	EXPECT_EQ(6, o.status) TH_LOG("output: %s", o.buf);
	EXPECT_NE(NULL, strstr(o.buf, "huge pages")) TH_LOG("output: %s", o.buf);
	EXPECT_EQ(0, count(o.buf, "KHVRUN-INIT"));
	free(o.buf);
}

/* One line through the guest's echo service: sent, and the same back within 30 s. */
static bool echo_round(int fd, int i)
{
	char out[32], in[32];
	size_t n = 0, want = (size_t)snprintf(out, sizeof(out), "khv %d\n", i);
	double deadline = now() + 30;

	if (write(fd, out, want) != (ssize_t)want)
		return false;
	while (n < want) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&pf, 1, (int)((deadline - now()) * 1000)) != 1)
			return false;
		k = read(fd, in + n, want - n);
		if (k <= 0)
			return false;
		n += (size_t)k;
	}
	return !memcmp(in, out, want);
}

/* query-migrate until its status is one of the ends (or the deadline): the last answer. */
static char *wait_migration(int fd, char *line, size_t len, double deadline, int echo_fd,
			    int *rounds, int *echo_fail)
{
	char *r = NULL;

	while (now() < deadline) {
		r = ctl_cmd(fd, "{\"execute\": \"query-migrate\"}\n", line, len);
		if (!r || strstr(r, "\"completed\"") || strstr(r, "\"failed\"") ||
		    strstr(r, "\"cancelled\""))
			break;
		/* The guest serves its connection meanwhile. */
		if (echo_fd >= 0 && !echo_round(echo_fd, (*rounds)++))
			(*echo_fail)++;
		usleep(50000);
	}
	return r;
}

/*
 * Live migration and snapshots (Documentation/khv/migration.rst), one guest
 * through all of it: it checks its memory and disk pass after pass
 * (memcheck) and serves a TCP echo connection on a bridge.
 *  1. A destination with other RAM refuses the stream, and a second
 *     migration is cancelled after its first pass: the source runs on
 *     through both, its guest unaware.
 *  2. The guest moves to a khv-run (--incoming) on another tap of the
 *     bridge while the test machine keeps talking to it: no echo round is
 *     lost (the destination announces the guest's MAC); the source stays
 *     paused (postmigrate).
 *  3. The destination saves it with snapshot-save and quits; a new khv-run
 *     restores it (--restore), without a boot, after the process it came
 *     from is gone.
 * Through all three khv-runs the passes go on in order, none lost, none
 * twice, all good.  Then what a restore must refuse: a byte flipped in the
 * file, another --memory, a disk written since the snapshot (restored with
 * --restore-changed-disks).
 */
TEST_F_TIMEOUT(khvrun, migration_and_snapshot, 600)
{
	const char *sock_a = "/tmp/khvrun-mig-a.sock", *sock_b = "/tmp/khvrun-mig-b.sock";
	const char *mig = "unix:/tmp/khvrun-mig.sock", *snap = "/tmp/khvrun.snap";
	const char *bad_snap = "/tmp/khvrun-bad.snap", *pass = "KHVRUN-MEMCHECK pass=";
	char img[] = "/tmp/khvrun-migdisk-XXXXXX", disk[64], cmd[256], line[8192], *r;
	const char *argv_a[] = { NULL, "-k", quick_kernel(), "-i", initrd(), "-m", "256M",
				 "-c", "2", "--rng", "--disk", disk, "--control", sock_a,
				 "--net", "tap=khvtapm0,mac=52:54:00:12:05:02",
				 "-a", CMDLINE("memcheck khvip=10.0.5.2/24"), NULL };
	const char *argv_b[] = { NULL, "-k", quick_kernel(), "-i", initrd(), "-m", "256M",
				 "-c", "2", "--rng", "--disk", disk, "--control", sock_b,
				 "--net", "tap=khvtapm1,mac=52:54:00:12:05:02",
				 "-a", CMDLINE("memcheck khvip=10.0.5.2/24"), "--incoming", mig,
				 NULL, NULL };
	const int ram = 6, last = 18;	/* argv_b's --memory value, --incoming's place */
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(5003) };
	struct kr_proc pa, pb;
	struct kr_out a, b, c;
	int fd_a = -1, fd_b, echo = -1, rounds = 0, echo_fail = 0, at_move, first, final;
	char *two, *all;
	struct stat st;

	NEED_FILES();
	if (!have_tun())
		SKIP(return, "no /dev/net/tun");
	if (system("ip link add khvbr1 type bridge 2>/dev/null") &&
	    (system("for m in llc stp bridge; do [ -d /sys/module/$m ] || "
		    "insmod /khv/l2/$m.ko || exit 1; done") ||
	     system("ip link add khvbr1 type bridge")))
		SKIP(return, "no bridge here");
	ASSERT_EQ(0, system("ip addr add 10.0.5.1/24 dev khvbr1 && ip link set khvbr1 up"));
	/* A disk with something to read: the guest checks its first 1 MiB. */
	fd_b = mkstemp(img);
	ASSERT_LE(0, fd_b);
	for (int i = 0; i < 256; i++) {
		char blk[4096];

		memset(blk, 'a' + i % 26, sizeof(blk));
		ASSERT_EQ((ssize_t)sizeof(blk), write(fd_b, blk, sizeof(blk)));
	}
	close(fd_b);
	snprintf(disk, sizeof(disk), "path=%s", img);
	unlink(snap);

	ASSERT_EQ(0, kr_start(&pa, &a, argv_a));
	EXPECT_TRUE(wait_netdev("khvtapm0"));
	EXPECT_EQ(0, system("ip link set khvtapm0 master khvbr1 && ip link set khvtapm0 up"));
	EXPECT_TRUE(kr_pump(&pa, &a, pass, 1, now() + KR_BOOT_TIMEOUT));
	EXPECT_EQ(1, count(a.buf, "KHVRUN-ECHO listening"));
	inet_pton(AF_INET, "10.0.5.2", &sa.sin_addr);
	for (double until = now() + 60; echo < 0 && now() < until; usleep(200000)) {
		echo = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (echo >= 0 && connect(echo, (struct sockaddr *)&sa, sizeof(sa))) {
			close(echo);
			echo = -1;
		}
	}
	EXPECT_LE(0, echo) TH_LOG("no echo service at 10.0.5.2:5003");
	for (int i = 0; echo >= 0 && i < 5; i++)
		EXPECT_TRUE(echo_round(echo, rounds++));
	fd_a = ctl_open(sock_a);
	ASSERT_LE(0, fd_a);

	/* 1. A destination with other RAM: it refuses, the source runs on. */
	argv_b[ram] = "128M";
	ASSERT_EQ(0, kr_start(&pb, &b, argv_b));
	EXPECT_TRUE(kr_pump(&pb, &b, "waiting for a migration", 1, now() + KR_STEP_TIMEOUT));
	snprintf(cmd, sizeof(cmd), "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"%s\"}}\n",
		 mig);
	r = ctl_cmd(fd_a, cmd, line, sizeof(line));
	EXPECT_TRUE(r && strstr(r, "\"return\"")) TH_LOG("%s", r);
	r = wait_migration(fd_a, line, sizeof(line), now() + KR_STEP_TIMEOUT, echo, &rounds, &echo_fail);
	EXPECT_TRUE(r && strstr(r, "\"failed\"") && strstr(r, "MiB of RAM")) TH_LOG("%s", r);
	kr_finish(&pb, &b, now() + KR_STEP_TIMEOUT);
	EXPECT_EQ(4, b.status) TH_LOG("%s", b.buf);
	EXPECT_NE(NULL, strstr(b.buf, "MiB of RAM in the snapshot")) TH_LOG("%s", b.buf);
	free(b.buf);
	argv_b[ram] = "256M";

	/* Cancelled midway (after its first pass over memory): the source runs on. */
	ASSERT_EQ(0, kr_start(&pb, &b, argv_b));
	EXPECT_TRUE(kr_pump(&pb, &b, "waiting for a migration", 1, now() + KR_STEP_TIMEOUT));
	r = ctl_cmd(fd_a, "{\"execute\": \"migrate-set-parameters\", \"arguments\": "
		    "{\"downtime-limit\": 0}}\n", line, sizeof(line));
	EXPECT_TRUE(r && strstr(r, "\"return\""));
	r = ctl_cmd(fd_a, cmd, line, sizeof(line));
	EXPECT_TRUE(r && strstr(r, "\"return\"")) TH_LOG("%s", r);
	for (double until = now() + 60; now() < until; usleep(20000)) {
		r = ctl_cmd(fd_a, "{\"execute\": \"query-migrate\"}\n", line, sizeof(line));
		if (!r || (!strstr(r, "\"setup\"") && !strstr(r, "\"dirty-sync-count\":0")))
			break;
	}
	EXPECT_TRUE(r && strstr(r, "\"active\"")) TH_LOG("%s", r);
	r = ctl_cmd(fd_a, "{\"execute\": \"migrate_cancel\"}\n", line, sizeof(line));
	EXPECT_TRUE(r && strstr(r, "\"return\""));
	r = wait_migration(fd_a, line, sizeof(line), now() + KR_STEP_TIMEOUT, echo, &rounds, &echo_fail);
	EXPECT_TRUE(r && strstr(r, "\"cancelled\"")) TH_LOG("%s", r);
	kr_finish(&pb, &b, now() + KR_STEP_TIMEOUT);
	EXPECT_EQ(4, b.status) TH_LOG("%s", b.buf);
	free(b.buf);
	r = ctl_cmd(fd_a, "{\"execute\": \"query-status\"}\n", line, sizeof(line));
	EXPECT_TRUE(r && strstr(r, "\"running\"")) TH_LOG("%s", r);

	/* 2. The real one, with the default downtime limit. */
	ASSERT_EQ(0, kr_start(&pb, &b, argv_b));
	EXPECT_TRUE(wait_netdev("khvtapm1"));
	EXPECT_EQ(0, system("ip link set khvtapm1 master khvbr1 && ip link set khvtapm1 up"));
	EXPECT_TRUE(kr_pump(&pb, &b, "waiting for a migration", 1, now() + KR_STEP_TIMEOUT));
	r = ctl_cmd(fd_a, "{\"execute\": \"migrate-set-parameters\", \"arguments\": "
		    "{\"downtime-limit\": 300}}\n", line, sizeof(line));
	r = ctl_cmd(fd_a, cmd, line, sizeof(line));
	EXPECT_TRUE(r && strstr(r, "\"return\"")) TH_LOG("%s", r);
	r = wait_migration(fd_a, line, sizeof(line), now() + 120, echo, &rounds, &echo_fail);
	EXPECT_TRUE(r && strstr(r, "\"completed\"")) TH_LOG("%s", r);
	ksft_print_msg("migration_and_snapshot: %s", r ? r : "no answer\n");
	EXPECT_TRUE(kr_pump(&pb, &b, "migrated in from", 1, now() + KR_STEP_TIMEOUT));
	r = ctl_cmd(fd_a, "{\"execute\": \"query-status\"}\n", line, sizeof(line));
	EXPECT_TRUE(r && strstr(r, "\"postmigrate\"")) TH_LOG("%s", r);
	r = ctl_cmd(fd_a, "{\"execute\": \"cont\"}\n", line, sizeof(line));
	EXPECT_TRUE(r && strstr(r, "has migrated")) TH_LOG("%s", r);
	ctl_cmd(fd_a, "{\"execute\": \"quit\"}\n", line, sizeof(line));
	close(fd_a);
	kr_finish(&pa, &a, now() + 60);
	EXPECT_EQ(0, a.status);
	check_guest(_metadata, &a, 2, 1);
	at_move = last_number(a.buf, pass);
	/* The destination's guest: its connection answers, its passes go on. */
	for (int i = 0; echo >= 0 && i < 10; i++) {
		bool ok = echo_round(echo, rounds++);

		EXPECT_TRUE(ok) TH_LOG("round %d after the move", i);
	}
	if (echo >= 0)
		close(echo);
	EXPECT_TRUE(kr_pump(&pb, &b, pass, 1, now() + 120));

	/* 3. Saved by the destination, which quits; restored by a new khv-run. */
	fd_b = ctl_open(sock_b);
	EXPECT_LE(0, fd_b);
	snprintf(cmd, sizeof(cmd), "{\"execute\": \"snapshot-save\", \"arguments\": "
		 "{\"file\": \"%s\", \"quit\": true}}\n", snap);
	r = fd_b >= 0 ? ctl_cmd(fd_b, cmd, line, sizeof(line)) : NULL;
	EXPECT_TRUE(r && strstr(r, "\"return\"") && strstr(r, "\"bytes\"")) TH_LOG("%s", r);
	ksft_print_msg("migration_and_snapshot: %s", r ? r : "no answer\n");
	if (fd_b >= 0)
		close(fd_b);
	kr_finish(&pb, &b, now() + 60);
	EXPECT_EQ(0, b.status) TH_LOG("%s", b.buf);
	ASSERT_EQ(0, stat(snap, &st));
	argv_b[last] = "--restore";
	argv_b[last + 1] = snap;
	ASSERT_EQ(0, kr_start(&pb, &c, argv_b));
	EXPECT_TRUE(kr_pump(&pb, &c, pass, 2, now() + 180));
	fd_b = ctl_open(sock_b);
	if (fd_b >= 0) {
		ctl_cmd(fd_b, "{\"execute\": \"quit\"}\n", line, sizeof(line));
		close(fd_b);
	}
	kr_finish(&pb, &c, now() + 60);
	EXPECT_EQ(0, c.status);
	EXPECT_NE(NULL, strstr(c.buf, "restored from"));

	/* Pass after pass through the three: none lost, none twice, all good; no boot. */
	two = guest_output(a.buf, b.buf);
	all = two ? guest_output(two, c.buf) : NULL;
	EXPECT_TRUE(all && passes_in_order(all, pass, &first, &final)) TH_LOG("%s", all);
	EXPECT_EQ(1, first);
	EXPECT_LT(at_move, final);
	EXPECT_LT(last_number(b.buf, pass), final);
	EXPECT_EQ(0, count(b.buf, "KHVRUN-START"));
	EXPECT_EQ(0, count(c.buf, "KHVRUN-START"));
	EXPECT_EQ(0, echo_fail);
	ksft_print_msg("migration_and_snapshot: passes 1-%d on the source, to %d on the "
		       "destination, to %d restored; %d echo rounds, %d failed\n", at_move,
		       last_number(b.buf, pass), final, rounds, echo_fail);
	for (size_t i = 0; i < sizeof(bad_words) / sizeof(bad_words[0]); i++) {
		const char *w = bad_words[i];

		EXPECT_EQ(0, count(b.buf, w) + count(c.buf, w)) TH_LOG("the guest printed %s", w);
	}
	if (!_metadata->passed)
		TH_LOG("destination:\n%s\nrestored:\n%s", b.buf + (b.len > 3000 ? b.len - 3000 : 0),
		       c.buf + (c.len > 3000 ? c.len - 3000 : 0));
	free(two);
	free(all);
	free(a.buf);
	free(b.buf);
	free(c.buf);

	/* What a restore refuses: exit status 4, before any guest runs. */
	snprintf(cmd, sizeof(cmd), "cp %s %s && printf x | dd of=%s bs=1 seek=%lld "
		 "conv=notrunc 2>/dev/null", snap, bad_snap, bad_snap, (long long)st.st_size / 2);
	ASSERT_EQ(0, system(cmd));
	argv_b[last + 1] = bad_snap;
	try_bad_input(_metadata, argv_b, 4, "CRC");
	argv_b[last + 1] = snap;
	argv_b[ram] = "128M";
	try_bad_input(_metadata, argv_b, 4, "MiB of RAM in the snapshot");
	argv_b[ram] = "256M";
	fd_b = open(img, O_WRONLY);
	ASSERT_LE(0, fd_b);
	ASSERT_EQ(1, pwrite(fd_b, "z", 1, 0));
	close(fd_b);
	try_bad_input(_metadata, argv_b, 4, "was modified after the snapshot");
	argv_b[last + 2] = "--restore-changed-disks";
	ASSERT_EQ(0, kr_run(&c, 60, "restored from", 1, argv_b));
	EXPECT_EQ(0, c.status) TH_LOG("%s", c.buf);
	EXPECT_NE(NULL, strstr(c.buf, "restored from")) TH_LOG("%s", c.buf);
	free(c.buf);
	system("ip link del khvbr1");
	unlink(bad_snap);
	unlink(snap);
	unlink(img);
}

TEST_HARNESS_MAIN
