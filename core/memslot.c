// SPDX-License-Identifier: GPL-2.0
/*
 * Memory slots: which guest physical ranges are RAM, and where that RAM is in
 * the VMM's address space.  A gpa outside every slot is MMIO.
 *
 * The array is small (KHV_MAX_MEMSLOTS) and changes rarely; lookups scan it
 * under vm->slots_lock held for read.  Changes hold it for write, and tear
 * down second-level mappings of the old range before returning, so a deleted
 * or moved slot is never reachable from the guest again.
 */
#include <linux/mm.h>
#include <linux/uaccess.h>

#include "khv.h"
#include "internal.h"

/* Highest guest physical address + 1 that the second-level tables can map. */
static u64 khv_max_gpa(struct khv_vm *vm)
{
	return vm->mmu.levels == 5 ? 1ULL << 52 : 1ULL << 48;
}

const struct khv_memslot *khv_find_slot(struct khv_vm *vm, u64 gpa)
{
	int i;

	for (i = 0; i < KHV_MAX_MEMSLOTS; i++) {
		const struct khv_memslot *s = &vm->slots[i];

		if (s->size && gpa >= s->gpa && gpa - s->gpa < s->size)
			return s;
	}
	return NULL;
}

unsigned int khv_slots_for_hva(struct khv_vm *vm, unsigned long start, unsigned long end,
			       struct khv_gpa_range *out)
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

static bool khv_slot_overlaps(struct khv_vm *vm, u32 skip, u64 gpa, u64 size)
{
	int i;

	for (i = 0; i < KHV_MAX_MEMSLOTS; i++) {
		const struct khv_memslot *s = &vm->slots[i];

		if (i == skip || !s->size)
			continue;
		if (gpa < s->gpa + s->size && s->gpa < gpa + size)
			return true;
	}
	return false;
}

static int khv_check_region(struct khv_vm *vm, const struct khv_userspace_memory_region *r)
{
	if (r->slot >= KHV_MAX_MEMSLOTS || (r->flags & ~KHV_MEM_FLAGS_ALL))
		return -EINVAL;
	/* Nothing writes a read-only slot's pages: nothing to log. */
	if ((r->flags & KHV_MEM_READONLY) && (r->flags & KHV_MEM_LOG_DIRTY))
		return -EINVAL;
	if (!r->memory_size)
		return 0;
	if (!PAGE_ALIGNED(r->guest_phys_addr) || !PAGE_ALIGNED(r->memory_size) ||
	    !PAGE_ALIGNED(r->userspace_addr))
		return -EINVAL;
	/* No wrap-around, and within what both the tables and the process can address. */
	if (r->guest_phys_addr + r->memory_size < r->guest_phys_addr ||
	    r->guest_phys_addr + r->memory_size > khv_max_gpa(vm))
		return -EINVAL;
	if (r->userspace_addr + r->memory_size < r->userspace_addr ||
	    !access_ok((void __user *)(unsigned long)r->userspace_addr, r->memory_size))
		return -EINVAL;
	return 0;
}

/*
 * Switch the dirty log of slot @s on (with @bitmap, its pages
 * write-protected, or their dirty flags cleared, so that the next write to
 * each is seen) or off (@bitmap NULL; the slot's mappings go, so that
 * 2 MiB leaves come back).  Returns the bitmap the slot had.  slots_lock
 * held for write.
 */
static unsigned long *khv_slot_log_dirty(struct khv_vm *vm, struct khv_memslot *s,
					 unsigned long *bitmap)
{
	unsigned long *old = s->dirty_bitmap;

	spin_lock(&vm->slots_spin);
	s->dirty_bitmap = bitmap;
	s->flags = bitmap ? s->flags | KHV_MEM_LOG_DIRTY : s->flags & ~KHV_MEM_LOG_DIRTY;
	spin_unlock(&vm->slots_spin);
	if (bitmap)
		khv_mmu_log_start(vm, s->gpa, s->size);
	else
		khv_mmu_zap_range(vm, s->gpa, s->size, 0);
	return old;
}

int khv_set_memory_region(struct khv_vm *vm, const struct khv_userspace_memory_region *r)
{
	unsigned long *bitmap = NULL;
	struct khv_memslot *s;
	int err;

	err = khv_check_region(vm, r);
	if (err)
		return err;
	/* Before the lock: a slot that logs (or starts to) may need it. */
	if (r->memory_size && (r->flags & KHV_MEM_LOG_DIRTY)) {
		bitmap = khv_dirty_bitmap_alloc(r->memory_size);
		if (!bitmap)
			return -ENOMEM;
	}

	down_write(&vm->slots_lock);
	s = &vm->slots[r->slot];
	if (!r->memory_size) {
		/* Delete. */
		if (!s->size) {
			err = -EINVAL;
			goto out;
		}
		khv_mmu_zap_range(vm, s->gpa, s->size, 0);
		bitmap = s->dirty_bitmap;
		spin_lock(&vm->slots_spin);
		memset(s, 0, sizeof(*s));
		spin_unlock(&vm->slots_spin);
	} else if (!s->size) {
		/* Add. */
		if (khv_slot_overlaps(vm, r->slot, r->guest_phys_addr, r->memory_size)) {
			err = -EEXIST;
			goto out;
		}
		spin_lock(&vm->slots_spin);
		s->gpa = r->guest_phys_addr;
		s->size = r->memory_size;
		s->uaddr = r->userspace_addr;
		s->flags = r->flags;
		s->id = r->slot;
		s->dirty_bitmap = bitmap;
		spin_unlock(&vm->slots_spin);
		bitmap = NULL;
	} else if (r->memory_size != s->size || r->userspace_addr != s->uaddr) {
		err = -EINVAL;
	} else if (r->flags != s->flags) {
		/* Change flags: only the dirty log may come or go, in place. */
		if (r->guest_phys_addr != s->gpa ||
		    ((r->flags ^ s->flags) & ~KHV_MEM_LOG_DIRTY)) {
			err = -EINVAL;
			goto out;
		}
		bitmap = khv_slot_log_dirty(vm, s, bitmap);
	} else if (r->guest_phys_addr != s->gpa) {
		/* Move: the bitmap, by page of the slot, goes along. */
		if (khv_slot_overlaps(vm, r->slot, r->guest_phys_addr, r->memory_size)) {
			err = -EEXIST;
			goto out;
		}
		khv_mmu_zap_range(vm, s->gpa, s->size, 0);
		spin_lock(&vm->slots_spin);
		s->gpa = r->guest_phys_addr;
		spin_unlock(&vm->slots_spin);
	}
out:
	up_write(&vm->slots_lock);
	/* Refused, replaced or left by a deleted slot: no fault can reach it now. */
	khv_dirty_bitmap_free(bitmap);
	return err;
}

/* VM destroy: the mappings are gone, the bitmaps go. */
void khv_memslots_free(struct khv_vm *vm)
{
	int i;

	for (i = 0; i < KHV_MAX_MEMSLOTS; i++) {
		khv_dirty_bitmap_free(vm->slots[i].dirty_bitmap);
		vm->slots[i].dirty_bitmap = NULL;
	}
}

/* Copy between guest physical memory (RAM slots only) and a kernel buffer. */
static int khv_access_guest(struct khv_vm *vm, u64 gpa, void *buf, size_t len, bool write)
{
	int err = 0;

	down_read(&vm->slots_lock);
	while (len) {
		const struct khv_memslot *s = khv_find_slot(vm, gpa);
		size_t chunk = min_t(u64, len, PAGE_SIZE - offset_in_page(gpa));
		void __user *hva;

		if (!s || (write && (s->flags & KHV_MEM_READONLY))) {
			err = -EFAULT;
			break;
		}
		chunk = min_t(u64, chunk, s->gpa + s->size - gpa);
		hva = (void __user *)(unsigned long)(s->uaddr + (gpa - s->gpa));
		if (write ? copy_to_user(hva, buf, chunk) : copy_from_user(buf, hva, chunk)) {
			err = -EFAULT;
			break;
		}
		/* After the write: a dirty-log get that misses the bit sees the data. */
		if (write)
			khv_mark_dirty(s, gpa);
		gpa += chunk;
		buf += chunk;
		len -= chunk;
	}
	up_read(&vm->slots_lock);
	return err;
}

int khv_read_guest(struct khv_vm *vm, u64 gpa, void *buf, size_t len)
{
	return khv_access_guest(vm, gpa, buf, len, false);
}

int khv_write_guest(struct khv_vm *vm, u64 gpa, const void *buf, size_t len)
{
	return khv_access_guest(vm, gpa, (void *)buf, len, true);
}
