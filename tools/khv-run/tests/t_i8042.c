// SPDX-License-Identifier: GPL-2.0
/*
 * The i8042 (i8042.c): what Linux's i8042 driver does at probe, the
 * keyboard interrupt, the CPU reset paths, hostile command streams.
 */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../i8042.h"
#include "../machine.h"
#include "t.h"

#define DATA	KR_PORT_I8042_DATA
#define CMD	KR_PORT_I8042_CMD
#define STR_OBF	0x01
#define STR_AUX	0x20

struct kbc {
	struct kr_bus bus;
	struct kr_i8042 *k;
	int level, rises, sets, resets;
};

static void kbc_irq(void *opaque, unsigned int gsi, int level)
{
	struct kbc *c = opaque;

	CHECK_EQ(gsi, KR_GSI_I8042);
	c->rises += level && !c->level;
	c->level = level;
	c->sets++;
}

static void kbc_reset(void *opaque)
{
	((struct kbc *)opaque)->resets++;
}

static void kbc_init(struct kbc *c)
{
	struct kr_irq irq = { kbc_irq, c, KR_GSI_I8042 };

	memset(c, 0, sizeof(*c));
	kr_bus_init(&c->bus, "pio");
	c->k = kr_i8042_create(&irq, kbc_reset, c);
	CHECK(c->k != NULL);
	CHECK_EQ(kr_i8042_attach(c->k, &c->bus), 0);
}

static void kbc_fini(struct kbc *c)
{
	kr_i8042_destroy(c->k);
	kr_bus_free(&c->bus);
}

static uint8_t in8(struct kbc *c, uint16_t port)
{
	uint8_t v;

	kr_bus_access(&c->bus, port, &v, 1, false);
	return v;
}

static void out8(struct kbc *c, uint16_t port, uint8_t v)
{
	kr_bus_access(&c->bus, port, &v, 1, true);
}

/* As i8042_command(): write the command (and its parameter), read the reply. */
static int command(struct kbc *c, uint8_t cmd, int param)
{
	out8(c, CMD, cmd);
	if (param >= 0)
		out8(c, DATA, param);
	if (!(in8(c, CMD) & STR_OBF))
		return -1;
	return in8(c, DATA);
}

KR_TEST(i8042_linux_probe)
{
	struct kbc c;
	uint8_t ctr;

	kbc_init(&c);
	/* i8042_flush(): nothing waiting. */
	CHECK_EQ(in8(&c, CMD) & (STR_OBF | 0x02), 0);
	CHECK_EQ(in8(&c, CMD) & 0x10, 0x10);	/* no keylock */
	CHECK_EQ(command(&c, 0xaa, -1), 0x55);
	CHECK_EQ(in8(&c, CMD) & STR_OBF, 0);
	/* Two reads of the command byte agree; SYS mirrors into the status. */
	ctr = command(&c, 0x20, -1);
	CHECK_EQ(command(&c, 0x20, -1), ctr);
	CHECK(ctr & 0x04);
	CHECK(in8(&c, CMD) & 0x04);
	/* Keyboard disabled and its interrupt off, written back. */
	out8(&c, CMD, 0x60);
	out8(&c, DATA, (ctr | 0x10) & ~0x01);
	CHECK_EQ(command(&c, 0x20, -1), (ctr | 0x10) & ~0x01);
	/* AUX loop (and the multiplexer probe) echoes; the mux's third reply differs. */
	CHECK_EQ(command(&c, 0xd3, 0x5a), 0x5a);
	out8(&c, CMD, 0xd3);
	out8(&c, DATA, 0xa5);
	CHECK_EQ(in8(&c, CMD) & (STR_OBF | STR_AUX), STR_OBF | STR_AUX);
	CHECK_EQ(in8(&c, DATA), 0xa5);
	CHECK_EQ(in8(&c, CMD) & (STR_OBF | STR_AUX), 0);
	/* AUX disable/enable shows in the command byte. */
	out8(&c, CMD, 0xa7);
	CHECK(command(&c, 0x20, -1) & 0x20);
	out8(&c, CMD, 0xa8);
	CHECK(!(command(&c, 0x20, -1) & 0x20));
	CHECK_EQ(command(&c, 0xa9, -1), 0x00);
	CHECK_EQ(command(&c, 0xab, -1), 0x00);
	out8(&c, CMD, 0xae);
	CHECK(!(command(&c, 0x20, -1) & 0x10));
	out8(&c, CMD, 0xad);
	CHECK(command(&c, 0x20, -1) & 0x10);
	/*
	 * The keyboard answers atkbd's probe: GETID is ACK and the MF II ID,
	 * AB 83, which the controller's translation (on, as firmware left
	 * it) turns into AB 41; SETLEDS is two ACKs.
	 */
	out8(&c, CMD, 0xae);
	out8(&c, DATA, 0xf2);
	CHECK_EQ(in8(&c, CMD) & (STR_OBF | 0x08), STR_OBF);	/* last write: data port */
	CHECK_EQ(in8(&c, DATA), 0xfa);
	CHECK_EQ(in8(&c, DATA), 0xab);
	CHECK_EQ(in8(&c, DATA), 0x41);
	CHECK_EQ(in8(&c, CMD) & STR_OBF, 0);
	out8(&c, DATA, 0xed);
	CHECK_EQ(in8(&c, DATA), 0xfa);
	out8(&c, DATA, 0x02);
	CHECK_EQ(in8(&c, DATA), 0xfa);
	CHECK_EQ(kr_i8042_leds(c.k), 0x02);
	CHECK_EQ(in8(&c, CMD) & STR_OBF, 0);
	/* An empty buffer reads the last byte again. */
	CHECK_EQ(in8(&c, DATA), 0xfa);
	CHECK_EQ(in8(&c, CMD) & STR_OBF, 0);
	/* Controller RAM beyond the command byte. */
	out8(&c, CMD, 0x65);
	out8(&c, DATA, 0x77);
	CHECK_EQ(command(&c, 0x25, -1), 0x77);
	kbc_fini(&c);
}

KR_TEST(i8042_interrupt)
{
	struct kbc c;

	kbc_init(&c);
	out8(&c, CMD, 0x60);
	out8(&c, DATA, 0x45);			/* KBDINT */
	CHECK_EQ(c.level, 0);
	out8(&c, CMD, 0x20);
	CHECK_EQ(c.level, 1);
	CHECK_EQ(in8(&c, DATA), 0x45);
	CHECK_EQ(c.level, 0);
	/* AUX data would be IRQ 12, which is not wired: nothing on IRQ 1. */
	out8(&c, CMD, 0xd3);
	out8(&c, DATA, 0x11);
	CHECK_EQ(c.level, 0);
	in8(&c, DATA);
	/* Interrupt disabled while a byte waits: the line drops; enabled: rises. */
	out8(&c, CMD, 0xd2);
	out8(&c, DATA, 0x22);
	CHECK_EQ(c.level, 1);
	out8(&c, CMD, 0x60);
	out8(&c, DATA, 0x44);
	CHECK_EQ(c.level, 0);
	CHECK_EQ(in8(&c, DATA), 0x22);
	CHECK_EQ(c.rises, 2);
	kbc_fini(&c);
}

KR_TEST(i8042_reset)
{
	struct kbc c;

	kbc_init(&c);
	out8(&c, CMD, 0xfe);			/* pulse reset: Linux's reboot=k */
	CHECK_EQ(c.resets, 1);
	out8(&c, CMD, 0xff);			/* pulse nothing */
	CHECK_EQ(c.resets, 1);
	CHECK_EQ(command(&c, 0xd0, -1) & 0x03, 0x03);
	out8(&c, CMD, 0xd1);
	out8(&c, DATA, 0xdf);			/* reset line high: nothing */
	CHECK_EQ(c.resets, 1);
	out8(&c, CMD, 0xd1);
	out8(&c, DATA, 0xde);			/* bit 0 low: reset */
	CHECK_EQ(c.resets, 2);
	/* A command cancels the wait for a data byte. */
	out8(&c, CMD, 0xd1);
	out8(&c, CMD, 0xa8);
	out8(&c, DATA, 0x00);
	CHECK_EQ(c.resets, 2);
	kbc_fini(&c);
}

KR_TEST(i8042_hostile)
{
	struct kbc c;
	uint8_t d[8];

	kbc_init(&c);
	/* Every command with a garbage parameter. */
	for (int cmd = 0; cmd < 256; cmd++) {
		out8(&c, CMD, cmd);
		out8(&c, DATA, cmd * 37);
		in8(&c, DATA);
	}
	/* Pulses with bit 0 clear: 0xf0, 0xf2 .. 0xfe (0xd1 got 0x35, odd). */
	CHECK_EQ(c.resets, 8);
	/* Wide accesses touch only the port they start at. */
	memset(d, 0, sizeof(d));
	kr_bus_access(&c.bus, CMD, d, 4, false);
	CHECK_EQ(d[1], 0xff);
	CHECK_EQ(d[3], 0xff);
	kr_put_le(d, 4, 0x20202020);
	kr_bus_access(&c.bus, CMD, d, 4, true);
	CHECK_EQ(in8(&c, CMD) & STR_OBF, STR_OBF);
	{
		const struct kr_range *r = kr_bus_find(&c.bus, DATA);

		memset(d, 0xee, sizeof(d));
		r->fn(r->opaque, ~0ull, d, 8, true);
		r->fn(r->opaque, 3, d, 8, false);
		r->fn(r->opaque, 0, d, 0, false);
		CHECK_EQ(d[0], 0xee);
	}
	/* Still a controller. */
	CHECK_EQ(command(&c, 0xaa, -1), 0x55);
	kbc_fini(&c);
}

/* Every byte waiting, up to max: how many. */
static unsigned int drain(struct kbc *c, uint8_t *buf, unsigned int max)
{
	unsigned int n = 0;

	while (n < max && (in8(c, CMD) & STR_OBF))
		buf[n++] = in8(c, DATA);
	return n;
}

static bool bytes_are(const uint8_t *got, unsigned int n, const uint8_t *want, unsigned int wn)
{
	if (n == wn && !memcmp(got, want, n))
		return true;
	printf("#   got");
	for (unsigned int i = 0; i < n; i++)
		printf(" %02x", got[i]);
	printf(", want");
	for (unsigned int i = 0; i < wn; i++)
		printf(" %02x", want[i]);
	printf("\n");
	return false;
}

#define EXPECT_BYTES(c, ...)						\
	do {								\
		const uint8_t want_[] = { __VA_ARGS__ };		\
		uint8_t got_[64];					\
		unsigned int n_ = drain((c), got_, sizeof(got_));	\
		CHECK(bytes_are(got_, n_, want_, sizeof(want_)));	\
	} while (0)

/* Keys as atkbd sees them with translation on (set 1) and off (set 2). */
KR_TEST(i8042_keyboard_scancodes)
{
	struct kbc c;

	kbc_init(&c);
	/* Translated (the default): set 1 make and break codes. */
	kr_i8042_key(c.k, KEY_A, true);
	kr_i8042_key(c.k, KEY_A, false);
	EXPECT_BYTES(&c, 0x1e, 0x9e);
	kr_i8042_key(c.k, KEY_UP, true);
	kr_i8042_key(c.k, KEY_UP, false);
	EXPECT_BYTES(&c, 0xe0, 0x48, 0xe0, 0xc8);
	kr_i8042_key(c.k, KEY_F7, true);	/* set 2's 0x83, a byte beyond 0x7f */
	EXPECT_BYTES(&c, 0x41);
	kr_i8042_key(c.k, KEY_PAUSE, true);
	kr_i8042_key(c.k, KEY_PAUSE, false);	/* Pause has no break */
	EXPECT_BYTES(&c, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
	kr_i8042_key(c.k, KEY_SYSRQ, true);
	kr_i8042_key(c.k, KEY_SYSRQ, false);
	EXPECT_BYTES(&c, 0xe0, 0x2a, 0xe0, 0x37, 0xe0, 0xb7, 0xe0, 0xaa);
	/* Translation off: what the keyboard sends, set 2. */
	out8(&c, CMD, 0x60);
	out8(&c, DATA, 0x05);		/* KBDINT | SYS, no XLATE */
	kr_i8042_key(c.k, KEY_A, true);
	kr_i8042_key(c.k, KEY_A, false);
	EXPECT_BYTES(&c, 0x1c, 0xf0, 0x1c);
	kr_i8042_key(c.k, KEY_RIGHTCTRL, true);
	kr_i8042_key(c.k, KEY_RIGHTCTRL, false);
	EXPECT_BYTES(&c, 0xe0, 0x14, 0xe0, 0xf0, 0x14);
	kr_i8042_key(c.k, KEY_SYSRQ, false);
	EXPECT_BYTES(&c, 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12);
	/* Untranslated GETID: AB 83. */
	out8(&c, DATA, 0xf2);
	EXPECT_BYTES(&c, 0xfa, 0xab, 0x83);
	/* Set 1 chosen in the keyboard, read back; its codes untranslated. */
	out8(&c, DATA, 0xf0);
	out8(&c, DATA, 0x01);
	EXPECT_BYTES(&c, 0xfa, 0xfa);
	out8(&c, DATA, 0xf0);
	out8(&c, DATA, 0x00);
	EXPECT_BYTES(&c, 0xfa, 0xfa, 0x01);
	kr_i8042_key(c.k, KEY_ENTER, true);
	kr_i8042_key(c.k, KEY_ENTER, false);
	EXPECT_BYTES(&c, 0x1c, 0x9c);
	/* Set 3 is refused (resend), set 1 stays. */
	out8(&c, DATA, 0xf0);
	out8(&c, DATA, 0x03);
	EXPECT_BYTES(&c, 0xfa, 0xfe);
	/* Keys a PC keyboard lacks are nothing. */
	kr_i8042_key(c.k, KEY_PLAYPAUSE, true);
	kr_i8042_key(c.k, 0, true);
	kr_i8042_key(c.k, 99999, true);
	EXPECT_BYTES(&c);
	kbc_fini(&c);
}

/* Commands: reset, echo, resend, defaults, disable, unknown; scanning state. */
KR_TEST(i8042_keyboard_commands)
{
	struct kbc c;

	kbc_init(&c);
	out8(&c, DATA, 0xff);
	EXPECT_BYTES(&c, 0xfa, 0xaa);
	out8(&c, DATA, 0xee);
	EXPECT_BYTES(&c, 0xee);
	out8(&c, DATA, 0xfe);			/* resend: the last byte again */
	EXPECT_BYTES(&c, 0xee);
	out8(&c, DATA, 0xf3);
	out8(&c, DATA, 0x20);
	EXPECT_BYTES(&c, 0xfa, 0xfa);
	out8(&c, DATA, 0x42);			/* no such command */
	EXPECT_BYTES(&c, 0xfe);
	/* Disabled (0xf5): keys are not scanned; enabled (0xf4): they are. */
	out8(&c, DATA, 0xf5);
	EXPECT_BYTES(&c, 0xfa);
	kr_i8042_key(c.k, KEY_B, true);
	EXPECT_BYTES(&c);
	out8(&c, DATA, 0xf4);
	EXPECT_BYTES(&c, 0xfa);
	kr_i8042_key(c.k, KEY_B, true);
	EXPECT_BYTES(&c, 0x30);
	/*
	 * The port disabled at the controller (0xad): keys wait in the
	 * keyboard, and come once it is enabled again (0xae).
	 */
	out8(&c, CMD, 0xad);
	kr_i8042_key(c.k, KEY_C, true);
	EXPECT_BYTES(&c);
	out8(&c, CMD, 0xae);
	EXPECT_BYTES(&c, 0x2e);
	kr_i8042_key(c.k, KEY_C, false);
	EXPECT_BYTES(&c, 0xae);
	/* A command's ACK comes before keys already waiting. */
	out8(&c, CMD, 0xad);
	kr_i8042_key(c.k, KEY_D, true);
	out8(&c, DATA, 0xee);			/* a keyboard write enables the port */
	EXPECT_BYTES(&c, 0xee, 0x20);
	kbc_fini(&c);
}

/* Every byte is an edge on IRQ 1; a full queue drops whole sequences. */
KR_TEST(i8042_keyboard_irq_overflow)
{
	struct kbc c;
	uint8_t buf[64];
	unsigned int n;

	kbc_init(&c);
	kr_i8042_key(c.k, KEY_HOME, true);	/* e0 47 */
	CHECK_EQ(c.level, 1);
	CHECK_EQ(c.rises, 1);
	CHECK_EQ(in8(&c, DATA), 0xe0);
	CHECK_EQ(c.level, 1);
	CHECK_EQ(c.rises, 2);			/* dropped at the read, rose again */
	CHECK_EQ(in8(&c, DATA), 0x47);
	CHECK_EQ(c.level, 0);
	/*
	 * 20 presses and releases of an E0 key while nobody reads: set 2's
	 * e0 69 and e0 f0 69.  The first e0 goes to the output buffer, 32
	 * bytes wait in the keyboard: 13 sequences fit, the other 7 are
	 * dropped whole.  Translated, every one arrives whole: 26 bytes.
	 */
	for (int i = 0; i < 20; i++)
		kr_i8042_key(c.k, KEY_END, i % 2 == 0);
	n = drain(&c, buf, sizeof(buf));
	CHECK_EQ(n, 26);
	for (unsigned int i = 0; i + 1 < n; i += 2)
		CHECK(buf[i] == 0xe0 && buf[i + 1] == (i % 4 ? 0xcf : 0x4f));
	/* Room again: keys come. */
	kr_i8042_key(c.k, KEY_END, true);
	EXPECT_BYTES(&c, 0xe0, 0x4f);
	kbc_fini(&c);
}

static void *typist(void *opaque)
{
	struct kbc *c = opaque;

	for (int i = 0; i < 2000; i++)
		kr_i8042_key(c->k, KEY_Q + i % 10, i & 1);
	return NULL;
}

/* Keys from another thread while the guest reads: no torn state (ASan, UBSan). */
KR_TEST(i8042_keyboard_threads)
{
	struct kbc c;
	pthread_t t;
	unsigned int got = 0;

	kbc_init(&c);
	CHECK_EQ(pthread_create(&t, NULL, typist, &c), 0);
	for (int i = 0; i < 20000; i++) {
		if (in8(&c, CMD) & STR_OBF) {
			uint8_t v = in8(&c, DATA);

			got++;
			CHECK((v & 0x7f) >= 0x10 && (v & 0x7f) <= 0x19);
		}
	}
	pthread_join(t, NULL);
	got += drain(&c, (uint8_t[64]){ 0 }, 64);
	CHECK(got > 0 && got <= 2000);
	kbc_fini(&c);
}

/* ---- snapshot ----------------------------------------------------------- */

/*
 * Offsets in kr_i8042_save()'s state with an empty reply queue: RAM, the
 * output buffer, its flags, the waiting command, the output port, the
 * break flag, the line; then the keyboard's version, queues and settings.
 */
enum { K_RAM = 4, K_OBF = 37, K_PENDING = 40, K_OUTPORT = 41, K_LINE = 43, K_KVER = 44,
       K_NREPLY = 48, K_NKEYS = 49, K_LAST = 55, K_SET = 56, K_LEDS = 57, K_TYPEMATIC = 58,
       K_ARG = 59, K_SCANNING = 60, K_LEN = 61 };

/*
 * Controller RAM written, the command byte with the interrupt and
 * translation, keyboard LEDs and rate set, an ACK in the output buffer
 * (the line up), the keyboard waiting for a scancode set argument with
 * five key bytes queued behind it, and the controller waiting for the
 * output port's data byte.
 */
static void kbc_busy(struct kbc *c)
{
	kbc_init(c);
	out8(c, CMD, 0x65);
	out8(c, DATA, 0x77);
	out8(c, DATA, 0xed);
	EXPECT_BYTES(c, 0xfa);
	out8(c, DATA, 0x05);
	EXPECT_BYTES(c, 0xfa);
	out8(c, DATA, 0xf3);
	out8(c, DATA, 0x20);
	EXPECT_BYTES(c, 0xfa, 0xfa);
	out8(c, CMD, 0x60);
	out8(c, DATA, 0x45);			/* KBDINT, SYS, XLATE; AUX enabled */
	out8(c, DATA, 0xf0);			/* its ACK fills the buffer */
	kr_i8042_key(c->k, KEY_A, true);
	kr_i8042_key(c->k, KEY_A, false);
	kr_i8042_key(c->k, KEY_HOME, true);
	out8(c, CMD, 0xd1);
	CHECK_EQ(c->level, 1);
}

/* What the guest sees from here on; n values. */
static unsigned int kbc_probe(struct kbc *c, uint8_t *v)
{
	unsigned int n = 0;

	v[n++] = in8(c, CMD);
	v[n++] = kr_i8042_leds(c->k);
	v[n++] = c->level;
	n += drain(c, v + n, 16);		/* ACK, then the keys, translated */
	out8(c, DATA, 0xdd);			/* to the output port */
	v[n++] = command(c, 0xd0, -1);
	out8(c, DATA, 0x00);			/* the keyboard's argument: get the set */
	n += drain(c, v + n, 16);
	v[n++] = command(c, 0x25, -1);
	v[n++] = command(c, 0x20, -1);
	v[n++] = c->level;
	out8(c, DATA, 0xfe);			/* resend: the last byte again */
	n += drain(c, v + n, 16);
	return n;
}

KR_TEST(i8042_snapshot_round_trip)
{
	static const uint8_t want[] = {
		0x1d, 0x05, 1, 0xfa, 0x1e, 0x9e, 0xe0, 0x47, 0xdd, 0xfa, 0x02, 0x77, 0x45, 0,
		0x02,
	};
	struct kr_sbuf b = { 0 };
	struct kr_sget g;
	struct kbc a, c;
	uint8_t va[64], vc[64];
	unsigned int na, nc;

	kbc_busy(&a);
	CHECK_EQ(kr_i8042_save(a.k, &b), 0);
	CHECK(!b.oom);
	CHECK_EQ(b.len, K_LEN);
	kbc_init(&c);
	kr_sget_init(&g, b.p, b.len, "i8042");
	CHECK_EQ(kr_i8042_load(c.k, &g), 0);
	CHECK_EQ(c.sets, 0);			/* the irqchip restores the line */
	c.level = 1;

	na = kbc_probe(&a, va);
	nc = kbc_probe(&c, vc);
	CHECK_EQ(na, sizeof(want));
	CHECK(bytes_are(va, na, want, sizeof(want)));
	CHECK(bytes_are(vc, nc, want, sizeof(want)));
	CHECK_EQ(a.resets + c.resets, 0);
	kr_sbuf_free(&b);
	kbc_fini(&a);
	kbc_fini(&c);
}

/* Load p[0..n) into a new controller: its result, the reason in why. */
static int kbc_load_fresh(const uint8_t *p, size_t n, char *why, size_t len)
{
	struct kr_sget g;
	struct kbc c;
	int ret;

	kbc_init(&c);
	kr_sget_init(&g, p, n, "i8042");
	ret = kr_i8042_load(c.k, &g);
	snprintf(why, len, "%s", g.why);
	if (ret)
		CHECK_EQ(command(&c, 0xaa, -1), 0x55);	/* untouched, still a controller */
	kbc_fini(&c);
	return ret;
}

static void kbc_refuses(const struct kr_sbuf *b, size_t off, uint8_t v, const char *want)
{
	uint8_t p[K_LEN];
	char why[160];

	memcpy(p, b->p, K_LEN);
	p[off] = v;
	CHECK_EQ(kbc_load_fresh(p, K_LEN, why, sizeof(why)), -EPROTO);
	if (!strstr(why, want))
		printf("#   offset %zu = %#x: \"%s\", want \"%s\"\n", off, v, why, want);
	CHECK(strstr(why, want) != NULL);
}

KR_TEST(i8042_snapshot_refused)
{
	struct kr_sbuf b = { 0 };
	uint8_t p[K_LEN + 1];
	char why[160];
	struct kbc a;

	kbc_busy(&a);
	CHECK_EQ(kr_i8042_save(a.k, &b), 0);
	kbc_fini(&a);
	CHECK_EQ(b.len, K_LEN);
	CHECK_EQ(b.p[K_PENDING], 0xd1);
	CHECK_EQ(b.p[K_NREPLY], 0);
	CHECK_EQ(b.p[K_NKEYS], 5);
	CHECK_EQ(b.p[K_ARG], 0xf0);
	CHECK_EQ(kbc_load_fresh(b.p, b.len, why, sizeof(why)), 0);

	for (size_t n = 0; n < b.len; n++) {
		CHECK_EQ(kbc_load_fresh(b.p, n, why, sizeof(why)), -EPROTO);
		CHECK(strstr(why, "truncated") != NULL);
	}
	memcpy(p, b.p, b.len);
	p[b.len] = 0;
	CHECK_EQ(kbc_load_fresh(p, b.len + 1, why, sizeof(why)), -EPROTO);
	CHECK(strstr(why, "left over") != NULL);

	kbc_refuses(&b, 0, 2, "i8042: state version 2");
	kbc_refuses(&b, K_KVER, 2, "i8042: state version 2");	/* the keyboard's */
	kbc_refuses(&b, K_OBF, 2, "a flag reads 2");
	kbc_refuses(&b, K_PENDING, 0x20, "command 0x20 waits for a data byte");
	kbc_refuses(&b, K_PENDING, 0xd5, "command 0xd5 waits");
	kbc_refuses(&b, K_OUTPORT, 0xde, "output port 0xde holds the CPU in reset");
	kbc_refuses(&b, K_LINE, 0, "line level 0 where the output buffer says 1");
	kbc_refuses(&b, K_RAM, 0x44, "line level 1 where the output buffer says 0");
	kbc_refuses(&b, K_NREPLY, 9, "9 keyboard replies in a queue of 8");
	kbc_refuses(&b, K_NKEYS, 33, "33 key bytes in a queue of 32");
	kbc_refuses(&b, K_NKEYS, 0xff, "255 key bytes");
	kbc_refuses(&b, K_SET, 3, "keyboard scancode set 3");
	kbc_refuses(&b, K_SET, 0, "keyboard scancode set 0");
	kbc_refuses(&b, K_LEDS, 8, "keyboard LEDs 0x8");
	kbc_refuses(&b, K_TYPEMATIC, 0x80, "keyboard typematic byte 0x80");
	kbc_refuses(&b, K_ARG, 0xf4, "argument of 0xf4");
	kbc_refuses(&b, K_SCANNING, 2, "a flag reads 2");
	kr_sbuf_free(&b);
}

/*
 * Random accesses and keys; now and then the state is saved and loaded into
 * a new controller, which must take it and then behave as the old one.
 */
KR_TEST(i8042_snapshot_random)
{
	static const unsigned int keys[] = { KEY_A, KEY_UP, KEY_PAUSE, KEY_SYSRQ, KEY_F7,
					     KEY_RIGHTCTRL };
	struct kbc *cur = calloc(1, sizeof(*cur)), *next;
	int refused = 0, differ = 0;

	kbc_init(cur);
	srand(14);
	for (int round = 0; round < 40; round++) {
		struct kr_sbuf b = { 0 };
		struct kr_sget g;

		CHECK_EQ(kr_i8042_save(cur->k, &b), 0);
		next = calloc(1, sizeof(*next));
		kbc_init(next);
		kr_sget_init(&g, b.p, b.len, "i8042");
		refused += kr_i8042_load(next->k, &g) != 0;
		next->level = cur->level;		/* as the irqchip keeps it */
		next->resets = cur->resets;
		kr_sbuf_free(&b);
		for (int i = 0; i < 500; i++) {
			uint16_t port = rand() % 2 ? DATA : CMD;
			uint8_t d = rand(), e = d;
			int r = rand() % 8;

			if (r == 0) {
				unsigned int key = keys[rand() % ARRAY_SIZE(keys)];
				bool down = rand() & 1;

				kr_i8042_key(cur->k, key, down);
				kr_i8042_key(next->k, key, down);
			} else {
				/* Keyboard commands with arguments now and then. */
				if (r == 1 && port == DATA)
					d = e = 0xed + rand() % 0x13;
				kr_bus_access(&cur->bus, port, &d, 1, r & 1);
				kr_bus_access(&next->bus, port, &e, 1, r & 1);
			}
			differ += d != e || cur->level != next->level || cur->resets != next->resets ||
				  kr_i8042_leds(cur->k) != kr_i8042_leds(next->k);
		}
		kbc_fini(cur);
		free(cur);
		cur = next;
	}
	CHECK_EQ(refused, 0);
	CHECK_EQ(differ, 0);
	kbc_fini(cur);
	free(cur);
}
