// SPDX-License-Identifier: GPL-2.0
/*
 * Live migration (migrate.h).
 *
 * Threads and locking: the migration's thread connects and does the
 * pre-copy passes; the last pass runs on the I/O thread (device state is
 * saved there, as snapfield.h's contract says), asked for through an
 * eventfd on the loop, while the migration's thread waits.  g->lock
 * covers the status, the error and the figures query-migrate reads; the
 * byte count is an atomic.  cancel is an atomic too: the stream's write
 * callback checks it, and a cancel shuts the socket down so that a send
 * blocked on a slow destination returns.  The VMM's dirty bitmaps
 * (kr_mem.dirty) stay allocated until the machine goes (kr_migrate_stop):
 * a device may still hold the pointer it loaded when a migration ends.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "devices.h"
#include "evloop.h"
#include "migrate.h"
#include "snapfield.h"
#include "snapram.h"
#include "snapshot.h"
#include "vmm.h"

#define MIG_DEFAULT_DOWNTIME_MS	300
/* Passes, at most, before the last one however much is left. */
#define MIG_MAX_PASSES		30
/* After this many, a pass that leaves over 90 % of the pages the one before left is the last. */
#define MIG_MIN_PASSES		5
#define MIG_ACK_TIMEOUT_MS	60000
#define MIG_ACK_OK		"KHVMIG-OK"
#define MIG_ACK_ERR		"KHVMIG-ERR"

enum mig_status { MIG_NONE, MIG_SETUP, MIG_ACTIVE, MIG_DEVICE, MIG_COMPLETED, MIG_FAILED,
		  MIG_CANCELLED };

static const char *const mig_status_names[] = {
	[MIG_NONE] = "none", [MIG_SETUP] = "setup", [MIG_ACTIVE] = "active",
	[MIG_DEVICE] = "device", [MIG_COMPLETED] = "completed", [MIG_FAILED] = "failed",
	[MIG_CANCELLED] = "cancelled",
};

static uint64_t mig_downtime_ms = MIG_DEFAULT_DOWNTIME_MS;

struct kr_migration {
	struct kr_machine *m;
	char uri[256];
	pthread_t thread;
	bool thread_started;
	int fd;			/* the connection, -1 before and after */
	int efd;		/* the thread's request for the last pass */
	bool cancel;		/* atomic */
	uint64_t transferred;	/* atomic: bytes of the stream */

	struct kr_ram_region r[2];
	unsigned int nr;
	uint64_t *pend[2];	/* pages to send next */
	uint64_t *tmp[2];	/* khv's dirty log, one get */
	uint64_t *vmm[2];	/* the VMM's own writes: m->mem.dirty */
	uint8_t *bounce;	/* a run's copy (snapram.h) */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* under lock */
	enum mig_status status;
	char error[256];
	bool last_pass_wanted;	/* the thread asked; the I/O thread has not begun */
	bool last_pass_done, last_pass_ok;
	uint64_t t_start, t_end, downtime_ms, expected_downtime_ms;
	uint64_t pages_sent, zero_pages, remaining, dirty_rate, passes;
	uint64_t total_bytes;
	double mbps;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void kr_migrate_set_downtime(uint64_t ms)
{
	__atomic_store_n(&mig_downtime_ms, ms, __ATOMIC_RELAXED);
}

uint64_t kr_migrate_downtime(void)
{
	return __atomic_load_n(&mig_downtime_ms, __ATOMIC_RELAXED);
}

/* ---- addresses ----------------------------------------------------------- */

struct mig_addr {
	bool unix_socket;
	char host[200], port[16];	/* tcp */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* unix */
};

static int parse(const char *uri, struct mig_addr *a, char *why, size_t len)
{
	const char *colon;

	memset(a, 0, sizeof(*a));
	if (!strncmp(uri, "unix:", 5)) {
		if (!uri[5] || strlen(uri + 5) >= sizeof(a->path))
			goto bad;
		a->unix_socket = true;
		snprintf(a->path, sizeof(a->path), "%s", uri + 5);
		return 0;
	}
	if (strncmp(uri, "tcp:", 4))
		goto bad;
	uri += 4;
	colon = strrchr(uri, ':');
	/* tcp::PORT: every address (listening), the loopback (connecting), as QEMU's. */
	if (!colon || !colon[1] || (size_t)(colon - uri) >= sizeof(a->host) ||
	    strlen(colon + 1) >= sizeof(a->port) || strspn(colon + 1, "0123456789") !=
	    strlen(colon + 1))
		goto bad;
	/* [v6]:port: the brackets are the URI's, not the address's. */
	if (uri[0] == '[' && colon[-1] == ']')
		snprintf(a->host, sizeof(a->host), "%.*s", (int)(colon - uri - 2), uri + 1);
	else
		snprintf(a->host, sizeof(a->host), "%.*s", (int)(colon - uri), uri);
	snprintf(a->port, sizeof(a->port), "%s", colon + 1);
	return 0;
bad:
	snprintf(why, len, "%.100s: want tcp:HOST:PORT or unix:PATH", uri);
	return -EINVAL;
}

int kr_migrate_parse_uri(const char *uri, char *why, size_t len)
{
	struct mig_addr a;

	return parse(uri, &a, why, len);
}

/* A connected (listen false) or listening socket for uri: fd, or -errno with why. */
static int mig_socket(const char *uri, bool listening, char *why, size_t len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	struct mig_addr a;
	int fd = -1, err;

	err = parse(uri, &a, why, len);
	if (err)
		return err;
	if (a.unix_socket) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a.path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			goto fail;
		if (listening) {
			unlink(a.path);
			if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1))
				goto fail;
		} else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			goto fail;
		}
		return fd;
	}
	hints.ai_flags = listening ? AI_PASSIVE : 0;
	err = getaddrinfo(a.host[0] ? a.host : NULL, a.port, &hints, &res);
	if (err) {
		snprintf(why, len, "%s: %s", uri, gai_strerror(err));
		return -EINVAL;
	}
	errno = EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		int one = 1;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (listening) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 1))
				break;
		} else if (!connect(fd, ai->ai_addr, ai->ai_addrlen)) {
			break;
		}
		err = errno;
		close(fd);
		errno = err;
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		return fd;
fail:
	err = -errno;
	snprintf(why, len, "%s: %s", uri, strerror(errno));
	if (fd >= 0)
		close(fd);
	return err;
}

/* ---- the source's stream ------------------------------------------------- */

static int read_ack(int fd, char *why, size_t len);
static void mig_fail(struct kr_migration *g, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The stream's sink.  The destination speaks only to answer, so anything
 * to read before the end is its refusal: taken as the reason, and the
 * stream stops (the destination drains what is on the way, then closes).
 */
static int mig_write(void *ctx, const void *buf, size_t n)
{
	struct kr_migration *g = ctx;
	struct pollfd pf = { .fd = g->fd, .events = POLLIN };
	const char *p = buf;
	char why[256];

	if (poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN)) {
		int err = read_ack(g->fd, why, sizeof(why));

		mig_fail(g, err ? err : -EPROTO, "%s", err ? why :
			 "the destination answered before the end of the stream");
		return -EPROTO;
	}
	while (n) {
		ssize_t k;

		if (__atomic_load_n(&g->cancel, __ATOMIC_RELAXED))
			return -ECANCELED;
		k = send(g->fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return __atomic_load_n(&g->cancel, __ATOMIC_RELAXED) ? -ECANCELED : -errno;
		p += k;
		n -= (size_t)k;
		__atomic_add_fetch(&g->transferred, (uint64_t)k, __ATOMIC_RELAXED);
	}
	return 0;
}

/* The first reason a migration failed (under no lock). */
static void mig_fail(struct kr_migration *g, int err, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&g->lock);
	if (!g->error[0]) {
		va_start(ap, fmt);
		vsnprintf(g->error, sizeof(g->error), fmt, ap);
		va_end(ap);
		if (err == -ECANCELED)
			snprintf(g->error, sizeof(g->error), "cancelled");
	}
	pthread_mutex_unlock(&g->lock);
}

static void set_status(struct kr_migration *g, enum mig_status st)
{
	struct json_object *data = json_object_new_object();

	pthread_mutex_lock(&g->lock);
	g->status = st;
	if (st >= MIG_COMPLETED)
		g->t_end = now_ms();
	pthread_mutex_unlock(&g->lock);
	json_object_object_add(data, "status", json_object_new_string(mig_status_names[st]));
	kr_control_event(g->m->control, "MIGRATION", data);
}

static uint64_t region_words(const struct kr_ram_region *r)
{
	return (r->size / KR_RAM_PAGE + 63) / 64;
}

/*
 * The pages written since the last call, khv's log and the VMM's, added
 * to pend: how many pend holds, or -errno.
 */
static int64_t collect(struct kr_migration *g)
{
	static const uint32_t slots[2] = { KR_SLOT_LOW, KR_SLOT_HIGH };
	int64_t total = 0;

	for (unsigned int i = 0; i < g->nr; i++) {
		uint64_t words = region_words(&g->r[i]);
		int r = khv_vm_get_dirty_log(&g->m->vm, slots[i], 0, 0,
					     g->r[i].size / KR_RAM_PAGE, g->tmp[i]);

		if (r < 0)
			return r;
		for (uint64_t w = 0; w < words; w++) {
			uint64_t v = __atomic_exchange_n(&g->vmm[i][w], 0, __ATOMIC_ACQ_REL);

			g->pend[i][w] |= g->tmp[i][w] | v;
			total += __builtin_popcountll(g->pend[i][w]);
		}
	}
	return total;
}

/* Send pend and clear it: 0 or -errno. */
static int send_pending(struct kr_migration *g, struct kr_snap_writer *w)
{
	for (unsigned int i = 0; i < g->nr; i++) {
		uint64_t sent = 0, zero = 0;
		int err = kr_ram_write(w, &g->r[i], g->pend[i], &sent, &zero);

		if (err)
			return err;
		memset(g->pend[i], 0, region_words(&g->r[i]) * 8);
		pthread_mutex_lock(&g->lock);
		g->pages_sent += sent;
		g->zero_pages += zero;
		pthread_mutex_unlock(&g->lock);
	}
	return 0;
}

/* khv's dirty log on the RAM slots (on) or off again. */
static int dirty_log(struct kr_migration *g, bool on)
{
	static const uint32_t slots[2] = { KR_SLOT_LOW, KR_SLOT_HIGH };
	int err = 0;

	for (unsigned int i = 0; i < g->nr; i++) {
		int e = khv_vm_set_memory(&g->m->vm, slots[i], on ? KHV_MEM_LOG_DIRTY : 0,
					  g->r[i].gpa, g->r[i].size, g->r[i].hva);

		if (e && !err)
			err = e;
	}
	return err;
}

/* Read the destination's one-line answer: 0 for OK, else -EPROTO with why. */
static int read_ack(int fd, char *why, size_t len)
{
	char line[256];
	size_t n = 0;
	uint64_t until = now_ms() + MIG_ACK_TIMEOUT_MS;

	while (n + 1 < sizeof(line)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = (int64_t)(until - now_ms());
		ssize_t k;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			snprintf(why, len, "the destination did not answer");
			return -ETIMEDOUT;
		}
		k = read(fd, line + n, 1);
		if (k <= 0) {
			snprintf(why, len, "the destination closed the connection");
			return -EPIPE;
		}
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = 0;
	if (!strcmp(line, MIG_ACK_OK))
		return 0;
	snprintf(why, len, "the destination refused: %.200s",
		 !strncmp(line, MIG_ACK_ERR " ", strlen(MIG_ACK_ERR) + 1) ?
		 line + strlen(MIG_ACK_ERR) + 1 : line);
	return -EPROTO;
}

/*
 * The disks to the destination: the guest's writes synced, the locks
 * dropped (disk.h); 0 or -errno with why.  back: taken again after a
 * failure (a warning if someone else has them now).
 */
static int hand_over_disks(struct kr_machine *m, bool back, char *why, size_t len)
{
	for (unsigned int i = 0; i < m->cfg->nr_disks; i++) {
		struct kr_disk *d = m->cfg->disks[i];
		int err;

		if (back) {
			err = kr_disk_lock(d);
			if (err)
				fprintf(stderr, "khv-run: warning: disk %u: its lock cannot be taken "
					"back after the failed migration: %s\n", i, strerror(-err));
			continue;
		}
		err = kr_disk_sync(d);
		if (err) {
			snprintf(why, len, "syncing disk %u: %s", i, strerror(-err));
			return err;
		}
		kr_disk_unlock(d);
	}
	return 0;
}

/*
 * The last pass, on the I/O thread: the VM stopped, the devices frozen,
 * the pages written since the last pass and all the state; then the
 * destination's answer.  Either the VM is the destination's now, or it
 * runs on here as if nothing happened.
 */
static void last_pass(void *opaque, int fd, uint32_t events)
{
	struct kr_migration *g = opaque;
	struct kr_machine *m = g->m;
	struct kr_snap_writer w;
	struct kr_snap_io io = { .write = mig_write, .ctx = g };
	bool was_running, disks_given = false;
	struct kr_sbuf state = { 0 };
	char why[256] = "";
	uint64_t t0, v;
	int64_t left;
	int err;

	(void)events;
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return;
	/*
	 * Only the migration that asked, and only once: a request of one that
	 * was cancelled meanwhile (its thread has ended it) is dropped, and
	 * cannot be taken for the next migration's.
	 */
	pthread_mutex_lock(&g->lock);
	err = g->last_pass_wanted && !__atomic_load_n(&g->cancel, __ATOMIC_RELAXED);
	g->last_pass_wanted = false;
	pthread_mutex_unlock(&g->lock);
	if (!err)
		return;
	pthread_mutex_lock(&m->lock);
	was_running = m->state == KR_RUNNING;
	pthread_mutex_unlock(&m->lock);
	set_status(g, MIG_DEVICE);
	kr_vcpus_pause(m);
	t0 = now_ms();
	/* Continues the stream the thread wrote (its header went first). */
	w = (struct kr_snap_writer){ .io = io };
	/*
	 * A machine ending here (a reset, a power-off, quit) must not also go
	 * on there: its request wins, the migration fails.
	 */
	pthread_mutex_lock(&m->lock);
	err = m->req != KR_REQ_NONE ? -ESHUTDOWN : 0;
	pthread_mutex_unlock(&m->lock);
	if (err)
		snprintf(why, sizeof(why), "the VM is shutting down");
	else
		err = kr_devices_freeze(m->dev, why, sizeof(why));
	/* The state as the VM stopped (its clocks: snapshot.h), sent after the last pages. */
	if (!err)
		err = kr_snapshot_capture_state(m, &state, why, sizeof(why));
	left = err ? err : collect(g);
	if (left < 0) {
		err = (int)left;
		if (!why[0])
			snprintf(why, sizeof(why), "KHV_GET_DIRTY_LOG: %s", strerror(-err));
	} else {
		pthread_mutex_lock(&g->lock);
		g->remaining = (uint64_t)left;
		pthread_mutex_unlock(&g->lock);
		err = send_pending(g, &w);
		if (err)
			snprintf(why, sizeof(why), "sending memory: %s", strerror(-err));
	}
	disks_given = !err;
	if (!err)
		err = hand_over_disks(m, false, why, sizeof(why));
	if (!err) {
		err = kr_snapshot_put_state(&w, &state);
		if (err)
			snprintf(why, sizeof(why), "sending the state: %s", strerror(-err));
	}
	kr_sbuf_free(&state);
	if (!err)
		err = read_ack(g->fd, why, sizeof(why));
	if (err) {
		mig_fail(g, err, "%s", why[0] ? why : strerror(-err));
		if (disks_given)
			hand_over_disks(m, true, NULL, 0);
		kr_devices_thaw(m->dev);
		if (was_running)
			kr_vcpus_resume(m);
	} else {
		/* Paused for good here: the destination runs it. */
		m->migrated = true;
	}
	/* The verdict is in place before the thread hears of it. */
	pthread_mutex_lock(&g->lock);
	g->downtime_ms = now_ms() - t0;
	g->remaining = 0;
	g->last_pass_ok = !err;
	g->last_pass_done = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	if (!err)
		fprintf(stderr, "khv-run: migrated to %s (stopped %llu ms); the VM is the "
			"destination's now\n", g->uri, (unsigned long long)g->downtime_ms);
}

static void *mig_thread(void *arg)
{
	struct kr_migration *g = arg;
	struct kr_machine *m = g->m;
	struct kr_snap_io io = { .write = mig_write, .ctx = g };
	struct kr_snap_writer w;
	char why[256] = "";
	int64_t left, prev = -1;
	uint64_t one = 1, t_pass, b_pass;
	int err;

	err = mig_socket(g->uri, false, why, sizeof(why));
	if (err < 0)
		goto out;
	/* Under the lock: a cancel shuts this fd down (kr_migrate_cancel). */
	pthread_mutex_lock(&g->lock);
	g->fd = err;
	pthread_mutex_unlock(&g->lock);
	err = 0;
	/* From here every write of the guest and of the devices is seen. */
	for (unsigned int i = 0; i < g->nr; i++)
		__atomic_store_n(&m->mem.dirty[i], g->vmm[i], __ATOMIC_RELEASE);
	err = dirty_log(g, true);
	if (err) {
		snprintf(why, sizeof(why), "KHV_SET_MEMORY (dirty log): %s", khv_strerror(err));
		goto out;
	}
	set_status(g, MIG_ACTIVE);
	kr_snap_write_begin(&w, &io);
	err = kr_snapshot_write_machine(m, &w, why, sizeof(why));
	/* Every page once, while the guest runs. */
	for (unsigned int i = 0; !err && i < g->nr; i++)
		memset(g->pend[i], 0xff, region_words(&g->r[i]) * 8);
	pthread_mutex_lock(&g->lock);
	g->remaining = g->total_bytes / KR_RAM_PAGE;
	pthread_mutex_unlock(&g->lock);
	t_pass = now_ms();
	b_pass = __atomic_load_n(&g->transferred, __ATOMIC_RELAXED);
	while (!err) {
		uint64_t dt, bytes, bw, expect;

		err = send_pending(g, &w);
		if (err) {
			snprintf(why, sizeof(why), "sending memory: %s", strerror(-err));
			break;
		}
		left = collect(g);
		if (left < 0) {
			err = (int)left;
			snprintf(why, sizeof(why), "KHV_GET_DIRTY_LOG: %s", strerror(-err));
			break;
		}
		dt = now_ms() - t_pass;
		bytes = __atomic_load_n(&g->transferred, __ATOMIC_RELAXED) - b_pass;
		bw = bytes / (dt ? dt : 1);		/* bytes per ms */
		expect = (uint64_t)left * KR_RAM_PAGE / (bw ? bw : 1);
		pthread_mutex_lock(&g->lock);
		g->passes++;
		g->remaining = (uint64_t)left;
		g->dirty_rate = (uint64_t)left * 1000 / (dt ? dt : 1);
		g->mbps = bw * 8.0 / 1000.0;
		g->expected_downtime_ms = expect;
		pthread_mutex_unlock(&g->lock);
		if (expect <= kr_migrate_downtime() || g->passes >= MIG_MAX_PASSES ||
		    (g->passes >= MIG_MIN_PASSES && prev >= 0 && left * 10 > prev * 9))
			break;
		prev = left;
		t_pass = now_ms();
		b_pass = __atomic_load_n(&g->transferred, __ATOMIC_RELAXED);
	}
	if (err)
		goto out;
	/* The rest on the I/O thread; the stream's writer state goes with it (offsets only). */
	pthread_mutex_lock(&g->lock);
	g->last_pass_wanted = true;
	pthread_mutex_unlock(&g->lock);
	if (write(g->efd, &one, sizeof(one)) != sizeof(one)) {
		err = -errno;
		snprintf(why, sizeof(why), "eventfd: %s", strerror(errno));
		goto out;
	}
	pthread_mutex_lock(&g->lock);
	while (!g->last_pass_done && !__atomic_load_n(&g->cancel, __ATOMIC_RELAXED))
		pthread_cond_wait(&g->cond, &g->lock);
	/* Cancelled before the I/O thread began: its request is dropped. */
	g->last_pass_wanted = false;
	err = g->last_pass_done && g->last_pass_ok ? 0 : -EIO;
	pthread_mutex_unlock(&g->lock);
out:
	if (err && why[0])
		mig_fail(g, err, "%s", why);
	if (err) {
		dirty_log(g, false);
		for (unsigned int i = 0; i < g->nr; i++)
			__atomic_store_n(&m->mem.dirty[i], NULL, __ATOMIC_RELEASE);
	}
	pthread_mutex_lock(&g->lock);
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
	pthread_mutex_unlock(&g->lock);
	if (!err) {
		set_status(g, MIG_COMPLETED);
	} else {
		bool cancelled = __atomic_load_n(&g->cancel, __ATOMIC_RELAXED);

		mig_fail(g, err, "%s", cancelled ? "cancelled" : strerror(-err));	/* if none yet */
		set_status(g, cancelled ? MIG_CANCELLED : MIG_FAILED);
		fprintf(stderr, "khv-run: migration to %s %s: %s; the VM runs on here\n", g->uri,
			cancelled ? "cancelled" : "failed", g->error);
	}
	return NULL;
}

/* The bitmaps of a migration: for the machine's life (see the top). */
static int alloc_maps(struct kr_migration *g)
{
	if (!g->bounce)
		g->bounce = malloc((size_t)KR_RAM_RUN * KR_RAM_PAGE);
	if (!g->bounce)
		return -ENOMEM;
	for (unsigned int i = 0; i < g->nr; i++) {
		uint64_t words = region_words(&g->r[i]);

		g->r[i].bounce = g->bounce;
		if (!g->pend[i])
			g->pend[i] = calloc(words, 8);
		if (!g->tmp[i])
			g->tmp[i] = calloc(words, 8);
		if (!g->vmm[i])
			g->vmm[i] = calloc(words, 8);
		if (!g->pend[i] || !g->tmp[i] || !g->vmm[i])
			return -ENOMEM;
		memset(g->pend[i], 0, words * 8);
		memset(g->vmm[i], 0, words * 8);
	}
	return 0;
}

static void join(struct kr_migration *g)
{
	if (g->thread_started) {
		pthread_join(g->thread, NULL);
		g->thread_started = false;
	}
}

int kr_migrate_start(struct kr_machine *m, const char *uri, char *why, size_t len)
{
	struct kr_migration *g = m->mig;
	sigset_t all, old;
	int err;

	if (parse(uri, &(struct mig_addr){ 0 }, why, len))
		return -EINVAL;
	if (m->migrated) {
		snprintf(why, len, "the VM has migrated already");
		return -EBUSY;
	}
	if (g) {
		pthread_mutex_lock(&g->lock);
		err = g->status < MIG_COMPLETED ? -EBUSY : 0;
		pthread_mutex_unlock(&g->lock);
		if (err) {
			snprintf(why, len, "a migration is in progress");
			return err;
		}
		join(g);
	} else {
		g = calloc(1, sizeof(*g));
		if (!g)
			goto nomem;
		g->m = m;
		g->fd = -1;
		g->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		pthread_mutex_init(&g->lock, NULL);
		pthread_cond_init(&g->cond, NULL);
		m->mig = g;
		if (g->efd < 0 || kr_loop_add(m->loop, g->efd, EPOLLIN, last_pass, g)) {
			snprintf(why, len, "eventfd: %s", strerror(errno));
			return -errno;
		}
	}
	kr_snapshot_ram_regions(m, g->r, &g->nr);
	if (alloc_maps(g))
		goto nomem;
	snprintf(g->uri, sizeof(g->uri), "%s", uri);
	g->cancel = false;
	g->transferred = 0;
	g->status = MIG_SETUP;
	g->error[0] = 0;
	g->last_pass_wanted = g->last_pass_done = g->last_pass_ok = false;
	g->t_start = now_ms();
	g->t_end = g->downtime_ms = g->expected_downtime_ms = 0;
	g->pages_sent = g->zero_pages = g->remaining = g->dirty_rate = g->passes = 0;
	g->mbps = 0;
	g->total_bytes = kr_mem_size(&m->mem);
	/* Signals are the loop's (signalfd) and the vCPUs' kick. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&g->thread, NULL, mig_thread, g);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		g->status = MIG_FAILED;
		snprintf(why, len, "cannot start the migration thread: %s", strerror(err));
		return -err;
	}
	g->thread_started = true;
	pthread_setname_np(g->thread, "migrate");
	return 0;
nomem:
	snprintf(why, len, "out of memory");
	return -ENOMEM;
}

bool kr_migrate_cancel(struct kr_machine *m)
{
	struct kr_migration *g = m->mig;
	bool active;

	if (!g)
		return false;
	pthread_mutex_lock(&g->lock);
	active = g->status < MIG_COMPLETED && g->status != MIG_NONE;
	if (active) {
		__atomic_store_n(&g->cancel, true, __ATOMIC_RELAXED);
		if (g->fd >= 0)
			shutdown(g->fd, SHUT_RDWR);	/* a blocked send returns */
		pthread_cond_broadcast(&g->cond);
	}
	pthread_mutex_unlock(&g->lock);
	return active;
}

struct json_object *kr_migrate_query(struct kr_machine *m)
{
	struct kr_migration *g = m->mig;
	struct json_object *o = json_object_new_object(), *ram;
	uint64_t now = now_ms(), sent;

	if (!g)
		return o;
	ram = json_object_new_object();
	pthread_mutex_lock(&g->lock);
	sent = __atomic_load_n(&g->transferred, __ATOMIC_RELAXED);
	json_object_object_add(o, "status", json_object_new_string(mig_status_names[g->status]));
	json_object_object_add(o, "total-time", json_object_new_int64(
		(int64_t)((g->t_end ? g->t_end : now) - g->t_start)));
	if (g->status == MIG_COMPLETED)
		json_object_object_add(o, "downtime", json_object_new_int64(
			(int64_t)g->downtime_ms));
	else if (g->status < MIG_COMPLETED)
		json_object_object_add(o, "expected-downtime", json_object_new_int64(
			(int64_t)g->expected_downtime_ms));
	if (g->error[0])
		json_object_object_add(o, "error-desc", json_object_new_string(g->error));
	json_object_object_add(ram, "transferred", json_object_new_int64((int64_t)sent));
	json_object_object_add(ram, "remaining", json_object_new_int64(
		(int64_t)(g->remaining * KR_RAM_PAGE)));
	json_object_object_add(ram, "total", json_object_new_int64((int64_t)g->total_bytes));
	json_object_object_add(ram, "normal", json_object_new_int64(
		(int64_t)(g->pages_sent - g->zero_pages)));
	json_object_object_add(ram, "duplicate", json_object_new_int64((int64_t)g->zero_pages));
	json_object_object_add(ram, "dirty-pages-rate", json_object_new_int64(
		(int64_t)g->dirty_rate));
	json_object_object_add(ram, "dirty-sync-count", json_object_new_int64(
		(int64_t)g->passes));
	json_object_object_add(ram, "mbps", json_object_new_double(g->mbps));
	json_object_object_add(ram, "page-size", json_object_new_int(KR_RAM_PAGE));
	pthread_mutex_unlock(&g->lock);
	json_object_object_add(o, "ram", ram);
	return o;
}

void kr_migrate_stop(struct kr_machine *m)
{
	struct kr_migration *g = m->mig;

	if (!g)
		return;
	kr_migrate_cancel(m);
	join(g);
	for (unsigned int i = 0; i < 2; i++) {
		__atomic_store_n(&m->mem.dirty[i], NULL, __ATOMIC_RELEASE);
		free(g->pend[i]);
		free(g->tmp[i]);
		free(g->vmm[i]);
	}
	free(g->bounce);
	if (g->efd >= 0) {
		kr_loop_del(m->loop, g->efd);
		close(g->efd);
	}
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
	free(g);
	m->mig = NULL;
}

/* ---- the destination ----------------------------------------------------- */

/* SIGINT, SIGTERM or SIGHUP waiting (blocked: the loop's signalfd takes them later). */
static bool quit_pending(void)
{
	sigset_t set;

	return !sigpending(&set) && (sigismember(&set, SIGINT) == 1 ||
				     sigismember(&set, SIGTERM) == 1 ||
				     sigismember(&set, SIGHUP) == 1);
}

static int fd_write_all(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * The destination serves its control socket while it waits for the
 * stream (the control's own loop, nested: evloop.h), so that libvirt's
 * driver, which starts it, reads its consoles and sees "inmigrate"; the
 * commands that need a loaded VM refuse meanwhile (m->incoming,
 * vmm_control.c).  Wait until fd is readable: 0, or -EINTR when a signal
 * or the control socket's quit asks the process to end.
 */
static int incoming_wait(void *opaque, int fd)
{
	struct kr_machine *m = opaque;
	struct pollfd p[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = m->ctl_loop ? kr_loop_fd(m->ctl_loop) : -1, .events = POLLIN },
	};

	for (;;) {
		bool stop;
		int n;

		pthread_mutex_lock(&m->lock);
		stop = m->req != KR_REQ_NONE;
		pthread_mutex_unlock(&m->lock);
		if (stop || quit_pending())
			return -EINTR;
		n = poll(p, 2, 200);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0 && p[1].revents)
			kr_loop_poll(m->ctl_loop);
		if (n > 0 && p[0].revents)
			return 0;
	}
}

struct incoming_io {
	struct kr_machine *m;
	int fd;
};

/* The stream's reads, each waiting as incoming_wait() does. */
static ssize_t incoming_read(void *ctx, void *buf, size_t n)
{
	struct incoming_io *in = ctx;

	return kr_read_full(in->fd, buf, n, incoming_wait, in->m);
}

int kr_migrate_incoming(struct kr_machine *m, const char *uri, char *why, size_t len)
{
	struct kr_snap_reader r;
	struct kr_snap_io io = { .read = incoming_read };
	struct incoming_io in = { .m = m, .fd = -1 };
	struct mig_addr a;
	char rwhy[320], ack[400];
	int lfd, fd = -1, err;

	lfd = mig_socket(uri, true, why, len);
	if (lfd < 0)
		return lfd == -EINVAL || lfd == -EADDRINUSE ? KR_EXIT_USAGE : KR_EXIT_HOST;
	fprintf(stderr, "khv-run: waiting for a migration on %s\n", uri);
	m->incoming = true;
	while (fd < 0) {
		err = incoming_wait(m, lfd);
		if (err) {
			if (err == -EINTR)
				snprintf(why, len, "--incoming %s: stopped before a migration came",
					 uri);
			else
				snprintf(why, len, "--incoming %s: poll: %s", uri, strerror(-err));
			m->incoming = false;
			close(lfd);
			return err == -EINTR ? KR_EXIT_POWEROFF : KR_EXIT_HOST;
		}
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0 && errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
			snprintf(why, len, "--incoming %s: accept: %s", uri, strerror(errno));
			m->incoming = false;
			close(lfd);
			return KR_EXIT_HOST;
		}
	}
	close(lfd);
	if (!parse(uri, &a, rwhy, sizeof(rwhy)) && a.unix_socket)
		unlink(a.path);
	in.fd = fd;
	io.ctx = &in;
	err = kr_snap_read_begin(&r, &io);
	if (err)
		snprintf(rwhy, sizeof(rwhy), "%s", err == -EPROTO ? r.why : strerror(-err));
	else
		err = kr_snapshot_read(m, &r, KR_RESTORE_CHANGED_DISKS | KR_RESTORE_REALTIME,
				       rwhy, sizeof(rwhy));
	/* The source has let its disks go before the end of the stream: ours now. */
	for (unsigned int i = 0; !err && i < m->cfg->nr_disks; i++) {
		err = kr_disk_lock(m->cfg->disks[i]);
		if (err == -EBUSY)
			snprintf(rwhy, sizeof(rwhy), "disk %u is locked by another process", i);
		else if (err)
			err = 0;	/* a file system without locks: as at open */
	}
	if (err)
		snprintf(ack, sizeof(ack), MIG_ACK_ERR " %s\n", rwhy);
	else
		snprintf(ack, sizeof(ack), MIG_ACK_OK "\n");
	/*
	 * The source learns the verdict; a source gone already changes nothing
	 * here.  After a refusal the source may still be sending: what it
	 * sends is read and dropped until it stops, so that its end does not
	 * reset the connection before it has read why (10 s at most).
	 */
	fd_write_all(fd, ack);
	if (err) {
		uint64_t until = now_ms() + 10000;
		char sink[65536];

		shutdown(fd, SHUT_WR);
		while (now_ms() < until) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (poll(&p, 1, 500) == 1 && read(fd, sink, sizeof(sink)) <= 0)
				break;
		}
	}
	close(fd);
	m->incoming = false;
	if (!err)
		return 0;
	snprintf(why, len, "--incoming %s: %s", uri, rwhy);
	if (err == -EINTR)
		return KR_EXIT_POWEROFF;	/* asked to end: not a failure */
	return err == -EPROTO || err == -EINVAL ? KR_EXIT_IMAGE : KR_EXIT_HOST;
}
