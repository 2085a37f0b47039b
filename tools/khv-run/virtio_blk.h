/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio block device (virtio 1.2 section 5.2, device ID 2) over a disk
 * image (disk.h): requests IN, OUT, FLUSH, GET_ID, DISCARD and WRITE_ZEROES
 * on 1 to KR_DISK_MAX_QUEUES queues, each served by a worker thread of its
 * own, so that no disk I/O runs on a vCPU thread.
 *
 * A queue notification reaches the worker through an eventfd: the
 * transport's notify (an MMIO write on a vCPU thread, or
 * kr_virtio_pci_kick()) writes it, and the machine may instead attach a
 * khv ioeventfd for the notify address (kr_virtio_pci_notify_addr()) to
 * the same eventfd, kr_virtio_blk_queue_fd(): the worker cannot tell.
 *
 * Offered: SEG_MAX, BLK_SIZE, TOPOLOGY always; FLUSH unless
 * cache=writethrough; RO for ro; MQ for queues > 1; DISCARD and
 * WRITE_ZEROES for discard=on on a read-write disk.  Not offered: SIZE_MAX
 * (no limit per segment), GEOMETRY, CONFIG_WCE, LIFETIME, SECURE_ERASE,
 * ZONED.
 */
#ifndef KHV_RUN_VIRTIO_BLK_H
#define KHV_RUN_VIRTIO_BLK_H

#include "disk.h"
#include "virtio_pci.h"

#define KR_VIRTIO_ID_BLOCK	2
#define KR_BLK_QUEUE_SIZE	256
#define KR_BLK_SEG_MAX		(KR_BLK_QUEUE_SIZE - 2)	/* data buffers; + header, status */
#define KR_BLK_MAX_DISCARD_SECTORS	(1u << 22)	/* per segment: 2 GiB */
#define KR_BLK_MAX_DISCARD_SEG	32
#define KR_BLK_CONFIG_LEN	60	/* through write_zeroes_may_unmap and padding */

/* Feature bits (5.2.3). */
#define KR_BLK_F_SIZE_MAX	1
#define KR_BLK_F_SEG_MAX	2
#define KR_BLK_F_GEOMETRY	4
#define KR_BLK_F_RO		5
#define KR_BLK_F_BLK_SIZE	6
#define KR_BLK_F_FLUSH		9
#define KR_BLK_F_TOPOLOGY	10
#define KR_BLK_F_CONFIG_WCE	11
#define KR_BLK_F_MQ		12
#define KR_BLK_F_DISCARD	13
#define KR_BLK_F_WRITE_ZEROES	14

/* Request types and status (5.2.6). */
#define KR_BLK_T_IN		0
#define KR_BLK_T_OUT		1
#define KR_BLK_T_FLUSH		4
#define KR_BLK_T_GET_ID		8
#define KR_BLK_T_GET_LIFETIME	10
#define KR_BLK_T_DISCARD	11
#define KR_BLK_T_WRITE_ZEROES	13
#define KR_BLK_T_SECURE_ERASE	14
#define KR_BLK_S_OK		0
#define KR_BLK_S_IOERR		1
#define KR_BLK_S_UNSUPP		2
#define KR_BLK_HDR_SIZE		16	/* le32 type, le32 reserved, le64 sector */
#define KR_BLK_SEG_SIZE		16	/* le64 sector, le32 num_sectors, le32 flags */
#define KR_BLK_WZ_F_UNMAP	1

/* Configuration offsets (5.2.4). */
#define KR_BLK_CFG_CAPACITY	0
#define KR_BLK_CFG_SIZE_MAX	8
#define KR_BLK_CFG_SEG_MAX	12
#define KR_BLK_CFG_BLK_SIZE	20
#define KR_BLK_CFG_PHYS_EXP	24
#define KR_BLK_CFG_ALIGN_OFF	25
#define KR_BLK_CFG_MIN_IO	26
#define KR_BLK_CFG_OPT_IO	28
#define KR_BLK_CFG_WRITEBACK	32
#define KR_BLK_CFG_NUM_QUEUES	34
#define KR_BLK_CFG_MAX_DISCARD	36
#define KR_BLK_CFG_DISCARD_SEG	40
#define KR_BLK_CFG_DISCARD_ALIGN	44
#define KR_BLK_CFG_MAX_WZ	48
#define KR_BLK_CFG_WZ_SEG	52
#define KR_BLK_CFG_WZ_UNMAP	56

struct kr_virtio_blk;

/*
 * Plug a virtio-blk device for disk into pci (slot < 0: first free) and
 * start its workers.  The disk is borrowed: it must outlive the device.
 * NULL + errno.
 */
struct kr_virtio_blk *kr_virtio_blk_create(struct kr_pci *pci, int slot,
					   const struct kr_mem *mem, struct kr_disk *disk);
/*
 * After the vCPUs stopped, before guest RAM goes: each worker finishes the
 * request it is in (its I/O and its completion), leaves the rest in the
 * ring and exits.
 */
void kr_virtio_blk_destroy(struct kr_virtio_blk *b);
struct kr_virtio_pci *kr_virtio_blk_transport(struct kr_virtio_blk *b);
struct kr_disk *kr_virtio_blk_disk(struct kr_virtio_blk *b);
unsigned int kr_virtio_blk_num_queues(struct kr_virtio_blk *b);
/* Queue q's notification eventfd (for an ioeventfd), -1 for a bad q. */
int kr_virtio_blk_queue_fd(struct kr_virtio_blk *b, unsigned int q);

/*
 * Snapshots (snapfield.h).  The device's state is its transport's
 * (virtio_pci.h) and, for the load to check, what the driver was shown:
 * the features offered and the configuration (capacity, queues, block
 * sizes, discard limits).  A disk of another size, other queues or other
 * options is refused by name ("vda: 2048 sectors in the snapshot, 4096
 * here"): the disk's contents are the caller's to match.
 *
 * save holds every worker's lock, so that no request is between its pop
 * and its push (a save waits for a batch in progress); notifications not
 * yet served stay pending.  drain: after kr_virtio_pci_freeze(), wait for
 * the batches in progress, after which no worker touches guest memory or
 * the disk until the transport is unfrozen and kicked.  After a load the
 * machine calls kr_virtio_pci_kick_all() on kr_virtio_blk_transport(): the
 * requests the driver had made available are served.
 */
int kr_virtio_blk_save(struct kr_virtio_blk *b, struct kr_sbuf *sb);
int kr_virtio_blk_load(struct kr_virtio_blk *b, struct kr_sget *g);
void kr_virtio_blk_drain(struct kr_virtio_blk *b);

/* Tests: called by queue q's worker before each request it takes. */
typedef void kr_blk_hook_fn(void *opaque, unsigned int q);
void kr_virtio_blk_set_hook(struct kr_virtio_blk *b, kr_blk_hook_fn *fn, void *opaque);

#endif
