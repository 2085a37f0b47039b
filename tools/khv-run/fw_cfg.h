/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU's firmware configuration interface (fw_cfg), as firmware (SeaBIOS,
 * OVMF) and test kernels read it: a selector and a data port, the DMA
 * interface, the well-known items and a directory of named files.  Nothing
 * is writable by the guest.  Facts from QEMU's docs/specs/fw_cfg.rst.
 */
#ifndef KHV_RUN_FW_CFG_H
#define KHV_RUN_FW_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "dev.h"
#include "snapfield.h"

/* The layout kr_fw_cfg_save() writes (snapfield.h). */
#define KR_FW_CFG_STATE_VERSION	1

/* Selector keys (the spec, and the Linux uapi header qemu_fw_cfg.h). */
#define KR_FW_CFG_SIGNATURE	0x0000	/* "QEMU" */
#define KR_FW_CFG_ID		0x0001	/* le32 feature bits */
#define KR_FW_CFG_RAM_SIZE	0x0003	/* le64 bytes */
#define KR_FW_CFG_NB_CPUS	0x0005	/* le16 */
#define KR_FW_CFG_MAX_CPUS	0x000f	/* le16 */
#define KR_FW_CFG_FILE_DIR	0x0019
#define KR_FW_CFG_FILE_FIRST	0x0020
#define KR_FW_CFG_WRITE_CHANNEL	0x4000
#define KR_FW_CFG_ARCH_LOCAL	0x8000
#define KR_FW_CFG_KEY_MASK	0x3fff

#define KR_FW_CFG_ID_TRADITIONAL 0x1
#define KR_FW_CFG_ID_DMA	0x2

/* FWCfgDmaAccess.control */
#define KR_FW_CFG_DMA_ERROR	0x01
#define KR_FW_CFG_DMA_READ	0x02
#define KR_FW_CFG_DMA_SKIP	0x04
#define KR_FW_CFG_DMA_SELECT	0x08
#define KR_FW_CFG_DMA_WRITE	0x10

/* What a read of the DMA address register returns, big-endian. */
#define KR_FW_CFG_DMA_SIGNATURE	0x51454d5520434647ull	/* "QEMU CFG" */

/* A file name with its NUL, as the directory entries hold it. */
#define KR_FW_CFG_NAME_MAX	56
/* Keys 0x20..0x3fff. */
#define KR_FW_CFG_MAX_FILES	(KR_FW_CFG_KEY_MASK + 1 - KR_FW_CFG_FILE_FIRST)

/* The port ranges kr_fw_cfg_attach() claims. */
#define KR_FW_CFG_PORT_LEN	2	/* selector (16-bit) + data (8-bit) */
#define KR_FW_CFG_DMA_LEN	8	/* address, high half first */

struct kr_fw_cfg_config {
	const struct kr_mem *mem;	/* DMA target, RAM size and etc/e820 */
	unsigned int nb_cpus;		/* vCPUs at boot, 1..65535 */
	unsigned int max_cpus;		/* APIC ID limit; 0: nb_cpus */
	const char *bootorder;		/* "bootorder" (with its NUL); NULL: empty */
	uint32_t boot_fail_wait_ms;	/* etc/boot-fail-wait; 0: never reboot */
};

struct kr_fw_cfg;

/*
 * 0 and *out, or -EINVAL (bad config), -ENOMEM.  cfg->mem must outlive the
 * device; the strings are copied.
 */
int kr_fw_cfg_create(const struct kr_fw_cfg_config *cfg, struct kr_fw_cfg **out);
void kr_fw_cfg_destroy(struct kr_fw_cfg *fw);
/* Claims KR_PORT_FW_CFG and KR_PORT_FW_CFG_DMA on the port I/O bus. */
int kr_fw_cfg_attach(struct kr_fw_cfg *fw, struct kr_bus *pio);

/*
 * Add a named file (data copied).  0, -EINVAL (empty name), -ENAMETOOLONG
 * (KR_FW_CFG_NAME_MAX with the NUL), -EEXIST, -EFBIG (over 4 GiB - 1),
 * -ENOSPC (no key left), -ENOMEM.  Files are keyed in name order, so an
 * addition renumbers those after it: add them all before the vCPUs start.
 */
int kr_fw_cfg_add_file(struct kr_fw_cfg *fw, const char *name, const void *data, size_t len);

/*
 * The interface's state for a snapshot (snapfield.h's contract): the
 * selector, the offset into the selected item and the DMA address's high
 * half.  The items themselves are the machine's configuration, built again
 * by the restoring process; to make sure the guest goes on reading what it
 * was reading, the state also holds the selected item's length and a hash
 * of the bytes it has not read yet, and a load refuses an item that
 * differs.  A DMA operation is over when its port write returns: none is
 * ever in flight.  save: 0 or -ENOMEM.  load: into an interface created
 * with the same configuration and given the same files (after the last
 * kr_fw_cfg_add_file()), before any vCPU runs; 0 or -EPROTO with the reason
 * in g.
 */
int kr_fw_cfg_save(struct kr_fw_cfg *fw, struct kr_sbuf *b);
int kr_fw_cfg_load(struct kr_fw_cfg *fw, struct kr_sget *g);

#endif
