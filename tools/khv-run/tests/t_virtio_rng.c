// SPDX-License-Identifier: GPL-2.0
/*
 * The entropy device (virtio_rng.c) end to end: the test driver finds it,
 * sets up its queue and posts buffers; the device fills them from the
 * host (or a test source) and interrupts.
 */
#include <errno.h>
#include <string.h>

#include "t.h"
#include "vdrv.h"
#include "../virtio_rng.h"

#define BARADDR		0xc8000000ull
#define RING		0x10000ull
#define BUF		0x100000ull

struct rt {
	struct tmach m;
	struct kr_virtio_rng *r;
	struct vdrv d;
};

static void rt_up(struct rt *t, bool msix)
{
	tm_init(&t->m);
	t->r = kr_virtio_rng_create(t->m.pci, 7, &t->m.mem);
	if (!t->r || vd_probe(&t->d, &t->m, 7, BARADDR))
		memset(&t->d, 0, sizeof(t->d));
	vd_negotiate(&t->d, 1ull << KR_VIRTIO_F_VERSION_1);
	if (msix)
		vd_msix_enable(&t->d);
	vd_setup_queue(&t->d, 0, 8, RING, msix ? 1 : KR_VIRTIO_NO_VECTOR);
	vd_driver_ok(&t->d);
}

static void rt_down(struct rt *t)
{
	tm_fini(&t->m);
	kr_virtio_rng_destroy(t->r);
}

/* One writable buffer of len at BUF, preset to 0xaa; the used len. */
static uint32_t request(struct rt *t, uint32_t len)
{
	uint32_t id, got = ~0u;

	memset(tm_ram(&t->m, BUF, len), 0xaa, len);
	vd_desc(&t->d, 0, 2, BUF, len, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&t->d, 0, 2);
	vd_kick(&t->d, 0);
	if (!vd_used(&t->d, 0, &id, &got) || id != 2)
		return ~0u;
	return got;
}

/* How many of the first n bytes at BUF are no longer the 0xaa preset. */
static unsigned int changed(struct rt *t, uint32_t n)
{
	const uint8_t *p = tm_ram(&t->m, BUF, n);
	unsigned int c = 0;

	for (uint32_t i = 0; i < n; i++)
		c += p[i] != 0xaa;
	return c;
}

KR_TEST(rng_identity)
{
	struct rt t;

	rt_up(&t, true);
	CHECK(t.r != NULL);
	CHECK_EQ(tm_cfg_read(&t.m, 7, 0, 4), 0x1044u << 16 | 0x1af4);
	CHECK_EQ(vd_common_read(&t.d, KR_VIRTIO_COMMON_NUMQ, 2), 1);
	CHECK_EQ(t.d.device_len, 0);			/* no configuration */
	vd_common_write(&t.d, KR_VIRTIO_COMMON_DFSELECT, 4, 0);
	CHECK_EQ(vd_common_read(&t.d, KR_VIRTIO_COMMON_DF, 4),
		 1u << KR_VIRTIO_F_INDIRECT_DESC | 1u << KR_VIRTIO_F_EVENT_IDX);
	CHECK_EQ(vd_status(&t.d) & KR_VIRTIO_STATUS_DRIVER_OK, KR_VIRTIO_STATUS_DRIVER_OK);
	CHECK(kr_virtio_rng_transport(t.r) != NULL);
	rt_down(&t);
}

KR_TEST(rng_fills_buffers)
{
	struct rt t;

	rt_up(&t, true);
	CHECK_EQ(request(&t, 64), 64);
	/* 64 random bytes all equal to 0xaa by chance: 2^-512. */
	CHECK(changed(&t, 64) > 32);
	CHECK_EQ(t.m.n_msi, 1);
	CHECK_EQ(t.m.msi[0].address, VD_MSI_ADDR(1));
	CHECK_EQ(t.m.msi[0].data, VD_MSI_DATA(1));
	/* A readable header first: skipped; two writable buffers filled. */
	memset(tm_ram(&t.m, BUF, 0x300), 0xaa, 0x300);
	vd_desc(&t.d, 0, 0, BUF, 16, KR_VQ_DESC_F_NEXT, 1);
	vd_desc(&t.d, 0, 1, BUF + 0x100, 32, KR_VQ_DESC_F_NEXT | KR_VQ_DESC_F_WRITE, 3);
	vd_desc(&t.d, 0, 3, BUF + 0x200, 32, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&t.d, 0, 0);
	vd_kick(&t.d, 0);
	{
		uint32_t id, len;

		CHECK(vd_used(&t.d, 0, &id, &len));
		CHECK_EQ(id, 0);
		CHECK_EQ(len, 64);
	}
	CHECK_EQ(changed(&t, 16), 0);
	CHECK(changed(&t, 0x120) - changed(&t, 0x100) > 16);
	CHECK(changed(&t, 0x220) - changed(&t, 0x200) > 16);
	CHECK_EQ(changed(&t, 0x300) - changed(&t, 0x220), 0);
	/* Only readable buffers: nothing to give, len 0. */
	vd_desc(&t.d, 0, 5, BUF, 16, 0, 0);
	vd_avail(&t.d, 0, 5);
	vd_kick(&t.d, 0);
	{
		uint32_t id, len;

		CHECK(vd_used(&t.d, 0, &id, &len) && id == 5 && len == 0);
	}
	rt_down(&t);
}

KR_TEST(rng_intx)
{
	struct rt t;
	unsigned int gsi = kr_pci_intx_gsi(7, 0);

	rt_up(&t, false);
	CHECK_EQ(request(&t, 16), 16);
	CHECK_EQ(t.m.level[gsi], 1);
	CHECK_EQ(tm_read(&t.m.mmio, t.d.isr, 1), 1);
	CHECK_EQ(t.m.level[gsi], 0);
	CHECK_EQ(t.m.n_msi, 0);
	rt_down(&t);
}

KR_TEST(rng_large_buffer)
{
	struct rt t;

	rt_up(&t, true);
	CHECK_EQ(request(&t, 2 * KR_RNG_CHAIN_MAX), KR_RNG_CHAIN_MAX);
	CHECK(changed(&t, KR_RNG_CHAIN_MAX) > KR_RNG_CHAIN_MAX / 2);
	CHECK_EQ(changed(&t, 2 * KR_RNG_CHAIN_MAX) - changed(&t, KR_RNG_CHAIN_MAX), 0);
	rt_down(&t);
}

static ssize_t half_source(void *buf, size_t len)
{
	memset(buf, 0x55, len / 2);
	return len / 2;		/* then 0 for what is left: short */
}

static ssize_t dry_source(void *buf, size_t len)
{
	(void)buf;
	(void)len;
	errno = EAGAIN;		/* host pool not ready */
	return -1;
}

static int interrupted;

static ssize_t eintr_source(void *buf, size_t len)
{
	if (interrupted++ % 2 == 0) {
		errno = EINTR;
		return -1;
	}
	memset(buf, 0x66, len);
	return len;
}

KR_TEST(rng_short_source)
{
	struct rt t;
	const uint8_t *p;

	rt_up(&t, true);
	kr_virtio_rng_set_source(t.r, half_source);
	CHECK_EQ(request(&t, 64), 63);		/* 32 + 16 + ... + 1, then 0: done */
	/* Short in the first buffer: the second stays untouched (len = prefix). */
	memset(tm_ram(&t.m, BUF + 0x100, 64), 0xaa, 64);
	vd_desc(&t.d, 0, 0, BUF, 64, KR_VQ_DESC_F_NEXT | KR_VQ_DESC_F_WRITE, 1);
	vd_desc(&t.d, 0, 1, BUF + 0x100, 64, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&t.d, 0, 0);
	vd_kick(&t.d, 0);
	{
		uint32_t id, len;

		CHECK(vd_used(&t.d, 0, &id, &len) && id == 0 && len == 63);
		CHECK_EQ(*(uint8_t *)tm_ram(&t.m, BUF + 0x100, 1), 0xaa);
	}
	rt_down(&t);
	rt_up(&t, true);
	kr_virtio_rng_set_source(t.r, dry_source);
	CHECK_EQ(request(&t, 64), 0);
	CHECK_EQ(changed(&t, 64), 0);
	CHECK_EQ(t.m.n_msi, 1);			/* still answered */
	kr_virtio_rng_set_source(t.r, eintr_source);
	CHECK_EQ(request(&t, 32), 32);
	p = tm_ram(&t.m, BUF, 32);
	CHECK_EQ(p[31], 0x66);
	kr_virtio_rng_set_source(t.r, NULL);	/* back to the host's */
	CHECK_EQ(request(&t, 32), 32);
	rt_down(&t);
}

KR_TEST(rng_reset_and_again)
{
	struct rt t;

	rt_up(&t, true);
	CHECK_EQ(request(&t, 8), 8);
	vd_common_write(&t.d, KR_VIRTIO_COMMON_STATUS, 1, 0);
	CHECK_EQ(vd_status(&t.d), 0);
	CHECK_EQ(request(&t, 8), ~0u);		/* nobody serves a reset device */
	vd_negotiate(&t.d, 1ull << KR_VIRTIO_F_VERSION_1);
	vd_setup_queue(&t.d, 0, 8, RING, 0);
	vd_driver_ok(&t.d);
	CHECK_EQ(request(&t, 8), 8);
	rt_down(&t);
}

/* ---- snapshots ---- */

static int rng_load(struct rt *t, const struct kr_sbuf *b, struct kr_sget *g)
{
	kr_sget_init(g, b->p, b->len, "virtio-rng");
	return kr_virtio_rng_load(t->r, g);
}

/* The restoring side: t's RAM copied, a new device, its PCI side as t's. */
static void rt_clone(struct rt *t2, struct rt *t)
{
	tm_init(&t2->m);
	tm_copy_ram(&t2->m, &t->m);
	t2->r = kr_virtio_rng_create(t2->m.pci, 7, &t2->m.mem);
	if (!t2->r || vd_restore(&t2->d, &t2->m, &t->d, true))
		memset(&t2->d, 0, sizeof(t2->d));
}

/* How many of the n bytes at gpa are no longer the 0xaa preset. */
static unsigned int changed_at(struct rt *t, uint64_t gpa, uint32_t n)
{
	const uint8_t *p = tm_ram(&t->m, gpa, n);
	unsigned int c = 0;

	for (uint32_t i = 0; i < n; i++)
		c += p[i] != 0xaa;
	return c;
}

/* Three requests made available, not notified: each served once on either side. */
static void post3(struct rt *t)
{
	static const uint16_t heads[] = { 0, 1, 3 };

	for (unsigned int i = 0; i < 3; i++) {
		memset(tm_ram(&t->m, BUF + 0x1000 * (i + 1), 16), 0xaa, 16);
		vd_desc(&t->d, 0, heads[i], BUF + 0x1000 * (i + 1), 16, KR_VQ_DESC_F_WRITE, 0);
		vd_avail(&t->d, 0, heads[i]);
	}
}

static void check3(struct rt *t)
{
	static const uint16_t heads[] = { 0, 1, 3 };
	uint32_t id, len;

	for (unsigned int i = 0; i < 3; i++) {
		CHECK(vd_used(&t->d, 0, &id, &len) && id == heads[i] && len == 16);
		CHECK(changed_at(t, BUF + 0x1000 * (i + 1), 16) > 0);
	}
	CHECK(!vd_used(&t->d, 0, &id, &len));
	CHECK_EQ(vd_used_idx(&t->d, 0), 4);
}

KR_TEST(rng_snapshot_round_trip)
{
	struct rt t, t2;
	struct kr_sbuf b = { 0 };
	struct kr_sget g;

	rt_up(&t, true);
	CHECK_EQ(request(&t, 8), 8);
	post3(&t);
	CHECK_EQ(kr_virtio_rng_save(t.r, &b), 0);
	rt_clone(&t2, &t);
	CHECK_EQ(rng_load(&t2, &b, &g), 0);
	CHECK_EQ(vd_used_idx(&t2.d, 0), 1);
	kr_virtio_pci_kick_all(kr_virtio_rng_transport(t2.r));
	check3(&t2);
	CHECK_EQ(t2.m.n_msi, 1);
	vd_kick(&t.d, 0);
	check3(&t);
	rt_down(&t2);

	/* Every truncation refused, and a version from elsewhere. */
	rt_clone(&t2, &t);
	for (size_t n = 0; n < b.len; n++) {
		kr_sget_init(&g, b.p, n, "virtio-rng");
		CHECK_EQ(kr_virtio_rng_load(t2.r, &g), -EPROTO);
		CHECK(!strcmp(g.why, "virtio-rng: truncated state"));
	}
	b.p[0] = 2;
	CHECK_EQ(rng_load(&t2, &b, &g), -EPROTO);
	CHECK(!strcmp(g.why, "virtio-rng: state version 2, this khv-run reads 1"));
	b.p[0] = 1;
	CHECK_EQ(rng_load(&t2, &b, &g), 0);
	kr_sbuf_free(&b);
	rt_down(&t2);
	rt_down(&t);
}
