// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueues, device side (virtqueue.h).
 *
 * Everything in the rings is guest memory that the driver may rewrite at
 * any time, maliciously too.  So every guest value is read exactly once
 * into a local (descriptors are copied whole before being looked at), the
 * local copy is checked, and only it is used: no check-then-reread.  Every
 * buffer goes through kr_gpa() for its full length.
 *
 * A malformed chain (a loop, a buffer outside RAM, an indirect table inside
 * an indirect table, a readable buffer after a writable one, more buffers
 * than the device takes, more than 4 GiB in total, a head index out of
 * range, or an avail index more than a ring ahead) breaks the queue: it
 * is not consumed, nothing more is popped until the queue is set up again,
 * and the transport marks the device DEVICE_NEEDS_RESET.  Dropping just the
 * chain would need a used entry for a head that may not even be a valid
 * index, would hide a driver that disagrees with us about the ring, and a
 * hostile driver could make us walk garbage on every notify; a dead queue
 * costs nothing and the spec's answer to it is a reset.
 */
#include <errno.h>
#include <string.h>

#include "virtqueue.h"

/* The rings are little-endian; so is every host this runs on (x86-64). */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian host expected");

#define AVAIL_FLAGS		0
#define AVAIL_IDX		2
#define AVAIL_RING(i)		(4 + 2 * (size_t)(i))
#define USED_IDX		2
#define USED_RING(i)		(4 + 8 * (size_t)(i))
#define DESC_SIZE		16

/*
 * Ring words are accessed with relaxed atomics: the compiler must do each
 * access once, whole, where the code says (the driver is a concurrent
 * writer); ordering comes from the explicit barriers below.  kr_vq_init()
 * checked the alignment that makes these accesses atomic.
 */
static uint16_t ld16(const uint8_t *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
}

static void st16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, v, __ATOMIC_RELAXED);
}

static void st32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, v, __ATOMIC_RELAXED);
}

int kr_vq_init(struct kr_vq *vq, const struct kr_mem *mem, uint16_t size, uint64_t desc,
	       uint64_t avail, uint64_t used, bool event_idx, bool indirect)
{
	uint8_t *d, *a, *u;

	if (!size || size > KR_VQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	if ((desc & 15) || (avail & 1) || (used & 3))
		return -EINVAL;
	d = kr_gpa(mem, desc, KR_VQ_DESC_SIZE(size));
	a = kr_gpa(mem, avail, KR_VQ_AVAIL_SIZE(size));
	u = kr_gpa(mem, used, KR_VQ_USED_SIZE(size));
	if (!d || !a || !u)
		return -EINVAL;
	/* The host mapping keeps the guest's alignment if RAM is mapped sanely. */
	if (((uintptr_t)d & 15) || ((uintptr_t)a & 1) || ((uintptr_t)u & 3))
		return -EINVAL;
	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
	vq->size = size;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->desc = d;
	vq->avail = a;
	vq->used = u;
	return 0;
}

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static void read_desc(const uint8_t *table, unsigned int i, struct desc *d)
{
	uint8_t raw[DESC_SIZE];

	memcpy(raw, table + (size_t)i * DESC_SIZE, DESC_SIZE);	/* one copy, then only it */
	d->addr = kr_get_le(raw, 8);
	d->len = kr_get_le(raw + 8, 4);
	d->flags = kr_get_le(raw + 12, 2);
	d->next = kr_get_le(raw + 14, 2);
}

/* Append one buffer of a chain to e; false when the chain is malformed. */
static bool add_buffer(struct kr_vq *vq, struct kr_vq_elem *e, const struct desc *d)
{
	bool writable = d->flags & KR_VQ_DESC_F_WRITE;
	uint32_t *total = writable ? &e->in_bytes : &e->out_bytes;
	void *p;

	if (!writable && e->n_in)
		return false;		/* readable after writable (2.7.4.2) */
	if (!d->len)
		return true;		/* carries nothing: not worth an iovec */
	p = kr_gpa(vq->mem, d->addr, d->len);
	if (!p || e->n_out + e->n_in == e->cap || *total > UINT32_MAX - d->len)
		return false;
	e->iov[e->n_out + e->n_in] = (struct iovec){ p, d->len };
	if (writable)
		e->n_in++;
	else
		e->n_out++;
	*total += d->len;
	return true;
}

/*
 * Walk the chain at head: direct descriptors, possibly ending in one that
 * points to an indirect table (2.7.5.3.2), whose own chain ends it.  The
 * walk visits at most as many descriptors as the table holds: one more
 * means a loop.
 */
static bool walk_chain(struct kr_vq *vq, uint16_t head, struct kr_vq_elem *e)
{
	const uint8_t *table = vq->desc;
	unsigned int entries = vq->size, seen = 0, i = head;
	bool in_indirect = false;
	struct desc d;

	e->head = head;
	e->n_out = e->n_in = 0;
	e->out_bytes = e->in_bytes = 0;
	if (head >= vq->size)
		return false;
	for (;;) {
		if (++seen > entries)
			return false;
		read_desc(table, i, &d);
		if (d.flags & KR_VQ_DESC_F_INDIRECT) {
			/* Its WRITE flag means nothing and is ignored. */
			if (!vq->indirect || in_indirect || (d.flags & KR_VQ_DESC_F_NEXT))
				return false;
			if (!d.len || d.len % DESC_SIZE)
				return false;
			table = kr_gpa(vq->mem, d.addr, d.len);
			if (!table)
				return false;
			entries = d.len / DESC_SIZE;
			seen = 0;
			i = 0;
			in_indirect = true;
			continue;
		}
		if (!add_buffer(vq, e, &d))
			return false;
		if (!(d.flags & KR_VQ_DESC_F_NEXT))
			return true;
		i = d.next;
		if (i >= entries)
			return false;
	}
}

int kr_vq_pop(struct kr_vq *vq, struct kr_vq_elem *e)
{
	uint16_t avail_idx, head;

	if (vq->broken)
		return -EIO;
	/*
	 * Acquire: the ring entries and descriptors read below were written
	 * by the driver before its write barrier and avail->idx store
	 * (2.7.13); without this they could be read before idx and be stale.
	 */
	avail_idx = __atomic_load_n((uint16_t *)(vq->avail + AVAIL_IDX), __ATOMIC_ACQUIRE);
	if (avail_idx == vq->last_avail) {
		if (!vq->event_idx)
			return 0;
		/*
		 * Empty: ask to be notified for the next one (avail_event),
		 * then look again.  Full barrier: our avail_event store must
		 * be visible before we reread avail->idx, as the driver's idx
		 * store is before it reads avail_event (its mb).  Otherwise
		 * each side could miss the other's store: the driver skips
		 * the notify and we go idle with a buffer pending.
		 */
		st16(vq->used + USED_RING(vq->size), vq->last_avail);
		kr_mem_dirty(vq->mem, vq->used + USED_RING(vq->size), 2);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = __atomic_load_n((uint16_t *)(vq->avail + AVAIL_IDX),
					    __ATOMIC_ACQUIRE);
		if (avail_idx == vq->last_avail)
			return 0;
	}
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
		goto broken;	/* more available than the ring holds */
	head = ld16(vq->avail + AVAIL_RING(vq->last_avail & (vq->size - 1)));
	if (!walk_chain(vq, head, e))
		goto broken;
	vq->last_avail++;
	return 1;
broken:
	vq->broken = true;
	return -EIO;
}

/* Write the used entry of e at our used_idx (not yet published). */
static void put_used(struct kr_vq *vq, const struct kr_vq_elem *e, uint32_t len)
{
	uint8_t *slot = vq->used + USED_RING(vq->used_idx & (vq->size - 1));

	st32(slot, e->head);
	st32(slot + 4, len < e->in_bytes ? len : e->in_bytes);
	vq->used_idx++;
	/* A migration sends again what the device wrote: every writable buffer, the entry. */
	for (unsigned int i = e->n_out; i < e->n_out + e->n_in && len; i++)
		kr_mem_dirty(vq->mem, e->iov[i].iov_base, e->iov[i].iov_len);
	kr_mem_dirty(vq->mem, slot, 8);
}

static void publish_used(struct kr_vq *vq)
{
	/*
	 * Release: the buffer contents the device wrote and the used entries
	 * before are visible before the new used->idx that publishes them
	 * (the driver reads idx, then its read barrier, then the entry).
	 */
	__atomic_store_n((uint16_t *)(vq->used + USED_IDX), vq->used_idx, __ATOMIC_RELEASE);
	kr_mem_dirty(vq->mem, vq->used + USED_IDX, 2);
}

void kr_vq_push(struct kr_vq *vq, const struct kr_vq_elem *e, uint32_t len)
{
	put_used(vq, e, len);
	publish_used(vq);
}

void kr_vq_push_n(struct kr_vq *vq, const struct kr_vq_elem *const *e, const uint32_t *len,
		  unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		put_used(vq, e[i], len[i]);
	if (n)
		publish_used(vq);
}

bool kr_vq_need_interrupt(struct kr_vq *vq)
{
	uint16_t old = vq->signalled_used, now = vq->used_idx, event;

	/*
	 * Full barrier: the used->idx store of kr_vq_push() must be visible
	 * before we read the driver's suppression (flags or used_event).  The
	 * driver re-enabling interrupts writes used_event, has an mb, then
	 * rereads used->idx to see whether it missed something; with only
	 * store->load reordering in between, both sides would see stale
	 * values and the interrupt would be lost.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (now == old)
		return false;		/* nothing used since the last decision */
	vq->signalled_used = now;
	if (!vq->event_idx)
		return !(ld16(vq->avail + AVAIL_FLAGS) & KR_VQ_AVAIL_F_NO_INTERRUPT);
	event = ld16(vq->avail + AVAIL_RING(vq->size));	/* used_event */
	/* Did used->idx move past used_event since the last decision? (2.7.10) */
	return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}
