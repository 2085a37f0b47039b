// SPDX-License-Identifier: GPL-2.0
/*
 * The Multiboot loader (multiboot.c) on images built here by hand (ELF32
 * headers, program headers and Multiboot headers written into a buffer):
 * what lands where in guest RAM, the info structure, the entry state, and
 * every kind of bad image refused without touching guest RAM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../e820.h"
#include "../multiboot.h"
#include "t.h"

#define RAM	(8ull << 20)
#define FILL	0xcc		/* guest RAM before a load */
#define IMG_MAX	0x10000

struct tseg {
	uint32_t type, off, vaddr, paddr, filesz, memsz;
};

struct tmb {
	struct kr_mem mem;
	uint8_t *img;
	size_t len;
	struct kr_boot_entry entry;
	char why[256];
};

static void tmb_init(struct tmb *t)
{
	memset(t, 0, sizeof(*t));
	t->mem.low = malloc(RAM);
	memset(t->mem.low, FILL, RAM);
	t->mem.low_size = RAM;
	t->img = calloc(1, IMG_MAX);
}

static void tmb_fini(struct tmb *t)
{
	free(t->mem.low);
	free(t->img);
}

static void put32(uint8_t *p, uint32_t v)
{
	kr_put_le(p, 4, v);
}

static uint32_t g32(struct tmb *t, uint64_t gpa)
{
	return kr_get_le(t->mem.low + gpa, 4);
}

static uint64_t g64(struct tmb *t, uint64_t gpa)
{
	return kr_get_le(t->mem.low + gpa, 8);
}

static const char *gstr(struct tmb *t, uint64_t gpa)
{
	return (const char *)t->mem.low + gpa;
}

/* What byte j of segment i's file data is. */
static uint8_t pat(size_t i, size_t j)
{
	return (uint8_t)(i * 13 + j * 7 + 1);
}

static void mb_header(uint8_t *p, uint32_t flags)
{
	put32(p, KR_MB_HEADER_MAGIC);
	put32(p + 4, flags);
	put32(p + 8, -(KR_MB_HEADER_MAGIC + flags));
}

/* An ELF32 i386 executable with n program headers and a Multiboot header at hoff. */
static void mk_elf(struct tmb *t, uint32_t entry, const struct tseg *s, size_t n, size_t hoff,
		   uint32_t mbflags)
{
	uint8_t *e = t->img;

	memset(e, 0, IMG_MAX);
	memcpy(e, "\177ELF\1\1\1", 7);
	kr_put_le(e + 16, 2, 2);	/* ET_EXEC */
	kr_put_le(e + 18, 2, 3);	/* EM_386 */
	put32(e + 20, 1);
	put32(e + 24, entry);
	put32(e + 28, 52);		/* e_phoff */
	kr_put_le(e + 40, 2, 52);
	kr_put_le(e + 42, 2, 32);
	kr_put_le(e + 44, 2, n);
	kr_put_le(e + 46, 2, 40);
	t->len = hoff + 12;
	for (size_t i = 0; i < n; i++) {
		uint8_t *ph = e + 52 + 32 * i;

		put32(ph, s[i].type);
		put32(ph + 4, s[i].off);
		put32(ph + 8, s[i].vaddr);
		put32(ph + 12, s[i].paddr);
		put32(ph + 16, s[i].filesz);
		put32(ph + 20, s[i].memsz);
		put32(ph + 24, 7);
		put32(ph + 28, 0x1000);
		for (size_t j = 0; j < s[i].filesz && s[i].off + j < IMG_MAX; j++)
			e[s[i].off + j] = pat(i, j);
		if (s[i].off + s[i].filesz > t->len && s[i].off + s[i].filesz <= IMG_MAX)
			t->len = s[i].off + s[i].filesz;
	}
	mb_header(e + hoff, mbflags);
}

/* The usual test kernel: text+BSS at 1 MiB, data at 2 MiB, header at 0x80. */
static const struct tseg good[] = {
	{ 1, 0x1000, 0x100000, 0x100000, 0x1000, 0x3000 },
	{ 1, 0x2000, 0x200000, 0x200000, 0x200, 0x200 },
	{ 4, 0x3000, 0, 0, 0x10, 0x10 },	/* PT_NOTE: not loaded */
};

static int load(struct tmb *t, const struct kr_mb_args *a)
{
	memset(t->why, 0, sizeof(t->why));
	return kr_multiboot_load_buf(&t->mem, t->img, t->len, a, &t->entry, t->why,
				     sizeof(t->why));
}

static void check_seg(struct tmb *t, size_t i, const struct tseg *s)
{
	size_t bad = 0;

	for (size_t j = 0; j < s->filesz; j++)
		bad += t->mem.low[s->paddr + j] != pat(i, j);
	for (size_t j = s->filesz; j < s->memsz; j++)
		bad += t->mem.low[s->paddr + j] != 0;
	CHECK_EQ(bad, 0);
	CHECK_EQ(t->mem.low[s->paddr + s->memsz], FILL);	/* nothing past it */
	CHECK_EQ(t->mem.low[s->paddr - 1], FILL);
}

KR_TEST(mb_elf_bss)
{
	struct kr_e820_entry e[KR_E820_MAX];
	uint64_t mbi = KR_MB_INFO_ADDR, mmap;
	struct tmb t;
	size_t n;

	tmb_init(&t);
	mk_elf(&t, 0x100010, good, ARRAY_SIZE(good), 0x80, KR_MB_PAGE_ALIGN | KR_MB_MEMORY_INFO);
	CHECK(kr_multiboot_detect(t.img, t.len));
	CHECK_EQ(load(&t, NULL), 0);
	CHECK_STR(t.why, "");
	check_seg(&t, 0, &good[0]);
	check_seg(&t, 1, &good[1]);
	CHECK_EQ(t.entry.mode, KR_BOOT_PROT32);
	CHECK_EQ(t.entry.rip, 0x100010);
	CHECK_EQ(t.entry.eax, KR_MB_BOOTLOADER_MAGIC);
	CHECK_EQ(t.entry.ebx, KR_MB_INFO_ADDR);

	CHECK_EQ(g32(&t, mbi), KR_MBI_MEMORY | KR_MBI_MODS | KR_MBI_MMAP | KR_MBI_LOADER_NAME);
	CHECK_EQ(g32(&t, mbi + 4), 639);
	CHECK_EQ(g32(&t, mbi + 8), (RAM >> 10) - 1024);
	CHECK_EQ(g32(&t, mbi + 20), 0);		/* mods_count */
	CHECK_STR(gstr(&t, g32(&t, mbi + 64)), "khv-run");
	/* mmap: the e820 map, entries of size 20 (the bytes after the size field). */
	n = kr_e820_build(&t.mem, e, KR_E820_MAX);
	CHECK_EQ(g32(&t, mbi + 44), 24 * n);
	mmap = g32(&t, mbi + 48);
	for (size_t i = 0; i < n; i++) {
		CHECK_EQ(g32(&t, mmap), 20);
		CHECK_EQ(g64(&t, mmap + 4), e[i].addr);
		CHECK_EQ(g64(&t, mmap + 12), e[i].size);
		CHECK_EQ(g32(&t, mmap + 20), e[i].type);
		mmap += g32(&t, mmap) + 4;
	}
	/* The info area holds all of it and the kernel is far from it. */
	CHECK(mmap <= KR_MB_INFO_ADDR + KR_MB_INFO_SIZE);
	CHECK(g32(&t, mbi + 64) < KR_MB_INFO_ADDR + KR_MB_INFO_SIZE);
	tmb_fini(&t);
}

KR_TEST(mb_elf_higher_half)
{
	static const struct tseg s[] = { { 1, 0x1000, 0xc0100000, 0x100000, 0x100, 0x100 } };
	struct tmb t;

	tmb_init(&t);
	mk_elf(&t, 0xc0100020, s, 1, 0x80, 0);
	CHECK_EQ(load(&t, NULL), 0);
	CHECK_EQ(t.entry.rip, 0x100020);
	check_seg(&t, 0, &s[0]);
	tmb_fini(&t);
}

/* A raw image with an a.out-kludge header at hoff; file offset 0 loads at base. */
static void mk_aout(struct tmb *t, size_t hoff, uint32_t base, uint32_t load_end,
		    uint32_t bss_end, uint32_t entry, size_t len)
{
	uint8_t *h = t->img + hoff;

	memset(t->img, 0, IMG_MAX);
	for (size_t j = 0; j < len; j++)
		t->img[j] = pat(0, j);
	mb_header(h, KR_MB_AOUT_KLUDGE | KR_MB_MEMORY_INFO);
	put32(h + 12, base + hoff);	/* header_addr */
	put32(h + 16, base);		/* load_addr */
	put32(h + 20, load_end);
	put32(h + 24, bss_end);
	put32(h + 28, entry);
	t->len = len;
}

static bool same_pat(struct tmb *t, uint64_t gpa, size_t off, size_t n)
{
	for (size_t j = 0; j < n; j++)
		if (t->mem.low[gpa + j] != t->img[off + j])
			return false;
	return true;
}

KR_TEST(mb_aout_kludge)
{
	struct tmb t;

	tmb_init(&t);
	/* 0x800 bytes loaded of 0x1000, BSS to 0x102000. */
	mk_aout(&t, 0x40, 0x100000, 0x100800, 0x102000, 0x100080, 0x1000);
	CHECK_EQ(load(&t, NULL), 0);
	CHECK_EQ(t.entry.rip, 0x100080);
	CHECK_EQ(t.entry.eax, KR_MB_BOOTLOADER_MAGIC);
	CHECK(same_pat(&t, 0x100000, 0, 0x800));
	CHECK_EQ(t.mem.low[0x100800], 0);
	CHECK_EQ(t.mem.low[0x101fff], 0);
	CHECK_EQ(t.mem.low[0x102000], FILL);
	CHECK_EQ(t.mem.low[0xfffff], FILL);
	tmb_fini(&t);

	/* load_end 0: the whole file; bss_end 0: no BSS. */
	tmb_init(&t);
	mk_aout(&t, 0x40, 0x300000, 0, 0, 0x300000, 0x1234);
	CHECK_EQ(load(&t, NULL), 0);
	CHECK(same_pat(&t, 0x300000, 0, 0x1234));
	CHECK_EQ(t.mem.low[0x301234], FILL);
	tmb_fini(&t);

	/* Loading from the middle of the file: header_addr - load_addr < the header's offset. */
	tmb_init(&t);
	mk_aout(&t, 0x200, 0x100000, 0, 0, 0x100000, 0x1000);
	put32(t.img + 0x200 + 12, 0x100000 + 0x100);	/* file offset 0x100 loads at 1 MiB */
	CHECK_EQ(load(&t, NULL), 0);
	CHECK(same_pat(&t, 0x100000, 0x100, 0x1000 - 0x100));
	tmb_fini(&t);

	/* Flag 16 wins over the ELF headers. */
	tmb_init(&t);
	mk_elf(&t, 0x100010, good, 2, 0x80, 0);
	{
		uint8_t *h = t.img + 0x80;

		mb_header(h, KR_MB_AOUT_KLUDGE);
		put32(h + 12, 0x400080);
		put32(h + 16, 0x400000);
		put32(h + 20, 0);
		put32(h + 24, 0);
		put32(h + 28, 0x400100);
	}
	CHECK_EQ(load(&t, NULL), 0);
	CHECK_EQ(t.entry.rip, 0x400100);
	CHECK(same_pat(&t, 0x400000, 0, t.len));
	CHECK_EQ(t.mem.low[0x100000], FILL);	/* the ELF segments were not used */
	tmb_fini(&t);
}

KR_TEST(mb_cmdline_modules)
{
	static char m1[5000], m2[3] = { 'a', 'b', 'c' };
	struct kr_mb_module mods[] = {
		{ .data = m1, .len = sizeof(m1), .string = "mod1 arg=1" },
		{ .path = "/boot/m2", .data = m2, .len = sizeof(m2) },
		{ .data = "", .len = 0 },
	};
	struct kr_mb_args a = { "console=ttyS0 quiet", mods, ARRAY_SIZE(mods) };
	uint64_t mbi = KR_MB_INFO_ADDR, mod;
	uint64_t kend = good[1].paddr + good[1].memsz;
	uint32_t s[3], e[3];
	struct tmb t;

	for (size_t i = 0; i < sizeof(m1); i++)
		m1[i] = (char)(i * 31);
	tmb_init(&t);
	mk_elf(&t, 0x100000, good, 2, 0x80, KR_MB_PAGE_ALIGN);
	CHECK_EQ(load(&t, &a), 0);
	CHECK(g32(&t, mbi) & KR_MBI_CMDLINE);
	CHECK_STR(gstr(&t, g32(&t, mbi + 16)), "console=ttyS0 quiet");
	CHECK_EQ(g32(&t, mbi + 20), 3);
	mod = g32(&t, mbi + 24);
	for (int i = 0; i < 3; i++) {
		s[i] = g32(&t, mod + 16 * i);
		e[i] = g32(&t, mod + 16 * i + 4);
		CHECK_EQ(s[i] % 4096, 0);
		CHECK_EQ(e[i] - s[i], mods[i].len);
		CHECK_EQ(g32(&t, mod + 16 * i + 12), 0);	/* reserved */
	}
	CHECK(s[0] >= kend);
	CHECK(s[0] < kend + 4096);
	CHECK_EQ(s[1], (e[0] + 4095) & ~4095u);
	CHECK(s[2] >= e[1]);
	CHECK(e[2] <= RAM);
	CHECK(!memcmp(t.mem.low + s[0], m1, sizeof(m1)));
	CHECK(!memcmp(t.mem.low + s[1], m2, sizeof(m2)));
	CHECK_STR(gstr(&t, g32(&t, mod + 8)), "mod1 arg=1");
	CHECK_STR(gstr(&t, g32(&t, mod + 16 + 8)), "/boot/m2");	/* no string: the path */
	CHECK_STR(gstr(&t, g32(&t, mod + 32 + 8)), "");
	/* Module list and strings inside the info area. */
	CHECK(mod >= KR_MB_INFO_ADDR && mod + 48 <= KR_MB_INFO_ADDR + KR_MB_INFO_SIZE);
	tmb_fini(&t);
}

/* A failed load: an error, a reason, and guest RAM as it was. */
static void check_refused(struct tmb *t, const struct kr_mb_args *a, int err, int line)
{
	size_t changed = 0;
	int ret = load(t, a);

	if (ret != err)
		printf("#   line %d: %d, wanted %d (%s)\n", line, ret, err, t->why);
	CHECK_EQ(ret, err);
	CHECK(strncmp(t->why, "multiboot: ", 11) == 0);
	for (size_t i = 0; i < RAM; i++)
		changed += t->mem.low[i] != FILL;
	CHECK_EQ(changed, 0);
}

#define REFUSED(t, a, err)	check_refused(t, a, err, __LINE__)

KR_TEST(mb_header_search)
{
	static const struct tseg s[] = { { 1, 0x3000, 0x100000, 0x100000, 0x10, 0x10 } };
	struct tmb t;

	tmb_init(&t);
	/* The last place a whole header fits. */
	mk_elf(&t, 0x100000, s, 1, KR_MB_SEARCH - 12, 0);
	CHECK_EQ(load(&t, NULL), 0);
	tmb_fini(&t);
	tmb_init(&t);
	mk_elf(&t, 0x100000, s, 1, KR_MB_SEARCH - 8, 0);	/* straddles 8192 */
	REFUSED(&t, NULL, -ENOEXEC);
	mk_elf(&t, 0x100000, s, 1, 8190, 0);			/* unaligned, straddles */
	REFUSED(&t, NULL, -ENOEXEC);
	CHECK(!kr_multiboot_detect(t.img, t.len));
	mk_elf(&t, 0x100000, s, 1, 0x102, 0);			/* unaligned */
	REFUSED(&t, NULL, -ENOEXEC);
	mk_elf(&t, 0x100000, s, 1, KR_MB_SEARCH + 4, 0);	/* beyond */
	REFUSED(&t, NULL, -ENOEXEC);
	/* Checksum off by one. */
	mk_elf(&t, 0x100000, s, 1, 0x80, 0);
	put32(t.img + 0x88, kr_get_le(t.img + 0x88, 4) + 1);
	REFUSED(&t, NULL, -ENOEXEC);
	CHECK(!kr_multiboot_detect(t.img, t.len));
	/* A bad header first, a good one later: the good one counts. */
	mk_elf(&t, 0x100000, s, 1, 0x100, 0);
	put32(t.img + 0x80, KR_MB_HEADER_MAGIC);
	CHECK_EQ(load(&t, NULL), 0);
	tmb_fini(&t);
	/* Empty and tiny images. */
	tmb_init(&t);
	t.len = 0;
	REFUSED(&t, NULL, -ENOEXEC);
	t.len = 11;
	mb_header(t.img, 0);
	REFUSED(&t, NULL, -ENOEXEC);
	t.len = 12;
	REFUSED(&t, NULL, -ENOEXEC);		/* a header, and nothing to load */
	tmb_fini(&t);
}

KR_TEST(mb_flags)
{
	static const struct tseg s[] = { { 1, 0x1000, 0x100000, 0x100000, 0x10, 0x10 } };
	struct tmb t;

	tmb_init(&t);
	mk_elf(&t, 0x100000, s, 1, 0x80, KR_MB_VIDEO_MODE);
	REFUSED(&t, NULL, -ENOEXEC);
	CHECK(strstr(t.why, "video") != NULL);
	mk_elf(&t, 0x100000, s, 1, 0x80, 1u << 5);
	REFUSED(&t, NULL, -ENOEXEC);
	mk_elf(&t, 0x100000, s, 1, 0x80, 1u << 15);
	REFUSED(&t, NULL, -ENOEXEC);
	/* Unknown optional flags (16-31 but 16) are fine. */
	mk_elf(&t, 0x100000, s, 1, 0x80, 1u << 20 | 1u << 31);
	CHECK_EQ(load(&t, NULL), 0);
	tmb_fini(&t);
}

KR_TEST(mb_bad_elf)
{
	struct tseg s[KR_MB_MAX_SEGS + 1];
	struct tmb t;

	tmb_init(&t);
	/* Not ELF, no kludge. */
	mk_elf(&t, 0x100000, good, 2, 0x80, 0);
	t.img[1] = 'X';
	REFUSED(&t, NULL, -ENOEXEC);
	CHECK(strstr(t.why, "kludge") != NULL);
	/* Shorter than an ELF header. */
	mk_elf(&t, 0x100000, good, 0, 0x20, 0);
	t.len = 0x2c;
	REFUSED(&t, NULL, -ENOEXEC);
	/* Each identification and header field. */
	static const struct {
		size_t off;
		unsigned int size;
		uint32_t v;
	} field[] = {
		{ 4, 1, 2 },		/* ELFCLASS64 */
		{ 5, 1, 2 },		/* big-endian */
		{ 6, 1, 0 },		/* EI_VERSION */
		{ 16, 2, 3 },		/* ET_DYN */
		{ 18, 2, 62 },		/* EM_X86_64 */
		{ 18, 2, 40 },		/* EM_ARM */
		{ 20, 4, 0 },		/* e_version */
		{ 42, 2, 56 },		/* e_phentsize */
		{ 28, 4, 0x10000 },	/* e_phoff past the end */
		{ 28, 4, 0xffffffe0 },
		{ 44, 2, 0 },		/* no program headers */
		{ 44, 2, 0xffff },	/* more than the file holds */
	};
	for (size_t i = 0; i < ARRAY_SIZE(field); i++) {
		mk_elf(&t, 0x100010, good, 2, 0x80, 0);
		kr_put_le(t.img + field[i].off, field[i].size, field[i].v);
		REFUSED(&t, NULL, -ENOEXEC);
	}
	/* Truncated: the file ends inside a segment. */
	mk_elf(&t, 0x100010, good, 2, 0x80, 0);
	t.len -= 1;
	REFUSED(&t, NULL, -ENOEXEC);
	CHECK(strstr(t.why, "truncated") != NULL);
	/* p_offset far beyond, and offset + filesz wrapping 32 bits. */
	memcpy(s, good, sizeof(good));
	s[0].off = 0xfffff000;
	mk_elf(&t, 0x100010, s, 2, 0x80, 0);
	REFUSED(&t, NULL, -ENOEXEC);
	memcpy(s, good, sizeof(good));
	s[0].filesz = 0xffffffff;
	s[0].memsz = 0xffffffff;
	mk_elf(&t, 0x100010, s, 2, 0x80, 0);
	REFUSED(&t, NULL, -ENOEXEC);
	/* filesz > memsz. */
	memcpy(s, good, sizeof(good));
	s[1].memsz = s[1].filesz - 1;
	mk_elf(&t, 0x100010, s, 2, 0x80, 0);
	REFUSED(&t, NULL, -ENOEXEC);
	/* No PT_LOAD. */
	memcpy(s, good, sizeof(good));
	s[0].type = s[1].type = 4;
	mk_elf(&t, 0x100010, s, 2, 0x80, 0);
	REFUSED(&t, NULL, -ENOEXEC);
	/* Entry in no segment (in the BSS counts as in). */
	mk_elf(&t, 0x100000 + 0x3000, good, 2, 0x80, 0);
	REFUSED(&t, NULL, -ENOEXEC);
	mk_elf(&t, 0x100000 + 0x2fff, good, 2, 0x80, 0);
	CHECK_EQ(load(&t, NULL), 0);
	tmb_fini(&t);

	tmb_init(&t);
	/* Overlapping segments, either order, and one inside another. */
	memcpy(s, good, sizeof(good));
	s[1].paddr = 0x102fff;
	mk_elf(&t, 0x100010, s, 2, 0x80, 0);
	REFUSED(&t, NULL, -ENOEXEC);
	CHECK(strstr(t.why, "overlap") != NULL);
	s[1].paddr = 0xfff00;
	s[1].memsz = 0x200;
	mk_elf(&t, 0x100010, s, 2, 0x80, 0);
	REFUSED(&t, NULL, -ENOMEM);	/* also below 1 MiB */
	s[1].paddr = 0x101000;
	mk_elf(&t, 0x100010, s, 2, 0x80, 0);
	REFUSED(&t, NULL, -ENOEXEC);
	/* Touching is fine. */
	s[1].paddr = 0x103000;
	mk_elf(&t, 0x100010, s, 2, 0x80, 0);
	CHECK_EQ(load(&t, NULL), 0);
	tmb_fini(&t);

	tmb_init(&t);
	/* Too many segments. */
	for (size_t i = 0; i < ARRAY_SIZE(s); i++)
		s[i] = (struct tseg){ 1, 0x1000, 0x100000 + 0x1000 * i, 0x100000 + 0x1000 * i,
				      0x10, 0x10 };
	mk_elf(&t, 0x100000, s, KR_MB_MAX_SEGS, 0x1000 + 0x10, 0);
	CHECK_EQ(load(&t, NULL), 0);
	tmb_fini(&t);
	tmb_init(&t);
	mk_elf(&t, 0x100000, s, KR_MB_MAX_SEGS + 1, 0x1000 + 0x10, 0);
	REFUSED(&t, NULL, -ENOEXEC);
	tmb_fini(&t);
}

KR_TEST(mb_placement)
{
	uint32_t bad[][2] = {			/* paddr, memsz */
		{ RAM - 0x800, 0x1000 },	/* past the end of RAM */
		{ RAM, 0x10 },
		{ 0xfffff000, 0x2000 },		/* wraps 32 bits */
		{ 0xc0000000, 0x1000 },		/* the PCI hole */
		{ KR_MB_INFO_ADDR, 0x100 },	/* over the info area */
		{ KR_MB_INFO_ADDR - 0x10, 0x20 },
		{ 0, 0x100 },			/* low memory, the IVT */
		{ KR_BIOS_START, 0x100 },	/* the ACPI tables */
		{ KR_MB_LOAD_MIN - 1, 0x10 },
	};
	struct tseg s[1] = { { 1, 0x1000, 0, 0, 0x10, 0 } };
	struct tmb t;

	tmb_init(&t);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		s[0].paddr = s[0].vaddr = bad[i][0];
		s[0].memsz = bad[i][1];
		mk_elf(&t, bad[i][0], s, 1, 0x80, 0);
		REFUSED(&t, NULL, -ENOMEM);
	}
	/* The last byte of RAM is fine. */
	s[0].paddr = s[0].vaddr = RAM - 0x10;
	s[0].memsz = 0x10;
	mk_elf(&t, RAM - 0x10, s, 1, 0x80, 0);
	CHECK_EQ(load(&t, NULL), 0);
	tmb_fini(&t);
}

KR_TEST(mb_bad_aout)
{
	struct tmb t;

	tmb_init(&t);
	/* load_addr above header_addr. */
	mk_aout(&t, 0x40, 0x100000, 0, 0, 0x100000, 0x1000);
	put32(t.img + 0x40 + 16, 0x100041);
	REFUSED(&t, NULL, -ENOEXEC);
	/* header_addr - load_addr beyond the header's offset: file offset < 0. */
	mk_aout(&t, 0x40, 0x100000, 0, 0, 0x100000, 0x1000);
	put32(t.img + 0x40 + 12, 0x100041 + 0x40);
	REFUSED(&t, NULL, -ENOEXEC);
	/* load_end below load_addr; past the file's end. */
	mk_aout(&t, 0x40, 0x100000, 0xfffff, 0, 0x100000, 0x1000);
	REFUSED(&t, NULL, -ENOEXEC);
	mk_aout(&t, 0x40, 0x100000, 0x101001, 0, 0x100000, 0x1000);
	REFUSED(&t, NULL, -ENOEXEC);
	CHECK(strstr(t.why, "truncated") != NULL);
	/* bss_end below load_end. */
	mk_aout(&t, 0x40, 0x100000, 0x100800, 0x1007ff, 0x100000, 0x1000);
	REFUSED(&t, NULL, -ENOEXEC);
	/* Entry outside the loaded bytes. */
	mk_aout(&t, 0x40, 0x100000, 0x100800, 0x102000, 0x100800, 0x1000);
	REFUSED(&t, NULL, -ENOEXEC);
	mk_aout(&t, 0x40, 0x100000, 0x100800, 0x102000, 0xfffff, 0x1000);
	REFUSED(&t, NULL, -ENOEXEC);
	/* The address fields cut off by the end of the file. */
	mk_aout(&t, 0x40, 0x100000, 0, 0, 0x100000, 0x40 + 28);
	REFUSED(&t, NULL, -ENOEXEC);
	/* ... or by the 8 KiB the header must lie in. */
	mk_aout(&t, KR_MB_SEARCH - 12, 0x100000, 0, 0, 0x100000, KR_MB_SEARCH + 0x100);
	REFUSED(&t, NULL, -ENOEXEC);
	/* Loads below 1 MiB, past RAM, and a BSS wrapping around. */
	mk_aout(&t, 0x40, 0x90000, 0, 0, 0x90000, 0x1000);
	REFUSED(&t, NULL, -ENOMEM);
	mk_aout(&t, 0x40, RAM - 0x800, 0, 0, RAM - 0x800, 0x1000);
	REFUSED(&t, NULL, -ENOMEM);
	mk_aout(&t, 0x40, 0x100000, 0, 0xffffffff, 0x100000, 0x1000);
	REFUSED(&t, NULL, -ENOMEM);
	tmb_fini(&t);
}

KR_TEST(mb_limits)
{
	static struct kr_mb_module mods[KR_MB_MAX_MODS + 1];
	struct kr_mb_args a = { NULL, mods, 0 };
	struct kr_mem small;
	char *longline;
	struct tmb t;

	tmb_init(&t);
	mk_elf(&t, 0x100010, good, 2, 0x80, 0);
	for (size_t i = 0; i < ARRAY_SIZE(mods); i++)
		mods[i] = (struct kr_mb_module){ .data = "x", .len = 1, .string = "m" };
	a.n_mods = KR_MB_MAX_MODS;
	CHECK_EQ(load(&t, &a), 0);
	tmb_fini(&t);

	tmb_init(&t);
	mk_elf(&t, 0x100010, good, 2, 0x80, 0);
	a.n_mods = KR_MB_MAX_MODS + 1;
	REFUSED(&t, &a, -E2BIG);
	/* A module that does not fit after the kernel, one bigger than RAM. */
	mods[0] = (struct kr_mb_module){ .data = t.mem.low, .len = RAM - 0x200000 };
	a.n_mods = 1;
	REFUSED(&t, &a, -ENOMEM);
	mods[0].len = RAM + 1;
	REFUSED(&t, &a, -EFBIG);
	/* Command lines longer than the info area. */
	longline = malloc(KR_MB_INFO_SIZE);
	memset(longline, 'a', KR_MB_INFO_SIZE - 1);
	longline[KR_MB_INFO_SIZE - 1] = 0;
	a = (struct kr_mb_args){ longline, NULL, 0 };
	REFUSED(&t, &a, -E2BIG);
	mods[0] = (struct kr_mb_module){ .data = "", .string = longline + KR_MB_INFO_SIZE / 2 };
	mods[1] = mods[0];
	a = (struct kr_mb_args){ NULL, mods, 2 };
	REFUSED(&t, &a, -E2BIG);
	/* Up to the limit it fits, NUL included (strings start 0x400 into the area). */
	a = (struct kr_mb_args){ longline + 0x400 + sizeof("khv-run") - 1, NULL, 0 };
	REFUSED(&t, &a, -E2BIG);
	a.cmdline++;
	CHECK_EQ(load(&t, &a), 0);
	CHECK_EQ(strlen(gstr(&t, g32(&t, KR_MB_INFO_ADDR + 16))), strlen(a.cmdline));
	CHECK_EQ(t.mem.low[KR_MB_INFO_ADDR + KR_MB_INFO_SIZE - 1], 0);
	CHECK_EQ(t.mem.low[KR_MB_INFO_ADDR + KR_MB_INFO_SIZE], FILL);
	free(longline);
	tmb_fini(&t);

	/* An image larger than RAM below 4 GiB. */
	tmb_init(&t);
	mk_elf(&t, 0x100010, good, 2, 0x80, 0);
	small = t.mem;
	small.low_size = t.len - 1;
	CHECK_EQ(kr_multiboot_load_buf(&small, t.img, t.len, NULL, &t.entry, t.why,
				       sizeof(t.why)), -EFBIG);
	/* A short why buffer still gets a terminated message. */
	memset(t.why, 'z', sizeof(t.why));
	CHECK_EQ(kr_multiboot_load_buf(&small, t.img, t.len, NULL, &t.entry, t.why, 8), -EFBIG);
	CHECK_EQ(strlen(t.why), 7);
	CHECK_EQ(kr_multiboot_load_buf(&small, t.img, t.len, NULL, &t.entry, NULL, 0), -EFBIG);
	tmb_fini(&t);
}

static void write_tmp(char *path, const void *data, size_t len)
{
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_EQ(write(fd, data, len), len);
	close(fd);
}

KR_TEST(mb_files)
{
	char kpath[] = "/tmp/kr-mb-kXXXXXX", mpath[] = "/tmp/kr-mb-mXXXXXX";
	struct kr_mb_module mods[] = { { .path = mpath, .string = "initrd" } };
	struct kr_mb_args a = { "x", mods, 1 };
	int fds = t_count_fds();
	uint64_t mod;
	struct tmb t;

	tmb_init(&t);
	mk_elf(&t, 0x100010, good, 2, 0x80, 0);
	write_tmp(kpath, t.img, t.len);
	write_tmp(mpath, "module!", 7);
	CHECK_EQ(kr_multiboot_load(&t.mem, kpath, &a, &t.entry, t.why, sizeof(t.why)), 0);
	CHECK_EQ(t.entry.rip, 0x100010);
	check_seg(&t, 0, &good[0]);
	mod = g32(&t, KR_MB_INFO_ADDR + 24);
	CHECK(!memcmp(t.mem.low + g32(&t, mod), "module!", 7));
	CHECK_STR(gstr(&t, g32(&t, mod + 8)), "initrd");

	CHECK_EQ(kr_multiboot_load(&t.mem, "/nonexistent/k", &a, &t.entry, t.why, sizeof(t.why)),
		 -ENOENT);
	CHECK(strstr(t.why, "/nonexistent/k") != NULL);
	CHECK_EQ(kr_multiboot_load(&t.mem, "/tmp", &a, &t.entry, t.why, sizeof(t.why)), -EINVAL);
	mods[0].path = "/nonexistent/m";
	CHECK_EQ(kr_multiboot_load(&t.mem, kpath, &a, &t.entry, t.why, sizeof(t.why)), -ENOENT);
	mods[0].path = NULL;
	CHECK_EQ(kr_multiboot_load(&t.mem, kpath, &a, &t.entry, t.why, sizeof(t.why)), -EINVAL);
	/* A file larger than RAM below 4 GiB is not read. */
	{
		struct kr_mem small = t.mem;

		small.low_size = 4;
		CHECK_EQ(kr_multiboot_load(&small, mpath, NULL, &t.entry, t.why, sizeof(t.why)),
			 -EFBIG);
	}
	/* The loader's errors come through. */
	t.img[1] = 'X';
	unlink(kpath);
	strcpy(kpath, "/tmp/kr-mb-kXXXXXX");
	write_tmp(kpath, t.img, t.len);
	CHECK_EQ(kr_multiboot_load(&t.mem, kpath, NULL, &t.entry, t.why, sizeof(t.why)),
		 -ENOEXEC);
	CHECK_EQ(t_count_fds(), fds);
	unlink(kpath);
	unlink(mpath);
	tmb_fini(&t);
}
