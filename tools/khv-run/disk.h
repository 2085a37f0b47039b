/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A disk image, host side: the --disk option, the image file (a raw file or
 * a block device) with its lock, or an NBD export, and the I/O on it.  The
 * virtio-blk device (virtio_blk.h) is its only user; it borrows a disk the
 * machine opened once, before any VM, so that a reboot keeps the file, the
 * lock and the statistics.
 *
 *   --disk path=FILE[,ro][,cache=writeback|writethrough|none][,discard=on|off]
 *          [,serial=TEXT][,queues=N]
 *   --disk nbd=URI[,ro][,discard=on|off][,serial=TEXT][,queues=N]
 *
 * nbd=: an export of an NBD server, by an NBD URI (nbd://HOST[:PORT]/NAME
 * or nbd+unix:///NAME?socket=PATH), read and written through libnbd: how
 * khv-run uses images of formats it does not implement itself (qcow2 with
 * its backing files, through QEMU's storage daemon).  The server keeps the
 * image and its lock and decides its caching, so cache= is writeback only;
 * FLUSH, discard and write zeroes go to the server when it offers them.
 *
 * A comma inside a value is written ",,".  cache=writeback (default): the
 * host's page cache, the guest gets FLUSH and a FLUSH is an fdatasync();
 * writethrough: writes are O_DSYNC, no FLUSH offered (still accepted);
 * none: O_DIRECT, FLUSH offered.  ro: opened read-only.  discard=on: the
 * guest may discard (punch holes) and write zeroes.  serial: the ID string
 * (GET_ID), 1 to 20 printable ASCII characters.  queues: 1 to
 * KR_DISK_MAX_QUEUES request queues, one host thread each.
 *
 * Nothing is ever written to an image by opening it: no header, no
 * metadata; only the guest's requests write.
 */
#ifndef KHV_RUN_DISK_H
#define KHV_RUN_DISK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define KR_DISK_SECTOR		512u
#define KR_DISK_SERIAL_MAX	20	/* VIRTIO_BLK_ID_BYTES */
#define KR_DISK_MAX_QUEUES	16
#define KR_DISK_MAX_DISKS	16	/* --disk options a machine takes */
#define KR_DISK_MAX_ALIGN	4096u	/* largest direct-I/O alignment we handle */
#define KR_DISK_BOUNCE_SIZE	(256u << 10)	/* see kr_disk_bounce_alloc() */

enum kr_disk_cache { KR_DISK_WRITEBACK, KR_DISK_WRITETHROUGH, KR_DISK_DIRECT };

struct kr_disk_opts {
	char path[PATH_MAX];		/* "" with nbd= */
	char nbd[PATH_MAX];		/* the NBD URI, or "" */
	bool ro;
	enum kr_disk_cache cache;
	bool discard;
	char serial[KR_DISK_SERIAL_MAX + 1];	/* "" when none */
	unsigned int queues;
	/*
	 * Not an option: open without the lock (khv-run --incoming), which
	 * the migration's source holds until it hands the disk over
	 * (kr_disk_lock()).
	 */
	bool unlocked;
};

/*
 * Parse the option string (what follows "--disk ") into *out.  0, or
 * -EINVAL with one line in why ("--disk: ...").  Never touches the file.
 */
int kr_disk_parse(const char *arg, struct kr_disk_opts *out, char *why, size_t len);

/* The name the machine gives disk number index: vda ... vdz, vdaa, vdab... */
void kr_disk_name(unsigned int index, char *buf, size_t len);

struct kr_disk;

/*
 * Open and lock the image.  0: *out is the disk, and why is either empty or
 * a warning to print (the file's tail that is not a whole sector is not
 * shown to the guest; the file system cannot lock).  Else a negative errno
 * with one line in why: -EBUSY when another process holds the image (its
 * lock), -EINVAL when it is not a regular file or block device or direct
 * I/O needs more than KR_DISK_MAX_ALIGN, or open()'s error.
 *
 * The lock follows QEMU's convention (block/file-posix.c), so that khv-run
 * and QEMU exclude each other too: open file description locks, shared
 * (F_RDLCK) on single bytes, byte 100 + p for each permission p held and
 * 200 + p for each permission p not shared with others; p is 0 consistent
 * read, 1 write, 2 write-unchanged, 3 resize.  Read-write holds 0 and 1,
 * read-only holds 0; neither shares 1 (write) nor 3 (resize).  Before
 * using the image we check that nobody else has a byte that conflicts
 * (200 + p for what we hold, 100 + p for what we do not share).  So:
 * read-only + read-only works, anything with a writer fails.
 */
int kr_disk_open(const struct kr_disk_opts *o, const char *name, struct kr_disk **out,
		 char *why, size_t len);
/* Close the file, which drops the lock.  After every user stopped. */
void kr_disk_close(struct kr_disk *d);
/*
 * A migration hands the disk over: the source drops its lock once the
 * guest's writes are synced and the devices frozen (kr_disk_unlock), the
 * destination takes it (kr_disk_lock) before it says yes; a failed
 * migration gives it back to the source.  kr_disk_lock: 0, -EBUSY when
 * another process holds it, or the file system's error (then unlocked, as
 * at open).  Nothing for an NBD export (the server keeps its image).
 */
void kr_disk_unlock(struct kr_disk *d);
int kr_disk_lock(struct kr_disk *d);

/* What the guest is told. */
uint64_t kr_disk_sectors(const struct kr_disk *d);	/* 512-byte sectors */
uint32_t kr_disk_blk_size(const struct kr_disk *d);	/* logical block, bytes */
uint32_t kr_disk_phys_size(const struct kr_disk *d);	/* physical block, bytes */
bool kr_disk_ro(const struct kr_disk *d);
bool kr_disk_discard_on(const struct kr_disk *d);
enum kr_disk_cache kr_disk_cache(const struct kr_disk *d);
unsigned int kr_disk_queues(const struct kr_disk *d);
const char *kr_disk_serial(const struct kr_disk *d);	/* "" when none */
int kr_disk_fd(const struct kr_disk *d);		/* diagnostics and tests; -1: NBD */

struct kr_disk_stats {
	uint64_t rd_bytes, wr_bytes, rd_ops, wr_ops;	/* successful IN, OUT */
	uint64_t flush_ops;				/* guest FLUSHes done */
	uint64_t discard_ops, discard_bytes;	/* ranges discarded (a request has 1-32) */
	uint64_t zero_ops, zero_bytes;		/* ranges zeroed (WRITE_ZEROES) */
	uint64_t failed_ops;		/* the host's I/O failed (IOERR) */
	uint64_t invalid_ops;		/* refused before any I/O (guest error) */
};

/* For query-block and query-blockstats: valid until kr_disk_close(). */
struct kr_disk_info {
	const char *name, *path;
	bool ro;
	uint64_t size;			/* bytes shown to the guest */
	struct kr_disk_stats stats;
};

void kr_disk_query(const struct kr_disk *d, struct kr_disk_info *out);
void kr_disk_count_invalid(struct kr_disk *d);

/*
 * I/O, from any thread, concurrently.  off and len in bytes, multiples of
 * 512 inside the disk (else -EINVAL); iov holds at least len bytes.
 * bounce: a buffer from kr_disk_bounce_alloc(), private to the caller,
 * used when direct I/O needs alignment the request does not have.  0 or a
 * negative errno (-EIO for a short transfer, -EROFS for a write to a
 * read-only disk).  The stats count each call as one operation.
 */
int kr_disk_read(struct kr_disk *d, const struct iovec *iov, unsigned int n, uint64_t off,
		 uint64_t len, void *bounce);
int kr_disk_write(struct kr_disk *d, const struct iovec *iov, unsigned int n, uint64_t off,
		  uint64_t len, void *bounce);
/* The guest's FLUSH: fdatasync(), counted.  kr_disk_sync(): the same, not counted. */
int kr_disk_flush(struct kr_disk *d);
int kr_disk_sync(struct kr_disk *d);
/* Deallocate (punch a hole); a file system that cannot is not an error. */
int kr_disk_discard(struct kr_disk *d, uint64_t off, uint64_t len);
/* Make the range read as zeroes; unmap: it may be deallocated. */
int kr_disk_write_zeroes(struct kr_disk *d, uint64_t off, uint64_t len, bool unmap,
			 void *bounce);
/* KR_DISK_BOUNCE_SIZE bytes aligned for direct I/O; free() it.  NULL + errno. */
void *kr_disk_bounce_alloc(void);

/*
 * Tests: replace fdatasync() and fallocate() (same contract as the system
 * calls; NULL for the real ones), and force an alignment as direct I/O
 * would need (power of 2 <= KR_DISK_MAX_ALIGN; 1 for none) without changing
 * the block size the guest is told, so that requests the guest may send
 * unaligned take the bounce path.  Before any I/O.
 */
typedef int kr_disk_sync_fn(int fd);
typedef int kr_disk_fallocate_fn(int fd, int mode, off_t off, off_t len);
void kr_disk_set_hooks(struct kr_disk *d, kr_disk_sync_fn *sync, kr_disk_fallocate_fn *falloc);
void kr_disk_force_align(struct kr_disk *d, uint32_t align);

#endif
