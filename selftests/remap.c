// SPDX-License-Identifier: GPL-2.0
/*
 * remap: the VMM changes the memory behind a slot without telling khv, and
 * the guest sees the change (the MMU notifier, core/mmu_notifier.c).  The
 * guest (remap_guest.S) spins reading one qword of slot 1 and reports each
 * new value; the slot is never deleted or re-added.
 *
 *  - map_fixed: mmap(MAP_FIXED) new anonymous memory over the slot's range
 *    and store a new value: the guest reports it (not the old page's).
 *  - dontneed: madvise(MADV_DONTNEED) drops the pages: the guest reads 0,
 *    then sees a value the VMM stores into the fresh page afterwards (the
 *    page khv pins again is the one the VMM writes).
 *  - unmapped: with the range unmapped (munmap), KHV_RUN fails with EFAULT when the
 *    guest touches it; mapped again, the guest runs on and sees the new
 *    memory.
 *  - no_pin_leak: 20 MAP_FIXED cycles leave as many pages pinned as one:
 *    each replaced page was unpinned (/proc/vmstat nr_foll_pin_*).
 * Without the notifier the guest keeps reading the old pinned page and
 * spins until the watchdog (KHVT_WATCHDOG_SECONDS) fails the test.
 */
#include <limits.h>
#include <sys/mman.h>

#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(remap_watch);

#define SLOT		1
#define SLOT_GPA	0x400000
#define SLOT_SIZE	0x200000

struct remap {
	struct khvt_vm t;
	volatile uint64_t *mem;
};

static void *map_at(void *addr)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | (addr ? MAP_FIXED : 0);
	void *p = mmap(addr, SLOT_SIZE, PROT_READ | PROT_WRITE, flags, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* A VM whose slot 1 is fresh anonymous memory holding @first; the guest reported it. */
static void __remap_setup(KHVT_MD, struct remap *r, uint32_t first)
{
	struct khv_regs regs;

	VM_WITH_PAYLOAD(&r->t, KHVT_LONG, remap_watch);
	r->mem = map_at(NULL);
	ASSERT_NE(NULL, r->mem) TH_LOG("mmap: %s", strerror(errno));
	r->mem[0] = first;
	KHV_OK(khv_vm_set_memory(&r->t.vm, SLOT, 0, SLOT_GPA, SLOT_SIZE, (void *)r->mem));
	KHV_OK(khv_vcpu_get_regs(&r->t.vcpu, &regs));
	regs.rdi = SLOT_GPA;
	KHV_OK(khv_vcpu_set_regs(&r->t.vcpu, &regs));
	EXPECT_VAL("the first value", first, expect_out(&r->t, PORT_ECHO, 4));
}
#define remap_setup(r, first) __remap_setup(_metadata, (r), (first))

static void remap_done(struct remap *r)
{
	khvt_destroy(&r->t);
	munmap((void *)r->mem, SLOT_SIZE);
}

TEST(map_fixed)
{
	struct remap r;

	remap_setup(&r, 0x1111);
	ASSERT_EQ((void *)r.mem, map_at((void *)r.mem)) TH_LOG("mmap MAP_FIXED: %s", strerror(errno));
	r.mem[0] = 0x2222;
	EXPECT_VAL("the value in the new memory", 0x2222, expect_out(&r.t, PORT_ECHO, 4));
	remap_done(&r);
}

TEST(dontneed)
{
	struct remap r;

	remap_setup(&r, 0x1111);
	ASSERT_EQ(0, madvise((void *)r.mem, SLOT_SIZE, MADV_DONTNEED));
	EXPECT_VAL("a dropped page reads as zero", 0, expect_out(&r.t, PORT_ECHO, 4));
	/* The guest spins on the page it just pinned: the VMM's store is seen. */
	r.mem[0] = 0x3333;
	EXPECT_VAL("a store into the fresh page", 0x3333, expect_out(&r.t, PORT_ECHO, 4));
	remap_done(&r);
}

TEST(unmapped)
{
	struct remap r;
	int ret;

	remap_setup(&r, 0x1111);
	ASSERT_EQ(0, munmap((void *)r.mem, SLOT_SIZE));
	ret = khvt_run(&r.t);
	EXPECT_EQ(-EFAULT, ret) TH_LOG("KHV_RUN over unmapped slot memory: %s", strerror(-ret));
	ASSERT_EQ((void *)r.mem, map_at((void *)r.mem)) TH_LOG("mmap MAP_FIXED: %s", strerror(errno));
	r.mem[0] = 0x4444;
	EXPECT_VAL("the value in the memory mapped again", 0x4444,
		   expect_out(&r.t, PORT_ECHO, 4));
	remap_done(&r);
}

TEST(no_pin_leak)
{
	long pins1 = LONG_MIN, pins;
	struct remap r;
	int i;

	remap_setup(&r, 0x1000);
	for (i = 1; i <= 20; i++) {
		ASSERT_EQ((void *)r.mem, map_at((void *)r.mem));
		r.mem[0] = 0x1000 + i;
		EXPECT_VAL("the value in the new memory", 0x1000 + i,
			   expect_out(&r.t, PORT_ECHO, 4));
		pins = khvt_pins_outstanding();
		if (pins == LONG_MIN) {
			remap_done(&r);
			SKIP(return, "no nr_foll_pin_* in /proc/vmstat");
		}
		if (i == 1)
			pins1 = pins;
	}
	EXPECT_EQ(pins1, pins) TH_LOG("pins outstanding after 1 and after 20 remaps");
	remap_done(&r);
}

TEST_HARNESS_MAIN
