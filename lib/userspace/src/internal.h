/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkhv internals: the export marker, handle checks and the ioctl wrappers
 * every source file uses.  Nothing here is installed.
 */
#ifndef LIBKHV_INTERNAL_H
#define LIBKHV_INTERNAL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "libkhv.h"

/*
 * The library is built with -fvisibility=hidden: only functions marked here
 * are part of libkhv.so's ABI, so helpers shared between source files never
 * leak into the dynamic symbol table.
 */
#define KHV_EXPORT __attribute__((visibility("default")))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ioctl() returning the result or -errno, so callers never read errno. */
int libkhv_ioctl_ptr(int fd, unsigned long req, void *arg);
int libkhv_ioctl_val(int fd, unsigned long req, unsigned long arg);

/*
 * For the "header + flexible array" ioctls (struct khv_cpuid,
 * struct khv_exit_stats): all start with __u32 nent, __u32 pad.  Asks for up
 * to max entries of esize bytes (max is capped at limit so a silly capacity
 * cannot make us allocate gigabytes), copies them to out and the count to
 * *nent.  On E2BIG *nent is the number the kernel needs.
 */
int libkhv_get_array(int fd, unsigned long req, size_t esize, uint32_t limit,
		     void *out, uint32_t max, uint32_t *nent);

/* NULL handle: -EINVAL.  Closed (fd < 0): -EBADF. */
static inline int libkhv_check_fd(const void *handle, int fd)
{
	if (!handle)
		return -EINVAL;
	return fd < 0 ? -EBADF : 0;
}

#define LIBKHV_CHECK_SYS(s)	libkhv_check_fd((s), (s) ? (s)->fd : -1)
#define LIBKHV_CHECK_VM(v)	libkhv_check_fd((v), (v) ? (v)->fd : -1)
#define LIBKHV_CHECK_VCPU(v)	libkhv_check_fd((v), (v) ? (v)->fd : -1)

#endif /* LIBKHV_INTERNAL_H */
