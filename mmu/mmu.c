// SPDX-License-Identifier: GPL-2.0
/*
 * Second-level page tables built on demand, independent of the entry format
 * (struct khv_mmu_format: NPT in npt.c, EPT in ept.c).
 *
 * Level numbering: 1 maps 4 KiB, 2 maps 2 MiB, 3 maps 1 GiB, mmu->levels is
 * the root.  Each table is one zeroed page of 512 entries.
 *
 * Every leaf holds exactly one pin (pin_user_pages*, FOLL_LONGTERM) on the
 * folio it maps.  A leaf leaves the tables under mmu->lock, but its pin is
 * dropped, and a table page unlinked with it is freed, only after
 * khv_kick_all_and_wait() has made every vCPU leave the guest and flush:
 * until then a vCPU may still reach the page through its TLB or
 * paging-structure caches.  See Documentation/khv/mmu.rst.
 *
 * A zap may run inside an MMU-notifier invalidation whose caller holds the
 * lock of the very folio being zapped, and may not sleep at all when the
 * range is non-blockable: mmu->lock is a spinlock, the flush only spins on
 * IPIs, and in notifier context pins are dropped without the folio lock
 * (khv_unpin_dirty_nolock()).
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/gfp.h>
#include <linux/slab.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/lockdep.h>
#include <linux/io.h>

#include "core/khv.h"
#include "internal.h"

/* Pages pinned per pin_user_pages_fast_only() call while checking a run. */
#define KHV_VERIFY_CHUNK	32

int khv_mmu_init(struct khv_mmu *mmu, const struct khv_mmu_format *fmt, int levels)
{
	struct page *root;

	if (!fmt || (levels != 4 && levels != 5))
		return -EINVAL;

	root = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!root)
		return -ENOMEM;

	spin_lock_init(&mmu->lock);
	mmu->fmt = fmt;
	mmu->levels = levels;
	mmu->root = page_address(root);
	mmu->root_pa = page_to_phys(root);
	mmu->nr_pinned = 0;
	mmu->nr_tables = 1;
	mmu->nr_large = 0;
	mmu->spare = NULL;
	spin_lock_init(&mmu->inval_lock);
	mmu->invalidate_active = 0;
	mmu->invalidate_seq = 0;
	mmu->invalidate_start = 0;
	mmu->invalidate_end = 0;
	return 0;
}

void khv_mmu_invalidate_begin(struct khv_mmu *mmu, unsigned long start, unsigned long end)
{
	spin_lock(&mmu->inval_lock);
	if (!mmu->invalidate_active) {
		mmu->invalidate_start = start;
		mmu->invalidate_end = end;
	} else {
		mmu->invalidate_start = min(mmu->invalidate_start, start);
		mmu->invalidate_end = max(mmu->invalidate_end, end);
	}
	mmu->invalidate_active++;
	mmu->invalidate_seq++;
	spin_unlock(&mmu->inval_lock);
}

void khv_mmu_invalidate_end(struct khv_mmu *mmu)
{
	spin_lock(&mmu->inval_lock);
	if (!WARN_ON_ONCE(!mmu->invalidate_active))
		mmu->invalidate_active--;
	mmu->invalidate_seq++;
	spin_unlock(&mmu->inval_lock);
}

unsigned long khv_mmu_invalidate_seq(struct khv_mmu *mmu)
{
	unsigned long seq;

	spin_lock(&mmu->inval_lock);
	seq = mmu->invalidate_seq;
	spin_unlock(&mmu->inval_lock);
	return seq;
}

/*
 * No invalidation began or ended since @seq was sampled, and none running
 * now covers any of [hva, hva + len) (what the new leaf maps).  One
 * elsewhere in the VMM's address space (a thread's stack, the allocator's
 * madvise) must not hold up the guest's faults for as long as it runs:
 * each would re-enter the guest and fault again.
 */
bool khv_mmu_invalidate_quiet(struct khv_mmu *mmu, unsigned long seq, unsigned long hva,
			      unsigned long len)
{
	bool quiet;

	spin_lock(&mmu->inval_lock);
	quiet = mmu->invalidate_seq == seq &&
		(!mmu->invalidate_active ||
		 hva >= mmu->invalidate_end || hva + len <= mmu->invalidate_start);
	spin_unlock(&mmu->inval_lock);
	return quiet;
}

/*
 * A new empty table linked at *parent.  mmu->lock held, so no direct
 * reclaim (see mmu.h): the spare page, else GFP_NOWAIT.
 */
static u64 *khv_mmu_new_table(struct khv_mmu *mmu, u64 *parent)
{
	struct page *page = mmu->spare;

	if (page)
		mmu->spare = NULL;
	else
		page = alloc_page(GFP_NOWAIT | __GFP_ACCOUNT | __GFP_ZERO | __GFP_NOWARN);
	if (!page)
		return NULL;
	mmu->nr_tables++;
	/* The walker of another CPU must see the zeroes before the link. */
	smp_wmb();
	WRITE_ONCE(*parent, mmu->fmt->make_table(page_to_phys(page)));
	return page_address(page);
}

/*
 * The entry that maps @gpa at @target, or the present leaf above @target
 * that already maps it: *level says which level the returned entry is at.
 * Missing tables are created when @alloc; NULL when one is missing and
 * !@alloc, or when allocating it failed.  mmu->lock held.
 */
u64 *khv_mmu_walk(struct khv_mmu *mmu, u64 gpa, int target, bool alloc, int *level)
{
	const struct khv_mmu_format *fmt = mmu->fmt;
	u64 *table = mmu->root;
	int l;

	lockdep_assert_held(&mmu->lock);

	for (l = mmu->levels; ; l--) {
		u64 *ep = &table[khv_pt_index(gpa, l)];
		/* READ_ONCE: the hardware may be setting A/D in it. */
		u64 e = READ_ONCE(*ep);

		if (l == target || (fmt->is_present(e) && fmt->is_leaf(e, l))) {
			*level = l;
			return ep;
		}
		if (fmt->is_present(e)) {
			table = khv_table_va(mmu, e, l);
		} else {
			if (!alloc)
				return NULL;
			table = khv_mmu_new_table(mmu, ep);
			if (!table)
				return NULL;
		}
	}
}

/*
 * ---- Deferred release -------------------------------------------------
 *
 * Pages taken out of the tables wait in a zap batch until the flush.  Three
 * lists: pins to drop clean, pins to drop dirty, table pages to free.  Each
 * list starts in a small array on the stack, then grows by page-sized
 * chunks allocated with GFP_NOWAIT (mmu->lock is held: no direct reclaim,
 * see mmu.h).  When a chunk cannot be allocated the
 * batch is "full": the zap stops before clearing the next entry, flushes,
 * releases what it has, and resumes.  The inline arrays guarantee progress.
 */
#define KHV_PVEC_INLINE		16

struct khv_pchunk {
	struct khv_pchunk *next;
	unsigned int nr;
	struct page *pages[];
};

#define KHV_PCHUNK_PAGES \
	((PAGE_SIZE - offsetof(struct khv_pchunk, pages)) / sizeof(struct page *))

struct khv_pvec {
	unsigned int nr_inline;
	struct page *inline_pages[KHV_PVEC_INLINE];
	struct khv_pchunk *chunks;	/* newest first */
};

enum { KHV_REL_CLEAN, KHV_REL_DIRTY, KHV_REL_TABLE, KHV_NR_REL };

struct khv_zap_batch {
	struct khv_pvec vec[KHV_NR_REL];
};

static bool khv_pvec_add(struct khv_pvec *v, struct page *page)
{
	struct khv_pchunk *c = v->chunks;

	if (v->nr_inline < KHV_PVEC_INLINE) {
		v->inline_pages[v->nr_inline++] = page;
		return true;
	}
	if (!c || c->nr == KHV_PCHUNK_PAGES) {
		c = kmalloc(PAGE_SIZE, GFP_NOWAIT | __GFP_NOWARN);
		if (!c)
			return false;
		c->nr = 0;
		c->next = v->chunks;
		v->chunks = c;
	}
	c->pages[c->nr++] = page;
	return true;
}

static bool khv_pvec_empty(const struct khv_pvec *v)
{
	return !v->nr_inline && !v->chunks;
}

/*
 * Drop the pins of writable leaves, marking their folios dirty, without the
 * folio lock: for the MMU notifier, whose caller may hold that lock itself
 * (ksmd in write_protect_page(), migration in try_to_migrate(), truncation)
 * and which may not sleep at all.  unpin_user_pages_dirty_lock() would
 * sleep on the lock of a folio not yet dirty, for ever when the caller
 * holds it.
 *
 * folio_mark_dirty() needs the folio lock only to keep the folio from being
 * truncated and its mapping freed meanwhile; 6.1 lets callers that cannot
 * sleep rely on the folio being mapped instead (zap_pte_range() dirties
 * file pages under the page-table lock alone).  Here it is mapped: the
 * notifier runs before the VMM's page tables change, and every leaf maps
 * the page the VMM mapped at that address when the leaf was built (any
 * change since would have zapped it), so the mapping's vma holds the file
 * and its inode.  Anonymous, shmem and hugetlbfs folios need no lock at
 * all (their dirty_folio only sets the flag).
 */
static void khv_unpin_dirty_nolock(struct page **pages, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		struct folio *folio = page_folio(pages[i]);

		if (!folio_test_dirty(folio))
			folio_mark_dirty(folio);
	}
	unpin_user_pages(pages, nr);
}

static void khv_pvec_release_pages(struct page **pages, unsigned int nr, int kind,
				   unsigned int flags)
{
	unsigned int i;

	switch (kind) {
	case KHV_REL_CLEAN:
		unpin_user_pages(pages, nr);
		break;
	case KHV_REL_DIRTY:
		/* Outside the notifier nobody holds a folio lock: take it. */
		if (flags & KHV_ZAP_NOTIFIER)
			khv_unpin_dirty_nolock(pages, nr);
		else
			unpin_user_pages_dirty_lock(pages, nr, true);
		break;
	default:
		for (i = 0; i < nr; i++)
			__free_page(pages[i]);
		break;
	}
}

static void khv_pvec_release(struct khv_pvec *v, int kind, unsigned int flags)
{
	struct khv_pchunk *c, *next;

	khv_pvec_release_pages(v->inline_pages, v->nr_inline, kind, flags);
	v->nr_inline = 0;
	for (c = v->chunks; c; c = next) {
		next = c->next;
		khv_pvec_release_pages(c->pages, c->nr, kind, flags);
		kfree(c);
	}
	v->chunks = NULL;
}

static bool khv_batch_empty(const struct khv_zap_batch *b)
{
	int k;

	for (k = 0; k < KHV_NR_REL; k++)
		if (!khv_pvec_empty(&b->vec[k]))
			return false;
	return true;
}

/* Only after khv_kick_all_and_wait(): nothing may reach these pages now. */
static void khv_batch_release(struct khv_zap_batch *b, unsigned int flags)
{
	int k;

	for (k = 0; k < KHV_NR_REL; k++)
		khv_pvec_release(&b->vec[k], k, flags);
}

/* ---- Zap ------------------------------------------------------------- */

struct khv_zap {
	struct khv_vm *vm;
	struct khv_mmu *mmu;
	u64 start, end;		/* the range asked for */
	u64 resume;		/* where a stopped walk goes on */
	unsigned int left;	/* entries this round may still take */
	struct khv_zap_batch batch;
};

/*
 * Room in this round for one more page in list @kind: false when the round
 * has taken KHV_MMU_ZAP_ROUND entries (mmu->lock is a spinlock: the walk
 * lets go of it regularly) or no chunk could be allocated.
 */
static bool khv_zap_take(struct khv_zap *z, int kind, struct page *page)
{
	if (!z->left || !khv_pvec_add(&z->batch.vec[kind], page))
		return false;
	z->left--;
	return true;
}

/*
 * Take a present leaf (mapping @gpa) out of the tables; false (nothing
 * done) when full.  A cleaned leaf (the dirty log's hardware mode) that
 * the CPU marked dirty since gives its page's bit to the log now.
 */
static bool khv_zap_leaf(struct khv_zap *z, u64 *ep, u64 e, int level, u64 gpa)
{
	const struct khv_mmu_format *fmt = z->mmu->fmt;
	struct khv_mmu *mmu = z->mmu;
	bool dirty = fmt->entry_dirty(e);
	int kind = dirty ? KHV_REL_DIRTY : KHV_REL_CLEAN;
	unsigned long nr = khv_level_size(level) >> PAGE_SHIFT;

	if (!khv_zap_take(z, kind, khv_leaf_page(mmu, e, level)))
		return false;
	/* xchg: the walker sets A/D atomically, never on a cleared entry. */
	e = xchg(ep, 0);
	if (mmu->hw_dirty && level == 1 && fmt->cleaned(e) && (e & fmt->dirty_flag))
		khv_log_dirty_gpa(z->vm, gpa);
	if (!WARN_ON_ONCE(mmu->nr_pinned < nr))
		mmu->nr_pinned -= nr;
	if (level == KHV_LARGE_LEVEL && !WARN_ON_ONCE(!mmu->nr_large))
		mmu->nr_large--;
	return true;
}

/*
 * Clear what @table (at @level, mapping from @base) maps inside
 * [z->start, z->end), from z->resume on.  A leaf that only overlaps the
 * range is cleared whole.  A child table whose whole span lies inside the
 * range is empty afterwards: it is unlinked and freed after the flush.
 * Tables only partly inside are kept, even when empty, until destroy.
 * Returns false when the batch is full, with z->resume set to the first
 * entry not done (everything before it is done).
 */
static bool khv_zap_table(struct khv_zap *z, u64 *table, int level, u64 base)
{
	const struct khv_mmu_format *fmt = z->mmu->fmt;
	u64 size = khv_level_size(level);
	unsigned int i = 0;

	if (z->resume > base)
		i = (z->resume - base) >> khv_level_shift(level);

	for (; i < KHV_PT_ENTRIES; i++) {
		u64 eb = base + i * size;
		u64 *ep = &table[i];
		u64 e = READ_ONCE(*ep);

		if (eb >= z->end)
			break;
		if (!fmt->is_present(e))
			continue;
		if (fmt->is_leaf(e, level)) {
			if (!khv_zap_leaf(z, ep, e, level, eb))
				goto full;
			continue;
		}
		if (!khv_zap_table(z, khv_table_va(z->mmu, e, level), level - 1, eb))
			return false;
		if (eb < z->start || eb + size > z->end)
			continue;
		if (!khv_zap_take(z, KHV_REL_TABLE, virt_to_page(khv_table_va(z->mmu, e, level))))
			goto full;
		WRITE_ONCE(*ep, 0);
		if (!WARN_ON_ONCE(z->mmu->nr_tables <= 1))
			z->mmu->nr_tables--;
	}
	return true;

full:
	z->resume = base + i * size;
	return false;
}

/*
 * Callers hold vm->slots_lock: for write when a slot goes away, so that no
 * fault maps the range again; khv_mmu_fault() holds it for read when it
 * replaces one stale leaf.  The MMU notifier holds neither (it runs under
 * mmap_lock, which faults take inside slots_lock) but zaps inside an
 * invalidation, which keeps faults from installing what it removes.
 *
 * Nothing here sleeps unless @flags allows it: the lock is a spinlock, the
 * batch grows with GFP_NOWAIT, khv_kick_all_and_wait() waits for its IPIs
 * by spinning, and in notifier context the unpin takes no folio lock.
 */
void khv_mmu_zap_range(struct khv_vm *vm, u64 gpa, u64 size, unsigned int flags)
{
	struct khv_mmu *mmu = &vm->mmu;
	struct khv_zap z = { .vm = vm, .mmu = mmu };
	bool done;

	lockdep_assert(lockdep_is_held(&vm->slots_lock) || READ_ONCE(mmu->invalidate_active));

	if (!size || !mmu->root || gpa >= khv_gpa_limit(mmu))
		return;
	z.start = gpa;
	z.end = min(khv_gpa_limit(mmu), gpa + min(size, U64_MAX - gpa));
	z.resume = gpa;

	do {
		z.left = KHV_MMU_ZAP_ROUND;
		spin_lock(&mmu->lock);
		done = khv_zap_table(&z, mmu->root, mmu->levels, 0);
		spin_unlock(&mmu->lock);

		/* Nothing was mapped: nothing can be cached, no flush needed. */
		if (khv_batch_empty(&z.batch)) {
			/* A full batch is never empty: no endless loop. */
			WARN_ON_ONCE(!done);
			return;
		}
		/*
		 * After this no vCPU can use the cleared entries: only now
		 * may the pages go back to the host.
		 */
		khv_kick_all_and_wait(vm, KHV_REQ_TLB_FLUSH);
		khv_batch_release(&z.batch, flags);
		if (!done && !(flags & KHV_ZAP_NONBLOCK))
			cond_resched();
	} while (!done);
}

void khv_mmu_invalidate_hva(struct khv_vm *vm, unsigned long start, unsigned long end,
			    bool blockable)
{
	unsigned int flags = KHV_ZAP_NOTIFIER | (blockable ? 0 : KHV_ZAP_NONBLOCK);
	struct khv_gpa_range r[KHV_MAX_MEMSLOTS];
	unsigned int i, n;

	/*
	 * Begin first, then look the slots up: a slot added or moved after
	 * the lookup cannot get a leaf for the old page, as every fault that
	 * installs from now on sees the invalidation and retries, and one that
	 * installed before it was in a slot this lookup sees.  Even with no
	 * slot involved: one may be added while this runs.
	 */
	khv_mmu_invalidate_begin(&vm->mmu, start, end);
	n = khv_slots_for_hva(vm, start, end, r);
	for (i = 0; i < n; i++)
		khv_mmu_zap_range(vm, r[i].gpa, r[i].size, flags);
}

/* ---- Destroy ------------------------------------------------------------ */

static void khv_destroy_table(struct khv_mmu *mmu, u64 *table, int level)
{
	const struct khv_mmu_format *fmt = mmu->fmt;
	unsigned int i;

	for (i = 0; i < KHV_PT_ENTRIES; i++) {
		u64 e = table[i];
		u64 *child;

		if (!fmt->is_present(e))
			continue;
		if (fmt->is_leaf(e, level)) {
			struct page *page = khv_leaf_page(mmu, e, level);

			unpin_user_pages_dirty_lock(&page, 1, fmt->entry_dirty(e));
			continue;
		}
		child = khv_table_va(mmu, e, level);
		khv_destroy_table(mmu, child, level - 1);
		free_page((unsigned long)child);
	}
}

void khv_mmu_destroy(struct khv_mmu *mmu)
{
	if (!mmu->root)
		return;
	/*
	 * No vCPU runs any more and the notifier is gone: nothing to flush
	 * before releasing, and nobody else to lock out (the unpins below may
	 * sleep on folio locks, which mmu->lock would not allow).
	 */
	if (mmu->spare)
		__free_page(mmu->spare);
	mmu->spare = NULL;
	khv_destroy_table(mmu, mmu->root, mmu->levels);
	free_page((unsigned long)mmu->root);
	mmu->root = NULL;
	mmu->root_pa = 0;
	mmu->nr_pinned = 0;
	mmu->nr_tables = 0;
	mmu->nr_large = 0;
}

/* ---- Fault ------------------------------------------------------------ */

struct khv_fault {
	u64 gpa;		/* 4 KiB aligned */
	unsigned long hva;	/* 4 KiB aligned */
	unsigned int prot;	/* of the new leaf */
	unsigned int gup_flags;
	struct page *page;	/* pinned: the page at hva */
	struct page *large;	/* first page of a verified 2 MiB run, or NULL */
	unsigned long seq;	/* mmu->invalidate_seq before pinning */
	unsigned long *dirty_bitmap;	/* the slot's, when it logs; else NULL */
	unsigned long dirty_bit;	/* the page's bit in it */
};

/* The 2 MiB guest range around gpa lies in the slot, congruent with its hva. */
static bool khv_slot_allows_large(const struct khv_memslot *slot, u64 gpa)
{
	u64 base = ALIGN_DOWN(gpa, SZ_2M);

	if (base < slot->gpa || slot->gpa + slot->size - base < SZ_2M)
		return false;
	return !((slot->uaddr - slot->gpa) & (SZ_2M - 1));
}

/*
 * Whether the 2 MiB-aligned hva range around f->hva maps the 512 pages of
 * @folio from @idx0 on, in order, with the access the slot needs.  Checked
 * by pinning the range with pin_user_pages_fast_only() (it never faults
 * pages in, so an unpopulated range is not populated here) and comparing;
 * those extra pins are dropped at once.  This catches a PTE-mapped THP
 * with a hole or a foreign page in it, and with FOLL_WRITE it checks that
 * every page is writable and exclusively ours, not only the faulting one.
 */
static bool khv_verify_run(const struct khv_fault *f, struct folio *folio,
			   unsigned long idx0)
{
	unsigned long hva0 = ALIGN_DOWN(f->hva, SZ_2M);
	struct page *pages[KHV_VERIFY_CHUNK];
	unsigned int done;

	for (done = 0; done < KHV_LARGE_PAGES; done += KHV_VERIFY_CHUNK) {
		int n = pin_user_pages_fast_only(hva0 + done * PAGE_SIZE,
						 KHV_VERIFY_CHUNK, f->gup_flags, pages);
		bool ok = n == KHV_VERIFY_CHUNK;
		int i;

		for (i = 0; ok && i < n; i++)
			ok = pages[i] == folio_page(folio, idx0 + done + i);
		if (n > 0)
			unpin_user_pages(pages, n);
		if (!ok)
			return false;
	}
	return true;
}

/*
 * Decide whether f->page can be mapped by a 2 MiB leaf: its folio covers
 * the whole naturally aligned 2 MiB run (a PMD-sized THP, or a larger
 * folio) at the same offset as hva within its 2 MiB, physically 2 MiB
 * aligned, and the hva range maps exactly that run.  The pin on f->page is
 * then the one pin the 2 MiB leaf holds on the folio.
 */
static struct page *khv_large_run(const struct khv_fault *f)
{
	struct folio *folio = page_folio(f->page);
	unsigned long off = (f->hva >> PAGE_SHIFT) & (KHV_LARGE_PAGES - 1);
	unsigned long idx = folio_page_idx(folio, f->page);
	unsigned long idx0;
	struct page *first;

	if (folio_order(folio) < KHV_LARGE_ORDER || idx < off)
		return NULL;
	idx0 = idx - off;
	if (idx0 + KHV_LARGE_PAGES > (unsigned long)folio_nr_pages(folio))
		return NULL;
	first = folio_page(folio, idx0);
	if (page_to_phys(first) & (SZ_2M - 1))
		return NULL;
	if (!khv_verify_run(f, folio, idx0))
		return NULL;
	return first;
}

static int khv_pin(struct khv_fault *f)
{
	int ret = pin_user_pages_fast(f->hva, 1, f->gup_flags, &f->page);

	/* One page asked for: 1, or 0 / -errno with nothing pinned. */
	if (ret == 1)
		return 0;
	if (ret == -ENOMEM)
		return -ENOMEM;
	if (ret == -EINTR || ret == -ERESTARTSYS)
		return -EINTR;
	return -EFAULT;		/* unmapped hva, wrong protection, poison... */
}

/* Results of khv_install(), besides -ENOMEM. */
#define KHV_RACED	0	/* another vCPU or an invalidation came first: drop our pin */
#define KHV_INSTALLED	1	/* the new leaf holds our pin */
#define KHV_NEED_PAGE	2	/* internal: a table page is needed, none without reclaim */

static int khv_install_locked(struct khv_mmu *mmu, struct khv_fault *f)
{
	const struct khv_mmu_format *fmt = mmu->fmt;
	int level, ret = KHV_RACED;
	u64 *ep, e;

	/* The VMM's mapping changed since we pinned: the page may be stale. */
	if (!khv_mmu_invalidate_quiet(mmu, f->seq, f->large ? ALIGN_DOWN(f->hva, SZ_2M) : f->hva,
				      f->large ? SZ_2M : PAGE_SIZE))
		return KHV_RACED;
	if (f->large) {
		ep = khv_mmu_walk(mmu, f->gpa, KHV_LARGE_LEVEL, true, &level);
		if (!ep)
			return KHV_NEED_PAGE;
		e = READ_ONCE(*ep);
		if (!fmt->is_present(e)) {
			WRITE_ONCE(*ep, fmt->make_leaf(page_to_phys(f->large),
						       KHV_LARGE_LEVEL, f->prot));
			mmu->nr_pinned += KHV_LARGE_PAGES;
			mmu->nr_large++;
			return KHV_INSTALLED;
		}
		if (fmt->is_leaf(e, level))
			return ret;	/* raced: already mapped */
		/* A table is below: 4 KiB leaves live there, stay with 4 KiB. */
	}

	ep = khv_mmu_walk(mmu, f->gpa, 1, true, &level);
	if (!ep)
		return KHV_NEED_PAGE;
	if (fmt->is_present(READ_ONCE(*ep)))
		return ret;		/* raced (or a large leaf above) */
	/*
	 * A logged write: the bit goes in before the leaf that lets the write
	 * through, under the lock a dirty-log get takes to clear it.
	 */
	if (f->dirty_bitmap && (f->prot & KHV_PROT_WRITE))
		set_bit(f->dirty_bit, f->dirty_bitmap);
	WRITE_ONCE(*ep, fmt->make_leaf(page_to_phys(f->page), 1, f->prot));
	mmu->nr_pinned++;
	return KHV_INSTALLED;
}

/*
 * Install the pinned page under mmu->lock.  When a table page is missing
 * and GFP_NOWAIT has none, allocate one outside the lock (reclaim may run
 * there) as the spare and try again: each round links at least one table,
 * so this ends.  -ENOMEM when even that allocation fails.
 */
static int khv_install(struct khv_mmu *mmu, struct khv_fault *f)
{
	struct page *page;
	int ret;

	for (;;) {
		spin_lock(&mmu->lock);
		ret = khv_install_locked(mmu, f);
		spin_unlock(&mmu->lock);
		if (ret != KHV_NEED_PAGE)
			return ret;
		page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!page)
			return -ENOMEM;
		spin_lock(&mmu->lock);
		if (!mmu->spare) {
			mmu->spare = page;
			page = NULL;
		}
		spin_unlock(&mmu->lock);
		if (page)
			__free_page(page);
	}
}

/* What maps a gpa now, as seen by khv_lookup(). */
enum khv_lookup {
	KHV_LOOKUP_NONE,	/* nothing: map it */
	KHV_LOOKUP_OK,		/* a leaf allows the access: another vCPU won */
	KHV_LOOKUP_STALE,	/* a leaf lacks a permission the slot grants */
};

/* For KHV_LOOKUP_STALE, *leaf_level says which leaf to replace. */
static enum khv_lookup khv_lookup(struct khv_mmu *mmu, u64 gpa,
				  unsigned int access, int *leaf_level)
{
	enum khv_lookup ret = KHV_LOOKUP_NONE;
	int level;
	u64 *ep, e;

	spin_lock(&mmu->lock);
	ep = khv_mmu_walk(mmu, gpa, 1, false, &level);
	if (ep) {
		e = READ_ONCE(*ep);
		if (mmu->fmt->is_present(e)) {
			*leaf_level = level;
			if ((mmu->fmt->entry_prot(e) & access) == access)
				ret = KHV_LOOKUP_OK;
			else
				ret = KHV_LOOKUP_STALE;
		}
	}
	spin_unlock(&mmu->lock);
	return ret;
}

static int khv_mmu_fault_locked(struct khv_vm *vm, u64 gpa, unsigned int access)
{
	struct khv_mmu *mmu = &vm->mmu;
	const struct khv_memslot *slot;
	struct khv_fault f = { .gpa = gpa & PAGE_MASK };
	enum khv_lookup seen;
	bool readonly;
	int ret, level;

	slot = khv_find_slot(vm, f.gpa);
	if (!slot)
		return KHV_MMU_MMIO;
	readonly = slot->flags & KHV_MEM_READONLY;
	if (readonly && (access & KHV_PROT_WRITE))
		return KHV_MMU_MMIO;
	if (f.gpa >= khv_gpa_limit(mmu))
		return -EFAULT;

	f.prot = KHV_PROT_READ | KHV_PROT_EXEC | (readonly ? 0 : KHV_PROT_WRITE);
	/* Writable slots pin for write even when a leaf maps read-only: no COW later. */
	f.gup_flags = FOLL_LONGTERM | (readonly ? 0 : FOLL_WRITE);
	f.hva = slot->uaddr + (f.gpa - slot->gpa);
	if (slot->dirty_bitmap) {
		/* Logging: writable only once written, so that the write is seen. */
		f.dirty_bitmap = slot->dirty_bitmap;
		f.dirty_bit = (f.gpa - slot->gpa) >> PAGE_SHIFT;
		if (!(access & KHV_PROT_WRITE))
			f.prot &= ~KHV_PROT_WRITE;
	}

	seen = khv_lookup(mmu, f.gpa, access, &level);
	/*
	 * A write to a write-protected leaf of a writable slot: the dirty log
	 * protected it (or the slot logged when it was mapped).  Give it its
	 * write permission back in place, logging the write.
	 */
	if (seen == KHV_LOOKUP_STALE && !readonly && (access & KHV_PROT_WRITE)) {
		ret = khv_mmu_write_fault(vm, slot, f.gpa);
		if (ret != -EAGAIN)
			return ret;
		seen = khv_lookup(mmu, f.gpa, access, &level);
	}
	/*
	 * Any other present leaf that lacks a permission its slot grants is
	 * never built by this file; should one exist (an older mapping),
	 * replace it with the usual zap-flush-unpin ordering rather than loop
	 * on faults.
	 */
	if (seen == KHV_LOOKUP_STALE) {
		khv_mmu_zap_range(vm, ALIGN_DOWN(f.gpa, khv_level_size(level)),
				  khv_level_size(level), 0);
		/* Leaves built since then carry the slot's permissions. */
		seen = khv_lookup(mmu, f.gpa, access, &level);
		if (WARN_ON_ONCE(seen == KHV_LOOKUP_STALE))
			return -EFAULT;
	}
	if (seen == KHV_LOOKUP_OK)
		return KHV_MMU_MAPPED;

	/* Before pinning: an invalidation from here on makes us retry. */
	f.seq = khv_mmu_invalidate_seq(mmu);
	ret = khv_pin(&f);
	if (ret)
		return ret;
	/* Logging tracks 4 KiB pages: no new 2 MiB leaves meanwhile. */
	if (!f.dirty_bitmap && khv_slot_allows_large(slot, f.gpa))
		f.large = khv_large_run(&f);

	ret = khv_install(mmu, &f);
	if (ret != KHV_INSTALLED)
		unpin_user_page(f.page);	/* never reachable by a vCPU */
	if (ret < 0)
		return ret;
	if (ret == KHV_INSTALLED && f.dirty_bitmap && (f.prot & KHV_PROT_WRITE))
		return KHV_MMU_LOGGED;
	return KHV_MMU_MAPPED;
}

int khv_mmu_fault(struct khv_vm *vm, u64 gpa, unsigned int access)
{
	int ret;

	/* Pinning uses current->mm: only the VM's own process may fault. */
	if (current->mm != vm->mm)
		return -EIO;
	if (WARN_ON_ONCE(!vm->mmu.root))
		return -EIO;
	if (!access)
		access = KHV_PROT_READ;

	down_read(&vm->slots_lock);
	ret = khv_mmu_fault_locked(vm, gpa, access);
	up_read(&vm->slots_lock);
	return ret;
}
