// SPDX-License-Identifier: LGPL-2.1-or-later
/* Exit reason and internal error names, khv_strerror. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "test.h"

static const char *const expected[KHV_EXIT_MAX] = {
	"UNKNOWN", "IO", "MMIO", "HLT", "SHUTDOWN", "FAIL_ENTRY",
	"INTERNAL_ERROR", "INTR", "HYPERCALL", "IRQ_WINDOW_OPEN", "STUDY",
};

static void exit_names(void)
{
	uint32_t i, j;
	int distinct = 1;

	CHECK_EQ(KHV_EXIT_MAX, 11);
	for (i = 0; i < KHV_EXIT_MAX; i++) {
		CHECK_STR(khv_exit_reason_name(i), expected[i]);
		for (j = 0; j < i; j++)
			distinct &= strcmp(khv_exit_reason_name(i), khv_exit_reason_name(j)) != 0;
	}
	CHECK(distinct);
	CHECK_STR(khv_exit_reason_name(KHV_EXIT_IO), "IO");
	CHECK_STR(khv_exit_reason_name(KHV_EXIT_HLT), "HLT");
	CHECK_STR(khv_exit_reason_name(KHV_EXIT_MAX), "INVALID");
	CHECK_STR(khv_exit_reason_name(UINT32_MAX), "INVALID");

	CHECK_STR(khv_internal_error_name(KHV_INTERNAL_ERROR_EMULATION), "EMULATION");
	CHECK_STR(khv_internal_error_name(KHV_INTERNAL_ERROR_UNHANDLED_EXIT), "UNHANDLED_EXIT");
	CHECK_STR(khv_internal_error_name(KHV_INTERNAL_ERROR_DELIVERY_EV), "DELIVERY_EV");
	CHECK_STR(khv_internal_error_name(KHV_INTERNAL_ERROR_MMU), "MMU");
	CHECK_STR(khv_internal_error_name(KHV_INTERNAL_ERROR_HOST_STATE), "HOST_STATE");
	CHECK_STR(khv_internal_error_name(0), "UNKNOWN");
	CHECK_STR(khv_internal_error_name(99), "UNKNOWN");
}

static void errors(void)
{
	int e, ok = 1;

	/* Either sign, every errno Linux has and beyond: always a sentence. */
	for (e = -200; e <= 200; e++) {
		const char *m = khv_strerror(e);

		ok &= m != NULL && m[0] != '\0';
	}
	CHECK(ok);
	CHECK(khv_strerror(INT_MIN) != NULL);
	CHECK(khv_strerror(INT_MAX) != NULL);
	CHECK_STR(khv_strerror(0), "success");
	CHECK_STR(khv_strerror(-ENODEV), khv_strerror(ENODEV));
	CHECK(strstr(khv_strerror(-ENODEV), "VT-x/AMD-V") != NULL);
	CHECK(strstr(khv_strerror(-EPROTO), "version") != NULL);
	CHECK(strstr(khv_strerror(-ENOENT), "khv.ko") != NULL);
	CHECK(strstr(khv_strerror(-E2BIG), "entries") != NULL);
	CHECK(strstr(khv_strerror(-EINTR), "signal") != NULL);
	CHECK(strstr(khv_strerror(-ENOTTY), "khv") != NULL);
	/* The khv-specific ones differ from libc's wording. */
	for (e = 1; e < 40; e++)
		if (e == EINVAL || e == EEXIST || e == ENOMEM || e == EFAULT || e == E2BIG ||
		    e == EBUSY || e == EINTR || e == EBADF || e == ENOENT || e == ENXIO)
			CHECK(strcmp(khv_strerror(-e), strerror(e)) != 0);
	/* Others fall back to strerror. */
	CHECK_STR(khv_strerror(-EPIPE), strerror(EPIPE));
}

void test_names(void)
{
	exit_names();
	errors();
}
