// SPDX-License-Identifier: GPL-2.0
/*
 * VMX per physical CPU: VMXON/VMXOFF from core's CPU-hotplug callbacks, and
 * which VMCS is active on which CPU.
 *
 * A VMCS is "active" on the CPU that last did VMPTRLD on it, until a VMCLEAR
 * there: the CPU may cache its contents, so it must be VMCLEARed on that CPU
 * before another CPU loads it (and before VMXOFF, and before its memory is
 * freed).  Each CPU keeps the vCPUs whose VMCS is active on it in
 * vmx_cpu.loaded; list and vmx_vcpu.vmcs_cpu change only on that CPU with
 * interrupts off (VMPTRLD in vmx_vmcs_load(), VMCLEAR in an IPI from
 * vmx_vmcs_clear() or in vmx_cpu_disable()).  After a VMCLEAR the next entry
 * must be VMLAUNCH.
 */
#include <linux/kernel.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/smp.h>
#include <asm/desc.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>

#include "vmx.h"

DEFINE_PER_CPU(struct vmx_cpu, vmx_cpu);

void vmx_vmwrite_error(u32 field, u64 value)
{
	pr_warn_ratelimited("khv: vmx: VMWRITE %#x = %#llx failed (VM-instruction error %u)\n",
			    field, value, vmcs_read32(VMCS_VM_INSN_ERROR));
}

void vmx_vmread_error(u32 field)
{
	pr_warn_ratelimited("khv: vmx: VMREAD %#x failed\n", field);
}

int vmx_cpu_setup(void)
{
	int cpu;

	/* cpu_enable may run with interrupts off: allocate for all CPUs now. */
	for_each_possible_cpu(cpu) {
		struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpu, cpu);
		struct page *page = alloc_pages_node(cpu_to_node(cpu), GFP_KERNEL | __GFP_ZERO, 0);

		if (!page) {
			vmx_cpu_teardown();
			return -ENOMEM;
		}
		vc->vmxon_region = page_address(page);
		vc->vmxon_pa = page_to_phys(page);
		/* The VMXON region starts with the VMCS revision identifier. */
		*(u32 *)vc->vmxon_region = VMX_BASIC_REVISION(vmx_caps.basic);
		INIT_LIST_HEAD(&vc->loaded);
	}
	return 0;
}

void vmx_cpu_teardown(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpu, cpu);

		if (vc->vmxon_region)
			free_page((unsigned long)vc->vmxon_region);
		vc->vmxon_region = NULL;
	}
}

static void vmx_vmxoff(void)
{
	asm volatile("1: vmxoff\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : : : "cc", "memory");
}

int vmx_cpu_enable(void)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	int cpu = smp_processor_id();
	u64 feat;

	if (__read_cr4() & X86_CR4_VMXE) {
		pr_err("khv: vmx: CR4.VMXE is already set on CPU %d: another hypervisor (kvm_intel?) owns VMX\n",
		       cpu);
		return -EBUSY;
	}
	if (!vc->vmxon_region)
		return -ENOMEM;
	/* Firmware settings are per CPU; a mismatched CPU would #GP on VMXON. */
	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &feat) || !(feat & FEAT_CTL_LOCKED) ||
	    !(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		pr_err("khv: vmx: VMX is disabled by the firmware on CPU %d\n", cpu);
		return -ENODEV;
	}
	cr4_set_bits(X86_CR4_VMXE);
	if (vmx_vmxon(vc->vmxon_pa)) {
		cr4_clear_bits(X86_CR4_VMXE);
		pr_err("khv: vmx: VMXON failed on CPU %d\n", cpu);
		return -EIO;
	}
	vc->enabled = true;
	vc->current_vmcs = NULL;
	/* Nothing cached by a previous user of VMX may survive. */
	vmx_flush_ept_all();
	vmx_flush_vpid_all();
	return 0;
}

/* VMCLEAR one active VMCS on this CPU; interrupts off. */
static void vmx_vmcs_clear_local(struct vmx_cpu *vc, struct vmx_vcpu *vmx)
{
	vmx_vmclear(vmx->vmcs_pa);
	if (vc->current_vmcs == vmx)
		vc->current_vmcs = NULL;
	list_del_init(&vmx->loaded_link);
	vmx->launched = false;
	/* The clear is done before anyone sees the VMCS as inactive. */
	smp_wmb();
	WRITE_ONCE(vmx->vmcs_cpu, -1);
}

void vmx_cpu_disable(void)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	struct vmx_vcpu *vmx, *tmp;
	unsigned long flags;

	if (!vc->enabled)
		return;
	local_irq_save(flags);
	list_for_each_entry_safe(vmx, tmp, &vc->loaded, loaded_link)
		vmx_vmcs_clear_local(vc, vmx);
	vmx_vmxoff();
	cr4_clear_bits(X86_CR4_VMXE);
	vc->enabled = false;
	vc->current_vmcs = NULL;
	local_irq_restore(flags);
}

/* IPI: VMCLEAR on the CPU where the VMCS is active (if it still is). */
static void vmx_vmcs_clear_ipi(void *arg)
{
	struct vmx_vcpu *vmx = arg;

	if (READ_ONCE(vmx->vmcs_cpu) == smp_processor_id())
		vmx_vmcs_clear_local(this_cpu_ptr(&vmx_cpu), vmx);
}

/*
 * VMCLEAR the VMCS wherever it is active.  If that CPU went offline the
 * IPI fails, but vmx_cpu_disable() cleared everything there first.
 */
void vmx_vmcs_clear(struct vmx_vcpu *vmx)
{
	int cpu = READ_ONCE(vmx->vmcs_cpu);

	if (cpu >= 0)
		smp_call_function_single(cpu, vmx_vmcs_clear_ipi, vmx, 1);
	/* Pairs with the smp_wmb() in vmx_vmcs_clear_local(). */
	smp_rmb();
}

/* Host state that depends on the CPU: TSS, GDT, SYSENTER stack. */
static void vmx_set_host_percpu(void)
{
	struct desc_ptr gdt;
	struct ldttss_desc *tss;
	u64 sysenter_esp;
	u16 tr;

	native_store_gdt(&gdt);
	asm volatile("str %0" : "=r" (tr));
	tss = (struct ldttss_desc *)(gdt.address + (tr & ~7));
	vmcs_write(VMCS_HOST_TR_BASE, tss->base0 | ((u64)tss->base1 << 16) |
		   ((u64)tss->base2 << 24) | ((u64)tss->base3 << 32));
	vmcs_write(VMCS_HOST_GDTR_BASE, gdt.address);
	rdmsrl(MSR_IA32_SYSENTER_ESP, sysenter_esp);
	vmcs_write(VMCS_HOST_SYSENTER_ESP, sysenter_esp);
}

/*
 * Make vmx's VMCS the current one on this CPU (preemption disabled, @cpu is
 * this CPU).  A VMCS still active on another CPU is VMCLEARed there first,
 * which needs interrupts on: vcpu_load is called from process context and
 * from the sched-in notifier, both with interrupts enabled.  Returns true
 * when the VMCS arrived from elsewhere (or from nowhere).
 */
bool vmx_vmcs_load(struct vmx_vcpu *vmx, int cpu)
{
	struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpu, cpu);
	bool moved = false;
	unsigned long flags;

	if (READ_ONCE(vmx->vmcs_cpu) != cpu) {
		if (READ_ONCE(vmx->vmcs_cpu) >= 0)
			vmx_vmcs_clear(vmx);
		local_irq_save(flags);
		list_add(&vmx->loaded_link, &vc->loaded);
		vmx->vmcs_cpu = cpu;
		local_irq_restore(flags);
		moved = true;
	}
	if (vc->current_vmcs != vmx) {
		/* Another guest context on this CPU: no shared branch predictions. */
		if (vc->current_vmcs && !boot_cpu_has(X86_FEATURE_IBPB_ON_VMEXIT))
			indirect_branch_prediction_barrier();
		if (vmx_vmptrld(vmx->vmcs_pa))
			pr_err_ratelimited("khv: vmx: VMPTRLD failed on CPU %d\n", cpu);
		vc->current_vmcs = vmx;
	}
	if (moved)
		vmx_set_host_percpu();
	return moved;
}
