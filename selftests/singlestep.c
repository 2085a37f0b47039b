// SPDX-License-Identifier: GPL-2.0
/*
 * singlestep: with RFLAGS.TF set, every instruction the guest completes is
 * followed by a single-step #DB with DR6.BS, whether the CPU executed it or
 * khv completed it after an exit (singlestep_guest.S):
 *  - CPUID (skipped by khv), OUT and IN (port I/O, IN completed on the next
 *    KHV_RUN), an MMIO store and an MMIO load (emulated; the load completed
 *    on the next KHV_RUN);
 *  - REP OUTSB and REP INSB trap after every iteration, with RIP still at
 *    the instruction until the last one (so khv moves one element per exit
 *    under TF), and a REP with RCX = 0 traps once;
 *  - an RDMSR that raises #GP does not trap (a fault, not a completion);
 *  - the POPF that clears TF still traps (TF was set for it).
 * Each #DB reports the address after the traced instruction.  HLT is left
 * out: its trap comes only once the vCPU leaves the halt.  Vendor neutral.
 */
#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(ss_long);
extern const uint8_t ss_db[], ss_gp[], ss_done[];
extern const uint8_t ss_after_nop[], ss_after_cpuid[], ss_after_mov[], ss_after_out[],
	ss_after_mmio_store[], ss_after_mmio_load[], ss_after_in[], ss_after_dx_out[],
	ss_outs[], ss_after_outs[], ss_after_outs0[], ss_after_dx_in[], ss_ins[],
	ss_after_ins[], ss_after_ecx[], ss_rdmsr[], ss_after_pushf[], ss_after_and[],
	ss_tf_off[];

#define GPA(sym)	PAYLOAD_GPA(ss_long, sym)
#define DR6_TRAP	0xffff4ff0u	/* DR6 reset value with BS (bit 14) */
#define DB_LOG_MAX	32		/* singlestep_guest.S */
#define IN_BUF		(GUEST_DATA + 0x180)

/* Each #DB in order: the instruction it traced, the RIP it must report. */
struct trap {
	const char *insn;
	const uint8_t *rip;
};

static const struct trap traps[] = {
	{ "NOP (executed by the CPU)", ss_after_nop },
	{ "CPUID (skipped by khv)", ss_after_cpuid },
	{ "MOV imm, EAX", ss_after_mov },
	{ "OUT imm8, EAX (port I/O exit)", ss_after_out },
	{ "MOVL imm, (R12): MMIO store", ss_after_mmio_store },
	{ "MOV 8(R12), ECX: MMIO load", ss_after_mmio_load },
	{ "IN AL, imm8 (completed on the next KHV_RUN)", ss_after_in },
	{ "MOV imm, EDX", ss_after_dx_out },
	{ "MOV $3, ECX", ss_outs },
	{ "REP OUTSB, iteration 1 of 3", ss_outs },
	{ "REP OUTSB, iteration 2 of 3", ss_outs },
	{ "REP OUTSB, iteration 3 of 3", ss_after_outs },
	{ "REP OUTSB with RCX = 0", ss_after_outs0 },
	{ "MOV imm, EDX", ss_after_dx_in },
	{ "MOV $2, ECX", ss_ins },
	{ "REP INSB, iteration 1 of 2", ss_ins },
	{ "REP INSB, iteration 2 of 2", ss_after_ins },
	{ "MOV imm, ECX", ss_after_ecx },
	{ "LEA", ss_rdmsr },
	/* The RDMSR raises #GP: no trap for it. */
	{ "PUSHFQ (the first instruction after the #GP handler)", ss_after_pushf },
	{ "ANDL imm, (RSP)", ss_after_and },
	{ "POPFQ clearing TF", ss_tf_off },
};

TEST(emulated_instructions)
{
	const uint8_t ins_data[] = { 0x11, 0x22 };
	uint32_t n, i, dr6, rip;
	struct khvt_vm t;
	char what[160];
	uint8_t *buf;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, ss_long);
	KHV_OK(khvt_set_gate(&t, 1, GPA(ss_db)));
	KHV_OK(khvt_set_gate(&t, 13, GPA(ss_gp)));

	khvt_step = "the exits of the instructions run under TF";
	EXPECT_VAL("OUT under TF", 1, expect_out(&t, PORT_MARK, 4));
	expect_mmio_write(&t, GUEST_MMIO, 4, 0x12345678);
	expect_mmio_read(&t, GUEST_MMIO + 8, 4, 0xcafe);
	expect_in(&t, PORT_IN8, 1, 0x5a);
	/* expect_out checks count 1: one element per exit under TF. */
	EXPECT_VAL("REP OUTSB element 1", 'a', expect_out(&t, PORT_STR_OUTB, 1));
	EXPECT_VAL("REP OUTSB element 2", 'b', expect_out(&t, PORT_STR_OUTB, 1));
	EXPECT_VAL("REP OUTSB element 3", 'c', expect_out(&t, PORT_STR_OUTB, 1));
	for (i = 0; i < ARRAY_SIZE(ins_data); i++)
		expect_in(&t, PORT_STR_INB, 1, ins_data[i]);

	khvt_step = "the guest's report, TF off";
	EXPECT_VAL("#GP count (the RDMSR)", 1, expect_out(&t, PORT_ECHO, 4));
	n = expect_out(&t, PORT_ECHO, 4);
	EXPECT_EQ(ARRAY_SIZE(traps), n)
		TH_LOG("%u #DBs taken, expected %zu", n, ARRAY_SIZE(traps));
	if (n > DB_LOG_MAX)
		n = DB_LOG_MAX;
	for (i = 0; i < n; i++) {
		const char *insn = i < ARRAY_SIZE(traps) ? traps[i].insn : "(none expected)";

		dr6 = expect_out(&t, PORT_ECHO, 4);
		rip = expect_out(&t, PORT_ECHO, 4);
		snprintf(what, sizeof(what), "#DB %u after %s: DR6", i + 1, insn);
		EXPECT_VAL(what, DR6_TRAP, dr6);
		if (i < ARRAY_SIZE(traps)) {
			snprintf(what, sizeof(what), "#DB %u after %s: RIP", i + 1, insn);
			EXPECT_VAL(what, (uint32_t)GPA(traps[i].rip), rip);
		}
	}
	khvt_step = NULL;
	expect_hlt(&t, GPA(ss_done));

	buf = khvt_gpa(&t, IN_BUF);
	ASSERT_NE(NULL, buf);
	EXPECT_VAL("REP INSB byte 1", ins_data[0], buf[0]);
	EXPECT_VAL("REP INSB byte 2", ins_data[1], buf[1]);
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
