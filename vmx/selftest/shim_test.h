/* SPDX-License-Identifier: GPL-2.0 */
/* What vmx_test.c sees of the simulated CPU (shim.c). */
#ifndef KHV_VMX_SHIM_TEST_H
#define KHV_VMX_SHIM_TEST_H

#include "shim.h"

#define SHIM_MAX_MSRS	32
#define SHIM_MAX_LOG	8
#define SHIM_LOG_LEN	512

struct shim_msr {
	u32 index;
	bool present;		/* false: RDMSR faults (#GP) */
	u64 value;
	unsigned int reads;	/* rdmsrl_safe() calls, faulting or not */
};

struct shim_log_line {
	int level;		/* SHIM_LOG_* */
	char text[SHIM_LOG_LEN];
};

struct shim_state {
	struct shim_msr msrs[SHIM_MAX_MSRS];
	unsigned int nr_msrs;
	u32 cpuid_80000001_edx;
	unsigned int cpuid_other;	/* cpuid_edx() of any other leaf */
	unsigned char features[SHIM_NR_FEATURES / 8];
	u64 cr4_supported;		/* khv_cr4_supported() */
	struct shim_log_line log[SHIM_MAX_LOG];
	unsigned int nr_log;		/* printk calls, even past SHIM_MAX_LOG */
};

extern struct shim_state shim;

/* No MSR (every read faults), no feature, no log, tsc_khz 0. */
void shim_reset(void);
void shim_msr_set(u32 index, u64 value);
void shim_msr_fault(u32 index);
u64 shim_msr_get(u32 index);		/* 0 if absent */
unsigned int shim_msr_reads(u32 index);
void shim_msr_clear_reads(void);
void shim_set_feature(unsigned int feature, bool on);
void shim_log_clear(void);

#endif /* KHV_VMX_SHIM_TEST_H */
