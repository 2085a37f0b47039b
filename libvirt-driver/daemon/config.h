/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config.h for virtkhvd: libvirt's own (the configured tree's build/config.h,
 * found next on the include path), minus the DTrace probes.  libvirt's
 * daemon sources mark probe points whose semaphores live in an object that
 * libvirt.so keeps to itself; virtkhvd goes without them.
 */
#include_next <config.h>
#undef WITH_DTRACE_PROBES
