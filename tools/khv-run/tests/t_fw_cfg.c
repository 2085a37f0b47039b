// SPDX-License-Identifier: GPL-2.0
/*
 * fw_cfg (fw_cfg.c) driven through its ports as firmware drives it: the
 * selector and data ports, the DMA interface into fake guest RAM, the file
 * directory decoded by hand, and hostile accesses.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../e820.h"
#include "../fw_cfg.h"
#include "../machine.h"
#include "t.h"

#define LOW_SIZE	0x100000ull	/* 1 MiB of low RAM */
#define HIGH_SIZE	0x10000ull	/* and 64 KiB above 4 GiB */
#define ACC		0x1000ull	/* where the tests put FWCfgDmaAccess */
#define BUF		0x2000ull	/* and the DMA target */

struct tfw {
	struct kr_mem mem;
	struct kr_bus pio;
	struct kr_fw_cfg *fw;
};

static void tfw_init(struct tfw *t, const struct kr_fw_cfg_config *cfg_in)
{
	struct kr_fw_cfg_config cfg = { .nb_cpus = 2 };

	if (cfg_in)
		cfg = *cfg_in;
	t->mem = (struct kr_mem){ 0 };
	t->mem.low = calloc(1, LOW_SIZE);
	t->mem.low_size = LOW_SIZE;
	t->mem.high = calloc(1, HIGH_SIZE);
	t->mem.high_size = HIGH_SIZE;
	cfg.mem = &t->mem;
	kr_bus_init(&t->pio, "pio");
	CHECK_EQ(kr_fw_cfg_create(&cfg, &t->fw), 0);
	CHECK_EQ(kr_fw_cfg_attach(t->fw, &t->pio), 0);
}

static void tfw_fini(struct tfw *t)
{
	kr_fw_cfg_destroy(t->fw);
	kr_bus_free(&t->pio);
	free(t->mem.low);
	free(t->mem.high);
}

static void sel(struct tfw *t, uint16_t key)
{
	uint8_t d[2];

	kr_put_le(d, 2, key);
	CHECK(kr_bus_access(&t->pio, KR_PORT_FW_CFG, d, 2, true));
}

/* n byte-wide reads of the data port, as SeaBIOS's insb. */
static void rd(struct tfw *t, void *buf, size_t n)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < n; i++)
		CHECK(kr_bus_access(&t->pio, KR_PORT_FW_CFG + 1, &p[i], 1, false));
}

static uint64_t rd_le(struct tfw *t, unsigned int size)
{
	uint8_t b[8];

	rd(t, b, size);
	return kr_get_le(b, size);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* A 32-bit port write of v as the guest's iowrite32be() does it. */
static void out_be32(struct tfw *t, uint16_t port, uint32_t v)
{
	uint8_t d[4];

	put_be32(d, v);
	kr_bus_access(&t->pio, port, d, 4, true);
}

/* Write an FWCfgDmaAccess at gpa acc and start it (high half, then low). */
static void dma_at(struct tfw *t, uint64_t acc, uint32_t control, uint32_t len, uint64_t addr)
{
	uint8_t *a = kr_gpa(&t->mem, acc, 16);

	if (a) {
		put_be32(a, control);
		put_be32(a + 4, len);
		put_be32(a + 8, addr >> 32);
		put_be32(a + 12, addr);
	}
	out_be32(t, KR_PORT_FW_CFG_DMA, acc >> 32);
	out_be32(t, KR_PORT_FW_CFG_DMA + 4, acc);
}

/* One DMA with the access at ACC; returns the control word it left. */
static uint32_t dma(struct tfw *t, uint32_t control, uint32_t len, uint64_t addr)
{
	dma_at(t, ACC, control, len, addr);
	return be32(t->mem.low + ACC);
}

/* Look name up in the directory: its key, size in *size; 0 when missing. */
static uint16_t find_file(struct tfw *t, const char *name, uint32_t *size)
{
	uint8_t cnt[4], e[64];
	uint32_t n;

	sel(t, KR_FW_CFG_FILE_DIR);
	rd(t, cnt, 4);
	n = be32(cnt);
	for (uint32_t i = 0; i < n; i++) {
		rd(t, e, 64);
		if (!strncmp((char *)e + 8, name, 56)) {
			*size = be32(e);
			return (uint16_t)(e[4] << 8 | e[5]);
		}
	}
	return 0;
}

KR_TEST(fw_cfg_items)
{
	struct kr_fw_cfg_config cfg = { .nb_cpus = 3, .max_cpus = 8 };
	struct tfw t;
	char sig[5] = { 0 };

	tfw_init(&t, &cfg);
	sel(&t, KR_FW_CFG_SIGNATURE);
	rd(&t, sig, 4);
	CHECK_STR(sig, "QEMU");
	CHECK_EQ(rd_le(&t, 4), 0);		/* past the end: zeros */
	/* Selecting again starts over. */
	sel(&t, KR_FW_CFG_SIGNATURE);
	CHECK_EQ(rd_le(&t, 1), 'Q');
	sel(&t, KR_FW_CFG_ID);
	CHECK_EQ(rd_le(&t, 4), KR_FW_CFG_ID_TRADITIONAL | KR_FW_CFG_ID_DMA);
	sel(&t, KR_FW_CFG_RAM_SIZE);
	CHECK_EQ(rd_le(&t, 8), LOW_SIZE + HIGH_SIZE);
	CHECK_EQ(rd_le(&t, 1), 0);
	sel(&t, KR_FW_CFG_NB_CPUS);
	CHECK_EQ(rd_le(&t, 2), 3);
	CHECK_EQ(rd_le(&t, 2), 0);
	sel(&t, KR_FW_CFG_MAX_CPUS);
	CHECK_EQ(rd_le(&t, 2), 8);
	/* The write channel bit reads the same item. */
	sel(&t, KR_FW_CFG_WRITE_CHANNEL | KR_FW_CFG_SIGNATURE);
	CHECK_EQ(rd_le(&t, 4), 0x554d4551);
	tfw_fini(&t);

	/* max_cpus 0 means nb_cpus. */
	tfw_init(&t, NULL);
	sel(&t, KR_FW_CFG_MAX_CPUS);
	CHECK_EQ(rd_le(&t, 2), 2);
	tfw_fini(&t);
}

KR_TEST(fw_cfg_unknown_keys)
{
	uint16_t keys[] = { 0x0002, 0x0004, 0x0018, 0x001f, 0x0020 + 3, 0x3fff,
			    KR_FW_CFG_ARCH_LOCAL, KR_FW_CFG_ARCH_LOCAL | 0x3, 0xffff };
	struct tfw t;

	tfw_init(&t, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		uint32_t ctl = KR_FW_CFG_DMA_SELECT | KR_FW_CFG_DMA_READ | (uint32_t)keys[i] << 16;

		sel(&t, keys[i]);
		CHECK_EQ(rd_le(&t, 8), 0);
		/* DMA reads of them are zero-filled, not errors. */
		memset(t.mem.low + BUF, 0xaa, 8);
		CHECK_EQ(dma(&t, ctl, 8, BUF), 0);
		CHECK_EQ(kr_get_le(t.mem.low + BUF, 8), 0);
	}
	tfw_fini(&t);
}

KR_TEST(fw_cfg_directory)
{
	static const char *const want[] = {
		"a", "bootorder", "etc/boot-fail-wait", "etc/e820", "opt/x",
	};
	char long55[56], long56[57];
	uint8_t cnt[4], e[64];
	struct tfw t;

	tfw_init(&t, NULL);
	CHECK_EQ(kr_fw_cfg_add_file(t.fw, "opt/x", "xyz", 3), 0);
	CHECK_EQ(kr_fw_cfg_add_file(t.fw, "a", "", 0), 0);
	sel(&t, KR_FW_CFG_FILE_DIR);
	rd(&t, cnt, 4);
	CHECK_EQ(be32(cnt), ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		rd(&t, e, 64);
		CHECK_EQ(e[4] << 8 | e[5], KR_FW_CFG_FILE_FIRST + i);	/* be16 select */
		CHECK_EQ(e[6] | e[7], 0);				/* reserved */
		CHECK_STR((char *)e + 8, want[i]);
		/* NUL-padded to 56 bytes. */
		for (size_t j = 8 + strlen(want[i]); j < 64; j++)
			CHECK_EQ(e[j], 0);
		if (!strcmp(want[i], "opt/x"))
			CHECK_EQ(be32(e), 3);
		if (!strcmp(want[i], "etc/boot-fail-wait"))
			CHECK_EQ(be32(e), 4);
		if (!strcmp(want[i], "a"))
			CHECK_EQ(be32(e), 0);
	}
	CHECK_EQ(rd_le(&t, 1), 0);	/* the end */
	/* A file's key reads the file. */
	sel(&t, KR_FW_CFG_FILE_FIRST + 4);
	CHECK_EQ(rd_le(&t, 3), 'x' | 'y' << 8 | 'z' << 16);

	memset(long55, 'n', 55);
	long55[55] = 0;
	memset(long56, 'n', 56);
	long56[56] = 0;
	CHECK_EQ(kr_fw_cfg_add_file(t.fw, long56, "", 0), -ENAMETOOLONG);
	CHECK_EQ(kr_fw_cfg_add_file(t.fw, long55, "1", 1), 0);
	CHECK_EQ(kr_fw_cfg_add_file(t.fw, "", "", 0), -EINVAL);
	CHECK_EQ(kr_fw_cfg_add_file(t.fw, "opt/x", "", 0), -EEXIST);
	{
		uint32_t size = 0;
		uint16_t key = find_file(&t, long55, &size);

		CHECK(key >= KR_FW_CFG_FILE_FIRST);
		CHECK_EQ(size, 1);
		sel(&t, key);
		CHECK_EQ(rd_le(&t, 1), '1');
	}
	tfw_fini(&t);
}

KR_TEST(fw_cfg_files)
{
	struct kr_fw_cfg_config cfg = { .nb_cpus = 1, .bootorder = "/pci@i0cf8/x@1\n",
					.boot_fail_wait_ms = 5000 };
	struct kr_e820_entry e[KR_E820_MAX];
	uint8_t raw[20 * KR_E820_MAX];
	char bo[32] = { 0 };
	uint32_t size = 0;
	size_t n;
	struct tfw t;

	tfw_init(&t, NULL);
	sel(&t, find_file(&t, "etc/boot-fail-wait", &size));
	CHECK_EQ(size, 4);
	CHECK_EQ(rd_le(&t, 4), 0xffffffffu);	/* never reboot */
	CHECK(find_file(&t, "bootorder", &size));
	CHECK_EQ(size, 0);
	/* etc/e820: le64 address, le64 length, le32 type, the machine's map. */
	n = kr_e820_build(&t.mem, e, KR_E820_MAX);
	sel(&t, find_file(&t, "etc/e820", &size));
	CHECK_EQ(size, 20 * n);
	rd(&t, raw, 20 * n);
	for (size_t i = 0; i < n; i++) {
		CHECK_EQ(kr_get_le(raw + 20 * i, 8), e[i].addr);
		CHECK_EQ(kr_get_le(raw + 20 * i + 8, 8), e[i].size);
		CHECK_EQ(kr_get_le(raw + 20 * i + 16, 4), e[i].type);
	}
	CHECK_EQ(kr_get_le(raw + 20 * (n - 1), 8), KR_HIGHMEM_BASE);
	tfw_fini(&t);

	tfw_init(&t, &cfg);
	sel(&t, find_file(&t, "etc/boot-fail-wait", &size));
	CHECK_EQ(rd_le(&t, 4), 5000);
	sel(&t, find_file(&t, "bootorder", &size));
	CHECK_EQ(size, strlen(cfg.bootorder) + 1);
	rd(&t, bo, size);
	CHECK_STR(bo, cfg.bootorder);
	tfw_fini(&t);
}

KR_TEST(fw_cfg_dma)
{
	uint8_t *buf;
	struct tfw t;
	uint8_t d[8];

	tfw_init(&t, NULL);
	buf = t.mem.low + BUF;
	/* Select and read in one operation. */
	memset(buf, 0xaa, 16);
	CHECK_EQ(dma(&t, KR_FW_CFG_SIGNATURE << 16 | KR_FW_CFG_DMA_SELECT | KR_FW_CFG_DMA_READ,
		     4, BUF), 0);
	CHECK(!memcmp(buf, "QEMU", 4));
	CHECK_EQ(buf[4], 0xaa);		/* length respected */
	/* In sequence: the offset carries over, the port reads continue it. */
	sel(&t, KR_FW_CFG_RAM_SIZE);
	CHECK_EQ(dma(&t, KR_FW_CFG_DMA_READ, 2, BUF), 0);
	CHECK_EQ(dma(&t, KR_FW_CFG_DMA_READ, 2, BUF + 2), 0);
	CHECK_EQ(kr_get_le(buf, 4), (LOW_SIZE + HIGH_SIZE) & 0xffffffff);
	CHECK_EQ(rd_le(&t, 4), (LOW_SIZE + HIGH_SIZE) >> 32);
	/* Past the end: zero-filled, not an error. */
	memset(buf, 0xaa, 16);
	CHECK_EQ(dma(&t, KR_FW_CFG_DMA_SELECT | KR_FW_CFG_NB_CPUS << 16 | KR_FW_CFG_DMA_READ,
		     12, BUF), 0);
	CHECK_EQ(kr_get_le(buf, 8), 2);
	CHECK_EQ(kr_get_le(buf + 8, 4), 0);
	CHECK_EQ(buf[12], 0xaa);
	/* SKIP advances the offset, then a port read continues. */
	CHECK_EQ(dma(&t, KR_FW_CFG_DMA_SELECT | KR_FW_CFG_DMA_SKIP, 2, 0), 0);
	CHECK_EQ(rd_le(&t, 2), 'M' | 'U' << 8);
	/* SKIP past the end, then reads are zeros. */
	CHECK_EQ(dma(&t, KR_FW_CFG_DMA_SELECT | KR_FW_CFG_DMA_SKIP, 0xffffffffu, 0), 0);
	CHECK_EQ(rd_le(&t, 1), 0);
	/* SELECT alone resets the offset. */
	CHECK_EQ(dma(&t, KR_FW_CFG_DMA_SELECT, 0, 0), 0);
	CHECK_EQ(rd_le(&t, 1), 'Q');
	/* READ wins over SKIP. */
	CHECK_EQ(dma(&t, KR_FW_CFG_DMA_SELECT | KR_FW_CFG_DMA_READ | KR_FW_CFG_DMA_SKIP,
		     1, BUF), 0);
	CHECK_EQ(buf[0], 'Q');
	/* Into high memory, with the access structure up there as well. */
	dma_at(&t, KR_4G + 0x100, KR_FW_CFG_DMA_SELECT | KR_FW_CFG_DMA_READ, 4, KR_4G + 0x200);
	CHECK(!memcmp(t.mem.high + 0x200, "QEMU", 4));
	CHECK_EQ(be32(t.mem.high + 0x100), 0);
	/* One 64-bit write starts it too. */
	put_be32(t.mem.low + ACC, KR_FW_CFG_DMA_SELECT | KR_FW_CFG_DMA_READ | KR_FW_CFG_ID << 16);
	put_be32(t.mem.low + ACC + 4, 4);
	put_be32(t.mem.low + ACC + 8, 0);
	put_be32(t.mem.low + ACC + 12, BUF);
	put_be32(d, 0);
	put_be32(d + 4, ACC);
	kr_bus_access(&t.pio, KR_PORT_FW_CFG_DMA, d, 8, true);
	CHECK_EQ(be32(t.mem.low + ACC), 0);
	CHECK_EQ(kr_get_le(buf, 4), 3);
	tfw_fini(&t);
}

/* Every byte of RAM outside the DMA access structure is as it was. */
static void check_untouched(struct tfw *t, const uint8_t *low0, const uint8_t *high0)
{
	CHECK(!memcmp(t->mem.low, low0, ACC));
	CHECK(!memcmp(t->mem.low + ACC + 16, low0 + ACC + 16, LOW_SIZE - ACC - 16));
	CHECK(!memcmp(t->mem.high, high0, HIGH_SIZE));
}

KR_TEST(fw_cfg_dma_hostile)
{
	uint64_t bad[] = {
		LOW_SIZE - 3,		/* straddles the end of low RAM */
		LOW_SIZE,		/* past it, in the hole */
		KR_4G - 2,		/* straddles into high RAM */
		KR_4G + HIGH_SIZE - 3,	/* straddles the end of high RAM */
		~0ull - 1,		/* wraps */
	};
	uint8_t *low0 = malloc(LOW_SIZE), *high0 = malloc(HIGH_SIZE);
	uint32_t rd_sig = KR_FW_CFG_DMA_SELECT | KR_FW_CFG_DMA_READ;
	struct tfw t;

	tfw_init(&t, NULL);
	for (size_t i = 0; i < LOW_SIZE; i++)
		t.mem.low[i] = i * 7;
	memset(t.mem.high, 0x5a, HIGH_SIZE);
	memcpy(low0, t.mem.low, LOW_SIZE);
	memcpy(high0, t.mem.high, HIGH_SIZE);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_EQ(dma(&t, rd_sig, 4, bad[i]), KR_FW_CFG_DMA_ERROR);
		check_untouched(&t, low0, high0);
	}
	/* A length that runs past RAM, and the largest length. */
	CHECK_EQ(dma(&t, rd_sig, LOW_SIZE, BUF), KR_FW_CFG_DMA_ERROR);
	CHECK_EQ(dma(&t, rd_sig, 0xffffffffu, 0), KR_FW_CFG_DMA_ERROR);
	check_untouched(&t, low0, high0);
	/* Writes are refused, even with READ clear and SKIP set. */
	CHECK_EQ(dma(&t, KR_FW_CFG_DMA_SELECT | KR_FW_CFG_DMA_WRITE, 4, BUF),
		 KR_FW_CFG_DMA_ERROR);
	CHECK_EQ(dma(&t, KR_FW_CFG_DMA_WRITE | KR_FW_CFG_DMA_SKIP, 4, BUF), KR_FW_CFG_DMA_ERROR);
	check_untouched(&t, low0, high0);
	sel(&t, KR_FW_CFG_SIGNATURE);
	CHECK_EQ(rd_le(&t, 4), 0x554d4551);	/* unchanged, offset not moved */
	/* An access structure outside RAM: nothing anywhere changes. */
	memcpy(low0, t.mem.low, LOW_SIZE);
	dma_at(&t, LOW_SIZE - 8, rd_sig, 4, BUF);
	dma_at(&t, LOW_SIZE + 0x1000, rd_sig, 4, BUF);
	dma_at(&t, KR_4G + HIGH_SIZE - 15, rd_sig, 4, BUF);
	CHECK(!memcmp(t.mem.low, low0, LOW_SIZE));
	CHECK(!memcmp(t.mem.high, high0, HIGH_SIZE));
	/* Zero length at a bad address: nothing to do, no error. */
	CHECK_EQ(dma(&t, rd_sig, 0, LOW_SIZE + 0x1000), 0);
	tfw_fini(&t);
	free(low0);
	free(high0);
}

KR_TEST(fw_cfg_access_sizes)
{
	struct tfw t;
	uint8_t d[8];

	tfw_init(&t, NULL);
	CHECK(kr_bus_find(&t.pio, KR_PORT_FW_CFG) != NULL);
	CHECK(kr_bus_find(&t.pio, KR_PORT_FW_CFG + 1) != NULL);
	CHECK(kr_bus_find(&t.pio, KR_PORT_FW_CFG + 2) == NULL);
	CHECK(kr_bus_find(&t.pio, KR_PORT_FW_CFG_DMA + 7) != NULL);
	CHECK(kr_bus_find(&t.pio, KR_PORT_FW_CFG_DMA + 8) == NULL);

	/* Only a 16-bit write selects. */
	sel(&t, KR_FW_CFG_ID);
	kr_put_le(d, 4, KR_FW_CFG_SIGNATURE);
	kr_bus_access(&t.pio, KR_PORT_FW_CFG, d, 1, true);
	kr_bus_access(&t.pio, KR_PORT_FW_CFG, d, 4, true);
	kr_bus_access(&t.pio, KR_PORT_FW_CFG + 1, d, 2, true);
	CHECK_EQ(rd_le(&t, 1), 3);
	/* Selector reads are zeros and do not move the offset. */
	sel(&t, KR_FW_CFG_SIGNATURE);
	kr_bus_access(&t.pio, KR_PORT_FW_CFG, d, 2, false);
	CHECK_EQ(kr_get_le(d, 2), 0);
	kr_bus_access(&t.pio, KR_PORT_FW_CFG, d, 1, false);
	CHECK_EQ(d[0], 0);
	/* Data writes are ignored; wide data reads return the next bytes. */
	d[0] = 0;
	kr_bus_access(&t.pio, KR_PORT_FW_CFG + 1, d, 1, true);
	kr_bus_access(&t.pio, KR_PORT_FW_CFG + 1, d, 2, false);
	CHECK_EQ(kr_get_le(d, 2), 'Q' | 'E' << 8);
	kr_bus_access(&t.pio, KR_PORT_FW_CFG + 1, d, 4, false);
	CHECK_EQ(kr_get_le(d, 4), 'M' | 'U' << 8);

	/* The DMA register reads "QEMU CFG" in big-endian order. */
	memset(d, 0, sizeof(d));
	kr_bus_access(&t.pio, KR_PORT_FW_CFG_DMA, d, 4, false);
	CHECK_EQ(be32(d), 0x51454d55);
	kr_bus_access(&t.pio, KR_PORT_FW_CFG_DMA + 4, d, 4, false);
	CHECK_EQ(be32(d), 0x20434647);
	kr_bus_access(&t.pio, KR_PORT_FW_CFG_DMA + 6, d, 2, false);
	CHECK_EQ(d[0] << 8 | d[1], 0x4647);
	kr_bus_access(&t.pio, KR_PORT_FW_CFG_DMA + 7, d, 4, false);	/* straddles */
	CHECK_EQ(d[0], 'G');
	CHECK_EQ(d[1] | d[2] | d[3], 0);

	/* Byte and 16-bit writes to it start nothing. */
	put_be32(t.mem.low + ACC, KR_FW_CFG_DMA_SELECT | KR_FW_CFG_DMA_READ);
	put_be32(t.mem.low + ACC + 4, 4);
	put_be32(t.mem.low + ACC + 8, 0);
	put_be32(t.mem.low + ACC + 12, BUF);
	put_be32(d, ACC);
	for (unsigned int off = 0; off < 8; off++) {
		kr_bus_access(&t.pio, KR_PORT_FW_CFG_DMA + off, d, 1, true);
		kr_bus_access(&t.pio, KR_PORT_FW_CFG_DMA + off, d, 2, true);
	}
	kr_bus_access(&t.pio, KR_PORT_FW_CFG_DMA + 2, d, 4, true);
	kr_bus_access(&t.pio, KR_PORT_FW_CFG_DMA + 4, d, 8, true);
	CHECK_EQ(be32(t.mem.low + ACC), KR_FW_CFG_DMA_SELECT | KR_FW_CFG_DMA_READ);
	CHECK_EQ(kr_get_le(t.mem.low + BUF, 4), 0);
	/* A 32-bit write of the low half alone starts it (high half 0). */
	kr_bus_access(&t.pio, KR_PORT_FW_CFG_DMA + 4, d, 4, true);
	CHECK_EQ(be32(t.mem.low + ACC), 0);
	CHECK(!memcmp(t.mem.low + BUF, "QEMU", 4));
	/* The high half is forgotten after an operation. */
	out_be32(&t, KR_PORT_FW_CFG_DMA, 1);
	put_be32(t.mem.low + ACC, KR_FW_CFG_DMA_SELECT | KR_FW_CFG_DMA_READ | KR_FW_CFG_ID << 16);
	out_be32(&t, KR_PORT_FW_CFG_DMA + 4, ACC);	/* 4 GiB + ACC: high RAM */
	CHECK_EQ(be32(t.mem.low + ACC), KR_FW_CFG_DMA_SELECT | KR_FW_CFG_DMA_READ |
		 KR_FW_CFG_ID << 16);
	out_be32(&t, KR_PORT_FW_CFG_DMA + 4, ACC);
	CHECK_EQ(be32(t.mem.low + ACC), 0);
	CHECK_EQ(kr_get_le(t.mem.low + BUF, 4), 3);
	tfw_fini(&t);
}

KR_TEST(fw_cfg_config)
{
	struct kr_mem mem = { 0 };
	struct kr_fw_cfg_config bad[] = {
		{ .mem = NULL, .nb_cpus = 1 },
		{ .mem = &mem, .nb_cpus = 0 },
		{ .mem = &mem, .nb_cpus = 65536 },
		{ .mem = &mem, .nb_cpus = 4, .max_cpus = 2 },
		{ .mem = &mem, .nb_cpus = 4, .max_cpus = 65536 },
	};
	struct kr_fw_cfg *fw = (void *)1;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_EQ(kr_fw_cfg_create(&bad[i], &fw), -EINVAL);
		CHECK(fw == NULL);
	}
	kr_fw_cfg_destroy(NULL);
}

/*
 * Two vCPUs selecting and reading different items by DMA at once: each
 * operation is atomic under the device lock, so each sees its own item.
 */
struct racer {
	struct tfw *t;
	pthread_barrier_t *go;
	uint64_t acc, buf;
	uint16_t key;
	uint32_t want;
	int bad;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->go);
	for (int i = 0; i < 200000; i++) {
		uint8_t *b = r->t->mem.low + r->buf;

		memset(b, 0, 4);
		dma_at(r->t, r->acc, KR_FW_CFG_DMA_SELECT | KR_FW_CFG_DMA_READ |
		       (uint32_t)r->key << 16, 4, r->buf);
		if (kr_get_le(b, 4) != r->want || be32(r->t->mem.low + r->acc))
			r->bad++;
	}
	return NULL;
}

KR_TEST(fw_cfg_threads)
{
	struct tfw t;
	struct racer r[2];
	pthread_barrier_t go;
	pthread_t th[2];

	tfw_init(&t, NULL);
	pthread_barrier_init(&go, NULL, 2);
	r[0] = (struct racer){ &t, &go, 0x3000, 0x3100, KR_FW_CFG_SIGNATURE, 0x554d4551, 0 };
	r[1] = (struct racer){ &t, &go, 0x4000, 0x4100, KR_FW_CFG_ID, 3, 0 };
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, race, &r[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(r[0].bad, 0);
	CHECK_EQ(r[1].bad, 0);
	pthread_barrier_destroy(&go);
	tfw_fini(&t);
}

/* ---- snapshot ----------------------------------------------------------- */

/* Offsets in kr_fw_cfg_save()'s state. */
enum { F_SEL = 4, F_OFF = 6, F_DMA_HI = 10, F_LEN = 14, F_HASH = 18, F_LEN_ALL = 26 };

/* A machine's interface with a 100-byte file of its own (fill + i). */
static void tfw_init_file(struct tfw *t, uint8_t fill)
{
	uint8_t data[100];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = fill + i;
	tfw_init(t, NULL);
	CHECK_EQ(kr_fw_cfg_add_file(t->fw, "opt/test", data, sizeof(data)), 0);
}

/* "opt/test" selected, 37 bytes read; the DMA address's high half written (1). */
static void tfw_busy(struct tfw *t)
{
	uint32_t size = 0;
	uint16_t key;
	uint8_t buf[37];

	tfw_init_file(t, 0x10);
	key = find_file(t, "opt/test", &size);
	CHECK_EQ(key, KR_FW_CFG_FILE_FIRST + 3);
	CHECK_EQ(size, 100);
	sel(t, key);
	rd(t, buf, sizeof(buf));
	CHECK_EQ(buf[36], 0x10 + 36);
	out_be32(t, KR_PORT_FW_CFG_DMA, 1);
}

static int fw_load_bytes(struct tfw *t, const void *p, size_t n, char *why, size_t len)
{
	struct kr_sget g;
	int ret;

	kr_sget_init(&g, p, n, "fw_cfg");
	ret = kr_fw_cfg_load(t->fw, &g);
	if (why)
		snprintf(why, len, "%s", g.why);
	return ret;
}

KR_TEST(fw_cfg_snapshot_round_trip)
{
	struct kr_sbuf b = { 0 };
	struct tfw a, c;
	struct tfw *both[2] = { &a, &c };
	uint8_t rest[2][64];

	tfw_busy(&a);
	CHECK_EQ(kr_fw_cfg_save(a.fw, &b), 0);
	CHECK(!b.oom);
	CHECK_EQ(b.len, F_LEN_ALL);
	tfw_init_file(&c, 0x10);
	CHECK_EQ(fw_load_bytes(&c, b.p, b.len, NULL, 0), 0);

	for (int i = 0; i < 2; i++) {
		struct tfw *t = both[i];
		uint8_t *acc = t->mem.high + ACC;

		/*
		 * The low half of the DMA address: with the saved high half 1,
		 * the access structure is at 4 GiB + ACC, in high RAM.  It reads
		 * the rest of the file (no SELECT: the offset goes on).
		 */
		put_be32(acc, KR_FW_CFG_DMA_READ);
		put_be32(acc + 4, 64);
		put_be32(acc + 8, 0);
		put_be32(acc + 12, BUF);
		memset(t->mem.low + BUF, 0xaa, 64);
		out_be32(t, KR_PORT_FW_CFG_DMA + 4, ACC);
		CHECK_EQ(be32(acc), 0);
		memcpy(rest[i], t->mem.low + BUF, 64);
		CHECK_EQ(rd_le(t, 1), 0);		/* the end */
	}
	CHECK(!memcmp(rest[0], rest[1], 64));
	for (int i = 0; i < 63; i++)
		CHECK_EQ(rest[1][i], 0x10 + 37 + i);
	CHECK_EQ(rest[1][63], 0);			/* past the end: zeros */
	kr_sbuf_free(&b);
	tfw_fini(&a);
	tfw_fini(&c);
}

/* Load the bytes into a fresh interface whose file begins with fill: the result. */
static int fw_load_fresh(const uint8_t *p, size_t n, uint8_t fill, bool file, char *why,
			 size_t len)
{
	struct tfw t;
	int ret;

	if (file)
		tfw_init_file(&t, fill);
	else
		tfw_init(&t, NULL);
	ret = fw_load_bytes(&t, p, n, why, len);
	/* Refused or not, the interface still reads its items. */
	sel(&t, KR_FW_CFG_SIGNATURE);
	CHECK_EQ(rd_le(&t, 4), 0x554d4551);
	tfw_fini(&t);
	return ret;
}

static void fw_refuses(const struct kr_sbuf *b, size_t off, unsigned int n, uint64_t v,
		       const char *want)
{
	uint8_t p[F_LEN_ALL];
	char why[160];

	memcpy(p, b->p, F_LEN_ALL);
	kr_put_le(p + off, n, v);
	CHECK_EQ(fw_load_fresh(p, F_LEN_ALL, 0x10, true, why, sizeof(why)), -EPROTO);
	if (!strstr(why, want))
		printf("#   offset %zu = %#llx: \"%s\", want \"%s\"\n", off, (unsigned long long)v,
		       why, want);
	CHECK(strstr(why, want) != NULL);
}

KR_TEST(fw_cfg_snapshot_refused)
{
	struct kr_sbuf b = { 0 };
	uint8_t p[F_LEN_ALL + 1];
	char why[160];
	struct tfw a;

	tfw_busy(&a);
	CHECK_EQ(kr_fw_cfg_save(a.fw, &b), 0);
	CHECK_EQ(kr_get_le(b.p + F_OFF, 4), 37);
	CHECK_EQ(kr_get_le(b.p + F_DMA_HI, 4), 1);
	CHECK_EQ(kr_get_le(b.p + F_LEN, 4), 100);

	for (size_t n = 0; n < b.len; n++) {
		CHECK_EQ(fw_load_fresh(b.p, n, 0x10, true, why, sizeof(why)), -EPROTO);
		CHECK(strstr(why, "truncated") != NULL);
	}
	memcpy(p, b.p, b.len);
	p[b.len] = 0;
	CHECK_EQ(fw_load_fresh(p, b.len + 1, 0x10, true, why, sizeof(why)), -EPROTO);
	CHECK(strstr(why, "left over") != NULL);

	fw_refuses(&b, 0, 4, 0x100, "state version 256");
	fw_refuses(&b, F_OFF, 4, 101, "offset 101 past the end of item 0x23 (100 bytes)");
	fw_refuses(&b, F_OFF, 4, ~0u, "offset 4294967295 past the end");
	fw_refuses(&b, F_LEN, 4, 99, "item 0x23 is 100 bytes here, 99 in the snapshot");
	fw_refuses(&b, F_HASH, 1, b.p[F_HASH] ^ 1, "item 0x23's unread bytes differ");
	/* Another offset into the same bytes reads other bytes next. */
	fw_refuses(&b, F_OFF, 4, 36, "item 0x23's unread bytes differ");
	/* Unknown keys read zeros: any is fine with offset 0, none with more. */
	fw_refuses(&b, F_SEL, 2, 0x3fff, "item 0x3fff is 0 bytes here, 100 in the snapshot");
	memcpy(p, b.p, b.len);
	kr_put_le(p + F_SEL, 2, 0xffff);
	kr_put_le(p + F_OFF, 4, 0);
	kr_put_le(p + F_LEN, 4, 0);
	kr_put_le(p + F_HASH, 8, 0xcbf29ce484222325ull);	/* nothing left to read */
	CHECK_EQ(fw_load_fresh(p, b.len, 0x10, true, why, sizeof(why)), 0);
	kr_put_le(p + F_OFF, 4, 5);
	CHECK_EQ(fw_load_fresh(p, b.len, 0x10, true, why, sizeof(why)), -EPROTO);
	CHECK(strstr(why, "offset 5 past the end of item 0xffff (0 bytes)") != NULL);

	/* Another configuration: the file missing, or other bytes in it. */
	CHECK_EQ(fw_load_fresh(b.p, b.len, 0x10, false, why, sizeof(why)), -EPROTO);
	CHECK(strstr(why, "item 0x23 is 0 bytes here, 100 in the snapshot") != NULL);
	CHECK_EQ(fw_load_fresh(b.p, b.len, 0x11, true, why, sizeof(why)), -EPROTO);
	CHECK(strstr(why, "unread bytes differ") != NULL);
	/* Once the file is read to its end, what it held does not matter any more. */
	memcpy(p, b.p, b.len);
	kr_put_le(p + F_OFF, 4, 100);
	kr_put_le(p + F_HASH, 8, 0xcbf29ce484222325ull);
	CHECK_EQ(fw_load_fresh(p, b.len, 0x11, true, why, sizeof(why)), 0);
	kr_sbuf_free(&b);
	tfw_fini(&a);
}

/*
 * Random selections, reads and DMA operations; now and then the state is
 * saved and loaded into a new interface with the same files, which must
 * take it and then answer everything as the old one does.
 */
KR_TEST(fw_cfg_snapshot_random)
{
	struct tfw *cur = calloc(1, sizeof(*cur)), *next;
	int refused = 0, differ = 0;

	tfw_init_file(cur, 0x30);
	srand(16);
	for (int round = 0; round < 40; round++) {
		struct kr_sbuf b = { 0 };

		CHECK_EQ(kr_fw_cfg_save(cur->fw, &b), 0);
		next = calloc(1, sizeof(*next));
		tfw_init_file(next, 0x30);
		refused += fw_load_bytes(next, b.p, b.len, NULL, 0) != 0;
		/* Guest RAM is restored with the machine's, not the device's. */
		memcpy(next->mem.low, cur->mem.low, LOW_SIZE);
		memcpy(next->mem.high, cur->mem.high, HIGH_SIZE);
		kr_sbuf_free(&b);
		for (int i = 0; i < 300; i++) {
			struct tfw *both[2] = { cur, next };
			uint8_t d[2][8];
			int r = rand() % 8;
			uint16_t key = rand() % 2 ? rand() % 0x28 : rand();
			uint32_t ctl = (uint32_t)key << 16 | (rand() & 0x1f), len = rand() % 128;
			uint32_t hi = rand() % 3 == 0;
			unsigned int size = 1u << (rand() % 4);

			for (int j = 0; j < 2; j++) {
				struct tfw *t = both[j];

				memset(d[j], 0x5c, sizeof(d[j]));
				if (r == 0) {
					sel(t, key);
				} else if (r < 5) {
					kr_bus_access(&t->pio, KR_PORT_FW_CFG + 1, d[j], size, false);
				} else if (r == 5) {
					out_be32(t, KR_PORT_FW_CFG_DMA, hi);
				} else {
					/* The access where either high half puts it. */
					uint8_t *acc[2] = { t->mem.low + ACC, t->mem.high + ACC };

					for (int k = 0; k < 2; k++) {
						put_be32(acc[k], ctl);
						put_be32(acc[k] + 4, len);
						put_be32(acc[k] + 8, 0);
						put_be32(acc[k] + 12, BUF);
					}
					memset(t->mem.low + BUF, 0xaa, 128);
					out_be32(t, KR_PORT_FW_CFG_DMA + 4, ACC);
				}
			}
			differ += memcmp(d[0], d[1], 8) != 0 ||
				  memcmp(cur->mem.low + ACC, next->mem.low + ACC, 4) != 0 ||
				  memcmp(cur->mem.high + ACC, next->mem.high + ACC, 4) != 0 ||
				  memcmp(cur->mem.low + BUF, next->mem.low + BUF, 128) != 0;
		}
		tfw_fini(cur);
		free(cur);
		cur = next;
	}
	CHECK_EQ(refused, 0);
	CHECK_EQ(differ, 0);
	tfw_fini(cur);
	free(cur);
}
