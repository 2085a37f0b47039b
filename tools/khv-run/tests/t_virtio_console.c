// SPDX-License-Identifier: GPL-2.0
/*
 * The console device (virtio_console.c) end to end, as Linux's
 * virtio_console drives it without MULTIPORT: the test driver sets up the
 * receiveq and transmitq; output goes to a pipe (or a pty standing in for
 * the terminal), input comes from one through a real I/O thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pty.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "t.h"
#include "tio.h"
#include "vdrv.h"
#include "../virtio_console.h"

#define SLOT		7
#define BARADDR		0xc8000000ull
#define RXRING		0x10000ull
#define TXRING		0x20000ull
#define BUF		0x100000ull
#define VEC_CFG		0
#define VEC_RX		1
#define VEC_TX		2
#define F_VERSION_1	(1ull << KR_VIRTIO_F_VERSION_1)
#define F_SIZE		(1ull << KR_CONSOLE_F_SIZE)

struct ct {
	struct tmach m;
	struct kr_loop *l;
	pthread_t th;
	int in[2], out[2];	/* test -> in[1] -> device; device -> out[1] -> test */
	int pty_m, pty_s;	/* the terminal variant: -1 otherwise */
	struct kr_chardev *c;
	struct kr_virtio_console *vc;
	struct vdrv d;
};

/* Driver side: negotiate, MSI-X (config 0, rx 1, tx 2), both queues, DRIVER_OK. */
static void ct_driver(struct ct *t, uint64_t features, uint16_t qsize)
{
	vd_negotiate(&t->d, F_VERSION_1 | features);
	vd_msix_enable(&t->d);
	vd_common_write(&t->d, KR_VIRTIO_COMMON_MSIX, 2, VEC_CFG);
	vd_setup_queue(&t->d, KR_CONSOLE_RXQ, qsize, RXRING, VEC_RX);
	vd_setup_queue(&t->d, KR_CONSOLE_TXQ, qsize, TXRING, VEC_TX);
	vd_driver_ok(&t->d);
}

/* The device on pipes, or (tty) on a pty of cols x rows whose slave is the terminal. */
static void ct_open(struct ct *t, bool tty, uint16_t cols, uint16_t rows)
{
	memset(t, 0, sizeof(*t));
	tm_init(&t->m);
	t->l = kr_loop_new();
	if (!t->l || pthread_create(&t->th, NULL, loop_main, t->l))
		abort();
	t->pty_m = t->pty_s = -1;
	if (tty) {
		struct winsize ws = { .ws_row = rows, .ws_col = cols };

		if (openpty(&t->pty_m, &t->pty_s, NULL, NULL, NULL) ||
		    ioctl(t->pty_s, TIOCSWINSZ, &ws))
			abort();
		fcntl(t->pty_m, F_SETFL, O_NONBLOCK);
		fcntl(t->pty_s, F_SETFL, O_NONBLOCK);
		t->in[0] = t->out[1] = t->pty_s;
		t->in[1] = t->out[0] = t->pty_m;
		t->c = kr_chardev_open_fds(t->pty_s, t->pty_s, t->l, KR_CHARDEV_RAW);
	} else {
		if (pipe2(t->in, O_NONBLOCK | O_CLOEXEC) || pipe2(t->out, O_NONBLOCK | O_CLOEXEC))
			abort();
		t->c = kr_chardev_open_fds(t->in[0], t->out[1], t->l, 0);
	}
	t->vc = kr_virtio_console_create(t->m.pci, SLOT, &t->m.mem, t->l, t->c);
	if (!t->vc)
		abort();
}

/* On pipes, or (tty) on a 100 x 40 pty; the driver through DRIVER_OK. */
static void ct_up(struct ct *t, bool tty, uint64_t features, uint16_t qsize)
{
	ct_open(t, tty, 100, 40);
	if (vd_probe(&t->d, &t->m, SLOT, BARADDR))
		abort();
	ct_driver(t, features, qsize);
}

static void ct_down(struct ct *t)
{
	kr_virtio_console_destroy(t->vc);
	kr_chardev_destroy(t->c);
	kr_loop_stop(t->l);
	pthread_join(t->th, NULL);
	kr_loop_free(t->l);
	tm_fini(&t->m);
	if (t->pty_m >= 0) {
		close(t->pty_m);
		close(t->pty_s);
	} else {
		for (int i = 0; i < 2; i++) {
			close(t->in[i]);
			close(t->out[i]);
		}
	}
}

static unsigned int msis(struct ct *t, unsigned int vec)
{
	unsigned int n = __atomic_load_n(&t->m.n_msi, __ATOMIC_ACQUIRE), c = 0;

	for (unsigned int i = 0; i < n; i++)
		c += t->m.msi[i].data == VD_MSI_DATA(vec);
	return c;
}

/* The next used entry of q, waiting up to ms for the I/O thread. */
static bool used_wait(struct ct *t, unsigned int q, uint32_t *id, uint32_t *len, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (vd_used(&t->d, q, id, len))
			return true;
		sleep_ms(1);
	}
	return false;
}

static uint64_t cfg_read(struct ct *t, unsigned int off, unsigned int size)
{
	return tm_read(&t->m.mmio, t->d.device + off, size);
}

/* One readable buffer with s at gpa, made available and kicked. */
static void tx_post(struct ct *t, uint16_t head, uint64_t gpa, const char *s)
{
	size_t n = strlen(s);

	memcpy(tm_ram(&t->m, gpa, n), s, n);
	vd_desc(&t->d, KR_CONSOLE_TXQ, head, gpa, n, 0, 0);
	vd_avail(&t->d, KR_CONSOLE_TXQ, head);
}

/* One writable buffer of len at gpa, preset to 0xaa, made available. */
static void rx_post(struct ct *t, uint16_t head, uint64_t gpa, uint32_t len)
{
	memset(tm_ram(&t->m, gpa, len), 0xaa, len);
	vd_desc(&t->d, KR_CONSOLE_RXQ, head, gpa, len, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&t->d, KR_CONSOLE_RXQ, head);
}

static void type(struct ct *t, const void *s, size_t n)
{
	if (write(t->in[1], s, n) != (ssize_t)n)
		abort();
}

static struct kr_virtio_console_stats con_stats(struct ct *t)
{
	struct kr_virtio_console_stats st;

	kr_virtio_console_get_stats(t->vc, &st);
	return st;
}

KR_TEST(console_identity)
{
	struct ct t;

	ct_up(&t, false, 0, 8);
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, 0, 4), 0x1043u << 16 | 0x1af4);
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, 8, 4) >> 8, 0x078000);	/* communication, other */
	CHECK_EQ(vd_common_read(&t.d, KR_VIRTIO_COMMON_NUMQ, 2), 2);
	CHECK(t.d.device_len >= KR_CONSOLE_CONFIG_LEN);
	/* Not a terminal: no SIZE, no MULTIPORT, no EMERG_WRITE. */
	vd_common_write(&t.d, KR_VIRTIO_COMMON_DFSELECT, 4, 0);
	CHECK_EQ(vd_common_read(&t.d, KR_VIRTIO_COMMON_DF, 4) & 0xffffff, 0);
	CHECK_EQ(vd_status(&t.d) & KR_VIRTIO_STATUS_DRIVER_OK, KR_VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(cfg_read(&t, 0, 4), 0);		/* cols, rows */
	CHECK_EQ(cfg_read(&t, 4, 4), 1);		/* max_nr_ports */
	CHECK_EQ(cfg_read(&t, 8, 4), 0);
	CHECK_EQ(msis(&t, VEC_CFG), 0);			/* nothing to announce */
	CHECK(kr_virtio_console_transport(t.vc) != NULL);
	/* Linux sizes its queues from queue_size: the maximum. */
	vd_common_write(&t.d, KR_VIRTIO_COMMON_Q_SELECT, 2, 1);
	CHECK_EQ(vd_common_read(&t.d, KR_VIRTIO_COMMON_Q_SIZE, 2), 8);
	ct_down(&t);
	CHECK(kr_virtio_console_create(NULL, 0, NULL, NULL, NULL) == NULL);
	CHECK_EQ(errno, EINVAL);
}

/* Output is written before the kick returns (hvc's put_chars spins for it). */
KR_TEST(console_tx)
{
	struct ct t;
	char out[32] = "";
	uint32_t id, len;

	ct_up(&t, false, 0, 8);
	tx_post(&t, 3, BUF, "hello\n");
	vd_kick(&t.d, KR_CONSOLE_TXQ);
	CHECK(vd_used(&t.d, KR_CONSOLE_TXQ, &id, &len));	/* at once */
	CHECK_EQ(id, 3);
	CHECK_EQ(len, 0);
	CHECK_EQ(read(t.out[0], out, sizeof(out)), 6);
	CHECK(!memcmp(out, "hello\n", 6));
	CHECK_EQ(msis(&t, VEC_TX), 1);

	/* A batch: three chains (one of two buffers plus a writable one), one interrupt. */
	memcpy(tm_ram(&t.m, BUF + 0x100, 3), "abc", 3);
	memcpy(tm_ram(&t.m, BUF + 0x200, 2), "de", 2);
	memset(tm_ram(&t.m, BUF + 0x300, 8), 0xaa, 8);
	vd_desc(&t.d, KR_CONSOLE_TXQ, 0, BUF + 0x100, 3, KR_VQ_DESC_F_NEXT, 1);
	vd_desc(&t.d, KR_CONSOLE_TXQ, 1, BUF + 0x200, 2, KR_VQ_DESC_F_NEXT, 2);
	vd_desc(&t.d, KR_CONSOLE_TXQ, 2, BUF + 0x300, 8, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&t.d, KR_CONSOLE_TXQ, 0);
	tx_post(&t, 4, BUF + 0x400, "fg");
	tx_post(&t, 5, BUF + 0x500, "hi");
	vd_kick(&t.d, KR_CONSOLE_TXQ);
	CHECK_EQ(vd_used_idx(&t.d, KR_CONSOLE_TXQ), 4);
	CHECK_EQ(read(t.out[0], out, sizeof(out)), 9);
	CHECK(!memcmp(out, "abcdefghi", 9));
	CHECK_EQ(*(uint8_t *)tm_ram(&t.m, BUF + 0x300, 1), 0xaa);	/* not written */
	CHECK_EQ(msis(&t, VEC_TX), 2);
	CHECK_EQ(con_stats(&t).tx_bytes, 15);
	ct_down(&t);
}

KR_TEST(console_rx)
{
	struct ct t;
	uint32_t id, len;
	const uint8_t *p;

	ct_up(&t, false, 0, 8);
	rx_post(&t, 2, BUF, 64);
	vd_kick(&t.d, KR_CONSOLE_RXQ);
	type(&t, "abc", 3);
	CHECK(used_wait(&t, KR_CONSOLE_RXQ, &id, &len, 500));
	CHECK_EQ(id, 2);
	CHECK_EQ(len, 3);
	p = tm_ram(&t.m, BUF, 4);
	CHECK(!memcmp(p, "abc", 3));
	CHECK_EQ(p[3], 0xaa);
	CHECK_EQ(msis(&t, VEC_RX), 1);

	/* Three small buffers, one burst: filled in order, one interrupt. */
	rx_post(&t, 4, BUF + 0x100, 2);
	rx_post(&t, 5, BUF + 0x200, 2);
	rx_post(&t, 6, BUF + 0x300, 2);
	vd_kick(&t.d, KR_CONSOLE_RXQ);
	sleep_ms(10);
	type(&t, "uvwxyz", 6);
	for (unsigned int i = 0; i < 3; i++) {
		CHECK(used_wait(&t, KR_CONSOLE_RXQ, &id, &len, 500));
		CHECK_EQ(id, 4 + i);
		CHECK_EQ(len, 2);
		CHECK(!memcmp(tm_ram(&t.m, BUF + 0x100 * (i + 1), 2), "uvwxyz" + 2 * i, 2));
	}
	CHECK_EQ(msis(&t, VEC_RX), 2);
	CHECK_EQ(con_stats(&t).rx_bytes, 9);
	ct_down(&t);
}

/* No guest buffer: input waits (staged, then in the fd), and none of it is lost. */
KR_TEST(console_rx_waits)
{
	static uint8_t data[10000];
	struct ct t;
	uint32_t id, len, total = 0;

	for (unsigned int i = 0; i < sizeof(data); i++)
		data[i] = i * 31 + 7;
	ct_up(&t, false, 0, 8);
	type(&t, data, sizeof(data));
	sleep_ms(30);
	/* One stage's worth was read for a buffer that is not there; no more. */
	CHECK_EQ(pending(t.in[0]), (int)sizeof(data) - 4096);
	CHECK_EQ(vd_used_idx(&t.d, KR_CONSOLE_RXQ), 0);
	for (unsigned int i = 0; i < 3; i++)
		rx_post(&t, i, BUF + 0x1000 * i, 0x1000);
	vd_kick(&t.d, KR_CONSOLE_RXQ);
	for (unsigned int i = 0; i < 3; i++) {
		CHECK(used_wait(&t, KR_CONSOLE_RXQ, &id, &len, 500));
		CHECK_EQ(id, i);
		total += len;
	}
	CHECK_EQ(total, sizeof(data));
	CHECK(!memcmp(tm_ram(&t.m, BUF, sizeof(data)), data, sizeof(data)));
	CHECK_EQ(pending(t.in[0]), 0);
	/* Out of buffers again: the next bytes wait for the next one. */
	type(&t, "late", 4);
	sleep_ms(20);
	CHECK_EQ(vd_used_idx(&t.d, KR_CONSOLE_RXQ), 3);
	rx_post(&t, 3, BUF, 16);
	vd_kick(&t.d, KR_CONSOLE_RXQ);
	CHECK(used_wait(&t, KR_CONSOLE_RXQ, &id, &len, 500));
	CHECK_EQ(len, 4);
	CHECK(!memcmp(tm_ram(&t.m, BUF, 4), "late", 4));
	ct_down(&t);
}

/* The terminal's size: offered, announced at DRIVER_OK, updated on resize. */
KR_TEST(console_size)
{
	struct ct t;
	uint8_t gen;
	char out[8];

	ct_up(&t, true, F_SIZE, 8);
	vd_common_write(&t.d, KR_VIRTIO_COMMON_DFSELECT, 4, 0);
	CHECK_EQ(vd_common_read(&t.d, KR_VIRTIO_COMMON_DF, 4) & 0xffffff, F_SIZE);
	CHECK_EQ(msis(&t, VEC_CFG), 1);			/* the announcement */
	CHECK_EQ(cfg_read(&t, 0, 2), 100);
	CHECK_EQ(cfg_read(&t, 2, 2), 40);
	CHECK_EQ(cfg_read(&t, 1, 1), 0);		/* bytes of a field */
	gen = vd_common_read(&t.d, KR_VIRTIO_COMMON_CFGGEN, 1);
	kr_virtio_console_resize(t.vc, 120, 50);
	CHECK_EQ(msis(&t, VEC_CFG), 2);
	CHECK_EQ(cfg_read(&t, 0, 4), 50u << 16 | 120);
	CHECK(vd_common_read(&t.d, KR_VIRTIO_COMMON_CFGGEN, 1) != gen);
	kr_virtio_console_resize(t.vc, 120, 50);	/* no change: no interrupt */
	CHECK_EQ(msis(&t, VEC_CFG), 2);
	/* The guest cannot write the size (nor emerg_wr, not offered). */
	tm_write(&t.m.mmio, t.d.device, 4, 0x00010001);
	tm_write(&t.m.mmio, t.d.device + 8, 4, 'E');
	CHECK_EQ(cfg_read(&t, 0, 4), 50u << 16 | 120);
	CHECK_EQ(read(t.pty_m, out, sizeof(out)), -1);
	/* Data through the terminal, raw both ways. */
	tx_post(&t, 0, BUF, "ok\n");
	vd_kick(&t.d, KR_CONSOLE_TXQ);
	CHECK_EQ(read_some(t.pty_m, out, 3, 200), 3);
	CHECK(!memcmp(out, "ok\n", 3));
	rx_post(&t, 0, BUF, 8);
	vd_kick(&t.d, KR_CONSOLE_RXQ);
	type(&t, "\003\r", 2);
	{
		uint32_t id, len;

		CHECK(used_wait(&t, KR_CONSOLE_RXQ, &id, &len, 500));
		CHECK_EQ(len, 2);
		CHECK(!memcmp(tm_ram(&t.m, BUF, 2), "\003\r", 2));
	}
	/* A driver without F_SIZE: no announcement, no interrupt on resize. */
	ct_driver(&t, 0, 8);
	CHECK_EQ(msis(&t, VEC_CFG), 2);
	kr_virtio_console_resize(t.vc, 80, 24);
	CHECK_EQ(msis(&t, VEC_CFG), 2);
	ct_down(&t);

	/* Not a terminal: no size to give, resize changes nothing the guest sees. */
	ct_up(&t, false, 0, 8);
	kr_virtio_console_resize(t.vc, 80, 24);
	CHECK_EQ(msis(&t, VEC_CFG), 0);
	CHECK_EQ(cfg_read(&t, 0, 4), 0);
	ct_down(&t);
}

/* More chains than a pass takes: the rest is done by the I/O thread, in order. */
KR_TEST(console_budget)
{
	struct ct t;
	char out[128];
	uint32_t id, len;

	ct_up(&t, false, 0, 128);
	for (unsigned int i = 0; i < 100; i++) {
		char s[2] = { (char)('0' + i % 64), 0 };

		tx_post(&t, i, BUF + i, s);
	}
	vd_kick(&t.d, KR_CONSOLE_TXQ);
	CHECK(vd_used_idx(&t.d, KR_CONSOLE_TXQ) >= 64);
	CHECK_EQ(read_some(t.out[0], out, 100, 500), 100);
	for (unsigned int i = 0; i < 100; i++)
		if (out[i] != (char)('0' + i % 64)) {
			CHECK_EQ(i, 100);
			break;
		}
	CHECK_EQ(vd_used_idx(&t.d, KR_CONSOLE_TXQ), 100);

	/* 100 one-byte receive buffers, 100 bytes. */
	for (unsigned int i = 0; i < 100; i++)
		rx_post(&t, i, BUF + 0x1000 + i, 1);
	vd_kick(&t.d, KR_CONSOLE_RXQ);
	for (unsigned int i = 0; i < 100; i++)
		out[i] = 'A' + i % 26;
	type(&t, out, 100);
	for (unsigned int i = 0; i < 100; i++) {
		if (!used_wait(&t, KR_CONSOLE_RXQ, &id, &len, 500) || id != i || len != 1) {
			CHECK_EQ(i, 100);
			break;
		}
	}
	CHECK(!memcmp(tm_ram(&t.m, BUF + 0x1000, 100), out, 100));
	ct_down(&t);
}

/* Reset with input waiting: the next driver gets it; output works again. */
KR_TEST(console_reset)
{
	struct ct t;
	uint32_t id, len;
	char out[8];

	ct_up(&t, false, 0, 8);
	type(&t, "kept", 4);
	sleep_ms(20);
	vd_common_write(&t.d, KR_VIRTIO_COMMON_STATUS, 1, 0);
	CHECK_EQ(vd_status(&t.d), 0);
	tx_post(&t, 0, BUF, "no");
	vd_kick(&t.d, KR_CONSOLE_TXQ);			/* a reset device serves nothing */
	CHECK_EQ(read(t.out[0], out, sizeof(out)), -1);
	ct_driver(&t, 0, 8);
	rx_post(&t, 1, BUF + 0x100, 16);
	vd_kick(&t.d, KR_CONSOLE_RXQ);
	CHECK(used_wait(&t, KR_CONSOLE_RXQ, &id, &len, 500));
	CHECK_EQ(len, 4);
	CHECK(!memcmp(tm_ram(&t.m, BUF + 0x100, 4), "kept", 4));
	tx_post(&t, 0, BUF, "yes");
	vd_kick(&t.d, KR_CONSOLE_TXQ);
	CHECK_EQ(read(t.out[0], out, sizeof(out)), 3);
	ct_down(&t);
}

/* Destroy leaves the chardev open and ownerless: input stays in the fd. */
KR_TEST(console_destroy_detaches)
{
	struct ct t;

	ct_up(&t, false, 0, 8);
	kr_virtio_console_destroy(t.vc);
	t.vc = NULL;
	type(&t, "x", 1);
	kr_chardev_want_input(t.c, true);
	sleep_ms(20);
	CHECK_EQ(pending(t.in[0]), 1);
	kr_chardev_write(t.c, "y", 1);
	{
		char b;

		CHECK_EQ(read(t.out[0], &b, 1), 1);
	}
	ct_down(&t);
}

static bool needs_reset(struct ct *t)
{
	return vd_status(&t->d) & KR_VIRTIO_STATUS_NEEDS_RESET;
}

KR_TEST(console_hostile)
{
	struct ct t;
	uint32_t id, len;
	char out[16];

	/* Output outside RAM: the device needs a reset, the host writes nothing. */
	ct_up(&t, false, 0, 128);
	vd_desc(&t.d, KR_CONSOLE_TXQ, 0, 0xd0000000ull, 16, 0, 0);
	vd_avail(&t.d, KR_CONSOLE_TXQ, 0);
	vd_kick(&t.d, KR_CONSOLE_TXQ);
	CHECK(needs_reset(&t));
	CHECK_EQ(read(t.out[0], out, sizeof(out)), -1);
	/* A length that wraps the address space. */
	ct_driver(&t, 0, 128);
	vd_desc(&t.d, KR_CONSOLE_TXQ, 0, BUF, 0xffffffffu, 0, 0);
	vd_avail(&t.d, KR_CONSOLE_TXQ, 0);
	vd_kick(&t.d, KR_CONSOLE_TXQ);
	CHECK(needs_reset(&t));
	/* A chain of more buffers than the device takes (64). */
	ct_driver(&t, 0, 128);
	for (unsigned int i = 0; i < 100; i++)
		vd_desc(&t.d, KR_CONSOLE_TXQ, i, BUF + i, 1, i < 99 ? KR_VQ_DESC_F_NEXT : 0, i + 1);
	vd_avail(&t.d, KR_CONSOLE_TXQ, 0);
	vd_kick(&t.d, KR_CONSOLE_TXQ);
	CHECK(needs_reset(&t));
	/* A descriptor loop. */
	ct_driver(&t, 0, 128);
	vd_desc(&t.d, KR_CONSOLE_TXQ, 0, BUF, 1, KR_VQ_DESC_F_NEXT, 1);
	vd_desc(&t.d, KR_CONSOLE_TXQ, 1, BUF, 1, KR_VQ_DESC_F_NEXT, 0);
	vd_avail(&t.d, KR_CONSOLE_TXQ, 0);
	vd_kick(&t.d, KR_CONSOLE_TXQ);
	CHECK(needs_reset(&t));
	CHECK_EQ(read(t.out[0], out, sizeof(out)), -1);

	/* A huge buffer in RAM: the first 64 KiB go out, the rest is counted. */
	ct_driver(&t, 0, 128);
	memset(tm_ram(&t.m, BUF, 0x100000), 'h', 0x100000);
	vd_desc(&t.d, KR_CONSOLE_TXQ, 0, BUF, 0x100000, 0, 0);
	vd_avail(&t.d, KR_CONSOLE_TXQ, 0);
	vd_kick(&t.d, KR_CONSOLE_TXQ);
	CHECK(vd_used(&t.d, KR_CONSOLE_TXQ, &id, &len) && len == 0);
	CHECK_EQ(con_stats(&t).tx_bytes, KR_CONSOLE_TX_CHAIN_MAX);
	CHECK_EQ(con_stats(&t).tx_truncated, 0x100000 - KR_CONSOLE_TX_CHAIN_MAX);
	CHECK(!needs_reset(&t));
	{
		static char sink[0x20000];

		CHECK_EQ(read_some(t.out[0], sink, sizeof(sink), 100), KR_CONSOLE_TX_CHAIN_MAX);
	}

	/* A receive chain with nothing writable: used with 0, the input kept for the next. */
	vd_desc(&t.d, KR_CONSOLE_RXQ, 0, BUF, 16, 0, 0);
	vd_avail(&t.d, KR_CONSOLE_RXQ, 0);
	rx_post(&t, 1, BUF + 0x100, 16);
	vd_kick(&t.d, KR_CONSOLE_RXQ);
	type(&t, "in", 2);
	CHECK(used_wait(&t, KR_CONSOLE_RXQ, &id, &len, 500));
	CHECK(id == 0 && len == 0);
	CHECK(used_wait(&t, KR_CONSOLE_RXQ, &id, &len, 500));
	CHECK(id == 1 && len == 2);
	CHECK(!memcmp(tm_ram(&t.m, BUF + 0x100, 2), "in", 2));

	/* A receive buffer outside RAM: needs a reset, the input is not lost. */
	vd_desc(&t.d, KR_CONSOLE_RXQ, 2, 0xd0000000ull, 16, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&t.d, KR_CONSOLE_RXQ, 2);
	vd_kick(&t.d, KR_CONSOLE_RXQ);
	type(&t, "safe", 4);
	for (int i = 0; i < 500 && !needs_reset(&t); i++)
		sleep_ms(1);
	CHECK(needs_reset(&t));
	ct_driver(&t, 0, 128);
	rx_post(&t, 0, BUF, 16);
	vd_kick(&t.d, KR_CONSOLE_RXQ);
	CHECK(used_wait(&t, KR_CONSOLE_RXQ, &id, &len, 500));
	CHECK_EQ(len, 4);
	CHECK(!memcmp(tm_ram(&t.m, BUF, 4), "safe", 4));

	/* Notifications of queues that do not exist, config beyond its end: ignored. */
	tm_write(&t.m.mmio, t.d.notify + 2 * t.d.notify_mult, 2, 2);
	tm_write(&t.m.mmio, t.d.notify + 7 * t.d.notify_mult, 2, 7);
	CHECK_EQ(cfg_read(&t, KR_CONSOLE_CONFIG_LEN, 4), 0);
	CHECK_EQ(cfg_read(&t, 10, 4), 0);		/* straddles the end */
	CHECK(!needs_reset(&t));
	ct_down(&t);
}

/* ---- snapshots ---------------------------------------------------------- */

/* The restoring side: t's RAM copied, a new device and chardev, its PCI side as t's. */
static void ct_clone(struct ct *t2, struct ct *t, bool tty, uint16_t cols, uint16_t rows)
{
	ct_open(t2, tty, cols, rows);
	tm_copy_ram(&t2->m, &t->m);
	if (vd_restore(&t2->d, &t2->m, &t->d, true))
		abort();
}

static int con_load(struct ct *t, const struct kr_sbuf *b, struct kr_sget *g)
{
	kr_sget_init(g, b->p, b->len, "virtio-console");
	return kr_virtio_console_load(t->vc, g);
}

/* Output queued and not notified, input read and not given: both survive, once. */
KR_TEST(console_snapshot_round_trip)
{
	struct ct t, t2;
	struct kr_sbuf b = { 0 };
	struct kr_sget g;
	uint32_t id, len;
	char out[16];

	ct_up(&t, false, 0, 8);
	tx_post(&t, 0, BUF, "one\n");
	vd_kick(&t.d, KR_CONSOLE_TXQ);
	CHECK_EQ(read(t.out[0], out, sizeof(out)), 4);
	tx_post(&t, 1, BUF + 0x100, "two\n");		/* not notified */
	type(&t, "typed", 5);
	sleep_ms(30);
	CHECK_EQ(pending(t.in[0]), 0);			/* staged: no buffer for it */
	CHECK_EQ(kr_virtio_console_save(t.vc, &b), 0);

	ct_clone(&t2, &t, false, 0, 0);
	CHECK_EQ(con_load(&t2, &b, &g), 0);
	CHECK_EQ(read(t2.out[0], out, sizeof(out)), -1);
	CHECK_EQ(t2.m.n_msi, 0);
	kr_virtio_pci_kick_all(kr_virtio_console_transport(t2.vc));
	CHECK_EQ(read_some(t2.out[0], out, sizeof(out), 100), 4);
	CHECK(!memcmp(out, "two\n", 4));
	CHECK(vd_used(&t2.d, KR_CONSOLE_TXQ, &id, &len) && id == 0);
	CHECK(vd_used(&t2.d, KR_CONSOLE_TXQ, &id, &len) && id == 1);
	CHECK(!vd_used(&t2.d, KR_CONSOLE_TXQ, &id, &len));
	rx_post(&t2, 0, BUF + 0x200, 16);
	vd_kick(&t2.d, KR_CONSOLE_RXQ);
	CHECK(used_wait(&t2, KR_CONSOLE_RXQ, &id, &len, 500));
	CHECK(id == 0 && len == 5);
	CHECK(!memcmp(tm_ram(&t2.m, BUF + 0x200, 5), "typed", 5));
	/* Its own chardev's input from then on. */
	rx_post(&t2, 1, BUF + 0x300, 16);
	vd_kick(&t2.d, KR_CONSOLE_RXQ);
	type(&t2, "more", 4);
	CHECK(used_wait(&t2, KR_CONSOLE_RXQ, &id, &len, 500));
	CHECK(id == 1 && len == 4);

	/* The original, as it was. */
	vd_kick(&t.d, KR_CONSOLE_TXQ);
	CHECK_EQ(read_some(t.out[0], out, sizeof(out), 100), 4);
	CHECK(!memcmp(out, "two\n", 4));
	rx_post(&t, 0, BUF + 0x200, 16);
	vd_kick(&t.d, KR_CONSOLE_RXQ);
	CHECK(used_wait(&t, KR_CONSOLE_RXQ, &id, &len, 500));
	CHECK(id == 0 && len == 5);
	CHECK(!memcmp(tm_ram(&t.m, BUF + 0x200, 5), "typed", 5));
	kr_sbuf_free(&b);
	ct_down(&t2);
	ct_down(&t);
}

/* The size the guest saw comes back; a terminal of another size is announced on the kick. */
KR_TEST(console_snapshot_size)
{
	struct ct t, t2;
	struct kr_sbuf b = { 0 };
	struct kr_sget g;

	ct_up(&t, true, F_SIZE, 8);
	CHECK_EQ(kr_virtio_console_save(t.vc, &b), 0);

	ct_clone(&t2, &t, true, 120, 50);
	CHECK_EQ(con_load(&t2, &b, &g), 0);
	CHECK_EQ(cfg_read(&t2, 0, 4), 40u << 16 | 100);
	kr_virtio_pci_kick_all(kr_virtio_console_transport(t2.vc));
	CHECK_EQ(cfg_read(&t2, 0, 4), 50u << 16 | 120);
	CHECK_EQ(msis(&t2, VEC_CFG), 1);
	ct_down(&t2);

	/* No terminal here: F_SIZE stays offered, with the snapshot's size. */
	ct_clone(&t2, &t, false, 0, 0);
	CHECK_EQ(con_load(&t2, &b, &g), 0);
	vd_common_write(&t2.d, KR_VIRTIO_COMMON_DFSELECT, 4, 0);
	CHECK_EQ(vd_common_read(&t2.d, KR_VIRTIO_COMMON_DF, 4) & 0xffffff, F_SIZE);
	kr_virtio_pci_kick_all(kr_virtio_console_transport(t2.vc));
	CHECK_EQ(cfg_read(&t2, 0, 4), 40u << 16 | 100);
	CHECK_EQ(msis(&t2, VEC_CFG), 0);
	ct_down(&t2);

	/* The original resumed: the same terminal, no news. */
	kr_virtio_pci_kick_all(kr_virtio_console_transport(t.vc));
	CHECK_EQ(msis(&t, VEC_CFG), 1);			/* DRIVER_OK's only */
	kr_sbuf_free(&b);
	ct_down(&t);
}

static void con_refused(struct ct *t, const struct kr_sbuf *b, const char *why)
{
	struct kr_sget g;

	CHECK_EQ(con_load(t, b, &g), -EPROTO);
	if (!strstr(g.why, why)) {
		printf("#   refused with \"%s\", want \"%s\"\n", g.why, why);
		CHECK(0);
	}
}

KR_TEST(console_snapshot_refused)
{
	struct ct t, t2;
	struct kr_sbuf b = { 0 };
	struct kr_sget g;

	ct_up(&t, false, 0, 8);
	type(&t, "xy", 2);
	sleep_ms(30);
	CHECK_EQ(kr_virtio_console_save(t.vc, &b), 0);
	ct_clone(&t2, &t, false, 0, 0);
	for (size_t n = 0; n < b.len; n++) {
		struct kr_sbuf cut = { .p = b.p, .len = n };

		con_refused(&t2, &cut, "virtio-console: truncated state");
	}
	/* After the version, F_SIZE, cols and rows: the staged bytes' count. */
	kr_put_le(b.p + 9, 2, 5000);
	con_refused(&t2, &b, "5000 bytes of input staged, at most 4096");
	kr_put_le(b.p + 9, 2, 2);
	b.p[4] = 3;
	con_refused(&t2, &b, "a flag reads 3");
	b.p[4] = 0;
	CHECK_EQ(con_load(&t2, &b, &g), 0);
	kr_sbuf_free(&b);
	ct_down(&t2);
	ct_down(&t);
}
