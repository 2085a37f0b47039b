// SPDX-License-Identifier: GPL-2.0
/*
 * Study mode: events a VMM chose (KHV_SET_STUDY) delivered to it as
 * KHV_EXIT_STUDY exits, before khv's own handling, which the next KHV_RUN
 * carries on with (uapi/linux/khv.h, Documentation/khv/observe.rst).
 *
 * An event is caught where khv handles it anyway (core/exits.c: CPUID,
 * RDMSR, WRMSR, HLT, port I/O; the backends' MOV CR0/CR4 and, on VT-x,
 * CR8; #DB and #AC) or where the backend intercepts it only for study
 * (RDTSC, every MSR rather than all but the pass-through ones, MOV to CR3,
 * CR8 on SVM, INVLPG, every PAUSE, the other exceptions:
 * khv_backend.set_study).  The exit leaves the
 * instruction at RIP, undone; the completion below does it, with the
 * answer run->study holds, or skips it (KHV_STUDY_F_SKIP), or leaves it
 * (KHV_STUDY_F_DROP).  Setting
 * registers or state by hand between the two (KHV_SET_REGS) drops the
 * completion, as for any other exit: the guest then runs the instruction
 * again, and it exits again.
 *
 * Locking: all of it under the vCPU mutex (ioctls and KHV_RUN).
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "khv.h"
#include "internal.h"

static_assert(sizeof(struct khv_study) == 208);
static_assert(offsetof(struct khv_run, study.cpuid.edx) + 4 <=
	      offsetof(struct khv_run, padding) + sizeof(((struct khv_run *)0)->padding));

/* KHV_CAP_STUDY: what KHV_SET_STUDY takes on this CPU. */
u64 khv_study_offered(void)
{
	return KHV_STUDY_ALL & ~(khv_ops->study_missing ? khv_ops->study_missing() : 0);
}

static bool khv_study_listed(const u32 *list, u32 n, u32 v)
{
	u32 i;

	if (!n)
		return true;	/* an empty list: every one */
	for (i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

bool khv_study_cpuid(struct khv_vcpu *vcpu, u32 leaf)
{
	return khv_study_listed(vcpu->study.set.cpuid, vcpu->study.set.nr_cpuid, leaf);
}

bool khv_study_msr(struct khv_vcpu *vcpu, u32 index)
{
	return khv_study_listed(vcpu->study.set.msrs, vcpu->study.set.nr_msrs, index);
}

static bool khv_study_port(struct khv_vcpu *vcpu, u16 port)
{
	const struct khv_study *set = &vcpu->study.set;
	u32 i;

	if (!set->nr_ports)
		return true;
	for (i = 0; i < set->nr_ports; i++)
		if (set->ports[i] == port)
			return true;
	return false;
}

/* Out to userspace with @event; the caller filled its part of run->study. */
int khv_study_exit(struct khv_vcpu *vcpu, u32 event)
{
	struct khv_run *run = vcpu->run;

	run->exit_reason = KHV_EXIT_STUDY;
	run->study.event = event;
	run->study.flags = 0;
	run->study.rip = vcpu->regs[KHV_REG_RIP];
	vcpu->study.event = event;
	vcpu->completion = KHV_COMPLETE_STUDY;
	return 0;
}

/* The CRs KHV_STUDY_CR_WRITE can watch; cr_write 0 means all of them. */
#define KHV_STUDY_CR_ALL	(KHV_STUDY_CR0 | KHV_STUDY_CR3 | KHV_STUDY_CR4 | KHV_STUDY_CR8)

bool khv_study_cr_write(struct khv_vcpu *vcpu, int cr, u64 val, u64 old)
{
	u32 crs = vcpu->study.set.cr_write ?: KHV_STUDY_CR_ALL;
	struct khv_run *run = vcpu->run;

	if (!(crs & BIT(cr)))
		return false;
	vcpu->study.cr = cr;
	vcpu->study.cr_value = val;
	run->study.cr.cr = cr;
	run->study.cr.gpr = 0;
	run->study.cr.value = val;
	run->study.cr.old = old;
	khv_study_exit(vcpu, KHV_STUDY_EV_CR_WRITE);
	return true;
}

void khv_study_cr8_read(struct khv_vcpu *vcpu, u64 val, int gpr)
{
	struct khv_run *run = vcpu->run;

	vcpu->study.cr = 8;
	vcpu->study.cr_gpr = gpr;
	run->study.cr.cr = 8;
	run->study.cr.gpr = gpr;
	run->study.cr.value = val;
	run->study.cr.old = val;
	khv_study_exit(vcpu, KHV_STUDY_EV_CR8_READ);
}

/* Port I/O, before khv's own handling (khv_do_pio): true when delivered. */
bool khv_study_io(struct khv_vcpu *vcpu, const struct khv_pio *pio)
{
	struct khv_run *run = vcpu->run;

	if (!khv_study_port(vcpu, pio->port))
		return false;
	vcpu->study.pio = *pio;
	run->study.io.port = pio->port;
	run->study.io.size = pio->size;
	run->study.io.in = pio->in;
	run->study.io.string = pio->string;
	run->study.io.rep = pio->rep;
	run->study.io.pad = 0;
	run->study.io.value = 0;
	if (!pio->in && !pio->string)
		memcpy(&run->study.io.value, &vcpu->regs[KHV_REG_RAX], pio->size);
	khv_study_exit(vcpu, KHV_STUDY_EV_IO);
	return true;
}

/* An exception the guest raised, before khv delivers it: true when delivered. */
bool khv_study_exception(struct khv_vcpu *vcpu, const struct khv_queued_exception *x)
{
	u32 vectors = vcpu->study.set.exceptions ?: KHV_STUDY_EXCEPTIONS;
	struct khv_run *run = vcpu->run;
	struct khv_vcpu_events ev = { 0 };

	if (x->vector >= 32 || !(vectors & BIT(x->vector)))
		return false;
	khv_ops->get_events(vcpu, &ev);
	vcpu->study.exc = *x;
	memset(&run->study.exception, 0, sizeof(run->study.exception));
	run->study.exception.vector = x->vector;
	run->study.exception.error_code = x->has_error_code ? x->error_code : 0;
	run->study.exception.has_error_code = x->has_error_code;
	run->study.exception.has_payload = x->has_payload;
	run->study.exception.during_delivery = ev.injected.valid;
	run->study.exception.int1 = x->int1;
	run->study.exception.payload = x->has_payload ? x->payload : 0;
	khv_study_exit(vcpu, KHV_STUDY_EV_EXCEPTION);
	return true;
}

/*
 * The next KHV_RUN: khv's handling of the event, with userspace's answer.
 * > 0 enter the guest, 0 back to userspace (run filled: a HLT exit, an
 * internal error), -EINVAL for flags khv does not know (the event stays
 * pending: a corrected KHV_RUN carries on with it).
 */
int khv_study_complete(struct khv_vcpu *vcpu)
{
	struct khv_run *run = vcpu->run;
	u32 flags = READ_ONCE(run->study.flags);

	if ((flags & ~(KHV_STUDY_F_SKIP | KHV_STUDY_F_DROP)) ||
	    flags == (KHV_STUDY_F_SKIP | KHV_STUDY_F_DROP)) {
		vcpu->completion = KHV_COMPLETE_STUDY;
		return -EINVAL;
	}
	if (flags & KHV_STUDY_F_DROP)
		return 1;
	if (flags & KHV_STUDY_F_SKIP)
		return khv_skip_instruction(vcpu);

	switch (vcpu->study.event) {
	case KHV_STUDY_EV_CPUID:
		vcpu->regs[KHV_REG_RAX] = READ_ONCE(run->study.cpuid.eax);
		vcpu->regs[KHV_REG_RBX] = READ_ONCE(run->study.cpuid.ebx);
		vcpu->regs[KHV_REG_RCX] = READ_ONCE(run->study.cpuid.ecx);
		vcpu->regs[KHV_REG_RDX] = READ_ONCE(run->study.cpuid.edx);
		return khv_skip_instruction(vcpu);
	case KHV_STUDY_EV_RDMSR:
		if (READ_ONCE(run->study.msr.gp)) {
			khv_inject_gp(vcpu);
			return 1;
		}
		khv_set_edx_eax(vcpu, READ_ONCE(run->study.msr.value));
		return khv_skip_instruction(vcpu);
	case KHV_STUDY_EV_WRMSR:
		/* What the guest wrote, not what the run page says now. */
		return khv_wrmsr(vcpu, vcpu->study.msr_index, vcpu->study.msr_value);
	case KHV_STUDY_EV_RDTSC:
		khv_set_edx_eax(vcpu, READ_ONCE(run->study.rdtsc.tsc));
		if (vcpu->study.rdtscp)
			vcpu->regs[KHV_REG_RCX] = READ_ONCE(run->study.rdtsc.aux);
		return khv_skip_instruction(vcpu);
	case KHV_STUDY_EV_HLT:
		return khv_hlt(vcpu);
	case KHV_STUDY_EV_CR_WRITE:
		/* The guest's value, as for WRMSR; #GP where the CPU would. */
		if (khv_ops->set_cr(vcpu, vcpu->study.cr, vcpu->study.cr_value)) {
			khv_inject_gp(vcpu);
			return 1;
		}
		return khv_skip_instruction(vcpu);
	case KHV_STUDY_EV_CR8_READ:
		vcpu->regs[vcpu->study.cr_gpr] = READ_ONCE(run->study.cr.value);
		return khv_skip_instruction(vcpu);
	case KHV_STUDY_EV_INVLPG:
		return khv_invlpg(vcpu);
	case KHV_STUDY_EV_PAUSE:
		return khv_skip_instruction(vcpu);
	case KHV_STUDY_EV_IO:
		return khv_do_pio(vcpu, &vcpu->study.pio);
	case KHV_STUDY_EV_EXCEPTION:
		return khv_reflect_exception(vcpu, &vcpu->study.exc);
	case KHV_STUDY_EV_DESC: {
		struct khv_desc_op op = vcpu->study.desc;

		/* A store stores the answer; a load loads what the guest gave. */
		if (!khv_desc_is_load(op.insn)) {
			op.base = READ_ONCE(run->study.desc.base);
			op.limit = (u16)READ_ONCE(run->study.desc.limit);
			op.selector = READ_ONCE(run->study.desc.selector);
		}
		return khv_desc_finish(vcpu, &op);
	}
	}
	return 1;
}

static int khv_study_check(const struct khv_study *s)
{
	u32 i;

	if ((s->events & ~khv_study_offered()) || memchr_inv(s->reserved, 0, sizeof(s->reserved)))
		return -EINVAL;
	if (s->nr_cpuid > KHV_STUDY_MAX_LIST || s->nr_msrs > KHV_STUDY_MAX_LIST ||
	    s->nr_ports > KHV_STUDY_MAX_LIST || (s->cr_write & ~KHV_STUDY_CR_ALL) ||
	    (s->exceptions & ~KHV_STUDY_EXCEPTIONS) || s->reserved32)
		return -EINVAL;
	/* A list for an event not asked for is a mistake; unused entries are 0. */
	if ((s->nr_cpuid && !(s->events & KHV_STUDY_CPUID)) ||
	    (s->nr_msrs && !(s->events & (KHV_STUDY_RDMSR | KHV_STUDY_WRMSR))) ||
	    (s->cr_write && !(s->events & KHV_STUDY_CR_WRITE)) ||
	    (s->exceptions && !(s->events & KHV_STUDY_EXCEPTION)) ||
	    (s->nr_ports && !(s->events & KHV_STUDY_IO)))
		return -EINVAL;
	for (i = s->nr_cpuid; i < KHV_STUDY_MAX_LIST; i++)
		if (s->cpuid[i])
			return -EINVAL;
	for (i = s->nr_msrs; i < KHV_STUDY_MAX_LIST; i++)
		if (s->msrs[i])
			return -EINVAL;
	for (i = s->nr_ports; i < KHV_STUDY_MAX_LIST; i++)
		if (s->ports[i])
			return -EINVAL;
	return 0;
}

long khv_study_ioctl(struct khv_vcpu *vcpu, struct khv_study __user *argp, bool set)
{
	struct khv_study s;
	int r;

	if (!set)
		return copy_to_user(argp, &vcpu->study.set, sizeof(s)) ? -EFAULT : 0;
	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	r = khv_study_check(&s);
	if (r)
		return r;
	vcpu->study.set = s;
	khv_ops->set_study(vcpu);
	return 0;
}
