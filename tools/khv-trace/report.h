/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khv-trace report: a trace file into a directory of plots, report.txt
 * and index.html (Documentation/khv/khv-trace.rst, "Reading the report").
 */
#ifndef KHV_TRACE_REPORT_H
#define KHV_TRACE_REPORT_H

#include <stdio.h>

#include "analyze.h"
#include "opts.h"

#define KTR_REPORT_TXT		"report.txt"
#define KTR_REPORT_HTML		"index.html"

/* Runs a report; returns the exit status (opts.h, KTR_EXIT_*). */
int ktr_report(const struct ktr_opts *o);

/* The text report (report.txt) of a trace and its analysis. */
void ktr_write_text(FILE *f, const char *file, const struct ktr_trace *t,
		    const struct ktr_analysis *a, unsigned int top);
/* index.html: the plots, what they mean, and the tables of report.txt. */
void ktr_write_html(FILE *f, const char *file, const struct ktr_trace *t,
		    const struct ktr_analysis *a, unsigned int top);
/* "pid 1234 (khv-run), 5.00 s" or "2 processes, 5.00 s": the plots' title. */
void ktr_title(const struct ktr_trace *t, const struct ktr_analysis *a, char *buf, size_t len);

#endif /* KHV_TRACE_REPORT_H */
