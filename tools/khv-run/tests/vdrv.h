/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test fixtures for the PCI and virtio tests: a fake machine (buses, guest
 * RAM in malloc'd memory, recording INTx lines and MSI messages, a PCI bus
 * attached to the buses) and a test virtio driver that goes through the
 * steps Linux's virtio_pci_modern and virtio_ring take, only through the
 * guest-visible interface: config space via ECAM, BAR registers, MMIO.
 */
#ifndef KHV_RUN_TESTS_VDRV_H
#define KHV_RUN_TESTS_VDRV_H

#include "../pci.h"
#include "../virtio_pci.h"

#define TM_LOW_SIZE	0x200000ull	/* 2 MiB below the hole */
#define TM_HIGH_SIZE	0x10000ull	/* 64 KiB above 4 GiB */
#define TM_MAX_MSI	256

struct tm_msi {
	uint64_t address;
	uint32_t data;
};

struct tmach {
	struct kr_bus pio, mmio;
	struct kr_mem mem;
	struct kr_pci *pci;
	int level[KR_IOAPIC_PINS];	/* last level set per GSI */
	unsigned int irq_calls;
	struct tm_msi msi[TM_MAX_MSI];
	unsigned int n_msi;
	unsigned int resets;
};

void tm_init(struct tmach *m);
void tm_fini(struct tmach *m);
void *tm_ram(struct tmach *m, uint64_t gpa, uint64_t len);	/* checked, or abort */
/* Guest RAM of `from` into `to`: what a snapshot's pages carry. */
void tm_copy_ram(struct tmach *to, const struct tmach *from);

uint64_t tm_read(struct kr_bus *bus, uint64_t addr, unsigned int size);
void tm_write(struct kr_bus *bus, uint64_t addr, unsigned int size, uint64_t v);
/* Config space of bus 0 slot/function 0 through ECAM. */
uint32_t tm_cfg_read(struct tmach *m, unsigned int slot, unsigned int reg, unsigned int size);
void tm_cfg_write(struct tmach *m, unsigned int slot, unsigned int reg, unsigned int size,
		  uint32_t v);
/* The capability with this ID after `from` (0: first), walking the list. */
unsigned int tm_find_cap(struct tmach *m, unsigned int slot, uint8_t id, unsigned int from);

/* ---- the test virtio driver ---- */

#define VD_MAX_QUEUES	4
#define VD_MSI_ADDR(v)	(0xfee00000ull | (uint64_t)(v) << 12)
#define VD_MSI_DATA(v)	(0x40u + (v))

struct vd_queue {
	uint16_t size;
	uint64_t desc, avail, used;	/* guest addresses */
	uint16_t avail_idx, last_used;
	uint64_t notify;		/* guest address of its notify register */
};

struct vdrv {
	struct tmach *m;
	unsigned int slot;
	uint64_t bar;			/* where BAR 0 was programmed */
	uint64_t common, isr, device, notify;
	uint32_t notify_mult, device_len;
	unsigned int msix_cap, nvec;
	uint64_t msix_table;
	struct vd_queue q[VD_MAX_QUEUES];
};

/*
 * Find the virtio capabilities, size BAR 0 and program it at bar_addr,
 * enable memory decoding and bus mastering.  0 or a negative step number.
 */
int vd_probe(struct vdrv *d, struct tmach *m, unsigned int slot, uint64_t bar_addr);
uint64_t vd_common_read(struct vdrv *d, unsigned int off, unsigned int size);
void vd_common_write(struct vdrv *d, unsigned int off, unsigned int size, uint64_t v);
uint8_t vd_status(struct vdrv *d);
/* Reset, ACKNOWLEDGE, DRIVER, write features, FEATURES_OK: the status read back. */
uint8_t vd_negotiate(struct vdrv *d, uint64_t features);
/* MSI-X on, vector v programmed with VD_MSI_ADDR(v)/VD_MSI_DATA(v), unmasked. */
void vd_msix_enable(struct vdrv *d);
/*
 * Queue q of `size` entries at ring_gpa (desc, then avail, then used at
 * the next 4 KiB), with MSI-X vector `vector`: the vector read back.
 */
uint16_t vd_setup_queue(struct vdrv *d, unsigned int q, uint16_t size, uint64_t ring_gpa,
			uint16_t vector);
void vd_driver_ok(struct vdrv *d);
/* Write descriptor i of queue q. */
void vd_desc(struct vdrv *d, unsigned int q, uint16_t i, uint64_t addr, uint32_t len,
	     uint16_t flags, uint16_t next);
/* Make head available (after a write barrier, as the driver must). */
void vd_avail(struct vdrv *d, unsigned int q, uint16_t head);
void vd_kick(struct vdrv *d, unsigned int q);
/*
 * The restoring side of a snapshot test, on machine m (its RAM a copy of
 * from's): what pci.c's and msix.c's loads would bring back (BAR 0 where
 * `from` put it, memory decoding and bus mastering on, MSI-X as
 * vd_msix_enable() left it when msix), and the driver's own bookkeeping,
 * which lives in guest memory.  0 or vd_probe()'s error.
 */
int vd_restore(struct vdrv *d, struct tmach *m, const struct vdrv *from, bool msix);
/* The next used entry: true and its id and len, or false when none. */
bool vd_used(struct vdrv *d, unsigned int q, uint32_t *id, uint32_t *len);
uint16_t vd_used_idx(struct vdrv *d, unsigned int q);

#endif
