// SPDX-License-Identifier: GPL-2.0
/*
 * state: the state a VMM saves and restores (KHV_CAP_SAVE_STATE and the
 * rest), and a running VM copied into a fresh one.
 *
 *  msr_list         KHV_GET_MSR_INDEX_LIST: E2BIG with the count when
 *                   too small; the MSRs every vCPU has are read and written
 *                   back by KHV_GET/SET_MSRS; the optional ones (kvmclock
 *                   without its CPUID) are refused, nothing else; with the
 *                   supported CPUID (MCA, kvmclock) every one is taken.
 *  debugregs        KHV_GET/SET_DEBUGREGS: the reset values, a set read
 *                   back, and each refused field (EINVAL, nothing changed).
 *  xcrs             KHV_GET/SET_XCRS: XCR0 at reset, a set read back, each
 *                   refused field.
 *  kvmclock         KHV_GET/SET_CLOCK: kvmclock runs at the host's rate, a
 *                   set moves it, KHV_CLOCK_REALTIME adds the time since
 *                   the saved realtime; refused fields.
 *  copy_running_vm  four vCPUs pass a token around a ring by IPIs while
 *                   their APIC timers interrupt them (state_guest.S); once
 *                   the ring is under way every vCPU is stopped (immediate
 *                   exit and a signal: halted ones too), everything is
 *                   saved (registers, system registers, XSAVE, XCR0, debug
 *                   registers, the MSRs of the list, pending events, MP
 *                   state, local APICs, PIC/IOAPIC/PIT, kvmclock, memory),
 *                   the VM is destroyed, a fresh VM gets all of it and runs
 *                   to the end: each vCPU must take exactly every token,
 *                   with its register, XSAVE and memory counts agreeing
 *                   and its DR0 and XCR0 as it set them, and its timer
 *                   must go on ticking.  An interrupt lost or taken twice
 *                   in the copy hangs the ring or breaks a count.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(state_guest);
extern const uint8_t st_ring[], st_vec_0x50[], st_vec_0x60[];

#define NR		4
#define APIC_PAGE	0xfee00000ull
#define MSR_EFER	0xc0000080u
#define MSR_TSC		0x10u
#define MAX_MSRS	256

#define VM_SETUP(t) do {						\
	VM_WITH_PAYLOAD((t), KHVT_LONG, state_guest);			\
	REQUIRE_CAP((t), KHV_CAP_SAVE_STATE);				\
} while (0)

TEST(msr_list)
{
	struct khv_cpuid_entry e[KHV_MAX_CPUID_ENTRIES];
	uint32_t list[MAX_MSRS], n = 0, i, small, ne = 0;
	bool efer = false, tsc = false;
	struct khvt_vm t;
	uint64_t v;
	int r;

	VM_SETUP(&t);
	EXPECT_EQ(-E2BIG, khv_get_msr_index_list(&t.sys, list, 2, &small));
	KHV_OK(khv_get_msr_index_list(&t.sys, list, MAX_MSRS, &n));
	EXPECT_EQ(n, small) TH_LOG("E2BIG's count");
	ASSERT_LT(10u, n);
	for (i = 0; i < n; i++) {
		efer |= list[i] == MSR_EFER;
		tsc |= list[i] == MSR_TSC;
		r = khv_vcpu_get_msr(&t.vcpu, list[i], &v);
		/* kvmclock's two, last, exist only with the KVM CPUID leaves. */
		if (i >= n - 2) {
			EXPECT_EQ(-ENOENT, r) TH_LOG("MSR %#x without kvmclock", list[i]);
			continue;
		}
		EXPECT_EQ(0, r) TH_LOG("MSR %#x: %s", list[i], strerror(-r));
		if (!r)
			EXPECT_EQ(0, khv_vcpu_set_msr(&t.vcpu, list[i], v))
				TH_LOG("MSR %#x = %#llx written back", list[i], (unsigned long long)v);
	}
	EXPECT_TRUE(efer && tsc);

	/* With the supported CPUID (MCA, the KVM leaves): every one of them. */
	KHV_OK(khv_get_supported_cpuid(&t.sys, e, KHV_MAX_CPUID_ENTRIES, &ne));
	KHV_OK(khv_vcpu_set_cpuid(&t.vcpu, e, ne));
	for (i = 0; i < n; i++) {
		r = khv_vcpu_get_msr(&t.vcpu, list[i], &v);
		EXPECT_EQ(0, r) TH_LOG("MSR %#x with the supported CPUID: %s", list[i], strerror(-r));
		if (!r)
			EXPECT_EQ(0, khv_vcpu_set_msr(&t.vcpu, list[i], v))
				TH_LOG("MSR %#x = %#llx written back", list[i], (unsigned long long)v);
	}
	khvt_destroy(&t);
}

TEST(debugregs)
{
	struct khv_debugregs d, bad, now;
	struct khvt_vm t;

	VM_SETUP(&t);
	KHV_OK(khv_vcpu_get_debugregs(&t.vcpu, &d));
	EXPECT_EQ(0xffff0ff0ull, d.dr6);
	EXPECT_EQ(0x400ull, d.dr7);
	EXPECT_EQ(0ull, d.db[0] | d.db[3] | d.flags);

	d.db[0] = 0x1000;
	d.db[1] = 0xffffffff80001000ull;
	d.db[3] = 0x7fffffffe000ull;
	d.dr6 = 0xffff0ff1ull;		/* B0 */
	d.dr7 = 0x401ull | 0x30000;	/* L0, R/W0 = 3 */
	KHV_OK(khv_vcpu_set_debugregs(&t.vcpu, &d));
	KHV_OK(khv_vcpu_get_debugregs(&t.vcpu, &now));
	EXPECT_EQ(0, memcmp(&d, &now, sizeof(d)));

	bad = d;
	bad.db[2] = 0x0100000000000000ull;	/* canonical with neither 48 nor 57 bits */
	EXPECT_EQ(-EINVAL, khv_vcpu_set_debugregs(&t.vcpu, &bad));
	bad = d;
	bad.dr6 = 1ull << 32;
	EXPECT_EQ(-EINVAL, khv_vcpu_set_debugregs(&t.vcpu, &bad));
	bad = d;
	bad.dr6 = 0x1;				/* the fixed ones clear */
	EXPECT_EQ(-EINVAL, khv_vcpu_set_debugregs(&t.vcpu, &bad));
	bad = d;
	bad.dr7 = 0x1;				/* bit 10 clear */
	EXPECT_EQ(-EINVAL, khv_vcpu_set_debugregs(&t.vcpu, &bad));
	bad = d;
	bad.dr7 |= 1ull << 12;			/* reserved */
	EXPECT_EQ(-EINVAL, khv_vcpu_set_debugregs(&t.vcpu, &bad));
	bad = d;
	bad.flags = 1;
	EXPECT_EQ(-EINVAL, khv_vcpu_set_debugregs(&t.vcpu, &bad));
	bad = d;
	bad.reserved[8] = 1;
	EXPECT_EQ(-EINVAL, khv_vcpu_set_debugregs(&t.vcpu, &bad));
	KHV_OK(khv_vcpu_get_debugregs(&t.vcpu, &now));
	EXPECT_EQ(0, memcmp(&d, &now, sizeof(d))) TH_LOG("a refused set changed something");
	khvt_destroy(&t);
}

TEST(xcrs)
{
	struct khv_xcrs x, bad, now;
	struct khvt_vm t;
	unsigned int a, b, c, dx;

	VM_SETUP(&t);
	KHV_OK(khv_vcpu_get_xcrs(&t.vcpu, &x));
	EXPECT_EQ(1u, x.nr_xcrs);
	EXPECT_EQ(0u, x.xcrs[0].xcr);
	EXPECT_EQ(1ull, x.xcrs[0].value) TH_LOG("XCR0 at reset: x87 only");

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(dx) : "a"(1), "c"(0));
	if (c & (1u << 26)) {
		x.xcrs[0].value = 3;		/* x87 | SSE */
		KHV_OK(khv_vcpu_set_xcrs(&t.vcpu, &x));
		KHV_OK(khv_vcpu_get_xcrs(&t.vcpu, &now));
		EXPECT_EQ(3ull, now.xcrs[0].value);
	}
	bad = x;
	bad.xcrs[0].value = 2;			/* no x87 */
	EXPECT_EQ(-EINVAL, khv_vcpu_set_xcrs(&t.vcpu, &bad));
	bad = x;
	bad.xcrs[0].value = 1ull << 62;		/* nothing there */
	EXPECT_EQ(-EINVAL, khv_vcpu_set_xcrs(&t.vcpu, &bad));
	bad = x;
	bad.xcrs[0].xcr = 1;
	EXPECT_EQ(-EINVAL, khv_vcpu_set_xcrs(&t.vcpu, &bad));
	bad = x;
	bad.nr_xcrs = KHV_MAX_XCRS + 1;
	EXPECT_EQ(-EINVAL, khv_vcpu_set_xcrs(&t.vcpu, &bad));
	bad = x;
	bad.flags = 1;
	EXPECT_EQ(-EINVAL, khv_vcpu_set_xcrs(&t.vcpu, &bad));
	bad = x;
	bad.xcrs[0].reserved = 1;
	EXPECT_EQ(-EINVAL, khv_vcpu_set_xcrs(&t.vcpu, &bad));
	KHV_OK(khv_vcpu_get_xcrs(&t.vcpu, &now));
	EXPECT_EQ(x.xcrs[0].value, now.xcrs[0].value) TH_LOG("a refused set changed XCR0");
	/* No entries: nothing changes. */
	bad = x;
	bad.nr_xcrs = 0;
	bad.xcrs[0].value = 1;
	KHV_OK(khv_vcpu_set_xcrs(&t.vcpu, &bad));
	KHV_OK(khv_vcpu_get_xcrs(&t.vcpu, &now));
	EXPECT_EQ(x.xcrs[0].value, now.xcrs[0].value);
	khvt_destroy(&t);
}

#define NS	1000000000ull

TEST(kvmclock)
{
	struct khv_clock_data c1, c2, set, bad;
	struct khvt_vm t;

	VM_SETUP(&t);
	KHV_OK(khv_vm_get_clock(&t.vm, &c1));
	EXPECT_EQ((uint32_t)KHV_CLOCK_REALTIME, c1.flags);
	usleep(50000);
	KHV_OK(khv_vm_get_clock(&t.vm, &c2));
	EXPECT_LE(c1.clock + 40000000ull, c2.clock) TH_LOG("kvmclock: %llu then %llu",
							     c1.clock, c2.clock);
	EXPECT_GT(c1.clock + 5 * NS, c2.clock);
	EXPECT_LT(c1.realtime, c2.realtime);

	memset(&set, 0, sizeof(set));
	set.clock = 1000 * NS;
	KHV_OK(khv_vm_set_clock(&t.vm, &set));
	KHV_OK(khv_vm_get_clock(&t.vm, &c1));
	EXPECT_LE(1000 * NS, c1.clock);
	EXPECT_GT(1001 * NS, c1.clock);

	/* Saved 2 s ago: the guest's clock makes up for the time it was away. */
	set.flags = KHV_CLOCK_REALTIME;
	set.realtime = c1.realtime - 2 * NS;
	KHV_OK(khv_vm_set_clock(&t.vm, &set));
	KHV_OK(khv_vm_get_clock(&t.vm, &c2));
	EXPECT_LE(1002 * NS, c2.clock);
	EXPECT_GT(1003 * NS, c2.clock);
	/* A realtime in the future adds nothing. */
	set.realtime = c2.realtime + 100 * NS;
	KHV_OK(khv_vm_set_clock(&t.vm, &set));
	KHV_OK(khv_vm_get_clock(&t.vm, &c2));
	EXPECT_GT(1001 * NS, c2.clock);

	bad = set;
	bad.flags = 2;
	EXPECT_EQ(-EINVAL, khv_vm_set_clock(&t.vm, &bad));
	bad = set;
	bad.pad = 1;
	EXPECT_EQ(-EINVAL, khv_vm_set_clock(&t.vm, &bad));
	bad = set;
	bad.reserved[4] = 1;
	EXPECT_EQ(-EINVAL, khv_vm_set_clock(&t.vm, &bad));
	khvt_destroy(&t);
}

/* ---- copy_running_vm ---------------------------------------------------- */

struct vth {
	struct khv_vcpu vcpu;
	pthread_t th;
	uint32_t mark, echo;
	int ret;
	bool started, joined;
};

/* One vCPU's saved state. */
struct vstate {
	struct khv_regs regs;
	struct khv_sregs sregs;
	struct khv_xsave xsave;
	struct khv_xcrs xcrs;
	struct khv_debugregs dregs;
	struct khv_vcpu_events events;
	struct khv_lapic_state lapic;
	uint32_t mp_state;
	uint32_t nmsrs;
	uint32_t msr_index[MAX_MSRS];
	uint64_t msr_value[MAX_MSRS];
};

struct snapshot {
	struct vstate v[NR];
	struct khv_irqchip_state irqchip;
	struct khv_clock_data clock;
	uint8_t mem[KHVT_MEM_SIZE];
};

static void on_usr1(int sig)
{
	(void)sig;
}

/* Until the vCPU's mark; stopped (immediate exit): ret 0, mark 0. */
static void *vth_fn(void *arg)
{
	struct vth *v = arg;
	struct khv_run *run = v->vcpu.run;

	for (;;) {
		v->ret = khv_vcpu_run(&v->vcpu);
		if (v->ret == -EINTR) {
			v->ret = 0;
			if (__atomic_load_n(&run->immediate_exit, __ATOMIC_RELAXED))
				return NULL;
			continue;
		}
		if (v->ret)
			return NULL;
		if (run->exit_reason == KHV_EXIT_IO && run->io.port == PORT_ECHO) {
			v->echo = *(uint32_t *)khv_vcpu_io_data(&v->vcpu);
			continue;
		}
		if (run->exit_reason == KHV_EXIT_IO && run->io.port == PORT_MARK)
			v->mark = *(uint32_t *)khv_vcpu_io_data(&v->vcpu);
		else
			v->ret = -EPROTO;
		return NULL;
	}
}

#define GATE(t, v) khvt_set_gate((t), (v), PAYLOAD_GPA(state_guest, st_vec_##v))

/* The VM in its initial state: vCPUs 1..3 created, all RUNNABLE at st_ring. */
static int setup(struct khvt_vm *t, struct vth *v, uint64_t laps)
{
	int err = vm_with_irqchip(t, KHVT_LONG, PAYLOAD(state_guest));
	unsigned int i;

	if (err)
		return err;
	GATE(t, 0x50);
	GATE(t, 0x60);
	memset(v, 0, sizeof(*v) * NR);
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
		regs.rip = PAYLOAD_GPA(state_guest, st_ring);
		regs.rsp = GUEST_STACK_TOP - 0x800 * i;
		regs.r13 = i;
		regs.r12 = (i + 1) % NR;
		regs.r15 = APIC_PAGE;
		regs.r11 = laps;
		err = khv_vcpu_set_regs(&v[i].vcpu, &regs);
		if (err)
			return err;
	}
	return 0;
}

static void teardown(struct khvt_vm *t, struct vth *v)
{
	unsigned int i;

	for (i = 1; i < NR; i++)
		if (v[i].vcpu.fd > 0)
			khv_vcpu_destroy(&v[i].vcpu);
	khvt_destroy(t);
}

static int start_all(struct vth *v)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	unsigned int i;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		return -errno;
	for (i = 0; i < NR; i++) {
		v[i].vcpu.run->immediate_exit = 0;
		if (pthread_create(&v[i].th, NULL, vth_fn, &v[i]))
			return -EAGAIN;
		v[i].started = true;
		v[i].joined = false;
	}
	return 0;
}

/* Stop every vCPU (running, halted or sleeping in KHV_RUN) and join it. */
static void stop_all(struct vth *v)
{
	unsigned int i;

	for (i = 0; i < NR; i++)
		v[i].vcpu.run->immediate_exit = 1;
	for (i = 0; i < NR; i++) {
		if (!v[i].started || v[i].joined)
			continue;
		while (pthread_tryjoin_np(v[i].th, NULL)) {
			pthread_kill(v[i].th, SIGUSR1);
			usleep(1000);
		}
		v[i].joined = true;
	}
}

/* Join all, each within the deadline; late ones are stopped. */
static bool join_all(struct vth *v, int seconds)
{
	struct timespec until;
	bool ok = true;
	unsigned int i;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	for (i = 0; i < NR; i++) {
		if (!v[i].started || v[i].joined)
			continue;
		if (pthread_timedjoin_np(v[i].th, NULL, &until)) {
			ok = false;
			continue;
		}
		v[i].joined = true;
	}
	if (!ok)
		stop_all(v);
	return ok;
}

static uint32_t row(const uint8_t *mem, unsigned int id, unsigned int vector)
{
	uint32_t x;

	memcpy(&x, mem + GUEST_DATA + 0x400 + 0x400 * id + 4 * vector, 4);
	return x;
}

static int save_vcpu(struct khvt_vm *t, struct khv_vcpu *vcpu, struct vstate *s,
		     const uint32_t *list, uint32_t n)
{
	uint32_t i;
	int r;

	r = khv_vcpu_get_regs(vcpu, &s->regs);
	r = r ?: khv_vcpu_get_sregs(vcpu, &s->sregs);
	r = r ?: khv_vcpu_get_xsave(vcpu, &s->xsave);
	r = r ?: khv_vcpu_get_xcrs(vcpu, &s->xcrs);
	r = r ?: khv_vcpu_get_debugregs(vcpu, &s->dregs);
	r = r ?: khv_vcpu_get_events(vcpu, &s->events);
	r = r ?: khv_vcpu_get_lapic(vcpu, &s->lapic);
	r = r ?: khv_vcpu_get_mp_state(vcpu, &s->mp_state);
	if (r)
		return r;
	(void)t;
	s->nmsrs = 0;
	for (i = 0; i < n; i++) {
		r = khv_vcpu_get_msr(vcpu, list[i], &s->msr_value[s->nmsrs]);
		if (r == -ENOENT)
			continue;	/* not this vCPU's (kvmclock without its CPUID) */
		if (r)
			return r;
		s->msr_index[s->nmsrs++] = list[i];
	}
	return 0;
}

static int restore_vcpu(struct khv_vcpu *vcpu, const struct vstate *s)
{
	uint32_t i;
	int r;

	r = khv_vcpu_set_sregs(vcpu, &s->sregs);
	r = r ?: khv_vcpu_set_regs(vcpu, &s->regs);
	r = r ?: khv_vcpu_set_xcrs(vcpu, &s->xcrs);
	r = r ?: khv_vcpu_set_xsave(vcpu, &s->xsave);
	for (i = 0; !r && i < s->nmsrs; i++)
		r = khv_vcpu_set_msr(vcpu, s->msr_index[i], s->msr_value[i]);
	r = r ?: khv_vcpu_set_debugregs(vcpu, &s->dregs);
	r = r ?: khv_vcpu_set_lapic(vcpu, &s->lapic);
	r = r ?: khv_vcpu_set_mp_state(vcpu, s->mp_state);
	/* After the registers: moving RIP would end an interrupt shadow. */
	r = r ?: khv_vcpu_set_events(vcpu, &s->events);
	return r;
}

/* CPUID.1:ECX.hypervisor: nested or emulated, where the ring is slow. */
static bool nested(void)
{
	unsigned int a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	return c >> 31;
}

TEST(copy_running_vm)
{
	/* Under QEMU's TCG a hop takes long; elsewhere the host still catches a quarter. */
	const uint64_t laps = nested() ? 200 : 1000;
	uint32_t list[MAX_MSRS], nlist, at_stop[NR], ticks_at_stop[NR];
	struct khvt_vm t = { 0 }, t2 = { 0 };
	struct vth v[NR], v2[NR];
	struct timespec start, now;
	struct snapshot *snap;
	unsigned int i;
	int err;

	err = setup(&t, v, laps);
	if (khvt_no_device(err))
		SKIP(return, "no khv device: %s", strerror(-err));
	ASSERT_EQ(0, err) TH_LOG("setup: %s", strerror(-err));
	if (khv_check_extension(&t.sys, KHV_CAP_SAVE_STATE) <= 0) {
		teardown(&t, v);
		SKIP(return, "KHV_CAP_SAVE_STATE not reported");
	}
	snap = calloc(1, sizeof(*snap));
	ASSERT_NE(NULL, snap);
	KHV_OK(khv_get_msr_index_list(&t.sys, list, MAX_MSRS, &nlist));

	/* Run until the ring is a quarter of the way round. */
	ASSERT_EQ(0, start_all(v));
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		usleep(200);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (row(t.mem, 0, 0x50) < laps / 4 && now.tv_sec - start.tv_sec < 20);
	stop_all(v);
	for (i = 0; i < NR; i++) {
		EXPECT_EQ(0, v[i].ret) TH_LOG("vCPU %u: KHV_RUN: %s", i, strerror(-v[i].ret));
		EXPECT_EQ(0u, v[i].mark) TH_LOG("vCPU %u finished before the copy", i);
		at_stop[i] = row(t.mem, i, 0x50);
		ticks_at_stop[i] = row(t.mem, i, 0x60);
	}
	ASSERT_LE(laps / 4, (uint64_t)at_stop[0]) TH_LOG("the ring did not get going");
	ASSERT_GT(laps, (uint64_t)at_stop[0]) TH_LOG("the ring ended before the copy");

	/* Save: the irqchip and clock with the vCPUs, memory last. */
	for (i = 0; i < NR; i++) {
		err = save_vcpu(&t, &v[i].vcpu, &snap->v[i], list, nlist);
		ASSERT_EQ(0, err) TH_LOG("saving vCPU %u: %s", i, strerror(-err));
	}
	KHV_OK(khv_vm_get_irqchip(&t.vm, &snap->irqchip));
	KHV_OK(khv_vm_get_clock(&t.vm, &snap->clock));
	memcpy(snap->mem, t.mem, KHVT_MEM_SIZE);
	teardown(&t, v);

	/* A fresh VM gets all of it. */
	ASSERT_EQ(0, setup(&t2, v2, laps));
	memcpy(t2.mem, snap->mem, KHVT_MEM_SIZE);
	for (i = 0; i < NR; i++) {
		err = restore_vcpu(&v2[i].vcpu, &snap->v[i]);
		ASSERT_EQ(0, err) TH_LOG("restoring vCPU %u: %s", i, strerror(-err));
	}
	/* After the local APICs: a level-triggered pin's interrupt goes to them. */
	KHV_OK(khv_vm_set_irqchip(&t2.vm, &snap->irqchip));
	KHV_OK(khv_vm_set_clock(&t2.vm, &snap->clock));

	ASSERT_EQ(0, start_all(v2));
	EXPECT_TRUE(join_all(v2, 25)) {
		TH_LOG("the copy did not finish: tokens %u %u %u %u of %llu (at the copy %u %u %u %u)",
		       row(t2.mem, 0, 0x50), row(t2.mem, 1, 0x50), row(t2.mem, 2, 0x50),
		       row(t2.mem, 3, 0x50), (unsigned long long)laps, at_stop[0], at_stop[1],
		       at_stop[2], at_stop[3]);
		for (i = 0; i < NR; i++)
			khvt_dump_irq(&v2[i].vcpu);
	}
	for (i = 0; i < NR; i++) {
		EXPECT_EQ(0, v2[i].ret) TH_LOG("vCPU %u: KHV_RUN: %s", i, strerror(-v2[i].ret));
		EXPECT_EQ(97u, v2[i].mark) TH_LOG("vCPU %u: check %u failed (1 xmm0, 2 r14, 3 memory, 4 DR0, 5 XCR0)",
						  i, v2[i].echo);
		EXPECT_EQ((uint32_t)laps, row(t2.mem, i, 0x50)) TH_LOG("tokens at vCPU %u", i);
		EXPECT_LT(ticks_at_stop[i], row(t2.mem, i, 0x60)) TH_LOG("vCPU %u's timer stopped", i);
	}
	fprintf(stderr, "# copied at tokens %u %u %u %u of %llu; timer ticks %u %u %u %u, then %u %u %u %u\n",
		at_stop[0], at_stop[1], at_stop[2], at_stop[3], (unsigned long long)laps,
		ticks_at_stop[0], ticks_at_stop[1], ticks_at_stop[2], ticks_at_stop[3],
		row(t2.mem, 0, 0x60), row(t2.mem, 1, 0x60), row(t2.mem, 2, 0x60),
		row(t2.mem, 3, 0x60));
	teardown(&t2, v2);
	free(snap);
}

TEST_HARNESS_MAIN
