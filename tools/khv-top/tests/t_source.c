// SPDX-License-Identifier: GPL-2.0
/*
 * source.c against the simulated device (sim_khv.c): the list, files kept
 * open between reads, VMs that come, go, vanish before they are opened or
 * belong to someone else, filters, failures; no descriptor leaks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../source.h"
#include "sim_khv.h"
#include "t.h"

static const struct kt_vm_view *view(const struct kt_vm_view *v, uint32_t n, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (v[i].id == id)
			return &v[i];
	return NULL;
}

static const struct kt_exit_row *row(const struct kt_vm_view *v, const char *name)
{
	uint32_t i;

	for (i = 0; v && i < v->nrows; i++)
		if (!strcmp(v->rows[i].name, name))
			return &v->rows[i];
	return NULL;
}

/* One read; the views (free them with kt_views_free). */
static struct kt_vm_view *poll_views(struct kt_source *s, uint32_t *n)
{
	struct kt_vm_view *v = NULL;

	*n = 0;
	CHECK_EQ(kt_source_poll(s), 0);
	CHECK_EQ(kt_source_views(s, &v, n), 0);
	return v;
}

KT_TEST(source_open)
{
	struct kt_source s;
	char why[256];
	int fds = t_count_fds();

	sim_reset();
	sim.enabled = true;
	CHECK_EQ(kt_source_open(&s, "/nonexistent/khv", why, sizeof(why)), -ENOENT);
	CHECK(strstr(why, "/nonexistent/khv") != NULL);
	sim.no_stats_cap = true;
	CHECK_EQ(kt_source_open(&s, "/dev/null", why, sizeof(why)), -ENOTSUP);
	CHECK(strstr(why, "KHV_CAP_STATS_FD") != NULL);
	sim.no_stats_cap = false;
	/* $KHV_DEVICE, as libkhv reads it. */
	setenv("KHV_DEVICE", "/dev/null", 1);
	CHECK_EQ(kt_source_open(&s, NULL, why, sizeof(why)), 0);
	kt_source_close(&s);
	unsetenv("KHV_DEVICE");
	/* Not a khv device at all: /dev/null without the sim says ENOTTY. */
	sim.enabled = false;
	CHECK_EQ(kt_source_open(&s, "/dev/null", why, sizeof(why)), -ENOTTY);
	sim_reset();
	CHECK_EQ(t_count_fds(), fds);
}

KT_TEST(source_life)
{
	struct kt_source s;
	struct kt_vm_view *v;
	const struct kt_vm_view *x;
	const struct kt_exit_row *r;
	char why[256];
	uint32_t n;
	int fds = t_count_fds();

	sim_default(NULL);
	CHECK_EQ(kt_source_open(&s, "/dev/null", why, sizeof(why)), 0);

	/* Read 1: VMs 1, 2, 3 (4 went before it was opened; 5 is not born). */
	v = poll_views(&s, &n);
	CHECK_EQ(n, 3);
	CHECK_EQ(sim.opens, 4);
	x = view(v, n, 1);
	CHECK(x && x->state == KT_RUNNING && x->figures && x->total);
	if (x) {
		CHECK_STR(x->comm, "khv-run");
		CHECK_EQ(x->pid, 4242);
		CHECK_EQ(x->vcpus, 2);
		CHECK_NEAR(x->secs, 10, 0.5);
		CHECK_EQ(x->exits, 115);
		/* Half the time in the guest since the start, the sim says. */
		CHECK(x->shares_valid);
		CHECK_NEAR(x->share[KT_SHARE_GUEST], 50, 2);
		CHECK_NEAR(x->share[KT_SHARE_KHV], 10, 2);
		CHECK_NEAR(x->share[KT_SHARE_USER], 10, 2);
		CHECK_NEAR(x->share[KT_SHARE_HALT], 10, 2);
		r = row(x, "svm_ioio");
		CHECK(r && r->count == 110 && r->delta == 110);
		if (r) {
			CHECK_NEAR(r->lat[KT_LAT_ALL].p50.us, 1.5872, 1e-9);
			CHECK_NEAR(r->lat[KT_LAT_ALL].p99.us, 3.87072, 1e-9);
		}
		CHECK(row(x, "svm_npf") == NULL);	/* from tick 2 */
	}
	x = view(v, n, 3);
	CHECK(x && x->state == KT_DENIED && !x->figures && x->err == -EACCES);
	CHECK(view(v, n, 4) == NULL);
	kt_views_free(v, n);

	/* Read 2: VM 5 is born (from its start), the others over the interval. */
	v = poll_views(&s, &n);
	CHECK_EQ(n, 4);
	CHECK_EQ(sim.opens, 4 + 3);	/* 3 again (denied), 4 again (ESRCH), 5 */
	x = view(v, n, 1);
	CHECK(x && !x->total && x->exits_delta == 116 && x->exits == 231);
	r = row(x, "svm_npf");
	CHECK(r && r->delta == 1 && r->lat[KT_LAT_KERNEL].p50.valid);
	x = view(v, n, 5);
	CHECK(x && x->total && x->state == KT_RUNNING && x->exits == 116);
	x = view(v, n, 2);
	CHECK(x && x->state == KT_RUNNING && x->exits_delta == 116);
	kt_views_free(v, n);

	/* Read 3: VM 2 is gone; shown with its last figures, nothing new. */
	v = poll_views(&s, &n);
	CHECK_EQ(n, 4);
	x = view(v, n, 2);
	CHECK(x && x->state == KT_GONE && x->figures && x->exits_delta == 0 && x->exits == 231);
	kt_views_free(v, n);

	/* Read 4: and then dropped. */
	v = poll_views(&s, &n);
	CHECK_EQ(n, 3);
	CHECK(view(v, n, 2) == NULL);
	CHECK(n == 3 && v[0].id == 1 && v[1].id == 3 && v[2].id == 5);	/* by id */
	kt_views_free(v, n);

	/* The list fails: an error, and the next read works again. */
	sim.list_errno = EIO;
	CHECK_EQ(kt_source_poll(&s), -EIO);
	sim.list_errno = 0;
	v = poll_views(&s, &n);
	CHECK_EQ(n, 3);
	kt_views_free(v, n);

	kt_source_close(&s);
	sim_reset();
	CHECK_EQ(t_count_fds(), fds);
}

KT_TEST(source_filter)
{
	struct kt_source s;
	struct kt_vm_view *v;
	char why[256];
	uint32_t n;
	int fds = t_count_fds();

	sim_default(NULL);
	CHECK_EQ(kt_source_open(&s, "/dev/null", why, sizeof(why)), 0);
	kt_source_filter(&s, true, 2, false, 0);
	v = poll_views(&s, &n);
	CHECK(n == 1 && v[0].id == 2 && s.matched);
	CHECK_EQ(sim.opens, 1);		/* the others' files are not opened */
	kt_views_free(v, n);
	v = poll_views(&s, &n);
	kt_views_free(v, n);
	v = poll_views(&s, &n);
	CHECK(n == 1 && v[0].state == KT_GONE);
	kt_views_free(v, n);
	v = poll_views(&s, &n);
	CHECK(n == 0 && s.matched);
	kt_views_free(v, n);
	kt_source_close(&s);

	/* By process: VMs 1 and, from read 2, 5. */
	sim_default(NULL);
	CHECK_EQ(kt_source_open(&s, "/dev/null", why, sizeof(why)), 0);
	kt_source_filter(&s, false, 0, true, 4242);
	v = poll_views(&s, &n);
	CHECK(n == 1 && v[0].id == 1);
	kt_views_free(v, n);
	v = poll_views(&s, &n);
	CHECK(n == 2 && v[0].id == 1 && v[1].id == 5);
	kt_views_free(v, n);
	kt_source_close(&s);

	/* Nobody. */
	sim_default(NULL);
	CHECK_EQ(kt_source_open(&s, "/dev/null", why, sizeof(why)), 0);
	kt_source_filter(&s, true, 99, false, 0);
	v = poll_views(&s, &n);
	CHECK(n == 0 && !s.matched);
	kt_views_free(v, n);
	kt_source_close(&s);
	sim_reset();
	CHECK_EQ(t_count_fds(), fds);
}

KT_TEST(source_corrupt)
{
	struct kt_source s;
	struct kt_vm_view *v;
	const struct kt_vm_view *x;
	char why[256];
	uint32_t n;
	int fds = t_count_fds();

	/* VM 1's file has a bad magic: "error", tried again at each read. */
	sim_default("corrupt");
	CHECK_EQ(kt_source_open(&s, "/dev/null", why, sizeof(why)), 0);
	v = poll_views(&s, &n);
	x = view(v, n, 1);
	CHECK(x && x->state == KT_ERROR && x->err == -EPROTO && !x->figures);
	x = view(v, n, 2);
	CHECK(x && x->state == KT_RUNNING);
	kt_views_free(v, n);
	sim.vms[0].corrupt = false;
	v = poll_views(&s, &n);
	x = view(v, n, 1);
	CHECK(x && x->state == KT_RUNNING && x->figures && x->total);
	kt_views_free(v, n);
	kt_source_close(&s);
	sim_reset();
	CHECK_EQ(t_count_fds(), fds);
}
