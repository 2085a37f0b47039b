/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The part of core/khv.h that vmx/vmx.h and vmx/vmx_caps.c use, for the
 * userspace harness.  vmx.h names the real header as "../core/khv.h",
 * which the compiler finds beside vmx.h whatever the include path says: the
 * test includes this one first, and its guard (the same as the real one's)
 * makes the real header expand to nothing.
 */
#ifndef KHV_CORE_KHV_H
#define KHV_CORE_KHV_H

#include "../shim.h"

/* Same order as core/khv.h: keep in sync (vmx_seg_index() relies on it). */
enum khv_seg {
	KHV_SEG_ES, KHV_SEG_CS, KHV_SEG_SS, KHV_SEG_DS, KHV_SEG_FS, KHV_SEG_GS,
	KHV_SEG_TR, KHV_SEG_LDTR,
};

struct khv_segment;
struct khv_sregs;

/* struct vmx_vcpu embeds one: any complete type will do here. */
struct khv_vcpu {
	int unused;
};

/* core/cpuid.c: here, shim.c returns what the test set. */
u64 khv_cr4_supported(void);

#endif /* KHV_CORE_KHV_H */
