// SPDX-License-Identifier: GPL-2.0
/*
 * The POST code port and the debug-exit port (post.h).
 *
 * Locking: the state is one byte and a counter, kept with atomics instead
 * of a mutex (port 0x80 is Linux's I/O delay, written often).  The exit
 * callback is called with nothing held.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "machine.h"
#include "post.h"

struct kr_post {
	uint8_t last;
	uint64_t writes;
	void (*exit)(void *opaque, int status);
	void *opaque;
};

static void post_io(void *opaque, uint64_t offset, uint8_t *data, unsigned int size, bool write)
{
	struct kr_post *p = opaque;

	/* One byte wide: the rest of a wider access stays unclaimed. */
	if (offset || !size)
		return;
	if (write) {
		__atomic_store_n(&p->last, data[0], __ATOMIC_RELAXED);
		__atomic_fetch_add(&p->writes, 1, __ATOMIC_RELAXED);
	} else {
		data[0] = __atomic_load_n(&p->last, __ATOMIC_RELAXED);
	}
}

static void debug_exit_io(void *opaque, uint64_t offset, uint8_t *data, unsigned int size,
			  bool write)
{
	struct kr_post *p = opaque;

	/* Reads stay all-ones, as unclaimed. */
	if (!offset && size && write)
		p->exit(p->opaque, data[0] << 1 | 1);
}

struct kr_post *kr_post_create(void (*exit_fn)(void *opaque, int status), void *opaque)
{
	struct kr_post *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->exit = exit_fn;
	p->opaque = opaque;
	return p;
}

int kr_post_attach(struct kr_post *p, struct kr_bus *pio)
{
	int ret = kr_bus_add(pio, KR_PORT_POST, 1, post_io, p, "post");

	if (ret || !p->exit)
		return ret;
	return kr_bus_add(pio, KR_PORT_DEBUG_EXIT, 1, debug_exit_io, p, "debug-exit");
}

void kr_post_destroy(struct kr_post *p)
{
	free(p);
}

uint8_t kr_post_last(const struct kr_post *p)
{
	return __atomic_load_n(&p->last, __ATOMIC_RELAXED);
}

uint64_t kr_post_writes(const struct kr_post *p)
{
	return __atomic_load_n(&p->writes, __ATOMIC_RELAXED);
}

/* The state: the last code (u8); any byte is one the guest may write. */
int kr_post_save(struct kr_post *p, struct kr_sbuf *b)
{
	kr_sbuf_begin(b, KR_POST_STATE_VERSION);
	kr_sbuf_u8(b, kr_post_last(p));
	return b->oom ? -ENOMEM : 0;
}

int kr_post_load(struct kr_post *p, struct kr_sget *g)
{
	uint8_t last;

	if (kr_sget_begin(g, KR_POST_STATE_VERSION))
		return -EPROTO;
	last = kr_sget_u8(g);
	if (kr_sget_done(g))
		return -EPROTO;
	__atomic_store_n(&p->last, last, __ATOMIC_RELAXED);
	return 0;
}
