// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio input device (virtio_input.c) through the guest-visible
 * interface only, as Linux's virtio_input uses it: the configuration
 * queries of its probe, 8-byte buffers on eventq filled with reports that
 * end in SYN_REPORT, LED events on statusq; reports that wait for buffers
 * and, when too many wait, are dropped whole, oldest first; reset.  Every
 * event is checked by its exact type, code and value.
 */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "t.h"
#include "vdrv.h"
#include "../virtio_input.h"

#define SLOT		9
#define BARADDR		0xc8000000ull
#define RING0		0x10000ull
#define RING1		0x20000ull
#define BUFS		0x100000ull	/* event buffer i at BUFS + 8 i */
#define STBUF		0x180000ull	/* statusq buffers */
#define NBUF		64
#define VEC_EV		1
#define VEC_ST		2
#define MAX		KR_VINPUT_ABS_MAX
#define NONE		0xffff		/* an event type no event has */

struct it {
	struct tmach m;
	struct kr_virtio_input *v;
	struct vdrv d;
	bool msix;
	uint16_t next;			/* the next event buffer to post */
};

/* The driver's steps after a reset: features, MSI-X, both queues, DRIVER_OK. */
static void it_driver(struct it *t)
{
	vd_negotiate(&t->d, 1ull << KR_VIRTIO_F_VERSION_1);
	if (t->msix)
		vd_msix_enable(&t->d);
	vd_setup_queue(&t->d, KR_VINPUT_EVENTQ, NBUF, RING0,
		       t->msix ? VEC_EV : KR_VIRTIO_NO_VECTOR);
	vd_setup_queue(&t->d, KR_VINPUT_STATUSQ, 8, RING1,
		       t->msix ? VEC_ST : KR_VIRTIO_NO_VECTOR);
	vd_driver_ok(&t->d);
	t->next = 0;
}

static void it_up(struct it *t, enum kr_vinput_kind kind, bool msix)
{
	memset(t, 0, sizeof(*t));
	tm_init(&t->m);
	t->msix = msix;
	t->v = kr_virtio_input_create(t->m.pci, SLOT, &t->m.mem, kind);
	if (!t->v || vd_probe(&t->d, &t->m, SLOT, BARADDR))
		abort();
	it_driver(t);
}

static void it_down(struct it *t)
{
	kr_virtio_input_destroy(t->v);
	tm_fini(&t->m);
}

/* Post n 8-byte buffers on eventq (descriptor = buffer index), preset to 0xcc. */
static void post(struct it *t, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++, t->next++) {
		uint16_t b = t->next % NBUF;

		memset(tm_ram(&t->m, BUFS + 8 * b, 8), 0xcc, 8);
		vd_desc(&t->d, KR_VINPUT_EVENTQ, b, BUFS + 8 * b, 8, KR_VQ_DESC_F_WRITE, 0);
		vd_avail(&t->d, KR_VINPUT_EVENTQ, b);
	}
	vd_kick(&t->d, KR_VINPUT_EVENTQ);
}

/* The next used event: false when none (or a used entry that is no event). */
static bool next_event(struct it *t, uint16_t *type, uint16_t *code, int32_t *value)
{
	uint32_t id, len;
	const uint8_t *p;

	if (!vd_used(&t->d, KR_VINPUT_EVENTQ, &id, &len) || len != 8 || id >= NBUF)
		return false;
	p = tm_ram(&t->m, BUFS + 8 * id, 8);
	*type = kr_get_le(p, 2);
	*code = kr_get_le(p + 2, 2);
	*value = (int32_t)kr_get_le(p + 4, 4);
	return true;
}

static bool expect_event(struct it *t, uint16_t type, uint16_t code, int32_t value)
{
	uint16_t ty = NONE, co = NONE;
	int32_t va = -1;

	if (next_event(t, &ty, &co, &va) && ty == type && co == code && va == value)
		return true;
	printf("#   event %u %u %d, want %u %u %d\n", ty, co, va, type, code, value);
	return false;
}

static bool no_event(struct it *t)
{
	uint32_t id, len;

	return !vd_used(&t->d, KR_VINPUT_EVENTQ, &id, &len);
}

#define EV(t, ty, co, va)	CHECK(expect_event((t), (ty), (co), (va)))
#define SYN(t)			EV((t), EV_SYN, SYN_REPORT, 0)

static unsigned int msis(struct it *t, unsigned int vec)
{
	unsigned int c = 0;

	for (unsigned int i = 0; i < t->m.n_msi; i++)
		c += t->m.msi[i].address == VD_MSI_ADDR(vec) &&
		     t->m.msi[i].data == VD_MSI_DATA(vec);
	return c;
}

/* Write select and subsel, read size and the whole union into u. */
static unsigned int cfg_select(struct it *t, uint8_t sel, uint8_t sub, uint8_t *u)
{
	tm_write(&t->m.mmio, t->d.device + KR_VINPUT_CFG_SELECT, 1, sel);
	tm_write(&t->m.mmio, t->d.device + KR_VINPUT_CFG_SUBSEL, 1, sub);
	for (unsigned int i = 0; u && i < 128; i++)
		u[i] = tm_read(&t->m.mmio, t->d.device + KR_VINPUT_CFG_U + i, 1);
	return tm_read(&t->m.mmio, t->d.device + KR_VINPUT_CFG_SIZE, 1);
}

/* u[from..128) all zero. */
static bool zero_from(const uint8_t *u, unsigned int from)
{
	for (unsigned int i = from; i < 128; i++)
		if (u[i])
			return false;
	return true;
}

/* A bitmap of exactly the codes in want[0..n). */
static bool bitmap_is(const uint8_t *u, const uint16_t *want, unsigned int n)
{
	uint8_t m[128] = { 0 };

	for (unsigned int i = 0; i < n; i++)
		m[want[i] / 8] |= 1u << (want[i] % 8);
	return !memcmp(m, u, sizeof(m));
}

static uint32_t le32(const uint8_t *p)
{
	return kr_get_le(p, 4);
}

KR_TEST(vinput_probe)
{
	struct it t;

	it_up(&t, KR_VINPUT_TABLET, true);
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, 0, 4), (0x1040u + 18) << 16 | 0x1af4);
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, KR_PCI_REVISION, 4) >> 8, 0x098000);
	CHECK_EQ(vd_common_read(&t.d, KR_VIRTIO_COMMON_NUMQ, 2), 2);
	CHECK_EQ(t.d.device_len, KR_VINPUT_CFG_LEN);
	/* No device feature bits: only the transport's. */
	vd_common_write(&t.d, KR_VIRTIO_COMMON_DFSELECT, 4, 0);
	CHECK_EQ(vd_common_read(&t.d, KR_VIRTIO_COMMON_DF, 4),
		 1u << KR_VIRTIO_F_INDIRECT_DESC | 1u << KR_VIRTIO_F_EVENT_IDX);
	/* Queues of up to 64 entries (what a reset queue offers). */
	vd_negotiate(&t.d, 1ull << KR_VIRTIO_F_VERSION_1);
	for (unsigned int q = 0; q < 2; q++) {
		vd_common_write(&t.d, KR_VIRTIO_COMMON_Q_SELECT, 2, q);
		CHECK_EQ(vd_common_read(&t.d, KR_VIRTIO_COMMON_Q_SIZE, 2), 64);
	}
	it_driver(&t);
	CHECK_EQ(vd_status(&t.d) & KR_VIRTIO_STATUS_DRIVER_OK, KR_VIRTIO_STATUS_DRIVER_OK);
	CHECK(kr_virtio_input_transport(t.v) != NULL);
	it_down(&t);

	it_up(&t, KR_VINPUT_KEYBOARD, false);
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, 0, 4), (0x1040u + 18) << 16 | 0x1af4);
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, KR_PCI_REVISION, 4) >> 8, 0x090000);
	it_down(&t);

	{
		struct tmach m;

		tm_init(&m);
		errno = 0;
		CHECK(!kr_virtio_input_create(m.pci, SLOT, &m.mem, (enum kr_vinput_kind)7));
		CHECK_EQ(errno, EINVAL);
		tm_fini(&m);
	}
}

KR_TEST(vinput_tablet_config)
{
	static const uint16_t keys[] = { BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, BTN_SIDE, BTN_EXTRA };
	static const uint16_t rels[] = { REL_HWHEEL, REL_WHEEL };
	static const uint16_t abss[] = { ABS_X, ABS_Y };
	static const uint16_t syns[] = { SYN_REPORT };
	static const uint8_t none[] = { EV_LED, EV_REP, EV_MSC, EV_SW, EV_SND, EV_FF, 0x1f };
	struct it t;
	uint8_t u[128];

	it_up(&t, KR_VINPUT_TABLET, true);
	/* Nothing selected yet. */
	CHECK_EQ(tm_read(&t.m.mmio, t.d.device + KR_VINPUT_CFG_SIZE, 1), 0);
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_UNSET, 0, u), 0);
	CHECK(zero_from(u, 0));
	/* Identity. */
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_ID_NAME, 0, u), 21);
	CHECK(!memcmp(u, "khv-run Virtio Tablet", 21) && zero_from(u, 21));
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_ID_NAME, 1, u), 0);
	CHECK(zero_from(u, 0));
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_ID_SERIAL, 0, u), 7);
	CHECK(!memcmp(u, "tablet0", 7) && zero_from(u, 7));
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_ID_DEVIDS, 0, u), 8);
	CHECK(!memcmp(u, (uint8_t[]){ 0x06, 0, 0x68, 0x6b, 2, 0, 1, 0 }, 8) && zero_from(u, 8));
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_PROP_BITS, 0, u), 0);
	/* Event types and codes. */
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_SYN, u), 1);
	CHECK(bitmap_is(u, syns, 1));
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_KEY, u), BTN_EXTRA / 8 + 1);
	CHECK(bitmap_is(u, keys, ARRAY_SIZE(keys)));
	CHECK_EQ(u[BTN_LEFT / 8], 0x1f);
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_REL, u), 2);
	CHECK(bitmap_is(u, rels, ARRAY_SIZE(rels)));
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_ABS, u), 1);
	CHECK(bitmap_is(u, abss, ARRAY_SIZE(abss)));
	for (unsigned int i = 0; i < ARRAY_SIZE(none); i++) {
		CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, none[i], u), 0);
		CHECK(zero_from(u, 0));
	}
	/* Axes: min, max, fuzz, flat, res. */
	for (unsigned int a = ABS_X; a <= ABS_Y; a++) {
		CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_ABS_INFO, a, u), 20);
		CHECK_EQ(le32(u), 0);
		CHECK_EQ(le32(u + 4), 32767);
		CHECK_EQ(le32(u + 8), 0);
		CHECK_EQ(le32(u + 12), 0);
		CHECK_EQ(le32(u + 16), 0);
		CHECK(zero_from(u, 20));
	}
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_ABS_INFO, ABS_Z, u), 0);
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_ABS_INFO, ABS_MT_POSITION_X, u), 0);
	CHECK_EQ(cfg_select(&t, 0x77, 0, u), 0);
	CHECK(zero_from(u, 0));
	/* Only select and subsel are writable; a 2-byte write sets both. */
	tm_write(&t.m.mmio, t.d.device + KR_VINPUT_CFG_SELECT, 2,
		 KR_VINPUT_CFG_ABS_INFO | ABS_Y << 8);
	CHECK_EQ(tm_read(&t.m.mmio, t.d.device + KR_VINPUT_CFG_SELECT, 2),
		 KR_VINPUT_CFG_ABS_INFO | ABS_Y << 8);
	CHECK_EQ(tm_read(&t.m.mmio, t.d.device + KR_VINPUT_CFG_SIZE, 1), 20);
	cfg_select(&t, KR_VINPUT_CFG_ID_NAME, 0, NULL);
	tm_write(&t.m.mmio, t.d.device + KR_VINPUT_CFG_SIZE, 1, 0);
	tm_write(&t.m.mmio, t.d.device + 4, 4, 0x01020304);
	tm_write(&t.m.mmio, t.d.device + KR_VINPUT_CFG_U, 1, 'X');
	CHECK_EQ(tm_read(&t.m.mmio, t.d.device + KR_VINPUT_CFG_SIZE, 1), 21);
	CHECK_EQ(tm_read(&t.m.mmio, t.d.device + 4, 4), 0);
	CHECK_EQ(tm_read(&t.m.mmio, t.d.device + KR_VINPUT_CFG_U, 1), 'k');
	/* A write of select, subsel, size and reserved at once: the first two count. */
	tm_write(&t.m.mmio, t.d.device, 4, 0xffff0000u | ABS_X << 8 | KR_VINPUT_CFG_ABS_INFO);
	CHECK_EQ(tm_read(&t.m.mmio, t.d.device, 4),
		 20u << 16 | ABS_X << 8 | KR_VINPUT_CFG_ABS_INFO);
	it_down(&t);
}

KR_TEST(vinput_keyboard_config)
{
	static const uint16_t leds[] = { LED_NUML, LED_CAPSL, LED_SCROLLL };
	static const uint16_t reps[] = { REP_DELAY, REP_PERIOD };
	struct it t;
	uint8_t u[128];

	it_up(&t, KR_VINPUT_KEYBOARD, true);
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_ID_NAME, 0, u), 23);
	CHECK(!memcmp(u, "khv-run Virtio Keyboard", 23) && zero_from(u, 23));
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_ID_SERIAL, 0, u), 9);
	CHECK(!memcmp(u, "keyboard0", 9));
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_ID_DEVIDS, 0, u), 8);
	CHECK(!memcmp(u, (uint8_t[]){ 0x06, 0, 0x68, 0x6b, 1, 0, 1, 0 }, 8));
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_PROP_BITS, 0, u), 0);
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_SYN, u), 1);
	CHECK_EQ(u[0], 1);
	/* Keys 1 (KEY_ESC) to 248 (KEY_MICMUTE), nothing else. */
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_KEY, u), 32);
	CHECK_EQ(u[0], 0xfe);
	for (unsigned int i = 1; i < 31; i++)
		CHECK_EQ(u[i], 0xff);
	CHECK_EQ(u[31], 0x01);
	CHECK(zero_from(u, 32));
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_LED, u), 1);
	CHECK(bitmap_is(u, leds, ARRAY_SIZE(leds)));
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_REP, u), 1);
	CHECK(bitmap_is(u, reps, ARRAY_SIZE(reps)));
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_REL, u), 0);
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_ABS, u), 0);
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_MSC, u), 0);
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_ABS_INFO, ABS_X, u), 0);
	CHECK(zero_from(u, 0));
	it_down(&t);
}

KR_TEST(vinput_pointer_move_click)
{
	struct it t;

	it_up(&t, KR_VINPUT_TABLET, true);
	post(&t, 32);
	CHECK_EQ(msis(&t, VEC_EV), 0);
	/* The first move states both axes; buttons up are not news. */
	kr_virtio_input_pointer(t.v, 100, 50, 1024, 768, 0);
	EV(&t, EV_ABS, ABS_X, 3203);		/* 100 * 32767 / 1023 */
	EV(&t, EV_ABS, ABS_Y, 2136);		/* 50 * 32767 / 767 */
	SYN(&t);
	CHECK(no_event(&t));
	CHECK_EQ(msis(&t, VEC_EV), 1);
	/* A move of X only. */
	kr_virtio_input_pointer(t.v, 511, 50, 1024, 768, 0);
	EV(&t, EV_ABS, ABS_X, 16367);
	SYN(&t);
	/* A click where it is: the button alone, down then up. */
	kr_virtio_input_pointer(t.v, 511, 50, 1024, 768, 1);
	EV(&t, EV_KEY, BTN_LEFT, 1);
	SYN(&t);
	kr_virtio_input_pointer(t.v, 511, 50, 1024, 768, 0);
	EV(&t, EV_KEY, BTN_LEFT, 0);
	SYN(&t);
	CHECK_EQ(msis(&t, VEC_EV), 4);
	/* Nothing changed: no report, no interrupt. */
	kr_virtio_input_pointer(t.v, 511, 50, 1024, 768, 0);
	CHECK(no_event(&t));
	CHECK_EQ(msis(&t, VEC_EV), 4);
	/* A drag: move and buttons in one report, axes first. */
	kr_virtio_input_pointer(t.v, 1, 1, 1024, 768, 1 | 4);
	EV(&t, EV_ABS, ABS_X, 32);
	EV(&t, EV_ABS, ABS_Y, 42);		/* 32767 / 767 */
	EV(&t, EV_KEY, BTN_LEFT, 1);
	EV(&t, EV_KEY, BTN_RIGHT, 1);
	SYN(&t);
	kr_virtio_input_pointer(t.v, 1, 1, 1024, 768, 2 | 4);
	EV(&t, EV_KEY, BTN_LEFT, 0);
	EV(&t, EV_KEY, BTN_MIDDLE, 1);
	SYN(&t);
	/* Back and forward (bits 7 and 8). */
	kr_virtio_input_pointer(t.v, 1, 1, 1024, 768, 0x80 | 0x100);
	EV(&t, EV_KEY, BTN_MIDDLE, 0);
	EV(&t, EV_KEY, BTN_RIGHT, 0);
	EV(&t, EV_KEY, BTN_SIDE, 1);
	EV(&t, EV_KEY, BTN_EXTRA, 1);
	SYN(&t);
	kr_virtio_input_pointer(t.v, 1, 1, 1024, 768, 0);
	EV(&t, EV_KEY, BTN_SIDE, 0);
	EV(&t, EV_KEY, BTN_EXTRA, 0);
	SYN(&t);
	CHECK(no_event(&t));
	/* A keyboard call to a tablet is nothing. */
	kr_virtio_input_key(t.v, KEY_A, true);
	CHECK(no_event(&t));
	it_down(&t);
}

KR_TEST(vinput_pointer_scaling)
{
	struct it t;

	it_up(&t, KR_VINPUT_TABLET, true);
	post(&t, 64);
	/* The first and the last pixel are the ends of the range. */
	kr_virtio_input_pointer(t.v, 639, 479, 640, 480, 0);
	EV(&t, EV_ABS, ABS_X, 32767);
	EV(&t, EV_ABS, ABS_Y, 32767);
	SYN(&t);
	kr_virtio_input_pointer(t.v, 0, 0, 640, 480, 0);
	EV(&t, EV_ABS, ABS_X, 0);
	EV(&t, EV_ABS, ABS_Y, 0);
	SYN(&t);
	kr_virtio_input_pointer(t.v, 320, 240, 640, 480, 0);
	EV(&t, EV_ABS, ABS_X, 16409);		/* 320 * 32767 / 639 */
	EV(&t, EV_ABS, ABS_Y, 16417);		/* 240 * 32767 / 479 */
	SYN(&t);
	/* Off the screen: clamped. */
	kr_virtio_input_pointer(t.v, 5000, -7, 640, 480, 0);
	EV(&t, EV_ABS, ABS_X, 32767);
	EV(&t, EV_ABS, ABS_Y, 0);
	SYN(&t);
	kr_virtio_input_pointer(t.v, -1, 480, 640, 480, 0);
	EV(&t, EV_ABS, ABS_X, 0);
	EV(&t, EV_ABS, ABS_Y, 32767);
	SYN(&t);
	/* A screen resized: the same pixel is elsewhere. */
	kr_virtio_input_pointer(t.v, 1, 479, 2, 480, 0);
	EV(&t, EV_ABS, ABS_X, 32767);
	SYN(&t);
	/* A degenerate screen: 0. */
	kr_virtio_input_pointer(t.v, 0, 0, 1, 0, 0);
	EV(&t, EV_ABS, ABS_X, 0);
	EV(&t, EV_ABS, ABS_Y, 0);
	SYN(&t);
	CHECK(no_event(&t));
	it_down(&t);
}

KR_TEST(vinput_wheel)
{
	struct it t;

	it_up(&t, KR_VINPUT_TABLET, true);
	post(&t, 64);
	kr_virtio_input_pointer(t.v, 10, 10, 100, 100, 0);
	EV(&t, EV_ABS, ABS_X, 3309);		/* 10 * 32767 / 99 */
	EV(&t, EV_ABS, ABS_Y, 3309);
	SYN(&t);
	/* Up: one notch at the press; held and released: nothing. */
	kr_virtio_input_pointer(t.v, 10, 10, 100, 100, 8);
	EV(&t, EV_REL, REL_WHEEL, 1);
	SYN(&t);
	kr_virtio_input_pointer(t.v, 10, 10, 100, 100, 8);
	kr_virtio_input_pointer(t.v, 10, 10, 100, 100, 0);
	CHECK(no_event(&t));
	/* Down. */
	kr_virtio_input_pointer(t.v, 10, 10, 100, 100, 16);
	EV(&t, EV_REL, REL_WHEEL, -1);
	SYN(&t);
	kr_virtio_input_pointer(t.v, 10, 10, 100, 100, 0);
	/* Two notches up: two press-release pairs. */
	kr_virtio_input_pointer(t.v, 10, 10, 100, 100, 8);
	kr_virtio_input_pointer(t.v, 10, 10, 100, 100, 0);
	kr_virtio_input_pointer(t.v, 10, 10, 100, 100, 8);
	kr_virtio_input_pointer(t.v, 10, 10, 100, 100, 0);
	EV(&t, EV_REL, REL_WHEEL, 1);
	SYN(&t);
	EV(&t, EV_REL, REL_WHEEL, 1);
	SYN(&t);
	/* Left and right. */
	kr_virtio_input_pointer(t.v, 10, 10, 100, 100, 32);
	EV(&t, EV_REL, REL_HWHEEL, -1);
	SYN(&t);
	kr_virtio_input_pointer(t.v, 10, 10, 100, 100, 64);
	EV(&t, EV_REL, REL_HWHEEL, 1);
	SYN(&t);
	/* With a click and a move: one report. */
	kr_virtio_input_pointer(t.v, 20, 10, 100, 100, 1 | 16);
	EV(&t, EV_ABS, ABS_X, 6619);		/* 20 * 32767 / 99 */
	EV(&t, EV_KEY, BTN_LEFT, 1);
	EV(&t, EV_REL, REL_WHEEL, -1);
	SYN(&t);
	CHECK(no_event(&t));
	it_down(&t);
}

KR_TEST(vinput_reports_wait_for_buffers)
{
	struct it t;

	it_up(&t, KR_VINPUT_TABLET, true);
	/* No buffers: three reports wait, nothing is used, no interrupt. */
	kr_virtio_input_pointer(t.v, 10, 20, 100, 100, 0);
	kr_virtio_input_pointer(t.v, 10, 20, 100, 100, 1);
	kr_virtio_input_pointer(t.v, 30, 20, 100, 100, 0);
	CHECK(no_event(&t));
	CHECK_EQ(msis(&t, VEC_EV), 0);
	/* Two buffers: the first two events, half a report, one interrupt. */
	post(&t, 2);
	EV(&t, EV_ABS, ABS_X, 3309);
	EV(&t, EV_ABS, ABS_Y, 6619);
	CHECK(no_event(&t));
	CHECK_EQ(msis(&t, VEC_EV), 1);
	/* Then the rest of it, and the others, in order. */
	post(&t, 3);
	SYN(&t);
	EV(&t, EV_KEY, BTN_LEFT, 1);
	SYN(&t);
	CHECK(no_event(&t));
	CHECK_EQ(msis(&t, VEC_EV), 2);
	/* A new report goes behind what waits. */
	kr_virtio_input_pointer(t.v, 40, 20, 100, 100, 0);
	post(&t, 10);
	EV(&t, EV_ABS, ABS_X, 9929);		/* 30 * 32767 / 99 */
	EV(&t, EV_KEY, BTN_LEFT, 0);
	SYN(&t);
	EV(&t, EV_ABS, ABS_X, 13239);		/* 40 * 32767 / 99 */
	SYN(&t);
	CHECK(no_event(&t));
	/* Five buffers left posted: the next report goes out at once. */
	kr_virtio_input_pointer(t.v, 40, 20, 100, 100, 4);
	EV(&t, EV_KEY, BTN_RIGHT, 1);
	SYN(&t);
	{
		struct kr_virtio_input_stats st;

		kr_virtio_input_get_stats(t.v, &st);
		CHECK_EQ(st.reports, 5);
		CHECK_EQ(st.events, 12);
		CHECK_EQ(st.dropped, 0);
	}
	it_down(&t);
}

/* Post buffers until one goes unused, the events read into ty/co/va: how many. */
static unsigned int drain(struct it *t, uint16_t *ty, uint16_t *co, int32_t *va, unsigned int cap)
{
	unsigned int n = 0, got;

	do {
		post(t, NBUF / 2);
		for (got = 0; n < cap && got < NBUF / 2 &&
			      next_event(t, &ty[n], &co[n], &va[n]); got++)
			n++;
	} while (got == NBUF / 2);
	return n;
}

/* The full report the tablet makes when it drops: both axes, every button. */
static bool full_report(const uint16_t *ty, const uint16_t *co, const int32_t *va, int32_t x,
			int32_t y)
{
	static const uint16_t btn[] = { BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, BTN_SIDE, BTN_EXTRA };

	if (ty[0] != EV_ABS || co[0] != ABS_X || va[0] != x ||
	    ty[1] != EV_ABS || co[1] != ABS_Y || va[1] != y)
		return false;
	for (unsigned int i = 0; i < 5; i++)
		if (ty[2 + i] != EV_KEY || co[2 + i] != btn[i] || va[2 + i] != 0)
			return false;
	return ty[7] == EV_SYN && co[7] == SYN_REPORT && va[7] == 0;
}

KR_TEST(vinput_overflow_drops_whole_reports)
{
	enum { CAP = 400 };
	struct it t;
	static uint16_t ty[CAP], co[CAP];
	static int32_t va[CAP];
	struct kr_virtio_input_stats st;
	unsigned int n, bad = 0;

	/*
	 * A 32768-pixel screen: pixel i is i.  Report 0 is X 0, Y 5, SYN;
	 * reports 1..126 X i, SYN: 255 events.  Report 127 does not fit: it
	 * drops reports 0, 1, 2 (7 events) and states everything (8); report
	 * 128 drops 3..6.
	 */
	it_up(&t, KR_VINPUT_TABLET, true);
	for (int i = 0; i <= 128; i++)
		kr_virtio_input_pointer(t.v, i, 5, 32768, 32768, 0);
	CHECK(no_event(&t));
	kr_virtio_input_get_stats(t.v, &st);
	CHECK_EQ(st.reports, 129);
	CHECK_EQ(st.dropped, 7);
	n = drain(&t, ty, co, va, CAP);
	CHECK_EQ(n, KR_VINPUT_QUEUE);
	for (unsigned int i = 0; i < 120 && n == KR_VINPUT_QUEUE; i++)
		bad += ty[2 * i] != EV_ABS || co[2 * i] != ABS_X || va[2 * i] != (int32_t)(7 + i) ||
		       ty[2 * i + 1] != EV_SYN || co[2 * i + 1] != SYN_REPORT;
	CHECK_EQ(bad, 0);
	CHECK(n == KR_VINPUT_QUEUE && full_report(ty + 240, co + 240, va + 240, 127, 5));
	CHECK(n == KR_VINPUT_QUEUE && full_report(ty + 248, co + 248, va + 248, 128, 5));
	it_down(&t);

	/*
	 * A report partly delivered is not dropped: X 0 goes out, Y 5 and its
	 * SYN wait, then 127 reports of 2 events fill the queue; report 128
	 * drops reports 1..4, the ones after it.
	 */
	it_up(&t, KR_VINPUT_TABLET, true);
	kr_virtio_input_pointer(t.v, 0, 5, 32768, 32768, 0);
	post(&t, 1);
	EV(&t, EV_ABS, ABS_X, 0);
	for (int i = 1; i <= 128; i++)
		kr_virtio_input_pointer(t.v, i, 5, 32768, 32768, 0);
	kr_virtio_input_get_stats(t.v, &st);
	CHECK_EQ(st.dropped, 4);
	n = drain(&t, ty, co, va, CAP);
	CHECK_EQ(n, KR_VINPUT_QUEUE);
	CHECK(ty[0] == EV_ABS && co[0] == ABS_Y && va[0] == 5);
	CHECK(ty[1] == EV_SYN && co[1] == SYN_REPORT);
	bad = 0;
	for (unsigned int i = 0; i < 123 && n == KR_VINPUT_QUEUE; i++)
		bad += ty[2 + 2 * i] != EV_ABS || co[2 + 2 * i] != ABS_X ||
		       va[2 + 2 * i] != (int32_t)(5 + i) || ty[3 + 2 * i] != EV_SYN;
	CHECK_EQ(bad, 0);
	CHECK(n == KR_VINPUT_QUEUE && full_report(ty + 248, co + 248, va + 248, 128, 5));
	it_down(&t);

	/* The keyboard drops the oldest keys: 130 reports, 2 go. */
	it_up(&t, KR_VINPUT_KEYBOARD, true);
	for (int i = 0; i < 130; i++)
		kr_virtio_input_key(t.v, KEY_ESC + i, true);
	n = drain(&t, ty, co, va, CAP);
	CHECK_EQ(n, KR_VINPUT_QUEUE);
	bad = 0;
	for (unsigned int i = 0; i < 128 && n == KR_VINPUT_QUEUE; i++)
		bad += ty[2 * i] != EV_KEY || co[2 * i] != KEY_ESC + 2 + i || va[2 * i] != 1 ||
		       ty[2 * i + 1] != EV_SYN;
	CHECK_EQ(bad, 0);
	kr_virtio_input_get_stats(t.v, &st);
	CHECK_EQ(st.dropped, 2);
	it_down(&t);
}

KR_TEST(vinput_reset_drops_queue)
{
	struct it t;
	uint8_t u[128];

	it_up(&t, KR_VINPUT_TABLET, true);
	kr_virtio_input_pointer(t.v, 50, 50, 100, 100, 1);
	cfg_select(&t, KR_VINPUT_CFG_ID_NAME, 0, NULL);
	/* Device reset (status 0, which vd_negotiate writes first). */
	it_driver(&t);
	CHECK_EQ(tm_read(&t.m.mmio, t.d.device + KR_VINPUT_CFG_SELECT, 1), 0);
	CHECK_EQ(tm_read(&t.m.mmio, t.d.device + KR_VINPUT_CFG_SIZE, 1), 0);
	post(&t, 8);
	CHECK(no_event(&t));
	/* The pointer state went too: the same spot is news again, button up. */
	kr_virtio_input_pointer(t.v, 50, 50, 100, 100, 0);
	EV(&t, EV_ABS, ABS_X, 16548);		/* 50 * 32767 / 99 */
	EV(&t, EV_ABS, ABS_Y, 16548);
	SYN(&t);
	CHECK(no_event(&t));
	/* Events that arrive between the reset and DRIVER_OK wait for the driver. */
	vd_negotiate(&t.d, 1ull << KR_VIRTIO_F_VERSION_1);
	kr_virtio_input_pointer(t.v, 50, 50, 100, 100, 4);
	vd_msix_enable(&t.d);
	vd_setup_queue(&t.d, KR_VINPUT_EVENTQ, NBUF, RING0, VEC_EV);
	vd_setup_queue(&t.d, KR_VINPUT_STATUSQ, 8, RING1, VEC_ST);
	t.next = 0;
	post(&t, 4);		/* kicked before DRIVER_OK: in vain */
	CHECK(no_event(&t));
	vd_driver_ok(&t.d);	/* the device looks then */
	EV(&t, EV_ABS, ABS_X, 16548);
	EV(&t, EV_ABS, ABS_Y, 16548);
	EV(&t, EV_KEY, BTN_RIGHT, 1);
	SYN(&t);
	/* Machine reset: the same, and the function must be found again. */
	kr_virtio_input_pointer(t.v, 60, 50, 100, 100, 4);
	kr_virtio_input_pointer(t.v, 70, 50, 100, 100, 4);
	kr_pci_reset(t.m.pci);
	if (vd_probe(&t.d, &t.m, SLOT, BARADDR))
		abort();
	it_driver(&t);
	post(&t, 8);
	CHECK(no_event(&t));
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_ID_NAME, 0, u), 21);
	it_down(&t);
}

/* Put an 8-byte status event at STBUF + 8 i, as descriptor i. */
static void status_put(struct it *t, uint16_t i, uint16_t type, uint16_t code, uint32_t value)
{
	uint8_t *p = tm_ram(&t->m, STBUF + 8 * i, 8);

	kr_put_le(p, 2, type);
	kr_put_le(p + 2, 2, code);
	kr_put_le(p + 4, 4, value);
	vd_desc(&t->d, KR_VINPUT_STATUSQ, i, STBUF + 8 * i, 8, 0, 0);
}

static bool status_used(struct it *t, uint32_t want_id)
{
	uint32_t id = ~0u, len = ~0u;

	return vd_used(&t->d, KR_VINPUT_STATUSQ, &id, &len) && id == want_id && len == 0;
}

KR_TEST(vinput_statusq_leds)
{
	struct it t;

	it_up(&t, KR_VINPUT_KEYBOARD, true);
	CHECK_EQ(kr_virtio_input_leds(t.v), 0);
	/* Caps lock on: recorded, the buffer back (len 0), an interrupt. */
	status_put(&t, 0, EV_LED, LED_CAPSL, 1);
	vd_avail(&t.d, KR_VINPUT_STATUSQ, 0);
	vd_kick(&t.d, KR_VINPUT_STATUSQ);
	CHECK_EQ(kr_virtio_input_leds(t.v), 1u << LED_CAPSL);
	CHECK(status_used(&t, 0));
	CHECK_EQ(msis(&t, VEC_ST), 1);
	CHECK_EQ(msis(&t, VEC_EV), 0);
	/* Two in one kick: num lock on, a repeat setting (consumed, ignored). */
	status_put(&t, 1, EV_LED, LED_NUML, 1);
	status_put(&t, 2, EV_REP, REP_DELAY, 250);
	vd_avail(&t.d, KR_VINPUT_STATUSQ, 1);
	vd_avail(&t.d, KR_VINPUT_STATUSQ, 2);
	vd_kick(&t.d, KR_VINPUT_STATUSQ);
	CHECK_EQ(kr_virtio_input_leds(t.v), 1u << LED_CAPSL | 1u << LED_NUML);
	CHECK(status_used(&t, 1));
	CHECK(status_used(&t, 2));
	/* An event split over two buffers: caps lock off. */
	{
		uint8_t *p = tm_ram(&t.m, STBUF + 0x100, 16);

		memcpy(p, (uint8_t[]){ EV_LED, 0, LED_CAPSL, 0 }, 4);
		memcpy(p + 8, (uint8_t[]){ 0, 0, 0, 0 }, 4);
		vd_desc(&t.d, KR_VINPUT_STATUSQ, 3, STBUF + 0x100, 4, KR_VQ_DESC_F_NEXT, 4);
		vd_desc(&t.d, KR_VINPUT_STATUSQ, 4, STBUF + 0x108, 4, 0, 0);
	}
	vd_avail(&t.d, KR_VINPUT_STATUSQ, 3);
	vd_kick(&t.d, KR_VINPUT_STATUSQ);
	CHECK_EQ(kr_virtio_input_leds(t.v), 1u << LED_NUML);
	CHECK(status_used(&t, 3));
	/* A buffer shorter than an event: given back, nothing changes. */
	status_put(&t, 5, EV_LED, LED_SCROLLL, 1);
	vd_desc(&t.d, KR_VINPUT_STATUSQ, 5, STBUF + 8 * 5, 6, 0, 0);
	vd_avail(&t.d, KR_VINPUT_STATUSQ, 5);
	vd_kick(&t.d, KR_VINPUT_STATUSQ);
	CHECK(status_used(&t, 5));
	CHECK_EQ(kr_virtio_input_leds(t.v), 1u << LED_NUML);
	status_put(&t, 6, EV_LED, LED_SCROLLL, 1);
	vd_avail(&t.d, KR_VINPUT_STATUSQ, 6);
	vd_kick(&t.d, KR_VINPUT_STATUSQ);
	CHECK(status_used(&t, 6));
	CHECK_EQ(kr_virtio_input_leds(t.v), 1u << LED_NUML | 1u << LED_SCROLLL);
	CHECK_EQ(msis(&t, VEC_ST), 5);
	/* Nothing reached the eventq. */
	post(&t, 4);
	CHECK(no_event(&t));
	/* A reset forgets the LEDs. */
	it_driver(&t);
	CHECK_EQ(kr_virtio_input_leds(t.v), 0);
	it_down(&t);
}

KR_TEST(vinput_keyboard_keys)
{
	struct it t;

	it_up(&t, KR_VINPUT_KEYBOARD, true);
	post(&t, 16);
	kr_virtio_input_key(t.v, KEY_LEFTSHIFT, true);
	kr_virtio_input_key(t.v, KEY_A, true);
	kr_virtio_input_key(t.v, KEY_A, false);
	kr_virtio_input_key(t.v, KEY_LEFTSHIFT, false);
	EV(&t, EV_KEY, KEY_LEFTSHIFT, 1);
	SYN(&t);
	EV(&t, EV_KEY, KEY_A, 1);
	SYN(&t);
	EV(&t, EV_KEY, KEY_A, 0);
	SYN(&t);
	EV(&t, EV_KEY, KEY_LEFTSHIFT, 0);
	SYN(&t);
	CHECK_EQ(msis(&t, VEC_EV), 4);
	/* The ends of the range; nothing outside it. */
	kr_virtio_input_key(t.v, KEY_ESC, true);
	kr_virtio_input_key(t.v, KEY_MICMUTE, true);
	EV(&t, EV_KEY, KEY_ESC, 1);
	SYN(&t);
	EV(&t, EV_KEY, KEY_MICMUTE, 1);
	SYN(&t);
	kr_virtio_input_key(t.v, KEY_RESERVED, true);
	kr_virtio_input_key(t.v, KEY_MICMUTE + 1, true);
	kr_virtio_input_key(t.v, BTN_LEFT, true);
	kr_virtio_input_key(t.v, 0x10000 + KEY_A, true);
	/* A tablet call to a keyboard is nothing. */
	kr_virtio_input_pointer(t.v, 1, 1, 10, 10, 1);
	CHECK(no_event(&t));
	it_down(&t);
}

KR_TEST(vinput_intx)
{
	struct it t;
	unsigned int gsi = kr_pci_intx_gsi(SLOT, 0);

	it_up(&t, KR_VINPUT_TABLET, false);
	post(&t, 8);
	CHECK_EQ(t.m.level[gsi], 0);
	kr_virtio_input_pointer(t.v, 0, 0, 10, 10, 0);
	CHECK_EQ(t.m.level[gsi], 1);
	CHECK_EQ(tm_read(&t.m.mmio, t.d.isr, 1), 1);	/* a queue interrupt; read clears */
	CHECK_EQ(t.m.level[gsi], 0);
	CHECK_EQ(t.m.n_msi, 0);
	EV(&t, EV_ABS, ABS_X, 0);
	EV(&t, EV_ABS, ABS_Y, 0);
	SYN(&t);
	it_down(&t);
}

/* The VNC thread: 3000 moves, X 1, 2, 3 ..., the left button on every other. */
static void *mover(void *opaque)
{
	struct kr_virtio_input *v = opaque;

	for (int i = 1; i <= 3000; i++)
		kr_virtio_input_pointer(v, i, 7, 32768, 32768, i & 1);
	return NULL;
}

/*
 * Input from another thread while the driver takes events and posts
 * buffers (INTx: the fake machine's MSI log is not for two threads).
 * Whatever is dropped, every report that arrives is whole and in order.
 */
KR_TEST(vinput_threads)
{
	struct it t;
	pthread_t th;
	struct kr_virtio_input_stats st;
	unsigned int events = 0, reports = 0, bad = 0, in_report = 0, idle = 0;
	int32_t last_x = -1;

	it_up(&t, KR_VINPUT_TABLET, false);
	post(&t, NBUF);
	if (pthread_create(&th, NULL, mover, t.v))
		abort();
	for (time_t end = time(NULL) + 30; time(NULL) < end;) {
		uint16_t ty, co;
		int32_t va;
		unsigned int got = 0;

		while (next_event(&t, &ty, &co, &va)) {
			got++;
			events++;
			in_report++;
			if (ty == EV_SYN) {
				bad += co != SYN_REPORT || in_report < 2;
				reports++;
				in_report = 0;
			} else if (ty == EV_ABS && co == ABS_X) {
				bad += va <= last_x;
				last_x = va;
			}
		}
		if (got)
			post(&t, got);
		kr_virtio_input_get_stats(t.v, &st);
		if (st.reports == 3000 && st.events == events && !got && ++idle > 2)
			break;
	}
	pthread_join(th, NULL);
	CHECK_EQ(bad, 0);
	CHECK_EQ(in_report, 0);
	CHECK_EQ(last_x, 3000);
	CHECK_EQ(reports, 3000 - st.dropped);
	it_down(&t);
}

/* ---- snapshots ---------------------------------------------------------- */

/* The restoring side: t's RAM copied, a new device of this kind, its PCI side as t's. */
static void it_clone(struct it *t2, struct it *t, enum kr_vinput_kind kind)
{
	memset(t2, 0, sizeof(*t2));
	tm_init(&t2->m);
	tm_copy_ram(&t2->m, &t->m);
	t2->msix = t->msix;
	t2->next = t->next;
	t2->v = kr_virtio_input_create(t2->m.pci, SLOT, &t2->m.mem, kind);
	if (!t2->v || vd_restore(&t2->d, &t2->m, &t->d, t->msix))
		abort();
}

static int in_load(struct it *t, const struct kr_sbuf *b, struct kr_sget *g)
{
	kr_sget_init(g, b->p, b->len, "virtio-tablet");
	return kr_virtio_input_load(t->v, g);
}

/* A report half delivered and one waiting whole: the rest goes out once, in order. */
KR_TEST(vinput_snapshot_round_trip)
{
	struct it t, t2;
	struct kr_sbuf b = { 0 };
	struct kr_sget g;

	it_up(&t, KR_VINPUT_TABLET, true);
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_ID_NAME, 0, NULL), 21);
	kr_virtio_input_pointer(t.v, 10, 20, 100, 100, 0);
	kr_virtio_input_pointer(t.v, 10, 20, 100, 100, 1);
	post(&t, 2);
	EV(&t, EV_ABS, ABS_X, 3309);
	EV(&t, EV_ABS, ABS_Y, 6619);
	CHECK_EQ(kr_virtio_input_save(t.v, &b), 0);

	it_clone(&t2, &t, KR_VINPUT_TABLET);
	CHECK_EQ(in_load(&t2, &b, &g), 0);
	/* The selection the driver made, answered without being written again. */
	CHECK_EQ(tm_read(&t2.m.mmio, t2.d.device + KR_VINPUT_CFG_SIZE, 1), 21);
	/* "khv-" */
	CHECK_EQ(tm_read(&t2.m.mmio, t2.d.device + KR_VINPUT_CFG_U, 4), 0x2d76686b);
	kr_virtio_pci_kick_all(kr_virtio_input_transport(t2.v));
	CHECK(no_event(&t2));
	post(&t2, 5);
	SYN(&t2);
	EV(&t2, EV_KEY, BTN_LEFT, 1);
	SYN(&t2);
	CHECK(no_event(&t2));
	/* The pointer state came along: the same place and buttons are no news. */
	kr_virtio_input_pointer(t2.v, 10, 20, 100, 100, 1);
	CHECK(no_event(&t2));
	kr_virtio_input_pointer(t2.v, 30, 20, 100, 100, 1);
	EV(&t2, EV_ABS, ABS_X, 9929);
	SYN(&t2);

	/* The original, from where it was. */
	post(&t, 4);
	SYN(&t);
	EV(&t, EV_KEY, BTN_LEFT, 1);
	SYN(&t);
	CHECK(no_event(&t));
	kr_sbuf_free(&b);
	it_down(&t2);
	it_down(&t);
}

KR_TEST(vinput_snapshot_keyboard)
{
	struct it t, t2;
	struct kr_sbuf b = { 0 };
	struct kr_sget g;

	it_up(&t, KR_VINPUT_KEYBOARD, false);
	status_put(&t, 0, EV_LED, LED_CAPSL, 1);
	vd_avail(&t.d, KR_VINPUT_STATUSQ, 0);
	vd_kick(&t.d, KR_VINPUT_STATUSQ);
	CHECK(status_used(&t, 0));
	kr_virtio_input_key(t.v, KEY_A, true);
	CHECK_EQ(kr_virtio_input_save(t.v, &b), 0);
	it_clone(&t2, &t, KR_VINPUT_KEYBOARD);
	CHECK_EQ(in_load(&t2, &b, &g), 0);
	CHECK_EQ(kr_virtio_input_leds(t2.v), 1u << LED_CAPSL);
	CHECK_EQ(t2.m.irq_calls, 0);
	post(&t2, 4);
	EV(&t2, EV_KEY, KEY_A, 1);
	SYN(&t2);
	CHECK(no_event(&t2));
	it_down(&t2);

	/* A keyboard's state is no tablet's. */
	it_clone(&t2, &t, KR_VINPUT_TABLET);
	CHECK_EQ(in_load(&t2, &b, &g), -EPROTO);
	CHECK_STR(g.why, "virtio-tablet: the snapshot's device is a keyboard, this one a tablet");
	kr_sbuf_free(&b);
	it_down(&t2);
	it_down(&t);
}

static void in_refused(struct it *t, const struct kr_sbuf *b, const char *why)
{
	struct kr_sget g;

	CHECK_EQ(in_load(t, b, &g), -EPROTO);
	if (!strstr(g.why, why)) {
		printf("#   refused with \"%s\", want \"%s\"\n", g.why, why);
		CHECK(0);
	}
}

/* Offsets in the tablet's state: version, kind, select, subsel, count, sent, events. */
#define S_COUNT		7
#define S_SENT		9
#define S_EV(i)		(10 + 8 * (i))

KR_TEST(vinput_snapshot_refused)
{
	struct it t, t2;
	struct kr_sbuf good = { 0 }, b = { 0 };
	struct kr_sget g;

	it_up(&t, KR_VINPUT_TABLET, true);
	kr_virtio_input_pointer(t.v, 10, 20, 100, 100, 0);	/* X, Y, SYN waiting */
	CHECK_EQ(kr_virtio_input_save(t.v, &good), 0);
	CHECK_EQ(kr_get_le(good.p + S_COUNT, 2), 3);
	it_clone(&t2, &t, KR_VINPUT_TABLET);
	for (size_t n = 0; n < good.len; n++) {
		struct kr_sbuf cut = { .p = good.p, .len = n };

		in_refused(&t2, &cut, "virtio-tablet: truncated state");
	}
#define PATCH(off, n, v)						\
	do {								\
		kr_sbuf_free(&b);					\
		kr_sbuf_bytes(&b, good.p, good.len);			\
		kr_put_le(b.p + (off), (n), (v));			\
	} while (0)
	PATCH(S_COUNT, 2, 300);
	in_refused(&t2, &b, "300 events waiting, at most 256");
	PATCH(S_EV(0), 2, EV_LED);
	in_refused(&t2, &b, "event 0 (type 17, code 0, value 3309) is not a tablet's");
	PATCH(S_EV(1) + 4, 4, 40000);
	in_refused(&t2, &b, "event 1 (type 3, code 1, value 40000)");
	PATCH(S_EV(2), 2, EV_ABS);			/* SYN_REPORT's code is ABS_X's */
	in_refused(&t2, &b, "the last report does not end in SYN_REPORT");
	PATCH(S_SENT, 1, 8);
	in_refused(&t2, &b, "a report longer than 10 events");
	PATCH(S_EV(3) + 1, 4, 40000);			/* have_pos, then x */
	in_refused(&t2, &b, "pointer at 40000,6619, outside 0..32767");
	PATCH(S_EV(3) + 9, 4, 1u << 9);			/* buttons */
	in_refused(&t2, &b, "buttons 0x200");
	PATCH(S_EV(3) + 13, 4, 1u << 20);		/* LEDs */
	in_refused(&t2, &b, "LEDs 0x100000");
	PATCH(S_EV(3), 1, 2);
	in_refused(&t2, &b, "a flag reads 2");
#undef PATCH
	/* Refused loads changed nothing: the good one still goes, and delivers. */
	kr_sget_init(&g, good.p, good.len, "virtio-tablet");
	CHECK_EQ(kr_virtio_input_load(t2.v, &g), 0);
	kr_virtio_pci_kick_all(kr_virtio_input_transport(t2.v));
	post(&t2, 3);
	EV(&t2, EV_ABS, ABS_X, 3309);
	EV(&t2, EV_ABS, ABS_Y, 6619);
	SYN(&t2);
	kr_sbuf_free(&b);
	kr_sbuf_free(&good);
	it_down(&t2);
	it_down(&t);
}
