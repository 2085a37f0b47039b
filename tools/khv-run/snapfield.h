/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A device's state as bytes, for the snapshot and migration stream
 * (snapstream.h carries them in KR_SNAP_DEVICE sections).  A device's
 * save appends little-endian fields to a struct kr_sbuf; its load takes
 * them back, in the same order, from a struct kr_sget, which refuses to
 * read past the end and remembers the first reason to refuse.
 *
 * Every device's state starts with a version (kr_sbuf_begin /
 * kr_sget_begin) so that a device can change its layout and still say
 * clearly what it cannot read.  A load checks every value it takes as
 * if the guest had written it: a snapshot file is outside input.
 *
 * The contract of every device's pair (e.g. kr_serial_save/_load):
 *   save: on the I/O thread, with the vCPUs paused; 0, or -errno when the
 *         state cannot be saved now (the save fails with that reason);
 *   load: into a device just created, before any vCPU runs; 0, or -EPROTO
 *         with the reason in g (kr_sget_fail()); a failed load leaves the
 *         device to be destroyed, never used.
 */
#ifndef KHV_RUN_SNAPFIELD_H
#define KHV_RUN_SNAPFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kr_sbuf {
	uint8_t *p;
	size_t len, cap;
	bool oom;		/* an append failed: the buffer is not the state */
};

void kr_sbuf_free(struct kr_sbuf *b);
void kr_sbuf_bytes(struct kr_sbuf *b, const void *data, size_t n);
void kr_sbuf_u8(struct kr_sbuf *b, uint8_t v);
void kr_sbuf_u16(struct kr_sbuf *b, uint16_t v);
void kr_sbuf_u32(struct kr_sbuf *b, uint32_t v);
void kr_sbuf_u64(struct kr_sbuf *b, uint64_t v);
static inline void kr_sbuf_bool(struct kr_sbuf *b, bool v)
{
	kr_sbuf_u8(b, v);
}
/* The state's version, first. */
static inline void kr_sbuf_begin(struct kr_sbuf *b, uint32_t version)
{
	kr_sbuf_u32(b, version);
}

struct kr_sget {
	const uint8_t *p;
	size_t len, off;
	const char *what;	/* the device, for the reason */
	bool bad;
	char why[160];		/* the first reason to refuse */
};

void kr_sget_init(struct kr_sget *g, const void *p, size_t len, const char *what);
/* Past the end: 0 (or zeroes), g->bad set with "<what>: truncated state". */
uint8_t kr_sget_u8(struct kr_sget *g);
uint16_t kr_sget_u16(struct kr_sget *g);
uint32_t kr_sget_u32(struct kr_sget *g);
uint64_t kr_sget_u64(struct kr_sget *g);
/* 0 or 1, else refused. */
bool kr_sget_bool(struct kr_sget *g);
void kr_sget_bytes(struct kr_sget *g, void *out, size_t n);
/*
 * Refuse: "<what>: <reason>" into g->why unless a reason is already there;
 * returns -EPROTO, for `return kr_sget_fail(...)`.
 */
int kr_sget_fail(struct kr_sget *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The version read must be `version`: 0, else -EPROTO. */
int kr_sget_begin(struct kr_sget *g, uint32_t version);
/* At the end of a load: 0 when nothing was refused and every byte was read. */
int kr_sget_done(struct kr_sget *g);

#endif /* KHV_RUN_SNAPFIELD_H */
