// SPDX-License-Identifier: GPL-2.0
/*
 * ioeventfd: a guest write to a chosen port or MMIO address (of a chosen
 * size, optionally of a chosen value) signals an eventfd and completes in
 * the kernel, with no exit to the VMM: the doorbell of virtio queues, which
 * a VMM's I/O thread (or vhost) waits on.
 *
 * The VM's ioeventfds are a short RCU list: the exit paths of every vCPU
 * walk it without a lock a guest could contend, KHV_IOEVENTFD changes it
 * under vm->lock and frees a removed entry after a grace period.
 * eventfd_signal() in the walk takes only the eventfd's own lock (and,
 * when the eventfd is also an irqfd, irq/irqfd.c's chain).
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/eventfd.h>
#include <linux/rculist.h>

#include "khv.h"
#include "internal.h"

struct khv_vm_ioeventfd {
	struct list_head list;
	struct eventfd_ctx *eventfd;
	u64 addr;
	u64 datamatch;
	u32 len;		/* 0: any size */
	bool pio;
	bool wildcard;		/* no datamatch */
};

static bool khv_ioeventfd_hit(const struct khv_vm_ioeventfd *e, bool pio, u64 addr,
			      u32 len, u64 val)
{
	if (e->pio != pio || e->addr != addr || (e->len && e->len != len))
		return false;
	if (e->wildcard)
		return true;
	if (len < 8)
		val &= (1ULL << (8 * len)) - 1;
	return val == e->datamatch;
}

/* A guest write: true when an ioeventfd took it (the write is done). */
bool khv_ioeventfd_write(struct khv_vm *vm, bool pio, u64 addr, u32 len, u64 val)
{
	struct khv_vm_ioeventfd *e;
	bool hit = false;

	rcu_read_lock();
	list_for_each_entry_rcu(e, &vm->ioeventfds, list) {
		if (khv_ioeventfd_hit(e, pio, addr, len, val)) {
			eventfd_signal(e->eventfd, 1);
			hit = true;
			break;
		}
	}
	rcu_read_unlock();
	return hit;
}

/* Same place, size, kind and value (or both without a value). */
static bool khv_ioeventfd_same(const struct khv_vm_ioeventfd *a,
			       const struct khv_vm_ioeventfd *b)
{
	return a->pio == b->pio && a->addr == b->addr && a->len == b->len &&
	       a->wildcard == b->wildcard && (a->wildcard || a->datamatch == b->datamatch);
}

int khv_ioeventfd(struct khv_vm *vm, const struct khv_ioeventfd *a)
{
	struct khv_vm_ioeventfd *e, *other, *tmp;
	int err = 0;

	if ((a->flags & ~KHV_IOEVENTFD_FLAGS_ALL) || a->pad || a->reserved[0] || a->reserved[1])
		return -EINVAL;
	if (a->len != 0 && a->len != 1 && a->len != 2 && a->len != 4 && a->len != 8)
		return -EINVAL;
	if (a->addr + a->len < a->addr)
		return -EINVAL;
	if (a->flags & KHV_IOEVENTFD_PIO) {
		/* Port space: 64 Ki ports, 4 bytes at most, one size. */
		if (a->addr > 0xffff || a->len == 8 || a->len == 0 || a->addr + a->len > 0x10000)
			return -EINVAL;
	}
	if ((a->flags & KHV_IOEVENTFD_DATAMATCH) && a->len == 0)
		return -EINVAL;

	e = kzalloc(sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e)
		return -ENOMEM;
	e->addr = a->addr;
	e->len = a->len;
	e->pio = a->flags & KHV_IOEVENTFD_PIO;
	e->wildcard = !(a->flags & KHV_IOEVENTFD_DATAMATCH);
	e->datamatch = e->wildcard ? 0 : a->datamatch;
	e->eventfd = eventfd_ctx_fdget(a->fd);
	if (IS_ERR(e->eventfd)) {
		err = PTR_ERR(e->eventfd);
		kfree(e);
		return err;
	}

	mutex_lock(&vm->lock);
	if (a->flags & KHV_IOEVENTFD_DEASSIGN) {
		err = -ENOENT;
		list_for_each_entry_safe(other, tmp, &vm->ioeventfds, list) {
			if (other->eventfd == e->eventfd && khv_ioeventfd_same(other, e)) {
				list_del_rcu(&other->list);
				vm->nr_ioeventfds--;
				err = 0;
				break;
			}
		}
		mutex_unlock(&vm->lock);
		if (!err) {
			/* No vCPU's walk still sees it. */
			synchronize_rcu();
			eventfd_ctx_put(other->eventfd);
			kfree(other);
		}
		eventfd_ctx_put(e->eventfd);
		kfree(e);
		return err;
	}
	if (vm->nr_ioeventfds >= KHV_MAX_IOEVENTFDS)
		err = -ENOSPC;
	list_for_each_entry(other, &vm->ioeventfds, list)
		if (khv_ioeventfd_same(other, e))
			err = -EEXIST;
	if (!err) {
		list_add_tail_rcu(&e->list, &vm->ioeventfds);
		vm->nr_ioeventfds++;
	}
	mutex_unlock(&vm->lock);
	if (err) {
		eventfd_ctx_put(e->eventfd);
		kfree(e);
	}
	return err;
}

/* VM destruction: no vCPU runs any more. */
void khv_ioeventfd_release(struct khv_vm *vm)
{
	struct khv_vm_ioeventfd *e, *tmp;

	list_for_each_entry_safe(e, tmp, &vm->ioeventfds, list) {
		list_del(&e->list);
		eventfd_ctx_put(e->eventfd);
		kfree(e);
	}
}
