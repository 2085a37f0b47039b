// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Statistics files: the ioctls that give one, and the parser of the
 * self-describing format (uapi/linux/khv.h).  The parser trusts nothing in
 * the file: every offset and count is checked against the file's size
 * before it is used, so a corrupt or hostile file is refused, never read
 * past (tests/t_stats.c, and the fuzz target tools/khv-top/fuzz).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

KHV_EXPORT int khv_vm_stats_fd(struct khv_vm *vm)
{
	int ret = LIBKHV_CHECK_VM(vm);

	return ret ? ret : libkhv_ioctl_val(vm->fd, KHV_GET_STATS_FD, 0);
}

KHV_EXPORT int khv_vcpu_stats_fd(struct khv_vcpu *vcpu)
{
	int ret = LIBKHV_CHECK_VCPU(vcpu);

	return ret ? ret : libkhv_ioctl_val(vcpu->fd, KHV_GET_STATS_FD, 0);
}

KHV_EXPORT int khv_list_vms(struct khv_sys *sys, struct khv_vm_info *out, uint32_t max,
			    uint32_t *nent)
{
	int ret = LIBKHV_CHECK_SYS(sys);

	if (ret)
		return ret;
	return libkhv_get_array(sys->fd, KHV_GET_VMS, sizeof(*out), 65536, out, max, nent);
}

KHV_EXPORT int khv_open_stats(struct khv_sys *sys, uint32_t vm_id, int32_t vcpu_id)
{
	struct khv_stats_open o = { .vm_id = vm_id };
	int ret = LIBKHV_CHECK_SYS(sys);

	if (ret)
		return ret;
	if (vcpu_id >= 0) {
		o.vcpu_id = (uint32_t)vcpu_id;
		o.flags = KHV_STATS_OPEN_VCPU;
	}
	return libkhv_ioctl_ptr(sys->fd, KHV_OPEN_STATS, &o);
}

/* Exactly len bytes at off, or -errno (-EBADMSG for a short file). */
static int stats_pread(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EBADMSG;
		done += (size_t)n;
	}
	return 0;
}

static int stats_check_header(const struct khv_stats_header *h)
{
	if (h->magic != KHV_STATS_MAGIC || h->version != KHV_STATS_VERSION)
		return -EPROTO;
	if (h->header_size < sizeof(*h) || h->desc_size < sizeof(struct khv_stats_desc) ||
	    h->desc_size % 8 || h->desc_size > 4096 || h->num_desc > KHV_STATS_MAX_DESCS ||
	    h->data_size > KHV_STATS_MAX_DATA || h->data_size % 8 ||
	    h->desc_offset < h->header_size || h->desc_offset > KHV_STATS_MAX_DATA ||
	    (uint64_t)h->num_desc * h->desc_size > KHV_STATS_MAX_DATA ||
	    h->data_offset % 8 || h->data_offset > 2 * (uint64_t)KHV_STATS_MAX_DATA ||
	    h->data_offset < h->desc_offset + (uint64_t)h->num_desc * h->desc_size)
		return -EBADMSG;
	return 0;
}

static int stats_check_desc(const struct khv_stats_desc *d, uint64_t data_size)
{
	uint32_t shape = d->flags & KHV_STATS_SHAPE_MASK;

	if (!memchr(d->name, 0, sizeof(d->name)) || !d->name[0] || !d->count ||
	    d->offset % 8 || d->offset > data_size ||
	    (uint64_t)d->count * 8 > data_size - d->offset)
		return -EBADMSG;
	/*
	 * Types, units, shapes and flag bits of a later khv are kept: a reader
	 * skips what it does not know (else one new unit would make every
	 * older reader refuse every file).  What is known must add up.
	 */
	if ((shape == KHV_STATS_SHAPE_SCALAR && d->count != 1) ||
	    /* Bucket 0 holds the value 0, the last the rest: at least two. */
	    (shape == KHV_STATS_SHAPE_LOG2_HIST && d->count < 2))
		return -EBADMSG;
	return 0;
}

/* The descriptors at raw (num_desc of desc_size bytes), checked and copied. */
static int stats_take_descs(struct khv_stats *st, const unsigned char *raw)
{
	const struct khv_stats_header *h = &st->hdr;
	uint32_t i;

	st->ndesc = h->num_desc;
	st->ndata = (uint32_t)(h->data_size / 8);
	st->desc = calloc(h->num_desc ? h->num_desc : 1, sizeof(*st->desc));
	st->data = calloc(st->ndata ? st->ndata : 1, sizeof(*st->data));
	if (!st->desc || !st->data)
		return -ENOMEM;
	for (i = 0; i < h->num_desc; i++) {
		memcpy(&st->desc[i], raw + (size_t)i * h->desc_size, sizeof(st->desc[i]));
		if (stats_check_desc(&st->desc[i], h->data_size))
			return -EBADMSG;
	}
	return 0;
}

static void stats_reset(struct khv_stats *st, int fd)
{
	memset(st, 0, sizeof(*st));
	st->fd = fd;
}

KHV_EXPORT int khv_stats_init(struct khv_stats *st, int fd)
{
	unsigned char *raw = NULL;
	size_t raw_len;
	int ret;

	if (!st) {
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	stats_reset(st, fd);
	if (fd < 0)
		return -EBADF;
	ret = stats_pread(fd, &st->hdr, sizeof(st->hdr), 0);
	if (ret == -EBADMSG)
		ret = -EPROTO;	/* not even a header */
	if (!ret)
		ret = stats_check_header(&st->hdr);
	if (!ret) {
		raw_len = (size_t)st->hdr.num_desc * st->hdr.desc_size;
		raw = malloc(raw_len ? raw_len : 1);
		ret = raw ? stats_pread(fd, raw, raw_len, st->hdr.desc_offset) : -ENOMEM;
	}
	if (!ret)
		ret = stats_take_descs(st, raw);
	free(raw);
	if (!ret)
		ret = khv_stats_read(st);
	if (ret)
		khv_stats_close(st);
	return ret;
}

KHV_EXPORT int khv_stats_parse(struct khv_stats *st, const void *buf, size_t len)
{
	const unsigned char *b = buf;
	int ret;

	if (!st || (!buf && len))
		return -EINVAL;
	stats_reset(st, -1);
	if (len < sizeof(st->hdr))
		return -EPROTO;
	memcpy(&st->hdr, b, sizeof(st->hdr));
	ret = stats_check_header(&st->hdr);
	if (!ret && st->hdr.data_offset + st->hdr.data_size > len)
		ret = -EBADMSG;
	if (!ret)
		ret = stats_take_descs(st, b + st->hdr.desc_offset);
	if (!ret)
		memcpy(st->data, b + st->hdr.data_offset, st->hdr.data_size);
	if (ret)
		khv_stats_close(st);
	return ret;
}

KHV_EXPORT int khv_stats_read(struct khv_stats *st)
{
	if (!st || !st->data)
		return -EINVAL;
	if (st->fd < 0)
		return -EBADF;
	return stats_pread(st->fd, st->data, st->hdr.data_size, st->hdr.data_offset);
}

KHV_EXPORT int khv_stats_find(const struct khv_stats *st, const char *name)
{
	uint32_t i;

	if (!st || !name)
		return -EINVAL;
	for (i = 0; i < st->ndesc; i++)
		if (!strcmp(st->desc[i].name, name))
			return (int)i;
	return -ENOENT;
}

KHV_EXPORT const uint64_t *khv_stats_values(const struct khv_stats *st, uint32_t i)
{
	if (!st || i >= st->ndesc || !st->data)
		return NULL;
	return st->data + st->desc[i].offset / 8;
}

KHV_EXPORT void khv_stats_close(struct khv_stats *st)
{
	if (!st)
		return;
	if (st->fd >= 0)
		close(st->fd);
	free(st->desc);
	free(st->data);
	stats_reset(st, -1);
}
