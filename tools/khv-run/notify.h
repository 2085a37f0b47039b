/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Queue notifications without an exit to khv-run's vCPU thread: an
 * ioeventfd (KHV_IOEVENTFD) on each queue's notify address of a virtio
 * device, watched by the I/O loop, which then kicks the queue.  The guest's
 * write completes in the kernel and the vCPU runs on at once.
 */
#ifndef KHV_RUN_NOTIFY_H
#define KHV_RUN_NOTIFY_H

#include <linux/khv.h>

#include "evloop.h"
#include "virtio_pci.h"

/* KHV_IOEVENTFD on the machine's VM (a function, so that tests can fake it). */
typedef int kr_ioeventfd_fn(void *opaque, const struct khv_ioeventfd *args);

struct kr_notify;

/*
 * For queues 0..nq-1 of v; installs v's notify hook (before the vCPUs run).
 * NULL with errno on failure.
 */
struct kr_notify *kr_notify_create(struct kr_virtio_pci *v, unsigned int nq,
				   struct kr_loop *loop, kr_ioeventfd_fn *fn, void *opaque);
/*
 * The same with the device's own eventfds (fds[q], which its worker
 * threads wait on): the kernel signals them directly, the I/O loop is not
 * involved, and the fds stay the device's.
 */
struct kr_notify *kr_notify_create_fds(struct kr_virtio_pci *v, unsigned int nq, const int *fds,
				       kr_ioeventfd_fn *fn, void *opaque);
/* After the vCPUs stopped: deassigns and closes everything. */
void kr_notify_destroy(struct kr_notify *n);
/* How many queue notifications arrived through the eventfds. */
uint64_t kr_notify_count(struct kr_notify *n);

#endif
