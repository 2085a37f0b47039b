// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target of the snapshot stream's reader (snapstream.c): the bytes are
 * a stream, as a snapshot file or a migration socket would give it.
 *
 * Checked beyond the sanitizers: the reader ends in END or in a refusal
 * (-EPROTO with a reason), never reads past the bytes it was given, never
 * hands out a payload longer than the limit; a stream it accepted, written
 * again section by section, gives the same bytes.  RAM sections are loaded
 * into a small RAM map (snapram.c): accepted, or refused with a reason and
 * nothing written outside the map.
 *
 * Built with clang -fsanitize=fuzzer; with -DKR_FUZZ_REPLAY instead, a main()
 * runs each file named on the command line once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../snapram.h"
#include "../snapstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct src {
	const uint8_t *p;
	size_t len, pos;
	uint8_t *out;
	size_t out_len;
};

static ssize_t src_read(void *ctx, void *buf, size_t n)
{
	struct src *s = ctx;

	if (n > s->len - s->pos)
		n = s->len - s->pos;
	memcpy(buf, s->p + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

static int out_write(void *ctx, const void *buf, size_t n)
{
	struct src *s = ctx;
	uint8_t *o = realloc(s->out, s->out_len + n);

	if (!o)
		return -ENOMEM;
	memcpy(o + s->out_len, buf, n);
	s->out = o;
	s->out_len += n;
	return 0;
}

#define FUZZ_MAX	4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct src s = { .p = data, .len = size };
	struct kr_snap_io io = { .read = src_read, .write = out_write, .ctx = &s };
	struct kr_snap_reader r;
	struct kr_snap_writer w;
	uint32_t type, inst;
	size_t len;
	void *p;
	int err;

	err = kr_snap_read_begin(&r, &io);
	if (!err)
		kr_snap_write_begin(&w, &io);
	while (!err) {
		err = kr_snap_read_section(&r, &type, &inst, &p, &len, FUZZ_MAX);
		if (err) {
			if (p)
				abort();
			break;
		}
		if (len > FUZZ_MAX || s.pos > s.len)
			abort();
		if (type == KR_SNAP_END) {
			free(p);
			kr_snap_write_end(&w);
			/* What was accepted is exactly what a writer writes. */
			if (w.err || s.out_len != s.pos || memcmp(s.out, data, s.pos))
				abort();
			break;
		}
		if (type == KR_SNAP_RAM) {
			static uint8_t ram[8 * KR_RAM_PAGE];
			const struct kr_ram_region map = { 0x1000, sizeof(ram), ram };
			char why[160] = "";

			if (kr_ram_load(p, len, &map, 1, why, sizeof(why)) &&
			    !why[0])
				abort();
		}
		{
			struct iovec v = { p, len };

			kr_snap_write_section(&w, type, inst, &v, 1);
		}
		free(p);
	}
	if (err && (err != -EPROTO || !r.why[0]))
		abort();
	free(s.out);
	return 0;
}

#include "fuzz_replay.h"
