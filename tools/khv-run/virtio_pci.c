// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio 1.x PCI transport (virtio_pci.h).
 *
 * Locking:
 *  - v->lock covers the common configuration registers (feature words and
 *    selects, status, generation, queue selection and each queue's size,
 *    addresses and enable) and the PCI_CFG window's data.
 *  - q->lock covers one queue's ring state (the struct kr_vq, whether it
 *    is ready, its epoch, its chains in flight): pops and pushes of
 *    different queues run in parallel; v->lock -> q->lock when the
 *    registers set a queue up.
 *  - isr_lock covers the ISR byte together with the INTx level it implies
 *    (kr_pci_set_irq() is called with it held: pci.c's irq_lock is a leaf
 *    below it), so a driver read that clears the ISR cannot be overtaken by
 *    an assert of the interrupt it just acknowledged.
 *  - reset_lock makes resets one at a time across their three steps.
 * The vector numbers are atomics, read without a lock when interrupting.
 * Device callbacks and MSI-X messages are called with none of these held;
 * a device may hold its own lock when it calls pop/push/notify (device
 * lock -> q->lock or isr_lock), never the reverse.
 *
 * Reset runs in three steps so that ops->reset can wait for a device thread
 * that is inside kr_virtio_pop(): (1) under v->lock, mark the transport
 * resetting and every queue not ready with a new epoch, so pops return
 * nothing and later pushes of old chains are dropped; (2) ops->reset with
 * no lock; (3) clear the registers.  Register writes during (2), from
 * other vCPUs, are ignored.  Status reads 0 from (1) on: the vCPU that
 * wrote the 0 is held in its access until (3) is done, so it cannot see
 * the device half-reset; 0 also keeps (2) free of config interrupts.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "virtio_pci.h"

#define ISR_QUEUE		0x1
#define ISR_CONFIG		0x2
/* Device-specific feature ranges of virtio 1.2 (section 6): 0-23 and 50-63 here. */
#define DEVICE_FEATURES		(0xffffffull | (~0ull << 50))
#define TRANSPORT_FEATURES	(1ull << KR_VIRTIO_F_VERSION_1 | \
				 1ull << KR_VIRTIO_F_INDIRECT_DESC | \
				 1ull << KR_VIRTIO_F_EVENT_IDX)
#define LIVE			(KR_VIRTIO_STATUS_FEATURES_OK | KR_VIRTIO_STATUS_DRIVER_OK)

struct vqueue {
	pthread_mutex_t lock;
	struct kr_vq vq;
	bool ready;		/* atomic for the notify fast path */
	uint32_t epoch;
	/*
	 * Chains of this epoch popped and not pushed: a save must know that
	 * the device holds no chain it does not say it holds.
	 */
	unsigned int inflight;
	/* Registers, under v->lock. */
	uint16_t size;
	bool enabled;
	uint64_t desc, driver, device;
	uint16_t vector;	/* atomic */
};

struct kr_virtio_pci {
	struct kr_pci_dev *dev;
	const struct kr_mem *mem;
	const struct kr_virtio_ops *ops;
	void *opaque;
	pthread_mutex_t reset_lock;
	pthread_mutex_t lock;
	pthread_mutex_t isr_lock;
	bool resetting;
	bool frozen;		/* atomic: kr_virtio_pci_freeze() */
	uint32_t dfselect, gfselect;
	uint64_t offered;
	uint64_t driver_features;
	uint64_t negotiated;	/* driver_features when FEATURES_OK was accepted */
	uint8_t status;
	uint8_t generation;
	bool config_dirty;
	uint16_t config_vector;	/* atomic */
	uint16_t queue_select;
	uint8_t isr;
	unsigned int pci_cfg_cap;
	uint8_t pci_cfg_data[4];
	kr_virtio_notify_hook *notify_hook;
	void *notify_opaque;
	unsigned int nq;
	struct vqueue q[];
};

static void reset_device(struct kr_virtio_pci *v);

static uint16_t get_vector(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void set_vector(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* ---- interrupts ---------------------------------------------------------- */

/*
 * Interrupt the driver for `vector` (4.1.5.3/4.1.5.4).  The ISR bit is set
 * in every mode (a driver using MSI-X just never reads it); the INTx line
 * only when MSI-X is off.  With MSI-X on and the event unmapped
 * (NO_VECTOR), nothing is sent.
 */
static void raise_irq(struct kr_virtio_pci *v, uint16_t vector, uint8_t isr_bit)
{
	enum kr_msix_result r;

	pthread_mutex_lock(&v->isr_lock);
	v->isr |= isr_bit;
	pthread_mutex_unlock(&v->isr_lock);
	if (vector != KR_VIRTIO_NO_VECTOR)
		r = kr_pci_msix_notify(v->dev, vector);
	else
		r = kr_msix_enabled(kr_pci_msix(v->dev)) ? KR_MSIX_BAD_VECTOR : KR_MSIX_DISABLED;
	if (r != KR_MSIX_DISABLED)
		return;
	pthread_mutex_lock(&v->isr_lock);
	if (v->isr)		/* not already read and acknowledged */
		kr_pci_set_irq(v->dev, 1);
	pthread_mutex_unlock(&v->isr_lock);
}

static uint8_t isr_read_clear(struct kr_virtio_pci *v)
{
	uint8_t isr;

	pthread_mutex_lock(&v->isr_lock);
	isr = v->isr;
	v->isr = 0;
	kr_pci_set_irq(v->dev, 0);
	pthread_mutex_unlock(&v->isr_lock);
	return isr;
}

static void config_irq(struct kr_virtio_pci *v)
{
	raise_irq(v, get_vector(&v->config_vector), ISR_CONFIG);
}

void kr_virtio_needs_reset(struct kr_virtio_pci *v)
{
	bool irq;

	pthread_mutex_lock(&v->lock);
	irq = !(v->status & KR_VIRTIO_STATUS_NEEDS_RESET) &&
	      (v->status & KR_VIRTIO_STATUS_DRIVER_OK);
	v->status |= KR_VIRTIO_STATUS_NEEDS_RESET;
	pthread_mutex_unlock(&v->lock);
	if (irq)
		config_irq(v);
}

void kr_virtio_config_changed(struct kr_virtio_pci *v)
{
	bool irq;

	pthread_mutex_lock(&v->lock);
	v->config_dirty = true;
	irq = v->status & KR_VIRTIO_STATUS_DRIVER_OK;
	pthread_mutex_unlock(&v->lock);
	if (irq)
		config_irq(v);
}

/* ---- queues, device side ------------------------------------------------- */

uint64_t kr_virtio_features(struct kr_virtio_pci *v)
{
	uint64_t f;

	pthread_mutex_lock(&v->lock);
	f = v->negotiated;
	pthread_mutex_unlock(&v->lock);
	return f;
}

uint8_t kr_virtio_status(struct kr_virtio_pci *v)
{
	uint8_t s;

	pthread_mutex_lock(&v->lock);
	s = v->status;
	pthread_mutex_unlock(&v->lock);
	return s;
}

/* n chains of the current epoch went back (q->lock held). */
static void done_inflight(struct vqueue *vq, unsigned int n)
{
	/* More than were popped is a device bug; the count stays sane. */
	vq->inflight = vq->inflight > n ? vq->inflight - n : 0;
}

int kr_virtio_pop(struct kr_virtio_pci *v, unsigned int q, struct kr_vq_elem *e)
{
	struct vqueue *vq;
	int ret = 0;

	if (q >= v->nq)
		return 0;
	vq = &v->q[q];
	pthread_mutex_lock(&vq->lock);
	/*
	 * No DMA without bus mastering (the command register's bit 2); none
	 * while frozen, not even the empty ring's avail_event store.
	 */
	if (vq->ready && !__atomic_load_n(&v->frozen, __ATOMIC_RELAXED) &&
	    kr_pci_bus_master(v->dev)) {
		ret = kr_vq_pop(&vq->vq, e);
		e->epoch = vq->epoch;
		if (ret == 1)
			vq->inflight++;
	}
	pthread_mutex_unlock(&vq->lock);
	if (ret < 0)
		kr_virtio_needs_reset(v);
	return ret;
}

void kr_virtio_push(struct kr_virtio_pci *v, unsigned int q, const struct kr_vq_elem *e,
		    uint32_t len)
{
	struct vqueue *vq;

	if (q >= v->nq)
		return;
	vq = &v->q[q];
	pthread_mutex_lock(&vq->lock);
	if (vq->ready && e->epoch == vq->epoch) {
		kr_vq_push(&vq->vq, e, len);
		done_inflight(vq, 1);
	}
	pthread_mutex_unlock(&vq->lock);
}

void kr_virtio_push_n(struct kr_virtio_pci *v, unsigned int q, const struct kr_vq_elem *const *e,
		      const uint32_t *len, unsigned int n)
{
	struct vqueue *vq;
	bool current = true;

	if (q >= v->nq)
		return;
	vq = &v->q[q];
	pthread_mutex_lock(&vq->lock);
	for (unsigned int i = 0; i < n; i++)
		current = current && e[i]->epoch == vq->epoch;
	if (vq->ready && current) {
		kr_vq_push_n(&vq->vq, e, len, n);
		done_inflight(vq, n);
	}
	pthread_mutex_unlock(&vq->lock);
}

void kr_virtio_notify(struct kr_virtio_pci *v, unsigned int q)
{
	struct vqueue *vq;
	bool irq;

	if (q >= v->nq)
		return;
	vq = &v->q[q];
	pthread_mutex_lock(&vq->lock);
	irq = vq->ready && kr_vq_need_interrupt(&vq->vq);
	pthread_mutex_unlock(&vq->lock);
	if (irq)
		raise_irq(v, get_vector(&vq->vector), ISR_QUEUE);
}

void kr_virtio_pci_kick(struct kr_virtio_pci *v, unsigned int q)
{
	if (q < v->nq && __atomic_load_n(&v->q[q].ready, __ATOMIC_RELAXED))
		v->ops->queue_notify(v->opaque, q);
}

/* ---- common configuration ------------------------------------------------ */

static bool features_acceptable(const struct kr_virtio_pci *v)
{
	return !(v->driver_features & ~v->offered) &&
	       (v->driver_features & (1ull << KR_VIRTIO_F_VERSION_1));
}

/* Make queue q's ring state follow the registers and the status (v->lock held). */
static void queue_sync(struct kr_virtio_pci *v, struct vqueue *q)
{
	bool live = (v->status & LIVE) == LIVE && q->enabled;

	pthread_mutex_lock(&q->lock);
	if (live && !q->ready) {
		q->vq.event_idx = v->negotiated & (1ull << KR_VIRTIO_F_EVENT_IDX);
		q->vq.indirect = v->negotiated & (1ull << KR_VIRTIO_F_INDIRECT_DESC);
	}
	__atomic_store_n(&q->ready, live, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&q->lock);
}

/*
 * queue_enable = 1: the layout is checked now (size a power of 2, parts
 * aligned and in RAM).  A bad one leaves the queue disabled and the device
 * needing a reset; *bad tells the caller.  (v->lock held.)
 */
static void queue_enable(struct kr_virtio_pci *v, struct vqueue *q, bool *bad)
{
	struct kr_vq tmp;

	if (q->size > v->ops->queue_max ||
	    kr_vq_init(&tmp, v->mem, q->size, q->desc, q->driver, q->device, false, false)) {
		*bad = true;
		return;
	}
	pthread_mutex_lock(&q->lock);
	q->vq = tmp;
	q->epoch++;
	q->inflight = 0;
	pthread_mutex_unlock(&q->lock);
	q->enabled = true;
	queue_sync(v, q);
}

/* device_status written, not 0 (v->lock held).  *started: DRIVER_OK just took. */
static void status_write(struct kr_virtio_pci *v, uint8_t val, bool *started)
{
	uint8_t old = v->status;
	uint8_t now = old | (val & ~KR_VIRTIO_STATUS_NEEDS_RESET);	/* bits only get set */

	if ((now & KR_VIRTIO_STATUS_FEATURES_OK) && !(old & KR_VIRTIO_STATUS_FEATURES_OK)) {
		if (features_acceptable(v))
			v->negotiated = v->driver_features;
		else
			now &= ~KR_VIRTIO_STATUS_FEATURES_OK;	/* the driver reads it back */
	}
	v->status = now;
	if ((now & LIVE) == LIVE && (old & LIVE) != LIVE) {
		for (unsigned int i = 0; i < v->nq; i++)
			queue_sync(v, &v->q[i]);
		*started = true;
	}
}

static bool vector_valid(struct kr_virtio_pci *v, uint16_t vec)
{
	return vec < kr_msix_vectors(kr_pci_msix(v->dev));
}

static void set_half(uint64_t *reg, uint64_t off, unsigned int size, uint64_t val)
{
	if (size == 8)
		*reg = val;
	else if (off & 4)
		*reg = (*reg & 0xffffffffull) | val << 32;
	else
		*reg = (*reg & ~0xffffffffull) | val;
}

/*
 * Fields are written with their natural width; 64-bit ones also as two
 * dwords (4.1.3.1).  Anything else (odd sizes, offsets inside a field,
 * read-only fields) is ignored.
 */
static void common_write(struct kr_virtio_pci *v, uint64_t off, unsigned int size, uint64_t val)
{
	struct vqueue *q;
	bool started = false, bad = false, reset = false;

	pthread_mutex_lock(&v->lock);
	if (v->resetting)
		goto out;
	q = v->queue_select < v->nq ? &v->q[v->queue_select] : NULL;
	switch (off << 4 | size) {
	case KR_VIRTIO_COMMON_DFSELECT << 4 | 4:
		v->dfselect = val;
		break;
	case KR_VIRTIO_COMMON_GFSELECT << 4 | 4:
		v->gfselect = val;
		break;
	case KR_VIRTIO_COMMON_GF << 4 | 4:
		if (v->gfselect < 2 && !(v->status & KR_VIRTIO_STATUS_FEATURES_OK))
			set_half(&v->driver_features, v->gfselect ? 4 : 0, 4, val);
		break;
	case KR_VIRTIO_COMMON_MSIX << 4 | 2:
		set_vector(&v->config_vector, vector_valid(v, val) ? val : KR_VIRTIO_NO_VECTOR);
		break;
	case KR_VIRTIO_COMMON_STATUS << 4 | 1:
		if (!val)
			reset = true;
		else
			status_write(v, val, &started);
		break;
	case KR_VIRTIO_COMMON_Q_SELECT << 4 | 2:
		v->queue_select = val;
		break;
	case KR_VIRTIO_COMMON_Q_SIZE << 4 | 2:
		if (q && !q->enabled)
			q->size = val;
		break;
	case KR_VIRTIO_COMMON_Q_MSIX << 4 | 2:
		if (q)
			set_vector(&q->vector, vector_valid(v, val) ? val : KR_VIRTIO_NO_VECTOR);
		break;
	case KR_VIRTIO_COMMON_Q_ENABLE << 4 | 2:
		if (q && !q->enabled && val == 1)	/* writing 0 is not allowed (4.1.4.3.2) */
			queue_enable(v, q, &bad);
		break;
	case KR_VIRTIO_COMMON_Q_DESC << 4 | 4:
	case (KR_VIRTIO_COMMON_Q_DESC + 4) << 4 | 4:
	case KR_VIRTIO_COMMON_Q_DESC << 4 | 8:
		if (q && !q->enabled)
			set_half(&q->desc, off, size, val);
		break;
	case KR_VIRTIO_COMMON_Q_AVAIL << 4 | 4:
	case (KR_VIRTIO_COMMON_Q_AVAIL + 4) << 4 | 4:
	case KR_VIRTIO_COMMON_Q_AVAIL << 4 | 8:
		if (q && !q->enabled)
			set_half(&q->driver, off, size, val);
		break;
	case KR_VIRTIO_COMMON_Q_USED << 4 | 4:
	case (KR_VIRTIO_COMMON_Q_USED + 4) << 4 | 4:
	case KR_VIRTIO_COMMON_Q_USED << 4 | 8:
		if (q && !q->enabled)
			set_half(&q->device, off, size, val);
		break;
	}
out:
	pthread_mutex_unlock(&v->lock);
	if (reset)
		reset_device(v);
	if (bad)
		kr_virtio_needs_reset(v);
	if (started && v->ops->driver_ok)
		v->ops->driver_ok(v->opaque);
}

static void common_read(struct kr_virtio_pci *v, uint64_t off, uint8_t *data, unsigned int size)
{
	uint8_t img[KR_VIRTIO_COMMON_LEN] = { 0 };
	const struct vqueue *q;
	uint64_t df = 0;

	pthread_mutex_lock(&v->lock);
	q = v->queue_select < v->nq ? &v->q[v->queue_select] : NULL;
	if (v->dfselect < 2)
		df = v->offered >> (32 * v->dfselect);
	kr_put_le(&img[KR_VIRTIO_COMMON_DFSELECT], 4, v->dfselect);
	kr_put_le(&img[KR_VIRTIO_COMMON_DF], 4, df);
	kr_put_le(&img[KR_VIRTIO_COMMON_GFSELECT], 4, v->gfselect);
	if (v->gfselect < 2)
		kr_put_le(&img[KR_VIRTIO_COMMON_GF], 4, v->driver_features >> (32 * v->gfselect));
	kr_put_le(&img[KR_VIRTIO_COMMON_MSIX], 2, get_vector(&v->config_vector));
	kr_put_le(&img[KR_VIRTIO_COMMON_NUMQ], 2, v->nq);
	img[KR_VIRTIO_COMMON_STATUS] = v->status;
	img[KR_VIRTIO_COMMON_CFGGEN] = v->generation;
	kr_put_le(&img[KR_VIRTIO_COMMON_Q_SELECT], 2, v->queue_select);
	/* An unavailable queue reads size 0 (4.1.4.3.1) and no vector. */
	kr_put_le(&img[KR_VIRTIO_COMMON_Q_MSIX], 2, KR_VIRTIO_NO_VECTOR);
	if (q) {
		kr_put_le(&img[KR_VIRTIO_COMMON_Q_SIZE], 2, q->size);
		kr_put_le(&img[KR_VIRTIO_COMMON_Q_MSIX], 2, get_vector(&q->vector));
		kr_put_le(&img[KR_VIRTIO_COMMON_Q_ENABLE], 2, q->enabled);
		kr_put_le(&img[KR_VIRTIO_COMMON_Q_NOFF], 2, v->queue_select);
		kr_put_le(&img[KR_VIRTIO_COMMON_Q_DESC], 8, q->desc);
		kr_put_le(&img[KR_VIRTIO_COMMON_Q_AVAIL], 8, q->driver);
		kr_put_le(&img[KR_VIRTIO_COMMON_Q_USED], 8, q->device);
	}
	pthread_mutex_unlock(&v->lock);
	for (unsigned int i = 0; i < size; i++)
		data[i] = off + i < sizeof(img) ? img[off + i] : 0;
}

/* ---- reset --------------------------------------------------------------- */

static void reset_device(struct kr_virtio_pci *v)
{
	pthread_mutex_lock(&v->reset_lock);
	pthread_mutex_lock(&v->lock);
	v->resetting = true;
	v->status = 0;
	for (unsigned int i = 0; i < v->nq; i++) {
		struct vqueue *q = &v->q[i];

		pthread_mutex_lock(&q->lock);
		__atomic_store_n(&q->ready, false, __ATOMIC_RELAXED);
		q->epoch++;
		q->inflight = 0;
		pthread_mutex_unlock(&q->lock);
	}
	pthread_mutex_unlock(&v->lock);

	v->ops->reset(v->opaque);

	pthread_mutex_lock(&v->lock);
	v->dfselect = v->gfselect = 0;
	v->driver_features = v->negotiated = 0;
	v->config_dirty = false;
	set_vector(&v->config_vector, KR_VIRTIO_NO_VECTOR);
	v->queue_select = 0;
	for (unsigned int i = 0; i < v->nq; i++) {
		struct vqueue *q = &v->q[i];

		q->size = v->ops->queue_max;
		q->enabled = false;
		q->desc = q->driver = q->device = 0;
		set_vector(&q->vector, KR_VIRTIO_NO_VECTOR);
	}
	v->status = 0;
	v->resetting = false;
	pthread_mutex_unlock(&v->lock);
	isr_read_clear(v);
	pthread_mutex_unlock(&v->reset_lock);
}

/* ---- BAR 0 and the PCI_CFG window ---------------------------------------- */

static void devcfg_access(struct kr_virtio_pci *v, uint64_t off, uint8_t *data,
			  unsigned int size, bool write)
{
	if (!write)
		memset(data, 0, size);
	if (off >= v->ops->config_len || v->ops->config_len - off < size)
		return;
	if (write) {
		if (v->ops->config_write)
			v->ops->config_write(v->opaque, off, data, size);
		return;
	}
	/* A read after a change moves the generation on (4.1.4.3.1's note). */
	pthread_mutex_lock(&v->lock);
	if (v->config_dirty) {
		v->generation++;
		v->config_dirty = false;
	}
	pthread_mutex_unlock(&v->lock);
	if (v->ops->config_read)
		v->ops->config_read(v->opaque, off, data, size);
}

static void bar_io(void *opaque, unsigned int bar, uint64_t off, uint8_t *data,
		   unsigned int size, bool write)
{
	struct kr_virtio_pci *v = opaque;

	if (!write)
		memset(data, 0, size);
	if (bar != KR_VIRTIO_BAR)
		return;
	if (off < KR_VIRTIO_ISR_OFF) {
		if (write)
			common_write(v, off, size, kr_get_le(data, size));
		else
			common_read(v, off, data, size);
	} else if (off < KR_VIRTIO_DEVCFG_OFF) {
		if (!write && off == KR_VIRTIO_ISR_OFF)
			data[0] = isr_read_clear(v);
	} else if (off < KR_VIRTIO_NOTIFY_OFF) {
		devcfg_access(v, off - KR_VIRTIO_DEVCFG_OFF, data, size, write);
	} else if (off < KR_VIRTIO_NOTIFY_OFF + v->nq * KR_VIRTIO_NOTIFY_MULT) {
		/* The address says which queue; the value (its index) adds nothing. */
		if (write)
			kr_virtio_pci_kick(v, (off - KR_VIRTIO_NOTIFY_OFF) / KR_VIRTIO_NOTIFY_MULT);
	}
}

/*
 * KR_VIRTIO_CAP_PCI_CFG (4.1.4.9): an access to pci_cfg_data is an access
 * of cap.length bytes at cap.offset of BAR cap.bar.  Lengths other than
 * 1, 2, 4, unaligned offsets and other BARs do nothing.
 */
static void pci_cfg_io(void *opaque, unsigned int reg, uint8_t *data, unsigned int size,
		       bool write)
{
	struct kr_virtio_pci *v = opaque;
	unsigned int cap = v->pci_cfg_cap, at = reg - (cap + 16);
	uint32_t bar = kr_pci_cfg_read(v->dev, cap + 4, 1);
	uint32_t off = kr_pci_cfg_read(v->dev, cap + 8, 4);
	uint32_t len = kr_pci_cfg_read(v->dev, cap + 12, 4);
	bool ok = bar == KR_VIRTIO_BAR && (len == 1 || len == 2 || len == 4) && !(off % len);
	uint8_t buf[4];

	if (at >= 4 || size > 4 - at)
		return;
	pthread_mutex_lock(&v->lock);
	if (write)
		memcpy(&v->pci_cfg_data[at], data, size);
	memcpy(buf, v->pci_cfg_data, 4);
	pthread_mutex_unlock(&v->lock);
	if (!ok) {
		if (!write)
			memcpy(data, &buf[at], size);
		return;
	}
	kr_pci_bar_access(v->dev, bar, off, buf, len, write);
	if (write)
		return;
	pthread_mutex_lock(&v->lock);
	memcpy(v->pci_cfg_data, buf, len);
	memcpy(buf, v->pci_cfg_data, 4);
	pthread_mutex_unlock(&v->lock);
	memcpy(data, &buf[at], size);
}

static void bar_moved(void *opaque, unsigned int bar)
{
	struct kr_virtio_pci *v = opaque;

	if (bar == KR_VIRTIO_BAR && v->notify_hook)
		v->notify_hook(v->notify_opaque, v);
}

static void pci_reset(void *opaque)
{
	reset_device(opaque);
}

static const struct kr_pci_dev_ops pci_ops = {
	.bar_io = bar_io,
	.cfg_io = pci_cfg_io,
	.bar_moved = bar_moved,
	.reset = pci_reset,
};

bool kr_virtio_pci_notify_addr(struct kr_virtio_pci *v, unsigned int q, uint64_t *gpa)
{
	uint64_t base;

	if (q >= v->nq || !kr_pci_bar_addr(v->dev, KR_VIRTIO_BAR, &base))
		return false;
	*gpa = base + KR_VIRTIO_NOTIFY_OFF + q * KR_VIRTIO_NOTIFY_MULT;
	return true;
}

void kr_virtio_pci_set_notify_hook(struct kr_virtio_pci *v, kr_virtio_notify_hook *fn,
				   void *opaque)
{
	v->notify_opaque = opaque;
	v->notify_hook = fn;
}

/* ---- snapshots ----------------------------------------------------------- */

#define SNAP_VERSION	1

int kr_virtio_pci_save(struct kr_virtio_pci *v, struct kr_sbuf *b, const uint16_t *held)
{
	size_t start = b->len;
	uint8_t isr;
	int err = 0;

	pthread_mutex_lock(&v->isr_lock);
	isr = v->isr;
	pthread_mutex_unlock(&v->isr_lock);

	pthread_mutex_lock(&v->lock);
	if (v->resetting) {
		err = -EBUSY;
		goto out;
	}
	kr_sbuf_begin(b, SNAP_VERSION);
	kr_sbuf_u16(b, v->nq);
	kr_sbuf_u32(b, v->dfselect);
	kr_sbuf_u32(b, v->gfselect);
	kr_sbuf_u64(b, v->driver_features);
	kr_sbuf_u64(b, v->negotiated);
	kr_sbuf_u8(b, v->status);
	kr_sbuf_u8(b, v->generation);
	kr_sbuf_bool(b, v->config_dirty);
	kr_sbuf_u16(b, get_vector(&v->config_vector));
	kr_sbuf_u16(b, v->queue_select);
	kr_sbuf_u8(b, isr);
	kr_sbuf_bytes(b, v->pci_cfg_data, sizeof(v->pci_cfg_data));
	for (unsigned int i = 0; i < v->nq && !err; i++) {
		struct vqueue *q = &v->q[i];
		uint16_t h = held ? held[i] : 0;

		kr_sbuf_u16(b, q->size);
		kr_sbuf_bool(b, q->enabled);
		kr_sbuf_u64(b, q->desc);
		kr_sbuf_u64(b, q->driver);
		kr_sbuf_u64(b, q->device);
		kr_sbuf_u16(b, get_vector(&q->vector));
		pthread_mutex_lock(&q->lock);
		if (q->inflight != h) {
			err = -EBUSY;
		} else if (q->enabled) {
			/*
			 * The held chains are the last popped: rewound, the
			 * restored device takes them again from the ring.
			 */
			kr_sbuf_u16(b, q->vq.last_avail - h);
			kr_sbuf_u16(b, q->vq.used_idx);
			kr_sbuf_u16(b, q->vq.signalled_used);
			kr_sbuf_bool(b, q->vq.broken);
		}
		pthread_mutex_unlock(&q->lock);
	}
out:
	pthread_mutex_unlock(&v->lock);
	if (!err && b->oom)
		err = -ENOMEM;
	if (err && !b->oom)
		b->len = start;		/* nothing of a failed save */
	return err;
}

/* A queue as read from a snapshot, checked before anything is applied. */
struct qload {
	uint16_t size, vector;
	bool enabled, broken;
	uint64_t desc, driver, device;
	uint16_t last_avail, used_idx, signalled_used;
	struct kr_vq vq;
};

static bool vector_ok(struct kr_virtio_pci *v, uint16_t vec)
{
	return vec == KR_VIRTIO_NO_VECTOR || vector_valid(v, vec);
}

/* Features in the snapshot against the status and what is offered here. */
static int check_features(struct kr_sget *g, uint8_t status, uint64_t driver, uint64_t neg,
			  uint64_t offered)
{
	if (!(status & KR_VIRTIO_STATUS_FEATURES_OK)) {
		/* Only an accepted FEATURES_OK sets them, only a reset takes it back. */
		if (neg)
			return kr_sget_fail(g, "features 0x%llx negotiated without FEATURES_OK",
					    (unsigned long long)neg);
		return 0;
	}
	if (neg != driver)
		return kr_sget_fail(g, "features 0x%llx negotiated, the driver's are 0x%llx",
				    (unsigned long long)neg, (unsigned long long)driver);
	if (neg & ~offered)
		return kr_sget_fail(g, "features 0x%llx negotiated in the snapshot, "
				    "0x%llx of them not offered here",
				    (unsigned long long)neg, (unsigned long long)(neg & ~offered));
	if (!(neg & (1ull << KR_VIRTIO_F_VERSION_1)))
		return kr_sget_fail(g, "features 0x%llx negotiated without VERSION_1",
				    (unsigned long long)neg);
	return 0;
}

/* Queue i's registers and ring position, as a queue_enable() that took would leave them. */
static int check_queue(struct kr_virtio_pci *v, struct kr_sget *g, unsigned int i,
		       struct qload *q)
{
	uint16_t max = v->ops->queue_max;

	if (!vector_ok(v, q->vector))
		return kr_sget_fail(g, "queue %u: vector %u, the device has %u", i, q->vector,
				    kr_msix_vectors(kr_pci_msix(v->dev)));
	/* A queue not enabled holds whatever the driver wrote, checked when it enables it. */
	if (!q->enabled)
		return 0;
	if (!q->size || q->size > max || (q->size & (q->size - 1)))
		return kr_sget_fail(g, "queue %u: size %u is not a power of 2 up to %u", i,
				    q->size, max);
	if (kr_vq_init(&q->vq, v->mem, q->size, q->desc, q->driver, q->device, false, false))
		return kr_sget_fail(g, "queue %u: rings at 0x%llx, 0x%llx, 0x%llx (size %u) "
				    "are misaligned or not in guest RAM", i,
				    (unsigned long long)q->desc, (unsigned long long)q->driver,
				    (unsigned long long)q->device, q->size);
	/*
	 * A save leaves no chain in flight (held ones are rewound): every
	 * chain taken was given back.
	 */
	if (q->last_avail != q->used_idx)
		return kr_sget_fail(g, "queue %u: %u chains taken but %u given back", i,
				    q->last_avail, q->used_idx);
	return 0;
}

int kr_virtio_pci_load(struct kr_virtio_pci *v, struct kr_sget *g)
{
	/* The device may have widened its features for the snapshot (virtio_pci.h). */
	uint64_t offered = (v->ops->features & DEVICE_FEATURES) | TRANSPORT_FEATURES;
	struct qload qs[KR_VIRTIO_MAX_QUEUES];
	uint32_t dfselect, gfselect;
	uint64_t driver, neg;
	uint8_t status, generation, isr, cfg_data[4];
	uint16_t cvec, qsel, nq;
	bool dirty;
	int err;

	if (kr_sget_begin(g, SNAP_VERSION))
		return -EPROTO;
	nq = kr_sget_u16(g);
	if (!g->bad && nq != v->nq)
		return kr_sget_fail(g, "%u queues in the snapshot, %u here", nq, v->nq);
	dfselect = kr_sget_u32(g);
	gfselect = kr_sget_u32(g);
	driver = kr_sget_u64(g);
	neg = kr_sget_u64(g);
	status = kr_sget_u8(g);
	generation = kr_sget_u8(g);
	dirty = kr_sget_bool(g);
	cvec = kr_sget_u16(g);
	qsel = kr_sget_u16(g);
	isr = kr_sget_u8(g);
	kr_sget_bytes(g, cfg_data, sizeof(cfg_data));
	memset(qs, 0, sizeof(qs));
	for (unsigned int i = 0; i < v->nq && !g->bad; i++) {
		struct qload *q = &qs[i];

		q->size = kr_sget_u16(g);
		q->enabled = kr_sget_bool(g);
		q->desc = kr_sget_u64(g);
		q->driver = kr_sget_u64(g);
		q->device = kr_sget_u64(g);
		q->vector = kr_sget_u16(g);
		if (!q->enabled)
			continue;
		q->last_avail = kr_sget_u16(g);
		q->used_idx = kr_sget_u16(g);
		q->signalled_used = kr_sget_u16(g);
		q->broken = kr_sget_bool(g);
	}
	if (g->bad)
		return -EPROTO;
	err = check_features(g, status, driver, neg, offered);
	if (err)
		return err;
	if (!vector_ok(v, cvec))
		return kr_sget_fail(g, "configuration vector %u, the device has %u", cvec,
				    kr_msix_vectors(kr_pci_msix(v->dev)));
	if (isr & ~(ISR_QUEUE | ISR_CONFIG))
		return kr_sget_fail(g, "ISR 0x%x", isr);
	for (unsigned int i = 0; i < v->nq; i++) {
		err = check_queue(v, g, i, &qs[i]);
		if (err)
			return err;
	}
	err = kr_sget_done(g);
	if (err)
		return err;

	/* All checked: now as the register writes would have left it. */
	pthread_mutex_lock(&v->lock);
	v->offered = offered;
	v->dfselect = dfselect;
	v->gfselect = gfselect;
	v->driver_features = driver;
	v->negotiated = neg;
	v->status = status;
	v->generation = generation;
	v->config_dirty = dirty;
	set_vector(&v->config_vector, cvec);
	v->queue_select = qsel;
	memcpy(v->pci_cfg_data, cfg_data, sizeof(cfg_data));
	for (unsigned int i = 0; i < v->nq; i++) {
		struct vqueue *q = &v->q[i];
		struct qload *l = &qs[i];

		q->size = l->size;
		q->enabled = l->enabled;
		q->desc = l->desc;
		q->driver = l->driver;
		q->device = l->device;
		set_vector(&q->vector, l->vector);
		pthread_mutex_lock(&q->lock);
		if (l->enabled) {
			q->vq = l->vq;
			q->vq.last_avail = l->last_avail;
			q->vq.used_idx = l->used_idx;
			q->vq.signalled_used = l->signalled_used;
			q->vq.broken = l->broken;
		}
		__atomic_store_n(&q->ready, false, __ATOMIC_RELAXED);
		q->epoch++;
		q->inflight = 0;
		pthread_mutex_unlock(&q->lock);
		/* Ready, EVENT_IDX and indirect from the status and features, as DRIVER_OK does. */
		if (l->enabled)
			queue_sync(v, q);
	}
	pthread_mutex_unlock(&v->lock);
	/* The INTx line it implies is pci.c's to restore, with the irqchip's. */
	pthread_mutex_lock(&v->isr_lock);
	v->isr = isr;
	pthread_mutex_unlock(&v->isr_lock);
	return 0;
}

void kr_virtio_pci_freeze(struct kr_virtio_pci *v, bool frozen)
{
	__atomic_store_n(&v->frozen, frozen, __ATOMIC_RELAXED);
	/* A pop that began before the store is over once we had its queue's lock. */
	for (unsigned int i = 0; i < v->nq; i++) {
		pthread_mutex_lock(&v->q[i].lock);
		pthread_mutex_unlock(&v->q[i].lock);
	}
}

bool kr_virtio_pci_frozen(struct kr_virtio_pci *v)
{
	return __atomic_load_n(&v->frozen, __ATOMIC_RELAXED);
}

void kr_virtio_pci_kick_all(struct kr_virtio_pci *v)
{
	if (v->ops->resume)
		v->ops->resume(v->opaque);
	for (unsigned int i = 0; i < v->nq; i++)
		kr_virtio_pci_kick(v, i);
}

/* ---- setup --------------------------------------------------------------- */

/* A struct virtio_pci_cap (4.1.4) in cap[0..16). */
static void fill_cap(uint8_t *cap, unsigned int len, uint8_t type, uint32_t off, uint32_t n)
{
	memset(cap, 0, len);
	cap[0] = KR_PCI_CAP_ID_VNDR;
	cap[2] = len;
	cap[3] = type;
	cap[4] = KR_VIRTIO_BAR;
	kr_put_le(&cap[8], 4, off);
	kr_put_le(&cap[12], 4, n);
}

static int add_caps(struct kr_virtio_pci *v)
{
	uint8_t cap[20], wmask[20] = { 0 };
	int pos;

	fill_cap(cap, 16, KR_VIRTIO_CAP_COMMON_CFG, KR_VIRTIO_COMMON_OFF, KR_VIRTIO_COMMON_LEN);
	if (kr_pci_add_cap(v->dev, cap, NULL, 16) < 0)
		return -ENOSPC;
	fill_cap(cap, 20, KR_VIRTIO_CAP_NOTIFY_CFG, KR_VIRTIO_NOTIFY_OFF,
		 v->nq * KR_VIRTIO_NOTIFY_MULT);
	kr_put_le(&cap[16], 4, KR_VIRTIO_NOTIFY_MULT);
	if (kr_pci_add_cap(v->dev, cap, NULL, 20) < 0)
		return -ENOSPC;
	fill_cap(cap, 16, KR_VIRTIO_CAP_ISR_CFG, KR_VIRTIO_ISR_OFF, 1);
	if (kr_pci_add_cap(v->dev, cap, NULL, 16) < 0)
		return -ENOSPC;
	if (v->ops->config_len) {
		fill_cap(cap, 16, KR_VIRTIO_CAP_DEVICE_CFG, KR_VIRTIO_DEVCFG_OFF,
			 v->ops->config_len);
		if (kr_pci_add_cap(v->dev, cap, NULL, 16) < 0)
			return -ENOSPC;
	}
	fill_cap(cap, 20, KR_VIRTIO_CAP_PCI_CFG, 0, 0);
	cap[4] = 0;
	memset(&wmask[4], 0xff, 1);	/* bar */
	memset(&wmask[8], 0xff, 8);	/* offset, length */
	pos = kr_pci_add_cap(v->dev, cap, wmask, 20);
	if (pos < 0)
		return -ENOSPC;
	v->pci_cfg_cap = pos;
	return kr_pci_claim_cfg(v->dev, pos + 16, 4);
}

static bool ops_valid(const struct kr_virtio_ops *ops)
{
	return ops && ops->queue_notify && ops->reset && ops->num_queues &&
	       ops->num_queues <= KR_VIRTIO_MAX_QUEUES && ops->queue_max &&
	       ops->queue_max <= KR_VQ_MAX_SIZE && !(ops->queue_max & (ops->queue_max - 1)) &&
	       ops->config_len <= KR_VIRTIO_DEVCFG_MAX && ops->device_id < 0x40;
}

struct kr_virtio_pci *kr_virtio_pci_create(struct kr_pci *pci, int slot,
					   const struct kr_mem *mem,
					   const struct kr_virtio_ops *ops, void *opaque)
{
	struct kr_pci_dev_config c = { 0 };
	struct kr_virtio_pci *v;
	int ret;

	if (!ops_valid(ops)) {
		errno = EINVAL;
		return NULL;
	}
	v = calloc(1, sizeof(*v) + ops->num_queues * sizeof(v->q[0]));
	if (!v)
		return NULL;
	v->mem = mem;
	v->ops = ops;
	v->opaque = opaque;
	v->nq = ops->num_queues;
	v->offered = (ops->features & DEVICE_FEATURES) | TRANSPORT_FEATURES;
	v->config_vector = KR_VIRTIO_NO_VECTOR;
	pthread_mutex_init(&v->reset_lock, NULL);
	pthread_mutex_init(&v->lock, NULL);
	pthread_mutex_init(&v->isr_lock, NULL);
	for (unsigned int i = 0; i < v->nq; i++) {
		pthread_mutex_init(&v->q[i].lock, NULL);
		v->q[i].size = ops->queue_max;
		v->q[i].vector = KR_VIRTIO_NO_VECTOR;
	}

	c.name = ops->name;
	c.vendor_id = KR_VIRTIO_PCI_VENDOR;
	c.device_id = KR_VIRTIO_PCI_DEVICE_BASE + ops->device_id;
	c.subsys_vendor_id = KR_VIRTIO_PCI_VENDOR;
	c.subsys_id = KR_VIRTIO_PCI_DEVICE_BASE + ops->device_id;	/* >= 0x40 (4.1.2.1) */
	c.revision = 1;
	c.class_code = ops->class_code;
	c.intx = true;
	c.bar[KR_VIRTIO_BAR] = (struct kr_pci_bar_info){ KR_PCI_BAR_MEM32, KR_VIRTIO_BAR_SIZE };
	c.msix_vectors = v->nq + 1;	/* one per queue and one for config changes */
	c.msix_bar = KR_VIRTIO_BAR;
	c.msix_table = KR_VIRTIO_MSIX_TABLE_OFF;
	c.msix_pba = KR_VIRTIO_MSIX_PBA_OFF;
	c.ops = &pci_ops;
	c.opaque = v;
	ret = kr_pci_add(pci, slot, &c, &v->dev);
	if (!ret)
		ret = add_caps(v);
	if (ret) {
		/*
		 * The capabilities always fit (0x40..0xa4): a failure after
		 * the device is on the bus, which cannot take it out again,
		 * would be a bug here.
		 */
		if (v->dev)
			abort();
		kr_virtio_pci_destroy(v);
		errno = -ret;
		return NULL;
	}
	return v;
}

void kr_virtio_pci_destroy(struct kr_virtio_pci *v)
{
	if (!v)
		return;
	for (unsigned int i = 0; i < v->nq; i++)
		pthread_mutex_destroy(&v->q[i].lock);
	pthread_mutex_destroy(&v->reset_lock);
	pthread_mutex_destroy(&v->lock);
	pthread_mutex_destroy(&v->isr_lock);
	free(v);
}

struct kr_pci_dev *kr_virtio_pci_dev(struct kr_virtio_pci *v)
{
	return v->dev;
}
