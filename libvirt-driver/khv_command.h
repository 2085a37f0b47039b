/* SPDX-License-Identifier: GPL-2.0 */
/* khv_command.h: a domain definition as khv-run's command line. */
#pragma once

#include "domain_conf.h"
#include "vircommand.h"

/*
 * The khv-run command for def: its control socket at ctlPath, tapfds[i]
 * the open tap of def->nets[i].  Only for definitions the validate
 * callbacks of khv_domain.c accepted.
 */
virCommand *khvBuildCommandLine(const virDomainDef *def, const char *ctlPath,
                                const int *tapfds);

/*
 * qcow2 disks: served by QEMU's storage daemon as an NBD export, which
 * khv-run reads and writes (--disk nbd=...).  The daemon's socket and pid
 * file sit beside the control socket: its path with ".ctl" replaced by
 * "-DST" and suffix (".nbd", ".qsd.pid").
 */
/* Where khv-run reads the VNC password from: beside the control socket. */
char *khvVncPasswordPath(const char *ctlPath);
bool khvDiskNeedsStorageDaemon(const virDomainDiskDef *disk);
char *khvStoragePath(const char *ctlPath, const virDomainDiskDef *disk, const char *suffix);
virCommand *khvBuildStorageDaemonCommand(const virDomainDiskDef *disk, const char *sock,
                                         const char *pidfile);
