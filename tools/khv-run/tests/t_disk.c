// SPDX-License-Identifier: GPL-2.0
/*
 * The disk image's host side (disk.c): the --disk option, opening and
 * locking (QEMU's lock bytes too), the I/O with and without alignment
 * needs, discard and write zeroes on the file, flush.  Images are files in
 * /tmp (ext4 or tmpfs; what depends on the file system says so).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t.h"
#include "timage.h"
#include "../disk.h"

#define MIB	(1u << 20)

static struct kr_disk *open_opts(const char *arg, char *why, size_t len, int *err)
{
	struct kr_disk_opts o;
	struct kr_disk *d = NULL;

	*err = kr_disk_parse(arg, &o, why, len);
	if (!*err)
		*err = kr_disk_open(&o, "vda", &d, why, len);
	return d;
}

static struct kr_disk *open_path(const char *path, const char *extra, int *err)
{
	char arg[256], why[256];

	snprintf(arg, sizeof(arg), "path=%s%s", path, extra);
	return open_opts(arg, why, sizeof(why), err);
}

KR_TEST(disk_parse_ok)
{
	struct kr_disk_opts o;
	char why[200] = "stale";

	CHECK_EQ(kr_disk_parse("path=/x/y.img", &o, why, sizeof(why)), 0);
	CHECK_STR(o.path, "/x/y.img");
	CHECK_STR(why, "");
	CHECK(!o.ro && !o.discard && o.cache == KR_DISK_WRITEBACK && o.queues == 1);
	CHECK_STR(o.serial, "");
	CHECK_EQ(kr_disk_parse("cache=none,ro,discard=on,serial=ABC-123 x,queues=16,path=a",
			       &o, why, sizeof(why)), 0);
	CHECK_STR(o.path, "a");
	CHECK(o.ro && o.discard && o.cache == KR_DISK_DIRECT && o.queues == 16);
	CHECK_STR(o.serial, "ABC-123 x");
	CHECK_EQ(kr_disk_parse("path=a,cache=writethrough,discard=off,ro=off", &o, why,
			       sizeof(why)), 0);
	CHECK(!o.ro && !o.discard && o.cache == KR_DISK_WRITETHROUGH);
	CHECK_EQ(kr_disk_parse("path=a,ro=on,cache=writeback", &o, why, sizeof(why)), 0);
	CHECK(o.ro && o.cache == KR_DISK_WRITEBACK);
	/* ",," is a comma inside a value. */
	CHECK_EQ(kr_disk_parse("path=/a,,b,,,serial=x,,y", &o, why, sizeof(why)), 0);
	CHECK_STR(o.path, "/a,b,");
	CHECK_STR(o.serial, "x,y");
	CHECK_EQ(kr_disk_parse("path=p,serial=12345678901234567890", &o, why, sizeof(why)), 0);
	CHECK_STR(o.serial, "12345678901234567890");
	CHECK_EQ(kr_disk_parse("path=p,queues=07", &o, NULL, 0), 0);	/* no why: fine */
	CHECK_EQ(o.queues, 7);
}

KR_TEST(disk_parse_bad)
{
	static const struct {
		const char *arg, *why;
	} bad[] = {
		{ "", "--disk: expected path=FILE or nbd=URI, then [,ro][,cache=...][,discard=...]"
		      "[,serial=...][,queues=N]" },
		{ "ro", "--disk: path=FILE (or nbd=URI) is missing" },
		{ "path=", "--disk: path= is empty" },
		{ "path", "--disk: path needs a value (path=...)" },
		{ "path=a,", "--disk: empty option" },
		{ ",path=a", "--disk: empty option" },
		{ "path=a,size=1", "--disk: unknown option 'size' (path, nbd, ro, cache, discard, "
				   "serial, queues)" },
		{ "path=a,cachemodeisverylong=1", "--disk: unknown option 'cachemodeisvery'... "
						  "(path, nbd, ro, cache, discard, serial, queues)" },
		{ "path=a,path=b", "--disk: path given twice" },
		{ "path=a,ro,ro", "--disk: ro given twice" },
		{ "path=a,ro=yes", "--disk: ro=yes: expected on or off" },
		{ "path=a,cache=unsafe", "--disk: cache=unsafe: expected writeback, writethrough "
					 "or none" },
		{ "path=a,cache", "--disk: cache needs a value (cache=...)" },
		{ "path=a,discard=unmap", "--disk: discard=unmap: expected on or off" },
		{ "path=a,queues=0", "--disk: queues=0: expected a number from 1 to 16" },
		{ "path=a,queues=17", "--disk: queues=17: expected a number from 1 to 16" },
		{ "path=a,queues=-1", "--disk: queues=-1: expected a number from 1 to 16" },
		{ "path=a,queues=1x", "--disk: queues=1x: expected a number from 1 to 16" },
		{ "path=a,queues=", "--disk: queues=: expected a number from 1 to 16" },
		{ "path=a,queues=4294967297", "--disk: queues=4294967297: expected a number "
					      "from 1 to 16" },
		{ "path=a,serial=", "--disk: serial= is empty" },
		{ "path=a,serial=123456789012345678901", "--disk: serial is longer than 20 "
							 "characters" },
		{ "path=a,serial=a\tb", "--disk: serial: printable ASCII characters only" },
		{ "path=a,serial=\xc3\xa9", "--disk: serial: printable ASCII characters only" },
	};
	struct kr_disk_opts o;
	char why[200], tiny[8];
	char *longpath = malloc(PATH_MAX + 16);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why[0] = 0;
		CHECK_EQ(kr_disk_parse(bad[i].arg, &o, why, sizeof(why)), -EINVAL);
		CHECK_STR(why, bad[i].why);
	}
	CHECK_EQ(kr_disk_parse("path=a,,", &o, why, sizeof(why)), 0);	/* the path "a," */
	CHECK_STR(o.path, "a,");
	CHECK_EQ(kr_disk_parse(NULL, &o, why, sizeof(why)), -EINVAL);
	/* A message cut to the caller's buffer, still terminated. */
	CHECK_EQ(kr_disk_parse("path=a,zz=1", &o, tiny, sizeof(tiny)), -EINVAL);
	CHECK_STR(tiny, "--disk:");
	memcpy(longpath, "path=", 5);
	memset(longpath + 5, 'x', PATH_MAX);
	longpath[PATH_MAX + 5] = 0;
	CHECK_EQ(kr_disk_parse(longpath, &o, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "--disk: path is longer than 4095 bytes");
	longpath[5 + PATH_MAX - 1] = 0;		/* 4095 bytes: fits */
	CHECK_EQ(kr_disk_parse(longpath, &o, why, sizeof(why)), 0);
	CHECK_EQ(strlen(o.path), PATH_MAX - 1);
	free(longpath);
}

KR_TEST(disk_name)
{
	char n[16];

	kr_disk_name(0, n, sizeof(n));
	CHECK_STR(n, "vda");
	kr_disk_name(1, n, sizeof(n));
	CHECK_STR(n, "vdb");
	kr_disk_name(25, n, sizeof(n));
	CHECK_STR(n, "vdz");
	kr_disk_name(26, n, sizeof(n));
	CHECK_STR(n, "vdaa");
	kr_disk_name(27, n, sizeof(n));
	CHECK_STR(n, "vdab");
	kr_disk_name(701, n, sizeof(n));
	CHECK_STR(n, "vdzz");
	kr_disk_name(702, n, sizeof(n));
	CHECK_STR(n, "vdaaa");
	kr_disk_name(~0u, n, sizeof(n));
	CHECK_EQ(strlen(n), 9);
}

KR_TEST(disk_open_image)
{
	struct kr_disk_opts o;
	struct kr_disk *d;
	struct kr_disk_info info;
	struct stat before, after;
	char path[32], why[256], want[256];
	int fds = t_count_fds(), err;

	make_image(path, MIB + 100);
	CHECK_EQ(stat(path, &before), 0);
	CHECK_EQ(kr_disk_parse("path=x,serial=S1,queues=3", &o, why, sizeof(why)), 0);
	strcpy(o.path, path);
	CHECK_EQ(kr_disk_open(&o, "vdc", &d, why, sizeof(why)), 0);
	/* The tail that is not a whole sector is not shown, and we say so. */
	snprintf(want, sizeof(want), "warning: %s: its last 100 bytes are not a whole 512-byte "
		 "block: the guest does not see them", path);
	CHECK_STR(why, want);
	CHECK_EQ(kr_disk_sectors(d), MIB / 512);
	CHECK_EQ(kr_disk_blk_size(d), 512);
	CHECK(kr_disk_phys_size(d) >= 512 && kr_disk_phys_size(d) <= 65536);
	CHECK_EQ(kr_disk_queues(d), 3);
	CHECK_STR(kr_disk_serial(d), "S1");
	CHECK(!kr_disk_ro(d) && !kr_disk_discard_on(d));
	CHECK_EQ(fcntl(kr_disk_fd(d), F_GETFL) & (O_ACCMODE | O_DIRECT | O_DSYNC), O_RDWR);
	CHECK_EQ(fcntl(kr_disk_fd(d), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	kr_disk_query(d, &info);
	CHECK_STR(info.name, "vdc");
	CHECK_STR(info.path, path);
	CHECK(!info.ro);
	CHECK_EQ(info.size, MIB);
	CHECK_EQ(info.stats.rd_ops + info.stats.wr_ops + info.stats.flush_ops, 0);
	kr_disk_close(d);
	/* Opening and closing wrote nothing: same size, content, times. */
	CHECK_EQ(stat(path, &after), 0);
	CHECK_EQ(after.st_size, MIB + 100);
	CHECK(after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
	      after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
	CHECK(file_pristine(path, 0, MIB + 100));

	/* An empty file: a disk of 0 sectors, no warning. */
	CHECK_EQ(truncate(path, 0), 0);
	d = open_path(path, "", &err);
	CHECK_EQ(err, 0);
	CHECK(d && kr_disk_sectors(d) == 0);
	kr_disk_close(d);
	/* Less than a sector: nothing shown, with the warning. */
	CHECK_EQ(truncate(path, 511), 0);
	snprintf(want, sizeof(want), "path=%s", path);
	d = open_opts(want, why, sizeof(why), &err);
	CHECK(d && kr_disk_sectors(d) == 0 && strstr(why, "last 511 bytes"));
	kr_disk_close(d);
	unlink(path);

	/* Not there, not a file or a block device. */
	d = open_opts("path=/nonexistent/kr.img", why, sizeof(why), &err);
	CHECK(!d && err == -ENOENT);
	CHECK_STR(why, "/nonexistent/kr.img: No such file or directory");
	d = open_opts("path=/tmp", why, sizeof(why), &err);
	CHECK(!d && err == -EISDIR);	/* open(O_RDWR) of a directory */
	CHECK_STR(why, "/tmp: Is a directory");
	d = open_opts("path=/tmp,ro", why, sizeof(why), &err);
	CHECK(!d && err == -EINVAL);
	CHECK_STR(why, "/tmp: not a regular file or a block device");
	d = open_opts("path=/dev/null", why, sizeof(why), &err);
	CHECK(!d && err == -EINVAL);
	CHECK_STR(why, "/dev/null: not a regular file or a block device");
	CHECK_EQ(t_count_fds(), fds);
}

/* Is byte at of path locked (shared) by someone, as QEMU would check? */
static bool byte_locked(const char *path, off_t at)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = at, .l_len = 1 };
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fcntl(fd, F_OFD_GETLK, &fl))
		abort();
	close(fd);
	return fl.l_type != F_UNLCK;
}

/* An fd that holds shared locks on the given bytes, as a QEMU would. */
static int foreign_locks(const char *path, const int *bytes, int n)
{
	int fd = open(path, O_RDONLY);

	for (int i = 0; i < n; i++) {
		struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET,
				    .l_start = bytes[i], .l_len = 1 };

		if (fcntl(fd, F_OFD_SETLK, &fl))
			abort();
	}
	return fd;
}

KR_TEST(disk_locks)
{
	static const int qemu_rw[] = { 100, 101, 102, 201 }, qemu_ro[] = { 100, 201 };
	struct kr_disk *a, *b;
	char path[32], arg[64], why[256], want[128];
	int err, fd;

	make_image(path, 64 * 1024);
	snprintf(want, sizeof(want), "%s is in use by another process (locked)", path);
	snprintf(arg, sizeof(arg), "path=%s", path);
	a = open_path(path, "", &err);
	CHECK(a && !err);
	/* We hold QEMU's bytes of a writer: consistent read and write, no write sharing. */
	CHECK(byte_locked(path, 100) && byte_locked(path, 101) && byte_locked(path, 201) &&
	      byte_locked(path, 203));
	CHECK(!byte_locked(path, 200) && !byte_locked(path, 102) && !byte_locked(path, 0));
	/* A second read-write user, and a reader, are refused. */
	b = open_opts(arg, why, sizeof(why), &err);
	CHECK(!b && err == -EBUSY);
	CHECK_STR(why, want);
	b = open_path(path, ",ro", &err);
	CHECK(!b && err == -EBUSY);
	kr_disk_close(a);
	/* Released with the file: a reader, then another reader. */
	a = open_path(path, ",ro", &err);
	CHECK(a && !err);
	CHECK(byte_locked(path, 100) && !byte_locked(path, 101) && byte_locked(path, 201));
	b = open_path(path, ",ro,cache=writethrough", &err);
	CHECK(b && !err);
	kr_disk_close(b);
	/* No writer while a reader is there. */
	b = open_opts(arg, why, sizeof(why), &err);
	CHECK(!b && err == -EBUSY);
	CHECK_STR(why, want);
	kr_disk_close(a);
	CHECK(!byte_locked(path, 100) && !byte_locked(path, 201));

	/* A QEMU writing the image: neither of us can have it. */
	fd = foreign_locks(path, qemu_rw, ARRAY_SIZE(qemu_rw));
	CHECK(!open_path(path, "", &err) && err == -EBUSY);
	CHECK(!open_path(path, ",ro", &err) && err == -EBUSY);
	close(fd);
	/* A QEMU reading it: we may read too, not write. */
	fd = foreign_locks(path, qemu_ro, ARRAY_SIZE(qemu_ro));
	CHECK(!open_path(path, "", &err) && err == -EBUSY);
	a = open_path(path, ",ro", &err);
	CHECK(a && !err);
	kr_disk_close(a);
	close(fd);
	a = open_path(path, "", &err);
	CHECK(a && !err);
	kr_disk_close(a);
	unlink(path);
}

KR_TEST(disk_io_buffered)
{
	struct kr_disk *d;
	struct kr_disk_info info;
	uint8_t a[1536], b[4096];
	struct iovec w[3] = { { a, 100 }, { a + 100, 924 }, { a + 1024, 512 } };
	struct iovec r[2] = { { b, 7 }, { b + 7, 4096 - 7 } };
	char path[32];
	int err;

	make_image(path, MIB);
	d = open_path(path, "", &err);
	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = 0x80 | (i & 0x7f);
	/* Buffers of any length and address: the file gets them in order. */
	CHECK_EQ(kr_disk_write(d, w, 3, 8192, 1536, NULL), 0);
	file_read(path, 8192, b, 1536);
	CHECK(!memcmp(a, b, 1536));
	CHECK(file_pristine(path, 0, 8192) && file_pristine(path, 8192 + 1536, 4096));
	memset(b, 0, sizeof(b));
	CHECK_EQ(kr_disk_read(d, r, 2, 8192 - 512, 4096, NULL), 0);
	CHECK(b[0] == pattern(8192 - 512) && b[511] == pattern(8192 - 1));
	CHECK(!memcmp(b + 512, a, 1536));
	CHECK(b[2048] == pattern(8192 + 1536));
	/* The last sector, and past it. */
	CHECK_EQ(kr_disk_read(d, r, 2, MIB - 512, 512, NULL), 0);
	CHECK_EQ(kr_disk_read(d, r, 2, MIB, 512, NULL), -EINVAL);
	CHECK_EQ(kr_disk_read(d, r, 2, MIB - 512, 1024, NULL), -EINVAL);
	CHECK_EQ(kr_disk_write(d, w, 3, ~0ull - 511, 1024, NULL), -EINVAL);	/* wraps */
	CHECK_EQ(kr_disk_read(d, r, 2, 100, 512, NULL), -EINVAL);	/* not a sector */
	CHECK_EQ(kr_disk_read(d, r, 1, 0, 512, NULL), -EINVAL);		/* buffers too small */
	kr_disk_query(d, &info);
	CHECK_EQ(info.stats.wr_ops, 1);
	CHECK_EQ(info.stats.wr_bytes, 1536);
	CHECK_EQ(info.stats.rd_ops, 2);
	CHECK_EQ(info.stats.rd_bytes, 4096 + 512);
	CHECK_EQ(info.stats.failed_ops, 5);
	/* The file shrank under us: a read past its end is short, an error. */
	CHECK_EQ(truncate(path, 512 * 1024), 0);
	CHECK_EQ(kr_disk_read(d, r, 2, 600 * 1024, 4096, NULL), -EIO);
	kr_disk_close(d);

	/* Read-only: reads work, writes do not touch the file. */
	d = open_path(path, ",ro", &err);
	CHECK_EQ(fcntl(kr_disk_fd(d), F_GETFL) & O_ACCMODE, O_RDONLY);
	CHECK_EQ(kr_disk_read(d, r, 2, 0, 4096, NULL), 0);
	CHECK_EQ(kr_disk_write(d, w, 3, 0, 1536, NULL), -EROFS);
	CHECK_EQ(kr_disk_discard(d, 0, 4096), -EROFS);
	CHECK_EQ(kr_disk_write_zeroes(d, 0, 4096, true, NULL), -EROFS);
	CHECK(file_pristine(path, 0, 4096));
	kr_disk_close(d);
	unlink(path);
}

/* Direct I/O needs alignment that guest buffers and sectors may lack: forced to 4 KiB. */
KR_TEST(disk_io_bounce)
{
	enum { SIZE = 2 * MIB };
	struct kr_disk *d;
	uint8_t *bounce = kr_disk_bounce_alloc(), *big = malloc(MIB + 8192), one[512];
	uint8_t *got = malloc(MIB + 8192);
	struct iovec v[2];
	char path[32];
	int err;

	make_image(path, SIZE);
	d = open_path(path, "", &err);
	kr_disk_force_align(d, 4096);
	memset(one, 0xee, sizeof(one));
	/* One sector in the middle of a block: the rest of the block stays. */
	v[0] = (struct iovec){ one, 512 };
	CHECK_EQ(kr_disk_write(d, v, 1, 3 * 512, 512, NULL), -EINVAL);	/* needs the bounce */
	CHECK_EQ(kr_disk_write(d, v, 1, 3 * 512, 512, bounce), 0);
	file_read(path, 1536, got, 512);
	CHECK(all_bytes(got, 512, 0xee));
	CHECK(file_pristine(path, 0, 1536) && file_pristine(path, 2048, 8192));
	/* Unaligned read of it and its neighbours. */
	memset(got, 0, 2048);
	v[0] = (struct iovec){ got + 1, 1024 };
	CHECK_EQ(kr_disk_read(d, v, 1, 1024, 1024, bounce), 0);
	CHECK(got[1] == pattern(1024) && all_bytes(got + 513, 512, 0xee));
	/*
	 * Larger than the bounce buffer, starting and ending inside blocks,
	 * from an odd address split in two: several chunks, both edges kept.
	 */
	for (size_t i = 0; i < MIB + 1024; i++)
		big[1 + i] = (uint8_t)(i * 13 + 5);
	v[0] = (struct iovec){ big + 1, 1000 * 512 };
	v[1] = (struct iovec){ big + 1 + 1000 * 512, MIB + 1024 - 1000 * 512 };
	CHECK_EQ(kr_disk_write(d, v, 2, 4096 + 512, MIB + 1024, bounce), 0);
	file_read(path, 4096 + 512, got, MIB + 1024);
	CHECK(!memcmp(got, big + 1, MIB + 1024));
	CHECK(file_pristine(path, 4096, 512));
	CHECK(file_pristine(path, 4096 + 512 + MIB + 1024, 4096 - 1536));
	memset(got, 0, MIB + 8192);
	v[0] = (struct iovec){ got + 3, MIB + 1024 };
	CHECK_EQ(kr_disk_read(d, v, 1, 4096 + 512, MIB + 1024, bounce), 0);
	CHECK(!memcmp(got + 3, big + 1, MIB + 1024));
	/* Aligned requests go straight (no bounce needed). */
	v[0] = (struct iovec){ bounce, 4096 };
	CHECK_EQ(kr_disk_read(d, v, 1, 8192, 4096, NULL), 0);
	/* Write zeroes by hand in the middle of blocks, through the bounce. */
	CHECK_EQ(kr_disk_write_zeroes(d, 512, 512, false, bounce), 0);
	file_read(path, 0, got, 2048);
	CHECK(got[0] == pattern(0) && all_bytes(got + 512, 512, 0) && got[1024] == pattern(1024));
	kr_disk_close(d);
	unlink(path);
	free(bounce);
	free(big);
	free(got);
}

KR_TEST(disk_direct)
{
	struct kr_disk *d;
	struct statx sx;
	uint8_t *bounce = kr_disk_bounce_alloc(), *mem = aligned_alloc(4096, 3 * 4096);
	struct iovec v;
	char path[32];
	int err;

	make_image(path, MIB);
	d = open_path(path, ",cache=none", &err);
	if (!d && err == -EINVAL) {
		printf("# skip disk_direct: /tmp cannot do O_DIRECT\n");
		unlink(path);
		free(bounce);
		free(mem);
		return;
	}
	CHECK(d != NULL);
	CHECK_EQ(fcntl(kr_disk_fd(d), F_GETFL) & O_DIRECT, O_DIRECT);
	/* The guest's block size is what direct I/O needs (what statx says, or a page). */
	if (!statx(kr_disk_fd(d), "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) &&
	    (sx.stx_mask & STATX_DIOALIGN) && sx.stx_dio_offset_align)
		CHECK_EQ(kr_disk_blk_size(d), sx.stx_dio_offset_align < 512 ? 512 :
			 sx.stx_dio_offset_align);
	else
		CHECK_EQ(kr_disk_blk_size(d), 4096);
	/* A guest buffer at an odd address: bounced, and right. */
	memset(mem + 1, 0x5a, 4096);
	v = (struct iovec){ mem + 1, 4096 };
	CHECK_EQ(kr_disk_write(d, &v, 1, 8192, 4096, bounce), 0);
	CHECK_EQ(kr_disk_flush(d), 0);
	memset(mem, 0, 3 * 4096);
	v = (struct iovec){ mem + 3, 4096 };
	CHECK_EQ(kr_disk_read(d, &v, 1, 8192, 4096, bounce), 0);
	CHECK(all_bytes(mem + 3, 4096, 0x5a) && mem[2] == 0 && mem[4099] == 0);
	/* Aligned: straight to the file. */
	v = (struct iovec){ mem + 4096, 4096 };
	CHECK_EQ(kr_disk_read(d, &v, 1, 0, 4096, NULL), 0);
	CHECK(mem[4096] == pattern(0) && mem[8191] == pattern(4095));
	kr_disk_close(d);
	unlink(path);
	free(bounce);
	free(mem);
}

static int refusals, modes[8];

static int refuse_fallocate(int fd, int mode, off_t off, off_t len)
{
	(void)fd;
	(void)off;
	(void)len;
	if (refusals < 8)
		modes[refusals] = mode;
	refusals++;
	errno = EOPNOTSUPP;
	return -1;
}

KR_TEST(disk_discard_zeroes)
{
	struct kr_disk *d;
	struct kr_disk_info info;
	uint8_t *bounce = kr_disk_bounce_alloc(), *got = malloc(MIB);
	uint64_t b0;
	char path[32];
	int err;

	make_image(path, 4 * MIB);
	d = open_path(path, ",discard=on", &err);
	CHECK(kr_disk_discard_on(d));
	b0 = blocks(path);
	/* Discard: a hole, the size kept. */
	CHECK_EQ(kr_disk_discard(d, MIB, MIB), 0);
	CHECK(blocks(path) <= b0 - MIB / 512);
	CHECK(hole(path, MIB, MIB));
	CHECK(file_pristine(path, 0, MIB) && file_pristine(path, 2 * MIB, 4096));
	CHECK_EQ(blocks(path) > 0 && lseek(kr_disk_fd(d), 0, SEEK_END) == 4 * MIB, 1);
	/* Write zeroes with unmap: a hole too, reading zeroes. */
	b0 = blocks(path);
	CHECK_EQ(kr_disk_write_zeroes(d, 2 * MIB, 512 * 1024, true, bounce), 0);
	CHECK(blocks(path) <= b0 - 512 * 1024 / 512);
	CHECK(hole(path, 2 * MIB, 512 * 1024));
	file_read(path, 2 * MIB, got, 512 * 1024);
	CHECK(all_bytes(got, 512 * 1024, 0));
	/* Without unmap: zeroes, whatever the file system does with the blocks. */
	CHECK_EQ(kr_disk_write_zeroes(d, 3 * MIB + 512, 8192, false, bounce), 0);
	file_read(path, 3 * MIB, got, 16384);
	CHECK(got[0] == pattern(3 * MIB) && all_bytes(got + 512, 8192, 0) &&
	      got[8704] == pattern(3 * MIB + 8704));
	CHECK_EQ(lseek(kr_disk_fd(d), 0, SEEK_END), 4 * MIB);
	/* A file system that refuses: discard is a no-op, write zeroes writes them. */
	kr_disk_set_hooks(d, NULL, refuse_fallocate);
	b0 = blocks(path);
	CHECK_EQ(kr_disk_discard(d, 0, 4096), 0);
	CHECK(file_pristine(path, 0, 4096));
	refusals = 0;
	CHECK_EQ(kr_disk_write_zeroes(d, 4096, 300 * 1024, true, bounce), 0);
	CHECK_EQ(refusals, 2);	/* punch, zero range, then by hand */
	CHECK_EQ(modes[0], FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
	CHECK_EQ(modes[1], FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE);
	file_read(path, 0, got, 512 * 1024);
	CHECK(got[4095] == pattern(4095) && all_bytes(got + 4096, 300 * 1024, 0) &&
	      got[4096 + 300 * 1024] == pattern(4096 + 300 * 1024));
	CHECK_EQ(blocks(path), b0);	/* written, still allocated */
	refusals = 0;
	CHECK_EQ(kr_disk_write_zeroes(d, 0, 512, false, bounce), 0);
	CHECK_EQ(refusals, 1);	/* no unmap: no punching */
	CHECK_EQ(modes[0], FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE);
	/* Ranges past the end: refused, nothing done. */
	CHECK_EQ(kr_disk_discard(d, 4 * MIB - 512, 1024), -EINVAL);
	CHECK_EQ(kr_disk_write_zeroes(d, 4 * MIB, 512, true, bounce), -EINVAL);
	CHECK_EQ(kr_disk_discard(d, 4 * MIB, 0), 0);	/* empty at the very end: fine */
	kr_disk_query(d, &info);
	CHECK_EQ(info.stats.discard_ops, 3);
	CHECK_EQ(info.stats.discard_bytes, MIB + 4096);
	CHECK_EQ(info.stats.zero_ops, 4);
	CHECK_EQ(info.stats.failed_ops, 2);
	kr_disk_close(d);
	unlink(path);
	free(bounce);
	free(got);
}

static int syncs, sync_fd;

static int counting_sync(int fd)
{
	syncs++;
	sync_fd = fd;
	return fdatasync(fd);
}

KR_TEST(disk_flush)
{
	struct kr_disk *d;
	struct kr_disk_info info;
	char path[32];
	int err;

	make_image(path, 64 * 1024);
	d = open_path(path, "", &err);
	kr_disk_set_hooks(d, counting_sync, NULL);
	syncs = 0;
	CHECK_EQ(kr_disk_flush(d), 0);
	CHECK_EQ(kr_disk_sync(d), 0);
	CHECK_EQ(syncs, 2);
	CHECK_EQ(sync_fd, kr_disk_fd(d));
	kr_disk_set_hooks(d, failing_sync, NULL);
	CHECK_EQ(kr_disk_flush(d), -EIO);
	kr_disk_set_hooks(d, NULL, NULL);
	CHECK_EQ(kr_disk_flush(d), 0);		/* the real one */
	kr_disk_query(d, &info);
	CHECK_EQ(info.stats.flush_ops, 2);	/* the guest's flushes that worked */
	CHECK_EQ(info.stats.failed_ops, 1);
	kr_disk_close(d);
	/* writethrough: O_DSYNC */
	d = open_path(path, ",cache=writethrough", &err);
	CHECK_EQ(fcntl(kr_disk_fd(d), F_GETFL) & O_DSYNC, O_DSYNC);
	kr_disk_close(d);
	unlink(path);
}

/* ---- NBD exports (nbd=): QEMU's storage daemon serving a qcow2 image ---- */

#define QSD	"/usr/bin/qemu-storage-daemon"

struct qsd {
	char dir[64], sock[96], pid[96], uri[160];
};

static int shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int shell(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/*
 * A raw base with 0x5a in its first 64 KiB, a qcow2 overlay on it, and
 * the storage daemon exporting the overlay as "vda" (writable or not).
 * false when the daemon or qemu-img is missing (the test says so).
 */
static bool qsd_start(struct qsd *q, bool writable)
{
	if (access(QSD, X_OK) || shell("command -v qemu-img >/dev/null && command -v qemu-io "
				      ">/dev/null")) {
		printf("# skip: no %s or qemu-img/qemu-io (qemu-system-common, qemu-utils)\n", QSD);
		return false;
	}
	snprintf(q->dir, sizeof(q->dir), "/tmp/kr-nbd-XXXXXX");
	if (!mkdtemp(q->dir))
		return false;
	snprintf(q->sock, sizeof(q->sock), "%s/vda.nbd", q->dir);
	snprintf(q->pid, sizeof(q->pid), "%s/qsd.pid", q->dir);
	snprintf(q->uri, sizeof(q->uri), "nbd+unix:///vda?socket=%s", q->sock);
	return !shell("cd %s && qemu-img create -q -f raw base.raw 4M && "
		      "qemu-io -f raw -c 'write -P 0x5a 0 64k' base.raw >/dev/null && "
		      "qemu-img create -q -f qcow2 -b base.raw -F raw top.qcow2 && "
		      QSD " --blockdev driver=file,node-name=f,filename=top.qcow2 "
		      "--blockdev driver=qcow2,node-name=q,file=f --nbd-server "
		      "addr.type=unix,addr.path=%s --export type=nbd,id=e,node-name=q,name=vda,"
		      "writable=%s --pidfile %s --daemonize", q->dir, q->sock,
		      writable ? "on" : "off", q->pid);
}

/* Stop the daemon (it flushes the image), then the directory goes. */
static void qsd_stop(struct qsd *q)
{
	shell("p=$(cat %s 2>/dev/null) && kill $p && while kill -0 $p 2>/dev/null; do "
	      "sleep 0.05; done", q->pid);
}

static void qsd_clean(struct qsd *q)
{
	shell("rm -rf %s", q->dir);
}

KR_TEST(disk_nbd_parse)
{
	struct kr_disk_opts o;
	char why[200];

	CHECK_EQ(kr_disk_parse("nbd=nbd+unix:///vda?socket=/r/a,,b.nbd,ro,serial=S", &o, why,
			       sizeof(why)), 0);
	CHECK_STR(o.nbd, "nbd+unix:///vda?socket=/r/a,b.nbd");
	CHECK_STR(o.path, "");
	CHECK(o.ro && o.cache == KR_DISK_WRITEBACK);
	CHECK_EQ(kr_disk_parse("nbd=nbd://host:10809/x,cache=writeback", &o, why, sizeof(why)), 0);
	CHECK_EQ(kr_disk_parse("nbd=nbd+unix:///a?socket=/s,path=/x", &o, why, sizeof(why)),
		 -EINVAL);
	CHECK_STR(why, "--disk: path= and nbd= together");
	CHECK_EQ(kr_disk_parse("nbd=nbds://host/x", &o, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "--disk: nbd=: only nbd:// and nbd+unix:// URIs");
	CHECK_EQ(kr_disk_parse("nbd=/tmp/sock", &o, why, sizeof(why)), -EINVAL);
	CHECK_EQ(kr_disk_parse("nbd=nbd://h/x,cache=none", &o, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "no cache= but writeback") != NULL);
	CHECK_EQ(kr_disk_parse("nbd=nbd://h/x,cache=writethrough", &o, why, sizeof(why)), -EINVAL);
	CHECK_EQ(kr_disk_parse("nbd=", &o, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "--disk: nbd= is empty");
	CHECK_EQ(kr_disk_parse("ro,serial=x", &o, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "--disk: path=FILE (or nbd=URI) is missing");
}

KR_TEST(disk_nbd_qcow2)
{
	char arg[256], why[256], buf[4096], want[4096];
	struct kr_disk *d;
	struct iovec v = { buf, sizeof(buf) };
	struct kr_disk_info info;
	struct qsd q;
	int err;

	if (!qsd_start(&q, true)) {
		qsd_clean(&q);
		return;
	}
	snprintf(arg, sizeof(arg), "nbd=%s,discard=on", q.uri);
	d = open_opts(arg, why, sizeof(why), &err);
	CHECK_EQ(err, 0);
	if (!d) {
		printf("# %s\n", why);
		qsd_stop(&q);
		qsd_clean(&q);
		return;
	}
	CHECK_EQ(kr_disk_sectors(d), 4u * MIB / 512);
	CHECK(!kr_disk_ro(d) && kr_disk_fd(d) == -1);
	/* The backing file's data, through the overlay. */
	memset(want, 0x5a, sizeof(want));
	CHECK_EQ(kr_disk_read(d, &v, 1, 0, sizeof(buf), NULL), 0);
	CHECK(!memcmp(buf, want, sizeof(buf)));
	/* A write into the overlay, flushed, read back across two buffers. */
	memset(buf, 0x77, sizeof(buf));
	CHECK_EQ(kr_disk_write(d, &v, 1, MIB, sizeof(buf), NULL), 0);
	CHECK_EQ(kr_disk_flush(d), 0);
	{
		char a[1024], b[3072];
		struct iovec two[2] = { { a, sizeof(a) }, { b, sizeof(b) } };

		CHECK_EQ(kr_disk_read(d, two, 2, MIB, sizeof(buf), NULL), 0);
		memset(want, 0x77, sizeof(want));
		CHECK(!memcmp(a, want, sizeof(a)) && !memcmp(b, want, sizeof(b)));
	}
	/* Zeroes over the backing file's data read as zeroes. */
	CHECK_EQ(kr_disk_write_zeroes(d, 0, 8192, true, NULL), 0);
	CHECK_EQ(kr_disk_read(d, &v, 1, 0, sizeof(buf), NULL), 0);
	memset(want, 0, sizeof(want));
	CHECK(!memcmp(buf, want, sizeof(buf)));
	CHECK_EQ(kr_disk_discard(d, 2 * MIB, 65536), 0);
	/* Outside the disk: refused before any request. */
	CHECK_EQ(kr_disk_read(d, &v, 1, 4 * MIB, 512, NULL), -EINVAL);
	kr_disk_query(d, &info);
	CHECK_STR(info.path, q.uri);
	CHECK_EQ(info.stats.wr_ops, 1);
	CHECK_EQ(info.stats.flush_ops, 1);
	CHECK_EQ(info.stats.zero_ops, 1);
	CHECK_EQ(info.stats.failed_ops, 1);	/* the read outside the disk */
	kr_disk_close(d);
	qsd_stop(&q);
	/* In the qcow2 overlay now; the base untouched. */
	CHECK_EQ(shell("cd %s && qemu-io -f qcow2 -r -c 'read -P 0x77 1M 4k' -c "
		       "'read -P 0 0 8k' top.qcow2 | grep -q '^read 8192/8192' && "
		       "qemu-io -f raw -r -c 'read -P 0x5a 0 64k' -c 'read -P 0 1M 4k' "
		       "base.raw | grep -c '^read' | grep -qx 2", q.dir), 0);
	qsd_clean(&q);
}

KR_TEST(disk_nbd_refusals)
{
	char arg[256], why[256];
	struct kr_disk *d;
	struct qsd q;
	int err;

	/* Nobody listening: the connection's error, with the URI. */
	d = open_opts("nbd=nbd+unix:///vda?socket=/tmp/kr-nbd-nobody.sock", why, sizeof(why),
		      &err);
	CHECK(!d && err == -EIO);
	CHECK(strstr(why, "nbd+unix:///vda?socket=/tmp/kr-nbd-nobody.sock: ") == why);
	if (!qsd_start(&q, false)) {
		qsd_clean(&q);
		return;
	}
	/* A read-only export is a read-only disk, said so. */
	snprintf(arg, sizeof(arg), "nbd=%s", q.uri);
	d = open_opts(arg, why, sizeof(why), &err);
	CHECK(!d && err == -EROFS);
	CHECK(strstr(why, "the export is read-only (add ,ro)") != NULL);
	snprintf(arg, sizeof(arg), "nbd=%s,ro", q.uri);
	d = open_opts(arg, why, sizeof(why), &err);
	CHECK(d && err == 0);
	if (d) {
		char buf[512] = { 0 };
		struct iovec v = { buf, sizeof(buf) };

		CHECK(kr_disk_ro(d));
		CHECK_EQ(kr_disk_write(d, &v, 1, 0, sizeof(buf), NULL), -EROFS);
		kr_disk_close(d);
	}
	qsd_stop(&q);
	qsd_clean(&q);
}
