// SPDX-License-Identifier: GPL-2.0
/*
 * smp: a vCPU running guest code on CPU 1 while the test, on CPU 0, changes
 * what it runs with.  Both paths need khv to reach into the other CPU: an
 * IPI that forces a VM exit, then the right thing before the next entry.
 *
 *  - remote_slot_replace: the guest (smp_guest.S) stores an increasing
 *    counter into slot 1 from CPU 1, without ever exiting on its own.  From
 *    CPU 0 the test deletes slot 1: when that ioctl returns, khv must have
 *    kicked CPU 1 out of the guest, flushed its TLB for the VM (INVEPT /
 *    ASID) and unpinned the pages, so the old memory must never change
 *    again (checked 30 ms later).  Then slot 1 comes back over the other
 *    buffer and the guest's stores must reach it (a fault maps the new
 *    memory).  In between, stores are MMIO writes, dropped.  Ten rounds.
 *  - remote_signal: the guest spins in "jmp ."; a signal sent to the vCPU
 *    thread from CPU 0 makes KHV_RUN on CPU 1 return EINTR with
 *    KHV_EXIT_INTR (the host's IPI exits the guest, khv sees the signal).
 *    Ten rounds; the signal is repeated until KHV_RUN returns, so a signal
 *    taken just before the vCPU entered KHV_RUN cannot hang the test.
 *
 * A stuck guest ends in the harness watchdog (KHVT_WATCHDOG_SECONDS per
 * KHV_RUN), so a missing kick fails instead of hanging.  Skipped with fewer
 * than two online CPUs.  Lane vmxsmp of make check (Bochs, two CPUs) must
 * not skip it; the QEMU lanes have two CPUs too.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(smp_store);
KHVT_DECLARE_PAYLOAD(smp_spin);

#define SLOT		1
#define SLOT_GPA	0x400000
#define SLOT_SIZE	0x200000
#define ROUNDS		10


static int pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return errno;
	return sched_getcpu() == cpu ? 0 : EAGAIN;
}

/* Only the vCPU thread may take the watchdog's SIGALRM. */
static void sigalrm_block(bool block)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &s, NULL);
}

/* The vCPU thread: no harness macros here, results go to the struct. */
struct vcpu_thread {
	struct khvt_vm *t;
	atomic_int state;		/* 0 starting, 1 about to run, 2 done */
	atomic_int stop;		/* store: return at the next EINTR */
	int err;			/* 0, an errno, or -1 with why[] */
	char why[200];
	unsigned int mmio_writes, eintr;
	int cpu_after;
};

static void on_usr1(int sig)
{
	(void)sig;
}

/* Runs the store guest until stopped; MMIO writes (slot gone) are dropped. */
static void *store_thread(void *arg)
{
	struct vcpu_thread *v = arg;
	const struct khv_run *run = v->t->vcpu.run;
	char buf[256];
	int r;

	sigalrm_block(false);
	v->err = pin_self(1);
	if (v->err)
		goto out;
	atomic_store(&v->state, 1);
	for (;;) {
		r = khvt_run(v->t);
		if (r == -EINTR && atomic_load(&v->stop))
			break;
		if (r == -EINTR)
			continue;
		if (r) {
			v->err = -r;
			break;
		}
		if (run->exit_reason == KHV_EXIT_MMIO && run->mmio.is_write &&
		    run->mmio.phys_addr == SLOT_GPA) {
			v->mmio_writes++;
			continue;
		}
		v->err = -1;
		snprintf(v->why, sizeof(v->why), "unexpected exit: %s",
			 khvt_exit_str(v->t, buf, sizeof(buf)));
		break;
	}
out:
	v->cpu_after = sched_getcpu();
	atomic_store(&v->state, 2);
	return NULL;
}

/* Wait (at most ~20 s) until the thread reached state. */
static bool wait_state(struct vcpu_thread *v, int state)
{
	for (int i = 0; i < 20000 && atomic_load(&v->state) < state; i++)
		usleep(1000);
	return atomic_load(&v->state) >= state;
}

/* Wait (at most ~20 s) until *p changes from old; false if it does not. */
static bool wait_change(volatile uint64_t *p, uint64_t old)
{
	for (int i = 0; i < 20000 && *p == old; i++)
		usleep(1000);
	return *p != old;
}

static void __check_thread(KHVT_MD, int line, struct vcpu_thread *v)
{
	if (v->err == -1)
		KHVT_FAIL("line %d: vCPU thread: %s", line, v->why);
	if (v->err == ETIMEDOUT)
		KHVT_FAIL("line %d: the guest on CPU 1 did not exit within %d s", line,
			  KHVT_WATCHDOG_SECONDS);
	if (v->err)
		KHVT_FAIL("line %d: vCPU thread: %s", line, strerror(v->err));
	EXPECT_EQ(1, v->cpu_after) TH_LOG("line %d: the vCPU thread left CPU 1", line);
}
#define check_thread(v) __check_thread(_metadata, __LINE__, (v))

/* Signal the vCPU thread until it is done (a signal before KHV_RUN is lost). */
static unsigned int stop_thread(struct vcpu_thread *v, pthread_t th)
{
	unsigned int kills = 0;

	while (atomic_load(&v->state) < 2) {
		pthread_kill(th, SIGUSR1);
		kills++;
		usleep(20000);
	}
	return kills;
}

static void install_usr1(void)
{
	struct sigaction sa;

	/* No SA_RESTART: the signal must end KHV_RUN with EINTR. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

/*
 * Two CPUs or skip; the test on CPU 0, where only the vCPU thread takes
 * the watchdog's SIGALRM; SIGUSR1 interrupts KHV_RUN.
 */
#define SMP_SETUP() do {							\
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)					\
		SKIP(return, "only one CPU online");				\
	ASSERT_EQ(0, pin_self(0)) TH_LOG("pinning the test to CPU 0");		\
	sigalrm_block(true);							\
	install_usr1();								\
} while (0)

TEST(remote_slot_replace)
{
	struct vcpu_thread v = { 0 };
	volatile uint64_t *mem[2];
	struct khvt_vm t;
	struct khv_regs r;
	pthread_t th;
	int i;

	SMP_SETUP();
	VM_WITH_PAYLOAD(&t, KHVT_LONG, smp_store);
	for (i = 0; i < 2; i++) {
		mem[i] = khv_guest_mem_alloc(SLOT_SIZE);
		ASSERT_NE(NULL, mem[i]);
	}
	KHV_OK(khv_vm_set_memory(&t.vm, SLOT, 0, SLOT_GPA, SLOT_SIZE, (void *)mem[0]));
	KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
	r.rdi = SLOT_GPA;
	KHV_OK(khv_vcpu_set_regs(&t.vcpu, &r));

	v.t = &t;
	ASSERT_EQ(0, pthread_create(&th, NULL, store_thread, &v));
	ASSERT_TRUE(wait_state(&v, 1)) TH_LOG("the vCPU thread did not start");
	for (i = 0; i < ROUNDS; i++) {
		volatile uint64_t *cur = mem[i % 2], *next = mem[(i + 1) % 2];
		uint64_t seen;

		/* The guest stores into cur from CPU 1. */
		if (!wait_change(cur, cur[0])) {
			stop_thread(&v, th);
			pthread_join(th, NULL);
			check_thread(&v);
			KHVT_FAIL("round %d: the guest does not store into the slot's memory", i);
		}
		KHV_OK(khv_vm_set_memory(&t.vm, SLOT, 0, SLOT_GPA, 0, NULL));
		/*
		 * Deleted: the vCPU has left the guest, flushed, and cur is no
		 * longer mapped.  Not one more store may land in it.
		 */
		seen = cur[0];
		usleep(30000);
		EXPECT_EQ(seen, cur[0]) TH_LOG("round %d: the guest still stores into a deleted slot's memory (%#llx, then %#llx)",
					       i, (unsigned long long)seen,
					       (unsigned long long)cur[0]);
		next[0] = 0;
		KHV_OK(khv_vm_set_memory(&t.vm, SLOT, 0, SLOT_GPA, SLOT_SIZE, (void *)next));
	}
	/* And the last buffer is written to. */
	EXPECT_TRUE(wait_change(mem[ROUNDS % 2], 0)) TH_LOG("no store after the last add");
	atomic_store(&v.stop, 1);
	stop_thread(&v, th);
	ASSERT_EQ(0, pthread_join(th, NULL));
	check_thread(&v);
	fprintf(stderr, "# %d slot replacements, %u MMIO writes in between\n", ROUNDS,
		v.mmio_writes);
	khvt_destroy(&t);
	for (i = 0; i < 2; i++)
		khv_guest_mem_free((void *)mem[i], SLOT_SIZE);
}

static void *spin_thread(void *arg)
{
	struct vcpu_thread *v = arg;
	const struct khv_run *run = v->t->vcpu.run;
	int r;

	sigalrm_block(false);
	v->err = pin_self(1);
	if (v->err)
		goto out;
	atomic_store(&v->state, 1);
	r = khvt_run(v->t);
	if (r == -EINTR && run->exit_reason == KHV_EXIT_INTR) {
		v->eintr++;
	} else if (r) {
		v->err = -r;
	} else {
		v->err = -1;
		snprintf(v->why, sizeof(v->why), "KHV_RUN returned 0, exit reason %u",
			 run->exit_reason);
	}
out:
	v->cpu_after = sched_getcpu();
	atomic_store(&v->state, 2);
	return NULL;
}

TEST(remote_signal)
{
	struct vcpu_thread v = { 0 };
	unsigned int kills = 0;
	struct khvt_vm t;
	pthread_t th;
	int i;

	SMP_SETUP();
	VM_WITH_PAYLOAD(&t, KHVT_LONG, smp_spin);

	v.t = &t;
	for (i = 0; i < ROUNDS; i++) {
		atomic_store(&v.state, 0);
		ASSERT_EQ(0, pthread_create(&th, NULL, spin_thread, &v));
		ASSERT_TRUE(wait_state(&v, 1)) TH_LOG("round %d: the vCPU thread did not start", i);
		usleep(10000);
		kills += stop_thread(&v, th);
		ASSERT_EQ(0, pthread_join(th, NULL));
		check_thread(&v);
	}
	EXPECT_EQ((unsigned int)ROUNDS, v.eintr);
	fprintf(stderr, "# %u signals for %d KHV_RUNs\n", kills, ROUNDS);
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
