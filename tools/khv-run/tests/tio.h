/* SPDX-License-Identifier: GPL-2.0 */
/* Test helpers for fds and the I/O loop (t_chardev, t_serial, t_virtio_console). */
#ifndef KHV_RUN_TIO_H
#define KHV_RUN_TIO_H

#include <pthread.h>
#include <stddef.h>

#include "../evloop.h"

void sleep_ms(int ms);
/* A thread's body running kr_loop_run(arg). */
void *loop_main(void *arg);
/* Stop the loop, join its thread, free it. */
void loop_stop(struct kr_loop *l, pthread_t th);
/* Read from a non-blocking fd until n bytes came or timeout_ms of quiet. */
size_t read_some(int fd, void *buf, size_t n, int timeout_ms);
/* Bytes waiting to be read on fd (FIONREAD), -1 when unknown. */
int pending(int fd);

#endif
