// SPDX-License-Identifier: GPL-2.0
/*
 * The ABI's sizes and offsets, fixed at build time.  uapi/linux/khv.h
 * promises explicit sizes and padding; a change that moves a field breaks the
 * build here (and libkhv's layout tests in userspace) instead of a VMM.
 */
#include <linux/build_bug.h>
#include <linux/stddef.h>

#include "khv.h"

static_assert(sizeof(struct khv_userspace_memory_region) == 32);
static_assert(sizeof(struct khv_dirty_log) == 48);
static_assert(sizeof(struct khv_debugregs) == 128);
static_assert(sizeof(struct khv_xcrs) == 392);
static_assert(sizeof(struct khv_clock_data) == 64);
static_assert(sizeof(struct khv_msr_list) == 8);
static_assert(sizeof(struct khv_regs) == 144);
static_assert(sizeof(struct khv_segment) == 24);
static_assert(sizeof(struct khv_dtable) == 16);
static_assert(sizeof(struct khv_sregs) == 312);
static_assert(offsetof(struct khv_sregs, cr0) == 224);
static_assert(sizeof(struct khv_xsave) == 4096);
static_assert(sizeof(struct khv_msr_entry) == 16);
static_assert(sizeof(struct khv_msrs) == 8);
static_assert(sizeof(struct khv_cpuid_entry) == 32);
static_assert(sizeof(struct khv_cpuid) == 8);
static_assert(sizeof(struct khv_event) == 24);
static_assert(sizeof(struct khv_exit_stat) == 48);
static_assert(sizeof(struct khv_exit_stats) == 8);
static_assert(sizeof(struct khv_irq_level) == 16);
static_assert(sizeof(struct khv_msi) == 32);
static_assert(sizeof(struct khv_irqfd) == 48);
static_assert(sizeof(struct khv_ioeventfd) == 48);
static_assert(sizeof(struct khv_mp_state) == 8);
static_assert(sizeof(struct khv_pic_chip_state) == 16);
static_assert(sizeof(struct khv_ioapic_state) == 216);
static_assert(sizeof(struct khv_pit_channel_state) == 24);
static_assert(sizeof(struct khv_pit_state) == 88);
static_assert(sizeof(struct khv_irqchip_state) == 400);
static_assert(offsetof(struct khv_irqchip_state, pit) == 248);
static_assert(sizeof(struct khv_lapic_state) == 1080);
static_assert(offsetof(struct khv_lapic_state, esr_pending) == 1040);
static_assert(sizeof(struct khv_vcpu_events) == 96);
static_assert(offsetof(struct khv_vcpu_events, shadow) == 40);

/* The run page: 56 bytes of header, then the 256-byte union. */
static_assert(offsetof(struct khv_run, exit_reason) == 8);
static_assert(offsetof(struct khv_run, hw_exit_reason) == 12);
static_assert(offsetof(struct khv_run, ready_for_interrupt_injection) == 16);
static_assert(offsetof(struct khv_run, fail_entry) == 56);
static_assert(offsetof(struct khv_run, io.data_offset) == 64);
static_assert(offsetof(struct khv_run, mmio.len) == 72);
static_assert(offsetof(struct khv_run, hypercall.ret) == 112);
static_assert(offsetof(struct khv_run, internal.data) == 64);
static_assert(sizeof(struct khv_run) == 312);
static_assert(sizeof(struct khv_run) <= KHV_IO_DATA_OFFSET);
static_assert(KHV_IO_DATA_OFFSET + PAGE_SIZE <= KHV_RUN_MMAP_SIZE);
static_assert(KHV_EXIT_MAX <= KHV_MAX_EXIT_STATS);
