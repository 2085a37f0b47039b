// SPDX-License-Identifier: GPL-2.0
/*
 * The 8259A pair (contract: irq/pic.h).
 *
 * Facts from the Intel 8259A datasheet: the ICW1-ICW4 initialization
 * sequence, OCW1 (mask), OCW2 (EOI, specific EOI, rotations, set
 * priority), OCW3 (IRR/ISR read select, poll, special mask mode), the
 * priority resolver with rotation, special fully nested mode, automatic
 * EOI, and the spurious IRQ7 an INTA gets when the request went away.  The
 * ELCR (edge/level per ISA IRQ; IRQ0-2, 8 and 13 are always edge) is the
 * PC chipset's (PIIX).
 *
 * Not modelled: ICW1's LTIM (PCs take the trigger mode from the ELCR),
 * buffered mode and 8080 mode (ICW4 bits 0, 2, 3): nothing a PC guest
 * needs.  Polling the master while the slave requests acknowledges the
 * master only.
 */
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/lockdep.h>
#include <linux/string.h>

#include "irq/pic.h"
#include "uapi/linux/khv.h"

/* Priority of input n, 0 (highest) to 7, given the rotation. */
static unsigned int prio_of(const struct khv_8259 *c, unsigned int n)
{
	return (n - c->lowest - 1) & 7;
}

/* The highest-priority input set in mask, or -1. */
static int highest(const struct khv_8259 *c, u8 mask)
{
	unsigned int p;

	for (p = 0; p < 8; p++) {
		unsigned int n = (c->lowest + 1 + p) & 7;

		if (mask & (1u << n))
			return n;
	}
	return -1;
}

/*
 * The input this chip interrupts with now, or -1: the highest unmasked
 * request, if it has priority over everything in service.  Special mask
 * mode lets masked in-service inputs be interrupted by anything; special
 * fully nested mode lets the slave interrupt again while one of its
 * interrupts is in service on the master.
 */
static int chip_pending(const struct khv_8259 *c, bool master)
{
	int req = highest(c, c->irr & ~c->imr), cur;
	u8 isr = c->isr;

	if (req < 0)
		return -1;
	if (c->special_mask)
		isr &= ~c->imr;
	if (master && c->special_fully_nested)
		isr &= ~(1u << KHV_PIC_CASCADE_IRQ);
	cur = highest(c, isr);
	if (cur >= 0 && prio_of(c, req) >= prio_of(c, cur))
		return -1;
	return req;
}

/*
 * Input n of one chip to level.  Level-triggered inputs (ELCR) request
 * while high; edge-triggered ones latch a request on the rising edge,
 * which stays until acknowledged.
 */
static void chip_input(struct khv_8259 *c, unsigned int n, bool level)
{
	u8 bit = 1u << n;

	if (c->elcr & bit) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= ~bit;
	} else if (level && !(c->lines & bit)) {
		c->irr |= bit;
	}
	if (level)
		c->lines |= bit;
	else
		c->lines &= ~bit;
}

/* The slave's output drives master IR2; the master's, the owner. */
static void update(struct khv_pic *pic)
{
	bool out;

	chip_input(&pic->chip[0], KHV_PIC_CASCADE_IRQ, chip_pending(&pic->chip[1], false) >= 0);
	out = chip_pending(&pic->chip[0], true) >= 0;
	if (out != pic->output) {
		WRITE_ONCE(pic->output, out);	/* peeked at unlocked (irq/apic.c) */
		pic->ops->output(pic, out);
	}
}

int khv_pic_set_irq(struct khv_pic *pic, unsigned int irq, bool level)
{
	lockdep_assert_held(&pic->lock);
	if (irq >= KHV_PIC_IRQS)
		return -EINVAL;
	chip_input(&pic->chip[irq >> 3], irq & 7, level);
	update(pic);
	return 0;
}

/* One chip's share of an INTA for input n. */
static void chip_ack(struct khv_8259 *c, unsigned int n)
{
	u8 bit = 1u << n;

	if (!c->auto_eoi)
		c->isr |= bit;
	else if (c->rotate_on_auto_eoi)
		c->lowest = n;
	/* A level request stays as long as its line is high. */
	if (!(c->elcr & bit))
		c->irr &= ~bit;
}

u8 khv_pic_ack(struct khv_pic *pic)
{
	struct khv_8259 *m = &pic->chip[0], *s = &pic->chip[1];
	int irq, sirq;
	u8 vec;

	lockdep_assert_held(&pic->lock);
	irq = chip_pending(m, true);
	if (irq < 0) {
		/* The request went away before INTA: spurious IRQ7. */
		vec = m->vector_base | 7;
	} else {
		chip_ack(m, irq);
		if (irq != KHV_PIC_CASCADE_IRQ) {
			vec = m->vector_base | irq;
		} else {
			sirq = chip_pending(s, false);
			if (sirq < 0) {
				vec = s->vector_base | 7;
			} else {
				chip_ack(s, sirq);
				vec = s->vector_base | sirq;
			}
		}
	}
	update(pic);
	return vec;
}

/* ICW1: start the initialization sequence. */
static void chip_icw1(struct khv_8259 *c, u8 val)
{
	c->irr &= c->elcr;		/* edge requests and edge history are dropped */
	c->lines &= c->elcr;
	c->isr = 0;
	c->imr = 0;
	c->lowest = 7;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->auto_eoi = false;
	c->rotate_on_auto_eoi = false;
	c->special_fully_nested = false;
	c->icw4_needed = val & 1;
	c->single = val & 2;
	c->init_step = 2;
}

/* OCW2: end of interrupt, rotations, set priority. */
static void chip_ocw2(struct khv_8259 *c, u8 val)
{
	unsigned int level = val & 7;
	int n;

	switch (val >> 5) {
	case 0:		/* rotate in automatic EOI mode: clear */
	case 4:		/* ... set */
		c->rotate_on_auto_eoi = val >> 7;
		break;
	case 1:		/* non-specific EOI */
	case 5:		/* ... and rotate */
		n = highest(c, c->isr);
		if (n < 0)
			break;
		c->isr &= ~(1u << n);
		if (val >> 7)
			c->lowest = n;
		break;
	case 3:		/* specific EOI */
	case 7:		/* ... and rotate */
		c->isr &= ~(1u << level);
		if (val >> 7)
			c->lowest = level;
		break;
	case 6:		/* set priority */
		c->lowest = level;
		break;
	default:	/* 2: no operation */
		break;
	}
}

static void chip_command(struct khv_8259 *c, u8 val)
{
	if (val & 0x10) {
		chip_icw1(c, val);
	} else if (val & 0x08) {	/* OCW3 */
		if (val & 0x04)
			c->poll = true;
		if (val & 0x02)
			c->read_isr = val & 0x01;
		if (val & 0x40)
			c->special_mask = val & 0x20;
	} else {
		chip_ocw2(c, val);
	}
}

static void chip_data(struct khv_8259 *c, u8 val)
{
	switch (c->init_step) {
	case 2:			/* ICW2: vector base */
		c->vector_base = val & 0xf8;
		c->init_step = c->single ? (c->icw4_needed ? 4 : 0) : 3;
		break;
	case 3:			/* ICW3: the cascade is wired, whatever it says */
		c->init_step = c->icw4_needed ? 4 : 0;
		break;
	case 4:			/* ICW4 */
		c->auto_eoi = val & 0x02;
		c->special_fully_nested = val & 0x10;
		c->init_step = 0;
		break;
	default:		/* OCW1 */
		c->imr = val;
		break;
	}
}

/* Poll (OCW3 P): the read acknowledges, as an INTA would, on this chip. */
static u8 chip_poll(struct khv_8259 *c, bool master)
{
	int n = chip_pending(c, master);

	c->poll = false;
	if (n < 0)
		return 0;
	chip_ack(c, n);
	return 0x80 | n;
}

bool khv_pic_port_read(struct khv_pic *pic, u16 port, u8 *val)
{
	struct khv_8259 *c;

	lockdep_assert_held(&pic->lock);
	if (port == KHV_PIC_ELCR_PORT || port == KHV_PIC_ELCR_PORT + 1) {
		*val = pic->chip[port & 1].elcr;
		return true;
	}
	if ((port & ~1) != KHV_PIC_MASTER_PORT && (port & ~1) != KHV_PIC_SLAVE_PORT)
		return false;
	c = &pic->chip[port >= KHV_PIC_SLAVE_PORT];
	if (port & 1)
		*val = c->imr;
	else if (c->poll)
		*val = chip_poll(c, c == &pic->chip[0]);
	else
		*val = c->read_isr ? c->isr : c->irr;
	update(pic);
	return true;
}

bool khv_pic_port_write(struct khv_pic *pic, u16 port, u8 val)
{
	struct khv_8259 *c;

	lockdep_assert_held(&pic->lock);
	if (port == KHV_PIC_ELCR_PORT || port == KHV_PIC_ELCR_PORT + 1) {
		c = &pic->chip[port & 1];
		c->elcr = val & c->elcr_writable;
		update(pic);
		return true;
	}
	if ((port & ~1) != KHV_PIC_MASTER_PORT && (port & ~1) != KHV_PIC_SLAVE_PORT)
		return false;
	c = &pic->chip[port >= KHV_PIC_SLAVE_PORT];
	if (port & 1)
		chip_data(c, val);
	else
		chip_command(c, val);
	update(pic);
	return true;
}

/* Power-up: both chips as after an ICW1 with nothing programmed; ELCR all edge. */
void khv_pic_reset(struct khv_pic *pic)
{
	unsigned int i;

	memset(pic->chip, 0, sizeof(pic->chip));
	for (i = 0; i < 2; i++)
		pic->chip[i].lowest = 7;
	/* IRQ0-2 (timer, keyboard, cascade), 8 (RTC) and 13 (FPU) stay edge. */
	pic->chip[0].elcr_writable = 0xf8;
	pic->chip[1].elcr_writable = 0xde;
	if (pic->output) {
		WRITE_ONCE(pic->output, false);
		pic->ops->output(pic, false);
	}
}

void khv_pic_init(struct khv_pic *pic, const struct khv_pic_ops *ops, void *owner)
{
	memset(pic, 0, sizeof(*pic));
	spin_lock_init(&pic->lock);
	pic->ops = ops;
	pic->owner = owner;
	khv_pic_reset(pic);
}

/* ---- state save and restore (KHV_GET_IRQCHIP / KHV_SET_IRQCHIP) -------- */

void khv_pic_get_state(const struct khv_pic *pic, struct khv_pic_chip_state *s)
{
	unsigned int i;

	memset(s, 0, 2 * sizeof(*s));
	for (i = 0; i < 2; i++) {
		const struct khv_8259 *c = &pic->chip[i];

		s[i].irr = c->irr;
		s[i].isr = c->isr;
		s[i].imr = c->imr;
		s[i].lines = c->lines;
		s[i].elcr = c->elcr;
		s[i].vector_base = c->vector_base;
		s[i].lowest = c->lowest;
		s[i].init_step = c->init_step;
		s[i].flags = (c->icw4_needed ? KHV_PIC_ICW4_NEEDED : 0) |
			     (c->single ? KHV_PIC_SINGLE : 0) |
			     (c->auto_eoi ? KHV_PIC_AUTO_EOI : 0) |
			     (c->rotate_on_auto_eoi ? KHV_PIC_ROTATE_AEOI : 0) |
			     (c->special_fully_nested ? KHV_PIC_SFNM : 0) |
			     (c->special_mask ? KHV_PIC_SPECIAL_MASK : 0) |
			     (c->read_isr ? KHV_PIC_READ_ISR : 0) |
			     (c->poll ? KHV_PIC_POLL : 0);
	}
}

int khv_pic_check_state(const struct khv_pic *pic, const struct khv_pic_chip_state *s)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		if ((s[i].flags & ~KHV_PIC_FLAGS_ALL) || s[i].pad || (s[i].vector_base & 7) ||
		    s[i].lowest > 7 || (s[i].elcr & ~pic->chip[i].elcr_writable))
			return -EINVAL;
		if (s[i].init_step != 0 && (s[i].init_step < 2 || s[i].init_step > 4))
			return -EINVAL;
	}
	return 0;
}

/* Put the pair in state s (checked); its output follows. */
void khv_pic_set_state(struct khv_pic *pic, const struct khv_pic_chip_state *s)
{
	unsigned int i;

	lockdep_assert_held(&pic->lock);
	for (i = 0; i < 2; i++) {
		struct khv_8259 *c = &pic->chip[i];

		c->irr = s[i].irr;
		c->isr = s[i].isr;
		c->imr = s[i].imr;
		c->lines = s[i].lines;
		c->elcr = s[i].elcr;
		c->vector_base = s[i].vector_base;
		c->lowest = s[i].lowest;
		c->init_step = s[i].init_step;
		c->icw4_needed = s[i].flags & KHV_PIC_ICW4_NEEDED;
		c->single = s[i].flags & KHV_PIC_SINGLE;
		c->auto_eoi = s[i].flags & KHV_PIC_AUTO_EOI;
		c->rotate_on_auto_eoi = s[i].flags & KHV_PIC_ROTATE_AEOI;
		c->special_fully_nested = s[i].flags & KHV_PIC_SFNM;
		c->special_mask = s[i].flags & KHV_PIC_SPECIAL_MASK;
		c->read_isr = s[i].flags & KHV_PIC_READ_ISR;
		c->poll = s[i].flags & KHV_PIC_POLL;
	}
	update(pic);
}
