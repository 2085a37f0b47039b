// SPDX-License-Identifier: GPL-2.0
/*
 * virtio entropy device (virtio_rng.h).
 *
 * Requests are served right on the thread that delivered the notification
 * (a vCPU thread, or the I/O thread with an ioeventfd): getrandom() of a
 * bounded amount never blocks (GRND_NONBLOCK; before the host's pool is
 * ready a request is answered with what there is, possibly 0 bytes, which
 * the driver just asks again for).  Each chain gets at most
 * KR_RNG_CHAIN_MAX bytes, the len of its used entry says how many.
 *
 * Locking: r->lock serialises request processing (two vCPUs kicking at
 * once take turns) and lets reset wait for a pass in progress.  It is
 * held across kr_virtio_pop()/push() (device lock -> transport queue lock,
 * the order virtio_pci.c allows) and dropped before kr_virtio_notify().
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/random.h>

#include "virtio_rng.h"

#define RNG_MAX_IOV	16	/* buffers per chain; Linux uses 1 */

struct kr_virtio_rng {
	pthread_mutex_t lock;
	struct kr_virtio_pci *vp;
	kr_rng_source_fn *source;
};

static ssize_t host_random(void *buf, size_t len)
{
	return getrandom(buf, len, GRND_NONBLOCK);
}

/* Fill up to len bytes at p: how many were. */
static size_t fill(struct kr_virtio_rng *r, uint8_t *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = r->source(p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += n;
	}
	return done;
}

static void rng_notify(void *opaque, unsigned int q)
{
	struct kr_virtio_rng *r = opaque;
	struct iovec iov[RNG_MAX_IOV];
	struct kr_vq_elem e = { .iov = iov, .cap = RNG_MAX_IOV };

	pthread_mutex_lock(&r->lock);
	while (kr_virtio_pop(r->vp, q, &e) > 0) {
		size_t budget = KR_RNG_CHAIN_MAX, written = 0;

		/* Readable buffers carry nothing for this device: skipped. */
		for (unsigned int i = e.n_out; i < e.n_out + e.n_in && budget; i++) {
			size_t want = iov[i].iov_len < budget ? iov[i].iov_len : budget;
			size_t got = fill(r, iov[i].iov_base, want);

			written += got;
			budget -= got;
			if (got < want)
				break;
		}
		kr_virtio_push(r->vp, q, &e, written);
	}
	pthread_mutex_unlock(&r->lock);
	kr_virtio_notify(r->vp, q);
}

static void rng_reset(void *opaque)
{
	struct kr_virtio_rng *r = opaque;

	/* Pops already fail: once a pass in progress is over, we are idle. */
	pthread_mutex_lock(&r->lock);
	pthread_mutex_unlock(&r->lock);
}

static const struct kr_virtio_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = KR_VIRTIO_ID_RNG,
	.class_code = 0xff0000,		/* "does not fit a defined class" */
	.num_queues = 1,
	.queue_max = KR_RNG_QUEUE_SIZE,
	.queue_notify = rng_notify,
	.reset = rng_reset,
};

struct kr_virtio_rng *kr_virtio_rng_create(struct kr_pci *pci, int slot,
					   const struct kr_mem *mem)
{
	struct kr_virtio_rng *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	r->source = host_random;
	r->vp = kr_virtio_pci_create(pci, slot, mem, &rng_ops, r);
	if (!r->vp) {
		int err = errno;

		kr_virtio_rng_destroy(r);
		errno = err;
		return NULL;
	}
	return r;
}

void kr_virtio_rng_destroy(struct kr_virtio_rng *r)
{
	if (!r)
		return;
	kr_virtio_pci_destroy(r->vp);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

struct kr_virtio_pci *kr_virtio_rng_transport(struct kr_virtio_rng *r)
{
	return r->vp;
}

#define SNAP_VERSION	1

int kr_virtio_rng_save(struct kr_virtio_rng *r, struct kr_sbuf *b)
{
	size_t start = b->len;
	int err;

	/* A pass pops and pushes under the lock: none in flight once we have it. */
	pthread_mutex_lock(&r->lock);
	kr_sbuf_begin(b, SNAP_VERSION);
	err = kr_virtio_pci_save(r->vp, b, NULL);
	pthread_mutex_unlock(&r->lock);
	if (err && !b->oom)
		b->len = start;
	return err;
}

int kr_virtio_rng_load(struct kr_virtio_rng *r, struct kr_sget *g)
{
	if (kr_sget_begin(g, SNAP_VERSION))
		return -EPROTO;
	return kr_virtio_pci_load(r->vp, g);
}

void kr_virtio_rng_set_source(struct kr_virtio_rng *r, kr_rng_source_fn *fn)
{
	pthread_mutex_lock(&r->lock);
	r->source = fn ? fn : host_random;
	pthread_mutex_unlock(&r->lock);
}
