/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints: every hardware exit and every exit to userspace, so a lab user
 * can watch a guest with `trace-cmd record -e khv` or
 * /sys/kernel/tracing/events/khv/.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM khv

#if !defined(KHV_CORE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define KHV_CORE_TRACE_H

#include <linux/tracepoint.h>

const char *khv_exit_name(u32 hw_code);

TRACE_EVENT(khv_exit,
	TP_PROTO(u32 vcpu_id, u32 hw_code, u64 rip),
	TP_ARGS(vcpu_id, hw_code, rip),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u32, hw_code)
		__field(u64, rip)
		__string(name, khv_exit_name(hw_code))
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->hw_code = hw_code;
		__entry->rip = rip;
		__assign_str(name, khv_exit_name(hw_code));
	),
	TP_printk("vcpu %u exit %#x (%s) rip %#llx", __entry->vcpu_id,
		  __entry->hw_code, __get_str(name), __entry->rip)
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

#endif /* KHV_CORE_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH core
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
