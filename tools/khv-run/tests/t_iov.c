// SPDX-License-Identifier: GPL-2.0
/* iov.c: ranges of a scatter list, across its pieces and past its end. */
#include <string.h>

#include "../iov.h"
#include "t.h"

KR_TEST(iov_ranges)
{
	uint8_t a[3], b[1], c[5], out[16];
	struct iovec v[] = { { a, sizeof(a) }, { b, 0 }, { c, sizeof(c) } };
	struct iovec s[3];
	const uint8_t src[] = "ABCDEFGH";

	CHECK_EQ(kr_iov_copy(v, 3, 0, (void *)src, 8, true), 8);
	CHECK(!memcmp(a, "ABC", 3) && !memcmp(c, "DEFGH", 5));
	CHECK_EQ(kr_iov_copy(v, 3, 2, out, 16, false), 6);	/* cut at the end */
	CHECK(!memcmp(out, "CDEFGH", 6));
	CHECK_EQ(kr_iov_copy(v, 3, 9, out, 4, false), 0);	/* past the end */
	CHECK_EQ(kr_iov_slice(v, 3, 1, 4, s), 2);
	CHECK(s[0].iov_base == a + 1 && s[0].iov_len == 2);
	CHECK(s[1].iov_base == c && s[1].iov_len == 2);
	CHECK_EQ(kr_iov_slice(v, 3, 3, UINT64_MAX, s), 1);	/* the empty piece skipped */
	CHECK(s[0].iov_base == c && s[0].iov_len == 5);
	kr_iov_zero(v, 3, 2, 3);
	CHECK(!memcmp(a, "AB\0", 3) && !memcmp(c, "\0\0FGH", 5));
}
