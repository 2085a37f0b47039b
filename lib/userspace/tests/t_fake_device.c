// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Every library path that talks to the kernel, against the fake device
 * (fake_khv.c): what the kernel receives and how its answers come back.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fake_khv.h"

static void fake_open(struct khv_sys *sys)
{
	fake.api_version = KHV_API_VERSION + 1;
	CHECK_EQ(khv_open(sys, "/dev/null"), -EPROTO);
	CHECK_EQ(sys->fd, -1);

	fake.api_version = KHV_API_VERSION;
	fake.fail_errno = ENODEV;
	CHECK_EQ(khv_open(sys, "/dev/null"), -ENODEV);
	CHECK_EQ(sys->fd, -1);

	CHECK_EQ(khv_open(sys, "/dev/null"), 0);
	CHECK(sys->fd >= 0);
	CHECK_EQ(sys->api_version, KHV_API_VERSION);
	/* O_CLOEXEC: the fd must not leak into exec'd programs. */
	CHECK(fcntl(sys->fd, F_GETFD) & FD_CLOEXEC);

	fake.ext_value = 64;
	CHECK_EQ(khv_check_extension(sys, KHV_CAP_NR_VCPUS), 64);
	CHECK_EQ(fake.last_cap, KHV_CAP_NR_VCPUS);
	fake.fail_errno = EINVAL;
	CHECK_EQ(khv_check_extension(sys, 999), -EINVAL);
}

static void fake_memory(struct khv_vm *vm)
{
	void *mem = khv_guest_mem_alloc(3 * 4096 + 1);
	unsigned char *b = mem;
	size_t i;
	int zero = 1;

	CHECK(mem != NULL);
	if (!mem)
		return;
	CHECK_EQ((uintptr_t)mem & 4095, 0);
	for (i = 0; i < 4 * 4096; i++)
		zero &= b[i] == 0;
	CHECK(zero);

	CHECK_EQ(khv_vm_set_memory(vm, 3, KHV_MEM_READONLY, 0x100000, 4 * 4096, mem), 0);
	CHECK_EQ(fake.last_req, KHV_SET_USER_MEMORY_REGION);
	CHECK_EQ(fake.last_region.slot, 3);
	CHECK_EQ(fake.last_region.flags, KHV_MEM_READONLY);
	CHECK_EQ(fake.last_region.guest_phys_addr, 0x100000);
	CHECK_EQ(fake.last_region.memory_size, 4 * 4096);
	CHECK_EQ(fake.last_region.userspace_addr, (uintptr_t)mem);
	/* Delete: size 0, no host memory needed. */
	CHECK_EQ(khv_vm_set_memory(vm, 3, 0, 0, 0, NULL), 0);
	CHECK_EQ(fake.last_region.memory_size, 0);
	fake.fail_errno = EEXIST;
	CHECK_EQ(khv_vm_set_memory(vm, 4, 0, 0, 4096, mem), -EEXIST);
	khv_guest_mem_free(mem, 3 * 4096 + 1);
}

static void fake_vcpu_failures(struct khv_vm *vm)
{
	struct khv_vcpu vcpu;
	unsigned int calls;
	int fds = t_count_fds();

	/* A run page smaller than struct khv_run: refused before creating. */
	fake.mmap_size = 100;
	calls = fake.calls;
	CHECK_EQ(khv_vcpu_create(vm, 0, &vcpu), -EPROTO);
	CHECK_EQ(fake.calls, calls + 1);
	CHECK_EQ(fake.last_req, KHV_GET_VCPU_MMAP_SIZE);
	fake.mmap_size = KHV_RUN_MMAP_SIZE;

	fake.fail_errno = ENOMEM;
	CHECK_EQ(khv_vcpu_create(vm, 0, &vcpu), -ENOMEM);

	/* mmap fails: the new vCPU fd is closed again, the handle stays empty. */
	fake.vcpu_backing = FAKE_VCPU_DEVNULL;
	CHECK_EQ(khv_vcpu_create(vm, 5, &vcpu), -ENODEV);
	CHECK(fake.last_vcpu_fd >= 0);
	CHECK_EQ(fcntl(fake.last_vcpu_fd, F_GETFD), -1);
	CHECK_EQ(vcpu.fd, -1);
	CHECK(vcpu.run == NULL);
	CHECK_EQ(vcpu.run_size, 0);
	fake.vcpu_backing = FAKE_VCPU_MEMFD;
	CHECK_EQ(t_count_fds(), fds);
}

static void fake_io_data(struct khv_vcpu *vcpu)
{
	struct khv_run *run = vcpu->run;

	run->exit_reason = KHV_EXIT_IO;
	run->io.direction = KHV_EXIT_IO_OUT;
	run->io.size = 4;
	run->io.count = 3;
	run->io.data_offset = KHV_IO_DATA_OFFSET;
	CHECK(khv_vcpu_io_data(vcpu) == (char *)run + KHV_IO_DATA_OFFSET);
	/* Data reaching the end of the mapping exactly is fine... */
	run->io.size = 1;
	run->io.count = KHV_RUN_MMAP_SIZE - KHV_IO_DATA_OFFSET;
	CHECK(khv_vcpu_io_data(vcpu) != NULL);
	/* ...one byte further, or inside struct khv_run, is not. */
	run->io.count++;
	CHECK(khv_vcpu_io_data(vcpu) == NULL);
	run->io.count = 1;
	run->io.data_offset = 0;
	CHECK(khv_vcpu_io_data(vcpu) == NULL);
	run->io.data_offset = ~0ull;
	CHECK(khv_vcpu_io_data(vcpu) == NULL);
	memset(run, 0, sizeof(*run));
}

static void fake_registers(struct khv_vcpu *vcpu)
{
	struct khv_regs regs = { .rax = 1, .rip = 0x1000, .rflags = 2 }, r2;
	struct khv_sregs s, s2;
	static struct khv_xsave xs;

	CHECK_EQ(khv_vcpu_set_regs(vcpu, &regs), 0);
	memset(&r2, 0xff, sizeof(r2));
	CHECK_EQ(khv_vcpu_get_regs(vcpu, &r2), 0);
	CHECK(!memcmp(&regs, &r2, sizeof(regs)));

	memset(&s, 0, sizeof(s));
	khv_sregs_long_mode(&s, 0x2000);
	CHECK_EQ(khv_vcpu_set_sregs(vcpu, &s), 0);
	CHECK_EQ(khv_vcpu_get_sregs(vcpu, &s2), 0);
	CHECK(!memcmp(&s, &s2, sizeof(s)));

	CHECK_EQ(khv_vcpu_get_xsave(vcpu, &xs), 0);
	CHECK_EQ(xs.region[1023], 0x5a5a5a5a);
	CHECK_EQ(khv_vcpu_set_xsave(vcpu, &xs), 0);
	CHECK_EQ(fake.last_req, KHV_SET_XSAVE);

	fake.fail_errno = EFAULT;
	CHECK_EQ(khv_vcpu_get_regs(vcpu, &r2), -EFAULT);
}

static void fake_msrs(struct khv_vcpu *vcpu)
{
	uint64_t v = 0;

	fake.msrs_processed = 1;
	fake.msr_value = 0x123456789abcdefull;
	CHECK_EQ(khv_vcpu_get_msr(vcpu, 0xc0000080, &v), 0);
	CHECK_EQ(v, 0x123456789abcdefull);
	CHECK_EQ(fake.last_nmsrs, 1);
	CHECK_EQ(fake.last_msr.index, 0xc0000080);
	CHECK_EQ(fake.last_msr.reserved, 0);

	CHECK_EQ(khv_vcpu_set_msr(vcpu, 0x174, 0x42), 0);
	CHECK_EQ(fake.last_req, KHV_SET_MSRS);
	CHECK_EQ(fake.last_nmsrs, 1);
	CHECK_EQ(fake.last_msr.index, 0x174);
	CHECK_EQ(fake.last_msr.data, 0x42);
	CHECK_EQ(fake.last_msr.reserved, 0);

	/* 0 processed: unknown (get) or refused (set). */
	fake.msrs_processed = 0;
	v = 7;
	CHECK_EQ(khv_vcpu_get_msr(vcpu, 0xdead, &v), -ENOENT);
	CHECK_EQ(v, 7);
	CHECK_EQ(khv_vcpu_set_msr(vcpu, 0xdead, 1), -EINVAL);
	fake.fail_errno = EFAULT;
	CHECK_EQ(khv_vcpu_get_msr(vcpu, 0x10, &v), -EFAULT);
}

static void fake_cpuid(struct khv_sys *sys, struct khv_vcpu *vcpu)
{
	struct khv_cpuid_entry e[8];
	uint32_t n = 0, i;
	int ok = 1;

	fake.cpuid_avail = 5;
	memset(e, 0xee, sizeof(e));
	CHECK_EQ(khv_get_supported_cpuid(sys, e, 8, &n), 0);
	CHECK_EQ(n, 5);
	for (i = 0; i < 5; i++)
		ok &= e[i].function == i && e[i].eax == 100 + i;
	CHECK(ok);
	CHECK_EQ(e[5].function, 0xeeeeeeee);	/* nothing past nent */

	/* Too small: -E2BIG, the count needed, and the buffer untouched. */
	memset(e, 0xee, sizeof(e));
	n = 0;
	CHECK_EQ(khv_vcpu_get_cpuid(vcpu, e, 3, &n), -E2BIG);
	CHECK_EQ(n, 5);
	CHECK_EQ(e[0].function, 0xeeeeeeee);
	/* Capacity 0 asks for the count only. */
	n = 0;
	CHECK_EQ(khv_vcpu_get_cpuid(vcpu, NULL, 0, &n), -E2BIG);
	CHECK_EQ(n, 5);
	/* Exactly enough room. */
	CHECK_EQ(khv_vcpu_get_cpuid(vcpu, e, 5, &n), 0);
	CHECK_EQ(n, 5);
	CHECK_EQ(e[4].eax, 104);
	/* A huge capacity is capped, not allocated. */
	CHECK_EQ(khv_vcpu_get_cpuid(vcpu, e, UINT32_MAX, &n), 0);
	CHECK_EQ(n, 5);

	fake.cpuid_avail = 0;
	CHECK_EQ(khv_vcpu_get_cpuid(vcpu, NULL, 0, &n), 0);
	CHECK_EQ(n, 0);

	e[0].function = 0x40000000;
	e[1].function = 1;
	CHECK_EQ(khv_vcpu_set_cpuid(vcpu, e, 2), 0);
	CHECK_EQ(fake.set_cpuid_nent, 2);
	CHECK_EQ(fake.set_cpuid[0].function, 0x40000000);
	CHECK_EQ(fake.set_cpuid[1].function, 1);
	CHECK_EQ(khv_vcpu_set_cpuid(vcpu, NULL, 0), 0);
	CHECK_EQ(fake.set_cpuid_nent, 0);
}

static void fake_events(struct khv_vcpu *vcpu)
{
	CHECK_EQ(khv_vcpu_inject_exception(vcpu, 14, 1, 0x6), 0);
	CHECK_EQ(fake.last_event.type, KHV_EVENT_EXCEPTION);
	CHECK_EQ(fake.last_event.vector, 14);
	CHECK_EQ(fake.last_event.has_error_code, 1);
	CHECK_EQ(fake.last_event.error_code, 6);

	CHECK_EQ(khv_vcpu_inject_exception(vcpu, 6, 0, 0x1234), 0);
	CHECK_EQ(fake.last_event.has_error_code, 0);
	CHECK_EQ(fake.last_event.error_code, 0);

	CHECK_EQ(khv_vcpu_inject_interrupt(vcpu, 0x20), 0);
	CHECK_EQ(fake.last_event.type, KHV_EVENT_EXTINT);
	CHECK_EQ(fake.last_event.vector, 0x20);

	CHECK_EQ(khv_vcpu_inject_nmi(vcpu), 0);
	CHECK_EQ(fake.last_event.type, KHV_EVENT_NMI);
	CHECK_EQ(fake.last_event.pad, 0);
	CHECK_EQ(fake.last_event.reserved[0], 0);
	CHECK_EQ(fake.last_event.reserved[1], 0);

	fake.fail_errno = EBUSY;
	CHECK_EQ(khv_vcpu_inject_nmi(vcpu), -EBUSY);
}

static void fake_stats(struct khv_vcpu *vcpu)
{
	struct khv_exit_stat st[4];
	uint32_t n = 0;

	fake.stats_avail = 3;
	CHECK_EQ(khv_vcpu_get_exit_stats(vcpu, st, 4, &n), 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(st[0].kind, KHV_STAT_HW);
	CHECK_EQ(st[1].kind, KHV_STAT_USER);
	CHECK_EQ(st[2].count, 1002);
	CHECK_EQ(strlen(st[0].name), 31);	/* terminated by libkhv */
	CHECK_STR(st[1].name, "stat");

	CHECK_EQ(khv_vcpu_get_exit_stats(vcpu, st, 2, &n), -E2BIG);
	CHECK_EQ(n, 3);
}

static void fake_run(struct khv_vcpu *vcpu)
{
	CHECK_EQ(khv_vcpu_run(vcpu), 0);
	CHECK_EQ(fake.last_req, KHV_RUN);
	fake.fail_errno = EINTR;
	CHECK_EQ(khv_vcpu_run(vcpu), -EINTR);
}

void test_fake_device(void)
{
	struct khv_sys sys;
	struct khv_vm vm;
	struct khv_vcpu vcpu;
	int fds = t_count_fds();

	fake_reset();
	fake.enabled = 1;

	fake_open(&sys);
	CHECK_EQ(khv_vm_create(&sys, &vm), 0);
	CHECK(vm.fd >= 0);
	CHECK(vm.sys == &sys);
	fake_memory(&vm);
	fake_vcpu_failures(&vm);

	CHECK_EQ(khv_vcpu_create(&vm, 3, &vcpu), 0);
	CHECK_EQ(fake.last_vcpu_id, 3);
	CHECK_EQ(vcpu.id, 3);
	CHECK(vcpu.vm == &vm);
	CHECK(vcpu.fd >= 0);
	CHECK(vcpu.run != NULL);
	CHECK_EQ(vcpu.run_size, KHV_RUN_MMAP_SIZE);
	if (vcpu.run) {
		fake_io_data(&vcpu);
		fake_registers(&vcpu);
		fake_msrs(&vcpu);
		fake_cpuid(&sys, &vcpu);
		fake_events(&vcpu);
		fake_stats(&vcpu);
		fake_run(&vcpu);
	}

	khv_vcpu_destroy(&vcpu);
	CHECK_EQ(vcpu.fd, -1);
	CHECK(vcpu.run == NULL);
	khv_vm_destroy(&vm);
	CHECK_EQ(vm.fd, -1);
	khv_close(&sys);
	CHECK_EQ(sys.fd, -1);
	CHECK_EQ(t_count_fds(), fds);
	fake_reset();
}
