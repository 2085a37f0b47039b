// SPDX-License-Identifier: GPL-2.0
/*
 * khv_migration.c: live migration between two hosts' drivers, libvirt's
 * protocol version 3 with parameters (virsh migrate --live DOM
 * khv+tcp://OTHER/system), driven by the client:
 *
 *   source       Begin    the domain's XML for the destination
 *   destination  Prepare  the domain defined live and khv-run started
 *                         with --incoming tcp:LISTEN:PORT --paused; the
 *                         URI the source is to send to
 *   source       Perform  khv-run's migrate to that URI, polled with
 *                         query-migrate until it completed or failed
 *   destination  Finish   the guest runs (cont) once khv-run has it all,
 *                         or, when cancelled, khv-run is stopped
 *   source       Confirm  khv-run, whose VM is the destination's now,
 *                         ends: shut off (migrated); or the domain runs
 *                         on after a failure
 *
 * The memory, devices and disks' locks move as khv-run moves them
 * (Documentation/khv/migration.rst); the disks must be shared storage
 * (the same files on both hosts).  No cookies: khv-run's stream carries
 * everything the destination needs.
 *
 * Locking: Perform is a job (khv_process.h) that unlocks the domain
 * while it waits between two polls, so domjobinfo reads khv-run's
 * progress and domjobabort cancels.  The destination's domain has a job
 * from Prepare to Finish, which refuses start, shutdown and the rest.
 */
#include <config.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "datatypes.h"
#include "domain_conf.h"
#include "domain_event.h"
#include "viraccessapicheck.h"
#include "virerror.h"
#include "virfile.h"
#include "virjson.h"
#include "virlog.h"
#include "virprocess.h"
#include "virstring.h"
#include "virtypedparam.h"
#include "virutil.h"

#include "khv_conf.h"
#include "khv_monitor.h"
#include "khv_process.h"

#define VIR_FROM_THIS VIR_FROM_NONE

VIR_LOG_INIT("khv.khv_migration");

/* What the driver honours; anything else is refused by virCheckFlags. */
#define KHV_MIGRATION_FLAGS (VIR_MIGRATE_LIVE | VIR_MIGRATE_PERSIST_DEST | \
                             VIR_MIGRATE_UNDEFINE_SOURCE | VIR_MIGRATE_PAUSED | \
                             VIR_MIGRATE_CHANGE_PROTECTION | VIR_MIGRATE_ABORT_ON_ERROR)

/* libvirt's range for migration ports (qemu.conf's migration_port_min/max). */
#define KHV_MIGRATION_PORT_MIN 49152
#define KHV_MIGRATION_PORT_MAX 49215

/* How often Perform asks khv-run how far it is. */
#define KHV_MIGRATION_POLL_US (100 * 1000)

int
khvConnectSupportsFeature(virConnectPtr conn, int feature)
{
    if (virConnectSupportsFeatureEnsureACL(conn) < 0)
        return -1;
    switch (feature) {
    case VIR_DRV_FEATURE_MIGRATION_V3:
    case VIR_DRV_FEATURE_MIGRATION_PARAMS:
    case VIR_DRV_FEATURE_MIGRATE_CHANGE_PROTECTION:
    case VIR_DRV_FEATURE_TYPED_PARAM_STRING:
        return 1;
    default:
        return 0;
    }
}

/* The parameters every step accepts; a bandwidth limit khv-run has not. */
static int
khvMigrationParams(virTypedParameterPtr params, int nparams)
{
    unsigned long long bandwidth = 0;

    if (virTypedParamsValidate(params, nparams,
                               VIR_MIGRATE_PARAM_URI, VIR_TYPED_PARAM_STRING,
                               VIR_MIGRATE_PARAM_DEST_NAME, VIR_TYPED_PARAM_STRING,
                               VIR_MIGRATE_PARAM_DEST_XML, VIR_TYPED_PARAM_STRING,
                               VIR_MIGRATE_PARAM_PERSIST_XML, VIR_TYPED_PARAM_STRING,
                               VIR_MIGRATE_PARAM_LISTEN_ADDRESS, VIR_TYPED_PARAM_STRING,
                               VIR_MIGRATE_PARAM_BANDWIDTH, VIR_TYPED_PARAM_ULLONG,
                               NULL) < 0)
        return -1;
    if (virTypedParamsGetULLong(params, nparams, VIR_MIGRATE_PARAM_BANDWIDTH, &bandwidth) < 0)
        return -1;
    if (bandwidth) {
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED, "%s",
                       _("khv-run has no migration bandwidth limit"));
        return -1;
    }
    return 0;
}

/*
 * A migration URI as libvirt's clients write it, tcp:HOST[:PORT] or
 * tcp://HOST[:PORT] (HOST a name or an IPv4 address): host and port
 * (0 when none).  -1 with an error for anything else.
 */
int
khvMigrationParseURI(const char *uri, char **host, int *port)
{
    const char *rest;
    const char *colon;

    if (!(rest = STRSKIP(uri, "tcp:"))) {
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED,
                       _("migration URI '%s': khv migrates over tcp: only"), uri);
        return -1;
    }
    if (STRPREFIX(rest, "//"))
        rest += 2;
    colon = strchr(rest, ':');
    *port = 0;
    if (colon) {
        unsigned int p;

        if (virStrToLong_ui(colon + 1, NULL, 10, &p) < 0 || p == 0 || p > 65535) {
            virReportError(VIR_ERR_INVALID_ARG, _("migration URI '%s': bad port"), uri);
            return -1;
        }
        *port = p;
    }
    *host = colon ? g_strndup(rest, colon - rest) : g_strdup(rest);
    if (strchr(*host, '/') || strchr(*host, '[') || strchr(*host, '?')) {
        virReportError(VIR_ERR_INVALID_ARG,
                       _("migration URI '%s': HOST[:PORT] after tcp:"), uri);
        g_clear_pointer(host, g_free);
        return -1;
    }
    return 0;
}

/* ---- source: Begin -------------------------------------------------------- */

char *
khvDomainMigrateBegin3Params(virDomainPtr domain, virTypedParameterPtr params, int nparams,
                             char **cookieout G_GNUC_UNUSED, int *cookieoutlen G_GNUC_UNUSED,
                             unsigned int flags)
{
    khvDriver *driver = domain->conn->privateData;
    const char *xmlin = NULL;
    const char *dname = NULL;
    virDomainObj *vm;
    char *xml = NULL;

    virCheckFlags(KHV_MIGRATION_FLAGS, NULL);
    if (khvMigrationParams(params, nparams) < 0 ||
        virTypedParamsGetString(params, nparams, VIR_MIGRATE_PARAM_DEST_XML, &xmlin) < 0 ||
        virTypedParamsGetString(params, nparams, VIR_MIGRATE_PARAM_DEST_NAME, &dname) < 0)
        return NULL;
    if (!(vm = khvDomObjFromDomain(domain)))
        return NULL;
    if (virDomainMigrateBegin3ParamsEnsureACL(domain->conn, vm->def) < 0)
        goto cleanup;
    if (!virDomainObjIsActive(vm)) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("domain is not running (khv migrates running domains only)"));
        goto cleanup;
    }
    if (dname && STRNEQ(dname, vm->def->name)) {
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED, "%s",
                       _("khv does not rename a domain it migrates"));
        goto cleanup;
    }
    if (khvJobCheck(vm) < 0)
        goto cleanup;
    if (xmlin) {
        g_autoptr(virDomainDef) def = virDomainDefParseString(xmlin, driver->xmlopt, NULL,
                                                              VIR_DOMAIN_DEF_PARSE_INACTIVE);

        if (!def || !virDomainDefCheckABIStability(vm->def, def, driver->xmlopt))
            goto cleanup;
        xml = virDomainDefFormat(def, driver->xmlopt, VIR_DOMAIN_DEF_FORMAT_SECURE |
                                 VIR_DOMAIN_DEF_FORMAT_INACTIVE);
    } else {
        xml = virDomainDefFormat(vm->def, driver->xmlopt, VIR_DOMAIN_DEF_FORMAT_SECURE |
                                 VIR_DOMAIN_DEF_FORMAT_INACTIVE);
    }

 cleanup:
    virDomainObjEndAPI(&vm);
    return xml;
}

/* ---- destination: Prepare --------------------------------------------------- */

/* A port in libvirt's migration range nothing listens on now. */
static int
khvMigrationFreePort(void)
{
    for (int port = KHV_MIGRATION_PORT_MIN; port <= KHV_MIGRATION_PORT_MAX; port++) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
        VIR_AUTOCLOSE fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
            break;
        sa.sin_addr.s_addr = htonl(INADDR_ANY);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return port;
    }
    virReportError(VIR_ERR_OPERATION_FAILED, _("no free migration port in %d-%d"),
                   KHV_MIGRATION_PORT_MIN, KHV_MIGRATION_PORT_MAX);
    return -1;
}

int
khvDomainMigratePrepare3Params(virConnectPtr dconn, virTypedParameterPtr params, int nparams,
                               const char *cookiein G_GNUC_UNUSED,
                               int cookieinlen G_GNUC_UNUSED,
                               char **cookieout G_GNUC_UNUSED,
                               int *cookieoutlen G_GNUC_UNUSED,
                               char **uri_out, unsigned int flags)
{
    khvDriver *driver = dconn->privateData;
    g_autoptr(virDomainDef) def = NULL;
    g_autofree char *host = NULL;
    g_autofree char *incoming = NULL;
    const char *dxml = NULL;
    const char *dname = NULL;
    const char *uri = NULL;
    const char *listen = NULL;
    virDomainObj *vm = NULL;
    int port = 0;
    int ret = -1;

    virCheckFlags(KHV_MIGRATION_FLAGS, -1);
    if (khvMigrationParams(params, nparams) < 0 ||
        virTypedParamsGetString(params, nparams, VIR_MIGRATE_PARAM_DEST_XML, &dxml) < 0 ||
        virTypedParamsGetString(params, nparams, VIR_MIGRATE_PARAM_DEST_NAME, &dname) < 0 ||
        virTypedParamsGetString(params, nparams, VIR_MIGRATE_PARAM_URI, &uri) < 0 ||
        virTypedParamsGetString(params, nparams, VIR_MIGRATE_PARAM_LISTEN_ADDRESS,
                                &listen) < 0)
        return -1;
    if (!dxml) {
        virReportError(VIR_ERR_INVALID_ARG, "%s", _("no domain XML to migrate"));
        return -1;
    }
    if (!(def = virDomainDefParseString(dxml, driver->xmlopt, NULL,
                                        VIR_DOMAIN_DEF_PARSE_INACTIVE)))
        return -1;
    if (virDomainMigratePrepare3ParamsEnsureACL(dconn, def) < 0)
        return -1;
    if (dname && STRNEQ(dname, def->name)) {
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED, "%s",
                       _("khv does not rename a domain it migrates"));
        return -1;
    }
    if (uri && khvMigrationParseURI(uri, &host, &port) < 0)
        return -1;
    if (!host && !(host = virGetHostname()))
        return -1;
    if (!port && (port = khvMigrationFreePort()) < 0)
        return -1;
    incoming = g_strdup_printf("tcp:%s:%d", listen ? listen : "0.0.0.0", port);
    if (!(vm = khvDomainAddLive(driver, &def)))
        return -1;
    if (khvProcessStartFrom(driver, vm, VIR_DOMAIN_RUNNING_MIGRATED, NULL, incoming,
                            true) < 0) {
        khvProcessEndTransient(driver, vm);
        goto cleanup;
    }
    ignore_value(khvJobBegin(vm, KHV_JOB_MIGRATION_IN));
    khvQueueLifecycle(driver, vm, VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_MIGRATED);
    *uri_out = g_strdup_printf("tcp:%s:%d", host, port);
    VIR_DEBUG("domain %s: waiting on %s for %s", vm->def->name, incoming, *uri_out);
    ret = 0;

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}

/* ---- source: Perform ------------------------------------------------------ */

/*
 * khv-run's migrate to uri (khv-run's form), then query-migrate every
 * 100 ms, the domain unlocked in between, until it completed (0), failed
 * or was cancelled (-1 with khv-run's reason).
 */
static int
khvMigrationRun(virDomainObj *vm, const char *ctl, const char *uri)
{
    g_autoptr(virJSONValue) args = NULL;

    if (virJSONValueObjectAdd(&args, "s:uri", uri, NULL) < 0 ||
        khvMonitorCommand(ctl, "migrate", g_steal_pointer(&args), NULL) < 0)
        return -1;
    for (;;) {
        g_autoptr(virJSONValue) info = NULL;
        const char *status;
        const char *why;
        int rc;

        virObjectUnlock(vm);
        g_usleep(KHV_MIGRATION_POLL_US);
        rc = khvMonitorCommand(ctl, "query-migrate", NULL, &info);
        virObjectLock(vm);
        if (rc < 0)
            return -1;
        if (!(status = virJSONValueObjectGetString(info, "status"))) {
            virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                           _("khv-run's query-migrate has no status"));
            return -1;
        }
        if (STREQ(status, "completed"))
            return 0;
        if (STREQ(status, "failed") || STREQ(status, "cancelled")) {
            why = virJSONValueObjectGetString(info, "error-desc");
            virReportError(VIR_ERR_OPERATION_FAILED, _("migration %s: %s"), status,
                           why ? why : _("khv-run gave no reason"));
            return -1;
        }
    }
}

int
khvDomainMigratePerform3Params(virDomainPtr domain, const char *dconnuri,
                               virTypedParameterPtr params, int nparams,
                               const char *cookiein G_GNUC_UNUSED,
                               int cookieinlen G_GNUC_UNUSED,
                               char **cookieout G_GNUC_UNUSED,
                               int *cookieoutlen G_GNUC_UNUSED, unsigned int flags)
{
    khvDriver *driver = domain->conn->privateData;
    khvDomainObjPrivate *priv;
    g_autofree char *host = NULL;
    g_autofree char *target = NULL;
    g_autofree char *ctl = NULL;
    const char *uri = NULL;
    virDomainObj *vm;
    bool paused_here = false;
    pid_t pid;
    int port;
    int ret = -1;

    virCheckFlags(KHV_MIGRATION_FLAGS, -1);
    if (flags & VIR_MIGRATE_PEER2PEER || dconnuri) {
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED, "%s",
                       _("khv migrates with the client in between, not peer to peer"));
        return -1;
    }
    if (khvMigrationParams(params, nparams) < 0 ||
        virTypedParamsGetString(params, nparams, VIR_MIGRATE_PARAM_URI, &uri) < 0)
        return -1;
    if (!uri) {
        virReportError(VIR_ERR_INVALID_ARG, "%s", _("no migration URI from the destination"));
        return -1;
    }
    if (khvMigrationParseURI(uri, &host, &port) < 0)
        return -1;
    if (!port) {
        virReportError(VIR_ERR_INVALID_ARG, _("migration URI '%s' has no port"), uri);
        return -1;
    }
    target = g_strdup_printf("tcp:%s:%d", host, port);
    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    priv = vm->privateData;
    if (virDomainMigratePerform3ParamsEnsureACL(domain->conn, vm->def) < 0)
        goto cleanup;
    if (khvCheckActive(vm) < 0 || khvJobBegin(vm, KHV_JOB_MIGRATION_OUT) < 0)
        goto cleanup;
    ctl = g_strdup(priv->ctlPath);
    pid = vm->pid;
    /* Not live: the guest stops for the whole copy, as QEMU's does. */
    if (!(flags & VIR_MIGRATE_LIVE) && virDomainObjGetState(vm, NULL) == VIR_DOMAIN_RUNNING) {
        if (khvMonitorCommand(ctl, "stop", NULL, NULL) < 0)
            goto endjob;
        khvProcessSetPaused(driver, vm, true);
        paused_here = true;
    }
    ret = khvMigrationRun(vm, ctl, target);
    if (!virDomainObjIsActive(vm) || vm->pid != pid) {
        if (ret == 0)
            virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                           _("the domain ended while it migrated"));
        ret = -1;
        goto endjob;
    }
    if (ret == 0) {
        /* Paused for good here: the VM is the destination's. */
        virDomainObjSetState(vm, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_MIGRATION);
        khvQueueLifecycle(driver, vm, VIR_DOMAIN_EVENT_SUSPENDED,
                          VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED);
    } else if (paused_here) {
        virErrorPtr orig;

        virErrorPreserveLast(&orig);
        if (khvMonitorCommand(ctl, "cont", NULL, NULL) == 0)
            khvProcessSetPaused(driver, vm, false);
        virErrorRestore(&orig);
    }
    if (virDomainObjSave(vm, driver->xmlopt, driver->stateDir) < 0)
        VIR_WARN("cannot save the status of domain %s", vm->def->name);

 endjob:
    khvJobEnd(vm);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}

/* ---- destination: Finish ----------------------------------------------------- */

/*
 * khv-run has the whole VM once its status leaves "inmigrate" (it is then
 * "paused": --paused); the source's Perform returned, so that is at once
 * or nearly.  0, or -1 with an error.
 */
static int
khvMigrationArrived(virDomainObj *vm)
{
    khvDomainObjPrivate *priv = vm->privateData;

    for (int i = 0; i < 300; i++) {
        g_autoptr(virJSONValue) st = NULL;
        const char *now;

        if (!virDomainObjIsActive(vm) ||
            khvMonitorCommand(priv->ctlPath, "query-status", NULL, &st) < 0)
            break;
        now = virJSONValueObjectGetString(st, "status");
        if (STREQ_NULLABLE(now, "paused"))
            return 0;
        if (STRNEQ_NULLABLE(now, "inmigrate")) {
            virReportError(VIR_ERR_OPERATION_FAILED,
                           _("khv-run did not take the migrated domain (its status: %s)"),
                           NULLSTR(now));
            return -1;
        }
        virObjectUnlock(vm);
        g_usleep(100 * 1000);
        virObjectLock(vm);
    }
    if (!virGetLastErrorCode())
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       _("the migrated domain's khv-run ended or did not answer"));
    return -1;
}

/* Make the running transient vm persistent with its definition. */
static int
khvMigrationPersist(khvDriver *driver, virDomainObj *vm, const char *persist_xml)
{
    g_autofree char *xml = NULL;
    virDomainDef *def;

    if (!persist_xml &&
        !(xml = virDomainDefFormat(vm->def, driver->xmlopt, VIR_DOMAIN_DEF_FORMAT_SECURE |
                                   VIR_DOMAIN_DEF_FORMAT_INACTIVE)))
        return -1;
    if (!(def = virDomainDefParseString(persist_xml ? persist_xml : xml, driver->xmlopt,
                                        NULL, VIR_DOMAIN_DEF_PARSE_INACTIVE)))
        return -1;
    if (virDomainDefSave(def, driver->xmlopt, driver->configDir) < 0) {
        virDomainDefFree(def);
        return -1;
    }
    virDomainDefFree(vm->newDef);
    vm->newDef = def;
    vm->persistent = 1;
    return 0;
}

virDomainPtr
khvDomainMigrateFinish3Params(virConnectPtr dconn, virTypedParameterPtr params, int nparams,
                              const char *cookiein G_GNUC_UNUSED,
                              int cookieinlen G_GNUC_UNUSED,
                              char **cookieout G_GNUC_UNUSED,
                              int *cookieoutlen G_GNUC_UNUSED,
                              unsigned int flags, int cancelled)
{
    khvDriver *driver = dconn->privateData;
    khvDomainObjPrivate *priv;
    const char *dname = NULL;
    const char *persist = NULL;
    virDomainObj *vm;
    virDomainPtr dom = NULL;

    virCheckFlags(KHV_MIGRATION_FLAGS, NULL);
    if (khvMigrationParams(params, nparams) < 0 ||
        virTypedParamsGetString(params, nparams, VIR_MIGRATE_PARAM_DEST_NAME, &dname) < 0 ||
        virTypedParamsGetString(params, nparams, VIR_MIGRATE_PARAM_PERSIST_XML, &persist) < 0)
        return NULL;
    if (!dname || !(vm = virDomainObjListFindByName(driver->domains, dname))) {
        virReportError(VIR_ERR_NO_DOMAIN, _("no incoming domain '%s'"), NULLSTR(dname));
        return NULL;
    }
    priv = vm->privateData;
    if (virDomainMigrateFinish3ParamsEnsureACL(dconn, vm->def) < 0)
        goto cleanup;
    if (priv->job != KHV_JOB_MIGRATION_IN) {
        virReportError(VIR_ERR_OPERATION_INVALID, _("domain %s is not migrating in"),
                       vm->def->name);
        goto cleanup;
    }
    if (!cancelled && khvMigrationArrived(vm) == 0) {
        if (!(flags & VIR_MIGRATE_PAUSED)) {
            if (khvMonitorCommand(priv->ctlPath, "cont", NULL, NULL) < 0)
                goto failed;
            virDomainObjSetState(vm, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_MIGRATED);
            khvQueueLifecycle(driver, vm, VIR_DOMAIN_EVENT_RESUMED,
                              VIR_DOMAIN_EVENT_RESUMED_MIGRATED);
        } else {
            virDomainObjSetState(vm, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER);
        }
        khvJobEnd(vm);
        if ((flags & VIR_MIGRATE_PERSIST_DEST) && khvMigrationPersist(driver, vm, persist) < 0)
            VIR_WARN("domain %s runs here but could not be made persistent: %s",
                     vm->def->name, virGetLastErrorMessage());
        if (virDomainObjSave(vm, driver->xmlopt, driver->stateDir) < 0)
            VIR_WARN("cannot save the status of domain %s", vm->def->name);
        dom = virGetDomain(dconn, vm->def->name, vm->def->uuid, vm->def->id);
        goto cleanup;
    }

 failed:
    /* Cancelled, or the VM did not arrive: nothing of it stays here. */
    {
        virErrorPtr orig;

        virErrorPreserveLast(&orig);
        khvJobEnd(vm);
        if (virDomainObjIsActive(vm)) {
            khvProcessStop(driver, vm, VIR_DOMAIN_SHUTOFF_FAILED);
            khvQueueLifecycle(driver, vm, VIR_DOMAIN_EVENT_STOPPED,
                              VIR_DOMAIN_EVENT_STOPPED_FAILED);
        }
        khvProcessEndTransient(driver, vm);
        virErrorRestore(&orig);
    }

 cleanup:
    virDomainObjEndAPI(&vm);
    return dom;
}

/* ---- source: Confirm ------------------------------------------------------- */

int
khvDomainMigrateConfirm3Params(virDomainPtr domain, virTypedParameterPtr params, int nparams,
                               const char *cookiein G_GNUC_UNUSED,
                               int cookieinlen G_GNUC_UNUSED, unsigned int flags,
                               int cancelled)
{
    khvDriver *driver = domain->conn->privateData;
    virDomainObj *vm;
    int reason = 0;
    int ret = -1;

    virCheckFlags(KHV_MIGRATION_FLAGS, -1);
    if (khvMigrationParams(params, nparams) < 0)
        return -1;
    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainMigrateConfirm3ParamsEnsureACL(domain->conn, vm->def) < 0)
        goto cleanup;
    if (khvCheckActive(vm) < 0)
        goto cleanup;
    virDomainObjGetState(vm, &reason);
    if (reason != VIR_DOMAIN_PAUSED_MIGRATION ||
        virDomainObjGetState(vm, NULL) != VIR_DOMAIN_PAUSED) {
        /* Perform failed: the domain ran on all along. */
        ret = 0;
        goto cleanup;
    }
    if (cancelled) {
        /*
         * khv-run handed the VM and the disks' locks over and will not run
         * it again; the destination dropped it.  Only a destroy is left.
         */
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       _("the destination did not take the migrated domain, and khv-run "
                         "cannot resume it here after a completed migration: destroy it "
                         "and start it again"));
        goto cleanup;
    }
    khvProcessStop(driver, vm, VIR_DOMAIN_SHUTOFF_MIGRATED);
    khvQueueLifecycle(driver, vm, VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_MIGRATED);
    if ((flags & VIR_MIGRATE_UNDEFINE_SOURCE) && vm->persistent) {
        if (virDomainDeleteConfig(driver->configDir, driver->autostartDir, vm) < 0)
            VIR_WARN("cannot undefine domain %s after its migration", vm->def->name);
        else
            vm->persistent = 0;
    }
    khvProcessEndTransient(driver, vm);
    ret = 0;

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}

/* ---- progress --------------------------------------------------------------- */

int
khvMigrationProgress(virDomainObj *vm, khvMigrationInfo *info)
{
    khvDomainObjPrivate *priv = vm->privateData;
    g_autoptr(virJSONValue) reply = NULL;
    virJSONValue *ram;
    double mbps = 0;

    memset(info, 0, sizeof(*info));
    if (khvMonitorCommand(priv->ctlPath, "query-migrate", NULL, &reply) < 0)
        return -1;
    ignore_value(virJSONValueObjectGetNumberUlong(reply, "total-time", &info->elapsed));
    ignore_value(virJSONValueObjectGetNumberUlong(reply, "expected-downtime",
                                                  &info->expectedDowntime));
    if ((ram = virJSONValueObjectGetObject(reply, "ram"))) {
        ignore_value(virJSONValueObjectGetNumberUlong(ram, "total", &info->total));
        ignore_value(virJSONValueObjectGetNumberUlong(ram, "transferred", &info->transferred));
        ignore_value(virJSONValueObjectGetNumberUlong(ram, "remaining", &info->remaining));
        ignore_value(virJSONValueObjectGetNumberUlong(ram, "dirty-pages-rate",
                                                      &info->dirtyRate));
        ignore_value(virJSONValueObjectGetNumberUlong(ram, "dirty-sync-count",
                                                      &info->passes));
        if (virJSONValueObjectGetNumberDouble(ram, "mbps", &mbps) == 0 && mbps > 0)
            info->bytesPerSecond = mbps * 1000 * 1000 / 8;
    }
    return 0;
}
