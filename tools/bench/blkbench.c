// SPDX-License-Identifier: GPL-2.0
/*
 * blkbench: the disk figures of make bench's vmm lane, measured inside the
 * second-level guest on its virtio-blk disk (the same static binary under
 * khv-run and under QEMU).
 *
 *   blkbench DEVICE MIB SECONDS
 *
 * With O_DIRECT, so that the guest's page cache measures nothing:
 *  - sequential write: MIB MiB in 1 MiB writes, then fdatasync (a FLUSH:
 *    the VMM must reach stable storage before it completes);
 *  - sequential read: the same MiB back, 1 MiB at a time;
 *  - random read: 4 KiB reads at random 4 KiB-aligned offsets within
 *    those MiB, one at a time (queue depth 1), for SECONDS.
 * One line on stdout:
 *   KHVRUN-BLK seqwrite_mbs=X seqread_mbs=X randread_iops=N
 * Exit status 1 (and a line on stderr) when any I/O fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MIB	(1024 * 1024)
#define SMALL	4096

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *what)
{
	fprintf(stderr, "blkbench: %s: %s\n", what, strerror(errno));
	return 1;
}

/* xorshift64: the offsets need not be good random numbers, only spread. */
static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

int main(int argc, char **argv)
{
	double t, wr, rd, secs;
	uint64_t seed = 0x9e3779b97f4a7c15ull, ops = 0;
	long mib, i;
	void *buf;
	int fd;

	if (argc != 4 || (mib = atol(argv[2])) <= 0 || (secs = atof(argv[3])) <= 0) {
		fprintf(stderr, "usage: blkbench DEVICE MIB SECONDS\n");
		return 2;
	}
	if (posix_memalign(&buf, SMALL, MIB))
		return 2;
	memset(buf, 0x5a, MIB);
	fd = open(argv[1], O_RDWR | O_DIRECT);
	if (fd < 0)
		return fail(argv[1]);

	t = now_s();
	for (i = 0; i < mib; i++)
		if (pwrite(fd, buf, MIB, (off_t)i * MIB) != MIB)
			return fail("write");
	if (fdatasync(fd))
		return fail("fdatasync");
	wr = now_s() - t;

	t = now_s();
	for (i = 0; i < mib; i++)
		if (pread(fd, buf, MIB, (off_t)i * MIB) != MIB)
			return fail("read");
	rd = now_s() - t;

	t = now_s();
	do {
		int k;

		/* The clock every 64 reads: a clock read is not free either. */
		for (k = 0; k < 64; k++, ops++) {
			uint64_t blk = next(&seed) % ((uint64_t)mib * (MIB / SMALL));

			if (pread(fd, buf, SMALL, (off_t)blk * SMALL) != SMALL)
				return fail("random read");
		}
	} while (now_s() - t < secs);
	printf("KHVRUN-BLK seqwrite_mbs=%.1f seqread_mbs=%.1f randread_iops=%.0f\n",
	       mib / wr, mib / rd, ops / (now_s() - t));
	close(fd);
	free(buf);
	return 0;
}
