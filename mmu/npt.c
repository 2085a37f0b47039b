// SPDX-License-Identifier: GPL-2.0
/*
 * The AMD nested page table (NPT) entry format.
 *
 * NPT entries are ordinary x86 long-mode page-table entries, walked by the
 * hardware with the host's paging depth.  Every guest access through the
 * nested tables is checked as a user-level access, so every entry needs US=1.
 * Leaves get memory type write-back from the host PAT index 0
 * (PWT = PCD = PAT = 0): Linux programs PAT entry 0 as WB.
 */
#include <linux/bits.h>
#include <asm/pgtable.h>

#include "mmu.h"

#define NPT_P		BIT_ULL(0)
#define NPT_RW		BIT_ULL(1)
#define NPT_US		BIT_ULL(2)
#define NPT_PWT		BIT_ULL(3)
#define NPT_PCD		BIT_ULL(4)
#define NPT_A		BIT_ULL(5)
#define NPT_D		BIT_ULL(6)
#define NPT_PS		BIT_ULL(7)	/* leaf at levels 2 and 3 */
#define NPT_CLEANED	BIT_ULL(9)	/* available to software: see npt_clean() */
#define NPT_PAT_4K	BIT_ULL(7)	/* PAT index bit 2 of a level-1 leaf */
#define NPT_PAT_LARGE	BIT_ULL(12)	/* PAT index bit 2 of a 2 MiB/1 GiB leaf */
#define NPT_NX		BIT_ULL(63)	/* valid: Linux x86_64 runs with EFER.NXE */

/* Physical address of a table or 4 KiB page: bits 51:12. */
#define NPT_ADDR_MASK	GENMASK_ULL(51, 12)

static u64 npt_make_table(phys_addr_t table_pa)
{
	/*
	 * Tables never restrict: the leaf decides.  A is preset so the walker
	 * does not need a locked update of an entry that is always used.
	 */
	return (table_pa & NPT_ADDR_MASK) | NPT_P | NPT_RW | NPT_US | NPT_A;
}

static u64 npt_make_leaf(phys_addr_t pa, int level, unsigned int prot)
{
	/* PWT, PCD and the PAT bit stay clear: PAT entry 0, write-back. */
	u64 e = NPT_P | NPT_US | NPT_A;

	/*
	 * D is preset on writable leaves: khv treats them as dirty when it
	 * unpins them anyway, and this spares the walker a locked update.
	 * Write protection (the dirty log) keeps it: then it says "was
	 * writable", which is what the unpin needs to know.
	 */
	if (prot & KHV_PROT_WRITE)
		e |= NPT_RW | NPT_D;
	if (!(prot & KHV_PROT_EXEC))
		e |= NPT_NX;
	if (level > 1)
		e |= NPT_PS;
	return e | (pa & NPT_ADDR_MASK);
}

static bool npt_is_present(u64 entry)
{
	return entry & NPT_P;
}

static bool npt_is_leaf(u64 entry, int level)
{
	/* PS is reserved (never set by khv) in levels 4 and 5. */
	return level == 1 || ((level == 2 || level == 3) && (entry & NPT_PS));
}

static phys_addr_t npt_entry_pa(u64 entry, int level)
{
	/* A large leaf's bits 12..(shift - 1) hold the PAT bit, not address. */
	if (level > 1 && npt_is_leaf(entry, level))
		return entry & NPT_ADDR_MASK & ~GENMASK_ULL(12 + 9 * (level - 1) - 1, 0);
	return entry & NPT_ADDR_MASK;
}

static unsigned int npt_entry_prot(u64 entry)
{
	unsigned int prot = 0;

	if (!(entry & NPT_P))
		return 0;
	prot |= KHV_PROT_READ;
	if (entry & NPT_RW)
		prot |= KHV_PROT_WRITE;
	if (!(entry & NPT_NX))
		prot |= KHV_PROT_EXEC;
	return prot;
}

static u64 npt_write_protect(u64 entry)
{
	return entry & ~NPT_RW;
}

static bool npt_entry_dirty(u64 entry)
{
	return entry & (NPT_D | NPT_CLEANED);
}

/*
 * The dirty log's hardware mode: D cleared, so that the CPU sets it at the
 * next write through the leaf (AMD sets A and D in nested tables as in
 * its own), and bit 9, which the walker ignores, set to say the leaf was
 * writable and D is the CPU's now (mmu/dirty.c).
 */
static u64 npt_clean(u64 entry)
{
	return (entry & ~NPT_D) | NPT_CLEANED;
}

static bool npt_cleaned(u64 entry)
{
	return entry & NPT_CLEANED;
}

int khv_npt_levels(void)
{
	/* The hardware walks nested tables with the host's CR4.LA57 depth. */
	return pgtable_l5_enabled() ? 5 : 4;
}

const struct khv_mmu_format khv_npt_format = {
	.name		= "npt",
	.make_table	= npt_make_table,
	.make_leaf	= npt_make_leaf,
	.is_present	= npt_is_present,
	.is_leaf	= npt_is_leaf,
	.entry_pa	= npt_entry_pa,
	.entry_prot	= npt_entry_prot,
	.write_protect	= npt_write_protect,
	.entry_dirty	= npt_entry_dirty,
	.clean		= npt_clean,
	.cleaned	= npt_cleaned,
	.dirty_flag	= NPT_D,
};
