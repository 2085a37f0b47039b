// SPDX-License-Identifier: GPL-2.0
/*
 * The network backends: the --net option (net_opts.c), taps (net_tap.c)
 * and user-mode networking (net_slirp.c).  A real tap is made in a network
 * namespace of the test's own (a thread that unshares it), so nothing shows
 * on the host; without /dev/net/tun or the privilege that takes, those
 * tests say "# skip".  libslirp is driven with frames built by hand (ARP,
 * DHCP), through the whole device.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
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
#include "../net_opts.h"
#include "../net_slirp.h"
#include "../net_tap.h"
#include "../virtio_net.h"

#define SLOT		5
#define BARADDR		0xc9000000ull
#define QSIZE		64
#define RXRING		0x10000ull
#define TXRING		0x20000ull
#define TXBUF		0x30000ull
#define RXBUF		0x100000ull
#define RXSTRIDE	0x1000ull
#define HDR		KR_NET_HDR_LEN
#define FEAT(b)		(1ull << KR_VIRTIO_NET_F_##b)
#define VER1		(1ull << KR_VIRTIO_F_VERSION_1)
#define ETHERTYPE_TEST	0x88b5

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

/* ---- the option ---- */

static int parse(const char *s, struct kr_net_opts *o, char *why)
{
	why[0] = 0;
	return kr_net_parse(s, o, why, 200);
}

KR_TEST(net_opts_valid)
{
	struct kr_net_opts o;
	char why[200], out[512];

	CHECK_EQ(parse("tap=tap0", &o, why), 0);
	CHECK_EQ(o.kind, KR_NET_TAP);
	CHECK_STR(o.ifname, "tap0");
	CHECK(o.vnet_hdr && !o.has_mac && o.n_fwd == 0);
	kr_net_format(&o, out, sizeof(out));
	CHECK_STR(out, "tap=tap0");

	CHECK_EQ(parse("tap=vm-net.1,mac=52:54:00:AB:cd:ef,vhdr=off", &o, why), 0);
	CHECK_STR(o.ifname, "vm-net.1");
	CHECK(o.has_mac && !o.vnet_hdr);
	CHECK_EQ(o.mac[0], 0x52);
	CHECK_EQ(o.mac[3], 0xab);
	CHECK_EQ(o.mac[5], 0xef);
	kr_net_format(&o, out, sizeof(out));
	CHECK_STR(out, "tap=vm-net.1,mac=52:54:00:ab:cd:ef,vhdr=off");
	CHECK_EQ(parse("tap=tap0,vhdr=on", &o, why), 0);
	CHECK(o.vnet_hdr);

	CHECK_EQ(parse("fd=23", &o, why), 0);
	CHECK_EQ(o.kind, KR_NET_FD);
	CHECK_EQ(o.fd, 23);

	CHECK_EQ(parse("user", &o, why), 0);
	CHECK_EQ(o.kind, KR_NET_USER);
	CHECK_EQ(parse("user,hostfwd=tcp::2222-:22", &o, why), 0);
	CHECK_EQ(o.n_fwd, 1);
	CHECK(!o.fwd[0].udp);
	CHECK_EQ(o.fwd[0].host_port, 2222);
	CHECK_EQ(o.fwd[0].guest_port, 22);
	CHECK_EQ(ntohl(o.fwd[0].host.s_addr), 0x7f000001);	/* loopback unless told */
	CHECK_EQ(ntohl(o.fwd[0].guest.s_addr), 0x0a00020f);	/* 10.0.2.15 */
	CHECK_EQ(parse("user,hostfwd=udp:0.0.0.0:5353-10.0.2.20:53,hostfwd=tcp::8080-:80,"
		       "mac=02:00:00:00:00:01", &o, why), 0);
	CHECK_EQ(o.n_fwd, 2);
	CHECK(o.fwd[0].udp && o.fwd[0].host.s_addr == 0);
	kr_net_format(&o, out, sizeof(out));
	CHECK_STR(out, "user,mac=02:00:00:00:00:01,hostfwd=udp:0.0.0.0:5353-10.0.2.20:53,"
		  "hostfwd=tcp:127.0.0.1:8080-10.0.2.15:80");
	/* The canonical form reads back the same. */
	{
		struct kr_net_opts o2;

		CHECK_EQ(parse(out, &o2, why), 0);
		CHECK(o2.n_fwd == 2 && o2.fwd[1].host_port == 8080 && o2.has_mac);
	}
	/* A short buffer: cut, NUL-terminated, the full length returned. */
	CHECK_EQ(kr_net_format(&o, out, 8), strlen("user,mac=02:00:00:00:00:01,hostfwd=udp:"
		 "0.0.0.0:5353-10.0.2.20:53,hostfwd=tcp:127.0.0.1:8080-10.0.2.15:80"));
	CHECK_STR(out, "user,ma");
}

KR_TEST(net_opts_errors)
{
	static const struct {
		const char *arg, *says;
	} bad[] = {
		{ "", "empty" },
		{ "tap", "the first item is the backend" },
		{ "usr", "the first item is the backend" },
		{ "mac=52:54:00:12:34:56", "the first item is the backend" },
		{ "tap=", "interface name" },
		{ "tap=averyveryverylongname", "interface name" },
		{ "tap=a/b", "interface name" },
		{ "tap=tap%d", "interface name" },
		{ "tap=..", "interface name" },
		{ "tap=tap0,mcc=52:54:00:12:34:56", "unknown; tap= takes mac= and vhdr=on|off" },
		{ "fd=3,mca=1", "unknown; fd= takes mac=" },
		{ "user,hostfw=tcp::1-:2", "unknown; user takes mac= and hostfwd=" },
		{ "tap=tap0,mac=52:54:00:12:34", "six hex pairs" },
		{ "tap=tap0,mac=52:54:00:12:34:5g", "six hex pairs" },
		{ "tap=tap0,mac=52-54-00-12-34-56", "six hex pairs" },
		{ "tap=tap0,mac=01:00:5e:00:00:01", "unicast" },
		{ "tap=tap0,mac=00:00:00:00:00:00", "not all zero" },
		{ "tap=tap0,mac=52:54:00:12:34:56,mac=52:54:00:12:34:57", "mac= given twice" },
		{ "tap=tap0,vhdr=yes", "vhdr= is on or off" },
		{ "tap=tap0,vhdr=on,vhdr=off", "vhdr= given twice" },
		{ "fd=-1", "file descriptor number" },
		{ "fd=abc", "file descriptor number" },
		{ "fd=99999999999", "file descriptor number" },
		{ "fd=", "file descriptor number" },
		{ "fd=3,vhdr=on", "vhdr= is for tap=" },
		{ "user,vhdr=off", "vhdr= is for tap=" },
		{ "tap=tap0,hostfwd=tcp::1-:2", "hostfwd= is for user" },
		{ "user,hostfwd=tcp:2222-:22", "expected hostfwd=" },
		{ "user,hostfwd=tcp::0-:22", "expected hostfwd=" },
		{ "user,hostfwd=tcp::70000-:22", "expected hostfwd=" },
		{ "user,hostfwd=tcp::+22-:22", "expected hostfwd=" },
		{ "user,hostfwd=sctp::1-:2", "expected hostfwd=" },
		{ "user,hostfwd=tcp:1.2.3:1-:2", "expected hostfwd=" },
		{ "user,hostfwd=tcp::2222-192.168.1.5:22", "the guest in 10.0.2.0/24" },
		{ "user,hostfwd=tcp::2222-10.0.2.255:22", "the guest in 10.0.2.0/24" },
		{ "user,hostfwd=tcp::2222-10.0.2.0:22", "the guest in 10.0.2.0/24" },
		{ "user,hostfwd=tcp::22-:22,hostfwd=tcp::22-:23", "forwarded twice" },
		{ "user,hostfwd=tcp::1-:1,hostfwd=tcp::2-:1,hostfwd=tcp::3-:1,hostfwd=tcp::4-:1,"
		  "hostfwd=tcp::5-:1,hostfwd=tcp::6-:1,hostfwd=tcp::7-:1,hostfwd=tcp::8-:1,"
		  "hostfwd=tcp::9-:1", "too many" },
		{ "tap=tap0,,vhdr=on", "an empty item" },
		{ "tap=tap0,", "an empty item" },
		{ ",tap=tap0", "an empty item" },
		{ "user,mac=52:54:00:12:34:56\n", "six hex pairs" },
		{ "user,\x01\x02\x7f\n", "unknown" },
	};
	struct kr_net_opts o;
	char why[200];

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		int err = parse(bad[i].arg, &o, why);

		CHECK_EQ(err, -EINVAL);
		if (!strstr(why, bad[i].says))
			printf("#   '%s': \"%s\" lacks \"%s\"\n", bad[i].arg, why, bad[i].says);
		CHECK(strstr(why, bad[i].says) != NULL);
		CHECK(!strchr(why, '\n'));		/* one line, whatever the input */
		CHECK(!strchr(why, '\x01'));
	}
	CHECK_EQ(kr_net_parse(NULL, &o, why, sizeof(why)), -EINVAL);
}

KR_TEST(net_default_mac)
{
	uint8_t a[6], b[6];

	kr_net_default_mac(a, 0);
	kr_net_default_mac(b, 1);
	CHECK_EQ(a[0], 0x52);
	CHECK_EQ(a[0] & 3, 2);				/* locally administered, unicast */
	CHECK(a[1] == 0x6b && a[2] == 0x68);
	CHECK(!memcmp(a, b, 5));			/* same process */
	CHECK(a[5] == 0 && b[5] == 1);			/* per device */
	CHECK_EQ(a[3] << 8 | a[4], (getpid() ^ getpid() >> 16) & 0xffff);
}

/* ---- taps ---- */

KR_TEST(net_tap_adopt_rejects)
{
	struct kr_net_opts o;
	struct kr_net_backend be;
	char why[200], arg[64];
	bool vnet;
	int sv[2], null = open("/dev/null", O_RDWR | O_CLOEXEC);

	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	CHECK_EQ(kr_tap_adopt(sv[0], &vnet, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "not a tap") != NULL);
	CHECK_EQ(kr_tap_adopt(null, &vnet, why, sizeof(why)), -EINVAL);
	CHECK_EQ(kr_tap_adopt(1000, &vnet, why, sizeof(why)), -EBADF);
	CHECK(strstr(why, "not an open file descriptor") != NULL);
	snprintf(arg, sizeof(arg), "fd=%d,mac=52:54:00:00:00:01", sv[1]);
	CHECK_EQ(parse(arg, &o, why), 0);
	CHECK(kr_net_open(&o, 0, &be, why, sizeof(why)) < 0);
	CHECK(strstr(why, "not a tap") != NULL);
	CHECK_EQ(kr_tap_open("", true, why, sizeof(why)), -EINVAL);
	close(sv[0]);
	close(sv[1]);
	close(null);
}

/* A device over backend be with a fake machine and a loop run by the test. */
struct dt {
	struct tmach m;
	struct kr_loop *loop;
	int stopfd;
	struct kr_virtio_net *n;
	struct vdrv d;
	uint16_t rx_desc, tx_desc;
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

static void pump(struct dt *t)
{
	uint64_t one = 1;

	if (write(t->stopfd, &one, sizeof(one)) == sizeof(one))
		kr_loop_run(t->loop);
}

static bool dt_up(struct dt *t, const struct kr_net_backend *be, uint64_t features)
{
	memset(t, 0, sizeof(*t));
	tm_init(&t->m);
	t->loop = kr_loop_new();
	t->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!t->loop || t->stopfd < 0 || kr_loop_add(t->loop, t->stopfd, EPOLLIN, on_stop, t->loop))
		return false;
	t->n = kr_virtio_net_create(t->m.pci, SLOT, &t->m.mem, t->loop, be);
	if (!t->n || vd_probe(&t->d, &t->m, SLOT, BARADDR))
		return false;
	if (!(vd_negotiate(&t->d, features) & KR_VIRTIO_STATUS_FEATURES_OK))
		return false;
	vd_msix_enable(&t->d);
	vd_setup_queue(&t->d, KR_NET_RXQ, QSIZE, RXRING, 1);
	vd_setup_queue(&t->d, KR_NET_TXQ, QSIZE, TXRING, 2);
	vd_driver_ok(&t->d);
	for (unsigned int i = 0; i < QSIZE; i++) {
		vd_desc(&t->d, KR_NET_RXQ, i, RXBUF + i * RXSTRIDE, 2048, KR_VQ_DESC_F_WRITE, 0);
		vd_avail(&t->d, KR_NET_RXQ, i);
	}
	vd_kick(&t->d, KR_NET_RXQ);
	pump(t);
	return true;
}

static void dt_down(struct dt *t)
{
	kr_virtio_net_destroy(t->n);
	if (t->loop) {
		kr_loop_del(t->loop, t->stopfd);
		kr_loop_free(t->loop);
	}
	if (t->stopfd > 0)
		close(t->stopfd);
	tm_fini(&t->m);
}

/* The guest sends frame[0..len) (header zero). */
static void dt_send(struct dt *t, const uint8_t *frame, size_t len)
{
	uint8_t *p = tm_ram(&t->m, TXBUF, HDR + len);
	uint16_t i = t->tx_desc++ % QSIZE;

	memset(p, 0, HDR);
	memcpy(p + HDR, frame, len);
	vd_desc(&t->d, KR_NET_TXQ, i, TXBUF, HDR + len, 0, 0);
	vd_avail(&t->d, KR_NET_TXQ, i);
	vd_kick(&t->d, KR_NET_TXQ);
	pump(t);
}

/*
 * Received frames until one has this EtherType (others, e.g. the host's
 * IPv6 chatter, are skipped), pumping the loop for up to 3 s: its length
 * (without header) and a copy in out, or 0.
 */
static size_t dt_recv(struct dt *t, uint16_t ethertype, uint8_t *out, size_t cap)
{
	struct timespec ts = { 0, 1000000 };

	for (int tries = 0; tries < 3000; tries++) {
		uint32_t id, len;

		pump(t);
		while (vd_used(&t->d, KR_NET_RXQ, &id, &len)) {
			const uint8_t *p = tm_ram(&t->m, RXBUF + (id % QSIZE) * RXSTRIDE, 2048);
			bool match = len >= HDR + 14 && len <= 2048 &&
				     (p[HDR + 12] << 8 | p[HDR + 13]) == ethertype;

			if (match)
				memcpy(out, p + HDR, len - HDR < cap ? len - HDR : cap);
			/* The buffer goes straight back. */
			vd_avail(&t->d, KR_NET_RXQ, id % QSIZE);
			vd_kick(&t->d, KR_NET_RXQ);
			if (match)
				return len - HDR;
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void test_frame(uint8_t *f, size_t len, const uint8_t *dst, uint8_t seed)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = ETHERTYPE_TEST >> 8;
	f[13] = ETHERTYPE_TEST & 0xff;
	for (size_t i = 14; i < len; i++)
		f[i] = seed + i;
}

static int if_up(const char *name)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr))
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(s, SIOCSIFFLAGS, &ifr))
		err = -errno;
	if (s >= 0)
		close(s);
	return err;
}

/* ETHTOOL_GTSO of the interface: 1 on, 0 off, -1 unknown. */
static int tso_of(const char *name)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GTSO };
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = -1;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	ifr.ifr_data = (void *)&ev;
	if (s >= 0 && !ioctl(s, SIOCETHTOOL, &ifr))
		r = ev.data;
	if (s >= 0)
		close(s);
	return r;
}

struct tap_result {
	const char *skip;
};

/* The real-tap test body, in a thread with a network namespace of its own. */
static void *tap_thread(void *arg)
{
	struct tap_result *res = arg;
	struct kr_net_opts o;
	struct kr_net_backend be;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t f[1000], got[2048];
	char why[200];
	struct dt t;
	bool vnet;
	int ps, dupfd, plain;

	if (access(KR_TAP_DEV, R_OK | W_OK)) {
		res->skip = "no " KR_TAP_DEV;
		return NULL;
	}
	if (unshare(CLONE_NEWNET)) {
		res->skip = "cannot make a network namespace (no CAP_SYS_ADMIN)";
		return NULL;
	}
	CHECK_EQ(parse("tap=krtap0,mac=52:54:00:aa:bb:cc", &o, why), 0);
	if (kr_net_open(&o, 0, &be, why, sizeof(why))) {
		res->skip = "cannot create a tap (no CAP_NET_ADMIN)";
		return NULL;
	}
	CHECK(be.tap && be.vnet_hdr);
	CHECK(!memcmp(be.mac, guest_mac, 6));
	/* What an inherited fd looks like: the same tap, its header seen. */
	dupfd = dup(be.fd);
	vnet = false;
	CHECK_EQ(kr_tap_adopt(dupfd, &vnet, why, sizeof(why)), 0);
	CHECK(vnet);
	CHECK(fcntl(dupfd, F_GETFL) & O_NONBLOCK);
	close(dupfd);
	plain = kr_tap_open("krtap1", false, why, sizeof(why));
	CHECK(plain >= 0);
	CHECK_EQ(kr_tap_adopt(plain, &vnet, why, sizeof(why)), 0);
	CHECK(!vnet);
	close(plain);
	/* An interface of that name that is no tap. */
	CHECK_EQ(kr_tap_open("lo", true, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "not a tap") != NULL);

	CHECK_EQ(if_up("krtap0"), 0);
	ps = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	sll.sll_ifindex = if_nametoindex("krtap0");
	CHECK(ps >= 0 && sll.sll_ifindex > 0);
	CHECK_EQ(bind(ps, (struct sockaddr *)&sll, sizeof(sll)), 0);
	CHECK(dt_up(&t, &be, VER1 | FEAT(MRG_RXBUF) | FEAT(CSUM) | FEAT(GUEST_CSUM) |
		    FEAT(GUEST_TSO4) | FEAT(HOST_TSO4)));
	/* The guest's TSO choice reached the tap (TUNSETOFFLOAD). */
	CHECK_EQ(tso_of("krtap0"), 1);

	/* Guest to host: the frame arrives on the interface. */
	test_frame(f, sizeof(f), bcast, 1);
	dt_send(&t, f, sizeof(f));
	{
		bool seen = false;

		for (int i = 0; i < 100 && !seen; i++) {
			struct pollfd p = { .fd = ps, .events = POLLIN };
			ssize_t n;

			if (poll(&p, 1, 30) <= 0)
				continue;
			n = recv(ps, got, sizeof(got), MSG_DONTWAIT);
			seen = n == sizeof(f) && !memcmp(got, f, sizeof(f));
		}
		CHECK(seen);
	}
	/* Host to guest: sent on the interface, read from the tap, into a guest buffer. */
	test_frame(f, sizeof(f), guest_mac, 2);
	CHECK_EQ(sendto(ps, f, sizeof(f), 0, (struct sockaddr *)&sll, sizeof(sll)), sizeof(f));
	CHECK_EQ(dt_recv(&t, ETHERTYPE_TEST, got, sizeof(got)), sizeof(f));
	CHECK(!memcmp(got, f, sizeof(f)));
	{
		struct kr_net_stats st;

		kr_virtio_net_stats(t.n, &st);
		CHECK_EQ(st.tx_packets, 1);
		CHECK(st.rx_packets >= 1);
		CHECK_EQ(st.tx_dropped, 0);
	}
	/* A reset takes the offloads back. */
	vd_common_write(&t.d, KR_VIRTIO_COMMON_STATUS, 1, 0);
	CHECK_EQ(tso_of("krtap0"), 0);
	dt_down(&t);
	close(ps);
	kr_net_close(&be);
	return NULL;
}

KR_TEST(net_tap_real)
{
	struct tap_result res = { NULL };
	pthread_t th;

	/* unshare() changes the calling thread only: the rest of the tests stay outside. */
	CHECK_EQ(pthread_create(&th, NULL, tap_thread, &res), 0);
	pthread_join(th, NULL);
	if (res.skip)
		printf("# skip net_tap_real: %s\n", res.skip);
}

/* ---- user-mode networking ---- */

static uint16_t ip_csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s;
}

static size_t arp_request(uint8_t *f, const char *target)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct in_addr tip, sip;

	memset(f, 0, 60);
	memcpy(f, bcast, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	f[15] = 1;			/* Ethernet */
	f[16] = 0x08;			/* IPv4 */
	f[18] = 6;
	f[19] = 4;
	f[21] = 1;			/* request */
	memcpy(f + 22, guest_mac, 6);
	inet_pton(AF_INET, KR_SLIRP_GUEST, &sip);
	memcpy(f + 28, &sip, 4);
	inet_pton(AF_INET, target, &tip);
	memcpy(f + 38, &tip, 4);
	return 60;
}

/* A DHCPDISCOVER as a client without an address broadcasts it. */
static size_t dhcp_discover(uint8_t *f)
{
	uint8_t *ip = f + 14, *udp = ip + 20, *bp = udp + 8;
	const size_t bootp = 548, iplen = 20 + 8 + bootp;

	memset(f, 0, 14 + iplen);
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = iplen >> 8;
	ip[3] = iplen & 0xff;
	ip[8] = 64;
	ip[9] = 17;			/* UDP */
	memset(ip + 16, 0xff, 4);	/* to 255.255.255.255, from 0.0.0.0 */
	kr_put_le(ip + 10, 2, htons(ip_csum(ip, 20)));
	udp[1] = 68;
	udp[3] = 67;
	udp[4] = (8 + bootp) >> 8;
	udp[5] = (8 + bootp) & 0xff;
	bp[0] = 1;			/* BOOTREQUEST */
	bp[1] = 1;
	bp[2] = 6;
	memcpy(bp + 4, "\x12\x34\x56\x78", 4);
	bp[10] = 0x80;			/* broadcast */
	memcpy(bp + 28, guest_mac, 6);
	memcpy(bp + 236, "\x63\x82\x53\x63", 4);	/* magic cookie */
	memcpy(bp + 240, "\x35\x01\x01\xff", 4);	/* DHCP message type DISCOVER, end */
	return 14 + iplen;
}

/* The DHCP message type of an offer to us, or -1. */
static int dhcp_type(const uint8_t *f, size_t len, struct in_addr *yiaddr)
{
	const uint8_t *ip = f + 14, *udp, *bp, *opt, *end = f + len;

	if (len < 14 + 20 + 8 + 240 || ip[9] != 17)
		return -1;
	udp = ip + (ip[0] & 15) * 4;
	bp = udp + 8;
	if ((udp[2] << 8 | udp[3]) != 68 || bp[0] != 2 || memcmp(bp + 4, "\x12\x34\x56\x78", 4))
		return -1;
	memcpy(yiaddr, bp + 16, 4);
	opt = bp + 240;
	while (opt < end && *opt != 255) {
		if (*opt == 0) {		/* pad */
			opt++;
			continue;
		}
		if (opt + 2 > end || opt + 2 + opt[1] > end)
			break;
		if (opt[0] == 53 && opt[1] == 1)
			return opt[2];
		opt += 2 + opt[1];
	}
	return -1;
}

KR_TEST(net_slirp_arp_and_dhcp)
{
	struct kr_net_opts o;
	struct kr_net_backend be;
	uint8_t f[1024], got[2048];
	char why[200];
	struct in_addr a;
	struct dt t;
	size_t n;
	int fds = t_count_fds();

	CHECK_EQ(parse("user,mac=52:54:00:aa:bb:cc", &o, why), 0);
	if (!kr_slirp_available()) {
		CHECK(kr_net_open(&o, 0, &be, why, sizeof(why)) < 0);
		CHECK(strstr(why, "without libslirp") != NULL);
		printf("# skip net_slirp_arp_and_dhcp: built without libslirp\n");
		return;
	}
	CHECK_EQ(kr_net_open(&o, 0, &be, why, sizeof(why)), 0);
	CHECK(!be.tap && !be.vnet_hdr && be.slirp);
	/* slirp: no offloads for the guest to use. */
	CHECK(dt_up(&t, &be, VER1 | FEAT(MRG_RXBUF)));
	CHECK(!(vd_negotiate(&t.d, VER1 | FEAT(CSUM)) & KR_VIRTIO_STATUS_FEATURES_OK));
	dt_down(&t);
	CHECK(dt_up(&t, &be, VER1 | FEAT(MRG_RXBUF)));

	/* Who has 10.0.2.2?  The gateway answers, to us. */
	dt_send(&t, f, arp_request(f, KR_SLIRP_GATEWAY));
	n = dt_recv(&t, 0x0806, got, sizeof(got));
	CHECK(n >= 42);
	CHECK(!memcmp(got, guest_mac, 6));
	CHECK_EQ(got[21], 2);				/* reply */
	inet_pton(AF_INET, KR_SLIRP_GATEWAY, &a);
	CHECK(!memcmp(got + 28, &a, 4));		/* sender: the gateway */
	CHECK(!memcmp(got + 32, guest_mac, 6));		/* target: us */
	CHECK(!memcmp(got + 22, got + 6, 6));		/* its MAC, as in its frame */
	/* The DNS address answers too; another one does not exist. */
	dt_send(&t, f, arp_request(f, KR_SLIRP_DNS));
	CHECK(dt_recv(&t, 0x0806, got, sizeof(got)) >= 42);

	/* DHCP: DISCOVER gets an OFFER of 10.0.2.15. */
	dt_send(&t, f, dhcp_discover(f));
	n = dt_recv(&t, 0x0800, got, sizeof(got));
	CHECK_EQ(dhcp_type(got, n, &a), 2);
	inet_pton(AF_INET, KR_SLIRP_GUEST, &o.fwd[0].guest);
	CHECK_EQ(a.s_addr, o.fwd[0].guest.s_addr);
	{
		struct kr_net_stats st;

		kr_virtio_net_stats(t.n, &st);
		CHECK_EQ(st.tx_packets, 3);
		CHECK_EQ(st.tx_dropped, 0);
		CHECK(st.rx_packets >= 3);
	}
	dt_down(&t);
	kr_net_close(&be);
	CHECK_EQ(t_count_fds(), fds);		/* the stack's thread, sockets and pair are gone */
}

KR_TEST(net_slirp_hostfwd)
{
	struct kr_net_opts o;
	struct kr_net_backend be, be2;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char arg[96], why[200];
	uint8_t f[2048];
	struct in_addr guest;
	int port = 0, s;
	bool asked = false;

	if (!kr_slirp_available()) {
		printf("# skip net_slirp_hostfwd: built without libslirp\n");
		return;
	}
	/* A free port: try a few. */
	for (int i = 0; i < 20 && !port; i++) {
		int p = 20000 + (getpid() * 7 + i * 101) % 40000;

		snprintf(arg, sizeof(arg), "user,hostfwd=tcp:127.0.0.1:%d-:22", p);
		CHECK_EQ(parse(arg, &o, why), 0);
		if (!kr_net_open(&o, 0, &be, why, sizeof(why)))
			port = p;
	}
	CHECK(port != 0);
	if (!port)
		return;
	/* Taken now: a second stack on it fails with a clear line. */
	CHECK(kr_net_open(&o, 1, &be2, why, sizeof(why)) < 0);
	CHECK(strstr(why, "hostfwd tcp:127.0.0.1:") != NULL);
	/* A host connection: slirp takes it and reaches for the guest, first with an ARP. */
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_EQ(connect(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	inet_pton(AF_INET, KR_SLIRP_GUEST, &guest);
	for (int i = 0; i < 300 && !asked; i++) {
		struct pollfd p = { .fd = be.fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 10) <= 0)
			continue;
		n = recv(be.fd, f, sizeof(f), MSG_DONTWAIT);
		asked = n >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 1 &&
			!memcmp(f + 38, &guest, 4);
	}
	CHECK(asked);
	close(s);
	kr_net_close(&be);
	CHECK_EQ(be.fd, -1);
}
