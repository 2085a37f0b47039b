// SPDX-License-Identifier: GPL-2.0
/*
 * The recorder's core (conv.c) driven as the recorder drives it, without
 * tracefs: a tep handle that parsed khv's event formats as the kernel
 * prints them (core/trace.h's fields), raw records laid out by those
 * formats, and tep_records around them.  Then the same with the fields
 * moved about and an extra one (nothing is read by offset), with the
 * handler's time, with fields missing, with records that lie.  Also the
 * /proc look-ups and the per-CPU stats parser of record.c.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../conv.h"
#include "../record.h"
#include "t.h"

#define COMMON \
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" \
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n" \
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n" \
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"

/* As a kernel with khv loaded prints them (offsets as the compiler lays them). */
static const char fmt_entry[] =
	"name: khv_entry\nID: 1001\nformat:\n" COMMON
	"\tfield:u32 vcpu_id;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:u64 rip;\toffset:16;\tsize:8;\tsigned:0;\n\n"
	"print fmt: \"vcpu %u rip %#llx\", REC->vcpu_id, REC->rip\n";

static const char fmt_exit[] =
	"name: khv_exit\nID: 1002\nformat:\n" COMMON
	"\tfield:u32 vcpu_id;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:u32 hw_code;\toffset:12;\tsize:4;\tsigned:0;\n"
	"\tfield:u64 rip;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:u64 info1;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\tfield:u64 info2;\toffset:32;\tsize:8;\tsigned:0;\n"
	"\tfield:int ret;\toffset:40;\tsize:4;\tsigned:1;\n"
	"\tfield:__data_loc char[] name;\toffset:44;\tsize:4;\tsigned:0;\n\n"
	"print fmt: \"vcpu %u exit %#x (%s)\", REC->vcpu_id, REC->hw_code, __get_str(name)\n";

static const char fmt_uexit[] =
	"name: khv_userspace_exit\nID: 1003\nformat:\n" COMMON
	"\tfield:u32 vcpu_id;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:u32 reason;\toffset:12;\tsize:4;\tsigned:0;\n"
	"\tfield:int ret;\toffset:16;\tsize:4;\tsigned:1;\n\n"
	"print fmt: \"vcpu %u reason %u ret %d\", REC->vcpu_id, REC->reason, REC->ret\n";

static const char fmt_halt[] =
	"name: khv_halt\nID: 1004\nformat:\n" COMMON
	"\tfield:u32 vcpu_id;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:u32 mp_state;\toffset:12;\tsize:4;\tsigned:0;\n"
	"\tfield:bool wake;\toffset:16;\tsize:1;\tsigned:0;\n\n"
	"print fmt: \"vcpu %u %s\", REC->vcpu_id, REC->wake ? \"wakes\" : \"sleeps\"\n";

/* Another event of the same trace: ignored. */
static const char fmt_other[] =
	"name: sched_wakeup\nID: 77\nformat:\n" COMMON
	"\tfield:int pid;\toffset:8;\tsize:4;\tsigned:1;\n\n"
	"print fmt: \"pid=%d\", REC->pid\n";

/*
 * A khv that laid its fields out otherwise: khv_exit's in another order,
 * a 2-byte hw_code, a signed 8-byte ret, an extra field, a relative string
 * location (__rel_loc), and the handler's time.
 */
static const char fmt_exit_moved[] =
	"name: khv_exit\nID: 1002\nformat:\n" COMMON
	"\tfield:u64 info2;\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:u64 handle_ns;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:u16 hw_code;\toffset:24;\tsize:2;\tsigned:0;\n"
	"\tfield:u16 spare;\toffset:26;\tsize:2;\tsigned:0;\n"
	"\tfield:u32 vcpu_id;\toffset:28;\tsize:4;\tsigned:0;\n"
	"\tfield:s64 ret;\toffset:32;\tsize:8;\tsigned:1;\n"
	"\tfield:u64 rip;\toffset:40;\tsize:8;\tsigned:0;\n"
	"\tfield:u64 info1;\toffset:48;\tsize:8;\tsigned:0;\n"
	"\tfield:__rel_loc char[] name;\toffset:56;\tsize:4;\tsigned:0;\n\n"
	"print fmt: \"vcpu %u\", REC->vcpu_id\n";

static const char fmt_exit_noname[] =
	"name: khv_exit\nID: 1002\nformat:\n" COMMON
	"\tfield:u32 vcpu_id;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:u32 hw_code;\toffset:12;\tsize:4;\tsigned:0;\n"
	"\tfield:u64 rip;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:u64 info1;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\tfield:u64 info2;\toffset:32;\tsize:8;\tsigned:0;\n"
	"\tfield:int ret;\toffset:40;\tsize:4;\tsigned:1;\n\n"
	"print fmt: \"vcpu %u\", REC->vcpu_id\n";

static struct tep_handle *tep_with(const char *const *fmts, unsigned int n)
{
	struct tep_handle *tep = tep_alloc();
	unsigned int i;

	tep_set_long_size(tep, 8);
	for (i = 0; i < n; i++)
		CHECK_EQ(tep_parse_event(tep, fmts[i], strlen(fmts[i]), "khv"), 0);
	return tep;
}

/* A raw record: its bytes, and a tep_record around them. */
struct raw {
	unsigned char data[128];
	struct tep_record rec;
};

static void put(struct raw *r, unsigned int off, unsigned int size, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < size; i++)
		r->data[off + i] = (unsigned char)(v >> (8 * i));
}

static struct tep_record *raw(struct raw *r, uint16_t type, int32_t pid, uint64_t ts, int cpu,
			      int size)
{
	memset(r, 0, sizeof(*r));
	put(r, 0, 2, type);
	put(r, 4, 4, (uint32_t)pid);
	r->rec.ts = ts;
	r->rec.cpu = cpu;
	r->rec.size = size;
	r->rec.data = r->data;
	return &r->rec;
}

/* khv_exit in the kernel's layout, the name right after the fixed fields. */
static struct tep_record *raw_exit(struct raw *r, int32_t tid, uint64_t ts, uint32_t vcpu,
				   uint32_t code, int32_t ret, const char *name)
{
	unsigned int len = (unsigned int)strlen(name) + 1;

	raw(r, 1002, tid, ts, 1, 48 + (int)len);
	put(r, 8, 4, vcpu);
	put(r, 12, 4, code);
	put(r, 16, 8, 0xffffffff81001234ull);
	put(r, 24, 8, 0x50);
	put(r, 32, 8, 0xdead);
	put(r, 40, 4, (uint32_t)ret);
	put(r, 44, 4, 48 | (len << 16));
	memcpy(r->data + 48, name, len);
	return &r->rec;
}

/* The tests' processes: tid / 10 is the process, 99 is gone. */
static int fake_proc(void *ctx, uint32_t tid, uint32_t *pid, char comm[KTR_COMM_LEN])
{
	(*(int *)ctx)++;
	if (tid == 99)
		return -1;
	*pid = tid / 10;
	snprintf(comm, KTR_COMM_LEN, "vmm-%u", tid / 10);
	return 0;
}

KTR_TEST(conv_kernel_layout)
{
	const char *const fmts[] = { fmt_entry, fmt_exit, fmt_uexit, fmt_halt, fmt_other };
	struct tep_handle *tep = tep_with(fmts, 5);
	struct ktr_conv c;
	struct ktr_rec out[2];
	struct raw r;
	unsigned int n;
	char why[256];
	int lookups = 0;

	CHECK_EQ(ktr_conv_init(&c, tep, why, sizeof(why)), 0);
	CHECK(!c.handle_ns);
	c.proc_of = fake_proc;
	c.proc_ctx = &lookups;
	c.start_ns = 1000;

	raw(&r, 1001, 421, 5000, 2, 24);
	put(&r, 8, 4, 3);
	put(&r, 16, 8, 0xfff0);
	CHECK_EQ(ktr_conv_record(&c, &r.rec, out, &n), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0].type, KTR_ENTRY);
	CHECK_EQ(out[0].ts, 5000);
	CHECK_EQ(out[0].vcpu, 3);
	CHECK_EQ(out[0].rip, 0xfff0);
	CHECK_EQ(out[0].tid, 421);
	CHECK_EQ(out[0].pid, 42);
	CHECK_EQ(out[0].cpu, 2);
	CHECK_EQ(out[0].name, KTR_NO_NAME);

	CHECK_EQ(ktr_conv_record(&c, raw_exit(&r, 421, 6000, 3, 0x7c, 1, "svm_msr"), out, &n), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0].type, KTR_EXIT);
	CHECK_EQ(out[0].vcpu, 3);
	CHECK_EQ(out[0].code, 0x7c);
	CHECK_EQ(out[0].ret, 1);
	CHECK_EQ(out[0].rip, 0xffffffff81001234ull);
	CHECK_EQ(out[0].info1, 0x50);
	CHECK_EQ(out[0].info2, 0xdead);
	CHECK_EQ(out[0].name, 0);
	CHECK_EQ(out[0].cpu, 1);
	CHECK_EQ(ktr_conv_record(&c, raw_exit(&r, 431, 6100, 0, 0x7b, 0, "svm_ioio"), out, &n), 0);
	CHECK_EQ(out[0].name, 1);
	CHECK_EQ(out[0].ret, 0);
	CHECK_EQ(out[0].pid, 43);
	CHECK_EQ(ktr_conv_record(&c, raw_exit(&r, 421, 6200, 3, 0x7c, -14, "svm_msr"), out, &n), 0);
	CHECK_EQ(out[0].name, 0);
	CHECK_EQ(out[0].ret, -14);
	CHECK_EQ(c.nnames, 2);
	CHECK_STR(c.names[0].name, "svm_msr");
	CHECK_EQ(c.names[1].code, 0x7b);
	CHECK_STR(c.names[1].name, "svm_ioio");

	raw(&r, 1003, 421, 7000, 2, 20);
	put(&r, 8, 4, 3);
	put(&r, 12, 4, 7);
	put(&r, 16, 4, (uint32_t)-4);
	CHECK_EQ(ktr_conv_record(&c, &r.rec, out, &n), 0);
	CHECK_EQ(out[0].type, KTR_UEXIT);
	CHECK_EQ(out[0].code, 7);
	CHECK_EQ(out[0].ret, -4);

	raw(&r, 1004, 421, 8000, 2, 17);
	put(&r, 8, 4, 3);
	put(&r, 12, 4, 1);
	put(&r, 16, 1, 1);
	CHECK_EQ(ktr_conv_record(&c, &r.rec, out, &n), 0);
	CHECK_EQ(out[0].type, KTR_HALT);
	CHECK_EQ(out[0].flags, KTR_HALT_WAKE);
	CHECK_EQ(out[0].code, 1);

	/* Another event: nothing. */
	raw(&r, 77, 5, 8100, 0, 12);
	CHECK_EQ(ktr_conv_record(&c, &r.rec, out, &n), 0);
	CHECK_EQ(n, 0);
	CHECK_EQ(c.other, 1);

	/* Events lost before a record: a KTR_LOST first, from the CPU's last record. */
	raw(&r, 1001, 421, 9000, 2, 24);
	r.rec.missed_events = 12;
	CHECK_EQ(ktr_conv_record(&c, &r.rec, out, &n), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(out[0].type, KTR_LOST);
	CHECK_EQ(out[0].ts, 8000);
	CHECK_EQ(out[0].info2, 9000);
	CHECK_EQ(out[0].info1, 12);
	CHECK_EQ(out[0].cpu, 2);
	CHECK_EQ(out[1].type, KTR_ENTRY);
	raw(&r, 1001, 421, 9500, 7, 24);
	r.rec.missed_events = -1;	/* some, how many unknown; CPU 7 not seen yet */
	CHECK_EQ(ktr_conv_record(&c, &r.rec, out, &n), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(out[0].ts, 1000);
	CHECK_EQ(out[0].info1, KTR_LOST_UNKNOWN);
	CHECK_EQ(c.lost_markers, 2);
	CHECK_EQ(c.lost_known, 12);
	CHECK(c.lost_unknown);

	/* A thread that is gone: a process of its own (no -p). */
	raw(&r, 1001, 99, 9600, 0, 24);
	CHECK_EQ(ktr_conv_record(&c, &r.rec, out, &n), 0);
	CHECK_EQ(out[0].pid, 99);
	/* One look-up per thread; the processes listed once each. */
	CHECK_EQ(lookups, 3);
	CHECK_EQ(c.nprocs, 3);
	CHECK_EQ(c.procs[0].pid, 42);
	CHECK_STR(c.procs[0].comm, "vmm-42");
	CHECK_EQ(c.procs[2].pid, 99);
	CHECK_STR(c.procs[2].comm, "");
	CHECK_EQ(c.events, 9);
	CHECK_EQ(c.bad, 0);
	ktr_conv_free(&c);

	/* With -p: the gone thread is the process's. */
	CHECK_EQ(ktr_conv_init(&c, tep, why, sizeof(why)), 0);
	c.proc_of = fake_proc;
	c.proc_ctx = &lookups;
	c.default_pid = 42;
	raw(&r, 1001, 99, 100, 0, 24);
	CHECK_EQ(ktr_conv_record(&c, &r.rec, out, &n), 0);
	CHECK_EQ(out[0].pid, 42);
	ktr_conv_free(&c);
	tep_free(tep);
}

/* Records that lie about themselves: skipped and counted, never read past. */
KTR_TEST(conv_malformed)
{
	const char *const fmts[] = { fmt_entry, fmt_exit, fmt_uexit, fmt_halt };
	struct tep_handle *tep = tep_with(fmts, 4);
	struct ktr_conv c;
	struct ktr_rec out[2];
	struct raw r;
	unsigned int n;
	char why[256];

	CHECK_EQ(ktr_conv_init(&c, tep, why, sizeof(why)), 0);
	/* Too short for rip. */
	raw(&r, 1001, 10, 100, 0, 20);
	CHECK_EQ(ktr_conv_record(&c, &r.rec, out, &n), 0);
	CHECK_EQ(n, 0);
	/* The name's location past the record. */
	raw_exit(&r, 10, 200, 0, 1, 1, "svm_x");
	put(&r, 44, 4, 120 | (8u << 16));
	CHECK_EQ(ktr_conv_record(&c, &r.rec, out, &n), 0);
	CHECK_EQ(n, 0);
	/* Its length past the record. */
	raw_exit(&r, 10, 200, 0, 1, 1, "svm_x");
	put(&r, 44, 4, 48 | (60u << 16));
	CHECK_EQ(ktr_conv_record(&c, &r.rec, out, &n), 0);
	CHECK_EQ(n, 0);
	/* Smaller than the common fields, or no CPU. */
	raw(&r, 1001, 10, 100, 0, 4);
	CHECK_EQ(ktr_conv_record(&c, &r.rec, out, &n), 0);
	raw(&r, 1001, 10, 100, -1, 24);
	CHECK_EQ(ktr_conv_record(&c, &r.rec, out, &n), 0);
	CHECK_EQ(c.bad, 5);
	CHECK_EQ(c.events, 0);
	/* A name without its NUL, and one with a control character: kept, made safe. */
	raw_exit(&r, 10, 300, 0, 1, 1, "svm_abc");
	put(&r, 44, 4, 48 | (4u << 16));
	CHECK_EQ(ktr_conv_record(&c, &r.rec, out, &n), 0);
	CHECK_EQ(n, 1);
	CHECK_STR(c.names[out[0].name].name, "svm_");
	raw_exit(&r, 10, 300, 0, 2, 1, "a\tb");
	CHECK_EQ(ktr_conv_record(&c, &r.rec, out, &n), 0);
	CHECK_STR(c.names[out[0].name].name, "a?b");
	raw_exit(&r, 10, 300, 0, 3, 1, "");
	CHECK_EQ(ktr_conv_record(&c, &r.rec, out, &n), 0);
	CHECK_STR(c.names[out[0].name].name, "?");
	ktr_conv_free(&c);
	tep_free(tep);
}

/* Fields found by name wherever they are; the handler's time when there. */
KTR_TEST(conv_moved_fields)
{
	const char *const fmts[] = { fmt_entry, fmt_exit_moved };
	struct tep_handle *tep = tep_with(fmts, 2);
	struct ktr_conv c;
	struct ktr_rec out[2];
	struct raw r;
	unsigned int n;
	char why[256];

	CHECK_EQ(ktr_conv_init(&c, tep, why, sizeof(why)), 0);
	CHECK(c.handle_ns);
	CHECK(c.ev[KTR_EV_UEXIT].ev == NULL);
	CHECK(c.ev[KTR_EV_HALT].ev == NULL);
	raw(&r, 1002, 10, 500, 1, 80);
	put(&r, 8, 8, 0x22);		/* info2 */
	put(&r, 16, 8, 1234);		/* handle_ns */
	put(&r, 24, 2, 0x1e);		/* hw_code */
	put(&r, 26, 2, 0xffff);		/* spare */
	put(&r, 28, 4, 5);		/* vcpu_id */
	put(&r, 32, 8, (uint64_t)-22);	/* ret */
	put(&r, 40, 8, 0x1000);		/* rip */
	put(&r, 48, 8, 0x11);		/* info1 */
	put(&r, 56, 4, 0 | (19u << 16));	/* __rel_loc: right after the field */
	memcpy(r.data + 60, "vmx_io_instruction", 19);
	CHECK_EQ(ktr_conv_record(&c, &r.rec, out, &n), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0].type, KTR_EXIT);
	CHECK_EQ(out[0].vcpu, 5);
	CHECK_EQ(out[0].code, 0x1e);
	CHECK_EQ(out[0].ret, -22);
	CHECK_EQ(out[0].rip, 0x1000);
	CHECK_EQ(out[0].info1, 0x11);
	CHECK_EQ(out[0].info2, 0x22);
	CHECK_EQ(out[0].handle_ns, 1234);
	CHECK_STR(c.names[0].name, "vmx_io_instruction");
	ktr_conv_free(&c);
	tep_free(tep);
}

KTR_TEST(conv_unknown_khv)
{
	const char *const no_exit[] = { fmt_entry, fmt_other };
	const char *const no_name[] = { fmt_entry, fmt_exit_noname };
	struct tep_handle *tep;
	struct ktr_conv c;
	char why[256];

	tep = tep_with(no_exit, 2);
	CHECK_EQ(ktr_conv_init(&c, tep, why, sizeof(why)), -1);
	CHECK_STR(why, "no event khv:khv_exit (not a khv this tool knows)");
	ktr_conv_free(&c);
	tep_free(tep);
	tep = tep_with(no_name, 2);
	CHECK_EQ(ktr_conv_init(&c, tep, why, sizeof(why)), -1);
	CHECK_STR(why, "khv:khv_exit has no field name (not a khv this tool knows)");
	ktr_conv_free(&c);
	tep_free(tep);
}

/* record.c's look-ups in /proc, on this process and on one that is gone. */
KTR_TEST(record_proc)
{
	char comm[KTR_COMM_LEN], want[64] = "";
	uint32_t pid = 0;
	FILE *f = fopen("/proc/self/comm", "r");
	pid_t child;

	CHECK(f && fgets(want, sizeof(want), f));
	if (f)
		fclose(f);
	want[strcspn(want, "\n")] = 0;
	want[KTR_COMM_LEN - 1] = 0;
	CHECK_EQ(ktr_proc_of(NULL, (uint32_t)getpid(), &pid, comm), 0);
	CHECK_EQ(pid, (uint32_t)getpid());
	CHECK_STR(comm, want);
	child = fork();
	if (!child)
		_exit(0);
	waitpid(child, NULL, 0);
	CHECK_EQ(ktr_proc_of(NULL, (uint32_t)child, &pid, comm), -1);
}

KTR_TEST(record_cpu_stats)
{
	static const char cpu0[] =
		"entries: 0\noverrun: 12\ncommit overrun: 5\nbytes: 0\n"
		"oldest event ts:     0.000000\nnow ts:  1234.567890\n"
		"dropped events: 3\nread events: 77\n";
	uint64_t overrun = 0, dropped = 0;

	ktr_parse_cpu_stats(cpu0, &overrun, &dropped);
	CHECK_EQ(overrun, 12);
	CHECK_EQ(dropped, 3);
	ktr_parse_cpu_stats("overrun: 1\ndropped events: 1", &overrun, &dropped);
	CHECK_EQ(overrun, 13);
	CHECK_EQ(dropped, 4);
	ktr_parse_cpu_stats("", &overrun, &dropped);
	CHECK_EQ(overrun, 13);
}
