// SPDX-License-Identifier: GPL-2.0
/*
 * The AML builder (aml.c) against byte sequences worked out by hand from
 * the ACPI 6.4 specification (chapter 20, section 6.4).  The whole DSDT is
 * also checked by iasl and acpiexec in t_acpi.c.
 */
#include <errno.h>
#include <string.h>

#include "../aml.h"
#include "t.h"

/* a holds exactly the n bytes of want. */
static int same(const struct aml *a, const uint8_t *want, size_t n)
{
	if (a->err || a->len != n)
		return 0;
	return !memcmp(a->buf, want, n);
}

#define CHECK_AML(a, ...)						\
	do {								\
		static const uint8_t want_[] = { __VA_ARGS__ };		\
		CHECK(same((a), want_, sizeof(want_)));			\
	} while (0)

static void check_int(uint64_t v, const uint8_t *want, size_t n)
{
	struct aml a;

	aml_init(&a);
	aml_int(&a, v);
	CHECK(same(&a, want, n));
	aml_free(&a);
}

KR_TEST(aml_int)
{
	check_int(0, (const uint8_t[]){ 0x00 }, 1);		/* ZeroOp */
	check_int(1, (const uint8_t[]){ 0x01 }, 1);		/* OneOp */
	check_int(~0ull, (const uint8_t[]){ 0xff }, 1);		/* OnesOp */
	check_int(2, (const uint8_t[]){ 0x0a, 0x02 }, 2);	/* BytePrefix */
	check_int(0xff, (const uint8_t[]){ 0x0a, 0xff }, 2);
	check_int(0x100, (const uint8_t[]){ 0x0b, 0x00, 0x01 }, 3);	/* WordPrefix */
	check_int(0xffff, (const uint8_t[]){ 0x0b, 0xff, 0xff }, 3);
	check_int(0x10000, (const uint8_t[]){ 0x0c, 0x00, 0x00, 0x01, 0x00 }, 5);
	check_int(0xffffffff, (const uint8_t[]){ 0x0c, 0xff, 0xff, 0xff, 0xff }, 5);
	check_int(0x100000000ull,
		  (const uint8_t[]){ 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 }, 9);	/* QWordPrefix */
	check_int(0xfffffffffffffffeull,
		  (const uint8_t[]){ 0x0e, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 9);
}

KR_TEST(aml_pkglen)
{
	uint8_t b[4];

	CHECK_EQ(aml_pkglen_encode(b, 0), 1);
	CHECK_EQ(b[0], 0);
	CHECK_EQ(aml_pkglen_encode(b, 63), 1);
	CHECK_EQ(b[0], 0x3f);
	/* Two bytes: lead 0b01 in bits 7-6, low nibble, then bits 11-4. */
	CHECK_EQ(aml_pkglen_encode(b, 64), 2);
	CHECK(b[0] == 0x40 && b[1] == 0x04);
	CHECK_EQ(aml_pkglen_encode(b, 4095), 2);
	CHECK(b[0] == 0x4f && b[1] == 0xff);
	CHECK_EQ(aml_pkglen_encode(b, 4096), 3);
	CHECK(b[0] == 0x80 && b[1] == 0x00 && b[2] == 0x01);
	CHECK_EQ(aml_pkglen_encode(b, 0xfffff), 3);
	CHECK(b[0] == 0x8f && b[1] == 0xff && b[2] == 0xff);
	CHECK_EQ(aml_pkglen_encode(b, 0x100000), 4);
	CHECK(b[0] == 0xc0 && b[1] == 0x00 && b[2] == 0x00 && b[3] == 0x01);
	CHECK_EQ(aml_pkglen_encode(b, 0xfffffff), 4);
	CHECK(b[0] == 0xcf && b[1] == 0xff && b[2] == 0xff && b[3] == 0xff);
	CHECK_EQ(aml_pkglen_encode(b, 0x10000000), 0);
}

/*
 * aml_end() on c bytes of contents: the PkgLength counts itself, so 62
 * bytes still fit one byte (63) but 63 need two (65); 4093 fit two (4095),
 * 4094 need three (4097).
 */
static void check_end(size_t c, unsigned int n, uint32_t v)
{
	static uint8_t filler[5000];
	struct aml a;
	uint8_t want[4];

	aml_init(&a);
	aml_byte(&a, 0x10);
	aml_bytes(&a, filler, c);
	aml_end(&a, 1);
	CHECK_EQ(a.err, 0);
	CHECK_EQ(a.len, 1 + n + c);
	CHECK_EQ(aml_pkglen_encode(want, v), n);
	CHECK(a.len > n && !memcmp(a.buf + 1, want, n));
	CHECK(a.len == 1 + n + c && a.buf[0] == 0x10);
	aml_free(&a);
}

KR_TEST(aml_pkglen_end)
{
	check_end(0, 1, 1);
	check_end(62, 1, 63);
	check_end(63, 2, 65);
	check_end(4093, 2, 4095);
	check_end(4094, 3, 4097);
}

static void check_name(const char *path, const uint8_t *want, size_t n)
{
	struct aml a;

	aml_init(&a);
	aml_name(&a, path);
	CHECK(same(&a, want, n));
	if (!same(&a, want, n))
		printf("#   name \"%s\"\n", path);
	aml_free(&a);
}

static void check_bad_name(const char *path)
{
	struct aml a;

	aml_init(&a);
	aml_name(&a, path);
	CHECK_EQ(a.err, -EINVAL);
	if (a.err != -EINVAL)
		printf("#   name \"%s\" accepted\n", path);
	aml_free(&a);
}

KR_TEST(aml_names)
{
	check_name("_SB", (const uint8_t *)"_SB_", 4);
	check_name("A", (const uint8_t *)"A___", 4);
	check_name("PCI0", (const uint8_t *)"PCI0", 4);
	check_name("\\_S5", (const uint8_t *)"\\_S5_", 5);
	check_name("\\_SB.PCI0", (const uint8_t *)"\\\x2e_SB_PCI0", 10);
	check_name("\\_SB.PCI0.COM1", (const uint8_t *)"\\\x2f\x03_SB_PCI0COM1", 15);
	check_name("PCI0.RTC", (const uint8_t *)"\x2ePCI0RTC_", 9);
	check_name("^^AB", (const uint8_t *)"^^AB__", 6);
	check_name("\\", (const uint8_t *)"\\\x00", 2);	/* RootChar NullName */
	check_name("", (const uint8_t *)"\x00", 1);

	check_bad_name("pci0");		/* lower case */
	check_bad_name("ABCDE");	/* more than four characters */
	check_bad_name("1ABC");		/* digit first */
	check_bad_name("A-B");
	check_bad_name("A..B");
	check_bad_name("A.");
	check_bad_name(".A");
	check_bad_name("\\\\A");
	check_bad_name("\\^A");
	check_bad_name("A^");
	check_bad_name(NULL);
}

KR_TEST(aml_data)
{
	struct aml a;
	size_t m;

	aml_init(&a);
	aml_eisaid(&a, "PNP0A03");
	CHECK_AML(&a, 0x0c, 0x41, 0xd0, 0x0a, 0x03);
	aml_free(&a);

	aml_init(&a);
	aml_eisaid(&a, "PNP0501");
	CHECK_AML(&a, 0x0c, 0x41, 0xd0, 0x05, 0x01);
	aml_free(&a);

	aml_init(&a);
	aml_string(&a, "AB");
	CHECK_AML(&a, 0x0d, 'A', 'B', 0x00);
	aml_free(&a);

	/* Name (\_S5, Package (4) { 5, 5, 0, 0 }) */
	aml_init(&a);
	aml_name_decl(&a, "\\_S5");
	m = aml_package_begin(&a, 4);
	aml_int(&a, 5);
	aml_int(&a, 5);
	aml_int(&a, 0);
	aml_int(&a, 0);
	aml_end(&a, m);
	CHECK_AML(&a, 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05,
		  0x00, 0x00);
	aml_free(&a);

	/* Package (0) {} */
	aml_init(&a);
	m = aml_package_begin(&a, 0);
	aml_end(&a, m);
	CHECK_AML(&a, 0x12, 0x02, 0x00);
	aml_free(&a);

	const char *bad_ids[] = { "pnp0a03", "PNP0A0", "PNP0A0G", "PNP0a03", "P1P0A03", NULL };

	for (unsigned int i = 0; i < ARRAY_SIZE(bad_ids); i++) {
		aml_init(&a);
		aml_eisaid(&a, bad_ids[i]);
		CHECK_EQ(a.err, -EINVAL);
		aml_free(&a);
	}
	aml_init(&a);
	aml_string(&a, "tab\there");
	CHECK_EQ(a.err, -EINVAL);
	aml_free(&a);
}

KR_TEST(aml_objects)
{
	struct aml a;
	size_t s, d, m;

	/* Scope (\_SB) { Device (COM1) { Method (_STA, 0, Serialized) { Return (0x0F) } } } */
	aml_init(&a);
	s = aml_scope_begin(&a, "\\_SB");
	d = aml_device_begin(&a, "COM1");
	m = aml_method_begin(&a, "_STA", 0, true);
	aml_return(&a);
	aml_int(&a, 0x0f);
	aml_end(&a, m);
	aml_end(&a, d);
	aml_end(&a, s);
	CHECK_AML(&a, 0x10, 0x17, '\\', '_', 'S', 'B', '_',
		  0x5b, 0x82, 0x0f, 'C', 'O', 'M', '1',
		  0x14, 0x09, '_', 'S', 'T', 'A', 0x08, 0xa4, 0x0a, 0x0f);
	aml_free(&a);

	/* Method (M, 7) {} */
	aml_init(&a);
	m = aml_method_begin(&a, "M", 7, false);
	aml_end(&a, m);
	CHECK_AML(&a, 0x14, 0x06, 'M', '_', '_', '_', 0x07);
	aml_free(&a);

	aml_init(&a);
	aml_method_begin(&a, "M", 8, false);
	CHECK_EQ(a.err, -EINVAL);
	aml_free(&a);

	/* NumElements is one byte. */
	aml_init(&a);
	aml_package_begin(&a, 256);
	CHECK_EQ(a.err, -E2BIG);
	aml_free(&a);

	/* A mark past the end is a caller bug, not a crash. */
	aml_init(&a);
	aml_byte(&a, 0);
	aml_end(&a, 5);
	CHECK_EQ(a.err, -EINVAL);
	aml_free(&a);

	/* Errors stick: nothing more is appended, the first error stays. */
	aml_init(&a);
	aml_byte(&a, 0x10);
	aml_name(&a, "bad");
	aml_int(&a, 0x1234);
	aml_package_begin(&a, 300);
	CHECK_EQ(a.err, -EINVAL);
	CHECK_EQ(a.len, 1);
	aml_free(&a);
}

KR_TEST(aml_resources)
{
	struct aml a;
	size_t r;

	/* ResourceTemplate () { IO (Decode16, 0x3F8, 0x3F8, 1, 8) IRQNoFlags () {4} } */
	aml_init(&a);
	r = aml_res_begin(&a);
	aml_res_io(&a, 0x3f8, 8);
	aml_res_irq_noflags(&a, 4);
	aml_res_end(&a, r);
	CHECK_AML(&a, 0x11, 0x10, 0x0a, 0x0d,
		  0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
		  0x22, 0x10, 0x00,
		  0x79, 0x00);
	aml_free(&a);

	/* IRQ (Level, ActiveLow, Shared) {11} */
	aml_init(&a);
	aml_res_irq(&a, 11, AML_IRQ_ACTIVE_LOW | AML_IRQ_SHARED);
	CHECK_AML(&a, 0x23, 0x00, 0x08, 0x18);
	aml_free(&a);

	/* WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, 0, 0xFF, 0, 0x100) */
	aml_init(&a);
	aml_res_word_bus(&a, 0, 0xff);
	CHECK_AML(&a, 0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00,
		  0, 0, 0, 0, 0xff, 0, 0, 0, 0x00, 0x01);
	aml_free(&a);

	/* WordIO (ResourceProducer, ..., EntireRange, 0, 0x0D00, 0xFFFF, 0, 0xF300) */
	aml_init(&a);
	aml_res_word_io(&a, 0x0d00, 0xffff);
	CHECK_AML(&a, 0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03,
		  0, 0, 0x00, 0x0d, 0xff, 0xff, 0, 0, 0x00, 0xf3);
	aml_free(&a);

	/* DWordMemory (ResourceConsumer, ..., NonCacheable, ReadWrite, 0, 0xE0000000, ...) */
	aml_init(&a);
	aml_res_dword_mem(&a, false, 0xe0000000, 0xe00fffff);
	CHECK_AML(&a, 0x87, 0x17, 0x00, 0x00, 0x0d, 0x01,
		  0, 0, 0, 0, 0x00, 0x00, 0x00, 0xe0, 0xff, 0xff, 0x0f, 0xe0,
		  0, 0, 0, 0, 0x00, 0x00, 0x10, 0x00);
	aml_free(&a);

	/* QWordMemory (ResourceProducer, ..., 0, 1 TiB, 1 TiB + 64 GiB - 1, 0, 64 GiB) */
	aml_init(&a);
	aml_res_qword_mem(&a, true, 1ull << 40, (1ull << 40) + (1ull << 36) - 1);
	CHECK_AML(&a, 0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x01,
		  0, 0, 0, 0, 0, 0, 0, 0,
		  0, 0, 0, 0, 0, 0x01, 0, 0,
		  0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0, 0,
		  0, 0, 0, 0, 0, 0, 0, 0,
		  0, 0, 0, 0, 0x10, 0, 0, 0);
	aml_free(&a);

	/* Ranges the descriptor cannot hold. */
	aml_init(&a);
	aml_res_dword_mem(&a, true, 0x2000, 0x1fff);
	CHECK_EQ(a.err, -EINVAL);
	aml_free(&a);
	aml_init(&a);
	aml_res_dword_mem(&a, true, 0, 0xffffffff);	/* length 2^32 */
	CHECK_EQ(a.err, -EINVAL);
	aml_free(&a);
	aml_init(&a);
	aml_res_qword_mem(&a, true, 0, ~0ull);
	CHECK_EQ(a.err, -EINVAL);
	aml_free(&a);
	aml_init(&a);
	aml_res_irq_noflags(&a, 16);
	CHECK_EQ(a.err, -EINVAL);
	aml_free(&a);
	aml_init(&a);
	aml_res_irq(&a, 99, 0);
	CHECK_EQ(a.err, -EINVAL);
	aml_free(&a);
}

/* A ResourceTemplate past 63 bytes takes a two-byte PkgLength and still counts right. */
KR_TEST(aml_resources_long)
{
	struct aml a;
	size_t r;

	aml_init(&a);
	r = aml_res_begin(&a);
	for (int i = 0; i < 8; i++)
		aml_res_io(&a, 0x100 + i, 1);
	aml_res_end(&a, r);
	/* 8 * 8 + 2 = 66 bytes, BufferSize 0x0A 0x42, PkgLength 2 + 2 + 66 = 70. */
	CHECK_EQ(a.err, 0);
	CHECK_EQ(a.len, 1 + 2 + 2 + 66);
	CHECK(a.len > 4 && a.buf[0] == 0x11 && a.buf[1] == (0x40 | (70 & 0xf)) &&
	      a.buf[2] == 70 >> 4 && a.buf[3] == 0x0a && a.buf[4] == 66);
	CHECK(a.len == 71 && a.buf[69] == 0x79 && a.buf[70] == 0x00);
	aml_free(&a);
}
