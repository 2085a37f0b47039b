/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The --study option: khv's study mode (uapi/linux/khv.h, "study mode";
 * Documentation/khv/observe.rst) on every vCPU, one line per event.
 *
 *   --study EVENT[,EVENT...]	(repeatable: the events add up)
 *
 * EVENT: cpuid (every leaf) or cpuid:LEAF; rdmsr, wrmsr or msr (both) for
 * every MSR, or with :INDEX for that one; rdtsc; hlt; cr (a write to any
 * of CR0, CR3, CR4, CR8: MOV to CR, CLTS, LMSW) or cr0, cr3, cr4, cr8 (to
 * that one); cr8-read (MOV from CR8); invlpg; pause; io (every port) or
 * io:PORT; exception (every vector khv studies) or exception:VECTOR.
 * LEAF and INDEX are 32-bit numbers, PORT a 16-bit one, hex with 0x or
 * decimal.  VECTOR is a number (0x or decimal) or a name, any case, with
 * or without '#': de (0), db (1), bp (3), of (4), br (5), ud (6), nm (7),
 * ts (10), np (11), ss (12), gp (13), pf (14), mf (16), ac (17), xm (19)
 * (KHV_STUDY_EXCEPTIONS: not NMI, #DF or #MC, the host's, nor a reserved
 * vector).  At most KHV_STUDY_MAX_LIST (16) distinct leaves, 16 distinct
 * MSR indexes between rdmsr and wrmsr, and 16 distinct ports.  Only the
 * list events (cpuid, rdmsr, wrmsr, msr, io, exception) take :VALUE.
 *
 * khv keeps one MSR list for both RDMSR and WRMSR, and "every MSR" is an
 * empty list; khv-run keeps what was asked per event (struct kr_study),
 * asks khv for the union (kr_study_request) and prints only the events
 * asked for (kr_study_wanted): with rdmsr:0x10,wrmsr:0x20 a WRMSR of 0x10
 * exits too, and goes on unprinted; with rdmsr,wrmsr:0x20 so does every
 * WRMSR.  The other lists are exact: a plain event beside its list (cpuid
 * with cpuid:LEAF, cr with cr3, io with io:PORT, exception with
 * exception:VECTOR) means every one, which khv is asked as an empty list
 * (cr_write 0, nr_ports 0, exceptions 0).
 *
 * Each studied event is one line (kr_study_line), written with one
 * write() so that vCPU threads never interleave mid-line, to stderr or
 * --study-log's file; then the vCPU goes on with khv's own handling
 * (run->study.flags 0).  No allocation, no lock.
 */
#ifndef KHV_RUN_STUDY_H
#define KHV_RUN_STUDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/khv.h>

/* msr_ev[]: which MSR events want that index. */
#define KR_STUDY_RD		1u
#define KR_STUDY_WR		2u

/* A line is at most this long, with its "\r\n". */
#define KR_STUDY_LINE_MAX	224

struct kr_study {
	uint64_t events;		/* KHV_STUDY_*: 0, no --study */
	bool cpuid_all;			/* plain cpuid: every leaf */
	bool rdmsr_all, wrmsr_all;	/* plain rdmsr / wrmsr (or msr): every MSR */
	unsigned int nr_cpuid, nr_msrs;
	uint32_t cpuid[KHV_STUDY_MAX_LIST];	/* cpuid:LEAF, in order, distinct */
	uint32_t msrs[KHV_STUDY_MAX_LIST];	/* rdmsr/wrmsr/msr:INDEX, distinct */
	uint8_t msr_ev[KHV_STUDY_MAX_LIST];	/* KR_STUDY_RD | KR_STUDY_WR */
	bool cr_all;			/* plain cr: writes to every CR khv studies */
	uint32_t cr_write;		/* cr0/cr3/cr4/cr8: KHV_STUDY_CR0/3/4/8 */
	bool io_all;			/* plain io: every port */
	unsigned int nr_ports;
	uint16_t ports[KHV_STUDY_MAX_LIST];	/* io:PORT, in order, distinct */
	bool exc_all;			/* plain exception: every vector */
	uint32_t exceptions;		/* exception:VECTOR: bit n for vector n */
};

/*
 * Add what arg asks to *s (zeroed before the first): 0, or -EINVAL with
 * one line in why ("--study: ...") and *s unusable.
 */
int kr_study_parse(const char *arg, struct kr_study *s, char *why, size_t len);
/*
 * The canonical option string, which kr_study_parse() reads back the same:
 * its length (as snprintf: buf holds what fits).
 */
int kr_study_format(const struct kr_study *s, char *buf, size_t len);
/* The event names of a KHV_STUDY_* mask, comma-separated (as snprintf). */
int kr_study_names(uint64_t events, char *buf, size_t len);

/*
 * Whether this khv offers every event s asks: caps is
 * KHV_CHECK_EXTENSION(KHV_CAP_STUDY) (0 or below: no study mode).  0, or
 * -EOPNOTSUPP with one line in why ("--study: ...").
 */
int kr_study_check(const struct kr_study *s, int caps, char *why, size_t len);
/* What KHV_SET_STUDY gets for s. */
void kr_study_request(const struct kr_study *s, struct khv_study *k);
/* Whether the KHV_EXIT_STUDY in run is one s asked to see. */
bool kr_study_wanted(const struct kr_study *s, const struct khv_run *run);
/*
 * The line for the KHV_EXIT_STUDY in run (run->study only) of the vCPU
 * with that index, without its newline:
 *
 *   khv-run: study vcpu N rip 0xRIP cpuid leaf 0xL subleaf 0xS -> eax 0xA ebx 0xB ecx 0xC edx 0xD
 *   khv-run: study vcpu N rip 0xRIP rdmsr 0xI -> 0xV[ (#GP)]
 *   khv-run: study vcpu N rip 0xRIP wrmsr 0xI <- 0xV
 *   khv-run: study vcpu N rip 0xRIP rdtsc -> 0xT
 *   khv-run: study vcpu N rip 0xRIP hlt
 *   khv-run: study vcpu N rip 0xRIP crN <- 0xV (was 0xOLD)
 *   khv-run: study vcpu N rip 0xRIP cr8 -> 0xV (into REG)	(rax .. r15)
 *   khv-run: study vcpu N rip 0xRIP invlpg 0xADDR
 *   khv-run: study vcpu N rip 0xRIP pause
 *   khv-run: study vcpu N rip 0xRIP io out port 0xP size S value 0xV[ rep]
 *   khv-run: study vcpu N rip 0xRIP io in port 0xP size S[ rep]
 *   khv-run: study vcpu N rip 0xRIP io outs port 0xP size S[ rep]	(ins the same)
 *   khv-run: study vcpu N rip 0xRIP exception V #NAME[ error 0xE][ cr2 0xADDR][ during delivery]
 *		(V decimal; error with an error code; the payload is #PF's
 *		cr2 0xADDR, #DB's dr6 0xBITS, any other's payload 0xP; no
 *		#NAME for a vector without one)
 *   khv-run: study vcpu N rip 0xRIP event E		(one this khv-run does not know)
 *
 * Its length, as snprintf.
 */
int kr_study_line(const struct khv_run *run, unsigned int vcpu, char *buf, size_t len);
/*
 * That line with "\n" ("\r\n" with crlf: a terminal in raw mode) in one
 * write() to fd; a full non-blocking fd is waited for.  0, or -errno: the
 * line (or its rest) is dropped when fd fails or a signal (a vCPU kick:
 * the machine is stopping or pausing) interrupts a write that waits.
 */
int kr_study_log(int fd, bool crlf, const struct khv_run *run, unsigned int vcpu);

#endif /* KHV_RUN_STUDY_H */
