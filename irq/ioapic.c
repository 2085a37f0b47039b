// SPDX-License-Identifier: GPL-2.0
/*
 * The IOAPIC register model (contract: irq/ioapic.h).
 *
 * Facts from the 82093AA I/O APIC datasheet: IOREGSEL/IOWIN at offsets 0
 * and 0x10, the ID/version/arbitration registers, the redirection entry
 * layout, edge versus level triggering and the remote IRR that holds a
 * level-triggered pin until the EOI.
 *
 * Pins carry assertion, not electrical level: a device that raises its
 * line calls khv_ioapic_set_pin(pin, true) whatever the entry's polarity
 * says (the polarity bit is kept for the guest to read back), as the ACPI
 * tables the VMM writes describe each pin's polarity to the guest anyway.
 */
#include <linux/errno.h>
#include <linux/lockdep.h>
#include <linux/string.h>

#include "irq/ioapic.h"
#include "uapi/linux/khv.h"

/* Bits of the low half the guest writes; delivery status and remote IRR are read-only. */
#define REDIR_LOW_WRITABLE	(KHV_IOAPIC_VECTOR | KHV_IOAPIC_DM_MASK | \
				 KHV_IOAPIC_DEST_LOGICAL | KHV_IOAPIC_POLARITY | \
				 KHV_IOAPIC_LEVEL | KHV_IOAPIC_MASKED)
#define REDIR_HIGH_WRITABLE	(0xffull << KHV_IOAPIC_DEST_SHIFT)

/*
 * Send pin's message if its entry lets it: not masked, and for a level-
 * triggered pin, not still waiting for the EOI of the last one.
 */
static void service(struct khv_ioapic *ioapic, unsigned int pin)
{
	u64 e = ioapic->redir[pin];
	struct khv_irq_msg msg = {
		.dest = (u32)(e >> KHV_IOAPIC_DEST_SHIFT),
		.vector = e & KHV_IOAPIC_VECTOR,
		.delivery_mode = (e & KHV_IOAPIC_DM_MASK) >> KHV_IOAPIC_DM_SHIFT,
		.logical = e & KHV_IOAPIC_DEST_LOGICAL,
		.level = e & KHV_IOAPIC_LEVEL,
	};

	if ((e & KHV_IOAPIC_MASKED) || (msg.level && (e & KHV_IOAPIC_REMOTE_IRR)))
		return;
	if (!ioapic->ops->deliver(ioapic, &msg)) {
		ioapic->lost++;
		return;
	}
	if (msg.level)
		ioapic->redir[pin] |= KHV_IOAPIC_REMOTE_IRR;
}

int khv_ioapic_set_pin(struct khv_ioapic *ioapic, unsigned int pin, bool level)
{
	bool was;

	lockdep_assert_held(&ioapic->lock);
	if (pin >= KHV_IOAPIC_PINS)
		return -EINVAL;
	was = ioapic->lines & (1u << pin);
	if (!level) {
		ioapic->lines &= ~(1u << pin);
		return 0;
	}
	ioapic->lines |= 1u << pin;
	/* Edge: only the rising edge sends.  Level: while asserted. */
	if ((ioapic->redir[pin] & KHV_IOAPIC_LEVEL) || !was)
		service(ioapic, pin);
	return 0;
}

/*
 * The EOI of a level-triggered vector frees every pin that sent it; a pin
 * whose device still asserts it sends again at once (the guest's handler
 * has not quieted the device yet).
 */
void khv_ioapic_eoi(struct khv_ioapic *ioapic, u8 vector)
{
	unsigned int pin;

	lockdep_assert_held(&ioapic->lock);
	for (pin = 0; pin < KHV_IOAPIC_PINS; pin++) {
		u64 e = ioapic->redir[pin];

		if (!(e & KHV_IOAPIC_LEVEL) || !(e & KHV_IOAPIC_REMOTE_IRR) ||
		    (e & KHV_IOAPIC_VECTOR) != vector)
			continue;
		ioapic->redir[pin] &= ~KHV_IOAPIC_REMOTE_IRR;
		if (ioapic->lines & (1u << pin))
			service(ioapic, pin);
	}
}

static void write_redir(struct khv_ioapic *ioapic, unsigned int pin, bool high, u32 val)
{
	u64 old = ioapic->redir[pin], e;

	if (high)
		e = (old & 0xffffffffull) | (((u64)val << 32) & REDIR_HIGH_WRITABLE);
	else
		e = (old & ~0xffffffffull) | (val & REDIR_LOW_WRITABLE) |
		    (old & KHV_IOAPIC_REMOTE_IRR);
	/* An edge-triggered pin has no EOI to wait for. */
	if (!(e & KHV_IOAPIC_LEVEL))
		e &= ~KHV_IOAPIC_REMOTE_IRR;
	ioapic->redir[pin] = e;
	/* Unmasked (or re-aimed) while a level-triggered line is asserted. */
	if ((e & KHV_IOAPIC_LEVEL) && (ioapic->lines & (1u << pin)))
		service(ioapic, pin);
}

static u32 read_reg(struct khv_ioapic *ioapic, u32 reg)
{
	switch (reg) {
	case KHV_IOAPIC_REG_ID:
	case KHV_IOAPIC_REG_ARB:	/* the arbitration ID is loaded from the ID */
		return ioapic->id << 24;
	case KHV_IOAPIC_REG_VER:
		return KHV_IOAPIC_VERSION | ((KHV_IOAPIC_PINS - 1u) << 16);
	default:
		if (reg >= KHV_IOAPIC_REG_REDIR &&
		    reg < KHV_IOAPIC_REG_REDIR + 2 * KHV_IOAPIC_PINS) {
			u64 e = ioapic->redir[(reg - KHV_IOAPIC_REG_REDIR) / 2];

			return (reg & 1) ? (u32)(e >> 32) : (u32)e;
		}
		return 0;
	}
}

static void write_reg(struct khv_ioapic *ioapic, u32 reg, u32 val)
{
	if (reg == KHV_IOAPIC_REG_ID)
		ioapic->id = (val >> 24) & 0xf;
	else if (reg >= KHV_IOAPIC_REG_REDIR && reg < KHV_IOAPIC_REG_REDIR + 2 * KHV_IOAPIC_PINS)
		write_redir(ioapic, (reg - KHV_IOAPIC_REG_REDIR) / 2, reg & 1, val);
	/* Version and arbitration are read-only; others do not exist. */
}

/*
 * IOREGSEL takes byte or wider writes (its bits 7:0 count); IOWIN is read
 * and written 32 bits at a time.  Everything else in the window reads 0
 * and drops writes.
 */
int khv_ioapic_mmio_read(struct khv_ioapic *ioapic, unsigned int off, unsigned int len, void *val)
{
	u32 v;

	lockdep_assert_held(&ioapic->lock);
	memset(val, 0, len);
	if (len > 4)
		return 0;
	if (off == 0)
		v = ioapic->regsel;
	else if (off == 0x10)
		v = read_reg(ioapic, ioapic->regsel);
	else
		return 0;
	memcpy(val, &v, len);
	return 0;
}

int khv_ioapic_mmio_write(struct khv_ioapic *ioapic, unsigned int off, unsigned int len,
			  const void *val)
{
	u32 v = 0;

	lockdep_assert_held(&ioapic->lock);
	if (!len || len > 4)
		return 0;
	memcpy(&v, val, len);
	if (off == 0)
		ioapic->regsel = v & 0xff;
	else if (off == 0x10 && len == 4)
		write_reg(ioapic, ioapic->regsel, v);
	return 0;
}

/* Reset: every entry masked, edge, vector 0; the lines keep their levels. */
void khv_ioapic_reset(struct khv_ioapic *ioapic)
{
	unsigned int pin;

	ioapic->regsel = 0;
	ioapic->id = 0;
	for (pin = 0; pin < KHV_IOAPIC_PINS; pin++)
		ioapic->redir[pin] = KHV_IOAPIC_MASKED;
}

void khv_ioapic_init(struct khv_ioapic *ioapic, const struct khv_ioapic_ops *ops, void *owner)
{
	memset(ioapic, 0, sizeof(*ioapic));
	spin_lock_init(&ioapic->lock);
	ioapic->base = KHV_IOAPIC_DEFAULT_BASE;
	ioapic->ops = ops;
	ioapic->owner = owner;
	khv_ioapic_reset(ioapic);
}

/* ---- state save and restore (KHV_GET_IRQCHIP / KHV_SET_IRQCHIP) -------- */

void khv_ioapic_get_state(const struct khv_ioapic *ioapic, struct khv_ioapic_state *s)
{
	memset(s, 0, sizeof(*s));
	s->base = ioapic->base;
	s->id = ioapic->id << 24;
	s->regsel = ioapic->regsel;
	s->lines = ioapic->lines;
	memcpy(s->redir, ioapic->redir, sizeof(s->redir));
}

int khv_ioapic_check_state(const struct khv_ioapic *ioapic, const struct khv_ioapic_state *s)
{
	unsigned int pin;

	if (s->base != ioapic->base || (s->id & ~0x0f000000u) || s->regsel > 0xff ||
	    (s->lines >> KHV_IOAPIC_PINS) || s->pad)
		return -EINVAL;
	for (pin = 0; pin < KHV_IOAPIC_PINS; pin++) {
		u64 e = s->redir[pin];

		if (e & ~(REDIR_LOW_WRITABLE | REDIR_HIGH_WRITABLE | KHV_IOAPIC_REMOTE_IRR))
			return -EINVAL;
		if ((e & KHV_IOAPIC_REMOTE_IRR) && !(e & KHV_IOAPIC_LEVEL))
			return -EINVAL;
	}
	return 0;
}

/*
 * Put the IOAPIC in state s (checked).  An asserted level-triggered pin
 * that is free to send (unmasked, no remote IRR) sends now, as it would
 * have the moment its entry allowed it.
 */
void khv_ioapic_set_state(struct khv_ioapic *ioapic, const struct khv_ioapic_state *s)
{
	unsigned int pin;

	lockdep_assert_held(&ioapic->lock);
	ioapic->id = s->id >> 24;
	ioapic->regsel = s->regsel;
	ioapic->lines = s->lines;
	memcpy(ioapic->redir, s->redir, sizeof(ioapic->redir));
	for (pin = 0; pin < KHV_IOAPIC_PINS; pin++)
		if ((ioapic->redir[pin] & KHV_IOAPIC_LEVEL) && (ioapic->lines & (1u << pin)))
			service(ioapic, pin);
}
