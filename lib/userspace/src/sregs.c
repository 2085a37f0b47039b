// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Register helpers: struct khv_sregs for real mode, flat 32-bit protected
 * mode and 64-bit long mode.  Pure functions, no ioctl.
 *
 * The values must pass both vendors' entry checks:
 *  - VMX (unrestricted guest, SDM vol. 3 "Checks on Guest Segment
 *    Registers"): usable segments must be present with the accessed bit set;
 *    CS type 11 (or 3 in real mode), SS type 3 or 7 with DPL 0 when CR0.PE
 *    is 0; G must agree with the limit (limit[11:0] all ones when G=1,
 *    limit[31:20] zero when G=0); TR must be a busy TSS (type 3 or 11, and 11
 *    in IA-32e mode), S=0, present; a usable LDTR is type 2, S=0, present.
 *  - SVM (APM vol. 2 "VMRUN" canonicalization and consistency checks):
 *    CR0.NW without CR0.CD is illegal, and with EFER.LME and CR0.PG set,
 *    CR4.PAE and CR0.PE are required and CS.L and CS.D may not both be 1.
 * So every mode uses an accessed type for every segment, a busy 32-bit TSS
 * (type 11) for TR, and a 16-bit limit with G=0 or a 4 GiB limit with G=1.
 *
 * CR0.NE and CR4.VMXE, which VMX forces to 1 in the real registers, are the
 * backend's business (it hides them behind read shadows); these are the
 * values the guest sees.
 */
#include <string.h>

#include "internal.h"

#define CR0_PE	(1ull << 0)
#define CR0_MP	(1ull << 1)
#define CR0_ET	(1ull << 4)
#define CR0_NE	(1ull << 5)
#define CR0_WP	(1ull << 16)
#define CR0_PG	(1ull << 31)

#define CR4_PAE		(1ull << 5)
#define CR4_OSFXSR	(1ull << 9)
#define CR4_OSXMMEXCPT	(1ull << 10)

#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)

/* Descriptor type values (S=1: code/data; S=0: system). */
#define SEG_TYPE_DATA_RW_A	3	/* read/write data, accessed */
#define SEG_TYPE_CODE_RX_A	11	/* execute/read code, accessed */
#define SEG_TYPE_LDT		2
#define SEG_TYPE_TSS32_BUSY	11

/* Selectors of the flat modes: null, code 0x08, data 0x10, TSS 0x18. */
#define SEL_CODE	0x08
#define SEL_DATA	0x10
#define SEL_TSS		0x18

static struct khv_segment seg(uint16_t sel, uint64_t base, uint32_t limit, uint8_t type,
			      uint8_t s)
{
	struct khv_segment g;

	memset(&g, 0, sizeof(g));
	g.selector = sel;
	g.base = base;
	g.limit = limit;
	g.type = type;
	g.s = s;
	g.present = 1;
	/* A limit that needs more than 20 bits is expressed in 4 KiB units. */
	g.g = limit > 0xfffff;
	return g;
}

/*
 * Everything that is not mode specific, at its reset value: apic_base is
 * kept (it belongs to the vCPU, not to the mode), the rest is cleared.
 */
static void sregs_clear(struct khv_sregs *s)
{
	uint64_t apic_base = s->apic_base;

	memset(s, 0, sizeof(*s));
	s->apic_base = apic_base;
}

KHV_EXPORT void khv_sregs_real_mode(struct khv_sregs *s, uint16_t cs_selector)
{
	struct khv_segment data = seg(0, 0, 0xffff, SEG_TYPE_DATA_RW_A, 1);

	if (!s)
		return;
	sregs_clear(s);

	/* Real-mode addressing: base = selector * 16, 64 KiB limits. */
	s->cs = seg(cs_selector, (uint64_t)cs_selector << 4, 0xffff, SEG_TYPE_CODE_RX_A, 1);
	s->ds = data;
	s->es = data;
	s->fs = data;
	s->gs = data;
	s->ss = data;
	s->tr = seg(0, 0, 0xffff, SEG_TYPE_TSS32_BUSY, 0);
	s->ldt = seg(0, 0, 0xffff, SEG_TYPE_LDT, 0);

	/* The interrupt vector table at 0, as after RESET/INIT. */
	s->gdt.limit = 0xffff;
	s->idt.limit = 0xffff;

	/*
	 * CR0: ET only.  RESET sets CD|NW|ET (0x60000010), but running a guest
	 * with caching disabled is pointlessly slow where the backend passes
	 * CD through, and ET is hard-wired to 1 on every CPU with VT-x/AMD-V.
	 */
	s->cr0 = CR0_ET;
}

/* Flat 4 GiB code and data, used by both protected and long mode. */
static void sregs_flat(struct khv_sregs *s, int long_mode)
{
	struct khv_segment data = seg(SEL_DATA, 0, 0xffffffff, SEG_TYPE_DATA_RW_A, 1);

	data.db = 1;
	s->cs = seg(SEL_CODE, 0, 0xffffffff, SEG_TYPE_CODE_RX_A, 1);
	/* 64-bit code is CS.L=1 with CS.D=0 (L=1, D=1 is reserved). */
	s->cs.l = long_mode ? 1 : 0;
	s->cs.db = long_mode ? 0 : 1;
	s->ds = data;
	s->es = data;
	s->fs = data;
	s->gs = data;
	s->ss = data;
	s->tr = seg(SEL_TSS, 0, 0x67, SEG_TYPE_TSS32_BUSY, 0);	/* minimal 104-byte TSS */
	s->ldt = seg(0, 0, 0xffff, SEG_TYPE_LDT, 0);
	/*
	 * GDT and IDT are left empty (limit 0): the guest installs its own.
	 * Until it does, any exception escalates to a triple fault, which the
	 * VMM sees as KHV_EXIT_SHUTDOWN instead of the guest running off into
	 * zeroed memory.
	 */
}

KHV_EXPORT void khv_sregs_protected_flat(struct khv_sregs *s)
{
	if (!s)
		return;
	sregs_clear(s);
	sregs_flat(s, 0);
	s->cr0 = CR0_PE | CR0_ET;
}

KHV_EXPORT void khv_sregs_long_mode(struct khv_sregs *s, uint64_t pml4_gpa)
{
	if (!s)
		return;
	sregs_clear(s);
	sregs_flat(s, 1);
	/*
	 * What a 64-bit OS runs with: paging, supervisor write protection,
	 * native x87 errors, and SSE enabled (CR0.MP, CR4.OSFXSR/OSXMMEXCPT)
	 * because compilers emit SSE in ordinary x86-64 code.
	 */
	s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s->cr3 = pml4_gpa;
	s->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	/* LMA is what the CPU would set on enabling paging with LME set. */
	s->efer = EFER_LME | EFER_LMA;
}
