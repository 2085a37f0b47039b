/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ACPI tables khv-run gives its guest in place of firmware: RSDP at
 * KR_RSDP_ADDR, then FACS, DSDT, FADT, MADT, MCFG, XSDT and RSDT from
 * KR_ACPI_START, all inside [KR_BIOS_START, KR_BIOS_END) (machine.h).
 *
 * What the loader does with them: boot_params.acpi_rsdp_addr = KR_RSDP_ADDR
 * (Linux also finds the RSDP by scanning 0xe0000-0xfffff), and the e820 map
 * marks [KR_BIOS_START, KR_BIOS_END) reserved (type 2), not ACPI-reclaimable:
 * the FACS (global lock, waking vector) must outlive table parsing, and a
 * PC's 0xe0000-0xfffff BIOS area is reserved anyway.  The ECAM window
 * [KR_ECAM_BASE, +KR_ECAM_SIZE) should be e820-reserved too: Linux 6.1
 * checks MCFG against e820 before the ACPI interpreter runs (it falls back
 * to the PNP0C02 resources the DSDT declares later on).
 */
#ifndef KHV_RUN_ACPI_H
#define KHV_RUN_ACPI_H

#include <stdbool.h>
#include <stdint.h>

/* xAPIC IDs are 8 bits, 0xff is broadcast, and the IOAPIC takes the next ID. */
#define KR_ACPI_MAX_VCPUS	254

/* Identity in every table header (and the RSDP). */
#define KR_ACPI_OEM_ID		"KHV   "	/* 6 bytes */
#define KR_ACPI_OEM_TABLE_ID	"KHVRUN  "	/* 8 bytes */

struct kr_acpi_config {
	unsigned int nr_vcpus;		/* 1..KR_ACPI_MAX_VCPUS; APIC IDs 0..n-1 */
	uint64_t ram_below_4g;		/* RAM at gpa 0: at most KR_PCI_HOLE */
	uint64_t ram_above_4g;		/* RAM at KR_HIGHMEM_BASE */
	uint64_t mmio64_base;		/* 64-bit PCI window, above all RAM */
	uint64_t mmio64_size;		/* 0: no 64-bit window */
	bool have_i8042;		/* PS/2 controller at 0x60/0x64, IRQ 1 */
};

/*
 * Write all tables into guest RAM mapped at mem (guest physical 0) for
 * mem_size bytes; [KR_BIOS_START, KR_BIOS_END) is cleared first.  0, -EINVAL for
 * a config the tables cannot describe (no vCPU, more than
 * KR_ACPI_MAX_VCPUS, RAM in the PCI hole, a 64-bit window overlapping RAM
 * or wrapping), -ENOSPC when mem does not reach KR_BIOS_END or the tables
 * do not fit below it, -ENOMEM.  On failure no RSDP is left behind.
 */
int kr_acpi_build(void *mem, uint64_t mem_size, const struct kr_acpi_config *cfg);

/* The same with the tables confined below `end' (<= KR_BIOS_END): for tests. */
int kr_acpi_build_below(void *mem, uint64_t mem_size, const struct kr_acpi_config *cfg,
			uint64_t end);

#endif
