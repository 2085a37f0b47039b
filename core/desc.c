// SPDX-License-Identifier: GPL-2.0
/*
 * The descriptor-table instructions, emulated: SGDT, SIDT, SLDT and STR
 * store GDTR, IDTR, LDTR's and TR's selectors; LGDT, LIDT, LLDT and LTR
 * load them.  The backends intercept them only while a study asks for them
 * (KHV_STUDY_DESC: SVM's eight descriptor-table intercepts, VT-x's
 * "descriptor-table exiting"), and an intercepted one has not run: khv does
 * what it would have done.
 *
 * Both backends decode the instruction at RIP here.  SVM gives nothing but
 * the exit code (no decode assist covers them); VT-x gives the instruction
 * information, but not the operand size SLDT and STR use for a register,
 * so one decoder serves both and the hardware's name for the exit is only
 * checked against it.
 *
 * The order is the CPU's: the checks that raise #UD and #GP(0) (mode,
 * CPL, UMIP), then the operand (a load reads it, and for LLDT and LTR the
 * descriptor it names, with its #GP(selector) and #NP(selector) checks; a
 * store checks that it can write its destination), and only then the
 * study's event, so what a study sees always completes.  Segment limits
 * are not checked (Documentation/khv/emulation.rst: nor are they for
 * MMIO).
 *
 * Locking: under the vCPU mutex, from the exit handlers and KHV_RUN's
 * completion of a study.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/unaligned.h>
#include <asm/processor-flags.h>
#include <asm/msr-index.h>
#include <asm/trapnr.h>

#include "khv.h"
#include "internal.h"
#include "emulate.h"

bool khv_desc_is_load(unsigned int insn)
{
	return insn == KHV_DESC_LGDT || insn == KHV_DESC_LIDT ||
	       insn == KHV_DESC_LLDT || insn == KHV_DESC_LTR;
}

/*
 * 0F 01 /0../3 with a memory operand: SGDT, SIDT, LGDT, LIDT (mod 3 are
 * other instructions: VMCALL, SWAPGS, RDTSCP...); 0F 00 /0../3: SLDT,
 * STR, LLDT, LTR.  -1 for anything else.
 */
static int khv_desc_insn(const struct khv_insn *in)
{
	static const u8 grp7[] = { KHV_DESC_SGDT, KHV_DESC_SIDT, KHV_DESC_LGDT, KHV_DESC_LIDT };
	static const u8 grp6[] = { KHV_DESC_SLDT, KHV_DESC_STR, KHV_DESC_LLDT, KHV_DESC_LTR };

	if (in->map != KHV_MAP_0F || in->vex || in->modrm_reg > 3)
		return -1;
	if (in->opcode == 0x01 && in->mem_operand)
		return grp7[in->modrm_reg];
	if (in->opcode == 0x00)
		return grp6[in->modrm_reg];
	return -1;
}

/*
 * A guest-memory access that failed, as a handler's return: the guest's
 * fault is queued (-EFAULT: re-enter), or the memory is not RAM.
 */
static int khv_desc_mem_error(struct khv_vcpu *vcpu, int err, u64 addr)
{
	u64 data[2] = { vcpu->regs[KHV_REG_RIP], addr };

	if (err == -EFAULT)
		return 1;
	return khv_exit_internal_error(vcpu, KHV_INTERNAL_ERROR_EMULATION, ARRAY_SIZE(data), data);
}

/* An exception for the guest, queued: the helpers below return 1 then. */
static int khv_desc_fault(struct khv_vcpu *vcpu, u8 vector, u16 error_code)
{
	khv_queue_exception(vcpu, vector, true, error_code);
	return 1;
}

/*
 * The system descriptor LLDT or LTR names, into op->seg: 8 bytes, or 16 in
 * IA-32e mode, from the GDT only.  0; 1 with an exception queued; or the
 * error of a guest-memory read (-EFAULT: its fault is queued too).
 */
static int khv_desc_load_system(struct khv_vcpu *vcpu, struct khv_desc_op *op,
				const struct khv_sregs *sr)
{
	bool lma = sr->efer & EFER_LMA, ltr = op->insn == KHV_DESC_LTR;
	u16 sel = op->selector, err_sel = sel & 0xfffc;
	unsigned int size = lma ? 16 : 8;
	struct khv_segment *s = &op->seg;
	u32 d[4] = { 0 };
	int r;

	memset(s, 0, sizeof(*s));
	if (!(sel & 0xfffc)) {
		if (ltr)
			return khv_desc_fault(vcpu, X86_TRAP_GP, 0);
		/* A null selector leaves LDTR unusable: no LDT. */
		s->selector = sel;
		s->unusable = 1;
		return 0;
	}
	if ((sel & 4) || (sel & ~7) + size - 1 > sr->gdt.limit)
		return khv_desc_fault(vcpu, X86_TRAP_GP, err_sel);
	r = khv_read_guest_virt(vcpu, sr->gdt.base + (sel & ~7), d, size, 0);
	if (r)
		return r;
	s->type = (d[1] >> 8) & 0xf;
	s->s = (d[1] >> 12) & 1;
	s->dpl = (d[1] >> 13) & 3;
	s->present = (d[1] >> 15) & 1;
	s->avl = (d[1] >> 20) & 1;
	s->l = (d[1] >> 21) & 1;
	s->db = (d[1] >> 22) & 1;
	s->g = (d[1] >> 23) & 1;
	s->base = (d[0] >> 16) | ((d[1] & 0xff) << 16) | (d[1] & 0xff000000);
	s->limit = (d[0] & 0xffff) | (d[1] & 0xf0000);
	if (s->g)
		s->limit = (s->limit << 12) | 0xfff;
	if (lma)
		s->base |= (u64)d[2] << 32;
	s->selector = sel;
	/*
	 * LDT: type 2.  TSS: an available one, 32/64-bit (9), or 16-bit (1)
	 * outside IA-32e mode.  A 16-byte descriptor's upper type is 0.
	 */
	if (s->s || (ltr ? s->type != 9 && (lma || s->type != 1) : s->type != 2) ||
	    (lma && ((d[3] >> 8) & 0x1f)))
		return khv_desc_fault(vcpu, X86_TRAP_GP, err_sel);
	if (!s->present)
		return khv_desc_fault(vcpu, X86_TRAP_NP, err_sel);
	if (lma && !khv_canonical(s->base))
		return khv_desc_fault(vcpu, X86_TRAP_GP, err_sel);
	if (ltr) {
		op->tss_desc = sr->gdt.base + (sel & ~7);
		s->type |= 2;	/* busy, as LTR leaves it */
	}
	op->base = s->base;
	op->limit = s->limit;
	return 0;
}

/* The operand of a load, read; returns as khv_desc_load_system(). */
static int khv_desc_read(struct khv_vcpu *vcpu, struct khv_desc_op *op,
			 const struct khv_sregs *sr, const struct khv_insn *in)
{
	u8 buf[10] = { 0 };
	int r;

	if (op->mem) {
		r = khv_read_guest_virt(vcpu, op->addr, buf, op->size, 0);
		if (r)
			return r;
	} else {
		memcpy(buf, &vcpu->regs[op->gpr], 2);
	}
	if (op->insn == KHV_DESC_LLDT || op->insn == KHV_DESC_LTR) {
		op->selector = buf[0] | buf[1] << 8;
		return khv_desc_load_system(vcpu, op, sr);
	}
	op->limit = buf[0] | buf[1] << 8;
	if (in->mode == 8) {
		memcpy(&op->base, buf + 2, 8);
		if (!khv_canonical(op->base))
			return khv_desc_fault(vcpu, X86_TRAP_GP, 0);
	} else {
		/* 32 bits of base; with a 16-bit operand, 24 of them. */
		op->base = buf[2] | buf[3] << 8 | buf[4] << 16 | (u32)buf[5] << 24;
		if (in->opsize == 2)
			op->base &= 0xffffff;
	}
	return 0;
}

/*
 * Decoded, checked, the operand read or the destination probed: *ready.
 * Else the handler's return (an exception queued, an internal error).
 */
static int khv_desc_prepare(struct khv_vcpu *vcpu, unsigned int hw_insn,
			    struct khv_desc_op *op, bool *ready)
{
	u64 cr0 = khv_ops->get_cr(vcpu, 0), cr4 = khv_ops->get_cr(vcpu, 4);
	bool pe = cr0 & X86_CR0_PE, vm86 = pe && (vcpu->rflags & X86_EFLAGS_VM);
	int cpl = khv_ops->get_cpl(vcpu), insn, r;
	struct khv_sregs sr;
	struct khv_insn in;

	*ready = false;
	r = khv_decode_at_rip(vcpu, &in);
	if (r == -EFAULT)
		return khv_queue_fetch_fault(vcpu, &in);
	insn = r ? -1 : khv_desc_insn(&in);
	/*
	 * Not what the hardware said it intercepted: the code changed under
	 * it (another vCPU), or the decoder is wrong.  Say so rather than loop.
	 */
	if (insn < 0 || insn != hw_insn)
		return khv_insn_internal_error(vcpu, vcpu->regs[KHV_REG_RIP], &in);
	/*
	 * The CPU checks these before its intercept; kept so that khv never
	 * does what the CPU would refuse.
	 */
	if (in.lock || (insn >= KHV_DESC_SLDT && (!pe || vm86))) {
		khv_inject_ud(vcpu);
		return 1;
	}
	if (khv_desc_is_load(insn) ? cpl != 0 : cpl > 0 && (cr4 & X86_CR4_UMIP)) {
		khv_inject_gp(vcpu);
		return 1;
	}

	memset(op, 0, sizeof(*op));
	op->insn = insn;
	op->next_rip = in.next_rip;
	op->mem = in.mem_operand;
	if (op->mem)
		op->addr = khv_insn_mem_linear(vcpu, &in);
	else
		op->gpr = (in.modrm_rm & 7) | ((in.rex & 1) << 3);
	if (insn <= KHV_DESC_LIDT)
		op->size = in.mode == 8 ? 10 : 6;	/* limit, then base */
	else
		op->size = op->mem || khv_desc_is_load(insn) ? 2 : in.opsize;

	khv_ops->get_sregs(vcpu, &sr);
	if (khv_desc_is_load(insn)) {
		r = khv_desc_read(vcpu, op, &sr, &in);
		if (r > 0)
			return r;
		if (r)
			return khv_desc_mem_error(vcpu, r, op->addr);
	} else {
		struct khv_segment s;

		switch (insn) {
		case KHV_DESC_SGDT:
			op->base = sr.gdt.base;
			op->limit = sr.gdt.limit;
			break;
		case KHV_DESC_SIDT:
			op->base = sr.idt.base;
			op->limit = sr.idt.limit;
			break;
		default:
			khv_ops->get_segment(vcpu, &s,
					     insn == KHV_DESC_SLDT ? KHV_SEG_LDTR : KHV_SEG_TR);
			op->selector = s.selector;
			break;
		}
		if (op->mem) {
			r = khv_probe_guest_virt(vcpu, op->addr, op->size, KHV_GVA_WRITE);
			if (r)
				return khv_desc_mem_error(vcpu, r, op->addr);
		}
	}
	*ready = true;
	return 0;
}

int khv_handle_desc(struct khv_vcpu *vcpu, unsigned int insn)
{
	struct khv_desc_op op;
	struct khv_run *run;
	bool ready;
	int r;

	r = khv_desc_prepare(vcpu, insn, &op, &ready);
	if (!ready)
		return r;
	if (!khv_studies(vcpu, KHV_STUDY_DESC))
		return khv_desc_finish(vcpu, &op);

	run = vcpu->run;
	vcpu->study.desc = op;
	memset(&run->study.desc, 0, sizeof(run->study.desc));
	run->study.desc.insn = op.insn;
	run->study.desc.mem = op.mem;
	run->study.desc.gpr = op.gpr;
	run->study.desc.size = op.size;
	run->study.desc.addr = op.addr;
	run->study.desc.base = op.base;
	run->study.desc.limit = op.limit;
	run->study.desc.selector = op.selector;
	return khv_study_exit(vcpu, KHV_STUDY_EV_DESC);
}

/*
 * Store @len bytes of @val at the operand: memory (0 or the write's error),
 * or a register as MOV would.
 */
static int khv_desc_store(struct khv_vcpu *vcpu, const struct khv_desc_op *op,
			  const void *val, unsigned int len)
{
	u64 *reg;

	if (op->mem)
		return khv_write_guest_virt(vcpu, op->addr, val, len);
	/* SLDT and STR: a 16-bit register keeps its upper bits, wider ones are zeroed. */
	reg = &vcpu->regs[op->gpr];
	if (op->size == 2)
		*reg = (*reg & ~0xffffULL) | op->selector;
	else
		*reg = op->selector;
	return 0;
}

int khv_desc_finish(struct khv_vcpu *vcpu, const struct khv_desc_op *op)
{
	u8 buf[10];
	int r = 0;

	switch (op->insn) {
	case KHV_DESC_SGDT:
	case KHV_DESC_SIDT:
		/* Outside 64-bit mode all 32 bits of base, whatever the operand size. */
		buf[0] = op->limit;
		buf[1] = op->limit >> 8;
		put_unaligned_le64(op->base, buf + 2);
		r = khv_desc_store(vcpu, op, buf, op->size);
		break;
	case KHV_DESC_SLDT:
	case KHV_DESC_STR:
		buf[0] = op->selector;
		buf[1] = op->selector >> 8;
		r = khv_desc_store(vcpu, op, buf, 2);
		break;
	case KHV_DESC_LGDT:
	case KHV_DESC_LIDT:
		khv_ops->set_dtable(vcpu, op->insn == KHV_DESC_LIDT, op->base, op->limit);
		break;
	case KHV_DESC_LLDT:
		khv_ops->set_segment(vcpu, &op->seg, KHV_SEG_LDTR);
		break;
	case KHV_DESC_LTR:
		/* The descriptor's type byte (offset 5) gets its busy bit. */
		r = khv_read_guest_virt(vcpu, op->tss_desc + 5, buf, 1, 0);
		if (!r) {
			buf[0] |= 2;
			r = khv_write_guest_virt(vcpu, op->tss_desc + 5, buf, 1);
		}
		if (r)
			return khv_desc_mem_error(vcpu, r, op->tss_desc);
		khv_ops->set_segment(vcpu, &op->seg, KHV_SEG_TR);
		break;
	}
	if (r)
		return khv_desc_mem_error(vcpu, r, op->addr);
	khv_complete_instruction(vcpu, op->next_rip);
	return 1;
}
