// SPDX-License-Identifier: GPL-2.0
/*
 * khv_command.c: a domain definition as khv-run's command line.
 *
 * Only what the validate callbacks of khv_domain.c let through reaches
 * here, so every element below has an option; anything new that the
 * parser accepts must get one here in the same change (the golden files
 * of tests/xml2argv/ show each mapping).
 *
 *   <emulator>                       the program (khv-run by default)
 *   <os><kernel>, <initrd>, <cmdline> --kernel, --initrd, --append
 *   <memory>                          --memory NK (KiB, as libvirt keeps it)
 *   <vcpu>                            --cpus
 *   <serial type='pty'>               --serial pty; none without one
 *   <console type='pty'> on virtio    --console pty (the guest's hvc0)
 *   <disk>                            --disk path=..., ro, cache, discard, serial
 *   <disk><driver type='qcow2'>       --disk nbd=nbd+unix:///DST?socket=S: the
 *                                     export of a qemu-storage-daemon the
 *                                     driver starts first (its command line:
 *                                     khvBuildStorageDaemonCommand())
 *   <interface>                       --net fd=N,mac=M (the tap the driver opened)
 *   <rng>                             --rng
 *   <on_reboot>destroy                --no-reboot
 *   <timer name='kvmclock' present='no'> --no-kvmclock
 *   the control socket                --control PATH
 *
 * khv-run's option values are comma-separated lists in which ",," is a
 * comma, so a path or serial number holding commas is escaped.
 */
#include <config.h>

#include "internal.h"
#include "domain_conf.h"
#include "vircommand.h"
#include "virbuffer.h"
#include "virmacaddr.h"

#include "khv_conf.h"
#include "khv_command.h"

/* str with every comma doubled, appended to buf. */
static void
khvBufferEscapeComma(virBuffer *buf, const char *str)
{
    for (; *str; str++) {
        if (*str == ',')
            virBufferAddChar(buf, ',');
        virBufferAddChar(buf, *str);
    }
}

static const char *
khvDiskCache(virDomainDiskCache mode)
{
    switch (mode) {
    case VIR_DOMAIN_DISK_CACHE_WRITEBACK:
        return "writeback";
    case VIR_DOMAIN_DISK_CACHE_WRITETHRU:
        return "writethrough";
    case VIR_DOMAIN_DISK_CACHE_DISABLE:
        return "none";
    case VIR_DOMAIN_DISK_CACHE_DEFAULT:
    case VIR_DOMAIN_DISK_CACHE_DIRECTSYNC:
    case VIR_DOMAIN_DISK_CACHE_UNSAFE:
    case VIR_DOMAIN_DISK_CACHE_LAST:
        break;
    }
    return NULL;        /* khv-run's default (writeback); others refused */
}

bool
khvDiskNeedsStorageDaemon(const virDomainDiskDef *disk)
{
    return virDomainDiskGetFormat((virDomainDiskDef *)disk) == VIR_STORAGE_FILE_QCOW2;
}

char *
khvStoragePath(const char *ctlPath, const virDomainDiskDef *disk, const char *suffix)
{
    size_t len = strlen(ctlPath);

    if (len > 4 && STREQ(ctlPath + len - 4, ".ctl"))
        len -= 4;
    return g_strdup_printf("%.*s-%s%s", (int)len, ctlPath, disk->dst, suffix);
}

/*
 * QEMU's storage daemon serving one qcow2 disk (with its backing chain, as
 * the image's header names it) as an NBD export on a Unix socket: QEMU's
 * own implementation of the format, never one of ours.  Its option values
 * double their commas, as khv-run's do.
 */
virCommand *
khvBuildStorageDaemonCommand(const virDomainDiskDef *disk, const char *sock, const char *pidfile)
{
    g_autoptr(virCommand) cmd = virCommandNew(KHV_QSD_BIN);
    g_auto(virBuffer) file = VIR_BUFFER_INITIALIZER;
    g_auto(virBuffer) fmt = VIR_BUFFER_INITIALIZER;
    g_auto(virBuffer) srv = VIR_BUFFER_INITIALIZER;
    bool ro = disk->src->readonly;
    bool unmap = disk->discard == VIR_DOMAIN_DISK_DISCARD_UNMAP;

    virBufferAddLit(&file, "driver=file,node-name=file,filename=");
    khvBufferEscapeComma(&file, virDomainDiskGetSource((virDomainDiskDef *)disk));
    if (ro)
        virBufferAddLit(&file, ",read-only=on");
    if (disk->cachemode == VIR_DOMAIN_DISK_CACHE_DISABLE)
        virBufferAddLit(&file, ",cache.direct=on");
    if (unmap)
        virBufferAddLit(&file, ",discard=unmap");
    virBufferAddLit(&fmt, "driver=qcow2,node-name=fmt,file=file");
    if (ro)
        virBufferAddLit(&fmt, ",read-only=on");
    if (unmap)
        virBufferAddLit(&fmt, ",discard=unmap");
    virBufferAddLit(&srv, "addr.type=unix,addr.path=");
    khvBufferEscapeComma(&srv, sock);
    virCommandAddArg(cmd, "--blockdev");
    virCommandAddArgBuffer(cmd, &file);
    virCommandAddArg(cmd, "--blockdev");
    virCommandAddArgBuffer(cmd, &fmt);
    virCommandAddArg(cmd, "--nbd-server");
    virCommandAddArgBuffer(cmd, &srv);
    virCommandAddArg(cmd, "--export");
    virCommandAddArgFormat(cmd, "type=nbd,id=export,node-name=fmt,name=%s,writable=%s",
                           disk->dst, ro ? "off" : "on");
    virCommandAddArgList(cmd, "--pidfile", pidfile, "--daemonize", NULL);
    return g_steal_pointer(&cmd);
}

static void
khvBuildDiskArg(virCommand *cmd, virDomainDiskDef *disk, const char *ctlPath)
{
    g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;
    const char *cache = khvDiskCache(disk->cachemode);

    if (khvDiskNeedsStorageDaemon(disk)) {
        g_autofree char *sock = khvStoragePath(ctlPath, disk, ".nbd");

        /* Caching is the storage daemon's business (cache.direct). */
        cache = NULL;
        virBufferAsprintf(&buf, "nbd=nbd+unix:///%s?socket=", disk->dst);
        khvBufferEscapeComma(&buf, sock);
    } else {
        virBufferAddLit(&buf, "path=");
        khvBufferEscapeComma(&buf, virDomainDiskGetSource(disk));
    }
    if (disk->src->readonly)
        virBufferAddLit(&buf, ",ro");
    if (cache)
        virBufferAsprintf(&buf, ",cache=%s", cache);
    if (disk->discard == VIR_DOMAIN_DISK_DISCARD_UNMAP)
        virBufferAddLit(&buf, ",discard=on");
    else if (disk->discard == VIR_DOMAIN_DISK_DISCARD_IGNORE)
        virBufferAddLit(&buf, ",discard=off");
    if (disk->serial) {
        virBufferAddLit(&buf, ",serial=");
        khvBufferEscapeComma(&buf, disk->serial);
    }
    virCommandAddArg(cmd, "--disk");
    virCommandAddArgBuffer(cmd, &buf);
}

char *
khvVncPasswordPath(const char *ctlPath)
{
    size_t len = strlen(ctlPath);

    if (len > 4 && STREQ(ctlPath + len - 4, ".ctl"))
        len -= 4;
    return g_strdup_printf("%.*s.vncpw", (int)len, ctlPath);
}

/*
 * The graphical console: --vnc on the <listen> address (127.0.0.1 when
 * none is given), the port or "auto", and the password's file; the
 * adapter's model; the virtio tablet and keyboard when defined.
 */
static void
khvBuildGraphicsArgs(virCommand *cmd, const virDomainDef *def, const char *ctlPath)
{
    g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;
    const virDomainGraphicsDef *g;
    const char *addr = NULL;
    bool tablet = false;
    size_t i;

    if (!def->ngraphics)
        return;
    g = def->graphics[0];
    if (g->nListens && g->listens[0].address)
        addr = g->listens[0].address;
    if (!addr)
        addr = KHV_VNC_LISTEN_DEFAULT;
    virBufferAsprintf(&buf, strchr(addr, ':') ? "[%s]:" : "%s:", addr);
    if (g->data.vnc.autoport || g->data.vnc.port <= 0)
        virBufferAddLit(&buf, "auto");
    else
        virBufferAsprintf(&buf, "%d", g->data.vnc.port);
    if (g->data.vnc.auth.passwd) {
        g_autofree char *pw = khvVncPasswordPath(ctlPath);

        virBufferAddLit(&buf, ",password-file=");
        khvBufferEscapeComma(&buf, pw);
    }
    virCommandAddArg(cmd, "--vnc");
    virCommandAddArgBuffer(cmd, &buf);
    virCommandAddArgList(cmd, "--display",
                         def->videos[0]->type == VIR_DOMAIN_VIDEO_TYPE_BOCHS ? "bochs" : "vga",
                         NULL);
    for (i = 0; i < def->ninputs; i++) {
        if (def->inputs[i]->bus != VIR_DOMAIN_INPUT_BUS_VIRTIO)
            continue;
        if (def->inputs[i]->type == VIR_DOMAIN_INPUT_TYPE_TABLET)
            tablet = true;
        else
            virCommandAddArg(cmd, "--virtio-keyboard");
    }
    virCommandAddArg(cmd, tablet ? "--tablet" : "--no-tablet");
}

virCommand *
khvBuildCommandLine(const virDomainDef *def, const char *ctlPath, const int *tapfds)
{
    g_autoptr(virCommand) cmd = virCommandNew(def->emulator);
    bool virtioConsole = false;
    size_t i;

    virCommandAddArgList(cmd, "--kernel", def->os.kernel, NULL);
    if (def->os.initrd)
        virCommandAddArgList(cmd, "--initrd", def->os.initrd, NULL);
    if (def->os.cmdline)
        virCommandAddArgList(cmd, "--append", def->os.cmdline, NULL);
    virCommandAddArg(cmd, "--memory");
    virCommandAddArgFormat(cmd, "%lluK", virDomainDefGetMemoryInitial(def));
    virCommandAddArg(cmd, "--cpus");
    virCommandAddArgFormat(cmd, "%u", virDomainDefGetVcpus(def));

    /* khv-run's COM1 is on its stdio unless told otherwise: never here. */
    virCommandAddArgList(cmd, "--serial", def->nserials ? "pty" : "none", NULL);
    for (i = 0; i < def->nconsoles; i++)
        if (def->consoles[i]->targetType == VIR_DOMAIN_CHR_CONSOLE_TARGET_TYPE_VIRTIO)
            virtioConsole = true;
    if (virtioConsole)
        virCommandAddArgList(cmd, "--console", "pty", NULL);
    if (def->nrngs)
        virCommandAddArg(cmd, "--rng");

    for (i = 0; i < def->ndisks; i++)
        khvBuildDiskArg(cmd, def->disks[i], ctlPath);
    for (i = 0; i < def->nnets; i++) {
        char mac[VIR_MAC_STRING_BUFLEN];

        virCommandAddArg(cmd, "--net");
        virCommandAddArgFormat(cmd, "fd=%d,mac=%s", tapfds[i],
                               virMacAddrFormat(&def->nets[i]->mac, mac));
    }
    khvBuildGraphicsArgs(cmd, def, ctlPath);
    if (def->onReboot == VIR_DOMAIN_LIFECYCLE_ACTION_DESTROY)
        virCommandAddArg(cmd, "--no-reboot");
    for (i = 0; i < def->clock.ntimers; i++)
        if (def->clock.timers[i]->name == VIR_DOMAIN_TIMER_NAME_KVMCLOCK &&
            def->clock.timers[i]->present == VIR_TRISTATE_BOOL_NO)
            virCommandAddArg(cmd, "--no-kvmclock");
    virCommandAddArgList(cmd, "--control", ctlPath, NULL);
    return g_steal_pointer(&cmd);
}
