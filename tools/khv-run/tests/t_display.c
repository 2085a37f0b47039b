// SPDX-License-Identifier: GPL-2.0
/*
 * The display adapter (display.c) as Linux's bochs driver sees it: PCI
 * identity and BARs, the dispi registers through the MMIO BAR, a mode set
 * the way the driver sets one, the scanout that results, and the video
 * memory mapped (or not) where the guest puts BAR 0.
 */
#include <errno.h>
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
