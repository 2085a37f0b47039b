// SPDX-License-Identifier: LGPL-2.1-or-later
/* vCPU lifetime, KHV_RUN and the shared run page. */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

static void libkhv_vcpu_reset(struct khv_vcpu *vcpu)
{
	vcpu->fd = -1;
	vcpu->id = 0;
	vcpu->vm = NULL;
	vcpu->run = NULL;
	vcpu->run_size = 0;
}

KHV_EXPORT int khv_vcpu_create(struct khv_vm *vm, uint32_t id, struct khv_vcpu *vcpu)
{
	void *run;
	int fd, size, ret;

	if (!vcpu)
		return -EINVAL;
	libkhv_vcpu_reset(vcpu);

	ret = LIBKHV_CHECK_VM(vm);
	if (ret)
		return ret;
	/* The mmap size comes from the system fd the VM was created on. */
	ret = LIBKHV_CHECK_SYS(vm->sys);
	if (ret)
		return ret;

	/* Ask for the size first: nothing to undo if that fails. */
	size = libkhv_ioctl_val(vm->sys->fd, KHV_GET_VCPU_MMAP_SIZE, 0);
	if (size < 0)
		return size;
	if ((size_t)size < sizeof(struct khv_run))
		return -EPROTO;

	fd = libkhv_ioctl_val(vm->fd, KHV_CREATE_VCPU, id);
	if (fd < 0)
		return fd;

	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (run == MAP_FAILED) {
		ret = -errno;
		/* The vCPU stays in the VM (khv has no destroy ioctl), but our fd goes. */
		close(fd);
		return ret;
	}

	vcpu->fd = fd;
	vcpu->id = id;
	vcpu->vm = vm;
	vcpu->run = run;
	vcpu->run_size = (size_t)size;
	return 0;
}

KHV_EXPORT void khv_vcpu_destroy(struct khv_vcpu *vcpu)
{
	if (!vcpu)
		return;
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	libkhv_vcpu_reset(vcpu);
}

KHV_EXPORT int khv_vcpu_run(struct khv_vcpu *vcpu)
{
	int ret = LIBKHV_CHECK_VCPU(vcpu);

	if (ret)
		return ret;
	ret = libkhv_ioctl_val(vcpu->fd, KHV_RUN, 0);
	return ret < 0 ? ret : 0;
}

KHV_EXPORT void *khv_vcpu_io_data(struct khv_vcpu *vcpu)
{
	const struct khv_run *run;
	uint64_t off, len;

	if (!vcpu || !vcpu->run)
		return NULL;
	run = vcpu->run;
	off = run->io.data_offset;
	len = (uint64_t)run->io.size * run->io.count;
	/* Never hand out a pointer outside the mapping, whatever the page says. */
	if (off < sizeof(*run) || off > vcpu->run_size || len > vcpu->run_size - off)
		return NULL;
	return (char *)vcpu->run + off;
}
