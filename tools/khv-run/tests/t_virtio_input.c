// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio input device (virtio_input.c) through the guest-visible
 * interface, as Linux's virtio_input uses it: the configuration queries
 * at probe, 8-byte buffers on eventq filled with reports that end in
 * SYN_REPORT, LED events on statusq, reports that wait for buffers and,
 * when too many wait, are dropped whole.
 */
#include <linux/input-event-codes.h>
#include <string.h>

#include "t.h"
#include "vdrv.h"
#include "../virtio_input.h"

#define SLOT		9
#define BARADDR		0xc8000000ull
#define RING0		0x10000ull
#define RING1		0x20000ull
#define BUFS		0x100000ull	/* event buffer i at BUFS + 8 i */
#define NBUF		32

struct it {
	struct tmach m;
	struct kr_virtio_input *v;
	struct vdrv d;
	uint16_t next;			/* the next buffer index to post */
};

static void it_up(struct it *t, enum kr_vinput_kind kind)
{
	memset(t, 0, sizeof(*t));
	tm_init(&t->m);
	t->v = kr_virtio_input_create(t->m.pci, SLOT, &t->m.mem, kind);
	if (!t->v || vd_probe(&t->d, &t->m, SLOT, BARADDR))
		memset(&t->d, 0, sizeof(t->d));
	vd_negotiate(&t->d, 1ull << KR_VIRTIO_F_VERSION_1);
	vd_setup_queue(&t->d, 0, NBUF, RING0, KR_VIRTIO_NO_VECTOR);
	vd_setup_queue(&t->d, 1, 8, RING1, KR_VIRTIO_NO_VECTOR);
	vd_driver_ok(&t->d);
}

static void it_down(struct it *t)
{
	tm_fini(&t->m);
	kr_virtio_input_destroy(t->v);
}

/* Post n 8-byte buffers on eventq (descriptor = buffer index). */
static void post(struct it *t, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++, t->next++) {
		uint16_t b = t->next % NBUF;

		memset(tm_ram(&t->m, BUFS + 8 * b, 8), 0xcc, 8);
		vd_desc(&t->d, 0, b, BUFS + 8 * b, 8, KR_VQ_DESC_F_WRITE, 0);
		vd_avail(&t->d, 0, b);
	}
	vd_kick(&t->d, 0);
}

/* The next used event: false when none. */
static bool next_event(struct it *t, uint16_t *type, uint16_t *code, int32_t *value)
{
	uint32_t id, len;
	const uint8_t *p;

	if (!vd_used(&t->d, 0, &id, &len) || len != 8 || id >= NBUF)
		return false;
	p = tm_ram(&t->m, BUFS + 8 * id, 8);
	*type = p[0] | p[1] << 8;
	*code = p[2] | p[3] << 8;
	*value = (int32_t)(p[4] | p[5] << 8 | p[6] << 16 | (uint32_t)p[7] << 24);
	return true;
}

static bool expect_event(struct it *t, uint16_t type, uint16_t code, int32_t value)
{
	uint16_t ty = 0xffff, co = 0xffff;
	int32_t va = -1;

	if (next_event(t, &ty, &co, &va) && ty == type && co == code && va == value)
		return true;
	printf("#   event %u %u %d, want %u %u %d\n", ty, co, va, type, code, value);
	return false;
}

#define EV(t, ty, co, va)	CHECK(expect_event((t), (ty), (co), (va)))
#define SYN(t)			EV((t), EV_SYN, SYN_REPORT, 0)

/* select/subsel written, size and the first bytes of the answer read. */
static unsigned int cfg_select(struct it *t, uint8_t sel, uint8_t sub, uint8_t *u)
{
	tm_write(&t->m.mmio, t->d.device + 0, 1, sel);
	tm_write(&t->m.mmio, t->d.device + 1, 1, sub);
	for (unsigned int i = 0; u && i < 128; i++)
		u[i] = tm_read(&t->m.mmio, t->d.device + 8 + i, 1);
	return tm_read(&t->m.mmio, t->d.device + 2, 1);
}

static bool bit(const uint8_t *map, unsigned int b)
{
	return map[b / 8] & (1u << (b % 8));
}

KR_TEST(vinput_tablet_config)
{
	struct it t;
	uint8_t u[128];
	unsigned int size;

	it_up(&t, KR_VINPUT_TABLET);
	CHECK(t.v != NULL);
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, 0, 4), (0x1040u + 18) << 16 | 0x1af4);
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, KR_PCI_REVISION, 4) >> 8, 0x098000);
	CHECK_EQ(vd_common_read(&t.d, KR_VIRTIO_COMMON_NUMQ, 2), 2);
	CHECK_EQ(t.d.device_len, KR_VINPUT_CFG_LEN);
	size = cfg_select(&t, KR_VINPUT_CFG_ID_NAME, 0, u);
	CHECK_EQ(size, strlen("khv-run Virtio Tablet"));
	CHECK(!memcmp(u, "khv-run Virtio Tablet", size));
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_ID_DEVIDS, 0, u), 8);
	CHECK_EQ(u[0] | u[1] << 8, 0x06);			/* BUS_VIRTUAL */
	CHECK_EQ(u[4] | u[5] << 8, 2);
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_PROP_BITS, 0, u), 0);
	CHECK(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_KEY, u) > 0);
	CHECK(bit(u, BTN_LEFT) && bit(u, BTN_RIGHT) && bit(u, BTN_MIDDLE) && !bit(u, KEY_A));
	CHECK(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_REL, u) > 0);
	CHECK(bit(u, REL_WHEEL) && bit(u, REL_HWHEEL) && !bit(u, REL_X));
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_ABS, u), 1);
	CHECK_EQ(u[0], 0x03);					/* ABS_X, ABS_Y */
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_LED, u), 0);
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_REP, u), 0);
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_ABS_INFO, ABS_Y, u), 20);
	CHECK_EQ(u[0] | u[1] << 8 | u[2] << 16 | u[3] << 24, 0);
	CHECK_EQ(u[4] | u[5] << 8 | u[6] << 16 | u[7] << 24, KR_VINPUT_ABS_MAX);
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_ABS_INFO, ABS_Z, u), 0);
	CHECK_EQ(cfg_select(&t, 0x77, 0, u), 0);
	/* The size byte and the answer are the device's: writes do nothing. */
	cfg_select(&t, KR_VINPUT_CFG_ID_NAME, 0, NULL);
	tm_write(&t.m.mmio, t.d.device + 2, 1, 0);
	tm_write(&t.m.mmio, t.d.device + 8, 1, 'X');
	CHECK_EQ(tm_read(&t.m.mmio, t.d.device + 2, 1), strlen("khv-run Virtio Tablet"));
	CHECK_EQ(tm_read(&t.m.mmio, t.d.device + 8, 1), 'k');
	it_down(&t);
}

KR_TEST(vinput_tablet_events)
{
	struct it t;

	it_up(&t, KR_VINPUT_TABLET);
	post(&t, 16);
	/* A move: X and Y, scaled (the last pixel is the maximum), then SYN. */
	kr_virtio_input_pointer(t.v, 0, 799, 1024, 800, 0);
	EV(&t, EV_ABS, ABS_X, 0);
	EV(&t, EV_ABS, ABS_Y, KR_VINPUT_ABS_MAX);
	SYN(&t);
	/* A click where it is: only the button, pressed then released. */
	kr_virtio_input_pointer(t.v, 0, 799, 1024, 800, 1);
	EV(&t, EV_KEY, BTN_LEFT, 1);
	SYN(&t);
	kr_virtio_input_pointer(t.v, 511, 799, 1024, 800, 4);
	EV(&t, EV_ABS, ABS_X, 511 * KR_VINPUT_ABS_MAX / 1023);
	EV(&t, EV_KEY, BTN_LEFT, 0);
	EV(&t, EV_KEY, BTN_RIGHT, 1);
	SYN(&t);
	/* Wheel up, then down: a notch each, at the press. */
	kr_virtio_input_pointer(t.v, 511, 799, 1024, 800, 8);
	EV(&t, EV_KEY, BTN_RIGHT, 0);
	EV(&t, EV_REL, REL_WHEEL, 1);
	SYN(&t);
	kr_virtio_input_pointer(t.v, 511, 799, 1024, 800, 16);
	EV(&t, EV_REL, REL_WHEEL, -1);
	SYN(&t);
	kr_virtio_input_pointer(t.v, 511, 799, 1024, 800, 0);
	CHECK(!vd_used(&t.d, 0, &(uint32_t){ 0 }, &(uint32_t){ 0 }));	/* nothing changed */
	/* Out of range coordinates are clamped. */
	kr_virtio_input_pointer(t.v, -5, 5000, 1024, 800, 0);
	EV(&t, EV_ABS, ABS_X, 0);
	SYN(&t);
	/* A keyboard call to a tablet is nothing. */
	kr_virtio_input_key(t.v, KEY_A, true);
	CHECK(!vd_used(&t.d, 0, &(uint32_t){ 0 }, &(uint32_t){ 0 }));
	it_down(&t);
}

KR_TEST(vinput_reports_wait_and_drop_whole)
{
	struct it t;
	uint16_t ty, co;
	int32_t va;
	unsigned int n = 0, syns = 0;

	it_up(&t, KR_VINPUT_TABLET);
	/* No buffers: reports wait; posted buffers take them in order. */
	kr_virtio_input_pointer(t.v, 10, 20, 100, 100, 0);
	CHECK(!vd_used(&t.d, 0, &(uint32_t){ 0 }, &(uint32_t){ 0 }));
	post(&t, 2);
	EV(&t, EV_ABS, ABS_X, 10 * KR_VINPUT_ABS_MAX / 99);
	EV(&t, EV_ABS, ABS_Y, 20 * KR_VINPUT_ABS_MAX / 99);
	post(&t, 1);
	SYN(&t);
	/*
	 * 200 moves of X only: 2 events each.  The queue holds 256: the
	 * oldest whole reports go, and what is read is whole reports.
	 */
	for (int i = 0; i < 200; i++)
		kr_virtio_input_pointer(t.v, i % 2 ? 30 : 40, 20, 100, 100, 0);
	for (int round = 0; round < 20; round++) {
		post(&t, NBUF - 2);
		while (next_event(&t, &ty, &co, &va)) {
			n++;
			if (ty == EV_SYN) {
				syns++;
				CHECK(n % 2 == 0);	/* every X had its SYN */
			} else {
				CHECK(ty == EV_ABS && co == ABS_X);
			}
		}
	}
	CHECK_EQ(n, 256);
	CHECK_EQ(syns, 128);
	/* A device reset drops what waits. */
	kr_virtio_input_pointer(t.v, 50, 50, 100, 100, 0);
	vd_negotiate(&t.d, 1ull << KR_VIRTIO_F_VERSION_1);	/* resets first */
	vd_setup_queue(&t.d, 0, NBUF, RING0, KR_VIRTIO_NO_VECTOR);
	vd_setup_queue(&t.d, 1, 8, RING1, KR_VIRTIO_NO_VECTOR);
	vd_driver_ok(&t.d);
	memset(t.d.q, 0, sizeof(t.d.q[0]));
	vd_setup_queue(&t.d, 0, NBUF, RING0, KR_VIRTIO_NO_VECTOR);
	t.next = 0;
	post(&t, 4);
	CHECK(!vd_used(&t.d, 0, &(uint32_t){ 0 }, &(uint32_t){ 0 }));
	it_down(&t);
}

KR_TEST(vinput_keyboard)
{
	struct it t;
	uint8_t u[128], *led;
	uint32_t id, len;

	it_up(&t, KR_VINPUT_KEYBOARD);
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, KR_PCI_REVISION, 4) >> 8, 0x090000);
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_KEY, u), 32);
	CHECK(bit(u, KEY_A) && bit(u, KEY_ESC) && bit(u, KEY_F12) && !bit(u, 0));
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_LED, u), 1);
	CHECK_EQ(u[0], 0x07);
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_REP, u), 1);
	CHECK_EQ(cfg_select(&t, KR_VINPUT_CFG_EV_BITS, EV_ABS, u), 0);
	post(&t, 8);
	kr_virtio_input_key(t.v, KEY_A, true);
	kr_virtio_input_key(t.v, KEY_A, false);
	EV(&t, EV_KEY, KEY_A, 1);
	SYN(&t);
	EV(&t, EV_KEY, KEY_A, 0);
	SYN(&t);
	kr_virtio_input_pointer(t.v, 1, 1, 10, 10, 1);	/* a tablet call: nothing */
	kr_virtio_input_key(t.v, 0, true);
	CHECK(!vd_used(&t.d, 0, &(uint32_t){ 0 }, &(uint32_t){ 0 }));
	/* statusq: caps lock on, then off; each buffer comes back. */
	led = tm_ram(&t.m, 0x180000, 16);
	memcpy(led, (uint8_t[]){ EV_LED, 0, LED_CAPSL, 0, 1, 0, 0, 0 }, 8);
	memcpy(led + 8, (uint8_t[]){ EV_LED, 0, LED_CAPSL, 0, 0, 0, 0, 0 }, 8);
	vd_desc(&t.d, 1, 0, 0x180000, 8, 0, 0);
	vd_avail(&t.d, 1, 0);
	vd_kick(&t.d, 1);
	CHECK_EQ(kr_virtio_input_leds(t.v), 1u << LED_CAPSL);
	CHECK(vd_used(&t.d, 1, &id, &len) && id == 0 && len == 0);
	vd_desc(&t.d, 1, 1, 0x180008, 8, 0, 0);
	vd_avail(&t.d, 1, 1);
	vd_kick(&t.d, 1);
	CHECK_EQ(kr_virtio_input_leds(t.v), 0);
	CHECK(vd_used(&t.d, 1, &id, &len) && id == 1);
	it_down(&t);
}
