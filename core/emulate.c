// SPDX-License-Identifier: GPL-2.0
/*
 * The two kinds of guest memory access khv completes in software.
 *
 * MMIO: a nested page fault on a gpa with no RAM behind it (or a write to a
 * read-only slot).  The hardware gives the gpa only, so the instruction at
 * RIP is decoded to learn the size, the direction and the register or
 * immediate; userspace then gets a complete KHV_EXIT_MMIO.  Only the plain
 * moves compilers and drivers use for device registers are emulated; any
 * other instruction ends in KHV_INTERNAL_ERROR_EMULATION.
 *
 * String port I/O (INS/OUTS, with or without REP): the data moves between
 * guest linear memory and the run page in batches of one guest page at
 * most (one element under RFLAGS.TF, which traps after every iteration); a
 * REP instruction is re-executed by the guest until its count runs out, so
 * interrupts are taken between batches as on hardware.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <asm/processor-flags.h>

#include "khv.h"
#include "internal.h"
#include "emulate.h"
#include "../irq/irqchip.h"
#include "trace.h"

/* Bytes of the run page available to a port I/O batch. */
#define KHV_PIO_DATA_SIZE	(KHV_RUN_MMAP_SIZE - KHV_IO_DATA_OFFSET)

/* One MMIO access as the decoded instruction makes it. */
struct khv_mmio_access {
	bool write;
	u8 len;
	u64 value;		/* write: the data */
	u8 reg;			/* read: destination register */
	u8 dst_size;
	bool sign_extend;
	bool high_byte;
};

/* Write val to a register as an instruction of the given width would. */
static void khv_set_reg_sized(u64 *reg, u64 val, unsigned int size, bool high_byte)
{
	switch (size) {
	case 1:
		if (high_byte)
			*reg = (*reg & ~0xff00ULL) | ((val & 0xff) << 8);
		else
			*reg = (*reg & ~0xffULL) | (val & 0xff);
		break;
	case 2:
		*reg = (*reg & ~0xffffULL) | (val & 0xffff);
		break;
	case 4:
		/*
		 * 64-bit mode zero-extends; elsewhere the upper half does not
		 * exist architecturally, so clearing it is just as right.
		 */
		*reg = (u32)val;
		break;
	default:
		*reg = val;
	}
}

/* ModRM.reg with REX.R: the register operand. */
static u8 khv_insn_reg(const struct khv_insn *insn)
{
	return insn->modrm_reg | (insn->rex & 4 ? 8 : 0);
}

/* An 8-bit register operand: without any REX, 4-7 are AH, CH, DH, BH. */
static void khv_byte_reg(const struct khv_insn *insn, u8 n, u8 *reg, bool *high)
{
	*high = !insn->rex && n >= 4 && n < 8;
	*reg = *high ? n - 4 : n;
}

/* The value of a source register, truncated to size bytes. */
static u64 khv_src_value(struct khv_vcpu *vcpu, const struct khv_insn *insn, u8 n,
			 unsigned int size)
{
	bool high;
	u8 reg;

	if (size == 1) {
		khv_byte_reg(insn, n, &reg, &high);
		return (vcpu->regs[reg] >> (high ? 8 : 0)) & 0xff;
	}
	return vcpu->regs[n] & (size == 8 ? ~0ULL : BIT_ULL(8 * size) - 1);
}

static void khv_mmio_read_to(struct khv_mmio_access *a, const struct khv_insn *insn, u8 n,
			     unsigned int len, unsigned int dst_size, bool sign)
{
	a->write = false;
	a->len = len;
	a->dst_size = dst_size;
	a->sign_extend = sign;
	if (dst_size == 1)
		khv_byte_reg(insn, n, &a->reg, &a->high_byte);
	else
		a->reg = n;
}

/* What the instruction does to memory, for the moves khv emulates. */
static int khv_mmio_decode(struct khv_vcpu *vcpu, const struct khv_insn *insn,
			   struct khv_mmio_access *a)
{
	u8 reg = khv_insn_reg(insn);
	unsigned int op = insn->opsize;

	memset(a, 0, sizeof(*a));
	if (insn->vex || !insn->mem_operand)
		return -EINVAL;

	if (insn->map == KHV_MAP_0F) {
		switch (insn->opcode) {
		case 0xb6:	/* MOVZX r, r/m8 */
		case 0xb7:	/* MOVZX r, r/m16 */
		case 0xbe:	/* MOVSX r, r/m8 */
		case 0xbf:	/* MOVSX r, r/m16 */
			khv_mmio_read_to(a, insn, reg, insn->opcode & 1 ? 2 : 1, op,
					 insn->opcode & 8);
			return 0;
		case 0xc3:	/* MOVNTI m32/64, r */
			if (op == 2)
				return -EINVAL;
			a->write = true;
			a->len = op;
			a->value = khv_src_value(vcpu, insn, reg, op);
			return 0;
		}
		return -EINVAL;
	}
	if (insn->map != KHV_MAP_ONE)
		return -EINVAL;

	switch (insn->opcode) {
	case 0x88:	/* MOV r/m8, r8 */
	case 0x89:	/* MOV r/m, r */
		a->write = true;
		a->len = insn->opcode & 1 ? op : 1;
		a->value = khv_src_value(vcpu, insn, reg, a->len);
		return 0;
	case 0x8a:	/* MOV r8, r/m8 */
	case 0x8b:	/* MOV r, r/m */
		a->len = insn->opcode & 1 ? op : 1;
		khv_mmio_read_to(a, insn, reg, a->len, a->len, false);
		return 0;
	case 0xc6:	/* MOV r/m8, imm8 */
	case 0xc7:	/* MOV r/m, imm (imm32 sign-extended for 64) */
		if (insn->modrm_reg)
			return -EINVAL;
		a->write = true;
		a->len = insn->opcode & 1 ? op : 1;
		a->value = insn->imm & (a->len == 8 ? ~0ULL : BIT_ULL(8 * a->len) - 1);
		return 0;
	case 0x63:	/* MOVSXD r64, r/m32; without REX.W a plain move */
		if (insn->mode != 8)
			return -EINVAL;	/* ARPL */
		if (op == 8)
			khv_mmio_read_to(a, insn, reg, 4, 8, true);
		else
			khv_mmio_read_to(a, insn, reg, op, op, false);
		return 0;
	case 0xa0:	/* MOV AL, moffs8 */
	case 0xa1:	/* MOV rAX, moffs */
		a->len = insn->opcode & 1 ? op : 1;
		khv_mmio_read_to(a, insn, KHV_REG_RAX, a->len, a->len, false);
		return 0;
	case 0xa2:	/* MOV moffs8, AL */
	case 0xa3:	/* MOV moffs, rAX */
		a->write = true;
		a->len = insn->opcode & 1 ? op : 1;
		a->value = khv_src_value(vcpu, insn, KHV_REG_RAX, a->len);
		return 0;
	}
	return -EINVAL;
}

int khv_insn_internal_error(struct khv_vcpu *vcpu, u64 where, const struct khv_insn *insn)
{
	u64 data[4] = { where, insn->len, 0, 0 };
	unsigned int i;

	for (i = 0; i < insn->fetched && i < KHV_MAX_INSN_LEN; i++)
		data[2 + i / 8] |= (u64)insn->bytes[i] << (8 * (i % 8));
	return khv_exit_internal_error(vcpu, KHV_INTERNAL_ERROR_EMULATION, ARRAY_SIZE(data), data);
}

static void khv_mmio_read_finish(struct khv_vcpu *vcpu, u64 v);

int khv_emulate_mmio(struct khv_vcpu *vcpu, u64 gpa, bool write)
{
	struct khv_run *run = vcpu->run;
	struct khv_mmio_access a;
	struct khv_insn insn;
	unsigned int i;
	int err;

	err = khv_decode_at_rip(vcpu, &insn);
	if (err == -EFAULT)
		return khv_queue_fetch_fault(vcpu, &insn);
	/*
	 * A direction that disagrees with the fault means the bytes at RIP are
	 * not what faulted (another vCPU rewrote them): do not guess.
	 */
	if (err || khv_mmio_decode(vcpu, &insn, &a) || a.write != write)
		return khv_insn_internal_error(vcpu, gpa, &insn);

	vcpu->mmio.gpa = gpa;
	vcpu->mmio.len = a.len;
	vcpu->mmio.dst_reg = a.reg;
	vcpu->mmio.dst_size = a.dst_size;
	vcpu->mmio.sign_extend = a.sign_extend;
	vcpu->mmio.high_byte = a.high_byte;
	vcpu->mmio.next_rip = insn.next_rip;

	/* A doorbell (ioeventfd): signalled, the store is done. */
	if (a.write && khv_ioeventfd_write(vcpu->vm, false, gpa, a.len, a.value)) {
		trace_khv_mmio(vcpu->id, gpa, a.len, true, a.value, KHV_TRACE_IOEVENTFD);
		khv_complete_instruction(vcpu, insn.next_rip);
		return 1;
	}

	/* The in-kernel irqchip's pages (IOAPIC, local APIC) stay in the kernel. */
	if (vcpu->vm->irqchip) {
		u64 v = a.write ? a.value : 0;

		if (khv_irqchip_mmio(vcpu, gpa, a.write, a.len, &v)) {
			trace_khv_mmio(vcpu->id, gpa, a.len, a.write, v, KHV_TRACE_KERNEL);
			if (a.write)
				khv_complete_instruction(vcpu, insn.next_rip);
			else
				khv_mmio_read_finish(vcpu, v);
			return 1;
		}
	}

	trace_khv_mmio(vcpu->id, gpa, a.len, a.write, a.write ? a.value : 0, KHV_TRACE_USER);
	run->exit_reason = KHV_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = a.len;
	run->mmio.is_write = a.write;
	memset(run->mmio.pad, 0, sizeof(run->mmio.pad));
	memset(run->mmio.data, 0, sizeof(run->mmio.data));

	if (a.write) {
		for (i = 0; i < a.len; i++)
			run->mmio.data[i] = a.value >> (8 * i);
		/* Userspace completes the store; the instruction is done. */
		khv_complete_instruction(vcpu, insn.next_rip);
		return 0;
	}
	vcpu->completion = KHV_COMPLETE_MMIO_READ;
	return 0;
}

void khv_complete_mmio_read(struct khv_vcpu *vcpu)
{
	unsigned int i, len = min_t(unsigned int, vcpu->mmio.len, 8);
	u64 v = 0;

	for (i = 0; i < len; i++)
		v |= (u64)READ_ONCE(vcpu->run->mmio.data[i]) << (8 * i);
	khv_mmio_read_finish(vcpu, v);
}

/* The value an MMIO read returned goes to its destination; RIP moves on. */
static void khv_mmio_read_finish(struct khv_vcpu *vcpu, u64 v)
{
	const struct khv_mmio_op *op = &vcpu->mmio;
	unsigned int len = min_t(unsigned int, op->len, 8);

	if (len < 8)
		v &= (1ULL << (8 * len)) - 1;
	if (op->sign_extend && len && len < 8)
		v = sign_extend64(v, 8 * len - 1);
	if (op->dst_reg < KHV_REG_RIP)
		khv_set_reg_sized(&vcpu->regs[op->dst_reg], v, op->dst_size, op->high_byte);
	khv_complete_instruction(vcpu, op->next_rip);
}

/* ---- string port I/O ---------------------------------------------------- */

/* This round of a string I/O instruction. */
struct khv_pio_batch {
	u64 mask;		/* address-size mask for RSI/RDI/RCX */
	u64 remaining;		/* elements left, this batch included */
	u32 n;			/* elements this round; 0: nothing left */
	u64 lo;			/* lowest linear address the batch touches */
	enum khv_reg reg;	/* RSI (OUTS) or RDI (INS) */
	bool down;		/* RFLAGS.DF: addresses decrease */
};

static u64 khv_addr_mask(unsigned int addr_size)
{
	return addr_size == 8 ? ~0ULL : addr_size == 4 ? 0xffffffffULL : 0xffffULL;
}

/*
 * Plan the batch: as many elements as remain, fit in the run page, stay in
 * one guest page and do not wrap the address register.  An element that
 * straddles a page (or the wrap) goes alone.
 */
static void khv_pio_plan(struct khv_vcpu *vcpu, const struct khv_pio *pio,
			 struct khv_pio_batch *b)
{
	enum khv_seg seg = pio->in ? KHV_SEG_ES : (enum khv_seg)pio->seg;
	u64 size = pio->size, off, lin, pg, n;

	b->mask = khv_addr_mask(pio->addr_size);
	b->reg = pio->in ? KHV_REG_RDI : KHV_REG_RSI;
	b->down = vcpu->rflags & X86_EFLAGS_DF;
	b->remaining = pio->rep ? vcpu->regs[KHV_REG_RCX] & b->mask : 1;
	b->n = 0;
	b->lo = 0;
	if (!b->remaining || (size != 1 && size != 2 && size != 4) || seg >= KHV_SEG_TR)
		return;

	off = vcpu->regs[b->reg] & b->mask;
	lin = khv_linear_addr(vcpu, seg, off, pio->addr_size);
	pg = lin & (PAGE_SIZE - 1);
	n = min_t(u64, b->remaining, KHV_PIO_DATA_SIZE / size);
	/* Under TF the CPU traps after every iteration: one element per round. */
	if (vcpu->rflags & X86_EFLAGS_TF)
		n = 1;
	if (!b->down) {
		n = min_t(u64, n, (PAGE_SIZE - pg) / size);
		if (pio->addr_size != 8)
			n = min_t(u64, n, (b->mask - off + 1) / size);
	} else {
		n = pg + size <= PAGE_SIZE ? min_t(u64, n, pg / size + 1) : 0;
		n = min_t(u64, n, off / size + 1);
	}
	b->n = max_t(u64, n, 1);
	b->lo = b->down ? lin - (b->n - 1) * size : lin;
}

/* After a batch of n elements: move the pointer, count down, maybe finish. */
static void khv_pio_advance(struct khv_vcpu *vcpu, const struct khv_pio *pio,
			    const struct khv_pio_batch *b, u32 n)
{
	u64 delta = (u64)n * pio->size;
	u64 ptr = vcpu->regs[b->reg];

	ptr = b->down ? ptr - delta : ptr + delta;
	khv_set_reg_sized(&vcpu->regs[b->reg], ptr, pio->addr_size, false);
	if (pio->rep)
		khv_set_reg_sized(&vcpu->regs[KHV_REG_RCX], (vcpu->regs[KHV_REG_RCX] & b->mask) - n,
				  pio->addr_size, false);
	/*
	 * Not done: the guest executes the instruction again for the rest,
	 * and under TF it traps first, with RIP still at the instruction.
	 */
	if (b->remaining == n)
		khv_complete_instruction(vcpu, pio->next_rip);
	else
		khv_queue_single_step(vcpu);
}

/* Buffer not in RAM (string I/O to MMIO): not emulated. */
static int khv_pio_unsupported(struct khv_vcpu *vcpu, const struct khv_pio *pio, u64 lin)
{
	u64 data[2] = { lin, pio->port };

	return khv_exit_internal_error(vcpu, KHV_INTERNAL_ERROR_EMULATION, ARRAY_SIZE(data), data);
}

u32 khv_pio_string_batch(struct khv_vcpu *vcpu, const struct khv_pio *pio)
{
	struct khv_pio_batch b;

	khv_pio_plan(vcpu, pio, &b);
	if (!b.n) {
		khv_complete_instruction(vcpu, pio->next_rip);
		return 0;
	}
	/*
	 * Take the guest's fault before userspace sees the batch: an INS must
	 * not consume port data it cannot store, an OUTS must not send.  A
	 * buffer outside RAM is reported by the copy itself.
	 */
	if (khv_probe_guest_virt(vcpu, b.lo, (size_t)b.n * pio->size,
				 pio->in ? KHV_GVA_WRITE : 0) == -EFAULT)
		return 0;
	return b.n;
}

/* Reverse the order of n elements of size bytes, in place. */
static void khv_reverse_elements(u8 *data, u32 n, unsigned int size)
{
	u8 tmp[4];
	u32 i;

	for (i = 0; i < n / 2; i++) {
		u8 *a = data + i * size, *z = data + (n - 1 - i) * size;

		memcpy(tmp, a, size);
		memcpy(a, z, size);
		memcpy(z, tmp, size);
	}
}

int khv_pio_string_out(struct khv_vcpu *vcpu, struct khv_pio *pio, void *data)
{
	struct khv_pio_batch b;
	int err;

	khv_pio_plan(vcpu, pio, &b);
	pio->count = 0;
	if (!b.n) {
		khv_complete_instruction(vcpu, pio->next_rip);
		return 1;
	}
	err = khv_read_guest_virt(vcpu, b.lo, data, (size_t)b.n * pio->size, 0);
	if (err == -EFAULT)
		return 1;	/* fault queued, count 0 */
	if (err)
		return khv_pio_unsupported(vcpu, pio, b.lo);
	/* DF=1 sends the highest address first. */
	if (b.down)
		khv_reverse_elements(data, b.n, pio->size);
	khv_pio_advance(vcpu, pio, &b, b.n);
	pio->count = b.n;
	return 1;
}

/* INS with DF=1: element i of data goes to the i-th address counting down. */
static int khv_write_reversed(struct khv_vcpu *vcpu, u64 lo, const u8 *data, u32 n,
			      unsigned int size)
{
	u8 buf[64];
	u32 per = sizeof(buf) / size, j, k, i;
	int err;

	for (j = 0; j < n; j += k) {
		k = min(per, n - j);
		for (i = 0; i < k; i++)
			memcpy(buf + i * size, data + (n - 1 - (j + i)) * size, size);
		err = khv_write_guest_virt(vcpu, lo + (u64)j * size, buf, k * size);
		if (err)
			return err;
	}
	return 0;
}

int khv_pio_string_in_complete(struct khv_vcpu *vcpu, const struct khv_pio *pio,
			       const void *data)
{
	struct khv_pio_batch b;
	u64 lo;
	u32 n;
	int err;

	khv_pio_plan(vcpu, pio, &b);
	if (!b.n) {
		khv_complete_instruction(vcpu, pio->next_rip);
		return 1;
	}
	/* Userspace may have changed the registers meanwhile: never exceed the plan. */
	n = min(b.n, pio->count);
	if (!n)
		return 1;
	lo = b.down ? b.lo + (u64)(b.n - n) * pio->size : b.lo;
	if (b.down)
		err = khv_write_reversed(vcpu, lo, data, n, pio->size);
	else
		err = khv_write_guest_virt(vcpu, lo, data, (size_t)n * pio->size);
	if (err == -EFAULT)
		return 1;	/* fault queued; the guest runs INS again */
	if (err)
		return khv_pio_unsupported(vcpu, pio, lo);
	khv_pio_advance(vcpu, pio, &b, n);
	return 1;
}

/* ---- memory operands ------------------------------------------------------ */

/* 16-bit ModRM: rm selects one of eight base/index pairs; BP forms use SS. */
static u64 khv_ea16(struct khv_vcpu *vcpu, const struct khv_insn *insn, bool *ss)
{
	static const s8 base[8] = { KHV_REG_RBX, KHV_REG_RBX, KHV_REG_RBP, KHV_REG_RBP,
				    -1, -1, KHV_REG_RBP, KHV_REG_RBX };
	static const s8 index[8] = { KHV_REG_RSI, KHV_REG_RDI, KHV_REG_RSI, KHV_REG_RDI,
				     KHV_REG_RSI, KHV_REG_RDI, -1, -1 };
	unsigned int rm = insn->modrm_rm & 7;
	u64 ea = insn->disp;

	if (insn->modrm_mod == 0 && rm == 6)
		return (u16)ea;		/* disp16 alone */
	if (base[rm] >= 0)
		ea += vcpu->regs[base[rm]];
	if (index[rm] >= 0)
		ea += vcpu->regs[index[rm]];
	*ss = base[rm] == KHV_REG_RBP;
	return (u16)ea;
}

u64 khv_insn_mem_linear(struct khv_vcpu *vcpu, const struct khv_insn *insn)
{
	bool ss = false;
	u64 ea = insn->disp;
	enum khv_seg seg;

	if (insn->addrsize == 2) {
		ea = khv_ea16(vcpu, insn, &ss);
	} else if (insn->rip_relative) {
		ea += insn->next_rip;
	} else if (insn->has_sib) {
		unsigned int b = (insn->sib & 7) | ((insn->rex & 1) << 3);
		unsigned int i = ((insn->sib >> 3) & 7) | ((insn->rex & 2) << 2);

		/* Base 5 with mod 0 is disp32 alone; index 4 (no REX.X) is none. */
		if (!((insn->sib & 7) == 5 && insn->modrm_mod == 0)) {
			ea += vcpu->regs[b];
			ss = b == KHV_REG_RSP || b == KHV_REG_RBP;
		}
		if (i != 4)
			ea += vcpu->regs[i] << (insn->sib >> 6);
	} else if (!(insn->modrm_mod == 0 && (insn->modrm_rm & 7) == 5)) {
		unsigned int b = (insn->modrm_rm & 7) | ((insn->rex & 1) << 3);

		ea += vcpu->regs[b];
		ss = b == KHV_REG_RBP;
	}
	seg = insn->seg_override >= 0 ? insn->seg_override : ss ? KHV_SEG_SS : KHV_SEG_DS;
	return khv_linear_addr(vcpu, seg, ea, insn->addrsize);
}
