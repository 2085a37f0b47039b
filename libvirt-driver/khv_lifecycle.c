// SPDX-License-Identifier: GPL-2.0
/*
 * khv_lifecycle.c: the calls that run domains: start (defined or from
 * XML), destroy, shutdown and reboot through the guest's ACPI power
 * button, reset, suspend and resume, the console, autostart, and the
 * lifecycle events clients register for.
 *
 * Each call holds the domain object's lock from lookup to answer
 * (khv_conf.h), khv-run's start and end included: a second call on the
 * same domain waits instead of racing it.
 */
#include <config.h>

#include <unistd.h>

#include "internal.h"
#include "datatypes.h"
#include "domain_conf.h"
#include "domain_event.h"
#include "virchrdev.h"
#include "virdomainobjlist.h"
#include "viraccessapicheck.h"
#include "virerror.h"
#include "virfile.h"
#include "virlog.h"

#include "khv_conf.h"
#include "khv_monitor.h"
#include "khv_process.h"
#include "khv_storage.h"

#define VIR_FROM_THIS VIR_FROM_NONE

VIR_LOG_INIT("khv.khv_lifecycle");

int
khvCheckActive(virDomainObj *vm)
{
    if (virDomainObjIsActive(vm))
        return 0;
    virReportError(VIR_ERR_OPERATION_INVALID, "%s", _("domain is not running"));
    return -1;
}

int
khvStartWithEvents(khvDriver *driver, virDomainObj *vm, const char *restore, bool paused)
{
    if (khvProcessStartFrom(driver, vm, restore ? VIR_DOMAIN_RUNNING_RESTORED :
                            VIR_DOMAIN_RUNNING_BOOTED, restore, NULL, paused) < 0)
        return -1;
    khvQueueLifecycle(driver, vm, VIR_DOMAIN_EVENT_STARTED,
                      restore ? VIR_DOMAIN_EVENT_STARTED_RESTORED :
                      VIR_DOMAIN_EVENT_STARTED_BOOTED);
    if (paused)
        khvQueueLifecycle(driver, vm, VIR_DOMAIN_EVENT_SUSPENDED,
                          restore ? VIR_DOMAIN_EVENT_SUSPENDED_RESTORED :
                          VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
    return 0;
}

virDomainObj *
khvDomainAddLive(khvDriver *driver, virDomainDef **def)
{
    if (khvStorageFormatsFromPools(*def) < 0)
        return NULL;
    return virDomainObjListAdd(driver->domains, def, driver->xmlopt,
                               VIR_DOMAIN_OBJ_LIST_ADD_LIVE |
                               VIR_DOMAIN_OBJ_LIST_ADD_CHECK_LIVE, NULL);
}

/*
 * A defined domain starts from its managed save image when it has one
 * (khv_save.c), unless flags say VIR_DOMAIN_START_FORCE_BOOT; else it boots.
 */
static int
khvStartDefined(khvDriver *driver, virDomainObj *vm, unsigned int flags)
{
    int rc = khvManagedSaveStart(driver, vm, flags);

    if (rc <= 0)
        return rc;
    return khvStartWithEvents(driver, vm, NULL, flags & VIR_DOMAIN_START_PAUSED);
}

int
khvDomainCreateWithFlags(virDomainPtr domain, unsigned int flags)
{
    khvDriver *driver = domain->conn->privateData;
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_START_PAUSED | VIR_DOMAIN_START_FORCE_BOOT, -1);
    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainCreateWithFlagsEnsureACL(domain->conn, vm->def) < 0)
        goto cleanup;
    if (khvStartDefined(driver, vm, flags) < 0)
        goto cleanup;
    domain->id = vm->def->id;
    ret = 0;

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}

int
khvDomainCreate(virDomainPtr domain)
{
    return khvDomainCreateWithFlags(domain, 0);
}

virDomainPtr
khvDomainCreateXML(virConnectPtr conn, const char *xml, unsigned int flags)
{
    khvDriver *driver = conn->privateData;
    g_autoptr(virDomainDef) def = NULL;
    unsigned int parse_flags = VIR_DOMAIN_DEF_PARSE_INACTIVE;
    virDomainObj *vm = NULL;
    virDomainPtr dom = NULL;

    virCheckFlags(VIR_DOMAIN_START_VALIDATE | VIR_DOMAIN_START_PAUSED, NULL);
    if (flags & VIR_DOMAIN_START_VALIDATE)
        parse_flags |= VIR_DOMAIN_DEF_PARSE_VALIDATE_SCHEMA;
    if (!(def = virDomainDefParseString(xml, driver->xmlopt, NULL, parse_flags)))
        return NULL;
    if (virDomainCreateXMLEnsureACL(conn, def) < 0)
        return NULL;
    if (!(vm = khvDomainAddLive(driver, &def)))
        return NULL;
    if (khvStartWithEvents(driver, vm, NULL, flags & VIR_DOMAIN_START_PAUSED) < 0) {
        khvProcessEndTransient(driver, vm);
        goto cleanup;
    }
    dom = virGetDomain(conn, vm->def->name, vm->def->uuid, vm->def->id);

 cleanup:
    virDomainObjEndAPI(&vm);
    return dom;
}

int
khvDomainDestroyFlags(virDomainPtr domain, unsigned int flags)
{
    khvDriver *driver = domain->conn->privateData;
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(0, -1);
    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainDestroyFlagsEnsureACL(domain->conn, vm->def) < 0 || khvCheckActive(vm) < 0)
        goto cleanup;
    khvProcessStop(driver, vm, VIR_DOMAIN_SHUTOFF_DESTROYED);
    khvQueueLifecycle(driver, vm, VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_DESTROYED);
    khvProcessEndTransient(driver, vm);
    domain->id = -1;
    ret = 0;

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}

int
khvDomainDestroy(virDomainPtr domain)
{
    return khvDomainDestroyFlags(domain, 0);
}

/* One control command on a running domain (its lock held: it is quick). */
static int
khvDomainCommand(virDomainObj *vm, const char *cmd)
{
    const char *path = khvProcessControlPath(vm);   /* NULL: not running */

    if (!path || khvJobCheck(vm) < 0)
        return -1;
    return khvMonitorCommand(path, cmd, NULL, NULL);
}

/* The access checks of the calls below, in one shape. */
typedef int khvCommandACL(virConnectPtr conn, virDomainDef *def, unsigned int flags);

static int
khvShutdownACL(virConnectPtr conn, virDomainDef *def, unsigned int flags)
{
    return virDomainShutdownFlagsEnsureACL(conn, def, flags);
}

static int
khvRebootACL(virConnectPtr conn, virDomainDef *def, unsigned int flags)
{
    return virDomainRebootEnsureACL(conn, def, flags);
}

static int
khvResetACL(virConnectPtr conn, virDomainDef *def, unsigned int flags G_GNUC_UNUSED)
{
    return virDomainResetEnsureACL(conn, def);
}

/* Look the domain up, check access, run cmd on it. */
static int
khvDomainCall(virDomainPtr domain, khvCommandACL *acl, unsigned int flags, const char *cmd)
{
    virDomainObj *vm;
    int ret = -1;

    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (acl(domain->conn, vm->def, flags) == 0)
        ret = khvDomainCommand(vm, cmd);
    virDomainObjEndAPI(&vm);
    return ret;
}

/*
 * The ACPI power button: the guest decides (a Debian guest shuts down and
 * powers off; khv-run then ends and the domain is shut off, an event
 * says so).  Returns once the button is pressed, as libvirt's other
 * drivers do.
 */
int
khvDomainShutdownFlags(virDomainPtr domain, unsigned int flags)
{
    virCheckFlags(VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN, -1);
    return khvDomainCall(domain, khvShutdownACL, flags, "system_powerdown");
}

int
khvDomainShutdown(virDomainPtr domain)
{
    return khvDomainShutdownFlags(domain, 0);
}

/*
 * khv-run cannot ask the guest to restart, so a reboot is the machine's
 * reset line (the guest's disks see no orderly shutdown): libvirt's
 * VIR_DOMAIN_REBOOT_DEFAULT leaves the method to the driver.  The ACPI
 * and guest-agent methods are refused rather than pretended.
 */
int
khvDomainReboot(virDomainPtr domain, unsigned int flags)
{
    virCheckFlags(0, -1);
    return khvDomainCall(domain, khvRebootACL, flags, "system_reset");
}

int
khvDomainReset(virDomainPtr domain, unsigned int flags)
{
    virCheckFlags(0, -1);
    return khvDomainCall(domain, khvResetACL, flags, "system_reset");
}

/*
 * stop and cont answer once the vCPUs have parked or run again; the state
 * and event are set here rather than waiting for khv-run's STOP/RESUME
 * event, which then finds nothing to change.
 */
static int
khvDomainPause(virDomainPtr domain, bool pause)
{
    khvDriver *driver = domain->conn->privateData;
    virDomainObj *vm;
    int ret = -1;
    int acl;

    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    acl = pause ? virDomainSuspendEnsureACL(domain->conn, vm->def) :
                  virDomainResumeEnsureACL(domain->conn, vm->def);
    if (acl < 0 || khvDomainCommand(vm, pause ? "stop" : "cont") < 0)
        goto cleanup;
    khvProcessSetPaused(driver, vm, pause);
    ret = 0;

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}

int
khvDomainSuspend(virDomainPtr domain)
{
    return khvDomainPause(domain, true);
}

int
khvDomainResume(virDomainPtr domain)
{
    return khvDomainPause(domain, false);
}

/* The named console (its alias), or the first <console>, or COM1. */
static virDomainChrDef *
khvFindConsole(virDomainDef *def, const char *dev_name)
{
    size_t i;

    if (!dev_name)
        return def->nconsoles ? def->consoles[0] : def->nserials ? def->serials[0] : NULL;
    for (i = 0; i < def->nconsoles; i++)
        if (STREQ_NULLABLE(def->consoles[i]->info.alias, dev_name))
            return def->consoles[i];
    for (i = 0; i < def->nserials; i++)
        if (STREQ_NULLABLE(def->serials[i]->info.alias, dev_name))
            return def->serials[i];
    return NULL;
}

int
khvDomainOpenConsole(virDomainPtr domain, const char *dev_name, virStreamPtr st,
                     unsigned int flags)
{
    virDomainObj *vm;
    virDomainChrDef *chr;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_CONSOLE_SAFE | VIR_DOMAIN_CONSOLE_FORCE, -1);
    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainOpenConsoleEnsureACL(domain->conn, vm->def) < 0 || khvCheckActive(vm) < 0)
        goto cleanup;
    if (!(chr = khvFindConsole(vm->def, dev_name))) {
        virReportError(VIR_ERR_INTERNAL_ERROR, _("cannot find console device '%s'"),
                       NULLSTR(dev_name));
        goto cleanup;
    }
    /* A <console> on the serial target stands for COM1: open COM1. */
    if (chr->deviceType == VIR_DOMAIN_CHR_DEVICE_TYPE_CONSOLE &&
        chr->targetType == VIR_DOMAIN_CHR_CONSOLE_TARGET_TYPE_SERIAL && vm->def->nserials)
        chr = vm->def->serials[0];
    if (chr->source->type != VIR_DOMAIN_CHR_TYPE_PTY || !chr->source->data.file.path) {
        virReportError(VIR_ERR_INTERNAL_ERROR, _("console '%s' has no pty"),
                       NULLSTR(chr->info.alias));
        goto cleanup;
    }
    ret = virChrdevOpen(((khvDomainObjPrivate *)vm->privateData)->devs, chr->source, st,
                        !!(flags & VIR_DOMAIN_CONSOLE_FORCE));
    if (ret == 1) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       _("the console is in use by another session"));
        ret = -1;
    }

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}

int
khvDomainGetAutostart(virDomainPtr domain, int *autostart)
{
    virDomainObj *vm;
    int ret = -1;

    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainGetAutostartEnsureACL(domain->conn, vm->def) == 0) {
        *autostart = vm->autostart;
        ret = 0;
    }
    virDomainObjEndAPI(&vm);
    return ret;
}

/* A link in the autostart directory to the configuration, as every driver keeps it. */
int
khvDomainSetAutostart(virDomainPtr domain, int autostart)
{
    khvDriver *driver = domain->conn->privateData;
    g_autofree char *config = NULL;
    g_autofree char *link = NULL;
    virDomainObj *vm;
    int ret = -1;

    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainSetAutostartEnsureACL(domain->conn, vm->def) < 0)
        goto cleanup;
    if (!vm->persistent) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("cannot set autostart for transient domain"));
        goto cleanup;
    }
    autostart = !!autostart;
    if (vm->autostart != autostart) {
        config = virDomainConfigFile(driver->configDir, vm->def->name);
        link = virDomainConfigFile(driver->autostartDir, vm->def->name);
        if (autostart && symlink(config, link) < 0) {
            virReportSystemError(errno, _("cannot create autostart link '%s'"), link);
            goto cleanup;
        }
        if (!autostart && unlink(link) < 0 && errno != ENOENT) {
            virReportSystemError(errno, _("cannot remove autostart link '%s'"), link);
            goto cleanup;
        }
        vm->autostart = autostart;
    }
    ret = 0;

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}

static int
khvAutostartOne(virDomainObj *vm, void *opaque)
{
    khvDriver *driver = opaque;

    virObjectLock(vm);
    if (vm->autostart && !virDomainObjIsActive(vm)) {
        if (khvStartDefined(driver, vm, 0) < 0)
            VIR_ERROR(_("cannot autostart domain %s: %s"), vm->def->name,
                      virGetLastErrorMessage());
    }
    virObjectUnlock(vm);
    return 0;
}

/* At the daemon's start (not an embedded client's): the autostart domains. */
void
khvAutostartAll(khvDriver *driver)
{
    virDomainObjListForEach(driver->domains, false, khvAutostartOne, driver);
}

int
khvConnectDomainEventRegisterAny(virConnectPtr conn, virDomainPtr domain, int eventID,
                                 virConnectDomainEventGenericCallback callback,
                                 void *opaque, virFreeCallback freecb)
{
    khvDriver *driver = conn->privateData;
    int id = -1;

    if (virConnectDomainEventRegisterAnyEnsureACL(conn) < 0)
        return -1;
    if (virDomainEventStateRegisterID(conn, driver->domainEventState, domain, eventID,
                                      callback, opaque, freecb, &id) < 0)
        return -1;
    return id;
}

int
khvConnectDomainEventDeregisterAny(virConnectPtr conn, int callbackID)
{
    khvDriver *driver = conn->privateData;

    if (virConnectDomainEventDeregisterAnyEnsureACL(conn) < 0)
        return -1;
    if (virObjectEventStateDeregisterID(conn, driver->domainEventState, callbackID, true) < 0)
        return -1;
    return 0;
}

int
khvConnectDomainEventRegister(virConnectPtr conn, virConnectDomainEventCallback callback,
                              void *opaque, virFreeCallback freecb)
{
    khvDriver *driver = conn->privateData;

    if (virConnectDomainEventRegisterEnsureACL(conn) < 0)
        return -1;
    if (virDomainEventStateRegister(conn, driver->domainEventState, callback, opaque,
                                    freecb) < 0)
        return -1;
    return 0;
}

int
khvConnectDomainEventDeregister(virConnectPtr conn, virConnectDomainEventCallback callback)
{
    khvDriver *driver = conn->privateData;

    if (virConnectDomainEventDeregisterEnsureACL(conn) < 0)
        return -1;
    if (virDomainEventStateDeregister(conn, driver->domainEventState, callback) < 0)
        return -1;
    return 0;
}
