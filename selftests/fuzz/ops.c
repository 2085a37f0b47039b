// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's state and operations.  The main thread owns the tables
 * below and is the only one to change them; each vCPU's runner thread
 * owns only its run page mapping and calls KHV_RUN on the vCPU's fd
 * number until told to stop, whatever that number refers to by then (the
 * main thread may have closed it, and a new object may have taken it).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

#include "fuzz.h"
#include "khvt.h"

#define MAX_SYS		3
#define MAX_VMS		3
#define MAX_VCPUS	3	/* per VM */
#define MAX_CHUNKS	6
#define CHUNK_MAX	(4ul << 20)
#define MAX_EVENTFDS	6

struct runner {
	pthread_t thread;
	int fd;
	volatile int stop;
	bool started;
};

struct fvcpu {
	bool used;
	int fd;			/* -1 once closed (the runner may go on) */
	uint32_t id;
	struct runner rn;
};

struct fvm {
	bool used;
	int fd;
	uint8_t *mem;		/* slot 0, FUZZ_CODE... layout; NULL once unmapped */
	struct fvcpu vcpu[MAX_VCPUS];
};

struct chunk {
	uint8_t *p;
	size_t len;
};

static struct {
	struct fuzz_rng rng;
	struct fuzz_stats *st;
	bool tcg;
	/*
	 * The kicker thread signals every runner and the main thread every
	 * KICK_US: a vCPU ioctl waits (killably, not interruptibly) for the
	 * vCPU's mutex, which a runner holds for as long as its guest loops
	 * without exits; the kicks bound that wait.  runners_lock keeps it
	 * from signalling a thread that is being joined.
	 */
	pthread_t main_thread, kicker;
	pthread_mutex_t runners_lock;
	volatile int done;
	uint64_t insn_mask;
	uint64_t seed;
	int sys[MAX_SYS];
	struct fvm vm[MAX_VMS];
	struct chunk chunk[MAX_CHUNKS];
	int efd[MAX_EVENTFDS];		/* for irqfds and ioeventfds; -1: none */
	bool verbose;
} f;

/* ---- bookkeeping --------------------------------------------------------- */

bool fuzz_errno_ok(int err)
{
	switch (err) {
	case EINVAL: case EFAULT: case ENOMEM: case EINTR: case EEXIST: case EBUSY:
	case ENOTTY: case ENFILE: case EMFILE: case E2BIG: case EBADF: case EIO:
	case ENODATA: case ENODEV: case EOPNOTSUPP: case EAGAIN: case ENOSPC:
	case EPERM: case EACCES: case ENXIO: case ENOENT: case ESRCH:
		return true;
	default:
		return false;
	}
}

static void violation(const char *what, long long a, long long b)
{
	__atomic_fetch_add(&f.st->violations, 1, __ATOMIC_RELAXED);
	fprintf(stderr, "# fuzz: VIOLATION: %s (0x%llx, 0x%llx), seed %llu\n", what, a, b,
		(unsigned long long)f.seed);
	fuzz_ring_dump(2);
}

/* One ioctl, recorded; the errno is checked against the documented set. */
static long do_ioctl(const char *name, int fd, unsigned long cmd, void *arg)
{
	long ret = ioctl(fd, cmd, arg);
	int err = errno;

	fuzz_ring_add(name, fd, (long long)cmd, ret, err);
	__atomic_fetch_add(&f.st->calls, 1, __ATOMIC_RELAXED);
	if (ret < 0) {
		if (err < (int)(sizeof(f.st->errno_count) / sizeof(f.st->errno_count[0])))
			__atomic_fetch_add(&f.st->errno_count[err], 1, __ATOMIC_RELAXED);
		if (!fuzz_errno_ok(err))
			violation(name, fd, err);
	}
	errno = err;
	return ret;
}

/* Any live fd of ours, or a random small number. */
static int any_fd(void)
{
	int fds[MAX_SYS + MAX_VMS * (1 + MAX_VCPUS)], n = 0, i, j;

	for (i = 0; i < MAX_SYS; i++)
		if (f.sys[i] >= 0)
			fds[n++] = f.sys[i];
	for (i = 0; i < MAX_VMS; i++) {
		if (!f.vm[i].used)
			continue;
		fds[n++] = f.vm[i].fd;
		for (j = 0; j < MAX_VCPUS; j++)
			if (f.vm[i].vcpu[j].used && f.vm[i].vcpu[j].fd >= 0)
				fds[n++] = f.vm[i].vcpu[j].fd;
	}
	if (!n || fuzz_chance(&f.rng, 5))
		return (int)fuzz_below(&f.rng, 64);
	return fds[fuzz_below(&f.rng, n)];
}

static struct fvm *pick_vm(void)
{
	unsigned int i, start = fuzz_below(&f.rng, MAX_VMS);

	for (i = 0; i < MAX_VMS; i++) {
		struct fvm *vm = &f.vm[(start + i) % MAX_VMS];

		if (vm->used)
			return vm;
	}
	return NULL;
}

static struct fvcpu *pick_vcpu(struct fvm **vmp)
{
	struct fvm *vm = pick_vm();
	unsigned int i, start = fuzz_below(&f.rng, MAX_VCPUS);

	if (!vm)
		return NULL;
	for (i = 0; i < MAX_VCPUS; i++) {
		struct fvcpu *v = &vm->vcpu[(start + i) % MAX_VCPUS];

		if (v->used && v->fd >= 0) {
			if (vmp)
				*vmp = vm;
			return v;
		}
	}
	return NULL;
}

/* ---- the runners ---------------------------------------------------------- */

static void on_usr1(int sig)
{
	(void)sig;
}

static void tcg_tr_available(int fd);

static void *runner_main(void *arg)
{
	struct runner *rn = arg;
	struct khv_run *run;

	run = mmap(NULL, KHV_RUN_MMAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, rn->fd, 0);
	while (!rn->stop) {
		long ret;
		int err;

		ret = ioctl(rn->fd, KHV_RUN, 0);
		err = errno;
		fuzz_ring_add("KHV_RUN", rn->fd, 0, ret, err);
		__atomic_fetch_add(&f.st->runs, 1, __ATOMIC_RELAXED);
		if (ret == 0 && run != MAP_FAILED) {
			uint32_t r = run->exit_reason;

			__atomic_fetch_add(&f.st->exits[r < KHV_EXIT_MAX ? r : KHV_EXIT_MAX], 1,
					   __ATOMIC_RELAXED);
			if (r >= KHV_EXIT_MAX)
				violation("KHV_RUN exit reason out of range", rn->fd, r);
			/* khv put the vCPU back in its RESET state, busy TR included. */
			if (r == KHV_EXIT_SHUTDOWN && f.tcg)
				tcg_tr_available(rn->fd);
		} else if (ret < 0) {
			if (!fuzz_errno_ok(err))
				violation("KHV_RUN errno", rn->fd, err);
			/* Not a vCPU (any more): do not spin. */
			if (err != EINTR)
				usleep(2000);
		}
	}
	if (run != MAP_FAILED)
		munmap(run, KHV_RUN_MMAP_SIZE);
	return NULL;
}

static void runner_stop(struct runner *rn)
{
	if (!rn->started)
		return;
	pthread_mutex_lock(&f.runners_lock);
	rn->stop = 1;
	rn->started = false;		/* the kicker leaves it alone now */
	pthread_mutex_unlock(&f.runners_lock);
	/* A guest in a loop without exits leaves KHV_RUN only on a signal. */
	while (pthread_tryjoin_np(rn->thread, NULL) == EBUSY) {
		pthread_kill(rn->thread, SIGUSR1);
		usleep(1000);
	}
}

#define KICK_US		2000

static void *kicker_main(void *arg)
{
	unsigned int i, j;

	(void)arg;
	while (!f.done) {
		pthread_mutex_lock(&f.runners_lock);
		for (i = 0; i < MAX_VMS; i++)
			for (j = 0; j < MAX_VCPUS; j++)
				if (f.vm[i].vcpu[j].rn.started)
					pthread_kill(f.vm[i].vcpu[j].rn.thread, SIGUSR1);
		pthread_mutex_unlock(&f.runners_lock);
		pthread_kill(f.main_thread, SIGUSR1);
		usleep(KICK_US);
	}
	return NULL;
}

/* ---- objects ---------------------------------------------------------------- */

static void vcpu_drop(struct fvcpu *v)
{
	runner_stop(&v->rn);
	if (v->fd >= 0)
		close(v->fd);
	memset(v, 0, sizeof(*v));
	v->fd = -1;
}

static void vm_drop(struct fvm *vm)
{
	unsigned int i;

	for (i = 0; i < MAX_VCPUS; i++)
		if (vm->vcpu[i].used)
			vcpu_drop(&vm->vcpu[i]);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->mem)
		munmap(vm->mem, KHVT_MEM_SIZE);
	memset(vm, 0, sizeof(*vm));
	vm->fd = -1;
}

static void op_open_sys(void)
{
	unsigned int i = fuzz_below(&f.rng, MAX_SYS);

	if (f.sys[i] >= 0)
		close(f.sys[i]);
	f.sys[i] = open("/dev/khv", O_RDWR | O_CLOEXEC);
	fuzz_ring_add("open", i, 0, f.sys[i], errno);
}

static void op_create_vm(void)
{
	struct khv_userspace_memory_region r = { 0 };
	struct fvm *vm = &f.vm[fuzz_below(&f.rng, MAX_VMS)];
	int sys = f.sys[fuzz_below(&f.rng, MAX_SYS)];
	unsigned long arg = fuzz_chance(&f.rng, 90) ? 0 : fuzz_value(&f.rng);
	long fd;

	if (vm->used)
		vm_drop(vm);
	if (sys < 0)
		return;
	fd = do_ioctl("KHV_CREATE_VM", sys, KHV_CREATE_VM, (void *)arg);
	if (fd >= 0 && arg)
		violation("KHV_CREATE_VM accepted a nonzero argument", arg, fd);
	if (fd < 0)
		return;
	vm->used = true;
	vm->fd = (int)fd;
	/* Half the VMs get the in-kernel irqchip while that is still allowed. */
	if (fuzz_chance(&f.rng, 50))
		do_ioctl("KHV_CREATE_IRQCHIP", vm->fd, KHV_CREATE_IRQCHIP, NULL);
	vm->mem = mmap(NULL, KHVT_MEM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		return;
	}
	fuzz_guest_layout(vm->mem);
	r.memory_size = KHVT_MEM_SIZE;
	r.userspace_addr = (uintptr_t)vm->mem;
	do_ioctl("KHV_SET_USER_MEMORY_REGION", vm->fd, KHV_SET_USER_MEMORY_REGION, &r);
}

/*
 * QEMU 7.2 TCG keeps TR as an available TSS (type 9) internally and
 * aborts the whole test machine ("invalid tss type") when a nested guest
 * whose VMCB has the busy type (11, as hardware and khv have it) switches
 * stacks through the TSS, e.g. an exception at CPL 3 (testing.rst,
 * "Emulator gaps").  Under TCG the fuzzer's guests get type 9.
 */
static void tcg_tr_available(int fd)
{
	struct khv_sregs s;

	if (ioctl(fd, KHV_GET_SREGS, &s) == 0 && (s.tr.type & 0xb) == 0xb) {
		s.tr.type &= ~2;
		if (ioctl(fd, KHV_SET_SREGS, &s) == 0)
			return;
		/*
		 * The state itself is refused on the way back: QEMU let the
		 * guest load a CR3 above MAXPHYADDR (testing.rst).  Keep the
		 * low 32 bits, which every mode accepts.
		 */
		s.cr3 &= 0xffffffffull;
		ioctl(fd, KHV_SET_SREGS, &s);
	}
}

static void op_create_vcpu(void)
{
	struct fvm *vm = pick_vm();
	struct fvcpu *v;
	unsigned long id;
	long fd;

	if (!vm)
		return;
	v = &vm->vcpu[fuzz_below(&f.rng, MAX_VCPUS)];
	if (v->used)
		vcpu_drop(v);
	id = fuzz_chance(&f.rng, 85) ? fuzz_below(&f.rng, 4) : fuzz_value(&f.rng);
	fd = do_ioctl("KHV_CREATE_VCPU", vm->fd, KHV_CREATE_VCPU, (void *)id);
	if (fd >= 0 && id >= KHV_MAX_VCPUS)
		violation("KHV_CREATE_VCPU accepted an id past KHV_MAX_VCPUS", id, fd);
	if (fd < 0)
		return;
	v->used = true;
	v->fd = (int)fd;
	v->id = (uint32_t)id;
	if (f.tcg)
		tcg_tr_available(v->fd);	/* khv's reset state has a busy TR */
	v->rn.fd = (int)fd;
	v->rn.stop = 0;
	pthread_mutex_lock(&f.runners_lock);
	v->rn.started = !pthread_create(&v->rn.thread, NULL, runner_main, &v->rn);
	pthread_mutex_unlock(&f.runners_lock);
}

/* Close something, maybe under a running guest; the runner keeps going. */
static void op_close(void)
{
	struct fvm *vm;
	struct fvcpu *v;

	switch (fuzz_below(&f.rng, 4)) {
	case 0:
		v = pick_vcpu(NULL);
		if (v) {
			close(v->fd);
			fuzz_ring_add("close vcpu", v->fd, 0, 0, 0);
			v->fd = -1;
		}
		break;
	case 1:
		vm = pick_vm();
		if (vm) {
			fuzz_ring_add("close vm", vm->fd, 0, 0, 0);
			vm_drop(vm);
		}
		break;
	case 2: {
		unsigned int i = fuzz_below(&f.rng, MAX_SYS);

		if (f.sys[i] >= 0) {
			close(f.sys[i]);
			fuzz_ring_add("close sys", f.sys[i], 0, 0, 0);
			f.sys[i] = -1;
		}
		break;
	}
	default:			/* reap a vCPU whose fd is gone */
		vm = pick_vm();
		if (vm) {
			v = &vm->vcpu[fuzz_below(&f.rng, MAX_VCPUS)];
			if (v->used)
				vcpu_drop(v);
		}
		break;
	}
}

static void op_guest_code(void)
{
	struct fvm *vm;
	struct fvcpu *v = pick_vcpu(&vm);
	struct khv_vcpu lv = { 0 };
	enum fuzz_mode mode = fuzz_below(&f.rng, FUZZ_NR_MODES);

	if (!v || !vm->mem)
		return;
	fuzz_guest_code(&f.rng, vm->mem, mode, f.tcg, f.insn_mask);
	lv.fd = v->fd;
	/*
	 * One KHV_SET_SREGS with the right TR under TCG: the runner may
	 * enter between two calls (tcg_tr_available()).
	 */
	khvt_init_vcpu_tr(&lv, (enum khvt_mode)mode, GUEST_CODE, f.tcg);
	fuzz_ring_add("guest code", v->fd, mode, 0, 0);
}

static void op_regs(void)
{
	struct fvcpu *v = pick_vcpu(NULL);
	struct khv_regs r;
	uint64_t *w = (uint64_t *)&r;
	unsigned int i, n;

	if (!v)
		return;
	if (do_ioctl("KHV_GET_REGS", v->fd, KHV_GET_REGS, &r) < 0)
		return;
	n = 1 + fuzz_below(&f.rng, 3);
	for (i = 0; i < n; i++)
		w[fuzz_below(&f.rng, sizeof(r) / 8)] = fuzz_value(&f.rng);
	if (f.tcg) {
		/* See guest.c: QEMU's RDMSR/WRMSR; no control flow we did not write. */
		r.rcx &= 0xffffffff;
		r.rip = GUEST_CODE;
		r.rsp = GUEST_STACK_TOP;	/* pushes stay off the tables (guest.c) */
	}
	do_ioctl("KHV_SET_REGS", v->fd, KHV_SET_REGS, &r);
}

static void op_sregs(void)
{
	struct fvcpu *v = pick_vcpu(NULL);
	struct khv_sregs s;
	uint8_t *p = (uint8_t *)&s;
	bool reserved = false;
	unsigned int i, n;
	long ret;

	if (!v || do_ioctl("KHV_GET_SREGS", v->fd, KHV_GET_SREGS, &s) < 0)
		return;
	n = fuzz_below(&f.rng, 4);
	for (i = 0; i < n; i++) {
		uint64_t val = fuzz_value(&f.rng);

		switch (fuzz_below(&f.rng, 6)) {
		case 0:
			s.cr0 ^= 1ull << fuzz_below(&f.rng, 64);
			break;
		case 1:
			s.cr4 ^= 1ull << fuzz_below(&f.rng, 64);
			break;
		case 2:
			s.efer ^= 1ull << fuzz_below(&f.rng, 64);
			break;
		case 3:
			s.cr3 = val;
			break;
		case 4:
			if (!f.tcg)	/* segments from anywhere: see guest.c */
				p[fuzz_below(&f.rng, offsetof(struct khv_sregs, cr0))] = (uint8_t)val;
			break;
		default:
			s.reserved[fuzz_below(&f.rng, 4)] = val | 1;
			reserved = true;
			break;
		}
	}
	if (f.tcg && (s.tr.type & 0xb) == 0xb)
		s.tr.type &= ~2;	/* see tcg_tr_available() */
	/* Under TCG: never LME with paging off and PAE clear (guest.c). */
	if (f.tcg && (s.efer & EFER_LME) && !(s.cr0 & CR0_PG))
		s.cr4 |= CR4_PAE;
	ret = do_ioctl("KHV_SET_SREGS", v->fd, KHV_SET_SREGS, &s);
	if (ret == 0 && reserved)
		violation("KHV_SET_SREGS accepted nonzero reserved fields", v->fd, 0);
}

static void op_msrs(void)
{
	struct fvcpu *v = pick_vcpu(NULL);
	struct {
		struct khv_msrs h;
		struct khv_msr_entry e[8];
	} m;
	static const uint32_t idx[] = {
		0x10, 0x1b, 0x3a, 0x48, 0x174, 0x175, 0x176, 0x1a0, 0x1d9, 0x277, 0x2ff,
		0x6e0, 0xc0000080, 0xc0000081, 0xc0000082, 0xc0000084, 0xc0000100,
		0xc0000101, 0xc0000102, 0xc0000103, 0xc0010117,
	};
	unsigned int i;

	if (!v)
		return;
	memset(&m, 0, sizeof(m));
	m.h.nmsrs = fuzz_chance(&f.rng, 90) ? 1 + fuzz_below(&f.rng, 8) : (uint32_t)fuzz_value(&f.rng);
	for (i = 0; i < 8; i++) {
		m.e[i].index = fuzz_chance(&f.rng, 80) ? idx[fuzz_below(&f.rng, sizeof(idx) / 4)] :
							 (uint32_t)fuzz_value(&f.rng);
		m.e[i].data = fuzz_value(&f.rng);
		if (f.tcg && m.e[i].index == MSR_EFER)
			m.e[i].data &= ~EFER_LME;	/* see op_sregs() */
	}
	if (fuzz_chance(&f.rng, 10))
		m.h.pad = 1;
	if (fuzz_chance(&f.rng, 50))
		do_ioctl("KHV_GET_MSRS", v->fd, KHV_GET_MSRS, &m);
	else
		do_ioctl("KHV_SET_MSRS", v->fd, KHV_SET_MSRS, &m);
}

static void op_cpuid(void)
{
	static struct {
		struct khv_cpuid h;
		struct khv_cpuid_entry e[KHV_MAX_CPUID_ENTRIES + 2];
	} c;
	struct fvcpu *v = pick_vcpu(NULL);
	int sys = f.sys[fuzz_below(&f.rng, MAX_SYS)];
	uint32_t n = fuzz_chance(&f.rng, 80) ? fuzz_below(&f.rng, 64) :
		     (uint32_t)fuzz_below(&f.rng, KHV_MAX_CPUID_ENTRIES + 3);

	memset(&c.h, 0, sizeof(c.h));
	c.h.nent = n;
	switch (fuzz_below(&f.rng, 3)) {
	case 0:
		if (sys >= 0)
			do_ioctl("KHV_GET_SUPPORTED_CPUID", sys, KHV_GET_SUPPORTED_CPUID, &c);
		break;
	case 1:
		if (v)
			do_ioctl("KHV_GET_CPUID", v->fd, KHV_GET_CPUID, &c);
		break;
	default:
		if (!v)
			break;
		/* Mostly the supported table, a few entries changed. */
		c.h.nent = KHV_MAX_CPUID_ENTRIES;
		if (sys >= 0 && fuzz_chance(&f.rng, 80) &&
		    do_ioctl("KHV_GET_SUPPORTED_CPUID", sys, KHV_GET_SUPPORTED_CPUID, &c) == 0) {
			uint32_t i, k = fuzz_below(&f.rng, 4);

			for (i = 0; i < k && c.h.nent; i++)
				fuzz_bytes(&f.rng, &c.e[fuzz_below(&f.rng, c.h.nent)].eax, 16);
		} else {
			c.h.nent = n;
			fuzz_bytes(&f.rng, c.e, n * sizeof(c.e[0]));
		}
		do_ioctl("KHV_SET_CPUID", v->fd, KHV_SET_CPUID, &c);
		break;
	}
}

/*
 * The in-kernel irqchip: created (usually before the VM's first vCPU, so
 * that its vCPUs get local APICs), lines raised and lowered, MSIs sent;
 * the random guests then reach the APIC and IOAPIC pages (guest.c).
 */
static void op_irqchip(void)
{
	struct fvm *vm = pick_vm();
	struct khv_irq_level l;
	struct khv_msi m;

	if (!vm)
		return;
	switch (fuzz_below(&f.rng, 4)) {
	case 0:
		do_ioctl("KHV_CREATE_IRQCHIP", vm->fd, KHV_CREATE_IRQCHIP,
			 (void *)(fuzz_chance(&f.rng, 90) ? 0ul : (unsigned long)fuzz_value(&f.rng)));
		break;
	case 1:
	case 2:
		memset(&l, 0, sizeof(l));
		l.irq = fuzz_chance(&f.rng, 85) ? fuzz_below(&f.rng, 25) : (uint32_t)fuzz_value(&f.rng);
		l.level = fuzz_chance(&f.rng, 90) ? fuzz_below(&f.rng, 2) : (uint32_t)fuzz_value(&f.rng);
		if (fuzz_chance(&f.rng, 5))
			l.reserved = fuzz_value(&f.rng) | 1;
		if (do_ioctl("KHV_IRQ_LINE", vm->fd, KHV_IRQ_LINE, &l) == 0 &&
		    (l.reserved || l.level > 1))
			violation("KHV_IRQ_LINE accepted a bad level or reserved field", vm->fd, 0);
		break;
	default:
		memset(&m, 0, sizeof(m));
		m.address = fuzz_chance(&f.rng, 85) ?
			    0xfee00000ull | (fuzz_below(&f.rng, 256) << 12) |
			    (fuzz_below(&f.rng, 2) << 2) : fuzz_value(&f.rng);
		m.data = fuzz_chance(&f.rng, 85) ? fuzz_below(&f.rng, 0x10000) :
						   (uint32_t)fuzz_value(&f.rng);
		if (fuzz_chance(&f.rng, 5))
			m.flags = 1;
		if (fuzz_chance(&f.rng, 5))
			m.reserved[fuzz_below(&f.rng, 2)] = 1;
		if (do_ioctl("KHV_SIGNAL_MSI", vm->fd, KHV_SIGNAL_MSI, &m) >= 0 &&
		    (m.flags || m.reserved[0] || m.reserved[1]))
			violation("KHV_SIGNAL_MSI accepted a reserved field", vm->fd, 0);
		break;
	}
}

/*
 * The save/restore ioctls: a state just read must be accepted back
 * unchanged (into the same VM, or another one's vCPU with the same ID);
 * a mutated one may be refused, never crash or wedge the host.
 */
static void mutate(void *p, size_t len)
{
	unsigned int n = 1 + fuzz_below(&f.rng, 4);

	while (n--) {
		uint8_t *b = (uint8_t *)p + fuzz_below(&f.rng, (uint32_t)len);

		*b ^= (uint8_t)(1u << fuzz_below(&f.rng, 8));
	}
}

static void op_state(void)
{
	static struct khv_lapic_state lapic;
	static struct khv_irqchip_state chip;
	static struct khv_vcpu_events ev;
	static struct khv_debugregs dr;
	static struct khv_xcrs xcrs;
	static struct khv_clock_data clock;
	struct fvm *vm = NULL;
	struct fvcpu *v = pick_vcpu(&vm);
	bool mutated = fuzz_chance(&f.rng, 50);

	if (!v)
		return;
	switch (fuzz_below(&f.rng, 6)) {
	case 0:
		if (do_ioctl("KHV_GET_VCPU_EVENTS", v->fd, KHV_GET_VCPU_EVENTS, &ev) < 0)
			return;
		if (mutated)
			mutate(&ev, sizeof(ev));
		/*
		 * An interrupted interrupt delivery needs RFLAGS.IF, which a
		 * runner may have cleared since the GET.
		 */
		if (do_ioctl("KHV_SET_VCPU_EVENTS", v->fd, KHV_SET_VCPU_EVENTS, &ev) < 0 &&
		    !mutated && errno == EINVAL &&
		    !(ev.injected.valid && ev.injected.type == KHV_EVENT_EXTINT))
			violation("KHV_SET_VCPU_EVENTS refused what GET gave", v->fd, errno);
		break;
	case 1:
		if (do_ioctl("KHV_GET_LAPIC", v->fd, KHV_GET_LAPIC, &lapic) < 0)
			return;
		if (mutated)
			mutate(&lapic, sizeof(lapic));
		if (do_ioctl("KHV_SET_LAPIC", v->fd, KHV_SET_LAPIC, &lapic) < 0 &&
		    !mutated && errno == EINVAL)
			violation("KHV_SET_LAPIC refused what GET gave", v->fd, errno);
		break;
	case 3:
		if (do_ioctl("KHV_GET_DEBUGREGS", v->fd, KHV_GET_DEBUGREGS, &dr) < 0)
			return;
		if (mutated)
			mutate(&dr, sizeof(dr));
		if (do_ioctl("KHV_SET_DEBUGREGS", v->fd, KHV_SET_DEBUGREGS, &dr) < 0 &&
		    !mutated && errno == EINVAL)
			violation("KHV_SET_DEBUGREGS refused what GET gave", v->fd, errno);
		break;
	case 4:
		/* No "refused what GET gave": a KHV_SET_CPUID since may forbid XCR0. */
		if (do_ioctl("KHV_GET_XCRS", v->fd, KHV_GET_XCRS, &xcrs) < 0)
			return;
		if (mutated)
			mutate(&xcrs, sizeof(xcrs));
		do_ioctl("KHV_SET_XCRS", v->fd, KHV_SET_XCRS, &xcrs);
		break;
	case 5:
		if (do_ioctl("KHV_GET_CLOCK", vm->fd, KHV_GET_CLOCK, &clock) < 0)
			return;
		if (mutated)
			mutate(&clock, sizeof(clock));
		vm = pick_vm();
		if (do_ioctl("KHV_SET_CLOCK", vm->fd, KHV_SET_CLOCK, &clock) < 0 &&
		    !mutated && errno == EINVAL)
			violation("KHV_SET_CLOCK refused what GET gave", vm->fd, errno);
		break;
	default:
		if (do_ioctl("KHV_GET_IRQCHIP", vm->fd, KHV_GET_IRQCHIP, &chip) < 0)
			return;
		if (mutated)
			mutate(&chip, sizeof(chip));
		vm = pick_vm();
		if (do_ioctl("KHV_SET_IRQCHIP", vm->fd, KHV_SET_IRQCHIP, &chip) < 0 &&
		    !mutated && errno == EINVAL)
			violation("KHV_SET_IRQCHIP refused what GET gave", vm->fd, errno);
		break;
	}
}

/*
 * An eventfd from a small ring: replacing one closes the old, whose
 * irqfds then go away through EPOLLHUP while they may be firing.
 */
static int fuzz_eventfd(void)
{
	unsigned int i = fuzz_below(&f.rng, MAX_EVENTFDS);

	if (f.efd[i] < 0 || fuzz_chance(&f.rng, 20)) {
		if (f.efd[i] >= 0)
			close(f.efd[i]);
		f.efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	}
	return f.efd[i];
}

/* irqfds (lines, MSIs, resampling) and ioeventfds on the places guests write. */
static void op_eventfds(void)
{
	static const uint64_t where[] = { PORT_ECHO, PORT_MARK, 0x80, 0x20, 0x40, GUEST_MMIO,
					  0xfee000b0, 0xfec00000, GUEST_DATA };
	struct fvm *vm = pick_vm();
	struct khv_ioeventfd io;
	struct khv_irqfd irq;
	uint64_t one = 1;
	int efd = fuzz_eventfd();

	if (!vm)
		return;
	switch (fuzz_below(&f.rng, 4)) {
	case 0:
		memset(&irq, 0, sizeof(irq));
		irq.fd = fuzz_chance(&f.rng, 90) ? efd : any_fd();
		irq.irq = fuzz_chance(&f.rng, 90) ? fuzz_below(&f.rng, 25) : (uint32_t)fuzz_value(&f.rng);
		irq.flags = fuzz_below(&f.rng, 8);
		if (irq.flags & KHV_IRQFD_MSI) {
			irq.irq = fuzz_chance(&f.rng, 90) ? 0 : irq.irq;
			irq.msi_address = 0xfee00000ull | (fuzz_below(&f.rng, 4) << 12);
			irq.msi_data = fuzz_below(&f.rng, 0x10000);
		}
		if (irq.flags & KHV_IRQFD_RESAMPLE)
			irq.resamplefd = fuzz_eventfd();
		if (fuzz_chance(&f.rng, 5))
			irq.reserved[0] = 1;
		if (do_ioctl("KHV_IRQFD", vm->fd, KHV_IRQFD, &irq) == 0 && irq.reserved[0])
			violation("KHV_IRQFD accepted a reserved field", vm->fd, 0);
		break;
	case 1:
		memset(&io, 0, sizeof(io));
		io.fd = fuzz_chance(&f.rng, 90) ? efd : any_fd();
		io.addr = fuzz_chance(&f.rng, 85) ? where[fuzz_below(&f.rng, 9)] : fuzz_value(&f.rng);
		io.len = fuzz_chance(&f.rng, 90) ? (1u << fuzz_below(&f.rng, 4)) & 0xf : fuzz_below(&f.rng, 9);
		io.flags = fuzz_below(&f.rng, 8);
		io.datamatch = fuzz_chance(&f.rng, 50) ? fuzz_below(&f.rng, 4) : fuzz_value(&f.rng);
		if (fuzz_chance(&f.rng, 5))
			io.pad = 1;
		if (do_ioctl("KHV_IOEVENTFD", vm->fd, KHV_IOEVENTFD, &io) == 0 && io.pad)
			violation("KHV_IOEVENTFD accepted nonzero padding", vm->fd, 0);
		break;
	default:
		/* Signal: an irqfd fires from this thread, racing the runners. */
		if (efd >= 0 && write(efd, &one, sizeof(one)) < 0)
			(void)0;
		break;
	}
}

static void op_event(void)
{
	struct fvcpu *v = pick_vcpu(NULL);
	struct khv_event e;
	bool reserved = fuzz_chance(&f.rng, 10);

	if (!v)
		return;
	memset(&e, 0, sizeof(e));
	e.type = fuzz_below(&f.rng, 4);
	e.vector = fuzz_chance(&f.rng, 50) ? fuzz_below(&f.rng, 32) : fuzz_below(&f.rng, 256);
	e.has_error_code = fuzz_below(&f.rng, 3);
	e.error_code = (uint32_t)fuzz_value(&f.rng);
	if (reserved) {
		if (fuzz_chance(&f.rng, 50))
			e.pad = 1;
		else
			e.reserved[fuzz_below(&f.rng, 2)] = fuzz_value(&f.rng) | 1;
	}
	if (do_ioctl("KHV_INJECT_EVENT", v->fd, KHV_INJECT_EVENT, &e) == 0 && reserved)
		violation("KHV_INJECT_EVENT accepted nonzero reserved fields", v->fd, 0);
}

static void op_xsave(void)
{
	static struct khv_xsave x;
	struct fvcpu *v = pick_vcpu(NULL);
	unsigned int i, n = fuzz_below(&f.rng, 8);

	if (!v || do_ioctl("KHV_GET_XSAVE", v->fd, KHV_GET_XSAVE, &x) < 0)
		return;
	for (i = 0; i < n; i++) {
		unsigned int at = fuzz_chance(&f.rng, 50) ? 512 + fuzz_below(&f.rng, 16) :
			(unsigned int)fuzz_below(&f.rng, 1024);

		x.region[at] = (uint32_t)fuzz_value(&f.rng);
	}
	do_ioctl("KHV_SET_XSAVE", v->fd, KHV_SET_XSAVE, &x);
}

static void op_misc(void)
{
	static struct {
		struct khv_exit_stats h;
		struct khv_exit_stat e[KHV_MAX_EXIT_STATS + 1];
	} es;
	int fd = any_fd();

	switch (fuzz_below(&f.rng, 6)) {
	case 4: {
		static struct {
			struct khv_msr_list h;
			uint32_t i[512];
		} ml;

		memset(&ml.h, 0, sizeof(ml.h));
		ml.h.nmsrs = (uint32_t)fuzz_below(&f.rng, 512);
		ml.h.pad = fuzz_chance(&f.rng, 5);
		do_ioctl("KHV_GET_MSR_INDEX_LIST", fd, KHV_GET_MSR_INDEX_LIST, &ml);
		break;
	}
	case 0:
		do_ioctl("KHV_CHECK_EXTENSION", fd, KHV_CHECK_EXTENSION,
			 (void *)(uintptr_t)fuzz_value(&f.rng));
		break;
	case 1:
		do_ioctl("KHV_GET_API_VERSION", fd, KHV_GET_API_VERSION,
			 (void *)(uintptr_t)(fuzz_chance(&f.rng, 50) ? 0 : fuzz_value(&f.rng)));
		break;
	case 2:
		do_ioctl("KHV_GET_VCPU_MMAP_SIZE", fd, KHV_GET_VCPU_MMAP_SIZE, NULL);
		break;
	case 3:
		memset(&es.h, 0, sizeof(es.h));
		es.h.nent = (uint32_t)fuzz_below(&f.rng, KHV_MAX_EXIT_STATS + 2);
		do_ioctl("KHV_GET_EXIT_STATS", fd, KHV_GET_EXIT_STATS, &es);
		break;
	default: {
		/* Any command number of khv's type, any size, any direction. */
		static uint8_t buf[8192];
		unsigned long cmd = _IOC(fuzz_below(&f.rng, 4), KHVIO, fuzz_below(&f.rng, 256),
					 fuzz_below(&f.rng, 1024));
		void *arg = fuzz_chance(&f.rng, 80) ? (void *)buf :
			    (void *)(uintptr_t)fuzz_value(&f.rng);

		fuzz_bytes(&f.rng, buf, 64);
		do_ioctl("ioctl(random)", fd, cmd, arg);
		break;
	}
	}
}

/*
 * Statistics files: asked for on any fd with any argument, opened through
 * /dev/khv for VMs that may or may not exist, then read at any offset and
 * length (the values are gathered from vCPUs that may be running or gone).
 */
static void op_stats(void)
{
	static struct {
		struct khv_vm_list h;
		struct khv_vm_info e[8];
	} vl;
	static uint8_t buf[1 << 16];
	struct khv_stats_open o;
	int fd = any_fd();
	long sfd = -1;
	unsigned int i, n;

	switch (fuzz_below(&f.rng, 3)) {
	case 0:
		sfd = do_ioctl("KHV_GET_STATS_FD", fd, KHV_GET_STATS_FD,
			       (void *)(uintptr_t)(fuzz_chance(&f.rng, 80) ? 0 :
						   fuzz_value(&f.rng)));
		break;
	case 1:
		memset(&vl.h, 0, sizeof(vl.h));
		vl.h.nent = (uint32_t)fuzz_below(&f.rng, 10);
		vl.h.pad = fuzz_chance(&f.rng, 10);
		do_ioctl("KHV_GET_VMS", fd, KHV_GET_VMS, &vl);
		break;
	default:
		memset(&o, 0, sizeof(o));
		o.vm_id = fuzz_chance(&f.rng, 80) && vl.h.nent ?
			  vl.e[fuzz_below(&f.rng, vl.h.nent < 8 ? vl.h.nent : 8)].vm_id :
			  (uint32_t)fuzz_value(&f.rng);
		o.vcpu_id = (uint32_t)fuzz_below(&f.rng, fuzz_chance(&f.rng, 90) ? 4 : 1u << 31);
		o.flags = fuzz_chance(&f.rng, 90) ? (uint32_t)fuzz_below(&f.rng, 2) :
			  (uint32_t)fuzz_value(&f.rng);
		if (fuzz_chance(&f.rng, 5))
			o.reserved[fuzz_below(&f.rng, 2)] = fuzz_value(&f.rng);
		sfd = do_ioctl("KHV_OPEN_STATS", fd, KHV_OPEN_STATS, &o);
		break;
	}
	if (sfd < 0)
		return;
	n = fuzz_below(&f.rng, 6);
	for (i = 0; i < n; i++) {
		off_t at = fuzz_chance(&f.rng, 70) ? (off_t)fuzz_below(&f.rng, 1 << 17) :
			   (off_t)(fuzz_value(&f.rng) >> 1);
		size_t len = fuzz_below(&f.rng, sizeof(buf) + 1);

		if (fuzz_chance(&f.rng, 30))
			lseek((int)sfd, at, (int)fuzz_below(&f.rng, 3));
		else if (pread((int)sfd, buf, len, at) < 0 && errno != EINVAL)
			violation("pread(stats)", (int)sfd, errno);
	}
	close((int)sfd);
}

/* ---- memory ---------------------------------------------------------------- */

static void op_chunk(void)
{
	struct chunk *c = &f.chunk[fuzz_below(&f.rng, MAX_CHUNKS)];

	switch (fuzz_below(&f.rng, 5)) {
	case 0:				/* (re)map */
		if (c->p)
			munmap(c->p, c->len);
		c->len = (1 + fuzz_below(&f.rng, CHUNK_MAX / 4096)) * 4096;
		c->p = mmap(NULL, c->len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (c->p == MAP_FAILED)
			c->p = NULL;
		fuzz_ring_add("mmap chunk", (long long)(uintptr_t)c->p, c->len, 0, 0);
		break;
	case 1:				/* unmap under whatever slot uses it */
		if (c->p) {
			munmap(c->p, c->len);
			fuzz_ring_add("munmap chunk", (long long)(uintptr_t)c->p, c->len, 0, 0);
			c->p = NULL;
		}
		break;
	case 2:
		if (c->p) {
			madvise(c->p, c->len, MADV_DONTNEED);
			fuzz_ring_add("madvise DONTNEED", (long long)(uintptr_t)c->p, c->len, 0, 0);
		}
		break;
	case 3:
		if (c->p) {
			mprotect(c->p, c->len, fuzz_chance(&f.rng, 50) ? PROT_READ :
				 PROT_READ | PROT_WRITE);
			fuzz_ring_add("mprotect", (long long)(uintptr_t)c->p, c->len, 0, 0);
		}
		break;
	default:			/* touch it, so there is something to pin */
		if (c->p && !mprotect(c->p, c->len, PROT_READ | PROT_WRITE))
			memset(c->p, f.tcg ? 0xf4 : (int)fuzz_below(&f.rng, 256),
			       c->len < 65536 ? c->len : 65536);
		break;
	}
}

/* Slot 0's memory: unmapped, dropped or remapped under running vCPUs. */
static void op_base_memory(void)
{
	struct fvm *vm = pick_vm();

	if (!vm || !vm->mem)
		return;
	switch (fuzz_below(&f.rng, 3)) {
	case 0:
		madvise(vm->mem + GUEST_DATA, 0x8000, MADV_DONTNEED);
		fuzz_ring_add("madvise slot 0", vm->fd, 0, 0, 0);
		break;
	case 1:
		/* Same address, new pages (the layout is rewritten). */
		if (mmap(vm->mem, KHVT_MEM_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
			vm->mem = NULL;
			break;
		}
		fuzz_guest_layout(vm->mem);
		fuzz_ring_add("remap slot 0", vm->fd, 0, 0, 0);
		break;
	default:
		if (fuzz_chance(&f.rng, 20)) {
			munmap(vm->mem, KHVT_MEM_SIZE);
			fuzz_ring_add("munmap slot 0", vm->fd, 0, 0, 0);
			vm->mem = NULL;
		}
		break;
	}
}

static void op_slot(void)
{
	struct fvm *vm = pick_vm();
	struct khv_userspace_memory_region r;
	struct chunk *c = &f.chunk[fuzz_below(&f.rng, MAX_CHUNKS)];

	if (!vm)
		return;
	memset(&r, 0, sizeof(r));
	r.slot = fuzz_chance(&f.rng, 90) ? 1 + fuzz_below(&f.rng, 6) :
		 (uint32_t)fuzz_below(&f.rng, KHV_MAX_MEMSLOTS + 2);
	/* Read-only, dirty log, both (refused), neither. */
	r.flags = fuzz_chance(&f.rng, 85) ? (uint32_t)fuzz_below(&f.rng, 4) :
		  (uint32_t)fuzz_value(&f.rng);
	if (fuzz_chance(&f.rng, 20)) {
		r.memory_size = 0;		/* delete */
	} else if (c->p && fuzz_chance(&f.rng, 85)) {
		size_t off = fuzz_below(&f.rng, c->len / 4096) * 4096;

		r.userspace_addr = (uintptr_t)c->p + off;
		r.memory_size = fuzz_chance(&f.rng, 90) ? c->len - off :
				(uint64_t)fuzz_value(&f.rng);
	} else {
		r.userspace_addr = fuzz_value(&f.rng);
		r.memory_size = fuzz_value(&f.rng);
	}
	r.guest_phys_addr = fuzz_chance(&f.rng, 80) ?
			    (KHVT_MEM_SIZE + fuzz_below(&f.rng, 512) * 0x100000) :
			    fuzz_value(&f.rng);
	do_ioctl("KHV_SET_USER_MEMORY_REGION", vm->fd, KHV_SET_USER_MEMORY_REGION, &r);
}

/*
 * The dirty log: slot 0 (the guests' own memory) switched to logging and
 * back in place while vCPUs run, and gets and clears of random ranges,
 * flags and bitmaps (a good buffer, or an address that faults).
 */
static void op_dirty_log(void)
{
	static uint64_t bitmap[1024];
	struct fvm *vm = pick_vm();
	struct khv_dirty_log d;

	if (!vm)
		return;
	if (vm->mem && fuzz_chance(&f.rng, 30)) {
		struct khv_userspace_memory_region r = {
			.slot = 0,
			.flags = fuzz_chance(&f.rng, 50) ? KHV_MEM_LOG_DIRTY : 0,
			.memory_size = KHVT_MEM_SIZE,
			.userspace_addr = (uintptr_t)vm->mem,
		};

		do_ioctl("KHV_SET_USER_MEMORY_REGION", vm->fd, KHV_SET_USER_MEMORY_REGION, &r);
		return;
	}
	memset(&d, 0, sizeof(d));
	d.slot = fuzz_chance(&f.rng, 90) ? fuzz_below(&f.rng, 7) : (uint32_t)fuzz_value(&f.rng);
	d.flags = fuzz_chance(&f.rng, 90) ? fuzz_below(&f.rng, 2) : (uint32_t)fuzz_value(&f.rng);
	d.first_page = fuzz_chance(&f.rng, 85) ? 64 * fuzz_below(&f.rng, 16) : fuzz_value(&f.rng);
	d.num_pages = fuzz_chance(&f.rng, 85) ? 1 + fuzz_below(&f.rng, 1024) : fuzz_value(&f.rng);
	d.bitmap = fuzz_chance(&f.rng, 90) ? (uintptr_t)bitmap : fuzz_value(&f.rng);
	if (fuzz_chance(&f.rng, 5))
		d.reserved[fuzz_below(&f.rng, 2)] = fuzz_value(&f.rng);
	if (fuzz_chance(&f.rng, 30))
		do_ioctl("KHV_CLEAR_DIRTY_LOG", vm->fd, KHV_CLEAR_DIRTY_LOG, &d);
	else
		do_ioctl("KHV_GET_DIRTY_LOG", vm->fd, KHV_GET_DIRTY_LOG, &d);
}

/* ---- processes and signals ----------------------------------------------- */

static void op_signal(void)
{
	struct fvcpu *v = pick_vcpu(NULL);

	if (v && v->rn.started) {
		pthread_kill(v->rn.thread, SIGUSR1);
		__atomic_fetch_add(&f.st->signals, 1, __ATOMIC_RELAXED);
	}
}

/* A child uses the inherited fds (khv must refuse another mm) and exits. */
static void op_fork(void)
{
	int fds[4], i, status;
	unsigned long cmds[4] = { KHV_RUN, KHV_CREATE_VCPU, KHV_GET_REGS, KHV_CREATE_VM };
	pid_t pid;

	for (i = 0; i < 4; i++)
		fds[i] = any_fd();
	pid = fork();
	if (pid == 0) {
		struct khv_regs r;

		for (i = 0; i < 4; i++)
			if (ioctl(fds[i], cmds[i], cmds[i] == KHV_GET_REGS ? (void *)&r : NULL) >= 0 &&
			    cmds[i] != KHV_CREATE_VM)
				_exit(3);	/* khv served another process */
		_exit(0);
	}
	__atomic_fetch_add(&f.st->forks, 1, __ATOMIC_RELAXED);
	fuzz_ring_add("fork", pid, 0, pid, errno);
	if (pid <= 0)
		return;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		violation("a forked child used its parent's VM or vCPU", pid, 0);
}

static void op_run_here(void)
{
	struct fvcpu *v = pick_vcpu(NULL);

	/* The main thread runs a vCPU too, racing its runner (vcpu->mutex). */
	if (v && v->rn.started) {
		do_ioctl("KHV_RUN(main)", v->fd, KHV_RUN, NULL);
		/* A SHUTDOWN exit reset the vCPU (runner_main()). */
		if (f.tcg)
			tcg_tr_available(v->fd);
	}
}

/*
 * The run page's input padding must be zero.  Only the main thread sets
 * it (a runner whose fd number was reused may share the page), and a
 * runner that enters meanwhile is refused too, which is right.
 */
static void op_pad0(void)
{
	struct fvcpu *v = pick_vcpu(NULL);
	struct khv_run *run;
	unsigned int at = fuzz_below(&f.rng, sizeof(run->pad0));

	if (!v)
		return;
	run = mmap(NULL, KHV_RUN_MMAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (run == MAP_FAILED)
		return;
	run->pad0[at] = (uint8_t)(1 + fuzz_below(&f.rng, 255));
	if (do_ioctl("KHV_RUN(pad0)", v->fd, KHV_RUN, NULL) == 0)
		violation("KHV_RUN accepted a nonzero pad0", v->fd, at);
	run->pad0[at] = 0;
	munmap(run, KHV_RUN_MMAP_SIZE);
}

/*
 * Study mode on a vCPU that runners may be running: any events, lists and
 * reserved words, mostly valid; then, now and then, flags of any value in
 * the run page for the study exit a runner may be answering.
 */
static void op_study(void)
{
	struct fvcpu *v = pick_vcpu(NULL);
	struct khv_study s;
	struct khv_run *run;
	unsigned int i;

	if (!v)
		return;
	memset(&s, 0, sizeof(s));
	s.events = fuzz_chance(&f.rng, 90) ? fuzz_below(&f.rng, KHV_STUDY_ALL + 1) :
		   fuzz_value(&f.rng);
	s.nr_cpuid = fuzz_below(&f.rng, fuzz_chance(&f.rng, 90) ? 4 : 40);
	s.nr_msrs = fuzz_below(&f.rng, fuzz_chance(&f.rng, 90) ? 4 : 40);
	s.nr_ports = fuzz_below(&f.rng, fuzz_chance(&f.rng, 90) ? 4 : 40);
	s.cr_write = fuzz_chance(&f.rng, 90) ? (uint32_t)fuzz_below(&f.rng, 0x200) :
		     (uint32_t)fuzz_value(&f.rng);
	s.exceptions = fuzz_chance(&f.rng, 90) ? (uint32_t)fuzz_value(&f.rng) & KHV_STUDY_EXCEPTIONS :
		       (uint32_t)fuzz_value(&f.rng);
	if (fuzz_chance(&f.rng, 5))
		s.reserved32 = (uint32_t)fuzz_value(&f.rng);
	for (i = 0; i < KHV_STUDY_MAX_LIST; i++) {
		s.cpuid[i] = i < s.nr_cpuid || fuzz_chance(&f.rng, 3) ? (uint32_t)fuzz_below(&f.rng, 16) : 0;
		s.msrs[i] = i < s.nr_msrs || fuzz_chance(&f.rng, 3) ? (uint32_t)fuzz_value(&f.rng) : 0;
		s.ports[i] = i < s.nr_ports || fuzz_chance(&f.rng, 3) ? (uint16_t)fuzz_value(&f.rng) : 0;
	}
	if (fuzz_chance(&f.rng, 5))
		s.reserved[fuzz_below(&f.rng, sizeof(s.reserved) / sizeof(s.reserved[0]))] =
			fuzz_value(&f.rng);
	do_ioctl("KHV_SET_STUDY", v->fd, KHV_SET_STUDY, &s);
	do_ioctl("KHV_GET_STUDY", v->fd, KHV_GET_STUDY, &s);
	if (!fuzz_chance(&f.rng, 20))
		return;
	run = mmap(NULL, KHV_RUN_MMAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (run == MAP_FAILED)
		return;
	run->study.flags = (uint32_t)(fuzz_chance(&f.rng, 50) ? fuzz_below(&f.rng, 4) :
				      fuzz_value(&f.rng));
	munmap(run, KHV_RUN_MMAP_SIZE);
}

/* ---- the loop ------------------------------------------------------------------ */

static const struct {
	const char *name;
	void (*fn)(void);
	unsigned int weight;
} ops[] = {
	{ "open_sys", op_open_sys, 2 },
	{ "create_vm", op_create_vm, 3 },
	{ "create_vcpu", op_create_vcpu, 6 },
	{ "close", op_close, 3 },
	{ "guest_code", op_guest_code, 14 },
	{ "regs", op_regs, 6 },
	{ "sregs", op_sregs, 8 },
	{ "msrs", op_msrs, 6 },
	{ "cpuid", op_cpuid, 4 },
	{ "event", op_event, 6 },
	{ "xsave", op_xsave, 4 },
	{ "misc", op_misc, 8 },
	{ "stats", op_stats, 3 },
	{ "study", op_study, 3 },
	{ "chunk", op_chunk, 6 },
	{ "base_memory", op_base_memory, 3 },
	{ "slot", op_slot, 8 },
	{ "signal", op_signal, 8 },
	{ "fork", op_fork, 1 },
	{ "run_here", op_run_here, 2 },
	{ "pad0", op_pad0, 1 },
	{ "irqchip", op_irqchip, 4 },
	{ "eventfds", op_eventfds, 4 },
	{ "state", op_state, 4 },
	{ "dirty_log", op_dirty_log, 3 },
};

#define NR_OPS	(sizeof(ops) / sizeof(ops[0]))

uint64_t fuzz_run(const struct fuzz_config *cfg, struct fuzz_stats *st)
{
	unsigned int total = 0, i;
	struct sigaction sa;
	time_t t0 = time(NULL);
	uint64_t n;

	memset(&f, 0, sizeof(f));
	memset(st, 0, sizeof(*st));
	f.st = st;
	f.rng.s = cfg->seed;
	f.seed = cfg->seed;
	f.tcg = khvt_under_tcg();
	f.verbose = cfg->verbose;
	f.insn_mask = cfg->insn_mask;
	for (i = 0; i < MAX_SYS; i++)
		f.sys[i] = -1;
	for (i = 0; i < MAX_EVENTFDS; i++)
		f.efd[i] = -1;
	for (i = 0; i < MAX_VMS; i++)
		f.vm[i].fd = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;	/* no SA_RESTART: KHV_RUN returns EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	pthread_mutex_init(&f.runners_lock, NULL);
	f.main_thread = pthread_self();
	if (pthread_create(&f.kicker, NULL, kicker_main, NULL))
		return ++st->violations;
	fuzz_install_crash_handler(cfg->seed);
	for (i = 0; i < NR_OPS; i++)
		if (!cfg->op_mask || (cfg->op_mask & (1ull << i)))
			total += ops[i].weight;

	/* Start from something that runs: a system fd, a VM, a vCPU. */
	op_open_sys();
	f.sys[0] = f.sys[0] >= 0 ? f.sys[0] : open("/dev/khv", O_RDWR | O_CLOEXEC);
	for (n = 0; !cfg->calls || n < cfg->calls; n++) {
		unsigned int w = fuzz_below(&f.rng, total);

		/*
		 * Every operation: in a loaded test machine one can take a
		 * second, and 64 of them ran the test past its timeout.
		 */
		if (cfg->seconds && time(NULL) - t0 >= cfg->seconds)
			break;
		for (i = 0;; i++) {
			unsigned int wi = !cfg->op_mask || (cfg->op_mask & (1ull << i)) ?
					  ops[i].weight : 0;

			if (w < wi)
				break;
			w -= wi;
		}
		st->op_count[i]++;
		ops[i].fn();
	}
	/*
	 * The kicker stays until every runner is gone: two runners of one
	 * vCPU (a duplicated fd) can be one asleep in a halted KHV_RUN, holding
	 * the vCPU, and one waiting for it in the kernel, which signals do not
	 * interrupt.  Stopping the second waits for the first to leave, and only
	 * the kicker's signals wake it.
	 */
	for (i = 0; i < MAX_VMS; i++)
		if (f.vm[i].used)
			vm_drop(&f.vm[i]);
	f.done = 1;
	pthread_join(f.kicker, NULL);
	for (i = 0; i < MAX_SYS; i++)
		if (f.sys[i] >= 0)
			close(f.sys[i]);
	for (i = 0; i < MAX_CHUNKS; i++)
		if (f.chunk[i].p)
			munmap(f.chunk[i].p, f.chunk[i].len);
	for (i = 0; i < MAX_EVENTFDS; i++)
		if (f.efd[i] >= 0)
			close(f.efd[i]);
	return st->violations;
}

void fuzz_print_stats(const struct fuzz_stats *st, const char *prefix)
{
	uint64_t nops = 0;
	unsigned int i;

	for (i = 0; i < NR_OPS; i++)
		nops += st->op_count[i];
	printf("%s%llu operations, %llu ioctls, %llu KHV_RUN by runners, %llu signals, %llu forks, %llu violations\n",
	       prefix, (unsigned long long)nops, (unsigned long long)st->calls,
	       (unsigned long long)st->runs, (unsigned long long)st->signals,
	       (unsigned long long)st->forks, (unsigned long long)st->violations);
	printf("%sexits:", prefix);
	for (i = 0; i <= KHV_EXIT_MAX; i++)
		printf(" %u:%llu", i, (unsigned long long)st->exits[i]);
	printf("\n%serrnos:", prefix);
	for (i = 0; i < sizeof(st->errno_count) / sizeof(st->errno_count[0]); i++)
		if (st->errno_count[i])
			printf(" %s:%llu", strerrorname_np((int)i) ? strerrorname_np((int)i) : "?",
			       (unsigned long long)st->errno_count[i]);
	printf("\n");
}
