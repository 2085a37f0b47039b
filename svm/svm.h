/* SPDX-License-Identifier: GPL-2.0 */
/*
 * AMD-V backend, private to svm/.  core/ sees only khv_svm_backend.
 */
#ifndef KHV_SVM_SVM_H
#define KHV_SVM_SVM_H

#include <linux/percpu.h>
#include <linux/types.h>

#include "../core/khv.h"
#include "vmcb.h"

/* What CPUID 0x8000000A said at probe time. */
struct svm_caps {
	u32 nr_asids;		/* EBX: ASIDs including 0, the host's */
	bool nrips;		/* next_rip saved on instruction intercepts */
	bool tsc_rate;		/* TSC ratio MSR */
	bool flush_by_asid;	/* TLB_CONTROL 3 and 7 */
	bool decode_assists;	/* GPR numbers and IOIO segment in EXITINFO1 */
	bool pause_filter;
	bool pf_threshold;
	bool vgif;
};

extern struct svm_caps svm_caps;
extern u64 svm_cr4_allowed;

/* DR6/DR7: the bits a guest can change, and the ones that read as 1. */

/* Per physical CPU. */
struct svm_cpu {
	struct page *hsave;		/* VM_HSAVE_PA: VMRUN's own host save area */
	struct page *host_save;		/* VMSAVE/VMLOAD area for the host's FS/GS/TR/... */
	u64 host_save_pa;
	bool enabled;			/* EFER.SVME set by us */

	/* ASIDs: 1..max_asid handed out once per generation (svm_asid.c). */
	u64 asid_gen;
	u32 next_asid;
	u32 max_asid;
	bool flush_all_pending;		/* TLB_CONTROL 1 on the next VMRUN here */

	/* The VMCB last loaded here: switching VMCBs is an IBPB point. */
	struct svm_vmcb *last_vmcb;
};

DECLARE_PER_CPU(struct svm_cpu, svm_cpu);

/* The part of the save area svm_run() keeps across VMRUN: ES .. DR6. */
#define SVM_SAVE_KEPT	offsetof(struct svm_vmcb_save, rflags)

struct svm_vcpu {
	struct khv_vcpu vcpu;		/* first: core allocates vcpu_size bytes */

	struct svm_vmcb *vmcb;
	u64 vmcb_pa;

	/* ASID, valid on asid_cpu while asid_gen matches that CPU's generation. */
	u32 asid;
	int asid_cpu;
	u64 asid_gen;

	/*
	 * RIP when the last exit happened.  If core or userspace moved RIP
	 * since (an instruction was skipped or emulated), that instruction
	 * completed, so the STI/MOV SS shadow it may have been under is over.
	 */
	u64 exit_rip;

	/*
	 * The STI/MOV SS shadow across an entry.  entry_shadow: this entry
	 * ran the guest under one, with nothing injected; an exit before the
	 * shadowed instruction (RIP unchanged) keeps it, whatever int_state
	 * says (svm.c, svm_keep_shadow()).  drops_shadow: this vCPU's VMRUN
	 * was seen to ignore int_state (QEMU before 9.1 does), so no virtual
	 * interrupt may wait for a window while a shadow is on: it would be
	 * taken before the shadowed instruction (an STI; HLT would then halt
	 * with its wake-up already spent).  shadow_kept: the last exit kept
	 * one; the next exit at the same RIP reads as the instruction run (a
	 * loop back to it), not as a shadow kept forever.
	 */
	bool entry_shadow;
	bool drops_shadow;
	bool shadow_kept;

	u64 injected;			/* EVENTINJ handed to the last VMRUN, or 0 */
	u64 reinject;			/* interrupted delivery to retry, or 0 */
	u8 tpr_in;			/* V_TPR given to the last entry (in-kernel APIC) */

	/*
	 * NMI blocking, tracked in software: set when an NMI is injected,
	 * cleared once the guest has executed the IRET that ends its handler
	 * (IRET is intercepted meanwhile; the IRET has run when RIP moves on).
	 */
	bool nmi_masked;
	bool nmi_iret_seen;
	u64 nmi_iret_rip;

	/*
	 * An NMI pending when that IRET is intercepted is due right after it:
	 * the IRET then runs under a TF of ours so that a #DB exit follows it
	 * at once (svm.c).  nmi_ss_armed: this entry steps the IRET;
	 * nmi_ss_guest_tf, nmi_ss_dr6: the guest's TF and DR6 before it;
	 * nmi_ss_trap: the exit is that step's #DB, for svm_exit_db().
	 */
	bool nmi_ss_armed;
	bool nmi_ss_trap;
	bool nmi_ss_guest_tf;
	u64 nmi_ss_dr6;

	/* An NMI waits behind the event this entry injects: exit right after. */
	bool force_exit;

	/*
	 * The save area as it was before the last VMRUN (from ES to DR6, and
	 * CR2: RAX, RSP, RIP and RFLAGS come from vcpu->regs at every entry).  A VMRUN that fails
	 * its consistency checks (VMEXIT_INVALID) ran no guest code, but an
	 * emulated CPU (QEMU) then writes its own host state into the save
	 * area: svm_run() puts this copy back, so the vCPU keeps exactly the
	 * state khv and the guest gave it, and no host value reaches
	 * KHV_GET_SREGS.
	 */
	u8 save_before[SVM_SAVE_KEPT];
	bool host_state;		/* the last exit held the host's state: svm_run() */
	bool host_state_alias;		/* ... and this VMCB was the CPU's VM_HSAVE_PA page */
	u64 cr2_before;
};

static inline struct svm_vcpu *to_svm(struct khv_vcpu *vcpu)
{
	return container_of(vcpu, struct svm_vcpu, vcpu);
}

/* The exit code, as the low 32 bits of EXITCODE (see VMEXIT_INVALID). */
static inline u32 svm_exit_code(const struct svm_vcpu *svm)
{
	return (u32)svm->vmcb->control.exit_code;
}

/* svm.c */
void svm_vcpu_reset(struct svm_vcpu *svm);
bool svm_long_mode_64(struct svm_vcpu *svm);
bool svm_in_shadow(struct svm_vcpu *svm);
int svm_set_cr0(struct svm_vcpu *svm, u64 cr0);
int svm_set_cr4(struct svm_vcpu *svm, u64 cr4);
int svm_set_cr3(struct svm_vcpu *svm, u64 cr3);
int svm_set_cr8(struct svm_vcpu *svm, u64 cr8);
int svm_set_cr(struct khv_vcpu *vcpu, int cr, u64 val);

/*
 * The exceptions always intercepted: #DB and #AC are re-injected (their
 * delivery can otherwise loop in microcode forever and hang the CPU), #MC
 * goes to the host's handler.  A study adds others (svm_set_study).
 */
#define SVM_EXC_INTERCEPTS	(BIT(X86_TRAP_DB) | BIT(X86_TRAP_AC) | BIT(X86_TRAP_MC))

/* svm_exits.c */
int svm_handle_exit(struct khv_vcpu *vcpu);
void svm_exit_stats_init(void);
u32 svm_exit_stat_index(u32 hw_code);
bool svm_exit_stat_info(u32 index, u32 *hw_code, const char **name);

/*
 * svm_asid.c: on the CPU that is about to VMRUN, interrupts off.  Per entry:
 * svm_asid_flush() if asked, svm_asid_assign(), svm_asid_prepare(), VMRUN,
 * svm_asid_entered().
 */
void svm_asid_cpu_init(struct svm_cpu *sd);
void svm_asid_flush(struct svm_vcpu *svm);
void svm_asid_assign(struct svm_vcpu *svm, struct svm_cpu *sd, int cpu);
void svm_asid_prepare(struct svm_vcpu *svm, struct svm_cpu *sd);
void svm_asid_entered(struct svm_vcpu *svm, struct svm_cpu *sd, bool entered);

/*
 * svm_vmrun.S: VMSAVE host, VMLOAD guest, VMRUN, VMSAVE guest, VMLOAD host.
 * regs is vcpu->regs (all GPRs but RAX and RSP go through it); RAX, RSP,
 * RIP and RFLAGS are in the VMCB.  GIF must be 0.
 */
void __khv_svm_vmrun(u64 *regs, u64 vmcb_pa, u64 host_save_pa);
extern const u8 khv_svm_vmexit_rip[];

#endif /* KHV_SVM_SVM_H */
