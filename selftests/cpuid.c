// SPDX-License-Identifier: GPL-2.0
/*
 * cpuid: what a guest's CPUID returns (lib/server.S executes it).
 *
 * Default table: CPUID.1:ECX.hypervisor[31] set, VMX (1:ECX[5]) and SVM
 * (8000_0001:ECX[2]) clear, the vendor string of KHV_GET_SUPPORTED_CPUID.
 * After KHV_SET_CPUID: custom leaves come back as set (ECX ignored unless
 * SIGNIFICANT_INDEX), a leaf or index not in the table returns zeros, and
 * KHV_GET_CPUID returns the table.
 */
#include "khvt_harness.h"

#define CPUID_1_ECX_VMX		(1u << 5)
#define CPUID_1_ECX_HYPERVISOR	(1u << 31)
#define CPUID_81_ECX_SVM	(1u << 2)

/* Custom leaves live here; the supported table's entries in it are dropped. */
#define LEAF_BASE		0x40000f00u

static const struct khv_cpuid_entry custom[] = {
	{ .function = LEAF_BASE, .eax = 0x11111111, .ebx = 0x22222222,
	  .ecx = 0x33333333, .edx = 0x44444444 },
	{ .function = LEAF_BASE + 1, .index = 0, .flags = KHV_CPUID_FLAG_SIGNIFICANT_INDEX,
	  .eax = 0xa0, .ebx = 0xb0, .ecx = 0xc0, .edx = 0xd0 },
	{ .function = LEAF_BASE + 1, .index = 1, .flags = KHV_CPUID_FLAG_SIGNIFICANT_INDEX,
	  .eax = 0xa1, .ebx = 0xb1, .ecx = 0xc1, .edx = 0xd1 },
};

static void expect_regs(KHVT_MD, const char *what, const uint32_t got[4],
			uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	if (got[0] != a || got[1] != b || got[2] != c || got[3] != d)
		KHVT_FAIL("%s: guest got %#x %#x %#x %#x, expected %#x %#x %#x %#x", what,
			  got[0], got[1], got[2], got[3], a, b, c, d);
}

static const struct khv_cpuid_entry *find(const struct khv_cpuid_entry *e, uint32_t n,
					  uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < n; i++)
		if (e[i].function == fn &&
		    (!(e[i].flags & KHV_CPUID_FLAG_SIGNIFICANT_INDEX) || e[i].index == idx))
			return &e[i];
	return NULL;
}

TEST(default_cpuid)
{
	struct khv_cpuid_entry *sup = calloc(KHV_MAX_CPUID_ENTRIES, sizeof(*sup));
	const struct khv_cpuid_entry *leaf0;
	struct khvt_vm t;
	uint32_t r[4], n;

	ASSERT_NE(NULL, sup);
	VM_WITH_PAYLOAD(&t, KHVT_LONG, server64);

	srv_cpuid(&t, 1, 0, r);
	EXPECT_VAL("CPUID.1:ECX.hypervisor", CPUID_1_ECX_HYPERVISOR, r[2] & CPUID_1_ECX_HYPERVISOR);
	EXPECT_VAL("CPUID.1:ECX.VMX", 0, r[2] & CPUID_1_ECX_VMX);
	srv_cpuid(&t, 0x80000001, 0, r);
	EXPECT_VAL("CPUID.80000001:ECX.SVM", 0, r[2] & CPUID_81_ECX_SVM);

	KHV_OK(khv_get_supported_cpuid(&t.sys, sup, KHV_MAX_CPUID_ENTRIES, &n));
	ASSERT_GT(n, 0u);
	leaf0 = find(sup, n, 0, 0);
	ASSERT_NE(NULL, leaf0) TH_LOG("KHV_GET_SUPPORTED_CPUID has no leaf 0");
	srv_cpuid(&t, 0, 0, r);
	EXPECT_VAL("CPUID.0:EBX (vendor)", leaf0->ebx, r[1]);
	EXPECT_VAL("CPUID.0:EDX (vendor)", leaf0->edx, r[3]);
	EXPECT_VAL("CPUID.0:ECX (vendor)", leaf0->ecx, r[2]);
	srv_halt(&t);
	free(sup);
	khvt_destroy(&t);
}

TEST(set_cpuid)
{
	struct khv_cpuid_entry *tab = calloc(KHV_MAX_CPUID_ENTRIES, sizeof(*tab));
	struct khv_cpuid_entry *back = calloc(KHV_MAX_CPUID_ENTRIES, sizeof(*back));
	const struct khv_cpuid_entry *e;
	uint32_t n, m, nback, i, r[4];
	struct khvt_vm t;

	ASSERT_NE(NULL, tab);
	ASSERT_NE(NULL, back);
	VM_WITH_PAYLOAD(&t, KHVT_LONG, server64);

	/* The supported table (so the guest keeps long mode etc.) plus ours. */
	KHV_OK(khv_get_supported_cpuid(&t.sys, tab, KHV_MAX_CPUID_ENTRIES, &n));
	for (i = 0, m = 0; i < n; i++)
		if ((tab[i].function & ~0xffu) != LEAF_BASE)
			tab[m++] = tab[i];
	ASSERT_LE(m + ARRAY_SIZE(custom), (size_t)KHV_MAX_CPUID_ENTRIES);
	memcpy(tab + m, custom, sizeof(custom));
	m += ARRAY_SIZE(custom);
	KHV_OK(khv_vcpu_set_cpuid(&t.vcpu, tab, m));

	srv_cpuid(&t, LEAF_BASE, 0, r);
	expect_regs(_metadata, "custom leaf", r, 0x11111111, 0x22222222, 0x33333333, 0x44444444);
	srv_cpuid(&t, LEAF_BASE, 5, r);
	expect_regs(_metadata, "custom leaf, ECX ignored", r,
		    0x11111111, 0x22222222, 0x33333333, 0x44444444);
	srv_cpuid(&t, LEAF_BASE + 1, 0, r);
	expect_regs(_metadata, "indexed leaf, ECX=0", r, 0xa0, 0xb0, 0xc0, 0xd0);
	srv_cpuid(&t, LEAF_BASE + 1, 1, r);
	expect_regs(_metadata, "indexed leaf, ECX=1", r, 0xa1, 0xb1, 0xc1, 0xd1);
	srv_cpuid(&t, LEAF_BASE + 1, 7, r);
	expect_regs(_metadata, "indexed leaf, index not in the table", r, 0, 0, 0, 0);
	srv_cpuid(&t, LEAF_BASE + 2, 0, r);
	expect_regs(_metadata, "leaf not in the table", r, 0, 0, 0, 0);
	srv_halt(&t);

	KHV_OK(khv_vcpu_get_cpuid(&t.vcpu, back, KHV_MAX_CPUID_ENTRIES, &nback));
	EXPECT_EQ(m, nback) TH_LOG("KHV_GET_CPUID: %u entries, %u were set", nback, m);
	for (i = 0; i < ARRAY_SIZE(custom); i++) {
		e = find(back, nback, custom[i].function, custom[i].index);
		ASSERT_NE(NULL, e) TH_LOG("KHV_GET_CPUID lacks leaf %#x.%u",
					  custom[i].function, custom[i].index);
		EXPECT_VAL("KHV_GET_CPUID eax", custom[i].eax, e->eax);
		EXPECT_VAL("KHV_GET_CPUID ebx", custom[i].ebx, e->ebx);
		EXPECT_VAL("KHV_GET_CPUID ecx", custom[i].ecx, e->ecx);
		EXPECT_VAL("KHV_GET_CPUID edx", custom[i].edx, e->edx);
		EXPECT_VAL("KHV_GET_CPUID flags", custom[i].flags, e->flags);
	}
	free(tab);
	free(back);
	khvt_destroy(&t);
}

TEST_HARNESS_MAIN
