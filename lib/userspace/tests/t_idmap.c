// SPDX-License-Identifier: LGPL-2.1-or-later
/* khv_build_identity_map: table placement, entries, and the bytes it writes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#define P_RW	0x3ull
#define P_RW_PS	0x83ull
#define MIB	(1ull << 20)
#define GIB	(1ull << 30)

static uint64_t entry(const void *mem, size_t table, unsigned int i)
{
	uint64_t v;

	memcpy(&v, (const char *)mem + table * 4096 + i * 8, 8);
	return v;
}

/* Counts the non-zero entries of one table. */
static unsigned int used(const void *mem, size_t table)
{
	unsigned int i, n = 0;

	for (i = 0; i < 512; i++)
		n += entry(mem, table, i) != 0;
	return n;
}

static void small_map(unsigned char *mem)
{
	const uint64_t gpa = 0x10000;

	memset(mem, 0xaa, 8 * 4096);
	CHECK_EQ(khv_build_identity_map(mem, gpa, 4 * MIB), 3 * 4096);
	CHECK_EQ(entry(mem, 0, 0), (gpa + 0x1000) | P_RW);
	CHECK_EQ(used(mem, 0), 1);
	CHECK_EQ(entry(mem, 1, 0), (gpa + 0x2000) | P_RW);
	CHECK_EQ(used(mem, 1), 1);
	CHECK_EQ(entry(mem, 2, 0), 0 | P_RW_PS);
	CHECK_EQ(entry(mem, 2, 1), 2 * MIB | P_RW_PS);
	CHECK_EQ(used(mem, 2), 2);
	/* Nothing written past the returned size. */
	CHECK_EQ(mem[3 * 4096], 0xaa);

	/* A partial 2 MiB page is mapped whole. */
	CHECK_EQ(khv_build_identity_map(mem, gpa, 3 * MIB), 3 * 4096);
	CHECK_EQ(used(mem, 2), 2);
	CHECK_EQ(khv_build_identity_map(mem, gpa, 1), 3 * 4096);
	CHECK_EQ(used(mem, 2), 1);
}

static void multi_gib_map(unsigned char *mem)
{
	const uint64_t gpa = 0x200000;

	memset(mem, 0xaa, 8 * 4096);
	CHECK_EQ(khv_build_identity_map(mem, gpa, 3 * GIB), 5 * 4096);
	CHECK_EQ(used(mem, 1), 3);
	CHECK_EQ(entry(mem, 1, 2), (gpa + 4 * 4096) | P_RW);
	CHECK_EQ(used(mem, 2), 512);
	CHECK_EQ(used(mem, 4), 512);
	CHECK_EQ(entry(mem, 3, 0), 1 * GIB | P_RW_PS);
	CHECK_EQ(entry(mem, 4, 511), (2 * GIB + 511 * 2 * MIB) | P_RW_PS);
	CHECK_EQ(mem[5 * 4096], 0xaa);
}

static void limits(void)
{
	size_t size = (2 + 512) * 4096;
	unsigned char *mem = aligned_alloc(4096, size);
	_Alignas(4096) unsigned char probe[4096];

	CHECK(mem != NULL);
	if (mem) {
		CHECK_EQ(khv_build_identity_map(mem, 0, 512 * GIB), (long)size);
		CHECK_EQ(used(mem, 1), 512);
		CHECK_EQ(entry(mem, 513, 511), (511 * GIB + 511 * 2 * MIB) | P_RW_PS);
		free(mem);
	}
	CHECK_EQ(khv_build_identity_map(probe, 0, 512 * GIB + 1), -EINVAL);
	CHECK_EQ(khv_build_identity_map(probe, 0, 0), -EINVAL);
	CHECK_EQ(khv_build_identity_map(NULL, 0, 2 * MIB), -EINVAL);
	CHECK_EQ(khv_build_identity_map(probe, 0x800, 2 * MIB), -EINVAL);
}

void test_idmap(void)
{
	unsigned char *mem = aligned_alloc(4096, 8 * 4096);

	CHECK(mem != NULL);
	if (!mem)
		return;
	small_map(mem);
	multi_gib_map(mem);
	free(mem);
	limits();
}
