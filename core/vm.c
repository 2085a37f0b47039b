// SPDX-License-Identifier: GPL-2.0
/*
 * VM lifecycle and the VM fd.
 *
 * A VM is freed when its last user goes: the VM fd holds one reference and
 * every vCPU fd holds one.  vCPUs therefore live exactly as long as the VM,
 * which keeps vm->vcpus[] stable for khv_kick_all_and_wait().
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "khv.h"
#include "internal.h"
#include "../irq/irqchip.h"

static void khv_vm_destroy(struct khv_vm *vm)
{
	int i;

	/* Off the list first: KHV_OPEN_STATS finds it no more. */
	khv_vms_del(vm);
	/* First: its release zaps, and kicks vCPUs that must still exist. */
	khv_mmu_notifier_unregister(vm);
	/* irqfds and the PIT's timer deliver to vCPUs: stop them before they go. */
	khv_irqfd_release(vm);
	khv_ioeventfd_release(vm);
	khv_irqchip_destroy(vm);
	for (i = 0; i < KHV_MAX_VCPUS; i++)
		if (vm->vcpus[i])
			khv_vcpu_free(vm->vcpus[i]);
	khv_ops->vm_destroy(vm);
	/* Statistics files keep the last figures (the MMU's too). */
	khv_vm_stats_gone(vm);
	/* No vCPU can run now: unpin everything and free the tables. */
	khv_mmu_destroy(&vm->mmu);
	khv_memslots_free(vm);
	mmdrop(vm->mm);
	kfree(vm);
}

void khv_vm_put(struct khv_vm *vm)
{
	if (refcount_dec_and_test(&vm->users))
		khv_vm_destroy(vm);
}

static int khv_vm_release(struct inode *inode, struct file *filp)
{
	khv_vm_put(filp->private_data);
	return 0;
}

static long khv_vm_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct khv_vm *vm = filp->private_data;
	void __user *argp = (void __user *)arg;

	/* Guest memory is the creator's address space: no other mm may drive it. */
	if (vm->mm != current->mm)
		return -EIO;

	switch (cmd) {
	case KHV_CREATE_VCPU:
		return khv_vcpu_create(vm, arg);
	case KHV_SET_USER_MEMORY_REGION: {
		struct khv_userspace_memory_region r;

		if (copy_from_user(&r, argp, sizeof(r)))
			return -EFAULT;
		return khv_set_memory_region(vm, &r);
	}
	case KHV_GET_DIRTY_LOG:
	case KHV_CLEAR_DIRTY_LOG:
		return khv_dirty_log_ioctl(vm, argp, cmd == KHV_CLEAR_DIRTY_LOG);
	case KHV_GET_CLOCK: {
		struct khv_clock_data c;
		int r = khv_pvclock_get_clock(vm, &c);

		if (!r && copy_to_user(argp, &c, sizeof(c)))
			r = -EFAULT;
		return r;
	}
	case KHV_SET_CLOCK: {
		struct khv_clock_data c;

		if (copy_from_user(&c, argp, sizeof(c)))
			return -EFAULT;
		return khv_pvclock_set_clock(vm, &c);
	}
	case KHV_CREATE_IRQCHIP:
		if (arg)
			return -EINVAL;
		return khv_irqchip_create(vm);
	case KHV_IRQ_LINE: {
		struct khv_irq_level l;

		if (copy_from_user(&l, argp, sizeof(l)))
			return -EFAULT;
		if (l.reserved || l.level > 1)
			return -EINVAL;
		return khv_irqchip_line(vm, l.irq, l.level);
	}
	case KHV_SIGNAL_MSI: {
		struct khv_msi m;

		if (copy_from_user(&m, argp, sizeof(m)))
			return -EFAULT;
		return khv_irqchip_msi(vm, &m);
	}
	case KHV_IRQFD: {
		struct khv_irqfd f;

		if (copy_from_user(&f, argp, sizeof(f)))
			return -EFAULT;
		return khv_irqfd(vm, &f);
	}
	case KHV_IOEVENTFD: {
		struct khv_ioeventfd e;

		if (copy_from_user(&e, argp, sizeof(e)))
			return -EFAULT;
		return khv_ioeventfd(vm, &e);
	}
	case KHV_GET_IRQCHIP: {
		struct khv_irqchip_state *st = kzalloc(sizeof(*st), GFP_KERNEL);
		long r;

		if (!st)
			return -ENOMEM;
		r = khv_irqchip_get_state(vm, st);
		if (!r && copy_to_user(argp, st, sizeof(*st)))
			r = -EFAULT;
		kfree(st);
		return r;
	}
	case KHV_SET_IRQCHIP: {
		struct khv_irqchip_state *st = memdup_user(argp, sizeof(*st));
		long r;

		if (IS_ERR(st))
			return PTR_ERR(st);
		r = khv_irqchip_set_state(vm, st);
		kfree(st);
		return r;
	}
	case KHV_GET_STATS_FD:
		if (arg)
			return -EINVAL;
		return khv_stats_fd(vm->stats, NULL, 0);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations khv_vm_fops = {
	.owner		= THIS_MODULE,
	.release	= khv_vm_release,
	.unlocked_ioctl	= khv_vm_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

int khv_vm_create(void)
{
	struct khv_vm *vm;
	int err, fd, mode;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return -ENOMEM;
	mutex_init(&vm->lock);
	init_rwsem(&vm->slots_lock);
	spin_lock_init(&vm->slots_spin);
	spin_lock_init(&vm->irqfds_lock);
	INIT_LIST_HEAD(&vm->irqfds);
	mutex_init(&vm->resample_lock);
	INIT_LIST_HEAD(&vm->resamplers);
	INIT_LIST_HEAD(&vm->ioeventfds);
	khv_pvclock_vm_init(vm);
	refcount_set(&vm->users, 1);
	vm->mm = current->mm;
	mmgrab(vm->mm);

	err = khv_vm_stats_create(vm);
	if (err)
		goto err_free;
	err = khv_mmu_init(&vm->mmu, khv_ops->mmu_format, khv_ops->mmu_levels());
	if (err)
		goto err_stats;
	mode = khv_dirty_log_mode();
	vm->mmu.hw_dirty = mode >= KHV_DIRTY_LOG_BY_CPU;
	vm->mmu.hw_log = mode == KHV_DIRTY_LOG_BY_PML;
	err = khv_ops->vm_init(vm);
	if (err)
		goto err_mmu;
	err = khv_mmu_notifier_register(vm);
	if (err)
		goto err_backend;
	khv_vms_add(vm);
	fd = anon_inode_getfd("khv-vm", &khv_vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto err_list;
	}
	return fd;

err_list:
	khv_vms_del(vm);
	khv_mmu_notifier_unregister(vm);
err_backend:
	khv_ops->vm_destroy(vm);
err_mmu:
	khv_mmu_destroy(&vm->mmu);
err_stats:
	khv_vm_stats_gone(vm);
err_free:
	mmdrop(vm->mm);
	kfree(vm);
	return err;
}
