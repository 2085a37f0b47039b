// SPDX-License-Identifier: GPL-2.0
/*
 * The 16550A (serial.c): registers as Linux's 8250 driver probes them, the
 * THRE interrupt, FIFOs, loopback, modem status, output back-pressure and
 * input flow control through a real loop, the pty helper, hostile accesses.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../machine.h"
#include "../serial.h"
#include "t.h"
#include "tio.h"

#define COM	KR_PORT_COM1
#define RBR	(COM + 0)
#define IER	(COM + 1)
#define IIR	(COM + 2)
#define FCR	(COM + 2)
#define LCR	(COM + 3)
#define MCR	(COM + 4)
#define LSR	(COM + 5)
#define MSR	(COM + 6)
#define SCR	(COM + 7)

struct irq_rec {
	int level, sets, rises;
	unsigned int gsi;
};

static void irq_rec_set(void *opaque, unsigned int gsi, int level)
{
	struct irq_rec *r = opaque;

	__atomic_add_fetch(&r->rises, level && !r->level, __ATOMIC_SEQ_CST);
	__atomic_store_n(&r->level, level, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&r->sets, 1, __ATOMIC_SEQ_CST);
	r->gsi = gsi;
}

static uint8_t in8(struct kr_bus *bus, uint16_t port)
{
	uint8_t d[8];

	kr_bus_access(bus, port, d, 1, false);
	return d[0];
}

static void out8(struct kr_bus *bus, uint16_t port, uint8_t v)
{
	kr_bus_access(bus, port, &v, 1, true);
}

struct uart {
	struct kr_bus bus;
	struct irq_rec irq;
	struct kr_serial *s;
};

/* A UART on a bus with an interrupt recorder; fds and loop as given. */
static void uart_init(struct uart *u, struct kr_loop *loop, int in_fd, int out_fd)
{
	struct kr_irq irq = { irq_rec_set, &u->irq, KR_GSI_COM1 };

	memset(u, 0, sizeof(*u));
	kr_bus_init(&u->bus, "pio");
	u->s = kr_serial_create(COM, &irq, loop, in_fd, out_fd);
	CHECK(u->s != NULL);
	CHECK_EQ(kr_serial_attach(u->s, &u->bus), 0);
}

static void uart_fini(struct uart *u)
{
	kr_serial_destroy(u->s);
	kr_bus_free(&u->bus);
}

static struct kr_serial_stats uart_stats(struct uart *u)
{
	struct kr_serial_stats st;

	kr_serial_get_stats(u->s, &st);
	return st;
}

static struct kr_loop *loop_start(pthread_t *th)
{
	struct kr_loop *l = kr_loop_new();

	CHECK(l != NULL);
	CHECK_EQ(pthread_create(th, NULL, loop_main, l), 0);
	return l;
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

KR_TEST(serial_registers)
{
	struct uart u;

	uart_init(&u, NULL, -1, -1);
	CHECK_EQ(in8(&u.bus, IER), 0);
	CHECK_EQ(in8(&u.bus, IIR), 0x01);
	CHECK_EQ(in8(&u.bus, LCR), 0);
	CHECK_EQ(in8(&u.bus, MCR), 0);
	CHECK_EQ(in8(&u.bus, LSR), 0x60);
	CHECK_EQ(in8(&u.bus, MSR), 0xb0);	/* DCD, DSR, CTS: the far end is there */
	out8(&u.bus, SCR, 0xa5);
	CHECK_EQ(in8(&u.bus, SCR), 0xa5);

	/* Divisor latch behind DLAB; RBR/IER untouched by it. */
	out8(&u.bus, IER, 0x05);
	out8(&u.bus, LCR, 0x83);
	out8(&u.bus, RBR, 0x01);
	out8(&u.bus, IER, 0x02);
	CHECK_EQ(in8(&u.bus, RBR), 0x01);
	CHECK_EQ(in8(&u.bus, IER), 0x02);
	out8(&u.bus, LCR, 0x03);
	CHECK_EQ(in8(&u.bus, LCR), 0x03);
	CHECK_EQ(in8(&u.bus, IER), 0x05);
	out8(&u.bus, LCR, 0x80);
	CHECK_EQ(in8(&u.bus, RBR), 0x01);
	CHECK_EQ(in8(&u.bus, IER), 0x02);
	/* A transmitter write under DLAB is a divisor write, nothing is sent. */
	CHECK_EQ(uart_stats(&u).tx_dropped, 0);
	uart_fini(&u);
}

/* The checks of Linux's 8250 autoconfig(), which must find a 16550A. */
KR_TEST(serial_linux_autoconfig)
{
	struct uart u;

	uart_init(&u, NULL, -1, -1);
	out8(&u.bus, IER, 0);
	CHECK_EQ(in8(&u.bus, IER) & 0x0f, 0);
	out8(&u.bus, IER, 0x0f);
	CHECK_EQ(in8(&u.bus, IER) & 0x0f, 0x0f);
	out8(&u.bus, IER, 0xff);
	CHECK_EQ(in8(&u.bus, IER), 0x0f);	/* no XScale UUE bit, no upper bits */
	out8(&u.bus, IER, 0);

	/* Loopback: RTS -> CTS, OUT2 -> DCD. */
	out8(&u.bus, MCR, 0x10 | 0x0a);
	CHECK_EQ(in8(&u.bus, MSR) & 0xf0, 0x90);
	out8(&u.bus, MCR, 0);

	out8(&u.bus, FCR, 0x01);
	CHECK_EQ(in8(&u.bus, IIR) >> 6, 3);	/* FIFOs: a 16550A */
	/* No EFR behind LCR 0x80 or 0xbf: offset 2 still reads IIR, not 0. */
	out8(&u.bus, LCR, 0x80);
	CHECK(in8(&u.bus, IIR) != 0);
	out8(&u.bus, LCR, 0xbf);
	CHECK(in8(&u.bus, IIR) != 0);
	out8(&u.bus, LCR, 0);
	/* Not a 16750 (IIR bit 5) nor an NS SuperIO (IIR bit 4 following MCR.LOOP). */
	out8(&u.bus, FCR, 0x21);
	CHECK_EQ(in8(&u.bus, IIR) & 0x30, 0);
	out8(&u.bus, MCR, 0x10);
	CHECK_EQ(in8(&u.bus, IIR) & 0x30, 0);
	out8(&u.bus, MCR, 0);
	uart_fini(&u);
}

KR_TEST(serial_thre_interrupt)
{
	struct uart u;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	uart_init(&u, NULL, -1, fd);
	out8(&u.bus, MCR, 0x08);		/* OUT2: the line reaches the PIC */
	CHECK_EQ(u.irq.level, 0);

	/* serial8250_do_startup()'s THRE test: raised, cleared by IIR, raised again. */
	out8(&u.bus, IER, 0x02);
	CHECK_EQ(u.irq.level, 1);
	CHECK_EQ(u.irq.gsi, KR_GSI_COM1);
	CHECK_EQ(in8(&u.bus, IIR), 0x02);
	CHECK_EQ(u.irq.level, 0);
	CHECK_EQ(in8(&u.bus, IIR), 0x01);
	out8(&u.bus, IER, 0);
	out8(&u.bus, IER, 0x02);
	CHECK_EQ(in8(&u.bus, IIR), 0x02);
	CHECK_EQ(u.irq.rises, 2);

	/* Writing THR acknowledges THRE, and the byte leaves at once: pending again. */
	out8(&u.bus, RBR, 'x');
	CHECK_EQ(u.irq.level, 1);
	CHECK_EQ(in8(&u.bus, LSR) & 0x60, 0x60);
	CHECK_EQ(in8(&u.bus, IIR), 0x02);
	CHECK_EQ(u.irq.level, 0);
	/* Rewriting IER with ETBEI already set raises nothing new. */
	out8(&u.bus, IER, 0x03);
	CHECK_EQ(in8(&u.bus, IIR), 0x01);
	CHECK_EQ(uart_stats(&u).tx_bytes, 1);

	/* Polled console: IER 0, no interrupt, THRE in LSR always. */
	out8(&u.bus, IER, 0);
	for (int i = 0; i < 100; i++) {
		CHECK(in8(&u.bus, LSR) & 0x20);
		out8(&u.bus, RBR, 'a' + i % 26);
	}
	CHECK_EQ(u.irq.level, 0);
	CHECK_EQ(uart_stats(&u).tx_bytes, 101);
	uart_fini(&u);
	close(fd);
}

KR_TEST(serial_out2_gates_line)
{
	struct uart u;

	uart_init(&u, NULL, -1, -1);
	out8(&u.bus, IER, 0x02);
	CHECK_EQ(u.irq.level, 0);		/* pending, but OUT2 is clear */
	CHECK_EQ(in8(&u.bus, IIR) & 0x0f, 0x02);
	out8(&u.bus, IER, 0);
	out8(&u.bus, IER, 0x02);
	out8(&u.bus, MCR, 0x08);
	CHECK_EQ(u.irq.level, 1);
	out8(&u.bus, MCR, 0x18);		/* loopback forces OUT2 inactive */
	CHECK_EQ(u.irq.level, 0);
	out8(&u.bus, MCR, 0x08);
	CHECK_EQ(u.irq.level, 1);
	out8(&u.bus, MCR, 0x00);
	CHECK_EQ(u.irq.level, 0);
	uart_fini(&u);
}

KR_TEST(serial_loopback_fifo)
{
	struct uart u;
	int p[2];

	CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	uart_init(&u, NULL, -1, p[1]);
	out8(&u.bus, MCR, 0x10);
	out8(&u.bus, FCR, 0xc7);		/* FIFOs, cleared, trigger 14 */
	out8(&u.bus, IER, 0x01);
	for (int i = 0; i < 5; i++)
		out8(&u.bus, RBR, i);
	CHECK_EQ(in8(&u.bus, LSR) & 0x01, 1);
	CHECK_EQ(in8(&u.bus, IIR), 0xcc);	/* below the trigger: timeout */
	for (int i = 5; i < 14; i++)
		out8(&u.bus, RBR, i);
	CHECK_EQ(in8(&u.bus, IIR), 0xc4);	/* at the trigger: data available */
	out8(&u.bus, RBR, 14);
	out8(&u.bus, RBR, 15);
	CHECK_EQ(uart_stats(&u).rx_overruns, 0);
	out8(&u.bus, RBR, 16);			/* the 17th: overrun */
	CHECK_EQ(uart_stats(&u).rx_overruns, 1);
	out8(&u.bus, IER, 0x05);
	CHECK_EQ(in8(&u.bus, IIR), 0xc6);	/* line status first */
	CHECK_EQ(in8(&u.bus, LSR), 0x63);	/* OE, DR, THRE, TEMT */
	CHECK_EQ(in8(&u.bus, LSR), 0x61);	/* OE cleared by the read */
	CHECK_EQ(in8(&u.bus, IIR), 0xc4);
	for (int i = 0; i < 16; i++)
		CHECK_EQ(in8(&u.bus, RBR), i);
	CHECK_EQ(in8(&u.bus, LSR), 0x60);
	CHECK_EQ(in8(&u.bus, RBR), 15);		/* empty: the last byte again */
	CHECK_EQ(in8(&u.bus, IIR), 0xc1);
	/* Nothing went out in loopback. */
	CHECK_EQ(uart_stats(&u).tx_bytes, 0);
	uart_fini(&u);
	close(p[0]);
	close(p[1]);
}

KR_TEST(serial_fifo_control)
{
	struct uart u;

	uart_init(&u, NULL, -1, -1);
	out8(&u.bus, MCR, 0x10);
	/* 16450 mode: one holding register. */
	out8(&u.bus, RBR, 'a');
	out8(&u.bus, RBR, 'b');
	CHECK_EQ(in8(&u.bus, LSR), 0x63);
	CHECK_EQ(in8(&u.bus, RBR), 'a');
	CHECK_EQ(in8(&u.bus, LSR) & 1, 0);
	out8(&u.bus, IER, 0x01);
	out8(&u.bus, RBR, 'c');
	CHECK_EQ(in8(&u.bus, IIR), 0x04);	/* no timeout id, no FIFO bits */

	/* Enabling the FIFOs empties them; trigger levels 1, 4, 8, 14. */
	out8(&u.bus, FCR, 0x01);
	CHECK_EQ(in8(&u.bus, LSR) & 1, 0);
	out8(&u.bus, RBR, 'd');
	CHECK_EQ(in8(&u.bus, IIR), 0xc4);	/* trigger 1 */
	out8(&u.bus, FCR, 0x41);
	CHECK_EQ(in8(&u.bus, IIR), 0xcc);
	for (int i = 0; i < 3; i++)
		out8(&u.bus, RBR, 'e');
	CHECK_EQ(in8(&u.bus, IIR), 0xc4);	/* trigger 4 */
	out8(&u.bus, FCR, 0x81);
	CHECK_EQ(in8(&u.bus, IIR), 0xcc);	/* trigger 8 */
	/* Clear RX. */
	out8(&u.bus, FCR, 0x83);
	CHECK_EQ(in8(&u.bus, LSR) & 1, 0);
	CHECK_EQ(in8(&u.bus, IIR), 0xc1);
	/* Bits other than enable need the enable bit; disabling empties. */
	out8(&u.bus, RBR, 'f');
	out8(&u.bus, FCR, 0x00);
	CHECK_EQ(in8(&u.bus, LSR) & 1, 0);
	CHECK_EQ(in8(&u.bus, IIR), 0x01);
	out8(&u.bus, RBR, 'g');
	out8(&u.bus, FCR, 0x02);		/* ignored: FIFOs are off */
	CHECK_EQ(in8(&u.bus, LSR) & 1, 1);
	uart_fini(&u);
}

KR_TEST(serial_modem_status)
{
	struct uart u;

	uart_init(&u, NULL, -1, -1);
	out8(&u.bus, IER, 0x08);
	out8(&u.bus, MCR, 0x10);	/* loopback: all inputs drop */
	CHECK_EQ(in8(&u.bus, IIR), 0x00);
	CHECK_EQ(in8(&u.bus, MSR), 0x0b);	/* DCTS, DDSR, DDCD */
	CHECK_EQ(in8(&u.bus, IIR), 0x01);
	CHECK_EQ(in8(&u.bus, MSR), 0x00);
	out8(&u.bus, MCR, 0x10 | 0x04);		/* OUT1 -> RI */
	CHECK_EQ(in8(&u.bus, MSR), 0x40);	/* RI rose: no TERI */
	out8(&u.bus, MCR, 0x10);
	CHECK_EQ(in8(&u.bus, MSR), 0x04);	/* RI fell: TERI */
	out8(&u.bus, MCR, 0x10 | 0x01);
	CHECK_EQ(in8(&u.bus, MSR), 0x22);	/* DTR -> DSR */

	/* Priorities: line status > data > THRE > modem status. */
	out8(&u.bus, MCR, 0x10 | 0x02);		/* CTS changes: MS pending */
	out8(&u.bus, IER, 0x0f);		/* THRE pending too */
	CHECK_EQ(in8(&u.bus, IIR), 0x02);
	CHECK_EQ(in8(&u.bus, IIR), 0x00);
	out8(&u.bus, RBR, 1);
	out8(&u.bus, RBR, 2);			/* overrun in 16450 mode */
	CHECK_EQ(in8(&u.bus, IIR), 0x06);
	CHECK_EQ(in8(&u.bus, LSR) & 0x02, 0x02);
	CHECK_EQ(in8(&u.bus, IIR), 0x04);
	in8(&u.bus, RBR);
	CHECK_EQ(in8(&u.bus, IIR), 0x02);	/* the THR writes */
	CHECK_EQ(in8(&u.bus, IIR), 0x00);
	in8(&u.bus, MSR);
	CHECK_EQ(in8(&u.bus, IIR), 0x01);
	uart_fini(&u);
}

KR_TEST(serial_output_fd)
{
	struct uart u;
	char buf[16];
	int p[2];

	CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	uart_init(&u, NULL, -1, p[1]);
	for (const char *c = "hello\n"; *c; c++)
		out8(&u.bus, RBR, *c);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 6);
	CHECK(!memcmp(buf, "hello\n", 6));
	CHECK_EQ(uart_stats(&u).tx_bytes, 6);
	uart_fini(&u);
	close(p[0]);
	close(p[1]);

	/* No sink: dropped and counted. */
	uart_init(&u, NULL, -1, -1);
	out8(&u.bus, RBR, 'x');
	CHECK_EQ(uart_stats(&u).tx_dropped, 1);
	uart_fini(&u);
}

/* A stuck sink never blocks the guest: buffered, then dropped, then flushed in order. */
KR_TEST(serial_output_backpressure)
{
	const size_t total = 4096 + 80000;
	struct uart u;
	pthread_t th;
	struct kr_loop *l;
	uint8_t *got = malloc(total);
	size_t n = 0;
	int p[2], pipe_size;

	CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	pipe_size = fcntl(p[1], F_SETPIPE_SZ, 4096);
	CHECK(pipe_size >= 4096);
	l = loop_start(&th);
	uart_init(&u, l, -1, p[1]);
	for (size_t i = 0; i < total; i++)
		out8(&u.bus, RBR, i * 7 % 251);
	CHECK_EQ(uart_stats(&u).tx_dropped, total - pipe_size - 65536);
	/* The reader comes back: the I/O thread flushes the backlog. */
	for (int tries = 0; tries < 2000 && n < pipe_size + 65536u; tries++) {
		ssize_t r = read(p[0], got + n, total - n);

		if (r > 0)
			n += r;
		else
			sleep_ms(1);
	}
	CHECK_EQ(n, pipe_size + 65536u);
	for (size_t i = 0; i < n; i++)
		if (got[i] != i * 7 % 251) {
			CHECK_EQ(i, n);		/* out of order */
			break;
		}
	CHECK_EQ(uart_stats(&u).tx_bytes, n);
	/* And then bytes go straight through again. */
	out8(&u.bus, RBR, 0x42);
	CHECK_EQ(read(p[0], got, 1), 1);
	CHECK_EQ(got[0], 0x42);
	uart_fini(&u);
	loop_stop(l, th);
	close(p[0]);
	close(p[1]);
	free(got);
}

/* Reads the guest way: poll LSR.DR, read RBR; up to want bytes or timeout. */
static size_t guest_read(struct uart *u, uint8_t *buf, size_t want, int timeout_ms)
{
	size_t n = 0;

	for (int idle = 0; n < want && idle < timeout_ms;) {
		if (in8(&u->bus, LSR) & 1) {
			buf[n++] = in8(&u->bus, RBR);
			idle = 0;
		} else {
			sleep_ms(1);
			idle++;
		}
	}
	return n;
}

static int pipe_pending(int fd)
{
	int n = -1;

	ioctl(fd, FIONREAD, &n);
	return n;
}

/* Input is flow-controlled: the FIFO fills, the rest waits in the fd, nothing is lost. */
KR_TEST(serial_input_flow)
{
	struct uart u;
	pthread_t th;
	struct kr_loop *l;
	uint8_t data[100], got[100];
	int p[2];

	for (int i = 0; i < 100; i++)
		data[i] = i * 13;
	CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	l = loop_start(&th);
	uart_init(&u, l, p[0], -1);
	out8(&u.bus, FCR, 0x81);		/* FIFOs, trigger 8, as Linux */
	out8(&u.bus, IER, 0x01);
	out8(&u.bus, MCR, 0x08);
	CHECK_EQ(write(p[1], data, 100), 100);
	for (int i = 0; i < 1000 && pipe_pending(p[0]) > 100 - 16; i++)
		sleep_ms(1);
	sleep_ms(20);
	CHECK_EQ(pipe_pending(p[0]), 100 - 16);	/* the FIFO holds 16, no more read */
	CHECK_EQ(u.irq.level, 1);
	CHECK_EQ(in8(&u.bus, IIR), 0xc4);
	CHECK_EQ(guest_read(&u, got, 100, 1000), 100);
	CHECK(!memcmp(got, data, 100));
	CHECK_EQ(in8(&u.bus, IIR), 0xc1);
	CHECK_EQ(u.irq.level, 0);
	CHECK_EQ(uart_stats(&u).rx_bytes, 100);
	CHECK_EQ(uart_stats(&u).rx_overruns, 0);

	/* Loopback stops reading the fd: its bytes wait, the looped ones arrive. */
	out8(&u.bus, MCR, 0x10);
	CHECK_EQ(write(p[1], "zz", 2), 2);
	out8(&u.bus, RBR, 'L');
	sleep_ms(20);
	CHECK_EQ(guest_read(&u, got, 3, 20), 1);
	CHECK_EQ(got[0], 'L');
	CHECK_EQ(pipe_pending(p[0]), 2);
	out8(&u.bus, MCR, 0x00);
	CHECK_EQ(guest_read(&u, got, 2, 1000), 2);
	CHECK(!memcmp(got, "zz", 2));

	/* The writer goes away with the FIFO full: what it wrote still arrives. */
	CHECK_EQ(write(p[1], data, 40), 40);
	close(p[1]);
	sleep_ms(20);
	CHECK_EQ(guest_read(&u, got, 100, 200), 40);
	CHECK(!memcmp(got, data, 40));
	uart_fini(&u);
	loop_stop(l, th);
	close(p[0]);
}

KR_TEST(serial_pty)
{
	int fds = t_count_fds();
	struct uart u = { 0 };
	struct kr_irq irq = { irq_rec_set, &u.irq, KR_GSI_COM1 };
	pthread_t th;
	struct kr_loop *l = loop_start(&th);
	char path[64] = "";
	uint8_t got[8];
	int fd, n = 0;

	kr_bus_init(&u.bus, "pio");
	u.s = kr_serial_create_pty(COM, &irq, l, path, sizeof(path));
	CHECK(u.s != NULL);
	if (!u.s) {
		loop_stop(l, th);
		return;
	}
	CHECK_EQ(kr_serial_attach(u.s, &u.bus), 0);
	CHECK(!strncmp(path, "/dev/pts/", 9));
	fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	CHECK(fd >= 0);
	/* Guest to user, unchanged (raw: no CR added). */
	out8(&u.bus, RBR, 'o');
	out8(&u.bus, RBR, '\n');
	nonblock(fd);
	for (int i = 0; i < 1000 && n < 2; i++) {
		ssize_t r = read(fd, got + n, sizeof(got) - n);

		if (r > 0)
			n += r;
		else
			sleep_ms(1);
	}
	CHECK_EQ(n, 2);
	CHECK(!memcmp(got, "o\n", 2));
	/* User to guest. */
	CHECK_EQ(write(fd, "in", 2), 2);
	CHECK_EQ(guest_read(&u, got, 2, 1000), 2);
	CHECK(!memcmp(got, "in", 2));
	close(fd);
	/* Nobody connected any more: output still does not block or fail. */
	for (int i = 0; i < 100; i++)
		out8(&u.bus, RBR, 'x');
	CHECK_EQ(uart_stats(&u).tx_dropped, 0);
	uart_fini(&u);
	loop_stop(l, th);
	CHECK_EQ(t_count_fds(), fds);
}

KR_TEST(serial_socket_peer_gone)
{
	struct uart u;
	int sv[2];

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	uart_init(&u, NULL, -1, sv[0]);
	out8(&u.bus, RBR, 'a');
	close(sv[1]);
	/* EPIPE without SIGPIPE (MSG_NOSIGNAL), then dropped. */
	out8(&u.bus, RBR, 'b');
	out8(&u.bus, RBR, 'c');
	CHECK_EQ(uart_stats(&u).tx_bytes, 1);
	CHECK_EQ(uart_stats(&u).tx_dropped, 2);
	uart_fini(&u);
	close(sv[0]);
}

KR_TEST(serial_hostile)
{
	struct uart u;
	uint8_t d[8];
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	uart_init(&u, NULL, -1, fd);
	/* Read-only registers ignore writes. */
	out8(&u.bus, LSR, 0xff);
	out8(&u.bus, MSR, 0xff);
	CHECK_EQ(in8(&u.bus, LSR), 0x60);
	CHECK_EQ(in8(&u.bus, MSR), 0xb0);
	/* Wide accesses are byte accesses of consecutive ports, none past the last. */
	memset(d, 0, sizeof(d));
	kr_bus_access(&u.bus, SCR, d, 4, false);
	CHECK_EQ(d[1], 0xff);
	CHECK_EQ(d[3], 0xff);
	kr_put_le(d, 2, 0x0355);		/* SCR and the 0x400 port */
	kr_bus_access(&u.bus, SCR, d, 2, true);
	CHECK_EQ(in8(&u.bus, SCR), 0x55);
	CHECK_EQ(in8(&u.bus, LCR), 0);
	kr_put_le(d, 2, 0x0380);		/* LCR = 0x80, MCR = 0x03 */
	kr_bus_access(&u.bus, LCR, d, 2, true);
	CHECK_EQ(in8(&u.bus, LCR), 0x80);
	CHECK_EQ(in8(&u.bus, MCR), 0x03);
	/* Directly at the handler, offsets a bus would never give. */
	{
		const struct kr_range *r = kr_bus_find(&u.bus, COM);

		memset(d, 0xee, sizeof(d));
		r->fn(r->opaque, ~0ull, d, 8, false);
		r->fn(r->opaque, 1ull << 40, d, 8, true);
		r->fn(r->opaque, 7, d, 8, false);
		CHECK_EQ(d[1], 0xee);
	}
	/* Random accesses: no crash, no sanitizer report, the line agrees with IIR. */
	srand(1);
	for (int i = 0; i < 20000; i++) {
		unsigned int size = 1u << (rand() % 4);
		uint16_t port = COM + rand() % 8;

		for (int j = 0; j < 8; j++)
			d[j] = rand();
		kr_bus_access(&u.bus, port, d, size, rand() & 1);
	}
	{
		uint8_t mcr = in8(&u.bus, MCR), iir = in8(&u.bus, IIR);

		CHECK(mcr <= 0x1f);
		if (!(iir & 1) && iir != 0xc2 && iir != 0x02)
			CHECK_EQ(u.irq.level, (mcr & 0x18) == 0x08);
	}
	uart_fini(&u);
	close(fd);
}

/* ---- snapshot ----------------------------------------------------------- */

/*
 * Offsets in kr_serial_save()'s state: the version, IER, LCR, MCR, FCR,
 * SCR, LSR errors, MSR deltas, divisor (2), THRE pending, line, RBR, FIFO
 * count, FIFO bytes.
 */
enum { S_IER = 4, S_MCR = 6, S_FCR = 7, S_MSR_D = 10, S_THRE = 13, S_LINE = 14, S_COUNT = 16 };

/*
 * A UART in a state with a bit of everything: divisor, LCR, scratch, FIFO
 * at trigger 8 holding 13 bytes after an overrun, modem deltas, THRE and
 * line status pending, the line up.
 */
static void uart_busy(struct uart *u)
{
	out8(&u->bus, LCR, 0x80);
	out8(&u->bus, RBR, 0x34);
	out8(&u->bus, IER, 0x12);
	out8(&u->bus, LCR, 0x1b);
	out8(&u->bus, SCR, 0xa7);
	out8(&u->bus, FCR, 0x81);
	out8(&u->bus, MCR, 0x10);
	for (int i = 0; i < 17; i++)
		out8(&u->bus, RBR, 0x40 + i);	/* the 17th overruns */
	for (int i = 0; i < 3; i++)
		in8(&u->bus, RBR);
	out8(&u->bus, MCR, 0x0b);		/* out of loopback: DCD, DSR, CTS change */
	out8(&u->bus, IER, 0x0f);
}

/* What a guest sees, reading everything until nothing is pending; n values. */
static size_t uart_probe(struct uart *u, uint8_t *v, size_t max)
{
	size_t n = 0;

	v[n++] = in8(&u->bus, IER);
	v[n++] = in8(&u->bus, LCR);
	v[n++] = in8(&u->bus, MCR);
	v[n++] = in8(&u->bus, SCR);
	v[n++] = u->irq.level;
	v[n++] = in8(&u->bus, IIR);		/* line status */
	v[n++] = in8(&u->bus, LSR);
	v[n++] = in8(&u->bus, IIR);		/* data */
	for (int i = 0; i < 14 && n < max; i++)
		v[n++] = in8(&u->bus, RBR);	/* 13 bytes, then the last again */
	v[n++] = in8(&u->bus, IIR);		/* THRE, acknowledged by the read */
	v[n++] = in8(&u->bus, IIR);		/* modem status */
	v[n++] = in8(&u->bus, MSR);
	v[n++] = in8(&u->bus, IIR);
	v[n++] = u->irq.level;
	out8(&u->bus, LCR, 0x9b);
	v[n++] = in8(&u->bus, RBR);
	v[n++] = in8(&u->bus, IER);
	return n;
}

KR_TEST(serial_snapshot_round_trip)
{
	struct kr_sbuf b = { 0 };
	struct uart a, c;
	struct kr_sget g;
	uint8_t va[64], vc[64];
	size_t na, nc;

	uart_init(&a, NULL, -1, -1);
	uart_busy(&a);
	CHECK_EQ(a.irq.level, 1);
	CHECK_EQ(kr_serial_save(a.s, &b), 0);
	CHECK(!b.oom);
	CHECK_EQ(b.p[S_COUNT], 13);

	uart_init(&c, NULL, -1, -1);
	kr_sget_init(&g, b.p, b.len, "serial");
	CHECK_EQ(kr_serial_load(c.s, &g), 0);
	CHECK(!g.bad);
	CHECK_EQ(c.irq.sets, 0);		/* the irqchip restores the line, not the UART */

	na = uart_probe(&a, va, sizeof(va));
	c.irq.level = 1;			/* as the restored irqchip has it */
	nc = uart_probe(&c, vc, sizeof(vc));
	CHECK_EQ(na, nc);
	CHECK(!memcmp(va, vc, na));
	CHECK_EQ(va[6], 0x63);			/* OE, DR, THRE, TEMT */
	CHECK_EQ(va[8], 0x43);			/* the FIFO went on at its 4th byte */
	CHECK_EQ(va[20], 0x4f);
	CHECK_EQ(va[21], 0x4f);
	CHECK_EQ(va[na - 2], 0x34);		/* the divisor */
	CHECK_EQ(va[na - 1], 0x12);
	CHECK_EQ(c.irq.level, 0);

	/* Saving saved nothing away: the state of a is the state of c. */
	kr_sbuf_free(&b);
	uart_fini(&a);
	uart_fini(&c);
}

/* A restored full FIFO holds the input back; the guest's reads let it in. */
KR_TEST(serial_snapshot_input_flow)
{
	struct kr_sbuf b = { 0 };
	struct kr_sget g;
	struct uart a, c;
	struct kr_loop *l;
	pthread_t th;
	uint8_t got[32];
	int p[2];

	uart_init(&a, NULL, -1, -1);
	out8(&a.bus, FCR, 0x01);
	out8(&a.bus, MCR, 0x10);
	for (int i = 0; i < 16; i++)
		out8(&a.bus, RBR, i);
	out8(&a.bus, MCR, 0x00);
	CHECK_EQ(kr_serial_save(a.s, &b), 0);
	uart_fini(&a);

	CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	l = loop_start(&th);
	uart_init(&c, l, p[0], -1);
	kr_sget_init(&g, b.p, b.len, "serial");
	CHECK_EQ(kr_serial_load(c.s, &g), 0);
	CHECK_EQ(write(p[1], "xyz", 3), 3);
	sleep_ms(20);
	CHECK_EQ(pipe_pending(p[0]), 3);	/* not read into a full FIFO */
	CHECK_EQ(guest_read(&c, got, 19, 1000), 19);
	for (int i = 0; i < 16; i++)
		CHECK_EQ(got[i], i);
	CHECK(!memcmp(got + 16, "xyz", 3));
	CHECK_EQ(uart_stats(&c).rx_overruns, 0);
	uart_fini(&c);
	loop_stop(l, th);
	close(p[0]);
	close(p[1]);
	kr_sbuf_free(&b);
}

/* Load p[0..n) into a new UART: its result, the reason in why. */
static int uart_load_fresh(const uint8_t *p, size_t n, char *why, size_t len)
{
	struct kr_sget g;
	struct uart u;
	int ret;

	uart_init(&u, NULL, -1, -1);
	kr_sget_init(&g, p, n, "serial");
	ret = kr_serial_load(u.s, &g);
	snprintf(why, len, "%s", g.why);
	/* A refused load leaves a UART that still answers (it is destroyed next). */
	if (ret)
		CHECK_EQ(in8(&u.bus, LSR), 0x60);
	uart_fini(&u);
	return ret;
}

/* The saved bytes with byte off set to v, loaded: refused with reason want. */
static void uart_refuses(const struct kr_sbuf *b, size_t off, uint8_t v, const char *want)
{
	uint8_t p[64];
	char why[160];

	CHECK(b->len <= sizeof(p));
	memcpy(p, b->p, b->len);
	p[off] = v;
	CHECK_EQ(uart_load_fresh(p, b->len, why, sizeof(why)), -EPROTO);
	if (!strstr(why, want))
		printf("#   offset %zu = %#x: \"%s\", want \"%s\"\n", off, v, why, want);
	CHECK(strstr(why, want) != NULL);
}

KR_TEST(serial_snapshot_refused)
{
	struct kr_sbuf b = { 0 };
	char why[160];
	struct uart a;
	uint8_t p[64];

	uart_init(&a, NULL, -1, -1);
	uart_busy(&a);
	CHECK_EQ(kr_serial_save(a.s, &b), 0);
	uart_fini(&a);
	CHECK_EQ(b.len, S_COUNT + 1 + 13u);
	CHECK_EQ(uart_load_fresh(b.p, b.len, why, sizeof(why)), 0);

	/* Every truncation, and a byte too many. */
	for (size_t n = 0; n < b.len; n++)
		CHECK_EQ(uart_load_fresh(b.p, n, why, sizeof(why)), -EPROTO);
	memcpy(p, b.p, b.len);
	p[b.len] = 0;
	CHECK_EQ(uart_load_fresh(p, b.len + 1, why, sizeof(why)), -EPROTO);
	CHECK(strstr(why, "left over") != NULL);

	uart_refuses(&b, 0, KR_SERIAL_STATE_VERSION + 1, "state version 2");
	uart_refuses(&b, S_IER, 0x1f, "IER 0x1f");
	uart_refuses(&b, S_MCR, 0x2b, "MCR 0x2b");
	uart_refuses(&b, S_FCR, 0x83, "FCR 0x83");	/* clear-RX is not kept */
	uart_refuses(&b, S_FCR, 0x80, "FCR 0x80");	/* a trigger without the FIFOs */
	uart_refuses(&b, S_FCR, 0x00, "13 bytes in a receive FIFO of 1");
	uart_refuses(&b, S_COUNT, 17, "17 bytes in a receive FIFO of 16");
	uart_refuses(&b, S_COUNT, 0xff, "255 bytes");
	uart_refuses(&b, S_MSR_D, 0x1b, "MSR deltas 0x1b");
	uart_refuses(&b, S_THRE, 2, "a flag reads 2");
	uart_refuses(&b, S_LINE, 0, "line level 0 where the registers say 1");
	kr_sbuf_free(&b);
}

/*
 * Random accesses; now and then the state is saved and loaded into a new
 * UART, which must take it and then answer every access as the old one.
 */
KR_TEST(serial_snapshot_random)
{
	struct uart *cur = calloc(1, sizeof(*cur)), *next;
	int refused = 0, differ = 0;

	uart_init(cur, NULL, -1, -1);
	srand(13);
	for (int round = 0; round < 40; round++) {
		struct kr_sbuf b = { 0 };
		struct kr_sget g;

		CHECK_EQ(kr_serial_save(cur->s, &b), 0);
		next = calloc(1, sizeof(*next));
		uart_init(next, NULL, -1, -1);
		kr_sget_init(&g, b.p, b.len, "serial");
		refused += kr_serial_load(next->s, &g) != 0;
		next->irq.level = cur->irq.level;	/* as the irqchip keeps it */
		kr_sbuf_free(&b);
		for (int i = 0; i < 500; i++) {
			unsigned int size = 1u << (rand() % 4);
			uint16_t port = COM + rand() % 8;
			bool write = rand() & 1;
			uint8_t d[8], e[8];

			for (int j = 0; j < 8; j++)
				d[j] = rand();
			memcpy(e, d, sizeof(e));
			kr_bus_access(&cur->bus, port, d, size, write);
			kr_bus_access(&next->bus, port, e, size, write);
			differ += memcmp(d, e, sizeof(d)) != 0 || cur->irq.level != next->irq.level;
		}
		uart_fini(cur);
		free(cur);
		cur = next;
	}
	CHECK_EQ(refused, 0);
	CHECK_EQ(differ, 0);
	uart_fini(cur);
	free(cur);
}
