// SPDX-License-Identifier: GPL-2.0
/*
 * The RTC (rtc.c) on a fake clock: time in BCD and binary, 12 and 24
 * hours, UIP, setting the time the way Linux does, update-ended, alarm and
 * periodic flags and interrupts, CMOS memory; and the timerfd path on the
 * real clock through a running loop.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../machine.h"
#include "../rtc.h"
#include "t.h"

#define MS	1000000ll
#define SEC	1000000000ll

static int64_t fake_ns;

static int64_t fake_now(void *opaque)
{
	(void)opaque;
	return __atomic_load_n(&fake_ns, __ATOMIC_SEQ_CST);
}

struct irq_rec {
	int level, rises, sets;
};

static void irq_rec_set(void *opaque, unsigned int gsi, int level)
{
	struct irq_rec *r = opaque;

	(void)gsi;
	__atomic_add_fetch(&r->rises, level && !r->level, __ATOMIC_SEQ_CST);
	__atomic_store_n(&r->level, level, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&r->sets, 1, __ATOMIC_SEQ_CST);
}

struct clock {
	struct kr_bus bus;
	struct irq_rec irq;
	struct kr_rtc *rtc;
};

static int64_t utc(int y, int mon, int d, int h, int m, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = m, .tm_sec = s };

	return timegm(&tm);
}

static void clock_init(struct clock *c, int64_t start, struct kr_loop *loop,
		       int64_t (*now)(void *))
{
	struct kr_rtc_params p = {
		.irq = { irq_rec_set, &c->irq, KR_GSI_RTC },
		.loop = loop,
		.has_start = true,
		.start = start,
		.now_ns = now,
	};

	memset(c, 0, sizeof(*c));
	kr_bus_init(&c->bus, "pio");
	c->rtc = kr_rtc_create(&p);
	CHECK(c->rtc != NULL);
	CHECK_EQ(kr_rtc_attach(c->rtc, &c->bus), 0);
}

static void clock_fini(struct clock *c)
{
	kr_rtc_destroy(c->rtc);
	kr_bus_free(&c->bus);
}

/* The NMI-disable bit set, as Linux does not but firmware may. */
static uint8_t cmos_read(struct clock *c, uint8_t idx)
{
	uint8_t v = idx | 0x80;

	kr_bus_access(&c->bus, KR_PORT_RTC, &v, 1, true);
	kr_bus_access(&c->bus, KR_PORT_RTC + 1, &v, 1, false);
	return v;
}

static void cmos_write(struct clock *c, uint8_t idx, uint8_t v)
{
	kr_bus_access(&c->bus, KR_PORT_RTC, &idx, 1, true);
	kr_bus_access(&c->bus, KR_PORT_RTC + 1, &v, 1, true);
}

static void advance(int64_t ns)
{
	__atomic_add_fetch(&fake_ns, ns, __ATOMIC_SEQ_CST);
}

KR_TEST(rtc_time_bcd)
{
	struct clock c;

	fake_ns = 1000 * SEC;
	clock_init(&c, utc(2024, 2, 28, 23, 59, 58), NULL, fake_now);
	CHECK_EQ(cmos_read(&c, 0x0a), 0x26);
	CHECK_EQ(cmos_read(&c, 0x0b), 0x02);	/* BCD, 24 h */
	CHECK_EQ(cmos_read(&c, 0x0d), 0x80);
	CHECK_EQ(cmos_read(&c, 0x00), 0x58);
	CHECK_EQ(cmos_read(&c, 0x02), 0x59);
	CHECK_EQ(cmos_read(&c, 0x04), 0x23);
	CHECK_EQ(cmos_read(&c, 0x06), 0x04);	/* Wednesday; Sunday is 1 */
	CHECK_EQ(cmos_read(&c, 0x07), 0x28);
	CHECK_EQ(cmos_read(&c, 0x08), 0x02);
	CHECK_EQ(cmos_read(&c, 0x09), 0x24);
	CHECK_EQ(cmos_read(&c, 0x32), 0x20);
	advance(SEC - 1);
	CHECK_EQ(cmos_read(&c, 0x00), 0x58);
	advance(1);
	CHECK_EQ(cmos_read(&c, 0x00), 0x59);
	advance(SEC);				/* a leap day */
	CHECK_EQ(cmos_read(&c, 0x00), 0x00);
	CHECK_EQ(cmos_read(&c, 0x04), 0x00);
	CHECK_EQ(cmos_read(&c, 0x07), 0x29);
	CHECK_EQ(cmos_read(&c, 0x08), 0x02);
	clock_fini(&c);

	/* The century rolls over with the year. */
	clock_init(&c, utc(2099, 12, 31, 23, 59, 59), NULL, fake_now);
	advance(SEC);
	CHECK_EQ(cmos_read(&c, 0x09), 0x00);
	CHECK_EQ(cmos_read(&c, 0x32), 0x21);
	CHECK_EQ(cmos_read(&c, 0x08), 0x01);
	clock_fini(&c);
}

KR_TEST(rtc_binary_12h)
{
	struct clock c;

	fake_ns = 5000 * SEC;
	clock_init(&c, utc(2023, 11, 5, 13, 7, 9), NULL, fake_now);
	cmos_write(&c, 0x0b, 0x04);		/* binary, 12 h */
	CHECK_EQ(cmos_read(&c, 0x04), 0x81);	/* 1 PM */
	CHECK_EQ(cmos_read(&c, 0x02), 7);
	CHECK_EQ(cmos_read(&c, 0x09), 23);
	CHECK_EQ(cmos_read(&c, 0x32), 20);
	advance((24 - 13) * 3600 * SEC);	/* 00:07: 12 AM */
	CHECK_EQ(cmos_read(&c, 0x04), 12);
	advance(12 * 3600 * SEC);		/* 12:07: 12 PM */
	CHECK_EQ(cmos_read(&c, 0x04), 0x8c);
	cmos_write(&c, 0x0b, 0x00);		/* BCD, 12 h */
	CHECK_EQ(cmos_read(&c, 0x04), 0x92);
	clock_fini(&c);
}

KR_TEST(rtc_uip)
{
	struct clock c;

	fake_ns = 77 * SEC;
	clock_init(&c, utc(2024, 1, 1, 0, 0, 0), NULL, fake_now);
	CHECK_EQ(cmos_read(&c, 0x0a) & 0x80, 0);
	advance(SEC - 245000);
	CHECK_EQ(cmos_read(&c, 0x0a) & 0x80, 0);
	advance(2000);
	CHECK_EQ(cmos_read(&c, 0x0a), 0xa6);	/* UIP, then the update */
	CHECK_EQ(cmos_read(&c, 0x00), 0x00);
	advance(243000);
	CHECK_EQ(cmos_read(&c, 0x0a) & 0x80, 0);
	CHECK_EQ(cmos_read(&c, 0x00), 0x01);
	/* Stopped by SET: no UIP, no update. */
	cmos_write(&c, 0x0b, 0x82);
	advance(SEC - 100000);
	CHECK_EQ(cmos_read(&c, 0x0a) & 0x80, 0);
	advance(5 * SEC);
	CHECK_EQ(cmos_read(&c, 0x00), 0x01);
	clock_fini(&c);
}

/* As mc146818_set_time(): SET and divider reset, fields, then both released. */
static void linux_set_time(struct clock *c, uint8_t y, uint8_t mon, uint8_t d, uint8_t h,
			   uint8_t m, uint8_t s, uint8_t century)
{
	uint8_t ctl = cmos_read(c, 0x0b), freq = cmos_read(c, 0x0a);

	cmos_write(c, 0x0b, ctl | 0x80);
	cmos_write(c, 0x0a, freq | 0x70);
	cmos_write(c, 0x09, y);
	cmos_write(c, 0x08, mon);
	cmos_write(c, 0x07, d);
	cmos_write(c, 0x04, h);
	cmos_write(c, 0x02, m);
	cmos_write(c, 0x00, s);
	cmos_write(c, 0x32, century);
	cmos_write(c, 0x0b, ctl);
	cmos_write(c, 0x0a, freq);
}

KR_TEST(rtc_set_time)
{
	struct clock c;

	fake_ns = 100 * SEC;
	clock_init(&c, utc(2024, 3, 31, 10, 0, 0), NULL, fake_now);
	/* Month first on the 31st: no stop at "February 31st". */
	linux_set_time(&c, 0x24, 0x02, 0x15, 0x08, 0x30, 0x45, 0x20);
	CHECK_EQ(cmos_read(&c, 0x08), 0x02);
	CHECK_EQ(cmos_read(&c, 0x07), 0x15);
	CHECK_EQ(cmos_read(&c, 0x04), 0x08);
	CHECK_EQ(cmos_read(&c, 0x02), 0x30);
	CHECK_EQ(cmos_read(&c, 0x00), 0x45);
	CHECK_EQ(cmos_read(&c, 0x06), 0x05);	/* a Thursday: derived */
	/* The divider restarts: first update 500 ms later. */
	advance(499 * MS);
	CHECK_EQ(cmos_read(&c, 0x00), 0x45);
	advance(1 * MS);
	CHECK_EQ(cmos_read(&c, 0x00), 0x46);
	advance(SEC);
	CHECK_EQ(cmos_read(&c, 0x00), 0x47);

	/* While stopped the registers read back as written, nonsense too. */
	cmos_write(&c, 0x0b, 0x82);
	cmos_write(&c, 0x08, 0x13);
	CHECK_EQ(cmos_read(&c, 0x08), 0x13);
	cmos_write(&c, 0x0b, 0x02);
	CHECK_EQ(cmos_read(&c, 0x08), 0x01);	/* month 13: January next year */
	CHECK_EQ(cmos_read(&c, 0x09), 0x25);

	/* A field written while running changes just that field. */
	cmos_write(&c, 0x04, 0x17);
	CHECK_EQ(cmos_read(&c, 0x04), 0x17);
	CHECK_EQ(cmos_read(&c, 0x02), 0x30);
	clock_fini(&c);
}

KR_TEST(rtc_update_interrupt)
{
	struct clock c;

	fake_ns = 10 * SEC;
	clock_init(&c, utc(2024, 1, 1, 0, 0, 0), NULL, fake_now);
	CHECK_EQ(cmos_read(&c, 0x0c), 0);
	/* The default 1024 Hz rate sets PF, enabled or not; rate 0 stops it. */
	advance(MS);
	CHECK_EQ(cmos_read(&c, 0x0c), 0x40);
	CHECK_EQ(c.irq.level, 0);
	cmos_write(&c, 0x0a, 0x20);
	cmos_write(&c, 0x0b, 0x12);		/* UIE */
	advance(SEC - MS);
	CHECK_EQ(c.irq.level, 0);		/* no loop: seen at the next access */
	CHECK_EQ(cmos_read(&c, 0x0a) & 0x80, 0);
	CHECK_EQ(c.irq.level, 1);
	CHECK_EQ(cmos_read(&c, 0x0c), 0x90);	/* IRQF, UF */
	CHECK_EQ(c.irq.level, 0);
	CHECK_EQ(cmos_read(&c, 0x0c), 0x00);
	/* The flag without its enable: no IRQF, no line. */
	cmos_write(&c, 0x0b, 0x02);
	advance(SEC);
	CHECK_EQ(cmos_read(&c, 0x0c), 0x10);
	CHECK_EQ(c.irq.rises, 1);
	/* Setting SET clears UIE. */
	cmos_write(&c, 0x0b, 0x92);
	CHECK_EQ(cmos_read(&c, 0x0b), 0x82);
	clock_fini(&c);
}

KR_TEST(rtc_alarm)
{
	struct clock c;

	fake_ns = 10 * SEC;
	clock_init(&c, utc(2024, 1, 1, 12, 30, 0), NULL, fake_now);
	cmos_write(&c, 0x0a, 0x20);		/* no periodic flag */
	cmos_write(&c, 0x01, 0x03);
	cmos_write(&c, 0x03, 0x30);
	cmos_write(&c, 0x05, 0x12);
	cmos_write(&c, 0x0b, 0x22);		/* AIE */
	advance(2 * SEC);
	CHECK_EQ(cmos_read(&c, 0x0c), 0x10);	/* updates, no alarm yet */
	CHECK_EQ(c.irq.level, 0);
	advance(SEC);
	CHECK_EQ(c.irq.level, 0);
	CHECK_EQ(cmos_read(&c, 0x0c), 0xb0);	/* IRQF, AF, UF */
	CHECK_EQ(c.irq.rises, 1);

	/* Don't-care hours and minutes: every minute at :10. */
	cmos_write(&c, 0x01, 0x10);
	cmos_write(&c, 0x03, 0xc0);
	cmos_write(&c, 0x05, 0xff);
	advance(60 * SEC);			/* 12:31:03, past 12:30:10 */
	CHECK_EQ(cmos_read(&c, 0x0c) & 0x20, 0x20);
	advance(6 * SEC);
	CHECK_EQ(cmos_read(&c, 0x0c) & 0x20, 0);
	advance(SEC);				/* 12:31:10 */
	CHECK_EQ(cmos_read(&c, 0x0c) & 0x20, 0x20);

	/* A long silence still sees the match in between, AIE or not. */
	cmos_write(&c, 0x0b, 0x02);
	cmos_write(&c, 0x01, 0x00);
	cmos_write(&c, 0x03, 0x00);
	cmos_write(&c, 0x05, 0x03);		/* 03:00:00 */
	advance(3 * 86400 * SEC);
	CHECK_EQ(cmos_read(&c, 0x0c), 0x30);
	/* An alarm that can never match. */
	cmos_write(&c, 0x01, 0x7f);
	advance(2 * 86400 * SEC);
	CHECK_EQ(cmos_read(&c, 0x0c), 0x10);
	clock_fini(&c);
}

KR_TEST(rtc_periodic)
{
	struct clock c;

	fake_ns = 10 * SEC;
	clock_init(&c, utc(2024, 1, 1, 0, 0, 0), NULL, fake_now);
	cmos_write(&c, 0x0a, 0x20);		/* rate 0: none */
	cmos_write(&c, 0x0b, 0x42);		/* PIE */
	advance(100 * MS);
	CHECK_EQ(cmos_read(&c, 0x0c) & 0x40, 0);
	cmos_write(&c, 0x0a, 0x2f);		/* 2 Hz: ticks at 10.5 s, 11 s... */
	advance(300 * MS);
	CHECK_EQ(cmos_read(&c, 0x0c) & 0x40, 0);
	advance(200 * MS);
	cmos_read(&c, 0x0a);
	CHECK_EQ(c.irq.level, 1);
	CHECK_EQ(cmos_read(&c, 0x0c) & 0xc0, 0xc0);
	CHECK_EQ(c.irq.level, 0);
	cmos_write(&c, 0x0a, 0x23);		/* 8192 Hz */
	advance(123000);
	CHECK_EQ(cmos_read(&c, 0x0c) & 0xc0, 0xc0);
	/* Divider in reset: no periodic ticks. */
	cmos_write(&c, 0x0a, 0x63);
	advance(SEC);
	CHECK_EQ(cmos_read(&c, 0x0c), 0);
	clock_fini(&c);
}

KR_TEST(rtc_cmos_memory)
{
	struct clock c;
	uint8_t d[2];

	fake_ns = 10 * SEC;
	clock_init(&c, utc(2024, 1, 1, 0, 0, 0), NULL, fake_now);
	for (int i = 0x0e; i < 0x80; i++)
		if (i != 0x32)
			cmos_write(&c, i, i ^ 0x5a);
	for (int i = 0x0e; i < 0x80; i++)
		if (i != 0x32)
			CHECK_EQ(cmos_read(&c, i), i ^ 0x5a);
	/* Index bit 7 is NMI disable, not address. */
	cmos_write(&c, 0xc0, 0x11);
	CHECK_EQ(cmos_read(&c, 0x40), 0x11);
	/* Read-only: UIP, C, D. */
	cmos_write(&c, 0x0a, 0xa6);
	CHECK_EQ(cmos_read(&c, 0x0a), 0x26);
	cmos_write(&c, 0x0c, 0xff);
	CHECK_EQ(cmos_read(&c, 0x0c), 0x00);
	cmos_write(&c, 0x0d, 0x00);
	CHECK_EQ(cmos_read(&c, 0x0d), 0x80);

	kr_rtc_set_mem_sizes(c.rtc, 3ull << 30, 5ull << 30);
	CHECK_EQ(cmos_read(&c, 0x15), 0x80);	/* 640 KiB */
	CHECK_EQ(cmos_read(&c, 0x16), 0x02);
	CHECK_EQ(cmos_read(&c, 0x17), 0xff);	/* capped */
	CHECK_EQ(cmos_read(&c, 0x18), 0xff);
	CHECK_EQ(cmos_read(&c, 0x30), 0xff);
	CHECK_EQ(cmos_read(&c, 0x31), 0xff);
	CHECK_EQ(cmos_read(&c, 0x34), 0x00);	/* (3 GiB - 16 MiB) / 64 KiB = 0xbf00 */
	CHECK_EQ(cmos_read(&c, 0x35), 0xbf);
	CHECK_EQ(cmos_read(&c, 0x5b), 0x00);	/* 5 GiB / 64 KiB = 0x14000 */
	CHECK_EQ(cmos_read(&c, 0x5c), 0x40);
	CHECK_EQ(cmos_read(&c, 0x5d), 0x01);
	kr_rtc_set_mem_sizes(c.rtc, 8ull << 20, 0);
	CHECK_EQ(cmos_read(&c, 0x17), 0x00);	/* 7168 KiB = 0x1c00 */
	CHECK_EQ(cmos_read(&c, 0x18), 0x1c);
	CHECK_EQ(cmos_read(&c, 0x34), 0x00);
	CHECK_EQ(cmos_read(&c, 0x35), 0x00);
	CHECK_EQ(cmos_read(&c, 0x5d), 0x00);
	kr_rtc_set_cmos(c.rtc, 0x5f, 3);
	CHECK_EQ(cmos_read(&c, 0x5f), 3);
	kr_rtc_set_cmos(c.rtc, 200, 3);		/* out of range: ignored */

	/* A 16-bit access: index then data, the ISA way. */
	kr_put_le(d, 2, 0x0b | 0x06 << 8);
	kr_bus_access(&c.bus, KR_PORT_RTC, d, 2, true);
	CHECK_EQ(cmos_read(&c, 0x0b), 0x06);
	cmos_write(&c, 0x0b, 0x02);
	kr_bus_access(&c.bus, KR_PORT_RTC, d, 2, false);
	CHECK_EQ(d[0], 0x0b);
	CHECK_EQ(d[1], 0x02);
	clock_fini(&c);
}

KR_TEST(rtc_hostile)
{
	struct clock c;
	uint8_t d[8];

	fake_ns = 10 * SEC;
	clock_init(&c, utc(2024, 1, 1, 0, 0, 0), NULL, fake_now);
	/* Nonsense in every time register, in binary: clamped, no overflow. */
	cmos_write(&c, 0x0b, 0x86);
	for (int i = 0; i < 10; i++)
		cmos_write(&c, i, 0xff);
	cmos_write(&c, 0x32, 0xff);
	cmos_write(&c, 0x0b, 0x06);
	CHECK_EQ(cmos_read(&c, 0x32), 99);	/* year 9999 at most */
	advance(SEC);
	cmos_read(&c, 0x00);
	/* And in BCD, with zeros (day 0, month 0). */
	cmos_write(&c, 0x0b, 0x82);
	for (int i = 0; i < 10; i++)
		cmos_write(&c, i, i & 1 ? 0xaa : 0x00);
	cmos_write(&c, 0x32, 0x00);
	cmos_write(&c, 0x0b, 0x02);
	CHECK(cmos_read(&c, 0x08) <= 0x12);
	/* A start far outside the four-digit years. */
	clock_fini(&c);
	clock_init(&c, -(1ll << 62), NULL, fake_now);
	CHECK_EQ(cmos_read(&c, 0x09), 0x00);
	clock_fini(&c);
	clock_init(&c, 1ll << 62, NULL, fake_now);
	CHECK_EQ(cmos_read(&c, 0x09), 0x99);
	/* Random accesses of any size, a clock going anywhere forward. */
	srand(2);
	for (int i = 0; i < 5000; i++) {
		for (int j = 0; j < 8; j++)
			d[j] = rand();
		kr_bus_access(&c.bus, KR_PORT_RTC + rand() % 2, d, 1u << (rand() % 4),
			      rand() & 1);
		advance(rand() % 3 ? rand() % 1000000 : (int64_t)rand() * 1000);
	}
	{
		const struct kr_range *r = kr_bus_find(&c.bus, KR_PORT_RTC);

		memset(d, 0xee, sizeof(d));
		r->fn(r->opaque, ~0ull, d, 8, false);
		r->fn(r->opaque, 1, d, 8, false);
		CHECK_EQ(d[1], 0xee);
	}
	CHECK_EQ(cmos_read(&c, 0x0d), 0x80);
	clock_fini(&c);
}

/* The real clock shifted, so that a test need not wait for the next second. */
static int64_t shift_ns;

static int64_t shifted_now(void *opaque)
{
	struct timespec ts;

	(void)opaque;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * SEC + ts.tv_nsec + __atomic_load_n(&shift_ns, __ATOMIC_SEQ_CST);
}

static void *loop_main(void *arg)
{
	kr_loop_run(arg);
	return NULL;
}

static bool wait_rise(struct irq_rec *r, int rises, int ms)
{
	struct timespec ts = { 0, 1000000 };

	for (int i = 0; i < ms; i++) {
		if (__atomic_load_n(&r->rises, __ATOMIC_SEQ_CST) >= rises)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

KR_TEST(rtc_timer_interrupts)
{
	int fds = t_count_fds();
	struct kr_loop *l = kr_loop_new();
	struct clock c;
	pthread_t th;

	CHECK_EQ(pthread_create(&th, NULL, loop_main, l), 0);
	shift_ns = 0;
	clock_init(&c, utc(2024, 1, 1, 0, 0, 0), l, shifted_now);
	/* The first update is 1 s after creation: make it 30 ms away. */
	__atomic_add_fetch(&shift_ns, SEC - 30 * MS, __ATOMIC_SEQ_CST);
	cmos_write(&c, 0x0b, 0x12);		/* UIE */
	CHECK(wait_rise(&c.irq, 1, 1000));
	CHECK_EQ(cmos_read(&c, 0x0c) & 0x90, 0x90);
	CHECK_EQ(c.irq.level, 0);

	/* Periodic at 1024 Hz: each read of C lets the next tick through. */
	cmos_write(&c, 0x0b, 0x42);
	cmos_write(&c, 0x0a, 0x26);
	for (int i = 2; i < 5; i++) {
		CHECK(wait_rise(&c.irq, i, 1000));
		CHECK_EQ(cmos_read(&c, 0x0c) & 0xc0, 0xc0);
	}
	/* All interrupts off (a tick may have come first): nothing more. */
	cmos_write(&c, 0x0b, 0x02);
	cmos_read(&c, 0x0c);
	{
		int rises = __atomic_load_n(&c.irq.rises, __ATOMIC_SEQ_CST);

		CHECK(!wait_rise(&c.irq, rises + 1, 20));
		CHECK_EQ(c.irq.level, 0);
	}
	clock_fini(&c);
	kr_loop_stop(l);
	pthread_join(th, NULL);
	kr_loop_free(l);
	CHECK_EQ(t_count_fds(), fds);
}

/* ---- snapshot ----------------------------------------------------------- */

/* A clock pair of one's own: a saving and a restoring process do not share one. */
struct tclock {
	int64_t mono, wall;
};

static int64_t tc_mono(void *opaque)
{
	return __atomic_load_n(&((struct tclock *)opaque)->mono, __ATOMIC_SEQ_CST);
}

static int64_t tc_wall(void *opaque)
{
	return __atomic_load_n(&((struct tclock *)opaque)->wall, __ATOMIC_SEQ_CST);
}

/* On t's clocks (mono NULL: the real monotonic clock), with loop. */
static void tclock_init(struct clock *c, struct tclock *t, bool mono, struct kr_loop *loop)
{
	struct kr_rtc_params p = {
		.irq = { irq_rec_set, &c->irq, KR_GSI_RTC },
		.loop = loop,
		.has_start = true,
		.start = utc(2024, 1, 1, 0, 0, 0),
		.now_ns = mono ? tc_mono : NULL,
		.wall_ns = tc_wall,
		.now_opaque = t,
	};

	memset(c, 0, sizeof(*c));
	kr_bus_init(&c->bus, "pio");
	c->rtc = kr_rtc_create(&p);
	CHECK(c->rtc != NULL);
	CHECK_EQ(kr_rtc_attach(c->rtc, &c->bus), 0);
}

static int rtc_load_bytes(struct clock *c, const void *p, size_t n, char *why, size_t len)
{
	struct kr_sget g;
	int ret;

	kr_sget_init(&g, p, n, "rtc");
	ret = kr_rtc_load(c->rtc, &g);
	if (why)
		snprintf(why, len, "%s", g.why);
	return ret;
}

/* The time registers and the century, as a guest reads them. */
static void read_time(struct clock *c, uint8_t *v)
{
	static const uint8_t idx[] = { 0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32 };

	for (size_t i = 0; i < sizeof(idx); i++)
		v[i] = cmos_read(c, idx[i]);
}

#define W0	(1700000000ll * SEC)	/* the saving host's wall clock */

/*
 * An RTC set by the guest, with an alarm, a 2 Hz periodic rate, PF and UF
 * pending with PIE (the line up), CMOS bytes and the index register; 100
 * ms not yet accounted at the save.
 */
static void rtc_busy(struct clock *a, struct tclock *ta)
{
	uint8_t idx = 0x8c;

	ta->mono = 1000 * SEC;
	ta->wall = W0;
	tclock_init(a, ta, true, NULL);
	linux_set_time(a, 0x24, 0x06, 0x15, 0x12, 0x34, 0x50, 0x20);	/* updates 500 ms on */
	cmos_write(a, 0x0a, 0x2f);		/* 2 Hz */
	cmos_write(a, 0x01, 0x05);		/* alarm at 12:35:05 */
	cmos_write(a, 0x03, 0x35);
	cmos_write(a, 0x05, 0x12);
	cmos_write(a, 0x40, 0x99);
	cmos_write(a, 0x0b, 0x62);		/* PIE, AIE, 24 h, BCD */
	ta->mono += 800 * MS;
	CHECK_EQ(cmos_read(a, 0x0a), 0x2f);	/* accounts the update and the tick */
	CHECK_EQ(a->irq.level, 1);
	kr_bus_access(&a->bus, KR_PORT_RTC, &idx, 1, true);
	ta->mono += 100 * MS;			/* 12:34:51.4 */
}

KR_TEST(rtc_snapshot_round_trip)
{
	struct tclock ta, tb = { 50000 * SEC + 123, 0 };
	struct kr_sbuf b = { 0 };
	struct clock a, c;
	uint8_t va[8], vc[8], ia, ic;
	int rises_a, rises_c;

	rtc_busy(&a, &ta);
	CHECK_EQ(kr_rtc_save(a.rtc, &b), 0);
	CHECK(!b.oom);

	/* Restored 10 s later by the host's clock, in a process whose monotonic clock differs. */
	tb.wall = W0 + 10 * SEC;
	tclock_init(&c, &tb, true, NULL);
	CHECK_EQ(rtc_load_bytes(&c, b.p, b.len, NULL, 0), 0);
	CHECK_EQ(c.irq.sets, 0);		/* the irqchip restores the line */
	c.irq.level = 1;

	kr_bus_access(&a.bus, KR_PORT_RTC, &ia, 1, false);
	kr_bus_access(&c.bus, KR_PORT_RTC, &ic, 1, false);
	CHECK_EQ(ia, 0x8c);
	CHECK_EQ(ic, 0x8c);
	CHECK_EQ(cmos_read(&a, 0x0c), 0xd0);	/* IRQF, PF, UF */
	CHECK_EQ(cmos_read(&c, 0x0c), 0xd0);
	CHECK_EQ(a.irq.level, 0);
	CHECK_EQ(c.irq.level, 0);
	for (int i = 0x01; i < 0x80; i++) {
		if (i == 0x0a || i == 0x0c || (i < 0x0a && !(i & 1)) || i == 0x32)
			continue;	/* UIP, C and the time come below */
		CHECK_EQ(cmos_read(&c, i), cmos_read(&a, i));
	}
	CHECK_EQ(cmos_read(&c, 0x40), 0x99);
	CHECK_EQ(cmos_read(&c, 0x0b), 0x62);

	/* The time went on with the host's clock: a reads so 10 s on. */
	read_time(&c, vc);
	CHECK_EQ(vc[0], 0x01);
	CHECK_EQ(vc[1], 0x35);
	CHECK_EQ(vc[2], 0x12);
	ta.mono += 10 * SEC;
	read_time(&a, va);
	CHECK(!memcmp(va, vc, sizeof(va)));
	cmos_read(&a, 0x0c);			/* the 10 s of events a saw and c did not */

	/* From here both tick in step: the divider kept its phase (0.4 s). */
	rises_a = a.irq.rises;
	rises_c = c.irq.rises;
	for (int i = 0; i < 9; i++) {		/* to 12:35:05.9 */
		ta.mono += 500 * MS;
		tb.mono += 500 * MS;
		CHECK_EQ(cmos_read(&c, 0x0c), cmos_read(&a, 0x0c));
		CHECK_EQ(cmos_read(&c, 0x0a), cmos_read(&a, 0x0a));
	}
	ta.mono += 99 * MS;			/* 1 ms before the update */
	tb.mono += 99 * MS;
	CHECK_EQ(cmos_read(&c, 0x0a), 0x2f);
	ta.mono += 800 * 1000;			/* 200 us: UIP */
	tb.mono += 800 * 1000;
	CHECK_EQ(cmos_read(&a, 0x0a), 0xaf);
	CHECK_EQ(cmos_read(&c, 0x0a), 0xaf);
	CHECK_EQ(a.irq.rises - rises_a, 9);
	CHECK_EQ(c.irq.rises - rises_c, 9);
	/* The alarm fired in both at 12:35:05 (its AF was in one of those reads). */
	read_time(&c, vc);
	CHECK_EQ(vc[0], 0x05);
	kr_sbuf_free(&b);
	clock_fini(&a);
	clock_fini(&c);
}

/* The alarm's flag, seen at the update it matched, in both. */
KR_TEST(rtc_snapshot_alarm)
{
	struct tclock ta, tb = { 7 * SEC, 0 };
	struct kr_sbuf b = { 0 };
	struct clock a, c;

	rtc_busy(&a, &ta);
	cmos_write(&a, 0x0a, 0x20);		/* no periodic flag */
	cmos_write(&a, 0x0b, 0x22);		/* AIE only */
	cmos_read(&a, 0x0c);
	CHECK_EQ(kr_rtc_save(a.rtc, &b), 0);
	tb.wall = W0 + 10 * SEC;
	tclock_init(&c, &tb, true, NULL);
	CHECK_EQ(rtc_load_bytes(&c, b.p, b.len, NULL, 0), 0);
	/* c is at 12:35:01.4: the alarm is 3.6 s away. */
	tb.mono += 3500 * MS;
	CHECK_EQ(cmos_read(&c, 0x0c) & 0x20, 0);
	tb.mono += 100 * MS;
	CHECK_EQ(cmos_read(&c, 0x0c), 0xb0);	/* IRQF, AF, UF */
	CHECK_EQ(c.irq.rises, 1);
	kr_sbuf_free(&b);
	clock_fini(&a);
	clock_fini(&c);
}

/* A stopped clock stays where the guest left it, whatever the host's clock did. */
KR_TEST(rtc_snapshot_stopped)
{
	struct tclock ta = { 1000 * SEC, W0 }, tb = { 3 * SEC, W0 + 3600 * SEC };
	struct kr_sbuf b = { 0 };
	struct clock a, c;
	uint8_t va[8], vc[8];

	tclock_init(&a, &ta, true, NULL);
	cmos_write(&a, 0x0b, 0x82);		/* SET */
	cmos_write(&a, 0x00, 0x33);
	cmos_write(&a, 0x02, 0x22);
	cmos_write(&a, 0x04, 0x11);
	read_time(&a, va);
	CHECK_EQ(kr_rtc_save(a.rtc, &b), 0);
	tclock_init(&c, &tb, true, NULL);
	CHECK_EQ(rtc_load_bytes(&c, b.p, b.len, NULL, 0), 0);
	read_time(&c, vc);
	CHECK(!memcmp(va, vc, sizeof(va)));
	CHECK_EQ(vc[0], 0x33);
	/* Released: it runs on from there, with the divider's phase it had. */
	cmos_write(&c, 0x0b, 0x02);
	tb.mono += SEC;
	CHECK_EQ(cmos_read(&c, 0x00), 0x34);
	CHECK_EQ(cmos_read(&c, 0x02), 0x22);
	kr_sbuf_free(&b);
	clock_fini(&a);
	clock_fini(&c);
}

/*
 * The timer is armed again on load: an update that fell in the time not yet
 * accounted at the save raises the line at once, not a second later.
 */
KR_TEST(rtc_snapshot_timer)
{
	int fds = t_count_fds();
	struct tclock ta = { 500 * SEC, W0 }, tb = { 0, W0 };
	struct kr_loop *l = kr_loop_new();
	struct kr_sbuf b = { 0 };
	struct clock a, c;
	pthread_t th;

	CHECK_EQ(pthread_create(&th, NULL, loop_main, l), 0);
	tclock_init(&a, &ta, true, NULL);
	cmos_write(&a, 0x0a, 0x20);		/* no periodic flag */
	cmos_write(&a, 0x0b, 0x12);		/* UIE */
	ta.mono += 1500 * MS;			/* an update at 1 s, nobody looked */
	CHECK_EQ(a.irq.level, 0);
	CHECK_EQ(kr_rtc_save(a.rtc, &b), 0);
	tclock_init(&c, &tb, false, l);		/* the real clock, the loop's timer */
	CHECK_EQ(rtc_load_bytes(&c, b.p, b.len, NULL, 0), 0);
	CHECK(wait_rise(&c.irq, 1, 300));	/* the next update is 500 ms away */
	CHECK_EQ(cmos_read(&c, 0x0c), 0x90);
	CHECK_EQ(cmos_read(&a, 0x0c), 0x90);
	clock_fini(&c);
	clock_fini(&a);
	kr_loop_stop(l);
	pthread_join(th, NULL);
	kr_loop_free(l);
	kr_sbuf_free(&b);
	CHECK_EQ(t_count_fds(), fds);
}

/* Offsets in kr_rtc_save()'s state. */
enum { R_INDEX = 4, R_CMOS = 5, R_PHASE = 133, R_IDLE = 141, R_SEC = 149, R_WALL = 157,
       R_LINE = 165, R_LEN = 166 };

/* The saved bytes with n bytes at off set to v, loaded: refused with reason want. */
static void rtc_refuses(const struct kr_sbuf *b, size_t off, unsigned int n, uint64_t v,
			const char *want)
{
	struct tclock t = { 9 * SEC, W0 };
	uint8_t p[R_LEN];
	struct clock c;
	char why[160];

	memcpy(p, b->p, R_LEN);
	kr_put_le(p + off, n, v);
	tclock_init(&c, &t, true, NULL);
	CHECK_EQ(rtc_load_bytes(&c, p, R_LEN, why, sizeof(why)), -EPROTO);
	if (!strstr(why, want))
		printf("#   offset %zu = %#llx: \"%s\", want \"%s\"\n", off,
		       (unsigned long long)v, why, want);
	CHECK(strstr(why, want) != NULL);
	CHECK_EQ(c.irq.sets, 0);
	clock_fini(&c);
}

KR_TEST(rtc_snapshot_refused)
{
	struct tclock ta, tb = { 9 * SEC, W0 };
	struct kr_sbuf b = { 0 };
	struct clock a, c;
	uint8_t p[R_LEN + 1];
	char why[160];

	rtc_busy(&a, &ta);
	CHECK_EQ(kr_rtc_save(a.rtc, &b), 0);
	clock_fini(&a);
	CHECK_EQ(b.len, R_LEN);
	CHECK_EQ(b.p[R_INDEX], 0x8c);
	CHECK_EQ(kr_get_le(b.p + R_PHASE, 8), 400 * MS);
	CHECK_EQ(kr_get_le(b.p + R_IDLE, 8), 100 * MS);
	CHECK_EQ(kr_get_le(b.p + R_WALL, 8), W0);

	for (size_t n = 0; n < b.len; n++) {
		tclock_init(&c, &tb, true, NULL);
		CHECK_EQ(rtc_load_bytes(&c, b.p, n, why, sizeof(why)), -EPROTO);
		CHECK(strstr(why, "truncated") != NULL);
		clock_fini(&c);
	}
	memcpy(p, b.p, R_LEN);
	p[R_LEN] = 0;
	tclock_init(&c, &tb, true, NULL);
	CHECK_EQ(rtc_load_bytes(&c, p, R_LEN + 1, why, sizeof(why)), -EPROTO);
	CHECK(strstr(why, "left over") != NULL);
	clock_fini(&c);

	rtc_refuses(&b, 0, 4, 0, "state version 0");
	rtc_refuses(&b, R_CMOS + 0x0a, 1, 0xaf, "register A 0xaf holds UIP");
	rtc_refuses(&b, R_CMOS + 0x0b, 1, 0x92, "register B 0x92 has UIE with SET");
	rtc_refuses(&b, R_CMOS + 0x0c, 1, 0xd0, "register C 0xd0");	/* IRQF is never kept */
	rtc_refuses(&b, R_CMOS + 0x0d, 1, 0x00, "register D 0 is not VRT");
	rtc_refuses(&b, R_PHASE, 8, SEC, "divider phase 1000000000 ns");
	rtc_refuses(&b, R_PHASE, 8, -1ull, "divider phase -1 ns");
	rtc_refuses(&b, R_IDLE, 8, 1ull << 63, "events unaccounted for");
	rtc_refuses(&b, R_SEC, 8, 1ull << 40, "time 1099511627776 s (clock running)");
	rtc_refuses(&b, R_SEC, 8, -62167219201ll, "time -62167219201 s");
	rtc_refuses(&b, R_CMOS + 0x0a, 1, 0x6f, "(clock stopped)");	/* the divider held */
	rtc_refuses(&b, R_WALL, 8, -5ll, "before 1970");
	rtc_refuses(&b, R_LINE, 1, 0, "line level 0 where registers B and C say 1");
	rtc_refuses(&b, R_LINE, 1, 2, "a flag reads 2");
	kr_sbuf_free(&b);
}

/*
 * A clock restored at the limits a load takes (its count of seconds 100
 * years past 9999, or 100 years of events not yet accounted) saves, a
 * while later and untouched, a state that loads again (fuzz_devstate's
 * round trip refused it: tests/corpus/devstate/rtc-*-limit).
 */
KR_TEST(rtc_snapshot_limits)
{
	const int64_t t_max = 253402300799ll, idle_max = 100 * 366 * 86400ll * SEC;
	struct tclock t = { 9 * SEC, W0 };
	struct kr_sbuf b = { 0 };
	uint8_t p[R_LEN] = { 1 };	/* version 1 */
	struct clock c, d;

	p[R_CMOS + 0x0a] = 0x20;	/* running, no periodic rate */
	p[R_CMOS + 0x0b] = 0x02;	/* no interrupts: nothing accounts on its own */
	p[R_CMOS + 0x0d] = 0x80;
	kr_put_le(p + R_WALL, 8, W0);
	for (int limit = 0; limit < 2; limit++) {
		kr_put_le(p + R_SEC, 8, limit ? 1700000000 : t_max + idle_max / SEC);
		kr_put_le(p + R_IDLE, 8, limit ? idle_max : 0);
		tclock_init(&c, &t, true, NULL);
		CHECK_EQ(rtc_load_bytes(&c, p, R_LEN, NULL, 0), 0);
		t.mono += 5 * SEC;
		t.wall += 5 * SEC;
		CHECK_EQ(kr_rtc_save(c.rtc, &b), 0);
		tclock_init(&d, &t, true, NULL);
		CHECK_EQ(rtc_load_bytes(&d, b.p, b.len, NULL, 0), 0);
		/* The year (9999 or 2023) and the flags of the time since, in both. */
		CHECK_EQ(cmos_read(&d, 0x09), cmos_read(&c, 0x09));
		CHECK_EQ(cmos_read(&c, 0x09), limit ? 0x23 : 0x99);
		CHECK_EQ(cmos_read(&d, 0x0c), cmos_read(&c, 0x0c));
		CHECK_EQ(cmos_read(&d, 0x0c), 0);
		kr_sbuf_free(&b);
		clock_fini(&c);
		clock_fini(&d);
	}
}

/*
 * Random accesses on a clock going anywhere forward, from a start past year
 * 9999; now and then the state is saved and loaded into a new RTC on the
 * same clocks, which must take it and then answer every access as the old
 * one does.
 */
KR_TEST(rtc_snapshot_random)
{
	struct tclock t = { 10 * SEC, W0 };
	struct clock *cur = calloc(1, sizeof(*cur)), *next;
	int refused = 0, differ = 0;

	tclock_init(cur, &t, true, NULL);
	cmos_write(cur, 0x0b, 0x86);		/* stopped, binary: set a time at the end of 9999 */
	cmos_write(cur, 0x32, 99);
	cmos_write(cur, 0x09, 99);
	cmos_write(cur, 0x08, 12);
	cmos_write(cur, 0x07, 31);
	cmos_write(cur, 0x04, 23);
	cmos_write(cur, 0x02, 59);
	cmos_write(cur, 0x0b, 0x06);
	srand(12);
	for (int round = 0; round < 40; round++) {
		struct kr_sbuf b = { 0 };

		CHECK_EQ(kr_rtc_save(cur->rtc, &b), 0);
		next = calloc(1, sizeof(*next));
		tclock_init(next, &t, true, NULL);
		if (rtc_load_bytes(next, b.p, b.len, NULL, 0))
			refused++;
		next->irq.level = cur->irq.level;	/* as the irqchip keeps it */
		kr_sbuf_free(&b);
		for (int i = 0; i < 200; i++) {
			uint16_t port = KR_PORT_RTC + rand() % 2;
			unsigned int size = 1u << (rand() % 2);
			uint8_t d[2] = { rand(), rand() }, e[2] = { d[0], d[1] };
			bool write = rand() & 1;

			if (rand() % 4) {
				kr_bus_access(&cur->bus, port, d, size, write);
				kr_bus_access(&next->bus, port, e, size, write);
			} else {
				/* The registers with state behind them, and the time. */
				uint8_t idx = rand() % 2 ? 0x0a + rand() % 3 : rand() % 10;

				cmos_write(cur, idx, d[1]);
				cmos_write(next, idx, d[1]);
			}
			differ += memcmp(d, e, size) != 0 || cur->irq.level != next->irq.level;
			t.mono += rand() % 3 ? rand() % 300000000 : (int64_t)rand() * 100;
		}
		clock_fini(cur);
		free(cur);
		cur = next;
	}
	CHECK_EQ(refused, 0);
	CHECK_EQ(differ, 0);
	clock_fini(cur);
	free(cur);
}
