/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fake /dev/khv for the unit tests.  The test binary defines ioctl()
 * itself, which the statically linked library calls instead of libc's:
 * every khv ioctl is counted (so tests can prove that a bad argument never
 * reached the kernel), and when fake.enabled is set it is answered here.
 * Everything else goes to the real ioctl system call.
 */
#ifndef LIBKHV_FAKE_KHV_H
#define LIBKHV_FAKE_KHV_H

#include "test.h"

enum fake_vcpu_backing {
	FAKE_VCPU_MEMFD,	/* a memfd: mmap works */
	FAKE_VCPU_DEVNULL,	/* /dev/null: mmap fails with ENODEV */
};

struct fake_khv {
	int enabled;
	unsigned int calls;		/* khv ioctls seen, enabled or not */
	unsigned long last_req;

	int api_version;		/* KHV_GET_API_VERSION answer */
	int mmap_size;			/* KHV_GET_VCPU_MMAP_SIZE answer */
	int ext_value;			/* KHV_CHECK_EXTENSION answer */
	unsigned long last_cap;
	enum fake_vcpu_backing vcpu_backing;
	int last_vcpu_fd;
	unsigned long last_vcpu_id;
	int fail_errno;			/* if set, the next khv ioctl fails with it */

	struct khv_userspace_memory_region last_region;
	struct khv_regs regs;
	struct khv_sregs sregs;
	struct khv_event last_event;

	int msrs_processed;		/* GET/SET_MSRS return value */
	uint64_t msr_value;
	uint32_t last_nmsrs;
	struct khv_msr_entry last_msr;

	uint32_t cpuid_avail;		/* entries GET_CPUID has */
	uint32_t set_cpuid_nent;
	struct khv_cpuid_entry set_cpuid[4];
	uint32_t stats_avail;		/* entries GET_EXIT_STATS has */
};

extern struct fake_khv fake;

/* Disabled, counters cleared, sensible answers (version 1, 8 KiB run page). */
void fake_reset(void);

#endif /* LIBKHV_FAKE_KHV_H */
