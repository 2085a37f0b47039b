/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The machine khv-run builds: what goes where.  One PC-shaped machine with
 * a Q35-like PCI host bridge (ECAM), the in-kernel LAPIC/IOAPIC/PIC/PIT,
 * and the legacy devices Linux expects.  Every address, port and IRQ of
 * the machine is here, so that the e820 map, the ACPI tables and the
 * devices cannot disagree.
 */
#ifndef KHV_RUN_MACHINE_H
#define KHV_RUN_MACHINE_H

/* ---- guest physical memory map ------------------------------------------ */
#define KR_EBDA_START		0x9fc00ull	/* 1 KiB EBDA: reserved */
#define KR_LOWMEM_END		0xa0000ull	/* 640 KiB: VGA hole above */
#define KR_BIOS_START		0xe0000ull	/* ACPI tables, reserved to 1 MiB */
#define KR_BIOS_END		0x100000ull
#define KR_RSDP_ADDR		0xe0000ull	/* where an ACPI OS scans for it */
#define KR_ACPI_START		0xe0040ull	/* the other tables, up to KR_BIOS_END */

/* Linux boot protocol structures, all below the EBDA. */
#define KR_GDT_ADDR		0x500ull
#define KR_ZERO_PAGE		0x7000ull	/* struct boot_params */
#define KR_PAGE_TABLES		0x9000ull	/* identity map for the 64-bit entry */
#define KR_CMDLINE_ADDR		0x20000ull
#define KR_CMDLINE_MAX		0x10000ull
#define KR_KERNEL_ADDR		0x100000ull	/* protected-mode kernel */

/* Below 4 GiB, RAM ends at the PCI hole at most. */
#define KR_PCI_HOLE		0xc0000000ull
#define KR_PCI_MMIO32_BASE	0xc0000000ull	/* BARs, to the ECAM */
#define KR_PCI_MMIO32_END	0xe0000000ull
#define KR_ECAM_BASE		0xe0000000ull	/* PCI Express configuration */
#define KR_ECAM_BUSES		1		/* bus 0 only */
#define KR_ECAM_SIZE		(KR_ECAM_BUSES * 0x100000ull)
#define KR_IOAPIC_ADDR		0xfec00000ull
#define KR_LAPIC_ADDR		0xfee00000ull
#define KR_HIGHMEM_BASE		0x100000000ull	/* RAM beyond the hole */

/* ---- port I/O ---------------------------------------------------------- */
#define KR_PORT_I8042_DATA	0x60
#define KR_PORT_I8042_CMD	0x64
#define KR_PORT_RTC		0x70		/* index 0x70, data 0x71 */
#define KR_PORT_POST		0x80
#define KR_PORT_DEBUG_EXIT	0xf4		/* as QEMU's isa-debug-exit */
#define KR_PORT_COM1		0x3f8
#define KR_PORT_FW_CFG		0x510		/* selector 0x510, data 0x511 */
#define KR_PORT_FW_CFG_DMA	0x514
#define KR_PORT_PM_BASE		0x600		/* ACPI PM block */
#define KR_PORT_PM1A_EVT	(KR_PORT_PM_BASE + 0x0)	/* 4 bytes: STS, EN */
#define KR_PORT_PM1A_CNT	(KR_PORT_PM_BASE + 0x4)	/* 2 bytes */
#define KR_PORT_PM_TMR		(KR_PORT_PM_BASE + 0x8)	/* 4 bytes, 3.579545 MHz */
#define KR_PORT_PM_LEN		0x10
#define KR_PORT_PCI_CONFIG	0xcf8		/* CONFIG_ADDRESS, CONFIG_DATA at 0xcfc */
#define KR_PORT_RESET		0xcf9		/* reset control, inside 0xcf8-0xcff */
#define KR_PCI_IO_BASE		0xc000		/* PCI I/O BARs */
#define KR_PCI_IO_END		0x10000

/* ---- interrupts (GSIs of the in-kernel irqchip) ---------------------------- */
#define KR_GSI_PIT		2		/* ISA IRQ0, source override */
#define KR_GSI_I8042		1
#define KR_GSI_COM1		4
#define KR_GSI_RTC		8
#define KR_GSI_SCI		9		/* ACPI SCI: level, active high */
#define KR_GSI_PCI_INTA		16		/* INTA-INTD: GSIs 16-19 */
#define KR_IOAPIC_PINS		24

/* ACPI PM1 values the FADT, the DSDT (_S5) and pm.c share. */
#define KR_SLP_TYP_S5		5
#define KR_RESET_VALUE		0x06		/* to KR_PORT_RESET: hard reset */

#endif
