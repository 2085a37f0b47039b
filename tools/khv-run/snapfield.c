// SPDX-License-Identifier: GPL-2.0
/* A device's state as bytes (snapfield.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapfield.h"

void kr_sbuf_free(struct kr_sbuf *b)
{
	free(b->p);
	*b = (struct kr_sbuf){ 0 };
}

void kr_sbuf_bytes(struct kr_sbuf *b, const void *data, size_t n)
{
	if (b->oom || !n)
		return;
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *p;

		while (cap - b->len < n) {
			if (cap > SIZE_MAX / 2) {
				b->oom = true;
				return;
			}
			cap *= 2;
		}
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put_le(struct kr_sbuf *b, uint64_t v, unsigned int n)
{
	uint8_t d[8];

	for (unsigned int i = 0; i < n; i++)
		d[i] = v >> (8 * i);
	kr_sbuf_bytes(b, d, n);
}

void kr_sbuf_u8(struct kr_sbuf *b, uint8_t v)
{
	put_le(b, v, 1);
}

void kr_sbuf_u16(struct kr_sbuf *b, uint16_t v)
{
	put_le(b, v, 2);
}

void kr_sbuf_u32(struct kr_sbuf *b, uint32_t v)
{
	put_le(b, v, 4);
}

void kr_sbuf_u64(struct kr_sbuf *b, uint64_t v)
{
	put_le(b, v, 8);
}

void kr_sget_init(struct kr_sget *g, const void *p, size_t len, const char *what)
{
	*g = (struct kr_sget){ .p = p, .len = len, .what = what ? what : "state" };
}

int kr_sget_fail(struct kr_sget *g, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (g->bad)
		return -EPROTO;
	g->bad = true;
	n = snprintf(g->why, sizeof(g->why), "%s: ", g->what);
	if (n < 0 || (size_t)n >= sizeof(g->why))
		return -EPROTO;
	va_start(ap, fmt);
	vsnprintf(g->why + n, sizeof(g->why) - n, fmt, ap);
	va_end(ap);
	return -EPROTO;
}

void kr_sget_bytes(struct kr_sget *g, void *out, size_t n)
{
	if (g->bad || n > g->len - g->off) {
		kr_sget_fail(g, "truncated state");
		memset(out, 0, n);
		return;
	}
	memcpy(out, g->p + g->off, n);
	g->off += n;
}

static uint64_t get_le(struct kr_sget *g, unsigned int n)
{
	uint8_t d[8];
	uint64_t v = 0;

	kr_sget_bytes(g, d, n);
	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)d[i] << (8 * i);
	return v;
}

uint8_t kr_sget_u8(struct kr_sget *g)
{
	return get_le(g, 1);
}

uint16_t kr_sget_u16(struct kr_sget *g)
{
	return get_le(g, 2);
}

uint32_t kr_sget_u32(struct kr_sget *g)
{
	return get_le(g, 4);
}

uint64_t kr_sget_u64(struct kr_sget *g)
{
	return get_le(g, 8);
}

bool kr_sget_bool(struct kr_sget *g)
{
	uint8_t v = kr_sget_u8(g);

	if (v > 1)
		kr_sget_fail(g, "a flag reads %u", v);
	return v == 1;
}

int kr_sget_begin(struct kr_sget *g, uint32_t version)
{
	uint32_t v = kr_sget_u32(g);

	if (g->bad)
		return -EPROTO;
	if (v != version)
		return kr_sget_fail(g, "state version %u, this khv-run reads %u", v, version);
	return 0;
}

int kr_sget_done(struct kr_sget *g)
{
	if (g->bad)
		return -EPROTO;
	if (g->off != g->len)
		return kr_sget_fail(g, "%zu bytes of state left over", g->len - g->off);
	return 0;
}
