/* SPDX-License-Identifier: GPL-2.0 */
/* khv-top's command line (khv-top.1). */
#ifndef KHV_TOP_OPTS_H
#define KHV_TOP_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* Exit statuses (khv-top.1, EXIT STATUS). */
enum {
	KT_EXIT_OK = 0,
	KT_EXIT_USAGE = 1,	/* a bad command line */
	KT_EXIT_DEVICE = 2,	/* /dev/khv cannot be opened, or has no KHV_CAP_STATS_FD */
	KT_EXIT_NO_VM = 3,	/* --vm or --pid matched no VM at the first read */
	KT_EXIT_FAIL = 4,	/* KHV_GET_VMS failed, out of memory, output or terminal error */
};

#define KT_INTERVAL_MIN		0.01
#define KT_INTERVAL_MAX		86400.0
#define KT_INTERVAL_DEFAULT	1.0

struct kt_opts {
	bool batch;
	unsigned long iterations;	/* 0: until interrupted or 'q' */
	double interval;		/* seconds */
	bool has_vm, has_pid;
	uint32_t vm;
	int32_t pid;
	const char *device;		/* NULL: $KHV_DEVICE, else /dev/khv */
	enum kt_sort sort;
	bool help, version;
};

extern const char kt_usage_text[];

/*
 * Parses argv (getopt_long; restarts it).  0, or -EINVAL with a one-line
 * reason in why.
 */
int kt_opts_parse(struct kt_opts *o, int argc, char **argv, char *why, size_t why_len);

#endif /* KHV_TOP_OPTS_H */
