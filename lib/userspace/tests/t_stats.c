// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Statistics files: khv_stats_parse and khv_stats_init on images written
 * here in the kernel's layout (uapi/linux/khv.h) - a valid one, each kind
 * of corruption with the errno libkhv.h documents (-EPROTO: not a
 * statistics file or another version; -EBADMSG: a layout that does not add
 * up), every truncation, a later version's bigger header and descriptors;
 * and the ioctls behind khv_list_vms and khv_open_stats.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fake_khv.h"

/* The test file: three descriptors, values 100.. and a 4-bucket histogram. */
#define T_NDESC		3
#define T_NDATA		6

struct t_image {
	unsigned char *buf;
	size_t len;
	uint32_t header_size, desc_size;
};

static size_t desc_at(const struct t_image *t, uint32_t i)
{
	return t->header_size + (size_t)i * t->desc_size;
}

static size_t data_at(const struct t_image *t)
{
	return desc_at(t, T_NDESC);
}

/* Writes the image; the bytes a bigger header or descriptor adds are 0xee. */
static void build(struct t_image *t, uint32_t header_size, uint32_t desc_size)
{
	static const struct {
		const char *name;
		uint32_t flags, count, offset, code;
	} d[T_NDESC] = {
		{ "alive", KHV_STATS_TYPE_INSTANT | KHV_STATS_UNIT_BOOLEAN, 1, 0, 0 },
		{ "exit/svm_ioio/count", KHV_STATS_TYPE_CUMULATIVE, 1, 8, 0x7b },
		{ "exit/svm_ioio/kernel_hist", KHV_STATS_TYPE_CUMULATIVE | KHV_STATS_UNIT_CYCLES |
		  KHV_STATS_SHAPE_LOG2_HIST, 4, 16, 0x7b },
	};
	struct khv_stats_header h;
	uint32_t i;

	t->header_size = header_size;
	t->desc_size = desc_size;
	t->len = data_at(t) + T_NDATA * 8;
	t->buf = malloc(t->len);
	if (!t->buf)
		abort();
	memset(t->buf, 0xee, t->len);
	memset(&h, 0, sizeof(h));
	h.magic = KHV_STATS_MAGIC;
	h.version = KHV_STATS_VERSION;
	h.header_size = header_size;
	h.desc_size = desc_size;
	h.num_desc = T_NDESC;
	h.desc_offset = header_size;
	h.data_offset = data_at(t);
	h.data_size = T_NDATA * 8;
	h.vm_id = 42;
	memcpy(t->buf, &h, sizeof(h));
	for (i = 0; i < T_NDESC; i++) {
		struct khv_stats_desc e;

		memset(&e, 0, sizeof(e));
		e.flags = d[i].flags;
		e.count = d[i].count;
		e.offset = d[i].offset;
		e.code = d[i].code;
		strcpy(e.name, d[i].name);
		memcpy(t->buf + desc_at(t, i), &e, sizeof(e));
	}
	for (i = 0; i < T_NDATA; i++) {
		uint64_t v = 100 + i;

		memcpy(t->buf + data_at(t) + i * 8, &v, 8);
	}
}

static void build_std(struct t_image *t)
{
	build(t, sizeof(struct khv_stats_header), sizeof(struct khv_stats_desc));
}

static void put32(struct t_image *t, size_t off, uint32_t v)
{
	memcpy(t->buf + off, &v, 4);
}

static void put64(struct t_image *t, size_t off, uint64_t v)
{
	memcpy(t->buf + off, &v, 8);
}

/* The parse of t's image, closed again: its result. */
static int parse(const struct t_image *t, size_t len)
{
	struct khv_stats st;
	int r = khv_stats_parse(&st, t->buf, len);

	if (!r)
		khv_stats_close(&st);
	else if (st.desc || st.data || st.fd != -1)
		r = -9999;	/* a failure must leave nothing behind */
	return r;
}

static void check_valid(const struct khv_stats *st)
{
	const uint64_t *v;

	CHECK_EQ(st->hdr.vm_id, 42);
	CHECK_EQ(st->ndesc, T_NDESC);
	CHECK_EQ(st->ndata, T_NDATA);
	CHECK_STR(st->desc[0].name, "alive");
	CHECK_STR(st->desc[2].name, "exit/svm_ioio/kernel_hist");
	CHECK_EQ(st->desc[2].count, 4);
	CHECK_EQ(st->desc[2].code, 0x7b);
	CHECK_EQ(khv_stats_find(st, "exit/svm_ioio/count"), 1);
	CHECK_EQ(khv_stats_find(st, "exit/svm_ioio"), -ENOENT);
	CHECK_EQ(khv_stats_find(st, ""), -ENOENT);
	CHECK_EQ(khv_stats_find(st, NULL), -EINVAL);
	CHECK_EQ(khv_stats_find(NULL, "alive"), -EINVAL);
	v = khv_stats_values(st, 0);
	CHECK(v && v[0] == 100);
	v = khv_stats_values(st, 2);
	CHECK(v && v[0] == 102 && v[3] == 105);
	CHECK(khv_stats_values(st, T_NDESC) == NULL);
	CHECK(khv_stats_values(NULL, 0) == NULL);
}

static void stats_valid(void)
{
	struct t_image t;
	struct khv_stats st;

	build_std(&t);
	CHECK_EQ(khv_stats_parse(&st, t.buf, t.len), 0);
	CHECK_EQ(st.fd, -1);
	check_valid(&st);
	/* A buffer has no file to read again. */
	CHECK_EQ(khv_stats_read(&st), -EBADF);
	khv_stats_close(&st);
	CHECK(st.desc == NULL && st.data == NULL && st.ndesc == 0 && st.fd == -1);
	khv_stats_close(&st);	/* twice is harmless */
	khv_stats_close(NULL);
	CHECK_EQ(khv_stats_read(&st), -EINVAL);
	CHECK_EQ(khv_stats_read(NULL), -EINVAL);
	/* Bytes after the data are no error; a value short is. */
	{
		unsigned char *longer = calloc(1, t.len + 8);

		if (!longer)
			abort();
		memcpy(longer, t.buf, t.len);
		CHECK_EQ(khv_stats_parse(&st, longer, t.len + 8), 0);
		khv_stats_close(&st);
		free(longer);
	}
	CHECK_EQ(parse(&t, t.len - 8), -EBADMSG);
	free(t.buf);

	/* No descriptors, no values: an empty but valid file. */
	build_std(&t);
	put32(&t, offsetof(struct khv_stats_header, num_desc), 0);
	put64(&t, offsetof(struct khv_stats_header, data_offset), t.header_size);
	put64(&t, offsetof(struct khv_stats_header, data_size), 0);
	CHECK_EQ(khv_stats_parse(&st, t.buf, t.header_size), 0);
	CHECK(st.ndesc == 0 && st.ndata == 0 && st.data != NULL);
	CHECK_EQ(khv_stats_find(&st, "alive"), -ENOENT);
	khv_stats_close(&st);
	CHECK_EQ(parse(&t, t.len), 0);
	free(t.buf);

	{
		unsigned char small[16] = { 0 };

		CHECK_EQ(khv_stats_parse(NULL, small, sizeof(small)), -EINVAL);
		CHECK_EQ(khv_stats_parse(&st, NULL, 10), -EINVAL);
		CHECK_EQ(khv_stats_parse(&st, NULL, 0), -EPROTO);
		CHECK_EQ(khv_stats_parse(&st, small, sizeof(small)), -EPROTO);
	}
}

/* Later versions: bigger header and descriptors, read as far as known. */
static void stats_future(void)
{
	struct t_image t;
	struct khv_stats st;

	build(&t, 128, 96);
	CHECK_EQ(khv_stats_parse(&st, t.buf, t.len), 0);
	check_valid(&st);
	CHECK_EQ(st.hdr.header_size, 128);
	CHECK_EQ(st.hdr.desc_size, 96);
	khv_stats_close(&st);
	free(t.buf);
	build(&t, 88, 4096);
	CHECK_EQ(parse(&t, t.len), 0);
	free(t.buf);
	build(&t, 88, 4104);	/* more than libkhv takes */
	CHECK_EQ(parse(&t, t.len), -EBADMSG);
	free(t.buf);
	/* Descriptors further on than the header's end. */
	build(&t, 88, 72);
	put64(&t, offsetof(struct khv_stats_header, desc_offset), 96);
	put64(&t, offsetof(struct khv_stats_header, data_offset), 96 + 3 * 72);
	CHECK_EQ(parse(&t, t.len), -EBADMSG);	/* the data now ends past the image */
	free(t.buf);
}

/* One header field set to v: the errno. */
static int header_field(size_t off, int size, uint64_t v)
{
	struct t_image t;
	int r;

	build_std(&t);
	if (size == 4)
		put32(&t, off, (uint32_t)v);
	else
		put64(&t, off, v);
	r = parse(&t, t.len);
	free(t.buf);
	return r;
}

#define HDR(field, v)	header_field(offsetof(struct khv_stats_header, field), \
				     (int)sizeof(((struct khv_stats_header *)0)->field), (v))

static void stats_bad_header(void)
{
	/* Not a statistics file, or not this version: -EPROTO. */
	CHECK_EQ(HDR(magic, 0), -EPROTO);
	CHECK_EQ(HDR(magic, 0x4b485653), -EPROTO);	/* byte-swapped */
	CHECK_EQ(HDR(version, 0), -EPROTO);
	CHECK_EQ(HDR(version, KHV_STATS_VERSION + 1), -EPROTO);
	/* A layout that does not add up: -EBADMSG. */
	CHECK_EQ(HDR(header_size, 0), -EBADMSG);
	CHECK_EQ(HDR(header_size, 87), -EBADMSG);
	CHECK_EQ(HDR(header_size, 96), -EBADMSG);	/* past desc_offset */
	CHECK_EQ(HDR(desc_size, 0), -EBADMSG);
	CHECK_EQ(HDR(desc_size, 64), -EBADMSG);
	CHECK_EQ(HDR(desc_size, 76), -EBADMSG);		/* not a multiple of 8 */
	CHECK_EQ(HDR(desc_size, 80), -EBADMSG);		/* the data would overlap */
	CHECK_EQ(HDR(desc_size, UINT32_MAX), -EBADMSG);
	CHECK_EQ(HDR(num_desc, 4), -EBADMSG);		/* into the data */
	CHECK_EQ(HDR(num_desc, KHV_STATS_MAX_DESCS + 1), -EBADMSG);
	CHECK_EQ(HDR(num_desc, UINT32_MAX), -EBADMSG);
	CHECK_EQ(HDR(desc_offset, 0), -EBADMSG);
	CHECK_EQ(HDR(desc_offset, 80), -EBADMSG);
	CHECK_EQ(HDR(desc_offset, UINT64_MAX), -EBADMSG);
	CHECK_EQ(HDR(data_offset, 0), -EBADMSG);
	CHECK_EQ(HDR(data_offset, 88 + 3 * 72 - 8), -EBADMSG);	/* over the descriptors */
	CHECK_EQ(HDR(data_offset, 88 + 3 * 72 + 4), -EBADMSG);	/* misaligned */
	CHECK_EQ(HDR(data_offset, 88 + 3 * 72 + 8), -EBADMSG);	/* data past the end */
	CHECK_EQ(HDR(data_offset, UINT64_MAX - 7), -EBADMSG);
	CHECK_EQ(HDR(data_size, 7 * 8), -EBADMSG);		/* past the end */
	CHECK_EQ(HDR(data_size, 5 * 8 + 4), -EBADMSG);		/* not whole values */
	CHECK_EQ(HDR(data_size, 4 * 8), -EBADMSG);		/* the histogram sticks out */
	CHECK_EQ(HDR(data_size, (uint64_t)KHV_STATS_MAX_DATA + 8), -EBADMSG);
	CHECK_EQ(HDR(data_size, UINT64_MAX - 7), -EBADMSG);
	/* Fields with no say in the layout. */
	CHECK_EQ(HDR(flags, 0xffffffff), 0);
	CHECK_EQ(HDR(vm_id, 0), 0);
	CHECK_EQ(HDR(vcpu_id, 7), 0);
	CHECK_EQ(HDR(reserved[3], 1), 0);
}

/* Descriptor i's field set to v: the errno. */
static int desc_field(uint32_t i, size_t off, int size, uint64_t v)
{
	struct t_image t;
	int r;

	build_std(&t);
	if (size == 4)
		put32(&t, desc_at(&t, i) + off, (uint32_t)v);
	else
		put64(&t, desc_at(&t, i) + off, v);
	r = parse(&t, t.len);
	free(t.buf);
	return r;
}

#define DESC(i, field, v)	desc_field((i), offsetof(struct khv_stats_desc, field), \
					   (int)sizeof(((struct khv_stats_desc *)0)->field), (v))

static void stats_bad_desc(void)
{
	struct t_image t;
	const uint32_t hist = KHV_STATS_UNIT_CYCLES | KHV_STATS_SHAPE_LOG2_HIST;

	/* Pointing outside the data, or not at a value. */
	CHECK_EQ(DESC(0, offset, 6 * 8), -EBADMSG);
	CHECK_EQ(DESC(0, offset, 5 * 8), 0);			/* the last value: fine */
	CHECK_EQ(DESC(2, offset, 3 * 8), -EBADMSG);		/* 4 values from the 4th */
	CHECK_EQ(DESC(2, offset, 2 * 8), 0);
	CHECK_EQ(DESC(0, offset, 4), -EBADMSG);
	CHECK_EQ(DESC(0, offset, UINT64_MAX), -EBADMSG);
	CHECK_EQ(DESC(0, offset, UINT64_MAX - 7), -EBADMSG);
	CHECK_EQ(DESC(2, count, 5), -EBADMSG);
	CHECK_EQ(DESC(2, count, UINT32_MAX), -EBADMSG);
	CHECK_EQ(DESC(2, count, 0), -EBADMSG);
	/* Overlapping values are the file's business. */
	CHECK_EQ(DESC(1, offset, 0), 0);
	/* Known shapes with the right counts; what a later khv adds is kept. */
	CHECK_EQ(DESC(0, count, 2), -EBADMSG);			/* a scalar of 2 */
	CHECK_EQ(DESC(0, flags, 2), 0);				/* type 2 */
	CHECK_EQ(DESC(0, flags, 0x60), 0);			/* unit 6 */
	CHECK_EQ(DESC(0, flags, 0x200), 0);			/* shape 2 */
	CHECK_EQ(DESC(2, flags, 0x200), 0);			/* shape 2, 2 values */
	CHECK_EQ(DESC(0, flags, 0x1000), 0);			/* bits unknown today */
	CHECK_EQ(DESC(0, flags, 0x80000000u), 0);
	CHECK_EQ(DESC(2, flags, hist | KHV_STATS_TYPE_INSTANT), 0);
	CHECK_EQ(DESC(1, flags, KHV_STATS_UNIT_PAGES), 0);
	CHECK_EQ(DESC(1, code, 0xffffffff), 0);
	CHECK_EQ(DESC(1, pad, 0xffffffff), 0);
	/* A histogram of one bucket: 0 and "everything" at once. */
	CHECK_EQ(DESC(1, flags, hist), -EBADMSG);

	/* Names: without their NUL, or empty. */
	build_std(&t);
	memset(t.buf + desc_at(&t, 1) + offsetof(struct khv_stats_desc, name), 'n',
	       KHV_STATS_NAME_SIZE);
	CHECK_EQ(parse(&t, t.len), -EBADMSG);
	t.buf[desc_at(&t, 1) + offsetof(struct khv_stats_desc, name) + KHV_STATS_NAME_SIZE - 1] = 0;
	CHECK_EQ(parse(&t, t.len), 0);				/* 47 bytes and the NUL */
	t.buf[desc_at(&t, 1) + offsetof(struct khv_stats_desc, name)] = 0;
	CHECK_EQ(parse(&t, t.len), -EBADMSG);
	free(t.buf);
}

static void stats_truncated(void)
{
	struct t_image t;
	size_t n;
	int ok = 1;

	build_std(&t);
	for (n = 0; n < t.len; n++) {
		int r = parse(&t, n);

		/* Short of a header: not a statistics file; after it: short data. */
		ok &= r == (n < sizeof(struct khv_stats_header) ? -EPROTO : -EBADMSG);
	}
	CHECK(ok);
	CHECK_EQ(parse(&t, t.len), 0);
	free(t.buf);
}

static int memfd_of(const void *buf, size_t len)
{
	int fd = memfd_create("t-stats", MFD_CLOEXEC);

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		abort();
	return fd;
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* The same checks through a file: khv_stats_init, khv_stats_read. */
static void stats_file(void)
{
	struct t_image t;
	struct khv_stats st;
	uint64_t v = 999;
	int fd, fds = t_count_fds(), ok = 1;
	size_t n;

	build_std(&t);
	fd = memfd_of(t.buf, t.len);
	CHECK_EQ(khv_stats_init(&st, fd), 0);
	CHECK_EQ(st.fd, fd);
	check_valid(&st);
	/* New values, read in place. */
	CHECK_EQ(pwrite(fd, &v, 8, (off_t)(data_at(&t) + 8)), 8);
	CHECK_EQ(khv_stats_values(&st, 1)[0], 101);
	CHECK_EQ(khv_stats_read(&st), 0);
	CHECK_EQ(khv_stats_values(&st, 1)[0], 999);
	/* A file that shrank: the read fails, the values stay. */
	CHECK_EQ(ftruncate(fd, (off_t)(t.len - 1)), 0);
	CHECK_EQ(khv_stats_read(&st), -EBADMSG);
	khv_stats_close(&st);
	CHECK(!fd_open(fd));

	/* Every truncated file is refused, and its fd closed. */
	for (n = 0; n < t.len; n++) {
		int r;

		fd = memfd_of(t.buf, n);
		r = khv_stats_init(&st, fd);
		ok &= r == (n < sizeof(struct khv_stats_header) ? -EPROTO : -EBADMSG);
		ok &= !fd_open(fd) && st.desc == NULL && st.data == NULL && st.fd == -1;
	}
	CHECK(ok);
	/* A corrupt one too. */
	put32(&t, offsetof(struct khv_stats_header, version), 2);
	fd = memfd_of(t.buf, t.len);
	CHECK_EQ(khv_stats_init(&st, fd), -EPROTO);
	CHECK(!fd_open(fd));
	free(t.buf);
	build_std(&t);
	put64(&t, desc_at(&t, 0) + offsetof(struct khv_stats_desc, offset), 6 * 8);
	fd = memfd_of(t.buf, t.len);
	CHECK_EQ(khv_stats_init(&st, fd), -EBADMSG);
	CHECK(!fd_open(fd));
	free(t.buf);

	/* A directory reads with EISDIR; no fd; no struct (the fd is closed). */
	fd = open("/", O_RDONLY | O_CLOEXEC);
	CHECK_EQ(khv_stats_init(&st, fd), -EISDIR);
	CHECK(!fd_open(fd));
	CHECK_EQ(khv_stats_init(&st, -1), -EBADF);
	khv_stats_close(&st);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK_EQ(khv_stats_init(NULL, fd), -EINVAL);
	CHECK(!fd_open(fd));
	CHECK_EQ(t_count_fds(), fds);
}

/* The ioctls: the right requests, handle checks before any of them. */
static void stats_ioctls(void)
{
	struct khv_sys sys = { .fd = -1 };
	struct khv_vm_info info[2];
	uint32_t n = 0;

	fake_reset();
	CHECK_EQ(khv_list_vms(NULL, info, 2, &n), -EINVAL);
	CHECK_EQ(khv_list_vms(&sys, info, 2, &n), -EBADF);
	CHECK_EQ(khv_open_stats(NULL, 1, -1), -EINVAL);
	CHECK_EQ(khv_open_stats(&sys, 1, -1), -EBADF);
	CHECK_EQ(khv_vm_stats_fd(NULL), -EINVAL);
	CHECK_EQ(khv_vcpu_stats_fd(NULL), -EINVAL);
	CHECK_EQ(fake.calls, 0);

	sys.fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK_EQ(khv_list_vms(&sys, info, 2, NULL), -EINVAL);
	CHECK_EQ(khv_list_vms(&sys, NULL, 2, &n), -EINVAL);
	CHECK_EQ(fake.calls, 0);
	fake.enabled = 1;	/* it knows neither: ENOTTY, but the request is seen */
	CHECK_EQ(khv_list_vms(&sys, info, 2, &n), -ENOTTY);
	CHECK_EQ(fake.last_req, KHV_GET_VMS);
	CHECK_EQ(khv_open_stats(&sys, 7, 3), -ENOTTY);
	CHECK_EQ(fake.last_req, KHV_OPEN_STATS);
	CHECK_EQ(fake.calls, 2);
	fake_reset();
	close(sys.fd);
}

void test_stats(void)
{
	stats_valid();
	stats_future();
	stats_bad_header();
	stats_bad_desc();
	stats_truncated();
	stats_file();
	stats_ioctls();
}
