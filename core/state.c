// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU state for save and restore that no other file owns: the debug
 * registers (KHV_GET/SET_DEBUGREGS) and the extended control registers
 * (KHV_GET/SET_XCRS).  Each set checks every field first and changes
 * nothing when it refuses one, so that a VMM restoring a VM learns of a bad
 * field before half the state is in.  The vCPU is loaded and its mutex held
 * (core/vcpu.c).
 */
#include <linux/kernel.h>
#include <linux/string.h>

#include "khv.h"
#include "internal.h"

void khv_get_debugregs(struct khv_vcpu *vcpu, struct khv_debugregs *d)
{
	int i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < 4; i++)
		d->db[i] = vcpu->dr[i];
	d->dr6 = khv_ops->get_dr67(vcpu, 6);
	d->dr7 = khv_ops->get_dr67(vcpu, 7);
}

int khv_set_debugregs(struct khv_vcpu *vcpu, const struct khv_debugregs *d)
{
	int i;

	if (d->flags || memchr_inv(d->reserved, 0, sizeof(d->reserved)))
		return -EINVAL;
	/* What a MOV to the register could leave in it, and nothing else. */
	if (d->dr6 != ((d->dr6 & KHV_DR6_VOLATILE) | KHV_DR6_FIXED1) ||
	    d->dr7 != ((d->dr7 & KHV_DR7_VOLATILE) | KHV_DR7_FIXED1))
		return -EINVAL;
	for (i = 0; i < 4; i++)
		if (!khv_canonical(d->db[i]))
			return -EINVAL;
	for (i = 0; i < 4; i++)
		vcpu->dr[i] = d->db[i];
	khv_ops->set_dr67(vcpu, 6, d->dr6);
	khv_ops->set_dr67(vcpu, 7, d->dr7);
	return 0;
}

void khv_get_xcrs(struct khv_vcpu *vcpu, struct khv_xcrs *x)
{
	memset(x, 0, sizeof(*x));
	x->nr_xcrs = 1;
	x->xcrs[0].xcr = 0;
	x->xcrs[0].value = vcpu->xcr0;
}

int khv_set_xcrs(struct khv_vcpu *vcpu, const struct khv_xcrs *x)
{
	u64 xcr0 = vcpu->xcr0;
	u32 i;

	if (x->flags || x->nr_xcrs > KHV_MAX_XCRS ||
	    memchr_inv(x->reserved, 0, sizeof(x->reserved)))
		return -EINVAL;
	for (i = 0; i < x->nr_xcrs; i++) {
		const struct khv_xcr *e = &x->xcrs[i];

		if (e->xcr || e->reserved || !khv_xcr0_allowed(vcpu, e->value))
			return -EINVAL;
		xcr0 = e->value;
	}
	vcpu->xcr0 = xcr0;
	return 0;
}
