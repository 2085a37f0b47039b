// SPDX-License-Identifier: GPL-2.0
/*
 * khv-top: the khv VMs of this host, live (khv-top.1).  The live view is
 * ui.c; the batch mode's loop is here; the figures are model.c's, the
 * lines format.c's, the reads source.c's.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "opts.h"
#include "source.h"
#include "ui.h"

#define KT_VERSION	"1.0"

static void sleep_until(struct timespec *deadline, double interval)
{
	struct timespec now;
	double whole;
	long ns;

	ns = (long)(modf(interval, &whole) * 1e9);
	deadline->tv_sec += (time_t)whole;
	deadline->tv_nsec += ns;
	if (deadline->tv_nsec >= 1000000000L) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000L;
	}
	/* Behind (a stopped process): the next read is one interval from now. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > deadline->tv_sec ||
	    (now.tv_sec == deadline->tv_sec && now.tv_nsec > deadline->tv_nsec)) {
		*deadline = now;
		sleep_until(deadline, interval);
		return;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, deadline, NULL) == EINTR)
		;
}

static double unix_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void no_vm(const struct kt_opts *o)
{
	if (o->has_vm)
		fprintf(stderr, "khv-top: no VM with id %u\n", o->vm);
	else
		fprintf(stderr, "khv-top: process %d has no VM\n", o->pid);
}

static int batch(struct kt_source *s, const struct kt_opts *o)
{
	struct timespec deadline;
	unsigned long iter;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	for (iter = 1;; iter++) {
		struct kt_vm_view *views;
		uint32_t n, i, left = 0;
		int r = kt_source_poll(s);

		if (!r)
			r = kt_source_views(s, &views, &n);
		if (r) {
			fprintf(stderr, "khv-top: reading the VMs: %s\n", khv_strerror(r));
			return KT_EXIT_FAIL;
		}
		if (iter == 1 && (o->has_vm || o->has_pid) && !s->matched) {
			kt_views_free(views, n);
			no_vm(o);
			return KT_EXIT_NO_VM;
		}
		kt_print_sample(stdout, iter, n, unix_now());
		for (i = 0; i < n; i++) {
			kt_print_batch(stdout, iter, &views[i], o->sort);
			left += views[i].state != KT_GONE;
		}
		kt_views_free(views, n);
		if (fflush(stdout) || ferror(stdout)) {
			fprintf(stderr, "khv-top: standard output: %s\n", strerror(errno));
			return KT_EXIT_FAIL;
		}
		if (o->iterations && iter >= o->iterations)
			break;
		/* The VMs asked for are all gone (and shown gone): nothing more to say. */
		if ((o->has_vm || o->has_pid) && !left)
			break;
		sleep_until(&deadline, o->interval);
	}
	return KT_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct kt_source src;
	struct kt_opts o;
	char why[512];
	int status;

	if (kt_opts_parse(&o, argc, argv, why, sizeof(why))) {
		fprintf(stderr, "khv-top: %s\n(khv-top --help lists the options)\n", why);
		return KT_EXIT_USAGE;
	}
	if (o.help) {
		fputs(kt_usage_text, stdout);
		return KT_EXIT_OK;
	}
	if (o.version) {
		printf("khv-top %s\n", KT_VERSION);
		return KT_EXIT_OK;
	}
	if (kt_source_open(&src, o.device, why, sizeof(why))) {
		fprintf(stderr, "khv-top: %s\n", why);
		return KT_EXIT_DEVICE;
	}
	kt_source_filter(&src, o.has_vm, o.vm, o.has_pid, o.pid);
	if (o.batch) {
		status = batch(&src, &o);
	} else {
		why[0] = '\0';
		status = kt_ui_run(&src, &o, why, sizeof(why));
		if (why[0])
			fprintf(stderr, "khv-top: %s\n", why);
	}
	kt_source_close(&src);
	return status;
}
