// SPDX-License-Identifier: GPL-2.0
/*
 * Per-vCPU exit statistics: every hardware exit, by the backend's exit code,
 * every exit to userspace, by KHV_EXIT_* reason, and the work khv did around
 * entries (KHV_KSTAT_*, e.g. L1D flushes).  Counting is a plain
 * increment on the exit path (the vCPU mutex makes it single-writer); the
 * ioctl reports the non-zero counters with their names.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "khv.h"
#include "internal.h"

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
};

static const char *const khv_kernel_stat_names[KHV_KSTAT_MAX] = {
	[KHV_KSTAT_L1D_FLUSH]		= "l1d_flush",
	[KHV_KSTAT_HALT_SLEEP]		= "halt_sleep",
	[KHV_KSTAT_IRQ_INJECTED]	= "irq_injected",
	[KHV_KSTAT_HALT_POLL_HIT]	= "halt_poll_hit",
	[KHV_KSTAT_HALT_POLL_MISS]	= "halt_poll_miss",
};

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

		if (!vcpu->hw_exits[i] || !khv_ops->exit_stat_info(i, &code, &name))
			continue;
		if (n < max) {
			out[n].kind = KHV_STAT_HW;
			out[n].code = code;
			out[n].count = vcpu->hw_exits[i];
			strscpy(out[n].name, name, sizeof(out[n].name));
		}
		n++;
	}
	for (i = 0; i < KHV_EXIT_MAX; i++) {
		if (!vcpu->user_exits[i])
			continue;
		if (n < max) {
			out[n].kind = KHV_STAT_USER;
			out[n].code = i;
			out[n].count = vcpu->user_exits[i];
			strscpy(out[n].name, khv_user_exit_names[i], sizeof(out[n].name));
		}
		n++;
	}
	for (i = 0; i < KHV_KSTAT_MAX; i++) {
		if (!vcpu->kernel_stats[i])
			continue;
		if (n < max) {
			out[n].kind = KHV_STAT_KERNEL;
			out[n].code = i;
			out[n].count = vcpu->kernel_stats[i];
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
