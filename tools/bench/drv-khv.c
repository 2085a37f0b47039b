// SPDX-License-Identifier: GPL-2.0
/* khv-bench driver for /dev/khv, through libkhv. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libkhv.h>

#include "bench.h"

struct khv_ctx {
	struct khv_sys sys;
	struct khv_vm vm;
	struct khv_vcpu vcpu[BENCH_MAX_VCPUS];
	unsigned int nvcpus;		/* created so far */
	int have_sys, have_vm;
	uint64_t log_pages[2];		/* the logged slots' pages */
};

static void khv_drv_close(void *p)
{
	struct khv_ctx *c = p;

	if (!c)
		return;
	while (c->nvcpus)
		khv_vcpu_destroy(&c->vcpu[--c->nvcpus]);
	if (c->have_vm)
		khv_vm_destroy(&c->vm);
	if (c->have_sys)
		khv_close(&c->sys);
	free(c);
}

static int khv_fail(struct khv_ctx *c, const char *what, int err)
{
	fprintf(stderr, "khv-bench: khv: %s: %s (%s)\n", what, strerror(-err),
		khv_strerror(err));
	khv_drv_close(c);
	return err;
}

/*
 * vCPU id in real mode with CS = 0.  With the irqchip every vCPU but 0
 * starts UNINITIALIZED (an AP waiting for INIT/SIPI): make it RUNNABLE.
 */
static int khv_add_vcpu(struct khv_ctx *c, uint32_t id)
{
	struct khv_vcpu *v = &c->vcpu[id];
	struct khv_sregs sregs;
	int ret;

	ret = khv_vcpu_create(&c->vm, id, v);
	if (ret)
		return khv_fail(c, "KHV_CREATE_VCPU", ret);
	c->nvcpus++;
	/* GET first: the real-mode helper keeps the vCPU's APIC base. */
	ret = khv_vcpu_get_sregs(v, &sregs);
	if (ret)
		return khv_fail(c, "KHV_GET_SREGS", ret);
	khv_sregs_real_mode(&sregs, 0);
	ret = khv_vcpu_set_sregs(v, &sregs);
	if (ret)
		return khv_fail(c, "KHV_SET_SREGS", ret);
	if (id) {
		ret = khv_vcpu_set_mp_state(v, KHV_MP_STATE_RUNNABLE);
		if (ret)
			return khv_fail(c, "KHV_SET_MP_STATE", ret);
	}
	return 0;
}

static int khv_drv_open(void **ctx, const char *device, void *mem, size_t size,
			const struct bench_vm_config *cfg)
{
	struct khv_ctx *c;
	uint32_t id, n = cfg->irqchip ? BENCH_MAX_VCPUS : 1;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	ret = khv_open(&c->sys, device);
	if (ret)
		return khv_fail(c, device ? device : "open " LIBKHV_DEFAULT_DEVICE, ret);
	c->have_sys = 1;
	ret = khv_vm_create(&c->sys, &c->vm);
	if (ret)
		return khv_fail(c, "KHV_CREATE_VM", ret);
	c->have_vm = 1;
	ret = khv_vm_set_memory(&c->vm, 0, 0, 0, size, mem);
	if (ret)
		return khv_fail(c, "KHV_SET_USER_MEMORY_REGION", ret);
	/*
	 * The irqchip before any vCPU.  khv's default CPUID then offers x2APIC
	 * and the TSC-deadline timer (core/cpuid.c); the guest checks.
	 */
	if (cfg->irqchip) {
		ret = khv_vm_create_irqchip(&c->vm);
		if (ret)
			return khv_fail(c, "KHV_CREATE_IRQCHIP", ret);
	}
	for (id = 0; id < n; id++) {
		ret = khv_add_vcpu(c, id);
		if (ret)
			return ret;	/* c is freed */
	}
	*ctx = c;
	return 0;
}

/* The logged slots: 1 and 2 (0 is the RAM). */
#define KHV_BENCH_LOG_SLOT(idx)	(1 + (idx))

static int khv_drv_log_slot(void *p, int idx, uint64_t gpa, void *mem, size_t size)
{
	struct khv_ctx *c = p;
	int ret;

	ret = khv_vm_set_memory(&c->vm, KHV_BENCH_LOG_SLOT(idx), KHV_MEM_LOG_DIRTY, gpa, size,
				mem);
	if (ret)
		fprintf(stderr, "khv-bench: khv: KHV_SET_USER_MEMORY_REGION (dirty log): %s\n",
			strerror(-ret));
	c->log_pages[idx] = size / 4096;
	return ret;
}

static int khv_drv_get_log(void *p, int idx, uint64_t *bitmap)
{
	struct khv_ctx *c = p;
	int ret = khv_vm_get_dirty_log(&c->vm, KHV_BENCH_LOG_SLOT(idx), 0, 0, c->log_pages[idx],
					  bitmap);

	if (ret < 0)
		fprintf(stderr, "khv-bench: khv: KHV_GET_DIRTY_LOG: %s\n", strerror(-ret));
	return ret;
}

static int khv_drv_set_entry(void *p, unsigned int vcpu, uint64_t rip, uint64_t rsi,
			     uint64_t rsp)
{
	struct khv_ctx *c = p;
	struct khv_regs regs;
	int ret;

	memset(&regs, 0, sizeof(regs));
	regs.rip = rip;
	regs.rsi = rsi;
	regs.rsp = rsp;
	regs.rflags = 2;	/* bit 1 is reserved and reads as 1 */
	ret = khv_vcpu_set_regs(&c->vcpu[vcpu], &regs);
	if (ret)
		fprintf(stderr, "khv-bench: khv: KHV_SET_REGS: %s\n", strerror(-ret));
	return ret;
}

static int khv_drv_run(void *p, unsigned int vcpu, struct bench_exit *x)
{
	struct khv_ctx *c = p;
	struct khv_run *run = c->vcpu[vcpu].run;
	int ret;

	do
		ret = khv_vcpu_run(&c->vcpu[vcpu]);
	while (ret == -EINTR);
	if (ret) {
		fprintf(stderr, "khv-bench: khv: KHV_RUN: %s (%s)\n", strerror(-ret),
			khv_strerror(ret));
		return ret;
	}

	memset(x, 0, sizeof(*x));
	switch (run->exit_reason) {
	case KHV_EXIT_IO:
		if (run->io.direction == KHV_EXIT_IO_OUT) {
			x->kind = BENCH_EXIT_OUT;
			x->port = run->io.port;
			x->size = run->io.size;
			x->count = run->io.count;
			return 0;
		}
		snprintf(x->what, sizeof(x->what), "IO in from port %#x", run->io.port);
		break;
	case KHV_EXIT_HLT:
		x->kind = BENCH_EXIT_HLT;
		return 0;
	case KHV_EXIT_FAIL_ENTRY:
		snprintf(x->what, sizeof(x->what), "FAIL_ENTRY reason %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KHV_EXIT_INTERNAL_ERROR:
		snprintf(x->what, sizeof(x->what), "INTERNAL_ERROR %s, data %#llx %#llx",
			 khv_internal_error_name(run->internal.suberror),
			 (unsigned long long)run->internal.data[0],
			 (unsigned long long)run->internal.data[1]);
		break;
	default:
		snprintf(x->what, sizeof(x->what), "%s (hardware exit %#x)",
			 khv_exit_reason_name(run->exit_reason), run->hw_exit_reason);
		break;
	}
	x->kind = BENCH_EXIT_OTHER;
	return 0;
}

static int khv_drv_msi_irqfd(void *p, int fd, uint64_t address, uint32_t data)
{
	struct khv_ctx *c = p;
	struct khv_irqfd f;
	int ret;

	memset(&f, 0, sizeof(f));
	f.fd = fd;
	f.flags = KHV_IRQFD_MSI;
	f.msi_address = address;
	f.msi_data = data;
	ret = khv_vm_irqfd(&c->vm, &f);
	if (ret)
		fprintf(stderr, "khv-bench: khv: KHV_IRQFD: %s\n", strerror(-ret));
	return ret;
}

static int khv_drv_pio_ioeventfd(void *p, int fd, uint16_t port)
{
	struct khv_ctx *c = p;
	struct khv_ioeventfd e;
	int ret;

	memset(&e, 0, sizeof(e));
	e.fd = fd;
	e.addr = port;
	e.len = 1;
	e.flags = KHV_IOEVENTFD_PIO;
	ret = khv_vm_ioeventfd(&c->vm, &e);
	if (ret)
		fprintf(stderr, "khv-bench: khv: KHV_IOEVENTFD: %s\n", strerror(-ret));
	return ret;
}

static void khv_drv_stats(void *p, FILE *out)
{
	struct khv_ctx *c = p;
	struct khv_exit_stat st[KHV_MAX_EXIT_STATS];
	uint32_t n, i, v;
	int ret;

	for (v = 0; v < c->nvcpus; v++) {
		n = 0;
		ret = khv_vcpu_get_exit_stats(&c->vcpu[v], st, KHV_MAX_EXIT_STATS, &n);
		if (ret) {
			fprintf(out, "khv-bench: khv: exit statistics unavailable: %s\n",
				strerror(-ret));
			return;
		}
		for (i = 0; i < n; i++)
			fprintf(out, "khv-bench: khv: vcpu%u %-4s %-24.32s %llu\n", v,
				st[i].kind == KHV_STAT_HW ? "hw" :
				st[i].kind == KHV_STAT_USER ? "user" : "kern", st[i].name,
				(unsigned long long)st[i].count);
	}
}

const struct bench_driver bench_driver_khv = {
	.name = "khv",
	.open = khv_drv_open,
	.set_entry = khv_drv_set_entry,
	.run = khv_drv_run,
	.msi_irqfd = khv_drv_msi_irqfd,
	.pio_ioeventfd = khv_drv_pio_ioeventfd,
	.log_slot = khv_drv_log_slot,
	.get_log = khv_drv_get_log,
	.stats = khv_drv_stats,
	.close = khv_drv_close,
};
