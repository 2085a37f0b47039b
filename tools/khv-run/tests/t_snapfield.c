// SPDX-License-Identifier: GPL-2.0
/* snapfield.c: fields written and read back; truncation, bad flags, versions, leftovers refused. */
#include <errno.h>
#include <string.h>

#include "../snapfield.h"
#include "t.h"

KR_TEST(snapfield_round_trip)
{
	struct kr_sbuf b = { 0 };
	struct kr_sget g;
	uint8_t raw[3];

	kr_sbuf_begin(&b, 7);
	kr_sbuf_u8(&b, 0xab);
	kr_sbuf_u16(&b, 0x1234);
	kr_sbuf_u32(&b, 0xdeadbeef);
	kr_sbuf_u64(&b, 0x0102030405060708ull);
	kr_sbuf_bool(&b, true);
	for (unsigned int i = 0; i < 1000; i++)	/* grows past the first allocation */
		kr_sbuf_bytes(&b, "xyz", 3);
	CHECK(!b.oom);
	CHECK_EQ(b.len, 4 + 1 + 2 + 4 + 8 + 1 + 3000u);
	CHECK_EQ(b.p[4 + 1], 0x34);		/* little-endian */

	kr_sget_init(&g, b.p, b.len, "dev");
	CHECK_EQ(kr_sget_begin(&g, 7), 0);
	CHECK_EQ(kr_sget_u8(&g), 0xab);
	CHECK_EQ(kr_sget_u16(&g), 0x1234);
	CHECK_EQ(kr_sget_u32(&g), 0xdeadbeefu);
	CHECK_EQ(kr_sget_u64(&g), 0x0102030405060708ull);
	CHECK(kr_sget_bool(&g));
	CHECK_EQ(kr_sget_done(&g), -EPROTO);	/* 3000 bytes left */
	CHECK(strstr(g.why, "dev: 3000 bytes of state left over"));
	kr_sbuf_free(&b);
	CHECK_EQ(b.len, 0u);

	/* Truncated: zeroes back, the first reason kept. */
	kr_sget_init(&g, "\x07\0\0\0\x01", 5, "rtc");
	CHECK_EQ(kr_sget_begin(&g, 7), 0);
	CHECK_EQ(kr_sget_u8(&g), 1);
	kr_sget_bytes(&g, raw, sizeof(raw));
	CHECK_EQ(raw[0] | raw[1] | raw[2], 0);
	CHECK_EQ(kr_sget_u32(&g), 0u);
	CHECK_EQ(kr_sget_fail(&g, "later"), -EPROTO);
	CHECK(!strcmp(g.why, "rtc: truncated state"));
	CHECK_EQ(kr_sget_done(&g), -EPROTO);
}

KR_TEST(snapfield_refused)
{
	struct kr_sget g;

	kr_sget_init(&g, "\x02\0\0\0", 4, "serial");
	CHECK_EQ(kr_sget_begin(&g, 1), -EPROTO);
	CHECK(!strcmp(g.why, "serial: state version 2, this khv-run reads 1"));

	kr_sget_init(&g, "\x02", 1, "pm");
	CHECK(!kr_sget_bool(&g));
	CHECK(g.bad);
	CHECK(!strcmp(g.why, "pm: a flag reads 2"));

	kr_sget_init(&g, "", 0, NULL);
	CHECK_EQ(kr_sget_done(&g), 0);
	CHECK_EQ(kr_sget_fail(&g, "queue %u", 3), -EPROTO);
	CHECK(!strcmp(g.why, "state: queue 3"));
}
