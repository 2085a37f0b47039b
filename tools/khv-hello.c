// SPDX-License-Identifier: GPL-2.0
/*
 * khv-hello: the smallest complete khv VMM.  One VM with 2 MiB of RAM, one
 * vCPU in real mode running hello_guest.S, which writes a greeting to
 * COM1 one byte at a time, executes CPUID and halts.  The tool prints what
 * the guest wrote, checks it, and prints the vCPU's exit statistics.
 *
 * Exit status 0 only when the guest wrote exactly the expected greeting
 * and halted; any other exit is described on stderr and gives 1.
 *
 * Usage: khv-hello [device]     (default: $KHV_DEVICE, else /dev/khv)
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libkhv.h"

#define GUEST_RAM_SIZE	(2u << 20)
#define GUEST_LOAD_GPA	0x1000u		/* the guest code's first byte */
#define GUEST_CS	(GUEST_LOAD_GPA >> 4)	/* real mode: CS.base = CS * 16 */
#define GUEST_SP	0x8000u
#define COM1_DATA	0x3f8

#define MAX_USER_EXITS	1000		/* the guest needs 23 */
#define TIMEOUT_SECONDS	30

static const char expected[] = "hello from a khv guest\n";

/* hello_guest.S */
extern const unsigned char khv_hello_guest_start[], khv_hello_guest_end[];

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;	/* KHV_RUN returns -EINTR; the loop gives up */
}

/* Everything the run loop owns, for one cleanup path. */
struct hello {
	struct khv_sys sys;
	struct khv_vm vm;
	struct khv_vcpu vcpu;
	void *ram;
	char out[64];		/* what the guest wrote */
	size_t out_len;
};

static int fail(const char *what, int err)
{
	fprintf(stderr, "khv-hello: %s: %s\n", what, khv_strerror(err));
	return 1;
}

/* The node khv_open() tries for dev, for messages. */
static const char *device_name(const char *dev)
{
	const char *env = getenv("KHV_DEVICE");

	if (dev)
		return dev;
	return env && *env ? env : LIBKHV_DEFAULT_DEVICE;
}

static int setup(struct hello *h, const char *dev)
{
	size_t guest_size = (size_t)(khv_hello_guest_end - khv_hello_guest_start);
	struct khv_sregs sregs;
	struct khv_regs regs;
	int ret;

	ret = khv_open(&h->sys, dev);
	if (ret) {
		fprintf(stderr, "khv-hello: cannot open %s: %s\n", device_name(dev),
			khv_strerror(ret));
		return 1;
	}
	ret = khv_check_extension(&h->sys, KHV_CAP_VENDOR);
	printf("khv API %d, backend %s\n", h->sys.api_version,
	       ret == KHV_VENDOR_AMD ? "AMD-V (SVM)" :
	       ret == KHV_VENDOR_INTEL ? "Intel VT-x (VMX)" : "unknown");

	ret = khv_vm_create(&h->sys, &h->vm);
	if (ret)
		return fail("creating the VM", ret);

	h->ram = khv_guest_mem_alloc(GUEST_RAM_SIZE);
	if (!h->ram)
		return fail("allocating guest RAM", -ENOMEM);
	memcpy((char *)h->ram + GUEST_LOAD_GPA, khv_hello_guest_start, guest_size);
	ret = khv_vm_set_memory(&h->vm, 0, 0, 0, GUEST_RAM_SIZE, h->ram);
	if (ret)
		return fail("mapping guest RAM", ret);

	ret = khv_vcpu_create(&h->vm, 0, &h->vcpu);
	if (ret)
		return fail("creating vCPU 0", ret);

	/* Start from the vCPU's own state so apic_base keeps its reset value. */
	ret = khv_vcpu_get_sregs(&h->vcpu, &sregs);
	if (ret)
		return fail("reading special registers", ret);
	khv_sregs_real_mode(&sregs, GUEST_CS);
	ret = khv_vcpu_set_sregs(&h->vcpu, &sregs);
	if (ret)
		return fail("setting real mode", ret);

	memset(&regs, 0, sizeof(regs));
	regs.rip = 0;			/* CS:IP = 0x100:0 = GPA 0x1000 */
	regs.rsp = GUEST_SP;
	regs.rflags = 0x2;		/* bit 1 is always 1; interrupts off */
	ret = khv_vcpu_set_regs(&h->vcpu, &regs);
	if (ret)
		return fail("setting registers", ret);
	return 0;
}

/* The only I/O the guest does: byte OUTs to COM1. */
static int handle_io(struct hello *h)
{
	const struct khv_run *run = h->vcpu.run;
	const unsigned char *data = khv_vcpu_io_data(&h->vcpu);
	uint32_t i;

	if (run->io.direction != KHV_EXIT_IO_OUT || run->io.port != COM1_DATA ||
	    run->io.size != 1 || !data)
		return -1;
	for (i = 0; i < run->io.count; i++) {
		if (h->out_len == sizeof(h->out)) {
			fprintf(stderr, "khv-hello: the guest wrote more than %zu bytes\n",
				sizeof(h->out));
			return -1;
		}
		h->out[h->out_len++] = (char)data[i];
		putchar(data[i]);
	}
	return 0;
}

static void report_unexpected(struct hello *h)
{
	const struct khv_run *run = h->vcpu.run;
	struct khv_regs regs;
	uint32_t i, n;

	fflush(stdout);
	fprintf(stderr, "khv-hello: unexpected exit %s (%u), hardware exit %#x\n",
		khv_exit_reason_name(run->exit_reason), run->exit_reason,
		run->hw_exit_reason);
	switch (run->exit_reason) {
	case KHV_EXIT_IO:
		fprintf(stderr, "  %s port %#x, size %u, count %u\n",
			run->io.direction == KHV_EXIT_IO_OUT ? "out to" : "in from",
			run->io.port, run->io.size, run->io.count);
		break;
	case KHV_EXIT_MMIO:
		fprintf(stderr, "  %s gpa %#" PRIx64 ", %u bytes\n",
			run->mmio.is_write ? "write to" : "read from",
			(uint64_t)run->mmio.phys_addr, run->mmio.len);
		break;
	case KHV_EXIT_FAIL_ENTRY:
		fprintf(stderr, "  entry failure reason %#" PRIx64 " on cpu %u\n",
			(uint64_t)run->fail_entry.hardware_entry_failure_reason,
			run->fail_entry.cpu);
		break;
	case KHV_EXIT_INTERNAL_ERROR:
		n = run->internal.ndata < 16 ? run->internal.ndata : 16;
		fprintf(stderr, "  internal error %s (%u), %u data:",
			khv_internal_error_name(run->internal.suberror),
			run->internal.suberror, run->internal.ndata);
		for (i = 0; i < n; i++)
			fprintf(stderr, " %#" PRIx64, (uint64_t)run->internal.data[i]);
		fputc('\n', stderr);
		break;
	case KHV_EXIT_SHUTDOWN:
		fprintf(stderr, "  the guest triple faulted\n");
		break;
	case KHV_EXIT_HYPERCALL:
		fprintf(stderr, "  hypercall %" PRIu64 "\n", (uint64_t)run->hypercall.nr);
		break;
	default:
		break;
	}
	if (!khv_vcpu_get_regs(&h->vcpu, &regs))
		fprintf(stderr, "  rip %#" PRIx64 " rflags %#" PRIx64 " rax %#" PRIx64
			" rdx %#" PRIx64 " rsi %#" PRIx64 "\n",
			(uint64_t)regs.rip, (uint64_t)regs.rflags, (uint64_t)regs.rax,
			(uint64_t)regs.rdx, (uint64_t)regs.rsi);
}

/* KHV_RUN until HLT: 0, or 1 after describing what went wrong. */
static int run_guest(struct hello *h, unsigned int *user_exits)
{
	int ret;

	for (*user_exits = 0; *user_exits < MAX_USER_EXITS; ) {
		if (timed_out) {
			fprintf(stderr, "khv-hello: no HLT within %d s\n", TIMEOUT_SECONDS);
			return 1;
		}
		ret = khv_vcpu_run(&h->vcpu);
		if (ret == -EINTR)
			continue;	/* a signal; timed_out says which */
		if (ret)
			return fail("KHV_RUN", ret);
		(*user_exits)++;

		switch (h->vcpu.run->exit_reason) {
		case KHV_EXIT_HLT:
			return 0;
		case KHV_EXIT_IO:
			if (!handle_io(h))
				continue;
			/* fall through */
		default:
			report_unexpected(h);
			return 1;
		}
	}
	fprintf(stderr, "khv-hello: no HLT after %u exits\n", *user_exits);
	return 1;
}

static void print_vendor(struct hello *h)
{
	struct khv_regs regs;
	char vendor[13];
	uint32_t r[3];

	if (khv_vcpu_get_regs(&h->vcpu, &regs))
		return;
	/* CPUID leaf 0 returns the vendor in EBX, EDX, ECX order. */
	r[0] = (uint32_t)regs.rbx;
	r[1] = (uint32_t)regs.rdx;
	r[2] = (uint32_t)regs.rcx;
	memcpy(vendor, r, 12);
	vendor[12] = '\0';
	printf("guest CPUID vendor: \"%s\", max leaf %#" PRIx32 "\n",
	       vendor, (uint32_t)regs.rax);
}

static int print_stats(struct hello *h)
{
	struct khv_exit_stat *st = NULL, *bigger;
	uint32_t cap = 32, n = 0, i;
	uint64_t hw = 0, user = 0;
	int ret;

	if (khv_check_extension(&h->sys, KHV_CAP_EXIT_STATS) <= 0) {
		printf("exit statistics: not supported by this khv\n");
		return 0;
	}
	for (;;) {
		bigger = realloc(st, cap * sizeof(*st));
		if (!bigger) {
			free(st);
			return fail("exit statistics", -ENOMEM);
		}
		st = bigger;
		ret = khv_vcpu_get_exit_stats(&h->vcpu, st, cap, &n);
		if (ret != -E2BIG || n <= cap)
			break;
		cap = n;	/* grew between the calls: ask again */
	}
	if (ret) {
		free(st);
		return fail("exit statistics", ret);
	}

	printf("\nexit statistics, vCPU 0:\n");
	printf("  %-4s  %-6s  %-31s %10s\n", "kind", "code", "name", "count");
	for (i = 0; i < n; i++) {
		char code[16];
		int is_hw = st[i].kind == KHV_STAT_HW;
		const char *kind = is_hw ? "hw" :
				   st[i].kind == KHV_STAT_USER ? "user" : "kern";

		snprintf(code, sizeof(code), is_hw ? "%#x" : "%u", st[i].code);
		printf("  %-4s  %-6s  %-31s %10" PRIu64 "\n", kind,
		       code, st[i].name, (uint64_t)st[i].count);
		/* KHV_STAT_KERNEL counts work around entries, not exits. */
		if (is_hw)
			hw += st[i].count;
		else if (st[i].kind == KHV_STAT_USER)
			user += st[i].count;
	}
	printf("  hardware exits: %" PRIu64 ", exits to userspace: %" PRIu64 "\n", hw, user);
	free(st);
	return 0;
}

static void teardown(struct hello *h)
{
	khv_vcpu_destroy(&h->vcpu);
	khv_vm_destroy(&h->vm);
	khv_guest_mem_free(h->ram, GUEST_RAM_SIZE);
	khv_close(&h->sys);
}

int main(int argc, char **argv)
{
	struct hello h = {
		.sys = { .fd = -1 },
		.vm = { .fd = -1 },
		.vcpu = { .fd = -1 },
	};
	struct sigaction sa;
	unsigned int exits = 0;
	int rc;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: %s [device]\n", argv[0]);
		return 2;
	}

	/* No SA_RESTART: the alarm must interrupt a KHV_RUN that never returns. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(TIMEOUT_SECONDS);

	rc = setup(&h, argc == 2 ? argv[1] : NULL);
	if (!rc)
		rc = run_guest(&h, &exits);
	fflush(stdout);
	if (!rc && (h.out_len != strlen(expected) || memcmp(h.out, expected, h.out_len))) {
		fprintf(stderr, "khv-hello: the guest wrote %zu bytes, not the %zu of \"%s\"\n",
			h.out_len, strlen(expected), "hello from a khv guest\\n");
		rc = 1;
	}
	if (!rc) {
		printf("guest halted after %u exits to userspace\n", exits);
		print_vendor(&h);
		rc = print_stats(&h);
	}
	alarm(0);
	teardown(&h);
	return rc;
}
