// SPDX-License-Identifier: GPL-2.0
/*
 * The analysis (analyze.c) on sequences written by hand, each with its
 * answers worked out in the comments: latencies, shares, rates, the
 * percentiles, the timeline's columns; and the edges: a trace that starts
 * in an exit or in the guest, a vCPU with no entry, lost events, impossible
 * orders, one vCPU, no events, no time, records in any order.
 */
#include <stdlib.h>
#include <string.h>

#include "../analyze.h"
#include "synth.h"
#include "t.h"

#define US	SY_US
#define P	100	/* the process of most tests */

static struct ktr_reason *reason(struct ktr_analysis *a, const char *name)
{
	uint32_t i;

	for (i = 0; i < a->nreasons; i++)
		if (!strcmp(a->reasons[i].name, name))
			return &a->reasons[i];
	return NULL;
}

static struct ktr_vcpu *vcpu(struct ktr_analysis *a, uint32_t pid, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < a->nvcpus; i++)
		if (a->vcpus[i].pid == pid && a->vcpus[i].vcpu == id)
			return &a->vcpus[i];
	return NULL;
}

/* Every vCPU's states add up to the recording, and each column to one. */
static void check_sums(const struct ktr_analysis *a)
{
	uint32_t i, c, s;

	for (i = 0; i < a->nvcpus; i++) {
		const struct ktr_vcpu *v = &a->vcpus[i];
		uint64_t sum = 0;

		for (s = 0; s < KTR_NSTATES; s++)
			sum += v->t[s];
		CHECK_EQ(sum, a->duration_ns);
		for (c = 0; c < a->ncols; c++) {
			double f = 0;

			for (s = 0; s < KTR_NSTATES; s++)
				f += v->col[c * KTR_NSTATES + s];
			CHECK_NEAR(f, 1.0, 1e-4);
		}
	}
	CHECK_EQ(a->timed + a->untimed, a->exits);
}

/*
 * One vCPU over 1000 us, the first event an entry (its exit was before the
 * recording):
 *   100 entry          [0,100) unknown
 *   200 exit msr       guest 100
 *   210 entry          msr 10 us, kernel; khv 10
 *   300 exit io ret 0  guest 90
 *   302 userspace      khv 2
 *   352 entry          io 52 us, user; user 50
 *   400 exit hlt       guest 48
 *   403 halt sleep     khv 3
 *   603 halt wake      halted 200
 *   606 entry          hlt 206 us, kernel, 200 of it halted; khv 3
 *   700 exit msr       guest 94
 *   720 entry          msr 20 us; khv 20
 *   900 exit msr       guest 180; then khv 100 to the end, not timed
 * guest 512, khv 138, user 50, halted 200, unknown 100.
 */
static void basic(struct synth *s)
{
	uint16_t msr, io, hlt;

	sy_init(s, SY_START, SY_START + 1000 * US);
	msr = sy_name(s, 0x7c, "svm_msr");
	io = sy_name(s, 0x7b, "svm_ioio");
	hlt = sy_name(s, 0x78, "svm_hlt");
	sy_proc(s, P, "khv-run");
	s->t.h.pid = P;
	sy_entry(s, P, 0, 100 * US);
	sy_exit(s, P, 0, 200 * US, msr, 1);
	sy_entry(s, P, 0, 210 * US);
	sy_exit(s, P, 0, 300 * US, io, 0);
	sy_uexit(s, P, 0, 302 * US, 1, 0);
	sy_entry(s, P, 0, 352 * US);
	sy_exit(s, P, 0, 400 * US, hlt, 1);
	sy_halt(s, P, 0, 403 * US, 0);
	sy_halt(s, P, 0, 603 * US, 1);
	sy_entry(s, P, 0, 606 * US);
	sy_exit(s, P, 0, 700 * US, msr, 1);
	sy_entry(s, P, 0, 720 * US);
	sy_exit(s, P, 0, 900 * US, msr, 1);
}

KTR_TEST(analyze_basic)
{
	struct ktr_analyze_opts o = { .ncols = 10, .target_bins = 100 };
	struct ktr_analysis a;
	struct ktr_reason *r;
	struct ktr_vcpu *v;
	struct synth s;

	basic(&s);
	CHECK_EQ(ktr_analyze(&s.t, &o, &a), 0);
	CHECK_EQ(a.duration_ns, 1000 * US);
	CHECK_EQ(a.nvcpus, 1);
	CHECK_EQ(a.events, 13);
	CHECK_EQ(a.exits, 5);
	CHECK_EQ(a.timed, 4);
	CHECK_EQ(a.untimed, 1);
	CHECK_EQ(a.untimed_end, 1);
	CHECK_EQ(a.untimed_start, 1);
	CHECK_EQ(a.untimed_lost, 0);
	CHECK_EQ(a.anomalies, 0);
	CHECK_EQ(a.uexit_reasons[1], 1);

	/* Reasons by count: msr (3), then hlt and io (1 each) by name. */
	CHECK_EQ(a.nreasons, 3);
	CHECK_STR(a.reasons[0].name, "svm_msr");
	CHECK_STR(a.reasons[1].name, "svm_hlt");
	CHECK_STR(a.reasons[2].name, "svm_ioio");
	r = reason(&a, "svm_msr");
	CHECK_EQ(r->count, 3);
	CHECK_EQ(r->untimed, 1);
	CHECK_EQ(r->kern.n, 2);
	CHECK_EQ(r->user.n, 0);
	CHECK_EQ(r->kern.v[0], 10 * US);
	CHECK_EQ(r->kern.v[1], 20 * US);
	CHECK_EQ(ktr_pct(&r->all, 50), 10 * US);
	CHECK_EQ(ktr_pct(&r->all, 90), 20 * US);
	CHECK_EQ(ktr_pct(&r->all, 99), 20 * US);
	CHECK_EQ(r->all.sum, 30 * US);
	r = reason(&a, "svm_ioio");
	CHECK_EQ(r->user.n, 1);
	CHECK_EQ(r->kern.n, 0);
	CHECK_EQ(r->user.v[0], 52 * US);
	r = reason(&a, "svm_hlt");
	CHECK_EQ(r->kern.n, 1);
	CHECK_EQ(r->kern.v[0], 206 * US);
	CHECK_EQ(r->halt_ns, 200 * US);

	v = vcpu(&a, P, 0);
	CHECK(v != NULL);
	CHECK_EQ(v->t[KTR_ST_GUEST], 512 * US);
	CHECK_EQ(v->t[KTR_ST_KHV], 138 * US);
	CHECK_EQ(v->t[KTR_ST_USER], 50 * US);
	CHECK_EQ(v->t[KTR_ST_HALT], 200 * US);
	CHECK_EQ(v->t[KTR_ST_UNKNOWN], 100 * US);
	CHECK_EQ(v->entries, 5);
	CHECK_EQ(v->exits, 5);
	CHECK_EQ(v->halts, 1);

	/* 10-us bins (1000 us / 100): the exits at 200, 300, 400, 700, 900 us. */
	CHECK_EQ(a.bin_ns, 10 * US);
	CHECK_EQ(a.nbins, 100);
	CHECK_EQ(ktr_bin_width(&a, 99), 10 * US);
	CHECK_EQ(reason(&a, "svm_msr")->bins[20], 1);
	CHECK_EQ(reason(&a, "svm_msr")->bins[70], 1);
	CHECK_EQ(reason(&a, "svm_msr")->bins[90], 1);
	CHECK_EQ(reason(&a, "svm_ioio")->bins[30], 1);
	CHECK_EQ(reason(&a, "svm_hlt")->bins[40], 1);

	/* Ten 100-us columns. */
	CHECK_NEAR(v->col[0 * KTR_NSTATES + KTR_ST_UNKNOWN], 1.0, 1e-6);
	CHECK_NEAR(v->col[1 * KTR_NSTATES + KTR_ST_GUEST], 1.0, 1e-6);
	CHECK_NEAR(v->col[2 * KTR_NSTATES + KTR_ST_GUEST], 0.9, 1e-6);
	CHECK_NEAR(v->col[2 * KTR_NSTATES + KTR_ST_KHV], 0.1, 1e-6);
	CHECK_NEAR(v->col[3 * KTR_NSTATES + KTR_ST_GUEST], 0.48, 1e-6);
	CHECK_NEAR(v->col[3 * KTR_NSTATES + KTR_ST_KHV], 0.02, 1e-6);
	CHECK_NEAR(v->col[3 * KTR_NSTATES + KTR_ST_USER], 0.5, 1e-6);
	CHECK_NEAR(v->col[4 * KTR_NSTATES + KTR_ST_KHV], 0.03, 1e-6);
	CHECK_NEAR(v->col[4 * KTR_NSTATES + KTR_ST_HALT], 0.97, 1e-6);
	CHECK_NEAR(v->col[5 * KTR_NSTATES + KTR_ST_HALT], 1.0, 1e-6);
	CHECK_NEAR(v->col[6 * KTR_NSTATES + KTR_ST_HALT], 0.03, 1e-6);
	CHECK_NEAR(v->col[6 * KTR_NSTATES + KTR_ST_GUEST], 0.94, 1e-6);
	CHECK_NEAR(v->col[7 * KTR_NSTATES + KTR_ST_KHV], 0.2, 1e-6);
	CHECK_NEAR(v->col[8 * KTR_NSTATES + KTR_ST_GUEST], 1.0, 1e-6);
	CHECK_NEAR(v->col[9 * KTR_NSTATES + KTR_ST_KHV], 1.0, 1e-6);
	check_sums(&a);
	ktr_analysis_free(&a);
	sy_free(&s);
}

/* The same records in any order: the same answers (sorted by time). */
KTR_TEST(analyze_order)
{
	struct ktr_analyze_opts o = { .ncols = 10 };
	struct ktr_analysis a, b;
	struct synth s;
	uint32_t k;

	basic(&s);
	CHECK_EQ(ktr_analyze(&s.t, &o, &a), 0);
	sy_shuffle(&s, 3);
	CHECK_EQ(ktr_analyze(&s.t, &o, &b), 0);
	CHECK_EQ(memcmp(a.vcpus[0].t, b.vcpus[0].t, sizeof(a.vcpus[0].t)), 0);
	CHECK_EQ(memcmp(a.vcpus[0].col, b.vcpus[0].col, 10 * KTR_NSTATES * sizeof(float)), 0);
	CHECK_EQ(a.nreasons, b.nreasons);
	for (k = 0; k < a.nreasons && k < b.nreasons; k++) {
		CHECK_STR(a.reasons[k].name, b.reasons[k].name);
		CHECK_EQ(a.reasons[k].all.n, b.reasons[k].all.n);
		CHECK_EQ(a.reasons[k].all.sum, b.reasons[k].all.sum);
	}
	ktr_analysis_free(&a);
	ktr_analysis_free(&b);
	sy_free(&s);

	/* A generated workload, shuffled whole. */
	sy_init(&s, SY_START, SY_START);
	sy_workload(&s, P, 3, 0.2, 3000, 11);
	CHECK_EQ(ktr_analyze(&s.t, NULL, &a), 0);
	sy_shuffle(&s, 5);
	CHECK_EQ(ktr_analyze(&s.t, NULL, &b), 0);
	CHECK_EQ(a.exits, b.exits);
	CHECK_EQ(a.timed, b.timed);
	CHECK(a.exits > 1000);
	CHECK_EQ(a.anomalies, 0);
	CHECK_EQ(b.anomalies, 0);
	for (k = 0; k < a.nvcpus; k++)
		CHECK_EQ(memcmp(a.vcpus[k].t, b.vcpus[k].t, sizeof(a.vcpus[k].t)), 0);
	check_sums(&a);
	check_sums(&b);
	ktr_analysis_free(&a);
	ktr_analysis_free(&b);
	sy_free(&s);
}

/*
 * Several vCPUs and processes, 1000 us:
 *   100/vcpu 1: exit at 50 (so in the guest since the start), entry at 60
 *     (10 us), exit at 500 to userspace, userspace at 505, then nothing:
 *     guest 50 + 440, khv 10 + 5, user 495; the exit at 500 not timed.
 *   200/vcpu 0: a wake at 500 (so halted since the start), entry at 505:
 *     halted 500, khv 5, guest 495.
 *   300/vcpu 0: KHV_RUN returns at 100 without entering (no entry at all):
 *     unknown 100, user 900.
 */
KTR_TEST(analyze_vcpus)
{
	struct ktr_analysis a;
	struct ktr_vcpu *v;
	struct synth s;
	uint16_t msr, io;

	sy_init(&s, SY_START, SY_START + 1000 * US);
	msr = sy_name(&s, 0x7c, "svm_msr");
	io = sy_name(&s, 0x7b, "svm_ioio");
	sy_exit(&s, 100, 1, 50 * US, msr, 1);
	sy_entry(&s, 100, 1, 60 * US);
	sy_exit(&s, 100, 1, 500 * US, io, 0);
	sy_uexit(&s, 100, 1, 505 * US, 1, 0);
	sy_halt(&s, 200, 0, 500 * US, 1);
	sy_entry(&s, 200, 0, 505 * US);
	sy_uexit(&s, 300, 0, 100 * US, 7, -4);
	CHECK_EQ(ktr_analyze(&s.t, NULL, &a), 0);
	CHECK_EQ(a.nvcpus, 3);
	CHECK_EQ(a.vcpus[0].pid, 100);
	CHECK_EQ(a.vcpus[1].pid, 200);
	CHECK_EQ(a.vcpus[2].pid, 300);

	v = vcpu(&a, 100, 1);
	CHECK_EQ(v->t[KTR_ST_GUEST], 490 * US);
	CHECK_EQ(v->t[KTR_ST_KHV], 15 * US);
	CHECK_EQ(v->t[KTR_ST_USER], 495 * US);
	CHECK_EQ(v->t[KTR_ST_UNKNOWN], 0);
	v = vcpu(&a, 200, 0);
	CHECK_EQ(v->t[KTR_ST_HALT], 500 * US);
	CHECK_EQ(v->t[KTR_ST_KHV], 5 * US);
	CHECK_EQ(v->t[KTR_ST_GUEST], 495 * US);
	v = vcpu(&a, 300, 0);
	CHECK_EQ(v->t[KTR_ST_UNKNOWN], 100 * US);
	CHECK_EQ(v->t[KTR_ST_USER], 900 * US);
	CHECK_EQ(v->exits, 0);
	CHECK_EQ(v->entries, 0);
	CHECK_EQ(a.uexit_reasons[7], 1);

	CHECK_EQ(a.exits, 2);
	CHECK_EQ(a.timed, 1);
	CHECK_EQ(a.untimed_end, 1);
	CHECK_EQ(reason(&a, "svm_msr")->kern.v[0], 10 * US);
	CHECK_EQ(reason(&a, "svm_ioio")->untimed, 1);
	CHECK_EQ(a.untimed_start, 0);	/* no vCPU's first event is an entry */
	check_sums(&a);
	ktr_analysis_free(&a);
	sy_free(&s);
}

/*
 * Lost events on CPU 1 between 250 and 300 us (5 of them).  Every vCPU is
 * in doubt from 250 to its first event after 300:
 *   vcpu 0: entry 10, exit 100, entry 110 (10 us), exit 200, entry 400
 *     (not timed: the gap), exit 500, entry 520 (20 us); unknown [0,10)
 *     and [200,400), khv 10 + 20, guest 90 + 90 + 100 + 480.
 *   vcpu 1, seen first at 260, inside the gap: exit 260 (not timed),
 *     entry 280, exit 350 (the first event after the gap: timed), entry
 *     360 (10 us); unknown [0,350), khv 10, guest 640.
 */
KTR_TEST(analyze_lost)
{
	struct ktr_analysis a;
	struct ktr_vcpu *v;
	struct ktr_reason *r;
	struct synth s;
	uint16_t msr;

	sy_init(&s, SY_START, SY_START + 1000 * US);
	msr = sy_name(&s, 0x7c, "svm_msr");
	sy_entry(&s, P, 0, 10 * US);
	sy_exit(&s, P, 0, 100 * US, msr, 1);
	sy_entry(&s, P, 0, 110 * US);
	sy_exit(&s, P, 0, 200 * US, msr, 1);
	sy_lost(&s, 1, 250 * US, 300 * US, 5);
	sy_entry(&s, P, 0, 400 * US);
	sy_exit(&s, P, 0, 500 * US, msr, 1);
	sy_entry(&s, P, 0, 520 * US);
	sy_exit(&s, P, 1, 260 * US, msr, 1);
	sy_entry(&s, P, 1, 280 * US);
	sy_exit(&s, P, 1, 350 * US, msr, 1);
	sy_entry(&s, P, 1, 360 * US);
	CHECK_EQ(ktr_analyze(&s.t, NULL, &a), 0);
	CHECK_EQ(a.lost_markers, 1);
	CHECK_EQ(a.lost_known, 5);
	CHECK(!a.lost_unknown);
	CHECK_EQ(a.events, 11);

	v = vcpu(&a, P, 0);
	CHECK_EQ(v->t[KTR_ST_UNKNOWN], 210 * US);
	CHECK_EQ(v->t[KTR_ST_KHV], 30 * US);
	CHECK_EQ(v->t[KTR_ST_GUEST], 760 * US);
	v = vcpu(&a, P, 1);
	CHECK_EQ(v->t[KTR_ST_UNKNOWN], 350 * US);
	CHECK_EQ(v->t[KTR_ST_KHV], 10 * US);
	CHECK_EQ(v->t[KTR_ST_GUEST], 640 * US);

	r = reason(&a, "svm_msr");
	CHECK_EQ(r->count, 5);
	CHECK_EQ(r->all.n, 3);
	CHECK_EQ(r->untimed, 2);
	CHECK_EQ(r->all.v[0], 10 * US);
	CHECK_EQ(r->all.v[1], 10 * US);
	CHECK_EQ(r->all.v[2], 20 * US);
	CHECK_EQ(a.untimed_lost, 2);
	check_sums(&a);
	ktr_analysis_free(&a);

	/* A loss of unknown size. */
	s.t.rec[4].info1 = KTR_LOST_UNKNOWN;
	CHECK_EQ(ktr_analyze(&s.t, NULL, &a), 0);
	CHECK(a.lost_unknown);
	CHECK_EQ(a.lost_known, 0);
	ktr_analysis_free(&a);
	sy_free(&s);
}

/*
 * Orders that only lost events explain, without a marker:
 *   entry 10, entry 50: the exit between is missing: [10,50) unknown.
 *   exit 60: guest [50,60).  exit 70: the entry between is missing: the
 *   exit at 60 is not timed, [60,70) unknown.  entry 80: 10 us.
 *   wake 90 without a sleep: [80,90) unknown.  userspace 95: khv 5.
 *   sleep 96 from userspace (KHV_RUN called again, vCPU halted): user 1.
 *   wake 100: halted 4.  Then khv to 1000.
 */
KTR_TEST(analyze_anomalies)
{
	struct ktr_analysis a;
	struct ktr_vcpu *v;
	struct synth s;
	uint16_t msr;

	sy_init(&s, SY_START, SY_START + 1000 * US);
	msr = sy_name(&s, 0x7c, "svm_msr");
	sy_entry(&s, P, 0, 10 * US);
	sy_entry(&s, P, 0, 50 * US);
	sy_exit(&s, P, 0, 60 * US, msr, 1);
	sy_exit(&s, P, 0, 70 * US, msr, 1);
	sy_entry(&s, P, 0, 80 * US);
	sy_halt(&s, P, 0, 90 * US, 1);
	sy_uexit(&s, P, 0, 95 * US, 7, -4);
	sy_halt(&s, P, 0, 96 * US, 0);
	sy_halt(&s, P, 0, 100 * US, 1);
	CHECK_EQ(ktr_analyze(&s.t, NULL, &a), 0);
	CHECK_EQ(a.anomalies, 3);
	CHECK_EQ(a.exits, 2);
	CHECK_EQ(a.timed, 1);
	CHECK_EQ(a.untimed_lost, 1);
	CHECK_EQ(reason(&a, "svm_msr")->all.v[0], 10 * US);
	v = vcpu(&a, P, 0);
	CHECK_EQ(v->t[KTR_ST_UNKNOWN], (10 + 40 + 10 + 10) * US);
	CHECK_EQ(v->t[KTR_ST_GUEST], 10 * US);
	CHECK_EQ(v->t[KTR_ST_KHV], (10 + 5 + 900) * US);
	CHECK_EQ(v->t[KTR_ST_USER], 1 * US);
	CHECK_EQ(v->t[KTR_ST_HALT], 4 * US);
	check_sums(&a);
	ktr_analysis_free(&a);
	sy_free(&s);
}

/* khv_exit with the handler's time: the exit happened handle_ns before it. */
KTR_TEST(analyze_handle_ns)
{
	struct ktr_analysis a;
	struct ktr_vcpu *v;
	struct synth s;
	uint16_t msr;

	sy_init(&s, SY_START, SY_START + 100 * US);
	s.t.h.flags |= KTR_F_HANDLE_NS;
	msr = sy_name(&s, 0x7c, "svm_msr");
	sy_entry(&s, P, 0, 0);
	sy_exit(&s, P, 0, 50 * US, msr, 1);
	s.t.rec[1].handle_ns = 5 * US;
	sy_entry(&s, P, 0, 60 * US);
	CHECK_EQ(ktr_analyze(&s.t, NULL, &a), 0);
	v = vcpu(&a, P, 0);
	CHECK_EQ(v->t[KTR_ST_GUEST], (45 + 40) * US);
	CHECK_EQ(v->t[KTR_ST_KHV], 15 * US);
	CHECK_EQ(reason(&a, "svm_msr")->all.v[0], 15 * US);
	check_sums(&a);
	ktr_analysis_free(&a);
	sy_free(&s);
}

/* One vCPU, the percentiles of 100 exits taking 1..100 us (nearest rank). */
KTR_TEST(analyze_percentiles)
{
	struct ktr_analysis a;
	struct ktr_reason *r;
	struct synth s;
	uint16_t msr;
	uint64_t t = 0, i;

	sy_init(&s, SY_START, SY_START + 20 * SY_MS);
	msr = sy_name(&s, 0x7c, "svm_msr");
	/* Out of order on purpose: 37 is coprime with 100. */
	for (i = 0; i < 100; i++) {
		uint64_t lat = ((i * 37) % 100 + 1) * US;

		sy_entry(&s, P, 0, t);
		sy_exit(&s, P, 0, t + 50 * US, msr, i % 4 ? 1 : 0);
		t += 50 * US + lat;
	}
	sy_entry(&s, P, 0, t);
	CHECK_EQ(ktr_analyze(&s.t, NULL, &a), 0);
	r = reason(&a, "svm_msr");
	CHECK_EQ(r->all.n, 100);
	CHECK_EQ(r->kern.n, 75);
	CHECK_EQ(r->user.n, 25);
	CHECK_EQ(ktr_pct(&r->all, 50), 50 * US);
	CHECK_EQ(ktr_pct(&r->all, 90), 90 * US);
	CHECK_EQ(ktr_pct(&r->all, 99), 99 * US);
	CHECK_EQ(ktr_pct(&r->all, 100), 100 * US);
	CHECK_EQ(ktr_pct(&r->all, 0.1), 1 * US);
	CHECK_EQ(r->all.sum, 5050 * US);
	/* The user way: i = 0, 4, ..., 96, latencies (37 i mod 100) + 1. */
	CHECK_EQ(r->user.v[0], 1 * US);
	CHECK_EQ(ktr_pct(&r->user, 100), 97 * US);
	/* Rates: 100 exits in 20 ms, bins of 200 us. */
	CHECK_EQ(a.bin_ns, 200 * US);
	CHECK_EQ(a.nbins, 100);
	check_sums(&a);
	ktr_analysis_free(&a);
	sy_free(&s);

	/* No samples: 0. */
	{
		struct ktr_samples none = { 0 };

		CHECK_EQ(ktr_pct(&none, 50), 0);
	}
}

/* Rate bins: 1, 2, 5 steps, the last bin runs to the end. */
KTR_TEST(analyze_bins)
{
	struct ktr_analysis a;
	struct synth s;
	uint16_t msr;

	sy_init(&s, SY_START, SY_START + 1050 * SY_MS);
	msr = sy_name(&s, 0x7c, "svm_msr");
	sy_exit(&s, P, 0, 1049 * SY_MS, msr, 1);
	sy_exit(&s, P, 1, 1020 * SY_MS, msr, 1);
	sy_exit(&s, P, 2, 1019 * SY_MS, msr, 1);
	CHECK_EQ(ktr_analyze(&s.t, NULL, &a), 0);
	CHECK_EQ(a.bin_ns, 20 * SY_MS);
	CHECK_EQ(a.nbins, 52);
	CHECK_EQ(ktr_bin_width(&a, 0), 20 * SY_MS);
	CHECK_EQ(ktr_bin_width(&a, 51), 30 * SY_MS);
	CHECK_EQ(a.reasons[0].bins[51], 2);
	CHECK_EQ(a.reasons[0].bins[50], 1);
	CHECK_EQ(a.untimed_end, 3);
	check_sums(&a);
	ktr_analysis_free(&a);
	sy_free(&s);

	/* Shorter than a microsecond: one bin, the whole recording. */
	sy_init(&s, SY_START, SY_START + 700);
	CHECK_EQ(ktr_analyze(&s.t, NULL, &a), 0);
	CHECK_EQ(a.nbins, 1);
	CHECK_EQ(a.bin_ns, 700);
	CHECK_EQ(ktr_bin_width(&a, 0), 700);
	ktr_analysis_free(&a);
	sy_free(&s);
}

/* No events; no time; events outside the recording. */
KTR_TEST(analyze_empty)
{
	struct ktr_analysis a;
	struct ktr_vcpu *v;
	struct synth s;
	uint16_t msr;

	sy_init(&s, SY_START, SY_START + 5 * SY_MS);
	CHECK_EQ(ktr_analyze(&s.t, NULL, &a), 0);
	CHECK_EQ(a.nvcpus, 0);
	CHECK_EQ(a.nreasons, 0);
	CHECK_EQ(a.exits, 0);
	CHECK_EQ(a.events, 0);
	CHECK_EQ(a.ncols, 1000);
	ktr_analysis_free(&a);
	sy_free(&s);

	sy_init(&s, SY_START, SY_START);
	msr = sy_name(&s, 0x7c, "svm_msr");
	sy_entry(&s, P, 0, 0);
	sy_exit(&s, P, 0, 0, msr, 1);
	CHECK_EQ(ktr_analyze(&s.t, NULL, &a), 0);
	CHECK_EQ(a.duration_ns, 0);
	CHECK_EQ(a.ncols, 0);
	CHECK_EQ(a.nbins, 1);
	CHECK_EQ(a.exits, 1);
	CHECK_EQ(a.nvcpus, 1);
	check_sums(&a);
	ktr_analysis_free(&a);
	sy_free(&s);

	/* Before the start and after the end: moved to the edges, counted. */
	sy_init(&s, SY_START, SY_START + 100 * US);
	msr = sy_name(&s, 0x7c, "svm_msr");
	sy_entry(&s, P, 0, 0);
	s.t.rec[0].ts = SY_START - 5 * US;
	sy_exit(&s, P, 0, 50 * US, msr, 1);
	sy_entry(&s, P, 0, 500 * US);
	CHECK_EQ(ktr_analyze(&s.t, NULL, &a), 0);
	CHECK_EQ(a.clamped, 2);
	v = vcpu(&a, P, 0);
	CHECK_EQ(v->t[KTR_ST_GUEST], 50 * US);
	CHECK_EQ(v->t[KTR_ST_KHV], 50 * US);
	CHECK_EQ(reason(&a, "svm_msr")->all.v[0], 50 * US);
	check_sums(&a);
	ktr_analysis_free(&a);
	sy_free(&s);
}

/* A recording of one vCPU only (the most common): every share is its own. */
KTR_TEST(analyze_one_vcpu)
{
	struct ktr_analysis a;
	struct synth s;

	sy_init(&s, SY_START, SY_START);
	sy_workload(&s, P, 1, 0.05, 5000, 2);
	CHECK_EQ(ktr_analyze(&s.t, NULL, &a), 0);
	CHECK_EQ(a.nvcpus, 1);
	CHECK(a.exits > 100);
	CHECK_EQ(a.anomalies, 0);
	CHECK_EQ(a.untimed_lost, 0);
	/* Started in an exit (synth.c): only its first stretch is unknown. */
	CHECK(a.vcpus[0].t[KTR_ST_UNKNOWN] > 0);
	CHECK(a.vcpus[0].t[KTR_ST_UNKNOWN] <= 50 * US);
	CHECK(a.vcpus[0].t[KTR_ST_GUEST] > 0);
	CHECK(a.vcpus[0].t[KTR_ST_HALT] > 0);
	CHECK(a.vcpus[0].t[KTR_ST_USER] > 0);
	check_sums(&a);
	ktr_analysis_free(&a);
	sy_free(&s);
}

KTR_TEST(analyze_names)
{
	CHECK_STR(ktr_uexit_name(1), "io");
	CHECK_STR(ktr_uexit_name(7), "intr");
	CHECK_STR(ktr_uexit_name(10), "study");
	CHECK_STR(ktr_uexit_name(11), "other");
	CHECK_STR(ktr_uexit_name(1234), "other");
	CHECK_STR(ktr_state_names[KTR_ST_HALT], "halted");
}
