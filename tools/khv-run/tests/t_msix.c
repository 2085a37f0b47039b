// SPDX-License-Identifier: GPL-2.0
/*
 * MSI-X (msix.c and its wiring in pci.c): table programming, per-vector and
 * function masking with the pending bits, enable, fallback when disabled,
 * out-of-range vectors and table offsets, odd access sizes, the route hook.
 */
#include <string.h>

#include "t.h"
#include "vdrv.h"

struct rec {
	struct tm_msi msg[16];
	unsigned int n;
	unsigned int hooks[8];
};

static int rec_send(void *opaque, uint64_t address, uint32_t data)
{
	struct rec *r = opaque;

	if (r->n < ARRAY_SIZE(r->msg))
		r->msg[r->n++] = (struct tm_msi){ address, data };
	return 0;
}

static void rec_hook(void *opaque, unsigned int v)
{
	struct rec *r = opaque;

	if (v < ARRAY_SIZE(r->hooks))
		r->hooks[v]++;
}

static void entry_write(struct kr_msix *m, unsigned int v, uint64_t addr, uint32_t data,
			uint32_t ctrl)
{
	uint8_t d[8];

	kr_put_le(d, 8, addr);
	kr_msix_table_io(m, v * 16, d, 8, true);
	kr_put_le(d, 4, data);
	kr_msix_table_io(m, v * 16 + 8, d, 4, true);
	kr_put_le(d, 4, ctrl);
	kr_msix_table_io(m, v * 16 + 12, d, 4, true);
}

static uint64_t table_read(struct kr_msix *m, uint64_t off, unsigned int size)
{
	uint8_t d[8];

	kr_msix_table_io(m, off, d, size, false);
	return kr_get_le(d, size);
}

static uint64_t pba_read(struct kr_msix *m)
{
	uint8_t d[8];

	kr_msix_pba_io(m, 0, d, 8, false);
	return kr_get_le(d, 8);
}

KR_TEST(msix_send_and_mask)
{
	struct rec r = { 0 };
	struct kr_msi msi = { rec_send, &r };
	struct kr_msix *m = kr_msix_create(3, &msi);

	CHECK(m != NULL);
	CHECK_EQ(kr_msix_control(m), 2);			/* table size - 1 */
	for (unsigned int v = 0; v < 3; v++)
		CHECK_EQ(table_read(m, v * 16 + 12, 4), 1);	/* masked at reset */
	CHECK_EQ(kr_msix_notify(m, 1), KR_MSIX_DISABLED);
	CHECK_EQ(pba_read(m), 0);
	kr_msix_write_control(m, KR_MSIX_CTL_ENABLE);
	CHECK_EQ(kr_msix_control(m), KR_MSIX_CTL_ENABLE | 2);
	entry_write(m, 1, 0xfee01000, 0x4041, 0);
	CHECK_EQ(kr_msix_notify(m, 1), KR_MSIX_SENT);
	CHECK_EQ(r.n, 1);
	CHECK_EQ(r.msg[0].address, 0xfee01000);
	CHECK_EQ(r.msg[0].data, 0x4041);
	/* Masked vector: pending, sent on unmask, the bit cleared. */
	CHECK_EQ(kr_msix_notify(m, 0), KR_MSIX_PENDING);
	CHECK_EQ(pba_read(m), 1);
	CHECK_EQ(r.n, 1);
	entry_write(m, 0, 0xfee00000, 0x30, 1);	/* programmed, still masked */
	CHECK_EQ(r.n, 1);
	entry_write(m, 0, 0xfee00000, 0x30, 0);
	CHECK_EQ(r.n, 2);
	CHECK_EQ(r.msg[1].data, 0x30);
	CHECK_EQ(pba_read(m), 0);
	/* Function mask: both pend, both go when it clears, no duplicates. */
	kr_msix_write_control(m, KR_MSIX_CTL_ENABLE | KR_MSIX_CTL_FMASK);
	CHECK_EQ(kr_msix_notify(m, 0), KR_MSIX_PENDING);
	CHECK_EQ(kr_msix_notify(m, 1), KR_MSIX_PENDING);
	CHECK_EQ(kr_msix_notify(m, 1), KR_MSIX_PENDING);
	CHECK_EQ(pba_read(m), 3);
	kr_msix_write_control(m, KR_MSIX_CTL_ENABLE);
	CHECK_EQ(r.n, 4);
	CHECK_EQ(pba_read(m), 0);
	/* Pending while masked survives a disable/enable only as pending. */
	CHECK_EQ(kr_msix_notify(m, 2), KR_MSIX_PENDING);
	kr_msix_write_control(m, 0);
	CHECK_EQ(kr_msix_notify(m, 1), KR_MSIX_DISABLED);
	CHECK_EQ(r.n, 4);
	/* Out of range. */
	CHECK_EQ(kr_msix_notify(m, 3), KR_MSIX_BAD_VECTOR);
	CHECK_EQ(kr_msix_notify(m, ~0u), KR_MSIX_BAD_VECTOR);
	kr_msix_destroy(m);
	CHECK(kr_msix_create(0, &msi) == NULL);
	CHECK(kr_msix_create(KR_MSIX_MAX_VECTORS + 1, &msi) == NULL);
}

KR_TEST(msix_table_accesses)
{
	struct rec r = { 0 };
	struct kr_msi msi = { rec_send, &r };
	struct kr_msix *m = kr_msix_create(2, &msi);
	uint8_t d[8];

	/* Bytes, words, a qword across two fields; reserved bits stay 0. */
	for (unsigned int i = 0; i < 16; i++) {
		d[0] = 0xff;
		kr_msix_table_io(m, 16 + i, d, 1, true);
	}
	CHECK_EQ(table_read(m, 16, 8), 0xfffffffffffffffc);	/* address bits 1:0 */
	CHECK_EQ(table_read(m, 24, 8), 0x00000001ffffffff);	/* data, ctrl: mask only */
	kr_put_le(d, 8, 0x0000000012345678);
	kr_msix_table_io(m, 20, d, 8, true);			/* address high + data */
	CHECK_EQ(table_read(m, 20, 4), 0x12345678);
	CHECK_EQ(table_read(m, 24, 4), 0);
	CHECK_EQ(table_read(m, 18, 2), 0xffff);
	CHECK_EQ(table_read(m, 17, 3), 0xffffff);
	/* Past the table: reads all-ones, writes nothing. */
	CHECK_EQ(table_read(m, 32, 4), 0xffffffffu);
	CHECK_EQ(table_read(m, 30, 4), 0xffff0000u);
	kr_put_le(d, 8, 0);
	kr_msix_table_io(m, 28, d, 8, true);			/* half in, half out */
	CHECK_EQ(table_read(m, 28, 4), 0);
	entry_write(m, 0, 0xfee00000, 0, 1);
	kr_msix_table_io(m, ~0ull - 2, d, 8, true);		/* wraps */
	CHECK_EQ(table_read(m, 0, 4), 0xfee00000);
	kr_msix_table_io(m, 0, d, 9, true);			/* too big */
	kr_msix_table_io(m, 0, d, 0, true);
	/* The PBA is read-only. */
	memset(d, 0xff, 8);
	kr_msix_pba_io(m, 0, d, 8, true);
	CHECK_EQ(pba_read(m), 0);
	CHECK_EQ(r.n, 0);
	kr_msix_destroy(m);
}

KR_TEST(msix_route_hook)
{
	struct rec r = { 0 };
	struct kr_msi msi = { rec_send, &r };
	struct kr_msix *m = kr_msix_create(2, &msi);
	uint64_t addr;
	uint32_t data;

	kr_msix_set_route_hook(m, rec_hook, &r);
	entry_write(m, 1, 0xfee02000, 0x51, 0);
	CHECK_EQ(r.hooks[1], 3);		/* one per write */
	CHECK_EQ(r.hooks[0], 0);
	CHECK(!kr_msix_route(m, 1, &addr, &data));	/* MSI-X still off */
	CHECK_EQ(addr, 0xfee02000);
	CHECK_EQ(data, 0x51);
	kr_msix_write_control(m, KR_MSIX_CTL_ENABLE);
	CHECK_EQ(r.hooks[0], 1);
	CHECK_EQ(r.hooks[1], 4);
	CHECK(kr_msix_route(m, 1, &addr, &data));
	CHECK(!kr_msix_route(m, 0, &addr, &data));	/* masked */
	kr_msix_write_control(m, KR_MSIX_CTL_ENABLE);	/* no change: no call */
	CHECK_EQ(r.hooks[1], 4);
	kr_msix_write_control(m, KR_MSIX_CTL_ENABLE | KR_MSIX_CTL_FMASK);
	CHECK(!kr_msix_route(m, 1, &addr, &data));
	CHECK(!kr_msix_route(m, 2, &addr, &data));
	kr_msix_reset(m);
	CHECK_EQ(r.hooks[1], 6);
	CHECK(!kr_msix_route(m, 1, &addr, &data));
	CHECK_EQ(addr, 0);
	CHECK_EQ(kr_msix_control(m), 1);
	kr_msix_destroy(m);
}

/* Through the PCI bus: capability, table and PBA in the BAR, config bits. */
KR_TEST(msix_through_pci)
{
	struct kr_pci_dev_config c = {
		.vendor_id = 0x1234, .device_id = 1, .msix_vectors = 5,
		.msix_bar = 2, .msix_table = 0x100, .msix_pba = 0x200,
	};
	struct kr_pci_dev *dev;
	struct tmach m;
	unsigned int cap;
	uint64_t bar;

	tm_init(&m);
	c.bar[2] = (struct kr_pci_bar_info){ KR_PCI_BAR_MEM64, 0x1000 };
	CHECK_EQ(kr_pci_add(m.pci, 9, &c, &dev), 0);
	cap = tm_find_cap(&m, 9, KR_PCI_CAP_ID_MSIX, 0);
	CHECK_EQ(cap, KR_PCI_CAP_START);
	CHECK_EQ(tm_cfg_read(&m, 9, cap + 2, 2), 4);
	CHECK_EQ(tm_cfg_read(&m, 9, cap + 4, 4), 0x102);
	CHECK_EQ(tm_cfg_read(&m, 9, cap + 8, 4), 0x202);
	tm_cfg_write(&m, 9, cap + 4, 4, 0);			/* read-only */
	tm_cfg_write(&m, 9, cap + 2, 2, 0xffff);
	CHECK_EQ(tm_cfg_read(&m, 9, cap + 2, 2), 0xc004);
	CHECK(kr_msix_enabled(kr_pci_msix(dev)));
	tm_cfg_write(&m, 9, cap + 3, 1, 0x80);			/* byte write: fmask off */
	CHECK_EQ(tm_cfg_read(&m, 9, cap + 2, 2), 0x8004);
	bar = tm_cfg_read(&m, 9, 0x18, 4) & ~0xfull;
	tm_cfg_write(&m, 9, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY);
	tm_write(&m.mmio, bar + 0x100 + 4 * 16, 4, 0xfee03000);
	tm_write(&m.mmio, bar + 0x100 + 4 * 16 + 8, 4, 0x77);
	CHECK_EQ(kr_pci_msix_notify(dev, 4), KR_MSIX_PENDING);
	CHECK_EQ(tm_read(&m.mmio, bar + 0x200, 8), 0x10);
	tm_write(&m.mmio, bar + 0x100 + 4 * 16 + 12, 4, 0);
	CHECK_EQ(m.n_msi, 1);
	CHECK_EQ(m.msi[0].address, 0xfee03000);
	CHECK_EQ(m.msi[0].data, 0x77);
	CHECK_EQ(tm_read(&m.mmio, bar + 0x200, 8), 0);
	/* Table index out of range: the BAR offset past the table is the device's. */
	tm_write(&m.mmio, bar + 0x100 + 5 * 16 + 12, 4, 0);
	CHECK_EQ(tm_read(&m.mmio, bar + 0x100 + 5 * 16, 4), 0xffffffffu);
	CHECK_EQ(kr_pci_msix_notify(dev, 5), KR_MSIX_BAD_VECTOR);
	/* An access straddling the table's start is dropped. */
	tm_write(&m.mmio, bar + 0x100, 4, 0xfee04000);
	tm_write(&m.mmio, bar + 0xfc, 8, 0);
	CHECK_EQ(tm_read(&m.mmio, bar + 0x100, 4), 0xfee04000);
	CHECK_EQ(m.n_msi, 1);
	tm_fini(&m);
}
