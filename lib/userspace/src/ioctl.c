// SPDX-License-Identifier: LGPL-2.1-or-later
/* The two ways libkhv talks to the kernel: plain ioctls and array getters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"

/* Header shared by struct khv_cpuid and struct khv_exit_stats. */
struct libkhv_array_hdr {
	__u32 nent;
	__u32 pad;
};

_Static_assert(sizeof(struct libkhv_array_hdr) == offsetof(struct khv_cpuid, entries),
	       "khv_cpuid header layout");
_Static_assert(sizeof(struct libkhv_array_hdr) == offsetof(struct khv_exit_stats, entries),
	       "khv_exit_stats header layout");

static int libkhv_result(int ret)
{
	if (ret >= 0)
		return ret;
	/* A failing ioctl always sets errno; never turn a failure into success. */
	return errno > 0 ? -errno : -EIO;
}

int libkhv_ioctl_ptr(int fd, unsigned long req, void *arg)
{
	return libkhv_result(ioctl(fd, req, arg));
}

int libkhv_ioctl_val(int fd, unsigned long req, unsigned long arg)
{
	return libkhv_result(ioctl(fd, req, arg));
}

int libkhv_get_array(int fd, unsigned long req, size_t esize, uint32_t limit,
		     void *out, uint32_t max, uint32_t *nent)
{
	struct libkhv_array_hdr *hdr;
	uint32_t cap = max < limit ? max : limit;
	uint32_t got;
	int ret;

	if (!nent || (max && !out))
		return -EINVAL;

	hdr = calloc(1, sizeof(*hdr) + (size_t)cap * esize);
	if (!hdr)
		return -ENOMEM;
	hdr->nent = cap;

	ret = libkhv_ioctl_ptr(fd, req, hdr);
	if (ret == -E2BIG) {
		*nent = hdr->nent;	/* the number needed */
		goto out;
	}
	if (ret < 0)
		goto out;

	got = hdr->nent;
	if (got > cap) {
		/* The kernel claims to have written past our buffer. */
		ret = -EPROTO;
		goto out;
	}
	if (got)
		memcpy(out, hdr + 1, (size_t)got * esize);
	*nent = got;
	ret = 0;
out:
	free(hdr);
	return ret;
}
