/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The snapshot and migration stream (Documentation/khv/migration.rst,
 * "The stream"): the same bytes go into a snapshot file and over a
 * migration's socket.  A 24-byte header, then sections, each a 24-byte
 * header and its payload, the last one of type KR_SNAP_END.  Every integer
 * is little-endian.
 *
 *   header:  magic "KHVSNAP\n", u32 version (KR_SNAP_VERSION), u32 flags
 *            (0), u64 reserved (0)
 *   section: u32 type, u32 instance (a vCPU's id, a device's index),
 *            u64 length (of the payload), u32 crc (CRC-32, zlib's, of the
 *            first 16 header bytes and the payload), u32 reserved (0)
 *
 * What the sections hold is the writer's business (khv-run's snapshot.c);
 * this file only frames them.  A reader refuses, with a message that says
 * what and at which offset: another magic, a version it does not read,
 * nonzero flags or reserved fields, a section longer than KR_SNAP_MAX or
 * the caller allows, a CRC that does not match, and a stream that ends
 * before its END section.
 */
#ifndef KHV_RUN_SNAPSTREAM_H
#define KHV_RUN_SNAPSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define KR_SNAP_MAGIC		"KHVSNAP\n"
#define KR_SNAP_VERSION		1
#define KR_SNAP_HDR_SIZE	24
#define KR_SNAP_SECTION_SIZE	24
/* The longest payload a reader takes: a RAM section's worth of pages. */
#define KR_SNAP_MAX		(64u << 20)

/* Section types; a reader skips a type it does not know only if told to. */
enum kr_snap_type {
	KR_SNAP_END = 0,	/* the last section, empty */
	KR_SNAP_MACHINE = 1,	/* what the VM is: its configuration */
	KR_SNAP_RAM = 2,	/* guest pages */
	KR_SNAP_VCPU = 3,	/* one vCPU's state (instance: its id) */
	KR_SNAP_VM = 4,		/* irqchip, clock */
	KR_SNAP_DEVICE = 5,	/* one device's state (instance: its index) */
};

/* Where bytes go or come from: a file descriptor, or memory (the tests). */
struct kr_snap_io {
	/* Write all of buf, or read exactly n bytes (0 at the end): 0 or -errno. */
	int (*write)(void *ctx, const void *buf, size_t n);
	ssize_t (*read)(void *ctx, void *buf, size_t n);
	void *ctx;
};

void kr_snap_io_fd(struct kr_snap_io *io, int *fd);
/*
 * Read n bytes of fd into buf (fewer at its end): the count, or -errno.
 * wait, when not NULL, runs before each read (a migration's destination
 * serving its control socket until fd is readable); its nonzero return,
 * a -errno, ends the read with it.  kr_snap_io_fd()'s reads.
 */
ssize_t kr_read_full(int fd, void *buf, size_t n, int (*wait)(void *opaque, int fd),
		     void *opaque);

struct kr_snap_writer {
	struct kr_snap_io io;
	uint64_t offset;	/* bytes written */
	int err;		/* the first error; nothing is written after it */
};

void kr_snap_write_begin(struct kr_snap_writer *w, const struct kr_snap_io *io);
/* One section whose payload is the n pieces of iov; 0 or -errno. */
int kr_snap_write_section(struct kr_snap_writer *w, uint32_t type, uint32_t instance,
			  const struct iovec *iov, unsigned int n);
int kr_snap_write_end(struct kr_snap_writer *w);

struct kr_snap_reader {
	struct kr_snap_io io;
	uint64_t offset;	/* bytes read */
	uint32_t version;
	int done;		/* the END section was read */
	char why[160];		/* the reason of the last refusal */
};

/* The header: 0, or -EPROTO / -errno with why set. */
int kr_snap_read_begin(struct kr_snap_reader *r, const struct kr_snap_io *io);
/*
 * The next section, its payload in *payload (malloc'ed, max bytes at
 * most, which KR_SNAP_MAX caps; free it).  0 with *type KR_SNAP_END at the
 * end; -EPROTO with why set for a stream it refuses, -errno for an error of
 * the source.
 */
int kr_snap_read_section(struct kr_snap_reader *r, uint32_t *type, uint32_t *instance,
			 void **payload, size_t *len, size_t max);

#endif /* KHV_RUN_SNAPSTREAM_H */
