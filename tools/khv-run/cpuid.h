/* SPDX-License-Identifier: GPL-2.0 */
/* The CPUID each vCPU of the machine answers (cpuid.c). */
#ifndef KHV_RUN_CPUID_H
#define KHV_RUN_CPUID_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/khv.h>

/*
 * Rewrite khv's supported table in place into vCPU id's table of an
 * nr_vcpus machine: topology, APIC IDs, and kvmclock on or off.  Returns
 * the new number of entries (at most max).
 */
uint32_t kr_cpuid_for_vcpu(struct khv_cpuid_entry *e, uint32_t n, uint32_t max,
			   unsigned int id, unsigned int nr_vcpus, bool kvmclock);

#endif
