// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID as the machine presents it.  khv's supported table already hides
 * what khv does not virtualise; what is left here is the machine's shape:
 * every vCPU is its own package with one core and one thread (as QEMU's
 * "-smp N" with N sockets), so the topology leaves of the host (its core
 * and thread counts, its cache sharing) must not leak through and the APIC
 * ID in each leaf is the vCPU's.  Linux cross-checks these against the
 * MADT: a mismatch costs warnings and a wrong topology.
 */
#include <string.h>

#include "cpuid.h"

#define CPUID1_EDX_HTT		(1u << 28)
#define CPUID1_ECX_HYPERVISOR	(1u << 31)
#define EXT1_ECX_CMP_LEGACY	(1u << 1)
#define EXT1_ECX_TOPOEXT	(1u << 22)
#define KVM_SIG_LEAF		0x40000000u
#define KVM_FEATURES_LEAF	0x40000001u
#define LEVEL_TYPE_SMT		1
#define LEVEL_TYPE_CORE		2

static void drop(struct khv_cpuid_entry *e, uint32_t *n, uint32_t i)
{
	memmove(&e[i], &e[i + 1], (*n - i - 1) * sizeof(*e));
	(*n)--;
}

uint32_t kr_cpuid_for_vcpu(struct khv_cpuid_entry *e, uint32_t n, uint32_t max,
			   unsigned int id, unsigned int nr_vcpus, bool kvmclock)
{
	uint32_t i = 0;

	(void)nr_vcpus;		/* one package per vCPU: no count to spread */
	while (i < n) {
		struct khv_cpuid_entry *c = &e[i];

		switch (c->function) {
		case 1:
			/* APIC ID, one logical processor per package, no HTT. */
			c->ebx = (c->ebx & 0x0000ffff) | (1u << 16) | (id << 24);
			c->edx &= ~CPUID1_EDX_HTT;
			c->ecx |= CPUID1_ECX_HYPERVISOR;
			break;
		case 4:
			/* Cache leaves: one core per package, one thread per cache. */
			c->eax &= 0x00003fff;
			break;
		case 0xb:
		case 0x1f:
			/* SMT level: 1 thread; core level: 1 core; EDX = x2APIC ID. */
			if (c->index == 0) {
				c->eax = 0;
				c->ebx = 1;
				c->ecx = (LEVEL_TYPE_SMT << 8) | 0;
			} else if (c->index == 1) {
				c->eax = 0;
				c->ebx = 1;
				c->ecx = (LEVEL_TYPE_CORE << 8) | 1;
			} else {
				c->eax = c->ebx = 0;
				c->ecx = c->index;
			}
			c->edx = id;
			break;
		case 0x80000001:
			c->ecx &= ~(EXT1_ECX_CMP_LEGACY | EXT1_ECX_TOPOEXT);
			break;
		case 0x80000008:
			/* NC = 0 (one core), ApicIdCoreIdSize = 0. */
			c->ecx &= ~0xf0ffu;
			break;
		case 0x8000001e:
			/* Topology extensions are hidden: drop the leaf. */
			drop(e, &n, i);
			continue;
		case KVM_SIG_LEAF:
		case KVM_FEATURES_LEAF:
			if (!kvmclock) {
				drop(e, &n, i);
				continue;
			}
			break;
		}
		i++;
	}
	/* Levels 0 and 1 of leaf 0xB must exist: add them if the host had none. */
	for (i = 0; i < n; i++)
		if (e[i].function == 0xb)
			break;
	if (i == n && n + 3 <= max) {
		for (uint32_t lvl = 0; lvl < 3; lvl++) {
			e[n] = (struct khv_cpuid_entry){
				.function = 0xb, .index = lvl,
				.flags = KHV_CPUID_FLAG_SIGNIFICANT_INDEX,
				.ebx = lvl < 2 ? 1 : 0,
				.ecx = lvl == 0 ? (LEVEL_TYPE_SMT << 8) :
				       lvl == 1 ? (LEVEL_TYPE_CORE << 8) | 1 : 2,
				.edx = id,
			};
			n++;
		}
		/* Leaf 0 must reach 0xb for the guest to look. */
		for (i = 0; i < n; i++)
			if (e[i].function == 0 && e[i].eax < 0xb)
				e[i].eax = 0xb;
	}
	return n;
}
