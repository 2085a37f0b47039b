// SPDX-License-Identifier: GPL-2.0
/*
 * The vCPU threads: KHV_RUN in a loop, each exit to userspace dispatched to
 * the port-I/O or MMIO bus (dev.h), and the stop/pause protocol.
 *
 * Locking: m->lock covers m->state, m->in_guest and m->req.  A thread that
 * wants the vCPUs out of KHV_RUN (pause, stop, a request) sets the state
 * and each vCPU's run->immediate_exit under m->lock, then sends the thread
 * SIGUSR1: KHV_RUN returns -EINTR at once if the flag was set before it
 * entered, or at the signal if it was already inside.  Each vCPU clears the
 * flag itself, under the lock, only when it sees the state RUNNING, so a
 * kick is never lost and never spins.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "machine.h"
#include "vmm.h"

#define KR_KICK_SIGNAL	SIGUSR1

static void kr_kick_handler(int sig)
{
	(void)sig;	/* its only job is to interrupt KHV_RUN */
}

static void kr_vcpus_kick(struct kr_machine *m);

/*
 * Every request ends this machine (main() stops and joins the vCPUs, then
 * quits or builds a new one), so the vCPUs stop here, at once, as a real
 * machine's do at a reset or at QEMU's isa-debug-exit: the vCPU that wrote
 * the request does not enter the guest again, and the others leave KHV_RUN
 * now rather than when the main thread gets round to it.  Without this the
 * guest ran on after writing port 0xf4 and printed what came next.
 */
void kr_machine_request(struct kr_machine *m, enum kr_request req, int code, const char *reason,
			const char *why)
{
	pthread_mutex_lock(&m->lock);
	if (m->req == KR_REQ_NONE) {
		m->req = req;
		m->code = code;
		m->reason = reason;
		snprintf(m->why, sizeof(m->why), "%s", why ? why : "");
		m->state = KR_STOPPING;
		kr_vcpus_kick(m);
		pthread_cond_broadcast(&m->cond);
	}
	pthread_mutex_unlock(&m->lock);
	kr_loop_stop(m->loop);
}

static void kr_vcpu_dump(struct kr_vcpu *v)
{
	const struct khv_run *run = v->vcpu.run;
	struct khv_regs r;
	struct khv_sregs s;

	/* What khv says about an internal error (Documentation/khv/uapi.rst). */
	if (run->exit_reason == KHV_EXIT_INTERNAL_ERROR) {
		fprintf(stderr, "khv-run: vCPU %u: data", v->index);
		for (uint32_t i = 0; i < run->internal.ndata && i < 16; i++)
			fprintf(stderr, " %#llx", (unsigned long long)run->internal.data[i]);
		fputc('\n', stderr);
	}

	if (khv_vcpu_get_regs(&v->vcpu, &r) || khv_vcpu_get_sregs(&v->vcpu, &s))
		return;
	fprintf(stderr, "khv-run: vCPU %u: rip %#llx rsp %#llx rflags %#llx rax %#llx\n"
		"khv-run:   cr0 %#llx cr3 %#llx cr4 %#llx efer %#llx cs %#x\n", v->index,
		(unsigned long long)r.rip, (unsigned long long)r.rsp,
		(unsigned long long)r.rflags, (unsigned long long)r.rax,
		(unsigned long long)s.cr0, (unsigned long long)s.cr3,
		(unsigned long long)s.cr4, (unsigned long long)s.efer, s.cs.selector);
}

static void kr_vcpu_io(struct kr_vcpu *v)
{
	struct kr_machine *m = v->m;
	const struct khv_run *run = v->vcpu.run;
	uint8_t *data = khv_vcpu_io_data(&v->vcpu);
	bool out = run->io.direction == KHV_EXIT_IO_OUT;

	if (!data)
		return;
	for (uint32_t i = 0; i < run->io.count; i++) {
		uint8_t *d = data + (size_t)i * run->io.size;

		if (!kr_bus_access(&m->pio, run->io.port, d, run->io.size, out))
			__atomic_add_fetch(&m->unclaimed_pio, 1, __ATOMIC_RELAXED);
		if (m->cfg->trace_io)
			fprintf(stderr, "khv-run: vCPU %u: %s port %#x size %u value %#llx\n",
				v->index, out ? "out" : "in", run->io.port, run->io.size,
				(unsigned long long)kr_get_le(d, run->io.size));
	}
}

static void kr_vcpu_mmio(struct kr_vcpu *v)
{
	struct kr_machine *m = v->m;
	struct khv_run *run = v->vcpu.run;
	unsigned int len = run->mmio.len;

	if (len > sizeof(run->mmio.data))
		return;
	if (!kr_bus_access(&m->mmio, run->mmio.phys_addr, run->mmio.data, len,
			   run->mmio.is_write))
		__atomic_add_fetch(&m->unclaimed_mmio, 1, __ATOMIC_RELAXED);
	if (m->cfg->trace_io)
		fprintf(stderr, "khv-run: vCPU %u: mmio %s %#llx size %u value %#llx\n", v->index,
			run->mmio.is_write ? "write" : "read",
			(unsigned long long)run->mmio.phys_addr, len,
			(unsigned long long)kr_get_le(run->mmio.data, len));
}

/*
 * A studied event (--study): its line, when it is one the user asked for
 * (khv's MSR list is shared by RDMSR and WRMSR), then khv's own handling
 * at the next KHV_RUN, with the answer khv gave (flags 0).  The vCPU waits
 * while the log is full; a line is lost only when the log fails or a kick
 * (stop, pause) interrupts that wait.
 */
static void kr_vcpu_study(struct kr_vcpu *v)
{
	const struct kr_config *cfg = v->m->cfg;
	struct khv_run *run = v->vcpu.run;

	if (kr_study_wanted(&cfg->study, run))
		kr_study_log(cfg->study_fd, cfg->study_crlf, run, v->index);
	run->study.flags = 0;
}

/* false: the thread ends (a request was made). */
static bool kr_vcpu_exit(struct kr_vcpu *v)
{
	struct kr_machine *m = v->m;
	const struct khv_run *run = v->vcpu.run;
	char why[160];

	switch (run->exit_reason) {
	case KHV_EXIT_IO:
		kr_vcpu_io(v);
		return true;
	case KHV_EXIT_MMIO:
		kr_vcpu_mmio(v);
		return true;
	case KHV_EXIT_STUDY:
		kr_vcpu_study(v);
		return true;
	case KHV_EXIT_INTR:
	case KHV_EXIT_HLT:		/* the in-kernel irqchip sleeps for us */
	case KHV_EXIT_IRQ_WINDOW_OPEN:
		return true;
	case KHV_EXIT_SHUTDOWN:
		kr_machine_request(m, KR_REQ_RESET, 0, KR_REASON_GUEST_RESET, "triple fault");
		return false;
	case KHV_EXIT_INTERNAL_ERROR:
		snprintf(why, sizeof(why), "vCPU %u: khv internal error %s (%u)", v->index,
			 khv_internal_error_name(run->internal.suberror), run->internal.suberror);
		break;
	case KHV_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why), "vCPU %u: VM entry failed, reason %#llx", v->index,
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	default:
		snprintf(why, sizeof(why), "vCPU %u: unexpected exit %s (%u)", v->index,
			 khv_exit_reason_name(run->exit_reason), run->exit_reason);
		break;
	}
	fprintf(stderr, "khv-run: %s\n", why);
	kr_vcpu_dump(v);
	kr_machine_request(m, KR_REQ_ERROR, KR_EXIT_GUEST, KR_REASON_ERROR, why);
	return false;
}

/*
 * Park while paused; false when the thread must end.  A vCPU parks with
 * its last exit completed: the data of an IN or an MMIO read is in the
 * vCPU's registers only at its next KHV_RUN, so before parking it makes
 * one with immediate_exit set (the kick set it: khv completes the exit and
 * returns EINTR without entering the guest).  A snapshot or a migration
 * taken while it is parked then saves an instruction that is done, not
 * one half done that the restored vCPU would execute again.
 */
static bool kr_vcpu_may_run(struct kr_vcpu *v, bool *exited)
{
	struct kr_machine *m = v->m;
	bool run;

	pthread_mutex_lock(&m->lock);
	if (m->state == KR_PAUSED && *exited) {
		pthread_mutex_unlock(&m->lock);
		__atomic_store_n(&v->vcpu.run->immediate_exit, 1, __ATOMIC_RELAXED);
		khv_vcpu_run(&v->vcpu);		/* EINTR: completed, nothing run */
		*exited = false;
		pthread_mutex_lock(&m->lock);
	}
	while (m->state == KR_PAUSED) {
		m->in_guest--;
		pthread_cond_broadcast(&m->cond);
		pthread_cond_wait(&m->cond, &m->lock);
		m->in_guest++;
	}
	run = m->state == KR_RUNNING;
	if (run)
		__atomic_store_n(&v->vcpu.run->immediate_exit, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&m->lock);
	return run;
}

static void *kr_vcpu_thread(void *p)
{
	struct kr_vcpu *v = p;
	struct kr_machine *m = v->m;
	sigset_t set;

	v->tid = syscall(SYS_gettid);
	sigemptyset(&set);
	sigaddset(&set, KR_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	bool exited = false;	/* an exit was handled and not yet completed by a KHV_RUN */

	while (kr_vcpu_may_run(v, &exited)) {
		int err = khv_vcpu_run(&v->vcpu);

		exited = false;
		if (err == -EINTR || err == -EAGAIN)
			continue;
		if (err) {
			char why[160];

			snprintf(why, sizeof(why), "vCPU %u: KHV_RUN: %s", v->index, strerror(-err));
			fprintf(stderr, "khv-run: %s\n", why);
			kr_machine_request(m, KR_REQ_ERROR, KR_EXIT_HOST, KR_REASON_ERROR, why);
			break;
		}
		if (!kr_vcpu_exit(v))
			break;
		exited = true;
	}
	pthread_mutex_lock(&m->lock);
	m->in_guest--;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* With m->lock held: every vCPU out of KHV_RUN soon. */
static void kr_vcpus_kick(struct kr_machine *m)
{
	for (unsigned int i = 0; i < m->nr_vcpus; i++) {
		struct kr_vcpu *v = &m->vcpus[i];

		if (!v->started)
			continue;
		__atomic_store_n(&v->vcpu.run->immediate_exit, 1, __ATOMIC_RELAXED);
		pthread_kill(v->thread, KR_KICK_SIGNAL);
	}
}

int kr_vcpus_start(struct kr_machine *m, bool paused)
{
	struct sigaction sa = { .sa_handler = kr_kick_handler };
	sigset_t set, old;
	int err = 0;

	sigemptyset(&sa.sa_mask);
	if (sigaction(KR_KICK_SIGNAL, &sa, NULL))
		return -errno;
	/* The threads inherit a mask with everything blocked but the kick. */
	sigfillset(&set);
	pthread_sigmask(SIG_SETMASK, &set, &old);
	pthread_mutex_lock(&m->lock);
	/* Paused: each thread parks before its first KHV_RUN. */
	m->state = paused ? KR_PAUSED : KR_RUNNING;
	for (unsigned int i = 0; i < m->nr_vcpus; i++) {
		struct kr_vcpu *v = &m->vcpus[i];

		err = -pthread_create(&v->thread, NULL, kr_vcpu_thread, v);
		if (err)
			break;
		v->started = true;
		m->in_guest++;
	}
	pthread_mutex_unlock(&m->lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (unsigned int i = 0; i < m->nr_vcpus; i++) {
		char name[16];

		if (!m->vcpus[i].started)
			continue;
		snprintf(name, sizeof(name), "vcpu%u", i);
		pthread_setname_np(m->vcpus[i].thread, name);
	}
	return err;
}

void kr_vcpus_stop(struct kr_machine *m)
{
	pthread_mutex_lock(&m->lock);
	m->state = KR_STOPPING;
	kr_vcpus_kick(m);
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	for (unsigned int i = 0; i < m->nr_vcpus; i++) {
		if (!m->vcpus[i].started)
			continue;
		pthread_join(m->vcpus[i].thread, NULL);
		m->vcpus[i].started = false;
	}
}

void kr_vcpus_pause(struct kr_machine *m)
{
	pthread_mutex_lock(&m->lock);
	if (m->state == KR_RUNNING) {
		m->state = KR_PAUSED;
		kr_vcpus_kick(m);
		while (m->in_guest)
			pthread_cond_wait(&m->cond, &m->lock);
	}
	pthread_mutex_unlock(&m->lock);
}

void kr_vcpus_resume(struct kr_machine *m)
{
	pthread_mutex_lock(&m->lock);
	if (m->state == KR_PAUSED) {
		m->state = KR_RUNNING;
		pthread_cond_broadcast(&m->cond);
	}
	pthread_mutex_unlock(&m->lock);
}
