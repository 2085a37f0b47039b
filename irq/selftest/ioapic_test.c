// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of irq/ioapic.c: a fake owner records every message the
 * IOAPIC sends and can refuse them; pins are driven by hand.  Facts from
 * the 82093AA datasheet.
 */
#include "irq_test.h"
#include "irq/ioapic.h"
#include "uapi/linux/khv.h"

static struct {
	struct khv_irq_msg msgs[16];
	unsigned int nr;
	unsigned int takers;	/* what deliver() returns */
} o;

static unsigned int deliver(struct khv_ioapic *ioapic, const struct khv_irq_msg *msg)
{
	(void)ioapic;
	if (o.nr < 16)
		o.msgs[o.nr] = *msg;
	o.nr++;
	return o.takers;
}

static const struct khv_ioapic_ops ops = { .deliver = deliver };
static struct khv_ioapic io;

static void setup(void)
{
	memset(&o, 0, sizeof(o));
	o.takers = 1;
	khv_ioapic_init(&io, &ops, &o);
	spin_lock(&io.lock);
}

static u32 rd(u32 reg)
{
	u32 sel = reg, v = 0xdeadbeef;

	CHECK_EQ(0, khv_ioapic_mmio_write(&io, 0, 4, &sel));
	CHECK_EQ(0, khv_ioapic_mmio_read(&io, 0x10, 4, &v));
	return v;
}

static void wr(u32 reg, u32 v)
{
	u8 sel = (u8)reg;

	CHECK_EQ(0, khv_ioapic_mmio_write(&io, 0, 1, &sel));
	CHECK_EQ(0, khv_ioapic_mmio_write(&io, 0x10, 4, &v));
}

/* Program pin: low half of its entry, destination in the high half. */
static void program(unsigned int pin, u32 low, u8 dest)
{
	wr(KHV_IOAPIC_REG_REDIR + 2 * pin + 1, (u32)dest << 24);
	wr(KHV_IOAPIC_REG_REDIR + 2 * pin, low);
}

static void test_registers(void)
{
	unsigned int pin;
	u32 v;

	setup();
	CHECK_EQ(0x170011, rd(KHV_IOAPIC_REG_VER));
	for (pin = 0; pin < KHV_IOAPIC_PINS; pin++) {
		CHECK_EQ(KHV_IOAPIC_MASKED, rd(KHV_IOAPIC_REG_REDIR + 2 * pin));
		CHECK_EQ(0, rd(KHV_IOAPIC_REG_REDIR + 2 * pin + 1));
	}
	wr(KHV_IOAPIC_REG_ID, 0xffffffff);
	CHECK_EQ(0x0f000000, rd(KHV_IOAPIC_REG_ID));
	CHECK_EQ(0x0f000000, rd(KHV_IOAPIC_REG_ARB));
	wr(KHV_IOAPIC_REG_VER, 0);
	CHECK_EQ(0x170011, rd(KHV_IOAPIC_REG_VER));
	/* Past the last entry: nothing there. */
	CHECK_EQ(0, rd(KHV_IOAPIC_REG_REDIR + 2 * KHV_IOAPIC_PINS));
	/* Read-only and reserved entry bits. */
	wr(KHV_IOAPIC_REG_REDIR, 0xffffffff);
	CHECK_EQ(0x1afff, rd(KHV_IOAPIC_REG_REDIR));
	wr(KHV_IOAPIC_REG_REDIR + 1, 0xffffffff);
	CHECK_EQ(0xff000000, rd(KHV_IOAPIC_REG_REDIR + 1));
	/* IOREGSEL reads back; IOWIN needs 32-bit writes; 8-byte reads see 0. */
	v = 0x1234;
	CHECK_EQ(0, khv_ioapic_mmio_write(&io, 0, 4, &v));
	v = 0;
	CHECK_EQ(0, khv_ioapic_mmio_read(&io, 0, 4, &v));
	CHECK_EQ(0x34, v);
	wr(KHV_IOAPIC_REG_REDIR + 4, 0x10000);
	v = 0x40;
	CHECK_EQ(0, khv_ioapic_mmio_write(&io, 0x10, 2, &v));
	CHECK_EQ(0x10000, rd(KHV_IOAPIC_REG_REDIR + 4));
	CHECK_EQ(-EINVAL, khv_ioapic_set_pin(&io, KHV_IOAPIC_PINS, true));
}

static void test_edge(void)
{
	setup();
	program(4, 0x34, 2);
	CHECK_EQ(0, khv_ioapic_set_pin(&io, 4, true));
	CHECK_EQ(1, o.nr);
	CHECK(o.msgs[0].dest == 2 && o.msgs[0].vector == 0x34 && !o.msgs[0].level &&
	      !o.msgs[0].logical && o.msgs[0].delivery_mode == 0, "edge message");
	khv_ioapic_set_pin(&io, 4, true);	/* no new edge */
	CHECK_EQ(1, o.nr);
	khv_ioapic_set_pin(&io, 4, false);
	khv_ioapic_set_pin(&io, 4, true);
	CHECK_EQ(2, o.nr);
	CHECK_EQ(0, rd(KHV_IOAPIC_REG_REDIR + 8) & KHV_IOAPIC_REMOTE_IRR);
	/* An edge while masked is lost, and unmasking does not bring it back. */
	program(4, 0x34 | KHV_IOAPIC_MASKED, 2);
	khv_ioapic_set_pin(&io, 4, false);
	khv_ioapic_set_pin(&io, 4, true);
	program(4, 0x34, 2);
	CHECK_EQ(2, o.nr);
	/* EOI does nothing to edge pins. */
	khv_ioapic_eoi(&io, 0x34);
	CHECK_EQ(2, o.nr);
}

static void test_level_remote_irr(void)
{
	setup();
	program(10, 0x5a | KHV_IOAPIC_LEVEL | KHV_IOAPIC_POLARITY, 1);
	khv_ioapic_set_pin(&io, 10, true);
	CHECK_EQ(1, o.nr);
	CHECK(o.msgs[0].level && o.msgs[0].vector == 0x5a, "level message");
	CHECK(rd(KHV_IOAPIC_REG_REDIR + 20) & KHV_IOAPIC_REMOTE_IRR, "remote IRR set");
	/* Held until the EOI. */
	khv_ioapic_set_pin(&io, 10, true);
	CHECK_EQ(1, o.nr);
	/* Another vector's EOI does not free it. */
	khv_ioapic_eoi(&io, 0x5b);
	CHECK_EQ(1, o.nr);
	/* EOI with the line still asserted: sent again at once. */
	khv_ioapic_eoi(&io, 0x5a);
	CHECK_EQ(2, o.nr);
	CHECK(rd(KHV_IOAPIC_REG_REDIR + 20) & KHV_IOAPIC_REMOTE_IRR, "remote IRR set again");
	/* Device quiet, then EOI: free, nothing sent. */
	khv_ioapic_set_pin(&io, 10, false);
	khv_ioapic_eoi(&io, 0x5a);
	CHECK_EQ(2, o.nr);
	CHECK_EQ(0, rd(KHV_IOAPIC_REG_REDIR + 20) & KHV_IOAPIC_REMOTE_IRR);
	/* A guest write cannot set or clear remote IRR. */
	khv_ioapic_set_pin(&io, 10, true);
	program(10, 0x5a | KHV_IOAPIC_LEVEL, 1);
	CHECK(rd(KHV_IOAPIC_REG_REDIR + 20) & KHV_IOAPIC_REMOTE_IRR, "remote IRR kept");
	CHECK_EQ(3, o.nr);
	/* Switching the pin to edge drops the wait. */
	program(10, 0x5a, 1);
	CHECK_EQ(0, rd(KHV_IOAPIC_REG_REDIR + 20) & KHV_IOAPIC_REMOTE_IRR);
}

static void test_level_unmask(void)
{
	setup();
	program(3, 0x33 | KHV_IOAPIC_LEVEL | KHV_IOAPIC_MASKED, 0);
	khv_ioapic_set_pin(&io, 3, true);
	CHECK_EQ(0, o.nr);
	program(3, 0x33 | KHV_IOAPIC_LEVEL, 0);
	CHECK_EQ(1, o.nr);
	/* Re-programmed while waiting for the EOI: still waits. */
	program(3, 0x34 | KHV_IOAPIC_LEVEL, 0);
	CHECK_EQ(1, o.nr);
	khv_ioapic_eoi(&io, 0x33);		/* the old vector no longer matches */
	CHECK_EQ(1, o.nr);
	khv_ioapic_eoi(&io, 0x34);
	CHECK_EQ(2, o.nr);
	CHECK_EQ(0x34, o.msgs[1].vector);
}

static void test_lost_and_fields(void)
{
	setup();
	o.takers = 0;
	program(7, 0x77 | KHV_IOAPIC_LEVEL, 9);
	khv_ioapic_set_pin(&io, 7, true);
	CHECK_EQ(1, io.lost);
	CHECK_EQ(0, rd(KHV_IOAPIC_REG_REDIR + 14) & KHV_IOAPIC_REMOTE_IRR);
	/* Nobody took it, so nothing waits for an EOI: asserting again retries. */
	o.takers = 1;
	khv_ioapic_set_pin(&io, 7, true);
	CHECK_EQ(2, o.nr);
	CHECK(rd(KHV_IOAPIC_REG_REDIR + 14) & KHV_IOAPIC_REMOTE_IRR, "taken the second time");
	o.takers = 2;
	program(8, 0x88 | KHV_IOAPIC_DEST_LOGICAL | (1u << 8), 0x0c);
	khv_ioapic_set_pin(&io, 8, true);
	CHECK_EQ(1, io.lost);
	CHECK(o.msgs[2].logical && o.msgs[2].delivery_mode == 1 && o.msgs[2].dest == 0x0c,
	      "logical, lowest priority, set 0x0c");
	/* Reset masks everything again. */
	khv_ioapic_reset(&io);
	CHECK_EQ(KHV_IOAPIC_MASKED, rd(KHV_IOAPIC_REG_REDIR + 16));
}

/* Round trip into a fresh IOAPIC; an asserted, free level pin sends again. */
static void test_state(void)
{
	struct khv_ioapic_state st, bad;

	setup();
	wr(KHV_IOAPIC_REG_ID, 0x05000000);
	program(3, 0x8033, 1);			/* level, vector 0x33 */
	program(4, 0x0034, 2);			/* edge */
	khv_ioapic_set_pin(&io, 3, true);	/* sent: remote IRR set */
	khv_ioapic_set_pin(&io, 4, true);
	khv_ioapic_set_pin(&io, 9, true);	/* masked pin, line held */
	wr(KHV_IOAPIC_REG_REDIR + 8, 0x8035 | KHV_IOAPIC_MASKED);	/* pin 4 level, masked */
	khv_ioapic_get_state(&io, &st);
	CHECK_EQ(0x05000000, st.id);
	CHECK_EQ((1u << 3) | (1u << 4) | (1u << 9), st.lines);
	CHECK(st.redir[3] & KHV_IOAPIC_REMOTE_IRR, "remote IRR saved");
	CHECK_EQ(0, khv_ioapic_check_state(&io, &st));
	spin_unlock(&io.lock);

	setup();
	CHECK_EQ(0, khv_ioapic_check_state(&io, &st));
	khv_ioapic_set_state(&io, &st);
	CHECK_EQ(0, o.nr);			/* pin 3 waits for its EOI, 4 is masked */
	CHECK_EQ(0x05000000, rd(KHV_IOAPIC_REG_ID));
	CHECK_EQ(0x8033 | KHV_IOAPIC_REMOTE_IRR, rd(KHV_IOAPIC_REG_REDIR + 6));
	khv_ioapic_eoi(&io, 0x33);		/* still asserted: sends again */
	CHECK_EQ(1, o.nr);
	CHECK_EQ(0x33, o.msgs[0].vector);
	spin_unlock(&io.lock);

	/* Restored without the remote IRR: the asserted level pin sends at once. */
	setup();
	st.redir[3] &= ~KHV_IOAPIC_REMOTE_IRR;
	khv_ioapic_set_state(&io, &st);
	CHECK_EQ(1, o.nr);
#define REFUSED(mutation) do {						\
		bad = st;						\
		mutation;						\
		CHECK_EQ((u64)-EINVAL, (u64)khv_ioapic_check_state(&io, &bad)); \
	} while (0)
	REFUSED(bad.base = 0xfec01000);
	REFUSED(bad.id = 0x10000000);
	REFUSED(bad.lines = 1u << 24);
	REFUSED(bad.regsel = 0x100);
	REFUSED(bad.pad = 1);
	REFUSED(bad.redir[0] = KHV_IOAPIC_DELIVS);
	REFUSED(bad.redir[5] = 1ull << 40);
	REFUSED(bad.redir[5] = KHV_IOAPIC_REMOTE_IRR);	/* edge with remote IRR */
#undef REFUSED
	spin_unlock(&io.lock);
}

const struct irq_test ioapic_tests[] = {
	{ "registers", test_registers },
	{ "edge", test_edge },
	{ "level_remote_irr", test_level_remote_irr },
	{ "level_unmask", test_level_unmask },
	{ "lost_and_fields", test_lost_and_fields },
	{ "state", test_state },
};

const unsigned int nr_ioapic_tests = ARRAY_SIZE(ioapic_tests);
