// SPDX-License-Identifier: GPL-2.0
/*
 * vmm-time: run a VMM (khv-run or QEMU) and time it from the outside, for
 * the vmm lane of make bench (tools/bench/vmm-bench.sh).
 *
 *   vmm-time [-m MARK] [-r SECS] [-t SECS] [-o LOG] -- COMMAND [ARGS...]
 *   vmm-time -l PORT [-t SECS]
 *
 * COMMAND's stdout and stderr go through a pipe into LOG (default: they
 * are dropped).  When a line first contains MARK (the line the guest's
 * init prints), the time since the fork is the boot time.  With -r, SECS
 * after the mark VmRSS of COMMAND's process is read from /proc: the
 * resident memory of the VM while its guest idles.  -t kills COMMAND
 * (SIGKILL) after SECS in all.  At the end one line on stdout:
 *
 *   VMMTIME mark_ms=N rss_kb=N ram_rss_kb=N total_ms=N status=N
 *
 * ram_rss_kb is the resident part of COMMAND's largest mapping, its guest
 * RAM (for khv-run and QEMU alike).  mark_ms, rss_kb and ram_rss_kb are
 * -1 when there was no mark (or no sample);
 * status is COMMAND's exit status, 128 + the signal that ended it, or 255
 * when it could not be started.  vmm-time exits 0 when COMMAND exited 0
 * and the mark (if asked for) was seen, else 1.
 *
 * With -l, vmm-time is the test machine's end of the guest's network
 * figure instead: it accepts one TCP connection on PORT, reads it to the
 * end and prints
 *
 *   VMMNET bytes=N ms=N mbs=X
 *
 * timed on this machine's clock from the first byte to the end of the
 * stream (the guest's clock is the thing under test, not a reference).
 *
 * Why a program and not the shell: busybox has no clock finer than
 * /proc/uptime's 10 ms, and the RSS sample must happen while the VM runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * VmRSS of pid in KiB (-1 if gone), and in *ram the resident part of its
 * largest mapping: the guest's RAM, in khv-run and QEMU alike, so that
 * the VMM's own memory is the difference.
 */
static long rss_kb(pid_t pid, long *ram)
{
	long kb = -1, size = 0, big = 0, v;
	char path[64], line[256];
	FILE *f;

	*ram = -1;
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "Size: %ld kB", &v) == 1)
				size = v;
			else if (sscanf(line, "Rss: %ld kB", &v) == 1 && size > big) {
				big = size;
				*ram = v;
			}
		}
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * Scan new bytes for mark, across chunk boundaries: keep the tail of the
 * current line (at most one mark's length) in carry.
 */
static bool scan(const char *mark, char *carry, size_t *clen, const char *buf, size_t n)
{
	size_t mlen = strlen(mark), i;
	bool hit = false;

	for (i = 0; i < n && !hit; i++) {
		char c = buf[i];

		if (c == '\n') {
			*clen = 0;
			continue;
		}
		if (*clen == mlen) {
			memmove(carry, carry + 1, mlen - 1);
			(*clen)--;
		}
		carry[(*clen)++] = c;
		hit = *clen == mlen && !memcmp(carry, mark, mlen);
	}
	return hit;
}

static void usage(void)
{
	fprintf(stderr, "usage: vmm-time [-m MARK] [-r SECS] [-t SECS] [-o LOG] -- COMMAND [ARGS...]\n"
		"       vmm-time -l PORT [-t SECS]\n");
	exit(2);
}

/* -l: one connection's bytes and the time they took; 0 on success. */
static int net_sink(int port, double limit)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	double first = -1, last = -1, deadline = now_ms() + limit * 1e3;
	unsigned long long bytes = 0;
	int ls, c, one = 1;
	static char buf[65536];

	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 1)) {
		fprintf(stderr, "vmm-time: port %d: %s\n", port, strerror(errno));
		return 1;
	}
	for (;;) {
		struct pollfd pf = { .fd = ls, .events = POLLIN };
		int left = (int)(deadline - now_ms());

		if (left <= 0 || poll(&pf, 1, left) < 0) {
			fprintf(stderr, "vmm-time: port %d: no connection\n", port);
			return 1;
		}
		if (pf.revents)
			break;
	}
	c = accept(ls, NULL, NULL);
	if (c < 0)
		return 1;
	for (;;) {
		struct pollfd pf = { .fd = c, .events = POLLIN };
		int left = (int)(deadline - now_ms());
		ssize_t n;

		if (left <= 0 || poll(&pf, 1, left) <= 0) {
			fprintf(stderr, "vmm-time: port %d: stream did not end\n", port);
			return 1;
		}
		n = read(c, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (first < 0)
			first = now_ms();
		last = now_ms();
		bytes += n;
	}
	close(c);
	close(ls);
	if (!bytes || last <= first)
		return 1;
	printf("VMMNET bytes=%llu ms=%.0f mbs=%.2f\n", bytes, last - first,
	       bytes / 1e6 / ((last - first) / 1e3));
	return 0;
}

int main(int argc, char **argv)
{
	const char *mark = NULL, *log = NULL;
	double rss_after = -1, limit = 600, t0, mark_at = -1, deadline;
	long rss = -1, ram = -1;
	int p[2], logfd = -1, opt, st = 0, status, port = 0;
	char *carry = NULL;
	size_t clen = 0;
	bool open_pipe = true, killed = false;
	pid_t pid;

	while ((opt = getopt(argc, argv, "m:r:t:o:l:")) != -1) {
		switch (opt) {
		case 'l':
			port = atoi(optarg);
			if (port <= 0 || port > 65535)
				usage();
			break;
		case 'm':
			mark = optarg;
			break;
		case 'r':
			rss_after = atof(optarg);
			break;
		case 't':
			limit = atof(optarg);
			break;
		case 'o':
			log = optarg;
			break;
		default:
			usage();
		}
	}
	if (port)
		return optind == argc && limit > 0 ? net_sink(port, limit) : (usage(), 2);
	if (optind >= argc || (mark && !*mark) || limit <= 0)
		usage();
	if (mark) {
		carry = malloc(strlen(mark));
		if (!carry)
			return 2;
	}
	if (log) {
		logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (logfd < 0) {
			fprintf(stderr, "vmm-time: %s: %s\n", log, strerror(errno));
			return 2;
		}
	}
	if (pipe2(p, O_CLOEXEC))
		return 2;
	t0 = now_ms();
	pid = fork();
	if (pid < 0)
		return 2;
	if (!pid) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "vmm-time: %s: %s\n", argv[optind], strerror(errno));
		_exit(255);
	}
	close(p[1]);
	deadline = t0 + limit * 1e3;

	/* Until the pipe closes (the VMM and its children are gone). */
	while (open_pipe) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		double t = now_ms(), wake = deadline;
		char buf[4096];
		ssize_t n;

		if (mark_at >= 0 && rss_after >= 0 && rss < 0 && mark_at + rss_after * 1e3 < wake)
			wake = mark_at + rss_after * 1e3;
		if (t >= deadline && !killed) {
			kill(pid, SIGKILL);
			killed = true;
			deadline = t + 10e3;	/* then give up on the pipe */
			continue;
		}
		if (t >= deadline)
			break;
		if (mark_at >= 0 && rss_after >= 0 && rss < 0 && t >= mark_at + rss_after * 1e3) {
			rss = rss_kb(pid, &ram);
			if (rss < 0)
				rss = 0;	/* gone already: no sample, but do not retry */
			continue;
		}
		if (poll(&pf, 1, (int)(wake - t) + 1) <= 0)
			continue;
		n = read(p[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			open_pipe = false;
			break;
		}
		if (logfd >= 0 && write(logfd, buf, n) != n) {
			/* A full log loses lines, not the measurement. */
		}
		if (mark && mark_at < 0 && scan(mark, carry, &clen, buf, n))
			mark_at = now_ms();
	}
	if (open_pipe) {
		/* The deadline passed twice: the VMM would not die. */
		status = 255;
	} else {
		if (waitpid(pid, &st, 0) < 0)
			st = 255 << 8;
		status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	if (rss == 0)
		rss = -1;
	printf("VMMTIME mark_ms=%.0f rss_kb=%ld ram_rss_kb=%ld total_ms=%.0f status=%d\n",
	       mark_at < 0 ? -1 : mark_at - t0, rss, rss < 0 ? -1 : ram, now_ms() - t0, status);
	free(carry);
	return status == 0 && (!mark || mark_at >= 0) ? 0 : 1;
}
