// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket (control.c): a real loop on its own thread, real
 * clients on a socket in a temporary directory, fake machine callbacks.
 * Also the socketless clients the fuzz target drives.
 *
 * KR_CONTROL_TRANSCRIPT=1 makes control_session print its exchange (the
 * session example of Documentation/khv/khv-run-control.rst).
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../control.h"
#include "../evloop.h"
#include "t.h"

/* ---- fake machine ------------------------------------------------------- */

enum { F_STATUS, F_STOP, F_CONT, F_POWERDOWN, F_RESET, F_QUIT, F_VCPUS, F_BLOCK, F_BSTATS,
       F_EXITS, F_CHARDEV, F_N };

struct fake {
	struct kr_control *ctl;
	int calls[F_N];
	bool running;
};

static void fake_count(struct fake *f, int i)
{
	__atomic_add_fetch(&f->calls[i], 1, __ATOMIC_RELAXED);
}

static int fake_calls(struct fake *f, int i)
{
	return __atomic_load_n(&f->calls[i], __ATOMIC_RELAXED);
}

static int fake_status(void *o, struct json_object *args, struct json_object **ret,
		       struct kr_control_error *err)
{
	struct fake *f = o;

	(void)args;
	(void)err;
	fake_count(f, F_STATUS);
	*ret = kr_control_status(f->running, f->running ? "running" : "paused");
	return 0;
}

static int fake_stop(void *o, struct json_object *args, struct json_object **ret,
		     struct kr_control_error *err)
{
	struct fake *f = o;

	(void)args;
	(void)ret;
	(void)err;
	fake_count(f, F_STOP);
	f->running = false;
	kr_control_event(f->ctl, "STOP", NULL);
	return 0;
}

static int fake_cont(void *o, struct json_object *args, struct json_object **ret,
		     struct kr_control_error *err)
{
	struct fake *f = o;

	(void)args;
	(void)ret;
	(void)err;
	fake_count(f, F_CONT);
	f->running = true;
	kr_control_event(f->ctl, "RESUME", NULL);
	return 0;
}

static int fake_powerdown(void *o, struct json_object *args, struct json_object **ret,
			  struct kr_control_error *err)
{
	struct fake *f = o;

	(void)args;
	(void)ret;
	(void)err;
	fake_count(f, F_POWERDOWN);
	kr_control_event(f->ctl, "POWERDOWN", NULL);
	return 0;
}

static int fake_reset(void *o, struct json_object *args, struct json_object **ret,
		      struct kr_control_error *err)
{
	struct fake *f = o;

	(void)args;
	(void)ret;
	(void)err;
	fake_count(f, F_RESET);
	kr_control_event(f->ctl, "RESET", kr_control_reason(false, "host-qmp-system-reset"));
	return 0;
}

static int fake_quit(void *o, struct json_object *args, struct json_object **ret,
		     struct kr_control_error *err)
{
	struct fake *f = o;

	(void)args;
	(void)ret;
	(void)err;
	fake_count(f, F_QUIT);
	f->running = false;
	kr_control_event(f->ctl, "SHUTDOWN", kr_control_reason(false, "host-qmp-quit"));
	return 0;
}

static int fake_vcpus(void *o, struct json_object *args, struct json_object **ret,
		      struct kr_control_error *err)
{
	struct json_object *a = json_object_new_array();

	(void)args;
	(void)err;
	fake_count(o, F_VCPUS);
	json_object_array_add(a, kr_control_vcpu(0, 4242, false));
	json_object_array_add(a, kr_control_vcpu(1, 4243, true));
	*ret = a;
	return 0;
}

static int fake_block(void *o, struct json_object *args, struct json_object **ret,
		      struct kr_control_error *err)
{
	struct json_object *a = json_object_new_array();

	(void)args;
	(void)err;
	fake_count(o, F_BLOCK);
	json_object_array_add(a, kr_control_disk("vda", "/var/lib/khv/debian.img", false,
						 8ull << 30));
	json_object_array_add(a, kr_control_disk("vdb", "/tmp/seed.iso", true, 368640));
	*ret = a;
	return 0;
}

static int fake_bstats(void *o, struct json_object *args, struct json_object **ret,
		       struct kr_control_error *err)
{
	struct json_object *a, *dev;

	fake_count(o, F_BSTATS);
	if (json_object_object_get_ex(args, "device", &dev) &&
	    strcmp(json_object_get_string(dev), "vda"))
		return kr_control_fail(err, KR_CONTROL_DEV_NOT_FOUND, "no disk '%.32s'",
				       json_object_get_string(dev));
	a = json_object_new_array();
	json_object_array_add(a, kr_control_blockstats("vda", 1048576, 4096, 256, 1, 1));
	*ret = a;
	return 0;
}

static int fake_exits(void *o, struct json_object *args, struct json_object **ret,
		      struct kr_control_error *err)
{
	static const char *const names[] = { "io", "mmio", "hlt" };
	static const uint64_t counts[][3] = { { 120, 7, 3 }, { 5, 0, 9 } };
	struct json_object *a, *v;
	int only = -1;

	fake_count(o, F_EXITS);
	if (json_object_object_get_ex(args, "vcpu", &v)) {
		only = json_object_get_int(v);
		if (only > 1)
			return kr_control_fail(err, NULL, "no vCPU %d", only);
	}
	a = json_object_new_array();
	for (int i = 0; i < 2; i++)
		if (only < 0 || only == i)
			json_object_array_add(a, kr_control_exit_stats(i, names, counts[i], 3));
	*ret = a;
	return 0;
}

static int fake_chardev(void *opaque, struct json_object *args, struct json_object **ret,
			struct kr_control_error *err)
{
	struct fake *o = opaque;

	(void)args, (void)err;
	fake_count(o, F_CHARDEV);
	*ret = json_object_new_array();
	json_object_array_add(*ret, kr_control_chardev("serial0", "pty:/dev/pts/7"));
	json_object_array_add(*ret, kr_control_chardev("console0", "unix:/run/c.sock"));
	return 0;
}

static const struct kr_control_ops fake_ops = {
	.query_status = fake_status,
	.stop = fake_stop,
	.cont = fake_cont,
	.system_powerdown = fake_powerdown,
	.system_reset = fake_reset,
	.quit = fake_quit,
	.query_vcpus = fake_vcpus,
	.query_block = fake_block,
	.query_blockstats = fake_bstats,
	.query_exit_stats = fake_exits,
	.query_chardev = fake_chardev,
	.version = { 0, 1, 0, "khv-run unit test" },
};

/* ---- JSON helpers ------------------------------------------------------- */

/* o at a dotted path ("error.class"); digits index arrays ("return.1.halted"). */
static struct json_object *jget(struct json_object *o, const char *path)
{
	char buf[128], *save = NULL, *part;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part && o; part = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, strtoul(part, NULL, 10));
		else if (!json_object_object_get_ex(o, part, &o))
			o = NULL;
	}
	return o;
}

static const char *jstr(struct json_object *o, const char *path)
{
	struct json_object *v = jget(o, path);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int64_t jint(struct json_object *o, const char *path)
{
	struct json_object *v = jget(o, path);

	return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -12345;
}

static int jbool(struct json_object *o, const char *path)
{
	struct json_object *v = jget(o, path);

	return json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : -1;
}

static bool jhas(struct json_object *o, const char *path)
{
	struct json_object *v;

	if (strchr(path, '.'))
		return jget(o, path) != NULL;
	return json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, path, &v);
}

static const char *jtext(struct json_object *o)
{
	return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "null";
}

/* ---- test clients ------------------------------------------------------- */

static bool transcript;

struct tc {
	int fd;
	bool eof;
	size_t len;
	struct json_object *ev[64];	/* events seen while waiting for replies */
	unsigned int n_ev;
	char buf[1 << 17];
};

static struct tc *tc_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct tc *t = calloc(1, sizeof(*t));

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	t->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (connect(t->fd, (struct sockaddr *)&a, sizeof(a))) {
		close(t->fd);
		free(t);
		return NULL;
	}
	return t;
}

static void tc_close(struct tc *t)
{
	if (!t)
		return;
	for (unsigned int i = 0; i < t->n_ev; i++)
		json_object_put(t->ev[i]);
	close(t->fd);
	free(t);
}

static void tc_send_raw(struct tc *t, const void *p, size_t n)
{
	while (n) {
		ssize_t r = send(t->fd, p, n, MSG_NOSIGNAL);

		if (r <= 0)
			return;
		p = (const char *)p + r;
		n -= r;
	}
}

static void tc_send_str(struct tc *t, const char *s)
{
	tc_send_raw(t, s, strlen(s));
}

static void tc_send(struct tc *t, const char *line)
{
	if (transcript)
		printf("# -> %s\n", line);
	tc_send_raw(t, line, strlen(line));
	tc_send_raw(t, "\n", 1);
}

/* The next line, parsed (NULL on timeout, EOF, or a line that is not JSON). */
static struct json_object *tc_line(struct tc *t, int timeout_ms)
{
	for (;;) {
		char *nl = memchr(t->buf, '\n', t->len);
		struct pollfd p = { .fd = t->fd, .events = POLLIN };
		ssize_t r;

		if (nl) {
			struct json_object *o;

			*nl = '\0';
			if (transcript)
				printf("# <- %s\n", t->buf);
			o = json_tokener_parse(t->buf);
			t->len -= nl + 1 - t->buf;
			memmove(t->buf, nl + 1, t->len);
			return o;
		}
		if (t->eof || t->len == sizeof(t->buf) || poll(&p, 1, timeout_ms) <= 0)
			return NULL;
		r = read(t->fd, t->buf + t->len, sizeof(t->buf) - t->len);
		if (r <= 0) {
			t->eof = true;
			return NULL;
		}
		t->len += r;
	}
}

/* Next reply (events on the way are kept in t->ev). */
static struct json_object *tc_reply(struct tc *t)
{
	for (;;) {
		struct json_object *o = tc_line(t, 5000);

		if (!o || !jhas(o, "event"))
			return o;
		if (t->n_ev < ARRAY_SIZE(t->ev))
			t->ev[t->n_ev++] = o;
		else
			json_object_put(o);
	}
}

static struct json_object *tc_cmd(struct tc *t, const char *line)
{
	tc_send(t, line);
	return tc_reply(t);
}

/* Next event: one kept by tc_reply, or read now. */
static struct json_object *tc_event(struct tc *t, int timeout_ms)
{
	if (t->n_ev) {
		struct json_object *o = t->ev[0];

		memmove(t->ev, t->ev + 1, --t->n_ev * sizeof(t->ev[0]));
		return o;
	}
	return tc_line(t, timeout_ms);
}

/* Greeting, then negotiation: true when both went as they should. */
static bool tc_negotiate(struct tc *t)
{
	struct json_object *g = tc_line(t, 5000), *r;
	bool ok = jhas(g, "KHV");

	json_object_put(g);
	r = tc_cmd(t, "{\"execute\": \"qmp_capabilities\"}");
	ok = ok && jhas(r, "return") && !jhas(r, "id");
	json_object_put(r);
	return ok;
}

/* A command answered with success: its "return" member is checked by the caller. */
static bool tc_ok(struct tc *t, const char *line)
{
	struct json_object *r = tc_cmd(t, line);
	bool ok = jhas(r, "return");

	if (!ok)
		printf("#   %s -> %s\n", line, jtext(r));
	json_object_put(r);
	return ok;
}

/* ---- fixture: a loop on its thread, a control on a socket --------------- */

struct fx {
	char dir[64];
	char path[128];
	struct kr_loop *loop;
	pthread_t thread;
	struct kr_control *ctl;
	struct fake fake;
	int fds;
};

static void *fx_run(void *opaque)
{
	kr_loop_run(opaque);
	return NULL;
}

static bool fx_start(struct fx *f, const struct kr_control_ops *ops)
{
	memset(f, 0, sizeof(*f));
	f->fds = t_count_fds();
	snprintf(f->dir, sizeof(f->dir), "/tmp/kr-control-XXXXXX");
	if (!mkdtemp(f->dir))
		return false;
	snprintf(f->path, sizeof(f->path), "%s/ctl", f->dir);
	f->loop = kr_loop_new();
	f->fake.running = true;
	if (!f->loop || kr_control_open(f->path, f->loop, ops, &f->fake, &f->ctl))
		return false;
	f->fake.ctl = f->ctl;
	return !pthread_create(&f->thread, NULL, fx_run, f->loop);
}

static bool wait_clients(struct kr_control *ctl, unsigned int n)
{
	for (int i = 0; i < 5000; i++) {
		if (kr_control_clients(ctl) == n)
			return true;
		usleep(1000);
	}
	return false;
}

/* Close the control while the loop still runs (the harder order), then the loop. */
static void fx_stop(struct fx *f)
{
	struct stat st;

	kr_control_close(f->ctl);
	CHECK(stat(f->path, &st) && errno == ENOENT);	/* unlinked */
	kr_loop_stop(f->loop);
	pthread_join(f->thread, NULL);
	kr_loop_free(f->loop);
	rmdir(f->dir);
	CHECK_EQ(t_count_fds(), f->fds);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- tests -------------------------------------------------------------- */

KR_TEST(control_greeting)
{
	struct fx f;
	struct tc *t;
	struct json_object *o;

	CHECK(fx_start(&f, &fake_ops));
	t = tc_connect(f.path);
	CHECK(t);
	o = tc_line(t, 5000);
	CHECK_EQ(jint(o, "KHV.version.khv-run.major"), 0);
	CHECK_EQ(jint(o, "KHV.version.khv-run.minor"), 1);
	CHECK_EQ(jint(o, "KHV.version.khv-run.micro"), 0);
	CHECK_STR(jstr(o, "KHV.version.package"), "khv-run unit test");
	CHECK(json_object_is_type(jget(o, "KHV.capabilities"), json_type_array));
	CHECK_EQ(json_object_array_length(jget(o, "KHV.capabilities")), 0);
	json_object_put(o);

	/* Nothing but qmp_capabilities before negotiation, known or not. */
	o = tc_cmd(t, "{\"execute\": \"query-status\", \"id\": 1}");
	CHECK_STR(jstr(o, "error.class"), "CommandNotFound");
	CHECK_EQ(jint(o, "id"), 1);
	json_object_put(o);
	o = tc_cmd(t, "{\"execute\": \"no-such-thing\"}");
	CHECK_STR(jstr(o, "error.class"), "CommandNotFound");
	json_object_put(o);
	CHECK_EQ(fake_calls(&f.fake, F_STATUS), 0);
	/* No capability exists to enable. */
	o = tc_cmd(t, "{\"execute\": \"qmp_capabilities\", "
		   "\"arguments\": {\"enable\": [\"oob\"]}}");
	CHECK_STR(jstr(o, "error.class"), "GenericError");
	CHECK(strstr(jstr(o, "error.desc"), "oob"));
	json_object_put(o);
	o = tc_cmd(t, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": 1}}");
	CHECK_STR(jstr(o, "error.class"), "GenericError");
	json_object_put(o);
	o = tc_cmd(t, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": []}, "
		   "\"id\": \"neg\"}");
	CHECK(json_object_is_type(jget(o, "return"), json_type_object));
	CHECK_STR(jstr(o, "id"), "neg");
	json_object_put(o);
	/* Once only. */
	o = tc_cmd(t, "{\"execute\": \"qmp_capabilities\"}");
	CHECK_STR(jstr(o, "error.class"), "CommandNotFound");
	json_object_put(o);
	CHECK(tc_ok(t, "{\"execute\": \"query-status\"}"));
	CHECK_EQ(fake_calls(&f.fake, F_STATUS), 1);
	tc_close(t);
	fx_stop(&f);
}

static void check_event(struct tc *t, const char *name, const char *reason)
{
	struct json_object *e = tc_event(t, 5000);
	double now = (double)time(NULL);

	CHECK_STR(jstr(e, "event"), name);
	CHECK(jint(e, "timestamp.seconds") > now - 60 && jint(e, "timestamp.seconds") <= now + 1);
	CHECK(jint(e, "timestamp.microseconds") >= 0 &&
	      jint(e, "timestamp.microseconds") < 1000000);
	if (reason) {
		CHECK_STR(jstr(e, "data.reason"), reason);
		CHECK_EQ(jbool(e, "data.guest"), 0);
	} else {
		CHECK(!jhas(e, "data"));
	}
	json_object_put(e);
}

KR_TEST(control_commands)
{
	struct fx f;
	struct tc *t;
	struct json_object *o, *a;

	CHECK(fx_start(&f, &fake_ops));
	t = tc_connect(f.path);
	CHECK(t && tc_negotiate(t));

	o = tc_cmd(t, "{\"execute\": \"query-status\", \"id\": \"s1\"}");
	CHECK_EQ(jbool(o, "return.running"), 1);
	CHECK_STR(jstr(o, "return.status"), "running");
	CHECK_STR(jstr(o, "id"), "s1");
	json_object_put(o);

	o = tc_cmd(t, "{\"execute\": \"stop\", \"id\": 2}");
	CHECK(json_object_is_type(jget(o, "return"), json_type_object));
	CHECK_EQ(jint(o, "id"), 2);
	json_object_put(o);
	CHECK_EQ(fake_calls(&f.fake, F_STOP), 1);
	check_event(t, "STOP", NULL);
	o = tc_cmd(t, "{\"execute\": \"query-status\"}");
	CHECK_EQ(jbool(o, "return.running"), 0);
	CHECK_STR(jstr(o, "return.status"), "paused");
	json_object_put(o);

	CHECK(tc_ok(t, "{\"execute\": \"cont\"}"));
	CHECK_EQ(fake_calls(&f.fake, F_CONT), 1);
	check_event(t, "RESUME", NULL);
	CHECK(tc_ok(t, "{\"execute\": \"system_powerdown\"}"));
	CHECK_EQ(fake_calls(&f.fake, F_POWERDOWN), 1);
	check_event(t, "POWERDOWN", NULL);
	CHECK(tc_ok(t, "{\"execute\": \"system_reset\"}"));
	CHECK_EQ(fake_calls(&f.fake, F_RESET), 1);
	check_event(t, "RESET", "host-qmp-system-reset");

	o = tc_cmd(t, "{\"execute\": \"query-vcpus\"}");
	a = jget(o, "return");
	CHECK(json_object_is_type(a, json_type_array) && json_object_array_length(a) == 2);
	CHECK_EQ(jint(o, "return.0.cpu-index"), 0);
	CHECK_EQ(jint(o, "return.0.thread-id"), 4242);
	CHECK_EQ(jbool(o, "return.0.halted"), 0);
	CHECK_EQ(jint(o, "return.1.cpu-index"), 1);
	CHECK_EQ(jbool(o, "return.1.halted"), 1);
	json_object_put(o);

	o = tc_cmd(t, "{\"execute\": \"query-block\"}");
	CHECK_STR(jstr(o, "return.0.device"), "vda");
	CHECK_STR(jstr(o, "return.0.file"), "/var/lib/khv/debian.img");
	CHECK_EQ(jbool(o, "return.0.read-only"), 0);
	CHECK_EQ(jint(o, "return.0.size"), 8ll << 30);
	CHECK_EQ(jbool(o, "return.1.read-only"), 1);
	json_object_put(o);

	o = tc_cmd(t, "{\"execute\": \"query-blockstats\"}");
	CHECK_STR(jstr(o, "return.0.device"), "vda");
	CHECK_EQ(jint(o, "return.0.stats.rd_bytes"), 1048576);
	CHECK_EQ(jint(o, "return.0.stats.wr_bytes"), 4096);
	CHECK_EQ(jint(o, "return.0.stats.rd_operations"), 256);
	CHECK_EQ(jint(o, "return.0.stats.wr_operations"), 1);
	CHECK_EQ(jint(o, "return.0.stats.flush_operations"), 1);
	json_object_put(o);
	CHECK(tc_ok(t, "{\"execute\": \"query-blockstats\", "
		       "\"arguments\": {\"device\": \"vda\"}}"));
	o = tc_cmd(t, "{\"execute\": \"query-blockstats\", \"arguments\": {\"device\": \"vdz\"}}");
	CHECK_STR(jstr(o, "error.class"), "DeviceNotFound");
	CHECK_STR(jstr(o, "error.desc"), "no disk 'vdz'");
	json_object_put(o);

	o = tc_cmd(t, "{\"execute\": \"query-exit-stats\"}");
	CHECK_EQ(json_object_array_length(jget(o, "return")), 2);
	CHECK_EQ(jint(o, "return.0.cpu-index"), 0);
	CHECK_STR(jstr(o, "return.0.exits.0.name"), "io");
	CHECK_EQ(jint(o, "return.0.exits.0.count"), 120);
	CHECK_STR(jstr(o, "return.1.exits.2.name"), "hlt");
	CHECK_EQ(jint(o, "return.1.exits.2.count"), 9);
	json_object_put(o);
	o = tc_cmd(t, "{\"execute\": \"query-exit-stats\", \"arguments\": {\"vcpu\": 1}}");
	CHECK_EQ(json_object_array_length(jget(o, "return")), 1);
	CHECK_EQ(jint(o, "return.0.cpu-index"), 1);
	json_object_put(o);
	o = tc_cmd(t, "{\"execute\": \"query-exit-stats\", \"arguments\": {\"vcpu\": 2}}");
	CHECK_STR(jstr(o, "error.class"), "GenericError");
	CHECK_STR(jstr(o, "error.desc"), "no vCPU 2");
	json_object_put(o);

	o = tc_cmd(t, "{\"execute\": \"query-version\"}");
	CHECK_EQ(jint(o, "return.khv-run.minor"), 1);
	CHECK_STR(jstr(o, "return.package"), "khv-run unit test");
	json_object_put(o);

	o = tc_cmd(t, "{\"execute\": \"query-chardev\"}");
	CHECK_EQ(json_object_array_length(jget(o, "return")), 2);
	CHECK_STR(jstr(o, "return.0.label"), "serial0");
	CHECK_STR(jstr(o, "return.0.filename"), "pty:/dev/pts/7");
	CHECK_STR(jstr(o, "return.1.filename"), "unix:/run/c.sock");
	json_object_put(o);

	o = tc_cmd(t, "{\"execute\": \"query-commands\"}");
	a = jget(o, "return");
	CHECK_EQ(json_object_array_length(a), 14);
	for (size_t i = 0; i < json_object_array_length(a); i++)
		CHECK(jstr(json_object_array_get_idx(a, i), "name"));
	json_object_put(o);

	o = tc_cmd(t, "{\"execute\": \"quit\", \"id\": \"bye\"}");
	CHECK_STR(jstr(o, "id"), "bye");
	CHECK(jhas(o, "return"));
	json_object_put(o);
	CHECK_EQ(fake_calls(&f.fake, F_QUIT), 1);
	check_event(t, "SHUTDOWN", "host-qmp-quit");
	CHECK_EQ(t->n_ev, 0);

	for (int i = 0; i < F_N; i++)
		CHECK(fake_calls(&f.fake, i) >= 1);
	tc_close(t);
	fx_stop(&f);
}

/* A NULL callback: no such command. */
KR_TEST(control_missing_ops)
{
	static const struct kr_control_ops ops = { .query_status = fake_status };
	struct fx f;
	struct tc *t;
	struct json_object *o, *a;

	CHECK(fx_start(&f, &ops));
	t = tc_connect(f.path);
	CHECK(t && tc_negotiate(t));
	o = tc_cmd(t, "{\"execute\": \"stop\"}");
	CHECK_STR(jstr(o, "error.class"), "CommandNotFound");
	json_object_put(o);
	o = tc_cmd(t, "{\"execute\": \"query-commands\"}");
	a = jget(o, "return");
	CHECK_EQ(json_object_array_length(a), 4);
	CHECK_STR(jstr(a, "0.name"), "qmp_capabilities");
	CHECK_STR(jstr(a, "3.name"), "query-status");
	json_object_put(o);
	o = tc_cmd(t, "{\"execute\": \"query-version\"}");
	CHECK_EQ(jint(o, "return.khv-run.major"), 0);
	CHECK_STR(jstr(o, "return.package"), "");
	json_object_put(o);
	tc_close(t);
	fx_stop(&f);
}

static const char *refuse_stop(void *opaque, const char *command)
{
	(void)opaque;
	return strcmp(command, "stop") ? NULL : "not now: the test says so";
}

/* ops->refuse: asked before each op, its reason the client's error; builtins never asked. */
KR_TEST(control_refuse)
{
	static const struct kr_control_ops ops = {
		.query_status = fake_status, .stop = fake_stop, .refuse = refuse_stop,
	};
	struct fx f;
	struct tc *t;
	struct json_object *o;

	CHECK(fx_start(&f, &ops));
	t = tc_connect(f.path);
	CHECK(t && tc_negotiate(t));
	o = tc_cmd(t, "{\"execute\": \"stop\"}");
	CHECK_STR(jstr(o, "error.class"), "GenericError");
	CHECK_STR(jstr(o, "error.desc"), "not now: the test says so");
	json_object_put(o);
	CHECK_EQ(fake_calls(&f.fake, F_STOP), 0);
	o = tc_cmd(t, "{\"execute\": \"query-status\"}");
	CHECK(jhas(o, "return.status"));
	json_object_put(o);
	CHECK_EQ(fake_calls(&f.fake, F_STATUS), 1);
	o = tc_cmd(t, "{\"execute\": \"query-version\"}");
	CHECK(jhas(o, "return.package"));
	json_object_put(o);
	tc_close(t);
	fx_stop(&f);
}

struct bad {
	const char *line;
	const char *class;
	const char *desc;	/* a part of it */
	const char *id;		/* as JSON text, NULL: no id */
};

static const struct bad bad_inputs[] = {
	{ "{\"execute\":", "GenericError", "malformed JSON" },
	{ "nonsense", "GenericError", "malformed JSON" },
	{ "{\"execute\": \"query-status\"} {}", "GenericError", "malformed JSON" },
	{ "{\"execute\": 'query-status'}", "GenericError", "malformed JSON" },
	{ "{\"execute\": \"\xff\"}", "GenericError", "malformed JSON" },
	{ "{\"execute\": \"query-status\",}", "GenericError", "malformed JSON" },
	{ "[1, 2]", "GenericError", "must be a JSON object" },
	{ "42", "GenericError", "must be a JSON object" },
	{ "\"query-status\"", "GenericError", "must be a JSON object" },
	{ "null", "GenericError", "must be a JSON object" },
	{ "{\"id\": 7}", "GenericError", "'execute' is missing", "7" },
	{ "{\"execute\": 5, \"id\": \"x\"}", "GenericError", "must be a string", "\"x\"" },
	{ "{\"execute\": null, \"id\": null}", "GenericError", "must be a string", "null" },
	{ "{\"execute\": \"nope\", \"id\": [1, {\"a\": true}]}", "CommandNotFound", "'nope'",
	  "[1,{\"a\":true}]" },
	{ "{\"execute\": \"stop\\u0000\", \"id\": 3}", "CommandNotFound", "no command", "3" },
	{ "{\"execute\": \"Query-Status\"}", "CommandNotFound", "no command" },
	{ "{\"execute\": \"query-status\", \"arguments\": [], \"id\": 1}", "GenericError",
	  "'arguments' must be an object", "1" },
	{ "{\"execute\": \"query-status\", \"arguments\": null}", "GenericError",
	  "'arguments' must be an object" },
	{ "{\"execute\": \"query-status\", \"arguments\": {\"x\": 1}}", "GenericError",
	  "query-status has no parameter 'x'" },
	{ "{\"execute\": \"query-status\", \"foo\": 1, \"id\": 9}", "GenericError",
	  "unexpected member 'foo'", "9" },
	{ "{\"execute\": \"query-exit-stats\", \"arguments\": {\"vcpu\": \"0\"}}", "GenericError",
	  "'vcpu' must be an integer" },
	{ "{\"execute\": \"query-exit-stats\", \"arguments\": {\"vcpu\": -1}}", "GenericError",
	  "'vcpu' must be an integer" },
	{ "{\"execute\": \"query-exit-stats\", \"arguments\": {\"vcpu\": 1.5}}", "GenericError",
	  "'vcpu' must be an integer" },
	{ "{\"execute\": \"query-exit-stats\", \"arguments\": {\"vcpu\": 2147483648}}",
	  "GenericError", "'vcpu' must be an integer" },
	{ "{\"execute\": \"query-exit-stats\", \"arguments\": {\"vcpu\": 99999999999999999999}}",
	  "GenericError", "'vcpu' must be an integer" },
	{ "{\"execute\": \"query-exit-stats\", \"arguments\": {\"vcpu\": 2147483647}}",
	  "GenericError", "no vCPU 2147483647" },	/* the type is right: the callback says */
	{ "{\"execute\": \"query-blockstats\", \"arguments\": {\"device\": 5}}", "GenericError",
	  "'device' must be a string" },
	{ "{\"execute\": \"query-blockstats\", \"arguments\": {\"device\": \"x\", \"y\": 1}}",
	  "GenericError", "no parameter 'y'" },
	{ "{\"execute\": \"qmp_capabilities\"}", "CommandNotFound", "already negotiated" },
};

KR_TEST(control_bad_input)
{
	struct fx f;
	struct tc *t, *other;
	struct json_object *o;
	char deep[400];

	CHECK(fx_start(&f, &fake_ops));
	t = tc_connect(f.path);
	other = tc_connect(f.path);
	CHECK(t && other && tc_negotiate(t) && tc_negotiate(other));
	for (size_t i = 0; i < ARRAY_SIZE(bad_inputs); i++) {
		const struct bad *b = &bad_inputs[i];

		o = tc_cmd(t, b->line);
		if (!jstr(o, "error.class") || strcmp(jstr(o, "error.class"), b->class) ||
		    !strstr(jstr(o, "error.desc"), b->desc))
			printf("#   %s -> %s\n", b->line, jtext(o));
		CHECK_STR(jstr(o, "error.class"), b->class);
		CHECK(jstr(o, "error.desc") && strstr(jstr(o, "error.desc"), b->desc));
		if (b->id)
			CHECK_STR(jtext(jget(o, "id")), b->id);
		CHECK_EQ(jhas(o, "id"), !!b->id);
		CHECK(!jhas(o, "return"));
		json_object_put(o);
		/* The same client, and any other, still served. */
		CHECK(tc_ok(t, "{\"execute\": \"query-status\"}"));
	}
	CHECK(tc_ok(other, "{\"execute\": \"query-status\"}"));

	/* A NUL byte in the line. */
	tc_send_raw(t, "{\"execute\": \"query-status\"}\0\n", 29);
	o = tc_reply(t);
	CHECK(jstr(o, "error.desc") && strstr(jstr(o, "error.desc"), "NUL"));
	json_object_put(o);
	/* Deeper than the parser goes. */
	memset(deep, '[', 200);
	memset(deep + 200, ']', 199);
	deep[399] = '\0';
	o = tc_cmd(t, deep);
	CHECK(jstr(o, "error.desc") && strstr(jstr(o, "error.desc"), "malformed JSON"));
	json_object_put(o);
	/* Blank lines get no reply; CR LF ends a line as well. */
	tc_send_str(t, "\n   \n\t\r\n{\"execute\": \"query-status\", \"id\": \"after\"}\r\n");
	o = tc_reply(t);
	CHECK_STR(jstr(o, "id"), "after");
	json_object_put(o);
	/* Ids of any type come back as they were. */
	o = tc_cmd(t, "{\"id\": {\"n\": [1, \"two\", null]}, \"execute\": \"query-status\"}");
	CHECK_STR(jtext(jget(o, "id")), "{\"n\":[1,\"two\",null]}");
	json_object_put(o);
	/* Several lines in one write, and one line over several. */
	tc_send_str(t, "{\"execute\": \"query-status\", \"id\": 1}\n{\"execute\": \"query-st");
	usleep(20000);
	tc_send_str(t, "atus\", \"id\": 2}\n");
	o = tc_reply(t);
	CHECK_EQ(jint(o, "id"), 1);
	json_object_put(o);
	o = tc_reply(t);
	CHECK_EQ(jint(o, "id"), 2);
	json_object_put(o);
	CHECK(tc_ok(other, "{\"execute\": \"query-status\"}"));
	tc_close(t);
	tc_close(other);
	fx_stop(&f);
}

KR_TEST(control_long_line)
{
	struct fx f;
	struct tc *t;
	struct json_object *o;
	const char *head = "{\"execute\": \"query-status\", \"id\": \"";
	size_t max = KR_CONTROL_MAX_LINE - 1;	/* without its newline */
	char *line = malloc(300000);

	CHECK(fx_start(&f, &fake_ops));
	t = tc_connect(f.path);
	CHECK(t && tc_negotiate(t));

	/* The longest line taken: max bytes and the newline. */
	memset(line, 'a', max);
	memcpy(line, head, strlen(head));
	memcpy(line + max - 2, "\"}", 2);
	line[max] = '\n';
	tc_send_raw(t, line, max + 1);
	o = tc_reply(t);
	CHECK(jhas(o, "return"));
	CHECK_EQ(strlen(jstr(o, "id") ? jstr(o, "id") : ""), max - strlen(head) - 2);
	json_object_put(o);

	/* One byte more: refused, and so is everything up to its newline. */
	memset(line, 'b', max + 1);
	memcpy(line, head, strlen(head));
	memcpy(line + max - 1, "\"}", 2);
	line[max + 1] = '\n';
	tc_send_raw(t, line, max + 2);
	o = tc_reply(t);
	CHECK_STR(jstr(o, "error.class"), "GenericError");
	CHECK(jstr(o, "error.desc") && strstr(jstr(o, "error.desc"), "longer than 65535"));
	CHECK(!jhas(o, "id"));
	json_object_put(o);
	CHECK(tc_ok(t, "{\"execute\": \"query-status\"}"));

	/* Far longer, in one go with a command behind it: one error, then the command. */
	memset(line, ' ', 250000);
	line[250000] = '\n';
	strcpy(line + 250001, "{\"execute\": \"query-status\", \"id\": \"next\"}\n");
	tc_send_raw(t, line, strlen(line + 250001) + 250001);
	o = tc_reply(t);
	CHECK(jstr(o, "error.desc") && strstr(jstr(o, "error.desc"), "longer than"));
	json_object_put(o);
	o = tc_reply(t);
	CHECK_STR(jstr(o, "id"), "next");
	json_object_put(o);
	free(line);
	tc_close(t);
	fx_stop(&f);
}

KR_TEST(control_many_clients)
{
	struct fx f;
	struct tc *t[KR_CONTROL_MAX_CLIENTS], *extra;
	struct json_object *o;

	CHECK(fx_start(&f, &fake_ops));
	for (int i = 0; i < KR_CONTROL_MAX_CLIENTS; i++) {
		t[i] = tc_connect(f.path);
		CHECK(t[i] && tc_negotiate(t[i]));
	}
	CHECK_EQ(kr_control_clients(f.ctl), KR_CONTROL_MAX_CLIENTS);
	/* One too many: an error line, then the end. */
	extra = tc_connect(f.path);
	CHECK(extra);
	o = tc_line(extra, 5000);
	CHECK_STR(jstr(o, "error.class"), "GenericError");
	CHECK(jstr(o, "error.desc") && strstr(jstr(o, "error.desc"), "too many clients"));
	json_object_put(o);
	CHECK(!tc_line(extra, 5000) && extra->eof);
	tc_close(extra);
	/* An event reaches all, and each is served. */
	kr_control_event(f.ctl, "POWERDOWN", NULL);
	for (int i = 0; i < KR_CONTROL_MAX_CLIENTS; i++) {
		check_event(t[i], "POWERDOWN", NULL);
		CHECK(tc_ok(t[i], "{\"execute\": \"query-status\"}"));
	}
	/* A place freed is taken again. */
	tc_close(t[3]);
	CHECK(wait_clients(f.ctl, KR_CONTROL_MAX_CLIENTS - 1));
	t[3] = tc_connect(f.path);
	CHECK(t[3] && tc_negotiate(t[3]));
	CHECK_EQ(kr_control_clients(f.ctl), KR_CONTROL_MAX_CLIENTS);
	for (int i = 0; i < KR_CONTROL_MAX_CLIENTS; i++)
		tc_close(t[i]);
	CHECK(wait_clients(f.ctl, 0));
	fx_stop(&f);
}

KR_TEST(control_events_after_negotiation)
{
	struct fx f;
	struct tc *a, *b;
	struct json_object *o;

	CHECK(fx_start(&f, &fake_ops));
	a = tc_connect(f.path);
	b = tc_connect(f.path);
	CHECK(a && b && tc_negotiate(a));
	o = tc_line(b, 5000);
	CHECK(jhas(o, "KHV"));
	json_object_put(o);
	kr_control_event(f.ctl, "STOP", NULL);
	check_event(a, "STOP", NULL);
	/* b gets nothing queued for it: its next line is its reply. */
	tc_send(b, "{\"execute\": \"qmp_capabilities\", \"id\": 1}");
	o = tc_line(b, 5000);
	CHECK(jhas(o, "return"));
	CHECK_EQ(jint(o, "id"), 1);
	json_object_put(o);
	kr_control_event(f.ctl, "RESUME", NULL);
	check_event(b, "RESUME", NULL);
	check_event(a, "RESUME", NULL);
	/* Events carry their data. */
	kr_control_event(f.ctl, "SHUTDOWN", kr_control_reason(true, "guest-shutdown"));
	o = tc_event(a, 5000);
	CHECK_STR(jstr(o, "event"), "SHUTDOWN");
	CHECK_EQ(jbool(o, "data.guest"), 1);
	CHECK_STR(jstr(o, "data.reason"), "guest-shutdown");
	json_object_put(o);
	tc_close(a);
	tc_close(b);
	fx_stop(&f);
}

/* ---- a client that never reads ------------------------------------------ */

struct reader {
	int fd;
	int lines;		/* atomic */
	bool stop;		/* atomic */
};

static void *reader_run(void *opaque)
{
	struct reader *r = opaque;
	char buf[65536];

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 20) <= 0)
			continue;
		n = read(r->fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n')
				__atomic_add_fetch(&r->lines, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

KR_TEST(control_slow_client)
{
	enum { N = 30000 };
	struct fx f;
	struct tc *good, *slow;
	struct reader rd;
	pthread_t th;
	double worst = 0, deadline;
	size_t got = 0;
	char buf[65536];
	ssize_t n;

	CHECK(fx_start(&f, &fake_ops));
	good = tc_connect(f.path);
	slow = tc_connect(f.path);
	CHECK(good && slow && tc_negotiate(good) && tc_negotiate(slow));
	rd = (struct reader){ good->fd, 0, false };
	CHECK(!pthread_create(&th, NULL, reader_run, &rd));
	/* From this thread, as a vCPU would: never waits for the clients. */
	for (int i = 0; i < N; i++) {
		double t0 = now_ms(), dt;

		kr_control_event(f.ctl, "RESET", kr_control_reason(true, "guest-reset"));
		dt = now_ms() - t0;
		if (dt > worst)
			worst = dt;
		/* Keep the reading client within its bound; the other is on its own. */
		deadline = now_ms() + 5000;
		while (i + 1 - __atomic_load_n(&rd.lines, __ATOMIC_ACQUIRE) > 4000 &&
		       now_ms() < deadline)
			usleep(100);
	}
	/*
	 * An event that waited for the client that never reads would wait
	 * until the end of the test; one that does not still loses its CPU
	 * now and then under make check, where emulators share the cores (57
	 * ms seen).  A second tells the two apart.
	 */
	printf("# slowest kr_control_event: %.3f ms\n", worst);
	CHECK(worst < 1000);
	CHECK(wait_clients(f.ctl, 1));
	deadline = now_ms() + 5000;
	while (__atomic_load_n(&rd.lines, __ATOMIC_ACQUIRE) < N && now_ms() < deadline)
		usleep(1000);
	CHECK_EQ(__atomic_load_n(&rd.lines, __ATOMIC_ACQUIRE), N);
	__atomic_store_n(&rd.stop, true, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	/* The slow one was cut off: what reached its socket, then the end. */
	slow->len = 0;
	while ((n = read(slow->fd, buf, sizeof(buf))) > 0)
		got += n;
	printf("# the slow client got %zu bytes, then %s\n", got, n ? strerror(errno) : "EOF");
	CHECK(n == 0 || errno == ECONNRESET);
	CHECK(got > 0 && got < (size_t)N * 100);
	/* The server carries on. */
	CHECK(tc_ok(good, "{\"execute\": \"query-status\"}"));
	kr_control_event(f.ctl, "STOP", NULL);
	check_event(good, "STOP", NULL);
	tc_close(good);
	tc_close(slow);
	fx_stop(&f);
}

/* Commands sent, the client gone before the replies: EPIPE/ECONNRESET, no SIGPIPE. */
KR_TEST(control_client_vanishes)
{
	struct fx f;
	struct tc *t, *other;
	char *burst;
	size_t n = 0;
	const char *cmd = "{\"execute\": \"query-exit-stats\"}\n";

	CHECK(fx_start(&f, &fake_ops));
	other = tc_connect(f.path);
	CHECK(other && tc_negotiate(other));
	for (int round = 0; round < 3; round++) {
		t = tc_connect(f.path);
		CHECK(t && tc_negotiate(t));
		burst = malloc(2000 * strlen(cmd));
		for (int i = 0; i < 2000; i++, n += strlen(cmd))
			memcpy(burst + n, cmd, strlen(cmd));
		/* Its replies fill its socket: the server is mid-write when it goes. */
		for (size_t off = 0; off < n;) {
			ssize_t r = send(t->fd, burst + off, n - off, MSG_DONTWAIT | MSG_NOSIGNAL);

			if (r <= 0)
				break;
			off += r;
		}
		usleep(20000);
		tc_close(t);
		free(burst);
		n = 0;
		CHECK(wait_clients(f.ctl, 1));
		kr_control_event(f.ctl, "POWERDOWN", NULL);	/* a write to whoever is left */
		check_event(other, "POWERDOWN", NULL);
	}
	/* Half-closed: the replies still come, then the end. */
	t = tc_connect(f.path);
	CHECK(t && tc_negotiate(t));
	tc_send(t, "{\"execute\": \"query-status\", \"id\": 5}");
	shutdown(t->fd, SHUT_WR);
	{
		struct json_object *o = tc_reply(t);

		CHECK_EQ(jint(o, "id"), 5);
		json_object_put(o);
	}
	CHECK(!tc_line(t, 5000) && t->eof);
	tc_close(t);
	CHECK(tc_ok(other, "{\"execute\": \"query-status\"}"));
	tc_close(other);
	fx_stop(&f);
}

KR_TEST(control_socket_path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fds = t_count_fds(), fd;
	struct kr_loop *loop = kr_loop_new();
	struct kr_control *ctl = NULL, *ctl2 = NULL;
	char dir[64], path[100], longp[200];
	struct fake fk = { 0 };
	struct stat st;
	struct tc *t;

	snprintf(dir, sizeof(dir), "/tmp/kr-control-XXXXXX");
	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ctl", dir);

	/* Not a socket: refused, left alone. */
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(write(fd, "keep", 4) == 4);
	close(fd);
	CHECK_EQ(kr_control_open(path, loop, &fake_ops, &fk, &ctl), -EEXIST);
	CHECK(!ctl);
	CHECK(!stat(path, &st) && S_ISREG(st.st_mode) && st.st_size == 4);
	unlink(path);
	CHECK(!mkdir(path, 0700));
	CHECK_EQ(kr_control_open(path, loop, &fake_ops, &fk, &ctl), -EEXIST);
	rmdir(path);
	CHECK(!symlink("/nonexistent", path));
	CHECK_EQ(kr_control_open(path, loop, &fake_ops, &fk, &ctl), -EEXIST);
	unlink(path);

	/* A stale socket, nobody listening: replaced. */
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(!bind(fd, (struct sockaddr *)&a, sizeof(a)));
	close(fd);
	CHECK(!stat(path, &st) && S_ISSOCK(st.st_mode));
	CHECK_EQ(kr_control_open(path, loop, &fake_ops, &fk, &ctl), 0);
	CHECK(!stat(path, &st) && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600);
	/* A live one: refused, and the live one untouched. */
	CHECK_EQ(kr_control_open(path, loop, &fake_ops, &fk, &ctl2), -EADDRINUSE);
	CHECK(!ctl2);
	t = tc_connect(path);
	CHECK(t);
	kr_control_close(ctl);
	CHECK(stat(path, &st) && errno == ENOENT);
	/* Never accepted (the loop did not run): the end, not a greeting. */
	CHECK(!tc_line(t, 1000));
	tc_close(t);

	/* Someone else's socket put in its place is not ours to unlink. */
	CHECK_EQ(kr_control_open(path, loop, &fake_ops, &fk, &ctl), 0);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(!bind(fd, (struct sockaddr *)&a, sizeof(a)));
	kr_control_close(ctl);
	CHECK(!stat(path, &st) && S_ISSOCK(st.st_mode));
	close(fd);
	unlink(path);

	memset(longp, 'x', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	CHECK_EQ(kr_control_open(longp, loop, &fake_ops, &fk, &ctl), -ENAMETOOLONG);
	CHECK_EQ(kr_control_open("", loop, &fake_ops, &fk, &ctl), -EINVAL);
	CHECK_EQ(kr_control_open(path, NULL, &fake_ops, &fk, &ctl), -EINVAL);
	CHECK_EQ(kr_control_open(NULL, loop, &fake_ops, &fk, &ctl), -EINVAL);
	CHECK_EQ(kr_control_open(path, loop, NULL, &fk, &ctl), -EINVAL);
	snprintf(longp, sizeof(longp), "%s/no/such/dir", dir);
	CHECK_EQ(kr_control_open(longp, loop, &fake_ops, &fk, &ctl), -ENOENT);
	rmdir(dir);
	kr_loop_free(loop);
	CHECK_EQ(t_count_fds(), fds);
}

/* Stopping the loop first, then closing, with clients connected. */
KR_TEST(control_close_after_loop)
{
	struct fx f;
	struct tc *t[3];
	struct stat st;

	CHECK(fx_start(&f, &fake_ops));
	for (int i = 0; i < 3; i++) {
		t[i] = tc_connect(f.path);
		CHECK(t[i] && tc_negotiate(t[i]));
	}
	kr_loop_stop(f.loop);
	pthread_join(f.thread, NULL);
	kr_control_event(f.ctl, "SHUTDOWN", kr_control_reason(false, "host-signal"));
	kr_control_close(f.ctl);
	CHECK(stat(f.path, &st) && errno == ENOENT);
	/* The last event got its one try at close. */
	for (int i = 0; i < 3; i++) {
		check_event(t[i], "SHUTDOWN", "host-signal");
		CHECK(!tc_line(t[i], 5000) && t[i]->eof);
		tc_close(t[i]);
	}
	kr_loop_free(f.loop);
	rmdir(f.dir);
	CHECK_EQ(t_count_fds(), f.fds);
}

/* ---- socketless clients (what the fuzz target drives) ------------------- */

static size_t drain(struct kr_control_client *c, char *out, size_t cap)
{
	size_t n = 0, r;

	while ((r = kr_control_client_read(c, out + n, cap - n)) > 0)
		n += r;
	return n;
}

static int count_lines(const char *s, size_t n)
{
	int k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == '\n';
	return k;
}

KR_TEST(control_feed)
{
	static const char script[] =
		"{\"execute\": \"qmp_capabilities\"}\n"
		"{\"execute\": \"query-status\", \"id\": 1}\n"
		"bad\n\n"
		"{\"execute\": \"query-vcpus\", \"arguments\": {}}\r\n"
		"{\"execute\": \"query-exit-stats\", \"arguments\": {\"vcpu\": 0}}\n"
		"{\"execute\": \"query-block\"}";	/* no newline yet: not run */
	struct kr_control *ctl;
	struct kr_control_client *a, *b, *all[KR_CONTROL_MAX_CLIENTS];
	struct fake fk = { .running = true };
	static char out_a[1 << 20], out_b[1 << 20];
	size_t na, nb;
	char *big;
	size_t len, done, one, total = 0;
	const char *vcpus = "{\"execute\": \"query-vcpus\"}\n\n";
	int replies = 0, fds = t_count_fds();

	CHECK_EQ(kr_control_open(NULL, NULL, &fake_ops, &fk, &ctl), 0);
	fk.ctl = ctl;
	a = kr_control_client_new(ctl);
	b = kr_control_client_new(ctl);
	/* Whole, and a byte at a time: the same output. */
	CHECK_EQ(kr_control_feed(a, script, sizeof(script) - 1), sizeof(script) - 1);
	for (size_t i = 0; i < sizeof(script) - 1; i++)
		CHECK_EQ(kr_control_feed(b, script + i, 1), 1);
	na = drain(a, out_a, sizeof(out_a));
	nb = drain(b, out_b, sizeof(out_b));
	CHECK_EQ(na, nb);
	CHECK(na == nb && !memcmp(out_a, out_b, na));
	CHECK_EQ(count_lines(out_a, na), 6);	/* greeting, 5 replies */
	CHECK_EQ(fake_calls(&fk, F_BLOCK), 0);
	CHECK_EQ(kr_control_feed(a, "\n", 1), 1);
	CHECK_EQ(fake_calls(&fk, F_BLOCK), 1);
	drain(a, out_a, sizeof(out_a));
	drain(b, out_b, sizeof(out_b));

	/* Events reach both (negotiated); they come out of the buffer. */
	kr_control_event(ctl, "STOP", NULL);
	na = drain(a, out_a, sizeof(out_a));
	CHECK(na && strstr(out_a, "{\"event\":\"STOP\""));

	/* Commands without reading the replies: taken only while output drains. */
	CHECK_EQ(kr_control_feed(a, vcpus, strlen(vcpus)), strlen(vcpus));
	one = drain(a, out_a, sizeof(out_a));
	CHECK(one > 50 && count_lines(out_a, one) == 1);
	len = 3000 * strlen(vcpus);
	big = malloc(len);
	for (int i = 0; i < 3000; i++)
		memcpy(big + i * strlen(vcpus), vcpus, strlen(vcpus));
	/* Taken is not run: feeding nothing runs what waits. */
	for (done = 0, na = 1; done < len || na;) {
		size_t n = kr_control_feed(a, big + done, len - done);

		CHECK(!kr_control_client_dead(a));
		na = drain(a, out_a, sizeof(out_a));
		CHECK(na <= KR_CONTROL_OUT_SOFT + 4096);
		total += na;
		replies += count_lines(out_a, na);
		done += n;
	}
	CHECK_EQ(done, len);
	CHECK_EQ(replies, 3000);
	CHECK_EQ(total, 3000 * one);
	free(big);

	/* A client nobody reads: events overflow it, then it is dead to input. */
	for (int i = 0; i < 20000 && !kr_control_client_dead(b); i++) {
		kr_control_event(ctl, "RESUME", NULL);
		if (i % 100 == 0)
			drain(a, out_a, sizeof(out_a));
	}
	CHECK(kr_control_client_dead(b));
	CHECK_EQ(kr_control_feed(b, "{\"execute\": \"stop\"}\n", 20), 20);
	CHECK_EQ(fake_calls(&fk, F_STOP), 0);
	CHECK(!kr_control_client_dead(a));
	drain(a, out_a, sizeof(out_a));

	/* At most KR_CONTROL_MAX_CLIENTS, freed or not. */
	CHECK_EQ(kr_control_clients(ctl), 2);
	for (int i = 0; i < KR_CONTROL_MAX_CLIENTS - 2; i++) {
		all[i] = kr_control_client_new(ctl);
		CHECK(all[i]);
	}
	CHECK(!kr_control_client_new(ctl));
	kr_control_client_free(b);
	b = kr_control_client_new(ctl);
	CHECK(b);
	kr_control_client_free(all[0]);
	CHECK_EQ(kr_control_clients(ctl), KR_CONTROL_MAX_CLIENTS - 1);
	kr_control_close(ctl);	/* frees the rest */
	CHECK_EQ(t_count_fds(), fds);
}

/* ---- the documentation's session ---------------------------------------- */

KR_TEST(control_session)
{
	static const char *const lines[] = {
		"{\"execute\": \"qmp_capabilities\"}",
		"{\"execute\": \"query-status\", \"id\": 1}",
		"{\"execute\": \"stop\", \"id\": 2}",
		"{\"execute\": \"query-vcpus\", \"id\": 3}",
		"{\"execute\": \"query-exit-stats\", \"arguments\": {\"vcpu\": 1}, \"id\": 4}",
		"{\"execute\": \"query-block\"}",
		"{\"execute\": \"query-blockstats\", \"arguments\": {\"device\": \"vdz\"}}",
		"{\"execute\": \"cont\", \"arguments\": {\"now\": true}}",
		"{\"execute\": \"cont\"}",
		"{\"execute\": \"system_reset\"}",
		"{\"execute\": \"quit\"}",
	};
	struct fx f;
	struct tc *t;
	struct json_object *o;
	int events = 0;

	transcript = getenv("KR_CONTROL_TRANSCRIPT") != NULL;
	CHECK(fx_start(&f, &fake_ops));
	t = tc_connect(f.path);
	CHECK(t);
	o = tc_line(t, 5000);
	CHECK(jhas(o, "KHV"));
	json_object_put(o);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		o = tc_cmd(t, lines[i]);
		CHECK(jhas(o, i == 6 || i == 7 ? "error" : "return"));
		json_object_put(o);
		while ((o = tc_event(t, 0))) {
			events++;
			json_object_put(o);
		}
	}
	CHECK_EQ(events, 4);	/* STOP, RESUME, RESET, SHUTDOWN */
	transcript = false;
	tc_close(t);
	fx_stop(&f);
}

/* A reply that would not fit a client's output is an error instead. */
static int huge_block(void *o, struct json_object *args, struct json_object **ret,
		      struct kr_control_error *err)
{
	struct json_object *a = json_object_new_array();
	char name[32];

	(void)o;
	(void)args;
	(void)err;
	for (int i = 0; i < 30000; i++) {
		snprintf(name, sizeof(name), "disk%d", i);
		json_object_array_add(a, kr_control_disk(name, "/dev/null", false, 0));
	}
	*ret = a;
	return 0;
}

KR_TEST(control_reply_too_large)
{
	static const struct kr_control_ops ops = { .query_block = huge_block };
	static char out[1 << 16];
	struct kr_control *ctl;
	struct kr_control_client *c;
	const char *in = "{\"execute\": \"qmp_capabilities\"}\n"
			 "{\"execute\": \"query-block\", \"id\": 1}\n";
	size_t n;

	CHECK_EQ(kr_control_open(NULL, NULL, &ops, NULL, &ctl), 0);
	c = kr_control_client_new(ctl);
	CHECK_EQ(kr_control_feed(c, in, strlen(in)), strlen(in));
	n = drain(c, out, sizeof(out) - 1);
	out[n] = '\0';
	CHECK(strstr(out, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"the reply is too "
			  "large\"},\"id\":1}\n"));
	CHECK(!kr_control_client_dead(c));
	kr_control_close(ctl);
}
