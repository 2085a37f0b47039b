// SPDX-License-Identifier: GPL-2.0
/*
 * stats: the binary statistics files (KHV_GET_STATS_FD, KHV_GET_VMS,
 * KHV_OPEN_STATS).  The guest (stats_guest.S) makes a known number of
 * CPUID exits (handled in the kernel) and OUT exits (through userspace),
 * then HLT.  The test reads the files through libkhv's parser without
 * knowing the counter names in advance: it checks the layout of every
 * descriptor, and invariants that hold for every exit reason (each exit
 * that came back in is in exactly one histogram bucket; the time totals
 * are the sums of the per-reason times), then finds the CPUID, I/O and HLT
 * reasons by their hardware exit codes and checks the exact counts.
 */
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(stats_loop);

#define TIMING_PARAM	"/sys/module/khv/parameters/exit_timing"

/* Hardware exit codes, per vendor: CPUID, I/O instruction, HLT. */
static void exit_codes(int vendor, uint32_t *cpuid, uint32_t *io, uint32_t *hlt)
{
	if (vendor == KHV_VENDOR_AMD) {
		*cpuid = 0x72;	/* VMEXIT_CPUID */
		*io = 0x7b;	/* VMEXIT_IOIO */
		*hlt = 0x78;	/* VMEXIT_HLT */
	} else {
		*cpuid = 10;	/* EXIT_REASON_CPUID */
		*io = 30;	/* EXIT_REASON_IO_INSTRUCTION */
		*hlt = 12;	/* EXIT_REASON_HLT */
	}
}

static uint64_t sum(const uint64_t *v, uint32_t n)
{
	uint64_t s = 0;

	for (uint32_t i = 0; i < n; i++)
		s += v[i];
	return s;
}

/* The value of a scalar called name, or ~0 when the file has none. */
static uint64_t scalar(const struct khv_stats *st, const char *name)
{
	int i = khv_stats_find(st, name);

	return i < 0 ? ~0ull : khv_stats_values(st, (uint32_t)i)[0];
}

/* "exit/<reason>/<what>" of the reason whose count descriptor has code. */
static const uint64_t *exit_values(const struct khv_stats *st, uint32_t code, const char *what,
				   uint32_t *count)
{
	for (uint32_t i = 0; i < st->ndesc; i++) {
		const struct khv_stats_desc *d = &st->desc[i];
		char want[KHV_STATS_NAME_SIZE + 16];
		const char *slash;
		int j;

		if (d->code != code || strncmp(d->name, "exit/", 5))
			continue;
		slash = strrchr(d->name, '/');
		snprintf(want, sizeof(want), "%.*s/%s", (int)(slash - d->name), d->name, what);
		j = khv_stats_find(st, want);
		if (j < 0)
			return NULL;
		if (count)
			*count = st->desc[j].count;
		return khv_stats_values(st, (uint32_t)j);
	}
	return NULL;
}

static uint64_t exit_sum(const struct khv_stats *st, uint32_t code, const char *what)
{
	uint32_t n = 0;
	const uint64_t *v = exit_values(st, code, what, &n);

	return v ? sum(v, n) : ~0ull;
}

/*
 * What every statistics file must satisfy, names unknown: unique,
 * non-empty names; known shapes; histograms of log2 buckets; for every
 * exit reason, count = exits re-entered (in the histograms) + the ones
 * not yet re-entered (pending, at most one per vCPU); time/kernel and
 * time/user the sums of the per-reason cycles.  Returns the number of
 * exit reasons seen.
 */
static unsigned int check_generic(KHVT_MD, const struct khv_stats *st, uint64_t pending_max)
{
	uint64_t counts = 0, entered = 0, kcycles = 0, ucycles = 0;
	unsigned int reasons = 0;

	for (uint32_t i = 0; i < st->ndesc; i++) {
		const struct khv_stats_desc *d = &st->desc[i];
		const uint64_t *v = khv_stats_values(st, i);
		size_t len = strlen(d->name);
		uint32_t shape = d->flags & KHV_STATS_SHAPE_MASK;

		ASSERT_NE(NULL, v);
		EXPECT_EQ(-ENOENT, khv_stats_find(st, "no/such/counter"));
		EXPECT_EQ((int)i, khv_stats_find(st, d->name)) TH_LOG("duplicate name %s", d->name);
		if (shape == KHV_STATS_SHAPE_LOG2_HIST) {
			EXPECT_LE(2u, d->count) TH_LOG("%s: %u buckets", d->name, d->count);
		} else {
			EXPECT_EQ(1u, d->count) TH_LOG("%s", d->name);
		}
		if (strncmp(d->name, "exit/", 5))
			continue;
		EXPECT_EQ(KHV_STATS_TYPE_CUMULATIVE, d->flags & KHV_STATS_TYPE_MASK);
		if (len > 6 && !strcmp(d->name + len - 6, "/count")) {
			reasons++;
			counts += v[0];
		} else if (len > 5 && !strcmp(d->name + len - 5, "_hist")) {
			EXPECT_EQ(KHV_STATS_SHAPE_LOG2_HIST, shape) TH_LOG("%s", d->name);
			EXPECT_EQ(KHV_STATS_UNIT_CYCLES, d->flags & KHV_STATS_UNIT_MASK);
			entered += sum(v, d->count);
		} else if (len > 14 && !strcmp(d->name + len - 14, "/kernel_cycles")) {
			kcycles += v[0];
		} else if (len > 12 && !strcmp(d->name + len - 12, "/user_cycles")) {
			ucycles += v[0];
		} else {
			TH_LOG("an exit counter of no known kind: %s", d->name);
			EXPECT_TRUE(0);
		}
	}
	EXPECT_LE(entered, counts);
	EXPECT_LE(counts - entered, pending_max)
		TH_LOG("%llu exits, %llu of them timed", (unsigned long long)counts,
		       (unsigned long long)entered);
	EXPECT_EQ(kcycles, scalar(st, "time/kernel"));
	EXPECT_EQ(ucycles, scalar(st, "time/user"));
	return reasons;
}

/* All exits, by the "exit/<reason>/count" descriptors. */
static uint64_t total_exits(const struct khv_stats *st)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < st->ndesc; i++) {
		size_t len = strlen(st->desc[i].name);

		if (!strncmp(st->desc[i].name, "exit/", 5) && len > 6 &&
		    !strcmp(st->desc[i].name + len - 6, "/count"))
			n += khv_stats_values(st, i)[0];
	}
	return n;
}

static int open_stats(struct khv_stats *st, int fd)
{
	return fd < 0 ? fd : khv_stats_init(st, fd);
}

/* Run until the guest's HLT, answering its OUTs. */
static void run_to_hlt(KHVT_MD, struct khvt_vm *t, uint32_t cpuids, uint32_t outs)
{
	struct khv_regs r;

	KHV_OK(khv_vcpu_get_regs(&t->vcpu, &r));
	r.rsi = cpuids;
	r.rdi = outs;
	KHV_OK(khv_vcpu_set_regs(&t->vcpu, &r));
	for (uint32_t i = 0; i < outs; i++)
		expect_out(t, PORT_ECHO, 1);
	expect_exit(t, KHV_EXIT_HLT);
}

#define N_CPUID	40u
#define N_OUT	25u

TEST(counts_and_histograms)
{
	uint32_t c_cpuid, c_io, c_hlt, n;
	struct khv_stats st, vm_st;
	struct khvt_vm t;
	const uint64_t *h;

	VM_WITH_PAYLOAD(&t, KHVT_REAL, stats_loop);
	REQUIRE_CAP(&t, KHV_CAP_STATS_FD);
	exit_codes(t.vendor, &c_cpuid, &c_io, &c_hlt);
	if (!khvt_read_line(TIMING_PARAM, (char[8]){ 0 }, 8))
		TH_LOG("no %s", TIMING_PARAM);
	KHV_OK(open_stats(&st, khv_vcpu_stats_fd(&t.vcpu)));
	KHV_OK(open_stats(&vm_st, khv_vm_stats_fd(&t.vm)));
	EXPECT_NE(0u, st.hdr.flags & KHV_STATS_F_VCPU);
	EXPECT_EQ(0u, vm_st.hdr.flags & KHV_STATS_F_VCPU);
	EXPECT_EQ(st.hdr.vm_id, vm_st.hdr.vm_id);
	EXPECT_EQ(1u, scalar(&st, "alive"));
	EXPECT_EQ(1u, scalar(&vm_st, "vcpus"));
	EXPECT_EQ(~0ull, scalar(&st, "vcpus")) TH_LOG("a vCPU's file has no vCPU count");
	EXPECT_LT(0u, scalar(&st, "tsc_khz"));
	if (scalar(&st, "exit_timing") != 1)
		SKIP(goto out, "exit timing is off (module parameter exit_timing)");
	/* A vCPU that never ran. */
	EXPECT_LT(10u, check_generic(_metadata, &st, 0));
	EXPECT_EQ(0u, scalar(&st, "time/guest"));

	run_to_hlt(_metadata, &t, N_CPUID, N_OUT);
	KHV_OK(khv_stats_read(&st));
	check_generic(_metadata, &st, 1);
	EXPECT_EQ(N_CPUID, exit_sum(&st, c_cpuid, "count"));
	EXPECT_EQ(N_CPUID, exit_sum(&st, c_cpuid, "kernel_hist"));
	EXPECT_EQ(0u, exit_sum(&st, c_cpuid, "user_hist"));
	EXPECT_LT(0u, exit_sum(&st, c_cpuid, "kernel_cycles"));
	EXPECT_EQ(N_OUT, exit_sum(&st, c_io, "count"));
	EXPECT_EQ(N_OUT, exit_sum(&st, c_io, "user_hist"));
	EXPECT_EQ(0u, exit_sum(&st, c_io, "kernel_hist"));
	EXPECT_EQ(N_OUT, scalar(&st, "user_exit/io"));
	EXPECT_EQ(1u, scalar(&st, "user_exit/hlt"));
	/* The HLT has not come back in yet: counted, not timed. */
	EXPECT_EQ(1u, exit_sum(&st, c_hlt, "count"));
	EXPECT_EQ(0u, exit_sum(&st, c_hlt, "user_hist"));
	EXPECT_LT(0u, scalar(&st, "time/guest"));
	EXPECT_LT(0u, scalar(&st, "time/user"));
	/* A round trip through userspace takes longer than none: compare medians' buckets. */
	h = exit_values(&st, c_cpuid, "kernel_hist", &n);
	ASSERT_NE(NULL, h);
	EXPECT_EQ(0u, h[0]) TH_LOG("a CPUID exit handled in 0 cycles");

	/* The VM's file: the same, as it has one vCPU. */
	KHV_OK(khv_stats_read(&vm_st));
	EXPECT_EQ(N_CPUID, exit_sum(&vm_st, c_cpuid, "kernel_hist"));
	EXPECT_EQ(scalar(&st, "time/guest"), scalar(&vm_st, "time/guest"));
	EXPECT_LT(0u, scalar(&vm_st, "mmu/pages_pinned"));
	EXPECT_LT(0u, scalar(&vm_st, "mmu/table_pages"));
	EXPECT_LT(0u, scalar(&vm_st, "kernel/npf_mapped"));

	/* Back in: the HLT is timed, through userspace; then 3 more CPUIDs. */
	run_to_hlt(_metadata, &t, 3, 0);
	KHV_OK(khv_stats_read(&st));
	check_generic(_metadata, &st, 1);
	EXPECT_EQ(N_CPUID + 3, exit_sum(&st, c_cpuid, "kernel_hist"));
	EXPECT_EQ(1u, exit_sum(&st, c_hlt, "user_hist"));
	EXPECT_EQ(2u, exit_sum(&st, c_hlt, "count"));
out:
	khv_stats_close(&st);
	khv_stats_close(&vm_st);
	khvt_destroy(&t);
}

/* exit_timing=0: exits are counted, not timed; on again, timing resumes. */
TEST(timing_off)
{
	uint32_t c_cpuid, c_io, c_hlt;
	struct khv_stats st;
	struct khvt_vm t;
	char was[8] = "";
	uint64_t guest, untimed;
	int fd;

	VM_WITH_PAYLOAD(&t, KHVT_REAL, stats_loop);
	REQUIRE_CAP(&t, KHV_CAP_STATS_FD);
	exit_codes(t.vendor, &c_cpuid, &c_io, &c_hlt);
	fd = open(TIMING_PARAM, O_WRONLY);
	if (fd < 0 || !khvt_read_line(TIMING_PARAM, was, sizeof(was))) {
		khvt_destroy(&t);
		SKIP(return, "%s: not writable here", TIMING_PARAM);
	}
	KHV_OK(open_stats(&st, khv_vcpu_stats_fd(&t.vcpu)));
	ASSERT_EQ(1, write(fd, "0", 1));
	KHV_OK(khv_stats_read(&st));
	EXPECT_EQ(0u, scalar(&st, "exit_timing"));
	run_to_hlt(_metadata, &t, 7, 2);
	KHV_OK(khv_stats_read(&st));
	EXPECT_EQ(7u, exit_sum(&st, c_cpuid, "count"));
	EXPECT_EQ(0u, exit_sum(&st, c_cpuid, "kernel_hist"));
	EXPECT_EQ(0u, exit_sum(&st, c_io, "user_hist"));
	EXPECT_EQ(0u, scalar(&st, "time/guest"));
	EXPECT_EQ(0u, scalar(&st, "time/kernel"));
	untimed = total_exits(&st);

	ASSERT_EQ(1, pwrite(fd, "1", 1, 0));
	run_to_hlt(_metadata, &t, 5, 0);
	KHV_OK(khv_stats_read(&st));
	EXPECT_EQ(1u, scalar(&st, "exit_timing"));
	EXPECT_EQ(12u, exit_sum(&st, c_cpuid, "count"));
	/* The first entry after it came on times nothing (no exit to time from). */
	EXPECT_EQ(5u, exit_sum(&st, c_cpuid, "kernel_hist"));
	guest = scalar(&st, "time/guest");
	EXPECT_LT(0u, guest);
	/* Untimed: every exit while it was off, and the last HLT. */
	check_generic(_metadata, &st, untimed + 1);
	ASSERT_EQ((ssize_t)strlen(was), pwrite(fd, was, strlen(was), 0));
	close(fd);
	khv_stats_close(&st);
	khvt_destroy(&t);
}

/* KHV_GET_VMS lists this VM; KHV_OPEN_STATS opens its files, checked. */
TEST(vm_list_and_open)
{
	struct khv_vm_info vms[64];
	struct khv_stats_open o = { 0 };
	struct khv_stats st, st1;
	struct khv_sys sys2;
	struct khv_vcpu v1;
	struct khvt_vm t;
	uint32_t n = 0, id;
	int found = -1;

	VM_WITH_PAYLOAD(&t, KHVT_REAL, stats_loop);
	REQUIRE_CAP(&t, KHV_CAP_STATS_FD);
	KHV_OK(khv_vcpu_create(&t.vm, 1, &v1));
	KHV_OK(open_stats(&st, khv_vm_stats_fd(&t.vm)));
	id = st.hdr.vm_id;
	EXPECT_EQ(2u, scalar(&st, "vcpus"));
	khv_stats_close(&st);

	KHV_OK(khv_list_vms(&t.sys, vms, 64, &n));
	for (uint32_t i = 0; i < n; i++)
		if (vms[i].vm_id == id)
			found = (int)i;
	ASSERT_LE(0, found) TH_LOG("VM %u not in the list of %u", id, n);
	EXPECT_EQ(getpid(), vms[found].pid);
	EXPECT_EQ(2u, vms[found].nr_vcpus);
	EXPECT_EQ(0, strncmp(vms[found].comm, program_invocation_short_name, 15))
		TH_LOG("comm \"%.16s\"", vms[found].comm);
	if (n > 0) {
		uint32_t need = 0;

		EXPECT_EQ(-E2BIG, khv_list_vms(&t.sys, vms, 0, &need));
		EXPECT_EQ(n, need);
	}

	KHV_OK(open_stats(&st, khv_open_stats(&t.sys, id, -1)));
	EXPECT_EQ(2u, scalar(&st, "vcpus"));
	KHV_OK(open_stats(&st1, khv_open_stats(&t.sys, id, 1)));
	EXPECT_EQ(1u, st1.hdr.vcpu_id);
	EXPECT_EQ(-ENOENT, khv_open_stats(&t.sys, id, 5));
	EXPECT_EQ(-EINVAL, khv_open_stats(&t.sys, id, KHV_MAX_VCPUS));
	EXPECT_EQ(-ESRCH, khv_open_stats(&t.sys, 0, -1));
	EXPECT_EQ(-ESRCH, khv_open_stats(&t.sys, 0xffffffffu, -1));
	/* Every field checked: flags, pad, reserved, a vCPU id without the flag. */
	o.vm_id = id;
	o.flags = 2;
	EXPECT_EQ(-1, ioctl(t.sys.fd, KHV_OPEN_STATS, &o));
	EXPECT_EQ(EINVAL, errno);
	o.flags = 0;
	o.pad = 1;
	EXPECT_EQ(-1, ioctl(t.sys.fd, KHV_OPEN_STATS, &o));
	EXPECT_EQ(EINVAL, errno);
	o.pad = 0;
	o.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(t.sys.fd, KHV_OPEN_STATS, &o));
	EXPECT_EQ(EINVAL, errno);
	o.reserved[1] = 0;
	o.vcpu_id = 1;
	EXPECT_EQ(-1, ioctl(t.sys.fd, KHV_OPEN_STATS, &o));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(t.vm.fd, KHV_GET_STATS_FD, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(t.vcpu.fd, KHV_GET_STATS_FD, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(st.fd, "x", 1)) TH_LOG("a statistics file is read-only");

	/* Another user's VM: refused, unless CAP_SYS_ADMIN (dropped with the uid). */
	if (getuid() == 0) {
		pid_t pid = fork();
		int status;

		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct khv_sys sys = t.sys;
			int r;

			if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
				_exit(2);
			r = khv_open_stats(&sys, id, -1);
			_exit(r == -EACCES ? 0 : 1);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_EQ(0, status) TH_LOG("another uid opened the VM's statistics");
	}

	/* The VM goes: its files keep their last figures; it is off the list. */
	run_to_hlt(_metadata, &t, 4, 0);
	KHV_OK(khv_stats_read(&st));
	EXPECT_EQ(4u, exit_sum(&st, t.vendor == KHV_VENDOR_AMD ? 0x72 : 10, "count"));
	khv_vcpu_destroy(&v1);
	khvt_destroy(&t);
	KHV_OK(khv_stats_read(&st));
	EXPECT_EQ(0u, scalar(&st, "alive"));
	EXPECT_EQ(2u, scalar(&st, "vcpus"));
	EXPECT_EQ(4u, exit_sum(&st, t.vendor == KHV_VENDOR_AMD ? 0x72 : 10, "count"));
	EXPECT_EQ(0u, scalar(&st, "mmu/pages_pinned")) TH_LOG("a gone VM pins nothing");
	KHV_OK(khv_stats_read(&st1));
	EXPECT_EQ(0u, scalar(&st1, "alive"));
	KHV_OK(khv_open(&sys2, NULL));
	EXPECT_EQ(-ESRCH, khv_open_stats(&sys2, id, -1));
	khv_close(&sys2);
	khv_stats_close(&st);
	khv_stats_close(&st1);
}

/* Reads of any size at any offset give the same bytes as one whole read. */
TEST(partial_reads)
{
	unsigned char *whole, *parts;
	struct khv_stats_header h;
	struct khvt_vm t;
	size_t size;
	int fd;

	VM_WITH_PAYLOAD(&t, KHVT_REAL, stats_loop);
	REQUIRE_CAP(&t, KHV_CAP_STATS_FD);
	fd = khv_vcpu_stats_fd(&t.vcpu);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)sizeof(h), pread(fd, &h, sizeof(h), 0));
	EXPECT_EQ(KHV_STATS_MAGIC, h.magic);
	size = h.data_offset + h.data_size;
	whole = calloc(1, size + 64);
	parts = calloc(1, size + 64);
	ASSERT_NE(NULL, whole);
	ASSERT_NE(NULL, parts);
	ASSERT_EQ((ssize_t)size, pread(fd, whole, size + 64, 0));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	for (size_t at = 0; at < size;) {
		ssize_t n = read(fd, parts + at, 1 + at % 61);

		ASSERT_LT(0, n) TH_LOG("read at %zu", at);
		at += (size_t)n;
	}
	EXPECT_EQ(0, read(fd, parts, 1)) TH_LOG("a read past the end");
	EXPECT_EQ(0, memcmp(whole, parts, size));
	EXPECT_EQ((off_t)size, lseek(fd, 0, SEEK_END));
	free(whole);
	free(parts);
	close(fd);
	khvt_destroy(&t);
}

/* ---- tracepoints --------------------------------------------------------- */

#define TRACEFS		"/sys/kernel/tracing"
#define INSTANCE	TRACEFS "/instances/khv-selftest-stats"

static bool write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok;
}

/* The instance's whole trace buffer, NUL terminated (malloc'd), or NULL. */
static char *read_trace(void)
{
	size_t len = 0, cap = 1 << 20;
	char *buf = malloc(cap);
	int fd = open(INSTANCE "/trace", O_RDONLY);
	ssize_t n;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 4096) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
	}
	close(fd);
	buf[len] = 0;
	return buf;
}

/* Lines of the trace with event name ev ("khv_exit: ") and every one of the other words. */
static unsigned int trace_lines(const char *trace, const char *ev, const char *w1, const char *w2)
{
	unsigned int n = 0;

	for (const char *l = trace; l && *l;) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);

		if (memmem(l, len, ev, strlen(ev)) && (!w1 || memmem(l, len, w1, strlen(w1))) &&
		    (!w2 || memmem(l, len, w2, strlen(w2))))
			n++;
		l = end ? end + 1 : NULL;
	}
	return n;
}

/*
 * The khv tracepoints in a tracefs instance of the test's own: every entry
 * and exit, the exits' information (the port of an I/O exit is in bits
 * 31:16 of SVM's EXITINFO1 and of VT-x's exit qualification alike), the
 * decoded port I/O and the second-level faults, each exactly as often as
 * the guest made them.
 */
TEST(tracepoints)
{
	uint32_t c_cpuid, c_io, c_hlt;
	char want[64], *trace;
	struct khvt_vm t;
	unsigned int entries, exits;

	VM_WITH_PAYLOAD(&t, KHVT_REAL, stats_loop);
	exit_codes(t.vendor, &c_cpuid, &c_io, &c_hlt);
	if (access(TRACEFS "/instances", F_OK))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	rmdir(INSTANCE);
	if (mkdir(INSTANCE, 0700)) {
		khvt_destroy(&t);
		SKIP(return, "no tracefs instance: %s", strerror(errno));
	}
	ASSERT_TRUE(write_file(INSTANCE "/buffer_size_kb", "4096"));
	ASSERT_TRUE(write_file(INSTANCE "/events/khv/enable", "1"));
	run_to_hlt(_metadata, &t, 30, 9);
	ASSERT_TRUE(write_file(INSTANCE "/events/khv/enable", "0"));
	trace = read_trace();
	ASSERT_NE(NULL, trace);

	snprintf(want, sizeof(want), "exit %#x (", c_cpuid);
	EXPECT_EQ(30u, trace_lines(trace, "khv_exit: ", want, NULL));
	snprintf(want, sizeof(want), "exit %#x (", c_io);
	EXPECT_EQ(9u, trace_lines(trace, "khv_exit: ", want, "info 0x50"))
		TH_LOG("I/O exits with port 0x50 in the exit information");
	EXPECT_EQ(9u, trace_lines(trace, "khv_exit: ", want, "-> userspace"));
	EXPECT_EQ(9u, trace_lines(trace, "khv_pio: ", "out port 0x50 size 1 count 1",
				  "(userspace)"));
	snprintf(want, sizeof(want), "exit %#x (", c_hlt);
	EXPECT_EQ(1u, trace_lines(trace, "khv_exit: ", want, "-> userspace"));
	EXPECT_LE(1u, trace_lines(trace, "khv_npf: ", ": mapped", NULL))
		TH_LOG("the first run maps its pages on second-level faults");
	/* Each exit follows an entry: as many of one as of the other. */
	entries = trace_lines(trace, "khv_entry: ", NULL, NULL);
	exits = trace_lines(trace, "khv_exit: ", NULL, NULL);
	EXPECT_EQ(entries, exits);
	EXPECT_LE(30u + 9u + 1u, exits);
	/* exit_timing is on: every exit says how long its handler took. */
	EXPECT_EQ(exits, trace_lines(trace, "khv_exit: ", " handled in ", NULL));
	EXPECT_EQ(0u, trace_lines(trace, "khv_exit: ", " handled in 0 ns", NULL));
	EXPECT_EQ(10u, trace_lines(trace, "khv_userspace_exit: ", NULL, NULL));
	if (!_metadata->passed)
		TH_LOG("trace:\n%.4000s", trace);
	free(trace);
	rmdir(INSTANCE);
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
