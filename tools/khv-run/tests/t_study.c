// SPDX-License-Identifier: GPL-2.0
/*
 * --study (study.c): the option, what khv is asked, which exits are
 * printed, the line of each event kind, and the log's writes (whole lines
 * from several threads, a full non-blocking fd waited for, a kick that
 * stops the wait).  No /dev/khv: the exits are run pages built here.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "t.h"
#include "../study.h"

/* why: as main.c's, 256 bytes. */
static int parse(const char *arg, struct kr_study *s, char *why)
{
	memset(s, 0, sizeof(*s));
	why[0] = 0;
	return kr_study_parse(arg, s, why, 256);
}

/* The canonical form of s, parsed again, gives the same form. */
static void check_round_trip(const struct kr_study *s)
{
	char a[2048], b[2048], why[256];
	struct kr_study again;

	CHECK((size_t)kr_study_format(s, a, sizeof(a)) < sizeof(a));
	CHECK_EQ(parse(a, &again, why), 0);
	kr_study_format(&again, b, sizeof(b));
	CHECK_STR(b, a);
	CHECK_EQ(again.events, s->events);
}

KR_TEST(study_opts_valid)
{
	struct kr_study s;
	char why[256], out[512];

	CHECK_EQ(parse("cpuid", &s, why), 0);
	CHECK_EQ(s.events, KHV_STUDY_CPUID);
	CHECK(s.cpuid_all && !s.nr_cpuid && !s.nr_msrs && !s.rdmsr_all && !s.wrmsr_all);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "cpuid");

	/* Hex (either case of 0x) or decimal; a leaf named twice counts once. */
	CHECK_EQ(parse("cpuid:0x1,cpuid:7,cpuid:0X80000001,cpuid:1,cpuid:0x00000007", &s, why), 0);
	CHECK_EQ(s.events, KHV_STUDY_CPUID);
	CHECK(!s.cpuid_all);
	CHECK_EQ(s.nr_cpuid, 3);
	CHECK_EQ(s.cpuid[0], 1);
	CHECK_EQ(s.cpuid[1], 7);
	CHECK_EQ(s.cpuid[2], 0x80000001u);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "cpuid:0x1,cpuid:0x7,cpuid:0x80000001");
	check_round_trip(&s);

	CHECK_EQ(parse("cpuid:4294967295,cpuid:0xffffffff,cpuid:0,cpuid:0x0", &s, why), 0);
	CHECK_EQ(s.nr_cpuid, 2);
	CHECK_EQ(s.cpuid[0], 0xffffffffu);
	CHECK_EQ(s.cpuid[1], 0);

	/* One MSR list: each index remembers which events asked for it. */
	CHECK_EQ(parse("rdmsr:0x10,wrmsr:0x20,msr:0x30,wrmsr:16,rdmsr:0x30", &s, why), 0);
	CHECK_EQ(s.events, KHV_STUDY_RDMSR | KHV_STUDY_WRMSR);
	CHECK(!s.rdmsr_all && !s.wrmsr_all);
	CHECK_EQ(s.nr_msrs, 3);
	CHECK_EQ(s.msrs[0], 0x10);
	CHECK_EQ(s.msr_ev[0], KR_STUDY_RD | KR_STUDY_WR);
	CHECK_EQ(s.msrs[1], 0x20);
	CHECK_EQ(s.msr_ev[1], KR_STUDY_WR);
	CHECK_EQ(s.msrs[2], 0x30);
	CHECK_EQ(s.msr_ev[2], KR_STUDY_RD | KR_STUDY_WR);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "msr:0x10,wrmsr:0x20,msr:0x30");
	check_round_trip(&s);

	CHECK_EQ(parse("rdmsr:0xc0000080", &s, why), 0);
	CHECK_EQ(s.events, KHV_STUDY_RDMSR);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "rdmsr:0xc0000080");

	CHECK_EQ(parse("rdmsr,wrmsr:0x20", &s, why), 0);
	CHECK_EQ(s.events, KHV_STUDY_RDMSR | KHV_STUDY_WRMSR);
	CHECK(s.rdmsr_all && !s.wrmsr_all);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "rdmsr,wrmsr:0x20");
	check_round_trip(&s);

	CHECK_EQ(parse("msr", &s, why), 0);
	CHECK(s.rdmsr_all && s.wrmsr_all && !s.nr_msrs);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "rdmsr,wrmsr");

	CHECK_EQ(parse("hlt,rdtsc", &s, why), 0);
	CHECK_EQ(s.events, KHV_STUDY_RDTSC | KHV_STUDY_HLT);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "rdtsc,hlt");

	CHECK_EQ(parse("hlt,msr,cpuid,rdtsc,cpuid:0xd,hlt", &s, why), 0);
	CHECK_EQ(s.events, KHV_STUDY_CPUID | KHV_STUDY_RDMSR | KHV_STUDY_WRMSR |
		 KHV_STUDY_RDTSC | KHV_STUDY_HLT);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "cpuid,cpuid:0xd,rdmsr,wrmsr,rdtsc,hlt");
	check_round_trip(&s);

	/* Every event, in any order: the canonical form is in event order. */
	CHECK_EQ(parse("io:0x3f8,exception:GP,pause,cr4,hlt,msr,desc,invlpg,cpuid,cr8-read,rdtsc,"
		       "cpuid:0xd,cr,exception,io,hlt", &s, why), 0);
	CHECK_EQ(s.events, KHV_STUDY_ALL);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "cpuid,cpuid:0xd,rdmsr,wrmsr,rdtsc,hlt,cr,cr4,cr8-read,invlpg,pause,desc,io,"
		  "io:0x3f8,exception,exception:gp");
	check_round_trip(&s);

	/* Repeated --study: the events add up. */
	CHECK_EQ(parse("cpuid:1", &s, why), 0);
	CHECK_EQ(kr_study_parse("hlt,cpuid:1,cpuid:6", &s, why, sizeof(why)), 0);
	CHECK_EQ(kr_study_parse("wrmsr:0x6e0", &s, why, sizeof(why)), 0);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "cpuid:0x1,cpuid:0x6,wrmsr:0x6e0,hlt");

	/* 16 of each, with repeats, fit. */
	{
		char arg[1024];
		size_t n = 0;

		for (unsigned int i = 0; i < 16; i++)
			n += snprintf(arg + n, sizeof(arg) - n, "cpuid:%u,cpuid:%u,rdmsr:%u,"
				      "wrmsr:%u,", i, i, 0x100 + i, 0x100 + i);
		strcpy(arg + n, "msr:0x10f");
		CHECK_EQ(parse(arg, &s, why), 0);
		CHECK_EQ(s.nr_cpuid, 16);
		CHECK_EQ(s.nr_msrs, 16);
		CHECK_EQ(s.msr_ev[15], KR_STUDY_RD | KR_STUDY_WR);
		check_round_trip(&s);
	}

	/* 16 ports of each kind, with repeats, beside 16 leaves and MSRs. */
	{
		char arg[2048];
		size_t n = 0;

		for (unsigned int i = 0; i < 16; i++)
			n += snprintf(arg + n, sizeof(arg) - n, "cpuid:%u,msr:%u,io:%u,io:0x%x,",
				      i, i, 0xfff0 + i, 0xfff0 + i);
		strcpy(arg + n, "io:65535,io:0xFFF0");
		CHECK_EQ(parse(arg, &s, why), 0);
		CHECK_EQ(s.events, KHV_STUDY_CPUID | KHV_STUDY_RDMSR | KHV_STUDY_WRMSR |
			 KHV_STUDY_IO);
		CHECK_EQ(s.nr_ports, 16);
		CHECK(!s.io_all);
		CHECK_EQ(s.ports[0], 0xfff0);
		CHECK_EQ(s.ports[15], 0xffff);
		check_round_trip(&s);
	}

	/* The canonical form is cut as snprintf cuts, its length whole. */
	CHECK_EQ(parse("cpuid:0x1,hlt", &s, why), 0);
	CHECK_EQ(kr_study_format(&s, out, 5), strlen("cpuid:0x1,hlt"));
	CHECK_STR(out, "cpui");
	CHECK_EQ(kr_study_format(&s, NULL, 0), strlen("cpuid:0x1,hlt"));
}

/* cr, crN, cr8-read, invlpg, pause, io[:PORT]. */
KR_TEST(study_opts_new)
{
	struct kr_study s;
	char why[256], out[512];

	CHECK_EQ(parse("cr", &s, why), 0);
	CHECK_EQ(s.events, KHV_STUDY_CR_WRITE);
	CHECK(s.cr_all && !s.cr_write && !s.io_all && !s.nr_ports && !s.cpuid_all);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "cr");
	check_round_trip(&s);

	/* Several CRs are one mask; a CR named twice counts once. */
	CHECK_EQ(parse("cr8,cr3,cr3", &s, why), 0);
	CHECK_EQ(s.events, KHV_STUDY_CR_WRITE);
	CHECK(!s.cr_all);
	CHECK_EQ(s.cr_write, KHV_STUDY_CR3 | KHV_STUDY_CR8);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "cr3,cr8");
	check_round_trip(&s);

	CHECK_EQ(parse("cr4,cr0,cr8,cr3", &s, why), 0);
	CHECK_EQ(s.cr_write, KHV_STUDY_CR0 | KHV_STUDY_CR3 | KHV_STUDY_CR4 | KHV_STUDY_CR8);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "cr0,cr3,cr4,cr8");
	check_round_trip(&s);

	/* cr beside crN: every CR (as cpuid beside cpuid:LEAF), both kept. */
	CHECK_EQ(parse("cr0,cr", &s, why), 0);
	CHECK(s.cr_all);
	CHECK_EQ(s.cr_write, KHV_STUDY_CR0);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "cr,cr0");
	check_round_trip(&s);

	/* cr8 is CR8's writes, cr8-read its reads: two events. */
	CHECK_EQ(parse("cr8-read", &s, why), 0);
	CHECK_EQ(s.events, KHV_STUDY_CR8_READ);
	CHECK(!s.cr_all && !s.cr_write);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "cr8-read");
	CHECK_EQ(parse("cr8-read,cr8", &s, why), 0);
	CHECK_EQ(s.events, KHV_STUDY_CR8_READ | KHV_STUDY_CR_WRITE);
	CHECK_EQ(s.cr_write, KHV_STUDY_CR8);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "cr8,cr8-read");
	check_round_trip(&s);

	CHECK_EQ(parse("pause,invlpg,pause", &s, why), 0);
	CHECK_EQ(s.events, KHV_STUDY_INVLPG | KHV_STUDY_PAUSE);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "invlpg,pause");
	check_round_trip(&s);

	CHECK_EQ(parse("io", &s, why), 0);
	CHECK_EQ(s.events, KHV_STUDY_IO);
	CHECK(s.io_all && !s.nr_ports && !s.cr_all);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "io");

	/* Ports: hex (0x or 0X, any case) or decimal, 0 to 0xffff; repeats collapse. */
	CHECK_EQ(parse("io:0x3f8,io:1016,io:0X3F8,io:0x71,io:0,io:0xffff,io:65535,io:0x0000", &s,
		       why), 0);
	CHECK_EQ(s.events, KHV_STUDY_IO);
	CHECK(!s.io_all);
	CHECK_EQ(s.nr_ports, 4);
	CHECK_EQ(s.ports[0], 0x3f8);
	CHECK_EQ(s.ports[1], 0x71);
	CHECK_EQ(s.ports[2], 0);
	CHECK_EQ(s.ports[3], 0xffff);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "io:0x3f8,io:0x71,io:0x0,io:0xffff");
	check_round_trip(&s);

	/* io beside io:PORT: every port, the list kept (as cpuid). */
	CHECK_EQ(parse("io:0x80,io", &s, why), 0);
	CHECK(s.io_all);
	CHECK_EQ(s.nr_ports, 1);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "io,io:0x80");
	check_round_trip(&s);

	/* Repeated --study: these add up too. */
	CHECK_EQ(parse("cr3", &s, why), 0);
	CHECK_EQ(kr_study_parse("io:0x64,cr0", &s, why, sizeof(why)), 0);
	CHECK_EQ(kr_study_parse("io:0x60,io:0x64,pause", &s, why, sizeof(why)), 0);
	CHECK_EQ(s.cr_write, KHV_STUDY_CR0 | KHV_STUDY_CR3);
	CHECK_EQ(s.nr_ports, 2);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "cr0,cr3,pause,io:0x64,io:0x60");
	check_round_trip(&s);

	/* The longest canonical form: every list full, the widest numbers. */
	{
		char arg[2048];
		size_t n = 0;
		int len;

		for (unsigned int i = 0; i < 16; i++)
			n += snprintf(arg + n, sizeof(arg) - n, "cpuid:%u,%smsr:%u,io:%u,",
				      0xfffffff0u + i, i & 1 ? "wr" : "rd", 0xfffffff0u + i,
				      0xfff0 + i);
		strcpy(arg + n, "cpuid,rdmsr,wrmsr,rdtsc,hlt,cr,cr0,cr3,cr4,cr8,cr8-read,invlpg,"
		       "pause,desc,io,exception,exception:0,exception:1,exception:3,exception:4,"
		       "exception:5,exception:6,exception:7,exception:10,exception:11,"
		       "exception:12,exception:13,exception:14,exception:16,exception:17,"
		       "exception:19");
		CHECK_EQ(parse(arg, &s, why), 0);
		CHECK_EQ(s.events, KHV_STUDY_ALL);
		CHECK_EQ(s.exceptions, KHV_STUDY_EXCEPTIONS);
		len = kr_study_format(&s, NULL, 0);
		CHECK_EQ(len, 985);	/* the fuzz target's buffer is 2048 */
		check_round_trip(&s);
	}
}

/* exception[:VECTOR]: numbers, names in any case with or without '#', the mask. */
KR_TEST(study_opts_exception)
{
	static const struct {
		const char *name;
		unsigned int vector;
	} names[] = {
		{ "de", 0 }, { "db", 1 }, { "bp", 3 }, { "of", 4 }, { "br", 5 }, { "ud", 6 },
		{ "nm", 7 }, { "ts", 10 }, { "np", 11 }, { "ss", 12 }, { "gp", 13 }, { "pf", 14 },
		{ "mf", 16 }, { "ac", 17 }, { "xm", 19 },
	};
	struct kr_study s;
	char why[256], out[512], arg[160], want[64];
	uint32_t all = 0;

	CHECK_EQ(parse("exception", &s, why), 0);
	CHECK_EQ(s.events, KHV_STUDY_EXCEPTION);
	CHECK(s.exc_all && !s.exceptions && !s.io_all && !s.cr_all && !s.nr_ports);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "exception");
	check_round_trip(&s);

	/*
	 * Each name: lowercase, uppercase, mixed, with '#'; its number in
	 * decimal and hex; all the same vector, written back as the lowercase
	 * name.
	 */
	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++) {
		const char *n = names[i].name;
		unsigned int v = names[i].vector;
		char up[3] = { (char)(n[0] - 'a' + 'A'), (char)(n[1] - 'a' + 'A'), 0 };
		char mixed[3] = { up[0], n[1], 0 };

		snprintf(want, sizeof(want), "exception:%s", n);
		snprintf(arg, sizeof(arg), "exception:%s", n);
		CHECK_EQ(parse(arg, &s, why), 0);
		CHECK_EQ(s.events, KHV_STUDY_EXCEPTION);
		CHECK(!s.exc_all);
		CHECK_EQ(s.exceptions, 1u << v);
		kr_study_format(&s, out, sizeof(out));
		CHECK_STR(out, want);
		check_round_trip(&s);

		snprintf(arg, sizeof(arg), "exception:#%s,exception:%s,exception:#%s,"
			 "exception:%s,exception:%u,exception:0x%x,exception:0X%X,exception:%02u",
			 up, up, n, mixed, v, v, v, v);
		CHECK_EQ(parse(arg, &s, why), 0);
		CHECK_EQ(s.exceptions, 1u << v);
		kr_study_format(&s, out, sizeof(out));
		if (strcmp(out, want))
			printf("#   '%s' gives '%s'\n", arg, out);
		CHECK_STR(out, want);
		all |= 1u << v;
	}
	CHECK_EQ(all, KHV_STUDY_EXCEPTIONS);	/* every vector khv studies has a name */

	/* Several: one mask, written in vector order; repeats collapse. */
	CHECK_EQ(parse("exception:pf,exception:13,exception:#UD,exception:0xe,exception:Db,"
		       "exception:#gp", &s, why), 0);
	CHECK_EQ(s.events, KHV_STUDY_EXCEPTION);
	CHECK(!s.exc_all);
	CHECK_EQ(s.exceptions, (1u << 1) | (1u << 6) | (1u << 13) | (1u << 14));
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "exception:db,exception:ud,exception:gp,exception:pf");
	check_round_trip(&s);

	/* Every vector named: still those, a mask of all of them. */
	{
		char list[512];
		size_t n = 0;

		for (unsigned int i = ARRAY_SIZE(names); i-- > 0;)
			n += snprintf(list + n, sizeof(list) - n, "%sexception:%u", n ? "," : "",
				      names[i].vector);
		CHECK_EQ(parse(list, &s, why), 0);
		CHECK(!s.exc_all);
		CHECK_EQ(s.exceptions, KHV_STUDY_EXCEPTIONS);
		kr_study_format(&s, out, sizeof(out));
		CHECK_STR(out, "exception:de,exception:db,exception:bp,exception:of,exception:br,"
			  "exception:ud,exception:nm,exception:ts,exception:np,exception:ss,"
			  "exception:gp,exception:pf,exception:mf,exception:ac,exception:xm");
		check_round_trip(&s);
	}

	/* exception beside exception:VECTOR: every vector, the mask kept (as io). */
	CHECK_EQ(parse("exception:pf,exception", &s, why), 0);
	CHECK(s.exc_all);
	CHECK_EQ(s.exceptions, 1u << 14);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "exception,exception:pf");
	check_round_trip(&s);
	CHECK_EQ(parse("exception,exception,exception:bp,exception:3", &s, why), 0);
	CHECK(s.exc_all);
	CHECK_EQ(s.exceptions, 1u << 3);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "exception,exception:bp");

	/* Beside the other events: last in the canonical form, in event order. */
	CHECK_EQ(parse("exception:gp,io:0x3f8,hlt,exception:de", &s, why), 0);
	CHECK_EQ(s.events, KHV_STUDY_EXCEPTION | KHV_STUDY_IO | KHV_STUDY_HLT);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "hlt,io:0x3f8,exception:de,exception:gp");
	check_round_trip(&s);

	/* Repeated --study: these add up too. */
	CHECK_EQ(parse("exception:xm", &s, why), 0);
	CHECK_EQ(kr_study_parse("exception:ac,pause", &s, why, sizeof(why)), 0);
	CHECK_EQ(kr_study_parse("exception:#XM", &s, why, sizeof(why)), 0);
	CHECK_EQ(s.exceptions, (1u << 17) | (1u << 19));
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "pause,exception:ac,exception:xm");
	check_round_trip(&s);
}

KR_TEST(study_opts_errors)
{
	static const struct {
		const char *arg, *says;
	} bad[] = {
		{ "", "--study: empty; expected cpuid[:LEAF], rdmsr[:INDEX], wrmsr[:INDEX], "
		      "msr[:INDEX], rdtsc, hlt, cr, cr0, cr3, cr4, cr8, cr8-read, invlpg, pause, "
		      "io[:PORT], exception[:VECTOR] or desc" },
		{ "foo", "--study: 'foo': unknown event; expected cpuid[:LEAF]" },
		{ "CPUID", "'CPUID': unknown event" },
		{ "cpuid=1", "'cpuid=1': unknown event" },
		{ "rdmsrs", "unknown event" },
		{ ":1", "unknown event" },
		{ "cpuid:", "'cpuid:': a CPUID leaf is a 32-bit number, hex with 0x or decimal" },
		{ "cpuid:0x", "a CPUID leaf is a 32-bit number" },
		{ "cpuid:-1", "a CPUID leaf is a 32-bit number" },
		{ "cpuid:+1", "a CPUID leaf is a 32-bit number" },
		{ "cpuid: 1", "a CPUID leaf is a 32-bit number" },
		{ "cpuid:1 ", "a CPUID leaf is a 32-bit number" },
		{ "cpuid:0x1g", "a CPUID leaf is a 32-bit number" },
		{ "cpuid:1a", "a CPUID leaf is a 32-bit number" },
		{ "cpuid:0x100000000", "a CPUID leaf is a 32-bit number" },
		{ "cpuid:4294967296", "a CPUID leaf is a 32-bit number" },
		{ "cpuid:99999999999999999999999", "a CPUID leaf is a 32-bit number" },
		{ "cpuid:1:2", "a CPUID leaf is a 32-bit number" },
		{ "msr:abc", "'msr:abc': an MSR index is a 32-bit number, hex with 0x or decimal" },
		{ "rdmsr:", "an MSR index is a 32-bit number" },
		{ "wrmsr:0x1_0", "an MSR index is a 32-bit number" },
		{ "wrmsr:99999999999", "an MSR index is a 32-bit number" },
		{ "rdtsc:1", "'rdtsc:1': rdtsc takes no :VALUE" },
		{ "rdtsc:", "rdtsc takes no :VALUE" },
		{ "hlt:0", "'hlt:0': hlt takes no :VALUE" },
		{ "cpuid,,hlt", "--study 'cpuid,,hlt': an empty item" },
		{ ",cpuid", "an empty item" },
		{ "cpuid,", "an empty item" },
		{ ",", "an empty item" },
		{ "cpuid:0,cpuid:1,cpuid:2,cpuid:3,cpuid:4,cpuid:5,cpuid:6,cpuid:7,cpuid:8,"
		  "cpuid:9,cpuid:10,cpuid:11,cpuid:12,cpuid:13,cpuid:14,cpuid:15,cpuid:0x11",
		  "--study: 'cpuid:0x11': more than 16 CPUID leaves (khv's limit; plain cpuid "
		  "studies every leaf)" },
		{ "rdmsr:0,wrmsr:1,msr:2,rdmsr:3,wrmsr:4,msr:5,rdmsr:6,wrmsr:7,msr:8,rdmsr:9,"
		  "wrmsr:10,msr:11,rdmsr:12,wrmsr:13,msr:14,rdmsr:15,wrmsr:15,wrmsr:0x3a",
		  "--study: 'wrmsr:0x3a': more than 16 MSRs (khv's limit, for rdmsr and wrmsr "
		  "together; plain rdmsr or wrmsr studies every MSR)" },
		{ "cpuid:0x0123456789abcdef0123456789abcdef0123456789",
		  "'cpuid:0x0123456789abcdef0123456789abcdef...': a CPUID leaf" },
		{ "hlt,\x01\x02\x7f\n", "'\?\?\?\?': unknown event" },
		{ "cpuid:1\n", "'cpuid:1?': a CPUID leaf" },
		/* The new events: only io takes :VALUE. */
		{ "cr:3", "--study: 'cr:3': cr takes no :VALUE (cr0, cr3, cr4 and cr8 are one CR "
			  "each)" },
		{ "cr:", "'cr:': cr takes no :VALUE" },
		{ "cr0:1", "--study: 'cr0:1': cr0 takes no :VALUE" },
		{ "cr3:0x1000", "'cr3:0x1000': cr3 takes no :VALUE" },
		{ "cr4:", "'cr4:': cr4 takes no :VALUE" },
		{ "cr8:0", "'cr8:0': cr8 takes no :VALUE" },
		{ "cr8-read:rax", "--study: 'cr8-read:rax': cr8-read takes no :VALUE" },
		{ "invlpg:0xffffffff81000000", "'invlpg:0xffffffff81000000': invlpg takes no "
					       ":VALUE" },
		{ "pause:", "--study: 'pause:': pause takes no :VALUE" },
		{ "cr2", "--study: 'cr2': khv studies writes to cr0, cr3, cr4 and cr8 only "
			 "(cr: all four)" },
		{ "cr1", "'cr1': khv studies writes to cr0, cr3, cr4 and cr8 only" },
		{ "cr15", "'cr15': khv studies writes to cr0, cr3, cr4 and cr8 only" },
		{ "cr03", "'cr03': khv studies writes to cr0, cr3, cr4 and cr8 only" },
		{ "cr2:1", "'cr2:1': khv studies writes to cr0, cr3, cr4 and cr8 only" },
		{ "CR3", "'CR3': unknown event" },
		{ "cr3 ", "'cr3 ': unknown event" },
		{ "crx", "'crx': unknown event" },
		{ "cr-write", "'cr-write': unknown event" },
		{ "cr8read", "'cr8read': unknown event" },
		{ "cr8-write", "'cr8-write': unknown event" },
		{ "cr8-", "'cr8-': unknown event" },
		{ "ios", "'ios': unknown event" },
		{ "IO", "'IO': unknown event" },
		{ "pio", "'pio': unknown event" },
		{ "io:", "--study: 'io:': an I/O port is a 16-bit number, hex with 0x or decimal" },
		{ "io:0x", "'io:0x': an I/O port is a 16-bit number" },
		{ "io:0x10000", "'io:0x10000': an I/O port is a 16-bit number" },
		{ "io:65536", "'io:65536': an I/O port is a 16-bit number" },
		{ "io:4294967295", "an I/O port is a 16-bit number" },
		{ "io:4294967296", "an I/O port is a 16-bit number" },
		{ "io:-1", "an I/O port is a 16-bit number" },
		{ "io:+1", "an I/O port is a 16-bit number" },
		{ "io: 0x3f8", "an I/O port is a 16-bit number" },
		{ "io:0x3f8 ", "an I/O port is a 16-bit number" },
		{ "io:0x3fg", "an I/O port is a 16-bit number" },
		{ "io:3f8", "an I/O port is a 16-bit number" },
		{ "io:0x3f8:1", "'io:0x3f8:1': an I/O port is a 16-bit number" },
		{ "io:0x3f8,,pause", "--study 'io:0x3f8,,pause': an empty item" },
		{ "pause,\x01", "'?': unknown event" },
		{ "io:1,io:2,io:3,io:4,io:5,io:6,io:7,io:8,io:9,io:10,io:11,io:12,io:13,io:14,"
		  "io:15,io:16,io:0x10,io:1,io:0x11",
		  "--study: 'io:0x11': more than 16 I/O ports (khv's limit; plain io studies every "
		  "port)" },
		/* A full port list refuses a 17th even beside plain io. */
		{ "io,io:1,io:2,io:3,io:4,io:5,io:6,io:7,io:8,io:9,io:10,io:11,io:12,io:13,io:14,"
		  "io:15,io:16,io:17", "'io:17': more than 16 I/O ports" },
		/* exception: one spelling; VECTOR a number 0-31 or a name. */
		{ "exceptions", "'exceptions': unknown event" },
		{ "exc", "'exc': unknown event" },
		{ "exc:pf", "'exc:pf': unknown event" },
		{ "EXCEPTION", "'EXCEPTION': unknown event" },
		{ "Exception:pf", "'Exception:pf': unknown event" },
		{ "exception ", "'exception ': unknown event" },
		{ "pf", "'pf': unknown event" },
		{ "#pf", "'#pf': unknown event" },
		{ "exception:", "--study: 'exception:': an exception vector is a number 0-31, hex "
				"with 0x or decimal, or a name, with or without '#': de, db, bp, of, "
				"br, ud, nm, ts, np, ss, gp, pf, mf, ac or xm" },
		{ "exception:#", "'exception:#': an exception vector is a number 0-31" },
		{ "exception:##pf", "'exception:##pf': an exception vector is a number 0-31" },
		{ "exception:#14", "'exception:#14': an exception vector is a number 0-31" },
		{ "exception:#0xe", "'exception:#0xe': an exception vector is a number 0-31" },
		{ "exception:32", "'exception:32': an exception vector is a number 0-31" },
		{ "exception:0x20", "'exception:0x20': an exception vector is a number 0-31" },
		{ "exception:4294967295", "an exception vector is a number 0-31" },
		{ "exception:4294967296", "an exception vector is a number 0-31" },
		{ "exception:0x", "an exception vector is a number 0-31" },
		{ "exception:-1", "an exception vector is a number 0-31" },
		{ "exception:+14", "an exception vector is a number 0-31" },
		{ "exception:e", "'exception:e': an exception vector is a number 0-31" },
		{ "exception:0e", "an exception vector is a number 0-31" },
		{ "exception: pf", "an exception vector is a number 0-31" },
		{ "exception:pf ", "an exception vector is a number 0-31" },
		{ "exception:p", "an exception vector is a number 0-31" },
		{ "exception:pff", "an exception vector is a number 0-31" },
		{ "exception:pf#", "an exception vector is a number 0-31" },
		{ "exception:page-fault", "an exception vector is a number 0-31" },
		{ "exception:pf:1", "'exception:pf:1': an exception vector is a number 0-31" },
		{ "exception:pf,exception:14:", "'exception:14:': an exception vector" },
		{ "exception:\xd0\xbf", "'exception:\?\?': an exception vector" },
		{ "exception:pf,,hlt", "--study 'exception:pf,,hlt': an empty item" },
		/* Vectors khv does not study: the host's, the reserved, the others. */
		{ "exception:2", "--study: 'exception:2': khv does not study vector 2 (NMI, the "
				 "host's); it studies de (0), db (1), bp (3), of (4), br (5), ud (6), "
				 "nm (7), ts (10), np (11), ss (12), gp (13), pf (14), mf (16), ac (17) "
				 "and xm (19)" },
		{ "exception:nmi", "'exception:nmi': khv does not study vector 2 (NMI, the host's)" },
		{ "exception:NMI", "khv does not study vector 2 (NMI, the host's)" },
		{ "exception:8", "'exception:8': khv does not study vector 8 (#DF, the host's); it "
				 "studies de (0)" },
		{ "exception:0x8", "khv does not study vector 8 (#DF, the host's)" },
		{ "exception:df", "'exception:df': khv does not study vector 8 (#DF, the host's)" },
		{ "exception:#DF", "khv does not study vector 8 (#DF, the host's)" },
		{ "exception:18", "'exception:18': khv does not study vector 18 (#MC, the host's)" },
		{ "exception:#mc", "khv does not study vector 18 (#MC, the host's)" },
		{ "exception:9", "'exception:9': khv does not study vector 9 (reserved); it studies "
				 "de (0), db (1)" },
		{ "exception:15", "'exception:15': khv does not study vector 15 (reserved)" },
		{ "exception:0xf", "khv does not study vector 15 (reserved)" },
		{ "exception:22", "khv does not study vector 22 (reserved)" },
		{ "exception:27", "khv does not study vector 27 (reserved)" },
		{ "exception:31", "'exception:31': khv does not study vector 31 (reserved)" },
		{ "exception:0x1f", "khv does not study vector 31 (reserved)" },
		{ "exception:20", "'exception:20': khv does not study vector 20 (#VE); it studies" },
		{ "exception:#cp", "'exception:#cp': khv does not study vector 21 (#CP); it studies" },
		{ "exception:hv", "khv does not study vector 28 (#HV)" },
		{ "exception:VC", "khv does not study vector 29 (#VC)" },
		{ "exception:#Sx", "khv does not study vector 30 (#SX)" },
		{ "exception,exception:pf,exception:8", "'exception:8': khv does not study vector 8" },
	};
	struct kr_study s;
	char why[256];

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		int err = parse(bad[i].arg, &s, why);

		CHECK_EQ(err, -EINVAL);
		if (!strstr(why, bad[i].says))
			printf("#   '%s': \"%s\" lacks \"%s\"\n", bad[i].arg, why, bad[i].says);
		CHECK(strstr(why, bad[i].says) != NULL);
		CHECK(!strncmp(why, "--study", 7));
		for (const char *p = why; *p; p++)		/* one line, printable */
			CHECK(*p >= ' ' && *p < 0x7f);
	}
	CHECK_EQ(kr_study_parse(NULL, &s, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "empty") != NULL);
	/* The longest message (a long unknown item) fits main.c's 256 bytes whole. */
	CHECK_EQ(parse("\x7f" "0123456789abcdef0123456789abcdef0123456789abcdef", &s, why),
		 -EINVAL);
	CHECK_STR(why, "--study: '?0123456789abcdef0123456789abcdef0123456...': unknown event; "
		  "expected cpuid[:LEAF], rdmsr[:INDEX], wrmsr[:INDEX], msr[:INDEX], rdtsc, hlt, "
		  "cr, cr0, cr3, cr4, cr8, cr8-read, invlpg, pause, io[:PORT], "
		  "exception[:VECTOR] or desc");
	CHECK(strlen(why) < 256);
	/* So does the longest about a vector: one khv does not study, of the host's. */
	CHECK_EQ(parse("exception:0x0000000000000000000000000000000012", &s, why), -EINVAL);
	CHECK_STR(why, "--study: 'exception:0x0000000000000000000000000000...': khv does not "
		  "study vector 18 (#MC, the host's); it studies de (0), db (1), bp (3), of (4), "
		  "br (5), ud (6), nm (7), ts (10), np (11), ss (12), gp (13), pf (14), mf (16), "
		  "ac (17) and xm (19)");
	CHECK(strlen(why) < 255);
	/* Every vector from 0 to 31: accepted exactly when khv studies it. */
	for (unsigned int v = 0; v < 32; v++) {
		char arg[32];
		int err;

		snprintf(arg, sizeof(arg), "exception:%u", v);
		err = parse(arg, &s, why);
		CHECK_EQ(err, KHV_STUDY_EXCEPTIONS & (1u << v) ? 0 : -EINVAL);
		if (err)
			CHECK(strstr(why, "khv does not study vector") != NULL);
		else
			CHECK_EQ(s.exceptions, 1u << v);
	}
	/* A message too long for its buffer is cut, still a string. */
	{
		char tiny[12];

		memset(&s, 0, sizeof(s));
		CHECK_EQ(kr_study_parse("nope", &s, tiny, sizeof(tiny)), -EINVAL);
		CHECK_STR(tiny, "--study: 'n");
	}
}

/* khv's rules (core/study.c, khv_study_check): no list for an event not asked, 0 after nr. */
static void check_request_rules(const struct khv_study *k)
{
	CHECK_EQ(k->events & ~(uint64_t)KHV_STUDY_ALL, 0);
	CHECK(k->nr_cpuid <= KHV_STUDY_MAX_LIST && k->nr_msrs <= KHV_STUDY_MAX_LIST);
	CHECK(!k->nr_cpuid || (k->events & KHV_STUDY_CPUID));
	CHECK(!k->nr_msrs || (k->events & (KHV_STUDY_RDMSR | KHV_STUDY_WRMSR)));
	CHECK(k->nr_ports <= KHV_STUDY_MAX_LIST);
	CHECK(!k->nr_ports || (k->events & KHV_STUDY_IO));
	CHECK(!k->cr_write || (k->events & KHV_STUDY_CR_WRITE));
	CHECK_EQ(k->cr_write & ~(KHV_STUDY_CR0 | KHV_STUDY_CR3 | KHV_STUDY_CR4 | KHV_STUDY_CR8), 0);
	CHECK(!k->exceptions || (k->events & KHV_STUDY_EXCEPTION));
	CHECK_EQ(k->exceptions & ~KHV_STUDY_EXCEPTIONS, 0);
	CHECK_EQ(k->reserved32, 0);
	for (unsigned int i = k->nr_cpuid; i < KHV_STUDY_MAX_LIST; i++)
		CHECK_EQ(k->cpuid[i], 0);
	for (unsigned int i = k->nr_msrs; i < KHV_STUDY_MAX_LIST; i++)
		CHECK_EQ(k->msrs[i], 0);
	for (unsigned int i = k->nr_ports; i < KHV_STUDY_MAX_LIST; i++)
		CHECK_EQ(k->ports[i], 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(k->reserved); i++)
		CHECK_EQ(k->reserved[i], 0);
}

KR_TEST(study_request)
{
	struct kr_study s;
	struct khv_study k;
	char why[256];

	memset(&k, 0xa5, sizeof(k));
	CHECK_EQ(parse("cpuid:0x1,cpuid:0xb,rdtsc", &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.events, KHV_STUDY_CPUID | KHV_STUDY_RDTSC);
	CHECK_EQ(k.nr_cpuid, 2);
	CHECK_EQ(k.cpuid[0], 1);
	CHECK_EQ(k.cpuid[1], 0xb);
	CHECK_EQ(k.nr_msrs, 0);

	/* Every leaf wins over a list: an empty list. */
	CHECK_EQ(parse("cpuid:0x1,cpuid", &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.nr_cpuid, 0);

	/* The union of the MSR events' indexes. */
	CHECK_EQ(parse("rdmsr:0x10,wrmsr:0x20,hlt", &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.events, KHV_STUDY_RDMSR | KHV_STUDY_WRMSR | KHV_STUDY_HLT);
	CHECK_EQ(k.nr_msrs, 2);
	CHECK_EQ(k.msrs[0], 0x10);
	CHECK_EQ(k.msrs[1], 0x20);

	/* Every MSR for one event: every MSR for both, in khv. */
	CHECK_EQ(parse("wrmsr:0x20,rdmsr", &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.nr_msrs, 0);
	CHECK_EQ(k.events, KHV_STUDY_RDMSR | KHV_STUDY_WRMSR);

	CHECK_EQ(parse("hlt", &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.events, KHV_STUDY_HLT);
	CHECK_EQ(k.nr_cpuid + k.nr_msrs + k.nr_ports + k.cr_write, 0);

	/* CR writes: the mask of those named; plain cr, or cr beside them, 0 (all four). */
	CHECK_EQ(parse("cr3,cr0", &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.events, KHV_STUDY_CR_WRITE);
	CHECK_EQ(k.cr_write, KHV_STUDY_CR0 | KHV_STUDY_CR3);
	CHECK_EQ(k.nr_ports, 0);

	CHECK_EQ(parse("cr8", &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.cr_write, KHV_STUDY_CR8);
	CHECK_EQ(k.cr_write, 0x100);

	CHECK_EQ(parse("cr0,cr3,cr4,cr8", &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.cr_write, 0x119);

	CHECK_EQ(parse("cr", &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.events, KHV_STUDY_CR_WRITE);
	CHECK_EQ(k.cr_write, 0);

	CHECK_EQ(parse("cr4,cr", &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.cr_write, 0);

	/* CR8 reads are another event: no cr_write for them. */
	CHECK_EQ(parse("cr8-read,invlpg,pause", &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.events, KHV_STUDY_CR8_READ | KHV_STUDY_INVLPG | KHV_STUDY_PAUSE);
	CHECK_EQ(k.cr_write, 0);
	CHECK_EQ(k.nr_ports, 0);

	/* Ports: the list in order; plain io, or io beside ports, every port. */
	CHECK_EQ(parse("io:0x3f8,io:0x71,io:0xffff,cr3", &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.events, KHV_STUDY_IO | KHV_STUDY_CR_WRITE);
	CHECK_EQ(k.nr_ports, 3);
	CHECK_EQ(k.ports[0], 0x3f8);
	CHECK_EQ(k.ports[1], 0x71);
	CHECK_EQ(k.ports[2], 0xffff);
	CHECK_EQ(k.cr_write, KHV_STUDY_CR3);
	CHECK_EQ(k.nr_cpuid + k.nr_msrs, 0);

	CHECK_EQ(parse("io:0", &s, why), 0);	/* port 0 is listed: nr_ports says so */
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.nr_ports, 1);
	CHECK_EQ(k.ports[0], 0);

	CHECK_EQ(parse("io:0x3f8,io", &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.events, KHV_STUDY_IO);
	CHECK_EQ(k.nr_ports, 0);

	{
		char arg[256];
		size_t n = 0;

		for (unsigned int i = 0; i < 16; i++)
			n += snprintf(arg + n, sizeof(arg) - n, "%sio:%u", i ? "," : "", 0x400 + i);
		CHECK_EQ(parse(arg, &s, why), 0);
		kr_study_request(&s, &k);
		check_request_rules(&k);
		CHECK_EQ(k.nr_ports, 16);
		for (unsigned int i = 0; i < 16; i++)
			CHECK_EQ(k.ports[i], 0x400 + i);
	}

	/* Exceptions: the mask of the vectors named; plain exception, or beside them, 0. */
	CHECK_EQ(parse("exception:pf", &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.events, KHV_STUDY_EXCEPTION);
	CHECK_EQ(k.exceptions, 0x4000);
	CHECK_EQ(k.nr_cpuid + k.nr_msrs + k.nr_ports + k.cr_write, 0);

	CHECK_EQ(parse("exception:de,exception:#DB,exception:3,exception:gp,exception:0x13,io:0x60",
		       &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.events, KHV_STUDY_EXCEPTION | KHV_STUDY_IO);
	CHECK_EQ(k.exceptions, 0x8200b);
	CHECK_EQ(k.nr_ports, 1);

	CHECK_EQ(parse("exception", &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.events, KHV_STUDY_EXCEPTION);
	CHECK_EQ(k.exceptions, 0);

	CHECK_EQ(parse("exception:ud,exception,exception:nm", &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.events, KHV_STUDY_EXCEPTION);
	CHECK_EQ(k.exceptions, 0);

	/* All fifteen named: that mask (khv's "all" too, said another way). */
	CHECK_EQ(parse("exception:de,exception:db,exception:bp,exception:of,exception:br,"
		       "exception:ud,exception:nm,exception:ts,exception:np,exception:ss,"
		       "exception:gp,exception:pf,exception:mf,exception:ac,exception:xm", &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.exceptions, KHV_STUDY_EXCEPTIONS);

	/* The other events ask for no vectors. */
	CHECK_EQ(parse("cpuid,msr,rdtsc,hlt,cr,cr8-read,invlpg,pause,io", &s, why), 0);
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.exceptions, 0);

	/*
	 * A mask or list kept for an event not asked for (cannot come from the
	 * parser) still does not reach khv, which would refuse it.
	 */
	memset(&s, 0, sizeof(s));
	s.events = KHV_STUDY_PAUSE;
	s.cr_write = KHV_STUDY_CR3;
	s.nr_ports = 1;
	s.ports[0] = 0x80;
	s.exceptions = 1u << 14;
	kr_study_request(&s, &k);
	check_request_rules(&k);
	CHECK_EQ(k.cr_write, 0);
	CHECK_EQ(k.nr_ports, 0);
	CHECK_EQ(k.ports[0], 0);
	CHECK_EQ(k.exceptions, 0);

	/* No --study: all zero, which turns study mode off. */
	memset(&s, 0, sizeof(s));
	kr_study_request(&s, &k);
	{
		static const struct khv_study zero;

		CHECK(!memcmp(&k, &zero, sizeof(k)));
	}
}

static struct khv_run *exit_msr(struct khv_run *run, uint32_t event, uint32_t index)
{
	memset(run, 0, sizeof(*run));
	run->exit_reason = KHV_EXIT_STUDY;
	run->study.event = event;
	run->study.msr.index = index;
	return run;
}

KR_TEST(study_wanted)
{
	struct kr_study s;
	struct khv_run run;
	char why[256];

	CHECK_EQ(parse("rdmsr:0x10,wrmsr:0x20,msr:0x30", &s, why), 0);
	CHECK(kr_study_wanted(&s, exit_msr(&run, KHV_STUDY_EV_RDMSR, 0x10)));
	CHECK(!kr_study_wanted(&s, exit_msr(&run, KHV_STUDY_EV_WRMSR, 0x10)));
	CHECK(!kr_study_wanted(&s, exit_msr(&run, KHV_STUDY_EV_RDMSR, 0x20)));
	CHECK(kr_study_wanted(&s, exit_msr(&run, KHV_STUDY_EV_WRMSR, 0x20)));
	CHECK(kr_study_wanted(&s, exit_msr(&run, KHV_STUDY_EV_RDMSR, 0x30)));
	CHECK(kr_study_wanted(&s, exit_msr(&run, KHV_STUDY_EV_WRMSR, 0x30)));
	CHECK(!kr_study_wanted(&s, exit_msr(&run, KHV_STUDY_EV_WRMSR, 0x40)));

	CHECK_EQ(parse("rdmsr,wrmsr:0x20", &s, why), 0);
	CHECK(kr_study_wanted(&s, exit_msr(&run, KHV_STUDY_EV_RDMSR, 0x12345)));
	CHECK(kr_study_wanted(&s, exit_msr(&run, KHV_STUDY_EV_WRMSR, 0x20)));
	CHECK(!kr_study_wanted(&s, exit_msr(&run, KHV_STUDY_EV_WRMSR, 0x6e0)));

	CHECK_EQ(parse("wrmsr", &s, why), 0);
	CHECK(kr_study_wanted(&s, exit_msr(&run, KHV_STUDY_EV_WRMSR, 0)));
	CHECK(!kr_study_wanted(&s, exit_msr(&run, KHV_STUDY_EV_RDMSR, 0)));

	/* khv's own lists are exact for the other events. */
	CHECK_EQ(parse("cpuid:1,rdtsc,hlt", &s, why), 0);
	CHECK(kr_study_wanted(&s, exit_msr(&run, KHV_STUDY_EV_CPUID, 0)));
	CHECK(kr_study_wanted(&s, exit_msr(&run, KHV_STUDY_EV_RDTSC, 0)));
	CHECK(kr_study_wanted(&s, exit_msr(&run, KHV_STUDY_EV_HLT, 0)));
	CHECK(kr_study_wanted(&s, exit_msr(&run, 31, 0)));

	/* And for the CR, INVLPG, PAUSE and port ones: khv sends only what was asked. */
	CHECK_EQ(parse("cr3,cr8-read,invlpg,pause,io:0x3f8,exception:pf", &s, why), 0);
	for (uint32_t ev = KHV_STUDY_EV_CR_WRITE; ev <= KHV_STUDY_EV_EXCEPTION; ev++) {
		exit_msr(&run, ev, 0);
		run.study.cr.cr = 3;
		CHECK(kr_study_wanted(&s, &run));
	}
	/* Exceptions: khv's mask is exact, whatever the vector on the exit. */
	exit_msr(&run, KHV_STUDY_EV_EXCEPTION, 0);
	run.study.exception.vector = 14;
	CHECK(kr_study_wanted(&s, &run));
	run.study.exception.vector = 13;
	CHECK(kr_study_wanted(&s, &run));
	CHECK_EQ(parse("exception", &s, why), 0);
	CHECK(kr_study_wanted(&s, &run));
}

static const char *line(const struct khv_run *run, unsigned int vcpu)
{
	static char buf[KR_STUDY_LINE_MAX];
	int n = kr_study_line(run, vcpu, buf, sizeof(buf));

	CHECK_EQ(n, strlen(buf));
	return buf;
}

KR_TEST(study_line)
{
	struct khv_run run;
	char small[32];
	int n;

	memset(&run, 0, sizeof(run));
	run.exit_reason = KHV_EXIT_STUDY;
	run.study.event = KHV_STUDY_EV_CPUID;
	run.study.rip = 0xffffffff81034e5aull;
	run.study.cpuid.leaf = 1;
	run.study.cpuid.subleaf = 0;
	run.study.cpuid.eax = 0x000806f8;
	run.study.cpuid.ebx = 0x00000800;
	run.study.cpuid.ecx = 0xf6f83203;
	run.study.cpuid.edx = 0x078bfbff;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81034e5a cpuid leaf 0x1 "
		  "subleaf 0x0 -> eax 0x806f8 ebx 0x800 ecx 0xf6f83203 edx 0x78bfbff");

	memset(&run.study, 0, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_RDMSR;
	run.study.rip = 0x1000;
	run.study.msr.index = 0xc0000080;
	run.study.msr.value = 0xd01;
	CHECK_STR(line(&run, 3), "khv-run: study vcpu 3 rip 0x1000 rdmsr 0xc0000080 -> 0xd01");
	run.study.msr.index = 0xc0011029;
	run.study.msr.value = 0;
	run.study.msr.gp = 1;
	CHECK_STR(line(&run, 3), "khv-run: study vcpu 3 rip 0x1000 rdmsr 0xc0011029 -> 0x0 (#GP)");

	memset(&run.study, 0, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_WRMSR;
	run.study.rip = 0xffffffff8107a3c8ull;
	run.study.msr.index = 0x6e0;
	run.study.msr.value = 0x2b6f3c9a41ull;
	CHECK_STR(line(&run, 1), "khv-run: study vcpu 1 rip 0xffffffff8107a3c8 wrmsr 0x6e0 <- "
		  "0x2b6f3c9a41");

	memset(&run.study, 0, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_RDTSC;
	run.study.rip = 0x7f0011223344ull;
	run.study.rdtsc.tsc = 0x123456789abcdef0ull;
	CHECK_STR(line(&run, 63), "khv-run: study vcpu 63 rip 0x7f0011223344 rdtsc -> "
		  "0x123456789abcdef0");
	run.study.rdtsc.aux = 0x3;	/* RDTSCP: with the TSC_AUX ECX gets */
	run.study.rdtsc.rdtscp = 1;
	CHECK_STR(line(&run, 63), "khv-run: study vcpu 63 rip 0x7f0011223344 rdtscp -> "
		  "0x123456789abcdef0 aux 0x3");

	memset(&run.study, 0, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_HLT;
	run.study.rip = 0;
	CHECK_STR(line(&run, 2), "khv-run: study vcpu 2 rip 0x0 hlt");

	/* CR writes: the CR's number from the exit, the new value and the old. */
	memset(&run.study, 0, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_CR_WRITE;
	run.study.rip = 0xffffffff81079b12ull;
	run.study.cr.cr = 3;
	run.study.cr.value = 0x10a2000;
	run.study.cr.old = 0x2c0c000;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81079b12 cr3 <- 0x10a2000 "
		  "(was 0x2c0c000)");
	run.study.cr.cr = 0;			/* CLTS: the CR0 it makes */
	run.study.cr.value = 0x80050033;
	run.study.cr.old = 0x8005003b;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81079b12 cr0 <- 0x80050033 "
		  "(was 0x8005003b)");
	run.study.cr.cr = 4;
	run.study.cr.value = ~0ull;
	run.study.cr.old = 0;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81079b12 cr4 <- "
		  "0xffffffffffffffff (was 0x0)");
	run.study.cr.cr = 8;
	run.study.cr.value = 0;
	run.study.cr.old = 0xf;
	run.study.rip = 0;
	CHECK_STR(line(&run, 1), "khv-run: study vcpu 1 rip 0x0 cr8 <- 0x0 (was 0xf)");

	/* CR8 reads: khv's answer and the register it goes to. */
	memset(&run.study, 0, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_CR8_READ;
	run.study.rip = 0xffffffff81000010ull;
	run.study.cr.cr = 8;
	run.study.cr.value = 0xf;
	run.study.cr.old = 0xf;
	CHECK_STR(line(&run, 2), "khv-run: study vcpu 2 rip 0xffffffff81000010 cr8 -> 0xf "
		  "(into rax)");
	run.study.cr.gpr = 4;
	run.study.cr.value = 0;
	CHECK_STR(line(&run, 2), "khv-run: study vcpu 2 rip 0xffffffff81000010 cr8 -> 0x0 "
		  "(into rsp)");
	run.study.cr.gpr = 8;
	CHECK_STR(line(&run, 2), "khv-run: study vcpu 2 rip 0xffffffff81000010 cr8 -> 0x0 "
		  "(into r8)");
	run.study.cr.gpr = 15;
	run.study.cr.value = ~0ull;
	CHECK_STR(line(&run, 2), "khv-run: study vcpu 2 rip 0xffffffff81000010 cr8 -> "
		  "0xffffffffffffffff (into r15)");
	run.study.cr.gpr = 16;			/* cannot happen: still a line */
	run.study.cr.value = 1;
	CHECK_STR(line(&run, 2), "khv-run: study vcpu 2 rip 0xffffffff81000010 cr8 -> 0x1 "
		  "(into gpr 16)");
	run.study.cr.gpr = ~0u;
	CHECK_STR(line(&run, 2), "khv-run: study vcpu 2 rip 0xffffffff81000010 cr8 -> 0x1 "
		  "(into gpr 4294967295)");

	memset(&run.study, 0, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_INVLPG;
	run.study.rip = 0xffffffff8108c2d1ull;
	run.study.invlpg.addr = 0x7f3a5c2d1000ull;
	CHECK_STR(line(&run, 5), "khv-run: study vcpu 5 rip 0xffffffff8108c2d1 invlpg "
		  "0x7f3a5c2d1000");
	run.study.invlpg.addr = ~0ull;
	CHECK_STR(line(&run, 5), "khv-run: study vcpu 5 rip 0xffffffff8108c2d1 invlpg "
		  "0xffffffffffffffff");
	run.study.invlpg.addr = 0;
	CHECK_STR(line(&run, 5), "khv-run: study vcpu 5 rip 0xffffffff8108c2d1 invlpg 0x0");

	memset(&run.study, 0, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_PAUSE;
	run.study.rip = 0xffffffff81f3b0a6ull;
	CHECK_STR(line(&run, 1), "khv-run: study vcpu 1 rip 0xffffffff81f3b0a6 pause");

	/* Descriptor tables: what a store stores and where, what a load loads. */
	memset(&run.study, 0, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_DESC;
	run.study.rip = 0xffffffff81000123ull;
	run.study.desc.insn = KHV_DESC_SGDT;
	run.study.desc.mem = 1;
	run.study.desc.size = 10;
	run.study.desc.addr = 0xffffc90000013e56ull;
	run.study.desc.base = 0xfffffe0000001000ull;
	run.study.desc.limit = 0x7f;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81000123 desc sgdt -> "
		  "base 0xfffffe0000001000 limit 0x7f at 0xffffc90000013e56");
	run.study.desc.insn = KHV_DESC_LIDT;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81000123 desc lidt <- "
		  "base 0xfffffe0000001000 limit 0x7f from 0xffffc90000013e56");
	run.study.desc.insn = KHV_DESC_LTR;
	run.study.desc.mem = 0;
	run.study.desc.gpr = 2;
	run.study.desc.size = 2;
	run.study.desc.selector = 0x40;
	run.study.desc.base = 0xfffffe0000003000ull;
	run.study.desc.limit = 0x4087;
	CHECK_STR(line(&run, 1), "khv-run: study vcpu 1 rip 0xffffffff81000123 desc ltr <- 0x40 "
		  "base 0xfffffe0000003000 limit 0x4087 from rdx");
	run.study.desc.insn = KHV_DESC_STR;
	run.study.desc.gpr = 13;
	CHECK_STR(line(&run, 1), "khv-run: study vcpu 1 rip 0xffffffff81000123 desc str -> 0x40 "
		  "into r13");
	run.study.desc.insn = KHV_DESC_SLDT;
	run.study.desc.mem = 1;
	run.study.desc.selector = 0;
	CHECK_STR(line(&run, 1), "khv-run: study vcpu 1 rip 0xffffffff81000123 desc sldt -> 0x0 "
		  "at 0xffffc90000013e56");
	run.study.desc.insn = 99;	/* cannot happen: still a line */
	CHECK_STR(line(&run, 1), "khv-run: study vcpu 1 rip 0xffffffff81000123 desc 99 -> 0x0 "
		  "at 0xffffc90000013e56");

	/* Port I/O: a value for OUT only; "rep" when the exit says so. */
	memset(&run.study, 0, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_IO;
	run.study.rip = 0xffffffff81771234ull;
	run.study.io.port = 0x3f8;
	run.study.io.size = 1;
	run.study.io.value = 0x41;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81771234 io out port 0x3f8 "
		  "size 1 value 0x41");
	run.study.io.port = 0xffff;
	run.study.io.size = 4;
	run.study.io.value = 0xffffffff;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81771234 io out port 0xffff "
		  "size 4 value 0xffffffff");
	run.study.io.port = 0;
	run.study.io.size = 2;
	run.study.io.value = 0;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81771234 io out port 0x0 "
		  "size 2 value 0x0");
	run.study.io.port = 0x71;
	run.study.io.size = 1;
	run.study.io.in = 1;
	run.study.io.value = 0x99;		/* not khv's (0 for IN): not printed */
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81771234 io in port 0x71 "
		  "size 1");
	run.study.io.in = 0;
	run.study.io.string = 1;
	run.study.io.rep = 1;
	run.study.io.port = 0x3f8;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81771234 io outs port 0x3f8 "
		  "size 1 rep");
	run.study.io.rep = 0;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81771234 io outs port 0x3f8 "
		  "size 1");
	run.study.io.in = 1;
	run.study.io.rep = 1;
	run.study.io.port = 0x1f0;
	run.study.io.size = 2;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81771234 io ins port 0x1f0 "
		  "size 2 rep");
	run.study.io.rep = 0;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81771234 io ins port 0x1f0 "
		  "size 2");
	/* Flags are any non-zero byte; a REP on IN or OUT is said too. */
	run.study.io.in = 0xff;
	run.study.io.string = 0;
	run.study.io.rep = 0x80;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81771234 io in port 0x1f0 "
		  "size 2 rep");
	run.study.io.in = 0;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81771234 io out port 0x1f0 "
		  "size 2 value 0x99 rep");

	/* Exceptions: vector and name; the error code, CR2 or DR6, only when given. */
	memset(&run.study, 0, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_EXCEPTION;
	run.study.rip = 0xffffffff81a01234ull;
	run.study.exception.vector = 14;
	run.study.exception.error_code = 2;
	run.study.exception.has_error_code = 1;
	run.study.exception.has_payload = 1;
	run.study.exception.payload = 0xffff888000000000ull;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81a01234 exception 14 #PF "
		  "error 0x2 cr2 0xffff888000000000");
	run.study.exception.during_delivery = 1;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81a01234 exception 14 #PF "
		  "error 0x2 cr2 0xffff888000000000 during delivery");
	run.study.exception.error_code = 0;	/* a read of a page not present */
	run.study.exception.payload = 0;
	run.study.exception.during_delivery = 0;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81a01234 exception 14 #PF "
		  "error 0x0 cr2 0x0");
	run.study.exception.has_error_code = 0;	/* cannot happen for #PF: still a line */
	run.study.exception.has_payload = 0;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0xffffffff81a01234 exception 14 #PF");

	memset(&run.study, 0, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_EXCEPTION;
	run.study.rip = 0x7c00;
	run.study.exception.vector = 13;
	run.study.exception.has_error_code = 1;
	run.study.exception.error_code = 0x1c3;	/* a selector */
	CHECK_STR(line(&run, 1), "khv-run: study vcpu 1 rip 0x7c00 exception 13 #GP error 0x1c3");
	run.study.exception.error_code = 0;
	CHECK_STR(line(&run, 1), "khv-run: study vcpu 1 rip 0x7c00 exception 13 #GP error 0x0");
	run.study.exception.during_delivery = 1;
	CHECK_STR(line(&run, 1), "khv-run: study vcpu 1 rip 0x7c00 exception 13 #GP error 0x0 "
		  "during delivery");
	run.study.exception.error_code = 0x12345;	/* not said unless it has one */
	run.study.exception.has_error_code = 0;
	run.study.exception.payload = 0xdead;		/* nor a payload */
	CHECK_STR(line(&run, 1), "khv-run: study vcpu 1 rip 0x7c00 exception 13 #GP "
		  "during delivery");

	/* #DB: DR6's bits; a trap's RIP is the next instruction's. */
	memset(&run.study, 0, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_EXCEPTION;
	run.study.rip = 0x401005;
	run.study.exception.vector = 1;
	run.study.exception.has_payload = 1;
	run.study.exception.payload = 0x4000;		/* BS: single step */
	CHECK_STR(line(&run, 3), "khv-run: study vcpu 3 rip 0x401005 exception 1 #DB dr6 0x4000");
	run.study.exception.during_delivery = 1;
	run.study.exception.payload = 0x1;		/* B0 */
	CHECK_STR(line(&run, 3), "khv-run: study vcpu 3 rip 0x401005 exception 1 #DB dr6 0x1 "
		  "during delivery");
	run.study.exception.has_payload = 0;
	run.study.exception.during_delivery = 0;
	CHECK_STR(line(&run, 3), "khv-run: study vcpu 3 rip 0x401005 exception 1 #DB");
	run.study.exception.int1 = 1;			/* RIP: the INT1 itself */
	CHECK_STR(line(&run, 3), "khv-run: study vcpu 3 rip 0x401005 exception 1 #DB by int1");
	run.study.exception.int1 = 0;

	/* #UD and #BP: no error code, no payload. */
	memset(&run.study, 0, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_EXCEPTION;
	run.study.rip = 0xffffffff8100abcdull;
	run.study.exception.vector = 6;
	CHECK_STR(line(&run, 2), "khv-run: study vcpu 2 rip 0xffffffff8100abcd exception 6 #UD");
	run.study.exception.during_delivery = 1;
	CHECK_STR(line(&run, 2), "khv-run: study vcpu 2 rip 0xffffffff8100abcd exception 6 #UD "
		  "during delivery");
	run.study.exception.during_delivery = 0;
	run.study.exception.vector = 3;
	run.study.rip = 0x401000;
	CHECK_STR(line(&run, 2), "khv-run: study vcpu 2 rip 0x401000 exception 3 #BP");

	/* Flags are any non-zero byte; each studied vector by its name. */
	memset(&run.study, 0, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_EXCEPTION;
	run.study.exception.vector = 17;
	run.study.exception.has_error_code = 0x80;
	run.study.exception.during_delivery = 0xff;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0x0 exception 17 #AC error 0x0 "
		  "during delivery");
	{
		static const char *const want[] = {
			"0 #DE", "1 #DB", "3 #BP", "4 #OF", "5 #BR", "6 #UD", "7 #NM", "10 #TS",
			"11 #NP", "12 #SS", "13 #GP", "14 #PF", "16 #MF", "17 #AC", "19 #XM",
		};
		unsigned int i = 0;
		char expect[80];

		memset(&run.study, 0, sizeof(run.study));
		run.study.event = KHV_STUDY_EV_EXCEPTION;
		for (uint32_t v = 0; v < 32; v++) {
			if (!(KHV_STUDY_EXCEPTIONS & (1u << v)))
				continue;
			run.study.exception.vector = v;
			snprintf(expect, sizeof(expect), "khv-run: study vcpu 0 rip 0x0 exception %s",
				 want[i++]);
			CHECK_STR(line(&run, 0), expect);
		}
		CHECK_EQ(i, ARRAY_SIZE(want));
	}
	/* Vectors khv never sends: a name when they have one, else the number. */
	run.study.exception.vector = 8;
	run.study.exception.has_error_code = 1;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0x0 exception 8 #DF error 0x0");
	run.study.exception.vector = 2;
	run.study.exception.has_error_code = 0;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0x0 exception 2 NMI");
	run.study.exception.vector = 15;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0x0 exception 15");
	run.study.exception.vector = 32;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0x0 exception 32");
	run.study.exception.vector = 13;	/* a payload where none is: as it is */
	run.study.exception.has_payload = 1;
	run.study.exception.payload = 0x1234;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0x0 exception 13 #GP payload 0x1234");

	/* One this khv-run does not know: its number. */
	memset(&run.study, 0, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_DESC + 1;
	run.study.rip = 0x10;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0x10 event 12");
	run.study.event = ~0u;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0x10 event 4294967295");

	/* The longest line fits, with room for "\r\n". */
	memset(&run.study, 0xff, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_CPUID;
	n = kr_study_line(&run, ~0u, NULL, 0);
	CHECK(n > 0 && n < KR_STUDY_LINE_MAX - 2);
	CHECK_EQ(n, 157);		/* kr_study_log's "cannot happen" */
	for (uint32_t ev = KHV_STUDY_EV_RDMSR; ev <= KHV_STUDY_EV_DESC + 1; ev++) {
		run.study.event = ev;
		CHECK(kr_study_line(&run, ~0u, NULL, 0) < n);
	}
	run.study.event = ~0u;
	CHECK(kr_study_line(&run, ~0u, NULL, 0) < n);
	/* The longest exception lines: every part, the widest values. */
	run.study.event = KHV_STUDY_EV_EXCEPTION;
	CHECK_EQ(kr_study_line(&run, ~0u, NULL, 0),
		 strlen("khv-run: study vcpu 4294967295 rip 0xffffffffffffffff exception "
			"4294967295 by int1 error 0xffffffff payload 0xffffffffffffffff during "
			"delivery"));
	/* The longest descriptor-table line: a load's selector, base, limit. */
	run.study.event = KHV_STUDY_EV_DESC;
	run.study.desc.insn = KHV_DESC_LLDT;
	CHECK_EQ(kr_study_line(&run, ~0u, NULL, 0),
		 strlen("khv-run: study vcpu 4294967295 rip 0xffffffffffffffff desc lldt <- 0xffff "
			"base 0xffffffffffffffff limit 0xffffffff from 0xffffffffffffffff"));
	for (uint32_t v = 0; v < 32; v++) {
		run.study.exception.vector = v;
		CHECK(kr_study_line(&run, ~0u, NULL, 0) < n);
	}
	run.study.exception.vector = ~0u;
	/* The widest values in a buffer of KR_STUDY_LINE_MAX - 2: whole, as the log's. */
	{
		char whole[KR_STUDY_LINE_MAX - 2];

		for (uint32_t ev = KHV_STUDY_EV_CPUID; ev <= KHV_STUDY_EV_EXCEPTION; ev++) {
			run.study.event = ev;
			n = kr_study_line(&run, ~0u, whole, sizeof(whole));
			CHECK_EQ(n, strlen(whole));
		}
	}

	/* Cut as snprintf cuts; the length is the whole line's. */
	run.study.event = KHV_STUDY_EV_HLT;
	run.study.rip = 0x10;
	CHECK_EQ(kr_study_line(&run, 0, small, sizeof(small)),
		 strlen("khv-run: study vcpu 0 rip 0x10 hlt"));
	CHECK_STR(small, "khv-run: study vcpu 0 rip 0x10 ");
}

KR_TEST(study_check_caps)
{
	struct kr_study s;
	char why[256];

	CHECK_EQ(parse("cpuid:1,msr,rdtsc,hlt", &s, why), 0);
	CHECK_EQ(kr_study_check(&s, KHV_STUDY_ALL, why, sizeof(why)), 0);
	CHECK_EQ(kr_study_check(&s, 0, why, sizeof(why)), -EOPNOTSUPP);
	CHECK_STR(why, "--study: this khv has no study mode (KHV_CAP_STUDY)");
	CHECK_EQ(kr_study_check(&s, -ENOTTY, why, sizeof(why)), -EOPNOTSUPP);
	CHECK_STR(why, "--study: this khv has no study mode (KHV_CAP_STUDY)");
	CHECK_EQ(kr_study_check(&s, KHV_STUDY_CPUID | KHV_STUDY_RDMSR, why, sizeof(why)),
		 -EOPNOTSUPP);
	CHECK_STR(why, "--study: this khv does not study wrmsr,rdtsc,hlt (KHV_CAP_STUDY 0x3)");
	/* Only what is asked counts. */
	CHECK_EQ(parse("cpuid", &s, why), 0);
	CHECK_EQ(kr_study_check(&s, KHV_STUDY_CPUID, why, sizeof(why)), 0);

	/* The new events by their names: an older khv offers only the first five. */
	CHECK_EQ(parse("cpuid,cr3,cr8-read,invlpg,pause,io:0x3f8", &s, why), 0);
	CHECK_EQ(kr_study_check(&s, KHV_STUDY_ALL, why, sizeof(why)), 0);
	CHECK_EQ(kr_study_check(&s, 0x1f, why, sizeof(why)), -EOPNOTSUPP);
	CHECK_STR(why, "--study: this khv does not study cr-write,cr8-read,invlpg,pause,io "
		  "(KHV_CAP_STUDY 0x1f)");
	CHECK_EQ(kr_study_check(&s, 0x1f | KHV_STUDY_CR_WRITE | KHV_STUDY_PAUSE, why,
				sizeof(why)), -EOPNOTSUPP);
	CHECK_STR(why, "--study: this khv does not study cr8-read,invlpg,io (KHV_CAP_STUDY 0x13f)");
	CHECK_EQ(parse("cr", &s, why), 0);
	CHECK_EQ(kr_study_check(&s, KHV_STUDY_CPUID, why, sizeof(why)), -EOPNOTSUPP);
	CHECK_STR(why, "--study: this khv does not study cr-write (KHV_CAP_STUDY 0x1)");
	CHECK_EQ(kr_study_check(&s, KHV_STUDY_CR_WRITE, why, sizeof(why)), 0);
	/* Exceptions, by the event's name: a khv before them offers the first ten. */
	CHECK_EQ(parse("exception:pf,hlt", &s, why), 0);
	CHECK_EQ(kr_study_check(&s, KHV_STUDY_ALL, why, sizeof(why)), 0);
	CHECK_EQ(kr_study_check(&s, KHV_STUDY_HLT | KHV_STUDY_EXCEPTION, why, sizeof(why)), 0);
	CHECK_EQ(kr_study_check(&s, 0x3ff, why, sizeof(why)), -EOPNOTSUPP);
	CHECK_STR(why, "--study: this khv does not study exception (KHV_CAP_STUDY 0x3ff)");
	CHECK_EQ(parse("exception", &s, why), 0);
	CHECK_EQ(kr_study_check(&s, KHV_STUDY_EXCEPTION, why, sizeof(why)), 0);
	CHECK_EQ(kr_study_check(&s, 0x1f, why, sizeof(why)), -EOPNOTSUPP);
	CHECK_STR(why, "--study: this khv does not study exception (KHV_CAP_STUDY 0x1f)");
	CHECK_EQ(kr_study_check(&s, 0, why, sizeof(why)), -EOPNOTSUPP);
	CHECK_STR(why, "--study: this khv has no study mode (KHV_CAP_STUDY)");

	/* Every event missing: the longest list of names, whole. */
	CHECK_EQ(parse("cpuid,msr,rdtsc,hlt,cr,cr8-read,invlpg,pause,io,exception,desc", &s, why),
		 0);
	CHECK_EQ(kr_study_check(&s, 1u << 30, why, sizeof(why)), -EOPNOTSUPP);
	CHECK_STR(why, "--study: this khv does not study cpuid,rdmsr,wrmsr,rdtsc,hlt,cr-write,"
		  "cr8-read,invlpg,pause,io,exception,desc (KHV_CAP_STUDY 0x40000000)");
	CHECK_EQ(kr_study_check(&s, 0x7fffffff & ~(int)KHV_STUDY_ALL, why, sizeof(why)),
		 -EOPNOTSUPP);
	CHECK_STR(why, "--study: this khv does not study cpuid,rdmsr,wrmsr,rdtsc,hlt,cr-write,"
		  "cr8-read,invlpg,pause,io,exception,desc (KHV_CAP_STUDY 0x7ffff000)");
	/* A khv (a CPU) without descriptor-table intercepts: that one is named. */
	CHECK_EQ(kr_study_check(&s, (int)(KHV_STUDY_ALL & ~KHV_STUDY_DESC), why, sizeof(why)),
		 -EOPNOTSUPP);
	CHECK_STR(why, "--study: this khv does not study desc (KHV_CAP_STUDY 0x7ff)");

	/* kr_study_check's buffer (128) holds all twelve names (76) and stray bits. */
	CHECK_EQ(kr_study_names(KHV_STUDY_ALL, why, sizeof(why)),
		 strlen("cpuid,rdmsr,wrmsr,rdtsc,hlt,cr-write,cr8-read,invlpg,pause,io,exception,"
			"desc"));
	CHECK_STR(why, "cpuid,rdmsr,wrmsr,rdtsc,hlt,cr-write,cr8-read,invlpg,pause,io,exception,"
		  "desc");
	CHECK_EQ(kr_study_names(~0ull, NULL, 0), 76 + strlen(",0xfffffffffffff000"));
	CHECK(kr_study_names(~0ull, NULL, 0) < 128);
	kr_study_names(KHV_STUDY_IO | (1ull << 12), why, sizeof(why));
	CHECK_STR(why, "io,0x1000");
	kr_study_names(KHV_STUDY_IO | KHV_STUDY_EXCEPTION, why, sizeof(why));
	CHECK_STR(why, "io,exception");
	kr_study_names(KHV_STUDY_EXCEPTION | ~(uint64_t)KHV_STUDY_ALL, why, sizeof(why));
	CHECK_STR(why, "exception,0xfffffffffffff000");
	kr_study_names(KHV_STUDY_CR_WRITE | KHV_STUDY_CR8_READ, why, sizeof(why));
	CHECK_STR(why, "cr-write,cr8-read");
	kr_study_names(KHV_STUDY_HLT | (1ull << 40), why, sizeof(why));
	CHECK_STR(why, "hlt,0x10000000000");
	kr_study_names(0, why, sizeof(why));
	CHECK_STR(why, "");
}

/* ---- the log ---- */

static struct khv_run hlt_run(uint64_t rip)
{
	struct khv_run run;

	memset(&run, 0, sizeof(run));
	run.exit_reason = KHV_EXIT_STUDY;
	run.study.event = KHV_STUDY_EV_HLT;
	run.study.rip = rip;
	return run;
}

static size_t read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += r;
	buf[n] = 0;
	return n;
}

KR_TEST(study_log_lines)
{
	struct khv_run run = hlt_run(0x1234);
	char buf[256];
	int p[2];

	CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
	CHECK_EQ(kr_study_log(p[1], false, &run, 1), 0);
	CHECK_EQ(kr_study_log(p[1], true, &run, 2), 0);
	close(p[1]);
	read_all(p[0], buf, sizeof(buf));
	CHECK_STR(buf, "khv-run: study vcpu 1 rip 0x1234 hlt\n"
		  "khv-run: study vcpu 2 rip 0x1234 hlt\r\n");
	close(p[0]);

	/* The reader gone: -EPIPE, no SIGPIPE (the vCPU threads block it). */
	CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	{
		struct sigaction ign = { .sa_handler = SIG_IGN }, old;

		sigaction(SIGPIPE, &ign, &old);
		CHECK_EQ(kr_study_log(p[1], false, &run, 0), -EPIPE);
		sigaction(SIGPIPE, &old, NULL);
	}
	close(p[1]);
	CHECK_EQ(kr_study_log(-1, false, &run, 0), -EBADF);
}

#define LOG_THREADS	4
#define LOG_LINES	500

struct log_arg {
	int fd;
	unsigned int vcpu;
	int errors;
};

static void *log_thread(void *p)
{
	struct log_arg *a = p;
	struct khv_run run;

	memset(&run, 0, sizeof(run));
	run.study.event = KHV_STUDY_EV_CPUID;
	for (unsigned int i = 0; i < LOG_LINES; i++) {
		run.study.rip = 0xffffffff81000000ull + i;
		run.study.cpuid.leaf = i;
		run.study.cpuid.eax = a->vcpu;
		a->errors += kr_study_log(a->fd, false, &run, a->vcpu) != 0;
	}
	return NULL;
}

/* Several vCPU threads on one O_APPEND file (--study-log): whole lines only. */
KR_TEST(study_log_threads)
{
	char path[] = "/tmp/kr-study-XXXXXX", *buf, *line, *save;
	struct log_arg args[LOG_THREADS];
	pthread_t th[LOG_THREADS];
	unsigned int seen[LOG_THREADS] = { 0 }, lines = 0;
	size_t cap = LOG_THREADS * LOG_LINES * KR_STUDY_LINE_MAX;
	int fd = mkstemp(path), rfd;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	rfd = open(path, O_RDONLY | O_CLOEXEC);
	unlink(path);
	for (unsigned int i = 0; i < LOG_THREADS; i++) {
		args[i] = (struct log_arg){ .fd = fd, .vcpu = i };
		CHECK_EQ(pthread_create(&th[i], NULL, log_thread, &args[i]), 0);
	}
	for (unsigned int i = 0; i < LOG_THREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(args[i].errors, 0);
	}
	buf = malloc(cap);
	read_all(rfd, buf, cap);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned int vcpu, vcpu2, leaf, leaf2;
		unsigned long long rip;
		int end = 0;

		lines++;
		if (sscanf(line, "khv-run: study vcpu %u rip 0x%llx cpuid leaf 0x%x subleaf 0x0 -> "
			   "eax 0x%x ebx 0x0 ecx 0x0 edx 0x0%n", &vcpu, &rip, &leaf, &vcpu2,
			   &end) != 4 || line[end] || vcpu != vcpu2 || vcpu >= LOG_THREADS) {
			CHECK(!"a whole line");
			printf("#   '%s'\n", line);
			break;
		}
		leaf2 = (unsigned int)(rip - 0xffffffff81000000ull);
		CHECK(leaf == leaf2 && leaf == seen[vcpu]);	/* each thread's, in order */
		seen[vcpu]++;
	}
	CHECK_EQ(lines, LOG_THREADS * LOG_LINES);
	for (unsigned int i = 0; i < LOG_THREADS; i++)
		CHECK_EQ(seen[i], LOG_LINES);
	free(buf);
	close(fd);
	close(rfd);
}

struct block_arg {
	int fd, ret;
	bool crlf;
};

static void *block_thread(void *p)
{
	struct block_arg *a = p;
	struct khv_run run = hlt_run(0xabc);

	__atomic_store_n(&a->ret, kr_study_log(a->fd, a->crlf, &run, 7), __ATOMIC_SEQ_CST);
	return NULL;
}

static void kick_handler(int sig)
{
	(void)sig;
}

static void fill_pipe(int fd)
{
	static char junk[4096];

	memset(junk, 'j', sizeof(junk));
	while (write(fd, junk, sizeof(junk)) > 0)
		;
	while (write(fd, junk, 1) > 0)
		;
}

static void nap(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * A full non-blocking fd (stderr sharing a terminal's file with stdio,
 * which the console made non-blocking) is waited for, and the line then
 * arrives whole; a kick (a signal, as vcpu.c's SIGUSR1) ends the wait.
 */
KR_TEST(study_log_full)
{
	struct sigaction sa = { .sa_handler = kick_handler }, old;
	struct block_arg a = { .ret = 1, .crlf = true };
	static char buf[1 << 20];
	pthread_t th;
	size_t n;
	int p[2];

	CHECK_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	fill_pipe(p[1]);
	a.fd = p[1];
	CHECK_EQ(pthread_create(&th, NULL, block_thread, &a), 0);
	nap(50);
	CHECK_EQ(__atomic_load_n(&a.ret, __ATOMIC_SEQ_CST), 1);	/* still waiting */
	n = read_all(p[0], buf, sizeof(buf));			/* non-blocking: drains */
	pthread_join(th, NULL);
	CHECK_EQ(a.ret, 0);
	n += read_all(p[0], buf + n, sizeof(buf) - n);
	CHECK(n > 40);
	CHECK_STR(buf + n - strlen("khv-run: study vcpu 7 rip 0xabc hlt\r\n"),
		  "khv-run: study vcpu 7 rip 0xabc hlt\r\n");
	close(p[0]);
	close(p[1]);

	/* Blocking and full: a kick ends the wait with -EINTR, the line dropped. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, &old);
	CHECK_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	fill_pipe(p[1]);
	fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) & ~O_NONBLOCK);
	a = (struct block_arg){ .fd = p[1], .ret = 1 };
	CHECK_EQ(pthread_create(&th, NULL, block_thread, &a), 0);
	nap(50);
	for (int i = 0; i < 100 && __atomic_load_n(&a.ret, __ATOMIC_SEQ_CST) == 1; i++) {
		pthread_kill(th, SIGUSR2);
		nap(10);
	}
	pthread_join(th, NULL);
	CHECK_EQ(a.ret, -EINTR);
	sigaction(SIGUSR2, &old, NULL);
	close(p[0]);
	close(p[1]);
}
