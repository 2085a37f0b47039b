// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target of the control socket's input (control.c): the bytes are one
 * client's input stream, run through the line splitter and the command
 * dispatcher of a socketless client (kr_control_feed), with callbacks that
 * answer like a machine would, events included.
 *
 * Byte 0 says how (so that seeds stay text: '@' is whole, negotiated):
 *   bits 0-5  feed in chunks of that many bytes (0: all at once)
 *   bit 6     send qmp_capabilities first
 *   bit 7     read the output only when feed stops taking input (backlog)
 * The rest is the stream.
 *
 * Checked beyond the sanitizers: every output line is a JSON object with
 * exactly one of "return", "error", "event", "KHV"; an error has string
 * "class" and "desc"; the input is always taken whole in the end.
 *
 * Built with clang -fsanitize=fuzzer; with -DKR_FUZZ_REPLAY instead, a main()
 * runs each file named on the command line once (no clang: make fuzz).
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct kr_control *ctl;
static int running = 1;

static int fz_status(void *o, struct json_object *args, struct json_object **ret,
		     struct kr_control_error *err)
{
	(void)o;
	(void)args;
	(void)err;
	*ret = kr_control_status(running, running ? "running" : "paused");
	return 0;
}

static int fz_event(const char *name, struct json_object *data)
{
	kr_control_event(ctl, name, data);
	return 0;
}

static int fz_stop(void *o, struct json_object *args, struct json_object **ret,
		   struct kr_control_error *err)
{
	(void)o, (void)args, (void)ret, (void)err;
	running = 0;
	return fz_event("STOP", NULL);
}

static int fz_cont(void *o, struct json_object *args, struct json_object **ret,
		   struct kr_control_error *err)
{
	(void)o, (void)args, (void)ret, (void)err;
	running = 1;
	return fz_event("RESUME", NULL);
}

static int fz_powerdown(void *o, struct json_object *args, struct json_object **ret,
			struct kr_control_error *err)
{
	(void)o, (void)args, (void)ret, (void)err;
	return fz_event("POWERDOWN", NULL);
}

static int fz_reset(void *o, struct json_object *args, struct json_object **ret,
		    struct kr_control_error *err)
{
	(void)o, (void)args, (void)ret, (void)err;
	return fz_event("RESET", kr_control_reason(false, "host-qmp-system-reset"));
}

static int fz_quit(void *o, struct json_object *args, struct json_object **ret,
		   struct kr_control_error *err)
{
	(void)o, (void)args, (void)ret, (void)err;
	return fz_event("SHUTDOWN", kr_control_reason(false, "host-qmp-quit"));
}

static int fz_vcpus(void *o, struct json_object *args, struct json_object **ret,
		    struct kr_control_error *err)
{
	struct json_object *a = json_object_new_array();

	(void)o, (void)args, (void)err;
	for (unsigned int i = 0; i < 4; i++)
		json_object_array_add(a, kr_control_vcpu(i, 1000 + i, i & 1));
	*ret = a;
	return 0;
}

static int fz_block(void *o, struct json_object *args, struct json_object **ret,
		    struct kr_control_error *err)
{
	struct json_object *a = json_object_new_array();

	(void)o, (void)args, (void)err;
	json_object_array_add(a, kr_control_disk("vda", "/dev/null", true, 0));
	*ret = a;
	return 0;
}

static int fz_bstats(void *o, struct json_object *args, struct json_object **ret,
		     struct kr_control_error *err)
{
	struct json_object *dev, *a;

	(void)o;
	if (json_object_object_get_ex(args, "device", &dev) &&
	    strcmp(json_object_get_string(dev), "vda"))
		return kr_control_fail(err, KR_CONTROL_DEV_NOT_FOUND, "no disk '%.32s'",
				       json_object_get_string(dev));
	a = json_object_new_array();
	json_object_array_add(a, kr_control_blockstats("vda", 1, 2, 3, 4, 5));
	*ret = a;
	return 0;
}

static int fz_exits(void *o, struct json_object *args, struct json_object **ret,
		    struct kr_control_error *err)
{
	static const char *const names[] = { "io", "mmio" };
	static const uint64_t counts[] = { 1, ~0ull };
	struct json_object *v, *a;

	(void)o;
	if (json_object_object_get_ex(args, "vcpu", &v) && json_object_get_int(v) > 3)
		return kr_control_fail(err, NULL, "no vCPU %d", json_object_get_int(v));
	a = json_object_new_array();
	json_object_array_add(a, kr_control_exit_stats(0, names, counts, 2));
	*ret = a;
	return 0;
}

static int fz_chardev(void *o, struct json_object *args, struct json_object **ret,
		      struct kr_control_error *err)
{
	(void)o, (void)args, (void)err;
	*ret = json_object_new_array();
	json_object_array_add(*ret, kr_control_chardev("serial0", "pty:/dev/pts/0"));
	return 0;
}

static const struct kr_control_ops fz_ops = {
	.query_status = fz_status,
	.stop = fz_stop,
	.cont = fz_cont,
	.system_powerdown = fz_powerdown,
	.system_reset = fz_reset,
	.quit = fz_quit,
	.query_vcpus = fz_vcpus,
	.query_block = fz_block,
	.query_blockstats = fz_bstats,
	.query_exit_stats = fz_exits,
	.query_chardev = fz_chardev,
	.version = { 1, 2, 3, "fuzz" },
};

static void fz_check_line(const char *s, size_t n)
{
	static const char *const kinds[] = { "return", "error", "event", "KHV" };
	struct json_object *o = json_tokener_parse(s), *e, *v;
	int k = 0;

	if (!json_object_is_type(o, json_type_object)) {
		fprintf(stderr, "output line is not a JSON object: %.*s\n", (int)n, s);
		abort();
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		k += json_object_object_get_ex(o, kinds[i], &v);
	if (k != 1) {
		fprintf(stderr, "output line of %d kinds: %.*s\n", k, (int)n, s);
		abort();
	}
	if (json_object_object_get_ex(o, "error", &e) &&
	    (!json_object_object_get_ex(e, "class", &v) ||
	     !json_object_is_type(v, json_type_string) ||
	     !json_object_object_get_ex(e, "desc", &v) ||
	     !json_object_is_type(v, json_type_string))) {
		fprintf(stderr, "error without class and desc: %.*s\n", (int)n, s);
		abort();
	}
	json_object_put(o);
}

/* Read all pending output and check it line by line; returns its length. */
static size_t fz_drain(struct kr_control_client *c)
{
	static char buf[KR_CONTROL_OUT_MAX + 1];
	size_t n = 0, r, start = 0;

	while (n < KR_CONTROL_OUT_MAX && (r = kr_control_client_read(c, buf + n,
								 KR_CONTROL_OUT_MAX - n)))
		n += r;
	for (char *nl; (nl = memchr(buf + start, '\n', n - start)); start = nl + 1 - buf) {
		*nl = '\0';
		fz_check_line(buf + start, nl - (buf + start));
	}
	if (start != n) {
		fprintf(stderr, "output ends without a newline\n");
		abort();
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char nego[] = "{\"execute\": \"qmp_capabilities\"}\n";
	struct kr_control_client *c;
	size_t chunk, done = 0;
	uint8_t mode;

	if (!size)
		return 0;
	if (!ctl && kr_control_open(NULL, NULL, &fz_ops, NULL, &ctl))
		abort();
	running = 1;
	mode = data[0];
	data++;
	size--;
	chunk = mode & 0x3f;
	c = kr_control_client_new(ctl);
	if (!c)
		abort();
	if ((mode & 0x40) && kr_control_feed(c, nego, sizeof(nego) - 1) != sizeof(nego) - 1)
		abort();
	fz_drain(c);
	for (;;) {
		size_t want = chunk && size - done > chunk ? chunk : size - done;
		size_t n = kr_control_feed(c, data + done, want), got = 0;

		if (n > want)
			abort();
		done += n;
		/* Backlog mode reads only once feed stops taking input. */
		if (!(mode & 0x80) || n < want || done == size)
			got = fz_drain(c);
		if (kr_control_client_dead(c))
			break;
		/* Lines wait only while output is pending: none came, none wait. */
		if (done == size && !got)
			break;
	}
	if (done != size && !kr_control_client_dead(c))
		abort();
	kr_control_client_free(c);
	return 0;
}

#define KR_FUZZ_REPLAY_END	kr_control_close(ctl)
#include "fuzz_replay.h"
