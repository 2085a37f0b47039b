/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khv_conf.h: the driver object the connection and domain calls share.
 *
 * Locking: created by stateInitialize before any connection can open and
 * freed by stateCleanup after the last; its fields are read-only in
 * between.  The domain list locks itself; a domain object is locked by
 * the call that looked it up (virDomainObjEndAPI unlocks it).
 */
#pragma once

#include "capabilities.h"
#include "domain_conf.h"
#include "virdomainobjlist.h"

typedef struct _khvDriver khvDriver;
struct _khvDriver {
    bool privileged;
    char *embeddedRoot;         /* khv:///embed?root=..., or NULL */
    char *configDir;            /* persistent domain configurations */
    char *autostartDir;         /* links to the autostarted ones */
    char *stateDir;             /* status files of running domains */
    virCaps *caps;
    virDomainXMLOption *xmlopt;
    virDomainObjList *domains;
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
