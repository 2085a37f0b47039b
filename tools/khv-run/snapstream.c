// SPDX-License-Identifier: GPL-2.0
/*
 * The snapshot and migration stream's framing (snapstream.h): headers,
 * CRCs (zlib's crc32, the same as gzip's), and a reader that checks every
 * byte it is given before anything uses it.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "snapstream.h"

static int kr_fd_write(void *ctx, const void *buf, size_t n)
{
	int fd = *(int *)ctx;
	const char *p = buf;

	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

ssize_t kr_read_full(int fd, void *buf, size_t n, int (*wait)(void *opaque, int fd),
		     void *opaque)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k;
		int err = wait ? wait(opaque, fd) : 0;

		if (err)
			return err;
		k = read(fd, (char *)buf + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (!k)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static ssize_t kr_fd_read(void *ctx, void *buf, size_t n)
{
	return kr_read_full(*(int *)ctx, buf, n, NULL, NULL);
}

void kr_snap_io_fd(struct kr_snap_io *io, int *fd)
{
	io->write = kr_fd_write;
	io->read = kr_fd_read;
	io->ctx = fd;
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

/* CRC-32 of a section: its first 16 header bytes, then its payload. */
static uint32_t kr_crc(const uint8_t *hdr, const struct iovec *iov, unsigned int n)
{
	uLong crc = crc32(0L, Z_NULL, 0);
	unsigned int i;

	crc = crc32(crc, hdr, 16);
	for (i = 0; i < n; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t left = iov[i].iov_len;

		/* zlib takes lengths as uInt: feed big pieces in parts. */
		while (left) {
			uInt k = left > (1u << 30) ? 1u << 30 : (uInt)left;

			crc = crc32(crc, p, k);
			p += k;
			left -= k;
		}
	}
	return (uint32_t)crc;
}

static int kr_put(struct kr_snap_writer *w, const void *p, size_t n)
{
	if (w->err)
		return w->err;
	w->err = w->io.write(w->io.ctx, p, n);
	if (!w->err)
		w->offset += n;
	return w->err;
}

void kr_snap_write_begin(struct kr_snap_writer *w, const struct kr_snap_io *io)
{
	uint8_t h[KR_SNAP_HDR_SIZE] = { 0 };

	w->io = *io;
	w->offset = 0;
	w->err = 0;
	memcpy(h, KR_SNAP_MAGIC, 8);
	put32(h + 8, KR_SNAP_VERSION);
	kr_put(w, h, sizeof(h));
}

int kr_snap_write_section(struct kr_snap_writer *w, uint32_t type, uint32_t instance,
			  const struct iovec *iov, unsigned int n)
{
	uint8_t h[KR_SNAP_SECTION_SIZE] = { 0 };
	uint64_t len = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		len += iov[i].iov_len;
	if (len > KR_SNAP_MAX) {
		if (!w->err)
			w->err = -EMSGSIZE;
		return w->err;
	}
	put32(h, type);
	put32(h + 4, instance);
	put64(h + 8, len);
	put32(h + 16, kr_crc(h, iov, n));
	kr_put(w, h, sizeof(h));
	for (i = 0; i < n; i++)
		kr_put(w, iov[i].iov_base, iov[i].iov_len);
	return w->err;
}

int kr_snap_write_end(struct kr_snap_writer *w)
{
	return kr_snap_write_section(w, KR_SNAP_END, 0, NULL, 0);
}

__attribute__((format(printf, 2, 3)))
static int kr_refuse(struct kr_snap_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return -EPROTO;
}

/* Exactly n bytes, or a refusal naming what was cut short. */
static int kr_get(struct kr_snap_reader *r, void *p, size_t n, const char *what)
{
	ssize_t k = r->io.read(r->io.ctx, p, n);

	if (k < 0) {
		snprintf(r->why, sizeof(r->why), "reading %s at offset %llu: %s", what,
			 (unsigned long long)r->offset, strerror((int)-k));
		return (int)k;
	}
	r->offset += (uint64_t)k;
	if ((size_t)k < n)
		return kr_refuse(r, "truncated: the stream ends in %s at offset %llu", what,
				 (unsigned long long)r->offset);
	return 0;
}

int kr_snap_read_begin(struct kr_snap_reader *r, const struct kr_snap_io *io)
{
	uint8_t h[KR_SNAP_HDR_SIZE];
	int err;

	memset(r, 0, sizeof(*r));
	r->io = *io;
	err = kr_get(r, h, sizeof(h), "the header");
	if (err)
		return err;
	if (memcmp(h, KR_SNAP_MAGIC, 8))
		return kr_refuse(r, "not a khv snapshot or migration stream (no KHVSNAP magic)");
	r->version = get32(h + 8);
	if (r->version != KR_SNAP_VERSION)
		return kr_refuse(r, "stream version %u: this khv-run reads version %u",
				 r->version, KR_SNAP_VERSION);
	if (get32(h + 12) || get64(h + 16))
		return kr_refuse(r, "header flags or reserved bytes set: a newer format?");
	return 0;
}

int kr_snap_read_section(struct kr_snap_reader *r, uint32_t *type, uint32_t *instance,
			 void **payload, size_t *len, size_t max)
{
	uint8_t h[KR_SNAP_SECTION_SIZE];
	uint64_t at = r->offset, n;
	struct iovec v;
	void *p;
	int err;

	*payload = NULL;
	*len = 0;
	if (r->done)
		return kr_refuse(r, "read past the END section");
	err = kr_get(r, h, sizeof(h), "a section header");
	if (err)
		return err;
	*type = get32(h);
	*instance = get32(h + 4);
	n = get64(h + 8);
	if (get32(h + 20))
		return kr_refuse(r, "section at offset %llu: reserved bytes set",
				 (unsigned long long)at);
	if (max > KR_SNAP_MAX)
		max = KR_SNAP_MAX;
	if (n > max)
		return kr_refuse(r, "section type %u at offset %llu: %llu bytes, more than %zu",
				 *type, (unsigned long long)at, (unsigned long long)n, max);
	if (*type == KR_SNAP_END && n)
		return kr_refuse(r, "END section at offset %llu is not empty",
				 (unsigned long long)at);
	p = malloc(n ? n : 1);
	if (!p)
		return -ENOMEM;
	err = kr_get(r, p, n, "a section's payload");
	if (err) {
		free(p);
		return err;
	}
	v.iov_base = p;
	v.iov_len = n;
	if (kr_crc(h, &v, 1) != get32(h + 16)) {
		free(p);
		return kr_refuse(r, "section type %u at offset %llu: CRC mismatch (corrupt)",
				 *type, (unsigned long long)at);
	}
	if (*type == KR_SNAP_END)
		r->done = 1;
	*payload = p;
	*len = n;
	return 0;
}
