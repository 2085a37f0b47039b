/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A 16550A UART on port I/O (COM1: KR_PORT_COM1, KR_GSI_COM1).  The guest's
 * transmitted bytes go to an output fd; an input fd, watched on the I/O
 * thread's loop, fills the receive FIFO.
 *
 * Interrupt: the device drives the level of its line (pending interrupt in
 * IIR and MCR.OUT2 set, not in loopback) with kr_irq_set() on every change.
 * On a PC the line is an ISA IRQ, edge-triggered active-high on the IOAPIC
 * and the PIC (the MADT needs no override for IRQ 4): the irqchip sees the
 * rising edges.
 *
 * Output never blocks a vCPU: a byte the sink does not take (EAGAIN, short
 * write) waits in a 64 KiB buffer that the I/O thread flushes when the fd is
 * writable; when the buffer is full, or the sink failed, bytes are dropped
 * and counted.  The transmitter always reports itself empty (THRE, TEMT): a
 * guest console polls THRE with a timeout per byte, so reporting it busy on
 * a stuck sink (a pty nobody reads) would slow the guest to a crawl.
 *
 * Input is flow-controlled instead: the I/O thread reads no more than the
 * FIFO has room for and stops watching the fd while the FIFO is full (or
 * the UART is in loopback), so no input byte is lost while the guest reads.
 *
 * Write to a pipe whose reader went away raises SIGPIPE: the process must
 * ignore it (sockets are written with MSG_NOSIGNAL).
 */
#ifndef KHV_RUN_SERIAL_H
#define KHV_RUN_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "dev.h"
#include "evloop.h"

struct kr_serial;

struct kr_serial_stats {
	uint64_t tx_bytes;	/* written to the output fd */
	uint64_t tx_dropped;	/* sink stuck (buffer full), failed or absent */
	uint64_t rx_bytes;	/* read from the input fd */
	uint64_t rx_overruns;	/* loopback bytes into a full FIFO (LSR.OE) */
};

/*
 * A UART at port base driving irq (copied; NULL: no line).  in_fd and out_fd
 * (-1: none; may be the same fd) stay the caller's: they should be
 * non-blocking (or regular files).  loop: the I/O thread's loop, needed for
 * input and for flushing buffered output; NULL: output only, the buffer
 * flushed on the guest's next write.  NULL with errno on failure.
 */
struct kr_serial *kr_serial_create(uint16_t base, const struct kr_irq *irq, struct kr_loop *loop,
				   int in_fd, int out_fd);
/*
 * On stdin/stdout, made non-blocking (this changes the terminal's shared
 * file description, stderr's too on a terminal) until destroy restores them.
 * A stdin that cannot be polled (/dev/null, a regular file) gives no input.
 */
struct kr_serial *kr_serial_create_stdio(uint16_t base, const struct kr_irq *irq,
					 struct kr_loop *loop);
/*
 * On a new pseudo-terminal whose path (/dev/pts/N, for the caller to print)
 * goes to path[path_len].  The device keeps the pty's other end open, in raw
 * mode, so that nobody connected is no hang-up: output then fills the pty
 * and the buffer, and is dropped.
 */
struct kr_serial *kr_serial_create_pty(uint16_t base, const struct kr_irq *irq,
				       struct kr_loop *loop, char *path, size_t path_len);
/* Registers the 8 ports at base.  0 or -errno (kr_bus_add). */
int kr_serial_attach(struct kr_serial *s, struct kr_bus *pio);
/* Not while a vCPU may still access it.  NULL is allowed. */
void kr_serial_destroy(struct kr_serial *s);
void kr_serial_get_stats(struct kr_serial *s, struct kr_serial_stats *st);

#endif
