// SPDX-License-Identifier: GPL-2.0
/*
 * MSI-X (msix.c and its wiring in pci.c): table programming, per-vector and
 * function masking with the pending bits, enable, fallback when disabled,
 * out-of-range vectors and table offsets, odd access sizes, the route hook.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "vdrv.h"

struct rec {
	struct tm_msi msg[16];
	unsigned int n;
	unsigned int hooks[8];
	unsigned int all_hooks;
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
	r->all_hooks++;
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

/* ---- snapshot ------------------------------------------------------------ */

#define SNAP_NVEC	70	/* two PBA words, the second one partly used */

/* Enabled; 0 and 69 unmasked, 1 and 65 masked and pending, 0 sent once. */
static struct kr_msix *snap_made(struct rec *r)
{
	struct kr_msi msi = { rec_send, r };
	struct kr_msix *m = kr_msix_create(SNAP_NVEC, &msi);

	kr_msix_write_control(m, KR_MSIX_CTL_ENABLE);
	entry_write(m, 0, 0xfee01000, 0x41, 0);
	entry_write(m, 1, 0xfee02000, 0x42, 1);
	entry_write(m, 65, 0xfee03004, 0x43, 1);
	entry_write(m, 69, 0x1fee04000ull, 0x44, 0);
	CHECK_EQ(kr_msix_notify(m, 0), KR_MSIX_SENT);
	CHECK_EQ(kr_msix_notify(m, 1), KR_MSIX_PENDING);
	CHECK_EQ(kr_msix_notify(m, 65), KR_MSIX_PENDING);
	return m;
}

static int snap_load(struct kr_msix *m, const void *p, size_t len, char *why)
{
	struct kr_sget g;
	int ret;

	kr_sget_init(&g, p, len, "msix");
	ret = kr_msix_load(m, &g);
	if (why)
		strcpy(why, g.why);
	return ret;
}

KR_TEST(msix_snapshot_round_trip)
{
	struct rec r = { 0 }, r2 = { 0 };
	struct kr_msi msi2 = { rec_send, &r2 };
	struct kr_msix *m = snap_made(&r), *m2 = kr_msix_create(SNAP_NVEC, &msi2);
	struct kr_sbuf b = { 0 }, b2 = { 0 };
	uint8_t d[8];

	CHECK_EQ(kr_msix_save(m, &b), 0);
	kr_msix_set_route_hook(m2, rec_hook, &r2);
	CHECK_EQ(snap_load(m2, b.p, b.len, NULL), 0);
	CHECK_EQ(r2.n, 0);			/* nothing sent by the load */
	CHECK_EQ(r2.all_hooks, SNAP_NVEC);	/* every vector's route looked at once */
	CHECK_EQ(r2.hooks[0], 1);
	CHECK_EQ(kr_msix_control(m2), kr_msix_control(m));
	for (unsigned int o = 0; o < SNAP_NVEC * 16; o += 8)
		CHECK_EQ(table_read(m2, o, 8), table_read(m, o, 8));
	CHECK_EQ(pba_read(m2), 0x2);
	kr_msix_pba_io(m2, 8, d, 8, false);
	CHECK_EQ(kr_get_le(d, 8), 0x2);		/* vector 65 */
	/* The same bytes again from the copy. */
	CHECK_EQ(kr_msix_save(m2, &b2), 0);
	CHECK(b2.len == b.len && !memcmp(b2.p, b.p, b.len));
	/* Pending vectors go out when unmasked; the others are sent as before. */
	entry_write(m2, 65, 0xfee03004, 0x43, 0);
	CHECK_EQ(r2.n, 1);
	CHECK_EQ(r2.msg[0].address, 0xfee03004);
	CHECK_EQ(r2.msg[0].data, 0x43);
	CHECK_EQ(kr_msix_notify(m2, 69), KR_MSIX_SENT);
	CHECK_EQ(r2.msg[1].address, 0x1fee04000ull);
	CHECK_EQ(kr_msix_notify(m2, 1), KR_MSIX_PENDING);
	kr_sbuf_free(&b);
	kr_sbuf_free(&b2);
	kr_msix_destroy(m);
	kr_msix_destroy(m2);
}

/* Load b with the n bytes at `at` replaced by v: the reason, or "" when taken. */
static const char *snap_crafted(struct kr_msix *m, const struct kr_sbuf *b, size_t at,
				unsigned int n, uint64_t v)
{
	static char why[160];
	uint8_t *p = malloc(b->len);

	memcpy(p, b->p, b->len);
	kr_put_le(p + at, n, v);
	if (!snap_load(m, p, b->len, why))
		why[0] = 0;
	free(p);
	return why;
}

KR_TEST(msix_snapshot_refused)
{
	struct rec r = { 0 }, r2 = { 0 };
	struct kr_msi msi2 = { rec_send, &r2 };
	struct kr_msix *m = snap_made(&r), *m2 = kr_msix_create(SNAP_NVEC, &msi2);
	struct kr_msix *small = kr_msix_create(SNAP_NVEC - 1, &msi2);
	struct kr_sbuf b = { 0 };
	const size_t table = 8, pba = 8 + SNAP_NVEC * 16;
	unsigned int wrong = 0;
	char why[160];

	CHECK_EQ(kr_msix_save(m, &b), 0);
	CHECK_EQ(b.len, pba + 16);
	kr_msix_set_route_hook(m2, rec_hook, &r2);
	for (size_t len = 0; len < b.len; len++)
		wrong += snap_load(m2, b.p, len, NULL) != -EPROTO;
	CHECK_EQ(wrong, 0);
	CHECK_EQ(snap_load(m2, b.p, 3, why), -EPROTO);
	CHECK_STR(why, "msix: truncated state");
	CHECK_EQ(snap_load(small, b.p, b.len, why), -EPROTO);
	CHECK_STR(why, "msix: 70 vectors in the snapshot, 69 here");
	CHECK_STR(snap_crafted(m2, &b, 0, 4, 0), "msix: state version 0, this khv-run reads 1");
	CHECK_STR(snap_crafted(m2, &b, 6, 1, 2), "msix: a flag reads 2");
	/* Bits the table does not keep: address bits 1:0, reserved control bits. */
	CHECK_STR(snap_crafted(m2, &b, table + 16 * 5, 1, 0x02),
		  "msix: vector 5: entry byte 0 holds bits 0x02 it cannot");
	CHECK_STR(snap_crafted(m2, &b, table + 16 * 69 + 12, 4, 0x80000001),
		  "msix: vector 69: entry byte 15 holds bits 0x80 it cannot");
	/* Pending past the last vector; pending on a vector that would have gone out. */
	CHECK_STR(snap_crafted(m2, &b, pba + 8, 8, 1ull << 6 | 1ull << 1),
		  "msix: pending bits 0x1 past the 70 vectors");
	CHECK_STR(snap_crafted(m2, &b, pba, 8, 0x3),
		  "msix: vector 0 is pending but neither masked nor off");
	CHECK_STR(snap_crafted(m2, &b, pba + 8, 8, 1ull << 5),
		  "msix: vector 69 is pending but neither masked nor off");
	/* ...which is fine under the function mask, or with MSI-X off. */
	{
		struct kr_sbuf c = { 0 };

		kr_sbuf_bytes(&c, b.p, b.len);
		c.p[pba] |= 1;
		c.p[7] = 1;			/* function mask */
		CHECK_STR(snap_crafted(m2, &c, 6, 1, 0), "");
		CHECK_EQ(kr_msix_enabled(m2), false);
		CHECK_STR(snap_crafted(m2, &c, 6, 1, 1), "");
		CHECK_EQ(kr_msix_control(m2), KR_MSIX_CTL_ENABLE | KR_MSIX_CTL_FMASK | 69);
		CHECK_EQ(pba_read(m2), 0x3);
		kr_sbuf_free(&c);
	}
	CHECK_EQ(r2.n, 0);
	kr_sbuf_free(&b);
	kr_msix_destroy(m);
	kr_msix_destroy(m2);
	kr_msix_destroy(small);
}
