// SPDX-License-Identifier: GPL-2.0
/*
 * PVH boot of an uncompressed ELF kernel (a vmlinux built with CONFIG_PVH):
 * facts from Xen's public arch-x86/hvm/start_info.h and its PVH boot
 * document.  The kernel names its 32-bit entry point in an ELF note (owner
 * "Xen", type XEN_ELFNOTE_PHYS32_ENTRY); the loader copies the PT_LOAD
 * segments to their physical addresses, writes a struct hvm_start_info
 * (command line, modules, memory map, RSDP) and enters in 32-bit protected
 * mode, paging off, EBX = that structure.  No firmware, no decompressor.
 *
 * Every ELF field is outside input: headers, segments and notes are checked
 * against the file and against guest RAM before anything is copied.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "machine.h"

#define ELF_MAGIC		"\177ELF"
#define ELFCLASS64		2
#define ELFDATA2LSB		1
#define EM_X86_64		62
#define PT_LOAD			1
#define PT_NOTE			4
#define EHDR_SIZE		64
#define PHDR_SIZE		56
#define MAX_PHDRS		64
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* struct hvm_start_info (version 1) and its tables. */
#define SI_MAGIC		0x336ec578
#define SI_SIZE			56
#define MOD_SIZE		32
#define MEMMAP_ENTRY_SIZE	24
#define SI_ADDR			KR_ZERO_PAGE		/* the same page Linux's zero page uses */
#define MODLIST_ADDR		(SI_ADDR + 0x40)
#define MEMMAP_ADDR		(SI_ADDR + 0x80)
#define MEMMAP_MAX		((0x1000 - 0x80) / MEMMAP_ENTRY_SIZE)

bool kr_pvh_detect(const uint8_t *img, size_t len)
{
	return len >= EHDR_SIZE && !memcmp(img, ELF_MAGIC, 4) && img[4] == ELFCLASS64 &&
	       img[5] == ELFDATA2LSB && kr_get_le(img + 18, 2) == EM_X86_64;
}

/* The PHYS32_ENTRY note in [off, off + size) of the file; 0 when none. */
static uint32_t pvh_note_entry(const uint8_t *img, uint64_t off, uint64_t size)
{
	uint64_t p = off, end = off + size;

	while (p + 12 <= end) {
		uint32_t namesz = kr_get_le(img + p, 4), descsz = kr_get_le(img + p + 4, 4);
		uint32_t type = kr_get_le(img + p + 8, 4);
		uint64_t name = p + 12, desc = name + ((namesz + 3ull) & ~3ull);
		uint64_t next = desc + ((descsz + 3ull) & ~3ull);

		if (next > end || next <= p)
			return 0;
		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
		    !memcmp(img + name, "Xen", 4) && descsz >= 4)
			return kr_get_le(img + desc, 4);
		p = next;
	}
	return 0;
}

int kr_pvh_load(const struct kr_mem *m, const struct kr_linux_args *a,
		struct kr_boot_entry *entry, char why[KR_WHY_LEN])
{
	const uint8_t *img = a->kernel;
	uint64_t phoff, kernel_end = 0, initrd_addr = 0;
	uint32_t entry32 = 0, phnum, phentsize;
	size_t cmd_len = strlen(a->cmdline);
	uint8_t *si;

	if (!kr_pvh_detect(img, a->kernel_len))
		return kr_boot_fail(why, -ENOEXEC, "not an x86-64 ELF kernel");
	phoff = kr_get_le(img + 32, 8);
	phentsize = kr_get_le(img + 54, 2);
	phnum = kr_get_le(img + 56, 2);
	if (phentsize != PHDR_SIZE || !phnum || phnum > MAX_PHDRS ||
	    phoff > a->kernel_len || (uint64_t)phnum * PHDR_SIZE > a->kernel_len - phoff)
		return kr_boot_fail(why, -ENOEXEC, "corrupt ELF program headers");

	/* The note first: an ELF file that is no PVH kernel gets that answer. */
	for (uint32_t i = 0; i < phnum && !entry32; i++) {
		const uint8_t *ph = img + phoff + (uint64_t)i * PHDR_SIZE;
		uint64_t off = kr_get_le(ph + 8, 8), filesz = kr_get_le(ph + 32, 8);

		if (kr_get_le(ph, 4) == PT_NOTE && off <= a->kernel_len &&
		    filesz <= a->kernel_len - off)
			entry32 = pvh_note_entry(img, off, filesz);
	}
	if (!entry32)
		return kr_boot_fail(why, -ENOEXEC, "an ELF file without a PVH entry note (a "
				"vmlinux built with CONFIG_PVH, or a bzImage, boots)");
	for (uint32_t i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + (uint64_t)i * PHDR_SIZE;
		uint64_t off = kr_get_le(ph + 8, 8), paddr = kr_get_le(ph + 24, 8);
		uint64_t filesz = kr_get_le(ph + 32, 8), memsz = kr_get_le(ph + 40, 8);

		if (kr_get_le(ph, 4) != PT_LOAD || !memsz)
			continue;
		if (off > a->kernel_len || filesz > a->kernel_len - off)
			return kr_boot_fail(why, -ENOEXEC, "truncated ELF: segment %u lies beyond "
					"the end of the file", i);
		if (filesz > memsz || paddr < KR_BIOS_END || !kr_boot_fits(m, paddr, memsz))
			return kr_boot_fail(why, -ENOMEM, "ELF segment %u (%#llx, %llu bytes) is not "
					"in guest RAM above 1 MiB", i,
					(unsigned long long)paddr, (unsigned long long)memsz);
		if (paddr + memsz > kernel_end)
			kernel_end = paddr + memsz;
	}
	if (cmd_len >= KR_CMDLINE_MAX || !kr_boot_fits(m, KR_CMDLINE_ADDR, cmd_len + 1))
		return kr_boot_fail(why, -E2BIG, "the command line has %zu bytes (at most %llu)",
				cmd_len, (unsigned long long)KR_CMDLINE_MAX - 1);
	if (a->e820_entries > MEMMAP_MAX)
		return kr_boot_fail(why, -E2BIG, "%u memory map entries (at most %d)",
				a->e820_entries, (int)MEMMAP_MAX);
	if (a->initrd) {
		uint64_t top = m->low_size;

		if (a->initrd_len > top)
			return kr_boot_fail(why, -ENOMEM, "the initrd is larger than low RAM");
		initrd_addr = (top - a->initrd_len) & ~0xfffull;
		if (initrd_addr < kernel_end)
			return kr_boot_fail(why, -ENOMEM, "no room for a %zu-byte initrd above the "
					"kernel; give the VM more memory", a->initrd_len);
	}
	if (!entry)
		return 0;

	for (uint32_t i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + (uint64_t)i * PHDR_SIZE;
		uint64_t off = kr_get_le(ph + 8, 8), paddr = kr_get_le(ph + 24, 8);
		uint64_t filesz = kr_get_le(ph + 32, 8), memsz = kr_get_le(ph + 40, 8);
		uint8_t *dst;

		if (kr_get_le(ph, 4) != PT_LOAD || !memsz)
			continue;
		dst = kr_gpa(m, paddr, memsz);
		memcpy(dst, img + off, filesz);
		memset(dst + filesz, 0, memsz - filesz);
	}
	memcpy(kr_gpa(m, KR_CMDLINE_ADDR, cmd_len + 1), a->cmdline, cmd_len + 1);
	si = kr_gpa(m, SI_ADDR, 0x1000);
	memset(si, 0, 0x1000);
	/* magic, version, flags, nr_modules, modlist, cmdline, rsdp, memmap, entries */
	kr_put_le(si + 0, 4, SI_MAGIC);
	kr_put_le(si + 4, 4, 1);			/* version 1: with the memory map */
	kr_put_le(si + 24, 8, KR_CMDLINE_ADDR);
	kr_put_le(si + 32, 8, a->rsdp);
	kr_put_le(si + 40, 8, MEMMAP_ADDR);
	kr_put_le(si + 48, 4, a->e820_entries);
	if (a->initrd) {
		uint8_t *mod = si + (MODLIST_ADDR - SI_ADDR);

		memcpy(kr_gpa(m, initrd_addr, a->initrd_len), a->initrd, a->initrd_len);
		kr_put_le(si + 12, 4, 1);
		kr_put_le(si + 16, 8, MODLIST_ADDR);
		kr_put_le(mod + 0, 8, initrd_addr);	/* paddr, size, cmdline (none) */
		kr_put_le(mod + 8, 8, a->initrd_len);
	}
	for (unsigned int i = 0; i < a->e820_entries; i++) {
		const uint8_t *e = (const uint8_t *)a->e820 + i * 20;
		uint8_t *d = si + (MEMMAP_ADDR - SI_ADDR) + i * MEMMAP_ENTRY_SIZE;

		memcpy(d, e, 20);			/* addr, size, type: same order */
	}
	*entry = (struct kr_boot_entry){ .mode = KR_BOOT_PROT32, .rip = entry32, .ebx = SI_ADDR };
	return 0;
}
