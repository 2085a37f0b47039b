// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The uapi structures, byte by byte: sizes and the offset of every field.
 * These numbers are the ABI; the kernel side asserts the same sizes.
 */
#include <stddef.h>

#include "test.h"

#define SIZE(type, n)		CHECK_EQ(sizeof(struct type), (n))
#define OFF(type, field, n)	CHECK_EQ(offsetof(struct type, field), (n))
#define FSIZE(type, field, n)	CHECK_EQ(sizeof(((struct type *)0)->field), (n))

static void layout_memory_region(void)
{
	SIZE(khv_userspace_memory_region, 32);
	OFF(khv_userspace_memory_region, slot, 0);
	OFF(khv_userspace_memory_region, flags, 4);
	OFF(khv_userspace_memory_region, guest_phys_addr, 8);
	OFF(khv_userspace_memory_region, memory_size, 16);
	OFF(khv_userspace_memory_region, userspace_addr, 24);
	SIZE(khv_dirty_log, 48);
	OFF(khv_dirty_log, slot, 0);
	OFF(khv_dirty_log, flags, 4);
	OFF(khv_dirty_log, first_page, 8);
	OFF(khv_dirty_log, num_pages, 16);
	OFF(khv_dirty_log, bitmap, 24);
	OFF(khv_dirty_log, reserved, 32);
	SIZE(khv_clock_data, 64);
	OFF(khv_clock_data, clock, 0);
	OFF(khv_clock_data, flags, 8);
	OFF(khv_clock_data, realtime, 16);
	SIZE(khv_debugregs, 128);
	OFF(khv_debugregs, dr6, 32);
	OFF(khv_debugregs, dr7, 40);
	OFF(khv_debugregs, flags, 48);
	SIZE(khv_xcrs, 392);
	OFF(khv_xcrs, xcrs, 8);
	OFF(khv_xcrs, reserved, 264);
	SIZE(khv_msr_list, 8);
}

static void layout_regs(void)
{
	SIZE(khv_regs, 144);
	OFF(khv_regs, rax, 0);
	OFF(khv_regs, rbx, 8);
	OFF(khv_regs, rcx, 16);
	OFF(khv_regs, rdx, 24);
	OFF(khv_regs, rsi, 32);
	OFF(khv_regs, rdi, 40);
	OFF(khv_regs, rsp, 48);
	OFF(khv_regs, rbp, 56);
	OFF(khv_regs, r8, 64);
	OFF(khv_regs, r9, 72);
	OFF(khv_regs, r10, 80);
	OFF(khv_regs, r11, 88);
	OFF(khv_regs, r12, 96);
	OFF(khv_regs, r13, 104);
	OFF(khv_regs, r14, 112);
	OFF(khv_regs, r15, 120);
	OFF(khv_regs, rip, 128);
	OFF(khv_regs, rflags, 136);
}

static void layout_sregs(void)
{
	SIZE(khv_segment, 24);
	OFF(khv_segment, base, 0);
	OFF(khv_segment, limit, 8);
	OFF(khv_segment, selector, 12);
	OFF(khv_segment, type, 14);
	OFF(khv_segment, present, 15);
	OFF(khv_segment, dpl, 16);
	OFF(khv_segment, db, 17);
	OFF(khv_segment, s, 18);
	OFF(khv_segment, l, 19);
	OFF(khv_segment, g, 20);
	OFF(khv_segment, avl, 21);
	OFF(khv_segment, unusable, 22);
	OFF(khv_segment, pad, 23);

	SIZE(khv_dtable, 16);
	OFF(khv_dtable, base, 0);
	OFF(khv_dtable, limit, 8);
	OFF(khv_dtable, pad, 10);

	SIZE(khv_sregs, 312);
	OFF(khv_sregs, cs, 0);
	OFF(khv_sregs, ds, 24);
	OFF(khv_sregs, es, 48);
	OFF(khv_sregs, fs, 72);
	OFF(khv_sregs, gs, 96);
	OFF(khv_sregs, ss, 120);
	OFF(khv_sregs, tr, 144);
	OFF(khv_sregs, ldt, 168);
	OFF(khv_sregs, gdt, 192);
	OFF(khv_sregs, idt, 208);
	OFF(khv_sregs, cr0, 224);
	OFF(khv_sregs, cr2, 232);
	OFF(khv_sregs, cr3, 240);
	OFF(khv_sregs, cr4, 248);
	OFF(khv_sregs, cr8, 256);
	OFF(khv_sregs, efer, 264);
	OFF(khv_sregs, apic_base, 272);
	OFF(khv_sregs, reserved, 280);

	SIZE(khv_xsave, 4096);
}

static void layout_msr_cpuid(void)
{
	SIZE(khv_msr_entry, 16);
	OFF(khv_msr_entry, index, 0);
	OFF(khv_msr_entry, reserved, 4);
	OFF(khv_msr_entry, data, 8);
	SIZE(khv_msrs, 8);
	OFF(khv_msrs, nmsrs, 0);
	OFF(khv_msrs, pad, 4);
	OFF(khv_msrs, entries, 8);

	SIZE(khv_cpuid_entry, 32);
	OFF(khv_cpuid_entry, function, 0);
	OFF(khv_cpuid_entry, index, 4);
	OFF(khv_cpuid_entry, flags, 8);
	OFF(khv_cpuid_entry, eax, 12);
	OFF(khv_cpuid_entry, ebx, 16);
	OFF(khv_cpuid_entry, ecx, 20);
	OFF(khv_cpuid_entry, edx, 24);
	OFF(khv_cpuid_entry, reserved, 28);
	SIZE(khv_cpuid, 8);
	OFF(khv_cpuid, nent, 0);
	OFF(khv_cpuid, pad, 4);
	OFF(khv_cpuid, entries, 8);
}

static void layout_event_stats(void)
{
	SIZE(khv_event, 24);
	OFF(khv_event, type, 0);
	OFF(khv_event, vector, 1);
	OFF(khv_event, has_error_code, 2);
	OFF(khv_event, pad, 3);
	OFF(khv_event, error_code, 4);
	OFF(khv_event, reserved, 8);

	SIZE(khv_exit_stat, 48);
	OFF(khv_exit_stat, kind, 0);
	OFF(khv_exit_stat, code, 4);
	OFF(khv_exit_stat, count, 8);
	OFF(khv_exit_stat, name, 16);
	FSIZE(khv_exit_stat, name, 32);
	SIZE(khv_exit_stats, 8);
	OFF(khv_exit_stats, nent, 0);
	OFF(khv_exit_stats, pad, 4);
	OFF(khv_exit_stats, entries, 8);
}

/*
 * struct khv_run: 8 bytes of input, then exit_reason and hw_exit_reason
 * (8), the interrupt flags with padding (8) and reserved[4] (32), so the
 * union starts at 8 + 8 + 8 + 32 = 56 and is 256 bytes: 312 in all.
 */
static void layout_run(void)
{
	SIZE(khv_run, 312);
	OFF(khv_run, request_interrupt_window, 0);
	OFF(khv_run, immediate_exit, 1);
	OFF(khv_run, pad0, 2);
	OFF(khv_run, exit_reason, 8);
	OFF(khv_run, hw_exit_reason, 12);
	OFF(khv_run, ready_for_interrupt_injection, 16);
	OFF(khv_run, if_flag, 17);
	OFF(khv_run, pad1, 18);
	OFF(khv_run, reserved, 24);
	OFF(khv_run, padding, 56);
	FSIZE(khv_run, padding, 256);

	OFF(khv_run, fail_entry.hardware_entry_failure_reason, 56);
	OFF(khv_run, fail_entry.cpu, 64);
	OFF(khv_run, fail_entry.pad, 68);

	OFF(khv_run, io.direction, 56);
	OFF(khv_run, io.size, 57);
	OFF(khv_run, io.port, 58);
	OFF(khv_run, io.count, 60);
	OFF(khv_run, io.data_offset, 64);

	OFF(khv_run, mmio.phys_addr, 56);
	OFF(khv_run, mmio.data, 64);
	OFF(khv_run, mmio.len, 72);
	OFF(khv_run, mmio.is_write, 76);
	OFF(khv_run, mmio.pad, 77);

	OFF(khv_run, hypercall.nr, 56);
	OFF(khv_run, hypercall.args, 64);
	OFF(khv_run, hypercall.ret, 112);

	OFF(khv_run, internal.suberror, 56);
	OFF(khv_run, internal.ndata, 60);
	OFF(khv_run, internal.data, 64);
	FSIZE(khv_run, internal.data, 128);

	/* No union member may outgrow the padding that fixes its size. */
	CHECK(sizeof(((struct khv_run *)0)->fail_entry) <= 256);
	CHECK(sizeof(((struct khv_run *)0)->io) <= 256);
	CHECK(sizeof(((struct khv_run *)0)->mmio) <= 256);
	CHECK(sizeof(((struct khv_run *)0)->hypercall) <= 256);
	CHECK(sizeof(((struct khv_run *)0)->internal) <= 256);

	/* The run structure and the I/O data page share the mapping. */
	CHECK(sizeof(struct khv_run) <= KHV_IO_DATA_OFFSET);
	CHECK_EQ(KHV_RUN_MMAP_SIZE - KHV_IO_DATA_OFFSET, 4096);
}

static void layout_irqchip(void)
{
	SIZE(khv_irq_level, 16);
	SIZE(khv_msi, 32);
	SIZE(khv_irqfd, 48);
	SIZE(khv_ioeventfd, 48);
	SIZE(khv_mp_state, 8);
	SIZE(khv_pic_chip_state, 16);
	OFF(khv_pic_chip_state, init_step, 7);
	OFF(khv_pic_chip_state, flags, 8);
	SIZE(khv_ioapic_state, 216);
	OFF(khv_ioapic_state, lines, 16);
	OFF(khv_ioapic_state, redir, 24);
	SIZE(khv_pit_channel_state, 24);
	OFF(khv_pit_channel_state, mode, 4);
	OFF(khv_pit_channel_state, latch, 8);
	OFF(khv_pit_channel_state, flags, 10);
	OFF(khv_pit_channel_state, elapsed_ns, 16);
	SIZE(khv_pit_state, 88);
	OFF(khv_pit_state, flags, 72);
	OFF(khv_pit_state, irq0_in_ns, 80);
	SIZE(khv_irqchip_state, 400);
	OFF(khv_irqchip_state, ioapic, 32);
	OFF(khv_irqchip_state, pit, 248);
	OFF(khv_irqchip_state, reserved, 336);
	SIZE(khv_lapic_state, 1080);
	OFF(khv_lapic_state, tsc_deadline, 8);
	OFF(khv_lapic_state, regs, 16);
	OFF(khv_lapic_state, esr_pending, 1040);
	OFF(khv_lapic_state, reserved, 1048);
	SIZE(khv_vcpu_events, 96);
	OFF(khv_vcpu_events, exception.error_code, 4);
	OFF(khv_vcpu_events, exception.payload, 8);
	OFF(khv_vcpu_events, injected.valid, 16);
	OFF(khv_vcpu_events, injected.error_code, 20);
	OFF(khv_vcpu_events, nmi.masked, 25);
	OFF(khv_vcpu_events, interrupt.vector, 33);
	OFF(khv_vcpu_events, shadow, 40);
	OFF(khv_vcpu_events, reserved, 48);
}

void test_layout(void)
{
	layout_memory_region();
	layout_regs();
	layout_sregs();
	layout_msr_cpuid();
	layout_event_stats();
	layout_run();
	layout_irqchip();
}
