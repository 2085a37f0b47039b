/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The machine's memory map as the firmware interfaces report it: the Linux
 * zero page, the Multiboot info and fw_cfg's etc/e820 all come from
 * kr_e820_build(), so they cannot disagree with each other or machine.h.
 */
#ifndef KHV_RUN_E820_H
#define KHV_RUN_E820_H

#include <stddef.h>
#include <stdint.h>

#include "dev.h"

#define KR_E820_RAM		1
#define KR_E820_RESERVED	2
#define KR_E820_ACPI		3

/* The most entries kr_e820_build() returns. */
#define KR_E820_MAX		8

/* The layout of Linux's boot_params.e820_table[] and of fw_cfg's etc/e820. */
struct kr_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/*
 * The map of the machine with RAM m (low and high pieces), sorted by address,
 * non-overlapping.  Writes at most max entries to out; returns the number
 * of entries the map has (at most KR_E820_MAX), so a return above max means
 * out was too small.
 */
size_t kr_e820_build(const struct kr_mem *m, struct kr_e820_entry *out, size_t max);

/* Split a guest RAM size into the part below the PCI hole and the rest. */
void kr_mem_split(uint64_t ram, uint64_t *low, uint64_t *high);

#endif
