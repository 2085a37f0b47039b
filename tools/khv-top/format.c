// SPDX-License-Identifier: GPL-2.0
/* khv-top's batch lines and number formatting (format.h, khv-top.1). */
#include <inttypes.h>
#include <string.h>

#include "format.h"

void kt_escape(char *out, size_t size, const char *in, size_t inlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (!size)
		return;
	for (i = 0; i < inlen && in[i]; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c > ' ' && c < 0x7f && c != '\\' && c != '=') {
			if (o + 1 >= size)
				break;
			out[o++] = (char)c;
			continue;
		}
		if (o + 4 >= size)
			break;
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	if (!o && size >= 2)
		out[o++] = '-';
	out[o] = '\0';
}

void kt_printable(char *out, size_t size, const char *in, size_t inlen)
{
	size_t i;

	if (!size)
		return;
	for (i = 0; i < inlen && in[i] && i + 1 < size; i++)
		out[i] = in[i] >= ' ' && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

const char *kt_unit_name(uint32_t unit)
{
	switch (unit) {
	case KHV_STATS_UNIT_NONE:
		return "none";
	case KHV_STATS_UNIT_CYCLES:
		return "cycles";
	case KHV_STATS_UNIT_NS:
		return "ns";
	case KHV_STATS_UNIT_PAGES:
		return "pages";
	case KHV_STATS_UNIT_KHZ:
		return "khz";
	case KHV_STATS_UNIT_BOOLEAN:
		return "boolean";
	}
	return "other";
}

void kt_print_sample(FILE *f, unsigned long iter, unsigned int vms, double unix_time)
{
	fprintf(f, "sample iter=%lu vms=%u time=%.3f\n", iter, vms, unix_time);
}

/* " key=%.*f", or " key=-" when !valid. */
static void print_num(FILE *f, const char *key, bool valid, int prec, double x)
{
	if (valid)
		fprintf(f, " %s=%.*f", key, prec, x);
	else
		fprintf(f, " %s=-", key);
}

static void print_pct(FILE *f, const char *key, const struct kt_pct *p)
{
	print_num(f, key, p->valid, 3, p->us);
}

void kt_print_vm(FILE *f, unsigned long iter, const struct kt_vm_view *v)
{
	static const char *const share_keys[KT_SHARES] = {
		[KT_SHARE_GUEST] = "guest", [KT_SHARE_KHV] = "khv",
		[KT_SHARE_USER] = "user", [KT_SHARE_HALT] = "halt",
	};
	char comm[4 * KT_COMM_SIZE + 1];
	unsigned int i;

	kt_escape(comm, sizeof(comm), v->comm, sizeof(v->comm));
	fprintf(f, "vm iter=%lu id=%" PRIu32 " pid=%" PRId32 " comm=%s state=%s vcpus=%" PRIu32,
		iter, v->id, v->pid, comm, kt_state_name(v->state), v->vcpus);
	if (v->figures)
		fprintf(f, " window=%s secs=%.3f rate=%.1f delta=%" PRIu64 " count=%" PRIu64,
			v->total ? "total" : "interval", v->secs, v->exit_rate, v->exits_delta,
			v->exits);
	else
		fputs(" window=- secs=- rate=- delta=- count=-", f);
	for (i = 0; i < KT_SHARES; i++)
		print_num(f, share_keys[i], v->figures && v->shares_valid, 2, v->share[i]);
	fputc('\n', f);
}

void kt_print_exit(FILE *f, unsigned long iter, const struct kt_vm_view *v,
		   const struct kt_exit_row *r)
{
	char name[4 * KT_NAME_SIZE + 1];

	kt_escape(name, sizeof(name), r->name, sizeof(r->name));
	fprintf(f, "exit iter=%lu id=%" PRIu32 " name=%s code=0x%" PRIx32 " rate=%.1f delta=%" PRIu64
		" count=%" PRIu64, iter, v->id, name, r->code, r->rate, r->delta, r->count);
	print_pct(f, "p50_us", &r->lat[KT_LAT_ALL].p50);
	print_pct(f, "p99_us", &r->lat[KT_LAT_ALL].p99);
	print_pct(f, "kernel_p50_us", &r->lat[KT_LAT_KERNEL].p50);
	print_pct(f, "kernel_p99_us", &r->lat[KT_LAT_KERNEL].p99);
	print_pct(f, "user_p50_us", &r->lat[KT_LAT_USER].p50);
	print_pct(f, "user_p99_us", &r->lat[KT_LAT_USER].p99);
	fputc('\n', f);
}

void kt_print_counter(FILE *f, unsigned long iter, const struct kt_vm_view *v,
		      const struct kt_counter_row *c)
{
	char name[4 * KT_NAME_SIZE + 1];

	kt_escape(name, sizeof(name), c->name, sizeof(c->name));
	fprintf(f, "counter iter=%lu id=%" PRIu32 " name=%s unit=%s kind=%s", iter, v->id, name,
		kt_unit_name(c->unit), c->instant ? "instant" : "cumulative");
	if (c->instant)
		fputs(" rate=- delta=-", f);
	else
		fprintf(f, " rate=%.1f delta=%" PRIu64, c->rate, c->delta);
	fprintf(f, " value=%" PRIu64 "\n", c->value);
}

void kt_print_batch(FILE *f, unsigned long iter, struct kt_vm_view *v, enum kt_sort key)
{
	uint32_t i;

	kt_print_vm(f, iter, v);
	if (!v->figures)
		return;
	kt_sort_rows(v->rows, v->nrows, key, KT_LAT_ALL);
	for (i = 0; i < v->nrows; i++)
		kt_print_exit(f, iter, v, &v->rows[i]);
	for (i = 0; i < v->ncounters; i++)
		if (v->counters[i].value)
			kt_print_counter(f, iter, v, &v->counters[i]);
}

void kt_human_count(char *out, size_t size, uint64_t n)
{
	static const char suffix[] = "kMGTPE";
	double x = (double)n;
	int i = -1;

	if (n < 1000000) {
		snprintf(out, size, "%" PRIu64, n);
		return;
	}
	while (x >= 999.95 && i < 5) {
		x /= 1000;
		i++;
	}
	snprintf(out, size, "%.1f%c", x, suffix[i]);
}

void kt_human_rate(char *out, size_t size, double r)
{
	static const char suffix[] = "kMGTPE";
	int i = -1;

	if (!(r >= 0))
		r = 0;
	if (r < 100000) {
		snprintf(out, size, "%.1f", r);
		return;
	}
	while (r >= 999.95 && i < 5) {
		r /= 1000;
		i++;
	}
	snprintf(out, size, "%.1f%c", r, suffix[i]);
}
