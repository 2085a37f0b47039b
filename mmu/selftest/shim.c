// SPDX-License-Identifier: GPL-2.0
/*
 * The simulated kernel under mmu/mmu.c: physical memory, one process's
 * address space with THP-like folios, pin counts, and a vCPU model that
 * records which translations could still be cached.
 *
 * The key check: a folio's pin count never drops below the number of leaves
 * that may still be cached (present now, or cleared since the last
 * khv_kick_all_and_wait()), and a table page is never freed while it may
 * still be cached.
 */
#include <stdio.h>
#include <stdlib.h>

#include "shim.h"
#include "shim_test.h"
#include "core/khv.h"

struct page shim_mem_map[SHIM_NR_PAGES];
unsigned char *shim_ram;
static struct mm_struct shim_mm;
static struct task_struct shim_task = { .mm = &shim_mm };
struct task_struct *current = &shim_task;
bool shim_la57;

struct shim_state shim;

#define USER_PFNS	(SHIM_NR_PAGES / 2)	/* [0, USER_PFNS): user memory */

struct shim_pte {
	long pfn;		/* -1: not populated */
	bool writable;
};

static struct shim_pte *uptes;	/* SHIM_USER_PAGES of them from SHIM_USER_BASE */
static unsigned long user_next;	/* bump allocator over user pfns */

struct shim_vma {
	unsigned long start, end;
	bool writable, thp;
};

static struct shim_vma vmas[16];
static int nr_vmas;

static void die(const char *what, const char *file, int line)
{
	fprintf(stderr, "%s:%d: CHECK FAILED: %s\n", file, line, what);
	abort();
}

#define CHECK(c) do { if (!(c)) die(#c, __FILE__, __LINE__); } while (0)

int shim_warn(int cond, const char *what, const char *file, int line)
{
	if (cond) {
		fprintf(stderr, "%s:%d: WARN_ON_ONCE(%s)\n", file, line, what);
		shim.warnings++;
	}
	return cond;
}

/* ---- locks, and where the kernel may sleep ---- */

/* Something that may sleep, inside a non-blockable notifier range. */
static void shim_might_sleep(const char *what, const char *file, int line)
{
	char msg[160];

	if (!shim.nonblock)
		return;
	snprintf(msg, sizeof(msg), "%s in a non-blockable notifier range", what);
	die(msg, file, line);
}

#define might_sleep(what)	shim_might_sleep(what, __FILE__, __LINE__)

void cond_resched(void)
{
	might_sleep(__func__);
	shim.rescheds++;
}

static void rwsem_sync(struct rw_semaphore *s)
{
	s->held = s->readers + s->writer;
}

void down_read(struct rw_semaphore *s)
{
	might_sleep(__func__);
	CHECK(!s->writer);
	s->readers++;
	rwsem_sync(s);
}

void up_read(struct rw_semaphore *s)
{
	CHECK(s->readers > 0);
	s->readers--;
	rwsem_sync(s);
}

void shim_set_writer(struct rw_semaphore *s, bool on)
{
	CHECK(!s->readers && s->writer == !on);
	s->writer = on;
	rwsem_sync(s);
}

void shim_assert_held(const int *held, const char *file, int line)
{
	if (!*held)
		die("lock held", file, line);
}

void shim_assert(int cond, const char *what, const char *file, int line)
{
	if (!cond)
		die(what, file, line);
}

void spin_lock_init(spinlock_t *l)
{
	l->held = 0;
}

void spin_lock(spinlock_t *l)
{
	CHECK(!l->held);
	l->held = 1;
}

void spin_unlock(spinlock_t *l)
{
	CHECK(l->held);
	l->held = 0;
}

/*
 * Allocating with direct reclaim while the observed VM's mmu->lock (a
 * spinlock) is held, or in a non-blockable range.
 */
static void check_no_reclaim_under_mmu_lock(unsigned int gfp)
{
	if (shim.mmu_lock && shim.mmu_lock->held)
		CHECK(!(gfp & __GFP_DIRECT_RECLAIM));
	if (gfp & __GFP_DIRECT_RECLAIM)
		might_sleep("an allocation that may reclaim");
}

/* ---- allocators ---- */

struct page *alloc_page(unsigned int gfp)
{
	unsigned long pfn;

	CHECK(gfp & GFP_NOWAIT);
	check_no_reclaim_under_mmu_lock(gfp);
	if (shim.nowait_fail && !(gfp & __GFP_DIRECT_RECLAIM))
		return NULL;
	if (shim.alloc_page_budget == 0)
		return NULL;
	if (shim.alloc_page_budget > 0)
		shim.alloc_page_budget--;
	for (pfn = USER_PFNS; pfn < SHIM_NR_PAGES; pfn++) {
		struct page *p = &shim_mem_map[pfn];

		if (p->is_table)
			continue;
		CHECK(!p->maybe_cached);
		p->is_table = true;
		/* Garbage unless __GFP_ZERO: catches a missing zeroing. */
		memset(page_address(p), (gfp & __GFP_ZERO) ? 0 : 0xa5, PAGE_SIZE);
		shim.tables_live++;
		if ((gfp & __GFP_ACCOUNT) && (gfp & __GFP_ZERO))
			shim.tables_accounted++;
		return p;
	}
	return NULL;
}

void __free_page(struct page *p)
{
	CHECK(p->is_table);
	/* Freed while a vCPU may still walk it: use after free. */
	CHECK(!p->maybe_cached);
	p->is_table = false;
	memset(page_address(p), 0x5a, PAGE_SIZE);
	shim.tables_live--;
}

void free_page(unsigned long addr)
{
	__free_page(virt_to_page((void *)addr));
}

void *kmalloc(size_t size, unsigned int gfp)
{
	void *p;

	CHECK(gfp & GFP_NOWAIT);
	check_no_reclaim_under_mmu_lock(gfp);
	CHECK(size <= PAGE_SIZE);
	if (shim.kmalloc_fail || (shim.nowait_fail && !(gfp & __GFP_DIRECT_RECLAIM)))
		return NULL;
	p = malloc(size);
	if (p)
		shim.kmalloc_live++;
	return p;
}

void kfree(const void *p)
{
	if (!p)
		return;
	shim.kmalloc_live--;
	free((void *)p);
}

/* ---- the user address space ---- */

static struct shim_pte *pte_of(unsigned long hva)
{
	if (hva < SHIM_USER_BASE || hva >= SHIM_USER_BASE + SHIM_USER_PAGES * PAGE_SIZE)
		return NULL;
	return &uptes[(hva - SHIM_USER_BASE) >> PAGE_SHIFT];
}

static struct shim_vma *vma_of(unsigned long hva)
{
	int i;

	for (i = 0; i < nr_vmas; i++)
		if (hva >= vmas[i].start && hva < vmas[i].end)
			return &vmas[i];
	return NULL;
}

void shim_add_vma(unsigned long start, unsigned long len, bool writable, bool thp)
{
	CHECK(nr_vmas < 16);
	CHECK(pte_of(start) && pte_of(start + len - 1));
	vmas[nr_vmas++] = (struct shim_vma){ start, start + len, writable, thp };
}

/* Point the user PTE at pfn (-1: none), keeping the pages' map counts. */
static void set_pte(struct shim_pte *pte, long pfn, bool writable)
{
	if (pte->pfn >= 0)
		shim_mem_map[pte->pfn].mapcount--;
	pte->pfn = pfn;
	pte->writable = writable;
	if (pfn >= 0)
		shim_mem_map[pfn].mapcount++;
}

long shim_alloc_folio(unsigned int order, unsigned long misalign)
{
	unsigned long n = 1UL << order, pfn, i;

	pfn = (user_next + n - 1) & ~(n - 1);
	pfn += misalign;
	CHECK(pfn + n <= USER_PFNS);
	user_next = pfn + n;
	for (i = 0; i < n; i++) {
		shim_mem_map[pfn + i].head = pfn;
		shim_mem_map[pfn + i].order = 0;
	}
	shim_mem_map[pfn].order = order;
	return pfn;
}

void shim_map(unsigned long hva, long pfn, bool writable)
{
	struct shim_pte *pte = pte_of(hva);

	CHECK(pte);
	set_pte(pte, pfn, writable);
}

void shim_lock_user_folios(bool locked)
{
	unsigned long pfn;

	for (pfn = 0; pfn < USER_PFNS; pfn++)
		shim_mem_map[pfn].locked = locked;
}

/* A page fault on hva: populate (THP when allowed) or break COW. */
static int fault_in(unsigned long hva, bool write)
{
	struct shim_vma *vma = vma_of(hva);
	struct shim_pte *pte = pte_of(hva);
	unsigned long base = hva & ~(SZ_2M - 1UL), i;

	if (!vma || !pte || (write && !vma->writable))
		return -EFAULT;
	if (pte->pfn >= 0) {
		/* Present but not writable: copy on write, a fresh small page. */
		if (write && !pte->writable)
			set_pte(pte, shim_alloc_folio(0, 0), true);
		return 0;
	}
	if (vma->thp && base >= vma->start && base + SZ_2M <= vma->end) {
		for (i = 0; i < 512; i++)
			if (pte_of(base + i * PAGE_SIZE)->pfn >= 0)
				break;
		if (i == 512) {
			long pfn = shim_alloc_folio(9, 0);

			for (i = 0; i < 512; i++)
				shim_map(base + i * PAGE_SIZE, pfn + i, vma->writable);
			shim.faulted_in += 512;
			return 0;
		}
	}
	shim_map(hva, shim_alloc_folio(0, 0), vma->writable);
	shim.faulted_in++;
	return 0;
}

static void pin_one(struct page *p)
{
	shim_mem_map[p->head].pincount++;
	shim.pins++;
}

static int pin(unsigned long start, int nr, unsigned int flags, struct page **pages,
	       bool fast_only)
{
	bool write = flags & FOLL_WRITE;
	int i;

	CHECK(flags & FOLL_LONGTERM);
	CHECK(!(flags & ~(FOLL_WRITE | FOLL_LONGTERM)));
	for (i = 0; i < nr; i++) {
		unsigned long hva = start + i * PAGE_SIZE;
		struct shim_pte *pte = pte_of(hva);

		if (!pte || pte->pfn < 0 || (write && !pte->writable)) {
			int r;

			if (fast_only)
				return i;
			might_sleep("faulting a page in");
			r = fault_in(hva, write);
			if (r)
				return i ? i : r;
		}
		pages[i] = &shim_mem_map[pte->pfn];
		pin_one(pages[i]);
	}
	return nr;
}

int pin_user_pages_fast(unsigned long start, int nr, unsigned int flags,
			struct page **pages)
{
	int r;

	shim.slow_pin_calls++;
	if (shim.pin_error)
		return shim.pin_error;
	r = pin(start, nr, flags, pages, false);
	if (shim.pin_hook) {
		void (*hook)(void) = shim.pin_hook;

		shim.pin_hook = NULL;	/* once */
		hook();
	}
	return r;
}

int pin_user_pages_fast_only(unsigned long start, int nr, unsigned int flags,
			     struct page **pages)
{
	if (shim.fast_only_fail)
		return 0;
	return pin(start, nr, flags, pages, true);
}

static int live_in_folio(struct page *head)
{
	long n = 1L << head->order, i;
	int live = 0;

	for (i = 0; i < n; i++)
		live += head[i].maybe_cached;
	return live;
}

static void unpin_one(struct page *p, bool dirty)
{
	struct page *head = &shim_mem_map[p->head];

	CHECK(head->pincount > 0);
	head->pincount--;
	shim.unpins++;
	if (dirty) {
		head->dirty = true;
		shim.dirty_unpins++;
	}
	/* Every leaf that a vCPU may still use must keep its pin. */
	CHECK(live_in_folio(head) <= head->pincount);
}

void unpin_user_page(struct page *p)
{
	unpin_one(p, false);
}

void unpin_user_pages(struct page **pages, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		unpin_one(pages[i], false);
}

/*
 * As in the kernel: a folio not yet dirty is locked to be dirtied, which
 * sleeps, and for ever when the caller already holds that lock (ksmd,
 * migration).
 */
void unpin_user_pages_dirty_lock(struct page **pages, unsigned long n, bool dirty)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		struct page *head = &shim_mem_map[pages[i]->head];

		if (dirty && !head->dirty) {
			might_sleep("taking a folio lock");
			if (head->locked)
				die("sleeping on a folio lock the caller holds", __FILE__, __LINE__);
		}
		unpin_one(pages[i], dirty);
	}
}

bool folio_mark_dirty(struct folio *f)
{
	struct page *head = &f->page;
	long i;
	int mapped = 0;

	/* A reference is needed: here the pin, dropped only afterwards. */
	CHECK(head->pincount > 0);
	/* Unlocked, the folio must be mapped, or it may be truncated under us. */
	for (i = 0; i < folio_nr_pages(f); i++)
		mapped += head[i].mapcount;
	if (!head->locked)
		CHECK(mapped > 0);
	if (head->dirty)
		return false;
	head->dirty = true;
	shim.dirty_marks++;
	return true;
}

/* ---- the vCPU model ---- */

/* Mark what a vCPU could cache now: every reachable table, every leaf page. */
static void observe_table(const struct khv_mmu *mmu, u64 *table, int level)
{
	const struct khv_mmu_format *fmt = mmu->fmt;
	int i;

	virt_to_page(table)->maybe_cached = true;
	for (i = 0; i < 512; i++) {
		u64 e = table[i];

		if (!fmt->is_present(e))
			continue;
		if (fmt->is_leaf(e, level)) {
			struct page *p = pfn_to_page(PHYS_PFN(fmt->entry_pa(e, level)));
			long n, k;

			/* Aliased leaves are not modelled: tests never alias. */
			p->maybe_cached = true;
			if (fmt->entry_prot(e) & KHV_PROT_WRITE) {
				n = 1L << (9 * (level - 1));
				for (k = 0; k < n; k++)
					p[k].cached_writable = true;
			}
			continue;
		}
		CHECK(level > 1);
		observe_table(mmu, phys_to_virt(fmt->entry_pa(e, level)), level - 1);
	}
}

void shim_observe(struct khv_vm *vm)
{
	if (vm->mmu.root)
		observe_table(&vm->mmu, vm->mmu.root, vm->mmu.levels);
}

void khv_kick_all_and_wait(struct khv_vm *vm, unsigned int req)
{
	unsigned long pfn;

	CHECK(req == KHV_REQ_TLB_FLUSH || req == KHV_REQ_NONE);
	CHECK(!vm->mmu.lock.held);
	/* From a slot change or fault, or from the MMU notifier. */
	CHECK(vm->slots_lock.readers || vm->slots_lock.writer || vm->mmu.invalidate_active);
	/* Only a dirty-log get kicks for the CPU's log (mmu->hw_log), under slots_lock. */
	if (req == KHV_REQ_NONE) {
		CHECK(vm->mmu.hw_log && vm->slots_lock.readers);
		shim.drains++;
		return;
	}
	shim.kicks++;
	/* Every vCPU flushed: only what is reachable now can be cached. */
	for (pfn = 0; pfn < SHIM_NR_PAGES; pfn++) {
		shim_mem_map[pfn].maybe_cached = false;
		shim_mem_map[pfn].cached_writable = false;
	}
	shim_observe(vm);
}

/* core/dirty_log.c's, as there (the shim has no slots_spin: one thread). */
void khv_log_dirty_gpa(struct khv_vm *vm, u64 gpa)
{
	int i;

	for (i = 0; i < KHV_MAX_MEMSLOTS; i++) {
		const struct khv_memslot *s = &vm->slots[i];

		if (s->size && gpa >= s->gpa && gpa - s->gpa < s->size) {
			unsigned long n = (gpa - s->gpa) >> PAGE_SHIFT;

			if (s->dirty_bitmap)
				s->dirty_bitmap[n / BITS_PER_LONG] |= 1UL << (n % BITS_PER_LONG);
			return;
		}
	}
}

const struct khv_memslot *khv_find_slot(struct khv_vm *vm, u64 gpa)
{
	int i;

	CHECK(vm->slots_lock.readers || vm->slots_lock.writer);
	for (i = 0; i < KHV_MAX_MEMSLOTS; i++) {
		const struct khv_memslot *s = &vm->slots[i];

		if (s->size && gpa >= s->gpa && gpa - s->gpa < s->size)
			return s;
	}
	return NULL;
}

/* The notifier's lookup; runs inside the invalidation it belongs to. */
unsigned int khv_slots_for_hva(struct khv_vm *vm, unsigned long start, unsigned long end,
			       struct khv_gpa_range *out)
{
	unsigned int i, n = 0;

	CHECK(vm->mmu.invalidate_active);
	shim.lookups++;
	for (i = 0; i < KHV_MAX_MEMSLOTS; i++) {
		const struct khv_memslot *s = &vm->slots[i];
		u64 lo, hi;

		if (!s->size || end <= s->uaddr || start >= s->uaddr + s->size)
			continue;
		lo = start > s->uaddr ? start : s->uaddr;
		hi = end < s->uaddr + s->size ? end : s->uaddr + s->size;
		out[n].gpa = s->gpa + (lo - s->uaddr);
		out[n].size = hi - lo;
		n++;
	}
	/* Another thread adds a slot just after the lookup read the array. */
	if (shim.lookup_hook) {
		void (*hook)(void) = shim.lookup_hook;

		shim.lookup_hook = NULL;
		hook();
	}
	return n;
}

/* ---- MSRs ---- */

int rdmsrl_safe(unsigned int msr, u64 *val)
{
	shim.msr_reads++;
	if (msr != 0x48c || shim.msr_fail) {
		*val = ~0ULL;
		return -EIO;
	}
	*val = shim.ept_vpid_cap;
	return 0;
}

/* ---- test support ---- */

void shim_reset(void)
{
	unsigned long pfn, i;

	if (!shim_ram) {
		shim_ram = aligned_alloc(PAGE_SIZE, (size_t)SHIM_NR_PAGES * PAGE_SIZE);
		uptes = malloc(sizeof(*uptes) * SHIM_USER_PAGES);
		CHECK(shim_ram && uptes);
	}
	for (pfn = 0; pfn < SHIM_NR_PAGES; pfn++)
		shim_mem_map[pfn] = (struct page){ .head = pfn };
	for (i = 0; i < SHIM_USER_PAGES; i++)
		uptes[i] = (struct shim_pte){ .pfn = -1 };
	user_next = 0;
	nr_vmas = 0;
	memset(&shim, 0, sizeof(shim));
	shim.alloc_page_budget = -1;
	shim_task.mm = &shim_mm;
}

long shim_pinned_pages(void)
{
	unsigned long pfn;
	long n = 0;

	for (pfn = 0; pfn < USER_PFNS; pfn++)
		n += shim_mem_map[pfn].pincount;
	return n;
}

struct page *shim_page_at(unsigned long hva)
{
	struct shim_pte *pte = pte_of(hva);

	return pte && pte->pfn >= 0 ? &shim_mem_map[pte->pfn] : NULL;
}

struct mm_struct *shim_current_mm(void)
{
	return &shim_mm;
}
