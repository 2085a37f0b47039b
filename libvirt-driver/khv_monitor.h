/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khv_monitor.h: the driver's client of khv-run's control socket
 * (Documentation/khv/khv-run-control.rst).
 *
 * Two kinds of connection, so that a command never has to sort its reply
 * out of a stream of events another thread is reading:
 *
 *  - khvMonitorCommand() opens a connection for one command, negotiates,
 *    sends it, waits for its reply (skipping events) and closes.  It blocks
 *    the calling API thread, with a timeout; khv-run answers from its I/O
 *    thread, never waiting for the guest.
 *  - khvMonitorConnect() and khvMonitorWatch() keep one connection per
 *    running domain that only listens: its events and its end (khv-run
 *    exiting) reach the callbacks on libvirt's event loop thread.
 */
#pragma once

#include "internal.h"
#include "virjson.h"

typedef struct _khvMonitor khvMonitor;

/* Called on the event loop thread, the monitor unlocked. */
typedef struct _khvMonitorCallbacks khvMonitorCallbacks;
struct _khvMonitorCallbacks {
    /* An event: name, and data (NULL when it has none; borrowed). */
    void (*event)(khvMonitor *mon, const char *name, virJSONValue *data, void *opaque);
    /* The connection ended (khv-run exited or closed it): once. */
    void (*eof)(khvMonitor *mon, void *opaque);
};

/* How long a command may take, and start may wait for the socket. */
#define KHV_MONITOR_TIMEOUT_MS  30000

/*
 * Connect to path and negotiate within timeout_ms; retries while the
 * socket is not there yet or refuses (khv-run still starting) and pid
 * lives.  The monitor does not listen yet (khvMonitorWatch).  NULL with an
 * error reported.
 */
khvMonitor *khvMonitorConnect(const char *path, pid_t pid, int timeout_ms);

/*
 * Run one command on a new connection.  args may be NULL; *reply (if
 * reply is not NULL) gets the "return" value.  -1 with an error reported
 * on any failure, the server's "desc" in the message.
 */
int khvMonitorCommand(const char *path, const char *cmd, virJSONValue *args,
                      virJSONValue **reply);

/*
 * The same with a limit of its own: a command that works for as long as
 * its data takes (snapshot-save writes all of the guest's memory before
 * it answers).  The caller has unlocked the domain (a job, khv_process.h).
 */
#define KHV_MONITOR_SAVE_TIMEOUT_MS  (30 * 60 * 1000)
int khvMonitorCommandTimeout(const char *path, const char *cmd, virJSONValue *args,
                             virJSONValue **reply, int timeout_ms);

/*
 * Listen: what arrives from now on (and what came with the negotiation)
 * goes to cb on the event loop.  opaque is virObjectRef'd for as long as
 * callbacks may run.  -1 with an error reported when the event loop
 * cannot watch it; mon is then freed.
 */
int khvMonitorWatch(khvMonitor *mon, const khvMonitorCallbacks *cb, virObject *opaque);

/*
 * Stop listening: no callback starts after this returns, though one
 * already running may finish (callbacks check they still own the
 * domain).  Any thread.
 */
void khvMonitorClose(khvMonitor *mon);
