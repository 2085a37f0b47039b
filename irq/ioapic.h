/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The IOAPIC of a VM (one, 24 pins at 0xFEC00000), as a register model: the
 * guest's IOREGSEL/IOWIN accesses, the redirection table, and what happens
 * when a pin changes level or a level-triggered vector is EOI'd.  Delivery
 * of the resulting message to local APICs is the owner's (ops->deliver),
 * with the same destination rules as an IPI.
 *
 * Locking contract: every function is called with ioapic->lock held and
 * calls ops->deliver with it held; the owner's delivery takes local APIC
 * locks inside it (order: IOAPIC, then LAPIC), and an EOI coming back from
 * a LAPIC must be passed on after that LAPIC's lock is dropped.
 *
 * The model is the 82093AA's (version 0x11): no EOI register, so a guest
 * EOIs level-triggered lines through its local APIC's EOI broadcast, as
 * Linux does with such an IOAPIC.
 */
#ifndef KHV_IRQ_IOAPIC_H
#define KHV_IRQ_IOAPIC_H

#include <linux/types.h>
#include <linux/spinlock.h>

#define KHV_IOAPIC_DEFAULT_BASE	0xfec00000ull
#define KHV_IOAPIC_MMIO_SIZE	0x20		/* IOREGSEL at 0, IOWIN at 0x10 */
#define KHV_IOAPIC_PINS		24
#define KHV_IOAPIC_VERSION	0x11u

/* Indirect registers (IOREGSEL). */
#define KHV_IOAPIC_REG_ID	0x00
#define KHV_IOAPIC_REG_VER	0x01
#define KHV_IOAPIC_REG_ARB	0x02
#define KHV_IOAPIC_REG_REDIR	0x10		/* 0x10 + 2n: low, 0x11 + 2n: high */

/* Redirection entry fields. */
#define KHV_IOAPIC_VECTOR	0xffull
#define KHV_IOAPIC_DM_SHIFT	8
#define KHV_IOAPIC_DM_MASK	(7ull << 8)
#define KHV_IOAPIC_DEST_LOGICAL	(1ull << 11)
#define KHV_IOAPIC_DELIVS	(1ull << 12)
#define KHV_IOAPIC_POLARITY	(1ull << 13)	/* 1: active low */
#define KHV_IOAPIC_REMOTE_IRR	(1ull << 14)
#define KHV_IOAPIC_LEVEL	(1ull << 15)
#define KHV_IOAPIC_MASKED	(1ull << 16)
#define KHV_IOAPIC_DEST_SHIFT	56

struct khv_ioapic;
struct khv_ioapic_state;

/* One interrupt message, as the IOAPIC sends it on the APIC bus. */
struct khv_irq_msg {
	u32 dest;		/* 8 bits: APIC ID or logical set */
	u8 vector;
	u8 delivery_mode;	/* KHV_APIC_DM_* */
	bool logical;
	bool level;		/* level-triggered: the target sets TMR */
};

struct khv_ioapic_ops {
	/* Send msg; returns how many local APICs took it (0: lost). */
	unsigned int (*deliver)(struct khv_ioapic *ioapic, const struct khv_irq_msg *msg);
};

struct khv_ioapic {
	spinlock_t lock;
	u64 base;		/* guest-physical, fixed at creation */
	u32 regsel;
	u32 id;			/* IOAPICID[27:24] as written */
	u32 lines;		/* pin n asserted: bit n */
	u64 redir[KHV_IOAPIC_PINS];
	u64 lost;		/* messages no local APIC took */
	const struct khv_ioapic_ops *ops;
	void *owner;
};

void khv_ioapic_init(struct khv_ioapic *ioapic, const struct khv_ioapic_ops *ops, void *owner);
void khv_ioapic_reset(struct khv_ioapic *ioapic);

int khv_ioapic_mmio_read(struct khv_ioapic *ioapic, unsigned int off, unsigned int len, void *val);
int khv_ioapic_mmio_write(struct khv_ioapic *ioapic, unsigned int off, unsigned int len,
			  const void *val);

/* A device drives pin to level (1: asserted).  -EINVAL: no such pin. */
int khv_ioapic_set_pin(struct khv_ioapic *ioapic, unsigned int pin, bool level);
/* A local APIC EOI'd a level-triggered vector. */
void khv_ioapic_eoi(struct khv_ioapic *ioapic, u8 vector);

/* Save and restore (uAPI struct khv_ioapic_state; set: the lock held). */
void khv_ioapic_get_state(const struct khv_ioapic *ioapic, struct khv_ioapic_state *s);
int khv_ioapic_check_state(const struct khv_ioapic *ioapic, const struct khv_ioapic_state *s);
void khv_ioapic_set_state(struct khv_ioapic *ioapic, const struct khv_ioapic_state *s);

#endif
