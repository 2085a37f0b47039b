// SPDX-License-Identifier: GPL-2.0
/*
 * Keeping second-level mappings in step with the VMM's address space.
 *
 * Guest RAM is the VMM's own memory: a slot maps guest physical addresses
 * onto a range of its virtual addresses, and mmu/ pins the pages found
 * there when the guest first touches them.  When the VMM changes that range
 * (munmap, mmap MAP_FIXED over it, mremap, madvise(MADV_DONTNEED), a THP
 * split, mprotect) the kernel calls this notifier before and after the
 * change: on the way in khv removes every mapping of the affected guest
 * physical ranges, makes every vCPU flush, and unpins the old pages; until
 * the way out, faults install nothing (khv_mmu_invalidate_begin/end), so the
 * next guest access pins whatever the VMM maps there afterwards.
 *
 * Locking: the notifier runs with mmap_lock held, and a fault takes
 * mmap_lock (to pin) inside vm->slots_lock, so the notifier must not take
 * slots_lock.  It reads the slots under vm->slots_spin, which slot changes
 * hold (inside slots_lock) while they write.  Called non-blockable (the OOM
 * reaper), it cannot zap (that sleeps): -EAGAIN when a slot is involved.
 */
#include <linux/mmu_notifier.h>
#include <linux/sched/mm.h>

#include "khv.h"
#include "internal.h"

static struct khv_vm *mn_to_vm(struct mmu_notifier *mn)
{
	return container_of(mn, struct khv_vm, mmu_notifier);
}

struct khv_gpa_range {
	u64 gpa;
	u64 size;
};

/* The guest physical ranges backed by [start, end) of the VMM's memory. */
static unsigned int khv_slots_for_hva(struct khv_vm *vm, unsigned long start,
				      unsigned long end, struct khv_gpa_range *out)
{
	unsigned int i, n = 0;

	spin_lock(&vm->slots_spin);
	for (i = 0; i < KHV_MAX_MEMSLOTS; i++) {
		const struct khv_memslot *s = &vm->slots[i];
		u64 lo, hi;

		if (!s->size || end <= s->uaddr || start >= s->uaddr + s->size)
			continue;
		lo = max_t(u64, start, s->uaddr);
		hi = min_t(u64, end, s->uaddr + s->size);
		out[n].gpa = s->gpa + (lo - s->uaddr);
		out[n].size = hi - lo;
		n++;
	}
	spin_unlock(&vm->slots_spin);
	return n;
}

static int khv_mn_invalidate_range_start(struct mmu_notifier *mn,
					 const struct mmu_notifier_range *range)
{
	struct khv_vm *vm = mn_to_vm(mn);
	struct khv_gpa_range r[KHV_MAX_MEMSLOTS];
	unsigned int i, n;

	n = khv_slots_for_hva(vm, range->start, range->end, r);
	if (n && !mmu_notifier_range_blockable(range))
		return -EAGAIN;
	/* Even with no slot involved: one may be added while this runs. */
	khv_mmu_invalidate_begin(&vm->mmu);
	for (i = 0; i < n; i++)
		khv_mmu_zap_range(vm, r[i].gpa, r[i].size);
	return 0;
}

static void khv_mn_invalidate_range_end(struct mmu_notifier *mn,
					const struct mmu_notifier_range *range)
{
	khv_mmu_invalidate_end(&mn_to_vm(mn)->mmu);
}

/*
 * The address space goes away (the VMM exits, or the VM is destroyed and
 * unregisters): drop every mapping and pin now, and stay invalidated, as no
 * fault may map anything again.
 */
static void khv_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct khv_vm *vm = mn_to_vm(mn);

	khv_mmu_invalidate_begin(&vm->mmu);
	khv_mmu_zap_range(vm, 0, U64_MAX);
}

static const struct mmu_notifier_ops khv_mmu_notifier_ops = {
	.invalidate_range_start	= khv_mn_invalidate_range_start,
	.invalidate_range_end	= khv_mn_invalidate_range_end,
	.release		= khv_mn_release,
};

/* At VM creation, in the creator's context, after khv_mmu_init(). */
int khv_mmu_notifier_register(struct khv_vm *vm)
{
	vm->mmu_notifier.ops = &khv_mmu_notifier_ops;
	return mmu_notifier_register(&vm->mmu_notifier, vm->mm);
}

/* At VM destruction, while vm->vcpus[] are still valid (release may kick). */
void khv_mmu_notifier_unregister(struct khv_vm *vm)
{
	mmu_notifier_unregister(&vm->mmu_notifier, vm->mm);
}
