// SPDX-License-Identifier: GPL-2.0
/*
 * The --net option (net_opts.h): parse it, print it back, open the
 * backend it names.  The string is outside input: anything wrong in it is
 * one line naming the item, never a crash; nothing is read past its NUL.
 * No state, no locks: called on the main thread before the VM runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net_opts.h"
#include "net_slirp.h"
#include "net_tap.h"
#include "strbuf.h"

#define SHOW	40	/* at most this much of an item is quoted back */

/* One item of the list: s[0..n), not NUL-terminated. */
struct item {
	const char *s;
	size_t n;
};

static bool item_is(const struct item *it, const char *word)
{
	return it->n == strlen(word) && !memcmp(it->s, word, it->n);
}

/* "key=value": true and the value when the item starts with key=. */
static bool item_key(const struct item *it, const char *key, struct item *val)
{
	size_t k = strlen(key);

	if (it->n <= k || memcmp(it->s, key, k) || it->s[k] != '=')
		return false;
	val->s = it->s + k + 1;
	val->n = it->n - k - 1;
	return true;
}

/* At most SHOW bytes of s[0..n) for a message: printable, one line. */
static void quote(char *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < SHOW; i++)
		out[i] = s[i] >= ' ' && s[i] < 0x7f ? s[i] : '?';
	strcpy(out + i, n > SHOW ? "..." : "");
}

static int bad(char *why, size_t len, const struct item *it, const char *what)
{
	char q[SHOW + 4];

	quote(q, it->s, it->n);
	snprintf(why, len, "--net: '%s': %s", q, what);
	return -EINVAL;
}

static int hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* xx:xx:xx:xx:xx:xx, unicast and not all zero. */
static bool parse_mac(const struct item *v, uint8_t mac[6])
{
	if (v->n != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		int hi = hexdigit(v->s[3 * i]), lo = hexdigit(v->s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && v->s[3 * i + 2] != ':'))
			return false;
		mac[i] = hi << 4 | lo;
	}
	return !(mac[0] & 1) && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

/* Decimal digits only, no sign, value <= max. */
static bool parse_uint(const struct item *v, unsigned long max, unsigned long *out)
{
	unsigned long x = 0;

	if (!v->n || v->n > 10)
		return false;
	for (size_t i = 0; i < v->n; i++) {
		if (v->s[i] < '0' || v->s[i] > '9')
			return false;
		x = x * 10 + (v->s[i] - '0');
	}
	if (x > max)
		return false;
	*out = x;
	return true;
}

/* A dotted IPv4 address; empty is dflt. */
static bool parse_ipv4(const struct item *v, const char *dflt, struct in_addr *a)
{
	char buf[16];

	if (!v->n)
		return inet_pton(AF_INET, dflt, a) == 1;
	if (v->n >= sizeof(buf))
		return false;
	memcpy(buf, v->s, v->n);
	buf[v->n] = 0;
	return inet_pton(AF_INET, buf, a) == 1;
}

static bool parse_port(const struct item *v, uint16_t *port)
{
	unsigned long p;

	if (!parse_uint(v, 65535, &p) || !p)
		return false;
	*port = p;
	return true;
}

/* Split v at the first c: head before, tail after; false when there is none. */
static bool split(const struct item *v, char c, struct item *head, struct item *tail)
{
	const char *p = memchr(v->s, c, v->n);

	if (!p)
		return false;
	head->s = v->s;
	head->n = p - v->s;
	tail->s = p + 1;
	tail->n = v->n - head->n - 1;
	return true;
}

/* tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT */
static bool parse_fwd(const struct item *v, struct kr_net_fwd *f)
{
	struct item proto, rest, host, guest, haddr, hport, gaddr, gport;
	uint32_t net = ntohl(inet_addr(KR_SLIRP_NETWORK)), g;

	if (!split(v, ':', &proto, &rest) || !split(&rest, '-', &host, &guest) ||
	    !split(&host, ':', &haddr, &hport) || !split(&guest, ':', &gaddr, &gport))
		return false;
	if (item_is(&proto, "tcp"))
		f->udp = false;
	else if (item_is(&proto, "udp"))
		f->udp = true;
	else
		return false;
	if (!parse_ipv4(&haddr, "127.0.0.1", &f->host) || !parse_port(&hport, &f->host_port) ||
	    !parse_ipv4(&gaddr, KR_SLIRP_GUEST, &f->guest) || !parse_port(&gport, &f->guest_port))
		return false;
	/* The guest end is a host of the virtual /24, not its network or broadcast address. */
	g = ntohl(f->guest.s_addr);
	return (g & 0xffffff00) == net && (g & 0xff) && (g & 0xff) != 0xff;
}

/* A tap name the kernel would take as is (dev_valid_name), no templates. */
static bool valid_ifname(const struct item *v)
{
	if (!v->n || v->n >= IFNAMSIZ || item_is(v, ".") || item_is(v, ".."))
		return false;
	for (size_t i = 0; i < v->n; i++) {
		unsigned char c = v->s[i];

		if (c <= ' ' || c >= 0x7f || c == '/' || c == ':' || c == '%')
			return false;
	}
	return true;
}

static int parse_backend(const struct item *it, struct kr_net_opts *o, char *why, size_t len)
{
	struct item v;
	unsigned long fd;

	if (item_key(it, "tap", &v)) {
		if (!valid_ifname(&v))
			return bad(why, len, it, "an interface name is 1 to 15 characters, "
				   "no spaces, '/', ':' or '%'");
		o->kind = KR_NET_TAP;
		memcpy(o->ifname, v.s, v.n);
		o->ifname[v.n] = 0;
		return 0;
	}
	if (item_key(it, "fd", &v)) {
		if (!parse_uint(&v, 0x7fffffff, &fd))
			return bad(why, len, it, "fd= takes a file descriptor number");
		o->kind = KR_NET_FD;
		o->fd = fd;
		return 0;
	}
	if (item_is(it, "user")) {
		o->kind = KR_NET_USER;
		return 0;
	}
	return bad(why, len, it, "the first item is the backend: tap=NAME, fd=N or user");
}

static int parse_item(const struct item *it, struct kr_net_opts *o, bool *seen_vhdr, char *why,
		      size_t len)
{
	struct item v;

	if (item_key(it, "mac", &v)) {
		if (o->has_mac)
			return bad(why, len, it, "mac= given twice");
		if (!parse_mac(&v, o->mac))
			return bad(why, len, it, "a MAC is six hex pairs with ':', unicast "
				   "(first byte even), not all zero");
		o->has_mac = true;
		return 0;
	}
	if (item_key(it, "vhdr", &v)) {
		if (o->kind != KR_NET_TAP)
			return bad(why, len, it, "vhdr= is for tap= (an fd's own setting is used)");
		if (*seen_vhdr)
			return bad(why, len, it, "vhdr= given twice");
		if (item_is(&v, "on"))
			o->vnet_hdr = true;
		else if (item_is(&v, "off"))
			o->vnet_hdr = false;
		else
			return bad(why, len, it, "vhdr= is on or off");
		*seen_vhdr = true;
		return 0;
	}
	if (item_key(it, "hostfwd", &v)) {
		struct kr_net_fwd f;

		if (o->kind != KR_NET_USER)
			return bad(why, len, it, "hostfwd= is for user networking");
		if (o->n_fwd == KR_NET_MAX_FWD)
			return bad(why, len, it, "too many hostfwd=");
		if (!parse_fwd(&v, &f))
			return bad(why, len, it, "expected hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-"
				   "[GUESTADDR]:GUESTPORT, the guest in 10.0.2.0/24");
		for (unsigned int i = 0; i < o->n_fwd; i++)
			if (o->fwd[i].udp == f.udp && o->fwd[i].host_port == f.host_port &&
			    o->fwd[i].host.s_addr == f.host.s_addr)
				return bad(why, len, it, "that host port is forwarded twice");
		o->fwd[o->n_fwd++] = f;
		return 0;
	}
	switch (o->kind) {
	case KR_NET_TAP:
		return bad(why, len, it, "unknown; tap= takes mac= and vhdr=on|off");
	case KR_NET_FD:
		return bad(why, len, it, "unknown; fd= takes mac=");
	default:
		return bad(why, len, it, "unknown; user takes mac= and hostfwd=");
	}
}

int kr_net_parse(const char *arg, struct kr_net_opts *o, char *why, size_t len)
{
	const char *p = arg;
	bool first = true, seen_vhdr = false;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->vnet_hdr = true;
	if (!arg || !*arg) {
		snprintf(why, len, "--net: empty; expected tap=NAME, fd=N or user");
		return -EINVAL;
	}
	for (;;) {
		const char *c = strchr(p, ',');
		struct item it = { p, c ? (size_t)(c - p) : strlen(p) };
		int err;

		if (!it.n) {
			char q[SHOW + 4];

			quote(q, arg, strlen(arg));
			snprintf(why, len, "--net '%s': an empty item", q);
			return -EINVAL;
		}
		err = first ? parse_backend(&it, o, why, len) :
			      parse_item(&it, o, &seen_vhdr, why, len);
		if (err)
			return err;
		first = false;
		if (!c)
			return 0;
		p = c + 1;
	}
}

int kr_net_format(const struct kr_net_opts *o, char *buf, size_t len)
{
	char ha[INET_ADDRSTRLEN], ga[INET_ADDRSTRLEN];
	const uint8_t *m = o->mac;
	size_t n = 0;

	if (len)
		buf[0] = 0;
	if (o->kind == KR_NET_TAP)
		kr_put(buf, len, &n, "tap=%.*s", IFNAMSIZ - 1, o->ifname);
	else if (o->kind == KR_NET_FD)
		kr_put(buf, len, &n, "fd=%d", o->fd);
	else
		kr_put(buf, len, &n, "user");
	if (o->has_mac)
		kr_put(buf, len, &n, ",mac=%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
		    m[4], m[5]);
	if (o->kind == KR_NET_TAP && !o->vnet_hdr)
		kr_put(buf, len, &n, ",vhdr=off");
	for (unsigned int i = 0; i < o->n_fwd && i < KR_NET_MAX_FWD; i++) {
		const struct kr_net_fwd *f = &o->fwd[i];

		inet_ntop(AF_INET, &f->host, ha, sizeof(ha));
		inet_ntop(AF_INET, &f->guest, ga, sizeof(ga));
		kr_put(buf, len, &n, ",hostfwd=%s:%s:%u-%s:%u", f->udp ? "udp" : "tcp", ha,
		    f->host_port, ga, f->guest_port);
	}
	return n;
}

void kr_net_default_mac(uint8_t mac[6], unsigned int index)
{
	static const uint8_t prefix[3] = { 0x52, 0x6b, 0x68 };
	uint32_t pid = getpid();
	uint16_t fold = pid ^ pid >> 16;

	memcpy(mac, prefix, 3);
	mac[3] = fold >> 8;
	mac[4] = fold;
	mac[5] = index;
}

int kr_net_open(const struct kr_net_opts *o, unsigned int index, struct kr_net_backend *be,
		char *why, size_t len)
{
	int fd;

	memset(be, 0, sizeof(*be));
	be->fd = -1;
	if (o->has_mac)
		memcpy(be->mac, o->mac, 6);
	else
		kr_net_default_mac(be->mac, index);
	switch (o->kind) {
	case KR_NET_TAP:
		fd = kr_tap_open(o->ifname, o->vnet_hdr, why, len);
		if (fd < 0)
			return fd;
		be->fd = fd;
		be->tap = true;
		be->vnet_hdr = o->vnet_hdr;
		return 0;
	case KR_NET_FD: {
		int err = kr_tap_adopt(o->fd, &be->vnet_hdr, why, len);

		if (err)
			return err;
		be->fd = o->fd;
		be->tap = true;
		return 0;
	}
	case KR_NET_USER:
		be->slirp = kr_slirp_create(o, &fd, why, len);
		if (!be->slirp)
			return -errno;
		be->fd = fd;
		return 0;
	}
	snprintf(why, len, "--net: no backend");
	return -EINVAL;
}

void kr_net_close(struct kr_net_backend *be)
{
	kr_slirp_destroy(be->slirp);	/* first: its thread may be writing to fd's peer */
	be->slirp = NULL;
	if (be->fd >= 0)
		close(be->fd);
	be->fd = -1;
}
