// SPDX-License-Identifier: GPL-2.0
/*
 * The 16550A UART (serial.h): registers, FIFOs and interrupt identification
 * as the 8250/16550 datasheets describe them and Linux's 8250 driver probes
 * them; bytes to and from a chardev.
 *
 * The transmitter is instantaneous: a byte written to THR leaves at once
 * (to the chardev, or in loopback to the receive FIFO), so THR is empty
 * again when the write returns and the THRE interrupt is pending again.
 * The receiver has no notion of character time: the timeout interrupt is
 * pending whenever the FIFO holds data below its trigger level (the I/O
 * thread fills it a burst at a time, and the burst's end is the pause).
 *
 * Locking: s->lock covers the registers and the FIFO.  kr_irq_set() is
 * called with it held: the line goes to the in-kernel irqchip, which never
 * calls a device back, and calling it under the lock keeps the levels in
 * the order the state changed (two threads dropping the lock first could
 * invert them).  The host side is a chardev (chardev.h), called with
 * s->lock held (serial -> chardev); its input callback takes s->lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "serial.h"

#define UART_NREGS	8
#define UART_FIFO	16

/* IER */
#define IER_ERBFI	0x01	/* received data available */
#define IER_ETBEI	0x02	/* THR empty */
#define IER_ELSI	0x04	/* line status */
#define IER_EDSSI	0x08	/* modem status */
#define IER_MASK	0x0f
/* IIR */
#define IIR_NO_INT	0x01
#define IIR_MS		0x00
#define IIR_THRE	0x02
#define IIR_RDA		0x04
#define IIR_RLS		0x06
#define IIR_CTI		0x0c	/* character timeout */
#define IIR_FIFO	0xc0
/* FCR */
#define FCR_ENABLE	0x01
#define FCR_CLR_RX	0x02
#define FCR_CLR_TX	0x04
#define FCR_DMA		0x08
#define FCR_TRIG	0xc0
/* LCR */
#define LCR_DLAB	0x80
/* MCR */
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08	/* gates the IRQ line on a PC */
#define MCR_LOOP	0x10
#define MCR_MASK	0x1f
/* LSR */
#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_PE		0x04
#define LSR_FE		0x08
#define LSR_BI		0x10
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define LSR_ERRORS	(LSR_OE | LSR_PE | LSR_FE | LSR_BI)
/* MSR */
#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80
#define MSR_DELTAS	(MSR_DCTS | MSR_DDSR | MSR_TERI | MSR_DDCD)
/* Outside loopback the far end looks present and ready. */
#define MSR_IDLE_INPUTS	(MSR_DCD | MSR_DSR | MSR_CTS)

struct kr_serial {
	pthread_mutex_t lock;
	uint16_t base;
	struct kr_irq irq;

	uint8_t ier, lcr, mcr, fcr, scr;
	uint8_t lsr_errors;	/* LSR_ERRORS, cleared by reading LSR */
	uint8_t msr_deltas;	/* MSR bits 3:0, cleared by reading MSR */
	uint16_t divisor;
	bool thre_pending;	/* "THR became empty" not yet acknowledged */
	int line;		/* level last given to kr_irq_set() */

	uint8_t rx[UART_FIFO];
	unsigned int rx_head, rx_count;
	uint8_t rbr;		/* last byte read: what an empty RBR returns */
	uint64_t rx_overruns;

	struct kr_chardev *chr;
	bool own_chr;		/* made by a kr_serial_create*() helper: destroy closes it */
	bool want_input;	/* what the chardev was last told */
};

/* ---- receive FIFO ------------------------------------------------------- */

static unsigned int serial_rx_cap(const struct kr_serial *s)
{
	return (s->fcr & FCR_ENABLE) ? UART_FIFO : 1;
}

static unsigned int serial_rx_trigger(const struct kr_serial *s)
{
	static const unsigned int level[4] = { 1, 4, 8, 14 };

	return level[s->fcr >> 6];
}

static void serial_rx_push(struct kr_serial *s, uint8_t b)
{
	if (s->rx_count >= serial_rx_cap(s)) {
		/* The shift register is overwritten; the FIFO keeps its bytes. */
		s->lsr_errors |= LSR_OE;
		s->rx_overruns++;
		return;
	}
	s->rx[(s->rx_head + s->rx_count) % UART_FIFO] = b;
	s->rx_count++;
}

static uint8_t serial_rx_pop(struct kr_serial *s)
{
	if (!s->rx_count)
		return s->rbr;
	s->rbr = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % UART_FIFO;
	s->rx_count--;
	return s->rbr;
}

static void serial_rx_clear(struct kr_serial *s)
{
	s->rx_head = s->rx_count = 0;
}

/* ---- interrupts --------------------------------------------------------- */

/* The highest-priority pending interrupt, as IIR bits 3:0. */
static uint8_t serial_iir_id(const struct kr_serial *s)
{
	if ((s->ier & IER_ELSI) && (s->lsr_errors & LSR_ERRORS))
		return IIR_RLS;
	if ((s->ier & IER_ERBFI) && s->rx_count) {
		if ((s->fcr & FCR_ENABLE) && s->rx_count < serial_rx_trigger(s))
			return IIR_CTI;
		return IIR_RDA;
	}
	if ((s->ier & IER_ETBEI) && s->thre_pending)
		return IIR_THRE;
	if ((s->ier & IER_EDSSI) && s->msr_deltas)
		return IIR_MS;
	return IIR_NO_INT;
}

/* The level the line should have. */
static int serial_level(const struct kr_serial *s)
{
	/* Loopback forces OUT2 inactive, which on a PC disables the line. */
	return serial_iir_id(s) != IIR_NO_INT && (s->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
}

static void serial_update_irq(struct kr_serial *s)
{
	int level = serial_level(s);

	if (level != s->line) {
		s->line = level;
		kr_irq_set(&s->irq, level);
	}
}

/* ---- modem lines -------------------------------------------------------- */

static uint8_t serial_modem_inputs(const struct kr_serial *s)
{
	uint8_t in = 0;

	if (!(s->mcr & MCR_LOOP))
		return MSR_IDLE_INPUTS;
	if (s->mcr & MCR_RTS)
		in |= MSR_CTS;
	if (s->mcr & MCR_DTR)
		in |= MSR_DSR;
	if (s->mcr & MCR_OUT1)
		in |= MSR_RI;
	if (s->mcr & MCR_OUT2)
		in |= MSR_DCD;
	return in;
}

static void serial_write_mcr(struct kr_serial *s, uint8_t v)
{
	uint8_t old = serial_modem_inputs(s), now, changed;

	s->mcr = v & MCR_MASK;
	now = serial_modem_inputs(s);
	changed = old ^ now;
	if (changed & MSR_CTS)
		s->msr_deltas |= MSR_DCTS;
	if (changed & MSR_DSR)
		s->msr_deltas |= MSR_DDSR;
	if (changed & MSR_DCD)
		s->msr_deltas |= MSR_DDCD;
	if ((old & MSR_RI) && !(now & MSR_RI))
		s->msr_deltas |= MSR_TERI;
}

/* ---- host side: the chardev -------------------------------------------- */

static void serial_transmit(struct kr_serial *s, uint8_t b)
{
	kr_chardev_write(s->chr, &b, 1);
}

/* Input is taken only while the FIFO has room and the UART is not looped back. */
static bool serial_wants_input(const struct kr_serial *s)
{
	return !(s->mcr & MCR_LOOP) && s->rx_count < serial_rx_cap(s);
}

/* Tell the chardev when that changes (s->lock held: serial -> chardev). */
static void serial_sync_input(struct kr_serial *s)
{
	bool want = serial_wants_input(s);

	if (want != s->want_input) {
		s->want_input = want;
		kr_chardev_want_input(s->chr, want);
	}
}

/* The chardev's input callback (I/O thread): fill the FIFO's room, no more. */
static void serial_input(void *opaque)
{
	struct kr_serial *s = opaque;
	uint8_t buf[UART_FIFO];

	pthread_mutex_lock(&s->lock);
	if (serial_wants_input(s)) {
		size_t n = kr_chardev_read(s->chr, buf, serial_rx_cap(s) - s->rx_count);

		for (size_t i = 0; i < n; i++)
			serial_rx_push(s, buf[i]);
	}
	serial_sync_input(s);		/* a full FIFO stops the input */
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

/* ---- registers ---------------------------------------------------------- */

static void serial_write_fcr(struct kr_serial *s, uint8_t v)
{
	/* Switching between FIFO and 16450 mode empties the FIFOs. */
	if ((v ^ s->fcr) & FCR_ENABLE)
		serial_rx_clear(s);
	if (!(v & FCR_ENABLE)) {
		s->fcr = 0;	/* the other bits need bit 0 to be programmed */
		return;
	}
	if (v & FCR_CLR_RX)
		serial_rx_clear(s);
	/* FCR_CLR_TX: the transmitter holds nothing. */
	s->fcr = v & (FCR_ENABLE | FCR_DMA | FCR_TRIG);
}

static void serial_write_reg(struct kr_serial *s, unsigned int reg, uint8_t v)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (reg) {
	case 0:
		if (dlab) {
			s->divisor = (s->divisor & 0xff00) | v;
			break;
		}
		s->thre_pending = false;
		if (s->mcr & MCR_LOOP)
			serial_rx_push(s, v);
		else
			serial_transmit(s, v);
		s->thre_pending = true;	/* sent: THR is empty again */
		break;
	case 1:
		if (dlab) {
			s->divisor = (s->divisor & 0x00ff) | v << 8;
			break;
		}
		/*
		 * Enabling the THRE interrupt while THR is empty raises it: Linux
		 * starts every transmission this way and tests for it at startup.
		 */
		if ((v & IER_ETBEI) && !(s->ier & IER_ETBEI))
			s->thre_pending = true;
		s->ier = v & IER_MASK;
		break;
	case 2:
		serial_write_fcr(s, v);
		break;
	case 3:
		s->lcr = v;
		break;
	case 4:
		serial_write_mcr(s, v);
		break;
	case 7:
		s->scr = v;
		break;
	default:
		break;		/* LSR, MSR: read-only */
	}
}

static uint8_t serial_read_reg(struct kr_serial *s, unsigned int reg)
{
	bool dlab = s->lcr & LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case 0:
		return dlab ? s->divisor & 0xff : serial_rx_pop(s);
	case 1:
		return dlab ? s->divisor >> 8 : s->ier;
	case 2:
		v = serial_iir_id(s);
		/* Reading IIR acknowledges THRE when it is what IIR shows. */
		if (v == IIR_THRE)
			s->thre_pending = false;
		return v | ((s->fcr & FCR_ENABLE) ? IIR_FIFO : 0);
	case 3:
		return s->lcr;
	case 4:
		return s->mcr;
	case 5:
		v = s->lsr_errors | LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
		s->lsr_errors = 0;
		return v;
	case 6:
		v = serial_modem_inputs(s) | s->msr_deltas;
		s->msr_deltas = 0;
		return v;
	default:
		return s->scr;
	}
}

/*
 * An 8-bit device on the ISA bus: a wider access is split into byte
 * accesses of consecutive ports; bytes past the last port stay unclaimed.
 */
static void serial_io(void *opaque, uint64_t offset, uint8_t *data, unsigned int size, bool write)
{
	struct kr_serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	for (unsigned int i = 0; i < size && offset < UART_NREGS && i < UART_NREGS - offset; i++) {
		if (write)
			serial_write_reg(s, offset + i, data[i]);
		else
			data[i] = serial_read_reg(s, offset + i);
	}
	serial_update_irq(s);
	serial_sync_input(s);
	pthread_mutex_unlock(&s->lock);
}

/* ---- life cycle ------------------------------------------------------- */

static void serial_reset(struct kr_serial *s)
{
	s->ier = s->lcr = s->mcr = s->fcr = s->scr = 0;
	s->lsr_errors = s->msr_deltas = 0;
	s->divisor = 12;	/* 9600 baud, what firmware leaves; unused */
	s->thre_pending = false;
	serial_rx_clear(s);
}

struct kr_serial *kr_serial_create_chardev(uint16_t base, const struct kr_irq *irq,
					   struct kr_chardev *chr)
{
	struct kr_serial *s;

	if (!chr) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->base = base;
	if (irq)
		s->irq = *irq;
	s->chr = chr;
	serial_reset(s);
	kr_chardev_attach(chr, serial_input, s);
	pthread_mutex_lock(&s->lock);
	serial_sync_input(s);
	pthread_mutex_unlock(&s->lock);
	return s;
}

/* On a chardev the UART owns. */
static struct kr_serial *serial_create_owning(uint16_t base, const struct kr_irq *irq,
					      struct kr_chardev *chr)
{
	struct kr_serial *s;
	int err;

	if (!chr)
		return NULL;
	s = kr_serial_create_chardev(base, irq, chr);
	if (!s) {
		err = errno;
		kr_chardev_destroy(chr);
		errno = err;
		return NULL;
	}
	s->own_chr = true;
	return s;
}

struct kr_serial *kr_serial_create(uint16_t base, const struct kr_irq *irq, struct kr_loop *loop,
				   int in_fd, int out_fd)
{
	return serial_create_owning(base, irq, kr_chardev_open_fds(in_fd, out_fd, loop, 0));
}

struct kr_serial *kr_serial_create_stdio(uint16_t base, const struct kr_irq *irq,
					 struct kr_loop *loop)
{
	char why[128];

	return serial_create_owning(base, irq, kr_chardev_open("stdio", loop, why, sizeof(why)));
}

struct kr_serial *kr_serial_create_pty(uint16_t base, const struct kr_irq *irq,
				       struct kr_loop *loop, char *path, size_t path_len)
{
	struct kr_chardev *chr;
	char why[128];

	chr = kr_chardev_open("pty", loop, why, sizeof(why));
	if (chr && path)
		snprintf(path, path_len, "%s", kr_chardev_path(chr));
	return serial_create_owning(base, irq, chr);
}

int kr_serial_attach(struct kr_serial *s, struct kr_bus *pio)
{
	return kr_bus_add(pio, s->base, UART_NREGS, serial_io, s, "serial");
}

struct kr_chardev *kr_serial_chardev(struct kr_serial *s)
{
	return s->chr;
}

void kr_serial_destroy(struct kr_serial *s)
{
	if (!s)
		return;
	/* Either way the input callback is not running and will not run after. */
	if (s->own_chr)
		kr_chardev_destroy(s->chr);
	else
		kr_chardev_attach(s->chr, NULL, NULL);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void kr_serial_get_stats(struct kr_serial *s, struct kr_serial_stats *st)
{
	struct kr_chardev_stats cs;

	kr_chardev_get_stats(s->chr, &cs);
	pthread_mutex_lock(&s->lock);
	st->tx_bytes = cs.tx_bytes;
	st->tx_dropped = cs.tx_dropped;
	st->rx_bytes = cs.rx_bytes;
	st->rx_overruns = s->rx_overruns;
	pthread_mutex_unlock(&s->lock);
}

/* ---- snapshot ----------------------------------------------------------- */

/*
 * The state, in this order: IER, LCR, MCR, FCR, SCR, the LSR errors and
 * MSR deltas not yet read (u8 each), the divisor (u16), THRE pending and
 * the line's level (flags), the last byte read (u8: what RBR gives when
 * the FIFO is empty), the FIFO's byte count (u8) and its bytes, oldest
 * first.  The overrun counter is a statistic of this process, not state.
 */
int kr_serial_save(struct kr_serial *s, struct kr_sbuf *b)
{
	pthread_mutex_lock(&s->lock);
	kr_sbuf_begin(b, KR_SERIAL_STATE_VERSION);
	kr_sbuf_u8(b, s->ier);
	kr_sbuf_u8(b, s->lcr);
	kr_sbuf_u8(b, s->mcr);
	kr_sbuf_u8(b, s->fcr);
	kr_sbuf_u8(b, s->scr);
	kr_sbuf_u8(b, s->lsr_errors);
	kr_sbuf_u8(b, s->msr_deltas);
	kr_sbuf_u16(b, s->divisor);
	kr_sbuf_bool(b, s->thre_pending);
	kr_sbuf_bool(b, s->line);
	kr_sbuf_u8(b, s->rbr);
	kr_sbuf_u8(b, s->rx_count);
	for (unsigned int i = 0; i < s->rx_count; i++)
		kr_sbuf_u8(b, s->rx[(s->rx_head + i) % UART_FIFO]);
	pthread_mutex_unlock(&s->lock);
	return b->oom ? -ENOMEM : 0;
}

/* Into s (s->lock held), each value checked as the registers could hold it. */
static int serial_load_locked(struct kr_serial *s, struct kr_sget *g)
{
	bool line;

	s->ier = kr_sget_u8(g);
	s->lcr = kr_sget_u8(g);
	s->mcr = kr_sget_u8(g);
	s->fcr = kr_sget_u8(g);
	s->scr = kr_sget_u8(g);
	s->lsr_errors = kr_sget_u8(g);
	s->msr_deltas = kr_sget_u8(g);
	s->divisor = kr_sget_u16(g);
	s->thre_pending = kr_sget_bool(g);
	line = kr_sget_bool(g);
	s->rbr = kr_sget_u8(g);
	s->rx_head = 0;
	s->rx_count = kr_sget_u8(g);
	if (g->bad)
		return -EPROTO;
	if (s->ier & ~IER_MASK)
		return kr_sget_fail(g, "IER %#x has bits above bit 3", s->ier);
	if (s->mcr & ~MCR_MASK)
		return kr_sget_fail(g, "MCR %#x has bits above bit 4", s->mcr);
	/* serial_write_fcr() keeps these bits, and only with the FIFOs enabled. */
	if ((s->fcr & ~(FCR_ENABLE | FCR_DMA | FCR_TRIG)) || (s->fcr && !(s->fcr & FCR_ENABLE)))
		return kr_sget_fail(g, "FCR %#x is no value the FIFO control keeps", s->fcr);
	if (s->lsr_errors & ~LSR_ERRORS)
		return kr_sget_fail(g, "LSR errors %#x are not error bits", s->lsr_errors);
	if (s->msr_deltas & ~MSR_DELTAS)
		return kr_sget_fail(g, "MSR deltas %#x are not delta bits", s->msr_deltas);
	/* The FIFO is 16 bytes with FCR's enable, one holding register without. */
	if (s->rx_count > serial_rx_cap(s))
		return kr_sget_fail(g, "%u bytes in a receive FIFO of %u", s->rx_count,
				    serial_rx_cap(s));
	kr_sget_bytes(g, s->rx, s->rx_count);
	if (g->bad)
		return -EPROTO;
	/* At rest the line always follows IIR and MCR (serial_update_irq()). */
	if (line != serial_level(s))
		return kr_sget_fail(g, "line level %d where the registers say %d", line,
				    serial_level(s));
	s->line = line;
	return kr_sget_done(g);
}

int kr_serial_load(struct kr_serial *s, struct kr_sget *g)
{
	int ret;

	if (kr_sget_begin(g, KR_SERIAL_STATE_VERSION))
		return -EPROTO;
	pthread_mutex_lock(&s->lock);
	ret = serial_load_locked(s, g);
	if (ret)
		serial_reset(s);	/* no half-loaded FIFO, should anything look */
	/* Input flows again only if the loaded FIFO has room and is not looped back. */
	serial_sync_input(s);
	pthread_mutex_unlock(&s->lock);
	return ret;
}
