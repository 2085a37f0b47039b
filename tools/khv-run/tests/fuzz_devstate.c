// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target of the devices' snapshot loads (snapfield.h): a snapshot
 * file is outside input, and every device section of it reaches one of
 * the kr_<dev>_load() functions.  The first byte picks the device (modulo
 * the table below), the rest is its state, loaded into a device created
 * as its unit test creates it (tests/t_<dev>.c), on fakes: guest RAM,
 * interrupt lines and MSI recorders (vdrv.c), a disk image in /tmp for
 * virtio-blk (timage.c), a socketpair backend for virtio-net, pipes for
 * the UART and the virtio console, fake clocks for the RTC and the PM
 * timer, the I/O loop run on this thread a round at a time.
 *
 * Checked beyond the sanitizers: a refusal is -EPROTO with a reason; a
 * state that was taken is used a little, as a guest and the host would
 * (reads and writes through the device's bus handler, virtio queues kicked
 * with kr_virtio_pci_kick_all(), input from the backends, the device's
 * API, then a random guest seeded with the input), then saved: the save
 * must succeed, and a fresh device must take what it saved.  So a load
 * that accepts inconsistent state shows as a crash, an ASan/UBSan report,
 * or a state that does not load again.
 *
 * The virtio devices' guest RAM is not part of their state: it is what the
 * machine whose state was saved left in it, here the RAM of the seed's
 * machine (built once per process, the way KR_GEN builds the seeds: a
 * driver that set the device up, had requests served and left others
 * available but not notified), so that the kick after the load finds real
 * rings and chains whatever the state says.  Before the load the PCI side
 * is set as pci.c's load would have left it (BAR 0, memory decoding and
 * bus mastering on, MSI-X on): virtio state comes after the bus's.
 *
 * Threads: only virtio-blk has any, its queues' workers; each device is
 * destroyed (its workers joined) within the iteration.  Kept per process:
 * the disk image (opened once, unlinked at once), the guest RAM, and the
 * two display adapters (display_reuse()).
 *
 * Built with clang -fsanitize=fuzzer; with -DKR_FUZZ_REPLAY instead, a main()
 * runs each file named on the command line once.  With -DKR_GEN (and
 * without KR_FUZZ_REPLAY; the Makefile never builds it) a main() writes the
 * seed corpus into the directory named on the command line: the state of
 * each device driven into a busy state, and a few truncated and mutated
 * ones.  To make it, take the command that builds the replay binary
 * (make -n -B BUILD=DIR DIR/replay/fuzz_devstate), with -DKR_GEN in place of
 * -DKR_FUZZ_REPLAY and -o /tmp/kr-gen, then run /tmp/kr-gen tests/corpus/devstate.
 * The corpus's *-limit files are not generated: they are crashes the target
 * found (each has its unit test in the device's tests/t_<dev>.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../display.h"
#include "../fw_cfg.h"
#include "../i8042.h"
#include "../machine.h"
#include "../msix.h"
#include "../pci.h"
#include "../pm.h"
#include "../post.h"
#include "../rtc.h"
#include "../serial.h"
#include "../virtio_blk.h"
#include "../virtio_console.h"
#include "../virtio_input.h"
#include "../virtio_net.h"
#include "../virtio_rng.h"
/* The fuzz build links only the VMM's own sources: the test fakes come along here. */
#include "timage.c"
#include "vdrv.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define SEC		1000000000ll
#define W0		(1700000000ll * SEC)	/* the fake wall clock */

/* Guest RAM layout of the virtio devices (2 MiB below 4 GiB, vdrv.h). */
#define BARADDR		0xc8000000ull
#define RING(q)		(0x10000ull + (q) * 0x4000ull)
#define BUF		0x80000ull		/* small buffers, 0x100 apart */
#define DATA		0x100000ull		/* 4 KiB data buffers */
#define VSLOT		3

/* The display's and the PCI test devices' addresses (t_display.c, t_pci.c). */
#define FB_ADDR		0xc1000000ull
#define MMIO_ADDR	0xc2000000ull
#define DSLOT		5

/* One device instance of any kind; only the fields of its kind are used. */
struct inst {
	struct tmach m;
	struct vdrv d;
	/* fake lines and callbacks */
	int level, sets, resets, poweroffs, maps;
	unsigned int hooks;
	/* fake clocks (RTC, PM timer) */
	int64_t mono, wall;
	/* legacy */
	struct kr_serial *serial;
	struct kr_rtc *rtc;
	struct kr_i8042 *i8042;
	struct kr_pm *pm;
	struct kr_post *post;
	struct kr_fw_cfg *fw;
	/* PCI */
	struct kr_pci_dev *fdev[3];
	struct kr_msix *msix;
	struct kr_display *disp;
	/* virtio */
	struct kr_virtio_pci *vp;	/* the transport of whichever it is */
	struct kr_virtio_pci *tvp;	/* the test device's */
	struct kr_virtio_rng *rng;
	struct kr_virtio_blk *blk;
	struct kr_virtio_net *net;
	struct kr_virtio_console *con;
	struct kr_virtio_input *input;
	struct kr_loop *loop;
	int stopfd;
	int sv[2];			/* net: device end, peer end */
	int in[2], out[2];		/* UART, console: to the device, from it */
	struct kr_net_backend be;
	struct kr_chardev *chr;
	struct iovec iov[8];		/* the test device's pops */
	uint64_t rnd;			/* the random guest's state, from the input */
};

struct fz_dev {
	const char *name;
	void (*up)(struct inst *i);		/* a device just created */
	void (*restore_pci)(struct inst *i);	/* what pci.c's load would leave */
	void (*drive)(struct inst *i);		/* KR_GEN: a busy state */
	int (*load)(struct inst *i, struct kr_sget *g);
	int (*save)(struct inst *i, struct kr_sbuf *b);
	void (*poke)(struct inst *i);		/* use it after a load */
	void (*after_save)(struct inst *i);	/* then a little more (a reset) */
	void (*down)(struct inst *i);
	bool ram;				/* its RAM is the seed machine's */
	void (*reuse)(struct inst *i);		/* kept across iterations: made fresh */
};

/* ---- fakes ----------------------------------------------------------------- */

static void line_set(void *opaque, unsigned int gsi, int level)
{
	struct inst *i = opaque;

	(void)gsi;
	i->level = level;
	i->sets++;
}

static void on_reset(void *opaque)
{
	((struct inst *)opaque)->resets++;
}

static void on_poweroff(void *opaque)
{
	((struct inst *)opaque)->poweroffs++;
}

static int64_t fake_mono(void *opaque)
{
	return ((struct inst *)opaque)->mono;
}

static int64_t fake_wall(void *opaque)
{
	return ((struct inst *)opaque)->wall;
}

static int no_sync(int fd)
{
	(void)fd;
	return 0;
}

static ssize_t fake_random(void *buf, size_t len)
{
	memset(buf, 0x5a, len);
	return (ssize_t)len;
}

static void route_hook(void *opaque, unsigned int vector)
{
	(void)vector;
	((struct inst *)opaque)->hooks++;
}

static int fake_map(void *opaque, bool map, uint64_t gpa, uint64_t size, void *hva)
{
	struct inst *i = opaque;

	(void)gpa;
	(void)hva;
	if (size != KR_DISPLAY_VRAM)
		abort();
	i->maps += map ? 1 : -1;
	if (i->maps < 0 || i->maps > 1)
		abort();		/* unmapped what was not mapped, or mapped twice */
	return 0;
}

static uint8_t in8(struct kr_bus *bus, uint16_t port)
{
	return tm_read(bus, port, 1);
}

static void out8(struct kr_bus *bus, uint16_t port, uint8_t v)
{
	tm_write(bus, port, 1, v);
}

/*
 * The random guest: after the fixed uses of a loaded device, accesses of
 * its registers with sizes and values from a generator seeded with the
 * input (the same input, the same accesses), as the unit tests' *_random
 * tests make them.  Whatever state they leave, the save must load again.
 */
static uint32_t rnd(struct inst *i)
{
	i->rnd ^= i->rnd << 13;
	i->rnd ^= i->rnd >> 7;
	i->rnd ^= i->rnd << 17;
	return i->rnd >> 16;
}

/* A value to write: small ones half the time, they are the ones that mean something. */
static uint64_t rnd_val(struct inst *i)
{
	return rnd(i) & 1 ? rnd(i) % 4 : (uint64_t)rnd(i) << 32 | rnd(i);
}

/* n accesses in [base, base + len) of bus, sizes among those in the mask (1, 2, 4, 8). */
static void rnd_io(struct inst *i, struct kr_bus *bus, uint64_t base, uint64_t len,
		   unsigned int sizes, int n)
{
	while (n-- > 0) {
		unsigned int size;
		uint8_t d[8];

		do
			size = 1u << rnd(i) % 4;
		while (!(sizes & size));
		kr_put_le(d, 8, rnd_val(i));
		kr_bus_access(bus, base + rnd(i) % len, d, size, rnd(i) & 1);
	}
}

/*
 * A machine: buses only for the legacy devices; RAM and PCI for the others,
 * as tm_init() makes them but on the process's one RAM (one machine that
 * uses it is up at a time; the kept displays use none): fresh RAM each
 * time would cost its page faults every time.
 */
static uint8_t *ram_low, *ram_high;

static void mach_up(struct inst *i, bool full)
{
	struct tmach *m = &i->m;
	struct kr_pci_params p = {
		.intx = { .set = tm_irq_set, .opaque = m },
		.msi = { .send = tm_msi_send, .opaque = m },
		.reset = tm_reset,
		.reset_opaque = m,
	};

	kr_bus_init(&m->pio, "pio");
	kr_bus_init(&m->mmio, "mmio");
	if (!full)
		return;
	if (!ram_low) {
		ram_low = aligned_alloc(4096, TM_LOW_SIZE);
		ram_high = aligned_alloc(4096, TM_HIGH_SIZE);
		if (!ram_low || !ram_high)
			abort();
	}
	memset(ram_low, 0, TM_LOW_SIZE);
	memset(ram_high, 0, TM_HIGH_SIZE);
	m->mem = (struct kr_mem){ ram_low, TM_LOW_SIZE, ram_high, TM_HIGH_SIZE };
	m->pci = kr_pci_create(&p);
	if (!m->pci || kr_pci_attach(m->pci, &m->pio, &m->mmio))
		abort();
}

static void mach_down(struct inst *i)
{
	kr_pci_destroy(i->m.pci);
	kr_bus_free(&i->m.pio);
	kr_bus_free(&i->m.mmio);
}

/*
 * The I/O loop of the devices that have one (serial, RTC, net, console),
 * run on this thread a round at a time: every fd ready now, then back.
 */
static void on_stop(void *opaque, int fd, uint32_t events)
{
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* nothing to read: a round anyway */
	}
	kr_loop_stop(opaque);
}

static void loop_up(struct inst *i)
{
	i->loop = kr_loop_new();
	i->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!i->loop || i->stopfd < 0 || kr_loop_add(i->loop, i->stopfd, EPOLLIN, on_stop, i->loop))
		abort();
}

static void loop_down(struct inst *i)
{
	kr_loop_del(i->loop, i->stopfd);
	close(i->stopfd);
	kr_loop_free(i->loop);
}

/* Input on the pipe a device reads (serial, console), and its output drained. */
static void pipe_input(struct inst *i, const char *str)
{
	if (write(i->in[1], str, strlen(str)) < 0) {
		/* the pipe is full: the device does not read */
	}
}

static void pipe_drain(struct inst *i)
{
	char buf[512];

	while (read(i->out[0], buf, sizeof(buf)) > 0)
		;
}

static void pipes_close(struct inst *i)
{
	for (int n = 0; n < 2; n++) {
		close(i->in[n]);
		close(i->out[n]);
	}
}

static void settle(struct inst *i)
{
	uint64_t one = 1;

	for (int n = 0; n < 4; n++) {
		if (write(i->stopfd, &one, sizeof(one)) != sizeof(one))
			abort();
		kr_loop_run(i->loop);
	}
}

/* ---- serial ---------------------------------------------------------------- */

#define COM	KR_PORT_COM1

static void serial_up(struct inst *i)
{
	struct kr_irq irq = { line_set, i, KR_GSI_COM1 };

	mach_up(i, false);
	loop_up(i);
	if (pipe2(i->in, O_NONBLOCK | O_CLOEXEC) || pipe2(i->out, O_NONBLOCK | O_CLOEXEC))
		abort();
	i->serial = kr_serial_create(COM, &irq, i->loop, i->in[0], i->out[1]);
	if (!i->serial || kr_serial_attach(i->serial, &i->m.pio))
		abort();
}

/* t_serial.c's uart_busy(): FIFO with an overrun, divisor, deltas, the line up. */
static void serial_drive(struct inst *i)
{
	struct kr_bus *b = &i->m.pio;

	out8(b, COM + 3, 0x80);
	out8(b, COM, 0x34);
	out8(b, COM + 1, 0x12);
	out8(b, COM + 3, 0x1b);
	out8(b, COM + 7, 0xa7);
	out8(b, COM + 2, 0x81);
	out8(b, COM + 4, 0x10);
	for (int n = 0; n < 17; n++)
		out8(b, COM, 0x40 + n);
	for (int n = 0; n < 3; n++)
		in8(b, COM);
	out8(b, COM + 4, 0x0b);
	out8(b, COM + 1, 0x0f);
}

static int serial_load(struct inst *i, struct kr_sget *g)
{
	return kr_serial_load(i->serial, g);
}

static int serial_save(struct inst *i, struct kr_sbuf *b)
{
	return kr_serial_save(i->serial, b);
}

/* Input into the loaded FIFO as far as it has room, read back; output; loopback. */
static void serial_poke(struct inst *i)
{
	struct kr_bus *b = &i->m.pio;
	uint8_t lcr;

	pipe_input(i, "0123456789abcdefghij");
	settle(i);
	for (int r = 0; r < 8; r++)
		in8(b, COM + r);
	for (int n = 0; n < 18 && (in8(b, COM + 5) & 1); n++)
		in8(b, COM);
	in8(b, COM + 2);
	out8(b, COM, 'x');
	lcr = in8(b, COM + 3);
	out8(b, COM + 3, lcr | 0x80);
	in8(b, COM);
	in8(b, COM + 1);
	out8(b, COM + 3, lcr);
	out8(b, COM + 4, in8(b, COM + 4) | 0x10);	/* loopback: the byte comes back */
	out8(b, COM, 'y');
	in8(b, COM + 2);
	in8(b, COM + 6);
	in8(b, COM + 5);
	for (int n = 0; n < 4; n++) {
		rnd_io(i, b, COM, 8, 1, 16);
		pipe_input(i, "xyz");
		settle(i);
	}
	pipe_drain(i);
}

static void serial_down(struct inst *i)
{
	kr_serial_destroy(i->serial);
	pipes_close(i);
	loop_down(i);
	mach_down(i);
}

/* ---- rtc ------------------------------------------------------------------- */

static void rtc_up(struct inst *i)
{
	struct kr_rtc_params p = {
		.irq = { line_set, i, KR_GSI_RTC },
		.has_start = true,
		.start = 1704067200,		/* 2024-01-01 */
		.now_ns = fake_mono,
		.wall_ns = fake_wall,
		.now_opaque = i,
	};

	mach_up(i, false);
	loop_up(i);
	p.loop = i->loop;
	i->mono = 1000 * SEC;
	i->wall = W0;
	i->rtc = kr_rtc_create(&p);
	if (!i->rtc || kr_rtc_attach(i->rtc, &i->m.pio))
		abort();
}

static uint8_t cmos_read(struct inst *i, uint8_t idx)
{
	out8(&i->m.pio, KR_PORT_RTC, idx | 0x80);
	return in8(&i->m.pio, KR_PORT_RTC + 1);
}

static void cmos_write(struct inst *i, uint8_t idx, uint8_t v)
{
	out8(&i->m.pio, KR_PORT_RTC, idx);
	out8(&i->m.pio, KR_PORT_RTC + 1, v);
}

/* t_rtc.c's rtc_busy(): the time set, an alarm, 2 Hz periodic, flags pending. */
static void rtc_drive(struct inst *i)
{
	static const uint8_t set[][2] = {
		{ 0x0b, 0x82 }, { 0x0a, 0x76 }, { 0x09, 0x24 }, { 0x08, 0x06 }, { 0x07, 0x15 },
		{ 0x04, 0x12 }, { 0x02, 0x34 }, { 0x00, 0x50 }, { 0x32, 0x20 }, { 0x0b, 0x02 },
		{ 0x0a, 0x26 }, { 0x0a, 0x2f }, { 0x01, 0x05 }, { 0x03, 0x35 }, { 0x05, 0x12 },
		{ 0x40, 0x99 }, { 0x0b, 0x62 },
	};

	for (size_t n = 0; n < NELEM(set); n++)
		cmos_write(i, set[n][0], set[n][1]);
	i->mono += 800000000;
	cmos_read(i, 0x0a);
	out8(&i->m.pio, KR_PORT_RTC, 0x8c);
	i->mono += 100000000;
}

static int rtc_load(struct inst *i, struct kr_sget *g)
{
	return kr_rtc_load(i->rtc, g);
}

static int rtc_save(struct inst *i, struct kr_sbuf *b)
{
	return kr_rtc_save(i->rtc, b);
}

/*
 * The timer the load armed, the registers, time going on, the time set
 * (for half of the inputs: it starts the count again), random accesses;
 * then time passes with nobody looking, as before a save.  With no
 * interrupt enabled nothing accounts on its own.
 */
static void rtc_poke(struct inst *i)
{
	uint8_t idx;

	if (rnd(i) % 4 == 0) {
		/* A quarter of the inputs: nobody looks at all, for a while. */
		i->mono += (int64_t)rnd(i) * 1000;
		i->wall += 3600 * SEC;
		return;
	}
	idx = in8(&i->m.pio, KR_PORT_RTC);
	settle(i);
	in8(&i->m.pio, KR_PORT_RTC + 1);
	for (int r = 0; r < 0x0e; r++)
		cmos_read(i, r);
	i->mono += 1500000000;		/* an update, a tick or two */
	cmos_read(i, 0x0a);
	cmos_read(i, 0x0c);
	cmos_read(i, 0x32);
	cmos_read(i, 0x00);
	if (rnd(i) & 1) {
		/* The divider through reset and back, the time set the way Linux sets it. */
		cmos_write(i, 0x0a, cmos_read(i, 0x0a) | 0x70);
		cmos_write(i, 0x0a, cmos_read(i, 0x0a) & ~0x70);
		cmos_write(i, 0x0b, cmos_read(i, 0x0b) | 0x80);
		cmos_write(i, 0x00, 0x59);
		cmos_write(i, 0x0b, cmos_read(i, 0x0b) & ~0x80);
		cmos_write(i, 0x02, 0x30);	/* a time register of a running clock */
	}
	out8(&i->m.pio, KR_PORT_RTC, idx);
	for (int n = rnd(i) % 32; n > 0; n--) {
		if (rnd(i) % 4)
			rnd_io(i, &i->m.pio, KR_PORT_RTC, 2, 1, 1);
		else
			cmos_write(i, rnd(i) % 2 ? 0x0a + rnd(i) % 3 : rnd(i) % 10, rnd(i));
		i->mono += rnd(i) % 3 ? rnd(i) % 300000000 : (int64_t)rnd(i) * 100;
	}
	settle(i);
	i->mono += (int64_t)rnd(i) * 100;
	i->wall += 3600 * SEC;		/* restored an hour later */
}

static void rtc_down(struct inst *i)
{
	kr_rtc_destroy(i->rtc);
	loop_down(i);
	mach_down(i);
}

/* ---- i8042 ----------------------------------------------------------------- */

#define KBD_DATA	KR_PORT_I8042_DATA
#define KBD_CMD		KR_PORT_I8042_CMD

static void i8042_up(struct inst *i)
{
	struct kr_irq irq = { line_set, i, KR_GSI_I8042 };

	mach_up(i, false);
	i->i8042 = kr_i8042_create(&irq, on_reset, i);
	if (!i->i8042 || kr_i8042_attach(i->i8042, &i->m.pio))
		abort();
}

/* Linux's probe, the keyboard set up, keys waiting, a command waiting for its data. */
static void i8042_drive(struct inst *i)
{
	struct kr_bus *b = &i->m.pio;

	out8(b, KBD_CMD, 0x20);
	in8(b, KBD_DATA);
	out8(b, KBD_CMD, 0x60);
	out8(b, KBD_DATA, 0x45);		/* KBDINT, SYS, XLATE */
	out8(b, KBD_DATA, 0xff);		/* keyboard reset: ACK, BAT */
	in8(b, KBD_DATA);
	in8(b, KBD_DATA);
	out8(b, KBD_DATA, 0xed);		/* LEDs, waiting for the argument */
	in8(b, KBD_DATA);
	out8(b, KBD_DATA, 0x04);
	in8(b, KBD_DATA);
	out8(b, KBD_DATA, 0xf4);		/* scanning */
	in8(b, KBD_DATA);
	kr_i8042_key(i->i8042, KEY_A, true);
	kr_i8042_key(i->i8042, KEY_A, false);
	kr_i8042_key(i->i8042, KEY_RIGHTCTRL, true);
	in8(b, KBD_DATA);
	in8(b, KBD_DATA);
	out8(b, KBD_CMD, 0xd1);			/* write output port: waits for data */
}

static int i8042_load(struct inst *i, struct kr_sget *g)
{
	return kr_i8042_load(i->i8042, g);
}

static int i8042_save(struct inst *i, struct kr_sbuf *b)
{
	return kr_i8042_save(i->i8042, b);
}

static void i8042_poke(struct inst *i)
{
	struct kr_bus *b = &i->m.pio;

	for (int n = 0; n < 12 && (in8(b, KBD_CMD) & 1); n++)
		in8(b, KBD_DATA);
	kr_i8042_key(i->i8042, KEY_PAUSE, true);
	kr_i8042_key(i->i8042, KEY_SYSRQ, true);
	kr_i8042_key(i->i8042, KEY_SYSRQ, false);
	in8(b, KBD_DATA);
	out8(b, KBD_DATA, 0xf2);		/* identify (or the pending command's data) */
	in8(b, KBD_DATA);
	out8(b, KBD_CMD, 0x20);
	in8(b, KBD_DATA);
	out8(b, KBD_DATA, 0xfe);		/* resend */
	in8(b, KBD_CMD);
	in8(b, KBD_DATA);
	kr_i8042_leds(i->i8042);
	for (int n = 0; n < 48; n++) {
		if (rnd(i) % 8 == 0)
			kr_i8042_key(i->i8042, rnd(i) % 256, rnd(i) & 1);
		else if (rnd(i) % 4 == 0)	/* commands that are not the CPU's reset */
			out8(b, KBD_CMD, rnd(i) % 0xf0);
		else
			rnd_io(i, b, KBD_DATA, 1, 1, 1);
		if (rnd(i) % 4 == 0)
			in8(b, KBD_CMD);
	}
}

static void i8042_down(struct inst *i)
{
	kr_i8042_destroy(i->i8042);
	mach_down(i);
}

/* ---- pm -------------------------------------------------------------------- */

static void pm_up(struct inst *i)
{
	struct kr_pm_params p = {
		.sci = { line_set, i, KR_GSI_SCI },
		.poweroff = on_poweroff,
		.opaque = i,
		.now_ns = fake_mono,
		.now_opaque = i,
	};

	mach_up(i, false);
	i->mono = 5 * SEC;
	i->pm = kr_pm_create(&p);
	if (!i->pm || kr_pm_attach(i->pm, &i->m.pio))
		abort();
}

static void pm_drive(struct inst *i)
{
	tm_write(&i->m.pio, KR_PORT_PM1A_EVT + 2, 2, 0x0121);	/* TMR, PWRBTN, RTC enables */
	tm_write(&i->m.pio, KR_PORT_PM1A_CNT, 2, 0x0001);
	i->mono += 7 * SEC;
	tm_read(&i->m.pio, KR_PORT_PM_TMR, 4);
	kr_pm_power_button(i->pm);
	i->mono += 3 * SEC;
}

static int pm_load(struct inst *i, struct kr_sget *g)
{
	return kr_pm_load(i->pm, g);
}

static int pm_save(struct inst *i, struct kr_sbuf *b)
{
	return kr_pm_save(i->pm, b);
}

static void pm_poke(struct inst *i)
{
	struct kr_bus *b = &i->m.pio;

	for (int r = 0; r < KR_PORT_PM_LEN; r += 2)
		tm_read(b, KR_PORT_PM_BASE + r, 2);
	i->mono += 5 * SEC;
	tm_read(b, KR_PORT_PM_TMR, 4);
	tm_write(b, KR_PORT_PM1A_EVT, 2, tm_read(b, KR_PORT_PM1A_EVT, 2));	/* clear */
	kr_pm_power_button(i->pm);
	tm_write(b, KR_PORT_PM1A_CNT, 2, 0x2c01);	/* sleep S3 (ignored) */
	tm_read(b, KR_PORT_PM1A_EVT, 4);
	kr_pm_ignored_sleeps(i->pm);
	for (int n = 0; n < 32; n++) {
		rnd_io(i, b, KR_PORT_PM_BASE, KR_PORT_PM_LEN, 1 | 2 | 4, 1);
		i->mono += rnd(i) % 2 ? rnd(i) % 1000000 : (int64_t)rnd(i) * 1000;
		if (rnd(i) % 8 == 0)
			kr_pm_power_button(i->pm);
	}
}

static void pm_down(struct inst *i)
{
	kr_pm_destroy(i->pm);
	mach_down(i);
}

/* ---- post ------------------------------------------------------------------ */

static void post_up(struct inst *i)
{
	mach_up(i, false);
	i->post = kr_post_create(NULL, NULL);
	if (!i->post || kr_post_attach(i->post, &i->m.pio))
		abort();
}

static void post_drive(struct inst *i)
{
	out8(&i->m.pio, KR_PORT_POST, 0x42);
}

static int post_load(struct inst *i, struct kr_sget *g)
{
	return kr_post_load(i->post, g);
}

static int post_save(struct inst *i, struct kr_sbuf *b)
{
	return kr_post_save(i->post, b);
}

static void post_poke(struct inst *i)
{
	uint8_t v = in8(&i->m.pio, KR_PORT_POST);

	out8(&i->m.pio, KR_PORT_POST, v + 1);
	kr_post_last(i->post);
	rnd_io(i, &i->m.pio, KR_PORT_POST, 1, 1 | 2 | 4, 4);
}

static void post_down(struct inst *i)
{
	kr_post_destroy(i->post);
	mach_down(i);
}

/* ---- fw_cfg ---------------------------------------------------------------- */

#define FW_ACC		0x1000ull	/* FWCfgDmaAccess, low or high RAM */
#define FW_BUF		0x2000ull	/* and the DMA target */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void out_be32(struct kr_bus *b, uint16_t port, uint32_t v)
{
	uint8_t d[4];

	put_be32(d, v);
	kr_bus_access(b, port, d, 4, true);
}

/* t_fw_cfg.c's machine: 2 vCPUs and a 100-byte file "opt/test". */
static void fw_cfg_up(struct inst *i)
{
	struct kr_fw_cfg_config cfg = { .nb_cpus = 2 };
	uint8_t file[100];

	mach_up(i, true);
	cfg.mem = &i->m.mem;
	for (size_t n = 0; n < sizeof(file); n++)
		file[n] = 0x10 + n;
	if (kr_fw_cfg_create(&cfg, &i->fw) || kr_fw_cfg_attach(i->fw, &i->m.pio) ||
	    kr_fw_cfg_add_file(i->fw, "opt/test", file, sizeof(file)))
		abort();
}

/* "opt/test" selected and 37 bytes read; the DMA address's high half 1 (high RAM). */
static void fw_cfg_drive(struct inst *i)
{
	tm_write(&i->m.pio, KR_PORT_FW_CFG, 2, KR_FW_CFG_FILE_FIRST + 3);
	for (int n = 0; n < 37; n++)
		in8(&i->m.pio, KR_PORT_FW_CFG + 1);
	out_be32(&i->m.pio, KR_PORT_FW_CFG_DMA, 1);
}

static int fw_cfg_load(struct inst *i, struct kr_sget *g)
{
	return kr_fw_cfg_load(i->fw, g);
}

static int fw_cfg_save(struct inst *i, struct kr_sbuf *b)
{
	return kr_fw_cfg_save(i->fw, b);
}

/* Reads from where the state left off, by the data port and by DMA. */
static void fw_cfg_poke(struct inst *i)
{
	uint8_t *acc[2] = { i->m.mem.low + FW_ACC, i->m.mem.high + FW_ACC };

	for (int n = 0; n < 8; n++)
		in8(&i->m.pio, KR_PORT_FW_CFG + 1);
	for (int n = 0; n < 2; n++) {
		put_be32(acc[n], KR_FW_CFG_DMA_READ);
		put_be32(acc[n] + 4, 48);
		put_be32(acc[n] + 8, 0);
		put_be32(acc[n] + 12, FW_BUF);
	}
	/* With the loaded high half: wherever it points, checked. */
	out_be32(&i->m.pio, KR_PORT_FW_CFG_DMA + 4, FW_ACC);
	in8(&i->m.pio, KR_PORT_FW_CFG + 1);
	tm_read(&i->m.pio, KR_PORT_FW_CFG_DMA, 4);
	for (int n = 0; n < 16; n++) {
		uint32_t control = rnd(i) % 2 ? KR_FW_CFG_DMA_READ : KR_FW_CFG_DMA_SKIP;

		if (rnd(i) % 4 == 0)
			control |= KR_FW_CFG_DMA_SELECT | (rnd(i) % 0x30) << 16;
		put_be32(acc[0], control);
		put_be32(acc[0] + 4, rnd(i) % 200);
		if (rnd(i) % 4 == 0)
			out_be32(&i->m.pio, KR_PORT_FW_CFG_DMA, rnd(i) % 4 ? 0 : rnd(i));
		out_be32(&i->m.pio, KR_PORT_FW_CFG_DMA + 4, FW_ACC);
		rnd_io(i, &i->m.pio, KR_PORT_FW_CFG, KR_FW_CFG_PORT_LEN, 1 | 2, 2);
	}
}

static void fw_cfg_down(struct inst *i)
{
	kr_fw_cfg_destroy(i->fw);
	mach_down(i);
}

/* ---- pci ------------------------------------------------------------------- */

/* t_pci.c's test device: 4 MSI-X vectors in BAR 0, an I/O BAR, a 64-bit BAR. */
static void f_bar_io(void *opaque, unsigned int bar, uint64_t off, uint8_t *data,
		     unsigned int size, bool write)
{
	(void)opaque;
	(void)off;
	if (!write)
		kr_put_le(data, size, 0xa0 + bar);
}

static void f_cfg_io(void *opaque, unsigned int reg, uint8_t *data, unsigned int size,
		     bool write)
{
	(void)opaque;
	(void)reg;
	if (!write)
		kr_put_le(data, size, 0x5a5a5a5a);
}

static void f_moved(void *opaque, unsigned int bar)
{
	struct inst *i = opaque;

	(void)bar;
	i->hooks++;
}

static const struct kr_pci_dev_ops f_ops = {
	.bar_io = f_bar_io,
	.cfg_io = f_cfg_io,
	.bar_moved = f_moved,
	.reset = on_reset,
};

static const unsigned int f_slot[3] = { 1, 2, 5 };

static void pci_up(struct inst *i)
{
	struct kr_pci_dev_config c = {
		.name = "fdev",
		.vendor_id = 0x1234, .device_id = 0x5678,
		.subsys_vendor_id = 0xabcd, .subsys_id = 0xef01,
		.revision = 3,
		.class_code = 0x020000,
		.intx = true,
		.msix_vectors = 4, .msix_bar = 0, .msix_table = 0x800, .msix_pba = 0xc00,
		.ops = &f_ops,
		.opaque = i,
	};

	c.bar[0] = (struct kr_pci_bar_info){ KR_PCI_BAR_MEM32, 0x1000 };
	c.bar[1] = (struct kr_pci_bar_info){ KR_PCI_BAR_IO, 0x20 };
	c.bar[2] = (struct kr_pci_bar_info){ KR_PCI_BAR_MEM64, 0x10000, true };
	c.bar[4] = (struct kr_pci_bar_info){ KR_PCI_BAR_MEM32, 0x10 };
	mach_up(i, true);
	for (unsigned int n = 0; n < 3; n++) {
		if (kr_pci_add(i->m.pci, f_slot[n], &c, &i->fdev[n]))
			abort();
		kr_msix_set_route_hook(kr_pci_msix(i->fdev[n]), route_hook, i);
	}
}

static void f_entry(struct inst *i, unsigned int n, unsigned int v, uint32_t addr,
		    uint32_t data, uint32_t ctrl)
{
	uint8_t d[4];

	kr_put_le(d, 4, addr);
	kr_pci_bar_access(i->fdev[n], 0, 0x800 + v * 16, d, 4, true);
	kr_put_le(d, 4, data);
	kr_pci_bar_access(i->fdev[n], 0, 0x800 + v * 16 + 8, d, 4, true);
	kr_put_le(d, 4, ctrl);
	kr_pci_bar_access(i->fdev[n], 0, 0x800 + v * 16 + 12, d, 4, true);
}

/* t_pci.c's snap_drive(): BARs moved, decoding on, INTx, MSI-X sent and pending. */
static void pci_drive(struct inst *i)
{
	struct tmach *m = &i->m;

	tm_cfg_write(m, 1, 0x10, 4, 0xd0000000u);
	tm_cfg_write(m, 1, 0x14, 4, 0xd000u);
	tm_cfg_write(m, 1, 0x18, 4, 0xd1000000u);
	tm_cfg_write(m, 1, 0x1c, 4, 0);
	tm_cfg_write(m, 1, KR_PCI_COMMAND, 2,
		     KR_PCI_CMD_MEMORY | KR_PCI_CMD_IO | KR_PCI_CMD_MASTER);
	tm_cfg_write(m, 1, KR_PCI_INT_LINE, 1, 11);
	tm_cfg_write(m, 1, 0x0c, 1, 0x10);
	tm_cfg_write(m, 1, KR_PCI_CAP_START + 2, 2, KR_MSIX_CTL_ENABLE);
	f_entry(i, 0, 0, 0xfee01000, 0x41, 0);
	f_entry(i, 0, 1, 0xfee02000, 0x42, 1);
	f_entry(i, 0, 3, 0xfee03000, 0x43, 0);
	kr_pci_msix_notify(i->fdev[0], 0);
	kr_pci_msix_notify(i->fdev[0], 1);
	kr_pci_set_irq(i->fdev[0], 1);
	tm_cfg_write(m, 2, KR_PCI_CAP_START + 2, 2, KR_MSIX_CTL_ENABLE | KR_MSIX_CTL_FMASK);
	f_entry(i, 1, 3, 0xfee04000, 0x44, 0);
	kr_pci_msix_notify(i->fdev[1], 3);
	tm_cfg_write(m, 5, 0x10, 4, 0xd0100000u);
	tm_cfg_write(m, 5, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY | KR_PCI_CMD_INTX_OFF);
	kr_pci_set_irq(i->fdev[2], 1);
	tm_write(&m->pio, KR_PORT_RESET, 1, 0x02);
	tm_write(&m->pio, KR_PORT_PCI_CONFIG, 4, 0x80002810);
}

static int pci_load(struct inst *i, struct kr_sget *g)
{
	return kr_pci_load(i->m.pci, g);
}

static int pci_save(struct inst *i, struct kr_sbuf *b)
{
	return kr_pci_save(i->m.pci, b);
}

/* Every config byte, the latched CONFIG_ADDRESS, every BAR where it decodes, MSI-X, INTx. */
static void pci_poke(struct inst *i)
{
	struct tmach *m = &i->m;

	for (unsigned int s = 0; s < KR_PCI_SLOTS; s++)
		for (unsigned int r = 0; r < KR_PCI_CFG_SIZE; r += 4)
			tm_cfg_read(m, s, r, 4);
	tm_read(&m->pio, 0xcfc, 4);
	tm_read(&m->pio, 0xcfe, 2);
	tm_read(&m->pio, KR_PORT_PCI_CONFIG, 4);
	tm_read(&m->pio, KR_PORT_RESET, 1);
	for (unsigned int n = 0; n < 3; n++) {
		struct kr_pci_dev *dev = i->fdev[n];

		for (unsigned int bar = 0; bar < KR_PCI_BARS; bar++) {
			uint64_t gpa;

			if (!kr_pci_bar_addr(dev, bar, &gpa))
				continue;
			if (bar == 1) {
				tm_read(&m->pio, gpa + 3, 1);
				continue;
			}
			tm_read(&m->mmio, gpa + 4, 4);
			if (bar == 0) {
				tm_read(&m->mmio, gpa + 0x800 + 16 * 1, 8);
				tm_read(&m->mmio, gpa + 0xc00, 8);
				tm_write(&m->mmio, gpa + 0x800 + 16 * 1 + 12, 4, 0);	/* unmask 1 */
			}
		}
		for (unsigned int v = 0; v <= 4; v++)
			kr_pci_msix_notify(dev, v);
		kr_pci_set_irq(dev, 0);
		kr_pci_set_irq(dev, 1);
		kr_pci_bus_master(dev);
	}
	/* The guest takes INTx disable off slot 5, and moves slot 1's BAR 0. */
	tm_cfg_write(m, 5, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY);
	tm_cfg_write(m, 1, 0x10, 4, 0xd0200000u);
	tm_cfg_write(m, 2, KR_PCI_CAP_START + 2, 2, KR_MSIX_CTL_ENABLE);
	/* Config writes to the devices, accesses where their BARs are now, vectors. */
	for (int n = 0; n < 32; n++) {
		unsigned int f = rnd(i) % 3, size = 1u << rnd(i) % 3;
		uint64_t gpa;

		tm_cfg_write(m, f_slot[f], (rnd(i) % (KR_PCI_CFG_SIZE / size)) * size, size,
			     rnd_val(i));
		if (kr_pci_bar_addr(i->fdev[f], 0, &gpa))
			rnd_io(i, &m->mmio, gpa, 0x1000, 1 | 2 | 4 | 8, 2);
		kr_pci_msix_notify(i->fdev[f], rnd(i) % 5);
		kr_pci_set_irq(i->fdev[f], rnd(i) & 1);
		if (rnd(i) % 8 == 0)
			rnd_io(i, &m->pio, KR_PORT_PCI_CONFIG, 8, 1 | 2 | 4, 1);
	}
}

static void pci_down(struct inst *i)
{
	mach_down(i);
}

/* ---- msix ------------------------------------------------------------------ */

#define MSIX_NVEC	70	/* t_msix.c's: two PBA words, the second partly used */

static void msix_up(struct inst *i)
{
	mach_up(i, true);
	i->msix = kr_msix_create(MSIX_NVEC, &(struct kr_msi){ tm_msi_send, &i->m });
	if (!i->msix)
		abort();
	kr_msix_set_route_hook(i->msix, route_hook, i);
}

static void msix_entry(struct kr_msix *m, unsigned int v, uint64_t addr, uint32_t data,
		       uint32_t ctrl)
{
	uint8_t d[8];

	kr_put_le(d, 8, addr);
	kr_msix_table_io(m, v * 16, d, 8, true);
	kr_put_le(d, 4, data);
	kr_msix_table_io(m, v * 16 + 8, d, 4, true);
	kr_put_le(d, 4, ctrl);
	kr_msix_table_io(m, v * 16 + 12, d, 4, true);
}

/* t_msix.c's snap_made(): enabled, vectors sent, masked and pending. */
static void msix_drive(struct inst *i)
{
	kr_msix_write_control(i->msix, KR_MSIX_CTL_ENABLE);
	msix_entry(i->msix, 0, 0xfee01000, 0x41, 0);
	msix_entry(i->msix, 1, 0xfee02000, 0x42, 1);
	msix_entry(i->msix, 65, 0xfee03004, 0x43, 1);
	msix_entry(i->msix, 69, 0x1fee04000ull, 0x44, 0);
	kr_msix_notify(i->msix, 0);
	kr_msix_notify(i->msix, 1);
	kr_msix_notify(i->msix, 65);
}

static int msix_load(struct inst *i, struct kr_sget *g)
{
	return kr_msix_load(i->msix, g);
}

static int msix_save(struct inst *i, struct kr_sbuf *b)
{
	return kr_msix_save(i->msix, b);
}

static void msix_poke(struct inst *i)
{
	uint8_t d[8];
	uint64_t addr;
	uint32_t data;
	uint16_t ctl;

	for (unsigned int v = 0; v <= MSIX_NVEC; v++) {
		kr_msix_route(i->msix, v, &addr, &data);
		kr_msix_notify(i->msix, v);
	}
	for (unsigned int o = 0; o < kr_msix_table_size(MSIX_NVEC); o += 8)
		kr_msix_table_io(i->msix, o, d, 8, false);
	for (unsigned int o = 0; o < kr_msix_pba_size(MSIX_NVEC); o += 8)
		kr_msix_pba_io(i->msix, o, d, 8, false);
	ctl = kr_msix_control(i->msix);
	kr_msix_write_control(i->msix, ctl & ~KR_MSIX_CTL_FMASK);	/* pending ones go */
	msix_entry(i->msix, 1, 0xfee05000, 0x45, 0);
	msix_entry(i->msix, 65, 0xfee06000, 0x46, 0);
	kr_msix_write_control(i->msix, ctl);
	kr_msix_enabled(i->msix);
	for (int n = 0; n < 32; n++) {
		unsigned int size = 1u << rnd(i) % 4;

		kr_put_le(d, 8, rnd_val(i));
		kr_msix_table_io(i->msix, rnd(i) % (kr_msix_table_size(MSIX_NVEC) + 16), d, size,
				 rnd(i) & 1);
		kr_msix_pba_io(i->msix, rnd(i) % 24, d, size, false);
		if (rnd(i) % 4 == 0)
			kr_msix_write_control(i->msix, rnd(i));
		kr_msix_notify(i->msix, rnd(i) % (MSIX_NVEC + 1));
	}
}

static void msix_down(struct inst *i)
{
	kr_msix_destroy(i->msix);
	mach_down(i);
}

/* ---- display --------------------------------------------------------------- */

static void display_up(struct inst *i)
{
	struct kr_display_params p = { .kind = KR_DISPLAY_VGA, .map = fake_map, .opaque = i };

	mach_up(i, true);
	i->disp = kr_display_create(i->m.pci, DSLOT, &p);
	if (!i->disp)
		abort();
}

/* t_display.c's bars_on(): as pci.c's load of the snapshot's bus leaves it. */
static void display_pci(struct inst *i)
{
	tm_cfg_write(&i->m, DSLOT, KR_PCI_BAR0, 4, FB_ADDR);
	tm_cfg_write(&i->m, DSLOT, KR_PCI_BAR0 + 8, 4, MMIO_ADDR);
	tm_cfg_write(&i->m, DSLOT, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY);
}

static void dispi_wr(struct inst *i, unsigned int idx, uint16_t v)
{
	tm_write(&i->m.mmio, MMIO_ADDR + KR_DISPLAY_DISPI_OFF + 2 * idx, 2, v);
}

/* t_display.c's snap_drive(): a mode set and panned, big-endian, pixels here and there. */
static void display_drive(struct inst *i)
{
	struct kr_bus *b = &i->m.mmio;

	display_pci(i);
	dispi_wr(i, KR_DISPI_ID, 0xb0c2);
	tm_write(b, MMIO_ADDR + KR_DISPLAY_VGA_OFF + 2, 1, 0x01);
	tm_read(b, MMIO_ADDR + KR_DISPLAY_VGA_OFF + 0x1a, 1);
	tm_write(b, MMIO_ADDR + KR_DISPLAY_VGA_OFF, 1, 0x20);
	dispi_wr(i, KR_DISPI_ENABLE, 0);
	dispi_wr(i, KR_DISPI_BPP, 32);
	dispi_wr(i, KR_DISPI_XRES, 1024);
	dispi_wr(i, KR_DISPI_YRES, 768);
	dispi_wr(i, KR_DISPI_ENABLE, KR_DISPI_ENABLED | KR_DISPI_LFB_ENABLED);
	dispi_wr(i, KR_DISPI_VIRT_WIDTH, 1280);
	dispi_wr(i, KR_DISPI_Y_OFFSET, 4);
	dispi_wr(i, KR_DISPI_BANK, 3);
	tm_write(b, MMIO_ADDR + KR_DISPLAY_QEXT_OFF + 4, 4, KR_DISPLAY_BE);
	tm_write(b, MMIO_ADDR + KR_DISPLAY_VGA_OFF + 0x14, 1, 0x5c);
	tm_write(b, FB_ADDR + 4 * 1280 * 4 + 4 * 7, 4, 0x563412ff);
	tm_write(b, FB_ADDR + 4 * 1280 * 700 + 4 * 1000, 4, 0xabcdefff);
	tm_write(b, FB_ADDR + KR_DISPLAY_VRAM - 8, 8, 0x0123456789abcdefull);
}

static int display_load(struct inst *i, struct kr_sget *g)
{
	return kr_display_load(i->disp, g);
}

static int display_save(struct inst *i, struct kr_sbuf *b)
{
	return kr_display_save(i->disp, b);
}

/* What the VNC server shows (its corners), the registers, a mode set again. */
static void display_poke(struct inst *i)
{
	struct kr_bus *b = &i->m.mmio;
	struct kr_scanout s;
	volatile uint32_t sum = 0;

	kr_display_scanout(i->disp, &s);
	if (s.on) {
		const uint8_t *first = s.vram + s.offset;
		const uint8_t *last = first + (uint64_t)(s.height - 1) * s.stride;

		sum += kr_display_pixel(&s, first, 0) + kr_display_pixel(&s, first, s.width - 1);
		sum += kr_display_pixel(&s, last, 0) + kr_display_pixel(&s, last, s.width - 1);
	}
	for (unsigned int r = 0; r < KR_DISPI_NREGS + 2; r++)
		sum += tm_read(b, MMIO_ADDR + KR_DISPLAY_DISPI_OFF + 2 * r, 2);
	for (unsigned int p = 0; p < 0x20; p++)
		sum += tm_read(b, MMIO_ADDR + KR_DISPLAY_VGA_OFF + p, 1);
	sum += tm_read(b, MMIO_ADDR + KR_DISPLAY_QEXT_OFF, 8);
	sum += tm_read(b, FB_ADDR + 0x1000, 8);
	tm_write(b, MMIO_ADDR + KR_DISPLAY_VGA_OFF, 1, 0x20);
	/* Disabled and enabled again: the memory of the loaded mode is cleared. */
	dispi_wr(i, KR_DISPI_ENABLE, 0);
	dispi_wr(i, KR_DISPI_ENABLE, KR_DISPI_ENABLED | KR_DISPI_LFB_ENABLED);
	for (int n = 0; n < 32; n++) {
		if (rnd(i) % 4)
			rnd_io(i, b, MMIO_ADDR + KR_DISPLAY_VGA_OFF, 0x208, 1 | 2 | 4, 1);
		else
			dispi_wr(i, rnd(i) % (KR_DISPI_NREGS + 1), rnd_val(i));
		if (rnd(i) % 8 == 0)
			rnd_io(i, b, FB_ADDR + KR_DISPLAY_VRAM - 0x1000, 0x1000, 1 | 8, 1);
	}
	kr_display_scanout(i->disp, &s);
	if (s.on) {
		const uint8_t *last = s.vram + s.offset + (uint64_t)(s.height - 1) * s.stride;

		sum += kr_display_pixel(&s, last, s.width - 1);
	}
	(void)sum;
}

/*
 * A fresh display costs a page fault for each of the 4096 pages of its
 * video memory at its first load (which reads every page to clear those the
 * snapshot does not have): most of an iteration.  So the two displays, the
 * loaded one and the reloaded one, are made once per process and given a
 * machine reset before each use instead: the registers and the BARs as at
 * power-on; the memory keeps its bytes, and the load writes or clears
 * every page of it.
 */
static void display_reuse(struct inst *i)
{
	kr_pci_reset(i->m.pci);
	if (i->maps)
		abort();		/* the BAR's reset unmapped the memory */
}

static void display_down(struct inst *i)
{
	kr_display_destroy(i->disp);	/* unmaps the memory */
	mach_down(i);
}

/* ---- virtio: the driver's side --------------------------------------------- */

/*
 * The PCI side as pci.c's load leaves it: BAR 0, memory decoding and bus
 * mastering (vd_probe() at creation), and MSI-X on, every vector unmasked.
 */
static void virtio_pci_side(struct inst *i)
{
	vd_msix_enable(&i->d);
}

static void virtio_probe(struct inst *i)
{
	if (vd_probe(&i->d, &i->m, VSLOT, BARADDR))
		abort();
}

static uint64_t dev_features(struct vdrv *d)
{
	uint64_t f;

	vd_common_write(d, KR_VIRTIO_COMMON_DFSELECT, 4, 0);
	f = vd_common_read(d, KR_VIRTIO_COMMON_DF, 4);
	vd_common_write(d, KR_VIRTIO_COMMON_DFSELECT, 4, 1);
	return f | (uint64_t)vd_common_read(d, KR_VIRTIO_COMMON_DF, 4) << 32;
}

/* Everything offered taken, MSI-X (config 0, queue q q + 1), the queues, DRIVER_OK. */
static void driver_up(struct inst *i, unsigned int nq, const uint16_t *qsize)
{
	vd_negotiate(&i->d, dev_features(&i->d));
	vd_msix_enable(&i->d);
	vd_common_write(&i->d, KR_VIRTIO_COMMON_MSIX, 2, 0);
	for (unsigned int q = 0; q < nq; q++)
		vd_setup_queue(&i->d, q, qsize[q], RING(q), q + 1);
	vd_driver_ok(&i->d);
}

/* A chain of n descriptors from first on queue q: gpa, len, writable. */
static void chain(struct inst *i, unsigned int q, uint16_t first, const uint64_t *gpa,
		  const uint32_t *len, const bool *w, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++)
		vd_desc(&i->d, q, first + k, gpa[k], len[k],
			(w[k] ? KR_VQ_DESC_F_WRITE : 0) | (k + 1 < n ? KR_VQ_DESC_F_NEXT : 0),
			first + k + 1);
	vd_avail(&i->d, q, first);
}

/* One buffer of len at gpa, writable or not, as descriptor head of queue q. */
static void post1(struct inst *i, unsigned int q, uint16_t head, uint64_t gpa, uint32_t len,
		  bool w)
{
	chain(i, q, head, &gpa, &len, &w, 1);
}

/*
 * The PCI_CFG window: its data as loaded, then pointed at the device
 * status and the ISR and read through.
 */
static void virtio_pci_cfg(struct inst *i)
{
	unsigned int pos;

	for (pos = tm_find_cap(&i->m, VSLOT, KR_PCI_CAP_ID_VNDR, 0); pos;
	     pos = tm_find_cap(&i->m, VSLOT, KR_PCI_CAP_ID_VNDR, pos))
		if (tm_cfg_read(&i->m, VSLOT, pos + 3, 1) == KR_VIRTIO_CAP_PCI_CFG)
			break;
	if (!pos)
		abort();
	tm_cfg_read(&i->m, VSLOT, pos + 16, 4);
	tm_cfg_write(&i->m, VSLOT, pos + 4, 1, KR_VIRTIO_BAR);
	tm_cfg_write(&i->m, VSLOT, pos + 8, 4, KR_VIRTIO_COMMON_STATUS);
	tm_cfg_write(&i->m, VSLOT, pos + 12, 4, 1);
	tm_cfg_read(&i->m, VSLOT, pos + 16, 1);
	tm_cfg_write(&i->m, VSLOT, pos + 8, 4, KR_VIRTIO_ISR_OFF);
	tm_cfg_read(&i->m, VSLOT, pos + 16, 1);
}

/*
 * A driver gone wild: its registers written with their sizes (a reset now
 * and then), notifications, the ISR and the device configuration.
 */
static void virtio_rnd(struct inst *i, unsigned int nq)
{
	static const uint8_t field[][2] = {
		{ 0x00, 4 }, { 0x04, 4 }, { 0x08, 4 }, { 0x0c, 4 }, { 0x10, 2 }, { 0x14, 1 },
		{ 0x16, 2 }, { 0x18, 2 }, { 0x1a, 2 }, { 0x1c, 2 }, { 0x20, 8 }, { 0x24, 4 },
		{ 0x28, 8 }, { 0x30, 4 },
	};
	struct vdrv *d = &i->d;
	struct kr_bus *b = &i->m.mmio;

	for (int n = 0; n < 24; n++) {
		unsigned int f = rnd(i) % NELEM(field), q = rnd(i) % (nq + 1);

		switch (rnd(i) % 6) {
		case 0:
			tm_write(b, d->notify + q * d->notify_mult, 2, q);
			break;
		case 1:
			tm_read(b, d->isr, 1);
			break;
		case 2:
			if (d->device_len)
				rnd_io(i, b, d->device, d->device_len, 1 | 2 | 4, 1);
			break;
		default:
			if (field[f][0] == KR_VIRTIO_COMMON_STATUS && rnd(i) % 4)
				break;		/* resets are for now and then */
			vd_common_write(d, field[f][0], field[f][1], rnd_val(i));
			break;
		}
		if (i->loop && rnd(i) % 4 == 0)
			settle(i);
	}
	if (i->loop)
		settle(i);
}

/*
 * After a load: the machine's kick_all, then what a driver reads and
 * writes: the common configuration (the loaded queue selection first),
 * the ISR, the device configuration, each queue's registers and notify.
 */
static void virtio_poke(struct inst *i, unsigned int nq)
{
	struct vdrv *d = &i->d;
	struct kr_bus *b = &i->m.mmio;
	static const unsigned int common[][2] = {
		{ 0x00, 4 }, { 0x04, 4 }, { 0x08, 4 }, { 0x0c, 4 }, { 0x10, 2 }, { 0x12, 2 },
		{ 0x14, 1 }, { 0x15, 1 }, { 0x16, 2 }, { 0x18, 2 }, { 0x1a, 2 }, { 0x1c, 2 },
		{ 0x1e, 2 }, { 0x20, 8 }, { 0x28, 8 }, { 0x30, 8 },
	};

	kr_virtio_pci_kick_all(i->vp);
	if (i->loop)
		settle(i);
	for (size_t n = 0; n < NELEM(common); n++)
		vd_common_read(d, common[n][0], common[n][1]);
	tm_read(b, d->isr, 1);
	for (uint32_t off = 0; off + 4 <= d->device_len; off += 4)
		tm_read(b, d->device + off, 4);
	for (unsigned int q = 0; q < nq; q++) {
		uint64_t noff;

		vd_common_write(d, KR_VIRTIO_COMMON_Q_SELECT, 2, q);
		for (size_t n = 9; n < NELEM(common); n++)
			vd_common_read(d, common[n][0], common[n][1]);
		noff = vd_common_read(d, KR_VIRTIO_COMMON_Q_NOFF, 2);
		tm_write(b, d->notify + noff * d->notify_mult, 2, q);
	}
	if (i->loop)
		settle(i);
	kr_virtio_features(i->vp);
	kr_virtio_status(i->vp);
	virtio_pci_cfg(i);
	virtio_rnd(i, nq);
}

/* After the save: the driver resets the device, as at a reboot. */
static void virtio_reset(struct inst *i)
{
	vd_common_write(&i->d, KR_VIRTIO_COMMON_STATUS, 1, 0);
	if (i->loop)
		settle(i);
}

/* ---- virtio-pci: the transport with t_virtio_pci.c's test device ----------- */

static void t_notify(void *opaque, unsigned int q)
{
	struct inst *i = opaque;
	struct kr_vq_elem e = { .iov = i->iov, .cap = NELEM(i->iov) };
	int r;

	while ((r = kr_virtio_pop(i->tvp, q, &e)) == 1) {
		for (unsigned int k = e.n_out; k < e.n_out + e.n_in; k++)
			memset(i->iov[k].iov_base, 0xc0 + q, i->iov[k].iov_len);
		kr_virtio_push(i->tvp, q, &e, e.in_bytes);
	}
	kr_virtio_notify(i->tvp, q);
}

static void t_config_read(void *opaque, uint32_t off, uint8_t *data, unsigned int size)
{
	static const uint8_t config[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };

	(void)opaque;
	memcpy(data, config + off, size);
}

static void t_config_write(void *opaque, uint32_t off, const uint8_t *data, unsigned int size)
{
	(void)opaque;
	(void)off;
	(void)data;
	(void)size;
}

static void t_nothing(void *opaque)
{
	(void)opaque;
}

static const struct kr_virtio_ops t_ops = {
	.name = "virtio-test",
	.device_id = 0x3e,
	.class_code = 0xff0000,
	.features = 1ull << 0 | 1ull << 5 | 1ull << 40,
	.num_queues = 2,
	.queue_max = 256,
	.config_len = 8,
	.config_read = t_config_read,
	.config_write = t_config_write,
	.queue_notify = t_notify,
	.driver_ok = t_nothing,
	.reset = t_nothing,
};

static void vpci_up(struct inst *i)
{
	mach_up(i, true);
	i->tvp = i->vp = kr_virtio_pci_create(i->m.pci, VSLOT, &i->m.mem, &t_ops, i);
	if (!i->vp)
		abort();
	virtio_probe(i);
}

/* 8-byte writable buffer head on queue q, at BUF + 0x100 * head. */
static void post8(struct inst *i, unsigned int q, uint16_t head)
{
	post1(i, q, head, BUF + 0x100 * (q * 32 + head), 8, true);
}

/* t_virtio_pci.c's round trip: chains served, others available; registers moved. */
static void vpci_drive(struct inst *i)
{
	static const uint16_t qsize[2] = { 16, 16 };

	driver_up(i, 2, qsize);
	post8(i, 0, 0);
	post8(i, 0, 1);
	vd_kick(&i->d, 0);
	post8(i, 1, 7);
	vd_kick(&i->d, 1);
	post8(i, 0, 2);
	post8(i, 0, 3);
	post8(i, 1, 8);
	vd_common_write(&i->d, KR_VIRTIO_COMMON_DFSELECT, 4, 1);
	vd_common_write(&i->d, KR_VIRTIO_COMMON_GFSELECT, 4, 1);
	vd_common_write(&i->d, KR_VIRTIO_COMMON_Q_SELECT, 2, 1);
	kr_virtio_config_changed(i->vp);
}

static int vpci_load(struct inst *i, struct kr_sget *g)
{
	return kr_virtio_pci_load(i->vp, g);
}

static int vpci_save(struct inst *i, struct kr_sbuf *b)
{
	return kr_virtio_pci_save(i->vp, b, NULL);
}

static void vpci_poke(struct inst *i)
{
	virtio_poke(i, 2);
	kr_virtio_config_changed(i->vp);
	kr_virtio_pci_notify_addr(i->vp, 0, &(uint64_t){ 0 });
}

static void vpci_down(struct inst *i)
{
	kr_virtio_pci_destroy(i->vp);
	mach_down(i);
}

/* ---- virtio-rng -------------------------------------------------------------- */

static void rng_up(struct inst *i)
{
	mach_up(i, true);
	i->rng = kr_virtio_rng_create(i->m.pci, VSLOT, &i->m.mem);
	if (!i->rng)
		abort();
	kr_virtio_rng_set_source(i->rng, fake_random);
	i->vp = kr_virtio_rng_transport(i->rng);
	virtio_probe(i);
}

static void rng_drive(struct inst *i)
{
	static const uint16_t qsize[1] = { 8 };

	driver_up(i, 1, qsize);
	post1(i, 0, 2, BUF, 64, true);
	vd_kick(&i->d, 0);
	post1(i, 0, 3, BUF + 0x100, 64, true);
	post1(i, 0, 4, BUF + 0x200, 0x20000, true);
}

static int rng_load(struct inst *i, struct kr_sget *g)
{
	return kr_virtio_rng_load(i->rng, g);
}

static int rng_save(struct inst *i, struct kr_sbuf *b)
{
	return kr_virtio_rng_save(i->rng, b);
}

static void rng_poke(struct inst *i)
{
	virtio_poke(i, 1);
}

static void rng_down(struct inst *i)
{
	kr_virtio_rng_destroy(i->rng);
	mach_down(i);
}

/* ---- virtio-blk ------------------------------------------------------------------ */

#define BLK_SIZE	(1u << 20)
#define HDR(q)		(0x40000ull + (q) * 0x1000ull)
#define BLK_DATA(q)	(DATA + (q) * 0x40000ull)

/* The process's disk: an image in /tmp, opened once (it stays locked) and unlinked. */
static struct kr_disk *blk_disk;

static struct kr_disk *disk_get(void)
{
	struct kr_disk_opts o;
	char path[32], arg[96], why[256];

	if (blk_disk)
		return blk_disk;
	make_image(path, BLK_SIZE);
	snprintf(arg, sizeof(arg), "path=%s,discard=on,queues=2,serial=fuzz", path);
	if (kr_disk_parse(arg, &o, why, sizeof(why)) ||
	    kr_disk_open(&o, "vda", &blk_disk, why, sizeof(why))) {
		fprintf(stderr, "fuzz_devstate: %s\n", why);
		abort();
	}
	unlink(path);
	kr_disk_set_hooks(blk_disk, no_sync, NULL);
	return blk_disk;
}

static void blk_up(struct inst *i)
{
	mach_up(i, true);
	i->blk = kr_virtio_blk_create(i->m.pci, VSLOT, &i->m.mem, disk_get());
	if (!i->blk)
		abort();
	i->vp = kr_virtio_blk_transport(i->blk);
	virtio_probe(i);
}

static void blk_header(struct inst *i, uint64_t gpa, uint32_t type, uint64_t sector)
{
	uint8_t *h = tm_ram(&i->m, gpa, KR_BLK_HDR_SIZE);

	kr_put_le(h, 4, type);
	kr_put_le(h + 4, 4, 0);
	kr_put_le(h + 8, 8, sector);
}

/* A request on queue q in Linux's layout at descriptors first..: header, data, status. */
static void blk_request(struct inst *i, unsigned int q, uint16_t first, uint32_t type,
			uint64_t sector, uint64_t data, uint32_t len, bool w)
{
	uint64_t hdr = HDR(q) + 0x20 * first, status = HDR(q) + 0x800 + first;
	uint64_t gpa[3] = { hdr, data, status };
	uint32_t lens[3] = { KR_BLK_HDR_SIZE, len, 1 };
	bool wr[3] = { false, w, true };

	blk_header(i, hdr, type, sector);
	*(uint8_t *)tm_ram(&i->m, status, 1) = 0xee;
	if (!len) {
		gpa[1] = status;
		lens[1] = 1;
		wr[1] = true;
	}
	chain(i, q, first, gpa, lens, wr, len ? 3 : 2);
}

/*
 * t_virtio_blk.c's round trip: a write served (waited for: the workers are
 * threads), then a write, a read, a flush on queue 0 and a discard and a
 * GET_ID on queue 1 available, not notified.
 */
static void blk_drive(struct inst *i)
{
	static const uint16_t qsize[2] = { 64, 64 };
	uint8_t *seg;

	driver_up(i, 2, qsize);
	memset(tm_ram(&i->m, BLK_DATA(0), 4096), 0x5c, 4096);
	blk_request(i, 0, 0, KR_BLK_T_OUT, 8, BLK_DATA(0), 4096, false);
	vd_kick(&i->d, 0);
	for (int n = 0; n < 100000 && vd_used_idx(&i->d, 0) != 1; n++)
		usleep(50);
	if (vd_used_idx(&i->d, 0) != 1)
		abort();
	blk_request(i, 0, 3, KR_BLK_T_OUT, 16, BLK_DATA(0), 4096, false);
	blk_request(i, 0, 6, KR_BLK_T_IN, 0, BLK_DATA(0) + 0x1000, 4096, true);
	blk_request(i, 0, 9, KR_BLK_T_FLUSH, 0, 0, 0, false);
	seg = tm_ram(&i->m, HDR(1) + 0x400, KR_BLK_SEG_SIZE);
	kr_put_le(seg, 8, 64);
	kr_put_le(seg + 8, 4, 16);
	kr_put_le(seg + 12, 4, 0);
	blk_request(i, 1, 0, KR_BLK_T_DISCARD, 0, HDR(1) + 0x400, KR_BLK_SEG_SIZE, false);
	blk_request(i, 1, 3, KR_BLK_T_GET_ID, 0, BLK_DATA(1), KR_DISK_SERIAL_MAX, true);
}

static int blk_load(struct inst *i, struct kr_sget *g)
{
	return kr_virtio_blk_load(i->blk, g);
}

static int blk_save(struct inst *i, struct kr_sbuf *b)
{
	return kr_virtio_blk_save(i->blk, b);
}

static void blk_poke(struct inst *i)
{
	virtio_poke(i, 2);
	kr_virtio_blk_drain(i->blk);
}

static void blk_down(struct inst *i)
{
	kr_virtio_blk_destroy(i->blk);
	mach_down(i);
}

/* ---- virtio-net ------------------------------------------------------------------ */

#define RXBUF		0x100000ull
#define TXBUF		0x180000ull

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void net_up(struct inst *i)
{
	mach_up(i, true);
	loop_up(i);
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, i->sv))
		abort();
	i->be.fd = i->sv[0];
	memcpy(i->be.mac, guest_mac, 6);
	i->net = kr_virtio_net_create(i->m.pci, VSLOT, &i->m.mem, i->loop, &i->be);
	if (!i->net)
		abort();
	i->vp = kr_virtio_net_transport(i->net);
	virtio_probe(i);
}

/* An Ethernet frame to the guest, as t_virtio_net.c's make_frame(). */
static void make_frame(uint8_t *f, size_t len, unsigned int seed)
{
	memcpy(f, guest_mac, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (size_t n = 14; n < len; n++)
		f[n] = (uint8_t)(seed * 31 + n * 7);
}

static void peer_send(struct inst *i, size_t len, unsigned int seed)
{
	uint8_t f[1514];

	make_frame(f, len, seed);
	if (send(i->sv[1], f, len, MSG_DONTWAIT) < 0) {
		/* full: dropped, as a network may */
	}
}

static void peer_drain(struct inst *i)
{
	uint8_t f[2048];

	while (recv(i->sv[1], f, sizeof(f), MSG_DONTWAIT) > 0)
		;
}

/* A frame to send at TXBUF + off: header and frame in two descriptors from head. */
static void tx_post(struct inst *i, uint16_t head, uint64_t off, size_t len, unsigned int seed)
{
	uint64_t gpa[2] = { TXBUF + off, TXBUF + off + KR_NET_HDR_LEN };
	uint32_t lens[2] = { KR_NET_HDR_LEN, len };
	bool w[2] = { false, false };

	memset(tm_ram(&i->m, gpa[0], KR_NET_HDR_LEN), 0, KR_NET_HDR_LEN);
	make_frame(tm_ram(&i->m, gpa[1], len), len, seed);
	chain(i, KR_NET_TXQ, head, gpa, lens, w, 2);
}

/*
 * Receive buffers posted and a frame delivered, a frame sent; then a frame
 * to send and buffers available, not notified.
 */
static void net_drive(struct inst *i)
{
	static const uint16_t qsize[2] = { 64, 64 };

	driver_up(i, 2, qsize);
	settle(i);
	for (uint16_t n = 0; n < 4; n++)
		post1(i, KR_NET_RXQ, n, RXBUF + n * 0x1000ull, 2048, true);
	vd_kick(&i->d, KR_NET_RXQ);
	peer_send(i, 100, 1);
	settle(i);
	tx_post(i, 0, 0, 200, 2);
	vd_kick(&i->d, KR_NET_TXQ);
	settle(i);
	peer_drain(i);
	tx_post(i, 2, 0x800, 300, 3);
	for (uint16_t n = 4; n < 6; n++)
		post1(i, KR_NET_RXQ, n, RXBUF + n * 0x1000ull, 256, true);
}

static int net_load(struct inst *i, struct kr_sget *g)
{
	return kr_virtio_net_load(i->net, g);
}

static int net_save(struct inst *i, struct kr_sbuf *b)
{
	return kr_virtio_net_save(i->net, b);
}

static void net_poke(struct inst *i)
{
	peer_send(i, 60, 4);
	peer_send(i, 1500, 5);
	virtio_poke(i, 2);
	kr_virtio_net_set_link(i->net, false);
	peer_send(i, 600, 6);
	settle(i);
	peer_drain(i);
}

static void net_down(struct inst *i)
{
	kr_virtio_net_destroy(i->net);
	close(i->sv[0]);
	close(i->sv[1]);
	loop_down(i);
	mach_down(i);
}

/* ---- virtio-console -------------------------------------------------------------- */

static void con_up(struct inst *i)
{
	mach_up(i, true);
	loop_up(i);
	if (pipe2(i->in, O_NONBLOCK | O_CLOEXEC) || pipe2(i->out, O_NONBLOCK | O_CLOEXEC))
		abort();
	i->chr = kr_chardev_open_fds(i->in[0], i->out[1], i->loop, 0);
	if (!i->chr)
		abort();
	i->con = kr_virtio_console_create(i->m.pci, VSLOT, &i->m.mem, i->loop, i->chr);
	if (!i->con)
		abort();
	i->vp = kr_virtio_console_transport(i->con);
	virtio_probe(i);
}

/* Input delivered into receive buffers, output sent; more of both available, not notified. */
static void con_drive(struct inst *i)
{
	static const uint16_t qsize[2] = { 16, 16 };

	driver_up(i, 2, qsize);
	settle(i);
	post1(i, KR_CONSOLE_RXQ, 0, BUF, 64, true);
	post1(i, KR_CONSOLE_RXQ, 1, BUF + 0x100, 64, true);
	vd_kick(&i->d, KR_CONSOLE_RXQ);
	pipe_input(i, "hello");
	settle(i);
	memcpy(tm_ram(&i->m, BUF + 0x1000, 5), "out!\n", 5);
	post1(i, KR_CONSOLE_TXQ, 0, BUF + 0x1000, 5, false);
	vd_kick(&i->d, KR_CONSOLE_TXQ);
	settle(i);
	pipe_drain(i);
	memcpy(tm_ram(&i->m, BUF + 0x1100, 6), "again\n", 6);
	post1(i, KR_CONSOLE_TXQ, 1, BUF + 0x1100, 6, false);
	post1(i, KR_CONSOLE_RXQ, 2, BUF + 0x200, 3, true);
}

static int con_load(struct inst *i, struct kr_sget *g)
{
	return kr_virtio_console_load(i->con, g);
}

static int con_save(struct inst *i, struct kr_sbuf *b)
{
	return kr_virtio_console_save(i->con, b);
}

static void con_poke(struct inst *i)
{
	pipe_input(i, "input after the restore");
	virtio_poke(i, 2);
	kr_virtio_console_resize(i->con, 120, 50);
	pipe_input(i, "more");
	settle(i);
	pipe_drain(i);
}

static void con_down(struct inst *i)
{
	kr_virtio_console_destroy(i->con);
	kr_chardev_destroy(i->chr);
	loop_down(i);
	pipes_close(i);
	mach_down(i);
}

/* ---- virtio-input ---------------------------------------------------------------- */

#define EVBUF		0x100000ull	/* event buffer n at EVBUF + 8 n */
#define STBUF		0x180000ull	/* statusq buffers */

static void input_up(struct inst *i, enum kr_vinput_kind kind)
{
	mach_up(i, true);
	i->input = kr_virtio_input_create(i->m.pci, VSLOT, &i->m.mem, kind);
	if (!i->input)
		abort();
	i->vp = kr_virtio_input_transport(i->input);
	virtio_probe(i);
}

static void tablet_up(struct inst *i)
{
	input_up(i, KR_VINPUT_TABLET);
}

static void keyboard_up(struct inst *i)
{
	input_up(i, KR_VINPUT_KEYBOARD);
}

static void ev_post(struct inst *i, uint16_t from, unsigned int n)
{
	for (uint16_t b = from; b < from + n; b++)
		post1(i, KR_VINPUT_EVENTQ, b, EVBUF + 8 * b, 8, true);
}

/* An event for the statusq in buffer head. */
static void st_post(struct inst *i, uint16_t head, uint16_t type, uint16_t code, uint32_t value)
{
	uint8_t *p = tm_ram(&i->m, STBUF + 8 * head, 8);

	kr_put_le(p, 2, type);
	kr_put_le(p + 2, 2, code);
	kr_put_le(p + 4, 4, value);
	post1(i, KR_VINPUT_STATUSQ, head, STBUF + 8 * head, 8, false);
}

/* A configuration selection, a report half delivered and one waiting whole, LEDs. */
static void input_drive(struct inst *i, bool tablet)
{
	static const uint16_t qsize[2] = { 64, 8 };
	struct kr_bus *b = &i->m.mmio;

	driver_up(i, 2, qsize);
	tm_write(b, i->d.device + KR_VINPUT_CFG_SELECT, 1, KR_VINPUT_CFG_ID_NAME);
	ev_post(i, 0, 4);
	vd_kick(&i->d, KR_VINPUT_EVENTQ);
	if (tablet) {
		kr_virtio_input_pointer(i->input, 10, 20, 100, 100, 0);
		kr_virtio_input_pointer(i->input, 10, 20, 100, 100, 1);
		kr_virtio_input_pointer(i->input, 30, 40, 100, 100, 1 | 8);
	} else {
		kr_virtio_input_key(i->input, KEY_A, true);
		kr_virtio_input_key(i->input, KEY_LEFTSHIFT, true);
		kr_virtio_input_key(i->input, KEY_A, false);
	}
	st_post(i, 0, EV_LED, LED_CAPSL, 1);
	vd_kick(&i->d, KR_VINPUT_STATUSQ);
	st_post(i, 1, EV_LED, LED_NUML, 1);
	ev_post(i, 4, 2);
}

static void tablet_drive(struct inst *i)
{
	input_drive(i, true);
}

static void keyboard_drive(struct inst *i)
{
	input_drive(i, false);
}

static int input_load(struct inst *i, struct kr_sget *g)
{
	return kr_virtio_input_load(i->input, g);
}

static int input_save(struct inst *i, struct kr_sbuf *b)
{
	return kr_virtio_input_save(i->input, b);
}

static void input_poke(struct inst *i)
{
	struct kr_bus *b = &i->m.mmio;

	virtio_poke(i, 2);
	/* More reports than wait for buffers: the oldest are dropped. */
	for (int n = 0; n < 100; n++) {
		kr_virtio_input_pointer(i->input, n, 60, 100, 100, n & 0x19);
		kr_virtio_input_key(i->input, KEY_B + n % 10, !(n & 1));
	}
	kr_virtio_input_leds(i->input);
	tm_write(b, i->d.device + KR_VINPUT_CFG_SELECT, 1, KR_VINPUT_CFG_EV_BITS);
	tm_write(b, i->d.device + KR_VINPUT_CFG_SUBSEL, 1, EV_KEY);
	tm_read(b, i->d.device + KR_VINPUT_CFG_SIZE, 1);
	tm_read(b, i->d.device + KR_VINPUT_CFG_U, 8);
}

static void input_down(struct inst *i)
{
	kr_virtio_input_destroy(i->input);
	mach_down(i);
}

/* ---- the devices ----------------------------------------------------------- */

#define LEGACY(n)	n##_up, NULL, n##_drive, n##_load, n##_save, n##_poke, NULL, n##_down
#define VIRTIO(u, n)	u##_up, virtio_pci_side, u##_drive, n##_load, n##_save, n##_poke, \
			virtio_reset, n##_down

/* The order is the input's first byte: append only, the corpus depends on it. */
static const struct fz_dev devs[] = {
	{ "serial", LEGACY(serial) },
	{ "rtc", LEGACY(rtc) },
	{ "i8042", LEGACY(i8042) },
	{ "pm", LEGACY(pm) },
	{ "post", LEGACY(post) },
	{ "fw_cfg", LEGACY(fw_cfg) },
	{ "pci", LEGACY(pci) },
	{ "msix", LEGACY(msix) },
	{ "display", display_up, display_pci, display_drive, display_load, display_save,
	  display_poke, NULL, display_down, false, display_reuse },
	{ "virtio-pci", VIRTIO(vpci, vpci), true },
	{ "virtio-rng", VIRTIO(rng, rng), true },
	{ "virtio-blk", VIRTIO(blk, blk), true },
	{ "virtio-net", VIRTIO(net, net), true },
	{ "virtio-console", VIRTIO(con, con), true },
	{ "virtio-tablet", VIRTIO(tablet, input), true },
	{ "virtio-keyboard", VIRTIO(keyboard, input), true },
};

#define NDEVS	NELEM(devs)

/* ---- the target ------------------------------------------------------------ */

/* The seed machine's RAM of each virtio device, built on first use. */
static uint8_t *ram_image[NDEVS];

/* Instances kept across iterations (dv->reuse): the loaded and the reloaded one. */
enum { LOADED, RELOADED, SCRATCH };
static struct inst *kept[NDEVS][2];

static struct inst *inst_up(const struct fz_dev *dv, unsigned int role)
{
	struct inst **keep = dv->reuse && role != SCRATCH ? &kept[dv - devs][role] : NULL;
	struct inst *i;

	if (keep && *keep) {
		dv->reuse(*keep);
		return *keep;
	}
	i = calloc(1, sizeof(*i));
	if (!i)
		abort();
	dv->up(i);
	if (keep)
		*keep = i;
	return i;
}

static void inst_down(const struct fz_dev *dv, struct inst *i)
{
	if (dv->reuse && (i == kept[dv - devs][LOADED] || i == kept[dv - devs][RELOADED]))
		return;
	dv->down(i);
	free(i);
}

static const uint8_t *seed_ram(unsigned int k)
{
	const struct fz_dev *dv = &devs[k];
	struct inst *i;

	if (ram_image[k] || !dv->ram)
		return ram_image[k];
	i = inst_up(dv, SCRATCH);
	dv->drive(i);
	ram_image[k] = malloc(TM_LOW_SIZE + TM_HIGH_SIZE);
	if (!ram_image[k])
		abort();
	memcpy(ram_image[k], i->m.mem.low, TM_LOW_SIZE);
	memcpy(ram_image[k] + TM_LOW_SIZE, i->m.mem.high, TM_HIGH_SIZE);
	inst_down(dv, i);
	return ram_image[k];
}

/* A device to load into: fresh, its PCI side restored, the seed's RAM (ram). */
static struct inst *inst_fresh(unsigned int k, unsigned int role, const uint8_t *ram)
{
	const struct fz_dev *dv = &devs[k];
	struct inst *i = inst_up(dv, role);

	if (ram) {
		memcpy(i->m.mem.low, ram, TM_LOW_SIZE);
		memcpy(i->m.mem.high, ram + TM_LOW_SIZE, TM_HIGH_SIZE);
	}
	if (dv->restore_pci)
		dv->restore_pci(i);
	return i;
}

/* As kr_devices_load(): the device's load, then all of it read. */
static int load_bytes(const struct fz_dev *dv, struct inst *i, const void *p, size_t n,
		      struct kr_sget *g)
{
	int ret;

	kr_sget_init(g, p, n, dv->name);
	ret = dv->load(i, g);
	if (!ret)
		ret = kr_sget_done(g);
	/* The contract: 0, or -EPROTO with the reason. */
	if (ret && (ret != -EPROTO || !g->bad || !g->why[0])) {
		fprintf(stderr, "%s: load returned %d, reason \"%s\"\n", dv->name, ret, g->why);
		abort();
	}
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fz_dev *dv;
	struct kr_sbuf b = { 0 };
	struct kr_sget g;
	struct inst *i;
	unsigned int k;
	int err;

	if (!size)
		return 0;
	k = data[0] % NDEVS;
	dv = &devs[k];
	i = inst_fresh(k, LOADED, seed_ram(k));
	if (load_bytes(dv, i, data + 1, size - 1, &g)) {
		inst_down(dv, i);	/* a refused load: the device is only destroyed */
		return 0;
	}
	/* The random guest's seed: FNV-1a of the input. */
	i->rnd = 0xcbf29ce484222325ull;
	for (size_t n = 0; n < size; n++)
		i->rnd = (i->rnd ^ data[n]) * 0x100000001b3ull;
	i->rnd |= 1;
	dv->poke(i);
	err = dv->save(i, &b);
	if (err || b.oom) {
		fprintf(stderr, "%s: a loaded device does not save: %d\n", dv->name, err);
		abort();
	}
	if (dv->after_save)
		dv->after_save(i);
	inst_down(dv, i);

	/* What it saved is a state a fresh device takes. */
	i = inst_fresh(k, RELOADED, NULL);
	if (load_bytes(dv, i, b.p, b.len, &g)) {
		fprintf(stderr, "%s: its own save refused: %s\n", dv->name, g.why);
		abort();
	}
	inst_down(dv, i);
	kr_sbuf_free(&b);
	return 0;
}

static void fuzz_done(void)
{
	for (unsigned int k = 0; k < NDEVS; k++) {
		for (unsigned int r = LOADED; r <= RELOADED; r++) {
			if (kept[k][r])
				devs[k].down(kept[k][r]);
			free(kept[k][r]);
			kept[k][r] = NULL;
		}
		free(ram_image[k]);
		ram_image[k] = NULL;
	}
	kr_disk_close(blk_disk);
	blk_disk = NULL;
	free(ram_low);
	free(ram_high);
	ram_low = ram_high = NULL;
}

#ifdef KR_GEN
/* ---- the seed corpus ---------------------------------------------------------- */

static void gen_write(const char *dir, const char *name, unsigned int k, const uint8_t *p,
		      size_t n)
{
	char path[512];
	uint8_t kb = k;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&kb, 1, 1, f) != 1 || (n && fwrite(p, 1, n, f) != n) || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* The state of devs[k] driven busy, or fresh, in b. */
static void gen_state(unsigned int k, bool drive, struct kr_sbuf *b)
{
	const struct fz_dev *dv = &devs[k];
	struct inst *i = inst_up(dv, SCRATCH);

	if (drive)
		dv->drive(i);
	if (dv->save(i, b) || b->oom) {
		fprintf(stderr, "%s: cannot save\n", dv->name);
		exit(1);
	}
	inst_down(dv, i);
}

int main(int argc, char **argv)
{
	/* Mutations: device, offset (from the end when negative), byte value. */
	static const struct { const char *dev, *name; long off; int v; } flips[] = {
		{ "serial", "serial-fifo-count", 16, 16 },
		{ "i8042", "i8042-kbd-replies", 48, 8 },
		{ "virtio-pci", "virtio-pci-queue-size", 42, 17 },
		{ "virtio-pci", "virtio-pci-needs-reset", 30, 0x4f },
		{ "virtio-pci", "virtio-pci-queue-select", 35, 0x41 },
		{ "virtio-rng", "virtio-rng-broken", -1, 1 },
		{ "virtio-tablet", "virtio-tablet-sent", 9, 2 },
		{ "msix", "msix-pending", -1, 0x01 },
	};
	static const char *const cuts[] = { "pci", "virtio-net", "display", "virtio-blk" };
	char name[64];

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (unsigned int k = 0; k < NDEVS; k++) {
		struct kr_sbuf b = { 0 };

		gen_state(k, true, &b);
		gen_write(argv[1], devs[k].name, k, b.p, b.len);
		for (size_t n = 0; n < NELEM(cuts); n++) {
			if (strcmp(cuts[n], devs[k].name))
				continue;
			snprintf(name, sizeof(name), "%s-truncated", devs[k].name);
			gen_write(argv[1], name, k, b.p, b.len * 2 / 3);
		}
		for (size_t n = 0; n < NELEM(flips); n++) {
			uint8_t *p;
			size_t at;

			if (strcmp(flips[n].dev, devs[k].name))
				continue;
			at = flips[n].off < 0 ? b.len + flips[n].off : (size_t)flips[n].off;
			p = malloc(b.len);
			memcpy(p, b.p, b.len);
			if (at < b.len)
				p[at] = flips[n].v;
			gen_write(argv[1], flips[n].name, k, p, b.len);
			free(p);
		}
		kr_sbuf_free(&b);
	}
	/* Devices just created: the states of a machine saved before its guest ran. */
	for (unsigned int k = 0; k < NDEVS; k++) {
		struct kr_sbuf b = { 0 };

		if (strcmp(devs[k].name, "virtio-pci") && strcmp(devs[k].name, "rtc"))
			continue;
		gen_state(k, false, &b);
		snprintf(name, sizeof(name), "%s-fresh", devs[k].name);
		gen_write(argv[1], name, k, b.p, b.len);
		kr_sbuf_free(&b);
	}
	fuzz_done();
	return 0;
}
#endif

#define KR_FUZZ_REPLAY_END	fuzz_done()
#include "fuzz_replay.h"
