/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A whole machine in the snapshot stream (snapstream.h), and back
 * (Documentation/khv/migration.rst, "khv-run's snapshots").  The writer
 * sends, in this order: MACHINE (what the VM is: vCPUs, RAM, the disks'
 * identities), the RAM, one DEVICE section per device (devices.c), one
 * VCPU section per vCPU and the VM section (vmstate.h), END.  A reader
 * takes MACHINE first, RAM and devices anywhere after it, every VCPU
 * before the VM section, and at the END wants every vCPU, every device
 * and the VM to have been given their state.
 *
 * Restoring needs a machine built by the same command line: the MACHINE
 * section and each device's state say so or are refused.  The machine is
 * built as for a boot (so a later reboot of the guest finds its kernel),
 * then overwritten; its vCPUs must not have run.
 */
#ifndef KHV_RUN_SNAPSHOT_H
#define KHV_RUN_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapstream.h"

struct kr_machine;

struct kr_snap_result {
	uint64_t bytes;		/* of the stream */
	uint64_t pages;		/* guest pages sent */
	uint64_t zero_pages;	/* of them, sent as zero runs */
	uint64_t ms;		/* how long the write took */
};

/*
 * The machine, its vCPUs paused (kr_vcpus_pause) and on the I/O thread,
 * into w; the disks are synced first, so the files are what the snapshot
 * says they are.  0, or -errno with why.
 */
int kr_snapshot_write(struct kr_machine *m, struct kr_snap_writer *w, struct kr_snap_result *res,
		      char *why, size_t len);
/* The same into a file: PATH.tmp, synced, then renamed, so PATH is whole or untouched. */
int kr_snapshot_save(struct kr_machine *m, const char *path, struct kr_snap_result *res,
		     char *why, size_t len);

/*
 * The pieces, for a migration (migrate.c), which sends RAM while the guest
 * runs: the MACHINE section (disks synced first); the guest's RAM as
 * regions for snapram.h; and, the vCPUs paused and the devices frozen,
 * every device's, vCPU's and the VM's state and the END.
 */
struct kr_ram_region;	/* snapram.h; r holds two */
int kr_snapshot_write_machine(struct kr_machine *m, struct kr_snap_writer *w, char *why,
			      size_t len);
void kr_snapshot_ram_regions(struct kr_machine *m, struct kr_ram_region *r, unsigned int *n);
int kr_snapshot_write_state(struct kr_machine *m, struct kr_snap_writer *w, char *why,
			    size_t len);

/*
 * The state part (every device's, vCPU's and the VM's section and the END)
 * captured into memory the moment the VM stops, written after the RAM: the
 * vCPUs' TSCs and kvmclock are read then, so a guest restored later does
 * not find the time the RAM took to write gone by (a 22 s write once made
 * a restored Linux report an RCU stall).  0 or -errno with why.
 */
struct kr_sbuf;
int kr_snapshot_capture_state(struct kr_machine *m, struct kr_sbuf *state, char *why,
			      size_t len);
int kr_snapshot_put_state(struct kr_snap_writer *w, const struct kr_sbuf *state);

/* Flags of a restore. */
#define KR_RESTORE_CHANGED_DISKS	(1u << 0)	/* a disk changed since: restore anyway */
#define KR_RESTORE_REALTIME		(1u << 1)	/* kvmclock counts the time away */

int kr_snapshot_read(struct kr_machine *m, struct kr_snap_reader *r, unsigned int flags,
		     char *why, size_t len);
/* A file written by kr_snapshot_save: 0, or an exit status (vmm.h) with why. */
int kr_snapshot_restore(struct kr_machine *m, const char *path, unsigned int flags, char *why,
			size_t len);

#endif /* KHV_RUN_SNAPSHOT_H */
