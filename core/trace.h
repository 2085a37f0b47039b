/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints: every hardware exit and every exit to userspace, every event
 * injected at an entry, every interrupt taken from an interrupt controller,
 * the APIC timer's expiries and a halted vCPU's sleeps, so a lab user can
 * watch a guest with `trace-cmd record -e khv` or
 * /sys/kernel/tracing/events/khv/, and follow an interrupt from its source
 * to the guest.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM khv

#if !defined(KHV_CORE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define KHV_CORE_TRACE_H

#include <linux/tracepoint.h>

const char *khv_exit_name(u32 hw_code);

/* Who answers a PIO or MMIO access (khv_pio, khv_mmio). */
#define KHV_TRACE_USER		0
#define KHV_TRACE_KERNEL	1
#define KHV_TRACE_IOEVENTFD	2

/* The vCPU enters its guest (interrupts off, just before VMRUN/VMRESUME). */
TRACE_EVENT(khv_entry,
	TP_PROTO(u32 vcpu_id, u64 rip),
	TP_ARGS(vcpu_id, rip),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u64, rip)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->rip = rip;
	),
	TP_printk("vcpu %u rip %#llx", __entry->vcpu_id, __entry->rip)
);

/*
 * A hardware exit, once handled: its code and name, the exit's own
 * information (SVM: EXITINFO1 and 2; VT-x: the qualification, and the
 * guest-physical address or interruption information), what the handler
 * decided (ret > 0: straight back in; 0: to userspace) and how long since
 * the exit (handle_ns: the handler's time, from exit_timing's TSC at the
 * exit; 0 when exit_timing is off), so that a recording places the exit
 * where it happened.
 */
TRACE_EVENT(khv_exit,
	TP_PROTO(u32 vcpu_id, u32 hw_code, u64 rip, u64 info1, u64 info2, int ret, u64 handle_ns),
	TP_ARGS(vcpu_id, hw_code, rip, info1, info2, ret, handle_ns),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u32, hw_code)
		__field(u64, rip)
		__field(u64, info1)
		__field(u64, info2)
		__field(int, ret)
		__field(u64, handle_ns)
		__string(name, khv_exit_name(hw_code))
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->hw_code = hw_code;
		__entry->rip = rip;
		__entry->info1 = info1;
		__entry->info2 = info2;
		__entry->ret = ret;
		__entry->handle_ns = handle_ns;
		__assign_str(name, khv_exit_name(hw_code));
	),
	TP_printk("vcpu %u exit %#x (%s) rip %#llx info %#llx %#llx%s handled in %llu ns",
		  __entry->vcpu_id, __entry->hw_code, __get_str(name), __entry->rip,
		  __entry->info1, __entry->info2, __entry->ret > 0 ? "" :
		  __entry->ret == 0 ? " -> userspace" : " -> error", __entry->handle_ns)
);

/* Port I/O, decoded: who answers it (a kernel device, an ioeventfd, userspace). */
TRACE_EVENT(khv_pio,
	TP_PROTO(u32 vcpu_id, u16 port, u8 size, bool in, u32 count, u32 val, u8 where),
	TP_ARGS(vcpu_id, port, size, in, count, val, where),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u16, port)
		__field(u8, size)
		__field(bool, in)
		__field(u32, count)
		__field(u32, val)
		__field(u8, where)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->port = port;
		__entry->size = size;
		__entry->in = in;
		__entry->count = count;
		__entry->val = val;
		__entry->where = where;
	),
	TP_printk("vcpu %u %s port %#x size %u count %u val %#x (%s)", __entry->vcpu_id,
		  __entry->in ? "in" : "out", __entry->port, __entry->size, __entry->count,
		  __entry->val,
		  __print_symbolic(__entry->where, { 0, "userspace" }, { 1, "kernel device" },
				   { 2, "ioeventfd" }))
);

/* An MMIO access decoded from the faulting instruction, and who answers it. */
TRACE_EVENT(khv_mmio,
	TP_PROTO(u32 vcpu_id, u64 gpa, u8 len, bool write, u64 val, u8 where),
	TP_ARGS(vcpu_id, gpa, len, write, val, where),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u64, gpa)
		__field(u8, len)
		__field(bool, write)
		__field(u64, val)
		__field(u8, where)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->gpa = gpa;
		__entry->len = len;
		__entry->write = write;
		__entry->val = val;
		__entry->where = where;
	),
	TP_printk("vcpu %u %s gpa %#llx len %u val %#llx (%s)", __entry->vcpu_id,
		  __entry->write ? "write" : "read", __entry->gpa, __entry->len, __entry->val,
		  __print_symbolic(__entry->where, { 0, "userspace" }, { 1, "kernel device" },
				   { 2, "ioeventfd" }))
);

/*
 * A second-level (NPT/EPT) fault: the access, and what khv made of it:
 * khv_mmu_fault()'s result (0 mapped, 1 MMIO, 2 a write the dirty log
 * recorded) or an errno.
 */
TRACE_EVENT(khv_npf,
	TP_PROTO(u32 vcpu_id, u64 gpa, bool write, bool fetch, int result),
	TP_ARGS(vcpu_id, gpa, write, fetch, result),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u64, gpa)
		__field(bool, write)
		__field(bool, fetch)
		__field(int, result)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->gpa = gpa;
		__entry->write = write;
		__entry->fetch = fetch;
		__entry->result = result;
	),
	TP_printk("vcpu %u gpa %#llx %s: %s (%d)", __entry->vcpu_id, __entry->gpa,
		  __entry->fetch ? "fetch" : __entry->write ? "write" : "read",
		  __entry->result < 0 ? "error" : __entry->result == 0 ? "mapped" :
		  __entry->result == 1 ? "mmio" : "logged",
		  __entry->result)
);

/*
 * An interrupt message reached a local APIC (from the IOAPIC, an MSI, an
 * IPI): the target vCPU, vector, delivery mode (fixed 0, lowest 1, SMI 2,
 * NMI 4, INIT 5, SIPI 6) and whether the APIC took it.
 */
TRACE_EVENT(khv_irq_deliver,
	TP_PROTO(u32 vcpu_id, u8 vector, u8 mode, bool level, bool accepted),
	TP_ARGS(vcpu_id, vector, mode, level, accepted),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u8, vector)
		__field(u8, mode)
		__field(bool, level)
		__field(bool, accepted)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->vector = vector;
		__entry->mode = mode;
		__entry->level = level;
		__entry->accepted = accepted;
	),
	TP_printk("vcpu %u vector %#x %s%s%s", __entry->vcpu_id, __entry->vector,
		  __print_symbolic(__entry->mode, { 0, "fixed" }, { 1, "lowest" }, { 2, "smi" },
				   { 4, "nmi" }, { 5, "init" }, { 6, "sipi" }, { 7, "extint" }),
		  __entry->level ? " level" : "", __entry->accepted ? "" : " (not accepted)")
);

TRACE_EVENT(khv_userspace_exit,
	TP_PROTO(u32 vcpu_id, u32 reason, int ret),
	TP_ARGS(vcpu_id, reason, ret),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u32, reason)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->reason = reason;
		__entry->ret = ret;
	),
	TP_printk("vcpu %u reason %u ret %d", __entry->vcpu_id, __entry->reason, __entry->ret)
);

/*
 * The event an entry delivers: info is the VMCB's EVENTINJ or the VMCS's
 * VM-entry interruption information (low 32 bits); the two share a layout:
 * vector 7:0, type 10:8, error code valid 11, valid 31.
 */
TRACE_EVENT(khv_inject,
	TP_PROTO(u32 vcpu_id, u32 info, u32 error, bool again),
	TP_ARGS(vcpu_id, info, error, again),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u32, info)
		__field(u32, error)
		__field(bool, again)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->info = info;
		__entry->error = error;
		__entry->again = again;
	),
	TP_printk("vcpu %u %s vector %#x%s%s", __entry->vcpu_id,
		  __print_symbolic((__entry->info >> 8) & 7,
				   { 0, "interrupt" }, { 2, "nmi" }, { 3, "exception" },
				   { 4, "soft-int" }, { 5, "priv-soft-exc" }, { 6, "soft-exc" }),
		  __entry->info & 0xff,
		  (__entry->info & (1u << 11)) ? " with error code" : "",
		  __entry->again ? " (again: its delivery was cut short)" : "")
);

/* The CPU took a vector from its local APIC (IRR to ISR) or from the PIC. */
TRACE_EVENT(khv_irq_ack,
	TP_PROTO(u32 vcpu_id, u8 vector, bool pic),
	TP_ARGS(vcpu_id, vector, pic),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u8, vector)
		__field(bool, pic)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->vector = vector;
		__entry->pic = pic;
	),
	TP_printk("vcpu %u vector %#x from the %s", __entry->vcpu_id, __entry->vector,
		  __entry->pic ? "PIC" : "local APIC")
);

/* The local APIC timer expired: its LVT entry, and how late the host was. */
TRACE_EVENT(khv_apic_timer,
	TP_PROTO(u32 vcpu_id, u32 lvt, s64 late_ns),
	TP_ARGS(vcpu_id, lvt, late_ns),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u32, lvt)
		__field(s64, late_ns)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->lvt = lvt;
		__entry->late_ns = late_ns;
	),
	TP_printk("vcpu %u lvt %#x (%s, vector %#x%s) late %lld ns", __entry->vcpu_id,
		  __entry->lvt,
		  __print_symbolic((__entry->lvt >> 17) & 3,
				   { 0, "one-shot" }, { 1, "periodic" }, { 2, "tsc-deadline" },
				   { 3, "?" }),
		  __entry->lvt & 0xff, (__entry->lvt & (1u << 16)) ? ", masked" : "",
		  __entry->late_ns)
);

/* A vCPU that cannot run (halted, or waiting for INIT/SIPI) sleeps or wakes. */
TRACE_EVENT(khv_halt,
	TP_PROTO(u32 vcpu_id, u32 mp_state, bool wake),
	TP_ARGS(vcpu_id, mp_state, wake),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u32, mp_state)
		__field(bool, wake)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->mp_state = mp_state;
		__entry->wake = wake;
	),
	TP_printk("vcpu %u %s (mp_state %u)", __entry->vcpu_id,
		  __entry->wake ? "wakes" : "sleeps", __entry->mp_state)
);

#endif /* KHV_CORE_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH core
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
