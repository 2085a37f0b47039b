// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio PCI transport (virtio_pci.c) driven by the test driver
 * (vdrv.c) the way Linux drives it, with a test device behind it: discovery
 * through the capability list, feature negotiation, queue setup, buffers,
 * MSI-X and INTx interrupts, config space and generation, reset, the
 * PCI_CFG window, the ioeventfd hooks, and hostile register use.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "t.h"
#include "vdrv.h"

#define T_ID		0x3e		/* a virtio ID nobody uses */
#define T_QMAX		256
#define T_FEATURES	(1ull << 0 | 1ull << 5)
#define BARADDR		0xd0000000ull
#define RING0		0x10000ull
#define RING1		0x20000ull
#define BUF		0x80000ull
#define VNO		KR_VIRTIO_NO_VECTOR

struct tdev {
	pthread_mutex_t lock;		/* as a device's: processing vs reset */
	struct kr_virtio_pci *vp;
	uint8_t config[8];
	int notifies[2], resets, driver_oks, pops, pop_errors;
	bool process;			/* on notify: fill writable buffers, push */
	bool hold;			/* on notify: pop one and keep it */
	struct iovec iov[8], held_iov[8];
	struct kr_vq_elem held;
	struct vdrv *meddler;		/* writes registers from inside reset */
	int meddled_pop;
};

static void t_config_read(void *opaque, uint32_t off, uint8_t *data, unsigned int size)
{
	struct tdev *t = opaque;

	memcpy(data, &t->config[off], size);
}

static void t_config_write(void *opaque, uint32_t off, const uint8_t *data, unsigned int size)
{
	struct tdev *t = opaque;

	memcpy(&t->config[off], data, size);
}

static void t_notify(void *opaque, unsigned int q)
{
	struct tdev *t = opaque;
	struct kr_vq_elem e = { .iov = t->iov, .cap = 8 };
	int r;

	pthread_mutex_lock(&t->lock);
	t->notifies[q]++;
	if (t->hold) {
		t->held = (struct kr_vq_elem){ .iov = t->held_iov, .cap = 8 };
		if (kr_virtio_pop(t->vp, q, &t->held) == 1)
			t->pops++;
		pthread_mutex_unlock(&t->lock);
		return;
	}
	if (!t->process) {
		pthread_mutex_unlock(&t->lock);
		return;
	}
	while ((r = kr_virtio_pop(t->vp, q, &e)) == 1) {
		t->pops++;
		for (unsigned int i = e.n_out; i < e.n_out + e.n_in; i++)
			memset(t->iov[i].iov_base, 0xc0 + q, t->iov[i].iov_len);
		kr_virtio_push(t->vp, q, &e, e.in_bytes);
	}
	if (r < 0)
		t->pop_errors++;
	pthread_mutex_unlock(&t->lock);
	kr_virtio_notify(t->vp, q);
}

static void t_driver_ok(void *opaque)
{
	struct tdev *t = opaque;

	pthread_mutex_lock(&t->lock);
	t->driver_oks++;
	pthread_mutex_unlock(&t->lock);
}

static void t_reset(void *opaque)
{
	struct tdev *t = opaque;
	struct kr_vq_elem e = { .iov = t->iov, .cap = 8 };

	pthread_mutex_lock(&t->lock);		/* waits for a pass in progress */
	t->resets++;
	pthread_mutex_unlock(&t->lock);
	if (t->meddler) {
		/* Another vCPU writing while the reset runs: it must not restart us. */
		vd_common_write(t->meddler, KR_VIRTIO_COMMON_STATUS, 1, 0xf);
		vd_common_write(t->meddler, KR_VIRTIO_COMMON_Q_SELECT, 2, 0);
		vd_common_write(t->meddler, KR_VIRTIO_COMMON_Q_ENABLE, 2, 1);
		t->meddled_pop = kr_virtio_pop(t->vp, 0, &e);
	}
}

static const struct kr_virtio_ops t_ops = {
	.name = "virtio-test",
	.device_id = T_ID,
	.class_code = 0xff0000,
	.features = T_FEATURES | 1ull << 40,	/* a transport bit: filtered out */
	.num_queues = 2,
	.queue_max = T_QMAX,
	.config_len = 8,
	.config_read = t_config_read,
	.config_write = t_config_write,
	.queue_notify = t_notify,
	.driver_ok = t_driver_ok,
	.reset = t_reset,
};

#define WANT	(1ull << KR_VIRTIO_F_VERSION_1 | 1ull << 0)

static void setup(struct tmach *m, struct tdev *t, struct vdrv *d, int slot)
{
	tm_init(m);
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	memcpy(t->config, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	t->process = true;
	t->vp = kr_virtio_pci_create(m->pci, slot, &m->mem, &t_ops, t);
	if (!t->vp || vd_probe(d, m, slot, BARADDR))
		memset(d, 0, sizeof(*d));
}

static void teardown(struct tmach *m, struct tdev *t)
{
	tm_fini(m);
	kr_virtio_pci_destroy(t->vp);
	pthread_mutex_destroy(&t->lock);
}

/* Negotiate, MSI-X (or not), both queues (vectors 1, 2), DRIVER_OK. */
static void bring_up(struct vdrv *d, bool msix)
{
	vd_negotiate(d, WANT);
	if (msix) {
		vd_msix_enable(d);
		vd_common_write(d, KR_VIRTIO_COMMON_MSIX, 2, 0);
	}
	vd_setup_queue(d, 0, 16, RING0, msix ? 1 : VNO);
	vd_setup_queue(d, 1, 16, RING1, msix ? 2 : VNO);
	vd_driver_ok(d);
}

KR_TEST(vpci_discovery)
{
	struct tmach m;
	struct tdev t;
	struct vdrv d;
	unsigned int pos, types = 0;

	setup(&m, &t, &d, 4);
	CHECK(t.vp != NULL);
	CHECK(d.m != NULL);
	CHECK_EQ(tm_cfg_read(&m, 4, 0, 4), (0x1040u + T_ID) << 16 | 0x1af4);
	CHECK_EQ(tm_cfg_read(&m, 4, KR_PCI_REVISION, 1), 1);
	CHECK_EQ(tm_cfg_read(&m, 4, KR_PCI_CLASS_PROG, 3), 0xff0000);
	CHECK(tm_cfg_read(&m, 4, KR_PCI_SUBSYS_ID, 2) >= 0x40);
	CHECK_EQ(tm_cfg_read(&m, 4, KR_PCI_INT_PIN, 1), 1);
	/* Every virtio capability is well-formed and inside BAR 0. */
	for (pos = tm_find_cap(&m, 4, KR_PCI_CAP_ID_VNDR, 0); pos;
	     pos = tm_find_cap(&m, 4, KR_PCI_CAP_ID_VNDR, pos)) {
		unsigned int type = tm_cfg_read(&m, 4, pos + 3, 1);
		uint32_t off = tm_cfg_read(&m, 4, pos + 8, 4);
		uint32_t len = tm_cfg_read(&m, 4, pos + 12, 4);

		types |= 1u << type;
		CHECK(tm_cfg_read(&m, 4, pos + 2, 1) >= 16);
		CHECK_EQ(tm_cfg_read(&m, 4, pos + 4, 1), 0);
		CHECK(off + len <= KR_VIRTIO_BAR_SIZE);
		if (type == KR_VIRTIO_CAP_COMMON_CFG)
			CHECK(len >= 0x38 && off % 4 == 0);
		if (type == KR_VIRTIO_CAP_NOTIFY_CFG)
			CHECK(len >= 2 + 4 * 1 && tm_cfg_read(&m, 4, pos + 2, 1) >= 20);
		if (type == KR_VIRTIO_CAP_DEVICE_CFG)
			CHECK_EQ(len, 8);
	}
	CHECK_EQ(types, 0x3e);		/* common, notify, ISR, device, PCI_CFG */
	CHECK_EQ(d.notify_mult, 4);
	CHECK_EQ(d.nvec, 3);		/* 2 queues + config */
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_NUMQ, 2), 2);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_SIZE, 2), T_QMAX);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_MSIX, 2), VNO);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_MSIX, 2), VNO);
	CHECK_EQ(vd_status(&d), 0);
	teardown(&m, &t);
}

KR_TEST(vpci_features)
{
	struct tmach m;
	struct tdev t;
	struct vdrv d;

	setup(&m, &t, &d, 1);
	vd_common_write(&d, KR_VIRTIO_COMMON_DFSELECT, 4, 0);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_DF, 4),
		 T_FEATURES | 1u << KR_VIRTIO_F_INDIRECT_DESC | 1u << KR_VIRTIO_F_EVENT_IDX);
	vd_common_write(&d, KR_VIRTIO_COMMON_DFSELECT, 4, 1);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_DF, 4), 1);	/* VERSION_1 only */
	vd_common_write(&d, KR_VIRTIO_COMMON_DFSELECT, 4, 2);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_DF, 4), 0);
	vd_common_write(&d, KR_VIRTIO_COMMON_DFSELECT, 4, 0xffffffff);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_DF, 4), 0);
	/* A legacy driver (no VERSION_1) and an unoffered bit are refused. */
	CHECK(!(vd_negotiate(&d, 1ull << 0) & KR_VIRTIO_STATUS_FEATURES_OK));
	CHECK(!(vd_negotiate(&d, WANT | 1ull << 34) & KR_VIRTIO_STATUS_FEATURES_OK));
	CHECK(!(vd_negotiate(&d, WANT | 1ull << 40) & KR_VIRTIO_STATUS_FEATURES_OK));
	CHECK_EQ(kr_virtio_features(t.vp), 0);
	CHECK_EQ(vd_negotiate(&d, WANT), KR_VIRTIO_STATUS_ACKNOWLEDGE | KR_VIRTIO_STATUS_DRIVER |
					 KR_VIRTIO_STATUS_FEATURES_OK);
	CHECK_EQ(kr_virtio_features(t.vp), WANT);
	vd_common_write(&d, KR_VIRTIO_COMMON_GFSELECT, 4, 0);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_GF, 4), 1);
	/* Frozen after FEATURES_OK. */
	vd_common_write(&d, KR_VIRTIO_COMMON_GF, 4, 0x21);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_GF, 4), 1);
	/* Status bits are never taken back but by a reset; NEEDS_RESET is ours. */
	vd_common_write(&d, KR_VIRTIO_COMMON_STATUS, 1, KR_VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(vd_status(&d), KR_VIRTIO_STATUS_ACKNOWLEDGE | KR_VIRTIO_STATUS_DRIVER |
				KR_VIRTIO_STATUS_FEATURES_OK);
	CHECK_EQ(t.resets, 4);		/* each negotiation began with one */
	teardown(&m, &t);
}

KR_TEST(vpci_queues_msix)
{
	struct tmach m;
	struct tdev t;
	struct vdrv d;
	uint32_t id, len;
	uint8_t *buf;

	setup(&m, &t, &d, 3);
	bring_up(&d, true);
	CHECK_EQ(t.driver_oks, 1);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_ENABLE, 2), 1);	/* queue 1 selected */
	/* Queue 0: one chain, readable header + writable buffer. */
	buf = tm_ram(&m, BUF, 0x200);
	memset(buf, 0, 0x200);
	vd_desc(&d, 0, 0, BUF, 16, KR_VQ_DESC_F_NEXT, 1);
	vd_desc(&d, 0, 1, BUF + 0x100, 0x40, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&d, 0, 0);
	vd_kick(&d, 0);
	CHECK_EQ(t.notifies[0], 1);
	CHECK_EQ(t.pops, 1);
	CHECK(vd_used(&d, 0, &id, &len));
	CHECK_EQ(id, 0);
	CHECK_EQ(len, 0x40);
	CHECK_EQ(buf[0x100], 0xc0);
	CHECK_EQ(buf[0x13f], 0xc0);
	CHECK_EQ(buf[0x140], 0);
	CHECK_EQ(buf[0], 0);		/* the readable part is not written */
	CHECK_EQ(m.n_msi, 1);
	CHECK_EQ(m.msi[0].address, VD_MSI_ADDR(1));
	CHECK_EQ(m.msi[0].data, VD_MSI_DATA(1));
	/* Queue 1 has its own vector; the notify address picks the queue. */
	vd_desc(&d, 1, 3, BUF + 0x180, 8, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&d, 1, 3);
	vd_kick(&d, 1);
	CHECK_EQ(t.notifies[1], 1);
	CHECK(vd_used(&d, 1, &id, &len) && id == 3 && len == 8);
	CHECK_EQ(buf[0x180], 0xc1);
	CHECK_EQ(m.n_msi, 2);
	CHECK_EQ(m.msi[1].data, VD_MSI_DATA(2));
	/* Enabling an enabled queue again restarts nothing. */
	vd_common_write(&d, KR_VIRTIO_COMMON_Q_SELECT, 2, 1);
	vd_common_write(&d, KR_VIRTIO_COMMON_Q_ENABLE, 2, 1);
	vd_avail(&d, 1, 3);
	vd_kick(&d, 1);
	CHECK_EQ(vd_used_idx(&d, 1), 2);
	CHECK_EQ(t.pops, 3);			/* not the old entry once more */
	CHECK_EQ(m.n_msi, 3);
	m.n_msi = 2;
	/* The driver asks for no interrupts: none. */
	kr_put_le(tm_ram(&m, d.q[0].avail, 2), 2, KR_VQ_AVAIL_F_NO_INTERRUPT);
	vd_avail(&d, 0, 1);
	vd_kick(&d, 0);
	CHECK_EQ(vd_used_idx(&d, 0), 2);
	CHECK_EQ(m.n_msi, 2);
	/* Masked vector: pending, then sent on unmask. */
	kr_put_le(tm_ram(&m, d.q[0].avail, 2), 2, 0);
	tm_write(&m.mmio, d.msix_table + 16 * 1 + 12, 4, 1);
	vd_avail(&d, 0, 0);
	vd_kick(&d, 0);
	CHECK_EQ(m.n_msi, 2);
	tm_write(&m.mmio, d.msix_table + 16 * 1 + 12, 4, 0);
	CHECK_EQ(m.n_msi, 3);
	CHECK_EQ(m.msi[2].data, VD_MSI_DATA(1));
	CHECK_EQ(m.level[kr_pci_intx_gsi(3, 0)], 0);	/* never INTx with MSI-X */
	teardown(&m, &t);
}

KR_TEST(vpci_intx_isr)
{
	struct tmach m;
	struct tdev t;
	struct vdrv d;
	unsigned int gsi = kr_pci_intx_gsi(2, 0);

	setup(&m, &t, &d, 2);
	bring_up(&d, false);
	vd_desc(&d, 0, 0, BUF, 8, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&d, 0, 0);
	vd_kick(&d, 0);
	CHECK_EQ(vd_used_idx(&d, 0), 1);
	CHECK_EQ(m.n_msi, 0);
	CHECK_EQ(m.level[gsi], 1);
	CHECK(tm_cfg_read(&m, 2, KR_PCI_STATUS, 2) & KR_PCI_STS_INTX);
	CHECK_EQ(tm_read(&m.mmio, d.isr, 1), 1);		/* read clears, deasserts */
	CHECK_EQ(m.level[gsi], 0);
	CHECK(!(tm_cfg_read(&m, 2, KR_PCI_STATUS, 2) & KR_PCI_STS_INTX));
	CHECK_EQ(tm_read(&m.mmio, d.isr, 1), 0);
	tm_write(&m.mmio, d.isr, 1, 3);				/* read-only */
	CHECK_EQ(tm_read(&m.mmio, d.isr, 1), 0);
	/* A config change: bit 1. */
	kr_virtio_config_changed(t.vp);
	CHECK_EQ(m.level[gsi], 1);
	CHECK_EQ(tm_read(&m.mmio, d.isr, 4), 2);
	CHECK_EQ(m.level[gsi], 0);
	/* INTx disabled in the command register: ISR set, line quiet. */
	tm_cfg_write(&m, 2, KR_PCI_COMMAND, 2, tm_cfg_read(&m, 2, KR_PCI_COMMAND, 2) |
		     KR_PCI_CMD_INTX_OFF);
	vd_avail(&d, 0, 0);
	vd_kick(&d, 0);
	CHECK_EQ(m.level[gsi], 0);
	CHECK_EQ(tm_read(&m.mmio, d.isr, 1), 1);
	/* A reset drops a pending interrupt. */
	tm_cfg_write(&m, 2, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY | KR_PCI_CMD_MASTER);
	vd_avail(&d, 0, 0);
	vd_kick(&d, 0);
	CHECK_EQ(m.level[gsi], 1);
	vd_common_write(&d, KR_VIRTIO_COMMON_STATUS, 1, 0);
	CHECK_EQ(m.level[gsi], 0);
	CHECK_EQ(tm_read(&m.mmio, d.isr, 1), 0);
	teardown(&m, &t);
}

KR_TEST(vpci_vectors)
{
	struct tmach m;
	struct tdev t;
	struct vdrv d;

	setup(&m, &t, &d, 1);
	vd_negotiate(&d, WANT);
	vd_msix_enable(&d);
	vd_common_write(&d, KR_VIRTIO_COMMON_MSIX, 2, 3);	/* table has 0..2 */
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_MSIX, 2), VNO);
	vd_common_write(&d, KR_VIRTIO_COMMON_MSIX, 2, 2);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_MSIX, 2), 2);
	CHECK_EQ(vd_setup_queue(&d, 0, 16, RING0, 0x7ff), VNO);
	CHECK_EQ(vd_setup_queue(&d, 1, 16, RING1, 0), 0);	/* vectors may be shared */
	vd_common_write(&d, KR_VIRTIO_COMMON_Q_SELECT, 2, 0);
	vd_common_write(&d, KR_VIRTIO_COMMON_Q_MSIX, 2, 1);	/* changed later */
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_MSIX, 2), 1);
	vd_common_write(&d, KR_VIRTIO_COMMON_Q_MSIX, 2, VNO);
	vd_driver_ok(&d);
	/* MSI-X on and the queue unmapped: no interrupt at all (4.1.5.3). */
	vd_desc(&d, 0, 0, BUF, 8, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&d, 0, 0);
	vd_kick(&d, 0);
	CHECK_EQ(vd_used_idx(&d, 0), 1);
	CHECK_EQ(m.n_msi, 0);
	CHECK_EQ(m.level[kr_pci_intx_gsi(1, 0)], 0);
	kr_virtio_config_changed(t.vp);
	CHECK_EQ(m.n_msi, 1);
	CHECK_EQ(m.msi[0].data, VD_MSI_DATA(2));
	teardown(&m, &t);
}

KR_TEST(vpci_reset)
{
	struct tmach m;
	struct tdev t;
	struct vdrv d;

	setup(&m, &t, &d, 1);
	bring_up(&d, true);
	/* The device holds a chain across the reset: its push is dropped. */
	t.hold = true;
	vd_desc(&d, 0, 0, BUF, 8, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&d, 0, 0);
	vd_kick(&d, 0);
	CHECK_EQ(t.pops, 1);
	t.resets = 0;
	vd_common_write(&d, KR_VIRTIO_COMMON_STATUS, 1, 0);
	CHECK_EQ(t.resets, 1);
	kr_virtio_push(t.vp, 0, &t.held, 8);
	kr_virtio_notify(t.vp, 0);
	CHECK_EQ(vd_used_idx(&d, 0), 0);
	CHECK_EQ(m.n_msi, 0);
	CHECK_EQ(vd_status(&d), 0);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_SELECT, 2), 0);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_ENABLE, 2), 0);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_SIZE, 2), T_QMAX);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_DESC, 8), 0);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_MSIX, 2), VNO);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_MSIX, 2), VNO);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_GF, 4), 0);
	CHECK_EQ(kr_virtio_features(t.vp), 0);
	/* Kicks after the reset reach nobody; the device pops nothing. */
	t.hold = false;
	vd_kick(&d, 0);
	CHECK_EQ(t.notifies[0], 1);
	CHECK_EQ(kr_virtio_pop(t.vp, 0, &t.held), 0);
	/* And it comes back up; the chain from before is still not taken back. */
	bring_up(&d, true);
	kr_virtio_push(t.vp, 0, &t.held, 8);
	CHECK_EQ(vd_used_idx(&d, 0), 0);
	vd_desc(&d, 0, 0, BUF, 8, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&d, 0, 0);
	vd_kick(&d, 0);
	CHECK_EQ(vd_used_idx(&d, 0), 1);
	CHECK_EQ(m.n_msi, 1);
	/* Register writes racing with a reset are dropped. */
	vd_avail(&d, 0, 0);
	t.process = false;
	t.meddler = &d;
	vd_common_write(&d, KR_VIRTIO_COMMON_STATUS, 1, 0);
	t.meddler = NULL;
	CHECK_EQ(t.meddled_pop, 0);
	CHECK_EQ(vd_status(&d), 0);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_ENABLE, 2), 0);
	/* Machine reset resets the device too. */
	kr_pci_reset(m.pci);
	CHECK_EQ(t.resets, 4);
	CHECK_EQ(tm_cfg_read(&m, 1, KR_PCI_COMMAND, 2), 0);
	teardown(&m, &t);
}

KR_TEST(vpci_bad_queue_setup)
{
	struct tmach m;
	struct tdev t;
	struct vdrv d;

	setup(&m, &t, &d, 1);
	/* Not a power of 2, 0, above the maximum, ring outside RAM, misaligned. */
	static const struct { uint16_t size; uint64_t ring; } bad[] = {
		{ 3, RING0 }, { 0, RING0 }, { 512, RING0 }, { 16, 0xd0000000 },
		{ 16, TM_LOW_SIZE - 0x100 }, { 16, RING0 + 8 },
	};
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_EQ(vd_negotiate(&d, WANT) & KR_VIRTIO_STATUS_NEEDS_RESET, 0);
		vd_setup_queue(&d, 0, bad[i].size, bad[i].ring, VNO);
		CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_ENABLE, 2), 0);
		CHECK(vd_status(&d) & KR_VIRTIO_STATUS_NEEDS_RESET);
	}
	/* Enabled before the addresses were set: at 0, legal RAM; later writes ignored. */
	vd_negotiate(&d, WANT);
	vd_common_write(&d, KR_VIRTIO_COMMON_Q_SELECT, 2, 1);
	vd_common_write(&d, KR_VIRTIO_COMMON_Q_SIZE, 2, 4);
	vd_common_write(&d, KR_VIRTIO_COMMON_Q_ENABLE, 2, 1);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_ENABLE, 2), 1);
	vd_common_write(&d, KR_VIRTIO_COMMON_Q_DESC, 4, RING1);
	vd_common_write(&d, KR_VIRTIO_COMMON_Q_SIZE, 2, 8);
	vd_common_write(&d, KR_VIRTIO_COMMON_Q_ENABLE, 2, 0);	/* not allowed */
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_DESC, 8), 0);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_SIZE, 2), 4);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_ENABLE, 2), 1);
	vd_driver_ok(&d);
	d.q[1].notify = d.notify + 4;
	vd_kick(&d, 1);			/* zeroes at 0 are an empty ring: nothing */
	CHECK_EQ(t.notifies[1], 1);
	CHECK_EQ(t.pops, 0);
	/* No such queue: size 0, writes go nowhere. */
	vd_common_write(&d, KR_VIRTIO_COMMON_Q_SELECT, 2, 2);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_SIZE, 2), 0);
	vd_common_write(&d, KR_VIRTIO_COMMON_Q_SIZE, 2, 4);
	vd_common_write(&d, KR_VIRTIO_COMMON_Q_ENABLE, 2, 1);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_SIZE, 2), 0);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_ENABLE, 2), 0);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_MSIX, 2), VNO);
	/* Notify area past the queues: ignored. */
	tm_write(&m.mmio, d.notify + 8, 2, 2);
	tm_write(&m.mmio, d.notify + 0x800, 2, 0);
	CHECK_EQ(t.notifies[0] + t.notifies[1], 1);
	CHECK(!(vd_status(&d) & KR_VIRTIO_STATUS_NEEDS_RESET));
	teardown(&m, &t);
}

KR_TEST(vpci_malformed_chain)
{
	struct tmach m;
	struct tdev t;
	struct vdrv d;

	setup(&m, &t, &d, 1);
	bring_up(&d, true);
	vd_desc(&d, 0, 0, BUF, 8, KR_VQ_DESC_F_NEXT, 1);
	vd_desc(&d, 0, 1, BUF, 8, KR_VQ_DESC_F_NEXT, 0);	/* loop */
	vd_avail(&d, 0, 0);
	vd_kick(&d, 0);
	CHECK_EQ(t.pop_errors, 1);
	CHECK(vd_status(&d) & KR_VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(m.n_msi, 1);				/* config change, vector 0 */
	CHECK_EQ(m.msi[0].data, VD_MSI_DATA(0));
	vd_kick(&d, 0);					/* once is enough */
	CHECK_EQ(t.pop_errors, 2);
	CHECK_EQ(m.n_msi, 1);
	CHECK_EQ(vd_used_idx(&d, 0), 0);
	/* The other queue still works; a reset heals the first. */
	vd_desc(&d, 1, 0, BUF, 8, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&d, 1, 0);
	vd_kick(&d, 1);
	CHECK_EQ(vd_used_idx(&d, 1), 1);
	bring_up(&d, true);
	CHECK(!(vd_status(&d) & KR_VIRTIO_STATUS_NEEDS_RESET));
	vd_desc(&d, 0, 0, BUF, 8, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&d, 0, 0);
	vd_kick(&d, 0);
	CHECK_EQ(vd_used_idx(&d, 0), 1);
	teardown(&m, &t);
}

KR_TEST(vpci_device_config)
{
	struct tmach m;
	struct tdev t;
	struct vdrv d;
	uint8_t gen;

	setup(&m, &t, &d, 1);
	CHECK_EQ(d.device_len, 8);
	CHECK_EQ(tm_read(&m.mmio, d.device, 4), 0x44332211);
	CHECK_EQ(tm_read(&m.mmio, d.device + 6, 2), 0x8877);
	CHECK_EQ(tm_read(&m.mmio, d.device + 1, 1), 0x22);
	CHECK_EQ(tm_read(&m.mmio, d.device + 6, 4), 0);	/* past config_len */
	CHECK_EQ(tm_read(&m.mmio, d.device + 8, 1), 0);
	tm_write(&m.mmio, d.device + 4, 2, 0xbeef);
	CHECK_EQ(t.config[4], 0xef);
	CHECK_EQ(t.config[5], 0xbe);
	tm_write(&m.mmio, d.device + 7, 2, 0xffff);		/* straddles the end */
	CHECK_EQ(t.config[7], 0x88);
	/* Generation: a read after a change sees a new one. */
	gen = vd_common_read(&d, KR_VIRTIO_COMMON_CFGGEN, 1);
	tm_read(&m.mmio, d.device, 4);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_CFGGEN, 1), gen);
	t.config[0] = 0x99;
	kr_virtio_config_changed(t.vp);
	CHECK_EQ(m.n_msi, 0);		/* no DRIVER_OK yet: no interrupt */
	CHECK_EQ(tm_read(&m.mmio, d.device, 1), 0x99);
	CHECK(vd_common_read(&d, KR_VIRTIO_COMMON_CFGGEN, 1) != gen);
	gen = vd_common_read(&d, KR_VIRTIO_COMMON_CFGGEN, 1);
	tm_read(&m.mmio, d.device, 1);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_CFGGEN, 1), gen);
	teardown(&m, &t);
}

/* The PCI_CFG capability: BAR accesses through config space (4.1.4.9). */
KR_TEST(vpci_pci_cfg_window)
{
	struct tmach m;
	struct tdev t;
	struct vdrv d;
	unsigned int pos;

	setup(&m, &t, &d, 1);
	for (pos = tm_find_cap(&m, 1, KR_PCI_CAP_ID_VNDR, 0); pos;
	     pos = tm_find_cap(&m, 1, KR_PCI_CAP_ID_VNDR, pos))
		if (tm_cfg_read(&m, 1, pos + 3, 1) == KR_VIRTIO_CAP_PCI_CFG)
			break;
	CHECK(pos != 0);
	/* Works with BAR 0 not even programmed or enabled. */
	tm_cfg_write(&m, 1, KR_PCI_COMMAND, 2, 0);
	tm_cfg_write(&m, 1, pos + 4, 1, 0);
	tm_cfg_write(&m, 1, pos + 8, 4, KR_VIRTIO_COMMON_NUMQ);
	tm_cfg_write(&m, 1, pos + 12, 4, 2);
	CHECK_EQ(tm_cfg_read(&m, 1, pos + 12, 4), 2);
	CHECK_EQ(tm_cfg_read(&m, 1, pos + 16, 2), 2);
	CHECK_EQ(tm_cfg_read(&m, 1, pos + 16, 4), 2);
	tm_cfg_write(&m, 1, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY);	/* to check by MMIO */
	tm_cfg_write(&m, 1, pos + 8, 4, KR_VIRTIO_COMMON_Q_SELECT);
	tm_cfg_write(&m, 1, pos + 16, 4, 1);
	CHECK_EQ(vd_common_read(&d, KR_VIRTIO_COMMON_Q_SELECT, 2), 1);
	/* Device config takes any access: a good one, then bad ones do nothing. */
	tm_cfg_write(&m, 1, pos + 8, 4, KR_VIRTIO_DEVCFG_OFF + 2);
	tm_cfg_write(&m, 1, pos + 12, 4, 2);
	tm_cfg_write(&m, 1, pos + 16, 4, 0xa5a5);
	CHECK_EQ(t.config[2], 0xa5);
	tm_cfg_write(&m, 1, pos + 12, 4, 3);			/* length 3 */
	tm_cfg_write(&m, 1, pos + 16, 4, 0);
	tm_cfg_write(&m, 1, pos + 8, 4, KR_VIRTIO_DEVCFG_OFF + 1);	/* misaligned */
	tm_cfg_write(&m, 1, pos + 12, 4, 2);
	tm_cfg_write(&m, 1, pos + 16, 4, 0);
	tm_cfg_write(&m, 1, pos + 8, 4, KR_VIRTIO_DEVCFG_OFF);
	tm_cfg_write(&m, 1, pos + 4, 1, 1);			/* another BAR */
	tm_cfg_write(&m, 1, pos + 16, 4, 0);
	CHECK_EQ(memcmp(t.config, "\x11\x22\xa5\xa5\x55", 5), 0);
	tm_cfg_write(&m, 1, pos + 4, 1, 0);
	tm_cfg_write(&m, 1, pos + 12, 4, 1);
	CHECK_EQ(tm_cfg_read(&m, 1, pos + 16, 1), 0x11);	/* a read through it */
	tm_cfg_write(&m, 1, pos + 12, 4, 2);
	tm_cfg_write(&m, 1, pos + 8, 4, 0xfffffffe);
	CHECK_EQ(tm_cfg_read(&m, 1, pos + 16, 4), 0xffff);	/* nothing there */
	/* The window's data bytes at odd offsets and sizes. */
	for (unsigned int i = 0; i < 8; i++)
		for (unsigned int z = 1; z <= 4; z++) {
			tm_cfg_write(&m, 1, pos + 14 + i, z, 0xffffffff);
			tm_cfg_read(&m, 1, pos + 14 + i, z);
		}
	CHECK_EQ(tm_cfg_read(&m, 1, pos + 3, 1), KR_VIRTIO_CAP_PCI_CFG);
	teardown(&m, &t);
}

static int hook_calls;

static void notify_hook(void *opaque, struct kr_virtio_pci *v)
{
	(void)opaque;
	(void)v;
	hook_calls++;
}

KR_TEST(vpci_notify_addr_and_kick)
{
	struct tmach m;
	struct tdev t;
	struct vdrv d;
	uint64_t gpa;

	setup(&m, &t, &d, 1);
	hook_calls = 0;
	kr_virtio_pci_set_notify_hook(t.vp, notify_hook, NULL);
	CHECK(kr_virtio_pci_notify_addr(t.vp, 1, &gpa));
	CHECK_EQ(gpa, BARADDR + KR_VIRTIO_NOTIFY_OFF + 4);
	CHECK(!kr_virtio_pci_notify_addr(t.vp, 2, &gpa));
	bring_up(&d, true);
	CHECK_EQ(d.q[1].notify, BARADDR + KR_VIRTIO_NOTIFY_OFF + 4);
	tm_cfg_write(&m, 1, KR_PCI_BAR0, 4, BARADDR + 0x10000);
	CHECK_EQ(hook_calls, 1);
	CHECK(kr_virtio_pci_notify_addr(t.vp, 0, &gpa));
	CHECK_EQ(gpa, BARADDR + 0x10000 + KR_VIRTIO_NOTIFY_OFF);
	tm_cfg_write(&m, 1, KR_PCI_COMMAND, 2, KR_PCI_CMD_MASTER);
	CHECK_EQ(hook_calls, 2);
	CHECK(!kr_virtio_pci_notify_addr(t.vp, 0, &gpa));
	/* What an ioeventfd would do. */
	vd_desc(&d, 0, 0, BUF, 8, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&d, 0, 0);
	kr_virtio_pci_kick(t.vp, 0);
	CHECK_EQ(vd_used_idx(&d, 0), 1);
	kr_virtio_pci_kick(t.vp, 2);
	kr_virtio_pci_kick(t.vp, ~0u);
	CHECK_EQ(t.notifies[0], 1);
	CHECK_EQ(t.notifies[1], 0);
	teardown(&m, &t);
}

KR_TEST(vpci_bus_master_off)
{
	struct tmach m;
	struct tdev t;
	struct vdrv d;

	setup(&m, &t, &d, 1);
	bring_up(&d, true);
	tm_cfg_write(&m, 1, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY);
	vd_desc(&d, 0, 0, BUF, 8, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&d, 0, 0);
	vd_kick(&d, 0);
	CHECK_EQ(t.notifies[0], 1);
	CHECK_EQ(vd_used_idx(&d, 0), 0);
	tm_cfg_write(&m, 1, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY | KR_PCI_CMD_MASTER);
	vd_kick(&d, 0);
	CHECK_EQ(vd_used_idx(&d, 0), 1);
	teardown(&m, &t);
}

KR_TEST(vpci_event_idx)
{
	struct tmach m;
	struct tdev t;
	struct vdrv d;
	uint8_t *used_event, *avail_event;

	setup(&m, &t, &d, 1);
	vd_negotiate(&d, WANT | 1ull << KR_VIRTIO_F_EVENT_IDX | 1ull << KR_VIRTIO_F_INDIRECT_DESC);
	vd_msix_enable(&d);
	vd_setup_queue(&d, 0, 16, RING0, 1);
	vd_driver_ok(&d);
	used_event = tm_ram(&m, d.q[0].avail + 4 + 2 * 16, 2);
	avail_event = tm_ram(&m, d.q[0].used + 4 + 8 * 16, 2);
	/* An indirect chain, now that it was negotiated. */
	vd_desc(&d, 0, 0, BUF + 0x1000, 32, KR_VQ_DESC_F_INDIRECT, 0);
	kr_put_le(tm_ram(&m, BUF + 0x1000, 32), 8, BUF);
	kr_put_le(tm_ram(&m, BUF + 0x1008, 4), 4, 4);
	kr_put_le(tm_ram(&m, BUF + 0x100c, 2), 2, KR_VQ_DESC_F_WRITE);
	vd_avail(&d, 0, 0);
	vd_kick(&d, 0);
	CHECK_EQ(vd_used_idx(&d, 0), 1);
	CHECK_EQ(m.n_msi, 1);
	CHECK_EQ(kr_get_le(avail_event, 2), 1);		/* notify me for entry 1 */
	/* used_event far ahead: buffers used silently until it is reached. */
	kr_put_le(used_event, 2, 2);
	vd_avail(&d, 0, 0);
	vd_kick(&d, 0);
	CHECK_EQ(vd_used_idx(&d, 0), 2);
	CHECK_EQ(m.n_msi, 1);
	vd_avail(&d, 0, 0);
	vd_kick(&d, 0);
	CHECK_EQ(vd_used_idx(&d, 0), 3);
	CHECK_EQ(m.n_msi, 2);
	CHECK_EQ(kr_get_le(avail_event, 2), 3);
	teardown(&m, &t);
}

/* Every access size at every offset of the BAR with garbage: no crash. */
KR_TEST(vpci_bar_fuzz)
{
	static const unsigned int sizes[] = { 1, 2, 3, 4, 8 };
	struct tmach m;
	struct tdev t;
	struct vdrv d;
	uint32_t s = 99;

	setup(&m, &t, &d, 1);
	bring_up(&d, true);
	for (unsigned int z = 0; z < 4 * ARRAY_SIZE(sizes); z++)
		for (uint64_t off = 0; off < KR_VIRTIO_BAR_SIZE; off++) {
			s ^= s << 13;
			s ^= s >> 17;
			s ^= s << 5;
			tm_read(&m.mmio, BARADDR + off, sizes[z % 5]);
			if (off >= KR_VIRTIO_MSIX_TABLE_OFF)	/* keep the table usable */
				continue;
			/* Zeroes, small values (valid fields more often), garbage. */
			tm_write(&m.mmio, BARADDR + off, sizes[z % 5],
				 z & 1 ? 0 : s & 0x100 ? s : s & 0x1f);
		}
	/* It reached the registers: resets (status 0) and notifications. */
	CHECK(t.resets >= 3);
	CHECK(t.notifies[0] > 10 && t.notifies[1] > 10);
	/* Whatever state that left, a driver can start over. */
	bring_up(&d, true);
	CHECK_EQ(vd_status(&d), KR_VIRTIO_STATUS_ACKNOWLEDGE | KR_VIRTIO_STATUS_DRIVER |
		 KR_VIRTIO_STATUS_FEATURES_OK | KR_VIRTIO_STATUS_DRIVER_OK);
	vd_desc(&d, 0, 0, BUF, 8, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&d, 0, 0);
	vd_kick(&d, 0);
	CHECK_EQ(vd_used_idx(&d, 0), 1);
	teardown(&m, &t);
}

/* Two vCPUs kicking while a third resets and brings the device back up. */
struct race {
	struct vdrv *d;
	struct tdev *t;
	int stop;
};

static void *kicker(void *opaque)
{
	struct race *r = opaque;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		kr_virtio_pci_kick(r->t->vp, 0);
		kr_virtio_pci_kick(r->t->vp, 1);
	}
	return NULL;
}

KR_TEST(vpci_reset_race)
{
	struct tmach m;
	struct tdev t;
	struct vdrv d;
	struct race r = { &d, &t, 0 };
	pthread_t th[2];

	setup(&m, &t, &d, 1);
	bring_up(&d, true);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, kicker, &r);
	for (int i = 0; i < 200; i++) {
		vd_desc(&d, 0, 0, BUF, 8, KR_VQ_DESC_F_WRITE, 0);
		vd_avail(&d, 0, 0);
		if (i % 10 == 0)
			bring_up(&d, i % 20 == 0);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(t.pop_errors, 0);
	CHECK(t.resets >= 20);
	teardown(&m, &t);
}

/* ---- snapshots ------------------------------------------------------------ */

/* Where the transport's state keeps some fields (virtio_pci.c, version 1). */
#define S_NQ		4
#define S_DRIVER	14
#define S_NEG		22
#define S_STATUS	30
#define S_CVEC		33
#define S_ISR		37
#define S_Q0		42		/* size, enabled, desc, driver, device, vector */
#define S_Q0_ENABLED	(S_Q0 + 2)
#define S_Q0_DESC	(S_Q0 + 3)
#define S_Q0_VECTOR	(S_Q0 + 27)
#define S_Q0_AVAIL	(S_Q0 + 29)	/* last_avail, used_idx, signalled_used, broken */

/* Make a writable 8-byte buffer at BUF + 0x100 * head available on queue q. */
static void post8(struct vdrv *d, unsigned int q, uint16_t head)
{
	memset(tm_ram(d->m, BUF + 0x100 * head, 8), 0, 8);
	vd_desc(d, q, head, BUF + 0x100 * head, 8, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(d, q, head);
}

/* The next used entry is head, all 8 bytes written with q's fill. */
static bool used8(struct vdrv *d, unsigned int q, uint16_t head)
{
	uint32_t id, len;

	return vd_used(d, q, &id, &len) && id == head && len == 8 &&
	       !memcmp(tm_ram(d->m, BUF + 0x100 * head, 8),
		       q ? "\xc1\xc1\xc1\xc1\xc1\xc1\xc1\xc1" : "\xc0\xc0\xc0\xc0\xc0\xc0\xc0\xc0",
		       8);
}

/* A second machine with a copy of m's RAM and a fresh device in the same slot. */
static void snap_clone(struct tmach *m2, struct tdev *t2, struct vdrv *d2, struct tmach *m,
		  const struct vdrv *d, bool msix)
{
	tm_init(m2);
	tm_copy_ram(m2, m);
	memset(t2, 0, sizeof(*t2));
	pthread_mutex_init(&t2->lock, NULL);
	memcpy(t2->config, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	t2->process = true;
	t2->vp = kr_virtio_pci_create(m2->pci, d->slot, &m2->mem, &t_ops, t2);
	if (!t2->vp || vd_restore(d2, m2, d, msix))
		memset(d2, 0, sizeof(*d2));
}

static int load(struct tdev *t, const struct kr_sbuf *b, struct kr_sget *g)
{
	kr_sget_init(g, b->p, b->len, "vt");
	return kr_virtio_pci_load(t->vp, g);
}

KR_TEST(vpci_snap_round_trip)
{
	struct tmach m, m2;
	struct tdev t, t2;
	struct vdrv d, d2;
	struct kr_sbuf b = { 0 };
	struct kr_sget g;
	uint16_t held[2] = { 1, 0 };

	setup(&m, &t, &d, 1);
	bring_up(&d, true);
	/* Queue 0: two chains served, one popped and held, two made available only. */
	post8(&d, 0, 0);
	post8(&d, 0, 1);
	vd_kick(&d, 0);
	CHECK(used8(&d, 0, 0) && used8(&d, 0, 1));
	t.hold = true;
	post8(&d, 0, 2);
	vd_kick(&d, 0);
	CHECK_EQ(t.pops, 3);
	post8(&d, 0, 3);
	post8(&d, 0, 4);
	/* Queue 1: one served.  And registers the driver left as they were. */
	t.hold = false;
	post8(&d, 1, 7);
	vd_kick(&d, 1);
	CHECK(used8(&d, 1, 7));
	vd_common_write(&d, KR_VIRTIO_COMMON_DFSELECT, 4, 1);
	vd_common_write(&d, KR_VIRTIO_COMMON_GFSELECT, 4, 1);
	vd_common_write(&d, KR_VIRTIO_COMMON_Q_SELECT, 2, 1);
	kr_virtio_config_changed(t.vp);
	m.n_msi = 0;

	/* The held chain must be declared: else the device did not quiesce. */
	CHECK_EQ(kr_virtio_pci_save(t.vp, &b, NULL), -EBUSY);
	CHECK_EQ(b.len, 0);
	held[0] = 2;
	CHECK_EQ(kr_virtio_pci_save(t.vp, &b, held), -EBUSY);
	held[0] = 1;
	CHECK_EQ(kr_virtio_pci_save(t.vp, &b, held), 0);
	CHECK(!b.oom && b.len > S_Q0_AVAIL);
	CHECK_EQ(b.p[S_STATUS], vd_status(&d));
	CHECK_EQ(kr_get_le(b.p + S_Q0_AVAIL, 2), 2);	/* rewound past the held chain */

	snap_clone(&m2, &t2, &d2, &m, &d, true);
	CHECK_EQ(load(&t2, &b, &g), 0);
	/* Nothing called, nothing sent: the irqchip and pci.c restore their own. */
	CHECK_EQ(t2.notifies[0] + t2.notifies[1] + t2.resets + t2.driver_oks, 0);
	CHECK_EQ(m2.n_msi, 0);
	CHECK_EQ(m2.irq_calls, 0);
	/* The registers read back as the driver left them. */
	CHECK_EQ(vd_status(&d2), vd_status(&d));
	CHECK_EQ(kr_virtio_features(t2.vp), WANT);
	CHECK_EQ(vd_common_read(&d2, KR_VIRTIO_COMMON_DFSELECT, 4), 1);
	CHECK_EQ(vd_common_read(&d2, KR_VIRTIO_COMMON_GF, 4), 1);	/* VERSION_1 */
	CHECK_EQ(vd_common_read(&d2, KR_VIRTIO_COMMON_CFGGEN, 1),
		 vd_common_read(&d, KR_VIRTIO_COMMON_CFGGEN, 1));
	CHECK_EQ(vd_common_read(&d2, KR_VIRTIO_COMMON_Q_SELECT, 2), 1);
	CHECK_EQ(vd_common_read(&d2, KR_VIRTIO_COMMON_MSIX, 2), 0);
	for (unsigned int q = 0; q < 2; q++) {
		vd_common_write(&d2, KR_VIRTIO_COMMON_Q_SELECT, 2, q);
		vd_common_write(&d, KR_VIRTIO_COMMON_Q_SELECT, 2, q);
		CHECK_EQ(vd_common_read(&d2, KR_VIRTIO_COMMON_Q_SIZE, 2), 16);
		CHECK_EQ(vd_common_read(&d2, KR_VIRTIO_COMMON_Q_ENABLE, 2), 1);
		CHECK_EQ(vd_common_read(&d2, KR_VIRTIO_COMMON_Q_MSIX, 2), q + 1);
		for (unsigned int off = KR_VIRTIO_COMMON_Q_DESC; off < KR_VIRTIO_COMMON_LEN;
		     off += 8)
			CHECK_EQ(vd_common_read(&d2, off, 8), vd_common_read(&d, off, 8));
	}
	CHECK_EQ(tm_read(&m2.mmio, d2.isr, 1), 3);	/* queue and config, unread */
	/* The config change is still news to a reader of the device configuration. */
	{
		uint8_t gen = vd_common_read(&d2, KR_VIRTIO_COMMON_CFGGEN, 1);

		tm_read(&m2.mmio, d2.device, 4);
		CHECK_EQ(vd_common_read(&d2, KR_VIRTIO_COMMON_CFGGEN, 1), (uint8_t)(gen + 1));
	}

	/* kick_all: the held chain and the two never notified, each once, in order. */
	kr_virtio_pci_kick_all(t2.vp);
	CHECK_EQ(t2.pops, 3);
	CHECK(used8(&d2, 0, 2) && used8(&d2, 0, 3) && used8(&d2, 0, 4));
	CHECK_EQ(vd_used_idx(&d2, 0), 5);
	CHECK(!vd_used(&d2, 0, &(uint32_t){ 0 }, &(uint32_t){ 0 }));
	CHECK_EQ(vd_used_idx(&d2, 1), 1);
	CHECK_EQ(m2.n_msi, 1);
	CHECK_EQ(m2.msi[0].data, VD_MSI_DATA(1));
	/* And it goes on. */
	post8(&d2, 0, 5);
	post8(&d2, 1, 8);
	vd_kick(&d2, 0);
	vd_kick(&d2, 1);
	CHECK(used8(&d2, 0, 5) && used8(&d2, 1, 8));

	/* The original carries on untouched: its held chain, then the rest. */
	memset(t.held_iov[0].iov_base, 0xc0, 8);
	kr_virtio_push(t.vp, 0, &t.held, 8);
	t.process = true;
	vd_kick(&d, 0);
	CHECK(used8(&d, 0, 2) && used8(&d, 0, 3) && used8(&d, 0, 4));
	CHECK_EQ(vd_used_idx(&d, 0), 5);
	kr_sbuf_free(&b);
	CHECK_EQ(kr_virtio_pci_save(t.vp, &b, NULL), 0);	/* nothing held any more */

	kr_sbuf_free(&b);
	teardown(&m2, &t2);
	teardown(&m, &t);
}

/* States short of a running device, INTx, EVENT_IDX and a broken queue. */
KR_TEST(vpci_snap_states)
{
	struct tmach m, m2;
	struct tdev t, t2;
	struct vdrv d, d2;
	struct kr_sbuf b = { 0 };
	struct kr_sget g;
	unsigned int gsi = kr_pci_intx_gsi(1, 0);

	/* Just created: a fresh device loads a fresh device. */
	setup(&m, &t, &d, 1);
	CHECK_EQ(kr_virtio_pci_save(t.vp, &b, NULL), 0);
	snap_clone(&m2, &t2, &d2, &m, &d, false);
	CHECK_EQ(load(&t2, &b, &g), 0);
	CHECK_EQ(vd_status(&d2), 0);
	CHECK_EQ(vd_common_read(&d2, KR_VIRTIO_COMMON_Q_SIZE, 2), T_QMAX);
	kr_virtio_pci_kick_all(t2.vp);
	CHECK_EQ(t2.notifies[0] + t2.notifies[1], 0);		/* no queue is ready */
	teardown(&m2, &t2);
	kr_sbuf_free(&b);

	/*
	 * Mid-setup: features accepted, queue 0 enabled with EVENT_IDX, queue 1
	 * only sized (any value until enabled), no DRIVER_OK yet.
	 */
	vd_negotiate(&d, WANT | 1ull << KR_VIRTIO_F_EVENT_IDX);
	vd_setup_queue(&d, 0, 16, RING0, VNO);
	vd_common_write(&d, KR_VIRTIO_COMMON_Q_SELECT, 2, 1);
	vd_common_write(&d, KR_VIRTIO_COMMON_Q_SIZE, 2, 5);
	CHECK_EQ(kr_virtio_pci_save(t.vp, &b, NULL), 0);
	snap_clone(&m2, &t2, &d2, &m, &d, false);
	CHECK_EQ(load(&t2, &b, &g), 0);
	CHECK_EQ(vd_common_read(&d2, KR_VIRTIO_COMMON_Q_SIZE, 2), 5);
	vd_driver_ok(&d2);
	CHECK_EQ(t2.driver_oks, 1);
	post8(&d2, 0, 0);
	vd_kick(&d2, 0);
	CHECK(used8(&d2, 0, 0));
	/* EVENT_IDX came from the negotiated features: avail_event asks for entry 1. */
	CHECK_EQ(kr_get_le(tm_ram(&m2, d2.q[0].used + 4 + 8 * 16, 2), 2), 1);
	CHECK_EQ(m2.level[gsi], 1);				/* INTx: no MSI-X */
	teardown(&m2, &t2);
	kr_sbuf_free(&b);

	/* INTx with the ISR set and unread; and a queue broken by a bad chain. */
	vd_driver_ok(&d);
	post8(&d, 0, 0);
	vd_kick(&d, 0);
	CHECK_EQ(m.level[gsi], 1);
	vd_desc(&d, 0, 1, BUF, 8, KR_VQ_DESC_F_NEXT, 1);	/* a loop */
	vd_avail(&d, 0, 1);
	vd_kick(&d, 0);
	CHECK(vd_status(&d) & KR_VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(kr_virtio_pci_save(t.vp, &b, NULL), 0);
	snap_clone(&m2, &t2, &d2, &m, &d, false);
	CHECK_EQ(load(&t2, &b, &g), 0);
	CHECK_EQ(m2.irq_calls, 0);			/* the line is pci.c's to restore */
	CHECK(vd_status(&d2) & KR_VIRTIO_STATUS_NEEDS_RESET);
	kr_virtio_pci_kick_all(t2.vp);
	CHECK_EQ(t2.pop_errors, 1);			/* still broken */
	CHECK_EQ(tm_read(&m2.mmio, d2.isr, 1), 3);
	CHECK_EQ(m2.level[gsi], 0);
	/* A reset heals it as it would the original. */
	bring_up(&d2, false);
	post8(&d2, 0, 2);
	vd_kick(&d2, 0);
	CHECK(used8(&d2, 0, 2));
	teardown(&m2, &t2);
	kr_sbuf_free(&b);
	teardown(&m, &t);
}

static void check_refused(struct tdev *t, const struct kr_sbuf *b, const char *why)
{
	struct kr_sget g;

	CHECK_EQ(load(t, b, &g), -EPROTO);
	CHECK(g.bad);
	if (!strstr(g.why, why)) {
		printf("#   refused with \"%s\", want \"%s\"\n", g.why, why);
		CHECK(0);
	}
}

/* A copy of good with n bytes at off set to v (little-endian). */
static void patched(struct kr_sbuf *out, const struct kr_sbuf *good, size_t off, unsigned int n,
		    uint64_t v)
{
	kr_sbuf_free(out);
	kr_sbuf_bytes(out, good->p, good->len);
	kr_put_le(out->p + off, n, v);
}

KR_TEST(vpci_snap_refused)
{
	struct tmach m, m2;
	struct tdev t, t2;
	struct vdrv d, d2;
	struct kr_sbuf good = { 0 }, b = { 0 };
	struct kr_sget g;

	setup(&m, &t, &d, 1);
	bring_up(&d, true);
	post8(&d, 0, 0);
	vd_kick(&d, 0);
	CHECK(used8(&d, 0, 0));
	CHECK_EQ(kr_virtio_pci_save(t.vp, &good, NULL), 0);
	snap_clone(&m2, &t2, &d2, &m, &d, true);

	/* Every truncation, and a byte too many. */
	for (size_t n = 0; n < good.len; n++) {
		struct kr_sbuf cut = { .p = good.p, .len = n };

		check_refused(&t2, &cut, "vt: truncated state");
	}
	patched(&b, &good, 0, 4, 1);
	kr_sbuf_u8(&b, 0);
	check_refused(&t2, &b, "vt: 1 bytes of state left over");
	patched(&b, &good, 0, 4, 2);
	check_refused(&t2, &b, "vt: state version 2, this khv-run reads 1");

	/* Crafted values. */
	patched(&b, &good, S_NQ, 2, 3);
	check_refused(&t2, &b, "vt: 3 queues in the snapshot, 2 here");
	patched(&b, &good, S_Q0, 2, 24);
	check_refused(&t2, &b, "queue 0: size 24 is not a power of 2 up to 256");
	patched(&b, &good, S_Q0, 2, 512);
	check_refused(&t2, &b, "queue 0: size 512");
	patched(&b, &good, S_Q0_VECTOR, 2, 3);
	check_refused(&t2, &b, "queue 0: vector 3, the device has 3");
	patched(&b, &good, S_CVEC, 2, 0x7ff);
	check_refused(&t2, &b, "configuration vector 2047");
	patched(&b, &good, S_Q0_DESC, 8, 0xd0000000);
	check_refused(&t2, &b, "queue 0: rings at 0xd0000000");
	patched(&b, &good, S_Q0_DESC, 8, RING0 + 8);
	check_refused(&t2, &b, "misaligned or not in guest RAM");
	patched(&b, &good, S_Q0_DESC, 8, TM_LOW_SIZE - 0x80);
	check_refused(&t2, &b, "not in guest RAM");
	patched(&b, &good, S_NEG, 8, WANT | 1ull << 40);
	kr_put_le(b.p + S_DRIVER, 8, WANT | 1ull << 40);
	check_refused(&t2, &b, "0x10000000000 of them not offered here");
	patched(&b, &good, S_NEG, 8, 1);
	kr_put_le(b.p + S_DRIVER, 8, 1);
	check_refused(&t2, &b, "negotiated without VERSION_1");
	patched(&b, &good, S_NEG, 8, WANT | 1ull << 5);
	check_refused(&t2, &b, "the driver's are");
	patched(&b, &good, S_STATUS, 1, KR_VIRTIO_STATUS_DRIVER_OK);
	check_refused(&t2, &b, "negotiated without FEATURES_OK");
	patched(&b, &good, S_ISR, 1, 4);
	check_refused(&t2, &b, "ISR 0x4");
	patched(&b, &good, S_Q0_ENABLED, 1, 2);
	check_refused(&t2, &b, "a flag reads 2");
	patched(&b, &good, S_Q0_AVAIL, 2, 0);
	check_refused(&t2, &b, "queue 0: 0 chains taken but 1 given back");

	/* None of that touched the device: the good state still loads, and works. */
	CHECK_EQ(vd_status(&d2), 0);
	kr_sget_init(&g, good.p, good.len, "vt");
	CHECK_EQ(kr_virtio_pci_load(t2.vp, &g), 0);
	post8(&d2, 0, 1);
	vd_kick(&d2, 0);
	CHECK(used8(&d2, 0, 1));

	kr_sbuf_free(&b);
	kr_sbuf_free(&good);
	teardown(&m2, &t2);
	teardown(&m, &t);
}

/* Frozen for a snapshot: pops find nothing; kick_all after thawing catches up. */
KR_TEST(vpci_freeze)
{
	struct tmach m;
	struct tdev t;
	struct vdrv d;
	uint8_t *avail_event;

	setup(&m, &t, &d, 1);
	vd_negotiate(&d, WANT | 1ull << KR_VIRTIO_F_EVENT_IDX);
	vd_setup_queue(&d, 0, 16, RING0, VNO);
	vd_setup_queue(&d, 1, 16, RING1, VNO);
	vd_driver_ok(&d);
	avail_event = tm_ram(&m, d.q[0].used + 4 + 8 * 16, 2);
	kr_virtio_pci_freeze(t.vp, true);
	CHECK(kr_virtio_pci_frozen(t.vp));
	kr_put_le(avail_event, 2, 0x5555);
	post8(&d, 0, 0);
	vd_kick(&d, 0);
	CHECK_EQ(t.notifies[0], 1);
	CHECK_EQ(t.pops, 0);
	CHECK_EQ(vd_used_idx(&d, 0), 0);
	CHECK_EQ(kr_get_le(avail_event, 2), 0x5555);	/* guest memory untouched */
	kr_virtio_pci_freeze(t.vp, false);
	CHECK(!kr_virtio_pci_frozen(t.vp));
	CHECK_EQ(t.pops, 0);				/* thawing notifies nobody */
	kr_virtio_pci_kick_all(t.vp);
	CHECK_EQ(t.notifies[0], 2);
	CHECK_EQ(t.notifies[1], 1);
	CHECK(used8(&d, 0, 0));
	teardown(&m, &t);
}
