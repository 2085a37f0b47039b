/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The graphical console: a VNC server (RFB 3.8, libvncserver) showing the
 * display adapter's scanout (display.h) and taking keyboard and pointer
 * input for the machine's input devices.
 *
 * It is opened once, before the first machine, and outlives reboots, as
 * the consoles do: a machine attaches its display and input sinks when it
 * is built and detaches them before it is destroyed; in between (and
 * before the guest sets a mode) clients see a black 640x480 screen.
 *
 * khv-run owns the listening socket (so that a bad address or a port in
 * use is an error at startup, with its reason, and "auto" can pick the
 * first free port from 5900 the way libvirt's drivers number VNC
 * displays); libvncserver gets each accepted connection.  One thread of
 * its own runs libvncserver's event processing and the screen refresh,
 * so that library is only ever entered from that thread.
 *
 * Locking: v->lock covers the attached display and sinks; the thread takes
 * it for each refresh and each input event, attach/detach take it too, so
 * after kr_vnc_detach() returns no callback into the machine is running
 * or will run.  The sinks are called with v->lock held and must not call
 * back into the VNC server.
 */
#ifndef KHV_RUN_VNC_H
#define KHV_RUN_VNC_H

#include <stdbool.h>
#include <stddef.h>

struct kr_display;

/* Where input goes: Linux key codes, and the pointer as RFB sends it. */
struct kr_vnc_input {
	void (*key)(void *opaque, unsigned int keycode, bool down);
	/* (x, y) in a w x h screen; buttons: RFB's mask (1 left, 2 middle, 4 right, 8/16 wheel) */
	void (*pointer)(void *opaque, int x, int y, int w, int h, unsigned int buttons);
	void *opaque;
};

struct kr_vnc;

/* --vnc's spec, parsed (kr_vnc_parse): nothing opened, nothing resolved. */
struct kr_vnc_spec {
	char host[256];			/* as given, without brackets */
	int port;			/* 1..65535, or 0 for auto */
	char password_file[4096];	/* "" for none; ",," undone */
};

/* 0, or -1 with why (a usage error). */
int kr_vnc_parse(const char *spec, struct kr_vnc_spec *out, char *why, size_t len);

/*
 * spec: "HOST:PORT[,password-file=PATH]"; HOST an IPv4 or [IPv6] address
 * or a name, PORT a TCP port or "auto" (the first free one from 5900 to
 * 5999).  The password (VNC authentication, which uses its first 8
 * characters) is the file's first line.  Binds and listens now.  NULL with
 * why on failure (a usage error or the host's).
 */
struct kr_vnc *kr_vnc_open(const char *spec, const char *name, char *why, size_t len);
/* Starts the server's thread: 0 or -errno. */
int kr_vnc_start(struct kr_vnc *v);
/* Stops the thread, disconnects the clients, frees.  NULL is allowed. */
void kr_vnc_close(struct kr_vnc *v);

/* The address it listens on, as "HOST:PORT" (numeric), and the port. */
const char *kr_vnc_address(const struct kr_vnc *v);
int kr_vnc_port(const struct kr_vnc *v);
const char *kr_vnc_host(const struct kr_vnc *v);	/* numeric, no brackets */
bool kr_vnc_ipv6(const struct kr_vnc *v);
bool kr_vnc_has_password(const struct kr_vnc *v);
unsigned int kr_vnc_clients(struct kr_vnc *v);

/* The machine's display (NULL: none) and input; detach before destroying them. */
void kr_vnc_attach(struct kr_vnc *v, struct kr_display *d, const struct kr_vnc_input *in);
void kr_vnc_detach(struct kr_vnc *v);

#endif
