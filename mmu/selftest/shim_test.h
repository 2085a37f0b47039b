/* SPDX-License-Identifier: GPL-2.0 */
/* What mmu_test.c sees of the simulated kernel (shim.c). */
#ifndef KHV_MMU_SHIM_TEST_H
#define KHV_MMU_SHIM_TEST_H

#include "shim.h"

struct khv_vm;

#define SHIM_USER_BASE	0x7f0000000000UL
#define SHIM_USER_PAGES	(1UL << 19)		/* a 2 GiB window */

struct shim_state {
	int warnings;			/* WARN_ON_ONCE that fired */
	unsigned long kicks;		/* khv_kick_all_and_wait() calls that flush */
	unsigned long drains;		/* khv_kick_all_and_wait(KHV_REQ_NONE) calls */
	long tables_live;		/* table pages allocated, not freed */
	long tables_accounted;		/* of those, GFP_KERNEL_ACCOUNT|__GFP_ZERO */
	long kmalloc_live;
	bool kmalloc_fail;		/* every kmalloc() fails */
	long alloc_page_budget;		/* alloc_page() successes left, -1: no limit */
	int pin_error;			/* pin_user_pages_fast() returns it */
	bool fast_only_fail;		/* pin_user_pages_fast_only() pins nothing */
	void (*pin_hook)(void);		/* run once inside pin_user_pages_fast() */
	unsigned long pins, unpins, dirty_unpins, slow_pin_calls;
	unsigned long faulted_in;	/* user pages populated by faults */
	u64 ept_vpid_cap;		/* IA32_VMX_EPT_VPID_CAP as read */
	bool msr_fail;			/* rdmsrl_safe() faults */
	unsigned long msr_reads;	/* rdmsrl_safe() calls */
	spinlock_t *mmu_lock;		/* no reclaim under it (vm_setup sets it) */
	bool nowait_fail;		/* allocations without direct reclaim fail */
	/*
	 * A non-blockable notifier range is running: anything that may sleep
	 * (a mutex, cond_resched, a folio lock, reclaim, faulting pages in)
	 * fails the test.
	 */
	bool nonblock;
	unsigned long dirty_marks;	/* folio_mark_dirty() that dirtied */
	unsigned long rescheds;		/* cond_resched() calls */
	unsigned long lookups;		/* khv_slots_for_hva() calls */
	void (*lookup_hook)(void);	/* run once at the end of khv_slots_for_hva() */
};

extern struct shim_state shim;

void shim_reset(void);
void shim_add_vma(unsigned long start, unsigned long len, bool writable, bool thp);
long shim_alloc_folio(unsigned int order, unsigned long misalign);
void shim_map(unsigned long hva, long pfn, bool writable);
/* The folio lock of every user page, held (or not) by the notifier's caller. */
void shim_lock_user_folios(bool locked);
void shim_observe(struct khv_vm *vm);
long shim_pinned_pages(void);
struct page *shim_page_at(unsigned long hva);
struct mm_struct *shim_current_mm(void);
void shim_set_writer(struct rw_semaphore *s, bool on);

#endif /* KHV_MMU_SHIM_TEST_H */
