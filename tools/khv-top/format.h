/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khv-top's batch output (khv-top.1, "BATCH OUTPUT"), and the helpers the
 * live view shares with it.  One line per record, words separated by one
 * space: the record's kind, then key=value pairs in a fixed order.  A value
 * never holds a space: a byte outside printable ASCII, a backslash or '='
 * in a name is written \xHH; an unknown value is "-".
 *
 *   sample iter=N vms=N time=UNIX_SECONDS
 *   vm iter=N id=ID pid=PID comm=NAME state=STATE vcpus=N window=total|interval
 *      secs=S rate=R delta=N count=N guest=P khv=P user=P halt=P
 *   exit iter=N id=ID name=REASON code=0xHEX rate=R delta=N count=N
 *      p50_us=U p99_us=U kernel_p50_us=U kernel_p99_us=U user_p50_us=U user_p99_us=U
 *   counter iter=N id=ID name=NAME unit=UNIT kind=cumulative|instant rate=R delta=N value=N
 */
#ifndef KHV_TOP_FORMAT_H
#define KHV_TOP_FORMAT_H

#include <stdio.h>

#include "model.h"

/* The "sample" line that starts iteration iter. */
void kt_print_sample(FILE *f, unsigned long iter, unsigned int vms, double unix_time);
void kt_print_vm(FILE *f, unsigned long iter, const struct kt_vm_view *v);
void kt_print_exit(FILE *f, unsigned long iter, const struct kt_vm_view *v,
		   const struct kt_exit_row *r);
void kt_print_counter(FILE *f, unsigned long iter, const struct kt_vm_view *v,
		      const struct kt_counter_row *c);
/*
 * A VM's lines: "vm", then its exit reasons sorted by key, then its
 * counters with a value other than 0, in the file's order.  Sorts v->rows.
 */
void kt_print_batch(FILE *f, unsigned long iter, struct kt_vm_view *v, enum kt_sort key);

/*
 * in (at most inlen bytes, up to a NUL) as a batch value: \xHH for bytes
 * outside '!'..'~', '\\' and '=', "-" for an empty string.  Always NUL
 * terminated; truncated (whole escapes only) to fit size.
 */
void kt_escape(char *out, size_t size, const char *in, size_t inlen);
/* The same for a terminal: '?' for those bytes, nothing escaped. */
void kt_printable(char *out, size_t size, const char *in, size_t inlen);

const char *kt_unit_name(uint32_t unit);

/* Human-sized numbers for the live view, in at most width characters. */
void kt_human_count(char *out, size_t size, uint64_t n);
void kt_human_rate(char *out, size_t size, double r);

#endif /* KHV_TOP_FORMAT_H */
