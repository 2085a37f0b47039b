/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Port KR_PORT_POST (0x80), the POST code port: writes are remembered (the
 * last value reads back; Linux also writes it as an I/O delay), nothing
 * else.  And the debug-exit port KR_PORT_DEBUG_EXIT, one byte wide as
 * QEMU's isa-debug-exit: a write of v asks the machine to exit with status
 * (v << 1) | 1.
 */
#ifndef KHV_RUN_POST_H
#define KHV_RUN_POST_H

#include <stdint.h>

#include "dev.h"
#include "snapfield.h"

/* The layout kr_post_save() writes (snapfield.h). */
#define KR_POST_STATE_VERSION	1

struct kr_post;

/*
 * exit_fn(opaque, status) is called on the vCPU's thread, with no lock held;
 * NULL: no debug-exit port (attach leaves it unclaimed).  NULL with errno
 * on failure.
 */
struct kr_post *kr_post_create(void (*exit_fn)(void *opaque, int status), void *opaque);
/* Registers port 0x80, and the debug-exit port when there is an exit callback. */
int kr_post_attach(struct kr_post *p, struct kr_bus *pio);
/* Not while a vCPU may still access it.  NULL is allowed. */
void kr_post_destroy(struct kr_post *p);
/* The last code written, and how many writes there were (for a debug trace). */
uint8_t kr_post_last(const struct kr_post *p);
uint64_t kr_post_writes(const struct kr_post *p);

/*
 * The port's state for a snapshot (snapfield.h's contract): the last code
 * written, which a read of port 0x80 returns.  The write counter is this
 * process's statistic; the debug-exit port has no state.  save: 0 or
 * -ENOMEM.  load: into a port just created, before any vCPU runs; 0 or
 * -EPROTO with the reason in g.
 */
int kr_post_save(struct kr_post *p, struct kr_sbuf *b);
int kr_post_load(struct kr_post *p, struct kr_sget *g);

#endif
