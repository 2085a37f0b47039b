// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Links against an installed or freshly built libkhv (shared or static)
 * and calls into it: the header set is complete and the symbols resolve.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libkhv.h>

int main(void)
{
	struct khv_sys sys;
	int ret = khv_open(&sys, "/nonexistent/khv");

	if (ret != -ENOENT || strcmp(khv_exit_reason_name(KHV_EXIT_HLT), "HLT") ||
	    sizeof(struct khv_run) != 312) {
		printf("smoke: FAILED (khv_open: %d)\n", ret);
		return 1;
	}
	printf("smoke: ok (%s)\n", khv_strerror(ret));
	return 0;
}
