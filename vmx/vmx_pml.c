// SPDX-License-Identifier: GPL-2.0
/*
 * Page-modification logging (PML; Intel SDM vol. 3C, "Page-Modification
 * Logging"), for the dirty log's BY_PML mode (core/dirty_log.c,
 * mmu/dirty.c, Documentation/khv/migration.rst).
 *
 * With EPT accessed/dirty flags on and "enable PML" set, each time the CPU
 * sets the dirty flag of an EPT leaf it first stores the guest-physical
 * address of the page in a 512-entry buffer named by the VMCS, at entry
 * GUEST_PML_INDEX, and decrements the index.  An access that must log
 * while the index is outside 0..511 exits instead ("PML full", reason 62)
 * before logging or setting the flag; the instruction runs again after
 * the next entry.
 *
 * khv cleans the leaves of a logging slot as with the flags alone; what
 * PML adds is that the vCPU thread drains the buffer at the start of every
 * exit's handling (vmx_pml_drain(), from vmx_handle_exit(): interrupts on,
 * slots_lock for read, so vCPUs draining at once do not wait for each
 * other) into the slots' bitmaps and puts the index back to 511.  So the
 * bitmaps hold every page whose flag the CPU set, give or take the
 * buffers of vCPUs in the guest, and a get cleans only the leaves of the
 * bits it takes instead of reading every leaf of its range.  A page still
 * in a buffer when a get takes its bits keeps its flag and is in the next
 * get's bits; every exit to userspace has drained first.
 *
 * The buffer page exists only for VMs created in this mode (khv_mmu.hw_log):
 * "enable PML" is set in their VMCSs for their whole life.  Leaves of
 * slots that do not log are built with their dirty flag set (mmu/ept.c),
 * so they log nothing; an address outside every logging slot (one that
 * stopped logging since) is dropped by the drain.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <asm/io.h>

#include "vmx.h"

#define VMX_PML_ENTRIES		512
#define VMX_PML_FIRST		(VMX_PML_ENTRIES - 1)	/* the index counts down */

static bool vmx_pml_wanted = true;
module_param_named(pml, vmx_pml_wanted, bool, 0644);
MODULE_PARM_DESC(pml, "VT-x: dirty log of new VMs by page-modification logging where the CPU has it (with dirty_bits)");

/* The backend's dirty_log_mode op: the best this CPU does, as chosen. */
int vmx_pml_dirty_log_mode(void)
{
	if (!vmx_caps.ept_ad)
		return KHV_DIRTY_LOG_BY_WP;	/* EPT leaves get no dirty flags */
	if (vmx_caps.pml && READ_ONCE(vmx_pml_wanted))
		return KHV_DIRTY_LOG_BY_PML;
	return KHV_DIRTY_LOG_BY_CPU;
}

int vmx_pml_alloc(struct vmx_vcpu *vmx)
{
	if (!vmx->vcpu.vm->mmu.hw_log)
		return 0;
	vmx->pml = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	return vmx->pml ? 0 : -ENOMEM;
}

/* After the VMCS is cleared: the CPU may write the buffer until then. */
void vmx_pml_free(struct vmx_vcpu *vmx)
{
	if (vmx->pml)
		free_page((unsigned long)vmx->pml);
	vmx->pml = NULL;
}

/* The VMCS is current: @proc2 gets "enable PML" if this vCPU logs. */
u32 vmx_pml_init_vmcs(struct vmx_vcpu *vmx, u32 proc2)
{
	if (!vmx->pml)
		return proc2;
	vmcs_write(VMCS_PML_ADDRESS, virt_to_phys(vmx->pml));
	vmcs_write(VMCS_GUEST_PML_INDEX, VMX_PML_FIRST);
	return proc2 | PROC2_PML;
}

/*
 * After an exit, with the vCPU loaded (its VMCS current): the pages the
 * CPU logged since the last drain go to core.  The index is one below the
 * last entry written (0xffff once all 512 are), and entries fill from 511
 * down.
 */
void vmx_pml_drain(struct vmx_vcpu *vmx)
{
	u16 index;
	unsigned int first;

	if (!vmx->pml)
		return;
	index = vmcs_read(VMCS_GUEST_PML_INDEX);
	if (index == VMX_PML_FIRST)
		return;
	first = index >= VMX_PML_ENTRIES ? 0 : index + 1;
	khv_log_dirty_gpas(&vmx->vcpu, vmx->pml + first, VMX_PML_ENTRIES - first);
	vmcs_write(VMCS_GUEST_PML_INDEX, VMX_PML_FIRST);
}
