// SPDX-License-Identifier: GPL-2.0
/* The report's figures (analyze.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

const char *const ktr_state_names[KTR_NSTATES] = {
	[KTR_ST_GUEST] = "guest",
	[KTR_ST_KHV] = "khv",
	[KTR_ST_USER] = "user",
	[KTR_ST_HALT] = "halted",
	[KTR_ST_UNKNOWN] = "unknown",
};

/* KHV_EXIT_* (uapi/linux/khv.h), as khv's statistics files name them. */
static const char *const uexit_names[KTR_UEXIT_NAMES + 1] = {
	"unknown", "io", "mmio", "hlt", "shutdown", "fail_entry", "internal_error", "intr",
	"hypercall", "irq_window_open", "study", "other",
};

const char *ktr_uexit_name(uint32_t i)
{
	return uexit_names[i < KTR_UEXIT_NAMES ? i : KTR_UEXIT_NAMES];
}

uint64_t ktr_pct(const struct ktr_samples *s, double p)
{
	double rank;
	uint64_t i;

	if (!s->n)
		return 0;
	rank = ceil(p / 100.0 * (double)s->n);
	i = rank < 1 ? 0 : (uint64_t)rank - 1;
	return s->v[i < s->n ? i : s->n - 1];
}

uint64_t ktr_bin_width(const struct ktr_analysis *a, uint32_t i)
{
	if (i + 1 < a->nbins)
		return a->bin_ns;
	return a->duration_ns - (uint64_t)(a->nbins - 1) * a->bin_ns;
}

static int push(struct ktr_samples *s, uint64_t v)
{
	if (s->n == s->cap) {
		uint64_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = v;
	s->sum += v;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts kern and user, and merges them into all. */
static int finish_samples(struct ktr_reason *r)
{
	uint64_t i = 0, j = 0, n = r->kern.n + r->user.n;

	if (r->kern.n > 1)
		qsort(r->kern.v, r->kern.n, sizeof(uint64_t), cmp_u64);
	if (r->user.n > 1)
		qsort(r->user.v, r->user.n, sizeof(uint64_t), cmp_u64);
	r->all.v = malloc((n ? n : 1) * sizeof(uint64_t));
	if (!r->all.v)
		return -ENOMEM;
	r->all.n = r->all.cap = n;
	r->all.sum = r->kern.sum + r->user.sum;
	while (i < r->kern.n || j < r->user.n) {
		if (j == r->user.n || (i < r->kern.n && r->kern.v[i] <= r->user.v[j]))
			r->all.v[i + j] = r->kern.v[i], i++;
		else
			r->all.v[i + j] = r->user.v[j], j++;
	}
	return 0;
}

/* ---- the state machine ---------------------------------------------------- */

struct ctx {
	const struct ktr_trace *t;
	struct ktr_analysis *a;
};

/* Adds [from, to) (absolute ns, within the recording) to state st. */
static void credit(struct ktr_analysis *a, struct ktr_vcpu *v, uint64_t from, uint64_t to,
		   enum ktr_state st)
{
	double x0, x1, c0, c1;
	uint32_t c, first, last;

	if (to <= from)
		return;
	v->t[st] += to - from;
	if (st == KTR_ST_HALT && v->pend.valid)
		v->pend.halt_ns += to - from;
	if (!a->ncols)
		return;
	x0 = (double)(from - a->start_ns);
	x1 = (double)(to - a->start_ns);
	first = (uint32_t)fmin(x0 / a->col_ns, a->ncols - 1);
	last = (uint32_t)fmin(x1 / a->col_ns, a->ncols - 1);
	for (c = first; c <= last; c++) {
		c0 = fmax(x0, c * a->col_ns);
		c1 = c + 1 == a->ncols ? x1 : fmin(x1, (c + 1) * a->col_ns);
		if (c1 > c0)
			v->col[c * KTR_NSTATES + st] += (float)((c1 - c0) / a->col_ns);
	}
}

static void close_interval(struct ktr_analysis *a, struct ktr_vcpu *v, uint64_t ts,
			   enum ktr_state st)
{
	credit(a, v, v->since, ts, st);
	if (ts > v->since)
		v->since = ts;
}

/* The exit pending on v gets no latency (lost events, an impossible order). */
static void drop_pending(struct ktr_analysis *a, struct ktr_vcpu *v, uint64_t *why)
{
	if (!v->pend.valid)
		return;
	a->reasons[v->pend.reason].untimed++;
	a->untimed++;
	(*why)++;
	v->pend.valid = false;
}

/* Is state st what precedes an event of this type and flags? */
static bool expected(enum ktr_state st, const struct ktr_rec *r)
{
	switch (r->type) {
	case KTR_ENTRY:
		return st != KTR_ST_GUEST;
	case KTR_EXIT:
		return st == KTR_ST_GUEST;
	case KTR_UEXIT:
		return st != KTR_ST_GUEST;
	default:	/* halt: sleep from khv or userspace's KHV_RUN, wake from halted */
		return (r->flags & KTR_HALT_WAKE) ? st == KTR_ST_HALT
						 : st == KTR_ST_KHV || st == KTR_ST_USER;
	}
}

static int step(struct ctx *x, struct ktr_vcpu *v, const struct ktr_rec *r, uint64_t ts)
{
	struct ktr_analysis *a = x->a;
	bool in_gap = false;
	uint64_t hw_exit = ts;
	enum ktr_state cur;
	struct ktr_reason *rs;
	int err;

	if (r->type == KTR_EXIT && r->handle_ns) {
		hw_exit = ts - r->handle_ns;
		if (hw_exit < a->start_ns)
			hw_exit = a->start_ns;
		if (v->seen && hw_exit < v->since)
			hw_exit = v->since;
	}

	/* What the time since the vCPU's last event was. */
	if (!v->seen && r->type == KTR_ENTRY)
		a->untimed_start++;
	if (v->tainted) {
		/* Events may be missing since the last one: nothing is known. */
		cur = KTR_ST_UNKNOWN;
		drop_pending(a, v, &a->untimed_lost);
		in_gap = ts <= v->taint_until;
		v->tainted = in_gap;
	} else if (!v->seen) {
		/* Before the first event: only an exit or a wake tells. */
		if (r->type == KTR_EXIT)
			cur = KTR_ST_GUEST;
		else if (r->type == KTR_HALT && (r->flags & KTR_HALT_WAKE))
			cur = KTR_ST_HALT;
		else
			cur = KTR_ST_UNKNOWN;
	} else if (!expected(v->state, r)) {
		cur = KTR_ST_UNKNOWN;
		a->anomalies++;
		if (r->type == KTR_ENTRY || r->type == KTR_EXIT)
			drop_pending(a, v, &a->untimed_lost);
	} else {
		cur = v->state;
	}
	if (!v->seen) {
		v->seen = true;
		v->since = a->start_ns;
	}
	close_interval(a, v, hw_exit, cur);

	switch (r->type) {
	case KTR_ENTRY:
		v->entries++;
		if (v->pend.valid) {
			rs = &a->reasons[v->pend.reason];
			if (v->pend.timed) {
				err = push(v->pend.user ? &rs->user : &rs->kern, ts - v->pend.ts);
				if (err)
					return err;
				rs->halt_ns += v->pend.halt_ns;
				a->timed++;
			} else {
				rs->untimed++;
				a->untimed++;
				a->untimed_lost++;
			}
			v->pend.valid = false;
		}
		v->state = KTR_ST_GUEST;
		break;
	case KTR_EXIT:
		v->exits++;
		a->exits++;
		rs = &a->reasons[r->name];
		rs->count++;
		rs->bins[a->nbins > 1 ? (uint32_t)fmin((double)((ts - a->start_ns) / a->bin_ns),
						       a->nbins - 1) : 0]++;
		v->pend.valid = true;
		v->pend.timed = !in_gap;
		v->pend.user = r->ret <= 0;
		v->pend.reason = r->name;
		v->pend.ts = hw_exit;
		v->pend.halt_ns = 0;
		/* The handler's own time, when khv_exit says it. */
		close_interval(a, v, ts, KTR_ST_KHV);
		v->state = KTR_ST_KHV;
		break;
	case KTR_UEXIT:
		v->uexits++;
		a->uexit_reasons[r->code < KTR_UEXIT_NAMES ? r->code : KTR_UEXIT_NAMES]++;
		if (v->pend.valid)
			v->pend.user = true;
		v->state = KTR_ST_USER;
		break;
	default:
		if (r->flags & KTR_HALT_WAKE) {
			v->state = KTR_ST_KHV;
		} else {
			v->halts++;
			v->state = KTR_ST_HALT;
		}
		break;
	}
	return 0;
}

/* ---- setup and the pass over the records ---------------------------------- */

struct order {
	uint64_t ts;
	uint64_t i;
};

static int cmp_order(const void *pa, const void *pb)
{
	const struct order *a = pa, *b = pb;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

static int cmp_vcpu(const void *pa, const void *pb)
{
	const struct ktr_vcpu *a = pa, *b = pb;

	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return a->vcpu < b->vcpu ? -1 : a->vcpu > b->vcpu;
}

static int cmp_reason(const void *pa, const void *pb)
{
	const struct ktr_reason *a = pa, *b = pb;
	int c;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	c = strcmp(a->name, b->name);
	if (c)
		return c;
	return a->code < b->code ? -1 : a->code > b->code;
}

static struct ktr_vcpu *find_vcpu(struct ktr_analysis *a, uint32_t pid, uint32_t vcpu)
{
	struct ktr_vcpu key = { .pid = pid, .vcpu = vcpu };

	return bsearch(&key, a->vcpus, a->nvcpus, sizeof(key), cmp_vcpu);
}

static bool is_vcpu_event(const struct ktr_rec *r)
{
	return r->type >= KTR_ENTRY && r->type <= KTR_HALT;
}

static int setup_vcpus(const struct ktr_trace *t, struct ktr_analysis *a)
{
	uint64_t i, n = 0;
	uint32_t j, k;

	for (i = 0; i < t->h.nrec; i++)
		n += is_vcpu_event(&t->rec[i]);
	/* One slot per event at worst; cut down to the distinct pairs below. */
	a->vcpus = calloc(n ? n : 1, sizeof(*a->vcpus));
	if (!a->vcpus)
		return -ENOMEM;
	for (i = 0, n = 0; i < t->h.nrec; i++) {
		const struct ktr_rec *r = &t->rec[i];

		if (!is_vcpu_event(r))
			continue;
		/* Runs of the same vCPU are the common case: skip repeats cheaply. */
		if (n && a->vcpus[n - 1].pid == r->pid && a->vcpus[n - 1].vcpu == r->vcpu)
			continue;
		a->vcpus[n].pid = r->pid;
		a->vcpus[n].vcpu = r->vcpu;
		n++;
	}
	qsort(a->vcpus, n, sizeof(*a->vcpus), cmp_vcpu);
	for (j = 0, k = 0; j < n; j++)
		if (!k || cmp_vcpu(&a->vcpus[k - 1], &a->vcpus[j]))
			a->vcpus[k++] = a->vcpus[j];
	a->nvcpus = k;
	for (j = 0; j < k; j++) {
		a->vcpus[j].col = calloc((size_t)(a->ncols ? a->ncols : 1) * KTR_NSTATES,
					 sizeof(float));
		if (!a->vcpus[j].col)
			return -ENOMEM;
	}
	return 0;
}

static void choose_bins(struct ktr_analysis *a, uint32_t target)
{
	static const uint64_t steps[3] = { 1, 2, 5 };
	uint64_t raw = a->duration_ns / target, mag;
	unsigned int i;

	a->bin_ns = 0;
	for (mag = 1000; !a->bin_ns; mag *= 10) {
		for (i = 0; i < 3 && !a->bin_ns; i++)
			if (steps[i] * mag >= raw)
				a->bin_ns = steps[i] * mag;
		if (mag > UINT64_MAX / 100)
			a->bin_ns = mag;
	}
	a->nbins = a->duration_ns / a->bin_ns > 0 ? (uint32_t)(a->duration_ns / a->bin_ns) : 1;
	if (a->nbins == 1)
		a->bin_ns = a->duration_ns;
}

int ktr_analyze(const struct ktr_trace *t, const struct ktr_analyze_opts *o,
		struct ktr_analysis *a)
{
	uint32_t ncols = o && o->ncols ? o->ncols : 1000;
	uint32_t target = o && o->target_bins ? o->target_bins : 100;
	struct ctx x = { .t = t, .a = a };
	struct order *ord = NULL;
	uint64_t i, n = 0;
	uint32_t j;
	int err = -ENOMEM;

	memset(a, 0, sizeof(*a));
	a->start_ns = t->h.start_ns;
	a->end_ns = t->h.end_ns > t->h.start_ns ? t->h.end_ns : t->h.start_ns;
	a->duration_ns = a->end_ns - a->start_ns;
	a->ncols = a->duration_ns ? ncols : 0;
	a->col_ns = a->ncols ? (double)a->duration_ns / a->ncols : 0;
	choose_bins(a, target);

	a->nreasons = t->h.nnames;
	a->reasons = calloc(a->nreasons ? a->nreasons : 1, sizeof(*a->reasons));
	if (!a->reasons)
		goto fail;
	for (j = 0; j < a->nreasons; j++) {
		a->reasons[j].code = t->names[j].code;
		memcpy(a->reasons[j].name, t->names[j].name, KTR_NAME_LEN);
		a->reasons[j].name[KTR_NAME_LEN - 1] = 0;
		a->reasons[j].bins = calloc(a->nbins, sizeof(uint64_t));
		if (!a->reasons[j].bins)
			goto fail;
	}
	if (setup_vcpus(t, a))
		goto fail;

	ord = malloc((t->h.nrec ? t->h.nrec : 1) * sizeof(*ord));
	if (!ord)
		goto fail;
	for (i = 0; i < t->h.nrec; i++) {
		uint64_t ts = t->rec[i].ts;

		if (ts < a->start_ns || ts > a->end_ns) {
			a->clamped++;
			ts = ts < a->start_ns ? a->start_ns : a->end_ns;
		}
		ord[n].ts = ts;
		ord[n++].i = i;
	}
	if (n > 1)
		qsort(ord, n, sizeof(*ord), cmp_order);

	for (i = 0; i < n; i++) {
		const struct ktr_rec *r = &t->rec[ord[i].i];
		struct ktr_vcpu *v;

		if (r->type == KTR_LOST) {
			uint64_t until = r->info2 < a->end_ns ? r->info2 : a->end_ns;

			a->lost_markers++;
			if (r->info1 == KTR_LOST_UNKNOWN)
				a->lost_unknown = true;
			else
				a->lost_known += r->info1;
			/* Any vCPU may have lost events there: none is trusted till after it. */
			for (j = 0; j < a->nvcpus; j++) {
				a->vcpus[j].tainted = true;
				if (until > a->vcpus[j].taint_until)
					a->vcpus[j].taint_until = until;
			}
			continue;
		}
		a->events++;
		v = find_vcpu(a, r->pid, r->vcpu);
		if (!v)
			continue;	/* cannot be: every pair is in the table */
		if ((err = step(&x, v, r, ord[i].ts)))
			goto fail;
	}
	free(ord);
	ord = NULL;

	for (j = 0; j < a->nvcpus; j++) {
		struct ktr_vcpu *v = &a->vcpus[j];

		close_interval(a, v, a->end_ns, v->tainted ? KTR_ST_UNKNOWN : v->state);
		if (v->pend.valid) {
			a->reasons[v->pend.reason].untimed++;
			a->untimed++;
			a->untimed_end++;
			v->pend.valid = false;
		}
	}
	err = -ENOMEM;
	for (j = 0; j < a->nreasons; j++)
		if (finish_samples(&a->reasons[j]))
			goto fail;
	if (a->nreasons > 1)
		qsort(a->reasons, a->nreasons, sizeof(*a->reasons), cmp_reason);
	return 0;

fail:
	free(ord);
	ktr_analysis_free(a);
	return err ? err : -ENOMEM;
}

void ktr_analysis_free(struct ktr_analysis *a)
{
	uint32_t j;

	for (j = 0; a->reasons && j < a->nreasons; j++) {
		free(a->reasons[j].kern.v);
		free(a->reasons[j].user.v);
		free(a->reasons[j].all.v);
		free(a->reasons[j].bins);
	}
	for (j = 0; a->vcpus && j < a->nvcpus; j++)
		free(a->vcpus[j].col);
	free(a->reasons);
	free(a->vcpus);
	memset(a, 0, sizeof(*a));
}
