// SPDX-License-Identifier: GPL-2.0
/* Byte ranges of a scatter list (iov.h). */
#include <string.h>

#include "iov.h"

/* fn on each piece of bytes [pos, pos + len) of iov[0..n), in order. */
static void kr_iov_walk(const struct iovec *iov, unsigned int n, uint64_t pos, uint64_t len,
			void (*fn)(uint8_t *base, uint64_t l, void *ctx), void *ctx)
{
	for (unsigned int i = 0; i < n && len; i++) {
		uint64_t l;

		if (pos >= iov[i].iov_len) {
			pos -= iov[i].iov_len;
			continue;
		}
		l = iov[i].iov_len - pos < len ? iov[i].iov_len - pos : len;
		fn((uint8_t *)iov[i].iov_base + pos, l, ctx);
		len -= l;
		pos = 0;
	}
}

struct kr_iov_slicing {
	struct iovec *out;
	unsigned int k;
};

static void kr_iov_slice_one(uint8_t *base, uint64_t l, void *ctx)
{
	struct kr_iov_slicing *s = ctx;

	s->out[s->k++] = (struct iovec){ base, l };
}

unsigned int kr_iov_slice(const struct iovec *iov, unsigned int n, uint64_t pos, uint64_t len,
			  struct iovec *out)
{
	struct kr_iov_slicing s = { out, 0 };

	kr_iov_walk(iov, n, pos, len, kr_iov_slice_one, &s);
	return s.k;
}

struct kr_iov_copying {
	uint8_t *p;
	bool to_iov;
};

static void kr_iov_copy_one(uint8_t *base, uint64_t l, void *ctx)
{
	struct kr_iov_copying *c = ctx;

	if (c->to_iov)
		memcpy(base, c->p, l);
	else
		memcpy(c->p, base, l);
	c->p += l;
}

uint64_t kr_iov_copy(const struct iovec *iov, unsigned int n, uint64_t pos, void *buf,
		     uint64_t len, bool to_iov)
{
	struct kr_iov_copying c = { buf, to_iov };

	kr_iov_walk(iov, n, pos, len, kr_iov_copy_one, &c);
	return c.p - (uint8_t *)buf;
}

static void kr_iov_zero_one(uint8_t *base, uint64_t l, void *ctx)
{
	(void)ctx;
	memset(base, 0, l);
}

void kr_iov_zero(const struct iovec *iov, unsigned int n, uint64_t pos, uint64_t len)
{
	kr_iov_walk(iov, n, pos, len, kr_iov_zero_one, NULL);
}
