// SPDX-License-Identifier: LGPL-2.1-or-later
/* The fake /dev/khv behind the unit tests' own ioctl(); see fake_khv.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fake_khv.h"

struct fake_khv fake;

void fake_reset(void)
{
	memset(&fake, 0, sizeof(fake));
	fake.api_version = KHV_API_VERSION;
	fake.mmap_size = KHV_RUN_MMAP_SIZE;
	fake.last_vcpu_fd = -1;
}

static int fail(int err)
{
	errno = err;
	return -1;
}

static int fake_vcpu_fd(void)
{
	int fd;

	if (fake.vcpu_backing == FAKE_VCPU_DEVNULL)
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	fd = memfd_create("fake-khv-run", MFD_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, KHV_RUN_MMAP_SIZE)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Header + array answers: E2BIG with the needed count when nent is too small. */
static int fake_cpuid(struct khv_cpuid *c)
{
	uint32_t i;

	if (c->nent < fake.cpuid_avail) {
		c->nent = fake.cpuid_avail;
		return fail(E2BIG);
	}
	for (i = 0; i < fake.cpuid_avail; i++) {
		memset(&c->entries[i], 0, sizeof(c->entries[i]));
		c->entries[i].function = i;
		c->entries[i].eax = 100 + i;
	}
	c->nent = fake.cpuid_avail;
	return 0;
}

static int fake_stats(struct khv_exit_stats *s)
{
	uint32_t i;

	if (s->nent < fake.stats_avail) {
		s->nent = fake.stats_avail;
		return fail(E2BIG);
	}
	for (i = 0; i < fake.stats_avail; i++) {
		s->entries[i].kind = i & 1 ? KHV_STAT_USER : KHV_STAT_HW;
		s->entries[i].code = i;
		s->entries[i].count = 1000 + i;
		/* Entry 0 has no terminating NUL: libkhv must add one. */
		memset(s->entries[i].name, i ? 0 : 'x', sizeof(s->entries[i].name));
		if (i)
			memcpy(s->entries[i].name, "stat", 4);
	}
	s->nent = fake.stats_avail;
	return 0;
}

static int fake_msrs(unsigned long req, struct khv_msrs *m)
{
	fake.last_nmsrs = m->nmsrs;
	fake.last_msr = m->entries[0];
	if (req == KHV_GET_MSRS && fake.msrs_processed > 0)
		m->entries[0].data = fake.msr_value;
	return fake.msrs_processed;
}

static int fake_khv_ioctl(unsigned long req, void *arg)
{
	unsigned long val = (unsigned long)arg;

	if (fake.fail_errno) {
		int err = fake.fail_errno;

		fake.fail_errno = 0;
		return fail(err);
	}

	switch (req) {
	case KHV_GET_API_VERSION:
		return fake.api_version;
	case KHV_CHECK_EXTENSION:
		fake.last_cap = val;
		return fake.ext_value;
	case KHV_GET_VCPU_MMAP_SIZE:
		return fake.mmap_size;
	case KHV_CREATE_VM:
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	case KHV_CREATE_VCPU:
		fake.last_vcpu_id = val;
		fake.last_vcpu_fd = fake_vcpu_fd();
		return fake.last_vcpu_fd;
	case KHV_SET_USER_MEMORY_REGION:
		memcpy(&fake.last_region, arg, sizeof(fake.last_region));
		return 0;
	case KHV_RUN:
		return 0;
	case KHV_GET_REGS:
		memcpy(arg, &fake.regs, sizeof(fake.regs));
		return 0;
	case KHV_SET_REGS:
		memcpy(&fake.regs, arg, sizeof(fake.regs));
		return 0;
	case KHV_GET_SREGS:
		memcpy(arg, &fake.sregs, sizeof(fake.sregs));
		return 0;
	case KHV_SET_SREGS:
		memcpy(&fake.sregs, arg, sizeof(fake.sregs));
		return 0;
	case KHV_INJECT_EVENT:
		memcpy(&fake.last_event, arg, sizeof(fake.last_event));
		return 0;
	case KHV_GET_MSRS:
	case KHV_SET_MSRS:
		return fake_msrs(req, arg);
	case KHV_SET_CPUID: {
		struct khv_cpuid *c = arg;
		uint32_t n = c->nent < 4 ? c->nent : 4;

		fake.set_cpuid_nent = c->nent;
		memcpy(fake.set_cpuid, c->entries, n * sizeof(c->entries[0]));
		return 0;
	}
	case KHV_GET_CPUID:
	case KHV_GET_SUPPORTED_CPUID:
		return fake_cpuid(arg);
	case KHV_GET_EXIT_STATS:
		return fake_stats(arg);
	case KHV_GET_XSAVE:
		memset(arg, 0x5a, sizeof(struct khv_xsave));
		return 0;
	case KHV_SET_XSAVE:
		return 0;
	default:
		return fail(ENOTTY);
	}
}

/* Overrides libc's ioctl() for everything linked into the test binary. */
int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);

	if (_IOC_TYPE(req) == KHVIO) {
		fake.calls++;
		fake.last_req = req;
		if (fake.enabled)
			return fake_khv_ioctl(req, arg);
	}
	return (int)syscall(SYS_ioctl, fd, req, arg);
}
