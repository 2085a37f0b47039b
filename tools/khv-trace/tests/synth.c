// SPDX-License-Identifier: GPL-2.0
/* Synthetic traces (synth.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth.h"

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

void sy_init(struct synth *s, uint64_t start, uint64_t end)
{
	memset(s, 0, sizeof(*s));
	s->t.h.version = KTR_VERSION;
	s->t.h.flags = KTR_F_COMPLETE;
	snprintf(s->t.h.clock, sizeof(s->t.h.clock), "mono");
	s->t.h.start_ns = start;
	s->t.h.end_ns = end;
	s->t.h.start_real_ns = 1733400000000000000ll;	/* 2024-12-05 */
	s->t.h.ncpus = 4;
}

void sy_free(struct synth *s)
{
	ktr_trace_free(&s->t);
	memset(s, 0, sizeof(*s));
}

uint16_t sy_name(struct synth *s, uint32_t code, const char *name)
{
	struct ktr_header *h = &s->t.h;
	uint32_t i;

	for (i = 0; i < h->nnames; i++)
		if (s->t.names[i].code == code && !strcmp(s->t.names[i].name, name))
			return (uint16_t)i;
	if (h->nnames == s->names_cap) {
		s->names_cap = s->names_cap ? s->names_cap * 2 : 16;
		s->t.names = xrealloc(s->t.names, s->names_cap * sizeof(*s->t.names));
	}
	memset(&s->t.names[h->nnames], 0, sizeof(s->t.names[0]));
	s->t.names[h->nnames].code = code;
	snprintf(s->t.names[h->nnames].name, KTR_NAME_LEN, "%s", name);
	return (uint16_t)h->nnames++;
}

void sy_proc(struct synth *s, uint32_t pid, const char *comm)
{
	struct ktr_header *h = &s->t.h;

	if (h->nprocs == s->procs_cap) {
		s->procs_cap = s->procs_cap ? s->procs_cap * 2 : 4;
		s->t.procs = xrealloc(s->t.procs, s->procs_cap * sizeof(*s->t.procs));
	}
	memset(&s->t.procs[h->nprocs], 0, sizeof(s->t.procs[0]));
	s->t.procs[h->nprocs].pid = pid;
	snprintf(s->t.procs[h->nprocs].comm, KTR_COMM_LEN, "%s", comm);
	h->nprocs++;
}

struct ktr_rec *sy_add(struct synth *s, uint8_t type, uint32_t pid, uint32_t vcpu, uint64_t t)
{
	struct ktr_rec *r;

	if (s->t.h.nrec == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->t.rec = xrealloc(s->t.rec, s->cap * sizeof(*s->t.rec));
	}
	r = &s->t.rec[s->t.h.nrec++];
	memset(r, 0, sizeof(*r));
	r->type = type;
	r->pid = pid;
	r->tid = pid + vcpu + 1;
	r->vcpu = vcpu;
	r->ts = s->t.h.start_ns + t;
	r->name = KTR_NO_NAME;
	r->cpu = s->cpu;
	return r;
}

void sy_entry(struct synth *s, uint32_t pid, uint32_t vcpu, uint64_t t)
{
	sy_add(s, KTR_ENTRY, pid, vcpu, t)->rip = 0xfff0 + t % 64;
}

void sy_exit(struct synth *s, uint32_t pid, uint32_t vcpu, uint64_t t, uint16_t name, int32_t ret)
{
	struct ktr_rec *r = sy_add(s, KTR_EXIT, pid, vcpu, t);

	r->name = name;
	r->code = s->t.names[name].code;
	r->ret = ret;
	r->rip = 0xfff0 + t % 64;
	r->info1 = t % 7;
}

void sy_uexit(struct synth *s, uint32_t pid, uint32_t vcpu, uint64_t t, uint32_t reason,
	      int32_t ret)
{
	struct ktr_rec *r = sy_add(s, KTR_UEXIT, pid, vcpu, t);

	r->code = reason;
	r->ret = ret;
}

void sy_halt(struct synth *s, uint32_t pid, uint32_t vcpu, uint64_t t, int wake)
{
	struct ktr_rec *r = sy_add(s, KTR_HALT, pid, vcpu, t);

	r->code = wake ? 0 : 1;
	r->flags = wake ? KTR_HALT_WAKE : 0;
}

void sy_lost(struct synth *s, uint16_t cpu, uint64_t t, uint64_t until, uint64_t count)
{
	struct ktr_rec *r = sy_add(s, KTR_LOST, 0, 0, t);

	r->tid = 0;
	r->cpu = cpu;
	r->info1 = count;
	r->info2 = s->t.h.start_ns + until;
}

/* xorshift64*: the same numbers everywhere. */
static uint64_t rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ull;
}

/* Uniform in [lo, hi]. */
static uint64_t between(uint64_t *x, uint64_t lo, uint64_t hi)
{
	return lo + rnd(x) % (hi - lo + 1);
}

void sy_workload(struct synth *s, uint32_t pid, uint32_t nvcpus, double seconds, double rate,
		 uint64_t seed)
{
	uint16_t msr = sy_name(s, 0x7c, "svm_msr"), io = sy_name(s, 0x7b, "svm_ioio");
	uint16_t npf = sy_name(s, 0x400, "svm_npf"), intr = sy_name(s, 0x60, "svm_intr");
	uint16_t hlt = sy_name(s, 0x78, "svm_hlt"), cpuid = sy_name(s, 0x72, "svm_cpuid");
	uint16_t vmmcall = sy_name(s, 0x81, "svm_vmmcall");
	uint64_t end = (uint64_t)(seconds * 1e9), mean_gap = (uint64_t)(1e9 / rate);
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	uint64_t first = s->t.h.nrec, i, kept;
	uint32_t v;

	s->t.h.end_ns = s->t.h.start_ns + end;
	for (v = 0; v < nvcpus; v++) {
		uint64_t t = between(&x, 1, 50) * SY_US;

		s->cpu = (uint16_t)(v % 4);
		/* The first vCPU starts in the middle of an exit; the others in the guest. */
		if (v == 0)
			sy_entry(s, pid, v, t);
		while (t < end) {
			uint64_t guest = between(&x, mean_gap / 4, mean_gap * 7 / 4);
			uint64_t roll = rnd(&x) % 100, h;
			/* A burst of port I/O in the middle third of the recording. */
			bool burst = t > end / 3 && t < 2 * end / 3;

			t += guest;
			if (t >= end)
				break;
			if (roll < (burst ? 20u : 40u)) {
				sy_exit(s, pid, v, t, msr, 1);
				t += between(&x, 2, 40) * SY_US;
			} else if (roll < (burst ? 75u : 55u)) {
				sy_exit(s, pid, v, t, io, 0);
				sy_uexit(s, pid, v, t + 2 * SY_US, 1, 0);
				t += between(&x, 60, 900) * SY_US;
			} else if (roll < (burst ? 82u : 70u)) {
				sy_exit(s, pid, v, t, npf, 1);
				t += between(&x, 5, 120) * SY_US;
			} else if (roll < (burst ? 92u : 85u)) {
				sy_exit(s, pid, v, t, intr, 1);
				t += between(&x, 1, 8) * SY_US;
			} else if (roll < (burst ? 96u : 93u)) {
				sy_exit(s, pid, v, t, hlt, 1);
				h = between(&x, 100, 3000) * SY_US;
				sy_halt(s, pid, v, t + 3 * SY_US, 0);
				sy_halt(s, pid, v, t + 3 * SY_US + h, 1);
				t += h + 6 * SY_US;
			} else if (roll < 98) {
				sy_exit(s, pid, v, t, cpuid, 1);
				t += between(&x, 1, 3) * SY_US;
			} else {
				sy_exit(s, pid, v, t, vmmcall, 0);
				sy_uexit(s, pid, v, t + 2 * SY_US, 8, 0);
				t += between(&x, 20, 200) * SY_US;
			}
			if (t >= end)
				break;
			sy_entry(s, pid, v, t);
		}
	}
	s->cpu = 0;
	/* What a handler left past the end (a userspace exit, a wake): not recorded. */
	for (i = kept = first; i < s->t.h.nrec; i++)
		if (s->t.rec[i].ts <= s->t.h.end_ns)
			s->t.rec[kept++] = s->t.rec[i];
	s->t.h.nrec = kept;
}

void sy_shuffle(struct synth *s, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 7, i;

	for (i = s->t.h.nrec; i > 1; i--) {
		uint64_t j = rnd(&x) % i;
		struct ktr_rec tmp = s->t.rec[i - 1];

		s->t.rec[i - 1] = s->t.rec[j];
		s->t.rec[j] = tmp;
	}
}
