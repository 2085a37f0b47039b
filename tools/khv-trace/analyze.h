/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The report's figures from a trace (Documentation/khv/khv-trace.rst,
 * "Reading the report"): the records sorted by time and followed vCPU by
 * vCPU through a state machine (in the guest, in khv, in userspace,
 * halted, unknown), each exit timed from its khv_exit to the vCPU's next
 * khv_entry, rates in time bins, where each vCPU's time went at the
 * timeline's resolution.
 */
#ifndef KHV_TRACE_ANALYZE_H
#define KHV_TRACE_ANALYZE_H

#include <stdbool.h>
#include <stdint.h>

#include "trace_file.h"

enum ktr_state {
	KTR_ST_GUEST,		/* khv_entry to khv_exit (the exit's handler included) */
	KTR_ST_KHV,		/* khv_exit to khv_entry, in the kernel */
	KTR_ST_USER,		/* khv_userspace_exit to the next event: the VMM */
	KTR_ST_HALT,		/* khv_halt sleep to wake */
	KTR_ST_UNKNOWN,		/* before a vCPU's first event, around lost events */
	KTR_NSTATES
};

extern const char *const ktr_state_names[KTR_NSTATES];

/* Latencies of one way, in ns; sorted once the analysis is done. */
struct ktr_samples {
	uint64_t n, cap, sum;
	uint64_t *v;
};

struct ktr_reason {
	uint32_t code;
	char name[KTR_NAME_LEN];
	uint64_t count;			/* exits of this reason */
	uint64_t untimed;		/* of them, not timed: see ktr_analysis */
	struct ktr_samples kern;	/* exit to entry, handled in the kernel */
	struct ktr_samples user;	/* exit to entry, through userspace */
	struct ktr_samples all;		/* both, merged */
	uint64_t halt_ns;		/* of their time, asleep halted */
	uint64_t *bins;			/* exits per rate bin */
};

/* A vCPU: a (process, vcpu_id) pair. */
struct ktr_vcpu {
	uint32_t pid, vcpu;
	uint64_t t[KTR_NSTATES];	/* ns in each state, summing to the duration */
	uint64_t entries, exits, uexits, halts;
	float *col;			/* [ncols][KTR_NSTATES]: share of each column */

	/* The state machine (analyze.c). */
	bool seen, tainted;
	enum ktr_state state;
	uint64_t since, taint_until;
	struct {
		bool valid, timed, user;
		uint32_t reason;
		uint64_t ts, halt_ns;
	} pend;
};

#define KTR_UEXIT_NAMES		11	/* KHV_EXIT_UNKNOWN .. KHV_EXIT_STUDY */

struct ktr_analysis {
	uint64_t start_ns, end_ns, duration_ns;
	uint32_t nreasons;
	struct ktr_reason *reasons;	/* by count, most first; then by name */
	uint32_t nvcpus;
	struct ktr_vcpu *vcpus;		/* by process, then vcpu_id */
	uint32_t nbins;			/* rate bins: all bin_ns wide but the last, */
	uint64_t bin_ns;		/* which runs to the end (< 2 * bin_ns) */
	uint32_t ncols;			/* timeline columns of col_ns each */
	double col_ns;

	uint64_t events;		/* entry, exit, userspace and halt records */
	uint64_t exits, timed, untimed;
	uint64_t untimed_start;		/* entries whose exit is before the recording */
	uint64_t untimed_end;		/* exits whose entry is after it */
	uint64_t untimed_lost;		/* exits next to lost events */
	uint64_t anomalies;		/* sequences that cannot happen without lost events */
	uint64_t clamped;		/* records outside [start, end], moved to its edge */
	uint64_t lost_markers, lost_known;
	bool lost_unknown;
	uint64_t uexit_reasons[KTR_UEXIT_NAMES + 1];	/* the last: other codes */
};

struct ktr_analyze_opts {
	uint32_t ncols;			/* timeline resolution; 0: 1000 */
	uint32_t target_bins;		/* about this many rate bins; 0: 100 */
};

/* 0, or -ENOMEM (a is then empty). */
int ktr_analyze(const struct ktr_trace *t, const struct ktr_analyze_opts *o,
		struct ktr_analysis *a);
void ktr_analysis_free(struct ktr_analysis *a);

/* The p-th percentile (0 < p <= 100), nearest rank: 0 when s is empty. */
uint64_t ktr_pct(const struct ktr_samples *s, double p);
/* The width of rate bin i, ns. */
uint64_t ktr_bin_width(const struct ktr_analysis *a, uint32_t i);
/* A KHV_EXIT_* reason's name: "io", "mmio", ..., "other". */
const char *ktr_uexit_name(uint32_t i);

#endif /* KHV_TRACE_ANALYZE_H */
