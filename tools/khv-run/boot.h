/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a kernel loader hands the machine: where the boot processor starts
 * and in which state.  The loaders (linux.c, multiboot.c) only write guest
 * memory and fill this; machine.c turns it into registers.
 */
#ifndef KHV_RUN_BOOT_H
#define KHV_RUN_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev.h"

/*
 * How the boot vCPU starts, whichever loader filled it in.  Interrupts are
 * off, segments flat (the boot GDT's 0x10 code, 0x18 data); registers not
 * listed are 0.
 *   KR_BOOT_PROT32: 32-bit protected mode, 4 GiB segments, paging off, A20 on
 *   KR_BOOT_LONG64: 64-bit mode, identity paging of the first 4 GiB
 */
enum kr_boot_mode {
	KR_BOOT_PROT32 = 1,
	KR_BOOT_LONG64 = 2,
};

struct kr_boot_entry {
	int mode;		/* enum kr_boot_mode */
	uint64_t rip;
	uint64_t rsi;		/* Linux 64-bit: the zero page */
	uint32_t eax;		/* Multiboot: KR_MB_BOOTLOADER_MAGIC */
	uint32_t ebx;		/* Multiboot: the info structure's address */
};

/* A loader's failure: -errno and a sentence for the user in why. */
#define KR_WHY_LEN	256

/* Fill why, return err: a loader's error path (boot.c). */
int kr_boot_fail(char why[KR_WHY_LEN], int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * [gpa, gpa + len) is RAM of m, judged by its sizes alone (m->low and
 * m->high may be NULL): how a loader checks before it writes anything.
 */
bool kr_boot_fits(const struct kr_mem *m, uint64_t gpa, uint64_t len);

struct kr_linux_args {
	const uint8_t *kernel;		/* the bzImage, as read from its file */
	size_t kernel_len;
	const uint8_t *initrd;		/* NULL: none */
	size_t initrd_len;
	const char *cmdline;		/* "" when none */
	const void *e820;		/* struct kr_e820_entry[], boot_params layout */
	unsigned int e820_entries;
	uint64_t rsdp;			/* ACPI RSDP address, 0: none */
};

/*
 * Load a bzImage by the 64-bit boot protocol (Documentation/x86/boot.rst):
 * setup header into the zero page, the protected-mode kernel at
 * KR_KERNEL_ADDR, the command line, the initrd at the top of low RAM, the
 * e820 map; entry at the 64-bit entry point with RSI = the zero page.
 * 0 or -errno with why filled (a bad image never starts a VM).  With entry
 * NULL it only checks, against m's sizes (m->low and m->high may be NULL):
 * what khv-run does before it opens /dev/khv.
 */
int kr_linux_load(const struct kr_mem *m, const struct kr_linux_args *a,
		  struct kr_boot_entry *entry, char why[KR_WHY_LEN]);

/*
 * PVH boot of an x86-64 ELF kernel with a PHYS32_ENTRY note (pvh.c): the
 * same arguments as kr_linux_load (kernel = the ELF file), the same check
 * mode with entry NULL.  kr_pvh_detect: an x86-64 ELF file at all.
 */
bool kr_pvh_detect(const uint8_t *img, size_t len);
int kr_pvh_load(const struct kr_mem *m, const struct kr_linux_args *a,
		struct kr_boot_entry *entry, char why[KR_WHY_LEN]);

#endif
