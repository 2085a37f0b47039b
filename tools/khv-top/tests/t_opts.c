// SPDX-License-Identifier: GPL-2.0
/* khv-top's command line (opts.c). */
#include <errno.h>
#include <string.h>

#include "../opts.h"
#include "t.h"

/* Parses the NULL-terminated arguments after "khv-top". */
static int parse(struct kt_opts *o, char *why, const char *const *args)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = (char *)"khv-top";
	while (*args && argc < 31)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return kt_opts_parse(o, argc, argv, why, 256);
}

#define PARSE(o, why, ...)	parse((o), (why), (const char *const[]){ __VA_ARGS__, NULL })

KT_TEST(opts_defaults)
{
	struct kt_opts o;
	char why[256];

	CHECK_EQ(PARSE(&o, why, NULL), 0);
	CHECK(!o.batch && !o.has_vm && !o.has_pid && !o.help && !o.version);
	CHECK_EQ(o.iterations, 0);
	CHECK_NEAR(o.interval, 1.0, 0);
	CHECK_EQ(o.sort, KT_SORT_RATE);
	CHECK(o.device == NULL);
	CHECK_STR(why, "");
}

KT_TEST(opts_accepted)
{
	struct kt_opts o;
	char why[256];

	CHECK_EQ(PARSE(&o, why, "--batch", "--iterations=5", "--interval=0.5", "--vm=12",
		       "--sort=p99", "--device=/tmp/khv"), 0);
	CHECK(o.batch && o.has_vm && !o.has_pid);
	CHECK_EQ(o.iterations, 5);
	CHECK_NEAR(o.interval, 0.5, 0);
	CHECK_EQ(o.vm, 12);
	CHECK_EQ(o.sort, KT_SORT_P99);
	CHECK_STR(o.device, "/tmp/khv");

	CHECK_EQ(PARSE(&o, why, "-b", "-n", "3", "-d", "2", "-p", "4242", "-s", "name"), 0);
	CHECK(o.batch && o.has_pid && !o.has_vm);
	CHECK_EQ(o.iterations, 3);
	CHECK_NEAR(o.interval, 2, 0);
	CHECK_EQ(o.pid, 4242);
	CHECK_EQ(o.sort, KT_SORT_NAME);

	CHECK_EQ(PARSE(&o, why, "--batch", "--once", "--vm", "0"), 0);
	CHECK_EQ(o.iterations, 1);
	CHECK(o.has_vm && o.vm == 0);
	CHECK_EQ(PARSE(&o, why, "-b1"), 0);
	CHECK(o.batch && o.iterations == 1);
	CHECK_EQ(PARSE(&o, why, "--device", "/dev/null", "--sort", "count", "--interval", "86400"),
		 0);
	CHECK_EQ(o.sort, KT_SORT_COUNT);
	CHECK_NEAR(o.interval, 86400, 0);
	CHECK_EQ(PARSE(&o, why, "--interval=0.01", "--vm=4294967295"), 0);
	CHECK_EQ(o.vm, 4294967295u);
	CHECK_EQ(PARSE(&o, why, "--help"), 0);
	CHECK(o.help);
	CHECK_EQ(PARSE(&o, why, "-V"), 0);
	CHECK(o.version);
}

static void refused(const char *const *args, const char *want)
{
	struct kt_opts o;
	char why[256];

	CHECK_EQ(parse(&o, why, args), -EINVAL);
	if (!strstr(why, want))
		printf("#   message \"%s\" lacks \"%s\"\n", why, want);
	CHECK(strstr(why, want) != NULL);
}

#define REFUSED(want, ...)	refused((const char *const[]){ __VA_ARGS__, NULL }, (want))

KT_TEST(opts_refused)
{
	REFUSED("--iterations", "--iterations=0");
	REFUSED("--iterations", "--iterations=-1");
	REFUSED("--iterations", "--iterations=2x");
	REFUSED("--iterations", "--iterations=");
	REFUSED("--iterations", "-n", "99999999999999999999");
	REFUSED("--interval", "--interval=0");
	REFUSED("--interval", "--interval=0.001");
	REFUSED("--interval", "--interval=86401");
	REFUSED("--interval", "--interval=nan");
	REFUSED("--interval", "--interval=inf");
	REFUSED("--interval", "--interval=1s");
	REFUSED("--interval", "-d", "");
	REFUSED("--vm", "--vm=-1");
	REFUSED("--vm", "--vm=4294967296");
	REFUSED("--vm", "--vm=x");
	REFUSED("--pid", "--pid=0");
	REFUSED("--pid", "--pid=2147483648");
	REFUSED("--pid", "-p", "+5");
	REFUSED("exclude", "--vm=1", "--pid=2");
	REFUSED("--sort", "--sort=size");
	REFUSED("--device", "--device=");
	REFUSED("unknown option --frobnicate", "--frobnicate");
	REFUSED("unknown option -x", "-x");
	REFUSED("needs a value", "--vm");
	REFUSED("needs a value", "-n");
	REFUSED("unexpected argument 'extra'", "--batch", "extra");
	/* Another parse after a failure starts afresh. */
	{
		struct kt_opts o;
		char why[256];

		CHECK_EQ(PARSE(&o, why, "--batch"), 0);
		CHECK(o.batch);
	}
}

KT_TEST(opts_usage)
{
	/* The usage text documents every option, the records and the statuses. */
	static const char *const must[] = {
		"--batch", "--iterations=N", "--once", "--interval=SECONDS", "--vm=ID", "--pid=PID",
		"--sort=KEY", "--device=PATH", "--help", "sample iter=N", "vm iter=N",
		"exit iter=N", "counter iter=N", "p99_us", "window=total", "Exit status: 0",
		"2 the khv device", "3 --vm/--pid",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(must); i++) {
		if (!strstr(kt_usage_text, must[i]))
			printf("#   usage lacks \"%s\"\n", must[i]);
		CHECK(strstr(kt_usage_text, must[i]) != NULL);
	}
	/* 80 columns at most. */
	{
		const char *p = kt_usage_text, *nl;
		int ok = 1;

		for (; (nl = strchr(p, '\n')); p = nl + 1)
			ok &= nl - p <= 80;
		CHECK(ok);
	}
}
