/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khv-top's figures, computed from statistics files and nothing else: no
 * /dev/khv, no terminal (the unit tests and the fuzz target drive it).
 *
 * A file's layout never changes, so it is looked at once (kt_layout_build):
 * which value holds which counter, found by name.  Each read is then a copy
 * of the file's values (struct kt_snap), and a VM's figures over a window
 * (struct kt_vm_view) come from two reads, or from one read and the VM's
 * age (the window "since the VM started").
 *
 * Names this code does not know are no error: a cumulative or instant
 * scalar becomes a generic counter (shown with its name), anything else is
 * left out; a known name that is missing leaves its figure unknown ("-").
 *
 * Percentiles come from the log2 histograms of an exit reason's handling
 * time, kernel and user ways (uapi/linux/khv.h): the rank q * N is found in
 * the bucket [2^(i-1), 2^i) that holds it and interpolated linearly inside
 * that bucket, as if its samples were spread evenly.  Bucket 0 is the value
 * 0; the last bucket has no upper bound, a rank there gives its lower bound.
 * The "all" latency merges both ways' histograms bucket by bucket.
 */
#ifndef KHV_TOP_MODEL_H
#define KHV_TOP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libkhv.h"

/* Buckets a u64 histogram can have: the value 0, then 2^0 .. 2^63 up. */
#define KT_HIST_MAX	65
#define KT_NAME_SIZE	KHV_STATS_NAME_SIZE
#define KT_COMM_SIZE	17

enum kt_way { KT_WAY_KERNEL, KT_WAY_USER, KT_WAYS };
/* The latency a view shows and sorts by: both ways merged, or one. */
enum kt_lat { KT_LAT_ALL, KT_LAT_KERNEL, KT_LAT_USER, KT_LATS };
enum kt_time { KT_TIME_GUEST, KT_TIME_KERNEL, KT_TIME_USER, KT_TIME_HALT, KT_TIMES };
/* The shares a view shows: guest, khv (kernel minus halt), user, halt. */
enum kt_share { KT_SHARE_GUEST, KT_SHARE_KHV, KT_SHARE_USER, KT_SHARE_HALT, KT_SHARES };
enum kt_sort { KT_SORT_RATE, KT_SORT_COUNT, KT_SORT_P99, KT_SORT_NAME, KT_SORTS };

/* Where an exit reason's values are: indices into the data, -1 if absent. */
struct kt_exit_layout {
	char name[KT_NAME_SIZE];	/* the reason, e.g. "svm_ioio" */
	uint32_t code;
	int32_t count;
	int32_t cycles[KT_WAYS];
	int32_t hist[KT_WAYS];
	uint32_t nbuckets[KT_WAYS];
};

struct kt_counter_layout {
	char name[KT_NAME_SIZE];	/* the whole name, e.g. "user_exit/io" */
	uint32_t unit;			/* KHV_STATS_UNIT_* */
	bool instant;			/* a level, not a count: no rate */
	int32_t at;
};

struct kt_layout {
	uint32_t ndata;
	int32_t alive, tsc_khz, exit_timing, vcpus;
	int32_t time[KT_TIMES];
	struct kt_exit_layout *exits;
	uint32_t nexits;
	struct kt_counter_layout *counters;
	uint32_t ncounters;
};

/* 0, or -ENOMEM (the layout is then empty, and kt_layout_free() is safe). */
int kt_layout_build(struct kt_layout *l, const struct khv_stats *st);
void kt_layout_free(struct kt_layout *l);

/* One read of a file: its values, and when (CLOCK_BOOTTIME, ns). */
struct kt_snap {
	uint64_t *v;
	uint32_t n;
	uint64_t t_ns;
};

/* Copies st's values: 0 or -ENOMEM.  snap may hold an earlier copy. */
int kt_snap_take(struct kt_snap *snap, const struct khv_stats *st, uint64_t t_ns);
void kt_snap_free(struct kt_snap *snap);
/* Value idx of snap, 0 when idx is -1 or beyond it. */
uint64_t kt_snap_val(const struct kt_snap *snap, int32_t idx);

/* A percentile: valid is false without samples. */
struct kt_pct {
	bool valid;
	bool open;		/* in the last, open-ended bucket: a lower bound */
	double us;
};

struct kt_latency {
	uint64_t samples;
	struct kt_pct p50, p99;
};

struct kt_exit_row {
	char name[KT_NAME_SIZE];
	uint32_t code;
	uint64_t count;		/* since the VM started */
	uint64_t delta;		/* in the window */
	double rate;		/* per second over the window */
	uint32_t tsc_khz;	/* of the cycles below; 0: unknown */
	uint32_t nbuckets[KT_WAYS];
	uint64_t hist[KT_WAYS][KT_HIST_MAX];	/* the window's samples */
	struct kt_latency lat[KT_LATS];
};

struct kt_counter_row {
	char name[KT_NAME_SIZE];
	uint32_t unit;
	bool instant;
	uint64_t value;		/* the count since the start, or the level */
	uint64_t delta;		/* cumulative ones only */
	double rate;
};

enum kt_state {
	KT_RUNNING,
	KT_GONE,		/* its last figures */
	KT_DENIED,		/* another user's VM: no figures */
	KT_ERROR,		/* its file could not be read: no figures */
};

struct kt_vm_view {
	uint32_t id;
	int32_t pid;
	char comm[KT_COMM_SIZE];
	enum kt_state state;
	int err;			/* KT_ERROR, KT_DENIED: -errno */
	bool figures;			/* the fields below mean something */
	bool total;			/* the window starts at the VM's start */
	double secs;			/* the window's length */
	uint32_t vcpus;
	uint64_t tsc_khz;
	bool timing;			/* exit_timing on (times, histograms) */
	uint64_t exits, exits_delta;	/* hardware exits, all reasons */
	double exit_rate;
	bool shares_valid;
	double share[KT_SHARES];	/* % of the vCPUs' time, each 0..100 */
	struct kt_exit_row *rows;	/* reasons that ever exited */
	uint32_t nrows;
	struct kt_counter_row *counters;
	uint32_t ncounters;
};

/* What a VM is (KHV_GET_VMS), for kt_vm_compute(). */
struct kt_vm_ident {
	uint32_t id;
	int32_t pid;
	const char *comm;	/* up to 16 bytes, NUL terminated or not */
	uint32_t nr_vcpus;	/* when the file has no "vcpus" */
	uint64_t created_ns;	/* CLOCK_BOOTTIME */
};

/* A view with no figures (state and identity only). */
void kt_vm_blank(struct kt_vm_view *v, const struct kt_vm_ident *who, enum kt_state state,
		 int err);
/*
 * The figures of the window from prev to cur, or from the VM's start to
 * cur when prev is NULL.  0 or -ENOMEM; v is then blank.
 */
int kt_vm_compute(struct kt_vm_view *v, const struct kt_vm_ident *who,
		  const struct kt_layout *l, const struct kt_snap *prev, const struct kt_snap *cur);
void kt_vm_view_free(struct kt_vm_view *v);

/*
 * Adds the rows of src (another VM's) to *rows, merging reasons by name:
 * counts, deltas, rates and histograms add up; latencies are computed
 * again.  0 or -ENOMEM.
 */
int kt_rows_merge(struct kt_exit_row **rows, uint32_t *nrows, const struct kt_exit_row *src,
		  uint32_t nsrc);
/* The percentiles of the row's histograms (after a merge). */
void kt_row_latency(struct kt_exit_row *row);

/*
 * Percentile q (0 < q <= 1) of a log2 histogram of nb buckets (2 to
 * KT_HIST_MAX), in the histogram's unit: false without samples.
 */
bool kt_hist_quantile(const uint64_t *hist, uint32_t nb, double q, double *value, bool *open);

/* Rows sorted by key (rate, count, p99 of lat: descending; name: ascending). */
void kt_sort_rows(struct kt_exit_row *rows, uint32_t n, enum kt_sort key, enum kt_lat lat);

const char *kt_sort_name(enum kt_sort key);
int kt_sort_parse(const char *s);	/* enum kt_sort, or -1 */
const char *kt_lat_name(enum kt_lat lat);
const char *kt_state_name(enum kt_state state);

#endif /* KHV_TOP_MODEL_H */
