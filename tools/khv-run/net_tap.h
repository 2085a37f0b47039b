/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tap interfaces as network backends: one Ethernet frame per read() and
 * write() on the fd, non-blocking, optionally each behind the 12-byte
 * virtio-net header of VIRTIO_F_VERSION_1 (IFF_VNET_HDR, TUNSETVNETHDRSZ),
 * which is what lets checksum and segmentation offloads through.
 * Plain calls on an fd: no state, no locks, any thread.
 */
#ifndef KHV_RUN_NET_TAP_H
#define KHV_RUN_NET_TAP_H

#include <linux/if_tun.h>
#include <stdbool.h>
#include <stddef.h>

#define KR_TAP_DEV	"/dev/net/tun"

/*
 * Attach to the tap NAME, creating it if it does not exist (that takes
 * CAP_NET_ADMIN; a tap made beforehand with `ip tuntap add NAME mode tap
 * user USER` does not): the fd, non-blocking and close-on-exec, or -errno
 * with one line in why.
 */
int kr_tap_open(const char *name, bool vnet_hdr, char *why, size_t len);

/*
 * An fd inherited from the parent: check that it is a tap without packet
 * information, say whether it has the virtio-net header (then sized to 12
 * bytes, little-endian), make it non-blocking and close-on-exec.  0 or
 * -errno with one line in why.
 */
int kr_tap_adopt(int fd, bool *vnet_hdr, char *why, size_t len);

/*
 * What the reader of the tap (the guest) takes: TUN_F_CSUM, TUN_F_TSO4,
 * TUN_F_TSO6, TUN_F_TSO_ECN (0: fully formed, checksummed frames only).
 * 0 or -errno.
 */
int kr_tap_set_offload(int fd, unsigned int tun_flags);

#endif
