// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target of statistics files: the bytes are a whole file's image.
 * libkhv's parser (khv_stats_parse) must refuse it with -EPROTO or
 * -EBADMSG, or accept it; an accepted one goes through everything khv-top
 * does with a file: its layout, a read, the figures since the VM's start
 * and over a window from an altered earlier read (counters that grew, went
 * back, or stayed), the rows of two VMs merged, every sort, the batch lines.
 *
 * Checked beyond the sanitizers: every value a descriptor names lies in the
 * data; the layout's indices too; shares stay within 0..100, rates and
 * percentiles are finite and not negative, p50 <= p99; sorted rows are in
 * order; every batch line is a known record of key=value words with no
 * "nan" or "inf".  A violation aborts.
 *
 * Built with clang -fsanitize=fuzzer (make fuzz); the unit tests call
 * LLVMFuzzerTestOneInput() on the corpus (tests/corpus/stats/) and on
 * truncated and mutated images of it (t_fuzz.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../format.h"
#include "../model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_ASSERT(c)	do { if (!(c)) fz_fail(#c, __LINE__); } while (0)

static void fz_fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_stats.c:%d: %s\n", line, what);
	abort();
}

static void check_parsed(const struct khv_stats *st)
{
	uint32_t i;

	FZ_ASSERT(st->ndata == st->hdr.data_size / 8);
	for (i = 0; i < st->ndesc; i++) {
		const struct khv_stats_desc *d = &st->desc[i];

		FZ_ASSERT(memchr(d->name, 0, sizeof(d->name)));
		FZ_ASSERT(d->count && d->offset % 8 == 0);
		FZ_ASSERT(d->offset / 8 + d->count <= st->ndata);
		FZ_ASSERT(khv_stats_values(st, i) == st->data + d->offset / 8);
	}
	FZ_ASSERT(khv_stats_values(st, st->ndesc) == NULL);
}

static void check_index(const struct kt_layout *l, int32_t at, uint32_t n)
{
	FZ_ASSERT(at >= -1);
	FZ_ASSERT(at < 0 || (uint64_t)at + n <= l->ndata);
}

static void check_layout(const struct kt_layout *l)
{
	uint32_t i, w;

	check_index(l, l->alive, 1);
	check_index(l, l->tsc_khz, 1);
	check_index(l, l->exit_timing, 1);
	check_index(l, l->vcpus, 1);
	for (i = 0; i < KT_TIMES; i++)
		check_index(l, l->time[i], 1);
	for (i = 0; i < l->nexits; i++) {
		const struct kt_exit_layout *e = &l->exits[i];

		FZ_ASSERT(memchr(e->name, 0, sizeof(e->name)) && e->name[0]);
		check_index(l, e->count, 1);
		for (w = 0; w < KT_WAYS; w++) {
			check_index(l, e->cycles[w], 1);
			check_index(l, e->hist[w], e->nbuckets[w]);
			FZ_ASSERT(e->hist[w] < 0 ||
				  (e->nbuckets[w] >= 2 && e->nbuckets[w] <= KT_HIST_MAX));
		}
	}
	for (i = 0; i < l->ncounters; i++)
		check_index(l, l->counters[i].at, 1);
}

static void check_pct(const struct kt_pct *p)
{
	if (p->valid)
		FZ_ASSERT(isfinite(p->us) && p->us >= 0);
}

static void check_row(const struct kt_exit_row *r)
{
	uint32_t k;

	FZ_ASSERT(memchr(r->name, 0, sizeof(r->name)));
	FZ_ASSERT(isfinite(r->rate) && r->rate >= 0);
	for (k = 0; k < KT_LATS; k++) {
		check_pct(&r->lat[k].p50);
		check_pct(&r->lat[k].p99);
		FZ_ASSERT(r->lat[k].p50.valid == r->lat[k].p99.valid);
		if (r->lat[k].p50.valid)
			FZ_ASSERT(r->lat[k].p50.us <= r->lat[k].p99.us);
	}
}

static void check_view(const struct kt_vm_view *v, const struct kt_layout *l)
{
	uint32_t i;

	FZ_ASSERT(v->figures);
	FZ_ASSERT(isfinite(v->secs) && v->secs >= 0);
	FZ_ASSERT(isfinite(v->exit_rate) && v->exit_rate >= 0);
	FZ_ASSERT(v->nrows <= l->nexits && v->ncounters == l->ncounters);
	for (i = 0; i < KT_SHARES && v->shares_valid; i++)
		FZ_ASSERT(v->share[i] >= 0 && v->share[i] <= 100);
	for (i = 0; i < v->nrows; i++) {
		check_row(&v->rows[i]);
		FZ_ASSERT(v->rows[i].count);	/* reasons never seen are left out */
	}
	for (i = 0; i < v->ncounters; i++)
		FZ_ASSERT(isfinite(v->counters[i].rate) && v->counters[i].rate >= 0);
}

static void check_sorted(struct kt_exit_row *rows, uint32_t n)
{
	uint32_t k, l, i;

	for (k = 0; k < KT_SORTS; k++) {
		for (l = 0; l < KT_LATS; l++) {
			kt_sort_rows(rows, n, (enum kt_sort)k, (enum kt_lat)l);
			for (i = 1; i < n; i++) {
				const struct kt_exit_row *a = &rows[i - 1], *b = &rows[i];
				const struct kt_pct *pa = &a->lat[l].p99, *pb = &b->lat[l].p99;

				switch (k) {
				case KT_SORT_RATE:
					FZ_ASSERT(a->rate >= b->rate);
					break;
				case KT_SORT_COUNT:
					FZ_ASSERT(a->count >= b->count);
					break;
				case KT_SORT_P99:
					FZ_ASSERT(pa->valid >= pb->valid);
					FZ_ASSERT(!pa->valid || !pb->valid || pa->us >= pb->us);
					break;
				case KT_SORT_NAME:
					FZ_ASSERT(strcmp(a->name, b->name) <= 0);
					break;
				}
			}
		}
	}
}

static bool is_text_key(const char *key)
{
	static const char *const text[] = { "comm", "name", "state", "window", "unit", "kind" };
	size_t i;

	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if (!strcmp(key, text[i]))
			return true;
	return false;
}

/* "-", or a decimal number (never nan or inf), or a 0x hex code. */
static void check_number(const char *v)
{
	const char *p = v;

	if (!strcmp(v, "-"))
		return;
	if (!strncmp(v, "0x", 2)) {
		FZ_ASSERT(v[2] && strspn(v + 2, "0123456789abcdef") == strlen(v + 2));
		return;
	}
	if (*p == '-')
		p++;
	FZ_ASSERT(*p >= '0' && *p <= '9');
	FZ_ASSERT(strspn(p, "0123456789.") == strlen(p));
}

/* Every line a known record of key=value words, numbers never nan or inf. */
static void check_lines(char *text, size_t len)
{
	char *line = text, *nl;

	FZ_ASSERT(strlen(text) == len);
	FZ_ASSERT(!len || text[len - 1] == '\n');
	for (; (nl = strchr(line, '\n')); line = nl + 1) {
		char *word, *save = NULL;
		int n = 0;

		*nl = '\0';
		FZ_ASSERT(!strstr(line, "  ") && line[0] != ' ');
		for (word = strtok_r(line, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
			char *eq = strchr(word, '=');

			if (!n++) {
				FZ_ASSERT(!strcmp(word, "vm") || !strcmp(word, "exit") ||
					  !strcmp(word, "counter") || !strcmp(word, "sample"));
				continue;
			}
			FZ_ASSERT(eq && eq != word && eq[1] && !strchr(eq + 1, '='));
			*eq = '\0';
			if (!is_text_key(word))
				check_number(eq + 1);
		}
		FZ_ASSERT(n >= 3);
	}
	FZ_ASSERT(!*line);
}

/* An earlier read: each value altered by a rule the input's bytes pick. */
static void older(struct kt_snap *s, const struct kt_snap *cur, const uint8_t *data, size_t size)
{
	uint32_t i;

	s->n = cur->n;
	s->v = malloc((cur->n ? cur->n : 1) * sizeof(*s->v));
	FZ_ASSERT(s->v);
	s->t_ns = cur->t_ns - 1500000000ull;
	for (i = 0; i < cur->n; i++) {
		uint8_t b = size ? data[i % size] : 0;

		switch (b & 3) {
		case 0:
			s->v[i] = cur->v[i] / 2;	/* grew */
			break;
		case 1:
			s->v[i] = cur->v[i];		/* stayed */
			break;
		case 2:
			s->v[i] = cur->v[i] + b;	/* went back */
			break;
		default:
			s->v[i] = 0;
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_vm_ident who = { .id = 7, .pid = 99, .comm = "fuzz\tme", .nr_vcpus = 2,
				   .created_ns = 1000000000ull };
	struct kt_vm_view v[3];
	struct kt_exit_row *all = NULL;
	struct kt_snap cur = { 0 }, prev = { 0 };
	struct khv_stats st;
	struct kt_layout l;
	uint32_t nall = 0, i;
	char *text = NULL;
	size_t len = 0;
	FILE *out;
	int r;

	r = khv_stats_parse(&st, data, size);
	if (r) {
		FZ_ASSERT(r == -EPROTO || r == -EBADMSG || r == -ENOMEM);
		FZ_ASSERT(!st.desc && !st.data && st.fd == -1);
		return 0;
	}
	check_parsed(&st);
	FZ_ASSERT(khv_stats_read(&st) == -EBADF);	/* a buffer, no file */
	if (kt_layout_build(&l, &st)) {
		khv_stats_close(&st);
		return 0;
	}
	check_layout(&l);
	FZ_ASSERT(!kt_snap_take(&cur, &st, 5000000000ull));
	older(&prev, &cur, data, size);

	FZ_ASSERT(!kt_vm_compute(&v[0], &who, &l, NULL, &cur));
	FZ_ASSERT(!kt_vm_compute(&v[1], &who, &l, &prev, &cur));
	FZ_ASSERT(!kt_vm_compute(&v[2], &who, &l, &cur, &prev));	/* time went back */
	FZ_ASSERT(v[0].total && !v[1].total && v[2].secs == 0);
	out = open_memstream(&text, &len);
	FZ_ASSERT(out);
	kt_print_sample(out, 1, 3, 1.5);
	for (i = 0; i < 3; i++) {
		check_view(&v[i], &l);
		FZ_ASSERT(!kt_rows_merge(&all, &nall, v[i].rows, v[i].nrows));
		kt_print_batch(out, i + 1, &v[i], (enum kt_sort)(i % KT_SORTS));
	}
	FZ_ASSERT(nall >= v[0].nrows && nall <= l.nexits);
	for (i = 0; i < nall; i++)
		check_row(&all[i]);
	check_sorted(all, nall);
	FZ_ASSERT(!fclose(out));
	check_lines(text, len);

	free(text);
	free(all);
	for (i = 0; i < 3; i++)
		kt_vm_view_free(&v[i]);
	kt_snap_free(&prev);
	kt_snap_free(&cur);
	kt_layout_free(&l);
	khv_stats_close(&st);
	return 0;
}
