// SPDX-License-Identifier: GPL-2.0
/*
 * mmio: guest loads and stores at GUEST_MMIO (no slot there) exit as
 * KHV_EXIT_MMIO with the right phys_addr, len, is_write and data, for the
 * instruction forms in mmio_guest.S (MOV r/m<->reg, MOV imm, MOVZX/MOVSX,
 * AH/CH/DH, SIL/R10B with REX, the 66 prefix, REX.W, SIB addressing), in
 * long mode and in 32-bit protected mode.  Read data supplied by the test
 * lands in the destination register with the right width and extension,
 * which the guest reports back.
 */
#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(mmio_long);
KHVT_DECLARE_PAYLOAD(mmio_prot32);
extern const uint8_t mmio_long_done[], mmio_prot32_done[];

#define M GUEST_MMIO

struct access {
	const char *insn;
	uint64_t gpa;
	uint32_t len;
	uint64_t data;		/* written by the guest, or supplied for a read */
	uint64_t reg;		/* reads: the destination register afterwards */
};

static const struct access long_writes[] = {
	{ "movb $imm8, (%rbx)", M + 0, 1, 0x11, 0 },
	{ "movw $imm16, 2(%rbx)", M + 2, 2, 0x2233, 0 },
	{ "movl $imm32, 4(%rbx)", M + 4, 4, 0x44556677, 0 },
	{ "movq $-2, 8(%rbx)", M + 8, 8, 0xfffffffffffffffeull, 0 },
	{ "mov %cl, (%rbx)", M + 0, 1, 0xa5, 0 },
	{ "mov %ah, 1(%rbx)", M + 1, 1, 0xab, 0 },
	{ "mov %dx, 2(%rbx)", M + 2, 2, 0x9876, 0 },
	{ "mov %esi, 4(%rbx)", M + 4, 4, 0x13579bdf, 0 },
	{ "mov %r9, 8(%rbx)", M + 8, 8, 0x0123456789abcdefull, 0 },
	{ "mov %r10b, 16(%rbx)", M + 16, 1, 0x3c, 0 },
	{ "mov %sil, 17(%rbx)", M + 17, 1, 0xdf, 0 },
	{ "mov %eax, (%rbx,%rcx,4)", M + 32, 4, 0xdeadbeef, 0 },
	{ "mov %r11w, 24(%r12)", M + 24, 2, 0xc3d4, 0 },
};

static const struct access long_reads[] = {
	{ "mov (%rbx), %al", M + 0, 1, 0x9a, 0x112233445566779aull },
	{ "mov 1(%rbx), %ah", M + 1, 1, 0xbc, 0x112233445566bc88ull },
	{ "mov 2(%rbx), %cx", M + 2, 2, 0x1357, 0xffffffffffff1357ull },
	{ "mov 4(%rbx), %edx", M + 4, 4, 0x2468ace0, 0x2468ace0ull },
	{ "mov 8(%rbx), %r11", M + 8, 8, 0xfedcba9876543210ull, 0xfedcba9876543210ull },
	{ "movzbl (%rbx), %esi", M + 0, 1, 0x80, 0x80 },
	{ "movsbq (%rbx), %rdi", M + 0, 1, 0x80, 0xffffffffffffff80ull },
	{ "movzwl 2(%rbx), %r8d", M + 2, 2, 0x8001, 0x8001 },
	{ "movswl 2(%rbx), %r9d", M + 2, 2, 0x8001, 0xffff8001ull },
	{ "mov 16(%rbx), %sil", M + 16, 1, 0x42, 0xffffffffffffff42ull },
	{ "movzbw (%rbx), %ax", M + 0, 1, 0x7f, 0xffffffffffff007full },
	{ "movsbw (%rbx), %dx", M + 0, 1, 0xff, 0xffff },
	{ "mov 24(%r12), %r13w", M + 24, 2, 0x55aa, 0xffffffffffff55aaull },
	{ "movswq 2(%rbx), %r14", M + 2, 2, 0x8000, 0xffffffffffff8000ull },
};

static const struct access prot32_writes[] = {
	{ "movb $imm8, (%ebx)", M + 0, 1, 0x11, 0 },
	{ "movw $imm16, 2(%ebx)", M + 2, 2, 0x2233, 0 },
	{ "movl $imm32, 4(%ebx)", M + 4, 4, 0x44556677, 0 },
	{ "mov %cl, (%ebx)", M + 0, 1, 0xa5, 0 },
	{ "mov %ah, 1(%ebx)", M + 1, 1, 0xab, 0 },
	{ "mov %dx, 2(%ebx)", M + 2, 2, 0x9876, 0 },
	{ "mov %esi, 4(%ebx)", M + 4, 4, 0x13579bdf, 0 },
	{ "mov %dh, 3(%ebx)", M + 3, 1, 0x98, 0 },
	{ "mov %eax, (%ebx,%ecx,4)", M + 32, 4, 0xdeadbeef, 0 },
};

static const struct access prot32_reads[] = {
	{ "mov (%ebx), %al", M + 0, 1, 0x9a, 0x1122339a },
	{ "mov 1(%ebx), %ah", M + 1, 1, 0xbc, 0x1122bc44 },
	{ "mov 2(%ebx), %cx", M + 2, 2, 0x1357, 0xffff1357 },
	{ "mov 4(%ebx), %edx", M + 4, 4, 0x2468ace0, 0x2468ace0 },
	{ "movzbl (%ebx), %esi", M + 0, 1, 0x80, 0x80 },
	{ "movsbl (%ebx), %edi", M + 0, 1, 0x80, 0xffffff80 },
	{ "movzwl 2(%ebx), %esi", M + 2, 2, 0x8001, 0x8001 },
	{ "movswl 2(%ebx), %edi", M + 2, 2, 0x8001, 0xffff8001 },
	{ "movzbw (%ebx), %ax", M + 0, 1, 0x7f, 0xffff007f },
	{ "mov 1(%ebx), %ch", M + 1, 1, 0x5e, 0x5e00 },
};

static void run_table(KHVT_MD, struct khvt_vm *t, const struct access *w, size_t nw,
		      const struct access *r, size_t nr, bool lm)
{
	size_t i;

	for (i = 0; i < nw; i++) {
		khvt_step = w[i].insn;
		expect_mmio_write(t, w[i].gpa, w[i].len, w[i].data);
	}
	for (i = 0; i < nr; i++) {
		khvt_step = r[i].insn;
		expect_mmio_read(t, r[i].gpa, r[i].len, r[i].data);
		EXPECT_VAL(r[i].insn, r[i].reg,
			   lm ? expect_out64(t, PORT_ECHO) : expect_out(t, PORT_ECHO, 4));
	}
	khvt_step = NULL;
}

TEST(long_mode)
{
	struct khvt_vm t;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, mmio_long);
	run_table(_metadata, &t, long_writes, ARRAY_SIZE(long_writes),
		  long_reads, ARRAY_SIZE(long_reads), true);
	expect_hlt(&t, PAYLOAD_GPA(mmio_long, mmio_long_done));
	khvt_destroy(&t);
}

TEST(protected_mode_32)
{
	struct khvt_vm t;

	VM_WITH_PAYLOAD(&t, KHVT_PROT32, mmio_prot32);
	run_table(_metadata, &t, prot32_writes, ARRAY_SIZE(prot32_writes),
		  prot32_reads, ARRAY_SIZE(prot32_reads), false);
	expect_hlt(&t, PAYLOAD_GPA(mmio_prot32, mmio_prot32_done));
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
