// SPDX-License-Identifier: GPL-2.0
/*
 * khv_storage.c: QEMU's storage daemon for each qcow2 disk of a running
 * domain (khv_storage.h).  The daemon reads and writes the image, follows
 * its backing chain and keeps the image locked; khv-run only sees a block
 * device over NBD.  It is started with --daemonize, whose parent exits
 * once the export listens, so that khv-run can connect at once; with
 * --pidfile, which is how the driver finds it again (also after its own
 * restart: the paths derive from the control socket's, kept in the
 * status file).
 */
#include <config.h>

#include <fcntl.h>
#include <unistd.h>

#include "internal.h"
#include "datatypes.h"
#include "driver.h"
#include "virerror.h"
#include "virfile.h"
#include "virlog.h"
#include "virpidfile.h"
#include "virprocess.h"
#include "virxml.h"

#include "khv_command.h"
#include "khv_process.h"
#include "khv_storage.h"

#define VIR_FROM_THIS VIR_FROM_NONE

VIR_LOG_INIT("khv.khv_storage");

static void
khvStorageStopOne(const virDomainDiskDef *disk, const char *ctlPath)
{
    g_autofree char *sock = khvStoragePath(ctlPath, disk, ".nbd");
    g_autofree char *pidfile = khvStoragePath(ctlPath, disk, ".qsd.pid");
    pid_t pid = 0;

    /* Only the daemon this pid file was written for: its own argument. */
    if (virPidFileReadPath(pidfile, &pid) == 0 && khvProcessHasArg(pid, pidfile) &&
        virProcessKillPainfully(pid, true) < 0)
        VIR_WARN("the storage daemon (pid %lld) of disk %s would not end",
                 (long long)pid, disk->dst);
    unlink(sock);
    unlink(pidfile);
}

void
khvStorageStop(const virDomainDef *def, const char *ctlPath)
{
    size_t i;

    if (!ctlPath)
        return;
    for (i = 0; i < def->ndisks; i++)
        if (khvDiskNeedsStorageDaemon(def->disks[i]))
            khvStorageStopOne(def->disks[i], ctlPath);
}

int
khvStorageStart(const virDomainDef *def, const char *ctlPath, int logfd,
                const char *logfile, off_t logstart)
{
    size_t i;

    for (i = 0; i < def->ndisks; i++) {
        const virDomainDiskDef *disk = def->disks[i];
        g_autofree char *sock = NULL;
        g_autofree char *pidfile = NULL;
        g_autoptr(virCommand) cmd = NULL;
        int status = 0;

        if (!khvDiskNeedsStorageDaemon(disk))
            continue;
        sock = khvStoragePath(ctlPath, disk, ".nbd");
        pidfile = khvStoragePath(ctlPath, disk, ".qsd.pid");
        if ((unlink(sock) < 0 && errno != ENOENT) || (unlink(pidfile) < 0 && errno != ENOENT)) {
            virReportSystemError(errno, _("cannot remove the old socket or pid file of disk %s"),
                                 disk->dst);
            goto error;
        }
        cmd = khvBuildStorageDaemonCommand(disk, sock, pidfile);
        virCommandSetOutputFD(cmd, &logfd);
        virCommandSetErrorFD(cmd, &logfd);
        virCommandWriteArgLog(cmd, logfd);
        if (virCommandRun(cmd, &status) < 0)
            goto error;
        if (status != 0) {
            g_autofree char *said = khvLogSince(logfile, logstart);

            virReportError(VIR_ERR_OPERATION_FAILED,
                           _("the storage daemon of disk %s (%s) did not start: %s"),
                           disk->dst, virDomainDiskGetSource((virDomainDiskDef *)disk),
                           *said ? said : _("see the domain's log"));
            goto error;
        }
    }
    return 0;

 error:
    {
        virErrorPtr orig;

        virErrorPreserveLast(&orig);
        khvStorageStop(def, ctlPath);
        virErrorRestore(&orig);
    }
    return -1;
}

/* The format of the pool volume at path: VIR_STORAGE_FILE_NONE if none. */
static int
khvStoragePoolFormat(virConnectPtr sconn, const char *path)
{
    g_autoptr(virStorageVol) vol = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *type = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlXPathContext) ctxt = NULL;
    int format;

    if (!(vol = virStorageVolLookupByPath(sconn, path))) {
        virResetLastError();
        return VIR_STORAGE_FILE_NONE;
    }
    if (!(xml = virStorageVolGetXMLDesc(vol, 0)) ||
        !(doc = virXMLParseStringCtxt(xml, _("(volume_definition)"), &ctxt)))
        return -1;
    if (!(type = virXPathString("string(/volume/target/format/@type)", ctxt)))
        return VIR_STORAGE_FILE_NONE;
    if ((format = virStorageFileFormatTypeFromString(type)) <= VIR_STORAGE_FILE_NONE) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("disk '%s': its storage pool says format '%s'"), path, type);
        return -1;
    }
    return format;
}

int
khvStorageFormatsFromPools(virDomainDef *def)
{
    g_autoptr(virConnect) sconn = NULL;
    size_t i;

    for (i = 0; i < def->ndisks; i++) {
        virDomainDiskDef *disk = def->disks[i];
        const char *path = virDomainDiskGetSource(disk);
        int format;

        if (virDomainDiskGetType(disk) != VIR_STORAGE_TYPE_FILE || !path ||
            virDomainDiskGetFormat(disk) != VIR_STORAGE_FILE_NONE)
            continue;
        if (!sconn && !(sconn = virGetConnectStorage())) {
            /* No storage driver here (embedded, or no daemon): no pools. */
            virResetLastError();
            return 0;
        }
        if ((format = khvStoragePoolFormat(sconn, path)) < 0)
            return -1;
        if (format == VIR_STORAGE_FILE_NONE)
            continue;
        if (format != VIR_STORAGE_FILE_RAW && format != VIR_STORAGE_FILE_QCOW2) {
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                           _("disk '%s' is a %s volume (khv serves raw and qcow2)"),
                           path, virStorageFileFormatTypeToString(format));
            return -1;
        }
        /* What khvDiskValidate refuses for a qcow2 disk, as it had said it. */
        if (format == VIR_STORAGE_FILE_QCOW2 &&
            disk->cachemode == VIR_DOMAIN_DISK_CACHE_WRITETHRU) {
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                           _("disk '%s' is a qcow2 volume: cache='writethrough' is not "
                             "supported there (default, none or writeback)"), path);
            return -1;
        }
        VIR_DEBUG("disk %s: format %s from its pool", path,
                  virStorageFileFormatTypeToString(format));
        virDomainDiskSetFormat(disk, format);
    }
    return 0;
}
