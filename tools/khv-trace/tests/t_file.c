// SPDX-License-Identifier: GPL-2.0
/*
 * The trace file (trace_file.c): written and read back, by image and by
 * the streaming writer, field for field; and every way a file can be
 * wrong refused with its own message: empty, short, not ours, another
 * version, unfinished, truncated anywhere, longer, corrupt (checksums),
 * records, names and processes that cannot be.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../trace_file.h"
#include "synth.h"
#include "t.h"

/* The header's checksum fields (Documentation/khv/khv-trace.rst). */
#define H_BODY_CRC	120
#define H_HDR_CRC	124

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* After an edit: both checksums made right again, so the edit itself is judged. */
static void recrc(unsigned char *img, size_t len)
{
	put32(img + H_BODY_CRC, ktr_crc32(0, img + KTR_HEADER_SIZE, len - KTR_HEADER_SIZE));
	put32(img + H_HDR_CRC, 0);
	put32(img + H_HDR_CRC, ktr_crc32(0, img, KTR_HEADER_SIZE));
}

static void sample(struct synth *s)
{
	uint16_t msr;

	sy_init(s, SY_START, SY_START + 3 * SY_MS);
	s->t.h.pid = 4242;
	snprintf(s->t.h.comm, sizeof(s->t.h.comm), "khv-run");
	s->t.h.overrun = 7;
	s->t.h.dropped = 2;
	sy_proc(s, 4242, "khv-run");
	sy_proc(s, 17, "");
	msr = sy_name(s, 0x7c, "svm_msr");
	sy_name(s, 0x1e, "vmx_io_instruction");
	sy_entry(s, 4242, 0, 10);
	sy_exit(s, 4242, 0, 20, msr, -14);
	s->t.rec[1].info1 = 0x1234567890abcdefull;
	s->t.rec[1].info2 = ~0ull;
	s->t.rec[1].rip = 0xffffffff81000000ull;
	sy_uexit(s, 4242, 1, 30, 7, -4);
	sy_halt(s, 4242, 2, 40, 1);
	sy_lost(s, 3, 50, 60, KTR_LOST_UNKNOWN);
	s->t.rec[2].cpu = 3;
}

static void check_same(const struct ktr_trace *a, const struct ktr_trace *b)
{
	uint64_t i;

	CHECK_EQ(a->h.version, b->h.version);
	CHECK_EQ(a->h.flags, b->h.flags);
	CHECK_STR(a->h.clock, b->h.clock);
	CHECK_EQ(a->h.start_ns, b->h.start_ns);
	CHECK_EQ(a->h.end_ns, b->h.end_ns);
	CHECK_EQ(a->h.start_real_ns, b->h.start_real_ns);
	CHECK_EQ(a->h.nrec, b->h.nrec);
	CHECK_EQ(a->h.overrun, b->h.overrun);
	CHECK_EQ(a->h.dropped, b->h.dropped);
	CHECK_EQ(a->h.pid, b->h.pid);
	CHECK_STR(a->h.comm, b->h.comm);
	CHECK_EQ(a->h.nnames, b->h.nnames);
	CHECK_EQ(a->h.nprocs, b->h.nprocs);
	CHECK_EQ(a->h.ncpus, b->h.ncpus);
	for (i = 0; i < a->h.nrec && i < b->h.nrec; i++)
		CHECK_EQ(memcmp(&a->rec[i], &b->rec[i], sizeof(a->rec[i])), 0);
	for (i = 0; i < a->h.nnames && i < b->h.nnames; i++) {
		CHECK_EQ(a->names[i].code, b->names[i].code);
		CHECK_STR(a->names[i].name, b->names[i].name);
	}
	for (i = 0; i < a->h.nprocs && i < b->h.nprocs; i++) {
		CHECK_EQ(a->procs[i].pid, b->procs[i].pid);
		CHECK_STR(a->procs[i].comm, b->procs[i].comm);
	}
}

KTR_TEST(file_round_trip)
{
	struct ktr_trace back;
	struct ktr_error err;
	struct synth s;
	unsigned char *img;
	size_t len;

	sample(&s);
	img = ktr_image(&s.t, &len);
	CHECK(img != NULL);
	CHECK_EQ(len, KTR_HEADER_SIZE + 5 * KTR_RECORD_SIZE + 2 * KTR_NAME_SIZE +
		 2 * KTR_PROC_SIZE);
	CHECK_EQ(len, ktr_file_size(&s.t.h));
	CHECK_EQ(memcmp(img, "KHVTRACE", 8), 0);
	CHECK_EQ(ktr_parse(img, len, 0, &back, &err), 0);
	CHECK_EQ(err.code, KTR_OK);
	check_same(&s.t, &back);
	/* Fields the comparison above covers, spelled out once. */
	CHECK_EQ(back.rec[1].ret, -14);
	CHECK_EQ(back.rec[1].info2, ~0ull);
	CHECK_EQ(back.rec[3].flags, KTR_HALT_WAKE);
	CHECK_EQ(back.rec[4].info1, KTR_LOST_UNKNOWN);
	CHECK_STR(back.names[1].name, "vmx_io_instruction");
	CHECK_STR(back.procs[1].comm, "");
	ktr_trace_free(&back);
	free(img);
	sy_free(&s);

	/* No records, names or processes at all. */
	sy_init(&s, SY_START, SY_START);
	img = ktr_image(&s.t, &len);
	CHECK_EQ(len, KTR_HEADER_SIZE);
	CHECK_EQ(ktr_parse(img, len, 0, &back, &err), 0);
	CHECK_EQ(back.h.nrec, 0);
	ktr_trace_free(&back);
	free(img);
	sy_free(&s);
}

KTR_TEST(file_writer)
{
	char path[] = "/tmp/ktr-writer-XXXXXX";
	struct ktr_writer w;
	struct ktr_trace back;
	struct ktr_error err;
	struct ktr_header h;
	struct synth s;
	uint64_t i;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	sample(&s);
	CHECK_EQ(ktr_writer_open(&w, path), 0);
	/* Unfinished: refused as such, whatever the records. */
	CHECK_EQ(ktr_writer_add(&w, &s.t.rec[0]), 0);
	fflush(w.f);
	CHECK_EQ(ktr_load(path, &back, &err), -1);
	CHECK_EQ(err.code, KTR_E_INCOMPLETE);
	CHECK_STR(err.msg, "incomplete: the recording was never finished (khv-trace record killed?)");
	for (i = 1; i < s.t.h.nrec; i++)
		CHECK_EQ(ktr_writer_add(&w, &s.t.rec[i]), 0);
	h = s.t.h;
	h.nrec = 0;
	h.flags = 0;
	CHECK_EQ(ktr_writer_finish(&w, &h, s.t.names, s.t.procs), 0);
	CHECK_EQ(h.nrec, s.t.h.nrec);
	CHECK_EQ(ktr_load(path, &back, &err), 0);
	check_same(&s.t, &back);
	ktr_trace_free(&back);

	/* Aborted: no file left. */
	CHECK_EQ(ktr_writer_open(&w, path), 0);
	CHECK_EQ(ktr_writer_add(&w, &s.t.rec[0]), 0);
	ktr_writer_abort(&w);
	CHECK(access(path, F_OK) != 0);
	/* A directory that is not there. */
	CHECK_EQ(ktr_writer_open(&w, "/nonexistent-dir/x.dat"), -ENOENT);
	sy_free(&s);
}

static int refuse(const unsigned char *img, size_t len, enum ktr_err code, const char *msg)
{
	struct ktr_trace t;
	struct ktr_error err;
	int r = ktr_parse(img, len, 0, &t, &err);

	CHECK_EQ(r, -1);
	CHECK_EQ(err.code, code);
	if (msg)
		CHECK_STR(err.msg, msg);
	if (!r)
		ktr_trace_free(&t);
	return r;
}

KTR_TEST(file_refused_header)
{
	struct synth s;
	unsigned char *img, *c;
	size_t len;

	sample(&s);
	img = ktr_image(&s.t, &len);
	c = malloc(len + 16);

	refuse(img, 0, KTR_E_EMPTY, "empty file");
	refuse(img, 100, KTR_E_SHORT, "truncated: 100 bytes, less than the 128-byte header");
	refuse(img, 127, KTR_E_SHORT, NULL);

	memcpy(c, img, len);
	memcpy(c, "KHVTRACF", 8);
	refuse(c, len, KTR_E_MAGIC, "not a khv-trace file (no KHVTRACE magic)");
	memcpy(c, "\x7f" "ELF\2\1\1\0", 8);
	refuse(c, len, KTR_E_MAGIC, NULL);

	memcpy(c, img, len);
	c[8] = 2;
	refuse(c, len, KTR_E_VERSION,
	       "format version 2: this khv-trace reads version 1 (a newer khv-trace wrote it, or the header is corrupt)");
	memcpy(c, img, len);
	c[12] = 129;
	refuse(c, len, KTR_E_LAYOUT, NULL);
	memcpy(c, img, len);
	c[16] = 32;
	refuse(c, len, KTR_E_LAYOUT,
	       "corrupt header: header size 128 and record size 32, version 1 has 128 and 64");

	/* Any header byte changed: its checksum. */
	memcpy(c, img, len);
	c[41] ^= 0x10;	/* start_ns */
	refuse(c, len, KTR_E_HEADER_CRC, "corrupt header (checksum mismatch)");
	memcpy(c, img, len);
	c[H_HDR_CRC] ^= 1;
	refuse(c, len, KTR_E_HEADER_CRC, NULL);
	/* The body's checksum is in the header: a change there is the header's. */
	memcpy(c, img, len);
	c[H_BODY_CRC] ^= 1;
	refuse(c, len, KTR_E_HEADER_CRC, NULL);

	/* Fields out of range, with right checksums. */
	memcpy(c, img, len);
	c[20] |= 0x80;
	recrc(c, len);
	refuse(c, len, KTR_E_HEADER, "corrupt header: unknown flags 0x81");
	memcpy(c, img, len);
	memset(c + 24, 'm', 16);
	recrc(c, len);
	refuse(c, len, KTR_E_HEADER, "corrupt header: trace clock name: no terminating NUL");
	memcpy(c, img, len);
	memset(c + 24, 0, 16);
	recrc(c, len);
	refuse(c, len, KTR_E_HEADER, "corrupt header: trace clock name: empty");
	memcpy(c, img, len);
	c[92] = 0x07;
	recrc(c, len);
	refuse(c, len, KTR_E_HEADER,
	       "corrupt header: process name: a character that is not printable ASCII");
	memcpy(c, img, len);
	c[92 + 10] = 'x';	/* after "khv-run" and its NUL */
	recrc(c, len);
	refuse(c, len, KTR_E_HEADER, "corrupt header: process name: bytes after the terminating NUL");
	free(img);

	/* end before start; too many names; too many CPUs. */
	s.t.h.end_ns = s.t.h.start_ns - 1;
	img = ktr_image(&s.t, &len);
	refuse(img, len, KTR_E_HEADER, "corrupt header: the recording ends before it starts");
	free(img);
	s.t.h.end_ns = s.t.h.start_ns + 1;
	s.t.h.ncpus = 70000;
	img = ktr_image(&s.t, &len);
	refuse(img, len, KTR_E_HEADER, "corrupt header: 70000 CPUs, at most 65536");
	free(img);
	s.t.h.ncpus = 4;
	free(c);
	sy_free(&s);
}

KTR_TEST(file_refused_size)
{
	struct synth s;
	unsigned char *img, *c;
	size_t len, cut;

	sample(&s);
	img = ktr_image(&s.t, &len);
	c = malloc(len + 100);

	/* Every truncation past the header is told as one. */
	for (cut = KTR_HEADER_SIZE; cut < len; cut++)
		refuse(img, cut, KTR_E_TRUNCATED, NULL);
	refuse(img, len - 1, KTR_E_TRUNCATED,
	       "truncated: 623 bytes, the header says 5 records, 2 exit names and 2 processes (624 bytes)");
	memcpy(c, img, len);
	memset(c + len, 0, 100);
	refuse(c, len + 100, KTR_E_TRAILING,
	       "corrupt: 100 bytes after the end the header gives (624 bytes)");
	/* A record count that overflows the size. */
	memcpy(c, img, len);
	memset(c + 64, 0xff, 8);
	recrc(c, len);
	refuse(c, len, KTR_E_TRUNCATED, NULL);
	/* An unfinished file (the recorder died): its header is the first one. */
	memcpy(c, img, len);
	memset(c + 20, 0, 4);
	recrc(c, len);
	refuse(c, len, KTR_E_INCOMPLETE, NULL);
	/* Any byte of the records or tables flipped. */
	for (cut = KTR_HEADER_SIZE; cut < len; cut += 7) {
		memcpy(c, img, len);
		c[cut] ^= 0x40;
		refuse(c, len, KTR_E_BODY_CRC,
		       "corrupt: the records and tables do not match their checksum");
	}
	free(img);
	free(c);
	sy_free(&s);
}

/* Records and table entries that cannot be, with right checksums. */
KTR_TEST(file_refused_content)
{
	static const struct {
		unsigned int rec, off;
		unsigned char val;
		const char *msg;
	} recs[] = {
		{ 0, 58, 0, "corrupt record 0: unknown type" },
		{ 0, 58, 6, "corrupt record 0: unknown type" },
		{ 2, 62, 1, "corrupt record 2: reserved bytes not zero" },
		{ 2, 61, 1, "corrupt record 2: CPU beyond the header's CPU count" },
		{ 1, 56, 2, "corrupt record 1: exit name index beyond the name table" },
		{ 0, 56, 0, "corrupt record 0: exit name index on a record that is not an exit" },
		{ 3, 59, 2, "corrupt record 3: unknown flags" },
		{ 1, 59, 1, "corrupt record 1: unknown flags" },
		{ 1, 52, 9, "corrupt record 1: handler time on a record that cannot have one" },
		{ 4, 31, 0, "corrupt record 4: lost-events window ends before it starts" },
	};
	struct synth s;
	unsigned char *img, *c, *p;
	size_t len, names, procs;
	unsigned int i;

	sample(&s);
	img = ktr_image(&s.t, &len);
	c = malloc(len);
	for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		memcpy(c, img, len);
		p = c + KTR_HEADER_SIZE + recs[i].rec * KTR_RECORD_SIZE;
		if (recs[i].off == 56 && recs[i].val == 0)
			p[57] = 0;	/* name 0 on an entry */
		if (recs[i].off == 31)
			memset(p + 24, 0, 8);	/* window end 0, before its start */
		else
			p[recs[i].off] = recs[i].val;
		recrc(c, len);
		refuse(c, len, KTR_E_RECORD, recs[i].msg);
	}
	names = KTR_HEADER_SIZE + 5 * KTR_RECORD_SIZE;
	procs = names + 2 * KTR_NAME_SIZE;
	memcpy(c, img, len);
	c[names + 4] = 1;
	recrc(c, len);
	refuse(c, len, KTR_E_NAME, "corrupt exit-name entry 0: reserved bytes not zero");
	memcpy(c, img, len);
	memset(c + names + KTR_NAME_SIZE + 8, 'a', KTR_NAME_LEN);
	recrc(c, len);
	refuse(c, len, KTR_E_NAME, "corrupt exit-name entry 1: no terminating NUL");
	memcpy(c, img, len);
	memset(c + names + 8, 0, KTR_NAME_LEN);
	recrc(c, len);
	refuse(c, len, KTR_E_NAME, "corrupt exit-name entry 0: empty");
	memcpy(c, img, len);
	c[procs + KTR_PROC_SIZE + 8] = 0x80;
	recrc(c, len);
	refuse(c, len, KTR_E_PROC,
	       "corrupt process entry 1: a character that is not printable ASCII");
	memcpy(c, img, len);
	c[procs + 5] = 1;
	recrc(c, len);
	refuse(c, len, KTR_E_PROC, "corrupt process entry 0: reserved bytes not zero");
	free(img);
	free(c);
	sy_free(&s);
}

KTR_TEST(file_load_errors)
{
	struct ktr_trace t;
	struct ktr_error err;

	CHECK_EQ(ktr_load("/nonexistent/khv-trace.dat", &t, &err), -1);
	CHECK_EQ(err.code, KTR_E_IO);
	CHECK_STR(err.msg, "cannot open: No such file or directory");
	CHECK_EQ(ktr_load("/tmp", &t, &err), -1);
	CHECK_EQ(err.code, KTR_E_IO);
	CHECK_STR(err.msg, "cannot read: not a regular file");
	CHECK_EQ(ktr_load("/dev/null", &t, &err), -1);
	CHECK_EQ(err.code, KTR_E_IO);
}

KTR_TEST(file_crc)
{
	/* The check value of CRC-32/ISO-HDLC. */
	CHECK_EQ(ktr_crc32(0, "123456789", 9), 0xcbf43926u);
	CHECK_EQ(ktr_crc32(ktr_crc32(0, "12345", 5), "6789", 4), 0xcbf43926u);
	CHECK_EQ(ktr_crc32(0, "", 0), 0);
	CHECK_STR(ktr_type_name(KTR_EXIT), "exit");
	CHECK_STR(ktr_type_name(99), "?");
}
