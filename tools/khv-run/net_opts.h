/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The --net option and the network backend it names.
 *
 *   --net tap=NAME[,mac=52:54:00:12:34:56][,vhdr=on|off]
 *	a tap interface, opened (or created, with CAP_NET_ADMIN) by name;
 *	vhdr=on (the default) exchanges the virtio-net header with the
 *	kernel, so that checksum and segmentation offloads reach the guest.
 *   --net fd=N[,mac=...]
 *	a tap already open on fd N, inherited from the parent (libvirt);
 *	whether it carries the virtio-net header is read from the fd.
 *   --net user[,mac=...][,hostfwd=tcp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...
 *	user-mode networking through libslirp, for unprivileged users:
 *	the guest is 10.0.2.15 (DHCP), the gateway 10.0.2.2, DNS 10.0.2.3.
 *	An empty HOSTADDR is 127.0.0.1 (write 0.0.0.0 to listen on every
 *	address), an empty GUESTADDR 10.0.2.15; udp: forwards UDP.
 *
 * Without mac=, the MAC is 52:6b:68 (0x52: locally administered, unicast;
 * then "kh"), two bytes of the process ID and the device's index
 * (kr_net_default_mac()): stable across reboots of one khv-run, different
 * between the devices of one VM.  Two VMs on one bridge whose PIDs agree
 * in those bits would collide: give mac= there.
 *
 * A backend is opened once per process (kr_net_open()) and outlives the
 * rebuilds of the machine on a guest reboot: a tap created by name would
 * otherwise vanish with its bridge membership, an inherited fd could not
 * be had again.
 */
#ifndef KHV_RUN_NET_OPTS_H
#define KHV_RUN_NET_OPTS_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KR_NET_MAX_FWD		8

enum kr_net_kind {
	KR_NET_TAP = 1,
	KR_NET_FD,
	KR_NET_USER,
};

struct kr_net_fwd {
	bool udp;
	struct in_addr host, guest;	/* network order */
	uint16_t host_port, guest_port;
};

struct kr_net_opts {
	enum kr_net_kind kind;
	char ifname[IFNAMSIZ];		/* tap= */
	int fd;				/* fd= */
	bool vnet_hdr;			/* tap=: vhdr=, on unless off */
	bool has_mac;
	uint8_t mac[6];
	unsigned int n_fwd;		/* user: hostfwd= */
	struct kr_net_fwd fwd[KR_NET_MAX_FWD];
};

/* 0, or -EINVAL with one line for the user in why. */
int kr_net_parse(const char *arg, struct kr_net_opts *o, char *why, size_t len);
/* The canonical option string (what kr_net_parse() reads back the same): its length. */
int kr_net_format(const struct kr_net_opts *o, char *buf, size_t len);
/* The default MAC of the index-th network device of this process. */
void kr_net_default_mac(uint8_t mac[6], unsigned int index);

struct kr_slirp;

/* An open backend: frames go both ways over fd, one per read or write. */
struct kr_net_backend {
	int fd;			/* non-blocking, close-on-exec */
	bool vnet_hdr;		/* each frame starts with the 12-byte virtio-net header */
	bool tap;		/* fd is a tap: offloads are set with TUNSETOFFLOAD */
	uint8_t mac[6];		/* the guest's */
	struct kr_slirp *slirp;	/* user: the stack at fd's other end */
};

/*
 * Open what o names for the index-th network device: 0, or -errno with
 * one line in why (no such tap, no permission, fd N is not a tap, a
 * forwarded port taken, khv-run built without libslirp).
 */
int kr_net_open(const struct kr_net_opts *o, unsigned int index, struct kr_net_backend *be,
		char *why, size_t len);
void kr_net_close(struct kr_net_backend *be);

#endif
