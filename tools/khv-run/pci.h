/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PCI bus 0 of the machine (machine.h): a Q35-shaped host bridge at
 * 00:00.0, configuration mechanism #1 (ports 0xcf8-0xcff, which also hold
 * the reset control register 0xcf9) and ECAM, up to 31 single-function
 * devices with their BARs, command/status, INTx and MSI-X.
 *
 * A device describes itself once (struct kr_pci_dev_config), before the
 * vCPUs start: IDs, class, BARs, MSI-X; then adds its capabilities.  The
 * guest may then move BARs at will: pci.c owns the whole 32-bit MMIO window
 * and the I/O window on the buses and forwards each access to the BAR that
 * decodes it, as an offset into that BAR.
 */
#ifndef KHV_RUN_PCI_H
#define KHV_RUN_PCI_H

#include "dev.h"
#include "machine.h"
#include "msix.h"
#include "snapfield.h"

#define KR_PCI_SLOTS		32	/* slot 0 is the host bridge */
#define KR_PCI_BARS		6
#define KR_PCI_CFG_SIZE		256	/* the standard header + capabilities */

/* Configuration header offsets and bits (PCI Local Bus 3.0, chapter 6). */
#define KR_PCI_VENDOR_ID	0x00
#define KR_PCI_DEVICE_ID	0x02
#define KR_PCI_COMMAND		0x04
#define  KR_PCI_CMD_IO		0x0001
#define  KR_PCI_CMD_MEMORY	0x0002
#define  KR_PCI_CMD_MASTER	0x0004
#define  KR_PCI_CMD_INTX_OFF	0x0400
#define KR_PCI_STATUS		0x06
#define  KR_PCI_STS_INTX	0x0008
#define  KR_PCI_STS_CAPS	0x0010
#define KR_PCI_REVISION		0x08
#define KR_PCI_CLASS_PROG	0x09	/* prog-if, subclass, class: 3 bytes */
#define KR_PCI_HEADER_TYPE	0x0e
#define KR_PCI_BAR0		0x10
#define KR_PCI_SUBSYS_VENDOR	0x2c
#define KR_PCI_SUBSYS_ID	0x2e
#define KR_PCI_ROM		0x30
#define KR_PCI_CAP_PTR		0x34
#define KR_PCI_INT_LINE		0x3c
#define KR_PCI_INT_PIN		0x3d
#define KR_PCI_CAP_START	0x40	/* first byte after the header */

#define KR_PCI_CAP_ID_VNDR	0x09
#define KR_PCI_CAP_ID_MSIX	0x11

/* BAR register low bits. */
#define KR_PCI_BAR_IO_FLAG	0x1
#define KR_PCI_BAR_MEM64_FLAG	0x4
#define KR_PCI_BAR_PREFETCH	0x8

/* The host bridge: an Intel Q35 MCH as far as IDs go. */
#define KR_PCI_HB_VENDOR	0x8086
#define KR_PCI_HB_DEVICE	0x29c0
#define KR_PCI_HB_CLASS		0x060000

/*
 * INTx routing, shared with the ACPI _PRT: pin 0 = INTA .. 3 = INTD of the
 * device in slot `slot` drives GSI KR_GSI_PCI_INTA + (slot + pin) % 4.
 * Devices here only use INTA.
 */
static inline unsigned int kr_pci_intx_gsi(unsigned int slot, unsigned int pin)
{
	return KR_GSI_PCI_INTA + (slot + pin) % 4;
}

enum kr_pci_bar_type {
	KR_PCI_BAR_NONE,
	KR_PCI_BAR_IO,		/* size 4..256 */
	KR_PCI_BAR_MEM32,	/* size >= 16 */
	KR_PCI_BAR_MEM64,	/* takes two BAR registers: the next one is NONE */
};

struct kr_pci_bar_info {
	enum kr_pci_bar_type type;
	uint64_t size;		/* a power of 2 */
	bool prefetchable;
};

/*
 * What pci.c calls in a device.  None is called with a pci.c lock held, and
 * every one may run on any vCPU thread (several at once) or on the thread
 * calling kr_pci_reset().
 */
struct kr_pci_dev_ops {
	/*
	 * An access to BAR `bar`: offset from its start; the access never
	 * straddles the BAR's end and never touches the MSI-X table or PBA.
	 * Reads come preset to all-ones.
	 */
	void (*bar_io)(void *opaque, unsigned int bar, uint64_t offset, uint8_t *data,
		       unsigned int size, bool write);
	/* Optional: accesses inside the config range claimed with kr_pci_claim_cfg(). */
	void (*cfg_io)(void *opaque, unsigned int reg, uint8_t *data, unsigned int size,
		       bool write);
	/* Optional: where BAR `bar` decodes changed (moved, enabled, disabled). */
	void (*bar_moved)(void *opaque, unsigned int bar);
	/* Optional: kr_pci_reset() (machine reset) after the config space was reset. */
	void (*reset)(void *opaque);
};

struct kr_pci_dev_config {
	const char *name;
	uint16_t vendor_id, device_id;
	uint16_t subsys_vendor_id, subsys_id;
	uint8_t revision;
	uint32_t class_code;	/* class << 16 | subclass << 8 | prog-if */
	bool intx;		/* the device drives INTA */
	struct kr_pci_bar_info bar[KR_PCI_BARS];
	/* MSI-X: 0 vectors for none; table and PBA in a memory BAR, 8-aligned. */
	unsigned int msix_vectors;
	unsigned int msix_bar;
	uint64_t msix_table, msix_pba;
	const struct kr_pci_dev_ops *ops;
	void *opaque;
};

struct kr_pci_params {
	struct kr_irq intx;	/* set and opaque; pci.c picks each line's GSI */
	struct kr_msi msi;
	/* A hard reset written to KR_PORT_RESET: no lock held, any vCPU thread. */
	void (*reset)(void *opaque);
	void *reset_opaque;
};

struct kr_pci;
struct kr_pci_dev;

struct kr_pci *kr_pci_create(const struct kr_pci_params *p);
/* After the vCPUs stopped; frees the devices' PCI state too. */
void kr_pci_destroy(struct kr_pci *pci);
/* Registers CONFIG_ADDRESS/DATA, ECAM and the two BAR windows: 0 or -errno. */
int kr_pci_attach(struct kr_pci *pci, struct kr_bus *pio, struct kr_bus *mmio);
/* Machine reset: config spaces and BARs back to boot state, then ops->reset. */
void kr_pci_reset(struct kr_pci *pci);

/*
 * Plug a device into slot 1..31, or the first free one for slot < 0; its
 * BARs get boot addresses in the windows.  0, -EINVAL (bad config), -EBUSY
 * (slot taken or none free), -ENOSPC (window full), -ENOMEM.
 */
int kr_pci_add(struct kr_pci *pci, int slot, const struct kr_pci_dev_config *cfg,
	       struct kr_pci_dev **devp);
unsigned int kr_pci_dev_slot(const struct kr_pci_dev *dev);

/*
 * Setup, before the vCPUs run: append a capability.  cap[0] is its ID,
 * cap[1] (next) is filled in; wmask (NULL: none) says which bits of each
 * byte the guest may write.  Returns its config offset, or -ENOSPC.
 */
int kr_pci_add_cap(struct kr_pci_dev *dev, const uint8_t *cap, const uint8_t *wmask,
		   unsigned int len);
/* Setup: send config accesses inside [reg, reg + len) to ops->cfg_io. */
int kr_pci_claim_cfg(struct kr_pci_dev *dev, unsigned int reg, unsigned int len);

/* Read the function's config space as the guest would (reg + size <= 256). */
uint32_t kr_pci_cfg_read(struct kr_pci_dev *dev, unsigned int reg, unsigned int size);
/* Access BAR `bar` directly, decoded or not (virtio's PCI_CFG window). */
void kr_pci_bar_access(struct kr_pci_dev *dev, unsigned int bar, uint64_t offset,
		       uint8_t *data, unsigned int size, bool write);
/* The guest address BAR `bar` decodes at now; false when it decodes nothing. */
bool kr_pci_bar_addr(struct kr_pci_dev *dev, unsigned int bar, uint64_t *gpa);
/* Bus mastering on: the device may touch guest memory (DMA). */
bool kr_pci_bus_master(struct kr_pci_dev *dev);

/* INTA level as the device wants it (the line follows unless INTx is disabled). */
void kr_pci_set_irq(struct kr_pci_dev *dev, int level);
/* MSI-X of the device (NULL: none) and raising one of its vectors. */
struct kr_msix *kr_pci_msix(struct kr_pci_dev *dev);
enum kr_msix_result kr_pci_msix_notify(struct kr_pci_dev *dev, unsigned int vector);

/*
 * The bus's state for a snapshot (snapfield.h's contract).  Saved: the
 * CONFIG_ADDRESS latch and the reset control byte, then for each function
 * present (the host bridge too) its slot, vendor:device and class, its
 * 256 config bytes (BARs and command register included: where the BARs
 * decode follows from them), the INTx level the device last asked for and
 * its MSI-X state (kr_msix_save()).
 *
 * The load goes into a bus just created the same way, devices in the same
 * slots, before any vCPU runs.  It refuses another slot layout ("slot 3
 * holds 1af4:1042 in the snapshot, 1af4:1041 here"), a config byte whose
 * read-only bits differ from the fresh function's (so a BAR only holds an
 * address of its alignment, type bits unchanged) and MSI-X state the table
 * cannot hold.  The config spaces are checked whole before any MSI-X state
 * is taken, and each MSI-X state before it changes its function (a refusal
 * there may leave earlier functions' MSI-X loaded: a refused bus is only
 * destroyed).  Then every BAR decodes where its loaded registers say, with
 * the calls a guest's command or BAR write makes (ops->bar_moved for each
 * BAR whose decode changed; MSI-X has called its route hooks).  No
 * interrupt is sent and no INTx line driven: the irqchip's own state holds
 * the lines, pci.c only takes back its record of them.
 */
#define KR_PCI_STATE_VERSION	1
/* 0, or -ENOMEM. */
int kr_pci_save(struct kr_pci *pci, struct kr_sbuf *b);
/* 0, or -EPROTO with the reason in g. */
int kr_pci_load(struct kr_pci *pci, struct kr_sget *g);

#endif
