// SPDX-License-Identifier: GPL-2.0
/*
 * pvclock: kvmclock (KHV_CAP_PVCLOCK, Documentation/khv/time.rst).
 *
 *  - cap, supported_cpuid: the capability, and the KVM leaves with exactly
 *    CLOCKSOURCE2 and CLOCKSOURCE_STABLE_BIT, with CPUID.1:ECX.hypervisor;
 *  - default_off: without KHV_SET_CPUID the leaves are absent and the MSRs
 *    are #GP for the guest and refused by KHV_GET/SET_MSRS;
 *  - guest_clock: with the leaves, the guest (pvclock_guest.S) enables kvmclock
 *    and computes its time twice around a spin of known TSC length: it
 *    increases by what the TSC says, under an even version;
 *  - wall_clock: the wall clock plus kvmclock is the host's CLOCK_REALTIME;
 *    a VMM's write of the MSR only sets it;
 *  - tsc_moved: KHV_SET_MSRS of IA32_TSC, forward and back, rewrites the
 *    structure and the guest's time still only goes forward;
 *  - bad_gpa: a structure outside RAM changes nothing and KHV_RUN goes on;
 *    reserved bits are #GP and EINVAL;
 *  - two_vcpus: readings alternated between two vCPUs only go forward,
 *    and the stable bit goes once their TSC offsets differ.
 */
#include <time.h>

#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(pvclock_read);

#define MSR_IA32_TSC		0x10
#define MSR_WALL		KHV_MSR_KVM_WALL_CLOCK_NEW
#define MSR_SYSTIME		KHV_MSR_KVM_SYSTEM_TIME_NEW

/* Guest memory: the structures and the reader's code, in the data area. */
#define PV0			(GUEST_DATA + 0x000)	/* vCPU 0's, 64-byte aligned */
#define PV1			(GUEST_DATA + 0x040)	/* vCPU 1's */
#define PVWALL			(GUEST_DATA + 0x080)
#define PVWALL2			(GUEST_DATA + 0x0c0)
#define PV_CODE			(GUEST_DATA + 0x1000)

#define SPIN_CYCLES		10000000ull
#define NS_PER_SEC		1000000000ull

struct pv_time {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t mul;
	int8_t shift;
	uint8_t flags, pad[2];
} __attribute__((packed));

struct pv_wall {
	uint32_t version, sec, nsec;
} __attribute__((packed));

struct reading {
	uint64_t t1, t2, tsc1, tsc2, version;
};

static uint64_t pv_scale(const struct pv_time *p, uint64_t d)
{
	d = p->shift >= 0 ? d << p->shift : d >> -p->shift;
	return (uint64_t)(((unsigned __int128)d * p->mul) >> 32);
}

static struct pv_time pv_snapshot(struct khvt_vm *t, uint64_t gpa)
{
	struct pv_time p;

	memcpy(&p, khvt_gpa(t, gpa), sizeof(p));
	return p;
}

/* Replace the vCPU's CPUID with the supported one: kvmclock on. */
static void pv_enable_cpuid(KHVT_MD, struct khvt_vm *t)
{
	struct khv_cpuid_entry *e = calloc(KHV_MAX_CPUID_ENTRIES, sizeof(*e));
	uint32_t n = 0;

	ASSERT_NE(NULL, e);
	KHV_OK(khv_get_supported_cpuid(&t->sys, e, KHV_MAX_CPUID_ENTRIES, &n));
	KHV_OK(khv_vcpu_set_cpuid(&t->vcpu, e, n));
	free(e);
}

static void server_vm(KHVT_MD, struct khvt_vm *t, bool pvclock)
{
	int r = vm_with_payload(t, KHVT_LONG, PAYLOAD(server64));

	if (khvt_no_device(r))
		SKIP(return, "no khv device: %s", strerror(-r));
	ASSERT_EQ(0, r);
	srv_catch_gp(t);
	memcpy(khvt_gpa(t, PV_CODE), pvclock_read_start,
	       (size_t)(pvclock_read_end - pvclock_read_start));
	if (pvclock)
		pv_enable_cpuid(_metadata, t);
}

static void guest_wrmsr_ok(KHVT_MD, struct khvt_vm *t, uint32_t idx, uint64_t val)
{
	uint32_t err = 0;
	unsigned int vec = srv_wrmsr(t, idx, val, &err);

	ASSERT_EQ(0u, vec) TH_LOG("WRMSR %#x <- %#llx raised %s", idx,
				  (unsigned long long)val, khvt_vector_name(vec));
}

static void guest_msr_gp(KHVT_MD, struct khvt_vm *t, bool write, uint32_t idx, uint64_t val)
{
	uint32_t err = 0xffffffff;
	uint64_t got = 0;
	unsigned int vec = write ? srv_wrmsr(t, idx, val, &err) : srv_rdmsr(t, idx, &got, &err);

	EXPECT_EQ(13u, vec) TH_LOG("%s %#x (%#llx): vector %u, expected #GP",
				   write ? "WRMSR" : "RDMSR", idx, (unsigned long long)val, vec);
	EXPECT_EQ(0u, err);
}

/* The guest's two readings of its clock at gpa, then back to the server. */
static struct reading guest_read(KHVT_MD, struct khvt_vm *t, uint64_t gpa)
{
	uint64_t in[2] = { gpa, SPIN_CYCLES };
	struct reading r;

	srv_halt(t);
	start_at(t, PV_CODE, in, 2);
	r.t1 = expect_out64(t, PORT_ECHO);
	r.t2 = expect_out64(t, PORT_ECHO);
	r.tsc1 = expect_out64(t, PORT_ECHO);
	r.tsc2 = expect_out64(t, PORT_ECHO);
	r.version = expect_out64(t, PORT_ECHO);
	expect_exit(t, KHV_EXIT_HLT);
	start_at(t, GUEST_CODE, NULL, 0);
	return r;
}

/* One reading: it goes forward by what the TSC says, under an even version. */
static void check_reading(KHVT_MD, struct khvt_vm *t, uint64_t gpa, const struct reading *r)
{
	struct pv_time p = pv_snapshot(t, gpa);
	uint64_t want = pv_scale(&p, r->tsc2 - r->tsc1);
	int64_t diff = (int64_t)(r->t2 - r->t1 - want);

	EXPECT_LT(r->t1, r->t2) TH_LOG("kvmclock went from %llu to %llu ns",
				       (unsigned long long)r->t1, (unsigned long long)r->t2);
	EXPECT_EQ(0u, r->version & 1);
	EXPECT_NE(0u, r->version);
	EXPECT_GE(r->tsc2 - r->tsc1, SPIN_CYCLES);
	/*
	 * Exact but for rounding while the structure stays; a rewrite in
	 * between (a new host CPU) keeps the same line when the host TSC is
	 * stable, and may only move the time forward otherwise.
	 */
	if (p.flags & 1) {
		EXPECT_LE(llabs(diff), 1000 + (int64_t)want / 1000)
			TH_LOG("%llu ns for %llu cycles, the structure says %llu",
			       (unsigned long long)(r->t2 - r->t1),
			       (unsigned long long)(r->tsc2 - r->tsc1), (unsigned long long)want);
	} else {
		EXPECT_GE(diff, -1000) TH_LOG("%llu ns for %llu cycles, the structure says %llu",
					      (unsigned long long)(r->t2 - r->t1),
					      (unsigned long long)(r->tsc2 - r->tsc1),
					      (unsigned long long)want);
	}
}

static const struct khv_cpuid_entry *find_leaf(const struct khv_cpuid_entry *e, uint32_t n,
					       uint32_t fn)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (e[i].function == fn)
			return &e[i];
	return NULL;
}

TEST(cap)
{
	struct khv_sys sys;
	int r = khv_open(&sys, NULL);

	if (khvt_no_device(r))
		SKIP(return, "no khv device: %s", strerror(-r));
	ASSERT_EQ(0, r);
	EXPECT_EQ(1, khv_check_extension(&sys, KHV_CAP_PVCLOCK));
	khv_close(&sys);
}

TEST(supported_cpuid)
{
	struct khv_cpuid_entry e[KHV_MAX_CPUID_ENTRIES];
	const struct khv_cpuid_entry *sig, *feat, *l1;
	struct khv_sys sys;
	uint32_t n = 0;
	int r = khv_open(&sys, NULL);

	if (khvt_no_device(r))
		SKIP(return, "no khv device: %s", strerror(-r));
	ASSERT_EQ(0, r);
	KHV_OK(khv_get_supported_cpuid(&sys, e, KHV_MAX_CPUID_ENTRIES, &n));
	sig = find_leaf(e, n, KHV_CPUID_KVM_SIGNATURE);
	feat = find_leaf(e, n, KHV_CPUID_KVM_FEATURES);
	l1 = find_leaf(e, n, 1);
	ASSERT_NE(NULL, sig);
	ASSERT_NE(NULL, feat);
	ASSERT_NE(NULL, l1);
	EXPECT_VAL("0x40000000 EAX (max leaf)", 0x40000001u, sig->eax);
	EXPECT_VAL("0x40000000 EBX", 0x4b4d564bu, sig->ebx);	/* "KVMK" */
	EXPECT_VAL("0x40000000 ECX", 0x564b4d56u, sig->ecx);	/* "VMKV" */
	EXPECT_VAL("0x40000000 EDX", 0x4du, sig->edx);		/* "M\0\0\0" */
	EXPECT_VAL("0x40000001 EAX (CLOCKSOURCE2 | STABLE_BIT)", (1u << 3) | (1u << 24),
		   feat->eax);
	EXPECT_VAL("0x40000001 EBX", 0, feat->ebx);
	EXPECT_VAL("0x40000001 ECX", 0, feat->ecx);
	EXPECT_VAL("0x40000001 EDX (hints)", 0, feat->edx);
	EXPECT_VAL("CPUID.1:ECX.hypervisor", 1u << 31, l1->ecx & (1u << 31));
	khv_close(&sys);
}

TEST(default_off)
{
	struct khv_cpuid_entry e[KHV_MAX_CPUID_ENTRIES];
	const struct khv_cpuid_entry *sig;
	struct khvt_vm t;
	uint32_t n = 0;
	uint64_t v = 0;

	server_vm(_metadata, &t, false);
	KHV_OK(khv_vcpu_get_cpuid(&t.vcpu, e, KHV_MAX_CPUID_ENTRIES, &n));
	EXPECT_EQ(NULL, find_leaf(e, n, KHV_CPUID_KVM_FEATURES));
	sig = find_leaf(e, n, KHV_CPUID_KVM_SIGNATURE);
	ASSERT_NE(NULL, sig);
	EXPECT_VAL("default 0x40000000 EBX (\"khvk\")", 0x6b76686bu, sig->ebx);
	EXPECT_VAL("default 0x40000000 EAX", 0x40000000u, sig->eax);

	guest_msr_gp(_metadata, &t, false, MSR_SYSTIME, 0);
	guest_msr_gp(_metadata, &t, true, MSR_SYSTIME, PV0 | 1);
	guest_msr_gp(_metadata, &t, false, MSR_WALL, 0);
	guest_msr_gp(_metadata, &t, true, MSR_WALL, PVWALL);
	EXPECT_NE(0, khv_vcpu_set_msr(&t.vcpu, MSR_SYSTIME, PV0 | 1));
	EXPECT_NE(0, khv_vcpu_get_msr(&t.vcpu, MSR_SYSTIME, &v));
	EXPECT_NE(0, khv_vcpu_set_msr(&t.vcpu, MSR_WALL, PVWALL));
	EXPECT_NE(0, khv_vcpu_get_msr(&t.vcpu, MSR_WALL, &v));
	srv_halt(&t);
	khvt_destroy(&t);
}

TEST(guest_clock)
{
	struct reading a, b;
	struct pv_time p;
	struct khvt_vm t;
	uint64_t v = 0;

	server_vm(_metadata, &t, true);
	guest_wrmsr_ok(_metadata, &t, MSR_SYSTIME, PV0 | 1);
	p = pv_snapshot(&t, PV0);
	EXPECT_EQ(0u, p.version & 1);
	EXPECT_NE(0u, p.version);
	EXPECT_GE(p.mul, 1u << 31) TH_LOG("tsc_to_system_mul %#x: precision lost", p.mul);
	EXPECT_EQ(0, p.flags & ~1);
	TH_LOG("mul %#x shift %d flags %#x (TSC %.1f MHz by the structure)", p.mul, p.shift,
	       p.flags, 1e3 * (double)(1ull << 32) / p.mul /
	       (p.shift >= 0 ? (double)(1 << p.shift) : 1.0 / (1 << -p.shift)));

	a = guest_read(_metadata, &t, PV0);
	check_reading(_metadata, &t, PV0, &a);
	b = guest_read(_metadata, &t, PV0);
	check_reading(_metadata, &t, PV0, &b);
	EXPECT_LT(a.t2, b.t1);

	KHV_OK(khv_vcpu_get_msr(&t.vcpu, MSR_SYSTIME, &v));
	EXPECT_VAL("KHV_GET_MSRS system time", PV0 | 1, v);
	/* Disabled: the structure is left alone. */
	guest_wrmsr_ok(_metadata, &t, MSR_SYSTIME, PV0);
	p = pv_snapshot(&t, PV0);
	srv_halt(&t);
	start_at(&t, GUEST_CODE, NULL, 0);
	srv_halt(&t);
	EXPECT_EQ(0, memcmp(&p, khvt_gpa(&t, PV0), sizeof(p)));
	khvt_destroy(&t);
}

TEST(wall_clock)
{
	struct timespec r0, r1;
	struct pv_wall w;
	struct pv_time p;
	struct khvt_vm t;
	uint64_t tsc = 0, v = 0;
	int64_t wall, lo, hi, sec = NS_PER_SEC;

	server_vm(_metadata, &t, true);
	guest_wrmsr_ok(_metadata, &t, MSR_SYSTIME, PV0 | 1);
	clock_gettime(CLOCK_REALTIME, &r0);
	guest_wrmsr_ok(_metadata, &t, MSR_WALL, PVWALL);
	srv_halt(&t);
	KHV_OK(khv_vcpu_get_msr(&t.vcpu, MSR_IA32_TSC, &tsc));
	clock_gettime(CLOCK_REALTIME, &r1);

	memcpy(&w, khvt_gpa(&t, PVWALL), sizeof(w));
	p = pv_snapshot(&t, PV0);
	EXPECT_EQ(0u, w.version & 1);
	EXPECT_NE(0u, w.version);
	EXPECT_LT(w.nsec, 1000000000u);
	/* What the guest computes now, as Linux's read_persistent_clock does. */
	wall = (int64_t)w.sec * sec + w.nsec + (int64_t)p.system_time +
	       (int64_t)pv_scale(&p, tsc - p.tsc_timestamp);
	lo = (int64_t)(uint32_t)r0.tv_sec * sec + r0.tv_nsec - 2 * sec;
	hi = (int64_t)(uint32_t)r1.tv_sec * sec + r1.tv_nsec + 2 * sec;
	EXPECT_GE(wall, lo) TH_LOG("guest wall clock %lld ns, host %lld s", (long long)wall,
				   (long long)r0.tv_sec);
	EXPECT_LE(wall, hi) TH_LOG("guest wall clock %lld ns, host %lld s", (long long)wall,
				   (long long)r1.tv_sec);
	KHV_OK(khv_vcpu_get_msr(&t.vcpu, MSR_WALL, &v));
	EXPECT_VAL("KHV_GET_MSRS wall clock", PVWALL, v);

	/* The VMM's write (a restore) sets the MSR and writes nothing. */
	memset(khvt_gpa(&t, PVWALL2), 0xa5, sizeof(w));
	KHV_OK(khv_vcpu_set_msr(&t.vcpu, MSR_WALL, PVWALL2));
	KHV_OK(khv_vcpu_get_msr(&t.vcpu, MSR_WALL, &v));
	EXPECT_VAL("KHV_GET_MSRS wall clock after KHV_SET_MSRS", PVWALL2, v);
	start_at(&t, GUEST_CODE, NULL, 0);
	srv_halt(&t);
	EXPECT_VAL("wall clock bytes after a VMM write", 0xa5a5a5a5u,
		   *(uint32_t *)khvt_gpa(&t, PVWALL2 + 4));
	khvt_destroy(&t);
}

TEST(tsc_moved)
{
	struct reading a, b, c;
	struct pv_time p0, p1;
	struct khvt_vm t;
	uint64_t tsc = 0;

	server_vm(_metadata, &t, true);
	guest_wrmsr_ok(_metadata, &t, MSR_SYSTIME, PV0 | 1);
	a = guest_read(_metadata, &t, PV0);
	check_reading(_metadata, &t, PV0, &a);
	p0 = pv_snapshot(&t, PV0);

	KHV_OK(khv_vcpu_get_msr(&t.vcpu, MSR_IA32_TSC, &tsc));
	KHV_OK(khv_vcpu_set_msr(&t.vcpu, MSR_IA32_TSC, tsc + (1ull << 40)));
	b = guest_read(_metadata, &t, PV0);
	check_reading(_metadata, &t, PV0, &b);
	p1 = pv_snapshot(&t, PV0);
	EXPECT_LT(a.t2, b.t1) TH_LOG("TSC moved forward: kvmclock %llu then %llu",
				     (unsigned long long)a.t2, (unsigned long long)b.t1);
	EXPECT_LT(b.t1 - a.t2, 10 * NS_PER_SEC) TH_LOG("TSC moved forward: kvmclock jumped");
	EXPECT_GT(p1.version, p0.version);
	/*
	 * The structure moved with the TSC offset: 2^40 less the cycles
	 * between the GET and the SET, plus the reference's own move on a
	 * host whose TSC is not trusted.
	 */
	EXPECT_GE(p1.tsc_timestamp - p0.tsc_timestamp, (1ull << 40) - (1ull << 32));
	EXPECT_LE(p1.tsc_timestamp - p0.tsc_timestamp, (1ull << 40) + (1ull << 36));

	KHV_OK(khv_vcpu_get_msr(&t.vcpu, MSR_IA32_TSC, &tsc));
	KHV_OK(khv_vcpu_set_msr(&t.vcpu, MSR_IA32_TSC, tsc / 2));
	c = guest_read(_metadata, &t, PV0);
	check_reading(_metadata, &t, PV0, &c);
	EXPECT_LT(b.t2, c.t1) TH_LOG("TSC moved back: kvmclock %llu then %llu",
				     (unsigned long long)b.t2, (unsigned long long)c.t1);
	EXPECT_LT(c.t1 - b.t2, 10 * NS_PER_SEC) TH_LOG("TSC moved back: kvmclock jumped");
	srv_halt(&t);
	khvt_destroy(&t);
}

TEST(bad_gpa)
{
	struct khvt_vm t;
	uint64_t v = 0;

	server_vm(_metadata, &t, true);
	/* Not RAM: accepted, nothing written, no exit, the guest goes on. */
	guest_wrmsr_ok(_metadata, &t, MSR_SYSTIME, GUEST_MMIO | 1);
	guest_wrmsr_ok(_metadata, &t, MSR_WALL, GUEST_MMIO);
	srv_halt(&t);
	KHV_OK(khv_vcpu_get_msr(&t.vcpu, MSR_SYSTIME, &v));
	EXPECT_VAL("system time MSR outside RAM", GUEST_MMIO | 1, v);
	/* Half in RAM: left alone (a version left odd would hang the guest). */
	start_at(&t, GUEST_CODE, NULL, 0);
	guest_wrmsr_ok(_metadata, &t, MSR_SYSTIME, (KHVT_MEM_SIZE - 16) | 1);
	EXPECT_VAL("version of a structure across the end of RAM", 0,
		   *(uint32_t *)khvt_gpa(&t, KHVT_MEM_SIZE - 16));

	/* Reserved: bit 1, and address bits above any MAXPHYADDR. */
	guest_msr_gp(_metadata, &t, true, MSR_SYSTIME, PV0 | 3);
	guest_msr_gp(_metadata, &t, true, MSR_SYSTIME, (1ull << 63) | PV0 | 1);
	guest_msr_gp(_metadata, &t, true, MSR_WALL, (1ull << 63) | PVWALL);
	EXPECT_NE(0, khv_vcpu_set_msr(&t.vcpu, MSR_SYSTIME, PV0 | 2));
	EXPECT_NE(0, khv_vcpu_set_msr(&t.vcpu, MSR_WALL, 1ull << 62));
	/* Unaligned wall clock: Linux's structure is packed. */
	guest_wrmsr_ok(_metadata, &t, MSR_WALL, PVWALL + 1);
	srv_halt(&t);
	khvt_destroy(&t);
}

TEST(two_vcpus)
{
	struct reading r[4];
	struct khvt_vm t, t1;
	struct khv_regs regs;
	struct pv_time p;
	uint64_t tsc = 0;
	int i;

	server_vm(_metadata, &t, true);
	t1 = t;
	KHV_OK(khv_vcpu_create(&t.vm, 1, &t1.vcpu));
	KHV_OK(khvt_init_vcpu(&t1.vcpu, KHVT_LONG, GUEST_CODE));
	/* Its own stack: vCPU 0 overwrites the top of the shared one. */
	KHV_OK(khv_vcpu_get_regs(&t1.vcpu, &regs));
	regs.rsp = GUEST_STACK_TOP - 0x800;
	KHV_OK(khv_vcpu_set_regs(&t1.vcpu, &regs));
	pv_enable_cpuid(_metadata, &t1);
	guest_wrmsr_ok(_metadata, &t, MSR_SYSTIME, PV0 | 1);
	guest_wrmsr_ok(_metadata, &t1, MSR_SYSTIME, PV1 | 1);

	/* Alternating vCPUs, one after the other: never backwards. */
	for (i = 0; i < 4; i++) {
		struct khvt_vm *v = i & 1 ? &t1 : &t;

		r[i] = guest_read(_metadata, v, i & 1 ? PV1 : PV0);
		check_reading(_metadata, v, i & 1 ? PV1 : PV0, &r[i]);
		if (i)
			EXPECT_LT(r[i - 1].t2, r[i].t1) TH_LOG("reading %d: %llu then %llu", i,
							       (unsigned long long)r[i - 1].t2,
							       (unsigned long long)r[i].t1);
	}
	p = pv_snapshot(&t, PV0);
	TH_LOG("stable bit with one TSC offset: %u", p.flags & 1);

	/* vCPU 1's TSC moves: vCPU 0's structure loses the stable bit. */
	KHV_OK(khv_vcpu_get_msr(&t1.vcpu, MSR_IA32_TSC, &tsc));
	KHV_OK(khv_vcpu_set_msr(&t1.vcpu, MSR_IA32_TSC, tsc + (1ull << 36)));
	r[0] = guest_read(_metadata, &t, PV0);
	check_reading(_metadata, &t, PV0, &r[0]);
	EXPECT_LT(r[3].t2, r[0].t1);
	p = pv_snapshot(&t, PV0);
	EXPECT_EQ(0, p.flags & 1) TH_LOG("vCPU 0 says stable with two TSC offsets");
	r[1] = guest_read(_metadata, &t1, PV1);
	check_reading(_metadata, &t1, PV1, &r[1]);
	EXPECT_LT(r[0].t2, r[1].t1);

	srv_halt(&t);
	srv_halt(&t1);
	khv_vcpu_destroy(&t1.vcpu);
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
