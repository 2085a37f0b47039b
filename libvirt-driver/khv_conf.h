/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khv_conf.h: the driver object the connection and domain calls share.
 *
 * Locking: created by stateInitialize before any connection can open and
 * freed by stateCleanup after the last; its fields are read-only in
 * between.  The domain list and the event state lock themselves; a domain
 * object is locked by the call that looked it up (virDomainObjEndAPI
 * unlocks it) or by the monitor callback acting on it, and is unlocked
 * whenever a call waits for something other than khv-run's reply.
 */
#pragma once

#include "capabilities.h"
#include "domain_conf.h"
#include "object_event.h"
#include "virdomainobjlist.h"

/* QEMU's storage daemon, which serves qcow2 disks (Debian's qemu-system-common). */
#define KHV_QSD_BIN "/usr/bin/qemu-storage-daemon"

/* Where a VNC console listens when <graphics> names no address (qemu.conf's vnc_listen). */
#define KHV_VNC_LISTEN_DEFAULT "127.0.0.1"

typedef struct _khvDriver khvDriver;
struct _khvDriver {
    bool privileged;
    char *embeddedRoot;         /* khv:///embed?root=..., or NULL */
    char *configDir;            /* persistent domain configurations */
    char *autostartDir;         /* links to the autostarted ones */
    char *stateDir;             /* status files of running domains */
    char *logDir;               /* NAME.log: khv-run's command line and output */
    char *saveDir;              /* NAME.save: managed save images */
    virCaps *caps;
    virDomainXMLOption *xmlopt;
    virDomainObjList *domains;
    virObjectEventState *domainEventState;     /* lifecycle events to clients */
};

/* khv_domain.c: the XML khv accepts, and the domain definition calls. */
virDomainXMLOption *khvDomainXMLOptionNew(void);
virDomainPtr khvDomainDefineXMLFlags(virConnectPtr conn, const char *xml, unsigned int flags);
virDomainPtr khvDomainDefineXML(virConnectPtr conn, const char *xml);
int khvDomainUndefineFlags(virDomainPtr domain, unsigned int flags);
int khvDomainUndefine(virDomainPtr domain);
virDomainPtr khvDomainLookupByName(virConnectPtr conn, const char *name);
virDomainPtr khvDomainLookupByUUID(virConnectPtr conn, const unsigned char *uuid);
virDomainPtr khvDomainLookupByID(virConnectPtr conn, int id);
char *khvDomainGetXMLDesc(virDomainPtr domain, unsigned int flags);
int khvDomainGetInfo(virDomainPtr domain, virDomainInfoPtr info);
int khvDomainGetState(virDomainPtr domain, int *state, int *reason, unsigned int flags);
int khvDomainIsActive(virDomainPtr domain);
int khvDomainIsPersistent(virDomainPtr domain);

/* khv_lifecycle.c: running domains. */
virDomainObj *khvDomObjFromDomain(virDomainPtr domain);
/* 0 when vm runs, else -1 with VIR_ERR_OPERATION_INVALID "domain is not running". */
int khvCheckActive(virDomainObj *vm);
/*
 * Start vm (locked, shut off): booted, or from the snapshot at restore;
 * paused or not.  Events started/booted or started/restored, then, when
 * paused, suspended/paused or suspended/restored.
 */
int khvStartWithEvents(khvDriver *driver, virDomainObj *vm, const char *restore, bool paused);
/*
 * def (its disks' formats from their pools first) added to the list as a
 * live definition, refused when a domain of that name or UUID runs: the
 * object locked, or NULL with an error.  *def is taken on success.
 */
virDomainObj *khvDomainAddLive(khvDriver *driver, virDomainDef **def);
int khvDomainCreateWithFlags(virDomainPtr domain, unsigned int flags);
int khvDomainCreate(virDomainPtr domain);
virDomainPtr khvDomainCreateXML(virConnectPtr conn, const char *xml, unsigned int flags);
int khvDomainDestroyFlags(virDomainPtr domain, unsigned int flags);
int khvDomainDestroy(virDomainPtr domain);
int khvDomainShutdownFlags(virDomainPtr domain, unsigned int flags);
int khvDomainShutdown(virDomainPtr domain);
int khvDomainReboot(virDomainPtr domain, unsigned int flags);
int khvDomainReset(virDomainPtr domain, unsigned int flags);
int khvDomainSuspend(virDomainPtr domain);
int khvDomainResume(virDomainPtr domain);
int khvDomainOpenConsole(virDomainPtr domain, const char *dev_name, virStreamPtr st,
                         unsigned int flags);
int khvDomainGetAutostart(virDomainPtr domain, int *autostart);
int khvDomainSetAutostart(virDomainPtr domain, int autostart);
int khvConnectDomainEventRegisterAny(virConnectPtr conn, virDomainPtr domain, int eventID,
                                     virConnectDomainEventGenericCallback callback,
                                     void *opaque, virFreeCallback freecb);
int khvConnectDomainEventDeregisterAny(virConnectPtr conn, int callbackID);
int khvConnectDomainEventRegister(virConnectPtr conn, virConnectDomainEventCallback callback,
                                  void *opaque, virFreeCallback freecb);
int khvConnectDomainEventDeregister(virConnectPtr conn, virConnectDomainEventCallback callback);
void khvAutostartAll(khvDriver *driver);

/* khv_save.c: save images, managed save. */
int khvDomainSaveFlags(virDomainPtr domain, const char *path, const char *dxml,
                       unsigned int flags);
int khvDomainSave(virDomainPtr domain, const char *path);
int khvDomainRestoreFlags(virConnectPtr conn, const char *path, const char *dxml,
                          unsigned int flags);
int khvDomainRestore(virConnectPtr conn, const char *path);
char *khvDomainSaveImageGetXMLDesc(virConnectPtr conn, const char *path, unsigned int flags);
int khvDomainSaveImageDefineXML(virConnectPtr conn, const char *path, const char *dxml,
                                unsigned int flags);
int khvDomainManagedSave(virDomainPtr domain, unsigned int flags);
int khvDomainHasManagedSaveImage(virDomainPtr domain, unsigned int flags);
int khvDomainManagedSaveRemove(virDomainPtr domain, unsigned int flags);
char *khvDomainManagedSaveGetXMLDesc(virDomainPtr domain, unsigned int flags);
int khvDomainManagedSaveDefineXML(virDomainPtr domain, const char *dxml, unsigned int flags);
/*
 * vm (locked, shut off) starts from its managed save image: 0 when it
 * did (the image is then removed), 1 when it has none or flags say
 * VIR_DOMAIN_START_FORCE_BOOT (which removes it), -1 with an error.
 */
int khvManagedSaveStart(khvDriver *driver, virDomainObj *vm, unsigned int flags);
/* Remove vm's managed save image (none: nothing to do). */
int khvManagedSaveRemove(khvDriver *driver, virDomainObj *vm);
/* At driver start: which domains have a managed save image. */
void khvManagedSaveFindAll(khvDriver *driver);

/* khv_job.c: a domain's job as clients see it. */
int khvDomainGetJobInfo(virDomainPtr domain, virDomainJobInfoPtr info);
int khvDomainGetJobStats(virDomainPtr domain, int *type, virTypedParameterPtr *params,
                         int *nparams, unsigned int flags);
int khvDomainAbortJob(virDomainPtr domain);

/* khv_migration.c: live migration, libvirt's protocol 3 with parameters. */
int khvConnectSupportsFeature(virConnectPtr conn, int feature);
int khvMigrationParseURI(const char *uri, char **host, int *port);
char *khvDomainMigrateBegin3Params(virDomainPtr domain, virTypedParameterPtr params,
                                   int nparams, char **cookieout, int *cookieoutlen,
                                   unsigned int flags);
int khvDomainMigratePrepare3Params(virConnectPtr dconn, virTypedParameterPtr params,
                                   int nparams, const char *cookiein, int cookieinlen,
                                   char **cookieout, int *cookieoutlen, char **uri_out,
                                   unsigned int flags);
int khvDomainMigratePerform3Params(virDomainPtr domain, const char *dconnuri,
                                   virTypedParameterPtr params, int nparams,
                                   const char *cookiein, int cookieinlen, char **cookieout,
                                   int *cookieoutlen, unsigned int flags);
virDomainPtr khvDomainMigrateFinish3Params(virConnectPtr dconn, virTypedParameterPtr params,
                                           int nparams, const char *cookiein,
                                           int cookieinlen, char **cookieout,
                                           int *cookieoutlen, unsigned int flags,
                                           int cancelled);
int khvDomainMigrateConfirm3Params(virDomainPtr domain, virTypedParameterPtr params,
                                   int nparams, const char *cookiein, int cookieinlen,
                                   unsigned int flags, int cancelled);

/* khv_stats.c: what running domains use. */
unsigned long long khvProcessCpuTime(virDomainObj *vm);
int khvDomainGetVcpus(virDomainPtr domain, virVcpuInfoPtr info, int maxinfo,
                      unsigned char *cpumaps, int maplen);
int khvDomainBlockStats(virDomainPtr domain, const char *path, virDomainBlockStatsPtr stats);
int khvDomainInterfaceStats(virDomainPtr domain, const char *device,
                            virDomainInterfaceStatsPtr stats);
int khvDomainInterfaceAddresses(virDomainPtr domain, virDomainInterfacePtr **ifaces,
                                unsigned int source, unsigned int flags);
int khvConnectGetAllDomainStats(virConnectPtr conn, virDomainPtr *doms, unsigned int ndoms,
                                unsigned int stats, virDomainStatsRecordPtr **retStats,
                                unsigned int flags);
