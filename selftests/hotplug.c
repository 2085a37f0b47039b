// SPDX-License-Identifier: GPL-2.0
/*
 * hotplug: khv follows CPU hotplug (its per-CPU enable/disable callbacks)
 * and vCPUs moving between CPUs.
 *
 *  - offline_online_then_run: CPU 1 goes offline and comes back while khv is
 *    loaded; a new VM then runs on CPU 1 (SVM/VMX enabled there again).
 *  - vm_across_offline: a VM that ran on CPU 1 exists (not running) while
 *    CPU 1 goes offline and comes back; its vCPU then runs on CPU 1 and
 *    CPU 0 alternately, many times.  Every move needs a fresh ASID (VPID) on
 *    the new CPU, and CPU 1's ASID state restarted with the hotplug; memory
 *    slot moves between runs add TLB flush requests on top.  The guest's
 *    stores and loads must see the right memory on both CPUs.
 *
 * The thread is placed with sched_setaffinity() and checked with
 * sched_getcpu() after each run.  Skipped with fewer than two online CPUs,
 * without /sys/devices/system/cpu/cpu1/online, or when it is not writable
 * (not root).  CPU 1 is brought back online by the fixture's teardown
 * whatever happens.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "khvt_harness.h"

#define CPU1_ONLINE	"/sys/devices/system/cpu/cpu1/online"
#define SLOT		1
#define SLOT_SIZE	0x10000
#define SLOT_GPA_A	0x400000
#define SLOT_GPA_B	0x600000
#define ROUNDS		40	/* moves between CPU 0 and CPU 1 */

/* Write "0" or "1" to CPU1_ONLINE: 0 or an errno. */
static int cpu1_set_online(bool online)
{
	int fd = open(CPU1_ONLINE, O_WRONLY);
	int err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, online ? "1" : "0", 1) != 1)
		err = errno;
	close(fd);
	return err;
}

/* 1, 0, or -1 when unreadable. */
static int cpu1_online(void)
{
	char c = 0;
	int fd = open(CPU1_ONLINE, O_RDONLY);

	if (fd < 0)
		return -1;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == '1' ? 1 : c == '0' ? 0 : -1;
}

static void __pin(KHVT_MD, int line, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set))
		TH_LOG("line %d: sched_setaffinity(CPU %d): %s", line, cpu, strerror(errno));
	ASSERT_EQ(cpu, sched_getcpu()) TH_LOG("line %d: not on CPU %d after pinning", line, cpu);
}
#define pin(cpu) __pin(_metadata, __LINE__, (cpu))

static void __set_cpu1(KHVT_MD, int line, bool online)
{
	int err = cpu1_set_online(online);

	ASSERT_EQ(0, err) TH_LOG("line %d: %s CPU 1: %s", line, online ? "onlining" : "offlining",
				 strerror(err));
	ASSERT_EQ(online, cpu1_online()) TH_LOG("line %d: %s reads %d", line, CPU1_ONLINE,
						cpu1_online());
}
#define set_cpu1(online) __set_cpu1(_metadata, __LINE__, (online))

/* The test must be able to take CPU 1 away and give it back. */
#define REQUIRE_CPU1() do {							\
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)					\
		SKIP(return, "only one CPU online");				\
	if (access(CPU1_ONLINE, W_OK))						\
		SKIP(return, "%s: %s", CPU1_ONLINE, strerror(errno));		\
	if (cpu1_online() != 1)							\
		SKIP(return, "CPU 1 is not online");				\
} while (0)

/* One guest store and load at gpa (slot memory mem), on CPU cpu. */
static void store_load(KHVT_MD, struct khvt_vm *t, int cpu, uint64_t gpa, uint64_t *mem,
		       uint64_t val)
{
	char what[96];

	srv_write64(t, gpa, val, false);
	snprintf(what, sizeof(what), "guest store at %#llx on CPU %d, in the slot's memory",
		 (unsigned long long)gpa, cpu);
	EXPECT_VAL(what, val, *mem);
	snprintf(what, sizeof(what), "guest load at %#llx on CPU %d", (unsigned long long)gpa, cpu);
	EXPECT_VAL(what, val, srv_read64(t, gpa, NULL));
	EXPECT_EQ(cpu, sched_getcpu()) TH_LOG("the vCPU thread left CPU %d", cpu);
}

FIXTURE(cpu1) {
	bool offlined;		/* CPU 1 may be offline: put it back */
};

FIXTURE_SETUP(cpu1)
{
	self->offlined = false;
}

FIXTURE_TEARDOWN(cpu1)
{
	int err;

	if (!self->offlined || cpu1_online() == 1)
		return;
	err = cpu1_set_online(true);
	if (err)
		fprintf(stderr, "# could not bring CPU 1 back online: %s\n", strerror(err));
}

TEST_F(cpu1, offline_online_then_run)
{
	uint32_t r[4];
	struct khvt_vm t;

	REQUIRE_CPU1();
	pin(0);
	self->offlined = true;
	set_cpu1(false);
	set_cpu1(true);

	pin(1);
	VM_WITH_PAYLOAD(&t, KHVT_LONG, server64);
	srv_cpuid(&t, 0, 0, r);
	EXPECT_NE(0u, r[0]) TH_LOG("CPUID.0:EAX on CPU 1");
	store_load(_metadata, &t, 1, GUEST_DATA, khvt_gpa(&t, GUEST_DATA), 0x1111000011110000ull);
	srv_halt(&t);
	khvt_destroy(&t);
}

TEST_F(cpu1, vm_across_offline)
{
	struct khvt_vm t;
	uint64_t *m, gpa = SLOT_GPA_A;
	int i, cpu;

	REQUIRE_CPU1();
	pin(1);
	VM_WITH_PAYLOAD(&t, KHVT_LONG, server64);
	m = khv_guest_mem_alloc(SLOT_SIZE);
	ASSERT_NE(NULL, m);
	KHV_OK(khv_vm_set_memory(&t.vm, SLOT, 0, gpa, SLOT_SIZE, m));
	store_load(_metadata, &t, 1, gpa, m, 0xc1c1c1c100000001ull);

	pin(0);
	self->offlined = true;
	set_cpu1(false);
	set_cpu1(true);

	khvt_step = "alternating CPUs after CPU 1 went offline and came back";
	for (i = 0; i < ROUNDS; i++) {
		uint64_t off = (uint64_t)(i % (SLOT_SIZE / 4096)) * 4096 + 8 * (i % 8);
		uint64_t val;

		cpu = i % 2 ? 0 : 1;
		val = 0x5a5a000000000000ull | (uint64_t)i << 16 | (uint64_t)cpu;
		pin(cpu);
		store_load(_metadata, &t, cpu, gpa + off, &m[off / 8], val);
		/* Every third round the slot moves: the old gpa must stop working. */
		if (i % 3 == 2) {
			uint64_t old = gpa, mmio = ~val;

			gpa = gpa == SLOT_GPA_A ? SLOT_GPA_B : SLOT_GPA_A;
			KHV_OK(khv_vm_set_memory(&t.vm, SLOT, 0, gpa, SLOT_SIZE, m));
			EXPECT_VAL("load at the slot's old address (MMIO)", mmio,
				   srv_read64(&t, old + off, &mmio));
			EXPECT_VAL("load at the slot's new address", val,
				   srv_read64(&t, gpa + off, NULL));
		}
	}
	khvt_step = NULL;
	srv_halt(&t);
	khvt_destroy(&t);
	khv_guest_mem_free(m, SLOT_SIZE);
}

TEST_HARNESS_MAIN
