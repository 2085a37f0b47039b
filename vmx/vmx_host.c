// SPDX-License-Identifier: GPL-2.0
/*
 * Host state that VM exits do not restore, and the guest's counterparts.
 *
 * KERNEL_GS_BASE, STAR, LSTAR, CSTAR and SFMASK are not in the VMCS.  They
 * are switched lazily: the guest's values go into the CPU on the first entry
 * after vcpu_load (vmx_load_guest_msrs(), interrupts off) and the host's come
 * back in vcpu_put (vmx_put_guest_msrs()), which core and the sched-out
 * notifier call before the thread can return to user mode or another task
 * runs (the context switch saves the user GS base from KERNEL_GS_BASE after
 * the notifier).  The kernel never uses these registers in kernel mode: a
 * syscall, SWAPGS or SYSRET needs user mode first.  So exits handled in the
 * kernel cost no MSR access.  The VM-entry/VM-exit MSR-load and MSR-store
 * areas would do the same MSR writes in microcode on every entry and exit.
 *
 * VM exits also load null DS/ES, the host FS/GS selectors and bases from the
 * VMCS (selectors must have RPL 0 and TI 0), an unusable LDTR, a TR limit of
 * 0x67 and a GDT limit of 0xffff; those are put right in vcpu_put as well.
 * (The IDT limit becomes 0xffff too; it only matters for vectors above 255,
 * which do not exist.)
 *
 * Perf MSRs are the exception: perf decides per entry what must differ
 * while the guest runs (no PEBS: it writes linear addresses, which would be
 * the guest's), and VM entry/exit switch those through the MSR-load areas.
 */
#include <linux/kernel.h>
#include <linux/perf_event.h>
#include <asm/desc.h>
#include <asm/msr.h>
#include <asm/perf_event.h>
#include <asm/processor.h>
#include <asm/segment.h>

#include "vmx.h"

/* The host's syscall MSRs: the same on every CPU, set once at boot. */
static u64 vmx_host_star, vmx_host_lstar, vmx_host_cstar, vmx_host_sfmask;

void vmx_host_setup(void)
{
	rdmsrl(MSR_STAR, vmx_host_star);
	rdmsrl(MSR_LSTAR, vmx_host_lstar);
	rdmsrl(MSR_CSTAR, vmx_host_cstar);
	rdmsrl(MSR_SYSCALL_MASK, vmx_host_sfmask);
}

static inline u16 vmx_read_ldt(void)
{
	u16 ldt;

	asm volatile("sldt %0" : "=g" (ldt));
	return ldt;
}

static inline void vmx_load_ldt(u16 sel)
{
	asm volatile("lldt %0" : : "rm" (sel));
}

/*
 * The guest's syscall MSRs and KERNEL_GS_BASE into the CPU, after saving
 * the host's segment state that the next VM exit will clobber.  Interrupts
 * off.  The host selectors VM exits load must have RPL 0 and TI 0: others
 * are put back in vmx_put_guest_msrs().
 */
void vmx_load_guest_msrs(struct vmx_vcpu *vmx)
{
	struct vmx_host_state *h = &vmx->host;
	u64 base;

	h->ldt = vmx_read_ldt();
	savesegment(ds, h->ds);
	savesegment(es, h->es);
	savesegment(fs, h->fs);
	savesegment(gs, h->gs);
	vmcs_write(VMCS_HOST_FS_SEL, (h->fs & 7) ? 0 : h->fs);
	vmcs_write(VMCS_HOST_GS_SEL, (h->gs & 7) ? 0 : h->gs);
	/* FS.base: the task's own; GS.base: this CPU's per-CPU area. */
	rdmsrl(MSR_FS_BASE, base);
	vmcs_write(VMCS_HOST_FS_BASE, base);
	rdmsrl(MSR_GS_BASE, base);
	vmcs_write(VMCS_HOST_GS_BASE, base);

	rdmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	wrmsrl(MSR_KERNEL_GS_BASE, vmx->kernel_gs_base);
	if (vmx->star != vmx_host_star)
		wrmsrl(MSR_STAR, vmx->star);
	if (vmx->lstar != vmx_host_lstar)
		wrmsrl(MSR_LSTAR, vmx->lstar);
	if (vmx->cstar != vmx_host_cstar)
		wrmsrl(MSR_CSTAR, vmx->cstar);
	if (vmx->sfmask != vmx_host_sfmask)
		wrmsrl(MSR_SYSCALL_MASK, vmx->sfmask);
	vmx->guest_msrs_loaded = true;
}

/* The host's back (vcpu_put, or before a reset); preemption off. */
void vmx_put_guest_msrs(struct vmx_vcpu *vmx)
{
	struct vmx_host_state *h = &vmx->host;
	unsigned long flags;

	local_irq_save(flags);
	/* The guest moves KERNEL_GS_BASE with SWAPGS without exiting. */
	rdmsrl(MSR_KERNEL_GS_BASE, vmx->kernel_gs_base);
	/* LDT before GS: a GS selector may point into the LDT. */
	if (h->ldt || (h->gs & 7)) {
		vmx_load_ldt(h->ldt);
		load_gs_index(h->gs);
	}
	if (h->fs & 7)
		loadsegment(fs, h->fs);
	if (h->ds | h->es) {
		loadsegment(ds, h->ds);
		loadsegment(es, h->es);
	}
	/* VM exits set the TR limit to 0x67, cutting off the I/O bitmap. */
	invalidate_tss_limit();
	wrmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	if (vmx->star != vmx_host_star)
		wrmsrl(MSR_STAR, vmx_host_star);
	if (vmx->lstar != vmx_host_lstar)
		wrmsrl(MSR_LSTAR, vmx_host_lstar);
	if (vmx->cstar != vmx_host_cstar)
		wrmsrl(MSR_CSTAR, vmx_host_cstar);
	if (vmx->sfmask != vmx_host_sfmask)
		wrmsrl(MSR_SYSCALL_MASK, vmx_host_sfmask);
	/* VM exits set the GDT limit to 0xffff. */
	load_fixmap_gdt(raw_smp_processor_id());
	vmx->guest_msrs_loaded = false;
	local_irq_restore(flags);
}

/*
 * What perf wants different while the guest runs (PEBS must be off: it
 * writes to linear addresses, which would be the guest's): loaded by
 * VM entry and VM exit from the MSR-load areas.
 */
void vmx_switch_perf_msrs(struct vmx_vcpu *vmx)
{
	struct perf_guest_switch_msr *msrs;
	int i, nr = 0;
	u32 n = 0;

	msrs = perf_guest_get_msrs(&nr, NULL);
	for (i = 0; msrs && i < nr && n < VMX_AUTOLOAD_MAX; i++) {
		if (msrs[i].host == msrs[i].guest)
			continue;
		vmx->autoload[n].index = msrs[i].msr;
		vmx->autoload[n].value = msrs[i].guest;
		vmx->autoload[VMX_AUTOLOAD_MAX + n].index = msrs[i].msr;
		vmx->autoload[VMX_AUTOLOAD_MAX + n].value = msrs[i].host;
		n++;
	}
	if (n != vmx->nr_autoload) {
		vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, n);
		vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, n);
		vmx->nr_autoload = n;
	}
}
