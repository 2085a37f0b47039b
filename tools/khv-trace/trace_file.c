// SPDX-License-Identifier: GPL-2.0
/* The khv-trace file: its layout, reader and writer (trace_file.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace_file.h"

/* Header offsets (Documentation/khv/khv-trace.rst, "The file"). */
#define H_MAGIC		0
#define H_VERSION	8
#define H_HSIZE		12
#define H_RSIZE		16
#define H_FLAGS		20
#define H_CLOCK		24
#define H_START		40
#define H_END		48
#define H_REAL		56
#define H_NREC		64
#define H_OVERRUN	72
#define H_DROPPED	80
#define H_PID		88
#define H_COMM		92
#define H_NNAMES	108
#define H_NPROCS	112
#define H_NCPUS		116
#define H_BODY_CRC	120
#define H_HDR_CRC	124

/* Record offsets. */
#define R_TS		0
#define R_RIP		8
#define R_INFO1		16
#define R_INFO2		24
#define R_PID		32
#define R_TID		36
#define R_VCPU		40
#define R_CODE		44
#define R_RET		48
#define R_HANDLE	52
#define R_NAME		56
#define R_TYPE		58
#define R_FLAGS		59
#define R_CPU		60
#define R_RSVD		62

static uint32_t crc_table[256];

static void crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

/* CRC-32 (IEEE 802.3, as zlib's crc32()): crc is 0 to start. */
uint32_t ktr_crc32(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (!crc_table[1])
		crc_init();
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* Copies a string into a fixed field, NUL-padded, always terminated. */
static void put_str(unsigned char *p, size_t field, const char *s)
{
	size_t n = strnlen(s, field - 1);

	memset(p, 0, field);
	memcpy(p, s, n);
}

void ktr_encode_header(unsigned char *p, const struct ktr_header *h, uint32_t body_crc)
{
	memset(p, 0, KTR_HEADER_SIZE);
	memcpy(p + H_MAGIC, KTR_MAGIC, 8);
	put32(p + H_VERSION, h->version);
	put32(p + H_HSIZE, KTR_HEADER_SIZE);
	put32(p + H_RSIZE, KTR_RECORD_SIZE);
	put32(p + H_FLAGS, h->flags);
	put_str(p + H_CLOCK, KTR_CLOCK_LEN, h->clock);
	put64(p + H_START, h->start_ns);
	put64(p + H_END, h->end_ns);
	put64(p + H_REAL, (uint64_t)h->start_real_ns);
	put64(p + H_NREC, h->nrec);
	put64(p + H_OVERRUN, h->overrun);
	put64(p + H_DROPPED, h->dropped);
	put32(p + H_PID, h->pid);
	put_str(p + H_COMM, KTR_COMM_LEN, h->comm);
	put32(p + H_NNAMES, h->nnames);
	put32(p + H_NPROCS, h->nprocs);
	put32(p + H_NCPUS, h->ncpus);
	put32(p + H_BODY_CRC, body_crc);
	put32(p + H_HDR_CRC, ktr_crc32(0, p, KTR_HEADER_SIZE));
}

void ktr_encode_rec(unsigned char *p, const struct ktr_rec *r)
{
	put64(p + R_TS, r->ts);
	put64(p + R_RIP, r->rip);
	put64(p + R_INFO1, r->info1);
	put64(p + R_INFO2, r->info2);
	put32(p + R_PID, r->pid);
	put32(p + R_TID, r->tid);
	put32(p + R_VCPU, r->vcpu);
	put32(p + R_CODE, r->code);
	put32(p + R_RET, (uint32_t)r->ret);
	put32(p + R_HANDLE, r->handle_ns);
	put16(p + R_NAME, r->name);
	p[R_TYPE] = r->type;
	p[R_FLAGS] = r->flags;
	put16(p + R_CPU, r->cpu);
	put16(p + R_RSVD, 0);
}

static void encode_name(unsigned char *p, const struct ktr_name *n)
{
	put32(p, n->code);
	put32(p + 4, 0);
	put_str(p + 8, KTR_NAME_LEN, n->name);
}

static void encode_proc(unsigned char *p, const struct ktr_proc *pr)
{
	put32(p, pr->pid);
	put32(p + 4, 0);
	put_str(p + 8, KTR_COMM_LEN, pr->comm);
}

uint64_t ktr_file_size(const struct ktr_header *h)
{
	uint64_t n = KTR_HEADER_SIZE;

	if (h->nrec > (UINT64_MAX - n) / KTR_RECORD_SIZE)
		return 0;
	n += h->nrec * KTR_RECORD_SIZE;
	n += (uint64_t)h->nnames * KTR_NAME_SIZE + (uint64_t)h->nprocs * KTR_PROC_SIZE;
	return n < KTR_HEADER_SIZE ? 0 : n;
}

unsigned char *ktr_image(const struct ktr_trace *t, size_t *len)
{
	uint64_t size = ktr_file_size(&t->h), i;
	unsigned char *img, *p;

	if (!size || size > SIZE_MAX)
		return NULL;
	img = calloc(1, (size_t)size);
	if (!img)
		return NULL;
	p = img + KTR_HEADER_SIZE;
	for (i = 0; i < t->h.nrec; i++, p += KTR_RECORD_SIZE)
		ktr_encode_rec(p, &t->rec[i]);
	for (i = 0; i < t->h.nnames; i++, p += KTR_NAME_SIZE)
		encode_name(p, &t->names[i]);
	for (i = 0; i < t->h.nprocs; i++, p += KTR_PROC_SIZE)
		encode_proc(p, &t->procs[i]);
	ktr_encode_header(img, &t->h, ktr_crc32(0, img + KTR_HEADER_SIZE,
						(size_t)size - KTR_HEADER_SIZE));
	*len = (size_t)size;
	return img;
}

/* ---- reading -------------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static int fail(struct ktr_error *err, enum ktr_err code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * A fixed string field: printable ASCII up to a NUL, zeros after it.
 * Returns NULL when it is fine, else why not.
 */
static const char *check_str(const unsigned char *p, size_t field, bool may_be_empty)
{
	size_t i, n = strnlen((const char *)p, field);

	if (n == field)
		return "no terminating NUL";
	if (!n && !may_be_empty)
		return "empty";
	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return "a character that is not printable ASCII";
	for (i = n; i < field; i++)
		if (p[i])
			return "bytes after the terminating NUL";
	return NULL;
}

static void decode_rec(const unsigned char *p, struct ktr_rec *r)
{
	memset(r, 0, sizeof(*r));	/* the padding too: records compare with memcmp */
	r->ts = get64(p + R_TS);
	r->rip = get64(p + R_RIP);
	r->info1 = get64(p + R_INFO1);
	r->info2 = get64(p + R_INFO2);
	r->pid = get32(p + R_PID);
	r->tid = get32(p + R_TID);
	r->vcpu = get32(p + R_VCPU);
	r->code = get32(p + R_CODE);
	r->ret = (int32_t)get32(p + R_RET);
	r->handle_ns = get32(p + R_HANDLE);
	r->name = get16(p + R_NAME);
	r->type = p[R_TYPE];
	r->flags = p[R_FLAGS];
	r->cpu = get16(p + R_CPU);
}

/* NULL when the record is possible in a file with header h, else why not. */
static const char *check_rec(const unsigned char *p, const struct ktr_rec *r,
			     const struct ktr_header *h)
{
	if (r->type < KTR_ENTRY || r->type >= KTR_TYPE_MAX)
		return "unknown type";
	if (get16(p + R_RSVD))
		return "reserved bytes not zero";
	if (h->ncpus && r->cpu >= h->ncpus)
		return "CPU beyond the header's CPU count";
	if (r->type == KTR_EXIT) {
		if (r->name >= h->nnames)
			return "exit name index beyond the name table";
	} else if (r->name != KTR_NO_NAME) {
		return "exit name index on a record that is not an exit";
	}
	if (r->flags & ~(r->type == KTR_HALT ? KTR_HALT_WAKE : 0u))
		return "unknown flags";
	if (r->handle_ns && !(r->type == KTR_EXIT && (h->flags & KTR_F_HANDLE_NS)))
		return "handler time on a record that cannot have one";
	if (r->type == KTR_LOST && r->info2 < r->ts)
		return "lost-events window ends before it starts";
	return NULL;
}

static int parse_header(const unsigned char *buf, size_t len, unsigned int flags,
			struct ktr_header *h, struct ktr_error *err)
{
	unsigned char tmp[KTR_HEADER_SIZE];
	uint32_t hsize, rsize;
	const char *why;

	if (!len)
		return fail(err, KTR_E_EMPTY, "empty file");
	if (len < KTR_HEADER_SIZE)
		return fail(err, KTR_E_SHORT, "truncated: %zu bytes, less than the %d-byte header",
			    len, KTR_HEADER_SIZE);
	if (memcmp(buf + H_MAGIC, KTR_MAGIC, 8))
		return fail(err, KTR_E_MAGIC, "not a khv-trace file (no %s magic)", KTR_MAGIC);
	h->version = get32(buf + H_VERSION);
	if (h->version != KTR_VERSION)
		return fail(err, KTR_E_VERSION,
			    "format version %u: this khv-trace reads version %d (a newer khv-trace wrote it, or the header is corrupt)",
			    h->version,
			    KTR_VERSION);
	hsize = get32(buf + H_HSIZE);
	rsize = get32(buf + H_RSIZE);
	if (hsize != KTR_HEADER_SIZE || rsize != KTR_RECORD_SIZE)
		return fail(err, KTR_E_LAYOUT,
			    "corrupt header: header size %u and record size %u, version %d has %d and %d",
			    hsize, rsize, KTR_VERSION, KTR_HEADER_SIZE, KTR_RECORD_SIZE);
	if (!(flags & KTR_PARSE_NOCRC)) {
		memcpy(tmp, buf, KTR_HEADER_SIZE);
		put32(tmp + H_HDR_CRC, 0);
		if (ktr_crc32(0, tmp, KTR_HEADER_SIZE) != get32(buf + H_HDR_CRC))
			return fail(err, KTR_E_HEADER_CRC, "corrupt header (checksum mismatch)");
	}
	h->flags = get32(buf + H_FLAGS);
	if (h->flags & ~KTR_F_KNOWN)
		return fail(err, KTR_E_HEADER, "corrupt header: unknown flags %#x", h->flags);
	if ((why = check_str(buf + H_CLOCK, KTR_CLOCK_LEN, false)))
		return fail(err, KTR_E_HEADER, "corrupt header: trace clock name: %s", why);
	if ((why = check_str(buf + H_COMM, KTR_COMM_LEN, true)))
		return fail(err, KTR_E_HEADER, "corrupt header: process name: %s", why);
	memcpy(h->clock, buf + H_CLOCK, KTR_CLOCK_LEN);
	memcpy(h->comm, buf + H_COMM, KTR_COMM_LEN);
	h->start_ns = get64(buf + H_START);
	h->end_ns = get64(buf + H_END);
	h->start_real_ns = (int64_t)get64(buf + H_REAL);
	h->nrec = get64(buf + H_NREC);
	h->overrun = get64(buf + H_OVERRUN);
	h->dropped = get64(buf + H_DROPPED);
	h->pid = get32(buf + H_PID);
	h->nnames = get32(buf + H_NNAMES);
	h->nprocs = get32(buf + H_NPROCS);
	h->ncpus = get32(buf + H_NCPUS);
	if (!(h->flags & KTR_F_COMPLETE))
		return fail(err, KTR_E_INCOMPLETE,
			    "incomplete: the recording was never finished (khv-trace record killed?)");
	if (h->end_ns < h->start_ns)
		return fail(err, KTR_E_HEADER, "corrupt header: the recording ends before it starts");
	if (h->nnames > KTR_NO_NAME)
		return fail(err, KTR_E_HEADER, "corrupt header: %u exit names, at most %u",
			    h->nnames, KTR_NO_NAME);
	if (h->ncpus > 65536)
		return fail(err, KTR_E_HEADER, "corrupt header: %u CPUs, at most 65536", h->ncpus);
	return 0;
}

int ktr_parse(const unsigned char *buf, size_t len, unsigned int flags, struct ktr_trace *t,
	      struct ktr_error *err)
{
	const unsigned char *p;
	const char *why;
	uint64_t size, i;

	memset(t, 0, sizeof(*t));
	err->code = KTR_OK;
	err->msg[0] = 0;
	if (parse_header(buf, len, flags, &t->h, err))
		return -1;
	size = ktr_file_size(&t->h);
	if (!size || size > len)
		return fail(err, KTR_E_TRUNCATED,
			    "truncated: %zu bytes, the header says %llu records, %u exit names and %u processes (%llu bytes)",
			    len, (unsigned long long)t->h.nrec, t->h.nnames, t->h.nprocs,
			    (unsigned long long)size);
	if (size < len)
		return fail(err, KTR_E_TRAILING,
			    "corrupt: %llu bytes after the end the header gives (%llu bytes)",
			    (unsigned long long)(len - size), (unsigned long long)size);
	if (!(flags & KTR_PARSE_NOCRC) &&
	    ktr_crc32(0, buf + KTR_HEADER_SIZE, len - KTR_HEADER_SIZE) != get32(buf + H_BODY_CRC))
		return fail(err, KTR_E_BODY_CRC,
			    "corrupt: the records and tables do not match their checksum");

	t->rec = malloc(t->h.nrec ? (size_t)t->h.nrec * sizeof(*t->rec) : 1);
	t->names = calloc(t->h.nnames ? t->h.nnames : 1, sizeof(*t->names));
	t->procs = calloc(t->h.nprocs ? t->h.nprocs : 1, sizeof(*t->procs));
	if (!t->rec || !t->names || !t->procs) {
		ktr_trace_free(t);
		return fail(err, KTR_E_NOMEM, "out of memory for %llu records",
			    (unsigned long long)t->h.nrec);
	}
	p = buf + KTR_HEADER_SIZE;
	for (i = 0; i < t->h.nrec; i++, p += KTR_RECORD_SIZE) {
		decode_rec(p, &t->rec[i]);
		if ((why = check_rec(p, &t->rec[i], &t->h))) {
			ktr_trace_free(t);
			return fail(err, KTR_E_RECORD, "corrupt record %llu: %s",
				    (unsigned long long)i, why);
		}
	}
	for (i = 0; i < t->h.nnames; i++, p += KTR_NAME_SIZE) {
		why = get32(p + 4) ? "reserved bytes not zero" : check_str(p + 8, KTR_NAME_LEN, false);
		if (why) {
			ktr_trace_free(t);
			return fail(err, KTR_E_NAME, "corrupt exit-name entry %llu: %s",
				    (unsigned long long)i, why);
		}
		t->names[i].code = get32(p);
		memcpy(t->names[i].name, p + 8, KTR_NAME_LEN);
	}
	for (i = 0; i < t->h.nprocs; i++, p += KTR_PROC_SIZE) {
		why = get32(p + 4) ? "reserved bytes not zero" : check_str(p + 8, KTR_COMM_LEN, true);
		if (why) {
			ktr_trace_free(t);
			return fail(err, KTR_E_PROC, "corrupt process entry %llu: %s",
				    (unsigned long long)i, why);
		}
		t->procs[i].pid = get32(p);
		memcpy(t->procs[i].comm, p + 8, KTR_COMM_LEN);
	}
	return 0;
}

int ktr_load(const char *path, struct ktr_trace *t, struct ktr_error *err)
{
	unsigned char *buf = NULL;
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd, r;

	memset(t, 0, sizeof(*t));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, KTR_E_IO, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st)) {
		r = errno;
		close(fd);
		return fail(err, KTR_E_IO, "cannot read: %s", strerror(r));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, KTR_E_IO, "cannot read: not a regular file");
	}
	if ((uint64_t)st.st_size > SIZE_MAX / 2) {
		close(fd);
		return fail(err, KTR_E_NOMEM, "too large to read (%lld bytes)",
			    (long long)st.st_size);
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return fail(err, KTR_E_NOMEM, "out of memory for %lld bytes",
			    (long long)st.st_size);
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = errno;
			free(buf);
			close(fd);
			return fail(err, KTR_E_IO, "cannot read: %s", strerror(r));
		}
		if (!n)
			break;	/* shrank meanwhile: parse what is there */
		got += (size_t)n;
	}
	close(fd);
	r = ktr_parse(buf, got, 0, t, err);
	free(buf);
	return r;
}

void ktr_trace_free(struct ktr_trace *t)
{
	free(t->rec);
	free(t->names);
	free(t->procs);
	t->rec = NULL;
	t->names = NULL;
	t->procs = NULL;
}

/* ---- writing -------------------------------------------------------------- */

static int w_write(struct ktr_writer *w, const void *p, size_t n, bool crc)
{
	if (w->err)
		return -w->err;
	if (fwrite(p, 1, n, w->f) != n) {
		w->err = errno ? errno : EIO;
		return -w->err;
	}
	if (crc)
		w->crc = ktr_crc32(w->crc, p, n);
	return 0;
}

int ktr_writer_open(struct ktr_writer *w, const char *path)
{
	unsigned char hdr[KTR_HEADER_SIZE];
	struct ktr_header h = { .version = KTR_VERSION, .clock = "none" };
	int e;

	memset(w, 0, sizeof(*w));
	w->path = strdup(path);
	if (!w->path)
		return -ENOMEM;
	w->f = fopen(path, "wbe");
	if (!w->f) {
		e = errno;
		free(w->path);
		w->path = NULL;
		return -e;
	}
	/* Incomplete until ktr_writer_finish() writes the real header. */
	ktr_encode_header(hdr, &h, 0);
	if (w_write(w, hdr, sizeof(hdr), false)) {
		e = w->err;
		ktr_writer_abort(w);
		return -e;
	}
	return 0;
}

int ktr_writer_add(struct ktr_writer *w, const struct ktr_rec *r)
{
	unsigned char p[KTR_RECORD_SIZE];

	ktr_encode_rec(p, r);
	if (w_write(w, p, sizeof(p), true))
		return -w->err;
	w->nrec++;
	return 0;
}

int ktr_writer_finish(struct ktr_writer *w, struct ktr_header *h, const struct ktr_name *names,
		      const struct ktr_proc *procs)
{
	unsigned char buf[KTR_HEADER_SIZE];
	uint32_t i;

	for (i = 0; i < h->nnames; i++) {
		encode_name(buf, &names[i]);
		w_write(w, buf, KTR_NAME_SIZE, true);
	}
	for (i = 0; i < h->nprocs; i++) {
		encode_proc(buf, &procs[i]);
		w_write(w, buf, KTR_PROC_SIZE, true);
	}
	h->nrec = w->nrec;
	h->version = KTR_VERSION;
	h->flags |= KTR_F_COMPLETE;
	ktr_encode_header(buf, h, w->crc);
	if (!w->err && (fflush(w->f) || fseek(w->f, 0, SEEK_SET)))
		w->err = errno ? errno : EIO;
	w_write(w, buf, sizeof(buf), false);
	if (!w->err && fflush(w->f))
		w->err = errno ? errno : EIO;
	if (fclose(w->f) && !w->err)
		w->err = errno ? errno : EIO;
	w->f = NULL;
	if (w->err) {
		int e = w->err;

		unlink(w->path);
		free(w->path);
		w->path = NULL;
		return -e;
	}
	free(w->path);
	w->path = NULL;
	return 0;
}

void ktr_writer_abort(struct ktr_writer *w)
{
	if (w->f)
		fclose(w->f);
	w->f = NULL;
	if (w->path)
		unlink(w->path);
	free(w->path);
	w->path = NULL;
}

const char *ktr_type_name(unsigned int type)
{
	static const char *const names[KTR_TYPE_MAX] = {
		[KTR_ENTRY] = "entry", [KTR_EXIT] = "exit", [KTR_UEXIT] = "userspace_exit",
		[KTR_HALT] = "halt", [KTR_LOST] = "lost",
	};

	return type < KTR_TYPE_MAX && names[type] ? names[type] : "?";
}
