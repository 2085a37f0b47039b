// SPDX-License-Identifier: GPL-2.0
/*
 * pio: port I/O exits, in real mode and long mode (pio_guest.S).
 *
 * Single IN/OUT: port, size, direction, count and data of every exit; data
 * the test supplies to IN comes back through the guest (with the register
 * bits an IN of that size must preserve or clear).  String I/O: the data of
 * REP OUTS is collected over as many exits as khv needs and compared with
 * the guest buffer; REP INS is fed over as many exits as it takes and the
 * guest buffer checked afterwards; RCX/RSI/RDI are checked after each.
 */
#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(pio_long);
KHVT_DECLARE_PAYLOAD(pio_real);
extern const uint8_t pio_long_done[], pio_real_done[];

static uint8_t out_pattern(size_t i)
{
	return (uint8_t)(i * 13 + 7);
}

/* Element k of the data the test feeds to REP INS of size bytes. */
static uint32_t in_pattern(uint8_t size, uint32_t k)
{
	switch (size) {
	case 1:
		return (uint8_t)(k * 7 + 3);
	case 2:
		return (uint16_t)(0x8000 ^ (k * 0x0101));
	default:
		return k * 0x9e3779b9u + 1;
	}
}

/* Collect n elements of REP OUTS at port; compare with the guest buffer. */
static void str_out(KHVT_MD, struct khvt_vm *t, uint16_t port, uint8_t size, uint32_t n)
{
	const struct khv_run *run = t->vcpu.run;
	size_t total = (size_t)n * size, got = 0, len;
	uint8_t *buf = calloc(1, total);
	unsigned int exits = 0;
	char s[512];

	ASSERT_NE(NULL, buf);
	while (got < total) {
		run_until_exit(t);
		exits++;
		if (run->exit_reason != KHV_EXIT_IO || run->io.direction != KHV_EXIT_IO_OUT ||
		    run->io.port != port || run->io.size != size || run->io.count == 0 ||
		    (size_t)run->io.count * size > total - got) {
			khvt_dump(t);
			KHVT_FAIL("REP OUTS size %u port %#x: %zu of %zu bytes so far, got %s",
				  size, port, got, total, khvt_exit_str(t, s, sizeof(s)));
		}
		len = (size_t)run->io.count * size;
		ASSERT_NE(NULL, khv_vcpu_io_data(&t->vcpu)) {
			khvt_dump(t);
			TH_LOG("io data (offset %#llx, %zu bytes) outside the run mapping",
			       (unsigned long long)run->io.data_offset, len);
		}
		memcpy(buf + got, khv_vcpu_io_data(&t->vcpu), len);
		got += len;
	}
	for (size_t i = 0; i < total; i++) {
		if (buf[i] != out_pattern(i)) {
			KHVT_FAIL("REP OUTS size %u: byte %zu is %#x, guest memory has %#x (%u exits)",
				  size, i, buf[i], out_pattern(i), exits);
		}
	}
	TH_LOG("REP OUTS size %u x %u: %u exit(s)", size, n, exits);
	free(buf);
}

/* Feed n elements to REP INS at port; check the guest buffer afterwards. */
static void str_in(KHVT_MD, struct khvt_vm *t, uint16_t port, uint8_t size, uint32_t n)
{
	const struct khv_run *run = t->vcpu.run;
	unsigned int exits = 0;
	uint32_t k = 0, i;
	char s[512];

	while (k < n) {
		run_until_exit(t);
		exits++;
		if (run->exit_reason != KHV_EXIT_IO || run->io.direction != KHV_EXIT_IO_IN ||
		    run->io.port != port || run->io.size != size || run->io.count == 0 ||
		    run->io.count > n - k) {
			khvt_dump(t);
			KHVT_FAIL("REP INS size %u port %#x: %u of %u elements so far, got %s",
				  size, port, k, n, khvt_exit_str(t, s, sizeof(s)));
		}
		ASSERT_NE(NULL, khv_vcpu_io_data(&t->vcpu)) {
			khvt_dump(t);
			TH_LOG("io data (offset %#llx, %u elements) outside the run mapping",
			       (unsigned long long)run->io.data_offset, run->io.count);
		}
		for (i = 0; i < run->io.count; i++)
			khvt_io_set(t, i, in_pattern(size, k + i));
		k += run->io.count;
	}
	TH_LOG("REP INS size %u x %u: %u exit(s)", size, n, exits);
}

static void check_in_buffer(KHVT_MD, struct khvt_vm *t, uint8_t size, uint32_t n)
{
	const uint8_t *mem = khvt_gpa(t, GUEST_DATA);
	uint32_t k, v;

	for (k = 0; k < n; k++) {
		v = 0;
		memcpy(&v, mem + (size_t)k * size, size);
		if (v != in_pattern(size, k))
			KHVT_FAIL("REP INS size %u: element %u in guest memory is %#x, fed %#x",
				  size, k, v, in_pattern(size, k));
	}
}

static void fill_data(struct khvt_vm *t)
{
	uint8_t *mem = khvt_gpa(t, GUEST_DATA);

	for (size_t i = 0; i < GUEST_DATA_SIZE; i++)
		mem[i] = out_pattern(i);
}

/* Count and index register reports after a string instruction. */
static void str_regs(KHVT_MD, struct khvt_vm *t, bool lm, const char *what, uint64_t idx)
{
	char name[64];

	snprintf(name, sizeof(name), "%s: count register", what);
	EXPECT_VAL(name, 0, lm ? expect_out64(t, PORT_ECHO) : expect_out(t, PORT_ECHO, 2));
	snprintf(name, sizeof(name), "%s: index register", what);
	EXPECT_VAL(name, idx, lm ? expect_out64(t, PORT_ECHO) : expect_out(t, PORT_ECHO, 2));
}

static void pio_sequence(KHVT_MD, struct khvt_vm *t, bool lm)
{
	fill_data(t);

	EXPECT_VAL("OUT imm8, AL", 0x12, expect_out(t, PORT_OUT8, 1));
	EXPECT_VAL("OUT DX, AX", 0x3456, expect_out(t, PORT_DX_OUT16, 2));
	EXPECT_VAL("OUT DX, EAX", 0x89abcdef, expect_out(t, PORT_DX_OUT32, 4));

	expect_in(t, PORT_IN8, 1, 0x5a);
	if (lm)
		EXPECT_VAL("RAX after IN AL", 0x11223344aabbcc5aull, expect_out64(t, PORT_ECHO));
	else
		EXPECT_VAL("EAX after IN AL", 0xaabbcc5a, expect_out(t, PORT_ECHO, 4));
	expect_in(t, PORT_DX_IN16, 2, 0xbeef);
	if (lm)
		EXPECT_VAL("RAX after IN AX", 0x556677881122beefull, expect_out64(t, PORT_ECHO));
	else
		EXPECT_VAL("EAX after IN AX", 0x1122beef, expect_out(t, PORT_ECHO, 4));
	expect_in(t, PORT_DX_IN32, 4, 0xcafef00d);
	if (lm)
		EXPECT_VAL("RAX after IN EAX (zero-extended)", 0xcafef00dull,
			   expect_out64(t, PORT_ECHO));
	else
		EXPECT_VAL("EAX after IN EAX", 0xcafef00d, expect_out(t, PORT_ECHO, 4));

	str_out(_metadata, t, PORT_STR_OUTB, 1, PIO_N_OUTSB);
	str_regs(_metadata, t, lm, "REP OUTSB", GUEST_DATA + PIO_N_OUTSB);
	str_out(_metadata, t, PORT_STR_OUTW, 2, PIO_N_OUTSW);
	str_regs(_metadata, t, lm, "REP OUTSW", GUEST_DATA + 2 * PIO_N_OUTSW);
	str_out(_metadata, t, PORT_STR_OUTL, 4, PIO_N_OUTSL);
	str_regs(_metadata, t, lm, "REP OUTSD", GUEST_DATA + 4 * PIO_N_OUTSL);

	EXPECT_VAL("OUTSB without REP", out_pattern(0), expect_out(t, PORT_STR_OUTB, 1));
	EXPECT_VAL("OUTSB: index register", GUEST_DATA + 1,
		   lm ? expect_out64(t, PORT_ECHO) : expect_out(t, PORT_ECHO, 2));

	str_in(_metadata, t, PORT_STR_INB, 1, PIO_N_INSB);
	str_regs(_metadata, t, lm, "REP INSB", GUEST_DATA + PIO_N_INSB);
	check_in_buffer(_metadata, t, 1, PIO_N_INSB);
	str_in(_metadata, t, PORT_STR_INW, 2, PIO_N_INSW);
	str_regs(_metadata, t, lm, "REP INSW", GUEST_DATA + 2 * PIO_N_INSW);
	check_in_buffer(_metadata, t, 2, PIO_N_INSW);
	str_in(_metadata, t, PORT_STR_INL, 4, PIO_N_INSL);
	str_regs(_metadata, t, lm, "REP INSD", GUEST_DATA + 4 * PIO_N_INSL);
	check_in_buffer(_metadata, t, 4, PIO_N_INSL);
}

TEST(real_mode)
{
	struct khvt_vm t;

	VM_WITH_PAYLOAD(&t, KHVT_REAL, pio_real);
	pio_sequence(_metadata, &t, false);
	expect_hlt(&t, PAYLOAD_GPA(pio_real, pio_real_done));
	khvt_destroy(&t);
}

TEST(long_mode)
{
	struct khvt_vm t;

	VM_WITH_PAYLOAD(&t, KHVT_LONG, pio_long);
	pio_sequence(_metadata, &t, true);
	expect_hlt(&t, PAYLOAD_GPA(pio_long, pio_long_done));
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
