// SPDX-License-Identifier: GPL-2.0
/*
 * The ACPI tables (acpi.h): what a BIOS-less PC guest running Linux with
 * ACPI needs to find its CPUs (MADT), interrupt routing (MADT, DSDT _PRT),
 * PCI root and ECAM (DSDT PCI0, MCFG), PM timer, reset register and power
 * button (FADT), and how to power off (DSDT \_S5).  Layouts and offsets are
 * from the ACPI 6.4 specification, section 5.2 (tables) and 5.2.3.2 (GAS);
 * the DSDT is built with aml.h.
 *
 * Tables are written little-endian, byte by byte, at their spec offsets
 * (no packed structs), in an area the caller maps; every write goes
 * through table_alloc(), which never hands out room past the limit.
 * It runs once, before any vCPU does: no state, no lock.
 */
#include <errno.h>
#include <string.h>

#include "acpi.h"
#include "aml.h"
#include "machine.h"
#include "pci.h"

#define HEADER_LEN		36	/* 5.2.6: signature ... creator revision */
#define HDR_LENGTH		4
#define HDR_CHECKSUM		9
#define CREATOR_ID		"KHVR"

#define RSDP_LEN		36	/* 5.2.5.3, revision 2 */
#define RSDP_V1_LEN		20	/* what the first checksum covers */

/* FADT, 5.2.9 table 5.9: ACPI 6.3 layout (FADT 6.3), 276 bytes. */
#define FADT_REVISION		6
#define FADT_MINOR		3
#define FADT_LEN		276
#define FADT_FIRMWARE_CTRL	36
#define FADT_DSDT		40
#define FADT_SCI_INT		46
#define FADT_SMI_CMD		48
#define FADT_PM1A_EVT_BLK	56
#define FADT_PM1A_CNT_BLK	64
#define FADT_PM_TMR_BLK		76
#define FADT_PM1_EVT_LEN	88
#define FADT_PM1_CNT_LEN	89
#define FADT_PM_TMR_LEN		91
#define FADT_P_LVL2_LAT		96
#define FADT_P_LVL3_LAT		98
#define FADT_IAPC_BOOT_ARCH	109
#define FADT_FLAGS		112
#define FADT_RESET_REG		116
#define FADT_RESET_VALUE	128
#define FADT_MINOR_VERSION	131
#define FADT_X_FIRMWARE_CTRL	132
#define FADT_X_DSDT		140
#define FADT_X_PM1A_EVT_BLK	148
#define FADT_X_PM1A_CNT_BLK	172
#define FADT_X_PM_TMR_BLK	208

/* FADT Flags (table 5.10). */
#define FADT_F_WBINVD		(1u << 0)
#define FADT_F_PROC_C1		(1u << 2)
#define FADT_F_SLP_BUTTON	(1u << 5)	/* set: no fixed sleep button */
#define FADT_F_RESET_REG_SUP	(1u << 10)
/* IA-PC boot architecture flags (table 5.11). */
#define BOOT_LEGACY_DEVICES	(1u << 0)
#define BOOT_8042		(1u << 1)
#define BOOT_VGA_NOT_PRESENT	(1u << 2)
/* C2/C3 worst-case latencies above these (us) mean "not supported" (5.2.9). */
#define P_LVL2_NONE		101
#define P_LVL3_NONE		1001

/* Generic Address Structure (5.2.3.2): 12 bytes. */
#define GAS_SYSTEM_IO		1
#define GAS_ACCESS_BYTE		1
#define GAS_ACCESS_WORD		2
#define GAS_ACCESS_DWORD	3

/* FACS, 5.2.10: 64 bytes, 64-byte aligned, no checksum. */
#define FACS_LEN		64
#define FACS_ALIGN		64
#define FACS_VERSION		2

/* MADT, 5.2.12: revision 5 (ACPI 6.3). */
#define MADT_REVISION		5
#define MADT_LEN		44	/* header, local APIC address, flags */
#define MADT_PCAT_COMPAT	(1u << 0)
#define MADT_LAPIC		0	/* 5.2.12.2: 8 bytes */
#define MADT_LAPIC_LEN		8
#define MADT_LAPIC_ENABLED	(1u << 0)
#define MADT_IOAPIC		1	/* 5.2.12.3: 12 bytes */
#define MADT_IOAPIC_LEN		12
#define MADT_ISO		2	/* 5.2.12.5: 10 bytes */
#define MADT_ISO_LEN		10
#define MADT_LAPIC_NMI		4	/* 5.2.12.7: 6 bytes */
#define MADT_LAPIC_NMI_LEN	6
#define MADT_ALL_CPUS		0xff
/* MPS INTI flags (table 5.26): polarity bits 1-0, trigger mode bits 3-2. */
#define INTI_CONFORMING		0x0
#define INTI_ACTIVE_HIGH	0x1
#define INTI_LEVEL		0xc

/* MCFG, PCI Firmware spec 3.x 4.1.2: header, 8 reserved, 16 per allocation. */
#define MCFG_LEN		(HEADER_LEN + 8 + 16)

#define TABLE_ALIGN		16

_Static_assert(KR_RSDP_ADDR + RSDP_LEN <= KR_ACPI_START, "RSDP overlaps the tables");
_Static_assert(KR_RSDP_ADDR % 16 == 0, "the RSDP scan only looks at 16-byte boundaries");
_Static_assert(KR_ECAM_BUSES >= 1 && KR_ECAM_BUSES <= 256, "ECAM bus count");
_Static_assert(KR_PCI_MMIO32_END <= KR_ECAM_BASE || KR_PCI_MMIO32_BASE >= KR_ECAM_BASE +
	       KR_ECAM_SIZE, "the 32-bit window overlaps the ECAM");

/* Where tables go: [next, end) of guest physical memory mapped at mem. */
struct area {
	uint8_t *mem;
	uint64_t next, end;
};

static void put16(uint8_t *p, unsigned int off, uint16_t v)
{
	p[off] = v;
	p[off + 1] = v >> 8;
}

static void put32(uint8_t *p, unsigned int off, uint32_t v)
{
	put16(p, off, v);
	put16(p, off + 2, v >> 16);
}

static void put64(uint8_t *p, unsigned int off, uint64_t v)
{
	put32(p, off, v);
	put32(p, off + 4, v >> 32);
}

static void put_gas(uint8_t *p, unsigned int off, uint8_t space, uint8_t bits, uint8_t access,
		    uint64_t addr)
{
	p[off] = space;
	p[off + 1] = bits;
	p[off + 2] = 0;		/* bit offset */
	p[off + 3] = access;
	put64(p, off + 4, addr);
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

/* Room for len bytes at an align-aligned gpa, or NULL when past the end. */
static uint8_t *table_alloc(struct area *ar, uint64_t len, uint64_t align, uint64_t *gpa)
{
	uint64_t at = (ar->next + align - 1) & ~(align - 1);

	if (at < ar->next || at > ar->end || len > ar->end - at)
		return NULL;
	ar->next = at + len;
	*gpa = at;
	return ar->mem + at;
}

static void header(uint8_t *p, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(p, sig, 4);
	put32(p, HDR_LENGTH, len);
	p[8] = rev;
	memcpy(p + 10, KR_ACPI_OEM_ID, 6);
	memcpy(p + 16, KR_ACPI_OEM_TABLE_ID, 8);
	put32(p, 24, 1);		/* OEM revision */
	memcpy(p + 28, CREATOR_ID, 4);
	put32(p, 32, 1);		/* creator revision */
}

/* Last, once the table is complete. */
static void checksum(uint8_t *p)
{
	uint32_t len = p[4] | p[5] << 8 | p[6] << 16 | (uint32_t)p[7] << 24;

	p[HDR_CHECKSUM] = 0;
	p[HDR_CHECKSUM] = -sum(p, len);
}

/* ---- DSDT ------------------------------------------------------------------ */

/*
 * The DSDT, as ASL:
 *
 *   Name (\_S5, Package (4) { 5, 5, 0, 0 })
 *   Scope (\_SB) {
 *     Device (PCI0) { _HID PNP0A08, _CID PNP0A03, _UID 0, _SEG 0, _BBN 0,
 *                     _CRS (windows), _PRT (static GSIs) }
 *     Device (COM1) { _HID PNP0501, _CRS { IO 0x3f8/8, IRQNoFlags 4 } }
 *     Device (RTC)  { _HID PNP0B00, _CRS { IO 0x70/2, IRQNoFlags 8 } }
 *     Device (KBD)  { _HID PNP0303, _CRS { IO 0x60/1, IO 0x64/1, IRQNoFlags 1 } }
 *     Device (MRES) { _HID PNP0C02, _CRS { ports and ECAM the OS must not reuse } }
 *   }
 *
 * The ISA devices sit in \_SB, beside PCI0 rather than under it: there is
 * no LPC bridge function on bus 0 for them to hang from, and Linux's PNP
 * layer finds them by _HID wherever they are.
 *
 * No Processor objects or ACPI0007 devices: ACPI 6.4 section 8.4 asks for
 * them, but Linux brings CPUs up from the MADT (5.2.12) alone; it binds
 * only its optional processor driver (C-states from _CST, throttling,
 * hotplug) to namespace processors, and the FADT's C2/C3 latencies rule
 * those states out anyway.
 */
static void dsdt_s5(struct aml *a)
{
	size_t pkg;

	/* What Linux writes to PM1_CNT.SLP_TYP (a, b) to enter S5. */
	aml_name_decl(a, "\\_S5");
	pkg = aml_package_begin(a, 4);
	aml_int(a, KR_SLP_TYP_S5);
	aml_int(a, KR_SLP_TYP_S5);
	aml_int(a, 0);
	aml_int(a, 0);
	aml_end(a, pkg);
}

static void pci0_crs(struct aml *a, const struct kr_acpi_config *cfg)
{
	size_t res;

	aml_name_decl(a, "_CRS");
	res = aml_res_begin(a);
	aml_res_word_bus(a, 0, KR_ECAM_BUSES - 1);
	/*
	 * CONFIG_ADDRESS/DATA (and the reset port inside them) belong to the
	 * bridge itself: Linux recognises this descriptor and keeps it out of
	 * the I/O windows, which go around it.
	 */
	aml_res_io(a, KR_PORT_PCI_CONFIG, 8);
	aml_res_word_io(a, 0x0000, KR_PORT_PCI_CONFIG - 1);
	aml_res_word_io(a, KR_PORT_PCI_CONFIG + 8, 0xffff);
	aml_res_dword_mem(a, true, KR_PCI_MMIO32_BASE, KR_PCI_MMIO32_END - 1);
	if (cfg->mmio64_size)
		aml_res_qword_mem(a, true, cfg->mmio64_base,
				  cfg->mmio64_base + cfg->mmio64_size - 1);
	aml_res_end(a, res);
}

/*
 * INTA-D of every slot to GSIs 16-19, rotated by slot as a PCI-PCI bridge
 * would (the usual swizzle), so that devices of different slots spread out.
 * Static routes: Source 0 and Source Index = the GSI (6.2.13).
 */
static void pci0_prt(struct aml *a)
{
	size_t prt, e;

	aml_name_decl(a, "_PRT");
	prt = aml_package_begin(a, 32 * 4);
	for (unsigned int slot = 0; slot < 32; slot++) {
		for (unsigned int pin = 0; pin < 4; pin++) {
			e = aml_package_begin(a, 4);
			aml_int(a, (uint64_t)slot << 16 | 0xffff);	/* any function */
			aml_int(a, pin);
			aml_int(a, 0);
			aml_int(a, kr_pci_intx_gsi(slot, pin));
			aml_end(a, e);
		}
	}
	aml_end(a, prt);
}

static void dsdt_pci0(struct aml *a, const struct kr_acpi_config *cfg)
{
	size_t dev = aml_device_begin(a, "PCI0");

	aml_name_decl(a, "_HID");
	aml_eisaid(a, "PNP0A08");	/* PCI Express root bridge */
	aml_name_decl(a, "_CID");
	aml_eisaid(a, "PNP0A03");	/* PCI root bridge */
	/*
	 * No _ADR: a device has a _HID or an _ADR, not both (ACPI 6.4, 6.1),
	 * and Linux finds a root bridge by _HID, its numbers by _SEG and _BBN.
	 */
	aml_name_decl(a, "_UID");
	aml_int(a, 0);
	aml_name_decl(a, "_SEG");
	aml_int(a, 0);
	aml_name_decl(a, "_BBN");
	aml_int(a, 0);
	pci0_crs(a, cfg);
	pci0_prt(a);
	aml_end(a, dev);
}

/* Device (name) { _HID, _CRS { ports..., IRQNoFlags () {irq} } } */
static void dsdt_isa_dev(struct aml *a, const char *name, const char *hid, const uint16_t *ports,
			 const uint8_t *lens, unsigned int nports, unsigned int irq)
{
	size_t dev = aml_device_begin(a, name), res;

	aml_name_decl(a, "_HID");
	aml_eisaid(a, hid);
	aml_name_decl(a, "_CRS");
	res = aml_res_begin(a);
	for (unsigned int i = 0; i < nports; i++)
		aml_res_io(a, ports[i], lens[i]);
	aml_res_irq_noflags(a, irq);
	aml_res_end(a, res);
	aml_end(a, dev);
}

/*
 * Motherboard resources: ports of our own devices that no ACPI or PNP
 * device claims, so that Linux does not give them to PCI I/O BARs, and
 * the ECAM: a PNP0C01/PNP0C02 _CRS must cover it (PCI Firmware spec 3.x,
 * 4.1.2) for Linux to use MCFG once its interpreter runs (before, only an
 * e820 reservation counts).
 */
static void dsdt_mres(struct aml *a)
{
	size_t dev = aml_device_begin(a, "MRES"), res;

	aml_name_decl(a, "_HID");
	aml_eisaid(a, "PNP0C02");
	aml_name_decl(a, "_CRS");
	res = aml_res_begin(a);
	aml_res_io(a, KR_PORT_PM_BASE, KR_PORT_PM_LEN);
	aml_res_io(a, KR_PORT_FW_CFG, 0x0c);	/* selector, data, DMA address */
	aml_res_io(a, KR_PORT_DEBUG_EXIT, 1);
	aml_res_io(a, KR_PORT_POST, 1);
	aml_res_dword_mem(a, false, KR_ECAM_BASE, KR_ECAM_BASE + KR_ECAM_SIZE - 1);
	aml_res_end(a, res);
	aml_end(a, dev);
}

static int dsdt_aml(struct aml *a, const struct kr_acpi_config *cfg)
{
	static const uint16_t com1_port[] = { KR_PORT_COM1 }, rtc_port[] = { KR_PORT_RTC },
		kbd_ports[] = { KR_PORT_I8042_DATA, KR_PORT_I8042_CMD };
	static const uint8_t com1_len[] = { 8 }, rtc_len[] = { 2 }, kbd_lens[] = { 1, 1 };
	size_t sb;

	dsdt_s5(a);
	sb = aml_scope_begin(a, "\\_SB");
	dsdt_pci0(a, cfg);
	dsdt_isa_dev(a, "COM1", "PNP0501", com1_port, com1_len, 1, KR_GSI_COM1);
	dsdt_isa_dev(a, "RTC", "PNP0B00", rtc_port, rtc_len, 1, KR_GSI_RTC);
	if (cfg->have_i8042)
		dsdt_isa_dev(a, "KBD", "PNP0303", kbd_ports, kbd_lens, 2, KR_GSI_I8042);
	dsdt_mres(a);
	aml_end(a, sb);
	return a->err;
}

/* ---- fixed tables -------------------------------------------------------------- */

static int write_facs(struct area *ar, uint64_t *gpa)
{
	uint8_t *p = table_alloc(ar, FACS_LEN, FACS_ALIGN, gpa);

	if (!p)
		return -ENOSPC;
	/* No waking vector, no global lock owner, no S4BIOS: zeros. */
	memcpy(p, "FACS", 4);
	put32(p, 4, FACS_LEN);
	p[32] = FACS_VERSION;
	return 0;
}

static int write_dsdt(struct area *ar, const struct kr_acpi_config *cfg, uint64_t *gpa)
{
	struct aml a;
	uint8_t *p;
	int ret;

	aml_init(&a);
	ret = dsdt_aml(&a, cfg);
	if (!ret && !(p = table_alloc(ar, HEADER_LEN + a.len, TABLE_ALIGN, gpa)))
		ret = -ENOSPC;
	if (!ret) {
		/* Revision 2: integers are 64 bits (the QWord window, Ones). */
		header(p, "DSDT", HEADER_LEN + a.len, 2);
		memcpy(p + HEADER_LEN, a.buf, a.len);
		checksum(p);
	}
	aml_free(&a);
	return ret;
}

static int write_fadt(struct area *ar, const struct kr_acpi_config *cfg, uint64_t facs,
		      uint64_t dsdt, uint64_t *gpa)
{
	uint8_t *p = table_alloc(ar, FADT_LEN, TABLE_ALIGN, gpa);
	uint16_t boot = BOOT_LEGACY_DEVICES | BOOT_VGA_NOT_PRESENT;

	if (!p)
		return -ENOSPC;
	header(p, "FACP", FADT_LEN, FADT_REVISION);
	/*
	 * The FACS by its 32-bit pointer only: X_FIRMWARE_CTRL "must be zero"
	 * when FIRMWARE_CTRL is not (ACPI 6.3, 5.2.9), and with both set Linux
	 * installs the FACS twice.  The DSDT by both, equal, as ACPICA wants.
	 */
	put32(p, FADT_FIRMWARE_CTRL, facs);
	put32(p, FADT_DSDT, dsdt);
	put64(p, FADT_X_FIRMWARE_CTRL, 0);
	put64(p, FADT_X_DSDT, dsdt);
	put16(p, FADT_SCI_INT, KR_GSI_SCI);
	/* No SMM: SMI_CMD 0 means the machine is always in ACPI mode (SCI_EN set). */
	put32(p, FADT_SMI_CMD, 0);
	put32(p, FADT_PM1A_EVT_BLK, KR_PORT_PM1A_EVT);
	put32(p, FADT_PM1A_CNT_BLK, KR_PORT_PM1A_CNT);
	put32(p, FADT_PM_TMR_BLK, KR_PORT_PM_TMR);
	p[FADT_PM1_EVT_LEN] = 4;
	p[FADT_PM1_CNT_LEN] = 2;
	p[FADT_PM_TMR_LEN] = 4;
	put_gas(p, FADT_X_PM1A_EVT_BLK, GAS_SYSTEM_IO, 32, GAS_ACCESS_WORD, KR_PORT_PM1A_EVT);
	put_gas(p, FADT_X_PM1A_CNT_BLK, GAS_SYSTEM_IO, 16, GAS_ACCESS_WORD, KR_PORT_PM1A_CNT);
	put_gas(p, FADT_X_PM_TMR_BLK, GAS_SYSTEM_IO, 32, GAS_ACCESS_DWORD, KR_PORT_PM_TMR);
	put16(p, FADT_P_LVL2_LAT, P_LVL2_NONE);
	put16(p, FADT_P_LVL3_LAT, P_LVL3_NONE);
	if (cfg->have_i8042)
		boot |= BOOT_8042;
	put16(p, FADT_IAPC_BOOT_ARCH, boot);
	/*
	 * A fixed-feature power button (PWR_BUTTON clear), no sleep button,
	 * a 24-bit PM timer (TMR_VAL_EXT clear), HLT as C1, no C2/C3.
	 */
	put32(p, FADT_FLAGS, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON |
	      FADT_F_RESET_REG_SUP);
	put_gas(p, FADT_RESET_REG, GAS_SYSTEM_IO, 8, GAS_ACCESS_BYTE, KR_PORT_RESET);
	p[FADT_RESET_VALUE] = KR_RESET_VALUE;
	p[FADT_MINOR_VERSION] = FADT_MINOR;
	checksum(p);
	return 0;
}

static void madt_iso(uint8_t *p, unsigned int irq, unsigned int gsi, uint16_t flags)
{
	p[0] = MADT_ISO;
	p[1] = MADT_ISO_LEN;
	p[2] = 0;		/* bus: ISA */
	p[3] = irq;
	put32(p, 4, gsi);
	put16(p, 8, flags);
}

static int write_madt(struct area *ar, const struct kr_acpi_config *cfg, uint64_t *gpa)
{
	unsigned int n = cfg->nr_vcpus;
	uint32_t len = MADT_LEN + n * MADT_LAPIC_LEN + MADT_IOAPIC_LEN + 2 * MADT_ISO_LEN +
		       MADT_LAPIC_NMI_LEN;
	uint8_t *p = table_alloc(ar, len, TABLE_ALIGN, gpa), *e;

	if (!p)
		return -ENOSPC;
	header(p, "APIC", len, MADT_REVISION);
	put32(p, 36, KR_LAPIC_ADDR);
	put32(p, 40, MADT_PCAT_COMPAT);	/* the 8259s are there: Linux masks them */
	e = p + MADT_LEN;
	for (unsigned int i = 0; i < n; i++, e += MADT_LAPIC_LEN) {
		e[0] = MADT_LAPIC;
		e[1] = MADT_LAPIC_LEN;
		e[2] = i;	/* ACPI processor UID */
		e[3] = i;	/* APIC ID: the vCPU index */
		put32(e, 4, MADT_LAPIC_ENABLED);
	}
	e[0] = MADT_IOAPIC;
	e[1] = MADT_IOAPIC_LEN;
	e[2] = n;		/* the first ID after the CPUs' */
	e[3] = 0;
	put32(e, 4, KR_IOAPIC_ADDR);
	put32(e, 8, 0);		/* GSI base */
	e += MADT_IOAPIC_LEN;
	/* The PIT is on IOAPIC pin 2; the SCI is level, active high (not PCI-like low). */
	madt_iso(e, 0, KR_GSI_PIT, INTI_CONFORMING);
	e += MADT_ISO_LEN;
	madt_iso(e, KR_GSI_SCI, KR_GSI_SCI, INTI_LEVEL | INTI_ACTIVE_HIGH);
	e += MADT_ISO_LEN;
	/* LINT1 of every CPU is the NMI input, as on a PC. */
	e[0] = MADT_LAPIC_NMI;
	e[1] = MADT_LAPIC_NMI_LEN;
	e[2] = MADT_ALL_CPUS;
	put16(e, 3, INTI_CONFORMING);
	e[5] = 1;		/* LINT1 */
	checksum(p);
	return 0;
}

static int write_mcfg(struct area *ar, uint64_t *gpa)
{
	uint8_t *p = table_alloc(ar, MCFG_LEN, TABLE_ALIGN, gpa);

	if (!p)
		return -ENOSPC;
	header(p, "MCFG", MCFG_LEN, 1);
	put64(p, 44, KR_ECAM_BASE);
	put16(p, 52, 0);			/* segment */
	p[54] = 0;				/* start bus */
	p[55] = KR_ECAM_BUSES - 1;		/* end bus */
	checksum(p);
	return 0;
}

/* XSDT (8-byte entries) or RSDT (4-byte entries) listing tables[0..n). */
static int write_sdt(struct area *ar, const char *sig, unsigned int width,
		     const uint64_t *tables, unsigned int n, uint64_t *gpa)
{
	uint32_t len = HEADER_LEN + width * n;
	uint8_t *p = table_alloc(ar, len, TABLE_ALIGN, gpa);

	if (!p)
		return -ENOSPC;
	header(p, sig, len, 1);
	for (unsigned int i = 0; i < n; i++) {
		if (width == 8)
			put64(p, HEADER_LEN + 8 * i, tables[i]);
		else
			put32(p, HEADER_LEN + 4 * i, tables[i]);
	}
	checksum(p);
	return 0;
}

static void write_rsdp(uint8_t *mem, uint64_t rsdt, uint64_t xsdt)
{
	uint8_t *p = mem + KR_RSDP_ADDR;

	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, KR_ACPI_OEM_ID, 6);
	p[15] = 2;		/* revision: ACPI 2.0+, with the XSDT */
	put32(p, 16, rsdt);
	put32(p, 20, RSDP_LEN);
	put64(p, 24, xsdt);
	p[8] = -sum(p, RSDP_V1_LEN);
	p[32] = -sum(p, RSDP_LEN);
}

static int check_config(const struct kr_acpi_config *cfg)
{
	uint64_t ram_end;

	if (!cfg || cfg->nr_vcpus < 1 || cfg->nr_vcpus > KR_ACPI_MAX_VCPUS)
		return -EINVAL;
	if (cfg->ram_below_4g > KR_PCI_HOLE)
		return -EINVAL;
	ram_end = KR_HIGHMEM_BASE + cfg->ram_above_4g;
	if (ram_end < KR_HIGHMEM_BASE)
		return -EINVAL;
	if (cfg->mmio64_size && (cfg->mmio64_base < ram_end ||
				 cfg->mmio64_base + cfg->mmio64_size - 1 < cfg->mmio64_base))
		return -EINVAL;
	return 0;
}

static int write_tables(struct area *ar, const struct kr_acpi_config *cfg, uint64_t *rsdt,
			uint64_t *xsdt)
{
	uint64_t facs, dsdt, tables[3];
	int ret;

	/* The FACS first: the start is 64-byte aligned, so no room is lost. */
	ret = write_facs(ar, &facs);
	if (!ret)
		ret = write_dsdt(ar, cfg, &dsdt);
	if (!ret)
		ret = write_fadt(ar, cfg, facs, dsdt, &tables[0]);
	if (!ret)
		ret = write_madt(ar, cfg, &tables[1]);
	if (!ret)
		ret = write_mcfg(ar, &tables[2]);
	if (!ret)
		ret = write_sdt(ar, "XSDT", 8, tables, 3, xsdt);
	if (!ret)
		ret = write_sdt(ar, "RSDT", 4, tables, 3, rsdt);
	return ret;
}

int kr_acpi_build_below(void *mem, uint64_t mem_size, const struct kr_acpi_config *cfg,
			uint64_t end)
{
	struct area ar = { .mem = mem, .next = KR_ACPI_START, .end = end };
	uint64_t rsdt, xsdt;
	int ret;

	if (!mem || end > KR_BIOS_END)
		return -EINVAL;
	ret = check_config(cfg);
	if (ret)
		return ret;
	if (mem_size < KR_BIOS_END)
		return -ENOSPC;
	memset(ar.mem + KR_BIOS_START, 0, KR_BIOS_END - KR_BIOS_START);
	ret = write_tables(&ar, cfg, &rsdt, &xsdt);
	if (ret) {
		memset(ar.mem + KR_BIOS_START, 0, KR_BIOS_END - KR_BIOS_START);
		return ret;
	}
	/* Last: a guest scanning for it finds it only when all the rest is there. */
	write_rsdp(mem, rsdt, xsdt);
	return 0;
}

int kr_acpi_build(void *mem, uint64_t mem_size, const struct kr_acpi_config *cfg)
{
	return kr_acpi_build_below(mem, mem_size, cfg, KR_BIOS_END);
}
