// SPDX-License-Identifier: GPL-2.0
/*
 * The second-level side of the dirty log (the bitmaps and the ioctls are
 * core/dirty_log.c's; Documentation/khv/migration.rst).  Two modes, chosen
 * per VM (khv_mmu.hw_dirty):
 *
 * Write protection (any CPU).  A slot that logs maps a page writable only
 * after a write, which sets the page's bit on the way: mmu.c's fault path
 * for a page not mapped yet, khv_mmu_write_fault() below for one mapped
 * read-only.  Taking bits out of the bitmap write-protects their pages
 * again, so that the next write is seen; both happen under khv_mmu.lock,
 * so a bit is never taken out between a fault setting it and the fault's
 * writable leaf going in.
 *
 * The CPU's dirty flags (NPT; EPT with A/D enabled).  A written page's
 * leaf stays writable; its dirty flag, cleared when its bit is taken, is
 * set again by the CPU at the next write, without an exit.  So before
 * bits are taken (or read with KHV_DIRTY_LOG_KEEP) the leaves they cover
 * are *harvested*: a leaf whose flag is set gives its page's bit and is
 * cleaned (khv_mmu_format.clean: flag cleared, leaf marked cleaned) in the
 * same hold of khv_mmu.lock.  A cleaned leaf that leaves the tables with
 * its flag set (a zap: slot moved or deleted, the MMU notifier) gives its
 * bit then (mmu.c, khv_zap_leaf()).  Faults still set bits as above (a
 * page first mapped, or mapped read-only, in a logging slot), and 2 MiB
 * leaves are write-protected and split as below in both modes: the flag
 * of a 2 MiB leaf would say only that one of 512 pages was written.
 * Cheaper when the guest writes many pages between two gets (no fault per
 * page and per pass); each get reads every leaf of its range instead of
 * only the bits' pages.
 *
 * The flags and the CPU's log (VT-x PML; khv_mmu.hw_log).  Leaves are
 * cleaned as above, but the CPU also logs each page whose flag it sets,
 * and the backend puts the log into the bitmaps after every exit
 * (vmx/vmx_pml.c).  So there is no harvest: a get kicks the vCPUs out of
 * the guest (so that they drain soon), takes its bits, and cleans only
 * the leaves of the bits it took; KEEP reads the bitmap.  A page still in
 * a vCPU's log keeps its flag and is in a later get; every exit to
 * userspace drains first, so a stopped VM's log is complete.
 *
 * Pins do not change: a write-protected or cleaned leaf keeps its pin, and
 * says it may have been written (entry_dirty(): its unpin marks the folio
 * dirty).  A 2 MiB leaf built before logging began is write-protected
 * whole; the first write splits it into 512 4 KiB leaves, one of them
 * writable.
 *
 * After any leaf loses its write permission or its dirty flag,
 * khv_kick_all_and_wait() flushes before the caller returns: a vCPU may
 * still hold a writable translation (or one the CPU knows dirty, whose
 * writes would not set the flag again), and a write through it would not
 * be seen.  So when a dirty-log get returns, every write it does not
 * report is already in guest memory, and the next one is seen.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/gfp.h>
#include <linux/slab.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/lockdep.h>

#include "core/khv.h"
#include "internal.h"

/* Remove the write permission of the present leaf at *ep; true if it had it. */
static bool khv_wp_leaf(const struct khv_mmu_format *fmt, u64 *ep)
{
	u64 old = READ_ONCE(*ep);

	do {
		if (!fmt->is_present(old) || !(fmt->entry_prot(old) & KHV_PROT_WRITE))
			return false;
	} while (!try_cmpxchg(ep, &old, fmt->write_protect(old)));
	return true;
}

/* Clear the dirty flag of the writable 4 KiB leaf at *ep; true if it was set. */
static bool khv_clean_leaf(const struct khv_mmu_format *fmt, u64 *ep)
{
	u64 old = READ_ONCE(*ep);

	do {
		if (!(old & fmt->dirty_flag) || !fmt->is_present(old) ||
		    !(fmt->entry_prot(old) & KHV_PROT_WRITE))
			return false;
	} while (!try_cmpxchg(ep, &old, fmt->clean(old)));
	return true;
}

/*
 * A slot starts to log: what maps [gpa, gpa + 2 MiB) (gpa 2 MiB aligned)
 * and lies in [start, end) is write-protected (a 2 MiB leaf whole, or the
 * 4 KiB leaves of the table below), or in the hardware mode its 4 KiB
 * leaves are cleaned.  Returns how many leaves changed.  mmu->lock held.
 */
static unsigned int khv_log_start_2m(struct khv_mmu *mmu, u64 gpa, u64 start, u64 end)
{
	const struct khv_mmu_format *fmt = mmu->fmt;
	unsigned int i, n = 0;
	int level;
	u64 *ep, e, *table;

	ep = khv_mmu_walk(mmu, gpa, KHV_LARGE_LEVEL, false, &level);
	if (!ep)
		return 0;
	e = READ_ONCE(*ep);
	if (!fmt->is_present(e))
		return 0;
	if (fmt->is_leaf(e, level))
		return khv_wp_leaf(fmt, ep);
	table = khv_table_va(mmu, e, level);
	for (i = 0; i < KHV_PT_ENTRIES; i++) {
		u64 page = gpa + ((u64)i << PAGE_SHIFT);

		if (page < start || page >= end)
			continue;
		n += mmu->hw_dirty ? khv_clean_leaf(fmt, &table[i]) : khv_wp_leaf(fmt, &table[i]);
	}
	return n;
}

void khv_mmu_log_start(struct khv_vm *vm, u64 gpa, u64 size)
{
	struct khv_mmu *mmu = &vm->mmu;
	u64 end, at;
	unsigned long changed = 0;

	lockdep_assert_held(&vm->slots_lock);
	if (!size || !mmu->root || gpa >= khv_gpa_limit(mmu))
		return;
	end = min(khv_gpa_limit(mmu), gpa + min(size, U64_MAX - gpa));
	/* One 2 MiB span (at most 512 leaves) per hold of the spinlock. */
	for (at = ALIGN_DOWN(gpa, SZ_2M); at < end; at += SZ_2M) {
		spin_lock(&mmu->lock);
		changed += khv_log_start_2m(mmu, at, gpa, end);
		spin_unlock(&mmu->lock);
		cond_resched();
	}
	if (changed)
		khv_kick_all_and_wait(vm, KHV_REQ_TLB_FLUSH);
}

/*
 * The bitmap words the dirty-log walks below handle per hold of
 * khv_mmu.lock: one level-1 table's worth of pages (4 KiB pages of 2 MiB).
 */
#define KHV_WORDS_PER_HOLD	(KHV_PT_ENTRIES / BITS_PER_LONG)

/*
 * Where a harvest is: the level-1 table last walked to and its 2 MiB
 * region, valid while khv_mmu.lock stays held (a zap may free the table
 * once it is not): a run of words walks once per table.
 */
struct khv_harvest {
	u64 region;		/* 1 (no 2 MiB region starts there): none */
	u64 *table;		/* NULL: no table there */
};

/*
 * Harvest the pages of @mask (bit b: the page at base + b * 4 KiB) into
 * the bitmap word at @word: each whose 4 KiB leaf the CPU marked dirty
 * gets its bit, and the leaf is cleaned.  Returns how many were.
 * mmu->lock held.
 */
static unsigned int khv_harvest_word(struct khv_mmu *mmu, struct khv_harvest *h, u64 base,
				     unsigned long *word, unsigned long mask)
{
	const struct khv_mmu_format *fmt = mmu->fmt;
	unsigned int b, n = 0;

	for (b = 0; b < BITS_PER_LONG; b++) {
		u64 page = base + ((u64)b << PAGE_SHIFT), region = ALIGN_DOWN(page, SZ_2M);

		if (!(mask & (1UL << b)))
			continue;
		if (region != h->region) {
			int level;
			u64 *ep = khv_mmu_walk(mmu, region, KHV_LARGE_LEVEL, false, &level);
			u64 e = ep ? READ_ONCE(*ep) : 0;

			h->region = region;
			/* No table below: nothing mapped, or a (write-protected) large leaf. */
			h->table = (fmt->is_present(e) && !fmt->is_leaf(e, level)) ?
				   khv_table_va(mmu, e, level) : NULL;
		}
		/* khv_clean_leaf() tests the flag first: most leaves were not written. */
		if (h->table && khv_clean_leaf(fmt, &h->table[khv_pt_index(page, 1)])) {
			set_bit(b, word);
			n++;
		}
	}
	return n;
}

/* Let go of khv_mmu.lock between tables' worth of words (and forget the table). */
static void khv_harvest_pause(struct khv_mmu *mmu, struct khv_harvest *h, unsigned long w)
{
	if ((w + 1) % KHV_WORDS_PER_HOLD)
		return;
	spin_unlock(&mmu->lock);
	h->region = 1;
	cond_resched();
	spin_lock(&mmu->lock);
}

unsigned long khv_mmu_harvest_dirty(struct khv_vm *vm, u64 gpa, unsigned long *bitmap,
				    const unsigned long *mask, unsigned long nr_longs)
{
	struct khv_mmu *mmu = &vm->mmu;
	struct khv_harvest h = { .region = 1 };
	unsigned long w, changed = 0;

	lockdep_assert_held(&vm->slots_lock);
	if (!mmu->hw_dirty || !mmu->root)
		return 0;
	if (mmu->hw_log) {
		/* The bitmap holds the flags' pages, but for the vCPUs' logs. */
		khv_kick_all_and_wait(vm, KHV_REQ_NONE);
		return 0;
	}
	spin_lock(&mmu->lock);
	for (w = 0; w < nr_longs; w++) {
		if (mask[w])
			changed += khv_harvest_word(mmu, &h,
						    gpa + ((u64)w * BITS_PER_LONG << PAGE_SHIFT),
						    &bitmap[w], mask[w]);
		khv_harvest_pause(mmu, &h, w);
	}
	spin_unlock(&mmu->lock);
	if (changed)
		khv_kick_all_and_wait(vm, KHV_REQ_TLB_FLUSH);
	return changed;
}

/* Write-protect the leaf that maps the 4 KiB page at gpa.  mmu->lock held. */
static bool khv_wp_page(struct khv_mmu *mmu, u64 gpa)
{
	int level;
	u64 *ep = khv_mmu_walk(mmu, gpa, 1, false, &level);

	return ep && khv_wp_leaf(mmu->fmt, ep);
}

unsigned long khv_mmu_take_dirty(struct khv_vm *vm, u64 gpa, unsigned long *bitmap,
				 unsigned long *mask, unsigned long nr_longs)
{
	struct khv_mmu *mmu = &vm->mmu;
	struct khv_harvest h = { .region = 1 };
	unsigned long w, total = 0, changed = 0;

	lockdep_assert_held(&vm->slots_lock);
	/* The CPU's log: make the vCPUs drain what they logged, soon. */
	if (mmu->hw_log && mmu->root)
		khv_kick_all_and_wait(vm, KHV_REQ_NONE);
	spin_lock(&mmu->lock);
	for (w = 0; w < nr_longs; w++) {
		u64 base = gpa + ((u64)w * BITS_PER_LONG << PAGE_SHIFT);
		unsigned long old, took, scratch = 0;
		unsigned int b;

		if (!mask[w]) {
			khv_harvest_pause(mmu, &h, w);
			continue;
		}
		/* The CPU's flags into the word first, in the same hold. */
		if (mmu->hw_dirty && !mmu->hw_log && mmu->root)
			changed += khv_harvest_word(mmu, &h, base, &bitmap[w], mask[w]);
		old = READ_ONCE(bitmap[w]);
		while (!try_cmpxchg(&bitmap[w], &old, old & ~mask[w]))
			;
		took = old & mask[w];
		/* With the log, clean what was taken: its next write is logged. */
		if (mmu->hw_log && took && mmu->root)
			changed += khv_harvest_word(mmu, &h, base, &scratch, took);
		for (b = 0; b < BITS_PER_LONG && !mmu->hw_dirty; b++)
			if (took & (1UL << b))
				changed += khv_wp_page(mmu, base + ((u64)b << PAGE_SHIFT));
		mask[w] = took;
		total += hweight_long(took);
		khv_harvest_pause(mmu, &h, w);
	}
	spin_unlock(&mmu->lock);
	if (changed)
		khv_kick_all_and_wait(vm, KHV_REQ_TLB_FLUSH);
	return total;
}

/*
 * A write to the 2 MiB leaf over gpa, write-protected when its logging
 * slot started to log: replace it with 512 4 KiB leaves over the same
 * pages, read-only but for gpa's, whose bit is set.  Each new leaf holds a
 * pin of its own (taken here, outside the lock); the 2 MiB leaf's pin goes
 * after the flush.  -EAGAIN when the pages are not the leaf's any more or
 * memory is short: the caller then zaps the leaf and maps gpa alone.
 */
static int khv_mmu_split(struct khv_vm *vm, const struct khv_memslot *slot, u64 gpa)
{
	struct khv_mmu *mmu = &vm->mmu;
	const struct khv_mmu_format *fmt = mmu->fmt;
	u64 base = ALIGN_DOWN(gpa, SZ_2M);
	unsigned long hva0 = slot->uaddr + (base - slot->gpa);
	unsigned int i, idx = (gpa - base) >> PAGE_SHIFT;
	struct page **pages, *table, *old = NULL;
	bool old_dirty = false;
	unsigned long seq;
	int n = 0, level, ret = -EAGAIN;
	u64 *ep, e, *t;

	pages = kmalloc_array(KHV_LARGE_PAGES, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	table = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!pages || !table)
		goto out;
	seq = khv_mmu_invalidate_seq(mmu);
	n = pin_user_pages_fast(hva0, KHV_LARGE_PAGES, FOLL_LONGTERM | FOLL_WRITE, pages);
	if (n != KHV_LARGE_PAGES)
		goto out;
	for (i = 1; i < KHV_LARGE_PAGES; i++)
		if (page_to_pfn(pages[i]) != page_to_pfn(pages[0]) + i)
			goto out;
	t = page_address(table);
	for (i = 0; i < KHV_LARGE_PAGES; i++)
		t[i] = fmt->make_leaf(page_to_phys(pages[i]), 1,
				      KHV_PROT_READ | KHV_PROT_EXEC | KHV_PROT_WRITE);

	spin_lock(&mmu->lock);
	ep = khv_mmu_walk(mmu, base, KHV_LARGE_LEVEL, false, &level);
	e = ep ? READ_ONCE(*ep) : 0;
	if (ep && level == KHV_LARGE_LEVEL && fmt->is_present(e) && fmt->is_leaf(e, level) &&
	    !(fmt->entry_prot(e) & KHV_PROT_WRITE) &&
	    fmt->entry_pa(e, level) == page_to_phys(pages[0]) &&
	    khv_mmu_invalidate_quiet(mmu, seq, hva0, SZ_2M)) {
		old_dirty = fmt->entry_dirty(e);
		/* Written while the 2 MiB leaf was writable: each page may be. */
		for (i = 0; i < KHV_LARGE_PAGES; i++) {
			if (i == idx)
				continue;
			t[i] = old_dirty ? fmt->write_protect(t[i]) :
				fmt->make_leaf(page_to_phys(pages[i]), 1,
					       KHV_PROT_READ | KHV_PROT_EXEC);
		}
		set_bit((gpa - slot->gpa) >> PAGE_SHIFT, slot->dirty_bitmap);
		/* The walker of another CPU must see the leaves before the link. */
		smp_wmb();
		WRITE_ONCE(*ep, fmt->make_table(page_to_phys(table)));
		mmu->nr_tables++;
		if (!WARN_ON_ONCE(!mmu->nr_large))
			mmu->nr_large--;
		old = khv_leaf_page(mmu, e, level);
		table = NULL;
		n = 0;		/* the new leaves hold the pins now */
		ret = KHV_MMU_LOGGED;
	}
	spin_unlock(&mmu->lock);
	if (old) {
		/* No vCPU may use the 2 MiB translation when its pin goes. */
		khv_kick_all_and_wait(vm, KHV_REQ_TLB_FLUSH);
		unpin_user_pages_dirty_lock(&old, 1, old_dirty);
	}
out:
	if (n > 0)
		unpin_user_pages(pages, n);
	kfree(pages);
	if (table)
		__free_page(table);
	return ret;
}

int khv_mmu_write_fault(struct khv_vm *vm, const struct khv_memslot *slot, u64 gpa)
{
	struct khv_mmu *mmu = &vm->mmu;
	const struct khv_mmu_format *fmt = mmu->fmt;
	int level = 0, ret;
	u64 *ep, e = 0;

	spin_lock(&mmu->lock);
	ep = khv_mmu_walk(mmu, gpa, 1, false, &level);
	if (ep)
		e = READ_ONCE(*ep);
	if (!fmt->is_present(e) || (fmt->entry_prot(e) & KHV_PROT_WRITE)) {
		/* Zapped, or made writable by another vCPU: re-enter and see. */
		ret = KHV_MMU_MAPPED;
	} else if (level == 1) {
		/* The bit before the permission, as in mmu.c's install. */
		if (slot->dirty_bitmap)
			set_bit((gpa - slot->gpa) >> PAGE_SHIFT, slot->dirty_bitmap);
		WRITE_ONCE(*ep, fmt->make_leaf(fmt->entry_pa(e, 1), 1,
					       fmt->entry_prot(e) | KHV_PROT_WRITE));
		ret = slot->dirty_bitmap ? KHV_MMU_LOGGED : KHV_MMU_MAPPED;
	} else {
		ret = -EAGAIN;
	}
	spin_unlock(&mmu->lock);
	if (ret == -EAGAIN && level == KHV_LARGE_LEVEL && slot->dirty_bitmap)
		ret = khv_mmu_split(vm, slot, gpa);
	return ret;
}
