// SPDX-License-Identifier: GPL-2.0
/*
 * The I/O thread's epoll loop (evloop.h).
 *
 * Locking: l->lock is held while a callback runs and while the table of
 * registrations changes, so a kr_loop_del() from another thread waits for
 * a running callback of that fd to finish.  The loop's own thread (inside
 * a callback) changes the table without taking the lock again.  A
 * registration removed while epoll_wait() had already returned its event is
 * found missing by its generation number and skipped.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "evloop.h"

struct kr_watch {
	int fd;
	kr_fd_fn *fn;
	void *opaque;
	uint64_t gen;
	bool used;
};

struct kr_loop {
	int epfd;
	int stopfd;		/* eventfd: kr_loop_stop() */
	pthread_mutex_t lock;
	pthread_t thread;
	bool running;
	bool stop;
	struct kr_watch *w;
	size_t n;
	uint64_t gen;
};

#define KR_MAX_EVENTS	32

struct kr_loop *kr_loop_new(void)
{
	struct kr_loop *l = calloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ev.data.u64 = 0;	/* generation 0: the stop eventfd */
	if (l->epfd < 0 || l->stopfd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->stopfd, &ev)) {
		kr_loop_free(l);
		return NULL;
	}
	pthread_mutex_init(&l->lock, NULL);
	return l;
}

void kr_loop_free(struct kr_loop *l)
{
	if (!l)
		return;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->stopfd >= 0)
		close(l->stopfd);
	free(l->w);
	free(l);
}

static bool kr_loop_on_thread(struct kr_loop *l)
{
	return __atomic_load_n(&l->running, __ATOMIC_ACQUIRE) &&
	       pthread_equal(l->thread, pthread_self());
}

static void kr_loop_lock(struct kr_loop *l, bool *locked)
{
	*locked = !kr_loop_on_thread(l);
	if (*locked)
		pthread_mutex_lock(&l->lock);
}

static void kr_loop_unlock(struct kr_loop *l, bool locked)
{
	if (locked)
		pthread_mutex_unlock(&l->lock);
}

static struct kr_watch *kr_loop_find(struct kr_loop *l, int fd)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->w[i].used && l->w[i].fd == fd)
			return &l->w[i];
	return NULL;
}

int kr_loop_add(struct kr_loop *l, int fd, uint32_t events, kr_fd_fn *fn, void *opaque)
{
	struct epoll_event ev = { .events = events };
	struct kr_watch *w = NULL;
	bool locked;
	int ret = 0;

	if (fd < 0 || !fn)
		return -EINVAL;
	kr_loop_lock(l, &locked);
	if (kr_loop_find(l, fd)) {
		ret = -EEXIST;
		goto out;
	}
	for (size_t i = 0; i < l->n; i++)
		if (!l->w[i].used)
			w = &l->w[i];
	if (!w) {
		struct kr_watch *nw = realloc(l->w, (l->n + 8) * sizeof(*nw));

		if (!nw) {
			ret = -ENOMEM;
			goto out;
		}
		memset(nw + l->n, 0, 8 * sizeof(*nw));
		l->w = nw;
		w = &l->w[l->n];
		l->n += 8;
	}
	ev.data.u64 = ++l->gen;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		ret = -errno;
		goto out;
	}
	*w = (struct kr_watch){ fd, fn, opaque, l->gen, true };
out:
	kr_loop_unlock(l, locked);
	return ret;
}

int kr_loop_mod(struct kr_loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };
	struct kr_watch *w;
	bool locked;
	int ret = 0;

	kr_loop_lock(l, &locked);
	w = kr_loop_find(l, fd);
	if (!w) {
		ret = -ENOENT;
	} else {
		ev.data.u64 = w->gen;
		if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev))
			ret = -errno;
	}
	kr_loop_unlock(l, locked);
	return ret;
}

int kr_loop_del(struct kr_loop *l, int fd)
{
	struct kr_watch *w;
	bool locked;
	int ret = 0;

	kr_loop_lock(l, &locked);
	w = kr_loop_find(l, fd);
	if (!w) {
		ret = -ENOENT;
	} else {
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);	/* fd may be closed */
		w->used = false;
	}
	kr_loop_unlock(l, locked);
	return ret;
}

void kr_loop_stop(struct kr_loop *l)
{
	uint64_t one = 1;

	__atomic_store_n(&l->stop, true, __ATOMIC_RELEASE);
	if (write(l->stopfd, &one, sizeof(one)) < 0) {
		/* the counter is already non-zero: the loop will wake */
	}
}

/* With l->lock held, l running on this thread: the callbacks of n events. */
static void kr_loop_dispatch(struct kr_loop *l, const struct epoll_event *ev, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t gen = ev[i].data.u64;

		if (!gen) {
			uint64_t v;

			if (read(l->stopfd, &v, sizeof(v)) < 0) {
				/* nothing to drain */
			}
			continue;
		}
		for (size_t j = 0; j < l->n; j++) {
			struct kr_watch w = l->w[j];

			if (w.used && w.gen == gen) {
				w.fn(w.opaque, w.fd, ev[i].events);
				break;
			}
		}
	}
}

int kr_loop_fd(struct kr_loop *l)
{
	return l->epfd;
}

int kr_loop_poll(struct kr_loop *l)
{
	struct epoll_event ev[KR_MAX_EVENTS];
	int n;

	pthread_mutex_lock(&l->lock);
	n = epoll_wait(l->epfd, ev, KR_MAX_EVENTS, 0);
	if (n < 0) {
		int err = errno == EINTR ? 0 : -errno;

		pthread_mutex_unlock(&l->lock);
		return err;
	}
	l->thread = pthread_self();
	__atomic_store_n(&l->running, true, __ATOMIC_RELEASE);
	kr_loop_dispatch(l, ev, n);
	__atomic_store_n(&l->running, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&l->lock);
	return 0;
}

int kr_loop_run(struct kr_loop *l)
{
	struct epoll_event ev[KR_MAX_EVENTS];

	pthread_mutex_lock(&l->lock);
	l->thread = pthread_self();
	__atomic_store_n(&l->running, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
		int n;

		pthread_mutex_unlock(&l->lock);
		n = epoll_wait(l->epfd, ev, KR_MAX_EVENTS, -1);
		pthread_mutex_lock(&l->lock);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			__atomic_store_n(&l->running, false, __ATOMIC_RELEASE);
			pthread_mutex_unlock(&l->lock);
			return -errno;
		}
		kr_loop_dispatch(l, ev, n);
	}
	__atomic_store_n(&l->running, false, __ATOMIC_RELEASE);
	/* Re-armed: the next kr_loop_run() runs until the next stop. */
	__atomic_store_n(&l->stop, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&l->lock);
	return 0;
}
