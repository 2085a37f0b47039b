// SPDX-License-Identifier: GPL-2.0
/*
 * khv_driver.c: libvirt's connection driver for khv.
 *
 * URIs: khv:///system (a privileged daemon), khv:///session (an
 * unprivileged one) and khv:///embed?root=DIR (the driver inside the
 * client process, its state under DIR: what the tests use).  The module is
 * built against the internal headers of the libvirt the host runs
 * (libvirt-tree.sh) and loaded by it as libvirt_driver_khv.so, whose
 * khvRegister() registers a connection driver and a state driver.
 *
 * It answers the connection-level calls that virsh and virt-manager make
 * before anything else (type, version, hostname, capabilities, node
 * information, the domain list, liveness) and those of persistent domain
 * definitions (khv_domain.c).  Documentation/khv/libvirt.rst says what
 * works and what does not yet.
 *
 * Out of libvirt's tree neither the <domain type=...> enum nor the error
 * domains can gain a khv entry: guests are type 'kvm' in the XML (the
 * hardware-assisted type libvirt knows) and errors come from VIR_FROM_NONE.
 *
 * Locking: khv_conf.h.
 */
#include <config.h>

#include <unistd.h>

#include "internal.h"
#include "configmake.h"
#include "datatypes.h"
#include "driver.h"
#include "capabilities.h"
#include "domain_capabilities.h"
#include "domain_conf.h"
#include "virdomainobjlist.h"
#include "viraccessapicheck.h"
#include "virerror.h"
#include "virlog.h"
#include "virutil.h"
#include "viruri.h"

#include "khv_driver.h"
#include "khv_conf.h"
#include "khv_process.h"

#define VIR_FROM_THIS VIR_FROM_NONE

VIR_LOG_INIT("khv.khv_driver");

static khvDriver *khv_driver;

static void
khvDriverFree(khvDriver *driver)
{
    if (!driver)
        return;
    virObjectUnref(driver->domainEventState);
    virObjectUnref(driver->domains);
    virObjectUnref(driver->xmlopt);
    virObjectUnref(driver->caps);
    g_free(driver->logDir);
    g_free(driver->saveDir);
    g_free(driver->stateDir);
    g_free(driver->autostartDir);
    g_free(driver->configDir);
    g_free(driver->embeddedRoot);
    g_free(driver);
}

/*
 * What a khv host offers: x86_64 HVM guests of type 'kvm' run by khv-run.
 * The host's own topology and NUMA cells are libvirt's usual probe.
 */
static virCaps *
khvBuildCapabilities(void)
{
    g_autoptr(virCaps) caps = NULL;
    virCapsGuest *guest;

    if (!(caps = virCapabilitiesNew(virArchFromHost(), false, false)))
        return NULL;
    if (!(caps->host.numa = virCapabilitiesHostNUMANewHost()))
        return NULL;
    guest = virCapabilitiesAddGuest(caps, VIR_DOMAIN_OSTYPE_HVM, VIR_ARCH_X86_64,
                                    KHV_RUN_BIN, NULL, 0, NULL);
    virCapabilitiesAddGuestDomain(guest, VIR_DOMAIN_VIRT_KVM, NULL, NULL, 0, NULL);
    return g_steal_pointer(&caps);
}

/* Where configurations and status files go, by kind of daemon. */
static int
khvDriverDirs(khvDriver *driver, const char *root)
{
    const char *dirs[4];

    if (root) {
        driver->configDir = g_build_filename(root, "etc", "khv", NULL);
        driver->stateDir = g_build_filename(root, "run", "khv", NULL);
        driver->logDir = g_build_filename(root, "log", "khv", NULL);
        driver->saveDir = g_build_filename(root, "lib", "khv", "save", NULL);
    } else if (driver->privileged) {
        driver->configDir = g_strdup(SYSCONFDIR "/libvirt/khv");
        driver->stateDir = g_strdup(RUNSTATEDIR "/libvirt/khv");
        driver->logDir = g_strdup(LOCALSTATEDIR "/log/libvirt/khv");
        driver->saveDir = g_strdup(LOCALSTATEDIR "/lib/libvirt/khv/save");
    } else {
        g_autofree char *config = virGetUserConfigDirectory();
        g_autofree char *rundir = virGetUserRuntimeDirectory();
        g_autofree char *cache = virGetUserCacheDirectory();

        driver->configDir = g_build_filename(config, "khv", NULL);
        driver->stateDir = g_build_filename(rundir, "khv", NULL);
        driver->logDir = g_build_filename(cache, "khv", "log", NULL);
        driver->saveDir = g_build_filename(config, "khv", "save", NULL);
    }
    driver->autostartDir = g_build_filename(driver->configDir, "autostart", NULL);
    dirs[0] = driver->autostartDir;
    dirs[1] = driver->stateDir;
    dirs[2] = driver->logDir;
    dirs[3] = driver->saveDir;
    for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
        if (g_mkdir_with_parents(dirs[i], 0700) < 0) {
            virReportSystemError(errno, _("cannot create directory '%s'"), dirs[i]);
            return -1;
        }
    }
    return 0;
}

static virDrvStateInitResult
khvStateInitialize(bool privileged,
                   const char *root,
                   bool monolithic G_GNUC_UNUSED,
                   virStateInhibitCallback callback G_GNUC_UNUSED,
                   void *opaque G_GNUC_UNUSED)
{
    khvDriver *driver = g_new0(khvDriver, 1);

    driver->privileged = privileged;
    driver->embeddedRoot = g_strdup(root);
    /*
     * The running domains first (their status files: live definition,
     * pid), then the persistent definitions, which join them as the
     * definitions to go back to when they stop.
     */
    if (khvDriverDirs(driver, root) < 0 ||
        !(driver->caps = khvBuildCapabilities()) ||
        !(driver->xmlopt = khvDomainXMLOptionNew()) ||
        !(driver->domains = virDomainObjListNew()) ||
        !(driver->domainEventState = virObjectEventStateNew()) ||
        virDomainObjListLoadAllConfigs(driver->domains, driver->stateDir, NULL, true,
                                       driver->xmlopt, NULL, NULL) < 0 ||
        virDomainObjListLoadAllConfigs(driver->domains, driver->configDir,
                                       driver->autostartDir, false, driver->xmlopt,
                                       NULL, NULL) < 0) {
        khvDriverFree(driver);
        return VIR_DRV_STATE_INIT_ERROR;
    }
    /* khv-run outlives the driver: find each again, or learn it ended. */
    virDomainObjListForEach(driver->domains, true, khvProcessReconnect, driver);
    khvManagedSaveFindAll(driver);
    khv_driver = driver;
    /* A client embedding the driver starts nothing behind its user's back. */
    if (!root)
        khvAutostartAll(driver);
    return VIR_DRV_STATE_INIT_COMPLETE;
}

static int
khvStateCleanup(void)
{
    if (!khv_driver)
        return 0;
    virDomainObjListForEach(khv_driver->domains, false, khvProcessForget, NULL);
    khvDriverFree(khv_driver);
    khv_driver = NULL;
    return 0;
}

static virDrvOpenStatus
khvConnectOpen(virConnectPtr conn,
               virConnectAuthPtr auth G_GNUC_UNUSED,
               virConf *conf G_GNUC_UNUSED,
               unsigned int flags)
{
    virCheckFlags(VIR_CONNECT_RO, VIR_DRV_OPEN_ERROR);

    if (!khv_driver) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s", _("khv state driver is not active"));
        return VIR_DRV_OPEN_ERROR;
    }
    if (khv_driver->embeddedRoot) {
        const char *root = virURIGetParam(conn->uri, "root");

        if (!root)
            return VIR_DRV_OPEN_ERROR;
        if (STRNEQ(conn->uri->path, "/embed")) {
            virReportError(VIR_ERR_INTERNAL_ERROR, "%s", _("URI must be khv:///embed"));
            return VIR_DRV_OPEN_ERROR;
        }
        if (STRNEQ(root, khv_driver->embeddedRoot)) {
            virReportError(VIR_ERR_INTERNAL_ERROR,
                           _("cannot open the embedded khv driver at '%s': it is open at '%s'"),
                           root, khv_driver->embeddedRoot);
            return VIR_DRV_OPEN_ERROR;
        }
    } else if (!virConnectValidateURIPath(conn->uri->path, "khv", khv_driver->privileged)) {
        return VIR_DRV_OPEN_ERROR;
    }
    if (virConnectOpenEnsureACL(conn) < 0)
        return VIR_DRV_OPEN_ERROR;
    conn->privateData = khv_driver;
    return VIR_DRV_OPEN_SUCCESS;
}

static int
khvConnectClose(virConnectPtr conn)
{
    conn->privateData = NULL;
    return 0;
}

static const char *
khvConnectGetType(virConnectPtr conn)
{
    if (virConnectGetTypeEnsureACL(conn) < 0)
        return NULL;
    return "KHV";
}

static int
khvConnectGetVersion(virConnectPtr conn, unsigned long *version)
{
    if (virConnectGetVersionEnsureACL(conn) < 0)
        return -1;
    *version = KHV_VERSION_MAJOR * 1000000UL + KHV_VERSION_MINOR * 1000UL +
               KHV_VERSION_MICRO;
    return 0;
}

static char *
khvConnectGetHostname(virConnectPtr conn)
{
    if (virConnectGetHostnameEnsureACL(conn) < 0)
        return NULL;
    return virGetHostname();
}

static char *
khvConnectGetCapabilities(virConnectPtr conn)
{
    khvDriver *driver = conn->privateData;

    if (virConnectGetCapabilitiesEnsureACL(conn) < 0)
        return NULL;
    return virCapabilitiesFormatXML(driver->caps);
}

/*
 * What a domain may ask for, as virt-install and virt-manager read it: the
 * same as the validate callbacks of khv_domain.c let through (kernel boot
 * without a loader, virtio disks, a virtio rng from /dev/random), and
 * every other device kind reported unsupported.
 */
static char *
khvConnectGetDomainCapabilities(virConnectPtr conn, const char *emulatorbin,
                                const char *arch_str, const char *machine,
                                const char *virttype_str, unsigned int flags)
{
    g_autoptr(virDomainCaps) caps = NULL;
    virArch arch = VIR_ARCH_X86_64;

    virCheckFlags(0, NULL);
    if (virConnectGetDomainCapabilitiesEnsureACL(conn) < 0)
        return NULL;
    if (virttype_str && STRNEQ(virttype_str, "kvm")) {
        virReportError(VIR_ERR_INVALID_ARG, _("unknown virttype '%s' (khv runs 'kvm')"),
                       virttype_str);
        return NULL;
    }
    if (arch_str && (arch = virArchFromString(arch_str)) != VIR_ARCH_X86_64) {
        virReportError(VIR_ERR_INVALID_ARG, _("unsupported architecture '%s'"), arch_str);
        return NULL;
    }
    if (machine) {
        virReportError(VIR_ERR_INVALID_ARG, _("khv-run has no machine type '%s'"), machine);
        return NULL;
    }
    if (!(caps = virDomainCapsNew(emulatorbin ? emulatorbin : KHV_RUN_BIN, NULL, arch,
                                  VIR_DOMAIN_VIRT_KVM)))
        return NULL;
    caps->maxvcpus = KHV_MAX_VCPUS;
    caps->os.supported = VIR_TRISTATE_BOOL_YES;
    caps->os.loader.supported = VIR_TRISTATE_BOOL_NO;
    caps->disk.supported = VIR_TRISTATE_BOOL_YES;
    caps->disk.diskDevice.report = true;
    caps->disk.bus.report = true;
    VIR_DOMAIN_CAPS_ENUM_SET(caps->disk.diskDevice, VIR_DOMAIN_DISK_DEVICE_DISK);
    VIR_DOMAIN_CAPS_ENUM_SET(caps->disk.bus, VIR_DOMAIN_DISK_BUS_VIRTIO);
    caps->rng.supported = VIR_TRISTATE_BOOL_YES;
    caps->rng.model.report = true;
    caps->rng.backendModel.report = true;
    VIR_DOMAIN_CAPS_ENUM_SET(caps->rng.model, VIR_DOMAIN_RNG_MODEL_VIRTIO);
    VIR_DOMAIN_CAPS_ENUM_SET(caps->rng.backendModel, VIR_DOMAIN_RNG_BACKEND_RANDOM);
    /* khv-run --vnc and its display adapter (--display vga|bochs). */
    caps->graphics.supported = VIR_TRISTATE_BOOL_YES;
    caps->graphics.type.report = true;
    VIR_DOMAIN_CAPS_ENUM_SET(caps->graphics.type, VIR_DOMAIN_GRAPHICS_TYPE_VNC);
    caps->video.supported = VIR_TRISTATE_BOOL_YES;
    caps->video.modelType.report = true;
    VIR_DOMAIN_CAPS_ENUM_SET(caps->video.modelType, VIR_DOMAIN_VIDEO_TYPE_VGA,
                             VIR_DOMAIN_VIDEO_TYPE_BOCHS, VIR_DOMAIN_VIDEO_TYPE_NONE);
    caps->hostdev.supported = VIR_TRISTATE_BOOL_NO;
    caps->filesystem.supported = VIR_TRISTATE_BOOL_NO;
    caps->tpm.supported = VIR_TRISTATE_BOOL_NO;
    caps->redirdev.supported = VIR_TRISTATE_BOOL_NO;
    caps->channel.supported = VIR_TRISTATE_BOOL_NO;
    return virDomainCapsFormat(caps);
}

static int
khvConnectGetMaxVcpus(virConnectPtr conn, const char *type)
{
    if (virConnectGetMaxVcpusEnsureACL(conn) < 0)
        return -1;
    if (type && STRCASENEQ(type, "kvm") && STRCASENEQ(type, "khv")) {
        virReportError(VIR_ERR_INVALID_ARG, _("unknown domain type '%s'"), type);
        return -1;
    }
    return KHV_MAX_VCPUS;
}

static int
khvNodeGetInfo(virConnectPtr conn, virNodeInfoPtr nodeinfo)
{
    if (virNodeGetInfoEnsureACL(conn) < 0)
        return -1;
    return virCapabilitiesGetNodeInfo(nodeinfo);
}

static int
khvConnectListAllDomains(virConnectPtr conn, virDomainPtr **domains, unsigned int flags)
{
    khvDriver *driver = conn->privateData;

    virCheckFlags(VIR_CONNECT_LIST_DOMAINS_FILTERS_ALL, -1);
    if (virConnectListAllDomainsEnsureACL(conn) < 0)
        return -1;
    return virDomainObjListExport(driver->domains, conn, domains,
                                  virConnectListAllDomainsCheckACL, flags);
}

static int
khvConnectIsAlive(virConnectPtr conn G_GNUC_UNUSED)
{
    return 1;
}

/* A local connection: nothing crosses a network in the clear. */
static int
khvConnectIsSecure(virConnectPtr conn G_GNUC_UNUSED)
{
    return 1;
}

static int
khvConnectIsEncrypted(virConnectPtr conn G_GNUC_UNUSED)
{
    return 0;
}

static virHypervisorDriver khvHypervisorDriver = {
    .name = "KHV",
    .connectOpen = khvConnectOpen,
    .connectClose = khvConnectClose,
    .connectGetType = khvConnectGetType,
    .connectGetVersion = khvConnectGetVersion,
    .connectGetHostname = khvConnectGetHostname,
    .connectGetCapabilities = khvConnectGetCapabilities,
    .connectGetDomainCapabilities = khvConnectGetDomainCapabilities,
    .connectGetMaxVcpus = khvConnectGetMaxVcpus,
    .nodeGetInfo = khvNodeGetInfo,
    .connectListAllDomains = khvConnectListAllDomains,
    .connectIsAlive = khvConnectIsAlive,
    .connectIsSecure = khvConnectIsSecure,
    .connectIsEncrypted = khvConnectIsEncrypted,
    .domainDefineXML = khvDomainDefineXML,
    .domainDefineXMLFlags = khvDomainDefineXMLFlags,
    .domainUndefine = khvDomainUndefine,
    .domainUndefineFlags = khvDomainUndefineFlags,
    .domainLookupByName = khvDomainLookupByName,
    .domainLookupByUUID = khvDomainLookupByUUID,
    .domainLookupByID = khvDomainLookupByID,
    .domainGetXMLDesc = khvDomainGetXMLDesc,
    .domainGetInfo = khvDomainGetInfo,
    .domainGetState = khvDomainGetState,
    .domainIsActive = khvDomainIsActive,
    .domainIsPersistent = khvDomainIsPersistent,
    .domainCreate = khvDomainCreate,
    .domainCreateWithFlags = khvDomainCreateWithFlags,
    .domainCreateXML = khvDomainCreateXML,
    .domainDestroy = khvDomainDestroy,
    .domainDestroyFlags = khvDomainDestroyFlags,
    .domainShutdown = khvDomainShutdown,
    .domainShutdownFlags = khvDomainShutdownFlags,
    .domainReboot = khvDomainReboot,
    .domainReset = khvDomainReset,
    .domainSuspend = khvDomainSuspend,
    .domainResume = khvDomainResume,
    .domainOpenConsole = khvDomainOpenConsole,
    .domainGetAutostart = khvDomainGetAutostart,
    .domainSetAutostart = khvDomainSetAutostart,
    .connectDomainEventRegister = khvConnectDomainEventRegister,
    .connectDomainEventDeregister = khvConnectDomainEventDeregister,
    .connectDomainEventRegisterAny = khvConnectDomainEventRegisterAny,
    .connectDomainEventDeregisterAny = khvConnectDomainEventDeregisterAny,
    .domainGetVcpus = khvDomainGetVcpus,
    .domainBlockStats = khvDomainBlockStats,
    .domainInterfaceStats = khvDomainInterfaceStats,
    .domainInterfaceAddresses = khvDomainInterfaceAddresses,
    .connectGetAllDomainStats = khvConnectGetAllDomainStats,
    .domainSave = khvDomainSave,
    .domainSaveFlags = khvDomainSaveFlags,
    .domainRestore = khvDomainRestore,
    .domainRestoreFlags = khvDomainRestoreFlags,
    .domainSaveImageGetXMLDesc = khvDomainSaveImageGetXMLDesc,
    .domainSaveImageDefineXML = khvDomainSaveImageDefineXML,
    .domainManagedSave = khvDomainManagedSave,
    .domainHasManagedSaveImage = khvDomainHasManagedSaveImage,
    .domainManagedSaveRemove = khvDomainManagedSaveRemove,
    .domainManagedSaveGetXMLDesc = khvDomainManagedSaveGetXMLDesc,
    .domainManagedSaveDefineXML = khvDomainManagedSaveDefineXML,
    .domainGetJobInfo = khvDomainGetJobInfo,
    .domainGetJobStats = khvDomainGetJobStats,
    .domainAbortJob = khvDomainAbortJob,
    .connectSupportsFeature = khvConnectSupportsFeature,
    .domainMigrateBegin3Params = khvDomainMigrateBegin3Params,
    .domainMigratePrepare3Params = khvDomainMigratePrepare3Params,
    .domainMigratePerform3Params = khvDomainMigratePerform3Params,
    .domainMigrateFinish3Params = khvDomainMigrateFinish3Params,
    .domainMigrateConfirm3Params = khvDomainMigrateConfirm3Params,
};

static virConnectDriver khvConnectDriver = {
    .localOnly = true,
    .uriSchemes = (const char *[]){ "khv", NULL },
    .embeddable = true,
    .hypervisorDriver = &khvHypervisorDriver,
};

static virStateDriver khvStateDriver = {
    .name = "KHV",
    .stateInitialize = khvStateInitialize,
    .stateCleanup = khvStateCleanup,
};

int
khvRegister(void)
{
    if (virRegisterConnectDriver(&khvConnectDriver, false) < 0)
        return -1;
    if (virRegisterStateDriver(&khvStateDriver) < 0)
        return -1;
    return 0;
}
