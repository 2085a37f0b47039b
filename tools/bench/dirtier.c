// SPDX-License-Identifier: GPL-2.0
/*
 * dirtier: the workload of make bench's migration figures, run inside the
 * second-level guest (the same static binary under khv-run and under
 * QEMU): it dirties memory at a fixed rate, as a busy guest does while it
 * migrates.
 *
 *   dirtier MIB MIB_PER_SECOND
 *
 * MIB MiB are allocated and filled with pseudo-random bytes (no page is a
 * zero page, which both VMMs would send as a flag), then, every 10 ms,
 * the next MIB_PER_SECOND / 100 MiB worth of pages (round robin over the
 * buffer) each get one new word: a page written is a page the migration
 * must send again.  One line once the buffer is ready:
 *   KHVRUN-DIRTY ready mib=MIB rate=MIB_PER_SECOND
 * then it runs until killed (the guest migrates meanwhile).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define PAGE	4096
#define MIB	(1024 * 1024)

int main(int argc, char **argv)
{
	long mib, rate, pages, per_tick, at = 0;
	uint64_t x = 0x9e3779b97f4a7c15ull, *p;
	struct timespec next;
	uint8_t *buf;

	if (argc != 3 || (mib = atol(argv[1])) <= 0 || (rate = atol(argv[2])) < 0) {
		fprintf(stderr, "usage: dirtier MIB MIB_PER_SECOND\n");
		return 2;
	}
	pages = mib * (MIB / PAGE);
	per_tick = rate * (MIB / PAGE) / 100;
	buf = malloc((size_t)mib * MIB);
	if (!buf) {
		fprintf(stderr, "dirtier: cannot allocate %ld MiB\n", mib);
		return 1;
	}
	for (p = (uint64_t *)buf; p < (uint64_t *)(buf + (size_t)mib * MIB); p++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		*p = x;
	}
	printf("KHVRUN-DIRTY ready mib=%ld rate=%ld\n", mib, rate);
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		for (long i = 0; i < per_tick; i++) {
			*(volatile uint64_t *)(buf + (size_t)at * PAGE) += 1;
			at = (at + 1) % pages;
		}
		next.tv_nsec += 10 * 1000 * 1000;
		if (next.tv_nsec >= 1000 * 1000 * 1000) {
			next.tv_nsec -= 1000 * 1000 * 1000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
}
