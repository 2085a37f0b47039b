// SPDX-License-Identifier: GPL-2.0
/*
 * The two buses (dev.h): a sorted array of ranges, binary-searched per
 * access.  Ranges are added before the vCPUs start and never removed while
 * they run, so lookups take no lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dev.h"

void kr_bus_init(struct kr_bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

void kr_bus_free(struct kr_bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->n = bus->cap = 0;
}

/* Index of the first range whose end is above addr. */
static size_t kr_bus_lower(const struct kr_bus *bus, uint64_t addr)
{
	size_t lo = 0, hi = bus->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct kr_range *r = &bus->ranges[mid];

		if (r->base + r->len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int kr_bus_add(struct kr_bus *bus, uint64_t base, uint64_t len, kr_io_fn *fn, void *opaque,
	       const char *name)
{
	size_t i;

	if (!len || !fn || base + len < base)
		return -EINVAL;
	i = kr_bus_lower(bus, base);
	if (i < bus->n && bus->ranges[i].base < base + len)
		return -EEXIST;
	if (bus->n == bus->cap) {
		size_t cap = bus->cap ? 2 * bus->cap : 16;
		struct kr_range *r = realloc(bus->ranges, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		bus->ranges = r;
		bus->cap = cap;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i], (bus->n - i) * sizeof(bus->ranges[0]));
	bus->ranges[i] = (struct kr_range){ base, len, fn, opaque, name };
	bus->n++;
	return 0;
}

const struct kr_range *kr_bus_find(const struct kr_bus *bus, uint64_t addr)
{
	size_t i = kr_bus_lower(bus, addr);

	if (i < bus->n && bus->ranges[i].base <= addr)
		return &bus->ranges[i];
	return NULL;
}

bool kr_bus_access(const struct kr_bus *bus, uint64_t addr, uint8_t *data, unsigned int size,
		   bool write)
{
	const struct kr_range *r = kr_bus_find(bus, addr);

	if (!write)
		memset(data, 0xff, size);
	if (!r)
		return false;
	r->fn(r->opaque, addr - r->base, data, size, write);
	return true;
}
