// SPDX-License-Identifier: GPL-2.0
/*
 * The VNC server (vnc.c) end to end over loopback, with libvncclient as
 * the viewer: the screen the display adapter scans out arrives pixel for
 * pixel (and again after a mode change), keys and pointer events reach the
 * machine's input sinks as Linux key codes and RFB button masks, a viewer
 * that goes away releases its keys, VNC authentication lets the right
 * password in and keeps a wrong one out, and bad --vnc specs are refused
 * with a reason.
 */
#include <linux/input-event-codes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rfb/rfbclient.h>
#include <rfb/keysym.h>

#include "t.h"
#include "vdrv.h"
#include "../display.h"
#include "../vnc.h"

#define SLOT		6
#define FB_ADDR		0xc1000000ull
#define MMIO_ADDR	0xc2000000ull

struct sink {
	unsigned int keys, last_key, downs, ups;
	unsigned int pointers, last_buttons;
	int x, y, w, h;
};

static void sink_key(void *opaque, unsigned int code, bool down)
{
	struct sink *s = opaque;

	__atomic_add_fetch(&s->keys, 1, __ATOMIC_SEQ_CST);
	s->last_key = code;
	if (down)
		s->downs++;
	else
		s->ups++;
}

static void sink_pointer(void *opaque, int x, int y, int w, int h, unsigned int buttons)
{
	struct sink *s = opaque;

	s->x = x;
	s->y = y;
	s->w = w;
	s->h = h;
	s->last_buttons = buttons;
	__atomic_add_fetch(&s->pointers, 1, __ATOMIC_SEQ_CST);
}

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *client_password;

static char *get_password(rfbClient *cl)
{
	(void)cl;
	return strdup(client_password ? client_password : "");
}

static rfbClient *connect_client(int port, const char *password)
{
	rfbClient *cl = rfbGetClient(8, 3, 4);

	if (!cl)
		return NULL;
	rfbClientLog = quiet;
	rfbClientErr = quiet;
	free(cl->serverHost);
	cl->serverHost = strdup("127.0.0.1");
	cl->serverPort = port;
	client_password = password;
	cl->GetPassword = get_password;
	if (!rfbInitClient(cl, NULL, NULL))
		return NULL;	/* rfbInitClient freed it */
	return cl;
}

/* The client's pixel (x, y) as 0xRRGGBB, in its own format. */
static uint32_t client_pixel(rfbClient *cl, int x, int y)
{
	const uint8_t *p = cl->frameBuffer + ((size_t)y * cl->width + x) * 4;
	uint32_t v = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
	const rfbPixelFormat *f = &cl->format;

	return (v >> f->redShift & 0xff) << 16 | (v >> f->greenShift & 0xff) << 8 |
	       (v >> f->blueShift & 0xff);
}

/* Serve the client's messages until pred() holds or 10 s pass. */
static bool pump_until(rfbClient *cl, bool (*pred)(rfbClient *cl, void *arg), void *arg)
{
	double end = now() + 10;

	while (now() < end) {
		if (pred(cl, arg))
			return true;
		if (WaitForMessage(cl, 20000) > 0 && !HandleRFBServerMessage(cl))
			return false;
	}
	return pred(cl, arg);
}

struct want {
	int w, h;
	int x, y;
	uint32_t rgb;
};

static bool screen_is(rfbClient *cl, void *arg)
{
	const struct want *w = arg;

	return cl->width == w->w && cl->height == w->h && cl->frameBuffer &&
	       client_pixel(cl, w->x, w->y) == w->rgb;
}

static bool wait_counter(unsigned int *c, unsigned int at_least)
{
	double end = now() + 10;

	while (now() < end) {
		if (__atomic_load_n(c, __ATOMIC_SEQ_CST) >= at_least)
			return true;
		usleep(5000);
	}
	return false;
}

struct vt {
	struct tmach m;
	struct kr_display *d;
	struct kr_vnc *v;
	struct sink s;
};

static void dispi_wr(struct vt *t, unsigned int idx, uint16_t val)
{
	tm_write(&t->m.mmio, MMIO_ADDR + KR_DISPLAY_DISPI_OFF + 2 * idx, 2, val);
}

static void set_mode(struct vt *t, unsigned int w, unsigned int h)
{
	dispi_wr(t, KR_DISPI_ENABLE, 0);
	dispi_wr(t, KR_DISPI_BPP, 32);
	dispi_wr(t, KR_DISPI_XRES, w);
	dispi_wr(t, KR_DISPI_YRES, h);
	dispi_wr(t, KR_DISPI_ENABLE, KR_DISPI_ENABLED | KR_DISPI_LFB_ENABLED);
}

static void put_pixel(struct vt *t, unsigned int w, unsigned int x, unsigned int y, uint32_t rgb)
{
	tm_write(&t->m.mmio, FB_ADDR + ((uint64_t)y * w + x) * 4, 4, rgb);
}

static int vt_up(struct vt *t, const char *spec)
{
	struct kr_display_params p = { .kind = KR_DISPLAY_BOCHS };
	struct kr_vnc_input in = { sink_key, sink_pointer, &t->s };
	char why[256];
	sigset_t set;

	/* As in khv-run: a write to a viewer that left is EPIPE, not a signal. */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	memset(t, 0, sizeof(*t));
	tm_init(&t->m);
	t->d = kr_display_create(t->m.pci, SLOT, &p);
	tm_cfg_write(&t->m, SLOT, KR_PCI_BAR0, 4, FB_ADDR);
	tm_cfg_write(&t->m, SLOT, KR_PCI_BAR0 + 8, 4, MMIO_ADDR);
	tm_cfg_write(&t->m, SLOT, KR_PCI_COMMAND, 2, KR_PCI_CMD_MEMORY);
	t->v = kr_vnc_open(spec, "t_vnc", why, sizeof(why));
	if (!t->v) {
		printf("#   kr_vnc_open: %s\n", why);
		return -1;
	}
	kr_vnc_attach(t->v, t->d, &in);
	return kr_vnc_start(t->v);
}

static void vt_down(struct vt *t)
{
	if (t->v)
		kr_vnc_detach(t->v);
	kr_vnc_close(t->v);
	tm_fini(&t->m);
	kr_display_destroy(t->d);
}

KR_TEST(vnc_screen_keys_pointer)
{
	struct vt t;
	struct want w;
	rfbClient *cl;
	unsigned int keys;

	CHECK_EQ(vt_up(&t, "127.0.0.1:auto"), 0);
	CHECK(kr_vnc_port(t.v) >= 5900 && kr_vnc_port(t.v) <= 5999);
	cl = connect_client(kr_vnc_port(t.v), NULL);
	CHECK(cl);
	if (!cl) {
		vt_down(&t);
		return;
	}
	/* Before a mode: the black 640x480 screen. */
	w = (struct want){ 640, 480, 10, 10, 0 };
	CHECK(pump_until(cl, screen_is, &w));
	/* A mode and a pixel: the viewer resizes and sees it. */
	set_mode(&t, 320, 200);
	put_pixel(&t, 320, 17, 33, 0x00a1b2c3);
	w = (struct want){ 320, 200, 17, 33, 0xa1b2c3 };
	CHECK(pump_until(cl, screen_is, &w));
	CHECK_EQ(client_pixel(cl, 16, 33), 0);
	/* A later change arrives as an update. */
	put_pixel(&t, 320, 319, 199, 0x00ffffff);
	w = (struct want){ 320, 200, 319, 199, 0xffffff };
	CHECK(pump_until(cl, screen_is, &w));
	CHECK_EQ(kr_vnc_clients(t.v), 1);

	/* Keys: keysyms in, Linux key codes out. */
	SendKeyEvent(cl, XK_a, TRUE);
	SendKeyEvent(cl, XK_a, FALSE);
	CHECK(wait_counter(&t.s.keys, 2));
	CHECK_EQ(t.s.last_key, KEY_A);
	CHECK_EQ(t.s.downs, 1);
	CHECK_EQ(t.s.ups, 1);
	SendKeyEvent(cl, XK_Return, TRUE);
	SendKeyEvent(cl, XK_Return, FALSE);
	CHECK(wait_counter(&t.s.keys, 4));
	CHECK_EQ(t.s.last_key, KEY_ENTER);
	/* The pointer, with the screen's size for scaling. */
	SendPointerEvent(cl, 100, 50, 1);
	CHECK(wait_counter(&t.s.pointers, 1));
	CHECK_EQ(t.s.x, 100);
	CHECK_EQ(t.s.y, 50);
	CHECK_EQ(t.s.w, 320);
	CHECK_EQ(t.s.h, 200);
	CHECK_EQ(t.s.last_buttons, 1);

	/* A viewer that leaves with a key down: the key goes up. */
	SendKeyEvent(cl, XK_Shift_L, TRUE);
	CHECK(wait_counter(&t.s.keys, 5));
	keys = t.s.keys;
	free(cl->frameBuffer);
	rfbClientCleanup(cl);
	CHECK(wait_counter(&t.s.keys, keys + 1));
	CHECK_EQ(t.s.last_key, KEY_LEFTSHIFT);
	CHECK_EQ(t.s.ups, 3);
	vt_down(&t);
}

KR_TEST(vnc_password)
{
	/* A comma in the path: doubled in the spec, as libvirt's driver writes it. */
	char path[] = "/tmp/kr,vnc-pw-XXXXXX", spec[128];
	struct vt t;
	rfbClient *cl;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "s3cret\n", 7), 7);
	close(fd);
	snprintf(spec, sizeof(spec), "127.0.0.1:auto,password-file=/tmp/kr,,vnc-pw-%s",
		 path + strlen("/tmp/kr,vnc-pw-"));
	CHECK_EQ(vt_up(&t, spec), 0);
	if (!t.v) {
		unlink(path);
		vt_down(&t);
		return;
	}
	cl = connect_client(kr_vnc_port(t.v), "wrong");
	CHECK(!cl);
	cl = connect_client(kr_vnc_port(t.v), "s3cret");
	CHECK(cl);
	if (cl) {
		free(cl->frameBuffer);
		rfbClientCleanup(cl);
	}
	vt_down(&t);
	unlink(path);
}

static void refused(const char *spec, const char *want)
{
	char why[256] = "";
	struct kr_vnc *v = kr_vnc_open(spec, "t", why, sizeof(why));

	CHECK(!v);
	kr_vnc_close(v);
	if (!strstr(why, want)) {
		printf("#   --vnc %s: \"%s\" lacks \"%s\"\n", spec, why, want);
		CHECK(0);
	}
}

KR_TEST(vnc_bad_specs)
{
	char why[256];
	struct kr_vnc *a, *b;
	char spec[64];

	refused("localhost", "want HOST:PORT");
	refused("127.0.0.1:0", "not 1..65535");
	refused("127.0.0.1:65536", "not 1..65535");
	refused("127.0.0.1:59x", "not 1..65535");
	refused("[::1:5900", "want [IPv6]:PORT");
	refused("no.such.host.invalid:5900", "no.such.host.invalid");
	refused("127.0.0.1:auto,colour=blue", "unknown option");
	refused("127.0.0.1:auto,password-file", "not NAME=VALUE");
	refused("127.0.0.1:auto,password-file=/nonexistent/pw", "/nonexistent/pw");
	refused("127.0.0.1:auto,password-file=/dev/null", "empty");
	/* A port in use: an explicit one is an error, auto takes the next. */
	a = kr_vnc_open("127.0.0.1:auto", "t", why, sizeof(why));
	CHECK(a);
	if (!a)
		return;
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", kr_vnc_port(a));
	refused(spec, "in use");
	b = kr_vnc_open("127.0.0.1:auto", "t", why, sizeof(why));
	CHECK(b);
	if (b)
		CHECK(kr_vnc_port(b) != kr_vnc_port(a));
	kr_vnc_close(b);
	kr_vnc_close(a);
	/* IPv6 loopback, when the host has it. */
	b = kr_vnc_open("[::1]:auto", "t", why, sizeof(why));
	if (b)
		CHECK(!strncmp(kr_vnc_address(b), "[::1]:", 6));
	kr_vnc_close(b);
}
