// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for the --disk option parser (disk.c: kr_disk_parse()): any
 * bytes as the option string.  Checks, beyond the sanitizers, that a
 * refusal says why in one "--disk: ..." line, that what is accepted is in
 * range, and that it survives a round trip: written back as an option
 * string (",," for commas) and parsed again, it gives the same options.
 *   clang -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I.. \
 *         fuzz_blk_opts.c ../disk.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../disk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* s with every ',' doubled, appended to out at *at. */
static void put_escaped(char *out, size_t cap, size_t *at, const char *s)
{
	for (; *s && *at + 2 < cap; s++) {
		out[(*at)++] = *s;
		if (*s == ',')
			out[(*at)++] = ',';
	}
	out[*at] = 0;
}

static void put(char *out, size_t cap, size_t *at, const char *s)
{
	size_t n = strlen(s);

	if (*at + n < cap) {
		memcpy(out + *at, s, n + 1);
		*at += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const cache[] = { "writeback", "writethrough", "none" };
	struct kr_disk_opts o, again;
	char *arg = malloc(size + 1), why[160], *back;
	size_t at = 0, cap = 3 * PATH_MAX;
	char q[16];

	memcpy(arg, data, size);
	arg[size] = 0;
	memset(why, 0x55, sizeof(why));
	if (kr_disk_parse(arg, &o, why, sizeof(why))) {
		if (strncmp(why, "--disk: ", 8) || !memchr(why, 0, sizeof(why)) ||
		    strchr(why, '\n'))
			abort();
		free(arg);
		return 0;
	}
	/* Exactly one of path= and nbd=; an NBD disk caches as its server does. */
	if (why[0] || !o.path[0] == !o.nbd[0] || strlen(o.path) >= PATH_MAX ||
	    strlen(o.nbd) >= PATH_MAX || (o.nbd[0] && o.cache != KR_DISK_WRITEBACK) ||
	    o.queues < 1 || o.queues > KR_DISK_MAX_QUEUES ||
	    strlen(o.serial) > KR_DISK_SERIAL_MAX || o.cache > KR_DISK_DIRECT)
		abort();
	for (const char *s = o.serial; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			abort();
	back = malloc(cap);
	put(back, cap, &at, o.nbd[0] ? "nbd=" : "path=");
	put_escaped(back, cap, &at, o.nbd[0] ? o.nbd : o.path);
	put(back, cap, &at, o.ro ? ",ro" : "");
	put(back, cap, &at, ",cache=");
	put(back, cap, &at, cache[o.cache]);
	put(back, cap, &at, o.discard ? ",discard=on" : ",discard=off");
	if (o.serial[0]) {
		put(back, cap, &at, ",serial=");
		put_escaped(back, cap, &at, o.serial);
	}
	snprintf(q, sizeof(q), ",queues=%u", o.queues);
	put(back, cap, &at, q);
	if (kr_disk_parse(back, &again, why, sizeof(why)) || strcmp(o.path, again.path) ||
	    strcmp(o.nbd, again.nbd) ||
	    strcmp(o.serial, again.serial) || o.ro != again.ro || o.cache != again.cache ||
	    o.discard != again.discard || o.queues != again.queues)
		abort();
	free(back);
	free(arg);
	return 0;
}

#include "fuzz_replay.h"
