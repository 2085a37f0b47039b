// SPDX-License-Identifier: GPL-2.0
/*
 * xml2argv: golden files from domain XML to khv-run's command line, as
 * libvirt tests its own drivers.  For each tests/xml2argv/NAME.xml, the
 * definition is parsed with the driver's own parser configuration and
 * turned into khv-run's command line (khv_command.c), the control socket
 * at /run/libvirt/khv/NAME.ctl and interface i on tap fd 30 + i, followed
 * by the storage daemon's command line for each qcow2 disk; the result
 * must equal NAME.args byte for byte.  KHV_REGENERATE=1 rewrites
 * the .args files instead (then read the diff).  TAP on stdout.
 *
 * Linked against the module itself (every non-static symbol of it is
 * visible), so what is tested is what libvirt loads.
 *
 * Usage: xml2argv NAME.xml...
 */
#include <config.h>

#include <stdio.h>

#include "internal.h"
#include "domain_conf.h"
#include "vircommand.h"
#include "virfile.h"

#include "../khv_conf.h"
#include "../khv_command.h"

static int
check_one(virDomainXMLOption *xmlopt, const char *xmlpath, bool regenerate)
{
    g_autofree char *xml = NULL;
    g_autofree char *want = NULL;
    g_autofree char *got = NULL;
    g_autofree char *line = NULL;
    g_autofree char *base = g_path_get_basename(xmlpath);
    g_autofree char *dir = g_path_get_dirname(xmlpath);
    g_autofree char *argspath = NULL;
    g_autofree char *ctl = NULL;
    g_autoptr(virDomainDef) def = NULL;
    g_autoptr(virCommand) cmd = NULL;
    int fds[8];

    *strrchr(base, '.') = 0;
    argspath = g_strdup_printf("%s/%s.args", dir, base);
    ctl = g_strdup_printf("/run/libvirt/khv/%s.ctl", base);
    for (size_t i = 0; i < G_N_ELEMENTS(fds); i++)
        fds[i] = 30 + i;
    if (virFileReadAll(xmlpath, 1 << 20, &xml) < 0 ||
        !(def = virDomainDefParseString(xml, xmlopt, NULL, VIR_DOMAIN_DEF_PARSE_INACTIVE)))
        return -1;
    cmd = khvBuildCommandLine(def, ctl, fds);
    line = virCommandToString(cmd, true);
    got = g_strdup_printf("%s\n", line);
    /* Then the storage daemon of each qcow2 disk, which the driver starts first. */
    for (size_t i = 0; i < def->ndisks; i++) {
        g_autofree char *sock = NULL, *pid = NULL, *qsd = NULL, *all = NULL;
        g_autoptr(virCommand) qcmd = NULL;

        if (!khvDiskNeedsStorageDaemon(def->disks[i]))
            continue;
        sock = khvStoragePath(ctl, def->disks[i], ".nbd");
        pid = khvStoragePath(ctl, def->disks[i], ".qsd.pid");
        qcmd = khvBuildStorageDaemonCommand(def->disks[i], sock, pid);
        qsd = virCommandToString(qcmd, true);
        all = g_strdup_printf("%s%s\n", got, qsd);
        g_free(got);
        got = g_steal_pointer(&all);
    }
    if (regenerate)
        return virFileWriteStr(argspath, got, 0644);
    if (virFileReadAll(argspath, 1 << 20, &want) < 0)
        return -1;
    if (STRNEQ(want, got)) {
        printf("# expected:\n%s# got:\n%s", want, got);
        return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    g_autoptr(virDomainXMLOption) xmlopt = NULL;
    bool regenerate = !!getenv("KHV_REGENERATE");
    int failed = 0;

    if (virInitialize() < 0 || !(xmlopt = khvDomainXMLOptionNew()))
        return 2;
    printf("1..%d\n", argc - 1);
    for (int i = 1; i < argc; i++) {
        bool good = check_one(xmlopt, argv[i], regenerate) == 0;

        printf("%sok %d - %s%s\n", good ? "" : "not ", i, argv[i],
               good ? "" : " (see above)");
        if (!good) {
            printf("# %s\n", virGetLastErrorMessage());
            failed = 1;
        }
        virResetLastError();
    }
    return failed;
}
