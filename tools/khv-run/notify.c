// SPDX-License-Identifier: GPL-2.0
/*
 * ioeventfds on virtio notify addresses (notify.h), on eventfds of our
 * own that the I/O loop watches, or on the device's (a worker's).
 *
 * The addresses move with BAR 0, which the guest programs: the transport's
 * hook (a vCPU thread, no transport lock held) re-reads every queue's
 * address and moves the ioeventfds.  n->lock covers the table of what is
 * assigned; the eventfds themselves stay open and registered with the loop
 * for the device's lifetime, so a notification that raced a move is still
 * delivered (at worst a spurious kick, which a virtio device tolerates).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "notify.h"

struct kr_notify_queue {
	struct kr_notify *n;
	unsigned int index;
	int efd;
	bool assigned;
	uint64_t gpa;
};

struct kr_notify {
	struct kr_virtio_pci *v;
	struct kr_loop *loop;
	kr_ioeventfd_fn *fn;
	void *opaque;
	unsigned int nq;
	bool own_fds;		/* eventfds made and watched here, or the device's */
	pthread_mutex_t lock;
	uint64_t count;
	struct kr_notify_queue q[KR_VIRTIO_MAX_QUEUES];
};

static int kr_notify_ioctl(struct kr_notify *n, struct kr_notify_queue *q, bool assign)
{
	struct khv_ioeventfd a = {
		.addr = q->gpa, .len = 2, .fd = q->efd,
		.flags = assign ? 0 : KHV_IOEVENTFD_DEASSIGN,
	};

	return n->fn(n->opaque, &a);
}

/* With n->lock held: each queue's ioeventfd where BAR 0 puts it now. */
static void kr_notify_sync(struct kr_notify *n)
{
	for (unsigned int i = 0; i < n->nq; i++) {
		struct kr_notify_queue *q = &n->q[i];
		uint64_t gpa = 0;
		bool decoded = kr_virtio_pci_notify_addr(n->v, i, &gpa);

		if (q->assigned && (!decoded || gpa != q->gpa)) {
			kr_notify_ioctl(n, q, false);
			q->assigned = false;
		}
		if (decoded && !q->assigned) {
			q->gpa = gpa;
			/* A refusal leaves the queue to MMIO exits: slower, still right. */
			q->assigned = !kr_notify_ioctl(n, q, true);
		}
	}
}

static void kr_notify_hook(void *opaque, struct kr_virtio_pci *v)
{
	struct kr_notify *n = opaque;

	(void)v;
	pthread_mutex_lock(&n->lock);
	kr_notify_sync(n);
	pthread_mutex_unlock(&n->lock);
}

static void kr_notify_fired(void *opaque, int fd, uint32_t events)
{
	struct kr_notify_queue *q = opaque;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return;
	__atomic_add_fetch(&q->n->count, v, __ATOMIC_RELAXED);
	kr_virtio_pci_kick(q->n->v, q->index);
}

static struct kr_notify *kr_notify_new(struct kr_virtio_pci *v, unsigned int nq,
					struct kr_loop *loop, kr_ioeventfd_fn *fn, void *opaque)
{
	struct kr_notify *n;

	if (!nq || nq > KR_VIRTIO_MAX_QUEUES) {
		errno = EINVAL;
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	*n = (struct kr_notify){ .v = v, .loop = loop, .fn = fn, .opaque = opaque, .nq = nq };
	pthread_mutex_init(&n->lock, NULL);
	for (unsigned int i = 0; i < KR_VIRTIO_MAX_QUEUES; i++) {
		n->q[i].n = n;
		n->q[i].index = i;
		n->q[i].efd = -1;
	}
	return n;
}

static struct kr_notify *kr_notify_start(struct kr_notify *n)
{
	kr_virtio_pci_set_notify_hook(n->v, kr_notify_hook, n);
	kr_notify_hook(n, n->v);
	return n;
}

struct kr_notify *kr_notify_create(struct kr_virtio_pci *v, unsigned int nq,
				   struct kr_loop *loop, kr_ioeventfd_fn *fn, void *opaque)
{
	struct kr_notify *n = kr_notify_new(v, nq, loop, fn, opaque);

	if (!n)
		return NULL;
	n->own_fds = true;
	for (unsigned int i = 0; i < nq; i++) {
		struct kr_notify_queue *q = &n->q[i];

		q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->efd < 0 || kr_loop_add(loop, q->efd, EPOLLIN, kr_notify_fired, q)) {
			int e = errno ? errno : EIO;

			if (q->efd >= 0) {
				close(q->efd);
				q->efd = -1;
			}
			kr_notify_destroy(n);
			errno = e;
			return NULL;
		}
	}
	return kr_notify_start(n);
}

struct kr_notify *kr_notify_create_fds(struct kr_virtio_pci *v, unsigned int nq, const int *fds,
				       kr_ioeventfd_fn *fn, void *opaque)
{
	struct kr_notify *n = kr_notify_new(v, nq, NULL, fn, opaque);

	if (!n)
		return NULL;
	for (unsigned int i = 0; i < nq; i++) {
		if (fds[i] < 0) {
			kr_notify_destroy(n);
			errno = EINVAL;
			return NULL;
		}
		n->q[i].efd = fds[i];
	}
	return kr_notify_start(n);
}

void kr_notify_destroy(struct kr_notify *n)
{
	if (!n)
		return;
	kr_virtio_pci_set_notify_hook(n->v, NULL, NULL);
	for (unsigned int i = 0; i < n->nq; i++) {
		struct kr_notify_queue *q = &n->q[i];

		if (q->assigned)
			kr_notify_ioctl(n, q, false);
		if (n->own_fds && q->efd >= 0) {
			kr_loop_del(n->loop, q->efd);
			close(q->efd);
		}
	}
	pthread_mutex_destroy(&n->lock);
	free(n);
}

uint64_t kr_notify_count(struct kr_notify *n)
{
	return __atomic_load_n(&n->count, __ATOMIC_RELAXED);
}
