// SPDX-License-Identifier: GPL-2.0
/*
 * virtio input device (virtio_input.h).
 *
 * IDs: bus BUS_VIRTUAL, vendor 0x6b68 ("kh"), product 1 (keyboard) or 2
 * (tablet), version 1.  The names ("khv-run Virtio Tablet", "... Keyboard")
 * say what each is, as a guest's /sys/class/input shows them.
 */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio_input.h"

#define EVENTQ		0
#define STATUSQ		1
#define EVENT_SIZE	8	/* struct virtio_input_event */
#define MAX_IOV		8
#define BUS_VIRTUAL_ID	0x06
#define VENDOR_ID	0x6b68
#define REPORT_MAX	16	/* events in one report, at most */

struct event {
	uint16_t type, code;
	int32_t value;
};

struct kr_virtio_input {
	pthread_mutex_t lock;
	struct kr_virtio_pci *vp;
	enum kr_vinput_kind kind;
	uint8_t cfg[KR_VINPUT_CFG_LEN];
	/* Waiting events, a ring; each report ends with EV_SYN. */
	struct event ev[KR_VINPUT_QUEUE];
	unsigned int head, count;
	unsigned long dropped;		/* reports lost to a full queue */
	/* Tablet: what was last reported. */
	unsigned int buttons;
	int32_t x, y;
	bool have_pos;
	unsigned int leds;
};

/* ---- configuration -------------------------------------------------------- */

static void set_bit8(uint8_t *map, unsigned int bit)
{
	map[bit / 8] |= 1u << (bit % 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

/* The answer to (select, subsel) in cfg[8..], its size in cfg[2]; lock held. */
static void cfg_answer(struct kr_virtio_input *d)
{
	uint8_t sel = d->cfg[0], sub = d->cfg[1], *u = d->cfg + 8;
	bool tablet = d->kind == KR_VINPUT_TABLET;
	unsigned int size = 0;

	memset(u, 0, 128);
	switch (sel) {
	case KR_VINPUT_CFG_ID_NAME:
		size = (unsigned int)snprintf((char *)u, 128, "khv-run Virtio %s",
					      tablet ? "Tablet" : "Keyboard");
		break;
	case KR_VINPUT_CFG_ID_SERIAL:
		size = (unsigned int)snprintf((char *)u, 128, "%s", tablet ? "tablet0" : "keyboard0");
		break;
	case KR_VINPUT_CFG_ID_DEVIDS:
		u[0] = BUS_VIRTUAL_ID;
		u[2] = VENDOR_ID & 0xff;
		u[3] = VENDOR_ID >> 8;
		u[4] = tablet ? 2 : 1;
		u[6] = 1;
		size = 8;
		break;
	case KR_VINPUT_CFG_EV_BITS:
		if (tablet && sub == EV_KEY) {
			set_bit8(u, BTN_LEFT);
			set_bit8(u, BTN_RIGHT);
			set_bit8(u, BTN_MIDDLE);
			size = BTN_MIDDLE / 8 + 1;
		} else if (tablet && sub == EV_REL) {
			set_bit8(u, REL_HWHEEL);
			set_bit8(u, REL_WHEEL);
			size = REL_WHEEL / 8 + 1;
		} else if (tablet && sub == EV_ABS) {
			set_bit8(u, ABS_X);
			set_bit8(u, ABS_Y);
			size = 1;
		} else if (!tablet && sub == EV_KEY) {
			/* The keys of a PC keyboard: codes 1 to 255. */
			for (unsigned int k = KEY_ESC; k < 256; k++)
				set_bit8(u, k);
			size = 32;
		} else if (!tablet && sub == EV_LED) {
			set_bit8(u, LED_NUML);
			set_bit8(u, LED_CAPSL);
			set_bit8(u, LED_SCROLLL);
			size = 1;
		} else if (!tablet && sub == EV_REP) {
			set_bit8(u, REP_DELAY);
			set_bit8(u, REP_PERIOD);
			size = 1;
		}
		break;
	case KR_VINPUT_CFG_ABS_INFO:
		if (tablet && (sub == ABS_X || sub == ABS_Y)) {
			put_le32(u, 0);			/* min */
			put_le32(u + 4, KR_VINPUT_ABS_MAX);	/* max */
			size = 20;			/* fuzz, flat, res: 0 */
		}
		break;
	default:
		break;		/* UNSET, PROP_BITS (none), unknown: size 0 */
	}
	d->cfg[2] = size > 128 ? 128 : size;
}

static void cfg_read(void *opaque, uint32_t offset, uint8_t *data, unsigned int size)
{
	struct kr_virtio_input *d = opaque;

	pthread_mutex_lock(&d->lock);
	memcpy(data, d->cfg + offset, size);
	pthread_mutex_unlock(&d->lock);
}

static void cfg_write(void *opaque, uint32_t offset, const uint8_t *data, unsigned int size)
{
	struct kr_virtio_input *d = opaque;

	pthread_mutex_lock(&d->lock);
	/* Only select and subsel are the driver's to write. */
	for (unsigned int i = 0; i < size; i++)
		if (offset + i < 2)
			d->cfg[offset + i] = data[i];
	if (offset < 2)
		cfg_answer(d);
	pthread_mutex_unlock(&d->lock);
}

/* ---- events to the driver ------------------------------------------------------ */

/* Drop the oldest report (through its SYN); lock held. */
static void drop_oldest(struct kr_virtio_input *d)
{
	while (d->count) {
		struct event *e = &d->ev[d->head];

		d->head = (d->head + 1) % KR_VINPUT_QUEUE;
		d->count--;
		if (e->type == EV_SYN)
			break;
	}
	d->dropped++;
}

/* Deliver what waits into the driver's buffers: true when any was; lock held. */
static bool flush(struct kr_virtio_input *d)
{
	struct iovec iov[MAX_IOV];
	bool pushed = false;

	while (d->count) {
		struct kr_vq_elem e = { .iov = iov, .cap = MAX_IOV };
		const struct event *ev = &d->ev[d->head];
		uint8_t buf[EVENT_SIZE] = {
			ev->type & 0xff, ev->type >> 8, ev->code & 0xff, ev->code >> 8,
		};
		uint32_t done = 0;

		if (kr_virtio_pop(d->vp, EVENTQ, &e) <= 0)
			break;
		put_le32(buf + 4, (uint32_t)ev->value);
		for (unsigned int i = e.n_out; i < e.n_out + e.n_in && done < EVENT_SIZE; i++) {
			size_t n = iov[i].iov_len < EVENT_SIZE - done ? iov[i].iov_len :
								      EVENT_SIZE - done;

			memcpy(iov[i].iov_base, buf + done, n);
			done += n;
		}
		kr_virtio_push(d->vp, EVENTQ, &e, done);
		d->head = (d->head + 1) % KR_VINPUT_QUEUE;
		d->count--;
		pushed = true;
	}
	return pushed;
}

/*
 * Queue one report (n events, then SYN_REPORT) and deliver what fits:
 * true when buffers went back to the driver; lock held.
 */
static bool report_locked(struct kr_virtio_input *d, const struct event *evs, unsigned int n)
{
	while (d->count + n + 1 > KR_VINPUT_QUEUE)
		drop_oldest(d);
	for (unsigned int i = 0; i <= n; i++) {
		struct event syn = { EV_SYN, SYN_REPORT, 0 };

		d->ev[(d->head + d->count) % KR_VINPUT_QUEUE] = i < n ? evs[i] : syn;
		d->count++;
	}
	return flush(d);
}

static int32_t scale(int v, int size)
{
	if (size <= 1 || v <= 0)
		return 0;
	if (v >= size - 1)
		return KR_VINPUT_ABS_MAX;
	return (int32_t)((int64_t)v * KR_VINPUT_ABS_MAX / (size - 1));
}

void kr_virtio_input_pointer(struct kr_virtio_input *d, int x, int y, int w, int h,
			     unsigned int buttons)
{
	static const struct { unsigned int bit, code; } btns[] = {
		{ 1u << 0, BTN_LEFT }, { 1u << 1, BTN_MIDDLE }, { 1u << 2, BTN_RIGHT },
	};
	static const struct { unsigned int bit, code; int value; } wheel[] = {
		{ 1u << 3, REL_WHEEL, 1 }, { 1u << 4, REL_WHEEL, -1 },
		{ 1u << 5, REL_HWHEEL, -1 }, { 1u << 6, REL_HWHEEL, 1 },
	};
	struct event evs[REPORT_MAX];
	unsigned int n = 0, old;
	int32_t ax = scale(x, w), ay = scale(y, h);

	bool pushed = false;

	if (d->kind != KR_VINPUT_TABLET)
		return;
	pthread_mutex_lock(&d->lock);
	old = d->buttons;
	if (!d->have_pos || ax != d->x)
		evs[n++] = (struct event){ EV_ABS, ABS_X, ax };
	if (!d->have_pos || ay != d->y)
		evs[n++] = (struct event){ EV_ABS, ABS_Y, ay };
	d->x = ax;
	d->y = ay;
	d->have_pos = true;
	d->buttons = buttons;
	for (unsigned int i = 0; i < sizeof(btns) / sizeof(btns[0]); i++)
		if ((old ^ buttons) & btns[i].bit)
			evs[n++] = (struct event){ EV_KEY, btns[i].code, !!(buttons & btns[i].bit) };
	/* A wheel "button" press is one notch; its release is nothing. */
	for (unsigned int i = 0; i < sizeof(wheel) / sizeof(wheel[0]); i++)
		if (buttons & ~old & wheel[i].bit)
			evs[n++] = (struct event){ EV_REL, wheel[i].code, wheel[i].value };
	if (n)
		pushed = report_locked(d, evs, n);
	pthread_mutex_unlock(&d->lock);
	if (pushed)
		kr_virtio_notify(d->vp, EVENTQ);
}

void kr_virtio_input_key(struct kr_virtio_input *d, unsigned int keycode, bool down)
{
	struct event ev = { EV_KEY, (uint16_t)keycode, down };
	bool pushed;

	if (d->kind != KR_VINPUT_KEYBOARD || !keycode || keycode > 255)
		return;
	pthread_mutex_lock(&d->lock);
	pushed = report_locked(d, &ev, 1);
	pthread_mutex_unlock(&d->lock);
	if (pushed)
		kr_virtio_notify(d->vp, EVENTQ);
}

unsigned int kr_virtio_input_leds(struct kr_virtio_input *d)
{
	unsigned int leds;

	pthread_mutex_lock(&d->lock);
	leds = d->leds;
	pthread_mutex_unlock(&d->lock);
	return leds;
}

/* ---- the queues ------------------------------------------------------------------ */

/* statusq: the driver's LED events, recorded; every buffer given back. */
static void status_notify(struct kr_virtio_input *d)
{
	struct iovec iov[MAX_IOV];
	struct kr_vq_elem e = { .iov = iov, .cap = MAX_IOV };

	while (kr_virtio_pop(d->vp, STATUSQ, &e) > 0) {
		uint8_t buf[EVENT_SIZE] = { 0 };
		uint32_t got = 0;

		for (unsigned int i = 0; i < e.n_out && got < EVENT_SIZE; i++) {
			size_t n = iov[i].iov_len < EVENT_SIZE - got ? iov[i].iov_len :
								     EVENT_SIZE - got;

			memcpy(buf + got, iov[i].iov_base, n);
			got += n;
		}
		if (got == EVENT_SIZE && (buf[0] | buf[1] << 8) == EV_LED) {
			unsigned int code = buf[2] | buf[3] << 8;

			if (code < 32 && (buf[4] | buf[5] | buf[6] | buf[7]))
				d->leds |= 1u << code;
			else if (code < 32)
				d->leds &= ~(1u << code);
		}
		kr_virtio_push(d->vp, STATUSQ, &e, 0);
	}
}

static void queue_notify(void *opaque, unsigned int q)
{
	struct kr_virtio_input *d = opaque;
	bool pushed = false;

	pthread_mutex_lock(&d->lock);
	if (q == EVENTQ)
		pushed = flush(d);
	else if (q == STATUSQ)
		status_notify(d);
	pthread_mutex_unlock(&d->lock);
	if (pushed || q == STATUSQ)
		kr_virtio_notify(d->vp, q);
}

static void dev_reset(void *opaque)
{
	struct kr_virtio_input *d = opaque;

	pthread_mutex_lock(&d->lock);
	d->head = d->count = 0;
	d->buttons = 0;
	d->have_pos = false;
	d->leds = 0;
	memset(d->cfg, 0, sizeof(d->cfg));
	pthread_mutex_unlock(&d->lock);
}

static const struct kr_virtio_ops tablet_ops = {
	.name = "virtio-tablet",
	.device_id = KR_VIRTIO_ID_INPUT,
	.class_code = 0x098000,		/* input device, other */
	.num_queues = 2,
	.queue_max = KR_VINPUT_QUEUE_SIZE,
	.config_len = KR_VINPUT_CFG_LEN,
	.config_read = cfg_read,
	.config_write = cfg_write,
	.queue_notify = queue_notify,
	.reset = dev_reset,
};

static const struct kr_virtio_ops keyboard_ops = {
	.name = "virtio-keyboard",
	.device_id = KR_VIRTIO_ID_INPUT,
	.class_code = 0x090000,		/* input device, keyboard */
	.num_queues = 2,
	.queue_max = KR_VINPUT_QUEUE_SIZE,
	.config_len = KR_VINPUT_CFG_LEN,
	.config_read = cfg_read,
	.config_write = cfg_write,
	.queue_notify = queue_notify,
	.reset = dev_reset,
};

struct kr_virtio_input *kr_virtio_input_create(struct kr_pci *pci, int slot,
					       const struct kr_mem *mem, enum kr_vinput_kind kind)
{
	struct kr_virtio_input *d;

	if (kind != KR_VINPUT_TABLET && kind != KR_VINPUT_KEYBOARD) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	pthread_mutex_init(&d->lock, NULL);
	d->kind = kind;
	d->vp = kr_virtio_pci_create(pci, slot, mem,
				     kind == KR_VINPUT_TABLET ? &tablet_ops : &keyboard_ops, d);
	if (!d->vp) {
		int err = errno;

		kr_virtio_input_destroy(d);
		errno = err;
		return NULL;
	}
	return d;
}

void kr_virtio_input_destroy(struct kr_virtio_input *d)
{
	if (!d)
		return;
	kr_virtio_pci_destroy(d->vp);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

struct kr_virtio_pci *kr_virtio_input_transport(struct kr_virtio_input *d)
{
	return d->vp;
}
