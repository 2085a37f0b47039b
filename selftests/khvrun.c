// SPDX-License-Identifier: GPL-2.0
/*
 * khvrun: khv-run (tools/khv-run) boots the test kernel itself as a
 * second-level guest, with the busybox initramfs of tools/khv-run/tests/
 * guest/, and ends the way the guest asks: ACPI power-off, reset (reboot in
 * the same process, or exit with --no-reboot), the debug-exit port, or a
 * host signal.  The guest's console (COM1) is khv-run's stdout: the test
 * reads the guest's report line from it and fails on any kernel warning
 * the guest printed.  Bad input (no kernel, a corrupt one, a typo, more
 * memory than the host has) must end in one clear line and the documented
 * exit status, before any guest runs.
 *
 * Files, from the lane's image (scripts/check.sh) or the environment:
 * KHVRUN_BIN, KHVRUN_KERNEL, KHVRUN_INITRD, KHVRUN_VMLINUX.  Without them
 * the test skips.  Each run's time is printed: the lane must stay fast.
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

#include <rfb/keysym.h>
#include <rfb/rfbclient.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "khvrun_util.h"

#define KR_BOOT_TIMEOUT		240	/* s: one boot of the test kernel, nested */
/* What the guest kernel must never print (as scripts/check-log.sh judges hosts). */
static const char *const bad_words[] = {
	"BUG:", "WARNING:", "Oops", "Call Trace", "Kernel panic", "general protection",
	"unchecked MSR access", "soft lockup", "hung task", "UBSAN:", "invalid opcode",
};

static const char *kernel(void) { return env_or("KHVRUN_KERNEL", "/khv/l2/vmlinuz"); }
static const char *initrd(void) { return env_or("KHVRUN_INITRD", "/khv/l2/initrd.cpio.gz"); }
static const char *vmlinux(void) { return env_or("KHVRUN_VMLINUX", "/khv/l2/vmlinux"); }
static const char *khv_top(void) { return env_or("KHVRUN_TOP", "/khv/l2/khv-top"); }
static const char *khv_trace(void) { return env_or("KHVRUN_TRACE", "/khv/l2/khv-trace"); }

/*
 * The kernel for a test whose subject is not the boot protocol: the same
 * kernel uncompressed, entered by PVH, when the lane has it.  Its own
 * decompressor costs a nested boot about 5 s of 13 in the lane's test
 * machine; the bzImage path keeps its tests (poweroff_1_vcpu, bad_input,
 * and selftest libvirt's guests).  The reboot is one of the others: there
 * khv-run loads the ELF image again into the rebuilt VM.
 */
static const char *quick_kernel(void)
{
	return access(vmlinux(), R_OK) ? kernel() : vmlinux();
}

static int have_files(void)
{
	return !access(bin(), X_OK) && !access(kernel(), R_OK) && !access(initrd(), R_OK);
}

/*
 * KHVRUN_ONLY=NAME (the environment, or the test machine's kernel command
 * line, which Linux hands to init's environment): only the tests whose
 * name holds NAME run, the others skip; for working on one test.
 */
#define NEED_FILES() do {							\
	const char *only_ = getenv("KHVRUN_ONLY");				\
									\
	if (only_ && *only_ && !strstr(_metadata->name, only_))		\
		SKIP(return, "KHVRUN_ONLY=%s", only_);				\
	if (!have_files())							\
		SKIP(return, "no khv-run, kernel or initrd (%s, %s, %s)",	\
		     bin(), kernel(), initrd());				\
	if (access("/dev/khv", R_OK | W_OK))					\
		SKIP(return, "no /dev/khv");					\
} while (0)

/* The guest's report line, checked; and its console free of warnings. */
static void check_guest(struct __test_metadata *_metadata, const struct kr_out *o,
			int cpus, int boots)
{
	char want[64];

	ksft_print_msg("%s: khv-run ran %.1f s\n", _metadata->name, o->secs);
	snprintf(want, sizeof(want), "KHVRUN-INIT cpus=%d ", cpus);
	EXPECT_EQ(boots, count(o->buf, want))
		TH_LOG("want %d x \"%s\"", boots, want);
	EXPECT_EQ(boots, count(o->buf, "acpi=yes"));
	EXPECT_EQ(boots, count(o->buf, " mce=yes "))
		TH_LOG("Linux set up no machine-check device (core/mce.c)");
	for (size_t i = 0; i < sizeof(bad_words) / sizeof(bad_words[0]); i++) {
		const char *w = bad_words[i];

		EXPECT_EQ(0, count(o->buf, w))
			TH_LOG("the guest printed \"%s\"", w);
	}
	if (_metadata->passed)
		return;
	/* The tail of the console says what went wrong. */
	TH_LOG("khv-run status %d after %.1f s; last output:\n%s", o->status, o->secs,
	       o->buf + (o->len > 3000 ? o->len - 3000 : 0));
}

/* The harness's default limit of 30 s per test is one nested boot at best. */
FIXTURE(khvrun) {
	int unused;
};

FIXTURE_SETUP(khvrun)
{
}

FIXTURE_TEARDOWN(khvrun)
{
}

/*
 * loglevel=5: the console carries warnings and worse (what check_guest
 * looks for) but not the 20 KB of boot messages, which cost a nested boot
 * about 3 s of COM1 exits alone and 25-30 s in make check's lane khvrun
 * (poweroff_1_vcpu kept them all until the lane needed the time back; a
 * full boot log is one khv-run without loglevel=5 away).
 * cryptomgr.notests: no self-test of every crypto algorithm at boot (as
 * the lanes boot the test machine, scripts/lib.sh KERNEL_ARGS).
 * pci=noearly: QEMU's -cpu max is an AMD family 0xf (K8) part, and on
 * those Linux looks for a K8 GART twice before the PCI core runs, reading
 * the vendor ID of every slot of all 256 buses through ports 0xcf8/0xcfc:
 * about 33,000 port exits to khv-run, 1.3 s of a nested boot's 4.5.  No
 * CPU a lab host has today is of a GART family; khv-run's PCI devices are
 * found by the PCI core as before.
 */
#define CMDLINE(action) \
	"console=ttyS0 panic=-1 cryptomgr.notests loglevel=5 pci=noearly khvrun=" action

/* With a virtio console in a file: the guest's line on hvc0 lands there. */
TEST_F_TIMEOUT(khvrun, poweroff_1_vcpu, 300)
{
	char con[] = "/tmp/khvrun-hvc0-XXXXXX", con_arg[64], got[256] = "";
	const char *argv[] = { NULL, "-k", kernel(), "-i", initrd(), "-m", "256M", "-c", "1",
			       "--console", con_arg, "-a", CMDLINE("poweroff"), NULL };
	struct kr_out o;
	int fd;

	NEED_FILES();
	fd = mkstemp(con);
	ASSERT_LE(0, fd);
	snprintf(con_arg, sizeof(con_arg), "file:%s", con);
	ASSERT_EQ(0, kr_run(&o, KR_BOOT_TIMEOUT, NULL, 0, argv));
	EXPECT_EQ(0, o.status);
	EXPECT_NE(NULL, strstr(o.buf, "reboot: Power down"));
	check_guest(_metadata, &o, 1, 1);
	EXPECT_LT(0, read(fd, got, sizeof(got) - 1));
	EXPECT_NE(NULL, strstr(got, "KHVRUN-HVC0 hello from the guest")) TH_LOG("hvc0: %s", got);
	close(fd);
	unlink(con);
	free(o.buf);
}

/*
 * Two vCPUs: the guest resets, khv-run rebuilds the VM, then SIGTERM.  The
 * virtio console is on a Unix socket, and one client, connected during the
 * first boot, reads the hvc0 line of both boots: a console outlives the
 * guest's reboots (as `virsh console` expects of a pty or socket).
 */
TEST_F_TIMEOUT(khvrun, reboot_2_vcpus_then_sigterm, 600)
{
	const char *sock = "/tmp/khvrun-hvc0.sock";
	const char *argv[] = { NULL, "-k", quick_kernel(), "-i", initrd(), "-m", "256M", "-c", "2",
			       "--console", "unix:/tmp/khvrun-hvc0.sock",
			       "-a", CMDLINE("reboot") " reboot=k", NULL };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char con[4096] = "";
	size_t con_len = 0;
	struct kr_proc p;
	struct kr_out o;
	int fd;

	NEED_FILES();
	ASSERT_EQ(0, kr_start(&p, &o, argv));
	EXPECT_TRUE(kr_pump(&p, &o, "virtio console on", 1, now() + 60));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, connect(fd, (struct sockaddr *)&sa, sizeof(sa))) TH_LOG("%s", strerror(errno));
	if (kr_pump(&p, &o, "action=reboot", 2, p.t0 + 2 * KR_BOOT_TIMEOUT))
		kill(p.pid, SIGTERM);
	kr_finish(&p, &o, now() + 60);
	/* khv-run has exited: the socket gives what it sent, then EOF. */
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pf, 1, 10000) <= 0)
			break;
		n = read(fd, con + con_len, sizeof(con) - 1 - con_len);
		if (n <= 0)
			break;
		con_len += n;
	}
	close(fd);
	EXPECT_EQ(0, o.status);
	EXPECT_LE(1, count(o.buf, "khv-run: guest reset"));
	EXPECT_EQ(1, count(o.buf, "khv-run: stopped: host signal"));
	EXPECT_EQ(1, count(o.buf, "khv-run: virtio console on"));
	EXPECT_EQ(2, count(con, "KHVRUN-HVC0 hello from the guest"))
		TH_LOG("the console's client read: %s", con);
	check_guest(_metadata, &o, 2, 2);
	free(o.buf);
}

TEST_F_TIMEOUT(khvrun, reset_with_no_reboot, 300)
{
	const char *argv[] = { NULL, "-k", quick_kernel(), "-i", initrd(), "-m", "256M", "-c", "1",
			       "--no-reboot", "-a", CMDLINE("reboot"), NULL };
	struct kr_out o;

	NEED_FILES();
	ASSERT_EQ(0, kr_run(&o, KR_BOOT_TIMEOUT, NULL, 0, argv));
	EXPECT_EQ(0, o.status);
	EXPECT_EQ(0, count(o.buf, "khv-run: guest reset"));
	check_guest(_metadata, &o, 1, 1);
	free(o.buf);
}

/*
 * More vCPUs than the test machine has CPUs; a virtio-rng device (PCI,
 * MSI-X, a virtqueue) gives the guest's /dev/hwrng 64 bytes; the guest
 * exits by port 0xf4.
 */
TEST_F_TIMEOUT(khvrun, debug_exit_4_vcpus, 300)
{
	const char *argv[] = { NULL, "-k", quick_kernel(), "-i", initrd(), "-m", "256M", "-c", "4",
			       "--rng", "-a", CMDLINE("debugexit:21"), NULL };
	struct kr_out o;

	NEED_FILES();
	ASSERT_EQ(0, kr_run(&o, KR_BOOT_TIMEOUT, NULL, 0, argv));
	EXPECT_EQ((21 << 1) | 1, o.status);
	EXPECT_EQ(0, count(o.buf, "KHVRUN-DEBUGEXIT-FAILED"));
	EXPECT_EQ(1, count(o.buf, " rng=64 "));
	check_guest(_metadata, &o, 4, 1);
	free(o.buf);
}

/*
 * khv-top --batch, two reads a second apart, against khv-run @pid running
 * a Linux guest with 2 vCPUs: the VM (its process, vCPUs, where the time
 * went), its exits by reason with latencies, the MMU's pinned pages.
 */
static void check_khv_top(struct __test_metadata *_metadata, pid_t pid)
{
	char cmd[512], line[1024], want_vm[96], want_vm2[96];
	int vm1 = 0, vm2 = 0, exits = 0, pinned = 0;
	FILE *f;

	if (access(khv_top(), X_OK)) {
		TH_LOG("no %s", khv_top());
		EXPECT_TRUE(0);
		return;
	}
	snprintf(cmd, sizeof(cmd), "%s --batch --iterations=2 --interval=1 --pid=%d 2>&1",
		 khv_top(), (int)pid);
	f = popen(cmd, "r");
	ASSERT_NE(NULL, f);
	snprintf(want_vm, sizeof(want_vm), "vm iter=1 id=");
	snprintf(want_vm2, sizeof(want_vm2), " pid=%d comm=khv-run state=running vcpus=2 ",
		 (int)pid);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long count;

		ksft_print_msg("khv-top: %s", line);
		if (strstr(line, want_vm2) && strstr(line, "window=total") &&
		    !strncmp(line, want_vm, strlen(want_vm)))
			vm1++;
		if (strstr(line, want_vm2) && strstr(line, "window=interval") &&
		    !strncmp(line, "vm iter=2 ", 10))
			vm2++;
		if (!strncmp(line, "exit iter=1 ", 12) && strstr(line, " p50_us=") &&
		    sscanf(strstr(line, " count=") ?: "", " count=%llu", &count) == 1 && count)
			exits++;
		if (!strncmp(line, "counter iter=1 ", 15) && strstr(line, "name=mmu/pages_pinned") &&
		    !strstr(line, "value=0 ") && !strstr(line, "value=-"))
			pinned++;
	}
	EXPECT_EQ(0, pclose(f));
	EXPECT_EQ(1, vm1) TH_LOG("the VM's first read, since it started");
	EXPECT_EQ(1, vm2) TH_LOG("the VM's second read, over the interval");
	EXPECT_LE(3, exits) TH_LOG("exit reasons with a count and latencies");
	EXPECT_EQ(1, pinned) TH_LOG("mmu/pages_pinned of a running guest");
}

/* A report's file: there, and an SVG document (libxml2 checks more in khv-trace's tests). */
static bool svg_file(const char *path)
{
	char head[256] = "";
	struct stat st;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	if (!fread(head, 1, sizeof(head) - 1, f))
		head[0] = 0;
	fclose(f);
	return !stat(path, &st) && st.st_size > 1000 && strstr(head, "<svg");
}

/*
 * khv-trace against the running guest (tools/khv-trace): record its
 * process for 2 s in a tracefs instance of its own, then the report: the
 * summary line with no event lost, exit reasons of this backend with counts
 * in report.txt, a line per vCPU, the plots, and no instance left behind.
 */
static void check_khv_trace(struct __test_metadata *_metadata, pid_t pid)
{
	const char *dat = "/tmp/khvrun-trace.dat", *dir = "/tmp/khvrun-trace";
	char cmd[512], line[1024], path[256];
	int summary = 0, reasons = 0, vcpus = 0, anomalies = 0;
	glob_t g;
	FILE *f;

	if (access(khv_trace(), X_OK)) {
		TH_LOG("no %s", khv_trace());
		EXPECT_TRUE(0);
		return;
	}
	/* khv-trace never mounts tracefs itself. */
	if (access("/sys/kernel/tracing/instances", F_OK))
		mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	snprintf(cmd, sizeof(cmd), "%s record -p %d -d 2 -o %s 2>&1 && %s report -i %s -o %s 2>&1",
		 khv_trace(), (int)pid, dat, khv_trace(), dat, dir);
	f = popen(cmd, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		ksft_print_msg("khv-trace: %s", line);
		if (strstr(line, " events of process ") && strstr(line, "events lost: 0 "))
			summary++;
	}
	EXPECT_EQ(0, pclose(f));
	EXPECT_EQ(1, summary) TH_LOG("record's summary, nothing lost");
	snprintf(path, sizeof(path), "%s/report.txt", dir);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long count;
		char code[32];
		unsigned int id;

		if ((!strncmp(line, "svm_", 4) || !strncmp(line, "vmx_", 4)) &&
		    sscanf(line, "%*s %31s %llu", code, &count) == 2 && count)
			reasons++;
		if (sscanf(line, "vcpu %u %llu", &id, &count) == 2 && count)
			vcpus++;
		if (!strncmp(line, "anomalies", 9))
			anomalies++;
	}
	fclose(f);
	EXPECT_LE(2, reasons) TH_LOG("an idle guest's timer and halt exits, at least");
	EXPECT_EQ(2, vcpus);
	EXPECT_EQ(0, anomalies);
	for (const char *const *n = (const char *const[]){ "rates.svg", "latency.svg",
			"latency-hist.svg", "timeline.svg", NULL }; *n; n++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *n);
		EXPECT_TRUE(svg_file(path)) TH_LOG("%s", path);
	}
	snprintf(path, sizeof(path), "%s/index.html", dir);
	EXPECT_EQ(0, access(path, R_OK));
	EXPECT_EQ(GLOB_NOMATCH, glob("/sys/kernel/tracing/instances/khv-trace*", 0, NULL, &g))
		TH_LOG("record removes its instance");
	globfree(&g);
}

/*
 * The control socket against a running guest: status, vCPUs, exit counters,
 * khv-top's view of it, stop and cont, a malformed line, then the ACPI power button, which the
 * guest answers by powering off (SHUTDOWN guest-shutdown, exit status 0).
 */
TEST_F_TIMEOUT(khvrun, control_socket, 300)
{
	const char *sock = "/tmp/khvrun-control.sock";
	const char *argv[] = { NULL, "-k", quick_kernel(), "-i", initrd(), "-m", "256M", "-c", "2",
			       "--control", sock, "-a", CMDLINE("hold"), NULL };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct kr_proc p;
	struct kr_out o;
	char line[8192], *r;
	int fd = -1;

	NEED_FILES();
	ASSERT_EQ(0, kr_start(&p, &o, argv));
	EXPECT_TRUE(kr_pump(&p, &o, "action=hold", 1, now() + KR_BOOT_TIMEOUT));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	r = ctl_line(fd, line, sizeof(line), now() + 10);
	EXPECT_NE(NULL, r);
	if (r)
		EXPECT_NE(NULL, strstr(r, "\"KHV\""));
	r = ctl_cmd(fd, "{\"execute\": \"qmp_capabilities\"}\n", line, sizeof(line));
	EXPECT_NE(NULL, r);
	r = ctl_cmd(fd, "{\"execute\": \"query-status\"}\n", line, sizeof(line));
	EXPECT_TRUE(r && strstr(r, "\"status\":\"running\"")) TH_LOG("%s", r);
	r = ctl_cmd(fd, "{\"execute\": \"query-vcpus\"}\n", line, sizeof(line));
	EXPECT_TRUE(r && strstr(r, "\"cpu-index\":1")) TH_LOG("%s", r);
	r = ctl_cmd(fd, "{\"execute\": \"query-exit-stats\", \"arguments\": {\"vcpu\": 0}}\n",
		    line, sizeof(line));
	EXPECT_TRUE(r && strstr(r, "\"exits\":[{")) TH_LOG("%s", r);
	check_khv_top(_metadata, p.pid);
	check_khv_trace(_metadata, p.pid);
	r = ctl_cmd(fd, "{\"execute\": \"stop\"}\n", line, sizeof(line));
	EXPECT_NE(NULL, r);
	r = ctl_cmd(fd, "{\"execute\": \"query-status\"}\n", line, sizeof(line));
	EXPECT_TRUE(r && strstr(r, "\"status\":\"paused\"")) TH_LOG("%s", r);
	r = ctl_cmd(fd, "{\"execute\": \"cont\"}\n", line, sizeof(line));
	EXPECT_NE(NULL, r);
	r = ctl_cmd(fd, "{\"execute\": 42\n", line, sizeof(line));
	EXPECT_TRUE(r && strstr(r, "\"error\"")) TH_LOG("%s", r);
	r = ctl_cmd(fd, "{\"execute\": \"system_powerdown\"}\n", line, sizeof(line));
	EXPECT_TRUE(r && strstr(r, "\"return\"")) TH_LOG("%s", r);
	/* The SHUTDOWN event, then the server closes the connection. */
	{
		double deadline = now() + 120;
		bool shutdown = false;

		double t = now();

		while ((r = ctl_line(fd, line, sizeof(line), deadline))) {
			if (strstr(r, "\"SHUTDOWN\"") && strstr(r, "guest-shutdown"))
				shutdown = true;
			else
				TH_LOG("after %.1f s: %s", now() - t, r);
		}
		EXPECT_TRUE(shutdown) TH_LOG("connection closed after %.1f s", now() - t);
	}
	close(fd);
	kr_finish(&p, &o, now() + 60);
	EXPECT_EQ(0, o.status);
	EXPECT_EQ(1, count(o.buf, "KHVRUN-POWER-BUTTON"));
	EXPECT_NE(NULL, strstr(o.buf, "reboot: Power down"));
	check_guest(_metadata, &o, 2, 1);
	free(o.buf);
}

static void vnc_quiet(const char *fmt, ...)
{
	(void)fmt;
}

/* A viewer's pixel (x, y) as 0xRRGGBB. */
static uint32_t vnc_pixel(rfbClient *cl, int x, int y)
{
	const uint8_t *p = cl->frameBuffer + ((size_t)y * cl->width + x) * 4;
	uint32_t v = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;

	return (v >> cl->format.redShift & 0xff) << 16 | (v >> cl->format.greenShift & 0xff) << 8 |
	       (v >> cl->format.blueShift & 0xff);
}

/* The guest's screen as the test wants it: its mode, the band, some text. */
static bool vnc_screen_ok(rfbClient *cl, int *text)
{
	int lit = 0;

	if (!cl->frameBuffer || cl->width != 1024 || cl->height != 768)
		return false;
	for (int y = 0; y < 16; y++)
		for (int x = 0; x < 8 * 24; x++)
			lit += vnc_pixel(cl, x, y) != 0;
	*text = lit;
	return vnc_pixel(cl, 0, 200) == 0xff8000 && vnc_pixel(cl, 1023, 231) == 0xff8000 &&
	       vnc_pixel(cl, 512, 199) != 0xff8000 && vnc_pixel(cl, 512, 232) != 0xff8000 &&
	       lit > 100;
}

/*
 * The graphical console: khv-run --vnc gives the guest a bochs-display
 * adapter (Debian's bochs DRM driver takes it, fbcon draws on it) and a
 * virtio tablet.  A VNC viewer (libvncclient) sees the guest's text and the
 * band it writes into /dev/fb0 pixel for pixel, types a line that the
 * guest reads on tty1 (PS/2 keyboard), and moves the pointer, which the
 * guest reads from the tablet's event device; query-vnc tells the port.
 */
TEST_F_TIMEOUT(khvrun, vnc_console, 300)
{
	const char *sock = "/tmp/khvrun-vnc.sock";
	const char *argv[] = { NULL, "-k", quick_kernel(), "-i", initrd(), "-m", "256M", "-c", "1",
			       "--vnc", "127.0.0.1:auto", "--control", sock,
			       "-a", CMDLINE("vnc"), NULL };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *keys = "khv";
	struct kr_proc p;
	struct kr_out o;
	rfbClient *cl = NULL;
	double deadline;
	int port = 0, text = 0, fd;
	char line[4096], *r;
	bool seen = false;

	NEED_FILES();
	ASSERT_EQ(0, kr_start(&p, &o, argv));
	EXPECT_TRUE(kr_pump(&p, &o, "VNC server on 127.0.0.1:", 1, now() + 30));
	r = strstr(o.buf, "VNC server on 127.0.0.1:");
	if (r)
		port = atoi(r + strlen("VNC server on 127.0.0.1:"));
	EXPECT_TRUE(port >= 5900 && port <= 5999) TH_LOG("port %d", port);
	EXPECT_TRUE(kr_pump(&p, &o, "KHVRUN-VNC-INPUT", 1, now() + KR_BOOT_TIMEOUT));
	EXPECT_NE(NULL, strstr(o.buf, "KHVRUN-VNC-READY fb=1024,"));
	EXPECT_NE(NULL, strstr(o.buf, "stride=4096"));
	EXPECT_NE(NULL, strstr(o.buf, "bochs"));
	EXPECT_EQ(0, count(o.buf, "tablet=none"));

	rfbClientLog = vnc_quiet;
	rfbClientErr = vnc_quiet;
	cl = rfbGetClient(8, 3, 4);
	ASSERT_NE(NULL, cl);
	free(cl->serverHost);
	cl->serverHost = strdup("127.0.0.1");
	cl->serverPort = port;
	if (!rfbInitClient(cl, NULL, NULL)) {
		cl = NULL;
		EXPECT_TRUE(false) TH_LOG("no VNC connection to port %d", port);
	}
	/* The screen: the guest's mode, its text, its band. */
	deadline = now() + 60;
	while (cl && !seen && now() < deadline) {
		seen = vnc_screen_ok(cl, &text);
		if (!seen && WaitForMessage(cl, 50000) > 0 && !HandleRFBServerMessage(cl))
			break;
	}
	EXPECT_TRUE(seen) TH_LOG("screen %dx%d, %d lit pixels in the first text line, "
				 "band pixel %06x", cl ? cl->width : 0, cl ? cl->height : 0, text,
				 cl && cl->frameBuffer && cl->height > 200 ? vnc_pixel(cl, 0, 200) : 0);
	/* Keys: a line typed on the VNC console reaches the guest's tty1. */
	for (const char *k = keys; cl && *k; k++) {
		SendKeyEvent(cl, (uint32_t)*k, TRUE);
		SendKeyEvent(cl, (uint32_t)*k, FALSE);
	}
	if (cl) {
		SendKeyEvent(cl, XK_Return, TRUE);
		SendKeyEvent(cl, XK_Return, FALSE);
	}
	EXPECT_TRUE(kr_pump(&p, &o, "KHVRUN-VNC-KEY line=khv", 1, now() + 60));
	/* The pointer: the tablet reports an absolute X scaled to 0..32767. */
	deadline = now() + 60;
	for (int i = 0; cl && now() < deadline; i++) {
		SendPointerEvent(cl, 512 + (i & 1), 300, 0);
		if (kr_pump(&p, &o, "KHVRUN-VNC-TABLET x=", 1, now() + 0.3))
			break;
		while (WaitForMessage(cl, 0) > 0 && HandleRFBServerMessage(cl))
			;
	}
	/* The whole line: the marker may have come before its number. */
	deadline = now() + 10;
	while ((r = strstr(o.buf, "KHVRUN-VNC-TABLET x=")) && !strchr(r, '\n') && now() < deadline)
		kr_pump(&p, &o, "\nnever", 1, now() + 0.2);
	r = strstr(o.buf, "KHVRUN-VNC-TABLET x=");
	EXPECT_NE(NULL, r);
	if (r) {
		long x = atol(r + strlen("KHVRUN-VNC-TABLET x="));

		EXPECT_TRUE(x >= 512 * 32767 / 1023 - 1 && x <= 513 * 32767 / 1023 + 1)
			TH_LOG("tablet x %ld", x);
	}
	/* query-vnc over the control socket. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    ctl_line(fd, line, sizeof(line), now() + 10) &&
	    ctl_cmd(fd, "{\"execute\": \"qmp_capabilities\"}\n", line, sizeof(line))) {
		char want[64];

		r = ctl_cmd(fd, "{\"execute\": \"query-vnc\"}\n", line, sizeof(line));
		snprintf(want, sizeof(want), "\"service\":\"%d\"", port);
		EXPECT_TRUE(r && strstr(r, want) && strstr(r, "\"clients\":1") &&
			    strstr(r, "\"auth\":\"none\"")) TH_LOG("%s", r ? r : "(no answer)");
	} else {
		EXPECT_TRUE(false) TH_LOG("control socket %s", sock);
	}
	if (fd >= 0)
		close(fd);
	if (cl) {
		free(cl->frameBuffer);
		rfbClientCleanup(cl);
	}
	kill(p.pid, SIGTERM);
	kr_finish(&p, &o, now() + 60);
	EXPECT_EQ(0, o.status);
	check_guest(_metadata, &o, 1, 1);
	free(o.buf);
}

/*
 * The same kernel uncompressed, entered by its PVH note (no decompressor),
 * with study mode on CPUID leaf 1 and CR3 writes (khv-run --study): one
 * line per CPUID leaf 1 the guest runs, on both vCPUs, none for other
 * leaves, and one per address-space switch (CR3 is intercepted only for
 * the study: nested paging needs no CR3 exits).  The lines go to a file
 * (--study-log): on khv-run's stderr, hundreds of them came between the
 * guest console's characters and broke its lines apart.
 */
TEST_F_TIMEOUT(khvrun, pvh_vmlinux_poweroff, 300)
{
	const char *log = "/tmp/khvrun-study.txt";
	const char *argv[] = { NULL, "-k", vmlinux(), "-i", initrd(), "-m", "256M", "-c", "2",
			       "--study=cpuid:0x1,cr3", "--study-log=/tmp/khvrun-study.txt",
			       "-a", CMDLINE("poweroff"), NULL };
	static char lines[1 << 20];
	int studied, leaf1, cr3, fd;
	struct kr_out o;
	ssize_t n = -1;

	NEED_FILES();
	if (access(vmlinux(), R_OK))
		SKIP(return, "no %s", vmlinux());
	unlink(log);
	ASSERT_EQ(0, kr_run(&o, KR_BOOT_TIMEOUT, NULL, 0, argv));
	EXPECT_EQ(0, o.status);
	EXPECT_NE(NULL, strstr(o.buf, "reboot: Power down"));
	check_guest(_metadata, &o, 2, 1);
	EXPECT_EQ(0, count(o.buf, "khv-run: study vcpu ")) TH_LOG("the lines went to the log");
	fd = open(log, O_RDONLY | O_CLOEXEC);
	EXPECT_LE(0, fd);
	if (fd >= 0) {
		n = read(fd, lines, sizeof(lines) - 1);
		close(fd);
	}
	lines[n > 0 ? n : 0] = 0;
	studied = count(lines, "khv-run: study vcpu ");
	leaf1 = count(lines, " cpuid leaf 0x1 subleaf ");
	cr3 = count(lines, " cr3 <- 0x");
	ksft_print_msg("pvh_vmlinux_poweroff: %d study lines (%d CPUID, %d CR3), %d of them on vCPU 1\n",
		       studied, leaf1, cr3, count(lines, "khv-run: study vcpu 1 "));
	EXPECT_LE(2, leaf1) TH_LOG("CPUID leaf 1 on each vCPU at least");
	/* init, its shell, and each program it runs switch address spaces. */
	EXPECT_LE(10, cr3);
	EXPECT_EQ(studied, leaf1 + cr3) TH_LOG("only the leaf and the CR asked for");
	EXPECT_EQ(studied, count(lines, "\n")) TH_LOG("whole lines, one per event");
	EXPECT_LE(1, count(lines, "khv-run: study vcpu 1 ")) TH_LOG("the AP's too");
	unlink(log);
	free(o.buf);
}

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

/* Bad input: one line on stderr (plus the --help hint for usage errors). */
static void try_bad_input(struct __test_metadata *_metadata, const char **argv, int status,
		      const char *words)
{
	struct kr_out o;

	ASSERT_EQ(0, kr_run(&o, 30, NULL, 0, argv));
	EXPECT_EQ(status, o.status) TH_LOG("output: %s", o.buf);
	EXPECT_NE(NULL, strstr(o.buf, words)) TH_LOG("output: %s", o.buf);
	EXPECT_EQ(0, count(o.buf, "KHVRUN-INIT"));
	EXPECT_GE(2, count(o.buf, "\n")) TH_LOG("output: %s", o.buf);
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
	EXPECT_TRUE(kr_pump(&pb, &b, "waiting for a migration", 1, now() + 30));
	snprintf(cmd, sizeof(cmd), "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"%s\"}}\n",
		 mig);
	r = ctl_cmd(fd_a, cmd, line, sizeof(line));
	EXPECT_TRUE(r && strstr(r, "\"return\"")) TH_LOG("%s", r);
	r = wait_migration(fd_a, line, sizeof(line), now() + 60, echo, &rounds, &echo_fail);
	EXPECT_TRUE(r && strstr(r, "\"failed\"") && strstr(r, "MiB of RAM")) TH_LOG("%s", r);
	kr_finish(&pb, &b, now() + 30);
	EXPECT_EQ(4, b.status) TH_LOG("%s", b.buf);
	EXPECT_NE(NULL, strstr(b.buf, "MiB of RAM in the snapshot")) TH_LOG("%s", b.buf);
	free(b.buf);
	argv_b[ram] = "256M";

	/* Cancelled midway (after its first pass over memory): the source runs on. */
	ASSERT_EQ(0, kr_start(&pb, &b, argv_b));
	EXPECT_TRUE(kr_pump(&pb, &b, "waiting for a migration", 1, now() + 30));
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
	r = wait_migration(fd_a, line, sizeof(line), now() + 60, echo, &rounds, &echo_fail);
	EXPECT_TRUE(r && strstr(r, "\"cancelled\"")) TH_LOG("%s", r);
	kr_finish(&pb, &b, now() + 30);
	EXPECT_EQ(4, b.status) TH_LOG("%s", b.buf);
	free(b.buf);
	r = ctl_cmd(fd_a, "{\"execute\": \"query-status\"}\n", line, sizeof(line));
	EXPECT_TRUE(r && strstr(r, "\"running\"")) TH_LOG("%s", r);

	/* 2. The real one, with the default downtime limit. */
	ASSERT_EQ(0, kr_start(&pb, &b, argv_b));
	EXPECT_TRUE(wait_netdev("khvtapm1"));
	EXPECT_EQ(0, system("ip link set khvtapm1 master khvbr1 && ip link set khvtapm1 up"));
	EXPECT_TRUE(kr_pump(&pb, &b, "waiting for a migration", 1, now() + 30));
	r = ctl_cmd(fd_a, "{\"execute\": \"migrate-set-parameters\", \"arguments\": "
		    "{\"downtime-limit\": 300}}\n", line, sizeof(line));
	r = ctl_cmd(fd_a, cmd, line, sizeof(line));
	EXPECT_TRUE(r && strstr(r, "\"return\"")) TH_LOG("%s", r);
	r = wait_migration(fd_a, line, sizeof(line), now() + 120, echo, &rounds, &echo_fail);
	EXPECT_TRUE(r && strstr(r, "\"completed\"")) TH_LOG("%s", r);
	ksft_print_msg("migration_and_snapshot: %s", r ? r : "no answer\n");
	EXPECT_TRUE(kr_pump(&pb, &b, "migrated in from", 1, now() + 30));
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

TEST_F_TIMEOUT(khvrun, bad_input, 120)
{
	char corrupt[] = "/tmp/khvrun-corrupt-XXXXXX", text[] = "/tmp/khvrun-text-XXXXXX";
	int fd;

	NEED_FILES();
	{
		const char *argv[] = { NULL, "-k", "/nonexistent/vmlinuz", NULL };

		try_bad_input(_metadata, argv, 4, "No such file");
	}
	{
		const char *argv[] = { NULL, "-k", kernel(), "--cpus", "0", NULL };

		try_bad_input(_metadata, argv, 2, "--cpus");
	}
	{
		const char *argv[] = { NULL, "-k", kernel(), "--memroy", "1G", NULL };

		try_bad_input(_metadata, argv, 2, "unrecognized option");
	}
	{
		const char *argv[] = { NULL, "-k", kernel(), "-m", "12X", NULL };

		try_bad_input(_metadata, argv, 2, "--memory");
	}
	{
		const char *argv[] = { NULL, "-k", kernel(), "-m", "17M", "--hugepages", NULL };

		try_bad_input(_metadata, argv, 2, "multiple of 2M");
	}
	{
		const char *argv[] = { NULL, NULL };

		try_bad_input(_metadata, argv, 2, "--kernel");
	}
	{
		/* The first 64 KiB of a real bzImage: its header says there is more. */
		char buf[65536];
		int in = open(kernel(), O_RDONLY);

		ASSERT_LE(0, in);
		ASSERT_EQ((ssize_t)sizeof(buf), read(in, buf, sizeof(buf)));
		close(in);
		fd = mkstemp(corrupt);
		ASSERT_LE(0, fd);
		ASSERT_EQ((ssize_t)sizeof(buf), write(fd, buf, sizeof(buf)));
		close(fd);
		const char *argv[] = { NULL, "-k", corrupt, "-m", "256M", NULL };

		try_bad_input(_metadata, argv, 4, corrupt);
		unlink(corrupt);
	}
	{
		fd = mkstemp(text);
		ASSERT_LE(0, fd);
		ASSERT_EQ(6, write(fd, "hello\n", 6));
		close(fd);
		const char *argv[] = { NULL, "-k", text, NULL };

		try_bad_input(_metadata, argv, 4, "neither a bzImage");
		unlink(text);
	}
	{
		const char *argv[] = { NULL, "-k", kernel(), "-i", "/nonexistent/initrd", NULL };

		try_bad_input(_metadata, argv, 4, "/nonexistent/initrd");
	}
	{
		/* 64 TiB: more than the test machine can map. */
		const char *argv[] = { NULL, "-k", kernel(), "-m", "65536G", NULL };

		try_bad_input(_metadata, argv, 6, "memory");
	}
}

TEST_HARNESS_MAIN
