// SPDX-License-Identifier: GPL-2.0
/*
 * PCI bus 0 (pci.c): the host bridge, both config mechanisms, the reset
 * register, a device's header, BAR sizing and decoding through the windows,
 * INTx, capabilities, machine reset, and hostile config accesses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "vdrv.h"

/* A test device recording what reaches it. */
struct fdev {
	struct kr_pci_dev *dev;
	int calls;
	unsigned int bar, size;
	uint64_t off, value;
	bool write;
	int moved[KR_PCI_BARS];
	int resets;
	int cfg_calls;
	unsigned int cfg_reg;
};

static void f_bar_io(void *opaque, unsigned int bar, uint64_t off, uint8_t *data,
		     unsigned int size, bool write)
{
	struct fdev *f = opaque;

	f->calls++;
	f->bar = bar;
	f->off = off;
	f->size = size;
	f->write = write;
	if (write)
		f->value = kr_get_le(data, size);
	else
		kr_put_le(data, size, 0xa0 + bar);
}

static void f_cfg_io(void *opaque, unsigned int reg, uint8_t *data, unsigned int size,
		     bool write)
{
	struct fdev *f = opaque;

	f->cfg_calls++;
	f->cfg_reg = reg;
	if (!write)
		kr_put_le(data, size, 0x5a5a5a5a);
}

static void f_moved(void *opaque, unsigned int bar)
{
	struct fdev *f = opaque;

	f->moved[bar]++;
}

static void f_reset(void *opaque)
{
	struct fdev *f = opaque;

	f->resets++;
}

static const struct kr_pci_dev_ops f_ops = {
	.bar_io = f_bar_io,
	.cfg_io = f_cfg_io,
	.bar_moved = f_moved,
	.reset = f_reset,
};

#define F_VENDOR	0x1234
#define F_DEVICE	0x5678

static struct kr_pci_dev_config f_config(struct fdev *f)
{
	struct kr_pci_dev_config c = {
		.name = "fdev",
		.vendor_id = F_VENDOR,
		.device_id = F_DEVICE,
		.subsys_vendor_id = 0xabcd,
		.subsys_id = 0xef01,
		.revision = 3,
		.class_code = 0x020000,
		.intx = true,
		.msix_vectors = 4,
		.msix_bar = 0,
		.msix_table = 0x800,
		.msix_pba = 0xc00,
		.ops = &f_ops,
		.opaque = f,
	};

	c.bar[0] = (struct kr_pci_bar_info){ KR_PCI_BAR_MEM32, 0x1000 };
	c.bar[1] = (struct kr_pci_bar_info){ KR_PCI_BAR_IO, 0x20 };
	c.bar[2] = (struct kr_pci_bar_info){ KR_PCI_BAR_MEM64, 0x10000, true };
	c.bar[4] = (struct kr_pci_bar_info){ KR_PCI_BAR_MEM32, 0x10 };
	return c;
}

static void add_fdev(struct tmach *m, int slot, struct fdev *f)
{
	struct kr_pci_dev_config c = f_config(f);

	memset(f, 0, sizeof(*f));
	if (kr_pci_add(m->pci, slot, &c, &f->dev))
		f->dev = NULL;
}

/* Mechanism #1: select slot/reg, then access CONFIG_DATA + (reg & 3). */
static uint32_t cf8_read(struct tmach *m, unsigned int bus, unsigned int slot, unsigned int fn,
			 unsigned int reg, unsigned int size)
{
	tm_write(&m->pio, KR_PORT_PCI_CONFIG, 4,
		 0x80000000u | bus << 16 | slot << 11 | fn << 8 | (reg & 0xfc));
	return tm_read(&m->pio, 0xcfc + (reg & 3), size);
}

static void cf8_write(struct tmach *m, unsigned int slot, unsigned int reg, unsigned int size,
		      uint32_t v)
{
	tm_write(&m->pio, KR_PORT_PCI_CONFIG, 4, 0x80000000u | slot << 11 | (reg & 0xfc));
	tm_write(&m->pio, 0xcfc + (reg & 3), size, v);
}

KR_TEST(pci_host_bridge)
{
	struct tmach m;
	uint32_t id;

	tm_init(&m);
	id = cf8_read(&m, 0, 0, 0, 0, 4);
	CHECK_EQ(id, KR_PCI_HB_DEVICE << 16 | KR_PCI_HB_VENDOR);
	CHECK_EQ(tm_cfg_read(&m, 0, 0, 4), id);
	CHECK_EQ(cf8_read(&m, 0, 0, 0, KR_PCI_REVISION, 4) >> 8, KR_PCI_HB_CLASS);
	CHECK_EQ(tm_cfg_read(&m, 0, KR_PCI_CLASS_PROG, 2), KR_PCI_HB_CLASS & 0xffff);
	CHECK_EQ(tm_cfg_read(&m, 0, KR_PCI_HEADER_TYPE, 1), 0);
	/* Every byte and word of the dword, through both mechanisms. */
	for (unsigned int i = 0; i < 4; i++) {
		CHECK_EQ(cf8_read(&m, 0, 0, 0, i, 1), (id >> (8 * i)) & 0xff);
		CHECK_EQ(tm_cfg_read(&m, 0, i, 1), (id >> (8 * i)) & 0xff);
	}
	CHECK_EQ(cf8_read(&m, 0, 0, 0, 2, 2), KR_PCI_HB_DEVICE);
	CHECK_EQ(tm_cfg_read(&m, 0, 2, 2), KR_PCI_HB_DEVICE);
	/* IDs are read-only. */
	cf8_write(&m, 0, 0, 4, 0);
	tm_cfg_write(&m, 0, 0, 2, 0);
	CHECK_EQ(tm_cfg_read(&m, 0, 0, 4), id);
	tm_fini(&m);
}

KR_TEST(pci_config_address)
{
	struct tmach m;

	tm_init(&m);
	tm_write(&m.pio, 0xcf8, 4, 0xffffffff);
	CHECK_EQ(tm_read(&m.pio, 0xcf8, 4), 0x80fffffc);	/* reserved bits read 0 */
	/* Linux's type 1 probe: a byte to 0xcfb must not disturb it. */
	tm_write(&m.pio, 0xcf8, 4, 0x80000000);
	tm_write(&m.pio, 0xcfb, 1, 0x01);
	tm_write(&m.pio, 0xcfa, 2, 0x1234);
	CHECK_EQ(tm_read(&m.pio, 0xcf8, 4), 0x80000000);
	CHECK_EQ(tm_read(&m.pio, 0xcf8, 2), 0xffff);	/* not a register as a word */
	/* Enable bit clear: CONFIG_DATA answers nothing. */
	tm_write(&m.pio, 0xcf8, 4, 0);
	CHECK_EQ(tm_read(&m.pio, 0xcfc, 4), 0xffffffffu);
	/* A dword at 0xcfe would run past 0xcff. */
	tm_write(&m.pio, 0xcf8, 4, 0x80000000);
	CHECK_EQ(tm_read(&m.pio, 0xcfe, 4), 0xffffffffu);
	CHECK_EQ(tm_read(&m.pio, 0xcfe, 2), KR_PCI_HB_DEVICE);
	/* Other buses and functions: nothing there. */
	CHECK_EQ(cf8_read(&m, 1, 0, 0, 0, 4), 0xffffffffu);
	CHECK_EQ(cf8_read(&m, 0, 0, 1, 0, 4), 0xffffffffu);
	tm_fini(&m);
}

KR_TEST(pci_reset_register)
{
	struct tmach m;

	tm_init(&m);
	tm_write(&m.pio, 0xcf8, 4, 0x80001000);
	tm_write(&m.pio, KR_PORT_RESET, 1, 0x02);	/* Linux: SYS_RST first */
	CHECK_EQ(m.resets, 0);
	CHECK_EQ(tm_read(&m.pio, KR_PORT_RESET, 1), 0x02);
	tm_write(&m.pio, KR_PORT_RESET, 1, 0x04);	/* soft reset: not ours */
	CHECK_EQ(m.resets, 0);
	tm_write(&m.pio, KR_PORT_RESET, 1, KR_RESET_VALUE);
	CHECK_EQ(m.resets, 1);
	CHECK_EQ(tm_read(&m.pio, KR_PORT_RESET, 1) & 0x04, 0);
	CHECK_EQ(tm_read(&m.pio, 0xcf8, 4), 0x80001000);	/* untouched */
	tm_write(&m.pio, KR_PORT_RESET, 2, 0xffff);	/* not a byte: not the register */
	CHECK_EQ(m.resets, 1);
	CHECK_EQ(tm_read(&m.pio, 0xcf8, 4), 0x80001000);
	tm_fini(&m);
}

KR_TEST(pci_absent_and_extended)
{
	struct tmach m;
	struct fdev f;

	tm_init(&m);
	add_fdev(&m, 3, &f);
	CHECK(f.dev != NULL);
	CHECK_EQ(tm_cfg_read(&m, 5, 0, 4), 0xffffffffu);
	CHECK_EQ(tm_cfg_read(&m, 5, 0x40, 2), 0xffff);
	CHECK_EQ(cf8_read(&m, 0, 5, 0, 0, 4), 0xffffffffu);
	CHECK_EQ(tm_read(&m.mmio, KR_ECAM_BASE + (3 << 15) + (1 << 12), 4), 0xffffffffu);
	/* Extended space of a present function: 0 (no extended capability). */
	CHECK_EQ(tm_cfg_read(&m, 3, 0x100, 4), 0);
	CHECK_EQ(tm_cfg_read(&m, 3, 0xffc, 4), 0);
	tm_cfg_write(&m, 3, 0x100, 4, 0xffffffff);
	CHECK_EQ(tm_cfg_read(&m, 3, 0x100, 4), 0);
	/* Crossing the end of the function's 4 KiB. */
	CHECK_EQ(tm_cfg_read(&m, 3, 0xffe, 4), 0xffffffffu);
	CHECK_EQ(tm_cfg_read(&m, 3, 0, 4), F_DEVICE << 16 | F_VENDOR);
	tm_fini(&m);
}

KR_TEST(pci_header)
{
	struct tmach m;
	struct fdev f;

	tm_init(&m);
	add_fdev(&m, 6, &f);
	CHECK_EQ(kr_pci_dev_slot(f.dev), 6);
	CHECK_EQ(tm_cfg_read(&m, 6, KR_PCI_VENDOR_ID, 2), F_VENDOR);
	CHECK_EQ(tm_cfg_read(&m, 6, KR_PCI_DEVICE_ID, 2), F_DEVICE);
	CHECK_EQ(tm_cfg_read(&m, 6, KR_PCI_REVISION, 1), 3);
	CHECK_EQ(tm_cfg_read(&m, 6, KR_PCI_REVISION, 4) >> 8, 0x020000);
	CHECK_EQ(tm_cfg_read(&m, 6, KR_PCI_SUBSYS_VENDOR, 4), 0xef01abcd);
	CHECK_EQ(tm_cfg_read(&m, 6, KR_PCI_INT_PIN, 1), 1);
	CHECK_EQ(tm_cfg_read(&m, 6, KR_PCI_INT_LINE, 1), kr_pci_intx_gsi(6, 0));
	CHECK_EQ(kr_pci_intx_gsi(6, 0), KR_GSI_PCI_INTA + 2);
	CHECK_EQ(tm_cfg_read(&m, 6, KR_PCI_COMMAND, 2), 0);
	/* Read-only fields stay, writable ones take exactly their bits. */
	tm_cfg_write(&m, 6, 0, 4, 0);
	tm_cfg_write(&m, 6, KR_PCI_REVISION, 4, 0);
	tm_cfg_write(&m, 6, KR_PCI_STATUS, 2, 0xffff);
	tm_cfg_write(&m, 6, KR_PCI_INT_PIN, 1, 4);
	tm_cfg_write(&m, 6, KR_PCI_HEADER_TYPE, 1, 0x80);
	tm_cfg_write(&m, 6, KR_PCI_ROM, 4, 0xfffff800);
	CHECK_EQ(tm_cfg_read(&m, 6, 0, 4), F_DEVICE << 16 | F_VENDOR);
	CHECK_EQ(tm_cfg_read(&m, 6, KR_PCI_REVISION, 4), 0x02000003);
	CHECK_EQ(tm_cfg_read(&m, 6, KR_PCI_STATUS, 2), KR_PCI_STS_CAPS);
	CHECK_EQ(tm_cfg_read(&m, 6, KR_PCI_INT_PIN, 1), 1);
	CHECK_EQ(tm_cfg_read(&m, 6, KR_PCI_HEADER_TYPE, 1), 0);
	CHECK_EQ(tm_cfg_read(&m, 6, KR_PCI_ROM, 4), 0);	/* no ROM */
	tm_cfg_write(&m, 6, KR_PCI_COMMAND, 2, 0xffff);
	CHECK_EQ(tm_cfg_read(&m, 6, KR_PCI_COMMAND, 2), 0x0547);
	tm_cfg_write(&m, 6, KR_PCI_INT_LINE, 1, 11);
	CHECK_EQ(tm_cfg_read(&m, 6, KR_PCI_INT_LINE, 1), 11);
	tm_cfg_write(&m, 6, 0x0c, 1, 0x10);		/* cache line size */
	CHECK_EQ(tm_cfg_read(&m, 6, 0x0c, 1), 0x10);
	tm_fini(&m);
}

KR_TEST(pci_bar_sizing)
{
	static const struct { unsigned int reg; uint32_t mask; } want[] = {
		{ 0x10, 0xfffff000 },		/* 4 KiB memory */
		{ 0x14, 0xffffffe1 },		/* 32 ports */
		{ 0x18, 0xffff000c },		/* 64 KiB 64-bit prefetchable, low */
		{ 0x1c, 0xffffffff },		/* high */
		{ 0x20, 0xfffffff0 },		/* 16 bytes */
		{ 0x24, 0 },			/* unused */
	};
	struct tmach m;
	struct fdev f;

	tm_init(&m);
	add_fdev(&m, 1, &f);
	for (unsigned int i = 0; i < ARRAY_SIZE(want); i++) {
		uint32_t orig = tm_cfg_read(&m, 1, want[i].reg, 4);

		tm_cfg_write(&m, 1, want[i].reg, 4, 0xffffffff);
		CHECK_EQ(tm_cfg_read(&m, 1, want[i].reg, 4), want[i].mask);
		tm_cfg_write(&m, 1, want[i].reg, 4, orig);
		CHECK_EQ(tm_cfg_read(&m, 1, want[i].reg, 4), orig);
	}
	/* Byte-wise sizing works the same. */
	for (unsigned int b = 0; b < 4; b++)
		tm_cfg_write(&m, 1, 0x10 + b, 1, 0xff);
	CHECK_EQ(tm_cfg_read(&m, 1, 0x10, 4), 0xfffff000);
	tm_fini(&m);
}

KR_TEST(pci_bar_boot_addresses)
{
	struct tmach m;
	struct fdev f, g;
	uint64_t a[2][3];

	tm_init(&m);
	add_fdev(&m, -1, &f);
	add_fdev(&m, -1, &g);
	CHECK_EQ(kr_pci_dev_slot(f.dev), 1);
	CHECK_EQ(kr_pci_dev_slot(g.dev), 2);
	for (unsigned int s = 0; s < 2; s++) {
		a[s][0] = tm_cfg_read(&m, s + 1, 0x10, 4) & ~0xfull;
		a[s][1] = tm_cfg_read(&m, s + 1, 0x14, 4) & ~3ull;
		a[s][2] = (tm_cfg_read(&m, s + 1, 0x18, 4) & ~0xfull) |
			  (uint64_t)tm_cfg_read(&m, s + 1, 0x1c, 4) << 32;
		CHECK(a[s][0] >= KR_PCI_MMIO32_BASE && a[s][0] + 0x1000 <= KR_PCI_MMIO32_END);
		CHECK_EQ(a[s][0] % 0x1000, 0);
		CHECK(a[s][1] >= KR_PCI_IO_BASE && a[s][1] + 0x20 <= KR_PCI_IO_END);
		CHECK_EQ(a[s][1] % 0x20, 0);
		CHECK(a[s][2] >= KR_PCI_MMIO32_BASE && a[s][2] + 0x10000 <= KR_PCI_MMIO32_END);
		CHECK_EQ(a[s][2] % 0x10000, 0);
	}
	CHECK(a[0][0] != a[1][0] && a[0][1] != a[1][1] && a[0][2] != a[1][2]);
	CHECK(a[0][0] + 0x1000 <= a[0][2] || a[0][2] + 0x10000 <= a[0][0]);
	tm_fini(&m);
}

KR_TEST(pci_bar_decoding)
{
	struct tmach m;
	struct fdev f;
	uint64_t bar0, io, gpa;

	tm_init(&m);
	add_fdev(&m, 2, &f);
	bar0 = tm_cfg_read(&m, 2, 0x10, 4) & ~0xfull;
	io = tm_cfg_read(&m, 2, 0x14, 4) & ~3ull;
	/* Command register 0: nothing decodes. */
	CHECK_EQ(tm_read(&m.mmio, bar0 + 0x10, 4), 0xffffffffu);
	CHECK_EQ(tm_read(&m.pio, io, 1), 0xff);
	CHECK_EQ(f.calls, 0);
	CHECK(!kr_pci_bar_addr(f.dev, 0, &gpa));
	tm_cfg_write(&m, 2, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY);
	CHECK_EQ(f.moved[0], 1);
	CHECK_EQ(f.moved[1], 0);
	CHECK(kr_pci_bar_addr(f.dev, 0, &gpa));
	CHECK_EQ(gpa, bar0);
	CHECK_EQ(tm_read(&m.mmio, bar0 + 0x10, 4), 0xa0);
	CHECK_EQ(f.calls, 1);
	CHECK_EQ(f.off, 0x10);
	CHECK_EQ(f.size, 4);
	tm_write(&m.mmio, bar0 + 0x7fe, 2, 0xbeef);
	CHECK(f.write && f.off == 0x7fe && f.value == 0xbeef && f.bar == 0);
	CHECK_EQ(tm_read(&m.pio, io, 1), 0xff);		/* I/O still off */
	tm_cfg_write(&m, 2, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY | KR_PCI_CMD_IO);
	CHECK_EQ(tm_read(&m.pio, io + 0x1f, 1), 0xa1);
	CHECK_EQ(f.off, 0x1f);
	/* Straddling a BAR's end: dropped. */
	f.calls = 0;
	CHECK_EQ(tm_read(&m.pio, io + 0x1e, 4), 0xffffffffu);
	CHECK_EQ(tm_read(&m.mmio, bar0 + 0xffc, 8), ~0ull);
	CHECK_EQ(f.calls, 0);
	/* Move BAR 0: the old place is dead, the new one answers. */
	tm_cfg_write(&m, 2, 0x10, 4, 0xd0000000);
	CHECK_EQ(f.moved[0], 2);
	CHECK_EQ(tm_read(&m.mmio, bar0 + 0x10, 4), 0xffffffffu);
	CHECK_EQ(tm_read(&m.mmio, 0xd0000010, 4), 0xa0);
	CHECK(kr_pci_bar_addr(f.dev, 0, &gpa) && gpa == 0xd0000000);
	/* The 64-bit BAR: above 4 GiB it is outside the only window. */
	tm_cfg_write(&m, 2, 0x18, 4, 0xd1000000);
	CHECK_EQ(tm_read(&m.mmio, 0xd1000004, 1), 0xa2);
	tm_cfg_write(&m, 2, 0x1c, 4, 1);
	CHECK_EQ(tm_read(&m.mmio, 0xd1000004, 1), 0xff);
	CHECK(!kr_pci_bar_addr(f.dev, 2, &gpa));
	tm_cfg_write(&m, 2, 0x1c, 4, 0);
	CHECK(kr_pci_bar_addr(f.dev, 2, &gpa) && gpa == 0xd1000000);
	/* Memory off again. */
	tm_cfg_write(&m, 2, KR_PCI_COMMAND, 2, KR_PCI_CMD_IO);
	CHECK_EQ(tm_read(&m.mmio, 0xd0000010, 4), 0xffffffffu);
	CHECK(!kr_pci_bar_addr(f.dev, 0, &gpa));
	tm_fini(&m);
}

KR_TEST(pci_bar_hostile)
{
	struct tmach m;
	struct fdev f, g;
	uint8_t *ram;

	tm_init(&m);
	add_fdev(&m, 1, &f);
	add_fdev(&m, 2, &g);
	tm_cfg_write(&m, 1, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY | KR_PCI_CMD_IO);
	tm_cfg_write(&m, 2, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY | KR_PCI_CMD_IO);
	/* BAR at 0: not decoded; RAM is not the device's. */
	tm_cfg_write(&m, 1, 0x10, 4, 0);
	ram = tm_ram(&m, 0, 16);
	CHECK_EQ(ram[0], 0);
	CHECK_EQ(tm_read(&m.mmio, 0, 4), 0xffffffffu);	/* nothing on the bus there */
	/* Overlapping BARs of two devices: the lower slot answers, no crash. */
	tm_cfg_write(&m, 1, 0x10, 4, 0xd0000000);
	tm_cfg_write(&m, 2, 0x10, 4, 0xd0000000);
	f.calls = g.calls = 0;
	CHECK_EQ(tm_read(&m.mmio, 0xd0000100, 4), 0xa0);
	CHECK_EQ(f.calls, 1);
	CHECK_EQ(g.calls, 0);
	/* The last BAR of the window works; one over the ECAM decodes nothing. */
	tm_cfg_write(&m, 1, 0x18, 4, (uint32_t)(KR_PCI_MMIO32_END - 0x10000) | 0xc);
	CHECK_EQ(tm_read(&m.mmio, KR_PCI_MMIO32_END - 0x10000, 4), 0xa2);
	tm_cfg_write(&m, 2, 0x20, 4, (uint32_t)(KR_PCI_MMIO32_END - 8));	/* 16-byte BAR */
	CHECK_EQ(tm_cfg_read(&m, 2, 0x20, 4), (uint32_t)(KR_PCI_MMIO32_END - 16));
	tm_cfg_write(&m, 1, 0x18, 4, (uint32_t)KR_ECAM_BASE);
	CHECK_EQ(tm_read(&m.mmio, KR_PCI_MMIO32_END - 0x10000, 4), 0xffffffffu);
	CHECK_EQ(tm_cfg_read(&m, 0, 0, 2), KR_PCI_HB_VENDOR);
	/* I/O BAR dragged over the config ports: outside the I/O window. */
	tm_cfg_write(&m, 1, 0x14, 4, 0xcf8);
	CHECK_EQ(tm_read(&m.pio, 0xcf8, 4), 0);
	tm_fini(&m);
}

KR_TEST(pci_intx)
{
	struct tmach m;
	struct fdev a, b;
	unsigned int gsi;

	tm_init(&m);
	add_fdev(&m, 1, &a);
	add_fdev(&m, 5, &b);		/* same line: (1 + 0) % 4 == (5 + 0) % 4 */
	gsi = kr_pci_intx_gsi(1, 0);
	CHECK_EQ(gsi, kr_pci_intx_gsi(5, 0));
	CHECK_EQ(gsi, 17);
	kr_pci_set_irq(a.dev, 1);
	CHECK_EQ(m.level[gsi], 1);
	CHECK(tm_cfg_read(&m, 1, KR_PCI_STATUS, 2) & KR_PCI_STS_INTX);
	CHECK(!(tm_cfg_read(&m, 5, KR_PCI_STATUS, 2) & KR_PCI_STS_INTX));
	kr_pci_set_irq(b.dev, 1);
	kr_pci_set_irq(a.dev, 0);
	CHECK_EQ(m.level[gsi], 1);		/* b still holds it */
	CHECK(!(tm_cfg_read(&m, 1, KR_PCI_STATUS, 2) & KR_PCI_STS_INTX));
	kr_pci_set_irq(b.dev, 0);
	CHECK_EQ(m.level[gsi], 0);
	/* INTx disable masks the line, not the status bit. */
	kr_pci_set_irq(a.dev, 1);
	tm_cfg_write(&m, 1, KR_PCI_COMMAND, 2, KR_PCI_CMD_INTX_OFF);
	CHECK_EQ(m.level[gsi], 0);
	CHECK(tm_cfg_read(&m, 1, KR_PCI_STATUS, 2) & KR_PCI_STS_INTX);
	kr_pci_set_irq(a.dev, 1);
	CHECK_EQ(m.level[gsi], 0);
	tm_cfg_write(&m, 1, KR_PCI_COMMAND, 2, 0);
	CHECK_EQ(m.level[gsi], 1);
	/* Repeating a level does not re-send it. */
	m.irq_calls = 0;
	kr_pci_set_irq(a.dev, 1);
	CHECK_EQ(m.irq_calls, 0);
	kr_pci_set_irq(a.dev, 0);
	CHECK_EQ(m.level[gsi], 0);
	CHECK_EQ(m.level[kr_pci_intx_gsi(2, 0)], 0);
	tm_fini(&m);
}

KR_TEST(pci_capabilities)
{
	static const uint8_t cap[8] = { 0x09, 0xee, 8, 1, 2, 3, 4, 5 };
	static const uint8_t wm[8] = { 0xff, 0xff, 0, 0, 0xff, 0x0f, 0, 0 };
	struct tmach m;
	struct fdev f;
	int pos;

	tm_init(&m);
	add_fdev(&m, 4, &f);
	CHECK(tm_cfg_read(&m, 4, KR_PCI_STATUS, 2) & KR_PCI_STS_CAPS);
	CHECK_EQ(tm_find_cap(&m, 4, KR_PCI_CAP_ID_MSIX, 0), KR_PCI_CAP_START);
	pos = kr_pci_add_cap(f.dev, cap, wm, sizeof(cap));
	CHECK_EQ(pos, KR_PCI_CAP_START + 12);
	CHECK_EQ(tm_find_cap(&m, 4, 0x09, 0), (unsigned int)pos);
	CHECK_EQ(tm_cfg_read(&m, 4, KR_PCI_CAP_START + 1, 1), (unsigned int)pos);
	CHECK_EQ(tm_cfg_read(&m, 4, pos + 1, 1), 0);	/* end of the list */
	/* ID and next stay read-only whatever the mask said; the rest obeys it. */
	tm_cfg_write(&m, 4, pos, 4, 0xffffffff);
	tm_cfg_write(&m, 4, pos + 4, 4, 0xffffffff);
	CHECK_EQ(tm_cfg_read(&m, 4, pos, 4), 0x01080009);
	CHECK_EQ(tm_cfg_read(&m, 4, pos + 4, 4), 0x05040fff);
	/* A claimed range goes to the device. */
	CHECK_EQ(kr_pci_claim_cfg(f.dev, pos + 4, 4), 0);
	CHECK_EQ(tm_cfg_read(&m, 4, pos + 4, 4), 0x5a5a5a5a);
	tm_cfg_write(&m, 4, pos + 6, 2, 1);
	CHECK_EQ(f.cfg_calls, 2);
	CHECK_EQ(f.cfg_reg, (unsigned int)pos + 6);
	CHECK_EQ(tm_cfg_read(&m, 4, pos + 6, 4), 0x0504);	/* half outside: plain bytes */
	CHECK_EQ(f.cfg_calls, 2);
	CHECK_EQ(kr_pci_claim_cfg(f.dev, 0x10, 4), -EINVAL);
	CHECK_EQ(kr_pci_claim_cfg(f.dev, 0xfe, 4), -EINVAL);
	/* No room left: -ENOSPC, the list intact. */
	{
		uint8_t big[200] = { 0x09 };

		CHECK_EQ(kr_pci_add_cap(f.dev, big, NULL, sizeof(big)), -ENOSPC);
		CHECK_EQ(tm_cfg_read(&m, 4, pos + 1, 1), 0);
	}
	tm_fini(&m);
}

KR_TEST(pci_add_errors)
{
	struct tmach m;
	struct fdev f;
	struct kr_pci_dev_config c;
	struct kr_pci_dev *d;

	tm_init(&m);
	c = f_config(&f);
	CHECK_EQ(kr_pci_add(m.pci, 0, &c, &d), -EINVAL);	/* the host bridge's */
	CHECK_EQ(kr_pci_add(m.pci, 32, &c, &d), -EINVAL);
	c.bar[5] = (struct kr_pci_bar_info){ KR_PCI_BAR_MEM64, 0x1000 };
	CHECK_EQ(kr_pci_add(m.pci, 1, &c, &d), -EINVAL);
	c = f_config(&f);
	c.bar[3] = (struct kr_pci_bar_info){ KR_PCI_BAR_MEM32, 0x1000 };	/* 2's upper half */
	CHECK_EQ(kr_pci_add(m.pci, 1, &c, &d), -EINVAL);
	c = f_config(&f);
	c.bar[1].size = 0x200;
	CHECK_EQ(kr_pci_add(m.pci, 1, &c, &d), -EINVAL);
	c = f_config(&f);
	c.bar[0].size = 0x1800;
	CHECK_EQ(kr_pci_add(m.pci, 1, &c, &d), -EINVAL);
	c = f_config(&f);
	c.msix_table = 0xff8;		/* runs out of BAR 0 */
	CHECK_EQ(kr_pci_add(m.pci, 1, &c, &d), -EINVAL);
	c = f_config(&f);
	c.msix_pba = 0x808;		/* inside the table */
	CHECK_EQ(kr_pci_add(m.pci, 1, &c, &d), -EINVAL);
	c = f_config(&f);
	c.msix_bar = 1;			/* an I/O BAR */
	CHECK_EQ(kr_pci_add(m.pci, 1, &c, &d), -EINVAL);
	c = f_config(&f);
	c.bar[0].size = KR_PCI_MMIO32_END - KR_PCI_MMIO32_BASE;	/* fits alone... */
	CHECK_EQ(kr_pci_add(m.pci, 1, &c, &d), -ENOSPC);	/* ...not with its BAR 2 */
	c = f_config(&f);
	CHECK_EQ(kr_pci_add(m.pci, 1, &c, &d), 0);		/* the failures left room */
	CHECK_EQ(tm_cfg_read(&m, 1, 0x10, 4), (uint32_t)KR_PCI_MMIO32_BASE);
	CHECK_EQ(kr_pci_add(m.pci, 1, &c, &d), -EBUSY);
	for (int s = 2; s < KR_PCI_SLOTS; s++)
		CHECK_EQ(kr_pci_add(m.pci, -1, &c, &d), 0);
	CHECK_EQ(kr_pci_add(m.pci, -1, &c, &d), -EBUSY);
	tm_fini(&m);
}

KR_TEST(pci_attach_ranges)
{
	struct kr_bus pio, mmio;
	struct kr_pci_params p = { 0 };
	struct kr_pci *pci = kr_pci_create(&p);

	kr_bus_init(&pio, "pio");
	kr_bus_init(&mmio, "mmio");
	CHECK_EQ(kr_pci_attach(pci, &pio, &mmio), 0);
	CHECK(kr_bus_find(&pio, 0xcf8) && kr_bus_find(&pio, 0xcff));
	CHECK(!kr_bus_find(&pio, 0xd00 - 0x101));
	CHECK(kr_bus_find(&pio, KR_PCI_IO_BASE) && kr_bus_find(&pio, KR_PCI_IO_END - 1));
	CHECK(kr_bus_find(&mmio, KR_ECAM_BASE));
	CHECK(kr_bus_find(&mmio, KR_ECAM_BASE + KR_ECAM_SIZE - 1));
	CHECK(!kr_bus_find(&mmio, KR_ECAM_BASE + KR_ECAM_SIZE));
	CHECK(kr_bus_find(&mmio, KR_PCI_MMIO32_BASE) && kr_bus_find(&mmio, KR_PCI_MMIO32_END - 1));
	CHECK_EQ(kr_pci_attach(pci, &pio, &mmio), -EEXIST);
	kr_bus_free(&pio);
	kr_bus_free(&mmio);
	kr_pci_destroy(pci);
}

KR_TEST(pci_machine_reset)
{
	struct tmach m;
	struct fdev f;
	uint32_t bar0;

	tm_init(&m);
	add_fdev(&m, 1, &f);
	bar0 = tm_cfg_read(&m, 1, 0x10, 4);
	tm_cfg_write(&m, 1, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY | KR_PCI_CMD_MASTER);
	tm_cfg_write(&m, 1, 0x10, 4, 0xd0000000);
	tm_cfg_write(&m, 1, KR_PCI_INT_LINE, 1, 5);
	tm_cfg_write(&m, 1, KR_PCI_CAP_START + 2, 2, KR_MSIX_CTL_ENABLE);
	tm_write(&m.pio, 0xcf8, 4, 0x80000800);
	CHECK(kr_pci_bus_master(f.dev));
	CHECK(kr_msix_enabled(kr_pci_msix(f.dev)));
	f.moved[0] = 0;
	kr_pci_reset(m.pci);
	CHECK_EQ(f.resets, 1);
	CHECK_EQ(f.moved[0], 1);		/* decoded, now not */
	CHECK_EQ(tm_cfg_read(&m, 1, KR_PCI_COMMAND, 2), 0);
	CHECK_EQ(tm_cfg_read(&m, 1, 0x10, 4), bar0);
	CHECK_EQ(tm_cfg_read(&m, 1, KR_PCI_INT_LINE, 1), kr_pci_intx_gsi(1, 0));
	CHECK(!kr_pci_bus_master(f.dev));
	CHECK(!kr_msix_enabled(kr_pci_msix(f.dev)));
	CHECK_EQ(tm_read(&m.pio, 0xcf8, 4), 0);
	CHECK_EQ(tm_cfg_read(&m, 1, 0, 4), F_DEVICE << 16 | F_VENDOR);
	tm_fini(&m);
}

/* xorshift: garbage that is the same on every run */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

KR_TEST(pci_config_fuzz)
{
	static const unsigned int sizes[] = { 1, 2, 3, 4, 8 };
	struct tmach m;
	struct fdev f;
	uint32_t seed = 12345;

	tm_init(&m);
	add_fdev(&m, 1, &f);
	/* Every size at every offset of a present and an absent function, by ECAM. */
	for (unsigned int slot = 0; slot < 3; slot++)
		for (unsigned int z = 0; z < ARRAY_SIZE(sizes); z++)
			for (unsigned int reg = 0; reg < 0x1000; reg++) {
				uint64_t a = KR_ECAM_BASE + (slot << 15) + reg;

				tm_read(&m.mmio, a, sizes[z]);
				if (reg >= 0x40 || slot != 1)	/* keep the BARs, for below */
					tm_write(&m.mmio, a, sizes[z],
						 (uint64_t)rnd(&seed) << 32 | rnd(&seed));
			}
	/* The config ports at every offset and size, CONFIG_ADDRESS random. */
	for (unsigned int i = 0; i < 4000; i++) {
		unsigned int port = 0xcf8 + rnd(&seed) % 8, size = sizes[rnd(&seed) % 4];

		if (port != KR_PORT_RESET)
			tm_write(&m.pio, port, size, rnd(&seed));
		tm_read(&m.pio, port, size);
	}
	/* The windows everywhere near the device's BARs. */
	tm_cfg_write(&m, 1, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY | KR_PCI_CMD_IO);
	for (uint64_t a = KR_PCI_MMIO32_BASE; a < KR_PCI_MMIO32_BASE + 0x20000; a += 61) {
		tm_read(&m.mmio, a, sizes[a % 5]);
		tm_write(&m.mmio, a, sizes[a % 5], rnd(&seed));
	}
	CHECK_EQ(m.resets, 0);
	CHECK_EQ(tm_cfg_read(&m, 1, 0, 4), F_DEVICE << 16 | F_VENDOR);
	CHECK_EQ(tm_cfg_read(&m, 0, 0, 4), KR_PCI_HB_DEVICE << 16 | KR_PCI_HB_VENDOR);
	CHECK_EQ(tm_cfg_read(&m, 1, KR_PCI_CAP_PTR, 1), KR_PCI_CAP_START);
	CHECK_EQ(tm_find_cap(&m, 1, KR_PCI_CAP_ID_MSIX, 0), KR_PCI_CAP_START);
	tm_fini(&m);
}

KR_TEST(pci_bar_access_direct)
{
	struct tmach m;
	struct fdev f;
	uint8_t d[8];

	tm_init(&m);
	add_fdev(&m, 1, &f);
	/* Works with decoding off; refuses what falls outside the BAR. */
	kr_pci_bar_access(f.dev, 4, 0xc, d, 4, false);
	CHECK_EQ(kr_get_le(d, 4), 0xa4);
	CHECK_EQ(f.calls, 1);
	kr_pci_bar_access(f.dev, 4, 0xd, d, 4, false);
	kr_pci_bar_access(f.dev, 3, 0, d, 4, false);	/* upper half of BAR 2 */
	kr_pci_bar_access(f.dev, 5, 0, d, 4, false);
	kr_pci_bar_access(f.dev, 9, 0, d, 4, false);
	kr_pci_bar_access(f.dev, 0, ~0ull, d, 4, false);
	CHECK_EQ(f.calls, 1);
	CHECK_EQ(kr_get_le(d, 4), 0xffffffffu);
	/* BAR 0's MSI-X table is not the device's. */
	kr_pci_bar_access(f.dev, 0, 0x80c, d, 4, false);
	CHECK_EQ(kr_get_le(d, 4), 1);		/* vector 0: masked */
	CHECK_EQ(f.calls, 1);
	tm_fini(&m);
}

/* ---- snapshot ------------------------------------------------------------ */

#define SNAP_BAR0	0xd0000000u
#define SNAP_IO		0xd000u
#define SNAP_BAR2	0xd1000000u
#define SNAP_BAR0_5	0xd0100000u
#define MSIX_CAP	KR_PCI_CAP_START	/* fdev's only capability */

struct snap {
	struct tmach m;
	struct fdev f[3];	/* slots 1, 2 and 5; 1 and 5 share GSI 17 */
	unsigned int hooks;	/* route hook calls */
};

static const unsigned int snap_slot[3] = { 1, 2, 5 };

static void snap_hook(void *opaque, unsigned int vector)
{
	struct snap *s = opaque;

	(void)vector;
	s->hooks++;
}

static void snap_up(struct snap *s)
{
	memset(s, 0, sizeof(*s));
	tm_init(&s->m);
	for (unsigned int i = 0; i < 3; i++) {
		add_fdev(&s->m, snap_slot[i], &s->f[i]);
		CHECK(s->f[i].dev != NULL);
		kr_msix_set_route_hook(kr_pci_msix(s->f[i].dev), snap_hook, s);
	}
}

/* MSI-X table entry v of the device in slot, through its BAR 0 wherever it is. */
static void snap_entry(struct snap *s, unsigned int i, unsigned int v, uint32_t addr,
		       uint32_t data, uint32_t ctrl)
{
	uint8_t d[4];

	kr_put_le(d, 4, addr);
	kr_pci_bar_access(s->f[i].dev, 0, 0x800 + v * 16, d, 4, true);
	kr_put_le(d, 4, data);
	kr_pci_bar_access(s->f[i].dev, 0, 0x800 + v * 16 + 8, d, 4, true);
	kr_put_le(d, 4, ctrl);
	kr_pci_bar_access(s->f[i].dev, 0, 0x800 + v * 16 + 12, d, 4, true);
}

static uint64_t snap_pba(struct snap *s, unsigned int i)
{
	uint8_t d[8];

	kr_pci_bar_access(s->f[i].dev, 0, 0xc00, d, 8, false);
	return kr_get_le(d, 8);
}

/*
 * What a guest and its devices leave behind: BARs moved, decoding and bus
 * mastering on, INTx asserted (once through INTx disable), MSI-X on with
 * vectors sent, masked and pending, the function mask on in another
 * function, the CONFIG_ADDRESS latch and the reset control byte set.
 */
static void snap_drive(struct snap *s)
{
	struct tmach *m = &s->m;

	tm_cfg_write(m, 1, 0x10, 4, SNAP_BAR0);
	tm_cfg_write(m, 1, 0x14, 4, SNAP_IO);
	tm_cfg_write(m, 1, 0x18, 4, SNAP_BAR2);
	tm_cfg_write(m, 1, 0x1c, 4, 0);
	tm_cfg_write(m, 1, KR_PCI_COMMAND, 2,
		     KR_PCI_CMD_MEMORY | KR_PCI_CMD_IO | KR_PCI_CMD_MASTER);
	tm_cfg_write(m, 1, KR_PCI_INT_LINE, 1, 11);
	tm_cfg_write(m, 1, 0x0c, 1, 0x10);
	tm_cfg_write(m, 1, MSIX_CAP + 2, 2, KR_MSIX_CTL_ENABLE);
	snap_entry(s, 0, 0, 0xfee01000, 0x41, 0);
	snap_entry(s, 0, 1, 0xfee02000, 0x42, 1);
	snap_entry(s, 0, 3, 0xfee03000, 0x43, 0);
	CHECK_EQ(kr_pci_msix_notify(s->f[0].dev, 0), KR_MSIX_SENT);
	CHECK_EQ(kr_pci_msix_notify(s->f[0].dev, 1), KR_MSIX_PENDING);
	kr_pci_set_irq(s->f[0].dev, 1);

	tm_cfg_write(m, 2, MSIX_CAP + 2, 2, KR_MSIX_CTL_ENABLE | KR_MSIX_CTL_FMASK);
	snap_entry(s, 1, 3, 0xfee04000, 0x44, 0);
	CHECK_EQ(kr_pci_msix_notify(s->f[1].dev, 3), KR_MSIX_PENDING);

	tm_cfg_write(m, 5, 0x10, 4, SNAP_BAR0_5);
	tm_cfg_write(m, 5, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY | KR_PCI_CMD_INTX_OFF);
	kr_pci_set_irq(s->f[2].dev, 1);

	tm_write(&m->pio, KR_PORT_RESET, 1, 0x02);
	tm_write(&m->pio, 0xcf8, 4, 0x80002810);
	CHECK_EQ(m->level[17], 1);
	CHECK_EQ(m->n_msi, 1);
	CHECK_EQ(m->resets, 0);
}

static int snap_load(struct snap *s, const void *p, size_t len, char *why, size_t why_len)
{
	struct kr_sget g;
	int ret;

	kr_sget_init(&g, p, len, "pci");
	ret = kr_pci_load(s->m.pci, &g);
	if (why)
		snprintf(why, why_len, "%s", g.why);
	return ret;
}

KR_TEST(pci_snapshot_round_trip)
{
	struct kr_sbuf b = { 0 };
	struct snap *a = calloc(1, sizeof(*a)), *c = calloc(1, sizeof(*c));
	uint64_t ga, gc;
	bool da, dc;

	snap_up(a);
	snap_drive(a);
	CHECK_EQ(kr_pci_save(a->m.pci, &b), 0);
	snap_up(c);
	c->hooks = 0;
	CHECK_EQ(snap_load(c, b.p, b.len, NULL, 0), 0);

	/* Nothing sent, no line driven: the irqchip's own state has them. */
	CHECK_EQ(c->m.irq_calls, 0);
	CHECK_EQ(c->m.n_msi, 0);
	/* The route hooks ran for every vector of every function, as after a write. */
	CHECK_EQ(c->hooks, 3 * 4);
	/* Every config byte of every slot reads the same, status and MSI-X control too. */
	for (unsigned int s = 0; s < KR_PCI_SLOTS; s++)
		for (unsigned int r = 0; r < KR_PCI_CFG_SIZE; r += 4)
			CHECK_EQ(tm_cfg_read(&c->m, s, r, 4), tm_cfg_read(&a->m, s, r, 4));
	CHECK_EQ(tm_read(&c->m.pio, 0xcf8, 4), 0x80002810);
	CHECK_EQ(tm_read(&c->m.pio, KR_PORT_RESET, 1), 0x02);
	CHECK_EQ(tm_cfg_read(&c->m, 1, MSIX_CAP + 2, 2), KR_MSIX_CTL_ENABLE | 3);
	CHECK_EQ(tm_cfg_read(&c->m, 2, MSIX_CAP + 2, 2),
		 KR_MSIX_CTL_ENABLE | KR_MSIX_CTL_FMASK | 3);
	CHECK(tm_cfg_read(&c->m, 5, KR_PCI_STATUS, 2) & KR_PCI_STS_INTX);

	/* BARs decode where they were moved, and their devices heard of it. */
	for (unsigned int i = 0; i < 3; i++)
		for (unsigned int bar = 0; bar < KR_PCI_BARS; bar++) {
			da = kr_pci_bar_addr(a->f[i].dev, bar, &ga);
			dc = kr_pci_bar_addr(c->f[i].dev, bar, &gc);
			CHECK_EQ(da, dc);
			CHECK(!da || ga == gc);
			CHECK_EQ(c->f[i].moved[bar], dc);
		}
	CHECK_EQ(tm_read(&c->m.mmio, SNAP_BAR0 + 0x10, 4), 0xa0);
	CHECK(c->f[0].calls == 1 && c->f[0].bar == 0 && c->f[0].off == 0x10);
	CHECK_EQ(tm_read(&c->m.pio, SNAP_IO + 3, 1), 0xa1);
	CHECK_EQ(tm_read(&c->m.mmio, SNAP_BAR2 + 4, 1), 0xa2);
	CHECK_EQ(tm_read(&c->m.mmio, SNAP_BAR0_5 + 4, 1), 0xa0);
	CHECK_EQ(c->f[2].calls, 1);
	CHECK(kr_pci_bus_master(c->f[0].dev));
	CHECK(!kr_pci_bus_master(c->f[2].dev));
	CHECK_EQ(c->f[0].resets + c->f[1].resets + c->f[2].resets, 0);

	/* INTx: slot 1 holds GSI 17, slot 5 wants it but is disabled. */
	kr_pci_set_irq(c->f[0].dev, 0);
	CHECK_EQ(c->m.irq_calls, 1);		/* 1 -> 0 holders: the line drops */
	CHECK_EQ(c->m.level[17], 0);
	tm_cfg_write(&c->m, 5, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY);
	CHECK_EQ(c->m.irq_calls, 2);
	CHECK_EQ(c->m.level[17], 1);

	/* MSI-X: what was pending still is, and goes out when unmasked. */
	CHECK_EQ(snap_pba(c, 0), 0x2);
	CHECK_EQ(snap_pba(c, 1), 0x8);
	tm_write(&c->m.mmio, SNAP_BAR0 + 0x800 + 16 + 12, 4, 0);
	CHECK_EQ(c->m.n_msi, 1);
	CHECK_EQ(c->m.msi[0].address, 0xfee02000);
	CHECK_EQ(c->m.msi[0].data, 0x42);
	CHECK_EQ(snap_pba(c, 0), 0);
	CHECK_EQ(kr_pci_msix_notify(c->f[0].dev, 3), KR_MSIX_SENT);
	CHECK_EQ(c->m.msi[1].address, 0xfee03000);
	tm_cfg_write(&c->m, 2, MSIX_CAP + 2, 2, KR_MSIX_CTL_ENABLE);
	CHECK_EQ(c->m.n_msi, 3);
	CHECK_EQ(c->m.msi[2].data, 0x44);

	/* The loaded bus saves the same bytes (before the pokes above: reload). */
	{
		struct kr_sbuf b2 = { 0 };
		struct snap *d = calloc(1, sizeof(*d));

		snap_up(d);
		CHECK_EQ(snap_load(d, b.p, b.len, NULL, 0), 0);
		CHECK_EQ(kr_pci_save(d->m.pci, &b2), 0);
		CHECK_EQ(b2.len, b.len);
		CHECK(b2.len == b.len && !memcmp(b2.p, b.p, b.len));
		kr_sbuf_free(&b2);
		tm_fini(&d->m);
		free(d);
	}
	kr_sbuf_free(&b);
	tm_fini(&a->m);
	tm_fini(&c->m);
	free(a);
	free(c);
}

/* Where the function in `slot` starts in a saved bus (its slot byte). */
static size_t snap_fn(const struct kr_sbuf *b, unsigned int slot)
{
	size_t off = 10;		/* version, CONFIG_ADDRESS, reset control, count */

	while (off + 270 <= b->len && b->p[off] != slot)
		off += 270 + kr_get_le(&b->p[off + 266], 4);	/* ident, cfg, level, MSI-X */
	return off;
}

/* Load b with bytes [at, at + n) replaced by v: the reason, or "" when taken. */
static const char *snap_crafted(struct snap *s, const struct kr_sbuf *b, size_t at,
				unsigned int n, uint32_t v)
{
	static char why[160];
	uint8_t *p = malloc(b->len);

	memcpy(p, b->p, b->len);
	kr_put_le(p + at, n, v);
	if (!snap_load(s, p, b->len, why, sizeof(why)))
		why[0] = 0;
	free(p);
	return why;
}

KR_TEST(pci_snapshot_refused)
{
	struct kr_sbuf b = { 0 };
	struct snap *a = calloc(1, sizeof(*a)), *c = calloc(1, sizeof(*c));
	struct kr_pci_dev_config cfg;
	struct kr_pci_dev *extra;
	unsigned int wrong = 0;
	size_t f1, f5, cfg1;
	char why[160];
	uint8_t *p;

	snap_up(a);
	snap_drive(a);
	CHECK_EQ(kr_pci_save(a->m.pci, &b), 0);
	snap_up(c);
	c->hooks = 0;
	/* Every truncation, and one byte too many. */
	for (size_t len = 0; len < b.len; len++)
		wrong += snap_load(c, b.p, len, NULL, 0) != -EPROTO;
	CHECK_EQ(wrong, 0);
	p = malloc(b.len + 1);
	memcpy(p, b.p, b.len);
	p[b.len] = 0;
	CHECK_EQ(snap_load(c, p, b.len + 1, why, sizeof(why)), -EPROTO);
	CHECK_STR(why, "pci: 1 bytes of state left over");
	free(p);
	CHECK_STR(snap_crafted(c, &b, 0, 4, 2), "pci: state version 2, this khv-run reads 1");

	/* Values the guest cannot have made. */
	f1 = snap_fn(&b, 1);
	f5 = snap_fn(&b, 5);
	cfg1 = f1 + 9;
	CHECK_EQ(b.p[f1], 1);
	CHECK_EQ(b.p[f5], 5);
	CHECK_STR(snap_crafted(c, &b, 4, 4, 0x80000001),
		  "pci: CONFIG_ADDRESS 0x80000001 has bits it does not keep");
	CHECK_STR(snap_crafted(c, &b, 8, 1, 0x06),
		  "pci: reset control 0x06 has bits it does not keep");
	CHECK_STR(snap_crafted(c, &b, 9, 1, 33), "pci: 33 functions on a bus of 32 slots");
	CHECK_STR(snap_crafted(c, &b, f5, 1, 1), "pci: slot 1 out of order");
	CHECK_STR(snap_crafted(c, &b, cfg1 + 0x10, 4, SNAP_BAR0 | 0x800),
		  "pci: slot 1: BAR 0 holds 0xd0000800, not a place for 0x1000 bytes");
	CHECK_STR(snap_crafted(c, &b, cfg1 + 0x18, 4, SNAP_BAR2 | 0x4),	/* not prefetchable */
		  "pci: slot 1: BAR 2 holds 0xd1000004, not a place for 0x10000 bytes");
	CHECK_STR(snap_crafted(c, &b, cfg1 + 0x14, 4, 0xd000),		/* I/O flag gone */
		  "pci: slot 1: BAR 1 holds 0x0000d000, not a place for 0x20 bytes");
	CHECK_STR(snap_crafted(c, &b, cfg1 + 0x24, 4, 0x1000),
		  "pci: slot 1: BAR 5 holds 0x00001000, but there is none");
	CHECK_STR(snap_crafted(c, &b, cfg1 + KR_PCI_INT_PIN, 1, 2),
		  "pci: slot 1: config byte 0x3d is 0x02, not 0x01");
	CHECK_STR(snap_crafted(c, &b, cfg1 + KR_PCI_COMMAND + 1, 1, 0x08),
		  "pci: slot 1: config byte 0x05 is 0x08, not 0x00");
	CHECK_STR(snap_crafted(c, &b, cfg1 + MSIX_CAP + 3, 1, 0xc0),	/* msix.c's bits */
		  "pci: slot 1: config byte 0x43 is 0xc0, not 0x00");
	CHECK_STR(snap_crafted(c, &b, cfg1 + KR_PCI_VENDOR_ID, 2, 0x8086),
		  "pci: slot 1: config byte 0x00 is 0x86, not 0x34");
	CHECK_STR(snap_crafted(c, &b, cfg1 + 256, 1, 2), "pci: a flag reads 2");
	CHECK_STR(snap_crafted(c, &b, cfg1 + 257, 4, 0), "pci: slot 1: no MSI-X state");
	CHECK_STR(snap_crafted(c, &b, cfg1 + 257, 4, 0x7fffffff), "pci: truncated state");
	/* Inside its MSI-X state: version, table size, a reserved bit, the PBA. */
	CHECK_STR(snap_crafted(c, &b, f1 + 270, 4, 9),
		  "pci: slot 1: MSI-X: state version 9, this khv-run reads 1");
	CHECK_STR(snap_crafted(c, &b, f1 + 274, 2, 8),
		  "pci: slot 1: MSI-X: 8 vectors in the snapshot, 4 here");
	CHECK_STR(snap_crafted(c, &b, f1 + 278 + 13, 1, 1),
		  "pci: slot 1: MSI-X: vector 0: entry byte 13 holds bits 0x01 it cannot");
	CHECK_STR(snap_crafted(c, &b, f1 + 278 + 64, 1, 0x12),
		  "pci: slot 1: MSI-X: pending bits 0x1 past the 4 vectors");
	/* Nothing of the fresh bus changed on the way. */
	CHECK_EQ(c->hooks, 0);
	CHECK_EQ(c->m.irq_calls + c->m.n_msi, 0);
	for (unsigned int i = 0; i < 3; i++)
		for (unsigned int bar = 0; bar < KR_PCI_BARS; bar++)
			CHECK_EQ(c->f[i].moved[bar], 0);
	CHECK_EQ(tm_cfg_read(&c->m, 1, KR_PCI_COMMAND, 2), 0);
	CHECK_EQ(tm_read(&c->m.pio, 0xcf8, 4), 0);
	/* And it still takes the real thing. */
	CHECK_EQ(snap_load(c, b.p, b.len, NULL, 0), 0);
	CHECK_EQ(tm_read(&c->m.mmio, SNAP_BAR0 + 0x10, 4), 0xa0);
	tm_fini(&c->m);

	/* Other machines: a device of another ID, missing, extra, another class. */
	memset(c, 0, sizeof(*c));
	tm_init(&c->m);
	add_fdev(&c->m, 1, &c->f[0]);
	add_fdev(&c->m, 2, &c->f[1]);
	cfg = f_config(&c->f[2]);
	cfg.device_id = F_DEVICE + 1;
	CHECK_EQ(kr_pci_add(c->m.pci, 5, &cfg, &c->f[2].dev), 0);
	CHECK_EQ(snap_load(c, b.p, b.len, why, sizeof(why)), -EPROTO);
	CHECK_STR(why, "pci: slot 5 holds 1234:5678 in the snapshot, 1234:5679 here");
	tm_fini(&c->m);

	tm_init(&c->m);
	add_fdev(&c->m, 1, &c->f[0]);
	add_fdev(&c->m, 2, &c->f[1]);
	CHECK_EQ(snap_load(c, b.p, b.len, why, sizeof(why)), -EPROTO);
	CHECK_STR(why, "pci: slot 5 holds 1234:5678 in the snapshot, nothing here");
	cfg = f_config(&c->f[2]);
	cfg.class_code = 0x030000;
	CHECK_EQ(kr_pci_add(c->m.pci, 5, &cfg, &c->f[2].dev), 0);
	CHECK_EQ(snap_load(c, b.p, b.len, why, sizeof(why)), -EPROTO);
	CHECK_STR(why, "pci: slot 5 holds class 020000 in the snapshot, 030000 here");
	tm_fini(&c->m);

	snap_up(c);
	cfg = f_config(&c->f[0]);
	CHECK_EQ(kr_pci_add(c->m.pci, 4, &cfg, &extra), 0);
	CHECK_EQ(snap_load(c, b.p, b.len, why, sizeof(why)), -EPROTO);
	CHECK_STR(why, "pci: slot 4 is empty in the snapshot, 1234:5678 here");
	tm_fini(&c->m);

	snap_up(c);
	cfg = f_config(&c->f[0]);
	CHECK_EQ(kr_pci_add(c->m.pci, 31, &cfg, &extra), 0);	/* after the last one saved */
	CHECK_EQ(snap_load(c, b.p, b.len, why, sizeof(why)), -EPROTO);
	CHECK_STR(why, "pci: slot 31 is empty in the snapshot, 1234:5678 here");
	tm_fini(&c->m);

	kr_sbuf_free(&b);
	tm_fini(&a->m);
	free(a);
	free(c);
}
