/* SPDX-License-Identifier: GPL-2.0 */
/* khv-trace's command line (khv-trace.1). */
#ifndef KHV_TRACE_OPTS_H
#define KHV_TRACE_OPTS_H

#include <stdbool.h>
#include <stddef.h>

/* Exit statuses (khv-trace.1, EXIT STATUS). */
enum {
	KTR_EXIT_OK = 0,
	KTR_EXIT_USAGE = 1,	/* a bad command line */
	KTR_EXIT_TRACEFS = 2,	/* no tracefs, no permission, no khv events */
	KTR_EXIT_NO_PROC = 3,	/* -p: no such process */
	KTR_EXIT_BAD_FILE = 4,	/* report: the trace file unreadable, corrupt, truncated */
	KTR_EXIT_FAIL = 5,	/* another failure: output, memory, tracefs I/O */
};

enum ktr_cmd { KTR_CMD_NONE, KTR_CMD_RECORD, KTR_CMD_REPORT };

#define KTR_SECONDS_DEFAULT	5.0
#define KTR_SECONDS_MAX		86400.0
#define KTR_TOP_DEFAULT		8
#define KTR_TOP_MAX		32
#define KTR_BUFFER_KB_MAX	(4ul << 20)	/* 4 GiB per CPU */

struct ktr_opts {
	enum ktr_cmd cmd;
	int pid;			/* record -p; 0: every VM */
	double seconds;			/* record -d */
	const char *out;		/* record: the file; report: the directory */
	const char *in;			/* report -i */
	unsigned long buffer_kb;	/* record -b; 0: chosen from the CPU count */
	unsigned int top;		/* report -n: reasons drawn apart from "other" */
	bool quiet;			/* record -q: no summary line */
	bool help, version;
};

extern const char ktr_usage_text[];

/*
 * Parses argv: a command then its options (getopt_long; restarts it).
 * 0, or -EINVAL with a one-line reason in why.
 */
int ktr_opts_parse(struct ktr_opts *o, int argc, char **argv, char *why, size_t why_len);

#endif /* KHV_TRACE_OPTS_H */
