/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pages.h: for tests in which the host takes the VMM's memory away from
 * under a VM (mrelease, ksm, migrate).  The VM's slot 1 is plain 4 KiB
 * anonymous memory that the guest fills and checks (lib/pages.S).  These
 * tests run the VMM in a child process, so that a VMM the kernel cannot
 * get on with (a task stuck on a lock in reclaim, KSM or migration) hangs
 * only the child: the test itself sees the time run out, reports and goes
 * on.  The child cannot use the harness macros; it reports over a pipe.
 */
#ifndef KHVT_PAGES_H
#define KHVT_PAGES_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "khvt.h"

KHVT_DECLARE_PAYLOAD(pages);
extern const uint8_t pages_fill[], pages_check[], pages_spin[];

#define PAGES_SLOT	1
#define PAGES_GPA	0x400000ULL
#define PAGE_BYTES	4096UL

struct pages_vm {
	struct khvt_vm t;
	uint8_t *mem;		/* slot 1 */
	unsigned long n;	/* its pages */
};

/*
 * A long-mode VM running the pages payload, with slot 1 = @n pages of
 * anonymous memory at PAGES_GPA.  No THP there (MADV_NOHUGEPAGE): KSM and
 * migration then handle the pages one by one, as a pinned THP is never
 * split.  @advice: one more madvise() on it, or -1.  0 or -errno
 * (khvt_no_device() tells a missing /dev/khv).
 */
static inline int pages_vm_create(struct pages_vm *v, unsigned long n, int advice)
{
	size_t len = n * PAGE_BYTES;
	int ret;

	memset(v, 0, sizeof(*v));
	ret = vm_with_payload(&v->t, KHVT_LONG, PAYLOAD(pages));
	if (ret)
		return ret;
	v->mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->mem == MAP_FAILED) {
		v->mem = NULL;
		return -errno;
	}
	v->n = n;
	if (madvise(v->mem, len, MADV_NOHUGEPAGE) ||
	    (advice >= 0 && madvise(v->mem, len, advice))) {
		ret = -errno;
		fprintf(stderr, "# madvise: %s\n", strerror(-ret));
		return ret;
	}
	return khv_vm_set_memory(&v->t.vm, PAGES_SLOT, 0, PAGES_GPA, len, v->mem);
}

/*
 * Run the routine at @entry (pages_fill, pages_check, pages_spin) over
 * pages [first, first + n) of slot 1 with value @val, up to its OUT to
 * PORT_ECHO, whose value goes to *echo; with @halt, on to the HLT after it.
 * 0, -errno of KHV_RUN, -ETIMEDOUT (watchdog), or -EPROTO for any other
 * exit (dumped as TAP comments).
 */
static inline int pages_vm_call(struct pages_vm *v, const uint8_t *entry, unsigned long first,
				unsigned long n, uint64_t val, bool halt, uint32_t *echo)
{
	const struct khv_run *run = v->t.vcpu.run;
	struct khv_regs r;
	int ret;

	ret = khv_vcpu_get_regs(&v->t.vcpu, &r);
	if (ret)
		return ret;
	r.rip = PAYLOAD_GPA(pages, entry);
	r.r8 = PAGES_GPA + first * PAGE_BYTES;
	r.r9 = n;
	r.r10 = val;
	ret = khv_vcpu_set_regs(&v->t.vcpu, &r);
	if (ret)
		return ret;
	ret = khvt_run(&v->t);
	if (ret)
		return ret;
	if (run->exit_reason != KHV_EXIT_IO || run->io.direction != KHV_EXIT_IO_OUT ||
	    run->io.port != PORT_ECHO || run->io.size != 4) {
		khvt_dump(&v->t);
		return -EPROTO;
	}
	*echo = (uint32_t)khvt_io_get(&v->t, 0);
	if (!halt)
		return 0;
	ret = khvt_run(&v->t);
	if (ret)
		return ret;
	if (run->exit_reason != KHV_EXIT_HLT) {
		khvt_dump(&v->t);
		return -EPROTO;
	}
	return 0;
}

/* Qwords of pages [first, first + n) that differ from @val, seen by the VMM. */
static inline unsigned long pages_vm_diff(const struct pages_vm *v, unsigned long first,
					  unsigned long n, uint64_t val)
{
	const volatile uint64_t *q = (const volatile uint64_t *)(v->mem + first * PAGE_BYTES);
	unsigned long i, diff = 0;

	for (i = 0; i < n * PAGE_BYTES / 8; i++)
		diff += q[i] != val;
	return diff;
}

static inline void pages_vm_destroy(struct pages_vm *v)
{
	khvt_destroy(&v->t);
	if (v->mem)
		munmap(v->mem, v->n * PAGE_BYTES);
	v->mem = NULL;
}

static inline long pages_ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * Read exactly @len bytes from @fd within @ms milliseconds: 0, -ETIMEDOUT,
 * -EPIPE when the writer closed (or died) first, or -errno.
 */
static inline int pages_read_within(int fd, void *buf, size_t len, int ms)
{
	struct timespec t0;
	size_t got = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = ms - pages_ms_since(&t0);
		ssize_t r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		r = read(fd, (char *)buf + got, len - got);
		if (r == 0)
			return -EPIPE;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0)
			got += (size_t)r;
	}
	return 0;
}

/* waitpid() for at most @ms: the wait status (>= 0), or -ETIMEDOUT. */
static inline int pages_wait_child(pid_t pid, int ms)
{
	struct timespec t0;
	int status;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (pages_ms_since(&t0) >= ms)
			return -ETIMEDOUT;
		usleep(10000);
	}
}

#endif /* KHVT_PAGES_H */
