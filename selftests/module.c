// SPDX-License-Identifier: GPL-2.0
/*
 * module: whatever khv handed out keeps khv.ko loaded.
 *
 * delete_module("khv", O_NONBLOCK) must be refused while any of these is
 * the only thing left open: the /dev/khv fd, a VM fd, a vCPU fd, a vCPU's
 * run page mapping (whose file reference outlives the fd).  Linux 6.1
 * refuses a module in use with EWOULDBLOCK (kernel/module/main.c,
 * try_stop_module()).  After each refusal the module is still "live" and,
 * where an fd is left, a guest still runs on it.  Once everything is closed,
 * /sys/module/khv/refcnt is back where it was: nothing keeps a reference.
 *
 * The module is never unloaded on purpose: if delete_module() succeeds the
 * test fails, and every later test notices the missing device.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "khvt_harness.h"

#define MODULE_DIR	"/sys/module/khv"

/* 0, or the errno of delete_module("khv", O_NONBLOCK). */
static int try_unload(void)
{
	if (syscall(SYS_delete_module, "khv", O_NONBLOCK) == 0)
		return 0;
	return errno;
}

/* First line of a /sys/module/khv file, newline dropped; false if unreadable. */
static bool module_attr(const char *name, char *buf, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), MODULE_DIR "/%s", name);
	return khvt_read_line(path, buf, len);
}

/* /sys/module/khv/refcnt, or -1 (no CONFIG_MODULE_UNLOAD, or not a module). */
static long refcnt(void)
{
	char buf[32];

	return module_attr("refcnt", buf, sizeof(buf)) ? strtol(buf, NULL, 10) : -1;
}

/* Skip unless khv is a loaded module this process may try to unload. */
#define REQUIRE_UNLOADABLE() do {						\
	if (geteuid() != 0)							\
		SKIP(return, "delete_module needs CAP_SYS_MODULE (run as root)"); \
	if (access(MODULE_DIR "/initstate", R_OK))				\
		SKIP(return, "%s/initstate: %s (khv built in, or not loaded)",	\
		     MODULE_DIR, strerror(errno));				\
} while (0)

static void __expect_pinned(KHVT_MD, int line, const char *what)
{
	char state[32] = "";
	int err = try_unload();
	long n = refcnt();

	if (!err)
		KHVT_FAIL("line %d: delete_module(khv) succeeded with only %s open: khv is gone",
			  line, what);
	EXPECT_EQ(EWOULDBLOCK, err)
		TH_LOG("line %d: delete_module(khv) with only %s open: %s, expected EWOULDBLOCK",
		       line, what, strerror(err));
	EXPECT_TRUE(module_attr("initstate", state, sizeof(state)) && !strcmp(state, "live"))
		TH_LOG("line %d: khv initstate \"%s\" after the refused delete_module", line,
		       state);
	EXPECT_NE(0, n) TH_LOG("line %d: refcnt 0 with %s open", line, what);
}
#define expect_pinned(what) __expect_pinned(_metadata, __LINE__, (what))

/* Everything closed: the module's reference count is back to base. */
#define EXPECT_REFCNT(base) do {						\
	long __n = refcnt();							\
	EXPECT_EQ((base), __n) TH_LOG("refcnt %ld after closing everything, %ld before", \
				      __n, (long)(base));			\
} while (0)

/* A guest access and a HLT through lib/server.S: the vCPU still works. */
static void guest_still_runs(KHVT_MD, struct khvt_vm *t)
{
	const uint64_t v = 0x0123456789abcdefull;

	memcpy(khvt_gpa(t, GUEST_DATA), &v, sizeof(v));
	EXPECT_VAL("guest load after the refused delete_module", v,
		   srv_read64(t, GUEST_DATA, NULL));
	srv_halt(t);
}

TEST(system_fd)
{
	struct khv_sys sys;
	long base;
	int ret;

	REQUIRE_UNLOADABLE();
	base = refcnt();
	ret = khv_open(&sys, NULL);
	if (khvt_no_device(ret))
		SKIP(return, "no khv device: %s", strerror(-ret));
	KHV_OK(ret);
	expect_pinned("the /dev/khv fd");
	EXPECT_EQ(KHV_API_VERSION, ioctl(sys.fd, KHV_GET_API_VERSION, 0));
	khv_close(&sys);
	EXPECT_REFCNT(base);
}

/* The VM fd alone; then a new vCPU on it runs (raw ioctls: no system fd). */
TEST(vm_fd)
{
	struct khvt_vm t;
	long base;
	int fd;

	REQUIRE_UNLOADABLE();
	base = refcnt();
	VM_WITH_PAYLOAD(&t, KHVT_LONG, server64);
	khv_vcpu_destroy(&t.vcpu);
	t.have_vcpu = false;
	khv_close(&t.sys);
	t.have_sys = false;

	expect_pinned("a VM fd");

	fd = ioctl(t.vm.fd, KHV_CREATE_VCPU, 1);
	ASSERT_LE(0, fd) TH_LOG("KHV_CREATE_VCPU 1: %s", strerror(errno));
	t.vcpu.fd = fd;
	t.vcpu.id = 1;
	t.vcpu.vm = &t.vm;
	t.vcpu.run_size = KHV_RUN_MMAP_SIZE;
	t.vcpu.run = mmap(NULL, KHV_RUN_MMAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, t.vcpu.run) TH_LOG("mmap of vCPU 1: %s", strerror(errno));
	t.have_vcpu = true;
	KHV_OK(khvt_init_vcpu(&t.vcpu, KHVT_LONG, GUEST_CODE));
	guest_still_runs(_metadata, &t);
	khvt_destroy(&t);
	EXPECT_REFCNT(base);
}

/* The vCPU fd alone: no system or VM fd, run page unmapped. */
TEST(vcpu_fd)
{
	struct khvt_vm t;
	long base;

	REQUIRE_UNLOADABLE();
	base = refcnt();
	VM_WITH_PAYLOAD(&t, KHVT_LONG, server64);
	khv_vm_destroy(&t.vm);
	t.have_vm = false;
	khv_close(&t.sys);
	t.have_sys = false;
	ASSERT_EQ(0, munmap(t.vcpu.run, t.vcpu.run_size));
	t.vcpu.run = NULL;

	expect_pinned("a vCPU fd");

	t.vcpu.run = mmap(NULL, t.vcpu.run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			  t.vcpu.fd, 0);
	ASSERT_NE(MAP_FAILED, t.vcpu.run) TH_LOG("mmap of the vCPU fd: %s", strerror(errno));
	guest_still_runs(_metadata, &t);
	khvt_destroy(&t);
	EXPECT_REFCNT(base);
}

/* Only the run page mapping: every fd is closed. */
TEST(run_mapping)
{
	struct khvt_vm t;
	long base;

	REQUIRE_UNLOADABLE();
	base = refcnt();
	VM_WITH_PAYLOAD(&t, KHVT_LONG, server64);
	srv_halt(&t);
	khv_vm_destroy(&t.vm);
	t.have_vm = false;
	khv_close(&t.sys);
	t.have_sys = false;
	ASSERT_EQ(0, close(t.vcpu.fd));
	t.vcpu.fd = -1;

	expect_pinned("a vCPU's run page mapping");
	EXPECT_EQ((uint32_t)KHV_EXIT_HLT, t.vcpu.run->exit_reason)
		TH_LOG("run page through the mapping: exit %u", t.vcpu.run->exit_reason);
	khvt_destroy(&t);	/* munmap: the last reference */
	EXPECT_REFCNT(base);
}

TEST_HARNESS_MAIN
