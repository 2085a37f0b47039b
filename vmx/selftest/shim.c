// SPDX-License-Identifier: GPL-2.0
/*
 * The simulated CPU under vmx/vmx_caps.c: MSRs from a table (a missing or
 * faulting one reads as the kernel's rdmsrl_safe() reports a #GP), one
 * CPUID leaf, boot_cpu_has() from a bitmap, and printk captured line by
 * line for the test to assert on.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "shim.h"
#include "shim_test.h"
#include "core/khv.h"

struct shim_state shim;
unsigned int tsc_khz;

static struct shim_msr *msr_find(u32 index, bool add)
{
	unsigned int i;

	for (i = 0; i < shim.nr_msrs; i++)
		if (shim.msrs[i].index == index)
			return &shim.msrs[i];
	if (!add)
		return NULL;
	if (shim.nr_msrs == SHIM_MAX_MSRS) {
		fprintf(stderr, "shim: more than %d MSRs\n", SHIM_MAX_MSRS);
		abort();
	}
	shim.msrs[shim.nr_msrs] = (struct shim_msr){ .index = index };
	return &shim.msrs[shim.nr_msrs++];
}

int rdmsrl_safe(unsigned int msr, unsigned long long *p)
{
	struct shim_msr *m = msr_find(msr, true);

	m->reads++;
	if (!m->present) {
		*p = 0;
		return -EIO;
	}
	*p = m->value;
	return 0;
}

void shim_msr_set(u32 index, u64 value)
{
	struct shim_msr *m = msr_find(index, true);

	m->present = true;
	m->value = value;
}

void shim_msr_fault(u32 index)
{
	struct shim_msr *m = msr_find(index, true);

	m->present = false;
	m->value = 0;
}

u64 shim_msr_get(u32 index)
{
	struct shim_msr *m = msr_find(index, false);

	return m && m->present ? m->value : 0;
}

unsigned int shim_msr_reads(u32 index)
{
	struct shim_msr *m = msr_find(index, false);

	return m ? m->reads : 0;
}

void shim_msr_clear_reads(void)
{
	unsigned int i;

	for (i = 0; i < shim.nr_msrs; i++)
		shim.msrs[i].reads = 0;
}

unsigned int cpuid_edx(unsigned int op)
{
	if (op == 0x80000001)
		return shim.cpuid_80000001_edx;
	shim.cpuid_other++;
	return 0;
}

bool shim_cpu_has(unsigned int feature)
{
	if (feature >= SHIM_NR_FEATURES) {
		fprintf(stderr, "shim: feature %u out of range\n", feature);
		abort();
	}
	return shim.features[feature / 8] & (1u << (feature % 8));
}

void shim_set_feature(unsigned int feature, bool on)
{
	if (feature >= SHIM_NR_FEATURES) {
		fprintf(stderr, "shim: feature %u out of range\n", feature);
		abort();
	}
	if (on)
		shim.features[feature / 8] |= 1u << (feature % 8);
	else
		shim.features[feature / 8] &= ~(1u << (feature % 8));
}

u64 khv_cr4_supported(void)
{
	return shim.cr4_supported;
}

void shim_printk(int level, const char *fmt, ...)
{
	va_list ap;

	if (shim.nr_log < SHIM_MAX_LOG) {
		struct shim_log_line *l = &shim.log[shim.nr_log];

		l->level = level;
		va_start(ap, fmt);
		vsnprintf(l->text, sizeof(l->text), fmt, ap);
		va_end(ap);
	}
	shim.nr_log++;
}

void shim_log_clear(void)
{
	memset(shim.log, 0, sizeof(shim.log));
	shim.nr_log = 0;
}

void shim_reset(void)
{
	memset(&shim, 0, sizeof(shim));
	tsc_khz = 0;
}
