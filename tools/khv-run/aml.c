// SPDX-License-Identifier: GPL-2.0
/*
 * The AML builder (aml.h).  Byte values from the ACPI 6.4 specification:
 * opcodes and name encoding in chapter 20, resource descriptors in 6.4.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"

#define ZERO_OP			0x00
#define ONE_OP			0x01
#define NAME_OP			0x08
#define BYTE_PREFIX		0x0a
#define WORD_PREFIX		0x0b
#define DWORD_PREFIX		0x0c
#define STRING_PREFIX		0x0d
#define QWORD_PREFIX		0x0e
#define SCOPE_OP		0x10
#define BUFFER_OP		0x11
#define PACKAGE_OP		0x12
#define METHOD_OP		0x14
#define DUAL_NAME_PREFIX	0x2e
#define MULTI_NAME_PREFIX	0x2f
#define EXT_OP_PREFIX		0x5b
#define DEVICE_OP		0x82	/* after EXT_OP_PREFIX */
#define ROOT_CHAR		'\\'
#define PARENT_PREFIX_CHAR	'^'
#define RETURN_OP		0xa4
#define ONES_OP			0xff

/* Resource descriptor tags (6.4.2: small, 6.4.3: large). */
#define RES_IRQ_NOFLAGS		0x22	/* type 4, 2 bytes */
#define RES_IRQ			0x23	/* type 4, 3 bytes */
#define RES_IO			0x47	/* type 8, 7 bytes */
#define RES_END			0x79	/* type 15, 1 byte */
#define RES_DWORD_ADDR		0x87
#define RES_WORD_ADDR		0x88
#define RES_QWORD_ADDR		0x8a

/* Address space descriptors: resource type, general flags. */
#define ADDR_MEM		0
#define ADDR_IO			1
#define ADDR_BUS		2
#define ADDR_CONSUMER		0x01
#define ADDR_MIN_FIXED		0x04
#define ADDR_MAX_FIXED		0x08
#define ADDR_MEM_RW		0x01	/* type-specific: read-write, non-cacheable */
#define ADDR_IO_ENTIRE		0x03	/* type-specific: ISA and non-ISA ranges */

#define NAMESEG_LEN		4
#define PKGLEN_MAX		(1u << 28)

void aml_init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

void aml_free(struct aml *a)
{
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

static void fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

static bool reserve(struct aml *a, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (a->err)
		return false;
	if (n > PKGLEN_MAX || a->len > PKGLEN_MAX - n) {
		fail(a, -E2BIG);	/* beyond any PkgLength anyway */
		return false;
	}
	if (a->len + n <= a->cap)
		return true;
	cap = a->cap ? a->cap : 256;
	while (cap < a->len + n)
		cap *= 2;
	p = realloc(a->buf, cap);
	if (!p) {
		fail(a, -ENOMEM);
		return false;
	}
	a->buf = p;
	a->cap = cap;
	return true;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (!reserve(a, n))
		return;
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void put_le(struct aml *a, uint64_t v, unsigned int n)
{
	uint8_t b[8];

	for (unsigned int i = 0; i < n; i++)
		b[i] = v >> (8 * i);
	aml_bytes(a, b, n);
}

/* Insert p[0..n) at pos, moving what follows: how a PkgLength goes in front. */
static void insert(struct aml *a, size_t pos, const uint8_t *p, size_t n)
{
	if (pos > a->len) {
		fail(a, -EINVAL);
		return;
	}
	if (!reserve(a, n))
		return;
	memmove(a->buf + pos + n, a->buf + pos, a->len - pos);
	memcpy(a->buf + pos, p, n);
	a->len += n;
}

unsigned int aml_pkglen_encode(uint8_t out[4], uint32_t v)
{
	unsigned int n;

	if (v < 64) {
		out[0] = v;
		return 1;
	}
	if (v >= PKGLEN_MAX)
		return 0;
	n = v < (1u << 12) ? 2 : v < (1u << 20) ? 3 : 4;
	/* Lead byte: count of the bytes that follow in bits 7-6, low nibble. */
	out[0] = (n - 1) << 6 | (v & 0xf);
	for (unsigned int i = 1; i < n; i++)
		out[i] = v >> (4 + 8 * (i - 1));
	return n;
}

/* The PkgLength for content of size c: the smallest n with n + c encodable in n bytes. */
static unsigned int pkglen_for(uint8_t out[4], size_t c)
{
	for (uint32_t n = 1; n <= 4; n++) {
		uint8_t tmp[4];

		if (c + n < PKGLEN_MAX && aml_pkglen_encode(tmp, c + n) == n) {
			memcpy(out, tmp, n);
			return n;
		}
	}
	return 0;
}

void aml_end(struct aml *a, size_t mark)
{
	uint8_t pl[4];
	unsigned int n;

	if (a->err)
		return;
	if (mark > a->len) {
		fail(a, -EINVAL);
		return;
	}
	n = pkglen_for(pl, a->len - mark);
	if (!n) {
		fail(a, -E2BIG);
		return;
	}
	insert(a, mark, pl, n);
}

static unsigned int int_encode(uint8_t out[9], uint64_t v)
{
	unsigned int n;

	if (v == 0 || v == 1 || v == ~0ull) {
		out[0] = v == 0 ? ZERO_OP : v == 1 ? ONE_OP : ONES_OP;
		return 1;
	}
	if (v <= 0xff) {
		out[0] = BYTE_PREFIX;
		n = 1;
	} else if (v <= 0xffff) {
		out[0] = WORD_PREFIX;
		n = 2;
	} else if (v <= 0xffffffff) {
		out[0] = DWORD_PREFIX;
		n = 4;
	} else {
		out[0] = QWORD_PREFIX;
		n = 8;
	}
	for (unsigned int i = 0; i < n; i++)
		out[1 + i] = v >> (8 * i);
	return 1 + n;
}

void aml_int(struct aml *a, uint64_t v)
{
	uint8_t b[9];

	aml_bytes(a, b, int_encode(b, v));
}

static bool is_lead_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

/*
 * NameString := <RootChar | ParentPrefixChar*> NamePath, NamePath being a
 * NullName, one NameSeg, DualNamePrefix and two, or MultiNamePrefix, a
 * count and that many (20.2.2).
 */
void aml_name(struct aml *a, const char *path)
{
	uint8_t segs[255][NAMESEG_LEN];
	unsigned int nseg = 0;
	const char *p = path;

	if (!path) {
		fail(a, -EINVAL);
		return;
	}
	if (*p == ROOT_CHAR)
		aml_byte(a, *p++);
	else
		while (*p == PARENT_PREFIX_CHAR)
			aml_byte(a, *p++);
	while (*p) {
		unsigned int n = 0;

		if (nseg == sizeof(segs) / sizeof(segs[0])) {
			fail(a, -E2BIG);
			return;
		}
		memset(segs[nseg], '_', NAMESEG_LEN);
		for (; *p && *p != '.'; p++, n++) {
			bool ok = n ? is_lead_char(*p) || (*p >= '0' && *p <= '9')
				    : is_lead_char(*p);

			if (!ok || n == NAMESEG_LEN) {
				fail(a, -EINVAL);
				return;
			}
			segs[nseg][n] = *p;
		}
		/* An empty segment ("A..B", "A.", ".A") is malformed. */
		if (!n || (*p == '.' && !p[1])) {
			fail(a, -EINVAL);
			return;
		}
		nseg++;
		if (*p == '.')
			p++;
	}
	if (nseg == 0) {
		aml_byte(a, 0);		/* NullName */
		return;
	}
	if (nseg == 2)
		aml_byte(a, DUAL_NAME_PREFIX);
	if (nseg > 2) {
		aml_byte(a, MULTI_NAME_PREFIX);
		aml_byte(a, nseg);
	}
	aml_bytes(a, segs, (size_t)nseg * NAMESEG_LEN);
}

void aml_string(struct aml *a, const char *s)
{
	if (!s) {
		fail(a, -EINVAL);
		return;
	}
	for (const char *p = s; *p; p++) {
		if (*p < 0x20 || *p > 0x7e) {
			fail(a, -EINVAL);
			return;
		}
	}
	aml_byte(a, STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * EISA ID: three letters of 5 bits each ('A' = 1) then four hex digits,
 * big-endian in the 32-bit value's bytes as they lie in memory (6.1.5).
 */
void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = 0;

	if (!id || strlen(id) != 7) {
		fail(a, -EINVAL);
		return;
	}
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			fail(a, -EINVAL);
			return;
		}
		v = v << 5 | (uint32_t)(id[i] - 'A' + 1);
	}
	for (int i = 3; i < 7; i++) {
		int d = hex_digit(id[i]);

		if (d < 0) {
			fail(a, -EINVAL);
			return;
		}
		v = v << 4 | (uint32_t)d;
	}
	/* Bit 31 is 0, the first letter in bits 30-26: stored most significant byte first. */
	aml_int(a, (uint32_t)((v >> 24) | (v >> 8 & 0xff00) | (v << 8 & 0xff0000) | v << 24));
}

void aml_name_decl(struct aml *a, const char *path)
{
	aml_byte(a, NAME_OP);
	aml_name(a, path);
}

void aml_return(struct aml *a)
{
	aml_byte(a, RETURN_OP);
}

size_t aml_scope_begin(struct aml *a, const char *path)
{
	size_t mark;

	aml_byte(a, SCOPE_OP);
	mark = a->len;
	aml_name(a, path);
	return mark;
}

size_t aml_device_begin(struct aml *a, const char *path)
{
	size_t mark;

	aml_byte(a, EXT_OP_PREFIX);
	aml_byte(a, DEVICE_OP);
	mark = a->len;
	aml_name(a, path);
	return mark;
}

size_t aml_method_begin(struct aml *a, const char *path, unsigned int nargs, bool serialized)
{
	size_t mark;

	aml_byte(a, METHOD_OP);
	mark = a->len;
	aml_name(a, path);
	/* MethodFlags: ArgCount in bits 2-0, SerializeFlag bit 3, SyncLevel 0. */
	if (nargs > 7)
		fail(a, -EINVAL);
	aml_byte(a, (nargs & 7) | (serialized ? 0x08 : 0));
	return mark;
}

size_t aml_package_begin(struct aml *a, unsigned int n)
{
	size_t mark;

	/* NumElements is a byte: larger packages would need VarPackageOp. */
	if (n > 255)
		fail(a, -E2BIG);
	aml_byte(a, PACKAGE_OP);
	mark = a->len;
	aml_byte(a, n);
	return mark;
}

size_t aml_res_begin(struct aml *a)
{
	aml_byte(a, BUFFER_OP);
	return a->len;
}

void aml_res_end(struct aml *a, size_t mark)
{
	uint8_t head[4 + 9];
	unsigned int ni, np;
	uint8_t size[9];

	aml_byte(a, RES_END);
	aml_byte(a, 0);		/* checksum 0: the OS does not check it */
	if (a->err)
		return;
	if (mark > a->len) {
		fail(a, -EINVAL);
		return;
	}
	/* DefBuffer := BufferOp PkgLength BufferSize ByteList */
	ni = int_encode(size, a->len - mark);
	np = pkglen_for(head, ni + a->len - mark);
	if (!np) {
		fail(a, -E2BIG);
		return;
	}
	memcpy(head + np, size, ni);
	insert(a, mark, head, np + ni);
}

void aml_res_io(struct aml *a, uint16_t base, uint8_t len)
{
	/* Decode16 (bit 0), min = max = base, alignment 1. */
	const uint8_t d[] = { RES_IO, 0x01, base, base >> 8, base, base >> 8, 1, len };

	aml_bytes(a, d, sizeof(d));
}

void aml_res_irq(struct aml *a, unsigned int irq, uint8_t flags)
{
	if (irq > 15) {
		fail(a, -EINVAL);
		return;
	}
	aml_byte(a, RES_IRQ);
	put_le(a, 1u << irq, 2);
	aml_byte(a, flags);
}

void aml_res_irq_noflags(struct aml *a, unsigned int irq)
{
	if (irq > 15) {
		fail(a, -EINVAL);
		return;
	}
	aml_byte(a, RES_IRQ_NOFLAGS);
	put_le(a, 1u << irq, 2);
}

/*
 * Word/DWord/QWord address space descriptor: tag, length, type, flags,
 * then granularity, min, max, translation and length, each `width' bytes.
 */
static void addr_desc(struct aml *a, uint8_t tag, unsigned int width, uint8_t type,
		      uint8_t gflags, uint8_t tflags, uint64_t min, uint64_t max)
{
	uint64_t limit = width == 8 ? ~0ull : (1ull << (8 * width)) - 1;

	/* The length (max - min + 1) must fit the field too. */
	if (max < min || max > limit || (min == 0 && max == limit)) {
		fail(a, -EINVAL);
		return;
	}
	aml_byte(a, tag);
	put_le(a, 3 + 5 * width, 2);
	aml_byte(a, type);
	aml_byte(a, gflags | ADDR_MIN_FIXED | ADDR_MAX_FIXED);
	aml_byte(a, tflags);
	put_le(a, 0, width);
	put_le(a, min, width);
	put_le(a, max, width);
	put_le(a, 0, width);
	put_le(a, max - min + 1, width);
}

void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
	addr_desc(a, RES_WORD_ADDR, 2, ADDR_BUS, 0, 0, min, max);
}

void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max)
{
	addr_desc(a, RES_WORD_ADDR, 2, ADDR_IO, 0, ADDR_IO_ENTIRE, min, max);
}

void aml_res_dword_mem(struct aml *a, bool producer, uint32_t min, uint32_t max)
{
	addr_desc(a, RES_DWORD_ADDR, 4, ADDR_MEM, producer ? 0 : ADDR_CONSUMER, ADDR_MEM_RW,
		  min, max);
}

void aml_res_qword_mem(struct aml *a, bool producer, uint64_t min, uint64_t max)
{
	addr_desc(a, RES_QWORD_ADDR, 8, ADDR_MEM, producer ? 0 : ADDR_CONSUMER, ADDR_MEM_RW,
		  min, max);
}
