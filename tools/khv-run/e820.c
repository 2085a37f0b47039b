// SPDX-License-Identifier: GPL-2.0
/*
 * The memory map (e820.h).  Low RAM is one host piece from guest address 0;
 * the holes in it that the map reports (EBDA, the BIOS area where the ACPI
 * tables go) are still backed by that piece, the VGA window between them
 * is left out of the map, as on a PC.
 */
#include "e820.h"
#include "machine.h"

struct e820_acc {
	struct kr_e820_entry *out;
	size_t max, n;
};

static void e820_add(struct e820_acc *a, uint64_t addr, uint64_t end, uint32_t type)
{
	if (end <= addr)
		return;
	if (a->n < a->max)
		a->out[a->n] = (struct kr_e820_entry){ addr, end - addr, type };
	a->n++;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

size_t kr_e820_build(const struct kr_mem *m, struct kr_e820_entry *out, size_t max)
{
	struct e820_acc a = { out, max, 0 };
	uint64_t low = m->low_size;

	/* Empty ranges (no high RAM, a tiny machine) are left out. */
	e820_add(&a, 0, min_u64(low, KR_EBDA_START), KR_E820_RAM);
	e820_add(&a, KR_EBDA_START, KR_LOWMEM_END, KR_E820_RESERVED);
	e820_add(&a, KR_BIOS_START, KR_BIOS_END, KR_E820_RESERVED);
	e820_add(&a, KR_BIOS_END, low, KR_E820_RAM);
	e820_add(&a, KR_ECAM_BASE, KR_ECAM_BASE + KR_ECAM_SIZE, KR_E820_RESERVED);
	e820_add(&a, KR_HIGHMEM_BASE, KR_HIGHMEM_BASE + m->high_size, KR_E820_RAM);
	return a.n;
}

void kr_mem_split(uint64_t ram, uint64_t *low, uint64_t *high)
{
	*low = min_u64(ram, KR_PCI_HOLE);
	*high = ram - *low;
}
