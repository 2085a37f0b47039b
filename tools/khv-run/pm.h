/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ACPI fixed hardware's PM1a event and control registers and the PM
 * timer, at KR_PORT_PM_BASE (KR_PORT_PM_LEN bytes): what the FADT points
 * PM1a_EVT_BLK, PM1a_CNT_BLK and PM_TMR_BLK at (lengths 4, 2, 4; a 24-bit
 * timer).  No SMM: SCI_EN always reads 1 (FADT SMI_CMD 0).
 *
 * SCI: KR_GSI_SCI, level-triggered active-high; level = an enabled status
 * bit is set.  The timer's carry (TMR_STS) is noticed when the guest reads
 * the block: no host timer raises the SCI for TMR_EN (Linux never enables
 * it).  Sleep: SLP_TYP KR_SLP_TYP_S5 with SLP_EN powers off; any other type
 * is counted and ignored, and the system "wakes" at once (WAK_STS), so a
 * guest waiting for the wake does not hang.
 */
#ifndef KHV_RUN_PM_H
#define KHV_RUN_PM_H

#include <stdint.h>

#include "dev.h"
#include "snapfield.h"

/* The layout kr_pm_save() writes (snapfield.h). */
#define KR_PM_STATE_VERSION	1

struct kr_pm;

struct kr_pm_params {
	struct kr_irq sci;
	/* Called without the device's lock, on the vCPU's thread. */
	void (*poweroff)(void *opaque);
	void *opaque;
	/* Monotonic nanoseconds; NULL: CLOCK_MONOTONIC.  For tests. */
	int64_t (*now_ns)(void *opaque);
	void *now_opaque;
};

/* NULL with errno on failure. */
struct kr_pm *kr_pm_create(const struct kr_pm_params *p);
/* Registers the block.  0 or -errno (kr_bus_add). */
int kr_pm_attach(struct kr_pm *pm, struct kr_bus *pio);
/* Not while a vCPU may still access it.  NULL is allowed. */
void kr_pm_destroy(struct kr_pm *pm);
/* Any thread: the power button was pressed (PWRBTN_STS, SCI if PWRBTN_EN). */
void kr_pm_power_button(struct kr_pm *pm);
/* Sleep requests other than S5, ignored. */
uint64_t kr_pm_ignored_sleeps(struct kr_pm *pm);

/*
 * The block's state for a snapshot (snapfield.h's contract): PM1 status,
 * enable and control, how long the PM timer has run and the count TMR_STS
 * was last checked at, the SCI's level.  The restored timer goes on from
 * the saved count: no time passes for it while the machine is saved, so it
 * never runs backwards (nor leaps) under the guest.  save: 0 or -ENOMEM.
 * load: into a block just created, before any vCPU runs; 0 or -EPROTO with
 * the reason in g; it does not drive the SCI (the irqchip's own state
 * restores it).
 */
int kr_pm_save(struct kr_pm *pm, struct kr_sbuf *b);
int kr_pm_load(struct kr_pm *pm, struct kr_sget *g);

#endif
