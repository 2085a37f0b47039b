// SPDX-License-Identifier: GPL-2.0
/*
 * khv-trace record (record.h): a tracefs instance of its own, named
 * khv-trace-<pid>, with khv's four events, the "mono" trace clock, a ring
 * buffer per CPU sized here, and, with -p, set_event_pid holding the
 * process's threads plus the event-fork option.  Its per-CPU raw buffers
 * are read every 100 ms (tracefs_iterate_raw_events: trace_pipe_raw,
 * sub-buffer by sub-buffer, merged by time) and each record is turned into
 * a file record by conv.c.  The instance is removed at the end, on
 * SIGINT/SIGTERM/SIGHUP (which end the recording early, normally) and on
 * every error; the top-level instance is never written.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <tracefs.h>

#include "conv.h"
#include "record.h"
#include "trace_file.h"

#define INSTANCE_PREFIX		"khv-trace-"
#define READ_PERIOD_NS		100000000ull
#define TRACE_CLOCK		"mono"		/* CLOCK_MONOTONIC, the same on every CPU */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	return 0;
}

static int read_comm(uint32_t pid, char comm[KTR_COMM_LEN])
{
	char path[64], buf[64];
	size_t n;

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	if (read_small(path, buf, sizeof(buf)))
		return -1;
	buf[strcspn(buf, "\n")] = 0;
	n = strnlen(buf, KTR_COMM_LEN - 1);
	memcpy(comm, buf, n);
	comm[n] = 0;
	return 0;
}

int ktr_proc_of(void *ctx, uint32_t tid, uint32_t *pid, char comm[KTR_COMM_LEN])
{
	char path[64], buf[4096], *p;
	unsigned long v;

	(void)ctx;
	snprintf(path, sizeof(path), "/proc/%u/status", tid);
	if (read_small(path, buf, sizeof(buf)))
		return -1;
	p = strstr(buf, "\nTgid:");
	if (!p || sscanf(p + 6, "%lu", &v) != 1 || !v || v > UINT32_MAX)
		return -1;
	*pid = (uint32_t)v;
	if (read_comm(*pid, comm))
		comm[0] = 0;
	return 0;
}

void ktr_parse_cpu_stats(const char *text, uint64_t *overrun, uint64_t *dropped)
{
	const char *line = text;
	unsigned long long v;

	while (line && *line) {
		if (sscanf(line, "overrun: %llu", &v) == 1)
			*overrun += v;
		else if (sscanf(line, "dropped events: %llu", &v) == 1)
			*dropped += v;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}

static bool alive(int pid)
{
	return !kill(pid, 0) || errno == EPERM;
}

/* The threads of pid into set_event_pid: written whole, or appended. */
static int set_pids(struct tracefs_instance *inst, int pid, bool append)
{
	char path[64], *buf = NULL, *nb;
	size_t len = 0, cap = 0;
	struct dirent *e;
	DIR *d;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		if (len + 16 >= cap) {
			cap = cap ? cap * 2 : 256;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				closedir(d);
				return -ENOMEM;
			}
			buf = nb;
		}
		len += (size_t)snprintf(buf + len, cap - len, "%s ", e->d_name);
	}
	closedir(d);
	if (!buf)
		return -ESRCH;
	r = append ? tracefs_instance_file_append(inst, "set_event_pid", buf)
		   : tracefs_instance_file_write(inst, "set_event_pid", buf);
	free(buf);
	return r < 0 ? -EIO : 0;
}

/* Instances of khv-trace processes that are gone (SIGKILL): removed. */
static void remove_stale(const char *dir)
{
	/* A basic regular expression (libtracefs's regcomp() has no REG_EXTENDED). */
	char **list = tracefs_instances("^" INSTANCE_PREFIX "[0-9][0-9]*$");
	int i;

	for (i = 0; list && list[i]; i++) {
		long pid = strtol(list[i] + strlen(INSTANCE_PREFIX), NULL, 10);
		struct tracefs_instance *inst;

		if (pid != getpid() && (pid <= 0 || alive((int)pid)))
			continue;
		inst = tracefs_instance_alloc(dir, list[i]);
		if (inst && !tracefs_instance_destroy(inst))
			fprintf(stderr, "khv-trace: removed the tracefs instance %s of a khv-trace that died\n",
				list[i]);
		tracefs_instance_free(inst);
	}
	tracefs_list_free(list);
}

static unsigned long auto_buffer_kb(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus <= 32)
		return 8192;
	return 262144 / (unsigned long)cpus > 1024 ? 262144 / (unsigned long)cpus : 1024;
}

struct session {
	const struct ktr_opts *o;
	const char *dir;
	struct tracefs_instance *inst;
	struct tep_handle *tep;
	struct ktr_conv conv;
	struct ktr_writer w;
	bool writing, tracing;
	int err;		/* first error while reading: -errno */
	uint64_t deadline, start, end, seen;
	const char *stopped_by;
	char comm[KTR_COMM_LEN];	/* -p's process, read at the start */
};

static void stop_tracing(struct session *s, const char *why)
{
	if (!s->tracing)
		return;
	tracefs_trace_off(s->inst);
	s->end = clock_ns(CLOCK_MONOTONIC);
	s->tracing = false;
	if (!s->stopped_by)
		s->stopped_by = why;
}

static int on_record(struct tep_event *ev, struct tep_record *rec, int cpu, void *ctx)
{
	struct session *s = ctx;
	struct ktr_rec out[2];
	unsigned int n, i;
	int r;

	(void)ev;
	(void)cpu;
	r = ktr_conv_record(&s->conv, rec, out, &n);
	for (i = 0; !r && i < n; i++)
		r = ktr_writer_add(&s->w, &out[i]);
	if (r) {
		s->err = r;
		stop_tracing(s, "an error");
		return 1;
	}
	/* A buffer that never empties: the time is checked here too. */
	if (s->tracing && !(++s->seen & 1023)) {
		if (stop_signal)
			stop_tracing(s, "a signal");
		else if (clock_ns(CLOCK_MONOTONIC) >= s->deadline)
			stop_tracing(s, NULL);
	}
	return 0;
}

static int drain(struct session *s)
{
	if (tracefs_iterate_raw_events(s->tep, s->inst, NULL, 0, on_record, s) && !s->err)
		s->err = -(errno ? errno : EIO);
	return s->err;
}

static void sleep_a_while(const struct session *s)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC), until = now + READ_PERIOD_NS;
	struct timespec ts;

	if (until > s->deadline)
		until = s->deadline;
	if (until <= now)
		return;
	ts.tv_sec = (time_t)(until / 1000000000ull);
	ts.tv_nsec = (long)(until % 1000000000ull);
	/* A signal cuts it short (EINTR): the loop looks at stop_signal. */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static int configure(struct session *s)
{
	const struct ktr_opts *o = s->o;
	unsigned long kb = o->buffer_kb ? o->buffer_kb : auto_buffer_kb();
	char *clock;
	unsigned int e;
	int r;

	if (tracefs_trace_off(s->inst)) {
		fprintf(stderr, "khv-trace: cannot turn the tracefs instance off: %s\n",
			strerror(errno));
		return KTR_EXIT_FAIL;
	}
	tracefs_instance_file_write(s->inst, "trace_clock", TRACE_CLOCK);
	clock = tracefs_get_clock(s->inst);
	if (!clock || strcmp(clock, TRACE_CLOCK)) {
		fprintf(stderr, "khv-trace: the kernel offers no '%s' trace clock (it has: %s)\n",
			TRACE_CLOCK, clock ? clock : "?");
		free(clock);
		return KTR_EXIT_FAIL;
	}
	free(clock);
	if (tracefs_instance_set_buffer_size(s->inst, kb, -1)) {
		fprintf(stderr, "khv-trace: cannot set the ring buffer to %lu KiB per CPU: %s\n",
			kb, strerror(errno));
		return KTR_EXIT_FAIL;
	}
	if (o->pid) {
		if (tracefs_option_enable(s->inst, TRACEFS_OPTION_EVENT_FORK)) {
			fprintf(stderr, "khv-trace: cannot set the event-fork option: %s\n",
				strerror(errno));
			return KTR_EXIT_FAIL;
		}
		r = set_pids(s->inst, o->pid, false);
		if (r == -ENOENT || r == -ESRCH) {
			fprintf(stderr, "khv-trace: no such process: %d\n", o->pid);
			return KTR_EXIT_NO_PROC;
		}
		if (r) {
			fprintf(stderr, "khv-trace: cannot write set_event_pid: %s\n",
				strerror(-r));
			return KTR_EXIT_FAIL;
		}
	}
	for (e = 0; e < KTR_EV_MAX; e++) {
		if (!s->conv.ev[e].ev)
			continue;
		if (tracefs_event_enable(s->inst, "khv", ktr_event_names[e])) {
			fprintf(stderr, "khv-trace: cannot enable khv:%s: %s\n",
				ktr_event_names[e], strerror(errno));
			return KTR_EXIT_FAIL;
		}
	}
	return KTR_EXIT_OK;
}

static void summary(const struct session *s, const struct ktr_header *h)
{
	const struct ktr_conv *c = &s->conv;
	char who[64];

	if (s->o->pid)
		snprintf(who, sizeof(who), "process %d (%s)", s->o->pid, h->comm);
	else
		snprintf(who, sizeof(who), "%u process%s", h->nprocs, h->nprocs == 1 ? "" : "es");
	printf("khv-trace: %llu events of %s in %.2f s into %s (stopped by %s%s); "
	       "events lost: %llu (ring buffer overruns %llu, dropped %llu; %llu gaps marked in the stream%s)\n",
	       (unsigned long long)c->events, who, (double)(h->end_ns - h->start_ns) / 1e9,
	       s->o->out, s->stopped_by ? s->stopped_by : "the duration",
	       c->events ? "" : s->o->pid ? "; no khv event: does it run a VM?" : "; no khv event: no VM ran",
	       (unsigned long long)(h->overrun + h->dropped), (unsigned long long)h->overrun,
	       (unsigned long long)h->dropped, (unsigned long long)c->lost_markers,
	       c->lost_unknown ? ", some of unknown size" : "");
}

static int run(struct session *s)
{
	const struct ktr_opts *o = s->o;
	const char *systems[] = { "khv", NULL };
	struct ktr_header h = { 0 };
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);
	uint64_t real;
	char why[256];
	int status, cpu;

	s->tep = tracefs_local_events_system(s->dir, systems);
	if (!s->tep) {
		fprintf(stderr, "khv-trace: cannot read khv's event formats in %s/events/khv: %s\n",
			s->dir, strerror(errno));
		return KTR_EXIT_TRACEFS;
	}
	if (ktr_conv_init(&s->conv, s->tep, why, sizeof(why))) {
		fprintf(stderr, "khv-trace: %s\n", why);
		return KTR_EXIT_TRACEFS;
	}
	s->conv.proc_of = ktr_proc_of;
	s->conv.default_pid = (uint32_t)o->pid;
	status = configure(s);
	if (status)
		return status;
	if ((status = ktr_writer_open(&s->w, o->out))) {
		fprintf(stderr, "khv-trace: cannot write %s: %s\n", o->out, strerror(-status));
		return KTR_EXIT_FAIL;
	}
	s->writing = true;

	real = clock_ns(CLOCK_REALTIME);
	s->start = clock_ns(CLOCK_MONOTONIC);
	s->conv.start_ns = s->start;
	s->deadline = s->start + (uint64_t)(o->seconds * 1e9);
	if (tracefs_trace_on(s->inst)) {
		fprintf(stderr, "khv-trace: cannot turn tracing on: %s\n", strerror(errno));
		return KTR_EXIT_FAIL;
	}
	s->tracing = true;
	/* Threads made between the first list and tracing_on. */
	if (o->pid)
		set_pids(s->inst, o->pid, true);

	while (s->tracing) {
		sleep_a_while(s);
		if (stop_signal)
			stop_tracing(s, "a signal");
		else if (clock_ns(CLOCK_MONOTONIC) >= s->deadline)
			stop_tracing(s, NULL);
		else if (o->pid && !alive(o->pid))
			stop_tracing(s, "the process's exit");
		if (drain(s))
			break;
	}
	stop_tracing(s, NULL);
	if (!s->err)
		drain(s);
	if (s->err) {
		fprintf(stderr, "khv-trace: recording failed: %s\n", strerror(-s->err));
		return KTR_EXIT_FAIL;
	}

	for (cpu = 0; cpu < ncpus; cpu++) {
		char file[64], *text;

		snprintf(file, sizeof(file), "per_cpu/cpu%d/stats", cpu);
		text = tracefs_instance_file_read(s->inst, file, NULL);
		if (text)
			ktr_parse_cpu_stats(text, &h.overrun, &h.dropped);
		free(text);
	}
	h.flags = s->conv.handle_ns ? KTR_F_HANDLE_NS : 0;
	snprintf(h.clock, sizeof(h.clock), "%s", TRACE_CLOCK);
	h.start_ns = s->start;
	h.end_ns = s->end > s->start ? s->end : s->start;
	h.start_real_ns = (int64_t)real;
	h.pid = (uint32_t)o->pid;
	memcpy(h.comm, s->comm, sizeof(h.comm));
	h.nnames = s->conv.nnames;
	h.nprocs = s->conv.nprocs;
	h.ncpus = (uint32_t)(ncpus > 0 ? ncpus : 1);
	if (h.ncpus < s->conv.ncpus)
		h.ncpus = s->conv.ncpus;
	s->writing = false;
	if ((status = ktr_writer_finish(&s->w, &h, s->conv.names, s->conv.procs))) {
		fprintf(stderr, "khv-trace: cannot write %s: %s\n", o->out, strerror(-status));
		return KTR_EXIT_FAIL;
	}
	if (!o->quiet)
		summary(s, &h);
	return KTR_EXIT_OK;
}

/* Is tracefs usable, with khv's events?  0, or an exit status. */
static int check_tracefs(const char *dir)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/events", dir);
	if (stat(path, &st) || access(path, R_OK | X_OK)) {
		if (errno == EACCES || errno == EPERM)
			goto denied;
		fprintf(stderr, "khv-trace: cannot use tracefs at %s: %s\n", dir, strerror(errno));
		return KTR_EXIT_TRACEFS;
	}
	snprintf(path, sizeof(path), "%s/events/khv/khv_exit", dir);
	if (stat(path, &st)) {
		if (errno == EACCES || errno == EPERM)
			goto denied;
		fprintf(stderr, "khv-trace: no khv events in %s/events (is the khv module loaded?)\n",
			dir);
		return KTR_EXIT_TRACEFS;
	}
	snprintf(path, sizeof(path), "%s/instances", dir);
	if (access(path, W_OK | X_OK))
		goto denied;
	return 0;
denied:
	fprintf(stderr, "khv-trace: no permission to use tracefs at %s (run as root, or get write access to it)\n",
		dir);
	return KTR_EXIT_TRACEFS;
}

int ktr_record(const struct ktr_opts *opts)
{
	struct ktr_opts copy = *opts, *o = &copy;
	struct session s = { .o = o };
	struct sigaction sa = { .sa_handler = on_signal }, old[3];
	static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	char name[64], comm[KTR_COMM_LEN];
	uint32_t tgid;
	int status, i;

	if (o->pid && ktr_proc_of(NULL, (uint32_t)o->pid, &tgid, comm)) {
		fprintf(stderr, "khv-trace: no such process: %d\n", o->pid);
		return KTR_EXIT_NO_PROC;
	}
	if (o->pid && tgid != (uint32_t)o->pid) {
		fprintf(stderr, "khv-trace: %d is a thread of process %u (%s): recording the process\n",
			o->pid, tgid, comm);
		o->pid = (int)tgid;
	}
	if (o->pid)
		memcpy(s.comm, comm, sizeof(s.comm));
	if (tracefs_tracing_dir_is_mounted(false, &s.dir) != 1 || !s.dir) {
		fprintf(stderr, "khv-trace: tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)\n");
		return KTR_EXIT_TRACEFS;
	}
	if ((status = check_tracefs(s.dir)))
		return status;

	/* No SA_RESTART: a signal ends the sleep between two reads. */
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	remove_stale(s.dir);
	snprintf(name, sizeof(name), INSTANCE_PREFIX "%d", getpid());
	s.inst = tracefs_instance_create(name);
	if (!s.inst || !tracefs_instance_is_new(s.inst)) {
		int e = s.inst ? EEXIST : errno;

		if (e == EACCES || e == EPERM)
			fprintf(stderr, "khv-trace: no permission to create a tracefs instance in %s/instances (run as root)\n",
				s.dir);
		else
			fprintf(stderr, "khv-trace: cannot create the tracefs instance %s: %s\n", name,
				strerror(e));
		tracefs_instance_free(s.inst);
		status = KTR_EXIT_TRACEFS;
		goto out;
	}

	status = run(&s);

	if (s.tracing)
		tracefs_trace_off(s.inst);
	if (s.writing)
		ktr_writer_abort(&s.w);
	if (tracefs_instance_destroy(s.inst)) {
		fprintf(stderr, "khv-trace: could not remove the tracefs instance %s: %s\n", name,
			strerror(errno));
		if (!status)
			status = KTR_EXIT_FAIL;
	}
	tracefs_instance_free(s.inst);
	ktr_conv_free(&s.conv);
	if (s.tep)
		tep_free(s.tep);
out:
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	return status;
}
