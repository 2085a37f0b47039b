// SPDX-License-Identifier: LGPL-2.1-or-later
/* The system fd: /dev/khv itself. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

KHV_EXPORT int khv_open(struct khv_sys *sys, const char *path)
{
	int fd, ret;

	if (!sys)
		return -EINVAL;
	sys->fd = -1;
	sys->api_version = 0;

	if (!path) {
		path = getenv("KHV_DEVICE");
		if (!path || !*path)
			path = LIBKHV_DEFAULT_DEVICE;
	}

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	/* Anything but a khv device fails here (ENOTTY for /dev/null). */
	ret = libkhv_ioctl_val(fd, KHV_GET_API_VERSION, 0);
	if (ret >= 0 && ret != KHV_API_VERSION)
		ret = -EPROTO;
	if (ret < 0) {
		close(fd);
		return ret;
	}

	sys->fd = fd;
	sys->api_version = ret;
	return 0;
}

KHV_EXPORT void khv_close(struct khv_sys *sys)
{
	if (!sys)
		return;
	if (sys->fd >= 0)
		close(sys->fd);
	sys->fd = -1;
	sys->api_version = 0;
}

KHV_EXPORT int khv_check_extension(struct khv_sys *sys, unsigned int cap)
{
	int ret = LIBKHV_CHECK_SYS(sys);

	if (ret)
		return ret;
	return libkhv_ioctl_val(sys->fd, KHV_CHECK_EXTENSION, cap);
}

KHV_EXPORT int khv_get_msr_index_list(struct khv_sys *sys, uint32_t *out, uint32_t max,
				      uint32_t *n)
{
	int ret = LIBKHV_CHECK_SYS(sys);

	if (ret)
		return ret;
	return libkhv_get_array(sys->fd, KHV_GET_MSR_INDEX_LIST, sizeof(*out), UINT32_MAX / 8,
				out, max, n);
}

KHV_EXPORT int khv_get_supported_cpuid(struct khv_sys *sys, struct khv_cpuid_entry *out,
				       uint32_t max, uint32_t *nent)
{
	int ret = LIBKHV_CHECK_SYS(sys);

	if (ret)
		return ret;
	return libkhv_get_array(sys->fd, KHV_GET_SUPPORTED_CPUID, sizeof(*out),
				KHV_MAX_CPUID_ENTRIES, out, max, nent);
}
