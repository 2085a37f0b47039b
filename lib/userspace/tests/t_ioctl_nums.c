// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ioctl numbers: all distinct, all of type KHVIO, and each one's direction
 * and size encode the structure it really carries.
 */
#include <sys/ioctl.h>

#include "test.h"

#define NONE	_IOC_NONE
#define RD	_IOC_READ
#define WR	_IOC_WRITE

static const struct {
	const char *name;
	unsigned long nr;
	unsigned int dir;
	unsigned int size;
} ioctls[] = {
	{ "KHV_GET_API_VERSION", KHV_GET_API_VERSION, NONE, 0 },
	{ "KHV_CREATE_VM", KHV_CREATE_VM, NONE, 0 },
	{ "KHV_GET_MSR_INDEX_LIST", KHV_GET_MSR_INDEX_LIST, RD | WR, 8 },
	{ "KHV_CHECK_EXTENSION", KHV_CHECK_EXTENSION, NONE, 0 },
	{ "KHV_GET_VCPU_MMAP_SIZE", KHV_GET_VCPU_MMAP_SIZE, NONE, 0 },
	{ "KHV_GET_SUPPORTED_CPUID", KHV_GET_SUPPORTED_CPUID, RD | WR, 8 },
	{ "KHV_CREATE_VCPU", KHV_CREATE_VCPU, NONE, 0 },
	{ "KHV_SET_USER_MEMORY_REGION", KHV_SET_USER_MEMORY_REGION, WR, 32 },
	{ "KHV_GET_DIRTY_LOG", KHV_GET_DIRTY_LOG, WR, 48 },
	{ "KHV_CLEAR_DIRTY_LOG", KHV_CLEAR_DIRTY_LOG, WR, 48 },
	{ "KHV_CREATE_IRQCHIP", KHV_CREATE_IRQCHIP, NONE, 0 },
	{ "KHV_IRQ_LINE", KHV_IRQ_LINE, WR, 16 },
	{ "KHV_SIGNAL_MSI", KHV_SIGNAL_MSI, WR, 32 },
	{ "KHV_IRQFD", KHV_IRQFD, WR, 48 },
	{ "KHV_IOEVENTFD", KHV_IOEVENTFD, WR, 48 },
	{ "KHV_GET_IRQCHIP", KHV_GET_IRQCHIP, RD, 400 },
	{ "KHV_SET_IRQCHIP", KHV_SET_IRQCHIP, WR, 400 },
	{ "KHV_SET_CLOCK", KHV_SET_CLOCK, WR, 64 },
	{ "KHV_GET_CLOCK", KHV_GET_CLOCK, RD, 64 },
	{ "KHV_RUN", KHV_RUN, NONE, 0 },
	{ "KHV_GET_REGS", KHV_GET_REGS, RD, 144 },
	{ "KHV_SET_REGS", KHV_SET_REGS, WR, 144 },
	{ "KHV_GET_SREGS", KHV_GET_SREGS, RD, 312 },
	{ "KHV_SET_SREGS", KHV_SET_SREGS, WR, 312 },
	{ "KHV_INJECT_EVENT", KHV_INJECT_EVENT, WR, 24 },
	{ "KHV_GET_MSRS", KHV_GET_MSRS, RD | WR, 8 },
	{ "KHV_SET_MSRS", KHV_SET_MSRS, WR, 8 },
	{ "KHV_SET_CPUID", KHV_SET_CPUID, WR, 8 },
	{ "KHV_GET_CPUID", KHV_GET_CPUID, RD | WR, 8 },
	{ "KHV_GET_EXIT_STATS", KHV_GET_EXIT_STATS, RD | WR, 8 },
	{ "KHV_GET_MP_STATE", KHV_GET_MP_STATE, RD, 8 },
	{ "KHV_SET_MP_STATE", KHV_SET_MP_STATE, WR, 8 },
	{ "KHV_GET_VCPU_EVENTS", KHV_GET_VCPU_EVENTS, RD, 96 },
	{ "KHV_SET_VCPU_EVENTS", KHV_SET_VCPU_EVENTS, WR, 96 },
	{ "KHV_GET_LAPIC", KHV_GET_LAPIC, RD, 1080 },
	{ "KHV_SET_LAPIC", KHV_SET_LAPIC, WR, 1080 },
	{ "KHV_GET_XSAVE", KHV_GET_XSAVE, RD, 4096 },
	{ "KHV_SET_XSAVE", KHV_SET_XSAVE, WR, 4096 },
	{ "KHV_GET_DEBUGREGS", KHV_GET_DEBUGREGS, RD, 128 },
	{ "KHV_SET_DEBUGREGS", KHV_SET_DEBUGREGS, WR, 128 },
	{ "KHV_GET_XCRS", KHV_GET_XCRS, RD, 392 },
	{ "KHV_SET_XCRS", KHV_SET_XCRS, WR, 392 },
};

#define N_IOCTLS ARRAY_SIZE(ioctls)

void test_ioctl_numbers(void)
{
	size_t i, j;
	int dup_nr, dup_num;

	for (i = 0; i < N_IOCTLS; i++) {
		CHECK_EQ(_IOC_TYPE(ioctls[i].nr), KHVIO);
		CHECK_EQ(_IOC_DIR(ioctls[i].nr), ioctls[i].dir);
		CHECK_EQ(_IOC_SIZE(ioctls[i].nr), ioctls[i].size);
		dup_nr = 0;
		dup_num = 0;
		for (j = 0; j < N_IOCTLS; j++) {
			if (i == j)
				continue;
			dup_num |= ioctls[i].nr == ioctls[j].nr;
			/* Distinct sequence numbers too, not just distinct encodings. */
			dup_nr |= _IOC_NR(ioctls[i].nr) == _IOC_NR(ioctls[j].nr);
		}
		if (dup_num || dup_nr)
			printf("#   duplicate ioctl number: %s\n", ioctls[i].name);
		CHECK(!dup_num);
		CHECK(!dup_nr);
	}
	/* 0xB8 must stay free of the common ioctl types this file can see. */
	CHECK(KHVIO != 0xAE);	/* KVM */
	CHECK_EQ(KHV_API_VERSION, 1);
}
