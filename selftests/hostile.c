// SPDX-License-Identifier: GPL-2.0
/*
 * hostile: a guest that tries to reach host state or to leave state VM
 * entry refuses (hostile_guest.S).  Both vendors, long mode.
 *
 *  - cr4_bits_not_offered: MOV to CR4 setting VMXE, SMXE, PKE, CET, PKS or
 *    a reserved bit (31, 32, 63) is #GP(0) at the MOV, CR4 unchanged.
 *  - cr0_checks: MOV to CR0 with bit 32 set, with NW but not CD, and
 *    clearing PG in 64-bit mode is #GP(0), CR0 unchanged; setting TS works.
 *  - lmsw_clts: LMSW (register and memory forms) changes MP/EM/TS, sets but
 *    never clears PE; CLTS clears TS.
 *  - cr3_reserved: MOV to CR3 with bit 52 set (MBZ in long mode) is #GP(0).
 *  - pkru: with CR4.PKE refused, WRPKRU is #UD, and the VMM thread's own
 *    PKRU is the value it had before KHV_RUN (a guest value with
 *    access-disable on key 0 would kill the VMM at its next access).
 *  - ljmp_long_and_default: a far JMP to a code segment with L and D both
 *    set is #GP(selector).
 *  - page_tables_in_mmio, page_tables_read_only: a PML4 entry points at a
 *    PDPT in no slot, or in a read-only slot with its accessed bit clear;
 *    a load or a store through it ends in INTERNAL_ERROR (emulation) naming
 *    the table's address, not in an MMIO exit blamed on the instruction.
 *  - task_switch_jmp, task_switch_call, task_switch_gate, task_switch_iret:
 *    in 32-bit protected mode, a far JMP or CALL to a TSS, an INT through a
 *    task gate and an IRET with EFLAGS.NT would switch tasks.  khv does not emulate task switches: the VM
 *    must end in INTERNAL_ERROR (unhandled exit, the hardware's task-switch
 *    exit code), never hand the guest a fault hardware would not raise.
 *  - vmm_thread_state: the guest writes every piece of host state it can
 *    reach in guest mode (FS/GS bases, KERNEL_GS_BASE, SYSCALL/SYSENTER
 *    MSRs, TSC_AUX, SPEC_CTRL, MXCSR, x87 control word, XMM7, XCR0, PKRU, a
 *    breakpoint in DR0/DR7 on a VMM variable); after KHV_RUN the VMM thread
 *    has its own FS/GS bases, XCR0, MXCSR, FCW, XMM7, PKRU and TSC_AUX, takes
 *    no breakpoint, and its syscalls work (Documentation/khv/host-state.rst).
 *  - avx_mmio_fpu_state: the guest enables AVX itself (CR4.OSXSAVE, XSETBV),
 *    then runs AVX loads/stores and XSAVE on MMIO; whatever khv makes of
 *    each (#UD, an MMIO exit, an internal error the VMM steps over), the
 *    guest's YMM0 survives, KHV_GET_XSAVE returns it, and the host logs no
 *    warning (before the fix: "Bad FPU state detected" and a WARNING).
 *
 * QEMU's TCG does not fault on every case above (Documentation/khv/testing.rst,
 * "Emulator gaps"): where it lets the guest through, VMRUN then refuses the
 * state and khv must end the VM with FAIL_ENTRY, keeping the guest's state
 * (never the host's) for KHV_GET_SREGS; under TCG that outcome is accepted
 * and checked instead.  Every test also checks the kernel log.
 */
#include <asm/prctl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(hostile_long);
KHVT_DECLARE_PAYLOAD(hostile_prot32);
extern const uint8_t hostile_task_jmp[], hostile_task_call[], hostile_task_gate[], hostile_task_iret[],
	hostile_task_new[];
extern const uint8_t hostile_cr4[], hostile_cr0[], hostile_cr3[], hostile_lmsw[];
extern const uint8_t hostile_pkru[], hostile_ljmp[], hostile_ljmp_target[], hostile_avx[];
extern const uint8_t hostile_done[], hostile_state[], hostile_walk[], hostile_walk_store[];
extern const uint8_t ev_ud[], ev_gp[];
extern const uint8_t cr4_insn[], cr0_insn[], cr3_insn[], lmsw_insn[], lmsw_mem_insn[];
extern const uint8_t pke_insn[], wrpkru_insn[], ljmp_insn[];

#define GPA(sym)	PAYLOAD_GPA(hostile_long, sym)
#define echo(t)		expect_out((t), PORT_ECHO, 4)
#define echo64(t)	expect_out64((t), PORT_ECHO)

#define CR0_PE		(1ull << 0)
#define CR0_MP		(1ull << 1)
#define CR0_EM		(1ull << 2)
#define CR0_TS		(1ull << 3)
#define CR0_NW		(1ull << 29)
#define CR0_CD		(1ull << 30)
#define CR0_PG		(1ull << 31)
#define CR4_VMXE	(1ull << 13)
#define CR4_SMXE	(1ull << 14)
#define CR4_PKE		(1ull << 22)
#define CR4_CET		(1ull << 23)
#define CR4_PKS		(1ull << 24)

/* A VM with the payload, the #UD/#GP reporters and the kernel log watched. */
#define HOSTILE_VM(t, kmsg) do {						\
	VM_WITH_PAYLOAD((t), KHVT_LONG, hostile_long);				\
	KHV_OK(khvt_set_gate((t), 6, GPA(ev_ud)));				\
	KHV_OK(khvt_set_gate((t), 13, GPA(ev_gp)));				\
	(kmsg) = khvt_kmsg_open();						\
} while (0)

static void __expect_quiet_log(KHVT_MD, int line, int kmsg)
{
	char first[256];
	int n;

	if (kmsg < 0) {
		TH_LOG("line %d: /dev/kmsg not readable (%s): kernel log not checked", line,
		       strerror(-kmsg));
		return;
	}
	n = khvt_kmsg_problems(kmsg, first, sizeof(first));
	close(kmsg);
	if (n)
		KHVT_FAIL("line %d: the host logged %d problem record(s), the first: %s", line, n,
			  first);
}
#define expect_quiet_log(kmsg) __expect_quiet_log(_metadata, __LINE__, (kmsg))

static uint64_t get_cr(KHVT_MD, struct khvt_vm *t, int cr)
{
	struct khv_sregs s;

	memset(&s, 0, sizeof(s));
	KHV_OK(khv_vcpu_get_sregs(&t->vcpu, &s));
	return cr == 0 ? s.cr0 : cr == 3 ? s.cr3 : s.cr4;
}

/*
 * Under QEMU's TCG only: the guest got through where hardware faults, and
 * VMRUN refused the state.  The VM ends with FAIL_ENTRY, keeps failing
 * (no wedge, no stale exit), and KHV_GET_SREGS shows the guest's state:
 * its GDT and CR3, never the host's.
 */
static void __expect_tcg_fail_entry(KHVT_MD, int line, struct khvt_vm *t, uint64_t cr3,
				    bool failed)
{
	struct khv_sregs s;
	int i;

	if (!khvt_under_tcg())
		KHVT_FAIL("line %d: the guest was let through, and this is not QEMU's TCG", line);
	for (i = failed; i < 2; i++) {
		__expect_exit(_metadata, line, t, KHV_EXIT_FAIL_ENTRY);
		EXPECT_EQ(~0ull, t->vcpu.run->fail_entry.hardware_entry_failure_reason);
	}
	KHV_OK(khv_vcpu_get_sregs(&t->vcpu, &s));
	EXPECT_EQ((uint64_t)GUEST_GDT, s.gdt.base) TH_LOG("GDTR base after a failed entry");
	EXPECT_EQ(cr3, s.cr3 & ~(1ull << 52)) TH_LOG("CR3 after a failed entry");
	EXPECT_EQ(0ull, s.efer & (1ull << 12)) TH_LOG("EFER.SVME visible to userspace");
	TH_LOG("line %d: QEMU TCG let the guest through; khv ended the VM with FAIL_ENTRY", line);
}
#define expect_tcg_fail_entry(t, cr3, failed) \
	__expect_tcg_fail_entry(_metadata, __LINE__, (t), (cr3), (failed))

/* Not a value the guest echoes: the first exit was FAIL_ENTRY. */
#define FAILED_ENTRY	0xfa11u

/* The first PORT_ECHO value, or FAILED_ENTRY (checked: ~0 as the reason). */
static uint32_t first_echo_or_fail_entry(KHVT_MD, struct khvt_vm *t)
{
	const struct khv_run *run = t->vcpu.run;

	run_until_exit(t);
	if (run->exit_reason == KHV_EXIT_FAIL_ENTRY) {
		EXPECT_EQ(~0ull, run->fail_entry.hardware_entry_failure_reason);
		return FAILED_ENTRY;
	}
	if (run->exit_reason != KHV_EXIT_IO || run->io.port != PORT_ECHO || run->io.size != 4) {
		char buf[256];

		khvt_dump(t);
		KHVT_FAIL("expected an echo or FAIL_ENTRY, got %s", khvt_exit_str(t, buf, sizeof(buf)));
	}
	return (uint32_t)khvt_io_get(t, 0);
}

TEST(cr4_bits_not_offered)
{
	const uint64_t bits[] = {
		CR4_VMXE, CR4_SMXE, CR4_PKE, CR4_CET, CR4_PKS, 1ull << 31, 1ull << 32, 1ull << 63,
	};
	struct khvt_vm t;
	unsigned int i;
	int kmsg;

	HOSTILE_VM(&t, kmsg);
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		uint64_t cr4 = get_cr(_metadata, &t, 4);

		khvt_step = "MOV to CR4 of a bit khv does not offer";
		start_at(&t, GPA(hostile_cr4), &bits[i], 1);
		expect_fault(&t, "MOV CR4", 13, 0, GPA(cr4_insn));
		EXPECT_EQ(cr4, echo64(&t)) TH_LOG("CR4 after refusing bit %#llx",
						 (unsigned long long)bits[i]);
		expect_hlt(&t, GPA(hostile_done) + 1);
	}
	khvt_destroy(&t);
	expect_quiet_log(kmsg);
}

TEST(cr0_checks)
{
	struct khvt_vm t;
	uint64_t cr0, in;
	int kmsg;

	HOSTILE_VM(&t, kmsg);
	cr0 = get_cr(_metadata, &t, 0);
	ASSERT_EQ(0ull, cr0 & (CR0_CD | CR0_NW | CR0_TS));

	const uint64_t bad[] = { cr0 | (1ull << 32), cr0 | CR0_NW, cr0 & ~CR0_PG };

	for (unsigned int i = 0; i < 3; i++) {
		khvt_step = "MOV to CR0 the CPU refuses";
		start_at(&t, GPA(hostile_cr0), &bad[i], 1);
		expect_fault(&t, "MOV CR0", 13, 0, GPA(cr0_insn));
		EXPECT_EQ(cr0, echo64(&t)) TH_LOG("CR0 after refusing %#llx",
						 (unsigned long long)bad[i]);
		expect_hlt(&t, GPA(hostile_done) + 1);
	}
	khvt_step = "MOV to CR0 setting TS";
	in = cr0 | CR0_TS;
	start_at(&t, GPA(hostile_cr0), &in, 1);
	EXPECT_EQ(KHVT_NO_FAULT, echo(&t));
	EXPECT_EQ(cr0 | CR0_TS, echo64(&t));
	expect_hlt(&t, GPA(hostile_done) + 1);
	khvt_destroy(&t);
	expect_quiet_log(kmsg);
}

TEST(lmsw_clts)
{
	struct khvt_vm t;
	uint64_t cr0, in[2];
	int kmsg;

	HOSTILE_VM(&t, kmsg);
	cr0 = get_cr(_metadata, &t, 0);
	/* Register form: TS and EM on, PE off (ignored); memory form: TS off. */
	in[0] = (cr0 & 0xfff0) | CR0_TS | CR0_EM;
	in[1] = (cr0 & 0xfff0) | CR0_PE | CR0_MP;
	khvt_step = "LMSW";
	start_at(&t, GPA(hostile_lmsw), in, 2);
	EXPECT_EQ(KHVT_NO_FAULT, echo(&t));
	EXPECT_EQ((cr0 & ~0xfull) | CR0_PE | CR0_TS | CR0_EM, echo64(&t));
	EXPECT_EQ(KHVT_NO_FAULT, echo(&t));
	EXPECT_EQ((cr0 & ~0xfull) | CR0_PE | CR0_MP, echo64(&t));
	expect_hlt(&t, GPA(hostile_done) + 1);
	khvt_destroy(&t);
	expect_quiet_log(kmsg);
}

TEST(cr3_reserved)
{
	const uint64_t bit = 1ull << 52;
	struct khvt_vm t;
	uint64_t cr3;
	uint32_t v;
	int kmsg;

	HOSTILE_VM(&t, kmsg);
	cr3 = get_cr(_metadata, &t, 3);
	khvt_step = "MOV to CR3 with bit 52 set";
	start_at(&t, GPA(hostile_cr3), &bit, 1);
	v = first_echo_or_fail_entry(_metadata, &t);
	if (v == KHVT_NO_FAULT || v == FAILED_ENTRY) {
		expect_tcg_fail_entry(&t, cr3, v == FAILED_ENTRY);
	} else {
		EXPECT_EQ(13u, v);
		EXPECT_EQ(0u, echo(&t));
		EXPECT_EQ((uint32_t)GPA(cr3_insn), echo(&t));
		EXPECT_EQ(cr3, echo64(&t));
		expect_hlt(&t, GPA(hostile_done) + 1);
	}
	khvt_destroy(&t);
	expect_quiet_log(kmsg);
}

static bool host_has_ospke(void)
{
	uint32_t a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
	if (a < 7)
		return false;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
	return c & (1u << 4);	/* OSPKE */
}

static uint32_t rdpkru(void)
{
	uint32_t eax, edx;

	__asm__ volatile(".byte 0x0f, 0x01, 0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

static void wrpkru(uint32_t v)
{
	__asm__ volatile(".byte 0x0f, 0x01, 0xef" : : "a"(v), "c"(0), "d"(0) : "memory");
}

TEST(pkru)
{
	const uint64_t pke = CR4_PKE;
	const uint32_t mine = 0x55555550;	/* access-disable keys 2..15, not 0 or 1 */
	bool ospke = host_has_ospke();
	uint32_t saved = 0;
	struct khvt_vm t;
	int kmsg;

	HOSTILE_VM(&t, kmsg);
	if (ospke) {
		saved = rdpkru();
		wrpkru(mine);
	}
	khvt_step = "CR4.PKE, then WRPKRU with access-disable on key 0";
	start_at(&t, GPA(hostile_pkru), &pke, 1);
	expect_fault(&t, "MOV CR4 with PKE", 13, 0, GPA(pke_insn));
	expect_fault(&t, "WRPKRU", 6, 0, GPA(wrpkru_insn));
	expect_hlt(&t, GPA(hostile_done) + 1);
	if (ospke) {
		uint32_t now = rdpkru();

		wrpkru(saved);
		EXPECT_EQ(mine, now) TH_LOG("the VMM's PKRU changed across KHV_RUN");
	} else {
		TH_LOG("host without OSPKE: the VMM's PKRU not checked");
	}
	khvt_destroy(&t);
	expect_quiet_log(kmsg);
}

TEST(ljmp_long_and_default)
{
	/* 64-bit code, G, P, DPL 0, and D set beside L: a reserved combination. */
	const uint64_t desc = 0x00ef9a000000ffffull;
	struct khvt_vm t;
	uint8_t *ptr;
	uint32_t v, off;
	uint64_t cr3;
	int kmsg;

	HOSTILE_VM(&t, kmsg);
	cr3 = get_cr(_metadata, &t, 3);
	memcpy(khvt_gpa(&t, GUEST_GDT + 0x18), &desc, sizeof(desc));
	ptr = khvt_gpa(&t, GUEST_DATA);
	off = (uint32_t)GPA(hostile_ljmp_target);
	memcpy(ptr, &off, 4);
	ptr[4] = 0x18;
	ptr[5] = 0;
	khvt_step = "far JMP to a CS with L and D set";
	start_at(&t, GPA(hostile_ljmp), NULL, 0);
	v = first_echo_or_fail_entry(_metadata, &t);
	if (v == 0xf00d || v == FAILED_ENTRY) {
		expect_tcg_fail_entry(&t, cr3, v == FAILED_ENTRY);
	} else {
		EXPECT_EQ(13u, v);
		EXPECT_EQ(0x18u, echo(&t));
		EXPECT_EQ((uint32_t)GPA(ljmp_insn), echo(&t));
		expect_hlt(&t, GPA(hostile_done) + 1);
	}
	khvt_destroy(&t);
	expect_quiet_log(kmsg);
}

/* The supported CPUID for the guest; false when AVX2 or YMM state is missing. */
static bool give_avx(KHVT_MD, struct khvt_vm *t)
{
	struct khv_cpuid_entry *e = calloc(256, sizeof(*e));
	bool avx2 = false, ymm = false;
	uint32_t n = 0, i;

	if (!e)
		return false;
	if (khv_get_supported_cpuid(&t->sys, e, 256, &n)) {
		free(e);
		return false;
	}
	for (i = 0; i < n; i++) {
		if (e[i].function == 7 && e[i].index == 0)
			avx2 = e[i].ebx & (1u << 5);
		if (e[i].function == 0xd && e[i].index == 0)
			ymm = e[i].eax & 4;
	}
	if (avx2 && ymm)
		KHV_OK(khv_vcpu_set_cpuid(&t->vcpu, e, n));
	free(e);
	return avx2 && ymm;
}

TEST(avx_mmio_fpu_state)
{
	uint32_t echoes[4][64] = { { 0 } }, n[4] = { 0 }, pat[8], i, group = 0;
	bool avx;
	struct khv_xsave *x;
	struct khvt_vm t;
	struct khv_regs r;
	int kmsg, exits;

	HOSTILE_VM(&t, kmsg);
	if (!give_avx(_metadata, &t)) {
		khvt_destroy(&t);
		if (kmsg >= 0)
			close(kmsg);
		SKIP(return, "AVX2 or YMM state not offered by KHV_GET_SUPPORTED_CPUID");
	}
	for (i = 0; i < 8; i++)
		pat[i] = 0x1f2e3d4c + i * 0x01010101;
	memcpy(khvt_gpa(&t, GUEST_DATA), pat, sizeof(pat));
	start_at(&t, GPA(hostile_avx), NULL, 0);

	/* Play along with whatever khv makes of each access, up to the HLT. */
	for (exits = 0; exits < 64; exits++) {
		const struct khv_run *run = t.vcpu.run;
		int rr = khvt_run(&t);

		ASSERT_EQ(0, rr) TH_LOG("KHV_RUN: %s", strerror(-rr));
		if (run->exit_reason == KHV_EXIT_HLT)
			break;
		if (run->exit_reason == KHV_EXIT_IO && run->io.port == PORT_MARK) {
			group = (uint32_t)khvt_io_get(&t, 0) & 3;
			continue;
		}
		if (run->exit_reason == KHV_EXIT_IO && run->io.port == PORT_ECHO) {
			ASSERT_LT(n[group], 64u);
			echoes[group][n[group]++] = (uint32_t)khvt_io_get(&t, 0);
			continue;
		}
		if (run->exit_reason == KHV_EXIT_MMIO) {
			if (!run->mmio.is_write)
				khvt_mmio_set(&t, 0);
			continue;
		}
		if (run->exit_reason == KHV_EXIT_INTERNAL_ERROR) {
			/* What a VMM may do: step over it ("faulting" put R15 there). */
			KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
			TH_LOG("internal error %u at RIP %#llx: resuming at R15", run->internal.suberror,
			       r.rip);
			r.rip = r.r15;
			KHV_OK(khv_vcpu_set_regs(&t.vcpu, &r));
			continue;
		}
		khvt_dump(&t);
		KHVT_FAIL("unexpected exit %s", khv_exit_reason_name(run->exit_reason));
	}
	ASSERT_EQ((uint32_t)KHV_EXIT_HLT, t.vcpu.run->exit_reason);
	ASSERT_GE(n[1], 1u);
	avx = echoes[1][0] == KHVT_NO_FAULT;
	if (!avx)
		TH_LOG("VINSERTI128 raised vector %u: no AVX in this guest, XMM0 checked only",
		       echoes[1][0]);
	ASSERT_GE(n[3], 9u);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(pat[i], echoes[3][i]) TH_LOG("XMM0 dword %u", i);
	if (avx) {
		ASSERT_EQ(9u, n[3]);
		EXPECT_EQ(KHVT_NO_FAULT, echoes[3][4]);
		for (i = 0; i < 4; i++)
			EXPECT_EQ(pat[4 + i], echoes[3][5 + i]) TH_LOG("YMM0 dword %u", 4 + i);
	}

	/* Once more into the guest and out, then the state through the uAPI. */
	expect_hlt(&t, GPA(hostile_done) + 1);
	x = calloc(1, sizeof(*x));
	ASSERT_NE(NULL, x);
	KHV_OK(khv_vcpu_get_xsave(&t.vcpu, x));
	EXPECT_EQ(0, memcmp((uint8_t *)x->region + 160, pat, 16)) TH_LOG("XMM0 in KHV_GET_XSAVE");
	if (avx)
		EXPECT_EQ(0, memcmp((uint8_t *)x->region + 576, pat + 4, 16))
			TH_LOG("YMM0 upper half in KHV_GET_XSAVE");
	KHV_OK(khv_vcpu_set_xsave(&t.vcpu, x));
	free(x);
	expect_hlt(&t, GPA(hostile_done) + 1);
	khvt_destroy(&t);
	expect_quiet_log(kmsg);
}

/* ---- guest page tables outside RAM ------------------------------------------ */

#define WALK_TABLE_GPA	0xe0000000ull	/* above slot 0, below GUEST_MMIO's 2 MiB */
#define WALK_VA		0x8000000000ull	/* PML4 entry 1 */

static void expect_walk_error(KHVT_MD, struct khvt_vm *t, const uint8_t *entry_sym)
{
	const struct khv_run *run = t->vcpu.run;
	const uint64_t va = WALK_VA;
	uint64_t *pml4;
	char buf[256];

	pml4 = khvt_gpa(t, get_cr(_metadata, t, 3) & ~0xfffull);
	ASSERT_NE(NULL, pml4);
	pml4[1] = WALK_TABLE_GPA | 0x3;		/* present, writable */
	start_at(t, PAYLOAD_GPA(hostile_long, entry_sym), &va, 1);
	run_until_exit(t);
	if (run->exit_reason != KHV_EXIT_INTERNAL_ERROR) {
		khvt_dump(t);
		KHVT_FAIL("expected INTERNAL_ERROR for the walk, got %s",
			  khvt_exit_str(t, buf, sizeof(buf)));
	}
	EXPECT_EQ((uint32_t)KHV_INTERNAL_ERROR_EMULATION, run->internal.suberror);
	ASSERT_GE(run->internal.ndata, 1u);
	EXPECT_EQ(WALK_TABLE_GPA, run->internal.data[0] & ~0xfffull)
		TH_LOG("internal error data[0] %#llx: not the table's address",
		       (unsigned long long)run->internal.data[0]);
}

TEST(page_tables_in_mmio)
{
	struct khvt_vm t;
	int kmsg;

	HOSTILE_VM(&t, kmsg);
	expect_walk_error(_metadata, &t, hostile_walk);
	expect_walk_error(_metadata, &t, hostile_walk_store);
	khvt_destroy(&t);
	expect_quiet_log(kmsg);
}

TEST(page_tables_read_only)
{
	struct khvt_vm t;
	uint64_t *pdpt;
	int kmsg;

	HOSTILE_VM(&t, kmsg);
	pdpt = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pdpt);
	/* A 1 GiB page at 0, accessed bit clear: the walk must write it. */
	pdpt[0] = 0x83;
	KHV_OK(khv_vm_set_memory(&t.vm, 2, KHV_MEM_READONLY, WALK_TABLE_GPA, 4096, pdpt));
	expect_walk_error(_metadata, &t, hostile_walk);
	expect_walk_error(_metadata, &t, hostile_walk_store);
	EXPECT_EQ(0x83ull, pdpt[0]) TH_LOG("the read-only page table was written");
	khvt_destroy(&t);
	munmap(pdpt, 4096);
	expect_quiet_log(kmsg);
}

/* ---- task switches ------------------------------------------------------------ */

#define TSS_SEL		0x28
#define TSS_GPA		(GUEST_DATA + 0x1000)
#define CUR_TSS_SEL	0x30
#define CUR_TSS_GPA	(GUEST_DATA + 0x1100)

static void expect_task_switch_refused(KHVT_MD, const uint8_t *entry_sym, bool iret)
{
	/*
	 * 32-bit TSS at TSS_GPA, limit 0x67, available (0x89), or busy (0x8b)
	 * for an IRET, which returns only to a busy task; task gate for it.
	 */
	const uint64_t tss_desc = (iret ? 0x00008b0000000067ull : 0x0000890000000067ull) |
				  ((uint64_t)TSS_GPA << 16);
	const uint64_t task_gate = 0x0000850000000000ull | ((uint64_t)TSS_SEL << 16);
	const struct khv_run *run;
	struct khv_sregs s;
	struct khvt_vm t;
	uint32_t *tss;
	char buf[256];
	int kmsg;

	VM_WITH_PAYLOAD(&t, KHVT_PROT32, hostile_prot32);
	kmsg = khvt_kmsg_open();
	run = t.vcpu.run;
	memcpy(khvt_gpa(&t, GUEST_GDT + TSS_SEL), &tss_desc, 8);
	/* A runnable new task (EIP, EFLAGS, ESP, ES, CS, SS, DS, FS, GS). */
	tss = khvt_gpa(&t, TSS_GPA);
	memset(tss, 0, 0x68);
	tss[0x20 / 4] = (uint32_t)PAYLOAD_GPA(hostile_prot32, hostile_task_new);
	tss[0x24 / 4] = 0x2;
	tss[0x38 / 4] = GUEST_STACK_TOP;
	tss[0x4c / 4] = 0x18;
	tss[0x48 / 4] = tss[0x50 / 4] = tss[0x54 / 4] = tss[0x58 / 4] = tss[0x5c / 4] = 0x10;
	memcpy(khvt_gpa(&t, GUEST_IDT + 0x40 * 8), &task_gate, 8);
	KHV_OK(khv_vcpu_get_sregs(&t.vcpu, &s));
	if (s.gdt.limit < CUR_TSS_SEL + 7)
		s.gdt.limit = CUR_TSS_SEL + 7;
	if (iret) {
		/* The current task: a busy TSS whose link names TSS_SEL. */
		const uint64_t cur_desc = 0x00008b0000000067ull | ((uint64_t)CUR_TSS_GPA << 16);

		memcpy(khvt_gpa(&t, GUEST_GDT + CUR_TSS_SEL), &cur_desc, 8);
		memset(khvt_gpa(&t, CUR_TSS_GPA), 0, 0x68);
		*(uint32_t *)khvt_gpa(&t, CUR_TSS_GPA) = TSS_SEL;
		s.tr.selector = CUR_TSS_SEL;
		s.tr.base = CUR_TSS_GPA;
		s.tr.limit = 0x67;
		s.tr.type = 11;
		s.tr.s = 0;
		s.tr.present = 1;
		s.tr.dpl = s.tr.g = s.tr.unusable = 0;
	}
	KHV_OK(khv_vcpu_set_sregs(&t.vcpu, &s));
	start_at(&t, PAYLOAD_GPA(hostile_prot32, entry_sym), NULL, 0);
	ASSERT_EQ(0, khvt_run(&t));
	if (run->exit_reason == KHV_EXIT_IO && run->io.port == PORT_ECHO &&
	    khvt_io_get(&t, 0) == 0x7a5c && khvt_under_tcg()) {
		/* testing.rst, "Emulator gaps": QEMU switches tasks itself. */
		TH_LOG("QEMU TCG switched tasks without the task-switch intercept");
		khvt_destroy(&t);
		expect_quiet_log(kmsg);
		return;
	}
	if (run->exit_reason != KHV_EXIT_INTERNAL_ERROR ||
	    run->internal.suberror != KHV_INTERNAL_ERROR_UNHANDLED_EXIT) {
		khvt_dump(&t);
		KHVT_FAIL("expected INTERNAL_ERROR (unhandled exit: task switch), got %s",
			  khvt_exit_str(&t, buf, sizeof(buf)));
	}
	/* SVM: VMEXIT_TASK_SWITCH; VMX: basic exit reason 9. */
	EXPECT_EQ(t.vendor == KHV_VENDOR_AMD ? 0x7dull : 9ull, run->internal.data[0]);
	khvt_destroy(&t);
	expect_quiet_log(kmsg);
}

TEST(task_switch_jmp)
{
	expect_task_switch_refused(_metadata, hostile_task_jmp, false);
}

TEST(task_switch_call)
{
	expect_task_switch_refused(_metadata, hostile_task_call, false);
}

TEST(task_switch_gate)
{
	expect_task_switch_refused(_metadata, hostile_task_gate, false);
}

TEST(task_switch_iret)
{
	expect_task_switch_refused(_metadata, hostile_task_iret, true);
}

/* ---- the VMM thread's own registers ---------------------------------------- */

struct vmm_regs {
	uint64_t fs, gs, xcr0;
	uint32_t mxcsr, pkru;
	uint16_t fcw;
	uint8_t xmm7[16];
};

static bool host_has_osxsave(void)
{
	uint32_t a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	return c & (1u << 27);
}

static void vmm_regs_read(struct vmm_regs *r, bool ospke)
{
	uint32_t lo, hi;

	memset(r, 0, sizeof(*r));
	syscall(SYS_arch_prctl, ARCH_GET_FS, &r->fs);
	syscall(SYS_arch_prctl, ARCH_GET_GS, &r->gs);
	__asm__ volatile("stmxcsr %0" : "=m"(r->mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(r->fcw));
	__asm__ volatile("movdqu %%xmm7, %0" : "=m"(r->xmm7));
	if (host_has_osxsave()) {
		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		r->xcr0 = (uint64_t)hi << 32 | lo;
	}
	if (ospke)
		r->pkru = rdpkru();
}

/* RDTSCP's TSC_AUX names the CPU the kernel says it runs on (a few tries: migration). */
static bool tsc_aux_is_hosts(void)
{
	for (int i = 0; i < 10; i++) {
		uint32_t a, d, c;
		int cpu = sched_getcpu();

		__asm__ volatile("rdtscp" : "=a"(a), "=d"(d), "=c"(c));
		if ((int)(c & 0xfff) == cpu && sched_getcpu() == cpu)
			return true;
	}
	return false;
}

static bool have_rdtscp(void)
{
	uint32_t a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001), "c"(0));
	return d & (1u << 27);
}

/* Read by the VMM after KHV_RUN; a guest breakpoint left armed would trap here. */
static volatile uint32_t vmm_watched = 1;

TEST(vmm_thread_state)
{
	const uint8_t vmm_xmm7[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	const uint16_t vmm_fcw = 0x027f;	/* 53-bit precision */
	const uint32_t vmm_mxcsr = 0x9fc0;	/* FTZ, DAZ, all masked */
	bool ospke = host_has_ospke();
	struct vmm_regs before, after;
	uint32_t saved_pkru = 0, gdata[8] = { 0x7f80, 0x0f7f };
	uint64_t in[5];
	struct khvt_vm t;
	int kmsg, exits;

	HOSTILE_VM(&t, kmsg);
	give_avx(_metadata, &t);	/* CPUID with XSAVE, so XSETBV can be tried */
	memcpy(khvt_gpa(&t, GUEST_DATA), gdata, sizeof(gdata));
	if (ospke) {
		/* XSAVE area at GUEST_DATA + 0x1000: XSTATE_BV = PKRU, PKRU = AD key 0. */
		uint8_t *area = khvt_gpa(&t, GUEST_DATA + 0x1000);
		uint32_t a, b, c, d, pkru_ad0 = 1;
		uint64_t bv = 1ull << 9;

		__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0xd), "c"(9));
		if (b >= 576 && b + 8 <= 0x3000) {
			memcpy(area + 512, &bv, sizeof(bv));
			memcpy(area + b, &pkru_ad0, sizeof(pkru_ad0));
		}
	}
	in[0] = (uint64_t)(uintptr_t)&vmm_watched;	/* the guest's DR0 */
	in[1] = 0x0000123456789000ull;			/* address MSRs */
	in[2] = 0x10;					/* SFMASK, SYSENTER_CS */
	in[3] = 0x55;					/* TSC_AUX */
	in[4] = 1;					/* SPEC_CTRL.IBRS */
	start_at(&t, GPA(hostile_state), in, 5);

	if (ospke) {
		saved_pkru = rdpkru();
		wrpkru(0x55555550);
	}
	__asm__ volatile("ldmxcsr %0" : : "m"(vmm_mxcsr));
	__asm__ volatile("fldcw %0" : : "m"(vmm_fcw));
	__asm__ volatile("movdqu %0, %%xmm7" : : "m"(vmm_xmm7) : "xmm7");
	vmm_regs_read(&before, ospke);
	for (exits = 0; exits < 64; exits++) {
		const struct khv_run *run = t.vcpu.run;
		int rr = khv_vcpu_run(&t.vcpu);

		if (rr || run->exit_reason == KHV_EXIT_HLT)
			break;
		if (run->exit_reason != KHV_EXIT_IO || run->io.port != PORT_ECHO)
			break;
	}
	vmm_regs_read(&after, ospke);
	if (ospke)
		wrpkru(saved_pkru);
	EXPECT_EQ((uint32_t)KHV_EXIT_HLT, t.vcpu.run->exit_reason);
	EXPECT_EQ(before.fs, after.fs) TH_LOG("FS base");
	EXPECT_EQ(before.gs, after.gs) TH_LOG("GS base");
	EXPECT_EQ(before.xcr0, after.xcr0) TH_LOG("XCR0");
	EXPECT_EQ(vmm_mxcsr, after.mxcsr) TH_LOG("MXCSR");
	EXPECT_EQ(vmm_fcw, after.fcw) TH_LOG("x87 control word");
	EXPECT_EQ(0, memcmp(vmm_xmm7, after.xmm7, 16)) TH_LOG("XMM7");
	EXPECT_EQ(before.pkru, after.pkru) TH_LOG("PKRU");
	if (have_rdtscp())
		EXPECT_TRUE(tsc_aux_is_hosts()) TH_LOG("TSC_AUX is not this CPU's number");
	/* A breakpoint the guest left in DR0/DR7 would SIGTRAP this read. */
	EXPECT_EQ(1u, vmm_watched);
	/* The SYSCALL and SYSENTER MSRs are the host's, or this syscall would not return. */
	EXPECT_EQ(0, getppid() <= 0);
	khvt_destroy(&t);
	expect_quiet_log(kmsg);
}

TEST_HARNESS_MAIN
