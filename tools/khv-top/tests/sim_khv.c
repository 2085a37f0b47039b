// SPDX-License-Identifier: GPL-2.0
/* The simulated /dev/khv behind khv-top's tests (sim_khv.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sim_khv.h"

struct sim_state sim;

static const char *const sim_exits[] = { "svm_ioio", "svm_hlt", "svm_npf", "svm_cpuid" };
static const uint32_t sim_codes[] = { 0x7b, 0x78, 0x400, 0x72 };

static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int sim_err(int err)
{
	errno = err;
	return -1;
}

void sim_reset(void)
{
	unsigned int i, j;

	for (i = 0; i < sim.nvms; i++) {
		for (j = 0; j < sim.vms[i].nfds; j++)
			close(sim.vms[i].fds[j]);
		ki_free(&sim.vms[i].img);
	}
	memset(&sim, 0, sizeof(sim));
}

struct sim_vm *sim_add(uint32_t id, int32_t pid, const char *comm, uint32_t vcpus,
		       uint64_t age_ns)
{
	struct sim_vm *vm;
	uint64_t now = boot_ns();

	if (sim.nvms == SIM_MAX_VMS)
		abort();
	vm = &sim.vms[sim.nvms++];
	memset(vm, 0, sizeof(*vm));
	vm->id = id;
	vm->pid = pid;
	strncpy(vm->comm, comm, sizeof(vm->comm) - 1);
	vm->vcpus = vcpus;
	vm->created_ns = now > age_ns ? now - age_ns : 0;
	vm->born = 1;
	vm->step = 1;
	ki_init(&vm->img, id);
	ki_kernel_vm(&vm->img, SIM_TSC_KHZ, vcpus, sim_exits, sim_codes, 4);
	sim.enabled = true;
	return vm;
}

static bool listed_at(const struct sim_vm *vm, unsigned int tick)
{
	return tick >= vm->born && (!vm->gone || tick < vm->gone);
}

static bool listed(const struct sim_vm *vm)
{
	return listed_at(vm, sim.tick);
}

/* Writes vm's values into every file of it handed out. */
static void sim_publish(struct sim_vm *vm)
{
	size_t off = ki_data_offset(&vm->img);
	unsigned int i;

	for (i = 0; i < vm->nfds; i++)
		if (pwrite(vm->fds[i], vm->img.v, (size_t)vm->img.nv * 8, (off_t)off) < 0)
			abort();
}

static void sim_work(struct sim_vm *vm)
{
	struct ki *k = &vm->img;
	uint64_t now = boot_ns(), since = vm->last_ns ? vm->last_ns : vm->created_ns;
	uint64_t dt = (now > since ? now - since : 0) * vm->vcpus, s = vm->step;

	vm->last_ns = now;
	ki_exit(k, "svm_ioio", false, 1500, 100 * s);
	ki_exit(k, "svm_ioio", true, 3000, 10 * s);
	ki_exit(k, "svm_hlt", false, 100000, 5 * s);
	if (sim.tick >= 2)
		ki_exit(k, "svm_npf", false, 700, s);
	*ki_must(k, "user_exit/io") += 10 * s;
	*ki_must(k, "kernel/tlb_flush") += 3 * s;
	ki_set(k, "mmu/pages_pinned", 1000 + sim.tick);
	/* At 1 GHz, cycles are ns. */
	*ki_must(k, "time/guest") += dt / 2;
	*ki_must(k, "time/kernel") += dt / 5;
	*ki_must(k, "time/halt") += dt / 10;
	*ki_must(k, "time/user") += dt / 10;
}

static void sim_tick(void)
{
	unsigned int i;

	sim.tick++;
	for (i = 0; i < sim.nvms; i++) {
		struct sim_vm *vm = &sim.vms[i];

		if (sim.tick < vm->born)
			continue;
		if (vm->gone && sim.tick >= vm->gone)
			ki_set(&vm->img, "alive", 0);
		else
			sim_work(vm);
		sim_publish(vm);
	}
}

static int sim_get_vms(struct khv_vm_list *l)
{
	uint32_t n = 0, i;

	if (sim.list_errno)
		return sim_err(sim.list_errno);
	/* A call that only learns the size is no tick. */
	for (i = 0; i < sim.nvms; i++)
		n += listed_at(&sim.vms[i], sim.tick + 1);
	if (l->nent < n) {
		l->nent = n;
		return sim_err(E2BIG);
	}
	sim_tick();
	n = 0;
	for (i = 0; i < sim.nvms; i++) {
		const struct sim_vm *vm = &sim.vms[i];
		struct khv_vm_info *e;

		if (!listed(vm))
			continue;
		e = &l->entries[n++];
		memset(e, 0, sizeof(*e));
		e->vm_id = vm->id;
		e->pid = vm->pid;
		e->nr_vcpus = vm->vcpus;
		e->created_ns = vm->created_ns;
		memcpy(e->comm, vm->comm, sizeof(e->comm));
	}
	l->nent = n;
	return 0;
}

static int sim_open_stats(const struct khv_stats_open *o)
{
	unsigned char *img;
	struct sim_vm *vm = NULL;
	size_t len;
	unsigned int i;
	int fd, keep;

	sim.opens++;
	if (o->flags & ~KHV_STATS_OPEN_VCPU || o->pad || o->reserved[0] || o->reserved[1])
		return sim_err(EINVAL);
	for (i = 0; i < sim.nvms; i++)
		if (sim.vms[i].id == o->vm_id && listed(&sim.vms[i]))
			vm = &sim.vms[i];
	if (!vm)
		return sim_err(ESRCH);
	if (vm->open_errno)
		return sim_err(vm->open_errno);
	if (o->flags & KHV_STATS_OPEN_VCPU)
		return sim_err(ENOENT);	/* only VM files here */
	if (vm->nfds == SIM_MAX_FDS)
		return sim_err(EMFILE);
	fd = memfd_create("khv-sim-stats", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	img = ki_image(&vm->img, &len);
	if (vm->corrupt)
		img[0] ^= 0xff;
	if (write(fd, img, len) != (ssize_t)len) {
		free(img);
		close(fd);
		return sim_err(EIO);
	}
	free(img);
	keep = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (keep < 0) {
		close(fd);
		return -1;
	}
	vm->fds[vm->nfds++] = keep;
	return fd;
}

static int sim_ioctl(unsigned long req, void *arg)
{
	switch (req) {
	case KHV_GET_API_VERSION:
		return KHV_API_VERSION;
	case KHV_CHECK_EXTENSION:
		return (unsigned long)arg == KHV_CAP_STATS_FD && !sim.no_stats_cap ? 1 : 0;
	case KHV_GET_VMS:
		return sim_get_vms(arg);
	case KHV_OPEN_STATS:
		return sim_open_stats(arg);
	default:
		return sim_err(ENOTTY);
	}
}

void sim_default(const char *twist)
{
	struct sim_vm *vm;

	sim_reset();
	vm = sim_add(1, 4242, "khv-run", 2, 10000000000ull);
	vm->corrupt = twist && !strcmp(twist, "corrupt");
	vm = sim_add(2, 4243, "odd name\x01", 1, 5000000000ull);
	vm->gone = 3;
	vm = sim_add(3, 4244, "other-user", 1, 1000000000ull);
	vm->open_errno = EACCES;
	vm = sim_add(4, 4245, "vanishing", 1, 1000000000ull);
	vm->open_errno = ESRCH;
	vm = sim_add(5, 4242, "khv-run", 1, 0);
	vm->born = 2;
	sim.no_stats_cap = twist && !strcmp(twist, "nostats");
	sim.list_errno = twist && !strcmp(twist, "listfail") ? EIO : 0;
}

/* Replaces libc's ioctl() in the binary this is linked into. */
int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (sim.enabled && _IOC_TYPE(req) == KHVIO)
		return sim_ioctl(req, arg);
	return (int)syscall(SYS_ioctl, fd, req, arg);
}
