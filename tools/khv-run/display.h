/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A display adapter: the Bochs/QEMU "dispi" interface on a PCI function
 * with ID 1234:1111, as QEMU's bochs-display and std VGA present it.  Debian's
 * guest kernel drives it with its bochs DRM driver (bochs.ko), and fbcon
 * then draws the console on it.
 *
 * BAR 0 is the video memory (KR_DISPLAY_VRAM, prefetchable): host memory
 * the machine maps into the guest as a memory slot wherever the guest puts
 * the BAR (the map callback), so that drawing costs no exit.  While it is
 * not mapped (memory decoding off, or in the unit tests) accesses exit and
 * the BAR's handler reads and writes the same memory.  BAR 2 (4 KiB MMIO)
 * holds, at QEMU's offsets, what the driver looks for: an EDID block at 0
 * (none here: it reads zeros, and the driver offers its own list of
 * modes), the VGA registers 0x3c0-0x3df at 0x400 (kept, only the attribute
 * controller's "palette on" bit means something: off = blanked), the
 * dispi registers at 0x500 (16 bits each) and QEMU's extension registers
 * at 0x600 (size, framebuffer byte order).
 *
 * What it does not have: VGA text mode and the legacy 0xa0000 window, the
 * 0x1ce/0x1cf dispi ports and a VGA BIOS.  khv-run boots kernels directly,
 * Linux finds the adapter by PCI, and the driver uses the MMIO BAR when
 * there is one.  Scanout of 8-bit palette modes is not done (the screen
 * stays black); 15, 16, 24 and 32 bits per pixel are.
 *
 * Locking: d->lock covers the registers; kr_display_scanout() copies them
 * under it, on any thread (the VNC server's).  The video memory has no
 * lock: the guest writes it while the VNC server reads it, as a real
 * adapter's scanout does; a frame may show half of a change, the next one
 * shows the rest.  map() is called with d->lock held, on the thread that
 * moved the BAR (a vCPU's, or kr_pci_reset()'s).
 */
#ifndef KHV_RUN_DISPLAY_H
#define KHV_RUN_DISPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "pci.h"
#include "snapfield.h"

#define KR_DISPLAY_VENDOR	0x1234
#define KR_DISPLAY_DEVICE	0x1111
#define KR_DISPLAY_VRAM		(16u << 20)	/* 16 MiB: 2560x1600x32 twice */
#define KR_DISPLAY_MMIO_SIZE	0x1000u
#define KR_DISPLAY_MAX_XRES	8192u
#define KR_DISPLAY_MAX_YRES	8192u

/* BAR 2 layout. */
#define KR_DISPLAY_VGA_OFF	0x400u	/* VGA port 0x3c0 + n at 0x400 + n */
#define KR_DISPLAY_DISPI_OFF	0x500u	/* dispi register n at 0x500 + 2n */
#define KR_DISPLAY_QEXT_OFF	0x600u
#define KR_DISPLAY_QEXT_SIZE	8u	/* size register, byte-order register */

/* dispi registers (index) and values */
#define KR_DISPI_ID		0x0
#define KR_DISPI_XRES		0x1
#define KR_DISPI_YRES		0x2
#define KR_DISPI_BPP		0x3
#define KR_DISPI_ENABLE		0x4
#define KR_DISPI_BANK		0x5
#define KR_DISPI_VIRT_WIDTH	0x6
#define KR_DISPI_VIRT_HEIGHT	0x7
#define KR_DISPI_X_OFFSET	0x8
#define KR_DISPI_Y_OFFSET	0x9
#define KR_DISPI_VIDEO_MEM_64K	0xa
#define KR_DISPI_NREGS		0xb
#define KR_DISPI_ID0		0xb0c0
#define KR_DISPI_ID5		0xb0c5
#define KR_DISPI_ENABLED	0x01
#define KR_DISPI_GETCAPS	0x02
#define KR_DISPI_8BIT_DAC	0x20
#define KR_DISPI_LFB_ENABLED	0x40
#define KR_DISPI_NOCLEARMEM	0x80

#define KR_DISPLAY_LE		0x1e1e1e1eu	/* framebuffer byte order values */
#define KR_DISPLAY_BE		0xbebebebeu

enum kr_display_kind {
	KR_DISPLAY_BOCHS,	/* class 0x0380 ("other display"), as bochs-display */
	KR_DISPLAY_VGA,		/* class 0x0300 (VGA compatible), as std VGA minus VGA */
};

struct kr_display_params {
	enum kr_display_kind kind;
	/*
	 * Make [gpa, gpa + size) guest memory backed by hva (map true), or
	 * undo the previous mapping (map false).  0 or -errno; on failure
	 * accesses keep exiting to the BAR handler, which still works.  NULL
	 * in the unit tests.
	 */
	int (*map)(void *opaque, bool map, uint64_t gpa, uint64_t size, void *hva);
	void *opaque;
};

/* What the screen shows now: a copy, valid until the guest changes mode. */
struct kr_scanout {
	bool on;		/* enabled, unblanked, a mode scanout can show */
	unsigned int width, height;
	unsigned int bpp;	/* 15, 16, 24 or 32 */
	unsigned int stride;	/* bytes per line */
	uint64_t offset;	/* of the top left pixel in the video memory */
	bool big_endian;	/* 32 bpp: B G R X in memory rather than X R G B */
	const uint8_t *vram;	/* KR_DISPLAY_VRAM bytes; the frame is in it */
	uint32_t generation;	/* changes with every mode change */
};

struct kr_display;

/* Plug it into pci (slot < 0: first free).  NULL + errno. */
struct kr_display *kr_display_create(struct kr_pci *pci, int slot,
				     const struct kr_display_params *p);
/* After the vCPUs stopped and the map was undone by the machine.  NULL ok. */
void kr_display_destroy(struct kr_display *d);
void kr_display_scanout(struct kr_display *d, struct kr_scanout *s);

/*
 * The pixel at column x of a scanout line as 0x00RRGGBB (x < s->width).
 * line: the line's first byte (s->vram + s->offset + y * s->stride).
 */
uint32_t kr_display_pixel(const struct kr_scanout *s, const uint8_t *line, unsigned int x);

/*
 * The adapter's state for a snapshot (snapfield.h's contract): its kind,
 * the dispi registers, the VGA registers and the attribute controller's
 * index and flip-flop, the framebuffer byte order, and the video memory
 * (device memory, not guest RAM: no RAM section carries it), as a bitmap
 * of its 4 KiB pages that are not all zero followed by those pages.  Its
 * PCI side (BARs, command register) is kr_pci_save()'s, and where the
 * memory is mapped follows from it: kr_pci_load() moves BAR 0, which maps
 * the memory through the map callback.  Not saved: what belongs to the
 * VNC server (the generation it compares, its clients), and the host's
 * mapping.  A load refuses register values the adapter never takes (a
 * resolution past the maximums, an unknown depth or byte order...) and
 * changes nothing before all of it was checked; the scanout generation
 * then changes, as after a mode set.
 */
#define KR_DISPLAY_STATE_VERSION	1
/* 0, or -ENOMEM. */
int kr_display_save(struct kr_display *d, struct kr_sbuf *b);
/* 0, or -EPROTO with the reason in g. */
int kr_display_load(struct kr_display *d, struct kr_sget *g);

#endif
