// SPDX-License-Identifier: GPL-2.0
/*
 * ACPI PM1a event/control registers and the PM timer (pm.h), after the
 * ACPI specification's fixed hardware (4.8).
 *
 * The block is byte-addressed: an access of any size at any offset is the
 * same as its bytes one by one (Linux uses 16-bit accesses for PM1 and
 * 32-bit for the timer), except that the timer is sampled once per access,
 * so a 32-bit read is one consistent value, and the SCI and the callbacks
 * follow the whole access.
 *
 * Locking: pm->lock covers the registers.  kr_irq_set() is called with it
 * held (the in-kernel irqchip never calls back into a device; the lock
 * keeps the levels in order).  The poweroff callback is called after the
 * lock is dropped.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "machine.h"
#include "pm.h"

#define PM_TMR_HZ	3579545ull
#define NS		1000000000ull

/* Register offsets in the block */
#define PM1_STS		0x0
#define PM1_EN		0x2
#define PM1_CNT		0x4
#define PM_TMR		0x8

/* PM1_STS and PM1_EN */
#define TMR_STS		0x0001
#define GBL_STS		0x0020
#define PWRBTN_STS	0x0100
#define SLPBTN_STS	0x0200
#define RTC_STS		0x0400
#define WAK_STS		0x8000
#define PCIEXP_WAKE_DIS	0x4000
/* Status bits that raise the SCI when their enable bit (same position) is set. */
#define SCI_EVENTS	(TMR_STS | GBL_STS | PWRBTN_STS | SLPBTN_STS | RTC_STS)
/*
 * Enables that stick, those of the events above (ACPICA reads an enable
 * back to decide the event exists) and the PCIe wake disable.
 */
#define EN_MASK		(SCI_EVENTS | PCIEXP_WAKE_DIS)
/* PM1_CNT */
#define SCI_EN		0x0001
#define BM_RLD		0x0002
#define SLP_TYP_SHIFT	10
#define SLP_TYP		(7 << SLP_TYP_SHIFT)
#define SLP_EN		0x2000	/* write-only */
#define CNT_MASK	(BM_RLD | SLP_TYP)
#define TMR_CARRY_BIT	23	/* TMR_STS when it toggles */
/* Status bits the register holds (the SCI events and WAK_STS). */
#define STS_MASK	(SCI_EVENTS | WAK_STS)
/* The longest a snapshot's timer may have run: 80 years. */
#define TMR_MAX_NS	(80ull * 366 * 86400 * NS)

struct kr_pm {
	pthread_mutex_t lock;
	struct kr_irq sci;
	void (*poweroff)(void *opaque);
	void *opaque;
	int64_t (*now_ns)(void *opaque);
	void *now_opaque;

	uint16_t sts, en, cnt;
	int64_t tmr_base_ns;
	uint64_t tmr_seen;	/* ticks at the last look, for TMR_STS */
	uint64_t ignored_sleeps;
	int line;
};

static int64_t pm_now(const struct kr_pm *pm)
{
	struct timespec ts;

	if (pm->now_ns)
		return pm->now_ns(pm->now_opaque);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * (int64_t)NS + ts.tv_nsec;
}

/*
 * How long the timer has run: since creation, or as a load set it.  It
 * stops at TMR_MAX_NS, the most a load takes: a timer restored just short
 * of it would otherwise run past it, and its next snapshot would be
 * refused.
 */
static uint64_t pm_run_ns(const struct kr_pm *pm)
{
	int64_t d = pm_now(pm) - pm->tmr_base_ns;

	if (d <= 0)
		return 0;
	return (uint64_t)d < TMR_MAX_NS ? (uint64_t)d : TMR_MAX_NS;
}

/* Ticks in ns of running, 64 bits wide. */
static uint64_t pm_count(uint64_t ns)
{
	return ns / NS * PM_TMR_HZ + ns % NS * PM_TMR_HZ / NS;
}

/* The count now, with TMR_STS on each carry out of bit 23 since the last look. */
static uint64_t pm_ticks(struct kr_pm *pm)
{
	uint64_t t = pm_count(pm_run_ns(pm));

	if ((t >> TMR_CARRY_BIT) != (pm->tmr_seen >> TMR_CARRY_BIT))
		pm->sts |= TMR_STS;
	pm->tmr_seen = t;
	return t;
}

static void pm_update_sci(struct kr_pm *pm)
{
	int level = (pm->sts & pm->en & SCI_EVENTS) != 0;

	if (level != pm->line) {
		pm->line = level;
		kr_irq_set(&pm->sci, level);
	}
}

static uint8_t pm_read_byte(struct kr_pm *pm, unsigned int off, uint32_t tmr)
{
	uint16_t cnt = pm->cnt | SCI_EN;

	switch (off) {
	case PM1_STS:
	case PM1_STS + 1:
		return pm->sts >> (8 * (off - PM1_STS));
	case PM1_EN:
	case PM1_EN + 1:
		return pm->en >> (8 * (off - PM1_EN));
	case PM1_CNT:
	case PM1_CNT + 1:
		return cnt >> (8 * (off - PM1_CNT));
	case PM_TMR:
	case PM_TMR + 1:
	case PM_TMR + 2:
	case PM_TMR + 3:
		return tmr >> (8 * (off - PM_TMR));
	default:
		return 0;	/* reserved */
	}
}

/* Returns true when the byte asks for S5. */
static bool pm_write_byte(struct kr_pm *pm, unsigned int off, uint8_t v)
{
	unsigned int shift;
	uint16_t cnt;

	switch (off) {
	case PM1_STS:
	case PM1_STS + 1:
		pm->sts &= ~(v << (8 * (off - PM1_STS)));	/* write 1 to clear */
		return false;
	case PM1_EN:
	case PM1_EN + 1:
		shift = 8 * (off - PM1_EN);
		pm->en = (pm->en & ~(0xff << shift)) | ((v << shift) & EN_MASK);
		return false;
	case PM1_CNT:
	case PM1_CNT + 1:
		shift = 8 * (off - PM1_CNT);
		cnt = (pm->cnt & ~(0xff << shift)) | (v << shift);
		pm->cnt = cnt & CNT_MASK;
		if (!(cnt & SLP_EN))
			return false;
		if ((cnt & SLP_TYP) >> SLP_TYP_SHIFT == KR_SLP_TYP_S5)
			return true;
		pm->ignored_sleeps++;
		pm->sts |= WAK_STS;
		return false;
	default:
		return false;	/* the timer and reserved bytes are read-only */
	}
}

static void pm_io(void *opaque, uint64_t offset, uint8_t *data, unsigned int size, bool write)
{
	struct kr_pm *pm = opaque;
	bool poweroff = false;
	uint32_t tmr;

	pthread_mutex_lock(&pm->lock);
	tmr = pm_ticks(pm) & 0xffffff;
	for (unsigned int i = 0; i < size && offset < KR_PORT_PM_LEN && i < KR_PORT_PM_LEN - offset;
	     i++) {
		if (write)
			poweroff |= pm_write_byte(pm, offset + i, data[i]);
		else
			data[i] = pm_read_byte(pm, offset + i, tmr);
	}
	pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	if (poweroff && pm->poweroff)
		pm->poweroff(pm->opaque);
}

struct kr_pm *kr_pm_create(const struct kr_pm_params *p)
{
	struct kr_pm *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pthread_mutex_init(&pm->lock, NULL);
	pm->sci = p->sci;
	pm->poweroff = p->poweroff;
	pm->opaque = p->opaque;
	pm->now_ns = p->now_ns;
	pm->now_opaque = p->now_opaque;
	pm->tmr_base_ns = pm_now(pm);
	return pm;
}

int kr_pm_attach(struct kr_pm *pm, struct kr_bus *pio)
{
	return kr_bus_add(pio, KR_PORT_PM_BASE, KR_PORT_PM_LEN, pm_io, pm, "acpi-pm");
}

void kr_pm_destroy(struct kr_pm *pm)
{
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

void kr_pm_power_button(struct kr_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->sts |= PWRBTN_STS;
	pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

uint64_t kr_pm_ignored_sleeps(struct kr_pm *pm)
{
	uint64_t n;

	pthread_mutex_lock(&pm->lock);
	n = pm->ignored_sleeps;
	pthread_mutex_unlock(&pm->lock);
	return n;
}

/* ---- snapshot ----------------------------------------------------------- */

/*
 * The state, in this order: PM1_STS, PM1_EN, PM1_CNT (u16 each), how long
 * the timer has run at the save (u64 ns: its count, to the fraction of a
 * tick) and the count TMR_STS was last checked at (u64 ticks, 64 bits wide:
 * the guest sees the low 24), the SCI's level (flag).
 *
 * The running time is saved, not the host time it started at: the PM timer
 * ticks with the guest's other clocks (the TSC, kvmclock), which stand
 * still while the machine is saved, and Linux measures one against the
 * other (clocksource watchdog, TSC calibration).  A timer that resumed from
 * the host's clock would leap forward by the time on disk, or, on another
 * host whose monotonic clock is behind, run backwards; resuming from the
 * saved running time does neither.  The carries not yet seen (the count
 * past the last check) set TMR_STS at the next access, as they would have.
 * ignored_sleeps is this process's statistic.
 */
int kr_pm_save(struct kr_pm *pm, struct kr_sbuf *b)
{
	pthread_mutex_lock(&pm->lock);
	kr_sbuf_begin(b, KR_PM_STATE_VERSION);
	kr_sbuf_u16(b, pm->sts);
	kr_sbuf_u16(b, pm->en);
	kr_sbuf_u16(b, pm->cnt);
	kr_sbuf_u64(b, pm_run_ns(pm));
	kr_sbuf_u64(b, pm->tmr_seen);
	kr_sbuf_bool(b, pm->line);
	pthread_mutex_unlock(&pm->lock);
	return b->oom ? -ENOMEM : 0;
}

int kr_pm_load(struct kr_pm *pm, struct kr_sget *g)
{
	uint16_t sts, en, cnt;
	uint64_t run_ns, seen;
	bool line;

	if (kr_sget_begin(g, KR_PM_STATE_VERSION))
		return -EPROTO;
	sts = kr_sget_u16(g);
	en = kr_sget_u16(g);
	cnt = kr_sget_u16(g);
	run_ns = kr_sget_u64(g);
	seen = kr_sget_u64(g);
	line = kr_sget_bool(g);
	if (kr_sget_done(g))
		return -EPROTO;
	if (sts & ~STS_MASK)
		return kr_sget_fail(g, "PM1_STS %#x has bits no event sets", sts);
	if (en & ~EN_MASK)
		return kr_sget_fail(g, "PM1_EN %#x has bits that do not stick", en);
	if (cnt & ~CNT_MASK)
		return kr_sget_fail(g, "PM1_CNT %#x has bits that are not kept", cnt);
	if (run_ns > TMR_MAX_NS)
		return kr_sget_fail(g, "PM timer ran %llu ns, beyond 80 years",
				    (unsigned long long)run_ns);
	/* The last check was at or before the save. */
	if (seen > pm_count(run_ns))
		return kr_sget_fail(g, "PM timer last checked at %llu, after its count %llu",
				    (unsigned long long)seen,
				    (unsigned long long)pm_count(run_ns));
	/* At rest the SCI always follows status and enables (pm_update_sci()). */
	if (line != ((sts & en & SCI_EVENTS) != 0))
		return kr_sget_fail(g, "SCI level %d where PM1_STS and PM1_EN say %d", line,
				    (sts & en & SCI_EVENTS) != 0);

	pthread_mutex_lock(&pm->lock);
	pm->sts = sts;
	pm->en = en;
	pm->cnt = cnt;
	/* Started so that it has run exactly the saved time now, and goes on from it. */
	pm->tmr_base_ns = pm_now(pm) - (int64_t)run_ns;
	pm->tmr_seen = seen;
	pm->line = line;
	pthread_mutex_unlock(&pm->lock);
	return 0;
}
