// SPDX-License-Identifier: GPL-2.0
/*
 * The last FUZZ_RING calls of every thread, newest last, printed with the
 * seed when the fuzzer finds a violation or crashes.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define FUZZ_RING	64

struct ring_entry {
	const char *op;
	long long a, b;
	long ret;
	int err;
	unsigned long tid;
};

static struct ring_entry ring[FUZZ_RING];
static unsigned long ring_next;
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t crash_seed;

void fuzz_ring_add(const char *op, long long a, long long b, long ret, int err)
{
	struct ring_entry *e;

	pthread_mutex_lock(&ring_lock);
	e = &ring[ring_next++ % FUZZ_RING];
	e->op = op;
	e->a = a;
	e->b = b;
	e->ret = ret;
	e->err = ret < 0 ? err : 0;
	e->tid = (unsigned long)gettid();
	pthread_mutex_unlock(&ring_lock);
}

/* No lock: also called from a crash handler, where a held lock would hang. */
void fuzz_ring_dump(int fd)
{
	unsigned long i, start = ring_next > FUZZ_RING ? ring_next - FUZZ_RING : 0;
	char line[200];
	int n;

	for (i = start; i < ring_next; i++) {
		const struct ring_entry *e = &ring[i % FUZZ_RING];

		n = snprintf(line, sizeof(line), "# fuzz: call %lu [tid %lu] %s(0x%llx, 0x%llx) = %ld%s%s\n",
			     i, e->tid, e->op ? e->op : "?", e->a, e->b, e->ret,
			     e->err ? " " : "", e->err ? strerror(e->err) : "");
		if (n > 0 && write(fd, line, (size_t)n) < 0)
			return;
	}
}

static void crash(int sig)
{
	char line[120];
	int n;

	n = snprintf(line, sizeof(line), "# fuzz: signal %d, seed %llu; the last calls:\n", sig,
		     (unsigned long long)crash_seed);
	if (n > 0 && write(2, line, (size_t)n) < 0)
		_exit(128 + sig);
	fuzz_ring_dump(2);
	signal(sig, SIG_DFL);
	raise(sig);
}

void fuzz_install_crash_handler(uint64_t seed)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	struct sigaction sa;
	unsigned int i;

	crash_seed = seed;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = crash;
	sa.sa_flags = SA_RESETHAND;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}
