// SPDX-License-Identifier: GPL-2.0
/*
 * User-mode networking through libslirp (net_slirp.h).
 *
 * Why a thread of its own rather than the I/O thread's epoll loop: libslirp
 * is built around poll().  Each round, slirp_pollfds_fill() hands over the
 * whole set of sockets it wants watched, with events that change from
 * round to round (a TCP socket is watched for writing only while slirp has
 * data queued for it, for reading only while its buffer has room); sockets
 * come and go with the guest's connections.  Mirroring that into epoll
 * would take a diff of the set and an epoll_ctl() per change every round.
 * A thread that calls poll() on exactly what slirp asks for is the
 * interface as designed, and it keeps the non-thread-safe stack on one
 * thread without locking the device.  Its timers are kept here and fire
 * from the same loop (poll's timeout is the nearest one), so no timerfd.
 *
 * Threads and locks: after kr_slirp_create() only the stack's thread calls
 * into libslirp, and libslirp calls us back only on it (send_packet,
 * timers, notify).  slirp_lock serialises every call into libslirp across
 * instances: libslirp 4.7 keeps its clock ("curtime") in a global that all
 * instances write.  The frame socketpair is the only thing the device and
 * the stack share; s->stop and s->dropped are atomics.
 */
#include <errno.h>
#include <stdio.h>

#include "net_slirp.h"

#ifndef KR_HAVE_SLIRP

bool kr_slirp_available(void)
{
	return false;
}

struct kr_slirp *kr_slirp_create(const struct kr_net_opts *o, int *fd, char *why, size_t len)
{
	(void)o;
	*fd = -1;
	snprintf(why, len, "--net user: this khv-run was built without libslirp "
		 "(install libslirp-dev and build again)");
	errno = ENOTSUP;
	return NULL;
}

void kr_slirp_destroy(struct kr_slirp *s)
{
	(void)s;
}

uint64_t kr_slirp_dropped(struct kr_slirp *s)
{
	(void)s;
	return 0;
}

#else

#include <arpa/inet.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#define FRAME_MAX	65550		/* as the device's KR_NET_FRAME_MAX */
#define SOCKBUF		(1 << 20)	/* asked for; the kernel caps it at wmem_max */
#define INPUT_BATCH	64		/* guest frames per round before looking at sockets */
#define GUEST_ERRORS_SHOWN	8

struct timer {
	struct timer *next;
	SlirpTimerCb cb;
	void *cb_opaque;
	int64_t expire_ms;		/* -1: not armed */
};

struct kr_slirp {
	Slirp *slirp;
	int fd;				/* the stack's end of the frame socketpair */
	int wake;			/* eventfd: stop, notify */
	pthread_t thread;
	bool started;
	bool stop;			/* atomic */
	uint64_t dropped;		/* atomic */
	unsigned int guest_errors;
	struct pollfd *pfd;		/* this round's set: wake, fd, then slirp's */
	unsigned int npfd, cap;
	struct timer *timers;
	uint8_t *frame;			/* FRAME_MAX + 1 */
};

static pthread_mutex_t slirp_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* ---- callbacks, on the stack's thread -------------------------------------- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct kr_slirp *s = opaque;

	/* Full (the guest is not taking frames) or gone: dropped, as libslirp allows. */
	if (send(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		__atomic_add_fetch(&s->dropped, 1, __ATOMIC_RELAXED);
	return len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	struct kr_slirp *s = opaque;

	/* The guest controls how often: a few lines, then silence. */
	if (s->guest_errors++ < GUEST_ERRORS_SHOWN)
		fprintf(stderr, "khv-run: user network: guest error: %s%s\n", msg,
			s->guest_errors == GUEST_ERRORS_SHOWN ? " (no more of these)" : "");
}

static int64_t cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	return now_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct kr_slirp *s = opaque;
	struct timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cb = cb;
	t->cb_opaque = cb_opaque;
	t->expire_ms = -1;
	t->next = s->timers;
	s->timers = t;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct kr_slirp *s = opaque;

	for (struct timer **p = &s->timers; *p; p = &(*p)->next) {
		if (*p == timer) {
			*p = (*p)->next;
			free(timer);
			return;
		}
	}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct timer *t = timer;

	(void)opaque;
	if (t)
		t->expire_ms = expire_ms < 0 ? 0 : expire_ms;
}

static void cb_register_poll_fd(int fd, void *opaque)
{
	/* Every round polls what slirp_pollfds_fill() lists: nothing to keep. */
	(void)fd;
	(void)opaque;
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void cb_notify(void *opaque)
{
	struct kr_slirp *s = opaque;
	uint64_t one = 1;

	/* A socket has room again: go round once more (the counter cannot overflow here). */
	if (write(s->wake, &one, sizeof(one)) < 0) {
		/* already signalled */
	}
}

static const SlirpCb callbacks = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
};

static short to_poll(int ev)
{
	return (ev & SLIRP_POLL_IN ? POLLIN : 0) | (ev & SLIRP_POLL_OUT ? POLLOUT : 0) |
	       (ev & SLIRP_POLL_PRI ? POLLPRI : 0) | (ev & SLIRP_POLL_ERR ? POLLERR : 0) |
	       (ev & SLIRP_POLL_HUP ? POLLHUP : 0);
}

static int from_poll(short ev)
{
	return (ev & POLLIN ? SLIRP_POLL_IN : 0) | (ev & POLLOUT ? SLIRP_POLL_OUT : 0) |
	       (ev & POLLPRI ? SLIRP_POLL_PRI : 0) | (ev & POLLERR ? SLIRP_POLL_ERR : 0) |
	       (ev & POLLHUP ? SLIRP_POLL_HUP : 0);
}

/* slirp_pollfds_fill()'s add_poll: the index, or -1 (then slirp skips that socket). */
static int add_poll(int fd, int events, void *opaque)
{
	struct kr_slirp *s = opaque;

	if (s->npfd == s->cap) {
		unsigned int cap = s->cap ? 2 * s->cap : 16;
		struct pollfd *p = realloc(s->pfd, cap * sizeof(*p));

		if (!p)
			return -1;
		s->pfd = p;
		s->cap = cap;
	}
	s->pfd[s->npfd] = (struct pollfd){ .fd = fd, .events = to_poll(events) };
	return s->npfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct kr_slirp *s = opaque;

	if (idx < 0 || (unsigned int)idx >= s->npfd)
		return 0;
	return from_poll(s->pfd[idx].revents);
}

/* ---- the thread ------------------------------------------------------------ */

/* The nearest armed timer, in ms of the monotonic clock, or INT64_MAX. */
static int64_t next_timer(const struct kr_slirp *s)
{
	int64_t t = INT64_MAX;

	for (const struct timer *p = s->timers; p; p = p->next)
		if (p->expire_ms >= 0 && p->expire_ms < t)
			t = p->expire_ms;
	return t;
}

/*
 * Fire what is due.  A callback may arm, add or free timers, so the list
 * is searched again after each; a bound keeps a timer that keeps arming
 * itself in the past from holding the thread.
 */
static void run_timers(struct kr_slirp *s)
{
	int64_t now = now_ns() / 1000000;

	for (int n = 0; n < 64; n++) {
		struct timer *due = NULL;

		for (struct timer *p = s->timers; p && !due; p = p->next)
			if (p->expire_ms >= 0 && p->expire_ms <= now)
				due = p;
		if (!due)
			return;
		due->expire_ms = -1;
		due->cb(due->cb_opaque);
	}
}

/* Frames from the device to the stack. */
static void guest_frames(struct kr_slirp *s)
{
	for (int i = 0; i < INPUT_BATCH; i++) {
		ssize_t n = recv(s->fd, s->frame, FRAME_MAX + 1, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		if (n > FRAME_MAX)
			continue;	/* the device sends none this large */
		/*
		 * Some of libslirp's parsers read a fixed header whatever the
		 * length: a runt reads zeros, inside our buffer, not stale data.
		 */
		if (n < 128)
			memset(s->frame + n, 0, 128 - n);
		slirp_input(s->slirp, s->frame, n);
	}
}

static void *slirp_main(void *arg)
{
	struct kr_slirp *s = arg;
	sigset_t all;

	/* Signals are the main thread's (signalfd) and the vCPUs' (kicks). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		uint32_t timeout = UINT32_MAX;
		int64_t t, wait_ms;
		int n;

		s->npfd = 0;
		add_poll(s->wake, SLIRP_POLL_IN, s);
		add_poll(s->fd, SLIRP_POLL_IN, s);
		pthread_mutex_lock(&slirp_lock);
		slirp_pollfds_fill(s->slirp, &timeout, add_poll, s);
		t = next_timer(s);
		pthread_mutex_unlock(&slirp_lock);
		wait_ms = timeout == UINT32_MAX ? -1 : (int64_t)timeout;
		if (t != INT64_MAX) {
			int64_t d = t - now_ns() / 1000000;

			d = d < 0 ? 0 : d;
			if (wait_ms < 0 || d < wait_ms)
				wait_ms = d;
		}
		n = poll(s->pfd, s->npfd, wait_ms > INT_MAX ? INT_MAX : (int)wait_ms);
		if (n < 0 && errno != EINTR)
			n = -1;
		else if (n < 0)
			n = 0;
		if (n > 0 && s->pfd[0].revents) {
			uint64_t v;

			if (read(s->wake, &v, sizeof(v)) < 0) {
				/* nothing to drain */
			}
		}
		pthread_mutex_lock(&slirp_lock);
		if (n > 0 && (s->pfd[1].revents & POLLIN))
			guest_frames(s);
		slirp_pollfds_poll(s->slirp, n < 0, get_revents, s);
		run_timers(s);
		pthread_mutex_unlock(&slirp_lock);
	}
	return NULL;
}

/* ---- setup ----------------------------------------------------------------- */

static struct in_addr ip4(const char *a)
{
	struct in_addr x;

	inet_pton(AF_INET, a, &x);
	return x;
}

static struct in6_addr ip6(const char *a)
{
	struct in6_addr x;

	inet_pton(AF_INET6, a, &x);
	return x;
}

bool kr_slirp_available(void)
{
	return true;
}

struct kr_slirp *kr_slirp_create(const struct kr_net_opts *o, int *fd, char *why, size_t len)
{
	SlirpConfig cfg = {
		.version = SLIRP_CONFIG_VERSION_MAX < 4 ? SLIRP_CONFIG_VERSION_MAX : 4,
		.in_enabled = true,
		.vnetwork = ip4(KR_SLIRP_NETWORK),
		.vnetmask = ip4("255.255.255.0"),
		.vhost = ip4(KR_SLIRP_GATEWAY),
		.in6_enabled = true,
		.vprefix_addr6 = ip6("fec0::"),
		.vprefix_len = 64,
		.vhost6 = ip6("fec0::2"),
		.vdhcp_start = ip4(KR_SLIRP_GUEST),
		.vnameserver = ip4(KR_SLIRP_DNS),
		.vnameserver6 = ip6("fec0::3"),
	};
	struct kr_slirp *s = calloc(1, sizeof(*s));
	int sv[2] = { -1, -1 }, buf = SOCKBUF, err;

	*fd = -1;
	if (s) {
		s->fd = -1;
		s->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		s->frame = malloc(FRAME_MAX + 1);
	}
	if (!s || !s->frame) {
		err = ENOMEM;
		snprintf(why, len, "--net user: out of memory");
		goto fail;
	}
	if (s->wake < 0 || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv)) {
		err = errno;
		snprintf(why, len, "--net user: %s", strerror(err));
		goto fail;
	}
	/* Room for bursts both ways; the kernel caps this, which is fine. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	s->fd = sv[1];
	pthread_mutex_lock(&slirp_lock);
	s->slirp = slirp_new(&cfg, &callbacks, s);
	for (unsigned int i = 0; s->slirp && i < o->n_fwd && i < KR_NET_MAX_FWD; i++) {
		const struct kr_net_fwd *f = &o->fwd[i];
		char ha[INET_ADDRSTRLEN];

		errno = 0;
		if (slirp_add_hostfwd(s->slirp, f->udp, f->host, f->host_port, f->guest,
				      f->guest_port) < 0) {
			err = errno ? errno : EADDRINUSE;
			inet_ntop(AF_INET, &f->host, ha, sizeof(ha));
			snprintf(why, len, "--net user: hostfwd %s:%s:%u: %s",
				 f->udp ? "udp" : "tcp", ha, f->host_port, strerror(err));
			pthread_mutex_unlock(&slirp_lock);
			goto fail;
		}
	}
	pthread_mutex_unlock(&slirp_lock);
	if (!s->slirp) {
		err = ENOMEM;
		snprintf(why, len, "--net user: libslirp would not start");
		goto fail;
	}
	err = pthread_create(&s->thread, NULL, slirp_main, s);
	if (err) {
		snprintf(why, len, "--net user: thread: %s", strerror(err));
		goto fail;
	}
	s->started = true;
	*fd = sv[0];
	return s;
fail:
	if (sv[0] >= 0)
		close(sv[0]);
	if (s && s->fd < 0 && sv[1] >= 0)
		close(sv[1]);
	kr_slirp_destroy(s);
	errno = err;
	return NULL;
}

void kr_slirp_destroy(struct kr_slirp *s)
{
	if (!s)
		return;
	if (s->started) {
		__atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
		cb_notify(s);
		pthread_join(s->thread, NULL);
	}
	if (s->slirp) {
		pthread_mutex_lock(&slirp_lock);
		slirp_cleanup(s->slirp);
		pthread_mutex_unlock(&slirp_lock);
	}
	while (s->timers)
		cb_timer_free(s->timers, s);
	if (s->fd >= 0)
		close(s->fd);
	if (s->wake >= 0)
		close(s->wake);
	free(s->pfd);
	free(s->frame);
	free(s);
}

uint64_t kr_slirp_dropped(struct kr_slirp *s)
{
	return s ? __atomic_load_n(&s->dropped, __ATOMIC_RELAXED) : 0;
}

#endif
