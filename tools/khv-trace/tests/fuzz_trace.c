// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target of trace files: the bytes are a whole file.  The reader
 * (ktr_parse) must refuse it with a message or accept it, once with its
 * checksums checked and once without (so that mutations reach the checks
 * behind them); an accepted file goes through everything the report does
 * but draw: the analysis, report.txt and index.html (into memory).
 *
 * Checked beyond the sanitizers: a refusal has a code and a one-line
 * message; an accepted trace's exit records name a table entry and its
 * strings end; every vCPU's states add up to the recording and each
 * timeline column to one; every exit is timed or counted as not; the
 * latencies are sorted and their percentiles in order; the rate bins add
 * up to the counts.  A violation aborts.
 *
 * Built with clang -fsanitize=fuzzer (make fuzz); the unit tests call
 * LLVMFuzzerTestOneInput() on the corpus (tests/corpus/trace/) and on
 * truncated and mutated seeds (t_fuzz.c).
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analyze.h"
#include "../report.h"
#include "../trace_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_ASSERT(c)	do { if (!(c)) fz_fail(#c, __LINE__); } while (0)

static void fz_fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_trace.c:%d: %s\n", line, what);
	abort();
}

static void check_trace(const struct ktr_trace *t)
{
	uint64_t i;

	for (i = 0; i < t->h.nrec; i++) {
		const struct ktr_rec *r = &t->rec[i];

		FZ_ASSERT(r->type >= KTR_ENTRY && r->type < KTR_TYPE_MAX);
		if (r->type == KTR_EXIT)
			FZ_ASSERT(r->name < t->h.nnames);
	}
	for (i = 0; i < t->h.nnames; i++)
		FZ_ASSERT(memchr(t->names[i].name, 0, KTR_NAME_LEN));
	for (i = 0; i < t->h.nprocs; i++)
		FZ_ASSERT(memchr(t->procs[i].comm, 0, KTR_COMM_LEN));
	FZ_ASSERT(memchr(t->h.clock, 0, KTR_CLOCK_LEN));
	FZ_ASSERT(t->h.start_ns <= t->h.end_ns);
}

static void check_samples(const struct ktr_samples *s)
{
	uint64_t i, sum = 0;

	for (i = 0; i < s->n; i++) {
		sum += s->v[i];
		if (i)
			FZ_ASSERT(s->v[i - 1] <= s->v[i]);
	}
	FZ_ASSERT(sum == s->sum);
	FZ_ASSERT(ktr_pct(s, 50) <= ktr_pct(s, 90));
	FZ_ASSERT(ktr_pct(s, 90) <= ktr_pct(s, 99));
	FZ_ASSERT(ktr_pct(s, 99) <= ktr_pct(s, 100));
}

static void check_analysis(const struct ktr_analysis *a)
{
	uint64_t exits = 0, bins, n;
	uint32_t k, i, c, s;

	for (k = 0; k < a->nreasons; k++) {
		const struct ktr_reason *r = &a->reasons[k];

		exits += r->count;
		FZ_ASSERT(r->all.n == r->kern.n + r->user.n);
		FZ_ASSERT(r->all.n + r->untimed == r->count);
		check_samples(&r->kern);
		check_samples(&r->user);
		check_samples(&r->all);
		for (i = 0, bins = 0; i < a->nbins; i++)
			bins += r->bins[i];
		FZ_ASSERT(bins == r->count);
		if (k)
			FZ_ASSERT(a->reasons[k - 1].count >= r->count);
	}
	FZ_ASSERT(exits == a->exits);
	FZ_ASSERT(a->timed + a->untimed == a->exits);
	FZ_ASSERT(a->nbins >= 1);
	for (i = 0, n = 0; i < a->nbins; i++)
		n += ktr_bin_width(a, i);
	FZ_ASSERT(n == a->duration_ns);
	for (i = 0; i < a->nvcpus; i++) {
		const struct ktr_vcpu *v = &a->vcpus[i];
		uint64_t sum = 0;

		for (s = 0; s < KTR_NSTATES; s++)
			sum += v->t[s];
		FZ_ASSERT(sum == a->duration_ns);
		if (i)
			FZ_ASSERT(v[-1].pid < v->pid || (v[-1].pid == v->pid && v[-1].vcpu < v->vcpu));
		for (c = 0; c < a->ncols; c++) {
			double f = 0;

			for (s = 0; s < KTR_NSTATES; s++) {
				FZ_ASSERT(v->col[c * KTR_NSTATES + s] >= 0);
				f += v->col[c * KTR_NSTATES + s];
			}
			FZ_ASSERT(fabs(f - 1.0) < 1e-3);
		}
	}
}

/* Strings from the file that could pass for a number printed as NaN or infinity. */
static bool odd_names(const struct ktr_trace *t)
{
	uint64_t i;

	for (i = 0; i < t->h.nnames; i++)
		if (strcasestr(t->names[i].name, "nan") || strcasestr(t->names[i].name, "inf"))
			return true;
	for (i = 0; i < t->h.nprocs; i++)
		if (strcasestr(t->procs[i].comm, "nan") || strcasestr(t->procs[i].comm, "inf"))
			return true;
	return strcasestr(t->h.comm, "nan") || strcasestr(t->h.comm, "inf") ||
	       strcasestr(t->h.clock, "nan") || strcasestr(t->h.clock, "inf");
}

/* report.txt and index.html into memory: their numbers are never NaN or infinite. */
static void check_report(const struct ktr_trace *t, const struct ktr_analysis *a)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	FZ_ASSERT(f != NULL);
	ktr_write_text(f, "fuzz.dat", t, a, 8);
	ktr_write_html(f, "fuzz.dat", t, a, 8);
	fclose(f);
	FZ_ASSERT(len > 0);
	/* The tables' cells: names, then numbers; vCPU labels are numbers too. */
	if (!odd_names(t)) {
		FZ_ASSERT(!strstr(buf, "<td>nan") && !strstr(buf, "<td>-nan"));
		FZ_ASSERT(!strstr(buf, "<td>inf") && !strstr(buf, "<td>-inf"));
	}
	free(buf);
}

static void one(const uint8_t *data, size_t size, unsigned int flags)
{
	struct ktr_analyze_opts o = { .ncols = 64, .target_bins = 20 };
	struct ktr_analysis a;
	struct ktr_trace t;
	struct ktr_error err;

	if (ktr_parse(data, size, flags, &t, &err)) {
		FZ_ASSERT(err.code > KTR_OK && err.code < KTR_E_MAX);
		FZ_ASSERT(err.msg[0] && !strchr(err.msg, '\n'));
		return;
	}
	FZ_ASSERT(err.code == KTR_OK);
	check_trace(&t);
	if (!ktr_analyze(&t, &o, &a)) {
		check_analysis(&a);
		check_report(&t, &a);
		ktr_analysis_free(&a);
	}
	ktr_trace_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, 0);
	one(data, size, KTR_PARSE_NOCRC);
	return 0;
}
