/* SPDX-License-Identifier: GPL-2.0 */
/* The part of core/khv.h that mmu/ uses, for the userspace harness. */
#ifndef KHV_CORE_KHV_H
#define KHV_CORE_KHV_H

#include "../shim.h"
#include "mmu/mmu.h"

/* Same values as uapi/linux/khv.h and core/khv.h: keep in sync. */
#define KHV_MEM_READONLY	(1u << 0)
#define KHV_MEM_LOG_DIRTY	(1u << 1)
#define KHV_MAX_MEMSLOTS	32
#define KHV_REQ_TLB_FLUSH	0
#define KHV_REQ_NONE		BITS_PER_LONG

struct khv_memslot {
	u64 gpa;
	u64 size;
	u64 uaddr;
	u32 flags;
	u32 id;
	unsigned long *dirty_bitmap;
};

struct khv_vm {
	struct mm_struct *mm;
	struct rw_semaphore slots_lock;
	struct khv_memslot slots[KHV_MAX_MEMSLOTS];
	struct khv_mmu mmu;
};

const struct khv_memslot *khv_find_slot(struct khv_vm *vm, u64 gpa);
unsigned int khv_slots_for_hva(struct khv_vm *vm, unsigned long start, unsigned long end,
			       struct khv_gpa_range *out);
void khv_kick_all_and_wait(struct khv_vm *vm, unsigned int req);

#endif /* KHV_CORE_KHV_H */
