// SPDX-License-Identifier: GPL-2.0
/*
 * The ACPI PM block (pm.c) on a fake clock: the PM timer and TMR_STS, the
 * power button and the SCI, sleep requests, byte addressing at any size
 * and offset.
 */
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
	int level, rises, poweroffs;
};

static void sci_set(void *opaque, unsigned int gsi, int level)
{
	struct acpi *a = opaque;

	CHECK_EQ(gsi, KR_GSI_SCI);
	a->rises += level && !a->level;
	a->level = level;
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
