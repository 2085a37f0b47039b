// SPDX-License-Identifier: GPL-2.0
/*
 * x86 instruction decoder.  It knows the length of every valid encoding of
 * the one-byte, 0F, 0F 38 and 0F 3A maps (and of VEX, EVEX and XOP ones), and
 * splits an instruction into prefixes, opcode, ModRM/SIB/displacement and
 * immediates.  What an instruction does is emulate.c's business; here only
 * its shape matters, from two tables: for each opcode, whether a ModRM byte
 * follows and what immediate.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>

#include "khv.h"
#include "emulate.h"

/* Immediate kinds: the low 4 bits of a table entry. */
enum {
	IMM_NONE,
	IMM_B,		/* 8 bits */
	IMM_W,		/* 16 bits, unsigned (RET n) */
	IMM_Z,		/* 16 or 32 bits by operand size */
	IMM_V,		/* 16, 32 or 64 bits by operand size (MOV r, imm) */
	IMM_WB,		/* 16 + 8 bits (ENTER) */
	IMM_BB,		/* 8 + 8 bits (EXTRQ, INSERTQ) */
	IMM_MOFFS,	/* an absolute address of address size (MOV A0-A3) */
	IMM_PTR,	/* far pointer: 16/32-bit offset + selector */
	IMM_REL,	/* near branch: rel16/rel32 */
	IMM_L,		/* 32 bits (XOP map 10) */
};

#define IMM_MASK	0x000f
#define F_M		0x0010	/* a ModRM byte follows */
#define F_INV64		0x0020	/* invalid in 64-bit mode */
#define F_INV		0x0040	/* invalid in every mode */
#define F_GRP3		0x0080	/* F6/F7: immediate only for /0 and /1 (TEST) */
#define F_CRDR		0x0100	/* MOV CR/DR: ModRM.mod ignored, always registers */
#define F_SSE4A		0x0200	/* 0F 78: two ib with 66 or F2 (EXTRQ/INSERTQ) */

/*
 * One-byte map.  Prefix bytes and 0F are consumed before the lookup.  The
 * ALU rows: r/m,r and r,r/m (8-bit and full size), AL,ib and eAX,iz.
 */
static const u16 khv_map_one[256] = {
	[0x00 ... 0x03] = F_M, [0x04] = IMM_B, [0x05] = IMM_Z, [0x06 ... 0x07] = F_INV64,
	[0x08 ... 0x0b] = F_M, [0x0c] = IMM_B, [0x0d] = IMM_Z, [0x0e] = F_INV64,
	[0x10 ... 0x13] = F_M, [0x14] = IMM_B, [0x15] = IMM_Z, [0x16 ... 0x17] = F_INV64,
	[0x18 ... 0x1b] = F_M, [0x1c] = IMM_B, [0x1d] = IMM_Z, [0x1e ... 0x1f] = F_INV64,
	[0x20 ... 0x23] = F_M, [0x24] = IMM_B, [0x25] = IMM_Z, [0x27] = F_INV64,
	[0x28 ... 0x2b] = F_M, [0x2c] = IMM_B, [0x2d] = IMM_Z, [0x2f] = F_INV64,
	[0x30 ... 0x33] = F_M, [0x34] = IMM_B, [0x35] = IMM_Z, [0x37] = F_INV64,
	[0x38 ... 0x3b] = F_M, [0x3c] = IMM_B, [0x3d] = IMM_Z, [0x3f] = F_INV64,
	[0x60 ... 0x61] = F_INV64, [0x62] = F_M | F_INV64, [0x63] = F_M,
	[0x68] = IMM_Z, [0x69] = F_M | IMM_Z, [0x6a] = IMM_B, [0x6b] = F_M | IMM_B,
	[0x70 ... 0x7f] = IMM_B,
	[0x80] = F_M | IMM_B, [0x81] = F_M | IMM_Z, [0x82] = F_M | IMM_B | F_INV64,
	[0x83] = F_M | IMM_B, [0x84 ... 0x8f] = F_M,
	[0x9a] = IMM_PTR | F_INV64,
	[0xa0 ... 0xa3] = IMM_MOFFS, [0xa8] = IMM_B, [0xa9] = IMM_Z,
	[0xb0 ... 0xb7] = IMM_B, [0xb8 ... 0xbf] = IMM_V,
	[0xc0 ... 0xc1] = F_M | IMM_B, [0xc2] = IMM_W, [0xc4 ... 0xc5] = F_M | F_INV64,
	[0xc6] = F_M | IMM_B, [0xc7] = F_M | IMM_Z, [0xc8] = IMM_WB, [0xca] = IMM_W,
	[0xcd] = IMM_B, [0xce] = F_INV64,
	[0xd0 ... 0xd3] = F_M, [0xd4 ... 0xd5] = IMM_B | F_INV64, [0xd6] = F_INV64,
	[0xd8 ... 0xdf] = F_M,
	[0xe0 ... 0xe7] = IMM_B, [0xe8 ... 0xe9] = IMM_REL, [0xea] = IMM_PTR | F_INV64,
	[0xeb] = IMM_B,
	[0xf6 ... 0xf7] = F_M | F_GRP3, [0xfe ... 0xff] = F_M,
};

/* Two-byte map (0F xx).  0F 38 and 0F 3A are handled as whole maps. */
static const u16 khv_map_0f[256] = {
	[0x00 ... 0x03] = F_M, [0x04] = F_INV, [0x0a] = F_INV, [0x0c] = F_INV,
	[0x0d] = F_M, [0x0f] = F_M | IMM_B,		/* 3DNow!: suffix byte */
	[0x10 ... 0x1f] = F_M,
	[0x20 ... 0x23] = F_M | F_CRDR, [0x24 ... 0x27] = F_INV, [0x28 ... 0x2f] = F_M,
	[0x36] = F_INV, [0x39] = F_INV, [0x3b ... 0x3f] = F_INV,
	[0x40 ... 0x6f] = F_M,
	[0x70 ... 0x73] = F_M | IMM_B, [0x74 ... 0x76] = F_M,
	[0x78] = F_M | F_SSE4A, [0x79] = F_M, [0x7a ... 0x7b] = F_INV, [0x7c ... 0x7f] = F_M,
	[0x80 ... 0x8f] = IMM_REL, [0x90 ... 0x9f] = F_M,
	[0xa3] = F_M, [0xa4] = F_M | IMM_B, [0xa5] = F_M, [0xa6 ... 0xa7] = F_INV,
	[0xab] = F_M, [0xac] = F_M | IMM_B, [0xad ... 0xaf] = F_M,
	[0xb0 ... 0xb9] = F_M, [0xba] = F_M | IMM_B, [0xbb ... 0xbf] = F_M,
	[0xc0 ... 0xc1] = F_M, [0xc2] = F_M | IMM_B, [0xc3] = F_M,
	[0xc4 ... 0xc6] = F_M | IMM_B, [0xc7] = F_M,
	[0xd0 ... 0xff] = F_M,
};

struct khv_dec {
	const u8 *buf;
	unsigned int avail;
	unsigned int pos;
};

/* Whether n more bytes exist: past 15 the CPU raises #GP, past avail we need more. */
static int khv_need(const struct khv_dec *d, unsigned int n)
{
	if (d->pos + n > KHV_MAX_INSN_LEN)
		return -EINVAL;
	if (d->pos + n > d->avail)
		return -ENODATA;
	return 0;
}

/* Little-endian value of the next n bytes (n <= 8), consumed. */
static int khv_take(struct khv_dec *d, unsigned int n, u64 *val)
{
	int err = khv_need(d, n);
	unsigned int i;

	if (err)
		return err;
	*val = 0;
	for (i = 0; i < n; i++)
		*val |= (u64)d->buf[d->pos + i] << (8 * i);
	d->pos += n;
	return 0;
}

static int khv_take_signed(struct khv_dec *d, unsigned int n, u64 *val)
{
	int err = khv_take(d, n, val);

	if (!err && n < 8)
		*val = sign_extend64(*val, 8 * n - 1);
	return err;
}

/* Legacy prefixes, then REX in 64-bit mode; stops before the opcode. */
static int khv_decode_prefixes(struct khv_insn *insn, struct khv_dec *d, bool *p67)
{
	static const s8 seg_prefix[] = {
		[0x26] = KHV_SEG_ES + 1, [0x2e] = KHV_SEG_CS + 1, [0x36] = KHV_SEG_SS + 1,
		[0x3e] = KHV_SEG_DS + 1, [0x64] = KHV_SEG_FS + 1, [0x65] = KHV_SEG_GS + 1,
	};
	int err;

	for (;;) {
		u8 b;

		err = khv_need(d, 1);
		if (err)
			return err;
		b = d->buf[d->pos];
		if (b == 0x66) {
			insn->opsize_prefix = true;
		} else if (b == 0x67) {
			*p67 = true;
		} else if (b == 0xf0) {
			insn->lock = true;
		} else if (b == 0xf2 || b == 0xf3) {
			insn->rep = b;
		} else if (b < ARRAY_SIZE(seg_prefix) && seg_prefix[b]) {
			insn->seg_override = seg_prefix[b] - 1;
		} else if (insn->mode == 8 && (b & 0xf0) == 0x40) {
			/* REX: the last one counts, and only right before the opcode. */
			insn->rex = b;
			d->pos++;
			continue;
		} else {
			return 0;
		}
		/* A legacy prefix after a REX cancels the REX. */
		insn->rex = 0;
		d->pos++;
	}
}

static int khv_decode_modrm(struct khv_insn *insn, struct khv_dec *d, bool regs_only)
{
	unsigned int disp = 0;
	u64 v;
	int err;

	err = khv_take(d, 1, &v);
	if (err)
		return err;
	insn->has_modrm = true;
	insn->modrm_mod = v >> 6;
	insn->modrm_reg = (v >> 3) & 7;
	insn->modrm_rm = v & 7;
	if (regs_only || insn->modrm_mod == 3)
		return 0;

	insn->mem_operand = true;
	if (insn->addrsize == 2) {
		if (insn->modrm_mod == 1)
			disp = 1;
		else if (insn->modrm_mod == 2 || insn->modrm_rm == 6)
			disp = 2;
	} else {
		u8 base = insn->modrm_rm;

		if (insn->modrm_rm == 4) {
			err = khv_take(d, 1, &v);
			if (err)
				return err;
			insn->has_sib = true;
			insn->sib = v;
			base = v & 7;
		}
		if (insn->modrm_mod == 1) {
			disp = 1;
		} else if (insn->modrm_mod == 2) {
			disp = 4;
		} else if (base == 5) {
			/* No base: disp32, or RIP-relative without a SIB in 64-bit mode. */
			disp = 4;
			insn->rip_relative = insn->mode == 8 && insn->modrm_rm == 5;
		}
	}
	if (!disp)
		return 0;
	err = khv_take_signed(d, disp, &v);
	insn->disp = v;
	insn->disp_size = disp;
	return err;
}

static int khv_decode_imm(struct khv_insn *insn, struct khv_dec *d, unsigned int kind,
			  unsigned int flags)
{
	unsigned int start = d->pos, n;
	u64 v = 0, v2 = 0;
	int err;

	switch (kind) {
	case IMM_NONE:
		return 0;
	case IMM_B:
		err = khv_take_signed(d, 1, &v);
		break;
	case IMM_W:
		err = khv_take(d, 2, &v);
		break;
	case IMM_Z:
		err = khv_take_signed(d, insn->opsize == 2 ? 2 : 4, &v);
		break;
	case IMM_V:
		err = khv_take_signed(d, insn->opsize, &v);
		break;
	case IMM_L:
		err = khv_take_signed(d, 4, &v);
		break;
	case IMM_WB:
		err = khv_take(d, 2, &v) ?: khv_take(d, 1, &v2);
		break;
	case IMM_BB:
		err = khv_take(d, 1, &v) ?: khv_take(d, 1, &v2);
		break;
	case IMM_PTR:
		err = khv_take(d, insn->opsize == 2 ? 2 : 4, &v) ?: khv_take(d, 2, &v2);
		break;
	case IMM_REL:
		/*
		 * 64-bit mode: Intel always takes rel32; AMD honours 0x66
		 * (rel16) unless REX.W says 64.
		 */
		if (insn->mode == 8)
			n = (flags & KHV_DECODE_INTEL) || insn->opsize != 2 ? 4 : 2;
		else
			n = insn->opsize == 2 ? 2 : 4;
		err = khv_take_signed(d, n, &v);
		break;
	case IMM_MOFFS:
		err = khv_take(d, insn->addrsize, &v);
		if (err)
			return err;
		insn->disp = v;
		insn->disp_size = insn->addrsize;
		insn->mem_operand = true;
		return 0;
	default:
		return -EINVAL;
	}
	if (err)
		return err;
	insn->imm = v;
	insn->imm2 = v2;
	insn->imm_size = d->pos - start;
	return 0;
}

/*
 * VEX (C4, C5), EVEX (62) and XOP (8F): in 16/32-bit code C4, C5 and 62 are
 * LES, LDS and BOUND unless the next byte has mod == 3, and 8F is POP r/m
 * unless the next byte's map field is 8 or more.  Returns 1 when the byte
 * is not such a prefix here, else 0 with the opcode and its attributes.
 */
static int khv_decode_vex(struct khv_insn *insn, struct khv_dec *d, u16 *attr)
{
	u8 b = d->buf[d->pos], b1, b2, map;
	unsigned int plen;
	bool w;
	int err;

	err = khv_need(d, 2);
	if (err)
		return err;
	b1 = d->buf[d->pos + 1];
	if (b == 0x8f) {
		if ((b1 & 0x1f) < 8)
			return 1;
	} else if (insn->mode != 8 && (b1 & 0xc0) != 0xc0) {
		return 1;
	}
	/* These prefixes before a VEX-family prefix raise #UD. */
	if (insn->opsize_prefix || insn->rep || insn->lock || insn->rex)
		return -EINVAL;

	plen = b == 0xc5 ? 2 : b == 0x62 ? 4 : 3;
	err = khv_need(d, plen + 1);
	if (err)
		return err;
	b2 = d->buf[d->pos + 2];
	if (b == 0xc5) {
		map = KHV_MAP_0F;
		w = false;
		insn->rex = 0x40 | (b1 & 0x80 ? 0 : 4);
	} else {
		map = b == 0x62 ? b1 & 7 : b1 & 0x1f;
		w = b2 & 0x80;
		insn->rex = 0x40 | (w ? 8 : 0) | (~b1 >> 5 & 7);
	}
	if (w && insn->mode == 8)
		insn->opsize = 8;
	insn->vex = b;
	insn->map = map;
	d->pos += plen;
	insn->opcode = d->buf[d->pos++];

	switch (b) {
	case 0xc4:
	case 0xc5:
		if (map == KHV_MAP_0F)
			/* VZEROUPPER/VZEROALL are the only ones without ModRM. */
			*attr = insn->opcode == 0x77 ? 0 :
				F_M | ((khv_map_0f[insn->opcode] & IMM_MASK) == IMM_B ? IMM_B : 0);
		else if (map == KHV_MAP_0F38)
			*attr = F_M;
		else if (map == KHV_MAP_0F3A)
			*attr = F_M | IMM_B;
		else
			return -EINVAL;
		return 0;
	case 0x62:
		if (map == KHV_MAP_0F)
			*attr = F_M | ((khv_map_0f[insn->opcode] & IMM_MASK) == IMM_B ? IMM_B : 0);
		else if (map == KHV_MAP_0F3A)
			*attr = F_M | IMM_B;
		else if (map == KHV_MAP_0F38 || map == 5 || map == 6)
			*attr = F_M;
		else
			return -EINVAL;
		return 0;
	default:	/* XOP */
		if (map == 8)
			*attr = F_M | IMM_B;
		else if (map == 9)
			*attr = F_M;
		else if (map == 10)
			*attr = F_M | IMM_L;
		else
			return -EINVAL;
		return 0;
	}
}

static int khv_decode_opcode(struct khv_insn *insn, struct khv_dec *d, u16 *attr)
{
	u8 b;
	int err;

	b = d->buf[d->pos];
	if (b == 0xc4 || b == 0xc5 || b == 0x62 || b == 0x8f) {
		err = khv_decode_vex(insn, d, attr);
		if (err <= 0)
			return err;
	}
	d->pos++;
	if (b != 0x0f) {
		insn->map = KHV_MAP_ONE;
		insn->opcode = b;
		*attr = khv_map_one[b];
		return 0;
	}

	err = khv_need(d, 1);
	if (err)
		return err;
	b = d->buf[d->pos++];
	if (b == 0x38 || b == 0x3a) {
		err = khv_need(d, 1);
		if (err)
			return err;
		insn->map = b == 0x38 ? KHV_MAP_0F38 : KHV_MAP_0F3A;
		insn->opcode = d->buf[d->pos++];
		/* Every 0F 38 opcode has a ModRM; every 0F 3A one also an ib. */
		*attr = b == 0x38 ? F_M : F_M | IMM_B;
		return 0;
	}
	insn->map = KHV_MAP_0F;
	insn->opcode = b;
	*attr = khv_map_0f[b];
	return 0;
}

int khv_decode_insn(struct khv_insn *insn, const u8 *bytes, unsigned int avail,
		    unsigned int mode, unsigned int flags)
{
	struct khv_dec d = { .buf = bytes, .avail = min_t(unsigned int, avail, KHV_MAX_INSN_LEN) };
	unsigned int kind;
	bool p67 = false;
	u16 attr = 0;
	int err;

	memset(insn, 0, sizeof(*insn));
	insn->seg_override = -1;
	insn->mode = mode;
	insn->fetched = d.avail;
	memcpy(insn->bytes, bytes, d.avail);
	if (mode != 2 && mode != 4 && mode != 8)
		return -EINVAL;

	err = khv_decode_prefixes(insn, &d, &p67);
	if (err)
		return err;
	if (mode == 8) {
		insn->opsize = (insn->rex & 8) ? 8 : insn->opsize_prefix ? 2 : 4;
		insn->addrsize = p67 ? 4 : 8;
	} else {
		insn->opsize = (mode == 4) != insn->opsize_prefix ? 4 : 2;
		insn->addrsize = (mode == 4) != p67 ? 4 : 2;
	}

	err = khv_decode_opcode(insn, &d, &attr);
	if (err)
		return err;
	insn->two_byte = insn->map != KHV_MAP_ONE;
	if ((attr & F_INV) || ((attr & F_INV64) && mode == 8))
		return -EINVAL;

	if (attr & F_M) {
		err = khv_decode_modrm(insn, &d, attr & F_CRDR);
		if (err)
			return err;
	}
	kind = attr & IMM_MASK;
	if (attr & F_GRP3)
		kind = insn->modrm_reg > 1 ? IMM_NONE : insn->opcode == 0xf6 ? IMM_B : IMM_Z;
	if (attr & F_SSE4A)
		kind = insn->rep == 0xf2 || (!insn->rep && insn->opsize_prefix) ? IMM_BB : IMM_NONE;
	err = khv_decode_imm(insn, &d, kind, flags);
	if (err)
		return err;
	insn->len = d.pos;
	return 0;
}

/* Code segment size: 2, 4 or 8 (16-bit, 32-bit, 64-bit code). */
static unsigned int khv_code_mode(struct khv_vcpu *vcpu)
{
	struct khv_segment cs;

	if (vcpu->rflags & X86_EFLAGS_VM)
		return 2;
	khv_ops->get_segment(vcpu, &cs, KHV_SEG_CS);
	if ((khv_ops->get_efer(vcpu) & EFER_LMA) && cs.l)
		return 8;
	/* Real mode too: the cached D bit is what the CPU uses. */
	return cs.db ? 4 : 2;
}

/* Instruction bytes from one guest page; no fault is queued here. */
static int khv_fetch(struct khv_vcpu *vcpu, u64 linear, u8 *buf, unsigned int len,
		     unsigned int access)
{
	u32 pf_error;
	u64 gpa;
	int err;

	err = khv_gva_to_gpa(vcpu, linear, access, &gpa, &pf_error);
	if (err)
		return err == -EIO ? -EIO : -EFAULT;
	return khv_read_guest(vcpu->vm, gpa, buf, len) ? -EIO : 0;
}

static unsigned int khv_fetch_access(struct khv_vcpu *vcpu)
{
	return KHV_GVA_FETCH | (khv_ops->get_cpl(vcpu) == 3 ? KHV_GVA_USER : 0);
}

static u64 khv_rip_linear(struct khv_vcpu *vcpu, unsigned int mode, unsigned int skip)
{
	u64 lin = khv_linear_addr(vcpu, KHV_SEG_CS, vcpu->regs[KHV_REG_RIP], mode) + skip;

	return mode == 8 ? lin : (u32)lin;
}

int khv_decode_at_rip(struct khv_vcpu *vcpu, struct khv_insn *insn)
{
	unsigned int mode = khv_code_mode(vcpu), access = khv_fetch_access(vcpu);
	unsigned int flags = khv_ops->vendor == KHV_VENDOR_INTEL ? KHV_DECODE_INTEL : 0;
	u64 lin = khv_rip_linear(vcpu, mode, 0);
	unsigned int first = min_t(u64, KHV_MAX_INSN_LEN, PAGE_SIZE - (lin & (PAGE_SIZE - 1)));
	unsigned int avail = first;
	u8 buf[KHV_MAX_INSN_LEN];
	int err, err_next = 0;

	memset(insn, 0, sizeof(*insn));
	insn->mode = mode;
	insn->seg_override = -1;
	err = khv_fetch(vcpu, lin, buf, first, access);
	if (err)
		return err;
	/*
	 * The instruction may continue on the next page, which may not be
	 * mapped even though the instruction ends before it: fetch it, but
	 * report its failure only if the decoder needs those bytes.
	 */
	if (first < KHV_MAX_INSN_LEN) {
		err_next = khv_fetch(vcpu, khv_rip_linear(vcpu, mode, first), buf + first,
				     KHV_MAX_INSN_LEN - first, access);
		if (!err_next)
			avail = KHV_MAX_INSN_LEN;
	}
	err = khv_decode_insn(insn, buf, avail, mode, flags);
	if (err == -ENODATA)
		err = err_next ?: -EINVAL;
	if (err)
		return err;
	insn->next_rip = vcpu->regs[KHV_REG_RIP] + insn->len;
	if (mode != 8)
		insn->next_rip = (u32)insn->next_rip;
	return 0;
}

int khv_queue_fetch_fault(struct khv_vcpu *vcpu, const struct khv_insn *insn)
{
	u8 byte;

	/*
	 * Walk again for the first byte that could not be fetched: this queues
	 * the #PF (or #GP) it takes.  If the walk now succeeds the guest
	 * changed its tables meanwhile; re-entering retries the instruction.
	 */
	khv_read_guest_virt(vcpu, khv_rip_linear(vcpu, insn->mode, insn->fetched), &byte, 1,
			    KHV_GVA_FETCH);
	return 1;
}
