/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A simulated /dev/khv for khv-top, without VT-x/AMD-V or khv.ko: the
 * binary it is linked into gets this ioctl(), which answers the khv ioctls
 * khv-top sends (API version, KHV_CHECK_EXTENSION, KHV_GET_VMS,
 * KHV_OPEN_STATS) when sim.enabled, and passes everything else to the
 * kernel.  Any path stands for the device (/dev/null: open() needs a file).
 *
 * Each KHV_GET_VMS that lists the VMs (not one refused with E2BIG) is a
 * tick: the VMs listed then do a fixed amount of work (sim_work) and their
 * statistics files, memfds in the kernel's format (image.c), are rewritten
 * in place, so that khv-top's next pread() sees the new values.  A VM is listed from tick born to tick gone - 1; at tick
 * gone its files read "alive" 0.
 *
 * Per tick and per unit of step, a VM adds: exit svm_ioio 100 in the kernel
 * (1500 cycles each) and 10 through userspace (3000 cycles); svm_hlt 5 in
 * the kernel (100000 cycles); from tick 2, svm_npf 1 in the kernel (700
 * cycles); user_exit/io 10, kernel/tlb_flush 3; mmu/pages_pinned is 1000 +
 * tick.  Time follows the clock: of each vCPU's real time since the last
 * tick (since created_ns at the first), half is guest, a fifth kernel (of
 * which half halted), a tenth user.  tsc_khz is 1000000: a cycle is 1 ns.
 */
#ifndef KHV_TOP_TESTS_SIM_KHV_H
#define KHV_TOP_TESTS_SIM_KHV_H

#include <stdbool.h>
#include <stdint.h>

#include "image.h"

#define SIM_MAX_VMS	8
#define SIM_MAX_FDS	16
#define SIM_TSC_KHZ	1000000u

struct sim_vm {
	uint32_t id;
	int32_t pid;
	char comm[16];
	uint32_t vcpus;
	uint64_t created_ns;
	unsigned int born, gone;	/* listed for born <= tick < gone (gone 0: always) */
	int open_errno;			/* KHV_OPEN_STATS fails with it */
	bool corrupt;			/* its files have a wrong magic */
	uint64_t step;			/* work per tick */
	uint64_t last_ns;
	struct ki img;
	int fds[SIM_MAX_FDS];		/* our own references to the files handed out */
	unsigned int nfds;
};

struct sim_state {
	bool enabled;
	bool no_stats_cap;		/* KHV_CHECK_EXTENSION(KHV_CAP_STATS_FD) is 0 */
	int list_errno;			/* KHV_GET_VMS fails with it */
	unsigned int tick;
	unsigned int opens;		/* KHV_OPEN_STATS calls */
	unsigned int nvms;
	struct sim_vm vms[SIM_MAX_VMS];
};

extern struct sim_state sim;

/* Disabled, no VMs, every file closed. */
void sim_reset(void);
/* Enables the sim with a new VM (born at tick 1, never gone, step 1). */
struct sim_vm *sim_add(uint32_t id, int32_t pid, const char *comm, uint32_t vcpus,
		       uint64_t age_ns);
/*
 * The end-to-end scenario (tests/e2e.sh): VM 1 "khv-run" (pid 4242, 2
 * vCPUs, 10 s old), VM 2 "odd name" with a control character (pid 4243,
 * gone at tick 3), VM 3 of another user (EACCES), VM 4 gone before it is
 * opened (ESRCH), VM 5 born at tick 2 (pid 4242).  $KHV_SIM adds a twist:
 * nostats (no KHV_CAP_STATS_FD), listfail (KHV_GET_VMS fails with EIO),
 * corrupt (VM 1's file has a bad magic).
 */
void sim_default(const char *twist);

#endif /* KHV_TOP_TESTS_SIM_KHV_H */
