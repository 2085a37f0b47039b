/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio network device (virtio 1.2 section 5.1, device ID 1): one receive
 * and one transmit queue (no control queue, no multiqueue), frames to and
 * from a backend fd (net_opts.h: a tap, an inherited tap, libslirp's
 * socketpair).
 *
 * Features: VERSION_1 (the transport's), MAC, STATUS (link up), MRG_RXBUF;
 * with a backend that carries the virtio-net header (a tap with vhdr=on)
 * also CSUM, GUEST_CSUM, HOST_TSO4/6, HOST_ECN, GUEST_TSO4/6, GUEST_ECN:
 * the header goes through untouched and the tap does the work
 * (TUNSETOFFLOAD follows what the guest negotiated).  Without it nothing
 * is offered, the device computes no checksum and the guest offloads
 * nothing.  UFO is never offered.  Not offering CTRL_VQ means Linux sets
 * no RX filters: every frame the backend gives reaches the guest, which
 * filters by itself (promiscuous mode and MAC changes need nothing here).
 *
 * Device configuration: mac[6], status (le16, bit 0 link up),
 * max_virtqueue_pairs (1), mtu (0: not offered).
 */
#ifndef KHV_RUN_VIRTIO_NET_H
#define KHV_RUN_VIRTIO_NET_H

#include "evloop.h"
#include "net_opts.h"
#include "virtio_pci.h"

#define KR_VIRTIO_ID_NET	1
#define KR_NET_QUEUE_SIZE	256
#define KR_NET_RXQ		0
#define KR_NET_TXQ		1
#define KR_NET_HDR_LEN		12	/* struct virtio_net_hdr_v1 */
#define KR_NET_FRAME_MIN	14	/* an Ethernet header */
#define KR_NET_FRAME_MAX	65550	/* a 64 KiB GSO frame and its Ethernet header */

/* Feature bits (5.1.3). */
#define KR_VIRTIO_NET_F_CSUM		0
#define KR_VIRTIO_NET_F_GUEST_CSUM	1
#define KR_VIRTIO_NET_F_MTU		3
#define KR_VIRTIO_NET_F_MAC		5
#define KR_VIRTIO_NET_F_GUEST_TSO4	7
#define KR_VIRTIO_NET_F_GUEST_TSO6	8
#define KR_VIRTIO_NET_F_GUEST_ECN	9
#define KR_VIRTIO_NET_F_GUEST_UFO	10
#define KR_VIRTIO_NET_F_HOST_TSO4	11
#define KR_VIRTIO_NET_F_HOST_TSO6	12
#define KR_VIRTIO_NET_F_HOST_ECN	13
#define KR_VIRTIO_NET_F_HOST_UFO	14
#define KR_VIRTIO_NET_F_MRG_RXBUF	15
#define KR_VIRTIO_NET_F_STATUS		16
#define KR_VIRTIO_NET_F_CTRL_VQ		17

/* The header (5.1.6): flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers. */
#define KR_NET_HDR_FLAGS		0
#define KR_NET_HDR_GSO_TYPE		1
#define KR_NET_HDR_NUM_BUFFERS		10
#define KR_NET_HDR_F_NEEDS_CSUM		1
#define KR_NET_HDR_F_DATA_VALID		2
#define KR_NET_GSO_NONE			0
#define KR_NET_GSO_TCPV4		1
#define KR_NET_GSO_UDP			3
#define KR_NET_GSO_TCPV6		4
#define KR_NET_GSO_ECN			0x80

/* Device configuration (5.1.4). */
#define KR_NET_CFG_MAC			0
#define KR_NET_CFG_STATUS		6
#define KR_NET_CFG_MAX_PAIRS		8
#define KR_NET_CFG_MTU			10
#define KR_NET_CFG_LEN			12
#define KR_NET_S_LINK_UP		1

struct kr_net_stats {
	uint64_t rx_packets, rx_bytes;	/* frames given to the guest (bytes without header) */
	/*
	 * Backend frames not given: larger than the guest's buffers, offloads
	 * it did not take, runts, oversized, or pending at a reset.
	 */
	uint64_t rx_dropped;
	uint64_t tx_packets, tx_bytes;	/* guest frames the backend took */
	/*
	 * Guest frames not sent: malformed or oversized, refused by the
	 * backend (tap down, bad GSO header), or held at a reset.
	 */
	uint64_t tx_dropped;
	uint64_t bad_buffers;		/* receive chains unfit for frames, given back empty */
};

struct kr_virtio_net;

/*
 * Plug a network device into pci (slot < 0: first free) over the backend
 * be (which stays the caller's: it outlives the device, see net_opts.h),
 * its fd watched on loop, whose thread does all the frame work.  NULL +
 * errno.
 */
struct kr_virtio_net *kr_virtio_net_create(struct kr_pci *pci, int slot,
					   const struct kr_mem *mem, struct kr_loop *loop,
					   const struct kr_net_backend *be);
/* After the vCPUs stopped; the loop need not run. */
void kr_virtio_net_destroy(struct kr_virtio_net *n);
struct kr_virtio_pci *kr_virtio_net_transport(struct kr_virtio_net *n);
void kr_virtio_net_stats(struct kr_virtio_net *n, struct kr_net_stats *st);
/* The link status the guest sees (a config change interrupt when it changes). */
void kr_virtio_net_set_link(struct kr_virtio_net *n, bool up);

/*
 * Snapshots (snapfield.h): the MAC (a snapshot with another one is
 * refused: the guest took it at probe) and the link status the guest saw,
 * then the transport's (virtio_pci.h), which rewinds the receive queue past
 * the chains the device holds for a frame and the transmit queue past the
 * frame waiting for the backend: the restored device takes them again.
 * The frame received and not yet given to the guest is not state (lost on
 * the restored side: TCP retransmits), nor are the stats.  save: on the I/O
 * thread.  After a load the machine calls kr_virtio_pci_kick_all() on
 * kr_virtio_net_transport(), which also tells the guest about this side's
 * link if it differs from the snapshot's.
 */
/* A RARP from the guest's MAC to the backend, for the switches (after a migration). */
void kr_virtio_net_announce(struct kr_virtio_net *n);
int kr_virtio_net_save(struct kr_virtio_net *n, struct kr_sbuf *b);
int kr_virtio_net_load(struct kr_virtio_net *n, struct kr_sget *g);

#endif
