// SPDX-License-Identifier: GPL-2.0
/* khv-top's command line (opts.h). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

const char kt_usage_text[] =
	"Usage: khv-top [options]\n"
	"A live view of the khv VMs on this host: exits per second, where the vCPUs'\n"
	"time goes and how long each exit reason takes to handle.\n"
	"\n"
	"  -b, --batch            plain lines on standard output instead of the live view\n"
	"  -n, --iterations=N     stop after N reads (default: never)\n"
	"  -1, --once             one read, figures since each VM started (-n 1)\n"
	"  -d, --interval=SECONDS time between reads (default 1, from 0.01 to 86400)\n"
	"      --vm=ID            only the VM with this id\n"
	"  -p, --pid=PID          only the VMs of this process\n"
	"  -s, --sort=KEY         exit reasons by rate (default), count, p99 or name\n"
	"      --device=PATH      the khv device (default $KHV_DEVICE, else /dev/khv)\n"
	"  -h, --help             this text\n"
	"  -V, --version\n"
	"\n"
	"The first read of a VM covers its life so far (window=total), the next ones\n"
	"the interval since the one before (window=interval).  Latency percentiles\n"
	"(p50, p99, in microseconds) are interpolated inside the log2 histogram bucket\n"
	"that holds them; \"all\" merges exits handled in the kernel and those that went\n"
	"through userspace.  Time shares are of the VM's vCPU time (100 = every vCPU,\n"
	"the whole window); khv's excludes a halted vCPU's sleep, shown as halt.\n"
	"\n"
	"Batch lines (see khv-top(1)); '-' is an unknown value:\n"
	"  sample iter=N vms=N time=UNIX_SECONDS\n"
	"  vm iter=N id=ID pid=PID comm=NAME state=running|gone|denied|error vcpus=N\n"
	"     window=total|interval secs=S rate=EXITS/S delta=N count=N\n"
	"     guest=% khv=% user=% halt=%\n"
	"  exit iter=N id=ID name=REASON code=0xHEX rate=EXITS/S delta=N count=N\n"
	"     p50_us=U p99_us=U kernel_p50_us=U kernel_p99_us=U user_p50_us=U\n"
	"     user_p99_us=U\n"
	"  counter iter=N id=ID name=NAME unit=UNIT kind=cumulative|instant rate=R\n"
	"     delta=N value=N\n"
	"\n"
	"Live view keys: q quit; up/down (k/j) pick a VM; a exits of all VMs or of the\n"
	"picked one; r, c, p, n sort by rate, count, p99, name; l latency all, kernel,\n"
	"user; t exits or counters; + and - change the interval.\n"
	"\n"
	"Exit status: 0 done, 1 bad usage, 2 the khv device cannot be opened or has no\n"
	"statistics files (KHV_CAP_STATS_FD), 3 --vm/--pid matched no VM, 4 another\n"
	"failure (listing the VMs, memory, output, the terminal).\n";

enum { OPT_VM = 0x100, OPT_DEVICE };

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

int kt_opts_parse(struct kt_opts *o, int argc, char **argv, char *why, size_t why_len)
{
	static const struct option longs[] = {
		{ "batch", no_argument, NULL, 'b' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "once", no_argument, NULL, '1' },
		{ "interval", required_argument, NULL, 'd' },
		{ "vm", required_argument, NULL, OPT_VM },
		{ "pid", required_argument, NULL, 'p' },
		{ "sort", required_argument, NULL, 's' },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	char *end;
	int c, key;

	memset(o, 0, sizeof(*o));
	o->interval = KT_INTERVAL_DEFAULT;
	o->sort = KT_SORT_RATE;
	if (why_len)
		why[0] = '\0';
	optind = 0;	/* a full restart, for the tests' repeated calls */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":bn:1d:p:s:hV", longs, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->batch = true;
			break;
		case 'n':
			if (!parse_ulong(optarg, (unsigned long)1e9, &v) || !v)
				return bad(why, why_len, "--iterations: '%s' is not a number from 1",
					   optarg);
			o->iterations = v;
			break;
		case '1':
			o->iterations = 1;
			break;
		case 'd':
			errno = 0;
			o->interval = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(o->interval) ||
			    o->interval < KT_INTERVAL_MIN || o->interval > KT_INTERVAL_MAX)
				return bad(why, why_len,
					   "--interval: '%s' is not a number of seconds from %g to %g",
					   optarg, KT_INTERVAL_MIN, KT_INTERVAL_MAX);
			break;
		case OPT_VM:
			if (!parse_ulong(optarg, UINT32_MAX, &v))
				return bad(why, why_len, "--vm: '%s' is not a VM id", optarg);
			o->has_vm = true;
			o->vm = (uint32_t)v;
			break;
		case 'p':
			if (!parse_ulong(optarg, INT32_MAX, &v) || !v)
				return bad(why, why_len, "--pid: '%s' is not a process id", optarg);
			o->has_pid = true;
			o->pid = (int32_t)v;
			break;
		case 's':
			key = kt_sort_parse(optarg);
			if (key < 0)
				return bad(why, why_len,
					   "--sort: '%s' is none of rate, count, p99, name", optarg);
			o->sort = (enum kt_sort)key;
			break;
		case OPT_DEVICE:
			if (!*optarg)
				return bad(why, why_len, "--device: an empty path");
			o->device = optarg;
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
	if (o->has_vm && o->has_pid)
		return bad(why, why_len, "--vm and --pid exclude each other");
	return 0;
}
