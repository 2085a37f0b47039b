// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket (control.h; protocol: Documentation/khv/khv-run-control.rst).
 *
 * Each client has an input buffer of one line's length and an output
 * buffer.  Input is run a line at a time on the loop's thread; a line runs
 * only while the client's pending output is at most KR_CONTROL_OUT_SOFT, so
 * a client that sends commands without reading their replies stops being
 * read (the kernel's socket buffer then pushes back on it) instead of
 * growing our memory.  Events come from any thread and cannot wait, so they
 * are appended to the output of every negotiated client up to
 * KR_CONTROL_OUT_MAX; beyond that the client is marked dead and the loop's
 * thread, woken through an eventfd, disconnects it.
 *
 * Locking: ctl->lock covers the client list, every client's output buffer
 * and its negotiated, dead and closing flags.  It is a leaf: held only
 * around memory copies and non-blocking sends, never while a command's
 * callback or any evloop function runs (a callback may send events, and a
 * vCPU thread sending one must never wait for the loop).  The input side of
 * a client (in, in_len, scan, discarding, stalled, eof, events) belongs to
 * the loop's thread, or to whoever feeds a socketless client.
 *
 * Only the loop's thread frees a client of a socket, in its own callback or
 * the eventfd's; kr_control_close() first removes the listening socket and
 * the eventfd from the loop, then takes each client out of the list under
 * the lock and marks it closing (its callback then leaves it alone), and
 * frees it once kr_loop_del() says its callback is not running.
 */
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "evloop.h"

/* Nesting a command needs is 3 or so; deeper input is refused early. */
#define KR_CONTROL_DEPTH	16
/* Characters of a client-supplied name quoted back in an error. */
#define KR_CONTROL_QUOTE	64
/* One send() under the lock at most, so event senders wait little. */
#define KR_CONTROL_SEND_CHUNK	65536
#define KR_CONTROL_JSON_FLAGS	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define KR_ARRAY_LEN(a)		(sizeof(a) / sizeof((a)[0]))

struct kr_control_client {
	struct kr_control *ctl;
	struct kr_control_client *next;
	int fd;			/* -1: fed by kr_control_feed() */
	unsigned int id;	/* for log lines */
	/* Input side: the loop's thread (or the feeder) only. */
	size_t in_len;
	size_t scan;		/* in[0..scan) holds no newline */
	bool discarding;	/* dropping an over-long line up to its newline */
	bool stalled;		/* lines wait for the output to drain */
	bool eof;		/* the client sent no more: drop it once flushed */
	uint32_t events;	/* as registered with the loop */
	/* Under ctl->lock. */
	bool negotiated;
	bool dead;		/* output overflowed, or the socket failed */
	bool closing;		/* kr_control_close() owns it */
	char *out;
	size_t out_head, out_len, out_cap;	/* pending: out[out_head..out_len) */
	char in[KR_CONTROL_MAX_LINE];
};

struct kr_control {
	const struct kr_control_ops *ops;
	void *opaque;
	struct kr_loop *loop;
	int lfd;		/* listening socket, or -1 */
	int evfd;		/* eventfd: output queued by another thread */
	char *path;
	dev_t dev;		/* the socket file we made, to unlink only it */
	ino_t ino;
	bool accept_paused;	/* out of fds: listen again when a client leaves */
	struct json_tokener *tok;	/* the loop's thread only */
	pthread_mutex_t lock;
	struct kr_control_client *clients;
	unsigned int n_clients;
	unsigned int next_id;
};

/* ---- builders and errors ------------------------------------------------ */

int kr_control_fail(struct kr_control_error *err, const char *class, const char *fmt, ...)
{
	va_list ap;

	err->class = class;
	va_start(ap, fmt);
	vsnprintf(err->desc, sizeof(err->desc), fmt, ap);
	va_end(ap);
	return -1;
}

static struct json_object *kr_str(const char *s)
{
	return json_object_new_string(s ? s : "");
}

struct json_object *kr_control_status(bool running, const char *status)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "running", json_object_new_boolean(running));
	json_object_object_add(o, "status", kr_str(status));
	return o;
}

struct json_object *kr_control_vcpu(unsigned int index, long thread_id, bool halted)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "cpu-index", json_object_new_int64(index));
	json_object_object_add(o, "thread-id", json_object_new_int64(thread_id));
	json_object_object_add(o, "halted", json_object_new_boolean(halted));
	return o;
}

struct json_object *kr_control_disk(const char *device, const char *file, bool read_only,
				    uint64_t size)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "device", kr_str(device));
	json_object_object_add(o, "file", kr_str(file));
	json_object_object_add(o, "read-only", json_object_new_boolean(read_only));
	json_object_object_add(o, "size", json_object_new_uint64(size));
	return o;
}

struct json_object *kr_control_chardev(const char *label, const char *filename)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "label", kr_str(label));
	json_object_object_add(o, "filename", kr_str(filename));
	return o;
}

struct json_object *kr_control_blockstats(const char *device, uint64_t rd_bytes,
					  uint64_t wr_bytes, uint64_t rd_ops, uint64_t wr_ops,
					  uint64_t flush_ops)
{
	struct json_object *o = json_object_new_object();
	struct json_object *s = json_object_new_object();

	json_object_object_add(s, "rd_bytes", json_object_new_uint64(rd_bytes));
	json_object_object_add(s, "wr_bytes", json_object_new_uint64(wr_bytes));
	json_object_object_add(s, "rd_operations", json_object_new_uint64(rd_ops));
	json_object_object_add(s, "wr_operations", json_object_new_uint64(wr_ops));
	json_object_object_add(s, "flush_operations", json_object_new_uint64(flush_ops));
	json_object_object_add(o, "device", kr_str(device));
	json_object_object_add(o, "stats", s);
	return o;
}

struct json_object *kr_control_exit_stats(unsigned int index, const char *const *names,
					  const uint64_t *counts, size_t n)
{
	struct json_object *o = json_object_new_object();
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "name", kr_str(names[i]));
		json_object_object_add(e, "count", json_object_new_uint64(counts[i]));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "cpu-index", json_object_new_int64(index));
	json_object_object_add(o, "exits", a);
	return o;
}

struct json_object *kr_control_reason(bool guest, const char *reason)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "guest", json_object_new_boolean(guest));
	json_object_object_add(o, "reason", kr_str(reason));
	return o;
}

static struct json_object *kr_control_version(const struct kr_control *ctl)
{
	struct json_object *o = json_object_new_object();
	struct json_object *v = json_object_new_object();

	json_object_object_add(v, "major", json_object_new_int(ctl->ops->version.major));
	json_object_object_add(v, "minor", json_object_new_int(ctl->ops->version.minor));
	json_object_object_add(v, "micro", json_object_new_int(ctl->ops->version.micro));
	json_object_object_add(o, "khv-run", v);
	json_object_object_add(o, "package", kr_str(ctl->ops->version.package));
	return o;
}

/* ---- output ------------------------------------------------------------- */

static size_t kr_pending(const struct kr_control_client *c)
{
	return c->out_len - c->out_head;
}

/* ctl->lock held.  The line s[0..n) and its newline, whole or not at all. */
static void kr_append_locked(struct kr_control_client *c, const char *s, size_t n)
{
	size_t need;

	if (c->dead)
		return;
	if (kr_pending(c) + n + 1 > KR_CONTROL_OUT_MAX) {
		c->dead = true;
		return;
	}
	if (c->out_head) {
		memmove(c->out, c->out + c->out_head, kr_pending(c));
		c->out_len -= c->out_head;
		c->out_head = 0;
	}
	need = c->out_len + n + 1;
	if (need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p) {
			c->dead = true;
			return;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, n);
	c->out[c->out_len + n] = '\n';
	c->out_len += n + 1;
}

static void kr_emit(struct kr_control_client *c, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, KR_CONTROL_JSON_FLAGS);

	pthread_mutex_lock(&c->ctl->lock);
	if (s)
		kr_append_locked(c, s, strlen(s));
	else
		c->dead = true;
	pthread_mutex_unlock(&c->ctl->lock);
}

/*
 * Send what is pending without blocking: 0, or -errno when the socket
 * failed (the client is gone).
 */
static int kr_flush(struct kr_control_client *c)
{
	struct kr_control *ctl = c->ctl;
	int ret = 0;

	if (c->fd < 0)
		return 0;
	pthread_mutex_lock(&ctl->lock);
	while (kr_pending(c) && !c->dead) {
		size_t n = kr_pending(c);
		ssize_t r;

		if (n > KR_CONTROL_SEND_CHUNK)
			n = KR_CONTROL_SEND_CHUNK;
		r = send(c->fd, c->out + c->out_head, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				ret = -errno;
			break;
		}
		c->out_head += r;
		if (c->out_head == c->out_len)
			c->out_head = c->out_len = 0;
		pthread_mutex_unlock(&ctl->lock);
		pthread_mutex_lock(&ctl->lock);
	}
	pthread_mutex_unlock(&ctl->lock);
	return ret;
}

/* ---- commands ----------------------------------------------------------- */

enum kr_arg_type { KR_ARG_UINT, KR_ARG_STR, KR_ARG_STR_ARRAY, KR_ARG_BOOL };

/* Every argument is optional here; a command that needs one says so itself. */
struct kr_arg {
	const char *name;
	enum kr_arg_type type;
};

typedef int kr_builtin_fn(struct kr_control_client *c, struct json_object *args,
			  struct json_object **ret, struct kr_control_error *err);

struct kr_cmd {
	const char *name;
	size_t op;		/* offset of its kr_control_fn in the ops */
	kr_builtin_fn *builtin;	/* or answered here */
	struct kr_arg args[2];
};

#define KR_OP(f)	offsetof(struct kr_control_ops, f)

static kr_builtin_fn kr_qmp_capabilities, kr_query_version, kr_query_commands;

static const struct kr_cmd kr_cmds[] = {
	{ "qmp_capabilities", 0, kr_qmp_capabilities, { { "enable", KR_ARG_STR_ARRAY } } },
	{ "query-version", 0, kr_query_version },
	{ "query-commands", 0, kr_query_commands },
	{ "query-status", KR_OP(query_status) },
	{ "stop", KR_OP(stop) },
	{ "cont", KR_OP(cont) },
	{ "system_powerdown", KR_OP(system_powerdown) },
	{ "system_reset", KR_OP(system_reset) },
	{ "quit", KR_OP(quit) },
	{ "query-vcpus", KR_OP(query_vcpus) },
	{ "query-block", KR_OP(query_block) },
	{ "query-blockstats", KR_OP(query_blockstats), NULL, { { "device", KR_ARG_STR } } },
	{ "query-exit-stats", KR_OP(query_exit_stats), NULL, { { "vcpu", KR_ARG_UINT } } },
	{ "query-chardev", KR_OP(query_chardev) },
	{ "query-vnc", KR_OP(query_vnc) },
	{ "snapshot-save", KR_OP(snapshot_save), NULL,
	  { { "file", KR_ARG_STR }, { "quit", KR_ARG_BOOL } } },
	{ "migrate", KR_OP(migrate), NULL, { { "uri", KR_ARG_STR } } },
	{ "query-migrate", KR_OP(query_migrate) },
	{ "migrate_cancel", KR_OP(migrate_cancel) },
	{ "migrate-set-parameters", KR_OP(migrate_set_parameters), NULL,
	  { { "downtime-limit", KR_ARG_UINT } } },
};

static kr_control_fn *kr_cmd_op(const struct kr_control *ctl, const struct kr_cmd *cmd)
{
	kr_control_fn *fn;

	if (cmd->builtin)
		return NULL;
	memcpy(&fn, (const char *)ctl->ops + cmd->op, sizeof(fn));
	return fn;
}

static bool kr_cmd_exists(const struct kr_control *ctl, const struct kr_cmd *cmd)
{
	return cmd->builtin || kr_cmd_op(ctl, cmd);
}

static int kr_qmp_capabilities(struct kr_control_client *c, struct json_object *args,
			       struct json_object **ret, struct kr_control_error *err)
{
	struct json_object *enable;

	(void)ret;
	if (json_object_object_get_ex(args, "enable", &enable) && json_object_array_length(enable)) {
		struct json_object *name = json_object_array_get_idx(enable, 0);

		return kr_control_fail(err, NULL, "capability '%.*s' is not available",
				       KR_CONTROL_QUOTE, json_object_get_string(name));
	}
	pthread_mutex_lock(&c->ctl->lock);
	c->negotiated = true;
	pthread_mutex_unlock(&c->ctl->lock);
	return 0;
}

static int kr_query_version(struct kr_control_client *c, struct json_object *args,
			    struct json_object **ret, struct kr_control_error *err)
{
	(void)args;
	(void)err;
	*ret = kr_control_version(c->ctl);
	return 0;
}

static int kr_query_commands(struct kr_control_client *c, struct json_object *args,
			     struct json_object **ret, struct kr_control_error *err)
{
	struct json_object *a = json_object_new_array();

	(void)args;
	(void)err;
	for (size_t i = 0; i < KR_ARRAY_LEN(kr_cmds); i++) {
		struct json_object *o;

		if (!kr_cmd_exists(c->ctl, &kr_cmds[i]))
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(kr_cmds[i].name));
		json_object_array_add(a, o);
	}
	*ret = a;
	return 0;
}

static const char *const kr_type_names[] = {
	[KR_ARG_UINT] = "an integer from 0 to 2147483647",
	[KR_ARG_STR] = "a string",
	[KR_ARG_STR_ARRAY] = "an array of strings",
	[KR_ARG_BOOL] = "true or false",
};

static bool kr_arg_type_ok(enum kr_arg_type type, struct json_object *v)
{
	int64_t i;

	switch (type) {
	case KR_ARG_UINT:
		if (!json_object_is_type(v, json_type_int))
			return false;
		i = json_object_get_int64(v);
		return i >= 0 && i <= INT32_MAX;
	case KR_ARG_STR:
		return json_object_is_type(v, json_type_string);
	case KR_ARG_BOOL:
		return json_object_is_type(v, json_type_boolean);
	case KR_ARG_STR_ARRAY:
		if (!json_object_is_type(v, json_type_array))
			return false;
		for (size_t k = 0; k < json_object_array_length(v); k++)
			if (!json_object_is_type(json_object_array_get_idx(v, k), json_type_string))
				return false;
		return true;
	}
	return false;
}

static int kr_check_args(const struct kr_cmd *cmd, struct json_object *args,
			 struct kr_control_error *err)
{
	struct json_object_iter it;

	json_object_object_foreachC(args, it) {
		const struct kr_arg *a = NULL;

		for (size_t k = 0; k < KR_ARRAY_LEN(cmd->args); k++)
			if (cmd->args[k].name && !strcmp(cmd->args[k].name, it.key))
				a = &cmd->args[k];
		if (!a)
			return kr_control_fail(err, NULL, "%s has no parameter '%.*s'", cmd->name,
					       KR_CONTROL_QUOTE, it.key);
		if (!kr_arg_type_ok(a->type, it.val))
			return kr_control_fail(err, NULL, "parameter '%s' must be %s", a->name,
					       kr_type_names[a->type]);
	}
	return 0;
}

/*
 * One request: 0 with *ret (NULL for {}), or -1 with err.  The checks are
 * those of the protocol document's "Errors" section, in its order.
 */
static int kr_execute(struct kr_control_client *c, struct json_object *req,
		      struct json_object **ret, struct kr_control_error *err)
{
	struct kr_control *ctl = c->ctl;
	struct json_object *exe = NULL, *args = NULL, *empty;
	const struct kr_cmd *cmd = NULL;
	struct json_object_iter it;
	const char *name;
	bool negotiated;
	int r;

	if (!json_object_is_type(req, json_type_object))
		return kr_control_fail(err, NULL, "a command must be a JSON object");
	json_object_object_foreachC(req, it)
		if (strcmp(it.key, "execute") && strcmp(it.key, "arguments") &&
		    strcmp(it.key, "id"))
			return kr_control_fail(err, NULL, "unexpected member '%.*s'",
					       KR_CONTROL_QUOTE, it.key);
	if (!json_object_object_get_ex(req, "execute", &exe))
		return kr_control_fail(err, NULL, "member 'execute' is missing");
	if (!json_object_is_type(exe, json_type_string))
		return kr_control_fail(err, NULL, "member 'execute' must be a string");
	if (json_object_object_get_ex(req, "arguments", &args) &&
	    !json_object_is_type(args, json_type_object))
		return kr_control_fail(err, NULL, "member 'arguments' must be an object");
	name = json_object_get_string(exe);
	/* A NUL inside the name would make it look like a shorter one. */
	if (strlen(name) == (size_t)json_object_get_string_len(exe))
		for (size_t i = 0; i < KR_ARRAY_LEN(kr_cmds); i++)
			if (!strcmp(kr_cmds[i].name, name) && kr_cmd_exists(ctl, &kr_cmds[i]))
				cmd = &kr_cmds[i];
	pthread_mutex_lock(&ctl->lock);
	negotiated = c->negotiated;
	pthread_mutex_unlock(&ctl->lock);
	if (!negotiated && (!cmd || cmd->builtin != kr_qmp_capabilities))
		return kr_control_fail(err, KR_CONTROL_NOT_FOUND,
				       "send qmp_capabilities before any other command");
	if (negotiated && cmd && cmd->builtin == kr_qmp_capabilities)
		return kr_control_fail(err, KR_CONTROL_NOT_FOUND,
				       "capabilities are already negotiated");
	if (!cmd)
		return kr_control_fail(err, KR_CONTROL_NOT_FOUND, "no command '%.*s'",
				       KR_CONTROL_QUOTE, name);
	empty = args ? NULL : json_object_new_object();
	if (!args)
		args = empty;
	r = kr_check_args(cmd, args, err);
	if (!r) {
		err->class = NULL;
		err->desc[0] = '\0';
		const char *no = cmd->builtin || !ctl->ops->refuse ? NULL :
				 ctl->ops->refuse(ctl->opaque, cmd->name);

		if (no)
			r = kr_control_fail(err, NULL, "%s", no);
		else if (cmd->builtin)
			r = cmd->builtin(c, args, ret, err);
		else
			r = kr_cmd_op(ctl, cmd)(ctl->opaque, args, ret, err);
		if (r && !err->desc[0])
			snprintf(err->desc, sizeof(err->desc), "%s failed", cmd->name);
	}
	json_object_put(empty);
	return r ? -1 : 0;
}

/* The reply to one request (req NULL: it was not JSON; why says so). */
static void kr_reply(struct kr_control_client *c, struct json_object *req, int r,
		     struct json_object *ret, const struct kr_control_error *err)
{
	struct json_object *o = json_object_new_object();
	struct json_object *id;
	const char *s;

	if (!r) {
		json_object_object_add(o, "return", ret ? ret : json_object_new_object());
	} else {
		struct json_object *e = json_object_new_object();

		json_object_put(ret);
		json_object_object_add(e, "class",
				       json_object_new_string(err->class ? err->class
									 : KR_CONTROL_GENERIC));
		json_object_object_add(e, "desc", json_object_new_string(err->desc));
		json_object_object_add(o, "error", e);
	}
	if (json_object_is_type(req, json_type_object) &&
	    json_object_object_get_ex(req, "id", &id))
		json_object_object_add(o, "id", json_object_get(id));
	s = json_object_to_json_string_ext(o, KR_CONTROL_JSON_FLAGS);
	/* Room for any one reply, given the input waits above OUT_SOFT. */
	if (s && strlen(s) > KR_CONTROL_OUT_MAX - KR_CONTROL_OUT_SOFT - 1) {
		struct kr_control_error big;

		json_object_put(o);
		kr_control_fail(&big, NULL, "the reply is too large");
		kr_reply(c, req, -1, NULL, &big);
		return;
	}
	kr_emit(c, o);
	json_object_put(o);
}

static void kr_run_line(struct kr_control_client *c, char *line, size_t n)
{
	struct json_tokener *tok = c->ctl->tok;
	struct kr_control_error err = { NULL, "" };
	struct json_object *req, *ret = NULL;
	enum json_tokener_error jerr;
	size_t i;
	int r;

	for (i = 0; i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'); i++)
		;
	if (i == n)
		return;		/* blank lines are allowed, and ignored */
	if (memchr(line, '\0', n)) {
		kr_control_fail(&err, NULL, "the line holds a NUL byte");
		kr_reply(c, NULL, -1, NULL, &err);
		return;
	}
	json_tokener_reset(tok);
	/* The NUL after the line is its end (a number needs one to end). */
	req = json_tokener_parse_ex(tok, line, (int)n + 1);
	jerr = json_tokener_get_error(tok);
	if (jerr != json_tokener_success) {
		kr_control_fail(&err, NULL, "malformed JSON: %s", json_tokener_error_desc(jerr));
		kr_reply(c, NULL, -1, NULL, &err);
		return;
	}
	r = kr_execute(c, req, &ret, &err);
	kr_reply(c, req, r, ret, &err);
	json_object_put(req);
}

/* ---- input -------------------------------------------------------------- */

static bool kr_blocked(struct kr_control_client *c)
{
	bool b;

	pthread_mutex_lock(&c->ctl->lock);
	b = c->dead || kr_pending(c) > KR_CONTROL_OUT_SOFT;
	pthread_mutex_unlock(&c->ctl->lock);
	return b;
}

/* n new bytes are at in[in_len..]: keep them, minus an over-long line's rest. */
static void kr_absorb(struct kr_control_client *c, size_t n)
{
	char *p = c->in + c->in_len;

	if (c->discarding) {
		char *nl = memchr(p, '\n', n);

		if (!nl)
			return;
		c->discarding = false;
		n -= nl + 1 - p;
		memmove(p, nl + 1, n);
	}
	c->in_len += n;
}

/* Run the complete lines held; sets c->stalled when output must drain first. */
static void kr_run_lines(struct kr_control_client *c)
{
	size_t start = 0, from = c->scan;

	c->stalled = false;
	for (;;) {
		char *nl;
		size_t n;

		if (kr_blocked(c)) {
			c->stalled = true;
			break;
		}
		nl = memchr(c->in + from, '\n', c->in_len - from);
		if (!nl) {
			from = c->in_len;
			break;
		}
		n = nl - (c->in + start);
		*nl = '\0';
		kr_run_line(c, c->in + start, n);
		start = from = start + n + 1;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	c->scan = from - start;
	if (!c->stalled && c->in_len == sizeof(c->in)) {
		struct kr_control_error err;

		kr_control_fail(&err, NULL, "line longer than %d bytes: dropped",
				KR_CONTROL_MAX_LINE - 1);
		kr_reply(c, NULL, -1, NULL, &err);
		c->in_len = c->scan = 0;
		c->discarding = true;
	}
}

size_t kr_control_feed(struct kr_control_client *c, const void *buf, size_t len)
{
	size_t done = 0;

	if (kr_control_client_dead(c))
		return len;
	for (;;) {
		size_t n;

		kr_run_lines(c);
		if (c->stalled || done == len)
			return c->stalled && kr_control_client_dead(c) ? len : done;
		n = sizeof(c->in) - c->in_len;
		if (n > len - done)
			n = len - done;
		memcpy(c->in + c->in_len, (const char *)buf + done, n);	/* n > 0 here */
		kr_absorb(c, n);
		done += n;
	}
}

/* ---- clients on the loop ------------------------------------------------ */

static struct kr_control_client *kr_client_alloc(struct kr_control *ctl, int fd)
{
	struct kr_control_client *c = calloc(1, sizeof(*c));
	struct json_object *g, *k;

	if (!c)
		return NULL;
	c->ctl = ctl;
	c->fd = fd;
	g = json_object_new_object();
	k = json_object_new_object();
	json_object_object_add(k, "version", kr_control_version(ctl));
	json_object_object_add(k, "capabilities", json_object_new_array());
	json_object_object_add(g, "KHV", k);
	kr_emit(c, g);
	json_object_put(g);
	return c;
}

/* Under ctl->lock: false when the list is full. */
static bool kr_client_link(struct kr_control *ctl, struct kr_control_client *c)
{
	if (ctl->n_clients >= KR_CONTROL_MAX_CLIENTS)
		return false;
	c->id = ++ctl->next_id;
	c->next = ctl->clients;
	ctl->clients = c;
	ctl->n_clients++;
	return true;
}

static void kr_client_unlink(struct kr_control *ctl, struct kr_control_client *c)
{
	for (struct kr_control_client **p = &ctl->clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			ctl->n_clients--;
			return;
		}
}

static void kr_client_free(struct kr_control_client *c)
{
	free(c->out);
	free(c);
}

/* The loop's thread: disconnect c (why NULL: quietly). */
static void kr_client_drop(struct kr_control_client *c, const char *why)
{
	struct kr_control *ctl = c->ctl;

	pthread_mutex_lock(&ctl->lock);
	if (c->closing) {
		pthread_mutex_unlock(&ctl->lock);
		return;
	}
	kr_client_unlink(ctl, c);
	pthread_mutex_unlock(&ctl->lock);
	kr_loop_del(ctl->loop, c->fd);
	close(c->fd);
	if (why)
		fprintf(stderr, "khv-run: control client %u disconnected: %s\n", c->id, why);
	if (ctl->accept_paused && !kr_loop_mod(ctl->loop, ctl->lfd, EPOLLIN))
		ctl->accept_paused = false;
	kr_client_free(c);
}

/*
 * The loop's thread, after anything happened to c: send, run lines that
 * waited for the output to drain, ask the loop for what c waits for.
 */
static void kr_client_service(struct kr_control_client *c)
{
	uint32_t want;
	bool dead;
	size_t pending;
	int r;

	for (;;) {
		r = kr_flush(c);
		if (r) {
			kr_client_drop(c, NULL);	/* EPIPE, ECONNRESET: it left */
			return;
		}
		pthread_mutex_lock(&c->ctl->lock);
		dead = c->dead;
		pending = kr_pending(c);
		pthread_mutex_unlock(&c->ctl->lock);
		if (dead) {
			kr_client_drop(c, "it did not read its output (over 1 MiB pending)");
			return;
		}
		if (!c->stalled || pending > KR_CONTROL_OUT_SOFT)
			break;
		kr_run_lines(c);
	}
	if (c->eof && !pending) {
		kr_client_drop(c, NULL);
		return;
	}
	want = (c->stalled || c->eof ? 0 : EPOLLIN) | (pending ? EPOLLOUT : 0);
	if (want != c->events && !kr_loop_mod(c->ctl->loop, c->fd, want))
		c->events = want;
}

static void kr_client_cb(void *opaque, int fd, uint32_t events)
{
	struct kr_control_client *c = opaque;

	/* Bounded work per wake-up: the other fds of the loop wait meanwhile. */
	for (int i = 0; i < 4 && !c->stalled && !c->eof; i++) {
		ssize_t r = read(fd, c->in + c->in_len, sizeof(c->in) - c->in_len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0) {
			kr_client_drop(c, NULL);
			return;
		}
		if (r == 0) {
			c->eof = true;	/* a partial last line is not a command */
			break;
		}
		kr_absorb(c, r);
		kr_run_lines(c);
	}
	/* Hung up while we were not reading: nobody will read the output. */
	if ((events & (EPOLLHUP | EPOLLERR)) && c->stalled) {
		kr_client_drop(c, NULL);
		return;
	}
	kr_client_service(c);
}

static void kr_refuse(int fd)
{
	struct json_object *o = json_object_new_object();
	struct json_object *e = json_object_new_object();
	char desc[64];
	const char *s;

	snprintf(desc, sizeof(desc), "too many clients (at most %d)", KR_CONTROL_MAX_CLIENTS);
	json_object_object_add(e, "class", json_object_new_string(KR_CONTROL_GENERIC));
	json_object_object_add(e, "desc", json_object_new_string(desc));
	json_object_object_add(o, "error", e);
	s = json_object_to_json_string_ext(o, KR_CONTROL_JSON_FLAGS);
	if (s && send(fd, s, strlen(s), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
		send(fd, "\n", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	json_object_put(o);
	close(fd);
}

static void kr_accept_cb(void *opaque, int lfd, uint32_t events)
{
	struct kr_control *ctl = opaque;

	(void)events;
	for (int i = 0; i < 16; i++) {
		struct kr_control_client *c;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		bool linked;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* EMFILE and such: the connection stays queued, so stop listening. */
			fprintf(stderr, "khv-run: control socket: accept: %s; paused\n",
				strerror(errno));
			if (!kr_loop_mod(ctl->loop, lfd, 0))
				ctl->accept_paused = true;
			return;
		}
		c = kr_client_alloc(ctl, fd);
		if (!c) {
			close(fd);
			continue;
		}
		pthread_mutex_lock(&ctl->lock);
		linked = kr_client_link(ctl, c);
		pthread_mutex_unlock(&ctl->lock);
		if (!linked) {
			fprintf(stderr, "khv-run: control socket: client refused, %d connected\n",
				KR_CONTROL_MAX_CLIENTS);
			kr_client_free(c);
			kr_refuse(fd);
			continue;
		}
		c->events = EPOLLIN;
		if (kr_loop_add(ctl->loop, fd, EPOLLIN, kr_client_cb, c)) {
			pthread_mutex_lock(&ctl->lock);
			kr_client_unlink(ctl, c);
			pthread_mutex_unlock(&ctl->lock);
			close(fd);
			kr_client_free(c);
			continue;
		}
		kr_client_service(c);	/* the greeting */
	}
}

/* Output queued by another thread: send it, drop who overflowed. */
static void kr_wake_cb(void *opaque, int fd, uint32_t events)
{
	struct kr_control *ctl = opaque;
	struct kr_control_client *list[KR_CONTROL_MAX_CLIENTS];
	unsigned int n = 0;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* already drained */
	}
	/* Only this thread frees them: the pointers stay good. */
	pthread_mutex_lock(&ctl->lock);
	for (struct kr_control_client *c = ctl->clients; c && n < KR_ARRAY_LEN(list); c = c->next)
		if (c->fd >= 0)
			list[n++] = c;
	pthread_mutex_unlock(&ctl->lock);
	for (unsigned int i = 0; i < n; i++)
		kr_client_service(list[i]);
}

/* ---- events ------------------------------------------------------------- */

void kr_control_event(struct kr_control *ctl, const char *name, struct json_object *data)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ts = json_object_new_object();
	struct timespec now;
	const char *s;
	uint64_t one = 1;

	clock_gettime(CLOCK_REALTIME, &now);
	json_object_object_add(o, "event", kr_str(name));
	if (data)
		json_object_object_add(o, "data", data);
	json_object_object_add(ts, "seconds", json_object_new_int64(now.tv_sec));
	json_object_object_add(ts, "microseconds", json_object_new_int64(now.tv_nsec / 1000));
	json_object_object_add(o, "timestamp", ts);
	s = json_object_to_json_string_ext(o, KR_CONTROL_JSON_FLAGS);
	if (s) {
		size_t n = strlen(s);

		pthread_mutex_lock(&ctl->lock);
		for (struct kr_control_client *c = ctl->clients; c; c = c->next)
			if (c->negotiated)
				kr_append_locked(c, s, n);
		pthread_mutex_unlock(&ctl->lock);
	}
	json_object_put(o);
	if (ctl->evfd >= 0 && write(ctl->evfd, &one, sizeof(one)) < 0) {
		/* the counter is already high: the loop will wake */
	}
}

unsigned int kr_control_clients(struct kr_control *ctl)
{
	unsigned int n;

	pthread_mutex_lock(&ctl->lock);
	n = ctl->n_clients;
	pthread_mutex_unlock(&ctl->lock);
	return n;
}

/* ---- socketless clients ------------------------------------------------- */

struct kr_control_client *kr_control_client_new(struct kr_control *ctl)
{
	struct kr_control_client *c = kr_client_alloc(ctl, -1);
	bool linked;

	if (!c)
		return NULL;
	pthread_mutex_lock(&ctl->lock);
	linked = kr_client_link(ctl, c);
	pthread_mutex_unlock(&ctl->lock);
	if (!linked) {
		kr_client_free(c);
		return NULL;
	}
	return c;
}

void kr_control_client_free(struct kr_control_client *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->ctl->lock);
	kr_client_unlink(c->ctl, c);
	pthread_mutex_unlock(&c->ctl->lock);
	kr_client_free(c);
}

size_t kr_control_client_read(struct kr_control_client *c, char *buf, size_t cap)
{
	size_t n;

	pthread_mutex_lock(&c->ctl->lock);
	n = kr_pending(c);
	if (n > cap)
		n = cap;
	if (n)
		memcpy(buf, c->out + c->out_head, n);
	c->out_head += n;
	if (c->out_head == c->out_len)
		c->out_head = c->out_len = 0;
	pthread_mutex_unlock(&c->ctl->lock);
	return n;
}

bool kr_control_client_dead(struct kr_control_client *c)
{
	bool d;

	pthread_mutex_lock(&c->ctl->lock);
	d = c->dead;
	pthread_mutex_unlock(&c->ctl->lock);
	return d;
}

/* ---- the socket --------------------------------------------------------- */

/* Refuse a path that is not a socket or has a live server; clear a stale one. */
static int kr_listen(struct kr_control *ctl, const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (!*path)
		return -EINVAL;
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	if (!lstat(path, &st)) {
		int probe, r, e;

		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		/* Non-blocking: a live server with a full backlog answers EAGAIN. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (probe < 0)
			return -errno;
		r = connect(probe, (struct sockaddr *)&a, sizeof(a));
		e = errno;
		close(probe);
		if (!r || e == EAGAIN || e == EINPROGRESS)
			return -EADDRINUSE;
		if (e != ECONNREFUSED && e != ENOENT)
			return -e;
		if (unlink(path) && errno != ENOENT)
			return -errno;
	} else if (errno != ENOENT) {
		return -errno;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	/* Whoever connects can stop the VM: the owner only, whatever the umask. */
	if (chmod(path, 0600) || lstat(path, &st) || listen(fd, KR_CONTROL_MAX_CLIENTS)) {
		ret = -errno;
		unlink(path);
		close(fd);
		return ret;
	}
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	ctl->lfd = fd;
	return 0;
}

static void kr_unlink_ours(struct kr_control *ctl)
{
	struct stat st;

	if (ctl->path && !lstat(ctl->path, &st) && st.st_dev == ctl->dev &&
	    st.st_ino == ctl->ino)
		unlink(ctl->path);
}

int kr_control_open(const char *path, struct kr_loop *loop, const struct kr_control_ops *ops,
		    void *opaque, struct kr_control **out)
{
	struct kr_control *ctl;
	int ret = -ENOMEM;

	*out = NULL;
	if (!ops || !path != !loop)
		return -EINVAL;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->ops = ops;
	ctl->opaque = opaque;
	ctl->loop = loop;
	ctl->lfd = ctl->evfd = -1;
	pthread_mutex_init(&ctl->lock, NULL);
	ctl->tok = json_tokener_new_ex(KR_CONTROL_DEPTH);
	if (!ctl->tok)
		goto fail;
	json_tokener_set_flags(ctl->tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	if (path) {
		ctl->path = strdup(path);
		if (!ctl->path)
			goto fail;
		ret = kr_listen(ctl, path);
		if (ret)
			goto fail;
		ctl->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (ctl->evfd < 0) {
			ret = -errno;
			goto fail;
		}
		ret = kr_loop_add(loop, ctl->evfd, EPOLLIN, kr_wake_cb, ctl);
		if (ret)
			goto fail;
		ret = kr_loop_add(loop, ctl->lfd, EPOLLIN, kr_accept_cb, ctl);
		if (ret) {
			kr_loop_del(loop, ctl->evfd);
			goto fail;
		}
	}
	*out = ctl;
	return 0;
fail:
	if (ctl->lfd >= 0) {
		close(ctl->lfd);
		kr_unlink_ours(ctl);
	}
	if (ctl->evfd >= 0)
		close(ctl->evfd);
	if (ctl->tok)
		json_tokener_free(ctl->tok);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl->path);
	free(ctl);
	return ret;
}

void kr_control_close(struct kr_control *ctl)
{
	if (!ctl)
		return;
	if (ctl->loop) {
		kr_loop_del(ctl->loop, ctl->lfd);
		kr_loop_del(ctl->loop, ctl->evfd);
	}
	for (;;) {
		struct kr_control_client *c;

		pthread_mutex_lock(&ctl->lock);
		c = ctl->clients;
		if (c) {
			c->closing = true;
			kr_client_unlink(ctl, c);
		}
		pthread_mutex_unlock(&ctl->lock);
		if (!c)
			break;
		if (c->fd >= 0) {
			/* Its callback may be running: kr_loop_del() waits for it. */
			kr_loop_del(ctl->loop, c->fd);
			kr_flush(c);
			close(c->fd);
		}
		kr_client_free(c);
	}
	if (ctl->lfd >= 0) {
		close(ctl->lfd);
		kr_unlink_ours(ctl);
	}
	if (ctl->evfd >= 0)
		close(ctl->evfd);
	json_tokener_free(ctl->tok);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl->path);
	free(ctl);
}
