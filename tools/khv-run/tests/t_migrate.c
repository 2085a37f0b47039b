// SPDX-License-Identifier: GPL-2.0
/* migrate.c's addresses: what --incoming and migrate take, and what they refuse. */
#include <errno.h>
#include <string.h>

#include "../migrate.h"
#include "t.h"

KR_TEST(migrate_uri)
{
	static const char *const good[] = {
		"tcp:10.0.5.1:4444", "tcp:localhost:1", "tcp:[::1]:4444", "tcp::4444",
		"unix:/tmp/mig.sock", "unix:relative",
	};
	static const char *const bad[] = {
		"", "tcp:", "tcp:host", "tcp:host:", "tcp:host:port", "tcp:host:12x",
		"udp:host:1", "unix:", "file:/tmp/x", "tcp:host:1234567890123456789",
	};
	char why[160];

	for (unsigned int i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK_EQ(kr_migrate_parse_uri(good[i], why, sizeof(why)), 0);
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(kr_migrate_parse_uri(bad[i], why, sizeof(why)), -EINVAL);
		CHECK(strstr(why, "want tcp:HOST:PORT or unix:PATH"));
	}
	/* A path longer than a socket address holds. */
	{
		char uri[200] = "unix:";

		memset(uri + 5, 'a', sizeof(uri) - 6);
		uri[sizeof(uri) - 1] = 0;
		CHECK_EQ(kr_migrate_parse_uri(uri, why, sizeof(why)), -EINVAL);
	}
}
