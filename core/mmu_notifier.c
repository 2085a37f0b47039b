// SPDX-License-Identifier: GPL-2.0
/*
 * Keeping second-level mappings in step with the VMM's address space.
 *
 * Guest RAM is the VMM's own memory: a slot maps guest physical addresses
 * onto a range of its virtual addresses, and mmu/ pins the pages found
 * there when the guest first touches them.  When the kernel changes that
 * range (munmap, mmap MAP_FIXED over it, mremap, madvise(MADV_DONTNEED), a
 * THP split, mprotect, KSM merging, migration, the OOM reaper) it calls
 * this notifier before and after the change: on the way in khv removes
 * every mapping of the affected guest physical ranges, makes every vCPU
 * flush, and unpins the old pages; until the way out, faults in that range
 * install nothing (khv_mmu_invalidate_begin/end; faults elsewhere go on), so
 * the next guest access pins whatever the VMM maps there afterwards.
 *
 * The start never fails, and it never sleeps when the range is not
 * blockable.  Linux 6.1 (mm/mmu_notifier.c) lets a start fail only with
 * -EAGAIN for a non-blockable range (the OOM reaper; process_mrelease(2),
 * which any user may call on its own killed child), and only from a
 * notifier without invalidate_range_end: after a failure it calls the end
 * of every notifier, the failed one included, so a start that fails would
 * leave its end unbalanced, and the kernel warns.  khv needs the end (faults
 * must not install until the change is done), so the start does its whole
 * job in every context instead:
 *  - khv_mmu.lock is a spinlock and nothing done under it sleeps;
 *  - the flush (khv_kick_all_and_wait) spins until its IPIs have run;
 *  - pins are dropped without the folio lock (the caller may hold it: KSM,
 *    migration), marking writable pages dirty as the kernel allows for
 *    mapped pages (mmu/mmu.c, khv_unpin_dirty_nolock());
 *  - only between rounds of a long zap does a blockable start reschedule.
 * So every end matches a start that began, and a non-blockable range is
 * zapped as fully as any other.  (A per-slot mmu_interval_notifier may
 * refuse a non-blockable range without an end; but a refusal makes the
 * reaper skip the whole mapping, leaving guest memory pinned until the
 * exit, and the interval tree would have to follow every slot change.)
 * Failing is never needed for memory safety either: every
 * leaf holds a FOLL_LONGTERM pin, so a page stays allocated until khv drops
 * the pin after the flush, whatever the VMM's page tables say.
 *
 * The start begins the invalidation before it looks the slots up (see
 * khv_mmu_invalidate_hva()): a slot added or moved between the two cannot
 * be mapped with a page about to go.
 *
 * Locking: the notifier runs with mmap_lock held, and a fault takes
 * mmap_lock (to pin) inside vm->slots_lock, so the notifier must not take
 * slots_lock.  It reads the slots under vm->slots_spin, which slot changes
 * hold (inside slots_lock) while they write.
 */
#include <linux/mmu_notifier.h>
#include <linux/sched/mm.h>

#include "khv.h"
#include "internal.h"

static struct khv_vm *mn_to_vm(struct mmu_notifier *mn)
{
	return container_of(mn, struct khv_vm, mmu_notifier);
}

static int khv_mn_invalidate_range_start(struct mmu_notifier *mn,
					 const struct mmu_notifier_range *range)
{
	khv_mmu_invalidate_hva(mn_to_vm(mn), range->start, range->end,
			       mmu_notifier_range_blockable(range));
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
 * fault may map anything again.  Not inside an invalidation, and nobody
 * holds a folio lock here: the zap may take folio locks to dirty pages.
 */
static void khv_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct khv_vm *vm = mn_to_vm(mn);

	khv_mmu_invalidate_begin(&vm->mmu, 0, ULONG_MAX);
	khv_mmu_zap_range(vm, 0, U64_MAX, 0);
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
