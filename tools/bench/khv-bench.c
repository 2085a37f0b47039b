// SPDX-License-Identifier: GPL-2.0
/*
 * khv-bench: cost of one exit round trip, and of one interrupt, under khv
 * and under KVM, measured the same way for both
 * (Documentation/khv/bench.rst).
 *
 * Exit loops (guest.S), each N iterations, in a VM without irqchip:
 *   cpuid  N CPUID instructions: exits the hypervisor handles in its kernel
 *          part and resumes the guest without leaving the kernel;
 *   io     N OUT instructions: each one returns from KHV_RUN/KVM_RUN to this
 *          program, which answers at once and runs the vCPU again.
 * The host TSC is read around the whole guest run (from setting the entry
 * registers to the final HLT); cycles per exit = delta / N.
 *
 * The dirty loop, N passes in the same VM, over a second slot of
 * BENCH_DIRTY_PAGES pages with dirty logging on: the guest writes a byte in
 * every page and reports (an OUT), this program gets the slot's log, which
 * must name every page, and runs the vCPU again; cycles per pass.  What a
 * pre-copy pass of a migration costs the guest and the VMM together: a
 * fault per page where the log write-protects, none with the CPU's dirty
 * flags (khv's module parameter dirty_bits; Documentation/khv/migration.rst).
 * The sparse dirty loop, the same over a third slot of BENCH_SPARSE_PAGES
 * pages of which each pass writes BENCH_SPARSE_WRITTEN (one in every
 * BENCH_SPARSE_STRIDE): a large guest that writes little per pass, where
 * a log that reads every leaf of the slot (the dirty flags) pays for the
 * slot's size and one that records the writes (VT-x's PML, KVM's bitmap)
 * for the pages written.
 *
 * Interrupt loops (guest.S, irq.c), in a second VM with the in-kernel
 * irqchip and two vCPUs, timed from the guest's READY report to its DONE:
 *   timer      one-shot APIC timer of 1 tick, handler EOIs; the guest spins
 *   hlt-timer  TSC-deadline timer, the guest HLTs until it fires (figure:
 *              beyond the programmed delay)
 *   ipi        IPI ping-pong between vCPU 0 and vCPU 1 (own thread): round trip
 *   msi        irqfd MSI from a host thread, the handler rings an ioeventfd
 *              the thread waits on: round trip
 *
 * Each loop runs once unmeasured with N/10 (warm-up: page faults, caches)
 * and then --runs times; the median is reported, with min and max to show
 * the spread.
 *
 * Output: one human line per loop and one machine line
 *   BENCH <backend> <loop> cycles_per_exit=C ns_per_exit=T min=.. max=.. iters=N runs=R
 * (cycles_per_iter=, ns_per_iter= for the interrupt loops) which
 * scripts/bench.sh turns into the khv/KVM tables.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "guest.h"

#define DEFAULT_CPUID_ITERS	50000	/* ~1.5 s at ~29 us per exit (QEMU TCG) */
#define DEFAULT_IO_ITERS	40000	/* ~1.5 s at ~36 us per exit (QEMU TCG) */
#define DEFAULT_DIRTY_ITERS	100	/* ~0.6 s at 192 faults of ~30 us per pass */
/*
 * The interrupt loops' defaults keep a run near 0.5 s in QEMU TCG (a
 * timer iteration is a few exits, ~100 us; the others sleep and wake).
 */
#define DEFAULT_TIMER_ITERS	5000
#define DEFAULT_HLT_ITERS	1000
#define DEFAULT_IPI_ITERS	2000
#define DEFAULT_MSI_ITERS	2000
/*
 * hlt-timer: the deadline's distance.  Long enough for the arming WRMSR
 * and the HLT exit to finish before it (two exits, ~60 us in QEMU TCG,
 * more on a loaded host): the guest counts the iterations that were late.
 */
#define DEFAULT_HLT_DELAY_US	300
#define DEFAULT_RUNS		5
#define MAX_RUNS		101
/* A run that takes longer than this is stuck (an interrupt that never came). */
#define RUN_TIMEOUT_S		300
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

struct loop {
	const char *name;
	const char *opt;		/* its --<opt>-iters option */
	const unsigned char *entry;	/* in the payload (exit loops) */
	unsigned long iters;
	int io;				/* exit loop: one exit to us per iteration */
	int irq;			/* interrupt loop: kind + 1, 0 for exit loops */
	int dirty;			/* a dirty loop: a get of the log per exit */
};

/* The dirty loops: their slots (dirty 1 and 2: log_slot's idx 0 and 1). */
static const struct {
	uint64_t gpa;
	unsigned int pages, written;
} dirty_slots[2] = {
	{ BENCH_DIRTY_GPA, BENCH_DIRTY_PAGES, BENCH_DIRTY_PAGES },
	{ BENCH_SPARSE_GPA, BENCH_SPARSE_PAGES, BENCH_SPARSE_WRITTEN },
};

/* The bitmap the gets fill: the larger slot's. */
static uint64_t dirty_bitmap[(BENCH_SPARSE_PAGES + 63) / 64];

struct sample {
	double cycles;			/* TSC cycles per exit */
	double ns;			/* nanoseconds per exit */
};

/* Run the guest loop once, from entry to HLT, and check what it did. */
static int run_once(const struct bench_driver *drv, void *ctx, const struct loop *l,
		    unsigned long iters, struct sample *s)
{
	uint64_t rip = BENCH_GUEST_LOAD + (uint64_t)(l->entry - khv_bench_guest);
	unsigned long nloop = 0, ndone = 0;
	struct bench_exit x;
	uint64_t c0, c1, t0, t1;
	int ret;

	ret = drv->set_entry(ctx, 0, rip, iters, 0);
	if (ret)
		return ret;
	t0 = now_ns();
	c0 = rdtsc_ordered();
	for (;;) {
		ret = drv->run(ctx, 0, &x);
		if (ret)
			return ret;
		if (x.kind == BENCH_EXIT_HLT)
			break;
		if (x.kind == BENCH_EXIT_OUT && x.port == BENCH_PORT_LOOP && l->io &&
		    nloop < iters) {
			nloop++;
			if (l->dirty) {
				unsigned int written = dirty_slots[l->dirty - 1].written;

				ret = drv->get_log(ctx, l->dirty - 1, dirty_bitmap);
				if (ret < 0)
					return ret;
				if ((unsigned int)ret != written) {
					fprintf(stderr, "khv-bench: %s %s: the log named %d pages, %u were written in pass %lu\n",
						drv->name, l->name, ret, written, nloop);
					return -EPROTO;
				}
			}
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
static const char *current;	/* "<backend> <loop>", for the watchdog */

/* A stuck run: say so in the BENCH format, and end. */
static void on_alarm(int sig)
{
	static const char pre[] = "BENCH ", post[] = " failed (timeout)\n";
	ssize_t r = 0;

	(void)sig;
	r += write(STDOUT_FILENO, pre, sizeof(pre) - 1);
	r += write(STDOUT_FILENO, current, strlen(current));
	r += write(STDOUT_FILENO, post, sizeof(post) - 1);
	(void)r;	/* nothing more to do if stdout is gone */
	_exit(1);
}

/* One run of l with iters iterations, exit or interrupt loop. */
static int run_loop(const struct bench_driver *drv, void *ctx, struct bench_irq_env *irq,
		    const struct loop *l, unsigned long iters, struct sample *s,
		    unsigned long *late)
{
	int ret;

	alarm(RUN_TIMEOUT_S);
	*late = 0;
	if (l->irq)
		ret = bench_irq_run(irq, (enum bench_irq_loop)(l->irq - 1), l->name, iters,
				    &s->cycles, &s->ns, late);
	else
		ret = run_once(drv, ctx, l, iters, s);
	alarm(0);
	return ret;
}

static int measure(const struct bench_driver *drv, void *ctx, struct bench_irq_env *irq,
		   const struct loop *l, int runs)
{
	static char name[64];
	double cyc[MAX_RUNS], ns[MAX_RUNS], mc, mn;
	unsigned long warm = l->iters / 10 ? l->iters / 10 : 1, late, late_all = 0;
	const char *unit = l->irq || l->dirty ? "iter" : "exit";
	char extra[48] = "";
	struct sample s;
	int i, ret;

	snprintf(name, sizeof(name), "%s %s", drv->name, l->name);
	current = name;
	ret = run_loop(drv, ctx, irq, l, warm, &s, &late);
	if (ret)
		return ret;
	for (i = 0; i < runs; i++) {
		ret = run_loop(drv, ctx, irq, l, l->iters, &s, &late);
		if (ret)
			return ret;
		cyc[i] = s.cycles;
		ns[i] = s.ns;
		late_all += late;
		if (verbose)
			printf("khv-bench: %s %s run %d: %.0f cycles/%s, %.3f us/%s\n",
			       drv->name, l->name, i + 1, s.cycles, unit, s.ns / 1000, unit);
	}
	mc = median(cyc, runs);
	mn = median(ns, runs);
	if (l->irq == BENCH_IRQ_HLT_TIMER + 1) {
		snprintf(extra, sizeof(extra), " late=%lu delay=%llu", late_all,
			 (unsigned long long)irq->delay_cycles);
		if (late_all * 100 > l->iters * (unsigned long)runs)
			fprintf(stderr, "khv-bench: %s hlt-timer: %lu of %lu deadlines passed before the HLT: raise --hlt-delay-us\n",
				drv->name, late_all, l->iters * (unsigned long)runs);
	}
	printf("khv-bench: %s %-12s %10.0f cycles/%s  %9.3f us/%s  (min %.0f, max %.0f; %lu x %d runs)\n",
	       drv->name, l->name, mc, unit, mn / 1000, unit, cyc[0], cyc[runs - 1], l->iters, runs);
	printf("BENCH %s %s cycles_per_%s=%.0f ns_per_%s=%.0f min=%.0f max=%.0f iters=%lu runs=%d%s\n",
	       drv->name, l->name, unit, mc, unit, mn, cyc[0], cyc[runs - 1], l->iters, runs, extra);
	fflush(stdout);
	return 0;
}

static void print_help(FILE *out)
{
	fprintf(out,
		"Usage: khv-bench --backend=khv|kvm [options]\n"
		"  --loop=L              cpuid, io, dirty, dirty-sparse, timer, hlt-timer, ipi,\n"
		"                        msi, or the groups exits (cpuid, io), irq (the last\n"
		"                        four), all (default)\n"
		"  --cpuid-iters=N       CPUID exits per run (default %d)\n"
		"  --io-iters=N          port-I/O exits per run (default %d)\n"
		"  --dirty-iters=N       dirty-log passes per run (default %d)\n"
		"  --dirty-sparse-iters=N  sparse dirty-log passes per run (default %d)\n"
		"  --timer-iters=N       APIC timer interrupts per run (default %d)\n"
		"  --hlt-timer-iters=N   HLT wake-ups by the timer per run (default %d)\n"
		"  --ipi-iters=N         IPI round trips per run (default %d)\n"
		"  --msi-iters=N         irqfd/ioeventfd round trips per run (default %d)\n"
		"  --hlt-delay-us=U      hlt-timer: deadline U us after arming (default %d)\n"
		"  --runs=R              measured runs per loop, median reported (default %d)\n"
		"  --device=PATH         default /dev/khv ($KHV_DEVICE) or /dev/kvm\n"
		"  --cpu=C               pin to CPU C (default 0; -1: do not pin)\n"
		"  --cpu2=C              CPU of vCPU 1's / the MSI sender's thread (default:\n"
		"                        the next CPU if online, else --cpu)\n"
		"  --stats               print the backend's exit counters after each VM\n"
		"  --verbose             print every run's figures\n",
		DEFAULT_CPUID_ITERS, DEFAULT_IO_ITERS, DEFAULT_DIRTY_ITERS, DEFAULT_DIRTY_ITERS,
		DEFAULT_TIMER_ITERS,
		DEFAULT_HLT_ITERS,
		DEFAULT_IPI_ITERS, DEFAULT_MSI_ITERS, DEFAULT_HLT_DELAY_US, DEFAULT_RUNS);
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

/*
 * The TSC's rate in cycles per ns, against CLOCK_MONOTONIC over 50 ms: to
 * turn --hlt-delay-us into a TSC deadline distance.
 */
static double tsc_per_ns(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	uint64_t c0, c1, t0, t1;

	t0 = now_ns();
	c0 = rdtsc_ordered();
	nanosleep(&ts, NULL);
	c1 = rdtsc_ordered();
	t1 = now_ns();
	return (double)(c1 - c0) / (double)(t1 - t0);
}

/* The default second CPU: the next one, if we may run there. */
static int next_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || sched_getaffinity(0, sizeof(set), &set))
		return -1;
	if (cpu + 1 < CPU_SETSIZE && CPU_ISSET(cpu + 1, &set))
		return cpu + 1;
	return cpu;
}

static int selected(const char *which, const struct loop *l)
{
	return !strcmp(which, "all") || !strcmp(which, l->name) ||
	       (!strcmp(which, "exits") && !l->irq && !l->dirty) ||
	       (!strcmp(which, "irq") && l->irq);
}

/* A VM of one kind over its own RAM, the payload copied in. */
static void *new_guest_mem(void)
{
	size_t payload = (size_t)(khv_bench_guest_end - khv_bench_guest);
	void *mem;

	mem = mmap(NULL, BENCH_GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("khv-bench: guest memory");
		return NULL;
	}
	memcpy((char *)mem + BENCH_GUEST_LOAD, khv_bench_guest, payload);
	return mem;
}

/*
 * Measure the selected loops of one kind (irq 0: exit loops, 1: interrupt
 * loops) in a VM of that kind.  0, or 1 when anything failed.
 */
static int run_group(const struct bench_driver *drv, const char *device, struct loop *loops,
		     size_t nloops, const char *which, int irq, int runs, int stats,
		     struct bench_irq_env *env)
{
	struct bench_vm_config cfg = { .irqchip = irq };
	void *mem, *ctx = NULL, *dirty[2] = { MAP_FAILED, MAP_FAILED };
	int ret = 0, any = 0, log[2] = { 0, 0 };
	size_t i;

	for (i = 0; i < nloops; i++) {
		any |= selected(which, &loops[i]) && !!loops[i].irq == irq;
		if (selected(which, &loops[i]) && loops[i].dirty && !irq)
			log[loops[i].dirty - 1] = 1;
	}
	if (!any)
		return 0;
	mem = new_guest_mem();
	if (!mem)
		return 1;
	if (drv->open(&ctx, device, mem, BENCH_GUEST_MEM_SIZE, &cfg)) {
		munmap(mem, BENCH_GUEST_MEM_SIZE);
		for (i = 0; i < nloops; i++)
			if (selected(which, &loops[i]) && !!loops[i].irq == irq)
				printf("BENCH %s %s failed (no VM)\n", drv->name, loops[i].name);
		return 1;
	}
	for (i = 0; i < 2; i++) {
		size_t size = (size_t)dirty_slots[i].pages * 4096;

		if (!log[i])
			continue;
		/*
		 * 4 KiB host pages: the sparse loop touches one page in 64,
		 * which THP would back with all of them.
		 */
		dirty[i] = mmap(NULL, size, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (dirty[i] != MAP_FAILED)
			madvise(dirty[i], size, MADV_NOHUGEPAGE);
		if (dirty[i] == MAP_FAILED ||
		    drv->log_slot(ctx, (int)i, dirty_slots[i].gpa, dirty[i], size)) {
			printf("BENCH %s %s failed (no logged slot)\n", drv->name,
			       i ? "dirty-sparse" : "dirty");
			ret = 1;
			goto out;
		}
	}
	env->drv = drv;
	env->ctx = ctx;
	env->mem = mem;
	env->irq_fd = env->doorbell_fd = -1;
	if (irq && bench_irq_setup(env)) {
		printf("BENCH %s irq failed (irqfd/ioeventfd set-up)\n", drv->name);
		ret = 1;
		goto out;
	}
	for (i = 0; i < nloops; i++) {
		if (!selected(which, &loops[i]) || !!loops[i].irq != irq)
			continue;
		if (measure(drv, ctx, env, &loops[i], runs)) {
			printf("BENCH %s %s failed\n", drv->name, loops[i].name);
			ret = 1;
		}
	}
	if (stats && drv->stats)
		drv->stats(ctx, stdout);
out:
	bench_irq_cleanup(env);
	drv->close(ctx);
	munmap(mem, BENCH_GUEST_MEM_SIZE);
	for (i = 0; i < 2; i++)
		if (dirty[i] != MAP_FAILED)
			munmap(dirty[i], (size_t)dirty_slots[i].pages * 4096);
	return ret;
}

enum { OPT_BACKEND = 1, OPT_LOOP, OPT_ITERS, OPT_HLT_DELAY, OPT_RUNS, OPT_DEVICE,
	OPT_CPU, OPT_CPU2, OPT_STATS, OPT_VERBOSE, OPT_HELP };

int main(int argc, char **argv)
{
	struct loop loops[] = {
		{ "cpuid", "cpuid", khv_bench_guest_cpuid, DEFAULT_CPUID_ITERS, 0, 0, 0 },
		{ "io", "io", khv_bench_guest_io, DEFAULT_IO_ITERS, 1, 0, 0 },
		{ "dirty", "dirty", khv_bench_guest_dirty, DEFAULT_DIRTY_ITERS, 1, 0, 1 },
		{ "dirty-sparse", "dirty-sparse", khv_bench_guest_dirty_sparse, DEFAULT_DIRTY_ITERS,
		  1, 0, 2 },
		{ "timer", "timer", NULL, DEFAULT_TIMER_ITERS, 0, BENCH_IRQ_TIMER + 1, 0 },
		{ "hlt-timer", "hlt-timer", NULL, DEFAULT_HLT_ITERS, 0, BENCH_IRQ_HLT_TIMER + 1, 0 },
		{ "ipi", "ipi", NULL, DEFAULT_IPI_ITERS, 0, BENCH_IRQ_IPI + 1, 0 },
		{ "msi", "msi", NULL, DEFAULT_MSI_ITERS, 0, BENCH_IRQ_MSI + 1, 0 },
	};
	/* One --<loop>-iters option per loop, all with OPT_ITERS + index. */
	struct option opts[ARRAY_SIZE(loops) + 12] = {
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "loop", required_argument, NULL, OPT_LOOP },
		{ "hlt-delay-us", required_argument, NULL, OPT_HLT_DELAY },
		{ "runs", required_argument, NULL, OPT_RUNS },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "cpu", required_argument, NULL, OPT_CPU },
		{ "cpu2", required_argument, NULL, OPT_CPU2 },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "help", no_argument, NULL, OPT_HELP },
	};
	char iter_opt[ARRAY_SIZE(loops)][32];
	const struct bench_driver *drv = NULL;
	const char *device = NULL, *which = "all";
	unsigned long v, runs = DEFAULT_RUNS, delay_us = DEFAULT_HLT_DELAY_US;
	int opt, idx, cpu = 0, cpu2 = -2, stats = 0, ret = 0, known;
	struct bench_irq_env env = { .irq_fd = -1, .doorbell_fd = -1 };
	struct sigaction sa = { .sa_handler = on_alarm };
	cpu_set_t set;
	double rate;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(loops); i++) {
		snprintf(iter_opt[i], sizeof(iter_opt[i]), "%s-iters", loops[i].opt);
		opts[10 + i] = (struct option){ iter_opt[i], required_argument, NULL,
						(int)(OPT_HELP + 1 + i) };
	}

	while ((opt = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
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
			known = !strcmp(optarg, "all") || !strcmp(optarg, "exits") ||
				!strcmp(optarg, "irq");
			for (i = 0; i < ARRAY_SIZE(loops); i++)
				known |= !strcmp(optarg, loops[i].name);
			if (!known)
				goto bad_usage;
			which = optarg;
			break;
		case OPT_HLT_DELAY:
			if (parse_ulong("hlt-delay-us", optarg, 1000000, &delay_us))
				return 2;
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
		case OPT_CPU2:
			cpu2 = atoi(optarg);
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
			if (opt > OPT_HELP && opt <= OPT_HELP + (int)ARRAY_SIZE(loops)) {
				/* ESI is a 32-bit counter in the guest. */
				i = (size_t)(opt - OPT_HELP - 1);
				if (parse_ulong(iter_opt[i], optarg, 0xffffffffu, &v))
					return 2;
				loops[i].iters = v;
				break;
			}
			goto bad_usage;
		}
	}
	if (!drv || optind != argc)
		goto bad_usage;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	/* One CPU for the whole run: no migrations inside a measurement. */
	if (cpu2 == -2)
		cpu2 = next_cpu(cpu);
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			fprintf(stderr, "khv-bench: cannot pin to CPU %d: %s (not pinned)\n",
				cpu, strerror(errno));
	}

	ret |= run_group(drv, device, loops, ARRAY_SIZE(loops), which, 0, (int)runs, stats, &env);
	rate = tsc_per_ns();
	env.helper_cpu = cpu2;
	env.delay_ns = delay_us * 1000;
	env.delay_cycles = (uint64_t)((double)env.delay_ns * rate);
	ret |= run_group(drv, device, loops, ARRAY_SIZE(loops), which, 1, (int)runs, stats, &env);
	return ret;

bad_usage:
	print_help(stderr);
	return 2;
}
