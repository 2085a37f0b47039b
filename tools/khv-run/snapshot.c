// SPDX-License-Identifier: GPL-2.0
/*
 * A whole machine in the snapshot stream, and back (snapshot.h).
 *
 * Saving runs on the I/O thread with the vCPUs paused.  The devices are
 * frozen first (devices.c: no virtqueue is popped, the requests already
 * taken complete), so nothing writes guest memory or the disks while the
 * stream is written; then the disks are synced and their identities
 * taken, and everything goes out.  The caller thaws the devices if the VM
 * goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "devices.h"
#include "machine.h"
#include "snapfield.h"
#include "strbuf.h"
#include "snapram.h"
#include "snapshot.h"
#include "vmm.h"
#include "vmstate.h"

#define MACHINE_VERSION	1
#define PATH_MAX_SAVED	4096

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put_str(struct kr_sbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (n > PATH_MAX_SAVED)
		n = PATH_MAX_SAVED;
	kr_sbuf_u16(b, n);
	kr_sbuf_bytes(b, s, n);
}

static void get_str(struct kr_sget *g, char *out, size_t cap)
{
	uint16_t n = kr_sget_u16(g);

	if (n >= cap) {
		kr_sget_fail(g, "a name of %u bytes", n);
		out[0] = 0;
		return;
	}
	kr_sget_bytes(g, out, n);
	out[n] = 0;
}

/* ---- the disks' identities ------------------------------------------------- */

/*
 * What says a disk file is the one the snapshot was taken with: its size,
 * device and inode, and modification time (after the sync: a write
 * afterwards moves it on).  An NBD export has only its size.
 */
struct disk_id {
	char name[32];
	char path[PATH_MAX_SAVED + 1];
	uint64_t size;
	bool ro, file;
	uint64_t dev, ino, mtime_sec;
	uint32_t mtime_nsec;
};

static void disk_id(struct kr_disk *d, struct disk_id *id)
{
	struct kr_disk_info info;
	struct stat st;
	int fd = kr_disk_fd(d);

	kr_disk_query(d, &info);
	memset(id, 0, sizeof(*id));
	snprintf(id->name, sizeof(id->name), "%s", info.name);
	snprintf(id->path, sizeof(id->path), "%s", info.path);
	id->size = info.size;
	id->ro = info.ro;
	if (fd >= 0 && !fstat(fd, &st)) {
		id->file = true;
		id->dev = st.st_dev;
		id->ino = st.st_ino;
		id->mtime_sec = st.st_mtim.tv_sec;
		id->mtime_nsec = st.st_mtim.tv_nsec;
	}
}

static void put_machine(struct kr_machine *m, struct kr_sbuf *b)
{
	const struct kr_config *cfg = m->cfg;

	kr_sbuf_begin(b, MACHINE_VERSION);
	kr_sbuf_u32(b, m->nr_vcpus);
	kr_sbuf_u64(b, m->mem.low_size);
	kr_sbuf_u64(b, m->mem.high_size);
	kr_sbuf_bool(b, cfg->kvmclock);
	kr_sbuf_u32(b, cfg->nr_disks);
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		struct disk_id id;

		disk_id(cfg->disks[i], &id);
		put_str(b, id.name);
		put_str(b, id.path);
		kr_sbuf_u64(b, id.size);
		kr_sbuf_bool(b, id.ro);
		kr_sbuf_bool(b, id.file);
		kr_sbuf_u64(b, id.dev);
		kr_sbuf_u64(b, id.ino);
		kr_sbuf_u64(b, id.mtime_sec);
		kr_sbuf_u32(b, id.mtime_nsec);
	}
}

static void fmt_time(char *buf, size_t n, uint64_t sec, uint32_t nsec)
{
	time_t t = (time_t)sec;
	struct tm tm;

	if (gmtime_r(&t, &tm))
		snprintf(buf + strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm),
			 n - strlen(buf), ".%09u UTC", nsec);
	else
		snprintf(buf, n, "%llu", (unsigned long long)sec);
}

/* One disk of the snapshot against the machine's: 0 or -EPROTO with why. */
static int check_disk(const struct disk_id *was, struct kr_disk *d, unsigned int flags,
		      char *why, size_t len)
{
	struct disk_id now;
	char t1[64] = "", t2[64] = "";

	disk_id(d, &now);
	if (strcmp(was->name, now.name) || was->size != now.size || was->ro != now.ro)
		return kr_fail(why, len, -EPROTO, "disk %s (%s): the snapshot has %s of %llu bytes%s",
			    now.name, now.path, was->name, (unsigned long long)was->size,
			    was->ro ? ", read-only" : "");
	if (!was->file || !now.file || (flags & KR_RESTORE_CHANGED_DISKS))
		return 0;
	if (was->dev == now.dev && was->ino == now.ino && was->mtime_sec == now.mtime_sec &&
	    was->mtime_nsec == now.mtime_nsec)
		return 0;
	if (was->dev != now.dev || was->ino != now.ino)
		return kr_fail(why, len, -EPROTO, "disk %s: %s is not the file the snapshot was taken "
			    "with (%s); --restore-changed-disks restores over it anyway", now.name,
			    now.path, was->path);
	fmt_time(t1, sizeof(t1), was->mtime_sec, was->mtime_nsec);
	fmt_time(t2, sizeof(t2), now.mtime_sec, now.mtime_nsec);
	return kr_fail(why, len, -EPROTO, "disk %s: %s was modified after the snapshot (at %s, the "
		    "snapshot is of %s); --restore-changed-disks restores over it anyway",
		    now.name, now.path, t2, t1);
}

static int load_machine(struct kr_machine *m, const void *p, size_t n, unsigned int flags,
			char *why, size_t len)
{
	const struct kr_config *cfg = m->cfg;
	struct disk_id *was = calloc(1, sizeof(*was));
	uint32_t vcpus, disks;
	uint64_t low, high;
	bool kvmclock;
	struct kr_sget g;
	int err = 0;

	if (!was)
		return kr_fail(why, len, -ENOMEM, "out of memory");
	kr_sget_init(&g, p, n, "machine");
	kr_sget_begin(&g, MACHINE_VERSION);
	vcpus = kr_sget_u32(&g);
	low = kr_sget_u64(&g);
	high = kr_sget_u64(&g);
	kvmclock = kr_sget_bool(&g);
	disks = kr_sget_u32(&g);
	if (!g.bad && vcpus != m->nr_vcpus)
		kr_sget_fail(&g, "%u vCPUs in the snapshot, %u here (--cpus)", vcpus, m->nr_vcpus);
	if (!g.bad && (low != m->mem.low_size || high != m->mem.high_size))
		kr_sget_fail(&g, "%llu MiB of RAM in the snapshot, %llu here (--memory)",
			     (unsigned long long)((low + high) >> 20),
			     (unsigned long long)(kr_mem_size(&m->mem) >> 20));
	if (!g.bad && kvmclock != cfg->kvmclock)
		kr_sget_fail(&g, "kvmclock %s in the snapshot (--no-kvmclock)",
			     kvmclock ? "on" : "off");
	if (!g.bad && disks != cfg->nr_disks)
		kr_sget_fail(&g, "%u disks in the snapshot, %u here (--disk)", disks,
			     cfg->nr_disks);
	for (uint32_t i = 0; !g.bad && !err && i < disks; i++) {
		get_str(&g, was->name, sizeof(was->name));
		get_str(&g, was->path, sizeof(was->path));
		was->size = kr_sget_u64(&g);
		was->ro = kr_sget_bool(&g);
		was->file = kr_sget_bool(&g);
		was->dev = kr_sget_u64(&g);
		was->ino = kr_sget_u64(&g);
		was->mtime_sec = kr_sget_u64(&g);
		was->mtime_nsec = kr_sget_u32(&g);
		if (!g.bad)
			err = check_disk(was, cfg->disks[i], flags, why, len);
	}
	free(was);
	if (err)
		return err;
	if (kr_sget_done(&g))
		return kr_fail(why, len, -EPROTO, "%s", g.why);
	return 0;
}

/* ---- writing --------------------------------------------------------------- */

static int put_section(struct kr_snap_writer *w, uint32_t type, uint32_t inst,
		       struct kr_sbuf *b, char *why, size_t len)
{
	struct iovec v = { b->p, b->len };
	int err;

	if (b->oom)
		return kr_fail(why, len, -ENOMEM, "out of memory");
	err = kr_snap_write_section(w, type, inst, &v, 1);
	b->len = 0;
	return err ? kr_fail(why, len, err, "writing: %s", strerror(-err)) : 0;
}

void kr_snapshot_ram_regions(struct kr_machine *m, struct kr_ram_region *r, unsigned int *n)
{
	*n = 0;
	r[(*n)++] = (struct kr_ram_region){ 0, m->mem.low_size, m->mem.low };
	if (m->mem.high_size)
		r[(*n)++] = (struct kr_ram_region){ KR_HIGHMEM_BASE, m->mem.high_size,
						    m->mem.high };
}

int kr_snapshot_write_machine(struct kr_machine *m, struct kr_snap_writer *w, char *why,
			      size_t len)
{
	struct kr_sbuf b = { 0 };
	int err = 0;

	for (unsigned int i = 0; !err && i < m->cfg->nr_disks; i++) {
		err = kr_disk_sync(m->cfg->disks[i]);
		if (err)
			kr_fail(why, len, err, "syncing disk %u: %s", i, strerror(-err));
	}
	if (!err) {
		put_machine(m, &b);
		err = put_section(w, KR_SNAP_MACHINE, 0, &b, why, len);
	}
	kr_sbuf_free(&b);
	return err;
}

int kr_snapshot_write_state(struct kr_machine *m, struct kr_snap_writer *w, char *why,
			    size_t len)
{
	uint32_t msrs[KR_VMSTATE_MAX_MSRS], n_msrs = 0;
	struct kr_sbuf b = { 0 };
	int err = kr_devices_save(m->dev, w, why, len);

	if (!err) {
		err = khv_get_msr_index_list(&m->sys, msrs, KR_VMSTATE_MAX_MSRS, &n_msrs);
		if (err)
			kr_fail(why, len, err, "KHV_GET_MSR_INDEX_LIST: %s", khv_strerror(err));
	}
	for (unsigned int i = 0; !err && i < m->nr_vcpus; i++) {
		char vwhy[160];

		err = kr_vmstate_save_vcpu(&m->vcpus[i].vcpu, msrs, n_msrs, &b, vwhy,
					   sizeof(vwhy));
		if (err)
			kr_fail(why, len, err, "vCPU %u: %s", i, vwhy);
		else
			err = put_section(w, KR_SNAP_VCPU, i, &b, why, len);
	}
	if (!err)
		err = kr_vmstate_save_vm(&m->vm, &b, why, len);
	if (!err)
		err = put_section(w, KR_SNAP_VM, 0, &b, why, len);
	if (!err) {
		err = kr_snap_write_end(w);
		if (err)
			kr_fail(why, len, err, "writing: %s", strerror(-err));
	}
	kr_sbuf_free(&b);
	return err;
}

static int sbuf_write(void *ctx, const void *buf, size_t n)
{
	struct kr_sbuf *b = ctx;

	kr_sbuf_bytes(b, buf, n);
	return b->oom ? -ENOMEM : 0;
}

int kr_snapshot_capture_state(struct kr_machine *m, struct kr_sbuf *state, char *why,
			      size_t len)
{
	/* Sections only: the stream's header is the real writer's. */
	struct kr_snap_writer mw = { .io = { .write = sbuf_write, .ctx = state } };

	state->len = 0;
	return kr_snapshot_write_state(m, &mw, why, len);
}

int kr_snapshot_put_state(struct kr_snap_writer *w, const struct kr_sbuf *state)
{
	int err = w->err ? w->err : w->io.write(w->io.ctx, state->p, state->len);

	if (err)
		w->err = err;
	else
		w->offset += state->len;
	return err;
}

static int write_all(struct kr_machine *m, struct kr_snap_writer *w, struct kr_snap_result *res,
		     char *why, size_t len)
{
	struct kr_ram_region r[2];
	struct kr_sbuf state = { 0 };
	unsigned int nr;
	int err = kr_snapshot_capture_state(m, &state, why, len);

	if (!err)
		err = kr_snapshot_write_machine(m, w, why, len);
	kr_snapshot_ram_regions(m, r, &nr);
	for (unsigned int i = 0; !err && i < nr; i++) {
		uint64_t sent, zero;

		err = kr_ram_write(w, &r[i], NULL, &sent, &zero);
		if (err) {
			kr_fail(why, len, err, "writing RAM: %s", strerror(-err));
			break;
		}
		res->pages += sent;
		res->zero_pages += zero;
	}
	if (!err) {
		err = kr_snapshot_put_state(w, &state);
		if (err)
			kr_fail(why, len, err, "writing: %s", strerror(-err));
	}
	kr_sbuf_free(&state);
	return err;
}

int kr_snapshot_write(struct kr_machine *m, struct kr_snap_writer *w, struct kr_snap_result *res,
		      char *why, size_t len)
{
	uint64_t t0 = now_ms();
	int err;

	memset(res, 0, sizeof(*res));
	err = kr_devices_freeze(m->dev, why, len);
	if (!err)
		err = write_all(m, w, res, why, len);
	res->bytes = w->offset;
	res->ms = now_ms() - t0;
	return err;
}

int kr_snapshot_save(struct kr_machine *m, const char *path, struct kr_snap_result *res,
		     char *why, size_t len)
{
	struct kr_snap_writer w;
	struct kr_snap_io io;
	char *tmp;
	int fd, err;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return kr_fail(why, len, -ENOMEM, "out of memory");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		kr_fail(why, len, err, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return err;
	}
	kr_snap_io_fd(&io, &fd);
	kr_snap_write_begin(&w, &io);
	err = kr_snapshot_write(m, &w, res, why, len);
	if (!err && fsync(fd)) {
		err = -errno;
		kr_fail(why, len, err, "%s: fsync: %s", tmp, strerror(errno));
	}
	if (close(fd) && !err) {
		err = -errno;
		kr_fail(why, len, err, "%s: close: %s", tmp, strerror(errno));
	}
	if (!err && rename(tmp, path)) {
		err = -errno;
		kr_fail(why, len, err, "%s: %s", path, strerror(errno));
	}
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}

/* ---- reading --------------------------------------------------------------- */

struct reading {
	bool machine, vm;
	uint32_t vcpus;				/* loaded */
	uint8_t vcpu_seen[KR_MAX_VCPUS];
};

static int read_section(struct kr_machine *m, struct reading *st, uint32_t type, uint32_t inst,
			const void *p, size_t n, unsigned int flags, char *why, size_t len)
{
	struct kr_ram_region r[2];
	unsigned int nr;
	char swhy[200];
	int err;

	if (type != KR_SNAP_MACHINE && !st->machine)
		return kr_fail(why, len, -EPROTO, "section %u before the machine section", type);
	switch (type) {
	case KR_SNAP_MACHINE:
		if (st->machine)
			return kr_fail(why, len, -EPROTO, "a second machine section");
		st->machine = true;
		return load_machine(m, p, n, flags, why, len);
	case KR_SNAP_RAM:
		kr_snapshot_ram_regions(m, r, &nr);
		return kr_ram_load(p, n, r, nr, why, len);
	case KR_SNAP_DEVICE:
		return kr_devices_load(m->dev, inst, p, n, why, len);
	case KR_SNAP_VCPU:
		if (inst >= m->nr_vcpus || st->vcpu_seen[inst] || st->vm)
			return kr_fail(why, len, -EPROTO, "vCPU section %u out of place", inst);
		st->vcpu_seen[inst] = 1;
		st->vcpus++;
		err = kr_vmstate_load_vcpu(&m->vcpus[inst].vcpu, p, n, swhy, sizeof(swhy));
		return err ? kr_fail(why, len, err, "vCPU %u: %s", inst, swhy) : 0;
	case KR_SNAP_VM:
		if (st->vm || st->vcpus != m->nr_vcpus)
			return kr_fail(why, len, -EPROTO, "VM section before every vCPU's");
		st->vm = true;
		return kr_vmstate_load_vm(&m->vm, p, n, flags & KR_RESTORE_REALTIME, why, len);
	}
	return kr_fail(why, len, -EPROTO, "unknown section type %u", type);
}

int kr_snapshot_read(struct kr_machine *m, struct kr_snap_reader *r, unsigned int flags,
		     char *why, size_t len)
{
	struct reading st = { 0 };

	for (;;) {
		uint32_t type, inst;
		uint64_t at = r->offset;
		void *p = NULL;
		size_t n = 0;
		char swhy[224];
		int err = kr_snap_read_section(r, &type, &inst, &p, &n, KR_SNAP_MAX);

		if (err == -EPROTO)
			return kr_fail(why, len, err, "%s", r->why);
		if (err)
			return kr_fail(why, len, err, "reading: %s", strerror(-err));
		if (type == KR_SNAP_END) {
			free(p);
			break;
		}
		err = read_section(m, &st, type, inst, p, n, flags, swhy, sizeof(swhy));
		free(p);
		if (err)
			return kr_fail(why, len, err, "offset %llu: %s", (unsigned long long)at, swhy);
	}
	if (!st.vm)
		return kr_fail(why, len, -EPROTO, "the stream ends without the VM's state");
	return kr_devices_loaded(m->dev, why, len);
}

int kr_snapshot_restore(struct kr_machine *m, const char *path, unsigned int flags, char *why,
			size_t len)
{
	struct kr_snap_reader r;
	struct kr_snap_io io;
	char rwhy[320];
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0) {
		kr_fail(why, len, 0, "--restore %s: %s", path, strerror(errno));
		return errno == ENOENT || errno == EACCES ? KR_EXIT_USAGE : KR_EXIT_HOST;
	}
	kr_snap_io_fd(&io, &fd);
	err = kr_snap_read_begin(&r, &io);
	if (err)
		snprintf(rwhy, sizeof(rwhy), "%s", err == -EPROTO ? r.why : strerror(-err));
	else
		err = kr_snapshot_read(m, &r, flags, rwhy, sizeof(rwhy));
	close(fd);
	if (!err)
		return 0;
	kr_fail(why, len, 0, "--restore %s: %s", path, rwhy);
	return err == -EPROTO || err == -EINVAL ? KR_EXIT_IMAGE : KR_EXIT_HOST;
}
