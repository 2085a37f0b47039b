// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU lifecycle, the vCPU fd and the run loop.
 *
 * Every vCPU ioctl holds vcpu->mutex and has the vCPU "loaded": a preempt
 * notifier puts the backend state back on whatever CPU the thread is
 * scheduled on (VMX needs its VMCS current there; SVM refreshes its ASID).
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/fpu/api.h>
#include <asm/tsc.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/pkru.h>

#include "khv.h"
#include "internal.h"
#include "../irq/irqchip.h"
#include "emulate.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static struct preempt_ops khv_preempt_ops;

static struct khv_vcpu *preempt_notifier_to_vcpu(struct preempt_notifier *pn)
{
	return container_of(pn, struct khv_vcpu, preempt_notifier);
}

static void khv_sched_in(struct preempt_notifier *pn, int cpu)
{
	struct khv_vcpu *vcpu = preempt_notifier_to_vcpu(pn);

	WRITE_ONCE(vcpu->cpu, cpu);
	/* Another task ran here: its data may be in the L1D. */
	vcpu->l1d_flush_hint = true;
	if (cpu != vcpu->pvclock_cpu)
		set_bit(KHV_REQ_PVCLOCK, &vcpu->requests);
	khv_ops->vcpu_load(vcpu, cpu);
}

static void khv_sched_out(struct preempt_notifier *pn, struct task_struct *next)
{
	khv_ops->vcpu_put(preempt_notifier_to_vcpu(pn));
}

static void khv_vcpu_load(struct khv_vcpu *vcpu)
{
	int cpu = get_cpu();

	preempt_notifier_register(&vcpu->preempt_notifier);
	WRITE_ONCE(vcpu->cpu, cpu);
	/* kvmclock is rewritten on a new host CPU (core/pvclock.c). */
	if (cpu != vcpu->pvclock_cpu)
		set_bit(KHV_REQ_PVCLOCK, &vcpu->requests);
	khv_ops->vcpu_load(vcpu, cpu);
	put_cpu();
}

static void khv_vcpu_put(struct khv_vcpu *vcpu)
{
	preempt_disable();
	khv_ops->vcpu_put(vcpu);
	preempt_notifier_unregister(&vcpu->preempt_notifier);
	preempt_enable();
}

static void khv_kick_noop(void *info)
{
}

/*
 * Make every vCPU consume @req (unless KHV_REQ_NONE) before it next runs
 * guest code, and wait until none is still running guest code that started
 * before the call.
 *
 * Pairs with the entry path: a vCPU sets IN_GUEST_MODE, then (full barrier)
 * tests requests with interrupts off.  Either it sees the bit, or we see
 * IN_GUEST_MODE and the IPI forces an exit; waiting for the IPI handler
 * means that exit has happened.
 */
void khv_kick_all_and_wait(struct khv_vm *vm, unsigned int req)
{
	unsigned int i;

	for (i = 0; i < khv_vcpu_end(vm); i++) {
		struct khv_vcpu *vcpu = khv_vcpu_at(vm, i);

		if (!vcpu)
			continue;
		if (req != KHV_REQ_NONE) {
			set_bit(req, &vcpu->requests);
			/* Request visible before mode is read; pairs with the entry path. */
			smp_mb__after_atomic();
		} else {
			/* Our caller's writes before mode is read: the same pairing. */
			smp_mb();
		}
		if (atomic_read(&vcpu->mode) == KHV_IN_GUEST_MODE)
			smp_call_function_single(READ_ONCE(vcpu->cpu), khv_kick_noop, NULL, 1);
	}
}

/* The run loop. Returns 0 with vcpu->run filled, or a negative errno. */
static int khv_vcpu_run(struct khv_vcpu *vcpu)
{
	struct khv_run *run = vcpu->run;
	u32 reason, host_pkru;
	int r;

	if (memchr_inv(run->pad0, 0, sizeof(run->pad0)))
		return -EINVAL;

	r = khv_complete_userspace_exit(vcpu);
	if (r <= 0)
		goto out;

	if (READ_ONCE(run->immediate_exit)) {
		run->exit_reason = KHV_EXIT_INTR;
		r = -EINTR;
		goto out;
	}

	/* Userspace ran since the last entry (see l1d_flush_hint). */
	vcpu->l1d_flush_hint = true;
	fpu_swap_kvm_fpstate(&vcpu->guest_fpu, true);
	for (;;) {
		if (signal_pending(current)) {
			run->exit_reason = KHV_EXIT_INTR;
			r = -EINTR;
			break;
		}
		cond_resched();
		if (vcpu->apic) {
			/* Timer re-arming, and the sleep of a halted vCPU. */
			r = khv_apic_before_run(vcpu);
			if (r < 0) {
				run->exit_reason = KHV_EXIT_INTR;
				break;
			}
		}
		if (test_bit(KHV_REQ_PVCLOCK, &vcpu->requests))
			khv_pvclock_update(vcpu);

		preempt_disable();
		local_irq_disable();
		if (test_thread_flag(TIF_NEED_FPU_LOAD))
			switch_fpu_return();
		atomic_set(&vcpu->mode, KHV_IN_GUEST_MODE);
		/* Mode visible before run() reads requests; pairs with the kicker. */
		smp_mb__after_atomic();
		/* A kvmclock rewrite asked for since (a new host CPU): do it first. */
		if (need_resched() || signal_pending(current) ||
		    test_bit(KHV_REQ_PVCLOCK, &vcpu->requests)) {
			atomic_set(&vcpu->mode, KHV_OUTSIDE_GUEST_MODE);
			local_irq_enable();
			preempt_enable();
			continue;
		}
		/* After IN_GUEST_MODE: a later kick interrupts the entry. */
		khv_apic_inject(vcpu);
		host_pkru = read_pkru();
		khv_tsc_aux_load(vcpu);
		khv_timing_entry(vcpu);
		trace_khv_entry(vcpu->id, vcpu->regs[KHV_REG_RIP]);
		khv_ops->run(vcpu);
		khv_timing_exit(vcpu);
		/*
		 * Neither world switch nor the FPU swap covers PKRU.  Guests
		 * cannot enable PKE today (CR4 writes are checked on both
		 * backends), so this costs one RDPKRU; it stays as the last
		 * line of defence: a guest never leaves its value in the VMM's
		 * thread.
		 */
		write_pkru(host_pkru);
		atomic_set(&vcpu->mode, KHV_OUTSIDE_GUEST_MODE);
		local_irq_enable();
		preempt_enable();

		if (unlikely(vcpu->xcr0_refused)) {
			pr_info_once("khv: guest XCR0 %#llx set without an XSETBV exit, refused\n",
				     vcpu->xcr0_refused);
			vcpu->xcr0_refused = 0;
		}
		r = khv_ops->handle_exit(vcpu);
		if (trace_khv_exit_enabled()) {
			u64 info1, info2, ns = 0;

			/* This exit's TSC, when exit_timing took it (khv_timing_exit()). */
			if (vcpu->entry_tsc && vcpu->exit_tsc != KHV_TSC_NONE && tsc_khz)
				ns = mul_u64_u32_div(rdtsc() - vcpu->exit_tsc, 1000000, tsc_khz);
			khv_ops->exit_info(vcpu, &info1, &info2);
			trace_khv_exit(vcpu->id, run->hw_exit_reason, vcpu->regs[KHV_REG_RIP],
				       info1, info2, r, ns);
		}
		if (r <= 0)
			break;
	}
	khv_timing_to_user(vcpu);
	fpu_swap_kvm_fpstate(&vcpu->guest_fpu, false);
out:
	/*
	 * The run page is shared with userspace, which may write it at any
	 * time: one read, then bounds check and index with that value.
	 */
	reason = READ_ONCE(run->exit_reason);
	trace_khv_userspace_exit(vcpu->id, reason, r);
	if ((r == 0 || r == -EINTR) && reason < KHV_EXIT_MAX)
		vcpu->stats->user_exits[array_index_nospec(reason, KHV_EXIT_MAX)]++;
	return r;
}

/* struct khv_regs order differs from the ModRM order of vcpu->regs[]. */
static const u8 khv_regs_order[] = {
	KHV_REG_RAX, KHV_REG_RBX, KHV_REG_RCX, KHV_REG_RDX,
	KHV_REG_RSI, KHV_REG_RDI, KHV_REG_RSP, KHV_REG_RBP,
	KHV_REG_R8, KHV_REG_R9, KHV_REG_R10, KHV_REG_R11,
	KHV_REG_R12, KHV_REG_R13, KHV_REG_R14, KHV_REG_R15,
	KHV_REG_RIP,
};

static void khv_get_regs(struct khv_vcpu *vcpu, struct khv_regs *regs)
{
	u64 *out = (u64 *)regs;
	int i;

	for (i = 0; i < ARRAY_SIZE(khv_regs_order); i++)
		out[i] = vcpu->regs[khv_regs_order[i]];
	regs->rflags = vcpu->rflags;
}

/* RFLAGS bits a guest may hold: CF..ID, bit 1 always set. */
#define KHV_RFLAGS_VALID	0x3f7fd7ULL
#define KHV_RFLAGS_FIXED	0x2ULL

static int khv_set_regs(struct khv_vcpu *vcpu, const struct khv_regs *regs)
{
	const u64 *in = (const u64 *)regs;
	int i;

	if ((regs->rflags & ~KHV_RFLAGS_VALID) || !(regs->rflags & KHV_RFLAGS_FIXED))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(khv_regs_order); i++)
		vcpu->regs[khv_regs_order[i]] = in[i];
	vcpu->rflags = regs->rflags;
	/* State set by hand replaces whatever an exit was waiting to finish. */
	vcpu->completion = KHV_COMPLETE_NONE;
	return 0;
}

static bool khv_segment_reserved_ok(const struct khv_segment *s)
{
	return !s->pad && s->present <= 1 && s->dpl <= 3 && s->db <= 1 && s->s <= 1 &&
	       s->l <= 1 && s->g <= 1 && s->avl <= 1 && s->unusable <= 1 && s->type <= 15;
}

/* APIC base: BSP (8), x2APIC (10, not offered), enable (11), base 12..51. */
#define KHV_APIC_BASE_VALID	(GENMASK_ULL(51, 12) | BIT_ULL(11) | BIT_ULL(8))

int khv_check_apic_base(u64 v)
{
	return (v & ~KHV_APIC_BASE_VALID) ? -EINVAL : 0;
}

/*
 * KHV_SET_SREGS's apic_base: with an in-kernel APIC, x2APIC mode too (not
 * without EN), and no bit at or above MAXPHYADDR, as the APIC itself checks.
 */
static int khv_check_sregs_apic_base(struct khv_vcpu *vcpu, u64 v)
{
	if (!vcpu->apic)
		return khv_check_apic_base(v);
	if (v & ~(KHV_APIC_BASE_VALID | BIT_ULL(10)))
		return -EINVAL;
	if (v & GENMASK_ULL(63, boot_cpu_data.x86_phys_bits))
		return -EINVAL;
	if ((v & BIT_ULL(10)) && !(v & BIT_ULL(11)))
		return -EINVAL;
	return 0;
}

static int khv_set_sregs(struct khv_vcpu *vcpu, const struct khv_sregs *s)
{
	const struct khv_segment *segs[] = {
		&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss, &s->tr, &s->ldt,
	};
	int i, err;

	if (memchr_inv(s->reserved, 0, sizeof(s->reserved)) ||
	    memchr_inv(s->gdt.pad, 0, sizeof(s->gdt.pad)) ||
	    memchr_inv(s->idt.pad, 0, sizeof(s->idt.pad)))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(segs); i++)
		if (!khv_segment_reserved_ok(segs[i]))
			return -EINVAL;
	if (khv_check_sregs_apic_base(vcpu, s->apic_base) || s->cr8 > 15)
		return -EINVAL;
	err = khv_ops->set_sregs(vcpu, s);
	if (err)
		return err;
	if (vcpu->apic) {
		/* Checked above with the model's own rules for the host. */
		khv_apic_set_msr(vcpu, MSR_IA32_APICBASE, s->apic_base, true);
		khv_apic_set_cr8(vcpu, s->cr8);
	} else {
		vcpu->apic_base = s->apic_base;
	}
	vcpu->completion = KHV_COMPLETE_NONE;
	return 0;
}

static long khv_xsave_ioctl(struct khv_vcpu *vcpu, struct khv_xsave __user *argp, bool set)
{
	struct khv_xsave *buf;
	long err = 0;
	u32 pkru = 0;

	if (vcpu->guest_fpu.uabi_size > sizeof(*buf))
		return -EOPNOTSUPP;
	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (set) {
		if (copy_from_user(buf, argp, sizeof(*buf)))
			err = -EFAULT;
		else
			err = fpu_copy_uabi_to_guest_fpstate(&vcpu->guest_fpu, buf,
							     khv_supported_xcr0(), &pkru);
	} else {
		fpu_copy_guest_fpstate_to_uabi(&vcpu->guest_fpu, buf, sizeof(*buf),
					       khv_supported_xcr0(), 0);
		if (copy_to_user(argp, buf, sizeof(*buf)))
			err = -EFAULT;
	}
	kfree(buf);
	return err;
}

static long khv_vcpu_ioctl_locked(struct khv_vcpu *vcpu, unsigned int cmd, void __user *argp)
{
	switch (cmd) {
	case KHV_RUN:
		return khv_vcpu_run(vcpu);
	case KHV_GET_REGS: {
		struct khv_regs regs;

		khv_get_regs(vcpu, &regs);
		return copy_to_user(argp, &regs, sizeof(regs)) ? -EFAULT : 0;
	}
	case KHV_SET_REGS: {
		struct khv_regs regs;

		if (copy_from_user(&regs, argp, sizeof(regs)))
			return -EFAULT;
		return khv_set_regs(vcpu, &regs);
	}
	case KHV_GET_MP_STATE: {
		struct khv_mp_state mp = { .mp_state = vcpu->mp_state };

		return copy_to_user(argp, &mp, sizeof(mp)) ? -EFAULT : 0;
	}
	case KHV_SET_MP_STATE: {
		struct khv_mp_state mp;

		if (copy_from_user(&mp, argp, sizeof(mp)))
			return -EFAULT;
		if (mp.pad)
			return -EINVAL;
		return khv_apic_set_mp_state(vcpu, mp.mp_state);
	}
	case KHV_GET_VCPU_EVENTS: {
		struct khv_vcpu_events ev;

		khv_get_vcpu_events(vcpu, &ev);
		return copy_to_user(argp, &ev, sizeof(ev)) ? -EFAULT : 0;
	}
	case KHV_SET_VCPU_EVENTS: {
		struct khv_vcpu_events ev;

		if (copy_from_user(&ev, argp, sizeof(ev)))
			return -EFAULT;
		return khv_set_vcpu_events(vcpu, &ev);
	}
	case KHV_GET_LAPIC: {
		struct khv_lapic_state *st = kzalloc(sizeof(*st), GFP_KERNEL);
		long r;

		if (!st)
			return -ENOMEM;
		r = khv_apic_get_state(vcpu, st);
		if (!r && copy_to_user(argp, st, sizeof(*st)))
			r = -EFAULT;
		kfree(st);
		return r;
	}
	case KHV_SET_LAPIC: {
		struct khv_lapic_state *st = memdup_user(argp, sizeof(*st));
		long r;

		if (IS_ERR(st))
			return PTR_ERR(st);
		r = khv_apic_set_state(vcpu, st);
		kfree(st);
		return r;
	}
	case KHV_GET_SREGS: {
		struct khv_sregs sregs;

		memset(&sregs, 0, sizeof(sregs));
		khv_ops->get_sregs(vcpu, &sregs);
		sregs.apic_base = vcpu->apic_base;
		if (vcpu->apic)
			sregs.cr8 = khv_apic_cr8(vcpu);
		return copy_to_user(argp, &sregs, sizeof(sregs)) ? -EFAULT : 0;
	}
	case KHV_SET_SREGS: {
		struct khv_sregs sregs;

		if (copy_from_user(&sregs, argp, sizeof(sregs)))
			return -EFAULT;
		return khv_set_sregs(vcpu, &sregs);
	}
	case KHV_INJECT_EVENT: {
		struct khv_event ev;
		int r;

		if (copy_from_user(&ev, argp, sizeof(ev)))
			return -EFAULT;
		r = khv_inject_event(vcpu, &ev);
		if (!r)
			khv_kstat(vcpu, KHV_KSTAT_INJ_USER);
		return r;
	}
	case KHV_GET_MSRS:
		return khv_msrs_ioctl(vcpu, argp, false);
	case KHV_SET_MSRS:
		return khv_msrs_ioctl(vcpu, argp, true);
	case KHV_SET_CPUID:
		return khv_vcpu_set_cpuid(vcpu, argp);
	case KHV_GET_CPUID:
		return khv_vcpu_get_cpuid(vcpu, argp);
	case KHV_GET_EXIT_STATS:
		return khv_exit_stats_ioctl(vcpu, argp);
	case KHV_SET_STUDY:
		return khv_study_ioctl(vcpu, argp, true);
	case KHV_GET_STUDY:
		return khv_study_ioctl(vcpu, argp, false);
	case KHV_GET_STATS_FD:
		if (argp)
			return -EINVAL;
		return khv_stats_fd(vcpu->vm->stats, vcpu->stats, vcpu->id);
	case KHV_GET_DEBUGREGS: {
		struct khv_debugregs d;

		khv_get_debugregs(vcpu, &d);
		return copy_to_user(argp, &d, sizeof(d)) ? -EFAULT : 0;
	}
	case KHV_SET_DEBUGREGS: {
		struct khv_debugregs d;

		if (copy_from_user(&d, argp, sizeof(d)))
			return -EFAULT;
		return khv_set_debugregs(vcpu, &d);
	}
	case KHV_GET_XCRS: {
		struct khv_xcrs x;

		khv_get_xcrs(vcpu, &x);
		return copy_to_user(argp, &x, sizeof(x)) ? -EFAULT : 0;
	}
	case KHV_SET_XCRS: {
		struct khv_xcrs x;

		if (copy_from_user(&x, argp, sizeof(x)))
			return -EFAULT;
		return khv_set_xcrs(vcpu, &x);
	}
	case KHV_GET_XSAVE:
		return khv_xsave_ioctl(vcpu, argp, false);
	case KHV_SET_XSAVE:
		return khv_xsave_ioctl(vcpu, argp, true);
	default:
		return -ENOTTY;
	}
}

static long khv_vcpu_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct khv_vcpu *vcpu = filp->private_data;
	long r;

	if (vcpu->vm->mm != current->mm)
		return -EIO;
	if (_IOC_TYPE(cmd) != KHVIO)
		return -ENOTTY;
	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;
	khv_vcpu_load(vcpu);
	r = khv_vcpu_ioctl_locked(vcpu, cmd, (void __user *)arg);
	khv_vcpu_put(vcpu);
	mutex_unlock(&vcpu->mutex);
	return r;
}

static vm_fault_t khv_vcpu_fault(struct vm_fault *vmf)
{
	struct khv_vcpu *vcpu = vmf->vma->vm_file->private_data;

	if (vmf->pgoff >= KHV_RUN_MMAP_SIZE / PAGE_SIZE)
		return VM_FAULT_SIGBUS;
	vmf->page = virt_to_page((void *)vcpu->run + vmf->pgoff * PAGE_SIZE);
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct khv_vcpu_vm_ops = {
	.fault = khv_vcpu_fault,
};

static int khv_vcpu_mmap(struct file *filp, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start > KHV_RUN_MMAP_SIZE)
		return -EINVAL;
	vma->vm_ops = &khv_vcpu_vm_ops;
	return 0;
}

static int khv_vcpu_release(struct inode *inode, struct file *filp)
{
	struct khv_vcpu *vcpu = filp->private_data;

	khv_vm_put(vcpu->vm);
	return 0;
}

static const struct file_operations khv_vcpu_fops = {
	.owner		= THIS_MODULE,
	.release	= khv_vcpu_release,
	.unlocked_ioctl	= khv_vcpu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= khv_vcpu_mmap,
	.llseek		= noop_llseek,
};

/* Only from VM destruction: no fd refers to the vCPU any more. */
void khv_vcpu_free(struct khv_vcpu *vcpu)
{
	khv_apic_destroy(vcpu);
	khv_ops->vcpu_destroy(vcpu);
	fpu_free_guest_fpstate(&vcpu->guest_fpu);
	kfree(vcpu->cpuid);
	free_pages((unsigned long)vcpu->run, get_order(KHV_RUN_MMAP_SIZE));
	khv_vcpu_stats_put(vcpu->stats);
	kfree(vcpu);
}

/* The CPUID signature (family/model/stepping) a reset CPU leaves in EDX. */
static u64 khv_reset_rdx(struct khv_vcpu *vcpu)
{
	const struct khv_cpuid_entry *e = khv_cpuid_find(vcpu, 1, 0);

	return e ? e->eax : 0x600;
}

/*
 * INIT (an IPI from the guest, in its vCPU's thread before an entry): the
 * registers as after RESET (SDM vol. 3A, "Processor State After Reset"),
 * except what INIT keeps: the TSC, the MSRs khv keeps in core (APIC base,
 * MISC_ENABLE, TSC_AUX), XCR0 goes back to x87 only.  The TSC offset is
 * put back exactly, not re-aimed at a value: vCPUs that shared one before
 * (kvmclock's stable bit, core/pvclock.c) still do.
 */
void khv_vcpu_init_signal(struct khv_vcpu *vcpu)
{
	u64 tsc_offset = vcpu->tsc_offset;

	memset(vcpu->regs, 0, sizeof(vcpu->regs));
	khv_ops->reset(vcpu);
	vcpu->regs[KHV_REG_RDX] = khv_reset_rdx(vcpu);
	vcpu->xcr0 = XFEATURE_MASK_FP;
	vcpu->completion = KHV_COMPLETE_NONE;
	khv_ops->set_tsc_offset(vcpu, tsc_offset);
}

/* SIPI to a vCPU waiting after INIT: real mode at vector << 12. */
void khv_vcpu_sipi(struct khv_vcpu *vcpu, u8 vector)
{
	struct khv_sregs s;

	memset(&s, 0, sizeof(s));
	khv_ops->get_sregs(vcpu, &s);
	s.cs.selector = (u16)vector << 8;
	s.cs.base = (u64)vector << 12;
	/* Unchanged but for CS: what the backend itself produced. */
	if (khv_ops->set_sregs(vcpu, &s))
		pr_warn_once("khv: SIPI: backend refused its own reset state\n");
	vcpu->regs[KHV_REG_RIP] = 0;
}

static int khv_vcpu_setup(struct khv_vm *vm, struct khv_vcpu *vcpu, u32 id)
{
	int err;

	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->cpu = -1;
	mutex_init(&vcpu->mutex);
	preempt_notifier_init(&vcpu->preempt_notifier, &khv_preempt_ops);
	atomic_set(&vcpu->mode, KHV_OUTSIDE_GUEST_MODE);
	rcuwait_init(&vcpu->wait);
	/* Its TSC offset may differ from the others': kvmclock's stable bit. */
	vcpu->pvclock_cpu = -1;
	set_bit(KHV_REQ_PVCLOCK, &vcpu->requests);
	vcpu->exit_tsc = KHV_TSC_NONE;

	/* One compound allocation, charged to the VMM's memory cgroup. */
	vcpu->run = (void *)__get_free_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_COMP,
					     get_order(KHV_RUN_MMAP_SIZE));
	if (!vcpu->run)
		return -ENOMEM;
	err = khv_vcpu_stats_create(vcpu);
	if (err)
		goto err_run;
	if (!fpu_alloc_guest_fpstate(&vcpu->guest_fpu)) {
		err = -ENOMEM;
		goto err_stats;
	}
	err = khv_vcpu_cpuid_default(vcpu);
	if (err)
		goto err_fpu;

	vcpu->xcr0 = XFEATURE_MASK_FP;
	vcpu->apic_base = 0xfee00000ULL | BIT_ULL(11) | (id == 0 ? BIT_ULL(8) : 0);
	vcpu->misc_enable = 1;	/* fast strings */
	vcpu->hwcr = KHV_HWCR_TSCFREQSEL;
	vcpu->rflags = KHV_RFLAGS_FIXED;
	err = khv_ops->vcpu_init(vcpu);
	if (err)
		goto err_cpuid;
	err = khv_apic_create(vcpu);
	if (err)
		goto err_backend;
	vcpu->regs[KHV_REG_RDX] = khv_reset_rdx(vcpu);
	return 0;

err_backend:
	khv_ops->vcpu_destroy(vcpu);
err_cpuid:
	kfree(vcpu->cpuid);
err_fpu:
	fpu_free_guest_fpstate(&vcpu->guest_fpu);
err_stats:
	khv_vcpu_stats_put(vcpu->stats);
err_run:
	free_pages((unsigned long)vcpu->run, get_order(KHV_RUN_MMAP_SIZE));
	return err;
}

int khv_vcpu_create(struct khv_vm *vm, unsigned long id)
{
	struct khv_vcpu *vcpu;
	struct file *file;
	int err, fd;

	if (id >= KHV_MAX_VCPUS)
		return -EINVAL;

	mutex_lock(&vm->lock);
	if (vm->vcpus[id]) {
		err = -EEXIST;
		goto out_unlock;
	}
	vcpu = kzalloc(khv_ops->vcpu_size, GFP_KERNEL_ACCOUNT);
	if (!vcpu) {
		err = -ENOMEM;
		goto out_unlock;
	}
	err = khv_vcpu_setup(vm, vcpu, id);
	if (err)
		goto out_free;

	fd = get_unused_fd_flags(O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto out_destroy;
	}
	file = anon_inode_getfile("khv-vcpu", &khv_vcpu_fops, vcpu, O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		err = PTR_ERR(file);
		goto out_destroy;
	}
	/*
	 * Publish before the fd exists, so that no vCPU can ever run without
	 * being visible to khv_kick_all_and_wait(); fd_install cannot fail.
	 */
	refcount_inc(&vm->users);
	khv_vcpu_stats_publish(vcpu);
	/* Pairs with the acquire in khv_vcpu_at(). */
	smp_store_release(&vm->vcpus[id], vcpu);
	if (id >= vm->vcpu_end) {
		/* After vcpus[id]: pairs with the acquire in khv_vcpu_end(). */
		smp_store_release(&vm->vcpu_end, id + 1);
	}
	atomic_inc(&vm->nr_vcpus);
	mutex_unlock(&vm->lock);
	fd_install(fd, file);
	return fd;

out_destroy:
	khv_apic_destroy(vcpu);
	khv_ops->vcpu_destroy(vcpu);
	fpu_free_guest_fpstate(&vcpu->guest_fpu);
	kfree(vcpu->cpuid);
	free_pages((unsigned long)vcpu->run, get_order(KHV_RUN_MMAP_SIZE));
	khv_vcpu_stats_put(vcpu->stats);
out_free:
	kfree(vcpu);
out_unlock:
	mutex_unlock(&vm->lock);
	return err;
}

void khv_vcpu_module_init(void)
{
	khv_preempt_ops.sched_in = khv_sched_in;
	khv_preempt_ops.sched_out = khv_sched_out;
	preempt_notifier_inc();
}

void khv_vcpu_module_exit(void)
{
	preempt_notifier_dec();
}
