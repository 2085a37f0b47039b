/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The instruction emulator khv needs, and no more: fetching and decoding the
 * instruction at the guest's RIP (for MMIO accesses, which the hardware does
 * not decode, and for skipping intercepted instructions when the CPU has no
 * next-RIP assist), and walking the guest's own page tables to reach
 * memory operands (string I/O, instruction fetch).
 * Documentation/khv/emulation.rst has the design and its limits.
 */
#ifndef KHV_CORE_EMULATE_H
#define KHV_CORE_EMULATE_H

#include "khv.h"

#define KHV_MAX_INSN_LEN 15

/* Access kinds for the guest page walk. */
#define KHV_GVA_WRITE	(1u << 0)
#define KHV_GVA_FETCH	(1u << 1)
#define KHV_GVA_USER	(1u << 2)	/* a CPL 3 access: U/S is checked, not SMEP/SMAP */

/*
 * Translate a guest linear address through the guest's paging mode (none,
 * 32-bit, PAE, 4- or 5-level).  Returns 0, or -EFAULT with *pf_error set to
 * the #PF error code the guest should see, or -EIO when a guest table is
 * outside every slot, or -EINVAL for a non-canonical address (a #GP, not a
 * #PF).  Accessed bits, and the dirty bit for a write, are set in the guest
 * entries as the hardware would.  Queues nothing.
 */
int khv_gva_to_gpa(struct khv_vcpu *vcpu, u64 gva, unsigned int access,
		   u64 *gpa, u32 *pf_error);
/*
 * Copy to/from guest linear memory, page by page (slots only, never MMIO).
 * KHV_GVA_USER is added when the guest runs at CPL 3.  Returns 0; -EFAULT
 * when the guest takes a fault, which is then queued (#PF with CR2, or #GP
 * for a non-canonical address) so the caller re-enters without finishing
 * the instruction; -EIO when the memory or a page table is not RAM.
 * Bytes before the faulting page may already have been copied.
 */
int khv_read_guest_virt(struct khv_vcpu *vcpu, u64 gva, void *buf, size_t len,
			unsigned int access);
int khv_write_guest_virt(struct khv_vcpu *vcpu, u64 gva, const void *buf, size_t len);
/* The checks (and fault queueing) of a copy, without the copy. */
int khv_probe_guest_virt(struct khv_vcpu *vcpu, u64 gva, size_t len, unsigned int access);

/* Queue a #PF for the guest, with CR2 = addr (loaded through set_sregs). */
void khv_queue_page_fault(struct khv_vcpu *vcpu, u64 addr, u32 error_code);

/*
 * Linear address of seg:offset, with the address-size wrap applied: the
 * offset is truncated to addr_size (2, 4, 8 bytes); in 64-bit mode only FS
 * and GS have a base; outside 64-bit mode the result wraps at 4 GiB.
 * No limit or type checks.
 */
u64 khv_linear_addr(struct khv_vcpu *vcpu, enum khv_seg seg, u64 offset, int addr_size);

/* insn->map: the opcode map. */
#define KHV_MAP_ONE	0	/* one-byte opcodes */
#define KHV_MAP_0F	1
#define KHV_MAP_0F38	2
#define KHV_MAP_0F3A	3
/* VEX/EVEX/XOP maps keep their own numbers: EVEX 5, 6; XOP 8, 9, 10. */

struct khv_insn {
	u8 bytes[KHV_MAX_INSN_LEN];
	u8 len;
	u8 opsize;		/* 2, 4, 8: CS.D/L, 0x66, REX.W (no default-64 promotion) */
	u8 addrsize;		/* 2, 4, 8 */
	u8 rex;			/* REX byte, 0 if none (synthesised from VEX/EVEX/XOP) */
	u8 rep;			/* 0, 0xf2, 0xf3 */
	s8 seg_override;	/* enum khv_seg or -1 */
	bool two_byte;		/* 0x0f escape (map != KHV_MAP_ONE) */
	u8 opcode;
	bool has_modrm;
	u8 modrm_mod, modrm_reg, modrm_rm;	/* raw 3-bit fields: extend with REX.R/B */
	bool mem_operand;	/* ModRM names memory (mod != 3) or moffs */
	u64 imm;		/* sign-extended from its size (IW kinds: zero-extended) */
	u8 imm_size;		/* bytes of immediate(s) in the encoding */

	/* Additions beyond the first contract. */
	u8 fetched;		/* valid bytes in bytes[], also when decoding failed */
	u8 mode;		/* code size: 2, 4, 8 (16-bit, 32-bit, 64-bit code) */
	u8 map;			/* KHV_MAP_* */
	u8 vex;			/* 0, or 0xc4/0xc5 (VEX), 0x62 (EVEX), 0x8f (XOP) */
	bool opsize_prefix;	/* 0x66 present */
	bool lock;		/* 0xf0 present */
	bool has_sib;
	u8 sib;
	bool rip_relative;
	u8 disp_size;		/* 0, 1, 2, 4; or for moffs the address size */
	s64 disp;		/* sign-extended; moffs: zero-extended address */
	u16 imm2;		/* second immediate: ENTER ib, EXTRQ/INSERTQ ib, far selector */
	u64 next_rip;		/* RIP + len, wrapped to 32 bits outside 64-bit mode */
};

/* khv_decode_insn() flags. */
#define KHV_DECODE_INTEL	(1u << 0)	/* 64-bit near branches ignore 0x66 */

/*
 * Decode one instruction from bytes[0..avail) in a code segment of size
 * mode (2, 4, 8).  0, or -EINVAL for an invalid or over-long encoding,
 * or -ENODATA when avail ended before the instruction did.
 */
int khv_decode_insn(struct khv_insn *insn, const u8 *bytes, unsigned int avail,
		    unsigned int mode, unsigned int flags);

/*
 * Fetch at CS:RIP and decode.  0; -EINVAL for an instruction it does not
 * know; -EFAULT when the fetch takes a guest #PF (nothing queued: see
 * khv_queue_fetch_fault()); -EIO when the code is not in RAM.
 */
int khv_decode_at_rip(struct khv_vcpu *vcpu, struct khv_insn *insn);
/*
 * The linear address of a decoded instruction's ModRM memory operand
 * (insn->mem_operand set): base, index, scale, displacement or RIP-relative,
 * 16-bit forms included, wrapped to the address size, plus the segment base
 * (the override, else DS, or SS for RBP/RSP-based forms).  No limit checks.
 */
u64 khv_insn_mem_linear(struct khv_vcpu *vcpu, const struct khv_insn *insn);
/* After khv_decode_at_rip() said -EFAULT: queue the fetch's fault; returns 1. */
int khv_queue_fetch_fault(struct khv_vcpu *vcpu, const struct khv_insn *insn);
/*
 * KHV_INTERNAL_ERROR_EMULATION for an instruction khv cannot carry out:
 * @where (the MMIO gpa, or RIP), its length (0 if undecoded), its bytes.
 * Returns 0 (to userspace).
 */
int khv_insn_internal_error(struct khv_vcpu *vcpu, u64 where, const struct khv_insn *insn);

/*
 * Emulate the memory access of the instruction at RIP, which faulted at gpa
 * with no RAM behind it: fill vcpu->run for a KHV_EXIT_MMIO exit (returns 0),
 * or an INTERNAL_ERROR exit for instructions it cannot emulate (returns 0),
 * or queue the #PF the instruction fetch takes and return 1 (re-enter).
 */
int khv_emulate_mmio(struct khv_vcpu *vcpu, u64 gpa, bool write);
/* On the next KHV_RUN: put run->mmio.data into the destination, advance RIP. */
void khv_complete_mmio_read(struct khv_vcpu *vcpu);

/*
 * String port I/O (INS/OUTS, REP or not), one batch per exit: at most one
 * guest page and one run-page data area.  RIP moves past the instruction
 * only with the last batch; until then the guest re-executes it.
 *
 * khv_pio_string_batch: the element count for this round.  0 means nothing
 * for userspace: either REP with a zero count (RIP already advanced) or the
 * guest buffer faults (the #PF/#GP is queued); re-enter the guest either way.
 *
 * khv_pio_string_out: read the batch into data, in the order the CPU sends
 * it, set pio->count, advance RSI/RCX/RIP.  1 to go on with the IO exit
 * (pio->count is 0 only if the guest page tables changed under us and a
 * fault is now queued: re-enter rather than exit); 0 with an INTERNAL_ERROR
 * exit filled (buffer not in RAM); < 0 errno.
 *
 * khv_pio_string_in_complete: store pio->count elements from data at ES:RDI,
 * advance RDI/RCX/RIP.  1 to re-enter (also when a fault was queued: the
 * batch is then dropped and the guest re-executes INS); 0 with an
 * INTERNAL_ERROR exit filled (buffer not in RAM).
 */
u32 khv_pio_string_batch(struct khv_vcpu *vcpu, const struct khv_pio *pio);
int khv_pio_string_out(struct khv_vcpu *vcpu, struct khv_pio *pio, void *data);
int khv_pio_string_in_complete(struct khv_vcpu *vcpu, const struct khv_pio *pio,
			       const void *data);

#endif /* KHV_CORE_EMULATE_H */
