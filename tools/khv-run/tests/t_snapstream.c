// SPDX-License-Identifier: GPL-2.0
/*
 * snapstream.c: a stream written and read back; every kind of damage a
 * file or a socket can bring refused with its reason; a source that fails.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../snapstream.h"
#include "t.h"

/* Memory as the stream's source and sink. */
struct mem {
	uint8_t buf[4096];
	size_t len, pos;
	int fail;		/* -errno returned by every call */
};

static int mem_write(void *ctx, const void *p, size_t n)
{
	struct mem *m = ctx;

	if (m->fail)
		return m->fail;
	if (n > sizeof(m->buf) - m->len)
		return -ENOSPC;
	memcpy(m->buf + m->len, p, n);
	m->len += n;
	return 0;
}

static ssize_t mem_read(void *ctx, void *p, size_t n)
{
	struct mem *m = ctx;

	if (m->fail)
		return m->fail;
	if (n > m->len - m->pos)
		n = m->len - m->pos;
	memcpy(p, m->buf + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static void mem_io(struct kr_snap_io *io, struct mem *m)
{
	io->write = mem_write;
	io->read = mem_read;
	io->ctx = m;
}

/* A stream: a MACHINE section of "abc", a VCPU 7 section in two pieces, END. */
static void write_sample(struct mem *m)
{
	struct iovec a = { (void *)"abc", 3 };
	struct iovec b[2] = { { (void *)"0123", 4 }, { (void *)"456", 3 } };
	struct kr_snap_writer w;
	struct kr_snap_io io;

	memset(m, 0, sizeof(*m));
	mem_io(&io, m);
	kr_snap_write_begin(&w, &io);
	CHECK_EQ(kr_snap_write_section(&w, KR_SNAP_MACHINE, 0, &a, 1), 0);
	CHECK_EQ(kr_snap_write_section(&w, KR_SNAP_VCPU, 7, b, 2), 0);
	CHECK_EQ(kr_snap_write_end(&w), 0);
	CHECK_EQ(w.offset, 24 + 24 + 3 + 24 + 7 + 24);
	CHECK_EQ(m->len, w.offset);
}

/* Read all of m; the first refusal's errno (0: read to END), why in r. */
static int read_all(struct mem *m, struct kr_snap_reader *r, unsigned int *sections)
{
	struct kr_snap_io io;
	uint32_t type, inst;
	size_t len;
	void *p;
	int err;

	m->pos = 0;
	*sections = 0;
	mem_io(&io, m);
	err = kr_snap_read_begin(r, &io);
	while (!err) {
		err = kr_snap_read_section(r, &type, &inst, &p, &len, KR_SNAP_MAX);
		free(p);
		if (err)
			break;
		++*sections;
		if (type == KR_SNAP_END)
			return 0;
	}
	return err;
}

KR_TEST(snapstream_round_trip)
{
	struct kr_snap_reader r;
	struct kr_snap_io io;
	uint32_t type, inst;
	struct mem m;
	size_t len;
	void *p;

	write_sample(&m);
	mem_io(&io, &m);
	CHECK_EQ(kr_snap_read_begin(&r, &io), 0);
	CHECK_EQ(r.version, KR_SNAP_VERSION);
	CHECK_EQ(kr_snap_read_section(&r, &type, &inst, &p, &len, 100), 0);
	CHECK(type == KR_SNAP_MACHINE && inst == 0 && len == 3 && !memcmp(p, "abc", 3));
	free(p);
	CHECK_EQ(kr_snap_read_section(&r, &type, &inst, &p, &len, 100), 0);
	CHECK(type == KR_SNAP_VCPU && inst == 7 && len == 7 && !memcmp(p, "0123456", 7));
	free(p);
	CHECK_EQ(kr_snap_read_section(&r, &type, &inst, &p, &len, 100), 0);
	CHECK(type == KR_SNAP_END && len == 0 && r.done);
	free(p);
	CHECK_EQ(kr_snap_read_section(&r, &type, &inst, &p, &len, 100), -EPROTO);
	CHECK_STR(r.why, "read past the END section");
	CHECK(!p);
	CHECK_EQ(r.offset, m.len);
}

KR_TEST(snapstream_refused)
{
	struct kr_snap_reader r;
	unsigned int n, cut;
	struct mem m;

	/* Every truncation: refused, never read as a whole stream. */
	write_sample(&m);
	for (cut = 0; cut < m.len; cut++) {
		struct mem t = m;

		t.len = cut;
		CHECK_EQ(read_all(&t, &r, &n), -EPROTO);
		CHECK(strstr(r.why, "truncated") || strstr(r.why, "offset"));
	}
	/* Every single-bit flip of the sample: refused (magic, version, CRC...). */
	for (cut = 0; cut < m.len * 8; cut++) {
		struct mem t = m;

		t.buf[cut / 8] ^= (uint8_t)(1u << (cut % 8));
		if (read_all(&t, &r, &n) != -EPROTO) {
			CHECK_EQ(cut, ~0u);	/* names the bit a damaged stream got through at */
			break;
		}
	}
	write_sample(&m);
	m.buf[0] = 'X';
	CHECK_EQ(read_all(&m, &r, &n), -EPROTO);
	CHECK_STR(r.why, "not a khv snapshot or migration stream (no KHVSNAP magic)");
	write_sample(&m);
	m.buf[8] = 2;
	CHECK_EQ(read_all(&m, &r, &n), -EPROTO);
	CHECK_STR(r.why, "stream version 2: this khv-run reads version 1");
	write_sample(&m);
	m.buf[24 + 24 + 1] ^= 1;		/* payload of the first section */
	CHECK_EQ(read_all(&m, &r, &n), -EPROTO);
	CHECK_STR(r.why, "section type 1 at offset 24: CRC mismatch (corrupt)");
	CHECK_EQ(n, 0);
	write_sample(&m);
	m.len -= 24;				/* no END */
	CHECK_EQ(read_all(&m, &r, &n), -EPROTO);
	CHECK_STR(r.why, "truncated: the stream ends in a section header at offset 82");
	CHECK_EQ(n, 2);
}

KR_TEST(snapstream_limits)
{
	struct kr_snap_reader r;
	struct kr_snap_writer w;
	struct kr_snap_io io;
	uint32_t type, inst;
	struct iovec big;
	struct mem m;
	size_t len;
	void *p;

	/* A section longer than the reader allows: refused before any allocation. */
	write_sample(&m);
	mem_io(&io, &m);
	CHECK_EQ(kr_snap_read_begin(&r, &io), 0);
	CHECK_EQ(kr_snap_read_section(&r, &type, &inst, &p, &len, 2), -EPROTO);
	CHECK_STR(r.why, "section type 1 at offset 24: 3 bytes, more than 2");
	/* A writer refuses more than KR_SNAP_MAX and writes nothing more. */
	memset(&m, 0, sizeof(m));
	mem_io(&io, &m);
	kr_snap_write_begin(&w, &io);
	big.iov_base = m.buf;
	big.iov_len = (size_t)KR_SNAP_MAX + 1;
	CHECK_EQ(kr_snap_write_section(&w, KR_SNAP_RAM, 0, &big, 1), -EMSGSIZE);
	CHECK_EQ(kr_snap_write_end(&w), -EMSGSIZE);
	CHECK_EQ(m.len, 24);
	/* A sink and a source that fail: their errno, the reason said. */
	memset(&m, 0, sizeof(m));
	m.fail = -EPIPE;
	kr_snap_write_begin(&w, &io);
	CHECK_EQ(w.err, -EPIPE);
	CHECK_EQ(kr_snap_read_begin(&r, &io), -EPIPE);
	CHECK_STR(r.why, "reading the header at offset 0: Broken pipe");
}
