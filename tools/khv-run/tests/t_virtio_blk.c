// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio block device (virtio_blk.c) end to end: the test driver
 * (vdrv.h) negotiates as Linux 6.1's virtio_blk does, posts requests in
 * Linux's layout and in others the spec allows, and the device's worker
 * threads serve them on an image file in /tmp, checked through a separate
 * fd.  The workers are other threads: every completion is waited for.
 *
 * Data safety: blk_flush_order checks that a FLUSH runs fdatasync() after
 * the writes before it are in the file, and completes only after it
 * returned.  That a flushed write survives the host process being killed
 * (kill -9 right after the FLUSH completed) is checked end to end by the
 * nested lane, with a real guest; a unit test cannot lose a page cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "t.h"
#include "timage.h"
#include "vdrv.h"
#include "../virtio_blk.h"

#define SLOT		3
#define BARADDR		0xc8000000ull
#define RING(q)		(0x10000ull + (q) * 0x4000ull)
#define INDIRECT	0x30000ull
#define HDR(q)		(0x40000ull + (q) * 0x1000ull)	/* header; status at +0x800 */
#define SEGS(q)		(HDR(q) + 0x100)		/* discard segments */
#define STATUS(q)	(HDR(q) + 0x800)
#define DATA(q)		(0x100000ull + (q) * 0x40000ull)
#define KIB		1024u
#define MIB		(1u << 20)
#define F(b)		(1ull << (b))

struct bt {
	struct tmach m;
	struct kr_disk *disk;
	struct kr_virtio_blk *b;
	struct vdrv d;
	char path[32];
	uint64_t offered;
};

static bool file_is(const char *path, uint64_t off, const void *want, size_t len)
{
	uint8_t *b = malloc(len);
	bool ok;

	file_read(path, off, b, len);
	ok = !memcmp(b, want, len);
	free(b);
	return ok;
}

static uint64_t dev_features(struct vdrv *d)
{
	uint64_t f;

	vd_common_write(d, KR_VIRTIO_COMMON_DFSELECT, 4, 0);
	f = vd_common_read(d, KR_VIRTIO_COMMON_DF, 4);
	vd_common_write(d, KR_VIRTIO_COMMON_DFSELECT, 4, 1);
	return f | (uint64_t)vd_common_read(d, KR_VIRTIO_COMMON_DF, 4) << 32;
}

static uint64_t cfg(struct bt *t, unsigned int off, unsigned int size)
{
	return tm_read(&t->m.mmio, t->d.device + off, size);
}

/* Negotiate what is offered but drop, set the queues up (q's vector q + 1), DRIVER_OK. */
static void bt_start(struct bt *t, uint64_t drop, uint16_t qsize)
{
	unsigned int nq = kr_virtio_blk_num_queues(t->b);

	t->offered = dev_features(&t->d);
	vd_negotiate(&t->d, t->offered & ~drop);
	vd_msix_enable(&t->d);
	for (unsigned int q = 0; q < nq && q < VD_MAX_QUEUES; q++)
		vd_setup_queue(&t->d, q, qsize, RING(q), q + 1);
	vd_driver_ok(&t->d);
}

/* A device on a new image of size bytes with these options: false when it cannot be. */
static bool bt_up(struct bt *t, uint64_t size, const char *opts, uint64_t drop)
{
	struct kr_disk_opts o;
	char arg[128], why[256];

	memset(t, 0, sizeof(*t));
	tm_init(&t->m);
	make_image(t->path, size);
	snprintf(arg, sizeof(arg), "path=%s%s", t->path, opts);
	if (kr_disk_parse(arg, &o, why, sizeof(why)) ||
	    kr_disk_open(&o, "vda", &t->disk, why, sizeof(why)))
		return false;
	t->b = kr_virtio_blk_create(t->m.pci, SLOT, &t->m.mem, t->disk);
	if (!t->b || vd_probe(&t->d, &t->m, SLOT, BARADDR))
		return false;
	bt_start(t, drop, 64);
	return true;
}

static void bt_down(struct bt *t)
{
	kr_virtio_blk_destroy(t->b);
	tm_fini(&t->m);
	kr_disk_close(t->disk);
	unlink(t->path);
}

struct piece {
	uint64_t gpa;
	uint32_t len;
	bool w;
};

/* Descriptors first.. of queue q for the pieces, made available. */
static void chain(struct bt *t, unsigned int q, uint16_t first, const struct piece *p, unsigned n)
{
	for (unsigned int i = 0; i < n; i++)
		vd_desc(&t->d, q, first + i, p[i].gpa, p[i].len,
			(p[i].w ? KR_VQ_DESC_F_WRITE : 0) | (i + 1 < n ? KR_VQ_DESC_F_NEXT : 0),
			first + i + 1);
	vd_avail(&t->d, q, first);
}

static void header(struct bt *t, uint64_t gpa, uint32_t type, uint64_t sector)
{
	uint8_t *h = tm_ram(&t->m, gpa, KR_BLK_HDR_SIZE);

	kr_put_le(h, 4, type);
	kr_put_le(h + 4, 4, 0);
	kr_put_le(h + 8, 8, sector);
}

/* Until queue q's used index is idx (5 s at most). */
static bool wait_idx(struct bt *t, unsigned int q, uint16_t idx)
{
	for (int i = 0; i < 100000; i++) {
		if (vd_used_idx(&t->d, q) == idx)
			return true;
		usleep(50);
	}
	return false;
}

static bool wait_msi(struct bt *t, unsigned int n)
{
	for (int i = 0; i < 100000; i++) {
		if (__atomic_load_n(&t->m.n_msi, __ATOMIC_ACQUIRE) >= n)
			return true;
		usleep(50);
	}
	return false;
}

static bool wait_needs_reset(struct bt *t)
{
	for (int i = 0; i < 100000; i++) {
		if (vd_status(&t->d) & KR_VIRTIO_STATUS_NEEDS_RESET)
			return true;
		usleep(50);
	}
	return false;
}

/* Kick q, wait for the next used entry: its len, ~0u when none or not head. */
static uint32_t complete(struct bt *t, unsigned int q, uint16_t head)
{
	uint32_t id, len;

	vd_kick(&t->d, q);
	if (!wait_idx(t, q, t->d.q[q].last_used + 1) || !vd_used(&t->d, q, &id, &len) ||
	    id != head)
		return ~0u;
	return len;
}

static uint8_t status_byte(struct bt *t, uint64_t gpa)
{
	return *(uint8_t *)tm_ram(&t->m, gpa, 1);
}

/*
 * A request in Linux's layout: header, data (len bytes at DATA(q),
 * writable or not; none when 0), status.  The status, -1 when it did not
 * complete; the used length in *ulen.
 */
static int request(struct bt *t, unsigned int q, uint32_t type, uint64_t sector, uint32_t len,
		   bool w, uint32_t *ulen)
{
	struct piece p[3];
	unsigned int n = 0;
	uint32_t l;

	header(t, HDR(q), type, sector);
	*(uint8_t *)tm_ram(&t->m, STATUS(q), 1) = 0xee;
	p[n++] = (struct piece){ HDR(q), KR_BLK_HDR_SIZE, false };
	if (len)
		p[n++] = (struct piece){ DATA(q), len, w };
	p[n++] = (struct piece){ STATUS(q), 1, true };
	chain(t, q, 0, p, n);
	l = complete(t, q, 0);
	if (ulen)
		*ulen = l;
	return l == ~0u ? -1 : status_byte(t, STATUS(q));
}

static void fill(struct bt *t, uint64_t gpa, uint32_t len, uint8_t seed)
{
	uint8_t *p = tm_ram(&t->m, gpa, len);

	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 31 + i / 512);
}

/* ---- identity and configuration ------------------------------------------------- */

KR_TEST(blk_identity)
{
	struct bt t;
	uint64_t base = F(KR_BLK_F_SEG_MAX) | F(KR_BLK_F_BLK_SIZE) | F(KR_BLK_F_TOPOLOGY) |
			F(KR_VIRTIO_F_VERSION_1) | F(KR_VIRTIO_F_INDIRECT_DESC) |
			F(KR_VIRTIO_F_EVENT_IDX);
	unsigned int exp;

	CHECK(bt_up(&t, MIB + 512, "", 0));
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, 0, 4), 0x1042u << 16 | 0x1af4);
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, 0x08, 4) >> 8, 0x010000);	/* class */
	CHECK_EQ(t.offered, base | F(KR_BLK_F_FLUSH));
	CHECK_EQ(vd_status(&t.d) & KR_VIRTIO_STATUS_FEATURES_OK, KR_VIRTIO_STATUS_FEATURES_OK);
	CHECK_EQ(vd_common_read(&t.d, KR_VIRTIO_COMMON_NUMQ, 2), 1);
	vd_common_write(&t.d, KR_VIRTIO_COMMON_Q_SELECT, 2, 1);
	CHECK_EQ(vd_common_read(&t.d, KR_VIRTIO_COMMON_Q_SIZE, 2), 0);
	CHECK(t.d.device_len >= KR_BLK_CONFIG_LEN);
	CHECK_EQ(cfg(&t, KR_BLK_CFG_CAPACITY, 8), (MIB + 512) / 512);
	CHECK_EQ(cfg(&t, KR_BLK_CFG_CAPACITY, 4), (MIB + 512) / 512);	/* 32-bit halves too */
	CHECK_EQ(cfg(&t, KR_BLK_CFG_CAPACITY + 4, 4), 0);
	CHECK_EQ(cfg(&t, KR_BLK_CFG_SIZE_MAX, 4), 0);
	CHECK_EQ(cfg(&t, KR_BLK_CFG_SEG_MAX, 4), KR_BLK_SEG_MAX);
	CHECK_EQ(cfg(&t, KR_BLK_CFG_BLK_SIZE, 4), 512);
	exp = cfg(&t, KR_BLK_CFG_PHYS_EXP, 1);
	CHECK_EQ(512u << exp, kr_disk_phys_size(t.disk));
	CHECK_EQ(cfg(&t, KR_BLK_CFG_ALIGN_OFF, 1), 0);
	CHECK_EQ(cfg(&t, KR_BLK_CFG_MIN_IO, 2), 1u << exp);
	CHECK_EQ(cfg(&t, KR_BLK_CFG_OPT_IO, 4), 0);
	CHECK_EQ(cfg(&t, KR_BLK_CFG_WRITEBACK, 1), 1);
	CHECK_EQ(cfg(&t, KR_BLK_CFG_NUM_QUEUES, 2), 1);
	CHECK_EQ(cfg(&t, KR_BLK_CFG_MAX_DISCARD, 8) | cfg(&t, KR_BLK_CFG_DISCARD_ALIGN, 8) |
		 cfg(&t, KR_BLK_CFG_WZ_SEG, 8), 0);
	CHECK_EQ(cfg(&t, 33, 1) | cfg(&t, 57, 1) | cfg(&t, 58, 1) | cfg(&t, 59, 1), 0);
	CHECK_EQ(cfg(&t, KR_BLK_CONFIG_LEN, 4), 0);	/* beyond: nothing */
	CHECK(kr_virtio_blk_transport(t.b) != NULL && kr_virtio_blk_disk(t.b) == t.disk);
	CHECK(kr_virtio_blk_queue_fd(t.b, 0) >= 0 && kr_virtio_blk_queue_fd(t.b, 1) == -1);
	bt_down(&t);

	CHECK(bt_up(&t, MIB, ",ro,discard=on,serial=x", 0));
	CHECK_EQ(t.offered, base | F(KR_BLK_F_FLUSH) | F(KR_BLK_F_RO));	/* no discarding */
	bt_down(&t);
	CHECK(bt_up(&t, MIB, ",cache=writethrough", 0));
	CHECK_EQ(t.offered, base);	/* writes are stable on completion: no FLUSH */
	CHECK_EQ(cfg(&t, KR_BLK_CFG_WRITEBACK, 1), 0);
	bt_down(&t);

	CHECK(bt_up(&t, 4 * MIB, ",discard=on,queues=3", 0));
	CHECK_EQ(t.offered, base | F(KR_BLK_F_FLUSH) | F(KR_BLK_F_MQ) | F(KR_BLK_F_DISCARD) |
		 F(KR_BLK_F_WRITE_ZEROES));
	CHECK_EQ(vd_common_read(&t.d, KR_VIRTIO_COMMON_NUMQ, 2), 3);
	CHECK_EQ(cfg(&t, KR_BLK_CFG_NUM_QUEUES, 2), 3);
	CHECK_EQ(cfg(&t, KR_BLK_CFG_MAX_DISCARD, 4), KR_BLK_MAX_DISCARD_SECTORS);
	CHECK_EQ(cfg(&t, KR_BLK_CFG_DISCARD_SEG, 4), KR_BLK_MAX_DISCARD_SEG);
	CHECK_EQ(cfg(&t, KR_BLK_CFG_DISCARD_ALIGN, 4) * 512, kr_disk_phys_size(t.disk));
	CHECK_EQ(cfg(&t, KR_BLK_CFG_MAX_WZ, 4), KR_BLK_MAX_DISCARD_SECTORS);
	CHECK_EQ(cfg(&t, KR_BLK_CFG_WZ_SEG, 4), KR_BLK_MAX_DISCARD_SEG);
	CHECK_EQ(cfg(&t, KR_BLK_CFG_WZ_UNMAP, 1), 1);
	CHECK(kr_virtio_blk_queue_fd(t.b, 2) >= 0);
	bt_down(&t);
}

/* ---- reads and writes ------------------------------------------------------------- */

KR_TEST(blk_read_write)
{
	struct bt t;
	struct kr_disk_info info;
	uint32_t ulen;
	uint8_t *p;

	CHECK(bt_up(&t, MIB, "", 0));
	fill(&t, DATA(0), 4096, 1);
	CHECK_EQ(request(&t, 0, KR_BLK_T_OUT, 10, 4096, false, &ulen), KR_BLK_S_OK);
	CHECK_EQ(ulen, 1);
	CHECK(file_is(t.path, 10 * 512, tm_ram(&t.m, DATA(0), 4096), 4096));
	CHECK(file_pristine(t.path, 0, 10 * 512) && file_pristine(t.path, 18 * 512, 4096));
	CHECK(wait_msi(&t, 1));
	CHECK_EQ(t.m.msi[0].address, VD_MSI_ADDR(1));
	CHECK_EQ(t.m.msi[0].data, VD_MSI_DATA(1));
	/* Read it back with a sector before it. */
	memset(tm_ram(&t.m, DATA(0), 8192), 0xcc, 8192);
	CHECK_EQ(request(&t, 0, KR_BLK_T_IN, 9, 4608, true, &ulen), KR_BLK_S_OK);
	CHECK_EQ(ulen, 4608 + 1);	/* the data and the status */
	p = tm_ram(&t.m, DATA(0), 8192);
	CHECK(p[0] == pattern(9 * 512) && p[511] == pattern(10 * 512 - 1));
	CHECK(file_is(t.path, 10 * 512, p + 512, 4096));
	CHECK(all_bytes(p + 4608, 8192 - 4608, 0xcc));	/* nothing past the buffer */
	/* The first and the last sector. */
	CHECK_EQ(request(&t, 0, KR_BLK_T_IN, 0, 512, true, NULL), KR_BLK_S_OK);
	CHECK_EQ(p[100], pattern(100));
	CHECK_EQ(request(&t, 0, KR_BLK_T_IN, MIB / 512 - 1, 512, true, NULL), KR_BLK_S_OK);
	CHECK_EQ(p[100], pattern(MIB - 512 + 100));
	fill(&t, DATA(0), 512, 9);
	CHECK_EQ(request(&t, 0, KR_BLK_T_OUT, MIB / 512 - 1, 512, false, NULL), KR_BLK_S_OK);
	CHECK(file_is(t.path, MIB - 512, p, 512));
	/* A request with no data: nothing to do, fine. */
	CHECK_EQ(request(&t, 0, KR_BLK_T_IN, 0, 0, true, &ulen), KR_BLK_S_OK);
	CHECK_EQ(ulen, 1);
	kr_disk_query(t.disk, &info);
	CHECK_STR(info.name, "vda");
	CHECK_EQ(info.size, MIB);
	CHECK_EQ(info.stats.wr_ops, 2);
	CHECK_EQ(info.stats.wr_bytes, 4096 + 512);
	CHECK_EQ(info.stats.rd_ops, 4);
	CHECK_EQ(info.stats.rd_bytes, 4608 + 512 + 512);
	CHECK_EQ(info.stats.invalid_ops + info.stats.failed_ops, 0);
	bt_down(&t);
}

KR_TEST(blk_capacity_edge)
{
	struct bt t;
	struct kr_disk_info info;
	uint64_t cap = MIB / 512;
	uint32_t ulen;
	uint8_t *p;

	CHECK(bt_up(&t, MIB, "", 0));
	p = tm_ram(&t.m, DATA(0), 1024);
	fill(&t, DATA(0), 1024, 3);
	/* Past the end by one sector, at the end, far beyond, wrapping: IOERR, nothing written. */
	CHECK_EQ(request(&t, 0, KR_BLK_T_OUT, cap - 1, 1024, false, NULL), KR_BLK_S_IOERR);
	CHECK_EQ(request(&t, 0, KR_BLK_T_OUT, cap, 512, false, NULL), KR_BLK_S_IOERR);
	CHECK_EQ(request(&t, 0, KR_BLK_T_OUT, ~0ull, 512, false, NULL), KR_BLK_S_IOERR);
	CHECK_EQ(request(&t, 0, KR_BLK_T_OUT, ~0ull >> 9, 1024, false, NULL), KR_BLK_S_IOERR);
	CHECK(file_pristine(t.path, 0, MIB));
	{
		struct stat st;

		CHECK(!stat(t.path, &st) && st.st_size == MIB);
	}
	/* A failed read returns zeroes, not stale guest bytes, over its whole length. */
	memset(p, 0xcc, 1024);
	CHECK_EQ(request(&t, 0, KR_BLK_T_IN, cap - 1, 1024, true, &ulen), KR_BLK_S_IOERR);
	CHECK_EQ(ulen, 1025);
	CHECK(all_bytes(p, 1024, 0));
	CHECK_EQ(request(&t, 0, KR_BLK_T_IN, cap - 2, 1024, true, NULL), KR_BLK_S_OK);
	CHECK_EQ(p[1023], pattern(MIB - 1));
	kr_disk_query(t.disk, &info);
	CHECK_EQ(info.stats.invalid_ops, 5);
	CHECK_EQ(info.stats.wr_ops, 0);
	bt_down(&t);
}

/*
 * Layouts Linux does not use but the spec allows: the header and the status
 * are found by position, not by descriptor (2.6.4, 5.2.6).
 */
KR_TEST(blk_layouts)
{
	struct bt t;
	uint64_t h = HDR(0), d = DATA(0);
	uint8_t *p;

	CHECK(bt_up(&t, MIB, "", 0));
	p = tm_ram(&t.m, d, 64 * KIB);
	/* OUT: header in 8 + 8, data in 300 + 724 + 1024, status alone. */
	header(&t, h, KR_BLK_T_OUT, 4);
	fill(&t, d, 2048, 7);
	{
		struct piece pc[] = {
			{ h, 8, false }, { h + 8, 8, false }, { d, 300, false },
			{ d + 300, 724, false }, { d + 1024, 1024, false }, { STATUS(0), 1, true },
		};

		chain(&t, 0, 10, pc, ARRAY_SIZE(pc));
		CHECK_EQ(complete(&t, 0, 10), 1);
		CHECK_EQ(status_byte(&t, STATUS(0)), KR_BLK_S_OK);
		CHECK(file_is(t.path, 4 * 512, p, 2048));
	}
	/* IN: data in 1000 + 537, the last descriptor holding the status too. */
	header(&t, h, KR_BLK_T_IN, 4);
	memset(p, 0xcc, 4096);
	{
		struct piece pc[] = {
			{ h, 16, false }, { d + 8192, 1000, true }, { d + 16384, 537, true },
		};
		uint8_t want[1536];

		chain(&t, 0, 0, pc, ARRAY_SIZE(pc));
		CHECK_EQ(complete(&t, 0, 0), 1537);
		file_read(t.path, 4 * 512, want, 1536);
		CHECK(!memcmp(p + 8192, want, 1000) && !memcmp(p + 16384, want + 1000, 536));
		CHECK_EQ(p[16384 + 536], KR_BLK_S_OK);
	}
	/* OUT: header and data in one readable descriptor. */
	header(&t, d + 32768, KR_BLK_T_OUT, 100);
	memset(p + 32768 + 16, 0x42, 1024);
	{
		struct piece pc[] = { { d + 32768, 16 + 1024, false }, { STATUS(0), 1, true } };

		chain(&t, 0, 20, pc, ARRAY_SIZE(pc));
		CHECK_EQ(complete(&t, 0, 20), 1);
		CHECK_EQ(status_byte(&t, STATUS(0)), KR_BLK_S_OK);
		CHECK(file_is(t.path, 100 * 512, p + 32768 + 16, 1024));
	}
	/* IN: the whole writable part in one descriptor, a zero-length one in the chain. */
	header(&t, h, KR_BLK_T_IN, 100);
	{
		struct piece pc[] = { { h, 16, false }, { d, 0, false }, { d + 40960, 513, true } };

		chain(&t, 0, 30, pc, ARRAY_SIZE(pc));
		CHECK_EQ(complete(&t, 0, 30), 513);
		CHECK(all_bytes(p + 40960, 512, 0x42) && p[40960 + 512] == KR_BLK_S_OK);
	}
	/* Everything in an indirect table, as Linux does with INDIRECT_DESC. */
	header(&t, h, KR_BLK_T_IN, 4);
	{
		uint8_t *tab = tm_ram(&t.m, INDIRECT, 48);
		uint64_t a[3] = { h, d + 49152, STATUS(0) };
		uint32_t l[3] = { 16, 2048, 1 };
		uint16_t f[3] = { KR_VQ_DESC_F_NEXT, KR_VQ_DESC_F_NEXT | KR_VQ_DESC_F_WRITE,
				  KR_VQ_DESC_F_WRITE };

		for (int i = 0; i < 3; i++) {
			kr_put_le(tab + 16 * i, 8, a[i]);
			kr_put_le(tab + 16 * i + 8, 4, l[i]);
			kr_put_le(tab + 16 * i + 12, 2, f[i]);
			kr_put_le(tab + 16 * i + 14, 2, i + 1);
		}
		vd_desc(&t.d, 0, 40, INDIRECT, 48, KR_VQ_DESC_F_INDIRECT, 0);
		vd_avail(&t.d, 0, 40);
		CHECK_EQ(complete(&t, 0, 40), 2049);
		CHECK_EQ(status_byte(&t, STATUS(0)), KR_BLK_S_OK);
		CHECK(file_is(t.path, 4 * 512, p + 49152, 2048));
	}
	bt_down(&t);
}

/* ---- flush and data safety ----------------------------------------------------------- */

struct flush_check {
	struct bt *t;
	int syncs;
	bool data_in_file, flush_not_done, write_done;
	uint8_t want[4096];
};

static struct flush_check *fc;

/* In fdatasync(): the write before the FLUSH is in the file, the FLUSH not yet done. */
static int checking_sync(int fd)
{
	struct bt *t = fc->t;

	fc->syncs++;
	fc->data_in_file = file_is(t->path, 64 * 512, fc->want, sizeof(fc->want));
	fc->write_done = vd_used_idx(&t->d, 0) == t->d.q[0].last_used + 1;
	fc->flush_not_done = vd_used_idx(&t->d, 0) != t->d.q[0].last_used + 2;
	return fdatasync(fd);
}

KR_TEST(blk_flush_order)
{
	struct bt t;
	struct flush_check c = { .t = &t };
	struct kr_disk_info info;
	uint32_t id, len;

	fc = &c;
	CHECK(bt_up(&t, MIB, "", 0));
	CHECK(t.offered & F(KR_BLK_F_FLUSH));
	kr_disk_set_hooks(t.disk, checking_sync, NULL);
	/* A write and a FLUSH posted together, one kick. */
	fill(&t, DATA(0), 4096, 77);
	memcpy(c.want, tm_ram(&t.m, DATA(0), 4096), 4096);
	header(&t, HDR(0), KR_BLK_T_OUT, 64);
	header(&t, HDR(0) + 0x20, KR_BLK_T_FLUSH, 0);
	{
		struct piece w[] = { { HDR(0), 16, false }, { DATA(0), 4096, false },
				     { STATUS(0), 1, true } };
		struct piece f[] = { { HDR(0) + 0x20, 16, false }, { STATUS(0) + 1, 1, true } };

		chain(&t, 0, 0, w, ARRAY_SIZE(w));
		chain(&t, 0, 3, f, ARRAY_SIZE(f));
	}
	vd_kick(&t.d, 0);
	CHECK(wait_idx(&t, 0, 2));
	CHECK(vd_used(&t.d, 0, &id, &len) && id == 0);
	CHECK(vd_used(&t.d, 0, &id, &len) && id == 3 && len == 1);
	CHECK_EQ(status_byte(&t, STATUS(0)), KR_BLK_S_OK);
	CHECK_EQ(status_byte(&t, STATUS(0) + 1), KR_BLK_S_OK);
	CHECK_EQ(c.syncs, 1);
	CHECK(c.data_in_file && c.write_done && c.flush_not_done);
	/* After the FLUSH completed the data is in the file, seen through another fd. */
	CHECK(file_is(t.path, 64 * 512, c.want, 4096));
	/* fdatasync() failing: the FLUSH fails. */
	kr_disk_set_hooks(t.disk, failing_sync, NULL);
	CHECK_EQ(request(&t, 0, KR_BLK_T_FLUSH, 0, 0, false, NULL), KR_BLK_S_IOERR);
	kr_disk_set_hooks(t.disk, NULL, NULL);
	CHECK_EQ(request(&t, 0, KR_BLK_T_FLUSH, 0, 0, false, NULL), KR_BLK_S_OK);
	kr_disk_query(t.disk, &info);
	CHECK_EQ(info.stats.flush_ops, 2);
	CHECK_EQ(info.stats.failed_ops, 1);
	bt_down(&t);
}

static int sync_count;

static int counting_sync(int fd)
{
	sync_count++;
	return fdatasync(fd);
}

KR_TEST(blk_flush_modes)
{
	struct bt t;

	/* FLUSH offered, the driver does not take it: every write is made stable (5.2.6.2). */
	CHECK(bt_up(&t, MIB, ",discard=on", F(KR_BLK_F_FLUSH)));
	kr_disk_set_hooks(t.disk, counting_sync, NULL);
	sync_count = 0;
	CHECK_EQ(request(&t, 0, KR_BLK_T_OUT, 0, 512, false, NULL), KR_BLK_S_OK);
	CHECK_EQ(sync_count, 1);
	CHECK_EQ(request(&t, 0, KR_BLK_T_IN, 0, 512, true, NULL), KR_BLK_S_OK);
	CHECK_EQ(sync_count, 1);
	bt_down(&t);
	/* Taken: writes are not synced, FLUSH is. */
	CHECK(bt_up(&t, MIB, "", 0));
	kr_disk_set_hooks(t.disk, counting_sync, NULL);
	sync_count = 0;
	CHECK_EQ(request(&t, 0, KR_BLK_T_OUT, 0, 512, false, NULL), KR_BLK_S_OK);
	CHECK_EQ(sync_count, 0);
	CHECK_EQ(request(&t, 0, KR_BLK_T_FLUSH, 0, 0, false, NULL), KR_BLK_S_OK);
	CHECK_EQ(sync_count, 1);
	bt_down(&t);
	/* writethrough: not offered, O_DSYNC writes, a FLUSH still answered OK. */
	CHECK(bt_up(&t, MIB, ",cache=writethrough", 0));
	CHECK_EQ(fcntl(kr_disk_fd(t.disk), F_GETFL) & O_DSYNC, O_DSYNC);
	kr_disk_set_hooks(t.disk, counting_sync, NULL);
	sync_count = 0;
	CHECK_EQ(request(&t, 0, KR_BLK_T_OUT, 0, 512, false, NULL), KR_BLK_S_OK);
	CHECK_EQ(sync_count, 0);
	CHECK_EQ(request(&t, 0, KR_BLK_T_FLUSH, 0, 0, false, NULL), KR_BLK_S_OK);
	bt_down(&t);
}

/* ---- GET_ID, read-only, bad requests -------------------------------------------------- */

KR_TEST(blk_get_id)
{
	struct bt t;
	uint32_t ulen;
	uint8_t *p;

	CHECK(bt_up(&t, MIB, ",serial=KHV-DISK-1", 0));
	p = tm_ram(&t.m, DATA(0), 64);
	memset(p, 0xcc, 64);
	CHECK_EQ(request(&t, 0, KR_BLK_T_GET_ID, 0, 20, true, &ulen), KR_BLK_S_OK);
	CHECK_EQ(ulen, 21);
	CHECK(!memcmp(p, "KHV-DISK-1\0\0\0\0\0\0\0\0\0\0", 20) && p[20] == 0xcc);
	/* A longer buffer: 20 bytes of ID, the rest zeroed; a shorter one: cut. */
	memset(p, 0xcc, 64);
	CHECK_EQ(request(&t, 0, KR_BLK_T_GET_ID, 0, 40, true, &ulen), KR_BLK_S_OK);
	CHECK(ulen == 41 && all_bytes(p + 10, 30, 0) && p[40] == 0xcc);
	memset(p, 0xcc, 64);
	CHECK_EQ(request(&t, 0, KR_BLK_T_GET_ID, 0, 4, true, NULL), KR_BLK_S_OK);
	CHECK(!memcmp(p, "KHV-", 4) && p[4] == 0xcc);
	bt_down(&t);
	/* 20 characters: no NUL; none: all NUL. */
	CHECK(bt_up(&t, MIB, ",serial=ABCDEFGHIJKLMNOPQRST", 0));
	p = tm_ram(&t.m, DATA(0), 64);
	CHECK_EQ(request(&t, 0, KR_BLK_T_GET_ID, 0, 20, true, NULL), KR_BLK_S_OK);
	CHECK(!memcmp(p, "ABCDEFGHIJKLMNOPQRST", 20));
	bt_down(&t);
	CHECK(bt_up(&t, MIB, "", 0));
	p = tm_ram(&t.m, DATA(0), 64);
	memset(p, 0xcc, 64);
	CHECK_EQ(request(&t, 0, KR_BLK_T_GET_ID, 0, 20, true, NULL), KR_BLK_S_OK);
	CHECK(all_bytes(p, 20, 0));
	bt_down(&t);
}

/* One DISCARD/WRITE_ZEROES segment at SEGS(0) + 16 * i. */
static void seg(struct bt *t, unsigned int i, uint64_t sector, uint32_t num, uint32_t flags)
{
	uint8_t *s = tm_ram(&t->m, SEGS(0) + 16 * i, 16);

	kr_put_le(s, 8, sector);
	kr_put_le(s + 8, 4, num);
	kr_put_le(s + 12, 4, flags);
}

/* A DISCARD or WRITE_ZEROES of the first nseg segments at SEGS(0): its status. */
static int ranges(struct bt *t, uint32_t type, unsigned int nseg)
{
	struct piece p[] = { { HDR(0), 16, false }, { SEGS(0), 16 * nseg, false },
			     { STATUS(0), 1, true } };

	header(t, HDR(0), type, 0);
	chain(t, 0, 0, p, 3);
	return complete(t, 0, 0) == 1 ? status_byte(t, STATUS(0)) : -1;
}

KR_TEST(blk_read_only)
{
	struct bt t;
	struct kr_disk_info info;

	CHECK(bt_up(&t, MIB, ",ro", 0));
	CHECK(t.offered & F(KR_BLK_F_RO));
	CHECK_EQ(fcntl(kr_disk_fd(t.disk), F_GETFL) & O_ACCMODE, O_RDONLY);
	fill(&t, DATA(0), 4096, 5);
	CHECK_EQ(request(&t, 0, KR_BLK_T_OUT, 0, 4096, false, NULL), KR_BLK_S_IOERR);
	seg(&t, 0, 0, 8, 0);
	CHECK_EQ(ranges(&t, KR_BLK_T_DISCARD, 1), KR_BLK_S_IOERR);
	CHECK_EQ(ranges(&t, KR_BLK_T_WRITE_ZEROES, 1), KR_BLK_S_IOERR);
	CHECK(file_pristine(t.path, 0, MIB));
	CHECK_EQ(request(&t, 0, KR_BLK_T_IN, 0, 4096, true, NULL), KR_BLK_S_OK);
	CHECK(file_is(t.path, 0, tm_ram(&t.m, DATA(0), 4096), 4096));
	CHECK_EQ(request(&t, 0, KR_BLK_T_FLUSH, 0, 0, false, NULL), KR_BLK_S_OK);
	kr_disk_query(t.disk, &info);
	CHECK(info.ro);
	CHECK_EQ(info.stats.invalid_ops, 3);
	CHECK_EQ(info.stats.wr_ops, 0);
	bt_down(&t);
}

KR_TEST(blk_bad_requests)
{
	struct bt t;
	uint32_t ulen;
	uint8_t *p;

	CHECK(bt_up(&t, MIB, "", 0));
	p = tm_ram(&t.m, DATA(0), 4096);
	/* Unknown and unsupported types: UNSUPP. */
	CHECK_EQ(request(&t, 0, 0xdeadbeef, 0, 0, false, NULL), KR_BLK_S_UNSUPP);
	CHECK_EQ(request(&t, 0, KR_BLK_T_GET_LIFETIME, 0, 8, true, NULL), KR_BLK_S_UNSUPP);
	CHECK_EQ(request(&t, 0, KR_BLK_T_SECURE_ERASE, 0, 16, false, NULL), KR_BLK_S_UNSUPP);
	CHECK_EQ(request(&t, 0, 2, 0, 0, false, NULL), KR_BLK_S_UNSUPP);	/* legacy SCSI */
	/* DISCARD on a device without it: UNSUPP. */
	seg(&t, 0, 0, 8, 0);
	CHECK_EQ(ranges(&t, KR_BLK_T_DISCARD, 1), KR_BLK_S_UNSUPP);
	CHECK_EQ(ranges(&t, KR_BLK_T_WRITE_ZEROES, 1), KR_BLK_S_UNSUPP);
	/* Lengths not in sectors: IOERR, nothing written, the read buffer zeroed. */
	CHECK_EQ(request(&t, 0, KR_BLK_T_OUT, 0, 1000, false, NULL), KR_BLK_S_IOERR);
	memset(p, 0xcc, 4096);
	CHECK_EQ(request(&t, 0, KR_BLK_T_IN, 0, 513, true, &ulen), KR_BLK_S_IOERR);
	CHECK(ulen == 514 && all_bytes(p, 513, 0));
	CHECK(file_pristine(t.path, 0, 4096));
	/* A header shorter than 16 bytes: IOERR. */
	{
		struct piece pc[] = { { HDR(0), 15, false }, { STATUS(0), 1, true } };

		header(&t, HDR(0), KR_BLK_T_FLUSH, 0);
		chain(&t, 0, 0, pc, 2);
		CHECK_EQ(complete(&t, 0, 0), 1);
		CHECK_EQ(status_byte(&t, STATUS(0)), KR_BLK_S_IOERR);
	}
	/* Extra writable bytes before the status of a write: zeroed, counted. */
	{
		struct piece pc[] = { { HDR(0), 16, false }, { DATA(0), 512, false },
				      { DATA(0) + 1024, 9, true } };

		header(&t, HDR(0), KR_BLK_T_OUT, 1);
		memset(p + 1024, 0xcc, 16);
		chain(&t, 0, 0, pc, 3);
		CHECK_EQ(complete(&t, 0, 0), 9);
		CHECK(all_bytes(p + 1024, 8, 0) && p[1032] == KR_BLK_S_OK && p[1033] == 0xcc);
	}
	CHECK_EQ(vd_status(&t.d) & KR_VIRTIO_STATUS_NEEDS_RESET, 0);
	/* No writable byte at all: nowhere for a status: returned empty, the device broken. */
	{
		struct piece pc[] = { { HDR(0), 16, false } };

		header(&t, HDR(0), KR_BLK_T_FLUSH, 0);
		chain(&t, 0, 0, pc, 1);
		CHECK_EQ(complete(&t, 0, 0), 0);
		CHECK_EQ(vd_status(&t.d) & KR_VIRTIO_STATUS_NEEDS_RESET,
			 KR_VIRTIO_STATUS_NEEDS_RESET);
	}
	bt_down(&t);

	/* A descriptor outside guest RAM: the queue breaks, DEVICE_NEEDS_RESET. */
	CHECK(bt_up(&t, MIB, "", 0));
	{
		struct piece pc[] = { { HDR(0), 16, false }, { 0x7ffff000ull, 4096, true },
				      { STATUS(0), 1, true } };

		header(&t, HDR(0), KR_BLK_T_IN, 0);
		chain(&t, 0, 0, pc, 3);
		vd_kick(&t.d, 0);
		CHECK(wait_needs_reset(&t));
		CHECK_EQ(vd_used_idx(&t.d, 0), 0);
	}
	bt_down(&t);

	/* A chain longer than the device takes (> queue size buffers, indirect): broken too. */
	CHECK(bt_up(&t, MIB, "", 0));
	{
		unsigned int n = KR_BLK_QUEUE_SIZE + 1;
		uint8_t *tab = tm_ram(&t.m, INDIRECT, 16 * n);

		header(&t, HDR(0), KR_BLK_T_IN, 0);
		for (unsigned int i = 0; i < n; i++) {
			kr_put_le(tab + 16 * i, 8, i ? DATA(0) + 8 * i : HDR(0));
			kr_put_le(tab + 16 * i + 8, 4, i ? 8 : 16);
			kr_put_le(tab + 16 * i + 12, 2, (i + 1 < n ? KR_VQ_DESC_F_NEXT : 0) |
				  (i ? KR_VQ_DESC_F_WRITE : 0));
			kr_put_le(tab + 16 * i + 14, 2, i + 1);
		}
		vd_desc(&t.d, 0, 0, INDIRECT, 16 * n, KR_VQ_DESC_F_INDIRECT, 0);
		vd_avail(&t.d, 0, 0);
		vd_kick(&t.d, 0);
		CHECK(wait_needs_reset(&t));
		CHECK_EQ(vd_used_idx(&t.d, 0), 0);
	}
	bt_down(&t);
}

/* ---- discard and write zeroes ----------------------------------------------------------- */

KR_TEST(blk_discard)
{
	struct bt t;
	struct kr_disk_info info;
	uint8_t zero[64 * KIB] = { 0 };
	uint64_t b0;

	CHECK(bt_up(&t, 8 * MIB, ",discard=on", 0));
	/* Two ranges in one DISCARD: two holes, the size kept. */
	b0 = blocks(t.path);
	seg(&t, 0, MIB / 512, 128, 0);
	seg(&t, 1, 3 * MIB / 512, 256, 0);
	CHECK_EQ(ranges(&t, KR_BLK_T_DISCARD, 2), KR_BLK_S_OK);
	CHECK(hole(t.path, MIB, 64 * KIB) && hole(t.path, 3 * MIB, 128 * KIB));
	CHECK(blocks(t.path) <= b0 - (192 * KIB) / 512);
	CHECK(file_pristine(t.path, MIB - 4096, 4096) && file_pristine(t.path, MIB + 64 * KIB,
								      4096));
	/* WRITE_ZEROES with unmap (what Linux sends by default): a hole reading zeroes. */
	seg(&t, 0, 5 * MIB / 512, 128, KR_BLK_WZ_F_UNMAP);
	CHECK_EQ(ranges(&t, KR_BLK_T_WRITE_ZEROES, 1), KR_BLK_S_OK);
	CHECK(hole(t.path, 5 * MIB, 64 * KIB) && file_is(t.path, 5 * MIB, zero, 64 * KIB));
	/* Without unmap: zeroes. */
	seg(&t, 0, 6 * MIB / 512 + 1, 3, 0);
	CHECK_EQ(ranges(&t, KR_BLK_T_WRITE_ZEROES, 1), KR_BLK_S_OK);
	CHECK(file_is(t.path, 6 * MIB + 512, zero, 1536) && file_pristine(t.path, 6 * MIB, 512) &&
	      file_pristine(t.path, 6 * MIB + 2048, 512));
	/* The unmap flag on a DISCARD, an unknown flag: UNSUPP, nothing done. */
	seg(&t, 0, 0, 8, KR_BLK_WZ_F_UNMAP);
	CHECK_EQ(ranges(&t, KR_BLK_T_DISCARD, 1), KR_BLK_S_UNSUPP);
	seg(&t, 0, 0, 8, 2);
	CHECK_EQ(ranges(&t, KR_BLK_T_WRITE_ZEROES, 1), KR_BLK_S_UNSUPP);
	/* A bad second range: IOERR and the first not done either (checked first). */
	seg(&t, 0, 0, 8, 0);
	seg(&t, 1, 8 * MIB / 512 - 4, 8, 0);
	CHECK_EQ(ranges(&t, KR_BLK_T_WRITE_ZEROES, 2), KR_BLK_S_IOERR);
	seg(&t, 1, 16, KR_BLK_MAX_DISCARD_SECTORS + 1, 0);
	CHECK_EQ(ranges(&t, KR_BLK_T_DISCARD, 2), KR_BLK_S_IOERR);
	seg(&t, 1, 16, 8, 0x80000000u);
	CHECK_EQ(ranges(&t, KR_BLK_T_WRITE_ZEROES, 2), KR_BLK_S_UNSUPP);
	CHECK(file_pristine(t.path, 0, 4096));
	/* Too many segments, none, a part of one: IOERR. */
	for (unsigned int i = 0; i <= KR_BLK_MAX_DISCARD_SEG; i++)
		seg(&t, i, i, 1, 0);
	CHECK_EQ(ranges(&t, KR_BLK_T_DISCARD, KR_BLK_MAX_DISCARD_SEG + 1), KR_BLK_S_IOERR);
	CHECK_EQ(ranges(&t, KR_BLK_T_DISCARD, KR_BLK_MAX_DISCARD_SEG), KR_BLK_S_OK);
	{
		struct piece p[] = { { HDR(0), 16, false }, { SEGS(0), 24, false },
				     { STATUS(0), 1, true } };
		struct piece q[] = { { HDR(0), 16, false }, { STATUS(0), 1, true } };

		header(&t, HDR(0), KR_BLK_T_DISCARD, 0);
		chain(&t, 0, 0, p, 3);
		CHECK_EQ(complete(&t, 0, 0), 1);
		CHECK_EQ(status_byte(&t, STATUS(0)), KR_BLK_S_IOERR);
		chain(&t, 0, 0, q, 2);		/* no segment at all */
		CHECK_EQ(complete(&t, 0, 0), 1);
		CHECK_EQ(status_byte(&t, STATUS(0)), KR_BLK_S_IOERR);
	}
	kr_disk_query(t.disk, &info);
	CHECK_EQ(info.stats.discard_ops, 2 + KR_BLK_MAX_DISCARD_SEG);
	CHECK_EQ(info.stats.zero_ops, 2);
	CHECK_EQ(info.stats.zero_bytes, 64 * KIB + 1536);
	bt_down(&t);

	/* Offered but not negotiated: UNSUPP. */
	CHECK(bt_up(&t, MIB, ",discard=on", F(KR_BLK_F_DISCARD)));
	seg(&t, 0, 0, 8, 0);
	CHECK_EQ(ranges(&t, KR_BLK_T_DISCARD, 1), KR_BLK_S_UNSUPP);
	CHECK_EQ(ranges(&t, KR_BLK_T_WRITE_ZEROES, 1), KR_BLK_S_OK);
	bt_down(&t);
}

/* ---- alignment -------------------------------------------------------------------------- */

KR_TEST(blk_direct_unaligned)
{
	struct bt t;
	uint8_t *p;

	if (!bt_up(&t, MIB, ",cache=none", 0)) {
		printf("# skip blk_direct_unaligned: /tmp cannot do O_DIRECT\n");
		bt_down(&t);
		return;
	}
	CHECK_EQ(fcntl(kr_disk_fd(t.disk), F_GETFL) & O_DIRECT, O_DIRECT);
	CHECK_EQ(cfg(&t, KR_BLK_CFG_BLK_SIZE, 4), kr_disk_blk_size(t.disk));
	p = tm_ram(&t.m, DATA(0), 32 * KIB);
	/* Guest buffers at odd addresses, split oddly: bounced, and right. */
	fill(&t, DATA(0) + 1, 8192, 11);
	header(&t, HDR(0), KR_BLK_T_OUT, 16);
	{
		struct piece pc[] = { { HDR(0), 16, false }, { DATA(0) + 1, 3000, false },
				      { DATA(0) + 3001, 5192, false }, { STATUS(0), 1, true } };

		chain(&t, 0, 0, pc, 4);
		CHECK_EQ(complete(&t, 0, 0), 1);
		CHECK_EQ(status_byte(&t, STATUS(0)), KR_BLK_S_OK);
		CHECK(file_is(t.path, 16 * 512, p + 1, 8192));
	}
	memset(p + 8194, 0, 16384);
	header(&t, HDR(0), KR_BLK_T_IN, 16);
	{
		struct piece pc[] = { { HDR(0), 16, false }, { DATA(0) + 8195, 8193, true } };

		chain(&t, 0, 0, pc, 2);
		CHECK_EQ(complete(&t, 0, 0), 8193);
		CHECK(!memcmp(p + 8195, p + 1, 8192) && p[8195 + 8192] == KR_BLK_S_OK);
	}
	CHECK_EQ(request(&t, 0, KR_BLK_T_FLUSH, 0, 0, false, NULL), KR_BLK_S_OK);
	bt_down(&t);
}

/* A block size larger than the guest's sectors (4 KiB direct I/O): read-modify-write. */
KR_TEST(blk_sub_block_writes)
{
	struct bt t;
	uint8_t *p;

	CHECK(bt_up(&t, MIB, "", 0));
	kr_disk_force_align(t.disk, 4096);
	p = tm_ram(&t.m, DATA(0), 4096);
	memset(p, 0x99, 1024);
	CHECK_EQ(request(&t, 0, KR_BLK_T_OUT, 9, 1024, false, NULL), KR_BLK_S_OK);
	CHECK(file_is(t.path, 9 * 512, p, 1024));
	CHECK(file_pristine(t.path, 8 * 512, 512) && file_pristine(t.path, 11 * 512, 2560));
	memset(p, 0, 4096);
	CHECK_EQ(request(&t, 0, KR_BLK_T_IN, 7, 2048, true, NULL), KR_BLK_S_OK);
	CHECK(p[0] == pattern(7 * 512) && all_bytes(p + 1024, 1024, 0x99));
	bt_down(&t);
}

/* ---- threads: batches, notifications, queues, reset ------------------------------------ */

KR_TEST(blk_batch_one_interrupt)
{
	struct bt t;
	uint32_t id, len;

	/* Without EVENT_IDX, so that every interrupt the device asks for is sent. */
	CHECK(bt_up(&t, MIB, "", F(KR_VIRTIO_F_EVENT_IDX)));
	/* Eight reads posted, one kick: eight completions, one interrupt. */
	for (unsigned int i = 0; i < 8; i++) {
		struct piece pc[] = { { HDR(0) + 16 * i, 16, false },
				      { DATA(0) + 4096 * i, 4096, true },
				      { STATUS(0) + i, 1, true } };

		header(&t, HDR(0) + 16 * i, KR_BLK_T_IN, 8 * i);
		chain(&t, 0, 3 * i, pc, 3);
	}
	vd_kick(&t.d, 0);
	CHECK(wait_idx(&t, 0, 8));
	for (unsigned int i = 0; i < 8; i++) {
		CHECK(vd_used(&t.d, 0, &id, &len) && id == 3 * i && len == 4097);
		CHECK_EQ(status_byte(&t, STATUS(0) + i), KR_BLK_S_OK);
	}
	CHECK(file_is(t.path, 0, tm_ram(&t.m, DATA(0), 32 * KIB), 32 * KIB));
	CHECK(wait_msi(&t, 1));
	usleep(20000);
	CHECK_EQ(t.m.n_msi, 1);
	bt_down(&t);

	/*
	 * A full ring of 256 (what Linux uses): all served from one kick, an
	 * interrupt every 64 so that the driver can start on the first ones.
	 */
	CHECK(bt_up(&t, MIB, "", F(KR_VIRTIO_F_EVENT_IDX)));
	vd_common_write(&t.d, KR_VIRTIO_COMMON_STATUS, 1, 0);
	bt_start(&t, F(KR_VIRTIO_F_EVENT_IDX), KR_BLK_QUEUE_SIZE);
	header(&t, HDR(0), KR_BLK_T_IN, 0);
	for (unsigned int i = 0; i < KR_BLK_QUEUE_SIZE; i++) {
		vd_desc(&t.d, 0, i, INDIRECT, 48, KR_VQ_DESC_F_INDIRECT, 0);
		vd_avail(&t.d, 0, i);
	}
	{
		uint8_t *tab = tm_ram(&t.m, INDIRECT, 48);
		uint64_t a[3] = { HDR(0), DATA(0), STATUS(0) };
		uint32_t l[3] = { 16, 512, 1 };
		uint16_t f[3] = { KR_VQ_DESC_F_NEXT, KR_VQ_DESC_F_NEXT | KR_VQ_DESC_F_WRITE,
				  KR_VQ_DESC_F_WRITE };

		for (int i = 0; i < 3; i++) {
			kr_put_le(tab + 16 * i, 8, a[i]);
			kr_put_le(tab + 16 * i + 8, 4, l[i]);
			kr_put_le(tab + 16 * i + 12, 2, f[i]);
			kr_put_le(tab + 16 * i + 14, 2, i + 1);
		}
	}
	vd_kick(&t.d, 0);
	CHECK(wait_idx(&t, 0, KR_BLK_QUEUE_SIZE));
	for (unsigned int i = 0; i < KR_BLK_QUEUE_SIZE; i++)
		CHECK(vd_used(&t.d, 0, &id, &len) && id == i && len == 513);
	CHECK(wait_msi(&t, KR_BLK_QUEUE_SIZE / 64));
	usleep(20000);
	CHECK_EQ(t.m.n_msi, KR_BLK_QUEUE_SIZE / 64);
	bt_down(&t);
}

KR_TEST(blk_notify_paths)
{
	struct bt t;
	uint64_t one = 1;
	int fd;

	CHECK(bt_up(&t, MIB, "", 0));
	fd = kr_virtio_blk_queue_fd(t.b, 0);
	/* An eventfd write (what a khv ioeventfd does): served. */
	header(&t, HDR(0), KR_BLK_T_IN, 0);
	{
		struct piece pc[] = { { HDR(0), 16, false }, { DATA(0), 512, true },
				      { STATUS(0), 1, true } };

		chain(&t, 0, 0, pc, 3);
	}
	CHECK_EQ(write(fd, &one, 8), 8);
	CHECK(wait_idx(&t, 0, 1));
	/* The transport's kick (the I/O thread with an ioeventfd it polls): served. */
	{
		struct piece pc[] = { { HDR(0), 16, false }, { DATA(0), 512, true },
				      { STATUS(0), 1, true } };

		chain(&t, 0, 0, pc, 3);
	}
	kr_virtio_pci_kick(kr_virtio_blk_transport(t.b), 0);
	CHECK(wait_idx(&t, 0, 2));
	/* And a kick for a queue that does not exist: nothing. */
	kr_virtio_pci_kick(kr_virtio_blk_transport(t.b), 5);
	bt_down(&t);
}

/* Both workers inside a request at once: each waits for the other. */
static sem_t in_q[2];
static int met[2];

static void rendezvous(void *opaque, unsigned int q)
{
	struct timespec ts;

	(void)opaque;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	sem_post(&in_q[q]);
	if (!sem_timedwait(&in_q[!q], &ts))
		met[q]++;
}

KR_TEST(blk_multi_queue)
{
	struct bt t;
	uint32_t id, len;

	CHECK(bt_up(&t, 2 * MIB, ",queues=2", 0));
	CHECK(t.offered & F(KR_BLK_F_MQ));
	sem_init(&in_q[0], 0, 0);
	sem_init(&in_q[1], 0, 0);
	met[0] = met[1] = 0;
	kr_virtio_blk_set_hook(t.b, rendezvous, NULL);
	fill(&t, DATA(0), 64 * KIB, 1);
	for (unsigned int q = 0; q < 2; q++) {
		struct piece pc[] = { { HDR(q), 16, false }, { DATA(0), 64 * KIB, false },
				      { STATUS(q), 1, true } };

		header(&t, HDR(q), KR_BLK_T_OUT, q * 1024);
		chain(&t, q, 0, pc, 3);
	}
	vd_kick(&t.d, 0);
	vd_kick(&t.d, 1);
	CHECK(wait_idx(&t, 0, 1) && wait_idx(&t, 1, 1));
	CHECK(met[0] == 1 && met[1] == 1);	/* one thread per queue, concurrently */
	kr_virtio_blk_set_hook(t.b, NULL, NULL);
	for (unsigned int q = 0; q < 2; q++) {
		CHECK(vd_used(&t.d, q, &id, &len) && id == 0 && len == 1);
		CHECK_EQ(status_byte(&t, STATUS(q)), KR_BLK_S_OK);
		CHECK(file_is(t.path, q * 512 * KIB, tm_ram(&t.m, DATA(0), 64 * KIB), 64 * KIB));
	}
	/* Each queue interrupts on its own vector. */
	CHECK(wait_msi(&t, 2));
	CHECK((t.m.msi[0].data == VD_MSI_DATA(1) && t.m.msi[1].data == VD_MSI_DATA(2)) ||
	      (t.m.msi[0].data == VD_MSI_DATA(2) && t.m.msi[1].data == VD_MSI_DATA(1)));
	/* Then many requests on both at once, all right. */
	for (unsigned int round = 0; round < 4; round++) {
		for (unsigned int q = 0; q < 2; q++)
			for (unsigned int i = 0; i < 16; i++) {
				uint64_t h = HDR(q) + 16 * i, d = DATA(q) + 8 * KIB * i;
				struct piece pc[] = { { h, 16, false }, { d, 8 * KIB, true },
						      { STATUS(q) + i, 1, true } };

				header(&t, h, KR_BLK_T_IN, (q * 16 + i) * 16);
				chain(&t, q, 3 * i, pc, 3);
			}
		vd_kick(&t.d, 0);
		vd_kick(&t.d, 1);
		for (unsigned int q = 0; q < 2; q++) {
			CHECK(wait_idx(&t, q, 1 + 16 * (round + 1)));
			for (unsigned int i = 0; i < 16; i++)
				CHECK(vd_used(&t.d, q, &id, &len) && len == 8 * KIB + 1);
			CHECK(file_is(t.path, q * 128 * KIB, tm_ram(&t.m, DATA(q), 128 * KIB),
				      128 * KIB));
		}
	}
	sem_destroy(&in_q[0]);
	sem_destroy(&in_q[1]);
	bt_down(&t);
}

/* A worker held inside a request until the test lets it go. */
static sem_t entered, release;

static void hold(void *opaque, unsigned int q)
{
	(void)opaque;
	(void)q;
	sem_post(&entered);
	sem_wait(&release);
}

static bool done_flag;

static void *reset_thread(void *arg)
{
	struct bt *t = arg;

	vd_common_write(&t->d, KR_VIRTIO_COMMON_STATUS, 1, 0);	/* a vCPU resetting */
	__atomic_store_n(&done_flag, true, __ATOMIC_RELEASE);
	return NULL;
}

static void *destroy_thread(void *arg)
{
	struct bt *t = arg;

	kr_virtio_blk_destroy(t->b);
	__atomic_store_n(&done_flag, true, __ATOMIC_RELEASE);
	return NULL;
}

static void post_write(struct bt *t, uint64_t sector, uint8_t seed)
{
	struct piece pc[] = { { HDR(0), 16, false }, { DATA(0), 4096, false },
			      { STATUS(0), 1, true } };

	fill(t, DATA(0), 4096, seed);
	header(t, HDR(0), KR_BLK_T_OUT, sector);
	chain(t, 0, 0, pc, 3);
	vd_kick(&t->d, 0);
}

KR_TEST(blk_reset_in_flight)
{
	struct bt t;
	pthread_t th;

	CHECK(bt_up(&t, MIB, "", 0));
	sem_init(&entered, 0, 0);
	sem_init(&release, 0, 0);
	kr_virtio_blk_set_hook(t.b, hold, NULL);
	post_write(&t, 8, 21);
	sem_wait(&entered);
	done_flag = false;
	pthread_create(&th, NULL, reset_thread, &t);
	usleep(100000);
	/* The reset waits for the request in flight... */
	CHECK(!__atomic_load_n(&done_flag, __ATOMIC_ACQUIRE));
	sem_post(&release);
	pthread_join(th, NULL);
	CHECK_EQ(vd_status(&t.d), 0);
	/* ...which completed its I/O; its completion went nowhere. */
	CHECK(file_is(t.path, 8 * 512, tm_ram(&t.m, DATA(0), 4096), 4096));
	CHECK_EQ(vd_used_idx(&t.d, 0), 0);
	kr_virtio_blk_set_hook(t.b, NULL, NULL);
	/* A reset device serves nothing; set up again, it does. */
	post_write(&t, 0, 1);
	usleep(20000);
	CHECK_EQ(vd_used_idx(&t.d, 0), 0);
	CHECK(file_pristine(t.path, 0, 4096));
	bt_start(&t, 0, 64);
	CHECK_EQ(request(&t, 0, KR_BLK_T_IN, 8, 4096, true, NULL), KR_BLK_S_OK);
	bt_down(&t);
	sem_destroy(&entered);
	sem_destroy(&release);
}

KR_TEST(blk_destroy_in_flight)
{
	struct bt t;
	pthread_t th;
	int fds = t_count_fds();

	CHECK(bt_up(&t, MIB, "", 0));
	sem_init(&entered, 0, 0);
	sem_init(&release, 0, 0);
	kr_virtio_blk_set_hook(t.b, hold, NULL);
	post_write(&t, 16, 33);
	sem_wait(&entered);
	done_flag = false;
	pthread_create(&th, NULL, destroy_thread, &t);
	usleep(50000);
	CHECK(!__atomic_load_n(&done_flag, __ATOMIC_ACQUIRE));
	sem_post(&release);
	pthread_join(th, NULL);
	/* The request in flight finished, completion included; the device is gone. */
	CHECK(file_is(t.path, 16 * 512, tm_ram(&t.m, DATA(0), 4096), 4096));
	CHECK_EQ(vd_used_idx(&t.d, 0), 1);
	t.b = NULL;
	bt_down(&t);
	CHECK_EQ(t_count_fds(), fds);
	sem_destroy(&entered);
	sem_destroy(&release);
}

/* ---- snapshots -------------------------------------------------------------------- */

/*
 * The restoring side: a machine with a copy of t's RAM and a new device on
 * an image of its own (t's is locked while t has it open): a copy of t's
 * when size is 0, else a new one of size bytes; opened with opts, its PCI
 * side as t's.
 */
static bool bt_clone(struct bt *t2, struct bt *t, uint64_t size, const char *opts)
{
	struct kr_disk_opts o;
	char arg[128], why[256];

	memset(t2, 0, sizeof(*t2));
	tm_init(&t2->m);
	tm_copy_ram(&t2->m, &t->m);
	if (size) {
		make_image(t2->path, size);
	} else {
		uint64_t n = kr_disk_sectors(t->disk) * 512;
		uint8_t *all = malloc(n);
		int fd;

		make_image(t2->path, n);
		file_read(t->path, 0, all, n);
		fd = open(t2->path, O_WRONLY);
		if (fd < 0 || pwrite(fd, all, n, 0) != (ssize_t)n)
			abort();
		close(fd);
		free(all);
	}
	snprintf(arg, sizeof(arg), "path=%s%s", t2->path, opts);
	if (kr_disk_parse(arg, &o, why, sizeof(why)) ||
	    kr_disk_open(&o, "vda", &t2->disk, why, sizeof(why)))
		return false;
	t2->b = kr_virtio_blk_create(t2->m.pci, SLOT, &t2->m.mem, t2->disk);
	return t2->b && !vd_restore(&t2->d, &t2->m, &t->d, true);
}

static int blk_load(struct bt *t, const struct kr_sbuf *sb, struct kr_sget *g)
{
	kr_sget_init(g, sb->p, sb->len, "virtio-blk0");
	return kr_virtio_blk_load(t->b, g);
}

/* B, a 4 KiB write of seed 5 at sector 8 (descriptors 3..5), and C, a 4 KiB read of sector 16. */
static void post_b_c(struct bt *t)
{
	struct piece b[] = { { HDR(0) + 0x20, 16, false }, { DATA(0) + 0x10000, 4096, false },
			     { STATUS(0) + 1, 1, true } };
	struct piece c[] = { { HDR(0) + 0x40, 16, false }, { DATA(0) + 0x20000, 4096, true },
			     { STATUS(0) + 2, 1, true } };

	fill(t, DATA(0) + 0x10000, 4096, 5);
	header(t, HDR(0) + 0x20, KR_BLK_T_OUT, 8);
	header(t, HDR(0) + 0x40, KR_BLK_T_IN, 16);
	*(uint8_t *)tm_ram(&t->m, STATUS(0) + 1, 2) = 0xee;
	*(uint8_t *)tm_ram(&t->m, STATUS(0) + 2, 1) = 0xee;
	chain(t, 0, 3, b, 3);
	chain(t, 0, 6, c, 3);
}

/* B and C completed, each once, in order, with the right data. */
static void check_b_c(struct bt *t)
{
	uint32_t id, len;

	CHECK(wait_idx(t, 0, 3));
	CHECK(vd_used(&t->d, 0, &id, &len) && id == 3 && len == 1);
	CHECK(vd_used(&t->d, 0, &id, &len) && id == 6 && len == 4097);
	CHECK_EQ(status_byte(t, STATUS(0) + 1), KR_BLK_S_OK);
	CHECK_EQ(status_byte(t, STATUS(0) + 2), KR_BLK_S_OK);
	CHECK(file_is(t->path, 8 * 512, tm_ram(&t->m, DATA(0) + 0x10000, 4096), 4096));
	CHECK(file_is(t->path, 16 * 512, tm_ram(&t->m, DATA(0) + 0x20000, 4096), 4096));
	CHECK(file_pristine(t->path, 16 * 512, 4096));
	usleep(20000);
	CHECK_EQ(vd_used_idx(&t->d, 0), 3);		/* and nothing twice */
}

KR_TEST(blk_snapshot_round_trip)
{
	struct bt t, t2;
	struct kr_sbuf sb = { 0 };
	struct kr_sget g;

	CHECK(bt_up(&t, MIB, "", 0));
	/*
	 * A served before the save; B and C made available, not notified,
	 * the device frozen and drained first as the machine does for a
	 * snapshot: else its worker, finishing A, may look at the ring again
	 * after B and C are there (it did under make check's load).
	 */
	CHECK_EQ(request(&t, 0, KR_BLK_T_IN, 0, 4096, true, NULL), KR_BLK_S_OK);
	kr_virtio_pci_freeze(kr_virtio_blk_transport(t.b), true);
	kr_virtio_blk_drain(t.b);
	post_b_c(&t);
	CHECK_EQ(kr_virtio_blk_save(t.b, &sb), 0);
	CHECK(!sb.oom);
	kr_virtio_pci_freeze(kr_virtio_blk_transport(t.b), false);

	CHECK(bt_clone(&t2, &t, 0, ""));
	CHECK_EQ(blk_load(&t2, &sb, &g), 0);
	usleep(20000);
	CHECK_EQ(vd_used_idx(&t2.d, 0), 1);		/* nothing before the kick */
	CHECK_EQ(t2.m.n_msi, 0);
	kr_virtio_pci_kick_all(kr_virtio_blk_transport(t2.b));
	check_b_c(&t2);
	/* used_event (0) asked for an interrupt at A only: none for B and C, as on t. */
	CHECK_EQ(t2.m.n_msi, 0);
	/* The restored device goes on. */
	CHECK_EQ(request(&t2, 0, KR_BLK_T_IN, 8, 4096, true, NULL), KR_BLK_S_OK);
	CHECK(!memcmp(tm_ram(&t2.m, DATA(0), 4096), tm_ram(&t2.m, DATA(0) + 0x10000, 4096),
		      4096));

	/* So does the original, from where it was: B and C once. */
	CHECK_EQ(vd_used_idx(&t.d, 0), 1);
	vd_kick(&t.d, 0);
	check_b_c(&t);

	kr_sbuf_free(&sb);
	bt_down(&t2);
	bt_down(&t);
}

static struct {
	struct bt *t;
	struct kr_sbuf sb;
	int ret;
} saver;

static void *save_thread(void *arg)
{
	(void)arg;
	saver.ret = kr_virtio_blk_save(saver.t->b, &saver.sb);
	__atomic_store_n(&done_flag, true, __ATOMIC_RELEASE);
	return NULL;
}

/* A save waits for the request a worker is in: nothing between a pop and its push. */
KR_TEST(blk_snapshot_waits_for_request)
{
	struct bt t, t2;
	struct kr_sget g;
	pthread_t th;

	CHECK(bt_up(&t, MIB, "", 0));
	sem_init(&entered, 0, 0);
	sem_init(&release, 0, 0);
	kr_virtio_blk_set_hook(t.b, hold, NULL);
	post_write(&t, 8, 21);
	sem_wait(&entered);
	done_flag = false;
	saver.t = &t;
	saver.sb = (struct kr_sbuf){ 0 };
	pthread_create(&th, NULL, save_thread, NULL);
	usleep(50000);
	CHECK(!__atomic_load_n(&done_flag, __ATOMIC_ACQUIRE));
	sem_post(&release);
	pthread_join(th, NULL);
	kr_virtio_blk_set_hook(t.b, NULL, NULL);
	CHECK_EQ(saver.ret, 0);
	CHECK_EQ(vd_used_idx(&t.d, 0), 1);
	/* Restored, the write is done and not done again. */
	CHECK(bt_clone(&t2, &t, 0, ""));
	CHECK_EQ(blk_load(&t2, &saver.sb, &g), 0);
	kr_virtio_pci_kick_all(kr_virtio_blk_transport(t2.b));
	usleep(20000);
	CHECK_EQ(vd_used_idx(&t2.d, 0), 1);
	CHECK_EQ(kr_disk_sync(t2.disk), 0);
	kr_sbuf_free(&saver.sb);
	bt_down(&t2);
	bt_down(&t);
	sem_destroy(&entered);
	sem_destroy(&release);
}

static void blk_refused(struct bt *t2, const struct kr_sbuf *sb, const char *why)
{
	struct kr_sget g;

	CHECK_EQ(blk_load(t2, sb, &g), -EPROTO);
	if (!strstr(g.why, why)) {
		printf("#   refused with \"%s\", want \"%s\"\n", g.why, why);
		CHECK(0);
	}
}

KR_TEST(blk_snapshot_refused)
{
	struct bt t, t2;
	struct kr_sbuf sb = { 0 };

	CHECK(bt_up(&t, MIB, "", 0));
	CHECK_EQ(request(&t, 0, KR_BLK_T_IN, 0, 512, true, NULL), KR_BLK_S_OK);
	CHECK_EQ(kr_virtio_blk_save(t.b, &sb), 0);

	/* Another disk than the snapshot's: by what differs. */
	CHECK(bt_clone(&t2, &t, 2 * MIB, ""));
	blk_refused(&t2, &sb, "virtio-blk0: vda: 2048 sectors in the snapshot, 4096 here");
	bt_down(&t2);
	CHECK(bt_clone(&t2, &t, 0, ",queues=2"));
	blk_refused(&t2, &sb, "vda: queues: 1 in the snapshot, 2 here");
	bt_down(&t2);
	CHECK(bt_clone(&t2, &t, 0, ",ro"));
	blk_refused(&t2, &sb, "vda: features 0x");
	bt_down(&t2);

	/* Every truncation of the state, then a wrong version. */
	CHECK(bt_clone(&t2, &t, 0, ""));
	for (size_t n = 0; n < sb.len; n++) {
		struct kr_sbuf cut = { .p = sb.p, .len = n };

		blk_refused(&t2, &cut, "virtio-blk0: truncated state");
	}
	sb.p[0] = 9;
	blk_refused(&t2, &sb, "state version 9");
	sb.p[0] = 1;
	/* A capacity in the snapshot's configuration that is not the disk's. */
	sb.p[4 + 2 + 8 + KR_BLK_CFG_CAPACITY + 1] ^= 0x10;
	blk_refused(&t2, &sb, "vda: 6144 sectors in the snapshot, 2048 here");
	sb.p[4 + 2 + 8 + KR_BLK_CFG_CAPACITY + 1] ^= 0x10;
	sb.p[4 + 2 + 8 + KR_BLK_CFG_BLK_SIZE + 1] ^= 0x10;
	blk_refused(&t2, &sb, "vda: configuration byte 21 is 0x12 in the snapshot, 0x02 here");
	sb.p[4 + 2 + 8 + KR_BLK_CFG_BLK_SIZE + 1] ^= 0x10;
	{
		struct kr_sget g;

		CHECK_EQ(blk_load(&t2, &sb, &g), 0);
	}
	bt_down(&t2);
	kr_sbuf_free(&sb);
	bt_down(&t);
}

/* Frozen: no worker takes a request; drained, none is in one; thawed and kicked, served. */
KR_TEST(blk_freeze_drain)
{
	struct bt t;
	struct kr_virtio_pci *vp;

	CHECK(bt_up(&t, MIB, "", 0));
	vp = kr_virtio_blk_transport(t.b);
	kr_virtio_pci_freeze(vp, true);
	kr_virtio_blk_drain(t.b);
	post_write(&t, 8, 3);
	usleep(20000);
	CHECK_EQ(vd_used_idx(&t.d, 0), 0);
	CHECK(file_pristine(t.path, 8 * 512, 4096));
	kr_virtio_pci_freeze(vp, false);
	usleep(20000);
	CHECK_EQ(vd_used_idx(&t.d, 0), 0);		/* the notification was spent */
	kr_virtio_pci_kick_all(vp);
	CHECK(wait_idx(&t, 0, 1));
	CHECK(file_is(t.path, 8 * 512, tm_ram(&t.m, DATA(0), 4096), 4096));
	bt_down(&t);
}
