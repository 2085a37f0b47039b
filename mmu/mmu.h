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
 * Locking: khv_mmu.lock (a mutex: table pages are allocated under it with
 * GFP_KERNEL_ACCOUNT) protects the tables and the counters.  Callers of
 * khv_mmu_fault() hold vm->slots_lock for read; callers of
 * khv_mmu_zap_range() hold it for write.
 */
#ifndef KHV_MMU_MMU_H
#define KHV_MMU_MMU_H

#include <linux/types.h>
#include <linux/mutex.h>

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
};

extern const struct khv_mmu_format khv_npt_format;

struct khv_mmu {
	struct mutex lock;
	const struct khv_mmu_format *fmt;
	int levels;			/* 4 or 5 */
	u64 *root;			/* one page */
	phys_addr_t root_pa;
	unsigned long nr_pinned;	/* 4 KiB pages currently pinned */
	unsigned long nr_tables;	/* table pages, root included */
	unsigned long nr_large;		/* 2 MiB leaves */
};

int khv_mmu_init(struct khv_mmu *mmu, const struct khv_mmu_format *fmt, int levels);
/* Unpin every page and free every table: no vCPU may run any more. */
void khv_mmu_destroy(struct khv_mmu *mmu);

/* Results of khv_mmu_fault(), besides negative errnos. */
#define KHV_MMU_MAPPED	0	/* re-enter the guest */
#define KHV_MMU_MMIO	1	/* no RAM there for this access: emulate as MMIO */

/*
 * A second-level fault at gpa for an access of kind @access (KHV_PROT_*).
 * Looks up the slot, pins the backing page (a 2 MiB run when the slot, the
 * alignment and the backing folio allow) and installs the leaf.  An access
 * outside every slot, or a write to a read-only slot, is KHV_MMU_MMIO.
 * -EFAULT when the slot's userspace memory cannot be pinned.
 */
int khv_mmu_fault(struct khv_vm *vm, u64 gpa, unsigned int access);

/*
 * Remove every mapping in [gpa, gpa + size), flush all vCPUs' translations
 * (khv_kick_all_and_wait) and only then unpin the pages.
 */
void khv_mmu_zap_range(struct khv_vm *vm, u64 gpa, u64 size);

#endif /* KHV_MMU_MMU_H */
