// SPDX-License-Identifier: GPL-2.0
/*
 * notify.c: ioeventfds follow BAR 0 of a virtio device, and a write to one
 * (what khv does for a guest's notify write) kicks the queue through the
 * I/O loop.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../notify.h"
#include "../virtio_rng.h"
#include "t.h"
#include "vdrv.h"

#define BARADDR		0xc0000000ull
#define BARADDR2	0xc0100000ull
#define RING		0x10000ull
#define BUF		0x20000ull
#define MAX_REC		16

struct rec {
	struct khv_ioeventfd a[MAX_REC];
	unsigned int n;
	int refuse;		/* -errno for every call, 0: accept */
};

static int fake_ioeventfd(void *opaque, const struct khv_ioeventfd *args)
{
	struct rec *r = opaque;

	if (r->n < MAX_REC)
		r->a[r->n++] = *args;
	return r->refuse;
}

static void *loop_thread(void *p)
{
	kr_loop_run(p);
	return NULL;
}

/* Wait up to 2 s for the used entry of head. */
static bool used_soon(struct vdrv *d, uint32_t head)
{
	for (int i = 0; i < 2000; i++) {
		uint32_t id, len;

		if (vd_used(d, 0, &id, &len))
			return id == head;
		usleep(1000);
	}
	return false;
}

KR_TEST(notify_ioeventfd_follows_bar)
{
	struct tmach m;
	struct vdrv d;
	struct rec r = { 0 };
	int fds = t_count_fds();
	struct kr_loop *loop = kr_loop_new();
	struct kr_virtio_rng *rng;
	struct kr_notify *n;
	pthread_t th;
	uint64_t one = 1, notify0;

	tm_init(&m);
	rng = kr_virtio_rng_create(m.pci, 7, &m.mem);
	CHECK(rng && loop);
	n = kr_notify_create(kr_virtio_rng_transport(rng), 1, loop, fake_ioeventfd, &r);
	CHECK(n != NULL);
	CHECK_EQ(r.n, 0);			/* BAR 0 decodes nothing yet */
	CHECK_EQ(pthread_create(&th, NULL, loop_thread, loop), 0);

	CHECK_EQ(vd_probe(&d, &m, 7, BARADDR), 0);
	vd_negotiate(&d, 1ull << KR_VIRTIO_F_VERSION_1);
	vd_setup_queue(&d, 0, 8, RING, KR_VIRTIO_NO_VECTOR);
	vd_driver_ok(&d);
	notify0 = d.q[0].notify;
	CHECK_EQ(r.n, 1);
	CHECK_EQ(r.a[0].addr, notify0);
	CHECK_EQ(r.a[0].len, 2);
	CHECK_EQ(r.a[0].flags, 0);
	CHECK(r.a[0].fd >= 0);

	/* The kernel's side of a guest notify write: the eventfd. */
	vd_desc(&d, 0, 3, BUF, 16, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&d, 0, 3);
	CHECK_EQ(write(r.a[0].fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	CHECK(used_soon(&d, 3));
	CHECK_EQ(kr_notify_count(n), 1);

	/* The guest moves BAR 0: old address out, new one in. */
	tm_cfg_write(&m, 7, 0x10, 4, (uint32_t)BARADDR2);
	CHECK_EQ(r.n, 3);
	CHECK_EQ(r.a[1].flags, KHV_IOEVENTFD_DEASSIGN);
	CHECK_EQ(r.a[1].addr, notify0);
	CHECK_EQ(r.a[2].flags, 0);
	CHECK_EQ(r.a[2].addr, notify0 - BARADDR + BARADDR2);
	CHECK_EQ(r.a[2].fd, r.a[0].fd);

	/* Memory decoding off: nothing to listen on. */
	tm_cfg_write(&m, 7, 0x04, 2, tm_cfg_read(&m, 7, 0x04, 2) & ~2u);
	CHECK_EQ(r.n, 4);
	CHECK_EQ(r.a[3].flags, KHV_IOEVENTFD_DEASSIGN);

	kr_loop_stop(loop);
	pthread_join(th, NULL);
	kr_notify_destroy(n);
	CHECK_EQ(r.n, 4);			/* nothing left to deassign */
	kr_virtio_rng_destroy(rng);
	tm_fini(&m);
	kr_loop_free(loop);
	CHECK_EQ(t_count_fds(), fds);
}

/* khv refuses the ioeventfd: the queue still works through MMIO exits. */
KR_TEST(notify_refused_falls_back)
{
	struct tmach m;
	struct vdrv d;
	struct rec r = { .refuse = -ENOSPC };
	struct kr_loop *loop = kr_loop_new();
	struct kr_virtio_rng *rng;
	struct kr_notify *n;

	tm_init(&m);
	rng = kr_virtio_rng_create(m.pci, 7, &m.mem);
	n = kr_notify_create(kr_virtio_rng_transport(rng), 1, loop, fake_ioeventfd, &r);
	CHECK(n != NULL);
	CHECK_EQ(vd_probe(&d, &m, 7, BARADDR), 0);
	vd_negotiate(&d, 1ull << KR_VIRTIO_F_VERSION_1);
	vd_setup_queue(&d, 0, 8, RING, KR_VIRTIO_NO_VECTOR);
	vd_driver_ok(&d);
	vd_desc(&d, 0, 1, BUF, 16, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&d, 0, 1);
	vd_kick(&d, 0);
	CHECK(used_soon(&d, 1));
	kr_notify_destroy(n);
	/* Nothing was assigned, so nothing was deassigned. */
	for (unsigned int i = 0; i < r.n; i++)
		CHECK_EQ(r.a[i].flags, 0);
	kr_virtio_rng_destroy(rng);
	tm_fini(&m);
	kr_loop_free(loop);
	CHECK(kr_notify_create(NULL, 0, NULL, fake_ioeventfd, &r) == NULL);
}
