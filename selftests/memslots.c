// SPDX-License-Identifier: GPL-2.0
/*
 * memslots: what a guest sees through the memory slots (lib/server.S does
 * the 8-byte loads and stores, one at a time, between slot changes).
 *
 *  - a read-only slot: loads see the memory, stores exit as MMIO writes with
 *    their data and leave the memory unchanged;
 *  - add / move / delete: data follows the slot to its new address, the old
 *    address (and, after delete, the new one) is MMIO, re-adding works;
 *  - outside every slot, loads and stores exit as MMIO and loads return
 *    exactly what the test supplies: never host memory.
 */
#include "khvt_harness.h"

#define SLOT_SIZE	0x10000

static uint64_t *alloc_slot_mem(KHVT_MD, uint64_t seed)
{
	uint64_t *m = khv_guest_mem_alloc(SLOT_SIZE);

	ASSERT_NE(NULL, m);
	for (size_t i = 0; i < SLOT_SIZE / 8; i++)
		m[i] = seed + i * 0x0101010101010101ull;
	return m;
}

TEST(readonly_slot)
{
	const uint64_t gpa = 0x400000;
	struct khvt_vm t;
	uint64_t *m;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, server64);
	REQUIRE_CAP(&t, KHV_CAP_READONLY_MEM);
	m = alloc_slot_mem(_metadata, 0x1122334455667788ull);
	KHV_OK(khv_vm_set_memory(&t.vm, 1, KHV_MEM_READONLY, gpa, SLOT_SIZE, m));

	EXPECT_VAL("load from the read-only slot", m[0], srv_read64(&t, gpa, NULL));
	EXPECT_VAL("load at the end of the read-only slot", m[SLOT_SIZE / 8 - 1],
		   srv_read64(&t, gpa + SLOT_SIZE - 8, NULL));
	srv_write64(&t, gpa + 8, 0xdeadbeefcafebabeull, true);
	srv_write64(&t, gpa + SLOT_SIZE - 8, 0x0badc0de0badc0deull, true);
	EXPECT_VAL("memory after the refused store", 0x1122334455667788ull + 0x0101010101010101ull,
		   m[1]);
	EXPECT_VAL("load after the refused store", m[1], srv_read64(&t, gpa + 8, NULL));
	EXPECT_VAL("memory at the end after the refused store",
		   0x1122334455667788ull + (SLOT_SIZE / 8 - 1) * 0x0101010101010101ull,
		   m[SLOT_SIZE / 8 - 1]);
	srv_halt(&t);
	khvt_destroy(&t);
	khv_guest_mem_free(m, SLOT_SIZE);
}

TEST(add_move_delete)
{
	const uint32_t slot = KHV_MAX_MEMSLOTS - 1;
	const uint64_t a = 0x600000, b = 0x800000;
	const uint64_t mmio1 = 0x1234123412341234ull, mmio2 = 0x5678567856785678ull;
	struct khvt_vm t;
	uint64_t *m;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, server64);
	m = alloc_slot_mem(_metadata, 0xa0a0a0a000000000ull);

	khvt_step = "before the slot exists";
	srv_read64(&t, a, &mmio1);

	khvt_step = "slot added at 0x600000";
	KHV_OK(khv_vm_set_memory(&t.vm, slot, 0, a, SLOT_SIZE, m));
	EXPECT_VAL("load at the new slot", m[0], srv_read64(&t, a, NULL));
	srv_write64(&t, a + 0x10, 0x5555aaaa5555aaaaull, false);
	EXPECT_VAL("the guest's store, in the slot's memory", 0x5555aaaa5555aaaaull, m[2]);

	khvt_step = "slot moved from 0x600000 to 0x800000";
	KHV_OK(khv_vm_set_memory(&t.vm, slot, 0, b, SLOT_SIZE, m));
	EXPECT_VAL("load at the new address", m[0], srv_read64(&t, b, NULL));
	EXPECT_VAL("the guest's store, at the new address", 0x5555aaaa5555aaaaull,
		   srv_read64(&t, b + 0x10, NULL));
	EXPECT_VAL("load at the old address (MMIO)", mmio1, srv_read64(&t, a, &mmio1));
	srv_write64(&t, a + 0x18, 0x7777777777777777ull, true);
	EXPECT_NE(0x7777777777777777ull, m[3]) TH_LOG("a store at the old address reached the slot");

	khvt_step = "slot deleted";
	KHV_OK(khv_vm_set_memory(&t.vm, slot, 0, b, 0, m));
	EXPECT_VAL("load after delete (MMIO)", mmio2, srv_read64(&t, b, &mmio2));
	srv_write64(&t, b + 8, 0x6666666666666666ull, true);
	EXPECT_NE(0x6666666666666666ull, m[1]) TH_LOG("a store after delete reached the memory");

	khvt_step = "slot added again at 0x600000";
	KHV_OK(khv_vm_set_memory(&t.vm, slot, 0, a, SLOT_SIZE, m));
	EXPECT_VAL("load after re-adding", 0x5555aaaa5555aaaaull, srv_read64(&t, a + 0x10, NULL));
	khvt_step = NULL;
	srv_halt(&t);
	khvt_destroy(&t);
	khv_guest_mem_free(m, SLOT_SIZE);
}

TEST(outside_slots)
{
	static const uint64_t holes[] = {
		KHVT_MEM_SIZE,			/* right after slot 0 */
		KHVT_MEM_SIZE + 0x1000,
		0x3ff000,			/* between slot 0 and slot 1 */
		0x400000 + SLOT_SIZE,		/* right after slot 1 */
		0xfee00000,
		0xfffffff8,			/* last qword below 4 GiB */
	};
	const uint64_t last = KHVT_MEM_SIZE - 8;
	struct khvt_vm t;
	uint64_t *m, v;
	char step[64];
	size_t i;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, server64);
	m = alloc_slot_mem(_metadata, 0x0f0f0f0f00000000ull);
	KHV_OK(khv_vm_set_memory(&t.vm, 1, 0, 0x400000, SLOT_SIZE, m));

	v = 0x0123012301230123ull;
	memcpy(khvt_gpa(&t, last), &v, 8);
	EXPECT_VAL("last qword of slot 0 (RAM)", v, srv_read64(&t, last, NULL));

	for (i = 0; i < ARRAY_SIZE(holes); i++) {
		const uint64_t data[2] = { 0, 0xfedcba9876543210ull ^ holes[i] };

		snprintf(step, sizeof(step), "access at %#llx", (unsigned long long)holes[i]);
		khvt_step = step;
		EXPECT_VAL("load outside the slots returns the test's data (0)", 0,
			   srv_read64(&t, holes[i], &data[0]));
		EXPECT_VAL("load outside the slots returns the test's data", data[1],
			   srv_read64(&t, holes[i], &data[1]));
		srv_write64(&t, holes[i], 0x1111222233334444ull, true);
	}
	khvt_step = NULL;
	srv_halt(&t);
	khvt_destroy(&t);
	khv_guest_mem_free(m, SLOT_SIZE);
}

TEST_HARNESS_MAIN
