// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of irq/lapic.c, the local APIC register model, in userspace:
 * a fake owner records what the model asks for (IPIs, EOIs to the IOAPIC,
 * timer re-arms, kicks) on a clock the test moves by hand.  Every check
 * is a fact from the SDM's APIC chapter.
 */
#include "irq_test.h"
#include "irq/lapic.h"
#include "uapi/linux/khv.h"

/* ---- the fake owner ------------------------------------------------------ */

static struct owner {
	u64 now;
	u64 ipis[8];
	unsigned int nr_ipis;
	int eoi_vector;
	unsigned int timer_changes, kicks;
} o;

static void send_ipi(struct khv_lapic *apic, u64 icr)
{
	(void)apic;
	if (o.nr_ipis < 8)
		o.ipis[o.nr_ipis] = icr;
	o.nr_ipis++;
}

static void eoi_level(struct khv_lapic *apic, u8 vector)
{
	(void)apic;
	o.eoi_vector = vector;
}

static void timer_changed(struct khv_lapic *apic)
{
	(void)apic;
	o.timer_changes++;
}

static void kick(struct khv_lapic *apic)
{
	(void)apic;
	o.kicks++;
}

static u64 now_ns(struct khv_lapic *apic)
{
	(void)apic;
	return o.now;
}

/* A 1 GHz guest TSC that started with the clock. */
static u64 tsc_to_ns(struct khv_lapic *apic, u64 tsc)
{
	(void)apic;
	return tsc;
}

static const struct khv_lapic_ops ops = {
	.send_ipi = send_ipi, .eoi_level = eoi_level, .timer_changed = timer_changed,
	.kick = kick, .now_ns = now_ns, .tsc_to_ns = tsc_to_ns,
};

static struct khv_lapic a;

#define MAXPHY	((1ull << 46) - 1)

static void wr(unsigned int off, u32 v);

/* A fresh APIC, id 3, software-enabled with spurious vector 0xff, locked. */
static void setup(bool enable)
{
	memset(&o, 0, sizeof(o));
	o.eoi_vector = -1;
	khv_lapic_init(&a, &ops, &o, 3, true);
	spin_lock(&a.lock);
	if (enable)
		wr(KHV_APIC_SVR, 0x1ff);
}

static u32 rd(unsigned int off)
{
	u32 v = 0xdeadbeef;

	CHECK_EQ(0, khv_lapic_mmio_read(&a, off, 4, &v));
	return v;
}

static void wr(unsigned int off, u32 v)
{
	CHECK_EQ(0, khv_lapic_mmio_write(&a, off, 4, &v));
}

static bool in_reg(unsigned int base, u8 vec)
{
	return rd(base + ((vec >> 5) << 4)) & (1u << (vec & 31));
}

static void go_x2apic(void)
{
	CHECK_EQ(0, khv_lapic_set_base(&a, KHV_APIC_DEFAULT_BASE | KHV_APIC_BASE_EN |
				       KHV_APIC_BASE_EXTD | KHV_APIC_BASE_BSP, MAXPHY, false));
}

static u64 msr(u32 m)
{
	u64 v = ~0ull;

	CHECK_EQ(0, khv_lapic_msr_read(&a, m, &v));
	return v;
}

/* ---- tests ------------------------------------------------------------- */

static void test_reset_state(void)
{
	unsigned int off;

	setup(false);
	CHECK_EQ(3u << 24, rd(KHV_APIC_ID));
	CHECK_EQ(0x50014, rd(KHV_APIC_VERSION));
	for (off = KHV_APIC_LVT_TIMER; off <= KHV_APIC_LVT_ERROR; off += 0x10)
		CHECK_EQ(KHV_APIC_LVT_MASKED, rd(off));
	CHECK_EQ(0xffffffff, rd(KHV_APIC_DFR));
	CHECK_EQ(0xff, rd(KHV_APIC_SVR));
	CHECK_EQ(0, rd(KHV_APIC_PPR));
	CHECK_EQ(0, rd(KHV_APIC_TMCCT));
	CHECK_EQ(KHV_APIC_DEFAULT_BASE | KHV_APIC_BASE_EN | KHV_APIC_BASE_BSP, a.base_msr);
	/* Software-disabled after reset: nothing is taken. */
	CHECK(!khv_lapic_accept(&a, 0x40, false), "accepted while SVR disabled");
	CHECK_EQ(0, in_reg(KHV_APIC_IRR, 0x40));
}

static void test_tpr_masking(void)
{
	setup(true);
	CHECK(khv_lapic_accept(&a, 0x45, false), "not accepted");
	CHECK_EQ(1, o.kicks);
	wr(KHV_APIC_TPR, 0x50);
	CHECK_EQ(0x50, rd(KHV_APIC_PPR));
	CHECK(khv_lapic_pending_vector(&a) < 0, "class 4 under TPR 0x50");
	CHECK_EQ(4, khv_lapic_tpr_blocked_class(&a));
	wr(KHV_APIC_TPR, 0x4f);
	CHECK(khv_lapic_pending_vector(&a) < 0, "same class as TPR is not above it");
	CHECK_EQ(4, khv_lapic_tpr_blocked_class(&a));
	/* Held by a vector in service of its class or above: not the TPR's doing. */
	khv_lapic_accept(&a, 0x48, false);
	wr(KHV_APIC_TPR, 0);
	CHECK_EQ(0x48, khv_lapic_ack(&a));
	wr(KHV_APIC_TPR, 0x4f);
	CHECK_EQ(0, khv_lapic_tpr_blocked_class(&a));
	wr(KHV_APIC_EOI, 0);
	khv_lapic_set_cr8(&a, 3);
	CHECK_EQ(0, khv_lapic_tpr_blocked_class(&a));	/* deliverable */
	CHECK_EQ(0x30, rd(KHV_APIC_TPR));
	CHECK_EQ(3, khv_lapic_get_cr8(&a));
	CHECK_EQ(0x45, khv_lapic_pending_vector(&a));
	CHECK(o.kicks >= 2, "lowering TPR under a pending vector kicks");
	/* A second arrival of a pending vector coalesces. */
	CHECK(!khv_lapic_accept(&a, 0x45, false), "pending vector taken twice");
}

static void test_isr_nesting(void)
{
	setup(true);
	khv_lapic_accept(&a, 0x40, false);
	CHECK_EQ(0x40, khv_lapic_ack(&a));
	CHECK(in_reg(KHV_APIC_ISR, 0x40) && !in_reg(KHV_APIC_IRR, 0x40), "IRR -> ISR");
	CHECK_EQ(0x40, rd(KHV_APIC_PPR));
	wr(KHV_APIC_TPR, 0x47);			/* same class: PPR is the TPR */
	CHECK_EQ(0x47, rd(KHV_APIC_PPR));
	wr(KHV_APIC_TPR, 0);
	khv_lapic_accept(&a, 0x41, false);
	CHECK(khv_lapic_pending_vector(&a) < 0, "0x41 is in 0x40's class");
	khv_lapic_accept(&a, 0x50, false);
	CHECK_EQ(0x50, khv_lapic_ack(&a));
	CHECK_EQ(0x50, rd(KHV_APIC_PPR));
	wr(KHV_APIC_EOI, 0);
	CHECK(!in_reg(KHV_APIC_ISR, 0x50) && in_reg(KHV_APIC_ISR, 0x40), "EOI ends the highest");
	CHECK(khv_lapic_pending_vector(&a) < 0, "0x41 still under 0x40");
	wr(KHV_APIC_EOI, 0);
	CHECK_EQ(0, rd(KHV_APIC_PPR));
	CHECK_EQ(0x41, khv_lapic_pending_vector(&a));
	CHECK_EQ(-1, o.eoi_vector);
	CHECK(khv_lapic_ack(&a) == 0x41 && khv_lapic_ack(&a) == -1, "one ack per vector");
}

static void test_level_eoi(void)
{
	setup(true);
	khv_lapic_accept(&a, 0x61, true);
	CHECK(in_reg(KHV_APIC_TMR, 0x61), "level sets TMR");
	khv_lapic_ack(&a);
	wr(KHV_APIC_EOI, 0);
	CHECK_EQ(0x61, o.eoi_vector);
	o.eoi_vector = -1;
	khv_lapic_accept(&a, 0x61, false);
	CHECK(!in_reg(KHV_APIC_TMR, 0x61), "edge clears TMR");
	khv_lapic_ack(&a);
	wr(KHV_APIC_EOI, 0);
	CHECK_EQ(-1, o.eoi_vector);
	/* EOI with nothing in service is harmless. */
	wr(KHV_APIC_EOI, 0);
	CHECK_EQ(-1, o.eoi_vector);
}

static void test_illegal_vectors(void)
{
	setup(true);
	CHECK(!khv_lapic_accept(&a, 15, false), "vector 15 accepted");
	CHECK_EQ(0, rd(KHV_APIC_ESR));		/* not latched yet */
	wr(KHV_APIC_ESR, 0);
	CHECK_EQ(KHV_APIC_ESR_RECV_ILLEGAL, rd(KHV_APIC_ESR));
	wr(KHV_APIC_ESR, 0);
	CHECK_EQ(0, rd(KHV_APIC_ESR));
	/* Masked error LVT: the error is recorded, nothing raised. */
	wr(KHV_APIC_LVT_ERROR, 0xfe | KHV_APIC_LVT_MASKED);
	wr(KHV_APIC_ICR, (KHV_APIC_DM_LOWEST << 8) | 0x5);	/* lowest, vector 5 */
	CHECK_EQ(0, o.nr_ipis);
	CHECK(khv_lapic_pending_vector(&a) < 0, "masked error LVT raised");
	wr(KHV_APIC_ESR, 0);
	CHECK_EQ(KHV_APIC_ESR_SEND_ILLEGAL, rd(KHV_APIC_ESR));
	/* With the error LVT unmasked, an error raises its vector. */
	wr(KHV_APIC_LVT_ERROR, 0xfe);
	wr(KHV_APIC_ICR, 0x3);			/* fixed, vector 3 */
	CHECK_EQ(0, o.nr_ipis);
	CHECK_EQ(0xfe, khv_lapic_pending_vector(&a));
	wr(KHV_APIC_ESR, 0);
	CHECK_EQ(KHV_APIC_ESR_SEND_ILLEGAL, rd(KHV_APIC_ESR));
	/* An illegal error vector does not loop. */
	wr(KHV_APIC_LVT_ERROR, 0x2);
	khv_lapic_accept(&a, 1, false);
	wr(KHV_APIC_ESR, 0);
	CHECK_EQ(KHV_APIC_ESR_RECV_ILLEGAL, rd(KHV_APIC_ESR));
}

static void test_software_disable(void)
{
	setup(true);
	wr(KHV_APIC_LVT_LINT0, 0x700);		/* ExtINT, unmasked */
	CHECK_EQ(0x700, rd(KHV_APIC_LVT_LINT0));
	khv_lapic_accept(&a, 0x80, false);
	wr(KHV_APIC_SVR, 0xff);
	CHECK_EQ(0x10700, rd(KHV_APIC_LVT_LINT0));
	wr(KHV_APIC_LVT_LINT0, 0x700);
	CHECK_EQ(0x10700, rd(KHV_APIC_LVT_LINT0));
	CHECK(khv_lapic_pending_vector(&a) < 0, "delivered while software-disabled");
	CHECK(!khv_lapic_accept(&a, 0x81, false), "taken while software-disabled");
	wr(KHV_APIC_SVR, 0x1ff);
	CHECK_EQ(0x80, khv_lapic_pending_vector(&a));
	/* Read-only registers ignore writes; reserved ones read 0. */
	wr(KHV_APIC_VERSION, 0);
	wr(KHV_APIC_ID, 0);
	CHECK_EQ(0x50014, rd(KHV_APIC_VERSION));
	CHECK_EQ(3u << 24, rd(KHV_APIC_ID));
	CHECK_EQ(0, rd(0x3a0));
	CHECK_EQ(0, rd(0x2f0));
}

static void test_xapic_access_sizes(void)
{
	u8 b = 0;
	u16 w = 0;
	u32 v = 0x12345678, r;

	setup(true);
	CHECK_EQ(0, khv_lapic_mmio_read(&a, KHV_APIC_ID + 3, 1, &b));
	CHECK_EQ(3, b);
	CHECK_EQ(0, khv_lapic_mmio_read(&a, KHV_APIC_VERSION + 2, 2, &w));
	CHECK_EQ(5, w);
	r = 0xffffffff;
	CHECK_EQ(0, khv_lapic_mmio_read(&a, KHV_APIC_VERSION + 4, 4, &r));
	CHECK_EQ(0, r);
	/* Only aligned 32-bit writes reach a register. */
	CHECK_EQ(0, khv_lapic_mmio_write(&a, KHV_APIC_TPR + 1, 4, &v));
	CHECK_EQ(0, khv_lapic_mmio_write(&a, KHV_APIC_TPR, 2, &v));
	CHECK_EQ(0, rd(KHV_APIC_TPR));
	wr(KHV_APIC_TPR, v);
	CHECK_EQ(0x78, rd(KHV_APIC_TPR));
	CHECK_EQ(0, khv_lapic_mmio_read(&a, 0x1000, 4, &r));
}

static void test_icr_xapic(void)
{
	setup(true);
	wr(KHV_APIC_ICR2, 0x05123456);
	CHECK_EQ(0x05000000, rd(KHV_APIC_ICR2));
	wr(KHV_APIC_ICR, 0x4070 | KHV_APIC_DEST_LOGICAL | 0xfff00000);
	CHECK_EQ(1, o.nr_ipis);
	CHECK_EQ((5ull << 32) | 0x4870, o.ipis[0]);
	CHECK_EQ(0x4870, rd(KHV_APIC_ICR));	/* delivery status 0: sent */
	/* Self shorthand: straight into our own IRR, no IPI. */
	wr(KHV_APIC_ICR, KHV_APIC_SHORT_SELF | 0x91);
	CHECK_EQ(1, o.nr_ipis);
	CHECK(in_reg(KHV_APIC_IRR, 0x91), "self IPI");
	/* INIT level de-assert does nothing; INIT assert and SIPI go out. */
	wr(KHV_APIC_ICR, (KHV_APIC_DM_INIT << 8) | KHV_APIC_TRIGGER_LEVEL);
	CHECK_EQ(1, o.nr_ipis);
	wr(KHV_APIC_ICR, (KHV_APIC_DM_INIT << 8) | KHV_APIC_LEVEL_ASSERT);
	wr(KHV_APIC_ICR, (KHV_APIC_DM_SIPI << 8) | 0x9a | KHV_APIC_SHORT_OTHERS);
	CHECK_EQ(3, o.nr_ipis);
	CHECK_EQ((5ull << 32) | KHV_APIC_SHORT_OTHERS | 0x69a, o.ipis[2]);
	/* NMI with vector 0 is legal. */
	wr(KHV_APIC_ICR, KHV_APIC_DM_NMI << 8);
	CHECK_EQ(4, o.nr_ipis);
}

static void test_x2apic_msrs(void)
{
	u64 v;

	setup(true);
	CHECK_EQ(-EINVAL, khv_lapic_msr_read(&a, 0x802, &v));	/* xAPIC mode */
	CHECK_EQ(-EINVAL, khv_lapic_msr_write(&a, 0x808, 0));
	go_x2apic();
	CHECK_EQ(3, msr(0x802));
	CHECK_EQ(0x8, msr(0x80d));	/* cluster 0, bit 3 */
	CHECK_EQ(0x1ff, msr(0x80f));
	/* Gone in x2APIC: APR, RRD, DFR, ICR2, CMCI; write-only EOI and self IPI. */
	CHECK_EQ(-EINVAL, khv_lapic_msr_read(&a, 0x809, &v));
	CHECK_EQ(-EINVAL, khv_lapic_msr_read(&a, 0x80c, &v));
	CHECK_EQ(-EINVAL, khv_lapic_msr_read(&a, 0x80e, &v));
	CHECK_EQ(-EINVAL, khv_lapic_msr_read(&a, 0x831, &v));
	CHECK_EQ(-EINVAL, khv_lapic_msr_read(&a, 0x82f, &v));
	CHECK_EQ(-EINVAL, khv_lapic_msr_read(&a, 0x80b, &v));
	CHECK_EQ(-EINVAL, khv_lapic_msr_read(&a, 0x83f, &v));
	/* Read-only ones refuse writes; EOI and ESR take only 0. */
	CHECK_EQ(-EINVAL, khv_lapic_msr_write(&a, 0x802, 7));
	CHECK_EQ(-EINVAL, khv_lapic_msr_write(&a, 0x80d, 0));
	CHECK_EQ(-EINVAL, khv_lapic_msr_write(&a, 0x839, 0));
	CHECK_EQ(-EINVAL, khv_lapic_msr_write(&a, 0x80b, 1));
	CHECK_EQ(-EINVAL, khv_lapic_msr_write(&a, 0x828, 1));
	CHECK_EQ(-EINVAL, khv_lapic_msr_write(&a, 0x808, 0x100));
	CHECK_EQ(-EINVAL, khv_lapic_msr_write(&a, 0x808, 1ull << 32));
	CHECK_EQ(-EINVAL, khv_lapic_msr_write(&a, 0x83f, 0x100));
	CHECK_EQ(-EINVAL, khv_lapic_msr_write(&a, 0x835, 1ull << 32));
	CHECK_EQ(KHV_APIC_LVT_MASKED, msr(0x835));
	CHECK_EQ(0, khv_lapic_msr_write(&a, 0x808, 0x20));
	CHECK_EQ(0x20, msr(0x80a));
	/* The 64-bit ICR: 32-bit destination. */
	CHECK_EQ(0, khv_lapic_msr_write(&a, 0x830, (0x12345ull << 32) | 0x4031));
	CHECK_EQ(1, o.nr_ipis);
	CHECK_EQ((0x12345ull << 32) | 0x4031, o.ipis[0]);
	CHECK_EQ((0x12345ull << 32) | 0x4031, msr(0x830));
	/* Self IPI register. */
	CHECK_EQ(0, khv_lapic_msr_write(&a, 0x83f, 0x77));
	CHECK(msr(0x823) & (1u << (0x77 - 0x60)), "x2APIC self IPI in IRR (MSR 0x823)");
	CHECK_EQ(0x77, khv_lapic_ack(&a));
	CHECK(msr(0x813) & (1u << (0x77 - 0x60)), "ISR through MSR 0x813");
	CHECK_EQ(0, khv_lapic_msr_write(&a, 0x80b, 0));
	CHECK_EQ(0, msr(0x813));
	/* The xAPIC page is gone. */
	wr(KHV_APIC_TPR, 0x90);
	CHECK_EQ(0x20, msr(0x808));
}

static void test_apic_base(void)
{
	setup(true);
	/* Reserved bits, EXTD without EN. */
	CHECK_EQ(-EINVAL, khv_lapic_set_base(&a, a.base_msr | (1ull << 9), MAXPHY, false));
	CHECK_EQ(-EINVAL, khv_lapic_set_base(&a, a.base_msr | (1ull << 46), MAXPHY, false));
	CHECK_EQ(-EINVAL, khv_lapic_set_base(&a, KHV_APIC_DEFAULT_BASE | KHV_APIC_BASE_EXTD,
					     MAXPHY, true));
	/* Relocation. */
	CHECK_EQ(0, khv_lapic_set_base(&a, 0xfed00000ull | KHV_APIC_BASE_EN, MAXPHY, false));
	CHECK_EQ(0xfed00000ull, khv_lapic_base_gpa(&a));
	/* x2APIC straight back to xAPIC: #GP for the guest, fine for the host. */
	go_x2apic();
	CHECK_EQ(-EINVAL, khv_lapic_set_base(&a, KHV_APIC_DEFAULT_BASE | KHV_APIC_BASE_EN,
					     MAXPHY, false));
	CHECK_EQ(0, khv_lapic_set_base(&a, KHV_APIC_DEFAULT_BASE | KHV_APIC_BASE_EN,
				       MAXPHY, true));
	CHECK_EQ(3u << 24, rd(KHV_APIC_ID));
	/* Disabled: takes nothing; straight to x2APIC is #GP; re-enabled = reset. */
	khv_lapic_accept(&a, 0x50, false);
	CHECK_EQ(0, khv_lapic_set_base(&a, KHV_APIC_DEFAULT_BASE, MAXPHY, false));
	CHECK(!khv_lapic_accept(&a, 0x51, false), "hardware-disabled APIC took a vector");
	CHECK(!khv_lapic_match_dest(&a, 3, false, false), "disabled APIC matched");
	CHECK_EQ(-EINVAL, khv_lapic_set_base(&a, KHV_APIC_DEFAULT_BASE | KHV_APIC_BASE_EN |
					     KHV_APIC_BASE_EXTD, MAXPHY, false));
	CHECK_EQ(0, khv_lapic_set_base(&a, KHV_APIC_DEFAULT_BASE | KHV_APIC_BASE_EN, MAXPHY,
				       false));
	CHECK_EQ(0xff, rd(KHV_APIC_SVR));
	CHECK(!in_reg(KHV_APIC_IRR, 0x50), "IRR survived disabling");
	/* INIT keeps the ID and the base. */
	CHECK_EQ(0, khv_lapic_set_base(&a, 0xfed00000ull | KHV_APIC_BASE_EN, MAXPHY, false));
	khv_lapic_reset(&a, true);
	CHECK_EQ(0xfed00000ull | KHV_APIC_BASE_EN, a.base_msr);
	CHECK_EQ(3u << 24, rd(KHV_APIC_ID));
	khv_lapic_reset(&a, false);
	CHECK_EQ(KHV_APIC_DEFAULT_BASE | KHV_APIC_BASE_EN, a.base_msr);
}

static void test_destinations(void)
{
	setup(true);
	/* xAPIC physical and broadcast. */
	CHECK(khv_lapic_match_dest(&a, 3, false, false), "physical 3");
	CHECK(!khv_lapic_match_dest(&a, 4, false, false), "physical 4");
	CHECK(khv_lapic_match_dest(&a, 0xff, false, false), "broadcast");
	CHECK(khv_lapic_match_dest(&a, 0xff, true, false), "logical broadcast");
	/* Flat: LDR bit set in the destination's 8 bits. */
	wr(KHV_APIC_LDR, 0x08000000);
	CHECK_EQ(0x08000000, rd(KHV_APIC_LDR));
	CHECK(khv_lapic_match_dest(&a, 0x0c, true, false), "flat 0x0c");
	CHECK(!khv_lapic_match_dest(&a, 0x04, true, false), "flat 0x04");
	/* Cluster: cluster 2, member bit 1. */
	wr(KHV_APIC_DFR, 0x0fffffff);
	CHECK_EQ(0x0fffffff, rd(KHV_APIC_DFR));
	wr(KHV_APIC_LDR, 0x22000000);
	CHECK(khv_lapic_match_dest(&a, 0x23, true, false), "cluster 2, 0011");
	CHECK(!khv_lapic_match_dest(&a, 0x33, true, false), "cluster 3");
	CHECK(!khv_lapic_match_dest(&a, 0x21, true, false), "cluster 2, 0001");
	CHECK(khv_lapic_match_dest(&a, 0xf2, true, false), "all clusters, 0010");
	/* x2APIC: 32-bit physical; logical cluster id>>4, bit id&15. */
	go_x2apic();
	CHECK(khv_lapic_match_dest(&a, 3, false, true), "x2 physical 3");
	CHECK(!khv_lapic_match_dest(&a, 0x103, false, true), "x2 physical 0x103");
	CHECK(khv_lapic_match_dest(&a, 0xffffffff, false, true), "x2 broadcast");
	CHECK(khv_lapic_match_dest(&a, 0x0000000f, true, true), "x2 cluster 0, bits 0-3");
	CHECK(!khv_lapic_match_dest(&a, 0x00010008, true, true), "x2 cluster 1");
	CHECK(!khv_lapic_match_dest(&a, 0x00000007, true, true), "x2 cluster 0, bits 0-2");
}

static void test_timer_oneshot(void)
{
	setup(true);
	wr(KHV_APIC_TDCR, 0x3);				/* /16 */
	wr(KHV_APIC_LVT_TIMER, 0xe0);
	o.now = 1000;
	wr(KHV_APIC_TMICT, 1000);
	CHECK_EQ(1000 + 16000, khv_lapic_timer_deadline_ns(&a));
	o.now = 1000 + 8000;
	CHECK_EQ(500, rd(KHV_APIC_TMCCT));
	o.now = 1000 + 16000;
	CHECK_EQ(0, rd(KHV_APIC_TMCCT));
	khv_lapic_timer_fire(&a);
	CHECK_EQ(0xe0, khv_lapic_pending_vector(&a));
	CHECK_EQ(0, khv_lapic_timer_deadline_ns(&a));
	CHECK_EQ(1000, rd(KHV_APIC_TMICT));		/* TMICT stays */
	/* A second fire of a finished one-shot does nothing. */
	khv_lapic_ack(&a);
	khv_lapic_timer_fire(&a);
	CHECK(khv_lapic_pending_vector(&a) < 0, "one-shot fired twice");
	/* Writing 0 stops a running count. */
	wr(KHV_APIC_TMICT, 50);
	wr(KHV_APIC_TMICT, 0);
	CHECK_EQ(0, khv_lapic_timer_deadline_ns(&a));
	/* Masked: the count runs out, nothing is raised. */
	wr(KHV_APIC_LVT_TIMER, 0xe0 | KHV_APIC_LVT_MASKED);
	wr(KHV_APIC_TMICT, 10);
	o.now += 160;
	khv_lapic_timer_fire(&a);
	CHECK(!in_reg(KHV_APIC_IRR, 0xe0), "masked timer raised its vector");
	CHECK_EQ(0, rd(KHV_APIC_TMCCT));
	/* Divide by 1 (TDCR 1011). */
	wr(KHV_APIC_TDCR, 0xb);
	wr(KHV_APIC_TMICT, 10);
	CHECK_EQ(o.now + 10, khv_lapic_timer_deadline_ns(&a));
}

static void test_timer_periodic(void)
{
	setup(true);
	wr(KHV_APIC_TDCR, 0x0);				/* /2 */
	wr(KHV_APIC_LVT_TIMER, KHV_APIC_TIMER_PERIODIC | 0xd0);
	wr(KHV_APIC_TMICT, 500000);			/* 1 ms */
	CHECK_EQ(1000000, khv_lapic_timer_deadline_ns(&a));
	o.now = 1000000;
	khv_lapic_timer_fire(&a);
	CHECK_EQ(0xd0, khv_lapic_pending_vector(&a));
	CHECK_EQ(2000000, khv_lapic_timer_deadline_ns(&a));
	o.now = 1250000;
	CHECK_EQ(375000, rd(KHV_APIC_TMCCT));
	/* Far behind: the missed periods are skipped, not fired in a burst. */
	o.now = 10500000;
	khv_lapic_timer_fire(&a);
	CHECK_EQ(11000000, khv_lapic_timer_deadline_ns(&a));
	/* A tiny period is clamped, and counted. */
	wr(KHV_APIC_TDCR, 0xb);
	wr(KHV_APIC_TMICT, 1);
	CHECK_EQ(o.now + KHV_APIC_MIN_PERIOD_NS, khv_lapic_timer_deadline_ns(&a));
	CHECK_EQ(1, a.timer_clamped);
	wr(KHV_APIC_TMICT, 100);
	CHECK_EQ(2, a.timer_clamped);
	o.now += KHV_APIC_MIN_PERIOD_NS / 2;
	CHECK_EQ(50, rd(KHV_APIC_TMCCT));
	/* Periodic -> one-shot keeps the count running. */
	wr(KHV_APIC_TDCR, 0x0);
	wr(KHV_APIC_TMICT, 500000);
	o.now += 400000;
	wr(KHV_APIC_LVT_TIMER, KHV_APIC_TIMER_ONESHOT | 0xd0);
	CHECK_EQ(300000, rd(KHV_APIC_TMCCT));
	CHECK_EQ(o.now + 600000, khv_lapic_timer_deadline_ns(&a));
}

static void test_timer_divide_change(void)
{
	setup(true);
	wr(KHV_APIC_TDCR, 0x1);				/* /4 */
	wr(KHV_APIC_LVT_TIMER, 0xc0);
	wr(KHV_APIC_TMICT, 1000);
	o.now = 1200;					/* 300 ticks gone */
	CHECK_EQ(700, rd(KHV_APIC_TMCCT));
	wr(KHV_APIC_TDCR, 0x8);				/* /32 */
	CHECK_EQ(700, rd(KHV_APIC_TMCCT));
	CHECK_EQ(1200 + 700 * 32, khv_lapic_timer_deadline_ns(&a));
	o.now += 100 * 32;
	CHECK_EQ(600, rd(KHV_APIC_TMCCT));
	CHECK(o.timer_changes > 0, "owner told of the new deadline");
}

static void test_timer_tsc_deadline(void)
{
	setup(true);
	wr(KHV_APIC_TMICT, 1000);
	wr(KHV_APIC_LVT_TIMER, KHV_APIC_TIMER_DEADLINE | 0xef);
	CHECK_EQ(0, rd(KHV_APIC_TMICT));		/* the switch disarms */
	CHECK_EQ(0, khv_lapic_timer_deadline_ns(&a));
	wr(KHV_APIC_TMICT, 1000);			/* ignored */
	CHECK_EQ(0, rd(KHV_APIC_TMICT));
	khv_lapic_set_tsc_deadline(&a, 123456);
	CHECK_EQ(123456, khv_lapic_get_tsc_deadline(&a));
	CHECK_EQ(123456, khv_lapic_timer_deadline_ns(&a));
	CHECK_EQ(0, rd(KHV_APIC_TMCCT));
	o.now = 123456;
	khv_lapic_timer_fire(&a);
	CHECK_EQ(0xef, khv_lapic_pending_vector(&a));
	CHECK_EQ(0, khv_lapic_get_tsc_deadline(&a));
	CHECK_EQ(0, khv_lapic_timer_deadline_ns(&a));
	/* Out of deadline mode: the MSR reads 0 and ignores writes. */
	khv_lapic_set_tsc_deadline(&a, 5);
	wr(KHV_APIC_LVT_TIMER, KHV_APIC_TIMER_ONESHOT | 0xef);
	CHECK_EQ(0, khv_lapic_get_tsc_deadline(&a));
	khv_lapic_set_tsc_deadline(&a, 99);
	CHECK_EQ(0, khv_lapic_get_tsc_deadline(&a));
	/* Mode 3 is reserved: the mode stays. */
	wr(KHV_APIC_LVT_TIMER, KHV_APIC_TIMER_MODE_MASK | 0xef);
	CHECK_EQ(KHV_APIC_TIMER_ONESHOT | 0xef, rd(KHV_APIC_LVT_TIMER));
}

static void test_lvt_fields(void)
{
	setup(true);
	wr(KHV_APIC_LVT_LINT0, 0xffffffff);
	CHECK_EQ(0x1a7ff, rd(KHV_APIC_LVT_LINT0));	/* no remote IRR, no status */
	wr(KHV_APIC_LVT_ERROR, 0xffffffff);
	CHECK_EQ(0x100ff, rd(KHV_APIC_LVT_ERROR));
	wr(KHV_APIC_LVT_PERF, 0xffffffff);
	CHECK_EQ(0x107ff, rd(KHV_APIC_LVT_PERF));
	wr(KHV_APIC_SVR, 0xffffffff);
	CHECK_EQ(0x3ff, rd(KHV_APIC_SVR));
	wr(KHV_APIC_TDCR, 0xffffffff);
	CHECK_EQ(0xb, rd(KHV_APIC_TDCR));
}

/* Save mid-count, restore into a fresh APIC later on: the count goes on. */
static void test_state_roundtrip(void)
{
	struct khv_lapic_state st, st2;

	setup(true);
	wr(KHV_APIC_TPR, 0x20);
	wr(KHV_APIC_LDR, 0x04000000);
	wr(KHV_APIC_DFR, 0x0fffffff);		/* cluster model */
	wr(KHV_APIC_LVT_LINT0, 0x700);		/* ExtINT, unmasked */
	wr(KHV_APIC_TDCR, 0x3);			/* /16 */
	wr(KHV_APIC_LVT_TIMER, KHV_APIC_TIMER_PERIODIC | 0xe0);
	o.now = 5000;
	wr(KHV_APIC_TMICT, 100000);		/* 1.6 ms period */
	khv_lapic_accept(&a, 0x41, true);
	khv_lapic_accept(&a, 0x31, false);
	CHECK_EQ(0x41, khv_lapic_ack(&a));	/* 0x41 in service, 0x31 waits */
	o.now = 5000 + 1600000 * 3 + 400000;	/* a quarter into the fourth period */
	khv_lapic_get_state(&a, &st);
	CHECK_EQ(75000, st.regs[KHV_APIC_TMCCT >> 2]);
	CHECK_EQ(0x40, st.regs[KHV_APIC_PPR >> 2]);
	CHECK_EQ(0, khv_lapic_check_state(&a, &st, MAXPHY));
	spin_unlock(&a.lock);

	/* A fresh APIC with the same ID, a million ns later. */
	setup(false);
	o.now = 10005000;
	CHECK_EQ(0, khv_lapic_check_state(&a, &st, MAXPHY));
	khv_lapic_set_state(&a, &st);
	CHECK(o.timer_changes > 0, "timer not re-armed");
	CHECK_EQ(75000, rd(KHV_APIC_TMCCT));
	CHECK_EQ(10005000 + 1200000, khv_lapic_timer_deadline_ns(&a));
	CHECK_EQ(0x40, rd(KHV_APIC_PPR));
	CHECK_EQ(0x20, rd(KHV_APIC_TPR));
	CHECK_EQ(0x04000000, rd(KHV_APIC_LDR));
	CHECK_EQ(0x0fffffff, rd(KHV_APIC_DFR));
	CHECK(in_reg(KHV_APIC_TMR, 0x41) && in_reg(KHV_APIC_ISR, 0x41), "ISR/TMR lost");
	CHECK(khv_lapic_pending_vector(&a) < 0, "0x31 is below PPR");
	wr(KHV_APIC_EOI, 0);
	CHECK_EQ(0x41, o.eoi_vector);
	CHECK_EQ(0x31, khv_lapic_pending_vector(&a));
	/* The periodic timer fires on the restored schedule. */
	o.now = 10005000 + 1200000;
	khv_lapic_timer_fire(&a);
	CHECK(in_reg(KHV_APIC_IRR, 0xe0), "timer did not fire");
	CHECK_EQ(10005000 + 1200000 + 1600000, khv_lapic_timer_deadline_ns(&a));
	/* What a set produced reads back the same (time aside). */
	khv_lapic_get_state(&a, &st2);
	CHECK_EQ(0, khv_lapic_check_state(&a, &st2, MAXPHY));
	spin_unlock(&a.lock);

	/* A clamped periodic timer (1 us asked, 200 us given) resumes too. */
	setup(true);
	wr(KHV_APIC_TDCR, 0xb);			/* /1 */
	wr(KHV_APIC_LVT_TIMER, KHV_APIC_TIMER_PERIODIC | 0xe0);
	wr(KHV_APIC_TMICT, 1000);
	o.now = 50000;				/* a quarter of 200 us */
	khv_lapic_get_state(&a, &st);
	CHECK_EQ(750, st.regs[KHV_APIC_TMCCT >> 2]);
	o.now = 7000000;
	khv_lapic_set_state(&a, &st);
	CHECK_EQ(750, rd(KHV_APIC_TMCCT));
	CHECK_EQ(7000000 + 150000, khv_lapic_timer_deadline_ns(&a));
	spin_unlock(&a.lock);

	/* A one-shot that already ran out stays out. */
	setup(true);
	wr(KHV_APIC_TMICT, 10);
	o.now = 1000;
	khv_lapic_get_state(&a, &st);
	CHECK_EQ(0, st.regs[KHV_APIC_TMCCT >> 2]);
	khv_lapic_set_state(&a, &st);
	CHECK_EQ(0, khv_lapic_timer_deadline_ns(&a));
	spin_unlock(&a.lock);
}

static void test_state_x2apic_deadline(void)
{
	struct khv_lapic_state st;

	setup(true);
	go_x2apic();
	CHECK_EQ(0, khv_lapic_msr_write(&a, 0x832, KHV_APIC_TIMER_DEADLINE | 0xec));
	khv_lapic_set_tsc_deadline(&a, 777777);
	khv_lapic_get_state(&a, &st);
	CHECK_EQ(3, st.regs[KHV_APIC_ID >> 2]);
	CHECK_EQ(777777, st.tsc_deadline);
	spin_unlock(&a.lock);

	setup(false);
	CHECK_EQ(0, khv_lapic_check_state(&a, &st, MAXPHY));
	khv_lapic_set_state(&a, &st);
	CHECK(khv_lapic_x2apic(&a), "not in x2APIC mode");
	CHECK_EQ((0u << 16) | (1u << 3), msr(0x80d));	/* LDR from the ID */
	CHECK_EQ(777777, khv_lapic_timer_deadline_ns(&a));
	CHECK_EQ(777777, khv_lapic_get_tsc_deadline(&a));
	spin_unlock(&a.lock);
}

/* The IRR and ISR summaries agree with the registers they summarise. */
static void check_summaries(void)
{
	unsigned int i;

	for (i = 0; i < 8; i++) {
		CHECK_EQ(!!rd(KHV_APIC_IRR + (i << 4)), (a.irr_words >> i) & 1);
		CHECK_EQ(!!rd(KHV_APIC_ISR + (i << 4)), (a.isr_words >> i) & 1);
	}
}

/*
 * Vectors in many of the eight registers: priority order across register
 * boundaries, as interrupts arrive, are taken and end, and after a state
 * put back from a save and an INIT.
 */
static void test_vectors_across_registers(void)
{
	static const u8 vecs[] = { 0x20, 0x3f, 0x40, 0x5f, 0x9e, 0xe0, 0xff };
	struct khv_lapic_state st;
	int i;

	setup(true);
	for (i = 0; i < (int)ARRAY_SIZE(vecs); i++)
		CHECK(khv_lapic_accept(&a, vecs[i], false), "0x%x not taken", vecs[i]);
	check_summaries();
	/* Each ack takes the highest, which nests above the one before it. */
	CHECK_EQ(0xff, khv_lapic_ack(&a));
	CHECK(khv_lapic_pending_vector(&a) < 0, "0xe0 is below 0xff in service");
	wr(KHV_APIC_EOI, 0);
	CHECK_EQ(0xe0, khv_lapic_ack(&a));
	wr(KHV_APIC_EOI, 0);
	check_summaries();
	CHECK_EQ(0x9e, khv_lapic_ack(&a));
	khv_lapic_get_state(&a, &st);		/* 0x9e in service, 4 waiting */
	spin_unlock(&a.lock);

	setup(false);
	CHECK_EQ(0, khv_lapic_check_state(&a, &st, MAXPHY));
	khv_lapic_set_state(&a, &st);
	check_summaries();
	CHECK_EQ(0x90, rd(KHV_APIC_PPR));
	CHECK(khv_lapic_pending_vector(&a) < 0, "0x5f is below 0x9e in service");
	wr(KHV_APIC_EOI, 0);
	for (i = 3; i >= 0; i--) {
		CHECK_EQ(vecs[i], khv_lapic_pending_vector(&a));
		CHECK_EQ(vecs[i], khv_lapic_ack(&a));
		wr(KHV_APIC_EOI, 0);
		check_summaries();
	}
	CHECK_EQ(-1, khv_lapic_pending_vector(&a));
	CHECK_EQ(0, a.irr_words | a.isr_words);
	/* INIT clears both, with the registers. */
	khv_lapic_accept(&a, 0x77, false);
	khv_lapic_accept(&a, 0xc1, false);
	khv_lapic_ack(&a);
	khv_lapic_reset(&a, true);
	check_summaries();
	wr(KHV_APIC_SVR, 0x1ff);
	CHECK_EQ(-1, khv_lapic_pending_vector(&a));
	CHECK_EQ(0, rd(KHV_APIC_PPR));
	spin_unlock(&a.lock);
}

/* Every field a state cannot hold is refused. */
static void test_state_rejects(void)
{
	struct khv_lapic_state good, st;

	setup(true);
	khv_lapic_get_state(&a, &good);
	CHECK_EQ(0, khv_lapic_check_state(&a, &good, MAXPHY));
#define REFUSED(mutation) do {						\
		st = good;						\
		mutation;						\
		CHECK_EQ((u64)-EINVAL, (u64)khv_lapic_check_state(&a, &st, MAXPHY)); \
	} while (0)
	REFUSED(st.flags = 1);
	REFUSED(st.reserved[3] = 1);
	REFUSED(st.apic_base |= 1ull << 50);
	REFUSED(st.apic_base |= 1);
	REFUSED(st.apic_base = KHV_APIC_DEFAULT_BASE | KHV_APIC_BASE_EXTD);
	REFUSED(st.esr_pending = 0x10);
	REFUSED(st.regs[KHV_APIC_ID >> 2] = 4u << 24);
	REFUSED(st.regs[KHV_APIC_TPR >> 2] = 0x100);
	REFUSED(st.regs[(KHV_APIC_TPR >> 2) + 1] = 1);
	REFUSED(st.regs[KHV_APIC_IRR >> 2] = 0x8000);
	REFUSED(st.regs[KHV_APIC_ISR >> 2] = 1);
	REFUSED(st.regs[KHV_APIC_LDR >> 2] = 1);
	REFUSED(st.regs[KHV_APIC_DFR >> 2] = 0);
	REFUSED(st.regs[KHV_APIC_LVT_TIMER >> 2] = KHV_APIC_TIMER_MODE_MASK);
	REFUSED(st.regs[KHV_APIC_LVT_ERROR >> 2] |= KHV_APIC_DM_MASK);
	REFUSED(st.regs[0x2f0 >> 2] = 1);
	REFUSED(st.regs[KHV_APIC_TDCR >> 2] = 4);
	REFUSED(st.regs[KHV_APIC_TMCCT >> 2] = 5);		/* above TMICT */
	REFUSED(st.tsc_deadline = 5);				/* not in deadline mode */
	REFUSED(st.regs[KHV_APIC_SVR >> 2] = 0xff;		/* disabled, LINT0 unmasked */
		st.regs[KHV_APIC_LVT_LINT0 >> 2] = 0x700);
#undef REFUSED
	/* Computed registers are ignored whatever they hold. */
	st = good;
	st.regs[KHV_APIC_VERSION >> 2] = 0x12345678;
	st.regs[KHV_APIC_PPR >> 2] = 0xff;
	CHECK_EQ(0, khv_lapic_check_state(&a, &st, MAXPHY));
	khv_lapic_set_state(&a, &st);
	CHECK_EQ(KHV_APIC_VERSION_VALUE, rd(KHV_APIC_VERSION));
	CHECK_EQ(0, rd(KHV_APIC_PPR));
	spin_unlock(&a.lock);
}

const struct irq_test lapic_tests[] = {
	{ "reset_state", test_reset_state },
	{ "tpr_masking", test_tpr_masking },
	{ "isr_nesting", test_isr_nesting },
	{ "level_eoi", test_level_eoi },
	{ "illegal_vectors", test_illegal_vectors },
	{ "software_disable", test_software_disable },
	{ "xapic_access_sizes", test_xapic_access_sizes },
	{ "icr_xapic", test_icr_xapic },
	{ "x2apic_msrs", test_x2apic_msrs },
	{ "apic_base", test_apic_base },
	{ "destinations", test_destinations },
	{ "timer_oneshot", test_timer_oneshot },
	{ "timer_periodic", test_timer_periodic },
	{ "timer_divide_change", test_timer_divide_change },
	{ "timer_tsc_deadline", test_timer_tsc_deadline },
	{ "lvt_fields", test_lvt_fields },
	{ "state_roundtrip", test_state_roundtrip },
	{ "state_x2apic_deadline", test_state_x2apic_deadline },
	{ "state_rejects", test_state_rejects },
	{ "vectors_across_registers", test_vectors_across_registers },
};

const unsigned int nr_lapic_tests = ARRAY_SIZE(lapic_tests);
