/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The instruction emulator khv needs, and no more: fetching and decoding the
 * instruction at the guest's RIP (for MMIO accesses, which the hardware does
 * not decode, and for skipping intercepted instructions when the CPU has no
 * next-RIP assist), and walking the guest's own page tables to reach
 * memory operands (string I/O, instruction fetch).
 */
#ifndef KHV_CORE_EMULATE_H
#define KHV_CORE_EMULATE_H

#include "khv.h"

#define KHV_MAX_INSN_LEN 15

/* Access kinds for the guest page walk. */
#define KHV_GVA_WRITE	(1u << 0)
#define KHV_GVA_FETCH	(1u << 1)
#define KHV_GVA_USER	(1u << 2)

/*
 * Translate a guest linear address through the guest's paging mode (none,
 * 32-bit, PAE, 4- or 5-level).  Returns 0, or -EFAULT with *pf_error set to
 * the #PF error code the guest should see, or -EIO when a guest table is
 * outside every slot.
 */
int khv_gva_to_gpa(struct khv_vcpu *vcpu, u64 gva, unsigned int access,
		   u64 *gpa, u32 *pf_error);
/* Copy to/from guest linear memory, page by page (slots only, never MMIO). */
int khv_read_guest_virt(struct khv_vcpu *vcpu, u64 gva, void *buf, size_t len,
			unsigned int access);
int khv_write_guest_virt(struct khv_vcpu *vcpu, u64 gva, const void *buf, size_t len);

/* Linear address of seg:offset, with the address-size wrap applied. */
u64 khv_linear_addr(struct khv_vcpu *vcpu, enum khv_seg seg, u64 offset, int addr_size);

struct khv_insn {
	u8 bytes[KHV_MAX_INSN_LEN];
	u8 len;
	u8 opsize;		/* 2, 4, 8 */
	u8 addrsize;		/* 2, 4, 8 */
	u8 rex;
	u8 rep;			/* 0, 0xf2, 0xf3 */
	s8 seg_override;	/* enum khv_seg or -1 */
	bool two_byte;		/* 0x0f escape */
	u8 opcode;
	bool has_modrm;
	u8 modrm_mod, modrm_reg, modrm_rm;
	bool mem_operand;	/* ModRM names memory (mod != 3) or moffs */
	u64 imm;
	u8 imm_size;
};

/* Fetch at CS:RIP and decode; -EINVAL for an instruction it does not know. */
int khv_decode_at_rip(struct khv_vcpu *vcpu, struct khv_insn *insn);

/*
 * Emulate the memory access of the instruction at RIP, which faulted at gpa
 * with no RAM behind it: fill vcpu->run for a KHV_EXIT_MMIO exit (returns 0),
 * or an INTERNAL_ERROR exit for instructions it cannot emulate (returns 0).
 */
int khv_emulate_mmio(struct khv_vcpu *vcpu, u64 gpa, bool write);
/* On the next KHV_RUN: put run->mmio.data into the destination, advance RIP. */
void khv_complete_mmio_read(struct khv_vcpu *vcpu);

/* String port I/O: move the next batch between guest memory and the run page. */
/* Elements to move this round (0: REP with zero count, RIP already advanced). */
u32 khv_pio_string_batch(struct khv_vcpu *vcpu, const struct khv_pio *pio);
int khv_pio_string_out(struct khv_vcpu *vcpu, struct khv_pio *pio, void *data);
int khv_pio_string_in_complete(struct khv_vcpu *vcpu, const struct khv_pio *pio,
			       const void *data);

#endif /* KHV_CORE_EMULATE_H */
