// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Argument checking: NULL handles give -EINVAL, closed handles -EBADF, bad
 * arguments on open handles -EINVAL, and none of them reaches the kernel
 * (the fake ioctl counts every khv ioctl, see fake_khv.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fake_khv.h"

static void null_handles(void)
{
	struct khv_cpuid_entry ce[1];
	struct khv_exit_stat st[1];
	struct khv_regs regs;
	struct khv_sregs sregs;
	struct khv_xsave xs;
	struct khv_vcpu vcpu;
	struct khv_vm vm;
	uint32_t n = 0;
	uint64_t v = 0;

	CHECK_EQ(khv_open(NULL, "/dev/null"), -EINVAL);
	CHECK_EQ(khv_check_extension(NULL, KHV_CAP_NR_VCPUS), -EINVAL);
	CHECK_EQ(khv_get_supported_cpuid(NULL, ce, 1, &n), -EINVAL);
	CHECK_EQ(khv_vm_create(NULL, &vm), -EINVAL);
	CHECK_EQ(vm.fd, -1);
	CHECK_EQ(khv_vm_set_memory(NULL, 0, 0, 0, 4096, ce), -EINVAL);
	CHECK_EQ(khv_vcpu_create(NULL, 0, &vcpu), -EINVAL);
	CHECK_EQ(vcpu.fd, -1);
	CHECK(vcpu.run == NULL);
	CHECK_EQ(khv_vcpu_run(NULL), -EINVAL);
	CHECK(khv_vcpu_io_data(NULL) == NULL);
	CHECK_EQ(khv_vcpu_get_regs(NULL, &regs), -EINVAL);
	CHECK_EQ(khv_vcpu_set_regs(NULL, &regs), -EINVAL);
	CHECK_EQ(khv_vcpu_get_sregs(NULL, &sregs), -EINVAL);
	CHECK_EQ(khv_vcpu_set_sregs(NULL, &sregs), -EINVAL);
	CHECK_EQ(khv_vcpu_get_xsave(NULL, &xs), -EINVAL);
	CHECK_EQ(khv_vcpu_set_xsave(NULL, &xs), -EINVAL);
	CHECK_EQ(khv_vcpu_get_msr(NULL, 0x10, &v), -EINVAL);
	CHECK_EQ(khv_vcpu_set_msr(NULL, 0x10, 0), -EINVAL);
	CHECK_EQ(khv_vcpu_set_cpuid(NULL, ce, 1), -EINVAL);
	CHECK_EQ(khv_vcpu_get_cpuid(NULL, ce, 1, &n), -EINVAL);
	CHECK_EQ(khv_vcpu_inject_exception(NULL, 13, 1, 0), -EINVAL);
	CHECK_EQ(khv_vcpu_inject_interrupt(NULL, 32), -EINVAL);
	CHECK_EQ(khv_vcpu_inject_nmi(NULL), -EINVAL);
	CHECK_EQ(khv_vcpu_get_exit_stats(NULL, st, 1, &n), -EINVAL);
	CHECK_EQ(khv_vm_create((struct khv_sys *)NULL, NULL), -EINVAL);

	/* Destructors accept NULL. */
	khv_close(NULL);
	khv_vm_destroy(NULL);
	khv_vcpu_destroy(NULL);
	khv_guest_mem_free(NULL, 0);
	CHECK(1);
}

static void closed_handles(void)
{
	struct khv_sys sys = { .fd = -1 };
	struct khv_vm vm = { .fd = -1, .sys = &sys };
	struct khv_vcpu vcpu = { .fd = -1, .vm = &vm };
	struct khv_cpuid_entry ce[1];
	struct khv_exit_stat st[1];
	struct khv_regs regs = { 0 };
	struct khv_sregs sregs = { 0 };
	static struct khv_xsave xs;
	uint32_t n = 0;
	uint64_t v = 0;

	CHECK_EQ(khv_check_extension(&sys, KHV_CAP_NR_VCPUS), -EBADF);
	CHECK_EQ(khv_get_supported_cpuid(&sys, ce, 1, &n), -EBADF);
	CHECK_EQ(khv_vm_create(&sys, &vm), -EBADF);
	CHECK_EQ(khv_vm_set_memory(&vm, 0, 0, 0, 4096, ce), -EBADF);
	CHECK_EQ(khv_vcpu_create(&vm, 0, &vcpu), -EBADF);
	CHECK_EQ(khv_vcpu_run(&vcpu), -EBADF);
	CHECK(khv_vcpu_io_data(&vcpu) == NULL);
	CHECK_EQ(khv_vcpu_get_regs(&vcpu, &regs), -EBADF);
	CHECK_EQ(khv_vcpu_set_regs(&vcpu, &regs), -EBADF);
	CHECK_EQ(khv_vcpu_get_sregs(&vcpu, &sregs), -EBADF);
	CHECK_EQ(khv_vcpu_set_sregs(&vcpu, &sregs), -EBADF);
	CHECK_EQ(khv_vcpu_get_xsave(&vcpu, &xs), -EBADF);
	CHECK_EQ(khv_vcpu_set_xsave(&vcpu, &xs), -EBADF);
	CHECK_EQ(khv_vcpu_get_msr(&vcpu, 0x10, &v), -EBADF);
	CHECK_EQ(khv_vcpu_set_msr(&vcpu, 0x10, 0), -EBADF);
	CHECK_EQ(khv_vcpu_set_cpuid(&vcpu, ce, 1), -EBADF);
	CHECK_EQ(khv_vcpu_get_cpuid(&vcpu, ce, 1, &n), -EBADF);
	CHECK_EQ(khv_vcpu_inject_exception(&vcpu, 13, 1, 0), -EBADF);
	CHECK_EQ(khv_vcpu_inject_interrupt(&vcpu, 32), -EBADF);
	CHECK_EQ(khv_vcpu_inject_nmi(&vcpu), -EBADF);
	CHECK_EQ(khv_vcpu_get_exit_stats(&vcpu, st, 1, &n), -EBADF);

	/* Closing twice is harmless and leaves the handles closed. */
	khv_close(&sys);
	khv_close(&sys);
	khv_vm_destroy(&vm);
	khv_vcpu_destroy(&vcpu);
	CHECK_EQ(sys.fd, -1);
	CHECK_EQ(vm.fd, -1);
	CHECK_EQ(vcpu.fd, -1);

	/* A VM whose system handle is gone cannot create vCPUs. */
	vm.fd = 0;
	vm.sys = NULL;
	CHECK_EQ(khv_vcpu_create(&vm, 0, &vcpu), -EINVAL);
	vm.sys = &sys;
	CHECK_EQ(khv_vcpu_create(&vm, 0, &vcpu), -EBADF);
}

/* Handles on a real fd (/dev/null): only the arguments are wrong. */
static void bad_arguments(int fd)
{
	struct khv_sys sys = { .fd = fd };
	struct khv_vm vm = { .fd = fd, .sys = &sys };
	struct khv_vcpu vcpu = { .fd = fd, .vm = &vm };
	struct khv_cpuid_entry ce[1];
	struct khv_exit_stat st[1];
	static _Alignas(4096) char page[8192];
	uint32_t n = 0;

	CHECK_EQ(khv_vm_set_memory(&vm, 0, 0, 0, 4096, NULL), -EINVAL);
	CHECK_EQ(khv_vm_set_memory(&vm, 0, 0, 0x800, 4096, page), -EINVAL);
	CHECK_EQ(khv_vm_set_memory(&vm, 0, 0, 0, 4095, page), -EINVAL);
	CHECK_EQ(khv_vm_set_memory(&vm, 0, 0, 0, 4096, page + 1), -EINVAL);
	CHECK_EQ(khv_vm_set_memory(&vm, 0, 1u << 5, 0, 4096, page), -EINVAL);
	CHECK_EQ(khv_vm_set_memory(&vm, KHV_MAX_MEMSLOTS, 0, 0, 4096, page), -EINVAL);
	CHECK_EQ(khv_vm_set_memory(&vm, 0, 0, ~0xfffull, 8192, page), -EINVAL);

	CHECK_EQ(khv_vm_create(&sys, NULL), -EINVAL);
	CHECK_EQ(khv_vcpu_create(&vm, 0, NULL), -EINVAL);
	CHECK_EQ(khv_vcpu_get_regs(&vcpu, NULL), -EINVAL);
	CHECK_EQ(khv_vcpu_set_regs(&vcpu, NULL), -EINVAL);
	CHECK_EQ(khv_vcpu_get_sregs(&vcpu, NULL), -EINVAL);
	CHECK_EQ(khv_vcpu_set_sregs(&vcpu, NULL), -EINVAL);
	CHECK_EQ(khv_vcpu_get_xsave(&vcpu, NULL), -EINVAL);
	CHECK_EQ(khv_vcpu_set_xsave(&vcpu, NULL), -EINVAL);
	CHECK_EQ(khv_vcpu_get_msr(&vcpu, 0x10, NULL), -EINVAL);
	CHECK_EQ(khv_vcpu_set_cpuid(&vcpu, NULL, 1), -EINVAL);
	CHECK_EQ(khv_vcpu_set_cpuid(&vcpu, ce, KHV_MAX_CPUID_ENTRIES + 1), -E2BIG);
	CHECK_EQ(khv_get_supported_cpuid(&sys, ce, 1, NULL), -EINVAL);
	CHECK_EQ(khv_get_supported_cpuid(&sys, NULL, 1, &n), -EINVAL);
	CHECK_EQ(khv_vcpu_get_cpuid(&vcpu, ce, 1, NULL), -EINVAL);
	CHECK_EQ(khv_vcpu_get_cpuid(&vcpu, NULL, 1, &n), -EINVAL);
	CHECK_EQ(khv_vcpu_get_exit_stats(&vcpu, st, 1, NULL), -EINVAL);
	CHECK_EQ(khv_vcpu_get_exit_stats(&vcpu, NULL, 1, &n), -EINVAL);
	CHECK_EQ(khv_vcpu_inject_exception(&vcpu, 2, 0, 0), -EINVAL);
	CHECK_EQ(khv_vcpu_inject_exception(&vcpu, 32, 0, 0), -EINVAL);
	CHECK_EQ(khv_vcpu_inject_exception(&vcpu, 255, 0, 0), -EINVAL);
	CHECK_EQ(khv_vcpu_inject_interrupt(&vcpu, 0), -EINVAL);
	CHECK_EQ(khv_vcpu_inject_interrupt(&vcpu, 15), -EINVAL);

	/* No run page mapped: no I/O data pointer. */
	CHECK(khv_vcpu_io_data(&vcpu) == NULL);
	CHECK(khv_guest_mem_alloc(0) == NULL);
}

void test_args(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	fake_reset();
	null_handles();
	closed_handles();
	CHECK(fd >= 0);
	if (fd >= 0) {
		bad_arguments(fd);
		close(fd);
	}
	/* Not a single one of the calls above may have reached the kernel. */
	CHECK_EQ(fake.calls, 0);
}
