// SPDX-License-Identifier: GPL-2.0
/*
 * The report's plots (plot.h), with PLplot: one plinit()/plend() per file,
 * the file opened here and handed over with plsfile() (plend() closes it),
 * so PLplot never asks for a device or a file name.  Everything drawn is
 * checked beforehand (finite numbers, window limits apart), because
 * PLplot's fatal errors exit the process.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <plplot.h>

#include "plot.h"

/* cmap0 indices. */
enum {
	C_BG = 0,
	C_FG = 1,
	C_GRID = 2,
	C_DIM = 3,
	C_STATE = 4,			/* + enum ktr_state */
	C_KERN = C_STATE + KTR_NSTATES,
	C_USER,
	C_SERIES,			/* + i: reason i, the last is "other" */
	C_MAX = C_SERIES + 40
};

static const unsigned char series_rgb[][3] = {
	{ 31, 119, 180 }, { 255, 127, 14 }, { 44, 160, 44 }, { 214, 39, 40 },
	{ 148, 103, 189 }, { 140, 86, 75 }, { 227, 119, 194 }, { 188, 189, 34 },
	{ 23, 190, 207 }, { 174, 199, 232 }, { 255, 187, 120 }, { 152, 223, 138 },
	{ 255, 152, 150 }, { 197, 176, 213 }, { 196, 156, 148 }, { 247, 182, 210 },
	{ 219, 219, 141 }, { 158, 218, 229 },
};

static const unsigned char state_rgb[KTR_NSTATES][3] = {
	[KTR_ST_GUEST] = { 44, 160, 44 },	/* green: the guest runs */
	[KTR_ST_KHV] = { 31, 119, 180 },	/* blue: khv handles an exit */
	[KTR_ST_USER] = { 255, 127, 14 },	/* orange: the VMM does */
	[KTR_ST_HALT] = { 200, 200, 200 },	/* grey: halted, asleep */
	[KTR_ST_UNKNOWN] = { 255, 255, 255 },	/* white, outlined: not known */
};

#define OTHER_RGB_R	127

int ktr_plot_check(char *why, size_t why_len)
{
	const char *menu[128], *names[128];
	const char **pm = menu, **pn = names;
	int n = 128, i;

	plgDevs(&pm, &pn, &n);
	for (i = 0; i < n; i++)
		if (pn[i] && !strcmp(pn[i], "svg"))
			return 0;
	snprintf(why, why_len,
		 "PLplot has no svg device (its drivers directory lacks svg.so: reinstall libplplot17)");
	return -1;
}

void ktr_fmt_ns(uint64_t ns, char *buf, size_t len)
{
	double v = (double)ns;

	if (ns < 1000)
		snprintf(buf, len, "%llu ns", (unsigned long long)ns);
	else if (v < 1e6)
		snprintf(buf, len, "%.3g us", v / 1e3);
	else if (v < 1e9)
		snprintf(buf, len, "%.3g ms", v / 1e6);
	else
		snprintf(buf, len, "%.3g s", v / 1e9);
}

void ktr_vcpu_label(const struct ktr_analysis *a, const struct ktr_vcpu *v, char *buf,
		    size_t len)
{
	uint32_t i;
	bool several = false;

	for (i = 1; i < a->nvcpus; i++)
		if (a->vcpus[i].pid != a->vcpus[0].pid)
			several = true;
	if (several)
		snprintf(buf, len, "%u/vcpu %u", v->pid, v->vcpu);
	else
		snprintf(buf, len, "vcpu %u", v->vcpu);
}

/* PLplot's text escape is '#': doubled, it is a '#'. */
static const char *esc(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 2 < len; s++) {
		buf[o++] = *s;
		if (*s == '#')
			buf[o++] = '#';
	}
	buf[o] = 0;
	return buf;
}

static int begin(const char *dir, const char *file, int w, int h, char *why, size_t why_len)
{
	char path[4096];
	unsigned int i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "we");
	if (!f) {
		int e = errno;

		snprintf(why, why_len, "cannot write %s: %s", path, strerror(e));
		return -e;
	}
	plsdev("svg");
	plsfile(f);
	plspage(0, 0, w, h, 0, 0);
	plscmap0n(C_MAX);
	plscol0(C_BG, 255, 255, 255);
	plscol0(C_FG, 0, 0, 0);
	plscol0(C_GRID, 225, 225, 225);
	plscol0(C_DIM, 110, 110, 110);
	for (i = 0; i < KTR_NSTATES; i++)
		plscol0((PLINT)(C_STATE + i), state_rgb[i][0], state_rgb[i][1], state_rgb[i][2]);
	plscol0(C_KERN, 31, 119, 180);
	plscol0(C_USER, 255, 127, 14);
	for (i = 0; i < C_MAX - C_SERIES; i++) {
		const unsigned char *c = series_rgb[i % (sizeof(series_rgb) / sizeof(series_rgb[0]))];

		plscol0((PLINT)(C_SERIES + i), c[0], c[1], c[2]);
	}
	plinit();
	pladv(0);
	plschr(0, 0.8);
	plwidth(1);
	return 0;
}

static void set_other_color(unsigned int idx)
{
	plscol0((PLINT)(C_SERIES + idx), OTHER_RGB_R, OTHER_RGB_R, OTHER_RGB_R);
}

/* A legend of coloured boxes, one a row, in the page's box [x0,x1]x[y0,y1]. */
static void legend(double x0, double x1, double y0, double y1, unsigned int n,
		   const PLINT *colors, const char *const *labels, bool outline)
{
	double row = fmin(0.08, 1.0 / (n ? n : 1));
	char buf[256];
	unsigned int i;

	plvpor(x0, x1, y0, y1);
	plwind(0, 1, 0, 1);
	for (i = 0; i < n; i++) {
		double y = 1.0 - (i + 0.5) * row;
		PLFLT bx[4] = { 0.0, 0.1, 0.1, 0.0 };
		PLFLT by[4] = { y - row * 0.3, y - row * 0.3, y + row * 0.3, y + row * 0.3 };
		PLFLT lx[5] = { 0.0, 0.1, 0.1, 0.0, 0.0 };
		PLFLT ly[5] = { by[0], by[1], by[2], by[3], by[0] };

		plcol0(colors[i]);
		plfill(4, bx, by);
		if (outline) {
			plcol0(C_DIM);
			plline(5, lx, ly);
		}
		plcol0(C_FG);
		plptex(0.14, y, 1, 0, 0, esc(labels[i], buf, sizeof(buf)));
	}
}

static void message(const char *text)
{
	char buf[256];

	plcol0(C_DIM);
	plmtex("t", -3.0, 0.5, 0.5, esc(text, buf, sizeof(buf)));
}

static int finish(const char *dir, const char *file, char *why, size_t why_len)
{
	char path[4096];
	FILE *f;
	long size;

	plend();
	/* plend() closed it, without telling us about a failed write: look. */
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "re");
	if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) <= 0) {
		if (f)
			fclose(f);
		snprintf(why, why_len, "%s: PLplot wrote nothing", path);
		return -EIO;
	}
	fclose(f);
	return 0;
}

/* How many series get a colour of their own, and whether "other" follows. */
static unsigned int series(const struct ktr_analysis *a, unsigned int top, bool *other)
{
	unsigned int n;

	if (top > KTR_PLOT_TOP_MAX)
		top = KTR_PLOT_TOP_MAX;
	n = a->nreasons < top ? a->nreasons : top;

	*other = a->nreasons > n;
	return n;
}

/* ---- exits per reason over time ------------------------------------------- */

int ktr_plot_rates(const struct ktr_analysis *a, const struct ktr_plot_opts *o, const char *dir,
		   char *why, size_t why_len)
{
	unsigned int ns, nl, k, i;
	bool other;
	double dur = fmax((double)a->duration_ns / 1e9, 1e-6), ymax = 0, *cum;
	PLFLT *px, *py;
	PLINT colors[KTR_TOP_MAX_SERIES];
	const char *labels[KTR_TOP_MAX_SERIES];
	char title[256], tesc[512], binw[32], ylab[64], lab[KTR_TOP_MAX_SERIES][80];
	int r;

	ns = series(a, o->top, &other);
	nl = ns + other;
	cum = calloc((size_t)(nl + 1) * a->nbins, sizeof(double));
	px = malloc(((size_t)a->nbins * 4 + 4) * sizeof(PLFLT));
	py = malloc(((size_t)a->nbins * 4 + 4) * sizeof(PLFLT));
	if (!cum || !px || !py) {
		free(cum);
		free(px);
		free(py);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	/* cum[k][i]: the rate of series 0..k-1 stacked, in bin i. */
	for (i = 0; i < a->nbins; i++) {
		double w = (double)ktr_bin_width(a, i) / 1e9;

		for (k = 0; k < a->nreasons; k++) {
			unsigned int l = k < ns ? k : ns;
			double rate = w > 0 ? (double)a->reasons[k].bins[i] / w : 0;

			cum[(size_t)(l + 1) * a->nbins + i] += rate;
		}
		for (k = 1; k <= nl; k++)
			cum[(size_t)k * a->nbins + i] += cum[(size_t)(k - 1) * a->nbins + i];
		ymax = fmax(ymax, cum[(size_t)nl * a->nbins + i]);
	}
	if (!(ymax > 0) || !isfinite(ymax))
		ymax = 1;

	/* Wide enough for VT-x's names in the legend (vmx_external_interrupt). */
	if ((r = begin(dir, KTR_PLOT_RATES, 1250, 560, why, why_len))) {
		free(cum);
		free(px);
		free(py);
		return r;
	}
	if (other)
		set_other_color(ns);
	plvpor(0.08, 0.66, 0.12, 0.9);
	plwind(0, dur, 0, ymax * 1.05);
	plcol0(C_GRID);
	plbox("g", 0, 0, "g", 0, 0);
	for (k = 0; k < nl; k++) {
		size_t n = 0;

		for (i = 0; i < a->nbins; i++) {
			double x0 = (double)i * (double)a->bin_ns / 1e9;
			double x1 = x0 + (double)ktr_bin_width(a, i) / 1e9;

			px[n] = x0, py[n++] = cum[(size_t)(k + 1) * a->nbins + i];
			px[n] = x1, py[n++] = cum[(size_t)(k + 1) * a->nbins + i];
		}
		for (i = a->nbins; i-- > 0;) {
			double x0 = (double)i * (double)a->bin_ns / 1e9;
			double x1 = x0 + (double)ktr_bin_width(a, i) / 1e9;

			px[n] = x1, py[n++] = cum[(size_t)k * a->nbins + i];
			px[n] = x0, py[n++] = cum[(size_t)k * a->nbins + i];
		}
		plcol0((PLINT)(C_SERIES + k));
		plfill((PLINT)n, px, py);
	}
	plcol0(C_FG);
	plbox("bcnst", 0, 0, "bcnstvf", 0, 0);
	ktr_fmt_ns(a->bin_ns, binw, sizeof(binw));
	snprintf(ylab, sizeof(ylab), "exits per second (bins of %s)", binw);
	snprintf(title, sizeof(title), "Exits per second by reason%s%s",
		 o->title ? ": " : "", o->title ? o->title : "");
	pllab("seconds since the start of the recording", ylab, esc(title, tesc, sizeof(tesc)));
	if (!a->exits)
		message("no exits recorded");
	for (k = 0; k < nl; k++) {
		if (k < ns)
			snprintf(lab[k], sizeof(lab[k]), "%s (%llu)", a->reasons[k].name,
				 (unsigned long long)a->reasons[k].count);
		else
			snprintf(lab[k], sizeof(lab[k]), "other: %u reason%s", a->nreasons - ns,
				 a->nreasons - ns == 1 ? "" : "s");
		labels[nl - 1 - k] = lab[k];
		colors[nl - 1 - k] = (PLINT)(C_SERIES + k);
	}
	/* Top of the legend is the top of the stack. */
	legend(0.68, 0.99, 0.12, 0.9, nl, colors, labels, false);
	free(cum);
	free(px);
	free(py);
	return finish(dir, KTR_PLOT_RATES, why, why_len);
}

/* ---- latency: percentiles per reason and way ------------------------------ */

struct lat_row {
	const struct ktr_samples *s;
	const struct ktr_reason *r;
	bool user;
};

static void log_axis_labels(const char *side, double lo, double hi, double disp)
{
	static const char *const names[] = {
		"1 ns", "10 ns", "100 ns", "1 us", "10 us", "100 us",
		"1 ms", "10 ms", "100 ms", "1 s", "10 s", "100 s", "1000 s",
	};
	int d;

	for (d = (int)ceil(lo - 1e-9); d <= (int)floor(hi + 1e-9); d++)
		if (d >= 0 && d < (int)(sizeof(names) / sizeof(names[0])))
			plmtex(side, disp, (d - lo) / (hi - lo), 0.5, names[d]);
}

/* log10 of ns, for an axis; 0 stays 0 (1 ns). */
static double lg(uint64_t ns)
{
	return ns ? log10((double)ns) : 0;
}

int ktr_plot_latency(const struct ktr_analysis *a, const struct ktr_plot_opts *o,
		     const char *dir, char *why, size_t why_len)
{
	struct lat_row rows[2 * KTR_TOP_MAX_SERIES];
	unsigned int n = 0, k, i, ns;
	double lo = 1e30, hi = -1e30;
	char title[256], buf[256], esc_buf[256];
	bool other;
	int r, height;

	ns = series(a, o->top, &other);
	for (k = 0; k < ns; k++) {
		const struct ktr_reason *rs = &a->reasons[k];

		if (rs->kern.n)
			rows[n++] = (struct lat_row){ &rs->kern, rs, false };
		if (rs->user.n)
			rows[n++] = (struct lat_row){ &rs->user, rs, true };
	}
	for (i = 0; i < n; i++) {
		lo = fmin(lo, lg(rows[i].s->v[0]));
		hi = fmax(hi, lg(rows[i].s->v[rows[i].s->n - 1]));
	}
	if (!n) {
		lo = 2;
		hi = 6;
	}
	lo = floor(lo);
	hi = ceil(hi);
	if (hi - lo < 2)
		hi = lo + 2;

	height = 170 + 30 * (int)(n ? n : 3);
	if ((r = begin(dir, KTR_PLOT_LATENCY, 1100, height, why, why_len)))
		return r;
	plvpor(0.25, 0.97, 90.0 / height, 1.0 - 60.0 / height);
	plwind(lo, hi, 0, n ? n : 3);
	plcol0(C_GRID);
	plbox("gl", 0, 0, "", 0, 0);
	for (i = 0; i < n; i++) {
		const struct ktr_samples *s = rows[i].s;
		double y = (double)(n - i) - 0.5;
		double p1 = lg(ktr_pct(s, 1)), p25 = lg(ktr_pct(s, 25));
		double p50 = lg(ktr_pct(s, 50)), p75 = lg(ktr_pct(s, 75));
		double p99 = lg(ktr_pct(s, 99)), mx = lg(s->v[s->n - 1]);
		PLFLT bx[4] = { p25, p75, p75, p25 };
		PLFLT by[4] = { y - 0.3, y - 0.3, y + 0.3, y + 0.3 };
		PLFLT wx[2] = { p1, p99 }, wy[2] = { y, y };
		PLFLT mxs[1] = { mx }, mys[1] = { y };
		PLFLT cx[2], cy[2] = { y - 0.15, y + 0.15 };
		PLINT col = rows[i].user ? C_USER : C_KERN;

		plcol0(col);
		plwidth(1.5);
		plline(2, wx, wy);
		cx[0] = cx[1] = p1;
		plline(2, cx, cy);
		cx[0] = cx[1] = p99;
		plline(2, cx, cy);
		plfill(4, bx, by);
		plcol0(C_FG);
		plwidth(2.5);
		cx[0] = cx[1] = p50;
		cy[0] = y - 0.3;
		cy[1] = y + 0.3;
		plline(2, cx, cy);
		plwidth(1);
		plcol0(col);
		plssym(0, 0.8);
		plpoin(1, mxs, mys, 5);	/* x: the slowest */
		plcol0(C_FG);
		snprintf(buf, sizeof(buf), "%s, %s (%llu)", rows[i].r->name,
			 rows[i].user ? "user" : "kernel", (unsigned long long)s->n);
		plmtex("lv", 1.0, (y) / n, 1.0, esc(buf, esc_buf, sizeof(esc_buf)));
	}
	plcol0(C_FG);
	plbox("bcstl", 0, 0, "bc", 0, 0);
	log_axis_labels("b", lo, hi, 1.6);
	plmtex("b", 3.2, 0.5, 0.5, "time from the exit to the next entry of its vCPU (log scale)");
	snprintf(title, sizeof(title),
		 "Exit handling time by reason: box p25-p75, bar p50, whiskers p1-p99, x the slowest%s%s",
		 o->title ? ": " : "", o->title ? o->title : "");
	plmtex("t", 2.0, 0.38, 0.5, esc(title, esc_buf, sizeof(esc_buf)));
	if (!n)
		message("no exit was timed");
	return finish(dir, KTR_PLOT_LATENCY, why, why_len);
}

/* ---- latency histograms, one panel per reason ----------------------------- */

#define HIST_BUCKETS	48	/* log2 buckets: [2^b, 2^(b+1)) ns */

static unsigned int bucket(uint64_t ns)
{
	unsigned int b = 0;

	while (ns > 1 && b < HIST_BUCKETS - 1) {
		ns >>= 1;
		b++;
	}
	return b;
}

int ktr_plot_hist(const struct ktr_analysis *a, const struct ktr_plot_opts *o, const char *dir,
		  char *why, size_t why_len)
{
	unsigned int ns, k, cols = 2, rows, b, bmin = HIST_BUCKETS, bmax = 0, panels = 0;
	uint64_t hk[HIST_BUCKETS], hu[HIST_BUCKETS], j;
	char buf[256], esc_buf[256];
	double lo, hi;
	bool other;
	int r, height;

	ns = series(a, o->top, &other);
	for (k = 0; k < ns; k++) {
		const struct ktr_reason *rs = &a->reasons[k];

		if (!rs->all.n)
			continue;
		panels++;
		bmin = bucket(rs->all.v[0]) < bmin ? bucket(rs->all.v[0]) : bmin;
		b = bucket(rs->all.v[rs->all.n - 1]);
		bmax = b > bmax ? b : bmax;
	}
	if (!panels) {
		bmin = 7;
		bmax = 20;
	}
	lo = floor(bmin * log10(2.0));
	hi = ceil((bmax + 1) * log10(2.0));
	if (hi - lo < 2)
		hi = lo + 2;
	rows = panels ? (panels + cols - 1) / cols : 1;
	height = 100 + 230 * (int)rows;
	if ((r = begin(dir, KTR_PLOT_HIST, 1100, height, why, why_len)))
		return r;
	snprintf(buf, sizeof(buf),
		 "Exit handling time, histograms (log2 buckets): blue in the kernel, orange through userspace%s%s",
		 o->title ? ": " : "", o->title ? o->title : "");
	plvpor(0.05, 0.98, 0, 1.0 - 10.0 / height);
	plwind(0, 1, 0, 1);
	plcol0(C_FG);
	plmtex("t", -1.5, 0.5, 0.5, esc(buf, esc_buf, sizeof(esc_buf)));
	if (!panels)
		message("no exit was timed");

	for (k = 0, panels = 0; k < ns; k++) {
		const struct ktr_reason *rs = &a->reasons[k];
		unsigned int row, col;
		uint64_t ymax = 1;
		double x0, x1, y0, y1;

		if (!rs->all.n)
			continue;
		row = panels / cols;
		col = panels % cols;
		panels++;
		memset(hk, 0, sizeof(hk));
		memset(hu, 0, sizeof(hu));
		for (j = 0; j < rs->kern.n; j++)
			hk[bucket(rs->kern.v[j])]++;
		for (j = 0; j < rs->user.n; j++)
			hu[bucket(rs->user.v[j])]++;
		for (b = 0; b < HIST_BUCKETS; b++)
			ymax = hk[b] + hu[b] > ymax ? hk[b] + hu[b] : ymax;

		x0 = 0.06 + col * 0.5;
		x1 = x0 + 0.4;
		y1 = 1.0 - (80.0 + row * 230.0) / height;
		y0 = y1 - 150.0 / height;
		plvpor(x0, x1, y0, y1);
		plwind(lo, hi, 0, (double)ymax * 1.1);
		plcol0(C_GRID);
		plbox("gl", 0, 0, "g", 0, 0);
		for (b = 0; b < HIST_BUCKETS; b++) {
			double bx0 = b * log10(2.0), bx1 = (b + 1) * log10(2.0);
			PLFLT fx[4] = { bx0, bx1, bx1, bx0 };
			PLFLT fy[4] = { 0, 0, (double)hk[b], (double)hk[b] };

			if (bx1 <= lo || bx0 >= hi)
				continue;
			if (hk[b]) {
				plcol0(C_KERN);
				plfill(4, fx, fy);
			}
			if (hu[b]) {
				fy[0] = fy[1] = (double)hk[b];
				fy[2] = fy[3] = (double)(hk[b] + hu[b]);
				plcol0(C_USER);
				plfill(4, fx, fy);
			}
		}
		plcol0(C_FG);
		plbox("bcstl", 0, 0, "bcnstvf", 0, 0);
		log_axis_labels("b", lo, hi, 1.5);
		snprintf(buf, sizeof(buf), "%s: %llu timed, p50 ", rs->name,
			 (unsigned long long)rs->all.n);
		ktr_fmt_ns(ktr_pct(&rs->all, 50), buf + strlen(buf), sizeof(buf) - strlen(buf));
		strncat(buf, ", p99 ", sizeof(buf) - strlen(buf) - 1);
		ktr_fmt_ns(ktr_pct(&rs->all, 99), buf + strlen(buf), sizeof(buf) - strlen(buf));
		plmtex("t", 0.8, 0.5, 0.5, esc(buf, esc_buf, sizeof(esc_buf)));
	}
	return finish(dir, KTR_PLOT_HIST, why, why_len);
}

/* ---- per-vCPU timeline ---------------------------------------------------- */

/* Quantum of a band's height: fractions are rounded to 1/Q (half a pixel or less). */
#define Q	64

int ktr_plot_timeline(const struct ktr_analysis *a, const struct ktr_plot_opts *o,
		      const char *dir, char *why, size_t why_len)
{
	unsigned int nv = a->nvcpus, band, height, i, s, c;
	double dur = fmax((double)a->duration_ns / 1e9, 1e-6);
	PLINT colors[KTR_NSTATES];
	const char *labels[KTR_NSTATES];
	char buf[256], esc_buf[256];
	PLFLT *px, *py;
	int r;

	band = nv ? (unsigned int)fmax(10, fmin(28, 1400.0 / nv)) : 28;
	height = 150 + band * (nv ? nv : 1);
	px = malloc(((size_t)a->ncols * 2 + 4) * sizeof(PLFLT));
	py = malloc(((size_t)a->ncols * 2 + 4) * sizeof(PLFLT));
	if (!px || !py) {
		free(px);
		free(py);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	if ((r = begin(dir, KTR_PLOT_TIMELINE, 1200, (int)height, why, why_len))) {
		free(px);
		free(py);
		return r;
	}
	plvpor(0.1, 0.8, 50.0 / height, 1.0 - 60.0 / height);
	plwind(0, dur, 0, nv ? nv : 1);
	for (i = 0; i < nv; i++) {
		const struct ktr_vcpu *v = &a->vcpus[i];
		double base = (double)(nv - 1 - i) + 0.1, h = 0.8;
		PLFLT ox[5] = { 0, dur, dur, 0, 0 }, oy[5] = { base, base, base + h, base + h, base };

		/*
		 * Painter's order: the whole band in the last state's colour,
		 * then each cumulative share from the top state down, so each
		 * polygon is a base line and one stepped upper edge, with runs
		 * of equal columns drawn as one step.
		 */
		for (s = KTR_NSTATES; s-- > 0;) {
			size_t n = 0;
			int last = -1;
			bool any = false;

			for (c = 0; c < a->ncols; c++) {
				const float *f = &v->col[(size_t)c * KTR_NSTATES];
				double cum = 0;
				int q;
				unsigned int t;

				for (t = 0; t <= s; t++)
					cum += f[t];
				q = (int)lround(fmin(1.0, cum) * Q);
				any |= q > 0;
				if (q != last) {
					double x = c * (a->col_ns / 1e9);

					if (last >= 0) {
						px[n] = x, py[n++] = base + h * last / Q;
					}
					px[n] = x, py[n++] = base + h * q / Q;
					last = q;
				}
			}
			if (!any)
				continue;
			px[n] = dur, py[n++] = base + h * last / Q;
			px[n] = dur, py[n++] = base;
			px[n] = 0, py[n++] = base;
			plcol0((PLINT)(C_STATE + s));
			plfill((PLINT)n, px, py);
		}
		plcol0(C_DIM);
		plline(5, ox, oy);
		ktr_vcpu_label(a, v, buf, sizeof(buf));
		plcol0(C_FG);
		plmtex("lv", 0.8, (base + h / 2) / nv, 1.0, esc(buf, esc_buf, sizeof(esc_buf)));
	}
	plcol0(C_FG);
	plbox("bcnst", 0, 0, "bc", 0, 0);
	plmtex("b", 3.0, 0.5, 0.5, "seconds since the start of the recording");
	snprintf(buf, sizeof(buf), "Where each vCPU's time went%s%s", o->title ? ": " : "",
		 o->title ? o->title : "");
	plmtex("t", 2.0, 0.5, 0.5, esc(buf, esc_buf, sizeof(esc_buf)));
	if (!nv)
		message("no vCPU events recorded");
	for (s = 0; s < KTR_NSTATES; s++) {
		colors[s] = (PLINT)(C_STATE + s);
		labels[s] = ktr_state_names[s];
	}
	legend(0.82, 0.99, 1.0 - (60.0 + 200.0) / height, 1.0 - 60.0 / height, KTR_NSTATES, colors,
	       labels, true);
	free(px);
	free(py);
	return finish(dir, KTR_PLOT_TIMELINE, why, why_len);
}
