#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC2034 # the settings below are read by scripts/mutants.sh
#
# Mutation check of the irq selftest: each mutant below is one deliberate
# bug in a scratch copy of irq/ (never in the tree itself), and irq_test
# must fail on every one.  Run: make -C irq/selftest mutants
# A mutant is "file@@old@@new" (see scripts/mutants.sh, the runner).
set -u

name=irq
subdir=irq
copy=(irq uapi)
harness=irq/selftest
bin=irq_test
fail_re='^# [a-z_0-9]+: |runtime error|ERROR'
mutants=(
	# ---- priority: PPR, delivery, ack, EOI
	'lapic.c@@(tpr & 0xf0) >= isr_class@@(tpr & 0xf0) > isr_class'
	'lapic.c@@((u32)irr & 0xf0) <= (khv_lapic_ppr@@((u32)irr & 0xf0) < (khv_lapic_ppr'
	'lapic.c@@return i * 32 + fls(word) - 1;@@return i * 32 + ffs(word) - 1;'
	'lapic.c@@	if (vec_test(apic, KHV_APIC_TMR, vec))@@	if (vec >= 0)'
	'lapic.c@@	if (vec_test(apic, KHV_APIC_IRR, vector))@@	if (0)'
	'lapic.c@@	vec_assign(apic, KHV_APIC_ISR, vec, true);@@	;'
	'lapic.c@@	set_reg(apic, KHV_APIC_TPR, tpr & 0xff);@@	set_reg(apic, KHV_APIC_TPR, tpr & 0xf0);'
	'lapic.c@@	set_tpr(apic, (u32)(cr8 & 0xf) << 4);@@	set_tpr(apic, cr8 & 0xf);'
	# ---- errors and enables
	'lapic.c@@	if (vector < 16) {@@	if (vector < 15) {'
	'lapic.c@@	if (fresh && !(lvt & KHV_APIC_LVT_MASKED))@@	if (fresh)'
	'lapic.c@@	return khv_lapic_hw_enabled(apic) && khv_lapic_sw_enabled(apic);@@	return khv_lapic_hw_enabled(apic);'
	'lapic.c@@		set_reg(apic, off, apic->esr_pending);@@		set_reg(apic, off, 0);'
	'lapic.c@@			set_reg(apic, off, khv_lapic_reg(apic, off) | KHV_APIC_LVT_MASKED);@@			;'
	# ---- destinations
	'lapic.c@@	return dest & ldr & 0xf;@@	return dest & ldr;'
	'lapic.c@@		return dest & ldr;@@		return dest == ldr;'
	'lapic.c@@		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);@@		return dest & ldr & 0xffff;'
	'lapic.c@@	return ((id >> 4) << 16) | (1u << (id & 0xf));@@	return (id << 16) | (1u << (id & 0xf));'
	'lapic.c@@(x2apic_fmt ? 0xffffffffu : 0xffu)@@(x2apic_fmt ? 0xffffffffu : 0xfeu)'
	# ---- the ICR
	'lapic.c@@	if ((dm == KHV_APIC_DM_FIXED || dm == KHV_APIC_DM_LOWEST) && vec < 16) {@@	if (dm == KHV_APIC_DM_FIXED && vec < 16) {'
	'lapic.c@@	if (dm == KHV_APIC_DM_INIT && !(lo & KHV_APIC_LEVEL_ASSERT) &&@@	if (dm == KHV_APIC_DM_INIT && 0 &&'
	'lapic.c@@			   ((u64)(khv_lapic_reg(apic, KHV_APIC_ICR2) >> 24) << 32));@@			   ((u64)khv_lapic_reg(apic, KHV_APIC_ICR2) << 32));'
	# ---- x2APIC MSRs and IA32_APIC_BASE
	'lapic.c@@	if (val >> 32)@@	if (0)'
	'lapic.c@@		return (off >= KHV_APIC_ISR && off < KHV_APIC_ESR) || is_lvt(off);@@		return off >= KHV_APIC_ISR || is_lvt(off);'
	'lapic.c@@	case KHV_APIC_ICR: case KHV_APIC_TMICT: case KHV_APIC_TDCR: case KHV_APIC_SELF_IPI:@@	case KHV_APIC_ICR: case KHV_APIC_TMICT: case KHV_APIC_TDCR: case KHV_APIC_SELF_IPI: case KHV_APIC_ID:'
	'lapic.c@@	if (!host && ((old_x2 && new_en && !new_x2) || (!old_en && new_x2)))@@	if (!host && (!old_en && new_x2))'
	'lapic.c@@	u64 reserved = 0x2ffull | ~maxphyaddr_mask;@@	u64 reserved = 0xffull | ~maxphyaddr_mask;'
	'lapic.c@@	if (old_x2 != new_x2)@@	if (old_x2)'
	# ---- the timer
	'lapic.c@@	return (v == 7 ? 1 : 2ull << v) * KHV_APIC_BUS_NS;@@	return (v == 7 ? 1 : 1ull << v) * KHV_APIC_BUS_NS;'
	'lapic.c@@	u32 v = ((tdcr & 8) >> 1) | (tdcr & 3);@@	u32 v = tdcr & 7;'
	'lapic.c@@	    period < KHV_APIC_MIN_PERIOD_NS) {@@	    period < 1) {'
	'lapic.c@@		apic->timer_start_ns += apic->timer_period_ns;@@		apic->timer_start_ns = now;'
	'lapic.c@@		if (now > apic->timer_start_ns + apic->timer_period_ns)@@		if (0)'
	'lapic.c@@		set_reg(apic, KHV_APIC_TMICT, 0);@@		;'
	'lapic.c@@now - (u64)(tmict - cur) * timer_tick_ns(apic);@@now - (u64)cur * timer_tick_ns(apic);'
	'lapic.c@@	if (!(lvt & KHV_APIC_LVT_MASKED))@@	if (1)'
	'lapic.c@@		return (u32)(tmict - elapsed * tmict / period);@@		return (u32)(tmict - elapsed / timer_tick_ns(apic));'
	# ---- ioapic.c
	'ioapic.c@@	if ((e & KHV_IOAPIC_MASKED) || (msg.level && (e & KHV_IOAPIC_REMOTE_IRR)))@@	if (e & KHV_IOAPIC_MASKED)'
	'ioapic.c@@	if ((ioapic->redir[pin] & KHV_IOAPIC_LEVEL) || !was)@@	if (!was)'
	'ioapic.c@@	if ((ioapic->redir[pin] & KHV_IOAPIC_LEVEL) || !was)@@	if (was || !was)'
	'ioapic.c@@	if (msg.level)@@	if (1)'
	'ioapic.c@@		ioapic->lost++;@@		;'
	'ioapic.c@@		if (ioapic->lines & (1u << pin))@@		if (1)'
	'ioapic.c@@		    (e & KHV_IOAPIC_VECTOR) != vector)@@		    (e & KHV_IOAPIC_VECTOR) == vector + 1000u)'
	'ioapic.c@@		    (old & KHV_IOAPIC_REMOTE_IRR);@@		    0;'
	'ioapic.c@@		e &= ~KHV_IOAPIC_REMOTE_IRR;@@		e &= ~0ull;'
	'ioapic.c@@	if ((e & KHV_IOAPIC_LEVEL) && (ioapic->lines & (1u << pin)))@@	if (ioapic->lines & (1u << pin))'
	'ioapic.c@@		return KHV_IOAPIC_VERSION | ((KHV_IOAPIC_PINS - 1u) << 16);@@		return KHV_IOAPIC_VERSION | (KHV_IOAPIC_PINS << 16);'
	'ioapic.c@@		ioapic->id = (val >> 24) & 0xf;@@		ioapic->id = val >> 24;'
	'ioapic.c@@		ioapic->regsel = v & 0xff;@@		ioapic->regsel = v;'
	'ioapic.c@@	else if (off == 0x10 && len == 4)@@	else if (off == 0x10)'
	'ioapic.c@@#define REDIR_HIGH_WRITABLE	(0xffull << KHV_IOAPIC_DEST_SHIFT)@@#define REDIR_HIGH_WRITABLE	(~0ull << 32)'
	'ioapic.c@@				 KHV_IOAPIC_LEVEL | KHV_IOAPIC_MASKED)@@				 KHV_IOAPIC_LEVEL | KHV_IOAPIC_MASKED | KHV_IOAPIC_REMOTE_IRR)'
	'ioapic.c@@		ioapic->redir[pin] = KHV_IOAPIC_MASKED;@@		ioapic->redir[pin] &= KHV_IOAPIC_MASKED;'
	'ioapic.c@@		.logical = e & KHV_IOAPIC_DEST_LOGICAL,@@		.logical = false,'
	# ---- pic.c
	'pic.c@@	return (n - c->lowest - 1) & 7;@@	return (n - c->lowest) & 7;'
	'pic.c@@		unsigned int n = (c->lowest + 1 + p) & 7;@@		unsigned int n = (c->lowest + p) & 7;'
	'pic.c@@	if (cur >= 0 && prio_of(c, req) >= prio_of(c, cur))@@	if (cur >= 0 && prio_of(c, req) > prio_of(c, cur))'
	'pic.c@@		isr &= ~c->imr;@@		isr &= c->imr;'
	'pic.c@@		isr &= ~(1u << KHV_PIC_CASCADE_IRQ);@@		isr &= ~0u;'
	'pic.c@@	} else if (level && !(c->lines & bit)) {@@	} else if (level) {'
	'pic.c@@			c->irr &= ~bit;@@			c->irr &= ~0u;'
	'pic.c@@	if (!c->auto_eoi)@@	if (c->auto_eoi)'
	'pic.c@@	else if (c->rotate_on_auto_eoi)@@	else if (!c->rotate_on_auto_eoi)'
	'pic.c@@	if (!(c->elcr & bit))@@	if (1)'
	'pic.c@@		vec = m->vector_base | 7;@@		vec = m->vector_base;'
	'pic.c@@				vec = s->vector_base | 7;@@				vec = m->vector_base | 7;'
	'pic.c@@	c->irr &= c->elcr;		/* edge requests and edge history are dropped */@@	c->irr = 0;'
	'pic.c@@	c->lowest = 7;@@	c->lowest = 0;'
	'pic.c@@			c->lowest = n;@@			c->lowest = c->lowest;'
	'pic.c@@		c->isr &= ~(1u << level);@@		c->isr &= ~(1u << (level ^ 1));'
	'pic.c@@			c->read_isr = val & 0x01;@@			c->read_isr = true;'
	'pic.c@@			c->special_mask = val & 0x20;@@			c->special_mask = true;'
	'pic.c@@		c->vector_base = val & 0xf8;@@		c->vector_base = val;'
	'pic.c@@		c->init_step = c->single ? (c->icw4_needed ? 4 : 0) : 3;@@		c->init_step = 4;'
	'pic.c@@		c->special_fully_nested = val & 0x10;@@		c->special_fully_nested = false;'
	'pic.c@@	return 0x80 | n;@@	return n;'
	'pic.c@@			c->poll = true;@@			c->poll = false;'
	'pic.c@@		c->elcr = val & c->elcr_writable;@@		c->elcr = val;'
	'pic.c@@	chip_input(&pic->chip[0], KHV_PIC_CASCADE_IRQ, chip_pending(&pic->chip[1], false) >= 0);@@	;'
	'pic.c@@	if (out != pic->output) {@@	if (out) {'
	# ---- pit.c
	'pit.c@@		return (u16)(c->count - t % c->count);@@		return (u16)(c->count - 1 - t % c->count);'
	'pit.c@@		return (u16)((c->count - (2 * t) % c->count) & ~1u);@@		return (u16)(c->count - t % c->count);'
	'pit.c@@		return c->mode != 0;@@		return c->mode != 1;'
	'pit.c@@	if (periodic(c->mode) && !c->gate)@@	if (0)'
	'pit.c@@		return t >= c->count;@@		return t > c->count;'
	'pit.c@@		return t % c->count != c->count - 1;@@		return t % c->count != 0;'
	'pit.c@@		return t % c->count < (c->count + 1) / 2;@@		return t % c->count <= (c->count + 1) / 2;'
	'pit.c@@		return t != c->count;@@		return t != c->count + 1;'
	'pit.c@@	return (v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10;@@	return v;'
	'pit.c@@		pit->irq_next_ns = tick_time(c->load_ns, c->count + 1ull);@@		pit->irq_next_ns = tick_time(c->load_ns, c->count);'
	'pit.c@@		if (pit->irq_period_ns < KHV_PIT_MIN_PERIOD_NS) {@@		if (0) {'
	'pit.c@@		pit->missed += behind;@@		pit->missed++;'
	'pit.c@@		pit->irq_next_ns += behind * pit->irq_period_ns;@@		pit->irq_next_ns = now;'
	'pit.c@@		pit->irq_next_ns = 0;@@		pit->irq_next_ns = now;'
	'pit.c@@	c->count = count ? count : (c->bcd ? 10000 : 65536);@@	c->count = count ? count : 65536;'
	'pit.c@@	if (c->mode == 1 || c->mode == 5) {@@	if (c->mode == 5) {'
	'pit.c@@			if (c->mode == 0) {@@			if (0) {'
	'pit.c@@	c->read_msb_next = c->rw == 2;@@	c->read_msb_next = false;'
	'pit.c@@			if (!(val & 0x20))@@			if (val & 0x20)'
	'pit.c@@	if (c->mode > 5)@@	if (c->mode > 6)'
	'pit.c@@	c->status = 0x40 | (val & 0x3f);@@	c->status = val & 0x3f;'
	'pit.c@@	if (c->latched && (c->rw != 3 || !c->read_msb_next))@@	if (c->latched)'
	'pit.c@@	if (c->latched)@@	if (0)'
	'pit.c@@	if (gate && !c->gate && (c->mode == 1 || c->mode == 5 || periodic(c->mode)) &&@@	if (gate && (c->mode == 1 || c->mode == 5) &&'
	'pit.c@@		       ((now / KHV_PIT_REFRESH_NS) & 1 ? 0x10 : 0) |@@		       0x10 |'
	'pit.c@@	pit->ch[0].gate = true;@@	pit->ch[0].gate = false;'
	# ---- save and restore
	'lapic.c@@		apic->timer_start_ns = now - elapsed;@@		apic->timer_start_ns = now - elapsed / 2;'
	'lapic.c@@			elapsed = (u64)(tmict - tmcct) * timer_tick_ns(apic);@@			elapsed = (u64)tmcct * timer_tick_ns(apic);'
	'lapic.c@@	if (s->regs[KHV_APIC_ID >> 2] != (x2 ? apic->id : apic->id << 24))@@	if (s->regs[KHV_APIC_ID >> 2] != (x2 ? apic->id : apic->id << 24) && 0)'
	'lapic.c@@			return (off & 0x70) ? ~0u : 0xffff0000u;	/* no vectors 0-15 */@@			return ~0u;'
	'lapic.c@@	} else if (s->tsc_deadline || tmcct > tmict) {@@	} else if (s->tsc_deadline) {'
	'lapic.c@@	s->regs[KHV_APIC_TMCCT >> 2] = khv_lapic_current_count(apic);@@	;'
	'lapic.c@@	if (((u32)irr & 0xf0) > (khv_lapic_ppr(apic) & 0xf0))@@	if (0)'
	'ioapic.c@@		if ((ioapic->redir[pin] & KHV_IOAPIC_LEVEL) && (ioapic->lines & (1u << pin)))@@		if (0)'
	'ioapic.c@@		if ((e & KHV_IOAPIC_REMOTE_IRR) && !(e & KHV_IOAPIC_LEVEL))@@		if (0)'
	'pic.c@@		c->isr = s[i].isr;@@		c->isr = 0;'
	'pic.c@@		    s[i].lowest > 7 || (s[i].elcr & ~pic->chip[i].elcr_writable))@@		    s[i].lowest > 7 || (s[i].elcr & ~pic->chip[i].elcr_writable & 0))'
	'pit.c@@	pit->irq_next_ns = s->irq0_in_ns ? now + s->irq0_in_ns : 0;@@	;'
	'pit.c@@		c->load_ns = d->elapsed_ns < now ? now - d->elapsed_ns : 0;@@		c->load_ns = now;'
	'pit.c@@		if (i < 2 && !(c->flags & KHV_PIT_CH_GATE))@@		if (0)'
)

. "$(dirname "$0")/../../scripts/mutants.sh"
mutants_main
