/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading a Multiboot (version 1, spec 0.6.96) kernel into guest RAM, and
 * the CPU state the loaders of khv-run hand to the machine.
 */
#ifndef KHV_RUN_MULTIBOOT_H
#define KHV_RUN_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot.h"
#include "dev.h"
#include "machine.h"

#define KR_MB_HEADER_MAGIC	0x1badb002u
#define KR_MB_BOOTLOADER_MAGIC	0x2badb002u
#define KR_MB_SEARCH		8192	/* the header lies within this, 4-byte aligned */

/* Header flags: 0-15 are requirements the loader must meet, or refuse. */
#define KR_MB_PAGE_ALIGN	(1u << 0)	/* modules page-aligned */
#define KR_MB_MEMORY_INFO	(1u << 1)	/* mem_* and mmap wanted */
#define KR_MB_VIDEO_MODE	(1u << 2)	/* a graphics mode: not supported */
#define KR_MB_AOUT_KLUDGE	(1u << 16)	/* load by the header's address fields */

/* Info flags. */
#define KR_MBI_MEMORY		(1u << 0)
#define KR_MBI_CMDLINE		(1u << 2)
#define KR_MBI_MODS		(1u << 3)
#define KR_MBI_MMAP		(1u << 6)
#define KR_MBI_LOADER_NAME	(1u << 9)

/*
 * Where the info structure, memory map, module list and strings go: the
 * command-line area of machine.h, which a Multiboot boot does not otherwise
 * use.  Kernels and modules may only occupy low RAM from KR_MB_LOAD_MIN up,
 * so they cannot overlap it, the EBDA or the BIOS area (ACPI tables).
 */
#define KR_MB_INFO_ADDR		KR_CMDLINE_ADDR
#define KR_MB_INFO_SIZE		KR_CMDLINE_MAX
#define KR_MB_LOAD_MIN		KR_BIOS_END
#define KR_MB_MAX_MODS		32
#define KR_MB_MAX_SEGS		16	/* PT_LOAD segments with memory */

struct kr_mb_module {
	const char *path;	/* kr_multiboot_load(): the file to load */
	const void *data;	/* kr_multiboot_load_buf(): its bytes */
	size_t len;
	const char *string;	/* the module's string; NULL: path, or "" */
};

struct kr_mb_args {
	const char *cmdline;	/* NULL: none (no KR_MBI_CMDLINE) */
	const struct kr_mb_module *mods;
	size_t n_mods;
};

/*
 * Load a Multiboot kernel image (ELF32 i386, or any format with the a.out
 * kludge) and its modules into mem and write the info structure.  0 and
 * *entry, or -errno with a sentence for the user in why:
 *   -ENOEXEC  not a Multiboot kernel, or a corrupt or unsupported one
 *   -ENOMEM   it or its modules do not fit in low RAM above KR_MB_LOAD_MIN
 *   -E2BIG    too many modules, or strings too long for the info area
 *   -EFBIG    the image or a module is larger than low RAM
 * On error guest RAM may hold part of it: the VM is not to be started.
 */
int kr_multiboot_load_buf(const struct kr_mem *mem, const void *image, size_t len,
			  const struct kr_mb_args *args, struct kr_boot_entry *entry, char *why,
			  size_t why_len);

/* The same from files (mods[].path); also -errno of open/read. */
int kr_multiboot_load(const struct kr_mem *mem, const char *path, const struct kr_mb_args *args,
		      struct kr_boot_entry *entry, char *why, size_t why_len);

/* Whether image has a valid Multiboot header (to pick a loader). */
bool kr_multiboot_detect(const void *image, size_t len);

#endif
