// SPDX-License-Identifier: GPL-2.0
/*
 * Random guest code: a string of instruction templates that reach khv's
 * exit handlers (port and MMIO accesses, HLT, CPUID, MSRs, control and
 * debug registers, XSETBV, INVLPG, descriptor tables, exceptions,
 * hypercalls), with operands drawn from boundary values, and some raw
 * random bytes.  The memory layout (GDT, IDT with exception stubs, page
 * tables) is the selftests' (lib/guest.h), so an exception becomes a port
 * exit rather than a triple fault unless the guest broke its own tables.
 *
 * QEMU's nested SVM checks RDMSR/WRMSR against the MSR permission map
 * with all of RCX (testing.rst, "Emulator gaps"): with RCX[63:32] set the
 * access reaches the test machine's own MSRs (its x2APIC ICR, say), and
 * the test machine dies or wedges.  So every RDMSR/WRMSR comes right after
 * a 32-bit MOV to ECX (which clears RCX[63:32]), and under TCG the guest
 * gets no control flow the fuzzer did not write: no raw random bytes, no
 * LIDT/LGDT of random tables, no immediate byte 0x0f (which, entered in
 * the middle, could start an RDMSR/WRMSR).  Nor MOV to CR8: QEMU 7.2 then
 * raises its virtual interrupt without the iothread lock when one is
 * pending (khv arms V_IRQ for an interrupt window) and aborts.
 *
 * Nor, under TCG, stores into the GDT, IDT, stubs or code below GUEST_DATA
 * (MOV to moffs, INS; ops.c keeps RSP on the stack): a random byte there
 * makes a task gate or TSS descriptor, QEMU then switches tasks inside the
 * nested guest, marks TR busy and aborts at the next privilege change
 * ("invalid tss type", testing.rst).
 *
 * Nor, under TCG, the state EFER.LME set with CR0.PG and CR4.PAE clear
 * (legal: long mode inactive): QEMU 7.2's #VMEXIT then fails to load the
 * test machine's CR0 and wedges it (modes.c, real_mode_with_lme).  The
 * guest can only reach it by WRMSR to EFER or MOV to CR4 (khv keeps PAE in
 * long mode), so under TCG those never set LME, or always keep PAE.
 */
#include <string.h>

#include "fuzz.h"
#include "khvt.h"

struct emit {
	uint8_t *p, *end;
	enum fuzz_mode mode;
	bool tcg;
	uint64_t mask;		/* templates allowed, by number */
};

static void b(struct emit *e, uint8_t v)
{
	if (e->p < e->end)
		*e->p++ = v;
}

/* An immediate byte: never 0x0f under TCG (see the top of the file). */
static void ib(struct emit *e, uint8_t v)
{
	b(e, e->tcg && v == 0x0f ? 0x0e : v);
}

/* The operand-size prefix that makes a 32-bit operand in 16-bit mode. */
static void o32(struct emit *e)
{
	if (e->mode == FUZZ_REAL)
		b(e, 0x66);
}

static bool has_msr_opcode(uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		if (((v >> (8 * i)) & 0xff) == 0x0f)
			return true;
	return false;
}

static void imm32(struct emit *e, uint32_t v)
{
	if (has_msr_opcode(v))
		v &= 0xf0f0f0f0;	/* no 0x0f byte left */
	b(e, v);
	b(e, v >> 8);
	b(e, v >> 16);
	b(e, v >> 24);
}

/* mov e<reg>, imm32: reg 0 eax, 1 ecx, 2 edx, 3 ebx, ... 7 edi. */
static void mov_r32(struct emit *e, int reg, uint32_t v)
{
	o32(e);
	b(e, 0xb8 + reg);
	imm32(e, v);
}

static const uint32_t msrs[] = {
	0x10, 0x1b, 0x3a, 0x48, 0x49, 0x8b, 0xc1, 0xe7, 0xe8, 0xfe, 0x174, 0x175,
	0x176, 0x179, 0x1a0, 0x1d9, 0x200, 0x277, 0x2ff, 0x6e0, 0x802, 0x808, 0x830,
	0x838, 0xc0000080, 0xc0000081, 0xc0000082, 0xc0000084, 0xc0000100,
	0xc0000101, 0xc0000102, 0xc0000103, 0xc0010114, 0xc0010117, 0x4b564d00,
	0x40000000, 0xc0011022,
};

static uint32_t msr_index(struct fuzz_rng *r)
{
	if (fuzz_chance(r, 80))
		return msrs[fuzz_below(r, sizeof(msrs) / sizeof(msrs[0]))];
	return (uint32_t)fuzz_value(r);
}

/* An address for a load or store: RAM, a hole, the APIC/IOAPIC, anywhere. */
static uint64_t data_gpa(struct fuzz_rng *r)
{
	static const uint64_t where[] = {
		GUEST_DATA, GUEST_MMIO, 0xfee00000, 0xfec00000, 0x1ff000, 0x200000,
		0x400000, 0xfffff000, GUEST_PT, GUEST_GDT, GUEST_IDT,
	};

	if (fuzz_chance(r, 80))
		return where[fuzz_below(r, sizeof(where) / sizeof(where[0]))] + fuzz_below(r, 16);
	return fuzz_value(r);
}

static void moffs(struct emit *e, struct fuzz_rng *r, uint8_t opcode)
{
	uint64_t a = data_gpa(r);

	/* Under TCG, no stores into the tables and code (top of the file). */
	if (e->tcg && (opcode == 0xa2 || opcode == 0xa3) && (uint32_t)a < GUEST_DATA)
		a = GUEST_DATA + (a & 0xf);

	b(e, opcode);
	if (e->mode == FUZZ_REAL) {
		ib(e, a);
		ib(e, a >> 8);
	} else {
		imm32(e, (uint32_t)a);
		if (e->mode == FUZZ_LONG)
			imm32(e, 0);
	}
}

/* Raw bytes: none that form RDMSR/WRMSR (see the top of the file). */
static void raw(struct emit *e, struct fuzz_rng *r)
{
	unsigned int n = 1 + fuzz_below(r, 6), i;

	if (e->tcg)
		return;
	for (i = 0; i < n; i++) {
		uint8_t v = (uint8_t)fuzz_next(r);

		b(e, v == 0x0f ? 0x90 : v);
	}
}

static void one(struct emit *e, struct fuzz_rng *r)
{
	uint32_t v = (uint32_t)fuzz_value(r);
	unsigned int t = fuzz_below(r, 22);

	if (!(e->mask & (1ull << t)))
		return;
	switch (t) {
	case 0:				/* out imm8, al */
		b(e, 0xb0);
		ib(e, v);
		b(e, 0xe6);
		ib(e, fuzz_below(r, 256));
		break;
	case 1:				/* in al, imm8 */
		b(e, 0xe4);
		ib(e, fuzz_below(r, 256));
		break;
	case 2:				/* out dx, eax / in eax, dx */
		if (e->mode != FUZZ_REAL)
			b(e, 0x66);
		b(e, 0xba);
		ib(e, v);
		ib(e, v >> 8);
		b(e, fuzz_chance(r, 50) ? 0xef : 0xed);
		break;
	case 3:				/* mov eax, [moffs] */
		o32(e);
		moffs(e, r, 0xa1);
		break;
	case 4:				/* mov [moffs], eax */
		o32(e);
		moffs(e, r, 0xa3);
		break;
	case 5:
		b(e, 0xf4);		/* hlt */
		break;
	case 6:				/* cpuid */
		mov_r32(e, 0, fuzz_chance(r, 50) ? fuzz_below(r, 0x20) : v);
		mov_r32(e, 1, fuzz_below(r, 4));
		b(e, 0x0f);
		b(e, 0xa2);
		break;
	case 7:				/* rdmsr */
		mov_r32(e, 1, msr_index(r));
		b(e, 0x0f);
		b(e, 0x32);
		break;
	case 8: {			/* wrmsr */
		uint32_t hi = (uint32_t)fuzz_value(r), index = msr_index(r);

		/* Under TCG, no EFER.LME with paging off and PAE clear (top). */
		if (e->tcg && index == MSR_EFER)
			v &= ~(uint32_t)EFER_LME;
		mov_r32(e, 0, v);
		mov_r32(e, 2, hi);
		mov_r32(e, 1, index);
		b(e, 0x0f);
		b(e, 0x30);
		break;
	}
	case 9: {			/* mov cr0/cr3/cr4, eax */
		static const uint8_t crs[] = { 0, 3, 4 };
		uint8_t cr = crs[fuzz_below(r, 3)];

		if (e->tcg && cr == 4)
			v |= CR4_PAE;	/* as for case 8 */
		mov_r32(e, 0, v);
		b(e, 0x0f);
		b(e, 0x22);
		b(e, 0xc0 | cr << 3);
		break;
	}
	case 10:			/* xsetbv / xgetbv */
		mov_r32(e, 1, fuzz_chance(r, 80) ? 0 : fuzz_below(r, 3));
		mov_r32(e, 0, fuzz_chance(r, 50) ? (uint32_t)fuzz_below(r, 0x400) : v);
		mov_r32(e, 2, 0);
		b(e, 0x0f);
		b(e, 0x01);
		b(e, fuzz_chance(r, 70) ? 0xd1 : 0xd0);
		break;
	case 11:			/* int3, ud2, int n, into */
		switch (fuzz_below(r, 4)) {
		case 0:
			b(e, 0xcc);
			break;
		case 1:
			b(e, 0x0f);
			b(e, 0x0b);
			break;
		case 2:
			b(e, 0xcd);
			ib(e, fuzz_below(r, 256));
			break;
		default:
			b(e, 0xce);
			break;
		}
		break;
	case 12:			/* vmcall, vmmcall */
		mov_r32(e, 0, fuzz_below(r, 16));
		b(e, 0x0f);
		b(e, 0x01);
		b(e, fuzz_chance(r, 50) ? 0xc1 : 0xd9);
		break;
	case 13:			/* sti, cli */
		b(e, fuzz_chance(r, 50) ? 0xfb : 0xfa);
		break;
	case 14:			/* invlpg [eax] */
		mov_r32(e, 0, (uint32_t)data_gpa(r));
		b(e, 0x0f);
		b(e, 0x01);
		b(e, 0x38);
		break;
	case 15:			/* lidt / lgdt [eax]: tables from anywhere */
		if (e->tcg)
			break;
		mov_r32(e, 0, (uint32_t)data_gpa(r));
		b(e, 0x0f);
		b(e, 0x01);
		b(e, fuzz_chance(r, 50) ? 0x18 : 0x10);
		break;
	case 16:			/* mov dr7, eax / mov dr0, eax */
		mov_r32(e, 0, v);
		b(e, 0x0f);
		b(e, 0x23);
		b(e, fuzz_chance(r, 50) ? 0xf8 : 0xc0);
		break;
	case 17:			/* rdtsc, rdtscp, wbinvd, pause */
		switch (fuzz_below(r, 4)) {
		case 0:
			b(e, 0x0f);
			b(e, 0x31);
			break;
		case 1:
			b(e, 0x0f);
			b(e, 0x01);
			b(e, 0xf9);
			break;
		case 2:
			b(e, 0x0f);
			b(e, 0x09);
			break;
		default:
			b(e, 0xf3);
			b(e, 0x90);
			break;
		}
		break;
	case 18:			/* mov cr8, rax (64-bit only; not under TCG) */
		if (e->mode == FUZZ_LONG && !e->tcg) {
			mov_r32(e, 0, fuzz_below(r, 32));
			b(e, 0x44);
			b(e, 0x0f);
			b(e, 0x22);
			b(e, 0xc0);
		}
		break;
	case 19:			/* rep outsb / insb from data */
		if (e->mode != FUZZ_REAL)
			b(e, 0x66);
		b(e, 0xba);
		ib(e, v);
		ib(e, v >> 8);
		mov_r32(e, 1, fuzz_below(r, 40));
		if (e->tcg)
			mov_r32(e, 7, GUEST_DATA);	/* INS stores at EDI */
		b(e, 0xf3);
		b(e, fuzz_chance(r, 50) ? 0x6e : 0x6c);
		break;
	default:
		raw(e, r);
		break;
	}
}

void fuzz_guest_layout(uint8_t *mem)
{
	static const uint8_t hlt[] = { 0xf4 };
	struct khvt_payload p = { "fuzz", hlt, hlt + 1 };

	khvt_init_memory(mem, KHVT_LONG, p);
}

void fuzz_guest_code(struct fuzz_rng *r, uint8_t *mem, enum fuzz_mode mode, bool tcg,
		     uint64_t insn_mask)
{
	struct emit e = { mem + GUEST_CODE, mem + GUEST_CODE + FUZZ_CODE_LEN - 4, mode, tcg,
			  insn_mask ? insn_mask : ~0ull };
	unsigned int n = 1 + fuzz_below(r, 24), i;

	for (i = 0; i < n; i++)
		one(&e, r);
	/* hlt; jmp back to the hlt */
	e.end += 4;
	b(&e, 0xf4);
	b(&e, 0xeb);
	b(&e, 0xfd);
}
