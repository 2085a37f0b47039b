// SPDX-License-Identifier: GPL-2.0
/*
 * khv-top's figures: the layout of a statistics file, deltas between two
 * reads, rates, time shares, percentiles from log2 histograms, sorting
 * (model.h).  Everything here trusts a file no more than libkhv's parser
 * made it: indices are checked against the values at hand before use.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static const char *const time_names[KT_TIMES] = {
	[KT_TIME_GUEST] = "time/guest", [KT_TIME_KERNEL] = "time/kernel",
	[KT_TIME_USER] = "time/user", [KT_TIME_HALT] = "time/halt",
};

/* ---- layout --------------------------------------------------------------- */

static bool is_scalar(const struct khv_stats_desc *d)
{
	return (d->flags & KHV_STATS_SHAPE_MASK) == KHV_STATS_SHAPE_SCALAR && d->count == 1;
}

static bool is_hist(const struct khv_stats_desc *d)
{
	return (d->flags & KHV_STATS_SHAPE_MASK) == KHV_STATS_SHAPE_LOG2_HIST &&
	       d->count >= 2 && d->count <= KT_HIST_MAX;
}

/* The exit reason called name (len bytes), made when absent; NULL: no memory. */
static struct kt_exit_layout *exit_slot(struct kt_layout *l, uint32_t cap, const char *name,
					size_t len, uint32_t code)
{
	struct kt_exit_layout *e;
	uint32_t i;

	/* The kernel lists a reason's five names together: newest first. */
	for (i = l->nexits; i-- > 0;) {
		e = &l->exits[i];
		if (strlen(e->name) == len && !memcmp(e->name, name, len))
			return e;
	}
	if (l->nexits >= cap)
		return NULL;
	e = &l->exits[l->nexits++];
	memset(e, 0, sizeof(*e));
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->code = code;
	e->count = -1;
	for (i = 0; i < KT_WAYS; i++)
		e->cycles[i] = e->hist[i] = -1;
	return e;
}

/* "exit/<reason>/<field>": true when it was one khv-top uses. */
static bool layout_exit(struct kt_layout *l, uint32_t cap, const struct khv_stats_desc *d,
			const char *name, int32_t at)
{
	static const struct {
		const char *field;
		int way;	/* -1: the count */
		bool hist;
	} fields[] = {
		{ "count", -1, false },
		{ "kernel_cycles", KT_WAY_KERNEL, false }, { "kernel_hist", KT_WAY_KERNEL, true },
		{ "user_cycles", KT_WAY_USER, false }, { "user_hist", KT_WAY_USER, true },
	};
	const char *reason = name + strlen("exit/"), *slash = strrchr(reason, '/');
	struct kt_exit_layout *e;
	size_t i;

	if (!slash || slash == reason)
		return false;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!strcmp(slash + 1, fields[i].field))
			break;
	if (i == sizeof(fields) / sizeof(fields[0]) || (fields[i].hist ? !is_hist(d) : !is_scalar(d)))
		return false;
	e = exit_slot(l, cap, reason, (size_t)(slash - reason), d->code);
	if (!e)
		return false;
	if (fields[i].way < 0) {
		if (e->count < 0)
			e->count = at;
	} else if (!fields[i].hist) {
		if (e->cycles[fields[i].way] < 0)
			e->cycles[fields[i].way] = at;
	} else if (e->hist[fields[i].way] < 0) {
		e->hist[fields[i].way] = at;
		e->nbuckets[fields[i].way] = d->count;
	}
	return true;
}

/* A name with a place of its own ("alive", "time/guest"...): true if so. */
static bool layout_known(struct kt_layout *l, const struct khv_stats_desc *d, const char *name,
			 int32_t at)
{
	struct {
		const char *name;
		int32_t *slot;
	} known[4 + KT_TIMES] = {
		{ "alive", &l->alive }, { "tsc_khz", &l->tsc_khz },
		{ "exit_timing", &l->exit_timing }, { "vcpus", &l->vcpus },
	};
	size_t i;

	for (i = 0; i < KT_TIMES; i++) {
		known[4 + i].name = time_names[i];
		known[4 + i].slot = &l->time[i];
	}
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strcmp(name, known[i].name))
			continue;
		/* The first of duplicates counts; the wrong shape is ignored. */
		if (is_scalar(d) && *known[i].slot < 0)
			*known[i].slot = at;
		return true;
	}
	return false;
}

int kt_layout_build(struct kt_layout *l, const struct khv_stats *st)
{
	uint32_t i, cap = st->ndesc;

	memset(l, 0, sizeof(*l));
	l->alive = l->tsc_khz = l->exit_timing = l->vcpus = -1;
	for (i = 0; i < KT_TIMES; i++)
		l->time[i] = -1;
	l->ndata = st->ndata;
	l->exits = calloc(cap ? cap : 1, sizeof(*l->exits));
	l->counters = calloc(cap ? cap : 1, sizeof(*l->counters));
	if (!l->exits || !l->counters) {
		kt_layout_free(l);
		return -ENOMEM;
	}
	for (i = 0; i < st->ndesc; i++) {
		const struct khv_stats_desc *d = &st->desc[i];
		char name[KT_NAME_SIZE];
		struct kt_counter_layout *c;
		uint64_t at64 = d->offset / 8;
		int32_t at;

		/* libkhv checked both; a hand-made struct khv_stats may not have. */
		if (at64 >= st->ndata || d->count > st->ndata - at64)
			continue;
		at = (int32_t)at64;
		memcpy(name, d->name, sizeof(name));
		name[sizeof(name) - 1] = '\0';
		if (!name[0] || layout_known(l, d, name, at))
			continue;
		if (!strncmp(name, "exit/", 5)) {
			layout_exit(l, cap, d, name, at);
			continue;
		}
		if (!is_scalar(d))
			continue;
		c = &l->counters[l->ncounters++];
		memcpy(c->name, name, sizeof(c->name));
		c->unit = d->flags & KHV_STATS_UNIT_MASK;
		c->instant = (d->flags & KHV_STATS_TYPE_MASK) != KHV_STATS_TYPE_CUMULATIVE;
		c->at = at;
	}
	return 0;
}

void kt_layout_free(struct kt_layout *l)
{
	free(l->exits);
	free(l->counters);
	l->exits = NULL;
	l->counters = NULL;
	l->nexits = l->ncounters = 0;
}

/* ---- reads ---------------------------------------------------------------- */

int kt_snap_take(struct kt_snap *snap, const struct khv_stats *st, uint64_t t_ns)
{
	if (snap->n != st->ndata || !snap->v) {
		uint64_t *v = realloc(snap->v, (st->ndata ? st->ndata : 1) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		snap->v = v;
		snap->n = st->ndata;
	}
	if (st->ndata)
		memcpy(snap->v, st->data, st->ndata * sizeof(*snap->v));
	snap->t_ns = t_ns;
	return 0;
}

void kt_snap_free(struct kt_snap *snap)
{
	free(snap->v);
	memset(snap, 0, sizeof(*snap));
}

uint64_t kt_snap_val(const struct kt_snap *snap, int32_t idx)
{
	return snap && snap->v && idx >= 0 && (uint32_t)idx < snap->n ? snap->v[idx] : 0;
}

/* ---- percentiles ---------------------------------------------------------- */

bool kt_hist_quantile(const uint64_t *hist, uint32_t nb, double q, double *value, bool *open)
{
	double total = 0, target, cum = 0;
	uint32_t i, last = 0;

	*value = 0;
	*open = false;
	if (nb < 2 || nb > KT_HIST_MAX || !(q > 0 && q <= 1))
		return false;
	for (i = 0; i < nb; i++) {
		total += (double)hist[i];
		if (hist[i])
			last = i;
	}
	if (total <= 0)
		return false;
	target = q * total;
	for (i = 0; i < nb; i++) {
		if (!hist[i])
			continue;
		if (cum + (double)hist[i] >= target || i == last)
			break;
		cum += (double)hist[i];
	}
	if (i == 0)
		return true;
	if (i == nb - 1) {
		*value = ldexp(1.0, (int)i - 1);
		*open = true;
		return true;
	}
	{
		double lo = ldexp(1.0, (int)i - 1), frac = (target - cum) / (double)hist[i];

		if (frac < 0)
			frac = 0;
		if (frac > 1)
			frac = 1;
		/* [2^(i-1), 2^i): as wide as its lower bound. */
		*value = lo + frac * lo;
	}
	return true;
}

static void pct(struct kt_pct *p, const uint64_t *hist, uint32_t nb, double q, uint32_t tsc_khz)
{
	double cycles;

	memset(p, 0, sizeof(*p));
	if (!tsc_khz || !kt_hist_quantile(hist, nb, q, &cycles, &p->open))
		return;
	p->valid = true;
	p->us = cycles * 1000.0 / tsc_khz;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* src's nb buckets folded into the first nb_to of out (the last takes the rest). */
static void hist_fold(uint64_t *out, uint32_t nb_to, const uint64_t *src, uint32_t nb)
{
	uint32_t b;

	for (b = 0; b < nb; b++) {
		uint32_t to = b < nb_to ? b : nb_to - 1;

		out[to] = sat_add(out[to], src[b]);
	}
}

static void latency(struct kt_latency *lat, const uint64_t *hist, uint32_t nb, uint32_t tsc_khz)
{
	uint32_t b;

	memset(lat, 0, sizeof(*lat));
	if (nb < 2 || nb > KT_HIST_MAX)
		return;
	for (b = 0; b < nb; b++)
		lat->samples = sat_add(lat->samples, hist[b]);
	pct(&lat->p50, hist, nb, 0.50, tsc_khz);
	pct(&lat->p99, hist, nb, 0.99, tsc_khz);
}

void kt_row_latency(struct kt_exit_row *row)
{
	uint64_t all[KT_HIST_MAX] = { 0 };
	uint32_t w, nb = 0;

	for (w = 0; w < KT_WAYS; w++) {
		if (row->nbuckets[w] > KT_HIST_MAX)
			row->nbuckets[w] = 0;
		latency(&row->lat[w == KT_WAY_KERNEL ? KT_LAT_KERNEL : KT_LAT_USER], row->hist[w],
			row->nbuckets[w], row->tsc_khz);
		if (row->nbuckets[w] >= 2 && (!nb || row->nbuckets[w] < nb))
			nb = row->nbuckets[w];
	}
	for (w = 0; w < KT_WAYS && nb; w++)
		if (row->nbuckets[w] >= 2)
			hist_fold(all, nb, row->hist[w], row->nbuckets[w]);
	latency(&row->lat[KT_LAT_ALL], all, nb, row->tsc_khz);
}

/* ---- a VM's view ---------------------------------------------------------- */

void kt_vm_blank(struct kt_vm_view *v, const struct kt_vm_ident *who, enum kt_state state,
		 int err)
{
	memset(v, 0, sizeof(*v));
	v->id = who->id;
	v->pid = who->pid;
	if (who->comm)
		memcpy(v->comm, who->comm, strnlen(who->comm, KT_COMM_SIZE - 1));
	v->state = state;
	v->err = err;
	v->vcpus = who->nr_vcpus;
}

void kt_vm_view_free(struct kt_vm_view *v)
{
	free(v->rows);
	free(v->counters);
	v->rows = NULL;
	v->counters = NULL;
	v->nrows = v->ncounters = 0;
}

/* The growth of value idx over the window: all of it without a start. */
static uint64_t grown(const struct kt_snap *prev, const struct kt_snap *cur, int32_t idx)
{
	uint64_t now = kt_snap_val(cur, idx), then = kt_snap_val(prev, idx);

	/* Counters only grow; one that went back counts nothing. */
	return now > then ? now - then : 0;
}

static double per_sec(uint64_t n, double secs)
{
	return secs > 0 ? (double)n / secs : 0;
}

static double clamp_pct(double p)
{
	return p < 0 ? 0 : p > 100 ? 100 : p;
}

static void vm_shares(struct kt_vm_view *v, const struct kt_layout *l, const struct kt_snap *prev,
		      const struct kt_snap *cur)
{
	double cap_ns = v->secs * 1e9 * v->vcpus, ns[KT_TIMES];
	uint32_t i;

	if (!v->timing || !v->tsc_khz || !v->vcpus || !(cap_ns > 0) ||
	    l->time[KT_TIME_GUEST] < 0 || l->time[KT_TIME_KERNEL] < 0 || l->time[KT_TIME_USER] < 0)
		return;
	for (i = 0; i < KT_TIMES; i++) {
		double d = (double)grown(prev, cur, l->time[i]);

		ns[i] = i == KT_TIME_HALT ? d : d * 1e6 / (double)v->tsc_khz;
	}
	v->shares_valid = true;
	v->share[KT_SHARE_GUEST] = clamp_pct(ns[KT_TIME_GUEST] / cap_ns * 100);
	/* A halted vCPU sleeps between an exit and the next entry: not khv's work. */
	v->share[KT_SHARE_KHV] = clamp_pct((ns[KT_TIME_KERNEL] - ns[KT_TIME_HALT]) / cap_ns * 100);
	v->share[KT_SHARE_USER] = clamp_pct(ns[KT_TIME_USER] / cap_ns * 100);
	v->share[KT_SHARE_HALT] = clamp_pct(ns[KT_TIME_HALT] / cap_ns * 100);
}

static void vm_row(struct kt_exit_row *r, const struct kt_exit_layout *e,
		   const struct kt_vm_view *v, const struct kt_snap *prev, const struct kt_snap *cur)
{
	uint32_t w, b;

	memset(r, 0, sizeof(*r));
	memcpy(r->name, e->name, sizeof(r->name));
	r->code = e->code;
	r->count = kt_snap_val(cur, e->count);
	r->delta = grown(prev, cur, e->count);
	r->rate = per_sec(r->delta, v->secs);
	r->tsc_khz = v->tsc_khz <= UINT32_MAX ? (uint32_t)v->tsc_khz : 0;
	for (w = 0; w < KT_WAYS; w++) {
		uint32_t nb = e->nbuckets[w];

		if (e->hist[w] < 0 || nb < 2 || nb > KT_HIST_MAX ||
		    (uint64_t)e->hist[w] + nb > cur->n)
			continue;
		r->nbuckets[w] = nb;
		for (b = 0; b < nb; b++)
			r->hist[w][b] = grown(prev, cur, e->hist[w] + (int32_t)b);
	}
	kt_row_latency(r);
}

int kt_vm_compute(struct kt_vm_view *v, const struct kt_vm_ident *who,
		  const struct kt_layout *l, const struct kt_snap *prev, const struct kt_snap *cur)
{
	uint32_t i;

	kt_vm_blank(v, who, KT_RUNNING, 0);
	if (prev && (prev->n != cur->n || !prev->v))
		prev = NULL;	/* not the same file: from the start */
	v->figures = true;
	v->total = !prev;
	if (prev)
		v->secs = cur->t_ns > prev->t_ns ? (double)(cur->t_ns - prev->t_ns) / 1e9 : 0;
	else
		v->secs = cur->t_ns > who->created_ns ? (double)(cur->t_ns - who->created_ns) / 1e9 : 0;
	if (l->alive >= 0 && !kt_snap_val(cur, l->alive))
		v->state = KT_GONE;
	if (l->vcpus >= 0)
		v->vcpus = kt_snap_val(cur, l->vcpus) < UINT32_MAX ?
			   (uint32_t)kt_snap_val(cur, l->vcpus) : UINT32_MAX;
	v->tsc_khz = kt_snap_val(cur, l->tsc_khz);
	v->timing = l->exit_timing < 0 || kt_snap_val(cur, l->exit_timing);
	vm_shares(v, l, prev, cur);

	v->rows = calloc(l->nexits ? l->nexits : 1, sizeof(*v->rows));
	v->counters = calloc(l->ncounters ? l->ncounters : 1, sizeof(*v->counters));
	if (!v->rows || !v->counters) {
		kt_vm_view_free(v);
		kt_vm_blank(v, who, KT_ERROR, -ENOMEM);
		return -ENOMEM;
	}
	for (i = 0; i < l->nexits; i++) {
		const struct kt_exit_layout *e = &l->exits[i];

		/* Reasons that never happened are left out. */
		if (!kt_snap_val(cur, e->count))
			continue;
		vm_row(&v->rows[v->nrows], e, v, prev, cur);
		v->exits = sat_add(v->exits, v->rows[v->nrows].count);
		v->exits_delta = sat_add(v->exits_delta, v->rows[v->nrows].delta);
		v->nrows++;
	}
	v->exit_rate = per_sec(v->exits_delta, v->secs);
	for (i = 0; i < l->ncounters; i++) {
		const struct kt_counter_layout *c = &l->counters[i];
		struct kt_counter_row *r = &v->counters[v->ncounters++];

		memcpy(r->name, c->name, sizeof(r->name));
		r->unit = c->unit;
		r->instant = c->instant;
		r->value = kt_snap_val(cur, c->at);
		if (!c->instant) {
			r->delta = grown(prev, cur, c->at);
			r->rate = per_sec(r->delta, v->secs);
		}
	}
	return 0;
}

/* ---- several VMs ---------------------------------------------------------- */

int kt_rows_merge(struct kt_exit_row **rows, uint32_t *nrows, const struct kt_exit_row *src,
		  uint32_t nsrc)
{
	uint32_t i, j, w;

	for (i = 0; i < nsrc; i++) {
		const struct kt_exit_row *s = &src[i];
		struct kt_exit_row *d = NULL;

		for (j = 0; j < *nrows; j++)
			if (!strcmp((*rows)[j].name, s->name)) {
				d = &(*rows)[j];
				break;
			}
		if (!d) {
			struct kt_exit_row *grown_rows = realloc(*rows, (*nrows + 1) * sizeof(**rows));

			if (!grown_rows)
				return -ENOMEM;
			*rows = grown_rows;
			grown_rows[*nrows] = *s;
			(*nrows)++;
			continue;
		}
		d->count = sat_add(d->count, s->count);
		d->delta = sat_add(d->delta, s->delta);
		d->rate += s->rate;
		if (!d->tsc_khz)
			d->tsc_khz = s->tsc_khz;
		for (w = 0; w < KT_WAYS; w++) {
			uint32_t nb = s->nbuckets[w];

			if (nb < 2 || nb > KT_HIST_MAX)
				continue;
			if (d->nbuckets[w] < 2) {
				memcpy(d->hist[w], s->hist[w], sizeof(d->hist[w]));
				d->nbuckets[w] = nb;
			} else if (nb >= d->nbuckets[w]) {
				hist_fold(d->hist[w], d->nbuckets[w], s->hist[w], nb);
			} else {
				uint64_t mine[KT_HIST_MAX];
				uint32_t mnb = d->nbuckets[w];

				memcpy(mine, d->hist[w], sizeof(mine));
				memcpy(d->hist[w], s->hist[w], sizeof(d->hist[w]));
				d->nbuckets[w] = nb;
				hist_fold(d->hist[w], nb, mine, mnb);
			}
		}
		kt_row_latency(d);
	}
	return 0;
}

/* ---- sorting -------------------------------------------------------------- */

struct sort_how {
	enum kt_sort key;
	enum kt_lat lat;
};

static int cmp_desc_double(double a, double b)
{
	return a > b ? -1 : a < b ? 1 : 0;
}

static int cmp_desc_u64(uint64_t a, uint64_t b)
{
	return a > b ? -1 : a < b ? 1 : 0;
}

static int cmp_rows(const void *pa, const void *pb, void *arg)
{
	const struct kt_exit_row *a = pa, *b = pb;
	const struct sort_how *how = arg;
	const struct kt_pct *pa99 = &a->lat[how->lat].p99, *pb99 = &b->lat[how->lat].p99;
	int c = 0;

	switch (how->key) {
	case KT_SORT_RATE:
		c = cmp_desc_double(a->rate, b->rate);
		if (!c)
			c = cmp_desc_u64(a->count, b->count);
		break;
	case KT_SORT_COUNT:
		c = cmp_desc_u64(a->count, b->count);
		break;
	case KT_SORT_P99:
		/* Rows without samples last. */
		c = (int)pb99->valid - (int)pa99->valid;
		if (!c && pa99->valid)
			c = cmp_desc_double(pa99->us, pb99->us);
		if (!c)
			c = cmp_desc_double(a->rate, b->rate);
		break;
	case KT_SORT_NAME:
	case KT_SORTS:
		break;
	}
	if (!c)
		c = strcmp(a->name, b->name);
	if (!c)
		c = a->code < b->code ? -1 : a->code > b->code;
	return c;
}

void kt_sort_rows(struct kt_exit_row *rows, uint32_t n, enum kt_sort key, enum kt_lat lat)
{
	struct sort_how how = { key, lat < KT_LATS ? lat : KT_LAT_ALL };

	if (n > 1)
		qsort_r(rows, n, sizeof(*rows), cmp_rows, &how);
}

static const char *const sort_names[KT_SORTS] = {
	[KT_SORT_RATE] = "rate", [KT_SORT_COUNT] = "count",
	[KT_SORT_P99] = "p99", [KT_SORT_NAME] = "name",
};

const char *kt_sort_name(enum kt_sort key)
{
	return key < KT_SORTS ? sort_names[key] : "?";
}

int kt_sort_parse(const char *s)
{
	int i;

	for (i = 0; i < KT_SORTS && s; i++)
		if (!strcmp(s, sort_names[i]))
			return i;
	return -1;
}

const char *kt_lat_name(enum kt_lat lat)
{
	static const char *const names[KT_LATS] = { "all", "kernel", "user" };

	return lat < KT_LATS ? names[lat] : "?";
}

const char *kt_state_name(enum kt_state state)
{
	switch (state) {
	case KT_RUNNING:
		return "running";
	case KT_GONE:
		return "gone";
	case KT_DENIED:
		return "denied";
	case KT_ERROR:
		return "error";
	}
	return "?";
}
