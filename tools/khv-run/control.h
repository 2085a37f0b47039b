/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khv-run's control socket (--control PATH): a Unix stream socket speaking
 * line-delimited JSON in the manner of QEMU's QMP, for management tools.
 * The protocol is Documentation/khv/khv-run-control.rst.
 *
 * This file knows nothing of the VM.  The machine gives it a table of
 * callbacks, one per command, and an opaque pointer; the control socket
 * parses, checks and answers, and calls them.
 *
 * Threads: commands run on the I/O thread (the evloop), one at a time, so
 * a callback may block briefly (stop waits for the vCPUs to leave guest
 * mode) but every client and every device of the loop waits meanwhile; it
 * must never wait for the guest.  kr_control_event() may be called from any
 * thread, the callbacks included: it only queues the event (bounded per
 * client: a client that does not read is disconnected) and never blocks on
 * a client.
 */
#ifndef KHV_RUN_CONTROL_H
#define KHV_RUN_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;
struct kr_loop;
struct kr_control;
struct kr_control_client;

/* Limits (the protocol document states them). */
#define KR_CONTROL_MAX_LINE	65536		/* one input line, its newline included */
#define KR_CONTROL_MAX_CLIENTS	8
#define KR_CONTROL_OUT_SOFT	65536		/* more output pending: input waits */
#define KR_CONTROL_OUT_MAX	(1024 * 1024)	/* more pending: the client is dropped */

/* Error classes, as QMP names them. */
#define KR_CONTROL_GENERIC	"GenericError"
#define KR_CONTROL_NOT_FOUND	"CommandNotFound"
#define KR_CONTROL_DEV_NOT_FOUND "DeviceNotFound"

struct kr_control_error {
	const char *class;	/* KR_CONTROL_*; NULL: GenericError */
	char desc[256];
};

/*
 * One command.  args is an object (empty when the client sent none) whose
 * members control.c has already checked against the command's list (name
 * and JSON type).  On success return 0 and set *ret to a new object or
 * array, which control.c takes (NULL: an empty object).  On failure return
 * non-zero and fill err (kr_control_fail() does both).
 */
typedef int kr_control_fn(void *opaque, struct json_object *args, struct json_object **ret,
			  struct kr_control_error *err);

/*
 * The machine's side.  A NULL callback: the command does not exist (not
 * listed by query-commands, CommandNotFound).  The reply each one returns
 * is in the protocol document; the kr_control_*() builders below make its
 * parts.
 */
struct kr_control_ops {
	kr_control_fn *query_status;	/* kr_control_status() */
	kr_control_fn *stop;		/* {}, after the vCPUs left guest mode */
	kr_control_fn *cont;		/* {} */
	kr_control_fn *system_powerdown; /* {}: ACPI power button pressed */
	kr_control_fn *system_reset;	/* {} */
	kr_control_fn *quit;		/* {}: the process is ending */
	kr_control_fn *query_vcpus;	/* array of kr_control_vcpu() */
	kr_control_fn *query_block;	/* array of kr_control_disk() */
	kr_control_fn *query_blockstats; /* array of kr_control_blockstats(); args.device */
	kr_control_fn *query_exit_stats; /* array of kr_control_exit_stats(); args.vcpu */
	kr_control_fn *query_chardev;	/* array of kr_control_chardev() */
	/* {enabled, and when true host, service, family, auth, clients}: QMP's shape */
	kr_control_fn *query_vnc;
	/*
	 * args.file (required), args.quit: the VM saved to a file, paused
	 * meanwhile; then it quits (the process ends) or goes on as before.
	 * {file, bytes, pages, zero-pages, ms}.
	 */
	kr_control_fn *snapshot_save;
	/* args.uri (required): start a live migration (migrate.h); {} at once. */
	kr_control_fn *migrate;
	/* QMP's MigrationInfo: status, total-time, downtime, ram {...} */
	kr_control_fn *query_migrate;
	kr_control_fn *migrate_cancel;	/* {} */
	/* args.downtime-limit (ms) */
	kr_control_fn *migrate_set_parameters;
	/*
	 * Optional: asked before each command of the table above runs (not
	 * qmp_capabilities, query-version, query-commands).  NULL: it runs;
	 * else the reason the machine cannot take it now (a migration coming
	 * in), which the client gets as a GenericError.
	 */
	const char *(*refuse)(void *opaque, const char *command);
	/* The greeting's and query-version's answer. */
	struct {
		int major, minor, micro;
		const char *package;	/* free text, e.g. a git description */
	} version;
};

/*
 * Open the socket at path and serve it on loop: 0 or -errno.  -EEXIST when
 * path exists and is not a socket, -EADDRINUSE when a server listens there;
 * a stale socket (nobody listening) is replaced.  ops and opaque must live
 * until kr_control_close().  path NULL, loop NULL: a control without a
 * socket, whose clients are kr_control_client_new()'s (tests, fuzzing).
 */
int kr_control_open(const char *path, struct kr_loop *loop, const struct kr_control_ops *ops,
		    void *opaque, struct kr_control **ctl);
/*
 * Disconnect every client (their pending output gets one last non-blocking
 * try), stop listening, unlink the socket.  Any thread but never from a
 * control callback; no kr_control_event() may run or follow.
 */
void kr_control_close(struct kr_control *ctl);

/*
 * Send an event to every client past capabilities negotiation.  Takes data
 * (an object, or NULL for none).  Any thread; never blocks on a client.
 */
void kr_control_event(struct kr_control *ctl, const char *name, struct json_object *data);

/* Clients connected now (sockets and kr_control_client_new()'s). */
unsigned int kr_control_clients(struct kr_control *ctl);

/* Fill err (class NULL: GenericError) and return -1, for callbacks. */
int kr_control_fail(struct kr_control_error *err, const char *class, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Reply and event builders for the machine (new objects, NULL when out of
 * memory).  thread_id is the vCPU thread's Linux tid.  names[i] and
 * counts[i] are one exit counter each.
 */
struct json_object *kr_control_status(bool running, const char *status);
struct json_object *kr_control_vcpu(unsigned int index, long thread_id, bool halted);
struct json_object *kr_control_disk(const char *device, const char *file, bool read_only,
				    uint64_t size);
struct json_object *kr_control_blockstats(const char *device, uint64_t rd_bytes,
					  uint64_t wr_bytes, uint64_t rd_ops, uint64_t wr_ops,
					  uint64_t flush_ops);
struct json_object *kr_control_exit_stats(unsigned int index, const char *const *names,
					  const uint64_t *counts, size_t n);
/* A console: label "serial0" or "console0", filename e.g. "pty:/dev/pts/3". */
struct json_object *kr_control_chardev(const char *label, const char *filename);
/* SHUTDOWN's and RESET's data: who asked (the guest?) and why. */
struct json_object *kr_control_reason(bool guest, const char *reason);

/*
 * A client without a socket: the same input handling as a socket's, driven
 * by hand (unit tests, the fuzz target).  Its greeting is already pending.
 * NULL when the control has KR_CONTROL_MAX_CLIENTS clients, or no memory.
 * Only the thread that owns the loop (or the only thread, without one) may
 * feed it.
 */
struct kr_control_client *kr_control_client_new(struct kr_control *ctl);
void kr_control_client_free(struct kr_control_client *c);
/*
 * Take bytes of the client's input stream and run the complete lines among
 * them; returns how many were taken.  It stops short of len while the
 * client's pending output is above KR_CONTROL_OUT_SOFT: read some, then feed
 * the rest (feeding 0 bytes runs the lines already taken).
 */
size_t kr_control_feed(struct kr_control_client *c, const void *buf, size_t len);
/* Move up to cap bytes of pending output into buf; returns the count. */
size_t kr_control_client_read(struct kr_control_client *c, char *buf, size_t cap);
/* The client overflowed its output and is disconnected: feed does nothing. */
bool kr_control_client_dead(struct kr_control_client *c);

#endif
