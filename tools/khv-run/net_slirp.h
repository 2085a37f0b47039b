/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-mode networking (--net user) through libslirp: a TCP/IP stack in
 * this process that terminates the guest's connections and makes them
 * again from host sockets, so no privilege is needed.  The guest sees a
 * /24 with itself at .15 (slirp's DHCP), the gateway (the host) at .2 and
 * a DNS forwarder at .3; IPv6 fec0::/64 the same way.
 *
 * The stack runs on a thread of its own and meets the device over a
 * socketpair(AF_UNIX, SOCK_DGRAM): one Ethernet frame per datagram, no
 * virtio-net header, so that to the device it is a tap without offloads.
 * When the device does not read (the guest has no receive buffers), the
 * socket fills and slirp's frames are dropped and counted, which libslirp
 * allows (TCP retransmits); memory stays bounded by the socket buffer.
 *
 * Built only with -DKR_HAVE_SLIRP (and -lslirp); without, creating one
 * fails with a message saying so.
 */
#ifndef KHV_RUN_NET_SLIRP_H
#define KHV_RUN_NET_SLIRP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net_opts.h"

#define KR_SLIRP_NETWORK	"10.0.2.0"	/* /24 */
#define KR_SLIRP_GATEWAY	"10.0.2.2"
#define KR_SLIRP_DNS		"10.0.2.3"
#define KR_SLIRP_GUEST		"10.0.2.15"	/* the first DHCP address */

struct kr_slirp;

/* Whether this build has libslirp. */
bool kr_slirp_available(void);

/*
 * Start the stack with o's port forwards: *fd is the device's end of the
 * frame socketpair (non-blocking, close-on-exec; the caller closes it).
 * NULL + errno with one line in why.
 */
struct kr_slirp *kr_slirp_create(const struct kr_net_opts *o, int *fd, char *why, size_t len);
/* Stop the thread and free the stack; NULL is allowed. */
void kr_slirp_destroy(struct kr_slirp *s);
/* Frames from the stack that the device's end had no room for. */
uint64_t kr_slirp_dropped(struct kr_slirp *s);

#endif
