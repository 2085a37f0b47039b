// SPDX-License-Identifier: GPL-2.0
/*
 * khv-bench's interrupt loops (Documentation/khv/bench.rst): one run of a
 * guest loop in the irqchip VM, timed from the guest's READY report to its
 * DONE report, with the host threads the loop needs:
 *   timer, hlt-timer  vCPU 0 alone, its own APIC timer;
 *   ipi               vCPU 1 in a second thread, released at vCPU 0's READY;
 *   msi               a host thread that signals the irqfd and waits on the
 *                     ioeventfd the guest's handler rings.
 * Between READY and DONE no exit may reach us: everything in between is
 * handled in the hypervisor's kernel part, and any exit fails the loop.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "guest.h"

/* A helper thread gives up after this long without progress. */
#define HELPER_TIMEOUT_MS	20000
/* The MSI: to APIC 0, physical destination, fixed, edge. */
#define BENCH_MSI_ADDRESS	0xfee00000ull

static uint64_t gpa_of(const unsigned char *entry)
{
	return BENCH_GUEST_LOAD + (uint64_t)(entry - khv_bench_guest);
}

static volatile uint32_t *guest_u32(const struct bench_irq_env *e, uint32_t gpa)
{
	return (volatile uint32_t *)((char *)e->mem + gpa);
}

static void pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);	/* best effort */
}

/* Wait for eventfd fd and read its count; 0 on timeout or error. */
static uint64_t efd_wait(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t v;

	if (poll(&p, 1, timeout_ms) != 1)
		return 0;
	if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return 0;
	return v;
}

static int efd_signal(int fd)
{
	uint64_t one = 1;

	return write(fd, &one, sizeof(one)) == (ssize_t)sizeof(one) ? 0 : -errno;
}

/*
 * Run vcpu until its next exit and classify it: 0 for an OUT to want,
 * -EPROTO (with a message) for anything else, including the guest's FAIL.
 */
static int run_until(const struct bench_irq_env *e, unsigned int vcpu, uint16_t want,
		     const char *loop)
{
	struct bench_exit x;
	int ret;

	ret = e->drv->run(e->ctx, vcpu, &x);
	if (ret)
		return ret;
	if (x.kind == BENCH_EXIT_OUT && x.port == want)
		return 0;
	if (x.kind == BENCH_EXIT_OUT && x.port == BENCH_PORT_FAIL)
		snprintf(x.what, sizeof(x.what), "the guest found no %s in CPUID",
			 e->fail_code == BENCH_FAIL_NO_DEADLINE ? "TSC-deadline timer" : "x2APIC");
	else if (x.kind == BENCH_EXIT_OUT)
		snprintf(x.what, sizeof(x.what), "OUT to port %#x", x.port);
	else if (x.kind == BENCH_EXIT_HLT)
		snprintf(x.what, sizeof(x.what), "HLT");
	fprintf(stderr, "khv-bench: %s %s: vCPU %u: unexpected exit to userspace: %s\n",
		e->drv->name, loop, vcpu, x.what);
	return -EPROTO;
}

/* ---- the host threads ------------------------------------------------------ */

struct helper {
	const struct bench_irq_env *env;
	unsigned long iters;
	int go_fd;		/* ipi: vCPU 1 starts when this is signalled */
	int ret;
	const char *why;	/* what went wrong, for the message */
};

/* ipi: vCPU 1, from vCPU 0's READY to its own DONE. */
static void *ap_thread(void *p)
{
	struct helper *h = p;

	pin_self(h->env->helper_cpu);
	if (!efd_wait(h->go_fd, HELPER_TIMEOUT_MS)) {
		h->why = "never released";
		h->ret = -ETIMEDOUT;
		return NULL;
	}
	if (h->env->cancel) {
		h->ret = -ECANCELED;
		return NULL;
	}
	h->ret = run_until(h->env, 1, BENCH_PORT_DONE, "ipi");
	return NULL;
}

/*
 * msi: N times, wait for the doorbell the guest's handler rang, and send
 * the next MSI.  The first one is sent by the vCPU thread at READY.  Each
 * doorbell must count exactly 1: one handler run per MSI.
 */
static void *msi_thread(void *p)
{
	struct helper *h = p;
	unsigned long i;
	uint64_t v;

	pin_self(h->env->helper_cpu);
	for (i = 0; i < h->iters; i++) {
		/*
		 * A plain blocking read, as a device model waits on its
		 * doorbell; a guest that never rings it leaves us here until
		 * khv-bench's watchdog (RUN_TIMEOUT_S) ends the process.
		 */
		if (read(h->env->doorbell_fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
			v = 0;
		if (v != 1) {
			h->why = v ? "a doorbell counted more than once" :
				     "doorbell read failed";
			h->ret = -EPROTO;
			return NULL;
		}
		if (i + 1 < h->iters && efd_signal(h->env->irq_fd)) {
			h->why = "irqfd write failed";
			h->ret = -EIO;
			return NULL;
		}
	}
	return NULL;
}

/* ---- one run --------------------------------------------------------------- */

int bench_irq_setup(struct bench_irq_env *e)
{
	int ret;

	e->irq_fd = eventfd(0, EFD_CLOEXEC);
	e->doorbell_fd = eventfd(0, EFD_CLOEXEC);
	if (e->irq_fd < 0 || e->doorbell_fd < 0) {
		fprintf(stderr, "khv-bench: eventfd: %s\n", strerror(errno));
		return -errno;
	}
	ret = e->drv->msi_irqfd(e->ctx, e->irq_fd, BENCH_MSI_ADDRESS, BENCH_VEC_MSI);
	if (ret)
		return ret;
	return e->drv->pio_ioeventfd(e->ctx, e->doorbell_fd, BENCH_PORT_DOORBELL);
}

void bench_irq_cleanup(struct bench_irq_env *e)
{
	if (e->irq_fd >= 0)
		close(e->irq_fd);
	if (e->doorbell_fd >= 0)
		close(e->doorbell_fd);
	e->irq_fd = e->doorbell_fd = -1;
}

static const unsigned char *entry_of(enum bench_irq_loop kind)
{
	switch (kind) {
	case BENCH_IRQ_TIMER:
		return khv_bench_guest_timer;
	case BENCH_IRQ_HLT_TIMER:
		return khv_bench_guest_hlt_timer;
	case BENCH_IRQ_IPI:
		return khv_bench_guest_ipi;
	case BENCH_IRQ_MSI:
		break;
	}
	return khv_bench_guest_msi;
}

/* What the guest must have counted after a run of iters iterations. */
static int check_counts(const struct bench_irq_env *e, enum bench_irq_loop kind,
			unsigned long iters, const char *loop)
{
	uint32_t c0 = *guest_u32(e, BENCH_VAR_COUNT0), c1 = *guest_u32(e, BENCH_VAR_COUNT1);
	/* vCPU 0 also counts vCPU 1's "up" IPI. */
	unsigned long want0 = kind == BENCH_IRQ_IPI ? iters + 1 : iters;

	if (c0 == want0 && (kind != BENCH_IRQ_IPI || c1 == iters))
		return 0;
	fprintf(stderr, "khv-bench: %s %s: the handlers ran %u (vCPU 0) and %u (vCPU 1) times, want %lu and %lu\n",
		e->drv->name, loop, c0, c1, want0, kind == BENCH_IRQ_IPI ? iters : 0ul);
	return -EPROTO;
}

/*
 * One run of loop kind with iters iterations: cycles and ns per iteration
 * (hlt-timer: beyond the programmed delay), and the hlt-timer's late count.
 */
int bench_irq_run(struct bench_irq_env *e, enum bench_irq_loop kind, const char *loop,
		  unsigned long iters, double *cycles, double *ns, unsigned long *late)
{
	struct helper *h;
	uint64_t c0, c1, t0, t1;
	pthread_t th;
	int have_thread = 0, ret;

	/* On the heap: a thread left behind after a failure still uses it. */
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->env = e;
	h->iters = iters;
	h->go_fd = -1;
	e->cancel = 0;
	e->fail_code = kind == BENCH_IRQ_HLT_TIMER ? BENCH_FAIL_NO_DEADLINE : BENCH_FAIL_NO_X2APIC;
	*(volatile uint64_t *)((char *)e->mem + BENCH_VAR_DELAY) = e->delay_cycles;
	ret = e->drv->set_entry(e->ctx, 0, gpa_of(entry_of(kind)), iters, BENCH_STACK0);
	if (ret)
		goto out;
	if (kind == BENCH_IRQ_IPI) {
		ret = e->drv->set_entry(e->ctx, 1, gpa_of(khv_bench_guest_ipi_ap), iters,
					BENCH_STACK1);
		if (ret)
			goto out;
		h->go_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (h->go_fd < 0) {
			ret = -errno;
			goto out;
		}
	}
	if (kind == BENCH_IRQ_IPI || kind == BENCH_IRQ_MSI) {
		ret = pthread_create(&th, NULL, kind == BENCH_IRQ_IPI ? ap_thread : msi_thread, h);
		if (ret) {
			fprintf(stderr, "khv-bench: pthread_create: %s\n", strerror(ret));
			goto out;
		}
		have_thread = 1;
	}

	/* Set-up (x2APIC on, IVT, LVT) until READY: not timed. */
	ret = run_until(e, 0, BENCH_PORT_READY, loop);
	if (ret)
		goto out;
	t0 = now_ns();
	c0 = rdtsc_ordered();
	if (kind == BENCH_IRQ_IPI)
		ret = efd_signal(h->go_fd);
	else if (kind == BENCH_IRQ_MSI)
		ret = efd_signal(e->irq_fd);
	if (!ret)
		ret = run_until(e, 0, BENCH_PORT_DONE, loop);
	c1 = rdtsc_ordered();
	t1 = now_ns();
	if (ret)
		goto out;

	*cycles = (double)(c1 - c0) / (double)iters;
	*ns = (double)(t1 - t0) / (double)iters;
	if (kind == BENCH_IRQ_HLT_TIMER) {
		*cycles -= (double)e->delay_cycles;
		*ns -= (double)e->delay_ns;
	}
	*late = kind == BENCH_IRQ_HLT_TIMER ? *guest_u32(e, BENCH_VAR_LATE) : 0;
out:
	if (have_thread) {
		if (ret) {
			/*
			 * vCPU 1 may sleep in HLT for good, the MSI sender wait
			 * for a doorbell that never comes: leave the thread (the
			 * process ends soon); release vCPU 1 if it still waits.
			 */
			e->cancel = 1;
			if (h->go_fd >= 0)
				efd_signal(h->go_fd);
			pthread_detach(th);
			return ret;	/* h and h->go_fd stay for the thread */
		}
		pthread_join(th, NULL);
		if (!ret && h->ret) {
			fprintf(stderr, "khv-bench: %s %s: host thread: %s%s%s\n", e->drv->name,
				loop, strerror(-h->ret), h->why ? ": " : "", h->why ? h->why : "");
			ret = h->ret;
		}
	}
	if (h->go_fd >= 0)
		close(h->go_fd);
	free(h);
	if (!ret)
		ret = check_counts(e, kind, iters, loop);
	return ret;
}
