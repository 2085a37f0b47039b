/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-kernel irqchip of a VM: the register models of irq/ (lapic.c,
 * ioapic.c, pic.c, pit.c) attached to a VM and its vCPUs, wired as a PC,
 * with host hrtimers behind the timers.  This is the only interface core/
 * and the backends use; nothing here names a vendor.
 *
 * Files: irqchip.c owns the VM-wide devices (IOAPIC, PIC, PIT), the wiring
 * and message delivery to local APICs; irqfd.c the eventfds that raise
 * interrupts (its locks come before all of these); apic.c owns each vCPU's local APIC
 * (its MMIO page, its MSRs, its timer, HLT, and the choice of the
 * interrupt to inject before each entry).
 *
 * Locking, outermost first (all spinlocks taken with interrupts off,
 * because the hrtimer callbacks take them in hard interrupt context):
 *   irqchip->pit.lock     the PIT; its IRQ0 pulse drives the PIC and IOAPIC
 *   irqchip->pic.lock     the PIC pair; its output kicks vCPUs
 *   irqchip->ioapic.lock  the IOAPIC; delivery takes local APIC locks
 *   apic->lapic.lock      one local APIC; its kick takes a wait-queue lock
 * Nothing takes an outer lock while holding an inner one: what a local
 * APIC access asks of the outside (an IPI, the EOI of a level-triggered
 * vector) is recorded under its lock and done after it is dropped
 * (khv_apic_flush()), and timer re-arming, which may sleep in
 * hrtimer_cancel(), happens in the vCPU's thread from a request bit.
 */
#ifndef KHV_IRQ_IRQCHIP_H
#define KHV_IRQ_IRQCHIP_H

#include <linux/types.h>
#include <linux/hrtimer.h>
#include <linux/mutex.h>

#include "lapic.h"
#include "ioapic.h"
#include "pic.h"
#include "pit.h"

struct khv_vm;
struct khv_vcpu;
struct khv_msi;
struct khv_irqfd;
struct khv_irqchip_state;
struct khv_lapic_state;

struct khv_irqchip {
	struct khv_vm *vm;
	struct khv_ioapic ioapic;
	struct khv_pic pic;
	struct khv_pit pit;
	struct hrtimer pit_timer;
	struct mutex pit_sync;		/* serialises re-arming pit_timer */
	bool pit_rearm;			/* under pit.lock: the IRQ0 schedule changed */
	u64 pit_irqs;			/* IRQ0 pulses (under pit.lock) */
};

/* One vCPU's local APIC and what khv keeps around it. */
struct khv_vcpu_apic {
	struct khv_lapic lapic;
	struct khv_vcpu *vcpu;
	struct hrtimer timer;
	/* Recorded under lapic.lock by the vCPU's own accesses, done after. */
	bool ipi_pending;
	u64 ipi_icr;
	int eoi_vector;			/* level-triggered EOI for the IOAPIC, or -1 */
	u8 sipi_vector;			/* the last SIPI's (KHV_REQ_SIPI) */
	u64 timer_fires;		/* under lapic.lock */
	/*
	 * TSC-deadline timer advance (apic.c), under lapic.lock: how early
	 * the host timer fires (adaptive), and the deadline of the last
	 * firing, which the injection waits for (0: none).
	 */
	u32 advance_ns;
	u64 fired_deadline_ns;
};

/* irqchip.c: the VM's devices. */
int khv_irqchip_create(struct khv_vm *vm);
void khv_irqchip_destroy(struct khv_vm *vm);
int khv_irqchip_line(struct khv_vm *vm, u32 irq, bool level);
int khv_irqchip_msi(struct khv_vm *vm, const struct khv_msi *msi);
bool khv_irqchip_pio(struct khv_vcpu *vcpu, u16 port, bool in, u8 size, u32 *val);
bool khv_irqchip_mmio(struct khv_vcpu *vcpu, u64 gpa, bool write, unsigned int len, u64 *val);
unsigned int khv_irqchip_deliver(struct khv_vm *vm, const struct khv_irq_msg *msg);
void khv_irqchip_set(struct khv_irqchip *chip, u32 irq, bool level);
void khv_irqchip_msi_msg(u64 address, u32 data, struct khv_irq_msg *msg);
int khv_irqchip_get_state(struct khv_vm *vm, struct khv_irqchip_state *s);
int khv_irqchip_set_state(struct khv_vm *vm, const struct khv_irqchip_state *s);

/* irqfd.c: eventfds that raise interrupts. */
int khv_irqfd(struct khv_vm *vm, const struct khv_irqfd *args);
void khv_irqfd_eoi(struct khv_vm *vm, u8 vector);
void khv_irqfd_release(struct khv_vm *vm);
int khv_irqfd_module_init(void);
void khv_irqfd_module_exit(void);
void khv_irqchip_ipi(struct khv_vcpu *from, u64 icr);

/* apic.c: each vCPU's local APIC. */
int khv_apic_create(struct khv_vcpu *vcpu);
void khv_apic_destroy(struct khv_vcpu *vcpu);
bool khv_apic_mmio(struct khv_vcpu *vcpu, u64 gpa, bool write, unsigned int len, u64 *val);
int khv_apic_get_msr(struct khv_vcpu *vcpu, u32 index, u64 *data);
int khv_apic_set_msr(struct khv_vcpu *vcpu, u32 index, u64 data, bool host);
int khv_apic_cr8(struct khv_vcpu *vcpu);
void khv_apic_set_cr8(struct khv_vcpu *vcpu, u8 cr8);
u8 khv_apic_tpr(struct khv_vcpu *vcpu, u8 *blocked);
void khv_apic_kick(struct khv_vcpu *vcpu);
void khv_apic_nmi(struct khv_vcpu *vcpu);
void khv_apic_init(struct khv_vcpu *vcpu);
void khv_apic_sipi(struct khv_vcpu *vcpu, u8 vector);
int khv_apic_set_mp_state(struct khv_vcpu *vcpu, u32 state);
bool khv_apic_accepts_pic(struct khv_vcpu *vcpu);
int khv_apic_halt(struct khv_vcpu *vcpu);
int khv_apic_before_run(struct khv_vcpu *vcpu);
void khv_apic_inject(struct khv_vcpu *vcpu);
int khv_apic_get_state(struct khv_vcpu *vcpu, struct khv_lapic_state *s);
int khv_apic_set_state(struct khv_vcpu *vcpu, const struct khv_lapic_state *s);

#endif /* KHV_IRQ_IRQCHIP_H */
