// SPDX-License-Identifier: GPL-2.0
/*
 * khv_monitor.c: talking to khv-run's control socket (khv_monitor.h).
 *
 * The protocol is one JSON object per line each way.  A line here is read
 * into a growing buffer capped at KHV_MONITOR_MAX_LINE: khv-run's replies
 * are at most 960 KiB (its document), so a longer line means the peer is
 * not khv-run and the connection is dropped.
 */
#include <config.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <fcntl.h>

#include "internal.h"
#include "virerror.h"
#include "virevent.h"
#include "virfile.h"
#include "virjson.h"
#include "virlog.h"
#include "virobject.h"
#include "virprocess.h"
#include "virstring.h"
#include "virtime.h"
#include "virutil.h"

#include "khv_monitor.h"

#define VIR_FROM_THIS VIR_FROM_NONE

VIR_LOG_INIT("khv.khv_monitor");

#define KHV_MONITOR_MAX_LINE    (1024 * 1024)

/* Bytes read from a socket and not yet split into lines. */
typedef struct {
    char *buf;
    size_t len, cap;
} khvLineBuf;

struct _khvMonitor {
    GMutex lock;                /* eof, between the loop and khvMonitorClose */
    int fd;
    int watch;
    bool eof;                   /* ended or closed: no callback starts */
    khvLineBuf in;
    khvMonitorCallbacks cb;
    virObject *opaque;
};

/*
 * The first complete line in lb, NUL-terminated and removed from it (the
 * caller frees it), or NULL when none is complete yet.
 */
static char *
khvLineTake(khvLineBuf *lb)
{
    char *nl = lb->len ? memchr(lb->buf, '\n', lb->len) : NULL;
    char *line;
    size_t n;

    if (!nl)
        return NULL;
    n = nl - lb->buf;
    line = g_strndup(lb->buf, n);
    memmove(lb->buf, nl + 1, lb->len - n - 1);
    lb->len -= n + 1;
    return line;
}

/* read() once into lb: > 0 bytes, 0 end of stream, -1 errno (EAGAIN too). */
static ssize_t
khvLineFill(int fd, khvLineBuf *lb)
{
    ssize_t n;

    if (lb->len == KHV_MONITOR_MAX_LINE) {
        errno = EMSGSIZE;
        return -1;
    }
    if (lb->cap - lb->len < 4096) {
        lb->cap = MIN(MAX(lb->cap * 2, 8192), KHV_MONITOR_MAX_LINE);
        lb->buf = g_realloc(lb->buf, lb->cap);
    }
    do {
        n = read(fd, lb->buf + lb->len, lb->cap - lb->len);
    } while (n < 0 && errno == EINTR);
    if (n > 0)
        lb->len += n;
    return n;
}

/* The next line from a blocking read on fd, waiting until deadline (ms). */
static char *
khvLineRead(int fd, khvLineBuf *lb, unsigned long long deadline, const char *path)
{
    char *line;

    while (!(line = khvLineTake(lb))) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        unsigned long long now = 0;
        ssize_t n;
        int r;

        if (virTimeMillisNow(&now) < 0)
            return NULL;
        if (now >= deadline) {
            virReportError(VIR_ERR_OPERATION_TIMEOUT,
                           _("khv-run's control socket '%s' did not answer in time"), path);
            return NULL;
        }
        r = poll(&pfd, 1, deadline - now);
        if (r < 0 && errno != EINTR) {
            virReportSystemError(errno, _("cannot poll '%s'"), path);
            return NULL;
        }
        if (r <= 0)
            continue;
        n = khvLineFill(fd, lb);
        if (n == 0) {
            virReportError(VIR_ERR_OPERATION_FAILED,
                           _("khv-run closed its control socket '%s'"), path);
            return NULL;
        }
        if (n < 0 && errno != EAGAIN) {
            virReportSystemError(errno, _("cannot read khv-run's control socket '%s'"), path);
            return NULL;
        }
    }
    return line;
}

static int
khvWriteLine(int fd, const char *line, const char *path)
{
    g_autofree char *msg = g_strdup_printf("%s\n", line);

    if (safewrite(fd, msg, strlen(msg)) < 0) {
        virReportSystemError(errno, _("cannot write to khv-run's control socket '%s'"),
                             path);
        return -1;
    }
    return 0;
}

/*
 * Send cmd (with args, may be NULL) and wait for its reply, skipping the
 * events before it.  The reply's "return" in *ret when ret is not NULL.
 */
static int
khvExchange(int fd, khvLineBuf *lb, const char *path, const char *cmd,
            virJSONValue **args, virJSONValue **ret, unsigned long long deadline)
{
    g_autoptr(virJSONValue) msg = NULL;
    g_autofree char *text = NULL;

    if (virJSONValueObjectAdd(&msg, "s:execute", cmd, "A:arguments", args, NULL) < 0 ||
        !(text = virJSONValueToString(msg, false)) ||
        khvWriteLine(fd, text, path) < 0)
        return -1;
    for (;;) {
        g_autofree char *line = khvLineRead(fd, lb, deadline, path);
        g_autoptr(virJSONValue) reply = NULL;
        virJSONValue *err;

        if (!line)
            return -1;
        if (!(reply = virJSONValueFromString(line)) ||
            virJSONValueGetType(reply) != VIR_JSON_TYPE_OBJECT) {
            virReportError(VIR_ERR_INTERNAL_ERROR,
                           _("khv-run's control socket '%s' sent something that is not "
                             "a JSON object"), path);
            return -1;
        }
        if (virJSONValueObjectHasKey(reply, "event"))
            continue;
        if ((err = virJSONValueObjectGetObject(reply, "error"))) {
            const char *desc = virJSONValueObjectGetString(err, "desc");

            virReportError(VIR_ERR_OPERATION_FAILED, _("khv-run: %s: %s"), cmd,
                           NULLSTR(desc));
            return -1;
        }
        if (!virJSONValueObjectHasKey(reply, "return")) {
            virReportError(VIR_ERR_INTERNAL_ERROR,
                           _("khv-run's control socket '%s': a line neither reply nor event"),
                           path);
            return -1;
        }
        if (ret && virJSONValueObjectRemoveKey(reply, "return", ret) < 0)
            return -1;
        return 0;
    }
}

static unsigned long long
khvDeadline(int timeout_ms)
{
    unsigned long long now = 0;

    ignore_value(virTimeMillisNow(&now));
    return now + timeout_ms;
}

/* The greeting, then qmp_capabilities. */
static int
khvNegotiate(int fd, khvLineBuf *lb, const char *path, unsigned long long deadline)
{
    g_autofree char *greeting = khvLineRead(fd, lb, deadline, path);
    g_autoptr(virJSONValue) hello = NULL;

    if (!greeting)
        return -1;
    if (!(hello = virJSONValueFromString(greeting)) ||
        !virJSONValueObjectHasKey(hello, "KHV")) {
        virReportError(VIR_ERR_INTERNAL_ERROR,
                       _("'%s' is not khv-run's control socket (no KHV greeting)"), path);
        return -1;
    }
    virJSONValue *none = NULL;

    return khvExchange(fd, lb, path, "qmp_capabilities", &none, NULL, deadline);
}

static int
khvSocketConnect(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd;

    if (virStrcpyStatic(addr.sun_path, path) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int err = errno;

        VIR_FORCE_CLOSE(fd);
        errno = err;
        return -1;
    }
    return fd;
}

khvMonitor *
khvMonitorConnect(const char *path, pid_t pid, int timeout_ms)
{
    unsigned long long deadline = khvDeadline(timeout_ms);
    khvLineBuf lb = { 0 };
    khvMonitor *mon;
    int fd;

    for (;;) {
        unsigned long long now = 0;

        if ((fd = khvSocketConnect(path)) >= 0)
            break;
        if (errno != ENOENT && errno != ECONNREFUSED) {
            virReportSystemError(errno, _("cannot connect to khv-run's control socket '%s'"),
                                 path);
            return NULL;
        }
        if (pid > 0 && virProcessKill(pid, 0) < 0) {
            virReportError(VIR_ERR_OPERATION_FAILED,
                           _("khv-run (pid %lld) ended before its control socket '%s' "
                             "answered"), (long long)pid, path);
            return NULL;
        }
        ignore_value(virTimeMillisNow(&now));
        if (now >= deadline) {
            virReportError(VIR_ERR_OPERATION_TIMEOUT,
                           _("khv-run's control socket '%s' did not appear in time"), path);
            return NULL;
        }
        g_usleep(20 * 1000);
    }
    if (khvNegotiate(fd, &lb, path, deadline) < 0) {
        VIR_FORCE_CLOSE(fd);
        g_free(lb.buf);
        return NULL;
    }
    /* What came after the negotiation's reply (an event) is the watch's. */
    mon = g_new0(khvMonitor, 1);
    g_mutex_init(&mon->lock);
    mon->fd = fd;
    mon->watch = -1;
    mon->in = lb;
    return mon;
}

int
khvMonitorCommand(const char *path, const char *cmd, virJSONValue *args,
                  virJSONValue **reply)
{
    return khvMonitorCommandTimeout(path, cmd, args, reply, KHV_MONITOR_TIMEOUT_MS);
}

int
khvMonitorCommandTimeout(const char *path, const char *cmd, virJSONValue *args,
                         virJSONValue **reply, int timeout_ms)
{
    unsigned long long deadline = khvDeadline(timeout_ms);
    g_autoptr(virJSONValue) owned = args;
    khvLineBuf lb = { 0 };
    VIR_AUTOCLOSE fd = khvSocketConnect(path);
    int ret = -1;

    if (fd < 0) {
        virReportSystemError(errno, _("cannot connect to khv-run's control socket '%s'"),
                             path);
        return -1;
    }
    if (khvNegotiate(fd, &lb, path, deadline) == 0 &&
        khvExchange(fd, &lb, path, cmd, &owned, reply, deadline) == 0)
        ret = 0;
    g_free(lb.buf);
    return ret;
}

static void
khvMonitorFree(void *opaque)
{
    khvMonitor *mon = opaque;

    VIR_FORCE_CLOSE(mon->fd);
    g_mutex_clear(&mon->lock);
    virObjectUnref(mon->opaque);
    g_free(mon->in.buf);
    g_free(mon);
}

/*
 * Set eof and stop the watch, once: true for the caller that did.  The
 * watch is removed after the lock is dropped: its free function may run
 * on the loop thread at once, and frees the lock with the monitor.
 */
static bool
khvMonitorEnd(khvMonitor *mon)
{
    bool first;
    int watch;

    g_mutex_lock(&mon->lock);
    first = !mon->eof;
    mon->eof = true;
    watch = mon->watch;
    g_mutex_unlock(&mon->lock);
    if (first)
        virEventRemoveHandle(watch);
    return first;
}

static bool
khvMonitorEnded(khvMonitor *mon)
{
    bool eof;

    g_mutex_lock(&mon->lock);
    eof = mon->eof;
    g_mutex_unlock(&mon->lock);
    return eof;
}

/*
 * The event loop thread: read what is there, hand on each event, notice
 * the end.  Only this thread touches mon->in.
 */
static void
khvMonitorIO(int watch G_GNUC_UNUSED, int fd, int events, void *opaque)
{
    khvMonitor *mon = opaque;
    bool ended = false;
    char *line;

    if (khvMonitorEnded(mon))
        return;
    if (events & VIR_EVENT_HANDLE_READABLE) {
        ssize_t n = khvLineFill(fd, &mon->in);

        if (n == 0 || (n < 0 && errno != EAGAIN))
            ended = true;
    } else if (events & (VIR_EVENT_HANDLE_HANGUP | VIR_EVENT_HANDLE_ERROR)) {
        ended = true;
    }
    while (!khvMonitorEnded(mon) && (line = khvLineTake(&mon->in))) {
        g_autoptr(virJSONValue) msg = virJSONValueFromString(line);
        const char *name = msg ? virJSONValueObjectGetString(msg, "event") : NULL;

        g_free(line);
        if (name && mon->cb.event)
            mon->cb.event(mon, name, virJSONValueObjectGetObject(msg, "data"), mon->opaque);
    }
    if (ended && khvMonitorEnd(mon) && mon->cb.eof)
        mon->cb.eof(mon, mon->opaque);
}

int
khvMonitorWatch(khvMonitor *mon, const khvMonitorCallbacks *cb, virObject *opaque)
{
    mon->cb = *cb;
    mon->opaque = virObjectRef(opaque);
    if (virSetNonBlock(mon->fd) < 0) {
        virReportSystemError(errno, "%s", _("cannot make khv-run's control socket non-blocking"));
        khvMonitorFree(mon);
        return -1;
    }
    /* Held so that a callback can not see the watch before it is set. */
    g_mutex_lock(&mon->lock);
    mon->watch = virEventAddHandle(mon->fd, VIR_EVENT_HANDLE_READABLE, khvMonitorIO, mon,
                                   khvMonitorFree);
    g_mutex_unlock(&mon->lock);
    if (mon->watch < 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                       _("cannot watch khv-run's control socket: no event loop"));
        khvMonitorFree(mon);
        return -1;
    }
    return 0;
}

void
khvMonitorClose(khvMonitor *mon)
{
    if (!mon)
        return;
    /* The loop frees it once no callback runs (khvMonitorFree). */
    ignore_value(khvMonitorEnd(mon));
}
