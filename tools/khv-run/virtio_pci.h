/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio 1.x PCI transport (virtio 1.2 section 4.1), modern only: PCI
 * device 0x1040 + the virtio device ID, revision 1, KR_VIRTIO_F_VERSION_1
 * required.  One 32-bit memory BAR (BAR 0) holds the common configuration,
 * the ISR, the device configuration, the notification area and the MSI-X
 * table and PBA; vendor capabilities point at each, plus the PCI_CFG
 * window.  Split virtqueues (virtqueue.h), with indirect descriptors and
 * EVENT_IDX offered by the transport.
 *
 * A device plugs in with a struct kr_virtio_ops and drives its queues with
 * kr_virtio_pop()/kr_virtio_push()/kr_virtio_notify().
 *
 * Threads: the guest's accesses arrive on vCPU threads (several at once);
 * ops->queue_notify runs on the thread that saw the notification: a vCPU
 * thread for an MMIO write, or the I/O thread when the machine has put an
 * ioeventfd on the notify address and calls kr_virtio_pci_kick().  A
 * device may process its queues right there or hand the work to the I/O
 * thread or a thread of its own: pop, push and notify may be called from
 * any thread, for different queues concurrently.
 */
#ifndef KHV_RUN_VIRTIO_PCI_H
#define KHV_RUN_VIRTIO_PCI_H

#include "pci.h"
#include "snapfield.h"
#include "virtqueue.h"

#define KR_VIRTIO_PCI_VENDOR	0x1af4
#define KR_VIRTIO_PCI_DEVICE_BASE	0x1040
#define KR_VIRTIO_MAX_QUEUES	64
#define KR_VIRTIO_NO_VECTOR	0xffff

/* Device status (2.1). */
#define KR_VIRTIO_STATUS_ACKNOWLEDGE	0x01
#define KR_VIRTIO_STATUS_DRIVER		0x02
#define KR_VIRTIO_STATUS_DRIVER_OK		0x04
#define KR_VIRTIO_STATUS_FEATURES_OK	0x08
#define KR_VIRTIO_STATUS_NEEDS_RESET	0x40
#define KR_VIRTIO_STATUS_FAILED		0x80

/* Transport feature bits (6). */
#define KR_VIRTIO_F_INDIRECT_DESC		28
#define KR_VIRTIO_F_EVENT_IDX		29
#define KR_VIRTIO_F_VERSION_1		32

/* Layout of BAR 0. */
#define KR_VIRTIO_BAR			0
#define KR_VIRTIO_COMMON_OFF		0x0000
#define KR_VIRTIO_COMMON_LEN		0x38	/* through queue_device */
#define KR_VIRTIO_ISR_OFF		0x1000
#define KR_VIRTIO_DEVCFG_OFF		0x2000
#define KR_VIRTIO_DEVCFG_MAX		0x1000
#define KR_VIRTIO_NOTIFY_OFF		0x3000
#define KR_VIRTIO_NOTIFY_MULT		4
#define KR_VIRTIO_MSIX_TABLE_OFF	0x4000
#define KR_VIRTIO_MSIX_PBA_OFF		0x5000
#define KR_VIRTIO_BAR_SIZE		0x8000

/* Virtio PCI capability types (4.1.4). */
#define KR_VIRTIO_CAP_COMMON_CFG	1
#define KR_VIRTIO_CAP_NOTIFY_CFG	2
#define KR_VIRTIO_CAP_ISR_CFG		3
#define KR_VIRTIO_CAP_DEVICE_CFG	4
#define KR_VIRTIO_CAP_PCI_CFG		5

/* Common configuration offsets (4.1.4.3). */
#define KR_VIRTIO_COMMON_DFSELECT	0x00
#define KR_VIRTIO_COMMON_DF		0x04
#define KR_VIRTIO_COMMON_GFSELECT	0x08
#define KR_VIRTIO_COMMON_GF		0x0c
#define KR_VIRTIO_COMMON_MSIX		0x10
#define KR_VIRTIO_COMMON_NUMQ		0x12
#define KR_VIRTIO_COMMON_STATUS	0x14
#define KR_VIRTIO_COMMON_CFGGEN	0x15
#define KR_VIRTIO_COMMON_Q_SELECT	0x16
#define KR_VIRTIO_COMMON_Q_SIZE	0x18
#define KR_VIRTIO_COMMON_Q_MSIX	0x1a
#define KR_VIRTIO_COMMON_Q_ENABLE	0x1c
#define KR_VIRTIO_COMMON_Q_NOFF	0x1e
#define KR_VIRTIO_COMMON_Q_DESC	0x20
#define KR_VIRTIO_COMMON_Q_AVAIL	0x28
#define KR_VIRTIO_COMMON_Q_USED	0x30

/*
 * A device.  The callbacks are called with no transport lock held, from
 * vCPU threads (config, notify, reset on a status write of 0) or the I/O
 * thread (notify through an ioeventfd).
 */
struct kr_virtio_ops {
	const char *name;
	uint16_t device_id;	/* virtio device ID (5): 4 = entropy */
	uint32_t class_code;	/* PCI class of the function */
	uint64_t features;	/* device bits (0-23, 50-63); the transport adds its own */
	uint16_t num_queues;	/* 1..KR_VIRTIO_MAX_QUEUES */
	uint16_t queue_max;	/* largest queue size, a power of 2 */
	uint32_t config_len;	/* bytes of device configuration, <= KR_VIRTIO_DEVCFG_MAX */
	/* Device configuration access, offset + size <= config_len (checked). */
	void (*config_read)(void *opaque, uint32_t offset, uint8_t *data, unsigned int size);
	void (*config_write)(void *opaque, uint32_t offset, const uint8_t *data,
			     unsigned int size);
	/* The driver notified queue q (ready: enabled and DRIVER_OK). */
	void (*queue_notify)(void *opaque, unsigned int q);
	/* Optional: DRIVER_OK was just set. */
	void (*driver_ok)(void *opaque);
	/*
	 * Device reset (status 0 written, or machine reset).  Queues already
	 * refuse pops; on return the device must be done writing into any
	 * buffer it popped (later pushes of them are dropped).
	 */
	void (*reset)(void *opaque);
	/*
	 * Optional: kr_virtio_pci_kick_all() is about to notify the queues,
	 * after a load or a save (no lock held, interrupts allowed).  For
	 * what the host side may have changed meanwhile (a terminal's size,
	 * a backend's link): the device tells the driver now.
	 */
	void (*resume)(void *opaque);
};

struct kr_virtio_pci;

/* Plug a virtio device into pci (slot < 0: first free).  NULL + errno. */
struct kr_virtio_pci *kr_virtio_pci_create(struct kr_pci *pci, int slot,
					   const struct kr_mem *mem,
					   const struct kr_virtio_ops *ops, void *opaque);
/* After the vCPUs and the device stopped. */
void kr_virtio_pci_destroy(struct kr_virtio_pci *v);
struct kr_pci_dev *kr_virtio_pci_dev(struct kr_virtio_pci *v);

/* Negotiated features (valid once FEATURES_OK was accepted). */
uint64_t kr_virtio_features(struct kr_virtio_pci *v);
/* The device status register (KR_VIRTIO_STATUS_*). */
uint8_t kr_virtio_status(struct kr_virtio_pci *v);

/*
 * Queue q: take a chain (1), none (0: not ready, bus mastering off, or
 * empty), or -EIO (malformed: the device is now DEVICE_NEEDS_RESET).
 */
int kr_virtio_pop(struct kr_virtio_pci *v, unsigned int q, struct kr_vq_elem *e);
/* Give a popped chain back with len bytes written into it. */
void kr_virtio_push(struct kr_virtio_pci *v, unsigned int q, const struct kr_vq_elem *e,
		    uint32_t len);
/*
 * Give n popped chains back together (kr_vq_push_n(): the driver sees all
 * or none); dropped, all of them, when any is from before a reset.
 */
#define KR_VIRTIO_HAVE_PUSH_N	1
void kr_virtio_push_n(struct kr_virtio_pci *v, unsigned int q, const struct kr_vq_elem *const *e,
		      const uint32_t *len, unsigned int n);
/* After pushes: interrupt the driver if it wants one (MSI-X vector or INTx). */
void kr_virtio_notify(struct kr_virtio_pci *v, unsigned int q);
/* The device configuration changed: config interrupt, new generation. */
void kr_virtio_config_changed(struct kr_virtio_pci *v);
/* An error the device cannot recover from: DEVICE_NEEDS_RESET (2.1.2). */
void kr_virtio_needs_reset(struct kr_virtio_pci *v);

/*
 * For ioeventfds: the guest physical address a 2-byte write to which
 * notifies queue q (any data value), false while BAR 0 decodes nothing.
 * The hook (set before the vCPUs run) is called, with no lock held, on the
 * vCPU thread that moved or switched BAR 0: the machine then moves its
 * ioeventfds, and calls kr_virtio_pci_kick() when one fires.
 */
bool kr_virtio_pci_notify_addr(struct kr_virtio_pci *v, unsigned int q, uint64_t *gpa);
typedef void kr_virtio_notify_hook(void *opaque, struct kr_virtio_pci *v);
void kr_virtio_pci_set_notify_hook(struct kr_virtio_pci *v, kr_virtio_notify_hook *fn,
				   void *opaque);
void kr_virtio_pci_kick(struct kr_virtio_pci *v, unsigned int q);

/*
 * Snapshots and migration (snapfield.h's contract).  The transport's state
 * is the common configuration, the ISR, the PCI_CFG window's data and each
 * queue's registers and ring position; PCI config space, BAR 0's place and
 * MSI-X are pci.c's and msix.c's, the INTx line the irqchip's and pci.c's.
 * A device saves and loads it as the last part of its own state (each
 * device's _save/_load in virtio_<dev>.h), since the load ends the input.
 *
 * Chains a device popped and has not pushed are not state: a save needs
 * the device quiet, every queue's chains either pushed or held by the
 * device as the LAST ones it popped from that queue, held[q] of them (NULL:
 * none anywhere).  The ring position is saved rewound past them, so that
 * the restored device pops them again; the live device keeps them and
 * goes on untouched (the VM may resume after the save).  -EBUSY when a
 * queue has chains in flight that are not held (the device did not
 * quiesce: a failed snapshot rather than a lost request), or a reset is
 * in progress; -ENOMEM when b ran out of memory.
 */
int kr_virtio_pci_save(struct kr_virtio_pci *v, struct kr_sbuf *b, const uint16_t *held);
/*
 * Into a transport just created for the same device (same ops, as the
 * device may have adjusted its ops->features for the snapshot first),
 * before any vCPU runs: every value is checked as outside input.  It calls
 * no device callback and raises no interrupt.  0 or -EPROTO (reason in g).
 */
int kr_virtio_pci_load(struct kr_virtio_pci *v, struct kr_sget *g);
/*
 * While a snapshot is taken (the machine's freeze, before the saves, until
 * guest memory is written too): pops find nothing, so that no device takes
 * another chain and writes guest memory or a disk; chains the devices
 * already took are theirs to finish (virtio-blk: kr_virtio_blk_drain()) or
 * hold (virtio-net does no frame work while frozen).  Frozen is the host's
 * business, not state: a load does not change it.  Unfreezing notifies
 * nobody: kr_virtio_pci_kick_all() then looks at every queue.
 */
void kr_virtio_pci_freeze(struct kr_virtio_pci *v, bool frozen);
bool kr_virtio_pci_frozen(struct kr_virtio_pci *v);
/*
 * ops->resume, then ops->queue_notify for every ready queue, with no lock
 * held: chains the driver made available and notified before the snapshot
 * are looked at (a restored device must not wait for a notification that
 * was sent to the old one).  The machine calls it for every virtio device
 *  - after a load: once every device of the machine is loaded (PCI and
 *    MSI-X state included: the device may pop, needing bus mastering, and
 *    interrupt), before or as the vCPUs start;
 *  - after a save that the VM resumes from: after unfreezing, as the
 *    vCPUs resume (queues notified while frozen found nothing; a
 *    notification is never harmful).
 */
void kr_virtio_pci_kick_all(struct kr_virtio_pci *v);

#endif
