// SPDX-License-Identifier: GPL-2.0
/*
 * shutdown: a triple fault ends KHV_RUN with KHV_EXIT_SHUTDOWN (and does not
 * hang, loop or take the host down).  IDT limit 0 with UD2 in long mode and
 * INT3 in 32-bit mode; a #PF whose gate lies beyond the IDT limit.
 */
#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(shutdown_long_ud2);
KHVT_DECLARE_PAYLOAD(shutdown_prot32_int3);
KHVT_DECLARE_PAYLOAD(shutdown_long_pf);

static void set_idt_limit(KHVT_MD, struct khvt_vm *t, uint16_t limit)
{
	struct khv_sregs s;

	KHV_OK(khv_vcpu_get_sregs(&t->vcpu, &s));
	s.idt.limit = limit;
	KHV_OK(khv_vcpu_set_sregs(&t->vcpu, &s));
}

TEST(long_mode_ud2_no_idt)
{
	struct khvt_vm t;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, shutdown_long_ud2);
	set_idt_limit(_metadata, &t, 0);
	EXPECT_VAL("guest started", 1, expect_out(&t, PORT_MARK, 4));
	expect_exit(&t, KHV_EXIT_SHUTDOWN);
	khvt_destroy(&t);
}

TEST(prot32_int3_no_idt)
{
	struct khvt_vm t;

	VM_WITH_PAYLOAD(&t, KHVT_PROT32, shutdown_prot32_int3);
	set_idt_limit(_metadata, &t, 0);
	EXPECT_VAL("guest started", 1, expect_out(&t, PORT_MARK, 4));
	expect_exit(&t, KHV_EXIT_SHUTDOWN);
	khvt_destroy(&t);
}

TEST(long_mode_pf_gate_beyond_limit)
{
	struct khvt_vm t;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, shutdown_long_pf);
	/* Vectors 0..7 only: #PF (14), then #GP (13) and #DF (8) are beyond it. */
	set_idt_limit(_metadata, &t, 8 * 16 - 1);
	EXPECT_VAL("guest started", 1, expect_out(&t, PORT_MARK, 4));
	expect_exit(&t, KHV_EXIT_SHUTDOWN);
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
