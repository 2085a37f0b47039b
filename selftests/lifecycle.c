// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle: VMs and vCPUs come and go without leaving memory behind, and
 * file descriptors keep what they need alive.
 *
 * vms_100x4: 100 VMs with 4 vCPUs each exist at the same time; every vCPU
 * runs once (writing 32 pages, so 512 KiB of each VM gets pinned) up to HLT;
 * everything is closed.  Each round runs in a child process placed in its own
 * memory cgroup, so the test's own memory is gone when it measures.  A first
 * round warms up the allocators (slab caches, per-CPU state); three measured
 * rounds follow.  Three independent checks, from exact to statistical:
 *   pins: /proc/vmstat nr_foll_pin_acquired - nr_foll_pin_released is the
 *     number of pages pinned in the whole kernel; after each round it must be
 *     back to its value before, exactly.  One leaked pin fails.
 *   memcg: everything khv allocates for a VM (vCPU structs, run pages, VMCBs,
 *     second-level tables, slab objects) is GFP_KERNEL_ACCOUNT, charged to the
 *     VMM's cgroup; once the child is gone, the cgroup's memory.current must
 *     be back to (almost) nothing: < MEMCG_LIMIT_KIB.
 *   free memory and Slab/SUnreclaim (/proc/meminfo, after dropping caches,
 *     best of several samples): free is MemFree plus the pages on the
 *     per-CPU lists (/proc/zoneinfo), which MemFree leaves out; it still
 *     moves by some MiB between identical rounds (deferred frees), so
 *     the limit is on the drop over all three rounds together, where a leak
 *     adds up and noise does not (limits: Documentation/khv/selftests.rst).
 * On a KASAN kernel (make check-debug) the two statistical checks are not
 * applied: the quarantine holds freed objects back by design.
 * KHVT_LIFECYCLE_VMS=n in the environment changes the number of VMs.
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(lifecycle_touch);
extern const uint8_t lifecycle_done[];

#define LC_VCPUS	4
#define LC_MEM		0x100000	/* no 2 MiB alignment: no THP, pins what is touched */
#define LC_TOUCH	0x80000
#define LC_PAGES	32		/* per vCPU */
#define SLAB_LIMIT_KIB	2048
#define FREE_LIMIT_KIB	16384	/* over LC_ROUNDS rounds */
#define MEMCG_LIMIT_KIB	1024	/* residue seen: 200-400 KiB, not growing */
#define LC_ROUNDS	3
#define LC_SETTLE_SAMPLES 20	/* 1.5 s each, only while over a limit */
#define LC_CGROUP_ROOT	"/sys/fs/cgroup"
#define LC_CGROUP	LC_CGROUP_ROOT "/khvt-lifecycle"

struct lc_vm {
	struct khv_vm vm;
	struct khv_vcpu vcpu[LC_VCPUS];
	uint8_t *mem;
};

static int fail(const char *what, int vm, int vcpu, int err)
{
	fprintf(stderr, "# lifecycle: VM %d vCPU %d: %s: %s\n", vm, vcpu, what,
		err ? strerror(-err) : "wrong result");
	return 1;
}

static int run_vcpu(struct lc_vm *l, int i, int v)
{
	struct khv_vcpu *vcpu = &l->vcpu[v];
	uint64_t base = LC_TOUCH + (uint64_t)v * LC_PAGES * 4096;
	struct khv_regs r;
	int ret;

	ret = khv_vcpu_get_regs(vcpu, &r);
	if (ret)
		return fail("KHV_GET_REGS", i, v, ret);
	r.rdi = base;
	r.rcx = LC_PAGES;
	r.rbx = (uint64_t)v + 1;
	ret = khv_vcpu_set_regs(vcpu, &r);
	if (ret)
		return fail("KHV_SET_REGS", i, v, ret);
	ret = khv_vcpu_run(vcpu);
	if (ret)
		return fail("KHV_RUN", i, v, ret);
	if (vcpu->run->exit_reason != KHV_EXIT_HLT) {
		fprintf(stderr, "# lifecycle: VM %d vCPU %d: exit %s, expected HLT\n", i, v,
			khv_exit_reason_name(vcpu->run->exit_reason));
		return 1;
	}
	ret = khv_vcpu_get_regs(vcpu, &r);
	if (ret)
		return fail("KHV_GET_REGS", i, v, ret);
	if (r.rip != PAYLOAD_GPA(lifecycle_touch, lifecycle_done) || (r.rcx & 0xffffffff) ||
	    l->mem[base] != v + 1 || l->mem[base + (LC_PAGES - 1) * 4096] != v + 1)
		return fail("guest did not touch its pages", i, v, 0);
	return 0;
}

/* One round: nvms VMs x LC_VCPUS vCPUs, all alive together. Child process. */
static int round_trip(int nvms)
{
	struct lc_vm *l = calloc((size_t)nvms, sizeof(*l));
	struct khv_sys sys;
	int i, v, ret;

	if (!l)
		return 1;
	ret = khv_open(&sys, NULL);
	if (ret)
		return fail("khv_open", -1, -1, ret);
	for (i = 0; i < nvms; i++) {
		ret = khv_vm_create(&sys, &l[i].vm);
		if (ret)
			return fail("KHV_CREATE_VM", i, -1, ret);
		l[i].mem = khv_guest_mem_alloc(LC_MEM);
		if (!l[i].mem)
			return fail("khv_guest_mem_alloc", i, -1, -ENOMEM);
		ret = khvt_init_memory(l[i].mem, KHVT_PROT32, PAYLOAD(lifecycle_touch));
		if (ret)
			return fail("khvt_init_memory", i, -1, ret);
		ret = khv_vm_set_memory(&l[i].vm, 0, 0, 0, LC_MEM, l[i].mem);
		if (ret)
			return fail("KHV_SET_USER_MEMORY_REGION", i, -1, ret);
		for (v = 0; v < LC_VCPUS; v++) {
			ret = khv_vcpu_create(&l[i].vm, (uint32_t)v, &l[i].vcpu[v]);
			if (ret)
				return fail("KHV_CREATE_VCPU", i, v, ret);
			ret = khvt_init_vcpu(&l[i].vcpu[v], KHVT_PROT32, GUEST_CODE);
			if (ret)
				return fail("khvt_init_vcpu", i, v, ret);
		}
	}
	for (i = 0; i < nvms; i++)
		for (v = 0; v < LC_VCPUS; v++)
			if (run_vcpu(&l[i], i, v))
				return 1;
	/* Close in a different order from creation: VM fd before its vCPUs. */
	for (i = 0; i < nvms; i++) {
		khv_vm_destroy(&l[i].vm);
		for (v = LC_VCPUS - 1; v >= 0; v--)
			khv_vcpu_destroy(&l[i].vcpu[v]);
		khv_guest_mem_free(l[i].mem, LC_MEM);
	}
	khv_close(&sys);
	free(l);
	return 0;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t len = (ssize_t)strlen(text);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

static long read_long(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

/* A cgroup v2 with the memory controller for the rounds; 0 or -errno. */
static int memcg_setup(void)
{
	if (access(LC_CGROUP_ROOT "/cgroup.controllers", F_OK)) {
		mkdir(LC_CGROUP_ROOT, 0755);
		if (mount("none", LC_CGROUP_ROOT, "cgroup2", 0, NULL))
			return -errno;
	}
	/* EBUSY-free when already enabled; a failure shows up as no memory.current. */
	write_file(LC_CGROUP_ROOT "/cgroup.subtree_control", "+memory");
	if (mkdir(LC_CGROUP, 0755) && errno != EEXIST)
		return -errno;
	return access(LC_CGROUP "/memory.current", R_OK) ? -errno : 0;
}

static int round_in_child(int nvms)
{
	int status;
	pid_t pid;

	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Charge everything this round allocates to the test cgroup. */
		if (write_file(LC_CGROUP "/cgroup.procs", "0"))
			_exit(fail("joining " LC_CGROUP, -1, -1, -errno));
		_exit(round_trip(nvms));
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "3\n", 2) != 2)
		ret = -errno;
	close(fd);
	return ret;
}

struct meminfo {
	long free, slab, sunreclaim;
};

/*
 * Free pages parked on the per-CPU lists (/proc/zoneinfo "count:" of every
 * pageset), in KiB.  MemFree does not count them, and the lists hold
 * several MiB per CPU and zone, more or less at random: alone, they made
 * MemFree look 17 MiB low after the rounds on a loaded lane.
 */
static long pcp_free_kib(void)
{
	char line[256];
	long pages = 0;
	FILE *f;

	f = fopen("/proc/zoneinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *p = line + strspn(line, " ");

		if (!strncmp(p, "count:", 6))
			pages += strtol(p + 6, NULL, 10);
	}
	fclose(f);
	return pages * (getpagesize() / 1024);
}

/*
 * Let deferred frees (RCU, vfree workers) finish, drop caches, fold the
 * per-CPU counter deltas (stat_refresh), read.  "free" is MemFree plus the
 * per-CPU lists: memory the page allocator holds free either way.
 */
static void sample(KHVT_MD, struct meminfo *m)
{
	ssize_t n;
	long pcp;
	int fd;

	sync();
	KHV_OK(drop_caches());
	usleep(500 * 1000);
	fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	if (fd >= 0) {
		/* EINVAL when a counter is briefly negative: harmless here. */
		n = write(fd, "1\n", 2);
		(void)n;
		close(fd);
	}
	pcp = pcp_free_kib();
	ASSERT_GE(pcp, 0);
	m->free = khvt_meminfo_kib("MemFree") + pcp;
	m->slab = khvt_meminfo_kib("Slab");
	m->sunreclaim = khvt_meminfo_kib("SUnreclaim");
	ASSERT_GT(m->free, 0);
	ASSERT_GT(m->slab, 0);
	ASSERT_GT(m->sunreclaim, 0);
}

/*
 * Leaks are permanent, noise (other tasks, per-CPU page lists, deferred
 * frees) comes and goes: keep the best of several samples.
 */
static void best(struct meminfo *b, const struct meminfo *m)
{
	if (m->free > b->free)
		b->free = m->free;
	if (m->slab < b->slab)
		b->slab = m->slab;
	if (m->sunreclaim < b->sunreclaim)
		b->sunreclaim = m->sunreclaim;
}

/* A KASAN kernel (make check-debug): its quarantine defers every free. */
static bool kasan_quarantine(void)
{
	char line[256];
	bool found = false;
	FILE *f;

	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " kasan_quarantine_put") != NULL;
	fclose(f);
	return found;
}

FIXTURE(lifecycle) {
	int nvms;
};

FIXTURE_SETUP(lifecycle)
{
	struct rlimit rl;
	struct khv_sys sys;
	const char *env = getenv("KHVT_LIFECYCLE_VMS");
	int ret;

	/* The 6.1 harness runs the test even when setup skips: nvms 0 = skip. */
	self->nvms = 0;
	ret = khv_open(&sys, NULL);
	if (khvt_no_device(ret))
		SKIP(return, "no khv device: %s", strerror(-ret));
	KHV_OK(ret);
	khv_close(&sys);
	self->nvms = env ? atoi(env) : 100;
	ASSERT_GT(self->nvms, 0);
	/* One fd per VM and per vCPU, plus the usual. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < (rlim_t)self->nvms * 6 + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

FIXTURE_TEARDOWN(lifecycle)
{
}

TEST_F_TIMEOUT(lifecycle, vms_100x4, 600)
{
	struct meminfo before, after, m;
	long free_drop, slab_growth, sunreclaim_growth, pins0, pins, memcg;
	int i, ret;

	if (!self->nvms)
		SKIP(return, "no khv device");
	if (drop_caches())
		SKIP(return, "cannot write /proc/sys/vm/drop_caches (not root?)");
	ret = memcg_setup();
	ASSERT_EQ(0, ret) TH_LOG("memory cgroup %s: %s", LC_CGROUP, strerror(-ret));

	ret = round_in_child(self->nvms);
	ASSERT_EQ(0, ret) TH_LOG("warm-up round of %d VMs x %d vCPUs failed", self->nvms, LC_VCPUS);
	pins0 = khvt_pins_outstanding();
	ASSERT_NE(LONG_MIN, pins0) TH_LOG("no nr_foll_pin_* in /proc/vmstat");
	sample(_metadata, &before);
	for (i = 0; i < 2; i++) {
		sample(_metadata, &m);
		best(&before, &m);
	}

	for (i = 0; i < LC_ROUNDS; i++) {
		ret = round_in_child(self->nvms);
		ASSERT_EQ(0, ret) TH_LOG("round %d of %d VMs x %d vCPUs failed", i + 1,
					 self->nvms, LC_VCPUS);
		pins = khvt_pins_outstanding();
		memcg = read_long(LC_CGROUP "/memory.current") / 1024;
		TH_LOG("round %d: pinned pages %ld (before %ld), cgroup memory.current %ld KiB",
		       i + 1, pins, pins0, memcg);
		EXPECT_EQ(pins0, pins) TH_LOG("%ld pages left pinned after round %d", pins - pins0,
					      i + 1);
		EXPECT_LT(memcg, MEMCG_LIMIT_KIB)
			TH_LOG("%ld KiB still charged to the VMM's cgroup after round %d", memcg,
			       i + 1);
	}

	/*
	 * Deferred frees (RCU callbacks, per-CPU lists, vmap purges) lag far
	 * behind on a loaded emulator: a lane that ran beside four others saw
	 * MemFree 14-31 MiB low right after the rounds, and the same test alone
	 * in the same emulator 1-27 MiB high.  A leak stays; noise goes away:
	 * wait for it, up to about 30 s.
	 */
	sample(_metadata, &after);
	for (i = 0; i < LC_SETTLE_SAMPLES && !kasan_quarantine(); i++) {
		if (before.free - after.free < FREE_LIMIT_KIB &&
		    after.sunreclaim - before.sunreclaim < SLAB_LIMIT_KIB)
			break;
		sleep(1);
		sample(_metadata, &m);
		best(&after, &m);
	}

	free_drop = before.free - after.free;
	slab_growth = after.slab - before.slab;
	sunreclaim_growth = after.sunreclaim - before.sunreclaim;
	TH_LOG("%d rounds of %d VMs x %d vCPUs: free drop %ld KiB, Slab growth %ld KiB, SUnreclaim growth %ld KiB",
	       LC_ROUNDS, self->nvms, LC_VCPUS, free_drop, slab_growth, sunreclaim_growth);
	if (kasan_quarantine()) {
		/*
		 * KASAN keeps freed objects in its quarantine (up to 1/32 of
		 * RAM) before freeing them: the debug kernel showed 26 MiB of
		 * SUnreclaim "growth" from it.  The pin and memcg checks above
		 * are exact and still count there.
		 */
		TH_LOG("KASAN kernel: free memory and slab limits not applied (quarantine)");
		return;
	}
	EXPECT_LT(sunreclaim_growth, SLAB_LIMIT_KIB)
		TH_LOG("unreclaimable slab grew by %ld KiB (limit %d)", sunreclaim_growth,
		       SLAB_LIMIT_KIB);
	EXPECT_LT(free_drop, FREE_LIMIT_KIB)
		TH_LOG("free memory (MemFree + per-CPU lists) dropped by %ld KiB (limit %d)",
		       free_drop, FREE_LIMIT_KIB);
}

/* A vCPU fd keeps its VM alive after the VM fd and /dev/khv fd are closed. */
TEST(vcpu_outlives_vm_fd)
{
	struct khvt_vm t;
	struct khv_regs r;

	VM_WITH_PAYLOAD(&t, KHVT_PROT32, lifecycle_touch);
	khv_vm_destroy(&t.vm);
	t.have_vm = false;
	khv_close(&t.sys);
	t.have_sys = false;

	/* Ten pages from 0x80000, then HLT: needs the memory slot, so the VM. */
	KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
	r.rdi = LC_TOUCH;
	r.rcx = 10;
	r.rbx = 0x42;
	KHV_OK(khv_vcpu_set_regs(&t.vcpu, &r));
	expect_hlt(&t, PAYLOAD_GPA(lifecycle_touch, lifecycle_done));
	EXPECT_VAL("byte the guest wrote", 0x42, t.mem[LC_TOUCH + 9 * 4096]);
	khvt_destroy(&t);
}

/*
 * A VM fd works after the /dev/khv fd is closed (raw KHV_CREATE_VCPU and
 * mmap: libkhv may want the system fd for a vCPU).
 */
TEST(vm_outlives_system_fd)
{
	struct khvt_vm t;
	struct khv_vcpu v1;
	struct khv_regs r;
	int fd;

	VM_WITH_PAYLOAD(&t, KHVT_PROT32, lifecycle_touch);
	khv_close(&t.sys);
	t.have_sys = false;

	fd = ioctl(t.vm.fd, KHV_CREATE_VCPU, 1);
	ASSERT_LE(0, fd) TH_LOG("KHV_CREATE_VCPU after closing /dev/khv: %s", strerror(errno));
	memset(&v1, 0, sizeof(v1));
	v1.fd = fd;
	v1.id = 1;
	v1.vm = &t.vm;
	v1.run_size = KHV_RUN_MMAP_SIZE;
	v1.run = mmap(NULL, KHV_RUN_MMAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, v1.run) TH_LOG("mmap of the vCPU fd: %s", strerror(errno));
	KHV_OK(khvt_init_vcpu(&v1, KHVT_PROT32, GUEST_CODE));
	KHV_OK(khv_vcpu_get_regs(&v1, &r));
	r.rdi = LC_TOUCH;
	r.rcx = 1;
	r.rbx = 0x17;
	KHV_OK(khv_vcpu_set_regs(&v1, &r));
	KHV_OK(khv_vcpu_run(&v1));
	EXPECT_EQ((uint32_t)KHV_EXIT_HLT, v1.run->exit_reason)
		TH_LOG("exit %s", khv_exit_reason_name(v1.run->exit_reason));
	EXPECT_VAL("byte the guest wrote", 0x17, t.mem[LC_TOUCH]);
	munmap(v1.run, KHV_RUN_MMAP_SIZE);
	close(fd);
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
