// SPDX-License-Identifier: GPL-2.0
/*
 * embed_api: the driver's connection calls through libvirt's public API,
 * built with ASan and UBSan like the module it loads (make check), so the
 * driver's code runs instrumented.  virsh cannot be used for that: with
 * the sanitizers preloaded, it deadlocks in p11-kit's exit handler
 * (freelocale under the setlocale lock).  This program leaves with _exit()
 * for the same reason, after checking everything.  TAP on stdout.
 *
 * Usage: LIBVIRT_DRIVER_DIR=<module dir> embed_api <root dir> <domain XML>
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "api_tap.h"

/* The whole file, NUL-terminated; NULL if unreadable. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = calloc(1, len + 1)) && fread(buf, 1, len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* A copy of s with the first `from` replaced by `to`; NULL if none. */
static char *replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	size_t len;
	char *r;

	if (!p)
		return NULL;
	len = strlen(s) - strlen(from) + strlen(to);
	r = malloc(len + 1);
	if (!r)
		return NULL;
	snprintf(r, len + 1, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	return r;
}

int main(int argc, char **argv)
{
	char uri[2048], other[4096];
	virConnectPtr c, c2;
	virDomainPtr *doms = NULL;
	virDomainPtr d;
	virDomainInfo dinfo;
	char *xml, *bad;
	virNodeInfo info;
	unsigned long ver = 0;
	const char *type;
	char *s;
	int r;

	if (argc != 3 || strlen(argv[1]) > 1000 || !(xml = slurp(argv[2]))) {
		fprintf(stderr, "usage: embed_api <root dir> <domain XML>\n");
		return 2;
	}
	virSetErrorFunc(NULL, quiet);
	/* Embedded drivers need an event loop registered (libvirt checks). */
	if (virEventRegisterDefaultImpl() < 0)
		return 2;
	snprintf(uri, sizeof(uri), "khv:///embed?root=%s", argv[1]);
	snprintf(other, sizeof(other), "%s-other", uri);
	printf("1..17\n");
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
	d = virDomainDefineXML(c, xml);
	ok(d != NULL, "virDomainDefineXML of tests/xml/minimal.xml");
	if (d) {
		s = virDomainGetXMLDesc(d, 0);
		ok(s && strstr(s, "<name>khv-minimal</name>"), "virDomainGetXMLDesc");
		free(s);
		ok(virDomainGetInfo(d, &dinfo) == 0 && dinfo.state == VIR_DOMAIN_SHUTOFF &&
		   dinfo.nrVirtCpu == 2 && dinfo.maxMem == 262144, "virDomainGetInfo: shut off, 2 vCPUs");
		ok(virDomainUndefine(d) == 0, "virDomainUndefine");
		virDomainFree(d);
	}
	d = virDomainLookupByName(c, "khv-minimal");
	ok(d == NULL, "virDomainLookupByName after undefine: none");
	if (d)
		virDomainFree(d);
	bad = replace(xml, "type='raw'", "type='vmdk'");
	d = bad ? virDomainDefineXML(c, bad) : NULL;
	ok(bad && !d && strstr(virGetLastErrorMessage(), "<disk><driver type='vmdk'>"),
	   "a vmdk disk is refused, the error naming it");
	free(bad);
	d = virDomainDefineXML(c, "<domain type='kvm'><name>x</name>");
	ok(d == NULL, "malformed XML is refused");
	c2 = virConnectOpen(other);
	ok(c2 == NULL, "a second embedded root in the same process is refused");
	if (c2)
		virConnectClose(c2);
	virConnectClose(c);
	free(xml);
	fflush(stdout);
	_exit(failed);
}
