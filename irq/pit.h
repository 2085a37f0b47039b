/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PC's 8254 programmable interval timer: three channels at 1.193182
 * MHz behind ports 0x40-0x43, channel 0's output on IRQ0, channel 2 gated
 * and read back through port 0x61 (as Linux does to calibrate the TSC).
 * Counts are computed from the time since they were loaded, never by
 * ticking; the owner arms one host timer for khv_pit_next_irq_ns() and
 * calls khv_pit_timer_fire() when it expires, which pulses IRQ0 through
 * ops->irq0.
 *
 * Locking contract: every function is called with pit->lock held and
 * calls the ops with it held; irq0 takes the PIC's and IOAPIC's locks
 * (order: PIT, then PIC/IOAPIC, then LAPIC).
 */
#ifndef KHV_IRQ_PIT_H
#define KHV_IRQ_PIT_H

#include <linux/types.h>
#include <linux/spinlock.h>

#define KHV_PIT_HZ		1193182u
#define KHV_PIT_PORT		0x40	/* channels 0-2, then the control word */
#define KHV_PIT_PORT_B		0x61	/* NMI status/control: ch2 gate and OUT */
/* The shortest periodic IRQ0 period (as the local APIC timer's, and KVM's). */
#define KHV_PIT_MIN_PERIOD_NS	200000ull
/* DRAM refresh: port 0x61 bit 4 toggles every 15.085 us. */
#define KHV_PIT_REFRESH_NS	15085ull

struct khv_pit_channel {
	u32 count;		/* reload value, 1-65536 (0 written = 65536) */
	u64 load_ns;		/* when counting started */
	u8 mode;		/* 0-5 */
	u8 rw;			/* 1: LSB, 2: MSB, 3: LSB then MSB */
	bool bcd;
	bool armed;		/* counting (a count was written, or gated) */
	bool gate;
	bool write_msb_next, read_msb_next;
	u8 write_lsb;
	bool latched, status_latched;
	u16 latch;
	u8 status;
};

struct khv_pit;
struct khv_pit_state;

struct khv_pit_ops {
	/* Channel 0's output rose: pulse IRQ0 (PIC input 0, IOAPIC pin 2). */
	void (*irq0)(struct khv_pit *pit);
	/* khv_pit_next_irq_ns() changed: re-arm or cancel the host timer. */
	void (*timer_changed)(struct khv_pit *pit);
	u64 (*now_ns)(struct khv_pit *pit);
};

struct khv_pit {
	spinlock_t lock;
	struct khv_pit_channel ch[3];
	bool speaker;		/* port 0x61 bit 1 */
	u64 irq_next_ns;	/* next IRQ0, 0: none */
	u64 irq_period_ns;	/* 0: one-shot */
	u64 clamped;		/* periods raised to the minimum */
	u64 missed;		/* IRQ0 periods skipped because the host was late */
	const struct khv_pit_ops *ops;
	void *owner;
};

void khv_pit_init(struct khv_pit *pit, const struct khv_pit_ops *ops, void *owner);
void khv_pit_reset(struct khv_pit *pit);

/* Guest port I/O, one byte.  False: not the PIT's port. */
bool khv_pit_port_read(struct khv_pit *pit, u16 port, u8 *val);
bool khv_pit_port_write(struct khv_pit *pit, u16 port, u8 val);

u64 khv_pit_next_irq_ns(const struct khv_pit *pit);
void khv_pit_timer_fire(struct khv_pit *pit);

/* Save and restore (uAPI struct khv_pit_state; the lock held). */
void khv_pit_get_state(struct khv_pit *pit, struct khv_pit_state *s);
int khv_pit_check_state(const struct khv_pit_state *s);
void khv_pit_set_state(struct khv_pit *pit, const struct khv_pit_state *s);

#endif
