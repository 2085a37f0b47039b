/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Synthetic traces for the tests, the corpus and the end-to-end files:
 * records appended by hand (exact sequences with known answers), or a
 * workload of several vCPUs made by a seeded generator.
 */
#ifndef KHV_TRACE_SYNTH_H
#define KHV_TRACE_SYNTH_H

#include <stdint.h>

#include "../trace_file.h"

#define SY_START	1000000000000ull	/* 1000 s on the trace clock */
#define SY_US		1000ull
#define SY_MS		1000000ull

struct synth {
	struct ktr_trace t;
	uint64_t cap;
	uint32_t names_cap, procs_cap;
	uint16_t cpu;		/* put on the records that follow */
};

/* An empty trace of [start, end], pid 0, clock "mono", complete. */
void sy_init(struct synth *s, uint64_t start, uint64_t end);
void sy_free(struct synth *s);

uint16_t sy_name(struct synth *s, uint32_t code, const char *name);
void sy_proc(struct synth *s, uint32_t pid, const char *comm);

/* Times are relative to the start, in ns. */
void sy_entry(struct synth *s, uint32_t pid, uint32_t vcpu, uint64_t t);
void sy_exit(struct synth *s, uint32_t pid, uint32_t vcpu, uint64_t t, uint16_t name, int32_t ret);
void sy_uexit(struct synth *s, uint32_t pid, uint32_t vcpu, uint64_t t, uint32_t reason,
	      int32_t ret);
void sy_halt(struct synth *s, uint32_t pid, uint32_t vcpu, uint64_t t, int wake);
void sy_lost(struct synth *s, uint16_t cpu, uint64_t t, uint64_t until, uint64_t count);
struct ktr_rec *sy_add(struct synth *s, uint8_t type, uint32_t pid, uint32_t vcpu, uint64_t t);

/*
 * A VM of nvcpus vCPUs over seconds s: guests that exit for MSRs, port I/O
 * through userspace, NPT faults, interrupts, CPUID and halts (which sleep),
 * at about rate exits per second per vCPU, the records vCPU after vCPU
 * (the analysis has to sort them).  Deterministic for a seed.
 */
void sy_workload(struct synth *s, uint32_t pid, uint32_t nvcpus, double seconds, double rate,
		 uint64_t seed);

/* Shuffles the records (a seeded Fisher-Yates). */
void sy_shuffle(struct synth *s, uint64_t seed);

#endif /* KHV_TRACE_SYNTH_H */
