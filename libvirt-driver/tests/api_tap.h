/* SPDX-License-Identifier: GPL-2.0 */
/*
 * api_tap.h: what the API test programs share: TAP lines with libvirt's
 * last error on a failure, and an error handler that keeps libvirt from
 * printing each expected error on stderr.
 */
#ifndef KHV_LIBVIRT_API_TAP_H
#define KHV_LIBVIRT_API_TAP_H

#include <stdio.h>

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
	fflush(stdout);
}

static void quiet(void *data, virErrorPtr e)
{
	(void)data;
	(void)e;
}

#endif
