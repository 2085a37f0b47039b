// SPDX-License-Identifier: GPL-2.0
/*
 * The Intel EPT entry format (SDM vol. 3C 29.3.2, "EPT Translation
 * Mechanism").
 *
 * Every entry: bit 0 read, bit 1 write, bit 2 execute (for supervisor
 * addresses; user-mode execute, bit 10, only matters with mode-based execute
 * control, which khv leaves off); an entry is present when any of the three
 * is set.  Write without read is a misconfiguration, so every entry khv
 * builds has R.  Bits 8 and 9 are the accessed and dirty flags when the EPT
 * pointer enables them (ignored otherwise).
 *
 * Non-leaf entries: bits 7:3 reserved (zero), physical address of the next
 * table in bits 51:12.
 *
 * Leaves: bits 5:3 the memory type (6: write-back), bit 6 "ignore PAT",
 * bit 7 set in a 2 MiB or 1 GiB leaf.  Guest memory is ordinary user memory
 * the host maps write-back: khv maps it write-back with IPAT set, so that no
 * guest PAT or MTRR setting can make the guest access host RAM with another
 * memory type than the host's (aliasing types breaks coherency).  A and D
 * are preset (D on writable leaves only): khv treats a writable leaf as
 * dirty when it unpins it anyway, and this spares the CPU a locked update.
 * Write protection for the dirty log clears W and keeps D ("was writable":
 * the unpin marks the page dirty); its hardware mode clears D and sets
 * bit 11 instead (ept_clean()).
 */
#include <linux/bits.h>
#include <asm/msr.h>
#include <asm/pgtable.h>

#include "mmu.h"

#define EPT_R		BIT_ULL(0)
#define EPT_W		BIT_ULL(1)
#define EPT_X		BIT_ULL(2)
#define EPT_RWX		(EPT_R | EPT_W | EPT_X)
#define EPT_MT_WB	(6ULL << 3)	/* memory type, leaves only */
#define EPT_IPAT	BIT_ULL(6)	/* ignore guest PAT, leaves only */
#define EPT_LARGE	BIT_ULL(7)	/* 2 MiB / 1 GiB leaf */
#define EPT_A		BIT_ULL(8)
#define EPT_D		BIT_ULL(9)
#define EPT_CLEANED	BIT_ULL(11)	/* ignored by the CPU: see ept_clean() */

/* Physical address of a table or 4 KiB page: bits 51:12. */
#define EPT_ADDR_MASK	GENMASK_ULL(51, 12)

/* IA32_VMX_EPT_VPID_CAP[7]: the CPU walks 5-level EPT tables. */
#define EPT_CAP_WALK5	BIT_ULL(7)

static u64 ept_make_table(phys_addr_t table_pa)
{
	/* Tables never restrict: the leaf decides.  A preset, as for leaves. */
	return (table_pa & EPT_ADDR_MASK) | EPT_RWX | EPT_A;
}

static u64 ept_make_leaf(phys_addr_t pa, int level, unsigned int prot)
{
	u64 e = EPT_R | EPT_MT_WB | EPT_IPAT | EPT_A;

	if (prot & KHV_PROT_WRITE)
		e |= EPT_W | EPT_D;
	if (prot & KHV_PROT_EXEC)
		e |= EPT_X;
	if (level > 1)
		e |= EPT_LARGE;
	return e | (pa & EPT_ADDR_MASK);
}

static bool ept_is_present(u64 entry)
{
	return entry & EPT_RWX;
}

static bool ept_is_leaf(u64 entry, int level)
{
	/* Bit 7 is reserved (never set by khv) in levels 4 and 5. */
	return level == 1 || ((level == 2 || level == 3) && (entry & EPT_LARGE));
}

static phys_addr_t ept_entry_pa(u64 entry, int level)
{
	/* A large leaf's bits 12..(shift - 1) are reserved, not address. */
	if (level > 1 && ept_is_leaf(entry, level))
		return entry & EPT_ADDR_MASK & ~GENMASK_ULL(12 + 9 * (level - 1) - 1, 0);
	return entry & EPT_ADDR_MASK;
}

static unsigned int ept_entry_prot(u64 entry)
{
	unsigned int prot = 0;

	if (entry & EPT_R)
		prot |= KHV_PROT_READ;
	if (entry & EPT_W)
		prot |= KHV_PROT_WRITE;
	if (entry & EPT_X)
		prot |= KHV_PROT_EXEC;
	return prot;
}

static u64 ept_write_protect(u64 entry)
{
	return entry & ~EPT_W;
}

static bool ept_entry_dirty(u64 entry)
{
	return entry & (EPT_D | EPT_CLEANED);
}

/*
 * The dirty log's hardware mode (with A/D enabled in the EPT pointer): D
 * cleared, so that the CPU sets it at the next write through the leaf, and
 * bit 11, which the CPU ignores, set to say the leaf was writable and D is
 * the CPU's now (mmu/dirty.c).
 */
static u64 ept_clean(u64 entry)
{
	return (entry & ~EPT_D) | EPT_CLEANED;
}

static bool ept_cleaned(u64 entry)
{
	return entry & EPT_CLEANED;
}

/*
 * 5-level EPT when the CPU can walk it and the host itself uses 5-level
 * paging (its physical address width may then exceed what 4 levels map);
 * else 4.
 */
int khv_ept_levels(void)
{
	u64 cap;

	if (!pgtable_l5_enabled() || rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP, &cap))
		return 4;
	return (cap & EPT_CAP_WALK5) ? 5 : 4;
}

const struct khv_mmu_format khv_ept_format = {
	.name		= "ept",
	.make_table	= ept_make_table,
	.make_leaf	= ept_make_leaf,
	.is_present	= ept_is_present,
	.is_leaf	= ept_is_leaf,
	.entry_pa	= ept_entry_pa,
	.entry_prot	= ept_entry_prot,
	.write_protect	= ept_write_protect,
	.entry_dirty	= ept_entry_dirty,
	.clean		= ept_clean,
	.cleaned	= ept_cleaned,
	.dirty_flag	= EPT_D,
};
