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
 * The guest's devices at work and migration are selftest khvrun_io's
 * (another lane's; both use khvrun_guest.h).
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
#include "khvrun_guest.h"

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
