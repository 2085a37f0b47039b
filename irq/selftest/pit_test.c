// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of irq/pit.c: ports driven as Linux drives them (the TSC
 * calibration on channel 2, the periodic tick on channel 0), a clock the
 * test moves by hand, IRQ0 pulses counted.  Facts from the 8254 datasheet.
 */
#include "irq_test.h"
#include "irq/pit.h"
#include "uapi/linux/khv.h"

static struct {
	u64 now;
	unsigned int irqs, changes;
} o;

static void irq0(struct khv_pit *pit)
{
	(void)pit;
	o.irqs++;
}

static void timer_changed(struct khv_pit *pit)
{
	(void)pit;
	o.changes++;
}

static u64 now_ns(struct khv_pit *pit)
{
	(void)pit;
	return o.now;
}

static const struct khv_pit_ops ops = {
	.irq0 = irq0, .timer_changed = timer_changed, .now_ns = now_ns,
};
static struct khv_pit t;

static void setup(void)
{
	memset(&o, 0, sizeof(o));
	o.now = 1000000000;
	khv_pit_init(&t, &ops, &o);
	spin_lock(&t.lock);
}

static void out(u16 port, u8 v)
{
	CHECK(khv_pit_port_write(&t, port, v), "port 0x%x not taken", port);
}

static u8 in(u16 port)
{
	u8 v = 0xee;

	CHECK(khv_pit_port_read(&t, port, &v), "port 0x%x not taken", port);
	return v;
}

static u16 in16(u16 port)
{
	u8 lo = in(port);

	return lo | in(port) << 8;
}

/* ns for n clocks of 1.193182 MHz, rounded down. */
static u64 ns(u64 n)
{
	return n * 1000000000ull / KHV_PIT_HZ;
}

/* Fire the host timer at its deadline, as the owner would. */
static void run_to_irq(void)
{
	o.now = khv_pit_next_irq_ns(&t);
	khv_pit_timer_fire(&t);
}

static void test_linux_tsc_calibration(void)
{
	setup();
	/* pit_calibrate_tsc(): gate 2 high, speaker off; ch2 mode 0; count. */
	out(0x61, (in(0x61) & ~0x02) | 0x01);
	out(0x43, 0xb0);
	out(0x42, 0xff);
	out(0x42, 0xff);
	CHECK_EQ(0, in(0x61) & 0x20);			/* OUT2 low while counting */
	o.now += ns(1193) + 1;
	CHECK_EQ(0xffff - 1193, in16(0x42));
	o.now += ns(0xffff - 1193);
	CHECK_EQ(0, in(0x61) & 0x20);
	o.now += ns(2);
	CHECK_EQ(0x20, in(0x61) & 0x20);		/* terminal count */
	CHECK_EQ(0x01, in(0x61) & 0x03);
	/* Channel 2 never raises IRQ0. */
	CHECK_EQ(0, khv_pit_next_irq_ns(&t));
	CHECK_EQ(0, o.irqs);
}

static void test_periodic_tick(void)
{
	u64 load;

	setup();
	/* Linux's PIT clockevent, periodic: ch0 LSB/MSB mode 2, LATCH 1193. */
	out(0x43, 0x34);
	load = o.now;
	out(0x40, 1193 & 0xff);
	out(0x40, 1193 >> 8);
	CHECK_EQ(load + ns(1193) + 1, khv_pit_next_irq_ns(&t));
	o.now = load + ns(600) + 1;
	CHECK_EQ(1193 - 600, in16(0x40));
	run_to_irq();
	CHECK_EQ(1, o.irqs);
	CHECK_EQ(load + 2 * (ns(1193) + 1), khv_pit_next_irq_ns(&t));
	run_to_irq();
	CHECK_EQ(2, o.irqs);
	/* Early: nothing. */
	o.now -= 10;
	khv_pit_timer_fire(&t);
	CHECK_EQ(2, o.irqs);
	/* The host was 10 periods late: one IRQ, the rest skipped and counted. */
	o.now = khv_pit_next_irq_ns(&t) + 10 * (ns(1193) + 1) + 5;
	khv_pit_timer_fire(&t);
	CHECK_EQ(3, o.irqs);
	CHECK_EQ(10, t.missed);
	CHECK(khv_pit_next_irq_ns(&t) > o.now, "next IRQ in the future");
	CHECK(khv_pit_next_irq_ns(&t) - o.now <= ns(1193) + 1, "within a period");
	/* Count 0 is 65536. */
	out(0x43, 0x34);
	load = o.now;
	out(0x40, 0);
	out(0x40, 0);
	CHECK_EQ(load + ns(65536) + 1, khv_pit_next_irq_ns(&t));
	CHECK_EQ(0, t.clamped);
}

static void test_square_wave_and_clamp(void)
{
	setup();
	out(0x43, 0x36);				/* ch0 mode 3 */
	out(0x40, 100);
	out(0x40, 0);
	CHECK_EQ(1, t.clamped);			/* 100 clocks = 84 us */
	CHECK_EQ(o.now + KHV_PIT_MIN_PERIOD_NS, khv_pit_next_irq_ns(&t));
	o.now += ns(10) + 1;
	out(0x43, 0xe2);				/* read-back: status of ch0 */
	CHECK_EQ(0x80 | 0x36, in(0x40));		/* OUT high, count loaded */
	CHECK_EQ(100 - 20, in16(0x40));		/* decrements by two */
	o.now += ns(39);				/* 49 clocks */
	out(0x43, 0xe2);
	CHECK_EQ(0x80 | 0x36, in(0x40));
	o.now += ns(1) + 1;				/* 50: the second half */
	out(0x43, 0xe2);
	CHECK_EQ(0x36, in(0x40));			/* OUT low */
	/* Mode 6 is 2: OUT low the clock before the reload. */
	out(0x43, 0x3c);
	out(0x40, 100);
	out(0x40, 0);
	o.now += ns(99) + 1;
	out(0x43, 0xe2);
	CHECK_EQ(0x3c, in(0x40));
	/* Mode 7 is 3 (the status shows the bits as written). */
	out(0x43, 0x3e);
	out(0x40, 100);
	out(0x40, 0);
	o.now += ns(60) + 1;
	out(0x43, 0xe2);
	CHECK_EQ(0x3e, in(0x40));			/* second half: OUT low */
}

static void test_one_shot(void)
{
	setup();
	out(0x43, 0x30);				/* ch0 mode 0 */
	out(0x43, 0xe2);
	CHECK_EQ(0x70, in(0x40));			/* OUT low, null count */
	out(0x40, 1000 & 0xff);
	CHECK_EQ(0, khv_pit_next_irq_ns(&t));	/* first byte stops the count */
	out(0x40, 1000 >> 8);
	CHECK_EQ(o.now + ns(1000) + 1, khv_pit_next_irq_ns(&t));
	/* A new count's first byte stops a running one, its second restarts. */
	o.now += 1000;
	out(0x40, 1000 & 0xff);
	CHECK_EQ(0, khv_pit_next_irq_ns(&t));
	out(0x40, 1000 >> 8);
	CHECK_EQ(o.now + ns(1000) + 1, khv_pit_next_irq_ns(&t));
	run_to_irq();
	CHECK_EQ(1, o.irqs);
	CHECK_EQ(0, khv_pit_next_irq_ns(&t));
	o.now += 1000000;
	khv_pit_timer_fire(&t);
	CHECK_EQ(1, o.irqs);
	/* Past terminal count the counter wraps and keeps going. */
	CHECK_EQ((u16)(1000 - (ns(1000) + 1 + 1000000) * KHV_PIT_HZ / 1000000000ull), in16(0x40));
	/* Mode 4: IRQ0 rises one clock after terminal count. */
	out(0x43, 0x38);
	out(0x40, 10);
	out(0x40, 0);
	CHECK_EQ(o.now + ns(11) + 1, khv_pit_next_irq_ns(&t));
	o.now += ns(10) + 1;
	out(0x43, 0xe2);
	CHECK_EQ(0x38, in(0x40));			/* the one clock low */
}

static void test_latches(void)
{
	setup();
	out(0x43, 0x34);
	out(0x40, 0x00);
	out(0x40, 0x10);				/* 4096 */
	o.now += ns(96) + 1;
	out(0x43, 0x00);				/* counter latch, ch0 */
	o.now += ns(1000);
	CHECK_EQ(4000, in16(0x40));
	CHECK_EQ(4096 - 1096, in16(0x40));	/* latch released */
	/* A second latch while one is held is ignored. */
	out(0x43, 0x00);
	o.now += ns(100);
	out(0x43, 0x00);
	CHECK_EQ(4096 - 1096, in16(0x40));
	/* Read-back of count and status together: status first. */
	out(0x43, 0xc2);
	CHECK_EQ(0x80 | 0x34, in(0x40));
	CHECK_EQ(4096 - 1196, in16(0x40));
	/* LSB-only and MSB-only access. */
	out(0x43, 0x54);				/* ch1, LSB only, mode 2 */
	out(0x41, 200);
	o.now += ns(50) + 1;
	CHECK_EQ(150, in(0x41));
	CHECK_EQ(150, in(0x41));
	out(0x43, 0x64);				/* ch1, MSB only */
	out(0x41, 2);					/* 512 */
	o.now += ns(256) + 1;
	CHECK_EQ(1, in(0x41));
	out(0x43, 0x40);				/* latch ch1: still the MSB */
	CHECK_EQ(1, in(0x41));
	/* The control register reads nothing; other ports are not the PIT's. */
	CHECK_EQ(0xff, in(0x43));
	CHECK(!khv_pit_port_write(&t, 0x44, 0), "port 0x44 is not the PIT's");
}

static void test_bcd(void)
{
	setup();
	out(0x43, 0x31);				/* ch0 mode 0 BCD */
	out(0x40, 0x00);
	out(0x40, 0x01);				/* 100 */
	o.now += ns(10) + 1;
	CHECK_EQ(0x0090, in16(0x40));
	out(0x43, 0x31);
	out(0x40, 0);
	out(0x40, 0);					/* 0 = 10000 */
	CHECK_EQ(o.now + ns(10000) + 1, khv_pit_next_irq_ns(&t));
}

static void test_gate(void)
{
	u64 t0;

	setup();
	/* Mode 2 on ch2 with the gate low: OUT held high, no counting effect. */
	out(0x43, 0xb4);
	out(0x42, 10);
	out(0x42, 0);
	o.now += ns(9) + 1;
	CHECK_EQ(0x20, in(0x61) & 0x20);
	/* Rising gate restarts the count. */
	out(0x61, 0x01);
	t0 = o.now;
	o.now = t0 + ns(9) + 1;
	CHECK_EQ(0x00, in(0x61) & 0x20);		/* the clock before reload */
	CHECK_EQ(1, in16(0x42));
	/* Mode 1: waits for a gate edge, then OUT low for the count. */
	out(0x61, 0x00);
	out(0x43, 0xb2);
	out(0x42, 20);
	out(0x42, 0);
	CHECK_EQ(0x20, in(0x61) & 0x20);
	o.now += ns(100);
	CHECK_EQ(20, in16(0x42));			/* not started */
	out(0x61, 0x01);
	CHECK_EQ(0x00, in(0x61) & 0x20);
	o.now += ns(20) + 1;
	CHECK_EQ(0x20, in(0x61) & 0x20);
	/* Bit 4 toggles with the refresh clock; bit 1 is the speaker. */
	o.now = 7 * KHV_PIT_REFRESH_NS;
	CHECK_EQ(0x10, in(0x61) & 0x10);
	o.now += KHV_PIT_REFRESH_NS;
	CHECK_EQ(0x00, in(0x61) & 0x10);
	out(0x61, 0x03);
	CHECK_EQ(0x03, in(0x61) & 0x03);
}

/* Save mid-period, restore much later: counts and IRQ0 keep their phase. */
static void test_state(void)
{
	struct khv_pit_state st, bad;
	u64 load, saved_at;

	setup();
	out(0x43, 0x34);			/* ch0 mode 2, LSB/MSB */
	load = o.now;
	out(0x40, 1193 & 0xff);
	out(0x40, 1193 >> 8);
	out(0x43, 0xb6);			/* ch2 mode 3 */
	out(0x42, 0x00);			/* first byte only: MSB next */
	out(0x61, 0x03);			/* gate 2 and speaker */
	saved_at = load + ns(300) + 1;
	o.now = saved_at;
	khv_pit_get_state(&t, &st);
	CHECK_EQ(1193, st.ch[0].count);
	CHECK_EQ(2, st.ch[0].mode);
	CHECK(st.ch[0].flags & KHV_PIT_CH_ARMED, "ch0 counting");
	CHECK(st.ch[2].flags & KHV_PIT_CH_WRITE_MSB, "half-written count saved");
	CHECK_EQ(KHV_PIT_SPEAKER, st.flags);
	CHECK_EQ(load + ns(1193) + 1 - saved_at, st.irq0_in_ns);
	CHECK_EQ(0, khv_pit_check_state(&st));
	spin_unlock(&t.lock);

	setup();
	o.now = 5000000000ull;
	khv_pit_set_state(&t, &st);
	CHECK(o.changes > 0, "host timer not re-armed");
	CHECK_EQ(1193 - 300, in16(0x40));
	CHECK_EQ(o.now + st.irq0_in_ns, khv_pit_next_irq_ns(&t));
	run_to_irq();
	CHECK_EQ(1, o.irqs);
	CHECK_EQ(5000000000ull + st.irq0_in_ns + ns(1193) + 1, khv_pit_next_irq_ns(&t));
	out(0x42, 0x10);			/* the MSB completes ch2's count */
	CHECK_EQ(0x1000, t.ch[2].count);
	CHECK_EQ(0x03, in(0x61) & 0x03);
#define REFUSED(mutation) do {						\
		bad = st;						\
		mutation;						\
		CHECK_EQ((u64)-EINVAL, (u64)khv_pit_check_state(&bad));	\
	} while (0)
	REFUSED(bad.flags = 2);
	REFUSED(bad.pad = 1);
	REFUSED(bad.ch[1].count = 0);
	REFUSED(bad.ch[1].count = 65537);
	REFUSED(bad.ch[0].mode = 6);
	REFUSED(bad.ch[0].rw = 0);
	REFUSED(bad.ch[2].flags = 0x80);
	REFUSED(bad.ch[1].flags &= ~KHV_PIT_CH_GATE);
	REFUSED(bad.ch[1].elapsed_ns = 5);	/* not counting */
	REFUSED(bad.irq0_in_ns = 0);		/* periodic: always one ahead */
	REFUSED(bad.irq0_in_ns = 1000000000);	/* beyond a period */
	REFUSED(bad.ch[0].mode = 1);		/* no IRQ0 without a gate edge */
#undef REFUSED
	spin_unlock(&t.lock);

	/* A one-shot (mode 0) whose IRQ0 came already: none after the restore. */
	setup();
	out(0x43, 0x30);
	out(0x40, 100);
	out(0x40, 0);
	run_to_irq();
	CHECK_EQ(1, o.irqs);
	o.now += ns(50);
	khv_pit_get_state(&t, &st);
	CHECK_EQ(0, st.irq0_in_ns);
	spin_unlock(&t.lock);
	setup();
	khv_pit_set_state(&t, &st);
	CHECK_EQ(0, khv_pit_next_irq_ns(&t));
	spin_unlock(&t.lock);
}

const struct irq_test pit_tests[] = {
	{ "linux_tsc_calibration", test_linux_tsc_calibration },
	{ "periodic_tick", test_periodic_tick },
	{ "square_wave_and_clamp", test_square_wave_and_clamp },
	{ "one_shot", test_one_shot },
	{ "latches", test_latches },
	{ "bcd", test_bcd },
	{ "gate", test_gate },
	{ "state", test_state },
};

const unsigned int nr_pit_tests = ARRAY_SIZE(pit_tests);
