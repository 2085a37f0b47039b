// SPDX-License-Identifier: GPL-2.0
/*
 * irqsmp: IPIs among four vCPUs of one VM, each in its own thread, through
 * the in-kernel local APICs (irqsmp_guest.S), with more vCPUs than the
 * test machine has CPUs (two in the QEMU lanes and in vmxsmp, one in vmx):
 * a target may be running, halted or preempted when an IPI comes, and
 * must get it promptly either way.  Each vCPU counts what it takes in
 * guest memory; the only exits are the marks that end each vCPU's part.
 *
 *  - ipi_destinations: vCPU 0 sends vCPUs 1-3 (logical IDs bits 1-3 in
 *    the flat model, TPR classes 1-3) a lowest-priority IPI (vCPU 1, the
 *    lowest PPR, takes it alone), a fixed IPI to each physical ID, one to
 *    logical 0b1010, an all-but-self and an all-including-self broadcast,
 *    an NMI to logical 0b0100, and a last IPI they wait for.
 *  - ipi_ring: a token goes around the ring 0 -> 1 -> 2 -> 3 -> 0 fifty
 *    times by fixed IPIs, each vCPU sleeping in HLT between its turns.
 *
 * A vCPU that does not finish within 20 s is stopped with a signal and
 * fails the test (no hang).
 */
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(irqsmp_guest);
extern const uint8_t smp_target[], smp_source[], smp_ring[];
extern const uint8_t smp_vec_0x02[], smp_vec_0x40[], smp_vec_0x50[], smp_vec_0x70[],
	smp_vec_0x71[], smp_vec_0x72[], smp_vec_0x73[], smp_vec_0x74[], smp_vec_0x75[],
	smp_vec_0x76[];

#define NR		4
#define APIC_PAGE	0xfee00000ull
#define RING_LAPS	50u

struct vthread {
	struct khv_vcpu vcpu;
	pthread_t th;
	uint32_t mark;
	int ret;
	bool started;
};

static void on_usr1(int sig)
{
	(void)sig;
}

/* Run until the vCPU's mark; any other exit ends it too (the test checks). */
static void *vthread_fn(void *arg)
{
	struct vthread *v = arg;

	for (;;) {
		v->ret = khv_vcpu_run(&v->vcpu);
		if (v->ret)
			return NULL;
		if (v->vcpu.run->exit_reason == KHV_EXIT_IO && v->vcpu.run->io.port == PORT_MARK)
			v->mark = *(uint32_t *)khv_vcpu_io_data(&v->vcpu);
		return NULL;
	}
}

#define GATE(t, v) khvt_set_gate((t), (v), PAYLOAD_GPA(irqsmp_guest, smp_vec_##v))

/*
 * vCPUs 0..NR-1 in long mode at their entries, own stacks, r13 = APIC ID,
 * r12 = the next vCPU's, r15 = the APIC page; all RUNNABLE.
 */
static int setup(struct khvt_vm *t, struct vthread *v, const uint8_t *entry0,
		 const uint8_t *entry)
{
	int err = vm_with_irqchip(t, KHVT_LONG, PAYLOAD(irqsmp_guest));
	unsigned int i;

	if (err)
		return err;
	GATE(t, 0x02); GATE(t, 0x40); GATE(t, 0x50); GATE(t, 0x70); GATE(t, 0x71);
	GATE(t, 0x72); GATE(t, 0x73); GATE(t, 0x74); GATE(t, 0x75); GATE(t, 0x76);
	v[0].vcpu = t->vcpu;
	for (i = 0; i < NR; i++) {
		struct khv_regs regs;

		if (i) {
			err = khvt_add_vcpu(t, i, &v[i].vcpu, 0);
			if (err)
				return err;
		}
		err = khv_vcpu_get_regs(&v[i].vcpu, &regs);
		if (err)
			return err;
		regs.rip = PAYLOAD_GPA(irqsmp_guest, i ? entry : entry0);
		regs.rsp = GUEST_STACK_TOP - 0x800 * i;
		regs.r13 = i;
		regs.r12 = (i + 1) % NR;
		regs.r15 = APIC_PAGE;
		err = khv_vcpu_set_regs(&v[i].vcpu, &regs);
		if (err)
			return err;
	}
	return 0;
}

/* All vCPUs in threads; each must reach its mark within 20 s (the harness allows 30). */
static int run_all(struct vthread *v, char *why, size_t len)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct timespec until;
	unsigned int i;
	int late = 0;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		return -errno;
	for (i = 0; i < NR; i++) {
		if (pthread_create(&v[i].th, NULL, vthread_fn, &v[i]))
			break;
		v[i].started = true;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	for (i = 0; i < NR; i++) {
		if (!v[i].started)
			continue;
		if (pthread_timedjoin_np(v[i].th, NULL, &until)) {
			/* Ends KHV_RUN with EINTR, even asleep in HLT. */
			pthread_kill(v[i].th, SIGUSR1);
			pthread_join(v[i].th, NULL);
			snprintf(why, len, "vCPU %u did not finish", i);
			late = -ETIMEDOUT;
		}
	}
	/* What every vCPU was left with: which one waits for what. */
	for (i = 0; late && i < NR; i++) {
		struct khv_regs regs;

		if (khv_vcpu_get_regs(&v[i].vcpu, &regs))
			continue;
		fprintf(stderr, "# vCPU %u: rip %#llx rflags %#llx mark %u\n", i, regs.rip,
			regs.rflags, v[i].mark);
		khvt_dump_irq(&v[i].vcpu);
	}
	return late;
}

/* What vCPU id counted of vector v (its own row in guest memory). */
static uint32_t taken(struct khvt_vm *t, unsigned int id, unsigned int v)
{
	return *(uint32_t *)khvt_gpa(t, GUEST_DATA + 0x400 + 0x400 * id + 4 * v);
}

static void teardown(struct khvt_vm *t, struct vthread *v)
{
	unsigned int i;

	for (i = 1; i < NR; i++)
		if (v[i].vcpu.fd > 0)
			khv_vcpu_destroy(&v[i].vcpu);
	khvt_destroy(t);
}

TEST(ipi_destinations)
{
	struct khvt_vm t = { 0 };
	struct vthread v[NR] = { 0 };
	char why[64] = "";
	unsigned int i;
	int err;

	err = setup(&t, v, smp_source, smp_target);
	if (khvt_no_device(err))
		SKIP(return, "no khv device: %s", strerror(-err));
	ASSERT_EQ(0, err) TH_LOG("setup: %s", strerror(-err));
	EXPECT_EQ(0, run_all(v, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_EQ(99u, v[0].mark);
	for (i = 0; i < NR; i++) {
		EXPECT_EQ(0, v[i].ret) TH_LOG("vCPU %u: KHV_RUN: %s", i, strerror(-v[i].ret));
		if (i)
			EXPECT_EQ(98u, v[i].mark) TH_LOG("vCPU %u", i);
	}
	/* vector: what each of vCPUs 0-3 must have taken. */
	static const struct {
		unsigned int vector;
		uint32_t want[NR];
		const char *what;
	} exp[] = {
		{ 0x76, { 0, 1, 0, 0 }, "lowest priority: the lowest PPR only" },
		{ 0x70, { 0, 1, 0, 0 }, "fixed, physical 1" },
		{ 0x71, { 0, 0, 1, 0 }, "fixed, physical 2" },
		{ 0x72, { 0, 0, 0, 1 }, "fixed, physical 3" },
		{ 0x73, { 0, 1, 0, 1 }, "fixed, logical 0b1010" },
		{ 0x74, { 0, 1, 1, 1 }, "all but self" },
		{ 0x75, { 1, 1, 1, 1 }, "all including self" },
		{ 0x02, { 0, 0, 1, 0 }, "NMI, logical 0b0100" },
		{ 0x40, { 0, 1, 1, 1 }, "the last IPI" },
	};
	for (i = 0; i < sizeof(exp) / sizeof(exp[0]); i++) {
		unsigned int id;

		for (id = 0; id < NR; id++)
			EXPECT_EQ(exp[i].want[id], taken(&t, id, exp[i].vector))
				TH_LOG("vector %#x at vCPU %u: %s", exp[i].vector, id, exp[i].what);
	}
	teardown(&t, v);
}

TEST(ipi_ring)
{
	struct khvt_vm t = { 0 };
	struct vthread v[NR] = { 0 };
	char why[64] = "";
	unsigned int i;
	int err;

	err = setup(&t, v, smp_ring, smp_ring);
	if (khvt_no_device(err))
		SKIP(return, "no khv device: %s", strerror(-err));
	ASSERT_EQ(0, err) TH_LOG("setup: %s", strerror(-err));
	EXPECT_EQ(0, run_all(v, why, sizeof(why))) TH_LOG("%s: tokens %u %u %u %u", why,
							   taken(&t, 0, 0x50), taken(&t, 1, 0x50),
							   taken(&t, 2, 0x50), taken(&t, 3, 0x50));
	for (i = 0; i < NR; i++) {
		EXPECT_EQ(0, v[i].ret) TH_LOG("vCPU %u: KHV_RUN: %s", i, strerror(-v[i].ret));
		EXPECT_EQ(97u, v[i].mark) TH_LOG("vCPU %u", i);
		EXPECT_EQ(RING_LAPS, taken(&t, i, 0x50)) TH_LOG("tokens at vCPU %u", i);
	}
	teardown(&t, v);
}

TEST_HARNESS_MAIN
