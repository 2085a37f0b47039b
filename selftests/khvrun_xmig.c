// SPDX-License-Identifier: GPL-2.0
/*
 * khvrun_xmig: a live migration between two test machines.  make check
 * boots two QEMU machines (lanes xmigsrc and xmigdst, scripts/check.sh)
 * joined by a virtual Ethernet (QEMU's UDP socket network), each running
 * this test; the kernel command line's khvxmig=ROLE,ADDR/LEN,PEER (the
 * environment's KHV_XMIG, from guest-init) says which side it is.
 *
 * The source runs khv-run with mbtest's counting workload (it checks its
 * own memory pass after pass, and that its TSC never goes back), and
 * migrates it over TCP to the destination's khv-run --incoming.  The two
 * machines differ as two hosts do: another paging depth (5 and 4 levels,
 * so other nested page tables), other TSCs (each machine's counts from its
 * own start), other kernel addresses.  Then the source hands its guest's
 * output to the destination over a second connection, and the destination
 * judges the whole: passes in order from 1, none lost, none twice, none
 * bad, no second boot.  The destination's machine boots later (make check
 * starts it 20 s after the source's), so that its TSC is behind: a guest
 * TSC carried as an offset, or not at all, would go back there, which the
 * workload reports; the test checks that it was behind (the first line the
 * source sends is its machine's TSC).
 *
 * A machine booted without khvxmig= (a lane run by hand) skips.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"	/* khvrun_util.h's kr_run */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <x86intrin.h>
#include "kselftest_harness.h"
#include "khvrun_util.h"

#define MIG_PORT	4444	/* the destination's khv-run --incoming */
#define OUT_PORT	4445	/* the destination's test: the source's output */
#define PREFIX		"KHVRUN-MB-PASS "
#define SOCK		"/tmp/khvrun-xmig.sock"

static const char *mbtest(void)
{
	return env_or("KHVRUN_MBTEST", "/khv/tools/mbtest.elf");
}

struct role {
	bool source;
	char addr[32];		/* this machine's, with its prefix length */
	char ip[32];		/* the same without it */
	char peer[32];
};

/* KHV_XMIG: "src|dst,ADDR/LEN,PEER"; false when absent or malformed. */
static bool parse_role(struct role *r)
{
	const char *v = getenv("KHV_XMIG");
	char role[8];

	memset(r, 0, sizeof(*r));
	if (!v || sscanf(v, "%7[^,],%31[^,],%31s", role, r->addr, r->peer) != 3)
		return false;
	r->source = !strcmp(role, "src");
	if (!r->source && strcmp(role, "dst"))
		return false;
	snprintf(r->ip, sizeof(r->ip), "%.*s", (int)strcspn(r->addr, "/"), r->addr);
	return true;
}

/* The NIC (an e1000, its module in the lane's image) up at the role's address. */
static int net_up(const struct role *r)
{
	char cmd[256];

	if (access("/sys/module/e1000", F_OK) && system("insmod /khv/libvirt/e1000.ko"))
		return -1;
	for (int i = 0; i < 100 && access("/sys/class/net/eth0", F_OK); i++)
		usleep(100000);
	snprintf(cmd, sizeof(cmd), "ip link set eth0 up && ip addr add %s dev eth0", r->addr);
	return system(cmd) ? -1 : 0;
}

static void sockaddr_of(struct sockaddr_in *sa, const char *ip, int port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sa->sin_addr);
}

/*
 * A connection to ip:port, tried again until the deadline (-1 then), with
 * khv-run's output collected meanwhile: its pipe must not fill.
 */
static int connect_until(const char *ip, int port, double deadline, struct kr_proc *p,
			 struct kr_out *o)
{
	struct sockaddr_in sa;

	sockaddr_of(&sa, ip, port);
	while (now() < deadline) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		if (fd >= 0)
			close(fd);
		kr_pump(p, o, NULL, 0, now() + 0.5);
		if (p->fd < 0)
			usleep(500000);		/* it is gone: no pipe to wait on */
	}
	return -1;
}

/* All of it, or false (no SIGPIPE when the other side has gone). */
static bool send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return false;
		p += w;
		n -= w;
	}
	return true;
}

static void quit(const char *sock)
{
	char line[4096];
	int fd = ctl_open(sock);

	if (fd >= 0) {
		ctl_cmd(fd, "{\"execute\": \"quit\"}\n", line, sizeof(line));
		close(fd);
	}
}

/*
 * The source: 3 passes, wait for the destination (its test accepts on
 * OUT_PORT once its khv-run waits), migrate, then send the output.
 */
static void source(struct __test_metadata *_metadata, const struct role *r)
{
	const char *argv[] = { NULL, "-k", mbtest(), "-m", "32M", "-c", "2", "--control", SOCK,
			       "-a", "count", NULL };
	char cmd[256], line[4096], *res = NULL;
	struct kr_proc p;
	struct kr_out o;
	int fd, out;

	ASSERT_EQ(0, kr_start(&p, &o, argv));
	EXPECT_TRUE(kr_pump(&p, &o, PREFIX, 3, now() + 120)) TH_LOG("%s", o.buf);
	out = connect_until(r->peer, OUT_PORT, now() + 240, &p, &o);
	EXPECT_LE(0, out) TH_LOG("no destination at %s:%d", r->peer, OUT_PORT);
	fd = ctl_open(SOCK);
	EXPECT_LE(0, fd);
	if (out >= 0 && fd >= 0) {
		snprintf(cmd, sizeof(cmd), "{\"execute\": \"migrate\", \"arguments\": "
			 "{\"uri\": \"tcp:%s:%d\"}}\n", r->peer, MIG_PORT);
		res = ctl_cmd(fd, cmd, line, sizeof(line));
		EXPECT_TRUE(res && strstr(res, "\"return\"")) TH_LOG("%s", res);
		for (double until = now() + 240; now() < until; usleep(200000)) {
			/* Its output while it migrates: the pipe must not fill. */
			kr_pump(&p, &o, NULL, 0, now() + 0.01);
			res = ctl_cmd(fd, "{\"execute\": \"query-migrate\"}\n", line, sizeof(line));
			if (!res || strstr(res, "\"completed\"") || strstr(res, "\"failed\"") ||
			    strstr(res, "\"cancelled\""))
				break;
		}
		EXPECT_TRUE(res && strstr(res, "\"completed\"")) TH_LOG("%s", res);
		ksft_print_msg("khvrun_xmig: %s", res ? res : "no answer\n");
	}
	if (fd >= 0) {
		ctl_cmd(fd, "{\"execute\": \"quit\"}\n", line, sizeof(line));
		close(fd);
	}
	kr_finish(&p, &o, now() + 60);
	EXPECT_EQ(0, o.status) TH_LOG("%s", o.buf);
	EXPECT_EQ(0, count(o.buf, " BAD")) TH_LOG("%s", o.buf);
	if (out >= 0) {
		snprintf(line, sizeof(line), "XMIG-SRC-TSC %llu\n", (unsigned long long)__rdtsc());
		EXPECT_TRUE(send_all(out, line, strlen(line)));
		EXPECT_TRUE(send_all(out, o.buf, o.len));
		close(out);
	}
	ksft_print_msg("khvrun_xmig: source ran passes 1-%d\n", last_number(o.buf, PREFIX));
	free(o.buf);
}

/*
 * The source's output, from the connection it makes on OUT_PORT; *tsc
 * this machine's TSC when its first bytes came.
 */
static char *receive_output(struct __test_metadata *_metadata, const struct role *r,
			    struct kr_proc *p, struct kr_out *o, unsigned long long *tsc)
{
	struct sockaddr_in sa;
	int one = 1, ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c = -1;
	size_t len = 0, cap = KR_OUT_MAX;
	char *buf = calloc(1, cap + 1);
	double until = now() + 330;

	sockaddr_of(&sa, r->ip, OUT_PORT);
	if (ls < 0 || !buf || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 1)) {
		TH_LOG("listen on %s:%d: %s", r->ip, OUT_PORT, strerror(errno));
		goto fail;
	}
	/* Both the connection and khv-run's pipe (which must not fill). */
	while (now() < until) {
		struct pollfd pf[2] = { { .fd = c >= 0 ? c : ls, .events = POLLIN },
					{ .fd = p->fd, .events = POLLIN } };
		ssize_t n;

		if (poll(pf, p->fd >= 0 ? 2 : 1, 1000) <= 0)
			continue;
		if (pf[1].revents)
			kr_pump(p, o, NULL, 0, now() + 0.01);
		if (!pf[0].revents)
			continue;
		if (c < 0) {
			c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
			continue;
		}
		n = read(c, buf + len, cap - len);
		if (n <= 0)
			break;		/* EOF: the source's whole output */
		if (!len)
			*tsc = __rdtsc();
		len += n;
	}
	if (c < 0 || now() >= until) {
		TH_LOG("no output from the source at %s by the deadline", r->peer);
		goto fail;
	}
	close(c);
	close(ls);
	return buf;
fail:
	if (c >= 0)
		close(c);
	if (ls >= 0)
		close(ls);
	free(buf);
	return NULL;
}

static void destination(struct __test_metadata *_metadata, const struct role *r)
{
	char uri[64];
	const char *argv[] = { NULL, "-k", mbtest(), "-m", "32M", "-c", "2", "--control", SOCK,
			       "-a", "count", "--incoming", uri, NULL };
	unsigned long long src_tsc = 0, dst_tsc = 0;
	char *src, *all = NULL;
	struct kr_proc p;
	struct kr_out o;
	int first = 0, last = 0;

	snprintf(uri, sizeof(uri), "tcp:%s:%d", r->ip, MIG_PORT);
	ASSERT_EQ(0, kr_start(&p, &o, argv));
	EXPECT_TRUE(kr_pump(&p, &o, "waiting for a migration", 1, now() + 60)) TH_LOG("%s", o.buf);
	src = receive_output(_metadata, r, &p, &o, &dst_tsc);
	EXPECT_NE(NULL, src);
	/* What makes this a test of the guest's TSC: this machine's is behind. */
	EXPECT_TRUE(src && sscanf(src, "XMIG-SRC-TSC %llu", &src_tsc) == 1) TH_LOG("%s", src);
	EXPECT_LT(dst_tsc, src_tsc) TH_LOG("this machine's TSC must be behind the source's");
	/* The guest goes on here: three more passes. */
	EXPECT_TRUE(kr_pump(&p, &o, PREFIX, 3, now() + 120)) TH_LOG("%s", o.buf);
	quit(SOCK);
	kr_finish(&p, &o, now() + 60);
	EXPECT_EQ(0, o.status) TH_LOG("%s", o.buf);
	EXPECT_EQ(0, count(o.buf, " BAD")) TH_LOG("%s", o.buf);
	EXPECT_EQ(0, count(o.buf, "KHVRUN-MULTIBOOT")) TH_LOG("it booted again: %s", o.buf);
	if (src) {
		EXPECT_EQ(1, count(src, "KHVRUN-MULTIBOOT ok")) TH_LOG("%s", src);
		all = guest_output(src, o.buf);
		EXPECT_TRUE(all && passes_in_order(all, PREFIX, &first, &last)) TH_LOG("%s", all);
		EXPECT_EQ(1, first);
		EXPECT_LT(last_number(src, PREFIX), last);
		ksft_print_msg("khvrun_xmig: passes 1-%d on %s, on to %d here; TSC here %lld "
			       "cycles behind\n", last_number(src, PREFIX), r->peer, last,
			       (long long)(src_tsc - dst_tsc));
	}
	free(all);
	free(src);
	free(o.buf);
}

FIXTURE(khvrun_xmig) {
	int unused;
};

FIXTURE_SETUP(khvrun_xmig)
{
}

FIXTURE_TEARDOWN(khvrun_xmig)
{
}

TEST_F_TIMEOUT(khvrun_xmig, between_machines, 560)
{
	struct role r;

	if (!parse_role(&r))
		SKIP(return, "lane: no khvxmig=src|dst,ADDR/LEN,PEER on the kernel command line");
	if (access(bin(), X_OK) || access(mbtest(), R_OK))
		SKIP(return, "no khv-run or mbtest.elf (%s, %s)", bin(), mbtest());
	ASSERT_EQ(0, access("/dev/khv", R_OK | W_OK));
	ASSERT_EQ(0, net_up(&r));
	if (r.source)
		source(_metadata, &r);
	else
		destination(_metadata, &r);
}

TEST_HARNESS_MAIN
