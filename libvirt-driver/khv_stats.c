// SPDX-License-Identifier: GPL-2.0
/*
 * khv_stats.c: what a running domain has used: CPU time (khv-run's and
 * each vCPU thread's, from /proc), the vCPUs' state, the disks'
 * counters, and libvirt's bulk statistics (virsh domstats, virt-manager's
 * graphs) made of them.
 *
 * khv-run is asked through its control socket: query-vcpus gives each
 * vCPU's thread and whether it waits (HLT, INIT), query-blockstats each
 * disk's counters.  khv-run names its disks vda, vdb... in command-line
 * order, which is the definition's order (khv_command.c).  An interface's
 * counters are its tap's, seen from the guest (the host's receive is the
 * guest's transmit).
 *
 * The guest's addresses (virsh domifaddr, virt-manager's NIC page) come
 * from outside the guest, as khv-run has no guest agent: the DHCP leases
 * of the libvirt network an interface is on, or the host's ARP table.
 */
#include <config.h>

#include <net/if_arp.h>

#include "internal.h"
#include "datatypes.h"
#include "domain_conf.h"
#include "virdomainobjlist.h"
#include "viraccessapicheck.h"
#include "viralloc.h"
#include "virerror.h"
#include "virfile.h"
#include "virjson.h"
#include "virlog.h"
#include "virnetdevtap.h"
#include "virprocess.h"
#include "virtypedparam.h"

#include "khv_conf.h"
#include "khv_monitor.h"
#include "khv_process.h"

#define VIR_FROM_THIS VIR_FROM_NONE

VIR_LOG_INIT("khv.khv_stats");

/* The groups of virConnectGetAllDomainStats this driver fills. */
#define KHV_STATS_GROUPS (VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | \
                          VIR_DOMAIN_STATS_VCPU | VIR_DOMAIN_STATS_BLOCK | \
                          VIR_DOMAIN_STATS_INTERFACE)

typedef struct {
    pid_t tid;
    bool halted;
} khvVcpuThread;

typedef struct {
    unsigned long long rd_bytes, wr_bytes, rd_ops, wr_ops, flush_ops;
} khvDiskStats;

/* khv-run's name for disk idx of the definition. */
static void
khvDiskName(size_t idx, char name[8])
{
    g_snprintf(name, 8, "vd%c", (char)('a' + idx));
}

/* Each vCPU's thread, in vCPU order: *n of them in *threads (g_free). */
static int
khvQueryVcpus(virDomainObj *vm, khvVcpuThread **threads, size_t *n)
{
    const char *path = khvProcessControlPath(vm);
    g_autoptr(virJSONValue) list = NULL;
    size_t i;

    if (!path || khvMonitorCommand(path, "query-vcpus", NULL, &list) < 0)
        return -1;
    if (virJSONValueGetType(list) != VIR_JSON_TYPE_ARRAY) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                       _("khv-run's query-vcpus did not return an array"));
        return -1;
    }
    *n = virJSONValueArraySize(list);
    *threads = g_new0(khvVcpuThread, *n);
    for (i = 0; i < *n; i++) {
        virJSONValue *v = virJSONValueArrayGet(list, i);
        long long tid = 0;

        if (virJSONValueObjectGetNumberLong(v, "thread-id", &tid) < 0 ||
            virJSONValueObjectGetBoolean(v, "halted", &(*threads)[i].halted) < 0) {
            virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                           _("khv-run's query-vcpus: a vCPU without thread-id or halted"));
            g_clear_pointer(threads, g_free);
            return -1;
        }
        (*threads)[i].tid = tid;
    }
    return 0;
}

/* The counters of disk idx. */
static int
khvQueryDisk(virDomainObj *vm, size_t idx, khvDiskStats *st)
{
    const char *path = khvProcessControlPath(vm);
    g_autoptr(virJSONValue) list = NULL;
    g_autoptr(virJSONValue) args = NULL;
    virJSONValue *s;
    char name[8];

    khvDiskName(idx, name);
    if (!path || virJSONValueObjectAdd(&args, "s:device", name, NULL) < 0 ||
        khvMonitorCommand(path, "query-blockstats", g_steal_pointer(&args), &list) < 0)
        return -1;
    if (virJSONValueGetType(list) != VIR_JSON_TYPE_ARRAY || virJSONValueArraySize(list) != 1 ||
        !(s = virJSONValueObjectGetObject(virJSONValueArrayGet(list, 0), "stats")) ||
        virJSONValueObjectGetNumberUlong(s, "rd_bytes", &st->rd_bytes) < 0 ||
        virJSONValueObjectGetNumberUlong(s, "wr_bytes", &st->wr_bytes) < 0 ||
        virJSONValueObjectGetNumberUlong(s, "rd_operations", &st->rd_ops) < 0 ||
        virJSONValueObjectGetNumberUlong(s, "wr_operations", &st->wr_ops) < 0 ||
        virJSONValueObjectGetNumberUlong(s, "flush_operations", &st->flush_ops) < 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR,
                       _("khv-run's query-blockstats for %s: not the expected reply"), name);
        return -1;
    }
    return 0;
}

unsigned long long
khvProcessCpuTime(virDomainObj *vm)
{
    unsigned long long ns = 0;

    if (virDomainObjIsActive(vm) &&
        virProcessGetStatInfo(&ns, NULL, NULL, NULL, NULL, vm->pid, 0) < 0) {
        virResetLastError();    /* ending: nothing to count */
        ns = 0;
    }
    return ns;
}

int
khvDomainGetVcpus(virDomainPtr domain, virVcpuInfoPtr info, int maxinfo,
                  unsigned char *cpumaps, int maplen)
{
    g_autofree khvVcpuThread *threads = NULL;
    virDomainObj *vm;
    size_t n = 0, i;
    int ret = -1;

    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainGetVcpusEnsureACL(domain->conn, vm->def) < 0 ||
        khvQueryVcpus(vm, &threads, &n) < 0)
        goto cleanup;
    if (cpumaps)
        memset(cpumaps, 0, (size_t)maxinfo * maplen);
    for (i = 0; i < n && i < (size_t)maxinfo; i++) {
        unsigned long long ns = 0;
        int cpu = -1;

        if (virProcessGetStatInfo(&ns, NULL, NULL, &cpu, NULL, vm->pid, threads[i].tid) < 0)
            goto cleanup;
        info[i].number = i;
        info[i].state = threads[i].halted ? VIR_VCPU_BLOCKED : VIR_VCPU_RUNNING;
        info[i].cpuTime = ns;
        info[i].cpu = cpu;
        if (cpumaps) {
            g_autoptr(virBitmap) map = virProcessGetAffinity(threads[i].tid);

            if (!map)
                goto cleanup;
            virBitmapToDataBuf(map, VIR_GET_CPUMAP(cpumaps, maplen, i), maplen);
        }
    }
    ret = i;

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}

int
khvDomainBlockStats(virDomainPtr domain, const char *path, virDomainBlockStatsPtr stats)
{
    virDomainObj *vm;
    khvDiskStats st;
    int idx, ret = -1;

    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainBlockStatsEnsureACL(domain->conn, vm->def) < 0)
        goto cleanup;
    if ((idx = virDomainDiskIndexByName(vm->def, path, false)) < 0) {
        virReportError(VIR_ERR_INVALID_ARG, _("no disk '%s'"), path);
        goto cleanup;
    }
    if (khvQueryDisk(vm, idx, &st) < 0)
        goto cleanup;
    stats->rd_req = st.rd_ops;
    stats->rd_bytes = st.rd_bytes;
    stats->wr_req = st.wr_ops;
    stats->wr_bytes = st.wr_bytes;
    stats->errs = -1;   /* khv-run does not count them */
    ret = 0;

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}

/* An interface's tap counters from the guest's side (NULL: not running). */
static int
khvTapStats(virDomainNetDef *net, virDomainInterfaceStatsPtr stats)
{
    if (!net->ifname) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s", _("the interface has no tap"));
        return -1;
    }
    return virNetDevTapInterfaceStats(net->ifname, stats,
                                      !virDomainNetTypeSharesHostView(net));
}

int
khvDomainInterfaceStats(virDomainPtr domain, const char *device,
                        virDomainInterfaceStatsPtr stats)
{
    virDomainObj *vm;
    virDomainNetDef *net;
    int ret = -1;

    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainInterfaceStatsEnsureACL(domain->conn, vm->def) < 0 ||
        !khvProcessControlPath(vm))
        goto cleanup;
    if (!(net = virDomainNetFind(vm->def, device)))
        goto cleanup;
    ret = khvTapStats(net, stats);

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}

/* One domain's groups, as libvirt names its parameters. */
static int
khvDomainStats(virDomainObj *vm, unsigned int groups, virTypedParamList *p)
{
    bool active = virDomainObjIsActive(vm);
    size_t i;

    if ((groups & VIR_DOMAIN_STATS_STATE) &&
        (virTypedParamListAddInt(p, vm->state.state, "state.state") < 0 ||
         virTypedParamListAddInt(p, vm->state.reason, "state.reason") < 0))
        return -1;
    if (!active)
        return 0;
    if (groups & VIR_DOMAIN_STATS_CPU_TOTAL) {
        unsigned long long ns = 0, user = 0, sys = 0;

        if (virProcessGetStatInfo(&ns, &user, &sys, NULL, NULL, vm->pid, 0) < 0 ||
            virTypedParamListAddULLong(p, ns, "cpu.time") < 0 ||
            virTypedParamListAddULLong(p, user, "cpu.user") < 0 ||
            virTypedParamListAddULLong(p, sys, "cpu.system") < 0)
            return -1;
    }
    if (groups & VIR_DOMAIN_STATS_VCPU) {
        g_autofree khvVcpuThread *threads = NULL;
        size_t n = 0;

        if (khvQueryVcpus(vm, &threads, &n) < 0 ||
            virTypedParamListAddUInt(p, n, "vcpu.current") < 0 ||
            virTypedParamListAddUInt(p, virDomainDefGetVcpusMax(vm->def), "vcpu.maximum") < 0)
            return -1;
        for (i = 0; i < n; i++) {
            unsigned long long ns = 0;

            if (virProcessGetStatInfo(&ns, NULL, NULL, NULL, NULL, vm->pid,
                                      threads[i].tid) < 0 ||
                virTypedParamListAddInt(p, threads[i].halted ? VIR_VCPU_BLOCKED :
                                        VIR_VCPU_RUNNING, "vcpu.%zu.state", i) < 0 ||
                virTypedParamListAddULLong(p, ns, "vcpu.%zu.time", i) < 0)
                return -1;
        }
    }
    if (groups & VIR_DOMAIN_STATS_BLOCK) {
        if (virTypedParamListAddUInt(p, vm->def->ndisks, "block.count") < 0)
            return -1;
        for (i = 0; i < vm->def->ndisks; i++) {
            virDomainDiskDef *disk = vm->def->disks[i];
            khvDiskStats st;

            if (khvQueryDisk(vm, i, &st) < 0 ||
                virTypedParamListAddString(p, disk->dst, "block.%zu.name", i) < 0 ||
                virTypedParamListAddString(p, virDomainDiskGetSource(disk),
                                           "block.%zu.path", i) < 0 ||
                virTypedParamListAddULLong(p, st.rd_ops, "block.%zu.rd.reqs", i) < 0 ||
                virTypedParamListAddULLong(p, st.rd_bytes, "block.%zu.rd.bytes", i) < 0 ||
                virTypedParamListAddULLong(p, st.wr_ops, "block.%zu.wr.reqs", i) < 0 ||
                virTypedParamListAddULLong(p, st.wr_bytes, "block.%zu.wr.bytes", i) < 0 ||
                virTypedParamListAddULLong(p, st.flush_ops, "block.%zu.fl.reqs", i) < 0)
                return -1;
        }
    }
    if (groups & VIR_DOMAIN_STATS_INTERFACE) {
        if (virTypedParamListAddUInt(p, vm->def->nnets, "net.count") < 0)
            return -1;
        for (i = 0; i < vm->def->nnets; i++) {
            virDomainNetDef *net = vm->def->nets[i];
            virDomainInterfaceStatsStruct st;

            if (khvTapStats(net, &st) < 0 ||
                virTypedParamListAddString(p, net->ifname, "net.%zu.name", i) < 0 ||
                virTypedParamListAddULLong(p, st.rx_bytes, "net.%zu.rx.bytes", i) < 0 ||
                virTypedParamListAddULLong(p, st.rx_packets, "net.%zu.rx.pkts", i) < 0 ||
                virTypedParamListAddULLong(p, st.rx_errs, "net.%zu.rx.errs", i) < 0 ||
                virTypedParamListAddULLong(p, st.rx_drop, "net.%zu.rx.drop", i) < 0 ||
                virTypedParamListAddULLong(p, st.tx_bytes, "net.%zu.tx.bytes", i) < 0 ||
                virTypedParamListAddULLong(p, st.tx_packets, "net.%zu.tx.pkts", i) < 0 ||
                virTypedParamListAddULLong(p, st.tx_errs, "net.%zu.tx.errs", i) < 0 ||
                virTypedParamListAddULLong(p, st.tx_drop, "net.%zu.tx.drop", i) < 0)
                return -1;
        }
    }
    return 0;
}

int
khvConnectGetAllDomainStats(virConnectPtr conn, virDomainPtr *doms, unsigned int ndoms,
                            unsigned int stats, virDomainStatsRecordPtr **retStats,
                            unsigned int flags)
{
    khvDriver *driver = conn->privateData;
    unsigned int lflags = flags & (VIR_CONNECT_LIST_DOMAINS_FILTERS_ACTIVE |
                                   VIR_CONNECT_LIST_DOMAINS_FILTERS_PERSISTENT |
                                   VIR_CONNECT_LIST_DOMAINS_FILTERS_STATE);
    virDomainStatsRecordPtr *records = NULL;
    virDomainObj **vms = NULL;
    size_t nvms = 0, i;
    int nrec = 0, ret;

    virCheckFlags(VIR_CONNECT_LIST_DOMAINS_FILTERS_ACTIVE |
                  VIR_CONNECT_LIST_DOMAINS_FILTERS_PERSISTENT |
                  VIR_CONNECT_LIST_DOMAINS_FILTERS_STATE |
                  VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT |
                  VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS, -1);
    if (virConnectGetAllDomainStatsEnsureACL(conn) < 0)
        return -1;
    /* No groups asked: every group there is; asked, the ones khv has. */
    if (!stats) {
        stats = KHV_STATS_GROUPS;
    } else if ((flags & VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS) &&
               (stats & ~KHV_STATS_GROUPS)) {
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED,
                       _("khv has no statistics of group(s) 0x%x"), stats & ~KHV_STATS_GROUPS);
        return -1;
    }
    stats &= KHV_STATS_GROUPS;

    if (ndoms) {
        if (virDomainObjListConvert(driver->domains, conn, doms, ndoms, &vms, &nvms,
                                    virConnectGetAllDomainStatsCheckACL, lflags, true) < 0)
            return -1;
    } else {
        virDomainObjListCollect(driver->domains, conn, &vms, &nvms,
                                virConnectGetAllDomainStatsCheckACL, lflags);
    }
    records = g_new0(virDomainStatsRecordPtr, nvms + 1);
    for (i = 0; i < nvms; i++) {
        g_autoptr(virTypedParamList) params = g_new0(virTypedParamList, 1);
        virDomainObj *vm = vms[i];
        virDomainStatsRecordPtr rec;

        /*
         * A domain whose khv-run ends meanwhile gives what was gathered
         * before, as QEMU's driver does when its monitor goes: one
         * domain does not fail the others' statistics.
         */
        virObjectLock(vm);
        if (khvDomainStats(vm, stats, params) < 0) {
            VIR_WARN("statistics of domain %s incomplete: %s", vm->def->name,
                     virGetLastErrorMessage());
            virResetLastError();
        }
        rec = g_new0(virDomainStatsRecord, 1);
        rec->dom = virGetDomain(conn, vm->def->name, vm->def->uuid, vm->def->id);
        rec->nparams = virTypedParamListStealParams(params, &rec->params);
        records[nrec++] = rec;
        virObjectUnlock(vm);
    }
    *retStats = g_steal_pointer(&records);
    ret = nrec;

    virDomainStatsRecordListFree(records);
    virObjectListFreeCount(vms, nvms);
    return ret;
}

/* ---- the guest's addresses ------------------------------------------------ */

static void
khvIfaceAddAddr(virDomainInterfacePtr iface, int type, const char *addr, unsigned int prefix)
{
    virDomainIPAddressPtr ip;

    iface->addrs = g_renew(virDomainIPAddress, iface->addrs, iface->naddrs + 1);
    ip = &iface->addrs[iface->naddrs++];
    ip->type = type;
    ip->addr = g_strdup(addr);
    ip->prefix = prefix;
}

static virDomainInterfacePtr
khvIfaceNew(virDomainNetDef *net)
{
    virDomainInterfacePtr iface = g_new0(virDomainInterface, 1);
    char mac[VIR_MAC_STRING_BUFLEN];

    iface->name = g_strdup(net->ifname);
    iface->hwaddr = g_strdup(virMacAddrFormat(&net->mac, mac));
    return iface;
}

static void
khvIfacesFree(virDomainInterfacePtr *ifaces, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        virDomainInterfaceFree(ifaces[i]);
    g_free(ifaces);
}

/* Each <interface type='network'> with the leases its network's dnsmasq gave its MAC. */
static int
khvIfacesFromLeases(virDomainDef *def, virDomainInterfacePtr **out)
{
    g_autoptr(virConnect) conn = NULL;
    virDomainInterfacePtr *ifaces = NULL;
    size_t n = 0;
    size_t i;

    for (i = 0; i < def->nnets; i++) {
        virDomainNetDef *net = def->nets[i];
        g_autoptr(virNetwork) network = NULL;
        virNetworkDHCPLeasePtr *leases = NULL;
        char mac[VIR_MAC_STRING_BUFLEN];
        virDomainInterfacePtr iface;
        int nleases;
        int j;

        if (net->type != VIR_DOMAIN_NET_TYPE_NETWORK)
            continue;
        if (!conn && !(conn = virGetConnectNetwork()))
            goto error;
        if (!(network = virNetworkLookupByName(conn, net->data.network.name)))
            goto error;
        nleases = virNetworkGetDHCPLeases(network, virMacAddrFormat(&net->mac, mac),
                                          &leases, 0);
        if (nleases < 0)
            goto error;
        if (nleases == 0)
            continue;
        iface = khvIfaceNew(net);
        VIR_APPEND_ELEMENT(ifaces, n, iface);
        for (j = 0; j < nleases; j++) {
            int type = leases[j]->type == VIR_IP_ADDR_TYPE_IPV6 ? VIR_IP_ADDR_TYPE_IPV6
                                                                 : VIR_IP_ADDR_TYPE_IPV4;

            khvIfaceAddAddr(ifaces[n - 1], type, leases[j]->ipaddr, leases[j]->prefix);
            virNetworkDHCPLeaseFree(leases[j]);
        }
        g_free(leases);
    }
    *out = ifaces;
    return n;

 error:
    khvIfacesFree(ifaces, n);
    return -1;
}

/*
 * Each interface with the IPv4 addresses the host's ARP table has for its
 * MAC: the complete entries of /proc/net/arp (libvirt's own netlink reader,
 * virArpTableGet, fails on a table with no entry, and skips those the
 * kernel is confirming).
 */
static int
khvIfacesFromArp(virDomainDef *def, virDomainInterfacePtr **out)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    virDomainInterfacePtr *ifaces = NULL;
    size_t n = 0;
    size_t i;

    if (virFileReadAll("/proc/net/arp", 1 << 20, &text) < 0)
        return -1;
    lines = g_strsplit(text, "\n", 0);
    for (i = 0; i < def->nnets; i++) {
        virDomainNetDef *net = def->nets[i];
        virDomainInterfacePtr iface = NULL;
        char mac[VIR_MAC_STRING_BUFLEN];
        size_t j;

        virMacAddrFormat(&net->mac, mac);
        /* "IP address  HW type  Flags  HW address  Mask  Device", a header first. */
        for (j = 1; lines[0] && lines[j]; j++) {
            char ip[64], hw[64];
            unsigned int type, flags;

            if (sscanf(lines[j], "%63s %x %x %63s", ip, &type, &flags, hw) != 4 ||
                !(flags & ATF_COM) || STRCASENEQ(hw, mac))
                continue;
            if (!iface) {
                iface = khvIfaceNew(net);
                VIR_APPEND_ELEMENT(ifaces, n, iface);
                iface = ifaces[n - 1];
            }
            khvIfaceAddAddr(iface, VIR_IP_ADDR_TYPE_IPV4, ip, 0);
        }
    }
    *out = ifaces;
    return n;
}

int
khvDomainInterfaceAddresses(virDomainPtr domain, virDomainInterfacePtr **ifaces,
                            unsigned int source, unsigned int flags)
{
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(0, -1);

    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainInterfaceAddressesEnsureACL(domain->conn, vm->def, source) < 0)
        goto cleanup;
    if (!virDomainObjIsActive(vm)) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s", _("domain is not running"));
        goto cleanup;
    }
    switch (source) {
    case VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE:
        ret = khvIfacesFromLeases(vm->def, ifaces);
        break;
    case VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP:
        ret = khvIfacesFromArp(vm->def, ifaces);
        break;
    case VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT:
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                       _("khv has no guest agent: ask for the 'lease' or 'arp' source"));
        break;
    default:
        virReportError(VIR_ERR_INVALID_ARG, _("unknown address source %u"), source);
        break;
    }

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}
