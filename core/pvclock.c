// SPDX-License-Identifier: GPL-2.0
/*
 * kvmclock: the paravirtual clock a Linux guest built with CONFIG_KVM_GUEST
 * already knows, offered only when the VMM puts the KVM CPUID leaves in the
 * vCPU's CPUID (Documentation/khv/time.rst says what and why).
 *
 * The guest gives each vCPU a 32-byte structure (MSR_KVM_SYSTEM_TIME_NEW)
 * and computes its time from it and its own TSC:
 *
 *	ns = system_time + scale(guest TSC - tsc_timestamp)
 *	scale(d) = ((tsc_shift >= 0 ? d << tsc_shift : d >> -tsc_shift)
 *		    * tsc_to_system_mul) >> 32
 *
 * khv keeps one reference per VM, a host TSC value and the kvmclock
 * nanoseconds at that value, and gives every vCPU the same reference moved
 * into its own TSC (tsc_timestamp = reference host TSC + the vCPU's TSC
 * offset).  The guest's result is then the reference plus the host TSC
 * scaled, whatever the vCPU's offset: the same clock on every vCPU, as
 * monotonic as the host TSC.  With a constant-rate TSC the host has not
 * found unsynchronised, the reference is taken once and never moves; on
 * any other host it is taken again from the host's boot-time clock at each
 * update, never behind what the old one gave, and the guest is not told the
 * clock is stable.
 */
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/ktime.h>
#include <linux/timekeeping.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/tsc.h>

#include "khv.h"
#include "internal.h"

/* The guest ABI's layouts (Linux's struct pvclock_vcpu_time_info, _wall_clock). */
struct khv_pvclock_vcpu_time {
	u32 version;		/* odd while khv writes */
	u32 pad0;
	u64 tsc_timestamp;	/* guest TSC ... */
	u64 system_time;	/* ... at which kvmclock read this many ns */
	u32 tsc_to_system_mul;
	s8 tsc_shift;
	u8 flags;		/* KHV_PVCLOCK_TSC_STABLE */
	u8 pad[2];
} __packed;

struct khv_pvclock_wall_clock {
	u32 version;
	u32 sec;		/* wall-clock time at kvmclock 0 */
	u32 nsec;
} __packed;

/* flags: every vCPU computes the same time from its structure and TSC. */
#define KHV_PVCLOCK_TSC_STABLE	BIT(0)

/* MSR_KVM_SYSTEM_TIME_NEW: bit 0 enables, bit 1 is reserved (4-byte aligned). */
#define KHV_PVCLOCK_ENABLE	BIT_ULL(0)

static bool khv_pvclock_cpuid_on(struct khv_vcpu *vcpu)
{
	const struct khv_cpuid_entry *sig = khv_cpuid_find(vcpu, KHV_CPUID_KVM_SIGNATURE, 0);
	const struct khv_cpuid_entry *feat = khv_cpuid_find(vcpu, KHV_CPUID_KVM_FEATURES, 0);

	/* Linux reads leaf 0x40000001 only when 0x40000000 names KVM and covers it. */
	if (!sig || !feat || sig->eax < KHV_CPUID_KVM_FEATURES || sig->ebx != KHV_KVM_SIG_EBX ||
	    sig->ecx != KHV_KVM_SIG_ECX || sig->edx != KHV_KVM_SIG_EDX)
		return false;
	return (feat->eax & KHV_KVM_FEATURE_CLOCKSOURCE2) && tsc_khz;
}

/* A constant-rate TSC the kernel has not caught out: the guest may trust it. */
static bool khv_host_tsc_stable(void)
{
	return boot_cpu_has(X86_FEATURE_CONSTANT_TSC) && !check_tsc_unstable();
}

/*
 * Multiplier and shift for the host's tsc_khz: the largest 32-bit mul with
 * ns = (d << shift) * mul >> 32 (shift may be negative), so that the
 * guest, which also derives its TSC frequency from these two numbers
 * instead of calibrating against the PIT, loses as little as it can.
 */
static void khv_pvclock_scale(u32 *mul, s8 *shift)
{
	u64 num = NSEC_PER_MSEC, den = tsc_khz;	/* ns per cycle = num / den */
	int s = 0;

	while (num >= den) {
		den <<= 1;
		s++;
	}
	while (num * 2 < den) {
		num <<= 1;
		s--;
	}
	/* Now 1/2 <= num / den < 1: mul has its top bit set. */
	*mul = div64_u64(num << 32, den);
	*shift = s;
}

static u64 khv_pvclock_ns(u64 cycles, u32 mul, s8 shift)
{
	cycles = shift >= 0 ? cycles << shift : cycles >> -shift;
	return mul_u64_u32_shr(cycles, mul, 32);
}

/*
 * The VM's reference: host TSC *tsc and kvmclock *ns at that TSC, with the
 * scale in *mul and *shift.  Process context.
 */
static void khv_pvclock_ref(struct khv_vm *vm, u64 *tsc, u64 *ns, u32 *mul, s8 *shift)
{
	bool rebase = !khv_host_tsc_stable();
	u64 now_tsc, boot_ns;

	khv_pvclock_scale(mul, shift);
	spin_lock(&vm->pvclock_lock);
	now_tsc = rdtsc_ordered();
	boot_ns = ktime_get_boottime_ns();
	if (!vm->pvclock_ready) {
		/* kvmclock starts at 0 when the VM first uses it. */
		vm->pvclock_epoch = boot_ns;
		vm->pvclock_ref_tsc = now_tsc;
		vm->pvclock_ref_ns = 0;
		WRITE_ONCE(vm->pvclock_ready, true);
	} else if (rebase || now_tsc < vm->pvclock_ref_tsc) {
		/*
		 * The TSC's rate or continuity cannot be trusted (it went
		 * back: a host suspend may reset it): follow the host clock
		 * from here, but never behind what the old reference gives.
		 */
		u64 old = vm->pvclock_ref_ns;

		if (now_tsc >= vm->pvclock_ref_tsc)
			old += khv_pvclock_ns(now_tsc - vm->pvclock_ref_tsc, *mul, *shift);
		vm->pvclock_ref_ns = max(boot_ns - vm->pvclock_epoch, old);
		vm->pvclock_ref_tsc = now_tsc;
	}
	*tsc = vm->pvclock_ref_tsc;
	*ns = vm->pvclock_ref_ns;
	spin_unlock(&vm->pvclock_lock);
}

/*
 * PVCLOCK_TSC_STABLE_BIT: Linux then trusts vCPU 0's structure read with
 * any vCPU's TSC (its vDSO maps only that one) and drops its own
 * cross-CPU monotonicity guard.  True only if that gives the same time
 * everywhere: a trustworthy host TSC and one TSC offset for all vCPUs.
 */
static bool khv_pvclock_stable(struct khv_vm *vm)
{
	u64 offset = 0;
	bool first = true;
	unsigned int i;

	if (!khv_host_tsc_stable())
		return false;
	for (i = 0; i < khv_vcpu_end(vm); i++) {
		struct khv_vcpu *v = khv_vcpu_at(vm, i);

		if (!v)
			continue;
		if (!first && READ_ONCE(v->tsc_offset) != offset)
			return false;
		offset = READ_ONCE(v->tsc_offset);
		first = false;
	}
	return true;
}

/*
 * Tell every vCPU to rewrite its structure when the stable bit it should
 * carry changed since it was last published.
 */
static bool khv_pvclock_publish(struct khv_vm *vm)
{
	bool stable = khv_pvclock_stable(vm);
	bool changed;

	spin_lock(&vm->pvclock_lock);
	changed = vm->pvclock_stable != stable;
	vm->pvclock_stable = stable;
	spin_unlock(&vm->pvclock_lock);
	if (changed)
		khv_kick_all_and_wait(vm, KHV_REQ_PVCLOCK);
	return stable;
}

/*
 * Write a versioned structure at @gpa: @version (made odd) first, then the
 * @len bytes of @body that follow it, then the version made even.  A reader
 * on another vCPU retries while the version is odd or changed; it must never
 * see the new body with an even version, hence each step lands before the
 * next.  Returns the even version, or 0 when nothing was written.
 */
static u32 khv_pvclock_write(struct khv_vm *vm, u64 gpa, u32 version, const void *body,
			     size_t len)
{
	version = (version + 1) | 1;
	if (khv_write_guest(vm, gpa, &version, sizeof(version)))
		return 0;
	/* The odd version is visible before any of the body. */
	smp_wmb();
	khv_write_guest(vm, gpa + sizeof(version), body, len);
	/* The whole body is visible before the even version. */
	smp_wmb();
	version++;
	khv_write_guest(vm, gpa, &version, sizeof(version));
	return version;
}

void khv_pvclock_vm_init(struct khv_vm *vm)
{
	spin_lock_init(&vm->pvclock_lock);
}

/* KHV_SET_CPUID: kvmclock exists for this vCPU from now on, or no longer. */
void khv_pvclock_cpuid_changed(struct khv_vcpu *vcpu)
{
	vcpu->pvclock_on = khv_pvclock_cpuid_on(vcpu);
	set_bit(KHV_REQ_PVCLOCK, &vcpu->requests);
}

/*
 * The vCPU's TSC offset changed (IA32_TSC written by the guest or the VMM):
 * its tsc_timestamp moves with it, and the stable bit of every vCPU may
 * change.  Process context, no vCPU lock but the caller's.
 */
void khv_pvclock_tsc_changed(struct khv_vcpu *vcpu)
{
	set_bit(KHV_REQ_PVCLOCK, &vcpu->requests);
	if (READ_ONCE(vcpu->vm->pvclock_ready))
		khv_kick_all_and_wait(vcpu->vm, KHV_REQ_PVCLOCK);
}

/*
 * KHV_REQ_PVCLOCK, in the vCPU's thread before an entry: rewrite the
 * structure (version odd, body, version even, each store ordered after the
 * one before: other vCPUs may be reading it).  A structure that is not
 * all in writable RAM is left alone; the guest asked for a clock where
 * there is none, and KHV_RUN goes on.
 */
void khv_pvclock_update(struct khv_vcpu *vcpu)
{
	struct khv_vm *vm = vcpu->vm;
	struct khv_pvclock_vcpu_time t;
	u64 gpa, ref_tsc, ref_ns;
	u32 version;

	clear_bit(KHV_REQ_PVCLOCK, &vcpu->requests);
	/* After the clear: a later change sets the bit again. */
	smp_mb__after_atomic();
	vcpu->pvclock_cpu = READ_ONCE(vcpu->cpu);
	if (!vcpu->pvclock_on || !(vcpu->pvclock_system_time & KHV_PVCLOCK_ENABLE)) {
		/* A new vCPU, or one whose TSC moved, may change the others' bit. */
		if (READ_ONCE(vm->pvclock_ready))
			khv_pvclock_publish(vm);
		return;
	}
	gpa = vcpu->pvclock_system_time & ~KHV_PVCLOCK_ENABLE;
	if (khv_read_guest(vm, gpa, &t, sizeof(t)))
		return;

	memset(&t, 0, sizeof(t));
	khv_pvclock_ref(vm, &ref_tsc, &ref_ns, &t.tsc_to_system_mul, &t.tsc_shift);
	t.tsc_timestamp = ref_tsc + READ_ONCE(vcpu->tsc_offset);
	t.system_time = ref_ns;
	t.flags = khv_pvclock_publish(vm) ? KHV_PVCLOCK_TSC_STABLE : 0;

	version = khv_pvclock_write(vm, gpa, vcpu->pvclock_version, (u8 *)&t + sizeof(t.version),
				    sizeof(t) - sizeof(t.version));
	if (version)
		vcpu->pvclock_version = version;
}

/*
 * KHV_GET_CLOCK: what kvmclock reads now on any vCPU (the VM-wide reference
 * carried forward to the host TSC now), with CLOCK_REALTIME read right
 * after.  A VM that never used kvmclock starts it here, at 0.
 */
int khv_pvclock_get_clock(struct khv_vm *vm, struct khv_clock_data *c)
{
	u64 ref_tsc, ref_ns, tsc;
	u32 mul;
	s8 shift;

	if (!tsc_khz)
		return -ENODEV;
	memset(c, 0, sizeof(*c));
	khv_pvclock_ref(vm, &ref_tsc, &ref_ns, &mul, &shift);
	tsc = rdtsc_ordered();
	c->realtime = ktime_get_real_ns();
	c->clock = ref_ns + (tsc > ref_tsc ? khv_pvclock_ns(tsc - ref_tsc, mul, shift) : 0);
	c->flags = KHV_CLOCK_REALTIME;
	return 0;
}

/*
 * KHV_SET_CLOCK: kvmclock reads c->clock now (plus the CLOCK_REALTIME time
 * since c->realtime, with KHV_CLOCK_REALTIME), and goes on from there at
 * the host TSC's rate.  Every vCPU rewrites its structure before it next
 * enters the guest.
 */
int khv_pvclock_set_clock(struct khv_vm *vm, const struct khv_clock_data *c)
{
	u64 clock = c->clock, real;

	if ((c->flags & ~KHV_CLOCK_REALTIME) || c->pad ||
	    memchr_inv(c->reserved, 0, sizeof(c->reserved)))
		return -EINVAL;
	if (!tsc_khz)
		return -ENODEV;
	spin_lock(&vm->pvclock_lock);
	real = ktime_get_real_ns();
	if ((c->flags & KHV_CLOCK_REALTIME) && real > c->realtime)
		clock += real - c->realtime;
	vm->pvclock_ref_tsc = rdtsc_ordered();
	vm->pvclock_ref_ns = clock;
	/* A later rebase follows boot time from here (modulo 2^64 arithmetic). */
	vm->pvclock_epoch = ktime_get_boottime_ns() - clock;
	WRITE_ONCE(vm->pvclock_ready, true);
	spin_unlock(&vm->pvclock_lock);
	khv_kick_all_and_wait(vm, KHV_REQ_PVCLOCK);
	return 0;
}

/*
 * MSR_KVM_WALL_CLOCK_NEW written by the guest: the wall-clock time at which
 * kvmclock was 0, so that the guest's kvmclock plus this is the host's
 * CLOCK_REALTIME now.  Written once per guest write, as Linux reads it once
 * right after.  sec is 32 bits in the guest ABI.
 */
static void khv_pvclock_write_wall_clock(struct khv_vcpu *vcpu, u64 gpa)
{
	struct khv_pvclock_wall_clock w;
	u64 ref_tsc, ref_ns, now, real, tsc;
	u32 mul, rem;
	s8 shift;

	if (khv_read_guest(vcpu->vm, gpa, &w, sizeof(w)))
		return;
	khv_pvclock_ref(vcpu->vm, &ref_tsc, &ref_ns, &mul, &shift);
	tsc = rdtsc_ordered();
	now = ref_ns;
	if (tsc > ref_tsc)
		now += khv_pvclock_ns(tsc - ref_tsc, mul, shift);
	real = ktime_get_real_ns() - now;
	w.sec = (u32)div_u64_rem(real, NSEC_PER_SEC, &rem);
	w.nsec = rem;

	khv_pvclock_write(vcpu->vm, gpa, w.version, &w.sec, sizeof(w) - sizeof(w.version));
}

/* Bits at or above the host's physical-address width: reserved in a GPA. */
static bool khv_pvclock_gpa_ok(u64 v)
{
	return !(v & GENMASK_ULL(63, boot_cpu_data.x86_phys_bits));
}

int khv_pvclock_get_msr(struct khv_vcpu *vcpu, u32 index, u64 *data)
{
	switch (index) {
	case KHV_MSR_KVM_SYSTEM_TIME_NEW:
		if (!vcpu->pvclock_on)
			return -EINVAL;
		*data = vcpu->pvclock_system_time;
		return 0;
	case KHV_MSR_KVM_WALL_CLOCK_NEW:
		if (!vcpu->pvclock_on)
			return -EINVAL;
		*data = vcpu->pvclock_wall_clock;
		return 0;
	default:
		return 1;
	}
}

/*
 * Refused (#GP for the guest, a short count for KHV_SET_MSRS) without the
 * CPUID leaves, with bit 1 of the system-time MSR set, or with an address
 * bit at or above MAXPHYADDR.  The wall-clock address has no alignment
 * rule: Linux's structure is packed.  A VMM's write (a state restore) only
 * sets the value; it does not write the wall clock into guest memory.
 */
int khv_pvclock_set_msr(struct khv_vcpu *vcpu, u32 index, u64 data, bool host)
{
	switch (index) {
	case KHV_MSR_KVM_SYSTEM_TIME_NEW:
		if (!vcpu->pvclock_on || (data & BIT_ULL(1)) || !khv_pvclock_gpa_ok(data))
			return -EINVAL;
		vcpu->pvclock_system_time = data;
		set_bit(KHV_REQ_PVCLOCK, &vcpu->requests);
		return 0;
	case KHV_MSR_KVM_WALL_CLOCK_NEW:
		if (!vcpu->pvclock_on || !khv_pvclock_gpa_ok(data))
			return -EINVAL;
		vcpu->pvclock_wall_clock = data;
		if (!host)
			khv_pvclock_write_wall_clock(vcpu, data);
		return 0;
	default:
		return 1;
	}
}
