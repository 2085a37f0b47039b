// SPDX-License-Identifier: GPL-2.0
/*
 * khv-bench driver for /dev/kvm: the same VMs as the khv driver (one slot,
 * vCPUs in real mode), made with the raw KVM ioctls; the ioctl numbers and
 * structures are the system's <linux/kvm.h>.  The exit loops' VM has no
 * in-kernel irqchip, PIT or CPUID table: CPUID is still answered inside
 * kvm.ko, and every port access and HLT comes out to us, as with khv.  The
 * interrupt loops' VM has KVM_CREATE_IRQCHIP (local APICs, IOAPIC, PIC; no
 * PIT), two vCPUs, and the CPUID KVM supports with the TSC-deadline bit
 * added, as a VMM does when KVM_CAP_TSC_DEADLINE_TIMER says it may.
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
/* The one GSI of the routing table: the msi loop's MSI. */
#define KVM_BENCH_MSI_GSI	24
#define KVM_BENCH_MAX_CPUID	256
#define CPUID1_ECX_TSC_DEADLINE	(1u << 24)

struct kvm_ctx {
	int sys_fd, vm_fd;
	int vcpu_fd[BENCH_MAX_VCPUS];
	struct kvm_run *run[BENCH_MAX_VCPUS];
	unsigned int nvcpus;		/* created so far */
	size_t run_size;
	uint64_t log_pages[2];		/* the logged slots' pages */
};

static void kvm_drv_close(void *p)
{
	struct kvm_ctx *c = p;
	unsigned int i;

	if (!c)
		return;
	for (i = 0; i < c->nvcpus; i++) {
		if (c->run[i])
			munmap(c->run[i], c->run_size);
		close(c->vcpu_fd[i]);
	}
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

/*
 * The CPUID KVM supports, with the TSC-deadline timer when KVM emulates it
 * (KVM_GET_SUPPORTED_CPUID leaves that bit to the VMM), so that the guest
 * finds x2APIC and TSC deadline as it does under khv's irqchip.
 */
static int kvm_set_cpuid(struct kvm_ctx *c, int vcpu_fd)
{
	struct kvm_cpuid2 *cpuid;
	uint32_t i;
	int ret = 0;

	cpuid = calloc(1, sizeof(*cpuid) + KVM_BENCH_MAX_CPUID * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = KVM_BENCH_MAX_CPUID;
	if (ioctl(c->sys_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
		ret = -errno;
		fprintf(stderr, "khv-bench: kvm: KVM_GET_SUPPORTED_CPUID: %s\n", strerror(errno));
		goto out;
	}
	if (ioctl(c->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
		for (i = 0; i < cpuid->nent; i++)
			if (cpuid->entries[i].function == 1)
				cpuid->entries[i].ecx |= CPUID1_ECX_TSC_DEADLINE;
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid) < 0) {
		ret = -errno;
		fprintf(stderr, "khv-bench: kvm: KVM_SET_CPUID2: %s\n", strerror(errno));
	}
out:
	free(cpuid);
	return ret;
}

/*
 * vCPU id, its kvm_run mapped, in real mode with CS = 0.  In an irqchip VM
 * also its CPUID, and every vCPU but 0 (an AP, UNINITIALIZED until INIT
 * and SIPI) made RUNNABLE.  On failure c is freed.
 */
static int kvm_add_vcpu(struct kvm_ctx *c, unsigned int id, int irqchip)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct kvm_sregs sregs;
	int fd, ret;

	fd = ioctl(c->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (fd < 0)
		return kvm_fail(c, "KVM_CREATE_VCPU");
	c->vcpu_fd[id] = fd;
	c->nvcpus++;
	ret = ioctl(c->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret >= 0 && ret < (int)sizeof(struct kvm_run))
		errno = EPROTO;
	if (ret < (int)sizeof(struct kvm_run))
		return kvm_fail(c, "KVM_GET_VCPU_MMAP_SIZE");
	c->run_size = (size_t)ret;
	c->run[id] = mmap(NULL, c->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (c->run[id] == MAP_FAILED) {
		c->run[id] = NULL;
		return kvm_fail(c, "mmap of the vCPU");
	}

	/*
	 * A new vCPU is at RESET: real mode, CS = f000 with base ffff0000.
	 * Only CS needs to move to the payload's segment (base 0); the data
	 * segments already have base 0.
	 */
	if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0)
		return kvm_fail(c, "KVM_GET_SREGS");
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0)
		return kvm_fail(c, "KVM_SET_SREGS");
	if (!irqchip)
		return 0;
	ret = kvm_set_cpuid(c, fd);
	if (ret) {
		kvm_drv_close(c);
		return ret;
	}
	if (id && ioctl(fd, KVM_SET_MP_STATE, &mp) < 0)
		return kvm_fail(c, "KVM_SET_MP_STATE");
	return 0;
}

static int kvm_drv_open(void **ctx, const char *device, void *mem, size_t size,
			const struct bench_vm_config *cfg)
{
	struct kvm_userspace_memory_region slot;
	unsigned int id, n = cfg->irqchip ? BENCH_MAX_VCPUS : 1;
	struct kvm_ctx *c;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->vm_fd = -1;

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

	/* Before any vCPU, which then gets a local APIC. */
	if (cfg->irqchip && ioctl(c->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return kvm_fail(c, "KVM_CREATE_IRQCHIP");
	for (id = 0; id < n; id++) {
		ret = kvm_add_vcpu(c, id, cfg->irqchip);
		if (ret)
			return ret;	/* c is freed */
	}
	*ctx = c;
	return 0;
}

static int kvm_drv_set_entry(void *p, unsigned int vcpu, uint64_t rip, uint64_t rsi,
			     uint64_t rsp)
{
	struct kvm_ctx *c = p;
	struct kvm_regs regs;

	memset(&regs, 0, sizeof(regs));
	regs.rip = rip;
	regs.rsi = rsi;
	regs.rsp = rsp;
	regs.rflags = 2;	/* bit 1 is reserved and reads as 1 */
	if (ioctl(c->vcpu_fd[vcpu], KVM_SET_REGS, &regs) < 0) {
		fprintf(stderr, "khv-bench: kvm: KVM_SET_REGS: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

static int kvm_drv_run(void *p, unsigned int vcpu, struct bench_exit *x)
{
	struct kvm_ctx *c = p;
	struct kvm_run *run = c->run[vcpu];
	int ret;

	do
		ret = ioctl(c->vcpu_fd[vcpu], KVM_RUN, 0);
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
static void kvm_vcpu_stats(struct kvm_ctx *c, unsigned int vcpu, FILE *out)
{
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	size_t dsize;
	char *descs = NULL;
	uint64_t v;
	uint32_t i;
	int fd;

	fd = ioctl(c->vcpu_fd[vcpu], KVM_GET_STATS_FD, 0);
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
			fprintf(out, "khv-bench: kvm: vcpu%u %-29s %llu\n", vcpu, d->name,
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

static void kvm_drv_stats(void *p, FILE *out)
{
	struct kvm_ctx *c = p;
	unsigned int i;

	for (i = 0; i < c->nvcpus; i++)
		kvm_vcpu_stats(c, i, out);
}

/*
 * An irqfd needs a GSI, and an MSI GSI a routing entry.  KVM_SET_GSI_ROUTING
 * replaces the whole table (the IOAPIC and PIC pins included), which is
 * fine here: nothing else in the bench VM raises a line.
 */
static int kvm_drv_msi_irqfd(void *p, int fd, uint64_t address, uint32_t data)
{
	struct kvm_ctx *c = p;
	struct kvm_irq_routing *r;
	struct kvm_irqfd f;
	int ret;

	r = calloc(1, sizeof(*r) + sizeof(r->entries[0]));
	if (!r)
		return -ENOMEM;
	r->nr = 1;
	r->entries[0].gsi = KVM_BENCH_MSI_GSI;
	r->entries[0].type = KVM_IRQ_ROUTING_MSI;
	r->entries[0].u.msi.address_lo = (uint32_t)address;
	r->entries[0].u.msi.address_hi = (uint32_t)(address >> 32);
	r->entries[0].u.msi.data = data;
	ret = ioctl(c->vm_fd, KVM_SET_GSI_ROUTING, r);
	free(r);
	if (ret < 0) {
		fprintf(stderr, "khv-bench: kvm: KVM_SET_GSI_ROUTING: %s\n", strerror(errno));
		return -errno;
	}
	memset(&f, 0, sizeof(f));
	f.fd = (uint32_t)fd;
	f.gsi = KVM_BENCH_MSI_GSI;
	if (ioctl(c->vm_fd, KVM_IRQFD, &f) < 0) {
		fprintf(stderr, "khv-bench: kvm: KVM_IRQFD: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

static int kvm_drv_pio_ioeventfd(void *p, int fd, uint16_t port)
{
	struct kvm_ctx *c = p;
	struct kvm_ioeventfd e;

	memset(&e, 0, sizeof(e));
	e.fd = fd;
	e.addr = port;
	e.len = 1;
	e.flags = KVM_IOEVENTFD_FLAG_PIO;
	if (ioctl(c->vm_fd, KVM_IOEVENTFD, &e) < 0) {
		fprintf(stderr, "khv-bench: kvm: KVM_IOEVENTFD: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

/* The logged slots: 1 and 2 (0 is the RAM). */
#define KVM_BENCH_LOG_SLOT(idx)	(1 + (idx))

static int kvm_drv_log_slot(void *p, int idx, uint64_t gpa, void *mem, size_t size)
{
	struct kvm_userspace_memory_region slot = {
		.slot = KVM_BENCH_LOG_SLOT(idx),
		.flags = KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)mem,
	};
	struct kvm_ctx *c = p;

	if (ioctl(c->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
		fprintf(stderr, "khv-bench: kvm: KVM_SET_USER_MEMORY_REGION (dirty log): %s\n",
			strerror(errno));
		return -errno;
	}
	c->log_pages[idx] = size / 4096;
	return 0;
}

/* KVM_GET_DIRTY_LOG copies and clears the slot's whole bitmap; count it here. */
static int kvm_drv_get_log(void *p, int idx, uint64_t *bitmap)
{
	struct kvm_dirty_log log = { .slot = KVM_BENCH_LOG_SLOT(idx), .dirty_bitmap = bitmap };
	struct kvm_ctx *c = p;
	uint64_t i;
	int n = 0;

	if (ioctl(c->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
		fprintf(stderr, "khv-bench: kvm: KVM_GET_DIRTY_LOG: %s\n", strerror(errno));
		return -errno;
	}
	for (i = 0; i < (c->log_pages[idx] + 63) / 64; i++)
		n += __builtin_popcountll(bitmap[i]);
	return n;
}

const struct bench_driver bench_driver_kvm = {
	.name = "kvm",
	.open = kvm_drv_open,
	.set_entry = kvm_drv_set_entry,
	.run = kvm_drv_run,
	.msi_irqfd = kvm_drv_msi_irqfd,
	.pio_ioeventfd = kvm_drv_pio_ioeventfd,
	.log_slot = kvm_drv_log_slot,
	.get_log = kvm_drv_get_log,
	.stats = kvm_drv_stats,
	.close = kvm_drv_close,
};
