// SPDX-License-Identifier: GPL-2.0
/*
 * Files khv-top was not written for: names it has never heard of, known
 * names missing or with another shape, a later khv's bigger header and
 * descriptors, no descriptors at all.  It must take what it knows, show
 * unknown scalars as counters, leave the rest out and print "-" for what
 * it cannot know.
 */
#include <stdlib.h>
#include <string.h>

#include "../format.h"
#include "corpus.h"
#include "t.h"

#define NS	1000000000ull

struct loaded {
	struct khv_stats st;
	struct kt_layout l;
	struct kt_snap s;
	struct kt_vm_view v;
};

static const struct kt_vm_ident who = {
	.id = 5, .pid = 55, .comm = "vmm", .nr_vcpus = 3, .created_ns = 0,
};

static int load(struct loaded *x, struct ki *k)
{
	unsigned char *img;
	size_t len;
	int r;

	memset(x, 0, sizeof(*x));
	img = ki_image(k, &len);
	r = khv_stats_parse(&x->st, img, len);
	free(img);
	if (r)
		return r;
	CHECK_EQ(kt_layout_build(&x->l, &x->st), 0);
	CHECK_EQ(kt_snap_take(&x->s, &x->st, 4 * NS), 0);
	CHECK_EQ(kt_vm_compute(&x->v, &who, &x->l, NULL, &x->s), 0);
	return 0;
}

static void unload(struct loaded *x)
{
	kt_vm_view_free(&x->v);
	kt_snap_free(&x->s);
	kt_layout_free(&x->l);
	khv_stats_close(&x->st);
}

static const struct kt_exit_row *row(const struct kt_vm_view *v, const char *name)
{
	uint32_t i;

	for (i = 0; i < v->nrows; i++)
		if (!strcmp(v->rows[i].name, name))
			return &v->rows[i];
	return NULL;
}

static const struct kt_counter_row *counter(const struct kt_vm_view *v, const char *name)
{
	uint32_t i;

	for (i = 0; i < v->ncounters; i++)
		if (!strcmp(v->counters[i].name, name))
			return &v->counters[i];
	return NULL;
}

static const char *batch(struct kt_vm_view *v)
{
	static char buf[8192];
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	kt_print_batch(f, 1, v, KT_SORT_NAME);
	fclose(f);
	snprintf(buf, sizeof(buf), "%s", text);
	free(text);
	return buf;
}

KT_TEST(unknown_names)
{
	struct loaded x;
	struct ki k;
	const struct kt_exit_row *r;
	const struct kt_counter_row *c;

	ki_init(&k, 5);
	/* Known, in shapes khv-top does not expect: ignored, not counters. */
	ki_add(&k, "tsc_khz", KI_INST | KHV_STATS_SHAPE_LOG2_HIST, 4, 0);
	ki_add(&k, "alive", KI_INST | KHV_STATS_UNIT_BOOLEAN, 1, 0);
	ki_add(&k, "alive", KI_INST | KHV_STATS_UNIT_BOOLEAN, 1, 0);	/* a duplicate */
	ki_add(&k, "time/guest", KI_CUM | KHV_STATS_UNIT_CYCLES, 1, 0);
	/* Never heard of. */
	ki_add(&k, "time/steal", KI_CUM | KHV_STATS_UNIT_NS, 1, 0);
	ki_add(&k, "net/rx_pages", KI_CUM | KHV_STATS_UNIT_PAGES, 1, 0);
	ki_add(&k, "net/queue_depth", KI_INST, 1, 0);
	ki_add(&k, "irq/latency_hist", KI_CUM | KI_HIST, 16, 0);
	ki_add(&k, "exit/foo/count", KI_CUM, 1, 0x11);
	ki_add(&k, "exit/foo/kernel_hist", KI_CUM | KI_HIST, 40, 0x11);
	ki_add(&k, "exit/foo/guest_hist", KI_CUM | KI_HIST, 40, 0x11);	/* unknown field */
	ki_add(&k, "exit/foo/user_hist", KI_CUM | KI_HIST, 1000, 0x11);	/* beyond u64 */
	ki_add(&k, "exit/bar/kernel_hist", KI_CUM | KI_HIST, 40, 0x22);	/* no count */
	ki_add(&k, "exit/deep/er/count", KI_CUM, 1, 0x33);
	ki_add(&k, "exit/count", KI_CUM, 1, 0);		/* no reason */
	ki_add(&k, "exit//count", KI_CUM, 1, 0);		/* an empty reason */
	ki_add(&k, "exit/baz/count", KI_CUM | KHV_STATS_SHAPE_LOG2_HIST, 2, 0);	/* a hist count */
	ki_add(&k, "exit/sp ace\x01/count", KI_CUM, 1, 0x44);
	ki_add(&k, "exit/foo/kernel_cycles", KI_CUM | KHV_STATS_UNIT_CYCLES, 1, 0x11);
	ki_set(&k, "alive", 1);
	ki_set(&k, "time/guest", 123);
	ki_set(&k, "net/rx_pages", 44);
	ki_set(&k, "net/queue_depth", 3);
	ki_set(&k, "exit/foo/count", 8);
	ki_must(&k, "exit/foo/kernel_hist")[10] = 8;
	ki_must(&k, "exit/foo/user_hist")[900] = 8;
	ki_must(&k, "exit/bar/kernel_hist")[3] = 2;
	ki_set(&k, "exit/deep/er/count", 4);
	ki_set(&k, "exit/count", 9);
	ki_set(&k, "exit//count", 9);
	ki_must(&k, "exit/baz/count")[1] = 9;
	ki_set(&k, "exit/sp ace\x01/count", 2);
	CHECK_EQ(load(&x, &k), 0);

	CHECK(x.l.tsc_khz < 0);
	CHECK(x.l.vcpus < 0 && x.l.exit_timing < 0);
	CHECK(x.l.time[KT_TIME_GUEST] >= 0 && x.l.time[KT_TIME_HALT] < 0);
	/* foo, bar, deep/er, sp ace (baz had nothing usable). */
	CHECK_EQ(x.l.nexits, 4);
	CHECK_EQ(x.v.state, KT_RUNNING);
	CHECK_EQ(x.v.vcpus, 3);		/* KHV_GET_VMS's, the file has none */
	CHECK_EQ(x.v.tsc_khz, 0);
	CHECK(x.v.timing);		/* no exit_timing: assumed on */
	CHECK(!x.v.shares_valid);	/* no tsc_khz, no time/kernel */
	CHECK_EQ(x.v.nrows, 3);		/* bar has no count */
	r = row(&x.v, "foo");
	CHECK(r != NULL);
	if (r) {
		CHECK_EQ(r->count, 8);
		CHECK_EQ(r->code, 0x11);
		CHECK_EQ(r->lat[KT_LAT_KERNEL].samples, 8);
		CHECK(!r->lat[KT_LAT_KERNEL].p50.valid);	/* no tsc_khz */
		CHECK_EQ(r->lat[KT_LAT_USER].samples, 0);	/* the 1000 buckets: ignored */
	}
	CHECK(row(&x.v, "deep/er") != NULL);
	CHECK(row(&x.v, "sp ace\x01") != NULL);
	CHECK(row(&x.v, "bar") == NULL);
	CHECK(row(&x.v, "") == NULL);
	c = counter(&x.v, "time/steal");
	CHECK(c && !c->instant && c->unit == KHV_STATS_UNIT_NS);
	c = counter(&x.v, "net/rx_pages");
	CHECK(c && c->value == 44 && c->delta == 44 && c->rate == 11);
	c = counter(&x.v, "net/queue_depth");
	CHECK(c && c->instant && c->value == 3);
	CHECK(counter(&x.v, "alive") == NULL);
	CHECK(counter(&x.v, "tsc_khz") == NULL);
	CHECK(counter(&x.v, "irq/latency_hist") == NULL);
	CHECK(counter(&x.v, "exit/count") == NULL);
	CHECK_EQ(x.v.ncounters, 3);
	CHECK_STR(batch(&x.v),
		  "vm iter=1 id=5 pid=55 comm=vmm state=running vcpus=3 window=total secs=4.000"
		  " rate=3.5 delta=14 count=14 guest=- khv=- user=- halt=-\n"
		  "exit iter=1 id=5 name=deep/er code=0x33 rate=1.0 delta=4 count=4 p50_us=-"
		  " p99_us=- kernel_p50_us=- kernel_p99_us=- user_p50_us=- user_p99_us=-\n"
		  "exit iter=1 id=5 name=foo code=0x11 rate=2.0 delta=8 count=8 p50_us=- p99_us=-"
		  " kernel_p50_us=- kernel_p99_us=- user_p50_us=- user_p99_us=-\n"
		  "exit iter=1 id=5 name=sp\\x20ace\\x01 code=0x44 rate=0.5 delta=2 count=2"
		  " p50_us=- p99_us=- kernel_p50_us=- kernel_p99_us=- user_p50_us=- user_p99_us=-\n"
		  "counter iter=1 id=5 name=net/rx_pages unit=pages kind=cumulative rate=11.0"
		  " delta=44 value=44\n"
		  "counter iter=1 id=5 name=net/queue_depth unit=none kind=instant rate=- delta=-"
		  " value=3\n");
	unload(&x);

	/* The same with a tsc_khz khv-top can read: foo's kernel latency shows. */
	ki_add(&k, "tsc_khz", KI_INST | KHV_STATS_UNIT_KHZ, 1, 0);
	ki_must(&k, "tsc_khz")[0] = 0;	/* the first, a histogram, stays ignored */
	k.v[k.d[k.nd - 1].at] = 1000000;
	CHECK_EQ(load(&x, &k), 0);
	r = row(&x.v, "foo");
	CHECK(r && r->lat[KT_LAT_KERNEL].p50.valid && r->lat[KT_LAT_ALL].p50.valid);
	CHECK(r && !r->lat[KT_LAT_USER].p50.valid);
	if (r)
		CHECK_NEAR(r->lat[KT_LAT_KERNEL].p50.us, 0.768, 1e-12);
	unload(&x);
	ki_free(&k);
}

KT_TEST(unknown_nothing)
{
	struct loaded x;
	struct ki k;

	/* A file with no descriptors and no values. */
	ki_init(&k, 5);
	CHECK_EQ(load(&x, &k), 0);
	CHECK_EQ(x.l.nexits + x.l.ncounters, 0);
	CHECK(x.v.figures && x.v.nrows == 0 && x.v.ncounters == 0);
	CHECK_EQ(x.v.state, KT_RUNNING);
	CHECK_STR(batch(&x.v),
		  "vm iter=1 id=5 pid=55 comm=vmm state=running vcpus=3 window=total secs=4.000"
		  " rate=0.0 delta=0 count=0 guest=- khv=- user=- halt=-\n");
	unload(&x);
	ki_free(&k);
}

KT_TEST(unknown_future)
{
	struct loaded x;
	struct ki k;
	const struct kt_exit_row *r;

	/* A later khv: 128-byte header, 96-byte descriptors, new names. */
	kc_seed(&k, KC_FUTURE);
	CHECK_EQ(load(&x, &k), 0);
	CHECK_EQ(x.st.hdr.header_size, 128);
	CHECK_EQ(x.st.hdr.desc_size, 96);
	CHECK_EQ(x.l.nexits, 1);
	CHECK(x.v.shares_valid);
	r = row(&x.v, "svm_ioio");
	CHECK(r && r->count == 100 && r->lat[KT_LAT_ALL].p99.valid);
	CHECK(counter(&x.v, "time/steal") != NULL);
	CHECK(counter(&x.v, "net/rx_pages") && counter(&x.v, "net/rx_pages")->value == 123);
	CHECK(counter(&x.v, "irq/latency_hist") == NULL);
	unload(&x);
	ki_free(&k);

	/* A vCPU's file: no "vcpus", so KHV_GET_VMS's count. */
	kc_seed(&k, KC_VCPU);
	CHECK_EQ(load(&x, &k), 0);
	CHECK_EQ(x.st.hdr.flags, KHV_STATS_F_VCPU);
	CHECK_EQ(x.v.vcpus, 3);
	CHECK(x.v.nrows == 3 && x.v.shares_valid);
	unload(&x);
	ki_free(&k);

	/* The smallest: one reason, a 2-bucket histogram, no tsc_khz. */
	kc_seed(&k, KC_MINIMAL);
	CHECK_EQ(load(&x, &k), 0);
	CHECK(x.v.nrows == 1 && x.v.rows[0].lat[KT_LAT_KERNEL].samples == 3);
	CHECK(!x.v.rows[0].lat[KT_LAT_KERNEL].p50.valid);
	unload(&x);
	ki_free(&k);
}
