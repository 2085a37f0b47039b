// SPDX-License-Identifier: GPL-2.0
/*
 * virtio network device (virtio_net.h).
 *
 * Threads: all frame work runs on the I/O thread (the loop's): vCPUs only
 * say which queue was notified (an atomic bit and a write to the kick
 * eventfd), so that a guest sending a burst never keeps its vCPU in the
 * VMM, and one thread owns the backend fd with no ordering question
 * between senders.  One device's traffic is a few syscalls and copies per
 * frame; a thread of its own would only pay off with several queues.
 * Each pass handles at most NET_BUDGET frames before letting the loop
 * serve others (the TX side kicks itself to come back, RX is brought back
 * by its fd staying readable).
 *
 * Receive: a frame is read from the backend into n->frame (a bounce
 * buffer: its size is only known once read), then copied into the
 * guest's chains.  While the guest has no buffer for it the frame stays
 * there and the fd is not watched for reading, so the frames behind it
 * wait in the kernel (the tap's queue, the socket's buffer) and nothing
 * grows here; the guest's next RX notification resumes.  With MRG_RXBUF
 * a frame fills as many chains as it takes (num_buffers in the header):
 * chains popped for a frame that does not fit yet are held in a small
 * ring (the stash) until enough are there; a frame that would need more
 * than NET_RX_STASH chains is dropped.  Without MRG_RXBUF one chain takes
 * one frame, or the frame is dropped and the chain kept for the next.
 * The stash is always the last chains popped from the queue, which is what
 * a snapshot needs (it rewinds the ring past them): a chain that is no
 * receive buffer, popped after stashed ones, goes back empty together
 * with them.
 *
 * Transmit: each chain is the header and the frame; it goes to the
 * backend with one writev(), the header stripped when the backend has
 * none.  A full backend (EAGAIN) keeps the chain (n->tx), stops popping
 * and watches the fd for writing; any other error drops that frame and
 * counts it, so the guest's queue never stalls on a broken backend.
 *
 * Locking: n->lock covers everything below it in struct kr_virtio_net: the
 * I/O thread holds it for a whole pass, reset (a vCPU, or the main thread
 * on a machine reset) takes it to wait for a pass in progress and empty
 * the device, the stats and config readers take it briefly.  It is held
 * across kr_virtio_pop/push/notify (device lock -> transport locks, the
 * order virtio_pci.c allows).  Only the I/O thread changes the fd's watch
 * (inside our callbacks, where the loop takes no lock): a vCPU that needs
 * a change writes the kick eventfd, as calling into the loop with n->lock
 * held would deadlock against a callback waiting for n->lock.
 *
 * Snapshots: while the transport is frozen (virtio_pci.h) no frame work is
 * done at all, not even with chains already popped, and the fd is not
 * watched: guest memory stays as saved.  Kicks that arrive meanwhile are
 * dropped; kr_virtio_pci_kick_all() after unfreezing brings both queues
 * back.  A save holds n->lock and says which chains the device holds: the
 * stash's (RX) and the one waiting for the backend (TX).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net_tap.h"
#include "iov.h"
#include "virtio_net.h"

#define NET_NQ		2
#define NET_MAX_IOV	64	/* buffers per chain; Linux uses at most MAX_SKB_FRAGS + 2 */
#define NET_RX_STASH	64	/* chains one frame may span (Linux: <= 45 for 64 KiB) */
#define NET_BUDGET	256	/* frames (or chains) per pass */
#define FRAME_BUF	(KR_NET_HDR_LEN + KR_NET_FRAME_MAX + 1)	/* +1: sees oversize */

#define KICK_RX		1u
#define KICK_TX		2u
#define KICK_SYNC	4u	/* only look at the fd's watch again */

#define F(bit)		(1ull << KR_VIRTIO_NET_F_##bit)
#define OFFLOADS	(F(CSUM) | F(GUEST_CSUM) | F(HOST_TSO4) | F(HOST_TSO6) | F(HOST_ECN) | \
			 F(GUEST_TSO4) | F(GUEST_TSO6) | F(GUEST_ECN))

struct chain {
	struct kr_vq_elem e;
	struct iovec iov[NET_MAX_IOV];
};

struct kr_virtio_net {
	struct kr_virtio_pci *vp;
	struct kr_virtio_ops ops;	/* per device: the features depend on the backend */
	struct kr_loop *loop;
	int fd;				/* the backend's; not ours to close */
	bool vnet_hdr, tap;
	int kick;			/* eventfd: notifications for the I/O thread */
	bool kick_watched;
	unsigned int kicks;		/* atomic: KICK_* pending */

	pthread_mutex_t lock;
	uint8_t config[KR_NET_CFG_LEN];
	uint64_t features;		/* negotiated, as of the pass */
	bool dead;			/* the backend failed: no more reads */
	uint32_t events;		/* what the fd is watched for */
	bool watched;			/* the fd is on the loop */
	bool frozen;			/* the transport was, at the pass's start */
	bool link_up;			/* the link as kr_virtio_net_set_link() wants it */
	/* Receive. */
	uint8_t *frame;			/* header + frame */
	size_t frame_len;		/* bytes in frame (header included), 0: none */
	bool rx_wait;			/* waiting for receive buffers: not reading */
	struct chain *stash;		/* ring of NET_RX_STASH chains */
	unsigned int stash_head, stash_n;
	/* Transmit. */
	struct chain tx;
	bool tx_held;			/* tx is popped and waits for room in the backend */
	struct kr_net_stats stats;
};

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void self_kick(struct kr_virtio_net *n, unsigned int what)
{
	uint64_t one = 1;

	__atomic_or_fetch(&n->kicks, what, __ATOMIC_RELEASE);
	if (write(n->kick, &one, sizeof(one)) < 0) {
		/* the counter is already non-zero: the loop will look */
	}
}

/* What the guest takes from the tap, from what it negotiated. */
static unsigned int tap_offloads(uint64_t f)
{
	unsigned int t = 0;

	if (!(f & F(GUEST_CSUM)))
		return 0;	/* the tap wants CSUM under any TSO */
	t = TUN_F_CSUM;
	if (f & F(GUEST_TSO4))
		t |= TUN_F_TSO4;
	if (f & F(GUEST_TSO6))
		t |= TUN_F_TSO6;
	if ((f & F(GUEST_ECN)) && (t & (TUN_F_TSO4 | TUN_F_TSO6)))
		t |= TUN_F_TSO_ECN;
	return t;
}

/* ---- the fd's watch (I/O thread, n->lock held) ------------------------------ */

static void watch_update(struct kr_virtio_net *n)
{
	uint32_t want = 0;

	if (!n->watched)
		return;
	if (!n->rx_wait)
		want |= EPOLLIN;
	if (n->tx_held && !n->frozen)
		want |= EPOLLOUT;
	if (want != n->events && !kr_loop_mod(n->loop, n->fd, want))
		n->events = want;
}

/* The backend is gone (tap deleted, error): say so once, link down, stop watching. */
static void backend_failed(struct kr_virtio_net *n, int err)
{
	if (n->dead)
		return;
	n->dead = true;
	fprintf(stderr, "khv-run: virtio-net: the network backend failed (%s); link down\n",
		err ? strerror(err) : "closed");
	if (n->watched)
		kr_loop_del(n->loop, n->fd);
	n->watched = false;
	put_le16(&n->config[KR_NET_CFG_STATUS], 0);
	kr_virtio_config_changed(n->vp);
}

/* ---- receive ---------------------------------------------------------------- */

static struct chain *stash_at(struct kr_virtio_net *n, unsigned int i)
{
	return &n->stash[(n->stash_head + i) % NET_RX_STASH];
}

static void push_chains(struct kr_virtio_net *n, unsigned int k, const uint32_t *len);

/*
 * Pop one more receive chain into the stash: 1; 0 when there is none (or
 * the queue is broken, or a run of unusable chains took the budget); -1
 * when an unusable chain came after stashed ones, which went back with it,
 * empty: the frame starts over.  A chain with readable buffers or no room
 * for the header is not a receive buffer: it goes back empty and counts
 * against the guest.  Giving it back alone, with chains popped before it
 * still stashed, would leave the stash no longer the last chains popped
 * (see the top); Linux posts no such chain, and empty buffers are what it
 * drops without harm.
 */
static int stash_pop(struct kr_virtio_net *n, unsigned int *pushed)
{
	static const uint32_t empty[NET_RX_STASH];

	for (unsigned int tries = 0; tries < NET_BUDGET; tries++) {
		struct chain *c = stash_at(n, n->stash_n);

		if (kr_virtio_pop(n->vp, KR_NET_RXQ, &c->e) <= 0)
			return 0;
		if (!c->e.n_out && c->e.in_bytes >= KR_NET_HDR_LEN) {
			n->stash_n++;
			return 1;
		}
		n->stats.bad_buffers++;
		if (n->stash_n) {
			/* stash_n < NET_RX_STASH: a full stash pops nothing (rx_deliver()). */
			unsigned int k = n->stash_n + 1;

			push_chains(n, k, empty);
			n->stash_head = (n->stash_head + k) % NET_RX_STASH;
			n->stash_n = 0;
			*pushed += k;
			return -1;
		}
		kr_virtio_push(n->vp, KR_NET_RXQ, &c->e, 0);
		(*pushed)++;
	}
	return 0;
}

/*
 * Whether the guest may see this header (5.1.6.4): checksum flags only
 * with GUEST_CSUM (DATA_VALID is just cleared: the frame is good anyway),
 * a GSO type only with its GUEST_ feature.  The tap follows TUNSETOFFLOAD,
 * so this only catches a change of mind (a reset) or a strange backend.
 */
static bool rx_header_ok(struct kr_virtio_net *n)
{
	uint8_t *h = n->frame;
	uint8_t gso = h[KR_NET_HDR_GSO_TYPE];
	uint64_t f = n->features;

	if (!n->vnet_hdr)
		return true;		/* all zero */
	h[KR_NET_HDR_FLAGS] &= KR_NET_HDR_F_NEEDS_CSUM | KR_NET_HDR_F_DATA_VALID;
	if (!(f & F(GUEST_CSUM))) {
		if (h[KR_NET_HDR_FLAGS] & KR_NET_HDR_F_NEEDS_CSUM)
			return false;
		h[KR_NET_HDR_FLAGS] = 0;
	}
	if ((gso & KR_NET_GSO_ECN) && !(f & F(GUEST_ECN)))
		return false;
	switch (gso & ~KR_NET_GSO_ECN) {
	case KR_NET_GSO_NONE:
		return !(gso & KR_NET_GSO_ECN);
	case KR_NET_GSO_TCPV4:
		return f & F(GUEST_TSO4);
	case KR_NET_GSO_TCPV6:
		return f & F(GUEST_TSO6);
	default:
		return false;		/* UFO (never offered), unknown */
	}
}

/* Give k chains back together: the driver must see all of a frame's buffers at once. */
static void push_chains(struct kr_virtio_net *n, unsigned int k, const uint32_t *len)
{
#ifdef KR_VIRTIO_HAVE_PUSH_N
	const struct kr_vq_elem *e[NET_RX_STASH];

	for (unsigned int i = 0; i < k; i++)
		e[i] = &stash_at(n, i)->e;
	kr_virtio_push_n(n->vp, KR_NET_RXQ, e, len, k);
#else
	/*
	 * One used->idx update per chain: a driver polling at that moment can
	 * see the first buffer of a merged frame before the rest (Linux then
	 * drops the frame: "rx error: N buffers out of M missing").  Needs
	 * kr_virtio_push_n() from the transport.
	 */
	for (unsigned int i = 0; i < k; i++)
		kr_virtio_push(n->vp, KR_NET_RXQ, &stash_at(n, i)->e, len[i]);
#endif
}

/* Copy the pending frame into the first k chains of the stash; the length each took. */
static void rx_copy(struct kr_virtio_net *n, unsigned int k, uint32_t *len)
{
	const uint8_t *src = n->frame;
	size_t left = n->frame_len;

	for (unsigned int i = 0; i < k; i++) {
		struct chain *c = stash_at(n, i);

		len[i] = kr_iov_copy(&c->iov[c->e.n_out], c->e.n_in, 0, (void *)src, left, true);
		src += len[i];
		left -= len[i];
	}
}

/* The pending frame to the guest: 1 given, 0 wait for buffers, -1 dropped. */
static int rx_deliver(struct kr_virtio_net *n, unsigned int *pushed)
{
	bool mrg = n->features & F(MRG_RXBUF);
	uint32_t len[NET_RX_STASH];
	uint64_t have = 0;
	unsigned int k = 0, restarts = 0;

	if (!rx_header_ok(n)) {
		n->stats.rx_dropped++;
		return -1;
	}
	for (;;) {
		if (k == n->stash_n) {
			int r = stash_pop(n, pushed);

			/* A guest that keeps mixing in bad chains waits for its next kick. */
			if (!r || (r < 0 && ++restarts > NET_BUDGET))
				return 0;
			if (r < 0) {
				k = 0;
				have = 0;
				continue;
			}
		}
		have += stash_at(n, k)->e.in_bytes;
		k++;
		if (have >= n->frame_len)
			break;
		/* Too small: without MRG_RXBUF this chain waits for a smaller frame. */
		if (!mrg || k == NET_RX_STASH) {
			n->stats.rx_dropped++;
			return -1;
		}
	}
	put_le16(n->frame + KR_NET_HDR_NUM_BUFFERS, k);
	rx_copy(n, k, len);
	push_chains(n, k, len);
	n->stash_head = (n->stash_head + k) % NET_RX_STASH;
	n->stash_n -= k;
	*pushed += k;
	n->stats.rx_packets++;
	n->stats.rx_bytes += n->frame_len - KR_NET_HDR_LEN;
	return 1;
}

/* Read one datagram: 1 a frame is pending, 2 it was unusable, 0 none, -1 backend failed. */
static int rx_read(struct kr_virtio_net *n)
{
	size_t hdr = n->vnet_hdr ? KR_NET_HDR_LEN : 0;
	uint8_t *p = n->frame + (KR_NET_HDR_LEN - hdr);
	ssize_t r;

	do
		r = read(n->fd, p, FRAME_BUF - (KR_NET_HDR_LEN - hdr));
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (r <= 0) {
		backend_failed(n, r < 0 ? errno : 0);
		return -1;
	}
	if ((size_t)r < hdr + KR_NET_FRAME_MIN || (size_t)r > hdr + KR_NET_FRAME_MAX) {
		n->stats.rx_dropped++;
		return 2;
	}
	if (!hdr)
		memset(n->frame, 0, KR_NET_HDR_LEN);
	n->frame_len = KR_NET_HDR_LEN + (r - hdr);
	return 1;
}

/* Frames to the guest while there are frames and buffers; true when the backend had no more. */
static bool rx_pass(struct kr_virtio_net *n)
{
	unsigned int pushed = 0;
	bool drained = false;

	for (unsigned int i = 0; i < NET_BUDGET && !n->dead; i++) {
		if (!n->frame_len) {
			int r = rx_read(n);

			drained = r <= 0;
			if (r <= 0)
				break;
			if (r == 2)
				continue;
		}
		if (!rx_deliver(n, &pushed)) {
			n->rx_wait = true;
			break;
		}
		n->frame_len = 0;
	}
	if (pushed)
		kr_virtio_notify(n->vp, KR_NET_RXQ);
	return drained;
}

/* ---- transmit --------------------------------------------------------------- */

/* Send chain c to the backend: 0 done (sent, or dropped and counted), -EAGAIN full. */
static int tx_send(struct kr_virtio_net *n, struct chain *c)
{
	size_t skip = n->vnet_hdr ? 0 : KR_NET_HDR_LEN;
	uint32_t frame = c->e.out_bytes - KR_NET_HDR_LEN;
	struct iovec iov[NET_MAX_IOV];
	unsigned int k = 0;

	/* Writable buffers in a transmit chain carry nothing: ignored. */
	if (c->e.out_bytes < KR_NET_HDR_LEN || frame < KR_NET_FRAME_MIN ||
	    frame > KR_NET_FRAME_MAX) {
		n->stats.tx_dropped++;
		return 0;
	}
	k = kr_iov_slice(c->iov, c->e.n_out, skip, UINT64_MAX, iov);
	for (;;) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = k };
		/* A socket (libslirp's) gets MSG_NOSIGNAL: a dead peer is no SIGPIPE. */
		ssize_t r = n->tap ? writev(n->fd, iov, k) : sendmsg(n->fd, &m, MSG_NOSIGNAL);

		if (r >= 0) {
			n->stats.tx_packets++;
			n->stats.tx_bytes += frame;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -EAGAIN;
		/* Tap down (EIO), a GSO header the kernel refuses (EINVAL), peer gone. */
		n->stats.tx_dropped++;
		return 0;
	}
}

static void tx_pass(struct kr_virtio_net *n)
{
	unsigned int done = 0;

	if (n->tx_held) {
		if (tx_send(n, &n->tx))
			return;
		kr_virtio_push(n->vp, KR_NET_TXQ, &n->tx.e, 0);
		n->tx_held = false;
		done++;
	}
	while (done < NET_BUDGET && kr_virtio_pop(n->vp, KR_NET_TXQ, &n->tx.e) > 0) {
		if (tx_send(n, &n->tx)) {
			n->tx_held = true;
			break;
		}
		kr_virtio_push(n->vp, KR_NET_TXQ, &n->tx.e, 0);
		done++;
	}
	/* Stopped by the budget, not by an empty queue: the guest may not notify again. */
	if (done == NET_BUDGET)
		self_kick(n, KICK_TX);
	if (done)
		kr_virtio_notify(n->vp, KR_NET_TXQ);
}

/* ---- I/O thread callbacks --------------------------------------------------- */

/* Frozen for a snapshot: no frame work and no reading until kicked (see the top). */
static bool frozen(struct kr_virtio_net *n)
{
	n->frozen = kr_virtio_pci_frozen(n->vp);
	if (n->frozen)
		n->rx_wait = true;
	return n->frozen;
}

static void on_kick(void *opaque, int fd, uint32_t events)
{
	struct kr_virtio_net *n = opaque;
	unsigned int k;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* spurious: the bits say what to do */
	}
	k = __atomic_exchange_n(&n->kicks, 0, __ATOMIC_ACQUIRE);
	pthread_mutex_lock(&n->lock);
	n->features = kr_virtio_features(n->vp);
	if (!frozen(n) && (k & KICK_TX))
		tx_pass(n);
	if (!n->frozen && (k & KICK_RX)) {
		n->rx_wait = false;
		rx_pass(n);
	}
	watch_update(n);
	pthread_mutex_unlock(&n->lock);
}

static void on_backend(void *opaque, int fd, uint32_t events)
{
	struct kr_virtio_net *n = opaque;
	bool drained = false;

	(void)fd;
	pthread_mutex_lock(&n->lock);
	n->features = kr_virtio_features(n->vp);
	if (!frozen(n) && (events & EPOLLOUT) && n->tx_held)
		tx_pass(n);
	if ((events & EPOLLIN) && !n->rx_wait)
		drained = rx_pass(n);
	/*
	 * An error or hangup is reported even unwatched and stays (a tap
	 * whose interface went away, a socket shut down): once what could
	 * be read was, or when we are not reading, the backend is done with,
	 * or the loop would spin on it.
	 */
	if ((events & (EPOLLERR | EPOLLHUP)) && (drained || n->rx_wait || !(events & EPOLLIN)))
		backend_failed(n, events & EPOLLERR ? EIO : 0);
	watch_update(n);
	pthread_mutex_unlock(&n->lock);
}

/* ---- transport callbacks (vCPU threads) ------------------------------------- */

static void net_notify(void *opaque, unsigned int q)
{
	struct kr_virtio_net *n = opaque;

	if (q == KR_NET_RXQ)
		self_kick(n, KICK_RX);
	else if (q == KR_NET_TXQ)
		self_kick(n, KICK_TX);
}

static void net_config_read(void *opaque, uint32_t offset, uint8_t *data, unsigned int size)
{
	struct kr_virtio_net *n = opaque;

	pthread_mutex_lock(&n->lock);
	memcpy(data, n->config + offset, size);
	pthread_mutex_unlock(&n->lock);
}

static void net_driver_ok(void *opaque)
{
	struct kr_virtio_net *n = opaque;

	if (n->tap && n->vnet_hdr)
		kr_tap_set_offload(n->fd, tap_offloads(kr_virtio_features(n->vp)));
	/* Frames may be waiting since before: let the I/O thread look. */
	self_kick(n, KICK_RX | KICK_TX);
}

static void net_reset(void *opaque)
{
	struct kr_virtio_net *n = opaque;

	/* Pops already fail and pushes of old chains are dropped: forget them. */
	pthread_mutex_lock(&n->lock);
	n->stash_head = n->stash_n = 0;
	if (n->tx_held)
		n->stats.tx_dropped++;
	n->tx_held = false;
	if (n->frame_len)
		n->stats.rx_dropped++;
	n->frame_len = 0;
	n->rx_wait = true;
	n->features = 0;
	pthread_mutex_unlock(&n->lock);
	if (n->tap && n->vnet_hdr)
		kr_tap_set_offload(n->fd, 0);
	self_kick(n, KICK_SYNC);
}

/* The link as wanted here (a new backend after a restore) against what the guest saw. */
static void net_resume(void *opaque)
{
	struct kr_virtio_net *n = opaque;
	uint16_t want;
	bool changed;

	pthread_mutex_lock(&n->lock);
	want = n->link_up && !n->dead ? KR_NET_S_LINK_UP : 0;
	changed = kr_get_le(&n->config[KR_NET_CFG_STATUS], 2) != want;
	put_le16(&n->config[KR_NET_CFG_STATUS], want);
	pthread_mutex_unlock(&n->lock);
	if (changed)
		kr_virtio_config_changed(n->vp);
}

/* ---- snapshots -------------------------------------------------------------- */

#define SNAP_VERSION	1

int kr_virtio_net_save(struct kr_virtio_net *n, struct kr_sbuf *b)
{
	uint16_t held[NET_NQ];
	size_t start = b->len;
	int err;

	/*
	 * The pending received frame (n->frame) is not saved: the restored
	 * device starts without it, a frame lost on the way as any network
	 * may lose one (TCP retransmits it).  Its chains are another matter:
	 * the guest's buffers, given back only by a device, so they are held.
	 */
	pthread_mutex_lock(&n->lock);
	held[KR_NET_RXQ] = n->stash_n;
	held[KR_NET_TXQ] = n->tx_held;
	kr_sbuf_begin(b, SNAP_VERSION);
	kr_sbuf_bytes(b, &n->config[KR_NET_CFG_MAC], 6);
	kr_sbuf_u16(b, kr_get_le(&n->config[KR_NET_CFG_STATUS], 2));
	err = kr_virtio_pci_save(n->vp, b, held);
	pthread_mutex_unlock(&n->lock);
	if (err && !b->oom)
		b->len = start;
	return err;
}

int kr_virtio_net_load(struct kr_virtio_net *n, struct kr_sget *g)
{
	uint8_t mac[6], *here = &n->config[KR_NET_CFG_MAC];
	uint16_t status;
	int err;

	if (kr_sget_begin(g, SNAP_VERSION))
		return -EPROTO;
	kr_sget_bytes(g, mac, sizeof(mac));
	status = kr_sget_u16(g);
	if (g->bad)
		return -EPROTO;
	/* The guest took its address at probe: it must stay the one here. */
	if (memcmp(mac, here, sizeof(mac)))
		return kr_sget_fail(g, "MAC %02x:%02x:%02x:%02x:%02x:%02x in the snapshot, "
				    "%02x:%02x:%02x:%02x:%02x:%02x here", mac[0], mac[1], mac[2],
				    mac[3], mac[4], mac[5], here[0], here[1], here[2], here[3],
				    here[4], here[5]);
	if (status & ~KR_NET_S_LINK_UP)
		return kr_sget_fail(g, "link status 0x%x", status);
	err = kr_virtio_pci_load(n->vp, g);
	if (err)
		return err;
	/* What the guest last saw; net_resume() tells it about this side's link. */
	pthread_mutex_lock(&n->lock);
	put_le16(&n->config[KR_NET_CFG_STATUS], status);
	pthread_mutex_unlock(&n->lock);
	/* As net_driver_ok() would have: the tap hands the guest what it negotiated. */
	if (n->tap && n->vnet_hdr && (kr_virtio_status(n->vp) & KR_VIRTIO_STATUS_DRIVER_OK) &&
	    (kr_virtio_status(n->vp) & KR_VIRTIO_STATUS_FEATURES_OK))
		kr_tap_set_offload(n->fd, tap_offloads(kr_virtio_features(n->vp)));
	return kr_sget_done(g);
}

/* ---- life cycle ------------------------------------------------------------- */

struct kr_virtio_net *kr_virtio_net_create(struct kr_pci *pci, int slot,
					   const struct kr_mem *mem, struct kr_loop *loop,
					   const struct kr_net_backend *be)
{
	struct kr_virtio_net *n;
	int err;

	if (!loop || !be || be->fd < 0) {
		errno = EINVAL;
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	pthread_mutex_init(&n->lock, NULL);
	n->loop = loop;
	n->fd = be->fd;
	n->vnet_hdr = be->vnet_hdr;
	n->tap = be->tap;
	n->rx_wait = true;
	n->link_up = true;
	memcpy(&n->config[KR_NET_CFG_MAC], be->mac, 6);
	put_le16(&n->config[KR_NET_CFG_STATUS], KR_NET_S_LINK_UP);
	put_le16(&n->config[KR_NET_CFG_MAX_PAIRS], 1);
	n->tx.e.iov = n->tx.iov;
	n->tx.e.cap = NET_MAX_IOV;
	n->frame = malloc(FRAME_BUF);
	n->stash = calloc(NET_RX_STASH, sizeof(*n->stash));
	n->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!n->frame || !n->stash || n->kick < 0)
		goto fail;
	for (unsigned int i = 0; i < NET_RX_STASH; i++) {
		n->stash[i].e.iov = n->stash[i].iov;
		n->stash[i].e.cap = NET_MAX_IOV;
	}
	n->ops = (struct kr_virtio_ops){
		.name = "virtio-net",
		.device_id = KR_VIRTIO_ID_NET,
		.class_code = 0x020000,		/* network, Ethernet */
		.features = F(MAC) | F(STATUS) | F(MRG_RXBUF) | (be->vnet_hdr ? OFFLOADS : 0),
		.num_queues = NET_NQ,
		.queue_max = KR_NET_QUEUE_SIZE,
		.config_len = KR_NET_CFG_LEN,
		.config_read = net_config_read,
		.queue_notify = net_notify,
		.driver_ok = net_driver_ok,
		.reset = net_reset,
		.resume = net_resume,
	};
	n->vp = kr_virtio_pci_create(pci, slot, mem, &n->ops, n);
	if (!n->vp)
		goto fail;
	/* Last: from here on the I/O thread may call us. */
	err = kr_loop_add(loop, n->kick, EPOLLIN, on_kick, n);
	n->kick_watched = !err;
	if (!err) {
		err = kr_loop_add(loop, n->fd, 0, on_backend, n);
		n->watched = !err;
	}
	if (err) {
		errno = -err;
		goto fail;
	}
	return n;
fail:
	err = errno;
	kr_virtio_net_destroy(n);
	errno = err;
	return NULL;
}

void kr_virtio_net_destroy(struct kr_virtio_net *n)
{
	bool watched;

	if (!n)
		return;
	/* First: after these no callback of ours runs or will. */
	if (n->kick_watched)
		kr_loop_del(n->loop, n->kick);
	pthread_mutex_lock(&n->lock);
	watched = n->watched;		/* backend_failed() may have taken it off */
	pthread_mutex_unlock(&n->lock);
	if (watched)
		kr_loop_del(n->loop, n->fd);
	if (n->vp)
		kr_virtio_pci_destroy(n->vp);
	if (n->tap && n->vnet_hdr)
		kr_tap_set_offload(n->fd, 0);	/* the next guest starts plain */
	if (n->kick >= 0)
		close(n->kick);
	free(n->stash);
	free(n->frame);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

struct kr_virtio_pci *kr_virtio_net_transport(struct kr_virtio_net *n)
{
	return n->vp;
}

void kr_virtio_net_stats(struct kr_virtio_net *n, struct kr_net_stats *st)
{
	pthread_mutex_lock(&n->lock);
	*st = n->stats;
	pthread_mutex_unlock(&n->lock);
}

void kr_virtio_net_set_link(struct kr_virtio_net *n, bool up)
{
	pthread_mutex_lock(&n->lock);
	n->link_up = up;
	put_le16(&n->config[KR_NET_CFG_STATUS], up && !n->dead ? KR_NET_S_LINK_UP : 0);
	pthread_mutex_unlock(&n->lock);
	kr_virtio_config_changed(n->vp);
}

/*
 * After a migration (or a restore) the guest's MAC is behind another port
 * of whatever switch the backend is on: a RARP from it, broadcast, tells
 * the switch (a Linux bridge learns from the source address) before the
 * guest says anything itself, as QEMU's announce does.  Best effort: a
 * full or dead backend just misses it.
 */
void kr_virtio_net_announce(struct kr_virtio_net *n)
{
	uint8_t f[KR_NET_HDR_LEN + 60] = { 0 }, *e = f + KR_NET_HDR_LEN, *a = e + 14;
	size_t skip = n->vnet_hdr ? 0 : KR_NET_HDR_LEN;
	struct iovec v = { f + skip, sizeof(f) - skip };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
	ssize_t r;

	pthread_mutex_lock(&n->lock);
	memset(e, 0xff, 6);					/* to everyone */
	memcpy(e + 6, n->config + KR_NET_CFG_MAC, 6);		/* from the guest */
	e[12] = 0x80;						/* RARP */
	e[13] = 0x35;
	a[1] = 1;						/* Ethernet */
	a[2] = 0x08;						/* IPv4 */
	a[4] = 6;
	a[5] = 4;
	a[7] = 3;						/* reverse request */
	memcpy(a + 8, n->config + KR_NET_CFG_MAC, 6);		/* sender */
	memcpy(a + 18, n->config + KR_NET_CFG_MAC, 6);		/* target */
	if (!n->dead) {
		r = n->tap ? writev(n->fd, &v, 1) : sendmsg(n->fd, &m, MSG_NOSIGNAL);
		if (r >= 0)
			n->stats.tx_packets++;
	}
	pthread_mutex_unlock(&n->lock);
}
