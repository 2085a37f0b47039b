// SPDX-License-Identifier: GPL-2.0
/*
 * Character back ends (chardev.h).
 *
 * Locking:
 *  - c->lock covers the fds and their watches, the output ring, the input
 *    state (want_input, the ^A decoder, the held byte), the stats and the
 *    owner and quit callbacks' pointers.  The owner calls in with its own
 *    lock held (owner lock -> c->lock); the chardev never calls the owner
 *    with c->lock held.
 *  - c->cb_lock is held while the owner's input callback runs, so that
 *    attach/detach can wait for it: cb_lock -> owner lock -> c->lock.
 *  - term_lock (global) covers the saved terminal states and the one stdio
 *    slot; it is a leaf.
 * Only the I/O thread adds, changes or removes the fd watches (inside our
 * loop callbacks, where the loop takes no lock of its own): another thread
 * that needs a change writes the kick eventfd, because calling into the
 * loop with c->lock held would deadlock against one of our callbacks
 * waiting for c->lock under the loop's lock.  Once c->dying is set the I/O
 * thread only removes watches and closes nothing: destroy() removes what
 * is left and closes the fds, whose numbers therefore cannot be reused
 * under a watch in between.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "chardev.h"

#define IN_CHUNK	512	/* bytes read from the fd per read() */
#define TERM_MAX	16	/* saved fd states, all chardevs together */
#define UNIX_BACKLOG	4

/* The I/O thread's view of one fd: what is registered on the loop. */
struct cd_watch {
	int fd;
	bool reg;
	uint32_t ev;
};

enum { W_IN, W_OUT, W_LISTEN, W_COUNT };

struct kr_chardev {
	pthread_mutex_t lock;
	pthread_mutex_t cb_lock;
	enum kr_chardev_kind kind;
	unsigned int flags;
	struct kr_loop *loop;

	int in_fd, out_fd;		/* unix: both the client's, or -1 */
	bool in_dead, out_dead, out_is_socket;
	bool client_gone;		/* unix: to close on the I/O thread */
	int listen_fd;
	bool listen_dead;
	struct cd_watch w[W_COUNT];

	uint8_t *out;			/* ring of KR_CHARDEV_OUTBUF bytes */
	size_t out_head, out_len;

	int kick_fd;			/* eventfd: another thread asks for a resync */
	bool kick_pending, dying;

	bool want_in;			/* the owner has room */
	bool poke;			/* call the owner once even if the fd is quiet */
	kr_chardev_input_fn *input_fn;
	void *input_opaque;
	void (*quit_fn)(void *opaque);
	void *quit_opaque;
	bool quit_pending;
	bool esc;			/* ^A seen, its command byte next */
	int held;			/* a decoded byte that did not fit, or -1 */

	struct kr_chardev_stats st;

	/* Undone by destroy. */
	bool own_fds, stdio;
	int pty_peer;
	int term[2];			/* saved states of in_fd, out_fd: -1 none */
	bool raw;			/* in_fd is a terminal we made raw */
	char *path;
	dev_t sock_dev;			/* the socket file we made, to unlink only it */
	ino_t sock_ino;
};

/* ---- terminals: raw mode, restored on every way out --------------------- */

struct term_save {
	bool active;
	int fd;
	int fl;				/* fcntl flags before, -1: untouched */
	bool has_tio;
	struct termios tio;
};

static pthread_mutex_t term_lock = PTHREAD_MUTEX_INITIALIZER;
static struct term_save terms[TERM_MAX];
static unsigned int nterms;
static bool term_atexit_done, stdio_taken;

static void term_restore_one(struct term_save *t)
{
	if (!t->active)
		return;
	/* TCSANOW: waiting for output to drain could hang on a stuck terminal. */
	if (t->has_tio)
		tcsetattr(t->fd, TCSANOW, &t->tio);
	if (t->fl >= 0)
		fcntl(t->fd, F_SETFL, t->fl);
	t->active = false;
}

/*
 * Newest first: stdout's flags were saved after stdin's, possibly shared,
 * changed.  The slots stay taken (inactive) until their chardevs give
 * them back, so that no slot is reused under an old owner.
 */
void kr_chardev_restore_terminals(void)
{
	pthread_mutex_lock(&term_lock);
	for (unsigned int i = nterms; i-- > 0;)
		term_restore_one(&terms[i]);
	pthread_mutex_unlock(&term_lock);
}

static void term_atexit(void)
{
	kr_chardev_restore_terminals();
}

/*
 * Raw mode as a VMM console needs it: bytes in and out unchanged, one at a
 * time, no echo; no signal keys, so ^C, ^Z and ^\ reach the guest.
 */
static void term_make_raw(struct termios *t)
{
	t->c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF);
	t->c_oflag &= ~OPOST;
	t->c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t->c_cflag &= ~(CSIZE | PARENB);
	t->c_cflag |= CS8;
	t->c_cc[VMIN] = 1;
	t->c_cc[VTIME] = 0;
}

/*
 * Save fd's state, then make it non-blocking (nonblock) and raw (raw, when
 * it is a terminal).  The slot index, or -1 with errno.  *made_raw says
 * whether raw mode took.
 */
static int term_take(int fd, bool nonblock, bool raw, bool *made_raw)
{
	struct term_save t = { .active = true, .fd = fd, .fl = -1 };
	int idx = -1, fl;

	*made_raw = false;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -1;
	pthread_mutex_lock(&term_lock);
	if (nterms == TERM_MAX) {
		errno = EMFILE;
		goto out;
	}
	if (raw && isatty(fd) && !tcgetattr(fd, &t.tio)) {
		struct termios r = t.tio;

		term_make_raw(&r);
		t.has_tio = !tcsetattr(fd, TCSANOW, &r);
		*made_raw = t.has_tio;
	}
	if (nonblock) {
		t.fl = fl;
		if (fcntl(fd, F_SETFL, fl | O_NONBLOCK)) {
			term_restore_one(&t);
			*made_raw = false;
			goto out;
		}
	}
	if (!term_atexit_done)
		term_atexit_done = !atexit(term_atexit);
	idx = nterms++;
	terms[idx] = t;
out:
	pthread_mutex_unlock(&term_lock);
	return idx;
}

static void term_give_back(int idx)
{
	if (idx < 0)
		return;
	pthread_mutex_lock(&term_lock);
	term_restore_one(&terms[idx]);
	while (nterms && !terms[nterms - 1].active)
		nterms--;
	pthread_mutex_unlock(&term_lock);
}

/* ---- output ------------------------------------------------------------- */

static bool transient(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

static ssize_t sink_write(struct kr_chardev *c, const uint8_t *buf, size_t len)
{
	if (c->out_is_socket)
		return send(c->out_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	return write(c->out_fd, buf, len);
}

static void out_failed(struct kr_chardev *c)
{
	c->out_dead = true;
	c->st.tx_dropped += c->out_len;
	c->out_len = 0;
	c->out_head = 0;
}

/* Write as much of the backlog as the sink takes now. */
static void out_flush(struct kr_chardev *c)
{
	while (c->out_len && !c->out_dead) {
		size_t chunk = KR_CHARDEV_OUTBUF - c->out_head;
		ssize_t n;

		if (chunk > c->out_len)
			chunk = c->out_len;
		n = sink_write(c, c->out + c->out_head, chunk);
		if (n < 0) {
			if (!transient(errno))
				out_failed(c);
			return;
		}
		if (n == 0)
			return;
		c->st.tx_bytes += n;
		c->out_head = (c->out_head + n) % KR_CHARDEV_OUTBUF;
		c->out_len -= n;
	}
	if (!c->out_len)
		c->out_head = 0;
}

/* Straight to the sink while there is no backlog, else behind it, else dropped. */
static void out_put(struct kr_chardev *c, const uint8_t *p, size_t len)
{
	size_t take, tail;

	if (!len)
		return;
	if (c->out_fd < 0 || c->out_dead) {
		c->st.tx_dropped += len;
		return;
	}
	if (c->out_len && !c->loop)
		out_flush(c);		/* nobody else will */
	if (!c->out_len) {
		ssize_t n = sink_write(c, p, len);

		if (n < 0 && !transient(errno)) {
			out_failed(c);
			c->st.tx_dropped += len;
			return;
		}
		if (n > 0) {
			c->st.tx_bytes += n;
			p += n;
			len -= n;
		}
	}
	take = KR_CHARDEV_OUTBUF - c->out_len;
	if (take > len)
		take = len;
	c->st.tx_dropped += len - take;
	tail = (c->out_head + c->out_len) % KR_CHARDEV_OUTBUF;
	for (size_t done = 0; done < take;) {
		size_t n = KR_CHARDEV_OUTBUF - tail;

		if (n > take - done)
			n = take - done;
		memcpy(c->out + tail, p + done, n);
		done += n;
		tail = (tail + n) % KR_CHARDEV_OUTBUF;
	}
	c->out_len += take;
}

/* ---- watches ------------------------------------------------------------ */

static bool input_wanted(const struct kr_chardev *c)
{
	return c->want_in && c->input_fn && c->in_fd >= 0 && !c->in_dead;
}

/* Whether fd should be on the loop, and for which events. */
static bool watch_wanted(const struct kr_chardev *c, int fd, uint32_t *ev)
{
	*ev = 0;
	if (c->dying || fd < 0 || !c->loop)
		return false;
	if (fd == c->listen_fd) {
		*ev = EPOLLIN;
		return !c->listen_dead;
	}
	if (fd == c->in_fd && input_wanted(c))
		*ev |= EPOLLIN;
	if (fd == c->out_fd && !c->out_dead && c->out_len)
		*ev |= EPOLLOUT;
	/* A client stays watched to see it leave: a hang-up is reported whatever the mask. */
	if (c->kind == KR_CHARDEV_UNIX)
		return !c->client_gone;
	/* Others only while needed: a quiet fd may still report a hang-up. */
	return *ev != 0;
}

static bool needs_sync(const struct kr_chardev *c)
{
	if (c->client_gone)
		return true;
	for (unsigned int i = 0; i < W_COUNT; i++) {
		uint32_t ev;
		bool want = watch_wanted(c, c->w[i].fd, &ev);

		if (want != c->w[i].reg || (want && ev != c->w[i].ev))
			return true;
	}
	return false;
}

/* Any thread, c->lock held: have the I/O thread resync (and poke the owner). */
static void kick(struct kr_chardev *c)
{
	uint64_t one = 1;

	if (c->kick_fd < 0 || c->kick_pending || c->dying || !(c->poke || needs_sync(c)))
		return;
	if (write(c->kick_fd, &one, sizeof(one)) == sizeof(one))
		c->kick_pending = true;
}

static kr_fd_fn fd_event;

/* I/O thread, c->lock held. */
static void sync_watch(struct kr_chardev *c, struct cd_watch *w)
{
	for (;;) {
		uint32_t ev;
		bool want = watch_wanted(c, w->fd, &ev);
		int ret;

		if (!want) {
			if (w->reg)
				kr_loop_del(c->loop, w->fd);
			w->reg = false;
			return;
		}
		if (w->reg && w->ev == ev)
			return;
		ret = w->reg ? kr_loop_mod(c->loop, w->fd, ev) :
			       kr_loop_add(c->loop, w->fd, ev, fd_event, c);
		if (!ret) {
			w->reg = true;
			w->ev = ev;
			return;
		}
		/*
		 * Not pollable (EPERM: /dev/null, a regular file) or gone: give
		 * up what needed it, which makes the next want smaller.
		 */
		if (w->fd == c->listen_fd) {
			c->listen_dead = true;
			continue;
		}
		if (ev & EPOLLIN)
			c->in_dead = true;
		if (ev & EPOLLOUT)
			out_failed(c);
		if (c->kind == KR_CHARDEV_UNIX)
			c->client_gone = true;
	}
}

/* I/O thread, c->lock held: the Unix client left (or failed both ways). */
static void client_close(struct kr_chardev *c)
{
	struct cd_watch *w = &c->w[W_IN];

	if (w->reg)
		kr_loop_del(c->loop, w->fd);
	close(w->fd);
	*w = (struct cd_watch){ .fd = -1 };
	c->in_fd = c->out_fd = -1;
	c->st.tx_dropped += c->out_len;
	c->out_len = c->out_head = 0;
	c->client_gone = false;
	c->esc = false;
	c->held = -1;
}

static void sync_all(struct kr_chardev *c)
{
	if (c->kind == KR_CHARDEV_UNIX && c->in_fd >= 0 && c->in_dead && c->out_dead)
		c->client_gone = true;
	for (unsigned int i = 0; i < W_COUNT; i++)
		sync_watch(c, &c->w[i]);
	if (c->client_gone && !c->dying)
		client_close(c);
}

/* ---- input -------------------------------------------------------------- */

static const char help[] =
	"\r\nkhv-run console: ^A x quit, ^A ^A send ^A, ^A h this help\r\n";

static void emit(struct kr_chardev *c, uint8_t *out, size_t room, size_t *w, uint8_t b)
{
	if (*w < room) {
		out[(*w)++] = b;
	} else if (c->held < 0) {
		c->held = b;	/* the second byte of "^A c" at the very end */
	} else {
		c->st.rx_dropped++;	/* cannot happen: at most one extra byte per read */
	}
}

/* Input bytes to owner bytes, with the ^A commands taken out. */
static size_t decode(struct kr_chardev *c, const uint8_t *in, size_t n, uint8_t *out,
		     size_t room)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = in[i];

		if (!(c->flags & KR_CHARDEV_ESCAPES)) {
			emit(c, out, room, &w, b);
			continue;
		}
		if (!c->esc) {
			if (b == KR_CHARDEV_ESC)
				c->esc = true;
			else
				emit(c, out, room, &w, b);
			continue;
		}
		c->esc = false;
		switch (b) {
		case 'x':
		case 'X':
			c->quit_pending = true;
			break;
		case KR_CHARDEV_ESC:
			emit(c, out, room, &w, b);
			break;
		case 'h':
		case 'H':
		case '?':
			out_put(c, (const uint8_t *)help, sizeof(help) - 1);
			break;
		default:
			emit(c, out, room, &w, KR_CHARDEV_ESC);
			emit(c, out, room, &w, b);
			break;
		}
	}
	return w;
}

size_t kr_chardev_read(struct kr_chardev *c, void *buf, size_t len)
{
	uint8_t *out = buf, tmp[IN_CHUNK];
	size_t got = 0;

	pthread_mutex_lock(&c->lock);
	if (c->held >= 0 && len) {
		out[got++] = c->held;
		c->held = -1;
	}
	/* Never more from the fd than asked: the rest stays in the kernel. */
	while (got < len && c->in_fd >= 0 && !c->in_dead) {
		size_t want = len - got < sizeof(tmp) ? len - got : sizeof(tmp);
		ssize_t n = read(c->in_fd, tmp, want);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (!transient(errno))
				c->in_dead = true;	/* EIO: the terminal hung up */
			break;
		}
		if (n == 0) {
			c->in_dead = true;	/* end of file */
			break;
		}
		got += decode(c, tmp, n, out + got, len - got);
		if ((size_t)n < want)
			break;		/* drained */
	}
	c->st.rx_bytes += got;
	pthread_mutex_unlock(&c->lock);
	return got;
}

static void call_owner(struct kr_chardev *c)
{
	pthread_mutex_lock(&c->cb_lock);
	if (c->input_fn)
		c->input_fn(c->input_opaque);
	pthread_mutex_unlock(&c->cb_lock);
}

/* After a callback: resync and, for ^A x, call the quit handler with no lock held. */
static void finish_event(struct kr_chardev *c)
{
	void (*quit)(void *) = NULL;
	void *quit_opaque = NULL;

	pthread_mutex_lock(&c->lock);
	/* A byte held back shows on no fd: come back for it while it is wanted. */
	if (c->held >= 0 && c->want_in && c->input_fn)
		c->poke = true;
	sync_all(c);
	kick(c);
	if (c->quit_pending) {
		c->quit_pending = false;
		quit = c->quit_fn;
		quit_opaque = c->quit_opaque;
	}
	pthread_mutex_unlock(&c->lock);
	if (quit)
		quit(quit_opaque);
}

/* ---- loop callbacks (I/O thread) ---------------------------------------- */

static void accept_client(struct kr_chardev *c)
{
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		if (transient(errno) || errno == ECONNABORTED)
			return;
		/* Out of fds and such: the connection stays queued; stop listening. */
		fprintf(stderr, "khv-run: console %s: accept: %s; no more clients\n", c->path,
			strerror(errno));
		c->listen_dead = true;
		return;
	}
	if (c->in_fd >= 0 || c->dying) {
		close(fd);	/* one client at a time: the next one sees end of file */
		c->st.refused++;
		return;
	}
	c->in_fd = c->out_fd = fd;
	c->w[W_IN] = (struct cd_watch){ .fd = fd };
	c->in_dead = c->out_dead = false;
	c->st.connects++;
}

static void fd_event(void *opaque, int fd, uint32_t events)
{
	struct kr_chardev *c = opaque;
	const uint32_t gone = EPOLLHUP | EPOLLERR;
	bool call = false, hup = false;

	pthread_mutex_lock(&c->lock);
	if (fd == c->listen_fd) {
		if (!c->dying)
			accept_client(c);
		pthread_mutex_unlock(&c->lock);
		finish_event(c);
		return;
	}
	/* A hang-up or error shows as end of file or an error of the read. */
	if (fd == c->in_fd && (events & (EPOLLIN | gone)) && input_wanted(c))
		call = true;
	if (fd == c->out_fd && (events & (EPOLLOUT | gone)) && c->out_len)
		out_flush(c);
	/* A Unix client's half-close is only the end of its input (read() says so). */
	if (c->kind == KR_CHARDEV_UNIX && fd == c->in_fd)
		hup = events & gone;
	pthread_mutex_unlock(&c->lock);
	if (call)
		call_owner(c);
	if (hup) {
		int pending = 0;

		pthread_mutex_lock(&c->lock);
		/* The client is gone for good: what it sent and nobody took is lost. */
		if (fd == c->in_fd && !c->client_gone) {
			if (!ioctl(fd, FIONREAD, &pending) && pending > 0)
				c->st.rx_dropped += pending;
			c->client_gone = true;
		}
		pthread_mutex_unlock(&c->lock);
	}
	finish_event(c);
}

static void kick_event(void *opaque, int fd, uint32_t events)
{
	struct kr_chardev *c = opaque;
	bool poke;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* already drained */
	}
	pthread_mutex_lock(&c->lock);
	c->kick_pending = false;
	poke = c->poke && c->want_in && c->input_fn;
	c->poke = false;
	sync_all(c);
	pthread_mutex_unlock(&c->lock);
	if (poke)
		call_owner(c);
	finish_event(c);
}

/* ---- the owner's calls -------------------------------------------------- */

void kr_chardev_attach(struct kr_chardev *c, kr_chardev_input_fn *fn, void *opaque)
{
	pthread_mutex_lock(&c->cb_lock);
	pthread_mutex_lock(&c->lock);
	c->input_fn = fn;
	c->input_opaque = opaque;
	c->want_in = false;
	kick(c);
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&c->cb_lock);
}

void kr_chardev_write(struct kr_chardev *c, const void *buf, size_t len)
{
	pthread_mutex_lock(&c->lock);
	out_put(c, buf, len);
	kick(c);
	pthread_mutex_unlock(&c->lock);
}

void kr_chardev_want_input(struct kr_chardev *c, bool want)
{
	pthread_mutex_lock(&c->lock);
	/* Bytes may already wait (held here or by the owner): call it once anyway. */
	if (want && !c->want_in && c->input_fn)
		c->poke = true;
	c->want_in = want;
	kick(c);
	pthread_mutex_unlock(&c->lock);
}

void kr_chardev_set_quit(struct kr_chardev *c, void (*fn)(void *opaque), void *opaque)
{
	pthread_mutex_lock(&c->lock);
	c->quit_fn = fn;
	c->quit_opaque = opaque;
	pthread_mutex_unlock(&c->lock);
}

void kr_chardev_get_stats(struct kr_chardev *c, struct kr_chardev_stats *st)
{
	pthread_mutex_lock(&c->lock);
	*st = c->st;
	pthread_mutex_unlock(&c->lock);
}

enum kr_chardev_kind kr_chardev_kind(const struct kr_chardev *c)
{
	return c->kind;
}

const char *kr_chardev_path(const struct kr_chardev *c)
{
	return c->path;
}

bool kr_chardev_winsize(struct kr_chardev *c, uint16_t *cols, uint16_t *rows)
{
	struct winsize ws;

	if (!c->raw || ioctl(c->in_fd, TIOCGWINSZ, &ws) || !ws.ws_col || !ws.ws_row)
		return false;
	*cols = ws.ws_col;
	*rows = ws.ws_row;
	return true;
}

/* ---- life cycle --------------------------------------------------------- */

static struct kr_chardev *chardev_new(enum kr_chardev_kind kind, struct kr_loop *loop)
{
	struct kr_chardev *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->out = malloc(KR_CHARDEV_OUTBUF);
	if (!c->out) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->cb_lock, NULL);
	c->kind = kind;
	c->loop = loop;
	c->in_fd = c->out_fd = c->listen_fd = c->kick_fd = c->pty_peer = -1;
	c->term[0] = c->term[1] = -1;
	c->held = -1;
	for (unsigned int i = 0; i < W_COUNT; i++)
		c->w[i].fd = -1;
	if (loop) {
		int ret;

		c->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (c->kick_fd < 0)
			goto fail;
		ret = kr_loop_add(loop, c->kick_fd, EPOLLIN, kick_event, c);
		if (ret) {
			errno = -ret;
			goto fail;
		}
	}
	return c;
fail:
	if (c->kick_fd >= 0)
		close(c->kick_fd);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->cb_lock);
	free(c->out);
	free(c);
	return NULL;
}

/* The fds are known: the I/O thread registers what is wanted. */
static void chardev_start(struct kr_chardev *c)
{
	struct stat stb;

	c->out_is_socket = c->out_fd >= 0 && !fstat(c->out_fd, &stb) && S_ISSOCK(stb.st_mode);
	c->w[W_IN].fd = c->in_fd;
	c->w[W_OUT].fd = c->out_fd != c->in_fd ? c->out_fd : -1;
	c->w[W_LISTEN].fd = c->listen_fd;
	pthread_mutex_lock(&c->lock);
	kick(c);
	pthread_mutex_unlock(&c->lock);
}

struct kr_chardev *kr_chardev_open_fds(int in_fd, int out_fd, struct kr_loop *loop,
				       unsigned int flags)
{
	struct kr_chardev *c = chardev_new(KR_CHARDEV_FDS, loop);

	if (!c)
		return NULL;
	c->flags = flags;
	c->own_fds = flags & KR_CHARDEV_OWN_FDS;
	c->in_fd = in_fd < 0 ? -1 : in_fd;
	c->out_fd = out_fd < 0 ? -1 : out_fd;
	if ((flags & KR_CHARDEV_RAW) && c->in_fd >= 0)
		c->term[0] = term_take(c->in_fd, false, true, &c->raw);
	chardev_start(c);
	return c;
}

static struct kr_chardev *open_stdio(struct kr_loop *loop)
{
	struct kr_chardev *c;
	bool raw = false, unused;
	int term[2];

	pthread_mutex_lock(&term_lock);
	if (stdio_taken) {
		pthread_mutex_unlock(&term_lock);
		errno = EBUSY;
		return NULL;
	}
	stdio_taken = true;
	pthread_mutex_unlock(&term_lock);
	/* A closed stdin or stdout is no error: no input, or output dropped. */
	term[0] = term_take(STDIN_FILENO, true, true, &raw);
	term[1] = term_take(STDOUT_FILENO, true, false, &unused);
	c = kr_chardev_open_fds(term[0] >= 0 ? STDIN_FILENO : -1,
				term[1] >= 0 ? STDOUT_FILENO : -1, loop,
				raw ? KR_CHARDEV_ESCAPES : 0);
	if (!c) {
		int err = errno;

		term_give_back(term[1]);
		term_give_back(term[0]);
		pthread_mutex_lock(&term_lock);
		stdio_taken = false;
		pthread_mutex_unlock(&term_lock);
		errno = err;
		return NULL;
	}
	c->kind = KR_CHARDEV_STDIO;
	c->stdio = true;
	c->raw = raw;
	c->term[0] = term[0];
	c->term[1] = term[1];
	return c;
}

static struct kr_chardev *open_pty(struct kr_loop *loop)
{
	struct termios raw;
	struct kr_chardev *c;
	char path[64];
	int master, peer, err;

	if (openpty(&master, &peer, NULL, NULL, NULL))
		return NULL;
	/* The far end raw: no echo of the guest's output back to it, no CR/LF rewriting. */
	if (tcgetattr(peer, &raw))
		goto fail;
	term_make_raw(&raw);
	if (tcsetattr(peer, TCSANOW, &raw) ||
	    fcntl(master, F_SETFD, FD_CLOEXEC) || fcntl(peer, F_SETFD, FD_CLOEXEC) ||
	    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK) ||
	    ptsname_r(master, path, sizeof(path)))
		goto fail;
	c = kr_chardev_open_fds(master, master, loop, KR_CHARDEV_OWN_FDS);
	if (!c)
		goto fail;
	c->kind = KR_CHARDEV_PTY;
	/* Kept open so that nobody connected is no hang-up (no EIO, no HUP spin). */
	c->pty_peer = peer;
	c->path = strdup(path);
	return c;
fail:
	err = errno ? errno : EINVAL;
	close(master);
	close(peer);
	errno = err;
	return NULL;
}

static struct kr_chardev *open_file(const char *path, struct kr_loop *loop)
{
	struct kr_chardev *c;
	int fd, err;

	/* O_NONBLOCK: a FIFO with no reader fails at once instead of hanging here. */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0644);
	if (fd < 0)
		return NULL;
	c = kr_chardev_open_fds(-1, fd, loop, KR_CHARDEV_OWN_FDS);
	if (!c) {
		err = errno;
		close(fd);
		errno = err;
		return NULL;
	}
	c->kind = KR_CHARDEV_FILE;
	c->path = strdup(path);
	return c;
}

/* Refuse a path that is not a socket or has a live server; clear a stale one. */
static int unix_listen(const char *path, struct stat *st)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(a.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(a.sun_path, path);
	if (!lstat(path, st)) {
		int probe, r, e;

		if (!S_ISSOCK(st->st_mode)) {
			errno = EEXIST;
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (probe < 0)
			return -1;
		r = connect(probe, (struct sockaddr *)&a, sizeof(a));
		e = errno;
		close(probe);
		if (!r || e == EAGAIN || e == EINPROGRESS) {
			errno = EADDRINUSE;
			return -1;
		}
		if (e != ECONNREFUSED && e != ENOENT) {
			errno = e;
			return -1;
		}
		if (unlink(path) && errno != ENOENT)
			return -1;
	} else if (errno != ENOENT) {
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
		goto fail;
	/* The console is the guest's root shell, maybe: the owner only, whatever the umask. */
	if (chmod(path, 0600) || lstat(path, st) || listen(fd, UNIX_BACKLOG)) {
		err = errno;
		unlink(path);
		errno = err;
		goto fail;
	}
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

static struct kr_chardev *open_unix(const char *path, struct kr_loop *loop)
{
	struct kr_chardev *c;
	struct stat st;
	int fd, err;

	if (!loop) {
		errno = EINVAL;
		return NULL;
	}
	fd = unix_listen(path, &st);
	if (fd < 0)
		return NULL;
	c = chardev_new(KR_CHARDEV_UNIX, loop);
	if (!c) {
		err = errno;
		unlink(path);
		close(fd);
		errno = err;
		return NULL;
	}
	c->listen_fd = fd;
	c->sock_dev = st.st_dev;
	c->sock_ino = st.st_ino;
	c->path = strdup(path);
	chardev_start(c);
	return c;
}

static const char kinds_help[] = "want stdio, pty, file:PATH, unix:PATH or none";

int kr_chardev_parse(const char *spec, char *why, size_t why_len)
{
	if (!strcmp(spec, "stdio") || !strcmp(spec, "pty") || !strcmp(spec, "none"))
		return 0;
	if (!strncmp(spec, "file:", 5) && spec[5])
		return 0;
	if (!strncmp(spec, "unix:", 5) && spec[5]) {
		if (strlen(spec + 5) < sizeof(((struct sockaddr_un *)0)->sun_path))
			return 0;
		snprintf(why, why_len, "unix: socket path too long (at most %zu bytes)",
			 sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return -EINVAL;
	}
	snprintf(why, why_len, "'%s': %s", spec, kinds_help);
	return -EINVAL;
}

struct kr_chardev *kr_chardev_open(const char *spec, struct kr_loop *loop, char *why,
				   size_t why_len)
{
	struct kr_chardev *c;

	if (kr_chardev_parse(spec, why, why_len)) {
		errno = EINVAL;
		return NULL;
	}
	errno = 0;
	if (!strcmp(spec, "none"))
		c = chardev_new(KR_CHARDEV_NONE, loop);
	else if (!strcmp(spec, "stdio"))
		c = open_stdio(loop);
	else if (!strcmp(spec, "pty"))
		c = open_pty(loop);
	else if (!strncmp(spec, "file:", 5))
		c = open_file(spec + 5, loop);
	else
		c = open_unix(spec + 5, loop);
	if (!c) {
		int err = errno ? errno : EINVAL;

		if (err == EBUSY && !strcmp(spec, "stdio"))
			snprintf(why, why_len, "stdio: already the back end of another console");
		else if (err == EINVAL && !loop)
			snprintf(why, why_len, "%s: needs the I/O loop", spec);
		else
			snprintf(why, why_len, "%s: %s", spec, strerror(err));
		errno = err;
		return NULL;
	}
	return c;
}

void kr_chardev_destroy(struct kr_chardev *c)
{
	if (!c)
		return;
	kr_chardev_attach(c, NULL, NULL);	/* waits for a running input callback */
	pthread_mutex_lock(&c->lock);
	c->dying = true;	/* callbacks still running only remove watches now */
	pthread_mutex_unlock(&c->lock);
	if (c->loop) {
		kr_loop_del(c->loop, c->kick_fd);
		for (unsigned int i = 0; i < W_COUNT; i++)
			if (c->w[i].fd >= 0)
				kr_loop_del(c->loop, c->w[i].fd);
		close(c->kick_fd);
	}
	out_flush(c);		/* best effort, non-blocking */
	term_give_back(c->term[1]);
	term_give_back(c->term[0]);
	if (c->own_fds || c->kind == KR_CHARDEV_UNIX) {
		if (c->in_fd >= 0)
			close(c->in_fd);
		if (c->out_fd >= 0 && c->out_fd != c->in_fd)
			close(c->out_fd);
	}
	if (c->listen_fd >= 0) {
		struct stat st;

		/* Only the socket we made: someone may have replaced it since. */
		if (!lstat(c->path, &st) && st.st_dev == c->sock_dev && st.st_ino == c->sock_ino)
			unlink(c->path);
		close(c->listen_fd);
	}
	if (c->pty_peer >= 0)
		close(c->pty_peer);
	if (c->stdio) {
		pthread_mutex_lock(&term_lock);
		stdio_taken = false;
		pthread_mutex_unlock(&term_lock);
	}
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->cb_lock);
	free(c->path);
	free(c->out);
	free(c);
}
