// SPDX-License-Identifier: GPL-2.0
/*
 * mrelease: process_mrelease(2) on a VMM that was just killed.  The caller
 * runs the OOM reaper's code on the dying process: it invalidates each of
 * its private mappings with a non-blockable MMU-notifier range
 * (mm/oom_kill.c, __oom_reap_task_mm).  khv's notifier must take such a
 * range without sleeping and without failing: Linux 6.1 warns when a
 * notifier that has invalidate_range_end fails a start ("a start that does
 * EAGAIN can't also do end"), then calls that end for the start that did
 * not happen, and khv warned a second time.  Any user can do this to its
 * own child.
 *
 * The VMM, a child process, creates a VM whose guest fills 64 pages of slot
 * 1, then runs the guest in a loop that keeps storing into those pages on a
 * thread of its own (on CPU 1 when there are two), so that a vCPU is in
 * guest mode when the reap comes.  Its main thread then waits on CPU 0 as
 * SCHED_IDLE.  The test, on CPU 0 too, sends SIGKILL and calls
 * process_mrelease() at once: the main thread (whose exit would tear the
 * address space down, unregistering the notifier first) cannot run before
 * the test sleeps, so the reap comes first.  process_mrelease() must return
 * 0 (it fails with EAGAIN when a notifier refuses), the child must be gone
 * within 20 s, and the kernel log from the test's start must show no
 * WARNING, BUG, oops or failed notifier callback.  Three rounds.
 *
 * Skipped without pidfd_open/process_mrelease (ENOSYS) or without read
 * access to /dev/kmsg.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>

#include "khvt_harness.h"
#include "pages.h"

#ifndef __NR_pidfd_open
#define __NR_pidfd_open		434
#endif
#ifndef __NR_process_mrelease
#define __NR_process_mrelease	448
#endif

#define MR_PAGES	64
#define MR_ROUNDS	3
#define MR_VALUE	0x6d72656c65617365ULL	/* "mrelease" */

static int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static int sched_idle(void)
{
	struct sched_param p = { .sched_priority = 0 };

	return sched_setscheduler(0, SCHED_IDLE, &p) ? -errno : 0;
}

struct mr_vcpu {
	struct pages_vm *v;
	int ready_fd;
	int cpu;
};

/* The vCPU thread: report once the guest is in its store loop, then run it. */
static void *mr_vcpu_thread(void *arg)
{
	struct mr_vcpu *c = arg;
	uint32_t n = 0;
	char ok = 'r';
	int ret;

	if (c->cpu >= 0)
		pin_to(c->cpu);
	sched_idle();
	ret = pages_vm_call(c->v, pages_spin, 0, MR_PAGES, MR_VALUE + 1, false, &n);
	if (ret || n != MR_PAGES) {
		fprintf(stderr, "# mrelease: vCPU thread: %s (pages %u)\n",
			ret ? strerror(-ret) : "bad report", n);
		ok = 'e';
	}
	if (write(c->ready_fd, &ok, 1) != 1)
		_exit(1);
	/* Back into the loop, never to return: SIGKILL ends the process. */
	khv_vcpu_run(&c->v->t.vcpu);
	fprintf(stderr, "# mrelease: KHV_RUN of the store loop returned\n");
	_exit(1);
}

/* The VMM: writes 'r' once a vCPU is in guest mode, 's' to skip, 'e' on error. */
static void mr_vmm(int ready_fd, int ncpus)
{
	static struct pages_vm v;
	struct mr_vcpu c = { .v = &v, .ready_fd = ready_fd, .cpu = ncpus > 1 ? 1 : -1 };
	char code = 'e';
	pthread_t th;
	uint32_t n = 0;
	int ret;

	ret = pages_vm_create(&v, MR_PAGES, -1);
	if (ret) {
		code = khvt_no_device(ret) ? 's' : 'e';
		fprintf(stderr, "# mrelease: VM: %s\n", strerror(-ret));
		goto out;
	}
	ret = pages_vm_call(&v, pages_fill, 0, MR_PAGES, MR_VALUE, true, &n);
	if (ret || n != MR_PAGES) {
		fprintf(stderr, "# mrelease: fill: %s\n", ret ? strerror(-ret) : "bad report");
		goto out;
	}
	/* From here only the vCPU thread runs guest code (the watchdog is its). */
	if (pthread_create(&th, NULL, mr_vcpu_thread, &c)) {
		fprintf(stderr, "# mrelease: pthread_create failed\n");
		goto out;
	}
	ret = pin_to(0);
	if (!ret)
		ret = sched_idle();
	if (ret) {
		fprintf(stderr, "# mrelease: CPU 0, SCHED_IDLE: %s\n", strerror(-ret));
		goto out;
	}
	for (;;)
		pause();
out:
	if (write(ready_fd, &code, 1) != 1)
		_exit(1);
	_exit(1);
}

TEST(sigkill_then_mrelease)
{
	int ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	int kmsg, round, reaped = 0;
	char why[160] = "";

	errno = 0;
	if (syscall(__NR_process_mrelease, -1, 0) < 0 && errno == ENOSYS)
		SKIP(return, "no process_mrelease (Linux 5.15 and later)");
	kmsg = khvt_kmsg_open();
	if (kmsg < 0)
		SKIP(return, "/dev/kmsg: %s", strerror(-kmsg));
	ASSERT_EQ(0, pin_to(0));

	for (round = 0; round < MR_ROUNDS; round++) {
		int fds[2], pidfd, status;
		char code = 0;
		pid_t pid;
		long r;

		ASSERT_EQ(0, pipe(fds));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			close(fds[0]);
			mr_vmm(fds[1], ncpus);
		}
		close(fds[1]);
		r = pages_read_within(fds[0], &code, 1, 20000);
		close(fds[0]);
		if (r || code != 'r') {
			kill(pid, SIGKILL);
			pages_wait_child(pid, 20000);
			if (!r && code == 's')
				SKIP(return, "no khv device");
			ASSERT_EQ(0, 1) TH_LOG("round %d: the VMM did not start (%s)", round,
					       r ? strerror((int)-r) : "it reported an error");
		}

		pidfd = (int)syscall(__NR_pidfd_open, pid, 0);
		if (pidfd < 0 && errno == ENOSYS) {
			kill(pid, SIGKILL);
			pages_wait_child(pid, 20000);
			SKIP(return, "no pidfd_open");
		}
		ASSERT_LE(0, pidfd) TH_LOG("pidfd_open: %s", strerror(errno));
		/* Give the vCPU thread the moment to enter the guest again. */
		usleep(20000);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		r = syscall(__NR_process_mrelease, pidfd, 0);
		if (r && errno != ESRCH && !why[0])
			snprintf(why, sizeof(why), "round %d: process_mrelease: %s", round,
				 strerror(errno));
		reaped += !r;
		close(pidfd);
		status = pages_wait_child(pid, 20000);
		ASSERT_LE(0, status) TH_LOG("round %d: the killed VMM is still there after 20 s",
					    round);
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			TH_LOG("round %d: the VMM ended with status %#x", round, status);
	}
	TH_LOG("%d of %d reaps returned 0", reaped, MR_ROUNDS);
	EXPECT_EQ(0, khvt_kmsg_problems(kmsg, NULL, 0)) TH_LOG("the kernel log has trouble since the test began");
	close(kmsg);
	EXPECT_STREQ("", why);
}

TEST_HARNESS_MAIN
