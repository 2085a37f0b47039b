// SPDX-License-Identifier: GPL-2.0
/*
 * khvt: VM setup, guest memory layout and diagnostics for the khv selftests.
 * See khvt.h; the layout is in guest.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "khvt.h"

KHVT_DECLARE_PAYLOAD(stubs16);
KHVT_DECLARE_PAYLOAD(stubs32);
KHVT_DECLARE_PAYLOAD(stubs64);

#define CR0_MP		(1ull << 1)
#define CR0_EM		(1ull << 2)
#define CR0_TS		(1ull << 3)
#define CR4_OSFXSR	(1ull << 9)
#define CR4_OSXMMEXCPT	(1ull << 10)

/* Flat descriptors matching SEL_CODE64, SEL_DATA and SEL_CODE32. */
static const uint64_t gdt[] = {
	0,
	0x00af9b000000ffffull,	/* code, L=1, DPL 0 */
	0x00cf93000000ffffull,	/* data, 4 GiB, writable */
	0x00cf9b000000ffffull,	/* code, D=1, 4 GiB */
};

/*
 * ASan's leak check would only ever run in the harness's parent process (each
 * test ends in _exit()), where it finds nothing of interest and can fail on a
 * minimal initramfs.  Weak hook read by libasan at start-up.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

bool khvt_no_device(int err)
{
	return err == -ENOENT || err == -ENODEV || err == -ENXIO;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static void write_gate(uint8_t *mem, enum khvt_mode mode, unsigned int vector,
		       uint64_t handler)
{
	uint8_t *g;

	switch (mode) {
	case KHVT_REAL:
		g = mem + GUEST_IVT + vector * 4;
		put16(g, (uint16_t)handler);
		put16(g + 2, 0);
		break;
	case KHVT_PROT32:
		g = mem + GUEST_IDT + vector * 8;
		memset(g, 0, 8);
		put16(g, (uint16_t)handler);
		put16(g + 2, SEL_CODE32);
		g[5] = 0x8e;			/* present, DPL 0, 32-bit interrupt gate */
		put16(g + 6, (uint16_t)(handler >> 16));
		break;
	case KHVT_LONG:
		g = mem + GUEST_IDT + vector * 16;
		memset(g, 0, 16);
		put16(g, (uint16_t)handler);
		put16(g + 2, SEL_CODE64);
		g[5] = 0x8e;			/* present, DPL 0, 64-bit interrupt gate */
		put16(g + 6, (uint16_t)(handler >> 16));
		put32(g + 8, (uint32_t)(handler >> 32));
		break;
	}
}

int khvt_init_memory(uint8_t *mem, enum khvt_mode mode, struct khvt_payload p)
{
	static const struct khvt_payload stubs[] = {
		[KHVT_REAL] = { "stubs16", stubs16_start, stubs16_end },
		[KHVT_PROT32] = { "stubs32", stubs32_start, stubs32_end },
		[KHVT_LONG] = { "stubs64", stubs64_start, stubs64_end },
	};
	size_t len = (size_t)(p.end - p.start);
	size_t slen = (size_t)(stubs[mode].end - stubs[mode].start);
	unsigned int v;

	if (len > GUEST_CODE_MAX || slen > GUEST_CODE - GUEST_STUBS) {
		fprintf(stderr, "# payload %s: %zu bytes, more than %u\n",
			p.name, len, GUEST_CODE_MAX);
		return -E2BIG;
	}
	memcpy(mem + GUEST_CODE, p.start, len);
	memcpy(mem + GUEST_GDT, gdt, sizeof(gdt));
	memcpy(mem + GUEST_STUBS, stubs[mode].start, slen);
	for (v = 0; v < 32; v++)
		write_gate(mem, mode, v, GUEST_STUBS + v * GUEST_STUB_SIZE);

	if (mode == KHVT_LONG) {
		long used = khv_build_identity_map(mem + GUEST_PT, GUEST_PT,
						   GUEST_MAP_SIZE);

		if (used < 0) {
			fprintf(stderr, "# khv_build_identity_map: %s\n", strerror((int)-used));
			return (int)used;
		}
		if (GUEST_PT + used > KHVT_MEM_SIZE) {
			fprintf(stderr, "# identity map too big: %ld bytes\n", used);
			return -E2BIG;
		}
	}
	return 0;
}

static void set_flat_selectors(struct khv_sregs *s, uint16_t code)
{
	s->cs.selector = code;
	s->ds.selector = SEL_DATA;
	s->es.selector = SEL_DATA;
	s->fs.selector = SEL_DATA;
	s->gs.selector = SEL_DATA;
	s->ss.selector = SEL_DATA;
	s->gdt.base = GUEST_GDT;
	s->gdt.limit = sizeof(gdt) - 1;
	/* SSE usable without further setup (xsave, and compilers' habits). */
	s->cr0 &= ~(CR0_EM | CR0_TS);
	s->cr0 |= CR0_MP;
	s->cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
}

int khvt_init_vcpu(struct khv_vcpu *vcpu, enum khvt_mode mode, uint64_t rip)
{
	return khvt_init_vcpu_tr(vcpu, mode, rip, false);
}

int khvt_init_vcpu_tr(struct khv_vcpu *vcpu, enum khvt_mode mode, uint64_t rip,
		      bool tr_available)
{
	struct khv_segment *segs[6];
	struct khv_sregs s;
	struct khv_regs r;
	uint64_t apic_base;
	int i, ret;

	ret = khv_vcpu_get_sregs(vcpu, &s);
	if (ret) {
		fprintf(stderr, "# KHV_GET_SREGS: %s\n", strerror(-ret));
		return ret;
	}
	apic_base = s.apic_base;
	segs[0] = &s.cs;
	segs[1] = &s.ds;
	segs[2] = &s.es;
	segs[3] = &s.fs;
	segs[4] = &s.gs;
	segs[5] = &s.ss;

	switch (mode) {
	case KHVT_REAL:
		khv_sregs_real_mode(&s, 0);
		for (i = 0; i < 6; i++) {
			segs[i]->selector = 0;
			segs[i]->base = 0;
		}
		s.idt.base = GUEST_IVT;
		s.idt.limit = 0x3ff;
		break;
	case KHVT_PROT32:
		khv_sregs_protected_flat(&s);
		set_flat_selectors(&s, SEL_CODE32);
		s.idt.base = GUEST_IDT;
		s.idt.limit = 256 * 8 - 1;
		break;
	case KHVT_LONG:
		khv_sregs_long_mode(&s, GUEST_PT);
		set_flat_selectors(&s, SEL_CODE64);
		s.idt.base = GUEST_IDT;
		s.idt.limit = 256 * 16 - 1;
		break;
	}
	if (!s.apic_base)
		s.apic_base = apic_base;
	if (tr_available)
		s.tr.type &= ~2;	/* busy (11) to available (9) */
	ret = khv_vcpu_set_sregs(vcpu, &s);
	if (ret) {
		fprintf(stderr, "# KHV_SET_SREGS (mode %d): %s\n", mode, strerror(-ret));
		return ret;
	}

	memset(&r, 0, sizeof(r));
	r.rip = rip;
	r.rsp = GUEST_STACK_TOP;
	r.rflags = 0x2;			/* bit 1 is always set */
	ret = khv_vcpu_set_regs(vcpu, &r);
	if (ret)
		fprintf(stderr, "# KHV_SET_REGS: %s\n", strerror(-ret));
	return ret;
}

void khvt_destroy(struct khvt_vm *t)
{
	if (t->have_vcpu)
		khv_vcpu_destroy(&t->vcpu);
	if (t->have_vm)
		khv_vm_destroy(&t->vm);
	if (t->mem)
		khv_guest_mem_free(t->mem, KHVT_MEM_SIZE);
	if (t->have_sys)
		khv_close(&t->sys);
	t->have_vcpu = t->have_vm = t->have_sys = false;
	t->mem = NULL;
}

static int vm_setup(struct khvt_vm *t, enum khvt_mode mode, struct khvt_payload p,
		    bool irqchip)
{
	int ret;

	memset(t, 0, sizeof(*t));
	t->mode = mode;
	ret = khv_open(&t->sys, NULL);
	if (ret) {
		fprintf(stderr, "# khv_open: %s\n", khv_strerror(ret));
		return ret;
	}
	t->have_sys = true;
	ret = khv_check_extension(&t->sys, KHV_CAP_VENDOR);
	t->vendor = ret > 0 ? ret : 0;

	ret = khv_vm_create(&t->sys, &t->vm);
	if (ret) {
		fprintf(stderr, "# KHV_CREATE_VM: %s\n", khv_strerror(ret));
		goto fail;
	}
	t->have_vm = true;
	if (irqchip) {
		ret = khv_vm_create_irqchip(&t->vm);
		if (ret) {
			fprintf(stderr, "# KHV_CREATE_IRQCHIP: %s\n", khv_strerror(ret));
			goto fail;
		}
	}

	t->mem = khv_guest_mem_alloc(KHVT_MEM_SIZE);
	if (!t->mem) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = khvt_init_memory(t->mem, mode, p);
	if (ret)
		goto fail;
	ret = khv_vm_set_memory(&t->vm, 0, 0, 0, KHVT_MEM_SIZE, t->mem);
	if (ret) {
		fprintf(stderr, "# KHV_SET_USER_MEMORY_REGION slot 0: %s\n", khv_strerror(ret));
		goto fail;
	}

	ret = khv_vcpu_create(&t->vm, 0, &t->vcpu);
	if (ret) {
		fprintf(stderr, "# KHV_CREATE_VCPU 0: %s\n", khv_strerror(ret));
		goto fail;
	}
	t->have_vcpu = true;
	ret = khvt_init_vcpu(&t->vcpu, mode, GUEST_CODE);
	if (ret)
		goto fail;
	return 0;
fail:
	khvt_destroy(t);
	return ret;
}

int vm_with_payload(struct khvt_vm *t, enum khvt_mode mode, struct khvt_payload p)
{
	return vm_setup(t, mode, p, false);
}

int vm_with_irqchip(struct khvt_vm *t, enum khvt_mode mode, struct khvt_payload p)
{
	return vm_setup(t, mode, p, true);
}

void *khvt_gpa(struct khvt_vm *t, uint64_t gpa)
{
	if (!t->mem || gpa >= KHVT_MEM_SIZE)
		return NULL;
	return t->mem + gpa;
}

int khvt_set_gate(struct khvt_vm *t, unsigned int vector, uint64_t handler_gpa)
{
	if (!t->mem || vector > 255)
		return -EINVAL;
	write_gate(t->mem, t->mode, vector, handler_gpa);
	return 0;
}

static volatile sig_atomic_t watchdog_fired;

static void watchdog(int sig)
{
	(void)sig;
	watchdog_fired = 1;
}

int khvt_run(struct khvt_vm *t)
{
	struct sigaction sa;
	int ret;

	/* No SA_RESTART: the signal must make KHV_RUN return -EINTR. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watchdog;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	watchdog_fired = 0;
	alarm(KHVT_WATCHDOG_SECONDS);
	ret = khv_vcpu_run(&t->vcpu);
	alarm(0);
	if (ret == -EINTR && watchdog_fired)
		return -ETIMEDOUT;
	return ret;
}

uint64_t khvt_io_get(struct khvt_vm *t, uint32_t i)
{
	const struct khv_run *run = t->vcpu.run;
	const uint8_t *data = khv_vcpu_io_data(&t->vcpu);
	uint64_t v = 0;

	/* libkhv refuses data_offset/size/count that leave the mapping. */
	if (!data || i >= run->io.count || run->io.size > sizeof(v))
		return ~0ull;
	memcpy(&v, data + (size_t)i * run->io.size, run->io.size);
	return v;
}

void khvt_io_set(struct khvt_vm *t, uint32_t i, uint64_t value)
{
	const struct khv_run *run = t->vcpu.run;
	uint8_t *data = khv_vcpu_io_data(&t->vcpu);

	if (!data || i >= run->io.count || run->io.size > sizeof(value))
		return;
	memcpy(data + (size_t)i * run->io.size, &value, run->io.size);
}

uint64_t khvt_mmio_get(struct khvt_vm *t)
{
	const struct khv_run *run = t->vcpu.run;
	uint64_t v = 0;

	memcpy(&v, run->mmio.data, run->mmio.len <= 8 ? run->mmio.len : 8);
	return v;
}

void khvt_mmio_set(struct khvt_vm *t, uint64_t value)
{
	struct khv_run *run = t->vcpu.run;

	memcpy(run->mmio.data, &value, run->mmio.len <= 8 ? run->mmio.len : 8);
}

const char *khvt_vector_name(unsigned int vector)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "res15",
		"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "res22", "res23",
		"res24", "res25", "res26", "res27", "#HV", "#VC", "#SX", "res31",
	};

	return vector < 32 ? names[vector] : "interrupt";
}

const char *khvt_exit_str(struct khvt_vm *t, char *buf, size_t len)
{
	const struct khv_run *run = t->vcpu.run;
	const char *name = khv_exit_reason_name(run->exit_reason);
	struct khv_regs r;
	uint32_t i, n;
	int off;

	switch (run->exit_reason) {
	case KHV_EXIT_IO:
		if (run->io.direction == KHV_EXIT_IO_OUT && run->io.port == PORT_EXC &&
		    !khv_vcpu_get_regs(&t->vcpu, &r)) {
			snprintf(buf, len,
				 "unexpected guest exception %s (vector %llu) error code %#llx"
				 " at RIP %#llx CR2 %#llx (lib/stubs.S)",
				 khvt_vector_name((unsigned int)r.rax), r.rax, r.rbx, r.rcx, r.rsi);
			break;
		}
		off = snprintf(buf, len, "IO %s port %#x size %u count %u data_offset %#" PRIx64 " data",
			       run->io.direction == KHV_EXIT_IO_OUT ? "OUT" : "IN",
			       run->io.port, run->io.size, run->io.count, (uint64_t)run->io.data_offset);
		n = run->io.count < 4 ? run->io.count : 4;
		for (i = 0; i < n && off > 0 && (size_t)off < len &&
		     run->io.size <= 4 && run->io.data_offset < KHV_RUN_MMAP_SIZE; i++)
			off += snprintf(buf + off, len - off, " %#" PRIx64, khvt_io_get(t, i));
		if (n < run->io.count && off > 0 && (size_t)off < len)
			snprintf(buf + off, len - off, " ...");
		break;
	case KHV_EXIT_MMIO:
		snprintf(buf, len, "MMIO %s gpa %#" PRIx64 " len %u data %#" PRIx64,
			 run->mmio.is_write ? "write" : "read", (uint64_t)run->mmio.phys_addr,
			 run->mmio.len, khvt_mmio_get(t));
		break;
	case KHV_EXIT_HYPERCALL:
		snprintf(buf, len, "HYPERCALL nr %#llx args %#llx %#llx %#llx %#llx %#llx %#llx",
			 run->hypercall.nr, run->hypercall.args[0], run->hypercall.args[1],
			 run->hypercall.args[2], run->hypercall.args[3], run->hypercall.args[4],
			 run->hypercall.args[5]);
		break;
	case KHV_EXIT_INTERNAL_ERROR:
		off = snprintf(buf, len, "INTERNAL_ERROR %s (%u) ndata %u:",
			       khv_internal_error_name(run->internal.suberror),
			       run->internal.suberror, run->internal.ndata);
		n = run->internal.ndata < 16 ? run->internal.ndata : 16;
		for (i = 0; i < n && off > 0 && (size_t)off < len; i++)
			off += snprintf(buf + off, len - off, " %#llx", run->internal.data[i]);
		break;
	case KHV_EXIT_FAIL_ENTRY:
		snprintf(buf, len, "FAIL_ENTRY reason %#llx cpu %u",
			 run->fail_entry.hardware_entry_failure_reason, run->fail_entry.cpu);
		break;
	default:
		snprintf(buf, len, "%s (%u)", name ? name : "?", run->exit_reason);
		break;
	}
	return buf;
}

static void dump_seg(const char *n, const struct khv_segment *s)
{
	fprintf(stderr, "#   %-3s sel %#06x base %#" PRIx64 " limit %#x type %u s %u dpl %u"
		" p %u db %u l %u g %u%s\n", n, s->selector, (uint64_t)s->base, s->limit,
		s->type, s->s, s->dpl, s->present, s->db, s->l, s->g,
		s->unusable ? " unusable" : "");
}

/* The vectors set in one 256-bit APIC register (IRR, ISR, TMR) at regs[base]. */
static void dump_vectors(const char *n, const uint32_t *regs, unsigned int base)
{
	unsigned int v;
	bool any = false;

	fprintf(stderr, "#   %s", n);
	for (v = 0; v < 256; v++) {
		if (regs[base + (v / 32) * 4] & (1u << (v % 32))) {
			fprintf(stderr, " %#x", v);
			any = true;
		}
	}
	fprintf(stderr, "%s\n", any ? "" : " -");
}

/*
 * KHVT_TRACE_STOP=1 in the environment: the first failure dumped stops the
 * kernel's trace ring (tracing_on), so the khv events that led to it stay
 * there to read instead of being overwritten by the tests that follow.
 */
static void trace_stop(void)
{
	const char *e = getenv("KHVT_TRACE_STOP");
	int fd;

	if (!e || strcmp(e, "1"))
		return;
	fd = open("/sys/kernel/tracing/tracing_on", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open("/sys/kernel/debug/tracing/tracing_on", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "0", 1) == 1)
		fprintf(stderr, "# KHVT_TRACE_STOP: the trace ring stopped here\n");
	close(fd);
}

void khvt_dump_irq(struct khv_vcpu *vcpu)
{
	static const char *const mp[] = { "runnable", "uninitialized", "init-received", "halted" };
	struct khv_vcpu_events e;
	struct khv_lapic_state l;
	uint32_t state;

	trace_stop();
	if (!khv_vcpu_get_mp_state(vcpu, &state))
		fprintf(stderr, "#   mp_state %s\n", state < 4 ? mp[state] : "?");
	if (!khv_vcpu_get_events(vcpu, &e))
		fprintf(stderr, "#   events: injected %u/%u type %u, exception %u/%u, nmi %u masked %u,"
			" interrupt %u/%#x, shadow %u\n", e.injected.valid, e.injected.vector,
			e.injected.type, e.exception.pending, e.exception.vector, e.nmi.pending,
			e.nmi.masked, e.interrupt.pending, e.interrupt.vector, e.shadow);
	if (khv_vcpu_get_lapic(vcpu, &l))
		return;	/* no in-kernel irqchip */
	fprintf(stderr, "#   apic base %#" PRIx64 " id %#x svr %#x tpr %#x ppr %#x esr %#x\n",
		(uint64_t)l.apic_base, l.regs[0x20 / 4], l.regs[0xf0 / 4], l.regs[0x80 / 4],
		l.regs[0xa0 / 4], l.regs[0x280 / 4]);
	fprintf(stderr, "#   lvt timer %#x lint0 %#x lint1 %#x; tmict %#x tmcct %#x tdcr %#x"
		" tsc_deadline %#" PRIx64 "\n", l.regs[0x320 / 4], l.regs[0x350 / 4],
		l.regs[0x360 / 4], l.regs[0x380 / 4], l.regs[0x390 / 4], l.regs[0x3e0 / 4],
		(uint64_t)l.tsc_deadline);
	dump_vectors("irr", l.regs, 0x200 / 4);
	dump_vectors("isr", l.regs, 0x100 / 4);
}

void khvt_dump(struct khvt_vm *t)
{
	const struct khv_run *run = t->vcpu.run;
	struct khv_sregs s;
	struct khv_regs r;
	char buf[512];

	if (!t->have_vcpu || !run)
		return;
	fprintf(stderr, "# exit: %s (hw exit %#x, if_flag %u, ready_for_injection %u)\n",
		khvt_exit_str(t, buf, sizeof(buf)), run->hw_exit_reason, run->if_flag,
		run->ready_for_interrupt_injection);
	if (!khv_vcpu_get_regs(&t->vcpu, &r)) {
		fprintf(stderr, "#   rax %#llx rbx %#llx rcx %#llx rdx %#llx\n",
			r.rax, r.rbx, r.rcx, r.rdx);
		fprintf(stderr, "#   rsi %#llx rdi %#llx rsp %#llx rbp %#llx\n",
			r.rsi, r.rdi, r.rsp, r.rbp);
		fprintf(stderr, "#   r8 %#llx r9 %#llx r10 %#llx r11 %#llx\n",
			r.r8, r.r9, r.r10, r.r11);
		fprintf(stderr, "#   r12 %#llx r13 %#llx r14 %#llx r15 %#llx\n",
			r.r12, r.r13, r.r14, r.r15);
		fprintf(stderr, "#   rip %#llx (payload offset %#llx) rflags %#llx\n",
			r.rip, r.rip - GUEST_CODE, r.rflags);
	}
	if (!khv_vcpu_get_sregs(&t->vcpu, &s)) {
		dump_seg("cs", &s.cs);
		dump_seg("ss", &s.ss);
		dump_seg("ds", &s.ds);
		fprintf(stderr, "#   cr0 %#llx cr2 %#llx cr3 %#llx cr4 %#llx efer %#llx\n",
			s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
		fprintf(stderr, "#   gdt %#llx/%#x idt %#llx/%#x\n",
			s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
	}
	khvt_dump_irq(&t->vcpu);
}

long khvt_meminfo_kib(const char *field)
{
	size_t flen = strlen(field);
	char line[256];
	long v = -1;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, flen) && line[flen] == ':') {
			v = strtol(line + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

void *khvt_alloc_2m_aligned(size_t size)
{
	const size_t align = 2ul << 20;
	uint8_t *p = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + align - 1) & ~(align - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	munmap((uint8_t *)a + size, (uintptr_t)p + align - a);
	return (void *)a;
}

long khvt_anon_huge_kib(const void *p)
{
	char line[256], start[32];
	bool in = false;
	long kib = -1;
	FILE *f;

	snprintf(start, sizeof(start), "%lx-", (unsigned long)(uintptr_t)p);
	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, start, strlen(start))) {
			in = true;
		} else if (in && !strncmp(line, "AnonHugePages:", 14)) {
			kib = strtol(line + 14, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kib;
}

int khvt_add_vcpu(struct khvt_vm *t, uint32_t id, struct khv_vcpu *vcpu, uint64_t rip)
{
	int err = khv_vcpu_create(&t->vm, id, vcpu);

	if (!err)
		err = khvt_init_vcpu(vcpu, t->mode, rip);
	if (!err)
		err = khv_vcpu_set_mp_state(vcpu, KHV_MP_STATE_RUNNABLE);
	return err;
}

bool khvt_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = 0;
	return ok;
}

bool khvt_write_line(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	bool ok;

	if (!f)
		return false;
	ok = fputs(val, f) >= 0;
	return fclose(f) == 0 && ok;
}

/* A field of /proc/vmstat, or -1. */
static long khvt_vmstat(const char *field)
{
	char name[64];
	long value, found = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", name, &value) == 2) {
		if (!strcmp(name, field)) {
			found = value;
			break;
		}
	}
	fclose(f);
	return found;
}

long khvt_pins_outstanding(void)
{
	long acq, rel;
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);

	if (fd >= 0) {
		/* Failing (not root) leaves the counters only less fresh. */
		if (write(fd, "1", 1) < 0) {
		}
		close(fd);
	}
	acq = khvt_vmstat("nr_foll_pin_acquired");
	rel = khvt_vmstat("nr_foll_pin_released");
	return acq < 0 || rel < 0 ? LONG_MIN : acq - rel;
}

void *khvt_bad_page(void)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int khvt_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (lseek(fd, 0, SEEK_END) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int khvt_kmsg_problems(int fd, char *first, size_t len)
{
	static const char *const bad[] = {
		"WARNING:", "BUG:", "Oops", "Call Trace", "Bad FPU state",
		"general protection", "callback failed", "possible circular locking",
		"inconsistent lock state", "KASAN", "soft lockup", "self-detected stall",
		"rcu: INFO", "blocked for more than",
	};
	char rec[8192];
	int n = 0;

	if (len)
		first[0] = 0;
	for (;;) {
		ssize_t r = read(fd, rec, sizeof(rec) - 1);
		char *msg, *nl;
		size_t i;

		if (r < 0 && errno == EPIPE)	/* records overwritten: go on */
			continue;
		if (r <= 0)			/* EAGAIN: nothing more */
			break;
		rec[r] = 0;
		/* "prio,seq,usec,flags;text\n" then " KEY=value" lines */
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = 0;
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (!strstr(msg, bad[i]))
				continue;
			fprintf(stderr, "# kernel: %s\n", msg);
			if (!n++ && len)
				snprintf(first, len, "%s", msg);
			break;
		}
	}
	return n;
}

bool khvt_under_tcg(void)
{
	uint32_t a, b, c, d;
	char sig[13];

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x40000000), "c"(0));
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = 0;
	return !strcmp(sig, "TCGTCGTCGTCG");
}
