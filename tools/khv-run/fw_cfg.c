// SPDX-License-Identifier: GPL-2.0
/*
 * fw_cfg (fw_cfg.h): read-only items the guest selects by key and reads
 * byte by byte from the data port, or copies into its RAM by DMA.
 *
 * Locking: fw->lock covers everything in struct kr_fw_cfg (items, files,
 * directory, selector, offset, the DMA address's high half).  The device
 * raises no interrupt and calls nothing outside this file with it held; a
 * DMA transfer touches guest RAM with it held, which takes no lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "e820.h"
#include "fw_cfg.h"
#include "machine.h"

struct fw_item {
	uint8_t *data;
	uint32_t len;
};

struct fw_file {
	char name[KR_FW_CFG_NAME_MAX];
	struct fw_item item;
};

struct kr_fw_cfg {
	pthread_mutex_t lock;
	const struct kr_mem *mem;
	struct fw_item fixed[KR_FW_CFG_FILE_FIRST];	/* keys below the files */
	struct fw_file *files;				/* sorted by name */
	size_t n_files, cap_files;
	uint16_t sel;
	uint32_t off;		/* into the selected item */
	uint32_t dma_hi;	/* high half of the DMA address, as written */
};

static uint32_t get_be32(const uint8_t *p)
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

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

/* Set item it to a copy of data (replacing what it held). */
static int fw_item_set(struct fw_item *it, const void *data, size_t len)
{
	uint8_t *copy = NULL;

	if (len > UINT32_MAX)
		return -EFBIG;
	if (len) {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
	}
	free(it->data);
	it->data = copy;
	it->len = len;
	return 0;
}

static int fw_item_set_le(struct fw_item *it, uint64_t v, unsigned int size)
{
	uint8_t b[8];

	kr_put_le(b, size, v);
	return fw_item_set(it, b, size);
}

/* The item the selector names; NULL for an unknown key (it reads as zeros). */
static const struct fw_item *fw_cur(const struct kr_fw_cfg *fw)
{
	/* The write channel bit does not change what is read; no arch items. */
	uint16_t key = fw->sel & KR_FW_CFG_KEY_MASK;

	if (fw->sel & KR_FW_CFG_ARCH_LOCAL)
		return NULL;
	if (key < KR_FW_CFG_FILE_FIRST)
		return fw->fixed[key].data ? &fw->fixed[key] : NULL;
	if ((size_t)(key - KR_FW_CFG_FILE_FIRST) < fw->n_files)
		return &fw->files[key - KR_FW_CFG_FILE_FIRST].item;
	return NULL;
}

static void fw_select(struct kr_fw_cfg *fw, uint16_t key)
{
	fw->sel = key;
	fw->off = 0;
}

/* Copy n bytes from the current offset to dst, zeros past the item's end. */
static void fw_read(struct kr_fw_cfg *fw, uint8_t *dst, uint64_t n)
{
	const struct fw_item *it = fw_cur(fw);
	uint64_t have = it && fw->off < it->len ? it->len - fw->off : 0;

	if (have > n)
		have = n;
	if (have)
		memcpy(dst, it->data + fw->off, have);
	memset(dst + have, 0, n - have);
	fw->off += have;
}

static void fw_skip(struct kr_fw_cfg *fw, uint32_t n)
{
	const struct fw_item *it = fw_cur(fw);
	uint32_t len = it ? it->len : 0;

	fw->off = fw->off < len && n < len - fw->off ? fw->off + n : len;
}

/*
 * One DMA operation: the FWCfgDmaAccess at gpa is read once (another vCPU
 * may change it meanwhile), done, and its control word set to 0 or ERROR.
 * With no readable FWCfgDmaAccess there is nowhere to report: dropped.
 */
static void fw_dma(struct kr_fw_cfg *fw, uint64_t gpa)
{
	uint8_t *acc = kr_gpa(fw->mem, gpa, 16);
	uint32_t control, length;
	uint64_t addr;
	bool error = false;

	if (!acc)
		return;
	control = get_be32(acc);
	length = get_be32(acc + 4);
	addr = (uint64_t)get_be32(acc + 8) << 32 | get_be32(acc + 12);
	if (control & KR_FW_CFG_DMA_SELECT)
		fw_select(fw, control >> 16);
	if (control & KR_FW_CFG_DMA_READ) {
		uint8_t *dst = length ? kr_gpa(fw->mem, addr, length) : NULL;

		if (dst) {
			fw_read(fw, dst, length);
			kr_mem_dirty(fw->mem, dst, length);
		} else if (length)
			error = true;
	} else if (control & KR_FW_CFG_DMA_WRITE) {
		error = true;	/* no item is writable */
	} else if (control & KR_FW_CFG_DMA_SKIP) {
		fw_skip(fw, length);
	}
	put_be32(acc, error ? KR_FW_CFG_DMA_ERROR : 0);
	kr_mem_dirty(fw->mem, acc, 4);
}

/*
 * Selector (offset 0, 16-bit writes only) and data port (offset 1).  A
 * read at offset 1 of N bytes returns the next N bytes of the item (the
 * spec's rule for wide data registers); anything else reads as zeros and
 * writes nothing.
 */
static void fw_cfg_io(void *opaque, uint64_t offset, uint8_t *data, unsigned int size,
		      bool write)
{
	struct kr_fw_cfg *fw = opaque;

	pthread_mutex_lock(&fw->lock);
	if (write) {
		if (offset == 0 && size == 2)
			fw_select(fw, kr_get_le(data, 2));
	} else if (offset == 1) {
		fw_read(fw, data, size);
	} else {
		memset(data, 0, size);
	}
	pthread_mutex_unlock(&fw->lock);
}

/*
 * The DMA address register, big-endian: 32-bit writes at 0 (high half) and
 * 4 (low half, starts the transfer), or one 64-bit write at 0.  Reads
 * return the "QEMU CFG" signature.
 */
static void fw_cfg_dma_io(void *opaque, uint64_t offset, uint8_t *data, unsigned int size,
			  bool write)
{
	static const uint8_t sig[KR_FW_CFG_DMA_LEN] = "QEMU CFG";
	struct kr_fw_cfg *fw = opaque;

	if (!write) {
		for (unsigned int i = 0; i < size; i++)
			data[i] = offset + i < sizeof(sig) ? sig[offset + i] : 0;
		return;
	}
	pthread_mutex_lock(&fw->lock);
	if (offset == 0 && size == 4) {
		fw->dma_hi = get_be32(data);
	} else if (offset == 4 && size == 4) {
		fw_dma(fw, (uint64_t)fw->dma_hi << 32 | get_be32(data));
		fw->dma_hi = 0;		/* the register reads 0 after an operation */
	} else if (offset == 0 && size == 8) {
		fw_dma(fw, (uint64_t)get_be32(data) << 32 | get_be32(data + 4));
		fw->dma_hi = 0;
	}
	pthread_mutex_unlock(&fw->lock);
}

/* Rebuild the directory item from the files; lock held (or not yet shared). */
static int fw_dir_rebuild(struct kr_fw_cfg *fw)
{
	size_t len = 4 + 64 * fw->n_files;
	uint8_t *d = calloc(1, len);
	int ret;

	if (!d)
		return -ENOMEM;
	put_be32(d, fw->n_files);
	for (size_t i = 0; i < fw->n_files; i++) {
		uint8_t *e = d + 4 + 64 * i;

		put_be32(e, fw->files[i].item.len);
		put_be16(e + 4, KR_FW_CFG_FILE_FIRST + i);
		memcpy(e + 8, fw->files[i].name, KR_FW_CFG_NAME_MAX);
	}
	ret = fw_item_set(&fw->fixed[KR_FW_CFG_FILE_DIR], d, len);
	free(d);
	return ret;
}

static int fw_add_file_locked(struct kr_fw_cfg *fw, const char *name, const void *data,
			      size_t len)
{
	size_t nlen = strlen(name), i;
	struct fw_file f = { 0 };
	int ret;

	if (!nlen)
		return -EINVAL;
	if (nlen >= KR_FW_CFG_NAME_MAX)
		return -ENAMETOOLONG;
	if (len > UINT32_MAX)
		return -EFBIG;
	for (i = 0; i < fw->n_files; i++) {
		int c = strcmp(name, fw->files[i].name);

		if (!c)
			return -EEXIST;
		if (c < 0)
			break;
	}
	if (fw->n_files == KR_FW_CFG_MAX_FILES)
		return -ENOSPC;
	if (fw->n_files == fw->cap_files) {
		size_t cap = fw->cap_files ? 2 * fw->cap_files : 8;
		struct fw_file *nf = realloc(fw->files, cap * sizeof(*nf));

		if (!nf)
			return -ENOMEM;
		fw->files = nf;
		fw->cap_files = cap;
	}
	memcpy(f.name, name, nlen);
	ret = fw_item_set(&f.item, data, len);
	if (ret)
		return ret;
	memmove(&fw->files[i + 1], &fw->files[i], (fw->n_files - i) * sizeof(f));
	fw->files[i] = f;
	fw->n_files++;
	ret = fw_dir_rebuild(fw);
	if (ret) {
		free(f.item.data);
		fw->n_files--;
		memmove(&fw->files[i], &fw->files[i + 1], (fw->n_files - i) * sizeof(f));
	}
	return ret;
}

int kr_fw_cfg_add_file(struct kr_fw_cfg *fw, const char *name, const void *data, size_t len)
{
	int ret;

	pthread_mutex_lock(&fw->lock);
	ret = fw_add_file_locked(fw, name, data, len);
	pthread_mutex_unlock(&fw->lock);
	return ret;
}

/* etc/e820 as QEMU lays it out: le64 address, le64 length, le32 type. */
static int fw_add_e820(struct kr_fw_cfg *fw)
{
	struct kr_e820_entry e[KR_E820_MAX];
	uint8_t buf[KR_E820_MAX * 20];
	size_t n = kr_e820_build(fw->mem, e, KR_E820_MAX);

	for (size_t i = 0; i < n; i++) {
		kr_put_le(buf + 20 * i, 8, e[i].addr);
		kr_put_le(buf + 20 * i + 8, 8, e[i].size);
		kr_put_le(buf + 20 * i + 16, 4, e[i].type);
	}
	return fw_add_file_locked(fw, "etc/e820", buf, 20 * n);
}

static int fw_populate(struct kr_fw_cfg *fw, const struct kr_fw_cfg_config *cfg)
{
	unsigned int max_cpus = cfg->max_cpus ? cfg->max_cpus : cfg->nb_cpus;
	/* SeaBIOS: -1 is "never reboot"; 0 would reboot at once, in a loop. */
	uint32_t wait = cfg->boot_fail_wait_ms ? cfg->boot_fail_wait_ms : UINT32_MAX;
	const char *bo = cfg->bootorder;
	uint8_t wait_le[4];
	int ret;

	kr_put_le(wait_le, 4, wait);
	ret = fw_item_set(&fw->fixed[KR_FW_CFG_SIGNATURE], "QEMU", 4);
	if (!ret)
		ret = fw_item_set_le(&fw->fixed[KR_FW_CFG_ID],
				     KR_FW_CFG_ID_TRADITIONAL | KR_FW_CFG_ID_DMA, 4);
	if (!ret)
		ret = fw_item_set_le(&fw->fixed[KR_FW_CFG_RAM_SIZE], kr_mem_size(cfg->mem), 8);
	if (!ret)
		ret = fw_item_set_le(&fw->fixed[KR_FW_CFG_NB_CPUS], cfg->nb_cpus, 2);
	if (!ret)
		ret = fw_item_set_le(&fw->fixed[KR_FW_CFG_MAX_CPUS], max_cpus, 2);
	if (!ret)
		ret = fw_dir_rebuild(fw);
	if (!ret)
		ret = fw_add_file_locked(fw, "bootorder", bo, bo && *bo ? strlen(bo) + 1 : 0);
	if (!ret)
		ret = fw_add_file_locked(fw, "etc/boot-fail-wait", wait_le, 4);
	if (!ret)
		ret = fw_add_e820(fw);
	return ret;
}

int kr_fw_cfg_create(const struct kr_fw_cfg_config *cfg, struct kr_fw_cfg **out)
{
	struct kr_fw_cfg *fw;
	int ret;

	*out = NULL;
	if (!cfg->mem || !cfg->nb_cpus || cfg->nb_cpus > UINT16_MAX ||
	    cfg->max_cpus > UINT16_MAX || (cfg->max_cpus && cfg->max_cpus < cfg->nb_cpus))
		return -EINVAL;
	fw = calloc(1, sizeof(*fw));
	if (!fw)
		return -ENOMEM;
	fw->mem = cfg->mem;
	ret = pthread_mutex_init(&fw->lock, NULL);
	if (ret) {
		free(fw);
		return -ret;
	}
	ret = fw_populate(fw, cfg);
	if (ret) {
		kr_fw_cfg_destroy(fw);
		return ret;
	}
	*out = fw;
	return 0;
}

void kr_fw_cfg_destroy(struct kr_fw_cfg *fw)
{
	if (!fw)
		return;
	for (size_t i = 0; i < KR_FW_CFG_FILE_FIRST; i++)
		free(fw->fixed[i].data);
	for (size_t i = 0; i < fw->n_files; i++)
		free(fw->files[i].item.data);
	free(fw->files);
	pthread_mutex_destroy(&fw->lock);
	free(fw);
}

int kr_fw_cfg_attach(struct kr_fw_cfg *fw, struct kr_bus *pio)
{
	int ret = kr_bus_add(pio, KR_PORT_FW_CFG, KR_FW_CFG_PORT_LEN, fw_cfg_io, fw, "fw_cfg");

	if (ret)
		return ret;
	return kr_bus_add(pio, KR_PORT_FW_CFG_DMA, KR_FW_CFG_DMA_LEN, fw_cfg_dma_io, fw,
			  "fw_cfg-dma");
}

/* ---- snapshot ----------------------------------------------------------- */

/* FNV-1a, 64 bits: a check that two items' bytes agree, not a defence. */
static uint64_t fw_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* The selected item's length and the hash of its bytes from the offset on. */
static void fw_item_check(const struct kr_fw_cfg *fw, uint32_t *len, uint64_t *hash)
{
	const struct fw_item *it = fw_cur(fw);

	*len = it ? it->len : 0;
	*hash = it && fw->off < it->len ? fw_hash(it->data + fw->off, it->len - fw->off)
					: fw_hash(NULL, 0);
}

/*
 * The state, in this order: the selector (u16), the offset and the DMA
 * address's high half (u32 each), the selected item's length (u32; 0 for
 * an unknown key) and the FNV-1a hash of its unread bytes (u64).
 */
int kr_fw_cfg_save(struct kr_fw_cfg *fw, struct kr_sbuf *b)
{
	uint32_t len;
	uint64_t hash;

	pthread_mutex_lock(&fw->lock);
	fw_item_check(fw, &len, &hash);
	kr_sbuf_begin(b, KR_FW_CFG_STATE_VERSION);
	kr_sbuf_u16(b, fw->sel);
	kr_sbuf_u32(b, fw->off);
	kr_sbuf_u32(b, fw->dma_hi);
	kr_sbuf_u32(b, len);
	kr_sbuf_u64(b, hash);
	pthread_mutex_unlock(&fw->lock);
	return b->oom ? -ENOMEM : 0;
}

int kr_fw_cfg_load(struct kr_fw_cfg *fw, struct kr_sget *g)
{
	uint32_t off, dma_hi, len, have_len;
	uint64_t hash, have_hash;
	uint16_t sel;
	int ret = 0;

	if (kr_sget_begin(g, KR_FW_CFG_STATE_VERSION))
		return -EPROTO;
	sel = kr_sget_u16(g);
	off = kr_sget_u32(g);
	dma_hi = kr_sget_u32(g);
	len = kr_sget_u32(g);
	hash = kr_sget_u64(g);
	if (kr_sget_done(g))
		return -EPROTO;
	/* Any selector is one the guest may write (unknown keys read zeros). */
	pthread_mutex_lock(&fw->lock);
	fw->sel = sel;
	fw->off = 0;
	fw_item_check(fw, &have_len, &have_hash);
	if (len != have_len) {
		ret = kr_sget_fail(g, "item %#x is %u bytes here, %u in the snapshot (another "
				   "configuration?)", sel, have_len, len);
	} else if (off > len) {
		/* The offset never passes the end: reads and skips stop there. */
		ret = kr_sget_fail(g, "offset %u past the end of item %#x (%u bytes)", off, sel,
				   len);
	} else {
		fw->off = off;
		fw_item_check(fw, &have_len, &have_hash);
		if (have_hash != hash)
			ret = kr_sget_fail(g, "item %#x's unread bytes differ from the snapshot's "
					   "(another configuration?)", sel);
	}
	if (ret)
		fw_select(fw, 0);
	else
		fw->dma_hi = dma_hi;
	pthread_mutex_unlock(&fw->lock);
	return ret;
}
