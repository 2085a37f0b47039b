/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khv-run's device interface: what every device file implements and what
 * it may call.  A device is a set of address ranges on one of two buses
 * (port I/O, MMIO) with one handler each, plus the interrupt lines it
 * drives.  Nothing here names khv: the machine (machine.c) wires devices
 * to the VM, and the unit tests wire them to fakes.
 *
 * Locking contract: a bus handler runs on the thread of the vCPU whose
 * access exited (several at once for several vCPUs), or on the I/O thread
 * for a device's own work.  Every device serialises its own state with its
 * own mutex; the bus takes no lock of its own while it calls a handler, and
 * ranges are only added before the vCPUs start.  A handler never blocks on
 * guest-controlled events (no waiting for another vCPU); slow work (disk,
 * network) goes to the I/O thread.
 */
#ifndef KHV_RUN_DEV_H
#define KHV_RUN_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One access: offset from the start of the range, size 1, 2, 4 or 8 bytes,
 * data in little-endian order in data[0..size).  A read fills data (the
 * bus presets it to all-ones, what an unclaimed read returns on a PC).
 */
typedef void kr_io_fn(void *opaque, uint64_t offset, uint8_t *data, unsigned int size,
		      bool write);

struct kr_range {
	uint64_t base;
	uint64_t len;
	kr_io_fn *fn;
	void *opaque;
	const char *name;	/* for --trace and error messages */
};

/* A bus: sorted, non-overlapping ranges. */
struct kr_bus {
	struct kr_range *ranges;
	size_t n, cap;
	const char *name;	/* "pio" or "mmio" */
};

void kr_bus_init(struct kr_bus *bus, const char *name);
void kr_bus_free(struct kr_bus *bus);
/* 0, -EEXIST when [base, base + len) overlaps a range, -EINVAL, -ENOMEM. */
int kr_bus_add(struct kr_bus *bus, uint64_t base, uint64_t len, kr_io_fn *fn, void *opaque,
	       const char *name);
const struct kr_range *kr_bus_find(const struct kr_bus *bus, uint64_t addr);
/*
 * Dispatch one access.  true when a range claimed it; false when not (a read
 * then returns all-ones and a write is dropped: the caller may count it).
 * An access that straddles the end of a range goes to the range of its
 * first byte, which sees offset + size beyond len and must cope.
 */
bool kr_bus_access(const struct kr_bus *bus, uint64_t addr, uint8_t *data, unsigned int size,
		   bool write);

/* Little-endian helpers for handlers. */
static inline uint64_t kr_get_le(const uint8_t *data, unsigned int size)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < size && i < 8; i++)
		v |= (uint64_t)data[i] << (8 * i);
	return v;
}

static inline void kr_put_le(uint8_t *data, unsigned int size, uint64_t v)
{
	for (unsigned int i = 0; i < size && i < 8; i++)
		data[i] = v >> (8 * i);
}

/*
 * An interrupt line a device drives: a GSI of the in-kernel irqchip (ISA
 * IRQs 0-15 are GSIs 0-15, PCI INTx lines 16-23).  level 1 = asserted.
 * Edge devices pulse (1 then 0).
 */
struct kr_irq {
	void (*set)(void *opaque, unsigned int gsi, int level);
	void *opaque;
	unsigned int gsi;
};

static inline void kr_irq_set(const struct kr_irq *irq, int level)
{
	if (irq->set)
		irq->set(irq->opaque, irq->gsi, level);
}

static inline void kr_irq_pulse(const struct kr_irq *irq)
{
	kr_irq_set(irq, 1);
	kr_irq_set(irq, 0);
}

/*
 * An MSI a device sends (PCI MSI-X): address and data as the guest
 * programmed them.
 */
struct kr_msi {
	int (*send)(void *opaque, uint64_t address, uint32_t data);
	void *opaque;
};

/*
 * Guest RAM as the VMM maps it: up to two host-contiguous pieces, below and
 * above the PCI hole.  kr_gpa() returns the host address of [gpa, gpa+len)
 * when all of it is RAM, else NULL: devices check every guest-supplied
 * address with it (a descriptor pointing at MMIO or past RAM is the guest's
 * error, never a host crash).
 */
struct kr_mem {
	uint8_t *low;		/* gpa 0 .. low_size */
	uint64_t low_size;
	uint8_t *high;		/* gpa 4 GiB .. 4 GiB + high_size */
	uint64_t high_size;
	/*
	 * While a migration copies memory (migrate.c): a bit per 4 KiB page
	 * of low ([0]) and high ([1]), set by kr_mem_dirty() for each write
	 * the VMM itself makes into guest memory, which khv's dirty log
	 * cannot see (it traps the guest's writes only).  NULL when off;
	 * the pointers are atomics, as devices write from any thread.
	 */
	uint64_t *dirty[2];
};

#define KR_4G	0x100000000ull

static inline void *kr_gpa(const struct kr_mem *m, uint64_t gpa, uint64_t len)
{
	if (gpa + len < gpa)
		return NULL;
	if (gpa + len <= m->low_size)
		return m->low + gpa;
	if (gpa >= KR_4G && gpa - KR_4G + len <= m->high_size)
		return m->high + (gpa - KR_4G);
	return NULL;
}

/*
 * The VMM wrote [hva, hva + len) of guest memory (a device's DMA): a
 * migration in progress sends those pages again.  Call it after the write.
 */
static inline void kr_mem_dirty(const struct kr_mem *m, const void *hva, uint64_t len)
{
	const uint8_t *p = hva;

	for (int i = 0; i < 2 && len; i++) {
		uint64_t *bits = __atomic_load_n(&m->dirty[i], __ATOMIC_ACQUIRE);
		const uint8_t *base = i ? m->high : m->low;
		uint64_t size = i ? m->high_size : m->low_size, first, last;

		if (!bits || !base || p < base || p >= base + size)
			continue;
		first = (uint64_t)(p - base) >> 12;
		last = ((uint64_t)(p - base) + (len < size - (uint64_t)(p - base) ?
						 len : size - (uint64_t)(p - base)) - 1) >> 12;
		for (uint64_t pg = first; pg <= last; pg++)
			__atomic_fetch_or(&bits[pg / 64], 1ull << (pg % 64), __ATOMIC_RELEASE);
	}
}

static inline uint64_t kr_mem_size(const struct kr_mem *m)
{
	return m->low_size + m->high_size;
}

#endif
