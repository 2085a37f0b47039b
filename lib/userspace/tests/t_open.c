// SPDX-License-Identifier: LGPL-2.1-or-later
/* khv_open on paths that are not a khv device, and $KHV_DEVICE. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_khv.h"

void test_open(void)
{
	struct khv_sys sys = { .fd = 1234, .api_version = 7 };
	const char *saved = getenv("KHV_DEVICE");
	char *saved_copy = saved ? strdup(saved) : NULL;
	int fds = t_count_fds();

	fake_reset();

	CHECK_EQ(khv_open(&sys, "/nonexistent/khv"), -ENOENT);
	CHECK_EQ(sys.fd, -1);
	CHECK_EQ(sys.api_version, 0);

	/* /dev/null opens fine but knows no khv ioctl. */
	CHECK_EQ(khv_open(&sys, "/dev/null"), -ENOTTY);
	CHECK_EQ(sys.fd, -1);
	CHECK_EQ(fake.calls, 1);
	CHECK_EQ(fake.last_req, KHV_GET_API_VERSION);

	CHECK_EQ(khv_open(&sys, "/"), -EISDIR);

	/* path NULL: $KHV_DEVICE first... */
	setenv("KHV_DEVICE", "/dev/null", 1);
	CHECK_EQ(khv_open(&sys, NULL), -ENOTTY);
	setenv("KHV_DEVICE", "/nonexistent/khv", 1);
	CHECK_EQ(khv_open(&sys, NULL), -ENOENT);
	/* ...an explicit path wins over it... */
	CHECK_EQ(khv_open(&sys, "/dev/null"), -ENOTTY);
	/* ...and an empty or missing one means /dev/khv. */
	if (access(LIBKHV_DEFAULT_DEVICE, F_OK)) {
		setenv("KHV_DEVICE", "", 1);
		CHECK_EQ(khv_open(&sys, NULL), -ENOENT);
		unsetenv("KHV_DEVICE");
		CHECK_EQ(khv_open(&sys, NULL), -ENOENT);
	} else {
		printf("# %s exists: default-path checks skipped\n", LIBKHV_DEFAULT_DEVICE);
	}

	if (saved_copy)
		setenv("KHV_DEVICE", saved_copy, 1);
	else
		unsetenv("KHV_DEVICE");
	free(saved_copy);

	/* Every failure closed what it opened. */
	CHECK_EQ(t_count_fds(), fds);
	khv_close(&sys);
	CHECK_EQ(sys.fd, -1);
}
