// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl_errors: every ioctl with bad arguments fails with its documented
 * errno, and nothing it is fed breaks the module.  The table of expected
 * errnos is Documentation/khv/selftests.rst; each TEST_F below is one row
 * group of it.  Raw ioctl() throughout: libkhv would hide the errno.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(ioctl_hlt);
KHVT_DECLARE_PAYLOAD(ioctl_read_slot1);
extern const uint8_t ioctl_hlt_done[];

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "?";
}

/* call must fail with errno err. */
#define EXPECT_ERRNO(err, call) do {						\
	long __r;								\
	int __e;								\
	errno = 0;								\
	__r = (long)(call);							\
	__e = errno;								\
	if (__r != -1) {							\
		TH_LOG("%s returned %ld, expected -1 with %s", #call, __r,	\
		       ename(err));						\
		EXPECT_EQ(-1L, __r);						\
	} else {								\
		EXPECT_EQ((err), __e) {						\
			TH_LOG("%s: errno %s, expected %s", #call, ename(__e),	\
			       ename(err));					\
		}								\
	}									\
} while (0)

static const char *device(void)
{
	const char *d = getenv("KHV_DEVICE");

	return d ? d : LIBKHV_DEFAULT_DEVICE;
}

/* Two pages: the first readable and writable, the second PROT_NONE. */
static uint8_t *edge_pages(void)
{
	uint8_t *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + 4096, 4096, PROT_NONE))
		return NULL;
	return p;
}

FIXTURE(khv) {
	struct khvt_vm t;
	bool ready;
	int sys, vm, vcpu;
	void *bad;		/* PROT_NONE page */
};

FIXTURE_SETUP(khv)
{
	int r = vm_with_payload(&self->t, KHVT_REAL, PAYLOAD(ioctl_hlt));

	/* The 6.1 harness runs the test body even if setup skips: see READY. */
	if (khvt_no_device(r))
		SKIP(return, "no khv device: %s", strerror(-r));
	ASSERT_EQ(0, r);
	self->sys = self->t.sys.fd;
	self->vm = self->t.vm.fd;
	self->vcpu = self->t.vcpu.fd;
	self->bad = khvt_bad_page();
	ASSERT_NE(NULL, self->bad);
	self->ready = true;
}

FIXTURE_TEARDOWN(khv)
{
	if (self->ready)
		khvt_destroy(&self->t);
}

#define READY() do {					\
	if (!self->ready)				\
		SKIP(return, "no khv device");		\
} while (0)

/* ---- system fd ---------------------------------------------------------- */

TEST_F(khv, system_fd)
{
	uint8_t buf[256] = { 0 };

	READY();
	EXPECT_EQ(KHV_API_VERSION, ioctl(self->sys, KHV_GET_API_VERSION, 0));
	EXPECT_EQ(KHV_RUN_MMAP_SIZE, ioctl(self->sys, KHV_GET_VCPU_MMAP_SIZE, 0));
	EXPECT_EQ(0, ioctl(self->sys, KHV_CHECK_EXTENSION, 0UL)) TH_LOG("capability 0");
	EXPECT_EQ(0, ioctl(self->sys, KHV_CHECK_EXTENSION, 0xffffUL)) TH_LOG("capability 0xffff");
	EXPECT_ERRNO(ENOTTY, ioctl(self->sys, _IO(KHVIO, 0x7f)));
	EXPECT_ERRNO(ENOTTY, ioctl(self->sys, _IOW(KHVIO, 0x01, __u64), buf));
	EXPECT_ERRNO(ENOTTY, ioctl(self->sys, _IOWR(KHVIO, 0x05, __u32), buf));
	EXPECT_ERRNO(ENOTTY, ioctl(self->sys, 0x5401 /* TCGETS */, buf));
}

TEST_F(khv, create_vm_arg)
{
	int fd;

	READY();
	EXPECT_ERRNO(EINVAL, ioctl(self->sys, KHV_CREATE_VM, 1UL));
	EXPECT_ERRNO(EINVAL, ioctl(self->sys, KHV_CREATE_VM, ~0UL));
	fd = ioctl(self->sys, KHV_CREATE_VM, 0UL);
	EXPECT_LE(0, fd) TH_LOG("KHV_CREATE_VM 0: %s", ename(errno));
	if (fd >= 0)
		close(fd);
}

TEST_F(khv, vm_and_vcpu_ioctls_on_system_fd)
{
	struct khv_userspace_memory_region r = {
		.slot = 1, .guest_phys_addr = 0x400000, .memory_size = 0x1000,
		.userspace_addr = (uintptr_t)self->t.mem,
	};
	struct khv_regs regs;

	READY();
	EXPECT_ERRNO(ENOTTY, ioctl(self->sys, KHV_CREATE_VCPU, 1UL));
	EXPECT_ERRNO(ENOTTY, ioctl(self->sys, KHV_SET_USER_MEMORY_REGION, &r));
	EXPECT_ERRNO(ENOTTY, ioctl(self->sys, KHV_RUN, 0));
	EXPECT_ERRNO(ENOTTY, ioctl(self->sys, KHV_GET_REGS, &regs));
}

TEST_F(khv, wrong_fd_kind)
{
	struct khv_userspace_memory_region r = {
		.slot = 1, .guest_phys_addr = 0x400000, .memory_size = 0x1000,
		.userspace_addr = (uintptr_t)self->t.mem,
	};
	struct khv_regs regs;
	uint8_t buf[256] = { 0 };

	READY();
	/* VM fd: no vCPU or system ioctls, nothing unknown. */
	EXPECT_ERRNO(ENOTTY, ioctl(self->vm, KHV_RUN, 0));
	EXPECT_ERRNO(ENOTTY, ioctl(self->vm, KHV_GET_REGS, &regs));
	EXPECT_ERRNO(ENOTTY, ioctl(self->vm, KHV_CREATE_VM, 0UL));
	EXPECT_ERRNO(ENOTTY, ioctl(self->vm, _IO(KHVIO, 0x7f)));
	/* vCPU fd: no VM or system ioctls, nothing unknown, no size mismatch. */
	EXPECT_ERRNO(ENOTTY, ioctl(self->vcpu, KHV_CREATE_VCPU, 1UL));
	EXPECT_ERRNO(ENOTTY, ioctl(self->vcpu, KHV_SET_USER_MEMORY_REGION, &r));
	EXPECT_ERRNO(ENOTTY, ioctl(self->vcpu, KHV_CREATE_VM, 0UL));
	EXPECT_ERRNO(ENOTTY, ioctl(self->vcpu, _IO(KHVIO, 0xff)));
	EXPECT_ERRNO(ENOTTY, ioctl(self->vcpu, _IOR(KHVIO, 0x81, __u64), buf));
}

TEST_F(khv, get_supported_cpuid_sizes)
{
	struct khv_cpuid *c = calloc(1, sizeof(*c) + KHV_MAX_CPUID_ENTRIES * sizeof(c->entries[0]));
	uint32_t needed;

	READY();
	ASSERT_NE(NULL, c);
	c->nent = 0;
	EXPECT_ERRNO(E2BIG, ioctl(self->sys, KHV_GET_SUPPORTED_CPUID, c));
	needed = c->nent;
	ASSERT_GT(needed, 1u) TH_LOG("nent after E2BIG: %u", needed);
	ASSERT_LE(needed, (uint32_t)KHV_MAX_CPUID_ENTRIES);
	c->nent = needed - 1;
	EXPECT_ERRNO(E2BIG, ioctl(self->sys, KHV_GET_SUPPORTED_CPUID, c));
	EXPECT_EQ(needed, c->nent);
	c->nent = needed;
	EXPECT_EQ(0, ioctl(self->sys, KHV_GET_SUPPORTED_CPUID, c)) TH_LOG("%s", ename(errno));
	EXPECT_EQ(needed, c->nent);
	c->nent = KHV_MAX_CPUID_ENTRIES;
	EXPECT_EQ(0, ioctl(self->sys, KHV_GET_SUPPORTED_CPUID, c)) TH_LOG("%s", ename(errno));
	EXPECT_EQ(needed, c->nent);
	c->nent = KHV_MAX_CPUID_ENTRIES;
	c->pad = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->sys, KHV_GET_SUPPORTED_CPUID, c));
	EXPECT_ERRNO(EFAULT, ioctl(self->sys, KHV_GET_SUPPORTED_CPUID, self->bad));
	free(c);
}

/* ---- VM fd: memory slots ------------------------------------------------ */

struct region_case {
	const char *what;
	uint32_t slot, flags;
	uint64_t gpa, size, uoff;	/* uoff: offset from an aligned mapping */
	int err;
};

TEST_F(khv, memory_region_errors)
{
	static const struct region_case cases[] = {
		{ "unaligned gpa", 1, 0, 0x400001, 0x10000, 0, EINVAL },
		{ "unaligned size", 1, 0, 0x400000, 0x10001, 0, EINVAL },
		{ "uaddr off by one", 1, 0, 0x400000, 0x10000, 1, EINVAL },
		{ "uaddr off by 2 KiB", 1, 0, 0x400000, 0x10000, 0x800, EINVAL },
		{ "slot KHV_MAX_MEMSLOTS", KHV_MAX_MEMSLOTS, 0, 0x400000, 0x10000, 0, EINVAL },
		{ "slot 0xffffffff", 0xffffffff, 0, 0x400000, 0x10000, 0, EINVAL },
		{ "unknown flag 1 << 2", 1, 1u << 2, 0x400000, 0x10000, 0, EINVAL },
		{ "unknown flag 1 << 31", 1, 1u << 31, 0x400000, 0x10000, 0, EINVAL },
		{ "size 1 << 62", 1, 0, 0x400000, 1ull << 62, 0, EINVAL },
		{ "gpa + size wraps", 1, 0, 0xfffffffffffff000ull, 0x2000, 0, EINVAL },
		{ "overlaps slot 0", 1, 0, 0x100000, KHVT_MEM_SIZE, 0, EEXIST },
		{ "overlaps slot 0's last page", 1, 0, KHVT_MEM_SIZE - 0x1000, 0x2000, 0, EEXIST },
		{ "same range as slot 0", 1, 0, 0, KHVT_MEM_SIZE, 0, EEXIST },
		{ "inside slot 0", 1, 0, 0x100000, 0x1000, 0, EEXIST },
	};
	struct khv_userspace_memory_region r;
	uint8_t *m = khv_guest_mem_alloc(0x20000);
	size_t i;

	READY();
	ASSERT_NE(NULL, m);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		r.slot = cases[i].slot;
		r.flags = cases[i].flags;
		r.guest_phys_addr = cases[i].gpa;
		r.memory_size = cases[i].size;
		r.userspace_addr = (uintptr_t)m + cases[i].uoff;
		khvt_step = cases[i].what;
		EXPECT_ERRNO(cases[i].err, ioctl(self->vm, KHV_SET_USER_MEMORY_REGION, &r));
	}
	khvt_step = NULL;

	/* Nothing above stuck: slot 1 right after slot 0 is fine. */
	r = (struct khv_userspace_memory_region){ 1, 0, KHVT_MEM_SIZE, 0x10000, (uintptr_t)m };
	EXPECT_EQ(0, ioctl(self->vm, KHV_SET_USER_MEMORY_REGION, &r)) TH_LOG("%s", ename(errno));
	/* Another slot overlapping slot 1. */
	r = (struct khv_userspace_memory_region){ 2, 0, KHVT_MEM_SIZE + 0x8000, 0x1000,
						  (uintptr_t)m + 0x10000 };
	EXPECT_ERRNO(EEXIST, ioctl(self->vm, KHV_SET_USER_MEMORY_REGION, &r));
	/* Moving slot 1 onto slot 0. */
	r = (struct khv_userspace_memory_region){ 1, 0, 0x1f0000, 0x10000, (uintptr_t)m };
	EXPECT_ERRNO(EEXIST, ioctl(self->vm, KHV_SET_USER_MEMORY_REGION, &r));
	EXPECT_ERRNO(EFAULT, ioctl(self->vm, KHV_SET_USER_MEMORY_REGION, self->bad));
	EXPECT_ERRNO(EFAULT, ioctl(self->vm, KHV_SET_USER_MEMORY_REGION, NULL));
	khv_guest_mem_free(m, 0x20000);
}

/*
 * Changing a slot in a way that is not add, move or delete (uapi/linux/khv.h:
 * a move keeps size, flags and userspace_addr).
 */
TEST_F(khv, memory_region_bad_change)
{
	struct khv_userspace_memory_region r;
	uint8_t *m = khv_guest_mem_alloc(0x40000);

	READY();
	ASSERT_NE(NULL, m);
	r = (struct khv_userspace_memory_region){ 1, 0, 0x400000, 0x10000, (uintptr_t)m };
	ASSERT_EQ(0, ioctl(self->vm, KHV_SET_USER_MEMORY_REGION, &r)) TH_LOG("%s", ename(errno));
	r.memory_size = 0x20000;
	khvt_step = "same slot, new size";
	EXPECT_ERRNO(EINVAL, ioctl(self->vm, KHV_SET_USER_MEMORY_REGION, &r));
	r.memory_size = 0x10000;
	r.userspace_addr = (uintptr_t)m + 0x10000;
	khvt_step = "same slot, new userspace_addr";
	EXPECT_ERRNO(EINVAL, ioctl(self->vm, KHV_SET_USER_MEMORY_REGION, &r));
	r.userspace_addr = (uintptr_t)m;
	r.flags = KHV_MEM_READONLY;
	khvt_step = "same slot, new flags";
	EXPECT_ERRNO(EINVAL, ioctl(self->vm, KHV_SET_USER_MEMORY_REGION, &r));
	khvt_step = NULL;
	r.flags = 0;
	r.guest_phys_addr = 0x800000;
	EXPECT_EQ(0, ioctl(self->vm, KHV_SET_USER_MEMORY_REGION, &r)) TH_LOG("move: %s", ename(errno));
	r.memory_size = 0;
	EXPECT_EQ(0, ioctl(self->vm, KHV_SET_USER_MEMORY_REGION, &r)) TH_LOG("delete: %s", ename(errno));
	khv_guest_mem_free(m, 0x40000);
}

/* A slot over unmapped user memory is accepted; the guest's access fails KHV_RUN. */
TEST(memory_region_unmapped_uaddr)
{
	struct khvt_vm t;
	void *m;
	int i, r;

	VM_WITH_PAYLOAD(&t, KHVT_PROT32, ioctl_read_slot1);
	m = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, munmap(m, 0x10000));
	KHV_OK(khv_vm_set_memory(&t.vm, 1, 0, 0x400000, 0x10000, m));
	for (i = 0; i < 2; i++) {
		r = khvt_run(&t);
		EXPECT_EQ(-EFAULT, r) {
			khvt_dump(&t);
			TH_LOG("KHV_RUN #%d reading unmapped slot memory: %s", i,
			       r ? ename(-r) : "0");
		}
	}
	khvt_destroy(&t);
}

TEST_F(khv, vcpu_ids)
{
	int fd;

	READY();
	EXPECT_ERRNO(EINVAL, ioctl(self->vm, KHV_CREATE_VCPU, (unsigned long)KHV_MAX_VCPUS));
	EXPECT_ERRNO(EINVAL, ioctl(self->vm, KHV_CREATE_VCPU, 0x100000000ul));
	EXPECT_ERRNO(EINVAL, ioctl(self->vm, KHV_CREATE_VCPU, ~0UL));
	EXPECT_ERRNO(EEXIST, ioctl(self->vm, KHV_CREATE_VCPU, 0UL));
	fd = ioctl(self->vm, KHV_CREATE_VCPU, (unsigned long)KHV_MAX_VCPUS - 1);
	EXPECT_LE(0, fd) TH_LOG("vCPU id KHV_MAX_VCPUS - 1: %s", ename(errno));
	EXPECT_ERRNO(EEXIST, ioctl(self->vm, KHV_CREATE_VCPU, (unsigned long)KHV_MAX_VCPUS - 1));
	if (fd >= 0)
		close(fd);
}

/* ---- vCPU fd ------------------------------------------------------------ */

TEST_F(khv, sregs_reserved)
{
	struct khv_sregs orig, s, back;

	READY();
	ASSERT_EQ(0, ioctl(self->vcpu, KHV_GET_SREGS, &orig));
	EXPECT_VAL("reserved[0] on output", 0, orig.reserved[0]);
	EXPECT_VAL("cs.pad on output", 0, orig.cs.pad);

	s = orig; s.reserved[0] = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->vcpu, KHV_SET_SREGS, &s));
	s = orig; s.reserved[3] = 1ull << 63;
	EXPECT_ERRNO(EINVAL, ioctl(self->vcpu, KHV_SET_SREGS, &s));
	s = orig; s.cs.pad = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->vcpu, KHV_SET_SREGS, &s));
	s = orig; s.ldt.pad = 0x80;
	EXPECT_ERRNO(EINVAL, ioctl(self->vcpu, KHV_SET_SREGS, &s));
	s = orig; s.gdt.pad[0] = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->vcpu, KHV_SET_SREGS, &s));
	s = orig; s.idt.pad[2] = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->vcpu, KHV_SET_SREGS, &s));
	/* A refused SET_SREGS changed nothing. */
	s = orig; s.cr0 ^= 1; s.reserved[1] = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->vcpu, KHV_SET_SREGS, &s));
	ASSERT_EQ(0, ioctl(self->vcpu, KHV_GET_SREGS, &back));
	EXPECT_VAL("CR0 after refused KHV_SET_SREGS", orig.cr0, back.cr0);
	EXPECT_ERRNO(EFAULT, ioctl(self->vcpu, KHV_SET_SREGS, self->bad));
	EXPECT_ERRNO(EFAULT, ioctl(self->vcpu, KHV_GET_SREGS, self->bad));
}

TEST_F(khv, cpuid_errors)
{
	const size_t sz = sizeof(struct khv_cpuid) +
			  (KHV_MAX_CPUID_ENTRIES + 1) * sizeof(struct khv_cpuid_entry);
	struct khv_cpuid *c = calloc(1, sz);
	uint8_t *edge = edge_pages();
	struct khv_cpuid *ec;

	READY();
	ASSERT_NE(NULL, c);
	ASSERT_NE(NULL, edge);
	c->nent = KHV_MAX_CPUID_ENTRIES + 1;
	EXPECT_ERRNO(E2BIG, ioctl(self->vcpu, KHV_SET_CPUID, c));
	c->nent = 0xffffffff;
	EXPECT_ERRNO(E2BIG, ioctl(self->vcpu, KHV_SET_CPUID, c));

	memset(c, 0, sz);
	c->nent = 2;
	c->entries[0].function = 0;
	c->entries[1].function = 1;
	c->pad = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->vcpu, KHV_SET_CPUID, c));
	c->pad = 0;
	c->entries[1].reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->vcpu, KHV_SET_CPUID, c));
	c->entries[1].reserved = 0;
	EXPECT_EQ(0, ioctl(self->vcpu, KHV_SET_CPUID, c)) TH_LOG("%s", ename(errno));

	/* GET: too small gives E2BIG and the number needed. */
	c->nent = 1;
	EXPECT_ERRNO(E2BIG, ioctl(self->vcpu, KHV_GET_CPUID, c));
	EXPECT_EQ(2u, c->nent);
	c->nent = KHV_MAX_CPUID_ENTRIES;
	EXPECT_EQ(0, ioctl(self->vcpu, KHV_GET_CPUID, c)) TH_LOG("%s", ename(errno));
	EXPECT_EQ(2u, c->nent);

	EXPECT_ERRNO(EFAULT, ioctl(self->vcpu, KHV_SET_CPUID, self->bad));
	EXPECT_ERRNO(EFAULT, ioctl(self->vcpu, KHV_GET_CPUID, self->bad));
	/* Header readable, entries in the PROT_NONE page. */
	ec = (struct khv_cpuid *)(edge + 4096 - sizeof(*ec));
	ec->nent = 2;
	ec->pad = 0;
	EXPECT_ERRNO(EFAULT, ioctl(self->vcpu, KHV_SET_CPUID, ec));
	ec->nent = KHV_MAX_CPUID_ENTRIES;
	EXPECT_ERRNO(EFAULT, ioctl(self->vcpu, KHV_GET_CPUID, ec));
	free(c);
}

TEST_F(khv, msrs_errors)
{
	const size_t sz = sizeof(struct khv_msrs) +
			  (KHV_MAX_MSR_ENTRIES + 1) * sizeof(struct khv_msr_entry);
	struct khv_msrs *m = calloc(1, sz);
	uint8_t *edge = edge_pages();
	struct khv_msrs *em;
	uint32_t i;

	READY();
	ASSERT_NE(NULL, m);
	ASSERT_NE(NULL, edge);
	for (i = 0; i <= KHV_MAX_MSR_ENTRIES; i++)
		m->entries[i].index = 0xc0000081;	/* STAR */
	m->nmsrs = KHV_MAX_MSR_ENTRIES + 1;
	EXPECT_ERRNO(E2BIG, ioctl(self->vcpu, KHV_GET_MSRS, m));
	EXPECT_ERRNO(E2BIG, ioctl(self->vcpu, KHV_SET_MSRS, m));
	m->nmsrs = 0xffffffff;
	EXPECT_ERRNO(E2BIG, ioctl(self->vcpu, KHV_GET_MSRS, m));

	m->nmsrs = 1;
	m->pad = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->vcpu, KHV_GET_MSRS, m));
	EXPECT_ERRNO(EINVAL, ioctl(self->vcpu, KHV_SET_MSRS, m));
	m->pad = 0;
	m->entries[0].reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->vcpu, KHV_GET_MSRS, m));
	EXPECT_ERRNO(EINVAL, ioctl(self->vcpu, KHV_SET_MSRS, m));
	m->entries[0].reserved = 0;
	m->nmsrs = KHV_MAX_MSR_ENTRIES;
	EXPECT_EQ(KHV_MAX_MSR_ENTRIES, ioctl(self->vcpu, KHV_GET_MSRS, m)) TH_LOG("%s", ename(errno));

	EXPECT_ERRNO(EFAULT, ioctl(self->vcpu, KHV_GET_MSRS, self->bad));
	EXPECT_ERRNO(EFAULT, ioctl(self->vcpu, KHV_SET_MSRS, self->bad));
	em = (struct khv_msrs *)(edge + 4096 - sizeof(*em));
	em->nmsrs = 2;
	em->pad = 0;
	EXPECT_ERRNO(EFAULT, ioctl(self->vcpu, KHV_GET_MSRS, em));
	EXPECT_ERRNO(EFAULT, ioctl(self->vcpu, KHV_SET_MSRS, em));
	free(m);
}

TEST_F(khv, event_errors)
{
	static const struct {
		const char *what;
		struct khv_event ev;
	} cases[] = {
		{ "unknown type 3", { .type = 3, .vector = 6 } },
		{ "unknown type 0xff", { .type = 0xff, .vector = 6 } },
		{ "exception vector 32", { .type = KHV_EVENT_EXCEPTION, .vector = 32 } },
		{ "exception vector 255", { .type = KHV_EVENT_EXCEPTION, .vector = 255 } },
		{ "exception vector 2 (NMI)", { .type = KHV_EVENT_EXCEPTION, .vector = 2 } },
		{ "external interrupt vector 15", { .type = KHV_EVENT_EXTINT, .vector = 15 } },
		{ "external interrupt vector 0", { .type = KHV_EVENT_EXTINT, .vector = 0 } },
		{ "pad != 0", { .type = KHV_EVENT_EXCEPTION, .vector = 6, .pad = 1 } },
		{ "reserved[0] != 0", { .type = KHV_EVENT_EXCEPTION, .vector = 6,
					.reserved = { 1, 0 } } },
		{ "reserved[1] != 0", { .type = KHV_EVENT_EXTINT, .vector = 32,
					.reserved = { 0, 1 } } },
	};
	size_t i;

	READY();
	if (khv_check_extension(&self->t.sys, KHV_CAP_INJECT_EVENT) <= 0)
		SKIP(return, "KHV_CAP_INJECT_EVENT not reported");
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		khvt_step = cases[i].what;
		EXPECT_ERRNO(EINVAL, ioctl(self->vcpu, KHV_INJECT_EVENT, &cases[i].ev));
	}
	khvt_step = NULL;
	EXPECT_ERRNO(EFAULT, ioctl(self->vcpu, KHV_INJECT_EVENT, self->bad));
}

TEST_F(khv, bad_pointers)
{
	static const struct {
		const char *name;
		unsigned long req;
	} vcpu_reqs[] = {
		{ "KHV_GET_REGS", KHV_GET_REGS },
		{ "KHV_SET_REGS", KHV_SET_REGS },
		{ "KHV_GET_SREGS", KHV_GET_SREGS },
		{ "KHV_SET_SREGS", KHV_SET_SREGS },
		{ "KHV_GET_MSRS", KHV_GET_MSRS },
		{ "KHV_SET_MSRS", KHV_SET_MSRS },
		{ "KHV_SET_CPUID", KHV_SET_CPUID },
		{ "KHV_GET_CPUID", KHV_GET_CPUID },
		{ "KHV_INJECT_EVENT", KHV_INJECT_EVENT },
		{ "KHV_GET_XSAVE", KHV_GET_XSAVE },
		{ "KHV_SET_XSAVE", KHV_SET_XSAVE },
		{ "KHV_GET_EXIT_STATS", KHV_GET_EXIT_STATS },
	};
	static const unsigned int caps[] = {
		0, 0, 0, 0, 0, 0, 0, 0, KHV_CAP_INJECT_EVENT, KHV_CAP_XSAVE, KHV_CAP_XSAVE,
		KHV_CAP_EXIT_STATS,
	};
	size_t i;

	READY();
	for (i = 0; i < ARRAY_SIZE(vcpu_reqs); i++) {
		if (caps[i] && khv_check_extension(&self->t.sys, caps[i]) <= 0)
			continue;
		khvt_step = vcpu_reqs[i].name;
		EXPECT_ERRNO(EFAULT, ioctl(self->vcpu, vcpu_reqs[i].req, self->bad));
		EXPECT_ERRNO(EFAULT, ioctl(self->vcpu, vcpu_reqs[i].req, NULL));
	}
	khvt_step = NULL;
	EXPECT_ERRNO(EFAULT, ioctl(self->vm, KHV_SET_USER_MEMORY_REGION, self->bad));
	EXPECT_ERRNO(EFAULT, ioctl(self->sys, KHV_GET_SUPPORTED_CPUID, self->bad));
}

TEST_F(khv, closed_fds)
{
	int sys, vm, vcpu;

	READY();
	sys = open(device(), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, sys) TH_LOG("open %s: %s", device(), ename(errno));
	vm = ioctl(sys, KHV_CREATE_VM, 0UL);
	ASSERT_LE(0, vm) TH_LOG("KHV_CREATE_VM: %s", ename(errno));
	vcpu = ioctl(vm, KHV_CREATE_VCPU, 3UL);
	ASSERT_LE(0, vcpu) TH_LOG("KHV_CREATE_VCPU: %s", ename(errno));

	close(vcpu);
	EXPECT_ERRNO(EBADF, ioctl(vcpu, KHV_RUN, 0));
	close(vm);
	EXPECT_ERRNO(EBADF, ioctl(vm, KHV_CREATE_VCPU, 4UL));
	close(sys);
	EXPECT_ERRNO(EBADF, ioctl(sys, KHV_CREATE_VM, 0UL));
}

TEST_F(khv, exit_stats_too_small)
{
	struct khv_exit_stats *st;

	READY();
	if (khv_check_extension(&self->t.sys, KHV_CAP_EXIT_STATS) <= 0)
		SKIP(return, "KHV_CAP_EXIT_STATS not reported");
	expect_hlt(&self->t, PAYLOAD_GPA(ioctl_hlt, ioctl_hlt_done));
	st = calloc(1, sizeof(*st) + 4 * sizeof(st->entries[0]));
	ASSERT_NE(NULL, st);
	st->nent = 0;
	EXPECT_ERRNO(E2BIG, ioctl(self->vcpu, KHV_GET_EXIT_STATS, st));
	EXPECT_LE(1u, st->nent) TH_LOG("nent after E2BIG: %u", st->nent);
	st->nent = 4;
	st->pad = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->vcpu, KHV_GET_EXIT_STATS, st));
	free(st);
}

TEST_F(khv, mmap_vcpu_fd)
{
	void *p;

	READY();
	p = mmap(NULL, KHV_RUN_MMAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, self->vcpu, 0);
	EXPECT_NE(MAP_FAILED, p) TH_LOG("mmap of KHV_RUN_MMAP_SIZE: %s", ename(errno));
	if (p != MAP_FAILED)
		munmap(p, KHV_RUN_MMAP_SIZE);
	EXPECT_ERRNO(EINVAL, mmap(NULL, KHV_RUN_MMAP_SIZE + 4096, PROT_READ | PROT_WRITE,
				  MAP_SHARED, self->vcpu, 0));
	EXPECT_ERRNO(EINVAL, mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, self->vcpu,
				  KHV_RUN_MMAP_SIZE));
	EXPECT_ERRNO(EINVAL, mmap(NULL, KHV_RUN_MMAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
				  self->vcpu, 4096));
}

TEST_HARNESS_MAIN
