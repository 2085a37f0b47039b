/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The local APIC of one vCPU, as a register model: what a guest reads and
 * writes through the xAPIC page or the x2APIC MSRs, the priority logic that
 * decides which vector is deliverable, and the timer's arithmetic.  It knows
 * nothing of vCPUs, VMs or vendors; what it cannot do alone (send an IPI,
 * tell the IOAPIC about an EOI, re-arm a host timer, wake its vCPU) it asks
 * of its owner through struct khv_lapic_ops.
 *
 * Locking contract: every function here is called with apic->lock held,
 * and calls the ops with it held; an op must not take the lock of another
 * APIC while holding this one in an order that could invert (the owner's
 * IPI delivery drops it first).  The lock is a spinlock because interrupts
 * arrive from host timers and other vCPUs, never from the guest's context.
 *
 * Register layout: regs[] is the APIC's 4 KiB page cut at 0x400, each
 * register in the low 32 bits of its 16-byte slot, exactly where the xAPIC
 * page has it (regs[off / 4]); the x2APIC MSR 0x800 + n is the register at
 * offset n << 4.
 */
#ifndef KHV_IRQ_LAPIC_H
#define KHV_IRQ_LAPIC_H

#include <linux/types.h>
#include <linux/spinlock.h>

/* Register offsets (SDM vol. 3A, table "Local APIC Register Address Map"). */
#define KHV_APIC_ID		0x020
#define KHV_APIC_VERSION	0x030
#define KHV_APIC_TPR		0x080
#define KHV_APIC_APR		0x090
#define KHV_APIC_PPR		0x0a0
#define KHV_APIC_EOI		0x0b0
#define KHV_APIC_RRD		0x0c0
#define KHV_APIC_LDR		0x0d0
#define KHV_APIC_DFR		0x0e0
#define KHV_APIC_SVR		0x0f0
#define KHV_APIC_ISR		0x100	/* 8 registers, vectors 32n..32n+31 */
#define KHV_APIC_TMR		0x180
#define KHV_APIC_IRR		0x200
#define KHV_APIC_ESR		0x280
#define KHV_APIC_ICR		0x300
#define KHV_APIC_ICR2		0x310
#define KHV_APIC_LVT_TIMER	0x320
#define KHV_APIC_LVT_THERMAL	0x330
#define KHV_APIC_LVT_PERF	0x340
#define KHV_APIC_LVT_LINT0	0x350
#define KHV_APIC_LVT_LINT1	0x360
#define KHV_APIC_LVT_ERROR	0x370
#define KHV_APIC_TMICT		0x380	/* timer initial count */
#define KHV_APIC_TMCCT		0x390	/* timer current count */
#define KHV_APIC_TDCR		0x3e0	/* timer divide configuration */
#define KHV_APIC_SELF_IPI	0x3f0	/* x2APIC only */
#define KHV_APIC_REGS_SIZE	0x400

#define KHV_APIC_LVT_COUNT	6	/* timer, thermal, perf, LINT0, LINT1, error */
/* Version 0x14 (integrated APIC), highest LVT index 5, no EOI suppression. */
#define KHV_APIC_VERSION_VALUE	(0x14u | ((KHV_APIC_LVT_COUNT - 1u) << 16))

/* IA32_APIC_BASE. */
#define KHV_MSR_APIC_BASE	0x1b
#define KHV_APIC_BASE_BSP	(1ull << 8)
#define KHV_APIC_BASE_EXTD	(1ull << 10)	/* x2APIC mode */
#define KHV_APIC_BASE_EN	(1ull << 11)
#define KHV_APIC_DEFAULT_BASE	0xfee00000ull
#define KHV_MSR_X2APIC_FIRST	0x800
#define KHV_MSR_X2APIC_LAST	0x8ff
#define KHV_MSR_TSC_DEADLINE	0x6e0

/* Fields shared by the LVT entries and the ICR. */
#define KHV_APIC_VECTOR_MASK	0xffu
#define KHV_APIC_DM_SHIFT	8
#define KHV_APIC_DM_MASK	(7u << 8)
#define KHV_APIC_DM_FIXED	0u
#define KHV_APIC_DM_LOWEST	1u
#define KHV_APIC_DM_SMI		2u
#define KHV_APIC_DM_NMI		4u
#define KHV_APIC_DM_INIT	5u
#define KHV_APIC_DM_SIPI	6u
#define KHV_APIC_DM_EXTINT	7u
#define KHV_APIC_DEST_LOGICAL	(1u << 11)
#define KHV_APIC_SEND_PENDING	(1u << 12)
#define KHV_APIC_LVT_POLARITY	(1u << 13)
#define KHV_APIC_LVT_REMOTE_IRR	(1u << 14)
#define KHV_APIC_LEVEL_ASSERT	(1u << 14)	/* ICR */
#define KHV_APIC_TRIGGER_LEVEL	(1u << 15)
#define KHV_APIC_LVT_MASKED	(1u << 16)
#define KHV_APIC_TIMER_MODE_MASK (3u << 17)
#define KHV_APIC_TIMER_ONESHOT	(0u << 17)
#define KHV_APIC_TIMER_PERIODIC	(1u << 17)
#define KHV_APIC_TIMER_DEADLINE	(2u << 17)
#define KHV_APIC_SHORTHAND_MASK	(3u << 18)
#define KHV_APIC_SHORT_NONE	(0u << 18)
#define KHV_APIC_SHORT_SELF	(1u << 18)
#define KHV_APIC_SHORT_ALL	(2u << 18)
#define KHV_APIC_SHORT_OTHERS	(3u << 18)

#define KHV_APIC_SVR_ENABLE	(1u << 8)
#define KHV_APIC_SVR_FOCUS_OFF	(1u << 9)

/* ESR bits. */
#define KHV_APIC_ESR_SEND_ILLEGAL	(1u << 5)
#define KHV_APIC_ESR_RECV_ILLEGAL	(1u << 6)
#define KHV_APIC_ESR_ILLEGAL_REG	(1u << 7)

/* The APIC bus runs at 1 GHz: one timer tick per divided nanosecond. */
#define KHV_APIC_BUS_NS		1
/*
 * The shortest periodic timer period a guest gets, in ns: a 1-tick period
 * would have a host timer fire back to back forever (KVM clamps to 200 us
 * by default too).  One-shot timers need no clamp: each costs the guest a
 * register write.
 */
#define KHV_APIC_MIN_PERIOD_NS	200000ull

struct khv_lapic;
struct khv_lapic_state;

/* What the model asks of its owner; all called with apic->lock held. */
struct khv_lapic_ops {
	/*
	 * Send an IPI that is not to self alone.  icr: bits 31:0 as the
	 * guest wrote them (shorthand included), destination in 63:32 (an
	 * xAPIC sender's 8-bit ICR2[31:24] moved down to bits 39:32).
	 */
	void (*send_ipi)(struct khv_lapic *apic, u64 icr);
	/* EOI of a level-triggered vector: the IOAPIC clears remote IRR. */
	void (*eoi_level)(struct khv_lapic *apic, u8 vector);
	/* The timer's mode, count or deadline changed: re-arm or cancel. */
	void (*timer_changed)(struct khv_lapic *apic);
	/* A vector became deliverable, or an NMI/INIT/SIPI arrived. */
	void (*kick)(struct khv_lapic *apic);
	/* Now, in ns, on the clock the timer counts against. */
	u64 (*now_ns)(struct khv_lapic *apic);
	/* A guest TSC value as a time on that clock. */
	u64 (*tsc_to_ns)(struct khv_lapic *apic, u64 tsc);
};

struct khv_lapic {
	spinlock_t lock;
	u32 regs[KHV_APIC_REGS_SIZE / 4];	/* by offset / 4 */
	/*
	 * Bit i set when IRR (ISR) register i, vectors 32i..32i+31, is not
	 * zero: kept by every change of those registers in lapic.c, written
	 * with WRITE_ONCE so that the owner may peek at irr_words unlocked.
	 */
	u8 irr_words;
	u8 isr_words;
	u64 base_msr;		/* IA32_APIC_BASE */
	u32 esr_pending;	/* errors since the last ESR write */
	/* Timer: when the count was (re)loaded, or the deadline, in ns. */
	u64 timer_start_ns;
	u64 timer_period_ns;	/* one full count, after the divider; 0 = stopped */
	u64 tsc_deadline;	/* IA32_TSC_DEADLINE as the guest wrote it */
	u64 tsc_deadline_ns;	/* that, on the owner's clock, converted once when set */
	u64 timer_clamped;	/* periodic periods raised to the minimum */
	u32 id;			/* x2APIC ID; xAPIC shows id << 24 */
	const struct khv_lapic_ops *ops;
	void *owner;
};

void khv_lapic_init(struct khv_lapic *apic, const struct khv_lapic_ops *ops, void *owner,
		    u32 id, bool bsp);
void khv_lapic_reset(struct khv_lapic *apic, bool init_only);

static inline u32 khv_lapic_reg(const struct khv_lapic *apic, unsigned int off)
{
	return apic->regs[off >> 2];
}

static inline bool khv_lapic_x2apic(const struct khv_lapic *apic)
{
	return apic->base_msr & KHV_APIC_BASE_EXTD;
}

static inline bool khv_lapic_hw_enabled(const struct khv_lapic *apic)
{
	return apic->base_msr & KHV_APIC_BASE_EN;
}

static inline bool khv_lapic_sw_enabled(const struct khv_lapic *apic)
{
	return khv_lapic_reg(apic, KHV_APIC_SVR) & KHV_APIC_SVR_ENABLE;
}

static inline u64 khv_lapic_base_gpa(const struct khv_lapic *apic)
{
	return apic->base_msr & ~0xfffull;
}

/* The guest's accesses.  Return 0, or -EINVAL where the CPU raises #GP. */
int khv_lapic_mmio_read(struct khv_lapic *apic, unsigned int off, unsigned int len, void *val);
int khv_lapic_mmio_write(struct khv_lapic *apic, unsigned int off, unsigned int len,
			 const void *val);
int khv_lapic_msr_read(struct khv_lapic *apic, u32 msr, u64 *val);
int khv_lapic_msr_write(struct khv_lapic *apic, u32 msr, u64 val);
int khv_lapic_set_base(struct khv_lapic *apic, u64 val, u64 maxphyaddr_mask, bool host);

/* CR8 is TPR[7:4]. */
u8 khv_lapic_get_cr8(const struct khv_lapic *apic);
void khv_lapic_set_cr8(struct khv_lapic *apic, u8 cr8);

/* Interrupt flow. */
bool khv_lapic_accept(struct khv_lapic *apic, u8 vector, bool level);
int khv_lapic_pending_vector(const struct khv_lapic *apic);
int khv_lapic_ack(struct khv_lapic *apic);
u32 khv_lapic_ppr(const struct khv_lapic *apic);
u32 khv_lapic_tpr_blocked_class(const struct khv_lapic *apic);
bool khv_lapic_match_dest(const struct khv_lapic *apic, u32 dest, bool logical, bool x2apic_fmt);

/* Timer. */
u64 khv_lapic_timer_deadline_ns(const struct khv_lapic *apic);
void khv_lapic_timer_fire(struct khv_lapic *apic);
u32 khv_lapic_current_count(const struct khv_lapic *apic);
void khv_lapic_set_tsc_deadline(struct khv_lapic *apic, u64 tsc);
u64 khv_lapic_get_tsc_deadline(const struct khv_lapic *apic);


/* Save and restore (uAPI struct khv_lapic_state; the APIC lock held). */
void khv_lapic_get_state(const struct khv_lapic *apic, struct khv_lapic_state *s);
int khv_lapic_check_state(const struct khv_lapic *apic, const struct khv_lapic_state *s,
			  u64 maxphyaddr_mask);
void khv_lapic_set_state(struct khv_lapic *apic, const struct khv_lapic_state *s);

#endif
