// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket's commands (control.c) acted out on the machine.  They
 * run on the I/O thread, the thread that also rebuilds the machine on a
 * reset, so the machine they see is always whole.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <json-c/json.h>

#include "chardev.h"
#include "control.h"
#include "devices.h"
#include "migrate.h"
#include "snapshot.h"
#include "vmm.h"
#include "vnc.h"

#define KR_MAX_EXIT_STATS	128

/*
 * While a migration comes in (m->incoming) the machine is half loaded and
 * its vCPUs have not started: only what needs neither is served,
 * query-status ("inmigrate"), query-chardev, query-vnc, query-block,
 * migrate-set-parameters and quit (which ends the wait).
 */
static const char *kr_ctl_refuse(void *opaque, const char *command)
{
	static const char *const served[] = {
		"query-status", "query-chardev", "query-vnc", "query-block",
		"migrate-set-parameters", "quit",
	};
	struct kr_machine *m = opaque;

	if (!m->incoming)
		return NULL;
	for (size_t i = 0; i < sizeof(served) / sizeof(served[0]); i++)
		if (!strcmp(command, served[i]))
			return NULL;
	return "the VM is migrating in: not before it has arrived";
}

static int kr_ctl_query_status(void *opaque, struct json_object *args, struct json_object **ret,
			       struct kr_control_error *err)
{
	struct kr_machine *m = opaque;
	enum kr_run_state st;
	enum kr_request req;

	(void)args;
	(void)err;
	pthread_mutex_lock(&m->lock);
	st = m->state;
	req = m->req;
	pthread_mutex_unlock(&m->lock);
	if (m->incoming)
		*ret = kr_control_status(false, "inmigrate");
	else if (req == KR_REQ_ERROR)
		*ret = kr_control_status(false, "internal-error");
	else if (m->migrated)
		*ret = kr_control_status(false, "postmigrate");
	else if (req != KR_REQ_NONE)
		*ret = kr_control_status(false, "shutdown");
	else
		*ret = kr_control_status(st == KR_RUNNING, st == KR_PAUSED ? "paused" : "running");
	return 0;
}

static int kr_ctl_stop(void *opaque, struct json_object *args, struct json_object **ret,
		       struct kr_control_error *err)
{
	struct kr_machine *m = opaque;
	bool was_running;

	(void)args;
	(void)err;
	pthread_mutex_lock(&m->lock);
	was_running = m->state == KR_RUNNING;
	pthread_mutex_unlock(&m->lock);
	kr_vcpus_pause(m);
	if (was_running)
		kr_control_event(m->control, "STOP", NULL);
	*ret = json_object_new_object();
	return 0;
}

static int kr_ctl_cont(void *opaque, struct json_object *args, struct json_object **ret,
		       struct kr_control_error *err)
{
	struct kr_machine *m = opaque;
	bool paused;

	(void)args;
	pthread_mutex_lock(&m->lock);
	paused = m->state == KR_PAUSED && m->req == KR_REQ_NONE;
	pthread_mutex_unlock(&m->lock);
	if (!paused && m->req != KR_REQ_NONE)
		return kr_control_fail(err, NULL, "the VM cannot run: it is shutting down");
	if (m->migrated)
		return kr_control_fail(err, NULL, "the VM cannot run: it has migrated");
	if (paused) {
		kr_vcpus_resume(m);
		kr_control_event(m->control, "RESUME", NULL);
	}
	*ret = json_object_new_object();
	return 0;
}

static int kr_ctl_powerdown(void *opaque, struct json_object *args, struct json_object **ret,
			    struct kr_control_error *err)
{
	struct kr_machine *m = opaque;

	(void)args;
	(void)err;
	kr_devices_power_button(m->dev);
	kr_control_event(m->control, "POWERDOWN", NULL);
	*ret = json_object_new_object();
	return 0;
}

static int kr_ctl_reset(void *opaque, struct json_object *args, struct json_object **ret,
			struct kr_control_error *err)
{
	struct kr_machine *m = opaque;

	(void)args;
	(void)err;
	kr_machine_request(m, KR_REQ_RESET, 0, KR_REASON_QMP_RESET, "system_reset command");
	*ret = json_object_new_object();
	return 0;
}

static int kr_ctl_quit(void *opaque, struct json_object *args, struct json_object **ret,
		       struct kr_control_error *err)
{
	struct kr_machine *m = opaque;

	(void)args;
	(void)err;
	kr_machine_request(m, KR_REQ_QUIT, 0, KR_REASON_QMP_QUIT, "quit command");
	*ret = json_object_new_object();
	return 0;
}

/* Sleeping in the kernel (HLT, wait for SIPI) or parked by stop: "S". */
static bool kr_thread_sleeps(int tid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');		/* the name may hold spaces and parens */
	return p && p[1] == ' ' && p[2] == 'S';
}

static int kr_ctl_query_vcpus(void *opaque, struct json_object *args, struct json_object **ret,
			      struct kr_control_error *err)
{
	struct kr_machine *m = opaque;
	struct json_object *a = json_object_new_array();

	(void)args;
	(void)err;
	for (unsigned int i = 0; i < m->nr_vcpus; i++) {
		const struct kr_vcpu *v = &m->vcpus[i];

		json_object_array_add(a, kr_control_vcpu(i, v->tid, kr_thread_sleeps(v->tid)));
	}
	*ret = a;
	return 0;
}

static int kr_ctl_query_block(void *opaque, struct json_object *args, struct json_object **ret,
			      struct kr_control_error *err)
{
	struct kr_machine *m = opaque;
	struct kr_disk_info info;

	(void)args;
	(void)err;
	*ret = json_object_new_array();
	for (unsigned int i = 0; i < m->cfg->nr_disks; i++) {
		kr_disk_query(m->cfg->disks[i], &info);
		json_object_array_add(*ret, kr_control_disk(info.name, info.path, info.ro,
							    info.size));
	}
	return 0;
}

static int kr_ctl_query_blockstats(void *opaque, struct json_object *args,
				   struct json_object **ret, struct kr_control_error *err)
{
	struct kr_machine *m = opaque;
	const char *want = NULL;
	struct json_object *dev;
	struct kr_disk_info info;

	if (args && json_object_object_get_ex(args, "device", &dev))
		want = json_object_get_string(dev);
	*ret = json_object_new_array();
	for (unsigned int i = 0; i < m->cfg->nr_disks; i++) {
		kr_disk_query(m->cfg->disks[i], &info);
		if (want && strcmp(want, info.name))
			continue;
		json_object_array_add(*ret, kr_control_blockstats(info.name, info.stats.rd_bytes,
			info.stats.wr_bytes, info.stats.rd_ops, info.stats.wr_ops,
			info.stats.flush_ops));
	}
	if (want && !json_object_array_length(*ret)) {
		json_object_put(*ret);
		*ret = NULL;
		return kr_control_fail(err, KR_CONTROL_DEV_NOT_FOUND, "no disk named %s", want);
	}
	return 0;
}

/*
 * KHV_GET_EXIT_STATS waits for the vCPU to leave KHV_RUN: the vCPUs are
 * paused for the read (one kick each) unless they already are.
 */
static int kr_ctl_query_exit_stats(void *opaque, struct json_object *args,
				   struct json_object **ret, struct kr_control_error *err)
{
	static struct khv_exit_stat st[KR_MAX_EXIT_STATS];
	struct kr_machine *m = opaque;
	struct json_object *a, *jv;
	unsigned int first = 0, last = m->nr_vcpus;
	bool was_running;

	if (args && json_object_object_get_ex(args, "vcpu", &jv)) {
		int64_t v = json_object_get_int64(jv);

		if (v < 0 || v >= m->nr_vcpus)
			return kr_control_fail(err, NULL, "no vCPU %lld (the VM has %u)",
					       (long long)v, m->nr_vcpus);
		first = v;
		last = v + 1;
	}
	pthread_mutex_lock(&m->lock);
	was_running = m->state == KR_RUNNING;
	pthread_mutex_unlock(&m->lock);
	kr_vcpus_pause(m);
	a = json_object_new_array();
	for (unsigned int i = first; i < last; i++) {
		const char *names[KR_MAX_EXIT_STATS];
		uint64_t counts[KR_MAX_EXIT_STATS];
		uint32_t n = 0;

		if (khv_vcpu_get_exit_stats(&m->vcpus[i].vcpu, st, KR_MAX_EXIT_STATS, &n))
			n = 0;
		for (uint32_t j = 0; j < n; j++) {
			st[j].name[sizeof(st[j].name) - 1] = 0;
			names[j] = st[j].name;
			counts[j] = st[j].count;
		}
		json_object_array_add(a, kr_control_exit_stats(i, names, counts, n));
	}
	if (was_running)
		kr_vcpus_resume(m);
	*ret = a;
	return 0;
}

/* A console's filename as QMP writes it: KIND:PATH, or the kind alone. */
static struct json_object *kr_ctl_chardev(const char *label, const struct kr_chardev *c)
{
	static const char *const kinds[] = {
		[KR_CHARDEV_NONE] = "null", [KR_CHARDEV_STDIO] = "stdio",
		[KR_CHARDEV_PTY] = "pty", [KR_CHARDEV_FILE] = "file",
		[KR_CHARDEV_UNIX] = "unix", [KR_CHARDEV_FDS] = "fd",
	};
	enum kr_chardev_kind kind = kr_chardev_kind(c);
	const char *path = kr_chardev_path(c);
	const char *k = kind < sizeof(kinds) / sizeof(kinds[0]) && kinds[kind] ? kinds[kind] : "?";
	char name[4200];

	if (path)
		snprintf(name, sizeof(name), "%s:%s", k, path);
	else
		snprintf(name, sizeof(name), "%s", k);
	return kr_control_chardev(label, name);
}

static int kr_ctl_query_chardev(void *opaque, struct json_object *args,
				struct json_object **ret, struct kr_control_error *err)
{
	struct kr_machine *m = opaque;

	(void)args;
	(void)err;
	*ret = json_object_new_array();
	if (m->cfg->serial_chr)
		json_object_array_add(*ret, kr_ctl_chardev("serial0", m->cfg->serial_chr));
	if (m->cfg->console_chr)
		json_object_array_add(*ret, kr_ctl_chardev("console0", m->cfg->console_chr));
	return 0;
}

static int kr_ctl_query_vnc(void *opaque, struct json_object *args, struct json_object **ret,
			    struct kr_control_error *err)
{
	struct kr_machine *m = opaque;
	struct kr_vnc *v = m->cfg->vnc_srv;
	char port[8];

	(void)args;
	(void)err;
	*ret = json_object_new_object();
	json_object_object_add(*ret, "enabled", json_object_new_boolean(v != NULL));
	if (!v)
		return 0;
	snprintf(port, sizeof(port), "%d", kr_vnc_port(v));
	json_object_object_add(*ret, "host", json_object_new_string(kr_vnc_host(v)));
	json_object_object_add(*ret, "service", json_object_new_string(port));
	json_object_object_add(*ret, "family",
			       json_object_new_string(kr_vnc_ipv6(v) ? "ipv6" : "ipv4"));
	json_object_object_add(*ret, "auth",
			       json_object_new_string(kr_vnc_has_password(v) ? "vnc" : "none"));
	json_object_object_add(*ret, "clients", json_object_new_int((int)kr_vnc_clients(v)));
	return 0;
}

/*
 * The VM to a file (snapshot.c): paused for the write, then it quits or
 * runs on as before (a VM that was paused stays paused).  The I/O thread
 * writes the whole snapshot: the control socket answers nothing else
 * meanwhile, as the VM is stopped anyway.
 */
static int kr_ctl_snapshot_save(void *opaque, struct json_object *args, struct json_object **ret,
				struct kr_control_error *err)
{
	struct kr_machine *m = opaque;
	struct json_object *jv;
	struct kr_snap_result res;
	const char *file = NULL;
	bool quit = false, was_running;
	char why[384];
	int r;

	if (args && json_object_object_get_ex(args, "file", &jv))
		file = json_object_get_string(jv);
	if (args && json_object_object_get_ex(args, "quit", &jv))
		quit = json_object_get_boolean(jv);
	if (!file || !*file)
		return kr_control_fail(err, NULL, "snapshot-save needs a file");
	pthread_mutex_lock(&m->lock);
	was_running = m->state == KR_RUNNING;
	r = m->req != KR_REQ_NONE;
	pthread_mutex_unlock(&m->lock);
	if (r)
		return kr_control_fail(err, NULL, "the VM is shutting down");
	if (m->migrated)
		return kr_control_fail(err, NULL, "the VM has migrated");
	kr_vcpus_pause(m);
	r = kr_snapshot_save(m, file, &res, why, sizeof(why));
	if (r || !quit)
		kr_devices_thaw(m->dev);
	if (r) {
		if (was_running)
			kr_vcpus_resume(m);
		return kr_control_fail(err, NULL, "snapshot-save: %s", why);
	}
	fprintf(stderr, "khv-run: saved to %s: %llu bytes, %llu pages (%llu zero) in %llu ms\n",
		file, (unsigned long long)res.bytes, (unsigned long long)res.pages,
		(unsigned long long)res.zero_pages, (unsigned long long)res.ms);
	if (quit)
		kr_machine_request(m, KR_REQ_QUIT, 0, KR_REASON_QMP_QUIT, "saved, then quit");
	else if (was_running)
		kr_vcpus_resume(m);
	*ret = json_object_new_object();
	json_object_object_add(*ret, "file", json_object_new_string(file));
	json_object_object_add(*ret, "bytes", json_object_new_int64((int64_t)res.bytes));
	json_object_object_add(*ret, "pages", json_object_new_int64((int64_t)res.pages));
	json_object_object_add(*ret, "zero-pages", json_object_new_int64((int64_t)res.zero_pages));
	json_object_object_add(*ret, "ms", json_object_new_int64((int64_t)res.ms));
	return 0;
}

static int kr_ctl_migrate(void *opaque, struct json_object *args, struct json_object **ret,
			  struct kr_control_error *err)
{
	struct kr_machine *m = opaque;
	struct json_object *jv;
	const char *uri = NULL;
	char why[320];

	if (args && json_object_object_get_ex(args, "uri", &jv))
		uri = json_object_get_string(jv);
	if (!uri)
		return kr_control_fail(err, NULL, "migrate needs a uri");
	if (kr_migrate_start(m, uri, why, sizeof(why)))
		return kr_control_fail(err, NULL, "migrate: %s", why);
	*ret = json_object_new_object();
	return 0;
}

static int kr_ctl_query_migrate(void *opaque, struct json_object *args, struct json_object **ret,
				struct kr_control_error *err)
{
	(void)args;
	(void)err;
	*ret = kr_migrate_query(opaque);
	return 0;
}

static int kr_ctl_migrate_cancel(void *opaque, struct json_object *args, struct json_object **ret,
				 struct kr_control_error *err)
{
	(void)args;
	(void)err;
	kr_migrate_cancel(opaque);
	*ret = json_object_new_object();
	return 0;
}

static int kr_ctl_migrate_set_parameters(void *opaque, struct json_object *args,
					 struct json_object **ret, struct kr_control_error *err)
{
	struct json_object *jv;

	(void)opaque;
	(void)err;
	if (args && json_object_object_get_ex(args, "downtime-limit", &jv))
		kr_migrate_set_downtime((uint64_t)json_object_get_int64(jv));
	*ret = json_object_new_object();
	return 0;
}

const struct kr_control_ops kr_vmm_control_ops = {
	.query_status = kr_ctl_query_status,
	.stop = kr_ctl_stop,
	.cont = kr_ctl_cont,
	.system_powerdown = kr_ctl_powerdown,
	.system_reset = kr_ctl_reset,
	.quit = kr_ctl_quit,
	.query_vcpus = kr_ctl_query_vcpus,
	.query_block = kr_ctl_query_block,
	.query_blockstats = kr_ctl_query_blockstats,
	.query_exit_stats = kr_ctl_query_exit_stats,
	.query_chardev = kr_ctl_query_chardev,
	.query_vnc = kr_ctl_query_vnc,
	.snapshot_save = kr_ctl_snapshot_save,
	.migrate = kr_ctl_migrate,
	.query_migrate = kr_ctl_query_migrate,
	.migrate_cancel = kr_ctl_migrate_cancel,
	.migrate_set_parameters = kr_ctl_migrate_set_parameters,
	.refuse = kr_ctl_refuse,
	.version = { 0, 1, 0, "khv-run" },
};
