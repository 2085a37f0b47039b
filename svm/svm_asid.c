// SPDX-License-Identifier: GPL-2.0
/*
 * ASIDs, per physical CPU, with generations.
 *
 * The TLB tags guest translations with the VMCB's ASID, so two vCPUs may
 * share an ASID only if the TLB is flushed in between.  Each CPU hands out
 * ASIDs 1..max_asid in order; a vCPU keeps its ASID while it stays on that
 * CPU and the CPU's generation has not moved.  When the CPU runs out, it
 * starts a new generation (every vCPU then needs a new ASID there) and the
 * first VMRUN of that generation flushes the whole TLB (TLB_CONTROL 1), so a
 * recycled ASID never finds translations of its previous owner.
 *
 * All of this runs on the CPU that is about to VMRUN, interrupts off: the
 * per-CPU counters need no lock.
 */
#include <linux/kernel.h>

#include "svm.h"

/*
 * (Re)start ASID allocation on this CPU (cpu_enable): a new generation, and
 * a whole-TLB flush before the first guest runs, as the TLB may still hold
 * entries of another hypervisor that used SVM here before us.
 */
void svm_asid_cpu_init(struct svm_cpu *sd)
{
	sd->asid_gen++;
	sd->max_asid = svm_caps.nr_asids - 1;
	sd->next_asid = 1;
	sd->flush_all_pending = true;
}

void svm_asid_assign(struct svm_vcpu *svm, struct svm_cpu *sd, int cpu)
{
	if (svm->asid_cpu != cpu) {
		/* Its old ASID means nothing here, and may belong to another vCPU. */
		svm->asid_cpu = cpu;
		svm->asid_gen = 0;
	}
	if (svm->asid_gen == sd->asid_gen)
		return;

	if (sd->next_asid > sd->max_asid) {
		sd->asid_gen++;
		sd->next_asid = 1;
		sd->flush_all_pending = true;
	}
	svm->asid = sd->next_asid++;
	svm->asid_gen = sd->asid_gen;
}

/*
 * The TLB_CONTROL for this entry.  A whole-TLB flush stays pending on the CPU
 * until a VMRUN that carried it got past its consistency checks (see
 * svm_asid_entered()), whichever vCPU runs next.
 */
void svm_asid_prepare(struct svm_vcpu *svm, struct svm_cpu *sd)
{
	if (sd->flush_all_pending)
		svm->vmcb->control.tlb_control = VMCB_TLB_FLUSH_ALL;
}

void svm_asid_entered(struct svm_vcpu *svm, struct svm_cpu *sd, bool entered)
{
	struct svm_vmcb_control *c = &svm->vmcb->control;

	if (entered && c->tlb_control == VMCB_TLB_FLUSH_ALL)
		sd->flush_all_pending = false;
	/* A flush this vCPU asked for and did not get: ask again next time. */
	if (!entered && c->tlb_control == VMCB_TLB_FLUSH_ASID)
		return;
	c->tlb_control = VMCB_TLB_NONE;
}

/*
 * Drop this vCPU's cached translations (KHV_REQ_TLB_FLUSH: second-level
 * mappings changed, or its paging state was replaced).  Call before
 * svm_asid_assign().
 */
void svm_asid_flush(struct svm_vcpu *svm)
{
	struct svm_vmcb_control *c = &svm->vmcb->control;

	if (svm_caps.flush_by_asid)
		c->tlb_control = VMCB_TLB_FLUSH_ASID;
	else
		svm->asid_gen = 0;	/* a fresh ASID has nothing cached */
}
