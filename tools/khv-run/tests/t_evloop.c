// SPDX-License-Identifier: GPL-2.0
/*
 * evloop.c: a loop nested in another (the control socket's in the I/O
 * loop) and polled on its own (a migration's destination serving the
 * control socket between two reads of the stream).
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../evloop.h"
#include "t.h"

struct hits {
	int n;
	struct kr_loop *outer;	/* stopped by the inner callback, when set */
};

static void on_event(void *opaque, int fd, uint32_t events)
{
	struct hits *h = opaque;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) == sizeof(v))
		h->n++;
	if (h->outer)
		kr_loop_stop(h->outer);
}

static void nested(void *opaque, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	kr_loop_poll(opaque);
}

KR_TEST(evloop_poll_alone)
{
	struct kr_loop *l = kr_loop_new();
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct hits h = { 0 };
	struct pollfd p;
	uint64_t one = 1;

	CHECK(l && efd >= 0);
	CHECK(kr_loop_add(l, efd, EPOLLIN, on_event, &h) == 0);
	/* Nothing ready: no callback, no wait. */
	CHECK(kr_loop_poll(l) == 0 && h.n == 0);
	p = (struct pollfd){ .fd = kr_loop_fd(l), .events = POLLIN };
	CHECK(poll(&p, 1, 0) == 0);
	CHECK(write(efd, &one, sizeof(one)) == sizeof(one));
	/* Its fd says so, and a poll runs the callback once. */
	CHECK(poll(&p, 1, 1000) == 1);
	CHECK(kr_loop_poll(l) == 0 && h.n == 1);
	CHECK(kr_loop_poll(l) == 0 && h.n == 1);
	/* A callback may remove its own fd from inside a poll. */
	CHECK(kr_loop_del(l, efd) == 0);
	CHECK(kr_loop_del(l, efd) == -ENOENT);
	close(efd);
	kr_loop_free(l);
}

KR_TEST(evloop_nested)
{
	struct kr_loop *outer = kr_loop_new(), *inner = kr_loop_new();
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct hits h = { 0 };
	uint64_t one = 1;

	CHECK(outer && inner && efd >= 0);
	h.outer = outer;
	CHECK(kr_loop_add(inner, efd, EPOLLIN, on_event, &h) == 0);
	CHECK(kr_loop_add(outer, kr_loop_fd(inner), EPOLLIN, nested, inner) == 0);
	CHECK(write(efd, &one, sizeof(one)) == sizeof(one));
	/* The outer loop runs the inner one's callback, which stops it. */
	CHECK(kr_loop_run(outer) == 0);
	CHECK(h.n == 1);
	kr_loop_del(outer, kr_loop_fd(inner));
	kr_loop_del(inner, efd);
	close(efd);
	kr_loop_free(outer);
	kr_loop_free(inner);
}
