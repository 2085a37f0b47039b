/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The recorder's core: libtraceevent records of khv's tracepoints into
 * khv-trace file records (trace_file.h).  Every field is found by name in
 * the event's format (tep_find_field), none by offset; the thread of each
 * record is mapped to its process; exit names are gathered into the name
 * table; a record the ring buffer says lost events before becomes a
 * KTR_LOST record first.  Needs nothing but a tep handle with khv's
 * formats, so the unit tests drive it with formats and records they make.
 */
#ifndef KHV_TRACE_CONV_H
#define KHV_TRACE_CONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event-parse.h>

#include "trace_file.h"

/* The khv events recorded, in the system "khv". */
enum ktr_event {
	KTR_EV_ENTRY,
	KTR_EV_EXIT,
	KTR_EV_UEXIT,
	KTR_EV_HALT,
	KTR_EV_MAX
};

extern const char *const ktr_event_names[KTR_EV_MAX];

/* The fields read; the names are core/trace.h's. */
enum ktr_field {
	KTR_FL_VCPU,		/* vcpu_id (all four) */
	KTR_FL_RIP,		/* rip (entry, exit) */
	KTR_FL_CODE,		/* hw_code (exit), reason (userspace), mp_state (halt) */
	KTR_FL_INFO1,		/* info1 (exit) */
	KTR_FL_INFO2,		/* info2 (exit) */
	KTR_FL_RET,		/* ret (exit, userspace) */
	KTR_FL_NAME,		/* name, a string (exit) */
	KTR_FL_HANDLE,		/* handle_ns (exit), optional: not in khv today */
	KTR_FL_WAKE,		/* wake (halt) */
	KTR_FL_MAX
};

/*
 * Finds the process of a thread: 0 with *pid and comm filled, or -1 when
 * the thread is gone.  The recorder reads /proc; the tests answer it.
 */
typedef int (*ktr_proc_fn)(void *ctx, uint32_t tid, uint32_t *pid, char comm[KTR_COMM_LEN]);

struct ktr_conv_event {
	struct tep_event *ev;	/* NULL: khv has no such event */
	int id;
	struct tep_format_field *f[KTR_FL_MAX];
};

struct ktr_tid {
	uint32_t tid, pid;	/* tid 0: a free slot */
};

struct ktr_conv {
	struct tep_handle *tep;
	struct ktr_conv_event ev[KTR_EV_MAX];
	bool handle_ns;		/* khv_exit has handle_ns */

	ktr_proc_fn proc_of;
	void *proc_ctx;
	uint32_t default_pid;	/* -p PID: the process of threads already gone */

	struct ktr_tid *tids;	/* open addressing, a power of two */
	size_t ntids, tid_cap;

	struct ktr_name *names;
	uint32_t nnames, names_cap;
	struct ktr_proc *procs;
	uint32_t nprocs, procs_cap;

	uint64_t *last_ts;	/* per CPU: the last record's time */
	uint32_t ncpus;
	uint64_t start_ns;

	/* Tallies. */
	uint64_t events;	/* records of khv events converted */
	uint64_t other;		/* records of other events, ignored */
	uint64_t bad;		/* records too short for their format, skipped */
	uint64_t lost_markers, lost_known;
	bool lost_unknown;	/* some loss of unknown size */
};

/*
 * Finds khv's events and their fields in tep.  khv_entry and khv_exit are
 * needed with every field above but handle_ns; khv_userspace_exit and
 * khv_halt may be missing (an older khv).  0, or -1 with a line in why.
 */
int ktr_conv_init(struct ktr_conv *c, struct tep_handle *tep, char *why, size_t why_len);
void ktr_conv_free(struct ktr_conv *c);

/*
 * Converts one record into out[0..*n): nothing for an event not khv's (or
 * a malformed record), a KTR_LOST record first when rec->missed_events.
 * -ENOMEM, or 0.
 */
int ktr_conv_record(struct ktr_conv *c, const struct tep_record *rec, struct ktr_rec out[2],
		    unsigned int *n);

#endif /* KHV_TRACE_CONV_H */
