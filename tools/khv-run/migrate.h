/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Live migration between two khv-run processes started with the same
 * options (Documentation/khv/migration.rst, "Live migration"): the
 * snapshot stream (snapshot.h) over a TCP or Unix socket, its RAM sent
 * while the guest runs.
 *
 * The source (control socket: migrate, query-migrate, migrate_cancel,
 * migrate-set-parameters): a thread of its own connects, starts khv's
 * dirty log on the RAM slots and the VMM's own (kr_mem_dirty), sends the
 * MACHINE section and every page, then, pass after pass, the pages written
 * since the pass before, until what is left would take no longer than the
 * downtime limit at the rate the link has shown (or passes stop helping).
 * Then the I/O thread pauses the vCPUs, freezes the devices, sends the
 * last pages and all the state, and waits for the destination's answer.
 * A yes ends the VM here ("postmigrate": paused, cont refused); anything
 * else, or a cancel, stops the dirty log and lets the VM run on.
 *
 * The destination (--incoming URI): the machine built as for a boot,
 * the stream read as a snapshot is (every RAM section written over the
 * last), then one line back, KHVMIG-OK or KHVMIG-ERR and the reason,
 * before the vCPUs start.
 */
#ifndef KHV_RUN_MIGRATE_H
#define KHV_RUN_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kr_machine;
struct json_object;

/* tcp:HOST:PORT or unix:PATH: 0, or -EINVAL with why. */
int kr_migrate_parse_uri(const char *uri, char *why, size_t len);

/* Source, on the I/O thread.  0, or -errno with why (one already running: -EBUSY). */
int kr_migrate_start(struct kr_machine *m, const char *uri, char *why, size_t len);
/* Stop one in progress (the VM runs on here); false when none is. */
bool kr_migrate_cancel(struct kr_machine *m);
/* query-migrate's answer (QMP's shape); {} before any migration. */
struct json_object *kr_migrate_query(struct kr_machine *m);
/* migrate-set-parameters: the longest stop the last pass may take, ms. */
void kr_migrate_set_downtime(uint64_t ms);
uint64_t kr_migrate_downtime(void);
/* Before the machine goes: cancel and join a migration's thread. */
void kr_migrate_stop(struct kr_machine *m);

/*
 * Destination: wait on uri for one migration and load it into m (built,
 * vCPUs not started).  0, or an exit status (vmm.h) with why.
 */
int kr_migrate_incoming(struct kr_machine *m, const char *uri, char *why, size_t len);

#endif /* KHV_RUN_MIGRATE_H */
