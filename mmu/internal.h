/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to mmu/: the table geometry and the walker that mmu.c (faults,
 * zaps) and dirty.c (write protection for the dirty log) share.  Locking
 * as in mmu.h.
 */
#ifndef KHV_MMU_INTERNAL_H
#define KHV_MMU_INTERNAL_H

#include <linux/io.h>
#include <linux/mm.h>

#include "mmu.h"

struct khv_memslot;

#define KHV_PT_ENTRIES		512
#define KHV_LARGE_LEVEL		2
#define KHV_LARGE_PAGES		512	/* 4 KiB pages in a 2 MiB leaf */
#define KHV_LARGE_ORDER		9

static inline unsigned int khv_level_shift(int level)
{
	return PAGE_SHIFT + 9 * (level - 1);
}

static inline u64 khv_level_size(int level)
{
	return 1ULL << khv_level_shift(level);
}

static inline unsigned int khv_pt_index(u64 gpa, int level)
{
	return (gpa >> khv_level_shift(level)) & (KHV_PT_ENTRIES - 1);
}

static inline u64 khv_gpa_limit(const struct khv_mmu *mmu)
{
	return 1ULL << KHV_MMU_GPA_BITS(mmu->levels);
}

static inline u64 *khv_table_va(const struct khv_mmu *mmu, u64 entry, int level)
{
	return phys_to_virt(mmu->fmt->entry_pa(entry, level));
}

static inline struct page *khv_leaf_page(const struct khv_mmu *mmu, u64 entry, int level)
{
	return pfn_to_page(PHYS_PFN(mmu->fmt->entry_pa(entry, level)));
}

/* mmu.c */
u64 *khv_mmu_walk(struct khv_mmu *mmu, u64 gpa, int target, bool alloc, int *level);
unsigned long khv_mmu_invalidate_seq(struct khv_mmu *mmu);
bool khv_mmu_invalidate_quiet(struct khv_mmu *mmu, unsigned long seq, unsigned long hva,
			      unsigned long len);

/* dirty.c: a write fault on a present leaf without write permission. */
int khv_mmu_write_fault(struct khv_vm *vm, const struct khv_memslot *slot, u64 gpa);

#endif /* KHV_MMU_INTERNAL_H */
