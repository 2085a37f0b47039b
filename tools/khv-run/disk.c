// SPDX-License-Identifier: GPL-2.0
/*
 * A disk image, host side (disk.h): the --disk option, opening and locking
 * the image, and the I/O the virtio-blk workers do on it.
 *
 * Threads: kr_disk_parse() and kr_disk_open() run on the main thread before
 * any VM; the I/O functions run on the device's worker threads, one per
 * queue, concurrently; kr_disk_query() on the I/O thread (control socket).
 *
 * Locking: everything in struct kr_disk is set at open and then only read,
 * except the statistics (atomic counters: each is exact, a query may see
 * one request's counters half updated) and the rmw lock.  The rmw lock
 * exists only for direct I/O (d->align > 1): a write that does not cover
 * whole blocks is a read-modify-write of its first and last block and must
 * not interleave with another write into the same block, from another
 * queue.  Such a write takes it exclusively; every other write (whole
 * blocks, discard, write zeroes) takes it shared, so that they run in
 * parallel with each other.  Reads never take it.
 *
 * An NBD disk (nbd=) has no file: one libnbd handle, whose calls are
 * thread-safe (libnbd serializes them on the handle's lock), so the
 * queues' requests reach the server one at a time.  One connection keeps
 * the server's view simple (one client, its writes in order) at the cost
 * of parallelism between queues.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libnbd.h>

#include "disk.h"
#include "iov.h"

/* QEMU's lock bytes (block/file-posix.c) and permission bits (block-common.h). */
#define LOCK_PERM_BASE		100
#define LOCK_SHARED_BASE	200
#define PERM_CONSISTENT_READ	0
#define PERM_WRITE		1
#define PERM_RESIZE		3
#define PERM_COUNT		4

#define XFER_IOV		64	/* iovecs per preadv/pwritev */
#define ZERO_CHUNK		(64u << 10)

struct kr_disk {
	int fd;				/* -1 for an NBD disk */
	struct nbd_handle *nbd;		/* NULL for a file */
	bool nbd_flush, nbd_trim, nbd_zero;	/* what the server offers */
	char *path, *name;
	bool ro, discard;
	enum kr_disk_cache cache;
	unsigned int queues;
	char serial[KR_DISK_SERIAL_MAX + 1];
	uint64_t size;			/* bytes shown: a multiple of blk_size */
	uint32_t blk_size, phys_size;
	uint32_t align, mem_align;	/* what direct I/O needs; 1: nothing */
	pthread_rwlock_t rmw;
	kr_disk_sync_fn *sync;
	kr_disk_fallocate_fn *falloc;
	struct kr_disk_stats stats;	/* atomics */
};

/* Zeroes to write from, aligned for direct I/O; never written. */
static uint8_t zeroes[ZERO_CHUNK] __attribute__((aligned(KR_DISK_MAX_ALIGN)));

static void say(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* ---- the option ------------------------------------------------------------ */

/*
 * Copy the value at *p, up to an unescaped ',' or the end, into dst[cap]
 * with ",," as ','.  Its length, or -1 when it does not fit (dst then holds
 * a truncated copy).  *p moves past it.
 */
static long take_value(const char **p, char *dst, size_t cap)
{
	const char *s = *p;
	size_t n = 0;

	for (;;) {
		if (*s == ',') {
			if (s[1] != ',')
				break;
			s++;
		} else if (!*s) {
			break;
		}
		if (n + 1 < cap)
			dst[n] = *s;
		n++;
		s++;
	}
	*p = s;
	dst[n < cap ? n : cap - 1] = 0;
	return n < cap ? (long)n : -1;
}

static bool on_off(const char *v, bool *out)
{
	if (!strcmp(v, "on"))
		*out = true;
	else if (!strcmp(v, "off"))
		*out = false;
	else
		return false;
	return true;
}

static bool parse_queues(const char *v, unsigned int *out)
{
	unsigned int n = 0;

	if (!*v || strlen(v) > 2)
		return false;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return false;
		n = n * 10 + (*v - '0');
	}
	if (n < 1 || n > KR_DISK_MAX_QUEUES)
		return false;
	*out = n;
	return true;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

/* For messages: at most max bytes of s, anything not printable as '?'. */
static void shown(char *dst, size_t cap, const char *s, size_t max)
{
	size_t i;

	for (i = 0; i < max && s[i] && i + 1 < cap; i++)
		dst[i] = s[i] < 0x20 || s[i] > 0x7e ? '?' : s[i];
	dst[i] = 0;
}

enum { K_PATH, K_NBD, K_RO, K_CACHE, K_DISCARD, K_SERIAL, K_QUEUES, K_COUNT };
static const char *const keys[K_COUNT] = {
	"path", "nbd", "ro", "cache", "discard", "serial", "queues"
};

static int parse_one(const char **p, struct kr_disk_opts *o, bool *seen, char *why, size_t len)
{
	char key[16], small[32];
	size_t k = strcspn(*p, "=,");
	bool has_value = (*p)[k] == '=';
	int which;
	long n;

	if (!k) {
		say(why, len, "--disk: empty option");
		return -EINVAL;
	}
	for (which = 0; which < K_COUNT; which++)
		if (strlen(keys[which]) == k && !strncmp(*p, keys[which], k))
			break;
	if (which == K_COUNT) {
		shown(key, sizeof(key), *p, k);
		say(why, len, "--disk: unknown option '%s'%s (path, nbd, ro, cache, discard, "
		    "serial, queues)", key, k > 15 ? "..." : "");
		return -EINVAL;
	}
	if (seen[which]) {
		say(why, len, "--disk: %s given twice", keys[which]);
		return -EINVAL;
	}
	seen[which] = true;
	*p += k;
	if (!has_value) {
		if (which == K_RO) {
			o->ro = true;
			return 0;
		}
		say(why, len, "--disk: %s needs a value (%s=...)", keys[which], keys[which]);
		return -EINVAL;
	}
	(*p)++;
	switch (which) {
	case K_PATH:
		n = take_value(p, o->path, sizeof(o->path));
		if (n < 0)
			say(why, len, "--disk: path is longer than %d bytes", PATH_MAX - 1);
		else if (!n)
			say(why, len, "--disk: path= is empty");
		return n > 0 ? 0 : -EINVAL;
	case K_NBD:
		n = take_value(p, o->nbd, sizeof(o->nbd));
		if (n < 0)
			say(why, len, "--disk: nbd is longer than %d bytes", PATH_MAX - 1);
		else if (!n)
			say(why, len, "--disk: nbd= is empty");
		else if (strncmp(o->nbd, "nbd://", 6) && strncmp(o->nbd, "nbd+unix://", 11))
			say(why, len, "--disk: nbd=: only nbd:// and nbd+unix:// URIs");
		else
			return 0;
		return -EINVAL;
	case K_SERIAL:
		n = take_value(p, o->serial, sizeof(o->serial));
		if (n < 0)
			say(why, len, "--disk: serial is longer than %d characters",
			    KR_DISK_SERIAL_MAX);
		else if (!n)
			say(why, len, "--disk: serial= is empty");
		else if (!printable(o->serial))
			say(why, len, "--disk: serial: printable ASCII characters only");
		else
			return 0;
		return -EINVAL;
	}
	n = take_value(p, small, sizeof(small));
	shown(small, sizeof(small), small, sizeof(small));
	switch (which) {
	case K_RO:
		if (n >= 0 && on_off(small, &o->ro))
			return 0;
		say(why, len, "--disk: ro=%s: expected on or off", small);
		return -EINVAL;
	case K_CACHE:
		if (!strcmp(small, "writeback")) {
			o->cache = KR_DISK_WRITEBACK;
		} else if (!strcmp(small, "writethrough")) {
			o->cache = KR_DISK_WRITETHROUGH;
		} else if (!strcmp(small, "none")) {
			o->cache = KR_DISK_DIRECT;
		} else {
			say(why, len, "--disk: cache=%s: expected writeback, writethrough or none",
			    small);
			return -EINVAL;
		}
		return 0;
	case K_DISCARD:
		if (n >= 0 && on_off(small, &o->discard))
			return 0;
		say(why, len, "--disk: discard=%s: expected on or off", small);
		return -EINVAL;
	default:	/* K_QUEUES */
		if (n >= 0 && parse_queues(small, &o->queues))
			return 0;
		say(why, len, "--disk: queues=%s: expected a number from 1 to %d", small,
		    KR_DISK_MAX_QUEUES);
		return -EINVAL;
	}
}

int kr_disk_parse(const char *arg, struct kr_disk_opts *out, char *why, size_t len)
{
	bool seen[K_COUNT] = { false };
	const char *p = arg;

	memset(out, 0, sizeof(*out));
	out->cache = KR_DISK_WRITEBACK;
	out->queues = 1;
	if (why && len)
		why[0] = 0;
	if (!p || !*p) {
		say(why, len, "--disk: expected path=FILE or nbd=URI, then [,ro][,cache=...]"
		    "[,discard=...][,serial=...][,queues=N]");
		return -EINVAL;
	}
	for (;;) {
		int err = parse_one(&p, out, seen, why, len);

		if (err)
			return err;
		if (!*p)
			break;
		p++;		/* the ',' */
	}
	if (seen[K_PATH] == seen[K_NBD]) {
		say(why, len, seen[K_PATH] ? "--disk: path= and nbd= together" :
		    "--disk: path=FILE (or nbd=URI) is missing");
		return -EINVAL;
	}
	if (seen[K_NBD] && out->cache != KR_DISK_WRITEBACK) {
		say(why, len, "--disk: nbd=: no cache= but writeback (the NBD server decides "
		    "how it caches)");
		return -EINVAL;
	}
	return 0;
}

void kr_disk_name(unsigned int index, char *buf, size_t len)
{
	char tmp[16];
	size_t i = sizeof(tmp);
	unsigned long long n = index;

	/* Bijective base 26: a..z, aa..zz, aaa... */
	tmp[--i] = 0;
	do {
		tmp[--i] = 'a' + n % 26;
		n = n / 26;
	} while (n-- > 0);
	snprintf(buf, len, "vd%s", &tmp[i]);
}

/* ---- opening and locking ------------------------------------------------- */

static int lock_byte(int fd, off_t at)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = at, .l_len = 1 };

	return fcntl(fd, F_OFD_SETLK, &fl) ? -errno : 0;
}

/* Does another open file description hold a lock on byte at? */
static int byte_taken(int fd, off_t at)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = at, .l_len = 1 };

	if (fcntl(fd, F_OFD_GETLK, &fl))
		return -errno;
	return fl.l_type != F_UNLCK;
}

/* 0, -EBUSY, or another error: the file system cannot lock. */
static int lock_image(int fd, bool ro)
{
	unsigned int held = 1u << PERM_CONSISTENT_READ | (ro ? 0 : 1u << PERM_WRITE);
	unsigned int unshared = 1u << PERM_WRITE | 1u << PERM_RESIZE;
	int err;

	/*
	 * Take ours first, then look for theirs: two openers racing both see
	 * each other's bytes and both fail, never both succeed.
	 */
	for (int p = 0; p < PERM_COUNT; p++) {
		err = 0;
		if (held & (1u << p))
			err = lock_byte(fd, LOCK_PERM_BASE + p);
		if (!err && (unshared & (1u << p)))
			err = lock_byte(fd, LOCK_SHARED_BASE + p);
		if (err)
			return err == -EAGAIN || err == -EACCES ? -EBUSY : err;
	}
	for (int p = 0; p < PERM_COUNT; p++) {
		err = 0;
		if (held & (1u << p))
			err = byte_taken(fd, LOCK_SHARED_BASE + p);
		if (!err && (unshared & (1u << p)))
			err = byte_taken(fd, LOCK_PERM_BASE + p);
		if (err)
			return err > 0 ? -EBUSY : err;
	}
	return 0;
}

void kr_disk_unlock(struct kr_disk *d)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_len = PERM_COUNT };

	if (d->fd < 0)
		return;
	fl.l_start = LOCK_PERM_BASE;
	fcntl(d->fd, F_OFD_SETLK, &fl);
	fl.l_start = LOCK_SHARED_BASE;
	fcntl(d->fd, F_OFD_SETLK, &fl);
}

int kr_disk_lock(struct kr_disk *d)
{
	int err;

	if (d->fd < 0)
		return 0;
	err = lock_image(d->fd, d->ro);
	if (err)
		kr_disk_unlock(d);	/* none of it half taken */
	return err;
}

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* What direct I/O needs: file offsets and lengths, and buffer addresses. */
static void dio_align(int fd, const struct stat *st, uint32_t *align, uint32_t *mem)
{
	struct statx sx;
	int ss;

	if (!statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) &&
	    (sx.stx_mask & STATX_DIOALIGN) && sx.stx_dio_offset_align) {
		*align = sx.stx_dio_offset_align;
		*mem = sx.stx_dio_mem_align ? sx.stx_dio_mem_align : 1;
		return;
	}
	if (S_ISBLK(st->st_mode) && !ioctl(fd, BLKSSZGET, &ss) && ss > 0) {
		*align = *mem = ss;
		return;
	}
	/* Not told (tmpfs, older kernels): a page is always enough. */
	*align = *mem = KR_DISK_MAX_ALIGN;
}

static uint32_t phys_block(int fd, const struct stat *st, uint32_t blk)
{
	unsigned int pb = 0;
	uint64_t v = st->st_blksize;

	if (S_ISBLK(st->st_mode) && !ioctl(fd, BLKPBSZGET, &pb))
		v = pb;
	return pow2(v) && v >= blk && v <= (64u << 10) ? v : blk;
}

static int real_sync(int fd)
{
	return fdatasync(fd);
}

static int real_fallocate(int fd, int mode, off_t off, off_t len)
{
	return fallocate(fd, mode, off, len);
}

static int open_image(const struct kr_disk_opts *o, int *fdp, char *why, size_t len)
{
	int flags = O_CLOEXEC | (o->ro ? O_RDONLY : O_RDWR);
	int fd, err;

	if (o->cache == KR_DISK_DIRECT)
		flags |= O_DIRECT;
	else if (o->cache == KR_DISK_WRITETHROUGH)
		flags |= O_DSYNC;
	fd = open(o->path, flags);
	if (fd >= 0) {
		*fdp = fd;
		return 0;
	}
	err = errno;
	if (err == EINVAL && o->cache == KR_DISK_DIRECT)
		say(why, len, "%s: its file system cannot do direct I/O (cache=none); "
		    "use cache=writeback", o->path);
	else if (!o->ro && (err == EACCES || err == EROFS || err == EPERM))
		say(why, len, "%s: cannot open it read-write: %s (add ,ro for a read-only disk)",
		    o->path, strerror(err));
	else
		say(why, len, "%s: %s", o->path, strerror(err));
	return -err;
}

/* Size, alignment and block sizes from the open file. */
static int measure(struct kr_disk *d, const struct stat *st, char *why, size_t len)
{
	uint64_t bytes;
	int rdonly = 0;

	if (S_ISBLK(st->st_mode)) {
		if (ioctl(d->fd, BLKGETSIZE64, &bytes)) {
			int err = errno;

			say(why, len, "%s: cannot get the device's size: %s", d->path,
			    strerror(err));
			return -err;
		}
		if (!d->ro && !ioctl(d->fd, BLKROGET, &rdonly) && rdonly) {
			say(why, len, "%s: the block device is read-only (add ,ro)", d->path);
			return -EROFS;
		}
	} else {
		bytes = st->st_size;
	}
	d->align = d->mem_align = 1;
	d->blk_size = KR_DISK_SECTOR;
	if (d->cache == KR_DISK_DIRECT) {
		dio_align(d->fd, st, &d->align, &d->mem_align);
		if (!pow2(d->align) || d->align > KR_DISK_MAX_ALIGN || !pow2(d->mem_align) ||
		    d->mem_align > KR_DISK_MAX_ALIGN) {
			say(why, len, "%s: direct I/O needs %u-byte alignment, more than the %u "
			    "khv-run handles; use cache=writeback", d->path, d->align,
			    KR_DISK_MAX_ALIGN);
			return -EINVAL;
		}
		if (d->align > d->blk_size)
			d->blk_size = d->align;
	}
	d->size = bytes / d->blk_size * d->blk_size;
	d->phys_size = phys_block(d->fd, st, d->blk_size);
	if (d->size != bytes)
		say(why, len, "warning: %s: its last %llu bytes are not a whole %u-byte block: "
		    "the guest does not see them", d->path,
		    (unsigned long long)(bytes - d->size), d->blk_size);
	return 0;
}

/* Connect to the export: its size and what it offers. */
static int open_nbd(struct kr_disk *d, char *why, size_t len)
{
	int64_t bytes;
	int rdonly;

	d->nbd = nbd_create();
	if (!d->nbd) {
		say(why, len, "%s: %s", d->path, nbd_get_error());
		return -ENOMEM;
	}
	if (nbd_connect_uri(d->nbd, d->path) == -1) {
		say(why, len, "%s: %s", d->path, nbd_get_error());
		return -EIO;
	}
	bytes = nbd_get_size(d->nbd);
	rdonly = nbd_is_read_only(d->nbd);
	if (bytes < 0 || rdonly < 0) {
		say(why, len, "%s: %s", d->path, nbd_get_error());
		return -EIO;
	}
	if (rdonly && !d->ro) {
		say(why, len, "%s: the export is read-only (add ,ro)", d->path);
		return -EROFS;
	}
	d->nbd_flush = nbd_can_flush(d->nbd) == 1;
	d->nbd_trim = nbd_can_trim(d->nbd) == 1;
	d->nbd_zero = nbd_can_zero(d->nbd) == 1;
	d->align = d->mem_align = 1;
	d->blk_size = d->phys_size = KR_DISK_SECTOR;
	d->size = (uint64_t)bytes / KR_DISK_SECTOR * KR_DISK_SECTOR;
	if (d->size != (uint64_t)bytes)
		say(why, len, "warning: %s: its last %llu bytes are not a whole %u-byte block: "
		    "the guest does not see them", d->path,
		    (unsigned long long)(bytes - d->size), KR_DISK_SECTOR);
	return 0;
}

int kr_disk_open(const struct kr_disk_opts *o, const char *name, struct kr_disk **out,
		 char *why, size_t len)
{
	struct kr_disk *d;
	struct stat st;
	int err, lock_err;

	*out = NULL;
	if (why && len)
		why[0] = 0;
	d = calloc(1, sizeof(*d));
	if (!d || !(d->path = strdup(o->nbd[0] ? o->nbd : o->path)) ||
	    !(d->name = strdup(name ? name : ""))) {
		say(why, len, "%s: out of memory", o->nbd[0] ? o->nbd : o->path);
		err = -ENOMEM;
		goto fail;
	}
	d->fd = -1;
	d->ro = o->ro;
	d->discard = o->discard;
	d->cache = o->cache;
	d->queues = o->queues ? o->queues : 1;
	snprintf(d->serial, sizeof(d->serial), "%s", o->serial);
	d->sync = real_sync;
	d->falloc = real_fallocate;
	pthread_rwlock_init(&d->rmw, NULL);
	if (o->nbd[0]) {
		err = open_nbd(d, why, len);
		if (err)
			goto fail;
		*out = d;
		return 0;
	}
	err = open_image(o, &d->fd, why, len);
	if (err)
		goto fail;
	if (fstat(d->fd, &st)) {
		err = -errno;
		say(why, len, "%s: %s", d->path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		say(why, len, "%s: not a regular file or a block device", d->path);
		err = -EINVAL;
		goto fail;
	}
	lock_err = o->unlocked ? 0 : lock_image(d->fd, d->ro);
	if (lock_err == -EBUSY) {
		say(why, len, "%s is in use by another process (locked)", d->path);
		err = -EBUSY;
		goto fail;
	}
	err = measure(d, &st, why, len);
	if (err)
		goto fail;
	if (lock_err && why && len) {		/* the file system cannot lock */
		size_t used = strlen(why);

		say(why + used, len - used, "%swarning: %s: cannot be locked: another process "
		    "could use it at the same time", used ? "; " : "", d->path);
	}
	{
		pthread_rwlockattr_t a;

		/* glibc prefers readers: the read-modify-writes must not starve. */
		pthread_rwlock_destroy(&d->rmw);
		pthread_rwlockattr_init(&a);
		pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&d->rmw, &a);
		pthread_rwlockattr_destroy(&a);
	}
	*out = d;
	return 0;
fail:
	if (d) {
		if (d->fd >= 0)
			close(d->fd);
		if (d->nbd)
			nbd_close(d->nbd);
		pthread_rwlock_destroy(&d->rmw);
		free(d->path);
		free(d->name);
	}
	free(d);
	return err;
}

void kr_disk_close(struct kr_disk *d)
{
	if (!d)
		return;
	if (d->nbd) {
		/* An orderly end: the server finishes what it was given first. */
		nbd_shutdown(d->nbd, 0);
		nbd_close(d->nbd);
	} else {
		close(d->fd);
	}
	pthread_rwlock_destroy(&d->rmw);
	free(d->path);
	free(d->name);
	free(d);
}

uint64_t kr_disk_sectors(const struct kr_disk *d)
{
	return d->size / KR_DISK_SECTOR;
}

uint32_t kr_disk_blk_size(const struct kr_disk *d)
{
	return d->blk_size;
}

uint32_t kr_disk_phys_size(const struct kr_disk *d)
{
	return d->phys_size;
}

bool kr_disk_ro(const struct kr_disk *d)
{
	return d->ro;
}

bool kr_disk_discard_on(const struct kr_disk *d)
{
	return d->discard;
}

enum kr_disk_cache kr_disk_cache(const struct kr_disk *d)
{
	return d->cache;
}

unsigned int kr_disk_queues(const struct kr_disk *d)
{
	return d->queues;
}

const char *kr_disk_serial(const struct kr_disk *d)
{
	return d->serial;
}

int kr_disk_fd(const struct kr_disk *d)
{
	return d->fd;
}

/* ---- statistics ---------------------------------------------------------- */

static void count(uint64_t *c, uint64_t v)
{
	__atomic_fetch_add(c, v, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

void kr_disk_query(const struct kr_disk *d, struct kr_disk_info *out)
{
	const struct kr_disk_stats *s = &d->stats;

	out->name = d->name;
	out->path = d->path;
	out->ro = d->ro;
	out->size = d->size;
	out->stats = (struct kr_disk_stats){
		.rd_bytes = get(&s->rd_bytes), .wr_bytes = get(&s->wr_bytes),
		.rd_ops = get(&s->rd_ops), .wr_ops = get(&s->wr_ops),
		.flush_ops = get(&s->flush_ops),
		.discard_ops = get(&s->discard_ops), .discard_bytes = get(&s->discard_bytes),
		.zero_ops = get(&s->zero_ops), .zero_bytes = get(&s->zero_bytes),
		.failed_ops = get(&s->failed_ops), .invalid_ops = get(&s->invalid_ops),
	};
}

void kr_disk_count_invalid(struct kr_disk *d)
{
	count(&d->stats.invalid_ops, 1);
}

/* ---- I/O ------------------------------------------------------------------- */

static bool range_ok(const struct kr_disk *d, uint64_t off, uint64_t len)
{
	return !((off | len) % KR_DISK_SECTOR) && off <= d->size && len <= d->size - off;
}

/* The same with an NBD export: a request per buffer. */
static int nbd_xfer(struct kr_disk *d, bool write, const struct iovec *iov, unsigned int n,
		    uint64_t off, uint64_t len)
{
	for (unsigned int i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len < len ? iov[i].iov_len : len;
		int r;

		if (!l)
			continue;
		if (write)
			r = nbd_pwrite(d->nbd, iov[i].iov_base, l, off, 0);
		else
			r = nbd_pread(d->nbd, iov[i].iov_base, l, off, 0);
		if (r == -1)
			return -EIO;
		off += l;
		len -= l;
	}
	return len ? -EINVAL : 0;	/* the buffers hold less than len */
}

/* len bytes between the file at off and iov[0..n), as many calls as it takes. */
static int xfer(struct kr_disk *d, bool write, const struct iovec *iov, unsigned int n,
		uint64_t off, uint64_t len)
{
	unsigned int i = 0;
	size_t skip = 0;	/* into iov[i] */
	uint64_t done = 0;

	if (d->nbd)
		return nbd_xfer(d, write, iov, n, off, len);

	while (done < len) {
		struct iovec w[XFER_IOV];
		unsigned int k = 0;
		uint64_t want = 0;
		ssize_t r;

		for (unsigned int j = i; j < n && k < XFER_IOV && want < len - done; j++) {
			size_t s = j == i ? skip : 0;
			uint64_t l = iov[j].iov_len - s;

			if (l > len - done - want)
				l = len - done - want;
			if (l)
				w[k++] = (struct iovec){ (uint8_t *)iov[j].iov_base + s, l };
			want += l;
		}
		if (!k)
			return -EINVAL;		/* the buffers hold less than len */
		if (write)
			r = pwritev(d->fd, w, k, off + done);
		else
			r = preadv(d->fd, w, k, off + done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			return -EIO;		/* end of file: it shrank under us */
		done += r;
		while (r > 0) {
			size_t avail = iov[i].iov_len - skip;

			if ((size_t)r < avail) {
				skip += r;
				break;
			}
			r -= avail;
			i++;
			skip = 0;
		}
	}
	return 0;
}

static int xfer_buf(struct kr_disk *d, bool write, void *buf, uint64_t len, uint64_t off)
{
	struct iovec v = { buf, len };

	return xfer(d, write, &v, 1, off, len);
}

/* Can direct I/O take the request as it is? */
static bool aligned(const struct kr_disk *d, const struct iovec *iov, unsigned int n,
		    uint64_t off, uint64_t len)
{
	uint64_t left = len;

	if (d->align == 1 && d->mem_align == 1)
		return true;
	if ((off | len) & (d->align - 1))
		return false;
	for (unsigned int i = 0; i < n && left; i++) {
		uint64_t l = iov[i].iov_len < left ? iov[i].iov_len : left;

		if (((uintptr_t)iov[i].iov_base & (d->mem_align - 1)) || (l & (d->align - 1)))
			return false;
		left -= l;
	}
	return true;
}

/*
 * Through the bounce buffer, in chunks of whole blocks: a read reads the
 * blocks and copies out what was asked; a write first reads a first or
 * last block it covers only in part (the caller holds rmw exclusively).
 */
static int bounced(struct kr_disk *d, bool write, const struct iovec *iov, unsigned int n,
		   uint64_t off, uint64_t len, uint8_t *bounce)
{
	uint64_t a = d->align, start = off & ~(a - 1), end = (off + len + a - 1) & ~(a - 1);
	int err;

	for (uint64_t c = start; c < end;) {
		uint64_t chunk = end - c < KR_DISK_BOUNCE_SIZE ? end - c : KR_DISK_BOUNCE_SIZE;
		uint64_t from = c > off ? c : off;
		uint64_t to = c + chunk < off + len ? c + chunk : off + len;
		bool head = write && c < off, tail = write && c + chunk > off + len;

		if (!write) {
			err = xfer_buf(d, false, bounce, chunk, c);
			if (err)
				return err;
			kr_iov_copy(iov, n, from - off, bounce + (from - c), to - from, true);
		} else {
			if (head && (err = xfer_buf(d, false, bounce, a, c)))
				return err;
			if (tail && !(head && chunk == a) &&
			    (err = xfer_buf(d, false, bounce + chunk - a, a, c + chunk - a)))
				return err;
			kr_iov_copy(iov, n, from - off, bounce + (from - c), to - from, false);
			err = xfer_buf(d, true, bounce, chunk, c);
			if (err)
				return err;
		}
		c += chunk;
	}
	return 0;
}

static int do_read(struct kr_disk *d, const struct iovec *iov, unsigned int n, uint64_t off,
		   uint64_t len, void *bounce)
{
	if (aligned(d, iov, n, off, len))
		return xfer(d, false, iov, n, off, len);
	return bounce ? bounced(d, false, iov, n, off, len, bounce) : -EINVAL;
}

static int do_write(struct kr_disk *d, const struct iovec *iov, unsigned int n, uint64_t off,
		    uint64_t len, void *bounce)
{
	bool rmw;
	int err;

	if (d->align == 1 && d->mem_align == 1)
		return xfer(d, true, iov, n, off, len);
	rmw = (off | len) & (d->align - 1);
	if (rmw)
		pthread_rwlock_wrlock(&d->rmw);
	else
		pthread_rwlock_rdlock(&d->rmw);
	if (aligned(d, iov, n, off, len))
		err = xfer(d, true, iov, n, off, len);
	else
		err = bounce ? bounced(d, true, iov, n, off, len, bounce) : -EINVAL;
	pthread_rwlock_unlock(&d->rmw);
	return err;
}

static int done(struct kr_disk *d, int err, uint64_t *ops, uint64_t *bytes, uint64_t len)
{
	if (err) {
		count(&d->stats.failed_ops, 1);
		return err;
	}
	count(ops, 1);
	if (bytes)
		count(bytes, len);
	return 0;
}

int kr_disk_read(struct kr_disk *d, const struct iovec *iov, unsigned int n, uint64_t off,
		 uint64_t len, void *bounce)
{
	int err = range_ok(d, off, len) ? do_read(d, iov, n, off, len, bounce) : -EINVAL;

	return done(d, err, &d->stats.rd_ops, &d->stats.rd_bytes, len);
}

int kr_disk_write(struct kr_disk *d, const struct iovec *iov, unsigned int n, uint64_t off,
		  uint64_t len, void *bounce)
{
	int err = d->ro ? -EROFS : !range_ok(d, off, len) ? -EINVAL :
		  do_write(d, iov, n, off, len, bounce);

	return done(d, err, &d->stats.wr_ops, &d->stats.wr_bytes, len);
}

int kr_disk_sync(struct kr_disk *d)
{
	if (d->nbd)	/* a server that cannot flush has nothing to flush */
		return d->nbd_flush && nbd_flush(d->nbd, 0) == -1 ? -EIO : 0;
	return d->sync(d->fd) ? -errno : 0;
}

int kr_disk_flush(struct kr_disk *d)
{
	return done(d, kr_disk_sync(d), &d->stats.flush_ops, NULL, 0);
}

/*
 * fallocate() under the rmw lock: 0, or -errno.  An NBD disk: the server's
 * trim for a hole, -EOPNOTSUPP when it offers none (discard only).
 */
static int punch(struct kr_disk *d, int mode, uint64_t off, uint64_t len)
{
	int err;

	if (d->nbd) {
		if (mode == FALLOC_FL_PUNCH_HOLE && d->nbd_trim)
			return nbd_trim(d->nbd, len, off, 0) == -1 ? -EIO : 0;
		return -EOPNOTSUPP;
	}

	if (d->align > 1)
		pthread_rwlock_rdlock(&d->rmw);
	err = d->falloc(d->fd, mode | FALLOC_FL_KEEP_SIZE, off, len) ? -errno : 0;
	if (d->align > 1)
		pthread_rwlock_unlock(&d->rmw);
	return err;
}

/* The file system does not do this mode of fallocate() (here). */
static bool refused(int err)
{
	return err == -EOPNOTSUPP || err == -ENOSYS || err == -EINVAL;
}

int kr_disk_discard(struct kr_disk *d, uint64_t off, uint64_t len)
{
	int err = d->ro ? -EROFS : !range_ok(d, off, len) ? -EINVAL : 0;

	if (!err && len) {
		err = punch(d, FALLOC_FL_PUNCH_HOLE, off, len);
		if (refused(err))
			err = 0;	/* discarding is a hint; the data may stay */
	}
	return done(d, err, &d->stats.discard_ops, &d->stats.discard_bytes, len);
}

/* Write zeroes by hand, from the zero buffer. */
static int write_zero_blocks(struct kr_disk *d, uint64_t off, uint64_t len, void *bounce)
{
	for (uint64_t at = off; at < off + len;) {
		uint64_t l = off + len - at < ZERO_CHUNK ? off + len - at : ZERO_CHUNK;
		struct iovec v = { zeroes, l };
		int err = do_write(d, &v, 1, at, l, bounce);

		if (err)
			return err;
		at += l;
	}
	return 0;
}

int kr_disk_write_zeroes(struct kr_disk *d, uint64_t off, uint64_t len, bool unmap,
			 void *bounce)
{
	int err = d->ro ? -EROFS : !range_ok(d, off, len) ? -EINVAL : 0;

	if (!err && len && d->nbd) {
		/* A trimmed range need not read as zeroes: the server's zero, which may unmap. */
		err = -EOPNOTSUPP;
		if (d->nbd_zero)
			err = nbd_zero(d->nbd, len, off, unmap ? 0 : LIBNBD_CMD_FLAG_NO_HOLE) == -1 ?
			      -EIO : 0;
		if (err == -EOPNOTSUPP)
			err = write_zero_blocks(d, off, len, bounce);
	} else if (!err && len) {
		err = -EOPNOTSUPP;
		if (unmap)
			err = punch(d, FALLOC_FL_PUNCH_HOLE, off, len);	/* holes read as 0 */
		if (refused(err))
			err = punch(d, FALLOC_FL_ZERO_RANGE, off, len);
		if (refused(err))
			err = write_zero_blocks(d, off, len, bounce);
	}
	return done(d, err, &d->stats.zero_ops, &d->stats.zero_bytes, len);
}

void *kr_disk_bounce_alloc(void)
{
	return aligned_alloc(KR_DISK_MAX_ALIGN, KR_DISK_BOUNCE_SIZE);
}

void kr_disk_set_hooks(struct kr_disk *d, kr_disk_sync_fn *sync, kr_disk_fallocate_fn *falloc)
{
	d->sync = sync ? sync : real_sync;
	d->falloc = falloc ? falloc : real_fallocate;
}

void kr_disk_force_align(struct kr_disk *d, uint32_t align)
{
	d->align = d->mem_align = align;
	d->size &= ~(uint64_t)(align - 1);
}
