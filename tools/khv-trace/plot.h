/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The report's plots, SVG files drawn with PLplot's svg device (in the
 * core library, libplplot17; no driver package): what each shows is in
 * Documentation/khv/khv-trace.rst, "Reading the report".
 */
#ifndef KHV_TRACE_PLOT_H
#define KHV_TRACE_PLOT_H

#include <stddef.h>

#include "analyze.h"

#define KTR_PLOT_RATES		"rates.svg"
#define KTR_PLOT_LATENCY	"latency.svg"
#define KTR_PLOT_HIST		"latency-hist.svg"
#define KTR_PLOT_TIMELINE	"timeline.svg"

/* At most this many reasons drawn apart, and "other". */
#define KTR_PLOT_TOP_MAX	32
#define KTR_TOP_MAX_SERIES	(KTR_PLOT_TOP_MAX + 1)

struct ktr_plot_opts {
	unsigned int top;		/* reasons drawn apart; the rest is "other" */
	const char *title;		/* of the recording: process, date */
};

/* Is PLplot's svg device there?  0, or -1 with a line in why. */
int ktr_plot_check(char *why, size_t why_len);

/* Each writes dir/<its file>; 0, or -errno with a line in why. */
int ktr_plot_rates(const struct ktr_analysis *a, const struct ktr_plot_opts *o, const char *dir,
		   char *why, size_t why_len);
int ktr_plot_latency(const struct ktr_analysis *a, const struct ktr_plot_opts *o,
		     const char *dir, char *why, size_t why_len);
int ktr_plot_hist(const struct ktr_analysis *a, const struct ktr_plot_opts *o, const char *dir,
		  char *why, size_t why_len);
int ktr_plot_timeline(const struct ktr_analysis *a, const struct ktr_plot_opts *o,
		      const char *dir, char *why, size_t why_len);

/* A vCPU's label: "vcpu N", or "PID/vcpu N" when the trace has several processes. */
void ktr_vcpu_label(const struct ktr_analysis *a, const struct ktr_vcpu *v, char *buf,
		    size_t len);
/* The latency in human units: "850 ns", "12.3 us", "4.56 ms", "1.20 s". */
void ktr_fmt_ns(uint64_t ns, char *buf, size_t len);

#endif /* KHV_TRACE_PLOT_H */
