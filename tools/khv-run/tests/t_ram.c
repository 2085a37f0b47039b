// SPDX-License-Identifier: GPL-2.0
/* Guest RAM (machine.c, kr_ram_alloc): 2 MiB-aligned, nothing left around it. */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../vmm.h"
#include "t.h"

/* Is the page at p mapped?  mincore() fails with ENOMEM where it is not. */
static int mapped(const void *p)
{
	unsigned char v;

	return mincore((void *)((uintptr_t)p & ~(uintptr_t)4095), 4096, &v) == 0 ||
	       errno != ENOMEM;
}

KR_TEST(ram_alloc_aligned)
{
	static const uint64_t sizes[] = { 4096, 2ull << 20, (3ull << 20) + 4096, 256ull << 20 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t size = sizes[i];
		uint8_t *p = kr_ram_alloc(size, false);

		CHECK(p != NULL);
		if (!p)
			continue;
		CHECK_EQ((uintptr_t)p % KR_RAM_ALIGN, 0);
		/* Writable end to end, zero-filled. */
		CHECK_EQ(p[0] | p[size - 1], 0);
		p[0] = 1;
		p[size - 1] = 2;
		/* The over-mapping is gone on both sides. */
		CHECK(!mapped(p - 4096));
		CHECK(!mapped(p + ((size + 4095) & ~4095ull)));
		CHECK_EQ(munmap(p, size), 0);
	}
}

/* hugetlb: mapped and aligned, or (no huge pages reserved here) refused. */
KR_TEST(ram_alloc_hugetlb)
{
	uint64_t size = 4ull << 20;
	uint8_t *p;

	errno = 0;
	p = kr_ram_alloc(size, true);
	if (!p) {
		CHECK(errno == ENOMEM || errno == EINVAL);
		return;
	}
	CHECK_EQ((uintptr_t)p % KR_RAM_ALIGN, 0);
	CHECK_EQ(munmap(p, size), 0);
}
