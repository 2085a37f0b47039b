// SPDX-License-Identifier: GPL-2.0
/*
 * virtio input device (virtio_input.h).
 *
 * What each kind answers in the configuration (anything else: size 0):
 *  - ID_NAME (subsel 0): "khv-run Virtio Tablet" / "khv-run Virtio
 *    Keyboard", without a NUL (size is the length); the guest's selftest
 *    finds the tablet by "tablet" in the name.  ID_SERIAL: "tablet0" /
 *    "keyboard0" (Linux's uniq).
 *  - ID_DEVIDS (subsel 0): bus BUS_VIRTUAL, vendor 0x6b68 ("kh", no PCI or
 *    USB vendor: nothing in a guest keys quirks to it), product 1 for the
 *    keyboard and 2 for the tablet, version 1.
 *  - PROP_BITS: none (size 0), as QEMU's tablet: a pointer, not a
 *    touchscreen (no INPUT_PROP_DIRECT).
 *  - EV_BITS, per event type in subsel; size is the bytes up to the highest
 *    code.  Both: EV_SYN (SYN_REPORT).  Tablet: EV_KEY (BTN_LEFT, RIGHT,
 *    MIDDLE, SIDE, EXTRA), EV_REL (REL_HWHEEL, REL_WHEEL), EV_ABS (ABS_X,
 *    ABS_Y).  Keyboard: EV_KEY (KEY_ESC .. KEY_MICMUTE, the codes of PC
 *    keyboards), EV_LED (NUML, CAPSL, SCROLLL), EV_REP (REP_DELAY,
 *    REP_PERIOD: Linux then repeats keys held down itself).
 *  - ABS_INFO, tablet, subsel ABS_X or ABS_Y: min 0, max 32767, fuzz,
 *    flat and res 0 (size 20).
 *
 * The waiting events are a ring of whole reports, each ending in EV_SYN
 * (the only EV_SYN a report has).  The head report may be partly
 * delivered already (sent): dropping for room then takes the report after
 * it and slides the head report's rest over it.  Because a dropped report
 * may have carried a position or a button change, the tablet report that
 * needs the room states everything (both axes, every button): the guest
 * ends up where the pointer is.  Wheel notches and keys of dropped
 * reports are lost; that takes 128 reports with no buffer posted, a guest
 * not running its driver, whose reset drops them anyway.
 */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "iov.h"
#include "virtio_input.h"

#define EVENTQ		KR_VINPUT_EVENTQ
#define STATUSQ		KR_VINPUT_STATUSQ
#define EV_SIZE		KR_VINPUT_EVENT_SIZE
#define MAX_IOV		8	/* buffers per chain; Linux uses 1 */
#define REPORT_MAX	10	/* 2 axes, 5 buttons, 2 wheels, SYN */
#define PASS_MAX	(2 * KR_VINPUT_QUEUE_SIZE)	/* chains per pass, then stop */
#define CLASS_KEYBOARD	0x090000	/* input device: keyboard */
#define CLASS_OTHER	0x098000	/* input device: other (QEMU's tablet) */

/*
 * Room made by dropping reports must never have to touch the partly sent
 * head report: with a queue this long there is always another one.
 */
_Static_assert(KR_VINPUT_QUEUE >= 2 * REPORT_MAX + 1, "queue too short for whole reports");

struct vin_event {
	uint16_t type, code;
	int32_t value;
};

struct kr_virtio_input {
	struct kr_virtio_pci *vp;
	enum kr_vinput_kind kind;	/* fixed at creation: read without the lock */
	pthread_mutex_t lock;
	uint8_t cfg[KR_VINPUT_CFG_LEN];	/* the configuration as the driver reads it */
	struct vin_event ev[KR_VINPUT_QUEUE];	/* waiting events, a ring */
	unsigned int head, count;
	unsigned int sent;		/* events of the head report delivered */
	/* Tablet: what the queued reports add up to. */
	bool have_pos;
	int32_t x, y;
	unsigned int buttons;
	unsigned int leds;		/* keyboard: as the driver last set them */
	struct kr_virtio_input_stats st;
};

/* ---- configuration ------------------------------------------------------ */

static void set_bit8(uint8_t *map, unsigned int bit)
{
	map[bit / 8] |= 1u << (bit % 8);
}

/* A bitmap's size: its bytes up to the last non-zero one (0: empty). */
static unsigned int bitmap_size(const uint8_t *map, unsigned int len)
{
	while (len && !map[len - 1])
		len--;
	return len;
}

static void tablet_bits(unsigned int type, uint8_t *map)
{
	static const uint16_t keys[] = { BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, BTN_SIDE, BTN_EXTRA };

	switch (type) {
	case EV_SYN:
		set_bit8(map, SYN_REPORT);
		break;
	case EV_KEY:
		for (unsigned int i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			set_bit8(map, keys[i]);
		break;
	case EV_REL:
		set_bit8(map, REL_HWHEEL);
		set_bit8(map, REL_WHEEL);
		break;
	case EV_ABS:
		set_bit8(map, ABS_X);
		set_bit8(map, ABS_Y);
		break;
	}
}

static void keyboard_bits(unsigned int type, uint8_t *map)
{
	switch (type) {
	case EV_SYN:
		set_bit8(map, SYN_REPORT);
		break;
	case EV_KEY:
		for (unsigned int k = KEY_ESC; k <= KEY_MICMUTE; k++)
			set_bit8(map, k);
		break;
	case EV_LED:
		set_bit8(map, LED_NUML);
		set_bit8(map, LED_CAPSL);
		set_bit8(map, LED_SCROLLL);
		break;
	case EV_REP:
		set_bit8(map, REP_DELAY);
		set_bit8(map, REP_PERIOD);
		break;
	}
}

/* A string answer, without its NUL: its length. */
static unsigned int put_string(uint8_t *u, const char *s)
{
	size_t n = strlen(s);

	memcpy(u, s, n);
	return n;
}

/* Recompute size and the answer for select/subsel (lock held). */
static void cfg_answer(struct kr_virtio_input *d)
{
	unsigned int sel = d->cfg[KR_VINPUT_CFG_SELECT], sub = d->cfg[KR_VINPUT_CFG_SUBSEL];
	uint8_t *u = d->cfg + KR_VINPUT_CFG_U;
	bool tablet = d->kind == KR_VINPUT_TABLET;
	unsigned int size = 0;

	memset(u, 0, KR_VINPUT_CFG_LEN - KR_VINPUT_CFG_U);
	switch (sel) {
	case KR_VINPUT_CFG_ID_NAME:
		if (!sub)
			size = put_string(u, tablet ? "khv-run Virtio Tablet" :
						      "khv-run Virtio Keyboard");
		break;
	case KR_VINPUT_CFG_ID_SERIAL:
		if (!sub)
			size = put_string(u, tablet ? "tablet0" : "keyboard0");
		break;
	case KR_VINPUT_CFG_ID_DEVIDS:
		if (sub)
			break;
		kr_put_le(u, 2, KR_VINPUT_BUS_VIRTUAL);
		kr_put_le(u + 2, 2, KR_VINPUT_VENDOR);
		kr_put_le(u + 4, 2, tablet ? KR_VINPUT_PRODUCT_TABLET : KR_VINPUT_PRODUCT_KEYBOARD);
		kr_put_le(u + 6, 2, KR_VINPUT_VERSION);
		size = 8;
		break;
	case KR_VINPUT_CFG_EV_BITS:
		if (tablet)
			tablet_bits(sub, u);
		else
			keyboard_bits(sub, u);
		size = bitmap_size(u, KR_VINPUT_CFG_LEN - KR_VINPUT_CFG_U);
		break;
	case KR_VINPUT_CFG_ABS_INFO:
		if (!tablet || (sub != ABS_X && sub != ABS_Y))
			break;
		kr_put_le(u, 4, 0);			/* min */
		kr_put_le(u + 4, 4, KR_VINPUT_ABS_MAX);	/* max; fuzz, flat, res 0 */
		size = 20;
		break;
	default:
		break;		/* UNSET, PROP_BITS (none), unknown */
	}
	d->cfg[KR_VINPUT_CFG_SIZE] = size;
}

static void cfg_read(void *opaque, uint32_t offset, uint8_t *data, unsigned int size)
{
	struct kr_virtio_input *d = opaque;

	/* The transport checked offset + size <= config_len. */
	pthread_mutex_lock(&d->lock);
	memcpy(data, d->cfg + offset, size);
	pthread_mutex_unlock(&d->lock);
}

static void cfg_write(void *opaque, uint32_t offset, const uint8_t *data, unsigned int size)
{
	struct kr_virtio_input *d = opaque;

	if (offset > KR_VINPUT_CFG_SUBSEL)
		return;		/* only select and subsel are the driver's */
	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < size && offset + i <= KR_VINPUT_CFG_SUBSEL; i++)
		d->cfg[offset + i] = data[i];
	cfg_answer(d);
	pthread_mutex_unlock(&d->lock);
}

/* ---- events to the driver ----------------------------------------------- */

static struct vin_event *ev_at(struct kr_virtio_input *d, unsigned int off)
{
	return &d->ev[(d->head + off) % KR_VINPUT_QUEUE];
}

/* Events from off (from the head) through the end of that report. */
static unsigned int report_len(struct kr_virtio_input *d, unsigned int off)
{
	for (unsigned int n = 0; off + n < d->count; n++)
		if (ev_at(d, off + n)->type == EV_SYN)
			return n + 1;
	return d->count - off;	/* not reached: every report ends in EV_SYN */
}

/* Drop the oldest report that has not started going out (lock held). */
static void drop_report(struct kr_virtio_input *d)
{
	unsigned int keep = d->sent ? report_len(d, 0) : 0;
	unsigned int n = report_len(d, keep);

	if (!n) {
		/* Only the partly sent report waits: not reached (static assert). */
		n = keep;
		keep = 0;
		d->sent = 0;
	}
	/* Slide the partly sent report's rest over the dropped one, last first. */
	for (unsigned int i = keep; i-- > 0;)
		*ev_at(d, n + i) = *ev_at(d, i);
	d->head = (d->head + n) % KR_VINPUT_QUEUE;
	d->count -= n;
	d->st.dropped++;
}

/* Event ev into the chain's device-writable buffers: false when they are short. */
static bool put_event(const struct kr_vq_elem *e, const struct vin_event *ev)
{
	uint8_t b[EV_SIZE];

	if (e->in_bytes < EV_SIZE)
		return false;
	kr_put_le(b, 2, ev->type);
	kr_put_le(b + 2, 2, ev->code);
	kr_put_le(b + 4, 4, (uint32_t)ev->value);
	kr_iov_copy(e->iov + e->n_out, e->n_in, 0, b, EV_SIZE, true);
	return true;
}

/*
 * Waiting events into the driver's buffers, one each, in order, as far as
 * there are buffers: true when any buffer went back (lock held).  A buffer
 * shorter than an event (the driver's error, 5.8.6.2) goes back empty and
 * the event waits for the next.
 */
static bool deliver(struct kr_virtio_input *d)
{
	struct iovec iov[MAX_IOV];
	unsigned int budget = PASS_MAX;
	bool pushed = false;

	while (d->count && budget--) {
		struct kr_vq_elem e = { .iov = iov, .cap = MAX_IOV };
		const struct vin_event *ev = ev_at(d, 0);

		if (kr_virtio_pop(d->vp, EVENTQ, &e) <= 0)
			break;
		pushed = true;
		if (!put_event(&e, ev)) {
			kr_virtio_push(d->vp, EVENTQ, &e, 0);
			continue;
		}
		kr_virtio_push(d->vp, EVENTQ, &e, EV_SIZE);
		d->sent = ev->type == EV_SYN ? 0 : d->sent + 1;
		d->head = (d->head + 1) % KR_VINPUT_QUEUE;
		d->count--;
		d->st.events++;
	}
	return pushed;
}

/*
 * Queue evs[0..n) and a SYN_REPORT (evs has room for it), dropping old
 * reports for room, and deliver: true when buffers went back (lock held).
 */
static bool report(struct kr_virtio_input *d, struct vin_event *evs, unsigned int n)
{
	evs[n++] = (struct vin_event){ EV_SYN, SYN_REPORT, 0 };
	while (d->count + n > KR_VINPUT_QUEUE)
		drop_report(d);
	for (unsigned int i = 0; i < n; i++)
		*ev_at(d, d->count++) = evs[i];
	d->st.reports++;
	return deliver(d);
}

/* Make one report and interrupt the driver if it wants it (any thread). */
static void send_report(struct kr_virtio_input *d, struct vin_event *evs, unsigned int n)
{
	bool pushed;

	pthread_mutex_lock(&d->lock);
	pushed = report(d, evs, n);
	pthread_mutex_unlock(&d->lock);
	if (pushed)
		kr_virtio_notify(d->vp, EVENTQ);
}

/* Pixel v of a size-pixel axis: 0 .. KR_VINPUT_ABS_MAX, the last pixel the maximum. */
static int32_t scale(int v, int size)
{
	if (size <= 1 || v <= 0)
		return 0;
	if (v >= size - 1)
		return KR_VINPUT_ABS_MAX;
	return (int32_t)((int64_t)v * KR_VINPUT_ABS_MAX / (size - 1));
}

static const struct {
	unsigned int mask;
	uint16_t code;
} tablet_buttons[] = {
	{ 1u << 0, BTN_LEFT }, { 1u << 1, BTN_MIDDLE }, { 1u << 2, BTN_RIGHT },
	{ 1u << 7, BTN_SIDE }, { 1u << 8, BTN_EXTRA },
};

#define WHEEL_UP	(1u << 3)
#define WHEEL_DOWN	(1u << 4)
#define WHEEL_LEFT	(1u << 5)
#define WHEEL_RIGHT	(1u << 6)

/*
 * The tablet's events for a new state into evs (REPORT_MAX - 1 at most):
 * what changed since the last report, or with full everything (lock held).
 */
static unsigned int pointer_events(struct kr_virtio_input *d, int32_t x, int32_t y,
				   unsigned int buttons, bool full, struct vin_event *evs)
{
	unsigned int n = 0, old = d->buttons, pressed = buttons & ~old;
	int wheel = !!(pressed & WHEEL_UP) - !!(pressed & WHEEL_DOWN);
	int hwheel = !!(pressed & WHEEL_RIGHT) - !!(pressed & WHEEL_LEFT);

	/* After a reset the axes are news; the buttons were up (d->buttons 0). */
	bool axes = full || !d->have_pos;

	if (axes || x != d->x)
		evs[n++] = (struct vin_event){ EV_ABS, ABS_X, x };
	if (axes || y != d->y)
		evs[n++] = (struct vin_event){ EV_ABS, ABS_Y, y };
	for (unsigned int i = 0; i < sizeof(tablet_buttons) / sizeof(tablet_buttons[0]); i++) {
		unsigned int m = tablet_buttons[i].mask;

		if (full || ((old ^ buttons) & m))
			evs[n++] = (struct vin_event){ EV_KEY, tablet_buttons[i].code,
						       !!(buttons & m) };
	}
	/* A wheel "button" going down is a notch; its release is nothing. */
	if (wheel)
		evs[n++] = (struct vin_event){ EV_REL, REL_WHEEL, wheel };
	if (hwheel)
		evs[n++] = (struct vin_event){ EV_REL, REL_HWHEEL, hwheel };
	return n;
}

void kr_virtio_input_pointer(struct kr_virtio_input *d, int x, int y, int w, int h,
			     unsigned int buttons)
{
	struct vin_event evs[REPORT_MAX];
	int32_t ax = scale(x, w), ay = scale(y, h);
	unsigned int n;
	bool pushed = false;

	if (d->kind != KR_VINPUT_TABLET)
		return;
	pthread_mutex_lock(&d->lock);
	n = pointer_events(d, ax, ay, buttons, false, evs);
	/* Old reports are about to be dropped: say everything (see the top). */
	if (n && d->count + n + 1 > KR_VINPUT_QUEUE)
		n = pointer_events(d, ax, ay, buttons, true, evs);
	d->have_pos = true;
	d->x = ax;
	d->y = ay;
	d->buttons = buttons;
	if (n)
		pushed = report(d, evs, n);
	pthread_mutex_unlock(&d->lock);
	if (pushed)
		kr_virtio_notify(d->vp, EVENTQ);
}

void kr_virtio_input_key(struct kr_virtio_input *d, unsigned int keycode, bool down)
{
	struct vin_event evs[2] = { { EV_KEY, (uint16_t)keycode, down } };

	if (d->kind != KR_VINPUT_KEYBOARD || keycode < KEY_ESC || keycode > KEY_MICMUTE)
		return;
	send_report(d, evs, 1);
}

unsigned int kr_virtio_input_leds(struct kr_virtio_input *d)
{
	unsigned int leds;

	pthread_mutex_lock(&d->lock);
	leds = d->leds;
	pthread_mutex_unlock(&d->lock);
	return leds;
}

void kr_virtio_input_get_stats(struct kr_virtio_input *d, struct kr_virtio_input_stats *st)
{
	pthread_mutex_lock(&d->lock);
	*st = d->st;
	pthread_mutex_unlock(&d->lock);
}

/* ---- the driver's events ------------------------------------------------ */

/* One statusq event: LEDs are recorded; the rest (EV_REP settings...) ignored. */
static void status_event(struct kr_virtio_input *d, const uint8_t *b)
{
	unsigned int type = kr_get_le(b, 2), code = kr_get_le(b + 2, 2);
	uint32_t value = kr_get_le(b + 4, 4);

	if (type != EV_LED || code > LED_MAX)
		return;
	if (value)
		d->leds |= 1u << code;
	else
		d->leds &= ~(1u << code);
}

/* Take every statusq buffer, give each back (len 0): true when any (lock held). */
static bool status_drain(struct kr_virtio_input *d)
{
	struct iovec iov[MAX_IOV];
	unsigned int budget = PASS_MAX;
	bool pushed = false;

	while (budget--) {
		struct kr_vq_elem e = { .iov = iov, .cap = MAX_IOV };
		uint8_t b[EV_SIZE];

		if (kr_virtio_pop(d->vp, STATUSQ, &e) <= 0)
			break;
		/* An event is in the readable buffers; shorter ones carry none. */
		if (kr_iov_copy(iov, e.n_out, 0, b, EV_SIZE, false) == EV_SIZE)
			status_event(d, b);
		kr_virtio_push(d->vp, STATUSQ, &e, 0);
		pushed = true;
	}
	return pushed;
}

/* ---- transport callbacks ------------------------------------------------ */

static void queue_notify(void *opaque, unsigned int q)
{
	struct kr_virtio_input *d = opaque;
	bool pushed = false;

	pthread_mutex_lock(&d->lock);
	if (q == EVENTQ)
		pushed = deliver(d);
	else if (q == STATUSQ)
		pushed = status_drain(d);
	pthread_mutex_unlock(&d->lock);
	if (pushed)
		kr_virtio_notify(d->vp, q);
}

/* Buffers posted and kicked before DRIVER_OK were kicked in vain: look now. */
static void driver_ok(void *opaque)
{
	queue_notify(opaque, EVENTQ);
	queue_notify(opaque, STATUSQ);
}

static void dev_reset(void *opaque)
{
	struct kr_virtio_input *d = opaque;

	/* Pops already fail; the lock waits for a pass in progress. */
	pthread_mutex_lock(&d->lock);
	d->head = d->count = d->sent = 0;
	d->have_pos = false;
	d->buttons = 0;
	d->leds = 0;
	memset(d->cfg, 0, sizeof(d->cfg));
	cfg_answer(d);
	pthread_mutex_unlock(&d->lock);
}

/* ---- snapshots ---------------------------------------------------------- */

#define SNAP_VERSION	1
#define BUTTON_BITS	9	/* the RFB mask bits kr_virtio_input_pointer() knows */

static const char *kind_name(unsigned int kind)
{
	return kind == KR_VINPUT_TABLET ? "tablet" : kind == KR_VINPUT_KEYBOARD ? "keyboard" :
	       "device of another kind";
}

int kr_virtio_input_save(struct kr_virtio_input *d, struct kr_sbuf *b)
{
	size_t start = b->len;
	int err;

	/* Deliveries and the statusq pop and push under the lock: none in flight. */
	pthread_mutex_lock(&d->lock);
	kr_sbuf_begin(b, SNAP_VERSION);
	kr_sbuf_u8(b, d->kind);
	kr_sbuf_u8(b, d->cfg[KR_VINPUT_CFG_SELECT]);
	kr_sbuf_u8(b, d->cfg[KR_VINPUT_CFG_SUBSEL]);
	kr_sbuf_u16(b, d->count);
	kr_sbuf_u8(b, d->sent);
	for (unsigned int i = 0; i < d->count; i++) {
		const struct vin_event *ev = ev_at(d, i);

		kr_sbuf_u16(b, ev->type);
		kr_sbuf_u16(b, ev->code);
		kr_sbuf_u32(b, (uint32_t)ev->value);
	}
	kr_sbuf_bool(b, d->have_pos);
	kr_sbuf_u32(b, (uint32_t)d->x);
	kr_sbuf_u32(b, (uint32_t)d->y);
	/* Bits past the buttons it knows mean nothing to pointer_events(). */
	kr_sbuf_u32(b, d->buttons & ((1u << BUTTON_BITS) - 1));
	kr_sbuf_u32(b, d->leds);
	err = kr_virtio_pci_save(d->vp, b, NULL);
	pthread_mutex_unlock(&d->lock);
	if (err && !b->oom)
		b->len = start;
	return err;
}

/* An event this kind of device makes. */
static bool event_ok(enum kr_vinput_kind kind, const struct vin_event *ev)
{
	switch (ev->type) {
	case EV_SYN:
		return ev->code == SYN_REPORT && !ev->value;
	case EV_KEY:
		if (ev->value != 0 && ev->value != 1)
			return false;
		if (kind == KR_VINPUT_KEYBOARD)
			return ev->code >= KEY_ESC && ev->code <= KEY_MICMUTE;
		for (unsigned int i = 0; i < sizeof(tablet_buttons) / sizeof(tablet_buttons[0]);
		     i++)
			if (ev->code == tablet_buttons[i].code)
				return true;
		return false;
	case EV_ABS:
		return kind == KR_VINPUT_TABLET && (ev->code == ABS_X || ev->code == ABS_Y) &&
		       ev->value >= 0 && ev->value <= KR_VINPUT_ABS_MAX;
	case EV_REL:
		return kind == KR_VINPUT_TABLET &&
		       (ev->code == REL_WHEEL || ev->code == REL_HWHEEL) &&
		       (ev->value == 1 || ev->value == -1);
	default:
		return false;
	}
}

/*
 * The waiting events must be whole reports of at most REPORT_MAX events,
 * each ending in its only EV_SYN, the first one short of the `sent` events
 * that already went out: what report() and deliver() leave, and what
 * drop_report() counts on.
 */
static int check_events(struct kr_sget *g, enum kr_vinput_kind kind, const struct vin_event *ev,
			unsigned int count, unsigned int sent)
{
	unsigned int in_report = sent;

	if (sent && !count)
		return kr_sget_fail(g, "%u events of a report sent, none of it left", sent);
	for (unsigned int i = 0; i < count; i++) {
		if (!event_ok(kind, &ev[i]))
			return kr_sget_fail(g, "event %u (type %u, code %u, value %d) is not "
					    "a %s's", i, ev[i].type, ev[i].code, ev[i].value,
					    kind_name(kind));
		if (++in_report > REPORT_MAX)
			return kr_sget_fail(g, "a report longer than %u events", REPORT_MAX);
		if (ev[i].type == EV_SYN)
			in_report = 0;
	}
	if (in_report)
		return kr_sget_fail(g, "the last report does not end in SYN_REPORT");
	return 0;
}

int kr_virtio_input_load(struct kr_virtio_input *d, struct kr_sget *g)
{
	struct vin_event ev[KR_VINPUT_QUEUE];
	unsigned int kind, count, sent, buttons, leds;
	uint8_t sel, subsel;
	int32_t x, y;
	bool have_pos;
	int err;

	if (kr_sget_begin(g, SNAP_VERSION))
		return -EPROTO;
	kind = kr_sget_u8(g);
	if (!g->bad && kind != d->kind)
		return kr_sget_fail(g, "the snapshot's device is a %s, this one a %s",
				    kind_name(kind), kind_name(d->kind));
	sel = kr_sget_u8(g);
	subsel = kr_sget_u8(g);
	count = kr_sget_u16(g);
	sent = kr_sget_u8(g);
	if (!g->bad && count > KR_VINPUT_QUEUE)
		return kr_sget_fail(g, "%u events waiting, at most %u", count, KR_VINPUT_QUEUE);
	for (unsigned int i = 0; i < count && !g->bad; i++) {
		ev[i].type = kr_sget_u16(g);
		ev[i].code = kr_sget_u16(g);
		ev[i].value = (int32_t)kr_sget_u32(g);
	}
	have_pos = kr_sget_bool(g);
	x = (int32_t)kr_sget_u32(g);
	y = (int32_t)kr_sget_u32(g);
	buttons = kr_sget_u32(g);
	leds = kr_sget_u32(g);
	if (g->bad)
		return -EPROTO;
	err = check_events(g, d->kind, ev, count, sent);
	if (err)
		return err;
	if (d->kind == KR_VINPUT_KEYBOARD && (have_pos || x || y || buttons))
		return kr_sget_fail(g, "a keyboard with a pointer state");
	if (x < 0 || x > KR_VINPUT_ABS_MAX || y < 0 || y > KR_VINPUT_ABS_MAX)
		return kr_sget_fail(g, "pointer at %d,%d, outside 0..%u", x, y, KR_VINPUT_ABS_MAX);
	if (buttons >> BUTTON_BITS)
		return kr_sget_fail(g, "buttons 0x%x", buttons);
	/* Any kind records the LEDs a driver sets (status_event()). */
	if (leds >> (LED_MAX + 1))
		return kr_sget_fail(g, "LEDs 0x%x", leds);
	err = kr_virtio_pci_load(d->vp, g);
	if (err)
		return err;

	pthread_mutex_lock(&d->lock);
	memset(d->cfg, 0, sizeof(d->cfg));
	d->cfg[KR_VINPUT_CFG_SELECT] = sel;
	d->cfg[KR_VINPUT_CFG_SUBSEL] = subsel;
	cfg_answer(d);
	memcpy(d->ev, ev, count * sizeof(ev[0]));
	d->head = 0;
	d->count = count;
	d->sent = sent;
	d->have_pos = have_pos;
	d->x = x;
	d->y = y;
	d->buttons = buttons;
	d->leds = leds;
	pthread_mutex_unlock(&d->lock);
	return kr_sget_done(g);
}

/* ---- life cycle --------------------------------------------------------- */

static const struct kr_virtio_ops tablet_ops = {
	.name = "virtio-tablet",
	.device_id = KR_VIRTIO_ID_INPUT,
	.class_code = CLASS_OTHER,
	.num_queues = 2,
	.queue_max = KR_VINPUT_QUEUE_SIZE,
	.config_len = KR_VINPUT_CFG_LEN,
	.config_read = cfg_read,
	.config_write = cfg_write,
	.queue_notify = queue_notify,
	.driver_ok = driver_ok,
	.reset = dev_reset,
};

static const struct kr_virtio_ops keyboard_ops = {
	.name = "virtio-keyboard",
	.device_id = KR_VIRTIO_ID_INPUT,
	.class_code = CLASS_KEYBOARD,
	.num_queues = 2,
	.queue_max = KR_VINPUT_QUEUE_SIZE,
	.config_len = KR_VINPUT_CFG_LEN,
	.config_read = cfg_read,
	.config_write = cfg_write,
	.queue_notify = queue_notify,
	.driver_ok = driver_ok,
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
	cfg_answer(d);
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
