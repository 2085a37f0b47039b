// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of irq/pic.c: the guest side through port I/O exactly as
 * Linux and PC firmware program the pair, the device side through IRQ
 * lines, the CPU side through INTA.  Facts from the 8259A datasheet.
 */
#include "irq_test.h"
#include "irq/pic.h"
#include "uapi/linux/khv.h"

static struct {
	bool out;
	unsigned int changes;
} o;

static void output(struct khv_pic *pic, bool level)
{
	(void)pic;
	o.out = level;
	o.changes++;
}

static const struct khv_pic_ops ops = { .output = output };
static struct khv_pic p;

static void out(u16 port, u8 v)
{
	CHECK(khv_pic_port_write(&p, port, v), "port 0x%x not taken", port);
}

static u8 in(u16 port)
{
	u8 v = 0xee;

	CHECK(khv_pic_port_read(&p, port, &v), "port 0x%x not taken", port);
	return v;
}

/*
 * Linux's init_8259A(): ICW1 edge+ICW4, vector bases 0x30/0x38 (any
 * multiple of 8), cascade on IR2, 8086 mode; icw4 adds AEOI/SFNM bits.
 */
static void setup(u8 master_icw4, u8 master_mask, u8 slave_mask)
{
	memset(&o, 0, sizeof(o));
	khv_pic_init(&p, &ops, &o);
	spin_lock(&p.lock);
	out(0x20, 0x11);
	out(0x21, 0x30);
	out(0x21, 0x04);
	out(0x21, master_icw4);
	out(0xa0, 0x11);
	out(0xa1, 0x38);
	out(0xa1, 0x02);
	out(0xa1, 0x01);
	out(0x21, master_mask);
	out(0xa1, slave_mask);
}

static u8 isr(u16 cmd)
{
	out(cmd, 0x0b);		/* OCW3: read ISR */
	return in(cmd);
}

static u8 irr(u16 cmd)
{
	out(cmd, 0x0a);		/* OCW3: read IRR */
	return in(cmd);
}

static void test_init_and_edge(void)
{
	setup(0x01, 0xfe, 0xff);
	CHECK_EQ(0xfe, in(0x21));
	CHECK_EQ(0xff, in(0xa1));
	CHECK(!o.out, "output before any request");
	CHECK_EQ(0, khv_pic_set_irq(&p, 0, true));
	CHECK(o.out, "IRQ0 raises INT");
	CHECK_EQ(0x01, irr(0x20));
	CHECK_EQ(0x30, khv_pic_ack(&p));
	CHECK(!o.out, "in service: INT drops");
	CHECK_EQ(0x01, isr(0x20));
	CHECK_EQ(0x00, irr(0x20));
	/* Still high: no new edge, no new request. */
	khv_pic_set_irq(&p, 0, true);
	out(0x20, 0x20);			/* non-specific EOI */
	CHECK_EQ(0, isr(0x20));
	CHECK(!o.out, "no edge, no request");
	khv_pic_set_irq(&p, 0, false);
	khv_pic_set_irq(&p, 0, true);
	CHECK(o.out, "new edge");
	/* Masked inputs still latch; unmasking shows them. */
	khv_pic_set_irq(&p, 1, true);
	CHECK_EQ(0x03, irr(0x20));
	CHECK_EQ(-EINVAL, khv_pic_set_irq(&p, 16, true));
	/* ICW2's low three bits are the input number, not the base's. */
	out(0x20, 0x11);
	out(0x21, 0x47);
	out(0x21, 0x04);
	out(0x21, 0x01);
	khv_pic_set_irq(&p, 1, false);
	khv_pic_set_irq(&p, 1, true);
	CHECK_EQ(0x41, khv_pic_ack(&p));
	CHECK(!khv_pic_port_write(&p, 0x22, 0), "port 0x22 is not the PIC's");
}

static void test_priority_nesting(void)
{
	setup(0x01, 0xe4, 0xff);		/* IR0, 1, 3, 4 unmasked */
	khv_pic_set_irq(&p, 3, true);
	CHECK_EQ(0x33, khv_pic_ack(&p));
	khv_pic_set_irq(&p, 4, true);
	CHECK(!o.out, "IR4 under IR3 in service");
	khv_pic_set_irq(&p, 1, true);
	CHECK(o.out, "IR1 over IR3");
	CHECK_EQ(0x31, khv_pic_ack(&p));
	CHECK_EQ(0x0a, isr(0x20));
	out(0x20, 0x20);			/* ends IR1, the highest in service */
	CHECK_EQ(0x08, isr(0x20));
	CHECK(!o.out, "IR4 still under IR3");
	out(0x20, 0x63);			/* specific EOI of IR3 */
	CHECK(o.out, "IR4 free");
	CHECK_EQ(0x34, khv_pic_ack(&p));
	/* IR7, the lowest, in service: IR6 still has priority over it. */
	out(0x20, 0x64);
	out(0x21, 0x00);
	khv_pic_set_irq(&p, 7, true);
	CHECK_EQ(0x37, khv_pic_ack(&p));
	khv_pic_set_irq(&p, 6, true);
	CHECK(o.out, "IR6 over IR7");
	CHECK_EQ(0x36, khv_pic_ack(&p));
}

static void test_cascade(void)
{
	setup(0x01, 0xfb, 0xef);		/* master IR2, slave IR4 (IRQ12) */
	khv_pic_set_irq(&p, 12, true);
	CHECK(o.out, "slave request reaches INT");
	CHECK_EQ(0x3c, khv_pic_ack(&p));
	CHECK_EQ(0x04, isr(0x20));
	CHECK_EQ(0x10, isr(0xa0));
	out(0xa0, 0x20);
	out(0x20, 0x20);
	CHECK(!isr(0x20) && !isr(0xa0), "both EOI'd");
	/* Without special fully nested mode, IR2 in service blocks the slave. */
	khv_pic_set_irq(&p, 12, false);
	khv_pic_set_irq(&p, 12, true);
	CHECK_EQ(0x3c, khv_pic_ack(&p));
	out(0xa0, 0x20);			/* slave EOI'd, master not yet */
	out(0xa1, 0xe7);			/* IRQ11 too */
	khv_pic_set_irq(&p, 11, true);
	CHECK(!o.out, "slave blocked by master IR2 in service");
	out(0x20, 0x20);
	CHECK(o.out, "released by the master's EOI");
	CHECK_EQ(0x3b, khv_pic_ack(&p));
}

static void test_special_fully_nested(void)
{
	setup(0x11, 0xfb, 0xe7);		/* SFNM; slave IRQ11, IRQ12 */
	khv_pic_set_irq(&p, 12, true);
	CHECK_EQ(0x3c, khv_pic_ack(&p));
	khv_pic_set_irq(&p, 11, true);
	CHECK(o.out, "higher slave IRQ nests over master IR2 in service");
	CHECK_EQ(0x3b, khv_pic_ack(&p));
	CHECK_EQ(0x18, isr(0xa0));
}

static void test_spurious_and_level(void)
{
	setup(0x01, 0x00, 0x00);
	/* Nothing pending: spurious IRQ7, nothing in service. */
	CHECK_EQ(0x37, khv_pic_ack(&p));
	CHECK_EQ(0, isr(0x20));
	/* A level request that went away before INTA. */
	out(0x4d0, 0x20);
	khv_pic_set_irq(&p, 5, true);
	CHECK(o.out, "level IRQ5");
	khv_pic_set_irq(&p, 5, false);
	CHECK(!o.out, "level IRQ5 withdrawn");
	CHECK_EQ(0x37, khv_pic_ack(&p));
	/* Slave spurious: master IR2 latched, slave request gone. */
	out(0x4d1, 0x04);			/* IRQ10 level */
	khv_pic_set_irq(&p, 10, true);
	khv_pic_set_irq(&p, 10, false);
	CHECK_EQ(0x3f, khv_pic_ack(&p));
	out(0x20, 0x20);
	/* Level: after the EOI, a line still high requests again. */
	khv_pic_set_irq(&p, 10, true);
	CHECK_EQ(0x3a, khv_pic_ack(&p));
	out(0xa0, 0x20);
	out(0x20, 0x20);
	CHECK(o.out, "level IRQ10 still asserted");
	CHECK_EQ(0x3a, khv_pic_ack(&p));
	/* ICW1 drops edge requests, keeps level ones (the line is still high). */
	khv_pic_set_irq(&p, 3, true);
	khv_pic_set_irq(&p, 5, true);
	out(0x20, 0x11);
	out(0x21, 0x30);
	out(0x21, 0x04);
	out(0x21, 0x01);
	CHECK_EQ(0x20, irr(0x20));		/* IRQ5 (IRQ10 is in service) */
	/* ELCR bits that do not exist. */
	out(0x4d0, 0xff);
	out(0x4d1, 0xff);
	CHECK_EQ(0xf8, in(0x4d0));
	CHECK_EQ(0xde, in(0x4d1));
}

static void test_auto_eoi_and_rotation(void)
{
	setup(0x03, 0x00, 0xff);		/* AEOI */
	khv_pic_set_irq(&p, 2 + 1, true);
	CHECK_EQ(0x33, khv_pic_ack(&p));
	CHECK_EQ(0, isr(0x20));
	/* Rotate in AEOI: the acknowledged input becomes the lowest. */
	out(0x20, 0x80);
	khv_pic_set_irq(&p, 1, true);
	CHECK_EQ(0x31, khv_pic_ack(&p));
	khv_pic_set_irq(&p, 0, true);
	khv_pic_set_irq(&p, 3, false);
	khv_pic_set_irq(&p, 3, true);
	CHECK_EQ(0x33, khv_pic_ack(&p));	/* IR1 lowest: IR3 before IR0 */
	CHECK_EQ(0x30, khv_pic_ack(&p));
	/* Set priority: IR5 lowest makes IR6 the highest. */
	setup(0x01, 0x00, 0xff);
	out(0x20, 0xc5);
	khv_pic_set_irq(&p, 0, true);
	khv_pic_set_irq(&p, 6, true);
	CHECK_EQ(0x36, khv_pic_ack(&p));
	/* Rotate on non-specific EOI: IR6 becomes the lowest; IR0 next. */
	out(0x20, 0xa0);
	khv_pic_set_irq(&p, 6, false);
	khv_pic_set_irq(&p, 6, true);
	CHECK_EQ(0x30, khv_pic_ack(&p));
	/* Rotate on specific EOI. */
	out(0x20, 0xe0);			/* IR0 done, IR0 lowest */
	khv_pic_set_irq(&p, 0, false);
	khv_pic_set_irq(&p, 0, true);
	CHECK_EQ(0x36, khv_pic_ack(&p));
	/* ICW1 puts the priorities back: IR0 highest. */
	out(0x20, 0x11);
	out(0x21, 0x30);
	out(0x21, 0x04);
	out(0x21, 0x01);
	khv_pic_set_irq(&p, 0, false);
	khv_pic_set_irq(&p, 6, false);
	khv_pic_set_irq(&p, 6, true);
	khv_pic_set_irq(&p, 0, true);
	CHECK_EQ(0x30, khv_pic_ack(&p));
}

static void test_poll_and_special_mask(void)
{
	setup(0x01, 0x00, 0xff);
	khv_pic_set_irq(&p, 4, true);
	out(0x20, 0x0c);			/* OCW3: poll */
	CHECK_EQ(0x84, in(0x20));
	CHECK_EQ(0x10, isr(0x20));
	out(0x20, 0x0c);
	CHECK_EQ(0x00, in(0x20));
	out(0x20, 0x20);
	/* Special mask mode: a masked in-service IR1 no longer blocks IR3. */
	khv_pic_set_irq(&p, 1, true);
	CHECK_EQ(0x31, khv_pic_ack(&p));
	khv_pic_set_irq(&p, 3, true);
	CHECK(!o.out, "IR3 under IR1");
	out(0x21, 0x02);
	out(0x20, 0x68);			/* set special mask */
	CHECK(o.out, "special mask mode");
	out(0x20, 0x48);			/* clear it */
	CHECK(!o.out, "back to normal");
}

/* Round trip mid-interrupt: a fresh pair continues where the first was. */
static void test_state(void)
{
	struct khv_pic_chip_state st[2], bad[2];

	setup(0x01, 0xfb, 0xef);		/* master IR2, slave IR4 (IRQ12) */
	out(0x4d1, 0x10);			/* IRQ12 level */
	khv_pic_set_irq(&p, 12, true);
	CHECK_EQ(0x3c, khv_pic_ack(&p));	/* in service on both chips */
	out(0x20, 0x0b);			/* OCW3: reads give ISR */
	khv_pic_get_state(&p, st);
	CHECK_EQ(0x04, st[0].isr);
	CHECK_EQ(0x10, st[1].isr);
	CHECK_EQ(0x10, st[1].elcr);
	CHECK_EQ(0x38, st[1].vector_base);
	CHECK(st[0].flags & KHV_PIC_READ_ISR, "OCW3 read select saved");
	CHECK_EQ(0, khv_pic_check_state(&p, st));
	spin_unlock(&p.lock);

	memset(&o, 0, sizeof(o));
	khv_pic_init(&p, &ops, &o);
	spin_lock(&p.lock);
	khv_pic_set_state(&p, st);
	CHECK(!o.out, "IRQ12 in service: no output yet");
	CHECK_EQ(0x04, in(0x20));		/* ISR, as selected */
	out(0xa0, 0x20);
	out(0x20, 0x20);
	CHECK(o.out, "the level line still high asks again after the EOIs");
	CHECK_EQ(0x3c, khv_pic_ack(&p));
#define REFUSED(mutation) do {						\
		memcpy(bad, st, sizeof(bad));				\
		mutation;						\
		CHECK_EQ((u64)-EINVAL, (u64)khv_pic_check_state(&p, bad));	\
	} while (0)
	REFUSED(bad[0].flags = 0x100);
	REFUSED(bad[1].pad = 1);
	REFUSED(bad[0].vector_base = 0x31);
	REFUSED(bad[1].lowest = 8);
	REFUSED(bad[0].init_step = 1);
	REFUSED(bad[0].init_step = 5);
	REFUSED(bad[0].elcr = 0x01);		/* IRQ0 is always edge */
	REFUSED(bad[1].elcr = 0x01);		/* so is IRQ8 */
#undef REFUSED
	spin_unlock(&p.lock);
}

const struct irq_test pic_tests[] = {
	{ "init_and_edge", test_init_and_edge },
	{ "priority_nesting", test_priority_nesting },
	{ "cascade", test_cascade },
	{ "special_fully_nested", test_special_fully_nested },
	{ "spurious_and_level", test_spurious_and_level },
	{ "auto_eoi_and_rotation", test_auto_eoi_and_rotation },
	{ "poll_and_special_mask", test_poll_and_special_mask },
	{ "state", test_state },
};

const unsigned int nr_pic_tests = ARRAY_SIZE(pic_tests);
