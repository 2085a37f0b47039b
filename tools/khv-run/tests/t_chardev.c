// SPDX-License-Identifier: GPL-2.0
/*
 * The character back ends (chardev.c) through real fds and a real I/O
 * thread: each kind, output back-pressure and drop counting, input flow
 * control, Unix socket clients coming and going, raw mode set and restored
 * on a pty standing in for the terminal (also as the real stdin/stdout),
 * and the ^A commands.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../chardev.h"
#include "t.h"
#include "tio.h"

/* ---- fixtures ----------------------------------------------------------- */

static struct kr_loop *loop_start(pthread_t *th)
{
	struct kr_loop *l = kr_loop_new();

	if (!l || pthread_create(th, NULL, loop_main, l))
		abort();
	return l;
}

static struct kr_chardev_stats stats(struct kr_chardev *c)
{
	struct kr_chardev_stats st;

	kr_chardev_get_stats(c, &st);
	return st;
}

/*
 * A test owner as a device would be: a buffer of cap bytes it fills from
 * its input callback, at most chunk bytes per read, wanting input while
 * it has room.
 */
struct owner {
	struct kr_chardev *c;
	pthread_mutex_t lock;
	uint8_t buf[1 << 16];
	size_t len, cap, chunk;
	int calls;
};

static void owner_input(void *opaque)
{
	struct owner *o = opaque;

	pthread_mutex_lock(&o->lock);
	o->calls++;
	if (o->len < o->cap) {
		size_t want = o->cap - o->len < o->chunk ? o->cap - o->len : o->chunk;

		o->len += kr_chardev_read(o->c, o->buf + o->len, want);
	}
	if (o->len == o->cap)
		kr_chardev_want_input(o->c, false);
	pthread_mutex_unlock(&o->lock);
}

static void owner_init(struct owner *o, struct kr_chardev *c, size_t cap, size_t chunk)
{
	memset(o, 0, sizeof(*o));
	pthread_mutex_init(&o->lock, NULL);
	o->c = c;
	o->cap = cap;
	o->chunk = chunk;
	kr_chardev_attach(c, owner_input, o);
	kr_chardev_want_input(c, true);
}

/* The guest made room: more input is welcome. */
static void owner_room(struct owner *o, size_t cap)
{
	pthread_mutex_lock(&o->lock);
	o->cap = cap;
	kr_chardev_want_input(o->c, o->len < o->cap);
	pthread_mutex_unlock(&o->lock);
}

static size_t owner_len(struct owner *o)
{
	size_t n;

	pthread_mutex_lock(&o->lock);
	n = o->len;
	pthread_mutex_unlock(&o->lock);
	return n;
}

static size_t owner_wait(struct owner *o, size_t n, int timeout_ms)
{
	size_t last = owner_len(o);

	for (int idle = 0; last < n && idle < timeout_ms; idle++) {
		size_t now;

		sleep_ms(1);
		now = owner_len(o);
		if (now != last)
			idle = 0;
		last = now;
	}
	return last;
}

static void owner_fini(struct owner *o)
{
	kr_chardev_attach(o->c, NULL, NULL);
	pthread_mutex_destroy(&o->lock);
}

static int quits;

static void on_quit(void *opaque)
{
	(void)opaque;
	__atomic_add_fetch(&quits, 1, __ATOMIC_SEQ_CST);
}

static void tmp_path(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "/tmp/kr-chardev-%d-%s", (int)getpid(), what);
	unlink(buf);
}

/* ---- specs -------------------------------------------------------------- */

KR_TEST(chardev_parse)
{
	static const char *const good[] = { "stdio", "pty", "none", "file:x", "unix:/tmp/s" };
	static const char *const bad[] = { "", "tty", "file:", "unix:", "stdio2", "File:x", "pty:" };
	char why[128], path[200];

	for (unsigned int i = 0; i < ARRAY_SIZE(good); i++)
		CHECK_EQ(kr_chardev_parse(good[i], why, sizeof(why)), 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		why[0] = 0;
		CHECK_EQ(kr_chardev_parse(bad[i], why, sizeof(why)), -EINVAL);
		CHECK(strstr(why, "want stdio, pty, file:PATH, unix:PATH or none") != NULL);
	}
	memset(path, 'a', sizeof(path));
	memcpy(path, "unix:/", 6);
	path[sizeof(path) - 1] = 0;
	CHECK_EQ(kr_chardev_parse(path, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "too long") != NULL);

	/* Open errors are one sentence naming the spec. */
	CHECK(kr_chardev_open("nope", NULL, why, sizeof(why)) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK(kr_chardev_open("file:/nonexistent/dir/f", NULL, why, sizeof(why)) == NULL);
	CHECK_STR(why, "file:/nonexistent/dir/f: No such file or directory");
	CHECK(kr_chardev_open("unix:/tmp/x", NULL, why, sizeof(why)) == NULL);
	CHECK_STR(why, "unix:/tmp/x: needs the I/O loop");
}

KR_TEST(chardev_none)
{
	char why[64];
	struct kr_chardev *c = kr_chardev_open("none", NULL, why, sizeof(why));
	uint8_t b[4];

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_EQ(kr_chardev_kind(c), KR_CHARDEV_NONE);
	CHECK(kr_chardev_path(c) == NULL);
	kr_chardev_write(c, "hello", 5);
	CHECK_EQ(stats(c).tx_dropped, 5);
	CHECK_EQ(stats(c).tx_bytes, 0);
	CHECK_EQ(kr_chardev_read(c, b, sizeof(b)), 0);
	CHECK(!kr_chardev_winsize(c, (uint16_t *)b, (uint16_t *)b + 1));
	kr_chardev_destroy(c);
	kr_chardev_destroy(NULL);
}

/* ---- output ------------------------------------------------------------- */

KR_TEST(chardev_output_direct)
{
	struct kr_chardev *c;
	char buf[16];
	int p[2];

	CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	c = kr_chardev_open_fds(-1, p[1], NULL, 0);
	kr_chardev_write(c, "hello", 5);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 5);
	CHECK(!memcmp(buf, "hello", 5));
	CHECK_EQ(stats(c).tx_bytes, 5);
	kr_chardev_destroy(c);
	/* Not ours: still open. */
	CHECK_EQ(write(p[1], "x", 1), 1);
	close(p[0]);
	close(p[1]);

	/* The reader went away: EPIPE (SIGPIPE ignored by the harness), then drops. */
	CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	c = kr_chardev_open_fds(-1, p[1], NULL, KR_CHARDEV_OWN_FDS);
	close(p[0]);
	{
		struct sigaction ign = { .sa_handler = SIG_IGN }, old;

		sigaction(SIGPIPE, &ign, &old);
		kr_chardev_write(c, "ab", 2);
		kr_chardev_write(c, "c", 1);
		sigaction(SIGPIPE, &old, NULL);
	}
	CHECK_EQ(stats(c).tx_dropped, 3);
	kr_chardev_destroy(c);
	CHECK(fcntl(p[1], F_GETFD) < 0);	/* owned: closed */
}

/* A stuck sink never blocks the writer: buffered, then dropped, then flushed in order. */
KR_TEST(chardev_output_backpressure)
{
	const size_t total = 4096 + KR_CHARDEV_OUTBUF + 30000;
	uint8_t *src = malloc(total), *got = malloc(total);
	struct kr_chardev *c;
	struct kr_loop *l;
	pthread_t th;
	size_t n;
	int p[2], psz, inpipe;

	for (size_t i = 0; i < total; i++)
		src[i] = i * 7 % 251;
	CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	psz = fcntl(p[1], F_SETPIPE_SZ, 4096);
	CHECK(psz >= 4096);
	l = loop_start(&th);
	c = kr_chardev_open_fds(-1, p[1], l, 0);
	/*
	 * In odd-sized pieces, as a device would.  A pipe takes a write of up
	 * to 4 KiB whole or not at all: it fills to a multiple of 777.
	 */
	for (size_t off = 0; off < total; off += 777)
		kr_chardev_write(c, src + off, total - off < 777 ? total - off : 777);
	inpipe = pending(p[0]);
	CHECK_EQ(inpipe, psz - psz % 777);
	CHECK_EQ(stats(c).tx_dropped, total - inpipe - KR_CHARDEV_OUTBUF);
	n = read_some(p[0], got, total, 50);	/* ends after 50 ms of quiet: no more comes */
	CHECK_EQ(n, inpipe + KR_CHARDEV_OUTBUF);
	CHECK(!memcmp(got, src, n));		/* the first bytes, in order */
	CHECK_EQ(stats(c).tx_bytes, n);
	/* Drained: straight through again. */
	kr_chardev_write(c, "Z", 1);
	CHECK_EQ(read(p[0], got, 4), 1);
	CHECK_EQ(got[0], 'Z');
	kr_chardev_destroy(c);
	loop_stop(l, th);

	/* Without a loop the backlog goes out on the next write, before it. */
	c = kr_chardev_open_fds(-1, p[1], NULL, 0);
	kr_chardev_write(c, src, psz);
	kr_chardev_write(c, src, 100);
	CHECK_EQ(read_some(p[0], got, total, 20), (size_t)psz);
	kr_chardev_write(c, "!", 1);
	n = read_some(p[0], got, total, 20);
	CHECK_EQ(n, 101);
	CHECK_EQ(got[n - 1], '!');
	CHECK(!memcmp(got, src, 100));
	kr_chardev_destroy(c);
	close(p[0]);
	close(p[1]);
	free(src);
	free(got);
}

/* ---- input -------------------------------------------------------------- */

/* The owner's room bounds what is read; the rest waits in the fd, nothing is lost. */
KR_TEST(chardev_input_flow)
{
	uint8_t data[1000];
	struct owner o;
	struct kr_chardev *c;
	struct kr_loop *l;
	pthread_t th;
	int p[2];

	for (int i = 0; i < 1000; i++)
		data[i] = i * 13;
	CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	l = loop_start(&th);
	c = kr_chardev_open_fds(p[0], -1, l, 0);
	owner_init(&o, c, 100, 7);
	CHECK_EQ(write(p[1], data, 1000), 1000);
	CHECK_EQ(owner_wait(&o, 100, 200), 100);
	sleep_ms(20);
	CHECK_EQ(owner_len(&o), 100);		/* no more than the room */
	CHECK_EQ(pending(p[0]), 900);		/* the rest is not read */
	owner_room(&o, 1000);
	CHECK_EQ(owner_wait(&o, 1000, 500), 1000);
	CHECK(!memcmp(o.buf, data, 1000));
	CHECK_EQ(stats(c).rx_bytes, 1000);

	/* The writer leaves with the owner full: what it wrote still arrives. */
	owner_room(&o, 1000);
	CHECK_EQ(write(p[1], data, 50), 50);
	close(p[1]);
	sleep_ms(20);
	owner_room(&o, 1050);
	CHECK_EQ(owner_wait(&o, 1050, 500), 1050);
	CHECK(!memcmp(o.buf + 1000, data, 50));
	/* Wanting again after end of file pokes the owner once, harmlessly. */
	{
		int calls;

		owner_room(&o, 1060);
		sleep_ms(20);
		calls = o.calls;
		sleep_ms(20);
		CHECK_EQ(o.calls, calls);	/* no spin on the dead fd */
	}
	owner_fini(&o);
	kr_chardev_destroy(c);
	loop_stop(l, th);
	close(p[0]);
}

/* want_input false -> true calls the owner even when the fd is quiet (bytes it staged). */
KR_TEST(chardev_input_poke)
{
	struct owner o;
	struct kr_chardev *c;
	struct kr_loop *l;
	pthread_t th;
	int p[2], calls;

	CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	l = loop_start(&th);
	c = kr_chardev_open_fds(p[0], -1, l, 0);
	owner_init(&o, c, 10, 10);
	sleep_ms(20);
	calls = o.calls;
	CHECK(calls >= 1);			/* the first want */
	owner_room(&o, 10);			/* still wanting: no edge, no call */
	sleep_ms(20);
	CHECK_EQ(o.calls, calls);
	kr_chardev_want_input(c, false);
	kr_chardev_want_input(c, true);
	sleep_ms(20);
	CHECK_EQ(o.calls, calls + 1);
	/* Detached: no more calls, whatever happens. */
	owner_fini(&o);
	CHECK_EQ(write(p[1], "x", 1), 1);
	kr_chardev_want_input(c, true);
	sleep_ms(20);
	CHECK_EQ(o.calls, calls + 1);
	CHECK_EQ(pending(p[0]), 1);
	kr_chardev_destroy(c);
	loop_stop(l, th);
	close(p[0]);
	close(p[1]);
}

/* ---- kinds -------------------------------------------------------------- */

KR_TEST(chardev_file)
{
	char path[64], why[128], buf[80];
	struct kr_chardev *c;
	int fd, fds = t_count_fds();

	tmp_path(path, sizeof(path), "file");
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK_EQ(write(fd, "old\n", 4), 4);
	close(fd);
	snprintf(buf, sizeof(buf), "file:%s", path);
	c = kr_chardev_open(buf, NULL, why, sizeof(why));
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_EQ(kr_chardev_kind(c), KR_CHARDEV_FILE);
	CHECK_STR(kr_chardev_path(c), path);
	kr_chardev_write(c, "new\n", 4);
	CHECK_EQ(kr_chardev_read(c, buf, sizeof(buf)), 0);
	kr_chardev_destroy(c);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK_EQ(read(fd, buf, sizeof(buf)), 8);
	CHECK(!memcmp(buf, "old\nnew\n", 8));	/* appended */
	close(fd);
	unlink(path);
	CHECK_EQ(t_count_fds(), fds);
}

KR_TEST(chardev_pty)
{
	int fds = t_count_fds();
	char why[64], got[8];
	struct kr_chardev *c;
	struct kr_loop *l;
	struct termios t;
	struct owner o;
	pthread_t th;
	int fd;

	l = loop_start(&th);
	c = kr_chardev_open("pty", l, why, sizeof(why));
	CHECK(c != NULL);
	if (!c) {
		loop_stop(l, th);
		return;
	}
	CHECK_EQ(kr_chardev_kind(c), KR_CHARDEV_PTY);
	CHECK(!strncmp(kr_chardev_path(c), "/dev/pts/", 9));
	owner_init(&o, c, 100, 100);
	fd = open(kr_chardev_path(c), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	CHECK(fd >= 0);
	/* The far end is raw: bytes unchanged, no echo. */
	CHECK_EQ(tcgetattr(fd, &t), 0);
	CHECK_EQ(t.c_lflag & (ECHO | ICANON | ISIG), 0);
	CHECK_EQ(t.c_oflag & OPOST, 0);
	kr_chardev_write(c, "o\n", 2);
	CHECK_EQ(read_some(fd, got, 2, 500), 2);
	CHECK(!memcmp(got, "o\n", 2));
	CHECK_EQ(write(fd, "in\r", 3), 3);
	CHECK_EQ(owner_wait(&o, 3, 500), 3);
	CHECK(!memcmp(o.buf, "in\r", 3));	/* no CR -> LF */
	close(fd);
	/* Nobody connected: output neither blocks nor fails, input is quiet. */
	for (int i = 0; i < 100; i++)
		kr_chardev_write(c, "x", 1);
	CHECK_EQ(stats(c).tx_dropped, 0);
	sleep_ms(20);
	CHECK_EQ(owner_len(&o), 3);
	owner_fini(&o);
	kr_chardev_destroy(c);
	loop_stop(l, th);
	CHECK_EQ(t_count_fds(), fds);
}

static int unix_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);		/* a test never hangs on a read */
	return fd;
}

/* True when the peer closed fd within ms. */
static bool wait_eof(int fd, int ms)
{
	char b;

	for (int i = 0; i < ms; i++) {
		if (read(fd, &b, 1) == 0)
			return true;
		sleep_ms(1);
	}
	return false;
}

static bool wait_stat(struct kr_chardev *c, uint64_t connects, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (stats(c).connects >= connects)
			return true;
		sleep_ms(1);
	}
	return false;
}

KR_TEST(chardev_unix)
{
	int fds = t_count_fds();
	char path[64], spec[80], why[128], got[16];
	struct kr_chardev *c, *c2;
	struct kr_loop *l;
	struct owner o;
	struct stat st;
	pthread_t th;
	int a, b;

	tmp_path(path, sizeof(path), "sock");
	snprintf(spec, sizeof(spec), "unix:%s", path);
	l = loop_start(&th);
	c = kr_chardev_open(spec, l, why, sizeof(why));
	CHECK(c != NULL);
	if (!c) {
		loop_stop(l, th);
		return;
	}
	CHECK_EQ(kr_chardev_kind(c), KR_CHARDEV_UNIX);
	CHECK_EQ(lstat(path, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0600);
	owner_init(&o, c, sizeof(o.buf), 64);

	/* Nobody connected: output dropped and counted. */
	kr_chardev_write(c, "lost", 4);
	CHECK_EQ(stats(c).tx_dropped, 4);

	a = unix_connect(path);
	CHECK(a >= 0);
	CHECK(wait_stat(c, 1, 500));
	kr_chardev_write(c, "to-a", 4);
	CHECK_EQ(read_some(a, got, 4, 500), 4);
	CHECK(!memcmp(got, "to-a", 4));
	CHECK_EQ(write(a, "from-a", 6), 6);
	CHECK_EQ(owner_wait(&o, 6, 500), 6);
	CHECK(!memcmp(o.buf, "from-a", 6));

	/* One client at a time: the second sees end of file at once. */
	b = unix_connect(path);
	CHECK(b >= 0);
	CHECK(wait_eof(b, 500));
	CHECK_EQ(stats(c).refused, 1);
	close(b);

	/* Half-close: input ends, output goes on. */
	shutdown(a, SHUT_WR);
	sleep_ms(20);
	kr_chardev_write(c, "still", 5);
	CHECK_EQ(read_some(a, got, 5, 500), 5);
	/* Gone: output dropped again, with what was waiting. */
	close(a);
	sleep_ms(20);
	kr_chardev_write(c, "gone", 4);
	CHECK_EQ(stats(c).tx_dropped, 8);

	/* Reconnect: a new client gets new output and is heard. */
	a = unix_connect(path);
	CHECK(a >= 0);
	CHECK(wait_stat(c, 2, 500));
	kr_chardev_write(c, "again", 5);
	CHECK_EQ(read_some(a, got, 5, 500), 5);
	CHECK(!memcmp(got, "again", 5));
	CHECK_EQ(write(a, "B", 1), 1);
	CHECK_EQ(owner_wait(&o, 7, 500), 7);
	CHECK_EQ(o.buf[6], 'B');
	/* Leaves with input nobody took (the owner is full): counted. */
	owner_room(&o, 7);
	CHECK_EQ(write(a, "xyz", 3), 3);
	close(a);
	sleep_ms(30);
	CHECK_EQ(stats(c).rx_dropped, 3);
	CHECK_EQ(stats(c).rx_bytes, 7);
	/* A live server keeps its path (the probe is a client that leaves at once). */
	c2 = kr_chardev_open(spec, l, why, sizeof(why));
	CHECK(c2 == NULL);
	CHECK(strstr(why, "Address already in use") != NULL);
	CHECK(wait_stat(c, 3, 500));
	owner_fini(&o);
	kr_chardev_destroy(c);
	CHECK(lstat(path, &st) < 0);		/* unlinked */

	/* A stale socket (no server) is replaced; a file is not. */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		CHECK_EQ(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(s);
		c = kr_chardev_open(spec, l, why, sizeof(why));
		CHECK(c != NULL);
		kr_chardev_destroy(c);
		s = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		close(s);
		CHECK(kr_chardev_open(spec, l, why, sizeof(why)) == NULL);
		CHECK(strstr(why, "File exists") != NULL);
		unlink(path);
	}
	loop_stop(l, th);
	CHECK_EQ(t_count_fds(), fds);
}

/* ---- terminals ---------------------------------------------------------- */

static bool same_termios(const struct termios *a, const struct termios *b)
{
	return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag &&
	       a->c_cflag == b->c_cflag && a->c_lflag == b->c_lflag &&
	       !memcmp(a->c_cc, b->c_cc, sizeof(a->c_cc));
}

static bool is_raw(int fd)
{
	struct termios t;

	return !tcgetattr(fd, &t) && !(t.c_lflag & (ECHO | ICANON | ISIG | IEXTEN)) &&
	       !(t.c_oflag & OPOST) && !(t.c_iflag & (ICRNL | IXON)) &&
	       t.c_cc[VMIN] == 1 && t.c_cc[VTIME] == 0;
}

KR_TEST(chardev_raw_mode)
{
	struct termios before, after;
	struct winsize ws = { .ws_row = 40, .ws_col = 132 };
	struct kr_chardev *c;
	uint16_t cols = 0, rows = 0;
	int m, s;

	CHECK_EQ(openpty(&m, &s, NULL, NULL, NULL), 0);
	CHECK_EQ(tcgetattr(s, &before), 0);
	CHECK(!is_raw(s));			/* a fresh pty is cooked */
	CHECK_EQ(ioctl(s, TIOCSWINSZ, &ws), 0);
	c = kr_chardev_open_fds(s, s, NULL, KR_CHARDEV_RAW);
	CHECK(is_raw(s));
	CHECK(kr_chardev_winsize(c, &cols, &rows));
	CHECK_EQ(cols, 132);
	CHECK_EQ(rows, 40);
	kr_chardev_destroy(c);
	CHECK_EQ(tcgetattr(s, &after), 0);
	CHECK(same_termios(&before, &after));

	/* The atexit path: restored without a destroy; destroy then changes nothing. */
	c = kr_chardev_open_fds(s, s, NULL, KR_CHARDEV_RAW);
	CHECK(is_raw(s));
	kr_chardev_restore_terminals();
	CHECK_EQ(tcgetattr(s, &after), 0);
	CHECK(same_termios(&before, &after));
	kr_chardev_destroy(c);
	CHECK_EQ(tcgetattr(s, &after), 0);
	CHECK(same_termios(&before, &after));

	/* Not a terminal: nothing to make raw, no size. */
	{
		int p[2];

		CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
		c = kr_chardev_open_fds(p[0], p[1], NULL, KR_CHARDEV_RAW);
		CHECK(!kr_chardev_winsize(c, &cols, &rows));
		kr_chardev_destroy(c);
		close(p[0]);
		close(p[1]);
	}
	close(m);
	close(s);
}

/* Input through an ^A decoder on a pipe; the owner takes chunk bytes per read. */
struct esc_rig {
	struct kr_loop *l;
	pthread_t th;
	int in[2], out[2];
	struct kr_chardev *c;
	struct owner o;
};

static void esc_up(struct esc_rig *r, size_t chunk)
{
	r->l = loop_start(&r->th);
	if (pipe2(r->in, O_NONBLOCK | O_CLOEXEC) || pipe2(r->out, O_NONBLOCK | O_CLOEXEC))
		abort();
	r->c = kr_chardev_open_fds(r->in[0], r->out[1], r->l, KR_CHARDEV_ESCAPES);
	kr_chardev_set_quit(r->c, on_quit, NULL);
	owner_init(&r->o, r->c, sizeof(r->o.buf), chunk);
}

static void esc_down(struct esc_rig *r)
{
	owner_fini(&r->o);
	kr_chardev_destroy(r->c);
	loop_stop(r->l, r->th);
	close(r->in[0]);
	close(r->in[1]);
	close(r->out[0]);
	close(r->out[1]);
}

static void esc_type(struct esc_rig *r, const char *s, size_t n)
{
	if (write(r->in[1], s, n) != (ssize_t)n)
		abort();
	sleep_ms(5);		/* each piece its own read, most of the time */
}

KR_TEST(chardev_escapes)
{
	struct esc_rig r;
	char help[128];
	size_t n;

	quits = 0;
	esc_up(&r, 64);
	esc_type(&r, "a\001xb", 4);		/* ^A x: quit, not input */
	CHECK_EQ(owner_wait(&r.o, 2, 200), 2);
	CHECK(!memcmp(r.o.buf, "ab", 2));
	CHECK_EQ(quits, 1);
	esc_type(&r, "\001\001", 2);		/* ^A ^A: one ^A */
	esc_type(&r, "\001q", 2);		/* ^A other: both */
	esc_type(&r, "\001", 1);		/* split across reads */
	esc_type(&r, "x", 1);
	CHECK_EQ(owner_wait(&r.o, 5, 200), 5);
	CHECK(!memcmp(r.o.buf + 2, "\001\001q", 3));
	CHECK_EQ(quits, 2);
	esc_type(&r, "\001h", 2);		/* help, to the output */
	n = read_some(r.out[0], help, sizeof(help) - 1, 20);
	help[n] = 0;
	CHECK(strstr(help, "^A x quit") != NULL);
	CHECK_EQ(owner_len(&r.o), 5);
	esc_down(&r);

	/* One byte per read: "^A c" makes two bytes of one; the second waits, then comes. */
	esc_up(&r, 1);
	esc_type(&r, "\001", 1);
	esc_type(&r, "zy", 2);
	CHECK_EQ(owner_wait(&r.o, 3, 200), 3);
	CHECK(!memcmp(r.o.buf, "\001zy", 3));
	esc_type(&r, "\001", 1);
	esc_type(&r, "w", 1);			/* the held byte, with the fd quiet */
	CHECK_EQ(owner_wait(&r.o, 5, 200), 5);
	CHECK(!memcmp(r.o.buf + 3, "\001w", 2));
	CHECK_EQ(quits, 2);
	esc_down(&r);

	/* Without the flag, ^A is data like any other. */
	{
		struct kr_loop *l;
		struct owner o;
		pthread_t th;
		int p[2];
		struct kr_chardev *c;

		l = loop_start(&th);
		CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
		c = kr_chardev_open_fds(p[0], -1, l, 0);
		kr_chardev_set_quit(c, on_quit, NULL);
		owner_init(&o, c, 100, 100);
		CHECK_EQ(write(p[1], "\001x", 2), 2);
		CHECK_EQ(owner_wait(&o, 2, 200), 2);
		CHECK_EQ(quits, 2);
		owner_fini(&o);
		kr_chardev_destroy(c);
		loop_stop(l, th);
		close(p[0]);
		close(p[1]);
	}
}

/*
 * The real stdio path with a pty as the process's stdin and stdout: raw
 * mode and non-blocking while open, both restored by destroy; ^A x quits;
 * only one stdio chardev.  Nothing is printed while fds 0 and 1 are the
 * pty: the results are checked after.
 */
KR_TEST(chardev_stdio_terminal)
{
	struct termios before, after;
	struct winsize ws = { .ws_row = 25, .ws_col = 90 };
	int m, s, save0, save1, fl0, fl1, fl_open, fl_after;
	bool raw_open, second_busy, got_size, got_input, kind_ok;
	uint16_t cols = 0, rows = 0;
	struct kr_chardev *c, *c2;
	struct kr_loop *l;
	struct owner o;
	pthread_t th;
	char why[128], out[8] = "";

	quits = 0;
	CHECK_EQ(openpty(&m, &s, NULL, NULL, NULL), 0);
	fcntl(m, F_SETFL, O_NONBLOCK);
	ioctl(s, TIOCSWINSZ, &ws);
	CHECK_EQ(tcgetattr(s, &before), 0);
	fflush(stdout);
	save0 = dup(0);
	save1 = dup(1);
	dup2(s, 0);
	dup2(s, 1);
	fl0 = fcntl(0, F_GETFL);
	l = loop_start(&th);
	c = kr_chardev_open("stdio", l, why, sizeof(why));
	if (c) {
		kind_ok = kr_chardev_kind(c) == KR_CHARDEV_STDIO;
		raw_open = is_raw(0);
		fl_open = fcntl(0, F_GETFL);
		c2 = kr_chardev_open("stdio", l, why, sizeof(why));
		second_busy = !c2 && errno == EBUSY;
		got_size = kr_chardev_winsize(c, &cols, &rows);
		kr_chardev_set_quit(c, on_quit, NULL);
		owner_init(&o, c, 100, 100);
		kr_chardev_write(c, "G\n", 2);
		if (write(m, "k\001x\003", 4) != 4)
			abort();
		got_input = owner_wait(&o, 2, 500) == 2 && !memcmp(o.buf, "k\003", 2);
		owner_fini(&o);
		kr_chardev_destroy(c);
	}
	loop_stop(l, th);
	fl_after = fcntl(0, F_GETFL);
	fl1 = fcntl(1, F_GETFL);
	tcgetattr(0, &after);
	dup2(save0, 0);
	dup2(save1, 1);
	close(save0);
	close(save1);
	CHECK(c != NULL);
	if (!c) {
		close(m);
		close(s);
		return;
	}
	CHECK(kind_ok);
	CHECK(raw_open);
	CHECK(fl_open & O_NONBLOCK);
	CHECK(second_busy);
	CHECK(got_size);
	CHECK_EQ(cols, 90);
	CHECK_EQ(rows, 25);
	CHECK(got_input);			/* ^C is data; ^A x is not */
	CHECK_EQ(quits, 1);
	CHECK_EQ(read_some(m, out, 2, 200), 2);
	CHECK(!memcmp(out, "G\n", 2));		/* no output processing: no CR added */
	CHECK(same_termios(&before, &after));
	CHECK_EQ(fl_after, fl0);
	CHECK_EQ(fl1, fl0);			/* shared description: restored in order */
	close(m);
	close(s);

	/* stdio again after destroy (a reboot rebuilds the devices). */
	{
		int p[2];

		CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
		save0 = dup(0);
		dup2(p[0], 0);
		c = kr_chardev_open("stdio", NULL, why, sizeof(why));
		raw_open = c && is_raw(0);
		got_size = c && kr_chardev_winsize(c, &cols, &rows);
		kr_chardev_destroy(c);
		fl_after = fcntl(0, F_GETFL);
		dup2(save0, 0);
		close(save0);
		close(p[0]);
		close(p[1]);
		CHECK(c != NULL);
		CHECK(!raw_open);		/* a pipe: no raw mode, no escapes, no size */
		CHECK(!got_size);
		CHECK_EQ(fl_after & O_NONBLOCK, 0);
	}
}
