/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio console device (virtio 1.2 section 5.3, device ID 3) on a chardev:
 * one port, the console (the guest's hvc0).  Queue 0 is the receiveq (host
 * to guest), queue 1 the transmitq (guest to host).
 *
 * Features: VIRTIO_CONSOLE_F_SIZE only, offered when the chardev is a
 * terminal (kr_chardev_winsize()); the configuration then carries its
 * columns and rows.  No MULTIPORT: Linux runs port 0 as an hvc console
 * without it and needs the control queues only for more ports, port names
 * and open/close notices.  No EMERG_WRITE: Linux does not use it.
 *
 * Linux without MULTIPORT reads the size only when the configuration
 * changes, never at probe: the device announces it with a configuration
 * change interrupt at DRIVER_OK (Linux holds a change that arrives during
 * its probe and delivers it once probe returned, when port 0 exists), and
 * again on every kr_virtio_console_resize().
 *
 * The chardev stays the caller's: create attaches the device to it as its
 * owner, destroy detaches.  The machine sets the chardev's quit callback
 * (^A x) and forwards SIGWINCH as kr_virtio_console_resize().
 */
#ifndef KHV_RUN_VIRTIO_CONSOLE_H
#define KHV_RUN_VIRTIO_CONSOLE_H

#include "chardev.h"
#include "evloop.h"
#include "virtio_pci.h"

#define KR_VIRTIO_ID_CONSOLE		3
#define KR_CONSOLE_F_SIZE		0
#define KR_CONSOLE_RXQ			0	/* receiveq: host to guest */
#define KR_CONSOLE_TXQ			1	/* transmitq: guest to host */
#define KR_CONSOLE_QUEUE_SIZE		128
#define KR_CONSOLE_CONFIG_LEN		12	/* cols, rows, max_nr_ports, emerg_wr */
#define KR_CONSOLE_TX_CHAIN_MAX		0x10000	/* bytes taken per chain; more are dropped */

struct kr_virtio_console;

struct kr_virtio_console_stats {
	uint64_t tx_bytes;	/* guest output given to the chardev */
	uint64_t tx_truncated;	/* guest output beyond KR_CONSOLE_TX_CHAIN_MAX in a chain */
	uint64_t rx_bytes;	/* input put into guest buffers */
};

/*
 * Plug it into pci (slot < 0: first free), on chr (required) with loop, the
 * I/O thread's (required: input is read there).  NULL + errno.
 */
struct kr_virtio_console *kr_virtio_console_create(struct kr_pci *pci, int slot,
						   const struct kr_mem *mem,
						   struct kr_loop *loop, struct kr_chardev *chr);
/* After the vCPUs stopped.  Leaves the chardev open and ownerless.  NULL is allowed. */
void kr_virtio_console_destroy(struct kr_virtio_console *vc);
struct kr_virtio_pci *kr_virtio_console_transport(struct kr_virtio_console *vc);
/*
 * The terminal's new size (any thread): new configuration and, when the
 * driver took VIRTIO_CONSOLE_F_SIZE and the size changed, a configuration
 * change interrupt.
 */
void kr_virtio_console_resize(struct kr_virtio_console *vc, uint16_t cols, uint16_t rows);
void kr_virtio_console_get_stats(struct kr_virtio_console *vc,
				 struct kr_virtio_console_stats *st);

/*
 * Snapshots (snapfield.h): the size the guest was shown (and whether
 * VIRTIO_CONSOLE_F_SIZE was offered: restored onto a chardev that is no
 * terminal, the device keeps offering it with that size), input read from
 * the chardev and not yet given to the guest, then the transport's
 * (virtio_pci.h).  After a load the machine calls kr_virtio_pci_kick_all()
 * on kr_virtio_console_transport(): output the driver queued goes out,
 * input is asked for, and a terminal of another size than the snapshot's
 * is announced to the guest (a configuration change).  The stats are
 * this process's, not state.
 */
int kr_virtio_console_save(struct kr_virtio_console *vc, struct kr_sbuf *b);
int kr_virtio_console_load(struct kr_virtio_console *vc, struct kr_sget *g);

#endif
