/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the kernel API for mmu/mmu.c, mmu/npt.c and mmu/ept.c to
 * build and run in userspace, over a simulated physical memory, a simulated user
 * address space and pin counts.  shim.c implements it and checks the rules
 * the real kernel would not report (unpin before flush, leaks, locking).
 */
#ifndef KHV_MMU_SHIM_H
#define KHV_MMU_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef u64 phys_addr_t;

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define PAGE_MASK	(~(PAGE_SIZE - 1))
#define SZ_2M		0x00200000
#define U64_MAX		UINT64_MAX
#define ULONG_MAX	(~0UL)

#define BIT_ULL(n)		(1ULL << (n))
#define GENMASK_ULL(h, l)	((~0ULL << (l)) & (~0ULL >> (63 - (h))))
#define PHYS_PFN(x)		((unsigned long)((x) >> PAGE_SHIFT))
#define ALIGN_DOWN(x, a)	((x) & ~((__typeof__(x))(a) - 1))

/* Same strictness as the kernel's min(): both sides of one type. */
#define min(a, b) ({					\
	__typeof__(a) _a = (a);				\
	__typeof__(b) _b = (b);				\
	(void)(&_a == &_b);				\
	_a < _b ? _a : _b; })
#define max(a, b) ({					\
	__typeof__(a) _a = (a);				\
	__typeof__(b) _b = (b);				\
	(void)(&_a == &_b);				\
	_a > _b ? _a : _b; })

#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
/* Orders the zeroing of a table before its link, as in the kernel. */
#define smp_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)
#define xchg(p, v)		__atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
/* Strong compare-and-exchange; on failure *old gets the current value. */
#define try_cmpxchg(p, old, new)	\
	__atomic_compare_exchange_n((p), (old), (new), false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)

#define BITS_PER_LONG		64
#define BIT(n)			(1UL << (n))
static inline void set_bit(unsigned long nr, unsigned long *addr)
{
	__atomic_fetch_or(&addr[nr / BITS_PER_LONG], 1UL << (nr % BITS_PER_LONG),
			  __ATOMIC_SEQ_CST);
}

static inline unsigned int hweight_long(unsigned long w)
{
	return (unsigned int)__builtin_popcountl(w);
}

#define EFAULT		14
#define ENOMEM		12
#define EINVAL		22
#define EINTR		4
#define EAGAIN		11
#define EIO		5
#define ERESTARTSYS	512

int shim_warn(int cond, const char *what, const char *file, int line);
#define WARN_ON_ONCE(c)	shim_warn(!!(c), #c, __FILE__, __LINE__)

/*
 * Locks: single-threaded, but held/not-held is checked.  @held first in
 * each, for lockdep_assert_held().
 */
struct rw_semaphore {
	int held;		/* readers + writer */
	int readers;
	int writer;
};

void down_read(struct rw_semaphore *s);
void up_read(struct rw_semaphore *s);
void shim_assert_held(const int *held, const char *file, int line);
#define lockdep_assert_held(l)	shim_assert_held(&(l)->held, __FILE__, __LINE__)
#define lockdep_is_held(l)	((l)->held)
void shim_assert(int cond, const char *what, const char *file, int line);
#define lockdep_assert(c)	shim_assert(!!(c), #c, __FILE__, __LINE__)

/* A spinlock: held/not-held checked ("no sleeping under it" is not modelled). */
struct shim_spinlock {
	int held;
};

#define spinlock_t struct shim_spinlock

void spin_lock_init(spinlock_t *l);
void spin_lock(spinlock_t *l);
void spin_unlock(spinlock_t *l);

struct mm_struct {
	int unused;
};

struct task_struct {
	struct mm_struct *mm;
};

extern struct task_struct *current;

/*
 * Physical memory: SHIM_NR_PAGES page frames; shim_ram is their contents
 * (only table pages are ever read or written through it).
 */
#define SHIM_NR_PAGES	16384

struct page {
	unsigned long head;	/* pfn of the folio head */
	unsigned int order;	/* folio order, on the head */
	int pincount;		/* on the head */
	bool dirty;		/* on the head */
	bool locked;		/* on the head: the folio lock, held by whoever calls khv */
	int mapcount;		/* user PTEs that map this page */
	bool is_table;		/* allocated by alloc_page() */
	bool maybe_cached;	/* a vCPU may hold a translation through it */
	bool cached_writable;	/* ... one that lets it write the page */
};

struct folio {
	struct page page;
};

extern struct page shim_mem_map[SHIM_NR_PAGES];
extern unsigned char *shim_ram;

#define page_folio(p)		((struct folio *)&shim_mem_map[(p)->head])
#define folio_page(f, n)	(&(f)->page + (n))
#define folio_page_idx(f, p)	((p) - &(f)->page)
static inline unsigned int folio_order(struct folio *f)
{
	return f->page.order;
}

static inline long folio_nr_pages(struct folio *f)
{
	return 1L << f->page.order;
}

static inline bool folio_test_dirty(struct folio *f)
{
	return f->page.dirty;
}

/*
 * Without the folio lock (the kernel's rule: the folio must then be mapped,
 * so that it cannot be truncated meanwhile); never sleeps.
 */
bool folio_mark_dirty(struct folio *f);

#define page_to_phys(p)	((phys_addr_t)((p) - shim_mem_map) << PAGE_SHIFT)
#define page_to_pfn(p)		((unsigned long)((p) - shim_mem_map))
#define pfn_to_page(pfn)	(&shim_mem_map[(pfn)])
#define phys_to_virt(pa)	((void *)(shim_ram + (pa)))
#define page_address(p)		((void *)(shim_ram + page_to_phys(p)))
#define virt_to_page(va)	\
	(&shim_mem_map[((unsigned char *)(va) - shim_ram) >> PAGE_SHIFT])

/*
 * Bit 0 marks a kernel allocation (all of ours); direct reclaim is what
 * GFP_KERNEL has and GFP_NOWAIT lacks: under khv_mmu.lock it would deadlock
 * (reclaim -> MMU notifier -> khv_mmu.lock), and the shim refuses it there.
 */
#define __GFP_ACCOUNT		0x2u
#define __GFP_DIRECT_RECLAIM	0x4u
#define GFP_NOWAIT		0x1u
#define GFP_KERNEL		(0x1u | __GFP_DIRECT_RECLAIM)
#define GFP_KERNEL_ACCOUNT	(GFP_KERNEL | __GFP_ACCOUNT)
#define __GFP_ZERO		0x100u
#define __GFP_NOWARN		0x200u

struct page *alloc_page(unsigned int gfp);
void __free_page(struct page *page);
void free_page(unsigned long addr);
void *kmalloc(size_t size, unsigned int gfp);
#define kmalloc_array(n, size, gfp)	kmalloc((n) * (size), (gfp))
void kfree(const void *p);

#define FOLL_WRITE	0x01u
#define FOLL_LONGTERM	0x10000u

int pin_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags,
			struct page **pages);
int pin_user_pages_fast_only(unsigned long start, int nr_pages, unsigned int gup_flags,
			     struct page **pages);
void unpin_user_page(struct page *page);
void unpin_user_pages(struct page **pages, unsigned long npages);
void unpin_user_pages_dirty_lock(struct page **pages, unsigned long npages, bool make_dirty);

/* A point where the kernel may schedule: refused while shim.nonblock. */
void cond_resched(void);

extern bool shim_la57;
#define pgtable_l5_enabled()	shim_la57

/*
 * MSRs: only IA32_VMX_EPT_VPID_CAP exists, with the value in
 * shim.ept_vpid_cap (shim_test.h), unless shim.msr_fail.  Reading any other
 * MSR, or a failed read, returns -EIO (the #GP was caught) and leaves all
 * ones in *val: a caller that uses the value anyway sees every bit set.
 */
#define MSR_IA32_VMX_EPT_VPID_CAP	0x0000048c

int rdmsrl_safe(unsigned int msr, u64 *val);

#endif /* KHV_MMU_SHIM_H */
