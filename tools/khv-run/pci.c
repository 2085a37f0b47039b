// SPDX-License-Identifier: GPL-2.0
/*
 * PCI bus 0 (pci.h): configuration space of each function, the two ways
 * to reach it (ports 0xcf8/0xcfc and ECAM), BAR decoding inside the MMIO
 * and I/O windows, INTx lines and the MSI-X capability; the bus's snapshot
 * state (end of the file).
 *
 * Config space is kept as the 256 bytes the guest sees plus a write mask
 * per byte: a guest write merges each byte under its mask, so read-only
 * fields stay put whatever the access size or offset, and BAR sizing falls
 * out of it (the mask of a BAR holds only the address bits at or above its
 * size: all-ones written reads back as the size mask and the type bits).
 * Only the status register's interrupt bit and MSI-X message control are
 * made up when read.
 *
 * Locking:
 *  - cfg_lock (mutex) covers every function's cfg[] and CONFIG_ADDRESS and
 *    the reset control byte.  Config accesses are rare after boot, so one
 *    lock for the bus is enough.
 *  - decode_lock (rwlock) covers the window tables and dev->decoded[]:
 *    readers are the BAR accesses of every vCPU, the writer a config write
 *    to a command or BAR register (taken inside cfg_lock).  The handler of
 *    the decoding BAR is called after the read lock is dropped: devices
 *    are never removed while vCPUs run, and an access racing with the
 *    BAR's move reaching the old decode is what hardware does too.
 *  - irq_lock (mutex) covers INTx levels and the count of devices asserting
 *    each shared GSI.  kr_irq_set() is called with it held, on purpose: the
 *    OR of devices sharing a line must reach the irqchip in the order the
 *    count changed.  That callback is a leaf (an irqchip ioctl).
 *  - the MSI-X state has its own leaf lock (msix.c).
 * Order: cfg_lock -> decode_lock, cfg_lock -> irq_lock, cfg_lock -> msix.
 * Device callbacks (ops) and MSI messages run with none of these held.
 * The device table itself (pci->dev[]) only changes before vCPUs start.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pci.h"

#define NOWHERE			UINT64_MAX
#define WINDOW_MAX		((KR_PCI_SLOTS - 1) * KR_PCI_BARS)
#define CONF1_ENABLE		0x80000000u
#define CONF1_MASK		0x80fffffcu	/* bits 30:24 and 1:0 read 0 */
#define RST_CNT_SYS_RST		0x02
#define RST_CNT_RST_CPU		0x04
#define RST_CNT_FULL_RST	0x08
/* Command bits the guest may set; only I/O, memory, master, INTx-off act. */
#define CMD_WMASK		0x0547

struct kr_pci_dev {
	struct kr_pci *pci;
	unsigned int slot;
	const char *name;
	uint8_t cfg[KR_PCI_CFG_SIZE];
	uint8_t boot[KR_PCI_CFG_SIZE];	/* cfg after setup: what reset restores */
	uint8_t wmask[KR_PCI_CFG_SIZE];
	struct kr_pci_bar_info bar[KR_PCI_BARS];
	uint64_t decoded[KR_PCI_BARS];	/* where each BAR decodes, or NOWHERE */
	unsigned int last_cap;		/* 0: no capability yet */
	unsigned int cap_end;
	unsigned int claim_lo, claim_hi;
	struct kr_msix *msix;
	unsigned int msix_cap, msix_bar;
	uint64_t msix_table, msix_pba;
	const struct kr_pci_dev_ops *ops;
	void *opaque;
	bool bus_master;		/* atomic: read by device threads */
	bool intx;
	unsigned int gsi;
	bool intx_level;		/* under irq_lock; atomic for the status read */
	bool intx_off;			/* under irq_lock */
	bool intx_on;			/* counted in gsi_count[] */
};

struct window_entry {
	uint64_t base, len;
	struct kr_pci_dev *dev;
	unsigned int bar;
};

struct kr_pci {
	pthread_mutex_t cfg_lock;
	pthread_rwlock_t decode_lock;
	pthread_mutex_t irq_lock;
	uint32_t config_address;
	uint8_t rst_cnt;
	struct kr_pci_dev *dev[KR_PCI_SLOTS];
	struct window_entry mem[WINDOW_MAX], io[WINDOW_MAX];
	unsigned int n_mem, n_io;
	unsigned int gsi_count[4];
	uint64_t next_mem, next_io;
	struct kr_pci_params params;
};

/* ---- setup --------------------------------------------------------------- */

/* Write a setup value: the live and the boot copy. */
static void setup_put(struct kr_pci_dev *dev, unsigned int reg, unsigned int size, uint64_t v)
{
	kr_put_le(&dev->cfg[reg], size, v);
	kr_put_le(&dev->boot[reg], size, v);
}

static void setup_wmask(struct kr_pci_dev *dev, unsigned int reg, unsigned int size, uint64_t m)
{
	kr_put_le(&dev->wmask[reg], size, m);
}

static struct kr_pci_dev *dev_new(struct kr_pci *pci, unsigned int slot, const char *name)
{
	struct kr_pci_dev *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return NULL;
	dev->pci = pci;
	dev->slot = slot;
	dev->name = name;
	dev->cap_end = KR_PCI_CAP_START;
	for (unsigned int i = 0; i < KR_PCI_BARS; i++)
		dev->decoded[i] = NOWHERE;
	setup_wmask(dev, KR_PCI_COMMAND, 2, CMD_WMASK);
	setup_wmask(dev, 0x0c, 1, 0xff);		/* cache line size: storage */
	setup_wmask(dev, KR_PCI_INT_LINE, 1, 0xff);
	return dev;
}

struct kr_pci *kr_pci_create(const struct kr_pci_params *p)
{
	struct kr_pci *pci = calloc(1, sizeof(*pci));
	struct kr_pci_dev *hb;

	if (!pci)
		return NULL;
	pci->params = *p;
	pci->next_mem = KR_PCI_MMIO32_BASE;
	pci->next_io = KR_PCI_IO_BASE;
	hb = dev_new(pci, 0, "host-bridge");
	if (!hb) {
		free(pci);
		return NULL;
	}
	setup_put(hb, KR_PCI_VENDOR_ID, 2, KR_PCI_HB_VENDOR);
	setup_put(hb, KR_PCI_DEVICE_ID, 2, KR_PCI_HB_DEVICE);
	setup_put(hb, KR_PCI_CLASS_PROG, 3, KR_PCI_HB_CLASS);
	pci->dev[0] = hb;
	pthread_mutex_init(&pci->cfg_lock, NULL);
	pthread_rwlock_init(&pci->decode_lock, NULL);
	pthread_mutex_init(&pci->irq_lock, NULL);
	return pci;
}

void kr_pci_destroy(struct kr_pci *pci)
{
	if (!pci)
		return;
	for (unsigned int s = 0; s < KR_PCI_SLOTS; s++) {
		if (pci->dev[s])
			kr_msix_destroy(pci->dev[s]->msix);
		free(pci->dev[s]);
	}
	pthread_mutex_destroy(&pci->cfg_lock);
	pthread_rwlock_destroy(&pci->decode_lock);
	pthread_mutex_destroy(&pci->irq_lock);
	free(pci);
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static int bar_alloc(uint64_t *next, uint64_t end, uint64_t size, uint64_t *addr)
{
	uint64_t base = (*next + size - 1) & ~(size - 1);

	if (base < *next || base > end || end - base < size)
		return -ENOSPC;
	*addr = base;
	*next = base + size;
	return 0;
}

static int check_bars(const struct kr_pci_dev_config *c)
{
	for (unsigned int i = 0; i < KR_PCI_BARS; i++) {
		const struct kr_pci_bar_info *b = &c->bar[i];

		switch (b->type) {
		case KR_PCI_BAR_NONE:
			continue;
		case KR_PCI_BAR_IO:
			if (b->size < 4 || b->size > 256 || b->prefetchable)
				return -EINVAL;
			break;
		case KR_PCI_BAR_MEM64:
			if (i == KR_PCI_BARS - 1 || c->bar[i + 1].type != KR_PCI_BAR_NONE)
				return -EINVAL;
			/* fall through */
		case KR_PCI_BAR_MEM32:
			if (b->size < 16 || b->size > KR_PCI_MMIO32_END - KR_PCI_MMIO32_BASE)
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
		if (!is_pow2(b->size))
			return -EINVAL;
		if (b->type == KR_PCI_BAR_MEM64)
			i++;
	}
	return 0;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int check_msix(const struct kr_pci_dev_config *c)
{
	const struct kr_pci_bar_info *b;
	uint64_t tlen, plen;

	if (!c->msix_vectors)
		return 0;
	if (c->msix_vectors > KR_MSIX_MAX_VECTORS || c->msix_bar >= KR_PCI_BARS)
		return -EINVAL;
	b = &c->bar[c->msix_bar];
	tlen = kr_msix_table_size(c->msix_vectors);
	plen = kr_msix_pba_size(c->msix_vectors);
	if (b->type != KR_PCI_BAR_MEM32 && b->type != KR_PCI_BAR_MEM64)
		return -EINVAL;
	if ((c->msix_table | c->msix_pba) & 7 || c->msix_table > b->size ||
	    b->size - c->msix_table < tlen || c->msix_pba > b->size ||
	    b->size - c->msix_pba < plen ||
	    ranges_overlap(c->msix_table, tlen, c->msix_pba, plen))
		return -EINVAL;
	return 0;
}

/* BAR i's register value and write mask, for a BAR at addr. */
static void setup_bar(struct kr_pci_dev *dev, unsigned int i, uint64_t addr)
{
	const struct kr_pci_bar_info *b = &dev->bar[i];
	unsigned int reg = KR_PCI_BAR0 + 4 * i;
	uint32_t flags, low_bits;

	if (b->type == KR_PCI_BAR_IO) {
		flags = KR_PCI_BAR_IO_FLAG;
		low_bits = 0x3;
	} else {
		flags = (b->type == KR_PCI_BAR_MEM64 ? KR_PCI_BAR_MEM64_FLAG : 0) |
			(b->prefetchable ? KR_PCI_BAR_PREFETCH : 0);
		low_bits = 0xf;
	}
	setup_put(dev, reg, 4, (uint32_t)addr | flags);
	setup_wmask(dev, reg, 4, (uint32_t)~(b->size - 1) & ~low_bits);
	if (b->type == KR_PCI_BAR_MEM64) {
		setup_put(dev, reg + 4, 4, addr >> 32);
		setup_wmask(dev, reg + 4, 4, 0xffffffffu);
	}
}

static int place_bars(struct kr_pci *pci, struct kr_pci_dev *dev)
{
	for (unsigned int i = 0; i < KR_PCI_BARS; i++) {
		const struct kr_pci_bar_info *b = &dev->bar[i];
		uint64_t addr;
		int ret;

		if (b->type == KR_PCI_BAR_NONE)
			continue;
		if (b->type == KR_PCI_BAR_IO)
			ret = bar_alloc(&pci->next_io, KR_PCI_IO_END, b->size, &addr);
		else
			ret = bar_alloc(&pci->next_mem, KR_PCI_MMIO32_END, b->size, &addr);
		if (ret)
			return ret;
		setup_bar(dev, i, addr);
		if (b->type == KR_PCI_BAR_MEM64)
			i++;
	}
	return 0;
}

static int setup_msix(struct kr_pci *pci, struct kr_pci_dev *dev,
		      const struct kr_pci_dev_config *c)
{
	uint8_t cap[12] = { KR_PCI_CAP_ID_MSIX };
	int pos;

	dev->msix = kr_msix_create(c->msix_vectors, &pci->params.msi);
	if (!dev->msix)
		return -ENOMEM;
	dev->msix_bar = c->msix_bar;
	dev->msix_table = c->msix_table;
	dev->msix_pba = c->msix_pba;
	kr_put_le(&cap[2], 2, c->msix_vectors - 1);
	kr_put_le(&cap[4], 4, c->msix_table | c->msix_bar);
	kr_put_le(&cap[8], 4, c->msix_pba | c->msix_bar);
	/* Mask and enable live in msix.c: the bytes here are read-only. */
	pos = kr_pci_add_cap(dev, cap, NULL, sizeof(cap));
	if (pos < 0)
		return pos;
	dev->msix_cap = pos;
	return 0;
}

int kr_pci_add(struct kr_pci *pci, int slot, const struct kr_pci_dev_config *c,
	       struct kr_pci_dev **devp)
{
	uint64_t next_mem = pci->next_mem, next_io = pci->next_io;
	struct kr_pci_dev *dev;
	int ret;

	if (slot >= KR_PCI_SLOTS || slot == 0 || check_bars(c) || check_msix(c))
		return -EINVAL;
	if (slot < 0) {
		for (slot = 1; slot < KR_PCI_SLOTS && pci->dev[slot]; slot++)
			;
		if (slot == KR_PCI_SLOTS)
			return -EBUSY;
	} else if (pci->dev[slot]) {
		return -EBUSY;
	}
	dev = dev_new(pci, slot, c->name);
	if (!dev)
		return -ENOMEM;
	memcpy(dev->bar, c->bar, sizeof(dev->bar));
	dev->ops = c->ops;
	dev->opaque = c->opaque;
	setup_put(dev, KR_PCI_VENDOR_ID, 2, c->vendor_id);
	setup_put(dev, KR_PCI_DEVICE_ID, 2, c->device_id);
	setup_put(dev, KR_PCI_REVISION, 1, c->revision);
	setup_put(dev, KR_PCI_CLASS_PROG, 3, c->class_code);
	setup_put(dev, KR_PCI_SUBSYS_VENDOR, 2, c->subsys_vendor_id);
	setup_put(dev, KR_PCI_SUBSYS_ID, 2, c->subsys_id);
	if (c->intx) {
		dev->intx = true;
		dev->gsi = kr_pci_intx_gsi(slot, 0);
		setup_put(dev, KR_PCI_INT_PIN, 1, 1);
		setup_put(dev, KR_PCI_INT_LINE, 1, dev->gsi);
	}
	ret = place_bars(pci, dev);
	if (!ret && c->msix_vectors)
		ret = setup_msix(pci, dev, c);
	if (ret) {
		pci->next_mem = next_mem;	/* give the window space back */
		pci->next_io = next_io;
		kr_msix_destroy(dev->msix);
		free(dev);
		return ret;
	}
	pci->dev[slot] = dev;
	if (devp)
		*devp = dev;
	return 0;
}

unsigned int kr_pci_dev_slot(const struct kr_pci_dev *dev)
{
	return dev->slot;
}

int kr_pci_add_cap(struct kr_pci_dev *dev, const uint8_t *cap, const uint8_t *wmask,
		   unsigned int len)
{
	unsigned int pos = (dev->cap_end + 3) & ~3u;

	if (len < 2 || pos >= KR_PCI_CFG_SIZE || len > KR_PCI_CFG_SIZE - pos)
		return -ENOSPC;
	memcpy(&dev->cfg[pos], cap, len);
	memcpy(&dev->boot[pos], cap, len);
	if (wmask)
		memcpy(&dev->wmask[pos], wmask, len);
	setup_put(dev, pos + 1, 1, 0);
	dev->wmask[pos] = dev->wmask[pos + 1] = 0;	/* the list stays intact */
	if (dev->last_cap)
		setup_put(dev, dev->last_cap + 1, 1, pos);
	else
		setup_put(dev, KR_PCI_CAP_PTR, 1, pos);
	setup_put(dev, KR_PCI_STATUS, 2, kr_get_le(&dev->boot[KR_PCI_STATUS], 2) | KR_PCI_STS_CAPS);
	dev->last_cap = pos;
	dev->cap_end = pos + len;
	return pos;
}

int kr_pci_claim_cfg(struct kr_pci_dev *dev, unsigned int reg, unsigned int len)
{
	if (reg < KR_PCI_CAP_START || reg > KR_PCI_CFG_SIZE || len > KR_PCI_CFG_SIZE - reg || !len)
		return -EINVAL;
	dev->claim_lo = reg;
	dev->claim_hi = reg + len;
	return 0;
}

/* ---- BAR decoding -------------------------------------------------------- */

/* The address in BAR i's registers (cfg_lock held). */
static uint64_t bar_reg_addr(const struct kr_pci_dev *dev, unsigned int i)
{
	uint64_t v = kr_get_le(&dev->cfg[KR_PCI_BAR0 + 4 * i], 4);

	if (dev->bar[i].type == KR_PCI_BAR_IO)
		return v & ~3ull;
	if (dev->bar[i].type == KR_PCI_BAR_MEM64)
		v |= kr_get_le(&dev->cfg[KR_PCI_BAR0 + 4 * i + 4], 4) << 32;
	return v & ~0xfull;
}

/*
 * Where BAR i decodes: its address when its space is enabled in the command
 * register and all of it lies in its window; a BAR elsewhere (at 0, over
 * RAM, past the window) is unreachable, as behind a real host bridge.
 */
static uint64_t bar_decode(const struct kr_pci_dev *dev, unsigned int i)
{
	const struct kr_pci_bar_info *b = &dev->bar[i];
	uint16_t cmd = kr_get_le(&dev->cfg[KR_PCI_COMMAND], 2);
	uint64_t a = bar_reg_addr(dev, i), lo, hi;

	switch (b->type) {
	case KR_PCI_BAR_IO:
		if (!(cmd & KR_PCI_CMD_IO))
			return NOWHERE;
		lo = KR_PCI_IO_BASE;
		hi = KR_PCI_IO_END;
		break;
	case KR_PCI_BAR_MEM32:
	case KR_PCI_BAR_MEM64:
		if (!(cmd & KR_PCI_CMD_MEMORY))
			return NOWHERE;
		lo = KR_PCI_MMIO32_BASE;
		hi = KR_PCI_MMIO32_END;
		break;
	default:
		return NOWHERE;
	}
	if (a < lo || a > hi || hi - a < b->size)
		return NOWHERE;
	return a;
}

/*
 * Recompute every BAR's decode and the window tables (cfg_lock held).  The
 * tables are in slot then BAR order: of two BARs the guest made overlap,
 * the first one gets the accesses.
 */
static void rebuild_windows(struct kr_pci *pci)
{
	pthread_rwlock_wrlock(&pci->decode_lock);
	pci->n_mem = pci->n_io = 0;
	for (unsigned int s = 1; s < KR_PCI_SLOTS; s++) {
		struct kr_pci_dev *dev = pci->dev[s];

		if (!dev)
			continue;
		for (unsigned int i = 0; i < KR_PCI_BARS; i++) {
			uint64_t a = bar_decode(dev, i);
			struct window_entry *e;

			dev->decoded[i] = a;
			if (a == NOWHERE)
				continue;
			if (dev->bar[i].type == KR_PCI_BAR_IO)
				e = &pci->io[pci->n_io++];
			else
				e = &pci->mem[pci->n_mem++];
			*e = (struct window_entry){ a, dev->bar[i].size, dev, i };
		}
	}
	pthread_rwlock_unlock(&pci->decode_lock);
}

bool kr_pci_bar_addr(struct kr_pci_dev *dev, unsigned int bar, uint64_t *gpa)
{
	uint64_t a;

	if (bar >= KR_PCI_BARS)
		return false;
	pthread_rwlock_rdlock(&dev->pci->decode_lock);
	a = dev->decoded[bar];
	pthread_rwlock_unlock(&dev->pci->decode_lock);
	if (a == NOWHERE)
		return false;
	*gpa = a;
	return true;
}

/* An access inside BAR `bar` (offset + size <= its size): MSI-X or the device. */
static void bar_dispatch(struct kr_pci_dev *dev, unsigned int bar, uint64_t off, uint8_t *data,
			 unsigned int size, bool write)
{
	if (dev->msix && bar == dev->msix_bar) {
		unsigned int n = kr_msix_vectors(dev->msix);
		uint64_t t = dev->msix_table, tlen = kr_msix_table_size(n);
		uint64_t p = dev->msix_pba, plen = kr_msix_pba_size(n);

		if (ranges_overlap(off, size, t, tlen)) {
			if (off >= t && off + size <= t + tlen)
				kr_msix_table_io(dev->msix, off - t, data, size, write);
			return;		/* half in the table: dropped */
		}
		if (ranges_overlap(off, size, p, plen)) {
			if (off >= p && off + size <= p + plen)
				kr_msix_pba_io(dev->msix, off - p, data, size, write);
			return;
		}
	}
	if (dev->ops && dev->ops->bar_io)
		dev->ops->bar_io(dev->opaque, bar, off, data, size, write);
}

void kr_pci_bar_access(struct kr_pci_dev *dev, unsigned int bar, uint64_t offset,
		       uint8_t *data, unsigned int size, bool write)
{
	const struct kr_pci_bar_info *b;

	if (!write)
		memset(data, 0xff, size);
	if (bar >= KR_PCI_BARS || !size || size > 8)
		return;
	b = &dev->bar[bar];
	if (b->type == KR_PCI_BAR_NONE || offset > b->size || b->size - offset < size)
		return;
	bar_dispatch(dev, bar, offset, data, size, write);
}

static void window_access(struct kr_pci *pci, bool io, uint64_t addr, uint8_t *data,
			  unsigned int size, bool write)
{
	const struct window_entry *tab = io ? pci->io : pci->mem;
	struct kr_pci_dev *dev = NULL;
	unsigned int bar = 0;
	uint64_t off = 0;

	if (!write)
		memset(data, 0xff, size);
	if (!size || size > 8)
		return;
	pthread_rwlock_rdlock(&pci->decode_lock);
	for (unsigned int i = 0, n = io ? pci->n_io : pci->n_mem; i < n; i++) {
		if (addr < tab[i].base || addr - tab[i].base >= tab[i].len)
			continue;
		off = addr - tab[i].base;
		if (tab[i].len - off >= size) {		/* else straddles the end: dropped */
			dev = tab[i].dev;
			bar = tab[i].bar;
		}
		break;
	}
	pthread_rwlock_unlock(&pci->decode_lock);
	if (dev)
		bar_dispatch(dev, bar, off, data, size, write);
}

static void mem_window_fn(void *opaque, uint64_t offset, uint8_t *data, unsigned int size,
			  bool write)
{
	window_access(opaque, false, KR_PCI_MMIO32_BASE + offset, data, size, write);
}

static void io_window_fn(void *opaque, uint64_t offset, uint8_t *data, unsigned int size,
			 bool write)
{
	window_access(opaque, true, KR_PCI_IO_BASE + offset, data, size, write);
}

/* ---- config space -------------------------------------------------------- */

static bool in_msix_ctl(const struct kr_pci_dev *dev, unsigned int reg)
{
	return dev->msix && reg >= dev->msix_cap + 2 && reg < dev->msix_cap + 4;
}

/* One byte as the guest reads it (cfg_lock held). */
static uint8_t cfg_byte(struct kr_pci_dev *dev, unsigned int reg)
{
	uint8_t v = dev->cfg[reg];

	if (reg == KR_PCI_STATUS && __atomic_load_n(&dev->intx_level, __ATOMIC_RELAXED))
		v |= KR_PCI_STS_INTX;
	if (in_msix_ctl(dev, reg) && reg == dev->msix_cap + 3)
		v |= (kr_msix_control(dev->msix) >> 8) & 0xc0;
	return v;
}

static void cfg_read(struct kr_pci *pci, struct kr_pci_dev *dev, unsigned int reg,
		     uint8_t *data, unsigned int size)
{
	pthread_mutex_lock(&pci->cfg_lock);
	for (unsigned int i = 0; i < size; i++)
		data[i] = reg + i < KR_PCI_CFG_SIZE ? cfg_byte(dev, reg + i) : 0;
	pthread_mutex_unlock(&pci->cfg_lock);
}

/*
 * The INTx line follows level, unless disabled (irq_lock held).  drive:
 * tell the irqchip when the OR of the devices on the line changes; a load
 * only counts (the irqchip's own saved state has the line).
 */
static void intx_update(struct kr_pci_dev *dev, bool drive)
{
	struct kr_pci *pci = dev->pci;
	bool on = dev->intx && dev->intx_level && !dev->intx_off;
	struct kr_irq line = { pci->params.intx.set, pci->params.intx.opaque, dev->gsi };
	unsigned int *count;

	if (on == dev->intx_on)
		return;
	dev->intx_on = on;
	count = &pci->gsi_count[dev->gsi - KR_GSI_PCI_INTA];
	if (on && (*count)++ == 0 && drive)
		kr_irq_set(&line, 1);
	else if (!on && --(*count) == 0 && drive)
		kr_irq_set(&line, 0);
}

void kr_pci_set_irq(struct kr_pci_dev *dev, int level)
{
	pthread_mutex_lock(&dev->pci->irq_lock);
	__atomic_store_n(&dev->intx_level, level != 0, __ATOMIC_RELAXED);
	intx_update(dev, true);
	pthread_mutex_unlock(&dev->pci->irq_lock);
}

/* The command register changed (cfg_lock held); drive: as intx_update(). */
static void command_changed(struct kr_pci_dev *dev, bool drive)
{
	uint16_t cmd = kr_get_le(&dev->cfg[KR_PCI_COMMAND], 2);

	__atomic_store_n(&dev->bus_master, !!(cmd & KR_PCI_CMD_MASTER), __ATOMIC_RELAXED);
	pthread_mutex_lock(&dev->pci->irq_lock);
	dev->intx_off = cmd & KR_PCI_CMD_INTX_OFF;
	intx_update(dev, drive);
	pthread_mutex_unlock(&dev->pci->irq_lock);
}

/*
 * Recompute decoding (cfg_lock held) and tell which of dev's BARs moved in
 * *moved (a bit per BAR), for the bar_moved calls made after unlocking.
 */
static void decode_changed(struct kr_pci *pci, struct kr_pci_dev *dev, unsigned int *moved)
{
	uint64_t before[KR_PCI_BARS];

	memcpy(before, dev->decoded, sizeof(before));
	rebuild_windows(pci);
	for (unsigned int i = 0; i < KR_PCI_BARS; i++)
		if (before[i] != dev->decoded[i])
			*moved |= 1u << i;
}

static void call_bar_moved(struct kr_pci_dev *dev, unsigned int moved)
{
	for (unsigned int i = 0; i < KR_PCI_BARS; i++)
		if (moved & (1u << i) && dev->ops && dev->ops->bar_moved)
			dev->ops->bar_moved(dev->opaque, i);
}

static void cfg_write(struct kr_pci *pci, struct kr_pci_dev *dev, unsigned int reg,
		      const uint8_t *data, unsigned int size)
{
	bool cmd = false, bars = false, ctl_written = false;
	unsigned int moved = 0;
	uint16_t ctl = 0;

	pthread_mutex_lock(&pci->cfg_lock);
	for (unsigned int i = 0; i < size && reg + i < KR_PCI_CFG_SIZE; i++) {
		unsigned int r = reg + i;

		if (in_msix_ctl(dev, r)) {
			if (r == dev->msix_cap + 3) {
				ctl = kr_msix_control(dev->msix) & ~(KR_MSIX_CTL_ENABLE |
								      KR_MSIX_CTL_FMASK);
				ctl |= (data[i] << 8) & (KR_MSIX_CTL_ENABLE | KR_MSIX_CTL_FMASK);
				ctl_written = true;
			}
			continue;
		}
		dev->cfg[r] = (dev->cfg[r] & ~dev->wmask[r]) | (data[i] & dev->wmask[r]);
		cmd |= r == KR_PCI_COMMAND || r == KR_PCI_COMMAND + 1;
		bars |= r >= KR_PCI_BAR0 && r < KR_PCI_BAR0 + 4 * KR_PCI_BARS;
	}
	if (cmd)
		command_changed(dev, true);
	if (cmd || bars)
		decode_changed(pci, dev, &moved);
	pthread_mutex_unlock(&pci->cfg_lock);
	if (ctl_written)
		kr_msix_write_control(dev->msix, ctl);
	call_bar_moved(dev, moved);
}

/*
 * One config access to bus/slot/function, reg in 0..4095.  Functions other
 * than 0 and slots without a device read all-ones (nothing answers); the
 * extended space above 256 of a present function reads 0 (no extended
 * capabilities).
 */
static void cfg_access(struct kr_pci *pci, unsigned int bus, unsigned int slot, unsigned int fn,
		       unsigned int reg, uint8_t *data, unsigned int size, bool write)
{
	struct kr_pci_dev *dev = NULL;

	if (bus == 0 && fn == 0 && slot < KR_PCI_SLOTS)
		dev = pci->dev[slot];
	if (!dev || !size || size > 8) {
		if (!write)
			memset(data, 0xff, size);
		return;
	}
	if (dev->ops && dev->ops->cfg_io && dev->claim_hi && reg >= dev->claim_lo &&
	    reg + size <= dev->claim_hi) {
		if (!write)
			memset(data, 0, size);
		dev->ops->cfg_io(dev->opaque, reg, data, size, write);
		return;
	}
	if (write)
		cfg_write(pci, dev, reg, data, size);
	else
		cfg_read(pci, dev, reg, data, size);
}

uint32_t kr_pci_cfg_read(struct kr_pci_dev *dev, unsigned int reg, unsigned int size)
{
	uint8_t d[4] = { 0 };

	if (size > 4 || reg >= KR_PCI_CFG_SIZE)
		return 0;
	cfg_read(dev->pci, dev, reg, d, size);
	return kr_get_le(d, size);
}

bool kr_pci_bus_master(struct kr_pci_dev *dev)
{
	return __atomic_load_n(&dev->bus_master, __ATOMIC_RELAXED);
}

struct kr_msix *kr_pci_msix(struct kr_pci_dev *dev)
{
	return dev->msix;
}

enum kr_msix_result kr_pci_msix_notify(struct kr_pci_dev *dev, unsigned int vector)
{
	if (!dev->msix)
		return KR_MSIX_DISABLED;
	return kr_msix_notify(dev->msix, vector);
}

/* ---- the ports and ECAM -------------------------------------------------- */

static void ecam_fn(void *opaque, uint64_t offset, uint8_t *data, unsigned int size, bool write)
{
	unsigned int reg = offset & 0xfff;

	if (reg + size > 0x1000 || offset >= KR_ECAM_SIZE) {
		if (!write)
			memset(data, 0xff, size);
		return;
	}
	cfg_access(opaque, offset >> 20, (offset >> 15) & 31, (offset >> 12) & 7, reg, data, size,
		   write);
}

/* Reset control (0xcf9): bit 2 going to 1 with bit 1 set is a hard reset. */
static void reset_port(struct kr_pci *pci, uint8_t *data, bool write)
{
	bool reset = false;

	pthread_mutex_lock(&pci->cfg_lock);
	if (!write) {
		data[0] = pci->rst_cnt;
	} else {
		reset = (data[0] & KR_RESET_VALUE) == KR_RESET_VALUE;
		pci->rst_cnt = data[0] & (RST_CNT_SYS_RST | RST_CNT_FULL_RST);
	}
	pthread_mutex_unlock(&pci->cfg_lock);
	if (reset && pci->params.reset)
		pci->params.reset(pci->params.reset_opaque);
}

/*
 * 0xcf8-0xcff: CONFIG_ADDRESS is only a dword at 0xcf8 (other accesses
 * there go by, as on a PC: Linux's type 1 probe writes a byte to 0xcfb);
 * 0xcf9 as a byte is reset control; CONFIG_DATA is any access inside
 * 0xcfc-0xcff, to the register CONFIG_ADDRESS selects plus the port's low
 * two bits.
 */
static void conf1_fn(void *opaque, uint64_t offset, uint8_t *data, unsigned int size,
		     bool write)
{
	struct kr_pci *pci = opaque;
	uint32_t ca;

	if (offset == 0 && size == 4) {
		pthread_mutex_lock(&pci->cfg_lock);
		if (write)
			pci->config_address = kr_get_le(data, 4) & CONF1_MASK;
		else
			kr_put_le(data, 4, pci->config_address);
		pthread_mutex_unlock(&pci->cfg_lock);
		return;
	}
	if (offset == KR_PORT_RESET - KR_PORT_PCI_CONFIG && size == 1) {
		reset_port(pci, data, write);
		return;
	}
	if (offset < 4 || offset + size > 8) {
		if (!write)
			memset(data, 0xff, size);
		return;
	}
	pthread_mutex_lock(&pci->cfg_lock);
	ca = pci->config_address;
	pthread_mutex_unlock(&pci->cfg_lock);
	if (!(ca & CONF1_ENABLE)) {
		if (!write)
			memset(data, 0xff, size);
		return;
	}
	cfg_access(pci, (ca >> 16) & 0xff, (ca >> 11) & 31, (ca >> 8) & 7,
		   (ca & 0xfc) + (offset & 3), data, size, write);
}

int kr_pci_attach(struct kr_pci *pci, struct kr_bus *pio, struct kr_bus *mmio)
{
	int ret;

	ret = kr_bus_add(pio, KR_PORT_PCI_CONFIG, 8, conf1_fn, pci, "pci-conf1");
	if (!ret)
		ret = kr_bus_add(pio, KR_PCI_IO_BASE, KR_PCI_IO_END - KR_PCI_IO_BASE, io_window_fn,
				 pci, "pci-io");
	if (!ret)
		ret = kr_bus_add(mmio, KR_ECAM_BASE, KR_ECAM_SIZE, ecam_fn, pci, "pci-ecam");
	if (!ret)
		ret = kr_bus_add(mmio, KR_PCI_MMIO32_BASE, KR_PCI_MMIO32_END - KR_PCI_MMIO32_BASE,
				 mem_window_fn, pci, "pci-mem");
	return ret;
}

void kr_pci_reset(struct kr_pci *pci)
{
	pthread_mutex_lock(&pci->cfg_lock);
	pci->config_address = 0;
	pci->rst_cnt = 0;
	pthread_mutex_unlock(&pci->cfg_lock);
	for (unsigned int s = 0; s < KR_PCI_SLOTS; s++) {
		struct kr_pci_dev *dev = pci->dev[s];
		unsigned int moved = 0;

		if (!dev)
			continue;
		pthread_mutex_lock(&pci->cfg_lock);
		memcpy(dev->cfg, dev->boot, sizeof(dev->cfg));
		command_changed(dev, true);
		decode_changed(pci, dev, &moved);
		pthread_mutex_unlock(&pci->cfg_lock);
		if (dev->msix)
			kr_msix_reset(dev->msix);
		call_bar_moved(dev, moved);
		if (dev->ops && dev->ops->reset)
			dev->ops->reset(dev->opaque);
	}
}

/* ---- snapshot ------------------------------------------------------------ */

static uint16_t cfg_vendor(const uint8_t *cfg)
{
	return kr_get_le(&cfg[KR_PCI_VENDOR_ID], 2);
}

static uint16_t cfg_device(const uint8_t *cfg)
{
	return kr_get_le(&cfg[KR_PCI_DEVICE_ID], 2);
}

static uint32_t cfg_class(const uint8_t *cfg)
{
	return kr_get_le(&cfg[KR_PCI_CLASS_PROG], 3);
}

int kr_pci_save(struct kr_pci *pci, struct kr_sbuf *b)
{
	unsigned int n = 0;
	int ret = 0;

	pthread_mutex_lock(&pci->cfg_lock);
	kr_sbuf_begin(b, KR_PCI_STATE_VERSION);
	kr_sbuf_u32(b, pci->config_address);
	kr_sbuf_u8(b, pci->rst_cnt);
	for (unsigned int s = 0; s < KR_PCI_SLOTS; s++)
		n += pci->dev[s] != NULL;
	kr_sbuf_u8(b, n);
	for (unsigned int s = 0; s < KR_PCI_SLOTS && !ret; s++) {
		struct kr_pci_dev *dev = pci->dev[s];
		bool level;
		size_t at;

		if (!dev)
			continue;
		/* Who is there, for the loader to refuse another machine clearly. */
		kr_sbuf_u8(b, s);
		kr_sbuf_u16(b, cfg_vendor(dev->cfg));
		kr_sbuf_u16(b, cfg_device(dev->cfg));
		kr_sbuf_u32(b, cfg_class(dev->cfg));
		kr_sbuf_bytes(b, dev->cfg, sizeof(dev->cfg));
		pthread_mutex_lock(&pci->irq_lock);
		level = dev->intx_level;
		pthread_mutex_unlock(&pci->irq_lock);
		kr_sbuf_bool(b, level);
		/* MSI-X after its length (0: none), so the loader can hand it over whole. */
		at = b->len;
		kr_sbuf_u32(b, 0);
		if (dev->msix) {
			ret = kr_msix_save(dev->msix, b);
			if (!ret && !b->oom)
				kr_put_le(b->p + at, 4, b->len - at - 4);
		}
	}
	pthread_mutex_unlock(&pci->cfg_lock);
	if (!ret && b->oom)
		ret = -ENOMEM;
	return ret;
}

/* One function's state as read, kept until all of the bus was checked. */
struct loaded_fn {
	uint8_t cfg[KR_PCI_CFG_SIZE];
	bool intx_level;
	const uint8_t *msix;	/* its state, inside g's bytes */
	uint32_t msix_len;	/* 0: none */
};

/* The next n bytes of g, passed over and left where they are; NULL if short. */
static const uint8_t *sget_take(struct kr_sget *g, size_t n)
{
	const uint8_t *p;

	if (g->bad || n > g->len - g->off) {
		kr_sget_fail(g, "truncated state");
		return NULL;
	}
	p = g->p + g->off;
	g->off += n;
	return p;
}

/* Slots [from, to) are empty in the snapshot: here too, or refused. */
static int check_empty(struct kr_pci *pci, struct kr_sget *g, unsigned int from, unsigned int to)
{
	for (unsigned int s = from; s < to; s++) {
		const struct kr_pci_dev *dev = pci->dev[s];

		if (dev)
			return kr_sget_fail(g, "slot %u is empty in the snapshot, %04x:%04x here",
					    s, cfg_vendor(dev->boot), cfg_device(dev->boot));
	}
	return 0;
}

/*
 * A loaded config space must be one the guest could have made of the fresh
 * function's: every bit outside the write mask as it was at setup.  That
 * keeps IDs, capabilities and the MSI-X layout, and leaves a BAR only
 * addresses of its alignment with its type bits.
 */
static int check_cfg(struct kr_sget *g, const struct kr_pci_dev *dev, const uint8_t *cfg)
{
	for (unsigned int r = 0; r < KR_PCI_CFG_SIZE; r++) {
		uint8_t ro = ~dev->wmask[r], want = (cfg[r] & ~ro) | (dev->boot[r] & ro);
		unsigned int i;
		uint32_t v;

		if (cfg[r] == want)
			continue;
		if (r < KR_PCI_BAR0 || r >= KR_PCI_BAR0 + 4 * KR_PCI_BARS)
			return kr_sget_fail(g, "slot %u: config byte 0x%02x is 0x%02x, not 0x%02x",
					    dev->slot, r, cfg[r], want);
		i = (r - KR_PCI_BAR0) / 4;
		v = kr_get_le(&cfg[KR_PCI_BAR0 + 4 * i], 4);
		if (dev->bar[i].type == KR_PCI_BAR_NONE)
			return kr_sget_fail(g, "slot %u: BAR %u holds 0x%08x, but there is none",
					    dev->slot, i, v);
		return kr_sget_fail(g, "slot %u: BAR %u holds 0x%08x, not a place for 0x%llx bytes",
				    dev->slot, i, v, (unsigned long long)dev->bar[i].size);
	}
	return 0;
}

/* The next function of the snapshot into fn[its slot]; *next: the first slot not seen yet. */
static int load_fn(struct kr_pci *pci, struct kr_sget *g, struct loaded_fn *fn,
		   unsigned int *next)
{
	unsigned int s = kr_sget_u8(g);
	uint16_t vendor = kr_sget_u16(g);
	uint16_t device = kr_sget_u16(g);
	uint32_t class = kr_sget_u32(g);
	const struct kr_pci_dev *dev;
	struct loaded_fn *f;

	if (g->bad)
		return -EPROTO;
	if (s >= KR_PCI_SLOTS || s < *next)
		return kr_sget_fail(g, "slot %u out of order", s);
	if (check_empty(pci, g, *next, s))
		return -EPROTO;
	*next = s + 1;
	dev = pci->dev[s];
	if (!dev)
		return kr_sget_fail(g, "slot %u holds %04x:%04x in the snapshot, nothing here", s,
				    vendor, device);
	if (vendor != cfg_vendor(dev->boot) || device != cfg_device(dev->boot))
		return kr_sget_fail(g, "slot %u holds %04x:%04x in the snapshot, %04x:%04x here", s,
				    vendor, device, cfg_vendor(dev->boot), cfg_device(dev->boot));
	if (class != cfg_class(dev->boot))
		return kr_sget_fail(g, "slot %u holds class %06x in the snapshot, %06x here",
				    s, class, cfg_class(dev->boot));
	f = &fn[s];
	kr_sget_bytes(g, f->cfg, sizeof(f->cfg));
	f->intx_level = kr_sget_bool(g);
	f->msix_len = kr_sget_u32(g);
	if (g->bad || check_cfg(g, dev, f->cfg))
		return -EPROTO;
	if (dev->msix && !f->msix_len)
		return kr_sget_fail(g, "slot %u: no MSI-X state", s);
	if (!dev->msix && f->msix_len)
		return kr_sget_fail(g, "slot %u: MSI-X state, but no MSI-X here", s);
	f->msix = sget_take(g, f->msix_len);
	return g->bad ? -EPROTO : 0;
}

/*
 * Take the checked state as the guest's config writes would have made it:
 * the command register's effects (bus master, INTx disable; the INTx count
 * of each line without driving it), then decoding rebuilt from all of the
 * registers at once (no BAR passes through a half-loaded bus on its way)
 * and the bar_moved calls for what decodes elsewhere than before.
 */
static void load_apply(struct kr_pci *pci, const struct loaded_fn *fn, uint32_t ca, uint8_t rst)
{
	uint64_t before[KR_PCI_SLOTS][KR_PCI_BARS];
	unsigned int moved[KR_PCI_SLOTS] = { 0 };

	pthread_mutex_lock(&pci->cfg_lock);
	pci->config_address = ca;
	pci->rst_cnt = rst;
	for (unsigned int s = 0; s < KR_PCI_SLOTS; s++) {
		struct kr_pci_dev *dev = pci->dev[s];

		if (!dev)
			continue;
		memcpy(before[s], dev->decoded, sizeof(before[s]));
		memcpy(dev->cfg, fn[s].cfg, sizeof(dev->cfg));
		pthread_mutex_lock(&pci->irq_lock);
		__atomic_store_n(&dev->intx_level, fn[s].intx_level, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&pci->irq_lock);
		command_changed(dev, false);
	}
	rebuild_windows(pci);
	for (unsigned int s = 0; s < KR_PCI_SLOTS; s++)
		for (unsigned int i = 0; pci->dev[s] && i < KR_PCI_BARS; i++)
			if (before[s][i] != pci->dev[s]->decoded[i])
				moved[s] |= 1u << i;
	pthread_mutex_unlock(&pci->cfg_lock);
	for (unsigned int s = 0; s < KR_PCI_SLOTS; s++)
		if (pci->dev[s])
			call_bar_moved(pci->dev[s], moved[s]);
}

int kr_pci_load(struct kr_pci *pci, struct kr_sget *g)
{
	struct loaded_fn *fn;
	unsigned int n, next = 0;
	int ret = -EPROTO;
	uint32_t ca;
	uint8_t rst;

	if (kr_sget_begin(g, KR_PCI_STATE_VERSION))
		return -EPROTO;
	ca = kr_sget_u32(g);
	rst = kr_sget_u8(g);
	n = kr_sget_u8(g);
	if (g->bad)
		return -EPROTO;
	if (ca & ~CONF1_MASK)
		return kr_sget_fail(g, "CONFIG_ADDRESS 0x%08x has bits it does not keep", ca);
	if (rst & ~(RST_CNT_SYS_RST | RST_CNT_FULL_RST))
		return kr_sget_fail(g, "reset control 0x%02x has bits it does not keep", rst);
	if (n > KR_PCI_SLOTS)
		return kr_sget_fail(g, "%u functions on a bus of %u slots", n, KR_PCI_SLOTS);
	fn = calloc(KR_PCI_SLOTS, sizeof(*fn));
	if (!fn)
		return kr_sget_fail(g, "no memory to load the bus");
	for (unsigned int i = 0; i < n; i++)
		if (load_fn(pci, g, fn, &next))
			goto out;
	if (check_empty(pci, g, next, KR_PCI_SLOTS) || kr_sget_done(g))
		goto out;
	/*
	 * MSI-X last: it may still refuse, and it changes its function's
	 * state (and calls route hooks) only when it takes the load.
	 */
	for (unsigned int s = 0; s < KR_PCI_SLOTS; s++) {
		struct kr_sget m;

		if (!fn[s].msix_len)
			continue;
		kr_sget_init(&m, fn[s].msix, fn[s].msix_len, "MSI-X");
		if (kr_msix_load(pci->dev[s]->msix, &m)) {
			kr_sget_fail(g, "slot %u: %s", s, m.why);
			goto out;
		}
	}
	load_apply(pci, fn, ca, rst);
	ret = 0;
out:
	free(fn);
	return ret;
}
