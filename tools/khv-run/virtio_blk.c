// SPDX-License-Identifier: GPL-2.0
/*
 * virtio block device (virtio_blk.h).
 *
 * Threads: the transport calls blk_notify() on a vCPU thread (MMIO write)
 * or the I/O thread (kr_virtio_pci_kick()); it only writes the queue's
 * eventfd.  A khv ioeventfd on the notify address writes the same eventfd
 * from the kernel.  Each queue's worker thread sleeps in read() on it, then
 * pops chains, does the I/O (disk.c: preadv/pwritev/fdatasync/fallocate),
 * pushes each chain when its I/O returned, and interrupts the driver once
 * per batch.  One worker serves its queue in order, one request at a time:
 * when a FLUSH is taken, every write taken before it in this queue has
 * completed, and writes the driver saw complete on other queues are in the
 * file too, so the fdatasync() covers them all; the FLUSH is pushed only
 * after fdatasync() returned.  A driver that was offered FLUSH and did not
 * take it gets every write synced before it completes (5.2.6.2).
 *
 * Locking: w->lock (one per worker) is held by the worker while it serves
 * a batch (across kr_virtio_pop()/push(): worker lock -> transport queue
 * lock, the order virtio_pci.c allows) and dropped before
 * kr_virtio_notify().  blk_reset() takes and drops each worker's lock:
 * the transport already makes pops return nothing, so once it has the
 * lock the worker is idle or about to find the queue empty.  The rest of
 * the device is set at creation and then only read (the test hook is an
 * atomic pointer).
 *
 * Reset and destroy: a request in flight completes (its disk I/O runs to
 * the end: a system call cannot be taken back) but after a reset its
 * completion is dropped (the transport's epoch: the driver that reset the
 * device has forgotten the buffer).  Chains not yet taken are never taken.
 * Destroy stops each worker after the request it is in, then removes the
 * queue state.
 *
 * Guest input: the header is the first 16 device-readable bytes and the
 * status the last device-writable byte, wherever the descriptors split
 * them; the header and the DISCARD/WRITE_ZEROES segments are copied once
 * and only the copies are checked and used.  Every writable byte before
 * the status that the request did not fill is zeroed, so that the used
 * length is always all the writable bytes, the status included (2.7.8.2:
 * the device wrote at least that many).  A chain without a writable byte
 * has nowhere for a status: it is returned with length 0 and the device
 * marked DEVICE_NEEDS_RESET.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "iov.h"
#include "virtio_blk.h"

#define BATCH		64	/* chains served between two interrupts, at most */
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct worker {
	struct kr_virtio_blk *b;
	unsigned int q;
	int efd;
	bool started;
	bool stop;		/* atomic */
	pthread_t thread;
	pthread_mutex_t lock;	/* held while serving a batch */
	void *bounce;
	struct iovec iov[KR_BLK_QUEUE_SIZE];	/* the chain */
	struct iovec data[KR_BLK_QUEUE_SIZE];	/* its data part */
};

struct kr_virtio_blk {
	struct kr_virtio_pci *vp;
	struct kr_disk *disk;
	struct kr_virtio_ops ops;
	uint64_t offered;
	uint8_t config[KR_BLK_CONFIG_LEN];
	kr_blk_hook_fn *hook;		/* atomic */
	void *hook_opaque;
	unsigned int nq;
	struct worker w[];
};

static uint64_t bit(unsigned int b)
{
	return 1ull << b;
}

/* ---- requests ---------------------------------------------------------------- */

/* One request being served. */
struct req {
	struct worker *w;
	struct kr_vq_elem *e;
	const struct iovec *out, *in;	/* readable, writable parts */
	uint64_t features;
	uint32_t in_data;		/* writable bytes before the status */
	uint32_t filled;		/* of those, the prefix the request wrote */
};

static bool in_disk(const struct kr_disk *d, uint64_t sector, uint64_t bytes)
{
	uint64_t cap = kr_disk_sectors(d);

	return sector <= cap && bytes / KR_DISK_SECTOR <= cap - sector;
}

static uint8_t invalid(struct req *r, uint8_t status)
{
	kr_disk_count_invalid(r->w->b->disk);
	return status;
}

/* FLUSH offered but the driver did not take it: every write must be stable (5.2.6.2). */
static int settle(struct req *r)
{
	struct kr_virtio_blk *b = r->w->b;

	if ((b->offered & bit(KR_BLK_F_FLUSH)) && !(r->features & bit(KR_BLK_F_FLUSH)))
		return kr_disk_sync(b->disk);
	return 0;
}

static uint8_t do_in(struct req *r, uint64_t sector)
{
	struct worker *w = r->w;
	struct kr_disk *d = w->b->disk;
	uint64_t len = r->in_data;
	unsigned int n;

	if (len % KR_DISK_SECTOR || !in_disk(d, sector, len))
		return invalid(r, KR_BLK_S_IOERR);
	n = kr_iov_slice(r->in, r->e->n_in, 0, len, w->data);
	if (kr_disk_read(d, w->data, n, sector * KR_DISK_SECTOR, len, w->bounce))
		return KR_BLK_S_IOERR;
	r->filled = len;
	return KR_BLK_S_OK;
}

static uint8_t do_out(struct req *r, uint64_t sector)
{
	struct worker *w = r->w;
	struct kr_disk *d = w->b->disk;
	uint64_t len = r->e->out_bytes - KR_BLK_HDR_SIZE;
	unsigned int n;

	/* Read-only: IOERR and nothing written (5.2.6.2). */
	if (kr_disk_ro(d) || len % KR_DISK_SECTOR || !in_disk(d, sector, len))
		return invalid(r, KR_BLK_S_IOERR);
	n = kr_iov_slice(r->out, r->e->n_out, KR_BLK_HDR_SIZE, len, w->data);
	if (kr_disk_write(d, w->data, n, sector * KR_DISK_SECTOR, len, w->bounce) || settle(r))
		return KR_BLK_S_IOERR;
	return KR_BLK_S_OK;
}

static uint8_t do_get_id(struct req *r)
{
	char id[KR_DISK_SERIAL_MAX] = { 0 };	/* NUL-padded, no NUL when 20 long */
	const char *serial = kr_disk_serial(r->w->b->disk);
	uint32_t n = r->in_data < sizeof(id) ? r->in_data : sizeof(id);

	memcpy(id, serial, strnlen(serial, sizeof(id)));
	kr_iov_copy(r->in, r->e->n_in, 0, id, n, true);
	r->filled = n;
	return KR_BLK_S_OK;
}

/* DISCARD or WRITE_ZEROES: check every segment, then do them. */
static uint8_t do_ranges(struct req *r, bool wz)
{
	uint8_t seg[KR_BLK_MAX_DISCARD_SEG * KR_BLK_SEG_SIZE];
	struct worker *w = r->w;
	struct kr_disk *d = w->b->disk;
	uint64_t bytes = r->e->out_bytes - KR_BLK_HDR_SIZE;
	uint32_t allowed = wz ? KR_BLK_WZ_F_UNMAP : 0;
	unsigned int nseg;

	if (kr_disk_ro(d))
		return invalid(r, KR_BLK_S_IOERR);
	if (!(r->features & bit(wz ? KR_BLK_F_WRITE_ZEROES : KR_BLK_F_DISCARD)))
		return invalid(r, KR_BLK_S_UNSUPP);
	if (!bytes || bytes % KR_BLK_SEG_SIZE || bytes > sizeof(seg))
		return invalid(r, KR_BLK_S_IOERR);
	nseg = bytes / KR_BLK_SEG_SIZE;
	kr_iov_copy(r->out, r->e->n_out, KR_BLK_HDR_SIZE, seg, bytes, false);	/* one copy */
	for (unsigned int i = 0; i < nseg; i++) {
		const uint8_t *s = seg + i * KR_BLK_SEG_SIZE;
		uint32_t num = kr_get_le(s + 8, 4);

		/* Unknown flags, or unmap on a discard: UNSUPP (5.2.6.2). */
		if (kr_get_le(s + 12, 4) & ~allowed)
			return invalid(r, KR_BLK_S_UNSUPP);
		if (num > KR_BLK_MAX_DISCARD_SECTORS ||
		    !in_disk(d, kr_get_le(s, 8), (uint64_t)num * KR_DISK_SECTOR))
			return invalid(r, KR_BLK_S_IOERR);
	}
	for (unsigned int i = 0; i < nseg; i++) {
		const uint8_t *s = seg + i * KR_BLK_SEG_SIZE;
		uint64_t off = kr_get_le(s, 8) * KR_DISK_SECTOR;
		uint64_t len = kr_get_le(s + 8, 4) * (uint64_t)KR_DISK_SECTOR;
		bool unmap = kr_get_le(s + 12, 4) & KR_BLK_WZ_F_UNMAP;
		int err;

		if (wz)
			err = kr_disk_write_zeroes(d, off, len, unmap, w->bounce);
		else
			err = kr_disk_discard(d, off, len);
		if (err)
			return KR_BLK_S_IOERR;
	}
	return settle(r) ? KR_BLK_S_IOERR : KR_BLK_S_OK;
}

static uint8_t dispatch(struct req *r)
{
	uint8_t hdr[KR_BLK_HDR_SIZE];
	uint64_t sector;

	if (r->e->out_bytes < KR_BLK_HDR_SIZE)
		return invalid(r, KR_BLK_S_IOERR);
	kr_iov_copy(r->out, r->e->n_out, 0, hdr, sizeof(hdr), false);
	sector = kr_get_le(hdr + 8, 8);
	switch (kr_get_le(hdr, 4)) {
	case KR_BLK_T_IN:
		return do_in(r, sector);
	case KR_BLK_T_OUT:
		return do_out(r, sector);
	case KR_BLK_T_FLUSH:
		/* Pushed by our caller only now that fdatasync() returned. */
		return kr_disk_flush(r->w->b->disk) ? KR_BLK_S_IOERR : KR_BLK_S_OK;
	case KR_BLK_T_GET_ID:
		return do_get_id(r);
	case KR_BLK_T_DISCARD:
		return do_ranges(r, false);
	case KR_BLK_T_WRITE_ZEROES:
		return do_ranges(r, true);
	default:		/* GET_LIFETIME, SECURE_ERASE, zones, legacy SCSI, garbage */
		return invalid(r, KR_BLK_S_UNSUPP);
	}
}

static void serve_one(struct worker *w, struct kr_vq_elem *e, uint64_t features)
{
	struct kr_virtio_blk *b = w->b;
	struct req r = { .w = w, .e = e, .out = e->iov, .in = e->iov + e->n_out,
			 .features = features };
	uint8_t status;

	if (!e->in_bytes) {
		kr_disk_count_invalid(b->disk);
		kr_virtio_needs_reset(b->vp);	/* before the driver sees the buffer back */
		kr_virtio_push(b->vp, w->q, e, 0);
		return;
	}
	r.in_data = e->in_bytes - 1;
	status = dispatch(&r);
	kr_iov_zero(r.in, e->n_in, r.filled, r.in_data - r.filled);
	kr_iov_copy(r.in, e->n_in, r.in_data, &status, 1, true);
	kr_virtio_push(b->vp, w->q, e, e->in_bytes);
}

/* ---- workers ------------------------------------------------------------------ */

static bool stopping(struct worker *w)
{
	return __atomic_load_n(&w->stop, __ATOMIC_ACQUIRE);
}

/* Everything the queue has, in batches of BATCH with an interrupt after each. */
static void serve(struct worker *w)
{
	struct kr_virtio_blk *b = w->b;
	struct kr_vq_elem e = { .iov = w->iov, .cap = KR_BLK_QUEUE_SIZE };
	bool more = true;

	while (more) {
		unsigned int n = 0;
		uint64_t features;

		pthread_mutex_lock(&w->lock);
		features = kr_virtio_features(b->vp);
		while (n < BATCH) {
			kr_blk_hook_fn *hook;

			if (stopping(w) || kr_virtio_pop(b->vp, w->q, &e) <= 0) {
				more = false;
				break;
			}
			hook = __atomic_load_n(&b->hook, __ATOMIC_ACQUIRE);
			if (hook)
				hook(b->hook_opaque, w->q);
			serve_one(w, &e, features);
			n++;
		}
		pthread_mutex_unlock(&w->lock);
		if (n)
			kr_virtio_notify(b->vp, w->q);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t v;

	while (!stopping(w)) {
		if (read(w->efd, &v, sizeof(v)) < 0 && errno != EINTR)
			break;		/* cannot happen to an eventfd we own */
		if (!stopping(w))
			serve(w);
	}
	return NULL;
}

static int start_worker(struct kr_virtio_blk *b, unsigned int q)
{
	static const int faults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT };
	struct worker *w = &b->w[q];
	struct kr_disk_info info;
	sigset_t all, old;
	char name[16];
	int err;

	w->b = b;
	w->q = q;
	w->efd = eventfd(0, EFD_CLOEXEC);
	if (w->efd < 0)
		return -errno;
	w->bounce = kr_disk_bounce_alloc();
	if (!w->bounce)
		return -ENOMEM;
	/*
	 * Signals are for the other threads (vCPU kicks, the loop's signalfd);
	 * a fault of our own still reaches us (and the sanitizers).
	 */
	sigfillset(&all);
	for (unsigned int i = 0; i < ARRAY_SIZE(faults); i++)
		sigdelset(&all, faults[i]);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	w->started = true;
	kr_disk_query(b->disk, &info);
	snprintf(name, sizeof(name), "blk-%.6s/%u", info.name, q);
	pthread_setname_np(w->thread, name);
	return 0;
}

static void stop_worker(struct worker *w)
{
	uint64_t one = 1;

	if (w->started) {
		__atomic_store_n(&w->stop, true, __ATOMIC_RELEASE);
		if (write(w->efd, &one, sizeof(one)) < 0)
			abort();	/* the worker would never wake */
		pthread_join(w->thread, NULL);
		w->started = false;
	}
	if (w->efd >= 0)
		close(w->efd);
	w->efd = -1;
	free(w->bounce);
	w->bounce = NULL;
}

/* ---- transport callbacks ------------------------------------------------------- */

static void blk_notify(void *opaque, unsigned int q)
{
	struct kr_virtio_blk *b = opaque;
	uint64_t one = 1;

	/* Only fails when the counter is about to overflow: a wakeup is pending then. */
	if (q < b->nq && write(b->w[q].efd, &one, sizeof(one)) < 0)
		return;
}

static void blk_config_read(void *opaque, uint32_t offset, uint8_t *data, unsigned int size)
{
	struct kr_virtio_blk *b = opaque;

	memcpy(data, b->config + offset, size);	/* offset + size <= config_len: checked */
}

static void blk_reset(void *opaque)
{
	struct kr_virtio_blk *b = opaque;

	for (unsigned int i = 0; i < b->nq; i++) {
		pthread_mutex_lock(&b->w[i].lock);
		pthread_mutex_unlock(&b->w[i].lock);
	}
}

/* ---- snapshots ------------------------------------------------------------------- */

#define SNAP_VERSION	1

int kr_virtio_blk_save(struct kr_virtio_blk *b, struct kr_sbuf *sb)
{
	size_t start = sb->len;
	int err;

	/* A worker holds its lock from a pop to its push: with all of them, none is between. */
	for (unsigned int i = 0; i < b->nq; i++)
		pthread_mutex_lock(&b->w[i].lock);
	kr_sbuf_begin(sb, SNAP_VERSION);
	kr_sbuf_u16(sb, b->nq);
	kr_sbuf_u64(sb, b->offered);
	kr_sbuf_bytes(sb, b->config, sizeof(b->config));
	err = kr_virtio_pci_save(b->vp, sb, NULL);
	for (unsigned int i = b->nq; i-- > 0;)
		pthread_mutex_unlock(&b->w[i].lock);
	if (err && !sb->oom)
		sb->len = start;
	return err;
}

int kr_virtio_blk_load(struct kr_virtio_blk *b, struct kr_sget *g)
{
	uint8_t config[KR_BLK_CONFIG_LEN];
	struct kr_disk_info info;
	uint64_t offered, sectors, here;
	unsigned int nq;

	if (kr_sget_begin(g, SNAP_VERSION))
		return -EPROTO;
	nq = kr_sget_u16(g);
	offered = kr_sget_u64(g);
	kr_sget_bytes(g, config, sizeof(config));
	if (g->bad)
		return -EPROTO;
	/* The guest sized its disk and queues from these: the same disk, or nothing. */
	kr_disk_query(b->disk, &info);
	sectors = kr_get_le(config + KR_BLK_CFG_CAPACITY, 8);
	here = kr_get_le(b->config + KR_BLK_CFG_CAPACITY, 8);
	if (sectors != here)
		return kr_sget_fail(g, "%s: %llu sectors in the snapshot, %llu here", info.name,
				    (unsigned long long)sectors, (unsigned long long)here);
	if (nq != b->nq)
		return kr_sget_fail(g, "%s: queues: %u in the snapshot, %u here", info.name, nq,
				    b->nq);
	if (offered != b->offered)
		return kr_sget_fail(g, "%s: features 0x%llx in the snapshot, 0x%llx here "
				    "(read-only, cache or discard options differ)", info.name,
				    (unsigned long long)offered, (unsigned long long)b->offered);
	for (unsigned int i = 0; i < sizeof(config); i++)
		if (config[i] != b->config[i])
			return kr_sget_fail(g, "%s: configuration byte %u is 0x%02x in the "
					    "snapshot, 0x%02x here (block sizes or discard limits "
					    "differ)", info.name, i, config[i], b->config[i]);
	return kr_virtio_pci_load(b->vp, g);
}

void kr_virtio_blk_drain(struct kr_virtio_blk *b)
{
	/* A batch in progress ends with its lock; a new one pops nothing while frozen. */
	for (unsigned int i = 0; i < b->nq; i++) {
		pthread_mutex_lock(&b->w[i].lock);
		pthread_mutex_unlock(&b->w[i].lock);
	}
}

/* ---- setup ---------------------------------------------------------------------- */

static void setup(struct kr_virtio_blk *b)
{
	struct kr_disk *d = b->disk;
	uint32_t blk = kr_disk_blk_size(d), phys = kr_disk_phys_size(d);
	unsigned int exp = 0;
	uint8_t *c = b->config;

	b->offered = bit(KR_BLK_F_SEG_MAX) | bit(KR_BLK_F_BLK_SIZE) | bit(KR_BLK_F_TOPOLOGY);
	if (kr_disk_cache(d) != KR_DISK_WRITETHROUGH)
		b->offered |= bit(KR_BLK_F_FLUSH);
	if (kr_disk_ro(d))
		b->offered |= bit(KR_BLK_F_RO);
	if (b->nq > 1)
		b->offered |= bit(KR_BLK_F_MQ);
	if (kr_disk_discard_on(d) && !kr_disk_ro(d))
		b->offered |= bit(KR_BLK_F_DISCARD) | bit(KR_BLK_F_WRITE_ZEROES);

	while ((blk << exp) < phys)
		exp++;
	kr_put_le(c + KR_BLK_CFG_CAPACITY, 8, kr_disk_sectors(d));
	kr_put_le(c + KR_BLK_CFG_SEG_MAX, 4, KR_BLK_SEG_MAX);
	kr_put_le(c + KR_BLK_CFG_BLK_SIZE, 4, blk);
	c[KR_BLK_CFG_PHYS_EXP] = exp;
	kr_put_le(c + KR_BLK_CFG_MIN_IO, 2, 1u << exp);
	c[KR_BLK_CFG_WRITEBACK] = !!(b->offered & bit(KR_BLK_F_FLUSH));
	kr_put_le(c + KR_BLK_CFG_NUM_QUEUES, 2, b->nq);
	if (b->offered & bit(KR_BLK_F_DISCARD)) {
		kr_put_le(c + KR_BLK_CFG_MAX_DISCARD, 4, KR_BLK_MAX_DISCARD_SECTORS);
		kr_put_le(c + KR_BLK_CFG_DISCARD_SEG, 4, KR_BLK_MAX_DISCARD_SEG);
		kr_put_le(c + KR_BLK_CFG_DISCARD_ALIGN, 4, phys / KR_DISK_SECTOR);
		kr_put_le(c + KR_BLK_CFG_MAX_WZ, 4, KR_BLK_MAX_DISCARD_SECTORS);
		kr_put_le(c + KR_BLK_CFG_WZ_SEG, 4, KR_BLK_MAX_DISCARD_SEG);
		c[KR_BLK_CFG_WZ_UNMAP] = 1;	/* with unmap we punch holes */
	}

	b->ops = (struct kr_virtio_ops){
		.name = "virtio-blk",
		.device_id = KR_VIRTIO_ID_BLOCK,
		.class_code = 0x010000,		/* mass storage */
		.features = b->offered,
		.num_queues = b->nq,
		.queue_max = KR_BLK_QUEUE_SIZE,
		.config_len = KR_BLK_CONFIG_LEN,
		.config_read = blk_config_read,
		.queue_notify = blk_notify,
		.reset = blk_reset,
	};
}

struct kr_virtio_blk *kr_virtio_blk_create(struct kr_pci *pci, int slot,
					   const struct kr_mem *mem, struct kr_disk *disk)
{
	unsigned int nq = kr_disk_queues(disk);
	struct kr_virtio_blk *b;
	int err = 0;

	if (!nq || nq > KR_DISK_MAX_QUEUES) {
		errno = EINVAL;
		return NULL;
	}
	b = calloc(1, sizeof(*b) + nq * sizeof(b->w[0]));
	if (!b)
		return NULL;
	b->disk = disk;
	b->nq = nq;
	for (unsigned int i = 0; i < nq; i++) {
		b->w[i].efd = -1;
		pthread_mutex_init(&b->w[i].lock, NULL);
	}
	setup(b);
	/*
	 * Workers first: they sleep until a notification, which needs the
	 * transport; and a device on the bus cannot be taken off again.
	 */
	for (unsigned int i = 0; !err && i < nq; i++)
		err = start_worker(b, i);
	if (!err) {
		b->vp = kr_virtio_pci_create(pci, slot, mem, &b->ops, b);
		if (!b->vp)
			err = -errno;
	}
	if (err) {
		kr_virtio_blk_destroy(b);
		errno = -err;
		return NULL;
	}
	return b;
}

void kr_virtio_blk_destroy(struct kr_virtio_blk *b)
{
	if (!b)
		return;
	for (unsigned int i = 0; i < b->nq; i++)
		stop_worker(&b->w[i]);
	kr_virtio_pci_destroy(b->vp);
	for (unsigned int i = 0; i < b->nq; i++)
		pthread_mutex_destroy(&b->w[i].lock);
	free(b);
}

struct kr_virtio_pci *kr_virtio_blk_transport(struct kr_virtio_blk *b)
{
	return b->vp;
}

struct kr_disk *kr_virtio_blk_disk(struct kr_virtio_blk *b)
{
	return b->disk;
}

unsigned int kr_virtio_blk_num_queues(struct kr_virtio_blk *b)
{
	return b->nq;
}

int kr_virtio_blk_queue_fd(struct kr_virtio_blk *b, unsigned int q)
{
	return q < b->nq ? b->w[q].efd : -1;
}

void kr_virtio_blk_set_hook(struct kr_virtio_blk *b, kr_blk_hook_fn *fn, void *opaque)
{
	b->hook_opaque = opaque;
	__atomic_store_n(&b->hook, fn, __ATOMIC_RELEASE);
}
