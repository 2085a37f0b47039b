// SPDX-License-Identifier: GPL-2.0
/*
 * khv_domain.c: domain definitions: the XML khv accepts, and the calls
 * that define, look up, describe and undefine persistent domains.
 *
 * What khv-run can run is checked when a definition is parsed (the
 * validate callbacks below), so an element khv cannot honour is refused at
 * define time with VIR_ERR_CONFIG_UNSUPPORTED naming it, never dropped:
 *
 *   <domain type='kvm'>, os type hvm on x86_64, direct kernel boot
 *   (<kernel>, optional <initrd> and <cmdline>; no <loader>: khv-run has
 *   no firmware), up to 64 vCPUs;
 *   <disk type='file' device='disk'> on bus virtio, raw;
 *   <interface type='network'|'bridge'> with model virtio;
 *   <serial>/<console> of type pty (one serial port, ISA, COM1; one
 *   virtio console, its virtio-serial controller);
 *   <rng model='virtio'> with backend random; <memballoon model='none'>.
 *
 *   <on_poweroff>destroy, <on_reboot>restart|destroy, <on_crash>destroy.
 *
 * khv_command.c turns what passes into khv-run's command line.
 */
#include <config.h>

#include "internal.h"
#include "datatypes.h"
#include "driver.h"
#include "domain_conf.h"
#include "virdomainobjlist.h"
#include "viraccessapicheck.h"
#include "virerror.h"
#include "virlog.h"
#include "viruuid.h"

#include "khv_driver.h"
#include "khv_conf.h"
#include "khv_process.h"
#include "khv_storage.h"

#define VIR_FROM_THIS VIR_FROM_NONE

VIR_LOG_INIT("khv.khv_domain");

static int G_GNUC_PRINTF(1, 2)
khvUnsupported(const char *fmt, ...)
{
    va_list ap;
    g_autofree char *what = NULL;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    virReportError(VIR_ERR_CONFIG_UNSUPPORTED, _("khv does not support %s"), what);
    return -1;
}

/* Defaults a definition may leave out: the architecture and the VMM. */
static int
khvDomainDefPostParse(virDomainDef *def,
                      unsigned int parseFlags G_GNUC_UNUSED,
                      void *opaque G_GNUC_UNUSED,
                      void *parseOpaque G_GNUC_UNUSED)
{
    /*
     * khv-run's machine always has the i8042 with its PS/2 keyboard: a
     * definition with a display says so, as QEMU's x86 machines do.
     */
    if (def->ngraphics &&
        virDomainDefMaybeAddInput(def, VIR_DOMAIN_INPUT_TYPE_KBD, VIR_DOMAIN_INPUT_BUS_PS2) < 0)
        return -1;
    if (!def->os.arch)
        def->os.arch = VIR_ARCH_X86_64;
    if (!def->emulator)
        def->emulator = g_strdup(KHV_RUN_BIN);
    return 0;
}

/*
 * <features>: khv-run's machine always has ACPI, an APIC and PAE, and never
 * VMware's port, SMM or a PMU; a definition may say so (or say nothing),
 * never the opposite.  Every other feature is refused.
 */
static int
khvValidateFeatures(const virDomainDef *def)
{
    size_t i;

    for (i = 0; i < VIR_DOMAIN_FEATURE_LAST; i++) {
        int v = def->features[i];
        const char *name = virDomainFeatureTypeToString(i);

        if (v == VIR_TRISTATE_SWITCH_ABSENT)
            continue;
        switch ((virDomainFeature)i) {
        case VIR_DOMAIN_FEATURE_ACPI:
        case VIR_DOMAIN_FEATURE_APIC:
        case VIR_DOMAIN_FEATURE_PAE:
            if (v == VIR_TRISTATE_SWITCH_ON)
                continue;
            return khvUnsupported("<features><%s state='off'/> (khv-run's machine always has it)",
                                  name);
        case VIR_DOMAIN_FEATURE_VMPORT:
        case VIR_DOMAIN_FEATURE_SMM:
        case VIR_DOMAIN_FEATURE_PMU:
            if (v == VIR_TRISTATE_SWITCH_OFF)
                continue;
            return khvUnsupported("<features><%s/> (khv-run's machine has none)", name);
        default:
            return khvUnsupported("<features><%s/>", name);
        }
    }
    if (def->apic_eoi != VIR_TRISTATE_SWITCH_ABSENT)
        return khvUnsupported("<features><apic eoi=...> (no paravirtual EOI)");
    return 0;
}

/* At most one virtio tablet and one virtio keyboard; a display for them to serve. */
static int
khvValidateInputs(const virDomainDef *def)
{
    size_t i, tablets = 0, vkbds = 0;

    for (i = 0; i < def->ninputs; i++) {
        if (def->inputs[i]->bus != VIR_DOMAIN_INPUT_BUS_VIRTIO)
            continue;
        tablets += def->inputs[i]->type == VIR_DOMAIN_INPUT_TYPE_TABLET;
        vkbds += def->inputs[i]->type == VIR_DOMAIN_INPUT_TYPE_KBD;
    }
    if (tablets > 1 || vkbds > 1)
        return khvUnsupported("more than one virtio %s <input>", tablets > 1 ? "tablet" : "keyboard");
    if ((tablets || vkbds) && !def->ngraphics)
        return khvUnsupported("virtio <input> devices without <graphics> (nothing feeds them)");
    return 0;
}

/*
 * <clock>: the CMOS clock starts at the host's UTC; the PIT and the RTC
 * are always there, as they are (no tick policy); no HPET; kvmclock can be
 * hidden (khv-run --no-kvmclock).
 */
static int
khvValidateClock(const virDomainDef *def)
{
    size_t i;

    if (def->clock.offset != VIR_DOMAIN_CLOCK_OFFSET_UTC)
        return khvUnsupported("<clock offset='%s'> (only 'utc': the CMOS clock starts at the host's UTC)",
                              virDomainClockOffsetTypeToString(def->clock.offset));
    for (i = 0; i < def->clock.ntimers; i++) {
        const virDomainTimerDef *t = def->clock.timers[i];
        const char *name = virDomainTimerNameTypeToString(t->name);

        switch (t->name) {
        case VIR_DOMAIN_TIMER_NAME_PIT:
        case VIR_DOMAIN_TIMER_NAME_RTC:
            if (t->present == VIR_TRISTATE_BOOL_NO)
                return khvUnsupported("<timer name='%s' present='no'> (always there)", name);
            break;
        case VIR_DOMAIN_TIMER_NAME_HPET:
            if (t->present != VIR_TRISTATE_BOOL_NO)
                return khvUnsupported("<timer name='hpet'> (khv-run has no HPET)");
            break;
        case VIR_DOMAIN_TIMER_NAME_KVMCLOCK:
            break;
        default:
            return khvUnsupported("<timer name='%s'>", name);
        }
        if (t->tickpolicy != VIR_DOMAIN_TIMER_TICKPOLICY_NONE)
            return khvUnsupported("<timer name='%s' tickpolicy='%s'>", name,
                                  virDomainTimerTickpolicyTypeToString(t->tickpolicy));
        if (t->track != VIR_DOMAIN_TIMER_TRACK_NONE)
            return khvUnsupported("<timer name='%s' track='%s'>", name,
                                  virDomainTimerTrackTypeToString(t->track));
        if (t->catchup.threshold || t->catchup.slew || t->catchup.limit)
            return khvUnsupported("<timer name='%s'><catchup>", name);
    }
    return 0;
}

static int
khvDomainDefValidate(const virDomainDef *def,
                     void *opaque G_GNUC_UNUSED,
                     void *parseOpaque G_GNUC_UNUSED)
{
    size_t i, consoles;

    if (def->virtType != VIR_DOMAIN_VIRT_KVM)
        return khvUnsupported("<domain type='%s'> (khv guests are type 'kvm')",
                              virDomainVirtTypeToString(def->virtType));
    if (def->os.type != VIR_DOMAIN_OSTYPE_HVM)
        return khvUnsupported("<os><type>%s</type> (only hvm)",
                              virDomainOSTypeToString(def->os.type));
    if (def->os.arch != VIR_ARCH_X86_64)
        return khvUnsupported("<os><type arch='%s'> (only x86_64)",
                              virArchToString(def->os.arch));
    if (def->os.loader)
        return khvUnsupported("<os><loader> (khv-run boots a kernel directly, without firmware)");
    if (!def->os.kernel)
        return khvUnsupported("a domain without <os><kernel> (direct kernel boot only, for now)");
    if (virDomainDefGetVcpusMax(def) > KHV_MAX_VCPUS)
        return khvUnsupported("%u vCPUs (at most %d)", virDomainDefGetVcpusMax(def),
                              KHV_MAX_VCPUS);
    if (virDomainDefGetVcpusMax(def) != virDomainDefGetVcpus(def))
        return khvUnsupported("<vcpu current='%u'> below the maximum (no vCPU hotplug)",
                              virDomainDefGetVcpus(def));
    if (def->onPoweroff != VIR_DOMAIN_LIFECYCLE_ACTION_DESTROY)
        return khvUnsupported("<on_poweroff>%s</on_poweroff> (only destroy)",
                              virDomainLifecycleActionTypeToString(def->onPoweroff));
    if (def->onReboot != VIR_DOMAIN_LIFECYCLE_ACTION_RESTART &&
        def->onReboot != VIR_DOMAIN_LIFECYCLE_ACTION_DESTROY)
        return khvUnsupported("<on_reboot>%s</on_reboot> (only restart or destroy)",
                              virDomainLifecycleActionTypeToString(def->onReboot));
    if (def->onCrash != VIR_DOMAIN_LIFECYCLE_ACTION_DESTROY)
        return khvUnsupported("<on_crash>%s</on_crash> (only destroy)",
                              virDomainLifecycleActionTypeToString(def->onCrash));
    if (khvValidateFeatures(def) < 0 || khvValidateClock(def) < 0)
        return -1;
    if (def->cpu)
        return khvUnsupported("<cpu> (guests see the host's CPU as khv filters it: no mode, "
                              "model or topology to choose yet)");
    if (def->nrngs > 1)
        return khvUnsupported("more than one <rng>");
    if (def->ngraphics > 1)
        return khvUnsupported("more than one <graphics>");
    if (def->nvideos > 1)
        return khvUnsupported("more than one <video>");
    if (def->ngraphics && (!def->nvideos || def->videos[0]->type == VIR_DOMAIN_VIDEO_TYPE_NONE))
        return khvUnsupported("<graphics> with <video><model type='none'> (nothing to show)");
    if (khvValidateInputs(def) < 0)
        return -1;
    if (def->nnets > KHV_MAX_NETS)
        return khvUnsupported("%zu <interface> devices (at most %d)", def->nnets, KHV_MAX_NETS);
    for (i = 0, consoles = 0; i < def->nconsoles; i++)
        consoles += def->consoles[i]->targetType == VIR_DOMAIN_CHR_CONSOLE_TARGET_TYPE_VIRTIO;
    if (consoles > 1)
        return khvUnsupported("more than one <console> on a virtio target");
    return 0;
}

static int
khvDiskValidate(const virDomainDiskDef *disk)
{
    virDomainDiskDef *d = (virDomainDiskDef *)disk;
    int format = virDomainDiskGetFormat(d);

    if (disk->device != VIR_DOMAIN_DISK_DEVICE_DISK)
        return khvUnsupported("<disk device='%s'> (only 'disk')",
                              virDomainDiskDeviceTypeToString(disk->device));
    if (virDomainDiskGetType(d) != VIR_STORAGE_TYPE_FILE)
        return khvUnsupported("<disk type='%s'> (only 'file')",
                              virStorageTypeToString(virDomainDiskGetType(d)));
    if (disk->bus != VIR_DOMAIN_DISK_BUS_VIRTIO)
        return khvUnsupported("<disk><target bus='%s'> (only 'virtio')",
                              virDomainDiskBusTypeToString(disk->bus));
    if (format != VIR_STORAGE_FILE_NONE && format != VIR_STORAGE_FILE_RAW &&
        format != VIR_STORAGE_FILE_QCOW2)
        return khvUnsupported("<disk><driver type='%s'> (only 'raw' and 'qcow2')",
                              virStorageFileFormatTypeToString(format));
    /* A qcow2 disk goes through QEMU's storage daemon over NBD: no O_DSYNC there. */
    if (format == VIR_STORAGE_FILE_QCOW2 && disk->cachemode == VIR_DOMAIN_DISK_CACHE_WRITETHRU)
        return khvUnsupported("<disk><driver type='qcow2' cache='writethrough'> (qcow2: "
                              "default, none or writeback)");
    if (!virDomainDiskGetSource(d))
        return khvUnsupported("a <disk> without <source file=...>");
    if (disk->cachemode == VIR_DOMAIN_DISK_CACHE_DIRECTSYNC ||
        disk->cachemode == VIR_DOMAIN_DISK_CACHE_UNSAFE)
        return khvUnsupported("<disk><driver cache='%s'> (default, none, writethrough, "
                              "writeback)", virDomainDiskCacheTypeToString(disk->cachemode));
    if (disk->serial && strlen(disk->serial) > KHV_DISK_SERIAL_MAX)
        return khvUnsupported("<disk><serial> of more than %d characters",
                              KHV_DISK_SERIAL_MAX);
    return 0;
}

static int
khvNetValidate(const virDomainNetDef *net)
{
    if (net->type != VIR_DOMAIN_NET_TYPE_NETWORK && net->type != VIR_DOMAIN_NET_TYPE_BRIDGE)
        return khvUnsupported("<interface type='%s'> (only 'network' and 'bridge')",
                              virDomainNetTypeToString(net->type));
    if (net->model != VIR_DOMAIN_NET_MODEL_VIRTIO)
        return khvUnsupported("<interface><model type='%s'> (only 'virtio': with virt-install, "
                              "--network ...,model=virtio)",
                              net->model ? virDomainNetModelTypeToString(net->model) :
                              "(none)");
    return 0;
}

static int
khvChrValidate(const virDomainChrDef *chr)
{
    if (chr->deviceType != VIR_DOMAIN_CHR_DEVICE_TYPE_SERIAL &&
        chr->deviceType != VIR_DOMAIN_CHR_DEVICE_TYPE_CONSOLE)
        return khvUnsupported("<%s>", virDomainChrDeviceTypeToString(chr->deviceType));
    /*
     * A <console> on the serial target is COM1 again (libvirt even adds a
     * stub one of type 'null' beside a virtio console): the <serial> it
     * stands for is what is checked.
     */
    if (chr->deviceType == VIR_DOMAIN_CHR_DEVICE_TYPE_CONSOLE &&
        chr->targetType == VIR_DOMAIN_CHR_CONSOLE_TARGET_TYPE_SERIAL)
        return 0;
    if (chr->source->type != VIR_DOMAIN_CHR_TYPE_PTY)
        return khvUnsupported("<%s type='%s'> (only 'pty')",
                              virDomainChrDeviceTypeToString(chr->deviceType),
                              virDomainChrTypeToString(chr->source->type));
    if (chr->deviceType == VIR_DOMAIN_CHR_DEVICE_TYPE_SERIAL && chr->target.port != 0)
        return khvUnsupported("<serial><target port='%d'> (one serial port, COM1)",
                              chr->target.port);
    if (chr->deviceType == VIR_DOMAIN_CHR_DEVICE_TYPE_CONSOLE &&
        chr->targetType != VIR_DOMAIN_CHR_CONSOLE_TARGET_TYPE_SERIAL &&
        chr->targetType != VIR_DOMAIN_CHR_CONSOLE_TARGET_TYPE_VIRTIO)
        return khvUnsupported("<console><target type='%s'>",
                              virDomainChrConsoleTargetTypeToString(chr->targetType));
    return 0;
}

/*
 * Device defaults: the display libvirt adds for a <graphics> (model
 * "default") is khv-run's VGA-class adapter; a tablet on USB, which
 * virt-install and virt-manager add to every x86 VM, is khv-run's virtio
 * tablet (khv-run has no USB), and the definition says so from then on.
 */
static int
khvDomainDeviceDefPostParse(virDomainDeviceDef *dev,
                            const virDomainDef *def G_GNUC_UNUSED,
                            unsigned int parseFlags G_GNUC_UNUSED,
                            void *opaque G_GNUC_UNUSED,
                            void *parseOpaque G_GNUC_UNUSED)
{
    if (dev->type == VIR_DOMAIN_DEVICE_VIDEO &&
        dev->data.video->type == VIR_DOMAIN_VIDEO_TYPE_DEFAULT)
        dev->data.video->type = VIR_DOMAIN_VIDEO_TYPE_VGA;
    if (dev->type == VIR_DOMAIN_DEVICE_INPUT &&
        dev->data.input->type == VIR_DOMAIN_INPUT_TYPE_TABLET &&
        dev->data.input->bus == VIR_DOMAIN_INPUT_BUS_USB &&
        dev->data.input->info.type == VIR_DOMAIN_DEVICE_ADDRESS_TYPE_NONE)
        dev->data.input->bus = VIR_DOMAIN_INPUT_BUS_VIRTIO;
    return 0;
}

/*
 * <graphics type='vnc'>: khv-run's VNC server (--vnc) on one address, a
 * port or autoport (khv-run picks the first free from 5900), an optional
 * password.  Nothing else of libvirt's VNC options.
 */
static int
khvGraphicsValidate(const virDomainGraphicsDef *g)
{
    const virDomainGraphicsListenDef *l = g->nListens ? &g->listens[0] : NULL;

    if (g->type != VIR_DOMAIN_GRAPHICS_TYPE_VNC)
        return khvUnsupported("<graphics type='%s'> (only 'vnc')",
                              virDomainGraphicsTypeToString(g->type));
    if (g->nListens > 1)
        return khvUnsupported("more than one <listen> in <graphics>");
    if (l && l->type != VIR_DOMAIN_GRAPHICS_LISTEN_TYPE_ADDRESS &&
        l->type != VIR_DOMAIN_GRAPHICS_LISTEN_TYPE_NETWORK)
        return khvUnsupported("<graphics><listen type='%s'> (only 'address' or 'network')",
                              l->type == VIR_DOMAIN_GRAPHICS_LISTEN_TYPE_SOCKET ? "socket" :
                              "none");
    if (l && l->type == VIR_DOMAIN_GRAPHICS_LISTEN_TYPE_NETWORK && !l->address)
        return khvUnsupported("<graphics><listen type='network'> (give the address)");
    if (!g->data.vnc.autoport && g->data.vnc.port > 0 &&
        (g->data.vnc.port < 1024 || g->data.vnc.port > 65535))
        return khvUnsupported("<graphics port='%d'> (1024 to 65535, or autoport)",
                              g->data.vnc.port);
    if (g->data.vnc.websocket)
        return khvUnsupported("<graphics websocket=...> (no WebSocket VNC)");
    if (g->data.vnc.keymap)
        return khvUnsupported("<graphics keymap=...> (keys go by keysym, US layout)");
    if (g->data.vnc.auth.expires)
        return khvUnsupported("<graphics passwdValidTo=...>");
    if (g->data.vnc.sharePolicy != VIR_DOMAIN_GRAPHICS_VNC_SHARE_DEFAULT &&
        g->data.vnc.sharePolicy != VIR_DOMAIN_GRAPHICS_VNC_SHARE_ALLOW_EXCLUSIVE)
        return khvUnsupported("<graphics sharePolicy='%s'> (viewers always share)",
                              virDomainGraphicsVNCSharePolicyTypeToString(g->data.vnc.sharePolicy));
    if (g->data.vnc.powerControl == VIR_TRISTATE_BOOL_YES)
        return khvUnsupported("<graphics powerControl='yes'>");
    if (g->data.vnc.audioId)
        return khvUnsupported("<graphics><audio> (no sound)");
    return 0;
}

/* <video>: the one adapter, 16 MiB of video memory, one head, no acceleration. */
static int
khvVideoValidate(const virDomainVideoDef *v)
{
    if (v->type != VIR_DOMAIN_VIDEO_TYPE_VGA && v->type != VIR_DOMAIN_VIDEO_TYPE_BOCHS &&
        v->type != VIR_DOMAIN_VIDEO_TYPE_NONE)
        return khvUnsupported("<video><model type='%s'> (only 'vga', 'bochs' or 'none')",
                              virDomainVideoTypeToString(v->type));
    if (v->type == VIR_DOMAIN_VIDEO_TYPE_NONE)
        return 0;
    if (v->vram && v->vram != KHV_VIDEO_VRAM_KIB)
        return khvUnsupported("<video><model vram='%u'> (the adapter has %d KiB)",
                              v->vram, KHV_VIDEO_VRAM_KIB);
    if (v->ram || v->vram64 || v->vgamem)
        return khvUnsupported("<video><model ram/vram64/vgamem=...> (QXL's)");
    if (v->heads > 1)
        return khvUnsupported("<video><model heads='%u'> (one head)", v->heads);
    if (v->accel)
        return khvUnsupported("<video><acceleration> (none)");
    if (v->res)
        return khvUnsupported("<video><resolution> (the guest chooses)");
    if (v->backend != VIR_DOMAIN_VIDEO_BACKEND_TYPE_DEFAULT)
        return khvUnsupported("<video><driver name=...> (only khv-run's own)");
    return 0;
}

/* <input>: the PS/2 keyboard that is always there, a virtio tablet and keyboard. */
static int
khvInputValidate(const virDomainInputDef *in)
{
    bool ps2kbd = in->type == VIR_DOMAIN_INPUT_TYPE_KBD && in->bus == VIR_DOMAIN_INPUT_BUS_PS2;
    bool virtio = in->bus == VIR_DOMAIN_INPUT_BUS_VIRTIO &&
                  (in->type == VIR_DOMAIN_INPUT_TYPE_TABLET ||
                   in->type == VIR_DOMAIN_INPUT_TYPE_KBD);

    if (!ps2kbd && !virtio)
        return khvUnsupported("<input type='%s' bus='%s'> (a PS/2 keyboard, a virtio tablet "
                              "or keyboard)", virDomainInputTypeToString(in->type),
                              virDomainInputBusTypeToString(in->bus));
    if (in->model != VIR_DOMAIN_INPUT_MODEL_DEFAULT &&
        in->model != VIR_DOMAIN_INPUT_MODEL_VIRTIO)
        return khvUnsupported("<input model=...> other than 'virtio'");
    if (in->source.evdev)
        return khvUnsupported("<input><source evdev=...> (no passthrough)");
    return 0;
}

static int
khvDomainDeviceDefValidate(const virDomainDeviceDef *dev,
                           const virDomainDef *def G_GNUC_UNUSED,
                           void *opaque G_GNUC_UNUSED,
                           void *parseOpaque G_GNUC_UNUSED)
{
    switch ((virDomainDeviceType)dev->type) {
    case VIR_DOMAIN_DEVICE_DISK:
        return khvDiskValidate(dev->data.disk);
    case VIR_DOMAIN_DEVICE_NET:
        return khvNetValidate(dev->data.net);
    case VIR_DOMAIN_DEVICE_CHR:
        return khvChrValidate(dev->data.chr);
    case VIR_DOMAIN_DEVICE_RNG:
        if (dev->data.rng->model != VIR_DOMAIN_RNG_MODEL_VIRTIO ||
            dev->data.rng->backend != VIR_DOMAIN_RNG_BACKEND_RANDOM)
            return khvUnsupported("<rng> other than model 'virtio' with backend 'random'");
        return 0;
    case VIR_DOMAIN_DEVICE_CONTROLLER:
        /* libvirt adds one for a virtio <console>: khv-run's is built in. */
        if (dev->data.controller->type != VIR_DOMAIN_CONTROLLER_TYPE_VIRTIO_SERIAL ||
            dev->data.controller->idx != 0)
            return khvUnsupported("<controller type='%s' index='%d'> (only virtio-serial 0, "
                                  "for the console)",
                                  virDomainControllerTypeToString(dev->data.controller->type),
                                  dev->data.controller->idx);
        return 0;
    case VIR_DOMAIN_DEVICE_GRAPHICS:
        return khvGraphicsValidate(dev->data.graphics);
    case VIR_DOMAIN_DEVICE_VIDEO:
        return khvVideoValidate(dev->data.video);
    case VIR_DOMAIN_DEVICE_INPUT:
        return khvInputValidate(dev->data.input);
    case VIR_DOMAIN_DEVICE_MEMBALLOON:
        if (dev->data.memballoon->model != VIR_DOMAIN_MEMBALLOON_MODEL_NONE)
            return khvUnsupported("<memballoon model='%s'> (only 'none')",
                                  virDomainMemballoonModelTypeToString(dev->data.memballoon->model));
        return 0;
    default:
        return khvUnsupported("<%s> devices", virDomainDeviceTypeToString(dev->type));
    }
}

static virDomainDefParserConfig khvDomainDefParserConfig = {
    .domainPostParseCallback = khvDomainDefPostParse,
    .devicesPostParseCallback = khvDomainDeviceDefPostParse,
    .domainValidateCallback = khvDomainDefValidate,
    .deviceValidateCallback = khvDomainDeviceDefValidate,
    .defArch = VIR_ARCH_X86_64,
};

virDomainXMLOption *
khvDomainXMLOptionNew(void)
{
    return virDomainXMLOptionNew(&khvDomainDefParserConfig, &khvPrivateDataCallbacks,
                                 NULL, NULL, NULL, NULL);
}

/* The domain object behind a virDomainPtr, locked; NULL with an error. */
virDomainObj *
khvDomObjFromDomain(virDomainPtr domain)
{
    khvDriver *driver = domain->conn->privateData;
    virDomainObj *vm = virDomainObjListFindByUUID(driver->domains, domain->uuid);

    if (!vm) {
        char uuidstr[VIR_UUID_STRING_BUFLEN];

        virUUIDFormat(domain->uuid, uuidstr);
        virReportError(VIR_ERR_NO_DOMAIN, _("no domain with matching uuid '%s' (%s)"),
                       uuidstr, domain->name);
    }
    return vm;
}

virDomainPtr
khvDomainDefineXMLFlags(virConnectPtr conn, const char *xml, unsigned int flags)
{
    khvDriver *driver = conn->privateData;
    g_autoptr(virDomainDef) def = NULL;
    g_autoptr(virDomainDef) oldDef = NULL;
    unsigned int parse_flags = VIR_DOMAIN_DEF_PARSE_INACTIVE;
    virDomainObj *vm = NULL;
    virDomainPtr dom = NULL;

    virCheckFlags(VIR_DOMAIN_DEFINE_VALIDATE, NULL);
    if (flags & VIR_DOMAIN_DEFINE_VALIDATE)
        parse_flags |= VIR_DOMAIN_DEF_PARSE_VALIDATE_SCHEMA;

    if (!(def = virDomainDefParseString(xml, driver->xmlopt, NULL, parse_flags)))
        return NULL;
    if (virXMLCheckIllegalChars("name", def->name, "\n") < 0)
        return NULL;
    if (virDomainDefineXMLFlagsEnsureACL(conn, def) < 0)
        return NULL;
    if (khvStorageFormatsFromPools(def) < 0)
        return NULL;
    if (!(vm = virDomainObjListAdd(driver->domains, &def, driver->xmlopt, 0, &oldDef)))
        return NULL;
    vm->persistent = 1;
    if (virDomainDefSave(vm->newDef ? vm->newDef : vm->def, driver->xmlopt,
                         driver->configDir) < 0) {
        /* A new definition that could not be saved is not kept. */
        if (!oldDef)
            virDomainObjListRemove(driver->domains, vm);
        goto cleanup;
    }
    dom = virGetDomain(conn, vm->def->name, vm->def->uuid, vm->def->id);

 cleanup:
    virDomainObjEndAPI(&vm);
    return dom;
}

virDomainPtr
khvDomainDefineXML(virConnectPtr conn, const char *xml)
{
    return khvDomainDefineXMLFlags(conn, xml, 0);
}

int
khvDomainUndefineFlags(virDomainPtr domain, unsigned int flags)
{
    khvDriver *driver = domain->conn->privateData;
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_UNDEFINE_MANAGED_SAVE, -1);
    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainUndefineFlagsEnsureACL(domain->conn, vm->def) < 0)
        goto cleanup;
    if (!vm->persistent) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s", _("cannot undefine transient domain"));
        goto cleanup;
    }
    /* An image nobody could start again is not left behind unasked. */
    if (vm->hasManagedSave) {
        if (!(flags & VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)) {
            virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                           _("refusing to undefine a domain with a managed save image "
                             "(--managed-save removes it)"));
            goto cleanup;
        }
        if (khvManagedSaveRemove(driver, vm) < 0)
            goto cleanup;
    }
    if (virDomainDeleteConfig(driver->configDir, driver->autostartDir, vm) < 0)
        goto cleanup;
    vm->persistent = 0;
    khvProcessEndTransient(driver, vm);
    ret = 0;

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}

int
khvDomainUndefine(virDomainPtr domain)
{
    return khvDomainUndefineFlags(domain, 0);
}

/*
 * A lookup's answer: the domain for conn if its ACL check passes, then
 * the object unlocked.  vm NULL: not found, the caller reported it.
 */
static virDomainPtr
khvLookupAnswer(virConnectPtr conn, virDomainObj *vm,
                int (*acl)(virConnectPtr conn, virDomainDef *def))
{
    virDomainPtr dom = NULL;

    if (!vm)
        return NULL;
    if (acl(conn, vm->def) == 0)
        dom = virGetDomain(conn, vm->def->name, vm->def->uuid, vm->def->id);
    virDomainObjEndAPI(&vm);
    return dom;
}

virDomainPtr
khvDomainLookupByName(virConnectPtr conn, const char *name)
{
    khvDriver *driver = conn->privateData;
    virDomainObj *vm = virDomainObjListFindByName(driver->domains, name);

    if (!vm)
        virReportError(VIR_ERR_NO_DOMAIN, _("no domain with matching name '%s'"), name);
    return khvLookupAnswer(conn, vm, virDomainLookupByNameEnsureACL);
}

virDomainPtr
khvDomainLookupByUUID(virConnectPtr conn, const unsigned char *uuid)
{
    khvDriver *driver = conn->privateData;
    virDomainObj *vm = virDomainObjListFindByUUID(driver->domains, uuid);

    if (!vm) {
        char uuidstr[VIR_UUID_STRING_BUFLEN];

        virUUIDFormat(uuid, uuidstr);
        virReportError(VIR_ERR_NO_DOMAIN, _("no domain with matching uuid '%s'"), uuidstr);
    }
    return khvLookupAnswer(conn, vm, virDomainLookupByUUIDEnsureACL);
}

virDomainPtr
khvDomainLookupByID(virConnectPtr conn, int id)
{
    khvDriver *driver = conn->privateData;
    virDomainObj *vm = virDomainObjListFindByID(driver->domains, id);

    if (!vm)
        virReportError(VIR_ERR_NO_DOMAIN, _("no domain with matching id '%d'"), id);
    return khvLookupAnswer(conn, vm, virDomainLookupByIDEnsureACL);
}

char *
khvDomainGetXMLDesc(virDomainPtr domain, unsigned int flags)
{
    khvDriver *driver = domain->conn->privateData;
    virDomainObj *vm;
    virDomainDef *def;
    char *ret = NULL;

    virCheckFlags(VIR_DOMAIN_XML_COMMON_FLAGS, NULL);
    if (!(vm = khvDomObjFromDomain(domain)))
        return NULL;
    def = (flags & VIR_DOMAIN_XML_INACTIVE) && vm->newDef ? vm->newDef : vm->def;
    if (virDomainGetXMLDescEnsureACL(domain->conn, def, flags) == 0)
        ret = virDomainDefFormat(def, driver->xmlopt,
                                 virDomainDefFormatConvertXMLFlags(flags));
    virDomainObjEndAPI(&vm);
    return ret;
}

int
khvDomainGetInfo(virDomainPtr domain, virDomainInfoPtr info)
{
    virDomainObj *vm;
    int ret = -1;

    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainGetInfoEnsureACL(domain->conn, vm->def) == 0) {
        info->state = virDomainObjGetState(vm, NULL);
        info->maxMem = virDomainDefGetMemoryTotal(vm->def);
        info->memory = vm->def->mem.cur_balloon;
        info->nrVirtCpu = virDomainDefGetVcpus(vm->def);
        info->cpuTime = khvProcessCpuTime(vm);
        ret = 0;
    }
    virDomainObjEndAPI(&vm);
    return ret;
}

int
khvDomainGetState(virDomainPtr domain, int *state, int *reason, unsigned int flags)
{
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(0, -1);
    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainGetStateEnsureACL(domain->conn, vm->def) == 0) {
        *state = virDomainObjGetState(vm, reason);
        ret = 0;
    }
    virDomainObjEndAPI(&vm);
    return ret;
}

int
khvDomainIsActive(virDomainPtr domain)
{
    virDomainObj *vm;
    int ret = -1;

    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainIsActiveEnsureACL(domain->conn, vm->def) == 0)
        ret = virDomainObjIsActive(vm);
    virDomainObjEndAPI(&vm);
    return ret;
}

int
khvDomainIsPersistent(virDomainPtr domain)
{
    virDomainObj *vm;
    int ret = -1;

    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainIsPersistentEnsureACL(domain->conn, vm->def) == 0)
        ret = vm->persistent;
    virDomainObjEndAPI(&vm);
    return ret;
}
