/* SPDX-License-Identifier: GPL-2.0 */
/* khv_driver.h: the entry point libvirt's module loader calls. */
#pragma once

#include "../uapi/linux/khv.h"	/* KHV_MAX_VCPUS */

/* khv's version as libvirt reports it (virsh version: "KHV 0.1.0"). */
#define KHV_VERSION_MAJOR	0
#define KHV_VERSION_MINOR	1
#define KHV_VERSION_MICRO	0

/* khv-run's limits (tools/khv-run: KR_MAX_NETS, KR_DISK_SERIAL_MAX). */
#define KHV_MAX_NETS		4
#define KHV_DISK_SERIAL_MAX	20
#define KHV_VIDEO_VRAM_KIB	16384	/* khv-run's display adapter: 16 MiB */

/* khv-run, the VMM each domain runs in (the Makefile sets it). */
#ifndef KHV_RUN_BIN
# define KHV_RUN_BIN		"/usr/local/bin/khv-run"
#endif

/* libvirt_driver_khv.so: registers the connection and state drivers. */
int khvRegister(void);
