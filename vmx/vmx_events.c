// SPDX-License-Identifier: GPL-2.0
/*
 * Guest events: what the next VM entry injects (an exception, an NMI, an
 * external interrupt) through the VM-entry interruption-information field,
 * the NMI-window and interrupt-window exits that wait for the guest to be
 * able to take one, and the re-delivery of an event whose delivery a VM exit
 * interrupted (IDT-vectoring information).  NMI blocking is the CPU's
 * ("virtual NMIs": it blocks NMIs from an injected NMI until the handler's
 * IRET and reports it in the interruptibility state).
 */
#include <linux/kernel.h>
#include <asm/traps.h>

#include "vmx.h"

/* STI/MOV SS shadow, unless the VMM moved RIP past that instruction. */
bool vmx_in_shadow(struct vmx_vcpu *vmx)
{
	return (vmx->intr_state & INTR_STATE_SHADOW) &&
	       vmx->vcpu.regs[KHV_REG_RIP] == vmx->exit_rip;
}

/*
 * What the CPU records as it delivers the exception: the faulting address
 * in CR2 for #PF, the cause in DR6 for #DB (DR6 is khv's: MOV DR exits).
 */
static void vmx_deliver_payload(struct vmx_vcpu *vmx, const struct khv_queued_exception *e)
{
	if (e->vector == X86_TRAP_PF)
		vmx->cr2 = e->payload;
	else if (e->vector == X86_TRAP_DB)
		vmx->dr6 |= e->payload & KHV_DR6_VOLATILE;
}

/*
 * Exceptions VM entry delivers with an error code: only these, and only in
 * protected mode (in real mode none pushes one).
 */
static bool vmx_exc_has_error(u8 vector, u64 cr0)
{
	if (!(cr0 & X86_CR0_PE))
		return false;
	switch (vector) {
	case X86_TRAP_DF: case X86_TRAP_TS: case X86_TRAP_NP: case X86_TRAP_SS:
	case X86_TRAP_GP: case X86_TRAP_PF: case X86_TRAP_AC:
		return true;
	default:
		return false;
	}
}

/*
 * The event for this entry, one at most: an interrupted delivery first, then
 * an exception, then an NMI unless blocked, then an external interrupt if
 * RFLAGS.IF=1 and no shadow.  What cannot go in now arms the NMI-window or
 * interrupt-window exit, as does userspace asking for the window.
 */
void vmx_inject_events(struct vmx_vcpu *vmx)
{
	struct khv_vcpu *vcpu = &vmx->vcpu;
	bool shadow = vmx->intr_state & INTR_STATE_SHADOW;
	bool if_set = vcpu->rflags & X86_EFLAGS_IF;
	u32 info = 0, error = 0, len = 0, proc;
	bool again = vmx->reinject;

	if (vmx->reinject) {
		info = vmx->reinject;
		error = vmx->reinject_error;
		len = vmx->reinject_len;
		vmx->reinject = 0;
		/* An NMI whose delivery was cut short has not blocked NMIs yet. */
		if ((info & INTR_INFO_TYPE) == INTR_TYPE_NMI)
			vmx->intr_state &= ~INTR_STATE_NMI;
	} else if (vcpu->exception.pending) {
		struct khv_queued_exception *e = &vcpu->exception;

		info = e->vector | INTR_TYPE_HW_EXC | INTR_INFO_VALID;
		/*
		 * VM entry refuses error codes above 16 bits (AMD CPUs and
		 * userspace may produce them; no Intel CPU pushes them).
		 */
		if (e->has_error_code && vmx_exc_has_error(e->vector, vmx->cr0)) {
			info |= INTR_INFO_HAS_ERROR;
			error = (u16)e->error_code;
		}
		if (e->has_payload)
			vmx_deliver_payload(vmx, e);
		e->pending = false;
	} else if (vcpu->nmi_pending && !(vmx->intr_state & INTR_STATE_NMI) && !shadow) {
		info = X86_TRAP_NMI | INTR_TYPE_NMI | INTR_INFO_VALID;
		vcpu->nmi_pending = false;
	} else if (vcpu->extint_pending && if_set && !shadow) {
		info = vcpu->extint_vector | INTR_TYPE_EXTINT | INTR_INFO_VALID;
		vcpu->extint_pending = false;
	}
	vmcs_write(VMCS_ENTRY_INTR_INFO, info);
	if (info)
		khv_note_inject(vcpu, info, error, again);
	if (info & INTR_INFO_HAS_ERROR)
		vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, error);
	if (len)
		vmcs_write(VMCS_ENTRY_INSN_LEN, len);
	vmx->injected = info;
	vmx->injected_error = error;
	vmx->injected_len = len;

	proc = vmx->proc & ~(PROC_INTR_WINDOW | PROC_NMI_WINDOW);
	if (vcpu->nmi_pending)
		proc |= PROC_NMI_WINDOW;
	if (vcpu->extint_pending || vcpu->irq_window ||
	    READ_ONCE(vcpu->run->request_interrupt_window))
		proc |= PROC_INTR_WINDOW;
	if (proc != vmx->proc) {
		vmx->proc = proc;
		vmcs_write(VMCS_PROC_CTLS, proc);
	}
}

/*
 * After the exit: an event whose delivery the exit interrupted is delivered
 * again on the next entry.  Software interrupts and exceptions (INT n, INT3,
 * INTO, INT1) are not: RIP still points at the instruction, which runs again.
 */
void vmx_complete_events(struct vmx_vcpu *vmx)
{
	u32 info = vmx->idt_vectoring, type = info & INTR_INFO_TYPE;

	if (!(info & INTR_INFO_VALID))
		return;
	if (type == INTR_TYPE_SOFT_INT || type == INTR_TYPE_SOFT_EXC ||
	    type == INTR_TYPE_PRIV_SOFT_EXC)
		return;
	vmx->reinject = info & (INTR_INFO_VECTOR | INTR_INFO_TYPE | INTR_INFO_HAS_ERROR |
				INTR_INFO_VALID);
	vmx->reinject_error = (info & INTR_INFO_HAS_ERROR) ?
			      vmcs_read32(VMCS_IDT_VECTORING_ERROR) : 0;
	vmx->reinject_len = 0;
}

/* Interruption-information types and KHV_EVENT_*, by the other's index. */
static const u8 vmx_type_to_khv[8] = {
	[INTR_TYPE_EXTINT >> INTR_INFO_TYPE_SHIFT] = KHV_EVENT_EXTINT,
	[INTR_TYPE_NMI >> INTR_INFO_TYPE_SHIFT] = KHV_EVENT_NMI,
	[INTR_TYPE_HW_EXC >> INTR_INFO_TYPE_SHIFT] = KHV_EVENT_EXCEPTION,
};
static const u32 khv_to_vmx_type[3] = {
	[KHV_EVENT_EXCEPTION] = INTR_TYPE_HW_EXC,
	[KHV_EVENT_EXTINT] = INTR_TYPE_EXTINT,
	[KHV_EVENT_NMI] = INTR_TYPE_NMI,
};

/* KHV_GET_VCPU_EVENTS: the redelivery (never a software event), NMI blocking, shadow. */
void vmx_get_events(struct khv_vcpu *vcpu, struct khv_vcpu_events *ev)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 r = vmx->reinject;

	if (r & INTR_INFO_VALID) {
		ev->injected.valid = 1;
		ev->injected.type = vmx_type_to_khv[(r & INTR_INFO_TYPE) >> INTR_INFO_TYPE_SHIFT];
		ev->injected.vector = r & INTR_INFO_VECTOR;
		if (r & INTR_INFO_HAS_ERROR) {
			ev->injected.has_error_code = 1;
			ev->injected.error_code = vmx->reinject_error;
		}
	}
	ev->nmi.masked = !!(vmx->intr_state & INTR_STATE_NMI);
	ev->shadow = vmx_in_shadow(vmx);
}

/*
 * KHV_SET_VCPU_EVENTS, within what VM entry accepts: an error code only
 * where the CPU would push one in the current mode, blocking by STI only
 * with RFLAGS.IF set (a shadow with IF clear is recorded as MOV SS's,
 * which blocks the same events).
 */
void vmx_set_events(struct khv_vcpu *vcpu, const struct khv_vcpu_events *ev)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	const typeof(ev->injected) *inj = &ev->injected;
	u32 info = 0;

	if (inj->valid) {
		info = inj->vector | khv_to_vmx_type[inj->type] | INTR_INFO_VALID;
		if (inj->type == KHV_EVENT_EXCEPTION && inj->has_error_code &&
		    vmx_exc_has_error(inj->vector, vmx->cr0))
			info |= INTR_INFO_HAS_ERROR;
	}
	vmx->reinject = info;
	vmx->reinject_error = (info & INTR_INFO_HAS_ERROR) ? (u16)inj->error_code : 0;
	vmx->reinject_len = 0;
	vmx->intr_state &= ~(INTR_STATE_SHADOW | INTR_STATE_NMI);
	if (ev->nmi.masked)
		vmx->intr_state |= INTR_STATE_NMI;
	if (ev->shadow)
		vmx->intr_state |= (vcpu->rflags & X86_EFLAGS_IF) ? INTR_STATE_STI :
								    INTR_STATE_MOV_SS;
	vmx->exit_rip = vcpu->regs[KHV_REG_RIP];
}
