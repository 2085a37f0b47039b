// SPDX-License-Identifier: GPL-2.0
/*
 * The 16550A UART (serial.h): registers, FIFOs and interrupt identification
 * as the 8250/16550 datasheets describe them and Linux's 8250 driver probes
 * them; bytes to and from host fds.
 *
 * The transmitter is instantaneous: a byte written to THR leaves at once
 * (to the output fd, or in loopback to the receive FIFO), so THR is empty
 * again when the write returns and the THRE interrupt is pending again.
 * The receiver has no notion of character time: the timeout interrupt is
 * pending whenever the FIFO holds data below its trigger level (the I/O
 * thread fills it a burst at a time, and the burst's end is the pause).
 *
 * Locking: s->lock covers the registers, the FIFO, the output buffer and
 * the bookkeeping of the fds watched on the loop.  kr_irq_set() is called
 * with it held: the line goes to the in-kernel irqchip, which never calls a
 * device back, and calling it under the lock keeps the levels in the order
 * the state changed (two threads dropping the lock first could invert them).
 * Only the I/O thread adds, changes or removes the fd watches (inside our
 * loop callbacks, where the loop takes no lock of its own); a vCPU that
 * needs a change writes the kick eventfd instead, because a vCPU calling
 * into the loop with s->lock held would deadlock against a callback waiting
 * for s->lock.  destroy() takes the watches away without holding s->lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pty.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "serial.h"

#define UART_NREGS	8
#define UART_FIFO	16
#define UART_OUTBUF	65536	/* host-side backlog while the sink is slow */

/* IER */
#define IER_ERBFI	0x01	/* received data available */
#define IER_ETBEI	0x02	/* THR empty */
#define IER_ELSI	0x04	/* line status */
#define IER_EDSSI	0x08	/* modem status */
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
/* Outside loopback the far end looks present and ready. */
#define MSR_IDLE_INPUTS	(MSR_DCD | MSR_DSR | MSR_CTS)

struct kr_serial_watch {
	int fd;
	uint32_t applied;	/* events registered on the loop, 0: not registered */
};

struct kr_serial {
	pthread_mutex_t lock;
	uint16_t base;
	struct kr_irq irq;
	struct kr_loop *loop;

	uint8_t ier, lcr, mcr, fcr, scr;
	uint8_t lsr_errors;	/* LSR_ERRORS, cleared by reading LSR */
	uint8_t msr_deltas;	/* MSR bits 3:0, cleared by reading MSR */
	uint16_t divisor;
	bool thre_pending;	/* "THR became empty" not yet acknowledged */
	int line;		/* level last given to kr_irq_set() */

	uint8_t rx[UART_FIFO];
	unsigned int rx_head, rx_count;
	uint8_t rbr;		/* last byte read: what an empty RBR returns */

	int in_fd, out_fd;
	bool in_dead, out_dead, out_is_socket;
	uint8_t *out;		/* ring of UART_OUTBUF bytes */
	size_t out_head, out_len;

	int kick_fd;		/* eventfd: a vCPU asks the I/O thread to resync */
	bool kick_pending, dying;
	struct kr_serial_watch watch[2];
	unsigned int nwatch;

	struct kr_serial_stats st;

	/* Undone by destroy: what the helpers set up. */
	bool own_fds;
	int pty_peer;
	int saved_fl[2];	/* stdin, stdout flags; -1: untouched */
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
		s->st.rx_overruns++;
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

static void serial_update_irq(struct kr_serial *s)
{
	/* Loopback forces OUT2 inactive, which on a PC disables the line. */
	int level = serial_iir_id(s) != IIR_NO_INT && (s->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;

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

/* ---- host side: output -------------------------------------------------- */

static ssize_t serial_sink_write(struct kr_serial *s, const uint8_t *buf, size_t len)
{
	if (s->out_is_socket)
		return send(s->out_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	return write(s->out_fd, buf, len);
}

static void serial_out_failed(struct kr_serial *s)
{
	s->out_dead = true;
	s->st.tx_dropped += s->out_len;
	s->out_len = 0;
}

/* Writes as much of the backlog as the sink takes now. */
static void serial_flush(struct kr_serial *s)
{
	while (s->out_len && !s->out_dead) {
		size_t chunk = UART_OUTBUF - s->out_head;
		ssize_t n;

		if (chunk > s->out_len)
			chunk = s->out_len;
		n = serial_sink_write(s, s->out + s->out_head, chunk);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				serial_out_failed(s);
			return;
		}
		if (n == 0)
			return;
		s->st.tx_bytes += n;
		s->out_head = (s->out_head + n) % UART_OUTBUF;
		s->out_len -= n;
	}
	if (!s->out_len)
		s->out_head = 0;
}

static void serial_transmit(struct kr_serial *s, uint8_t b)
{
	if (s->out_fd < 0 || s->out_dead) {
		s->st.tx_dropped++;
		return;
	}
	if (s->out_len && !s->loop)
		serial_flush(s);	/* nobody else will */
	if (!s->out_len) {
		ssize_t n = serial_sink_write(s, &b, 1);

		if (n == 1) {
			s->st.tx_bytes++;
			return;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			serial_out_failed(s);
			s->st.tx_dropped++;
			return;
		}
	}
	if (s->out_len == UART_OUTBUF) {
		s->st.tx_dropped++;
		return;
	}
	s->out[(s->out_head + s->out_len) % UART_OUTBUF] = b;
	s->out_len++;
}

/* ---- host side: input and the loop -------------------------------------- */

static bool serial_want_input(const struct kr_serial *s)
{
	return s->loop && s->in_fd >= 0 && !s->in_dead && !(s->mcr & MCR_LOOP) &&
	       s->rx_count < serial_rx_cap(s);
}

static uint32_t serial_wanted(const struct kr_serial *s, int fd)
{
	uint32_t ev = 0;

	if (s->dying)
		return 0;
	if (fd == s->in_fd && serial_want_input(s))
		ev |= EPOLLIN;
	if (fd == s->out_fd && s->loop && !s->out_dead && s->out_len)
		ev |= EPOLLOUT;
	return ev;
}

static bool serial_needs_sync(const struct kr_serial *s)
{
	for (unsigned int i = 0; i < s->nwatch; i++)
		if (serial_wanted(s, s->watch[i].fd) != s->watch[i].applied)
			return true;
	return false;
}

/* vCPU side: ask the I/O thread to resync the watches. */
static void serial_kick(struct kr_serial *s)
{
	uint64_t one = 1;

	if (s->kick_fd < 0 || s->kick_pending || !serial_needs_sync(s))
		return;
	if (write(s->kick_fd, &one, sizeof(one)) == sizeof(one))
		s->kick_pending = true;
}

static kr_fd_fn serial_fd_event;

/*
 * I/O thread only.  An fd is registered only while its events are wanted:
 * epoll reports a hang-up even for an empty mask, and an fd we cannot serve
 * yet (FIFO full) would make the loop spin on it.
 */
static void serial_sync_watch(struct kr_serial *s, struct kr_serial_watch *w)
{
	uint32_t want;

	while ((want = serial_wanted(s, w->fd)) != w->applied) {
		int ret;

		if (!want) {
			kr_loop_del(s->loop, w->fd);
			w->applied = 0;
			return;
		}
		if (w->applied)
			ret = kr_loop_mod(s->loop, w->fd, want);
		else
			ret = kr_loop_add(s->loop, w->fd, want, serial_fd_event, s);
		if (!ret) {
			w->applied = want;
			return;
		}
		/*
		 * Not pollable (EPERM: /dev/null, a regular file) or gone: give
		 * up the sides that needed it, which makes want smaller.
		 */
		if (want & EPOLLIN)
			s->in_dead = true;
		if (want & EPOLLOUT)
			serial_out_failed(s);
	}
}

static void serial_sync(struct kr_serial *s)
{
	for (unsigned int i = 0; i < s->nwatch; i++)
		serial_sync_watch(s, &s->watch[i]);
}

static void serial_read_input(struct kr_serial *s)
{
	uint8_t buf[UART_FIFO];
	size_t room = serial_rx_cap(s) - s->rx_count;
	ssize_t n;

	n = read(s->in_fd, buf, room);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			s->in_dead = true;
		return;
	}
	if (n == 0) {
		s->in_dead = true;	/* end of file */
		return;
	}
	for (ssize_t i = 0; i < n; i++)
		serial_rx_push(s, buf[i]);
	s->st.rx_bytes += n;
}

static void serial_fd_event(void *opaque, int fd, uint32_t events)
{
	struct kr_serial *s = opaque;
	uint32_t gone = EPOLLHUP | EPOLLERR;

	pthread_mutex_lock(&s->lock);
	/* A hang-up or error shows as end of file or an error of the call. */
	if (fd == s->in_fd && (events & (EPOLLIN | gone)) && serial_want_input(s))
		serial_read_input(s);
	if (fd == s->out_fd && (events & (EPOLLOUT | gone)) && s->out_len)
		serial_flush(s);
	serial_sync(s);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial_kick_event(void *opaque, int fd, uint32_t events)
{
	struct kr_serial *s = opaque;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* already drained */
	}
	pthread_mutex_lock(&s->lock);
	s->kick_pending = false;
	serial_sync(s);
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
		s->ier = v & 0x0f;
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
	serial_kick(s);
	pthread_mutex_unlock(&s->lock);
}

/* ---- life cycle --------------------------------------------------------- */

static void serial_reset(struct kr_serial *s)
{
	s->ier = s->lcr = s->mcr = s->fcr = s->scr = 0;
	s->lsr_errors = s->msr_deltas = 0;
	s->divisor = 12;	/* 9600 baud, what firmware leaves; unused */
	s->thre_pending = false;
	serial_rx_clear(s);
}

struct kr_serial *kr_serial_create(uint16_t base, const struct kr_irq *irq, struct kr_loop *loop,
				   int in_fd, int out_fd)
{
	struct kr_serial *s = calloc(1, sizeof(*s));
	struct stat stb;

	if (!s)
		return NULL;
	s->out = malloc(UART_OUTBUF);
	if (!s->out) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->base = base;
	if (irq)
		s->irq = *irq;
	s->loop = loop;
	s->in_fd = in_fd < 0 ? -1 : in_fd;
	s->out_fd = out_fd < 0 ? -1 : out_fd;
	s->out_is_socket = s->out_fd >= 0 && !fstat(s->out_fd, &stb) && S_ISSOCK(stb.st_mode);
	s->kick_fd = -1;
	s->pty_peer = -1;
	s->saved_fl[0] = s->saved_fl[1] = -1;
	serial_reset(s);
	if (s->in_fd >= 0)
		s->watch[s->nwatch++].fd = s->in_fd;
	if (s->out_fd >= 0 && s->out_fd != s->in_fd)
		s->watch[s->nwatch++].fd = s->out_fd;
	if (loop) {
		int ret;

		/*
		 * The I/O thread registers the fds (it alone changes the watches):
		 * kick it, before it can run the callback, which clears the flag.
		 */
		s->kick_fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
		if (s->kick_fd < 0)
			goto fail;
		s->kick_pending = true;
		ret = kr_loop_add(loop, s->kick_fd, EPOLLIN, serial_kick_event, s);
		if (ret) {
			errno = -ret;
			goto fail;
		}
	}
	return s;
fail:
	if (s->kick_fd >= 0)
		close(s->kick_fd);
	pthread_mutex_destroy(&s->lock);
	free(s->out);
	free(s);
	return NULL;
}

static int serial_set_nonblock(int fd, int *saved)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	*saved = fl;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

struct kr_serial *kr_serial_create_stdio(uint16_t base, const struct kr_irq *irq,
					 struct kr_loop *loop)
{
	struct kr_serial *s;
	int saved[2] = { -1, -1 };

	/* Failure to set stdin non-blocking is no error: it may be closed. */
	if (serial_set_nonblock(STDIN_FILENO, &saved[0]))
		saved[0] = -1;
	if (serial_set_nonblock(STDOUT_FILENO, &saved[1]))
		saved[1] = -1;
	s = kr_serial_create(base, irq, loop, saved[0] >= 0 ? STDIN_FILENO : -1,
			     saved[1] >= 0 ? STDOUT_FILENO : -1);
	if (!s) {
		int err = errno;

		for (int i = 0; i < 2; i++)
			if (saved[i] >= 0)
				fcntl(i, F_SETFL, saved[i]);
		errno = err;
		return NULL;
	}
	s->saved_fl[0] = saved[0];
	s->saved_fl[1] = saved[1];
	return s;
}

struct kr_serial *kr_serial_create_pty(uint16_t base, const struct kr_irq *irq,
				       struct kr_loop *loop, char *path, size_t path_len)
{
	struct termios raw;
	struct kr_serial *s;
	int master, peer, err;

	if (openpty(&master, &peer, NULL, NULL, NULL))
		return NULL;
	/* Raw: no echo of the guest's output back to it, no CR/LF rewriting. */
	if (tcgetattr(peer, &raw))
		goto fail;
	cfmakeraw(&raw);
	if (tcsetattr(peer, TCSANOW, &raw) ||
	    fcntl(master, F_SETFD, FD_CLOEXEC) || fcntl(peer, F_SETFD, FD_CLOEXEC) ||
	    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK) ||
	    (path && ptsname_r(master, path, path_len)))
		goto fail;
	s = kr_serial_create(base, irq, loop, master, master);
	if (!s)
		goto fail;
	s->own_fds = true;
	s->pty_peer = peer;
	return s;
fail:
	err = errno ? errno : EINVAL;
	close(master);
	close(peer);
	errno = err;
	return NULL;
}

int kr_serial_attach(struct kr_serial *s, struct kr_bus *pio)
{
	return kr_bus_add(pio, s->base, UART_NREGS, serial_io, s, "serial");
}

void kr_serial_destroy(struct kr_serial *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->dying = true;	/* a callback still running changes no watch */
	pthread_mutex_unlock(&s->lock);
	if (s->loop) {
		kr_loop_del(s->loop, s->kick_fd);
		for (unsigned int i = 0; i < s->nwatch; i++)
			kr_loop_del(s->loop, s->watch[i].fd);
		close(s->kick_fd);
	}
	serial_flush(s);	/* best effort, non-blocking */
	for (int i = 0; i < 2; i++)
		if (s->saved_fl[i] >= 0)
			fcntl(i, F_SETFL, s->saved_fl[i]);
	if (s->own_fds) {
		close(s->in_fd);
		if (s->out_fd != s->in_fd)
			close(s->out_fd);
	}
	if (s->pty_peer >= 0)
		close(s->pty_peer);
	pthread_mutex_destroy(&s->lock);
	free(s->out);
	free(s);
}

void kr_serial_get_stats(struct kr_serial *s, struct kr_serial_stats *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	pthread_mutex_unlock(&s->lock);
}
