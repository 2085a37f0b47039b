// SPDX-License-Identifier: GPL-2.0
/*
 * khv-trace: records khv's exits from its tracepoints (record.c) and draws
 * them (report.c); khv-trace.1 and Documentation/khv/khv-trace.rst.
 */
#include <stdio.h>

#include "opts.h"
#include "record.h"
#include "report.h"

#define KTR_VERSION_STR	"1.0"

int main(int argc, char **argv)
{
	struct ktr_opts o;
	char why[256];

	if (ktr_opts_parse(&o, argc, argv, why, sizeof(why))) {
		fprintf(stderr, "khv-trace: %s\n(khv-trace --help tells the options)\n", why);
		return KTR_EXIT_USAGE;
	}
	if (o.help) {
		fputs(ktr_usage_text, stdout);
		return KTR_EXIT_OK;
	}
	if (o.version) {
		printf("khv-trace %s (trace file format 1)\n", KTR_VERSION_STR);
		return KTR_EXIT_OK;
	}
	/* Lines as they come, also into a pipe: the summary is what scripts read. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return o.cmd == KTR_CMD_RECORD ? ktr_record(&o) : ktr_report(&o);
}
