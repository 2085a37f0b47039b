/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Split virtqueues, device side (virtio 1.2 section 2.7): take the chains
 * the driver made available as lists of host buffers, give them back as
 * used with the length written, and decide when the driver wants an
 * interrupt.  Packed virtqueues are not offered.
 *
 * A struct kr_vq is not thread-safe: its owner (the transport, under the
 * queue's lock) serialises kr_vq_pop(), kr_vq_push() and
 * kr_vq_need_interrupt().  The driver's vCPUs read and write the rings at
 * the same time; the barriers in virtqueue.c pair with theirs.
 */
#ifndef KHV_RUN_VIRTQUEUE_H
#define KHV_RUN_VIRTQUEUE_H

#include <sys/uio.h>

#include "dev.h"

#define KR_VQ_MAX_SIZE		32768

#define KR_VQ_DESC_F_NEXT	1
#define KR_VQ_DESC_F_WRITE	2
#define KR_VQ_DESC_F_INDIRECT	4
#define KR_VQ_AVAIL_F_NO_INTERRUPT	1

/* Byte sizes of the three parts for a queue of n entries (with the event words). */
#define KR_VQ_DESC_SIZE(n)	(16ull * (n))
#define KR_VQ_AVAIL_SIZE(n)	(6ull + 2ull * (n))
#define KR_VQ_USED_SIZE(n)	(6ull + 8ull * (n))

struct kr_vq {
	const struct kr_mem *mem;
	uint16_t size;		/* a power of 2 */
	bool event_idx;		/* KR_VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;		/* KR_VIRTIO_F_INDIRECT_DESC negotiated */
	bool broken;		/* a malformed chain was seen: no more pops */
	uint8_t *desc, *avail, *used;	/* host addresses of the three parts */
	uint16_t last_avail;	/* next avail ring slot to take */
	uint16_t used_idx;	/* our copy of used->idx */
	uint16_t signalled_used;	/* used_idx at the last interrupt decision */
};

/*
 * One chain: iov[0 .. n_out) are device-readable, then n_in device-writable
 * buffers.  The caller supplies iov and its capacity (cap): a chain with
 * more buffers than that is malformed for this device.
 */
struct kr_vq_elem {
	uint16_t head;
	unsigned int n_out, n_in;
	uint32_t out_bytes, in_bytes;
	struct iovec *iov;
	unsigned int cap;
	uint32_t epoch;		/* the transport's: which setup of the queue it is from */
};

/*
 * Check the layout and start with all indices at 0.  0, or -EINVAL when
 * size is not a power of 2 in 1..32768, a part is misaligned (16, 2, 4)
 * or not entirely in guest RAM.
 */
int kr_vq_init(struct kr_vq *vq, const struct kr_mem *mem, uint16_t size, uint64_t desc,
	       uint64_t avail, uint64_t used, bool event_idx, bool indirect);

/*
 * Take the next available chain into *e.  1: got one; 0: none (and, with
 * EVENT_IDX, avail_event asks the driver to notify for the next one);
 * -EIO: the ring or the chain is malformed, vq->broken is set and every
 * later pop fails the same way until kr_vq_init() again.
 */
int kr_vq_pop(struct kr_vq *vq, struct kr_vq_elem *e);

/* Hand a popped chain back with len bytes written (capped at e->in_bytes). */
void kr_vq_push(struct kr_vq *vq, const struct kr_vq_elem *e, uint32_t len);
/*
 * Hand n popped chains back at once, e[i] with len[i] bytes written, under
 * one used->idx store: the driver sees all of them or none.  A merged
 * receive frame (virtio-net's MRG_RXBUF) spans several chains, and Linux
 * takes its num_buffers entries in one go, failing when some are not there.
 */
void kr_vq_push_n(struct kr_vq *vq, const struct kr_vq_elem *const *e, const uint32_t *len,
		  unsigned int n);

/*
 * After one or more pushes: true when the driver wants a used buffer
 * notification for them (used_event, or KR_VQ_AVAIL_F_NO_INTERRUPT);
 * false when nothing was pushed since the last call.
 */
bool kr_vq_need_interrupt(struct kr_vq *vq);

#endif
