// SPDX-License-Identifier: LGPL-2.1-or-later
/* The VM fd (memory slots) and guest RAM allocation. */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* Slots are in 4 KiB units (uapi: "Addresses and sizes are 4 KiB aligned"). */
#define LIBKHV_SLOT_ALIGN 4096ull

KHV_EXPORT int khv_vm_create(struct khv_sys *sys, struct khv_vm *vm)
{
	int ret;

	if (!vm)
		return -EINVAL;
	vm->fd = -1;
	vm->sys = NULL;

	ret = LIBKHV_CHECK_SYS(sys);
	if (ret)
		return ret;
	ret = libkhv_ioctl_val(sys->fd, KHV_CREATE_VM, 0);
	if (ret < 0)
		return ret;
	vm->fd = ret;
	vm->sys = sys;
	return 0;
}

KHV_EXPORT void khv_vm_destroy(struct khv_vm *vm)
{
	if (!vm)
		return;
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = -1;
	vm->sys = NULL;
}

KHV_EXPORT int khv_vm_set_memory(struct khv_vm *vm, uint32_t slot, uint32_t flags,
				 uint64_t gpa, uint64_t size, void *hva)
{
	struct khv_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};
	int ret = LIBKHV_CHECK_VM(vm);

	if (ret)
		return ret;
	if (slot >= KHV_MAX_MEMSLOTS || (flags & ~KHV_MEM_FLAGS_ALL))
		return -EINVAL;
	/* Deleting (size 0) needs only the slot number. */
	if (size) {
		if (!hva || gpa + size < gpa)
			return -EINVAL;
		if ((gpa | size | r.userspace_addr) & (LIBKHV_SLOT_ALIGN - 1))
			return -EINVAL;
	}
	return libkhv_ioctl_ptr(vm->fd, KHV_SET_USER_MEMORY_REGION, &r);
}

/* A VM ioctl whose argument is a whole structure: 0 or -errno. */
static int libkhv_vm_ioctl(struct khv_vm *vm, unsigned long req, const void *arg)
{
	int ret = LIBKHV_CHECK_VM(vm);

	if (ret)
		return ret;
	if (!arg)
		return -EINVAL;
	/* The kernel only reads the _IOW structures: casting const away is safe. */
	ret = libkhv_ioctl_ptr(vm->fd, req, (void *)arg);
	return ret < 0 ? ret : 0;
}

static int libkhv_dirty_log(struct khv_vm *vm, unsigned long req, uint32_t slot, uint32_t flags,
			    uint64_t first_page, uint64_t num_pages, const uint64_t *bitmap)
{
	struct khv_dirty_log d = {
		.slot = slot,
		.flags = flags,
		.first_page = first_page,
		.num_pages = num_pages,
		.bitmap = (uintptr_t)bitmap,
	};
	int ret = LIBKHV_CHECK_VM(vm);

	if (ret)
		return ret;
	if (!bitmap || !num_pages || (first_page % 64))
		return -EINVAL;
	return libkhv_ioctl_ptr(vm->fd, req, &d);
}

KHV_EXPORT int khv_vm_get_dirty_log(struct khv_vm *vm, uint32_t slot, uint32_t flags,
				    uint64_t first_page, uint64_t num_pages, uint64_t *bitmap)
{
	return libkhv_dirty_log(vm, KHV_GET_DIRTY_LOG, slot, flags, first_page, num_pages, bitmap);
}

KHV_EXPORT int khv_vm_clear_dirty_log(struct khv_vm *vm, uint32_t slot, uint64_t first_page,
				      uint64_t num_pages, const uint64_t *bitmap)
{
	return libkhv_dirty_log(vm, KHV_CLEAR_DIRTY_LOG, slot, 0, first_page, num_pages, bitmap);
}

KHV_EXPORT int khv_vm_get_clock(struct khv_vm *vm, struct khv_clock_data *c)
{
	return libkhv_vm_ioctl(vm, KHV_GET_CLOCK, c);
}

KHV_EXPORT int khv_vm_set_clock(struct khv_vm *vm, const struct khv_clock_data *c)
{
	return libkhv_vm_ioctl(vm, KHV_SET_CLOCK, c);
}

KHV_EXPORT int khv_vm_create_irqchip(struct khv_vm *vm)
{
	int ret = LIBKHV_CHECK_VM(vm);

	if (ret)
		return ret;
	ret = libkhv_ioctl_val(vm->fd, KHV_CREATE_IRQCHIP, 0);
	return ret < 0 ? ret : 0;
}

KHV_EXPORT int khv_vm_irq_line(struct khv_vm *vm, uint32_t irq, int level)
{
	struct khv_irq_level l = { .irq = irq, .level = level ? 1 : 0 };
	int ret = LIBKHV_CHECK_VM(vm);

	if (ret)
		return ret;
	return libkhv_ioctl_ptr(vm->fd, KHV_IRQ_LINE, &l);
}

KHV_EXPORT int khv_vm_signal_msi(struct khv_vm *vm, uint64_t address, uint32_t data)
{
	struct khv_msi m = { .address = address, .data = data };
	int ret = LIBKHV_CHECK_VM(vm);

	if (ret)
		return ret;
	return libkhv_ioctl_ptr(vm->fd, KHV_SIGNAL_MSI, &m);
}

KHV_EXPORT int khv_vm_irqfd(struct khv_vm *vm, const struct khv_irqfd *args)
{
	return libkhv_vm_ioctl(vm, KHV_IRQFD, args);
}

KHV_EXPORT int khv_vm_ioeventfd(struct khv_vm *vm, const struct khv_ioeventfd *args)
{
	return libkhv_vm_ioctl(vm, KHV_IOEVENTFD, args);
}

static size_t libkhv_page_round(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (size > SIZE_MAX - (page - 1))
		return 0;
	return (size + page - 1) & ~(page - 1);
}

KHV_EXPORT void *khv_guest_mem_alloc(size_t size)
{
	void *mem;

	size = libkhv_page_round(size);
	if (!size) {
		errno = EINVAL;
		return NULL;
	}
	/* Anonymous private memory is zero filled and page aligned. */
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return mem == MAP_FAILED ? NULL : mem;
}

KHV_EXPORT void khv_guest_mem_free(void *mem, size_t size)
{
	size = libkhv_page_round(size);
	if (mem && size)
		munmap(mem, size);
}

KHV_EXPORT int khv_vm_get_irqchip(struct khv_vm *vm, struct khv_irqchip_state *state)
{
	return libkhv_vm_ioctl(vm, KHV_GET_IRQCHIP, state);
}

KHV_EXPORT int khv_vm_set_irqchip(struct khv_vm *vm, const struct khv_irqchip_state *state)
{
	return libkhv_vm_ioctl(vm, KHV_SET_IRQCHIP, state);
}
