// SPDX-License-Identifier: GPL-2.0
/*
 * Guest registers as core sees them: segments, system registers, control
 * registers (with the VMCS shadows and the EFER.LMA / "IA-32e mode guest"
 * bookkeeping VMX leaves to software), and the MSRs the backend keeps.
 *
 * Everything here runs with the vCPU loaded, so VMREAD and VMWRITE reach
 * its VMCS (a preemption in between reloads it on the new CPU).
 */
#include <linux/kernel.h>
#include <asm/msr.h>
#include <asm/processor-flags.h>

#include "vmx.h"

/* CR0 bits that exist (all of 63:32 are reserved). */
#define VMX_CR0_VALID	(X86_CR0_PE | X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | \
			 X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_AM | \
			 X86_CR0_NW | X86_CR0_CD | X86_CR0_PG)

/* CR4 bits whose change invalidates translations (or the PDPTEs). */
#define VMX_CR4_PAGING	(X86_CR4_PSE | X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PCIDE | \
			 X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_LA57 | X86_CR4_PKE)

bool vmx_long_mode_64(struct vmx_vcpu *vmx)
{
	return (vmx->efer & EFER_LMA) &&
	       (vmcs_read32(VMCS_GUEST_AR(vmx_seg_index(KHV_SEG_CS))) & SEGAR_L);
}

u64 vmx_get_cr0(struct vmx_vcpu *vmx)
{
	return (vmx->cr0 & ~VMX_CR0_GUEST_OWNED) |
	       (vmcs_read(VMCS_GUEST_CR0) & VMX_CR0_GUEST_OWNED);
}

u64 vmx_get_cr4(struct vmx_vcpu *vmx)
{
	return (vmx->cr4 & ~VMX_CR4_GUEST_OWNED) |
	       (vmcs_read(VMCS_GUEST_CR4) & VMX_CR4_GUEST_OWNED);
}

static bool vmx_pae_paging(u64 cr0, u64 cr4, u64 efer)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) && !(efer & EFER_LMA);
}

/*
 * PAE paging under EPT: VM entry loads the four PDPTEs from the VMCS, not
 * from memory, so whenever khv (not the guest's own MOV to CR3) establishes
 * PAE paging or a new CR3 under it, the PDPTEs are read here, as the CPU
 * would have.  -EINVAL when a present one has reserved bits set (#GP).
 */
static int vmx_load_pdptes(struct vmx_vcpu *vmx, u64 cr3)
{
	u64 pdpte[4], rsvd = GENMASK_ULL(63, boot_cpu_data.x86_phys_bits) |
			     GENMASK_ULL(8, 5) | GENMASK_ULL(2, 1);
	int i;

	if (khv_read_guest(vmx->vcpu.vm, cr3 & GENMASK_ULL(31, 5), pdpte, sizeof(pdpte)))
		return -EINVAL;
	for (i = 0; i < 4; i++)
		if ((pdpte[i] & 1) && (pdpte[i] & rsvd))
			return -EINVAL;
	for (i = 0; i < 4; i++)
		vmcs_write(VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
	return 0;
}

static void vmx_write_cr0(struct vmx_vcpu *vmx, u64 cr0)
{
	vmx->cr0 = cr0;
	vmcs_write(VMCS_CR0_SHADOW, cr0);
	vmcs_write(VMCS_GUEST_CR0, vmx_hw_cr0(cr0));
}

static void vmx_write_cr4(struct vmx_vcpu *vmx, u64 cr4)
{
	vmx->cr4 = cr4;
	vmcs_write(VMCS_CR4_SHADOW, cr4);
	vmcs_write(VMCS_GUEST_CR4, vmx_hw_cr4(cr4));
}

/* EFER, and the entry control that must agree with its LMA. */
static void vmx_write_efer(struct vmx_vcpu *vmx, u64 efer)
{
	vmx->efer = efer;
	vmcs_write(VMCS_GUEST_EFER, efer);
	if (efer & EFER_LMA)
		vmx->entry |= ENTRY_IA32E;
	else
		vmx->entry &= ~ENTRY_IA32E;
	vmcs_write(VMCS_ENTRY_CTLS, vmx->entry);
}

/*
 * Entering IA-32e mode: VM entry then wants TR to be a busy 64-bit TSS
 * (type 11), while a CPU switching modes never looks at TR until the next
 * task switch or LTR.  A 16-bit busy TSS (type 3, the RESET value) becomes
 * type 11, which is what the CPU would load from a 64-bit TSS descriptor.
 */
static void vmx_tr_fixup(struct vmx_vcpu *vmx)
{
	unsigned int i = vmx_seg_index(KHV_SEG_TR);
	u32 ar = vmcs_read32(VMCS_GUEST_AR(i));

	if ((ar & SEGAR_TYPE) != 11)
		vmcs_write(VMCS_GUEST_AR(i), (ar & ~SEGAR_TYPE) | 11);
}

/*
 * Guest MOV to CR0 (or LMSW, CLTS): the checks the CPU would make, then the
 * long-mode transitions VMX leaves to software: setting PG with EFER.LME
 * sets EFER.LMA and the "IA-32e mode guest" entry control, clearing PG
 * clears them.
 */
int vmx_set_cr0(struct vmx_vcpu *vmx, u64 cr0)
{
	u64 old = vmx_get_cr0(vmx), cr4 = vmx_get_cr4(vmx), efer = vmx->efer;

	if (cr0 & ~VMX_CR0_VALID)
		return -EINVAL;
	cr0 |= X86_CR0_ET;
	if ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE))
		return -EINVAL;
	if ((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD))
		return -EINVAL;

	if ((cr0 & X86_CR0_PG) && !(old & X86_CR0_PG)) {
		if (efer & EFER_LME) {
			if (!(cr4 & X86_CR4_PAE))
				return -EINVAL;
			efer |= EFER_LMA;
		} else if ((cr4 & X86_CR4_PAE) &&
			   vmx_load_pdptes(vmx, vmcs_read(VMCS_GUEST_CR3))) {
			return -EINVAL;
		}
	} else if (!(cr0 & X86_CR0_PG) && (old & X86_CR0_PG)) {
		/* Leaving long mode is legal only from compatibility mode. */
		if (vmx_long_mode_64(vmx) || (cr4 & X86_CR4_PCIDE))
			return -EINVAL;
		efer &= ~EFER_LMA;
	}

	vmx_write_cr0(vmx, cr0);
	if (efer != vmx->efer)
		vmx_write_efer(vmx, efer);
	if ((efer & EFER_LMA) && !(old & X86_CR0_PG))
		vmx_tr_fixup(vmx);
	if ((cr0 ^ old) & (X86_CR0_PG | X86_CR0_PE | X86_CR0_WP))
		vmx->flush_vpid = true;
	return 0;
}

/* Guest MOV to CR4: only what this CPU has (never VMXE), as the CPU checks. */
int vmx_set_cr4(struct vmx_vcpu *vmx, u64 cr4)
{
	u64 old = vmx_get_cr4(vmx), cr0 = vmx_get_cr0(vmx);
	bool lma = vmx->efer & EFER_LMA;

	if (cr4 & ~vmx_caps.cr4_allowed)
		return -EINVAL;
	if (lma && (!(cr4 & X86_CR4_PAE) || ((cr4 ^ old) & X86_CR4_LA57)))
		return -EINVAL;
	if ((cr4 & X86_CR4_PCIDE) && !(old & X86_CR4_PCIDE) &&
	    (!lma || (vmcs_read(VMCS_GUEST_CR3) & 0xfff)))
		return -EINVAL;
	if (vmx_pae_paging(cr0, cr4, vmx->efer) &&
	    ((cr4 ^ old) & (X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PSE | X86_CR4_SMEP)) &&
	    vmx_load_pdptes(vmx, vmcs_read(VMCS_GUEST_CR3)))
		return -EINVAL;
	vmx_write_cr4(vmx, cr4);
	if ((cr4 ^ old) & VMX_CR4_PAGING)
		vmx->flush_vpid = true;
	return 0;
}

/* Guest MOV to CR3 (only on CPUs that force CR3-load exiting). */
int vmx_set_cr3(struct vmx_vcpu *vmx, u64 cr3)
{
	u64 cr4 = vmx_get_cr4(vmx);

	if (vmx->efer & EFER_LMA) {
		/* Bit 63 is the PCID "no flush" hint, not part of CR3. */
		if (cr4 & X86_CR4_PCIDE)
			cr3 &= ~BIT_ULL(63);
		if (cr3 & GENMASK_ULL(63, boot_cpu_data.x86_phys_bits))
			return -EINVAL;
	} else {
		cr3 = (u32)cr3;
		if (vmx_pae_paging(vmx_get_cr0(vmx), cr4, vmx->efer) && vmx_load_pdptes(vmx, cr3))
			return -EINVAL;
	}
	vmcs_write(VMCS_GUEST_CR3, cr3);
	vmx->flush_vpid = true;
	return 0;
}

/* ---- segments ------------------------------------------------------------ */

void vmx_get_segment(struct khv_vcpu *vcpu, struct khv_segment *out, enum khv_seg seg)
{
	unsigned int i = vmx_seg_index(seg);
	u32 ar = vmcs_read32(VMCS_GUEST_AR(i));

	memset(out, 0, sizeof(*out));
	out->selector = vmcs_read(VMCS_GUEST_SEL(i));
	out->base = vmcs_read(VMCS_GUEST_BASE(i));
	out->limit = vmcs_read32(VMCS_GUEST_LIMIT(i));
	out->type = ar & SEGAR_TYPE;
	out->s = !!(ar & SEGAR_S);
	out->dpl = (ar & SEGAR_DPL) >> SEGAR_DPL_SHIFT;
	out->avl = !!(ar & SEGAR_AVL);
	out->l = !!(ar & SEGAR_L);
	out->db = !!(ar & SEGAR_DB);
	out->g = !!(ar & SEGAR_G);
	/*
	 * An unusable ("null") segment is reported not present; a usable one
	 * is always present (VM entry requires it).
	 */
	out->unusable = !!(ar & SEGAR_UNUSABLE);
	out->present = !out->unusable && (ar & SEGAR_P);
}

/*
 * A segment that is unusable, or not present, is loaded as unusable: VM
 * entry demands P=1 of every usable one.  SS keeps its DPL either way: it
 * is the CPL, and VM entry checks it even for an unusable SS.
 */
static void vmx_set_segment(struct vmx_vcpu *vmx, const struct khv_segment *in, enum khv_seg seg)
{
	unsigned int i = vmx_seg_index(seg);
	u32 ar = (in->dpl & 3) << SEGAR_DPL_SHIFT;

	if (in->unusable || !in->present) {
		ar |= SEGAR_UNUSABLE;
	} else {
		ar |= (in->type & SEGAR_TYPE) | SEGAR_P;
		if (in->s)
			ar |= SEGAR_S;
		if (in->avl)
			ar |= SEGAR_AVL;
		if (in->l)
			ar |= SEGAR_L;
		if (in->db)
			ar |= SEGAR_DB;
		if (in->g)
			ar |= SEGAR_G;
	}
	vmcs_write(VMCS_GUEST_SEL(i), in->selector);
	vmcs_write(VMCS_GUEST_BASE(i), in->base);
	vmcs_write(VMCS_GUEST_LIMIT(i), in->limit);
	vmcs_write(VMCS_GUEST_AR(i), ar);
}

void vmx_set_segment_op(struct khv_vcpu *vcpu, const struct khv_segment *s, enum khv_seg seg)
{
	vmx_set_segment(to_vmx(vcpu), s, seg);
}

void vmx_set_dtable(struct khv_vcpu *vcpu, bool idt, u64 base, u16 limit)
{
	vmcs_write(idt ? VMCS_GUEST_IDTR_BASE : VMCS_GUEST_GDTR_BASE, base);
	vmcs_write(idt ? VMCS_GUEST_IDTR_LIMIT : VMCS_GUEST_GDTR_LIMIT, limit);
}

void vmx_get_sregs(struct khv_vcpu *vcpu, struct khv_sregs *sregs)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	vmx_get_segment(vcpu, &sregs->cs, KHV_SEG_CS);
	vmx_get_segment(vcpu, &sregs->ds, KHV_SEG_DS);
	vmx_get_segment(vcpu, &sregs->es, KHV_SEG_ES);
	vmx_get_segment(vcpu, &sregs->fs, KHV_SEG_FS);
	vmx_get_segment(vcpu, &sregs->gs, KHV_SEG_GS);
	vmx_get_segment(vcpu, &sregs->ss, KHV_SEG_SS);
	vmx_get_segment(vcpu, &sregs->tr, KHV_SEG_TR);
	vmx_get_segment(vcpu, &sregs->ldt, KHV_SEG_LDTR);
	sregs->gdt.base = vmcs_read(VMCS_GUEST_GDTR_BASE);
	sregs->gdt.limit = vmcs_read32(VMCS_GUEST_GDTR_LIMIT);
	sregs->idt.base = vmcs_read(VMCS_GUEST_IDTR_BASE);
	sregs->idt.limit = vmcs_read32(VMCS_GUEST_IDTR_LIMIT);
	sregs->cr0 = vmx_get_cr0(vmx);
	sregs->cr2 = vmx->cr2;
	sregs->cr3 = vmcs_read(VMCS_GUEST_CR3);
	sregs->cr4 = vmx_get_cr4(vmx);
	sregs->cr8 = vmx->cr8;
	sregs->efer = vmx->efer;
	sregs->apic_base = vcpu->apic_base;
}

/*
 * The CR0/CR4/EFER/CS combinations the architecture does not allow: -EINVAL
 * rather than a FAIL_ENTRY exit (same rules as the SVM backend, so that
 * userspace sees one behaviour).
 */
static int vmx_check_sregs(const struct khv_sregs *s)
{
	u64 cr0 = s->cr0 | X86_CR0_ET;

	if (cr0 & ~VMX_CR0_VALID)
		return -EINVAL;
	if ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE))
		return -EINVAL;
	if ((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD))
		return -EINVAL;
	if (s->cr4 & ~vmx_caps.cr4_allowed)
		return -EINVAL;
	if (s->efer & ~vmx_caps.efer_allowed)
		return -EINVAL;
	if ((s->efer & EFER_LME) && (cr0 & X86_CR0_PG)) {
		if (!(s->cr4 & X86_CR4_PAE) || !(s->efer & EFER_LMA))
			return -EINVAL;
		if (s->cs.l && s->cs.db)
			return -EINVAL;
		/* Entry refuses CR3 bits at or above the CPU's MAXPHYADDR. */
		if (s->cr3 & GENMASK_ULL(63, boot_cpu_data.x86_phys_bits))
			return -EINVAL;
	} else {
		if ((s->efer & EFER_LMA) || s->cs.l)
			return -EINVAL;
		if ((s->cr4 & X86_CR4_PCIDE) || (s->cr3 >> 32))
			return -EINVAL;
	}
	return 0;
}

int vmx_set_sregs(struct khv_vcpu *vcpu, const struct khv_sregs *sregs)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 cr0 = sregs->cr0 | X86_CR0_ET;
	int err;

	err = vmx_check_sregs(sregs);
	if (err)
		return err;

	vmx_set_segment(vmx, &sregs->cs, KHV_SEG_CS);
	vmx_set_segment(vmx, &sregs->ds, KHV_SEG_DS);
	vmx_set_segment(vmx, &sregs->es, KHV_SEG_ES);
	vmx_set_segment(vmx, &sregs->fs, KHV_SEG_FS);
	vmx_set_segment(vmx, &sregs->gs, KHV_SEG_GS);
	vmx_set_segment(vmx, &sregs->ss, KHV_SEG_SS);
	vmx_set_segment(vmx, &sregs->tr, KHV_SEG_TR);
	vmx_set_segment(vmx, &sregs->ldt, KHV_SEG_LDTR);
	vmcs_write(VMCS_GUEST_GDTR_BASE, sregs->gdt.base);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, sregs->gdt.limit);
	vmcs_write(VMCS_GUEST_IDTR_BASE, sregs->idt.base);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, sregs->idt.limit);
	vmx_write_cr0(vmx, cr0);
	vmx->cr2 = sregs->cr2;
	vmcs_write(VMCS_GUEST_CR3, sregs->cr3);
	vmx_write_cr4(vmx, sregs->cr4);
	vmx->cr8 = sregs->cr8;
	vmx_write_efer(vmx, sregs->efer);
	if (sregs->efer & EFER_LMA)
		vmx_tr_fixup(vmx);
	/*
	 * PDPTEs as a MOV to CR3 would load them; unreadable ones are left
	 * zero (not present): the guest then faults, as on hardware whose
	 * PDPTEs point nowhere.
	 */
	if (vmx_pae_paging(cr0, sregs->cr4, sregs->efer) && vmx_load_pdptes(vmx, sregs->cr3)) {
		int i;

		for (i = 0; i < 4; i++)
			vmcs_write(VMCS_GUEST_PDPTE0 + 2 * i, 0);
	}
	/* Translations cached under the old paging state are now wrong. */
	vmx->flush_vpid = true;
	return 0;
}

u64 vmx_get_cr(struct khv_vcpu *vcpu, int cr)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	switch (cr) {
	case 0:
		return vmx_get_cr0(vmx);
	case 2:
		return vmx->cr2;
	case 3:
		return vmcs_read(VMCS_GUEST_CR3);
	case 4:
		return vmx_get_cr4(vmx);
	default:
		return 0;
	}
}

u64 vmx_get_efer(struct khv_vcpu *vcpu)
{
	return to_vmx(vcpu)->efer;
}

/* SS.DPL is the CPL (VM entry enforces it; 0 in real mode). */
int vmx_get_cpl(struct khv_vcpu *vcpu)
{
	return (vmcs_read32(VMCS_GUEST_SS_AR) & SEGAR_DPL) >> SEGAR_DPL_SHIFT;
}

/* ---- MSRs kept by the backend ------------------------------------------- */


static int vmx_set_efer(struct vmx_vcpu *vmx, u64 data, bool host)
{
	u64 old = vmx->efer;

	if (data & ~vmx_caps.efer_allowed)
		return -EINVAL;
	if (!host) {
		/* LME may not change under paging; LMA is the CPU's to set. */
		if ((vmx_get_cr0(vmx) & X86_CR0_PG) && ((data ^ old) & EFER_LME))
			return -EINVAL;
		data = (data & ~EFER_LMA) | (old & EFER_LMA);
	}
	vmx_write_efer(vmx, data);
	return 0;
}

/*
 * The syscall MSRs and KERNEL_GS_BASE: the software copy, or the CPU's
 * register while the guest's values are loaded there (vmx.c).  Preemption
 * off: a vcpu_put in between would swap the host's values back.
 */
static u64 *vmx_syscall_msr(struct vmx_vcpu *vmx, u32 index)
{
	switch (index) {
	case MSR_STAR:
		return &vmx->star;
	case MSR_LSTAR:
		return &vmx->lstar;
	case MSR_CSTAR:
		return &vmx->cstar;
	case MSR_SYSCALL_MASK:
		return &vmx->sfmask;
	case MSR_KERNEL_GS_BASE:
		return &vmx->kernel_gs_base;
	default:
		return NULL;
	}
}

int vmx_get_msr(struct khv_vcpu *vcpu, u32 index, u64 *data)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 *p = vmx_syscall_msr(vmx, index);

	if (p) {
		preempt_disable();
		/* The guest changes KERNEL_GS_BASE with SWAPGS, without an exit. */
		if (index == MSR_KERNEL_GS_BASE && vmx->guest_msrs_loaded)
			rdmsrl(MSR_KERNEL_GS_BASE, vmx->kernel_gs_base);
		*data = *p;
		preempt_enable();
		return 0;
	}
	switch (index) {
	case MSR_EFER:
		*data = vmx->efer;
		break;
	case MSR_FS_BASE:
		*data = vmcs_read(VMCS_GUEST_FS_BASE);
		break;
	case MSR_GS_BASE:
		*data = vmcs_read(VMCS_GUEST_GS_BASE);
		break;
	case MSR_IA32_SYSENTER_CS:
		*data = vmcs_read32(VMCS_GUEST_SYSENTER_CS);
		break;
	case MSR_IA32_SYSENTER_ESP:
		*data = vmcs_read(VMCS_GUEST_SYSENTER_ESP);
		break;
	case MSR_IA32_SYSENTER_EIP:
		*data = vmcs_read(VMCS_GUEST_SYSENTER_EIP);
		break;
	case MSR_IA32_CR_PAT:
		*data = vmcs_read(VMCS_GUEST_PAT);
		break;
	case MSR_IA32_TSC:
		*data = rdtsc() + vmcs_read(VMCS_TSC_OFFSET);
		break;
	case MSR_IA32_DEBUGCTLMSR:
		*data = 0;	/* no LBR virtualization: reads as off */
		break;
	default:
		return 1;
	}
	return 0;
}

int vmx_set_msr(struct khv_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 *p = vmx_syscall_msr(vmx, index);

	if (p) {
		/* What WRMSR of the real register would #GP on. */
		if (index == MSR_SYSCALL_MASK && (data >> 32))
			return -EINVAL;
		if ((index == MSR_LSTAR || index == MSR_CSTAR || index == MSR_KERNEL_GS_BASE) &&
		    !khv_canonical(data))
			return -EINVAL;
		preempt_disable();
		*p = data;
		if (vmx->guest_msrs_loaded)
			wrmsrl(index, data);
		preempt_enable();
		return 0;
	}
	switch (index) {
	case MSR_EFER:
		return vmx_set_efer(vmx, data, host);
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		/* VM entry refuses non-canonical values in these fields. */
		if (!khv_canonical(data))
			return -EINVAL;
		vmcs_write(index == MSR_FS_BASE ? VMCS_GUEST_FS_BASE :
			   index == MSR_GS_BASE ? VMCS_GUEST_GS_BASE :
			   index == MSR_IA32_SYSENTER_ESP ? VMCS_GUEST_SYSENTER_ESP :
			   VMCS_GUEST_SYSENTER_EIP, data);
		return 0;
	case MSR_IA32_SYSENTER_CS:
		if (data >> 32)
			return -EINVAL;
		vmcs_write(VMCS_GUEST_SYSENTER_CS, data);
		return 0;
	case MSR_IA32_CR_PAT:
		if (!khv_pat_valid(data))
			return -EINVAL;
		vmcs_write(VMCS_GUEST_PAT, data);
		return 0;
	case MSR_IA32_TSC:
		WRITE_ONCE(vcpu->tsc_offset, data - rdtsc());
		vmcs_write(VMCS_TSC_OFFSET, vcpu->tsc_offset);
		return 0;
	case MSR_IA32_DEBUGCTLMSR:
		/* LBR and BTF are accepted and ignored; the rest is reserved. */
		return (data & ~(DEBUGCTLMSR_LBR | DEBUGCTLMSR_BTF)) ? -EINVAL : 0;
	default:
		return 1;
	}
}
