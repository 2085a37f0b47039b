// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target of the --net option (net_opts.c): the bytes are the option
 * string (cut at the first NUL, as argv would).
 *
 * Checked beyond the sanitizers: a refusal is -EINVAL with one printable
 * line of message; an accepted option is consistent (a known backend, a
 * tap name the kernel would take, a unicast MAC, ports not 0, guests in
 * the virtual /24) and its canonical form (kr_net_format) is accepted
 * again and means the same.
 *
 * Built with clang -fsanitize=fuzzer; with -DKR_FUZZ_REPLAY instead, a main()
 * runs each file named on the command line once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../net_opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct kr_net_opts *a, const struct kr_net_opts *b)
{
	if (a->kind != b->kind || a->has_mac != b->has_mac || a->n_fwd != b->n_fwd)
		return false;
	if (a->kind == KR_NET_TAP && (strcmp(a->ifname, b->ifname) || a->vnet_hdr != b->vnet_hdr))
		return false;
	if (a->kind == KR_NET_FD && a->fd != b->fd)
		return false;
	if (a->has_mac && memcmp(a->mac, b->mac, 6))
		return false;
	for (unsigned int i = 0; i < a->n_fwd; i++) {
		const struct kr_net_fwd *x = &a->fwd[i], *y = &b->fwd[i];

		if (x->udp != y->udp || x->host.s_addr != y->host.s_addr ||
		    x->guest.s_addr != y->guest.s_addr || x->host_port != y->host_port ||
		    x->guest_port != y->guest_port)
			return false;
	}
	return true;
}

static void check_ok(const struct kr_net_opts *o)
{
	size_t n;

	switch (o->kind) {
	case KR_NET_TAP:
		n = strnlen(o->ifname, IFNAMSIZ);
		if (!n || n >= IFNAMSIZ || strpbrk(o->ifname, "/:% ,"))
			abort();
		break;
	case KR_NET_FD:
		if (o->fd < 0)
			abort();
		break;
	case KR_NET_USER:
		break;
	default:
		abort();
	}
	if (o->has_mac && ((o->mac[0] & 1) || !(o->mac[0] | o->mac[1] | o->mac[2] | o->mac[3] |
						  o->mac[4] | o->mac[5])))
		abort();
	if (o->n_fwd > KR_NET_MAX_FWD || (o->n_fwd && o->kind != KR_NET_USER))
		abort();
	for (unsigned int i = 0; i < o->n_fwd; i++) {
		uint32_t g = ntohl(o->fwd[i].guest.s_addr);

		if (!o->fwd[i].host_port || !o->fwd[i].guest_port || (g & 0xffffff00) != 0x0a000200)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *arg = malloc(size + 1), why[256], canon[1024];
	struct kr_net_opts o, again;
	int err;

	if (!arg)
		return 0;
	memcpy(arg, data, size);
	arg[size] = 0;
	memset(why, 0x5a, sizeof(why));
	err = kr_net_parse(arg, &o, why, sizeof(why));
	if (err) {
		if (err != -EINVAL || !memchr(why, 0, sizeof(why)) || !why[0])
			abort();
		for (const char *p = why; *p; p++)
			if (*p < ' ' || *p >= 0x7f)
				abort();
	} else {
		check_ok(&o);
		if ((size_t)kr_net_format(&o, canon, sizeof(canon)) >= sizeof(canon))
			abort();
		if (kr_net_parse(canon, &again, why, sizeof(why)) || !same(&o, &again))
			abort();
	}
	free(arg);
	return 0;
}

#include "fuzz_replay.h"
