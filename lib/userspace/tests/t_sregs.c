// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Register helpers: the exact fields of each mode, and the entry rules of
 * both vendors (VMX guest-state checks, SVM VMRUN consistency checks) that
 * the values must satisfy.
 */
#include <string.h>

#include "test.h"

#define CR0_PE (1ull << 0)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

/* VMX: usable code/data segments are present and accessed; G matches the limit. */
static void check_vmx_segment(const struct khv_segment *g, const char *name)
{
	int ok = g->present && !g->unusable && !g->pad && !g->avl && !g->dpl;

	if (g->s)
		ok &= (g->type & 1) == 1;		/* accessed */
	if (g->g)
		ok &= (g->limit & 0xfff) == 0xfff;
	else
		ok &= g->limit <= 0xfffff;
	if (!ok)
		printf("#   segment %s breaks a VMX entry rule\n", name);
	CHECK(ok);
}

static void check_entry_rules(const struct khv_sregs *s)
{
	int lma = !!(s->efer & EFER_LMA);
	size_t i;
	int zero = 1;

	check_vmx_segment(&s->cs, "cs");
	check_vmx_segment(&s->ds, "ds");
	check_vmx_segment(&s->es, "es");
	check_vmx_segment(&s->fs, "fs");
	check_vmx_segment(&s->gs, "gs");
	check_vmx_segment(&s->ss, "ss");
	check_vmx_segment(&s->tr, "tr");
	check_vmx_segment(&s->ldt, "ldt");

	CHECK_EQ(s->cs.s, 1);
	CHECK(s->cs.type == 11 || s->cs.type == 3);
	CHECK(s->ss.type == 3 || s->ss.type == 7);
	CHECK_EQ(s->tr.s, 0);
	CHECK_EQ(s->tr.type, 11);		/* busy 32-bit TSS: valid in every mode */
	CHECK_EQ(s->tr.selector & 4, 0);	/* TI = 0 */
	CHECK_EQ(s->ldt.s, 0);
	CHECK_EQ(s->ldt.type, 2);
	CHECK_EQ(s->ldt.selector & 4, 0);

	/* SVM consistency checks. */
	CHECK(!((s->cr0 & CR0_NW) && !(s->cr0 & CR0_CD)));
	CHECK_EQ(s->cr0 >> 32, 0);
	if ((s->efer & EFER_LME) && (s->cr0 & CR0_PG)) {
		CHECK(s->cr4 & CR4_PAE);
		CHECK(s->cr0 & CR0_PE);
		CHECK(!(s->cs.l && s->cs.db));
	}
	/* LMA is exactly LME with paging on. */
	CHECK_EQ(lma, (s->efer & EFER_LME) && (s->cr0 & CR0_PG));

	for (i = 0; i < 4; i++)
		zero &= s->reserved[i] == 0;
	CHECK(zero);
	CHECK(!s->gdt.pad[0] && !s->gdt.pad[1] && !s->gdt.pad[2]);
	CHECK(!s->idt.pad[0] && !s->idt.pad[1] && !s->idt.pad[2]);
}

static void check_data(const struct khv_segment *g, uint16_t sel, uint32_t limit, int db)
{
	CHECK_EQ(g->selector, sel);
	CHECK_EQ(g->base, 0);
	CHECK_EQ(g->limit, limit);
	CHECK_EQ(g->type, 3);
	CHECK_EQ(g->s, 1);
	CHECK_EQ(g->present, 1);
	CHECK_EQ(g->db, db);
	CHECK_EQ(g->l, 0);
	CHECK_EQ(g->g, limit > 0xfffff);
}

/* Start from garbage so that every field the helper forgets shows up. */
static void garbage(struct khv_sregs *s)
{
	memset(s, 0xa5, sizeof(*s));
	s->apic_base = 0xfee00900;
}

static void test_real(void)
{
	struct khv_sregs s;

	garbage(&s);
	khv_sregs_real_mode(&s, 0x1234);
	CHECK_EQ(s.cs.selector, 0x1234);
	CHECK_EQ(s.cs.base, 0x12340);
	CHECK_EQ(s.cs.limit, 0xffff);
	CHECK_EQ(s.cs.type, 11);
	CHECK_EQ(s.cs.present, 1);
	CHECK_EQ(s.cs.db, 0);
	CHECK_EQ(s.cs.l, 0);
	CHECK_EQ(s.cs.g, 0);
	check_data(&s.ds, 0, 0xffff, 0);
	check_data(&s.es, 0, 0xffff, 0);
	check_data(&s.fs, 0, 0xffff, 0);
	check_data(&s.gs, 0, 0xffff, 0);
	check_data(&s.ss, 0, 0xffff, 0);
	CHECK_EQ(s.tr.limit, 0xffff);
	CHECK_EQ(s.tr.present, 1);
	CHECK_EQ(s.ldt.present, 1);
	CHECK_EQ(s.idt.base, 0);
	CHECK_EQ(s.idt.limit, 0xffff);
	CHECK_EQ(s.gdt.limit, 0xffff);
	CHECK_EQ(s.cr0, 0x10);
	CHECK_EQ(s.cr2, 0);
	CHECK_EQ(s.cr3, 0);
	CHECK_EQ(s.cr4, 0);
	CHECK_EQ(s.cr8, 0);
	CHECK_EQ(s.efer, 0);
	CHECK_EQ(s.apic_base, 0xfee00900);
	check_entry_rules(&s);

	/* Selector 0xf000: the classic reset segment. */
	khv_sregs_real_mode(&s, 0xf000);
	CHECK_EQ(s.cs.base, 0xf0000);
}

static void test_protected(void)
{
	struct khv_sregs s;

	garbage(&s);
	khv_sregs_protected_flat(&s);
	CHECK_EQ(s.cr0, 0x11);
	CHECK_EQ(s.cr4, 0);
	CHECK_EQ(s.cr3, 0);
	CHECK_EQ(s.efer, 0);
	CHECK_EQ(s.cs.selector, 0x08);
	CHECK_EQ(s.cs.base, 0);
	CHECK_EQ(s.cs.limit, 0xffffffff);
	CHECK_EQ(s.cs.type, 11);
	CHECK_EQ(s.cs.db, 1);
	CHECK_EQ(s.cs.l, 0);
	CHECK_EQ(s.cs.g, 1);
	check_data(&s.ds, 0x10, 0xffffffff, 1);
	check_data(&s.ss, 0x10, 0xffffffff, 1);
	check_data(&s.es, 0x10, 0xffffffff, 1);
	check_data(&s.fs, 0x10, 0xffffffff, 1);
	check_data(&s.gs, 0x10, 0xffffffff, 1);
	CHECK_EQ(s.tr.limit, 0x67);
	CHECK_EQ(s.apic_base, 0xfee00900);
	check_entry_rules(&s);
}

static void test_long(void)
{
	struct khv_sregs s;

	garbage(&s);
	khv_sregs_long_mode(&s, 0x9000);
	CHECK_EQ(s.cr3, 0x9000);
	CHECK_EQ(s.cr0 & 0x80000001, 0x80000001);	/* PG | PE */
	CHECK(s.cr4 & CR4_PAE);
	CHECK_EQ(s.efer, EFER_LME | EFER_LMA);
	CHECK_EQ(s.cs.l, 1);
	CHECK_EQ(s.cs.db, 0);
	CHECK_EQ(s.cs.type, 11);
	CHECK_EQ(s.cs.selector, 0x08);
	check_data(&s.ds, 0x10, 0xffffffff, 1);
	check_data(&s.ss, 0x10, 0xffffffff, 1);
	CHECK_EQ(s.cr2, 0);
	CHECK_EQ(s.cr8, 0);
	CHECK_EQ(s.apic_base, 0xfee00900);
	check_entry_rules(&s);
}

void test_sregs(void)
{
	test_real();
	test_protected();
	test_long();
	/* NULL is ignored, not dereferenced. */
	khv_sregs_real_mode(NULL, 0);
	khv_sregs_protected_flat(NULL);
	khv_sregs_long_mode(NULL, 0);
	CHECK(1);
}
