/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Building a line in a caller's fixed buffer (option canonical forms,
 * --study lines): no allocation, so it may run on a vCPU's exit path.
 */
#ifndef KR_STRBUF_H
#define KR_STRBUF_H

#include <stddef.h>

/*
 * Append to buf[*n..len) what fits of the formatted text (NUL terminated
 * when len > 0); *n counts what the whole would take, so *n >= len after
 * the last call means it was cut.
 */
__attribute__((format(printf, 4, 5)))
void kr_put(char *buf, size_t len, size_t *n, const char *fmt, ...);

/*
 * The reason something failed, into why[0..len) (nothing when len is 0),
 * returning code: for `return kr_fail(why, len, -EIO, "...", ...)`.
 */
__attribute__((format(printf, 4, 5)))
int kr_fail(char *why, size_t len, int code, const char *fmt, ...);

#endif /* KR_STRBUF_H */
