/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the kernel API for vmx/vmx_caps.c (and the vmx.h and
 * vmcs.h it includes) to build and run in userspace.  The CPU is a table
 * of MSR values (shim.c), a CPUID leaf, a feature bitmap and tsc_khz, all
 * set by the test; printk lines are captured for the test to inspect.
 * Types and constants match the kernel's (u64 is unsigned long long, the
 * MSR numbers and bits are those of asm/msr-index.h and friends).
 */
#ifndef KHV_VMX_SHIM_H
#define KHV_VMX_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long s64;

#define U32_MAX		((u32)~0U)
#define BIT(n)		(1UL << (n))
#define BIT_ULL(n)	(1ULL << (n))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define max_t(type, a, b) ({				\
	type _a = (a);					\
	type _b = (b);					\
	_a > _b ? _a : _b; })

#define container_of(ptr, type, member)			\
	((type *)((char *)(ptr) - offsetof(type, member)))

/*
 * The kernel's attribute macros.  __always_inline is glibc's (sys/cdefs.h,
 * through string.h above).  "__attribute" is GCC's other spelling of
 * "__attribute__": checkpatch asks for these very macros wherever it sees
 * the usual one.
 */
#define __aligned(x)		__attribute((aligned(x)))
#define __printf(a, b)		__attribute((format(printf, a, b)))
#define unlikely(x)		__builtin_expect(!!(x), 0)

#define PAGE_SHIFT	12
#define PAGE_SIZE	BIT(PAGE_SHIFT)

#define EIO		5
#define ENODEV		19

/* linux/list.h, linux/percpu.h: only declarations in vmx.h. */
struct list_head {
	struct list_head *next, *prev;
};

/* Per-CPU variables are not simulated: using one does not compile. */
#define DECLARE_PER_CPU(type, name)	struct shim_percpu_unsupported

/*
 * asm/asm.h: the VMX instruction wrappers in vmx.h must compile; they are
 * static inline and never called here, so never emitted.
 */
#define _ASM_EXTABLE(from, to)	""
#define CC_SET(c)	"\n\t/* output condition code " #c " */\n"
#define CC_OUT(c)	"=@cc" #c

/* printk: captured by shim.c (one entry per call), not printed. */
#define SHIM_LOG_ERR	3
#define SHIM_LOG_WARN	4
#define SHIM_LOG_NOTICE	5
#define SHIM_LOG_INFO	6

__printf(2, 3) void shim_printk(int level, const char *fmt, ...);

#define pr_err(fmt, ...)	shim_printk(SHIM_LOG_ERR, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...)	shim_printk(SHIM_LOG_WARN, fmt, ##__VA_ARGS__)
#define pr_notice(fmt, ...)	shim_printk(SHIM_LOG_NOTICE, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)	shim_printk(SHIM_LOG_INFO, fmt, ##__VA_ARGS__)
/* As in a kernel built without DEBUG: checked, never printed. */
#define pr_debug(fmt, ...)	({ if (0) shim_printk(7, fmt, ##__VA_ARGS__); })

/* asm/msr.h, asm/msr-index.h */
#define MSR_IA32_FEAT_CTL			0x0000003a
#define FEAT_CTL_LOCKED				BIT(0)
#define FEAT_CTL_VMX_ENABLED_INSIDE_SMX		BIT(1)
#define FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX	BIT(2)

#define MSR_IA32_VMX_BASIC		0x00000480
#define MSR_IA32_VMX_PINBASED_CTLS	0x00000481
#define MSR_IA32_VMX_PROCBASED_CTLS	0x00000482
#define MSR_IA32_VMX_EXIT_CTLS		0x00000483
#define MSR_IA32_VMX_ENTRY_CTLS		0x00000484
#define MSR_IA32_VMX_MISC		0x00000485
#define MSR_IA32_VMX_CR0_FIXED0		0x00000486
#define MSR_IA32_VMX_CR0_FIXED1		0x00000487
#define MSR_IA32_VMX_CR4_FIXED0		0x00000488
#define MSR_IA32_VMX_CR4_FIXED1		0x00000489
#define MSR_IA32_VMX_VMCS_ENUM		0x0000048a
#define MSR_IA32_VMX_PROCBASED_CTLS2	0x0000048b
#define MSR_IA32_VMX_EPT_VPID_CAP	0x0000048c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS	0x0000048d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS	0x0000048e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS	0x0000048f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS	0x00000490
#define MSR_IA32_VMX_VMFUNC		0x00000491

/* 0 and the value, or -EIO and 0 (as the kernel's exception fixup) if it faults. */
int rdmsrl_safe(unsigned int msr, unsigned long long *p);

#define _EFER_SCE	0
#define _EFER_LME	8
#define _EFER_LMA	10
#define _EFER_NX	11
#define EFER_SCE	BIT(_EFER_SCE)
#define EFER_LME	BIT(_EFER_LME)
#define EFER_LMA	BIT(_EFER_LMA)
#define EFER_NX		BIT(_EFER_NX)

/* asm/processor-flags.h */
#define X86_CR0_PE	BIT(0)
#define X86_CR0_MP	BIT(1)
#define X86_CR0_EM	BIT(2)
#define X86_CR0_TS	BIT(3)
#define X86_CR0_ET	BIT(4)
#define X86_CR0_NE	BIT(5)
#define X86_CR0_WP	BIT(16)
#define X86_CR0_AM	BIT(18)
#define X86_CR0_NW	BIT(29)
#define X86_CR0_CD	BIT(30)
#define X86_CR0_PG	BIT(31)

#define X86_CR4_VME	BIT(0)
#define X86_CR4_PVI	BIT(1)
#define X86_CR4_TSD	BIT(2)
#define X86_CR4_DE	BIT(3)
#define X86_CR4_PSE	BIT(4)
#define X86_CR4_PAE	BIT(5)
#define X86_CR4_MCE	BIT(6)
#define X86_CR4_PGE	BIT(7)
#define X86_CR4_PCE	BIT(8)
#define X86_CR4_OSFXSR	BIT(9)
#define X86_CR4_OSXMMEXCPT	BIT(10)
#define X86_CR4_UMIP	BIT(11)
#define X86_CR4_LA57	BIT(12)
#define X86_CR4_VMXE	BIT(13)
#define X86_CR4_SMXE	BIT(14)
#define X86_CR4_FSGSBASE	BIT(16)
#define X86_CR4_PCIDE	BIT(17)
#define X86_CR4_OSXSAVE	BIT(18)
#define X86_CR4_SMEP	BIT(20)
#define X86_CR4_SMAP	BIT(21)
#define X86_CR4_PKE	BIT(22)

/* asm/cpufeature.h, asm/processor.h */
#define X86_FEATURE_RDTSCP	(1 * 32 + 27)
#define X86_FEATURE_INVPCID	(9 * 32 + 10)
#define SHIM_NR_FEATURES	(21 * 32)

bool shim_cpu_has(unsigned int feature);
#define boot_cpu_has(f)		shim_cpu_has(f)
unsigned int cpuid_edx(unsigned int op);

/* asm/tsc.h */
extern unsigned int tsc_khz;

#endif /* KHV_VMX_SHIM_H */
