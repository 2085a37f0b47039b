// SPDX-License-Identifier: GPL-2.0
/*
 * largepages: guest RAM backed by transparent huge pages gets 2 MiB
 * second-level leaves; RAM the host keeps in 4 KiB pages gets 4 KiB leaves.
 *
 * Two 4 MiB slots, host memory 2 MiB aligned, at 2 MiB-aligned gpas: one
 * madvise(MADV_HUGEPAGE), one madvise(MADV_NOHUGEPAGE), both touched by the
 * host first (/proc/self/smaps AnonHugePages: 4 MiB and 0 for them).  A
 * long-mode guest (largepages_guest.S) writes one byte into each of the
 * 1024 pages of a slot.  The hardware nested-page-fault counter of
 * KHV_GET_EXIT_STATS (KHV_STAT_HW, name containing "npf" or "ept_violation") counted over
 * that loop must stay <= NPF_HUGE_MAX for the THP slot (two 2 MiB leaves,
 * plus the guest's own page-table pages) and reach >= 1024 for the other
 * (one fault per 4 KiB leaf).  Then both slots are deleted and the host
 * finds exactly the guest's bytes, each at its page and offset.
 *
 * Skipped, with the reason, when THP is off
 * (/sys/kernel/mm/transparent_hugepage/enabled "[never]" or missing) or the
 * kernel did not back the THP slot with huge pages.
 */
#include <stdio.h>
#include <sys/mman.h>

#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(lp_touch);
extern const uint8_t lp_done[];

#define SZ_2M		0x200000ul
#define LP_SIZE		(2 * SZ_2M)
#define LP_PAGES	(LP_SIZE / 4096)
#define THP_GPA		0x40000000ull		/* 1 GiB */
#define SMALL_GPA	0x80000000ull		/* 2 GiB */
#define THP_SLOT	1
#define SMALL_SLOT	2
#define NPF_HUGE_MAX	8
#define MAX_STATS	(KHV_MAX_EXIT_STATS + KHV_EXIT_MAX + KHV_KSTAT_MAX)
#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"

/* What largepages_guest.S writes into page i, and where in the page. */
static uint8_t lp_byte(unsigned long i)
{
	return (uint8_t)(((i + (i >> 9) * 0x40) & 0x7f) | 0x80);
}

static unsigned long lp_offset(unsigned long i)
{
	return i * 4096 + (i & 511) * 8;
}

/* The selected mode of THP_ENABLED ("always", "madvise", "never"), or "". */
static const char *thp_mode(char *buf, size_t len)
{
	char *l, *r;
	FILE *f = fopen(THP_ENABLED, "r");

	buf[0] = 0;
	if (!f)
		return buf;
	if (!fgets(buf, (int)len, f))
		buf[0] = 0;
	fclose(f);
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!l || !r)
		return "";
	*r = 0;
	return l + 1;
}

/*
 * Count of the second-level fault exits: "svm_npf" on AMD,
 * "vmx_ept_violation" on Intel; 0 when not listed.
 */
static uint64_t npf_count(KHVT_MD, struct khvt_vm *t)
{
	struct khv_exit_stat s[MAX_STATS];
	uint64_t n = 0;
	uint32_t i, nent;

	KHV_OK(khv_vcpu_get_exit_stats(&t->vcpu, s, MAX_STATS, &nent));
	for (i = 0; i < nent; i++)
		if (s[i].kind == KHV_STAT_HW && (strstr(s[i].name, "npf") || strstr(s[i].name, "ept_violation")))
			n += s[i].count;
	return n;
}

/* Guest: one byte into each page of [gpa, gpa + LP_SIZE); the NPFs it took. */
static uint64_t touch(KHVT_MD, struct khvt_vm *t, uint64_t gpa, uint32_t pages)
{
	struct khv_regs r;
	uint64_t before = npf_count(_metadata, t);

	KHV_OK(khv_vcpu_get_regs(&t->vcpu, &r));
	r.rdi = gpa;
	r.rsi = pages;
	KHV_OK(khv_vcpu_set_regs(&t->vcpu, &r));
	expect_hlt(t, PAYLOAD_GPA(lp_touch, lp_done));
	return npf_count(_metadata, t) - before;
}

/* After the slot is gone: the guest's bytes, and nothing else, are in mem. */
static void check_content(KHVT_MD, const uint8_t *mem, const char *what)
{
	unsigned long i, nonzero = 0, bad = 0;

	for (i = 0; i < LP_SIZE; i++)
		nonzero += mem[i] != 0;
	for (i = 0; i < LP_PAGES; i++) {
		if (mem[lp_offset(i)] == lp_byte(i))
			continue;
		if (bad++ < 4)
			TH_LOG("%s: page %lu byte %#lx is %#x, the guest wrote %#x", what, i,
			       lp_offset(i) % 4096, mem[lp_offset(i)], lp_byte(i));
	}
	EXPECT_EQ(0ul, bad) TH_LOG("%s: %lu of %lu guest bytes missing", what, bad,
				  (unsigned long)LP_PAGES);
	EXPECT_EQ((unsigned long)LP_PAGES, nonzero)
		TH_LOG("%s: %lu non-zero bytes, the guest wrote %lu", what, nonzero,
		       (unsigned long)LP_PAGES);
}

TEST(thp_2m_leaves)
{
	uint8_t *huge = NULL, *small = NULL;
	uint64_t npf_huge, npf_small;
	struct khvt_vm t;
	const char *mode;
	char buf[128];
	long kib;

	mode = thp_mode(buf, sizeof(buf));
	if (!*mode || !strcmp(mode, "never"))
		SKIP(return, "transparent huge pages off (%s: \"%s\")", THP_ENABLED, mode);
	VM_WITH_PAYLOAD(&t, KHVT_LONG, lp_touch);
	REQUIRE_CAP(&t, KHV_CAP_EXIT_STATS);

	huge = khvt_alloc_2m_aligned(LP_SIZE);
	small = khvt_alloc_2m_aligned(LP_SIZE);
	ASSERT_NE(NULL, huge);
	ASSERT_NE(NULL, small);
	ASSERT_EQ(0, madvise(huge, LP_SIZE, MADV_HUGEPAGE)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, madvise(small, LP_SIZE, MADV_NOHUGEPAGE)) TH_LOG("%s", strerror(errno));
	memset(huge, 0, LP_SIZE);
	memset(small, 0, LP_SIZE);
	kib = khvt_anon_huge_kib(huge);
	if (kib < (long)(LP_SIZE / 1024)) {
		khvt_destroy(&t);
		SKIP(return, "THP (%s) did not back the MADV_HUGEPAGE memory: AnonHugePages %ld kB",
		     mode, kib);
	}
	kib = khvt_anon_huge_kib(small);
	ASSERT_EQ(0, kib) TH_LOG("MADV_NOHUGEPAGE memory has AnonHugePages %ld kB", kib);

	KHV_OK(khv_vm_set_memory(&t.vm, THP_SLOT, 0, THP_GPA, LP_SIZE, huge));
	KHV_OK(khv_vm_set_memory(&t.vm, SMALL_SLOT, 0, SMALL_GPA, LP_SIZE, small));

	/* Slot 0's pages (code, page tables) fault in first, outside the counts. */
	touch(_metadata, &t, 0, 0);
	npf_huge = touch(_metadata, &t, THP_GPA, LP_PAGES);
	npf_small = touch(_metadata, &t, SMALL_GPA, LP_PAGES);
	TH_LOG("THP %s: nested page faults for %lu pages: %llu THP-backed, %llu 4 KiB-backed",
	       mode, (unsigned long)LP_PAGES, (unsigned long long)npf_huge,
	       (unsigned long long)npf_small);
	EXPECT_LE(npf_huge, (uint64_t)NPF_HUGE_MAX)
		TH_LOG("THP-backed slot: %llu nested page faults, not 2 MiB leaves",
		       (unsigned long long)npf_huge);
	EXPECT_GE(npf_small, (uint64_t)LP_PAGES)
		TH_LOG("4 KiB-backed slot: %llu nested page faults for %lu pages",
		       (unsigned long long)npf_small, (unsigned long)LP_PAGES);
	EXPECT_GE(npf_huge, 1ull) TH_LOG("the counter did not count the THP slot's faults");

	KHV_OK(khv_vm_set_memory(&t.vm, THP_SLOT, 0, THP_GPA, 0, huge));
	KHV_OK(khv_vm_set_memory(&t.vm, SMALL_SLOT, 0, SMALL_GPA, 0, small));
	check_content(_metadata, huge, "THP-backed slot");
	check_content(_metadata, small, "4 KiB-backed slot");
	khvt_destroy(&t);
	munmap(huge, LP_SIZE);
	munmap(small, LP_SIZE);
}

TEST_HARNESS_MAIN
