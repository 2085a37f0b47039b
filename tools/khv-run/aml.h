/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small AML (ACPI Machine Language) builder for the DSDT: just the terms
 * a static PC description needs.  Encodings from the ACPI 6.4 specification,
 * chapter 20 (AML grammar) and section 6.4 (resource descriptors).
 *
 * Usage: aml_init(), append terms, check aml.err, use buf[0..len), then
 * aml_free().  An object with a PkgLength (Scope, Device, Method, Package,
 * ResourceTemplate) is opened by its *_begin() function, which returns a
 * mark, and closed by aml_end(mark) / aml_res_end(mark), which insert the
 * PkgLength (and the buffer size) once the contents are known, so objects
 * nest like the ASL they stand for.
 *
 * Errors stick: the first one (-ENOMEM, -EINVAL for a malformed name or
 * value, -E2BIG for something AML cannot encode) is kept in err and every
 * later call does nothing, so a builder checks err once at the end.
 */
#ifndef KHV_RUN_AML_H
#define KHV_RUN_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t len, cap;
	int err;
};

void aml_init(struct aml *a);
void aml_free(struct aml *a);

/* Raw bytes, for what has no helper. */
void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);

/*
 * PkgLength of a value v that counts its own bytes (section 20.2.4): 1 byte
 * below 64, then 2, 3, 4 bytes below 2^12, 2^20, 2^28.  Writes out[0..n),
 * returns n, or 0 when v does not fit.
 */
unsigned int aml_pkglen_encode(uint8_t out[4], uint32_t v);

/*
 * ComputationalData integer in its shortest form: ZeroOp, OneOp, OnesOp (all
 * 64 bits set: the DSDT is revision 2, 64-bit integers), else Byte, Word,
 * DWord or QWord prefix.
 */
void aml_int(struct aml *a, uint64_t v);
/* A NameString: "\_SB.PCI0", "^FOO", "_HID"; segments padded with '_'. */
void aml_name(struct aml *a, const char *path);
/* String "..." (printable ASCII). */
void aml_string(struct aml *a, const char *s);
/* EisaId ("PNP0A03"): the compressed 32-bit ID, as an integer. */
void aml_eisaid(struct aml *a, const char *id);
/* Name (path, <data that follows>) */
void aml_name_decl(struct aml *a, const char *path);
/* Return (<data that follows>) */
void aml_return(struct aml *a);

size_t aml_scope_begin(struct aml *a, const char *path);
size_t aml_device_begin(struct aml *a, const char *path);
size_t aml_method_begin(struct aml *a, const char *path, unsigned int nargs, bool serialized);
/* Package (n) { <n data objects that follow> } */
size_t aml_package_begin(struct aml *a, unsigned int n);
void aml_end(struct aml *a, size_t mark);

/*
 * ResourceTemplate () { <descriptors that follow> }: a Buffer, closed by
 * aml_res_end() with the End Tag (checksum 0: "treat as valid").
 */
size_t aml_res_begin(struct aml *a);
void aml_res_end(struct aml *a, size_t mark);

/* IO (Decode16, base, base, 1, len): a fixed range of ports. */
void aml_res_io(struct aml *a, uint16_t base, uint8_t len);
/* IRQNoFlags () {irq}: edge, active high, exclusive. */
void aml_res_irq_noflags(struct aml *a, unsigned int irq);

/* IRQ (...) {irq} with its information byte (section 6.4.2.1). */
#define AML_IRQ_EDGE		0x01	/* else level */
#define AML_IRQ_ACTIVE_LOW	0x08	/* else active high */
#define AML_IRQ_SHARED		0x10	/* else exclusive */
void aml_res_irq(struct aml *a, unsigned int irq, uint8_t flags);

/*
 * Address space descriptors [min, max], fixed at both ends, positive decode,
 * no translation, granularity 0 (section 6.4.3.5).  A producer is a window
 * the device (a host bridge) decodes for its children; a consumer is a
 * range the device itself uses.  Memory is read-write, non-cacheable: never
 * prefetchable, so that Linux may put any BAR in the window.
 */
void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max);	/* producer */
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max);	/* producer, EntireRange */
void aml_res_dword_mem(struct aml *a, bool producer, uint32_t min, uint32_t max);
void aml_res_qword_mem(struct aml *a, bool producer, uint64_t min, uint64_t max);

#endif
