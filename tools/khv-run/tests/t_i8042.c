// SPDX-License-Identifier: GPL-2.0
/*
 * The i8042 (i8042.c): what Linux's i8042 driver does at probe, the
 * keyboard interrupt, the CPU reset paths, hostile command streams.
 */
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
	int level, rises, resets;
};

static void kbc_irq(void *opaque, unsigned int gsi, int level)
{
	struct kbc *c = opaque;

	CHECK_EQ(gsi, KR_GSI_I8042);
	c->rises += level && !c->level;
	c->level = level;
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
	/* The keyboard does not answer (GETID, SETLEDS): nothing to read. */
	out8(&c, CMD, 0xae);
	out8(&c, DATA, 0xf2);
	CHECK_EQ(in8(&c, CMD) & STR_OBF, 0);
	CHECK_EQ(in8(&c, CMD) & 0x08, 0);	/* last write went to the data port */
	out8(&c, DATA, 0xed);
	out8(&c, DATA, 0x00);
	CHECK_EQ(in8(&c, CMD) & STR_OBF, 0);
	/* An empty buffer reads the last byte again: the last command byte read. */
	CHECK_EQ(in8(&c, DATA), (ctr | 0x10) & ~0x21);
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
