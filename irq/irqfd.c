// SPDX-License-Identifier: GPL-2.0
/*
 * irqfd: an eventfd that raises an interrupt of the in-kernel irqchip when
 * it is signalled, so that a device backend (a vhost worker, an I/O thread
 * of the VMM) interrupts the guest with a write(2) and no khv system call.
 *
 * khv waits on the eventfd with its own wait-queue entry: eventfd_signal()
 * calls khv_irqfd_wakeup() with the eventfd's wait-queue lock held and
 * interrupts off, and the interrupt goes in right there; the irqchip takes
 * only spinlocks (irqchip.h), so that is allowed, and it makes an irqfd as
 * fast as a KHV_IRQ_LINE.  Lock order: the eventfd's wait-queue lock, then
 * those of irqchip.h.
 *
 * Teardown: an irqfd is freed only by its shutdown work, on khv_irqfd_wq,
 * which takes it off the eventfd's wait queue first.  Whoever takes it off
 * vm->irqfds (KHV_IRQFD_DEASSIGN, VM destruction, the eventfd's last close
 * seen as EPOLLHUP) queues that work; deassign and destruction then flush
 * the queue, so the irqfd is gone when they return.
 *
 * Resampling (level-triggered devices): the line stays up until the guest's
 * EOI of the vector of the IOAPIC pin; khv_irqfd_eoi() lowers it and
 * signals the resample eventfd before the IOAPIC looks at the line again.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/file.h>
#include <linux/eventfd.h>
#include <linux/poll.h>
#include <linux/workqueue.h>

#include "../core/khv.h"
#include "irqchip.h"

struct khv_vm_irqfd {
	struct khv_vm *vm;
	struct list_head list;		/* vm->irqfds, under vm->irqfds_lock */
	struct list_head resample_list;	/* vm->resamplers, under vm->resample_lock */
	struct eventfd_ctx *eventfd;
	struct eventfd_ctx *resamplefd;	/* KHV_IRQFD_RESAMPLE, or NULL */
	wait_queue_entry_t wait;
	poll_table pt;
	struct work_struct shutdown;
	u32 irq;
	bool msi;
	struct khv_irq_msg msg;		/* KHV_IRQFD_MSI */
};

static struct workqueue_struct *khv_irqfd_wq;

/* Usually with the eventfd's wait-queue lock held, interrupts off. */
static void khv_irqfd_fire(struct khv_vm_irqfd *irqfd)
{
	struct khv_irqchip *chip = irqfd->vm->irqchip;

	if (irqfd->msi) {
		khv_irqchip_deliver(irqfd->vm, &irqfd->msg);
		return;
	}
	khv_irqchip_set(chip, irqfd->irq, true);
	if (!irqfd->resamplefd)
		khv_irqchip_set(chip, irqfd->irq, false);
}

static void khv_irqfd_shutdown(struct work_struct *work)
{
	struct khv_vm_irqfd *irqfd = container_of(work, struct khv_vm_irqfd, shutdown);
	u64 cnt;

	/* Off the eventfd's queue: no wakeup runs or will run after this. */
	eventfd_ctx_remove_wait_queue(irqfd->eventfd, &irqfd->wait, &cnt);
	if (irqfd->resamplefd) {
		mutex_lock(&irqfd->vm->resample_lock);
		list_del_init(&irqfd->resample_list);
		mutex_unlock(&irqfd->vm->resample_lock);
		khv_irqchip_set(irqfd->vm->irqchip, irqfd->irq, false);
		eventfd_ctx_put(irqfd->resamplefd);
	}
	eventfd_ctx_put(irqfd->eventfd);
	kfree(irqfd);
}

/* Take irqfd off the VM's list and have it freed; irqfds_lock held. */
static void khv_irqfd_deactivate(struct khv_vm_irqfd *irqfd)
{
	if (list_empty(&irqfd->list))
		return;		/* someone else did */
	list_del_init(&irqfd->list);
	irqfd->vm->nr_irqfds--;
	queue_work(khv_irqfd_wq, &irqfd->shutdown);
}

static int khv_irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode, int sync, void *key)
{
	struct khv_vm_irqfd *irqfd = container_of(wait, struct khv_vm_irqfd, wait);
	__poll_t flags = key_to_poll(key);

	if (flags & EPOLLIN) {
		u64 cnt;

		eventfd_ctx_do_read(irqfd->eventfd, &cnt);
		khv_irqfd_fire(irqfd);
	}
	if (flags & EPOLLHUP) {
		struct khv_vm *vm = irqfd->vm;
		unsigned long f;

		/* The eventfd's last reference is going: so is the irqfd. */
		spin_lock_irqsave(&vm->irqfds_lock, f);
		khv_irqfd_deactivate(irqfd);
		spin_unlock_irqrestore(&vm->irqfds_lock, f);
	}
	return 0;
}

static void khv_irqfd_queue_proc(struct file *file, wait_queue_head_t *wqh, poll_table *pt)
{
	struct khv_vm_irqfd *irqfd = container_of(pt, struct khv_vm_irqfd, pt);

	add_wait_queue(wqh, &irqfd->wait);
}

static int khv_irqfd_check(struct khv_vm *vm, const struct khv_irqfd *a)
{
	if ((a->flags & ~KHV_IRQFD_FLAGS_ALL) || a->pad || a->reserved[0] || a->reserved[1])
		return -EINVAL;
	if (a->flags & KHV_IRQFD_MSI) {
		if (a->flags & KHV_IRQFD_RESAMPLE || a->irq)
			return -EINVAL;
		if ((a->msi_address >> 20) != 0xfee || (a->msi_address & 3))
			return -EINVAL;
	} else {
		if (a->irq >= KHV_IOAPIC_PINS || a->irq == KHV_PIC_CASCADE_IRQ ||
		    a->msi_address || a->msi_data)
			return -EINVAL;
	}
	if (!(a->flags & KHV_IRQFD_RESAMPLE) && a->resamplefd)
		return -EINVAL;
	return 0;
}

static int khv_irqfd_assign(struct khv_vm *vm, const struct khv_irqfd *a)
{
	struct khv_vm_irqfd *irqfd, *other;
	struct fd f;
	__poll_t events;
	int err;

	irqfd = kzalloc(sizeof(*irqfd), GFP_KERNEL_ACCOUNT);
	if (!irqfd)
		return -ENOMEM;
	irqfd->vm = vm;
	irqfd->irq = a->irq;
	irqfd->msi = a->flags & KHV_IRQFD_MSI;
	if (irqfd->msi)
		khv_irqchip_msi_msg(a->msi_address, a->msi_data, &irqfd->msg);
	INIT_LIST_HEAD(&irqfd->list);
	INIT_LIST_HEAD(&irqfd->resample_list);
	INIT_WORK(&irqfd->shutdown, khv_irqfd_shutdown);

	f = fdget(a->fd);
	if (!f.file) {
		err = -EBADF;
		goto err_free;
	}
	irqfd->eventfd = eventfd_ctx_fileget(f.file);
	if (IS_ERR(irqfd->eventfd)) {
		err = PTR_ERR(irqfd->eventfd);
		irqfd->eventfd = NULL;
		goto err_fdput;
	}
	if (a->flags & KHV_IRQFD_RESAMPLE) {
		irqfd->resamplefd = eventfd_ctx_fdget(a->resamplefd);
		if (IS_ERR(irqfd->resamplefd)) {
			err = PTR_ERR(irqfd->resamplefd);
			irqfd->resamplefd = NULL;
			goto err_ctx;
		}
	}
	init_waitqueue_func_entry(&irqfd->wait, khv_irqfd_wakeup);
	init_poll_funcptr(&irqfd->pt, khv_irqfd_queue_proc);

	spin_lock_irq(&vm->irqfds_lock);
	err = vm->nr_irqfds >= KHV_MAX_IRQFDS ? -ENOSPC : 0;
	list_for_each_entry(other, &vm->irqfds, list) {
		/* One eventfd, one irqfd; one resampling irqfd per line. */
		if (other->eventfd == irqfd->eventfd ||
		    (other->resamplefd && irqfd->resamplefd && other->irq == irqfd->irq))
			err = -EBUSY;
	}
	if (err) {
		spin_unlock_irq(&vm->irqfds_lock);
		goto err_resample;
	}
	list_add_tail(&irqfd->list, &vm->irqfds);
	vm->nr_irqfds++;
	spin_unlock_irq(&vm->irqfds_lock);
	/*
	 * Nothing can shut it down meanwhile: deassign waits for vm->lock,
	 * and EPOLLHUP needs it on the eventfd's queue, which is next.
	 */
	if (irqfd->resamplefd) {
		mutex_lock(&vm->resample_lock);
		list_add_tail(&irqfd->resample_list, &vm->resamplers);
		mutex_unlock(&vm->resample_lock);
	}

	/*
	 * On the eventfd's wait queue.  Signalled already: fire now; the
	 * count is consumed with the next signal's.
	 */
	events = vfs_poll(f.file, &irqfd->pt);
	if (events & EPOLLIN)
		khv_irqfd_fire(irqfd);
	fdput(f);
	return 0;

err_resample:
	if (irqfd->resamplefd)
		eventfd_ctx_put(irqfd->resamplefd);
err_ctx:
	eventfd_ctx_put(irqfd->eventfd);
err_fdput:
	fdput(f);
err_free:
	kfree(irqfd);
	return err;
}

static int khv_irqfd_deassign(struct khv_vm *vm, const struct khv_irqfd *a)
{
	struct khv_vm_irqfd *irqfd, *tmp;
	struct eventfd_ctx *ctx;
	int err = -ENOENT;

	ctx = eventfd_ctx_fdget(a->fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	spin_lock_irq(&vm->irqfds_lock);
	list_for_each_entry_safe(irqfd, tmp, &vm->irqfds, list) {
		if (irqfd->eventfd == ctx && irqfd->irq == a->irq) {
			khv_irqfd_deactivate(irqfd);
			err = 0;
		}
	}
	spin_unlock_irq(&vm->irqfds_lock);
	eventfd_ctx_put(ctx);
	/* Gone, off the eventfd's queue, its line down, when this returns. */
	flush_workqueue(khv_irqfd_wq);
	return err;
}

int khv_irqfd(struct khv_vm *vm, const struct khv_irqfd *a)
{
	int err;

	/* Pairs with the release in khv_irqchip_create(). */
	if (!smp_load_acquire(&vm->irqchip))
		return -ENXIO;
	err = khv_irqfd_check(vm, a);
	if (err)
		return err;
	mutex_lock(&vm->lock);
	if (a->flags & KHV_IRQFD_DEASSIGN)
		err = khv_irqfd_deassign(vm, a);
	else
		err = khv_irqfd_assign(vm, a);
	mutex_unlock(&vm->lock);
	return err;
}

/*
 * The guest's EOI of vector, in the vCPU's thread before the IOAPIC sees
 * it: resampling irqfds on pins whose redirection entry has that vector
 * and waits for the EOI (remote IRR) lower their line and tell their
 * device.  The resamplers have their own list under a mutex: signalling
 * an eventfd takes its wait-queue lock, whose wakeups (irqfds') take
 * irqfds_lock, so that one cannot be held here.
 */
void khv_irqfd_eoi(struct khv_vm *vm, u8 vector)
{
	struct khv_irqchip *chip = vm->irqchip;
	struct khv_vm_irqfd *irqfd;
	unsigned long flags;
	u32 pins = 0;
	int pin;

	if (list_empty_careful(&vm->resamplers))
		return;
	spin_lock_irqsave(&chip->ioapic.lock, flags);
	for (pin = 0; pin < KHV_IOAPIC_PINS; pin++) {
		u64 e = chip->ioapic.redir[pin];

		if ((e & KHV_IOAPIC_VECTOR) == vector && (e & KHV_IOAPIC_REMOTE_IRR))
			pins |= BIT(pin);
	}
	spin_unlock_irqrestore(&chip->ioapic.lock, flags);
	if (!pins)
		return;
	mutex_lock(&vm->resample_lock);
	list_for_each_entry(irqfd, &vm->resamplers, resample_list) {
		u32 pin_of = irqfd->irq == 0 ? 2 : irqfd->irq;

		if (!(pins & BIT(pin_of)))
			continue;
		khv_irqchip_set(chip, irqfd->irq, false);
		eventfd_signal(irqfd->resamplefd, 1);
	}
	mutex_unlock(&vm->resample_lock);
}

/* VM destruction, before the irqchip goes: every irqfd off and freed. */
void khv_irqfd_release(struct khv_vm *vm)
{
	struct khv_vm_irqfd *irqfd, *tmp;

	spin_lock_irq(&vm->irqfds_lock);
	list_for_each_entry_safe(irqfd, tmp, &vm->irqfds, list)
		khv_irqfd_deactivate(irqfd);
	spin_unlock_irq(&vm->irqfds_lock);
	flush_workqueue(khv_irqfd_wq);
}

int khv_irqfd_module_init(void)
{
	khv_irqfd_wq = alloc_workqueue("khv-irqfd", 0, 0);
	return khv_irqfd_wq ? 0 : -ENOMEM;
}

void khv_irqfd_module_exit(void)
{
	destroy_workqueue(khv_irqfd_wq);
}
