// SPDX-License-Identifier: GPL-2.0
/* khv-trace's command line (opts.h). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

const char ktr_usage_text[] =
	"Usage: khv-trace record [-p PID] [-d SECONDS] [-o FILE] [-b KIB] [-q]\n"
	"       khv-trace report [-i FILE] [-o DIR] [-n TOP]\n"
	"Records the exits of khv's VMs from its tracepoints, then draws them.\n"
	"\n"
	"record: khv's tracepoints (khv_entry, khv_exit, khv_userspace_exit,\n"
	"khv_halt) in a tracefs instance of its own, for SECONDS or until SIGINT.\n"
	"  -p, --pid=PID          only this process's threads (default: every VM)\n"
	"  -d, --duration=SECONDS how long (default 5, at most 86400)\n"
	"  -o, --output=FILE      the trace file (default khv-trace.dat)\n"
	"  -b, --buffer=KIB       ring buffer per CPU, KiB (default: 8192, less on\n"
	"                         machines with more than 32 CPUs)\n"
	"  -q, --quiet            no summary line\n"
	"\n"
	"report: plots and figures of a trace file into a directory: rates.svg,\n"
	"latency.svg, latency-hist.svg, timeline.svg, report.txt, index.html.\n"
	"  -i, --input=FILE       the trace file (default khv-trace.dat)\n"
	"  -o, --output=DIR       the directory (default khv-trace-report)\n"
	"  -n, --top=N            exit reasons drawn apart (default 8, at most 32);\n"
	"                         the others are drawn as \"other\"\n"
	"\n"
	"  -h, --help             this text\n"
	"  -V, --version\n"
	"\n"
	"record needs root, or write access to tracefs.  Exit status: 0 done, 1 bad\n"
	"usage, 2 no tracefs, no permission or no khv events, 3 no such process,\n"
	"4 the trace file is unreadable, corrupt or truncated, 5 another failure.\n";

__attribute__((format(printf, 3, 4)))
static int bad(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

int ktr_opts_parse(struct ktr_opts *o, int argc, char **argv, char *why, size_t why_len)
{
	static const struct option longs[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "input", required_argument, NULL, 'i' },
		{ "buffer", required_argument, NULL, 'b' },
		{ "top", required_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd;
	unsigned long v;
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->seconds = KTR_SECONDS_DEFAULT;
	o->top = KTR_TOP_DEFAULT;
	if (why_len)
		why[0] = '\0';
	if (argc < 2)
		return bad(why, why_len, "a command is needed: record or report");
	cmd = argv[1];
	if (!strcmp(cmd, "record")) {
		o->cmd = KTR_CMD_RECORD;
	} else if (!strcmp(cmd, "report")) {
		o->cmd = KTR_CMD_REPORT;
	} else if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		o->help = true;
		return 0;
	} else if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		o->version = true;
		return 0;
	} else {
		return bad(why, why_len, "unknown command '%s': record or report", cmd);
	}
	optind = 0;	/* a full restart, for the tests' repeated calls */
	opterr = 0;
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, ":p:d:o:i:b:n:qhV", longs, NULL)) != -1) {
		bool rec = o->cmd == KTR_CMD_RECORD;

		switch (c) {
		case 'p':
			if (!rec)
				return bad(why, why_len, "-p is an option of record");
			if (!parse_ulong(optarg, 0x7fffffff, &v) || !v)
				return bad(why, why_len, "--pid: '%s' is not a process id", optarg);
			o->pid = (int)v;
			break;
		case 'd':
			if (!rec)
				return bad(why, why_len, "-d is an option of record");
			errno = 0;
			o->seconds = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(o->seconds) ||
			    o->seconds <= 0 || o->seconds > KTR_SECONDS_MAX)
				return bad(why, why_len,
					   "--duration: '%s' is not a number of seconds above 0, at most %g",
					   optarg, KTR_SECONDS_MAX);
			break;
		case 'o':
			if (!*optarg)
				return bad(why, why_len, "--output: an empty path");
			o->out = optarg;
			break;
		case 'i':
			if (rec)
				return bad(why, why_len, "-i is an option of report");
			if (!*optarg)
				return bad(why, why_len, "--input: an empty path");
			o->in = optarg;
			break;
		case 'b':
			if (!rec)
				return bad(why, why_len, "-b is an option of record");
			if (!parse_ulong(optarg, KTR_BUFFER_KB_MAX, &v) || v < 4)
				return bad(why, why_len,
					   "--buffer: '%s' is not a number of KiB from 4 to %lu",
					   optarg, KTR_BUFFER_KB_MAX);
			o->buffer_kb = v;
			break;
		case 'n':
			if (rec)
				return bad(why, why_len, "-n is an option of report");
			if (!parse_ulong(optarg, KTR_TOP_MAX, &v) || !v)
				return bad(why, why_len, "--top: '%s' is not a number from 1 to %d",
					   optarg, KTR_TOP_MAX);
			o->top = (unsigned int)v;
			break;
		case 'q':
			if (!rec)
				return bad(why, why_len, "-q is an option of record");
			o->quiet = true;
			break;
		case 'h':
			o->help = true;
			break;
		case 'V':
			o->version = true;
			break;
		case ':':
			return bad(why, why_len, "%s needs a value", argv[optind - 1]);
		default:
			if (optopt && optopt < 0x100)
				return bad(why, why_len, "unknown option -%c", optopt);
			return bad(why, why_len, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad(why, why_len, "unexpected argument '%s'", argv[optind]);
	if (!o->out)
		o->out = o->cmd == KTR_CMD_RECORD ? "khv-trace.dat" : "khv-trace-report";
	if (!o->in)
		o->in = "khv-trace.dat";
	return 0;
}
