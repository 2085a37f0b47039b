// SPDX-License-Identifier: GPL-2.0
/*
 * Taps (net_tap.h), through the tun driver's ioctls (linux/if_tun.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <net/if.h>

#include "net_tap.h"

#define VNET_HDR_LEN	12	/* struct virtio_net_hdr_v1: num_buffers included */

/* Frames carry the 12-byte little-endian header of virtio 1.x. */
static int vnet_hdr_setup(int fd)
{
	int sz = VNET_HDR_LEN, le = 1;

	if (ioctl(fd, TUNSETVNETHDRSZ, &sz))
		return -errno;
	/* Native order is little-endian on x86; a big-endian host needs this call. */
	if (ioctl(fd, TUNSETVNETLE, &le) && errno != EINVAL && errno != ENOTTY)
		return -errno;
	return 0;
}

int kr_tap_open(const char *name, bool vnet_hdr, char *why, size_t len)
{
	struct ifreq ifr;
	unsigned int features = 0;
	int fd, err;

	if (!name || !*name || strlen(name) >= IFNAMSIZ) {
		snprintf(why, len, "tap: a name of 1 to %d characters is needed", IFNAMSIZ - 1);
		return -EINVAL;
	}
	fd = open(KR_TAP_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, len, "tap %s: %s: %s", name, KR_TAP_DEV, strerror(-err));
		return err;
	}
	if (vnet_hdr && (ioctl(fd, TUNGETFEATURES, &features) || !(features & IFF_VNET_HDR))) {
		close(fd);
		snprintf(why, len, "tap %s: this kernel's taps have no virtio-net header; "
			 "use vhdr=off", name);
		return -EOPNOTSUPP;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		const char *hint = "";

		err = -errno;
		close(fd);
		if (err == -EPERM)
			hint = " (creating a tap needs CAP_NET_ADMIN; or make it beforehand: "
			       "ip tuntap add NAME mode tap user USER)";
		else if (err == -EINVAL)
			hint = " (an interface of that name exists and is not a tap)";
		else if (err == -EBUSY)
			hint = " (in use, or made with other flags such as multi_queue)";
		snprintf(why, len, "tap %s: %s%s", name, strerror(-err), hint);
		return err;
	}
	if (vnet_hdr) {
		err = vnet_hdr_setup(fd);
		if (err) {
			close(fd);
			snprintf(why, len, "tap %s: virtio-net header: %s", name, strerror(-err));
			return err;
		}
	}
	return fd;
}

int kr_tap_adopt(int fd, bool *vnet_hdr, char *why, size_t len)
{
	struct ifreq ifr;
	int fl, err;

	if (fd < 0 || fcntl(fd, F_GETFD) < 0) {
		snprintf(why, len, "--net fd=%d: not an open file descriptor", fd);
		return -EBADF;
	}
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr)) {
		err = -errno;
		snprintf(why, len, "--net fd=%d: not a tap (%s)", fd, strerror(-err));
		return err == -EBADF ? err : -EINVAL;
	}
	if (!(ifr.ifr_flags & IFF_TAP)) {
		snprintf(why, len, "--net fd=%d: a tun (IP) device, not a tap (Ethernet)", fd);
		return -EINVAL;
	}
	if (!(ifr.ifr_flags & IFF_NO_PI)) {
		snprintf(why, len, "--net fd=%d: the tap adds packet information (no IFF_NO_PI)",
			 fd);
		return -EINVAL;
	}
	*vnet_hdr = ifr.ifr_flags & IFF_VNET_HDR;
	if (*vnet_hdr) {
		err = vnet_hdr_setup(fd);
		if (err) {
			snprintf(why, len, "--net fd=%d: virtio-net header: %s", fd,
				 strerror(-err));
			return err;
		}
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) || fcntl(fd, F_SETFD, FD_CLOEXEC)) {
		err = -errno;
		snprintf(why, len, "--net fd=%d: %s", fd, strerror(-err));
		return err;
	}
	return 0;
}

int kr_tap_set_offload(int fd, unsigned int tun_flags)
{
	return ioctl(fd, TUNSETOFFLOAD, tun_flags) ? -errno : 0;
}
