// SPDX-License-Identifier: GPL-2.0
/* The batch lines, to the byte (format.c), and the number helpers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../format.h"
#include "image.h"
#include "t.h"

#define NS	1000000000ull

static const char *const exits[] = { "svm_hlt", "svm_ioio", "svm_msr" };
static const uint32_t codes[] = { 0x78, 0x7b, 0x7c };

/* What fn printed, as a string (static buffer). */
static const char *printed(void (*fn)(FILE *, void *), void *arg)
{
	static char buf[8192];
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	fn(f, arg);
	fclose(f);
	snprintf(buf, sizeof(buf), "%s", text);
	free(text);
	return buf;
}

struct batch_arg {
	struct kt_vm_view *v;
	unsigned long iter;
	enum kt_sort key;
};

static void do_batch(FILE *f, void *p)
{
	struct batch_arg *a = p;

	kt_print_batch(f, a->iter, a->v, a->key);
}

static void do_vm(FILE *f, void *p)
{
	kt_print_vm(f, 2, p);
}

/* A VM 8 s old at the read, 1 vCPU, 1 GHz: cycles are ns. */
static void view_of(struct ki *k, struct kt_vm_view *v, const char *comm)
{
	struct kt_vm_ident who = { .id = 9, .pid = 300, .comm = comm, .nr_vcpus = 1,
				   .created_ns = 2 * NS };
	struct khv_stats st;
	struct kt_layout l;
	struct kt_snap s = { 0 };
	unsigned char *img;
	size_t len;

	img = ki_image(k, &len);
	CHECK_EQ(khv_stats_parse(&st, img, len), 0);
	CHECK_EQ(kt_layout_build(&l, &st), 0);
	CHECK_EQ(kt_snap_take(&s, &st, 10 * NS), 0);
	CHECK_EQ(kt_vm_compute(v, &who, &l, NULL, &s), 0);
	kt_snap_free(&s);
	kt_layout_free(&l);
	khv_stats_close(&st);
	free(img);
}

static void test_image(struct ki *k)
{
	ki_init(k, 9);
	ki_kernel_vm(k, 1000000, 1, exits, codes, 3);
	ki_exit(k, "svm_ioio", false, 1500, 80);	/* [1024, 2048) */
	ki_exit(k, "svm_ioio", true, 40000, 20);	/* [32768, 65536) */
	ki_exit(k, "svm_hlt", false, 3, 8);		/* [2, 4) */
	ki_set(k, "time/guest", 4000000000ull);		/* 50 % of 8 s */
	ki_set(k, "time/kernel", 1200000000ull);	/* 15 % */
	ki_set(k, "time/halt", 400000000ull);		/* 5 % */
	ki_set(k, "time/user", 800000000ull);		/* 10 % */
	ki_set(k, "user_exit/io", 20);
	ki_set(k, "mmu/pages_pinned", 4096);
}

KT_TEST(format_batch)
{
	struct kt_vm_view v;
	struct batch_arg a = { &v, 1, KT_SORT_RATE };
	struct ki k;

	test_image(&k);
	view_of(&k, &v, "khv-run");
	/*
	 * ioio merged: rank 50 of 100 in [1024, 2048) at 50/80, rank 99 in
	 * [32768, 65536) at 19/20; kernel: 40/80 and 79.2/80; user: 10/20 and
	 * 19.8/20.  hlt: all in [2, 4).
	 */
	CHECK_STR(printed(do_batch, &a),
		  "vm iter=1 id=9 pid=300 comm=khv-run state=running vcpus=1 window=total"
		  " secs=8.000 rate=13.5 delta=108 count=108 guest=50.00 khv=10.00 user=10.00"
		  " halt=5.00\n"
		  "exit iter=1 id=9 name=svm_ioio code=0x7b rate=12.5 delta=100 count=100"
		  " p50_us=1.664 p99_us=63.898 kernel_p50_us=1.536 kernel_p99_us=2.038"
		  " user_p50_us=49.152 user_p99_us=65.208\n"
		  "exit iter=1 id=9 name=svm_hlt code=0x78 rate=1.0 delta=8 count=8"
		  " p50_us=0.003 p99_us=0.004 kernel_p50_us=0.003 kernel_p99_us=0.004"
		  " user_p50_us=- user_p99_us=-\n"
		  "counter iter=1 id=9 name=mmu/pages_pinned unit=pages kind=instant rate=- delta=-"
		  " value=4096\n"
		  "counter iter=1 id=9 name=user_exit/io unit=none kind=cumulative rate=2.5"
		  " delta=20 value=20\n");
	a.key = KT_SORT_NAME;
	a.iter = 7;
	CHECK(strstr(printed(do_batch, &a),
		     "exit iter=7 id=9 name=svm_hlt code=0x78 rate=1.0 delta=8 count=8 p50_us=0.003")
	      != NULL);
	CHECK(strstr(printed(do_batch, &a), "name=svm_hlt") <
	      strstr(printed(do_batch, &a), "name=svm_ioio"));
	kt_vm_view_free(&v);
	ki_free(&k);
}

KT_TEST(format_vm_states)
{
	struct kt_vm_ident who = { .id = 4, .pid = 77, .comm = "a b=c\\d\x7f", .nr_vcpus = 3 };
	struct batch_arg a = { NULL, 2, KT_SORT_RATE };
	struct kt_vm_view v;

	kt_vm_blank(&v, &who, KT_DENIED, -EACCES);
	CHECK_STR(printed(do_vm, &v),
		  "vm iter=2 id=4 pid=77 comm=a\\x20b\\x3dc\\x5cd\\x7f state=denied vcpus=3"
		  " window=- secs=- rate=- delta=- count=- guest=- khv=- user=- halt=-\n");
	/* No figures, no exit lines. */
	a.v = &v;
	CHECK_STR(printed(do_batch, &a), printed(do_vm, &v));
	kt_vm_view_free(&v);

	who.comm = "";
	who.pid = 0;
	kt_vm_blank(&v, &who, KT_ERROR, -EPROTO);
	CHECK_STR(printed(do_vm, &v),
		  "vm iter=2 id=4 pid=0 comm=- state=error vcpus=3"
		  " window=- secs=- rate=- delta=- count=- guest=- khv=- user=- halt=-\n");
	kt_vm_view_free(&v);

	/* A 16-byte comm without its NUL. */
	who.comm = "0123456789abcdefXYZ";
	kt_vm_blank(&v, &who, KT_GONE, 0);
	CHECK_STR(v.comm, "0123456789abcdef");
	CHECK(strstr(printed(do_vm, &v), " comm=0123456789abcdef state=gone ") != NULL);
	kt_vm_view_free(&v);
}

KT_TEST(format_interval_gone)
{
	struct kt_vm_ident who = { .id = 9, .pid = 300, .comm = "x", .nr_vcpus = 1 };
	struct kt_vm_view v;
	struct khv_stats st;
	struct kt_layout l;
	struct kt_snap a = { 0 }, b = { 0 };
	unsigned char *img;
	size_t len;
	struct ki k;

	test_image(&k);
	img = ki_image(&k, &len);
	CHECK_EQ(khv_stats_parse(&st, img, len), 0);
	CHECK_EQ(kt_layout_build(&l, &st), 0);
	CHECK_EQ(kt_snap_take(&a, &st, 10 * NS), 0);
	ki_set(&k, "alive", 0);
	memcpy(st.data, k.v, (size_t)k.nv * 8);
	CHECK_EQ(kt_snap_take(&b, &st, 10 * NS + 250000000), 0);
	CHECK_EQ(kt_vm_compute(&v, &who, &l, &a, &b), 0);
	CHECK_STR(printed(do_vm, &v),
		  "vm iter=2 id=9 pid=300 comm=x state=gone vcpus=1 window=interval secs=0.250"
		  " rate=0.0 delta=0 count=108 guest=0.00 khv=0.00 user=0.00 halt=0.00\n");
	kt_vm_view_free(&v);
	kt_snap_free(&a);
	kt_snap_free(&b);
	kt_layout_free(&l);
	khv_stats_close(&st);
	free(img);
	ki_free(&k);
}

struct sample_arg {
	unsigned long iter;
	unsigned int vms;
	double t;
};

static void do_sample(FILE *f, void *p)
{
	struct sample_arg *s = p;

	kt_print_sample(f, s->iter, s->vms, s->t);
}

KT_TEST(format_escape)
{
	struct sample_arg s = { 3, 2, 1733400000.25 };
	char out[64];

	CHECK_STR(printed(do_sample, &s), "sample iter=3 vms=2 time=1733400000.250\n");
	kt_escape(out, sizeof(out), "svm_ioio", 48);
	CHECK_STR(out, "svm_ioio");
	kt_escape(out, sizeof(out), "a\tb", 48);
	CHECK_STR(out, "a\\x09b");
	kt_escape(out, sizeof(out), "\xff", 48);
	CHECK_STR(out, "\\xff");
	kt_escape(out, sizeof(out), "", 48);
	CHECK_STR(out, "-");
	kt_escape(out, sizeof(out), "abcdef", 3);
	CHECK_STR(out, "abc");
	/* Cut to fit, whole escapes only. */
	kt_escape(out, 6, "ab cd", 48);
	CHECK_STR(out, "ab");
	kt_escape(out, 7, "ab cd", 48);
	CHECK_STR(out, "ab\\x20");
	kt_escape(out, 1, "abc", 48);
	CHECK_STR(out, "");
	kt_printable(out, sizeof(out), "a\tb\x80", 48);
	CHECK_STR(out, "a?b?");
	kt_printable(out, 3, "abcdef", 48);
	CHECK_STR(out, "ab");
	CHECK_STR(kt_unit_name(KHV_STATS_UNIT_NS), "ns");
	CHECK_STR(kt_unit_name(KHV_STATS_UNIT_BOOLEAN), "boolean");
	CHECK_STR(kt_unit_name(0xe0), "other");
}

KT_TEST(format_human)
{
	char out[32];

	kt_human_count(out, sizeof(out), 0);
	CHECK_STR(out, "0");
	kt_human_count(out, sizeof(out), 999999);
	CHECK_STR(out, "999999");
	kt_human_count(out, sizeof(out), 1000000);
	CHECK_STR(out, "1.0M");
	kt_human_count(out, sizeof(out), 123456789);
	CHECK_STR(out, "123.5M");
	kt_human_count(out, sizeof(out), 999960000);
	CHECK_STR(out, "1.0G");
	kt_human_count(out, sizeof(out), UINT64_MAX);
	CHECK_STR(out, "18.4E");
	kt_human_rate(out, sizeof(out), 0);
	CHECK_STR(out, "0.0");
	kt_human_rate(out, sizeof(out), 99999.94);
	CHECK_STR(out, "99999.9");
	kt_human_rate(out, sizeof(out), 250000);
	CHECK_STR(out, "250.0k");
	kt_human_rate(out, sizeof(out), 3.5e9);
	CHECK_STR(out, "3.5G");
	kt_human_rate(out, sizeof(out), -1);
	CHECK_STR(out, "0.0");
}
