/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MSI-X of one PCI function (PCI Local Bus 3.0 section 6.8.2): the vector
 * table and the pending bit array a BAR exposes, the enable and function
 * mask bits of the capability's message control, and the sending of a
 * vector as a struct kr_msi message.  pci.c owns one per function that has
 * the capability and routes the config and BAR accesses here; devices raise
 * vectors through kr_pci_msix_notify() (pci.h).
 */
#ifndef KHV_RUN_MSIX_H
#define KHV_RUN_MSIX_H

#include "dev.h"
#include "snapfield.h"

#define KR_MSIX_MAX_VECTORS	2048	/* table size field: 11 bits */
#define KR_MSIX_ENTRY_SIZE	16
#define KR_MSIX_CTL_FMASK	0x4000	/* message control: function mask */
#define KR_MSIX_CTL_ENABLE	0x8000

struct kr_msix;

/* What kr_msix_notify() did with the vector. */
enum kr_msix_result {
	KR_MSIX_SENT,		/* the message went out */
	KR_MSIX_PENDING,	/* masked: its pending bit is set, sent when unmasked */
	KR_MSIX_DISABLED,	/* MSI-X is off: the caller falls back to INTx */
	KR_MSIX_BAD_VECTOR,	/* not in the table: nothing happened */
};

/* NULL on allocation failure or nvec not in 1..KR_MSIX_MAX_VECTORS. */
struct kr_msix *kr_msix_create(unsigned int nvec, const struct kr_msi *msi);
void kr_msix_destroy(struct kr_msix *m);
unsigned int kr_msix_vectors(const struct kr_msix *m);
static inline uint64_t kr_msix_table_size(unsigned int nvec)
{
	return (uint64_t)nvec * KR_MSIX_ENTRY_SIZE;
}
static inline uint64_t kr_msix_pba_size(unsigned int nvec)
{
	return (nvec + 63) / 64 * 8ull;
}

/* Message control as the guest reads it: table size, function mask, enable. */
uint16_t kr_msix_control(struct kr_msix *m);
/* The guest wrote message control (only the mask and enable bits count). */
void kr_msix_write_control(struct kr_msix *m, uint16_t ctl);
/* Accesses to the table and the PBA: offset from their start, any size. */
void kr_msix_table_io(struct kr_msix *m, uint64_t offset, uint8_t *data, unsigned int size,
		      bool write);
void kr_msix_pba_io(struct kr_msix *m, uint64_t offset, uint8_t *data, unsigned int size,
		    bool write);
/* Back to the power-on state: disabled, every vector masked, none pending. */
void kr_msix_reset(struct kr_msix *m);

enum kr_msix_result kr_msix_notify(struct kr_msix *m, unsigned int vector);
bool kr_msix_enabled(struct kr_msix *m);

/*
 * For a later host shortcut (an irqfd per vector): the message vector v
 * sends now, and whether it would be sent (MSI-X on, neither the function
 * nor the vector masked).  The route hook runs, with no lock held, after
 * anything that may change either for vector v (the table entry, its mask,
 * the enable or function mask bits: then once per vector, and on reset).
 */
bool kr_msix_route(struct kr_msix *m, unsigned int v, uint64_t *address, uint32_t *data);
typedef void kr_msix_route_fn(void *opaque, unsigned int vector);
void kr_msix_set_route_hook(struct kr_msix *m, kr_msix_route_fn *fn, void *opaque);

/*
 * Snapshot state (snapfield.h's contract; pci.c saves and loads it for each
 * function with MSI-X): the number of vectors, the enable and function
 * mask bits, the table as the guest reads it and the pending bits.  The
 * load refuses another vector count, table bits the table does not keep
 * (address bits 1:0, reserved control bits), pending bits past the last
 * vector and a vector pending while deliverable (it would have been sent).
 * After a load the route hook runs for every vector; no message is sent,
 * pending vectors stay pending until unmasked.
 */
#define KR_MSIX_STATE_VERSION	1
/* 0, or -ENOMEM. */
int kr_msix_save(struct kr_msix *m, struct kr_sbuf *b);
/* 0, or -EPROTO with the reason in g. */
int kr_msix_load(struct kr_msix *m, struct kr_sget *g);

#endif
