/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio entropy device (virtio 1.2 section 5.4, device ID 4): one queue,
 * "requestq"; each chain's device-writable buffers are filled from the
 * host's getrandom().  No feature bits, no configuration.
 */
#ifndef KHV_RUN_VIRTIO_RNG_H
#define KHV_RUN_VIRTIO_RNG_H

#include <sys/types.h>

#include "virtio_pci.h"

#define KR_VIRTIO_ID_RNG	4
#define KR_RNG_QUEUE_SIZE	64
#define KR_RNG_CHAIN_MAX	0x10000	/* bytes given per chain at most */

struct kr_virtio_rng;

/* Plug it into pci (slot < 0: first free).  NULL + errno. */
struct kr_virtio_rng *kr_virtio_rng_create(struct kr_pci *pci, int slot,
					   const struct kr_mem *mem);
void kr_virtio_rng_destroy(struct kr_virtio_rng *r);
struct kr_virtio_pci *kr_virtio_rng_transport(struct kr_virtio_rng *r);

/*
 * Snapshots (snapfield.h): the device has no state of its own, its
 * transport's is all (virtio_pci.h; after a load, the machine calls
 * kr_virtio_pci_kick_all() on kr_virtio_rng_transport()).
 */
int kr_virtio_rng_save(struct kr_virtio_rng *r, struct kr_sbuf *b);
int kr_virtio_rng_load(struct kr_virtio_rng *r, struct kr_sget *g);

/* For tests: where the bytes come from (as getrandom(buf, len, GRND_NONBLOCK)). */
typedef ssize_t kr_rng_source_fn(void *buf, size_t len);
void kr_virtio_rng_set_source(struct kr_virtio_rng *r, kr_rng_source_fn *fn);

#endif
