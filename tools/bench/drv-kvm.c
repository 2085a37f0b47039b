// SPDX-License-Identifier: GPL-2.0
/*
 * khv-bench driver for /dev/kvm: the same VM as the khv driver (one slot,
 * one vCPU in real mode), made with the raw KVM ioctls.  No in-kernel
 * irqchip, PIT or CPUID table: CPUID is still answered inside kvm.ko, and
 * every port access and HLT comes out to us, as with khv.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "bench.h"

#define KVM_DEFAULT_DEVICE	"/dev/kvm"
/*
 * Where VMX keeps the real-mode TSS when it has no unrestricted guest
 * (three pages just under the BIOS, outside our RAM slot).  A no-op on SVM;
 * set so that the same program also runs on kvm-intel.
 */
#define KVM_BENCH_TSS_ADDR	0xfffbd000ul

struct kvm_ctx {
	int sys_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
};

static void kvm_drv_close(void *p)
{
	struct kvm_ctx *c = p;

	if (!c)
		return;
	if (c->run)
		munmap(c->run, c->run_size);
	if (c->vcpu_fd >= 0)
		close(c->vcpu_fd);
	if (c->vm_fd >= 0)
		close(c->vm_fd);
	if (c->sys_fd >= 0)
		close(c->sys_fd);
	free(c);
}

static int kvm_fail(struct kvm_ctx *c, const char *what)
{
	int err = errno ? -errno : -EIO;

	fprintf(stderr, "khv-bench: kvm: %s: %s\n", what, strerror(-err));
	kvm_drv_close(c);
	return err;
}

static int kvm_drv_open(void **ctx, const char *device, void *mem, size_t size)
{
	struct kvm_userspace_memory_region slot;
	struct kvm_sregs sregs;
	struct kvm_ctx *c;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->vm_fd = -1;
	c->vcpu_fd = -1;

	if (!device)
		device = KVM_DEFAULT_DEVICE;
	c->sys_fd = open(device, O_RDWR | O_CLOEXEC);
	if (c->sys_fd < 0)
		return kvm_fail(c, device);
	ret = ioctl(c->sys_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION) {
		fprintf(stderr, "khv-bench: kvm: API version %d, want %d\n", ret,
			KVM_API_VERSION);
		kvm_drv_close(c);
		return -EPROTO;
	}
	c->vm_fd = ioctl(c->sys_fd, KVM_CREATE_VM, 0);
	if (c->vm_fd < 0)
		return kvm_fail(c, "KVM_CREATE_VM");
	if (ioctl(c->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0 &&
	    ioctl(c->vm_fd, KVM_SET_TSS_ADDR, KVM_BENCH_TSS_ADDR) < 0)
		return kvm_fail(c, "KVM_SET_TSS_ADDR");

	memset(&slot, 0, sizeof(slot));
	slot.slot = 0;
	slot.guest_phys_addr = 0;
	slot.memory_size = size;
	slot.userspace_addr = (uintptr_t)mem;
	if (ioctl(c->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return kvm_fail(c, "KVM_SET_USER_MEMORY_REGION");

	c->vcpu_fd = ioctl(c->vm_fd, KVM_CREATE_VCPU, 0);
	if (c->vcpu_fd < 0)
		return kvm_fail(c, "KVM_CREATE_VCPU");
	ret = ioctl(c->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret >= 0 && ret < (int)sizeof(struct kvm_run))
		errno = EPROTO;
	if (ret < (int)sizeof(struct kvm_run))
		return kvm_fail(c, "KVM_GET_VCPU_MMAP_SIZE");
	c->run_size = (size_t)ret;
	c->run = mmap(NULL, c->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->vcpu_fd, 0);
	if (c->run == MAP_FAILED) {
		c->run = NULL;
		return kvm_fail(c, "mmap of the vCPU");
	}

	/*
	 * A new vCPU is at RESET: real mode, CS = f000 with base ffff0000.
	 * Only CS needs to move to the payload's segment (base 0); the data
	 * segments already have base 0.
	 */
	if (ioctl(c->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return kvm_fail(c, "KVM_GET_SREGS");
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	if (ioctl(c->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return kvm_fail(c, "KVM_SET_SREGS");
	*ctx = c;
	return 0;
}

static int kvm_drv_set_entry(void *p, uint64_t rip, uint64_t rsi)
{
	struct kvm_ctx *c = p;
	struct kvm_regs regs;

	memset(&regs, 0, sizeof(regs));
	regs.rip = rip;
	regs.rsi = rsi;
	regs.rflags = 2;	/* bit 1 is reserved and reads as 1 */
	if (ioctl(c->vcpu_fd, KVM_SET_REGS, &regs) < 0) {
		fprintf(stderr, "khv-bench: kvm: KVM_SET_REGS: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

static int kvm_drv_run(void *p, struct bench_exit *x)
{
	struct kvm_ctx *c = p;
	struct kvm_run *run = c->run;
	int ret;

	do
		ret = ioctl(c->vcpu_fd, KVM_RUN, 0);
	while (ret < 0 && errno == EINTR);
	if (ret < 0) {
		fprintf(stderr, "khv-bench: kvm: KVM_RUN: %s\n", strerror(errno));
		return -errno;
	}

	memset(x, 0, sizeof(*x));
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		if (run->io.direction == KVM_EXIT_IO_OUT) {
			x->kind = BENCH_EXIT_OUT;
			x->port = run->io.port;
			x->size = run->io.size;
			x->count = run->io.count;
			return 0;
		}
		snprintf(x->what, sizeof(x->what), "IO in from port %#x", run->io.port);
		break;
	case KVM_EXIT_HLT:
		x->kind = BENCH_EXIT_HLT;
		return 0;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(x->what, sizeof(x->what), "FAIL_ENTRY reason %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(x->what, sizeof(x->what), "INTERNAL_ERROR suberror %u",
			 run->internal.suberror);
		break;
	case KVM_EXIT_SHUTDOWN:
		snprintf(x->what, sizeof(x->what), "SHUTDOWN (triple fault)");
		break;
	default:
		snprintf(x->what, sizeof(x->what), "exit reason %u", run->exit_reason);
		break;
	}
	x->kind = BENCH_EXIT_OTHER;
	return 0;
}

/*
 * The vCPU's counters from KVM's binary statistics (a header, then one
 * descriptor per counter each followed by its name, then the values at
 * data_offset + descriptor offset).  Only the cumulative ones that are
 * non-zero, to mirror what KHV_GET_EXIT_STATS reports.
 */
static void kvm_drv_stats(void *p, FILE *out)
{
	struct kvm_ctx *c = p;
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	size_t dsize;
	char *descs = NULL;
	uint64_t v;
	uint32_t i;
	int fd;

	fd = ioctl(c->vcpu_fd, KVM_GET_STATS_FD, 0);
	if (fd < 0) {
		fprintf(out, "khv-bench: kvm: statistics unavailable: %s\n", strerror(errno));
		return;
	}
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		goto bad;
	dsize = sizeof(*d) + h.name_size;
	descs = calloc(h.num_desc, dsize);
	if (!descs)
		goto bad;
	if (pread(fd, descs, h.num_desc * dsize, h.desc_offset) != (ssize_t)(h.num_desc * dsize))
		goto bad;
	for (i = 0; i < h.num_desc; i++) {
		d = (struct kvm_stats_desc *)(descs + i * dsize);
		if ((d->flags & KVM_STATS_TYPE_MASK) != KVM_STATS_TYPE_CUMULATIVE || d->size != 1)
			continue;
		if (pread(fd, &v, sizeof(v), h.data_offset + d->offset) != (ssize_t)sizeof(v))
			goto bad;
		d->name[h.name_size - 1] = '\0';
		if (v)
			fprintf(out, "khv-bench: kvm: %-29s %llu\n", d->name,
				(unsigned long long)v);
	}
	free(descs);
	close(fd);
	return;
bad:
	fprintf(out, "khv-bench: kvm: short read of the statistics\n");
	free(descs);
	close(fd);
}

const struct bench_driver bench_driver_kvm = {
	.name = "kvm",
	.open = kvm_drv_open,
	.set_entry = kvm_drv_set_entry,
	.run = kvm_drv_run,
	.stats = kvm_drv_stats,
	.close = kvm_drv_close,
};
