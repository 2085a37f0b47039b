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

struct bench_driver {
	const char *name;	/* "khv", "kvm": also the --backend= value */
	/*
	 * Open device (NULL: the driver's default), make a VM whose RAM is
	 * [0, size) backed by mem, one vCPU in real mode with CS = 0.
	 * 0 or -errno, with a message on stderr.
	 */
	int (*open)(void **ctx, const char *device, void *mem, size_t size);
	/* RIP = rip, RSI = rsi, RFLAGS = 2, every other GPR 0. */
	int (*set_entry)(void *ctx, uint64_t rip, uint64_t rsi);
	/* One KHV_RUN / KVM_RUN, retried on EINTR. */
	int (*run)(void *ctx, struct bench_exit *exit);
	/* Optional: print the backend's own exit counters. */
	void (*stats)(void *ctx, FILE *out);
	void (*close)(void *ctx);
};

extern const struct bench_driver bench_driver_khv;
extern const struct bench_driver bench_driver_kvm;

/* The payload (guest.S). */
extern const unsigned char khv_bench_guest[];
extern const unsigned char khv_bench_guest_cpuid[];
extern const unsigned char khv_bench_guest_io[];
extern const unsigned char khv_bench_guest_end[];

#endif /* KHV_BENCH_H */
