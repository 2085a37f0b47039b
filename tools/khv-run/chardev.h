/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Character back ends of the consoles (the 16550A, virtio-console): where a
 * device's output goes and where its input comes from.  A spec names one:
 *
 *   stdio       stdout and stdin; on a terminal, raw mode and ^A commands
 *   pty         a new pseudo-terminal (its path for the caller to print)
 *   file:PATH   output appended to PATH (created 0644), no input
 *   unix:PATH   a listening Unix socket (0600): one client at a time gets
 *               the output and gives the input; others are turned away
 *   none        output dropped and counted, no input
 *
 * Output never blocks the caller (a vCPU thread or the I/O thread): what the
 * sink does not take at once waits in a KR_CHARDEV_OUTBUF-byte buffer that
 * the I/O thread flushes when the fd is writable; beyond that, or with no
 * sink (none, a Unix socket nobody is connected to, a sink that failed),
 * bytes are dropped and counted.
 *
 * Input is pulled by the one owner (the device) when it has room: it says
 * so with kr_chardev_want_input(); the chardev then watches the input fd
 * and calls the owner's input callback on the I/O thread, which takes
 * bytes with kr_chardev_read().  While the owner wants none the fd is not
 * read at all, so the bytes wait in the kernel (flow control, nothing lost).
 *
 * stdio on a terminal: the terminal goes to raw mode (no echo, no line
 * editing, no signals: ^C and ^Z go to the guest; no output processing)
 * until kr_chardev_destroy(), or exit() if destroy is never reached (an
 * atexit handler).  Typing ^A then a command letter talks to khv-run:
 *   ^A x    quit (the quit callback; the machine stops the VM)
 *   ^A ^A   send one ^A to the guest
 *   ^A h    print these commands
 *   ^A c    any other byte: ^A and c both go to the guest
 *
 * stdio sets stdin and stdout non-blocking until destroy (on a terminal
 * this is the shared file description, stderr's too).  Only one chardev at
 * a time may be on stdio.  Writing to a pipe whose reader went away raises
 * SIGPIPE: the process must ignore it (sockets are written with
 * MSG_NOSIGNAL).
 */
#ifndef KHV_RUN_CHARDEV_H
#define KHV_RUN_CHARDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evloop.h"

#define KR_CHARDEV_OUTBUF	65536	/* output backlog while the sink is slow */
#define KR_CHARDEV_ESC		0x01	/* ^A */

enum kr_chardev_kind {
	KR_CHARDEV_NONE,
	KR_CHARDEV_STDIO,
	KR_CHARDEV_PTY,
	KR_CHARDEV_FILE,
	KR_CHARDEV_UNIX,
	KR_CHARDEV_FDS,		/* kr_chardev_open_fds() */
};

struct kr_chardev_stats {
	uint64_t tx_bytes;	/* written to the sink */
	uint64_t tx_dropped;	/* buffer full, no sink, sink failed */
	uint64_t rx_bytes;	/* given to the owner */
	uint64_t rx_dropped;	/* unix: unread input of a client that hung up */
	uint64_t connects;	/* unix: clients accepted */
	uint64_t refused;	/* unix: clients turned away while one was connected */
};

struct kr_chardev;

/* Check a spec without opening anything: 0, or -EINVAL and a sentence in why. */
int kr_chardev_parse(const char *spec, char *why, size_t why_len);
/*
 * Open the back end a spec names.  loop: the I/O thread's loop; without
 * one (NULL) there is no input and the output backlog is flushed on the
 * next write only (unix: needs a loop).  NULL with errno and a sentence in
 * why (EINVAL: a bad spec; EBUSY: stdio already taken).
 */
struct kr_chardev *kr_chardev_open(const char *spec, struct kr_loop *loop, char *why,
				   size_t why_len);

/* kr_chardev_open_fds() flags. */
#define KR_CHARDEV_OWN_FDS	0x1	/* destroy closes in_fd and out_fd */
#define KR_CHARDEV_RAW		0x2	/* in_fd a terminal: raw mode until destroy */
#define KR_CHARDEV_ESCAPES	0x4	/* ^A commands in the input */
/*
 * On fds the caller opened (-1: none; in_fd and out_fd may be the same fd),
 * which should be non-blocking or regular files.  NULL with errno.
 */
struct kr_chardev *kr_chardev_open_fds(int in_fd, int out_fd, struct kr_loop *loop,
				       unsigned int flags);
/*
 * Flushes what it can without blocking, restores the terminal, closes what
 * it opened and unlinks the socket it made.  Not while the owner is still
 * attached and may write.  NULL is allowed.
 */
void kr_chardev_destroy(struct kr_chardev *c);

enum kr_chardev_kind kr_chardev_kind(const struct kr_chardev *c);
/* pty: /dev/pts/N; file, unix: PATH; else NULL. */
const char *kr_chardev_path(const struct kr_chardev *c);
/* stdio on a terminal (or KR_CHARDEV_RAW took): its size, true; else false. */
bool kr_chardev_winsize(struct kr_chardev *c, uint16_t *cols, uint16_t *rows);

/*
 * The owner.  Its input callback runs on the I/O thread with no lock of the
 * chardev held, when input may be there: the input fd became readable (or
 * hung up), a client connected, or want_input just went from false to true.
 * It must then either take bytes (kr_chardev_read(): 0 means nothing now)
 * or say it wants no more; the fd stays watched while it wants input.
 * Attaching NULL detaches: on return the callback is not running and will
 * not run.  Not from inside the callback, nor with a lock the callback takes.
 */
typedef void kr_chardev_input_fn(void *opaque);
void kr_chardev_attach(struct kr_chardev *c, kr_chardev_input_fn *fn, void *opaque);
/* Any thread, never blocks.  The owner may hold its own lock (owner -> chardev). */
void kr_chardev_write(struct kr_chardev *c, const void *buf, size_t len);
void kr_chardev_want_input(struct kr_chardev *c, bool want);
/* From the input callback only: up to len input bytes, after ^A commands. */
size_t kr_chardev_read(struct kr_chardev *c, void *buf, size_t len);

/* ^A x: fn(opaque) on the I/O thread with no chardev lock held. */
void kr_chardev_set_quit(struct kr_chardev *c, void (*fn)(void *opaque), void *opaque);
void kr_chardev_get_stats(struct kr_chardev *c, struct kr_chardev_stats *st);

/*
 * Put every terminal a chardev made raw back the way it was (and its fd
 * flags): the atexit handler, for a destroy that never came.  Also for
 * tests.
 */
void kr_chardev_restore_terminals(void);

#endif
