// SPDX-License-Identifier: GPL-2.0
/*
 * vmx: guest-visible behaviour the Intel backend provides itself
 * (vmx_guest.S), and how it reports what VM entry refuses.
 *
 *  - reset_state: a new vCPU holds the x86 RESET state, every segment
 *    usable (VM entry accepts it: the guest runs from it).
 *  - entry_failure: an unusable TR passes KHV_SET_SREGS but not VM entry:
 *    KHV_EXIT_FAIL_ENTRY with hardware_entry_failure_reason 0x80000021
 *    ("invalid guest state", qualification 0 in bits 63:32), hw_exit_reason
 *    the same; with a usable TR again the guest runs.
 *  - unusable_segments: the unusable flag reaches the VMCS and comes back
 *    from KHV_GET_SREGS (not present); a 64-bit guest runs with null DS/ES.
 *  - mode_switch: a real-mode guest enables long mode itself (PE, PG with
 *    EFER.LME: VMX leaves EFER.LMA and the "IA-32e mode guest" control to
 *    software), from a 16-bit busy TSS (VM entry wants a 64-bit one in
 *    IA-32e mode), goes to compatibility mode and turns paging off again.
 *  - pae_paging: 32-bit PAE paging from KHV_SET_SREGS (VM entry takes the
 *    PDPTEs from the VMCS: khv loads them from guest memory), kept across
 *    paging off and on (emulated CR0 writes) and a MOV to CR3.
 *  - control_registers: CR4.VMXE invisible and #GP to set; CR0.CD/NW kept;
 *    CR8 keeps 4 bits and #GPs on more; KHV_GET_SREGS sees the guest's CR8.
 *  - vmx_insns_ud: VMXON, VMPTRLD, VMCLEAR, VMREAD, VMWRITE, VMLAUNCH,
 *    VMRESUME, VMXOFF, INVEPT, INVVPID are #UD (no nested virtualization).
 *  - dr_emulation: MOV DR round trips, DR6 fixed bits, DR7.GD.
 *  - nmi_masking: an NMI injected while the guest's NMI handler runs waits
 *    for that handler's IRET (virtual NMIs, NMI-window exit).
 *  - exit_stat_names: the hardware counters are named "vmx_<reason>" and
 *    keyed by the basic exit reason.
 * Skipped unless KHV_CAP_VENDOR is Intel.
 */
#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(vmx_long);
KHVT_DECLARE_PAYLOAD(vmx_switch);
KHVT_DECLARE_PAYLOAD(vmx_pae);
extern const uint8_t vmx_cr[], vmx_insns[], vmx_dr[], vmx_nmi[], vmx_done[];
extern const uint8_t vx_db[], vx_ud[], vx_gp[], vx_nmi[], nmi_resume[], nmi_spin_end[];
extern const uint8_t cr4_vmxe_insn[], cr8_high_insn[], gd_insn[], sw_done[], pae_done[];
extern const uint8_t vmxon_insn[], vmptrld_insn[], vmclear_insn[], vmread_insn[],
	vmwrite_insn[], vmlaunch_insn[], vmresume_insn[], vmxoff_insn[], invept_insn[],
	invvpid_insn[];

#define GPA(sym)	PAYLOAD_GPA(vmx_long, sym)

#define CR0_PE		(1ull << 0)
#define CR0_ET		(1ull << 4)
#define CR0_NW		(1ull << 29)
#define CR0_CD		(1ull << 30)
#define CR0_PG		(1ull << 31)
#define CR4_PAE		(1ull << 5)
#define CR4_VMXE	(1ull << 13)
#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)
#define DR6_INIT	0xffff0ff0ull
#define DR6_BD		(1ull << 13)
#define DR7_INIT	0x400ull

#define ENTRY_FAIL_INVALID_GUEST_STATE	0x80000021u
#define VMX_EXIT_CPUID			10
#define VMX_EXIT_HLT			12

/* Create t in mode with payload name; skip unless the backend is Intel's. */
#define VMX_VM(t, mode, name) do {						\
	VM_WITH_PAYLOAD((t), (mode), name);					\
	if ((t)->vendor != KHV_VENDOR_INTEL) {					\
		int __v = (t)->vendor;						\
		khvt_destroy(t);						\
		SKIP(return, "KHV_CAP_VENDOR is %d, not Intel", __v);		\
	}									\
} while (0)

static void setup_long(KHVT_MD, struct khvt_vm *t)
{
	KHV_OK(khvt_set_gate(t, 1, GPA(vx_db)));
	KHV_OK(khvt_set_gate(t, 2, GPA(vx_nmi)));
	KHV_OK(khvt_set_gate(t, 6, GPA(vx_ud)));
	KHV_OK(khvt_set_gate(t, 13, GPA(vx_gp)));
}

#define echo(t)		expect_out((t), PORT_ECHO, 4)

static void expect_seg(KHVT_MD, const char *name, const struct khv_segment *s,
		       uint16_t sel, uint64_t base, uint32_t limit, uint8_t type, uint8_t sflag)
{
	EXPECT_EQ(sel, s->selector) TH_LOG("%s.selector %#x", name, s->selector);
	EXPECT_EQ(base, s->base) TH_LOG("%s.base %#llx", name, (unsigned long long)s->base);
	EXPECT_EQ(limit, s->limit) TH_LOG("%s.limit %#x", name, s->limit);
	EXPECT_EQ(type, s->type) TH_LOG("%s.type %u", name, s->type);
	EXPECT_EQ(sflag, s->s) TH_LOG("%s.s %u", name, s->s);
	EXPECT_EQ(1, s->present) TH_LOG("%s not present", name);
	EXPECT_EQ(0, s->unusable) TH_LOG("%s unusable", name);
}

TEST(reset_state)
{
	struct khv_sregs s;
	struct khv_regs r;
	struct khvt_vm t;
	uint8_t *reset;

	VMX_VM(&t, KHVT_REAL, vmx_long);
	/* A fresh vCPU, not the one vm_with_payload() set up. */
	khv_vcpu_destroy(&t.vcpu);
	t.have_vcpu = false;
	KHV_OK(khv_vcpu_create(&t.vm, 1, &t.vcpu));
	t.have_vcpu = true;

	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	expect_seg(_metadata, "CS", &s.cs, 0xf000, 0xffff0000, 0xffff, 11, 1);
	expect_seg(_metadata, "DS", &s.ds, 0, 0, 0xffff, 3, 1);
	expect_seg(_metadata, "SS", &s.ss, 0, 0, 0xffff, 3, 1);
	expect_seg(_metadata, "TR", &s.tr, 0, 0, 0xffff, 3, 0);
	expect_seg(_metadata, "LDTR", &s.ldt, 0, 0, 0xffff, 2, 0);
	EXPECT_VAL("CR0", CR0_CD | CR0_NW | CR0_ET, s.cr0);
	EXPECT_VAL("CR4", 0, s.cr4);
	EXPECT_VAL("EFER", 0, s.efer);
	EXPECT_VAL("GDT limit", 0xffff, s.gdt.limit);
	KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
	EXPECT_VAL("RIP", 0xfff0, r.rip);
	EXPECT_VAL("RFLAGS", 0x2, r.rflags);

	/* Run from RESET as is: HLT at 0xffff0000 + 0xfff0 (no RAM there). */
	reset = t.mem + 0xfff0;
	reset[0] = 0xf4;	/* HLT */
	KHV_OK(khv_vm_set_memory(&t.vm, 1, 0, 0xffff0000, 0x10000, t.mem));
	expect_hlt(&t, 0xfff1);
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	EXPECT_VAL("CS.base after running", 0xffff0000, s.cs.base);
	khvt_destroy(&t);
}

TEST(entry_failure)
{
	const struct khv_run *run;
	struct khv_sregs s, good;
	struct khvt_vm t;

	VMX_VM(&t, KHVT_LONG, vmx_long);
	run = t.vcpu.run;
	setup_long(_metadata, &t);
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &good));
	s = good;
	s.tr.unusable = 1;
	KHV_OK(khv_vcpu_set_sregs(&t.vcpu, &s));
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	EXPECT_VAL("TR.unusable read back", 1, s.tr.unusable);

	expect_exit(&t, KHV_EXIT_FAIL_ENTRY);
	EXPECT_VAL("hardware_entry_failure_reason (reason | qualification << 32)",
		   ENTRY_FAIL_INVALID_GUEST_STATE,
		   run->fail_entry.hardware_entry_failure_reason);
	EXPECT_VAL("hw_exit_reason", ENTRY_FAIL_INVALID_GUEST_STATE, run->hw_exit_reason);

	/* Nothing ran: the same state fails again, a good one runs. */
	expect_exit(&t, KHV_EXIT_FAIL_ENTRY);
	KHV_OK(khv_vcpu_set_sregs(&t.vcpu, &good));
	start_at(&t, GPA(vmx_done - 1), NULL, 0);
	expect_hlt(&t, GPA(vmx_done));
	khvt_destroy(&t);
}

TEST(unusable_segments)
{
	struct khv_sregs s;
	struct khvt_vm t;

	VMX_VM(&t, KHVT_LONG, vmx_long);
	setup_long(_metadata, &t);
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	memset(&s.ds, 0, sizeof(s.ds));
	s.ds.unusable = 1;
	memset(&s.es, 0, sizeof(s.es));
	s.es.present = 0;	/* not present: loaded as unusable too */
	KHV_OK(khv_vcpu_set_sregs(&t.vcpu, &s));

	/* vmx_cr reads and writes control registers: runs with null DS/ES. */
	start_at(&t, GPA(vmx_cr), (const uint64_t[]){ 3 }, 1);
	echo(&t);
	expect_fault(&t, "MOV CR4 with VMXE", 13, 0, GPA(cr4_vmxe_insn));
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	EXPECT_VAL("DS.unusable", 1, s.ds.unusable);
	EXPECT_VAL("DS.present", 0, s.ds.present);
	EXPECT_VAL("ES.unusable", 1, s.es.unusable);
	EXPECT_VAL("CS.unusable", 0, s.cs.unusable);
	EXPECT_VAL("SS.unusable", 0, s.ss.unusable);
	khvt_destroy(&t);
}

TEST(mode_switch)
{
	struct khv_sregs s;
	struct khv_regs r;
	struct khvt_vm t;
	uint32_t cr0;

	/* KHVT_LONG lays out the GDT and the page tables; the vCPU starts real. */
	VMX_VM(&t, KHVT_LONG, vmx_switch);
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	khv_sregs_real_mode(&s, 0);
	s.idt.limit = 0x3ff;
	s.tr.type = 3;		/* busy 16-bit TSS, as at RESET */
	KHV_OK(khv_vcpu_set_sregs(&t.vcpu, &s));
	KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
	r.rip = GUEST_CODE;
	r.rsp = GUEST_STACK_TOP;
	KHV_OK(khv_vcpu_set_regs(&t.vcpu, &r));

	EXPECT_VAL("EFER after CR0.PG with LME", EFER_LME | EFER_LMA, echo(&t) & 0xffff);
	cr0 = echo(&t);
	EXPECT_VAL("CR0.PE|PG in 64-bit mode", CR0_PE | CR0_PG, cr0 & (CR0_PE | CR0_PG));
	EXPECT_NE(0u, echo(&t)) TH_LOG("RIP-relative LEA in 64-bit code");
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	EXPECT_VAL("TR.type in IA-32e mode (64-bit busy TSS)", 11, s.tr.type);
	EXPECT_VAL("EFER after leaving IA-32e mode", EFER_LME, echo(&t) & 0xffff);
	cr0 = echo(&t);
	EXPECT_VAL("CR0.PG after leaving IA-32e mode", 0, cr0 & CR0_PG);
	expect_hlt(&t, PAYLOAD_GPA(vmx_switch, sw_done));
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	EXPECT_VAL("sregs EFER", EFER_LME, s.efer);
	EXPECT_VAL("sregs CR0.PE|PG", CR0_PE, s.cr0 & (CR0_PE | CR0_PG));
	EXPECT_VAL("CS.selector", SEL_CODE32, s.cs.selector);
	khvt_destroy(&t);
}

#define PAE_PDPT	(GUEST_DATA + 0x1000)	/* 32-byte aligned */
#define PAE_PROBE	0x150000

TEST(pae_paging)
{
	const uint32_t vals[3] = { 0x11111111, 0x22222222, 0x33333333 };
	uint64_t lm_pdpte, pdpte;
	struct khv_sregs s;
	struct khvt_vm t;
	int i;

	/* KHVT_LONG builds the identity map: its PDs serve PAE paging as well. */
	VMX_VM(&t, KHVT_LONG, vmx_pae);
	for (i = 0; i < 4; i++) {
		/* PAE PDPTEs have no RW/US/A: only P and the PD's address. */
		memcpy(&lm_pdpte, khvt_gpa(&t, GUEST_PT + 0x1000 + 8 * i), 8);
		pdpte = (lm_pdpte & ~0xfffull) | 1;
		memcpy(khvt_gpa(&t, PAE_PDPT + 8 * i), &pdpte, 8);
	}
	memcpy(khvt_gpa(&t, PAE_PROBE), vals, sizeof(vals));

	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	khv_sregs_protected_flat(&s);
	s.cs.selector = SEL_CODE32;
	s.ds.selector = s.es.selector = s.ss.selector = SEL_DATA;
	s.fs.selector = s.gs.selector = SEL_DATA;
	s.gdt.base = GUEST_GDT;
	s.gdt.limit = 4 * 8 - 1;
	s.cr0 |= CR0_PG;
	s.cr3 = PAE_PDPT;
	s.cr4 |= CR4_PAE;
	KHV_OK(khv_vcpu_set_sregs(&t.vcpu, &s));

	EXPECT_VAL("load through PAE paging set by KHV_SET_SREGS", vals[0], echo(&t));
	EXPECT_VAL("load after paging off and on", vals[1], echo(&t));
	EXPECT_VAL("load after MOV to CR3", vals[2], echo(&t));
	expect_hlt(&t, PAYLOAD_GPA(vmx_pae, pae_done));
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	EXPECT_VAL("CR0.PG", CR0_PG, s.cr0 & CR0_PG);
	EXPECT_VAL("EFER.LMA", 0, s.efer & EFER_LMA);
	khvt_destroy(&t);
}

TEST(control_registers)
{
	struct khv_sregs s;
	struct khvt_vm t;
	uint32_t cr4, cr0;

	VMX_VM(&t, KHVT_LONG, vmx_long);
	setup_long(_metadata, &t);
	start_at(&t, GPA(vmx_cr), (const uint64_t[]){ 9 }, 1);

	cr4 = echo(&t);
	EXPECT_EQ(0u, cr4 & CR4_VMXE) TH_LOG("guest CR4 %#x shows VMXE", cr4);
	expect_fault(&t, "MOV CR4 with VMXE", 13, 0, GPA(cr4_vmxe_insn));
	EXPECT_VAL("CR4 after the refused write", cr4, echo(&t));
	cr0 = echo(&t);
	EXPECT_VAL("CR0.CD|NW as written", CR0_CD | CR0_NW, cr0 & (CR0_CD | CR0_NW));
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	EXPECT_VAL("sregs CR0.CD|NW", CR0_CD | CR0_NW, s.cr0 & (CR0_CD | CR0_NW));
	EXPECT_VAL("sregs CR4.VMXE", 0, s.cr4 & CR4_VMXE);
	cr0 = echo(&t);
	EXPECT_VAL("CR0.CD|NW cleared", 0, cr0 & (CR0_CD | CR0_NW));
	EXPECT_VAL("CR8", 9, echo(&t));
	expect_fault(&t, "MOV CR8 with bit 4", 13, 0, GPA(cr8_high_insn));
	EXPECT_VAL("CR8 after the refused write", 9, echo(&t));
	expect_hlt(&t, GPA(vmx_done));
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	EXPECT_VAL("sregs CR8", 9, s.cr8);
	khvt_destroy(&t);
}

TEST(vmx_insns_ud)
{
	struct khvt_vm t;

	VMX_VM(&t, KHVT_LONG, vmx_long);
	setup_long(_metadata, &t);
	start_at(&t, GPA(vmx_insns), NULL, 0);
	expect_fault(&t, "VMXON", 6, 0, GPA(vmxon_insn));
	expect_fault(&t, "VMPTRLD", 6, 0, GPA(vmptrld_insn));
	expect_fault(&t, "VMCLEAR", 6, 0, GPA(vmclear_insn));
	expect_fault(&t, "VMREAD", 6, 0, GPA(vmread_insn));
	expect_fault(&t, "VMWRITE", 6, 0, GPA(vmwrite_insn));
	expect_fault(&t, "VMLAUNCH", 6, 0, GPA(vmlaunch_insn));
	expect_fault(&t, "VMRESUME", 6, 0, GPA(vmresume_insn));
	expect_fault(&t, "VMXOFF", 6, 0, GPA(vmxoff_insn));
	expect_fault(&t, "INVEPT", 6, 0, GPA(invept_insn));
	expect_fault(&t, "INVVPID", 6, 0, GPA(invvpid_insn));
	expect_hlt(&t, GPA(vmx_done));
	khvt_destroy(&t);
}

TEST(dr_emulation)
{
	const uint64_t in[] = { 0x00007fffdead0000ull, 0x00000000000f0402ull };
	struct khvt_vm t;

	VMX_VM(&t, KHVT_LONG, vmx_long);
	setup_long(_metadata, &t);
	start_at(&t, GPA(vmx_dr), in, ARRAY_SIZE(in));

	EXPECT_VAL("DR6 at reset", DR6_INIT, echo(&t));
	EXPECT_VAL("DR7 at reset", DR7_INIT, echo(&t));
	EXPECT_VAL("DR0 low", (uint32_t)in[0], echo(&t));
	EXPECT_VAL("DR0 high", in[0] >> 32, echo(&t));
	EXPECT_VAL("DR7", in[1], echo(&t));
	EXPECT_VAL("DR6 after writing 0", DR6_INIT, echo(&t));
	khvt_step = "MOV from DR0 with DR7.GD set";
	EXPECT_VAL("vector", 1, echo(&t));
	EXPECT_VAL("DR6 in the #DB handler (BD set)", DR6_INIT | DR6_BD, echo(&t));
	EXPECT_VAL("DR7 in the #DB handler (GD clear)", DR7_INIT, echo(&t));
	EXPECT_VAL("#DB RIP: the MOV DR (a fault)", (uint32_t)GPA(gd_insn), echo(&t));
	khvt_step = NULL;
	EXPECT_VAL("DR0 read again", (uint32_t)in[0], echo(&t));
	EXPECT_VAL("DR7 after the #DB", DR7_INIT, echo(&t));
	expect_hlt(&t, GPA(vmx_done));
	khvt_destroy(&t);
}

TEST(nmi_masking)
{
	uint32_t rip, spins;
	struct khvt_vm t;

	VMX_VM(&t, KHVT_LONG, vmx_long);
	setup_long(_metadata, &t);
	start_at(&t, GPA(vmx_nmi), NULL, 0);

	EXPECT_VAL("mark before the first NMI", 1, expect_out(&t, PORT_MARK, 4));
	KHV_OK(khv_vcpu_inject_nmi(&t.vcpu));
	khvt_step = "first NMI";
	ASSERT_VAL("NMI handler entered (count)", 1, echo(&t));
	KHV_OK(khv_vcpu_inject_nmi(&t.vcpu));
	khvt_step = "second NMI injected inside the first handler";
	EXPECT_VAL("RIP interrupted by the first NMI", (uint32_t)GPA(nmi_resume), echo(&t));
	ASSERT_VAL("end of the first handler (not 0x102: no nesting)", 0x101, echo(&t));
	khvt_step = "second NMI, after the first handler's IRET";
	ASSERT_VAL("NMI handler entered (count)", 2, echo(&t));
	/* As on hardware, a held NMI may come right at the IRET's target. */
	rip = echo(&t);
	EXPECT_TRUE(rip >= (uint32_t)GPA(nmi_resume) && rip <= (uint32_t)GPA(nmi_spin_end))
		TH_LOG("second NMI interrupted RIP %#x, not the code after the IRET [%#x, %#x]",
		       rip, (uint32_t)GPA(nmi_resume), (uint32_t)GPA(nmi_spin_end));
	EXPECT_VAL("end of the second handler", 0x102, echo(&t));
	spins = echo(&t);
	khvt_step = NULL;
	TH_LOG("the second NMI came after %u iterations of the loop after the IRET", spins);
	expect_hlt(&t, GPA(vmx_done));
	khvt_destroy(&t);
}

TEST(exit_stat_names)
{
	struct khv_exit_stat s[KHV_MAX_EXIT_STATS + KHV_EXIT_MAX + KHV_KSTAT_MAX];
	bool cpuid = false, hlt = false;
	uint32_t n, i, r[4];
	struct khvt_vm t;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, server64);
	if (t.vendor != KHV_VENDOR_INTEL) {
		khvt_destroy(&t);
		SKIP(return, "not Intel");
	}
	srv_cpuid(&t, 0, 0, r);
	srv_halt(&t);
	KHV_OK(khv_vcpu_get_exit_stats(&t.vcpu, s, ARRAY_SIZE(s), &n));
	for (i = 0; i < n; i++) {
		if (s[i].kind != KHV_STAT_HW)
			continue;
		EXPECT_EQ(0, strncmp(s[i].name, "vmx_", 4)) TH_LOG("counter \"%.32s\"", s[i].name);
		if (!strcmp(s[i].name, "vmx_cpuid")) {
			cpuid = true;
			EXPECT_EQ((uint32_t)VMX_EXIT_CPUID, s[i].code);
		}
		if (!strcmp(s[i].name, "vmx_hlt")) {
			hlt = true;
			EXPECT_EQ((uint32_t)VMX_EXIT_HLT, s[i].code);
		}
	}
	EXPECT_TRUE(cpuid) TH_LOG("no vmx_cpuid counter");
	EXPECT_TRUE(hlt) TH_LOG("no vmx_hlt counter");
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
