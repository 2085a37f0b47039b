// SPDX-License-Identifier: GPL-2.0
/*
 * Each vCPU's local APIC in the VM: the register model of lapic.c with its
 * page at IA32_APIC_BASE and its x2APIC MSRs answered in the kernel, its
 * timer on a host hrtimer, HLT that sleeps until something can wake the
 * vCPU, and, before every entry, the choice of the interrupt to inject.
 *
 * Who runs what:
 *  - the vCPU's own thread: guest accesses (MMIO, MSRs, CR8), HLT, the
 *    choice before entry, timer re-arming (KHV_REQ_APIC_TIMER);
 *  - the APIC timer's hrtimer callback (hard interrupt context) and other
 *    threads delivering messages (IOAPIC, MSI, IPIs): khv_lapic_accept()
 *    under the APIC lock, then khv_apic_kick().
 * A kick makes the vCPU look again: a sleeping vCPU wakes, one in guest
 * mode on another CPU gets a reschedule IPI, which forces an exit.  Pairs
 * with the run loop (core/vcpu.c), which sets IN_GUEST_MODE, then (full
 * barrier) looks at the APIC with interrupts off: either it sees the new
 * vector, or the kicker sees IN_GUEST_MODE and interrupts it.
 */
#include <linux/kernel.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/sched/signal.h>
#include <linux/rcuwait.h>
#include <asm/processor.h>
#include <asm/tsc.h>
#include <asm/msr-index.h>

#include "../core/khv.h"
#include "irqchip.h"
#include "../core/trace.h"

static struct khv_vcpu_apic *to_apic(struct khv_lapic *lapic)
{
	return container_of(lapic, struct khv_vcpu_apic, lapic);
}

/* ---- the model's owner ops (APIC lock held) ------------------------------ */

static void khv_apic_op_send_ipi(struct khv_lapic *lapic, u64 icr)
{
	struct khv_vcpu_apic *a = to_apic(lapic);

	/* Only the vCPU's own ICR write gets here: done by khv_apic_flush(). */
	a->ipi_pending = true;
	a->ipi_icr = icr;
}

static void khv_apic_op_eoi_level(struct khv_lapic *lapic, u8 vector)
{
	to_apic(lapic)->eoi_vector = vector;
}

static void khv_apic_op_timer_changed(struct khv_lapic *lapic)
{
	set_bit(KHV_REQ_APIC_TIMER, &to_apic(lapic)->vcpu->requests);
}

static void khv_apic_op_kick(struct khv_lapic *lapic)
{
	khv_apic_kick(to_apic(lapic)->vcpu);
}

static u64 khv_apic_op_now_ns(struct khv_lapic *lapic)
{
	return ktime_get_ns();
}

/* A guest TSC value as a CLOCK_MONOTONIC time (TSC-deadline mode). */
static u64 khv_apic_op_tsc_to_ns(struct khv_lapic *lapic, u64 tsc)
{
	struct khv_vcpu *vcpu = to_apic(lapic)->vcpu;
	u64 now = ktime_get_ns();
	u64 guest_now = rdtsc() + READ_ONCE(vcpu->tsc_offset);
	u64 ns;

	if (tsc <= guest_now || !tsc_khz)
		return now;
	/*
	 * Far deadlines saturate at the farthest time an hrtimer takes
	 * (KTIME_MAX): beyond it, ns_to_ktime() would go negative and the
	 * timer fire at once, forever.
	 */
	if (tsc - guest_now > (U64_MAX - tsc_khz) / 1000000)
		return KTIME_MAX;
	/* Rounded up: the deadline's time is never before the deadline. */
	ns = div_u64((tsc - guest_now) * 1000000 + tsc_khz - 1, tsc_khz);
	return ns > KTIME_MAX - now ? KTIME_MAX : now + ns;
}

static const struct khv_lapic_ops khv_apic_ops = {
	.send_ipi = khv_apic_op_send_ipi,
	.eoi_level = khv_apic_op_eoi_level,
	.timer_changed = khv_apic_op_timer_changed,
	.kick = khv_apic_op_kick,
	.now_ns = khv_apic_op_now_ns,
	.tsc_to_ns = khv_apic_op_tsc_to_ns,
};

/* ---- waking a vCPU ------------------------------------------------------- */

/* Any context, any lock of irqchip.h held: make the vCPU look again. */
void khv_apic_kick(struct khv_vcpu *vcpu)
{
	int cpu;

	/* The caller's change (IRR, nmi request) before the mode is read. */
	smp_mb();
	if (atomic_read(&vcpu->mode) == KHV_IN_GUEST_MODE) {
		cpu = READ_ONCE(vcpu->cpu);
		if (cpu >= 0 && cpu != raw_smp_processor_id())
			smp_send_reschedule(cpu);
	}
	rcuwait_wake_up(&vcpu->wait);
}

/* An NMI message (IPI, LINT1, MSI): taken on the vCPU's next entry. */
void khv_apic_nmi(struct khv_vcpu *vcpu)
{
	set_bit(KHV_REQ_NMI, &vcpu->requests);
	khv_apic_kick(vcpu);
}

/* INIT and SIPI messages: acted on by the vCPU's thread (khv_apic_before_run). */
void khv_apic_init(struct khv_vcpu *vcpu)
{
	set_bit(KHV_REQ_INIT, &vcpu->requests);
	khv_apic_kick(vcpu);
}

void khv_apic_sipi(struct khv_vcpu *vcpu, u8 vector)
{
	WRITE_ONCE(vcpu->apic->sipi_vector, vector);
	/* The vector before the bit; pairs with test_and_clear_bit(). */
	smp_mb__before_atomic();
	set_bit(KHV_REQ_SIPI, &vcpu->requests);
	khv_apic_kick(vcpu);
}

/* ---- the timer ----------------------------------------------------------- */

/*
 * TSC-deadline timer advance.  Waking a halted vCPU takes time after its
 * host timer fires (the interrupt, the wake-up, the scheduler, the entry);
 * started that much before the deadline, the vCPU is back at the entry in
 * time and waits out the rest in a short spin before the injection, so the
 * guest takes its interrupt at its deadline instead of a wake-up's length
 * after it, and never before it.  timer_advance_ns: -1 (the default)
 * adapts each vCPU's advance to how early or late it got to the injection,
 * within 0-5000 ns; 0 turns it off; another value is a fixed advance (at
 * most 5000 ns).  Only the TSC-deadline mode, whose deadline the guest
 * gives in absolute time (as KVM's lapic_timer_advance_ns).
 */
#define KHV_TIMER_ADVANCE_MAX_NS	5000u
#define KHV_TIMER_ADVANCE_START_NS	1000u
static int timer_advance_ns = -1;
module_param(timer_advance_ns, int, 0644);
MODULE_PARM_DESC(timer_advance_ns,
		 "ns a TSC-deadline timer fires early (-1: adaptive, 0: off, at most 5000)");

/* How early to fire the TSC-deadline timer now; 0 in the other modes.  Lock held. */
static u32 khv_apic_advance(struct khv_vcpu_apic *a)
{
	int p = READ_ONCE(timer_advance_ns);

	if (!khv_lapic_get_tsc_deadline(&a->lapic))
		return 0;
	if (p < 0)
		return a->advance_ns;
	return min_t(u32, p, KHV_TIMER_ADVANCE_MAX_NS);
}

/*
 * The model's timer is due, or will be within the advance: fire it (lock
 * held), noting a TSC deadline for the injection to wait for.  Returns the
 * next time to arm the host timer for, 0 for none.
 */
static u64 khv_apic_timer_due(struct khv_vcpu_apic *a, u64 now)
{
	u64 deadline = khv_lapic_timer_deadline_ns(&a->lapic);
	u32 adv = khv_apic_advance(a);

	if (!deadline)
		return 0;
	if (deadline > now + adv)
		return deadline - adv;
	if (khv_lapic_get_tsc_deadline(&a->lapic))
		a->fired_deadline_ns = deadline;
	a->timer_fires++;
	trace_khv_apic_timer(a->vcpu->id, khv_lapic_reg(&a->lapic, KHV_APIC_LVT_TIMER),
			     (s64)(now - deadline));
	khv_lapic_timer_fire(&a->lapic);
	/* Periodic: the next period, after the ones missed (never now). */
	return khv_lapic_timer_deadline_ns(&a->lapic);
}

/*
 * Interrupts off, just before the injection of a vector: a TSC-deadline
 * timer fired early is not taken before its deadline.  The adaptive
 * advance moves by an eighth of what the vCPU was early (less advance
 * needed) or late (more) by.  Lock held.
 */
static void khv_apic_timer_wait(struct khv_vcpu_apic *a)
{
	u64 deadline = a->fired_deadline_ns, now = ktime_get_ns();
	s64 early = (s64)(deadline - now);

	a->fired_deadline_ns = 0;
	if (early > 0)
		ndelay(min_t(u64, early, KHV_TIMER_ADVANCE_MAX_NS));
	if (READ_ONCE(timer_advance_ns) >= 0)
		return;
	if (early > 0)
		a->advance_ns -= min_t(u64, a->advance_ns, early / 8);
	else
		a->advance_ns = min_t(u64, KHV_TIMER_ADVANCE_MAX_NS,
				      a->advance_ns + min_t(u64, -early, KHV_TIMER_ADVANCE_MAX_NS) / 8);
}

static enum hrtimer_restart khv_apic_timer_fn(struct hrtimer *t)
{
	struct khv_vcpu_apic *a = container_of(t, struct khv_vcpu_apic, timer);
	enum hrtimer_restart ret = HRTIMER_NORESTART;
	unsigned long flags;
	u64 deadline;

	spin_lock_irqsave(&a->lapic.lock, flags);
	/* Early (re-armed meanwhile) or stopped: only fire when due. */
	deadline = khv_apic_timer_due(a, ktime_get_ns());
	if (deadline) {
		hrtimer_set_expires(t, ns_to_ktime(deadline));
		ret = HRTIMER_RESTART;
	}
	spin_unlock_irqrestore(&a->lapic.lock, flags);
	return ret;
}

/*
 * The vCPU's thread, no lock held: the host timer follows the model.  The
 * callback only ever re-arms itself, so cancel-then-start cannot race with
 * another arming.  A deadline already due (a TSC deadline in the past, a
 * tiny count) fires here, before the entry: armed on the host instead, its
 * interrupt would come just after the entry and cost an exit more.
 */
static void khv_apic_timer_sync(struct khv_vcpu_apic *a)
{
	unsigned long flags;
	u64 deadline;

	hrtimer_cancel(&a->timer);
	spin_lock_irqsave(&a->lapic.lock, flags);
	deadline = khv_apic_timer_due(a, ktime_get_ns());
	spin_unlock_irqrestore(&a->lapic.lock, flags);
	if (deadline)
		hrtimer_start(&a->timer, ns_to_ktime(deadline), HRTIMER_MODE_ABS_HARD);
}

/* ---- guest accesses ------------------------------------------------------ */

/* What the last access asked of the outside, now that the lock is dropped. */
static void khv_apic_flush(struct khv_vcpu *vcpu)
{
	struct khv_vcpu_apic *a = vcpu->apic;
	struct khv_irqchip *chip = vcpu->vm->irqchip;

	if (a->ipi_pending) {
		a->ipi_pending = false;
		khv_irqchip_ipi(vcpu, a->ipi_icr);
	}
	if (a->eoi_vector >= 0) {
		unsigned long flags;
		u8 vector = a->eoi_vector;

		a->eoi_vector = -1;
		/* Resampling irqfds lower their line before the IOAPIC looks. */
		khv_irqfd_eoi(vcpu->vm, vector);
		spin_lock_irqsave(&chip->ioapic.lock, flags);
		khv_ioapic_eoi(&chip->ioapic, vector);
		spin_unlock_irqrestore(&chip->ioapic.lock, flags);
	}
}

/*
 * The xAPIC page at IA32_APIC_BASE, while the APIC is enabled in xAPIC
 * mode; otherwise the address is memory or the VMM's MMIO like any other.
 */
bool khv_apic_mmio(struct khv_vcpu *vcpu, u64 gpa, bool write, unsigned int len, u64 *val)
{
	struct khv_vcpu_apic *a = vcpu->apic;
	unsigned long flags;
	bool mine;

	if (!a)
		return false;
	spin_lock_irqsave(&a->lapic.lock, flags);
	mine = khv_lapic_hw_enabled(&a->lapic) && !khv_lapic_x2apic(&a->lapic) &&
	       (gpa & PAGE_MASK) == khv_lapic_base_gpa(&a->lapic);
	if (mine) {
		if (write)
			khv_lapic_mmio_write(&a->lapic, gpa & ~PAGE_MASK, len, val);
		else
			khv_lapic_mmio_read(&a->lapic, gpa & ~PAGE_MASK, len, val);
	}
	spin_unlock_irqrestore(&a->lapic.lock, flags);
	if (mine)
		khv_apic_flush(vcpu);
	return mine;
}

/* The MSRs of the local APIC: its base, the x2APIC range, the TSC deadline. */
static bool khv_apic_msr(u32 index)
{
	return index == MSR_IA32_APICBASE || index == KHV_MSR_TSC_DEADLINE ||
	       (index >= KHV_MSR_X2APIC_FIRST && index <= KHV_MSR_X2APIC_LAST);
}

/* 1: not an APIC MSR (or no irqchip); 0: done; -EINVAL: #GP. */
int khv_apic_get_msr(struct khv_vcpu *vcpu, u32 index, u64 *data)
{
	struct khv_vcpu_apic *a = vcpu->apic;
	unsigned long flags;
	int r = 0;

	if (!a || !khv_apic_msr(index))
		return 1;
	spin_lock_irqsave(&a->lapic.lock, flags);
	if (index == MSR_IA32_APICBASE)
		*data = a->lapic.base_msr;
	else if (index == KHV_MSR_TSC_DEADLINE)
		*data = khv_lapic_get_tsc_deadline(&a->lapic);
	else
		r = khv_lapic_msr_read(&a->lapic, index, data);
	spin_unlock_irqrestore(&a->lapic.lock, flags);
	return r;
}

int khv_apic_set_msr(struct khv_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct khv_vcpu_apic *a = vcpu->apic;
	u64 maxphy = GENMASK_ULL(boot_cpu_data.x86_phys_bits - 1, 0);
	unsigned long flags;
	int r = 0;

	if (!a || !khv_apic_msr(index))
		return 1;
	spin_lock_irqsave(&a->lapic.lock, flags);
	if (index == MSR_IA32_APICBASE) {
		r = khv_lapic_set_base(&a->lapic, data, maxphy, host);
		if (!r)
			vcpu->apic_base = a->lapic.base_msr;
	} else if (index == KHV_MSR_TSC_DEADLINE) {
		khv_lapic_set_tsc_deadline(&a->lapic, data);
	} else {
		r = khv_lapic_msr_write(&a->lapic, index, data);
	}
	spin_unlock_irqrestore(&a->lapic.lock, flags);
	khv_apic_flush(vcpu);
	return r;
}

/* CR8 is TPR[7:4]; -1 without an in-kernel APIC. */
int khv_apic_cr8(struct khv_vcpu *vcpu)
{
	struct khv_vcpu_apic *a = vcpu->apic;
	unsigned long flags;
	int cr8;

	if (!a)
		return -1;
	spin_lock_irqsave(&a->lapic.lock, flags);
	cr8 = khv_lapic_get_cr8(&a->lapic);
	spin_unlock_irqrestore(&a->lapic.lock, flags);
	return cr8;
}

/*
 * CR8 (TPR[7:4]) and, in *blocked, the priority class of an interrupt
 * that only the TPR holds back (0: none), under one lock for the entry
 * path of a backend whose guest changes its TPR without an exit (AMD-V's
 * V_TPR): it loads CR8 and asks to exit once the TPR drops below that
 * class.  The APIC must exist.
 */
u8 khv_apic_tpr(struct khv_vcpu *vcpu, u8 *blocked)
{
	struct khv_vcpu_apic *a = vcpu->apic;
	unsigned long flags;
	u8 cr8;

	spin_lock_irqsave(&a->lapic.lock, flags);
	cr8 = khv_lapic_get_cr8(&a->lapic);
	*blocked = khv_lapic_tpr_blocked_class(&a->lapic);
	spin_unlock_irqrestore(&a->lapic.lock, flags);
	return cr8;
}

void khv_apic_set_cr8(struct khv_vcpu *vcpu, u8 cr8)
{
	struct khv_vcpu_apic *a = vcpu->apic;
	unsigned long flags;

	if (!a)
		return;
	spin_lock_irqsave(&a->lapic.lock, flags);
	khv_lapic_set_cr8(&a->lapic, cr8 & 0xf);
	spin_unlock_irqrestore(&a->lapic.lock, flags);
}

/* ---- interrupts into the guest ------------------------------------------- */

/*
 * The PIC's INTR reaches this CPU: its APIC is disabled in hardware (as if
 * there were none), or LINT0 is unmasked in ExtINT mode (virtual wire).
 * APIC lock held.
 */
static bool khv_apic_accepts_pic_locked(struct khv_lapic *l)
{
	u32 lint0 = khv_lapic_reg(l, KHV_APIC_LVT_LINT0);

	if (!khv_lapic_hw_enabled(l))
		return true;
	return !(lint0 & KHV_APIC_LVT_MASKED) &&
	       ((lint0 & KHV_APIC_DM_MASK) >> KHV_APIC_DM_SHIFT) == KHV_APIC_DM_EXTINT;
}

bool khv_apic_accepts_pic(struct khv_vcpu *vcpu)
{
	struct khv_vcpu_apic *a = vcpu->apic;
	unsigned long flags;
	bool r;

	spin_lock_irqsave(&a->lapic.lock, flags);
	r = khv_apic_accepts_pic_locked(&a->lapic);
	spin_unlock_irqrestore(&a->lapic.lock, flags);
	return r;
}

/*
 * Without the lock: false only when no vector is requested and the PIC's
 * output is low, so that nothing can be waiting.  Most entries and every
 * idle check end here.  Whoever requests a vector does so under the lock
 * and then kicks (khv_apic_kick(): a barrier, then the IPI or the
 * wake-up), so a vCPU that peeked just before it still hears of it: the
 * entry path has set IN_GUEST_MODE with a barrier before peeking, and a
 * sleeper sets its task state with one before testing.
 */
static bool khv_apic_may_have_interrupt(struct khv_vcpu *vcpu)
{
	return READ_ONCE(vcpu->apic->lapic.irr_words) || READ_ONCE(vcpu->vm->irqchip->pic.output);
}

/* An interrupt is waiting that the guest takes once RFLAGS.IF allows. */
static bool khv_apic_has_interrupt(struct khv_vcpu *vcpu)
{
	struct khv_vcpu_apic *a = vcpu->apic;
	struct khv_irqchip *chip = vcpu->vm->irqchip;
	unsigned long flags;
	bool r;

	if (!khv_apic_may_have_interrupt(vcpu))
		return false;
	spin_lock_irqsave(&a->lapic.lock, flags);
	r = khv_lapic_pending_vector(&a->lapic) >= 0;
	if (!r && !khv_apic_accepts_pic_locked(&a->lapic)) {
		spin_unlock_irqrestore(&a->lapic.lock, flags);
		return false;
	}
	spin_unlock_irqrestore(&a->lapic.lock, flags);
	if (r)
		return true;
	/* The PIC's lock is outside the APIC's: look at it alone. */
	return READ_ONCE(chip->pic.output);
}

/*
 * Interrupts off, IN_GUEST_MODE set, just before the backend's run():
 * an interrupt the guest can take now becomes the event to inject (the
 * APIC's INTA moves it from IRR to ISR, the PIC's ack does the same for
 * the PIC); one it cannot take yet asks the backend for an interrupt
 * window exit.  An NMI message becomes the pending NMI.
 */
void khv_apic_inject(struct khv_vcpu *vcpu)
{
	struct khv_vcpu_apic *a = vcpu->apic;
	struct khv_irqchip *chip = vcpu->vm->irqchip;
	int vector = -1;
	bool pic;

	if (!a)
		return;
	if (khv_test_clear_request(vcpu, KHV_REQ_NMI))
		vcpu->nmi_pending = true;
	vcpu->irq_window = false;
	if (vcpu->extint_pending || !khv_apic_may_have_interrupt(vcpu))
		return;
	if (!khv_ops->interrupt_allowed(vcpu)) {
		vcpu->irq_window = khv_apic_has_interrupt(vcpu);
		return;
	}
	/* The ack finds out, under the one lock, whether there is one. */
	spin_lock(&a->lapic.lock);
	vector = khv_lapic_ack(&a->lapic);
	if (vector >= 0 && a->fired_deadline_ns)
		khv_apic_timer_wait(a);
	pic = vector < 0 && khv_apic_accepts_pic_locked(&a->lapic);
	spin_unlock(&a->lapic.lock);
	if (pic) {
		spin_lock(&chip->pic.lock);
		if (chip->pic.output)
			vector = khv_pic_ack(&chip->pic);
		spin_unlock(&chip->pic.lock);
	}
	if (vector < 0)
		return;
	trace_khv_irq_ack(vcpu->id, vector, pic);
	vcpu->extint_pending = true;
	vcpu->extint_vector = vector;
	khv_kstat(vcpu, KHV_KSTAT_IRQ_INJECTED);
	if (pic)
		khv_kstat(vcpu, KHV_KSTAT_IRQ_PIC);
}

/* ---- HLT ----------------------------------------------------------------- */

/*
 * Something for a sleeping vCPU to look at: INIT or SIPI (whatever its
 * state), a timer to re-arm, and, for a halted one, an interrupt
 * RFLAGS.IF lets in or an NMI.
 */
static bool khv_apic_wakes(struct khv_vcpu *vcpu)
{
	if (test_bit(KHV_REQ_INIT, &vcpu->requests) || test_bit(KHV_REQ_SIPI, &vcpu->requests) ||
	    test_bit(KHV_REQ_APIC_TIMER, &vcpu->requests))
		return true;
	if (vcpu->mp_state != KHV_MP_STATE_HALTED)
		return false;
	if (test_bit(KHV_REQ_NMI, &vcpu->requests) || vcpu->nmi_pending)
		return true;
	return (vcpu->rflags & X86_EFLAGS_IF) &&
	       (vcpu->extint_pending || khv_apic_has_interrupt(vcpu));
}

/*
 * Halt polling, off by default: a halted vCPU first spins for up to
 * halt_poll_ns (at most 1 ms) watching for its wake-up before it sleeps,
 * trading host CPU time for the cost of a sleep and a wake-up when the
 * next interrupt is near (an IPI reply, a short timer).  Every poll is
 * counted, as a hit (woken while polling) or a miss (it slept after all).
 */
#define KHV_HALT_POLL_MAX_NS	1000000u
static unsigned int halt_poll_ns;
module_param(halt_poll_ns, uint, 0644);
MODULE_PARM_DESC(halt_poll_ns, "ns a halted vCPU polls before it sleeps (0: off, at most 1000000)");

static bool khv_apic_poll(struct khv_vcpu *vcpu)
{
	u64 limit = min(READ_ONCE(halt_poll_ns), KHV_HALT_POLL_MAX_NS), start;

	if (!limit || vcpu->mp_state != KHV_MP_STATE_HALTED)
		return false;
	start = ktime_get_ns();
	do {
		if (khv_apic_wakes(vcpu)) {
			khv_kstat(vcpu, KHV_KSTAT_HALT_POLL_HIT);
			return true;
		}
		cpu_relax();
	} while (!need_resched() && !signal_pending(current) && ktime_get_ns() - start < limit);
	khv_kstat(vcpu, KHV_KSTAT_HALT_POLL_MISS);
	return false;
}

/* HLT with an in-kernel irqchip: the instruction is done, the vCPU halts. */
int khv_apic_halt(struct khv_vcpu *vcpu)
{
	vcpu->mp_state = KHV_MP_STATE_HALTED;
	return 1;
}

/* KHV_SET_MP_STATE: any state but SIPI_RECEIVED (never kept) with an APIC. */
int khv_apic_set_mp_state(struct khv_vcpu *vcpu, u32 state)
{
	if (state > KHV_MP_STATE_HALTED)
		return -EINVAL;
	if (!vcpu->apic && state != KHV_MP_STATE_RUNNABLE)
		return -EINVAL;
	vcpu->mp_state = state;
	return 0;
}

/* INIT: the vCPU's registers and APIC as INIT leaves them. */
static void khv_apic_do_init(struct khv_vcpu *vcpu)
{
	struct khv_vcpu_apic *a = vcpu->apic;
	unsigned long flags;
	bool bsp;

	khv_vcpu_init_signal(vcpu);
	spin_lock_irqsave(&a->lapic.lock, flags);
	khv_lapic_reset(&a->lapic, true);
	bsp = a->lapic.base_msr & KHV_APIC_BASE_BSP;
	spin_unlock_irqrestore(&a->lapic.lock, flags);
	khv_apic_timer_sync(a);
	/* The BSP starts at the reset vector; the others wait for a SIPI. */
	vcpu->mp_state = bsp ? KHV_MP_STATE_RUNNABLE : KHV_MP_STATE_INIT_RECEIVED;
}

/*
 * Process context, before each entry: INIT and SIPI, the APIC timer's
 * re-arming, and the sleep of a vCPU that is not RUNNABLE (halted, or an
 * application processor waiting for INIT and SIPI).  Returns 1 to go on
 * into the guest, -EINTR for a signal (KHV_RUN returns; the vCPU keeps
 * its state and the next KHV_RUN sleeps again).
 */
int khv_apic_before_run(struct khv_vcpu *vcpu)
{
	const unsigned long reqs = BIT(KHV_REQ_INIT) | BIT(KHV_REQ_SIPI) | BIT(KHV_REQ_APIC_TIMER);
	struct khv_vcpu_apic *a = vcpu->apic;
	u64 slept;
	int r;

	/* Nearly every entry: running, nothing asked of it. */
	if (vcpu->mp_state == KHV_MP_STATE_RUNNABLE && !(READ_ONCE(vcpu->requests) & reqs))
		return 1;
	for (;;) {
		if (khv_test_clear_request(vcpu, KHV_REQ_INIT))
			khv_apic_do_init(vcpu);
		if (khv_test_clear_request(vcpu, KHV_REQ_SIPI) &&
		    vcpu->mp_state == KHV_MP_STATE_INIT_RECEIVED) {
			khv_vcpu_sipi(vcpu, READ_ONCE(a->sipi_vector));
			vcpu->mp_state = KHV_MP_STATE_RUNNABLE;
		}
		if (khv_test_clear_request(vcpu, KHV_REQ_APIC_TIMER))
			khv_apic_timer_sync(a);
		if (vcpu->mp_state == KHV_MP_STATE_RUNNABLE)
			return 1;
		if (khv_apic_wakes(vcpu)) {
			if (vcpu->mp_state == KHV_MP_STATE_HALTED &&
			    !test_bit(KHV_REQ_INIT, &vcpu->requests) &&
			    !test_bit(KHV_REQ_SIPI, &vcpu->requests) &&
			    !test_bit(KHV_REQ_APIC_TIMER, &vcpu->requests)) {
				vcpu->mp_state = KHV_MP_STATE_RUNNABLE;
				return 1;
			}
			continue;
		}
		if (signal_pending(current))
			return -EINTR;
		if (khv_apic_poll(vcpu))
			continue;
		khv_kstat(vcpu, KHV_KSTAT_HALT_SLEEP);
		trace_khv_halt(vcpu->id, vcpu->mp_state, false);
		slept = ktime_get_ns();
		r = rcuwait_wait_event(&vcpu->wait, khv_apic_wakes(vcpu), TASK_INTERRUPTIBLE);
		vcpu->stats->time[KHV_TIME_HALT] += ktime_get_ns() - slept;
		if (r)
			return -EINTR;
		trace_khv_halt(vcpu->id, vcpu->mp_state, true);
	}
}

/* ---- save and restore ----------------------------------------------------- */

int khv_apic_get_state(struct khv_vcpu *vcpu, struct khv_lapic_state *s)
{
	struct khv_vcpu_apic *a = vcpu->apic;
	unsigned long flags;

	if (!a)
		return -ENXIO;
	spin_lock_irqsave(&a->lapic.lock, flags);
	khv_lapic_get_state(&a->lapic, s);
	spin_unlock_irqrestore(&a->lapic.lock, flags);
	return 0;
}

/* The vCPU's thread (its mutex held): the timer re-arms on the next entry. */
int khv_apic_set_state(struct khv_vcpu *vcpu, const struct khv_lapic_state *s)
{
	struct khv_vcpu_apic *a = vcpu->apic;
	u64 maxphy = GENMASK_ULL(boot_cpu_data.x86_phys_bits - 1, 0);
	unsigned long flags;
	int r;

	if (!a)
		return -ENXIO;
	spin_lock_irqsave(&a->lapic.lock, flags);
	r = khv_lapic_check_state(&a->lapic, s, maxphy);
	if (!r) {
		khv_lapic_set_state(&a->lapic, s);
		vcpu->apic_base = a->lapic.base_msr;
	}
	spin_unlock_irqrestore(&a->lapic.lock, flags);
	return r;
}

/* ---- life ---------------------------------------------------------------- */

int khv_apic_create(struct khv_vcpu *vcpu)
{
	struct khv_vcpu_apic *a;

	if (!vcpu->vm->irqchip)
		return 0;
	a = kzalloc(sizeof(*a), GFP_KERNEL_ACCOUNT);
	if (!a)
		return -ENOMEM;
	a->vcpu = vcpu;
	a->eoi_vector = -1;
	a->advance_ns = KHV_TIMER_ADVANCE_START_NS;
	hrtimer_init(&a->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	a->timer.function = khv_apic_timer_fn;
	/* Not yet visible to anyone: no lock (khv_lapic_init sets it up). */
	khv_lapic_init(&a->lapic, &khv_apic_ops, a, vcpu->id, vcpu->id == 0);
	vcpu->apic_base = a->lapic.base_msr;
	vcpu->apic = a;
	/* Application processors wait for INIT and SIPI, as on a PC. */
	vcpu->mp_state = vcpu->id ? KHV_MP_STATE_UNINITIALIZED : KHV_MP_STATE_RUNNABLE;
	return 0;
}

void khv_apic_destroy(struct khv_vcpu *vcpu)
{
	struct khv_vcpu_apic *a = vcpu->apic;

	if (!a)
		return;
	hrtimer_cancel(&a->timer);
	vcpu->apic = NULL;
	kfree(a);
}
