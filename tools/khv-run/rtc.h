/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PC's CMOS/RTC, an MC146818 (ports KR_PORT_RTC index, +1 data; ISA IRQ 8,
 * KR_GSI_RTC, edge-triggered on the IOAPIC: the device drives the level of
 * IRQF, the irqchip sees its rising edge).  128 bytes of CMOS; the clock
 * counts from the host's time (or a given start) in BCD or binary, 12 or 24
 * hours as register B says; update-ended, alarm and periodic interrupts come
 * from a timerfd on the I/O thread's loop.
 *
 * Byte 0x32 holds the century, in the format of the other time registers,
 * and is part of the clock (the year 2099 rolls over to 2100): point the
 * FADT's CENTURY field at it.  There are no day or month alarm registers
 * (FADT DAY_ALRM and MON_ALRM 0).  Daylight saving (register B DSE) is
 * ignored.
 */
#ifndef KHV_RUN_RTC_H
#define KHV_RUN_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "dev.h"
#include "evloop.h"
#include "snapfield.h"

/* The layout kr_rtc_save() writes (snapfield.h). */
#define KR_RTC_STATE_VERSION	1

struct kr_rtc;

struct kr_rtc_params {
	struct kr_irq irq;
	/* For the interrupts' timer; NULL: flags only seen at the next access. */
	struct kr_loop *loop;
	/*
	 * The clock's time at creation, in seconds since 1970 read as UTC (what
	 * Linux guests keep in the RTC); when !has_start, the host's time.
	 */
	bool has_start;
	int64_t start;
	/* Monotonic nanoseconds; NULL: CLOCK_MONOTONIC.  For tests. */
	int64_t (*now_ns)(void *opaque);
	/*
	 * The host's wall clock, nanoseconds since 1970 (the start when
	 * !has_start, and what a restored clock follows); NULL:
	 * CLOCK_REALTIME.  For tests.  Both take now_opaque.
	 */
	int64_t (*wall_ns)(void *opaque);
	void *now_opaque;
};

/* NULL with errno on failure. */
struct kr_rtc *kr_rtc_create(const struct kr_rtc_params *p);
/* Registers the two ports.  0 or -errno (kr_bus_add). */
int kr_rtc_attach(struct kr_rtc *rtc, struct kr_bus *pio);
/* Not while a vCPU may still access it.  NULL is allowed. */
void kr_rtc_destroy(struct kr_rtc *rtc);

/* Sets CMOS byte index (0-127) as a guest write to it would. */
void kr_rtc_set_cmos(struct kr_rtc *rtc, unsigned int index, uint8_t value);
/*
 * The memory sizes firmware (SeaBIOS) reads: base memory in KiB (0x15-0x16),
 * extended memory above 1 MiB in KiB (0x17-0x18, 0x30-0x31, at most 0xffff),
 * memory between 16 MiB and 4 GiB in 64 KiB units (0x34-0x35), memory above
 * 4 GiB in 64 KiB units (0x5b-0x5d).
 */
void kr_rtc_set_mem_sizes(struct kr_rtc *rtc, uint64_t ram_below_4g, uint64_t ram_above_4g);

/*
 * The RTC's state for a snapshot (snapfield.h's contract): the index
 * register, the 128 CMOS bytes (registers A-D and the flags of C among
 * them), the divider's phase, the events not yet accounted, the line's
 * level, and the time of day as an offset from the host's wall clock, so
 * that a clock restored later has gone on with the host's (as a PC's RTC
 * does through a power-off) while its second boundaries keep their phase.
 * No update or alarm is flagged for the time between save and load.
 * save: 0 or -ENOMEM.  load: into an RTC just created, before any vCPU
 * runs; 0 or -EPROTO with the reason in g; it re-arms the interrupts'
 * timer but does not drive the line (the irqchip's own state restores it).
 */
int kr_rtc_save(struct kr_rtc *rtc, struct kr_sbuf *b);
int kr_rtc_load(struct kr_rtc *rtc, struct kr_sget *g);

#endif
