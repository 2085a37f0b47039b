// SPDX-License-Identifier: GPL-2.0
/* Port 0x80 and the debug-exit port (post.c). */
#include <errno.h>
#include <string.h>

#include "../machine.h"
#include "../post.h"
#include "t.h"

static int exit_status = -1, exits;

static void on_exit_port(void *opaque, int status)
{
	CHECK_EQ(*(int *)opaque, 42);
	exit_status = status;
	exits++;
}

KR_TEST(post_port80)
{
	struct kr_bus bus;
	struct kr_post *p = kr_post_create(NULL, NULL);
	uint8_t d[8];

	kr_bus_init(&bus, "pio");
	CHECK(p != NULL);
	CHECK_EQ(kr_post_attach(p, &bus), 0);
	d[0] = 0x42;
	CHECK(kr_bus_access(&bus, KR_PORT_POST, d, 1, true));
	CHECK_EQ(kr_post_last(p), 0x42);
	d[0] = 0;
	CHECK(kr_bus_access(&bus, KR_PORT_POST, d, 1, false));
	CHECK_EQ(d[0], 0x42);
	/* A wider access: its first byte only. */
	kr_put_le(d, 4, 0x11223344);
	kr_bus_access(&bus, KR_PORT_POST, d, 4, true);
	CHECK_EQ(kr_post_last(p), 0x44);
	memset(d, 0, sizeof(d));
	kr_bus_access(&bus, KR_PORT_POST, d, 2, false);
	CHECK_EQ(kr_get_le(d, 2), 0xff44);
	CHECK_EQ(kr_post_writes(p), 2);
	/* No exit callback: no debug-exit port. */
	CHECK(!kr_bus_access(&bus, KR_PORT_DEBUG_EXIT, d, 1, true));
	kr_post_destroy(p);
	kr_bus_free(&bus);
}

KR_TEST(post_debug_exit)
{
	struct kr_bus bus;
	int cookie = 42;
	struct kr_post *p = kr_post_create(on_exit_port, &cookie);
	uint8_t d[8];

	kr_bus_init(&bus, "pio");
	CHECK_EQ(kr_post_attach(p, &bus), 0);
	CHECK_EQ(kr_post_attach(p, &bus), -EEXIST);
	d[0] = 0x10;
	CHECK(kr_bus_access(&bus, KR_PORT_DEBUG_EXIT, d, 1, true));
	CHECK_EQ(exits, 1);
	CHECK_EQ(exit_status, 0x21);
	kr_put_le(d, 4, 0xffffff80);		/* one byte wide: 0x80 */
	kr_bus_access(&bus, KR_PORT_DEBUG_EXIT, d, 4, true);
	CHECK_EQ(exit_status, 0x101);
	/* Reads do nothing. */
	kr_bus_access(&bus, KR_PORT_DEBUG_EXIT, d, 1, false);
	CHECK_EQ(d[0], 0xff);
	CHECK_EQ(exits, 2);
	{
		const struct kr_range *r = kr_bus_find(&bus, KR_PORT_DEBUG_EXIT);

		r->fn(r->opaque, 1, d, 1, true);
		r->fn(r->opaque, ~0ull, d, 8, true);
		r->fn(r->opaque, 0, d, 0, true);
		CHECK_EQ(exits, 2);
	}
	kr_post_destroy(p);
	kr_bus_free(&bus);
}

/* The last code survives a snapshot; the state is one byte, nothing else is taken. */
KR_TEST(post_snapshot)
{
	struct kr_post *a = kr_post_create(NULL, NULL), *c;
	struct kr_sbuf b = { 0 };
	struct kr_bus bus;
	struct kr_sget g;
	uint8_t d = 0x9c, p[6];

	kr_bus_init(&bus, "pio");
	CHECK_EQ(kr_post_attach(a, &bus), 0);
	kr_bus_access(&bus, KR_PORT_POST, &d, 1, true);
	CHECK_EQ(kr_post_save(a, &b), 0);
	CHECK_EQ(b.len, 5);
	kr_bus_free(&bus);
	kr_post_destroy(a);

	c = kr_post_create(NULL, NULL);
	kr_bus_init(&bus, "pio");
	CHECK_EQ(kr_post_attach(c, &bus), 0);
	kr_sget_init(&g, b.p, b.len, "post");
	CHECK_EQ(kr_post_load(c, &g), 0);
	d = 0;
	kr_bus_access(&bus, KR_PORT_POST, &d, 1, false);
	CHECK_EQ(d, 0x9c);
	CHECK_EQ(kr_post_writes(c), 0);		/* a statistic of this process */

	/* Every truncation, a byte too many, another version: refused, the port as it was. */
	for (size_t n = 0; n < b.len; n++) {
		kr_sget_init(&g, b.p, n, "post");
		CHECK_EQ(kr_post_load(c, &g), -EPROTO);
		CHECK(strstr(g.why, "truncated") != NULL);
	}
	memcpy(p, b.p, b.len);
	p[5] = 0x11;
	kr_sget_init(&g, p, 6, "post");
	CHECK_EQ(kr_post_load(c, &g), -EPROTO);
	CHECK(strstr(g.why, "1 bytes of state left over") != NULL);
	p[0] = 2;
	kr_sget_init(&g, p, 5, "post");
	CHECK_EQ(kr_post_load(c, &g), -EPROTO);
	CHECK(strstr(g.why, "post: state version 2") != NULL);
	CHECK_EQ(kr_post_last(c), 0x9c);
	kr_post_destroy(c);
	kr_bus_free(&bus);
	kr_sbuf_free(&b);
}
