// SPDX-License-Identifier: GPL-2.0
/* What the kernel loaders (linux.c, pvh.c) share. */
#include <stdarg.h>
#include <stdio.h>

#include "boot.h"

int kr_boot_fail(char why[KR_WHY_LEN], int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, KR_WHY_LEN, fmt, ap);
	va_end(ap);
	return err;
}

bool kr_boot_fits(const struct kr_mem *m, uint64_t gpa, uint64_t len)
{
	if (gpa + len < gpa)
		return false;
	if (gpa + len <= m->low_size)
		return true;
	return gpa >= KR_4G && gpa - KR_4G + len <= m->high_size;
}
