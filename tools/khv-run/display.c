// SPDX-License-Identifier: GPL-2.0
/*
 * The display adapter (display.h): dispi registers, VRAM in BAR 0, the
 * scanout description the VNC server reads, and the snapshot state.
 *
 * Register semantics follow what the Bochs VBE extension documents and what
 * Linux's bochs driver relies on: the ID register answers the newest ID it
 * was told (0xb0c0..0xb0c5); with GETCAPS set in ENABLE, XRES/YRES/BPP
 * read the maximums; setting ENABLED resets the virtual width to XRES and
 * the offsets to 0 and clears the visible memory unless NOCLEARMEM; the
 * virtual height always follows from the memory size and the line length.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "display.h"

#define VGA_ATT_W	0x00	/* 0x3c0: attribute controller index/data */
#define VGA_IS1_RC	0x1a	/* 0x3da: input status 1, resets the flip-flop */
#define VGA_ATT_PAS	0x20	/* palette address source: the screen is on */
#define VGA_PORTS	0x20

struct kr_display {
	pthread_mutex_t lock;
	struct kr_pci_dev *dev;
	struct kr_display_params p;
	uint8_t *vram;
	uint16_t regs[KR_DISPI_NREGS];
	uint8_t vga[VGA_PORTS];		/* last value written to each port */
	uint8_t att_index;		/* with its PAS bit */
	bool att_data_next;		/* the 0x3c0 flip-flop */
	uint32_t byte_order;
	uint32_t generation;
	bool mapped;
	uint64_t mapped_gpa;
};

static unsigned int bytes_pp(unsigned int bpp)
{
	return (bpp + 7) / 8;
}

static bool bpp_valid(unsigned int bpp)
{
	return bpp == 4 || bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32;
}

/* Bytes per line of the virtual screen (4 bpp: two pixels a byte). */
static uint32_t line_bytes(const struct kr_display *d)
{
	unsigned int bpp = d->regs[KR_DISPI_BPP];

	if (!bpp_valid(bpp))
		return 0;
	if (bpp == 4)
		return d->regs[KR_DISPI_VIRT_WIDTH] / 2;
	return d->regs[KR_DISPI_VIRT_WIDTH] * bytes_pp(bpp);
}

static uint16_t virt_height(const struct kr_display *d)
{
	uint32_t line = line_bytes(d);
	uint32_t h = line ? KR_DISPLAY_VRAM / line : 0;

	return h > 0xffff ? 0xffff : h;
}

static uint16_t dispi_read(struct kr_display *d, unsigned int idx)
{
	bool caps = d->regs[KR_DISPI_ENABLE] & KR_DISPI_GETCAPS;

	switch (idx) {
	case KR_DISPI_XRES:
		return caps ? KR_DISPLAY_MAX_XRES : d->regs[idx];
	case KR_DISPI_YRES:
		return caps ? KR_DISPLAY_MAX_YRES : d->regs[idx];
	case KR_DISPI_BPP:
		return caps ? 32 : d->regs[idx];
	case KR_DISPI_VIRT_HEIGHT:
		return virt_height(d);
	case KR_DISPI_VIDEO_MEM_64K:
		return KR_DISPLAY_VRAM >> 16;
	default:
		return idx < KR_DISPI_NREGS ? d->regs[idx] : 0;
	}
}

static void dispi_enable(struct kr_display *d, uint16_t v)
{
	bool was = d->regs[KR_DISPI_ENABLE] & KR_DISPI_ENABLED;

	d->regs[KR_DISPI_ENABLE] = v & (KR_DISPI_ENABLED | KR_DISPI_GETCAPS | KR_DISPI_8BIT_DAC |
					KR_DISPI_LFB_ENABLED | KR_DISPI_NOCLEARMEM);
	if (!(v & KR_DISPI_ENABLED) || was)
		return;
	/* A new mode: the whole memory is one screen wide, seen from its start. */
	d->regs[KR_DISPI_VIRT_WIDTH] = d->regs[KR_DISPI_XRES];
	d->regs[KR_DISPI_X_OFFSET] = 0;
	d->regs[KR_DISPI_Y_OFFSET] = 0;
	if (!(v & KR_DISPI_NOCLEARMEM)) {
		uint64_t len = (uint64_t)line_bytes(d) * d->regs[KR_DISPI_YRES];

		memset(d->vram, 0, len < KR_DISPLAY_VRAM ? len : KR_DISPLAY_VRAM);
	}
}

static void dispi_write(struct kr_display *d, unsigned int idx, uint16_t v)
{
	switch (idx) {
	case KR_DISPI_ID:
		if (v >= KR_DISPI_ID0 && v <= KR_DISPI_ID5)
			d->regs[idx] = v;
		return;
	case KR_DISPI_XRES:
	case KR_DISPI_YRES:
		if (v && v <= (idx == KR_DISPI_XRES ? KR_DISPLAY_MAX_XRES : KR_DISPLAY_MAX_YRES))
			d->regs[idx] = v;
		break;
	case KR_DISPI_BPP:
		if (!v)
			v = 8;		/* as Bochs: 0 means 8 */
		if (bpp_valid(v))
			d->regs[idx] = v;
		break;
	case KR_DISPI_ENABLE:
		dispi_enable(d, v);
		break;
	case KR_DISPI_VIRT_HEIGHT:
	case KR_DISPI_VIDEO_MEM_64K:
		return;		/* read-only */
	default:
		if (idx >= KR_DISPI_NREGS)
			return;
		d->regs[idx] = v;
		break;
	}
	d->generation++;
}

static uint8_t vga_read(struct kr_display *d, unsigned int port)
{
	switch (port) {
	case VGA_ATT_W:
		return d->att_index;
	case VGA_IS1_RC:
		d->att_data_next = false;
		return 0;
	default:
		return d->vga[port];
	}
}

static void vga_write(struct kr_display *d, unsigned int port, uint8_t v)
{
	if (port != VGA_ATT_W) {
		d->vga[port] = v;
		return;
	}
	if (!d->att_data_next) {
		if ((d->att_index ^ v) & VGA_ATT_PAS)
			d->generation++;
		d->att_index = v & 0x3f;
	}
	d->att_data_next = !d->att_data_next;
}

/* One access to the MMIO BAR; d->lock held. */
static void mmio_access(struct kr_display *d, uint64_t off, uint8_t *data, unsigned int size,
			bool write)
{
	for (unsigned int i = 0; i < size; i++) {
		uint64_t o = off + i;

		if (o >= KR_DISPLAY_VGA_OFF && o < KR_DISPLAY_VGA_OFF + VGA_PORTS) {
			if (write)
				vga_write(d, o - KR_DISPLAY_VGA_OFF, data[i]);
			else
				data[i] = vga_read(d, o - KR_DISPLAY_VGA_OFF);
		} else if (o >= KR_DISPLAY_DISPI_OFF &&
			   o < KR_DISPLAY_DISPI_OFF + 2 * KR_DISPI_NREGS) {
			unsigned int idx = (o - KR_DISPLAY_DISPI_OFF) / 2, sh = (o & 1) * 8;
			uint16_t v = dispi_read(d, idx);

			if (!write) {
				data[i] = v >> sh;
				continue;
			}
			/* A 16-bit write lands whole, after both of its bytes. */
			v = (v & ~(0xff << sh)) | data[i] << sh;
			if (sh == 0 && i + 1 < size) {
				v = (v & 0xff) | data[i + 1] << 8;
				i++;
			}
			dispi_write(d, idx, v);
		} else if (o >= KR_DISPLAY_QEXT_OFF && o < KR_DISPLAY_QEXT_OFF + 8) {
			unsigned int r = (o - KR_DISPLAY_QEXT_OFF) / 4, sh = (o & 3) * 8;
			uint32_t v = r ? d->byte_order : KR_DISPLAY_QEXT_SIZE;

			if (!write) {
				data[i] = v >> sh;
			} else if (r == 1 && sh == 0 && size - i >= 4) {
				v = (uint32_t)kr_get_le(&data[i], 4);
				if (v == KR_DISPLAY_LE || v == KR_DISPLAY_BE) {
					d->generation += v != d->byte_order;
					d->byte_order = v;
				}
				i += 3;
			}
		} else if (!write) {
			data[i] = 0;	/* no EDID; the rest reads as zeros */
		}
	}
}

/* Map the video memory where BAR 0 decodes now, or unmap it; d->lock held. */
static void vram_sync(struct kr_display *d)
{
	uint64_t gpa;
	bool on = kr_pci_bar_addr(d->dev, 0, &gpa);

	if (!d->p.map)
		return;
	if (d->mapped && (!on || gpa != d->mapped_gpa)) {
		d->p.map(d->p.opaque, false, d->mapped_gpa, KR_DISPLAY_VRAM, d->vram);
		d->mapped = false;
	}
	if (on && !d->mapped && !d->p.map(d->p.opaque, true, gpa, KR_DISPLAY_VRAM, d->vram)) {
		d->mapped = true;
		d->mapped_gpa = gpa;
	}
}

static void bar_io(void *opaque, unsigned int bar, uint64_t offset, uint8_t *data,
		   unsigned int size, bool write)
{
	struct kr_display *d = opaque;

	if (bar == 0) {
		/* Not mapped (yet): the same memory, through exits. */
		if (offset + size > KR_DISPLAY_VRAM)
			return;
		if (write)
			memcpy(d->vram + offset, data, size);
		else
			memcpy(data, d->vram + offset, size);
		return;
	}
	pthread_mutex_lock(&d->lock);
	mmio_access(d, offset, data, size, write);
	pthread_mutex_unlock(&d->lock);
}

static void bar_moved(void *opaque, unsigned int bar)
{
	struct kr_display *d = opaque;

	if (bar != 0)
		return;
	pthread_mutex_lock(&d->lock);
	vram_sync(d);
	pthread_mutex_unlock(&d->lock);
}

/* Power-on state, also at a machine reset (the memory keeps its bytes). */
static void regs_reset(struct kr_display *d)
{
	memset(d->regs, 0, sizeof(d->regs));
	memset(d->vga, 0, sizeof(d->vga));
	d->regs[KR_DISPI_ID] = KR_DISPI_ID5;
	d->regs[KR_DISPI_XRES] = 640;
	d->regs[KR_DISPI_YRES] = 480;
	d->regs[KR_DISPI_BPP] = 32;
	d->regs[KR_DISPI_VIRT_WIDTH] = 640;
	/* On from the start: a guest that never writes 0x3c0 still shows. */
	d->att_index = VGA_ATT_PAS;
	d->att_data_next = false;
	d->byte_order = KR_DISPLAY_LE;
	d->generation++;
}

static void dev_reset(void *opaque)
{
	struct kr_display *d = opaque;

	pthread_mutex_lock(&d->lock);
	regs_reset(d);
	pthread_mutex_unlock(&d->lock);
}

static const struct kr_pci_dev_ops display_ops = {
	.bar_io = bar_io,
	.bar_moved = bar_moved,
	.reset = dev_reset,
};

struct kr_display *kr_display_create(struct kr_pci *pci, int slot,
				     const struct kr_display_params *p)
{
	struct kr_pci_dev_config c = {
		.name = "display",
		.vendor_id = KR_DISPLAY_VENDOR, .device_id = KR_DISPLAY_DEVICE,
		/* QEMU's subsystem IDs: the driver then knows the register set. */
		.subsys_vendor_id = 0x1af4, .subsys_id = 0x1100,
		.revision = 2,		/* 2: the QEMU extension registers exist */
		.bar = {
			[0] = { KR_PCI_BAR_MEM32, KR_DISPLAY_VRAM, true },
			[2] = { KR_PCI_BAR_MEM32, KR_DISPLAY_MMIO_SIZE, false },
		},
		.ops = &display_ops,
	};
	struct kr_display *d;
	int err;

	if (!p || (p->kind != KR_DISPLAY_BOCHS && p->kind != KR_DISPLAY_VGA)) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->vram = mmap(NULL, KR_DISPLAY_VRAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (d->vram == MAP_FAILED) {
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	d->p = *p;
	regs_reset(d);
	c.class_code = p->kind == KR_DISPLAY_VGA ? 0x030000 : 0x038000;
	c.opaque = d;
	err = kr_pci_add(pci, slot, &c, &d->dev);
	if (err) {
		kr_display_destroy(d);
		errno = -err;
		return NULL;
	}
	return d;
}

void kr_display_destroy(struct kr_display *d)
{
	if (!d)
		return;
	if (d->mapped && d->p.map)
		d->p.map(d->p.opaque, false, d->mapped_gpa, KR_DISPLAY_VRAM, d->vram);
	munmap(d->vram, KR_DISPLAY_VRAM);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

void kr_display_scanout(struct kr_display *d, struct kr_scanout *s)
{
	unsigned int bpp, bpx;
	uint64_t last;

	memset(s, 0, sizeof(*s));
	s->vram = d->vram;
	pthread_mutex_lock(&d->lock);
	s->generation = d->generation;
	bpp = d->regs[KR_DISPI_BPP];
	s->width = d->regs[KR_DISPI_XRES];
	s->height = d->regs[KR_DISPI_YRES];
	s->bpp = bpp;
	s->stride = line_bytes(d);
	s->big_endian = d->byte_order == KR_DISPLAY_BE;
	bpx = bytes_pp(bpp);
	s->offset = (uint64_t)d->regs[KR_DISPI_Y_OFFSET] * s->stride +
		    (uint64_t)d->regs[KR_DISPI_X_OFFSET] * bpx;
	s->on = (d->regs[KR_DISPI_ENABLE] & KR_DISPI_ENABLED) && (d->att_index & VGA_ATT_PAS) &&
		bpp >= 15 && s->width && s->height &&
		d->regs[KR_DISPI_VIRT_WIDTH] >= s->width;
	pthread_mutex_unlock(&d->lock);
	/* The whole frame inside the memory, or nothing is shown. */
	last = s->offset + (uint64_t)s->stride * (s->height - 1) + (uint64_t)s->width * bpx;
	if (s->on && last > KR_DISPLAY_VRAM)
		s->on = false;
}

uint32_t kr_display_pixel(const struct kr_scanout *s, const uint8_t *line, unsigned int x)
{
	const uint8_t *p;
	uint32_t v;

	switch (s->bpp) {
	case 32:
		p = line + 4 * x;
		if (s->big_endian)	/* BGRX8888: bytes X R G B */
			return (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
	case 24:
		p = line + 3 * x;
		return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
	case 16:
		p = line + 2 * x;
		v = p[0] | p[1] << 8;	/* RGB 5:6:5 */
		return ((v >> 11) & 0x1f) * 255 / 31 << 16 | ((v >> 5) & 0x3f) * 255 / 63 << 8 |
		       (v & 0x1f) * 255 / 31;
	case 15:
		p = line + 2 * x;
		v = p[0] | p[1] << 8;	/* RGB 5:5:5 */
		return ((v >> 10) & 0x1f) * 255 / 31 << 16 | ((v >> 5) & 0x1f) * 255 / 31 << 8 |
		       (v & 0x1f) * 255 / 31;
	default:
		return 0;
	}
}

/* ---- snapshot ------------------------------------------------------------ */

#define VRAM_PAGE	4096u
#define VRAM_PAGES	(KR_DISPLAY_VRAM / VRAM_PAGE)

static const uint8_t zero_page[VRAM_PAGE];

static bool page_used(const uint8_t *vram, unsigned int page)
{
	return memcmp(vram + (size_t)page * VRAM_PAGE, zero_page, VRAM_PAGE) != 0;
}

int kr_display_save(struct kr_display *d, struct kr_sbuf *b)
{
	uint8_t used[VRAM_PAGES / 8] = { 0 };

	pthread_mutex_lock(&d->lock);
	kr_sbuf_begin(b, KR_DISPLAY_STATE_VERSION);
	kr_sbuf_u8(b, d->p.kind);
	for (unsigned int i = 0; i < KR_DISPI_NREGS; i++)
		kr_sbuf_u16(b, d->regs[i]);
	kr_sbuf_bytes(b, d->vga, sizeof(d->vga));
	kr_sbuf_u8(b, d->att_index);
	kr_sbuf_bool(b, d->att_data_next);
	kr_sbuf_u32(b, d->byte_order);
	pthread_mutex_unlock(&d->lock);
	/*
	 * The memory has no lock (display.h) and needs none here: the vCPUs
	 * are paused.  Most of it is zero beyond the visible screen, so only
	 * pages with something in them are written.
	 */
	kr_sbuf_u32(b, KR_DISPLAY_VRAM);
	for (unsigned int p = 0; p < VRAM_PAGES; p++)
		if (page_used(d->vram, p))
			used[p / 8] |= 1u << (p % 8);
	kr_sbuf_bytes(b, used, sizeof(used));
	for (unsigned int p = 0; p < VRAM_PAGES; p++)
		if (used[p / 8] & (1u << (p % 8)))
			kr_sbuf_bytes(b, d->vram + (size_t)p * VRAM_PAGE, VRAM_PAGE);
	return b->oom ? -ENOMEM : 0;
}

/* A value dispi_write() can leave in register idx. */
static bool dispi_loadable(unsigned int idx, uint16_t v)
{
	switch (idx) {
	case KR_DISPI_ID:
		return v >= KR_DISPI_ID0 && v <= KR_DISPI_ID5;
	case KR_DISPI_XRES:
		return v && v <= KR_DISPLAY_MAX_XRES;
	case KR_DISPI_YRES:
		return v && v <= KR_DISPLAY_MAX_YRES;
	case KR_DISPI_BPP:
		return bpp_valid(v);
	case KR_DISPI_ENABLE:
		return !(v & ~(KR_DISPI_ENABLED | KR_DISPI_GETCAPS | KR_DISPI_8BIT_DAC |
			       KR_DISPI_LFB_ENABLED | KR_DISPI_NOCLEARMEM));
	case KR_DISPI_VIRT_HEIGHT:
	case KR_DISPI_VIDEO_MEM_64K:
		return !v;		/* computed when read, never kept */
	default:
		return true;		/* bank, virtual width, offsets: any value */
	}
}

static const char *kind_name(unsigned int kind)
{
	switch (kind) {
	case KR_DISPLAY_BOCHS:
		return "bochs-display";
	case KR_DISPLAY_VGA:
		return "VGA";
	default:
		return "unknown";
	}
}

int kr_display_load(struct kr_display *d, struct kr_sget *g)
{
	uint8_t vga[VGA_PORTS], used[VRAM_PAGES / 8], kind, att_index;
	uint16_t regs[KR_DISPI_NREGS];
	uint32_t byte_order, vram;
	const uint8_t *pages;
	size_t n = 0;
	bool att_data_next;

	if (kr_sget_begin(g, KR_DISPLAY_STATE_VERSION))
		return -EPROTO;
	kind = kr_sget_u8(g);
	for (unsigned int i = 0; i < KR_DISPI_NREGS; i++)
		regs[i] = kr_sget_u16(g);
	kr_sget_bytes(g, vga, sizeof(vga));
	att_index = kr_sget_u8(g);
	att_data_next = kr_sget_bool(g);
	byte_order = kr_sget_u32(g);
	vram = kr_sget_u32(g);
	kr_sget_bytes(g, used, sizeof(used));
	if (g->bad)
		return -EPROTO;
	if (kind != d->p.kind)
		return kr_sget_fail(g, "%s adapter in the snapshot, %s here",
				    kind_name(kind), kind_name(d->p.kind));
	for (unsigned int i = 0; i < KR_DISPI_NREGS; i++)
		if (!dispi_loadable(i, regs[i]))
			return kr_sget_fail(g, "dispi register %u cannot hold 0x%04x", i, regs[i]);
	if (vga[VGA_ATT_W])		/* its writes go to att_index */
		return kr_sget_fail(g, "VGA port 0x3c0 holds 0x%02x", vga[VGA_ATT_W]);
	if (att_index & ~0x3f)
		return kr_sget_fail(g, "attribute controller index 0x%02x", att_index);
	if (byte_order != KR_DISPLAY_LE && byte_order != KR_DISPLAY_BE)
		return kr_sget_fail(g, "framebuffer byte order 0x%08x", byte_order);
	if (vram != KR_DISPLAY_VRAM)
		return kr_sget_fail(g, "%u bytes of video memory in the snapshot, %u here", vram,
				    KR_DISPLAY_VRAM);
	for (unsigned int p = 0; p < VRAM_PAGES; p++)
		n += !!(used[p / 8] & (1u << (p % 8)));
	/* The pages stay in g's bytes until the whole state was taken. */
	if (n * VRAM_PAGE > g->len - g->off)
		return kr_sget_fail(g, "truncated state");
	pages = g->p + g->off;
	g->off += n * VRAM_PAGE;
	if (kr_sget_done(g))
		return -EPROTO;

	for (unsigned int p = 0; p < VRAM_PAGES; p++) {
		uint8_t *to = d->vram + (size_t)p * VRAM_PAGE;

		if (used[p / 8] & (1u << (p % 8))) {
			memcpy(to, pages, VRAM_PAGE);
			pages += VRAM_PAGE;
		} else if (page_used(d->vram, p)) {	/* reading a clean page costs no memory */
			memset(to, 0, VRAM_PAGE);
		}
	}
	pthread_mutex_lock(&d->lock);
	memcpy(d->regs, regs, sizeof(d->regs));
	memcpy(d->vga, vga, sizeof(d->vga));
	d->att_index = att_index;
	d->att_data_next = att_data_next;
	d->byte_order = byte_order;
	d->generation++;	/* a new mode, for whoever shows the screen */
	pthread_mutex_unlock(&d->lock);
	return 0;
}
