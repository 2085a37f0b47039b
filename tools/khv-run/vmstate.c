// SPDX-License-Identifier: GPL-2.0
/* The kernel's part of a VM's state in the snapshot stream (vmstate.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strbuf.h"
#include "vmstate.h"

#define VCPU_VERSION	1
#define VM_VERSION	1

enum {
	REC_CPUID = 1, REC_SREGS, REC_REGS, REC_XCRS, REC_XSAVE, REC_MSRS, REC_DEBUGREGS,
	REC_LAPIC, REC_MP_STATE, REC_EVENTS, REC_VCPU_MAX,
	REC_IRQCHIP = 1, REC_CLOCK, REC_VM_MAX,
};

struct msr_rec {
	uint32_t index;
	uint32_t pad;
	uint64_t value;
};

struct vcpu_state {
	struct khv_cpuid_entry cpuid[KHV_MAX_CPUID_ENTRIES];
	uint32_t n_cpuid;
	struct khv_sregs sregs;
	struct khv_regs regs;
	struct khv_xcrs xcrs;
	struct khv_xsave xsave;
	struct msr_rec msrs[KR_VMSTATE_MAX_MSRS];
	uint32_t n_msrs;
	struct khv_debugregs dregs;
	struct khv_lapic_state lapic;
	uint32_t mp_state;
	struct khv_vcpu_events events;
};

static void put_rec(struct kr_sbuf *b, uint32_t tag, const void *p, size_t n)
{
	kr_sbuf_u32(b, tag);
	kr_sbuf_u32(b, n);
	kr_sbuf_bytes(b, p, n);
}

int kr_vmstate_save_vcpu(struct khv_vcpu *v, const uint32_t *msrs, uint32_t n_msrs,
			 struct kr_sbuf *b, char *why, size_t len)
{
	struct vcpu_state *s = calloc(1, sizeof(*s));
	const char *what = "";
	int r;

	if (!s)
		return kr_fail(why, len, -ENOMEM, "out of memory");
	r = khv_vcpu_get_cpuid(v, s->cpuid, KHV_MAX_CPUID_ENTRIES, &s->n_cpuid);
	what = "KHV_GET_CPUID";
	if (!r) {
		r = khv_vcpu_get_sregs(v, &s->sregs);
		what = "KHV_GET_SREGS";
	}
	if (!r) {
		r = khv_vcpu_get_regs(v, &s->regs);
		what = "KHV_GET_REGS";
	}
	if (!r) {
		r = khv_vcpu_get_xcrs(v, &s->xcrs);
		what = "KHV_GET_XCRS";
	}
	if (!r) {
		r = khv_vcpu_get_xsave(v, &s->xsave);
		what = "KHV_GET_XSAVE";
	}
	if (!r) {
		r = khv_vcpu_get_debugregs(v, &s->dregs);
		what = "KHV_GET_DEBUGREGS";
	}
	if (!r) {
		r = khv_vcpu_get_lapic(v, &s->lapic);
		what = "KHV_GET_LAPIC";
	}
	if (!r) {
		r = khv_vcpu_get_mp_state(v, &s->mp_state);
		what = "KHV_GET_MP_STATE";
	}
	if (!r) {
		r = khv_vcpu_get_events(v, &s->events);
		what = "KHV_GET_VCPU_EVENTS";
	}
	/* The MSRs this vCPU has (kvmclock's and MCA's only with their CPUID). */
	for (uint32_t i = 0; !r && i < n_msrs && s->n_msrs < KR_VMSTATE_MAX_MSRS; i++) {
		struct msr_rec *m = &s->msrs[s->n_msrs];

		r = khv_vcpu_get_msr(v, msrs[i], &m->value);
		what = "KHV_GET_MSRS";
		if (r == -ENOENT) {
			r = 0;
			continue;
		}
		m->index = msrs[i];
		s->n_msrs++;
	}
	if (r) {
		free(s);
		return kr_fail(why, len, r, "%s: %s", what, khv_strerror(r));
	}
	kr_sbuf_begin(b, VCPU_VERSION);
	put_rec(b, REC_CPUID, s->cpuid, s->n_cpuid * sizeof(s->cpuid[0]));
	put_rec(b, REC_SREGS, &s->sregs, sizeof(s->sregs));
	put_rec(b, REC_REGS, &s->regs, sizeof(s->regs));
	put_rec(b, REC_XCRS, &s->xcrs, sizeof(s->xcrs));
	put_rec(b, REC_XSAVE, &s->xsave, sizeof(s->xsave));
	kr_sbuf_u32(b, REC_MSRS);
	kr_sbuf_u32(b, 4 + s->n_msrs * 16);
	kr_sbuf_u32(b, s->n_msrs);
	for (uint32_t i = 0; i < s->n_msrs; i++) {
		kr_sbuf_u32(b, s->msrs[i].index);
		kr_sbuf_u32(b, 0);
		kr_sbuf_u64(b, s->msrs[i].value);
	}
	put_rec(b, REC_DEBUGREGS, &s->dregs, sizeof(s->dregs));
	put_rec(b, REC_LAPIC, &s->lapic, sizeof(s->lapic));
	kr_sbuf_u32(b, REC_MP_STATE);
	kr_sbuf_u32(b, 4);
	kr_sbuf_u32(b, s->mp_state);
	put_rec(b, REC_EVENTS, &s->events, sizeof(s->events));
	free(s);
	return b->oom ? kr_fail(why, len, -ENOMEM, "out of memory") : 0;
}

/* A record's bytes into dst, whose size it must have exactly. */
static void get_fixed(struct kr_sget *g, const char *name, uint32_t rlen, void *dst, size_t n)
{
	if (rlen != n) {
		kr_sget_fail(g, "%s of %u bytes, %zu expected", name, rlen, n);
		return;
	}
	kr_sget_bytes(g, dst, n);
}

static void get_vcpu_rec(struct kr_sget *g, struct vcpu_state *s, uint32_t tag, uint32_t rlen)
{
	switch (tag) {
	case REC_CPUID:
		if (rlen % sizeof(s->cpuid[0]) || rlen > sizeof(s->cpuid)) {
			kr_sget_fail(g, "CPUID record of %u bytes", rlen);
			return;
		}
		s->n_cpuid = rlen / sizeof(s->cpuid[0]);
		kr_sget_bytes(g, s->cpuid, rlen);
		return;
	case REC_SREGS:
		get_fixed(g, "SREGS", rlen, &s->sregs, sizeof(s->sregs));
		return;
	case REC_REGS:
		get_fixed(g, "REGS", rlen, &s->regs, sizeof(s->regs));
		return;
	case REC_XCRS:
		get_fixed(g, "XCRS", rlen, &s->xcrs, sizeof(s->xcrs));
		return;
	case REC_XSAVE:
		get_fixed(g, "XSAVE", rlen, &s->xsave, sizeof(s->xsave));
		return;
	case REC_MSRS:
		s->n_msrs = kr_sget_u32(g);
		if (s->n_msrs > KR_VMSTATE_MAX_MSRS || rlen != 4 + s->n_msrs * 16) {
			kr_sget_fail(g, "MSRS record of %u bytes for %u MSRs", rlen, s->n_msrs);
			return;
		}
		for (uint32_t i = 0; i < s->n_msrs; i++) {
			s->msrs[i].index = kr_sget_u32(g);
			if (kr_sget_u32(g))
				kr_sget_fail(g, "MSR %#x: reserved bits set", s->msrs[i].index);
			s->msrs[i].value = kr_sget_u64(g);
		}
		return;
	case REC_DEBUGREGS:
		get_fixed(g, "DEBUGREGS", rlen, &s->dregs, sizeof(s->dregs));
		return;
	case REC_LAPIC:
		get_fixed(g, "LAPIC", rlen, &s->lapic, sizeof(s->lapic));
		return;
	case REC_MP_STATE:
		if (rlen != 4)
			kr_sget_fail(g, "MP_STATE record of %u bytes", rlen);
		else
			s->mp_state = kr_sget_u32(g);
		return;
	case REC_EVENTS:
		get_fixed(g, "EVENTS", rlen, &s->events, sizeof(s->events));
		return;
	}
	kr_sget_fail(g, "unknown record %u", tag);
}

/* Every record of a section, each once and all of them: 0 or -EPROTO. */
static int get_records(struct kr_sget *g, uint32_t version, unsigned int max,
		       void (*get)(struct kr_sget *, void *, uint32_t, uint32_t), void *s,
		       uint32_t required)
{
	uint32_t seen = 0;

	if (kr_sget_begin(g, version))
		return -EPROTO;
	while (!g->bad && g->off < g->len) {
		uint32_t tag = kr_sget_u32(g), rlen = kr_sget_u32(g);

		if (g->bad)
			break;
		if (!tag || tag >= max || tag >= 32)
			return kr_sget_fail(g, "unknown record %u", tag);
		if (seen & (1u << tag))
			return kr_sget_fail(g, "record %u twice", tag);
		if (rlen > g->len - g->off)
			return kr_sget_fail(g, "record %u of %u bytes: truncated", tag, rlen);
		seen |= 1u << tag;
		get(g, s, tag, rlen);
	}
	if (!g->bad && (seen & required) != required)
		return kr_sget_fail(g, "records missing (have %#x, need %#x)", seen, required);
	return kr_sget_done(g);
}

static void get_vcpu_cb(struct kr_sget *g, void *s, uint32_t tag, uint32_t rlen)
{
	get_vcpu_rec(g, s, tag, rlen);
}

/* The CPUID the new vCPU was given must be the saved one, entry for entry. */
static int check_cpuid(struct khv_vcpu *v, const struct vcpu_state *s, char *why, size_t len)
{
	struct khv_cpuid_entry *now = calloc(KHV_MAX_CPUID_ENTRIES, sizeof(*now));
	uint32_t n = 0;
	int r;

	if (!now)
		return kr_fail(why, len, -ENOMEM, "out of memory");
	r = khv_vcpu_get_cpuid(v, now, KHV_MAX_CPUID_ENTRIES, &n);
	if (r) {
		free(now);
		return kr_fail(why, len, r, "KHV_GET_CPUID: %s", khv_strerror(r));
	}
	for (uint32_t i = 0; i < n || i < s->n_cpuid; i++) {
		const struct khv_cpuid_entry *a = i < s->n_cpuid ? &s->cpuid[i] : NULL;
		const struct khv_cpuid_entry *b = i < n ? &now[i] : NULL;

		if (a && b && !memcmp(a, b, sizeof(*a)))
			continue;
		r = kr_fail(why, len, -EPROTO, "CPUID leaf %#x.%u differs from the snapshot's "
			 "(another host CPU, khv or khv-run option?)", (a ? a : b)->function,
			 (a ? a : b)->index);
		break;
	}
	free(now);
	return r;
}

int kr_vmstate_load_vcpu(struct khv_vcpu *v, const void *p, size_t n, char *why, size_t len)
{
	const uint32_t all = ((1u << REC_VCPU_MAX) - 1) & ~1u;
	struct vcpu_state *s = calloc(1, sizeof(*s));
	const char *what = "KHV_SET_SREGS";
	struct kr_sget g;
	int r;

	if (!s)
		return kr_fail(why, len, -ENOMEM, "out of memory");
	kr_sget_init(&g, p, n, "vCPU state");
	if (get_records(&g, VCPU_VERSION, REC_VCPU_MAX, get_vcpu_cb, s, all)) {
		free(s);
		return kr_fail(why, len, -EPROTO, "%s", g.why);
	}
	r = check_cpuid(v, s, why, len);
	if (r) {
		free(s);
		return r;
	}
	/* migration.rst's order: events last (RIP and RFLAGS first). */
	r = khv_vcpu_set_sregs(v, &s->sregs);
	if (!r) {
		r = khv_vcpu_set_regs(v, &s->regs);
		what = "KHV_SET_REGS";
	}
	if (!r) {
		r = khv_vcpu_set_xcrs(v, &s->xcrs);
		what = "KHV_SET_XCRS";
	}
	if (!r) {
		r = khv_vcpu_set_xsave(v, &s->xsave);
		what = "KHV_SET_XSAVE";
	}
	for (uint32_t i = 0; !r && i < s->n_msrs; i++) {
		r = khv_vcpu_set_msr(v, s->msrs[i].index, s->msrs[i].value);
		what = "KHV_SET_MSRS";
		if (r) {
			snprintf(why, len, "KHV_SET_MSRS of MSR %#x: %s", s->msrs[i].index,
				 khv_strerror(r));
			free(s);
			return r;
		}
	}
	if (!r) {
		r = khv_vcpu_set_debugregs(v, &s->dregs);
		what = "KHV_SET_DEBUGREGS";
	}
	if (!r) {
		r = khv_vcpu_set_lapic(v, &s->lapic);
		what = "KHV_SET_LAPIC";
	}
	if (!r) {
		r = khv_vcpu_set_mp_state(v, s->mp_state);
		what = "KHV_SET_MP_STATE";
	}
	if (!r) {
		r = khv_vcpu_set_events(v, &s->events);
		what = "KHV_SET_VCPU_EVENTS";
	}
	free(s);
	return r ? kr_fail(why, len, r, "%s: %s", what, khv_strerror(r)) : 0;
}

int kr_vmstate_save_vm(struct khv_vm *vm, struct kr_sbuf *b, char *why, size_t len)
{
	struct khv_irqchip_state chip;
	struct khv_clock_data clock = { .flags = KHV_CLOCK_REALTIME };
	int r = khv_vm_get_irqchip(vm, &chip);

	if (r)
		return kr_fail(why, len, r, "KHV_GET_IRQCHIP: %s", khv_strerror(r));
	kr_sbuf_begin(b, VM_VERSION);
	put_rec(b, REC_IRQCHIP, &chip, sizeof(chip));
	r = khv_vm_get_clock(vm, &clock);
	if (!r)
		put_rec(b, REC_CLOCK, &clock, sizeof(clock));
	else if (r != -ENODEV)
		return kr_fail(why, len, r, "KHV_GET_CLOCK: %s", khv_strerror(r));
	return b->oom ? kr_fail(why, len, -ENOMEM, "out of memory") : 0;
}

struct vm_state {
	struct khv_irqchip_state chip;
	struct khv_clock_data clock;
	bool have_clock;
};

static void get_vm_cb(struct kr_sget *g, void *p, uint32_t tag, uint32_t rlen)
{
	struct vm_state *s = p;

	if (tag == REC_IRQCHIP) {
		get_fixed(g, "IRQCHIP", rlen, &s->chip, sizeof(s->chip));
	} else {
		get_fixed(g, "CLOCK", rlen, &s->clock, sizeof(s->clock));
		s->have_clock = true;
	}
}

int kr_vmstate_load_vm(struct khv_vm *vm, const void *p, size_t n, bool realtime, char *why,
		       size_t len)
{
	struct vm_state s = { 0 };
	struct kr_sget g;
	int r;

	kr_sget_init(&g, p, n, "VM state");
	if (get_records(&g, VM_VERSION, REC_VM_MAX, get_vm_cb, &s, 1u << REC_IRQCHIP))
		return kr_fail(why, len, -EPROTO, "%s", g.why);
	r = khv_vm_set_irqchip(vm, &s.chip);
	if (r)
		return kr_fail(why, len, r, "KHV_SET_IRQCHIP: %s", khv_strerror(r));
	if (!s.have_clock)
		return 0;
	/* The saved flags said realtime is valid; whether it counts is the caller's. */
	if (!(s.clock.flags & KHV_CLOCK_REALTIME))
		realtime = false;
	s.clock.flags = realtime ? KHV_CLOCK_REALTIME : 0;
	s.clock.pad = 0;
	r = khv_vm_set_clock(vm, &s.clock);
	if (r == -ENODEV)
		return kr_fail(why, len, r, "the snapshot has kvmclock state, and this host's TSC "
			    "rate is unknown to khv");
	return r ? kr_fail(why, len, r, "KHV_SET_CLOCK: %s", khv_strerror(r)) : 0;
}
