// SPDX-License-Identifier: GPL-2.0
/*
 * snapram.c: guest memory through the stream and back, all of it and by a
 * dirty bitmap, zero runs as headers only; every malformed or foreign RAM
 * section refused without a byte written.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../snapram.h"
#include "t.h"

#define NPAGES	600u
#define GPA	0x100000ull

struct sink {
	uint8_t *buf;
	size_t len;
};

static int sink_write(void *ctx, const void *p, size_t n)
{
	struct sink *s = ctx;
	uint8_t *b = realloc(s->buf, s->len + n);

	if (!b)
		return -ENOMEM;
	memcpy(b + s->len, p, n);
	s->buf = b;
	s->len += n;
	return 0;
}

struct source {
	const uint8_t *buf;
	size_t len, pos;
};

static ssize_t source_read(void *ctx, void *p, size_t n)
{
	struct source *s = ctx;

	if (n > s->len - s->pos)
		n = s->len - s->pos;
	memcpy(p, s->buf + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

/* Page i of the pattern: zero in runs, else bytes saying which page and pass. */
static void fill(uint8_t *mem, unsigned int pass)
{
	unsigned int i;

	for (i = 0; i < NPAGES; i++) {
		bool zero = (i >= 20 && i < 290) || i % 7 == 3;

		memset(mem + (size_t)i * KR_RAM_PAGE, zero ? 0 : (int)(i + pass) | 1, KR_RAM_PAGE);
	}
}

/* Write region src (all pages, or dirty ones), read every section into dst. */
static unsigned int through_stream(const struct kr_ram_region *src, const uint64_t *dirty,
				   const struct kr_ram_region *dst, uint64_t *sent, uint64_t *zero)
{
	struct sink out = { 0 };
	struct source in;
	struct kr_snap_io io = { .write = sink_write, .read = source_read };
	struct kr_snap_writer w;
	struct kr_snap_reader r;
	unsigned int sections = 0;
	uint32_t type, inst;
	char why[160];
	size_t len;
	void *p;

	io.ctx = &out;
	kr_snap_write_begin(&w, &io);
	CHECK_EQ(kr_ram_write(&w, src, dirty, sent, zero), 0);
	CHECK_EQ(kr_snap_write_end(&w), 0);
	in.buf = out.buf;
	in.len = out.len;
	in.pos = 0;
	io.ctx = &in;
	CHECK_EQ(kr_snap_read_begin(&r, &io), 0);
	for (;;) {
		CHECK_EQ(kr_snap_read_section(&r, &type, &inst, &p, &len, KR_SNAP_MAX), 0);
		if (type == KR_SNAP_END) {
			free(p);
			break;
		}
		CHECK_EQ(type, KR_SNAP_RAM);
		CHECK(len <= KR_RAM_HDR + (size_t)KR_RAM_RUN * KR_RAM_PAGE);
		CHECK_EQ(kr_ram_load(p, len, dst, 1, why, sizeof(why)), 0);
		free(p);
		sections++;
	}
	free(out.buf);
	return sections;
}

KR_TEST(snapram_all_and_dirty)
{
	uint8_t *a = malloc((size_t)NPAGES * KR_RAM_PAGE), *b = malloc((size_t)NPAGES * KR_RAM_PAGE);
	struct kr_ram_region src = { GPA, (uint64_t)NPAGES * KR_RAM_PAGE, a };
	struct kr_ram_region dst = { GPA, (uint64_t)NPAGES * KR_RAM_PAGE, b };
	uint64_t dirty[(NPAGES + 63) / 64] = { 0 }, sent, zero;
	unsigned int i, sections, zeros = 0;

	CHECK(a && b);
	fill(a, 0);
	memset(b, 0xcc, (size_t)NPAGES * KR_RAM_PAGE);	/* zero runs must clear it */
	for (i = 0; i < NPAGES; i++)
		zeros += a[(size_t)i * KR_RAM_PAGE] == 0;
	sections = through_stream(&src, NULL, &dst, &sent, &zero);
	CHECK(!memcmp(a, b, (size_t)NPAGES * KR_RAM_PAGE));
	CHECK_EQ(sent, NPAGES);
	CHECK_EQ(zero, zeros);
	/* Runs change at every zero page, and a zero run of 270 pages takes two. */
	CHECK(sections > 40 && sections < NPAGES / 2);

	/* A second pass: only the dirty pages travel. */
	fill(a, 1);
	for (i = 0; i < NPAGES; i += 5)
		dirty[i / 64] |= 1ull << (i % 64);
	memcpy(b, a, (size_t)NPAGES * KR_RAM_PAGE);
	for (i = 0; i < NPAGES; i += 5)
		memset(b + (size_t)i * KR_RAM_PAGE, 0xee, KR_RAM_PAGE);	/* stale */
	through_stream(&src, dirty, &dst, &sent, &zero);
	CHECK_EQ(sent, NPAGES / 5);
	CHECK(!memcmp(a, b, (size_t)NPAGES * KR_RAM_PAGE));

	/* Through a bounce buffer (a migration's live passes): the same pages arrive. */
	src.bounce = malloc((size_t)KR_RAM_RUN * KR_RAM_PAGE);
	CHECK(src.bounce != NULL);
	fill(a, 2);
	memset(b, 0xcc, (size_t)NPAGES * KR_RAM_PAGE);
	through_stream(&src, NULL, &dst, &sent, &zero);
	CHECK_EQ(sent, NPAGES);
	CHECK(!memcmp(a, b, (size_t)NPAGES * KR_RAM_PAGE));
	free(src.bounce);
	free(a);
	free(b);
}

static size_t section(uint8_t *p, uint64_t gpa, uint32_t pages, uint32_t flags, size_t data)
{
	memcpy(p, &gpa, 8);
	memcpy(p + 8, &pages, 4);
	memcpy(p + 12, &flags, 4);
	memset(p + KR_RAM_HDR, 0x5a, data);
	return KR_RAM_HDR + data;
}

KR_TEST(snapram_refused)
{
	static uint8_t mem[16 * KR_RAM_PAGE], before[sizeof(mem)];
	static uint8_t buf[KR_RAM_HDR + 4 * KR_RAM_PAGE];
	struct kr_ram_region regions[2] = {
		{ 0, 8 * KR_RAM_PAGE, mem },
		{ 0x100000, 8 * KR_RAM_PAGE, mem + 8 * KR_RAM_PAGE },
	};
	char why[160];
	size_t n;

	memset(mem, 0x11, sizeof(mem));
	memcpy(before, mem, sizeof(mem));
	CHECK_EQ(kr_ram_load(buf, 15, regions, 2, why, sizeof(why)), -EPROTO);
	CHECK_STR(why, "RAM section of 15 bytes: no header");
	n = section(buf, 0x800, 1, 0, KR_RAM_PAGE);
	CHECK_EQ(kr_ram_load(buf, n, regions, 2, why, sizeof(why)), -EPROTO);
	CHECK_STR(why, "RAM section: gpa 0x800, 1 pages, flags 0: malformed");
	n = section(buf, 0, 0, KR_RAM_ZERO, 0);
	CHECK_EQ(kr_ram_load(buf, n, regions, 2, why, sizeof(why)), -EPROTO);
	n = section(buf, 0, KR_RAM_RUN + 1, KR_RAM_ZERO, 0);
	CHECK_EQ(kr_ram_load(buf, n, regions, 2, why, sizeof(why)), -EPROTO);
	n = section(buf, 0, 1, 2, KR_RAM_PAGE);
	CHECK_EQ(kr_ram_load(buf, n, regions, 2, why, sizeof(why)), -EPROTO);
	n = section(buf, 0, 2, 0, KR_RAM_PAGE);			/* data for one page only */
	CHECK_EQ(kr_ram_load(buf, n, regions, 2, why, sizeof(why)), -EPROTO);
	CHECK_STR(why, "RAM section at gpa 0: 4112 bytes for 2 pages");
	n = section(buf, 0, 1, KR_RAM_ZERO, KR_RAM_PAGE);	/* zero with data */
	CHECK_EQ(kr_ram_load(buf, n, regions, 2, why, sizeof(why)), -EPROTO);
	n = section(buf, 6 * KR_RAM_PAGE, 4, 0, 4 * KR_RAM_PAGE);	/* runs past region 0 */
	CHECK_EQ(kr_ram_load(buf, n, regions, 2, why, sizeof(why)), -EPROTO);
	CHECK_STR(why, "RAM section: 4 pages at gpa 0x6000 are not this VM's RAM");
	n = section(buf, 0x200000, 1, KR_RAM_ZERO, 0);		/* no RAM there */
	CHECK_EQ(kr_ram_load(buf, n, regions, 2, why, sizeof(why)), -EPROTO);
	n = section(buf, UINT64_MAX - 4095, 1, KR_RAM_ZERO, 0);
	CHECK_EQ(kr_ram_load(buf, n, regions, 2, why, sizeof(why)), -EPROTO);
	CHECK(!memcmp(mem, before, sizeof(mem)));
	/* Accepted: the second region, and a zero run in the first. */
	n = section(buf, 0x104000, 4, 0, 4 * KR_RAM_PAGE);
	CHECK_EQ(kr_ram_load(buf, n, regions, 2, why, sizeof(why)), 0);
	CHECK(mem[12 * KR_RAM_PAGE] == 0x5a && mem[16 * KR_RAM_PAGE - 1] == 0x5a);
	CHECK(mem[12 * KR_RAM_PAGE - 1] == 0x11);
	n = section(buf, 0x1000, 2, KR_RAM_ZERO, 0);
	CHECK_EQ(kr_ram_load(buf, n, regions, 2, why, sizeof(why)), 0);
	CHECK(mem[0x1000] == 0 && mem[0x2fff] == 0 && mem[0xfff] == 0x11 && mem[0x3000] == 0x11);
}
