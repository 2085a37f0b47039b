/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ASSERT-based helpers for the khv selftests.  Include this once, from the
 * test's own .c file (it pulls in kselftest_harness.h, which defines
 * globals).  Every helper is a macro taking the calling line, so a failure
 * names the test line that expected the exit, then dumps the exit, the
 * registers and the system registers (khvt_dump()).
 */
#ifndef KHVT_HARNESS_H
#define KHVT_HARNESS_H

#include <errno.h>
#include <string.h>

/*
 * The 6.1 harness's TEST() wrapper ignores its "variant" parameter, which
 * -Wextra reports at every TEST() of the including file.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "khvt.h"

#define KHVT_MD struct __test_metadata *_metadata

/* What the test is doing, for failure messages (set with khvt_step = "..."). */
static const char *khvt_step __attribute__((unused));

/* Fail the test with a message (after the dump, if any). */
#define KHVT_FAIL(fmt, ...) do {			\
	TH_LOG(fmt, ##__VA_ARGS__);			\
	if (khvt_step)					\
		TH_LOG("step: %s", khvt_step);		\
	ASSERT_TRUE(0);					\
} while (0)

/* Create t with payload name in mode, or skip when there is no /dev/khv. */
#define VM_WITH_PAYLOAD(t, mode, name) do {					\
	int __r = vm_with_payload((t), (mode), PAYLOAD(name));			\
	if (khvt_no_device(__r))						\
		SKIP(return, "no khv device: %s", strerror(-__r));		\
	ASSERT_EQ(0, __r) {							\
		TH_LOG("vm_with_payload(%s): %s", #name, strerror(-__r));	\
	}									\
} while (0)

/* A libkhv call returning 0 or -errno must succeed. */
#define KHV_OK(expr) do {							\
	int __r = (expr);							\
	ASSERT_EQ(0, __r) {							\
		TH_LOG("%s: %s", #expr, strerror(-__r));			\
	}									\
} while (0)

/* Skip unless capability cap is present. */
#define REQUIRE_CAP(t, cap) do {						\
	if (khv_check_extension(&(t)->sys, (cap)) <= 0)				\
		SKIP(return, "%s not reported by KHV_CHECK_EXTENSION", #cap);	\
} while (0)

/* ---- running ------------------------------------------------------------ */

static inline void __run_until_exit(KHVT_MD, int line, struct khvt_vm *t)
{
	const struct khv_run *run = t->vcpu.run;
	int r = khvt_run(t);

	if (r == -ETIMEDOUT) {
		khvt_dump(t);
		KHVT_FAIL("line %d: the guest did not exit within %d s", line,
			  KHVT_WATCHDOG_SECONDS);
	}
	if (r) {
		khvt_dump(t);
		KHVT_FAIL("line %d: KHV_RUN: %s", line, strerror(-r));
	}
	if (run->exit_reason == KHV_EXIT_IO && run->io.port == PORT_EXC &&
	    run->io.direction == KHV_EXIT_IO_OUT) {
		khvt_dump(t);
		KHVT_FAIL("line %d: the guest took an exception it did not expect", line);
	}
}
#define run_until_exit(t) __run_until_exit(_metadata, __LINE__, (t))

static inline void __expect_exit(KHVT_MD, int line, struct khvt_vm *t, uint32_t reason)
{
	const struct khv_run *run = t->vcpu.run;

	__run_until_exit(_metadata, line, t);
	if (run->exit_reason != reason) {
		khvt_dump(t);
		KHVT_FAIL("line %d: expected exit %s, got %s", line,
			  khv_exit_reason_name(reason), khv_exit_reason_name(run->exit_reason));
	}
}
#define expect_exit(t, reason) __expect_exit(_metadata, __LINE__, (t), (reason))

/* HLT exit with RIP == rip (the address after the HLT). */
static inline void __expect_hlt(KHVT_MD, int line, struct khvt_vm *t, uint64_t rip)
{
	struct khv_regs r;

	__expect_exit(_metadata, line, t, KHV_EXIT_HLT);
	KHV_OK(khv_vcpu_get_regs(&t->vcpu, &r));
	if (r.rip != rip) {
		khvt_dump(t);
		KHVT_FAIL("line %d: HLT exit with RIP %#llx, expected %#llx", line,
			  r.rip, (unsigned long long)rip);
	}
}
#define expect_hlt(t, rip) __expect_hlt(_metadata, __LINE__, (t), (rip))

/* A single (non-string) IN or OUT of size bytes at port. */
static inline void __expect_io(KHVT_MD, int line, struct khvt_vm *t, uint8_t dir,
			       uint16_t port, uint8_t size)
{
	const struct khv_run *run = t->vcpu.run;
	char buf[512];

	__run_until_exit(_metadata, line, t);
	if (run->exit_reason != KHV_EXIT_IO || run->io.direction != dir ||
	    run->io.port != port || run->io.size != size || run->io.count != 1) {
		khvt_dump(t);
		KHVT_FAIL("line %d: expected IO %s port %#x size %u count 1, got %s", line,
			  dir == KHV_EXIT_IO_OUT ? "OUT" : "IN", port, size,
			  khvt_exit_str(t, buf, sizeof(buf)));
	}
	if (!khv_vcpu_io_data(&t->vcpu)) {
		khvt_dump(t);
		KHVT_FAIL("line %d: io.data_offset %#llx (count %u size %u) outside the run mapping",
			  line, (unsigned long long)run->io.data_offset, run->io.count, size);
	}
}

static inline uint32_t __expect_out(KHVT_MD, int line, struct khvt_vm *t,
				    uint16_t port, uint8_t size)
{
	__expect_io(_metadata, line, t, KHV_EXIT_IO_OUT, port, size);
	return (uint32_t)khvt_io_get(t, 0);
}
#define expect_out(t, port, size) __expect_out(_metadata, __LINE__, (t), (port), (size))

/* Two 4-byte OUTs to port, low half first. */
static inline uint64_t __expect_out64(KHVT_MD, int line, struct khvt_vm *t, uint16_t port)
{
	uint64_t lo = __expect_out(_metadata, line, t, port, 4);
	uint64_t hi = __expect_out(_metadata, line, t, port, 4);

	return lo | hi << 32;
}
#define expect_out64(t, port) __expect_out64(_metadata, __LINE__, (t), (port))

static inline void __expect_in(KHVT_MD, int line, struct khvt_vm *t, uint16_t port,
			       uint8_t size, uint32_t value)
{
	__expect_io(_metadata, line, t, KHV_EXIT_IO_IN, port, size);
	khvt_io_set(t, 0, value);
}
#define expect_in(t, port, size, value) \
	__expect_in(_metadata, __LINE__, (t), (port), (size), (value))

/* An MMIO exit of len bytes at gpa, a write or a read. */
static inline void __expect_mmio(KHVT_MD, int line, struct khvt_vm *t, uint64_t gpa,
				 uint32_t len, bool is_write)
{
	const struct khv_run *run = t->vcpu.run;
	char buf[512];

	__run_until_exit(_metadata, line, t);
	if (run->exit_reason != KHV_EXIT_MMIO || run->mmio.phys_addr != gpa ||
	    run->mmio.len != len || !!run->mmio.is_write != is_write) {
		khvt_dump(t);
		KHVT_FAIL("line %d: expected MMIO %s gpa %#llx len %u, got %s", line,
			  is_write ? "write" : "read", (unsigned long long)gpa, len,
			  khvt_exit_str(t, buf, sizeof(buf)));
	}
}

static inline void __expect_mmio_write(KHVT_MD, int line, struct khvt_vm *t, uint64_t gpa,
				       uint32_t len, uint64_t value)
{
	uint64_t data;

	__expect_mmio(_metadata, line, t, gpa, len, true);
	data = khvt_mmio_get(t);
	if (data != value) {
		khvt_dump(t);
		KHVT_FAIL("line %d: MMIO write of %u bytes at %#llx: data %#llx, expected %#llx",
			  line, len, (unsigned long long)gpa, (unsigned long long)data,
			  (unsigned long long)value);
	}
}
#define expect_mmio_write(t, gpa, len, value) \
	__expect_mmio_write(_metadata, __LINE__, (t), (gpa), (len), (value))

static inline void __expect_mmio_read(KHVT_MD, int line, struct khvt_vm *t, uint64_t gpa,
				      uint32_t len, uint64_t value)
{
	__expect_mmio(_metadata, line, t, gpa, len, false);
	khvt_mmio_set(t, value);
}
#define expect_mmio_read(t, gpa, len, value) \
	__expect_mmio_read(_metadata, __LINE__, (t), (gpa), (len), (value))

/* Compare a 64-bit value the guest reported with the expected one. */
#define EXPECT_VAL(what, expected, seen) do {					\
	unsigned long long __e = (expected), __s = (seen);			\
	EXPECT_EQ(__e, __s) {							\
		TH_LOG("%s: expected %#llx, got %#llx", (what), __e, __s);	\
	}									\
} while (0)
#define ASSERT_VAL(what, expected, seen) do {					\
	unsigned long long __e = (expected), __s = (seen);			\
	ASSERT_EQ(__e, __s) {							\
		TH_LOG("%s: expected %#llx, got %#llx", (what), __e, __s);	\
	}									\
} while (0)

/* ---- payloads with entry points and "faulting" (lib/faulting.h) -------- */

/* Put RIP at @rip, with R8.. = in[0..n) (R8..R14; R15 is "faulting"'s). */
static inline void __khvt_start(KHVT_MD, struct khvt_vm *t, uint64_t rip, const uint64_t *in,
				unsigned int n)
{
	struct khv_regs r;
	unsigned long long *const gpr[] = { &r.r8, &r.r9, &r.r10, &r.r11, &r.r12, &r.r13, &r.r14 };
	unsigned int i;

	ASSERT_LE(n, 7u);
	KHV_OK(khv_vcpu_get_regs(&t->vcpu, &r));
	for (i = 0; i < n; i++)
		*gpr[i] = in[i];
	r.rip = rip;
	KHV_OK(khv_vcpu_set_regs(&t->vcpu, &r));
}
#define start_at(t, rip, in, n)	__khvt_start(_metadata, (t), (rip), (in), (n))

/* What "faulting" reports when the instruction completed. */
#define KHVT_NO_FAULT	0xffffffffu

/* The report of a "faulting" instruction: @vector with @err at @rip. */
static inline void __expect_fault(KHVT_MD, int line, struct khvt_vm *t, const char *insn,
				  uint32_t vector, uint32_t err, uint64_t rip)
{
	uint32_t v = __expect_out(_metadata, line, t, PORT_ECHO, 4);
	uint32_t e, at;

	if (v == KHVT_NO_FAULT)
		KHVT_FAIL("line %d: %s completed, expected %s", line, insn,
			  khvt_vector_name(vector));
	if (v != vector)
		KHVT_FAIL("line %d: %s raised %s (vector %u), expected %s", line, insn,
			  khvt_vector_name(v), v, khvt_vector_name(vector));
	e = __expect_out(_metadata, line, t, PORT_ECHO, 4);
	at = __expect_out(_metadata, line, t, PORT_ECHO, 4);
	EXPECT_EQ(err, e) TH_LOG("line %d: %s: error code %#x, expected %#x", line, insn, e, err);
	EXPECT_EQ((uint32_t)rip, at)
		TH_LOG("line %d: %s: %s at RIP %#x, expected %#x (the instruction)", line, insn,
		       khvt_vector_name(vector), at, (uint32_t)rip);
}
#define expect_fault(t, insn, vector, err, rip) \
	__expect_fault(_metadata, __LINE__, (t), (insn), (vector), (err), (rip))

/* ---- lib/server.S ------------------------------------------------------- */

KHVT_DECLARE_PAYLOAD(server64);
extern const uint8_t srv_gp[];

#define srv_op(t, op)	__expect_in(_metadata, __LINE__, (t), PORT_SRV_OP, 4, (op))
#define srv_arg(t, v)	__expect_in(_metadata, __LINE__, (t), PORT_SRV_ARG, 4, (uint32_t)(v))
#define srv_res(t)	__expect_out(_metadata, __LINE__, (t), PORT_SRV_RES, 4)

/* Install srv_gp as the #GP handler of a server64 VM. */
#define srv_catch_gp(t) \
	KHV_OK(khvt_set_gate((t), 13, PAYLOAD_GPA(server64, srv_gp)))

/* The next result, or the vector srv_gp reported (*err = error code). */
static inline unsigned int __srv_res_or_fault(KHVT_MD, int line, struct khvt_vm *t,
					      uint32_t *value, uint32_t *err)
{
	const struct khv_run *run = t->vcpu.run;
	struct khv_regs r;
	char buf[512];

	__run_until_exit(_metadata, line, t);
	if (run->exit_reason == KHV_EXIT_IO && run->io.direction == KHV_EXIT_IO_OUT &&
	    run->io.port == PORT_SRV_FAULT && run->io.size == 4) {
		KHV_OK(khv_vcpu_get_regs(&t->vcpu, &r));
		*err = (uint32_t)r.rbx;
		return (unsigned int)khvt_io_get(t, 0);
	}
	if (run->exit_reason != KHV_EXIT_IO || run->io.direction != KHV_EXIT_IO_OUT ||
	    run->io.port != PORT_SRV_RES || run->io.size != 4 || run->io.count != 1) {
		khvt_dump(t);
		KHVT_FAIL("line %d: expected a server result or fault, got %s", line,
			  khvt_exit_str(t, buf, sizeof(buf)));
	}
	*value = (uint32_t)khvt_io_get(t, 0);
	return 0;
}

static inline void __srv_cpuid(KHVT_MD, int line, struct khvt_vm *t, uint32_t fn,
			       uint32_t idx, uint32_t out[4])
{
	int i;

	__expect_in(_metadata, line, t, PORT_SRV_OP, 4, SRV_CPUID);
	__expect_in(_metadata, line, t, PORT_SRV_ARG, 4, fn);
	__expect_in(_metadata, line, t, PORT_SRV_ARG, 4, idx);
	for (i = 0; i < 4; i++)
		out[i] = __expect_out(_metadata, line, t, PORT_SRV_RES, 4);
}
#define srv_cpuid(t, fn, idx, out) __srv_cpuid(_metadata, __LINE__, (t), (fn), (idx), (out))

/* Guest RDMSR: 0 and *val, or the vector it raised and *err. */
static inline unsigned int __srv_rdmsr(KHVT_MD, int line, struct khvt_vm *t, uint32_t idx,
				       uint64_t *val, uint32_t *err)
{
	uint32_t lo = 0, hi = 0;
	unsigned int vec;

	__expect_in(_metadata, line, t, PORT_SRV_OP, 4, SRV_RDMSR);
	__expect_in(_metadata, line, t, PORT_SRV_ARG, 4, idx);
	vec = __srv_res_or_fault(_metadata, line, t, &lo, err);
	if (vec)
		return vec;
	hi = __expect_out(_metadata, line, t, PORT_SRV_RES, 4);
	*val = (uint64_t)hi << 32 | lo;
	return 0;
}
#define srv_rdmsr(t, idx, val, err) __srv_rdmsr(_metadata, __LINE__, (t), (idx), (val), (err))

static inline unsigned int __srv_wrmsr(KHVT_MD, int line, struct khvt_vm *t, uint32_t idx,
				       uint64_t val, uint32_t *err)
{
	uint32_t ack = 0;

	__expect_in(_metadata, line, t, PORT_SRV_OP, 4, SRV_WRMSR);
	__expect_in(_metadata, line, t, PORT_SRV_ARG, 4, idx);
	__expect_in(_metadata, line, t, PORT_SRV_ARG, 4, (uint32_t)val);
	__expect_in(_metadata, line, t, PORT_SRV_ARG, 4, (uint32_t)(val >> 32));
	return __srv_res_or_fault(_metadata, line, t, &ack, err);
}
#define srv_wrmsr(t, idx, val, err) __srv_wrmsr(_metadata, __LINE__, (t), (idx), (val), (err))

/*
 * Guest 8-byte read at gpa.  mmio NULL: RAM, no exit expected; else an MMIO
 * read exit is expected and answered with *mmio.
 */
static inline uint64_t __srv_read64(KHVT_MD, int line, struct khvt_vm *t, uint64_t gpa,
				    const uint64_t *mmio)
{
	uint64_t lo, hi;

	__expect_in(_metadata, line, t, PORT_SRV_OP, 4, SRV_READ64);
	__expect_in(_metadata, line, t, PORT_SRV_ARG, 4, (uint32_t)gpa);
	__expect_in(_metadata, line, t, PORT_SRV_ARG, 4, (uint32_t)(gpa >> 32));
	if (mmio)
		__expect_mmio_read(_metadata, line, t, gpa, 8, *mmio);
	lo = __expect_out(_metadata, line, t, PORT_SRV_RES, 4);
	hi = __expect_out(_metadata, line, t, PORT_SRV_RES, 4);
	return lo | hi << 32;
}
#define srv_read64(t, gpa, mmio) __srv_read64(_metadata, __LINE__, (t), (gpa), (mmio))

/* Guest 8-byte write at gpa; mmio: expect it as an MMIO write exit. */
static inline void __srv_write64(KHVT_MD, int line, struct khvt_vm *t, uint64_t gpa,
				 uint64_t val, bool mmio)
{
	__expect_in(_metadata, line, t, PORT_SRV_OP, 4, SRV_WRITE64);
	__expect_in(_metadata, line, t, PORT_SRV_ARG, 4, (uint32_t)gpa);
	__expect_in(_metadata, line, t, PORT_SRV_ARG, 4, (uint32_t)(gpa >> 32));
	__expect_in(_metadata, line, t, PORT_SRV_ARG, 4, (uint32_t)val);
	__expect_in(_metadata, line, t, PORT_SRV_ARG, 4, (uint32_t)(val >> 32));
	if (mmio)
		__expect_mmio_write(_metadata, line, t, gpa, 8, val);
	__expect_out(_metadata, line, t, PORT_SRV_RES, 4);
}
#define srv_write64(t, gpa, val, mmio) \
	__srv_write64(_metadata, __LINE__, (t), (gpa), (val), (mmio))

/* SRV_HALT: the guest executes HLT. */
static inline void __srv_halt(KHVT_MD, int line, struct khvt_vm *t)
{
	__expect_in(_metadata, line, t, PORT_SRV_OP, 4, SRV_HALT);
	__expect_exit(_metadata, line, t, KHV_EXIT_HLT);
}
#define srv_halt(t) __srv_halt(_metadata, __LINE__, (t))

#endif /* KHVT_HARNESS_H */
