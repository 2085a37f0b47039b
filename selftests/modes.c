// SPDX-License-Identifier: GPL-2.0
/*
 * modes: a real-mode, a flat 32-bit protected-mode and a 64-bit long-mode
 * guest (modes_guest.S) each compute a value, report it out a port and halt;
 * the registers, system registers and memory they leave are checked.
 */
#include <cpuid.h>

#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(modes_real);
KHVT_DECLARE_PAYLOAD(modes_prot32);
KHVT_DECLARE_PAYLOAD(modes_long);
extern const uint8_t modes_real_after_hlt[], modes_prot32_after_hlt[], modes_long_after_hlt[];

#define CR0_PE		(1ull << 0)
#define CR0_PG		(1ull << 31)
#define CR4_PAE		(1ull << 5)
#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)

TEST(real_mode)
{
	struct khvt_vm t;
	struct khv_sregs s;
	struct khv_regs r;
	uint16_t stored;

	VM_WITH_PAYLOAD(&t, KHVT_REAL, modes_real);

	EXPECT_VAL("sum 1..100 (OUT 2 bytes)", 5050, expect_out(&t, PORT_ECHO, 2));
	EXPECT_VAL("12 * 12 through CALL", 144, expect_out(&t, PORT_ECHO, 2));
	expect_hlt(&t, PAYLOAD_GPA(modes_real, modes_real_after_hlt));

	KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
	EXPECT_VAL("AX", 5050, r.rax & 0xffff);
	EXPECT_VAL("BX", 0x1234, r.rbx & 0xffff);
	EXPECT_VAL("DX (pushed BX)", 0x1234, r.rdx & 0xffff);
	EXPECT_VAL("SI", 0xbeef, r.rsi & 0xffff);
	EXPECT_VAL("DI", 0x4321, r.rdi & 0xffff);
	EXPECT_VAL("SP (balanced stack)", GUEST_STACK_TOP, r.rsp & 0xffff);

	memcpy(&stored, khvt_gpa(&t, GUEST_DATA), 2);
	EXPECT_VAL("word at ES:0 with ES = GUEST_DATA >> 4", 0x5a5a, stored);

	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	EXPECT_VAL("CR0.PE", 0, s.cr0 & CR0_PE);
	EXPECT_VAL("ES.base after reload with 0", 0, s.es.base);
	EXPECT_VAL("EFER.LMA", 0, s.efer & EFER_LMA);
	khvt_destroy(&t);
}

/*
 * EFER.LME with paging off is legal (long mode is not active until CR0.PG
 * is set) and changes nothing for real-mode code.  QEMU 7.2's nested SVM
 * cannot take a #VMEXIT from this state: do_vmexit loads the host's CR0
 * while EFER and CR4 are still the guest's, cpu_x86_update_cr0 sees "paging
 * on with LME set and PAE clear" and returns without loading it, and the
 * test machine's CPU goes on with paging off and GIF clear: wedged for
 * good (testing.rst, "Emulator gaps").  Bochs and hardware run it.
 */
/* The real-mode program with EFER.LME set and extra CR4 bits. */
static void real_mode_lme(KHVT_MD, uint64_t cr4)
{
	struct khvt_vm t;
	struct khv_sregs s;

	VM_WITH_PAYLOAD(&t, KHVT_REAL, modes_real);
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	s.efer |= EFER_LME;
	s.cr4 |= cr4;
	KHV_OK(khv_vcpu_set_sregs(&t.vcpu, &s));

	EXPECT_VAL("sum 1..100 (OUT 2 bytes)", 5050, expect_out(&t, PORT_ECHO, 2));
	EXPECT_VAL("12 * 12 through CALL", 144, expect_out(&t, PORT_ECHO, 2));
	expect_hlt(&t, PAYLOAD_GPA(modes_real, modes_real_after_hlt));

	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	EXPECT_VAL("EFER.LME|LMA", EFER_LME, s.efer & (EFER_LME | EFER_LMA));
	EXPECT_VAL("CR0.PE|PG", 0, s.cr0 & (CR0_PE | CR0_PG));
	EXPECT_VAL("CR4.PAE", cr4 & CR4_PAE, s.cr4 & CR4_PAE);
	khvt_destroy(&t);
}

TEST(real_mode_with_lme)
{
	if (khvt_under_tcg() && !getenv("KHVT_TCG_WEDGE"))
		SKIP(return, "QEMU TCG: a #VMEXIT with LME set and PG, PAE clear wedges the test machine");
	real_mode_lme(_metadata, 0);
}

/* The same with CR4.PAE set: QEMU loads the host's CR0 then; runs everywhere. */
TEST(real_mode_with_lme_pae)
{
	real_mode_lme(_metadata, CR4_PAE);
}

TEST(protected_mode_32)
{
	struct khvt_vm t;
	struct khv_sregs s;
	struct khv_regs r;
	uint32_t stored;

	VM_WITH_PAYLOAD(&t, KHVT_PROT32, modes_prot32);

	EXPECT_VAL("10! (OUT 4 bytes)", 3628800, expect_out(&t, PORT_ECHO, 4));
	expect_hlt(&t, PAYLOAD_GPA(modes_prot32, modes_prot32_after_hlt));

	KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
	EXPECT_VAL("EAX", 3628800, r.rax & 0xffffffff);
	EXPECT_VAL("EBX (load from 0x150000)", 0xcafebabe, r.rbx & 0xffffffff);
	EXPECT_VAL("ESI (pushed EBX)", 0xcafebabe, r.rsi & 0xffffffff);
	EXPECT_VAL("EDI", 0x600d600d, r.rdi & 0xffffffff);
	EXPECT_VAL("ECX (LOOP count)", 0, r.rcx & 0xffffffff);
	EXPECT_VAL("ESP (balanced stack)", GUEST_STACK_TOP, r.rsp & 0xffffffff);

	memcpy(&stored, khvt_gpa(&t, 0x150000), 4);
	EXPECT_VAL("dword at 0x150000", 0xcafebabe, stored);

	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	EXPECT_VAL("CR0.PE", CR0_PE, s.cr0 & CR0_PE);
	EXPECT_VAL("CR0.PG", 0, s.cr0 & CR0_PG);
	EXPECT_VAL("CS.db", 1, s.cs.db);
	EXPECT_VAL("CS.selector", SEL_CODE32, s.cs.selector);
	EXPECT_VAL("EFER.LMA", 0, s.efer & EFER_LMA);
	khvt_destroy(&t);
}

TEST(long_mode_64)
{
	const uint64_t fib90 = 2880067194370816120ull;
	struct khvt_vm t;
	struct khv_sregs s;
	struct khv_regs r;
	uint64_t stored;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, modes_long);

	EXPECT_VAL("fib(90) (two OUTs)", fib90, expect_out64(&t, PORT_ECHO));
	expect_hlt(&t, PAYLOAD_GPA(modes_long, modes_long_after_hlt));

	KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
	EXPECT_VAL("RAX", fib90, r.rax);
	EXPECT_VAL("R15", fib90, r.r15);
	EXPECT_VAL("R8", 0x0123456789abcdefull, r.r8);
	EXPECT_VAL("R9 (load from 0x1f0000)", 0x0123456789abcdefull, r.r9);
	EXPECT_VAL("R10 (pushed R9)", 0x0123456789abcdefull, r.r10);
	EXPECT_VAL("RSP (balanced stack)", GUEST_STACK_TOP, r.rsp);

	memcpy(&stored, khvt_gpa(&t, 0x1f0000), 8);
	EXPECT_VAL("qword at 0x1f0000", 0x0123456789abcdefull, stored);

	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	EXPECT_VAL("CR0.PE|PG", CR0_PE | CR0_PG, s.cr0 & (CR0_PE | CR0_PG));
	EXPECT_VAL("CR4.PAE", CR4_PAE, s.cr4 & CR4_PAE);
	EXPECT_VAL("EFER.LME|LMA", EFER_LME | EFER_LMA, s.efer & (EFER_LME | EFER_LMA));
	EXPECT_VAL("CR3", GUEST_PT, s.cr3 & ~0xfffull);
	EXPECT_VAL("CS.l", 1, s.cs.l);
	khvt_destroy(&t);
}

/*
 * VMRUN and VM entry refuse a long-mode CR3 with a bit at or above the
 * CPU's MAXPHYADDR: KHV_SET_SREGS must say EINVAL rather than leave it to
 * a failed entry (on QEMU, MAXPHYADDR is 40 to 52, well below bit 52).
 */
TEST(long_mode_cr3_above_maxphyaddr)
{
	unsigned int eax = 0, ebx, ecx, edx, maxphy;
	struct khvt_vm t;
	struct khv_sregs s, bad;

	ASSERT_TRUE(__get_cpuid(0x80000008, &eax, &ebx, &ecx, &edx));
	maxphy = eax & 0xff;
	VM_WITH_PAYLOAD(&t, KHVT_LONG, modes_long);
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	if (maxphy < 52) {
		bad = s;
		bad.cr3 |= 1ull << maxphy;
		EXPECT_VAL("SET_SREGS, CR3 bit MAXPHYADDR", -EINVAL,
			   khv_vcpu_set_sregs(&t.vcpu, &bad));
	}
	bad = s;
	bad.cr3 |= 1ull << 63;
	EXPECT_VAL("SET_SREGS, CR3 bit 63", -EINVAL, khv_vcpu_set_sregs(&t.vcpu, &bad));
	bad = s;
	bad.cr3 |= 1ull << (maxphy - 1);
	EXPECT_VAL("SET_SREGS, CR3 bit MAXPHYADDR - 1", 0, khv_vcpu_set_sregs(&t.vcpu, &bad));
	KHV_OK(khv_vcpu_set_sregs(&t.vcpu, &s));

	EXPECT_VAL("fib(90) (two OUTs)", 2880067194370816120ull, expect_out64(&t, PORT_ECHO));
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
