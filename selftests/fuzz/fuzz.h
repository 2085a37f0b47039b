/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khv's uAPI fuzzer (selftest fuzz): one thread draws operations from a
 * seeded generator and applies them to a table of live objects (system,
 * VM and vCPU fds, guest memory, slots); every vCPU has a runner thread
 * that calls KHV_RUN on it in a loop, so that closes, unmaps, slot changes,
 * signals and forks race with running guests.  The operation sequence is a
 * function of the seed; the interleaving with the runners is not.
 */
#ifndef KHV_FUZZ_H
#define KHV_FUZZ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include <linux/khv.h>

/* ---- rng.c: splitmix64, and values that sit on boundaries ------------- */
struct fuzz_rng {
	uint64_t s;
};

uint64_t fuzz_next(struct fuzz_rng *r);
uint64_t fuzz_below(struct fuzz_rng *r, uint64_t n);	/* [0, n) */
bool fuzz_chance(struct fuzz_rng *r, unsigned int percent);
/* A "nasty" 64-bit value: 0, 1, -1, powers of two +-1, page edges, random. */
uint64_t fuzz_value(struct fuzz_rng *r);
void fuzz_bytes(struct fuzz_rng *r, void *buf, size_t len);

/* ---- guest.c: small random guests in every mode ----------------------- */
/* Slot 0 of every VM: the selftests' layout (lib/guest.h), code at GUEST_CODE. */
#define FUZZ_CODE_LEN		0x1000ul

/*
 * The architectural bits the TCG workaround of guest.c needs: under QEMU
 * TCG no vCPU gets EFER.LME with CR0.PG and CR4.PAE clear.
 */
#define MSR_EFER		0xc0000080u
#define EFER_LME		(1ull << 8)
#define CR0_PG			(1ull << 31)
#define CR4_PAE			(1ull << 5)

/* The same order as enum khvt_mode. */
enum fuzz_mode { FUZZ_REAL, FUZZ_PROT32, FUZZ_LONG, FUZZ_NR_MODES };

/* Lay out GDT, IDT, exception stubs and page tables in slot 0's memory. */
void fuzz_guest_layout(uint8_t *mem);
/* Random code at GUEST_CODE for mode (tcg: the QEMU lane's limits). */
void fuzz_guest_code(struct fuzz_rng *r, uint8_t *mem, enum fuzz_mode mode, bool tcg,
		     uint64_t insn_mask);

/* ---- ring.c: the last calls, for a report ------------------------------ */
void fuzz_ring_add(const char *op, long long a, long long b, long ret, int err);
void fuzz_ring_dump(int fd);
/* On SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGABRT: print the seed and the ring. */
void fuzz_install_crash_handler(uint64_t seed);

/* ---- objects.c / ops.c: the state and the operations ------------------- */
struct fuzz_config {
	uint64_t seed;
	uint64_t calls;		/* stop after this many operations (0: no limit) */
	unsigned int seconds;	/* stop after this long (0: no limit) */
	uint64_t op_mask;	/* operations drawn: bit i = ops[i] (0: all) */
	uint64_t insn_mask;	/* guest instruction templates: bit i (0: all) */
	bool verbose;
};

struct fuzz_stats {
	uint64_t calls, runs, violations;
	uint64_t op_count[32];
	uint64_t errno_count[140];
	uint64_t exits[KHV_EXIT_MAX + 1];	/* last: out of range */
	uint64_t forks, signals;
};

/* Runs the fuzzer; returns the number of contract violations seen. */
uint64_t fuzz_run(const struct fuzz_config *cfg, struct fuzz_stats *st);
void fuzz_print_stats(const struct fuzz_stats *st, const char *prefix);

/* Does err belong to the errnos khv documents (or the VFS adds)? */
bool fuzz_errno_ok(int err);

#endif
