// SPDX-License-Identifier: GPL-2.0
/*
 * khv_job.c: what clients see of a domain's job (khv_process.h):
 * domjobinfo and domjobabort.  A save reports its time only (khv-run
 * writes the snapshot in one step and answers at the end); an outgoing
 * migration reports khv-run's query-migrate, and is cancelled with its
 * migrate_cancel.
 */
#include <config.h>

#include "internal.h"
#include "datatypes.h"
#include "domain_conf.h"
#include "viraccessapicheck.h"
#include "virerror.h"
#include "virtime.h"
#include "virtypedparam.h"

#include "khv_conf.h"
#include "khv_monitor.h"
#include "khv_process.h"

#define VIR_FROM_THIS VIR_FROM_NONE

static int
khvJobOperation(khvJobType job)
{
    switch (job) {
    case KHV_JOB_SAVE:
        return VIR_DOMAIN_JOB_OPERATION_SAVE;
    case KHV_JOB_MIGRATION_OUT:
        return VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT;
    case KHV_JOB_MIGRATION_IN:
        return VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN;
    case KHV_JOB_NONE:
        break;
    }
    return VIR_DOMAIN_JOB_OPERATION_UNKNOWN;
}

/* vm's job now: 0 with *op its operation (0 for none), or -1 with an error. */
static int
khvJobNow(virDomainObj *vm, int *op, unsigned long long *elapsed, khvMigrationInfo *mig)
{
    khvDomainObjPrivate *priv = vm->privateData;
    unsigned long long now = 0;

    memset(mig, 0, sizeof(*mig));
    *op = 0;
    *elapsed = 0;
    if (priv->job == KHV_JOB_NONE)
        return 0;
    *op = khvJobOperation(priv->job);
    ignore_value(virTimeMillisNow(&now));
    *elapsed = now - priv->jobStarted;
    if (priv->job == KHV_JOB_MIGRATION_OUT && khvMigrationProgress(vm, mig) < 0)
        return -1;
    return 0;
}

int
khvDomainGetJobInfo(virDomainPtr domain, virDomainJobInfoPtr info)
{
    virDomainObj *vm;
    khvMigrationInfo mig;
    unsigned long long elapsed;
    int op;
    int ret = -1;

    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainGetJobInfoEnsureACL(domain->conn, vm->def) < 0 ||
        khvJobNow(vm, &op, &elapsed, &mig) < 0)
        goto cleanup;
    memset(info, 0, sizeof(*info));
    info->type = op ? VIR_DOMAIN_JOB_UNBOUNDED : VIR_DOMAIN_JOB_NONE;
    info->timeElapsed = elapsed;
    info->dataTotal = info->memTotal = mig.total;
    info->dataProcessed = info->memProcessed = mig.transferred;
    info->dataRemaining = info->memRemaining = mig.remaining;
    ret = 0;

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}

int
khvDomainGetJobStats(virDomainPtr domain, int *type, virTypedParameterPtr *params,
                     int *nparams, unsigned int flags)
{
    virDomainObj *vm;
    khvMigrationInfo mig;
    unsigned long long elapsed;
    int maxparams = 0;
    int op;
    int ret = -1;

    virCheckFlags(0, -1);
    *params = NULL;
    *nparams = 0;
    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainGetJobStatsEnsureACL(domain->conn, vm->def) < 0 ||
        khvJobNow(vm, &op, &elapsed, &mig) < 0)
        goto cleanup;
    *type = op ? VIR_DOMAIN_JOB_UNBOUNDED : VIR_DOMAIN_JOB_NONE;
    ret = 0;
    if (!op)
        goto cleanup;
    if (virTypedParamsAddInt(params, nparams, &maxparams, VIR_DOMAIN_JOB_OPERATION, op) < 0 ||
        virTypedParamsAddULLong(params, nparams, &maxparams, VIR_DOMAIN_JOB_TIME_ELAPSED,
                                elapsed) < 0)
        ret = -1;
    if (ret == 0 && op == VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT &&
        (virTypedParamsAddULLong(params, nparams, &maxparams, VIR_DOMAIN_JOB_DATA_TOTAL,
                                 mig.total) < 0 ||
         virTypedParamsAddULLong(params, nparams, &maxparams, VIR_DOMAIN_JOB_DATA_PROCESSED,
                                 mig.transferred) < 0 ||
         virTypedParamsAddULLong(params, nparams, &maxparams, VIR_DOMAIN_JOB_DATA_REMAINING,
                                 mig.remaining) < 0 ||
         virTypedParamsAddULLong(params, nparams, &maxparams, VIR_DOMAIN_JOB_MEMORY_TOTAL,
                                 mig.total) < 0 ||
         virTypedParamsAddULLong(params, nparams, &maxparams, VIR_DOMAIN_JOB_MEMORY_PROCESSED,
                                 mig.transferred) < 0 ||
         virTypedParamsAddULLong(params, nparams, &maxparams, VIR_DOMAIN_JOB_MEMORY_REMAINING,
                                 mig.remaining) < 0 ||
         virTypedParamsAddULLong(params, nparams, &maxparams,
                                 VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE, mig.dirtyRate) < 0 ||
         virTypedParamsAddULLong(params, nparams, &maxparams, VIR_DOMAIN_JOB_MEMORY_ITERATION,
                                 mig.passes) < 0 ||
         virTypedParamsAddULLong(params, nparams, &maxparams, VIR_DOMAIN_JOB_MEMORY_BPS,
                                 mig.bytesPerSecond) < 0 ||
         virTypedParamsAddULLong(params, nparams, &maxparams, VIR_DOMAIN_JOB_DOWNTIME,
                                 mig.expectedDowntime) < 0))
        ret = -1;
    if (ret < 0) {
        virTypedParamsFree(*params, *nparams);
        *params = NULL;
        *nparams = 0;
    }

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}

int
khvDomainAbortJob(virDomainPtr domain)
{
    virDomainObj *vm;
    khvDomainObjPrivate *priv;
    int ret = -1;

    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainAbortJobEnsureACL(domain->conn, vm->def) < 0)
        goto cleanup;
    priv = vm->privateData;
    switch (priv->job) {
    case KHV_JOB_NONE:
        virReportError(VIR_ERR_OPERATION_INVALID, "%s", _("no job is active on the domain"));
        break;
    case KHV_JOB_SAVE:
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                       _("a save cannot be aborted: khv-run writes the snapshot in one "
                         "step (destroy ends it, and the domain)"));
        break;
    case KHV_JOB_MIGRATION_IN:
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("an incoming migration is cancelled on its source"));
        break;
    case KHV_JOB_MIGRATION_OUT:
        /* Perform sees "cancelled" at its next poll; the VM runs on. */
        ret = khvMonitorCommand(priv->ctlPath, "migrate_cancel", NULL, NULL);
        break;
    }

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}
