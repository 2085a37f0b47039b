// SPDX-License-Identifier: GPL-2.0
/* The buses (bus.c): ordering, overlaps, dispatch, unclaimed accesses. */
#include <errno.h>
#include <string.h>

#include "../dev.h"
#include "t.h"

struct rec {
	uint64_t offset;
	unsigned int size;
	bool write;
	uint64_t value;
	int calls;
};

static void rec_fn(void *opaque, uint64_t offset, uint8_t *data, unsigned int size, bool write)
{
	struct rec *r = opaque;

	r->offset = offset;
	r->size = size;
	r->write = write;
	r->calls++;
	if (write)
		r->value = kr_get_le(data, size);
	else
		kr_put_le(data, size, 0x1122334455667788ull);
}

KR_TEST(bus_ranges)
{
	struct kr_bus bus;
	struct rec a = { 0 }, b = { 0 };
	uint8_t d[8];

	kr_bus_init(&bus, "pio");
	CHECK_EQ(kr_bus_add(&bus, 0x3f8, 8, rec_fn, &a, "com1"), 0);
	CHECK_EQ(kr_bus_add(&bus, 0x60, 1, rec_fn, &b, "kbd"), 0);
	CHECK_EQ(kr_bus_add(&bus, 0x3ff, 1, rec_fn, &b, "x"), -EEXIST);
	CHECK_EQ(kr_bus_add(&bus, 0x3f0, 9, rec_fn, &b, "x"), -EEXIST);
	CHECK_EQ(kr_bus_add(&bus, 0x3f0, 8, rec_fn, &b, "ok"), 0);
	CHECK_EQ(kr_bus_add(&bus, 0, 0, rec_fn, &b, "empty"), -EINVAL);
	CHECK_EQ(kr_bus_add(&bus, ~0ull, 2, rec_fn, &b, "wraps"), -EINVAL);
	CHECK_EQ(kr_bus_add(&bus, 1, 1, NULL, &b, "nofn"), -EINVAL);
	CHECK_EQ(bus.n, 3);
	CHECK(bus.ranges[0].base < bus.ranges[1].base && bus.ranges[1].base < bus.ranges[2].base);

	kr_put_le(d, 1, 0x41);
	CHECK(kr_bus_access(&bus, 0x3f8, d, 1, true));
	CHECK_EQ(a.offset, 0);
	CHECK_EQ(a.value, 0x41);
	CHECK(kr_bus_access(&bus, 0x3fd, d, 2, false));
	CHECK_EQ(a.offset, 5);
	CHECK_EQ(kr_get_le(d, 2), 0x7788);

	memset(d, 0, sizeof(d));
	CHECK(!kr_bus_access(&bus, 0x61, d, 4, false));
	CHECK_EQ(kr_get_le(d, 4), 0xffffffffu);
	CHECK(!kr_bus_access(&bus, 0x3f7 + 0x100, d, 1, true));
	CHECK(kr_bus_find(&bus, 0x3f7) != NULL);
	CHECK(kr_bus_find(&bus, 0x400) == NULL);
	kr_bus_free(&bus);
}
