// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle_api: running domains through libvirt's API, the driver
 * embedded and khv-run played by tests/fake-khv-run, the program and the
 * module built with ASan and UBSan (why not virsh: embed_api.c).  What
 * virsh cannot check reliably is here: lifecycle events, with the
 * callback registered before the call that causes them, and the console
 * stream both ways.  TAP on stdout; leaves with _exit() as embed_api does.
 *
 * Usage: LIBVIRT_DRIVER_DIR=<module dir> lifecycle_api <root dir> <fake-khv-run>
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "api_tap.h"

/* ---- events: the loop on its own thread, what arrived in a list -------- */

#define MAX_EVENTS 64
#define EV_REBOOT  -1	/* "type" of a reboot event */

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { int type, detail; } events[MAX_EVENTS];
static int n_events;

static void record(int type, int detail)
{
	pthread_mutex_lock(&ev_lock);
	if (n_events < MAX_EVENTS) {
		events[n_events].type = type;
		events[n_events].detail = detail;
		n_events++;
	}
	pthread_mutex_unlock(&ev_lock);
}

static int on_lifecycle(virConnectPtr c, virDomainPtr d, int type, int detail, void *opaque)
{
	(void)c, (void)d, (void)opaque;
	record(type, detail);
	return 0;
}

static void on_reboot(virConnectPtr c, virDomainPtr d, void *opaque)
{
	(void)c, (void)d, (void)opaque;
	record(EV_REBOOT, 0);
}

static void *event_loop(void *arg)
{
	(void)arg;
	for (;;)
		virEventRunDefaultImpl();
	return NULL;
}

/* Wait up to 10 s for an event of type/detail since *seen; advances *seen. */
static int wait_event(int type, int detail, int *seen)
{
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&ev_lock);
		for (; *seen < n_events; (*seen)++) {
			if (events[*seen].type == type && events[*seen].detail == detail) {
				(*seen)++;
				pthread_mutex_unlock(&ev_lock);
				return 1;
			}
		}
		pthread_mutex_unlock(&ev_lock);
		usleep(10000);
	}
	return 0;
}

/* The process has ended (or ends within 10 s: the CPUs may be busy). */
static int ended(pid_t pid)
{
	for (int i = 0; i < 1000 && kill(pid, 0) == 0; i++)
		usleep(10000);
	return kill(pid, 0) != 0;
}

static int state_is(virDomainPtr d, int want, int want_reason)
{
	int state = -1, reason = -1;

	return virDomainGetState(d, &state, &reason, 0) == 0 && state == want &&
	       reason == want_reason;
}

/* Read the stream until text arrives (1: it did). */
static int stream_expect(virStreamPtr st, const char *text)
{
	char got[4096];
	size_t len = 0;

	while (len < sizeof(got) - 1) {
		int r = virStreamRecv(st, got + len, sizeof(got) - 1 - len);

		if (r <= 0)
			return 0;
		len += r;
		got[len] = 0;
		if (strstr(got, text))
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char uri[2048], xml[4096];
	virDomainInterfacePtr *ifaces = NULL;
	virConnectPtr c;
	virDomainPtr d;
	virStreamPtr st;
	pthread_t loop;
	int seen = 0, cb_life, cb_reboot;
	unsigned int id;
	char img[1100], *saved_xml;
	virTypedParameterPtr jparams = NULL;
	int jtype = -1, njparams = 0;

	if (argc != 3 || strlen(argv[1]) > 1000 || strlen(argv[2]) > 1000) {
		fprintf(stderr, "usage: lifecycle_api <root dir> <fake-khv-run>\n");
		return 2;
	}
	virSetErrorFunc(NULL, quiet);
	if (virEventRegisterDefaultImpl() < 0 || pthread_create(&loop, NULL, event_loop, NULL))
		return 2;
	snprintf(uri, sizeof(uri), "khv:///embed?root=%s", argv[1]);
	snprintf(xml, sizeof(xml),
		 "<domain type='kvm'><name>apivm</name><memory unit='MiB'>64</memory>"
		 "<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type><kernel>/boot/vmlinuz</kernel>"
		 "</os><devices><emulator>%s</emulator><serial type='pty'/>"
		 "<disk type='file' device='disk'><source file='/dev/null'/>"
		 "<target dev='vda' bus='virtio'/></disk></devices></domain>",
		 argv[2]);
	printf("1..34\n");
	c = virConnectOpen(uri);
	ok(c != NULL, "virConnectOpen of the embedded URI");
	if (!c) {
		fflush(stdout);
		_exit(1);
	}
	cb_life = virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
						   VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
						   NULL, NULL);
	cb_reboot = virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_REBOOT,
						     VIR_DOMAIN_EVENT_CALLBACK(on_reboot),
						     NULL, NULL);
	ok(cb_life >= 0 && cb_reboot >= 0, "virConnectDomainEventRegisterAny: lifecycle, reboot");

	d = virDomainDefineXML(c, xml);
	ok(d && virDomainCreate(d) == 0, "virDomainDefineXML, virDomainCreate");
	if (!d) {
		fflush(stdout);
		_exit(1);
	}
	ok(wait_event(VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED, &seen),
	   "event: started/booted");
	id = virDomainGetID(d);
	ok(id != (unsigned int)-1 && kill(id, 0) == 0, "virDomainGetID: khv-run's pid");

	{
		virDomainStatsRecordPtr *recs = NULL;
		virDomainBlockStatsStruct bs;
		virVcpuInfo vcpu;
		virDomainInfo info;
		unsigned long long wr = 0;
		int nrec;

		ok(virDomainGetInfo(d, &info) == 0 && info.cpuTime > 0,
		   "virDomainGetInfo: khv-run's CPU time");
		ok(virDomainGetVcpus(d, &vcpu, 1, NULL, 0) == 1 && vcpu.number == 0 &&
		   vcpu.state == VIR_VCPU_RUNNING, "virDomainGetVcpus: vCPU 0 running");
		ok(virDomainBlockStats(d, "vda", &bs, sizeof(bs)) == 0 && bs.rd_req == 1 &&
		   bs.wr_bytes == 4096, "virDomainBlockStats(vda): khv-run's counters");
		nrec = virConnectGetAllDomainStats(c, 0, &recs, 0);
		if (nrec == 1)
			virTypedParamsGetULLong(recs[0]->params, recs[0]->nparams,
						"block.0.wr.bytes", &wr);
		ok(nrec == 1 && wr == 4096,
		   "virConnectGetAllDomainStats: one record, its block group");
		if (recs)
			virDomainStatsRecordListFree(recs);
		ok(virDomainInterfaceAddresses(d, &ifaces, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE,
					       0) == 0,
		   "virDomainInterfaceAddresses, leases: no interface, no address");
		nrec = virDomainInterfaceAddresses(d, &ifaces, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP, 0);
		ok(nrec == 0, "virDomainInterfaceAddresses, ARP: no interface, no address");
		if (nrec < 0)
			printf("# %s\n", virGetLastErrorMessage());
		ok(virDomainInterfaceAddresses(d, &ifaces, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT,
					       0) == -1 &&
		   virGetLastErrorCode() == VIR_ERR_OPERATION_UNSUPPORTED,
		   "virDomainInterfaceAddresses, agent: refused, no guest agent");
	}

	st = virStreamNew(c, 0);
	ok(st && virDomainOpenConsole(d, NULL, st, 0) == 0, "virDomainOpenConsole (COM1)");
	ok(st && stream_expect(st, "serial0 ready"), "the console shows what the guest wrote");
	ok(st && virStreamSend(st, "hello khv\r", 10) == 10 && stream_expect(st, "echo: hello khv"),
	   "what is typed reaches the guest (its echo comes back)");
	if (st) {
		virStreamFinish(st);
		virStreamFree(st);
	}

	ok(virDomainReset(d, 0) == 0 && wait_event(EV_REBOOT, 0, &seen),
	   "virDomainReset: a reboot event");
	ok(virDomainSuspend(d) == 0 && state_is(d, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER) &&
	   wait_event(VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_PAUSED, &seen),
	   "virDomainSuspend: paused (user), event suspended/paused");
	ok(virDomainResume(d) == 0 && state_is(d, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_UNPAUSED) &&
	   wait_event(VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_UNPAUSED, &seen),
	   "virDomainResume: running (unpaused), event resumed/unpaused");
	/* khv-run's late STOP/RESUME events must not undo the state. */
	usleep(300000);
	ok(state_is(d, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_UNPAUSED),
	   "still running once khv-run's own events have come");

	ok(virDomainShutdown(d) == 0 &&
	   wait_event(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN, &seen) &&
	   state_is(d, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SHUTDOWN),
	   "virDomainShutdown: the guest powers off, event stopped/shutdown, shut off (shutdown)");
	ok(ended(id), "khv-run has ended");

	ok(virDomainCreate(d) == 0 &&
	   wait_event(VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED, &seen),
	   "started again");
	id = virDomainGetID(d);
	ok(id != (unsigned int)-1 && kill(id, SIGKILL) == 0 &&
	   wait_event(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_FAILED, &seen) &&
	   state_is(d, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED),
	   "khv-run killed: event stopped/failed, shut off (crashed)");

	/* Save and restore, managed save: their events and states. */
	snprintf(img, sizeof(img), "%s/api.sav", argv[1]);
	ok(virDomainCreate(d) == 0 && virDomainSave(d, img) == 0 &&
	   wait_event(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SAVED, &seen) &&
	   state_is(d, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SAVED),
	   "virDomainSave: event stopped/saved, shut off (saved)");
	saved_xml = virDomainSaveImageGetXMLDesc(c, img, 0);
	ok(saved_xml && strstr(saved_xml, "<name>apivm</name>"), "virDomainSaveImageGetXMLDesc");
	free(saved_xml);
	ok(virDomainRestoreFlags(c, img, NULL, VIR_DOMAIN_SAVE_PAUSED) == 0 &&
	   wait_event(VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_RESTORED, &seen) &&
	   wait_event(VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_RESTORED, &seen) &&
	   state_is(d, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER),
	   "virDomainRestoreFlags(PAUSED): events started/restored, suspended/restored");
	ok(virDomainGetJobStats(d, &jtype, &jparams, &njparams, 0) == 0 &&
	   jtype == VIR_DOMAIN_JOB_NONE && njparams == 0 && virDomainAbortJob(d) == -1 &&
	   virGetLastErrorCode() == VIR_ERR_OPERATION_INVALID,
	   "virDomainGetJobStats: no job; virDomainAbortJob: refused");
	virTypedParamsFree(jparams, njparams);
	ok(virDomainManagedSave(d, 0) == 0 && virDomainHasManagedSaveImage(d, 0) == 1 &&
	   wait_event(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SAVED, &seen),
	   "virDomainManagedSave: an image, event stopped/saved");
	ok(virDomainCreate(d) == 0 && virDomainHasManagedSaveImage(d, 0) == 0 &&
	   wait_event(VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_RESTORED, &seen) &&
	   state_is(d, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER),
	   "virDomainCreate: restored from the managed image (paused as saved), the image spent");
	ok(virDomainResume(d) == 0 && virDomainDestroy(d) == 0, "resumed, destroyed");

	ok(virDomainCreate(d) == 0 && virDomainDestroy(d) == 0 &&
	   wait_event(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_DESTROYED, &seen) &&
	   state_is(d, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DESTROYED),
	   "virDomainDestroy: event stopped/destroyed, shut off (destroyed)");
	ok(virDomainInterfaceAddresses(d, &ifaces, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP, 0) == -1 &&
	   virGetLastErrorCode() == VIR_ERR_OPERATION_INVALID,
	   "virDomainInterfaceAddresses of a domain shut off: refused");
	ok(virDomainUndefine(d) == 0, "virDomainUndefine");
	virDomainFree(d);
	ok(virConnectDomainEventDeregisterAny(c, cb_life) == 0 &&
	   virConnectDomainEventDeregisterAny(c, cb_reboot) == 0,
	   "virConnectDomainEventDeregisterAny");
	virConnectClose(c);
	fflush(stdout);
	_exit(failed);
}
