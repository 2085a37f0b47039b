// SPDX-License-Identifier: GPL-2.0
/*
 * The Multiboot v1 loader (multiboot.h), from the Multiboot 0.6.96
 * specification.  The image comes from the user, so it is checked as a
 * hostile input: every field is bounds-checked against the image and every
 * address against the RAM a kernel may use, before anything is copied.
 *
 * A load is a plan (segments with their file ranges and guest addresses,
 * the entry point), checked whole, then carried out: modules go page-aligned
 * after the kernel's highest byte, the info structure in the fixed area.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e820.h"
#include "multiboot.h"

#define PAGE_SIZE	4096ull

/* Required flags (bits 0-15) this loader meets. */
#define MB_FLAGS_KNOWN	(KR_MB_PAGE_ALIGN | KR_MB_MEMORY_INFO)
#define MB_FLAGS_REQ	0xffffu

/* ELF32 constants (the System V ABI and its i386 supplement). */
#define EHDR_SIZE	52
#define PHDR_SIZE	32
#define ET_EXEC		2
#define EM_386		3
#define PT_LOAD		1

/* The info area's layout (offsets from KR_MB_INFO_ADDR). */
#define MBI_SIZE	88
#define MBI_MMAP	0x100	/* KR_E820_MAX entries of 24 bytes */
#define MBI_MODS	0x200	/* KR_MB_MAX_MODS of 16 bytes */
#define MBI_STRINGS	0x400	/* boot loader name, command lines */
#define MMAP_ENTRY	24

_Static_assert(MBI_MMAP >= MBI_SIZE, "info overlaps mmap");
_Static_assert(MBI_MODS >= MBI_MMAP + KR_E820_MAX * MMAP_ENTRY, "mmap overlaps mods");
_Static_assert(MBI_STRINGS >= MBI_MODS + KR_MB_MAX_MODS * 16, "mods overlap strings");
_Static_assert(MBI_STRINGS < KR_MB_INFO_SIZE, "no room for strings");

/* One piece to load: filesz bytes from the image at off, zeros to memsz. */
struct mb_seg {
	uint64_t addr, filesz, memsz, off;
};

struct mb_plan {
	struct mb_seg seg[KR_MB_MAX_SEGS];
	size_t n;
	uint64_t entry;
	uint64_t end;		/* above the highest byte of any segment */
};

struct mb_ctx {
	const struct kr_mem *mem;
	const uint8_t *img;
	size_t len;
	char *why;
	size_t why_len;
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)kr_get_le(p, 4);
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)kr_get_le(p, 2);
}

/* Put "multiboot: " and the reason in c->why; return err. */
__attribute__((format(printf, 3, 4)))
static int fail(const struct mb_ctx *c, int err, const char *fmt, ...)
{
	static const char pre[] = "multiboot: ";
	va_list ap;

	if (!c->why || !c->why_len)
		return err;
	snprintf(c->why, c->why_len, "%s", pre);
	if (c->why_len > sizeof(pre) - 1) {
		va_start(ap, fmt);
		vsnprintf(c->why + sizeof(pre) - 1, c->why_len - (sizeof(pre) - 1), fmt, ap);
		va_end(ap);
	}
	return err;
}

/* The offset of the first valid header, or -1. */
static long mb_find(const uint8_t *img, size_t len)
{
	size_t lim = len < KR_MB_SEARCH ? len : KR_MB_SEARCH;

	for (size_t off = 0; off + 12 <= lim; off += 4) {
		uint32_t magic = le32(img + off), flags = le32(img + off + 4);

		if (magic == KR_MB_HEADER_MAGIC && magic + flags + le32(img + off + 8) == 0)
			return (long)off;
	}
	return -1;
}

bool kr_multiboot_detect(const void *image, size_t len)
{
	return mb_find(image, len) >= 0;
}

/* Whether [addr, addr + len) is in the low RAM a kernel may use. */
static bool mb_fits(const struct kr_mem *m, uint64_t addr, uint64_t len)
{
	return addr >= KR_MB_LOAD_MIN && addr + len >= addr && addr + len <= m->low_size;
}

static int mb_add_seg(struct mb_plan *p, const struct mb_ctx *c, const struct mb_seg *s)
{
	if (!s->memsz)
		return 0;
	if (!mb_fits(c->mem, s->addr, s->memsz))
		return fail(c, -ENOMEM,
			    "segment 0x%llx+0x%llx outside the RAM kernels may use (0x%llx-0x%llx)",
			    (unsigned long long)s->addr, (unsigned long long)s->memsz,
			    KR_MB_LOAD_MIN, (unsigned long long)c->mem->low_size);
	for (size_t i = 0; i < p->n; i++)
		if (s->addr < p->seg[i].addr + p->seg[i].memsz &&
		    p->seg[i].addr < s->addr + s->memsz)
			return fail(c, -ENOEXEC, "segments at 0x%llx and 0x%llx overlap",
				    (unsigned long long)p->seg[i].addr,
				    (unsigned long long)s->addr);
	if (p->n == KR_MB_MAX_SEGS)
		return fail(c, -ENOEXEC, "more than %d loadable segments",
			    KR_MB_MAX_SEGS);
	p->seg[p->n++] = *s;
	if (s->addr + s->memsz > p->end)
		p->end = s->addr + s->memsz;
	return 0;
}

/* Flag 16: the header's own address fields say what to load where. */
static int mb_plan_aout(struct mb_plan *p, const struct mb_ctx *c, size_t hoff)
{
	const uint8_t *h = c->img + hoff;
	uint32_t header_addr, load_addr, load_end, bss_end, entry;
	struct mb_seg s;
	int ret;

	if (hoff + 32 > c->len || hoff + 32 > KR_MB_SEARCH)
		return fail(c, -ENOEXEC, "header address fields cut off");
	header_addr = le32(h + 12);
	load_addr = le32(h + 16);
	load_end = le32(h + 20);
	bss_end = le32(h + 24);
	entry = le32(h + 28);
	if (load_addr > header_addr || header_addr - load_addr > hoff)
		return fail(c, -ENOEXEC, "header_addr 0x%x, load_addr 0x%x and offset %zu disagree",
			    header_addr, load_addr, hoff);
	s.off = hoff - (header_addr - load_addr);
	s.addr = load_addr;
	if (load_end && load_end < load_addr)
		return fail(c, -ENOEXEC, "load_end_addr below load_addr");
	s.filesz = load_end ? load_end - load_addr : c->len - s.off;
	if (s.filesz > c->len - s.off)
		return fail(c, -ENOEXEC, "truncated: 0x%llx bytes to load from offset %llu of %zu",
			    (unsigned long long)s.filesz, (unsigned long long)s.off, c->len);
	s.memsz = s.filesz;
	if (bss_end) {
		if (bss_end < load_addr + s.filesz)
			return fail(c, -ENOEXEC, "bss_end_addr below the loaded data");
		s.memsz = bss_end - load_addr;
	}
	if (entry < load_addr || entry - load_addr >= s.filesz)
		return fail(c, -ENOEXEC, "entry_addr 0x%x outside the loaded image",
			    entry);
	ret = mb_add_seg(p, c, &s);
	if (ret)
		return ret;
	p->entry = entry;
	return 0;
}

static int mb_plan_elf(struct mb_plan *p, const struct mb_ctx *c)
{
	const uint8_t *e = c->img;
	uint32_t phoff, entry;
	uint16_t phnum;
	bool have_entry = false;

	if (c->len < EHDR_SIZE || memcmp(e, "\177ELF", 4))
		return fail(c, -ENOEXEC, "neither ELF nor flagged for the a.out kludge (bit 16)");
	if (e[4] != 1 || e[5] != 1 || e[6] != 1 || le32(e + 20) != 1)
		return fail(c, -ENOEXEC, "not a little-endian ELF32 file (version 1)");
	if (le16(e + 16) != ET_EXEC || le16(e + 18) != EM_386)
		return fail(c, -ENOEXEC, "ELF type %u machine %u: not an i386 executable",
			    le16(e + 16), le16(e + 18));
	entry = le32(e + 24);
	phoff = le32(e + 28);
	phnum = le16(e + 44);
	if (le16(e + 42) != PHDR_SIZE || !phnum || phoff > c->len ||
	    (uint64_t)phnum * PHDR_SIZE > c->len - phoff)
		return fail(c, -ENOEXEC, "bad ELF program header table");
	for (uint16_t i = 0; i < phnum; i++) {
		const uint8_t *ph = e + phoff + (size_t)i * PHDR_SIZE;
		uint32_t vaddr = le32(ph + 8);
		struct mb_seg s = {
			.off = le32(ph + 4), .addr = le32(ph + 12),
			.filesz = le32(ph + 16), .memsz = le32(ph + 20),
		};
		int ret;

		if (le32(ph) != PT_LOAD)
			continue;
		if (s.filesz > s.memsz || s.off > c->len || s.filesz > c->len - s.off)
			return fail(c, -ENOEXEC, "ELF segment %u past the end (truncated?)", i);
		ret = mb_add_seg(p, c, &s);
		if (ret)
			return ret;
		/* The entry may be virtual (a higher-half kernel): map it as its segment. */
		if (!have_entry && entry >= vaddr && entry - vaddr < s.memsz) {
			p->entry = s.addr + (entry - vaddr);
			have_entry = true;
		}
	}
	if (!p->n)
		return fail(c, -ENOEXEC, "no loadable ELF segment");
	if (!have_entry)
		return fail(c, -ENOEXEC, "ELF entry 0x%x is in no segment", entry);
	return 0;
}

static uint64_t page_up(uint64_t a)
{
	return (a + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

static const char *mod_string(const struct kr_mb_module *m)
{
	return m->string ? m->string : m->path ? m->path : "";
}

/* Check what the info area and the modules need before anything is written. */
static int mb_plan_extra(const struct mb_plan *p, const struct mb_ctx *c,
			 const struct kr_mb_args *a)
{
	size_t strings = sizeof("khv-run") + (a->cmdline ? strlen(a->cmdline) + 1 : 0);
	uint64_t at = page_up(p->end);

	if (a->n_mods > KR_MB_MAX_MODS)
		return fail(c, -E2BIG, "%zu modules, at most %d", a->n_mods,
			    KR_MB_MAX_MODS);
	for (size_t i = 0; i < a->n_mods; i++) {
		const struct kr_mb_module *m = &a->mods[i];

		strings += strlen(mod_string(m)) + 1;
		if (m->len > c->mem->low_size)
			return fail(c, -EFBIG, "module %zu is larger than guest RAM", i);
		if (!mb_fits(c->mem, at, m->len))
			return fail(c, -ENOMEM, "module %zu (%zu bytes) does not fit in RAM", i,
				    m->len);
		at = page_up(at + m->len);
	}
	if (strings > KR_MB_INFO_SIZE - MBI_STRINGS)
		return fail(c, -E2BIG, "command lines too long (%zu bytes, %llu at most)", strings,
			    KR_MB_INFO_SIZE - MBI_STRINGS);
	if (!kr_gpa(c->mem, KR_MB_INFO_ADDR, KR_MB_INFO_SIZE))
		return fail(c, -ENOMEM, "guest RAM too small for the info area");
	return 0;
}

/* Copy a string into the info area's string space; its guest address. */
static uint32_t put_str(uint8_t *area, size_t *at, const char *s)
{
	size_t n = strlen(s) + 1;
	uint32_t gpa = KR_MB_INFO_ADDR + *at;

	memcpy(area + *at, s, n);
	*at += n;
	return gpa;
}

static void mb_write_info(const struct mb_ctx *c, const struct kr_mb_args *a,
			  const uint64_t *mod_addr)
{
	uint8_t *area = kr_gpa(c->mem, KR_MB_INFO_ADDR, KR_MB_INFO_SIZE);
	struct kr_e820_entry e[KR_E820_MAX];
	size_t n = kr_e820_build(c->mem, e, KR_E820_MAX), str = MBI_STRINGS;
	uint32_t flags = KR_MBI_MEMORY | KR_MBI_MODS | KR_MBI_MMAP | KR_MBI_LOADER_NAME;

	memset(area, 0, KR_MB_INFO_SIZE);
	/* mem_lower: KiB below the EBDA; mem_upper: KiB from 1 MiB to the first hole. */
	kr_put_le(area + 4, 4, KR_EBDA_START / 1024);
	kr_put_le(area + 8, 4, (c->mem->low_size - KR_BIOS_END) / 1024);
	kr_put_le(area + 64, 4, put_str(area, &str, "khv-run"));
	if (a->cmdline) {
		flags |= KR_MBI_CMDLINE;
		kr_put_le(area + 16, 4, put_str(area, &str, a->cmdline));
	}
	kr_put_le(area + 20, 4, a->n_mods);
	kr_put_le(area + 24, 4, KR_MB_INFO_ADDR + MBI_MODS);
	for (size_t i = 0; i < a->n_mods; i++) {
		uint8_t *m = area + MBI_MODS + 16 * i;

		kr_put_le(m, 4, mod_addr[i]);
		kr_put_le(m + 4, 4, mod_addr[i] + a->mods[i].len);	/* one past the end */
		kr_put_le(m + 8, 4, put_str(area, &str, mod_string(&a->mods[i])));
	}
	/* Each entry's size field counts the 20 bytes after it. */
	for (size_t i = 0; i < n; i++) {
		uint8_t *m = area + MBI_MMAP + MMAP_ENTRY * i;

		kr_put_le(m, 4, MMAP_ENTRY - 4);
		kr_put_le(m + 4, 8, e[i].addr);
		kr_put_le(m + 12, 8, e[i].size);
		kr_put_le(m + 20, 4, e[i].type);
	}
	kr_put_le(area + 44, 4, n * MMAP_ENTRY);
	kr_put_le(area + 48, 4, KR_MB_INFO_ADDR + MBI_MMAP);
	kr_put_le(area, 4, flags);
}

int kr_multiboot_load_buf(const struct kr_mem *mem, const void *image, size_t len,
			  const struct kr_mb_args *args, struct kr_boot_entry *entry, char *why,
			  size_t why_len)
{
	static const struct kr_mb_args none;
	struct mb_ctx c = { mem, image, len, why, why_len };
	uint64_t mod_addr[KR_MB_MAX_MODS], at;
	struct mb_plan p = { .n = 0 };
	uint32_t flags;
	long hoff;
	int ret;

	if (!args)
		args = &none;
	if (why && why_len)
		why[0] = 0;
	if (len > mem->low_size)
		return fail(&c, -EFBIG, "image of %zu bytes larger than RAM below 4 GiB", len);
	hoff = mb_find(c.img, len);
	if (hoff < 0)
		return fail(&c, -ENOEXEC, "no Multiboot header (magic and checksum) in %d bytes",
			    KR_MB_SEARCH);
	flags = le32(c.img + hoff + 4);
	if (flags & MB_FLAGS_REQ & ~MB_FLAGS_KNOWN)
		return fail(&c, -ENOEXEC, "unsupported required header flags 0x%x%s",
			    flags & MB_FLAGS_REQ & ~MB_FLAGS_KNOWN,
			    flags & KR_MB_VIDEO_MODE ? " (a video mode)" : "");
	if (flags & KR_MB_AOUT_KLUDGE)
		ret = mb_plan_aout(&p, &c, hoff);
	else
		ret = mb_plan_elf(&p, &c);
	if (!ret)
		ret = mb_plan_extra(&p, &c, args);
	if (ret)
		return ret;

	/* Every range below was checked by mb_fits(); kr_gpa() agrees with it. */
	for (size_t i = 0; i < p.n; i++) {
		const struct mb_seg *s = &p.seg[i];
		uint8_t *dst = kr_gpa(mem, s->addr, s->memsz);

		memcpy(dst, c.img + s->off, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	at = page_up(p.end);
	for (size_t i = 0; i < args->n_mods; i++) {
		const struct kr_mb_module *m = &args->mods[i];

		if (m->len)
			memcpy(kr_gpa(mem, at, m->len), m->data, m->len);
		mod_addr[i] = at;
		at = page_up(at + m->len);
	}
	mb_write_info(&c, args, mod_addr);
	*entry = (struct kr_boot_entry){
		.mode = KR_BOOT_PROT32,
		.rip = p.entry,
		.eax = KR_MB_BOOTLOADER_MAGIC,
		.ebx = KR_MB_INFO_ADDR,
	};
	return 0;
}

/* Read a whole regular file of at most max bytes into a new buffer. */
static int read_file(const char *path, uint64_t max, uint8_t **buf, size_t *len,
		     const struct mb_ctx *c)
{
	struct stat st;
	size_t done = 0;
	int fd, err;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		return fail(c, err, "%s: %s", path, strerror(-err));
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(c, -EINVAL, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return fail(c, -EFBIG, "%s: larger than guest RAM below 4 GiB", path);
	}
	*buf = malloc(st.st_size ? st.st_size : 1);
	if (!*buf) {
		close(fd);
		return fail(c, -ENOMEM, "%s: out of memory", path);
	}
	while (done < (size_t)st.st_size) {
		ssize_t r = read(fd, *buf + done, st.st_size - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r ? -errno : -EIO;	/* 0: the file shrank under us */
			close(fd);
			free(*buf);
			*buf = NULL;
			return fail(c, err, "%s: read: %s", path, strerror(-err));
		}
		done += r;
	}
	close(fd);
	*len = done;
	return 0;
}

int kr_multiboot_load(const struct kr_mem *mem, const char *path, const struct kr_mb_args *args,
		      struct kr_boot_entry *entry, char *why, size_t why_len)
{
	struct mb_ctx c = { mem, NULL, 0, why, why_len };
	struct kr_mb_module mods[KR_MB_MAX_MODS];
	struct kr_mb_args a = { 0 };
	uint8_t *img = NULL;
	size_t len, i, n = 0;
	int ret;

	if (args)
		a = *args;
	if (a.n_mods > KR_MB_MAX_MODS)
		return fail(&c, -E2BIG, "%zu modules, at most %d", a.n_mods,
			    KR_MB_MAX_MODS);
	ret = read_file(path, mem->low_size, &img, &len, &c);
	for (i = 0; !ret && i < a.n_mods; i++, n++) {
		uint8_t *data;

		mods[i] = a.mods[i];
		if (!mods[i].path) {
			ret = fail(&c, -EINVAL, "module %zu has no file", i);
			break;
		}
		ret = read_file(a.mods[i].path, mem->low_size, &data, &mods[i].len, &c);
		mods[i].data = data;
	}
	if (!ret) {
		a.mods = mods;
		ret = kr_multiboot_load_buf(mem, img, len, &a, entry, why, why_len);
	}
	for (i = 0; i < n; i++)
		free((void *)mods[i].data);
	free(img);
	return ret;
}
