/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The khv-trace file (Documentation/khv/khv-trace.rst, "The file"):
 * little-endian, a 128-byte header, fixed-size records, then the tables of
 * exit names and processes the header counts.  The recorder writes the
 * header last (flag KTR_F_COMPLETE), so a file whose recorder died is told
 * from a finished one; CRC32s of the header and of the rest tell a corrupt
 * file; the sizes in the header tell a truncated one.
 */
#ifndef KHV_TRACE_FILE_H
#define KHV_TRACE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define KTR_MAGIC		"KHVTRACE"
#define KTR_VERSION		1
#define KTR_HEADER_SIZE		128
#define KTR_RECORD_SIZE		64
#define KTR_NAME_SIZE		64	/* u32 code, u32 0, char name[56] */
#define KTR_PROC_SIZE		24	/* u32 pid, u32 0, char comm[16] */
#define KTR_NAME_LEN		56
#define KTR_COMM_LEN		16
#define KTR_CLOCK_LEN		16

/* Header flags. */
#define KTR_F_COMPLETE		(1u << 0)	/* the recorder finished the file */
#define KTR_F_HANDLE_NS		(1u << 1)	/* khv_exit carried handle_ns */
#define KTR_F_KNOWN		(KTR_F_COMPLETE | KTR_F_HANDLE_NS)

/* Record types. */
enum ktr_type {
	KTR_ENTRY = 1,		/* khv_entry: vcpu, rip */
	KTR_EXIT = 2,		/* khv_exit: vcpu, code, name, rip, info1/2, ret, handle_ns */
	KTR_UEXIT = 3,		/* khv_userspace_exit: vcpu, code = KHV_EXIT_*, ret */
	KTR_HALT = 4,		/* khv_halt: vcpu, code = mp_state, flags KTR_HALT_WAKE */
	KTR_LOST = 5,		/* events lost on cpu between ts and info2; info1 = how many */
	KTR_TYPE_MAX = 6,
};

#define KTR_HALT_WAKE		1u
#define KTR_NO_NAME		0xffffu
#define KTR_LOST_UNKNOWN	UINT64_MAX

struct ktr_rec {
	uint64_t ts;		/* trace clock, ns */
	uint64_t rip;
	uint64_t info1;
	uint64_t info2;
	uint32_t pid;		/* the thread's process (tgid); 0 for KTR_LOST */
	uint32_t tid;
	uint32_t vcpu;
	uint32_t code;
	int32_t ret;
	uint32_t handle_ns;	/* KTR_EXIT with KTR_F_HANDLE_NS: the handler's time */
	uint16_t name;		/* KTR_EXIT: index in the names table, else KTR_NO_NAME */
	uint16_t cpu;		/* host CPU whose buffer held it */
	uint8_t type;
	uint8_t flags;
};

struct ktr_name {
	uint32_t code;
	char name[KTR_NAME_LEN];
};

struct ktr_proc {
	uint32_t pid;
	char comm[KTR_COMM_LEN];
};

struct ktr_header {
	uint32_t version;
	uint32_t flags;
	char clock[KTR_CLOCK_LEN];
	uint64_t start_ns, end_ns;	/* the recording, on the trace clock */
	int64_t start_real_ns;		/* CLOCK_REALTIME at start_ns */
	uint64_t nrec;
	uint64_t overrun, dropped;	/* the instance's per-CPU stats, summed */
	uint32_t pid;			/* -p PID, or 0: every VM */
	char comm[KTR_COMM_LEN];
	uint32_t nnames, nprocs, ncpus;
};

/* A whole file, parsed (ktr_parse) or to be written (ktr_image). */
struct ktr_trace {
	struct ktr_header h;
	struct ktr_rec *rec;
	struct ktr_name *names;
	struct ktr_proc *procs;
};

/* Why a file was refused: ktr_strerror() gives the line's text. */
enum ktr_err {
	KTR_OK = 0,
	KTR_E_IO,		/* cannot be read (errno in the message) */
	KTR_E_EMPTY,		/* zero bytes */
	KTR_E_SHORT,		/* shorter than a header */
	KTR_E_MAGIC,		/* not a khv-trace file */
	KTR_E_VERSION,		/* a version this reader does not know */
	KTR_E_LAYOUT,		/* header or record size not this version's */
	KTR_E_HEADER_CRC,	/* the header's checksum */
	KTR_E_HEADER,		/* a header field out of range */
	KTR_E_INCOMPLETE,	/* the recorder did not finish it */
	KTR_E_TRUNCATED,	/* shorter than the header says */
	KTR_E_TRAILING,		/* longer than the header says */
	KTR_E_BODY_CRC,		/* the records' or tables' checksum */
	KTR_E_RECORD,		/* a record with an impossible field */
	KTR_E_NAME,		/* an exit-name entry */
	KTR_E_PROC,		/* a process entry */
	KTR_E_NOMEM,
	KTR_E_MAX
};

/* ktr_parse() flags. */
#define KTR_PARSE_NOCRC		1u	/* skip both checksums (the fuzz target) */

struct ktr_error {
	enum ktr_err code;
	char msg[256];		/* one line, no newline */
};

uint32_t ktr_crc32(uint32_t crc, const void *buf, size_t len);

/* The size of a file with this header's counts, or 0 when it overflows. */
uint64_t ktr_file_size(const struct ktr_header *h);

/*
 * Parses a file's image.  0 and a trace (free with ktr_trace_free), or -1
 * with err filled.  Every record and table entry is checked: a parsed
 * trace's exit records name an existing table entry, and its strings end
 * in NUL.
 */
int ktr_parse(const unsigned char *buf, size_t len, unsigned int flags, struct ktr_trace *t,
	      struct ktr_error *err);
/* ktr_parse() of a file's whole content. */
int ktr_load(const char *path, struct ktr_trace *t, struct ktr_error *err);
void ktr_trace_free(struct ktr_trace *t);

/* A file's image of t (h.nrec, nnames, nprocs say how many), malloc'ed. */
unsigned char *ktr_image(const struct ktr_trace *t, size_t *len);

void ktr_encode_header(unsigned char *p, const struct ktr_header *h, uint32_t body_crc);
void ktr_encode_rec(unsigned char *p, const struct ktr_rec *r);

/*
 * Streaming writer (the recorder): a header marked incomplete, the
 * records as they come, then ktr_writer_finish() with the tables and the
 * real header.  ktr_writer_abort() removes the file.
 */
struct ktr_writer {
	FILE *f;
	char *path;
	uint32_t crc;		/* of everything after the header, so far */
	uint64_t nrec;
	int err;		/* first errno */
};

int ktr_writer_open(struct ktr_writer *w, const char *path);
int ktr_writer_add(struct ktr_writer *w, const struct ktr_rec *r);
/* Writes names, procs and the header (h->nrec is taken from w); 0 or -errno. */
int ktr_writer_finish(struct ktr_writer *w, struct ktr_header *h, const struct ktr_name *names,
		      const struct ktr_proc *procs);
void ktr_writer_abort(struct ktr_writer *w);

const char *ktr_type_name(unsigned int type);

#endif /* KHV_TRACE_FILE_H */
