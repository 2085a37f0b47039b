// SPDX-License-Identifier: GPL-2.0
/*
 * Per-vCPU statistics: every hardware exit, by the backend's exit code,
 * every exit to userspace, by KHV_EXIT_* reason, the work khv did around
 * entries (KHV_KSTAT_*, e.g. L1D flushes), where the time went (guest,
 * kernel, userspace, asleep) and, per exit reason, a log2 histogram of the
 * cycles from the exit to the next entry, split by whether the exit was
 * handled in the kernel or went through userspace.
 *
 * Counting is a plain increment on the exit path (the vCPU mutex makes it
 * single-writer).  The counters live in a block of their own (struct
 * khv_vcpu_stats, refcounted): a statistics file (core/stats_fd.c) keeps
 * reading it after its vCPU and VM are gone.  KHV_GET_EXIT_STATS reports
 * the non-zero counters with their names.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "khv.h"
#include "internal.h"
#include "trace.h"

/*
 * exit_timing: two RDTSCs per exit and a histogram update.  On by default
 * (make bench measures its cost, Documentation/khv/observe.rst); off, the
 * counters still count and the times stand still.
 */
bool khv_exit_timing = true;
module_param_named(exit_timing, khv_exit_timing, bool, 0644);
MODULE_PARM_DESC(exit_timing, "Time every exit (latency histograms per exit reason)");

static const char *const khv_user_exit_names[KHV_EXIT_MAX] = {
	[KHV_EXIT_UNKNOWN]		= "user_unknown",
	[KHV_EXIT_IO]			= "user_io",
	[KHV_EXIT_MMIO]			= "user_mmio",
	[KHV_EXIT_HLT]			= "user_hlt",
	[KHV_EXIT_SHUTDOWN]		= "user_shutdown",
	[KHV_EXIT_FAIL_ENTRY]		= "user_fail_entry",
	[KHV_EXIT_INTERNAL_ERROR]	= "user_internal_error",
	[KHV_EXIT_INTR]			= "user_intr",
	[KHV_EXIT_HYPERCALL]		= "user_hypercall",
	[KHV_EXIT_IRQ_WINDOW_OPEN]	= "user_irq_window_open",
	[KHV_EXIT_STUDY]		= "user_study",
};

static const char *const khv_kernel_stat_names[KHV_KSTAT_MAX] = {
	[KHV_KSTAT_L1D_FLUSH]		= "l1d_flush",
	[KHV_KSTAT_HALT_SLEEP]		= "halt_sleep",
	[KHV_KSTAT_IRQ_INJECTED]	= "irq_injected",
	[KHV_KSTAT_HALT_POLL_HIT]	= "halt_poll_hit",
	[KHV_KSTAT_HALT_POLL_MISS]	= "halt_poll_miss",
	[KHV_KSTAT_TLB_FLUSH]		= "tlb_flush",
	[KHV_KSTAT_NPF_MAPPED]		= "npf_mapped",
	[KHV_KSTAT_NPF_MMIO]		= "npf_mmio",
	[KHV_KSTAT_IRQ_PIC]		= "irq_pic",
	[KHV_KSTAT_INJ_INTR]		= "inject_interrupt",
	[KHV_KSTAT_INJ_NMI]		= "inject_nmi",
	[KHV_KSTAT_INJ_EXCEPTION]	= "inject_exception",
	[KHV_KSTAT_INJ_SOFT]		= "inject_soft",
	[KHV_KSTAT_INJ_AGAIN]		= "inject_again",
	[KHV_KSTAT_INJ_USER]		= "inject_user",
	[KHV_KSTAT_NPF_DIRTY]		= "npf_dirty",
	[KHV_KSTAT_PML_LOGGED]		= "pml_logged",
};

const char *khv_user_exit_name(u32 reason)
{
	return reason < KHV_EXIT_MAX ? khv_user_exit_names[reason] : NULL;
}

const char *khv_kstat_name(u32 kstat)
{
	return kstat < KHV_KSTAT_MAX ? khv_kernel_stat_names[kstat] : NULL;
}

/*
 * An event delivered at an entry (the VMCB's EVENTINJ or the VMCS's
 * entry interruption information, which share a layout): traced and
 * counted by type.
 */
void khv_note_inject(struct khv_vcpu *vcpu, u32 info, u32 error, bool again)
{
	static const u8 by_type[8] = {
		[0] = KHV_KSTAT_INJ_INTR, [2] = KHV_KSTAT_INJ_NMI,
		[3] = KHV_KSTAT_INJ_EXCEPTION, [4] = KHV_KSTAT_INJ_SOFT,
		[5] = KHV_KSTAT_INJ_SOFT, [6] = KHV_KSTAT_INJ_SOFT,
		[1] = KHV_KSTAT_INJ_EXCEPTION, [7] = KHV_KSTAT_INJ_EXCEPTION,
	};

	trace_khv_inject(vcpu->id, info, error, again);
	khv_kstat(vcpu, by_type[(info >> 8) & 7]);
	if (again)
		khv_kstat(vcpu, KHV_KSTAT_INJ_AGAIN);
}

static void khv_vcpu_stats_free(struct kref *ref)
{
	kvfree(container_of(ref, struct khv_vcpu_stats, ref));
}

void khv_vcpu_stats_put(struct khv_vcpu_stats *s)
{
	if (s)
		kref_put(&s->ref, khv_vcpu_stats_free);
}

/* About 135 KB, mostly histograms: kvzalloc, charged to the VMM. */
int khv_vcpu_stats_create(struct khv_vcpu *vcpu)
{
	vcpu->stats = kvzalloc(sizeof(*vcpu->stats), GFP_KERNEL_ACCOUNT);
	if (!vcpu->stats)
		return -ENOMEM;
	kref_init(&vcpu->stats->ref);
	return 0;
}

/* The vCPU is created: its VM's statistics take a reference on its block. */
void khv_vcpu_stats_publish(struct khv_vcpu *vcpu)
{
	struct khv_vm_stats *vs = vcpu->vm->stats;

	kref_get(&vcpu->stats->ref);
	spin_lock(&vs->lock);
	vs->vcpu[vcpu->id] = vcpu->stats;
	spin_unlock(&vs->lock);
}

static void khv_vm_stats_free(struct kref *ref)
{
	struct khv_vm_stats *vs = container_of(ref, struct khv_vm_stats, ref);
	int i;

	for (i = 0; i < KHV_MAX_VCPUS; i++)
		khv_vcpu_stats_put(vs->vcpu[i]);
	kfree(vs);
}

void khv_vm_stats_put(struct khv_vm_stats *vs)
{
	if (vs)
		kref_put(&vs->ref, khv_vm_stats_free);
}

int khv_vm_stats_create(struct khv_vm *vm)
{
	struct khv_vm_stats *vs = kzalloc(sizeof(*vs), GFP_KERNEL_ACCOUNT);

	if (!vs)
		return -ENOMEM;
	kref_init(&vs->ref);
	spin_lock_init(&vs->lock);
	vs->vm = vm;
	vm->stats = vs;
	return 0;
}

/*
 * The VM goes (its MMU still set up): statistics files keep its last
 * figures, and read "alive" 0 from now on.
 */
void khv_vm_stats_gone(struct khv_vm *vm)
{
	struct khv_vm_stats *vs = vm->stats;

	if (!vs)
		return;
	spin_lock(&vs->lock);
	khv_vm_stats_mmu(vs);
	vs->vm = NULL;
	spin_unlock(&vs->lock);
	vm->stats = NULL;
	khv_vm_stats_put(vs);
}

/* Under vs->lock: refresh the MMU's figures while the VM is there. */
void khv_vm_stats_mmu(struct khv_vm_stats *vs)
{
	struct khv_vm *vm = vs->vm;

	if (!vm)
		return;
	vs->mmu_pinned = READ_ONCE(vm->mmu.nr_pinned);
	vs->mmu_tables = READ_ONCE(vm->mmu.nr_tables);
	vs->mmu_large = READ_ONCE(vm->mmu.nr_large);
}

/* The name of a hardware exit code, for tracing. */
const char *khv_exit_name(u32 hw_code)
{
	const char *name;
	u32 code;

	if (!khv_ops->exit_stat_info(khv_ops->exit_stat_index(hw_code), &code, &name))
		return "unknown";
	return name;
}

static u32 khv_fill_stats(struct khv_vcpu *vcpu, struct khv_exit_stat *out, u32 max)
{
	u32 n = 0, i;

	for (i = 0; i < KHV_MAX_EXIT_STATS; i++) {
		const char *name;
		u32 code;

		if (!vcpu->stats->hw_exits[i] || !khv_ops->exit_stat_info(i, &code, &name))
			continue;
		if (n < max) {
			out[n].kind = KHV_STAT_HW;
			out[n].code = code;
			out[n].count = vcpu->stats->hw_exits[i];
			strscpy(out[n].name, name, sizeof(out[n].name));
		}
		n++;
	}
	for (i = 0; i < KHV_EXIT_MAX; i++) {
		if (!vcpu->stats->user_exits[i])
			continue;
		if (n < max) {
			out[n].kind = KHV_STAT_USER;
			out[n].code = i;
			out[n].count = vcpu->stats->user_exits[i];
			strscpy(out[n].name, khv_user_exit_names[i], sizeof(out[n].name));
		}
		n++;
	}
	for (i = 0; i < KHV_KSTAT_MAX; i++) {
		if (!vcpu->stats->kernel_stats[i])
			continue;
		if (n < max) {
			out[n].kind = KHV_STAT_KERNEL;
			out[n].code = i;
			out[n].count = vcpu->stats->kernel_stats[i];
			strscpy(out[n].name, khv_kernel_stat_names[i], sizeof(out[n].name));
		}
		n++;
	}
	return n;
}

long khv_exit_stats_ioctl(struct khv_vcpu *vcpu, struct khv_exit_stats __user *argp)
{
	const u32 max = KHV_MAX_EXIT_STATS + KHV_EXIT_MAX + KHV_KSTAT_MAX;
	struct khv_exit_stat *ents;
	u32 cap;
	long r;

	r = khv_array_capacity(argp, &cap);
	if (r)
		return r;
	ents = kcalloc(max, sizeof(*ents), GFP_KERNEL);
	if (!ents)
		return -ENOMEM;
	r = khv_array_out(argp, cap, ents, khv_fill_stats(vcpu, ents, max), sizeof(*ents));
	kfree(ents);
	return r;
}
