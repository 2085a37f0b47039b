// SPDX-License-Identifier: GPL-2.0
/* khv-trace's command line (opts.c). */
#include <string.h>

#include "../opts.h"
#include "t.h"

static int parse(struct ktr_opts *o, char *why, const char *a0, const char *a1, const char *a2,
		 const char *a3, const char *a4)
{
	char *argv[6] = { (char *)"khv-trace", (char *)a0, (char *)a1, (char *)a2, (char *)a3,
			  (char *)a4 };
	int argc = 1;

	while (argc < 6 && argv[argc])
		argc++;
	return ktr_opts_parse(o, argc, argv, why, 256);
}

KTR_TEST(opts_defaults)
{
	struct ktr_opts o;
	char why[256];

	CHECK_EQ(parse(&o, why, "record", NULL, NULL, NULL, NULL), 0);
	CHECK_EQ(o.cmd, KTR_CMD_RECORD);
	CHECK_EQ(o.pid, 0);
	CHECK_NEAR(o.seconds, 5.0, 0);
	CHECK_STR(o.out, "khv-trace.dat");
	CHECK_EQ(o.buffer_kb, 0);
	CHECK_EQ(parse(&o, why, "report", NULL, NULL, NULL, NULL), 0);
	CHECK_EQ(o.cmd, KTR_CMD_REPORT);
	CHECK_STR(o.in, "khv-trace.dat");
	CHECK_STR(o.out, "khv-trace-report");
	CHECK_EQ(o.top, 8);
}

KTR_TEST(opts_values)
{
	struct ktr_opts o;
	char why[256];

	CHECK_EQ(parse(&o, why, "record", "-p", "1234", "-d", "0.5"), 0);
	CHECK_EQ(o.pid, 1234);
	CHECK_NEAR(o.seconds, 0.5, 0);
	CHECK_EQ(parse(&o, why, "record", "--pid=7", "--duration=60", "-o", "x.dat"), 0);
	CHECK_EQ(o.pid, 7);
	CHECK_STR(o.out, "x.dat");
	CHECK_EQ(parse(&o, why, "record", "-b", "1024", "-q", NULL), 0);
	CHECK_EQ(o.buffer_kb, 1024);
	CHECK(o.quiet);
	CHECK_EQ(parse(&o, why, "report", "-i", "a.dat", "-o", "dir"), 0);
	CHECK_STR(o.in, "a.dat");
	CHECK_STR(o.out, "dir");
	CHECK_EQ(parse(&o, why, "report", "--top=3", NULL, NULL, NULL), 0);
	CHECK_EQ(o.top, 3);
	CHECK_EQ(parse(&o, why, "--help", NULL, NULL, NULL, NULL), 0);
	CHECK(o.help);
	CHECK_EQ(parse(&o, why, "-V", NULL, NULL, NULL, NULL), 0);
	CHECK(o.version);
	CHECK_EQ(parse(&o, why, "report", "-h", NULL, NULL, NULL), 0);
	CHECK(o.help);
}

KTR_TEST(opts_refused)
{
	static const struct {
		const char *a[5];
		const char *why;
	} bad[] = {
		{ { NULL }, "a command is needed: record or report" },
		{ { "play" }, "unknown command 'play': record or report" },
		{ { "record", "-p", "0" }, "--pid: '0' is not a process id" },
		{ { "record", "-p", "12x" }, "--pid: '12x' is not a process id" },
		{ { "record", "-p", "99999999999" }, "--pid: '99999999999' is not a process id" },
		{ { "record", "-d", "0" }, "--duration: '0' is not a number of seconds above 0, at most 86400" },
		{ { "record", "-d", "nan" }, "--duration: 'nan' is not a number of seconds above 0, at most 86400" },
		{ { "record", "-d", "86401" }, "--duration: '86401' is not a number of seconds above 0, at most 86400" },
		{ { "record", "-b", "2" }, "--buffer: '2' is not a number of KiB from 4 to 4194304" },
		{ { "record", "-o", "" }, "--output: an empty path" },
		{ { "record", "-i", "x" }, "-i is an option of report" },
		{ { "record", "-n", "3" }, "-n is an option of report" },
		{ { "report", "-p", "3" }, "-p is an option of record" },
		{ { "report", "-d", "3" }, "-d is an option of record" },
		{ { "report", "-q" }, "-q is an option of record" },
		{ { "report", "-n", "0" }, "--top: '0' is not a number from 1 to 32" },
		{ { "report", "-n", "33" }, "--top: '33' is not a number from 1 to 32" },
		{ { "report", "-i" }, "-i needs a value" },
		{ { "report", "-x" }, "unknown option -x" },
		{ { "report", "--frob" }, "unknown option --frob" },
		{ { "report", "extra" }, "unexpected argument 'extra'" },
	};
	struct ktr_opts o;
	char why[256];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_EQ(parse(&o, why, bad[i].a[0], bad[i].a[1], bad[i].a[2], bad[i].a[3],
			       bad[i].a[4]), -22);
		CHECK_STR(why, bad[i].why);
	}
	CHECK(strstr(ktr_usage_text, "khv-trace record [-p PID]") != NULL);
}
