/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khvt: the plumbing shared by the khv selftests, on top of libkhv.
 *
 * Nothing here uses the kselftest harness (kselftest_harness.h defines
 * globals, so only the test's own translation unit may include it); the
 * ASSERT-based helpers are in khvt_harness.h.  Functions return 0 or a
 * negative errno and print diagnostics as TAP comments ("# ...") on stderr.
 */
#ifndef KHVT_H
#define KHVT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libkhv.h>

#include "guest.h"

enum khvt_mode {
	KHVT_REAL,		/* real mode, every segment base 0 */
	KHVT_PROT32,		/* 32-bit protected mode, flat, paging off */
	KHVT_LONG,		/* 64-bit mode, identity map of GUEST_MAP_SIZE */
};

/* A guest payload: bytes between two symbols of a .S file (lib/asm.h). */
struct khvt_payload {
	const char *name;
	const uint8_t *start;
	const uint8_t *end;
};

#define KHVT_DECLARE_PAYLOAD(name) \
	extern const uint8_t name##_start[], name##_end[]
#define PAYLOAD(name) \
	((struct khvt_payload){ #name, name##_start, name##_end })
/* Guest address of MARK(sym) inside payload name, once loaded at GUEST_CODE. */
#define PAYLOAD_GPA(name, sym) \
	((uint64_t)GUEST_CODE + (uint64_t)((sym) - name##_start))

/* One VM, slot 0 = KHVT_MEM_SIZE bytes of RAM at 0, one vCPU (id 0). */
struct khvt_vm {
	struct khv_sys sys;
	struct khv_vm vm;
	struct khv_vcpu vcpu;
	uint8_t *mem;
	enum khvt_mode mode;
	int vendor;		/* KHV_VENDOR_* */
	bool have_sys, have_vm, have_vcpu;
};

/* Seconds a single KHV_RUN may take before khvt_run() gives up. */
#define KHVT_WATCHDOG_SECONDS	10

/*
 * Open /dev/khv, create the VM and vCPU 0, lay out slot 0 (lib/guest.h),
 * copy the payload to GUEST_CODE and put vCPU 0 at its first byte in mode,
 * with RSP = GUEST_STACK_TOP.  Returns 0 or -errno; khvt_no_device(err)
 * tells whether the test should be skipped.
 */
int vm_with_payload(struct khvt_vm *t, enum khvt_mode mode, struct khvt_payload p);
/* The same with the in-kernel irqchip (KHV_CREATE_IRQCHIP before the vCPU). */
int vm_with_irqchip(struct khvt_vm *t, enum khvt_mode mode, struct khvt_payload p);
void khvt_destroy(struct khvt_vm *t);
bool khvt_no_device(int err);

/* Pieces of vm_with_payload for tests that manage VMs themselves. */
int khvt_init_memory(uint8_t *mem, enum khvt_mode mode, struct khvt_payload p);
int khvt_init_vcpu(struct khv_vcpu *vcpu, enum khvt_mode mode, uint64_t rip);
/* The same with TR's type available (9) rather than busy (QEMU TCG, fuzz/ops.c). */
int khvt_init_vcpu_tr(struct khv_vcpu *vcpu, enum khvt_mode mode, uint64_t rip,
		      bool tr_available);

/* Host pointer of guest physical gpa in slot 0, or NULL. */
void *khvt_gpa(struct khvt_vm *t, uint64_t gpa);
/* Point IDT vector (IVT in real mode) at handler_gpa. */
int khvt_set_gate(struct khvt_vm *t, unsigned int vector, uint64_t handler_gpa);

/*
 * One KHV_RUN under a watchdog: 0, -ETIMEDOUT when the guest did not exit
 * within KHVT_WATCHDOG_SECONDS, or the -errno of KHV_RUN.
 */
int khvt_run(struct khvt_vm *t);

/* Element i of the data of the current KHV_EXIT_IO exit, and its setter. */
uint64_t khvt_io_get(struct khvt_vm *t, uint32_t i);
void khvt_io_set(struct khvt_vm *t, uint32_t i, uint64_t value);
/* MMIO data of the current exit as a little-endian integer, and its setter. */
uint64_t khvt_mmio_get(struct khvt_vm *t);
void khvt_mmio_set(struct khvt_vm *t, uint64_t value);

/*
 * Print the current exit, the registers and the main system registers,
 * then khvt_dump_irq(): the vCPU's mp_state, pending events and, with an
 * in-kernel irqchip, its local APIC (what a vCPU that never woke shows).
 */
void khvt_dump(struct khvt_vm *t);
void khvt_dump_irq(struct khv_vcpu *vcpu);
/* One line describing the current exit, for assertion messages. */
const char *khvt_exit_str(struct khvt_vm *t, char *buf, size_t len);
/* "#GP" for 13 etc. */
const char *khvt_vector_name(unsigned int vector);

/* /proc/meminfo field in KiB, or -1. */
long khvt_meminfo_kib(const char *field);

/*
 * size bytes of private anonymous memory at a 2 MiB-aligned address (so
 * that THP can back it with 2 MiB pages), or NULL; munmap() it.
 */
void *khvt_alloc_2m_aligned(size_t size);
/* AnonHugePages of the mapping that starts at p (/proc/self/smaps), in KiB, or -1. */
long khvt_anon_huge_kib(const void *p);
/* One vCPU more, in mode at rip and RUNNABLE (for an irqchip VM's APs). */
int khvt_add_vcpu(struct khvt_vm *t, uint32_t id, struct khv_vcpu *vcpu, uint64_t rip);

/* The first line of a file (sysfs, procfs), newline dropped; false if unreadable. */
bool khvt_read_line(const char *path, char *buf, size_t len);
/* Write @val to a file (a module parameter); false if it could not. */
bool khvt_write_line(const char *path, const char *val);

/*
 * Pages pinned with FOLL_PIN anywhere in the kernel right now (from
 * /proc/vmstat, per-CPU deltas folded in first), or LONG_MIN.
 */
long khvt_pins_outstanding(void);

/* A page that faults on any access (for EFAULT tests). */
void *khvt_bad_page(void);

/*
 * The kernel log from now on: khvt_kmsg_open() returns an fd on /dev/kmsg
 * positioned at its end (or -errno); khvt_kmsg_problems() reads what was
 * logged since and returns how many records report a host-side problem
 * (WARNING, BUG, Oops, a bad FPU state, a general protection fault, a
 * failed MMU-notifier callback, a lockdep or KASAN report, a stall or hung
 * task), each printed as a TAP comment, the first copied to first (len 0:
 * none).
 */
int khvt_kmsg_open(void);
int khvt_kmsg_problems(int fd, char *first, size_t len);

/* True when the machine this runs on is QEMU's TCG (CPUID 0x40000000). */
bool khvt_under_tcg(void);

#endif /* KHVT_H */
