// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics files (KHV_GET_STATS_FD, KHV_OPEN_STATS) and the host's list
 * of VMs (KHV_GET_VMS).
 *
 * A statistics file is self-describing (uapi/linux/khv.h): a header, one
 * descriptor per counter (name, type, unit, shape, where its values are),
 * then the values.  The header and descriptors are made once, when the
 * file is opened, from what the backend names; the values are gathered at
 * each read of the data, from the vCPU's block or, for a VM's file, summed
 * over its vCPUs' blocks.  The file holds references on those blocks, not
 * on the VM: a reader that keeps the file open (khv-top) neither keeps a
 * gone VM's memory pinned nor loses its last figures.
 *
 * Locking: khv_vms_lock (a mutex) protects the list and is taken before
 * khv_vm_stats.lock (a spinlock), which protects the vcpu[] slots, the VM
 * pointer and the MMU figures.  A file's own mutex serialises its readers.
 */
#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <asm/tsc.h>

#include "khv.h"
#include "internal.h"

static_assert(sizeof(struct khv_stats_header) == 88);
static_assert(sizeof(struct khv_stats_desc) == 72);
static_assert(sizeof(struct khv_vm_info) == 56);
static_assert(sizeof(struct khv_stats_open) == 32);
static_assert(offsetof(struct khv_vm_list, entries) == 8);

/* Where a descriptor's values come from. */
enum khv_stats_src_kind {
	KHV_SRC_VCPU,		/* u64s in struct khv_vcpu_stats; a VM's file sums them */
	KHV_SRC_WAY,		/* the cycles of every reason's way off (summed) */
	KHV_SRC_ALIVE,
	KHV_SRC_TSC_KHZ,
	KHV_SRC_TIMING,
	KHV_SRC_VCPUS,
	KHV_SRC_MMU_PINNED,
	KHV_SRC_MMU_TABLES,
	KHV_SRC_MMU_LARGE,
};

struct khv_stats_src {
	u32 kind;
	u32 off;		/* KHV_SRC_VCPU: byte offset in struct khv_vcpu_stats */
	u32 count;
	u32 at;			/* index of its first value in data[] */
};

struct khv_stats_file {
	struct khv_vm_stats *vs;
	struct khv_vcpu_stats *s;	/* a vCPU's file, or NULL for the VM's */
	struct mutex lock;		/* data[] */
	void *meta;			/* header and descriptors */
	size_t meta_size;
	struct khv_stats_src *src;
	u32 nsrc;
	u64 *data;
	u32 ndata;
};

/* Descriptors, at most: fixed ones, user exits, kernel counters, 5 per exit. */
#define KHV_STATS_MAX_DESC	(16 + KHV_EXIT_MAX + KHV_KSTAT_MAX + 5 * KHV_MAX_EXIT_STATS)

static __printf(7, 8) void khv_stats_add(struct khv_stats_file *f, u32 flags, u32 kind, u32 off, u32 count,
			  u32 code, const char *fmt, ...)
{
	struct khv_stats_header *h = f->meta;
	struct khv_stats_desc *d;
	struct khv_stats_src *src;
	va_list ap;

	if (WARN_ON_ONCE(h->num_desc >= KHV_STATS_MAX_DESC))
		return;
	d = (struct khv_stats_desc *)(f->meta + h->desc_offset) + h->num_desc++;
	src = &f->src[f->nsrc++];
	d->flags = flags;
	d->count = count;
	d->offset = (u64)f->ndata * sizeof(u64);
	d->code = code;
	va_start(ap, fmt);
	vsnprintf(d->name, sizeof(d->name), fmt, ap);
	va_end(ap);
	src->kind = kind;
	src->off = off;
	src->count = count;
	src->at = f->ndata;
	f->ndata += count;
}

#define CUM	KHV_STATS_TYPE_CUMULATIVE
#define INST	KHV_STATS_TYPE_INSTANT
#define VS(field)	offsetof(struct khv_vcpu_stats, field)

static void khv_stats_describe(struct khv_stats_file *f)
{
	const u32 hist = KHV_STATS_UNIT_CYCLES | KHV_STATS_SHAPE_LOG2_HIST;
	u32 i, w;

	khv_stats_add(f, INST | KHV_STATS_UNIT_BOOLEAN, KHV_SRC_ALIVE, 0, 1, 0, "alive");
	khv_stats_add(f, INST | KHV_STATS_UNIT_KHZ, KHV_SRC_TSC_KHZ, 0, 1, 0, "tsc_khz");
	khv_stats_add(f, INST | KHV_STATS_UNIT_BOOLEAN, KHV_SRC_TIMING, 0, 1, 0, "exit_timing");
	if (!f->s) {
		khv_stats_add(f, INST, KHV_SRC_VCPUS, 0, 1, 0, "vcpus");
		khv_stats_add(f, INST | KHV_STATS_UNIT_PAGES, KHV_SRC_MMU_PINNED, 0, 1, 0,
			      "mmu/pages_pinned");
		khv_stats_add(f, INST | KHV_STATS_UNIT_PAGES, KHV_SRC_MMU_TABLES, 0, 1, 0,
			      "mmu/table_pages");
		khv_stats_add(f, INST, KHV_SRC_MMU_LARGE, 0, 1, 0, "mmu/large_leaves");
	}
	khv_stats_add(f, CUM | KHV_STATS_UNIT_CYCLES, KHV_SRC_VCPU, VS(time[KHV_TIME_GUEST]), 1,
		      0, "time/guest");
	khv_stats_add(f, CUM | KHV_STATS_UNIT_CYCLES, KHV_SRC_WAY, KHV_WAY_KERNEL, 1, 0,
		      "time/kernel");
	khv_stats_add(f, CUM | KHV_STATS_UNIT_CYCLES, KHV_SRC_WAY, KHV_WAY_USER, 1, 0,
		      "time/user");
	khv_stats_add(f, CUM | KHV_STATS_UNIT_NS, KHV_SRC_VCPU, VS(time[KHV_TIME_HALT]), 1, 0,
		      "time/halt");
	for (i = 0; i < KHV_EXIT_MAX; i++)
		khv_stats_add(f, CUM, KHV_SRC_VCPU, VS(user_exits[i]), 1, 0,
			      "user_exit/%s", khv_user_exit_name(i) + strlen("user_"));
	for (i = 0; i < KHV_KSTAT_MAX; i++)
		khv_stats_add(f, CUM, KHV_SRC_VCPU, VS(kernel_stats[i]), 1, 0,
			      "kernel/%s", khv_kstat_name(i));
	for (i = 0; i < KHV_MAX_EXIT_STATS; i++) {
		const char *name;
		u32 code;

		if (!khv_ops->exit_stat_info(i, &code, &name))
			continue;
		khv_stats_add(f, CUM, KHV_SRC_VCPU, VS(hw_exits[i]), 1, code,
			      "exit/%s/count", name);
		for (w = 0; w < KHV_WAYS; w++) {
			const char *way = w == KHV_WAY_KERNEL ? "kernel" : "user";

			khv_stats_add(f, CUM | KHV_STATS_UNIT_CYCLES, KHV_SRC_VCPU,
				      VS(timing[i].way[w].cycles), 1, code, "exit/%s/%s_cycles",
				      name, way);
			khv_stats_add(f, CUM | hist, KHV_SRC_VCPU, VS(timing[i].way[w].hist),
				      KHV_HIST_BUCKETS, code, "exit/%s/%s_hist", name, way);
		}
	}
}

static void khv_stats_read_block(u64 *out, const struct khv_vcpu_stats *s, u32 off, u32 n,
				 bool sum)
{
	const u64 *in = (const void *)s + off;
	u32 i;

	for (i = 0; i < n; i++)
		out[i] = (sum ? out[i] : 0) + READ_ONCE(in[i]);
}

/* Kernel or user time: the sum over the exit reasons of one way's cycles. */
static u64 khv_stats_way_cycles(const struct khv_vcpu_stats *s, u32 way)
{
	u64 sum = 0;
	u32 i;

	for (i = 0; i < KHV_MAX_EXIT_STATS; i++)
		sum += READ_ONCE(s->timing[i].way[way].cycles);
	return sum;
}

/* Gather the values: f->lock held. */
static void khv_stats_fill(struct khv_stats_file *f)
{
	struct khv_vm_stats *vs = f->vs;
	struct khv_vcpu_stats *blocks[KHV_MAX_VCPUS];
	u64 pinned, tables, large;
	u32 i, j, nblocks = 0;
	bool alive;

	spin_lock(&vs->lock);
	khv_vm_stats_mmu(vs);
	alive = vs->vm;
	pinned = vs->mmu_pinned;
	tables = vs->mmu_tables;
	large = vs->mmu_large;
	/* Slots are only ever filled, and vs holds each block it has. */
	for (i = 0; i < KHV_MAX_VCPUS; i++)
		if (vs->vcpu[i])
			blocks[nblocks++] = vs->vcpu[i];
	spin_unlock(&vs->lock);

	for (i = 0; i < f->nsrc; i++) {
		const struct khv_stats_src *src = &f->src[i];
		u64 *out = f->data + src->at;

		switch (src->kind) {
		case KHV_SRC_VCPU:
			if (f->s) {
				khv_stats_read_block(out, f->s, src->off, src->count, false);
				break;
			}
			memset(out, 0, src->count * sizeof(u64));
			for (j = 0; j < nblocks; j++)
				khv_stats_read_block(out, blocks[j], src->off, src->count, true);
			break;
		case KHV_SRC_WAY:
			*out = 0;
			for (j = 0; j < (f->s ? 1 : nblocks); j++)
				*out += khv_stats_way_cycles(f->s ?: blocks[j], src->off);
			break;
		case KHV_SRC_ALIVE:
			*out = alive;
			break;
		case KHV_SRC_TSC_KHZ:
			*out = tsc_khz;
			break;
		case KHV_SRC_TIMING:
			*out = READ_ONCE(khv_exit_timing);
			break;
		case KHV_SRC_VCPUS:
			*out = nblocks;
			break;
		case KHV_SRC_MMU_PINNED:
			*out = pinned;
			break;
		case KHV_SRC_MMU_TABLES:
			*out = tables;
			break;
		case KHV_SRC_MMU_LARGE:
			*out = large;
			break;
		}
	}
}

static ssize_t khv_stats_read(struct file *filp, char __user *buf, size_t len, loff_t *ppos)
{
	struct khv_stats_file *f = filp->private_data;
	size_t data_size = (size_t)f->ndata * sizeof(u64);
	size_t total = f->meta_size + data_size, done = 0, n;
	loff_t pos = *ppos;

	if (pos < 0)
		return -EINVAL;
	if (pos >= total)
		return 0;
	len = min_t(size_t, len, total - pos);
	if (pos < f->meta_size) {
		n = min_t(size_t, len, f->meta_size - pos);
		if (copy_to_user(buf, f->meta + pos, n))
			return -EFAULT;
		done = n;
	}
	if (done < len) {
		size_t at = pos + done - f->meta_size;

		n = len - done;
		mutex_lock(&f->lock);
		khv_stats_fill(f);
		if (copy_to_user(buf + done, (void *)f->data + at, n)) {
			mutex_unlock(&f->lock);
			return done ? done : -EFAULT;
		}
		mutex_unlock(&f->lock);
		done += n;
	}
	*ppos = pos + done;
	return done;
}

static loff_t khv_stats_llseek(struct file *filp, loff_t offset, int whence)
{
	struct khv_stats_file *f = filp->private_data;

	return fixed_size_llseek(filp, offset, whence,
				 f->meta_size + (size_t)f->ndata * sizeof(u64));
}

static void khv_stats_file_free(struct khv_stats_file *f)
{
	khv_vcpu_stats_put(f->s);
	khv_vm_stats_put(f->vs);
	kvfree(f->data);
	kvfree(f->src);
	kvfree(f->meta);
	kfree(f);
}

static int khv_stats_release(struct inode *inode, struct file *filp)
{
	khv_stats_file_free(filp->private_data);
	return 0;
}

static const struct file_operations khv_stats_fops = {
	.owner		= THIS_MODULE,
	.read		= khv_stats_read,
	.llseek		= khv_stats_llseek,
	.release	= khv_stats_release,
};

/*
 * A new statistics file for a VM (@s NULL) or one of its vCPUs; it takes
 * its own references.  Returns the fd or a negative errno.
 */
int khv_stats_fd(struct khv_vm_stats *vs, struct khv_vcpu_stats *s, u32 vcpu_id)
{
	struct khv_stats_header *h;
	struct khv_stats_file *f;
	struct file *file;
	int fd, err = -ENOMEM;

	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	kref_get(&vs->ref);
	f->vs = vs;
	if (s) {
		kref_get(&s->ref);
		f->s = s;
	}
	f->meta = kvzalloc(sizeof(*h) + KHV_STATS_MAX_DESC * sizeof(struct khv_stats_desc),
			   GFP_KERNEL_ACCOUNT);
	f->src = kvcalloc(KHV_STATS_MAX_DESC, sizeof(*f->src), GFP_KERNEL_ACCOUNT);
	if (!f->meta || !f->src)
		goto err;
	h = f->meta;
	h->magic = KHV_STATS_MAGIC;
	h->version = KHV_STATS_VERSION;
	h->header_size = sizeof(*h);
	h->desc_size = sizeof(struct khv_stats_desc);
	h->desc_offset = sizeof(*h);
	h->flags = s ? KHV_STATS_F_VCPU : 0;
	h->vm_id = vs->vm_id;
	h->vcpu_id = s ? vcpu_id : 0;
	khv_stats_describe(f);
	f->meta_size = h->desc_offset + (size_t)h->num_desc * h->desc_size;
	h->data_offset = f->meta_size;
	h->data_size = (u64)f->ndata * sizeof(u64);
	f->data = kvcalloc(f->ndata, sizeof(u64), GFP_KERNEL_ACCOUNT);
	if (!f->data)
		goto err;

	fd = get_unused_fd_flags(O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto err;
	}
	file = anon_inode_getfile("khv-stats", &khv_stats_fops, f, O_RDONLY);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		err = PTR_ERR(file);
		goto err;
	}
	/* A reader re-reads the values in place: pread() at data_offset. */
	file->f_mode |= FMODE_PREAD;
	fd_install(fd, file);
	return fd;

err:
	khv_stats_file_free(f);
	return err;
}

/* ---- the host's VMs ------------------------------------------------------ */

static DEFINE_MUTEX(khv_vms_lock);
static LIST_HEAD(khv_vms);
static u32 khv_vms_next_id = 1;

/* A new VM, on the list under a new id (ids are never reused). */
void khv_vms_add(struct khv_vm *vm)
{
	vm->pid = get_task_pid(current, PIDTYPE_TGID);
	vm->owner = current_euid();
	get_task_comm(vm->comm, current->group_leader);
	vm->created_ns = ktime_get_boottime_ns();
	mutex_lock(&khv_vms_lock);
	vm->id = khv_vms_next_id++;
	vm->stats->vm_id = vm->id;
	list_add_tail(&vm->node, &khv_vms);
	mutex_unlock(&khv_vms_lock);
}

void khv_vms_del(struct khv_vm *vm)
{
	mutex_lock(&khv_vms_lock);
	list_del(&vm->node);
	mutex_unlock(&khv_vms_lock);
	put_pid(vm->pid);
	vm->pid = NULL;
}

long khv_get_vms(struct khv_vm_list __user *argp)
{
	struct khv_vm_info *ents;
	struct khv_vm *vm;
	u32 cap, n = 0, i = 0;
	long r;

	r = khv_array_capacity(argp, &cap);
	if (r)
		return r;
	mutex_lock(&khv_vms_lock);
	list_for_each_entry(vm, &khv_vms, node)
		n++;
	ents = kvcalloc(max(n, 1u), sizeof(*ents), GFP_KERNEL);
	if (!ents) {
		mutex_unlock(&khv_vms_lock);
		return -ENOMEM;
	}
	list_for_each_entry(vm, &khv_vms, node) {
		struct khv_vm_info *e = &ents[i++];

		e->vm_id = vm->id;
		e->pid = pid_vnr(vm->pid);
		e->nr_vcpus = atomic_read(&vm->nr_vcpus);
		e->created_ns = vm->created_ns;
		memcpy(e->comm, vm->comm, sizeof(e->comm));
	}
	mutex_unlock(&khv_vms_lock);
	r = khv_array_out(argp, cap, ents, n, sizeof(*ents));
	kvfree(ents);
	return r;
}

long khv_open_stats(const struct khv_stats_open __user *argp)
{
	struct khv_vcpu_stats *s = NULL;
	struct khv_stats_open o;
	struct khv_vm *vm;
	long r = -ESRCH;

	if (copy_from_user(&o, argp, sizeof(o)))
		return -EFAULT;
	if ((o.flags & ~KHV_STATS_OPEN_VCPU) || o.pad || o.reserved[0] || o.reserved[1])
		return -EINVAL;
	if (o.vcpu_id >= KHV_MAX_VCPUS || (!(o.flags & KHV_STATS_OPEN_VCPU) && o.vcpu_id))
		return -EINVAL;

	mutex_lock(&khv_vms_lock);
	list_for_each_entry(vm, &khv_vms, node) {
		if (vm->id != o.vm_id)
			continue;
		/* Another user's VM: its exits say what its guest does. */
		if (!uid_eq(current_euid(), vm->owner) && !capable(CAP_SYS_ADMIN)) {
			r = -EACCES;
			break;
		}
		if (o.flags & KHV_STATS_OPEN_VCPU) {
			spin_lock(&vm->stats->lock);
			s = vm->stats->vcpu[o.vcpu_id];
			spin_unlock(&vm->stats->lock);
			if (!s) {
				r = -ENOENT;
				break;
			}
		}
		/* vm->stats stays until khv_vms_del(), which needs this lock. */
		r = khv_stats_fd(vm->stats, s, o.vcpu_id);
		break;
	}
	mutex_unlock(&khv_vms_lock);
	return r;
}
