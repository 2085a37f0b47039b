// SPDX-License-Identifier: GPL-2.0
/*
 * svm: guest-visible behaviour the AMD backend provides itself (svm_guest.S).
 *
 *  - dr_emulation: every MOV DR exits and is emulated.  DR6/DR7 reset values,
 *    DR0-DR3 round trips of 64-bit values, DR6/DR7 writable bits and fixed
 *    bits, DR4/DR5 as aliases of DR6/DR7 while CR4.DE = 0 and #UD with
 *    CR4.DE = 1, #GP(0) for DR7 bits 63:32 and for a non-canonical DR0
 *    (khv loads DR0-DR3 into the hardware), a refused write changes nothing.
 *  - dr7_general_detect: with DR7.GD, a MOV DR raises #DB as a fault with
 *    DR6.BD set and DR7.GD clear in the handler; the MOV then runs.
 *  - rdpmc_gp: RDPMC is #GP(0) (no counter is offered).
 *  - efer_svme_gp: WRMSR of EFER with SVME set is #GP(0), EFER unchanged.
 *  - svm_insns_ud: VMRUN, VMLOAD, VMSAVE, STGI, CLGI, SKINIT, INVLPGA are
 *    #UD (no nested virtualization).
 *  - nmi_masking: an NMI injected while the guest's NMI handler runs is
 *    held until that handler's IRET has executed, then delivered right
 *    after it (SVM has no NMI window: khv single-steps that IRET), with no
 *    trace of the step in the guest's DR6 or RFLAGS.
 *  - nmi_iret_guest_tf: the same with the guest's own TF set for that IRET:
 *    its single-step #DB (DR6.BS) is delivered, and the NMI due at the same
 *    boundary interrupts the #DB handler before its first instruction.
 * Every fault is checked for vector, error code and faulting RIP.
 * Skipped unless KHV_CAP_VENDOR is AMD.
 */
#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(svm_long);
extern const uint8_t svm_dr[], svm_gd[], svm_rdpmc[], svm_efer[], svm_insns[], svm_nmi[];
extern const uint8_t svm_done[], ev_nmi[], ev_db[], ev_ud[], ev_gp[], svm_nmi_tf[];
extern const uint8_t dr7_high_insn[], dr0_noncanon_insn[], dr4_de_insn[], dr5_de_insn[];
extern const uint8_t gd_insn[], rdpmc_insn[], efer_insn[];
extern const uint8_t vmrun_insn[], vmload_insn[], vmsave_insn[], stgi_insn[], clgi_insn[],
	skinit_insn[], invlpga_insn[];
extern const uint8_t nmi_resume[], nmi_spin[], nmi_spin_end[], nmi_tf_resume[];

#define GPA(sym)	PAYLOAD_GPA(svm_long, sym)

#define DR6_INIT	0xffff0ff0ull
#define DR6_ALL_SET	0xffffefffull	/* DR6 after writing 0xffffffff */
#define DR6_BD		(1ull << 13)
#define DR6_BS		(1ull << 14)
#define RFLAGS_TF	(1ull << 8)
/* Loop iterations between the IRET and the second NMI that still count as prompt. */
#define NMI_PROMPT_SPINS	100u
#define DR7_INIT	0x400ull
#define DR7_GD		(1ull << 13)
#define EFER_SVME	(1ull << 12)
#define EFER_LMA	(1ull << 10)

/* The guest parts this test uses, in an AMD long-mode VM; skip elsewhere. */
#define SVM_VM(t) do {								\
	VM_WITH_PAYLOAD((t), KHVT_LONG, svm_long);				\
	if ((t)->vendor != KHV_VENDOR_AMD) {					\
		int __v = (t)->vendor;						\
		khvt_destroy(t);						\
		SKIP(return, "KHV_CAP_VENDOR is %d, not AMD", __v);		\
	}									\
	setup(_metadata, (t));							\
} while (0)

static void setup(KHVT_MD, struct khvt_vm *t)
{
	KHV_OK(khvt_set_gate(t, 1, GPA(ev_db)));
	KHV_OK(khvt_set_gate(t, 2, GPA(ev_nmi)));
	KHV_OK(khvt_set_gate(t, 6, GPA(ev_ud)));
	KHV_OK(khvt_set_gate(t, 13, GPA(ev_gp)));
}

#define echo(t)		expect_out((t), PORT_ECHO, 4)
#define echo64(t)	expect_out64((t), PORT_ECHO)

TEST(dr_emulation)
{
	const uint64_t in[] = {
		0x000000123456789aull,		/* DR0 */
		0xffff800000001000ull,		/* DR1, canonical upper half */
		0x00007ffffffff000ull,		/* DR2 */
		0x0000000000000001ull,		/* DR3 */
		0x00000000ffff0401ull,		/* DR7: every R/W and LEN bit, L0 */
		0x0000000100000400ull,		/* DR7 with bit 32: #GP */
		0x8000000000000000ull,		/* DR0 non-canonical (also with LA57): #GP */
	};
	struct khvt_vm t;

	SVM_VM(&t);
	start_at(&t, GPA(svm_dr), in, ARRAY_SIZE(in));

	EXPECT_VAL("DR6 at reset", DR6_INIT, echo(&t));
	EXPECT_VAL("DR7 at reset", DR7_INIT, echo(&t));
	EXPECT_VAL("DR0", in[0], echo64(&t));
	EXPECT_VAL("DR1", in[1], echo64(&t));
	EXPECT_VAL("DR2", in[2], echo64(&t));
	EXPECT_VAL("DR3", in[3], echo64(&t));
	EXPECT_VAL("DR6 after writing 0", DR6_INIT, echo(&t));
	EXPECT_VAL("DR6 after writing 0xffffffff", DR6_ALL_SET, echo(&t));
	EXPECT_VAL("DR7", in[4], echo64(&t));
	EXPECT_VAL("DR4 (DR6 alias, CR4.DE=0)", DR6_ALL_SET, echo(&t));
	EXPECT_VAL("DR5 (DR7 alias, CR4.DE=0)", in[4], echo(&t));
	EXPECT_VAL("DR7 written through DR5", DR7_INIT, echo(&t));
	EXPECT_VAL("DR6 written through DR4", DR6_INIT, echo(&t));
	expect_fault(&t, "MOV DR7 with bits 63:32 set", 13, 0, GPA(dr7_high_insn));
	expect_fault(&t, "MOV DR0 non-canonical", 13, 0, GPA(dr0_noncanon_insn));
	EXPECT_VAL("DR7 after the refused write", DR7_INIT, echo64(&t));
	EXPECT_VAL("DR0 after the refused write", in[0], echo64(&t));
	expect_fault(&t, "MOV from DR4 with CR4.DE=1", 6, 0, GPA(dr4_de_insn));
	expect_fault(&t, "MOV to DR5 with CR4.DE=1", 6, 0, GPA(dr5_de_insn));
	expect_hlt(&t, GPA(svm_done));
	khvt_destroy(&t);
}

TEST(dr7_general_detect)
{
	const uint64_t dr0 = 0x00000000cafe0000ull;
	struct khvt_vm t;

	SVM_VM(&t);
	start_at(&t, GPA(svm_gd), &dr0, 1);

	khvt_step = "MOV from DR0 with DR7.GD set";
	EXPECT_VAL("vector taken by the MOV DR under DR7.GD", 1, echo(&t));
	EXPECT_VAL("DR6 in the #DB handler (BD set)", DR6_INIT | DR6_BD, echo(&t));
	EXPECT_VAL("DR7 in the #DB handler (GD clear)", DR7_INIT, echo(&t));
	EXPECT_VAL("#DB RIP: the MOV DR (a fault)", (uint32_t)GPA(gd_insn), echo(&t));
	khvt_step = "the MOV DR, executed again after the #DB handler";
	EXPECT_VAL("DR0, read by the repeated MOV", dr0, echo64(&t));
	EXPECT_VAL("DR7 after the #DB", DR7_INIT, echo(&t));
	khvt_step = NULL;
	expect_hlt(&t, GPA(svm_done));
	khvt_destroy(&t);
}

TEST(rdpmc_gp)
{
	struct khvt_vm t;

	SVM_VM(&t);
	start_at(&t, GPA(svm_rdpmc), NULL, 0);
	expect_fault(&t, "RDPMC (ECX=0)", 13, 0, GPA(rdpmc_insn));
	expect_hlt(&t, GPA(svm_done));
	khvt_destroy(&t);
}

TEST(efer_svme_gp)
{
	struct khvt_vm t;
	uint32_t efer;

	SVM_VM(&t);
	start_at(&t, GPA(svm_efer), NULL, 0);
	expect_fault(&t, "WRMSR EFER with SVME set", 13, 0, GPA(efer_insn));
	efer = echo(&t);
	EXPECT_EQ(0u, efer & EFER_SVME) TH_LOG("guest EFER %#x after the refused write", efer);
	EXPECT_NE(0u, efer & EFER_LMA) TH_LOG("guest EFER %#x after the refused write", efer);
	expect_hlt(&t, GPA(svm_done));
	khvt_destroy(&t);
}

TEST(svm_insns_ud)
{
	struct khvt_vm t;

	SVM_VM(&t);
	start_at(&t, GPA(svm_insns), NULL, 0);
	expect_fault(&t, "VMRUN", 6, 0, GPA(vmrun_insn));
	expect_fault(&t, "VMLOAD", 6, 0, GPA(vmload_insn));
	expect_fault(&t, "VMSAVE", 6, 0, GPA(vmsave_insn));
	expect_fault(&t, "STGI", 6, 0, GPA(stgi_insn));
	expect_fault(&t, "CLGI", 6, 0, GPA(clgi_insn));
	expect_fault(&t, "SKINIT", 6, 0, GPA(skinit_insn));
	expect_fault(&t, "INVLPGA", 6, 0, GPA(invlpga_insn));
	expect_hlt(&t, GPA(svm_done));
	khvt_destroy(&t);
}

/*
 * The handler reports NMI number, interrupted RIP, NMI number + 0x100.  The
 * second NMI is injected while the first handler is stopped at its first
 * report: a nested delivery would show up as "2" where "0x101" is expected.
 * After the IRET the guest spins until the second NMI has come.  NMIs open
 * as the IRET completes, so the second NMI interrupts the IRET's return
 * address, the first instruction before the loop, not the IRET of the
 * first handler nor some later point of the loop (which is what waiting for
 * an unrelated exit, such as a host timer tick, gives).
 */
TEST(nmi_masking)
{
	uint32_t rip, spins;
	struct khvt_vm t;

	SVM_VM(&t);
	REQUIRE_CAP(&t, KHV_CAP_INJECT_EVENT);
	start_at(&t, GPA(svm_nmi), NULL, 0);

	EXPECT_VAL("mark before the first NMI", 1, expect_out(&t, PORT_MARK, 4));
	KHV_OK(khv_vcpu_inject_nmi(&t.vcpu));
	khvt_step = "first NMI";
	ASSERT_VAL("NMI handler entered (count)", 1, echo(&t));
	KHV_OK(khv_vcpu_inject_nmi(&t.vcpu));
	khvt_step = "second NMI injected inside the first handler";
	EXPECT_VAL("RIP interrupted by the first NMI", (uint32_t)GPA(nmi_resume), echo(&t));
	ASSERT_VAL("end of the first handler (2 here: the second NMI nested)", 0x101, echo(&t));
	khvt_step = "second NMI, after the first handler's IRET";
	ASSERT_VAL("NMI handler entered (count)", 2, echo(&t));
	rip = echo(&t);
	EXPECT_EQ((uint32_t)GPA(nmi_resume), rip)
		TH_LOG("second NMI interrupted RIP %#x, expected %#x (the first IRET's return address; the loop is [%#x, %#x])",
		       rip, (uint32_t)GPA(nmi_resume), (uint32_t)GPA(nmi_spin),
		       (uint32_t)GPA(nmi_spin_end));
	EXPECT_VAL("end of the second handler", 0x102, echo(&t));
	spins = echo(&t);
	khvt_step = NULL;
	TH_LOG("the second NMI came after %u iterations of the loop after the IRET", spins);
	EXPECT_LT(spins, NMI_PROMPT_SPINS)
		TH_LOG("the second NMI waited %u loop iterations after the IRET (limit %u)",
		       spins, NMI_PROMPT_SPINS);
	EXPECT_VAL("DR6 after the NMIs (no BS from khv's step)", DR6_INIT, echo(&t));
	EXPECT_VAL("RFLAGS.TF after the NMIs", 0, echo(&t) & RFLAGS_TF);
	expect_hlt(&t, GPA(svm_done));
	khvt_destroy(&t);
}

/*
 * As nmi_masking, but the first handler sets TF before its IRET (POPF, so
 * the trap follows the IRET).  After the IRET two events are due: the
 * single-step #DB (a trap, higher priority) and the second NMI, which is
 * then taken before the #DB handler's first instruction.
 */
TEST(nmi_iret_guest_tf)
{
	struct khvt_vm t;

	SVM_VM(&t);
	REQUIRE_CAP(&t, KHV_CAP_INJECT_EVENT);
	start_at(&t, GPA(svm_nmi_tf), NULL, 0);

	EXPECT_VAL("mark before the first NMI", 2, expect_out(&t, PORT_MARK, 4));
	KHV_OK(khv_vcpu_inject_nmi(&t.vcpu));
	khvt_step = "first NMI";
	ASSERT_VAL("NMI handler entered (count)", 1, echo(&t));
	KHV_OK(khv_vcpu_inject_nmi(&t.vcpu));
	khvt_step = "second NMI injected inside the first handler";
	EXPECT_VAL("RIP interrupted by the first NMI", (uint32_t)GPA(nmi_tf_resume), echo(&t));
	ASSERT_VAL("end of the first handler (2 here: the second NMI nested)", 0x101, echo(&t));
	khvt_step = "second NMI, due with the guest's #DB after the first handler's IRET";
	ASSERT_VAL("NMI handler entered (count; 1 here: the #DB handler ran first)", 2, echo(&t));
	EXPECT_VAL("RIP interrupted by the second NMI: the #DB handler's first instruction",
		   (uint32_t)GPA(ev_db), echo(&t));
	EXPECT_VAL("end of the second handler", 0x102, echo(&t));
	khvt_step = "the guest's single-step #DB after the first handler's IRET";
	ASSERT_VAL("vector taken after the IRET under the guest's TF", 1, echo(&t));
	EXPECT_VAL("DR6 in the #DB handler (BS set)", DR6_INIT | DR6_BS, echo(&t));
	EXPECT_VAL("DR7 in the #DB handler", DR7_INIT, echo(&t));
	EXPECT_VAL("#DB RIP: the IRET's return address (a trap)", (uint32_t)GPA(nmi_tf_resume),
		   echo(&t));
	khvt_step = NULL;
	EXPECT_VAL("DR6 after the #DB handler reset it", DR6_INIT, echo(&t));
	expect_hlt(&t, GPA(svm_done));
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
