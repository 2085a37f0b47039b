// SPDX-License-Identifier: GPL-2.0
/*
 * The VNC server (vnc.h) over libvncserver.
 *
 * The refresh compares the scanout with the server's copy line by line and
 * marks only what changed (the bounding box of each run of changed lines),
 * a few dozen times a second and only while a client is connected: with
 * nobody watching, a guest's drawing costs the host nothing.  The server's
 * framebuffer is 32 bits per pixel in libvncserver's own pixel format,
 * which translates for each client.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rfb/rfb.h>

#include "display.h"
#include "keymap.h"
#include "vnc.h"

#define VNC_BLANK_W		640
#define VNC_BLANK_H		480
#define VNC_AUTO_FIRST		5900
#define VNC_AUTO_LAST		5999
#define VNC_POLL_US		10000		/* libvncserver's select() per turn */
#define VNC_IDLE_MS		100		/* with no viewer: the stop flag's latency */
#define VNC_REFRESH_NS		40000000ull	/* 25 frames a second at most */
#define VNC_PASSWORD_MAX	8		/* what VNC authentication uses */

struct kr_vnc {
	pthread_mutex_t lock;
	pthread_t thread;
	bool started;
	int stop;			/* atomic */
	int listen_fd;
	char addr[INET6_ADDRSTRLEN + 8];
	char host[INET6_ADDRSTRLEN];
	bool ipv6;
	int port;
	char name[64];
	char password[VNC_PASSWORD_MAX + 1];
	char *passwords[2];		/* libvncserver's NULL-ended list */
	rfbScreenInfoPtr screen;
	/* The server's framebuffer and size (the thread's only). */
	uint32_t *fb;
	int w, h;
	uint32_t generation;
	bool full;			/* the next refresh marks everything */
	unsigned int clients;		/* atomic */
	/* Under lock: */
	struct kr_display *display;
	struct kr_vnc_input in;
	uint8_t down[(KEY_MAX + 1) / 8];	/* keys a client holds pressed */
};

static void vnc_log_nothing(const char *fmt, ...)
{
	(void)fmt;	/* libvncserver's chatter ("Got connection from...") */
}

static void vnc_log_error(const char *fmt, ...)
{
	va_list ap;

	fputs("khv-run: vnc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- input ---------------------------------------------------------------- */

static void key_event(rfbBool down, rfbKeySym sym, rfbClientPtr cl)
{
	struct kr_vnc *v = cl->screen->screenData;
	unsigned int code = kr_keymap_keysym(sym);

	if (!code || code > KEY_MAX)
		return;
	pthread_mutex_lock(&v->lock);
	if (down)
		v->down[code / 8] |= 1u << (code % 8);
	else
		v->down[code / 8] &= ~(1u << (code % 8));
	if (v->in.key)
		v->in.key(v->in.opaque, code, down);
	pthread_mutex_unlock(&v->lock);
}

static void pointer_event(int mask, int x, int y, rfbClientPtr cl)
{
	struct kr_vnc *v = cl->screen->screenData;

	pthread_mutex_lock(&v->lock);
	if (v->in.pointer)
		v->in.pointer(v->in.opaque, x, y, v->w, v->h, (unsigned int)mask);
	pthread_mutex_unlock(&v->lock);
}

/* A client that goes while it holds keys: the guest sees them released. */
static void client_gone(rfbClientPtr cl)
{
	struct kr_vnc *v = cl->screen->screenData;

	__atomic_sub_fetch(&v->clients, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&v->lock);
	for (unsigned int code = 0; code <= KEY_MAX; code++) {
		if (!(v->down[code / 8] & (1u << (code % 8))))
			continue;
		if (v->in.key)
			v->in.key(v->in.opaque, code, false);
	}
	memset(v->down, 0, sizeof(v->down));
	pthread_mutex_unlock(&v->lock);
}

static enum rfbNewClientAction client_new(rfbClientPtr cl)
{
	struct kr_vnc *v = cl->screen->screenData;

	cl->clientGoneHook = client_gone;
	__atomic_add_fetch(&v->clients, 1, __ATOMIC_RELAXED);
	v->full = true;
	return RFB_CLIENT_ACCEPT;
}

/* ---- the screen --------------------------------------------------------- */

static int vnc_resize(struct kr_vnc *v, int w, int h)
{
	uint32_t *fb = calloc((size_t)w * h, sizeof(*fb));
	uint32_t *old = v->fb;

	if (!fb)
		return -ENOMEM;
	if (v->screen)
		rfbNewFramebuffer(v->screen, (char *)fb, w, h, 8, 3, 4);
	v->fb = fb;
	v->w = w;
	v->h = h;
	v->full = true;
	free(old);
	return 0;
}

/* One line of the scanout in the server's pixel format. */
static void convert_line(const struct kr_vnc *v, const struct kr_scanout *s, unsigned int y,
			 uint32_t *out)
{
	const rfbPixelFormat *f = &v->screen->serverFormat;
	const uint8_t *line = s->vram + s->offset + (uint64_t)y * s->stride;

	for (unsigned int x = 0; x < s->width; x++) {
		uint32_t p = kr_display_pixel(s, line, x);

		out[x] = (p >> 16 & 0xff) << f->redShift | (p >> 8 & 0xff) << f->greenShift |
			 (p & 0xff) << f->blueShift;
	}
}

static void mark(struct kr_vnc *v, int x0, int y0, int x1, int y1)
{
	if (x1 > x0 && y1 > y0)
		rfbMarkRectAsModified(v->screen, x0, y0, x1, y1);
}

static void vnc_refresh(struct kr_vnc *v)
{
	struct kr_scanout s = { 0 };
	int w, h, bx0 = 0, bx1 = 0, by0 = -1;
	uint32_t *line;

	pthread_mutex_lock(&v->lock);
	if (v->display)
		kr_display_scanout(v->display, &s);
	w = s.on ? (int)s.width : v->w;
	h = s.on ? (int)s.height : v->h;
	if ((w != v->w || h != v->h) && vnc_resize(v, w, h)) {
		pthread_mutex_unlock(&v->lock);
		return;
	}
	if (s.generation != v->generation) {
		v->generation = s.generation;
		v->full = true;
	}
	line = malloc((size_t)w * sizeof(*line));
	for (int y = 0; line && y < h; y++) {
		uint32_t *dst = v->fb + (size_t)y * w;
		int x0 = 0, x1 = w;

		if (s.on)
			convert_line(v, &s, y, line);
		else
			memset(line, 0, (size_t)w * sizeof(*line));
		if (!v->full) {
			while (x0 < w && line[x0] == dst[x0])
				x0++;
			while (x1 > x0 && line[x1 - 1] == dst[x1 - 1])
				x1--;
		}
		if (x0 == x1) {
			/* An unchanged line ends the run of changed ones. */
			if (by0 >= 0)
				mark(v, bx0, by0, bx1, y);
			by0 = -1;
			continue;
		}
		memcpy(dst + x0, line + x0, (size_t)(x1 - x0) * sizeof(*line));
		if (by0 < 0) {
			by0 = y;
			bx0 = x0;
			bx1 = x1;
		} else {
			bx0 = x0 < bx0 ? x0 : bx0;
			bx1 = x1 > bx1 ? x1 : bx1;
		}
	}
	if (by0 >= 0)
		mark(v, bx0, by0, bx1, h);
	if (line)
		v->full = false;
	free(line);
	pthread_mutex_unlock(&v->lock);
}

/* ---- connections and the thread ------------------------------------------- */

/* New connections to libvncserver; waits up to timeout_ms for the first. */
static void vnc_accept(struct kr_vnc *v, int timeout_ms)
{
	struct pollfd p = { .fd = v->listen_fd, .events = POLLIN };

	for (; poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN); timeout_ms = 0) {
		int one = 1, fd = accept4(v->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		rfbNewClient(v->screen, fd);
	}
}

static void *vnc_thread(void *opaque)
{
	struct kr_vnc *v = opaque;
	uint64_t last = 0;

	while (!__atomic_load_n(&v->stop, __ATOMIC_ACQUIRE)) {
		uint64_t t;

		/* Nobody connected: sleep on the listening socket, not in a loop. */
		if (!__atomic_load_n(&v->clients, __ATOMIC_RELAXED)) {
			vnc_accept(v, VNC_IDLE_MS);
			continue;
		}
		vnc_accept(v, 0);
		rfbProcessEvents(v->screen, VNC_POLL_US);
		t = now_ns();
		if (__atomic_load_n(&v->clients, __ATOMIC_RELAXED) && t - last >= VNC_REFRESH_NS) {
			vnc_refresh(v);
			last = t;
		}
	}
	return NULL;
}

/* ---- setup ------------------------------------------------------------------ */

static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	/* One line, whatever bytes the spec it quotes held. */
	for (char *c = why; *c; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f)
			*c = '?';
	return -1;
}

static int read_password(struct kr_vnc *v, const char *path, char *why, size_t len)
{
	char buf[256];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return fail(why, len, "--vnc password-file %s: %s", path, strerror(errno));
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = 0;
	if (!n)
		return fail(why, len, "--vnc password-file %s: the first line is empty", path);
	/* VNC authentication keys DES with the first 8 characters; so does QEMU. */
	memcpy(v->password, buf, n < VNC_PASSWORD_MAX ? n : VNC_PASSWORD_MAX);
	memset(buf, 0, sizeof(buf));
	v->passwords[0] = v->password;
	v->passwords[1] = NULL;
	return 0;
}

static int bind_port(const struct addrinfo *ai, int port)
{
	struct sockaddr_storage sa;
	int one = 1, fd;

	memcpy(&sa, ai->ai_addr, ai->ai_addrlen);
	if (sa.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&sa)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&sa)->sin_port = htons(port);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, ai->ai_addrlen) || listen(fd, 8)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * HOST:PORT up to the first ',', then NAME=VALUE options, each value up to
 * an unescaped ',' with ",," standing for ',' (as in --disk): a path may
 * hold commas.
 */
int kr_vnc_parse(const char *spec, struct kr_vnc_spec *out, char *why, size_t len)
{
	const char *p = strchr(spec, ','), *hp = spec, *port_s, *end;
	size_t hlen = p ? (size_t)(p - spec) : strlen(spec);
	char *e;
	long port;

	memset(out, 0, sizeof(*out));
	/* HOST:PORT, or [IPv6]:PORT. */
	if (*hp == '[') {
		end = memchr(hp, ']', hlen);
		if (!end || end + 1 >= hp + hlen || end[1] != ':')
			return fail(why, len, "--vnc %.*s: want [IPv6]:PORT", (int)hlen, hp);
		hp++;
		port_s = end + 2;
	} else {
		end = NULL;
		for (const char *c = hp; c < hp + hlen; c++)
			if (*c == ':')
				end = c;
		if (!end)
			return fail(why, len, "--vnc %.*s: want HOST:PORT", (int)hlen, hp);
		port_s = end + 1;
	}
	if ((size_t)(end - hp) >= sizeof(out->host))
		return fail(why, len, "--vnc: the host is too long");
	if (memchr(hp, '[', end - hp) || memchr(hp, ']', end - hp))
		return fail(why, len, "--vnc %.*s: want HOST:PORT or [IPv6]:PORT", (int)hlen, spec);
	memcpy(out->host, hp, end - hp);
	if ((size_t)(spec + hlen - port_s) == 4 && !strncmp(port_s, "auto", 4)) {
		out->port = 0;
	} else {
		char num[8] = "";

		if ((size_t)(spec + hlen - port_s) < sizeof(num))
			memcpy(num, port_s, spec + hlen - port_s);
		errno = 0;
		port = strtol(num, &e, 10);
		if (!*num || errno || *e || port < 1 || port > 65535 || !isdigit((unsigned char)*num))
			return fail(why, len, "--vnc: port \"%.*s\" is not 1..65535 or auto",
				    (int)(spec + hlen - port_s), port_s);
		out->port = (int)port;
	}
	while (p && *p == ',') {
		const char *name = ++p, *eq = strchr(name, '=');
		size_t k = 0;

		if (!eq || memchr(name, ',', eq - name))
			return fail(why, len, "--vnc: option \"%.*s\" is not NAME=VALUE",
				    (int)strcspn(name, ","), name);
		if ((size_t)(eq - name) != 13 || strncmp(name, "password-file", 13))
			return fail(why, len, "--vnc: unknown option \"%.*s\" (password-file=PATH)",
				    (int)(eq - name), name);
		for (p = eq + 1; *p && (*p != ',' || p[1] == ','); p++) {
			if (*p == ',')
				p++;
			if (k + 1 >= sizeof(out->password_file))
				return fail(why, len, "--vnc: password-file: the path is too long");
			out->password_file[k++] = *p;
		}
		out->password_file[k] = 0;
		if (!k)
			return fail(why, len, "--vnc: password-file: no path");
	}
	return 0;
}

/* Listen as spec says: v->listen_fd, v->port, v->host and v->addr. */
static int vnc_listen(struct kr_vnc *v, const struct kr_vnc_spec *spec, char *why, size_t len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	const char *host = spec->host;
	char host_s[INET6_ADDRSTRLEN];
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	struct addrinfo *ai;
	bool any = !spec->port;
	int fd = -EINVAL, r;

	r = getaddrinfo(*host ? host : NULL, NULL, &hints, &ai);
	if (r)
		return fail(why, len, "--vnc: host \"%s\": %s", host, gai_strerror(r));
	for (int p = any ? VNC_AUTO_FIRST : spec->port; p <= (any ? VNC_AUTO_LAST : spec->port); p++) {
		fd = bind_port(ai, p);
		if (fd >= 0 || fd != -EADDRINUSE)
			break;
	}
	freeaddrinfo(ai);
	if (fd < 0 && any && fd == -EADDRINUSE)
		return fail(why, len, "--vnc: no free port from %d to %d on %s", VNC_AUTO_FIRST,
			    VNC_AUTO_LAST, host);
	if (fd < 0 && any)
		return fail(why, len, "--vnc: cannot listen on %s: %s", host, strerror(-fd));
	if (fd < 0)
		return fail(why, len, "--vnc: cannot listen on %s:%d: %s", host, spec->port,
			    strerror(-fd));
	v->listen_fd = fd;
	/* A bound socket always has a numeric name; "?" would be a kernel surprise. */
	if (getsockname(fd, (struct sockaddr *)&sa, &sl) ||
	    getnameinfo((struct sockaddr *)&sa, sl, host_s, sizeof(host_s), NULL, 0,
			NI_NUMERICHOST))
		snprintf(host_s, sizeof(host_s), "?");
	v->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port :
			((struct sockaddr_in *)&sa)->sin_port);
	v->ipv6 = sa.ss_family == AF_INET6;
	snprintf(v->host, sizeof(v->host), "%s", host_s);
	snprintf(v->addr, sizeof(v->addr), v->ipv6 ? "[%s]:%d" : "%s:%d", host_s, v->port);
	return 0;
}

struct kr_vnc *kr_vnc_open(const char *spec, const char *name, char *why, size_t len)
{
	struct kr_vnc *v = calloc(1, sizeof(*v));
	struct kr_vnc_spec sp;
	int argc = 1;
	char *argv[] = { "khv-run", NULL };

	if (!v) {
		fail(why, len, "out of memory");
		return NULL;
	}
	v->listen_fd = -1;
	pthread_mutex_init(&v->lock, NULL);
	snprintf(v->name, sizeof(v->name), "%s", name && *name ? name : "khv-run");
	if (kr_vnc_parse(spec, &sp, why, len) ||
	    (*sp.password_file && read_password(v, sp.password_file, why, len)) ||
	    vnc_listen(v, &sp, why, len)) {
		kr_vnc_close(v);
		return NULL;
	}
	rfbLog = vnc_log_nothing;
	rfbErr = vnc_log_error;
	/* The first framebuffer before the screen: nothing to tell clients yet. */
	if (!vnc_resize(v, VNC_BLANK_W, VNC_BLANK_H))
		v->screen = rfbGetScreen(&argc, argv, VNC_BLANK_W, VNC_BLANK_H, 8, 3, 4);
	if (!v->screen) {
		fail(why, len, "--vnc: cannot set up the VNC server");
		kr_vnc_close(v);
		return NULL;
	}
	v->screen->frameBuffer = (char *)v->fb;
	v->screen->screenData = v;
	v->screen->desktopName = v->name;
	/* khv-run listens itself; libvncserver only gets the connections. */
	v->screen->port = 0;
	v->screen->ipv6port = 0;
	v->screen->autoPort = FALSE;
	v->screen->httpPort = 0;
	v->screen->ignoreSIGPIPE = FALSE;	/* SIGPIPE stays blocked (main.c) */
	v->screen->alwaysShared = TRUE;		/* a second viewer joins, as with QEMU */
	v->screen->cursor = NULL;		/* the guest draws its own pointer */
	v->screen->kbdAddEvent = key_event;
	v->screen->ptrAddEvent = pointer_event;
	v->screen->newClientHook = client_new;
	if (v->passwords[0]) {
		v->screen->authPasswdData = v->passwords;
		v->screen->passwordCheck = rfbCheckPasswordByList;
	}
	rfbInitServer(v->screen);
	return v;
}

int kr_vnc_start(struct kr_vnc *v)
{
	int err = pthread_create(&v->thread, NULL, vnc_thread, v);

	if (err)
		return -err;
	pthread_setname_np(v->thread, "vnc");
	v->started = true;
	return 0;
}

void kr_vnc_close(struct kr_vnc *v)
{
	if (!v)
		return;
	if (v->started) {
		__atomic_store_n(&v->stop, 1, __ATOMIC_RELEASE);
		pthread_join(v->thread, NULL);
	}
	if (v->screen) {
		rfbShutdownServer(v->screen, TRUE);
		rfbScreenCleanup(v->screen);
	}
	if (v->listen_fd >= 0)
		close(v->listen_fd);
	memset(v->password, 0, sizeof(v->password));
	free(v->fb);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

const char *kr_vnc_address(const struct kr_vnc *v)
{
	return v->addr;
}

int kr_vnc_port(const struct kr_vnc *v)
{
	return v->port;
}

const char *kr_vnc_host(const struct kr_vnc *v)
{
	return v->host;
}

bool kr_vnc_ipv6(const struct kr_vnc *v)
{
	return v->ipv6;
}

bool kr_vnc_has_password(const struct kr_vnc *v)
{
	return v->passwords[0] != NULL;
}

unsigned int kr_vnc_clients(struct kr_vnc *v)
{
	return __atomic_load_n(&v->clients, __ATOMIC_RELAXED);
}

void kr_vnc_attach(struct kr_vnc *v, struct kr_display *d, const struct kr_vnc_input *in)
{
	pthread_mutex_lock(&v->lock);
	v->display = d;
	if (in)
		v->in = *in;
	else
		memset(&v->in, 0, sizeof(v->in));
	pthread_mutex_unlock(&v->lock);
}

void kr_vnc_detach(struct kr_vnc *v)
{
	pthread_mutex_lock(&v->lock);
	v->display = NULL;
	memset(&v->in, 0, sizeof(v->in));
	memset(v->down, 0, sizeof(v->down));
	pthread_mutex_unlock(&v->lock);
}
