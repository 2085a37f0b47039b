// SPDX-License-Identifier: GPL-2.0
/* The memory map (e820.c): layout, order, and RAM adding up to the request. */
#include <string.h>

#include "../e820.h"
#include "../machine.h"
#include "t.h"

#define MiB	(1ull << 20)
#define GiB	(1ull << 30)

/* The BIOS-area holes below 1 MiB are RAM-backed but not reported as RAM. */
#define LOW_HOLES	(KR_BIOS_END - KR_EBDA_START)

static uint64_t ram_in(const struct kr_e820_entry *e, size_t n)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		if (e[i].type == KR_E820_RAM)
			sum += e[i].size;
	return sum;
}

/* Sorted, non-overlapping, non-empty, every RAM entry backed by m. */
static void check_sane(const struct kr_mem *m, const struct kr_e820_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		CHECK(e[i].size > 0);
		if (i)
			CHECK(e[i - 1].addr + e[i - 1].size <= e[i].addr);
		if (e[i].type == KR_E820_RAM)
			CHECK(e[i].addr + e[i].size <= m->low_size || (e[i].addr >= KR_4G &&
			      e[i].addr + e[i].size <= KR_4G + m->high_size));
		else
			CHECK_EQ(e[i].type, KR_E820_RESERVED);
	}
}

static size_t build(uint64_t ram, struct kr_mem *m, struct kr_e820_entry *e)
{
	size_t n;

	*m = (struct kr_mem){ 0 };
	kr_mem_split(ram, &m->low_size, &m->high_size);
	n = kr_e820_build(m, e, KR_E820_MAX);
	CHECK(n <= KR_E820_MAX);
	check_sane(m, e, n);
	CHECK_EQ(ram_in(e, n) + LOW_HOLES, ram);
	return n;
}

KR_TEST(e820_struct)
{
	struct kr_e820_entry e;

	CHECK_EQ(sizeof(e), 20);
	CHECK_EQ((uint8_t *)&e.type - (uint8_t *)&e, 16);
}

KR_TEST(e820_small)
{
	struct kr_e820_entry e[KR_E820_MAX];
	struct kr_mem m;
	size_t n = build(64 * MiB, &m, e);

	CHECK_EQ(m.low_size, 64 * MiB);
	CHECK_EQ(m.high_size, 0);
	CHECK_EQ(n, 5);
	CHECK_EQ(e[0].addr, 0);
	CHECK_EQ(e[0].size, KR_EBDA_START);
	CHECK_EQ(e[0].type, KR_E820_RAM);
	CHECK_EQ(e[1].addr, KR_EBDA_START);
	CHECK_EQ(e[1].addr + e[1].size, KR_LOWMEM_END);
	CHECK_EQ(e[1].type, KR_E820_RESERVED);
	CHECK_EQ(e[2].addr, KR_BIOS_START);
	CHECK_EQ(e[2].addr + e[2].size, KR_BIOS_END);
	CHECK_EQ(e[2].type, KR_E820_RESERVED);
	CHECK_EQ(e[3].addr, KR_BIOS_END);
	CHECK_EQ(e[3].addr + e[3].size, 64 * MiB);
	CHECK_EQ(e[3].type, KR_E820_RAM);
	CHECK_EQ(e[4].addr, KR_ECAM_BASE);
	CHECK_EQ(e[4].size, KR_ECAM_SIZE);
	CHECK_EQ(e[4].type, KR_E820_RESERVED);
}

KR_TEST(e820_3g)
{
	struct kr_e820_entry e[KR_E820_MAX];
	struct kr_mem m;
	size_t n = build(3 * GiB, &m, e);

	CHECK_EQ(m.low_size, KR_PCI_HOLE);
	CHECK_EQ(m.high_size, 0);
	CHECK_EQ(n, 5);
	CHECK_EQ(e[3].addr + e[3].size, KR_PCI_HOLE);
}

KR_TEST(e820_4g)
{
	struct kr_e820_entry e[KR_E820_MAX];
	struct kr_mem m;
	size_t n = build(4 * GiB, &m, e);

	CHECK_EQ(m.low_size, 3 * GiB);
	CHECK_EQ(m.high_size, 1 * GiB);
	CHECK_EQ(n, 6);
	CHECK_EQ(e[5].addr, KR_HIGHMEM_BASE);
	CHECK_EQ(e[5].size, 1 * GiB);
	CHECK_EQ(e[5].type, KR_E820_RAM);
	/* Nothing reported as RAM inside the PCI hole. */
	for (size_t i = 0; i < n; i++)
		if (e[i].type == KR_E820_RAM)
			CHECK(e[i].addr + e[i].size <= KR_PCI_HOLE || e[i].addr >= KR_4G);
}

KR_TEST(e820_16g)
{
	struct kr_e820_entry e[KR_E820_MAX];
	struct kr_mem m;
	size_t n = build(16 * GiB, &m, e);

	CHECK_EQ(n, 6);
	CHECK_EQ(e[5].addr + e[5].size, KR_HIGHMEM_BASE + 13 * GiB);
}

KR_TEST(e820_short_out)
{
	struct kr_e820_entry e[3] = { 0 }, guard = { 0 };
	struct kr_mem m = { 0 };

	kr_mem_split(8 * GiB, &m.low_size, &m.high_size);
	/* Asks for 2 of 6: writes 2, says 6, leaves e[2] alone. */
	CHECK_EQ(kr_e820_build(&m, e, 2), 6);
	CHECK_EQ(e[1].addr, KR_EBDA_START);
	CHECK(!memcmp(&e[2], &guard, sizeof(guard)));
	CHECK_EQ(kr_e820_build(&m, NULL, 0), 6);
}
