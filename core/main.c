// SPDX-License-Identifier: GPL-2.0
/*
 * khv module entry: backend choice, per-CPU enablement through CPU hotplug,
 * and the /dev/khv system fd.
 *
 * Module lifetime: every fd khv hands out (/dev/khv, VM, vCPU) has fops with
 * .owner = THIS_MODULE, so an open fd pins the module and rmmod is refused
 * while any VM exists.
 */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/cpuhotplug.h>
#include <linux/uaccess.h>

#include "khv.h"
#include "internal.h"
#include "../irq/irqchip.h"

static enum cpuhp_state khv_cpuhp_state;

static int khv_cpu_online(unsigned int cpu)
{
	int err;

	/* AP hotplug callbacks run on @cpu itself, in a bound thread. */
	preempt_disable();
	err = khv_ops->cpu_enable();
	preempt_enable();
	if (err)
		pr_err("khv: cannot enable %s on CPU %u (%d)\n", khv_ops->name, cpu, err);
	return err;
}

static int khv_cpu_offline(unsigned int cpu)
{
	preempt_disable();
	khv_ops->cpu_disable();
	khv_tsc_aux_drop();
	preempt_enable();
	return 0;
}

static long khv_check_extension(unsigned long cap)
{
	switch (cap) {
	case KHV_CAP_NR_VCPUS:
		return KHV_MAX_VCPUS;
	case KHV_CAP_NR_MEMSLOTS:
		return KHV_MAX_MEMSLOTS;
	case KHV_CAP_READONLY_MEM:
	case KHV_CAP_IMMEDIATE_EXIT:
	case KHV_CAP_HYPERCALL:
	case KHV_CAP_EXIT_STATS:
	case KHV_CAP_XSAVE:
	case KHV_CAP_INJECT_EVENT:
	case KHV_CAP_IRQCHIP:
	case KHV_CAP_SIGNAL_MSI:
	case KHV_CAP_MP_STATE:
	case KHV_CAP_IRQFD:
	case KHV_CAP_IOEVENTFD:
	case KHV_CAP_STATE:
	case KHV_CAP_PVCLOCK:
	case KHV_CAP_STATS_FD:
	case KHV_CAP_SAVE_STATE:
		return 1;
	case KHV_CAP_DIRTY_LOG:
		return khv_dirty_log_mode();
	case KHV_CAP_VENDOR:
		return khv_ops->vendor;
	case KHV_CAP_NPT_LEVELS:
		return khv_ops->mmu_levels();
	case KHV_CAP_STUDY:
		return khv_study_offered();
	default:
		return 0;
	}
}

static long khv_dev_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case KHV_GET_API_VERSION:
		return arg ? -EINVAL : KHV_API_VERSION;
	case KHV_CREATE_VM:
		return arg ? -EINVAL : khv_vm_create();
	case KHV_CHECK_EXTENSION:
		return khv_check_extension(arg);
	case KHV_GET_VCPU_MMAP_SIZE:
		return arg ? -EINVAL : KHV_RUN_MMAP_SIZE;
	case KHV_GET_SUPPORTED_CPUID:
		return khv_get_supported_cpuid((void __user *)arg);
	case KHV_GET_MSR_INDEX_LIST:
		return khv_get_msr_index_list((void __user *)arg);
	case KHV_GET_VMS:
		return khv_get_vms((void __user *)arg);
	case KHV_OPEN_STATS:
		return khv_open_stats((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations khv_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= khv_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice khv_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "khv",
	.fops	= &khv_dev_fops,
	.mode	= 0660,
};

static int __init khv_init(void)
{
	int err;

	err = khv_backend_ident();
	if (err)
		return err;
	err = khv_cpuid_init();
	if (err)
		return err;
	err = khv_irqfd_module_init();
	if (err)
		goto err_cpuid;
	err = khv_ops->setup();
	if (err)
		goto err_irqfd;
	err = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "khv:online",
				khv_cpu_online, khv_cpu_offline);
	if (err < 0)
		goto err_setup;
	khv_cpuhp_state = err;
	khv_vcpu_module_init();
	err = misc_register(&khv_dev);
	if (err)
		goto err_cpuhp;
	pr_info("khv: %s backend, %d-level %s, /dev/khv ready\n", khv_ops->name,
		khv_ops->mmu_levels(), khv_ops->mmu_format->name);
	return 0;

err_cpuhp:
	khv_vcpu_module_exit();
	cpuhp_remove_state(khv_cpuhp_state);
err_setup:
	khv_ops->teardown();
err_irqfd:
	khv_irqfd_module_exit();
err_cpuid:
	khv_cpuid_exit();
	return err;
}

static void __exit khv_exit(void)
{
	misc_deregister(&khv_dev);
	khv_vcpu_module_exit();
	cpuhp_remove_state(khv_cpuhp_state);
	khv_ops->teardown();
	khv_irqfd_module_exit();
	khv_cpuid_exit();
	pr_info("khv: unloaded\n");
}

module_init(khv_init);
module_exit(khv_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("khv: a hardware-assisted hypervisor (AMD-V, Intel VT-x)");
