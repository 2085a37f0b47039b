/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khv-bench: the interface between the measuring code (khv-bench.c) and the
 * two drivers that run the guest, one on /dev/khv through libkhv (drv-khv.c)
 * and one on /dev/kvm through raw ioctls (drv-kvm.c).  A driver only creates
 * one VM with one vCPU over the caller's memory and runs it; everything that
 * is measured happens in the caller, identically for both.
 */
#ifndef KHV_BENCH_H
#define KHV_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* What one run of the vCPU stopped for, in driver-neutral terms. */
enum bench_exit_kind {
	BENCH_EXIT_OUT,		/* port output: port, size, count set */
	BENCH_EXIT_HLT,
	BENCH_EXIT_OTHER,	/* anything else: what describes it */
};

struct bench_exit {
	enum bench_exit_kind kind;
	uint16_t port;
	uint8_t size;
	uint32_t count;
	char what[160];
};

#define BENCH_MAX_VCPUS	2

struct bench_vm_config {
	/*
	 * 0: one vCPU, no irqchip (every HLT and port access comes out).
	 * 1: the in-kernel irqchip, created before BENCH_MAX_VCPUS vCPUs, all
	 * RUNNABLE (not waiting for INIT/SIPI), whose CPUID offers x2APIC and
	 * the TSC-deadline timer.
	 */
	int irqchip;
};

struct bench_driver {
	const char *name;	/* "khv", "kvm": also the --backend= value */
	/*
	 * Open device (NULL: the driver's default), make a VM whose RAM is
	 * [0, size) backed by mem, its vCPUs in real mode with CS = 0.
	 * 0 or -errno, with a message on stderr.
	 */
	int (*open)(void **ctx, const char *device, void *mem, size_t size,
		    const struct bench_vm_config *cfg);
	/* RIP = rip, RSI = rsi, RSP = rsp, RFLAGS = 2, every other GPR 0. */
	int (*set_entry)(void *ctx, unsigned int vcpu, uint64_t rip, uint64_t rsi,
			 uint64_t rsp);
	/* One KHV_RUN / KVM_RUN of vcpu, retried on EINTR; vCPUs may run in
	 * different threads at the same time. */
	int (*run)(void *ctx, unsigned int vcpu, struct bench_exit *exit);
	/* irqchip VMs: each write to eventfd fd sends the MSI (address, data). */
	int (*msi_irqfd)(void *ctx, int fd, uint64_t address, uint32_t data);
	/* irqchip VMs: a 1-byte OUT to port signals eventfd fd, in the kernel. */
	int (*pio_ioeventfd)(void *ctx, int fd, uint16_t port);
	/*
	 * Logged memory slot idx (0 or 1, beside the RAM slot), [gpa, gpa +
	 * size) backed by mem, with dirty logging on; then the log of its
	 * pages, cleared: how many are set, or -errno.  bitmap: (size / 4096
	 * + 63) / 64 words.
	 */
	int (*log_slot)(void *ctx, int idx, uint64_t gpa, void *mem, size_t size);
	int (*get_log)(void *ctx, int idx, uint64_t *bitmap);
	/* Optional: print the backend's own exit counters, per vCPU. */
	void (*stats)(void *ctx, FILE *out);
	void (*close)(void *ctx);
};

extern const struct bench_driver bench_driver_khv;
extern const struct bench_driver bench_driver_kvm;

/* The interrupt loops (irq.c), in an irqchip VM. */
enum bench_irq_loop {
	BENCH_IRQ_TIMER,	/* one-shot APIC timer, the guest spins */
	BENCH_IRQ_HLT_TIMER,	/* TSC deadline, the guest HLTs */
	BENCH_IRQ_IPI,		/* ping-pong between vCPU 0 and vCPU 1 */
	BENCH_IRQ_MSI,		/* irqfd from a host thread, ioeventfd back */
};

struct bench_irq_env {
	const struct bench_driver *drv;
	void *ctx;		/* an irqchip VM */
	void *mem;		/* its RAM, the payload at BENCH_GUEST_LOAD */
	int helper_cpu;		/* the second thread's CPU (-1: not pinned) */
	uint64_t delay_cycles;	/* hlt-timer: deadline this far ahead */
	uint64_t delay_ns;	/* the same in ns, for the ns figure */
	/* Set by bench_irq_setup / bench_irq_run. */
	int irq_fd, doorbell_fd;
	int fail_code;
	volatile int cancel;
};

/* The irqfd (MSI to APIC 0) and the doorbell's ioeventfd. */
int bench_irq_setup(struct bench_irq_env *e);
void bench_irq_cleanup(struct bench_irq_env *e);
int bench_irq_run(struct bench_irq_env *e, enum bench_irq_loop kind, const char *loop,
		  unsigned long iters, double *cycles, double *ns, unsigned long *late);

/* The payload (guest.S). */
extern const unsigned char khv_bench_guest[];
extern const unsigned char khv_bench_guest_cpuid[];
extern const unsigned char khv_bench_guest_io[];
extern const unsigned char khv_bench_guest_dirty[];
extern const unsigned char khv_bench_guest_dirty_sparse[];
extern const unsigned char khv_bench_guest_timer[];
extern const unsigned char khv_bench_guest_hlt_timer[];
extern const unsigned char khv_bench_guest_ipi[];
extern const unsigned char khv_bench_guest_ipi_ap[];
extern const unsigned char khv_bench_guest_msi[];
extern const unsigned char khv_bench_guest_end[];

/* The TSC, after every earlier instruction (LFENCE). */
static inline uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif /* KHV_BENCH_H */
