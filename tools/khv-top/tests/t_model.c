// SPDX-License-Identifier: GPL-2.0
/*
 * model.c on images in the kernel's format: layout, percentiles, rates,
 * time shares, deltas between two reads, merging and sorting.
 *
 * The test VM: tsc_khz 2000000 (2 cycles a ns), 2 vCPUs, 10 s old at its
 * first read.  1000 svm_ioio exits handled in the kernel in 2000 cycles
 * (bucket 11: [1024, 2048)), 100 through userspace in 10000 (bucket 14:
 * [8192, 16384)); 10 svm_hlt in the kernel in 1000000 (bucket 20).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../model.h"
#include "image.h"
#include "t.h"

#define NS	1000000000ull

static const char *const exits[] = { "svm_cpuid", "svm_hlt", "svm_ioio", "svm_npf" };
static const uint32_t codes[] = { 0x72, 0x78, 0x7b, 0x400 };

static const struct kt_vm_ident who = {
	.id = 3, .pid = 1234, .comm = "khv-run", .nr_vcpus = 2, .created_ns = 100 * NS,
};

/* The test VM, with its traffic and times (shares 60/10/5/10 over 10 s). */
static void test_vm(struct ki *k)
{
	ki_init(k, 3);
	ki_kernel_vm(k, 2000000, 2, exits, codes, 4);
	ki_exit(k, "svm_ioio", false, 2000, 1000);
	ki_exit(k, "svm_ioio", true, 10000, 100);
	ki_exit(k, "svm_hlt", false, 1000000, 10);
	/* 20 vCPU-seconds: 40e9 cycles. */
	ki_set(k, "time/guest", 24000000000ull);	/* 60 % */
	ki_set(k, "time/kernel", 8000000000ull);	/* 20 %, half of it asleep */
	ki_set(k, "time/user", 2000000000ull);		/* 5 % */
	ki_set(k, "time/halt", 2000000000ull);		/* ns: 10 % */
	ki_set(k, "user_exit/io", 100);
	ki_set(k, "kernel/tlb_flush", 7);
	ki_set(k, "mmu/pages_pinned", 512);
}

/* k's image parsed, its layout and a read at t_ns. */
static void load(struct ki *k, struct khv_stats *st, struct kt_layout *l, struct kt_snap *s,
		 uint64_t t_ns)
{
	unsigned char *img;
	size_t len;

	img = ki_image(k, &len);
	CHECK_EQ(khv_stats_parse(st, img, len), 0);
	free(img);
	CHECK_EQ(kt_layout_build(l, st), 0);
	memset(s, 0, sizeof(*s));
	CHECK_EQ(kt_snap_take(s, st, t_ns), 0);
}

/* Another read of the same file: k's values now. */
static void reread(struct ki *k, struct khv_stats *st, struct kt_snap *s, uint64_t t_ns)
{
	memcpy(st->data, k->v, (size_t)k->nv * 8);
	CHECK_EQ(kt_snap_take(s, st, t_ns), 0);
}

static const struct kt_exit_row *row(const struct kt_vm_view *v, const char *name)
{
	uint32_t i;

	for (i = 0; i < v->nrows; i++)
		if (!strcmp(v->rows[i].name, name))
			return &v->rows[i];
	return NULL;
}

KT_TEST(model_layout)
{
	struct ki k;
	struct khv_stats st;
	struct kt_layout l;
	struct kt_snap s;
	uint32_t i;

	test_vm(&k);
	load(&k, &st, &l, &s, 110 * NS);
	CHECK_EQ(l.ndata, k.nv);
	CHECK(l.alive >= 0 && l.tsc_khz >= 0 && l.exit_timing >= 0 && l.vcpus >= 0);
	for (i = 0; i < KT_TIMES; i++)
		CHECK(l.time[i] >= 0);
	CHECK_EQ(kt_snap_val(&s, l.tsc_khz), 2000000);
	CHECK_EQ(kt_snap_val(&s, l.vcpus), 2);
	CHECK_EQ(kt_snap_val(&s, -1), 0);
	CHECK_EQ(kt_snap_val(&s, (int32_t)s.n), 0);
	CHECK_EQ(l.nexits, 4);
	for (i = 0; i < l.nexits && i < 4; i++) {
		const struct kt_exit_layout *e = &l.exits[i];

		CHECK_STR(e->name, exits[i]);
		CHECK_EQ(e->code, codes[i]);
		CHECK(e->count >= 0 && e->cycles[0] >= 0 && e->cycles[1] >= 0);
		CHECK(e->hist[0] >= 0 && e->hist[1] >= 0);
		CHECK_EQ(e->nbuckets[0], KI_HIST_BUCKETS);
		CHECK_EQ(e->nbuckets[1], KI_HIST_BUCKETS);
	}
	CHECK_EQ(kt_snap_val(&s, l.exits[2].count), 1100);
	/* 10 user exits, 15 kernel counters, 3 MMU levels. */
	CHECK_EQ(l.ncounters, KHV_EXIT_MAX + KHV_KSTAT_MAX + 3);
	CHECK_STR(l.counters[0].name, "mmu/pages_pinned");
	CHECK(l.counters[0].instant);
	CHECK_EQ(l.counters[0].unit, KHV_STATS_UNIT_PAGES);
	CHECK_STR(l.counters[3].name, "user_exit/unknown");
	CHECK(!l.counters[3].instant);
	CHECK_STR(l.counters[3 + KHV_EXIT_MAX].name, "kernel/l1d_flush");
	kt_snap_free(&s);
	kt_layout_free(&l);
	khv_stats_close(&st);
	ki_free(&k);
}

KT_TEST(model_quantile)
{
	uint64_t h[KT_HIST_MAX] = { 0 };
	double v;
	bool open;

	CHECK(!kt_hist_quantile(h, 40, 0.5, &v, &open));
	h[0] = 3;
	CHECK(kt_hist_quantile(h, 40, 0.99, &v, &open));
	CHECK_NEAR(v, 0, 0);
	CHECK(!open);
	memset(h, 0, sizeof(h));
	h[11] = 100;	/* [1024, 2048) */
	CHECK(kt_hist_quantile(h, 40, 0.5, &v, &open));
	CHECK_NEAR(v, 1536, 1e-9);
	CHECK(kt_hist_quantile(h, 40, 0.99, &v, &open));
	CHECK_NEAR(v, 2037.76, 1e-9);
	CHECK(kt_hist_quantile(h, 40, 1.0, &v, &open));
	CHECK_NEAR(v, 2048, 1e-9);
	/* 90 in [16, 32), 10 in [2^19, 2^20). */
	memset(h, 0, sizeof(h));
	h[5] = 90;
	h[20] = 10;
	CHECK(kt_hist_quantile(h, 40, 0.5, &v, &open));
	CHECK_NEAR(v, 16 * (1 + 50 / 90.0), 1e-9);
	CHECK(kt_hist_quantile(h, 40, 0.9, &v, &open));
	CHECK_NEAR(v, 32, 1e-9);	/* the top of the first bucket, exactly */
	CHECK(kt_hist_quantile(h, 40, 0.99, &v, &open));
	CHECK_NEAR(v, 524288 * 1.9, 1e-6);
	/* The last bucket has no top: its lower bound, flagged. */
	memset(h, 0, sizeof(h));
	h[39] = 1;
	CHECK(kt_hist_quantile(h, 40, 0.5, &v, &open));
	CHECK(open);
	CHECK_NEAR(v, 274877906944.0, 0);	/* 2^38 */
	/* Two buckets: 0 and "1 and up". */
	h[0] = 0;
	h[1] = 5;
	CHECK(kt_hist_quantile(h, 2, 0.5, &v, &open));
	CHECK(open);
	CHECK_NEAR(v, 1, 0);
	/* The widest histogram a u64 allows: bucket 64 is the last. */
	memset(h, 0, sizeof(h));
	h[63] = 2;
	CHECK(kt_hist_quantile(h, KT_HIST_MAX, 0.5, &v, &open));
	CHECK(!open);
	CHECK_NEAR(v, 0x1p62 * 1.5, 0);
	/* Nonsense arguments. */
	CHECK(!kt_hist_quantile(h, 1, 0.5, &v, &open));
	CHECK(!kt_hist_quantile(h, KT_HIST_MAX + 1, 0.5, &v, &open));
	CHECK(!kt_hist_quantile(h, 40, 0, &v, &open));
	CHECK(!kt_hist_quantile(h, 40, 1.5, &v, &open));
	/* Counts that would overflow a u64 sum still give an answer. */
	memset(h, 0, sizeof(h));
	h[3] = UINT64_MAX;
	h[4] = UINT64_MAX;
	CHECK(kt_hist_quantile(h, 40, 0.5, &v, &open));
	CHECK_NEAR(v, 8, 1e-9);
}

KT_TEST(model_total)
{
	struct ki k;
	struct khv_stats st;
	struct kt_layout l;
	struct kt_snap s;
	struct kt_vm_view v;
	const struct kt_exit_row *r;

	test_vm(&k);
	load(&k, &st, &l, &s, 110 * NS);
	CHECK_EQ(kt_vm_compute(&v, &who, &l, NULL, &s), 0);
	CHECK(v.figures && v.total);
	CHECK_EQ(v.state, KT_RUNNING);
	CHECK_NEAR(v.secs, 10, 1e-12);
	CHECK_EQ(v.vcpus, 2);
	CHECK_EQ(v.tsc_khz, 2000000);
	CHECK(v.timing);
	CHECK_EQ(v.exits, 1110);
	CHECK_EQ(v.exits_delta, 1110);
	CHECK_NEAR(v.exit_rate, 111, 1e-9);
	CHECK(v.shares_valid);
	CHECK_NEAR(v.share[KT_SHARE_GUEST], 60, 1e-9);
	CHECK_NEAR(v.share[KT_SHARE_KHV], 10, 1e-9);
	CHECK_NEAR(v.share[KT_SHARE_USER], 5, 1e-9);
	CHECK_NEAR(v.share[KT_SHARE_HALT], 10, 1e-9);
	/* svm_cpuid and svm_npf never exited: left out. */
	CHECK_EQ(v.nrows, 2);
	CHECK(row(&v, "svm_cpuid") == NULL);
	r = row(&v, "svm_ioio");
	CHECK(r != NULL);
	if (r) {
		CHECK_EQ(r->code, 0x7b);
		CHECK_EQ(r->count, 1100);
		CHECK_EQ(r->delta, 1100);
		CHECK_NEAR(r->rate, 110, 1e-9);
		CHECK_EQ(r->lat[KT_LAT_KERNEL].samples, 1000);
		CHECK_EQ(r->lat[KT_LAT_USER].samples, 100);
		CHECK_EQ(r->lat[KT_LAT_ALL].samples, 1100);
		/* Cycles at 2 GHz: us = cycles / 2000. */
		CHECK_NEAR(r->lat[KT_LAT_KERNEL].p50.us, 1536 / 2000.0, 1e-12);
		CHECK_NEAR(r->lat[KT_LAT_KERNEL].p99.us, 2037.76 / 2000, 1e-12);
		CHECK_NEAR(r->lat[KT_LAT_USER].p50.us, 12288 / 2000.0, 1e-12);
		CHECK_NEAR(r->lat[KT_LAT_USER].p99.us, 8192 * 1.99 / 2000, 1e-12);
		/* Merged: rank 550 in bucket 11, rank 1089 in bucket 14. */
		CHECK_NEAR(r->lat[KT_LAT_ALL].p50.us, 1024 * 1.55 / 2000, 1e-12);
		CHECK_NEAR(r->lat[KT_LAT_ALL].p99.us, 8192 * 1.89 / 2000, 1e-12);
	}
	r = row(&v, "svm_hlt");
	CHECK(r != NULL);
	if (r) {
		CHECK(r->lat[KT_LAT_KERNEL].p50.valid);
		CHECK(!r->lat[KT_LAT_USER].p50.valid && !r->lat[KT_LAT_USER].p99.valid);
		CHECK_NEAR(r->lat[KT_LAT_ALL].p50.us, r->lat[KT_LAT_KERNEL].p50.us, 0);
	}
	CHECK_EQ(v.ncounters, l.ncounters);
	CHECK_STR(v.counters[0].name, "mmu/pages_pinned");
	CHECK_EQ(v.counters[0].value, 512);
	CHECK_EQ(v.counters[0].delta, 0);
	CHECK_STR(v.counters[4].name, "user_exit/io");
	CHECK_EQ(v.counters[4].value, 100);
	CHECK_NEAR(v.counters[4].rate, 10, 1e-9);
	kt_vm_view_free(&v);

	/* A read before the VM's creation (clock mismatch): no window, no rates. */
	s.t_ns = 50 * NS;
	CHECK_EQ(kt_vm_compute(&v, &who, &l, NULL, &s), 0);
	CHECK_NEAR(v.secs, 0, 0);
	CHECK_NEAR(v.exit_rate, 0, 0);
	CHECK(!v.shares_valid);
	CHECK_EQ(v.exits, 1110);
	kt_vm_view_free(&v);

	kt_snap_free(&s);
	kt_layout_free(&l);
	khv_stats_close(&st);
	ki_free(&k);
}

KT_TEST(model_interval)
{
	struct ki k;
	struct khv_stats st;
	struct kt_layout l;
	struct kt_snap a, b;
	struct kt_vm_view v;
	const struct kt_exit_row *r;

	test_vm(&k);
	load(&k, &st, &l, &a, 110 * NS);
	/* 2 s later: 400 more ioio exits, all in bucket 9 ([256, 512)), and an npf. */
	ki_exit(&k, "svm_ioio", false, 300, 400);
	ki_exit(&k, "svm_npf", false, 5000, 1);
	*ki_must(&k, "time/guest") += 2000000000ull;	/* 1 of 4 vCPU-seconds: 25 % */
	*ki_must(&k, "time/kernel") += 400000000ull;	/* 5 % */
	*ki_must(&k, "time/user") += 0;
	*ki_must(&k, "time/halt") += 3000000000ull;	/* ns: 75 % (and none of it in kernel) */
	*ki_must(&k, "user_exit/io") += 8;
	memset(&b, 0, sizeof(b));
	reread(&k, &st, &b, 112 * NS);
	CHECK_EQ(kt_vm_compute(&v, &who, &l, &a, &b), 0);
	CHECK(v.figures && !v.total);
	CHECK_NEAR(v.secs, 2, 1e-12);
	CHECK_EQ(v.exits, 1511);
	CHECK_EQ(v.exits_delta, 401);
	CHECK_NEAR(v.exit_rate, 200.5, 1e-9);
	CHECK_NEAR(v.share[KT_SHARE_GUEST], 25, 1e-9);
	/* kernel 5 % minus halt 75 %: clamped at 0. */
	CHECK_NEAR(v.share[KT_SHARE_KHV], 0, 0);
	CHECK_NEAR(v.share[KT_SHARE_USER], 0, 0);
	CHECK_NEAR(v.share[KT_SHARE_HALT], 75, 1e-9);
	CHECK_EQ(v.nrows, 3);
	r = row(&v, "svm_ioio");
	CHECK(r != NULL);
	if (r) {
		CHECK_EQ(r->count, 1500);
		CHECK_EQ(r->delta, 400);
		CHECK_NEAR(r->rate, 200, 1e-9);
		/* Only the window's samples: all in [256, 512). */
		CHECK_EQ(r->lat[KT_LAT_ALL].samples, 400);
		CHECK_NEAR(r->lat[KT_LAT_ALL].p50.us, 384 / 2000.0, 1e-12);
		CHECK(!r->lat[KT_LAT_USER].p50.valid);
	}
	r = row(&v, "svm_hlt");
	CHECK(r != NULL);
	if (r) {
		CHECK_EQ(r->delta, 0);
		CHECK_EQ(r->count, 10);
		CHECK(!r->lat[KT_LAT_ALL].p99.valid);
	}
	r = row(&v, "svm_npf");
	CHECK(r != NULL && r->delta == 1 && r->lat[KT_LAT_KERNEL].p50.valid);
	CHECK_EQ(v.counters[4].delta, 8);
	CHECK_NEAR(v.counters[4].rate, 4, 1e-9);
	kt_vm_view_free(&v);

	/* Backwards (b as the earlier read): no negative deltas, no window. */
	CHECK_EQ(kt_vm_compute(&v, &who, &l, &b, &a), 0);
	CHECK_NEAR(v.secs, 0, 0);
	CHECK_EQ(v.exits_delta, 0);
	CHECK(!v.shares_valid);
	r = row(&v, "svm_ioio");
	CHECK(r && r->delta == 0 && !r->lat[KT_LAT_ALL].p50.valid);
	kt_vm_view_free(&v);

	/* An earlier read of another file (other size): from the start instead. */
	a.n--;
	CHECK_EQ(kt_vm_compute(&v, &who, &l, &a, &b), 0);
	CHECK(v.total);
	CHECK_EQ(v.exits_delta, 1511);
	kt_vm_view_free(&v);
	a.n++;

	kt_snap_free(&a);
	kt_snap_free(&b);
	kt_layout_free(&l);
	khv_stats_close(&st);
	ki_free(&k);
}

KT_TEST(model_states)
{
	struct ki k;
	struct khv_stats st;
	struct kt_layout l;
	struct kt_snap s;
	struct kt_vm_view v;

	test_vm(&k);
	ki_set(&k, "alive", 0);
	load(&k, &st, &l, &s, 110 * NS);
	CHECK_EQ(kt_vm_compute(&v, &who, &l, NULL, &s), 0);
	CHECK_EQ(v.state, KT_GONE);
	CHECK(v.figures);
	CHECK_EQ(v.exits, 1110);
	kt_vm_view_free(&v);
	kt_snap_free(&s);
	kt_layout_free(&l);
	khv_stats_close(&st);

	/* exit_timing off: times stand still, so no shares. */
	ki_set(&k, "alive", 1);
	ki_set(&k, "exit_timing", 0);
	load(&k, &st, &l, &s, 110 * NS);
	CHECK_EQ(kt_vm_compute(&v, &who, &l, NULL, &s), 0);
	CHECK(!v.timing && !v.shares_valid);
	CHECK_NEAR(v.exit_rate, 111, 1e-9);
	kt_vm_view_free(&v);
	kt_snap_free(&s);
	kt_layout_free(&l);
	khv_stats_close(&st);

	/* tsc_khz 0: cycles cannot be turned into time. */
	ki_set(&k, "exit_timing", 1);
	ki_set(&k, "tsc_khz", 0);
	load(&k, &st, &l, &s, 110 * NS);
	CHECK_EQ(kt_vm_compute(&v, &who, &l, NULL, &s), 0);
	CHECK(!v.shares_valid);
	CHECK(v.nrows == 2 && !v.rows[0].lat[KT_LAT_ALL].p50.valid);
	kt_vm_view_free(&v);
	kt_snap_free(&s);
	kt_layout_free(&l);
	khv_stats_close(&st);

	/* No vCPUs yet. */
	ki_set(&k, "tsc_khz", 2000000);
	ki_set(&k, "vcpus", 0);
	load(&k, &st, &l, &s, 110 * NS);
	CHECK_EQ(kt_vm_compute(&v, &who, &l, NULL, &s), 0);
	CHECK_EQ(v.vcpus, 0);
	CHECK(!v.shares_valid);
	kt_vm_view_free(&v);
	kt_snap_free(&s);
	kt_layout_free(&l);
	khv_stats_close(&st);
	ki_free(&k);

	kt_vm_blank(&v, &who, KT_DENIED, -EACCES);
	CHECK(!v.figures);
	CHECK_EQ(v.state, KT_DENIED);
	CHECK_EQ(v.err, -EACCES);
	CHECK_STR(v.comm, "khv-run");
	CHECK_EQ(v.vcpus, 2);
	kt_vm_view_free(&v);
	CHECK_STR(kt_state_name(KT_RUNNING), "running");
	CHECK_STR(kt_state_name(KT_GONE), "gone");
	CHECK_STR(kt_state_name(KT_DENIED), "denied");
	CHECK_STR(kt_state_name(KT_ERROR), "error");
}

static void mkrow(struct kt_exit_row *r, const char *name, double rate, uint64_t count,
		  int p99_bucket)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->rate = rate;
	r->count = count;
	r->tsc_khz = 1000000;
	if (p99_bucket >= 0) {
		r->nbuckets[KT_WAY_KERNEL] = 40;
		r->hist[KT_WAY_KERNEL][p99_bucket] = 10;
	}
	kt_row_latency(r);
}

static const char *order(const struct kt_exit_row *r, uint32_t n)
{
	static char buf[256];
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		strncat(buf, r[i].name, sizeof(buf) - strlen(buf) - 2);
		strcat(buf, " ");
	}
	return buf;
}

KT_TEST(model_sort)
{
	struct kt_exit_row r[5];

	mkrow(&r[0], "b", 10, 500, 5);
	mkrow(&r[1], "a", 10, 100, 20);
	mkrow(&r[2], "d", 99, 50, -1);
	mkrow(&r[3], "c", 0, 900, 12);
	mkrow(&r[4], "e", 10, 100, 12);
	kt_sort_rows(r, 5, KT_SORT_RATE, KT_LAT_ALL);
	/* Equal rates: larger count first, then by name. */
	CHECK_STR(order(r, 5), "d b a e c ");
	kt_sort_rows(r, 5, KT_SORT_COUNT, KT_LAT_ALL);
	CHECK_STR(order(r, 5), "c b a e d ");
	kt_sort_rows(r, 5, KT_SORT_P99, KT_LAT_ALL);
	/* No samples (d) last; equal p99 (c, e): higher rate first. */
	CHECK_STR(order(r, 5), "a e c b d ");
	kt_sort_rows(r, 5, KT_SORT_P99, KT_LAT_USER);
	/* No user samples at all: by rate, then name. */
	CHECK_STR(order(r, 5), "d a b e c ");
	kt_sort_rows(r, 5, KT_SORT_NAME, KT_LAT_ALL);
	CHECK_STR(order(r, 5), "a b c d e ");
	kt_sort_rows(r, 0, KT_SORT_NAME, KT_LAT_ALL);
	kt_sort_rows(r, 1, KT_SORT_RATE, KT_LAT_ALL);
	CHECK_STR(order(r, 5), "a b c d e ");

	CHECK_EQ(kt_sort_parse("rate"), KT_SORT_RATE);
	CHECK_EQ(kt_sort_parse("count"), KT_SORT_COUNT);
	CHECK_EQ(kt_sort_parse("p99"), KT_SORT_P99);
	CHECK_EQ(kt_sort_parse("name"), KT_SORT_NAME);
	CHECK_EQ(kt_sort_parse("Rate"), -1);
	CHECK_EQ(kt_sort_parse(""), -1);
	CHECK_EQ(kt_sort_parse(NULL), -1);
	CHECK_STR(kt_sort_name(KT_SORT_P99), "p99");
	CHECK_STR(kt_lat_name(KT_LAT_KERNEL), "kernel");
	CHECK_STR(kt_lat_name(KT_LATS), "?");
}

KT_TEST(model_merge)
{
	struct kt_exit_row a[2], b[2], *all = NULL;
	uint32_t n = 0;

	mkrow(&a[0], "svm_ioio", 10, 100, 11);
	mkrow(&a[1], "svm_hlt", 1, 5, 20);
	mkrow(&b[0], "svm_npf", 3, 30, 9);
	mkrow(&b[1], "svm_ioio", 5, 50, 13);
	/* b's ioio histogram is shorter: its top bucket takes a's higher ones. */
	b[1].nbuckets[KT_WAY_KERNEL] = 12;
	b[1].hist[KT_WAY_KERNEL][13] = 0;
	b[1].hist[KT_WAY_KERNEL][11] = 10;
	b[1].hist[KT_WAY_USER][3] = 4;
	b[1].nbuckets[KT_WAY_USER] = 40;
	kt_row_latency(&b[1]);
	CHECK_EQ(kt_rows_merge(&all, &n, a, 2), 0);
	CHECK_EQ(kt_rows_merge(&all, &n, b, 2), 0);
	CHECK_EQ(n, 3);
	if (n == 3) {
		CHECK_STR(all[0].name, "svm_ioio");
		CHECK_EQ(all[0].count, 150);
		CHECK_NEAR(all[0].rate, 15, 1e-12);
		CHECK_EQ(all[0].nbuckets[KT_WAY_KERNEL], 12);
		CHECK_EQ(all[0].hist[KT_WAY_KERNEL][11], 20);
		CHECK_EQ(all[0].lat[KT_LAT_KERNEL].samples, 20);
		CHECK(all[0].lat[KT_LAT_KERNEL].p50.open);
		CHECK_EQ(all[0].lat[KT_LAT_USER].samples, 4);
		CHECK_EQ(all[0].lat[KT_LAT_ALL].samples, 24);
		CHECK_STR(all[1].name, "svm_hlt");
		CHECK_EQ(all[1].count, 5);
		CHECK_STR(all[2].name, "svm_npf");
		CHECK_EQ(all[2].lat[KT_LAT_ALL].samples, 10);
	}
	/* Merging an empty list changes nothing. */
	CHECK_EQ(kt_rows_merge(&all, &n, NULL, 0), 0);
	CHECK_EQ(n, 3);
	free(all);
}

KT_TEST(model_snap)
{
	struct khv_stats st;
	struct kt_snap s = { 0 };
	uint64_t v3[3] = { 1, 2, 3 }, v1[1] = { 9 };

	memset(&st, 0, sizeof(st));
	st.data = v3;
	st.ndata = 3;
	CHECK_EQ(kt_snap_take(&s, &st, 5), 0);
	CHECK(s.n == 3 && s.v[2] == 3 && s.t_ns == 5);
	st.data = v1;
	st.ndata = 1;
	CHECK_EQ(kt_snap_take(&s, &st, 6), 0);
	CHECK(s.n == 1 && s.v[0] == 9);
	CHECK_EQ(kt_snap_val(&s, 1), 0);
	st.ndata = 0;
	CHECK_EQ(kt_snap_take(&s, &st, 7), 0);
	CHECK_EQ(s.n, 0);
	CHECK_EQ(kt_snap_val(&s, 0), 0);
	kt_snap_free(&s);
	CHECK(s.v == NULL && s.n == 0);
	CHECK_EQ(kt_snap_val(NULL, 0), 0);
}
