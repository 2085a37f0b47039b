// SPDX-License-Identifier: GPL-2.0
/*
 * The local APIC register model (contract and layout: irq/lapic.h).
 *
 * Facts from the SDM, vol. 3A, chapter "Advanced Programmable Interrupt
 * Controller": the register map and reset values, the priority rules
 * (PPR, when IRR is delivered), the LVT and ICR fields, the timer's divider
 * and modes, the x2APIC MSR rules (which MSRs exist, which are read- or
 * write-only, what raises #GP) and the IA32_APIC_BASE mode transitions.
 */
#include <linux/bitops.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/lockdep.h>
#include <linux/string.h>

#include "irq/lapic.h"
#include "uapi/linux/khv.h"

/* Writable bits of each LVT entry, in register order from the timer's. */
static const u32 lvt_writable[KHV_APIC_LVT_COUNT] = {
	KHV_APIC_VECTOR_MASK | KHV_APIC_LVT_MASKED | KHV_APIC_TIMER_MODE_MASK,
	KHV_APIC_VECTOR_MASK | KHV_APIC_DM_MASK | KHV_APIC_LVT_MASKED,	/* thermal */
	KHV_APIC_VECTOR_MASK | KHV_APIC_DM_MASK | KHV_APIC_LVT_MASKED,	/* perf */
	KHV_APIC_VECTOR_MASK | KHV_APIC_DM_MASK | KHV_APIC_LVT_POLARITY |
		KHV_APIC_TRIGGER_LEVEL | KHV_APIC_LVT_MASKED,			/* LINT0 */
	KHV_APIC_VECTOR_MASK | KHV_APIC_DM_MASK | KHV_APIC_LVT_POLARITY |
		KHV_APIC_TRIGGER_LEVEL | KHV_APIC_LVT_MASKED,			/* LINT1 */
	KHV_APIC_VECTOR_MASK | KHV_APIC_LVT_MASKED,			/* error */
};

#define ICR_WRITABLE	(KHV_APIC_VECTOR_MASK | KHV_APIC_DM_MASK | KHV_APIC_DEST_LOGICAL | \
			 KHV_APIC_LEVEL_ASSERT | KHV_APIC_TRIGGER_LEVEL | KHV_APIC_SHORTHAND_MASK)
#define SVR_WRITABLE	(KHV_APIC_VECTOR_MASK | KHV_APIC_SVR_ENABLE | KHV_APIC_SVR_FOCUS_OFF)
#define TDCR_WRITABLE	0xbu

static void set_reg(struct khv_lapic *apic, unsigned int off, u32 val)
{
	apic->regs[off >> 2] = val;
}

/* ISR, TMR and IRR: 256 bits in eight registers, 32 vectors each. */
static unsigned int vec_reg(unsigned int base, u8 vec)
{
	return base + ((vec >> 5) << 4);
}

static bool vec_test(const struct khv_lapic *apic, unsigned int base, u8 vec)
{
	return khv_lapic_reg(apic, vec_reg(base, vec)) & (1u << (vec & 31));
}

/* The summary of IRR or ISR (see struct khv_lapic), or NULL for TMR. */
static __always_inline u8 *vec_summary(struct khv_lapic *apic, unsigned int base)
{
	if (base == KHV_APIC_IRR)
		return &apic->irr_words;
	if (base == KHV_APIC_ISR)
		return &apic->isr_words;
	return NULL;
}

/* Inlined: with base a constant at every call, the summary is known. */
static __always_inline void vec_assign(struct khv_lapic *apic, unsigned int base, u8 vec,
				       bool on)
{
	u32 *word = &apic->regs[vec_reg(base, vec) >> 2];
	u8 *summary = vec_summary(apic, base);

	if (on)
		*word |= 1u << (vec & 31);
	else
		*word &= ~(1u << (vec & 31));
	/* Read without the lock by the owner (irq/apic.c): whole bytes. */
	if (summary) {
		if (*word)
			WRITE_ONCE(*summary, *summary | 1u << (vec >> 5));
		else
			WRITE_ONCE(*summary, *summary & ~(1u << (vec >> 5)));
	}
}

/* Rebuild both summaries after the registers were written wholesale. */
static void vec_summarize(struct khv_lapic *apic)
{
	u8 irr = 0, isr = 0;
	unsigned int i;

	for (i = 0; i < 8; i++) {
		if (khv_lapic_reg(apic, KHV_APIC_IRR + (i << 4)))
			irr |= 1u << i;
		if (khv_lapic_reg(apic, KHV_APIC_ISR + (i << 4)))
			isr |= 1u << i;
	}
	WRITE_ONCE(apic->irr_words, irr);
	WRITE_ONCE(apic->isr_words, isr);
}

/*
 * The highest vector set in IRR or ISR, or -1.  The summary names the
 * highest non-zero register: every entry and exit asks for these, and a
 * scan of eight registers each time showed in the exit profile.
 */
static int vec_highest(const struct khv_lapic *apic, unsigned int base)
{
	u8 words = base == KHV_APIC_IRR ? apic->irr_words : apic->isr_words;
	int i;

	if (!words)
		return -1;
	i = fls(words) - 1;
	return i * 32 + fls(khv_lapic_reg(apic, base + (i << 4))) - 1;
}

/*
 * PPR: the TPR when its class is at least that of the highest vector in
 * service, else that class with a zero sub-class.
 */
u32 khv_lapic_ppr(const struct khv_lapic *apic)
{
	u32 tpr = khv_lapic_reg(apic, KHV_APIC_TPR) & 0xff;
	int isrv = vec_highest(apic, KHV_APIC_ISR);
	u32 isr_class = isrv < 0 ? 0 : (u32)isrv & 0xf0;

	return (tpr & 0xf0) >= isr_class ? tpr : isr_class;
}

static void update_ppr(struct khv_lapic *apic)
{
	set_reg(apic, KHV_APIC_PPR, khv_lapic_ppr(apic));
}

/* Enabled both in IA32_APIC_BASE and by SVR: it takes and delivers. */
static bool lapic_enabled(const struct khv_lapic *apic)
{
	return khv_lapic_hw_enabled(apic) && khv_lapic_sw_enabled(apic);
}

/* The highest IRR vector whose class is above PPR's, or -1. */
int khv_lapic_pending_vector(const struct khv_lapic *apic)
{
	int irr;

	if (!lapic_enabled(apic))
		return -1;
	irr = vec_highest(apic, KHV_APIC_IRR);
	if (irr < 0 || ((u32)irr & 0xf0) <= (khv_lapic_ppr(apic) & 0xf0))
		return -1;
	return irr;
}

/*
 * The priority class (1-15) of the highest IRR vector that only the TPR
 * holds back (above every vector in service), or 0: lowering the TPR
 * below that class makes it deliverable.
 */
u32 khv_lapic_tpr_blocked_class(const struct khv_lapic *apic)
{
	int irr, isr;

	if (!lapic_enabled(apic))
		return 0;
	irr = vec_highest(apic, KHV_APIC_IRR);
	isr = vec_highest(apic, KHV_APIC_ISR);
	if (irr < 0 || (isr >= 0 && ((u32)irr & 0xf0) <= ((u32)isr & 0xf0)))
		return 0;
	if (((u32)irr & 0xf0) > (khv_lapic_ppr(apic) & 0xf0))
		return 0;
	return (u32)irr >> 4;
}

static void kick_if_pending(struct khv_lapic *apic)
{
	if (khv_lapic_pending_vector(apic) >= 0)
		apic->ops->kick(apic);
}

static void lapic_error(struct khv_lapic *apic, u32 bits)
{
	u32 lvt = khv_lapic_reg(apic, KHV_APIC_LVT_ERROR);
	bool fresh = bits & ~apic->esr_pending;

	apic->esr_pending |= bits;
	/* An illegal error vector records one more bit, then stops: not fresh. */
	if (fresh && !(lvt & KHV_APIC_LVT_MASKED))
		khv_lapic_accept(apic, lvt & KHV_APIC_VECTOR_MASK, false);
}

/*
 * A fixed interrupt arrives: into IRR (TMR says how it was triggered).
 * Vectors 0-15 are illegal and only set an error.  A disabled APIC (in
 * hardware or by SVR) takes nothing.  Returns false when the vector was
 * already pending (the two coalesce) or was not taken.
 */
bool khv_lapic_accept(struct khv_lapic *apic, u8 vector, bool level)
{
	lockdep_assert_held(&apic->lock);
	if (!lapic_enabled(apic))
		return false;
	if (vector < 16) {
		lapic_error(apic, KHV_APIC_ESR_RECV_ILLEGAL);
		return false;
	}
	vec_assign(apic, KHV_APIC_TMR, vector, level);
	if (vec_test(apic, KHV_APIC_IRR, vector))
		return false;
	vec_assign(apic, KHV_APIC_IRR, vector, true);
	kick_if_pending(apic);
	return true;
}

/* The CPU takes the pending vector (INTA): IRR -> ISR. */
int khv_lapic_ack(struct khv_lapic *apic)
{
	int vec;

	lockdep_assert_held(&apic->lock);
	vec = khv_lapic_pending_vector(apic);
	if (vec < 0)
		return -1;
	vec_assign(apic, KHV_APIC_IRR, vec, false);
	vec_assign(apic, KHV_APIC_ISR, vec, true);
	update_ppr(apic);
	return vec;
}

static void lapic_eoi(struct khv_lapic *apic)
{
	int vec = vec_highest(apic, KHV_APIC_ISR);

	if (vec < 0)
		return;
	vec_assign(apic, KHV_APIC_ISR, vec, false);
	update_ppr(apic);
	if (vec_test(apic, KHV_APIC_TMR, vec))
		apic->ops->eoi_level(apic, vec);
	kick_if_pending(apic);
}

u8 khv_lapic_get_cr8(const struct khv_lapic *apic)
{
	return (khv_lapic_reg(apic, KHV_APIC_TPR) >> 4) & 0xf;
}

static void set_tpr(struct khv_lapic *apic, u32 tpr)
{
	set_reg(apic, KHV_APIC_TPR, tpr & 0xff);
	update_ppr(apic);
	kick_if_pending(apic);
}

void khv_lapic_set_cr8(struct khv_lapic *apic, u8 cr8)
{
	lockdep_assert_held(&apic->lock);
	set_tpr(apic, (u32)(cr8 & 0xf) << 4);
}

/* ---- destinations ------------------------------------------------------ */

static u32 x2apic_ldr(u32 id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

/*
 * Does this APIC take an IPI or IOAPIC message for dest?  x2apic_fmt: dest
 * is a 32-bit x2APIC destination (else 8 bits, xAPIC).  All-ones is the
 * broadcast in either format.
 */
bool khv_lapic_match_dest(const struct khv_lapic *apic, u32 dest, bool logical, bool x2apic_fmt)
{
	u32 ldr;

	if (!khv_lapic_hw_enabled(apic))
		return false;
	if (dest == (x2apic_fmt ? 0xffffffffu : 0xffu))
		return true;
	if (!logical) {
		if (khv_lapic_x2apic(apic))
			return dest == apic->id;
		return dest == (khv_lapic_reg(apic, KHV_APIC_ID) >> 24);
	}
	ldr = khv_lapic_reg(apic, KHV_APIC_LDR);
	if (khv_lapic_x2apic(apic)) {
		/* Cluster in 31:16, one bit per APIC of the cluster in 15:0. */
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}
	ldr >>= 24;
	dest &= 0xff;
	if ((khv_lapic_reg(apic, KHV_APIC_DFR) >> 28) == 0xf)	/* flat */
		return dest & ldr;
	/* Cluster model: cluster in 7:4 (15 = all clusters), members in 3:0. */
	if ((dest >> 4) != 0xf && (dest >> 4) != (ldr >> 4))
		return false;
	return dest & ldr & 0xf;
}

/* ---- the ICR ------------------------------------------------------------ */

static void lapic_send(struct khv_lapic *apic, u64 icr)
{
	u32 lo = (u32)icr;
	u8 vec = lo & KHV_APIC_VECTOR_MASK;
	u32 dm = (lo & KHV_APIC_DM_MASK) >> KHV_APIC_DM_SHIFT;

	if ((dm == KHV_APIC_DM_FIXED || dm == KHV_APIC_DM_LOWEST) && vec < 16) {
		lapic_error(apic, KHV_APIC_ESR_SEND_ILLEGAL);
		return;
	}
	/* INIT level de-assert: no effect on P4 and later CPUs. */
	if (dm == KHV_APIC_DM_INIT && !(lo & KHV_APIC_LEVEL_ASSERT) &&
	    (lo & KHV_APIC_TRIGGER_LEVEL))
		return;
	if ((lo & KHV_APIC_SHORTHAND_MASK) == KHV_APIC_SHORT_SELF) {
		/* Only fixed is defined with the self shorthand. */
		if (dm == KHV_APIC_DM_FIXED)
			khv_lapic_accept(apic, vec, false);
		return;
	}
	apic->ops->send_ipi(apic, icr);
}

/* ---- the timer ---------------------------------------------------------- */

static u32 timer_mode(const struct khv_lapic *apic)
{
	return khv_lapic_reg(apic, KHV_APIC_LVT_TIMER) & KHV_APIC_TIMER_MODE_MASK;
}

/* TDCR bits 3,1,0: 000 = /2 ... 110 = /128, 111 = /1. */
static u64 timer_tick_ns(const struct khv_lapic *apic)
{
	u32 tdcr = khv_lapic_reg(apic, KHV_APIC_TDCR);
	u32 v = ((tdcr & 8) >> 1) | (tdcr & 3);

	return (v == 7 ? 1 : 2ull << v) * KHV_APIC_BUS_NS;
}

/* The count, from the initial count and the time since it was loaded. */
static u32 count_at(const struct khv_lapic *apic, u64 now)
{
	u64 tmict = khv_lapic_reg(apic, KHV_APIC_TMICT);
	u64 elapsed, period = apic->timer_period_ns;

	if (!period || timer_mode(apic) == KHV_APIC_TIMER_DEADLINE)
		return 0;
	/* Signed: a count reloaded mid-way starts "before" now, maybe before 0. */
	elapsed = (s64)(now - apic->timer_start_ns) > 0 ? now - apic->timer_start_ns : 0;
	if (timer_mode(apic) == KHV_APIC_TIMER_PERIODIC)
		elapsed %= period;
	else if (elapsed >= period)
		return 0;
	/*
	 * A clamped period runs slower than the count: scale (no overflow:
	 * clamping means tmict * tick < KHV_APIC_MIN_PERIOD_NS).
	 */
	if (period != tmict * timer_tick_ns(apic))
		return (u32)(tmict - elapsed * tmict / period);
	return (u32)(tmict - elapsed / timer_tick_ns(apic));
}

u32 khv_lapic_current_count(const struct khv_lapic *apic)
{
	return count_at(apic, apic->ops->now_ns((struct khv_lapic *)apic));
}

static void timer_load(struct khv_lapic *apic, u32 tmict, u64 now)
{
	u64 period = (u64)tmict * timer_tick_ns(apic);

	set_reg(apic, KHV_APIC_TMICT, tmict);
	apic->timer_start_ns = now;
	if (tmict && timer_mode(apic) == KHV_APIC_TIMER_PERIODIC &&
	    period < KHV_APIC_MIN_PERIOD_NS) {
		period = KHV_APIC_MIN_PERIOD_NS;
		apic->timer_clamped++;
	}
	apic->timer_period_ns = tmict ? period : 0;
	apic->ops->timer_changed(apic);
}

/* When the timer fires next, in ns on the owner's clock; 0: never. */
u64 khv_lapic_timer_deadline_ns(const struct khv_lapic *apic)
{
	if (timer_mode(apic) == KHV_APIC_TIMER_DEADLINE) {
		/*
		 * Converted when set, on the vCPU's own CPU: converting again
		 * in a host timer callback on another CPU, whose TSC may not
		 * agree (an emulator's unsynchronised TSCs), could push the
		 * deadline ahead of every callback forever.
		 */
		return apic->tsc_deadline ? apic->tsc_deadline_ns : 0;
	}
	if (!apic->timer_period_ns)
		return 0;
	return apic->timer_start_ns + apic->timer_period_ns;
}

/*
 * The owner's host timer reached khv_lapic_timer_deadline_ns(): raise the
 * LVT timer's vector (unless masked) and move to the next period.  A
 * periodic timer that fell behind skips the periods it missed rather than
 * firing them back to back.
 */
void khv_lapic_timer_fire(struct khv_lapic *apic)
{
	u32 lvt = khv_lapic_reg(apic, KHV_APIC_LVT_TIMER);
	u64 now = apic->ops->now_ns(apic);

	lockdep_assert_held(&apic->lock);
	switch (timer_mode(apic)) {
	case KHV_APIC_TIMER_DEADLINE:
		if (!apic->tsc_deadline)
			return;
		apic->tsc_deadline = 0;
		break;
	case KHV_APIC_TIMER_PERIODIC:
		if (!apic->timer_period_ns)
			return;
		apic->timer_start_ns += apic->timer_period_ns;
		if (now > apic->timer_start_ns + apic->timer_period_ns)
			apic->timer_start_ns = now - (now - apic->timer_start_ns) %
						     apic->timer_period_ns;
		break;
	default:
		if (!apic->timer_period_ns)
			return;
		apic->timer_period_ns = 0;
		break;
	}
	if (!(lvt & KHV_APIC_LVT_MASKED))
		khv_lapic_accept(apic, lvt & KHV_APIC_VECTOR_MASK, false);
}

/* IA32_TSC_DEADLINE: only in TSC-deadline mode; 0 disarms. */
void khv_lapic_set_tsc_deadline(struct khv_lapic *apic, u64 tsc)
{
	lockdep_assert_held(&apic->lock);
	if (timer_mode(apic) != KHV_APIC_TIMER_DEADLINE)
		return;
	apic->tsc_deadline = tsc;
	apic->tsc_deadline_ns = tsc ? apic->ops->tsc_to_ns(apic, tsc) : 0;
	apic->ops->timer_changed(apic);
}

u64 khv_lapic_get_tsc_deadline(const struct khv_lapic *apic)
{
	return timer_mode(apic) == KHV_APIC_TIMER_DEADLINE ? apic->tsc_deadline : 0;
}

static void write_lvt_timer(struct khv_lapic *apic, u32 val)
{
	u32 old_mode = timer_mode(apic);
	u32 new_mode = val & KHV_APIC_TIMER_MODE_MASK;
	u64 now = apic->ops->now_ns(apic);
	u32 cur;

	/* Mode 3 is reserved: keep the mode the timer has. */
	if (new_mode == KHV_APIC_TIMER_MODE_MASK)
		val = (val & ~KHV_APIC_TIMER_MODE_MASK) | old_mode;
	new_mode = val & KHV_APIC_TIMER_MODE_MASK;
	cur = count_at(apic, now);
	set_reg(apic, KHV_APIC_LVT_TIMER, val);
	if ((old_mode == KHV_APIC_TIMER_DEADLINE) != (new_mode == KHV_APIC_TIMER_DEADLINE)) {
		/* Into or out of TSC-deadline mode: the timer is disarmed. */
		set_reg(apic, KHV_APIC_TMICT, 0);
		apic->timer_period_ns = 0;
		apic->tsc_deadline = 0;
	} else if (old_mode != new_mode && apic->timer_period_ns) {
		/* One-shot <-> periodic: keep counting from where it is. */
		timer_load(apic, khv_lapic_reg(apic, KHV_APIC_TMICT), now);
		apic->timer_start_ns = now - (u64)(khv_lapic_reg(apic, KHV_APIC_TMICT) - cur) *
					     timer_tick_ns(apic);
	}
	apic->ops->timer_changed(apic);
}

static void write_tdcr(struct khv_lapic *apic, u32 val)
{
	u64 now = apic->ops->now_ns(apic);
	u32 cur = count_at(apic, now);
	bool running = apic->timer_period_ns;
	u32 tmict = khv_lapic_reg(apic, KHV_APIC_TMICT);

	set_reg(apic, KHV_APIC_TDCR, val & TDCR_WRITABLE);
	if (!running)
		return;
	/* Same count now, new rate from here on. */
	timer_load(apic, tmict, now);
	if (apic->timer_period_ns == (u64)tmict * timer_tick_ns(apic))
		apic->timer_start_ns = now - (u64)(tmict - cur) * timer_tick_ns(apic);
	apic->ops->timer_changed(apic);
}

static void write_tmict(struct khv_lapic *apic, u32 val)
{
	/* In TSC-deadline mode the initial count is ignored. */
	if (timer_mode(apic) == KHV_APIC_TIMER_DEADLINE)
		return;
	timer_load(apic, val, apic->ops->now_ns(apic));
}

/* ---- register reads and writes ----------------------------------------- */

static bool is_lvt(unsigned int off)
{
	return off >= KHV_APIC_LVT_TIMER && off <= KHV_APIC_LVT_ERROR;
}

static void write_svr(struct khv_lapic *apic, u32 val)
{
	unsigned int off;

	set_reg(apic, KHV_APIC_SVR, val & SVR_WRITABLE);
	if (!(val & KHV_APIC_SVR_ENABLE)) {
		/* Software-disabled: every LVT entry masked, and kept masked. */
		for (off = KHV_APIC_LVT_TIMER; off <= KHV_APIC_LVT_ERROR; off += 0x10)
			set_reg(apic, off, khv_lapic_reg(apic, off) | KHV_APIC_LVT_MASKED);
		apic->ops->timer_changed(apic);
	}
	kick_if_pending(apic);
}

/*
 * One 32-bit register write, shared by both modes (the x2APIC-only checks
 * are done by the caller).  Writes to read-only registers are dropped.
 */
static void reg_write(struct khv_lapic *apic, unsigned int off, u32 val)
{
	switch (off) {
	case KHV_APIC_TPR:
		set_tpr(apic, val);
		break;
	case KHV_APIC_EOI:
		lapic_eoi(apic);
		break;
	case KHV_APIC_LDR:
		if (!khv_lapic_x2apic(apic))
			set_reg(apic, off, val & 0xff000000u);
		break;
	case KHV_APIC_DFR:
		if (!khv_lapic_x2apic(apic))
			set_reg(apic, off, val | 0x0fffffffu);
		break;
	case KHV_APIC_SVR:
		write_svr(apic, val);
		break;
	case KHV_APIC_ESR:
		/* A write moves the errors seen since into the register. */
		set_reg(apic, off, apic->esr_pending);
		apic->esr_pending = 0;
		break;
	case KHV_APIC_ICR:
		set_reg(apic, off, val & ICR_WRITABLE);
		lapic_send(apic, (u64)(val & ICR_WRITABLE) |
			   ((u64)(khv_lapic_reg(apic, KHV_APIC_ICR2) >> 24) << 32));
		break;
	case KHV_APIC_ICR2:
		set_reg(apic, off, val & 0xff000000u);
		break;
	case KHV_APIC_LVT_TIMER:
		if (!khv_lapic_sw_enabled(apic))
			val |= KHV_APIC_LVT_MASKED;
		write_lvt_timer(apic, val & lvt_writable[0]);
		break;
	case KHV_APIC_TMICT:
		write_tmict(apic, val);
		break;
	case KHV_APIC_TDCR:
		write_tdcr(apic, val);
		break;
	default:
		if (is_lvt(off)) {
			u32 keep = khv_lapic_reg(apic, off) & KHV_APIC_LVT_REMOTE_IRR;

			if (!khv_lapic_sw_enabled(apic))
				val |= KHV_APIC_LVT_MASKED;
			set_reg(apic, off, (val & lvt_writable[(off - KHV_APIC_LVT_TIMER) >> 4]) |
				keep);
		}
		break;
	}
}

static u32 reg_read(struct khv_lapic *apic, unsigned int off)
{
	switch (off) {
	case KHV_APIC_PPR:
		return khv_lapic_ppr(apic);
	case KHV_APIC_TMCCT:
		return khv_lapic_current_count(apic);
	case KHV_APIC_EOI:
	case KHV_APIC_APR:
	case KHV_APIC_RRD:
	case KHV_APIC_SELF_IPI:
		return 0;
	default:
		if (off < KHV_APIC_ID || (off >= 0x040 && off < KHV_APIC_TPR) ||
		    off == 0x2f0 || (off > KHV_APIC_TMCCT && off < KHV_APIC_TDCR))
			return 0;	/* reserved */
		return khv_lapic_reg(apic, off);
	}
}

/*
 * The xAPIC page.  Registers are 32 bits at 16-byte boundaries; a narrower
 * read inside the first 4 bytes sees part of one, anything else reads 0.
 * Only aligned 32-bit writes reach a register (others are dropped, as
 * Linux and firmware never make them).
 */
int khv_lapic_mmio_read(struct khv_lapic *apic, unsigned int off, unsigned int len, void *val)
{
	unsigned int reg = off & ~0xfu, in = off & 0xf;
	u32 v = 0;

	lockdep_assert_held(&apic->lock);
	memset(val, 0, len);
	if (reg >= KHV_APIC_REGS_SIZE || in >= 4 || in + len > 4 || khv_lapic_x2apic(apic))
		return 0;
	v = reg_read(apic, reg) >> (in * 8);
	memcpy(val, &v, len);
	return 0;
}

int khv_lapic_mmio_write(struct khv_lapic *apic, unsigned int off, unsigned int len,
			 const void *val)
{
	u32 v;

	lockdep_assert_held(&apic->lock);
	/* In x2APIC mode the page is gone: the access goes to memory/MMIO. */
	if (off >= KHV_APIC_REGS_SIZE || (off & 0xf) || len != 4 || khv_lapic_x2apic(apic))
		return 0;
	memcpy(&v, val, 4);
	if (off == KHV_APIC_SELF_IPI)
		return 0;
	reg_write(apic, off, v);
	return 0;
}

/* x2APIC MSRs that exist, and which can be read or written. */
static bool x2apic_readable(unsigned int off)
{
	switch (off) {
	case KHV_APIC_ID: case KHV_APIC_VERSION: case KHV_APIC_TPR: case KHV_APIC_PPR:
	case KHV_APIC_LDR: case KHV_APIC_SVR: case KHV_APIC_ESR: case KHV_APIC_ICR:
	case KHV_APIC_TMICT: case KHV_APIC_TMCCT: case KHV_APIC_TDCR:
		return true;
	default:
		return (off >= KHV_APIC_ISR && off < KHV_APIC_ESR) || is_lvt(off);
	}
}

static bool x2apic_writable(unsigned int off)
{
	switch (off) {
	case KHV_APIC_TPR: case KHV_APIC_EOI: case KHV_APIC_SVR: case KHV_APIC_ESR:
	case KHV_APIC_ICR: case KHV_APIC_TMICT: case KHV_APIC_TDCR: case KHV_APIC_SELF_IPI:
		return true;
	default:
		return is_lvt(off);
	}
}

int khv_lapic_msr_read(struct khv_lapic *apic, u32 msr, u64 *val)
{
	unsigned int off = (msr - KHV_MSR_X2APIC_FIRST) << 4;

	lockdep_assert_held(&apic->lock);
	if (msr < KHV_MSR_X2APIC_FIRST || msr > KHV_MSR_X2APIC_LAST ||
	    !khv_lapic_x2apic(apic) || !x2apic_readable(off))
		return -EINVAL;
	*val = reg_read(apic, off);
	if (off == KHV_APIC_ICR)
		*val |= (u64)khv_lapic_reg(apic, KHV_APIC_ICR2) << 32;
	return 0;
}

int khv_lapic_msr_write(struct khv_lapic *apic, u32 msr, u64 val)
{
	unsigned int off = (msr - KHV_MSR_X2APIC_FIRST) << 4;

	lockdep_assert_held(&apic->lock);
	if (msr < KHV_MSR_X2APIC_FIRST || msr > KHV_MSR_X2APIC_LAST ||
	    !khv_lapic_x2apic(apic) || !x2apic_writable(off))
		return -EINVAL;
	if (off == KHV_APIC_ICR) {
		u32 lo = (u32)val & ICR_WRITABLE;

		set_reg(apic, KHV_APIC_ICR, lo);
		set_reg(apic, KHV_APIC_ICR2, (u32)(val >> 32));
		lapic_send(apic, (val & ~0xffffffffull) | lo);
		return 0;
	}
	/* Only the ICR is 64 bits wide; EOI and ESR take only 0. */
	if (val >> 32)
		return -EINVAL;
	switch (off) {
	case KHV_APIC_TPR:
		if (val & ~0xffull)
			return -EINVAL;
		break;
	case KHV_APIC_EOI:
	case KHV_APIC_ESR:
		if (val)
			return -EINVAL;
		break;
	case KHV_APIC_SVR:
		if (val & ~(u64)SVR_WRITABLE)
			return -EINVAL;
		break;
	case KHV_APIC_SELF_IPI:
		if (val & ~0xffull)
			return -EINVAL;
		khv_lapic_accept(apic, (u8)val, false);
		return 0;
	}
	reg_write(apic, off, (u32)val);
	return 0;
}

/* ---- reset and IA32_APIC_BASE ------------------------------------------ */

static void set_id_regs(struct khv_lapic *apic)
{
	if (khv_lapic_x2apic(apic)) {
		set_reg(apic, KHV_APIC_ID, apic->id);
		set_reg(apic, KHV_APIC_LDR, x2apic_ldr(apic->id));
		set_reg(apic, KHV_APIC_DFR, 0);
	} else {
		set_reg(apic, KHV_APIC_ID, apic->id << 24);
	}
}

/*
 * Power-up state, or INIT's (init_only): the same but IA32_APIC_BASE and
 * the APIC ID stay.  Every LVT entry masked, SVR 0xff (software-disabled),
 * DFR all ones (flat).
 */
void khv_lapic_reset(struct khv_lapic *apic, bool init_only)
{
	unsigned int off;

	memset(apic->regs, 0, sizeof(apic->regs));
	WRITE_ONCE(apic->irr_words, 0);	/* no vector requested */
	WRITE_ONCE(apic->isr_words, 0);	/* no vector in service */
	apic->esr_pending = 0;
	apic->timer_start_ns = 0;
	apic->timer_period_ns = 0;
	apic->tsc_deadline = 0;
	if (!init_only)
		apic->base_msr = KHV_APIC_DEFAULT_BASE | KHV_APIC_BASE_EN |
				 (apic->base_msr & KHV_APIC_BASE_BSP);
	set_reg(apic, KHV_APIC_VERSION, KHV_APIC_VERSION_VALUE);
	for (off = KHV_APIC_LVT_TIMER; off <= KHV_APIC_LVT_ERROR; off += 0x10)
		set_reg(apic, off, KHV_APIC_LVT_MASKED);
	set_reg(apic, KHV_APIC_DFR, 0xffffffffu);
	set_reg(apic, KHV_APIC_SVR, 0xff);
	set_id_regs(apic);
	update_ppr(apic);
}

void khv_lapic_init(struct khv_lapic *apic, const struct khv_lapic_ops *ops, void *owner,
		    u32 id, bool bsp)
{
	memset(apic, 0, sizeof(*apic));
	spin_lock_init(&apic->lock);
	apic->ops = ops;
	apic->owner = owner;
	apic->id = id;
	apic->base_msr = bsp ? KHV_APIC_BASE_BSP : 0;
	khv_lapic_reset(apic, false);
}

/*
 * A write of IA32_APIC_BASE.  The guest (host false) gets #GP (-EINVAL)
 * for reserved bits and for the transitions the SDM forbids: EXTD without
 * EN, x2APIC straight back to xAPIC, disabled straight to x2APIC.  The
 * host (state restore) may make any consistent change.
 */
int khv_lapic_set_base(struct khv_lapic *apic, u64 val, u64 maxphyaddr_mask, bool host)
{
	u64 reserved = 0x2ffull | ~maxphyaddr_mask;
	u64 old = apic->base_msr;
	bool old_en = old & KHV_APIC_BASE_EN, new_en = val & KHV_APIC_BASE_EN;
	bool old_x2 = old & KHV_APIC_BASE_EXTD, new_x2 = val & KHV_APIC_BASE_EXTD;

	lockdep_assert_held(&apic->lock);
	if ((val & reserved) || (new_x2 && !new_en))
		return -EINVAL;
	if (!host && ((old_x2 && new_en && !new_x2) || (!old_en && new_x2)))
		return -EINVAL;
	apic->base_msr = val;
	if (!new_en) {
		/* Hardware-disabled: as if the CPU had no APIC; re-enabling resets. */
		khv_lapic_reset(apic, true);
		apic->ops->timer_changed(apic);
		return 0;
	}
	if (old_x2 != new_x2)
		set_id_regs(apic);
	return 0;
}

/* ---- state save and restore (KHV_GET_LAPIC / KHV_SET_LAPIC) ------------ */

#define ESR_BITS	0xefu	/* bit 4 is reserved */

void khv_lapic_get_state(const struct khv_lapic *apic, struct khv_lapic_state *s)
{
	memset(s, 0, sizeof(*s));
	s->apic_base = apic->base_msr;
	s->tsc_deadline = khv_lapic_get_tsc_deadline(apic);
	memcpy(s->regs, apic->regs, sizeof(apic->regs));
	s->regs[KHV_APIC_TMCCT >> 2] = khv_lapic_current_count(apic);
	s->regs[KHV_APIC_PPR >> 2] = khv_lapic_ppr(apic);
	s->esr_pending = apic->esr_pending;
}

/* The bits a register of a saved state may hold; ~0u: any, 0: none. */
static u32 state_bits(unsigned int off, bool x2)
{
	switch (off) {
	case KHV_APIC_ID:		/* checked on its own */
		return ~0u;
	case KHV_APIC_TPR:
		return 0xff;
	case KHV_APIC_LDR:
		return x2 ? ~0u : 0xff000000u;
	case KHV_APIC_DFR:
		return x2 ? 0 : ~0u;
	case KHV_APIC_SVR:
		return SVR_WRITABLE;
	case KHV_APIC_ESR:
		return ESR_BITS;
	case KHV_APIC_ICR:
		return ICR_WRITABLE;
	case KHV_APIC_ICR2:
		return x2 ? ~0u : 0xff000000u;
	case KHV_APIC_TMICT:
	case KHV_APIC_TMCCT:
		return ~0u;
	case KHV_APIC_TDCR:
		return TDCR_WRITABLE;
	case KHV_APIC_LVT_LINT0:
	case KHV_APIC_LVT_LINT1:
		return lvt_writable[(off - KHV_APIC_LVT_TIMER) >> 4] | KHV_APIC_LVT_REMOTE_IRR;
	default:
		if (is_lvt(off))
			return lvt_writable[(off - KHV_APIC_LVT_TIMER) >> 4];
		if (off >= KHV_APIC_ISR && off < KHV_APIC_ESR)
			return (off & 0x70) ? ~0u : 0xffff0000u;	/* no vectors 0-15 */
		return 0;
	}
}

/* Computed registers: whatever a saved state holds there is ignored. */
static bool state_ignored(unsigned int off, bool x2)
{
	switch (off) {
	case KHV_APIC_VERSION: case KHV_APIC_APR: case KHV_APIC_PPR: case KHV_APIC_EOI:
	case KHV_APIC_RRD: case KHV_APIC_SELF_IPI:
		return true;
	case KHV_APIC_LDR:
		return x2;
	default:
		return false;
	}
}

/*
 * Whether s is a state this APIC can be put in.  maxphyaddr_mask: the
 * physical address bits IA32_APIC_BASE may use.  -EINVAL or 0.
 */
int khv_lapic_check_state(const struct khv_lapic *apic, const struct khv_lapic_state *s,
			  u64 maxphyaddr_mask)
{
	u64 base = s->apic_base;
	bool x2 = base & KHV_APIC_BASE_EXTD;
	u32 lvtt = s->regs[KHV_APIC_LVT_TIMER >> 2];
	u32 mode = lvtt & KHV_APIC_TIMER_MODE_MASK;
	u32 tmict = s->regs[KHV_APIC_TMICT >> 2], tmcct = s->regs[KHV_APIC_TMCCT >> 2];
	unsigned int i, off;

	if (s->flags || s->reserved[0] || s->reserved[1] || s->reserved[2] || s->reserved[3])
		return -EINVAL;
	if ((base & (0x2ffull | ~maxphyaddr_mask)) || (x2 && !(base & KHV_APIC_BASE_EN)))
		return -EINVAL;
	if (s->esr_pending & ~ESR_BITS)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(s->regs); i++) {
		off = i << 2;
		if (state_ignored(off & ~0xfu, x2))
			continue;
		/* Only the first word of each 16-byte slot is a register. */
		if ((off & 0xf) ? s->regs[i] : (s->regs[i] & ~state_bits(off, x2)))
			return -EINVAL;
	}
	/* The ID is the vCPU's own, in the form of the mode. */
	if (s->regs[KHV_APIC_ID >> 2] != (x2 ? apic->id : apic->id << 24))
		return -EINVAL;
	if (!x2 && (s->regs[KHV_APIC_DFR >> 2] & 0x0fffffffu) != 0x0fffffffu)
		return -EINVAL;
	/* A software-disabled APIC keeps every LVT entry masked. */
	if (!(s->regs[KHV_APIC_SVR >> 2] & KHV_APIC_SVR_ENABLE)) {
		for (off = KHV_APIC_LVT_TIMER; off <= KHV_APIC_LVT_ERROR; off += 0x10)
			if (!(s->regs[off >> 2] & KHV_APIC_LVT_MASKED))
				return -EINVAL;
	}
	if (mode == KHV_APIC_TIMER_MODE_MASK)
		return -EINVAL;
	if (mode == KHV_APIC_TIMER_DEADLINE) {
		if (tmict || tmcct)
			return -EINVAL;
	} else if (s->tsc_deadline || tmcct > tmict) {
		return -EINVAL;
	}
	return 0;
}

/*
 * Put the APIC in state s (checked by khv_lapic_check_state()): registers
 * as saved, the timer counting on from the saved current count.
 */
void khv_lapic_set_state(struct khv_lapic *apic, const struct khv_lapic_state *s)
{
	u32 tmict = s->regs[KHV_APIC_TMICT >> 2], tmcct = s->regs[KHV_APIC_TMCCT >> 2];
	u64 now = apic->ops->now_ns(apic), elapsed;
	unsigned int i;

	lockdep_assert_held(&apic->lock);
	apic->base_msr = s->apic_base;
	for (i = 0; i < ARRAY_SIZE(apic->regs); i++)
		if (!state_ignored((i << 2) & ~0xfu, khv_lapic_x2apic(apic)))
			apic->regs[i] = s->regs[i];
	vec_summarize(apic);
	set_reg(apic, KHV_APIC_TMCCT, 0);
	set_id_regs(apic);
	update_ppr(apic);
	apic->esr_pending = s->esr_pending;
	apic->tsc_deadline = s->tsc_deadline;
	apic->tsc_deadline_ns = s->tsc_deadline ? apic->ops->tsc_to_ns(apic, s->tsc_deadline) : 0;
	apic->timer_period_ns = 0;
	apic->timer_start_ns = now;
	if (timer_mode(apic) != KHV_APIC_TIMER_DEADLINE && tmict &&
	    (tmcct || timer_mode(apic) == KHV_APIC_TIMER_PERIODIC)) {
		timer_load(apic, tmict, now);
		/* As far into the period as the count says (count_at inverted). */
		if (apic->timer_period_ns != (u64)tmict * timer_tick_ns(apic))
			elapsed = (u64)(tmict - tmcct) * apic->timer_period_ns / tmict;
		else
			elapsed = (u64)(tmict - tmcct) * timer_tick_ns(apic);
		apic->timer_start_ns = now - elapsed;
	}
	apic->ops->timer_changed(apic);
	kick_if_pending(apic);
}
