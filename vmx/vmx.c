// SPDX-License-Identifier: GPL-2.0
/*
 * Intel VT-x (VMX) backend: setup, the VMCS of each vCPU, one guest entry
 * (vmx_run) and the ops table.  Capabilities are in vmx_caps.c, VMXON and
 * VMCS placement in vmx_cpu.c, VPIDs in vmx_vpid.c, guest registers in
 * vmx_state.c, exits in vmx_exits.c, the world switch in vmx_vmenter.S.
 * Documentation/khv/vmx.rst.
 *
 * Entry, with interrupts already off (core): guest XCR0, debug registers
 * and CR2; VMLAUNCH/VMRESUME; CR2, DEBUGCTL, XCR0 and host breakpoints back;
 * an NMI that caused the exit goes to the host's handler at once.  External
 * interrupts are not acknowledged on exit: the interrupt stays pending in
 * the local APIC and the host takes it through its IDT as soon as core
 * enables interrupts, which needs no vector dispatch here.
 *
 * What VM exits leave to software (segments, syscall MSRs, descriptor
 * table limits, perf MSRs) is restored in vmx_host.c; events are injected
 * and completed in vmx_events.c.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/string.h>
#include <linux/io.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/fpu/xcr.h>
#include <asm/mce.h>
#include <asm/mmu_context.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/traps.h>

#include "vmx.h"

/* vcpu->regs[] layout that vmx_vmenter.S hard-codes. */
static_assert(KHV_REG_RAX == 0 && KHV_REG_RCX == 1 && KHV_REG_RDX == 2 && KHV_REG_RBX == 3);
static_assert(KHV_REG_RBP == 5 && KHV_REG_RSI == 6 && KHV_REG_RDI == 7);
static_assert(KHV_REG_R8 == 8 && KHV_REG_R15 == 15);
/* enum khv_seg's first six follow the VMCS and the exit information. */
static_assert(KHV_SEG_ES == 0 && KHV_SEG_CS == 1 && KHV_SEG_SS == 2 &&
	      KHV_SEG_DS == 3 && KHV_SEG_FS == 4 && KHV_SEG_GS == 5);

#define VMX_CR0_RESET		(X86_CR0_CD | X86_CR0_NW | X86_CR0_ET)
#define VMX_PAT_RESET		0x0007040600070406ULL
#define VMX_RFLAGS_VALID	0x3f7fd7ULL

/* PAUSE-loop exiting: an exit after a guest spins this long (TSC cycles). */
#define VMX_PLE_GAP		128
#define VMX_PLE_WINDOW		4096

static struct page *vmx_msr_bitmap;
/* Every MSR intercepted: for vCPUs that study RDMSR/WRMSR (core/study.c). */
static struct page *vmx_msr_bitmap_all;
static struct page *vmx_io_bitmaps;	/* A and B, every bit set */
static u64 vmx_host_pat, vmx_host_efer;
static u64 vmx_host_xcr0;
static bool vmx_has_xsave;

/* ---- setup --------------------------------------------------------------- */

/* Guest reads and writes without exit: values the VMCS holds and switches. */
static const u32 vmx_passthrough_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE,
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
};

/*
 * Reads only: while the guest runs these hold its values (lazy switching);
 * writes exit, so the software copies never go stale.
 */
static const u32 vmx_read_passthrough_msrs[] = {
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
};

/*
 * The MSR bitmap is four 1 KiB bitmaps: reads of 0..0x1fff, reads of
 * 0xc0000000..0xc0001fff, then the same two for writes.  A set bit exits.
 */
static void vmx_msr_allow(unsigned long *bitmap, u32 msr, bool write)
{
	u32 base = write ? 2048 * 8 : 0;

	if (msr >= 0xc0000000) {
		base += 1024 * 8;
		msr -= 0xc0000000;
	}
	__clear_bit(base + msr, bitmap);
}

static void vmx_free_bitmaps(void)
{
	if (vmx_msr_bitmap)
		__free_page(vmx_msr_bitmap);
	if (vmx_msr_bitmap_all)
		__free_page(vmx_msr_bitmap_all);
	if (vmx_io_bitmaps)
		__free_pages(vmx_io_bitmaps, 1);
	vmx_msr_bitmap = NULL;
	vmx_msr_bitmap_all = NULL;
	vmx_io_bitmaps = NULL;
}

static int vmx_setup(void)
{
	unsigned long *msrs;
	int i, err;

	vmx_caps_setup();
	vmx_has_xsave = boot_cpu_has(X86_FEATURE_OSXSAVE);
	if (vmx_has_xsave)
		vmx_host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	rdmsrl(MSR_IA32_CR_PAT, vmx_host_pat);
	rdmsrl(MSR_EFER, vmx_host_efer);
	vmx_host_setup();

	vmx_io_bitmaps = alloc_pages(GFP_KERNEL, 1);
	vmx_msr_bitmap = alloc_page(GFP_KERNEL);
	vmx_msr_bitmap_all = alloc_page(GFP_KERNEL);
	if (!vmx_io_bitmaps || !vmx_msr_bitmap || !vmx_msr_bitmap_all) {
		vmx_free_bitmaps();
		return -ENOMEM;
	}
	memset(page_address(vmx_msr_bitmap_all), 0xff, PAGE_SIZE);
	memset(page_address(vmx_io_bitmaps), 0xff, 2 * PAGE_SIZE);
	msrs = page_address(vmx_msr_bitmap);
	memset(msrs, 0xff, PAGE_SIZE);
	for (i = 0; i < ARRAY_SIZE(vmx_passthrough_msrs); i++) {
		vmx_msr_allow(msrs, vmx_passthrough_msrs[i], false);
		vmx_msr_allow(msrs, vmx_passthrough_msrs[i], true);
	}
	for (i = 0; i < ARRAY_SIZE(vmx_read_passthrough_msrs); i++)
		vmx_msr_allow(msrs, vmx_read_passthrough_msrs[i], false);

	err = vmx_cpu_setup();
	if (err)
		goto err_bitmaps;
	err = vmx_vpid_setup();
	if (err)
		goto err_cpu;
	/* L1TF: guest code must not find host data in the L1D. */
	err = vmx_l1d_setup();
	if (err)
		goto err_vpid;
	return 0;

err_vpid:
	vmx_vpid_teardown();
err_cpu:
	vmx_cpu_teardown();
err_bitmaps:
	vmx_free_bitmaps();
	return err;
}

static void vmx_teardown(void)
{
	vmx_l1d_teardown();
	vmx_vpid_teardown();
	vmx_cpu_teardown();
	vmx_free_bitmaps();
}

static int vmx_vm_init(struct khv_vm *vm)
{
	return 0;	/* bitmaps are global; the EPT root is core's */
}

static void vmx_vm_destroy(struct khv_vm *vm)
{
}

/* EPT pointer: the VM's root, write-back, walk depth, A/D when available. */
u64 vmx_eptp(struct khv_vcpu *vcpu)
{
	const struct khv_mmu *mmu = &vcpu->vm->mmu;
	u64 eptp = mmu->root_pa | VMX_EPTP_WB | VMX_EPTP_WALK(mmu->levels);

	if (vmx_caps.ept_ad)
		eptp |= VMX_EPTP_AD;
	return eptp;
}

/* ---- the VMCS ------------------------------------------------------------ */

/* Controls and the host state that is the same for every entry on any CPU. */
static void vmx_init_vmcs(struct vmx_vcpu *vmx)
{
	struct desc_ptr idt;
	u32 proc2 = vmx_caps.proc2;
	u64 v;

	vmcs_write(VMCS_PIN_CTLS, vmx_caps.pin);
	vmx->proc = vmx_caps.proc;
	vmcs_write(VMCS_PROC_CTLS, vmx->proc);
	if (!vmx->vpid)
		proc2 &= ~PROC2_VPID;
	proc2 = vmx_pml_init_vmcs(vmx, proc2);
	vmcs_write(VMCS_PROC_CTLS2, proc2);
	vmcs_write(VMCS_EXIT_CTLS, vmx_caps.exit);
	vmx->entry = vmx_caps.entry;
	vmcs_write(VMCS_ENTRY_CTLS, vmx->entry);

	/*
	 * #DB and #AC are reflected by khv: delivering them can otherwise loop
	 * in microcode forever and hang the CPU.  #MC goes to the host.
	 */
	vmcs_write(VMCS_EXCEPTION_BITMAP, VMX_EXC_INTERCEPTS);
	vmcs_write(VMCS_PF_ERROR_MASK, 0);
	vmcs_write(VMCS_PF_ERROR_MATCH, 0);
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_IO_BITMAP_A, page_to_phys(vmx_io_bitmaps));
	vmcs_write(VMCS_IO_BITMAP_B, page_to_phys(vmx_io_bitmaps) + PAGE_SIZE);
	vmcs_write(VMCS_MSR_BITMAP, page_to_phys(vmx_msr_bitmap));
	vmcs_write(VMCS_EPT_POINTER, vmx_eptp(&vmx->vcpu));
	if (vmx->vpid)
		vmcs_write(VMCS_VPID, vmx->vpid);
	vmcs_write(VMCS_LINK_POINTER, ~0ULL);
	vmcs_write(VMCS_CR0_MASK, ~(u64)VMX_CR0_GUEST_OWNED);
	vmcs_write(VMCS_CR4_MASK, ~(u64)VMX_CR4_GUEST_OWNED);
	vmcs_write(VMCS_TSC_OFFSET, 0);
	vmx->vcpu.tsc_offset = 0;
	if (vmx_caps.pause_loop) {
		vmcs_write(VMCS_PLE_GAP, VMX_PLE_GAP);
		vmcs_write(VMCS_PLE_WINDOW, VMX_PLE_WINDOW);
	}
	if (vmx_caps.preemption_timer)
		vmcs_write(VMCS_PREEMPTION_TIMER, vmx_caps.timer_value);

	/* Perf MSR switching: entry loads [0, MAX), exit loads [MAX, 2 MAX). */
	vmcs_write(VMCS_ENTRY_MSR_LOAD_ADDR, virt_to_phys(vmx->autoload));
	vmcs_write(VMCS_EXIT_MSR_LOAD_ADDR, virt_to_phys(vmx->autoload + VMX_AUTOLOAD_MAX));
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);

	/* Host state; CR3, CR4, FS/GS and the per-CPU bases are kept fresh. */
	vmcs_write(VMCS_HOST_CR0, read_cr0());
	vmx->host_cr3 = __get_current_cr3_fast();
	vmcs_write(VMCS_HOST_CR3, vmx->host_cr3);
	vmx->host_cr4 = cr4_read_shadow();
	vmcs_write(VMCS_HOST_CR4, vmx->host_cr4);
	vmcs_write(VMCS_HOST_CS_SEL, __KERNEL_CS);
	vmcs_write(VMCS_HOST_SS_SEL, __KERNEL_DS);
	vmcs_write(VMCS_HOST_DS_SEL, 0);
	vmcs_write(VMCS_HOST_ES_SEL, 0);
	vmcs_write(VMCS_HOST_FS_SEL, 0);
	vmcs_write(VMCS_HOST_GS_SEL, 0);
	vmcs_write(VMCS_HOST_TR_SEL, GDT_ENTRY_TSS * 8);
	rdmsrl(MSR_FS_BASE, v);
	vmcs_write(VMCS_HOST_FS_BASE, v);
	rdmsrl(MSR_GS_BASE, v);
	vmcs_write(VMCS_HOST_GS_BASE, v);
	store_idt(&idt);
	vmcs_write(VMCS_HOST_IDTR_BASE, idt.address);
	rdmsrl(MSR_IA32_SYSENTER_CS, v);
	vmcs_write(VMCS_HOST_SYSENTER_CS, v);
	rdmsrl(MSR_IA32_SYSENTER_EIP, v);
	vmcs_write(VMCS_HOST_SYSENTER_EIP, v);
	vmcs_write(VMCS_HOST_PAT, vmx_host_pat);
	vmcs_write(VMCS_HOST_EFER, vmx_host_efer);
	vmcs_write(VMCS_HOST_RIP, (unsigned long)__khv_vmx_vmexit);
}

static void vmx_set_seg(unsigned int i, u16 sel, u64 base, u32 limit, u32 ar)
{
	vmcs_write(VMCS_GUEST_SEL(i), sel);
	vmcs_write(VMCS_GUEST_BASE(i), base);
	vmcs_write(VMCS_GUEST_LIMIT(i), limit);
	vmcs_write(VMCS_GUEST_AR(i), ar);
}

/*
 * The state after RESET: real mode at F000:FFF0, caches "disabled" (in the
 * read shadow only: see vmx_hw_cr0()).  Used at creation and after a triple
 * fault.  The GPRs other than RIP are left to core (it sets RDX).
 */
void vmx_vcpu_reset(struct vmx_vcpu *vmx)
{
	struct khv_vcpu *vcpu = &vmx->vcpu;
	/* P, S, type 3 (data, read/write, accessed); CS: type 11 (code). */
	const u32 data = SEGAR_P | SEGAR_S | 3;
	unsigned int i;

	/* The syscall MSRs reset below must reach the CPU on the next entry. */
	preempt_disable();
	if (vmx->guest_msrs_loaded)
		vmx_put_guest_msrs(vmx);
	preempt_enable();

	vmx_set_seg(vmx_seg_index(KHV_SEG_CS), 0xf000, 0xffff0000, 0xffff, SEGAR_P | SEGAR_S | 11);
	vmx_set_seg(vmx_seg_index(KHV_SEG_DS), 0, 0, 0xffff, data);
	vmx_set_seg(vmx_seg_index(KHV_SEG_ES), 0, 0, 0xffff, data);
	vmx_set_seg(vmx_seg_index(KHV_SEG_FS), 0, 0, 0xffff, data);
	vmx_set_seg(vmx_seg_index(KHV_SEG_GS), 0, 0, 0xffff, data);
	vmx_set_seg(vmx_seg_index(KHV_SEG_SS), 0, 0, 0xffff, data);
	/* LDT (type 2) and busy 16-bit TSS (type 3), present: VM entry wants TR usable. */
	vmx_set_seg(vmx_seg_index(KHV_SEG_LDTR), 0, 0, 0xffff, SEGAR_P | 2);
	vmx_set_seg(vmx_seg_index(KHV_SEG_TR), 0, 0, 0xffff, SEGAR_P | 3);
	vmcs_write(VMCS_GUEST_GDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmcs_write(VMCS_GUEST_IDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0xffff);

	vmx->cr0 = VMX_CR0_RESET;
	vmcs_write(VMCS_CR0_SHADOW, vmx->cr0);
	vmcs_write(VMCS_GUEST_CR0, vmx_hw_cr0(vmx->cr0));
	vmx->cr4 = 0;
	vmcs_write(VMCS_CR4_SHADOW, 0);
	vmcs_write(VMCS_GUEST_CR4, vmx_hw_cr4(0));
	vmcs_write(VMCS_GUEST_CR3, 0);
	vmx->cr2 = 0;
	vmx->cr8 = 0;
	vmx->efer = 0;
	vmcs_write(VMCS_GUEST_EFER, 0);
	vmx->entry &= ~ENTRY_IA32E;
	vmcs_write(VMCS_ENTRY_CTLS, vmx->entry);
	for (i = 0; i < 4; i++)
		vmcs_write(VMCS_GUEST_PDPTE0 + 2 * i, 0);
	vmcs_write(VMCS_GUEST_PAT, VMX_PAT_RESET);
	vmcs_write(VMCS_GUEST_DEBUGCTL, 0);
	vmcs_write(VMCS_GUEST_DR7, KHV_DR7_FIXED1);
	vmx->dr6 = KHV_DR6_FIXED1;
	vmcs_write(VMCS_GUEST_SYSENTER_CS, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, 0);
	vmx->star = 0;
	vmx->lstar = 0;
	vmx->cstar = 0;
	vmx->sfmask = 0;
	vmx->kernel_gs_base = 0;

	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED);
	vmcs_write(VMCS_GUEST_RIP, 0xfff0);
	vmcs_write(VMCS_GUEST_RSP, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY, ACTIVITY_ACTIVE);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmcs_write(VMCS_GUEST_PENDING_DBG, 0);
	vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
	vmx->intr_state = 0;
	vmx->proc &= ~(PROC_INTR_WINDOW | PROC_NMI_WINDOW);
	vmcs_write(VMCS_PROC_CTLS, vmx->proc);

	vcpu->regs[KHV_REG_RIP] = 0xfff0;
	vcpu->rflags = X86_EFLAGS_FIXED;
	memset(vcpu->dr, 0, sizeof(vcpu->dr));
	vcpu->exception.pending = false;
	vcpu->nmi_pending = false;
	vcpu->extint_pending = false;

	vmx->exit_rip = vcpu->regs[KHV_REG_RIP];
	vmx->injected = 0;
	vmx->reinject = 0;
	vmx->flush_vpid = true;
}

static void vmx_free_vcpu_pages(struct vmx_vcpu *vmx)
{
	if (vmx->vmcs)
		free_page((unsigned long)vmx->vmcs);
	if (vmx->autoload)
		free_page((unsigned long)vmx->autoload);
	vmx->vmcs = NULL;
	vmx->autoload = NULL;
	vmx_pml_free(vmx);
}

static int vmx_vcpu_init(struct khv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int cpu;

	vmx->vmcs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	vmx->autoload = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vmx->vmcs || !vmx->autoload || vmx_pml_alloc(vmx)) {
		vmx_free_vcpu_pages(vmx);
		return -ENOMEM;
	}
	/* A VMCS region starts with the revision identifier, bit 31 clear. */
	*(u32 *)vmx->vmcs = VMX_BASIC_REVISION(vmx_caps.basic);
	vmx->vmcs_pa = virt_to_phys(vmx->vmcs);
	vmx->vmcs_cpu = -1;
	vmx->last_run_cpu = -1;
	INIT_LIST_HEAD(&vmx->loaded_link);
	vmx->vpid = vmx_vpid_alloc();

	/*
	 * Not loaded by core yet: make the VMCS current here, on this CPU, to
	 * write it; the first vcpu_load moves it wherever the thread runs.
	 * VMCLEAR first: it initialises a new region (launch state "clear").
	 */
	cpu = get_cpu();
	vmx_vmclear(vmx->vmcs_pa);
	vmx_vmcs_load(vmx, cpu);
	vmx_init_vmcs(vmx);
	vmx_vcpu_reset(vmx);
	put_cpu();
	return 0;
}

static void vmx_vcpu_destroy(struct khv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	if (!vmx->vmcs)
		return;
	/* Its memory may not be reused while a CPU could still write it back. */
	vmx_vmcs_clear(vmx);
	vmx_vpid_free(vmx->vpid);
	vmx->vpid = 0;
	vmx_free_vcpu_pages(vmx);
}

static void vmx_vcpu_load(struct khv_vcpu *vcpu, int cpu)
{
	vmx_vmcs_load(to_vmx(vcpu), cpu);
}

static void vmx_vcpu_put(struct khv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	/* The VMCS stays active here; only the host's MSRs must come back. */
	if (vmx->guest_msrs_loaded)
		vmx_put_guest_msrs(vmx);
}

/*
 * An intercepted #MC was not seen by the host: hand it to the host's
 * handler, as if it had hit user mode (the guest is, to the host, its
 * process's business), so recovery can kill the task instead of panicking.
 */
static void vmx_forward_mce(void)
{
#ifdef CONFIG_X86_MCE
	struct pt_regs regs = {
		.cs = 3,
		.flags = X86_EFLAGS_IF,
	};

	do_machine_check(&regs);
#endif
}

/* XCR0 values the CPU accepts from us: x87 set, nothing the host lacks. */
static bool vmx_xcr0_loadable(u64 xcr0)
{
	return (xcr0 & XFEATURE_MASK_FP) && !(xcr0 & ~vmx_host_xcr0);
}

/* ---- one guest entry --------------------------------------------------------- */

/* Everything before VMLAUNCH/VMRESUME that may VMWRITE; interrupts off. */
static void vmx_prepare_entry(struct vmx_vcpu *vmx, int cpu)
{
	struct khv_vcpu *vcpu = &vmx->vcpu;
	unsigned long cr3, cr4;

	/* RIP moved by core (skip, emulation) or userspace: the shadow is over. */
	if (vcpu->regs[KHV_REG_RIP] != vmx->exit_rip)
		vmx->intr_state &= ~INTR_STATE_SHADOW;

	/* A new CPU may hold translations from this vCPU's earlier visit. */
	if (vmx->last_run_cpu != cpu) {
		vmx->last_run_cpu = cpu;
		khv_test_clear_request(vcpu, KHV_REQ_TLB_FLUSH);
		vmx_flush_ept(vmx_eptp(vcpu));
		khv_kstat(vcpu, KHV_KSTAT_TLB_FLUSH);
		vmx->flush_vpid = true;
	}
	if (khv_test_clear_request(vcpu, KHV_REQ_TLB_FLUSH)) {
		vmx_flush_ept(vmx_eptp(vcpu));
		khv_kstat(vcpu, KHV_KSTAT_TLB_FLUSH);
	}
	if (vmx->flush_vpid) {
		vmx_flush_vpid(vmx->vpid);
		vmx->flush_vpid = false;
	}

	if (!vmx->guest_msrs_loaded)
		vmx_load_guest_msrs(vmx);
	/* The kernel may switch CR3 (PCID, temporary mm) and CR4 at any time. */
	cr3 = __get_current_cr3_fast();
	if (cr3 != vmx->host_cr3) {
		vmcs_write(VMCS_HOST_CR3, cr3);
		vmx->host_cr3 = cr3;
	}
	cr4 = cr4_read_shadow();
	if (cr4 != vmx->host_cr4) {
		vmcs_write(VMCS_HOST_CR4, cr4);
		vmx->host_cr4 = cr4;
	}

	vmx_inject_events(vmx);
	vmcs_write(VMCS_GUEST_RSP, vcpu->regs[KHV_REG_RSP]);
	vmcs_write(VMCS_GUEST_RIP, vcpu->regs[KHV_REG_RIP]);
	vmcs_write(VMCS_GUEST_RFLAGS, (vcpu->rflags & VMX_RFLAGS_VALID) | X86_EFLAGS_FIXED);
	/* An STI shadow exists only with IF=1 (userspace may have cleared IF). */
	if (!(vcpu->rflags & X86_EFLAGS_IF))
		vmx->intr_state &= ~INTR_STATE_STI;
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, vmx->intr_state);
	/*
	 * The single-step trap of an instruction an exit stopped is not
	 * pending: the instruction runs again, or khv completes it and queues
	 * that trap itself (khv_complete_instruction()).  Some emulators save
	 * it anyway, which would deliver it twice, or before the instruction.
	 * Under an STI/MOV SS shadow, though, VM entry wants a pending
	 * single-step trap exactly when TF is set.
	 */
	if ((vmx->fault_exit && (vcpu->rflags & X86_EFLAGS_TF)) ||
	    (vmx->intr_state & INTR_STATE_SHADOW)) {
		u64 pending = vmcs_read(VMCS_GUEST_PENDING_DBG) & ~PENDING_DBG_BS;

		if ((vcpu->rflags & X86_EFLAGS_TF) && (vmx->intr_state & INTR_STATE_SHADOW))
			pending |= PENDING_DBG_BS;
		vmcs_write(VMCS_GUEST_PENDING_DBG, pending);
	}
	vmx_switch_perf_msrs(vmx);
}

/*
 * Exits that stop the guest in the middle of an instruction (it faulted, or
 * is intercepted), as opposed to the asynchronous ones that come between
 * two instructions (interrupts, NMIs, windows, the preemption timer).
 */
static bool vmx_exit_is_fault(u32 basic, const struct vmx_vcpu *vmx)
{
	switch (basic) {
	case EXIT_EXCEPTION_NMI:
		return (vmx->exit_intr_info & INTR_INFO_TYPE) != INTR_TYPE_NMI;
	case EXIT_EXTINT:
	case EXIT_INIT:
	case EXIT_SIPI:
	case EXIT_IO_SMI:
	case EXIT_OTHER_SMI:
	case EXIT_INTR_WINDOW:
	case EXIT_NMI_WINDOW:
	case EXIT_PREEMPTION_TIMER:
		return false;
	default:
		return true;
	}
}

/* Read the exit; NMIs and machine checks go to the host first. */
static void vmx_read_exit(struct vmx_vcpu *vmx, int ret)
{
	struct khv_vcpu *vcpu = &vmx->vcpu;
	u32 basic;

	vmx->idt_vectoring = 0;
	vmx->exit_intr_info = 0;
	vmx->fault_exit = false;
	if (ret) {
		/* VMfail (or VMX off): no guest code ran; retry the event later. */
		vmx->exit_reason = EXIT_VMFAIL;
		vmx->vm_insn_error = ret == 1 ? vmcs_read32(VMCS_VM_INSN_ERROR) : 0;
		vmx->reinject = vmx->injected;
		vmx->reinject_error = vmx->injected_error;
		vmx->reinject_len = vmx->injected_len;
		return;
	}
	vmx->exit_reason = vmcs_read32(VMCS_EXIT_REASON);
	basic = VMX_EXIT_BASIC(vmx->exit_reason);
	if (vmx->exit_reason & VMX_EXIT_ENTRY_FAILURE) {
		if (basic == EXIT_MCE_DURING_ENTRY)
			vmx_forward_mce();
		vmx->reinject = vmx->injected;
		vmx->reinject_error = vmx->injected_error;
		vmx->reinject_len = vmx->injected_len;
		return;
	}
	vmx->launched = true;

	if (basic == EXIT_EXCEPTION_NMI) {
		u32 info = vmcs_read32(VMCS_EXIT_INTR_INFO);

		vmx->exit_intr_info = info;
		if ((info & INTR_INFO_TYPE) == INTR_TYPE_NMI)
			__khv_vmx_do_nmi();
		else if ((info & INTR_INFO_VECTOR) == X86_TRAP_MC)
			vmx_forward_mce();
	}
	vmx->fault_exit = vmx_exit_is_fault(basic, vmx);

	vcpu->regs[KHV_REG_RSP] = vmcs_read(VMCS_GUEST_RSP);
	vcpu->regs[KHV_REG_RIP] = vmcs_read(VMCS_GUEST_RIP);
	vcpu->rflags = vmcs_read(VMCS_GUEST_RFLAGS);
	vmx->exit_rip = vcpu->regs[KHV_REG_RIP];
	vmx->intr_state = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY);
	vmx->idt_vectoring = vmcs_read32(VMCS_IDT_VECTORING_INFO);
	/*
	 * An exception in an IRET that had already unblocked NMIs: the IRET
	 * runs again, so NMIs are blocked until then (not after a #DF, which
	 * no IRET follows).
	 */
	if ((vmx->exit_intr_info & INTR_INFO_NMI_UNBLOCK) &&
	    (vmx->exit_intr_info & INTR_INFO_VECTOR) != X86_TRAP_DF &&
	    !(vmx->idt_vectoring & INTR_INFO_VALID))
		vmx->intr_state |= INTR_STATE_NMI;
	vmx_complete_events(vmx);
}

static void vmx_run(struct khv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	bool guest_xcr0, guest_dr;
	u64 debugctl;
	int ret;

	vmx_prepare_entry(vmx, smp_processor_id());

	guest_xcr0 = vmx_has_xsave && (vmx->cr4 & X86_CR4_OSXSAVE) &&
		     vcpu->xcr0 != vmx_host_xcr0 && vmx_xcr0_loadable(vcpu->xcr0);
	guest_dr = vmcs_read(VMCS_GUEST_DR7) & KHV_DR7_ENABLES;
	/* VM exits clear DEBUGCTL (the VMCS loads the guest's on entry). */
	debugctl = get_debugctlmsr();

	if (guest_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vcpu->xcr0);
	if (guest_dr) {
		/* Host breakpoints must not fire on guest addresses meanwhile. */
		if (hw_breakpoint_active())
			set_debugreg(0, 7);
		set_debugreg(vcpu->dr[0], 0);
		set_debugreg(vcpu->dr[1], 1);
		set_debugreg(vcpu->dr[2], 2);
		set_debugreg(vcpu->dr[3], 3);
	}
	if (native_read_cr2() != vmx->cr2)
		native_write_cr2(vmx->cr2);
	vmx_l1d_flush(vcpu);

	ret = __khv_vmx_vmenter(vcpu->regs, vmx->launched);

	vmx->cr2 = native_read_cr2();
	if (debugctl)
		update_debugctlmsr(debugctl);
	/* XSETBV always exits on VT-x; checked anyway (core/exits.c). */
	if (guest_xcr0 || (vmx_has_xsave && (vmx->cr4 & X86_CR4_OSXSAVE)))
		khv_xcr0_after_exit(vcpu, vmx_host_xcr0, guest_xcr0);
	/* VM exits leave DR7 = 0x400: bring the host's breakpoints back. */
	if (hw_breakpoint_active())
		hw_breakpoint_restore();

	vmx_read_exit(vmx, ret);
}

static u32 vmx_stat_index(u32 hw_code)
{
	return vmx_exit_stat_index(hw_code);
}

static int vmx_mmu_levels(void)
{
	return khv_ept_levels();
}

static bool vmx_in_interrupt_shadow(struct khv_vcpu *vcpu)
{
	return vmx_in_shadow(to_vmx(vcpu));
}

static void vmx_reset(struct khv_vcpu *vcpu)
{
	vmx_vcpu_reset(to_vmx(vcpu));
}

static void vmx_set_tsc_offset(struct khv_vcpu *vcpu, u64 offset)
{
	WRITE_ONCE(vcpu->tsc_offset, offset);
	vmcs_write(VMCS_TSC_OFFSET, offset);
}

/* vmx_inject_events() would put an external interrupt in on this entry. */
static bool vmx_interrupt_allowed(struct khv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	return (vcpu->rflags & X86_EFLAGS_IF) && !vmx_in_shadow(vmx) && !vmx->reinject &&
	       !vcpu->exception.pending;
}

/*
 * Study mode: RDTSC exiting (a control every VT-x CPU allows to be 1), and
 * every MSR, the pass-through ones too.  The vCPU is loaded: its VMCS is
 * current.
 */
static void vmx_set_study(struct khv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	const struct khv_study *set = &vcpu->study.set;
	u32 crs = set->events & KHV_STUDY_CR_WRITE ? set->cr_write ?: ~0u : 0;
	u64 ev = set->events;
	u32 proc = vmx->proc & ~(PROC_RDTSC_EXITING | PROC_CR3_LOAD_EXITING |
				 PROC_INVLPG_EXITING | PROC_PAUSE_EXITING);

	if (ev & KHV_STUDY_RDTSC)
		proc |= PROC_RDTSC_EXITING;
	if (crs & KHV_STUDY_CR3)
		proc |= PROC_CR3_LOAD_EXITING;
	if (ev & KHV_STUDY_INVLPG)
		proc |= PROC_INVLPG_EXITING;
	if (ev & KHV_STUDY_PAUSE)
		proc |= PROC_PAUSE_EXITING;
	/* A CPU that forces a control keeps it (vmx_caps.proc has its 1s). */
	vmx->proc = proc | (vmx_caps.proc & (PROC_CR3_LOAD_EXITING | PROC_INVLPG_EXITING));
	vmcs_write(VMCS_PROC_CTLS, vmx->proc);
	if (vmx_caps.desc_exiting) {
		u32 proc2 = vmcs_read32(VMCS_PROC_CTLS2) & ~PROC2_DESC_EXITING;

		vmcs_write(VMCS_PROC_CTLS2, proc2 | (ev & KHV_STUDY_DESC ? PROC2_DESC_EXITING : 0));
	}
	vmcs_write(VMCS_MSR_BITMAP, page_to_phys(ev & (KHV_STUDY_RDMSR | KHV_STUDY_WRMSR) ?
						 vmx_msr_bitmap_all : vmx_msr_bitmap));
	/* Every #PF of a studied #PF: the PFEC mask and match stay 0. */
	vmcs_write(VMCS_EXCEPTION_BITMAP, VMX_EXC_INTERCEPTS |
		   (ev & KHV_STUDY_EXCEPTION ? set->exceptions ?: KHV_STUDY_EXCEPTIONS : 0));
	/*
	 * CR0 and CR4 wholly owned by khv while studied: every MOV that
	 * changes a bit then exits (one that writes the value the register
	 * holds does not: VT-x compares with the read shadow).  The bits the
	 * guest owned until now are in the hardware register: take them into
	 * vmx->cr0/cr4 and the shadow first.
	 */
	vmx->cr0 = vmx_get_cr0(vmx);
	vmcs_write(VMCS_CR0_SHADOW, vmx->cr0);
	vmcs_write(VMCS_CR0_MASK, crs & KHV_STUDY_CR0 ? ~0ull : ~(u64)VMX_CR0_GUEST_OWNED);
	vmx->cr4 = vmx_get_cr4(vmx);
	vmcs_write(VMCS_CR4_SHADOW, vmx->cr4);
	vmcs_write(VMCS_CR4_MASK, crs & KHV_STUDY_CR4 ? ~0ull : ~(u64)VMX_CR4_GUEST_OWNED);
}

/* KHV_STUDY_DESC needs "descriptor-table exiting" (Bochs, hardware since Westmere). */
static u64 vmx_study_missing(void)
{
	return vmx_caps.desc_exiting ? 0 : KHV_STUDY_DESC;
}

static bool vmx_has_rdtscp(void)
{
	return vmx_caps.rdtscp;
}

static void vmx_drop_redelivery(struct khv_vcpu *vcpu)
{
	to_vmx(vcpu)->reinject = 0;
}

int vmx_set_cr(struct khv_vcpu *vcpu, int cr, u64 val)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	switch (cr) {
	case 0:
		return vmx_set_cr0(vmx, val);
	case 3:
		return vmx_set_cr3(vmx, val);
	case 4:
		return vmx_set_cr4(vmx, val);
	case 8:
		return vmx_set_cr8(vmx, val);
	}
	return -EINVAL;
}

const struct khv_backend khv_vmx_backend = {
	.name			= "vmx",
	.vendor			= KHV_VENDOR_INTEL,
	.vcpu_size		= sizeof(struct vmx_vcpu),

	.probe			= vmx_probe,
	.setup			= vmx_setup,
	.teardown		= vmx_teardown,
	.cpu_enable		= vmx_cpu_enable,
	.cpu_disable		= vmx_cpu_disable,

	.vm_init		= vmx_vm_init,
	.vm_destroy		= vmx_vm_destroy,
	.vcpu_init		= vmx_vcpu_init,
	.vcpu_destroy		= vmx_vcpu_destroy,
	.vcpu_load		= vmx_vcpu_load,
	.vcpu_put		= vmx_vcpu_put,

	.run			= vmx_run,
	.handle_exit		= vmx_handle_exit,

	.get_segment		= vmx_get_segment,
	.get_sregs		= vmx_get_sregs,
	.set_sregs		= vmx_set_sregs,
	.set_segment		= vmx_set_segment_op,
	.set_dtable		= vmx_set_dtable,
	.get_cr			= vmx_get_cr,
	.get_efer		= vmx_get_efer,
	.get_cpl		= vmx_get_cpl,
	.in_interrupt_shadow	= vmx_in_interrupt_shadow,
	.get_events		= vmx_get_events,
	.set_events		= vmx_set_events,
	.interrupt_allowed	= vmx_interrupt_allowed,
	.reset			= vmx_reset,
	.set_tsc_offset		= vmx_set_tsc_offset,
	.get_msr		= vmx_get_msr,
	.set_msr		= vmx_set_msr,
	.get_dr67		= vmx_get_dr67,
	.set_dr67		= vmx_set_dr67,
	.hw_insn_len		= vmx_hw_insn_len,
	.exit_info		= vmx_exit_info,
	.set_study		= vmx_set_study,
	.study_missing		= vmx_study_missing,
	.has_rdtscp		= vmx_has_rdtscp,
	.set_cr			= vmx_set_cr,
	.drop_redelivery	= vmx_drop_redelivery,

	.mmu_format		= &khv_ept_format,
	.mmu_levels		= vmx_mmu_levels,
	.dirty_log_mode		= vmx_pml_dirty_log_mode,

	.exit_stat_index	= vmx_stat_index,
	.exit_stat_info		= vmx_exit_stat_info,
};
