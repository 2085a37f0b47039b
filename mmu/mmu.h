/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmu/: second-level paging (AMD NPT, Intel EPT) built on demand from the
 * memory slots.  The page-table *format* is a parameter (struct
 * khv_mmu_format): the walker, the pinning and the invalidation are shared.
 *
 * Every leaf maps a page pinned with pin_user_pages*(FOLL_LONGTERM); a page is
 * unpinned only after every vCPU has flushed the translations that could
 * still reach it (khv_kick_all_and_wait(vm, KHV_REQ_TLB_FLUSH)).
 *
 * Locking (order: vm->slots_lock, then mm->mmap_lock, then khv_mmu.lock):
 *  - khv_mmu.lock (a spinlock) protects the tables and the counters.  It is
 *    never held across pinning (which may take mmap_lock), nor across the
 *    flush, nor while pages are unpinned.  A spinlock because the MMU
 *    notifier zaps in contexts that may not sleep (the OOM reaper and
 *    process_mrelease(2) invalidate non-blockable ranges): nothing the
 *    notifier does may sleep there, so nothing done under this lock may
 *    sleep either.  A zap holds it for at most KHV_MMU_ZAP_ROUND pages.
 *  - khv_mmu_fault() takes vm->slots_lock for read itself, for the whole
 *    fault, so a slot cannot disappear between lookup and leaf install.  The
 *    caller must NOT hold slots_lock (nor the mmu lock).
 *  - khv_mmu_zap_range() is called with vm->slots_lock held (for write when
 *    a slot is deleted or moved, so that no fault can re-map the old range),
 *    or by the MMU notifier inside an invalidation (khv_mmu_invalidate_begin:
 *    faults that raced with it drop their page instead of installing it);
 *    it takes khv_mmu.lock itself and calls khv_kick_all_and_wait(), so the
 *    caller must not hold any lock a vCPU needs to leave guest mode.
 *  - Nothing under khv_mmu.lock may allocate with direct reclaim (it may not
 *    sleep, and reclaim unmaps pages of the VMM's own mm, which calls the
 *    MMU notifier, which takes khv_mmu.lock).  Table pages come from
 *    GFP_NOWAIT or from a spare page allocated before the lock is taken.
 *  - khv_mmu.inval_lock (a spinlock, innermost) protects invalidate_active,
 *    invalidate_seq and the invalidated range.
 *  - khv_mmu_init()/khv_mmu_destroy(): no vCPU runs, no other caller.
 * mm->mmap_lock may be taken under slots_lock (pinning), never the reverse:
 * nothing called with mmap_lock held may take slots_lock.
 */
#ifndef KHV_MMU_MMU_H
#define KHV_MMU_MMU_H

#include <linux/types.h>
#include <linux/spinlock.h>

struct khv_vm;
struct khv_vcpu;

/* Access permissions of a leaf, and the kind of access that faulted. */
#define KHV_PROT_READ	(1u << 0)
#define KHV_PROT_WRITE	(1u << 1)
#define KHV_PROT_EXEC	(1u << 2)

struct khv_mmu_format {
	const char *name;		/* "npt" or "ept" */
	/* Entry pointing at a next-level table page, all permissions. */
	u64 (*make_table)(phys_addr_t table_pa);
	/* Leaf at level (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB), write-back memory. */
	u64 (*make_leaf)(phys_addr_t pa, int level, unsigned int prot);
	bool (*is_present)(u64 entry);
	bool (*is_leaf)(u64 entry, int level);	/* level 1 entries are always leaves */
	phys_addr_t (*entry_pa)(u64 entry, int level);
	unsigned int (*entry_prot)(u64 entry);
	/*
	 * The leaf without write permission, for the dirty log.  Its dirty
	 * flag stays: the page may have been written while it was writable.
	 */
	u64 (*write_protect)(u64 entry);
	/*
	 * The leaf may have been written while it was writable: its pin is
	 * dropped with the page marked dirty.
	 */
	bool (*entry_dirty)(u64 entry);
	/*
	 * The dirty log's hardware mode (khv_mmu.hw_dirty): clean() clears
	 * the dirty flag of a writable leaf, for the CPU to set at the next
	 * write through it, and marks the leaf cleaned (a bit the CPU
	 * ignores; entry_dirty() stays true); cleaned() reads the mark.
	 * dirty_flag is the flag itself, a mask and not a call: a harvest
	 * tests it in every leaf of its range.
	 */
	u64 (*clean)(u64 entry);
	bool (*cleaned)(u64 entry);
	u64 dirty_flag;
};

extern const struct khv_mmu_format khv_npt_format;
/* Depth of the NPT tables: the host's paging depth (5 with CR4.LA57). */
int khv_npt_levels(void);

extern const struct khv_mmu_format khv_ept_format;
/* Depth of the EPT tables: 5 with CR4.LA57 and 5-level EPT, else 4. */
int khv_ept_levels(void);

/*
 * Guest physical addresses a @levels-deep table can map: [0, 1 << bits).
 * Core should refuse slots that end above it; a fault there is -EFAULT.
 */
#define KHV_MMU_GPA_BITS(levels)	(12 + 9 * (levels))

struct khv_mmu {
	spinlock_t lock;
	const struct khv_mmu_format *fmt;
	int levels;			/* 4 or 5 */
	u64 *root;			/* one page */
	phys_addr_t root_pa;
	unsigned long nr_pinned;	/* 4 KiB pages currently pinned */
	unsigned long nr_tables;	/* table pages, root included */
	unsigned long nr_large;		/* 2 MiB leaves */
	struct page *spare;		/* a zeroed page for the next table, or NULL */
	/*
	 * The dirty log reads the leaves' dirty flags, which the CPU sets,
	 * instead of write-protecting them (mmu/dirty.c).  Set once at VM
	 * creation, before any slot logs.
	 */
	bool hw_dirty;
	/*
	 * With hw_dirty: the CPU also logs each page whose dirty flag it sets
	 * (VT-x PML), and the backend hands those pages to core at every exit
	 * (khv_log_dirty_gpas()): the bitmap already holds what the flags
	 * say, so gets clean only the leaves of the bits they take, and walk
	 * nothing else (mmu/dirty.c).
	 */
	bool hw_log;

	/*
	 * Invalidations of the VMM's address space (the MMU notifier): a
	 * fault samples invalidate_seq before it pins, and installs its page
	 * only if no invalidation began or ended meanwhile and none running
	 * covers its address.  [invalidate_start, invalidate_end): the VMM
	 * addresses of the invalidations running (their union; meaningful
	 * while invalidate_active).
	 */
	spinlock_t inval_lock;
	unsigned int invalidate_active;
	unsigned long invalidate_seq;
	unsigned long invalidate_start;
	unsigned long invalidate_end;
};

int khv_mmu_init(struct khv_mmu *mmu, const struct khv_mmu_format *fmt, int levels);
/* Unpin every page and free every table: no vCPU may run any more. */
void khv_mmu_destroy(struct khv_mmu *mmu);

/* Results of khv_mmu_fault(), besides negative errnos. */
#define KHV_MMU_MAPPED	0	/* re-enter the guest */
#define KHV_MMU_MMIO	1	/* no RAM there for this access: emulate as MMIO */
#define KHV_MMU_LOGGED	2	/* mapped: a write the dirty log recorded; re-enter */

/*
 * A second-level fault at gpa for an access of kind @access (KHV_PROT_*).
 * Looks up the slot, pins the backing page (a 2 MiB run when the slot, the
 * alignment and the backing folio allow) and installs the leaf.  An access
 * outside every slot, or a write to a read-only slot, is KHV_MMU_MMIO.
 * In a slot that logs dirty pages (KHV_MEM_LOG_DIRTY) leaves are 4 KiB and
 * writable only once written: a read maps the page read-only, a write
 * sets the page's bit in the slot's bitmap as it makes the leaf writable
 * (KHV_MMU_LOGGED), splitting a 2 MiB leaf built before logging began.
 * -EFAULT when the slot's userspace memory cannot be pinned (or the slot lies
 * beyond KHV_MMU_GPA_BITS), -ENOMEM, -EINTR on a fatal signal.  Takes
 * vm->slots_lock for read: see the locking rules above.
 */
int khv_mmu_fault(struct khv_vm *vm, u64 gpa, unsigned int access);

/*
 * How khv_mmu_zap_range() may release what it took out of the tables:
 *  KHV_ZAP_NOTIFIER  called by the MMU notifier inside an invalidation,
 *                    whose caller may hold the lock of a folio being zapped
 *                    (KSM, migration): writable leaves' folios are marked
 *                    dirty without taking the folio lock.  Without it the
 *                    folio lock is taken (unpin_user_pages_dirty_lock()).
 *  KHV_ZAP_NONBLOCK  the caller may not sleep (a non-blockable notifier
 *                    range): no cond_resched() between rounds.  Only with
 *                    KHV_ZAP_NOTIFIER.
 */
#define KHV_ZAP_NOTIFIER	(1u << 0)
#define KHV_ZAP_NONBLOCK	(1u << 1)

/* Entries a zap clears per round under khv_mmu.lock, before it flushes. */
#define KHV_MMU_ZAP_ROUND	2048

/*
 * Remove every mapping in [gpa, gpa + size), flush all vCPUs' translations
 * (khv_kick_all_and_wait) and only then unpin the pages and free the table
 * pages that became unreachable.  A 2 MiB leaf that straddles the range is
 * removed whole.  Caller holds vm->slots_lock (write for slot changes), or
 * is the MMU notifier inside an invalidation.  @flags: KHV_ZAP_*.
 */
void khv_mmu_zap_range(struct khv_vm *vm, u64 gpa, u64 size, unsigned int flags);

/*
 * Bracket a change of the VMM's mappings [start, end) (MMU notifier start
 * and end): between the two no fault in that range installs a page, and a
 * fault anywhere that pinned before a begin or an end installs nothing
 * (it retries).  Never sleep.
 */
void khv_mmu_invalidate_begin(struct khv_mmu *mmu, unsigned long start, unsigned long end);
void khv_mmu_invalidate_end(struct khv_mmu *mmu);

/*
 * The dirty log (dirty.c).  All with vm->slots_lock held; they take
 * khv_mmu.lock and flush (khv_kick_all_and_wait) themselves when a leaf
 * lost its write permission or its dirty flag, before they return.
 *
 * khv_mmu_log_start(): for a slot that starts logging, every leaf in
 * [gpa, gpa + size) loses its write permission (a 2 MiB leaf too: a write
 * splits it), or in the hardware mode (khv_mmu.hw_dirty) its dirty flag.
 *
 * khv_mmu_take_dirty(): for a slot's bitmap words @bitmap[0..nr_longs)
 * (bit i of word w: the page at gpa + (w * BITS_PER_LONG + i) * 4 KiB),
 * take the bits of @mask out and write-protect their pages (the hardware
 * mode first harvests the CPU's flags of those pages into the words and
 * cleans their leaves instead); @mask then says which of them were set.
 * Returns how many were.
 *
 * khv_mmu_harvest_dirty(): the hardware mode's harvest alone, for the
 * pages of @mask, leaving the bits in the bitmap (a get that keeps them);
 * nothing in the write-protection mode.  Returns how many leaves it
 * cleaned.
 */
void khv_mmu_log_start(struct khv_vm *vm, u64 gpa, u64 size);
unsigned long khv_mmu_take_dirty(struct khv_vm *vm, u64 gpa, unsigned long *bitmap,
				 unsigned long *mask, unsigned long nr_longs);
unsigned long khv_mmu_harvest_dirty(struct khv_vm *vm, u64 gpa, unsigned long *bitmap,
				    const unsigned long *mask, unsigned long nr_longs);

/*
 * Core's (core/dirty_log.c), for a zap: the page at @gpa was written
 * through a cleaned leaf now leaving the tables; set its bit if a slot
 * that logs holds it.  Takes vm->slots_spin; never sleeps.
 */
void khv_log_dirty_gpa(struct khv_vm *vm, u64 gpa);

/* A guest physical range, for khv_slots_for_hva(). */
struct khv_gpa_range {
	u64 gpa;
	u64 size;
};

/*
 * The MMU notifier's start: the VMM's addresses [start, end) are about to
 * change.  Begins an invalidation (ended by khv_mmu_invalidate_end()), then
 * looks up the slots over that range and zaps what they map.  Never fails;
 * with !@blockable it does not sleep.
 */
void khv_mmu_invalidate_hva(struct khv_vm *vm, unsigned long start, unsigned long end,
			    bool blockable);

#endif /* KHV_MMU_MMU_H */
