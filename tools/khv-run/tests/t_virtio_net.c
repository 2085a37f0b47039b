// SPDX-License-Identifier: GPL-2.0
/*
 * The network device (virtio_net.c) end to end: the test driver (vdrv.h)
 * plays Linux's virtio_net, a socketpair(AF_UNIX, SOCK_DGRAM) plays the
 * tap (one frame per datagram; with vnet_hdr each datagram starts with
 * the 12-byte header, as on a tap with IFF_VNET_HDR).  The I/O loop runs
 * on the test's own thread, a round at a time (pump), so that what the
 * device did is known when a check looks; one test runs it on a thread
 * of its own against a guest that keeps going.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "t.h"
#include "vdrv.h"
#include "../virtio_net.h"

#define SLOT		9
#define BARADDR		0xc8000000ull
#define QSIZE		256
#define RXRING		0x10000ull
#define TXRING		0x20000ull
#define TXIND		0x24000ull	/* indirect tables, 1 KiB each */
#define TXBUF		0x30000ull
#define TXBUF_END	0xf0000ull
#define RXBUF		0x100000ull	/* RX descriptor i's buffer at RXBUF + i * 4 KiB */
#define RXSTRIDE	0x1000ull
#define VEC_CFG		0
#define VEC_RX		1
#define VEC_TX		2

#define RXQ		KR_NET_RXQ
#define TXQ		KR_NET_TXQ
#define HDR		KR_NET_HDR_LEN
#define FEAT(b)		(1ull << KR_VIRTIO_NET_F_##b)
#define VER1		(1ull << KR_VIRTIO_F_VERSION_1)

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct nt {
	struct tmach m;
	struct kr_loop *loop;
	int stopfd;
	int peer;			/* the test's end: "the tap" */
	struct kr_net_backend be;
	struct kr_virtio_net *n;
	struct vdrv d;
	uint16_t rx_desc, tx_desc;	/* next free descriptor */
	uint64_t tx_data;		/* next free TX buffer byte */
	unsigned int tx_ind;
};

static void on_stop(void *opaque, int fd, uint32_t events)
{
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* nothing */
	}
	kr_loop_stop(opaque);
}

/* One round of the loop: every fd ready now gets its callback, then back here. */
static void pump(struct nt *t)
{
	uint64_t one = 1;

	if (write(t->stopfd, &one, sizeof(one)) != sizeof(one))
		return;
	kr_loop_run(t->loop);
}

/* Rounds until what the device does has settled (its work chains a few deep at most). */
static void settle(struct nt *t)
{
	for (int i = 0; i < 6; i++)
		pump(t);
}

static void nt_start(struct nt *t, uint64_t features)
{
	vd_negotiate(&t->d, features);
	vd_msix_enable(&t->d);
	vd_common_write(&t->d, KR_VIRTIO_COMMON_MSIX, 2, VEC_CFG);
	vd_setup_queue(&t->d, RXQ, QSIZE, RXRING, VEC_RX);
	vd_setup_queue(&t->d, TXQ, QSIZE, TXRING, VEC_TX);
	vd_driver_ok(&t->d);
	t->rx_desc = t->tx_desc = 0;
	t->tx_data = TXBUF;
	settle(t);
	t->m.n_msi = 0;
}

/* A device over a socketpair, the driver through FEATURES_OK and DRIVER_OK. */
static void nt_up(struct nt *t, bool vnet_hdr, uint64_t features)
{
	int sv[2];

	memset(t, 0, sizeof(*t));
	tm_init(&t->m);
	t->loop = kr_loop_new();
	t->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!t->loop || t->stopfd < 0 || kr_loop_add(t->loop, t->stopfd, EPOLLIN, on_stop, t->loop))
		abort();
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		abort();
	t->be.fd = sv[0];
	t->peer = sv[1];
	t->be.vnet_hdr = vnet_hdr;
	memcpy(t->be.mac, guest_mac, 6);
	t->n = kr_virtio_net_create(t->m.pci, SLOT, &t->m.mem, t->loop, &t->be);
	if (!t->n || vd_probe(&t->d, &t->m, SLOT, BARADDR))
		abort();
	nt_start(t, features);
}

static void nt_down(struct nt *t)
{
	kr_virtio_net_destroy(t->n);
	close(t->be.fd);
	close(t->peer);
	kr_loop_del(t->loop, t->stopfd);
	close(t->stopfd);
	kr_loop_free(t->loop);
	tm_fini(&t->m);
}

static struct kr_net_stats stats(struct nt *t)
{
	struct kr_net_stats s;

	kr_virtio_net_stats(t->n, &s);
	return s;
}

static unsigned int msis(struct nt *t, unsigned int vec)
{
	unsigned int c = 0;

	for (unsigned int i = 0; i < t->m.n_msi; i++)
		c += t->m.msi[i].data == VD_MSI_DATA(vec);
	return c;
}

/* An Ethernet frame to the guest's MAC, local experimental EtherType, a pattern. */
static void make_frame(uint8_t *f, size_t len, unsigned int seed)
{
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };

	memcpy(f, guest_mac, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

/* ---- the guest's side ---- */

/*
 * Where piece i of n starts and ends in `total` bytes of header and frame:
 * 2 pieces are the header and the frame (Linux without room to push the
 * header), 3 split the header itself 5 + 7, others are even.
 */
static void piece(size_t total, unsigned int i, unsigned int n, size_t *a, size_t *b)
{
	static const size_t two[] = { 0, HDR }, three[] = { 0, 5, HDR };

	if (n == 2 || n == 3) {
		const size_t *cut = n == 2 ? two : three;

		*a = cut[i];
		*b = i + 1 < n ? cut[i + 1] : total;
		return;
	}
	*a = total * i / n;
	*b = total * (i + 1) / n;
}

/*
 * Header and frame into guest memory, as a chain of `pieces` descriptors
 * (or one indirect table of them); available.
 */
static uint16_t tx_post(struct nt *t, const uint8_t *hdr, const uint8_t *frame, size_t len,
			unsigned int pieces, bool indirect)
{
	static const uint8_t zero[HDR];
	size_t total = HDR + len;
	uint64_t at = t->tx_data;
	uint16_t head = t->tx_desc;
	uint8_t *p;

	if (at + total > TXBUF_END)
		at = TXBUF;
	t->tx_data = (at + total + 63) & ~63ull;
	p = tm_ram(&t->m, at, total);
	memcpy(p, hdr ? hdr : zero, HDR);
	memcpy(p + HDR, frame, len);
	if (indirect) {
		uint64_t table = TXIND + (t->tx_ind++ % 16) * 0x400ull;

		for (unsigned int i = 0; i < pieces; i++) {
			uint8_t *d = tm_ram(&t->m, table + 16 * i, 16);
			size_t a, b;

			piece(total, i, pieces, &a, &b);
			kr_put_le(d, 8, at + a);
			kr_put_le(d + 8, 4, b - a);
			kr_put_le(d + 12, 2, i + 1 < pieces ? KR_VQ_DESC_F_NEXT : 0);
			kr_put_le(d + 14, 2, i + 1);
		}
		vd_desc(&t->d, TXQ, head, table, 16 * pieces, KR_VQ_DESC_F_INDIRECT, 0);
		t->tx_desc = (head + 1) % QSIZE;
	} else {
		for (unsigned int i = 0; i < pieces; i++) {
			uint16_t idx = (head + i) % QSIZE;
			size_t a, b;

			piece(total, i, pieces, &a, &b);
			vd_desc(&t->d, TXQ, idx, at + a, b - a,
				i + 1 < pieces ? KR_VQ_DESC_F_NEXT : 0, (idx + 1) % QSIZE);
		}
		t->tx_desc = (head + pieces) % QSIZE;
	}
	vd_avail(&t->d, TXQ, head);
	return head;
}

static uint16_t tx_frame(struct nt *t, size_t len, unsigned int seed, unsigned int pieces)
{
	uint8_t f[2048];

	make_frame(f, len, seed);
	return tx_post(t, NULL, f, len, pieces, false);
}

/* n receive buffers of len bytes (<= 4 KiB), one descriptor each. */
static void rx_post(struct nt *t, uint32_t len, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint16_t idx = t->rx_desc;

		t->rx_desc = (idx + 1) % QSIZE;
		memset(tm_ram(&t->m, RXBUF + idx * RXSTRIDE, len), 0xee, len);
		vd_desc(&t->d, RXQ, idx, RXBUF + idx * RXSTRIDE, len, KR_VQ_DESC_F_WRITE, 0);
		vd_avail(&t->d, RXQ, idx);
	}
}

/*
 * One received frame from small buffers: the first used entry, then as
 * many more as its header's num_buffers says.  Header and frame in out;
 * the total length, or 0 when entries are missing.
 */
static size_t rx_take(struct nt *t, uint8_t *out, size_t cap, unsigned int *nbufs)
{
	uint32_t id, len;
	size_t total = 0;
	unsigned int want = 1;

	for (unsigned int i = 0; i < want; i++) {
		if (!vd_used(&t->d, RXQ, &id, &len) || id >= QSIZE || len > RXSTRIDE ||
		    total + len > cap)
			return 0;
		memcpy(out + total, tm_ram(&t->m, RXBUF + id * RXSTRIDE, len), len);
		total += len;
		if (!i) {
			if (len < HDR)
				return 0;
			want = kr_get_le(out + KR_NET_HDR_NUM_BUFFERS, 2);
		}
	}
	if (nbufs)
		*nbufs = want;
	return total;
}

static ssize_t peer_recv(struct nt *t, uint8_t *buf, size_t cap)
{
	return recv(t->peer, buf, cap, MSG_DONTWAIT);
}

static bool peer_send_frame(struct nt *t, size_t len, unsigned int seed)
{
	uint8_t f[4096];

	make_frame(f, len, seed);
	return send(t->peer, f, len, MSG_DONTWAIT) == (ssize_t)len;
}

/* Bytes of the next datagram waiting at the device's end (0: none). */
static int backlog(struct nt *t)
{
	int n = 0;

	ioctl(t->be.fd, FIONREAD, &n);
	return n;
}

static bool frame_is(const uint8_t *p, size_t len, unsigned int seed)
{
	uint8_t f[70000];

	if (len > sizeof(f))
		return false;
	make_frame(f, len, seed);
	return !memcmp(p, f, len);
}

/* ---- identity and configuration ---- */

KR_TEST(net_identity)
{
	struct nt t;
	uint32_t df;
	int fds = t_count_fds();

	nt_up(&t, false, VER1 | FEAT(MAC) | FEAT(STATUS));
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, 0, 4), 0x1041u << 16 | 0x1af4);
	CHECK_EQ(tm_cfg_read(&t.m, SLOT, 8, 4) >> 8, 0x020000);
	CHECK_EQ(vd_common_read(&t.d, KR_VIRTIO_COMMON_NUMQ, 2), 2);
	CHECK_EQ(t.d.device_len, KR_NET_CFG_LEN);
	vd_common_write(&t.d, KR_VIRTIO_COMMON_DFSELECT, 4, 0);
	df = vd_common_read(&t.d, KR_VIRTIO_COMMON_DF, 4);
	/* Without a vnet header: no offloads at all, no control queue, no UFO. */
	CHECK_EQ(df, FEAT(MAC) | FEAT(STATUS) | FEAT(MRG_RXBUF) |
		 1u << KR_VIRTIO_F_INDIRECT_DESC | 1u << KR_VIRTIO_F_EVENT_IDX);
	CHECK(vd_status(&t.d) & KR_VIRTIO_STATUS_FEATURES_OK);
	for (int i = 0; i < 6; i++)
		CHECK_EQ(tm_read(&t.m.mmio, t.d.device + i, 1), guest_mac[i]);
	CHECK_EQ(tm_read(&t.m.mmio, t.d.device + KR_NET_CFG_STATUS, 2), KR_NET_S_LINK_UP);
	CHECK_EQ(tm_read(&t.m.mmio, t.d.device + KR_NET_CFG_MAX_PAIRS, 2), 1);
	CHECK_EQ(tm_read(&t.m.mmio, t.d.device + 8, 4), 1);	/* pairs, mtu 0 */
	CHECK(kr_virtio_net_transport(t.n) != NULL);
	nt_down(&t);

	nt_up(&t, true, VER1);
	vd_common_write(&t.d, KR_VIRTIO_COMMON_DFSELECT, 4, 0);
	df = vd_common_read(&t.d, KR_VIRTIO_COMMON_DF, 4);
	CHECK_EQ(df & ~(1u << KR_VIRTIO_F_INDIRECT_DESC | 1u << KR_VIRTIO_F_EVENT_IDX),
		 FEAT(MAC) | FEAT(STATUS) | FEAT(MRG_RXBUF) | FEAT(CSUM) | FEAT(GUEST_CSUM) |
		 FEAT(HOST_TSO4) | FEAT(HOST_TSO6) | FEAT(HOST_ECN) | FEAT(GUEST_TSO4) |
		 FEAT(GUEST_TSO6) | FEAT(GUEST_ECN));
	/* A driver asking for what is not offered is refused. */
	CHECK(!(vd_negotiate(&t.d, VER1 | FEAT(CTRL_VQ)) & KR_VIRTIO_STATUS_FEATURES_OK));
	CHECK(!(vd_negotiate(&t.d, VER1 | FEAT(GUEST_UFO)) & KR_VIRTIO_STATUS_FEATURES_OK));
	nt_down(&t);
	CHECK_EQ(t_count_fds(), fds);
}

KR_TEST(net_link_status)
{
	struct nt t;
	uint8_t gen;

	nt_up(&t, false, VER1 | FEAT(STATUS));
	gen = vd_common_read(&t.d, KR_VIRTIO_COMMON_CFGGEN, 1);
	kr_virtio_net_set_link(t.n, false);
	CHECK_EQ(tm_read(&t.m.mmio, t.d.device + KR_NET_CFG_STATUS, 2), 0);
	CHECK_EQ(msis(&t, VEC_CFG), 1);
	CHECK(vd_common_read(&t.d, KR_VIRTIO_COMMON_CFGGEN, 1) != gen);
	kr_virtio_net_set_link(t.n, true);
	CHECK_EQ(tm_read(&t.m.mmio, t.d.device + KR_NET_CFG_STATUS, 2), KR_NET_S_LINK_UP);
	CHECK_EQ(msis(&t, VEC_CFG), 2);
	nt_down(&t);
}

/* ---- transmit ---- */

/* The next datagram at the peer is frame `seed` of len bytes (after hdr bytes of header). */
static bool peer_got(struct nt *t, size_t hdr, size_t len, unsigned int seed)
{
	uint8_t buf[70000];
	ssize_t n = peer_recv(t, buf, sizeof(buf));

	return n == (ssize_t)(hdr + len) && frame_is(buf + hdr, len, seed);
}

KR_TEST(net_tx_descriptor_layouts)
{
	struct nt t;
	uint32_t id, len;
	uint16_t head;
	uint8_t big[9000];
	const unsigned int layouts[] = { 1, 2, 3, 40 };

	nt_up(&t, false, VER1 | (1ull << KR_VIRTIO_F_INDIRECT_DESC));
	for (unsigned int i = 0; i < ARRAY_SIZE(layouts); i++) {
		/* 1: header and frame together; 2: header, frame; 3: the header split 5 + 7. */
		head = tx_frame(&t, 1000, i, layouts[i]);
		vd_kick(&t.d, TXQ);
		settle(&t);
		CHECK(peer_got(&t, 0, 1000, i));
		CHECK(vd_used(&t.d, TXQ, &id, &len));
		CHECK_EQ(id, head);
		CHECK_EQ(len, 0);
	}
	/* As Linux sends a fragmented skb: an indirect table of 19. */
	make_frame(big, sizeof(big), 77);
	head = tx_post(&t, NULL, big, sizeof(big), 19, true);
	vd_kick(&t.d, TXQ);
	settle(&t);
	CHECK(peer_got(&t, 0, sizeof(big), 77));
	CHECK(vd_used(&t.d, TXQ, &id, &len) && id == head);
	CHECK_EQ(stats(&t).tx_packets, 5);
	CHECK_EQ(stats(&t).tx_bytes, 4 * 1000 + sizeof(big));
	CHECK_EQ(stats(&t).tx_dropped, 0);
	CHECK_EQ(msis(&t, VEC_TX), 5);
	CHECK_EQ(msis(&t, VEC_RX), 0);
	nt_down(&t);
}

KR_TEST(net_tx_batch_one_interrupt)
{
	struct nt t;

	nt_up(&t, false, VER1);
	for (unsigned int i = 0; i < 10; i++)
		tx_frame(&t, 100 + i, i, 2);
	vd_kick(&t.d, TXQ);
	settle(&t);
	for (unsigned int i = 0; i < 10; i++)
		CHECK(peer_got(&t, 0, 100 + i, i));
	CHECK_EQ(vd_used_idx(&t.d, TXQ), 10);
	CHECK_EQ(msis(&t, VEC_TX), 1);
	/* The driver suppressing interrupts (no EVENT_IDX): none. */
	*(uint16_t *)tm_ram(&t.m, t.d.q[TXQ].avail, 2) = KR_VQ_AVAIL_F_NO_INTERRUPT;
	tx_frame(&t, 100, 50, 1);
	vd_kick(&t.d, TXQ);
	settle(&t);
	CHECK(peer_got(&t, 0, 100, 50));
	CHECK_EQ(msis(&t, VEC_TX), 1);
	nt_down(&t);
}

KR_TEST(net_tx_budget_comes_back)
{
	struct nt t;
	uint8_t buf[256];
	unsigned int got = 0;

	/*
	 * A full ring is one pass's budget.  The device stops there without
	 * having seen the ring empty, so with EVENT_IDX its avail_event is
	 * old and a driver adding more does not notify (vring_need_event):
	 * the device must come back by itself.
	 */
	nt_up(&t, false, VER1 | (1ull << KR_VIRTIO_F_EVENT_IDX));
	for (unsigned int i = 0; i < QSIZE; i++)
		tx_frame(&t, 60, i, 1);
	vd_kick(&t.d, TXQ);
	pump(&t);
	CHECK_EQ(vd_used_idx(&t.d, TXQ), QSIZE);
	while (peer_recv(&t, buf, sizeof(buf)) == 60)
		got++;
	for (unsigned int i = 0; i < 10; i++)
		tx_frame(&t, 60, QSIZE + i, 1);		/* no kick */
	settle(&t);
	CHECK_EQ(vd_used_idx(&t.d, TXQ), (QSIZE + 10) & 0xffff);
	while (peer_recv(&t, buf, sizeof(buf)) == 60)
		got++;
	CHECK_EQ(got, QSIZE + 10);
	nt_down(&t);
}

KR_TEST(net_tx_vnet_header_passes)
{
	struct nt t;
	uint8_t f[3000], hdr[HDR] = {
		KR_NET_HDR_F_NEEDS_CSUM, KR_NET_GSO_TCPV4, 54, 0, 0xa8, 0x05, 34, 0, 16, 0, 0, 0,
	};
	uint8_t buf[4000];

	nt_up(&t, true, VER1 | FEAT(CSUM) | FEAT(HOST_TSO4));
	make_frame(f, sizeof(f), 5);
	tx_post(&t, hdr, f, sizeof(f), 3, false);
	vd_kick(&t.d, TXQ);
	settle(&t);
	CHECK_EQ(peer_recv(&t, buf, sizeof(buf)), HDR + sizeof(f));
	CHECK(!memcmp(buf, hdr, HDR));
	CHECK(!memcmp(buf + HDR, f, sizeof(f)));
	CHECK_EQ(stats(&t).tx_bytes, sizeof(f));
	nt_down(&t);
}

KR_TEST(net_tx_backend_full)
{
	struct nt t;
	int small = 4096;
	unsigned int got = 0, rounds = 0;
	uint16_t used;

	nt_up(&t, false, VER1);
	setsockopt(t.be.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	for (unsigned int i = 0; i < 40; i++)
		tx_frame(&t, 1000, i, 2);
	vd_kick(&t.d, TXQ);
	settle(&t);
	used = vd_used_idx(&t.d, TXQ);
	CHECK(used > 0 && used < 40);		/* the socket took some, then was full */
	settle(&t);
	CHECK_EQ(vd_used_idx(&t.d, TXQ), used);	/* and nothing more is taken meanwhile */
	/* The peer reads: room again, EPOLLOUT, the held frame and the rest go. */
	while (got < 40 && rounds++ < 200) {
		uint8_t buf[2048];
		ssize_t n;

		while ((n = peer_recv(&t, buf, sizeof(buf))) > 0) {
			CHECK(n == 1000 && frame_is(buf, 1000, got));
			got++;
		}
		settle(&t);
	}
	CHECK_EQ(got, 40);
	CHECK_EQ(vd_used_idx(&t.d, TXQ), 40);
	CHECK_EQ(stats(&t).tx_packets, 40);
	CHECK_EQ(stats(&t).tx_dropped, 0);
	nt_down(&t);
}

/* A chain of n descriptors of len bytes each at TXBUF (direct), available and kicked. */
static uint16_t tx_raw(struct nt *t, unsigned int n, uint32_t len, uint16_t flags)
{
	uint16_t head = t->tx_desc;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t idx = (head + i) % QSIZE;

		vd_desc(&t->d, TXQ, idx, TXBUF, len,
			flags | (i + 1 < n ? KR_VQ_DESC_F_NEXT : 0), (idx + 1) % QSIZE);
	}
	t->tx_desc = (head + n) % QSIZE;
	vd_avail(&t->d, TXQ, head);
	vd_kick(&t->d, TXQ);
	return head;
}

KR_TEST(net_tx_hostile)
{
	struct nt t;
	uint32_t id, len;
	uint8_t buf[256];
	uint16_t h;

	nt_up(&t, false, VER1);
	/* Larger than 65550 bytes of frame: 12 + 65551 in two descriptors. */
	memset(tm_ram(&t.m, TXBUF, 0x10000), 0, 0x10000);
	h = t.tx_desc;
	vd_desc(&t.d, TXQ, h, TXBUF, 0x10000, KR_VQ_DESC_F_NEXT, h + 1);
	vd_desc(&t.d, TXQ, h + 1, TXBUF, HDR + KR_NET_FRAME_MAX + 1 - 0x10000, 0, 0);
	t.tx_desc += 2;
	vd_avail(&t.d, TXQ, h);
	vd_kick(&t.d, TXQ);
	settle(&t);
	CHECK(vd_used(&t.d, TXQ, &id, &len) && id == h && len == 0);
	CHECK_EQ(stats(&t).tx_dropped, 1);
	/* A header cut short, a frame shorter than an Ethernet header. */
	tx_raw(&t, 1, 8, 0);
	tx_raw(&t, 2, 6, 0);			/* 12 bytes: header, no frame */
	tx_raw(&t, 1, HDR + 13, 0);
	/* Only writable buffers: nothing to send. */
	tx_raw(&t, 1, 1000, KR_VQ_DESC_F_WRITE);
	settle(&t);
	CHECK_EQ(vd_used_idx(&t.d, TXQ), 5);
	CHECK_EQ(stats(&t).tx_dropped, 5);
	CHECK_EQ(stats(&t).tx_packets, 0);
	CHECK_EQ(peer_recv(&t, buf, sizeof(buf)), -1);	/* none of it went out */
	/* Exactly the largest frame goes. */
	{
		static uint8_t f[KR_NET_FRAME_MAX];

		make_frame(f, sizeof(f), 9);
		tx_post(&t, NULL, f, sizeof(f), 4, false);
		vd_kick(&t.d, TXQ);
		settle(&t);
		CHECK(peer_got(&t, 0, sizeof(f), 9));
	}
	/* A descriptor loop: the device needs a reset, nothing hangs. */
	h = t.tx_desc;
	vd_desc(&t.d, TXQ, h, TXBUF, 100, KR_VQ_DESC_F_NEXT, h + 1);
	vd_desc(&t.d, TXQ, h + 1, TXBUF, 100, KR_VQ_DESC_F_NEXT, h);
	vd_avail(&t.d, TXQ, h);
	vd_kick(&t.d, TXQ);
	settle(&t);
	CHECK(vd_status(&t.d) & KR_VIRTIO_STATUS_NEEDS_RESET);
	/* The driver resets and starts again: works. */
	nt_start(&t, VER1);
	tx_frame(&t, 64, 3, 1);
	vd_kick(&t.d, TXQ);
	settle(&t);
	CHECK(peer_got(&t, 0, 64, 3));
	nt_down(&t);
}

/* ---- receive ---- */

KR_TEST(net_rx_mergeable_small_buffers)
{
	struct nt t;
	uint8_t buf[8192];
	unsigned int nb = 0;
	uint32_t id, len;

	nt_up(&t, false, VER1 | FEAT(MRG_RXBUF));
	rx_post(&t, 256, 16);
	vd_kick(&t.d, RXQ);
	CHECK(peer_send_frame(&t, 1000, 1));
	settle(&t);
	/* 12 + 1000 bytes in 256-byte buffers: 4 of them, the header says so. */
	CHECK_EQ(vd_used_idx(&t.d, RXQ), 4);
	{
		const uint8_t *u = tm_ram(&t.m, t.d.q[RXQ].used + 4, 32);

		for (int i = 0; i < 4; i++) {
			CHECK_EQ(kr_get_le(u + 8 * i, 4), i);
			CHECK_EQ(kr_get_le(u + 8 * i + 4, 4), i < 3 ? 256 : 1012 - 768);
		}
	}
	CHECK_EQ(rx_take(&t, buf, sizeof(buf), &nb), HDR + 1000);
	CHECK_EQ(nb, 4);
	CHECK_EQ(buf[0] | buf[1], 0);			/* flags, gso_type: none */
	CHECK(frame_is(buf + HDR, 1000, 1));
	/* Three frames in one go: one interrupt for the batch. */
	t.m.n_msi = 0;
	CHECK(peer_send_frame(&t, 100, 2));
	CHECK(peer_send_frame(&t, 244, 3));		/* 256 exactly */
	CHECK(peer_send_frame(&t, 245, 4));		/* one byte more: two buffers */
	settle(&t);
	CHECK_EQ(msis(&t, VEC_RX), 1);
	CHECK_EQ(rx_take(&t, buf, sizeof(buf), &nb), HDR + 100);
	CHECK(nb == 1 && frame_is(buf + HDR, 100, 2));
	CHECK_EQ(rx_take(&t, buf, sizeof(buf), &nb), HDR + 244);
	CHECK(nb == 1 && frame_is(buf + HDR, 244, 3));
	CHECK_EQ(rx_take(&t, buf, sizeof(buf), &nb), HDR + 245);
	CHECK(nb == 2 && frame_is(buf + HDR, 245, 4));
	CHECK(!vd_used(&t.d, RXQ, &id, &len));
	CHECK_EQ(stats(&t).rx_packets, 4);
	CHECK_EQ(stats(&t).rx_bytes, 1000 + 100 + 244 + 245);
	CHECK_EQ(stats(&t).rx_dropped, 0);
	nt_down(&t);
}

KR_TEST(net_rx_large_buffers)
{
	struct nt t;
	uint8_t buf[8192];
	unsigned int nb = 0;
	uint32_t id, len;
	const uint8_t *p;

	/* Mergeable with page-sized buffers: a frame per buffer. */
	nt_up(&t, false, VER1 | FEAT(MRG_RXBUF));
	rx_post(&t, 4096, 2);
	vd_kick(&t.d, RXQ);
	CHECK(peer_send_frame(&t, 1514, 1));
	settle(&t);
	CHECK_EQ(rx_take(&t, buf, sizeof(buf), &nb), HDR + 1514);
	CHECK(nb == 1 && frame_is(buf + HDR, 1514, 1));
	nt_down(&t);

	/*
	 * Not mergeable: Linux's "big packets" chain, a 12-byte header
	 * buffer and then pages; one chain takes one frame.
	 */
	nt_up(&t, false, VER1);
	vd_desc(&t.d, RXQ, 0, RXBUF, HDR, KR_VQ_DESC_F_WRITE | KR_VQ_DESC_F_NEXT, 1);
	for (int i = 1; i <= 4; i++)
		vd_desc(&t.d, RXQ, i, RXBUF + i * 0x1000ull, 0x1000,
			KR_VQ_DESC_F_WRITE | (i < 4 ? KR_VQ_DESC_F_NEXT : 0), i + 1);
	vd_avail(&t.d, RXQ, 0);
	/* And a small one (1526 bytes, Linux's small-buffer size). */
	vd_desc(&t.d, RXQ, 10, RXBUF + 0x10000, 1526, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&t.d, RXQ, 10);
	vd_kick(&t.d, RXQ);
	{
		uint8_t f[10000];

		make_frame(f, sizeof(f), 8);
		CHECK_EQ(send(t.peer, f, sizeof(f), 0), sizeof(f));
	}
	settle(&t);
	CHECK(vd_used(&t.d, RXQ, &id, &len));
	CHECK_EQ(id, 0);
	CHECK_EQ(len, HDR + 10000);
	p = tm_ram(&t.m, RXBUF, 0x5000);
	CHECK_EQ(kr_get_le(p + KR_NET_HDR_NUM_BUFFERS, 2), 1);
	{
		uint8_t f[10000];

		make_frame(f, sizeof(f), 8);
		CHECK(!memcmp(p + 0x1000, f, 0x1000));		/* the first page */
		CHECK(!memcmp(p + 0x3000, f + 0x2000, 10000 - 0x2000));
	}
	/* Too large for the small chain: dropped, the chain kept for the next frame. */
	CHECK(peer_send_frame(&t, 2000, 9));
	settle(&t);
	CHECK_EQ(stats(&t).rx_dropped, 1);
	CHECK(!vd_used(&t.d, RXQ, &id, &len));
	CHECK(peer_send_frame(&t, 1514, 10));
	settle(&t);
	CHECK(vd_used(&t.d, RXQ, &id, &len));
	CHECK(id == 10 && len == HDR + 1514);
	CHECK(frame_is(tm_ram(&t.m, RXBUF + 0x10000 + HDR, 1514), 1514, 10));
	nt_down(&t);
}

KR_TEST(net_rx_waits_for_buffers)
{
	struct nt t;
	uint8_t buf[4096];
	unsigned int nb;

	nt_up(&t, false, VER1 | FEAT(MRG_RXBUF) | (1ull << KR_VIRTIO_F_EVENT_IDX));
	rx_post(&t, 2048, 1);
	vd_kick(&t.d, RXQ);
	CHECK(peer_send_frame(&t, 60, 99));
	settle(&t);
	CHECK_EQ(rx_take(&t, buf, sizeof(buf), &nb), HDR + 60);
	for (unsigned int i = 0; i < 5; i++)
		CHECK(peer_send_frame(&t, 600 + i, i));
	settle(&t);
	/* No buffers: nothing given, nothing dropped, the frames wait in the socket. */
	CHECK_EQ(vd_used_idx(&t.d, RXQ), 1);
	CHECK_EQ(stats(&t).rx_dropped, 0);
	CHECK_EQ(stats(&t).rx_packets, 1);
	CHECK(backlog(&t) > 0);
	/* With EVENT_IDX the device asked to be told of the next buffer (avail_event). */
	CHECK_EQ(kr_get_le(tm_ram(&t.m, t.d.q[RXQ].used + 4 + 8 * QSIZE, 2), 2), 1);
	/* The guest adds buffers and notifies: all five, in order. */
	rx_post(&t, 2048, 8);
	vd_kick(&t.d, RXQ);
	settle(&t);
	for (unsigned int i = 0; i < 5; i++) {
		CHECK_EQ(rx_take(&t, buf, sizeof(buf), &nb), HDR + 600 + i);
		CHECK(frame_is(buf + HDR, 600 + i, i));
	}
	CHECK_EQ(backlog(&t), 0);
	CHECK_EQ(stats(&t).rx_packets, 6);
	CHECK_EQ(stats(&t).rx_dropped, 0);
	/* Three buffers left: three frames now, the fourth waits for more. */
	for (unsigned int i = 0; i < 4; i++)
		CHECK(peer_send_frame(&t, 100, 20 + i));
	settle(&t);
	for (unsigned int i = 0; i < 3; i++) {
		CHECK_EQ(rx_take(&t, buf, sizeof(buf), &nb), HDR + 100);
		CHECK(frame_is(buf + HDR, 100, 20 + i));
	}
	CHECK_EQ(rx_take(&t, buf, sizeof(buf), &nb), 0);
	rx_post(&t, 2048, 1);
	vd_kick(&t.d, RXQ);
	settle(&t);
	CHECK_EQ(rx_take(&t, buf, sizeof(buf), &nb), HDR + 100);
	CHECK(frame_is(buf + HDR, 100, 23));
	nt_down(&t);
}

KR_TEST(net_rx_guest_never_gives_buffers)
{
	struct nt t;
	unsigned int sent = 0;

	nt_up(&t, false, VER1 | FEAT(MRG_RXBUF));
	/*
	 * The device must not drain the socket into memory of its own: the
	 * peer runs into a full socket after a bounded number of frames.
	 */
	int err = 0;

	for (unsigned int round = 0; round < 100; round++) {
		unsigned int before = sent;

		while (sent < 100000 && peer_send_frame(&t, 1500, sent))
			sent++;
		err = errno;
		settle(&t);
		if (sent == before)
			break;
	}
	CHECK(sent < 1000);
	CHECK_EQ(err, EAGAIN);
	CHECK_EQ(stats(&t).rx_dropped, 0);
	CHECK_EQ(vd_used_idx(&t.d, RXQ), 0);
	/* A reset drops the one frame the device held, nothing else. */
	vd_common_write(&t.d, KR_VIRTIO_COMMON_STATUS, 1, 0);
	CHECK_EQ(stats(&t).rx_dropped, 1);
	nt_down(&t);
}

KR_TEST(net_rx_vnet_header)
{
	struct nt t;
	uint8_t d[5000], buf[8192];
	unsigned int nb;
	const uint8_t hdr[HDR] = {
		KR_NET_HDR_F_NEEDS_CSUM, KR_NET_GSO_TCPV4, 54, 0, 0xa8, 0x05, 34, 0, 16, 0,
		0x77, 0x77,
	};
	const uint64_t gso = VER1 | FEAT(MRG_RXBUF) | FEAT(GUEST_CSUM) | FEAT(GUEST_TSO4);

	nt_up(&t, true, gso);
	rx_post(&t, 2048, 8);
	vd_kick(&t.d, RXQ);
	memcpy(d, hdr, HDR);
	make_frame(d + HDR, 3000, 1);
	CHECK_EQ(send(t.peer, d, HDR + 3000, 0), HDR + 3000);
	settle(&t);
	CHECK_EQ(rx_take(&t, buf, sizeof(buf), &nb), HDR + 3000);
	CHECK_EQ(nb, 2);
	CHECK(!memcmp(buf, hdr, KR_NET_HDR_NUM_BUFFERS));	/* the tap's fields as they were */
	CHECK(frame_is(buf + HDR, 3000, 1));
	/* GSO kinds the guest did not take: TCPv6, UDP, ECN, unknown. */
	d[KR_NET_HDR_GSO_TYPE] = KR_NET_GSO_TCPV6;
	CHECK_EQ(send(t.peer, d, HDR + 3000, 0), HDR + 3000);
	d[KR_NET_HDR_GSO_TYPE] = KR_NET_GSO_UDP;
	CHECK_EQ(send(t.peer, d, HDR + 3000, 0), HDR + 3000);
	d[KR_NET_HDR_GSO_TYPE] = KR_NET_GSO_TCPV4 | KR_NET_GSO_ECN;
	CHECK_EQ(send(t.peer, d, HDR + 3000, 0), HDR + 3000);
	d[KR_NET_HDR_GSO_TYPE] = 0x55;
	CHECK_EQ(send(t.peer, d, HDR + 3000, 0), HDR + 3000);
	settle(&t);
	CHECK_EQ(stats(&t).rx_dropped, 4);
	CHECK_EQ(vd_used_idx(&t.d, RXQ), 2);
	nt_down(&t);

	/* A guest without GUEST_CSUM: NEEDS_CSUM is dropped, DATA_VALID cleared. */
	nt_up(&t, true, VER1 | FEAT(MRG_RXBUF));
	rx_post(&t, 2048, 8);
	vd_kick(&t.d, RXQ);
	memset(d, 0, HDR);
	d[KR_NET_HDR_FLAGS] = KR_NET_HDR_F_NEEDS_CSUM;
	make_frame(d + HDR, 1000, 2);
	CHECK_EQ(send(t.peer, d, HDR + 1000, 0), HDR + 1000);
	d[KR_NET_HDR_FLAGS] = KR_NET_HDR_F_DATA_VALID;
	CHECK_EQ(send(t.peer, d, HDR + 1000, 0), HDR + 1000);
	settle(&t);
	CHECK_EQ(stats(&t).rx_dropped, 1);
	CHECK_EQ(rx_take(&t, buf, sizeof(buf), &nb), HDR + 1000);
	CHECK_EQ(buf[KR_NET_HDR_FLAGS], 0);
	CHECK(frame_is(buf + HDR, 1000, 2));
	nt_down(&t);
}

KR_TEST(net_rx_hostile)
{
	struct nt t;
	uint8_t buf[8192];
	static uint8_t huge[70000];
	unsigned int nb;
	uint32_t id, len;
	int big = 1 << 20;

	nt_up(&t, false, VER1 | FEAT(MRG_RXBUF));
	setsockopt(t.peer, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	/* Chains that are no receive buffers: readable, or too short for the header. */
	vd_desc(&t.d, RXQ, 0, RXBUF, 2048, 0, 0);
	vd_avail(&t.d, RXQ, 0);
	vd_desc(&t.d, RXQ, 1, RXBUF + RXSTRIDE, 4, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&t.d, RXQ, 1);
	t.rx_desc = 2;
	rx_post(&t, 2048, 1);
	vd_kick(&t.d, RXQ);
	/* From the backend: a runt, a datagram larger than any frame, then a good one. */
	CHECK_EQ(send(t.peer, "runt!", 5, 0), 5);
	make_frame(huge, sizeof(huge), 0);
	CHECK_EQ(send(t.peer, huge, sizeof(huge), 0), sizeof(huge));
	CHECK(peer_send_frame(&t, 500, 3));
	settle(&t);
	CHECK(vd_used(&t.d, RXQ, &id, &len) && id == 0 && len == 0);
	CHECK(vd_used(&t.d, RXQ, &id, &len) && id == 1 && len == 0);
	CHECK_EQ(rx_take(&t, buf, sizeof(buf), &nb), HDR + 500);
	CHECK(frame_is(buf + HDR, 500, 3));
	CHECK_EQ(stats(&t).bad_buffers, 2);
	CHECK_EQ(stats(&t).rx_dropped, 2);
	/*
	 * Buffers too small to ever hold a frame within the chains a frame may
	 * span (64 of 16 bytes, 1500 bytes to place): dropped, the chains kept
	 * and used for the next frame that fits.
	 */
	rx_post(&t, 16, 100);
	vd_kick(&t.d, RXQ);
	CHECK(peer_send_frame(&t, 1500, 4));
	settle(&t);
	CHECK_EQ(stats(&t).rx_dropped, 3);
	CHECK_EQ(vd_used_idx(&t.d, RXQ), 3);
	CHECK(peer_send_frame(&t, 100, 5));		/* 112 bytes: 7 chains */
	settle(&t);
	CHECK_EQ(vd_used_idx(&t.d, RXQ), 10);
	{
		uint8_t all[128];
		size_t at = 0;

		for (int i = 0; i < 7; i++) {
			CHECK(vd_used(&t.d, RXQ, &id, &len) && len == 16);
			memcpy(all + at, tm_ram(&t.m, RXBUF + id * RXSTRIDE, 16), 16);
			at += 16;
		}
		CHECK_EQ(kr_get_le(all + KR_NET_HDR_NUM_BUFFERS, 2), 7);
		CHECK(frame_is(all + HDR, 100, 5));
	}
	nt_down(&t);
}

KR_TEST(net_rx_bad_ring_needs_reset)
{
	struct nt t;

	nt_up(&t, false, VER1 | FEAT(MRG_RXBUF));
	vd_desc(&t.d, RXQ, 0, 0x7fff0000ull, 2048, KR_VQ_DESC_F_WRITE, 0);
	vd_avail(&t.d, RXQ, 0);
	vd_kick(&t.d, RXQ);
	CHECK(peer_send_frame(&t, 60, 1));
	settle(&t);
	CHECK(vd_status(&t.d) & KR_VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(stats(&t).rx_packets, 0);
	nt_down(&t);
}

KR_TEST(net_reset_while_busy)
{
	struct nt t;
	int small = 4096;
	uint8_t buf[4096];
	unsigned int nb;

	nt_up(&t, false, VER1 | FEAT(MRG_RXBUF));
	setsockopt(t.be.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	/* TX held on a full socket, RX chains held for a frame that does not fit yet. */
	for (unsigned int i = 0; i < 20; i++)
		tx_frame(&t, 1000, i, 1);
	vd_kick(&t.d, TXQ);
	rx_post(&t, 256, 2);
	vd_kick(&t.d, RXQ);
	CHECK(peer_send_frame(&t, 1000, 1));
	settle(&t);
	CHECK_EQ(vd_used_idx(&t.d, RXQ), 0);
	CHECK(vd_used_idx(&t.d, TXQ) < 20);
	vd_common_write(&t.d, KR_VIRTIO_COMMON_STATUS, 1, 0);
	CHECK_EQ(stats(&t).tx_dropped, 1);		/* the held one */
	CHECK_EQ(stats(&t).rx_dropped, 1);		/* the pending one */
	while (peer_recv(&t, buf, sizeof(buf)) > 0)
		;
	/* Started again: a clean device. */
	nt_start(&t, VER1 | FEAT(MRG_RXBUF));
	rx_post(&t, 2048, 4);
	vd_kick(&t.d, RXQ);
	CHECK(peer_send_frame(&t, 700, 2));
	tx_frame(&t, 300, 3, 2);
	vd_kick(&t.d, TXQ);
	settle(&t);
	CHECK_EQ(rx_take(&t, buf, sizeof(buf), &nb), HDR + 700);
	CHECK(frame_is(buf + HDR, 700, 2));
	CHECK(peer_got(&t, 0, 300, 3));
	nt_down(&t);
}

KR_TEST(net_backend_gone)
{
	struct nt t;

	nt_up(&t, false, VER1 | FEAT(STATUS));
	rx_post(&t, 2048, 4);
	vd_kick(&t.d, RXQ);
	settle(&t);
	/* The backend hangs up: link down, a config interrupt, no spinning. */
	shutdown(t.be.fd, SHUT_RDWR);
	settle(&t);
	CHECK_EQ(tm_read(&t.m.mmio, t.d.device + KR_NET_CFG_STATUS, 2), 0);
	CHECK_EQ(msis(&t, VEC_CFG), 1);
	/* The guest's frames are still taken (and counted), its queue does not stall. */
	tx_frame(&t, 100, 1, 1);
	vd_kick(&t.d, TXQ);
	settle(&t);
	CHECK_EQ(vd_used_idx(&t.d, TXQ), 1);
	CHECK_EQ(stats(&t).tx_dropped, 1);
	nt_down(&t);
}

/* ---- the loop on a thread of its own, the guest on this one ---- */

static void *loop_main(void *arg)
{
	kr_loop_run(arg);
	return NULL;
}

static bool wait_until(bool (*cond)(struct nt *), struct nt *t)
{
	struct timespec ts = { 0, 1000000 };

	for (int i = 0; i < 5000; i++) {
		if (cond(t))
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static bool tx_done(struct nt *t)
{
	return vd_used_idx(&t->d, TXQ) == 200;
}

static bool rx_done(struct nt *t)
{
	return vd_used_idx(&t->d, RXQ) == 200;
}

KR_TEST(net_threaded_traffic)
{
	struct nt t;
	pthread_t th;
	unsigned int got = 0, sent = 0, got_rx = 0;
	uint8_t buf[2048];

	nt_up(&t, false, VER1 | FEAT(MRG_RXBUF) | (1ull << KR_VIRTIO_F_EVENT_IDX));
	CHECK_EQ(pthread_create(&th, NULL, loop_main, t.loop), 0);
	rx_post(&t, 2048, 200);
	vd_kick(&t.d, RXQ);
	for (unsigned int i = 0; i < 200; i++) {
		tx_frame(&t, 200, i, 1);
		vd_kick(&t.d, TXQ);
		while (sent < 200 && peer_send_frame(&t, 300, sent))
			sent++;
		while (peer_recv(&t, buf, sizeof(buf)) > 0)
			CHECK(frame_is(buf, 200, got++));
	}
	for (int i = 0; i < 5000 && (sent < 200 || got < 200); i++) {
		struct timespec ts = { 0, 1000000 };

		while (sent < 200 && peer_send_frame(&t, 300, sent))
			sent++;
		while (peer_recv(&t, buf, sizeof(buf)) > 0)
			CHECK(frame_is(buf, 200, got++));
		nanosleep(&ts, NULL);
	}
	CHECK(wait_until(tx_done, &t));
	CHECK(wait_until(rx_done, &t));
	CHECK_EQ(got, 200);
	kr_loop_stop(t.loop);
	pthread_join(th, NULL);
	for (unsigned int i = 0; i < 200; i++) {
		unsigned int nb;

		if (rx_take(&t, buf, sizeof(buf), &nb) != HDR + 300 || !frame_is(buf + HDR, 300, i))
			break;
		got_rx++;
	}
	CHECK_EQ(got_rx, 200);
	CHECK_EQ(stats(&t).rx_packets, 200);
	CHECK_EQ(stats(&t).tx_packets, 200);
	nt_down(&t);
}

#ifdef KR_VIRTIO_HAVE_PUSH_N
/*
 * A driver polling the used ring while frames arrive (Linux's NAPI on
 * another vCPU) must never see the first buffer of a merged frame before
 * the others: a poller checks, at every used->idx it sees, that all of the
 * num_buffers entries of each frame are there, and gives the buffers back.
 */
struct poller {
	struct nt *t;
	unsigned int frames, torn;
	bool stop;
};

static void *poll_used(void *arg)
{
	struct poller *p = arg;
	struct nt *t = p->t;
	uint8_t *used = tm_ram(&t->m, t->d.q[RXQ].used, KR_VQ_USED_SIZE(QSIZE));
	uint16_t seen = 0;

	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE) && p->frames < 64) {
		uint16_t idx = __atomic_load_n((uint16_t *)(used + 2), __ATOMIC_ACQUIRE);

		while (seen != idx) {
			uint32_t id = kr_get_le(used + 4 + 8 * (seen % QSIZE), 4);
			uint64_t at = RXBUF + (id % QSIZE) * RXSTRIDE + KR_NET_HDR_NUM_BUFFERS;
			uint16_t nb = kr_get_le(tm_ram(&t->m, at, 2), 2);

			if (!nb || (uint16_t)(idx - seen) < nb) {
				p->torn++;
				break;
			}
			/* Taken: the buffers go back, as the driver refills. */
			for (unsigned int i = 0; i < nb; i++, seen++) {
				id = kr_get_le(used + 4 + 8 * (seen % QSIZE), 4);
				vd_avail(&t->d, RXQ, id % QSIZE);
			}
			vd_kick(&t->d, RXQ);
			p->frames++;
		}
	}
	return NULL;
}

KR_TEST(net_rx_merged_frame_seen_whole)
{
	struct nt t;
	struct poller p = { .t = &t };
	pthread_t loop_th, poll_th;
	unsigned int sent = 0;

	/* 16000-byte frames in 256-byte buffers: 63 chains each. */
	nt_up(&t, false, VER1 | FEAT(MRG_RXBUF));
	rx_post(&t, 256, QSIZE);
	vd_kick(&t.d, RXQ);
	CHECK_EQ(pthread_create(&loop_th, NULL, loop_main, t.loop), 0);
	CHECK_EQ(pthread_create(&poll_th, NULL, poll_used, &p), 0);
	for (int i = 0; i < 5000 && sent < 64; i++) {
		struct timespec ts = { 0, 200000 };
		uint8_t f[16000];

		make_frame(f, sizeof(f), sent);
		if (send(t.peer, f, sizeof(f), MSG_DONTWAIT) == sizeof(f))
			sent++;
		else
			nanosleep(&ts, NULL);
	}
	for (int i = 0; i < 5000 && __atomic_load_n(&p.frames, __ATOMIC_RELAXED) < 64 && !p.torn;
	     i++) {
		struct timespec ts = { 0, 1000000 };

		nanosleep(&ts, NULL);
	}
	__atomic_store_n(&p.stop, true, __ATOMIC_RELEASE);
	pthread_join(poll_th, NULL);
	kr_loop_stop(t.loop);
	pthread_join(loop_th, NULL);
	CHECK_EQ(sent, 64);
	CHECK_EQ(p.torn, 0);
	CHECK_EQ(p.frames, 64);
	nt_down(&t);
}
#endif

/* ---- snapshots ---- */

/*
 * The restoring side: a machine with a copy of t's RAM, a new backend
 * (socketpair) with this MAC, a new device on it, its PCI side as t's.
 */
static void nt_clone(struct nt *t2, const struct nt *t, bool vnet_hdr, const uint8_t *mac)
{
	int sv[2];

	memset(t2, 0, sizeof(*t2));
	tm_init(&t2->m);
	tm_copy_ram(&t2->m, &t->m);
	t2->loop = kr_loop_new();
	t2->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!t2->loop || t2->stopfd < 0 ||
	    kr_loop_add(t2->loop, t2->stopfd, EPOLLIN, on_stop, t2->loop))
		abort();
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		abort();
	t2->be.fd = sv[0];
	t2->peer = sv[1];
	t2->be.vnet_hdr = vnet_hdr;
	memcpy(t2->be.mac, mac, 6);
	t2->n = kr_virtio_net_create(t2->m.pci, SLOT, &t2->m.mem, t2->loop, &t2->be);
	if (!t2->n || vd_restore(&t2->d, &t2->m, &t->d, true))
		abort();
	t2->rx_desc = t->rx_desc;
	t2->tx_desc = t->tx_desc;
	t2->tx_data = t->tx_data;
	t2->tx_ind = t->tx_ind;
}

static int net_load(struct nt *t, const struct kr_sbuf *b, struct kr_sget *g)
{
	kr_sget_init(g, b->p, b->len, "virtio-net0");
	return kr_virtio_net_load(t->n, g);
}

KR_TEST(net_snapshot_round_trip)
{
	struct nt t, t2;
	struct kr_sbuf b = { 0 };
	struct kr_sget g;
	int small = 4096;
	uint16_t heads[40], before;
	uint8_t buf[8192];
	unsigned int nb, got = 0, rounds = 0;
	uint32_t id, len;

	nt_up(&t, false, VER1 | FEAT(MRG_RXBUF));
	/* RX: two 256-byte buffers stashed for a 1012-byte frame that needs four. */
	rx_post(&t, 256, 2);
	vd_kick(&t.d, RXQ);
	CHECK(peer_send_frame(&t, 1000, 1));
	settle(&t);
	CHECK_EQ(vd_used_idx(&t.d, RXQ), 0);
	/* TX: the backend full, one frame held, the rest left in the ring. */
	setsockopt(t.be.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	for (unsigned int i = 0; i < 40; i++)
		heads[i] = tx_frame(&t, 1000, i, 2);
	vd_kick(&t.d, TXQ);
	settle(&t);
	before = vd_used_idx(&t.d, TXQ);
	CHECK(before > 0 && before < 40);
	CHECK_EQ(kr_virtio_net_save(t.n, &b), 0);

	nt_clone(&t2, &t, false, guest_mac);
	CHECK_EQ(net_load(&t2, &b, &g), 0);
	settle(&t2);
	CHECK_EQ(vd_used_idx(&t2.d, TXQ), before);	/* nothing before kick_all */
	CHECK_EQ(t2.m.n_msi, 0);
	kr_virtio_pci_kick_all(kr_virtio_net_transport(t2.n));
	settle(&t2);
	/* TX: from the held frame on, each once, in order. */
	for (unsigned int i = before; i < 40; i++) {
		ssize_t n = peer_recv(&t2, buf, sizeof(buf));

		CHECK(n == 1000 && frame_is(buf, 1000, i));
	}
	CHECK_EQ(peer_recv(&t2, buf, sizeof(buf)), -1);
	CHECK_EQ(vd_used_idx(&t2.d, TXQ), 40);
	for (unsigned int i = 0; i < 40; i++)
		CHECK(vd_used(&t2.d, TXQ, &id, &len) && id == heads[i]);
	CHECK_EQ(stats(&t2).tx_packets, 40 - before);
	/*
	 * RX: the stashed chains are taken again, first; the frame that
	 * waited for them was not state, the next one gets them.
	 */
	CHECK(peer_send_frame(&t2, 1000, 2));
	settle(&t2);
	CHECK_EQ(vd_used_idx(&t2.d, RXQ), 0);
	rx_post(&t2, 256, 2);
	vd_kick(&t2.d, RXQ);
	settle(&t2);
	CHECK_EQ(vd_used_idx(&t2.d, RXQ), 4);
	for (unsigned int i = 0; i < 4; i++)
		CHECK_EQ(kr_get_le(tm_ram(&t2.m, t2.d.q[RXQ].used + 4 + 8 * i, 4), 4), i);
	CHECK_EQ(rx_take(&t2, buf, sizeof(buf), &nb), HDR + 1000);
	CHECK(nb == 4 && frame_is(buf + HDR, 1000, 2));
	CHECK_EQ(stats(&t2).rx_packets, 1);

	/* The original goes on: its held frame and the rest, its pending frame. */
	while (got < 40 && rounds++ < 200) {
		ssize_t n;

		while ((n = peer_recv(&t, buf, sizeof(buf))) > 0) {
			CHECK(n == 1000 && frame_is(buf, 1000, got));
			got++;
		}
		settle(&t);
	}
	CHECK_EQ(got, 40);
	CHECK_EQ(vd_used_idx(&t.d, TXQ), 40);
	rx_post(&t, 256, 2);
	vd_kick(&t.d, RXQ);
	settle(&t);
	CHECK_EQ(rx_take(&t, buf, sizeof(buf), &nb), HDR + 1000);
	CHECK(nb == 4 && frame_is(buf + HDR, 1000, 1));
	CHECK_EQ(stats(&t).tx_dropped + stats(&t).rx_dropped, 0);
	/* Every chain given back (four at once for the merged frame): nothing held. */
	kr_sbuf_free(&b);
	CHECK_EQ(kr_virtio_net_save(t.n, &b), 0);

	kr_sbuf_free(&b);
	nt_down(&t2);
	nt_down(&t);
}

/* The link the guest saw is restored; the backend here is up: it is told so on the kick. */
KR_TEST(net_snapshot_link)
{
	struct nt t, t2;
	struct kr_sbuf b = { 0 };
	struct kr_sget g;

	nt_up(&t, false, VER1 | FEAT(STATUS));
	kr_virtio_net_set_link(t.n, false);
	CHECK_EQ(kr_virtio_net_save(t.n, &b), 0);
	nt_clone(&t2, &t, false, guest_mac);
	CHECK_EQ(net_load(&t2, &b, &g), 0);
	CHECK_EQ(tm_read(&t2.m.mmio, t2.d.device + KR_NET_CFG_STATUS, 2), 0);
	CHECK_EQ(tm_read(&t2.m.mmio, t2.d.device + KR_NET_CFG_MAC, 4), 0x12005452);
	CHECK_EQ(t2.m.n_msi, 0);
	kr_virtio_pci_kick_all(kr_virtio_net_transport(t2.n));
	CHECK_EQ(tm_read(&t2.m.mmio, t2.d.device + KR_NET_CFG_STATUS, 2), KR_NET_S_LINK_UP);
	CHECK_EQ(msis(&t2, VEC_CFG), 1);
	/* Kicked again with nothing new: no news. */
	kr_virtio_pci_kick_all(kr_virtio_net_transport(t2.n));
	CHECK_EQ(msis(&t2, VEC_CFG), 1);
	/* The original's link stays as it was set. */
	kr_virtio_pci_kick_all(kr_virtio_net_transport(t.n));
	CHECK_EQ(tm_read(&t.m.mmio, t.d.device + KR_NET_CFG_STATUS, 2), 0);
	kr_sbuf_free(&b);
	nt_down(&t2);
	nt_down(&t);
}

static void net_refused(struct nt *t, const struct kr_sbuf *b, const char *why)
{
	struct kr_sget g;

	CHECK_EQ(net_load(t, b, &g), -EPROTO);
	if (!strstr(g.why, why)) {
		printf("#   refused with \"%s\", want \"%s\"\n", g.why, why);
		CHECK(0);
	}
}

KR_TEST(net_snapshot_refused)
{
	static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };
	struct nt t, t2;
	struct kr_sbuf b = { 0 };
	struct kr_sget g;

	nt_up(&t, true, VER1 | FEAT(MRG_RXBUF) | FEAT(GUEST_CSUM));
	CHECK_EQ(kr_virtio_net_save(t.n, &b), 0);
	nt_clone(&t2, &t, true, other);
	net_refused(&t2, &b, "virtio-net0: MAC 52:54:00:12:34:56 in the snapshot, "
		    "52:54:00:12:34:57 here");
	nt_down(&t2);
	/* Offloads the guest took need a backend with the virtio-net header. */
	nt_clone(&t2, &t, false, guest_mac);
	net_refused(&t2, &b, "0x2 of them not offered here");
	nt_down(&t2);

	nt_clone(&t2, &t, true, guest_mac);
	for (size_t n = 0; n < b.len; n++) {
		struct kr_sbuf cut = { .p = b.p, .len = n };

		net_refused(&t2, &cut, "virtio-net0: truncated state");
	}
	b.p[10] = 2;				/* version, MAC, then the status */
	net_refused(&t2, &b, "link status 0x2");
	b.p[10] = KR_NET_S_LINK_UP;
	CHECK_EQ(net_load(&t2, &b, &g), 0);
	kr_sbuf_free(&b);
	nt_down(&t2);
	nt_down(&t);
}

/* Frozen: no frame work at all, not even for a held chain; kick_all resumes. */
KR_TEST(net_freeze)
{
	struct nt t;
	struct kr_virtio_pci *vp;
	uint8_t buf[4096];
	unsigned int nb;

	nt_up(&t, false, VER1 | FEAT(MRG_RXBUF));
	vp = kr_virtio_net_transport(t.n);
	kr_virtio_pci_freeze(vp, true);
	tx_frame(&t, 200, 1, 1);
	vd_kick(&t.d, TXQ);
	rx_post(&t, 2048, 2);
	vd_kick(&t.d, RXQ);
	CHECK(peer_send_frame(&t, 300, 2));
	settle(&t);
	CHECK_EQ(peer_recv(&t, buf, sizeof(buf)), -1);
	CHECK_EQ(vd_used_idx(&t.d, RXQ) + vd_used_idx(&t.d, TXQ), 0);
	CHECK(backlog(&t) > 0);			/* not even read */
	kr_virtio_pci_freeze(vp, false);
	settle(&t);
	CHECK_EQ(vd_used_idx(&t.d, RXQ) + vd_used_idx(&t.d, TXQ), 0);
	kr_virtio_pci_kick_all(vp);
	settle(&t);
	CHECK(peer_got(&t, 0, 200, 1));
	CHECK_EQ(rx_take(&t, buf, sizeof(buf), &nb), HDR + 300);
	CHECK(frame_is(buf + HDR, 300, 2));
	nt_down(&t);
}

/*
 * A chain that is no receive buffer behind stashed ones goes back with
 * them, empty, in order: the stash stays the last chains popped, which
 * is what a snapshot rewinds.
 */
KR_TEST(net_rx_bad_chain_after_stash)
{
	struct nt t;
	uint8_t buf[8192];
	unsigned int nb;
	uint32_t id, len;

	nt_up(&t, false, VER1 | FEAT(MRG_RXBUF));
	rx_post(&t, 256, 1);
	vd_kick(&t.d, RXQ);
	CHECK(peer_send_frame(&t, 1000, 1));
	settle(&t);
	CHECK_EQ(vd_used_idx(&t.d, RXQ), 0);		/* one chain stashed */
	vd_desc(&t.d, RXQ, 1, RXBUF + RXSTRIDE, 256, 0, 0);	/* readable: no RX buffer */
	vd_avail(&t.d, RXQ, 1);
	t.rx_desc = 2;
	rx_post(&t, 256, 4);
	vd_kick(&t.d, RXQ);
	settle(&t);
	CHECK(vd_used(&t.d, RXQ, &id, &len) && id == 0 && len == 0);
	CHECK(vd_used(&t.d, RXQ, &id, &len) && id == 1 && len == 0);
	CHECK_EQ(rx_take(&t, buf, sizeof(buf), &nb), HDR + 1000);
	CHECK(nb == 4 && frame_is(buf + HDR, 1000, 1));
	CHECK_EQ(stats(&t).bad_buffers, 1);
	CHECK_EQ(stats(&t).rx_dropped, 0);
	nt_down(&t);
}
