/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khv_storage.h: the storage daemons of a running domain.  A qcow2 disk is
 * served by QEMU's storage daemon (qemu-storage-daemon) as an NBD export
 * on a Unix socket beside the control socket, and khv-run uses the export
 * (khv_command.c).  One daemon per qcow2 disk, started before khv-run and
 * ended after it.  Called with the domain object locked.
 */
#pragma once

#include "domain_conf.h"

/*
 * Start the daemons of def's qcow2 disks, for khv-run's control socket
 * ctlPath; their command lines and output go to logfd.  Each is ready
 * (its export listening) when this returns 0.  -1 with an error naming
 * the disk, the daemon's own words from logfile (what it wrote since
 * logstart) in the message, and every daemon it started ended again.
 */
int khvStorageStart(const virDomainDef *def, const char *ctlPath, int logfd,
                    const char *logfile, off_t logstart);

/*
 * End them (SIGTERM, which lets the daemon flush the image, then SIGKILL
 * after 10 s) and remove their sockets and pid files; a pid no longer
 * running the daemon of that disk is left alone.  After khv-run ended.
 */
void khvStorageStop(const virDomainDef *def, const char *ctlPath);

/*
 * Give each file disk of def that names no format the format of the
 * storage pool volume at its path, when one exists: virt-install and
 * virt-manager make qcow2 volumes in a pool for a connection that is not
 * QEMU's and write no <driver type=...> for them, and a disk without a
 * format is raw.  The pool's word (libvirt made the volume, or probed it
 * when the pool was refreshed) is taken once, at define or create time,
 * and kept in the definition; the driver never probes an image itself.
 * A path in no pool, or no storage driver to ask, leaves the disk as it
 * is.  -1 with an error for a volume in a format khv cannot serve.
 */
int khvStorageFormatsFromPools(virDomainDef *def);
