// SPDX-License-Identifier: GPL-2.0
/*
 * The convention of every variable-length ioctl argument (struct khv_cpuid,
 * khv_exit_stats): a header { u32 count; u32 pad; } then the entries.  On
 * output the count is the capacity on input and the number written on
 * return; too small a capacity is E2BIG with the count set to what is needed.
 */
#include <linux/kernel.h>
#include <linux/uaccess.h>

#include "khv.h"
#include "internal.h"

struct khv_array_hdr {
	u32 n;
	u32 pad;
};

static_assert(offsetof(struct khv_cpuid, entries) == sizeof(struct khv_array_hdr));
static_assert(offsetof(struct khv_exit_stats, entries) == sizeof(struct khv_array_hdr));
static_assert(offsetof(struct khv_msrs, entries) == sizeof(struct khv_array_hdr));

int khv_array_capacity(const void __user *argp, u32 *cap)
{
	struct khv_array_hdr hdr;

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (hdr.pad)
		return -EINVAL;
	*cap = hdr.n;
	return 0;
}

int khv_array_out(void __user *argp, u32 cap, const void *ents, u32 n, size_t esize)
{
	/* The count goes last, so a reader never sees it ahead of its entries. */
	if (cap >= n && copy_to_user(argp + sizeof(struct khv_array_hdr), ents, n * esize))
		return -EFAULT;
	if (copy_to_user(argp, &n, sizeof(n)))
		return -EFAULT;
	return cap < n ? -E2BIG : 0;
}
