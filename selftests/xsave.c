// SPDX-License-Identifier: GPL-2.0
/*
 * xsave: KHV_SET_XSAVE sets XMM registers the guest then sees, and
 * KHV_GET_XSAVE returns the XMM registers the guest wrote (XSAVE standard
 * format: XMMn at byte 160 + 16 n, MXCSR at 24, XSTATE_BV at 512).
 */
#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(xsave_long);
extern const uint8_t xsave_done[];

#define XSAVE_MXCSR		24
#define XSAVE_XMM(n)		(160 + 16 * (n))
#define XSAVE_XSTATE_BV		512
#define XFEATURE_SSE		(1ull << 1)

static void pattern(uint8_t *p, uint8_t seed)
{
	for (int i = 0; i < 16; i++)
		p[i] = (uint8_t)(seed + i * 17);
}

static void expect_xmm(KHVT_MD, const struct khv_xsave *x, int n, const uint8_t *want)
{
	const uint8_t *got = (const uint8_t *)x->region + XSAVE_XMM(n);

	if (memcmp(got, want, 16)) {
		uint64_t g[2], w[2];

		memcpy(g, got, 16);
		memcpy(w, want, 16);
		KHVT_FAIL("XMM%d in KHV_GET_XSAVE: %016llx%016llx, expected %016llx%016llx", n,
			  (unsigned long long)g[1], (unsigned long long)g[0],
			  (unsigned long long)w[1], (unsigned long long)w[0]);
	}
}

TEST(xmm_in_and_out)
{
	uint8_t p0[16], p1[16], p7[16], ones[16];
	struct khv_xsave *x = calloc(1, sizeof(*x));
	uint8_t *b = (uint8_t *)x->region;
	uint64_t lo, hi, w[2], bv;
	uint32_t mxcsr = 0x1f80;
	struct khvt_vm t;

	ASSERT_NE(NULL, x);
	VM_WITH_PAYLOAD(&t, KHVT_LONG, xsave_long);
	REQUIRE_CAP(&t, KHV_CAP_XSAVE);

	pattern(p0, 0x10);
	pattern(p1, 0x20);
	pattern(p7, 0x70);
	memset(ones, 0xff, sizeof(ones));
	memcpy(khvt_gpa(&t, GUEST_DATA + 16), p1, 16);
	memcpy(khvt_gpa(&t, GUEST_DATA + 32), ones, 16);

	KHV_OK(khv_vcpu_get_xsave(&t.vcpu, x));
	memcpy(b + XSAVE_XMM(0), p0, 16);
	memcpy(b + XSAVE_XMM(7), p7, 16);
	memcpy(b + XSAVE_MXCSR, &mxcsr, 4);
	memcpy(&bv, b + XSAVE_XSTATE_BV, 8);
	bv |= XFEATURE_SSE;
	memcpy(b + XSAVE_XSTATE_BV, &bv, 8);
	KHV_OK(khv_vcpu_set_xsave(&t.vcpu, x));

	memcpy(w, p0, 16);
	lo = expect_out64(&t, PORT_ECHO);
	hi = expect_out64(&t, PORT_ECHO);
	EXPECT_VAL("XMM0 bits 0..63 in the guest", w[0], lo);
	EXPECT_VAL("XMM0 bits 64..127 in the guest", w[1], hi);
	expect_hlt(&t, PAYLOAD_GPA(xsave_long, xsave_done));
	EXPECT_EQ(0, memcmp(khvt_gpa(&t, GUEST_DATA), p0, 16)) TH_LOG("MOVDQU store of XMM0");

	memset(x, 0, sizeof(*x));
	KHV_OK(khv_vcpu_get_xsave(&t.vcpu, x));
	memcpy(&bv, b + XSAVE_XSTATE_BV, 8);
	EXPECT_VAL("XSTATE_BV.SSE after the guest used XMM", XFEATURE_SSE, bv & XFEATURE_SSE);
	expect_xmm(_metadata, x, 0, p0);
	expect_xmm(_metadata, x, 1, p1);
	expect_xmm(_metadata, x, 2, p7);
	expect_xmm(_metadata, x, 3, ones);
	expect_xmm(_metadata, x, 7, p7);
	free(x);
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
