/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A 16550A UART on port I/O (COM1: KR_PORT_COM1, KR_GSI_COM1).  The guest's
 * transmitted bytes go to a chardev (chardev.h), whose input fills the
 * receive FIFO.
 *
 * Interrupt: the device drives the level of its line (pending interrupt in
 * IIR and MCR.OUT2 set, not in loopback) with kr_irq_set() on every change.
 * On a PC the line is an ISA IRQ, edge-triggered active-high on the IOAPIC
 * and the PIC (the MADT needs no override for IRQ 4): the irqchip sees the
 * rising edges.
 *
 * Output never blocks a vCPU: the chardev buffers what its sink does not
 * take (KR_CHARDEV_OUTBUF bytes), then drops and counts.  The transmitter
 * always reports itself empty (THRE, TEMT): a guest console polls THRE
 * with a timeout per byte, so reporting it busy on a stuck sink (a pty
 * nobody reads) would slow the guest to a crawl.
 *
 * Input is flow-controlled instead: the UART asks the chardev for no more
 * than the FIFO has room for and for none while the FIFO is full (or the
 * UART is in loopback), so no input byte is lost while the guest reads.
 */
#ifndef KHV_RUN_SERIAL_H
#define KHV_RUN_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "chardev.h"
#include "dev.h"
#include "evloop.h"
#include "snapfield.h"

/* The layout kr_serial_save() writes (snapfield.h). */
#define KR_SERIAL_STATE_VERSION	1

struct kr_serial;

struct kr_serial_stats {
	uint64_t tx_bytes;	/* written to the sink (the chardev's) */
	uint64_t tx_dropped;	/* sink stuck (buffer full), failed or absent */
	uint64_t rx_bytes;	/* taken from the chardev */
	uint64_t rx_overruns;	/* loopback bytes into a full FIFO (LSR.OE) */
};

/*
 * A UART at port base driving irq (copied; NULL: no line), owner of chr's
 * input, which stays the caller's (destroy detaches).  NULL with errno.
 */
struct kr_serial *kr_serial_create_chardev(uint16_t base, const struct kr_irq *irq,
					   struct kr_chardev *chr);

/*
 * The same on a chardev of its own, closed by destroy: on in_fd and out_fd
 * (kr_chardev_open_fds(); -1: none; they stay the caller's), on stdio
 * (kr_chardev_open("stdio"): raw mode and ^A commands on a terminal), or on
 * a new pty whose path (/dev/pts/N, for the caller to print) goes to
 * path[path_len].  loop: the I/O thread's loop, needed for input and for
 * flushing buffered output; NULL: output only, the buffer flushed on the
 * guest's next write.  NULL with errno on failure.
 */
struct kr_serial *kr_serial_create(uint16_t base, const struct kr_irq *irq, struct kr_loop *loop,
				   int in_fd, int out_fd);
struct kr_serial *kr_serial_create_stdio(uint16_t base, const struct kr_irq *irq,
					 struct kr_loop *loop);
struct kr_serial *kr_serial_create_pty(uint16_t base, const struct kr_irq *irq,
				       struct kr_loop *loop, char *path, size_t path_len);
/* Registers the 8 ports at base.  0 or -errno (kr_bus_add). */
int kr_serial_attach(struct kr_serial *s, struct kr_bus *pio);
/* Not while a vCPU may still access it.  NULL is allowed. */
void kr_serial_destroy(struct kr_serial *s);
void kr_serial_get_stats(struct kr_serial *s, struct kr_serial_stats *st);
/* Its chardev (for the machine: the ^A x quit callback). */
struct kr_chardev *kr_serial_chardev(struct kr_serial *s);

/*
 * The UART's state for a snapshot (snapfield.h's contract): the registers,
 * the divisor, the pending THRE and error/modem flags, the bytes in the
 * receive FIFO, the last byte read and the level of the line.  Not the
 * chardev: its back end, buffered output and unread input are the host's.
 * save: 0 or -ENOMEM.  load: into a UART just created, before any vCPU
 * runs; 0 or -EPROTO with the reason in g; it tells the chardev whether
 * input is wanted but does not drive the line (the irqchip's own state
 * restores it).
 */
int kr_serial_save(struct kr_serial *s, struct kr_sbuf *b);
int kr_serial_load(struct kr_serial *s, struct kr_sget *g);

#endif
