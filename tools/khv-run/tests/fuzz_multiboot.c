// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for the Multiboot loader (multiboot.c): any bytes as a kernel
 * image, with their tail as a module.  Checks, beyond the sanitizers, that a
 * load that succeeds starts the kernel inside the RAM it may use and leaves
 * the info structure where the registers say.
 *   clang -fsanitize=fuzzer,address,undefined -I.. fuzz_multiboot.c \
 *         ../multiboot.c ../e820.c
 */
#include <stdlib.h>
#include <string.h>

#include "../multiboot.h"

#define RAM	(4u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	struct kr_mem mem = { 0 };
	size_t tail = size < 64 ? size : 64;
	struct kr_mb_module mod = { .data = data + size - tail, .len = tail, .string = "m" };
	struct kr_mb_args args = { "console=ttyS0", &mod, 1 };
	struct kr_boot_entry e;
	char why[128];

	if (!ram)
		ram = calloc(1, RAM);
	mem.low = ram;
	mem.low_size = RAM;
	if (kr_multiboot_load_buf(&mem, data, size, &args, &e, why, sizeof(why))) {
		if (!why[0] || strlen(why) >= sizeof(why))
			abort();
		return 0;
	}
	if (e.mode != KR_BOOT_PROT32 || e.eax != KR_MB_BOOTLOADER_MAGIC ||
	    e.ebx != KR_MB_INFO_ADDR || e.rip < KR_MB_LOAD_MIN || e.rip >= RAM)
		abort();
	if (kr_get_le(ram + KR_MB_INFO_ADDR + 20, 4) != 1)	/* mods_count */
		abort();
	return 0;
}

#include "fuzz_replay.h"
