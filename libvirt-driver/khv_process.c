// SPDX-License-Identifier: GPL-2.0
/*
 * khv_process.c: a running domain is a khv-run process (khv_process.h).
 *
 * khv-run is started daemonized (it outlives the driver: a daemon restart
 * or an embedded client exiting leaves the VMs running), its stdout and
 * stderr appended to the domain's log after its command line.  The driver
 * knows it by three files in the state directory:
 *
 *   NAME.xml   the status: live definition, pid (= the domain's ID),
 *              state, and <khv control='...'/> (libvirt's status format)
 *   NAME.pid   written when it was started
 *   NAME.ctl   its control socket (khv-run removes it when it ends)
 *
 * One connection to the control socket per running domain listens for
 * khv-run's events (khv_monitor.h): after STOP and RESUME the state is
 * read again,
 * RESET is a reboot event, SHUTDOWN says why khv-run is ending, and the
 * connection's end is khv-run's end.  A domain whose khv-run ends without
 * a SHUTDOWN event crashed, as QEMU's driver calls it: shut off, reason
 * crashed, event stopped/failed.
 */
#include <config.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"
#include "datatypes.h"
#include "domain_conf.h"
#include "domain_event.h"
#include "virchrdev.h"
#include "vircommand.h"
#include "virerror.h"
#include "virfile.h"
#include "virjson.h"
#include "virlog.h"
#include "virnetdevtap.h"
#include "virpidfile.h"
#include "virprocess.h"
#include "virstring.h"
#include "virtime.h"
#include "virxml.h"

#include "khv_conf.h"
#include "khv_command.h"
#include "khv_monitor.h"
#include "khv_process.h"
#include "khv_storage.h"

#define VIR_FROM_THIS VIR_FROM_NONE

VIR_LOG_INIT("khv.khv_process");

/* ---- private data ------------------------------------------------------- */

static void *
khvDomainObjPrivateAlloc(void *opaque G_GNUC_UNUSED)
{
    khvDomainObjPrivate *priv = g_new0(khvDomainObjPrivate, 1);

    if (!(priv->devs = virChrdevAlloc())) {
        g_free(priv);
        return NULL;
    }
    return priv;
}

static void
khvDomainObjPrivateFree(void *data)
{
    khvDomainObjPrivate *priv = data;

    khvMonitorClose(priv->mon);
    virChrdevFree(priv->devs);
    g_free(priv->ctlPath);
    g_free(priv->shutdownReason);
    g_free(priv);
}

static int
khvDomainObjPrivateXMLFormat(virBuffer *buf, virDomainObj *vm)
{
    khvDomainObjPrivate *priv = vm->privateData;

    if (priv->ctlPath)
        virBufferEscapeString(buf, "<khv control='%s'/>\n", priv->ctlPath);
    return 0;
}

static int
khvDomainObjPrivateXMLParse(xmlXPathContextPtr ctxt, virDomainObj *vm,
                            virDomainDefParserConfig *config G_GNUC_UNUSED)
{
    khvDomainObjPrivate *priv = vm->privateData;

    g_free(priv->ctlPath);
    priv->ctlPath = virXPathString("string(./khv/@control)", ctxt);
    return 0;
}

virDomainXMLPrivateDataCallbacks khvPrivateDataCallbacks = {
    .alloc = khvDomainObjPrivateAlloc,
    .free = khvDomainObjPrivateFree,
    .format = khvDomainObjPrivateXMLFormat,
    .parse = khvDomainObjPrivateXMLParse,
};

/* ---- paths --------------------------------------------------------------- */

/*
 * NAME.ctl in the state directory, or UUID.ctl when the name makes it too
 * long for a socket address (108 bytes with its NUL).
 */
static char *
khvControlPathNew(khvDriver *driver, virDomainDef *def)
{
    struct sockaddr_un addr;
    char uuid[VIR_UUID_STRING_BUFLEN];
    g_autofree char *path = g_strdup_printf("%s/%s.ctl", driver->stateDir, def->name);

    if (strlen(path) < sizeof(addr.sun_path))
        return g_steal_pointer(&path);
    g_free(path);
    virUUIDFormat(def->uuid, uuid);
    path = g_strdup_printf("%s/%s.ctl", driver->stateDir, uuid);
    if (strlen(path) < sizeof(addr.sun_path))
        return g_steal_pointer(&path);
    virReportError(VIR_ERR_INTERNAL_ERROR,
                   _("the state directory '%s' is too long for a control socket"),
                   driver->stateDir);
    return NULL;
}

const char *
khvProcessControlPath(virDomainObj *vm)
{
    khvDomainObjPrivate *priv = vm->privateData;

    if (!virDomainObjIsActive(vm) || !priv->ctlPath) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s", _("domain is not running"));
        return NULL;
    }
    return priv->ctlPath;
}

/*
 * Is pid still the khv-run we started?  Its command line holds the
 * control socket's path; a pid reused by another process does not.
 */
bool
khvProcessHasArg(pid_t pid, const char *arg)
{
    g_autofree char *path = g_strdup_printf("/proc/%lld/cmdline", (long long)pid);
    g_autofree char *cmdline = NULL;
    int len;

    if (pid <= 0 || !arg || (len = virFileReadAllQuiet(path, 1 << 20, &cmdline)) < 0)
        return false;
    for (int i = 0; i < len; i += strlen(cmdline + i) + 1)
        if (STREQ(cmdline + i, arg))
            return true;
    return false;
}

/* ---- events from khv-run -------------------------------------------------- */

void
khvQueueLifecycle(khvDriver *driver, virDomainObj *vm, int type, int detail)
{
    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventLifecycleNewFromObj(vm, type, detail));
}

void
khvProcessEndTransient(khvDriver *driver, virDomainObj *vm)
{
    if (!vm->persistent && !virDomainObjIsActive(vm))
        virDomainObjListRemove(driver->domains, vm);
}

void
khvProcessSetPaused(khvDriver *driver, virDomainObj *vm, bool paused)
{
    virDomainState state = virDomainObjGetState(vm, NULL);

    if (paused && state == VIR_DOMAIN_RUNNING) {
        virDomainObjSetState(vm, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER);
        khvQueueLifecycle(driver, vm, VIR_DOMAIN_EVENT_SUSPENDED,
                          VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
    } else if (!paused && state == VIR_DOMAIN_PAUSED) {
        virDomainObjSetState(vm, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_UNPAUSED);
        khvQueueLifecycle(driver, vm, VIR_DOMAIN_EVENT_RESUMED,
                          VIR_DOMAIN_EVENT_RESUMED_UNPAUSED);
    } else {
        return;
    }
    if (virDomainObjSave(vm, driver->xmlopt, driver->stateDir) < 0)
        VIR_WARN("cannot save the status of domain %s", vm->def->name);
}

/*
 * khv-run paused or resumed its vCPUs: on this driver's word (suspend and
 * resume have set the state already) or another client's.  Events can
 * trail the calls that caused them (a STOP read after the resume that
 * followed it), so the state is khv-run's answer now, not the event's.
 */
static void
khvSyncPaused(khvDriver *driver, virDomainObj *vm)
{
    khvDomainObjPrivate *priv = vm->privateData;
    g_autoptr(virJSONValue) status = NULL;
    const char *now;

    if (khvMonitorCommand(priv->ctlPath, "query-status", NULL, &status) < 0 ||
        !(now = virJSONValueObjectGetString(status, "status"))) {
        virResetLastError();    /* khv-run is ending: its end says why */
        return;
    }
    if (STREQ(now, "paused") || STREQ(now, "running"))
        khvProcessSetPaused(driver, vm, STREQ(now, "paused"));
}

/* The monitor callbacks' opaque is vm; they own it only while priv->mon is theirs. */
static void
khvHandleEvent(khvMonitor *mon, const char *name, virJSONValue *data, void *opaque)
{
    virDomainObj *vm = opaque;
    khvDomainObjPrivate *priv;
    khvDriver *driver;

    virObjectLock(vm);
    priv = vm->privateData;
    driver = priv->driver;
    if (priv->mon != mon || !virDomainObjIsActive(vm))
        goto cleanup;
    VIR_DEBUG("domain %s: event %s", vm->def->name, name);
    if (STREQ(name, "STOP") || STREQ(name, "RESUME")) {
        /* A migration's last stop and a failed one's resume: the job's to say. */
        if (priv->job == KHV_JOB_NONE)
            khvSyncPaused(driver, vm);
    } else if (STREQ(name, "RESET")) {
        virObjectEventStateQueue(driver->domainEventState,
                                 virDomainEventRebootNewFromObj(vm));
    } else if (STREQ(name, "SHUTDOWN")) {
        const char *reason = data ? virJSONValueObjectGetString(data, "reason") : NULL;

        g_free(priv->shutdownReason);
        priv->shutdownReason = g_strdup(reason ? reason : "unknown");
    }
 cleanup:
    virObjectUnlock(vm);
}

/* Why khv-run ended, from its SHUTDOWN event (NULL: none came). */
static void
khvShutdownCause(const char *reason, virDomainShutoffReason *state, int *detail)
{
    if (!reason) {
        *state = VIR_DOMAIN_SHUTOFF_CRASHED;
        *detail = VIR_DOMAIN_EVENT_STOPPED_FAILED;
    } else if (STRPREFIX(reason, "guest-")) {
        *state = VIR_DOMAIN_SHUTOFF_SHUTDOWN;
        *detail = VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN;
    } else if (STREQ(reason, "host-error")) {
        *state = VIR_DOMAIN_SHUTOFF_CRASHED;
        *detail = VIR_DOMAIN_EVENT_STOPPED_CRASHED;
    } else {
        *state = VIR_DOMAIN_SHUTOFF_DESTROYED;
        *detail = VIR_DOMAIN_EVENT_STOPPED_DESTROYED;
    }
}

static void
khvHandleEof(khvMonitor *mon, void *opaque)
{
    virDomainObj *vm = opaque;
    khvDomainObjPrivate *priv;
    khvDriver *driver;
    virDomainShutoffReason state;
    int detail;

    virObjectLock(vm);
    priv = vm->privateData;
    driver = priv->driver;
    if (priv->mon != mon || !virDomainObjIsActive(vm)) {
        virObjectUnlock(vm);
        return;
    }
    khvShutdownCause(priv->shutdownReason, &state, &detail);
    VIR_DEBUG("domain %s: khv-run ended (%s)", vm->def->name,
              NULLSTR(priv->shutdownReason));
    khvProcessStop(driver, vm, state);
    khvQueueLifecycle(driver, vm, VIR_DOMAIN_EVENT_STOPPED, detail);
    /* The monitor's reference keeps vm alive past its removal. */
    khvProcessEndTransient(driver, vm);
    virObjectUnlock(vm);
}

static const khvMonitorCallbacks khvMonitorCbs = {
    .event = khvHandleEvent,
    .eof = khvHandleEof,
};

/* ---- start ------------------------------------------------------------------ */

/*
 * A tap on the bridge of each <interface>, fds[i] for nets[i]: a
 * <interface type='network'> gets its bridge from libvirt's network driver.
 * The taps go away with the last fd, khv-run's.
 */
static int
khvNetsPrepare(virDomainDef *def, int *fds)
{
    g_autoptr(virConnect) netconn = NULL;
    size_t i;

    for (i = 0; i < def->nnets; i++) {
        virDomainNetDef *net = def->nets[i];
        virDomainNetType actual;
        const char *bridge;

        if (net->type == VIR_DOMAIN_NET_TYPE_NETWORK) {
            if (!netconn && !(netconn = virGetConnectNetwork()))
                return -1;
            if (virDomainNetAllocateActualDevice(netconn, def, net) < 0)
                return -1;
        }
        /* A routed or NAT network plugs its ports into its own bridge
         * (actual type network), a bridged one into the host's (bridge). */
        actual = virDomainNetGetActualType(net);
        if ((actual != VIR_DOMAIN_NET_TYPE_BRIDGE && actual != VIR_DOMAIN_NET_TYPE_NETWORK) ||
            !(bridge = virDomainNetGetActualBridgeName(net))) {
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                           _("khv does not support <interface> %zu: its network does not "
                             "give a bridge"), i);
            return -1;
        }
        if (virNetDevTapCreateInBridgePort(bridge, &net->ifname, &net->mac, def->uuid, NULL,
                                           &fds[i], 1,
                                           virDomainNetGetActualVirtPortProfile(net),
                                           virDomainNetGetActualVlan(net),
                                           virDomainNetGetActualPortOptionsIsolated(net),
                                           NULL, 0, NULL,
                                           VIR_NETDEV_TAP_CREATE_IFUP |
                                           VIR_NETDEV_TAP_CREATE_VNET_HDR) < 0)
            return -1;
    }
    return 0;
}

/*
 * The ports libvirt's network driver gave the <interface type='network'>
 * of a domain that stops (their taps went with khv-run's fds).
 */
static void
khvNetsRelease(virDomainDef *def)
{
    g_autoptr(virConnect) netconn = NULL;
    size_t i;

    for (i = 0; i < def->nnets; i++) {
        virDomainNetDef *net = def->nets[i];

        if (net->type != VIR_DOMAIN_NET_TYPE_NETWORK || !net->data.network.actual)
            continue;
        if (!netconn && !(netconn = virGetConnectNetwork())) {
            VIR_WARN("cannot release the network port of %s: %s", def->name,
                     virGetLastErrorMessage());
            virResetLastError();
            return;
        }
        if (virDomainNetReleaseActualDevice(netconn, def, net) < 0) {
            VIR_WARN("cannot release the network port of %s: %s", def->name,
                     virGetLastErrorMessage());
            virResetLastError();
        }
    }
}

char *
khvLogSince(const char *logfile, off_t offset)
{
    VIR_AUTOCLOSE fd = open(logfile, O_RDONLY | O_CLOEXEC);
    g_autofree char *text = NULL;
    off_t end;
    ssize_t len;

    if (fd < 0 || (end = lseek(fd, 0, SEEK_END)) < 0 || end < offset)
        return g_strdup("");
    offset = MAX(offset, end - 2048);
    text = g_new0(char, end - offset + 1);
    if ((len = pread(fd, text, end - offset, offset)) < 0)
        return g_strdup("");
    text[len] = 0;
    while (len > 0 && text[len - 1] == '\n')
        text[--len] = 0;
    return g_steal_pointer(&text);
}

/* Each pty console's path, from khv-run, into the live definition. */
static int
khvProcessReadConsoles(virDomainObj *vm)
{
    khvDomainObjPrivate *priv = vm->privateData;
    g_autoptr(virJSONValue) list = NULL;
    size_t i, j;

    if (khvMonitorCommand(priv->ctlPath, "query-chardev", NULL, &list) < 0)
        return -1;
    if (virJSONValueGetType(list) != VIR_JSON_TYPE_ARRAY) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                       _("khv-run's query-chardev did not return an array"));
        return -1;
    }
    for (i = 0; i < virJSONValueArraySize(list); i++) {
        virJSONValue *c = virJSONValueArrayGet(list, i);
        const char *label = virJSONValueObjectGetString(c, "label");
        const char *file = virJSONValueObjectGetString(c, "filename");
        virDomainChrDef *chr = NULL;

        if (!label || !file || !STRPREFIX(file, "pty:"))
            continue;
        if (STREQ(label, "serial0") && vm->def->nserials)
            chr = vm->def->serials[0];
        for (j = 0; !chr && STREQ(label, "console0") && j < vm->def->nconsoles; j++)
            if (vm->def->consoles[j]->targetType == VIR_DOMAIN_CHR_CONSOLE_TARGET_TYPE_VIRTIO)
                chr = vm->def->consoles[j];
        if (!chr)
            continue;
        g_free(chr->source->data.file.path);
        chr->source->data.file.path = g_strdup(file + strlen("pty:"));
        /* <console> 0 on the serial port is the same device: the same pty. */
        if (chr == vm->def->serials[0] && vm->def->nconsoles &&
            vm->def->consoles[0]->targetType == VIR_DOMAIN_CHR_CONSOLE_TARGET_TYPE_SERIAL &&
            vm->def->consoles[0]->source->type == VIR_DOMAIN_CHR_TYPE_PTY) {
            g_free(vm->def->consoles[0]->source->data.file.path);
            vm->def->consoles[0]->source->data.file.path = g_strdup(file + strlen("pty:"));
        }
    }
    return 0;
}

/*
 * The VNC server's port (khv-run chose it under autoport) and address,
 * from khv-run, into the live definition: what virt-manager connects to.
 */
static int
khvProcessReadVnc(virDomainObj *vm)
{
    khvDomainObjPrivate *priv = vm->privateData;
    g_autoptr(virJSONValue) vnc = NULL;
    virDomainGraphicsDef *g;
    const char *service, *host;
    bool enabled = false;
    int port;

    if (!vm->def->ngraphics)
        return 0;
    g = vm->def->graphics[0];
    if (khvMonitorCommand(priv->ctlPath, "query-vnc", NULL, &vnc) < 0)
        return -1;
    service = virJSONValueObjectGetString(vnc, "service");
    host = virJSONValueObjectGetString(vnc, "host");
    if (virJSONValueObjectGetBoolean(vnc, "enabled", &enabled) < 0 || !enabled || !service ||
        virStrToLong_i(service, NULL, 10, &port) < 0 || port <= 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                       _("khv-run's query-vnc did not give its VNC port"));
        return -1;
    }
    g->data.vnc.port = port;
    if (host && g->nListens && !g->listens[0].address)
        g->listens[0].address = g_strdup(host);
    return 0;
}

/* The password for khv-run's VNC server, in a file only the daemon reads. */
static int
khvProcessWriteVncPassword(virDomainObj *vm, const char *ctlPath)
{
    g_autofree char *path = khvVncPasswordPath(ctlPath);
    g_autofree char *line = NULL;

    if (!vm->def->ngraphics || !vm->def->graphics[0]->data.vnc.auth.passwd)
        return 0;
    line = g_strdup_printf("%s\n", vm->def->graphics[0]->data.vnc.auth.passwd);
    unlink(path);
    if (virFileWriteStr(path, line, 0600) < 0) {
        virReportSystemError(errno, _("cannot write the VNC password file '%s'"), path);
        return -1;
    }
    return 0;
}

static void
khvProcessRemoveVncPassword(const char *ctlPath)
{
    g_autofree char *path = NULL;

    if (!ctlPath)
        return;
    path = khvVncPasswordPath(ctlPath);
    unlink(path);
}

/* serial0, console0...: the names virsh console DEVNAME takes. */
static void
khvAssignConsoleAliases(virDomainDef *def)
{
    size_t i;

    for (i = 0; i < def->nserials; i++)
        if (!def->serials[i]->info.alias)
            def->serials[i]->info.alias = g_strdup_printf("serial%zu", i);
    for (i = 0; i < def->nconsoles; i++)
        if (!def->consoles[i]->info.alias)
            def->consoles[i]->info.alias = g_strdup_printf("console%zu", i);
}

/* ---- jobs ------------------------------------------------------------------- */

static const char *
khvJobName(khvJobType type)
{
    switch (type) {
    case KHV_JOB_SAVE:
        return "save";
    case KHV_JOB_MIGRATION_OUT:
        return "outgoing migration";
    case KHV_JOB_MIGRATION_IN:
        return "incoming migration";
    case KHV_JOB_NONE:
        break;
    }
    return "none";
}

int
khvJobCheck(virDomainObj *vm)
{
    khvDomainObjPrivate *priv = vm->privateData;

    if (priv->job == KHV_JOB_NONE)
        return 0;
    virReportError(VIR_ERR_OPERATION_INVALID, _("domain %s is busy: a %s job runs"),
                   vm->def->name, khvJobName(priv->job));
    return -1;
}

int
khvJobBegin(virDomainObj *vm, khvJobType type)
{
    khvDomainObjPrivate *priv = vm->privateData;

    if (khvJobCheck(vm) < 0)
        return -1;
    priv->job = type;
    ignore_value(virTimeMillisNow(&priv->jobStarted));
    return 0;
}

void
khvJobEnd(virDomainObj *vm)
{
    khvDomainObjPrivate *priv = vm->privateData;

    priv->job = KHV_JOB_NONE;
    priv->jobStarted = 0;
}

int
khvProcessWatch(virDomainObj *vm, int timeout_ms)
{
    khvDomainObjPrivate *priv = vm->privateData;
    khvMonitor *mon;

    if (!(mon = khvMonitorConnect(priv->ctlPath, vm->pid, timeout_ms)))
        return -1;
    if (khvMonitorWatch(mon, &khvMonitorCbs, (virObject *)vm) < 0)
        return -1;
    priv->mon = mon;
    return 0;
}

int
khvProcessStart(khvDriver *driver, virDomainObj *vm, virDomainRunningReason reason)
{
    return khvProcessStartFrom(driver, vm, reason, NULL, NULL, false);
}

int
khvProcessStartFrom(khvDriver *driver, virDomainObj *vm, virDomainRunningReason reason,
                    const char *restore, const char *incoming, bool paused)
{
    khvDomainObjPrivate *priv = vm->privateData;
    g_autoptr(virCommand) cmd = NULL;
    g_autofree char *pidfile = NULL;
    g_autofree char *logfile = NULL;
    g_autofree int *tapfds = NULL;
    VIR_AUTOCLOSE logfd = -1;
    khvMonitor *mon;
    off_t logstart;
    size_t i;

    if (virDomainObjIsActive(vm)) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s", _("domain is already running"));
        return -1;
    }
    if (khvJobCheck(vm) < 0)
        return -1;
    if (virDomainObjSetDefTransient(driver->xmlopt, vm, NULL) < 0)
        return -1;
    priv->driver = driver;
    khvAssignConsoleAliases(vm->def);
    g_clear_pointer(&priv->shutdownReason, g_free);
    g_free(priv->ctlPath);
    if (!(priv->ctlPath = khvControlPathNew(driver, vm->def)))
        goto error;
    pidfile = virPidFileBuildPath(driver->stateDir, vm->def->name);
    if (unlink(pidfile) < 0 && errno != ENOENT) {
        virReportSystemError(errno, _("cannot remove the old pid file '%s'"), pidfile);
        goto error;
    }
    logfile = g_strdup_printf("%s/%s.log", driver->logDir, vm->def->name);
    if ((logfd = open(logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        virReportSystemError(errno, _("cannot open the log '%s'"), logfile);
        goto error;
    }
    logstart = lseek(logfd, 0, SEEK_END);

    tapfds = g_new(int, vm->def->nnets + 1);
    for (i = 0; i < vm->def->nnets; i++)
        tapfds[i] = -1;
    if (khvNetsPrepare(vm->def, tapfds) < 0)
        goto error;
    if (khvStorageStart(vm->def, priv->ctlPath, logfd, logfile, logstart) < 0)
        goto error;
    if (khvProcessWriteVncPassword(vm, priv->ctlPath) < 0)
        goto error;
    cmd = khvBuildCommandLine(vm->def, priv->ctlPath, tapfds);
    if (restore)
        virCommandAddArgList(cmd, "--restore", restore, NULL);
    if (incoming)
        virCommandAddArgList(cmd, "--incoming", incoming, NULL);
    if (paused)
        virCommandAddArg(cmd, "--paused");
    for (i = 0; i < vm->def->nnets; i++)
        virCommandPassFD(cmd, tapfds[i], VIR_COMMAND_PASS_FD_CLOSE_PARENT);
    virCommandSetOutputFD(cmd, &logfd);
    virCommandSetErrorFD(cmd, &logfd);
    virCommandWriteArgLog(cmd, logfd);
    virCommandSetPidFile(cmd, pidfile);
    virCommandDaemonize(cmd);
    if (virCommandRun(cmd, NULL) < 0)
        goto error;
    if (virPidFileReadPath(pidfile, &vm->pid) < 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR, _("khv-run for domain %s did not start"),
                       vm->def->name);
        goto error;
    }
    /* Running from here: a failure below stops it. */
    vm->def->id = vm->pid;
    if (paused)
        virDomainObjSetState(vm, VIR_DOMAIN_PAUSED, incoming ? VIR_DOMAIN_PAUSED_MIGRATION :
                             VIR_DOMAIN_PAUSED_USER);
    else
        virDomainObjSetState(vm, VIR_DOMAIN_RUNNING, reason);
    if (!(mon = khvMonitorConnect(priv->ctlPath, vm->pid, KHV_MONITOR_TIMEOUT_MS))) {
        g_autofree char *said = NULL;

        /* khv-run's own words (a bad kernel, no /dev/khv) say more. */
        g_usleep(100 * 1000);
        said = khvLogSince(logfile, logstart);
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("khv-run did not start domain %s: %s"), vm->def->name,
                       *said ? said : _("see its log"));
        goto error;
    }
    /* khv-run has read the password by now (before it listened). */
    khvProcessRemoveVncPassword(priv->ctlPath);
    if (khvMonitorWatch(mon, &khvMonitorCbs, (virObject *)vm) < 0)
        goto error;
    priv->mon = mon;
    if (khvProcessReadConsoles(vm) < 0 || khvProcessReadVnc(vm) < 0)
        goto error;
    if (virDomainObjSave(vm, driver->xmlopt, driver->stateDir) < 0)
        goto error;
    return 0;

 error:
    {
        virErrorPtr orig;

        virErrorPreserveLast(&orig);
        if (tapfds)
            for (i = 0; !cmd && i < vm->def->nnets; i++)
                VIR_FORCE_CLOSE(tapfds[i]);
        khvProcessStop(driver, vm, VIR_DOMAIN_SHUTOFF_FAILED);
        virErrorRestore(&orig);
    }
    return -1;
}

/* ---- stop ------------------------------------------------------------------- */

void
khvProcessStop(khvDriver *driver, virDomainObj *vm, virDomainShutoffReason reason)
{
    khvDomainObjPrivate *priv = vm->privateData;
    g_autofree char *pidfile = virPidFileBuildPath(driver->stateDir, vm->def->name);
    g_autofree char *status = virDomainConfigFile(driver->stateDir, vm->def->name);

    khvMonitorClose(priv->mon);
    priv->mon = NULL;
    if (vm->pid > 0 && khvProcessHasArg(vm->pid, priv->ctlPath) &&
        virProcessKillPainfully(vm->pid, true) < 0)
        VIR_WARN("khv-run (pid %lld) of domain %s would not end", (long long)vm->pid,
                 vm->def->name);
    /* The ports once their taps went with khv-run. */
    khvNetsRelease(vm->def);
    /* After khv-run: it may still have had writes in flight to them. */
    khvStorageStop(vm->def, priv->ctlPath);
    khvProcessRemoveVncPassword(priv->ctlPath);
    if (priv->ctlPath)
        unlink(priv->ctlPath);  /* khv-run's; gone unless it was killed */
    unlink(pidfile);
    if (status)
        unlink(status);
    g_clear_pointer(&priv->ctlPath, g_free);
    vm->pid = 0;
    vm->def->id = -1;
    virDomainObjSetState(vm, VIR_DOMAIN_SHUTOFF, reason);
    virDomainObjRemoveTransientDef(vm);
}

/* ---- reconnect -------------------------------------------------------------- */

int
khvProcessReconnect(virDomainObj *vm, void *opaque)
{
    khvDriver *driver = opaque;
    khvDomainObjPrivate *priv = vm->privateData;
    khvMonitor *mon;

    virObjectRef(vm);   /* past a removal from the list */
    virObjectLock(vm);
    if (!virDomainObjIsActive(vm))
        goto cleanup;
    priv->driver = driver;
    if (khvProcessHasArg(vm->pid, priv->ctlPath) &&
        (mon = khvMonitorConnect(priv->ctlPath, vm->pid, 5000)) &&
        khvMonitorWatch(mon, &khvMonitorCbs, (virObject *)vm) == 0) {
        priv->mon = mon;
        VIR_DEBUG("domain %s: khv-run %lld found again", vm->def->name, (long long)vm->pid);
        goto cleanup;
    }
    /* It ended while nobody watched: how, nobody knows. */
    virResetLastError();
    VIR_DEBUG("domain %s: khv-run %lld is gone", vm->def->name, (long long)vm->pid);
    khvProcessStop(driver, vm, VIR_DOMAIN_SHUTOFF_UNKNOWN);
    if (!vm->persistent)
        virDomainObjListRemoveLocked(driver->domains, vm);    /* the list is locked */
 cleanup:
    virObjectUnlock(vm);
    virObjectUnref(vm);
    return 0;
}

/*
 * The driver is going away (khv-run stays): stop listening, so that no
 * callback runs on a freed driver.  Run before the domain list goes.
 */
int
khvProcessForget(virDomainObj *vm, void *opaque G_GNUC_UNUSED)
{
    khvDomainObjPrivate *priv;

    virObjectLock(vm);
    priv = vm->privateData;
    khvMonitorClose(priv->mon);
    priv->mon = NULL;
    virObjectUnlock(vm);
    return 0;
}
