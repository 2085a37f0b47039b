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
#include "virerror.h"
#include "virfile.h"
#include "virlog.h"
#include "virpidfile.h"
#include "virprocess.h"

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
