// SPDX-License-Identifier: LGPL-2.1-or-later
/* Names of exit reasons and internal errors, and khv-flavoured strerror. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "internal.h"

static const char *const exit_names[KHV_EXIT_MAX] = {
	[KHV_EXIT_UNKNOWN]		= "UNKNOWN",
	[KHV_EXIT_IO]			= "IO",
	[KHV_EXIT_MMIO]			= "MMIO",
	[KHV_EXIT_HLT]			= "HLT",
	[KHV_EXIT_SHUTDOWN]		= "SHUTDOWN",
	[KHV_EXIT_FAIL_ENTRY]		= "FAIL_ENTRY",
	[KHV_EXIT_INTERNAL_ERROR]	= "INTERNAL_ERROR",
	[KHV_EXIT_INTR]			= "INTR",
	[KHV_EXIT_HYPERCALL]		= "HYPERCALL",
	[KHV_EXIT_IRQ_WINDOW_OPEN]	= "IRQ_WINDOW_OPEN",
	[KHV_EXIT_STUDY]		= "STUDY",
};

KHV_EXPORT const char *khv_exit_reason_name(uint32_t reason)
{
	if (reason < KHV_EXIT_MAX && exit_names[reason])
		return exit_names[reason];
	return "INVALID";
}

KHV_EXPORT const char *khv_internal_error_name(uint32_t suberror)
{
	switch (suberror) {
	case KHV_INTERNAL_ERROR_EMULATION:
		return "EMULATION";
	case KHV_INTERNAL_ERROR_UNHANDLED_EXIT:
		return "UNHANDLED_EXIT";
	case KHV_INTERNAL_ERROR_DELIVERY_EV:
		return "DELIVERY_EV";
	case KHV_INTERNAL_ERROR_MMU:
		return "MMU";
	case KHV_INTERNAL_ERROR_HOST_STATE:
		return "HOST_STATE";
	default:
		return "UNKNOWN";
	}
}

struct errmsg {
	int err;
	const char *msg;
};

/* What each errno means when it comes back from khv (see Documentation/khv/uapi.rst). */
static const struct errmsg errmsgs[] = {
	{ ENODEV, "no usable VT-x/AMD-V: the CPU lacks it, the BIOS disabled it, or another hypervisor (kvm) owns it" },
	{ ENOENT, "not found: the khv device node is missing (is khv.ko loaded?), or khv does not know this MSR" },
	{ EACCES, "permission denied: the khv device node is not accessible to this user" },
	{ EPERM, "operation not permitted" },
	{ EPROTO, "khv API version mismatch between libkhv and the khv module, or the module answered something libkhv cannot understand" },
	{ ENOTTY, "not a khv device: the file does not understand khv ioctls" },
	{ EINVAL, "invalid argument: a bad handle, size, alignment, flag, non-zero reserved field, or register state the CPU refuses" },
	{ EEXIST, "already exists: a vCPU with this id, or a memory slot overlapping another one" },
	{ ENOMEM, "out of memory (host kernel or process)" },
	{ EFAULT, "bad address: a pointer passed to khv, or a memory slot's host memory, is not accessible" },
	{ E2BIG, "buffer too small: the number of entries needed was returned" },
	{ EBUSY, "busy: the vCPU or the virtualization hardware is in use" },
	{ EINTR, "interrupted: KHV_RUN returned because a signal is pending (or immediate_exit was set)" },
	{ EBADF, "bad file descriptor: the handle is closed or was never opened" },
	{ ENXIO, "no such guest address: nothing is mapped there" },
	{ ENOSPC, "no space: all memory slots or vCPU ids are in use" },
	{ EAGAIN, "try again: a transient condition, repeat the call" },
	{ EIO, "I/O error: khv reported an unexpected internal failure" },
	{ EOPNOTSUPP, "not supported by this khv backend or CPU" },
	{ EMFILE, "too many open files in this process" },
	{ ENFILE, "too many open files in the system" },
	{ ESRCH, "no such object" },
	{ ERANGE, "value out of range" },
};

KHV_EXPORT const char *khv_strerror(int err)
{
	size_t i;

	if (err == 0)
		return "success";
	if (err == INT_MIN)
		return "unknown error";
	if (err < 0)
		err = -err;
	for (i = 0; i < ARRAY_SIZE(errmsgs); i++)
		if (errmsgs[i].err == err)
			return errmsgs[i].msg;
	/* glibc's strerror() never returns NULL ("Unknown error N"). */
	return strerror(err);
}
