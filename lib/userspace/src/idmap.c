// SPDX-License-Identifier: LGPL-2.1-or-later
/* 4-level identity page tables with 2 MiB pages, for long-mode guests. */
#include <string.h>

#include "internal.h"

#define PTE_P		(1ull << 0)
#define PTE_RW		(1ull << 1)
#define PTE_PS		(1ull << 7)	/* in a PD entry: a 2 MiB page */

#define PAGE_4K		4096ull
#define PAGE_2M		(2ull << 20)
#define SIZE_1G		(1ull << 30)
#define SIZE_512G	(512ull << 30)
#define ENTRIES		512u

/* Guest memory has no alignment promise beyond what the caller gives: memcpy. */
static void put_entry(unsigned char *table, unsigned int i, uint64_t val)
{
	memcpy(table + (size_t)i * sizeof(val), &val, sizeof(val));
}

KHV_EXPORT long khv_build_identity_map(void *mem, uint64_t tables_gpa, uint64_t map_size)
{
	unsigned char *pml4 = mem, *pdpt, *pd;
	uint64_t npd, pdpt_gpa, addr;
	unsigned int i, j;

	/* One PML4 entry covers 512 GiB, which is all a single PDPT maps. */
	if (!mem || !map_size || map_size > SIZE_512G || (tables_gpa & (PAGE_4K - 1)))
		return -EINVAL;

	npd = (map_size + SIZE_1G - 1) / SIZE_1G;	/* one PD per GiB */
	pdpt = pml4 + PAGE_4K;
	pdpt_gpa = tables_gpa + PAGE_4K;
	memset(mem, 0, (size_t)((2 + npd) * PAGE_4K));

	put_entry(pml4, 0, pdpt_gpa | PTE_RW | PTE_P);
	for (i = 0; i < npd; i++) {
		pd = pdpt + (1 + i) * PAGE_4K;
		put_entry(pdpt, i, (pdpt_gpa + (1 + i) * PAGE_4K) | PTE_RW | PTE_P);
		for (j = 0; j < ENTRIES; j++) {
			addr = (uint64_t)i * SIZE_1G + (uint64_t)j * PAGE_2M;
			/* A partial last 2 MiB page is mapped whole. */
			if (addr >= map_size)
				break;
			put_entry(pd, j, addr | PTE_PS | PTE_RW | PTE_P);
		}
	}
	return (long)((2 + npd) * PAGE_4K);
}
