// SPDX-License-Identifier: GPL-2.0
/*
 * The 8254 model (contract: irq/pit.h).
 *
 * Facts from the Intel 8254 datasheet: the control word (channel, read/
 * write mode, mode 0-5 with 6 and 7 aliasing 2 and 3, BCD), the counter
 * latch and read-back commands and the status byte, LSB/MSB byte order,
 * a count of 0 meaning 65536 (10000 in BCD), and each mode's OUT: mode 0
 * low until terminal count; 1 the same, started by a gate edge; 2 low for
 * the one clock before each reload; 3 high for the first half of each
 * period; 4 and 5 low for the one clock at terminal count (5 started by a
 * gate edge).  In modes 2 and 3 a low gate holds OUT high and a rising
 * gate restarts the count.  Port 0x61 (bit 0 channel 2's gate, bit 1 the
 * speaker, bit 4 the refresh toggle, bit 5 channel 2's OUT) is the PC's.
 *
 * Simplified: a new count written in modes 2 and 3 takes effect at once
 * (the chip waits for the period's end), and a low gate does not pause
 * modes 0 and 4 (only channel 2's gate can be low, and Linux holds it high
 * while it counts).
 */
#include <linux/errno.h>
#include <linux/lockdep.h>
#include <linux/math64.h>
#include <linux/string.h>

#include "irq/pit.h"
#include "uapi/linux/khv.h"

#define NSEC_PER_SEC_U32	1000000000u

/* Whole clocks of the 1.193182 MHz input since ns0. */
static u64 ticks_since(u64 ns0, u64 now)
{
	return now > ns0 ? mul_u64_u32_div(now - ns0, KHV_PIT_HZ, NSEC_PER_SEC_U32) : 0;
}

/* The time of clock number t after ns0, rounded up to a whole ns. */
static u64 tick_time(u64 ns0, u64 t)
{
	return ns0 + mul_u64_u32_div(t, NSEC_PER_SEC_U32, KHV_PIT_HZ) + 1;
}

static u64 now_ns(struct khv_pit *pit)
{
	return pit->ops->now_ns(pit);
}

static bool periodic(u8 mode)
{
	return mode == 2 || mode == 3;
}

/* The counting element's value now (binary, 0-65535). */
static u16 counter(const struct khv_pit_channel *c, u64 now)
{
	u64 t;

	if (!c->armed)
		return (u16)c->count;
	t = ticks_since(c->load_ns, now);
	switch (c->mode) {
	case 2:
		return (u16)(c->count - t % c->count);
	case 3:
		/* Decrements by two, twice per period. */
		return (u16)((c->count - (2 * t) % c->count) & ~1u);
	default:
		/* Counts down past terminal count and wraps. */
		return (u16)(c->count - t);
	}
}

static bool out(const struct khv_pit_channel *c, u64 now)
{
	u64 t;

	/* Before counting, OUT is low only in mode 0. */
	if (!c->armed)
		return c->mode != 0;
	if (periodic(c->mode) && !c->gate)
		return true;
	t = ticks_since(c->load_ns, now);
	switch (c->mode) {
	case 0:
	case 1:
		return t >= c->count;
	case 2:
		return t % c->count != c->count - 1;
	case 3:
		return t % c->count < (c->count + 1) / 2;
	default:
		return t != c->count;
	}
}

static u16 to_bcd(u16 v)
{
	v %= 10000;
	return (v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10;
}

static u32 from_bcd(u16 v)
{
	return (v >> 12) * 1000 + ((v >> 8) & 0xf) % 10 * 100 + ((v >> 4) & 0xf) % 10 * 10 +
	       (v & 0xf) % 10;
}

/* ---- IRQ0: channel 0's rising edges ----------------------------------- */

/*
 * Where the next IRQ0 falls after channel 0 (re)started: mode 0 at
 * terminal count, mode 4 one clock later, modes 2 and 3 every period
 * (raised to KHV_PIT_MIN_PERIOD_NS).  Modes 1 and 5 never start on
 * channel 0, whose gate is tied high.
 */
static void irq_schedule(struct khv_pit *pit)
{
	struct khv_pit_channel *c = &pit->ch[0];

	pit->irq_next_ns = 0;
	pit->irq_period_ns = 0;
	if (c->armed && c->mode == 0)
		pit->irq_next_ns = tick_time(c->load_ns, c->count);
	else if (c->armed && c->mode == 4)
		pit->irq_next_ns = tick_time(c->load_ns, c->count + 1ull);
	if (c->armed && periodic(c->mode)) {
		pit->irq_period_ns = tick_time(0, c->count);
		if (pit->irq_period_ns < KHV_PIT_MIN_PERIOD_NS) {
			pit->irq_period_ns = KHV_PIT_MIN_PERIOD_NS;
			pit->clamped++;
		}
		pit->irq_next_ns = c->load_ns + pit->irq_period_ns;
	}
	pit->ops->timer_changed(pit);
}

u64 khv_pit_next_irq_ns(const struct khv_pit *pit)
{
	return pit->irq_next_ns;
}

/*
 * The owner's host timer reached khv_pit_next_irq_ns(): pulse IRQ0.  A
 * periodic channel that fell behind skips the periods it missed (and
 * counts them) rather than firing them back to back.
 */
void khv_pit_timer_fire(struct khv_pit *pit)
{
	u64 now = now_ns(pit), behind;

	lockdep_assert_held(&pit->lock);
	if (!pit->irq_next_ns || now < pit->irq_next_ns)
		return;
	pit->ops->irq0(pit);
	if (!pit->irq_period_ns) {
		pit->irq_next_ns = 0;
		return;
	}
	pit->irq_next_ns += pit->irq_period_ns;
	if (now >= pit->irq_next_ns) {
		behind = (now - pit->irq_next_ns) / pit->irq_period_ns + 1;
		pit->missed += behind;
		pit->irq_next_ns += behind * pit->irq_period_ns;
	}
}

/* ---- ports ------------------------------------------------------------- */

static void start(struct khv_pit *pit, unsigned int i, u64 now)
{
	pit->ch[i].load_ns = now;
	pit->ch[i].armed = true;
	if (i == 0)
		irq_schedule(pit);
}

static void load_count(struct khv_pit *pit, unsigned int i, u16 raw)
{
	struct khv_pit_channel *c = &pit->ch[i];
	u32 count = c->bcd ? from_bcd(raw) : raw;

	c->count = count ? count : (c->bcd ? 10000 : 65536);
	c->status &= ~0x40;		/* null count: the count is loaded */
	/* Modes 1 and 5 wait for a gate edge; the others count now. */
	if (c->mode == 1 || c->mode == 5) {
		c->armed = false;
		if (i == 0)
			irq_schedule(pit);
	} else {
		start(pit, i, now_ns(pit));
	}
}

static void write_count(struct khv_pit *pit, unsigned int i, u8 val)
{
	struct khv_pit_channel *c = &pit->ch[i];

	switch (c->rw) {
	case 1:
		load_count(pit, i, val);
		break;
	case 2:
		load_count(pit, i, val << 8);
		break;
	default:
		if (!c->write_msb_next) {
			c->write_lsb = val;
			c->write_msb_next = true;
			/* Mode 0: writing the first byte stops the count. */
			if (c->mode == 0) {
				c->armed = false;
				if (i == 0)
					irq_schedule(pit);
			}
		} else {
			c->write_msb_next = false;
			load_count(pit, i, c->write_lsb | val << 8);
		}
		break;
	}
}

static u16 visible(const struct khv_pit_channel *c, u64 now)
{
	u16 v = counter(c, now);

	return c->bcd ? to_bcd(v) : v;
}

static void latch_count(struct khv_pit_channel *c, u64 now)
{
	if (c->latched)
		return;
	c->latch = visible(c, now);
	c->latched = true;
	c->read_msb_next = c->rw == 2;
}

static void latch_status(struct khv_pit_channel *c, u64 now)
{
	if (c->status_latched)
		return;
	c->status = (c->status & 0x7f) | (out(c, now) ? 0x80 : 0);
	c->status_latched = true;
}

static void control_word(struct khv_pit *pit, u8 val)
{
	unsigned int i = val >> 6, rw = (val >> 4) & 3;
	struct khv_pit_channel *c;
	u64 now = now_ns(pit);

	if (i == 3) {
		/* Read-back: bit 5 clear latches counts, bit 4 clear status. */
		for (i = 0; i < 3; i++) {
			if (!(val & (2u << i)))
				continue;
			if (!(val & 0x20))
				latch_count(&pit->ch[i], now);
			if (!(val & 0x10))
				latch_status(&pit->ch[i], now);
		}
		return;
	}
	c = &pit->ch[i];
	if (!rw) {
		latch_count(c, now);
		return;
	}
	c->mode = (val >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4;
	c->rw = rw;
	c->bcd = val & 1;
	c->armed = false;
	c->latched = false;
	c->status_latched = false;
	c->write_msb_next = false;
	c->read_msb_next = rw == 2;
	/* Status: OUT, null count, then the control word's low six bits. */
	c->status = 0x40 | (val & 0x3f);
	if (i == 0)
		irq_schedule(pit);
}

static u8 read_channel(struct khv_pit *pit, unsigned int i)
{
	struct khv_pit_channel *c = &pit->ch[i];
	u16 v;
	u8 b;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	v = c->latched ? c->latch : visible(c, now_ns(pit));
	b = c->read_msb_next ? v >> 8 : v & 0xff;
	if (c->rw == 3)
		c->read_msb_next = !c->read_msb_next;
	/* A latch is held until all of it was read. */
	if (c->latched && (c->rw != 3 || !c->read_msb_next))
		c->latched = false;
	return b;
}

static void set_gate2(struct khv_pit *pit, bool gate)
{
	struct khv_pit_channel *c = &pit->ch[2];

	/* A rising gate starts modes 1 and 5 and restarts 2 and 3. */
	if (gate && !c->gate && (c->mode == 1 || c->mode == 5 || periodic(c->mode)) &&
	    !(c->status & 0x40))
		start(pit, 2, now_ns(pit));
	c->gate = gate;
}

bool khv_pit_port_read(struct khv_pit *pit, u16 port, u8 *val)
{
	u64 now;

	lockdep_assert_held(&pit->lock);
	if (port == KHV_PIT_PORT_B) {
		now = now_ns(pit);
		*val = (pit->ch[2].gate ? 0x01 : 0) | (pit->speaker ? 0x02 : 0) |
		       ((now / KHV_PIT_REFRESH_NS) & 1 ? 0x10 : 0) |
		       (out(&pit->ch[2], now) ? 0x20 : 0);
		return true;
	}
	if (port < KHV_PIT_PORT || port > KHV_PIT_PORT + 3)
		return false;
	/* The control word register cannot be read. */
	*val = port == KHV_PIT_PORT + 3 ? 0xff : read_channel(pit, port - KHV_PIT_PORT);
	return true;
}

bool khv_pit_port_write(struct khv_pit *pit, u16 port, u8 val)
{
	lockdep_assert_held(&pit->lock);
	if (port == KHV_PIT_PORT_B) {
		pit->speaker = val & 0x02;
		set_gate2(pit, val & 0x01);
		return true;
	}
	if (port < KHV_PIT_PORT || port > KHV_PIT_PORT + 3)
		return false;
	if (port == KHV_PIT_PORT + 3)
		control_word(pit, val);
	else
		write_count(pit, port - KHV_PIT_PORT, val);
	return true;
}

/* Power-up: every channel in mode 0 with no count; gates 0 and 1 tied high. */
void khv_pit_reset(struct khv_pit *pit)
{
	unsigned int i;

	memset(pit->ch, 0, sizeof(pit->ch));
	for (i = 0; i < 3; i++) {
		pit->ch[i].count = 65536;
		pit->ch[i].rw = 3;
		pit->ch[i].status = 0x40 | 0x30;
	}
	pit->ch[0].gate = true;
	pit->ch[1].gate = true;
	pit->speaker = false;
	irq_schedule(pit);
}

void khv_pit_init(struct khv_pit *pit, const struct khv_pit_ops *ops, void *owner)
{
	memset(pit, 0, sizeof(*pit));
	spin_lock_init(&pit->lock);
	pit->ops = ops;
	pit->owner = owner;
	khv_pit_reset(pit);
}

/* ---- state save and restore (KHV_GET_IRQCHIP / KHV_SET_IRQCHIP) -------- */

void khv_pit_get_state(struct khv_pit *pit, struct khv_pit_state *s)
{
	u64 now = now_ns(pit);
	unsigned int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < 3; i++) {
		const struct khv_pit_channel *c = &pit->ch[i];
		struct khv_pit_channel_state *d = &s->ch[i];

		d->count = c->count;
		d->mode = c->mode;
		d->rw = c->rw;
		d->write_lsb = c->write_lsb;
		d->status = c->status;
		d->latch = c->latch;
		d->flags = (c->bcd ? KHV_PIT_CH_BCD : 0) | (c->armed ? KHV_PIT_CH_ARMED : 0) |
			   (c->gate ? KHV_PIT_CH_GATE : 0) |
			   (c->write_msb_next ? KHV_PIT_CH_WRITE_MSB : 0) |
			   (c->read_msb_next ? KHV_PIT_CH_READ_MSB : 0) |
			   (c->latched ? KHV_PIT_CH_LATCHED : 0) |
			   (c->status_latched ? KHV_PIT_CH_STATUS_LATCHED : 0);
		if (c->armed)
			d->elapsed_ns = now > c->load_ns ? now - c->load_ns : 0;
	}
	s->flags = pit->speaker ? KHV_PIT_SPEAKER : 0;
	/* Due (or overdue, the host timer not yet run): 1 ns, so it stays due. */
	if (pit->irq_next_ns)
		s->irq0_in_ns = pit->irq_next_ns > now ? pit->irq_next_ns - now : 1;
}

int khv_pit_check_state(const struct khv_pit_state *s)
{
	unsigned int i;

	if ((s->flags & ~KHV_PIT_SPEAKER) || s->pad)
		return -EINVAL;
	for (i = 0; i < 3; i++) {
		const struct khv_pit_channel_state *c = &s->ch[i];

		if (c->count < 1 || c->count > 65536 || c->mode > 5 || c->rw < 1 || c->rw > 3 ||
		    (c->flags & ~KHV_PIT_CH_FLAGS_ALL) || c->pad)
			return -EINVAL;
		if (!(c->flags & KHV_PIT_CH_ARMED) && c->elapsed_ns)
			return -EINVAL;
		/* Channels 0 and 1 have their gates tied high. */
		if (i < 2 && !(c->flags & KHV_PIT_CH_GATE))
			return -EINVAL;
	}
	/*
	 * An IRQ0 due only where channel 0 produces one, and no later than
	 * a whole count: from the count's start for the one-shot modes.
	 */
	if (s->irq0_in_ns) {
		const struct khv_pit_channel_state *c = &s->ch[0];

		if (!(c->flags & KHV_PIT_CH_ARMED) || c->mode == 1 || c->mode == 5)
			return -EINVAL;
		if (s->irq0_in_ns > tick_time(0, c->count + 1ull) + KHV_PIT_MIN_PERIOD_NS)
			return -EINVAL;
	} else if ((s->ch[0].flags & KHV_PIT_CH_ARMED) && periodic(s->ch[0].mode)) {
		/* A periodic channel 0 always has its next IRQ0 ahead. */
		return -EINVAL;
	}
	return 0;
}

/* Put the PIT in state s (checked): every count resumes where it was. */
void khv_pit_set_state(struct khv_pit *pit, const struct khv_pit_state *s)
{
	u64 now = now_ns(pit);
	unsigned int i;

	lockdep_assert_held(&pit->lock);
	for (i = 0; i < 3; i++) {
		const struct khv_pit_channel_state *d = &s->ch[i];
		struct khv_pit_channel *c = &pit->ch[i];

		c->count = d->count;
		c->mode = d->mode;
		c->rw = d->rw;
		c->write_lsb = d->write_lsb;
		c->status = d->status;
		c->latch = d->latch;
		c->bcd = d->flags & KHV_PIT_CH_BCD;
		c->armed = d->flags & KHV_PIT_CH_ARMED;
		c->gate = d->flags & KHV_PIT_CH_GATE;
		c->write_msb_next = d->flags & KHV_PIT_CH_WRITE_MSB;
		c->read_msb_next = d->flags & KHV_PIT_CH_READ_MSB;
		c->latched = d->flags & KHV_PIT_CH_LATCHED;
		c->status_latched = d->flags & KHV_PIT_CH_STATUS_LATCHED;
		c->load_ns = d->elapsed_ns < now ? now - d->elapsed_ns : 0;
	}
	pit->speaker = s->flags & KHV_PIT_SPEAKER;
	/* The period from channel 0's mode and count; the phase as saved. */
	irq_schedule(pit);
	pit->irq_next_ns = s->irq0_in_ns ? now + s->irq0_in_ns : 0;
	pit->ops->timer_changed(pit);
}
