// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in for a VMM under khv, for tests/live.sh: its vCPU threads call
 * khv_fake_entry(), khv_fake_exit(), khv_fake_userspace_exit() and
 * khv_fake_halt() in the order khv's run loop fires its tracepoints
 * (core/vcpu.c, irq/apic.c), and live.sh puts uprobes named khv:khv_entry
 * and so on on them, with the fields of core/trace.h, so khv-trace record
 * can run for real on a machine without khv.  The vCPU threads start
 * after a delay, to show that record follows threads made after it began.
 *
 * Usage: fake_khv SECONDS VCPUS [DELAY_MS [GUEST_US]]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double seconds;
static unsigned long guest_us = 20;

/* The probed functions: not inlined, not merged, nothing to optimise away. */
__attribute__((noinline, used)) void khv_fake_entry(unsigned int vcpu, unsigned long rip);
__attribute__((noinline, used)) void khv_fake_exit(unsigned int vcpu, unsigned int code,
						   unsigned long rip, int ret, const char *name,
						   unsigned long info1, unsigned long info2);
__attribute__((noinline, used)) void khv_fake_userspace_exit(unsigned int vcpu,
							     unsigned int reason, int ret);
__attribute__((noinline, used)) void khv_fake_halt(unsigned int vcpu, unsigned int mp_state,
						   int wake);

void khv_fake_entry(unsigned int vcpu, unsigned long rip)
{
	__asm__ volatile("" : : "r"(vcpu), "r"(rip) : "memory");
}

void khv_fake_exit(unsigned int vcpu, unsigned int code, unsigned long rip, int ret,
		   const char *name, unsigned long info1, unsigned long info2)
{
	__asm__ volatile("" : : "r"(vcpu), "r"(code), "r"(rip), "r"(ret), "r"(name), "r"(info1),
			 "r"(info2) : "memory");
}

void khv_fake_userspace_exit(unsigned int vcpu, unsigned int reason, int ret)
{
	__asm__ volatile("" : : "r"(vcpu), "r"(reason), "r"(ret) : "memory");
}

void khv_fake_halt(unsigned int vcpu, unsigned int mp_state, int wake)
{
	__asm__ volatile("" : : "r"(vcpu), "r"(mp_state), "r"(wake) : "memory");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void spin_us(unsigned long us)
{
	double until = now() + (double)us / 1e6;

	while (now() < until)
		;
}

static void *vcpu_thread(void *arg)
{
	unsigned int id = (unsigned int)(unsigned long)arg, n = 0;
	double end = now() + seconds;
	struct timespec nap = { 0, 200000 };

	while (now() < end) {
		khv_fake_entry(id, 0xfff0 + n);
		spin_us(guest_us);		/* in the guest */
		n++;
		if (n % 10 == 0) {		/* port I/O: the VMM answers */
			khv_fake_exit(id, 0x7b, 0xfff0 + n, 0, "svm_ioio", 0x3f8, 0);
			khv_fake_userspace_exit(id, 1, 0);
			spin_us(30);
		} else if (n % 25 == 0) {	/* HLT: sleeps until a timer */
			khv_fake_exit(id, 0x78, 0xfff0 + n, 1, "svm_hlt", 0, 0);
			khv_fake_halt(id, 3, 0);
			nanosleep(&nap, NULL);
			khv_fake_halt(id, 3, 1);
		} else {			/* an MSR, in the kernel */
			khv_fake_exit(id, 0x7c, 0xfff0 + n, 1, "svm_msr", 0x6e0, 0);
			spin_us(3);
		}
	}
	/* The VMM stops the vCPU: KHV_RUN returns with EINTR. */
	khv_fake_exit(id, 0x60, 0xfff0 + n, 0, "svm_intr", 0, 0);
	khv_fake_userspace_exit(id, 7, -4);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned int n, i;
	pthread_t t[64];
	long delay_ms;

	if (argc < 3) {
		fprintf(stderr, "usage: fake_khv SECONDS VCPUS [DELAY_MS [GUEST_US]]\n");
		return 2;
	}
	seconds = atof(argv[1]);
	n = (unsigned int)atoi(argv[2]);
	delay_ms = argc > 3 ? atol(argv[3]) : 0;
	if (argc > 4)
		guest_us = strtoul(argv[4], NULL, 10);
	if (n < 1 || n > 64)
		return 2;
	printf("%d\n", getpid());
	fflush(stdout);
	usleep((useconds_t)delay_ms * 1000);
	for (i = 0; i < n; i++)
		pthread_create(&t[i], NULL, vcpu_thread, (void *)(unsigned long)i);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}
