// SPDX-License-Identifier: GPL-2.0
/*
 * signal: a signal interrupts KHV_RUN of a guest spinning in "jmp .": KHV_RUN
 * fails with EINTR and run->exit_reason is KHV_EXIT_INTR, and the vCPU can be
 * run again.  With run->immediate_exit = 1, KHV_RUN fails with EINTR without
 * entering the guest at all.
 */
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(signal_spin);
extern const uint8_t signal_spin_loop[], signal_out[], signal_done[];

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* SIGALRM after ms milliseconds, once; no SA_RESTART. */
static void arm(KHVT_MD, long ms)
{
	struct itimerval it = { .it_value = { ms / 1000, (ms % 1000) * 1000 } };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
}

static void set_rip(KHVT_MD, struct khvt_vm *t, uint64_t rip)
{
	struct khv_regs r;

	KHV_OK(khv_vcpu_get_regs(&t->vcpu, &r));
	r.rip = rip;
	r.rax = 0;
	KHV_OK(khv_vcpu_set_regs(&t->vcpu, &r));
}

TEST(signal_interrupts_run)
{
	struct khvt_vm t;
	struct khv_regs r;
	double t0, dt;
	int i, ret;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, signal_spin);

	for (i = 0; i < 3; i++) {
		alarms = 0;
		arm(_metadata, 200);
		t0 = now();
		ret = khv_vcpu_run(&t.vcpu);
		dt = now() - t0;
		ASSERT_EQ(-EINTR, ret) {
			khvt_dump(&t);
			TH_LOG("KHV_RUN #%d of a spinning guest: %s", i, strerror(-ret));
		}
		EXPECT_EQ((uint32_t)KHV_EXIT_INTR, t.vcpu.run->exit_reason)
			TH_LOG("exit_reason %s", khv_exit_reason_name(t.vcpu.run->exit_reason));
		EXPECT_EQ(1, alarms);
		EXPECT_GT(dt, 0.15) TH_LOG("KHV_RUN returned after %.3f s, before the signal", dt);
		KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
		EXPECT_VAL("RIP (still in the loop)", PAYLOAD_GPA(signal_spin, signal_spin_loop),
			   r.rip);
	}

	/* The vCPU still works. */
	set_rip(_metadata, &t, PAYLOAD_GPA(signal_spin, signal_out));
	EXPECT_VAL("OUT after the interrupted runs", 0x77, expect_out(&t, PORT_MARK, 4));
	expect_hlt(&t, PAYLOAD_GPA(signal_spin, signal_done));
	khvt_destroy(&t);
}

TEST(immediate_exit)
{
	struct khvt_vm t;
	struct khv_regs r;
	double t0, dt;
	int ret;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, signal_spin);
	REQUIRE_CAP(&t, KHV_CAP_IMMEDIATE_EXIT);

	/* If KHV_RUN entered the guest, it would come back with an IO exit. */
	set_rip(_metadata, &t, PAYLOAD_GPA(signal_spin, signal_out));
	t.vcpu.run->immediate_exit = 1;
	t0 = now();
	ret = khv_vcpu_run(&t.vcpu);
	dt = now() - t0;
	ASSERT_EQ(-EINTR, ret) {
		khvt_dump(&t);
		TH_LOG("KHV_RUN with immediate_exit: %s", strerror(-ret));
	}
	EXPECT_EQ((uint32_t)KHV_EXIT_INTR, t.vcpu.run->exit_reason)
		TH_LOG("exit_reason %s", khv_exit_reason_name(t.vcpu.run->exit_reason));
	EXPECT_LT(dt, 1.0) TH_LOG("KHV_RUN with immediate_exit took %.3f s", dt);
	KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
	EXPECT_VAL("RIP (guest not entered)", PAYLOAD_GPA(signal_spin, signal_out), r.rip);
	EXPECT_VAL("RAX (guest not entered)", 0, r.rax);

	/* Twice in a row, same answer. */
	EXPECT_EQ(-EINTR, khv_vcpu_run(&t.vcpu));

	t.vcpu.run->immediate_exit = 0;
	EXPECT_VAL("OUT once immediate_exit is cleared", 0x77, expect_out(&t, PORT_MARK, 4));
	expect_hlt(&t, PAYLOAD_GPA(signal_spin, signal_done));
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
