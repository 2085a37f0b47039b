// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target of the --vnc option (vnc.c, kr_vnc_parse): the bytes are the
 * option string (cut at the first NUL, as argv would).  Nothing is opened
 * or resolved: only the parse.
 *
 * Checked beyond the sanitizers: a refusal has one line of message without
 * control characters; an accepted spec is consistent (a port 0..65535, a
 * host without ']' or NUL, a non-empty password path when one was given)
 * and its canonical form (brackets around a host with ':', commas of the
 * path doubled) is accepted again and means the same.
 *
 * Built with clang -fsanitize=fuzzer; with -DKR_FUZZ_REPLAY instead, a main()
 * runs each file named on the command line once.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vnc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t canonical(const struct kr_vnc_spec *s, char *out, size_t cap)
{
	size_t n;

	if (s->port)
		n = snprintf(out, cap, strchr(s->host, ':') ? "[%s]:%d" : "%s:%d", s->host,
			     s->port);
	else
		n = snprintf(out, cap, strchr(s->host, ':') ? "[%s]:auto" : "%s:auto", s->host);
	if (*s->password_file && n < cap) {
		n += snprintf(out + n, cap - n, ",password-file=");
		for (const char *c = s->password_file; *c && n + 2 < cap; c++) {
			if (*c == ',')
				out[n++] = ',';
			out[n++] = *c;
		}
		if (n < cap)
			out[n] = 0;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kr_vnc_spec s, again;
	static char canon[8192];
	char *arg = malloc(size + 1), why[256];

	if (!arg)
		return 0;
	memcpy(arg, data, size);
	arg[size] = 0;
	memset(why, 0x5a, sizeof(why));
	if (kr_vnc_parse(arg, &s, why, sizeof(why))) {
		if (!memchr(why, 0, sizeof(why)) || !why[0])
			abort();
		for (const char *p = why; *p; p++)
			if ((unsigned char)*p < ' ' || *p == 0x7f)
				abort();
	} else {
		if (s.port < 0 || s.port > 65535 || strchr(s.host, ']') ||
		    !memchr(s.host, 0, sizeof(s.host)) ||
		    !memchr(s.password_file, 0, sizeof(s.password_file)))
			abort();
		if (strstr(arg, ",password-file=") && !*s.password_file)
			abort();
		if (canonical(&s, canon, sizeof(canon)) >= sizeof(canon) - 2)
			abort();
		if (kr_vnc_parse(canon, &again, why, sizeof(why)) ||
		    strcmp(s.host, again.host) || s.port != again.port ||
		    strcmp(s.password_file, again.password_file))
			abort();
	}
	free(arg);
	return 0;
}

#include "fuzz_replay.h"
