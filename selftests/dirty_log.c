// SPDX-License-Identifier: GPL-2.0
/*
 * dirty_log: KHV_MEM_LOG_DIRTY, KHV_GET_DIRTY_LOG and KHV_CLEAR_DIRTY_LOG.
 *
 * Each test runs in the three modes (variants wp, cpu and pml): write
 * protection, the CPU's dirty flags, and the flags with VT-x's
 * page-modification log (module parameters dirty_bits and pml; a mode the
 * CPU lacks is skipped).
 *
 *  exact_pages      the log holds exactly the pages the guest wrote (reads
 *                   and untouched pages stay clear), a get clears, the
 *                   guest's data is in the pages; a slot of 1030 pages, so
 *                   the last bitmap word is partial.  Pages written again
 *                   after a get fault again under write protection only.
 *  many_pages       1030 pages written again in one guest run, without a
 *                   fault: all logged; with PML that fills the CPU's
 *                   buffer twice (PML-full exits, pml_logged counts them).
 *  keep_clear_range KHV_DIRTY_LOG_KEEP leaves the bits, CLEAR takes chosen
 *                   ones out, a get of a range leaves the rest.
 *  kernel_write     a byte khv writes for the guest (INSB completed after
 *                   the IN exit) is logged.  (It found QEMU's TCG leaving
 *                   the SVM I/O exit's address-size bits clear, which khv
 *                   took for 16-bit addressing: the byte went to 0x5011.)
 *  toggle_move      logging switched off (ENOENT) and on again in place, a
 *                   logging slot moved (its bits go along), deleted and
 *                   added again without logging.
 *  errors           every refused argument, with its errno; a get into an
 *                   unwritable bitmap (EFAULT) loses no bit; a slot too
 *                   large for a bitmap is ENOMEM.
 *  notifier         MADV_DONTNEED of logged pages (the MMU notifier zaps
 *                   them): the guest's next writes are logged, its data
 *                   reads back.
 *  thp_split        a THP-backed slot mapped with 2 MiB leaves starts
 *                   logging: one write per 2 MiB splits each leaf
 *                   (npf_dirty counts them), the next write in the same
 *                   2 MiB is a 4 KiB upgrade; logging off brings 2 MiB
 *                   leaves back.  Skipped without THP.
 *  no_lost_write    what a migration relies on: while a vCPU thread stores
 *                   pseudo-random qwords all over a slot, the main thread
 *                   keeps getting the log and copying the pages it names
 *                   into a shadow (for 1 s or 100 gets, and at least 20000
 *                   stores, then it raises the guest's stop flag; 2 s or
 *                   200 gets before the test ran in both modes, which
 *                   doubled its cost in lane vmx); after the guest stops, one last get
 *                   and copy make the shadow equal the slot, byte for byte.
 *                   With 4 KiB pages, and with THP (splits racing the
 *                   stores).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "khvt_harness.h"

KHVT_DECLARE_PAYLOAD(dl_guest);
extern const uint8_t dl_list[], dl_list_done[], dl_read[], dl_read_done[];
extern const uint8_t dl_random[], dl_random_done[], dl_ins[], dl_ins_done[];

#define SZ_2M		0x200000ul
#define SLOT		1
#define SLOT_GPA	0x40000000ull	/* 1 GiB */
#define SLOT_GPA2	0x80000000ull	/* where toggle_move moves it */
#define ODD_PAGES	1030		/* 16 words, the last one with 6 bits */
#define RANDOM_PAGES	1024		/* 4 MiB: two 2 MiB leaves with THP */
#define LIST_GPA	GUEST_DATA	/* dl_list's page numbers */
#define STOP_GPA	(GUEST_DATA + GUEST_DATA_SIZE - 8)	/* dl_random's stop flag */
#define MIN_STORES	20000	/* before no_lost_write stops the guest */
#define MAX_LIST	(GUEST_DATA_SIZE / 4)
#define WORDS(n)	(((n) + 63) / 64)
#define MAX_STATS	(KHV_MAX_EXIT_STATS + KHV_EXIT_MAX + KHV_KSTAT_MAX)
#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"

#define G(sym)		PAYLOAD_GPA(dl_guest, sym)

/* Zeroed anonymous memory at a 2 MiB-aligned address, THP wanted or not, or NULL. */
static uint8_t *alloc_aligned(size_t size, bool huge)
{
	uint8_t *p = khvt_alloc_2m_aligned(size);

	if (p && madvise(p, size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE)) {
		munmap(p, size);
		return NULL;
	}
	if (p)
		memset(p, 0, size);
	return p;
}

/* Run the guest from entry (registers as given) to the HLT before done. */
static void run_op(KHVT_MD, struct khvt_vm *t, const uint8_t *entry, const uint8_t *done,
		   uint64_t rdi, uint64_t rsi, uint64_t rdx, uint64_t rcx)
{
	struct khv_regs r;

	KHV_OK(khv_vcpu_get_regs(&t->vcpu, &r));
	r.rip = G(entry);
	r.rdi = rdi;
	r.rsi = rsi;
	r.rdx = rdx;
	r.rcx = rcx;
	r.r9 = STOP_GPA;
	KHV_OK(khv_vcpu_set_regs(&t->vcpu, &r));
	expect_hlt(t, G(done));
}

/* The guest writes the listed pages of the slot at gpa, with tag. */
static void write_pages(KHVT_MD, struct khvt_vm *t, uint64_t gpa, const uint32_t *pages,
			unsigned int n, uint32_t tag)
{
	ASSERT_LE(n, (unsigned int)MAX_LIST);
	memcpy(t->mem + LIST_GPA, pages, n * sizeof(*pages));
	run_op(_metadata, t, dl_list, dl_list_done, gpa, n, LIST_GPA, tag);
}

static bool test_bit64(const uint64_t *bm, uint64_t n)
{
	return bm[n / 64] >> (n % 64) & 1;
}

/* The bitmap has exactly the n pages listed (and nothing past npages). */
static void expect_bits(KHVT_MD, const uint64_t *bm, uint64_t npages, const uint32_t *pages,
			unsigned int n, const char *what)
{
	uint64_t *want = calloc(WORDS(npages), 8);
	unsigned int i, bad = 0;

	ASSERT_NE(NULL, want);
	for (i = 0; i < n; i++)
		want[pages[i] / 64] |= 1ull << (pages[i] % 64);
	for (i = 0; i < WORDS(npages); i++) {
		if (bm[i] == want[i])
			continue;
		if (bad++ < 4)
			TH_LOG("%s: word %u is %#llx, expected %#llx", what, i,
			       (unsigned long long)bm[i], (unsigned long long)want[i]);
	}
	free(want);
	EXPECT_EQ(0u, bad) TH_LOG("%s: %u bitmap words wrong", what, bad);
}

static int get_log(struct khvt_vm *t, uint64_t first, uint64_t n, uint64_t *bm, uint32_t flags)
{
	memset(bm, 0xa5, WORDS(n) * 8);	/* every word must be written */
	return khv_vm_get_dirty_log(&t->vm, SLOT, flags, first, n, bm);
}

/* A VM with slot SLOT of npages at SLOT_GPA over mem, logging or not. */
static void setup(KHVT_MD, struct khvt_vm *t, uint8_t *mem, uint64_t npages, bool log)
{
	KHV_OK(khv_vm_set_memory(&t->vm, SLOT, log ? KHV_MEM_LOG_DIRTY : 0, SLOT_GPA,
				 npages * 4096, mem));
}

/* Slot SLOT of ODD_PAGES pages over fresh memory, logging. */
static uint8_t *odd_slot(KHVT_MD, struct khvt_vm *t)
{
	uint8_t *mem = alloc_aligned(ODD_PAGES * 4096ul, false);

	ASSERT_NE(NULL, mem);
	setup(_metadata, t, mem, ODD_PAGES, true);
	return mem;
}

#define VM_SETUP(t) do {						\
	VM_WITH_PAYLOAD((t), KHVT_LONG, dl_guest);			\
	REQUIRE_CAP((t), KHV_CAP_DIRTY_LOG);				\
} while (0)

/* What dl_list stored in page n with tag, read by the host. */
static uint64_t stored(const uint8_t *mem, uint32_t n)
{
	uint64_t v;

	memcpy(&v, mem + (uint64_t)n * 4096 + ((n * 8) & 0xff8), 8);
	return v;
}

/*
 * Every test runs in each of the dirty log's modes (module parameters
 * dirty_bits and pml, read when a VM is created): write protection, the
 * CPU's dirty flags, which the variant skips on a CPU without them (a VT-x
 * CPU without EPT accessed/dirty flags), and the flags with the CPU's log
 * of the pages it dirtied (skipped without VT-x PML).  The parameters are
 * put back after.
 */
#define DIRTY_BITS_PARAM	"/sys/module/khv/parameters/dirty_bits"
#define PML_PARAM		"/sys/module/khv/parameters/pml"

FIXTURE(dl) {
	char prev[8];		/* dirty_bits as it was: "Y" or "N" */
	char prev_pml[8];
};

FIXTURE_VARIANT(dl) {
	int mode;		/* KHV_DIRTY_LOG_BY_* */
};

FIXTURE_VARIANT_ADD(dl, wp) {
	.mode = KHV_DIRTY_LOG_BY_WP,
};

FIXTURE_VARIANT_ADD(dl, cpu) {
	.mode = KHV_DIRTY_LOG_BY_CPU,
};

FIXTURE_VARIANT_ADD(dl, pml) {
	.mode = KHV_DIRTY_LOG_BY_PML,
};

/* The variant's name for KHV_DIRTY_LOG_MODES. */
static const char *mode_name(int mode)
{
	return mode == KHV_DIRTY_LOG_BY_WP ? "wp" : mode == KHV_DIRTY_LOG_BY_CPU ? "cpu" : "pml";
}

/*
 * KHV_DIRTY_LOG_MODES (comma list; guest-init's khvdirtylog=): a lane
 * that runs only some modes, e.g. the Bochs lane whose CPU model has PML.
 */
static bool mode_chosen(int mode)
{
	const char *l = getenv("KHV_DIRTY_LOG_MODES"), *name = mode_name(mode);
	size_t n = strlen(name);

	if (!l || !*l)
		return true;
	for (; *l; l += strcspn(l, ","), l += *l == ',')
		if (!strncmp(l, name, n) && (l[n] == ',' || !l[n]))
			return true;
	return false;
}

FIXTURE_SETUP(dl)
{
	bool flags = variant->mode != KHV_DIRTY_LOG_BY_WP;
	struct khv_sys sys;
	int got;

	self->prev[0] = 0;
	self->prev_pml[0] = 0;
	if (!mode_chosen(variant->mode))
		SKIP(return, "lane: mode %s not in KHV_DIRTY_LOG_MODES", mode_name(variant->mode));
	if (!khvt_read_line(DIRTY_BITS_PARAM, self->prev, sizeof(self->prev)) ||
	    !khvt_write_line(DIRTY_BITS_PARAM, flags ? "Y" : "N")) {
		self->prev[0] = 0;
		SKIP(return, "cannot set %s", DIRTY_BITS_PARAM);
	}
	if (!khvt_read_line(PML_PARAM, self->prev_pml, sizeof(self->prev_pml)) ||
	    !khvt_write_line(PML_PARAM, variant->mode == KHV_DIRTY_LOG_BY_PML ? "Y" : "N")) {
		self->prev_pml[0] = 0;
		SKIP(return, "cannot set %s", PML_PARAM);
	}
	if (khv_open(&sys, NULL))
		SKIP(return, "no /dev/khv");
	got = khv_check_extension(&sys, KHV_CAP_DIRTY_LOG);
	khv_close(&sys);
	/* What the CPU lacks falls back to the mode below: flags, then write protection. */
	if (got < variant->mode && variant->mode == KHV_DIRTY_LOG_BY_CPU)
		SKIP(return, "this CPU sets no dirty flags khv can use");
	if (got < variant->mode && variant->mode == KHV_DIRTY_LOG_BY_PML)
		SKIP(return, "this CPU has no page-modification logging (VT-x PML)");
	ASSERT_EQ(variant->mode, got);
}

FIXTURE_TEARDOWN(dl)
{
	if (self->prev[0])
		khvt_write_line(DIRTY_BITS_PARAM, self->prev);
	if (self->prev_pml[0])
		khvt_write_line(PML_PARAM, self->prev_pml);
}

static uint64_t npf_count(KHVT_MD, struct khvt_vm *t);
static uint64_t stat(KHVT_MD, struct khvt_vm *t, uint32_t kind, const char *name);

TEST_F(dl, exact_pages)
{
	static const uint32_t a[] = { 0, 1, 63, 64, 65, 500, 1023, 1024, 1029 };
	static const uint32_t b[] = { 2, 128, 1028 };
	uint64_t bm[WORDS(ODD_PAGES)], npf;
	struct khvt_vm t;
	uint8_t *mem;
	unsigned int i;

	VM_SETUP(&t);
	mem = odd_slot(_metadata, &t);

	/* Nothing written yet. */
	EXPECT_EQ(0, get_log(&t, 0, ODD_PAGES, bm, 0));
	expect_bits(_metadata, bm, ODD_PAGES, NULL, 0, "fresh slot");

	write_pages(_metadata, &t, SLOT_GPA, a, ARRAY_SIZE(a), 1);
	EXPECT_EQ((int)ARRAY_SIZE(a), get_log(&t, 0, ODD_PAGES, bm, 0));
	expect_bits(_metadata, bm, ODD_PAGES, a, ARRAY_SIZE(a), "first writes");
	for (i = 0; i < ARRAY_SIZE(a); i++)
		EXPECT_EQ((1ull << 32) | a[i], stored(mem, a[i])) TH_LOG("page %u", a[i]);

	/* A get cleared them; reads log nothing. */
	EXPECT_EQ(0, get_log(&t, 0, ODD_PAGES, bm, 0));
	run_op(_metadata, &t, dl_read, dl_read_done, SLOT_GPA, ODD_PAGES, 0, 0);
	EXPECT_EQ(0, get_log(&t, 0, ODD_PAGES, bm, 0));
	expect_bits(_metadata, bm, ODD_PAGES, NULL, 0, "after reads");

	/*
	 * Pages written before are write-protected again (or their leaves
	 * cleaned): logged again.  The pages only read fault at their first
	 * write in both modes (mapped read-only); the pages written before
	 * fault again only under write protection: the CPU's flags take
	 * those writes without an exit.
	 */
	npf = npf_count(_metadata, &t);
	write_pages(_metadata, &t, SLOT_GPA, b, ARRAY_SIZE(b), 2);
	write_pages(_metadata, &t, SLOT_GPA, a, 3, 3);
	EXPECT_EQ(variant->mode == KHV_DIRTY_LOG_BY_WP ? 6ull : 3ull, npf_count(_metadata, &t) - npf);
	EXPECT_EQ((int)ARRAY_SIZE(b) + 3, get_log(&t, 0, ODD_PAGES, bm, 0));
	for (i = 0; i < 3; i++)
		EXPECT_TRUE(test_bit64(bm, a[i])) TH_LOG("page %u written again", a[i]);
	for (i = 0; i < ARRAY_SIZE(b); i++)
		EXPECT_TRUE(test_bit64(bm, b[i])) TH_LOG("page %u", b[i]);
	EXPECT_EQ((3ull << 32) | a[0], stored(mem, a[0]));
	EXPECT_EQ((2ull << 32) | b[2], stored(mem, b[2]));
	khvt_destroy(&t);
	munmap(mem, ODD_PAGES * 4096ul);
}

/* A page list of 0..n-1. */
static void all_pages(uint32_t *pages, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		pages[i] = i;
}

TEST_F(dl, many_pages)
{
	static uint32_t pages[ODD_PAGES];
	uint64_t bm[WORDS(ODD_PAGES)], npf, full, logged;
	struct khvt_vm t;
	uint8_t *mem;
	unsigned int i;

	VM_SETUP(&t);
	mem = odd_slot(_metadata, &t);
	all_pages(pages, ODD_PAGES);

	/* The first pass maps every page (a fault each), the get cleans them. */
	write_pages(_metadata, &t, SLOT_GPA, pages, ODD_PAGES, 1);
	EXPECT_EQ(ODD_PAGES, get_log(&t, 0, ODD_PAGES, bm, 0));

	/* The second, in one run: faults under write protection only. */
	npf = npf_count(_metadata, &t);
	full = stat(_metadata, &t, KHV_STAT_HW, "pml_full");
	logged = stat(_metadata, &t, KHV_STAT_KERNEL, "pml_logged");
	write_pages(_metadata, &t, SLOT_GPA, pages, ODD_PAGES, 2);
	EXPECT_EQ(variant->mode == KHV_DIRTY_LOG_BY_WP ? (uint64_t)ODD_PAGES : 0ull,
		  npf_count(_metadata, &t) - npf);
	EXPECT_EQ(ODD_PAGES, get_log(&t, 0, ODD_PAGES, bm, 0));
	expect_bits(_metadata, bm, ODD_PAGES, pages, ODD_PAGES, "second pass");
	if (variant->mode == KHV_DIRTY_LOG_BY_PML) {
		/*
		 * 1030 entries: the 512-entry buffer fills twice, each time a
		 * PML-full exit (one, if a host interrupt's exit drained it
		 * in between).
		 */
		full = stat(_metadata, &t, KHV_STAT_HW, "pml_full") - full;
		EXPECT_TRUE(full == 1 || full == 2) TH_LOG("%llu PML-full exits",
							   (unsigned long long)full);
		EXPECT_LE((uint64_t)ODD_PAGES,
			  stat(_metadata, &t, KHV_STAT_KERNEL, "pml_logged") - logged);
	} else {
		EXPECT_EQ(0ull, stat(_metadata, &t, KHV_STAT_KERNEL, "pml_logged") - logged);
	}
	for (i = 0; i < ODD_PAGES; i += 103)
		EXPECT_EQ((2ull << 32) | i, stored(mem, i)) TH_LOG("page %u", i);
	khvt_destroy(&t);
	munmap(mem, ODD_PAGES * 4096ul);
}

TEST_F(dl, keep_clear_range)
{
	static const uint32_t a[] = { 3, 70, 130, 700, 1027 };
	static const uint32_t cleared[] = { 70, 1027 };
	static const uint32_t rest[] = { 3, 130, 700 };
	uint64_t bm[WORDS(ODD_PAGES)], clr[WORDS(ODD_PAGES)];
	struct khvt_vm t;
	uint8_t *mem;
	unsigned int i;

	VM_SETUP(&t);
	mem = odd_slot(_metadata, &t);
	write_pages(_metadata, &t, SLOT_GPA, a, ARRAY_SIZE(a), 1);

	/* KEEP: the same answer twice. */
	EXPECT_EQ((int)ARRAY_SIZE(a), get_log(&t, 0, ODD_PAGES, bm, KHV_DIRTY_LOG_KEEP));
	expect_bits(_metadata, bm, ODD_PAGES, a, ARRAY_SIZE(a), "keep");
	EXPECT_EQ((int)ARRAY_SIZE(a), get_log(&t, 0, ODD_PAGES, bm, KHV_DIRTY_LOG_KEEP));
	expect_bits(_metadata, bm, ODD_PAGES, a, ARRAY_SIZE(a), "keep again");

	/* CLEAR takes out the chosen bits, and only those. */
	memset(clr, 0, sizeof(clr));
	for (i = 0; i < ARRAY_SIZE(cleared); i++)
		clr[cleared[i] / 64] |= 1ull << (cleared[i] % 64);
	KHV_OK(khv_vm_clear_dirty_log(&t.vm, SLOT, 0, ODD_PAGES, clr));
	EXPECT_EQ((int)ARRAY_SIZE(rest), get_log(&t, 0, ODD_PAGES, bm, KHV_DIRTY_LOG_KEEP));
	expect_bits(_metadata, bm, ODD_PAGES, rest, ARRAY_SIZE(rest), "after clear");

	/* A cleared page is write-protected again: its next write is logged. */
	write_pages(_metadata, &t, SLOT_GPA, cleared, 1, 2);
	EXPECT_TRUE(get_log(&t, 0, ODD_PAGES, bm, KHV_DIRTY_LOG_KEEP) == 4 &&
		    test_bit64(bm, cleared[0])) TH_LOG("page %u written after its clear", cleared[0]);

	/* A range [64, 64 + 600): bit n of the answer is page 64 + n. */
	EXPECT_EQ(2, get_log(&t, 64, 600, bm, 0));
	EXPECT_EQ(1ull << (70 - 64), bm[0]);
	EXPECT_EQ(1ull << (130 - 128), bm[1]);
	for (i = 2; i < WORDS(600); i++)
		EXPECT_EQ(0ull, bm[i]) TH_LOG("range word %u", i);
	/* The bits outside the range stay. */
	EXPECT_EQ(2, get_log(&t, 0, ODD_PAGES, bm, 0));
	EXPECT_TRUE(test_bit64(bm, 3) && test_bit64(bm, 700));
	/* A range that ends on the slot's last page. */
	write_pages(_metadata, &t, SLOT_GPA, a + 4, 1, 3);
	EXPECT_EQ(1, get_log(&t, 1024, ODD_PAGES - 1024, bm, 0));
	EXPECT_EQ(1ull << 3, bm[0]);
	khvt_destroy(&t);
	munmap(mem, ODD_PAGES * 4096ul);
}

TEST_F(dl, kernel_write)
{
	uint64_t bm[WORDS(64)];
	struct khv_regs r;
	struct khvt_vm t;
	uint8_t *mem;

	VM_SETUP(&t);
	mem = alloc_aligned(64 * 4096ul, false);
	ASSERT_NE(NULL, mem);
	setup(_metadata, &t, mem, 64, true);
	/* The guest only reads the page: its leaf stays read-only. */
	run_op(_metadata, &t, dl_read, dl_read_done, SLOT_GPA, 64, 0, 0);
	EXPECT_EQ(0, get_log(&t, 0, 64, bm, 0));

	KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
	r.rip = G(dl_ins);
	r.rdi = SLOT_GPA + 5 * 4096 + 17;
	r.rflags &= ~0x400ull;		/* DF: up */
	KHV_OK(khv_vcpu_set_regs(&t.vcpu, &r));
	expect_in(&t, PORT_STR_INB, 1, 0x5a);
	expect_hlt(&t, G(dl_ins_done));
	EXPECT_EQ(0x5a, mem[5 * 4096 + 17]);
	EXPECT_EQ(1, get_log(&t, 0, 64, bm, 0));
	EXPECT_EQ(1ull << 5, bm[0]) TH_LOG("the page khv wrote for the guest's INSB");
	khvt_destroy(&t);
	munmap(mem, 64 * 4096ul);
}

TEST_F(dl, toggle_move)
{
	static const uint32_t a[] = { 1, 9, 40 };
	static const uint32_t b[] = { 2, 41 };
	uint64_t bm[1];
	struct khvt_vm t;
	uint8_t *mem;

	VM_SETUP(&t);
	mem = alloc_aligned(64 * 4096ul, false);
	ASSERT_NE(NULL, mem);
	setup(_metadata, &t, mem, 64, false);
	EXPECT_EQ(-ENOENT, get_log(&t, 0, 64, bm, 0)) TH_LOG("a slot that does not log");
	write_pages(_metadata, &t, SLOT_GPA, a, ARRAY_SIZE(a), 1);

	/* On in place: the pages mapped writable before are protected now. */
	setup(_metadata, &t, mem, 64, true);
	EXPECT_EQ(0, get_log(&t, 0, 64, bm, 0));
	write_pages(_metadata, &t, SLOT_GPA, a, ARRAY_SIZE(a), 2);
	EXPECT_EQ(3, get_log(&t, 0, 64, bm, KHV_DIRTY_LOG_KEEP));
	expect_bits(_metadata, bm, 64, a, ARRAY_SIZE(a), "after logging began");

	/* Moved: the bits go along, and writes at the new place are logged. */
	KHV_OK(khv_vm_set_memory(&t.vm, SLOT, KHV_MEM_LOG_DIRTY, SLOT_GPA2, 64 * 4096, mem));
	write_pages(_metadata, &t, SLOT_GPA2, b, ARRAY_SIZE(b), 3);
	EXPECT_EQ(5, get_log(&t, 0, 64, bm, 0));
	EXPECT_EQ((1ull << 1) | (1ull << 9) | (1ull << 40) | (1ull << 2) | (1ull << 41), bm[0]);
	EXPECT_EQ((3ull << 32) | 41, stored(mem, 41));

	/* Off: ENOENT, and writes go through (no dirty faults: nothing logs them). */
	KHV_OK(khv_vm_set_memory(&t.vm, SLOT, 0, SLOT_GPA2, 64 * 4096, mem));
	EXPECT_EQ(-ENOENT, get_log(&t, 0, 64, bm, 0));
	write_pages(_metadata, &t, SLOT_GPA2, a, ARRAY_SIZE(a), 4);
	EXPECT_EQ((4ull << 32) | 9, stored(mem, 9));

	/* On again: a fresh, empty log. */
	KHV_OK(khv_vm_set_memory(&t.vm, SLOT, KHV_MEM_LOG_DIRTY, SLOT_GPA2, 64 * 4096, mem));
	EXPECT_EQ(0, get_log(&t, 0, 64, bm, 0));
	write_pages(_metadata, &t, SLOT_GPA2, b, 1, 5);
	EXPECT_EQ(1, get_log(&t, 0, 64, bm, 0));
	EXPECT_EQ(1ull << 2, bm[0]);

	/* Deleted while logging, then added without: no log. */
	write_pages(_metadata, &t, SLOT_GPA2, a, 1, 6);
	KHV_OK(khv_vm_set_memory(&t.vm, SLOT, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, get_log(&t, 0, 64, bm, 0)) TH_LOG("a deleted slot");
	setup(_metadata, &t, mem, 64, false);
	EXPECT_EQ(-ENOENT, get_log(&t, 0, 64, bm, 0));
	khvt_destroy(&t);
	munmap(mem, 64 * 4096ul);
}

static int raw_log(struct khvt_vm *t, unsigned long req, struct khv_dirty_log *d)
{
	return ioctl(t->vm.fd, req, d) < 0 ? -errno : 0;
}

TEST_F(dl, errors)
{
	static const uint32_t a[] = { 4, 100 };
	uint64_t bm[WORDS(256)];
	struct khv_dirty_log d;
	struct khvt_vm t;
	uint8_t *mem;
	void *bad;

	VM_SETUP(&t);
	mem = alloc_aligned(256 * 4096ul, false);
	ASSERT_NE(NULL, mem);
	/* Read-only and logging: refused, on add and on a flags change. */
	EXPECT_EQ(-EINVAL, khv_vm_set_memory(&t.vm, SLOT, KHV_MEM_READONLY | KHV_MEM_LOG_DIRTY,
					     SLOT_GPA, 256 * 4096, mem));
	KHV_OK(khv_vm_set_memory(&t.vm, SLOT, KHV_MEM_READONLY, SLOT_GPA, 256 * 4096, mem));
	EXPECT_EQ(-EINVAL, khv_vm_set_memory(&t.vm, SLOT, KHV_MEM_LOG_DIRTY, SLOT_GPA,
					     256 * 4096, mem)) TH_LOG("READONLY dropped in a flags change");
	KHV_OK(khv_vm_set_memory(&t.vm, SLOT, 0, 0, 0, NULL));
	/* 64 TiB: a 2 GiB bitmap is more than khv allocates (no kernel warning either). */
	EXPECT_EQ(-ENOMEM, khv_vm_set_memory(&t.vm, SLOT, KHV_MEM_LOG_DIRTY, 1ull << 46,
					     1ull << 46, (void *)0x1000));
	setup(_metadata, &t, mem, 256, true);
	/* A flags change and a move at once. */
	EXPECT_EQ(-EINVAL, khv_vm_set_memory(&t.vm, SLOT, 0, SLOT_GPA2, 256 * 4096, mem));
	write_pages(_metadata, &t, SLOT_GPA, a, ARRAY_SIZE(a), 1);

	memset(&d, 0, sizeof(d));
	d.slot = SLOT;
	d.num_pages = 256;
	d.bitmap = (uintptr_t)bm;
	d.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, raw_log(&t, KHV_GET_DIRTY_LOG, &d)) TH_LOG("reserved");
	d.reserved[1] = 0;
	d.flags = 2;
	EXPECT_EQ(-EINVAL, raw_log(&t, KHV_GET_DIRTY_LOG, &d)) TH_LOG("unknown flag");
	d.flags = KHV_DIRTY_LOG_KEEP;
	EXPECT_EQ(-EINVAL, raw_log(&t, KHV_CLEAR_DIRTY_LOG, &d)) TH_LOG("KEEP on a clear");
	d.flags = 0;
	d.first_page = 32;
	d.num_pages = 64;
	EXPECT_EQ(-EINVAL, raw_log(&t, KHV_GET_DIRTY_LOG, &d)) TH_LOG("first_page not a multiple of 64");
	d.first_page = 0;
	d.num_pages = 0;
	EXPECT_EQ(-EINVAL, raw_log(&t, KHV_GET_DIRTY_LOG, &d)) TH_LOG("no pages");
	d.first_page = 192;
	d.num_pages = 65;
	EXPECT_EQ(-EINVAL, raw_log(&t, KHV_GET_DIRTY_LOG, &d)) TH_LOG("past the slot");
	d.first_page = 256;
	d.num_pages = 1;
	EXPECT_EQ(-EINVAL, raw_log(&t, KHV_GET_DIRTY_LOG, &d)) TH_LOG("first_page past the slot");
	d.first_page = 0;
	d.num_pages = ~0ull;
	EXPECT_EQ(-EINVAL, raw_log(&t, KHV_GET_DIRTY_LOG, &d)) TH_LOG("huge num_pages");
	d.num_pages = 256;
	d.slot = KHV_MAX_MEMSLOTS;
	EXPECT_EQ(-EINVAL, raw_log(&t, KHV_GET_DIRTY_LOG, &d)) TH_LOG("slot number");
	d.slot = 5;
	EXPECT_EQ(-EINVAL, raw_log(&t, KHV_GET_DIRTY_LOG, &d)) TH_LOG("unused slot");
	d.slot = 0;
	EXPECT_EQ(-ENOENT, raw_log(&t, KHV_GET_DIRTY_LOG, &d)) TH_LOG("slot 0 does not log");
	d.slot = SLOT;

	/* Unwritable bitmap: EFAULT, and the bits are still there. */
	bad = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	d.bitmap = (uintptr_t)bad;
	EXPECT_EQ(-EFAULT, raw_log(&t, KHV_GET_DIRTY_LOG, &d)) TH_LOG("read-only bitmap");
	d.bitmap = 8;
	EXPECT_EQ(-EFAULT, raw_log(&t, KHV_CLEAR_DIRTY_LOG, &d)) TH_LOG("unreadable bitmap");
	munmap(bad, 4096);
	EXPECT_EQ(2, get_log(&t, 0, 256, bm, 0)) TH_LOG("bits lost by the EFAULT get");
	expect_bits(_metadata, bm, 256, a, ARRAY_SIZE(a), "after EFAULT");
	khvt_destroy(&t);
	munmap(mem, 256 * 4096ul);
}

TEST_F(dl, notifier)
{
	static const uint32_t a[] = { 0, 5, 6, 63 };
	uint64_t bm[1];
	struct khvt_vm t;
	uint8_t *mem;
	unsigned int i;

	VM_SETUP(&t);
	mem = alloc_aligned(64 * 4096ul, false);
	ASSERT_NE(NULL, mem);
	setup(_metadata, &t, mem, 64, true);
	write_pages(_metadata, &t, SLOT_GPA, a, ARRAY_SIZE(a), 1);
	EXPECT_EQ(4, get_log(&t, 0, 64, bm, 0));
	/* The pages go from the VMM (the notifier zaps their leaves). */
	ASSERT_EQ(0, madvise(mem, 64 * 4096, MADV_DONTNEED));
	EXPECT_EQ(0ull, stored(mem, 5));
	write_pages(_metadata, &t, SLOT_GPA, a + 1, 2, 2);
	EXPECT_EQ(2, get_log(&t, 0, 64, bm, 0));
	EXPECT_EQ((1ull << 5) | (1ull << 6), bm[0]);
	for (i = 1; i < 3; i++)
		EXPECT_EQ((2ull << 32) | a[i], stored(mem, a[i]));
	EXPECT_EQ(0ull, stored(mem, 63)) TH_LOG("a dropped page came back");
	khvt_destroy(&t);
	munmap(mem, 64 * 4096ul);
}

/* Counter @name of the vCPU's KHV_GET_EXIT_STATS (kind), 0 when absent. */
static uint64_t stat(KHVT_MD, struct khvt_vm *t, uint32_t kind, const char *name)
{
	struct khv_exit_stat s[MAX_STATS];
	uint64_t n = 0;
	uint32_t i, nent;

	KHV_OK(khv_vcpu_get_exit_stats(&t->vcpu, s, MAX_STATS, &nent));
	for (i = 0; i < nent; i++)
		if (s[i].kind == kind && strstr(s[i].name, name))
			n += s[i].count;
	return n;
}

static uint64_t npf_count(KHVT_MD, struct khvt_vm *t)
{
	return stat(_metadata, t, KHV_STAT_HW, "npf") +
	       stat(_metadata, t, KHV_STAT_HW, "ept_violation");
}

/* Whether THP backs mem (size bytes at a 2 MiB boundary), from smaps. */
static bool thp_backed(const void *mem, size_t size)
{
	return khvt_anon_huge_kib(mem) >= (long)(size / 1024);
}

static bool thp_on(void)
{
	char buf[128];

	return khvt_read_line(THP_ENABLED, buf, sizeof(buf)) && !strstr(buf, "[never]");
}

TEST_F(dl, thp_split)
{
	static const uint32_t one[] = { 5, 512 + 300 };
	static const uint32_t next[] = { 6, 512 + 301 };
	uint32_t all[RANDOM_PAGES];
	uint64_t bm[WORDS(RANDOM_PAGES)], npf, dirty;
	struct khvt_vm t;
	uint8_t *mem;
	unsigned int i;

	if (!thp_on())
		SKIP(return, "transparent huge pages off");
	VM_SETUP(&t);
	REQUIRE_CAP(&t, KHV_CAP_EXIT_STATS);
	mem = alloc_aligned(RANDOM_PAGES * 4096ul, true);
	ASSERT_NE(NULL, mem);
	if (!thp_backed(mem, RANDOM_PAGES * 4096ul)) {
		khvt_destroy(&t);
		SKIP(return, "THP did not back the MADV_HUGEPAGE memory");
	}
	for (i = 0; i < RANDOM_PAGES; i++)
		all[i] = i;
	setup(_metadata, &t, mem, RANDOM_PAGES, false);
	/* Slot 0's pages fault in first; then 2 MiB leaves map the slot. */
	run_op(_metadata, &t, dl_read, dl_read_done, 0, 0, 0, 0);
	npf = npf_count(_metadata, &t);
	write_pages(_metadata, &t, SLOT_GPA, all, RANDOM_PAGES, 1);
	EXPECT_LE(npf_count(_metadata, &t) - npf, 8ull) TH_LOG("no 2 MiB leaves to split");

	setup(_metadata, &t, mem, RANDOM_PAGES, true);
	EXPECT_EQ(0, get_log(&t, 0, RANDOM_PAGES, bm, 0));
	/* Reads through the write-protected 2 MiB leaves: no fault, no bit. */
	npf = npf_count(_metadata, &t);
	run_op(_metadata, &t, dl_read, dl_read_done, SLOT_GPA, RANDOM_PAGES, 0, 0);
	EXPECT_EQ(npf, npf_count(_metadata, &t)) TH_LOG("reads faulted on 2 MiB leaves");

	dirty = stat(_metadata, &t, KHV_STAT_KERNEL, "npf_dirty");
	write_pages(_metadata, &t, SLOT_GPA, one, 2, 2);	/* two splits */
	write_pages(_metadata, &t, SLOT_GPA, next, 2, 3);	/* two 4 KiB upgrades */
	EXPECT_EQ(dirty + 4, stat(_metadata, &t, KHV_STAT_KERNEL, "npf_dirty"));
	EXPECT_EQ(4, get_log(&t, 0, RANDOM_PAGES, bm, 0));
	EXPECT_TRUE(test_bit64(bm, 5) && test_bit64(bm, 6) && test_bit64(bm, 812) &&
		    test_bit64(bm, 813));
	/* Every other page still reads what the first pass wrote. */
	for (i = 0; i < RANDOM_PAGES; i++) {
		uint32_t tag = i == 5 || i == 812 ? 2 : i == 6 || i == 813 ? 3 : 1;

		if (stored(mem, i) != (((uint64_t)tag << 32) | i)) {
			EXPECT_EQ(((uint64_t)tag << 32) | i, stored(mem, i)) TH_LOG("page %u", i);
			break;
		}
	}
	/* After the split the rest of the 2 MiB is 4 KiB leaves, still logged. */
	write_pages(_metadata, &t, SLOT_GPA, all + 100, 50, 4);
	EXPECT_EQ(50, get_log(&t, 0, RANDOM_PAGES, bm, 0));

	/* Logging off: the slot is mapped afresh, with 2 MiB leaves again. */
	setup(_metadata, &t, mem, RANDOM_PAGES, false);
	npf = npf_count(_metadata, &t);
	write_pages(_metadata, &t, SLOT_GPA, all, RANDOM_PAGES, 5);
	EXPECT_LE(npf_count(_metadata, &t) - npf, 8ull) TH_LOG("no 2 MiB leaves after logging");
	EXPECT_EQ((5ull << 32) | 1000, stored(mem, 1000));
	khvt_destroy(&t);
	munmap(mem, RANDOM_PAGES * 4096ul);
}

/* ---- no_lost_write ------------------------------------------------------ */

struct writer {
	struct khvt_vm *t;
	atomic_int done;	/* 1: HLT reached; 2: an unexpected exit */
	int err;
};

static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	int r = khv_vcpu_run(&w->t->vcpu);

	w->err = r;
	atomic_store(&w->done, !r && w->t->vcpu.run->exit_reason == KHV_EXIT_HLT ? 1 : 2);
	return NULL;
}

static void nothing(int sig)
{
	(void)sig;
}

/* Copy the pages set in bm from mem into shadow. */
static unsigned long copy_dirty(const uint64_t *bm, const uint8_t *mem, uint8_t *shadow)
{
	unsigned long n, copied = 0;

	for (n = 0; n < RANDOM_PAGES; n++) {
		if (!test_bit64(bm, n))
			continue;
		memcpy(shadow + n * 4096, mem + n * 4096, 4096);
		copied++;
	}
	return copied;
}

static void no_lost_write(KHVT_MD, bool huge)
{
	const size_t size = RANDOM_PAGES * 4096ul;
	const uint64_t max_stores = 1ull << 40;
	unsigned long rounds = 0, copied = 0, diff = 0, n;
	uint64_t bm[WORDS(RANDOM_PAGES)];
	volatile uint64_t *stop;
	struct timespec start, now;
	double elapsed;
	struct writer w = { 0 };
	uint8_t *mem, *shadow;
	struct khvt_vm t;
	struct khv_regs r;
	pthread_t th;
	struct sigaction sa = { .sa_handler = nothing };

	VM_SETUP(&t);
	/* No SA_RESTART: KHV_RUN in the vCPU thread returns on SIGUSR1. */
	sigaction(SIGUSR1, &sa, NULL);
	mem = alloc_aligned(size, huge);
	shadow = malloc(size);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, shadow);
	if (huge && !thp_backed(mem, size)) {
		khvt_destroy(&t);
		SKIP(return, "THP did not back the MADV_HUGEPAGE memory");
	}
	stop = (volatile uint64_t *)(t.mem + STOP_GPA);
	setup(_metadata, &t, mem, RANDOM_PAGES, false);
	/* Map the slot writable (with 2 MiB leaves under THP) before logging. */
	run_op(_metadata, &t, dl_random, dl_random_done, SLOT_GPA, RANDOM_PAGES, 20000, 1);
	setup(_metadata, &t, mem, RANDOM_PAGES, true);
	memcpy(shadow, mem, size);	/* the "first pass" of a migration */
	stop[-1] = 0;			/* the stores counted from here */

	KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
	r.rip = G(dl_random);
	r.rdi = SLOT_GPA;
	r.rsi = RANDOM_PAGES;
	r.rdx = max_stores;
	r.rcx = 0x9e3779b97f4a7c15ull;
	r.r9 = STOP_GPA;
	KHV_OK(khv_vcpu_set_regs(&t.vcpu, &r));
	w.t = &t;
	clock_gettime(CLOCK_MONOTONIC, &start);
	ASSERT_EQ(0, pthread_create(&th, NULL, writer_thread, &w));
	while (!atomic_load(&w.done)) {
		if (get_log(&t, 0, RANDOM_PAGES, bm, 0) < 0)
			break;
		copied += copy_dirty(bm, mem, shadow);
		rounds++;
		usleep(2000);
		clock_gettime(CLOCK_MONOTONIC, &now);
		/* Enough rounds or time, and enough stores, however slow the machine. */
		elapsed = (double)(now.tv_sec - start.tv_sec) +
			  (double)(now.tv_nsec - start.tv_nsec) / 1e9;
		if ((rounds >= 100 || elapsed >= 1.0) && stop[-1] >= MIN_STORES)
			*stop = 1;
		if (now.tv_sec - start.tv_sec > 20)
			break;
	}
	/* Stuck, or the get failed: a signal makes KHV_RUN return -EINTR. */
	while (!atomic_load(&w.done)) {
		pthread_kill(th, SIGUSR1);
		usleep(10000);
	}
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ(1, atomic_load(&w.done)) {
		TH_LOG("the guest did not reach its HLT within 20 s (KHV_RUN: %d, exit %u)",
		       w.err, t.vcpu.run->exit_reason);
	}
	KHV_OK(khv_vcpu_get_regs(&t.vcpu, &r));
	EXPECT_EQ(G(dl_random_done), r.rip);
	/* The stop-and-copy. */
	ASSERT_LE(0, get_log(&t, 0, RANDOM_PAGES, bm, 0));
	copied += copy_dirty(bm, mem, shadow);
	for (n = 0; n < RANDOM_PAGES; n++) {
		if (!memcmp(shadow + n * 4096, mem + n * 4096, 4096))
			continue;
		if (diff++ < 4)
			TH_LOG("page %lu differs from its copy: a write the log missed", n);
	}
	fprintf(stderr, "# %s: %llu stores, %lu gets, %lu pages copied while the guest ran\n",
		huge ? "THP" : "4 KiB", (unsigned long long)(max_stores - r.rdx), rounds, copied);
	EXPECT_EQ(0ul, diff) TH_LOG("%lu pages of %u differ", diff, RANDOM_PAGES);
	EXPECT_LT(1ul, rounds) TH_LOG("the log was read only once while the guest ran");
	EXPECT_LE((uint64_t)MIN_STORES, max_stores - r.rdx) TH_LOG("the guest hardly stored");
	khvt_destroy(&t);
	munmap(mem, size);
	free(shadow);
}

TEST_F(dl, no_lost_write_4k)
{
	no_lost_write(_metadata, false);
}

TEST_F(dl, no_lost_write_thp)
{
	if (!thp_on())
		SKIP(return, "transparent huge pages off");
	no_lost_write(_metadata, true);
}

TEST_HARNESS_MAIN
