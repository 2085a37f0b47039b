// SPDX-License-Identifier: GPL-2.0
/*
 * Events pending around a vCPU's instruction stream, in core's vendor-
 * neutral form: the exception, NMI and external interrupt queued for the
 * next entry (KHV_INJECT_EVENT, khv itself, the in-kernel irqchip), and
 * their save and restore with what the backend keeps of them (an
 * interrupted delivery, NMI blocking, the interrupt shadow) through
 * KHV_GET_VCPU_EVENTS / KHV_SET_VCPU_EVENTS.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/processor-flags.h>
#include <asm/traps.h>

#include "internal.h"

static bool khv_exception_has_error_code(u8 vector)
{
	switch (vector) {
	case 8: case 10: case 11: case 12: case 13: case 14: case 17: case 21:
	case 29: case 30:
		return true;
	default:
		return false;
	}
}

/* Vectors that are architecturally defined exceptions (not NMI, not reserved). */
static bool khv_exception_vector_valid(u8 vector)
{
	if (vector >= 32 || vector == 2 || vector == 9 || vector == 15)
		return false;
	return vector <= 21 || vector == 28 || vector == 29 || vector == 30;
}

void khv_queue_exception(struct khv_vcpu *vcpu, u8 vector, bool has_error, u32 error_code)
{
	vcpu->exception.pending = true;
	vcpu->exception.has_payload = false;
	vcpu->exception.vector = vector;
	vcpu->exception.has_error_code = has_error;
	vcpu->exception.error_code = has_error ? error_code : 0;
}

/* #DE, #TS, #NP, #SS, #GP: the class that makes a #DF when two meet. */
static bool khv_exception_contributory(u8 vector)
{
	return vector == X86_TRAP_DE || (vector >= X86_TRAP_TS && vector <= X86_TRAP_GP);
}

/*
 * An exception the guest raised, intercepted by the backend, delivered as
 * the CPU would have.  #BP and #OF are traps of INT3 and INTO, which RIP
 * still points at: the delivery pushes the RIP after them.  Raised during
 * the delivery of another event (which the backend holds for redelivery),
 * the two combine as the CPU combines them (the SDM's "Interrupt 8" and
 * its advice to VMMs reflecting exceptions): that event is not delivered
 * again; two contributory exceptions, or a #PF followed by a contributory
 * exception or a #PF, make a #DF; either during a #DF's delivery is a
 * triple fault, the guest's shutdown.  Returns as an exit handler.
 */
int khv_reflect_exception(struct khv_vcpu *vcpu, const struct khv_queued_exception *x)
{
	struct khv_vcpu_events ev = { 0 };
	u8 v = x->vector, first;
	bool nested;
	int r;

	khv_ops->get_events(vcpu, &ev);
	if (ev.injected.valid) {
		khv_ops->drop_redelivery(vcpu);
		first = ev.injected.vector;
		nested = khv_exception_contributory(v) || v == X86_TRAP_PF;
		if (ev.injected.type == KHV_EVENT_EXCEPTION && nested) {
			if (first == X86_TRAP_DF)
				return khv_handle_shutdown(vcpu);
			if (khv_exception_contributory(first) || first == X86_TRAP_PF) {
				khv_queue_exception(vcpu, X86_TRAP_DF,
						    khv_ops->get_cr(vcpu, 0) & X86_CR0_PE, 0);
				return 1;
			}
		}
	}
	if (v == X86_TRAP_BP || v == X86_TRAP_OF || x->int1) {
		r = khv_skip_instruction(vcpu);
		if (r <= 0)
			return r;
	}
	khv_queue_exception(vcpu, v, x->has_error_code, x->error_code);
	vcpu->exception.has_payload = x->has_payload;
	vcpu->exception.payload = x->has_payload ? x->payload : 0;
	return 1;
}

int khv_inject_event(struct khv_vcpu *vcpu, const struct khv_event *ev)
{
	if (ev->pad || memchr_inv(ev->reserved, 0, sizeof(ev->reserved)) ||
	    ev->has_error_code > 1 || (!ev->has_error_code && ev->error_code))
		return -EINVAL;

	switch (ev->type) {
	case KHV_EVENT_EXCEPTION:
		if (!khv_exception_vector_valid(ev->vector) ||
		    !!ev->has_error_code != khv_exception_has_error_code(ev->vector))
			return -EINVAL;
		if (vcpu->exception.pending)
			return -EBUSY;
		khv_queue_exception(vcpu, ev->vector, ev->has_error_code, ev->error_code);
		return 0;
	case KHV_EVENT_EXTINT:
		/* With an in-kernel irqchip, interrupts come through it. */
		if (vcpu->apic)
			return -ENXIO;
		if (ev->vector < 16 || ev->has_error_code)
			return -EINVAL;
		if (vcpu->extint_pending)
			return -EBUSY;
		vcpu->extint_pending = true;
		vcpu->extint_vector = ev->vector;
		return 0;
	case KHV_EVENT_NMI:
		/* The NMI vector is fixed by the architecture; say it explicitly. */
		if (ev->vector != 2 || ev->has_error_code)
			return -EINVAL;
		if (vcpu->nmi_pending)
			return -EBUSY;
		vcpu->nmi_pending = true;
		return 0;
	default:
		return -EINVAL;
	}
}

/* Exceptions whose delivery records something: CR2 for #PF, DR6 for #DB. */
static bool khv_exception_payload_valid(u8 vector, u64 payload)
{
	if (vector == 14)
		return true;
	return vector == 1 && !(payload & ~KHV_DR6_VOLATILE);
}

int khv_get_vcpu_events(struct khv_vcpu *vcpu, struct khv_vcpu_events *ev)
{
	const struct khv_queued_exception *e = &vcpu->exception;

	memset(ev, 0, sizeof(*ev));
	/* An NMI message not yet taken by the run loop is a pending NMI. */
	if (khv_test_clear_request(vcpu, KHV_REQ_NMI))
		vcpu->nmi_pending = true;
	if (e->pending) {
		ev->exception.pending = 1;
		ev->exception.vector = e->vector;
		ev->exception.has_error_code = e->has_error_code;
		ev->exception.error_code = e->has_error_code ? e->error_code : 0;
		ev->exception.has_payload = e->has_payload;
		ev->exception.payload = e->has_payload ? e->payload : 0;
	}
	ev->nmi.pending = vcpu->nmi_pending;
	if (vcpu->extint_pending) {
		ev->interrupt.pending = 1;
		ev->interrupt.vector = vcpu->extint_vector;
	}
	khv_ops->get_events(vcpu, ev);
	return 0;
}

/*
 * An event the CPU can be delivering: an architectural exception, with an
 * error code only where it has one (and maybe without: real mode pushes
 * none); an external interrupt of any vector (a PIC may be programmed
 * with vectors below 32); the NMI.
 */
static bool khv_event_valid(u8 type, u8 vector, u8 has_error, u32 error)
{
	if (has_error > 1 || (!has_error && error))
		return false;
	switch (type) {
	case KHV_EVENT_EXCEPTION:
		return khv_exception_vector_valid(vector) &&
		       (!has_error || khv_exception_has_error_code(vector));
	case KHV_EVENT_EXTINT:
		return !has_error;
	case KHV_EVENT_NMI:
		return vector == 2 && !has_error;
	default:
		return false;
	}
}

static int khv_check_vcpu_events(const struct khv_vcpu_events *ev)
{
	const typeof(ev->exception) *x = &ev->exception;
	const typeof(ev->injected) *inj = &ev->injected;

	if (memchr_inv(ev->reserved, 0, sizeof(ev->reserved)) ||
	    memchr_inv(ev->pad, 0, sizeof(ev->pad)) ||
	    memchr_inv(ev->nmi.pad, 0, sizeof(ev->nmi.pad)) ||
	    memchr_inv(ev->interrupt.pad, 0, sizeof(ev->interrupt.pad)))
		return -EINVAL;
	if (x->pending > 1 || x->has_payload > 1)
		return -EINVAL;
	if (x->pending) {
		/* Queued exceptions are KHV_INJECT_EVENT's or khv's: exact error codes. */
		if (!khv_event_valid(KHV_EVENT_EXCEPTION, x->vector, x->has_error_code,
				     x->error_code) ||
		    !!x->has_error_code != khv_exception_has_error_code(x->vector))
			return -EINVAL;
		if (x->has_payload ? !khv_exception_payload_valid(x->vector, x->payload) :
				     x->payload != 0)
			return -EINVAL;
	} else if (memchr_inv(x, 0, sizeof(*x))) {
		return -EINVAL;
	}
	if (inj->valid > 1)
		return -EINVAL;
	if (inj->valid) {
		if (!khv_event_valid(inj->type, inj->vector, inj->has_error_code, inj->error_code))
			return -EINVAL;
	} else if (memchr_inv(inj, 0, sizeof(*inj))) {
		return -EINVAL;
	}
	if (ev->nmi.pending > 1 || ev->nmi.masked > 1 || ev->interrupt.pending > 1 ||
	    ev->shadow > 1)
		return -EINVAL;
	if (!ev->interrupt.pending && ev->interrupt.vector)
		return -EINVAL;
	/* A delivery under way has ended any shadow: the CPU never has both. */
	if (ev->shadow && inj->valid)
		return -EINVAL;
	return 0;
}

/*
 * What the events need of the registers (set first): an external
 * interrupt is delivered only with RFLAGS.IF set, so one cut short was
 * too (VM entry refuses to inject one with IF clear).
 */
static int khv_check_events_regs(struct khv_vcpu *vcpu, const struct khv_vcpu_events *ev)
{
	if (ev->injected.valid && ev->injected.type == KHV_EVENT_EXTINT &&
	    !(vcpu->rflags & X86_EFLAGS_IF))
		return -EINVAL;
	return 0;
}

int khv_set_vcpu_events(struct khv_vcpu *vcpu, const struct khv_vcpu_events *ev)
{
	struct khv_queued_exception *e = &vcpu->exception;
	int r = khv_check_vcpu_events(ev);

	if (!r)
		r = khv_check_events_regs(vcpu, ev);
	if (r)
		return r;
	e->pending = ev->exception.pending;
	e->vector = ev->exception.vector;
	e->has_error_code = ev->exception.has_error_code;
	e->error_code = ev->exception.error_code;
	e->has_payload = ev->exception.has_payload;
	e->payload = ev->exception.payload;
	clear_bit(KHV_REQ_NMI, &vcpu->requests);
	vcpu->nmi_pending = ev->nmi.pending;
	vcpu->extint_pending = ev->interrupt.pending;
	vcpu->extint_vector = ev->interrupt.vector;
	khv_ops->set_events(vcpu, ev);
	return 0;
}
