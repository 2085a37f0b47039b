// SPDX-License-Identifier: GPL-2.0
/* pvh.c: an ELF64 kernel with a PVH note, built here by hand. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../boot.h"
#include "../e820.h"
#include "../machine.h"
#include "t.h"

#define RAM		(16ull << 20)
#define LOAD_AT		0x200000ull
#define ENTRY		0x200010u

/* ELF header, 2 program headers (LOAD, NOTE), 32 bytes of code, a note. */
static size_t build(uint8_t *f, bool note, uint64_t load_at, uint64_t memsz)
{
	uint8_t *ph = f + 64;
	size_t code = 64 + 2 * 56, notes = code + 32;

	memset(f, 0, 512);
	memcpy(f, "\177ELF", 4);
	f[4] = 2;				/* 64-bit */
	f[5] = 1;				/* little-endian */
	f[6] = 1;
	kr_put_le(f + 16, 2, 2);		/* ET_EXEC */
	kr_put_le(f + 18, 2, 62);		/* x86-64 */
	kr_put_le(f + 32, 8, 64);		/* phoff */
	kr_put_le(f + 52, 2, 64);
	kr_put_le(f + 54, 2, 56);
	kr_put_le(f + 56, 2, 2);
	kr_put_le(ph, 4, 1);			/* PT_LOAD */
	kr_put_le(ph + 8, 8, code);
	kr_put_le(ph + 24, 8, load_at);
	kr_put_le(ph + 32, 8, 32);
	kr_put_le(ph + 40, 8, memsz);
	memset(f + code, 0x90, 32);
	kr_put_le(ph + 56, 4, 4);		/* PT_NOTE */
	kr_put_le(ph + 56 + 8, 8, notes);
	kr_put_le(ph + 56 + 32, 8, 24);
	/* A note of another type first, then Xen's PHYS32_ENTRY. */
	kr_put_le(f + notes, 4, 4);
	kr_put_le(f + notes + 4, 4, 0);
	kr_put_le(f + notes + 8, 4, note ? 18 : 17);
	memcpy(f + notes + 12, "Xen", 4);
	kr_put_le(f + notes + 16, 4, ENTRY);
	kr_put_le(f + notes + 4, 4, 4);
	kr_put_le(f + notes + 20, 4, 0);
	return notes + 24;
}

KR_TEST(pvh_loads)
{
	uint8_t *ram = calloc(1, RAM), f[512], rd[100];
	struct kr_mem m = { .low = ram, .low_size = RAM };
	struct kr_e820_entry map[KR_E820_MAX];
	struct kr_linux_args a = { .kernel = f, .cmdline = "console=ttyS0", .initrd = rd,
				   .initrd_len = sizeof(rd), .e820 = map, .rsdp = KR_RSDP_ADDR };
	struct kr_boot_entry e;
	char why[KR_WHY_LEN];
	const uint8_t *si = ram + KR_ZERO_PAGE;

	memset(rd, 0x5a, sizeof(rd));
	a.kernel_len = build(f, true, LOAD_AT, 0x1000);
	a.e820_entries = kr_e820_build(&m, map, KR_E820_MAX);
	CHECK(kr_pvh_detect(f, a.kernel_len));
	CHECK_EQ(kr_pvh_load(&m, &a, NULL, why), 0);		/* check only */
	CHECK_EQ(ram[LOAD_AT], 0);
	CHECK_EQ(kr_pvh_load(&m, &a, &e, why), 0);
	CHECK_EQ(e.mode, KR_BOOT_PROT32);
	CHECK_EQ(e.rip, ENTRY);
	CHECK_EQ(e.ebx, KR_ZERO_PAGE);
	CHECK_EQ(ram[LOAD_AT], 0x90);
	CHECK_EQ(ram[LOAD_AT + 32], 0);				/* BSS zeroed */
	CHECK_EQ(kr_get_le(si, 4), 0x336ec578u);
	CHECK_EQ(kr_get_le(si + 4, 4), 1);
	CHECK_EQ(kr_get_le(si + 12, 4), 1);			/* one module */
	CHECK_STR((const char *)ram + kr_get_le(si + 24, 8), "console=ttyS0");
	CHECK_EQ(kr_get_le(si + 32, 8), KR_RSDP_ADDR);
	CHECK_EQ(kr_get_le(si + 48, 4), a.e820_entries);
	{
		const uint8_t *mod = ram + kr_get_le(si + 16, 8);
		const uint8_t *mm = ram + kr_get_le(si + 40, 8);
		uint64_t at = kr_get_le(mod, 8);

		CHECK_EQ(kr_get_le(mod + 8, 8), sizeof(rd));
		CHECK(at >= LOAD_AT + 0x1000 && at + sizeof(rd) <= RAM && !(at & 0xfff));
		CHECK_EQ(ram[at], 0x5a);
		CHECK_EQ(kr_get_le(mm, 8), map[0].addr);		/* 24-byte entries */
		CHECK_EQ(kr_get_le(mm + 24 + 8, 8), map[1].size);
		CHECK_EQ(kr_get_le(mm + 24 * 3 + 16, 4), map[3].type);
	}
	free(ram);
}

KR_TEST(pvh_refuses)
{
	uint8_t *ram = calloc(1, RAM), f[512];
	struct kr_mem m = { .low = ram, .low_size = RAM };
	struct kr_linux_args a = { .kernel = f, .cmdline = "" };
	char why[KR_WHY_LEN];
	size_t n;

	n = build(f, false, LOAD_AT, 0x1000);			/* no PVH note */
	a.kernel_len = n;
	CHECK_EQ(kr_pvh_load(&m, &a, NULL, why), -ENOEXEC);
	CHECK(strstr(why, "PVH") != NULL);
	a.kernel_len = build(f, true, 0x9000, 0x1000);		/* below 1 MiB */
	CHECK_EQ(kr_pvh_load(&m, &a, NULL, why), -ENOMEM);
	a.kernel_len = build(f, true, RAM - 0x800, 0x1000);	/* beyond RAM */
	CHECK_EQ(kr_pvh_load(&m, &a, NULL, why), -ENOMEM);
	a.kernel_len = build(f, true, LOAD_AT, 0x1000) - 200;	/* cut into the code */
	CHECK(kr_pvh_load(&m, &a, NULL, why) < 0);
	f[18] = 3;						/* i386 */
	CHECK(!kr_pvh_detect(f, n));
	CHECK_EQ(kr_pvh_load(&m, &a, NULL, why), -ENOEXEC);
	/* Program headers past the end of the file. */
	a.kernel_len = build(f, true, LOAD_AT, 0x1000);
	kr_put_le(f + 32, 8, 0xfffffffffffffff0ull);
	CHECK_EQ(kr_pvh_load(&m, &a, NULL, why), -ENOEXEC);
	for (size_t i = 0; i < 64; i++)
		CHECK_EQ(ram[LOAD_AT + i], 0);			/* nothing written */
	free(ram);
}
