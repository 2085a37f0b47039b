// SPDX-License-Identifier: GPL-2.0
/*
 * virtio console device (virtio_console.h).
 *
 * Threads.  Output (transmitq) is processed on the thread that delivered
 * the notification: the vCPU thread of the MMIO write, or the I/O thread
 * with an ioeventfd.  Linux's hvc put_chars() spins, interrupts off, until
 * its buffer comes back used; answering before the vCPU resumes makes that
 * spin zero, where handing over to the I/O thread would make the vCPU burn
 * a host CPU for a thread switch per line.  It is safe on a vCPU because
 * kr_chardev_write() never blocks (a bounded buffer, then drops).  A pass
 * takes at most PASS_CHAINS chains and each chain gives at most
 * KR_CONSOLE_TX_CHAIN_MAX bytes, so a guest that keeps refilling the queue
 * cannot pin the thread (the vCPU could not be stopped); the rest of the
 * work continues on the I/O thread through work_fd, a pass at a time.
 *
 * Input (receiveq) is processed on the I/O thread, in the chardev's input
 * callback: bytes are read (into a 4 KiB stage, the size of Linux's
 * buffers) only when there is a buffer to put them in.  When the guest has
 * none, the device stops wanting input, so the chardev stops reading its
 * fd and the bytes wait in the kernel; the guest's next notification of
 * the receiveq asks for input again and the chardev calls back.  The
 * staged bytes of a chain that could not be popped are kept for the next
 * one: nothing is lost.
 *
 * Locking:
 *  - rx_lock covers the receive side (rx_live, the stage, rx_bytes) and
 *    serialises receive passes against notifications and reset.
 *  - tx_lock serialises transmit passes (several vCPUs, the I/O thread) and
 *    covers tx_bytes, tx_truncated; reset waits for a pass through it.
 *  - cfg_lock covers cols and rows; a leaf.
 * Order: chardev callback lock -> rx_lock -> transport queue lock and
 * chardev lock; tx_lock -> transport queue lock and chardev lock.
 * kr_virtio_notify() and kr_virtio_config_changed() are called with no
 * lock held.  A save takes rx_lock, then tx_lock, then cfg_lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "virtio_console.h"

#define RX_STAGE	4096
#define RX_MAX_IOV	16	/* buffers per receive chain; Linux uses 1 */
#define TX_MAX_IOV	64	/* per transmit chain; Linux uses 1 */
#define PASS_CHAINS	64	/* chains per pass (half a queue), then yield */
#define CLASS_COMM_OTHER	0x078000	/* simple communication controller, other */
#define LIVE		(KR_VIRTIO_STATUS_FEATURES_OK | KR_VIRTIO_STATUS_DRIVER_OK)

struct kr_virtio_console {
	struct kr_virtio_ops ops;	/* per device: the features depend on the chardev */
	struct kr_virtio_pci *vp;
	struct kr_chardev *chr;
	bool attached;
	struct kr_loop *loop;
	int work_fd;			/* eventfd: more transmit work for the I/O thread */

	pthread_mutex_t cfg_lock;
	uint16_t cols, rows;

	pthread_mutex_t rx_lock;
	bool rx_live;			/* DRIVER_OK and no reset since */
	uint8_t stage[RX_STAGE];
	size_t stage_off, stage_len;
	uint64_t rx_bytes;

	pthread_mutex_t tx_lock;
	uint64_t tx_bytes, tx_truncated;
};

/* ---- guest to host ------------------------------------------------------ */

static void con_tx(struct kr_virtio_console *vc)
{
	struct iovec iov[TX_MAX_IOV];
	struct kr_vq_elem e = { .iov = iov, .cap = TX_MAX_IOV };
	unsigned int budget = PASS_CHAINS;
	bool pushed = false, more = false;

	pthread_mutex_lock(&vc->tx_lock);
	while (kr_virtio_pop(vc->vp, KR_CONSOLE_TXQ, &e) > 0) {
		size_t left = KR_CONSOLE_TX_CHAIN_MAX;

		/* Readable buffers are the output; writable ones get nothing. */
		for (unsigned int i = 0; i < e.n_out && left; i++) {
			size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;

			kr_chardev_write(vc->chr, iov[i].iov_base, n);
			left -= n;
		}
		vc->tx_bytes += KR_CONSOLE_TX_CHAIN_MAX - left;
		vc->tx_truncated += e.out_bytes - (KR_CONSOLE_TX_CHAIN_MAX - left);
		kr_virtio_push(vc->vp, KR_CONSOLE_TXQ, &e, 0);
		pushed = true;
		if (!--budget) {
			more = true;
			break;
		}
	}
	pthread_mutex_unlock(&vc->tx_lock);
	if (pushed)
		kr_virtio_notify(vc->vp, KR_CONSOLE_TXQ);
	if (more) {
		uint64_t one = 1;

		if (write(vc->work_fd, &one, sizeof(one)) < 0) {
			/* the counter is already non-zero: a pass is coming */
		}
	}
}

static void con_work(void *opaque, int fd, uint32_t events)
{
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* already drained */
	}
	con_tx(opaque);
}

/* ---- host to guest ------------------------------------------------------ */

/* Input staged and not yet given: true when there is some (rx_lock held). */
static bool stage_fill(struct kr_virtio_console *vc)
{
	if (vc->stage_off < vc->stage_len)
		return true;
	vc->stage_off = 0;
	vc->stage_len = kr_chardev_read(vc->chr, vc->stage, sizeof(vc->stage));
	return vc->stage_len > 0;
}

/* Fill a chain's writable buffers, in order, with what input there is now. */
static uint32_t fill_chain(struct kr_virtio_console *vc, const struct kr_vq_elem *e)
{
	uint32_t done = 0;

	for (unsigned int i = e->n_out; i < e->n_out + e->n_in; i++) {
		uint8_t *p = e->iov[i].iov_base;
		size_t room = e->iov[i].iov_len;

		while (room && stage_fill(vc)) {
			size_t n = vc->stage_len - vc->stage_off;

			if (n > room)
				n = room;
			memcpy(p, vc->stage + vc->stage_off, n);
			vc->stage_off += n;
			p += n;
			room -= n;
			done += n;
		}
		if (room)
			break;		/* no more input now */
	}
	vc->rx_bytes += done;
	return done;
}

/* The chardev's input callback (I/O thread). */
static void con_rx(void *opaque)
{
	struct kr_virtio_console *vc = opaque;
	struct iovec iov[RX_MAX_IOV];
	struct kr_vq_elem e = { .iov = iov, .cap = RX_MAX_IOV };
	unsigned int budget = PASS_CHAINS;
	bool pushed = false;

	pthread_mutex_lock(&vc->rx_lock);
	if (!vc->rx_live) {
		kr_chardev_want_input(vc->chr, false);
		goto out;
	}
	while (stage_fill(vc)) {
		if (!budget--) {
			/* Yield the I/O thread; the false -> true edge calls us back. */
			kr_chardev_want_input(vc->chr, false);
			kr_chardev_want_input(vc->chr, true);
			break;
		}
		/* Pop only with input in hand: a popped chain cannot be put back. */
		if (kr_virtio_pop(vc->vp, KR_CONSOLE_RXQ, &e) <= 0) {
			/* No buffer (or a broken queue): stop reading; a kick resumes. */
			kr_chardev_want_input(vc->chr, false);
			break;
		}
		kr_virtio_push(vc->vp, KR_CONSOLE_RXQ, &e, fill_chain(vc, &e));
		pushed = true;
	}
out:
	pthread_mutex_unlock(&vc->rx_lock);
	if (pushed)
		kr_virtio_notify(vc->vp, KR_CONSOLE_RXQ);
}

/* The guest may have buffers now: ask the chardev for input (any thread). */
static void con_rx_resume(struct kr_virtio_console *vc)
{
	pthread_mutex_lock(&vc->rx_lock);
	if (vc->rx_live)
		kr_chardev_want_input(vc->chr, true);
	pthread_mutex_unlock(&vc->rx_lock);
}

/* ---- transport callbacks ------------------------------------------------ */

static void con_notify(void *opaque, unsigned int q)
{
	struct kr_virtio_console *vc = opaque;

	if (q == KR_CONSOLE_RXQ)
		con_rx_resume(vc);
	else if (q == KR_CONSOLE_TXQ)
		con_tx(vc);
}

static void con_driver_ok(void *opaque)
{
	struct kr_virtio_console *vc = opaque;

	pthread_mutex_lock(&vc->rx_lock);
	vc->rx_live = true;
	pthread_mutex_unlock(&vc->rx_lock);
	con_rx_resume(vc);
	/* Linux reads the size only on a change: announce it (virtio_console.h). */
	if (kr_virtio_features(vc->vp) & (1ull << KR_CONSOLE_F_SIZE))
		kr_virtio_config_changed(vc->vp);
	con_tx(vc);		/* output queued before DRIVER_OK, kicked in vain */
}

static void con_reset(void *opaque)
{
	struct kr_virtio_console *vc = opaque;

	/* Pops already fail.  Staged input stays for the next driver. */
	pthread_mutex_lock(&vc->rx_lock);
	vc->rx_live = false;
	kr_chardev_want_input(vc->chr, false);
	pthread_mutex_unlock(&vc->rx_lock);
	pthread_mutex_lock(&vc->tx_lock);
	pthread_mutex_unlock(&vc->tx_lock);
}

/* struct virtio_console_config: cols, rows, max_nr_ports, emerg_wr (le). */
static void con_config_read(void *opaque, uint32_t offset, uint8_t *data, unsigned int size)
{
	struct kr_virtio_console *vc = opaque;
	uint8_t img[KR_CONSOLE_CONFIG_LEN] = { 0 };

	if (vc->ops.features & (1ull << KR_CONSOLE_F_SIZE)) {
		pthread_mutex_lock(&vc->cfg_lock);
		kr_put_le(&img[0], 2, vc->cols);
		kr_put_le(&img[2], 2, vc->rows);
		pthread_mutex_unlock(&vc->cfg_lock);
	}
	kr_put_le(&img[4], 4, 1);	/* one port (meaningful with MULTIPORT only) */
	/* The transport checked offset + size <= config_len. */
	memcpy(data, img + offset, size);
}

/* The terminal here may not be the size the guest saw before a restore. */
static void con_resume(void *opaque)
{
	struct kr_virtio_console *vc = opaque;
	uint16_t cols, rows;

	if (kr_chardev_winsize(vc->chr, &cols, &rows))
		kr_virtio_console_resize(vc, cols, rows);
}

/* ---- snapshots ---------------------------------------------------------- */

#define SNAP_VERSION	1

int kr_virtio_console_save(struct kr_virtio_console *vc, struct kr_sbuf *b)
{
	size_t start = b->len;
	int err;

	/* Passes pop and push under their lock: with both, no chain is in flight. */
	pthread_mutex_lock(&vc->rx_lock);
	pthread_mutex_lock(&vc->tx_lock);
	kr_sbuf_begin(b, SNAP_VERSION);
	kr_sbuf_bool(b, vc->ops.features & (1ull << KR_CONSOLE_F_SIZE));
	pthread_mutex_lock(&vc->cfg_lock);
	kr_sbuf_u16(b, vc->cols);
	kr_sbuf_u16(b, vc->rows);
	pthread_mutex_unlock(&vc->cfg_lock);
	/* Input already read from the chardev is the guest's, as if still in the kernel. */
	kr_sbuf_u16(b, vc->stage_len - vc->stage_off);
	kr_sbuf_bytes(b, vc->stage + vc->stage_off, vc->stage_len - vc->stage_off);
	err = kr_virtio_pci_save(vc->vp, b, NULL);
	pthread_mutex_unlock(&vc->tx_lock);
	pthread_mutex_unlock(&vc->rx_lock);
	if (err && !b->oom)
		b->len = start;
	return err;
}

int kr_virtio_console_load(struct kr_virtio_console *vc, struct kr_sget *g)
{
	uint8_t stage[RX_STAGE];
	uint16_t cols, rows;
	size_t staged;
	bool size;
	int err;

	if (kr_sget_begin(g, SNAP_VERSION))
		return -EPROTO;
	size = kr_sget_bool(g);
	cols = kr_sget_u16(g);
	rows = kr_sget_u16(g);
	staged = kr_sget_u16(g);
	if (!g->bad && staged > sizeof(stage))
		return kr_sget_fail(g, "%zu bytes of input staged, at most %zu", staged,
				    sizeof(stage));
	kr_sget_bytes(g, stage, staged);
	if (g->bad)
		return -EPROTO;
	/*
	 * The guest may have taken F_SIZE from a terminal that this side does
	 * not have (output to a file now): the device keeps offering it, with
	 * the size the guest saw.  Set before the transport loads: it checks
	 * the negotiated features against the offered ones.
	 */
	if (size)
		vc->ops.features |= 1ull << KR_CONSOLE_F_SIZE;
	err = kr_virtio_pci_load(vc->vp, g);
	if (err)
		return err;
	/* What the guest saw; con_resume() tells it this terminal's size. */
	if (size) {
		pthread_mutex_lock(&vc->cfg_lock);
		vc->cols = cols;
		vc->rows = rows;
		pthread_mutex_unlock(&vc->cfg_lock);
	}
	pthread_mutex_lock(&vc->rx_lock);
	memcpy(vc->stage, stage, staged);
	vc->stage_off = 0;
	vc->stage_len = staged;
	/* As con_driver_ok() leaves it; input is asked for when the queues are kicked. */
	vc->rx_live = (kr_virtio_status(vc->vp) & LIVE) == LIVE;
	pthread_mutex_unlock(&vc->rx_lock);
	return kr_sget_done(g);
}

/* ---- life cycle --------------------------------------------------------- */

void kr_virtio_console_resize(struct kr_virtio_console *vc, uint16_t cols, uint16_t rows)
{
	bool changed;

	pthread_mutex_lock(&vc->cfg_lock);
	changed = vc->cols != cols || vc->rows != rows;
	vc->cols = cols;
	vc->rows = rows;
	pthread_mutex_unlock(&vc->cfg_lock);
	/* A driver without F_SIZE would reread the configuration for nothing. */
	if (changed && (kr_virtio_features(vc->vp) & (1ull << KR_CONSOLE_F_SIZE)))
		kr_virtio_config_changed(vc->vp);
}

struct kr_virtio_console *kr_virtio_console_create(struct kr_pci *pci, int slot,
						   const struct kr_mem *mem,
						   struct kr_loop *loop, struct kr_chardev *chr)
{
	struct kr_virtio_console *vc;
	int err;

	if (!chr || !loop) {
		errno = EINVAL;
		return NULL;
	}
	vc = calloc(1, sizeof(*vc));
	if (!vc)
		return NULL;
	pthread_mutex_init(&vc->cfg_lock, NULL);
	pthread_mutex_init(&vc->rx_lock, NULL);
	pthread_mutex_init(&vc->tx_lock, NULL);
	vc->chr = chr;
	vc->loop = loop;
	vc->ops = (struct kr_virtio_ops){
		.name = "virtio-console",
		.device_id = KR_VIRTIO_ID_CONSOLE,
		.class_code = CLASS_COMM_OTHER,
		.num_queues = 2,
		.queue_max = KR_CONSOLE_QUEUE_SIZE,
		.config_len = KR_CONSOLE_CONFIG_LEN,
		.config_read = con_config_read,
		.queue_notify = con_notify,
		.driver_ok = con_driver_ok,
		.reset = con_reset,
		.resume = con_resume,
	};
	if (kr_chardev_winsize(chr, &vc->cols, &vc->rows))
		vc->ops.features |= 1ull << KR_CONSOLE_F_SIZE;
	vc->work_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vc->work_fd < 0)
		goto fail;
	err = kr_loop_add(loop, vc->work_fd, EPOLLIN, con_work, vc);
	if (err) {
		close(vc->work_fd);
		vc->work_fd = -1;
		errno = -err;
		goto fail;
	}
	vc->vp = kr_virtio_pci_create(pci, slot, mem, &vc->ops, vc);
	if (!vc->vp)
		goto fail;
	kr_chardev_attach(chr, con_rx, vc);
	vc->attached = true;
	return vc;
fail:
	err = errno;
	kr_virtio_console_destroy(vc);
	errno = err;
	return NULL;
}

void kr_virtio_console_destroy(struct kr_virtio_console *vc)
{
	if (!vc)
		return;
	if (vc->attached)
		kr_chardev_attach(vc->chr, NULL, NULL);	/* waits for a receive pass */
	if (vc->work_fd >= 0) {
		kr_loop_del(vc->loop, vc->work_fd);	/* waits for a transmit pass */
		close(vc->work_fd);
	}
	kr_virtio_pci_destroy(vc->vp);
	pthread_mutex_destroy(&vc->cfg_lock);
	pthread_mutex_destroy(&vc->rx_lock);
	pthread_mutex_destroy(&vc->tx_lock);
	free(vc);
}

struct kr_virtio_pci *kr_virtio_console_transport(struct kr_virtio_console *vc)
{
	return vc->vp;
}

void kr_virtio_console_get_stats(struct kr_virtio_console *vc,
				 struct kr_virtio_console_stats *st)
{
	pthread_mutex_lock(&vc->tx_lock);
	st->tx_bytes = vc->tx_bytes;
	st->tx_truncated = vc->tx_truncated;
	pthread_mutex_unlock(&vc->tx_lock);
	pthread_mutex_lock(&vc->rx_lock);
	st->rx_bytes = vc->rx_bytes;
	pthread_mutex_unlock(&vc->rx_lock);
}
