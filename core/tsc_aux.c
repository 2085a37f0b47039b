// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's TSC_AUX in the hardware while it runs, so that RDTSCP and
 * RDPID run without exits and read the guest's value (RDPID cannot be
 * intercepted on AMD at all).  Neither VMRUN nor VM entry switches it.
 *
 * The host's value (the CPU and node number Linux's vDSO getcpu() reads)
 * is only needed back before this CPU returns to user mode, so it is not
 * restored on every exit: the first entry with a guest value that differs
 * writes the MSR and registers a user-return notifier, which writes the
 * host's back when any task on this CPU next returns to user mode (the
 * VMM after KHV_RUN, or whoever runs here after a preemption).  Entries
 * in between cost a compare (khv_tsc_aux_load(), inline in internal.h).
 * khv_tsc_aux_drop() does the same at once, for a CPU going offline or the
 * module going away.
 *
 * Locking: per CPU; khv_tsc_aux_load() with interrupts off, the notifier
 * and khv_tsc_aux_drop() disable them around the state they change.
 */
#include <linux/kernel.h>
#include <linux/percpu.h>
#include <linux/user-return-notifier.h>
#include <asm/msr.h>
#include <asm/cpufeature.h>

#include "khv.h"
#include "internal.h"

struct khv_tsc_aux_cpu {
	struct user_return_notifier urn;
	bool armed;		/* a guest's value may be in the MSR */
	bool host_known;
	u32 host;		/* the host's value: set at CPU bring-up, never changed */
};

static DEFINE_PER_CPU(struct khv_tsc_aux_cpu, khv_tsc_aux_cpu);
/* What the MSR holds, once known (~0: not yet); khv_tsc_aux_load() compares. */
DEFINE_PER_CPU(u64, khv_tsc_aux_msr) = ~0ULL;

/* A CPU with RDTSCP or RDPID has the MSR; without either, nothing to switch. */
static bool khv_tsc_aux_exists(void)
{
	return boot_cpu_has(X86_FEATURE_RDTSCP) || boot_cpu_has(X86_FEATURE_RDPID);
}

static void khv_tsc_aux_restore(struct user_return_notifier *urn)
{
	struct khv_tsc_aux_cpu *c = container_of(urn, struct khv_tsc_aux_cpu, urn);
	unsigned long flags;

	local_irq_save(flags);
	if (c->armed) {
		if (__this_cpu_read(khv_tsc_aux_msr) != c->host)
			wrmsrl(MSR_TSC_AUX, c->host);
		__this_cpu_write(khv_tsc_aux_msr, c->host);
		c->armed = false;
		user_return_notifier_unregister(urn);
	}
	local_irq_restore(flags);
}

/* khv_tsc_aux_load() found another value in the MSR, or none known yet. */
void khv_tsc_aux_switch(struct khv_vcpu *vcpu)
{
	struct khv_tsc_aux_cpu *c = this_cpu_ptr(&khv_tsc_aux_cpu);
	u32 guest = vcpu->tsc_aux;
	u64 v;

	lockdep_assert_irqs_disabled();
	if (!khv_tsc_aux_exists())
		return;
	if (!c->host_known) {
		rdmsrl(MSR_TSC_AUX, v);
		c->host = v;
		c->host_known = true;
		__this_cpu_write(khv_tsc_aux_msr, c->host);
		if (guest == c->host)
			return;
	}
	if (!c->armed) {
		c->urn.on_user_return = khv_tsc_aux_restore;
		user_return_notifier_register(&c->urn);
		c->armed = true;
	}
	wrmsrl(MSR_TSC_AUX, guest);
	__this_cpu_write(khv_tsc_aux_msr, guest);
}

/* This CPU, now (preemption off): the host's value back, the notifier gone. */
void khv_tsc_aux_drop(void)
{
	khv_tsc_aux_restore(&this_cpu_ptr(&khv_tsc_aux_cpu)->urn);
}
