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

static int parse(const char *arg, struct kr_study *s, char *why)
{
	memset(s, 0, sizeof(*s));
	why[0] = 0;
	return kr_study_parse(arg, s, why, 200);
}

/* The canonical form of s, parsed again, gives the same form. */
static void check_round_trip(const struct kr_study *s)
{
	char a[512], b[512], why[200];
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
	char why[200], out[512];

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
	CHECK_EQ(s.events, KHV_STUDY_ALL);
	kr_study_format(&s, out, sizeof(out));
	CHECK_STR(out, "cpuid,cpuid:0xd,rdmsr,wrmsr,rdtsc,hlt");
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

	/* The canonical form is cut as snprintf cuts, its length whole. */
	CHECK_EQ(parse("cpuid:0x1,hlt", &s, why), 0);
	CHECK_EQ(kr_study_format(&s, out, 5), strlen("cpuid:0x1,hlt"));
	CHECK_STR(out, "cpui");
	CHECK_EQ(kr_study_format(&s, NULL, 0), strlen("cpuid:0x1,hlt"));
}

KR_TEST(study_opts_errors)
{
	static const struct {
		const char *arg, *says;
	} bad[] = {
		{ "", "--study: empty; expected cpuid[:LEAF], rdmsr[:INDEX], wrmsr[:INDEX], "
		      "msr[:INDEX], rdtsc or hlt" },
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
	};
	struct kr_study s;
	char why[200];

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
	for (unsigned int i = k->nr_cpuid; i < KHV_STUDY_MAX_LIST; i++)
		CHECK_EQ(k->cpuid[i], 0);
	for (unsigned int i = k->nr_msrs; i < KHV_STUDY_MAX_LIST; i++)
		CHECK_EQ(k->msrs[i], 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(k->reserved); i++)
		CHECK_EQ(k->reserved[i], 0);
}

KR_TEST(study_request)
{
	struct kr_study s;
	struct khv_study k;
	char why[200];

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
	CHECK_EQ(k.nr_cpuid + k.nr_msrs, 0);

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
	char why[200];

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

	memset(&run.study, 0, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_HLT;
	run.study.rip = 0;
	CHECK_STR(line(&run, 2), "khv-run: study vcpu 2 rip 0x0 hlt");

	run.study.event = 9;
	run.study.rip = 0x10;
	CHECK_STR(line(&run, 0), "khv-run: study vcpu 0 rip 0x10 event 9");

	/* The longest line fits, with room for "\r\n". */
	memset(&run.study, 0xff, sizeof(run.study));
	run.study.event = KHV_STUDY_EV_CPUID;
	n = kr_study_line(&run, ~0u, NULL, 0);
	CHECK(n > 0 && n < KR_STUDY_LINE_MAX - 2);
	run.study.event = KHV_STUDY_EV_RDMSR;
	CHECK(kr_study_line(&run, ~0u, NULL, 0) < n);

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
	char why[200];

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

	CHECK_EQ(kr_study_names(KHV_STUDY_ALL, why, sizeof(why)),
		 strlen("cpuid,rdmsr,wrmsr,rdtsc,hlt"));
	CHECK_STR(why, "cpuid,rdmsr,wrmsr,rdtsc,hlt");
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
