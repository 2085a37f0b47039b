/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khv-trace record: khv's tracepoints in a private tracefs instance, for a
 * time, into a khv-trace file (Documentation/khv/khv-trace.rst).
 */
#ifndef KHV_TRACE_RECORD_H
#define KHV_TRACE_RECORD_H

#include <stdint.h>
#include <stdio.h>

#include "opts.h"

/* Runs a recording; returns the exit status (opts.h, KTR_EXIT_*). */
int ktr_record(const struct ktr_opts *o);

/*
 * The /proc answers the recorder uses (the tests call them on themselves):
 * a thread's process and that process's name; -1 when it is gone.
 */
int ktr_proc_of(void *ctx, uint32_t tid, uint32_t *pid, char comm[16]);
/* Per-CPU "stats" text of an instance: adds its overrun and dropped events. */
void ktr_parse_cpu_stats(const char *text, uint64_t *overrun, uint64_t *dropped);

#endif /* KHV_TRACE_RECORD_H */
