// SPDX-License-Identifier: GPL-2.0
/*
 * The display adapter (display.c) as Linux's bochs driver sees it: PCI
 * identity and BARs, the dispi registers through the MMIO BAR, a mode set
 * the way the driver sets one, the scanout that results, and the video
 * memory mapped (or not) where the guest puts BAR 0.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "vdrv.h"
#include "../display.h"

#define SLOT		5
#define FB_ADDR		0xc1000000ull
#define MMIO_ADDR	0xc2000000ull

struct dt {
	struct tmach m;
	struct kr_display *d;
	int maps, unmaps;
	uint64_t map_gpa;
	bool mapped;
	int fail_map;
};

static int fake_map(void *opaque, bool map, uint64_t gpa, uint64_t size, void *hva)
{
	struct dt *t = opaque;

	(void)hva;
	CHECK_EQ(size, KR_DISPLAY_VRAM);
	if (!map) {
		CHECK(t->mapped);
		CHECK_EQ(gpa, t->map_gpa);
		t->unmaps++;
		t->mapped = false;
		return 0;
	}
	if (t->fail_map)
		return -ENOMEM;
	CHECK(!t->mapped);
	t->maps++;
	t->mapped = true;
	t->map_gpa = gpa;
	return 0;
}

static void dt_up(struct dt *t, enum kr_display_kind kind, bool with_map)
{
	struct kr_display_params p = { .kind = kind, .map = with_map ? fake_map : NULL,
				       .opaque = t };

	memset(t, 0, sizeof(*t));
	tm_init(&t->m);
	t->d = kr_display_create(t->m.pci, SLOT, &p);
	CHECK(t->d);
}

static void dt_down(struct dt *t)
{
	tm_fini(&t->m);
	kr_display_destroy(t->d);
}

static void bars_on(struct dt *t)
{
	tm_cfg_write(&t->m, SLOT, KR_PCI_BAR0, 4, FB_ADDR);
	tm_cfg_write(&t->m, SLOT, KR_PCI_BAR0 + 8, 4, MMIO_ADDR);
	tm_cfg_write(&t->m, SLOT, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY);
}

static uint16_t dispi_rd(struct dt *t, unsigned int idx)
{
	return tm_read(&t->m.mmio, MMIO_ADDR + KR_DISPLAY_DISPI_OFF + 2 * idx, 2);
}

static void dispi_wr(struct dt *t, unsigned int idx, uint16_t v)
{
	tm_write(&t->m.mmio, MMIO_ADDR + KR_DISPLAY_DISPI_OFF + 2 * idx, 2, v);
}

/* bochs_hw_setmode() of Linux 6.1, register by register. */
static void set_mode(struct dt *t, unsigned int w, unsigned int h)
{
	/* Unblank: IS1 read resets the flip-flop, then index 0x20 to 0x3c0. */
	tm_write(&t->m.mmio, MMIO_ADDR + KR_DISPLAY_VGA_OFF + 2, 1, 0x01);	/* 0x3c2 */
	tm_read(&t->m.mmio, MMIO_ADDR + KR_DISPLAY_VGA_OFF + 0x1a, 1);		/* 0x3da */
	tm_write(&t->m.mmio, MMIO_ADDR + KR_DISPLAY_VGA_OFF, 1, 0x20);
	dispi_wr(t, KR_DISPI_ENABLE, 0);
	dispi_wr(t, KR_DISPI_BPP, 32);
	dispi_wr(t, KR_DISPI_XRES, w);
	dispi_wr(t, KR_DISPI_YRES, h);
	dispi_wr(t, KR_DISPI_BANK, 0);
	dispi_wr(t, KR_DISPI_VIRT_WIDTH, w);
	dispi_wr(t, KR_DISPI_VIRT_HEIGHT, KR_DISPLAY_VRAM / (w * 4));
	dispi_wr(t, KR_DISPI_X_OFFSET, 0);
	dispi_wr(t, KR_DISPI_Y_OFFSET, 0);
	dispi_wr(t, KR_DISPI_ENABLE, KR_DISPI_ENABLED | KR_DISPI_LFB_ENABLED);
}

KR_TEST(display_pci_identity)
{
	struct dt t;
	uint32_t mask;

	dt_up(&t, KR_DISPLAY_BOCHS, false);
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, KR_PCI_VENDOR_ID, 2), 0x1234);
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, KR_PCI_DEVICE_ID, 2), 0x1111);
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, KR_PCI_SUBSYS_VENDOR, 2), 0x1af4);
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, KR_PCI_SUBSYS_ID, 2), 0x1100);
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, KR_PCI_REVISION, 1), 2);
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, KR_PCI_REVISION, 4) >> 8, 0x038000);
	/* BAR 0: 16 MiB, 32-bit, prefetchable; BAR 2: 4 KiB MMIO. */
	tm_cfg_write(&t.m, SLOT, KR_PCI_BAR0, 4, 0xffffffff);
	mask = tm_cfg_read(&t.m, SLOT, KR_PCI_BAR0, 4);
	CHECK_EQ(mask & 0xf, KR_PCI_BAR_PREFETCH);
	CHECK_EQ(~(mask & ~0xfu) + 1, KR_DISPLAY_VRAM);
	tm_cfg_write(&t.m, SLOT, KR_PCI_BAR0 + 8, 4, 0xffffffff);
	mask = tm_cfg_read(&t.m, SLOT, KR_PCI_BAR0 + 8, 4);
	CHECK_EQ(mask & 0xf, 0);
	CHECK_EQ(~(mask & ~0xfu) + 1, KR_DISPLAY_MMIO_SIZE);
	dt_down(&t);

	dt_up(&t, KR_DISPLAY_VGA, false);
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, KR_PCI_REVISION, 4) >> 8, 0x030000);
	dt_down(&t);
}

KR_TEST(display_dispi_registers)
{
	struct dt t;

	dt_up(&t, KR_DISPLAY_BOCHS, false);
	bars_on(&t);
	/* What bochs_hw_init() reads. */
	CHECK_EQ(dispi_rd(&t, KR_DISPI_ID) & 0xfff0, KR_DISPI_ID0);
	CHECK_EQ(dispi_rd(&t, KR_DISPI_VIDEO_MEM_64K) * 65536u, KR_DISPLAY_VRAM);
	CHECK_EQ(tm_read(&t.m.mmio, MMIO_ADDR + KR_DISPLAY_QEXT_OFF, 4), KR_DISPLAY_QEXT_SIZE);
	/* No EDID: the header reads as zeros. */
	CHECK_EQ(tm_read(&t.m.mmio, MMIO_ADDR, 8), 0);
	/* The ID register keeps a valid ID written to it, nothing else. */
	dispi_wr(&t, KR_DISPI_ID, 0xb0c2);
	CHECK_EQ(dispi_rd(&t, KR_DISPI_ID), 0xb0c2);
	dispi_wr(&t, KR_DISPI_ID, 0x1234);
	CHECK_EQ(dispi_rd(&t, KR_DISPI_ID), 0xb0c2);
	/* GETCAPS: the maximums. */
	dispi_wr(&t, KR_DISPI_ENABLE, KR_DISPI_GETCAPS);
	CHECK_EQ(dispi_rd(&t, KR_DISPI_XRES), KR_DISPLAY_MAX_XRES);
	CHECK_EQ(dispi_rd(&t, KR_DISPI_YRES), KR_DISPLAY_MAX_YRES);
	CHECK_EQ(dispi_rd(&t, KR_DISPI_BPP), 32);
	dispi_wr(&t, KR_DISPI_ENABLE, 0);
	/* Bad values are not taken. */
	dispi_wr(&t, KR_DISPI_BPP, 12);
	CHECK_EQ(dispi_rd(&t, KR_DISPI_BPP), 32);
	dispi_wr(&t, KR_DISPI_XRES, KR_DISPLAY_MAX_XRES + 1);
	CHECK_EQ(dispi_rd(&t, KR_DISPI_XRES), 640);
	/* Byte accesses to a 16-bit register. */
	tm_write(&t.m.mmio, MMIO_ADDR + KR_DISPLAY_DISPI_OFF + 2 * KR_DISPI_XRES, 1, 0x20);
	tm_write(&t.m.mmio, MMIO_ADDR + KR_DISPLAY_DISPI_OFF + 2 * KR_DISPI_XRES + 1, 1, 0x03);
	CHECK_EQ(dispi_rd(&t, KR_DISPI_XRES), 0x320);
	/* Byte order register: only the two values it knows. */
	tm_write(&t.m.mmio, MMIO_ADDR + KR_DISPLAY_QEXT_OFF + 4, 4, KR_DISPLAY_BE);
	CHECK_EQ(tm_read(&t.m.mmio, MMIO_ADDR + KR_DISPLAY_QEXT_OFF + 4, 4), KR_DISPLAY_BE);
	tm_write(&t.m.mmio, MMIO_ADDR + KR_DISPLAY_QEXT_OFF + 4, 4, 0x12345678);
	CHECK_EQ(tm_read(&t.m.mmio, MMIO_ADDR + KR_DISPLAY_QEXT_OFF + 4, 4), KR_DISPLAY_BE);
	dt_down(&t);
}

KR_TEST(display_mode_and_scanout)
{
	struct dt t;
	struct kr_scanout s;
	uint32_t gen;

	dt_up(&t, KR_DISPLAY_BOCHS, false);
	bars_on(&t);
	kr_display_scanout(t.d, &s);
	CHECK(!s.on);			/* not enabled yet */
	/* Memory written before the mode set is cleared by it. */
	tm_write(&t.m.mmio, FB_ADDR, 4, 0xdeadbeef);
	set_mode(&t, 1024, 768);
	CHECK_EQ(tm_read(&t.m.mmio, FB_ADDR, 4), 0);
	CHECK_EQ(dispi_rd(&t, KR_DISPI_VIRT_HEIGHT), KR_DISPLAY_VRAM / 4096);
	kr_display_scanout(t.d, &s);
	CHECK(s.on);
	CHECK_EQ(s.width, 1024);
	CHECK_EQ(s.height, 768);
	CHECK_EQ(s.bpp, 32);
	CHECK_EQ(s.stride, 4096);
	CHECK_EQ(s.offset, 0);
	CHECK(!s.big_endian);
	gen = s.generation;
	/* A pixel written through BAR 0 (XRGB8888) reads back from the scanout. */
	tm_write(&t.m.mmio, FB_ADDR + 4096 * 2 + 4 * 3, 4, 0x00123456);
	CHECK_EQ(kr_display_pixel(&s, s.vram + s.offset + 2 * s.stride, 3), 0x123456);
	/* Panning (bochs_hw_setbase): a virtual width and offsets. */
	dispi_wr(&t, KR_DISPI_VIRT_WIDTH, 2048);
	dispi_wr(&t, KR_DISPI_X_OFFSET, 16);
	dispi_wr(&t, KR_DISPI_Y_OFFSET, 10);
	kr_display_scanout(t.d, &s);
	CHECK(s.on);
	CHECK_EQ(s.stride, 8192);
	CHECK_EQ(s.offset, 10 * 8192 + 16 * 4);
	CHECK(s.generation != gen);
	/* Offsets that push the frame past the memory: nothing is shown. */
	dispi_wr(&t, KR_DISPI_Y_OFFSET, 2000);
	kr_display_scanout(t.d, &s);
	CHECK(!s.on);
	dispi_wr(&t, KR_DISPI_Y_OFFSET, 0);
	/* Blanked through the attribute controller: off; unblanked: on. */
	tm_read(&t.m.mmio, MMIO_ADDR + KR_DISPLAY_VGA_OFF + 0x1a, 1);
	tm_write(&t.m.mmio, MMIO_ADDR + KR_DISPLAY_VGA_OFF, 1, 0x00);
	kr_display_scanout(t.d, &s);
	CHECK(!s.on);
	tm_read(&t.m.mmio, MMIO_ADDR + KR_DISPLAY_VGA_OFF + 0x1a, 1);
	tm_write(&t.m.mmio, MMIO_ADDR + KR_DISPLAY_VGA_OFF, 1, 0x20);
	kr_display_scanout(t.d, &s);
	CHECK(s.on);
	/* Big-endian framebuffer (BGRX8888): bytes X R G B. */
	tm_write(&t.m.mmio, MMIO_ADDR + KR_DISPLAY_QEXT_OFF + 4, 4, KR_DISPLAY_BE);
	kr_display_scanout(t.d, &s);
	CHECK(s.big_endian);
	tm_write(&t.m.mmio, FB_ADDR + 16 * 4, 4, 0x563412ff);	/* bytes ff 12 34 56 */
	CHECK_EQ(kr_display_pixel(&s, s.vram + s.offset, 0), 0x123456);
	/* Disabled: off again. */
	dispi_wr(&t, KR_DISPI_ENABLE, 0);
	kr_display_scanout(t.d, &s);
	CHECK(!s.on);
	/* 16 bpp (RGB565): full red, full green, full blue. */
	dispi_wr(&t, KR_DISPI_BPP, 16);
	dispi_wr(&t, KR_DISPI_XRES, 8);
	dispi_wr(&t, KR_DISPI_YRES, 8);
	dispi_wr(&t, KR_DISPI_ENABLE, KR_DISPI_ENABLED | KR_DISPI_LFB_ENABLED);
	tm_write(&t.m.mmio, FB_ADDR, 2, 0xf800);
	tm_write(&t.m.mmio, FB_ADDR + 2, 2, 0x07e0);
	tm_write(&t.m.mmio, FB_ADDR + 4, 2, 0x001f);
	kr_display_scanout(t.d, &s);
	CHECK(s.on);
	CHECK_EQ(s.stride, 16);
	CHECK_EQ(kr_display_pixel(&s, s.vram, 0), 0xff0000);
	CHECK_EQ(kr_display_pixel(&s, s.vram, 1), 0x00ff00);
	CHECK_EQ(kr_display_pixel(&s, s.vram, 2), 0x0000ff);
	/* 8 bpp (palette) is not shown. */
	dispi_wr(&t, KR_DISPI_ENABLE, 0);
	dispi_wr(&t, KR_DISPI_BPP, 8);
	dispi_wr(&t, KR_DISPI_ENABLE, KR_DISPI_ENABLED);
	kr_display_scanout(t.d, &s);
	CHECK(!s.on);
	dt_down(&t);
}

KR_TEST(display_vram_mapping)
{
	struct dt t;

	dt_up(&t, KR_DISPLAY_BOCHS, true);
	/* Decoding off at power-on: nothing mapped. */
	CHECK_EQ(t.maps, 0);
	bars_on(&t);
	CHECK_EQ(t.maps, 1);
	CHECK_EQ(t.map_gpa, FB_ADDR);
	/* The BAR moves: unmapped at the old place, mapped at the new one. */
	tm_cfg_write(&t.m, SLOT, KR_PCI_BAR0, 4, FB_ADDR + KR_DISPLAY_VRAM);
	CHECK_EQ(t.unmaps, 1);
	CHECK_EQ(t.maps, 2);
	CHECK_EQ(t.map_gpa, FB_ADDR + KR_DISPLAY_VRAM);
	/* Decoding off: unmapped. */
	tm_cfg_write(&t.m, SLOT, KR_PCI_COMMAND, 2, 0);
	CHECK_EQ(t.unmaps, 2);
	CHECK(!t.mapped);
	/* A failed map leaves the BAR working through exits. */
	t.fail_map = 1;
	tm_cfg_write(&t.m, SLOT, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY);
	CHECK(!t.mapped);
	tm_write(&t.m.mmio, FB_ADDR + KR_DISPLAY_VRAM + 8, 4, 0xcafe);
	CHECK_EQ(tm_read(&t.m.mmio, FB_ADDR + KR_DISPLAY_VRAM + 8, 4), 0xcafe);
	t.fail_map = 0;
	/* Destroying a mapped adapter unmaps it. */
	tm_cfg_write(&t.m, SLOT, KR_PCI_COMMAND, 2, 0);
	tm_cfg_write(&t.m, SLOT, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY);
	CHECK(t.mapped);
	kr_display_destroy(t.d);
	CHECK(!t.mapped);
	t.d = NULL;
	dt_down(&t);
}

KR_TEST(display_reset)
{
	struct dt t;
	struct kr_scanout s;

	dt_up(&t, KR_DISPLAY_BOCHS, false);
	bars_on(&t);
	set_mode(&t, 800, 600);
	kr_pci_reset(t.m.pci);
	kr_display_scanout(t.d, &s);
	CHECK(!s.on);
	bars_on(&t);
	CHECK_EQ(dispi_rd(&t, KR_DISPI_XRES), 640);
	CHECK_EQ(dispi_rd(&t, KR_DISPI_ENABLE), 0);
	dt_down(&t);
}

/* ---- snapshot ------------------------------------------------------------ */

/* Offsets in the saved adapter (display.c's version 1). */
#define SNAP_KIND	4
#define SNAP_REGS	5
#define SNAP_VGA	(SNAP_REGS + 2 * KR_DISPI_NREGS)
#define SNAP_ATT	(SNAP_VGA + 0x20)
#define SNAP_ORDER	(SNAP_ATT + 2)
#define SNAP_VRAM	(SNAP_ORDER + 4)
#define SNAP_USED	(SNAP_VRAM + 4)
#define SNAP_PAGES	(SNAP_USED + KR_DISPLAY_VRAM / 4096 / 8)

/* The PCI bus and the adapter of t, saved. */
static void snap_save(struct dt *t, struct kr_sbuf *pci, struct kr_sbuf *disp)
{
	CHECK_EQ(kr_pci_save(t->m.pci, pci), 0);
	CHECK_EQ(kr_display_save(t->d, disp), 0);
}

static int snap_load(struct dt *t, const struct kr_sbuf *pci, const void *disp, size_t len,
		     char *why)
{
	struct kr_sget g;
	int ret = 0;

	if (pci) {
		kr_sget_init(&g, pci->p, pci->len, "pci");
		ret = kr_pci_load(t->m.pci, &g);
		CHECK_EQ(ret, 0);
	}
	kr_sget_init(&g, disp, len, "display");
	ret = ret ? ret : kr_display_load(t->d, &g);
	if (why)
		strcpy(why, g.why);
	return ret;
}

/* A mode set and panned, the framebuffer big-endian, pixels here and there. */
static void snap_drive(struct dt *t)
{
	bars_on(t);
	dispi_wr(t, KR_DISPI_ID, 0xb0c2);
	set_mode(t, 1024, 768);
	dispi_wr(t, KR_DISPI_VIRT_WIDTH, 1280);
	dispi_wr(t, KR_DISPI_Y_OFFSET, 4);
	dispi_wr(t, KR_DISPI_BANK, 3);
	tm_write(&t->m.mmio, MMIO_ADDR + KR_DISPLAY_QEXT_OFF + 4, 4, KR_DISPLAY_BE);
	tm_write(&t->m.mmio, MMIO_ADDR + KR_DISPLAY_VGA_OFF + 0x14, 1, 0x5c);	/* 0x3d4 */
	tm_write(&t->m.mmio, FB_ADDR + 4 * 1280 * 4 + 4 * 7, 4, 0x563412ff);
	tm_write(&t->m.mmio, FB_ADDR + 4 * 1280 * 700 + 4 * 1000, 4, 0xabcdefff);
	tm_write(&t->m.mmio, FB_ADDR + KR_DISPLAY_VRAM - 8, 8, 0x0123456789abcdefull);
	/* set_mode() left the attribute flip-flop on "data next", unlike a reset. */
}

KR_TEST(display_snapshot_round_trip)
{
	struct dt *a = calloc(1, sizeof(*a)), *c = calloc(1, sizeof(*c));
	struct kr_sbuf pci = { 0 }, disp = { 0 }, again = { 0 };
	struct kr_scanout sa, sc;
	uint32_t fresh_gen;

	dt_up(a, KR_DISPLAY_VGA, true);
	snap_drive(a);
	snap_save(a, &pci, &disp);
	/* Registers, the used-page map and three pages, not 16 MiB. */
	CHECK_EQ(disp.len, SNAP_PAGES + 3 * 4096);
	dt_up(c, KR_DISPLAY_VGA, true);
	kr_display_scanout(c->d, &sc);
	fresh_gen = sc.generation;
	CHECK_EQ(snap_load(c, &pci, disp.p, disp.len, NULL), 0);

	/* The video memory is mapped where BAR 0 was, through the map callback. */
	CHECK_EQ(c->maps, 1);
	CHECK(c->mapped);
	CHECK_EQ(c->map_gpa, FB_ADDR);
	/* The same screen, a new generation for whoever shows it. */
	kr_display_scanout(a->d, &sa);
	kr_display_scanout(c->d, &sc);
	CHECK(sc.on);
	CHECK(sc.generation != fresh_gen);
	CHECK_EQ(sc.width, sa.width);
	CHECK_EQ(sc.height, sa.height);
	CHECK_EQ(sc.bpp, sa.bpp);
	CHECK_EQ(sc.stride, 1280 * 4);
	CHECK_EQ(sc.offset, sa.offset);
	CHECK(sc.big_endian);
	CHECK_EQ(kr_display_pixel(&sc, sc.vram + 4 * 1280 * 4, 7), 0x123456);
	CHECK_EQ(kr_display_pixel(&sc, sc.vram + 4 * 1280 * 700, 1000), 0xefcdab);
	CHECK(!memcmp(sa.vram, sc.vram, KR_DISPLAY_VRAM));
	/* Every register reads the same through the bus. */
	for (unsigned int i = 0; i < KR_DISPI_NREGS; i++)
		CHECK_EQ(dispi_rd(c, i), dispi_rd(a, i));
	for (unsigned int o = 0; o < 0x20; o++)
		if (o != 0x1a)		/* input status 1: reading it resets the flip-flop */
			CHECK_EQ(tm_read(&c->m.mmio, MMIO_ADDR + KR_DISPLAY_VGA_OFF + o, 1),
				 tm_read(&a->m.mmio, MMIO_ADDR + KR_DISPLAY_VGA_OFF + o, 1));
	CHECK_EQ(tm_read(&c->m.mmio, MMIO_ADDR + KR_DISPLAY_QEXT_OFF + 4, 4), KR_DISPLAY_BE);
	CHECK_EQ(tm_read(&c->m.mmio, FB_ADDR + KR_DISPLAY_VRAM - 8, 8), 0x0123456789abcdefull);
	/* The flip-flop: the next 0x3c0 write is data on both, the one after an index. */
	for (int i = 0; i < 2; i++) {
		struct dt *t = i ? c : a;

		tm_write(&t->m.mmio, MMIO_ADDR + KR_DISPLAY_VGA_OFF, 1, 0x00);
		CHECK_EQ(tm_read(&t->m.mmio, MMIO_ADDR + KR_DISPLAY_VGA_OFF, 1), 0x20);
		tm_write(&t->m.mmio, MMIO_ADDR + KR_DISPLAY_VGA_OFF, 1, 0x00);
		CHECK_EQ(tm_read(&t->m.mmio, MMIO_ADDR + KR_DISPLAY_VGA_OFF, 1), 0x00);
	}
	/* Saved again: the same bytes but for the index just written. */
	CHECK_EQ(kr_display_save(c->d, &again), 0);
	CHECK_EQ(again.len, disp.len);
	CHECK_EQ(again.p[SNAP_ATT], 0);
	again.p[SNAP_ATT] = disp.p[SNAP_ATT];
	CHECK(again.len == disp.len && !memcmp(again.p, disp.p, disp.len));
	kr_sbuf_free(&pci);
	kr_sbuf_free(&disp);
	kr_sbuf_free(&again);
	dt_down(a);
	dt_down(c);
	free(a);
	free(c);
}

/* Load b with the n bytes at `at` replaced by v: the reason, or "" when taken. */
static const char *snap_crafted(struct dt *t, const struct kr_sbuf *b, size_t at,
				unsigned int n, uint32_t v)
{
	static char why[160];
	uint8_t *p = malloc(b->len);

	memcpy(p, b->p, b->len);
	kr_put_le(p + at, n, v);
	if (!snap_load(t, NULL, p, b->len, why))
		why[0] = 0;
	free(p);
	return why;
}

KR_TEST(display_snapshot_refused)
{
	struct dt *a = calloc(1, sizeof(*a)), *c = calloc(1, sizeof(*c));
	struct kr_sbuf pci = { 0 }, disp = { 0 };
	unsigned int wrong = 0;
	struct kr_scanout s;
	char why[160];

	dt_up(a, KR_DISPLAY_BOCHS, false);
	snap_drive(a);
	snap_save(a, &pci, &disp);
	dt_up(c, KR_DISPLAY_BOCHS, false);
	for (size_t len = 0; len < disp.len; len++)
		wrong += snap_load(c, NULL, disp.p, len, NULL) != -EPROTO;
	CHECK_EQ(wrong, 0);
	CHECK_EQ(snap_load(c, NULL, disp.p, SNAP_PAGES + 4096, why), -EPROTO);
	CHECK_STR(why, "display: truncated state");
	CHECK_STR(snap_crafted(c, &disp, 0, 4, 2),
		  "display: state version 2, this khv-run reads 1");
	CHECK_STR(snap_crafted(c, &disp, SNAP_KIND, 1, KR_DISPLAY_VGA),
		  "display: VGA adapter in the snapshot, bochs-display here");
	CHECK_STR(snap_crafted(c, &disp, SNAP_KIND, 1, 7),
		  "display: unknown adapter in the snapshot, bochs-display here");
	/* Register values the adapter never takes. */
	CHECK_STR(snap_crafted(c, &disp, SNAP_REGS + 2 * KR_DISPI_ID, 2, 0xb0c6),
		  "display: dispi register 0 cannot hold 0xb0c6");
	CHECK_STR(snap_crafted(c, &disp, SNAP_REGS + 2 * KR_DISPI_XRES, 2, 0),
		  "display: dispi register 1 cannot hold 0x0000");
	CHECK_STR(snap_crafted(c, &disp, SNAP_REGS + 2 * KR_DISPI_YRES, 2, 8193),
		  "display: dispi register 2 cannot hold 0x2001");
	CHECK_STR(snap_crafted(c, &disp, SNAP_REGS + 2 * KR_DISPI_BPP, 2, 12),
		  "display: dispi register 3 cannot hold 0x000c");
	CHECK_STR(snap_crafted(c, &disp, SNAP_REGS + 2 * KR_DISPI_ENABLE, 2, 0x141),
		  "display: dispi register 4 cannot hold 0x0141");
	CHECK_STR(snap_crafted(c, &disp, SNAP_REGS + 2 * KR_DISPI_VIRT_HEIGHT, 2, 768),
		  "display: dispi register 7 cannot hold 0x0300");
	CHECK_STR(snap_crafted(c, &disp, SNAP_REGS + 2 * KR_DISPI_VIDEO_MEM_64K, 2, 1),
		  "display: dispi register 10 cannot hold 0x0001");
	CHECK_STR(snap_crafted(c, &disp, SNAP_VGA, 1, 0x20), "display: VGA port 0x3c0 holds 0x20");
	CHECK_STR(snap_crafted(c, &disp, SNAP_ATT, 1, 0x40),
		  "display: attribute controller index 0x40");
	CHECK_STR(snap_crafted(c, &disp, SNAP_ATT + 1, 1, 2), "display: a flag reads 2");
	CHECK_STR(snap_crafted(c, &disp, SNAP_ORDER, 4, 0x12345678),
		  "display: framebuffer byte order 0x12345678");
	CHECK_STR(snap_crafted(c, &disp, SNAP_VRAM, 4, 8u << 20),
		  "display: 8388608 bytes of video memory in the snapshot, 16777216 here");
	/* A page map naming more pages than follow, or fewer. */
	CHECK_STR(snap_crafted(c, &disp, SNAP_USED, 1, 0xff), "display: truncated state");
	CHECK_STR(snap_crafted(c, &disp, SNAP_USED + 511, 1, 0),
		  "display: 4096 bytes of state left over");
	/* Nothing was taken on the way: the fresh adapter's registers and memory. */
	bars_on(c);
	CHECK_EQ(dispi_rd(c, KR_DISPI_XRES), 640);
	CHECK_EQ(dispi_rd(c, KR_DISPI_ID), KR_DISPI_ID5);
	kr_display_scanout(c->d, &s);
	for (size_t i = 0; i < KR_DISPLAY_VRAM; i++)
		wrong += s.vram[i] != 0;
	CHECK_EQ(wrong, 0);
	/* And the real thing loads. */
	CHECK_EQ(snap_load(c, NULL, disp.p, disp.len, NULL), 0);
	CHECK_EQ(dispi_rd(c, KR_DISPI_XRES), 1024);
	kr_sbuf_free(&pci);
	kr_sbuf_free(&disp);
	dt_down(a);
	dt_down(c);
	free(a);
	free(c);
}
