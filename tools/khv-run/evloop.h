/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The I/O thread's loop: epoll over the fds devices and the control socket
 * register (ioeventfds, taps, consoles, sockets), each with its callback.
 * Callbacks run on the loop's thread, one at a time.  Adding and removing
 * fds is allowed from any thread, and from inside a callback.
 */
#ifndef KHV_RUN_EVLOOP_H
#define KHV_RUN_EVLOOP_H

#include <stdint.h>

struct kr_loop;
/* events: EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR as epoll reported them. */
typedef void kr_fd_fn(void *opaque, int fd, uint32_t events);

struct kr_loop *kr_loop_new(void);
void kr_loop_free(struct kr_loop *l);
/* 0 or -errno.  events as for epoll_ctl (EPOLLIN, EPOLLOUT...). */
int kr_loop_add(struct kr_loop *l, int fd, uint32_t events, kr_fd_fn *fn, void *opaque);
int kr_loop_mod(struct kr_loop *l, int fd, uint32_t events);
/* After it returns the callback of fd is not running and will not run. */
int kr_loop_del(struct kr_loop *l, int fd);
/*
 * Run until kr_loop_stop() (one made before the call counts); 0, or -errno
 * when epoll itself failed.  A later call runs until the next stop.
 */
int kr_loop_run(struct kr_loop *l);
/* Any thread: make kr_loop_run() return after the current callback. */
void kr_loop_stop(struct kr_loop *l);
/*
 * A loop inside another, or inside a poll(): its epoll fd is readable when
 * one of its fds is ready, and kr_loop_poll() runs the callbacks of what is
 * ready then, without waiting (0 or -errno).  khv-run's control socket has
 * a loop of its own so that a migration's destination can serve it while
 * it waits for the stream (migrate.c), and the I/O loop nests it.
 */
int kr_loop_fd(struct kr_loop *l);
int kr_loop_poll(struct kr_loop *l);

#endif
