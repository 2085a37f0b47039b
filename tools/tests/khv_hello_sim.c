// SPDX-License-Identifier: GPL-2.0
/*
 * A simulated /dev/khv for checking khv-hello on machines without VT-x or
 * AMD-V (`make -C tools check`).  Linked into a copy of the tool, this
 * ioctl() answers every khv ioctl in-process and runs the guest with a tiny
 * real-mode interpreter that knows only the instructions hello_guest.S
 * uses.  It checks the tool's side of the ABI (memory slot, real-mode
 * registers, run loop, I/O data page, exit statistics), not the kernel's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/khv.h>

/* Hardware exit codes as SVM numbers them, for the statistics. */
#define SIM_HW_CPUID	0x72
#define SIM_HW_HLT	0x78
#define SIM_HW_IOIO	0x7b

static struct {
	int vm_fd, vcpu_fd;
	struct khv_run *run;		/* the vCPU fd's memfd, mapped here too */
	unsigned char *ram;
	uint64_t ram_gpa, ram_size;
	struct khv_regs regs;
	struct khv_sregs sregs;
	int zf;
	uint64_t hw[3], user[KHV_EXIT_MAX];
} sim = { .vm_fd = -1, .vcpu_fd = -1 };

static int sim_err(int err)
{
	errno = err;
	return -1;
}

static unsigned char *guest_ptr(uint64_t gpa)
{
	if (!sim.ram || gpa < sim.ram_gpa || gpa >= sim.ram_gpa + sim.ram_size)
		return NULL;
	return sim.ram + (gpa - sim.ram_gpa);
}

static int sim_exit(uint32_t reason, uint32_t hw)
{
	sim.run->exit_reason = reason;
	sim.run->hw_exit_reason = hw;
	sim.user[reason]++;
	return 0;
}

static int sim_fail(unsigned char op)
{
	memset(&sim.run->internal, 0, sizeof(sim.run->internal));
	sim.run->internal.suberror = KHV_INTERNAL_ERROR_EMULATION;
	sim.run->internal.ndata = 2;
	sim.run->internal.data[0] = sim.sregs.cs.base + sim.regs.rip;
	sim.run->internal.data[1] = op;
	return sim_exit(KHV_EXIT_INTERNAL_ERROR, 0);
}

/* Real mode, 16-bit operands: just what hello_guest.S executes. */
static int sim_run(void)
{
	unsigned char *p, al;
	uint16_t imm;
	int steps;

	/* KHV_SIM_FAIL=entry: a VMRUN consistency-check failure (VMEXIT_INVALID). */
	if (getenv("KHV_SIM_FAIL")) {
		sim.run->fail_entry.hardware_entry_failure_reason = ~0ull;
		sim.run->fail_entry.cpu = 1;
		return sim_exit(KHV_EXIT_FAIL_ENTRY, 0xffffffff);
	}

	for (steps = 0; steps < 100000; steps++) {
		p = guest_ptr(sim.sregs.cs.base + (uint16_t)sim.regs.rip);
		if (!p)
			return sim_fail(0xff);
		switch (p[0]) {
		case 0x8c:	/* mov %cs, %ax */
			if (p[1] != 0xc8)
				return sim_fail(p[0]);
			sim.regs.rax = (sim.regs.rax & ~0xffffull) | sim.sregs.cs.selector;
			sim.regs.rip += 2;
			break;
		case 0x8e:	/* mov %ax, %ds */
			if (p[1] != 0xd8)
				return sim_fail(p[0]);
			sim.sregs.ds.selector = (uint16_t)sim.regs.rax;
			sim.sregs.ds.base = (uint64_t)sim.sregs.ds.selector << 4;
			sim.regs.rip += 2;
			break;
		case 0xbe:	/* mov $imm16, %si */
		case 0xba:	/* mov $imm16, %dx */
			memcpy(&imm, p + 1, 2);
			if (p[0] == 0xbe)
				sim.regs.rsi = (sim.regs.rsi & ~0xffffull) | imm;
			else
				sim.regs.rdx = (sim.regs.rdx & ~0xffffull) | imm;
			sim.regs.rip += 3;
			break;
		case 0xfc:	/* cld */
			sim.regs.rflags &= ~0x400ull;
			sim.regs.rip += 1;
			break;
		case 0xac: {	/* lodsb */
			unsigned char *src = guest_ptr(sim.sregs.ds.base + (uint16_t)sim.regs.rsi);

			if (!src || (sim.regs.rflags & 0x400))
				return sim_fail(p[0]);
			sim.regs.rax = (sim.regs.rax & ~0xffull) | *src;
			sim.regs.rsi = (sim.regs.rsi & ~0xffffull) |
				       (uint16_t)(sim.regs.rsi + 1);
			sim.regs.rip += 1;
			break;
		}
		case 0x84:	/* test %al, %al */
			if (p[1] != 0xc0)
				return sim_fail(p[0]);
			sim.zf = (uint8_t)sim.regs.rax == 0;
			sim.regs.rip += 2;
			break;
		case 0x74:	/* jz rel8 */
			sim.regs.rip += 2 + (sim.zf ? (int8_t)p[1] : 0);
			break;
		case 0xeb:	/* jmp rel8 */
			sim.regs.rip += 2 + (int8_t)p[1];
			break;
		case 0xee:	/* out %al, (%dx): one byte in the I/O data page */
			al = (uint8_t)sim.regs.rax;
			sim.regs.rip += 1;
			memset(&sim.run->io, 0, sizeof(sim.run->io));
			sim.run->io.direction = KHV_EXIT_IO_OUT;
			sim.run->io.size = 1;
			sim.run->io.port = (uint16_t)sim.regs.rdx;
			sim.run->io.count = 1;
			sim.run->io.data_offset = KHV_IO_DATA_OFFSET;
			((unsigned char *)sim.run)[KHV_IO_DATA_OFFSET] = al;
			sim.hw[2]++;
			return sim_exit(KHV_EXIT_IO, SIM_HW_IOIO);
		case 0x66:	/* xor %eax, %eax */
			if (p[1] != 0x31 || p[2] != 0xc0)
				return sim_fail(p[0]);
			sim.regs.rax = 0;
			sim.regs.rip += 3;
			break;
		case 0x0f:	/* cpuid, leaf 0 only: handled "in the kernel" */
			if (p[1] != 0xa2 || (uint32_t)sim.regs.rax != 0)
				return sim_fail(p[0]);
			sim.regs.rax = 0x10;
			sim.regs.rbx = 0x68747541;	/* "Auth" */
			sim.regs.rdx = 0x69746e65;	/* "enti" */
			sim.regs.rcx = 0x444d4163;	/* "cAMD" */
			sim.regs.rip += 2;
			sim.hw[0]++;
			break;
		case 0xf4:	/* hlt */
			sim.regs.rip += 1;
			sim.hw[1]++;
			return sim_exit(KHV_EXIT_HLT, SIM_HW_HLT);
		default:
			return sim_fail(p[0]);
		}
	}
	return sim_fail(0);
}

static void put_stat(struct khv_exit_stat *e, uint32_t kind, uint32_t code,
		     uint64_t count, const char *name)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->code = code;
	e->count = count;
	snprintf(e->name, sizeof(e->name), "%s", name);
}

static int sim_stats(struct khv_exit_stats *s)
{
	static const char *const hw_names[] = { "svm_cpuid", "svm_hlt", "svm_ioio" };
	static const uint32_t hw_codes[] = { SIM_HW_CPUID, SIM_HW_HLT, SIM_HW_IOIO };
	struct khv_exit_stat all[3 + KHV_EXIT_MAX + 1];
	uint32_t n = 0, i;
	char name[32];

	for (i = 0; i < 3; i++)
		if (sim.hw[i])
			put_stat(&all[n++], KHV_STAT_HW, hw_codes[i], sim.hw[i], hw_names[i]);
	for (i = 0; i < KHV_EXIT_MAX; i++) {
		if (!sim.user[i])
			continue;
		snprintf(name, sizeof(name), "%s", i == KHV_EXIT_IO ? "io" :
			 i == KHV_EXIT_HLT ? "hlt" : "other");
		put_stat(&all[n++], KHV_STAT_USER, i, sim.user[i], name);
	}
	/* A counter that is neither an exit nor an exit to userspace. */
	put_stat(&all[n++], KHV_STAT_KERNEL, KHV_KSTAT_L1D_FLUSH, 1000, "l1d_flush");
	if (s->nent < n) {
		s->nent = n;
		return sim_err(E2BIG);
	}
	memcpy(s->entries, all, n * sizeof(all[0]));
	s->nent = n;
	return 0;
}

static int sim_ioctl(unsigned long req, void *arg)
{
	const struct khv_userspace_memory_region *r = arg;

	switch (req) {
	case KHV_GET_API_VERSION:
		return KHV_API_VERSION;
	case KHV_CHECK_EXTENSION:
		return (unsigned long)arg == KHV_CAP_VENDOR ? KHV_VENDOR_AMD :
		       (unsigned long)arg == KHV_CAP_EXIT_STATS ? 1 : 0;
	case KHV_GET_VCPU_MMAP_SIZE:
		return KHV_RUN_MMAP_SIZE;
	case KHV_CREATE_VM:
		sim.vm_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		return sim.vm_fd;
	case KHV_SET_USER_MEMORY_REGION:
		if (r->slot != 0 || r->guest_phys_addr != 0 || r->memory_size < (1u << 20))
			return sim_err(EINVAL);
		sim.ram = (unsigned char *)(uintptr_t)r->userspace_addr;
		sim.ram_gpa = r->guest_phys_addr;
		sim.ram_size = r->memory_size;
		return 0;
	case KHV_CREATE_VCPU:
		sim.vcpu_fd = memfd_create("khv-sim-run", MFD_CLOEXEC);
		if (sim.vcpu_fd < 0 || ftruncate(sim.vcpu_fd, KHV_RUN_MMAP_SIZE))
			return -1;
		sim.run = mmap(NULL, KHV_RUN_MMAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			       sim.vcpu_fd, 0);
		return sim.run == MAP_FAILED ? -1 : sim.vcpu_fd;
	case KHV_GET_SREGS:
		memcpy(arg, &sim.sregs, sizeof(sim.sregs));
		return 0;
	case KHV_SET_SREGS:
		memcpy(&sim.sregs, arg, sizeof(sim.sregs));
		/* The tool must leave protected mode off and CS.base = CS * 16. */
		if ((sim.sregs.cr0 & 1) || sim.sregs.cs.base != (uint64_t)sim.sregs.cs.selector << 4)
			return sim_err(EINVAL);
		return 0;
	case KHV_GET_REGS:
		memcpy(arg, &sim.regs, sizeof(sim.regs));
		return 0;
	case KHV_SET_REGS:
		memcpy(&sim.regs, arg, sizeof(sim.regs));
		return (sim.regs.rflags & 2) ? 0 : sim_err(EINVAL);
	case KHV_RUN:
		return sim_run();
	case KHV_GET_EXIT_STATS:
		return sim_stats(arg);
	default:
		return sim_err(ENOTTY);
	}
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (_IOC_TYPE(req) == KHVIO)
		return sim_ioctl(req, arg);
	return (int)syscall(SYS_ioctl, fd, req, arg);
}
