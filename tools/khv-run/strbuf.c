// SPDX-License-Identifier: GPL-2.0
/* Lines in fixed buffers (strbuf.h). */
#include <stdarg.h>
#include <stdio.h>

#include "strbuf.h"

void kr_put(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(*n < len ? buf + *n : NULL, *n < len ? len - *n : 0, fmt, ap);
	va_end(ap);
	if (r > 0)
		*n += r;
}

int kr_fail(char *why, size_t len, int code, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return code;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return code;
}
