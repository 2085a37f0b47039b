/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khv_process.h: a running domain is a khv-run process.  Starting and
 * stopping it, watching it through its control socket, and finding it
 * again when the driver itself starts.
 *
 * Every function here takes the domain object locked (by the API call or
 * by the monitor callback that runs them) and leaves it locked.
 */
#pragma once

#include "domain_conf.h"
#include "virchrdev.h"

#include "khv_conf.h"
#include "khv_monitor.h"

/* What a domain object carries for khv (vm->privateData). */
typedef struct _khvDomainObjPrivate khvDomainObjPrivate;
/*
 * A job: a call that waits on khv-run for longer than a lock may be held
 * (a save writes all of the guest's memory).  It marks the domain busy,
 * closes the event monitor (the job reads khv-run's end itself) and
 * unlocks the domain while it waits, so that listing and queries go on.
 * While it runs, the calls that would change the domain's state refuse
 * (khvJobCheck); destroy does not: it ends khv-run and so the job.
 */
typedef enum {
    KHV_JOB_NONE = 0,
    KHV_JOB_SAVE,
    KHV_JOB_MIGRATION_OUT,      /* Perform: khv-run's migrate, polled */
    KHV_JOB_MIGRATION_IN,       /* from Prepare to Finish */
} khvJobType;

struct _khvDomainObjPrivate {
    khvDriver *driver;          /* set while running */
    khvJobType job;             /* the job running, or none */
    unsigned long long jobStarted;      /* its start, ms since the epoch */
    khvMonitor *mon;            /* listening to khv-run's events, or NULL */
    char *ctlPath;              /* khv-run's control socket (status XML) */
    char *shutdownReason;       /* the SHUTDOWN event's reason, once seen */
    virChrdevs *devs;           /* console streams open on the ptys */
};

extern virDomainXMLPrivateDataCallbacks khvPrivateDataCallbacks;

/*
 * Start khv-run for vm and wait until its control socket answers: the
 * domain is then running (reason), its live XML has the pty paths and the
 * tap names, its status file is saved.  An <interface type='network'>
 * gets its bridge from libvirt's network driver.  -1 with an error and nothing
 * left behind (khv-run's own words from the log in the message).
 */
int khvProcessStart(khvDriver *driver, virDomainObj *vm, virDomainRunningReason reason);

/*
 * The same, from a snapshot (restore: khv-run --restore FILE) or an
 * incoming migration (incoming: --incoming URI, paused until the
 * migration's Finish), NULL for both to boot; paused or not (--paused:
 * the state is then paused, reason user, or migration when incoming).
 */
int khvProcessStartFrom(khvDriver *driver, virDomainObj *vm, virDomainRunningReason reason,
                        const char *restore, const char *incoming, bool paused);

/* Listen to khv-run's events again (after a job closed the monitor). */
int khvProcessWatch(virDomainObj *vm, int timeout_ms);

/* What khv-run's query-migrate says of an outgoing migration (khv_migration.c). */
typedef struct _khvMigrationInfo khvMigrationInfo;
struct _khvMigrationInfo {
    unsigned long long elapsed;         /* ms */
    unsigned long long expectedDowntime;        /* ms */
    unsigned long long total, transferred, remaining;   /* bytes of RAM */
    unsigned long long dirtyRate;       /* pages per second */
    unsigned long long passes;
    unsigned long long bytesPerSecond;
};
int khvMigrationProgress(virDomainObj *vm, khvMigrationInfo *info);

/* Start a job of type on vm (locked): -1 with an error when one runs. */
int khvJobBegin(virDomainObj *vm, khvJobType type);
void khvJobEnd(virDomainObj *vm);
/* -1 with an error when vm has a job (for calls that would change its state). */
int khvJobCheck(virDomainObj *vm);

/*
 * End khv-run (SIGTERM, then SIGKILL after 10 s) unless it already ended,
 * and mark vm shut off for reason: the status file, control socket and pid
 * file go, the live definition is dropped.  The caller queues the event
 * and removes a transient domain from the list.
 */
void khvProcessStop(khvDriver *driver, virDomainObj *vm, virDomainShutoffReason reason);

/*
 * At driver start, for a domain loaded from its status file: the monitor
 * again if khv-run still runs, else shut off with reason unknown.
 */
int khvProcessReconnect(virDomainObj *vm, void *opaque);

/* A lifecycle event of vm to the clients that asked. */
void khvQueueLifecycle(khvDriver *driver, virDomainObj *vm, int type, int detail);

/*
 * vm paused (user) or running (unpaused) again, with its event and status
 * file; nothing when it already is, or is neither.
 */
void khvProcessSetPaused(khvDriver *driver, virDomainObj *vm, bool paused);

/* A transient vm that is not running leaves the list (vm stays locked). */
void khvProcessEndTransient(khvDriver *driver, virDomainObj *vm);

/* At driver cleanup: stop watching vm's khv-run (it runs on). */
int khvProcessForget(virDomainObj *vm, void *opaque);

/* The control socket of a running vm, or NULL with an error reported. */
const char *khvProcessControlPath(virDomainObj *vm);

/* Whether process pid has arg as one of its arguments (its pid is ours). */
bool khvProcessHasArg(pid_t pid, const char *arg);

/* What a process wrote to logfile since offset (its last 2 KiB), for an error. */
char *khvLogSince(const char *logfile, off_t offset);
