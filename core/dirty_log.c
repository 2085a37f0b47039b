// SPDX-License-Identifier: GPL-2.0
/*
 * The dirty log's bitmaps and its two ioctls, KHV_GET_DIRTY_LOG and
 * KHV_CLEAR_DIRTY_LOG (uapi/linux/khv.h; Documentation/khv/migration.rst).
 *
 * A slot with KHV_MEM_LOG_DIRTY owns a bitmap, a bit per 4 KiB page.  Bits
 * are set by the second-level fault that lets a write through (mmu/), by
 * the harvest of the CPU's dirty flags in the hardware mode (mmu/dirty.c;
 * module parameter dirty_bits, below), by the backend's drain of the
 * CPU's log of dirtied pages (VT-x PML, khv_log_dirty_gpas()) after each
 * exit, and by khv's own writes to guest memory (khv_write_guest():
 * kvmclock, emulated string I/O, descriptor tables), after the write.
 * They are taken out by mmu/dirty.c, which write-protects their pages (or
 * cleans their leaves) in the same hold of khv_mmu.lock and flushes
 * before the ioctl returns.
 *
 * Locking: the ioctls hold vm->slots_lock for read, so the slot and its
 * bitmap stay; logging is switched on and off with it held for write
 * (core/memslot.c).
 */
#include <linux/kernel.h>
#include <linux/bitmap.h>
#include <linux/moduleparam.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "khv.h"
#include "internal.h"

static unsigned long khv_dirty_longs(u64 size)
{
	return BITS_TO_LONGS(size >> PAGE_SHIFT);
}

/*
 * A bit per page: 32 MiB for a 1 TiB slot.  A slot so large that its bitmap
 * cannot be allocated (kvmalloc refuses above INT_MAX bytes) cannot log:
 * ENOMEM, quietly (the size is the VMM's choice, not a kernel problem).
 */
unsigned long *khv_dirty_bitmap_alloc(u64 size)
{
	return kvcalloc(khv_dirty_longs(size), sizeof(unsigned long),
			GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
}

void khv_dirty_bitmap_free(unsigned long *bitmap)
{
	kvfree(bitmap);
}

void khv_mark_dirty(const struct khv_memslot *s, u64 gpa)
{
	if (s->dirty_bitmap)
		set_bit((gpa - s->gpa) >> PAGE_SHIFT, s->dirty_bitmap);
}

/*
 * The dirty log's mode, chosen when a VM is created: the CPU's dirty flags
 * in the second-level leaves (AMD's NPT; Intel's EPT where the CPU has
 * its accessed/dirty flags), with VT-x's page-modification log where the
 * CPU has that too (vmx/vmx_pml.c; module parameter pml), or write
 * protection of the leaves (any CPU).  The flags spare the guest a fault
 * for the first write to each page in each pass; write protection and the
 * log spare each get a walk of its whole range.
 * Documentation/khv/migration.rst has the figures.
 */
static bool khv_dirty_bits = true;
module_param_named(dirty_bits, khv_dirty_bits, bool, 0644);
MODULE_PARM_DESC(dirty_bits, "dirty log of new VMs by the CPU's dirty flags where it has them (else write protection)");

int khv_dirty_log_mode(void)
{
	if (!READ_ONCE(khv_dirty_bits) || !khv_ops->dirty_log_mode)
		return KHV_DIRTY_LOG_BY_WP;
	return khv_ops->dirty_log_mode();
}

/* Set the bit of the page at gpa if a slot that logs holds it; slots_lock or slots_spin held. */
static void khv_log_one(struct khv_vm *vm, const struct khv_memslot **s, u64 gpa)
{
	if (!*s || gpa < (*s)->gpa || gpa - (*s)->gpa >= (*s)->size)
		*s = khv_find_slot(vm, gpa);
	if (*s)
		khv_mark_dirty(*s, gpa);
}

/* mmu/ zapped a cleaned leaf the CPU marked dirty (mmu.h). */
void khv_log_dirty_gpa(struct khv_vm *vm, u64 gpa)
{
	const struct khv_memslot *s = NULL;

	/* slots_spin: slot changes write the slots and swap bitmaps under it. */
	spin_lock(&vm->slots_spin);
	khv_log_one(vm, &s, gpa);
	spin_unlock(&vm->slots_spin);
}

/*
 * Up to 512 pages per call (a PML buffer), under slots_lock for read (as
 * a second-level fault: vCPUs draining at once do not wait for each
 * other), the last slot found tried first (a guest writes runs of pages).  An
 * address outside every logging slot (one that stopped logging, or moved,
 * since the CPU logged it) is dropped: the zap that went with the change
 * logged what the leaf's flag said.
 */
void khv_log_dirty_gpas(struct khv_vcpu *vcpu, const u64 *gpas, unsigned int n)
{
	struct khv_vm *vm = vcpu->vm;
	const struct khv_memslot *s = NULL;
	unsigned int i;

	down_read(&vm->slots_lock);
	for (i = 0; i < n; i++)
		khv_log_one(vm, &s, gpas[i] & PAGE_MASK);
	up_read(&vm->slots_lock);
	vcpu->stats->kernel_stats[KHV_KSTAT_PML_LOGGED] += n;
}

/* What can be checked before the slot is looked at. */
static int khv_dirty_log_check(const struct khv_dirty_log *d, bool clear)
{
	if (d->slot >= KHV_MAX_MEMSLOTS || d->reserved[0] || d->reserved[1])
		return -EINVAL;
	if (d->flags & ~(clear ? 0 : KHV_DIRTY_LOG_FLAGS_ALL))
		return -EINVAL;
	if (!d->num_pages || d->first_page % BITS_PER_LONG)
		return -EINVAL;
	return 0;
}

static long khv_dirty_log_locked(struct khv_vm *vm, const struct khv_dirty_log *d, bool clear)
{
	const struct khv_memslot *s = &vm->slots[d->slot];
	void __user *ubitmap = u64_to_user_ptr(d->bitmap);
	unsigned long nr_longs, w, *kbuf, *bitmap;
	u64 npages = s->size >> PAGE_SHIFT;
	long r;

	if (!s->size)
		return -EINVAL;
	if (!s->dirty_bitmap)
		return -ENOENT;
	if (d->first_page >= npages || d->num_pages > npages - d->first_page)
		return -EINVAL;
	nr_longs = BITS_TO_LONGS(d->num_pages);
	bitmap = s->dirty_bitmap + d->first_page / BITS_PER_LONG;
	kbuf = kvcalloc(nr_longs, sizeof(*kbuf), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!kbuf)
		return -ENOMEM;

	if (clear) {
		if (copy_from_user(kbuf, ubitmap, nr_longs * sizeof(*kbuf))) {
			r = -EFAULT;
			goto out;
		}
		bitmap_clear(kbuf, d->num_pages, nr_longs * BITS_PER_LONG - d->num_pages);
		khv_mmu_take_dirty(vm, s->gpa + (d->first_page << PAGE_SHIFT), bitmap,
				   kbuf, nr_longs);
		r = 0;
		goto out;
	}

	if (d->flags & KHV_DIRTY_LOG_KEEP) {
		/* The hardware mode's flags into the bitmap first (kbuf: the mask). */
		bitmap_set(kbuf, 0, d->num_pages);
		khv_mmu_harvest_dirty(vm, s->gpa + (d->first_page << PAGE_SHIFT), bitmap, kbuf,
				      nr_longs);
		for (w = 0; w < nr_longs; w++)
			kbuf[w] = READ_ONCE(bitmap[w]);
		bitmap_clear(kbuf, d->num_pages, nr_longs * BITS_PER_LONG - d->num_pages);
		r = bitmap_weight(kbuf, d->num_pages);
	} else {
		bitmap_set(kbuf, 0, d->num_pages);
		r = khv_mmu_take_dirty(vm, s->gpa + (d->first_page << PAGE_SHIFT), bitmap,
				       kbuf, nr_longs);
	}
	if (copy_to_user(ubitmap, kbuf, nr_longs * sizeof(*kbuf))) {
		/*
		 * Lose nothing: the bits go back (their pages stay
		 * write-protected or clean, which only costs a fault or
		 * a copy).
		 */
		if (!(d->flags & KHV_DIRTY_LOG_KEEP))
			for (w = 0; w < nr_longs; w++)
				if (kbuf[w])
					atomic_long_or(kbuf[w], (atomic_long_t *)&bitmap[w]);
		r = -EFAULT;
	}
out:
	kvfree(kbuf);
	return r;
}

long khv_dirty_log_ioctl(struct khv_vm *vm, struct khv_dirty_log __user *argp, bool clear)
{
	struct khv_dirty_log d;
	long r;

	if (copy_from_user(&d, argp, sizeof(d)))
		return -EFAULT;
	r = khv_dirty_log_check(&d, clear);
	if (r)
		return r;
	down_read(&vm->slots_lock);
	r = khv_dirty_log_locked(vm, &d, clear);
	up_read(&vm->slots_lock);
	return r;
}
