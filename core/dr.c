// SPDX-License-Identifier: GPL-2.0
/*
 * MOV to and from DR0-DR7.
 *
 * Both backends intercept every debug-register access: the hardware switches
 * DR6/DR7 with the guest state (VMCB fields, VMCS DR7), but not DR0-DR3,
 * and the host's own breakpoints must survive a guest.  Each backend decodes
 * the operands its own way (exit code or decoder on AMD, exit qualification
 * on Intel) and stores DR6/DR7 where its hardware keeps them; what the
 * instruction means is the same for both and lives here.
 */
#include <linux/kernel.h>
#include <asm/processor-flags.h>
#include <asm/traps.h>

#include "khv.h"

int khv_emulate_mov_dr(struct khv_vcpu *vcpu, int dr, int gpr, bool write, bool wide)
{
	u64 val;

	if (dr == 4 || dr == 5) {
		/* Aliases of DR6/DR7, unless CR4.DE makes them undefined. */
		if (khv_ops->get_cr(vcpu, 4) & X86_CR4_DE) {
			khv_inject_ud(vcpu);
			return 1;
		}
		dr += 2;
	}
	if (dr > 7) {
		khv_inject_ud(vcpu);
		return 1;
	}
	/* General detect: the access itself raises #DB with DR6.BD, GD cleared. */
	if (khv_ops->get_dr67(vcpu, 7) & KHV_DR7_GD) {
		khv_ops->set_dr67(vcpu, 6, khv_ops->get_dr67(vcpu, 6) | KHV_DR6_BD);
		khv_ops->set_dr67(vcpu, 7, khv_ops->get_dr67(vcpu, 7) & ~KHV_DR7_GD);
		khv_queue_exception(vcpu, X86_TRAP_DB, false, 0);
		return 1;
	}

	if (!write) {
		val = dr < 4 ? vcpu->dr[dr] : khv_ops->get_dr67(vcpu, dr);
		vcpu->regs[gpr] = wide ? val : (u32)val;
		return khv_skip_instruction(vcpu);
	}

	val = wide ? vcpu->regs[gpr] : (u32)vcpu->regs[gpr];
	if (dr < 4) {
		/* The backends load these into the real DR0-3: canonical only. */
		if (!khv_canonical(val)) {
			khv_inject_gp(vcpu);
			return 1;
		}
		vcpu->dr[dr] = val;
	} else {
		if (val >> 32) {
			khv_inject_gp(vcpu);
			return 1;
		}
		if (dr == 6)
			val = (val & KHV_DR6_VOLATILE) | KHV_DR6_FIXED1;
		else
			val = (val & KHV_DR7_VOLATILE) | KHV_DR7_FIXED1;
		khv_ops->set_dr67(vcpu, dr, val);
	}
	return khv_skip_instruction(vcpu);
}
