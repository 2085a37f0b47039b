// SPDX-License-Identifier: GPL-2.0
/*
 * VPIDs and TLB invalidation.
 *
 * With VPIDs, translations the CPU caches for a guest are tagged with the
 * vCPU's VPID (and, with EPT, the EPT pointer), so VM entries and exits need
 * not flush the TLB.  Each vCPU gets its own VPID for its lifetime from a
 * global bitmap; VPID 0 is the host's and is what every vCPU uses when the
 * CPU has no VPIDs (then every entry and exit flushes linear translations
 * anyway).  A VPID given back may be handed out again: the new owner flushes
 * it on its first entry on each CPU (vmx.c flushes on every change of CPU).
 *
 * INVEPT (single context: one EPT pointer, i.e. one VM) is what
 * KHV_REQ_TLB_FLUSH needs: the second-level tables changed.  INVVPID (one
 * VPID) is for guest paging state the guest did not change itself (set by
 * KHV_SET_SREGS, or emulated MOV to CR0/CR3/CR4).  Both fall back to their
 * all-context forms on CPUs without the single-context ones.
 */
#include <linux/kernel.h>
#include <linux/bitmap.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "vmx.h"

#define VMX_NR_VPIDS	(1 << 16)

static unsigned long *vmx_vpid_bitmap;
static DEFINE_SPINLOCK(vmx_vpid_lock);

int vmx_vpid_setup(void)
{
	if (!vmx_caps.vpid)
		return 0;
	vmx_vpid_bitmap = bitmap_zalloc(VMX_NR_VPIDS, GFP_KERNEL);
	if (!vmx_vpid_bitmap)
		return -ENOMEM;
	__set_bit(0, vmx_vpid_bitmap);	/* the host's */
	return 0;
}

void vmx_vpid_teardown(void)
{
	bitmap_free(vmx_vpid_bitmap);
	vmx_vpid_bitmap = NULL;
}

/* A free VPID, or 0 (none: the vCPU then runs untagged) when all are taken. */
u16 vmx_vpid_alloc(void)
{
	unsigned long vpid;

	if (!vmx_vpid_bitmap)
		return 0;
	spin_lock(&vmx_vpid_lock);
	vpid = find_first_zero_bit(vmx_vpid_bitmap, VMX_NR_VPIDS);
	if (vpid < VMX_NR_VPIDS)
		__set_bit(vpid, vmx_vpid_bitmap);
	else
		vpid = 0;
	spin_unlock(&vmx_vpid_lock);
	return vpid;
}

void vmx_vpid_free(u16 vpid)
{
	if (!vpid || !vmx_vpid_bitmap)
		return;
	spin_lock(&vmx_vpid_lock);
	__clear_bit(vpid, vmx_vpid_bitmap);
	spin_unlock(&vmx_vpid_lock);
}

/* The 128-bit descriptors of INVEPT and INVVPID. */
struct vmx_invept_desc {
	u64 eptp;
	u64 reserved;
};

struct vmx_invvpid_desc {
	u64 vpid;		/* bits 15:0; the rest must be 0 */
	u64 linear;
};

static void vmx_invept(unsigned long type, u64 eptp)
{
	struct vmx_invept_desc desc = { .eptp = eptp };

	/* Fails only on an unsupported type (khv checks) or with VMX off. */
	asm volatile("1: invept %[desc], %[type]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : : [desc] "m" (desc), [type] "r" (type) : "cc", "memory");
}

static void vmx_invvpid(unsigned long type, u16 vpid)
{
	struct vmx_invvpid_desc desc = { .vpid = vpid };

	asm volatile("1: invvpid %[desc], %[type]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : : [desc] "m" (desc), [type] "r" (type) : "cc", "memory");
}

void vmx_flush_ept(u64 eptp)
{
	if (vmx_caps.invept_single)
		vmx_invept(VMX_INVEPT_SINGLE, eptp);
	else
		vmx_invept(VMX_INVEPT_ALL, 0);
}

/* All-context INVEPT is required by vmx_probe(). */
void vmx_flush_ept_all(void)
{
	vmx_invept(VMX_INVEPT_ALL, 0);
}

void vmx_flush_vpid(u16 vpid)
{
	/* VPID 0: VM entries and exits already flush its linear mappings. */
	if (!vpid || !vmx_caps.vpid)
		return;
	if (vmx_caps.invvpid_single)
		vmx_invvpid(VMX_INVVPID_SINGLE, vpid);
	else
		vmx_invvpid(VMX_INVVPID_ALL, 0);
}

/* VPIDs are used only with all-context INVVPID (vmx_probe()). */
void vmx_flush_vpid_all(void)
{
	if (vmx_caps.vpid)
		vmx_invvpid(VMX_INVVPID_ALL, 0);
}
