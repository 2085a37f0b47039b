// SPDX-License-Identifier: GPL-2.0
/*
 * khv-bench: cost of one exit round trip under khv and under KVM, measured
 * the same way for both (Documentation/khv/bench.rst).
 *
 * Two guest loops (guest.S), each N iterations:
 *   cpuid  N CPUID instructions: exits the hypervisor handles in its kernel
 *          part and resumes the guest without leaving the kernel;
 *   io     N OUT instructions: each one returns from KHV_RUN/KVM_RUN to this
 *          program, which answers at once and runs the vCPU again.
 * The host TSC is read around the whole guest run (from setting the entry
 * registers to the final HLT); cycles per exit = delta / N.  Each loop runs
 * once unmeasured (warm-up: page faults, caches) and then --runs times; the
 * median is reported, with min and max to show the spread.
 *
 * Output: one human line per loop and one machine line
 *   BENCH <backend> <loop> cycles_per_exit=C ns_per_exit=T min=.. max=.. iters=N runs=R
 * which scripts/bench.sh turns into the khv/KVM table.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "bench.h"
#include "guest.h"

#define DEFAULT_CPUID_ITERS	50000	/* ~1.5 s at ~29 us per exit (QEMU TCG) */
#define DEFAULT_IO_ITERS	40000	/* ~1.5 s at ~36 us per exit (QEMU TCG) */
#define DEFAULT_RUNS		5
#define MAX_RUNS		101
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

struct loop {
	const char *name;
	const unsigned char *entry;	/* in the payload */
	unsigned long iters;
	int io;				/* one exit to us per iteration */
};

struct sample {
	double cycles;			/* TSC cycles per exit */
	double ns;			/* nanoseconds per exit */
};

static inline uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;

	/* LFENCE: earlier instructions finish before the TSC is read. */
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Run the guest loop once, from entry to HLT, and check what it did. */
static int run_once(const struct bench_driver *drv, void *ctx, const struct loop *l,
		    unsigned long iters, struct sample *s)
{
	uint64_t rip = BENCH_GUEST_LOAD + (uint64_t)(l->entry - khv_bench_guest);
	unsigned long nloop = 0, ndone = 0;
	struct bench_exit x;
	uint64_t c0, c1, t0, t1;
	int ret;

	ret = drv->set_entry(ctx, rip, iters);
	if (ret)
		return ret;
	t0 = now_ns();
	c0 = rdtsc_ordered();
	for (;;) {
		ret = drv->run(ctx, &x);
		if (ret)
			return ret;
		if (x.kind == BENCH_EXIT_HLT)
			break;
		if (x.kind == BENCH_EXIT_OUT && x.port == BENCH_PORT_LOOP && l->io &&
		    nloop < iters) {
			nloop++;
			continue;
		}
		if (x.kind == BENCH_EXIT_OUT && x.port == BENCH_PORT_DONE && !ndone) {
			ndone++;
			continue;
		}
		if (x.kind == BENCH_EXIT_OUT)
			snprintf(x.what, sizeof(x.what), "OUT to port %#x (size %u, count %u)",
				 x.port, x.size, x.count);
		fprintf(stderr, "khv-bench: %s %s: unexpected exit after %lu loop exits: %s\n",
			drv->name, l->name, nloop, x.what);
		return -EPROTO;
	}
	c1 = rdtsc_ordered();
	t1 = now_ns();

	if ((l->io && nloop != iters) || ndone != 1) {
		fprintf(stderr, "khv-bench: %s %s: guest stopped after %lu of %lu loop exits%s\n",
			drv->name, l->name, nloop, l->io ? iters : 0ul,
			ndone ? "" : ", without its done report");
		return -EPROTO;
	}
	s->cycles = (double)(c1 - c0) / (double)iters;
	s->ns = (double)(t1 - t0) / (double)iters;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int verbose;

static int measure(const struct bench_driver *drv, void *ctx, const struct loop *l, int runs)
{
	double cyc[MAX_RUNS], ns[MAX_RUNS], mc, mn;
	unsigned long warm = l->iters / 10 ? l->iters / 10 : 1;
	struct sample s;
	int i, ret;

	ret = run_once(drv, ctx, l, warm, &s);
	if (ret)
		return ret;
	for (i = 0; i < runs; i++) {
		ret = run_once(drv, ctx, l, l->iters, &s);
		if (ret)
			return ret;
		cyc[i] = s.cycles;
		ns[i] = s.ns;
		if (verbose)
			printf("khv-bench: %s %s run %d: %.0f cycles/exit, %.3f us/exit\n",
			       drv->name, l->name, i + 1, s.cycles, s.ns / 1000);
	}
	mc = median(cyc, runs);
	mn = median(ns, runs);
	printf("khv-bench: %s %-5s %10.0f cycles/exit  %9.3f us/exit  (min %.0f, max %.0f; %lu exits x %d runs)\n",
	       drv->name, l->name, mc, mn / 1000, cyc[0], cyc[runs - 1], l->iters, runs);
	printf("BENCH %s %s cycles_per_exit=%.0f ns_per_exit=%.0f min=%.0f max=%.0f iters=%lu runs=%d\n",
	       drv->name, l->name, mc, mn, cyc[0], cyc[runs - 1], l->iters, runs);
	fflush(stdout);
	return 0;
}

static void print_help(FILE *out)
{
	fprintf(out,
		"Usage: khv-bench --backend=khv|kvm [options]\n"
		"  --loop=cpuid|io|all   which guest loop(s) to time (default all)\n"
		"  --cpuid-iters=N       CPUID exits per run (default %d)\n"
		"  --io-iters=N          port-I/O exits per run (default %d)\n"
		"  --runs=R              measured runs per loop, median reported (default %d)\n"
		"  --device=PATH         default /dev/khv ($KHV_DEVICE) or /dev/kvm\n"
		"  --cpu=C               pin to CPU C (default 0; -1: do not pin)\n"
		"  --stats               print the backend's exit counters at the end\n"
		"  --verbose             print every run's figures\n",
		DEFAULT_CPUID_ITERS, DEFAULT_IO_ITERS, DEFAULT_RUNS);
}

static int parse_ulong(const char *opt, const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 0);
	if (errno || end == s || *end || *v < 1 || *v > max || s[0] == '-') {
		fprintf(stderr, "khv-bench: --%s wants a number from 1 to %lu\n", opt, max);
		return -1;
	}
	return 0;
}

enum { OPT_BACKEND = 1, OPT_LOOP, OPT_CPUID_ITERS, OPT_IO_ITERS, OPT_RUNS, OPT_DEVICE,
	OPT_CPU, OPT_STATS, OPT_VERBOSE, OPT_HELP };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "loop", required_argument, NULL, OPT_LOOP },
		{ "cpuid-iters", required_argument, NULL, OPT_CPUID_ITERS },
		{ "io-iters", required_argument, NULL, OPT_IO_ITERS },
		{ "runs", required_argument, NULL, OPT_RUNS },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "cpu", required_argument, NULL, OPT_CPU },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct loop loops[] = {
		{ "cpuid", khv_bench_guest_cpuid, DEFAULT_CPUID_ITERS, 0 },
		{ "io", khv_bench_guest_io, DEFAULT_IO_ITERS, 1 },
	};
	size_t payload = (size_t)(khv_bench_guest_end - khv_bench_guest);
	const struct bench_driver *drv = NULL;
	const char *device = NULL, *which = "all";
	unsigned long v, runs = DEFAULT_RUNS;
	int opt, cpu = 0, stats = 0, ret = 0;
	void *mem, *ctx = NULL;
	cpu_set_t set;
	size_t i;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_BACKEND:
			if (!strcmp(optarg, "khv"))
				drv = &bench_driver_khv;
			else if (!strcmp(optarg, "kvm"))
				drv = &bench_driver_kvm;
			else
				goto bad_usage;
			break;
		case OPT_LOOP:
			if (strcmp(optarg, "cpuid") && strcmp(optarg, "io") && strcmp(optarg, "all"))
				goto bad_usage;
			which = optarg;
			break;
		case OPT_CPUID_ITERS:
		case OPT_IO_ITERS:
			/* ESI is a 32-bit counter in the guest. */
			if (parse_ulong(opt == OPT_IO_ITERS ? "io-iters" : "cpuid-iters",
					optarg, 0xffffffffu, &v))
				return 2;
			loops[opt == OPT_IO_ITERS].iters = v;
			break;
		case OPT_RUNS:
			if (parse_ulong("runs", optarg, MAX_RUNS, &runs))
				return 2;
			break;
		case OPT_DEVICE:
			device = optarg;
			break;
		case OPT_CPU:
			cpu = atoi(optarg);
			break;
		case OPT_STATS:
			stats = 1;
			break;
		case OPT_VERBOSE:
			verbose = 1;
			break;
		case OPT_HELP:
		case 'h':
			print_help(stdout);
			return 0;
		default:
			goto bad_usage;
		}
	}
	if (!drv || optind != argc)
		goto bad_usage;

	/* One CPU for the whole run: no migrations inside a measurement. */
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			fprintf(stderr, "khv-bench: cannot pin to CPU %d: %s (not pinned)\n",
				cpu, strerror(errno));
	}

	mem = mmap(NULL, BENCH_GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("khv-bench: guest memory");
		return 1;
	}
	memcpy((char *)mem + BENCH_GUEST_LOAD, khv_bench_guest, payload);

	if (drv->open(&ctx, device, mem, BENCH_GUEST_MEM_SIZE)) {
		munmap(mem, BENCH_GUEST_MEM_SIZE);
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(loops); i++) {
		if (strcmp(which, "all") && strcmp(which, loops[i].name))
			continue;
		if (measure(drv, ctx, &loops[i], (int)runs)) {
			printf("BENCH %s %s failed\n", drv->name, loops[i].name);
			ret = 1;
		}
	}
	if (stats && drv->stats)
		drv->stats(ctx, stdout);
	drv->close(ctx);
	munmap(mem, BENCH_GUEST_MEM_SIZE);
	return ret;

bad_usage:
	print_help(stderr);
	return 2;
}
