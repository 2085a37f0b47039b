// SPDX-License-Identifier: GPL-2.0
/*
 * A VM's in-kernel irqchip: the IOAPIC, the PIC pair and the PIT of a PC,
 * the wires between them, and the delivery of interrupt messages (IOAPIC
 * redirections, MSIs, IPIs) to the local APICs of the VM's vCPUs.
 *
 * The wiring is fixed, as on a PC and as the MADT's interrupt source
 * override describes it: ISA IRQ n drives PIC input n and IOAPIC pin n,
 * except IRQ 0 (the PIT's channel 0), which drives IOAPIC pin 2; pins
 * 16-23 are the IOAPIC's alone.  The PIC's output reaches the CPUs through
 * LINT0 (ExtINT) of the local APICs that accept it (apic.c).
 *
 * Locking: irqchip.h.  Every model lock is taken with interrupts off: the
 * PIT's hrtimer callback runs in hard interrupt context and goes all the
 * way from the PIT to the local APICs.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/nospec.h>

#include "../core/khv.h"
#include "irqchip.h"
#include "../core/trace.h"

#define KHV_IRQCHIP_ISA_IRQS	16
#define KHV_PIT_IOAPIC_PIN	2	/* ISA IRQ 0, by the source override */

static struct khv_irqchip *khv_irqchip_of(struct khv_vm *vm)
{
	/* Published once, before any vCPU exists; pairs with the release. */
	return smp_load_acquire(&vm->irqchip);
}

/* ---- delivery to local APICs -------------------------------------------- */

/*
 * A message for the local APICs: fixed, lowest priority (the matching APIC
 * with the lowest PPR takes it), NMI, INIT, SIPI.  x2apic_fmt: dest is an
 * x2APIC destination (an IPI from an x2APIC), else 8 bits.  Returns how
 * many APICs took it.  No irqchip lock but the IOAPIC's may be held.
 */
static unsigned int khv_deliver(struct khv_vm *vm, const struct khv_irq_msg *msg,
				bool x2apic_fmt, struct khv_vcpu *self, bool others_only,
				bool broadcast)
{
	struct khv_vcpu *lowest = NULL;
	u32 lowest_ppr = ~0u;
	bool took;
	unsigned int n = 0, i;

	for (i = 0; i < khv_vcpu_end(vm); i++) {
		struct khv_vcpu *vcpu = khv_vcpu_at(vm, i);
		struct khv_vcpu_apic *a;
		unsigned long flags;
		bool match;

		if (!vcpu || !vcpu->apic || (others_only && vcpu == self))
			continue;
		a = vcpu->apic;
		spin_lock_irqsave(&a->lapic.lock, flags);
		match = broadcast ? khv_lapic_hw_enabled(&a->lapic) :
			khv_lapic_match_dest(&a->lapic, msg->dest, msg->logical, x2apic_fmt);
		if (!match) {
			spin_unlock_irqrestore(&a->lapic.lock, flags);
			continue;
		}
		switch (msg->delivery_mode) {
		case KHV_APIC_DM_LOWEST: {
			u32 ppr = khv_lapic_ppr(&a->lapic);

			if (!lowest || ppr < lowest_ppr) {
				lowest = vcpu;
				lowest_ppr = ppr;
			}
			break;
		}
		case KHV_APIC_DM_FIXED:
			took = khv_lapic_accept(&a->lapic, msg->vector, msg->level);
			trace_khv_irq_deliver(vcpu->id, msg->vector, msg->delivery_mode,
					      msg->level, took);
			n += took;
			break;
		case KHV_APIC_DM_NMI:
		case KHV_APIC_DM_INIT:
		case KHV_APIC_DM_SIPI:
			trace_khv_irq_deliver(vcpu->id, msg->vector, msg->delivery_mode,
					      msg->level, true);
			if (msg->delivery_mode == KHV_APIC_DM_NMI)
				khv_apic_nmi(vcpu);
			else if (msg->delivery_mode == KHV_APIC_DM_INIT)
				khv_apic_init(vcpu);
			else
				khv_apic_sipi(vcpu, msg->vector);
			n++;
			break;
		default:
			/* SMI and ExtINT messages are not modelled. */
			break;
		}
		spin_unlock_irqrestore(&a->lapic.lock, flags);
	}
	if (lowest) {
		struct khv_vcpu_apic *a = lowest->apic;
		unsigned long flags;

		spin_lock_irqsave(&a->lapic.lock, flags);
		took = khv_lapic_accept(&a->lapic, msg->vector, msg->level);
		spin_unlock_irqrestore(&a->lapic.lock, flags);
		trace_khv_irq_deliver(lowest->id, msg->vector, msg->delivery_mode, msg->level,
				      took);
		n += took;
	}
	return n;
}

unsigned int khv_irqchip_deliver(struct khv_vm *vm, const struct khv_irq_msg *msg)
{
	return khv_deliver(vm, msg, false, NULL, false, false);
}

/*
 * An IPI a vCPU's ICR write asked for (apic.c records it under the
 * sender's lock and calls this after dropping it).
 */
void khv_irqchip_ipi(struct khv_vcpu *from, u64 icr)
{
	u32 lo = (u32)icr, sh = lo & KHV_APIC_SHORTHAND_MASK;
	struct khv_irq_msg msg = {
		.dest = icr >> 32,
		.vector = lo & KHV_APIC_VECTOR_MASK,
		.delivery_mode = (lo & KHV_APIC_DM_MASK) >> KHV_APIC_DM_SHIFT,
		.logical = lo & KHV_APIC_DEST_LOGICAL,
		.level = false,		/* IPIs are edge-triggered for the target */
	};
	bool x2 = khv_lapic_x2apic(&from->apic->lapic);

	if (sh == KHV_APIC_SHORT_ALL || sh == KHV_APIC_SHORT_OTHERS)
		khv_deliver(from->vm, &msg, x2, from, sh == KHV_APIC_SHORT_OTHERS, true);
	else
		khv_deliver(from->vm, &msg, x2, from, false, false);
}

/* ---- the IOAPIC --------------------------------------------------------- */

static unsigned int khv_ioapic_deliver(struct khv_ioapic *ioapic, const struct khv_irq_msg *msg)
{
	struct khv_irqchip *chip = ioapic->owner;

	return khv_irqchip_deliver(chip->vm, msg);
}

static const struct khv_ioapic_ops khv_ioapic_ops = {
	.deliver = khv_ioapic_deliver,
};

/* ---- the PIC ------------------------------------------------------------ */

/* The master's INT output: the CPUs that take ExtINT look again. */
static void khv_pic_output(struct khv_pic *pic, bool level)
{
	struct khv_irqchip *chip = pic->owner;
	unsigned int i;

	if (!level)
		return;
	for (i = 0; i < khv_vcpu_end(chip->vm); i++) {
		struct khv_vcpu *vcpu = khv_vcpu_at(chip->vm, i);

		if (vcpu && vcpu->apic)
			khv_apic_kick(vcpu);
	}
}

static const struct khv_pic_ops khv_pic_ops = {
	.output = khv_pic_output,
};

/* ---- the wires ---------------------------------------------------------- */

/* ISA IRQ or IOAPIC pin @irq to @level; the PIC lock is outside the IOAPIC's. */
void khv_irqchip_set(struct khv_irqchip *chip, u32 irq, bool level)
{
	unsigned long flags;

	if (irq < KHV_IRQCHIP_ISA_IRQS) {
		spin_lock_irqsave(&chip->pic.lock, flags);
		khv_pic_set_irq(&chip->pic, irq, level);
		spin_unlock_irqrestore(&chip->pic.lock, flags);
	}
	spin_lock_irqsave(&chip->ioapic.lock, flags);
	khv_ioapic_set_pin(&chip->ioapic, irq == 0 ? KHV_PIT_IOAPIC_PIN : irq, level);
	spin_unlock_irqrestore(&chip->ioapic.lock, flags);
}

int khv_irqchip_line(struct khv_vm *vm, u32 irq, bool level)
{
	struct khv_irqchip *chip = khv_irqchip_of(vm);

	if (!chip)
		return -ENXIO;
	/* IRQ 2 is the PIC cascade; IOAPIC pin 2 is IRQ 0's. */
	if (irq >= KHV_IOAPIC_PINS || irq == KHV_PIC_CASCADE_IRQ)
		return -EINVAL;
	khv_irqchip_set(chip, irq, level);
	return 0;
}

/*
 * An MSI as a PCI device writes it (Intel SDM vol. 3A, "Message Signalled
 * Interrupts"): address 0xFEExxxxx with the destination ID in bits 19:12
 * and the destination mode in bit 2; data with the vector in 7:0, the
 * delivery mode in 10:8 and the trigger mode in bit 15.
 */
void khv_irqchip_msi_msg(u64 address, u32 data, struct khv_irq_msg *msg)
{
	msg->dest = (address >> 12) & 0xff;
	msg->logical = address & BIT(2);
	msg->vector = data & 0xff;
	msg->delivery_mode = (data >> 8) & 7;
	msg->level = data & BIT(15);
}

int khv_irqchip_msi(struct khv_vm *vm, const struct khv_msi *m)
{
	struct khv_irq_msg msg;

	if (!khv_irqchip_of(vm))
		return -ENXIO;
	if (m->flags || m->reserved[0] || m->reserved[1])
		return -EINVAL;
	if ((m->address >> 20) != 0xfee || (m->address & 3))
		return -EINVAL;
	khv_irqchip_msi_msg(m->address, m->data, &msg);
	return khv_irqchip_deliver(vm, &msg);
}

/* ---- the PIT ------------------------------------------------------------ */

static void khv_pit_irq0(struct khv_pit *pit)
{
	struct khv_irqchip *chip = pit->owner;

	/* An edge on both chips (pit.lock held: it is the outermost). */
	chip->pit_irqs++;
	khv_irqchip_set(chip, 0, true);
	khv_irqchip_set(chip, 0, false);
}

static void khv_pit_timer_changed(struct khv_pit *pit)
{
	struct khv_irqchip *chip = pit->owner;

	chip->pit_rearm = true;
}

static u64 khv_pit_now_ns(struct khv_pit *pit)
{
	return ktime_get_ns();
}

static const struct khv_pit_ops khv_pit_ops = {
	.irq0 = khv_pit_irq0,
	.timer_changed = khv_pit_timer_changed,
	.now_ns = khv_pit_now_ns,
};

static enum hrtimer_restart khv_pit_timer_fn(struct hrtimer *t)
{
	struct khv_irqchip *chip = container_of(t, struct khv_irqchip, pit_timer);
	enum hrtimer_restart ret = HRTIMER_NORESTART;
	unsigned long flags;
	u64 next;

	spin_lock_irqsave(&chip->pit.lock, flags);
	khv_pit_timer_fire(&chip->pit);
	next = khv_pit_next_irq_ns(&chip->pit);
	chip->pit_rearm = false;
	if (next) {
		hrtimer_set_expires(t, ns_to_ktime(next));
		ret = HRTIMER_RESTART;
	}
	spin_unlock_irqrestore(&chip->pit.lock, flags);
	return ret;
}

/* Process context, no irqchip lock held: the host timer follows the PIT. */
static void khv_pit_sync(struct khv_irqchip *chip)
{
	unsigned long flags;
	u64 next;

	mutex_lock(&chip->pit_sync);
	hrtimer_cancel(&chip->pit_timer);
	spin_lock_irqsave(&chip->pit.lock, flags);
	chip->pit_rearm = false;
	next = khv_pit_next_irq_ns(&chip->pit);
	spin_unlock_irqrestore(&chip->pit.lock, flags);
	if (next)
		hrtimer_start(&chip->pit_timer, ns_to_ktime(next), HRTIMER_MODE_ABS_HARD);
	mutex_unlock(&chip->pit_sync);
}

/* ---- guest accesses ----------------------------------------------------- */

/*
 * Port I/O that the irqchip owns: the PIC pair and ELCR, the PIT and port
 * 0x61.  Only byte accesses: that is how the chips are wired (a wider
 * access goes to the VMM, which sees the port and size).
 */
bool khv_irqchip_pio(struct khv_vcpu *vcpu, u16 port, bool in, u8 size, u32 *val)
{
	struct khv_irqchip *chip = khv_irqchip_of(vcpu->vm);
	unsigned long flags;
	bool mine, rearm;
	u8 b = *val;

	if (!chip || size != 1)
		return false;
	/* Other ports (a VMM's devices) must not touch the VM-wide locks. */
	switch (port) {
	case KHV_PIC_MASTER_PORT: case KHV_PIC_MASTER_PORT + 1:
	case KHV_PIC_SLAVE_PORT: case KHV_PIC_SLAVE_PORT + 1:
	case KHV_PIC_ELCR_PORT: case KHV_PIC_ELCR_PORT + 1:
		spin_lock_irqsave(&chip->pic.lock, flags);
		mine = in ? khv_pic_port_read(&chip->pic, port, &b) :
			    khv_pic_port_write(&chip->pic, port, b);
		spin_unlock_irqrestore(&chip->pic.lock, flags);
		if (mine)
			*val = b;
		return mine;
	case KHV_PIT_PORT ... KHV_PIT_PORT + 3:
	case KHV_PIT_PORT_B:
		break;
	default:
		return false;
	}
	spin_lock_irqsave(&chip->pit.lock, flags);
	mine = in ? khv_pit_port_read(&chip->pit, port, &b) :
		    khv_pit_port_write(&chip->pit, port, b);
	rearm = chip->pit_rearm;
	spin_unlock_irqrestore(&chip->pit.lock, flags);
	if (rearm)
		khv_pit_sync(chip);
	if (mine)
		*val = b;
	return mine;
}

/* MMIO the irqchip owns: the IOAPIC page, then this vCPU's APIC page. */
bool khv_irqchip_mmio(struct khv_vcpu *vcpu, u64 gpa, bool write, unsigned int len, u64 *val)
{
	struct khv_irqchip *chip = khv_irqchip_of(vcpu->vm);
	unsigned long flags;

	if (!chip)
		return false;
	if ((gpa & PAGE_MASK) == chip->ioapic.base) {
		unsigned int off = gpa & ~PAGE_MASK;

		spin_lock_irqsave(&chip->ioapic.lock, flags);
		if (write)
			khv_ioapic_mmio_write(&chip->ioapic, off, len, val);
		else
			khv_ioapic_mmio_read(&chip->ioapic, off, len, val);
		spin_unlock_irqrestore(&chip->ioapic.lock, flags);
		return true;
	}
	return khv_apic_mmio(vcpu, gpa, write, len, val);
}

/* ---- save and restore ----------------------------------------------------- */

/*
 * KHV_GET_IRQCHIP: each device under its own lock, one after the other.
 * A VMM that wants one consistent picture stops its vCPUs and devices
 * first (a paused VM changes nothing but its timers, which the state
 * carries as times from now).
 */
int khv_irqchip_get_state(struct khv_vm *vm, struct khv_irqchip_state *s)
{
	struct khv_irqchip *chip = khv_irqchip_of(vm);
	unsigned long flags;

	if (!chip)
		return -ENXIO;
	memset(s, 0, sizeof(*s));
	spin_lock_irqsave(&chip->pit.lock, flags);
	khv_pit_get_state(&chip->pit, &s->pit);
	spin_unlock_irqrestore(&chip->pit.lock, flags);
	spin_lock_irqsave(&chip->pic.lock, flags);
	khv_pic_get_state(&chip->pic, s->pic);
	spin_unlock_irqrestore(&chip->pic.lock, flags);
	spin_lock_irqsave(&chip->ioapic.lock, flags);
	khv_ioapic_get_state(&chip->ioapic, &s->ioapic);
	spin_unlock_irqrestore(&chip->ioapic.lock, flags);
	return 0;
}

/* KHV_SET_IRQCHIP: all of it checked first, so a refusal changes nothing. */
int khv_irqchip_set_state(struct khv_vm *vm, const struct khv_irqchip_state *s)
{
	struct khv_irqchip *chip = khv_irqchip_of(vm);
	unsigned long flags;
	bool rearm;

	if (!chip)
		return -ENXIO;
	if (memchr_inv(s->reserved, 0, sizeof(s->reserved)) ||
	    khv_pit_check_state(&s->pit) || khv_pic_check_state(&chip->pic, s->pic) ||
	    khv_ioapic_check_state(&chip->ioapic, &s->ioapic))
		return -EINVAL;
	spin_lock_irqsave(&chip->pit.lock, flags);
	khv_pit_set_state(&chip->pit, &s->pit);
	rearm = chip->pit_rearm;
	spin_unlock_irqrestore(&chip->pit.lock, flags);
	if (rearm)
		khv_pit_sync(chip);
	spin_lock_irqsave(&chip->pic.lock, flags);
	khv_pic_set_state(&chip->pic, s->pic);
	spin_unlock_irqrestore(&chip->pic.lock, flags);
	spin_lock_irqsave(&chip->ioapic.lock, flags);
	khv_ioapic_set_state(&chip->ioapic, &s->ioapic);
	spin_unlock_irqrestore(&chip->ioapic.lock, flags);
	return 0;
}

/* ---- life --------------------------------------------------------------- */

int khv_irqchip_create(struct khv_vm *vm)
{
	struct khv_irqchip *chip;
	int err = 0;

	mutex_lock(&vm->lock);
	if (vm->irqchip) {
		err = -EEXIST;
		goto out;
	}
	/* Every vCPU needs a local APIC from its creation on. */
	if (atomic_read(&vm->nr_vcpus)) {
		err = -EBUSY;
		goto out;
	}
	chip = kzalloc(sizeof(*chip), GFP_KERNEL_ACCOUNT);
	if (!chip) {
		err = -ENOMEM;
		goto out;
	}
	chip->vm = vm;
	mutex_init(&chip->pit_sync);
	hrtimer_init(&chip->pit_timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	chip->pit_timer.function = khv_pit_timer_fn;
	khv_ioapic_init(&chip->ioapic, &khv_ioapic_ops, chip);
	khv_pic_init(&chip->pic, &khv_pic_ops, chip);
	khv_pit_init(&chip->pit, &khv_pit_ops, chip);
	/* Pairs with khv_irqchip_of(). */
	smp_store_release(&vm->irqchip, chip);
out:
	mutex_unlock(&vm->lock);
	return err;
}

/* VM destruction, after the vCPUs (and their APIC timers) are gone. */
void khv_irqchip_destroy(struct khv_vm *vm)
{
	struct khv_irqchip *chip = vm->irqchip;

	if (!chip)
		return;
	hrtimer_cancel(&chip->pit_timer);
	kfree(chip);
	vm->irqchip = NULL;
}
