// SPDX-License-Identifier: GPL-2.0
/*
 * hlt: HLT exits as KHV_EXIT_HLT with RIP already after the HLT; the next
 * KHV_RUN continues from there.  Real mode, and long mode with IF=1 and IF=0.
 */
#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(hlt_real);
KHVT_DECLARE_PAYLOAD(hlt_long);
extern const uint8_t hlt_real_after1[], hlt_real_after2[];
extern const uint8_t hlt_long_after1[], hlt_long_after2[];

#define RFLAGS_IF (1ull << 9)

TEST(real_mode)
{
	struct khvt_vm t;
	struct khv_regs r;

	VM_WITH_PAYLOAD(&t, KHVT_REAL, hlt_real);
	expect_hlt(&t, PAYLOAD_GPA(hlt_real, hlt_real_after1));
	KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
	EXPECT_VAL("AX at the first HLT", 0x1234, r.rax & 0xffff);
	EXPECT_VAL("OUT after the first HLT", 0x1234, expect_out(&t, PORT_ECHO, 2));
	expect_hlt(&t, PAYLOAD_GPA(hlt_real, hlt_real_after2));
	KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
	EXPECT_VAL("AX at the second HLT", 0x1235, r.rax & 0xffff);
	khvt_destroy(&t);
}

TEST(long_mode)
{
	struct khvt_vm t;
	struct khv_regs r;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, hlt_long);
	expect_hlt(&t, PAYLOAD_GPA(hlt_long, hlt_long_after1));
	KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
	EXPECT_VAL("RFLAGS.IF after STI; HLT", RFLAGS_IF, r.rflags & RFLAGS_IF);
	EXPECT_VAL("RAX", 0x123456789ull, r.rax);
	EXPECT_VAL("OUT after the first HLT", 0x23456789, expect_out(&t, PORT_ECHO, 4));
	expect_hlt(&t, PAYLOAD_GPA(hlt_long, hlt_long_after2));
	KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
	EXPECT_VAL("RFLAGS.IF after CLI; HLT", 0, r.rflags & RFLAGS_IF);
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
