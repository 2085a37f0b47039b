// SPDX-License-Identifier: GPL-2.0
/*
 * hypercall: VMMCALL (AMD) / VMCALL (Intel) exits as KHV_EXIT_HYPERCALL with
 * nr = RAX and args = RBX RCX RDX RSI RDI R8; run->hypercall.ret written by
 * the test reaches the guest in RAX, and the guest resumes after the
 * instruction with its other registers intact.
 */
#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(hypercall_amd);
KHVT_DECLARE_PAYLOAD(hypercall_intel);
extern const uint8_t hypercall_amd_done[], hypercall_intel_done[];

static void expect_hypercall(KHVT_MD, struct khvt_vm *t, uint64_t nr, const uint64_t args[6],
			     uint64_t ret)
{
	struct khv_run *run = t->vcpu.run;
	char name[32];
	int i;

	expect_exit(t, KHV_EXIT_HYPERCALL);
	EXPECT_VAL("hypercall nr (RAX)", nr, run->hypercall.nr);
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "hypercall args[%d]", i);
		EXPECT_VAL(name, args[i], run->hypercall.args[i]);
	}
	run->hypercall.ret = ret;
}

TEST(hypercall)
{
	static const uint64_t args1[6] = {
		0x1111111111111111ull, 0x2222222222222222ull, 0x3333333333333333ull,
		0x4444444444444444ull, 0x5555555555555555ull, 0x6666666666666666ull,
	};
	static const uint64_t args2[6] = { 0xa, 0xb, 0xc, 0xd, 0xe, 0xf };
	const uint64_t ret1 = 0x8877665544332211ull, ret2 = 0xfffffffffffffff2ull;
	struct khvt_vm t;
	struct khv_regs r;
	struct khv_sys sys;
	uint64_t done;
	int vendor, ret;

	ret = khv_open(&sys, NULL);
	if (khvt_no_device(ret))
		SKIP(return, "no khv device: %s", strerror(-ret));
	KHV_OK(ret);
	vendor = khv_check_extension(&sys, KHV_CAP_VENDOR);
	if (khv_check_extension(&sys, KHV_CAP_HYPERCALL) <= 0)
		SKIP(return, "KHV_CAP_HYPERCALL not reported");
	khv_close(&sys);

	if (vendor == KHV_VENDOR_INTEL) {
		VM_WITH_PAYLOAD(&t, KHVT_LONG, hypercall_intel);
		done = PAYLOAD_GPA(hypercall_intel, hypercall_intel_done);
	} else {
		ASSERT_EQ(KHV_VENDOR_AMD, vendor);
		VM_WITH_PAYLOAD(&t, KHVT_LONG, hypercall_amd);
		done = PAYLOAD_GPA(hypercall_amd, hypercall_amd_done);
	}
	TH_LOG("vendor %s: %s", vendor == KHV_VENDOR_INTEL ? "Intel" : "AMD",
	       vendor == KHV_VENDOR_INTEL ? "VMCALL" : "VMMCALL");

	expect_hypercall(_metadata, &t, 0x4b48560000000001ull, args1, ret1);
	EXPECT_VAL("RAX in the guest after the first hypercall", ret1,
		   expect_out64(&t, PORT_ECHO));
	expect_hypercall(_metadata, &t, 2, args2, ret2);
	EXPECT_VAL("RAX in the guest after the second hypercall", ret2,
		   expect_out64(&t, PORT_ECHO));
	expect_hlt(&t, done);

	KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
	EXPECT_VAL("RAX", ret2, r.rax);
	EXPECT_VAL("R15 (first result)", ret1, r.r15);
	EXPECT_VAL("RBX", 0xa, r.rbx);
	EXPECT_VAL("RCX", 0xb, r.rcx);
	EXPECT_VAL("RDX", 0xc, r.rdx);
	EXPECT_VAL("RSI", 0xd, r.rsi);
	EXPECT_VAL("RDI", 0xe, r.rdi);
	EXPECT_VAL("R8", 0xf, r.r8);
	EXPECT_VAL("R9 (not an argument)", 0x7777777777777777ull, r.r9);
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
