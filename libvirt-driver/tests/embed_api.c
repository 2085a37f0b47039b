// SPDX-License-Identifier: GPL-2.0
/*
 * embed_api: the driver's connection calls through libvirt's public API,
 * built with ASan and UBSan like the module it loads (make check), so the
 * driver's code runs instrumented.  virsh cannot be used for that: with
 * the sanitizers preloaded, it deadlocks in p11-kit's exit handler
 * (freelocale under the setlocale lock).  This program leaves with _exit()
 * for the same reason, after checking everything.  TAP on stdout.
 *
 * Usage: LIBVIRT_DRIVER_DIR=<module dir> embed_api <root dir>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static int n, failed;

static void ok(int cond, const char *what)
{
	n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n, what);
	if (!cond) {
		virErrorPtr e = virGetLastError();

		printf("# last libvirt error: %s\n", e && e->message ? e->message : "none");
		failed = 1;
	}
}

static void quiet(void *data, virErrorPtr e)
{
	(void)data;
	(void)e;
}

int main(int argc, char **argv)
{
	char uri[2048], other[4096];
	virConnectPtr c, c2;
	virDomainPtr *doms = NULL;
	virNodeInfo info;
	unsigned long ver = 0;
	const char *type;
	char *s;
	int r;

	if (argc != 2 || strlen(argv[1]) > 1000) {
		fprintf(stderr, "usage: embed_api <root dir>\n");
		return 2;
	}
	virSetErrorFunc(NULL, quiet);
	/* Embedded drivers need an event loop registered (libvirt checks). */
	if (virEventRegisterDefaultImpl() < 0)
		return 2;
	snprintf(uri, sizeof(uri), "khv:///embed?root=%s", argv[1]);
	snprintf(other, sizeof(other), "%s-other", uri);
	printf("1..10\n");
	c = virConnectOpen(uri);
	ok(c != NULL, "virConnectOpen of the embedded URI");
	if (!c) {
		fflush(stdout);
		_exit(1);
	}
	type = virConnectGetType(c);
	ok(type && !strcmp(type, "KHV"), "virConnectGetType: KHV");
	ok(virConnectGetVersion(c, &ver) == 0 && ver == 1000, "virConnectGetVersion: 0.1.0");
	s = virConnectGetHostname(c);
	ok(s && *s, "virConnectGetHostname");
	free(s);
	s = virConnectGetCapabilities(c);
	ok(s && strstr(s, "<domain type='kvm'/>") && strstr(s, "<os_type>hvm</os_type>"),
	   "virConnectGetCapabilities: hvm guests of type kvm");
	free(s);
	ok(virNodeGetInfo(c, &info) == 0 && info.cpus == (unsigned int)sysconf(_SC_NPROCESSORS_ONLN),
	   "virNodeGetInfo: the host's CPUs");
	ok(virConnectGetMaxVcpus(c, "kvm") == 64, "virConnectGetMaxVcpus(kvm): 64");
	ok(virConnectGetMaxVcpus(c, "qemu") == -1, "virConnectGetMaxVcpus(qemu): refused");
	r = virConnectListAllDomains(c, &doms, 0);
	ok(r == 0, "virConnectListAllDomains: none yet");
	free(doms);
	c2 = virConnectOpen(other);
	ok(c2 == NULL, "a second embedded root in the same process is refused");
	if (c2)
		virConnectClose(c2);
	virConnectClose(c);
	fflush(stdout);
	_exit(failed);
}
