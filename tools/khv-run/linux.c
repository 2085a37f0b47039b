// SPDX-License-Identifier: GPL-2.0
/*
 * The Linux x86 boot protocol, 64-bit entry (facts: the kernel's
 * Documentation/arch/x86/boot.rst, "64-bit BOOT PROTOCOL"): no firmware,
 * no real-mode setup code.  The loader fills the zero page (struct
 * boot_params) from the image's setup header plus what a boot loader owns
 * (loader type, command line, initrd, e820, RSDP), copies the protected-mode
 * part of the image to KR_KERNEL_ADDR, and the boot processor enters at its
 * start + 0x200 in long mode with RSI pointing at the zero page.
 *
 * Every field of the image is outside input: sizes and offsets are checked
 * against the file and against guest RAM before anything is copied.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "machine.h"

/* boot_params offsets (Documentation/arch/x86/zero-page.rst). */
#define BP_ACPI_RSDP		0x070
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_SETUP_HDR		0x1f1
#define BP_E820_TABLE		0x2d0
#define BP_E820_MAX		128
#define BP_SIZE			0x1000

/* Setup header fields, as offsets into the image (= into boot_params). */
#define HDR_SETUP_SECTS		0x1f1
#define HDR_SYSSIZE		0x1f4	/* protected-mode code, in 16-byte units */
#define HDR_BOOT_FLAG		0x1fe	/* 0xaa55 */
#define HDR_JUMP		0x200	/* its second byte: end of the header - 0x202 */
#define HDR_MAGIC		0x202	/* "HdrS" */
#define HDR_VERSION		0x206
#define HDR_TYPE_OF_LOADER	0x210
#define HDR_LOADFLAGS		0x211
#define HDR_RAMDISK_IMAGE	0x218
#define HDR_RAMDISK_SIZE	0x21c
#define HDR_HEAP_END_PTR	0x224
#define HDR_CMD_LINE_PTR	0x228
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_KERNEL_ALIGN	0x230
#define HDR_RELOCATABLE		0x234
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define HDR_INIT_SIZE		0x260

#define LOADED_HIGH		0x01
#define CAN_USE_HEAP		0x80
#define XLF_KERNEL_64		0x01
#define LOADER_UNDEFINED	0xff	/* type_of_loader: "undefined" boot loader */
#define ENTRY64_OFFSET		0x200

static uint32_t le(const uint8_t *p, unsigned int size)
{
	return (uint32_t)kr_get_le(p, size);
}

int kr_linux_load(const struct kr_mem *m, const struct kr_linux_args *a,
		  struct kr_boot_entry *entry, char why[KR_WHY_LEN])
{
	const uint8_t *k = a->kernel;
	uint32_t setup_sects, version, hdr_end, init_size, pm_len, cmdline_max;
	uint64_t pm_off, initrd_max, initrd_addr = 0, kernel_end;
	size_t cmd_len = strlen(a->cmdline);
	uint8_t *bp, *dst;

	if (a->kernel_len < 0x300 || le(k + HDR_BOOT_FLAG, 2) != 0xaa55 ||
	    memcmp(k + HDR_MAGIC, "HdrS", 4))
		return kr_boot_fail(why, -ENOEXEC, "neither a bzImage (no boot sector signature or "
				"\"HdrS\" setup header) nor a Multiboot kernel");
	version = le(k + HDR_VERSION, 2);
	/* 2.12: xloadflags, which says whether the 64-bit entry exists. */
	if (version < 0x020c)
		return kr_boot_fail(why, -ENOEXEC, "boot protocol %u.%02u is too old (2.12 needed)",
				version >> 8, version & 0xff);
	if (!(le(k + HDR_XLOADFLAGS, 2) & XLF_KERNEL_64))
		return kr_boot_fail(why, -ENOEXEC, "the kernel has no 64-bit entry point "
				"(a 32-bit kernel?)");
	if (!(k[HDR_LOADFLAGS] & LOADED_HIGH))
		return kr_boot_fail(why, -ENOEXEC, "a zImage (loaded low) is not supported");
	setup_sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
	pm_off = (uint64_t)(setup_sects + 1) * 512;
	hdr_end = 0x202 + k[HDR_JUMP + 1];
	if (pm_off >= a->kernel_len || hdr_end > pm_off || hdr_end > BP_SIZE)
		return kr_boot_fail(why, -ENOEXEC, "truncated or corrupt bzImage (setup of %u "
				"sectors in a %zu-byte file)", setup_sects, a->kernel_len);
	pm_len = a->kernel_len - pm_off;
	/* 2.04+: the header knows how much code follows; a short file is cut. */
	if ((uint64_t)le(k + HDR_SYSSIZE, 4) * 16 > pm_len)
		return kr_boot_fail(why, -ENOEXEC, "truncated bzImage: %u bytes of kernel, the "
				"header says %llu", pm_len,
				(unsigned long long)le(k + HDR_SYSSIZE, 4) * 16);
	init_size = le(k + HDR_INIT_SIZE, 4);
	/* The kernel decompresses in place: it needs init_size from its start. */
	kernel_end = KR_KERNEL_ADDR + (init_size > pm_len ? init_size : pm_len);
	if (!kr_boot_fits(m, KR_KERNEL_ADDR, kernel_end - KR_KERNEL_ADDR))
		return kr_boot_fail(why, -ENOMEM, "the kernel needs %llu MiB of RAM from 1 MiB on; "
				"give the VM more memory",
				(unsigned long long)(kernel_end >> 20) + 1);

	cmdline_max = version >= 0x0206 ? le(k + HDR_CMDLINE_SIZE, 4) : 255;
	if (cmdline_max > KR_CMDLINE_MAX - 1)
		cmdline_max = KR_CMDLINE_MAX - 1;
	if (cmd_len > cmdline_max)
		return kr_boot_fail(why, -E2BIG, "the command line has %zu bytes; this kernel takes "
				"at most %u", cmd_len, cmdline_max);

	if (a->initrd) {
		initrd_max = le(k + HDR_INITRD_ADDR_MAX, 4);
		if (!initrd_max || initrd_max >= m->low_size)
			initrd_max = m->low_size - 1;
		if (a->initrd_len > initrd_max + 1)
			return kr_boot_fail(why, -ENOMEM, "the initrd does not fit below %#llx",
					(unsigned long long)initrd_max);
		initrd_addr = (initrd_max + 1 - a->initrd_len) & ~0xfffull;
		if (initrd_addr < kernel_end || a->initrd_len > 0xffffffffull)
			return kr_boot_fail(why, -ENOMEM, "no room for a %zu-byte initrd above the "
					"kernel in %llu MiB of low RAM; give the VM more memory",
					a->initrd_len, (unsigned long long)(m->low_size >> 20));
	}
	if (a->e820_entries > BP_E820_MAX)
		return kr_boot_fail(why, -E2BIG, "%u e820 entries (boot_params holds %d)",
				a->e820_entries, BP_E820_MAX);

	if (!kr_boot_fits(m, KR_ZERO_PAGE, BP_SIZE) ||
	    !kr_boot_fits(m, KR_CMDLINE_ADDR, cmd_len + 1))
		return kr_boot_fail(why, -ENOMEM, "guest RAM too small for the boot structures");
	/* Nothing is written before everything is known to fit. */
	if (!entry)
		return 0;
	bp = kr_gpa(m, KR_ZERO_PAGE, BP_SIZE);
	if (!bp)	/* m has no memory where its sizes say: a caller's bug */
		return kr_boot_fail(why, -EFAULT, "no guest RAM at the zero page");
	memset(bp, 0, BP_SIZE);
	memcpy(bp + BP_SETUP_HDR, k + BP_SETUP_HDR, hdr_end - BP_SETUP_HDR);
	bp[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	bp[HDR_LOADFLAGS] |= CAN_USE_HEAP;
	kr_put_le(bp + HDR_HEAP_END_PTR, 2, 0xfe00);	/* unused by the 64-bit entry */
	kr_put_le(bp + HDR_CMD_LINE_PTR, 4, KR_CMDLINE_ADDR);
	kr_put_le(bp + BP_EXT_CMD_LINE_PTR, 4, 0);
	memcpy(kr_gpa(m, KR_CMDLINE_ADDR, cmd_len + 1), a->cmdline, cmd_len + 1);
	if (a->initrd) {
		memcpy(kr_gpa(m, initrd_addr, a->initrd_len), a->initrd, a->initrd_len);
		kr_put_le(bp + HDR_RAMDISK_IMAGE, 4, initrd_addr);
		kr_put_le(bp + HDR_RAMDISK_SIZE, 4, a->initrd_len);
		kr_put_le(bp + BP_EXT_RAMDISK_IMAGE, 4, initrd_addr >> 32);
		kr_put_le(bp + BP_EXT_RAMDISK_SIZE, 4, (uint64_t)a->initrd_len >> 32);
	}
	bp[BP_E820_ENTRIES] = a->e820_entries;
	memcpy(bp + BP_E820_TABLE, a->e820, a->e820_entries * 20);
	kr_put_le(bp + BP_ACPI_RSDP, 8, a->rsdp);

	dst = kr_gpa(m, KR_KERNEL_ADDR, pm_len);
	memcpy(dst, k + pm_off, pm_len);

	*entry = (struct kr_boot_entry){
		.mode = KR_BOOT_LONG64,
		.rip = KR_KERNEL_ADDR + ENTRY64_OFFSET,
		.rsi = KR_ZERO_PAGE,
	};
	return 0;
}
