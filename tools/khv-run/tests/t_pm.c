// SPDX-License-Identifier: GPL-2.0
/*
 * The ACPI PM block (pm.c) on a fake clock: the PM timer and TMR_STS, the
 * power button and the SCI, sleep requests, byte addressing at any size
 * and offset.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../machine.h"
#include "../pm.h"
#include "t.h"

#define STS	(KR_PORT_PM1A_EVT)
#define EN	(KR_PORT_PM1A_EVT + 2)
#define CNT	(KR_PORT_PM1A_CNT)
#define TMR	(KR_PORT_PM_TMR)

static int64_t fake_ns;

static int64_t fake_now(void *opaque)
{
	(void)opaque;
	return fake_ns;
}

struct acpi {
	struct kr_bus bus;
	struct kr_pm *pm;
	int level, rises, sets, poweroffs;
};

static void sci_set(void *opaque, unsigned int gsi, int level)
{
	struct acpi *a = opaque;

	CHECK_EQ(gsi, KR_GSI_SCI);
	a->rises += level && !a->level;
	a->level = level;
	a->sets++;
}

static void poweroff(void *opaque)
{
	((struct acpi *)opaque)->poweroffs++;
}

static void acpi_init(struct acpi *a)
{
	struct kr_pm_params p = {
		.sci = { sci_set, a, KR_GSI_SCI },
		.poweroff = poweroff,
		.opaque = a,
		.now_ns = fake_now,
	};

	memset(a, 0, sizeof(*a));
	kr_bus_init(&a->bus, "pio");
	a->pm = kr_pm_create(&p);
	CHECK(a->pm != NULL);
	CHECK_EQ(kr_pm_attach(a->pm, &a->bus), 0);
}

static void acpi_fini(struct acpi *a)
{
	kr_pm_destroy(a->pm);
	kr_bus_free(&a->bus);
}

static uint64_t rd(struct acpi *a, uint16_t port, unsigned int size)
{
	uint8_t d[8];

	CHECK(kr_bus_access(&a->bus, port, d, size, false));
	return kr_get_le(d, size);
}

static void wr(struct acpi *a, uint16_t port, unsigned int size, uint64_t v)
{
	uint8_t d[8];

	kr_put_le(d, size, v);
	CHECK(kr_bus_access(&a->bus, port, d, size, true));
}

KR_TEST(pm_timer)
{
	struct acpi a;
	uint32_t t0;

	fake_ns = 123456789;
	acpi_init(&a);
	t0 = rd(&a, TMR, 4);
	CHECK_EQ(t0, 0);
	fake_ns += 1000000000;
	CHECK_EQ(rd(&a, TMR, 4), 3579545);
	fake_ns += 1000;			/* 3.58 ticks */
	CHECK_EQ(rd(&a, TMR, 4), 3579548);
	CHECK_EQ(rd(&a, TMR + 2, 2), 3579548 >> 16);
	CHECK_EQ(rd(&a, TMR + 3, 1), 0);	/* 24 bits */
	CHECK_EQ(rd(&a, STS, 2) & 1, 0);
	/* Bit 23 toggles after 2^23 ticks (2.34 s): TMR_STS. */
	fake_ns = 123456789 + 2343000000ll;
	CHECK_EQ(rd(&a, STS, 2) & 1, 0);
	fake_ns = 123456789 + 2344000000ll;
	CHECK_EQ(rd(&a, STS, 2) & 1, 1);
	CHECK_EQ(a.level, 0);			/* TMR_EN clear */
	wr(&a, EN, 2, 0x0001);
	CHECK_EQ(a.level, 1);
	wr(&a, STS, 2, 0x0001);			/* write 1 to clear */
	CHECK_EQ(a.level, 0);
	CHECK_EQ(rd(&a, STS, 2) & 1, 0);
	/* And wraps at 24 bits, setting it again. */
	fake_ns = 123456789 + 4688000000ll;
	CHECK(rd(&a, TMR, 4) < 0x10000);
	CHECK_EQ(rd(&a, STS, 2) & 1, 1);
	CHECK_EQ(a.level, 1);
	acpi_fini(&a);
}

KR_TEST(pm_power_button)
{
	struct acpi a;

	fake_ns = 0;
	acpi_init(&a);
	/* Before the guest enables it: status only. */
	kr_pm_power_button(a.pm);
	CHECK_EQ(a.level, 0);
	CHECK_EQ(rd(&a, STS, 2), 0x0100);
	wr(&a, EN, 2, 0x0100);
	CHECK_EQ(a.level, 1);
	wr(&a, STS, 2, 0x0100);
	CHECK_EQ(a.level, 0);
	CHECK_EQ(rd(&a, STS, 2), 0);
	kr_pm_power_button(a.pm);
	CHECK_EQ(a.level, 1);
	CHECK_EQ(a.rises, 2);
	/* Writing zeros clears nothing; disabling drops the SCI, status stays. */
	wr(&a, STS, 2, 0x0000);
	CHECK_EQ(rd(&a, STS, 2), 0x0100);
	wr(&a, EN, 2, 0x0000);
	CHECK_EQ(a.level, 0);
	CHECK_EQ(rd(&a, STS, 2), 0x0100);
	acpi_fini(&a);
}

KR_TEST(pm_sleep)
{
	struct acpi a;

	fake_ns = 0;
	acpi_init(&a);
	CHECK_EQ(rd(&a, CNT, 2), 0x0001);	/* SCI_EN: no SMM, ACPI mode */
	wr(&a, CNT, 2, 0x0000);
	CHECK_EQ(rd(&a, CNT, 2), 0x0001);
	/* S3 (or anything not S5): ignored, counted, "woken" at once. */
	wr(&a, CNT, 2, 1 << 10 | 0x2000);
	CHECK_EQ(a.poweroffs, 0);
	CHECK_EQ(kr_pm_ignored_sleeps(a.pm), 1);
	CHECK_EQ(rd(&a, STS, 2), 0x8000);
	CHECK_EQ(rd(&a, CNT, 2), 0x0401);	/* SLP_EN reads 0 */
	CHECK_EQ(a.level, 0);			/* WAK_STS is no SCI */
	wr(&a, STS, 2, 0x8000);
	CHECK_EQ(rd(&a, STS, 2), 0);
	/* SLP_TYP alone: nothing. */
	wr(&a, CNT, 2, KR_SLP_TYP_S5 << 10);
	CHECK_EQ(a.poweroffs, 0);
	/* S5. */
	wr(&a, CNT, 2, KR_SLP_TYP_S5 << 10 | 0x2000);
	CHECK_EQ(a.poweroffs, 1);
	/* The high byte alone does it too. */
	wr(&a, CNT + 1, 1, (KR_SLP_TYP_S5 << 2) | 0x20);
	CHECK_EQ(a.poweroffs, 2);
	acpi_fini(&a);
}

KR_TEST(pm_byte_addressing)
{
	struct acpi a;
	uint8_t d[8];

	fake_ns = 0;
	acpi_init(&a);
	/* Enables that stick: TMR, GBL, PWRBTN, SLPBTN, RTC, PCIEXP_WAKE_DIS. */
	wr(&a, EN, 2, 0xffff);
	CHECK_EQ(rd(&a, EN, 2), 0x4721);
	wr(&a, EN, 2, 0);
	/* One 32-bit access = STS (W1C) and EN. */
	kr_pm_power_button(a.pm);
	wr(&a, STS, 4, 0x01000000);
	CHECK_EQ(a.level, 1);
	CHECK_EQ(rd(&a, STS, 4), 0x01000100);
	wr(&a, STS, 4, 0x01000100);		/* clear the status, keep the enable */
	CHECK_EQ(a.level, 0);
	CHECK_EQ(rd(&a, STS, 4), 0x01000000);
	/* 16 bits across STS high and EN low. */
	kr_pm_power_button(a.pm);
	CHECK_EQ(rd(&a, STS + 1, 2), 0x0001);
	wr(&a, STS + 1, 2, 0x0101);		/* clears PWRBTN_STS; EN low byte = TMR_EN */
	CHECK_EQ(rd(&a, STS, 4), 0x01010000);
	/* Reserved bytes read 0; the end of the block is not ours. */
	CHECK_EQ(rd(&a, KR_PORT_PM_BASE + 6, 2), 0);
	CHECK_EQ(rd(&a, KR_PORT_PM_BASE + 0xc, 4), 0);
	memset(d, 0, sizeof(d));
	kr_bus_access(&a.bus, KR_PORT_PM_BASE + 0xe, d, 8, false);
	CHECK_EQ(d[1], 0);
	CHECK_EQ(d[2], 0xff);
	CHECK_EQ(d[7], 0xff);
	/* The timer is read-only. */
	fake_ns = 1000000000;
	wr(&a, TMR, 4, 0);
	CHECK_EQ(rd(&a, TMR, 4), 3579545);
	acpi_fini(&a);
}

KR_TEST(pm_hostile)
{
	struct acpi a;
	uint8_t d[8];

	fake_ns = 0;
	acpi_init(&a);
	srand(3);
	for (int i = 0; i < 20000; i++) {
		unsigned int off = rand() % KR_PORT_PM_LEN;

		for (int j = 0; j < 8; j++)
			d[j] = rand();
		/* Keep clear of SLP_EN for S5 now and then only. */
		kr_bus_access(&a.bus, KR_PORT_PM_BASE + off, d, 1u << (rand() % 4), rand() & 1);
		fake_ns += rand();
	}
	CHECK(a.poweroffs > 0);
	{
		uint64_t sts = rd(&a, STS, 2), en = rd(&a, EN, 2);

		CHECK_EQ(a.level, (sts & en & 0x0721) != 0);
	}
	{
		const struct kr_range *r = kr_bus_find(&a.bus, KR_PORT_PM_BASE);

		memset(d, 0xee, sizeof(d));
		r->fn(r->opaque, ~0ull, d, 8, false);
		r->fn(r->opaque, ~0ull - 3, d, 8, true);
		r->fn(r->opaque, KR_PORT_PM_LEN, d, 8, false);
		CHECK_EQ(d[0], 0xee);
	}
	acpi_fini(&a);
}

/* ---- snapshot ----------------------------------------------------------- */

static int64_t own_now(void *opaque)
{
	return *(int64_t *)opaque;
}

/* A block on a clock of its own (*ns). */
static void acpi_init_own(struct acpi *a, int64_t *ns)
{
	struct kr_pm_params p = {
		.sci = { sci_set, a, KR_GSI_SCI },
		.poweroff = poweroff,
		.opaque = a,
		.now_ns = own_now,
		.now_opaque = ns,
	};

	memset(a, 0, sizeof(*a));
	kr_bus_init(&a->bus, "pio");
	a->pm = kr_pm_create(&p);
	CHECK(a->pm != NULL);
	CHECK_EQ(kr_pm_attach(a->pm, &a->bus), 0);
}

static int pm_load_bytes(struct acpi *a, const void *p, size_t n, char *why, size_t len)
{
	struct kr_sget g;
	int ret;

	kr_sget_init(&g, p, n, "pm");
	ret = kr_pm_load(a->pm, &g);
	if (why)
		snprintf(why, len, "%s", g.why);
	return ret;
}

/*
 * Enables for the timer and the power button, a sleep type, the button
 * pressed (the SCI up), the timer at 2.5 s with its carry at 2.34 s not
 * yet seen (last looked at 2 s).
 */
static void pm_busy(struct acpi *a, int64_t *ns)
{
	*ns = 1000000000;
	acpi_init_own(a, ns);
	wr(a, EN, 2, 0x0101);
	wr(a, CNT, 2, 3 << 10);
	kr_pm_power_button(a->pm);
	CHECK_EQ(a->level, 1);
	*ns += 2000000000;
	CHECK_EQ(rd(a, TMR, 4), 7159090);
	*ns += 500000000;
}

KR_TEST(pm_snapshot_round_trip)
{
	int64_t ta, tc = 1000;		/* a host up for 1 us: far less than the count */
	struct kr_sbuf b = { 0 };
	struct acpi a, c;
	uint64_t t;

	pm_busy(&a, &ta);
	CHECK_EQ(kr_pm_save(a.pm, &b), 0);
	CHECK(!b.oom);
	acpi_init_own(&c, &tc);
	CHECK_EQ(pm_load_bytes(&c, b.p, b.len, NULL, 0), 0);
	CHECK_EQ(c.sets, 0);		/* the irqchip restores the SCI */
	c.level = 1;

	/* The timer goes on from the saved count, whatever the new host's clock says. */
	t = rd(&a, TMR, 4);
	CHECK_EQ(t, 8948862);
	CHECK_EQ(rd(&c, TMR, 4), t);
	CHECK_EQ(rd(&a, STS, 2), 0x0101);	/* the carry, seen now */
	CHECK_EQ(rd(&c, STS, 2), 0x0101);
	CHECK_EQ(rd(&c, EN, 2), 0x0101);
	CHECK_EQ(rd(&c, CNT, 2), 0x0c01);
	CHECK_EQ(rd(&a, CNT, 2), 0x0c01);
	for (int i = 0; i < 1000; i++) {
		uint64_t ns = (uint64_t)i * i * 997;

		ta += ns;
		tc += ns;
		CHECK_EQ(rd(&c, TMR, 4), rd(&a, TMR, 4));
	}
	/* Clearing the status drops the SCI in both. */
	wr(&a, STS, 2, 0x0101);
	wr(&c, STS, 2, 0x0101);
	CHECK_EQ(a.level, 0);
	CHECK_EQ(c.level, 0);
	/* The next carry, at 2^24 ticks, in both. */
	ta += 2400000000ll;
	tc += 2400000000ll;
	CHECK_EQ(rd(&c, STS, 2), rd(&a, STS, 2));
	CHECK_EQ(c.level, 1);
	kr_sbuf_free(&b);
	acpi_fini(&a);
	acpi_fini(&c);
}

/* Offsets in kr_pm_save()'s state. */
enum { P_STS = 4, P_EN = 6, P_CNT = 8, P_COUNT = 10, P_SEEN = 18, P_LINE = 26, P_LEN = 27 };

static void pm_refuses(const struct kr_sbuf *b, size_t off, unsigned int n, uint64_t v,
		       const char *want)
{
	int64_t t = 5;
	uint8_t p[P_LEN];
	struct acpi c;
	char why[160];

	memcpy(p, b->p, P_LEN);
	kr_put_le(p + off, n, v);
	acpi_init_own(&c, &t);
	CHECK_EQ(pm_load_bytes(&c, p, P_LEN, why, sizeof(why)), -EPROTO);
	if (!strstr(why, want))
		printf("#   offset %zu = %#llx: \"%s\", want \"%s\"\n", off,
		       (unsigned long long)v, why, want);
	CHECK(strstr(why, want) != NULL);
	/* Refused: the block is as created. */
	CHECK_EQ(rd(&c, EN, 2), 0);
	CHECK_EQ(rd(&c, TMR, 4), 0);
	acpi_fini(&c);
}

KR_TEST(pm_snapshot_refused)
{
	struct kr_sbuf b = { 0 };
	int64_t ta, tc = 0;
	uint8_t p[P_LEN + 1];
	struct acpi a, c;
	char why[160];

	pm_busy(&a, &ta);
	CHECK_EQ(kr_pm_save(a.pm, &b), 0);
	acpi_fini(&a);
	CHECK_EQ(b.len, P_LEN);
	CHECK_EQ(kr_get_le(b.p + P_COUNT, 8), 2500000000ull);
	CHECK_EQ(kr_get_le(b.p + P_SEEN, 8), 7159090);

	for (size_t n = 0; n < b.len; n++) {
		acpi_init_own(&c, &tc);
		CHECK_EQ(pm_load_bytes(&c, b.p, n, why, sizeof(why)), -EPROTO);
		CHECK(strstr(why, "truncated") != NULL);
		acpi_fini(&c);
	}
	memcpy(p, b.p, P_LEN);
	p[P_LEN] = 0;
	acpi_init_own(&c, &tc);
	CHECK_EQ(pm_load_bytes(&c, p, P_LEN + 1, why, sizeof(why)), -EPROTO);
	CHECK(strstr(why, "left over") != NULL);
	acpi_fini(&c);

	pm_refuses(&b, 0, 4, 2, "state version 2");
	pm_refuses(&b, P_STS, 2, 0x0103, "PM1_STS 0x103");
	pm_refuses(&b, P_EN, 2, 0x8101, "PM1_EN 0x8101");
	pm_refuses(&b, P_CNT, 2, 0x2c00, "PM1_CNT 0x2c00");	/* SLP_EN is write-only */
	pm_refuses(&b, P_CNT, 2, 0x0c01, "PM1_CNT 0xc01");	/* SCI_EN is not kept */
	pm_refuses(&b, P_COUNT, 8, 1ull << 62, "ran 4611686018427387904 ns, beyond 80 years");
	pm_refuses(&b, P_COUNT, 8, 1999999999, "last checked at 7159090, after its count 7159089");
	pm_refuses(&b, P_SEEN, 8, 8948863, "after its count 8948862");
	pm_refuses(&b, P_LINE, 1, 0, "SCI level 0 where PM1_STS and PM1_EN say 1");
	pm_refuses(&b, P_LINE, 1, 7, "a flag reads 7");
	kr_sbuf_free(&b);
}

/*
 * A timer restored just short of the 80 years a load takes stops there
 * instead of running past them: the state it saves later loads again
 * (fuzz_devstate's round trip refused it: tests/corpus/devstate/pm-timer-limit).
 */
KR_TEST(pm_snapshot_timer_limit)
{
	const uint64_t max = 80ull * 366 * 86400 * 1000000000ull;
	int64_t tc = 7, td = 0;
	struct kr_sbuf b = { 0 };
	struct acpi c, d;
	uint8_t p[P_LEN] = { 1 };	/* version 1, all clear */
	uint32_t t;

	kr_put_le(p + P_COUNT, 8, max - 1000000000);
	acpi_init_own(&c, &tc);
	CHECK_EQ(pm_load_bytes(&c, p, P_LEN, NULL, 0), 0);
	t = rd(&c, TMR, 4);
	tc += 500000000;
	CHECK(rd(&c, TMR, 4) != t);		/* it runs on for its last second */
	tc += 5000000000ll;
	t = rd(&c, TMR, 4);
	tc += 1000000000;
	CHECK_EQ(rd(&c, TMR, 4), t);		/* then stands */
	CHECK_EQ(kr_pm_save(c.pm, &b), 0);
	CHECK_EQ(kr_get_le(b.p + P_COUNT, 8), max);
	acpi_init_own(&d, &td);
	CHECK_EQ(pm_load_bytes(&d, b.p, b.len, NULL, 0), 0);
	CHECK_EQ(rd(&d, TMR, 4), t);
	kr_sbuf_free(&b);
	acpi_fini(&c);
	acpi_fini(&d);
}

/*
 * Random accesses, button presses and clock steps; now and then the state
 * is saved and loaded into a new block on the same clock, which must take
 * it and then answer every access as the old one does.
 */
KR_TEST(pm_snapshot_random)
{
	struct acpi *cur = calloc(1, sizeof(*cur)), *next;
	int refused = 0, differ = 0;

	fake_ns = 77;
	acpi_init(cur);
	srand(15);
	for (int round = 0; round < 40; round++) {
		struct kr_sbuf b = { 0 };

		CHECK_EQ(kr_pm_save(cur->pm, &b), 0);
		next = calloc(1, sizeof(*next));
		acpi_init(next);
		refused += pm_load_bytes(next, b.p, b.len, NULL, 0) != 0;
		next->level = cur->level;		/* as the irqchip keeps it */
		next->poweroffs = cur->poweroffs;
		kr_sbuf_free(&b);
		for (int i = 0; i < 500; i++) {
			unsigned int off = rand() % KR_PORT_PM_LEN, size = 1u << (rand() % 3);
			bool write = rand() & 1;
			uint8_t d[8], e[8];

			for (int j = 0; j < 8; j++)
				d[j] = rand();
			memcpy(e, d, sizeof(e));
			if (rand() % 16 == 0) {
				kr_pm_power_button(cur->pm);
				kr_pm_power_button(next->pm);
			}
			kr_bus_access(&cur->bus, KR_PORT_PM_BASE + off, d, size, write);
			kr_bus_access(&next->bus, KR_PORT_PM_BASE + off, e, size, write);
			differ += memcmp(d, e, sizeof(d)) != 0 || cur->level != next->level ||
				  cur->poweroffs != next->poweroffs;
			fake_ns += rand() % 2 ? rand() % 1000 : rand();
		}
		acpi_fini(cur);
		free(cur);
		cur = next;
	}
	CHECK_EQ(refused, 0);
	CHECK_EQ(differ, 0);
	acpi_fini(cur);
	free(cur);
}
