/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PC's pair of 8259A programmable interrupt controllers, cascaded
 * (slave on the master's IR2), with the ELCR that makes ISA IRQs level-
 * triggered: what a guest's port I/O to 0x20/0x21, 0xA0/0xA1 and
 * 0x4D0/0x4D1 does, what IRQ lines 0-15 do, and the interrupt acknowledge
 * (INTA) that hands the CPU a vector.  The master's INT output goes to the
 * owner (ops->output), which wires it to the BSP's LINT0 (ExtINT) or, with
 * the local APIC disabled, to the CPU's INTR.
 *
 * Locking contract: every function is called with pic->lock held, and
 * ops->output is called with it held (the owner only records the level
 * and kicks; it takes no other irq/ lock).
 */
#ifndef KHV_IRQ_PIC_H
#define KHV_IRQ_PIC_H

#include <linux/types.h>
#include <linux/spinlock.h>

#define KHV_PIC_MASTER_PORT	0x20	/* command; +1: data */
#define KHV_PIC_SLAVE_PORT	0xa0
#define KHV_PIC_ELCR_PORT	0x4d0	/* master; +1: slave */
#define KHV_PIC_IRQS		16
#define KHV_PIC_CASCADE_IRQ	2

/* One 8259A. */
struct khv_8259 {
	u8 irr, isr, imr;
	u8 lines;		/* input levels, for edge detection */
	u8 elcr;		/* level-triggered inputs */
	u8 elcr_writable;
	u8 vector_base;		/* ICW2 & 0xf8 */
	u8 lowest;		/* the input with the lowest priority */
	u8 init_step;		/* 0: ready; 2-4: the ICW expected next */
	bool icw4_needed, single;
	bool auto_eoi, rotate_on_auto_eoi, special_fully_nested;
	bool special_mask, read_isr, poll;
};

struct khv_pic;
struct khv_pic_chip_state;

struct khv_pic_ops {
	/* The master's INT output changed to level. */
	void (*output)(struct khv_pic *pic, bool level);
};

struct khv_pic {
	spinlock_t lock;
	struct khv_8259 chip[2];	/* master, slave */
	bool output;
	const struct khv_pic_ops *ops;
	void *owner;
};

void khv_pic_init(struct khv_pic *pic, const struct khv_pic_ops *ops, void *owner);
void khv_pic_reset(struct khv_pic *pic);

/* Guest port I/O, one byte.  Return false for a port that is not the PIC's. */
bool khv_pic_port_read(struct khv_pic *pic, u16 port, u8 *val);
bool khv_pic_port_write(struct khv_pic *pic, u16 port, u8 val);

/* ISA IRQ line 0-15 to level (1: asserted).  -EINVAL: no such line. */
int khv_pic_set_irq(struct khv_pic *pic, unsigned int irq, bool level);
/* INTA: the vector the CPU takes now (a spurious IRQ7 if none). */
u8 khv_pic_ack(struct khv_pic *pic);

/* Save and restore (uAPI: s[0] master, s[1] slave; set: the lock held). */
void khv_pic_get_state(const struct khv_pic *pic, struct khv_pic_chip_state *s);
int khv_pic_check_state(const struct khv_pic *pic, const struct khv_pic_chip_state *s);
void khv_pic_set_state(struct khv_pic *pic, const struct khv_pic_chip_state *s);

#endif
