// SPDX-License-Identifier: GPL-2.0
/* khv-trace report (report.h): report.txt, index.html, and the plots. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "plot.h"
#include "report.h"

static double pct_of(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

static double us(uint64_t ns)
{
	return (double)ns / 1e3;
}

static double seconds(const struct ktr_analysis *a)
{
	return (double)a->duration_ns / 1e9;
}

static double rate(const struct ktr_analysis *a, uint64_t n)
{
	return a->duration_ns ? (double)n / seconds(a) : 0;
}

static void fmt_date(int64_t real_ns, char *buf, size_t len)
{
	time_t secs = (time_t)(real_ns / 1000000000);
	struct tm tm;

	if (real_ns <= 0 || !gmtime_r(&secs, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, len, "?");
}

static const char *comm_of(const struct ktr_trace *t, uint32_t pid)
{
	uint32_t i;

	for (i = 0; i < t->h.nprocs; i++)
		if (t->procs[i].pid == pid)
			return t->procs[i].comm[0] ? t->procs[i].comm : "?";
	if (pid && pid == t->h.pid && t->h.comm[0])
		return t->h.comm;
	return "?";
}

void ktr_title(const struct ktr_trace *t, const struct ktr_analysis *a, char *buf, size_t len)
{
	if (t->h.pid)
		snprintf(buf, len, "pid %u (%s), %.2f s", t->h.pid, comm_of(t, t->h.pid),
			 seconds(a));
	else
		snprintf(buf, len, "every VM (%u process%s), %.2f s", t->h.nprocs,
			 t->h.nprocs == 1 ? "" : "es", seconds(a));
}

static int cmp_u64(const void *pa, const void *pb)
{
	uint64_t x = *(const uint64_t *)pa, y = *(const uint64_t *)pb;

	return x < y ? -1 : x > y;
}

/* The latencies of every reason, merged and sorted: the "all" row. */
static struct ktr_samples merged(const struct ktr_analysis *a)
{
	struct ktr_samples s = { 0 };
	uint64_t n = 0;
	uint32_t k;

	for (k = 0; k < a->nreasons; k++)
		n += a->reasons[k].all.n;
	s.v = malloc((n ? n : 1) * sizeof(uint64_t));
	if (!s.v)
		return s;
	for (k = 0; k < a->nreasons; k++) {
		if (a->reasons[k].all.n)
			memcpy(s.v + s.n, a->reasons[k].all.v,
			       a->reasons[k].all.n * sizeof(uint64_t));
		s.n += a->reasons[k].all.n;
		s.sum += a->reasons[k].all.sum;
	}
	if (s.n > 1)
		qsort(s.v, s.n, sizeof(uint64_t), cmp_u64);
	s.cap = s.n;
	return s;
}

struct row {
	const char *name;
	uint32_t code;
	bool has_code;
	uint64_t count, timed;
	const struct ktr_samples *all, *kern, *user;
	uint64_t halt_ns;
};

static struct row reason_row(const struct ktr_reason *r)
{
	return (struct row){ r->name, r->code, true, r->count, r->all.n, &r->all, &r->kern,
			     &r->user, r->halt_ns };
}

static void text_row(FILE *f, const struct ktr_analysis *a, const struct row *r)
{
	char code[16] = "";

	if (r->has_code)
		snprintf(code, sizeof(code), "%#x", r->code);
	fprintf(f, "%-24s %-7s %9llu %10.1f %9llu ", r->name, code, (unsigned long long)r->count,
		rate(a, r->count), (unsigned long long)r->timed);
	if (r->timed)
		fprintf(f, "%10.3f %10.3f %10.3f %10.3f %7.1f %7.1f %7.1f\n",
			us(ktr_pct(r->all, 50)), us(ktr_pct(r->all, 90)), us(ktr_pct(r->all, 99)),
			us(r->all->v[r->all->n - 1]), pct_of(r->kern->n, r->timed),
			pct_of(r->user->n, r->timed), pct_of(r->halt_ns, r->all->sum));
	else
		fprintf(f, "%10s %10s %10s %10s %7s %7s %7s\n", "-", "-", "-", "-", "-", "-", "-");
}

void ktr_write_text(FILE *f, const char *file, const struct ktr_trace *t,
		    const struct ktr_analysis *a, unsigned int top)
{
	struct ktr_samples all = merged(a);
	struct ktr_samples none = { 0 };
	uint64_t kern = 0, user = 0, halt = 0;
	char date[64], buf[64];
	uint32_t k, i;
	struct row r;

	(void)top;
	fmt_date(t->h.start_real_ns, date, sizeof(date));
	fprintf(f, "khv-trace report of %s (format version %u)\n\n", file, t->h.version);
	fprintf(f, "recorded     %s, %.3f s, trace clock %s\n", date, seconds(a), t->h.clock);
	if (t->h.pid)
		fprintf(f, "process      %u (%s)\n", t->h.pid, comm_of(t, t->h.pid));
	else
		fprintf(f, "process      every VM of the host\n");
	fprintf(f, "processes    %u:", t->h.nprocs);
	for (i = 0; i < t->h.nprocs; i++)
		fprintf(f, " %u (%s)", t->procs[i].pid, t->procs[i].comm[0] ? t->procs[i].comm : "?");
	fprintf(f, "\nvcpus        %u\n", a->nvcpus);
	fprintf(f, "events       %llu: %llu exits (%.1f/s), and entries, exits to userspace, halts\n",
		(unsigned long long)a->events, (unsigned long long)a->exits, rate(a, a->exits));
	fprintf(f, "lost         %llu by the ring buffer's count (overrun %llu, dropped %llu); "
		   "%llu gaps in the stream (%llu events%s)\n",
		(unsigned long long)(t->h.overrun + t->h.dropped), (unsigned long long)t->h.overrun,
		(unsigned long long)t->h.dropped, (unsigned long long)a->lost_markers,
		(unsigned long long)a->lost_known, a->lost_unknown ? ", and some uncounted" : "");
	fprintf(f, "timed        %llu of %llu exits; not timed: %llu still handled at the end, "
		   "%llu next to lost events or out of order\n",
		(unsigned long long)a->timed, (unsigned long long)a->exits,
		(unsigned long long)a->untimed_end, (unsigned long long)a->untimed_lost);
	if (a->anomalies || a->clamped)
		fprintf(f, "anomalies    %llu events out of order for their vCPU, %llu outside the recording's time\n",
			(unsigned long long)a->anomalies, (unsigned long long)a->clamped);
	if (t->h.flags & KTR_F_HANDLE_NS)
		fprintf(f, "note         khv_exit carried the handler's time: exits are timed from the hardware exit\n");

	fprintf(f, "\nExit reasons.  Latency: from the exit (khv_exit) to its vCPU's next entry\n"
		   "(khv_entry), in microseconds; kernel%% and user%%: shares of the timed exits\n"
		   "handled in the kernel and through userspace; halted%%: share of their time\n"
		   "the vCPU slept halted.\n\n");
	fprintf(f, "%-24s %-7s %9s %10s %9s %10s %10s %10s %10s %7s %7s %7s\n", "reason", "code",
		"count", "rate/s", "timed", "p50_us", "p90_us", "p99_us", "max_us", "kernel%",
		"user%", "halted%");
	for (k = 0; k < a->nreasons; k++) {
		r = reason_row(&a->reasons[k]);
		text_row(f, a, &r);
		kern += a->reasons[k].kern.n;
		user += a->reasons[k].user.n;
		halt += a->reasons[k].halt_ns;
	}
	r = (struct row){ "all", 0, false, a->exits, all.n, all.v ? &all : &none, NULL, NULL,
			  halt };
	{
		struct ktr_samples ks = { .n = kern }, uss = { .n = user };

		r.kern = &ks;
		r.user = &uss;
		text_row(f, a, &r);
	}

	fprintf(f, "\nExits to userspace (khv_userspace_exit, by KHV_EXIT_* reason):");
	for (i = 0; i <= KTR_UEXIT_NAMES; i++)
		if (a->uexit_reasons[i])
			fprintf(f, " %s %llu", ktr_uexit_name(i),
				(unsigned long long)a->uexit_reasons[i]);
	fprintf(f, "\n\nvCPUs: %% of the recording in each state; exits and their rate.\n\n");
	fprintf(f, "%-16s %9s %10s %7s %7s %7s %7s %8s\n", "vcpu", "exits", "rate/s", "guest%",
		"khv%", "user%", "halted%", "unknown%");
	for (i = 0; i < a->nvcpus; i++) {
		const struct ktr_vcpu *v = &a->vcpus[i];

		ktr_vcpu_label(a, v, buf, sizeof(buf));
		fprintf(f, "%-16s %9llu %10.1f %7.2f %7.2f %7.2f %7.2f %8.2f\n", buf,
			(unsigned long long)v->exits, rate(a, v->exits),
			pct_of(v->t[KTR_ST_GUEST], a->duration_ns),
			pct_of(v->t[KTR_ST_KHV], a->duration_ns),
			pct_of(v->t[KTR_ST_USER], a->duration_ns),
			pct_of(v->t[KTR_ST_HALT], a->duration_ns),
			pct_of(v->t[KTR_ST_UNKNOWN], a->duration_ns));
	}
	free(all.v);
}

/* ---- index.html ----------------------------------------------------------- */

static void html_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static void html_cell_us(FILE *f, const struct ktr_samples *s, double p)
{
	if (s->n)
		fprintf(f, "<td>%.3f</td>", us(p > 100 ? s->v[s->n - 1] : ktr_pct(s, p)));
	else
		fputs("<td>-</td>", f);
}

static void html_plot(FILE *f, const char *file, const char *alt, const char *text)
{
	fprintf(f, "<h2>%s</h2>\n<p>%s</p>\n<p><a href=\"%s\"><img src=\"%s\" alt=\"%s\"></a></p>\n",
		alt, text, file, file, alt);
}

void ktr_write_html(FILE *f, const char *file, const struct ktr_trace *t,
		    const struct ktr_analysis *a, unsigned int top)
{
	char title[256], date[64], buf[64];
	uint32_t k, i;

	ktr_title(t, a, title, sizeof(title));
	fmt_date(t->h.start_real_ns, date, sizeof(date));
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>khv-trace: ", f);
	html_esc(f, title);
	fputs("</title>\n<style>\n"
	      "body { font-family: sans-serif; max-width: 1200px; margin: 1em auto; padding: 0 1em; }\n"
	      "img { max-width: 100%; border: 1px solid #ddd; }\n"
	      "table { border-collapse: collapse; font-size: 90%; }\n"
	      "td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }\n"
	      "td:first-child, th:first-child { text-align: left; }\n"
	      ".note { color: #555; }\n</style>\n</head>\n<body>\n<h1>khv-trace: ", f);
	html_esc(f, title);
	fputs("</h1>\n<p>", f);
	html_esc(f, file);
	fprintf(f, ", recorded %s for %.3f s (trace clock %s): %llu events, %llu exits of %u vCPU%s, "
		   "%llu timed.  Events lost: %llu by the ring buffer's count, %llu gaps in the stream.  "
		   "The same figures are in <a href=\"%s\">%s</a>.</p>\n",
		date, seconds(a), t->h.clock, (unsigned long long)a->events,
		(unsigned long long)a->exits, a->nvcpus, a->nvcpus == 1 ? "" : "s",
		(unsigned long long)a->timed, (unsigned long long)(t->h.overrun + t->h.dropped),
		(unsigned long long)a->lost_markers, KTR_REPORT_TXT, KTR_REPORT_TXT);

	snprintf(buf, sizeof(buf), "%u", top);
	html_plot(f, KTR_PLOT_RATES, "Exits per second by reason",
		  "How often the guest leaves to khv, over the recording: each band is one exit "
		  "reason (the hardware's, named by khv: svm_* on AMD-V, vmx_* on VT-x), stacked, so "
		  "the top edge is the total rate.  The most frequent reasons are drawn apart, the "
		  "rest as <i>other</i> (-n sets how many).  Look for bursts (a device being "
		  "polled, a timer firing too often) and for reasons that dominate.");
	html_plot(f, KTR_PLOT_LATENCY, "Exit handling time by reason",
		  "For each exit, the time from its <code>khv_exit</code> to the next "
		  "<code>khv_entry</code> of the same vCPU: how long the guest waited for khv, "
		  "and for the VMM when the exit went to userspace.  One row per reason and way "
		  "(blue: handled in the kernel and straight back in; orange: through userspace, "
		  "the VMM's time included).  The axis is logarithmic; the box spans the 25th to "
		  "the 75th percentile, the black bar is the median, the whiskers reach the 1st "
		  "and 99th percentiles and the cross is the slowest exit.  A halted vCPU's sleep "
		  "counts in the exit that halted it (svm_hlt, vmx_hlt): those are long by nature.");
	html_plot(f, KTR_PLOT_HIST, "Exit handling time, histograms",
		  "The same times as counts in power-of-two buckets, one panel per reason: two "
		  "humps mean two kinds of exits under one reason (a port handled in the kernel "
		  "and one that goes to the VMM, a fault that maps memory and one that is MMIO).");
	html_plot(f, KTR_PLOT_TIMELINE, "Where each vCPU's time went",
		  "One band per vCPU across the recording, at the resolution of the picture: each "
		  "column is split by the share of its time the vCPU spent in the guest (green: "
		  "from an entry to the next exit, the exit's own handler included, which the "
		  "tracepoints cannot separate), in khv (blue: from the exit to the next entry, "
		  "or to the exit to userspace), in userspace (orange: from "
		  "<code>khv_userspace_exit</code> to the next event), halted (grey: from "
		  "<code>khv_halt</code> sleeps to wakes) or unknown (white: before the vCPU's "
		  "first event and around lost events).");

	fputs("<h2>Exit reasons</h2>\n<p class=\"note\">Latency in microseconds, exit to next "
	      "entry; kernel and user: shares of the timed exits; halted: share of their time "
	      "spent asleep.</p>\n<table>\n<tr><th>reason</th><th>code</th><th>count</th>"
	      "<th>rate/s</th><th>timed</th><th>p50</th><th>p90</th><th>p99</th><th>max</th>"
	      "<th>kernel %</th><th>user %</th><th>halted %</th></tr>\n", f);
	for (k = 0; k < a->nreasons; k++) {
		const struct ktr_reason *r = &a->reasons[k];

		fputs("<tr><td>", f);
		html_esc(f, r->name);
		fprintf(f, "</td><td>%#x</td><td>%llu</td><td>%.1f</td><td>%llu</td>", r->code,
			(unsigned long long)r->count, rate(a, r->count),
			(unsigned long long)r->all.n);
		html_cell_us(f, &r->all, 50);
		html_cell_us(f, &r->all, 90);
		html_cell_us(f, &r->all, 99);
		html_cell_us(f, &r->all, 101);
		fprintf(f, "<td>%.1f</td><td>%.1f</td><td>%.1f</td></tr>\n",
			pct_of(r->kern.n, r->all.n), pct_of(r->user.n, r->all.n),
			pct_of(r->halt_ns, r->all.sum));
	}
	fputs("</table>\n<h2>vCPUs</h2>\n<p class=\"note\">% of the recording in each state.</p>\n"
	      "<table>\n<tr><th>vCPU</th><th>exits</th><th>rate/s</th><th>guest</th><th>khv</th>"
	      "<th>user</th><th>halted</th><th>unknown</th></tr>\n", f);
	for (i = 0; i < a->nvcpus; i++) {
		const struct ktr_vcpu *v = &a->vcpus[i];
		unsigned int s;

		ktr_vcpu_label(a, v, buf, sizeof(buf));
		fputs("<tr><td>", f);
		html_esc(f, buf);
		fprintf(f, "</td><td>%llu</td><td>%.1f</td>", (unsigned long long)v->exits,
			rate(a, v->exits));
		for (s = 0; s < KTR_NSTATES; s++)
			fprintf(f, "<td>%.2f</td>", pct_of(v->t[s], a->duration_ns));
		fputs("</tr>\n", f);
	}
	fputs("</table>\n<p class=\"note\">Made by khv-trace report "
	      "(Documentation/khv/khv-trace.rst).</p>\n</body>\n</html>\n", f);
}

/* ---- the command ---------------------------------------------------------- */

static int mkdirs(const char *dir)
{
	char path[4096], *p;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0777) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0777) && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_file(const char *dir, const char *name, const char *in,
		      const struct ktr_trace *t, const struct ktr_analysis *a, unsigned int top,
		      void (*fn)(FILE *, const char *, const struct ktr_trace *,
				 const struct ktr_analysis *, unsigned int))
{
	char path[4096];
	FILE *f;
	int e;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f) {
		fprintf(stderr, "khv-trace: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	fn(f, in, t, a, top);
	e = ferror(f);
	if (fclose(f) || e) {
		fprintf(stderr, "khv-trace: cannot write %s: %s\n", path, strerror(errno ? errno : EIO));
		return -1;
	}
	return 0;
}

int ktr_report(const struct ktr_opts *o)
{
	struct ktr_trace t;
	struct ktr_error err;
	struct ktr_analysis a;
	struct ktr_plot_opts po = { .top = o->top };
	char why[512], title[256];
	int r;

	if (ktr_load(o->in, &t, &err)) {
		fprintf(stderr, "khv-trace: %s: %s\n", o->in, err.msg);
		return err.code == KTR_E_NOMEM ? KTR_EXIT_FAIL : KTR_EXIT_BAD_FILE;
	}
	if (ktr_plot_check(why, sizeof(why))) {
		fprintf(stderr, "khv-trace: %s\n", why);
		ktr_trace_free(&t);
		return KTR_EXIT_FAIL;
	}
	if (ktr_analyze(&t, NULL, &a)) {
		fprintf(stderr, "khv-trace: out of memory analysing %s\n", o->in);
		ktr_trace_free(&t);
		return KTR_EXIT_FAIL;
	}
	if ((r = mkdirs(o->out))) {
		fprintf(stderr, "khv-trace: cannot make the directory %s: %s\n", o->out, strerror(-r));
		goto fail;
	}
	ktr_title(&t, &a, title, sizeof(title));
	po.title = title;
	if (ktr_plot_rates(&a, &po, o->out, why, sizeof(why)) ||
	    ktr_plot_latency(&a, &po, o->out, why, sizeof(why)) ||
	    ktr_plot_hist(&a, &po, o->out, why, sizeof(why)) ||
	    ktr_plot_timeline(&a, &po, o->out, why, sizeof(why))) {
		fprintf(stderr, "khv-trace: %s\n", why);
		goto fail;
	}
	if (write_file(o->out, KTR_REPORT_TXT, o->in, &t, &a, o->top, ktr_write_text) ||
	    write_file(o->out, KTR_REPORT_HTML, o->in, &t, &a, o->top, ktr_write_html))
		goto fail;
	printf("khv-trace: %s: %llu exits of %u vCPU%s in %.2f s -> %s/%s (%s, %s, %s, %s, %s)\n",
	       o->in, (unsigned long long)a.exits, a.nvcpus, a.nvcpus == 1 ? "" : "s",
	       seconds(&a), o->out, KTR_REPORT_HTML, KTR_REPORT_TXT, KTR_PLOT_RATES,
	       KTR_PLOT_LATENCY, KTR_PLOT_HIST, KTR_PLOT_TIMELINE);
	ktr_analysis_free(&a);
	ktr_trace_free(&t);
	return KTR_EXIT_OK;
fail:
	ktr_analysis_free(&a);
	ktr_trace_free(&t);
	return KTR_EXIT_FAIL;
}
