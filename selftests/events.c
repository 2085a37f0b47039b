// SPDX-License-Identifier: GPL-2.0
/*
 * events: KHV_INJECT_EVENT delivers exceptions (with and without an error
 * code), an NMI and external interrupts through the guest's IDT; with IF=0
 * the run page says no injection is possible, and request_interrupt_window
 * produces KHV_EXIT_IRQ_WINDOW_OPEN once the guest sets IF.
 */
#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(events_long);
extern const uint8_t events_after_hlt[], events_done[];
extern const uint8_t ev_2[], ev_6[], ev_13[], ev_32[], ev_65[];

/* The handler's report: vector, then error code. */
static void expect_delivery(KHVT_MD, struct khvt_vm *t, uint32_t vector, uint32_t err)
{
	char what[64];

	snprintf(what, sizeof(what), "vector reported by the guest handler");
	EXPECT_VAL(what, vector, expect_out(t, PORT_ECHO, 4));
	snprintf(what, sizeof(what), "error code seen by the handler of vector %u", vector);
	EXPECT_VAL(what, err, expect_out(t, PORT_ECHO, 4));
}

static void setup(KHVT_MD, struct khvt_vm *t)
{
	KHV_OK(khvt_set_gate(t, 2, PAYLOAD_GPA(events_long, ev_2)));
	KHV_OK(khvt_set_gate(t, 6, PAYLOAD_GPA(events_long, ev_6)));
	KHV_OK(khvt_set_gate(t, 13, PAYLOAD_GPA(events_long, ev_13)));
	KHV_OK(khvt_set_gate(t, 32, PAYLOAD_GPA(events_long, ev_32)));
	KHV_OK(khvt_set_gate(t, 65, PAYLOAD_GPA(events_long, ev_65)));
}

TEST(inject)
{
	struct khv_run *run;
	struct khvt_vm t;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, events_long);
	REQUIRE_CAP(&t, KHV_CAP_INJECT_EVENT);
	setup(_metadata, &t);
	run = t.vcpu.run;

	khvt_step = "#UD injected at an OUT exit";
	EXPECT_VAL("step", 1, expect_out(&t, PORT_MARK, 4));
	KHV_OK(khv_vcpu_inject_exception(&t.vcpu, 6, 0, 0));
	expect_delivery(_metadata, &t, 6, 0);

	khvt_step = "#GP(0x1234) injected at an OUT exit";
	EXPECT_VAL("step", 2, expect_out(&t, PORT_MARK, 4));
	KHV_OK(khv_vcpu_inject_exception(&t.vcpu, 13, 1, 0x1234));
	expect_delivery(_metadata, &t, 13, 0x1234);

	khvt_step = "NMI injected at an OUT exit";
	EXPECT_VAL("step", 3, expect_out(&t, PORT_MARK, 4));
	KHV_OK(khv_vcpu_inject_nmi(&t.vcpu));
	expect_delivery(_metadata, &t, 2, 0);

	khvt_step = "external interrupt 0x20 injected at a HLT exit with IF=1";
	EXPECT_VAL("step", 4, expect_out(&t, PORT_MARK, 4));
	expect_hlt(&t, PAYLOAD_GPA(events_long, events_after_hlt));
	EXPECT_EQ(1, run->if_flag) TH_LOG("if_flag at HLT after STI");
	KHV_OK(khv_vcpu_inject_interrupt(&t.vcpu, 0x20));
	expect_delivery(_metadata, &t, 0x20, 0);
	EXPECT_VAL("step", 5, expect_out(&t, PORT_MARK, 4));

	khvt_step = "interrupt window: IF=0, then STI";
	EXPECT_VAL("step", 6, expect_out(&t, PORT_MARK, 4));
	EXPECT_EQ(0, run->if_flag) TH_LOG("if_flag after CLI");
	EXPECT_EQ(0, run->ready_for_interrupt_injection) TH_LOG("ready_for_interrupt_injection, IF=0");
	run->request_interrupt_window = 1;
	expect_exit(&t, KHV_EXIT_IRQ_WINDOW_OPEN);
	EXPECT_EQ(1, run->if_flag) TH_LOG("if_flag at IRQ_WINDOW_OPEN");
	EXPECT_EQ(1, run->ready_for_interrupt_injection)
		TH_LOG("ready_for_interrupt_injection at IRQ_WINDOW_OPEN");
	run->request_interrupt_window = 0;
	KHV_OK(khv_vcpu_inject_interrupt(&t.vcpu, 0x41));
	expect_delivery(_metadata, &t, 0x41, 0);
	EXPECT_VAL("step", 7, expect_out(&t, PORT_MARK, 4));
	expect_hlt(&t, PAYLOAD_GPA(events_long, events_done));
	khvt_step = NULL;
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
