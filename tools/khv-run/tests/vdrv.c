// SPDX-License-Identifier: GPL-2.0
/* The fake machine and the test virtio driver (vdrv.h). */
#include <stdlib.h>
#include <string.h>

#include "vdrv.h"

static void tm_irq_set(void *opaque, unsigned int gsi, int level)
{
	struct tmach *m = opaque;

	if (gsi >= KR_IOAPIC_PINS)
		abort();
	m->level[gsi] = level;
	m->irq_calls++;
}

static int tm_msi_send(void *opaque, uint64_t address, uint32_t data)
{
	struct tmach *m = opaque;

	if (m->n_msi < TM_MAX_MSI)
		m->msi[m->n_msi++] = (struct tm_msi){ address, data };
	return 0;
}

static void tm_reset(void *opaque)
{
	struct tmach *m = opaque;

	m->resets++;
}

void tm_init(struct tmach *m)
{
	struct kr_pci_params p = {
		.intx = { .set = tm_irq_set, .opaque = m },
		.msi = { .send = tm_msi_send, .opaque = m },
		.reset = tm_reset,
		.reset_opaque = m,
	};

	memset(m, 0, sizeof(*m));
	kr_bus_init(&m->pio, "pio");
	kr_bus_init(&m->mmio, "mmio");
	m->mem.low = aligned_alloc(4096, TM_LOW_SIZE);
	m->mem.high = aligned_alloc(4096, TM_HIGH_SIZE);
	m->mem.low_size = TM_LOW_SIZE;
	m->mem.high_size = TM_HIGH_SIZE;
	m->pci = kr_pci_create(&p);
	if (!m->mem.low || !m->mem.high || !m->pci || kr_pci_attach(m->pci, &m->pio, &m->mmio))
		abort();
	memset(m->mem.low, 0, TM_LOW_SIZE);
	memset(m->mem.high, 0, TM_HIGH_SIZE);
}

void tm_fini(struct tmach *m)
{
	kr_pci_destroy(m->pci);
	kr_bus_free(&m->pio);
	kr_bus_free(&m->mmio);
	free(m->mem.low);
	free(m->mem.high);
}

void *tm_ram(struct tmach *m, uint64_t gpa, uint64_t len)
{
	void *p = kr_gpa(&m->mem, gpa, len);

	if (!p)
		abort();
	return p;
}

void tm_copy_ram(struct tmach *to, const struct tmach *from)
{
	memcpy(to->mem.low, from->mem.low, TM_LOW_SIZE);
	memcpy(to->mem.high, from->mem.high, TM_HIGH_SIZE);
}

uint64_t tm_read(struct kr_bus *bus, uint64_t addr, unsigned int size)
{
	uint8_t d[8];

	kr_bus_access(bus, addr, d, size, false);
	return kr_get_le(d, size);
}

void tm_write(struct kr_bus *bus, uint64_t addr, unsigned int size, uint64_t v)
{
	uint8_t d[8];

	kr_put_le(d, size, v);
	kr_bus_access(bus, addr, d, size, true);
}

uint32_t tm_cfg_read(struct tmach *m, unsigned int slot, unsigned int reg, unsigned int size)
{
	return tm_read(&m->mmio, KR_ECAM_BASE + (slot << 15) + reg, size);
}

void tm_cfg_write(struct tmach *m, unsigned int slot, unsigned int reg, unsigned int size,
		  uint32_t v)
{
	tm_write(&m->mmio, KR_ECAM_BASE + (slot << 15) + reg, size, v);
}

unsigned int tm_find_cap(struct tmach *m, unsigned int slot, uint8_t id, unsigned int from)
{
	unsigned int pos;

	if (!(tm_cfg_read(m, slot, KR_PCI_STATUS, 2) & KR_PCI_STS_CAPS))
		return 0;
	pos = from ? tm_cfg_read(m, slot, from + 1, 1) : tm_cfg_read(m, slot, KR_PCI_CAP_PTR, 1);
	for (int n = 0; n < 48 && pos >= KR_PCI_CAP_START; n++) {	/* a loop ends too */
		pos &= ~3u;
		if (tm_cfg_read(m, slot, pos, 1) == id)
			return pos;
		pos = tm_cfg_read(m, slot, pos + 1, 1);
	}
	return 0;
}

/* ---- the driver ---- */

int vd_probe(struct vdrv *d, struct tmach *m, unsigned int slot, uint64_t bar_addr)
{
	uint32_t orig, mask, off[6] = { 0 }, len[6] = { 0 };
	unsigned int pos, type;
	uint16_t cmd;

	memset(d, 0, sizeof(*d));
	d->m = m;
	d->slot = slot;
	for (pos = tm_find_cap(m, slot, KR_PCI_CAP_ID_VNDR, 0); pos;
	     pos = tm_find_cap(m, slot, KR_PCI_CAP_ID_VNDR, pos)) {
		type = tm_cfg_read(m, slot, pos + 3, 1);
		if (type >= 6 || tm_cfg_read(m, slot, pos + 4, 1) != 0)
			continue;
		if (len[type])
			continue;	/* the first of each type counts */
		off[type] = tm_cfg_read(m, slot, pos + 8, 4);
		len[type] = tm_cfg_read(m, slot, pos + 12, 4);
		if (type == KR_VIRTIO_CAP_NOTIFY_CFG)
			d->notify_mult = tm_cfg_read(m, slot, pos + 16, 4);
	}
	if (!len[KR_VIRTIO_CAP_COMMON_CFG] || !len[KR_VIRTIO_CAP_NOTIFY_CFG] ||
	    !len[KR_VIRTIO_CAP_ISR_CFG])
		return -1;

	/* Size BAR 0 as the PCI core does: decoding off, all-ones, restore. */
	cmd = tm_cfg_read(m, slot, KR_PCI_COMMAND, 2);
	tm_cfg_write(m, slot, KR_PCI_COMMAND, 2, cmd & ~(KR_PCI_CMD_MEMORY | KR_PCI_CMD_IO));
	orig = tm_cfg_read(m, slot, KR_PCI_BAR0, 4);
	tm_cfg_write(m, slot, KR_PCI_BAR0, 4, 0xffffffff);
	mask = tm_cfg_read(m, slot, KR_PCI_BAR0, 4);
	tm_cfg_write(m, slot, KR_PCI_BAR0, 4, orig);
	if ((mask & 1) || ~(mask & ~0xfu) + 1 < KR_VIRTIO_BAR_SIZE)
		return -2;
	if (off[KR_VIRTIO_CAP_COMMON_CFG] + len[KR_VIRTIO_CAP_COMMON_CFG] > ~(mask & ~0xfu) + 1)
		return -3;
	tm_cfg_write(m, slot, KR_PCI_BAR0, 4, bar_addr);
	if ((tm_cfg_read(m, slot, KR_PCI_BAR0, 4) & ~0xfu) != bar_addr)
		return -4;
	tm_cfg_write(m, slot, KR_PCI_COMMAND, 2, cmd | KR_PCI_CMD_MEMORY | KR_PCI_CMD_MASTER);
	d->bar = bar_addr;
	d->common = bar_addr + off[KR_VIRTIO_CAP_COMMON_CFG];
	d->isr = bar_addr + off[KR_VIRTIO_CAP_ISR_CFG];
	d->notify = bar_addr + off[KR_VIRTIO_CAP_NOTIFY_CFG];
	d->device = bar_addr + off[KR_VIRTIO_CAP_DEVICE_CFG];
	d->device_len = len[KR_VIRTIO_CAP_DEVICE_CFG];

	d->msix_cap = tm_find_cap(m, slot, KR_PCI_CAP_ID_MSIX, 0);
	if (d->msix_cap) {
		uint32_t t = tm_cfg_read(m, slot, d->msix_cap + 4, 4);

		d->nvec = (tm_cfg_read(m, slot, d->msix_cap + 2, 2) & 0x7ff) + 1;
		if ((t & 7) != 0)
			return -5;
		d->msix_table = bar_addr + (t & ~7u);
	}
	return 0;
}

uint64_t vd_common_read(struct vdrv *d, unsigned int off, unsigned int size)
{
	return tm_read(&d->m->mmio, d->common + off, size);
}

void vd_common_write(struct vdrv *d, unsigned int off, unsigned int size, uint64_t v)
{
	tm_write(&d->m->mmio, d->common + off, size, v);
}

uint8_t vd_status(struct vdrv *d)
{
	return vd_common_read(d, KR_VIRTIO_COMMON_STATUS, 1);
}

uint8_t vd_negotiate(struct vdrv *d, uint64_t features)
{
	uint8_t s = KR_VIRTIO_STATUS_ACKNOWLEDGE;

	vd_common_write(d, KR_VIRTIO_COMMON_STATUS, 1, 0);
	for (int i = 0; i < 10 && vd_status(d); i++)
		;
	vd_common_write(d, KR_VIRTIO_COMMON_STATUS, 1, s);
	s |= KR_VIRTIO_STATUS_DRIVER;
	vd_common_write(d, KR_VIRTIO_COMMON_STATUS, 1, s);
	vd_common_write(d, KR_VIRTIO_COMMON_GFSELECT, 4, 0);
	vd_common_write(d, KR_VIRTIO_COMMON_GF, 4, (uint32_t)features);
	vd_common_write(d, KR_VIRTIO_COMMON_GFSELECT, 4, 1);
	vd_common_write(d, KR_VIRTIO_COMMON_GF, 4, features >> 32);
	vd_common_write(d, KR_VIRTIO_COMMON_STATUS, 1, s | KR_VIRTIO_STATUS_FEATURES_OK);
	return vd_status(d);
}

void vd_msix_enable(struct vdrv *d)
{
	unsigned int ctl = d->msix_cap + 2;
	uint16_t v = tm_cfg_read(d->m, d->slot, ctl, 2);

	/* As Linux: enable with the function masked, program, then unmask. */
	tm_cfg_write(d->m, d->slot, ctl, 2, v | KR_MSIX_CTL_ENABLE | KR_MSIX_CTL_FMASK);
	for (unsigned int i = 0; i < d->nvec; i++) {
		uint64_t e = d->msix_table + 16 * i;

		tm_write(&d->m->mmio, e, 4, (uint32_t)VD_MSI_ADDR(i));
		tm_write(&d->m->mmio, e + 4, 4, VD_MSI_ADDR(i) >> 32);
		tm_write(&d->m->mmio, e + 8, 4, VD_MSI_DATA(i));
		tm_write(&d->m->mmio, e + 12, 4, 0);
	}
	tm_cfg_write(d->m, d->slot, ctl, 2, v | KR_MSIX_CTL_ENABLE);
}

int vd_restore(struct vdrv *d, struct tmach *m, const struct vdrv *from, bool msix)
{
	int err = vd_probe(d, m, from->slot, from->bar);

	if (err)
		return err;
	if (msix)
		vd_msix_enable(d);
	memcpy(d->q, from->q, sizeof(d->q));
	return 0;
}

uint16_t vd_setup_queue(struct vdrv *d, unsigned int q, uint16_t size, uint64_t ring_gpa,
			uint16_t vector)
{
	struct vd_queue *vq = &d->q[q];
	uint16_t got;
	void *ring;

	vq->size = size;
	vq->desc = ring_gpa;
	vq->avail = ring_gpa + KR_VQ_DESC_SIZE(size);
	vq->used = (vq->avail + KR_VQ_AVAIL_SIZE(size) + 4095) & ~4095ull;
	vq->avail_idx = vq->last_used = 0;
	ring = kr_gpa(&d->m->mem, ring_gpa, vq->used + KR_VQ_USED_SIZE(size) - ring_gpa);
	if (ring)		/* hostile tests put rings outside RAM */
		memset(ring, 0, vq->used + KR_VQ_USED_SIZE(size) - ring_gpa);
	vd_common_write(d, KR_VIRTIO_COMMON_Q_SELECT, 2, q);
	vd_common_write(d, KR_VIRTIO_COMMON_Q_SIZE, 2, size);
	vd_common_write(d, KR_VIRTIO_COMMON_Q_DESC, 4, (uint32_t)vq->desc);
	vd_common_write(d, KR_VIRTIO_COMMON_Q_DESC + 4, 4, vq->desc >> 32);
	vd_common_write(d, KR_VIRTIO_COMMON_Q_AVAIL, 4, (uint32_t)vq->avail);
	vd_common_write(d, KR_VIRTIO_COMMON_Q_AVAIL + 4, 4, vq->avail >> 32);
	vd_common_write(d, KR_VIRTIO_COMMON_Q_USED, 4, (uint32_t)vq->used);
	vd_common_write(d, KR_VIRTIO_COMMON_Q_USED + 4, 4, vq->used >> 32);
	vd_common_write(d, KR_VIRTIO_COMMON_Q_MSIX, 2, vector);
	got = vd_common_read(d, KR_VIRTIO_COMMON_Q_MSIX, 2);
	vq->notify = d->notify +
		     vd_common_read(d, KR_VIRTIO_COMMON_Q_NOFF, 2) * (uint64_t)d->notify_mult;
	vd_common_write(d, KR_VIRTIO_COMMON_Q_ENABLE, 2, 1);
	return got;
}

void vd_driver_ok(struct vdrv *d)
{
	vd_common_write(d, KR_VIRTIO_COMMON_STATUS, 1, vd_status(d) | KR_VIRTIO_STATUS_DRIVER_OK);
}

void vd_desc(struct vdrv *d, unsigned int q, uint16_t i, uint64_t addr, uint32_t len,
	     uint16_t flags, uint16_t next)
{
	uint8_t *p = tm_ram(d->m, d->q[q].desc + 16ull * i, 16);

	kr_put_le(p, 8, addr);
	kr_put_le(p + 8, 4, len);
	kr_put_le(p + 12, 2, flags);
	kr_put_le(p + 14, 2, next);
}

void vd_avail(struct vdrv *d, unsigned int q, uint16_t head)
{
	struct vd_queue *vq = &d->q[q];
	uint8_t *a = tm_ram(d->m, vq->avail, KR_VQ_AVAIL_SIZE(vq->size));

	kr_put_le(a + 4 + 2 * (vq->avail_idx % vq->size), 2, head);
	vq->avail_idx++;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n((uint16_t *)(a + 2), vq->avail_idx, __ATOMIC_RELAXED);
}

void vd_kick(struct vdrv *d, unsigned int q)
{
	tm_write(&d->m->mmio, d->q[q].notify, 2, q);
}

uint16_t vd_used_idx(struct vdrv *d, unsigned int q)
{
	uint8_t *u = tm_ram(d->m, d->q[q].used, 4);

	return __atomic_load_n((uint16_t *)(u + 2), __ATOMIC_ACQUIRE);
}

bool vd_used(struct vdrv *d, unsigned int q, uint32_t *id, uint32_t *len)
{
	struct vd_queue *vq = &d->q[q];
	uint8_t *u = tm_ram(d->m, vq->used, KR_VQ_USED_SIZE(vq->size));
	uint8_t *e;

	if (vd_used_idx(d, q) == vq->last_used)
		return false;
	e = u + 4 + 8 * (vq->last_used % vq->size);
	*id = kr_get_le(e, 4);
	*len = kr_get_le(e + 4, 4);
	vq->last_used++;
	return true;
}
