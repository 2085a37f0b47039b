// SPDX-License-Identifier: GPL-2.0
/*
 * khv_save.c: saving a running domain to a file and starting it again
 * from there (virsh save, restore, save-image-*), and managed save (a
 * domain whose managed save image exists starts from it).
 *
 * A save is khv-run's snapshot-save with quit (the guest never runs
 * after the snapshot, so its disks are as the snapshot says), then the
 * domain XML and a trailer after it (khv_saveimage.h); a restore is
 * khv-run --restore on the image itself.  khv-run checks the snapshot
 * against the machine and its disks, and refuses (status 4, its words in
 * the error) whatever does not match.
 *
 * Locking: a save is a job (khv_process.h): it holds the domain's lock
 * except while khv-run writes the snapshot, which takes seconds per
 * gigabyte.  The image files belong to the call that names them.
 */
#include <config.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "datatypes.h"
#include "domain_conf.h"
#include "domain_event.h"
#include "viraccessapicheck.h"
#include "virerror.h"
#include "virfile.h"
#include "virjson.h"
#include "virlog.h"
#include "virprocess.h"

#include "khv_conf.h"
#include "khv_monitor.h"
#include "khv_process.h"
#include "khv_saveimage.h"

#define VIR_FROM_THIS VIR_FROM_NONE

VIR_LOG_INIT("khv.khv_save");

/* ---- the image ---------------------------------------------------------------- */

/*
 * Read the trailer and XML of the image at path (fd open on it): 0, or
 * -1 with an error naming the file.
 */
static int
khvSaveImageReadTail(int fd, const char *path, khvSaveTrailer *t, char **xml)
{
    unsigned char buf[KHV_SAVE_TRAILER_LEN];
    g_autofree char *text = NULL;
    const char *why = NULL;
    struct stat st;

    if (fstat(fd, &st) < 0) {
        virReportSystemError(errno, _("cannot stat save image '%s'"), path);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < KHV_SAVE_TRAILER_LEN) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("'%s': not a save image of a khv domain (too short)"), path);
        return -1;
    }
    if (pread(fd, buf, sizeof(buf), st.st_size - KHV_SAVE_TRAILER_LEN) != sizeof(buf)) {
        virReportSystemError(errno, _("cannot read save image '%s'"), path);
        return -1;
    }
    if (khvSaveTrailerDecode(buf, st.st_size, t, &why) < 0) {
        virReportError(VIR_ERR_OPERATION_FAILED, "'%s': %s", path, why);
        return -1;
    }
    text = g_new0(char, t->xmlLen + 1);
    if (pread(fd, text, t->xmlLen, t->xmlOffset) != (ssize_t)t->xmlLen) {
        virReportSystemError(errno, _("cannot read save image '%s'"), path);
        return -1;
    }
    if (khvSaveXMLCheck(text, t->xmlLen, &why) < 0) {
        virReportError(VIR_ERR_OPERATION_FAILED, "'%s': %s", path, why);
        return -1;
    }
    *xml = g_steal_pointer(&text);
    return 0;
}

/* The domain an image holds (and its trailer): NULL with an error. */
static virDomainDef *
khvSaveImageRead(khvDriver *driver, const char *path, khvSaveTrailer *t)
{
    g_autofree char *xml = NULL;
    VIR_AUTOCLOSE fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        virReportSystemError(errno, _("cannot open save image '%s'"), path);
        return NULL;
    }
    if (khvSaveImageReadTail(fd, path, t, &xml) < 0)
        return NULL;
    return virDomainDefParseString(xml, driver->xmlopt, NULL,
                                   VIR_DOMAIN_DEF_PARSE_INACTIVE);
}

/* Replace what follows the snapshot (at t->xmlOffset) by xml and a trailer. */
static int
khvSaveImageWriteTail(int fd, const char *path, khvSaveTrailer *t, const char *xml)
{
    unsigned char buf[KHV_SAVE_TRAILER_LEN];

    t->version = KHV_SAVE_VERSION;
    t->xmlLen = strlen(xml);
    if (t->xmlLen == 0 || t->xmlLen > KHV_SAVE_XML_MAX) {
        virReportError(VIR_ERR_OPERATION_FAILED, _("the domain XML for '%s' is too long"),
                       path);
        return -1;
    }
    khvSaveTrailerEncode(t, buf);
    if (ftruncate(fd, t->xmlOffset) < 0 ||
        lseek(fd, t->xmlOffset, SEEK_SET) < 0 ||
        safewrite(fd, xml, t->xmlLen) != (ssize_t)t->xmlLen ||
        safewrite(fd, buf, sizeof(buf)) != sizeof(buf) ||
        fsync(fd) < 0) {
        virReportSystemError(errno, _("cannot write save image '%s'"), path);
        return -1;
    }
    return 0;
}

/*
 * The XML an image of vm keeps: dxml when given (the same machine, as
 * libvirt's ABI check has it: a restore needs the same devices), else
 * the running definition as it was defined (no ptys, ports, taps).
 */
static char *
khvSaveXML(khvDriver *driver, virDomainObj *vm, const char *dxml)
{
    unsigned int fmt = VIR_DOMAIN_DEF_FORMAT_SECURE | VIR_DOMAIN_DEF_FORMAT_INACTIVE;
    g_autoptr(virDomainDef) def = NULL;

    if (!dxml)
        return virDomainDefFormat(vm->def, driver->xmlopt, fmt);
    if (!(def = virDomainDefParseString(dxml, driver->xmlopt, NULL,
                                        VIR_DOMAIN_DEF_PARSE_INACTIVE)))
        return NULL;
    if (!virDomainDefCheckABIStability(vm->def, def, driver->xmlopt))
        return NULL;
    return virDomainDefFormat(def, driver->xmlopt, fmt);
}

/* ---- save ------------------------------------------------------------------- */

/*
 * khv-run has quit after a save, or failed one: the domain shut off
 * (saved); or failed when khv-run quit after its snapshot but the image
 * could not be finished; or running on as before with its events watched
 * again; or crashed (khv-run ended without saving).
 */
static void
khvSaveEnd(khvDriver *driver, virDomainObj *vm, pid_t pid, bool saved, bool snapshot)
{
    if (!virDomainObjIsActive(vm) || vm->pid != pid)
        return;         /* destroyed while it saved: its call said so */
    if (saved || snapshot) {
        khvProcessStop(driver, vm, saved ? VIR_DOMAIN_SHUTOFF_SAVED :
                       VIR_DOMAIN_SHUTOFF_FAILED);
        khvQueueLifecycle(driver, vm, VIR_DOMAIN_EVENT_STOPPED,
                          saved ? VIR_DOMAIN_EVENT_STOPPED_SAVED :
                          VIR_DOMAIN_EVENT_STOPPED_FAILED);
        return;
    }
    if (virProcessKill(pid, 0) == 0 && khvProcessWatch(vm, 5000) == 0)
        return;
    virResetLastError();
    khvProcessStop(driver, vm, VIR_DOMAIN_SHUTOFF_CRASHED);
    khvQueueLifecycle(driver, vm, VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_FAILED);
}

/*
 * Save vm (locked, running) to path: khv-run writes its snapshot to
 * PATH.part and quits, the XML and trailer follow, PATH.part becomes
 * PATH.  The domain is then shut off (saved); a failure leaves it as it
 * was and no file behind.
 */
static int
khvDoSave(khvDriver *driver, virDomainObj *vm, const char *path, const char *dxml,
          unsigned int flags)
{
    khvDomainObjPrivate *priv = vm->privateData;
    g_autoptr(virJSONValue) args = NULL;
    g_autofree char *part = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *ctl = NULL;
    khvSaveTrailer t = { 0 };
    VIR_AUTOCLOSE fd = -1;
    bool snapshot;              /* khv-run wrote it and quits */
    bool saved = false;
    pid_t pid;
    int rc;

    if (khvCheckActive(vm) < 0 || !(xml = khvSaveXML(driver, vm, dxml)))
        return -1;
    if (virDomainObjGetState(vm, NULL) == VIR_DOMAIN_RUNNING)
        t.flags |= KHV_SAVE_RUNNING;
    if (flags & VIR_DOMAIN_SAVE_RUNNING)
        t.flags |= KHV_SAVE_RUNNING;
    else if (flags & VIR_DOMAIN_SAVE_PAUSED)
        t.flags &= ~KHV_SAVE_RUNNING;
    if (khvJobBegin(vm, KHV_JOB_SAVE) < 0)
        return -1;
    part = g_strdup_printf("%s.part", path);
    ctl = g_strdup(priv->ctlPath);
    pid = vm->pid;
    if (virJSONValueObjectAdd(&args, "s:file", part, "b:quit", true, NULL) < 0) {
        khvJobEnd(vm);
        return -1;
    }
    /* The job reads khv-run's end itself (it quits once saved). */
    khvMonitorClose(priv->mon);
    priv->mon = NULL;
    virObjectUnlock(vm);
    rc = khvMonitorCommandTimeout(ctl, "snapshot-save", g_steal_pointer(&args), NULL,
                                  KHV_MONITOR_SAVE_TIMEOUT_MS);
    snapshot = rc == 0;
    if (rc == 0) {
        fd = open(part, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            virReportSystemError(errno, _("cannot open save image '%s'"), part);
        rc = fd < 0 ? -1 : 0;
    }
    if (rc == 0) {
        struct stat st;

        if (fstat(fd, &st) < 0) {
            virReportSystemError(errno, _("cannot stat save image '%s'"), part);
            rc = -1;
        }
        t.xmlOffset = rc == 0 ? st.st_size : 0;
    }
    if (rc == 0)
        rc = khvSaveImageWriteTail(fd, part, &t, xml);
    if (rc == 0 && rename(part, path) < 0) {
        virReportSystemError(errno, _("cannot rename '%s' to '%s'"), part, path);
        rc = -1;
    }
    saved = rc == 0;
    virObjectLock(vm);
    if (!virDomainObjIsActive(vm) || vm->pid != pid) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("domain %s was destroyed while it was being saved"), vm->def->name);
        saved = false;
        if (rc == 0)
            unlink(path);
        rc = -1;
    }
    if (!saved && snapshot && virDomainObjIsActive(vm) && vm->pid == pid) {
        /*
         * khv-run wrote the whole snapshot and quit: the guest lives only
         * in PATH.part now, which khv-run --restore reads as it is.  Kept,
         * and said so, rather than deleted with the guest in it.
         */
        virErrorPtr orig;
        const char *why;

        virErrorPreserveLast(&orig);
        why = orig && orig->message ? orig->message : "";
        if (STRPREFIX(why, "operation failed: "))
            why += strlen("operation failed: ");
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("%s; the guest's snapshot is kept in '%s' (khv-run --restore "
                         "reads it)"), why, part);
        virFreeError(orig);
    } else if (!saved) {
        unlink(part);
    }
    {
        virErrorPtr orig;

        virErrorPreserveLast(&orig);
        khvSaveEnd(driver, vm, pid, saved, snapshot);
        virErrorRestore(&orig);
    }
    khvJobEnd(vm);
    return rc;
}

int
khvDomainSaveFlags(virDomainPtr domain, const char *path, const char *dxml,
                   unsigned int flags)
{
    khvDriver *driver = domain->conn->privateData;
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED, -1);
    if ((flags & VIR_DOMAIN_SAVE_RUNNING) && (flags & VIR_DOMAIN_SAVE_PAUSED)) {
        virReportError(VIR_ERR_INVALID_ARG, "%s",
                       _("--running and --paused are mutually exclusive"));
        return -1;
    }
    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainSaveFlagsEnsureACL(domain->conn, vm->def) < 0)
        goto cleanup;
    if (khvDoSave(driver, vm, path, dxml, flags) < 0)
        goto cleanup;
    khvProcessEndTransient(driver, vm);
    domain->id = -1;
    ret = 0;

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}

int
khvDomainSave(virDomainPtr domain, const char *path)
{
    return khvDomainSaveFlags(domain, path, NULL, 0);
}

/* ---- restore ---------------------------------------------------------------- */

/*
 * Start vm (locked, shut off, its definition the image's) from the image
 * at path: running or paused as saved unless flags say.
 */
static int
khvStartFromImage(khvDriver *driver, virDomainObj *vm, const char *path,
                  const khvSaveTrailer *t, unsigned int flags)
{
    bool paused = !(t->flags & KHV_SAVE_RUNNING);

    if (flags & VIR_DOMAIN_SAVE_RUNNING)
        paused = false;
    else if (flags & VIR_DOMAIN_SAVE_PAUSED)
        paused = true;
    return khvStartWithEvents(driver, vm, path, paused);
}

int
khvDomainRestoreFlags(virConnectPtr conn, const char *path, const char *dxml,
                      unsigned int flags)
{
    khvDriver *driver = conn->privateData;
    g_autoptr(virDomainDef) def = NULL;
    virDomainObj *vm = NULL;
    khvSaveTrailer t;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED, -1);
    if (!(def = khvSaveImageRead(driver, path, &t)))
        return -1;
    if (virDomainRestoreFlagsEnsureACL(conn, def) < 0)
        return -1;
    if (dxml) {
        g_autoptr(virDomainDef) alt = virDomainDefParseString(dxml, driver->xmlopt, NULL,
                                                              VIR_DOMAIN_DEF_PARSE_INACTIVE);

        if (!alt || !virDomainDefCheckABIStability(def, alt, driver->xmlopt))
            return -1;
        virDomainDefFree(def);
        def = g_steal_pointer(&alt);
    }
    if (!(vm = khvDomainAddLive(driver, &def)))
        return -1;
    if (khvStartFromImage(driver, vm, path, &t, flags) < 0) {
        khvProcessEndTransient(driver, vm);
        goto cleanup;
    }
    ret = 0;

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}

int
khvDomainRestore(virConnectPtr conn, const char *path)
{
    return khvDomainRestoreFlags(conn, path, NULL, 0);
}

char *
khvDomainSaveImageGetXMLDesc(virConnectPtr conn, const char *path, unsigned int flags)
{
    khvDriver *driver = conn->privateData;
    g_autoptr(virDomainDef) def = NULL;
    khvSaveTrailer t;

    virCheckFlags(VIR_DOMAIN_SAVE_IMAGE_XML_SECURE, NULL);
    if (!(def = khvSaveImageRead(driver, path, &t)))
        return NULL;
    if (virDomainSaveImageGetXMLDescEnsureACL(conn, def) < 0)
        return NULL;
    return virDomainDefFormat(def, driver->xmlopt, VIR_DOMAIN_DEF_FORMAT_INACTIVE |
                              ((flags & VIR_DOMAIN_SAVE_IMAGE_XML_SECURE) ?
                               VIR_DOMAIN_DEF_FORMAT_SECURE : 0));
}

/*
 * A new XML (the same machine) and running/paused flag for an image,
 * rewritten in place after the snapshot.
 */
static int
khvSaveImageDefine(khvDriver *driver, const char *path, const char *dxml, unsigned int flags,
                   virConnectPtr conn, int (*acl)(virConnectPtr conn, virDomainDef *def))
{
    g_autoptr(virDomainDef) def = NULL;
    g_autoptr(virDomainDef) alt = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *old = NULL;
    khvSaveTrailer t;
    VIR_AUTOCLOSE fd = -1;

    virCheckFlags(VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED, -1);
    if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
        virReportSystemError(errno, _("cannot open save image '%s'"), path);
        return -1;
    }
    if (khvSaveImageReadTail(fd, path, &t, &old) < 0 ||
        !(def = virDomainDefParseString(old, driver->xmlopt, NULL,
                                        VIR_DOMAIN_DEF_PARSE_INACTIVE)))
        return -1;
    if (acl(conn, def) < 0)
        return -1;
    if (!(alt = virDomainDefParseString(dxml, driver->xmlopt, NULL,
                                        VIR_DOMAIN_DEF_PARSE_INACTIVE)) ||
        !virDomainDefCheckABIStability(def, alt, driver->xmlopt) ||
        !(xml = virDomainDefFormat(alt, driver->xmlopt, VIR_DOMAIN_DEF_FORMAT_SECURE |
                                   VIR_DOMAIN_DEF_FORMAT_INACTIVE)))
        return -1;
    if (flags & VIR_DOMAIN_SAVE_RUNNING)
        t.flags |= KHV_SAVE_RUNNING;
    else if (flags & VIR_DOMAIN_SAVE_PAUSED)
        t.flags &= ~KHV_SAVE_RUNNING;
    return khvSaveImageWriteTail(fd, path, &t, xml);
}

int
khvDomainSaveImageDefineXML(virConnectPtr conn, const char *path, const char *dxml,
                            unsigned int flags)
{
    return khvSaveImageDefine(conn->privateData, path, dxml, flags, conn,
                              virDomainSaveImageDefineXMLEnsureACL);
}

/* ---- managed save ----------------------------------------------------------- */

static char *
khvManagedSavePath(khvDriver *driver, virDomainObj *vm)
{
    return g_strdup_printf("%s/%s.save", driver->saveDir, vm->def->name);
}

int
khvDomainManagedSave(virDomainPtr domain, unsigned int flags)
{
    khvDriver *driver = domain->conn->privateData;
    g_autofree char *path = NULL;
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED, -1);
    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainManagedSaveEnsureACL(domain->conn, vm->def) < 0)
        goto cleanup;
    if (!vm->persistent) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("cannot do managed save for transient domain"));
        goto cleanup;
    }
    path = khvManagedSavePath(driver, vm);
    if (khvDoSave(driver, vm, path, NULL, flags) < 0)
        goto cleanup;
    vm->hasManagedSave = true;
    domain->id = -1;
    ret = 0;

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}

int
khvDomainHasManagedSaveImage(virDomainPtr domain, unsigned int flags)
{
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(0, -1);
    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainHasManagedSaveImageEnsureACL(domain->conn, vm->def) == 0)
        ret = vm->hasManagedSave;
    virDomainObjEndAPI(&vm);
    return ret;
}

int
khvManagedSaveRemove(khvDriver *driver, virDomainObj *vm)
{
    g_autofree char *path = khvManagedSavePath(driver, vm);

    if (unlink(path) < 0 && errno != ENOENT) {
        virReportSystemError(errno, _("cannot remove managed save image '%s'"), path);
        return -1;
    }
    vm->hasManagedSave = false;
    return 0;
}

int
khvDomainManagedSaveRemove(virDomainPtr domain, unsigned int flags)
{
    khvDriver *driver = domain->conn->privateData;
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(0, -1);
    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainManagedSaveRemoveEnsureACL(domain->conn, vm->def) == 0)
        ret = khvManagedSaveRemove(driver, vm);
    virDomainObjEndAPI(&vm);
    return ret;
}

/* The domain's managed save image, or an error when it has none. */
static char *
khvManagedSaveImage(khvDriver *driver, virDomainObj *vm)
{
    if (!vm->hasManagedSave) {
        virReportError(VIR_ERR_NO_DOMAIN_SNAPSHOT, _("domain %s has no managed save image"),
                       vm->def->name);
        return NULL;
    }
    return khvManagedSavePath(driver, vm);
}

char *
khvDomainManagedSaveGetXMLDesc(virDomainPtr domain, unsigned int flags)
{
    khvDriver *driver = domain->conn->privateData;
    g_autoptr(virDomainDef) def = NULL;
    g_autofree char *path = NULL;
    virDomainObj *vm;
    khvSaveTrailer t;
    char *ret = NULL;

    virCheckFlags(VIR_DOMAIN_SAVE_IMAGE_XML_SECURE, NULL);
    if (!(vm = khvDomObjFromDomain(domain)))
        return NULL;
    if (virDomainManagedSaveGetXMLDescEnsureACL(domain->conn, vm->def, flags) < 0 ||
        !(path = khvManagedSaveImage(driver, vm)) ||
        !(def = khvSaveImageRead(driver, path, &t)))
        goto cleanup;
    ret = virDomainDefFormat(def, driver->xmlopt, VIR_DOMAIN_DEF_FORMAT_INACTIVE |
                             ((flags & VIR_DOMAIN_SAVE_IMAGE_XML_SECURE) ?
                              VIR_DOMAIN_DEF_FORMAT_SECURE : 0));
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}

static int
khvNoACL(virConnectPtr conn G_GNUC_UNUSED, virDomainDef *def G_GNUC_UNUSED)
{
    return 0;   /* checked on the domain by the caller */
}

int
khvDomainManagedSaveDefineXML(virDomainPtr domain, const char *dxml, unsigned int flags)
{
    khvDriver *driver = domain->conn->privateData;
    g_autofree char *path = NULL;
    virDomainObj *vm;
    int ret = -1;

    if (!(vm = khvDomObjFromDomain(domain)))
        return -1;
    if (virDomainManagedSaveDefineXMLEnsureACL(domain->conn, vm->def) == 0 &&
        (path = khvManagedSaveImage(driver, vm)))
        ret = khvSaveImageDefine(driver, path, dxml, flags, domain->conn, khvNoACL);
    virDomainObjEndAPI(&vm);
    return ret;
}

int
khvManagedSaveStart(khvDriver *driver, virDomainObj *vm, unsigned int flags)
{
    g_autoptr(virDomainDef) def = NULL;
    g_autofree char *path = khvManagedSavePath(driver, vm);
    khvSaveTrailer t;

    if (flags & VIR_DOMAIN_START_FORCE_BOOT)
        return khvManagedSaveRemove(driver, vm) < 0 ? -1 : 1;
    if (!vm->hasManagedSave)
        return 1;
    if (!(def = khvSaveImageRead(driver, path, &t)))
        return -1;
    if (!virDomainDefCheckABIStability(vm->def, def, driver->xmlopt)) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       _("domain %s changed since its managed save (start with "
                         "--force-boot to boot it, dropping the image)"), vm->def->name);
        return -1;
    }
    if (khvStartFromImage(driver, vm, path,  &t,
                          (flags & VIR_DOMAIN_START_PAUSED) ? VIR_DOMAIN_SAVE_PAUSED : 0) < 0)
        return -1;
    /* Running from it: the image is spent (the guest has written its disks since). */
    if (khvManagedSaveRemove(driver, vm) < 0)
        VIR_WARN("managed save image of %s left behind", vm->def->name);
    return 0;
}

static int
khvManagedSaveFind(virDomainObj *vm, void *opaque)
{
    khvDriver *driver = opaque;
    g_autofree char *path = NULL;

    virObjectLock(vm);
    path = khvManagedSavePath(driver, vm);
    vm->hasManagedSave = virFileExists(path);
    virObjectUnlock(vm);
    return 0;
}

void
khvManagedSaveFindAll(khvDriver *driver)
{
    virDomainObjListForEach(driver->domains, false, khvManagedSaveFind, driver);
}
