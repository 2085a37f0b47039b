// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace unit tests of mmu/mmu.c, mmu/npt.c and mmu/ept.c, built
 * unchanged against the shim (shim.h, shim.c).  Every generic test runs over
 * both entry formats at 4 and 5 levels: "npt4", "npt5", "ept4", "ept5".
 * Run: make -C mmu/selftest run
 */
#include <stdio.h>
#include <stdlib.h>

#include "shim.h"
#include "shim_test.h"
#include "core/khv.h"

/* One entry format at one depth: what every generic test runs over. */
struct cfg {
	const char *name;
	const struct khv_mmu_format *fmt;
	int levels;
};

static const struct cfg cfgs[] = {
	{ "npt4", &khv_npt_format, 4 },
	{ "npt5", &khv_npt_format, 5 },
	{ "ept4", &khv_ept_format, 4 },
	{ "ept5", &khv_ept_format, 5 },
};

static const char *cur = "-";		/* the configuration, for messages */
static const struct khv_mmu_format *fmt;
static int levels;
static unsigned long nr_checks;

#define CHECK(c) do {							\
	nr_checks++;							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: %s: %s: CHECK FAILED: %s\n",	\
			__FILE__, __LINE__, cur, __func__, #c);		\
		abort();						\
	}								\
} while (0)

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MiB		(1UL << 20)
#define GiB		(1UL << 30)
#define U		SHIM_USER_BASE
#define RWX		(KHV_PROT_READ | KHV_PROT_WRITE | KHV_PROT_EXEC)
#define RX		(KHV_PROT_READ | KHV_PROT_EXEC)
/* Test only: the leaf's dirty flag is expected set although W is clear. */
#define DIRTY		(1u << 8)
/*
 * Test only: the leaf is cleaned (the dirty log's hardware mode): the
 * cleaned mark set, the dirty flag the CPU's (either value).
 */
#define CLEANED		(1u << 9)

static struct khv_vm vm;

static void audit(void);

static bool is_ept(void)
{
	return fmt == &khv_ept_format;
}

static u64 level_size(int level)
{
	return 1ULL << (12 + 9 * (level - 1));
}

static void vm_setup(void)
{
	shim_reset();
	memset(&vm, 0, sizeof(vm));
	vm.mm = shim_current_mm();
	CHECK(khv_mmu_init(&vm.mmu, fmt, levels) == 0);
	shim.mmu_lock = &vm.mmu.lock;
	CHECK(vm.mmu.nr_tables == 1 && shim.tables_live == 1);
	CHECK(vm.mmu.root_pa == page_to_phys(virt_to_page(vm.mmu.root)));
}

static void add_slot(int id, u64 gpa, u64 size, unsigned long uaddr, u32 flags)
{
	vm.slots[id] = (struct khv_memslot){ gpa, size, uaddr, flags, (u32)id, NULL };
}

/* A fault as core would issue it; afterwards a vCPU may cache anything mapped. */
static int fault(u64 gpa, unsigned int access)
{
	int readers = vm.slots_lock.readers;
	int r = khv_mmu_fault(&vm, gpa, access);

	CHECK(vm.slots_lock.readers == readers && !vm.mmu.lock.held);
	shim_observe(&vm);
	audit();
	return r;
}

static void zap(u64 gpa, u64 size)
{
	shim_set_writer(&vm.slots_lock, true);
	khv_mmu_zap_range(&vm, gpa, size, 0);
	shim_set_writer(&vm.slots_lock, false);
	CHECK(!vm.mmu.lock.held);
	audit();
}

/* The test's own walk: the leaf mapping gpa, its level, or 0. */
static u64 leaf(u64 gpa, int *level)
{
	u64 *table = vm.mmu.root;
	int l;

	for (l = vm.mmu.levels; l >= 1; l--) {
		u64 e = table[(gpa >> (12 + 9 * (l - 1))) & 511];

		if (!fmt->is_present(e))
			return 0;
		if (fmt->is_leaf(e, l)) {
			if (level)
				*level = l;
			return e;
		}
		table = phys_to_virt(fmt->entry_pa(e, l));
	}
	return 0;
}

static struct page *head_of(struct page *p)
{
	return &shim_mem_map[p->head];
}

/*
 * ---- Entry encodings --------------------------------------------------
 *
 * Checked bit by bit against the architecture manuals with the test's own
 * constants, never npt.c's or ept.c's: every bit 63:0 of an entry khv builds
 * is accounted for.  @pa is the address the entry must hold, @prot the
 * KHV_PROT_* it was built from (read is always granted).
 */

/* AMD APM vol. 2, "Long-mode page translation" / "Nested paging". */
static void check_npt_table(u64 e, phys_addr_t pa)
{
	CHECK(e & BIT_ULL(0));				/* P */
	CHECK(e & BIT_ULL(1));				/* R/W: tables never restrict */
	CHECK(e & BIT_ULL(2));				/* U/S: nested walks are user */
	CHECK(!(e & GENMASK_ULL(4, 3)));		/* PWT PCD: write-back */
	CHECK(e & BIT_ULL(5));				/* A: preset */
	CHECK(!(e & BIT_ULL(6)));			/* ignored in a table: 0 */
	CHECK(!(e & BIT_ULL(7)));			/* PS: 0, a table */
	CHECK(!(e & GENMASK_ULL(11, 8)));
	CHECK((e & GENMASK_ULL(51, 12)) == pa);
	CHECK(!(e & GENMASK_ULL(62, 52)));
	CHECK(!(e & BIT_ULL(63)));			/* NX: tables never restrict */
}

static void check_npt_leaf(u64 e, int level, phys_addr_t pa, unsigned int prot)
{
	bool w = prot & KHV_PROT_WRITE, x = prot & KHV_PROT_EXEC;
	bool d = w || (prot & DIRTY), c = prot & CLEANED;

	CHECK(e & BIT_ULL(0));				/* P */
	CHECK(!!(e & BIT_ULL(1)) == w);			/* R/W */
	CHECK(e & BIT_ULL(2));				/* U/S */
	CHECK(!(e & GENMASK_ULL(4, 3)));		/* PWT PCD: PAT entry 0, WB */
	CHECK(e & BIT_ULL(5));				/* A: preset */
	/* D: preset if writable, kept by WP; the CPU's once cleaned. */
	CHECK(c || !!(e & BIT_ULL(6)) == d);
	/* PS in a 2 MiB / 1 GiB leaf; the PAT bit (0) in a 4 KiB leaf. */
	CHECK(!!(e & BIT_ULL(7)) == (level > 1));
	CHECK(!!(e & BIT_ULL(9)) == c);			/* available: khv's cleaned mark */
	CHECK(!(e & (GENMASK_ULL(11, 8) & ~BIT_ULL(9))));	/* G, ignored: 0 */
	CHECK((e & GENMASK_ULL(51, 12)) == pa);
	/* A large leaf's bit 12 is its PAT bit (0); bits up to 20 reserved. */
	CHECK(!(pa & (level_size(level) - 1)));
	CHECK(!(e & GENMASK_ULL(62, 52)));
	CHECK(!!(e & BIT_ULL(63)) == !x);		/* NX */
}

/*
 * Intel SDM vol. 3C, "EPT paging-structure entries" (tables "Format of an
 * EPT PML5E / PML4E / PDPTE / PDE / PTE").  Bit 8 is the accessed flag and
 * bit 9 (leaves) the dirty flag when EPTP[6] enables them, ignored
 * otherwise; bit 10 is user-mode execute only with mode-based execute
 * control (off in khv); bit 63 is "suppress #VE" only when EPT-violation
 * #VE is enabled (off in khv).
 */
static void check_ept_table(u64 e, phys_addr_t pa)
{
	CHECK((e & GENMASK_ULL(2, 0)) == 7);		/* R W X: never restrict */
	/*
	 * 7:3 reserved, must be 0: no memory type in a table, and bit 7 (page
	 * size) is reserved at levels 5 and 4 and means "leaf" at 3 and 2.
	 */
	CHECK(!(e & GENMASK_ULL(7, 3)));
	CHECK(e & BIT_ULL(8));				/* A: preset */
	CHECK(!(e & GENMASK_ULL(11, 9)));		/* ignored, user-X: 0 */
	CHECK((e & GENMASK_ULL(51, 12)) == pa);
	CHECK(!(e & GENMASK_ULL(63, 52)));		/* ignored, suppress #VE */
}

static void check_ept_leaf(u64 e, int level, phys_addr_t pa, unsigned int prot)
{
	bool w = prot & KHV_PROT_WRITE, x = prot & KHV_PROT_EXEC;
	bool d = w || (prot & DIRTY), c = prot & CLEANED;

	CHECK(e & BIT_ULL(0));				/* R: never W without R */
	CHECK(!!(e & BIT_ULL(1)) == w);			/* W */
	CHECK(!!(e & BIT_ULL(2)) == x);			/* X (supervisor) */
	CHECK(((e >> 3) & 7) == 6);			/* 5:3 memory type WB */
	CHECK(e & BIT_ULL(6));				/* ignore PAT */
	/* Page size: 1 in a 2 MiB / 1 GiB leaf; ignored in a PTE: 0. */
	CHECK(!!(e & BIT_ULL(7)) == (level > 1));
	CHECK(e & BIT_ULL(8));				/* A: preset */
	/* D: preset if writable, kept by WP; the CPU's once cleaned. */
	CHECK(c || !!(e & BIT_ULL(9)) == d);
	CHECK(!(e & BIT_ULL(10)));			/* user-X: 0 */
	CHECK(!!(e & BIT_ULL(11)) == c);		/* ignored: khv's cleaned mark */
	CHECK((e & GENMASK_ULL(51, 12)) == pa);
	/* 20:12 (2 MiB) or 29:12 (1 GiB) reserved: a naturally aligned page. */
	CHECK(!(pa & (level_size(level) - 1)));
	CHECK(!(e & GENMASK_ULL(63, 52)));		/* ignored, suppress #VE */
}

static void check_table(u64 e, phys_addr_t pa)
{
	if (is_ept())
		check_ept_table(e, pa);
	else
		check_npt_table(e, pa);
}

static void check_leaf(u64 e, int level, phys_addr_t pa, unsigned int prot)
{
	if (is_ept())
		check_ept_leaf(e, level, pa, prot);
	else
		check_npt_leaf(e, level, pa, prot);
}

/* The leaf mapping gpa has the slot's permissions and maps page p. */
static void check_leaf_at(u64 gpa, int want_level, struct page *p, unsigned int prot)
{
	int level = 0;
	u64 e = leaf(gpa, &level);

	CHECK(e && level == want_level);
	check_leaf(e, level, page_to_phys(p), prot);
	CHECK(fmt->entry_pa(e, level) == page_to_phys(p));
	CHECK(fmt->entry_prot(e) == (prot & RWX));
	CHECK(fmt->entry_dirty(e) == (fmt->cleaned(e) || !!(prot & (KHV_PROT_WRITE | DIRTY))));
}

/*
 * ---- Tree audit ---------------------------------------------------------
 *
 * The test's own walk of the whole tree: every present entry is encoded as
 * the manual says (tables all-permission, leaves RX or RWX at level 1 or 2,
 * naturally aligned, never a table page), every not-present entry is 0, and
 * the counters match what is reachable.
 */
struct audit {
	unsigned long tables, pinned, large;
};

static void audit_table(u64 *table, int level, struct audit *a)
{
	int i, garbage = 0;

	a->tables++;
	CHECK(virt_to_page(table)->is_table);
	for (i = 0; i < 512; i++) {
		u64 e = table[i];
		phys_addr_t pa;
		unsigned int prot;

		if (!fmt->is_present(e)) {
			garbage += e != 0;
			continue;
		}
		pa = fmt->entry_pa(e, level);
		if (fmt->is_leaf(e, level)) {
			prot = fmt->entry_prot(e);
			CHECK(level <= 2);		/* no 1 GiB leaves */
			CHECK(prot == RWX || prot == RX);
			/* A write-protected leaf may keep its dirty flag. */
			CHECK(!fmt->cleaned(e) || (level == 1 && (prot & KHV_PROT_WRITE) &&
						   vm.mmu.hw_dirty));
			check_leaf(e, level, pa, prot | (fmt->entry_dirty(e) ? DIRTY : 0) |
				   (fmt->cleaned(e) ? CLEANED : 0));
			CHECK(!pfn_to_page(PHYS_PFN(pa))->is_table);
			a->pinned += level_size(level) >> PAGE_SHIFT;
			a->large += level == 2;
			continue;
		}
		CHECK(level > 1);
		check_table(e, pa);
		audit_table(phys_to_virt(pa), level - 1, a);
	}
	CHECK(garbage == 0);		/* not present is 0, nothing else */
}

static void audit(void)
{
	struct audit a = { 0 };

	if (!vm.mmu.root)
		return;
	CHECK(vm.mmu.levels == levels && vm.mmu.fmt == fmt);
	audit_table(vm.mmu.root, levels, &a);
	CHECK(a.tables == vm.mmu.nr_tables && (long)a.tables == shim.tables_live);
	CHECK(a.pinned == vm.mmu.nr_pinned && a.large == vm.mmu.nr_large);
}

/* Destroy (no vCPU left) and check that nothing leaked. */
static void vm_done(int expected_warnings)
{
	unsigned long pfn;

	audit();
	for (pfn = 0; pfn < SHIM_NR_PAGES; pfn++)
		shim_mem_map[pfn].maybe_cached = false;	/* vCPUs are gone */
	khv_mmu_destroy(&vm.mmu);
	khv_mmu_destroy(&vm.mmu);		/* idempotent */
	CHECK(vm.mmu.root == NULL);
	CHECK(shim_pinned_pages() == 0);
	CHECK(shim.tables_live == 0);
	CHECK(shim.kmalloc_live == 0);
	CHECK(shim.warnings == expected_warnings);
}

/* The NPT encodings at known values (the APM's bits as plain numbers). */
static void npt_format_values(void)
{
	u64 pa = 0x123456789000ULL, e;

	CHECK(fmt->make_table(pa) == (pa | 0x27));		/* P RW US A */
	e = fmt->make_leaf(pa, 1, RWX);
	CHECK(e == (pa | 0x67));				/* P RW US A D */
	CHECK(fmt->make_leaf(pa, 1, RX) == (pa | 0x25));	/* no RW, no D */
	CHECK(fmt->make_leaf(pa, 1, KHV_PROT_READ) == (pa | 0x25 | (1ULL << 63)));
	CHECK(fmt->make_leaf(0x40000000ULL, 2, RWX) == (0x40000000ULL | 0xe7));
	CHECK(fmt->is_present(e) && !fmt->is_present(e & ~1ULL));
	CHECK(!fmt->is_leaf(0x80 | 1, 4));			/* PS reserved up there */
	/* A 2 MiB leaf with the PAT bit (12) set: not part of the address. */
	CHECK(fmt->entry_pa(0x40200000ULL | 0x1000 | 0x81, 2) == 0x40200000ULL);
	CHECK(fmt->entry_pa((1ULL << 63) | pa | 0x67, 1) == pa);
}

/* The EPT encodings at known values (the SDM's bits as plain numbers). */
static void ept_format_values(void)
{
	u64 pa = 0x123456789000ULL, e;
	int b;

	CHECK(fmt->make_table(pa) == (pa | 0x107));		/* R W X, A */
	e = fmt->make_leaf(pa, 1, RWX);
	CHECK(e == (pa | 0x377));		/* R W X, WB, IPAT, A D */
	CHECK(fmt->make_leaf(pa, 1, RX) == (pa | 0x175));	/* no W, no D */
	CHECK(fmt->make_leaf(pa, 1, KHV_PROT_READ) == (pa | 0x171));
	/* Never W without R (an EPT misconfiguration), whatever is asked. */
	CHECK(fmt->make_leaf(pa, 1, KHV_PROT_WRITE) == (pa | 0x373));
	CHECK(fmt->make_leaf(pa, 1, 0) == (pa | 0x171));
	CHECK(fmt->make_leaf(0x40000000ULL, 2, RWX) == (0x40000000ULL | 0x3f7));
	/* Present when any of R, W, X: bits 63:3 alone are not. */
	for (b = 0; b < 3; b++) {
		CHECK(fmt->is_present(BIT_ULL(b)));
		CHECK(fmt->entry_prot(BIT_ULL(b)) == 1u << b);	/* R W X = 0 1 2 */
	}
	CHECK(!fmt->is_present(e & ~7ULL));
	CHECK(!fmt->is_present(~7ULL));
	CHECK(fmt->entry_prot(e & ~7ULL) == 0);
	CHECK(!fmt->is_leaf(0x80 | 7, 4) && !fmt->is_leaf(0x80 | 7, 5));
	/* A 2 MiB leaf's bits 20:12 are reserved: not part of the address. */
	CHECK(fmt->entry_pa(0x40200000ULL | 0x1ff000 | 0xf7, 2) == 0x40200000ULL);
	CHECK(fmt->entry_pa((1ULL << 63) | pa | 0x377, 1) == pa);
}

/*
 * Every encoding and its round trip through entry_pa/entry_prot/is_leaf,
 * at every level of this configuration, for addresses up to bit 51.
 */
static void test_format(void)
{
	static const phys_addr_t pas[] = {
		0x1000, 0x123456789000ULL, 1ULL << 51, GENMASK_ULL(51, 12),
	};
	static const unsigned int prots[] = {
		RWX, RX, KHV_PROT_READ, KHV_PROT_READ | KHV_PROT_WRITE,
	};
	/* Bits no format uses for the address: 63:52, 11:0. */
	const u64 junk = GENMASK_ULL(63, 52) | GENMASK_ULL(11, 0);
	unsigned int i, j;
	int l;

	CHECK(!strcmp(fmt->name, is_ept() ? "ept" : "npt"));

	/* The not-present entry khv writes is 0. */
	CHECK(!fmt->is_present(0) && fmt->entry_prot(0) == 0);

	for (i = 0; i < ARRAY_SIZE(pas); i++) {
		phys_addr_t pa = pas[i], t = fmt->make_table(pa);

		/* Tables, at every level that has them. */
		check_table(t, pa);
		CHECK(fmt->is_present(t) && fmt->entry_prot(t) == RWX);
		for (l = 2; l <= levels; l++) {
			CHECK(!fmt->is_leaf(t, l));
			CHECK(fmt->entry_pa(t, l) == pa);
			/* Not bit 7: in a level-2/3 entry it means a leaf. */
			CHECK(fmt->entry_pa(t | (junk & ~BIT_ULL(7)), l) == pa);
		}
		/* Level 1 entries are always leaves. */
		CHECK(fmt->is_leaf(t, 1));

		for (j = 0; j < ARRAY_SIZE(prots); j++) {
			unsigned int prot = prots[j];

			/* 4 KiB, 2 MiB and 1 GiB leaves at their own level. */
			for (l = 1; l <= 3; l++) {
				phys_addr_t lpa = pa & ~(level_size(l) - 1);
				u64 e;

				if (!lpa)
					continue;
				e = fmt->make_leaf(lpa, l, prot);
				check_leaf(e, l, lpa, prot);
				CHECK(fmt->is_present(e) && fmt->is_leaf(e, l));
				CHECK(fmt->entry_pa(e, l) == lpa);
				CHECK(fmt->entry_pa(e | junk, l) == lpa);
				CHECK(fmt->entry_prot(e) == prot);
				/* Bit 7 at the root levels never makes a leaf. */
				if (l > 1)
					CHECK(!fmt->is_leaf(e, 4) && !fmt->is_leaf(e, 5));
				/* Cleaned (hardware mode): same leaf, flag off, mark on. */
				CHECK(!fmt->cleaned(e) && !!(e & fmt->dirty_flag) == !!(prot & KHV_PROT_WRITE));
				if (l == 1 && (prot & KHV_PROT_WRITE)) {
					u64 c = fmt->clean(e);

					check_leaf(c, l, lpa, prot | CLEANED);
					CHECK(fmt->cleaned(c) && !(c & fmt->dirty_flag) && fmt->entry_dirty(c));
					CHECK(fmt->entry_prot(c) == prot && fmt->entry_pa(c, l) == lpa);
					CHECK(fmt->clean(c) == c);
				}
			}
			/* A large leaf's low address bits are not address. */
			CHECK(fmt->entry_pa(fmt->make_leaf(pa & ~(SZ_2M - 1UL), 2, prot) |
					    GENMASK_ULL(20, 12), 2) == (pa & ~(SZ_2M - 1UL)));
		}
	}
	CHECK(KHV_MMU_GPA_BITS(4) == 48 && KHV_MMU_GPA_BITS(5) == 57);

	/* The same encodings as plain numbers, a cross-check. */
	if (is_ept())
		ept_format_values();
	else
		npt_format_values();
}

/* NPT: the host's paging depth. */
static void test_npt_levels(void)
{
	shim_reset();
	shim_la57 = true;
	CHECK(khv_npt_levels() == 5);
	shim_la57 = false;
	CHECK(khv_npt_levels() == 4);
}

/*
 * EPT: 5 only when IA32_VMX_EPT_VPID_CAP[7] (page-walk length 5) is set and
 * the host runs with LA57; 4 otherwise, also when the MSR cannot be read.
 */
static void test_ept_levels(void)
{
	static const struct {
		bool la57, msr_fail;
		u64 cap;
		int want;
	} c[] = {
		{ false, false, 0, 4 },
		{ false, false, BIT_ULL(7), 4 },
		{ false, false, ~0ULL, 4 },
		{ true, false, 0, 4 },
		{ true, false, BIT_ULL(6), 4 },		/* walk length 4 only */
		{ true, false, ~BIT_ULL(7), 4 },
		{ true, true, BIT_ULL(7), 4 },		/* #GP: no such MSR */
		{ true, false, BIT_ULL(7), 5 },
		{ true, false, BIT_ULL(6) | BIT_ULL(7), 5 },
		{ true, false, ~0ULL, 5 },
		/* A typical value without, then with, 5-level walks. */
		{ true, false, 0x00000f0106734141ULL, 4 },
		{ true, false, 0x00000f01067341c1ULL, 5 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		shim_reset();
		shim_la57 = c[i].la57;
		shim.ept_vpid_cap = c[i].cap;
		shim.msr_fail = c[i].msr_fail;
		CHECK(khv_ept_levels() == c[i].want);
		/* 5 levels need the capability: the MSR was really read. */
		if (c[i].want == 5)
			CHECK(shim.msr_reads >= 1);
	}
	shim_la57 = false;
}

static void test_init(void)
{
	struct khv_mmu m;

	shim_reset();
	CHECK(khv_mmu_init(&m, fmt, 3) == -EINVAL);
	CHECK(khv_mmu_init(&m, NULL, 4) == -EINVAL);
	shim.alloc_page_budget = 0;
	CHECK(khv_mmu_init(&m, fmt, 4) == -ENOMEM);
	CHECK(shim.tables_live == 0);
}

static void test_basic_4k(void)
{
	u64 gpa = 0x100000, e;
	unsigned long slow;
	struct page *p;
	int level;

	vm_setup();
	shim_add_vma(U, 16 * MiB, true, false);
	add_slot(0, gpa, 16 * MiB, U, 0);
	/* A slot whose memory is not mapped in the process. */
	add_slot(1, 64 * MiB, 1 * MiB, U + 512 * MiB, 0);

	CHECK(fault(gpa + 0x1234, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	e = leaf(gpa + 0x1000, &level);
	p = shim_page_at(U + 0x1000);
	CHECK(e && level == 1 && p);
	check_leaf_at(gpa + 0x1000, 1, p, RWX);
	CHECK(vm.mmu.nr_pinned == 1 && vm.mmu.nr_large == 0);
	/* One table per level, each linked with the table encoding. */
	CHECK(vm.mmu.nr_tables == (unsigned long)levels && shim.tables_live == levels);
	CHECK(shim.tables_accounted == shim.tables_live);
	CHECK(head_of(p)->pincount == 1);

	/* Faulting again (another vCPU, a stale fault): no new pin. */
	slow = shim.slow_pin_calls;
	CHECK(fault(gpa + 0x1ff8, KHV_PROT_READ) == KHV_MMU_MAPPED);
	CHECK(fault(gpa + 0x1000, KHV_PROT_EXEC) == KHV_MMU_MAPPED);
	CHECK(shim.slow_pin_calls == slow && head_of(p)->pincount == 1);

	/* Outside every slot: MMIO, nothing pinned. */
	CHECK(fault(0xfee00000, KHV_PROT_WRITE) == KHV_MMU_MMIO);
	CHECK(fault(gpa - 4096, KHV_PROT_READ) == KHV_MMU_MMIO);
	CHECK(fault(gpa + 16 * MiB, KHV_PROT_READ) == KHV_MMU_MMIO);
	/* Slot memory not mapped: -EFAULT, no pin, no leaf. */
	CHECK(fault(64 * MiB, KHV_PROT_READ) == -EFAULT);
	CHECK(!leaf(64 * MiB, NULL));
	CHECK(vm.mmu.nr_pinned == 1 && shim_pinned_pages() == 1);

	/* The last page of the slot, and a second one in the same table. */
	CHECK(fault(gpa + 16 * MiB - 1, KHV_PROT_READ) == KHV_MMU_MAPPED);
	CHECK(fault(gpa + 0x5000, KHV_PROT_READ) == KHV_MMU_MAPPED);
	CHECK(vm.mmu.nr_pinned == 3 && shim_pinned_pages() == 3);
	/* A writable slot maps writable even on a read fault. */
	check_leaf_at(gpa + 0x5000, 1, shim_page_at(U + 0x5000), RWX);
	check_leaf_at(gpa + 16 * MiB - 1, 1, shim_page_at(U + 16 * MiB - 4096), RWX);

	/* A fault from another process is refused. */
	current->mm = NULL;
	CHECK(khv_mmu_fault(&vm, gpa, KHV_PROT_READ) == -EIO);
	current->mm = shim_current_mm();
	vm_done(0);
	CHECK(shim.dirty_unpins == 3);
}

static void test_readonly(void)
{
	u64 gpa = 0xfff00000, e;
	int level;

	vm_setup();
	shim_add_vma(U, 1 * MiB, false, false);
	add_slot(0, gpa, 1 * MiB, U, KHV_MEM_READONLY);

	CHECK(fault(gpa, KHV_PROT_WRITE) == KHV_MMU_MMIO);
	CHECK(shim.pins == 0 && !leaf(gpa, NULL));
	CHECK(fault(gpa, KHV_PROT_READ) == KHV_MMU_MAPPED);
	e = leaf(gpa, &level);
	CHECK(e && level == 1 && fmt->entry_prot(e) == RX);
	check_leaf_at(gpa, 1, shim_page_at(U), RX);		/* no W, no D */
	/* Present read-only leaf, write access: still MMIO, no new pin. */
	CHECK(fault(gpa + 8, KHV_PROT_WRITE) == KHV_MMU_MMIO);
	CHECK(fault(gpa + 8, KHV_PROT_READ | KHV_PROT_WRITE) == KHV_MMU_MMIO);
	CHECK(fault(gpa + 8, KHV_PROT_EXEC) == KHV_MMU_MAPPED);
	CHECK(shim.pins == 1);
	zap(gpa, 1 * MiB);
	CHECK(shim.kicks == 1 && shim.dirty_unpins == 0 && shim_pinned_pages() == 0);
	vm_done(0);
}

static void test_large(void)
{
	u64 gpa = 0x40000000, e;
	struct page *p;
	int level;

	vm_setup();
	shim_add_vma(U, 8 * MiB, true, true);
	add_slot(0, gpa, 8 * MiB, U, 0);

	CHECK(fault(gpa + 0x3000, KHV_PROT_EXEC) == KHV_MMU_MAPPED);
	e = leaf(gpa + 0x1ff000, &level);
	p = shim_page_at(U);
	CHECK(e && level == 2 && (e & 0x80));			/* PS / EPT bit 7 */
	check_leaf_at(gpa + 0x1ff000, 2, p, RWX);
	CHECK(head_of(p) == p && p->order == 9 && p->pincount == 1);
	CHECK(vm.mmu.nr_large == 1 && vm.mmu.nr_pinned == 512);
	/* No level-1 table. */
	CHECK(vm.mmu.nr_tables == (unsigned long)levels - 1);
	/* The verification pins were all dropped again. */
	CHECK(shim_pinned_pages() == 1);

	CHECK(fault(gpa + 0x1fffff, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(p->pincount == 1 && vm.mmu.nr_large == 1);

	/* The next 2 MiB: a second large leaf. */
	CHECK(fault(gpa + 2 * MiB, KHV_PROT_READ) == KHV_MMU_MAPPED);
	CHECK(vm.mmu.nr_large == 2 && vm.mmu.nr_pinned == 1024);

	/* Zapping 4 KiB inside a 2 MiB leaf removes the whole leaf. */
	zap(gpa + 0x5000, 4096);
	CHECK(!leaf(gpa, NULL) && leaf(gpa + 2 * MiB, NULL));
	CHECK(p->pincount == 0 && p->dirty);
	CHECK(vm.mmu.nr_large == 1 && vm.mmu.nr_pinned == 512);
	CHECK(shim.kicks == 1);
	vm_done(0);
}

static void test_large_refused(void)
{
	int level;

	/* gpa and hva not congruent modulo 2 MiB. */
	vm_setup();
	shim_add_vma(U, 8 * MiB, true, true);
	add_slot(0, 0x40000000, 4 * MiB, U + 4096, 0);
	CHECK(fault(0x40000000 + 2 * MiB, KHV_PROT_READ) == KHV_MMU_MAPPED);
	CHECK(leaf(0x40000000 + 2 * MiB, &level) && level == 1);
	CHECK(vm.mmu.nr_large == 0 && vm.mmu.nr_pinned == 1);
	vm_done(0);

	/* The aligned 2 MiB guest range is not all inside the slot. */
	vm_setup();
	shim_add_vma(U, 8 * MiB, true, true);
	add_slot(0, 0x40000000, 2 * MiB - 4096, U, 0);
	add_slot(1, 0x40000000 + 3 * MiB, 2 * MiB, U + 3 * MiB, 0);
	CHECK(fault(0x40000000, KHV_PROT_READ) == KHV_MMU_MAPPED);
	CHECK(fault(0x40000000 + 4 * MiB, KHV_PROT_READ) == KHV_MMU_MAPPED);
	CHECK(vm.mmu.nr_large == 0 && vm.mmu.nr_pinned == 2);
	vm_done(0);

	/* The folio is not a 2 MiB run: small pages. */
	vm_setup();
	shim_add_vma(U, 8 * MiB, true, false);
	add_slot(0, 0, 8 * MiB, U, 0);
	CHECK(fault(0, KHV_PROT_READ) == KHV_MMU_MAPPED);
	CHECK(vm.mmu.nr_large == 0 && vm.mmu.nr_pinned == 1);
	vm_done(0);
}

/* Map the 2 MiB hva block at hva to a fresh order-9 folio; returns its pfn. */
static long map_thp(unsigned long hva, unsigned long misalign)
{
	long pfn = shim_alloc_folio(9, misalign);
	int i;

	for (i = 0; i < 512; i++)
		shim_map(hva + i * PAGE_SIZE, pfn + i, true);
	return pfn;
}

static void expect_4k_over_thp(void)
{
	int level;

	CHECK(fault(0x200000 + 0x10000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(leaf(0x200000 + 0x10000, &level) && level == 1);
	CHECK(vm.mmu.nr_large == 0 && vm.mmu.nr_pinned == 1);
	CHECK(shim_pinned_pages() == 1);
}

static void test_large_verification(void)
{
	long pfn;

	/* A foreign page inside the THP's hva range (PTE-mapped, hole refilled). */
	vm_setup();
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);
	map_thp(U + 2 * MiB, 0);
	shim_map(U + 2 * MiB + 0x1ff000, shim_alloc_folio(0, 0), true);
	expect_4k_over_thp();
	vm_done(0);

	/* One page of the run not writable (still COW-shared after fork). */
	vm_setup();
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);
	pfn = map_thp(U + 2 * MiB, 0);
	shim_map(U + 2 * MiB + 0x7000, pfn + 7, false);
	expect_4k_over_thp();
	vm_done(0);

	/* A "large folio" that is not physically 2 MiB aligned. */
	vm_setup();
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);
	map_thp(U + 2 * MiB, 1);
	expect_4k_over_thp();
	vm_done(0);

	/* The THP mapped at the wrong offset (hva block != folio start). */
	vm_setup();
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);
	pfn = shim_alloc_folio(9, 0);
	{
		int i;

		for (i = 0; i < 512; i++)
			shim_map(U + 2 * MiB + i * PAGE_SIZE, pfn + ((i + 1) & 511), true);
	}
	expect_4k_over_thp();
	vm_done(0);

	/*
	 * The hva block maps the 2 MiB aligned run just before a misaligned
	 * folio's end: the faulting page's index in its folio is below its
	 * offset in the block, and the run is not all in the folio.
	 */
	vm_setup();
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);
	pfn = shim_alloc_folio(9, 1);
	{
		int i;

		for (i = 0; i < 512; i++)
			shim_map(U + 2 * MiB + i * PAGE_SIZE, pfn - 1 + i, true);
	}
	expect_4k_over_thp();
	vm_done(0);

	/* Fast GUP refused (racing fork): 4 KiB, correct anyway. */
	vm_setup();
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);
	map_thp(U + 2 * MiB, 0);
	shim.fast_only_fail = true;
	expect_4k_over_thp();
	vm_done(0);
}

/* A 4 KiB leaf first, then the range becomes a THP: stays 4 KiB there. */
static void test_table_below(void)
{
	struct page *p;
	long pfn;
	int level;

	vm_setup();
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);
	CHECK(fault(0x200000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	pfn = map_thp(U + 2 * MiB, 0);		/* khugepaged collapsed it */
	CHECK(fault(0x200000 + 0x3000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(leaf(0x203000, &level) && level == 1);
	p = pfn_to_page(pfn);
	CHECK(fmt->entry_pa(leaf(0x203000, NULL), 1) == page_to_phys(p + 3));
	CHECK(vm.mmu.nr_large == 0 && vm.mmu.nr_pinned == 2 && p->pincount == 1);
	zap(0, 4 * MiB);
	CHECK(p->pincount == 0 && shim_pinned_pages() == 0);
	vm_done(0);
}

static void race_hook(void)
{
	CHECK(fault(0x3000, KHV_PROT_READ) == KHV_MMU_MAPPED);
}

static void race_hook_large(void)
{
	CHECK(fault(0x200000 + 0x1000, KHV_PROT_READ) == KHV_MMU_MAPPED);
}

static void test_race(void)
{
	struct page *p;

	/* Another vCPU maps the page while we pin it: our pin is dropped. */
	vm_setup();
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);
	shim.pin_hook = race_hook;
	CHECK(fault(0x3000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	p = shim_page_at(U + 0x3000);
	CHECK(head_of(p)->pincount == 1 && vm.mmu.nr_pinned == 1);
	vm_done(0);

	/* The same with a 2 MiB leaf. */
	vm_setup();
	shim_add_vma(U, 4 * MiB, true, true);
	add_slot(0, 0, 4 * MiB, U, 0);
	shim.pin_hook = race_hook_large;
	CHECK(fault(0x200000 + 0x5000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	p = shim_page_at(U + 2 * MiB);
	CHECK(p->pincount == 1 && vm.mmu.nr_large == 1 && vm.mmu.nr_pinned == 512);
	vm_done(0);

	/*
	 * An invalidation running over one 4 KiB page of a 2 MiB run, not the
	 * faulting one: the 2 MiB leaf would map that page too, so no leaf.
	 */
	vm_setup();
	shim_add_vma(U, 4 * MiB, true, true);
	add_slot(0, 0, 4 * MiB, U, 0);
	khv_mmu_invalidate_begin(&vm.mmu, U + 2 * MiB + 0x9000, U + 2 * MiB + 0xa000);
	CHECK(fault(0x200000 + 0x5000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(!leaf(0x200000 + 0x5000, NULL) && vm.mmu.nr_large == 0 && vm.mmu.nr_pinned == 0);
	khv_mmu_invalidate_end(&vm.mmu);
	CHECK(fault(0x200000 + 0x5000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(vm.mmu.nr_large == 1 && vm.mmu.nr_pinned == 512);
	vm_done(0);
}

static void invalidate_hook(void)
{
	khv_mmu_invalidate_begin(&vm.mmu, 0, ULONG_MAX);
	khv_mmu_invalidate_end(&vm.mmu);
}

/* One that began and ended elsewhere: the fault still retries (seq moved). */
static void invalidate_elsewhere_hook(void)
{
	khv_mmu_invalidate_begin(&vm.mmu, U + 8 * MiB, U + 9 * MiB);
	khv_mmu_invalidate_end(&vm.mmu);
}

/*
 * The MMU notifier's side: a fault that pinned across an invalidation, or
 * during one, installs nothing; the notifier zaps without slots_lock
 * inside an invalidation; after it, a fault maps what the VMM mapped there
 * since.
 */
static void test_invalidate(void)
{
	struct page *old, *new;
	long pfn;

	vm_setup();
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);

	shim.pin_hook = invalidate_hook;
	CHECK(fault(0x3000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(!leaf(0x3000, NULL) && vm.mmu.nr_pinned == 0 && shim_pinned_pages() == 0);
	CHECK(fault(0x3000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(leaf(0x3000, NULL) && vm.mmu.nr_pinned == 1);
	shim.pin_hook = invalidate_elsewhere_hook;
	CHECK(fault(0x4000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(!leaf(0x4000, NULL) && vm.mmu.nr_pinned == 1 && shim_pinned_pages() == 1);

	/* Running elsewhere (a thread's stack, say): faults here go on. */
	khv_mmu_invalidate_begin(&vm.mmu, U + 8 * MiB, U + 9 * MiB);
	CHECK(fault(0x4000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(leaf(0x4000, NULL) && vm.mmu.nr_pinned == 2);
	/* Running over the fault's address (the union of those running): no. */
	khv_mmu_invalidate_begin(&vm.mmu, U + 0x5000, U + 0x6000);
	CHECK(fault(0x5000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(!leaf(0x5000, NULL) && vm.mmu.nr_pinned == 2 && shim_pinned_pages() == 2);
	CHECK(fault(0x7000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(!leaf(0x7000, NULL) && vm.mmu.nr_pinned == 2);
	/* A third, above both: the union still starts at the lowest. */
	khv_mmu_invalidate_begin(&vm.mmu, U + 10 * MiB, U + 11 * MiB);
	CHECK(fault(0x5000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(!leaf(0x5000, NULL) && vm.mmu.nr_pinned == 2);
	khv_mmu_invalidate_end(&vm.mmu);
	khv_mmu_invalidate_end(&vm.mmu);
	khv_mmu_zap_range(&vm, 0x4000, 0x1000, KHV_ZAP_NOTIFIER);
	CHECK(vm.mmu.nr_pinned == 1 && shim_pinned_pages() == 1);

	old = shim_page_at(U + 0x3000);
	khv_mmu_zap_range(&vm, 0x3000, 0x1000, KHV_ZAP_NOTIFIER);
	CHECK(!vm.mmu.lock.held);
	audit();
	CHECK(!leaf(0x3000, NULL) && head_of(old)->pincount == 0 && shim_pinned_pages() == 0);
	/* The VMM maps another page there (mmap MAP_FIXED). */
	pfn = shim_alloc_folio(0, 0);
	shim_map(U + 0x3000, pfn, true);
	new = pfn_to_page(pfn);
	khv_mmu_invalidate_end(&vm.mmu);
	CHECK(vm.mmu.invalidate_active == 0);

	CHECK(fault(0x3000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(fmt->entry_pa(leaf(0x3000, NULL), 1) == page_to_phys(new));
	CHECK(new->pincount == 1 && old->pincount == 0);
	vm_done(0);
}

static void map_many(u64 gpa, int n)
{
	int i;

	for (i = 0; i < n; i++)
		CHECK(fault(gpa + (u64)i * 4096, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
}

/* The MMU notifier's start over [start, end) of the VMM's memory. */
static void notifier_start(unsigned long start, unsigned long end, bool blockable)
{
	unsigned int active = vm.mmu.invalidate_active;

	shim.nonblock = !blockable;
	khv_mmu_invalidate_hva(&vm, start, end, blockable);
	shim.nonblock = false;
	/* It began an invalidation, whatever it found: the end will come. */
	CHECK(vm.mmu.invalidate_active == active + 1);
	CHECK(!vm.mmu.lock.held && !vm.mmu.inval_lock.held);
	audit();
}

static void notifier_end(void)
{
	unsigned int active = vm.mmu.invalidate_active;

	khv_mmu_invalidate_end(&vm.mmu);
	CHECK(vm.mmu.invalidate_active == active - 1);
}

/*
 * The notifier's start while its caller holds the lock of every folio it
 * zaps, as ksmd does (write_protect_page()) and migration (try_to_migrate()):
 * the pins are dropped after one flush, writable leaves' folios marked
 * dirty without that lock (the shim dies on a folio lock its caller holds),
 * read-only ones left clean.  A fault during the invalidation installs
 * nothing; after the end, faults map what the VMM mapped since.  A slot
 * deletion, where nobody holds a folio lock, still dirties with the lock.
 */
static void test_notifier_locked_folios(void)
{
	struct page *large, *ro, *p4k[8], *fresh;
	long pfn;
	int i;

	vm_setup();
	shim_add_vma(U, 4 * MiB, true, true);
	shim_add_vma(U + 4 * MiB, 1 * MiB, true, false);
	shim_add_vma(U + 6 * MiB, 1 * MiB, false, false);
	add_slot(0, 0, 4 * MiB, U, 0);
	add_slot(1, 8 * MiB, 1 * MiB, U + 4 * MiB, 0);
	add_slot(2, 16 * MiB, 1 * MiB, U + 6 * MiB, KHV_MEM_READONLY);
	CHECK(fault(0x1000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	map_many(8 * MiB, 8);
	CHECK(fault(16 * MiB, KHV_PROT_READ) == KHV_MMU_MAPPED);
	CHECK(vm.mmu.nr_large == 1 && vm.mmu.nr_pinned == 512 + 8 + 1);
	large = head_of(shim_page_at(U));
	ro = shim_page_at(U + 6 * MiB);
	for (i = 0; i < 8; i++)
		p4k[i] = shim_page_at(U + 4 * MiB + (unsigned long)i * PAGE_SIZE);

	shim_lock_user_folios(true);
	notifier_start(U, U + 8 * MiB, true);
	CHECK(shim.lookups == 1 && shim.kicks == 3);	/* one zap per slot */
	CHECK(vm.mmu.nr_pinned == 0 && vm.mmu.nr_large == 0 && shim_pinned_pages() == 0);
	CHECK(large->dirty && !ro->dirty);
	for (i = 0; i < 8; i++)
		CHECK(p4k[i]->dirty);
	CHECK(shim.dirty_marks == 1 + 8 && shim.dirty_unpins == 0);

	/* During the invalidation a fault pins, installs nothing, unpins. */
	CHECK(fault(8 * MiB, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(!leaf(8 * MiB, NULL) && shim_pinned_pages() == 0);
	/* The change itself: another page at the slot's first address. */
	pfn = shim_alloc_folio(0, 0);
	shim_map(U + 4 * MiB, pfn, true);
	fresh = pfn_to_page(pfn);
	shim_lock_user_folios(false);
	notifier_end();

	CHECK(fault(8 * MiB, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	check_leaf_at(8 * MiB, 1, fresh, RWX);
	CHECK(fresh->pincount == 1 && p4k[0]->pincount == 0);

	/* Slot deletion: the folio lock is taken (nobody holds it there). */
	map_many(8 * MiB + PAGE_SIZE, 7);
	for (i = 0; i < 8; i++)
		head_of(shim_page_at(U + 4 * MiB + (unsigned long)i * PAGE_SIZE))->dirty = false;
	zap(8 * MiB, 1 * MiB);
	CHECK(shim.dirty_unpins == 8 && shim.dirty_marks == 1 + 8);
	vm_done(0);
}

/*
 * A non-blockable start (the OOM reaper, process_mrelease) zaps everything
 * without sleeping: the shim refuses cond_resched, folio locks, mutexes,
 * reclaim and faults there.  A zap of 5000 leaves and 10 tables takes three
 * rounds of at most KHV_MMU_ZAP_ROUND entries; a blockable start
 * reschedules between them, a non-blockable one does not.  A range no slot
 * covers still begins an invalidation, which its end closes.
 */
static void test_notifier_nonblock(void)
{
	int pass, i;

	vm_setup();
	shim_add_vma(U, 24 * MiB, true, false);
	add_slot(0, 0, 24 * MiB, U, 0);
	for (pass = 0; pass < 2; pass++) {
		bool blockable = pass;

		/* Without the audit after each fault: once at the end. */
		for (i = 0; i < 5000; i++)
			CHECK(khv_mmu_fault(&vm, (u64)i * 4096, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
		shim_observe(&vm);
		audit();
		CHECK(vm.mmu.nr_pinned == 5000 && vm.mmu.nr_tables == (unsigned long)levels + 9);
		shim.kicks = 0;
		shim.rescheds = 0;
		notifier_start(U, U + 24 * MiB, blockable);
		CHECK(vm.mmu.nr_pinned == 0 && shim_pinned_pages() == 0);
		CHECK(vm.mmu.nr_tables == (unsigned long)levels - 1);
		CHECK(shim.kicks == (5000 + 10 + KHV_MMU_ZAP_ROUND - 1) / KHV_MMU_ZAP_ROUND);
		CHECK(shim.rescheds == (blockable ? shim.kicks - 1 : 0));
		notifier_end();
	}

	/* Outside every slot: begin, nothing to zap, end. */
	notifier_start(U + 1 * GiB, U + 1 * GiB + 4096, false);
	CHECK(shim.kicks == 3);
	notifier_end();
	CHECK(vm.mmu.invalidate_active == 0);
	vm_done(0);
}

/* Adds slot 1 and faults in it, between the notifier's lookup and its zap. */
static void order_hook(void)
{
	add_slot(1, 8 * MiB, 1 * MiB, U + 1 * MiB, 0);
	CHECK(fault(8 * MiB, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
}

/*
 * The notifier begins its invalidation before it looks the slots up: a slot
 * added just after the lookup is not zapped, so a fault in it must not be
 * able to install the page about to be replaced (it retries), and after the
 * end the guest sees the new page.
 */
static void test_notifier_order(void)
{
	struct page *old, *new;
	long pfn;

	vm_setup();
	shim_add_vma(U, 2 * MiB, true, false);
	add_slot(0, 0, 1 * MiB, U, 0);
	CHECK(fault(0, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	pfn = shim_alloc_folio(0, 0);
	shim_map(U + 1 * MiB, pfn, true);
	old = pfn_to_page(pfn);

	shim.lookup_hook = order_hook;
	notifier_start(U, U + 2 * MiB, true);
	CHECK(shim.lookups == 1 && !shim.lookup_hook);
	CHECK(!leaf(0, NULL) && !leaf(8 * MiB, NULL) && old->pincount == 0);
	pfn = shim_alloc_folio(0, 0);
	shim_map(U + 1 * MiB, pfn, true);
	new = pfn_to_page(pfn);
	notifier_end();

	CHECK(fault(8 * MiB, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	check_leaf_at(8 * MiB, 1, new, RWX);
	CHECK(new->pincount == 1 && old->pincount == 0);
	vm_done(0);
}

/*
 * Tables when allocations without reclaim fail (as under memory
 * pressure): each comes from the spare allocated outside mmu->lock.  The
 * shim refuses any allocation that may reclaim while mmu->lock is held.
 */
static void test_nowait(void)
{
	vm_setup();
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);
	shim.nowait_fail = true;
	CHECK(fault(0x3000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(leaf(0x3000, NULL) && vm.mmu.nr_pinned == 1);
	CHECK(vm.mmu.nr_tables == (unsigned long)levels && shim.tables_live == levels);
	CHECK(shim.tables_accounted == shim.tables_live);
	/* Zapping with no chunk for the batch: the inline arrays suffice. */
	zap(0, 4 * MiB);
	CHECK(shim_pinned_pages() == 0);
	shim.nowait_fail = false;
	vm_done(0);
}

static void test_zap(void)
{
	unsigned long up = levels - 2;		/* root down to level 3 */

	vm_setup();
	shim_add_vma(U, 8 * MiB, true, false);
	shim_add_vma(U + 8 * MiB, 4 * MiB, true, true);
	add_slot(0, 0, 8 * MiB, U, 0);
	add_slot(1, 1 * GiB, 4 * MiB, U + 8 * MiB, 0);
	map_many(0x1ff000, 300);			/* crosses a 2 MiB line */
	CHECK(fault(1 * GiB, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(vm.mmu.nr_pinned == 300 + 512 && vm.mmu.nr_large == 1);
	CHECK(vm.mmu.nr_tables == up + 2 + 2);		/* root..L3, 2 L2, 2 L1 */

	/* Nothing mapped there: no flush. */
	zap(4 * MiB, 4 * MiB);
	CHECK(shim.kicks == 0 && vm.mmu.nr_pinned == 812);

	/* Partial: [0x200000, 0x210000) keeps its table. */
	zap(0x200000, 0x10000);
	CHECK(shim.kicks == 1 && vm.mmu.nr_pinned == 812 - 16);
	CHECK(vm.mmu.nr_tables == up + 4);
	CHECK(!leaf(0x200000, NULL) && leaf(0x210000, NULL) && leaf(0x1ff000, NULL));

	/*
	 * From the middle of the [2 MiB, 4 MiB) table to past its end: the
	 * table keeps the leaves below the range, and stays.
	 */
	zap(0x300000, 5 * MiB);
	CHECK(shim.kicks == 2 && vm.mmu.nr_tables == up + 4);
	CHECK(leaf(0x2ff000, NULL) && !leaf(0x300000, NULL) && leaf(0x1ff000, NULL));
	CHECK(vm.mmu.nr_pinned == 812 - 16 - (0x32b000 - 0x300000) / 4096);

	/* The whole first slot: its tables under a fully covered span go. */
	zap(0, 8 * MiB);
	CHECK(shim.kicks == 3 && vm.mmu.nr_pinned == 512);
	CHECK(vm.mmu.nr_tables == up + 2);	/* root..L3, both L2 */
	CHECK(shim.tables_live == (long)vm.mmu.nr_tables);
	CHECK(shim.dirty_unpins == 300);

	/* Everything: only the root is left. */
	zap(0, U64_MAX);
	CHECK(shim.kicks == 4 && vm.mmu.nr_pinned == 0 && vm.mmu.nr_large == 0);
	CHECK(vm.mmu.nr_tables == 1 && shim.tables_live == 1);
	CHECK(shim_pinned_pages() == 0);
	/* Unmapped pages fault back in. */
	CHECK(fault(0x1ff000, KHV_PROT_READ) == KHV_MMU_MAPPED);
	vm_done(0);
}

/* kmalloc() fails during the zap: flush what is collected, go on, no leak. */
static void test_zap_nomem(void)
{
	vm_setup();
	shim_add_vma(U, 8 * MiB, true, false);
	add_slot(0, 0, 8 * MiB, U, 0);
	map_many(0x100000, 1000);
	CHECK(vm.mmu.nr_pinned == 1000);
	shim.kmalloc_fail = true;
	zap(0, 1ULL << 48);
	/* 16 pins per round at most (the on-stack part), plus the tables. */
	CHECK(shim.kicks >= 1000 / 16);
	CHECK(vm.mmu.nr_pinned == 0 && shim_pinned_pages() == 0);
	CHECK(vm.mmu.nr_tables == 1 && shim.tables_live == 1);
	CHECK(shim.kmalloc_live == 0);
	shim.kmalloc_fail = false;

	/* With memory: one round, the chunks are freed. */
	map_many(0x100000, 1000);
	shim.kicks = 0;
	zap(0, 1ULL << 48);
	CHECK(shim.kicks == 1 && shim.kmalloc_live == 0 && shim_pinned_pages() == 0);
	vm_done(0);
}

/* A guest that touched 10 MiB of a 1 GiB slot pins about 10 MiB. */
static void test_accounting(void)
{
	int i;

	vm_setup();
	shim_add_vma(U, 1 * GiB, true, false);
	add_slot(0, 4 * GiB, 1 * GiB, U, 0);
	map_many(4 * GiB + 100 * MiB, 2560);
	CHECK(vm.mmu.nr_pinned == 2560 && shim_pinned_pages() == 2560);
	CHECK(shim.faulted_in == 2560);
	vm_done(0);

	/* The same with THP: five 2 MiB leaves, one pin each. */
	vm_setup();
	shim_add_vma(U, 1 * GiB, true, true);
	add_slot(0, 4 * GiB, 1 * GiB, U, 0);
	for (i = 0; i < 2560; i++)
		CHECK(fault(4 * GiB + 100 * MiB + (u64)i * 4096, KHV_PROT_READ) ==
		      KHV_MMU_MAPPED);
	CHECK(vm.mmu.nr_pinned == 2560 && vm.mmu.nr_large == 5);
	CHECK(shim_pinned_pages() == 5 && shim.faulted_in == 2560);
	vm_done(0);
}

/*
 * The ends of what this depth reaches.  The last 4 KiB below
 * 1 << KHV_MMU_GPA_BITS(levels) (index 511 at every level) maps; the limit
 * itself is -EFAULT with nothing pinned or allocated.  2^50 is beyond any
 * 4-level table (refused the same way); at 5 levels it maps 2 MiB and 4 KiB
 * leaves under root entry 4, and zaps and destroy free that subtree.
 */
static void test_gpa_reach(void)
{
	u64 limit = 1ULL << KHV_MMU_GPA_BITS(levels), top = limit - 4096;
	u64 high = 1ULL << 50, *table;
	int l, level;

	/* 48 bits at 4 levels, 57 at 5: 9 bits per level above 4 KiB pages. */
	CHECK(limit == (levels == 5 ? 1ULL << 57 : 1ULL << 48));
	vm_setup();
	shim_add_vma(U, 4 * MiB, true, false);
	shim_add_vma(U + 4 * MiB, 4 * MiB, true, true);
	add_slot(0, high, 4 * MiB, U + 4 * MiB, 0);		/* THP: 2 MiB */
	add_slot(1, high + 1 * GiB, 1 * MiB, U, 0);		/* 4 KiB */
	add_slot(2, top, 4096, U + 2 * MiB, 0);
	add_slot(3, limit, 4096, U + 3 * MiB, 0);

	CHECK(fault(limit, KHV_PROT_READ) == -EFAULT);
	CHECK(fault(limit + 0x123, KHV_PROT_WRITE) == -EFAULT);
	if (levels == 4) {
		CHECK(fault(high, KHV_PROT_READ) == -EFAULT);
		CHECK(fault(high + 1 * GiB + 0x1000, KHV_PROT_WRITE) == -EFAULT);
		CHECK(!leaf(high, NULL) && !leaf(high + 1 * GiB, NULL));
	}
	CHECK(shim.pins == 0 && shim.faulted_in == 0);
	CHECK(vm.mmu.nr_tables == 1 && shim.tables_live == 1);
	zap(limit, 4096);
	CHECK(shim.kicks == 0);

	/* The last page: entry 511 of a new table at every level. */
	CHECK(fault(top + 0xfff, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	check_leaf_at(top, 1, shim_page_at(U + 2 * MiB), RWX);
	CHECK(vm.mmu.nr_tables == (unsigned long)levels);
	table = vm.mmu.root;
	for (l = levels; l > 1; l--) {
		CHECK(fmt->is_present(table[511]) && !fmt->is_leaf(table[511], l));
		CHECK(table[510] == 0 && table[0] == 0);
		table = phys_to_virt(fmt->entry_pa(table[511], l));
	}
	CHECK(fmt->is_present(table[511]) && table[510] == 0);

	if (levels == 5) {
		/* Above 2^48: root entry 4, then entry 0 down to level 2. */
		CHECK(fault(high + 0x3000, KHV_PROT_EXEC) == KHV_MMU_MAPPED);
		CHECK(fault(high + 2 * MiB, KHV_PROT_READ) == KHV_MMU_MAPPED);
		check_leaf_at(high + 0x1ff000, 2, shim_page_at(U + 4 * MiB), RWX);
		check_leaf_at(high + 2 * MiB, 2, shim_page_at(U + 6 * MiB), RWX);
		CHECK(fmt->is_present(vm.mmu.root[4]) && !fmt->is_leaf(vm.mmu.root[4], 5));
		CHECK(vm.mmu.nr_tables == 5 + 3 && vm.mmu.nr_large == 2);
		CHECK(fault(high + 1 * GiB + 0x1000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
		check_leaf_at(high + 1 * GiB + 0x1000, 1, shim_page_at(U + 0x1000), RWX);
		CHECK(leaf(high + 1 * GiB + 0x1000, &level) && level == 1);
		CHECK(vm.mmu.nr_tables == 5 + 3 + 2 && vm.mmu.nr_pinned == 1 + 1024 + 1);

		/* The 2 MiB leaves go; their table spans 1 GiB and stays. */
		zap(high, 4 * MiB);
		CHECK(shim.kicks == 1 && vm.mmu.nr_large == 0 && !leaf(high, NULL));
		CHECK(vm.mmu.nr_tables == 10 && shim_page_at(U + 4 * MiB)->pincount == 0);
		/* A whole 1 GiB span: its level-2 and level-1 tables go. */
		zap(high + 1 * GiB, 1 * GiB);
		CHECK(shim.kicks == 2 && vm.mmu.nr_tables == 8 && vm.mmu.nr_pinned == 1);
		/* Root entry 4's whole 2^48 span: only tables left, freed too. */
		zap(4ULL << 48, 1ULL << 48);
		CHECK(shim.kicks == 3 && vm.mmu.nr_tables == 5 && vm.mmu.root[4] == 0);
		CHECK(fmt->is_present(vm.mmu.root[511]) && leaf(top, NULL));
		CHECK(fault(high + 1 * GiB, KHV_PROT_READ) == KHV_MMU_MAPPED);
		CHECK(vm.mmu.nr_tables == 9);
	}

	/* Everything: back to the root alone, then it faults back in. */
	zap(0, U64_MAX);
	CHECK(vm.mmu.nr_tables == 1 && shim.tables_live == 1 && vm.mmu.nr_pinned == 0);
	CHECK(shim_pinned_pages() == 0);
	CHECK(fault(top, KHV_PROT_READ) == KHV_MMU_MAPPED);
	if (levels == 5)
		CHECK(fault(high + 1 * GiB + 0x2000, KHV_PROT_READ) == KHV_MMU_MAPPED);
	/* Destroy frees both subtrees of the root. */
	vm_done(0);
}

/* A present leaf lacking a permission its slot grants gets replaced. */
static void test_stale_leaf(void)
{
	struct page *p;
	u64 *pte;
	int level;

	vm_setup();
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);
	CHECK(fault(0x1000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	p = shim_page_at(U + 0x1000);
	CHECK(leaf(0x1000, &level) && level == 1);
	/* Make it read-only behind mmu.c's back (an older mapping). */
	pte = vm.mmu.root;
	for (level = levels; level > 1; level--)
		pte = phys_to_virt(fmt->entry_pa(pte[(0x1000ULL >> (12 + 9 * (level - 1))) & 511],
						 level));
	pte[1] = fmt->make_leaf(page_to_phys(p), 1, RX);
	shim_observe(&vm);
	/* A 4 KiB leaf gets its write permission back in place: no flush. */
	CHECK(fault(0x1000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(shim.kicks == 0);
	check_leaf_at(0x1000, 1, p, RWX);
	CHECK(head_of(p)->pincount == 1 && vm.mmu.nr_pinned == 1);
	vm_done(0);

	/* A read-only 2 MiB leaf outside the dirty log: replaced by zap and fault. */
	vm_setup();
	shim_add_vma(U, 4 * MiB, true, true);
	add_slot(0, 0, 4 * MiB, U, 0);
	CHECK(fault(0x1000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(leaf(0x1000, &level) && level == 2);
	pte = vm.mmu.root;
	for (level = levels; level > 2; level--)
		pte = phys_to_virt(fmt->entry_pa(pte[0], level));
	pte[0] = fmt->make_leaf(page_to_phys(shim_page_at(U)), 2, RX);
	shim_observe(&vm);
	CHECK(fault(0x1000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(shim.kicks == 1);
	check_leaf_at(0x1000, 2, shim_page_at(U), RWX);
	vm_done(0);
}

static void test_errors(void)
{
	vm_setup();
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);

	/* No memory for a table: -ENOMEM, the pin is dropped. */
	shim.alloc_page_budget = 1;	/* below the root: one yes, the next no */
	CHECK(fault(0x5000, KHV_PROT_WRITE) == -ENOMEM);
	CHECK(shim_pinned_pages() == 0 && vm.mmu.nr_pinned == 0);
	CHECK(vm.mmu.nr_tables == 2 && shim.tables_live == 2);
	shim.alloc_page_budget = -1;
	CHECK(fault(0x5000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);

	shim.pin_error = -EINTR;
	CHECK(fault(0x6000, KHV_PROT_READ) == -EINTR);
	shim.pin_error = -ERESTARTSYS;
	CHECK(fault(0x6000, KHV_PROT_READ) == -EINTR);
	shim.pin_error = -ENOMEM;
	CHECK(fault(0x6000, KHV_PROT_READ) == -ENOMEM);
	shim.pin_error = -133;				/* -EHWPOISON */
	CHECK(fault(0x6000, KHV_PROT_READ) == -EFAULT);
	shim.pin_error = 0;
	CHECK(shim_pinned_pages() == 1);

	/* Zero-sized and out-of-reach zaps are no-ops. */
	zap(0, 0);
	zap(1ULL << 48, 4096);
	zap(1ULL << KHV_MMU_GPA_BITS(levels), 4096);
	zap(U64_MAX - 4095, 4096);
	CHECK(shim.kicks == 0 && vm.mmu.nr_pinned == 1);
	vm_done(0);
}

static void test_destroy(void)
{
	vm_setup();
	shim_add_vma(U, 8 * MiB, true, true);
	shim_add_vma(U + 8 * MiB, 1 * MiB, false, false);
	add_slot(0, 0, 8 * MiB, U, 0);
	add_slot(1, 0xfff00000, 1 * MiB, U + 8 * MiB, KHV_MEM_READONLY);
	map_many(0, 3);					/* one 2 MiB leaf */
	CHECK(fault(4 * MiB + 0x1000, KHV_PROT_READ) == KHV_MMU_MAPPED);
	CHECK(fault(0xfff00000, KHV_PROT_EXEC) == KHV_MMU_MAPPED);
	CHECK(fault(0xfff01000, KHV_PROT_READ) == KHV_MMU_MAPPED);
	CHECK(vm.mmu.nr_large == 2 && vm.mmu.nr_pinned == 1026);
	vm_done(0);
	CHECK(shim.dirty_unpins == 2 && shim.unpins == shim.pins);
}

/*
 * ---- Dirty log (dirty.c) -----------------------------------------------
 *
 * The invariant every test checks after each step: a page of a logging
 * slot that a vCPU may write without a fault (a writable leaf maps it, or
 * a writable translation may still be cached since the last flush) has
 * its bit set.  A write the log would miss breaks it.
 */
/* Bitmap words: enough for a 4 MiB slot. */
#define KHV_PT_WORDS	16

static unsigned long bm[KHV_PT_WORDS];

static void log_slot(int id, u64 gpa, u64 size, unsigned long uaddr)
{
	memset(bm, 0, sizeof(bm));
	CHECK((size >> PAGE_SHIFT) <= KHV_PT_WORDS * BITS_PER_LONG);
	add_slot(id, gpa, size, uaddr, KHV_MEM_LOG_DIRTY);
	vm.slots[id].dirty_bitmap = bm;
}

static bool bit(unsigned long n)
{
	return bm[n / BITS_PER_LONG] >> (n % BITS_PER_LONG) & 1;
}

static void check_logged(int id)
{
	const struct khv_memslot *s = &vm.slots[id];
	unsigned long i;

	for (i = 0; i < s->size >> PAGE_SHIFT; i++) {
		struct page *p = shim_page_at(s->uaddr + i * PAGE_SIZE);
		u64 e = leaf(s->gpa + i * PAGE_SIZE, NULL);
		bool writable = e && (fmt->entry_prot(e) & KHV_PROT_WRITE);
		/*
		 * The hardware mode: a cleaned leaf may stay writable (and
		 * cached) with its bit taken; the CPU's flag records the
		 * next write (cpu_write()), which a harvest or zap logs.
		 */
		bool cleaned = e && vm.mmu.hw_dirty && fmt->cleaned(e);

		if (!cleaned && (writable || (p && p->cached_writable)))
			CHECK(bit(i));
	}
}

/* Logging starts on slot id (core/memslot.c holds slots_lock for write). */
static void start_logging(int id)
{
	memset(bm, 0, sizeof(bm));
	vm.slots[id].flags |= KHV_MEM_LOG_DIRTY;
	vm.slots[id].dirty_bitmap = bm;
	shim_set_writer(&vm.slots_lock, true);
	khv_mmu_log_start(&vm, vm.slots[id].gpa, vm.slots[id].size);
	shim_set_writer(&vm.slots_lock, false);
	CHECK(!vm.mmu.lock.held);
	audit();
	check_logged(id);
}

/* A dirty-log get or clear of words [first, first + n) of slot id. */
static unsigned long take(int id, unsigned long first, unsigned long *mask, unsigned long n)
{
	const struct khv_memslot *s = &vm.slots[id];
	unsigned long r;

	down_read(&vm.slots_lock);
	r = khv_mmu_take_dirty(&vm, s->gpa + (first * BITS_PER_LONG << PAGE_SHIFT),
			       s->dirty_bitmap + first, mask, n);
	up_read(&vm.slots_lock);
	CHECK(!vm.mmu.lock.held);
	audit();
	check_logged(id);
	return r;
}

static unsigned long take_all(int id)
{
	unsigned long mask[KHV_PT_WORDS];
	unsigned long n = (vm.slots[id].size >> PAGE_SHIFT) / BITS_PER_LONG;

	memset(mask, 0xff, sizeof(mask));
	return take(id, 0, mask, n);
}

static void test_dirty_fault(void)
{
	u64 gpa = 0x40000000;
	unsigned long pins;
	struct page *p;

	vm_setup();
	shim_add_vma(U, 8 * MiB, true, true);
	log_slot(0, gpa, 4 * MiB, U);

	/* A read maps read-only, 4 KiB although THP backs it; no bit. */
	CHECK(fault(gpa + 0x3000, KHV_PROT_READ) == KHV_MMU_MAPPED);
	p = shim_page_at(U + 0x3000);
	check_leaf_at(gpa + 0x3000, 1, p, RX);
	CHECK(vm.mmu.nr_large == 0 && !bm[0]);
	check_logged(0);

	/* A write to it: writable in place, logged, no new pin, no flush. */
	pins = shim.pins;
	CHECK(fault(gpa + 0x3008, KHV_PROT_WRITE) == KHV_MMU_LOGGED);
	check_leaf_at(gpa + 0x3000, 1, p, RWX);
	CHECK(bm[0] == 1UL << 3 && shim.pins == pins && shim.kicks == 0);
	CHECK(fault(gpa + 0x3010, KHV_PROT_WRITE) == KHV_MMU_MAPPED);

	/* A write to an unmapped page: mapped writable, logged. */
	CHECK(fault(gpa + 0x5000, KHV_PROT_READ | KHV_PROT_WRITE) == KHV_MMU_LOGGED);
	check_leaf_at(gpa + 0x5000, 1, shim_page_at(U + 0x5000), RWX);
	CHECK(bm[0] == (1UL << 3 | 1UL << 5) && vm.mmu.nr_large == 0);
	/* The last page: the bitmap's last bit. */
	CHECK(fault(gpa + 4 * MiB - 1, KHV_PROT_WRITE) == KHV_MMU_LOGGED);
	CHECK(bit(1023));
	check_logged(0);
	vm_done(0);
}

static void test_dirty_take(void)
{
	unsigned long mask[KHV_PT_WORDS];

	vm_setup();
	shim_add_vma(U, 4 * MiB, true, false);
	log_slot(0, 0, 4 * MiB, U);
	CHECK(fault(0x1000, KHV_PROT_WRITE) == KHV_MMU_LOGGED);
	CHECK(fault(0x2000, KHV_PROT_WRITE) == KHV_MMU_LOGGED);
	CHECK(fault(0x3000, KHV_PROT_READ) == KHV_MMU_MAPPED);
	CHECK(fault(64 * 4096, KHV_PROT_WRITE) == KHV_MMU_LOGGED);
	CHECK(fault(200 * 4096, KHV_PROT_WRITE) == KHV_MMU_LOGGED);
	CHECK(fault(1023 * 4096, KHV_PROT_WRITE) == KHV_MMU_LOGGED);

	memset(mask, 0xff, sizeof(mask));
	CHECK(take(0, 0, mask, 16) == 5);
	CHECK(mask[0] == (1UL << 1 | 1UL << 2) && mask[1] == 1 && mask[2] == 0);
	CHECK(mask[3] == 1UL << 8 && mask[15] == 1UL << 63);
	CHECK(shim.kicks == 1);
	/* Write-protected, keeping the dirty flag; the read-only one had none. */
	check_leaf_at(0x1000, 1, shim_page_at(U + 0x1000), RX | DIRTY);
	check_leaf_at(0x3000, 1, shim_page_at(U + 0x3000), RX);
	/* Nothing left: no flush either. */
	CHECK(take_all(0) == 0 && shim.kicks == 1);

	/* Only the words and bits of the mask. */
	CHECK(fault(0x1000, KHV_PROT_WRITE) == KHV_MMU_LOGGED);
	CHECK(fault(65 * 4096, KHV_PROT_WRITE) == KHV_MMU_LOGGED);
	mask[0] = ~0UL;
	CHECK(take(0, 1, mask, 1) == 1 && mask[0] == 1UL << 1);
	CHECK(bit(1) && !bit(65));
	mask[0] = 1UL << 2;
	CHECK(take(0, 0, mask, 1) == 0 && mask[0] == 0 && bit(1));
	CHECK(take_all(0) == 1);
	check_leaf_at(0x1000, 1, shim_page_at(U + 0x1000), RX | DIRTY);

	/* Zapped: the pages written through a writable leaf go back dirty. */
	zap(0, 4 * MiB);
	CHECK(shim.dirty_unpins == 6 && shim_pinned_pages() == 0);	/* not page 3 */
	vm_done(0);
}

/* The CPU writes through the writable 4 KiB leaf at gpa: it sets the dirty flag. */
static void cpu_write(u64 gpa)
{
	u64 *table = vm.mmu.root, *ep = NULL;
	int l;

	for (l = vm.mmu.levels; l >= 1; l--) {
		ep = &table[(gpa >> (12 + 9 * (l - 1))) & 511];
		if (l == 1 || fmt->is_leaf(*ep, l))
			break;
		table = phys_to_virt(fmt->entry_pa(*ep, l));
	}
	CHECK(l == 1 && fmt->is_present(*ep) && (fmt->entry_prot(*ep) & KHV_PROT_WRITE));
	*ep |= is_ept() ? 1ULL << 9 : 1ULL << 6;
	CHECK(*ep & fmt->dirty_flag);
}

/*
 * Slot 0 (4 MiB at 0) in the hardware mode (@log: with the CPU's log),
 * pages 1 and 70 mapped writable, then logging: their leaves cleaned.
 */
static void hw_logging_setup(bool log)
{
	u64 e;

	vm_setup();
	vm.mmu.hw_dirty = true;
	vm.mmu.hw_log = log;
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);
	CHECK(fault(0x1000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(fault(70 * 4096, KHV_PROT_WRITE) == KHV_MMU_MAPPED);

	/* Logging starts by cleaning the leaves: writable still, flag clear. */
	start_logging(0);
	e = leaf(0x1000, NULL);
	CHECK((fmt->entry_prot(e) & KHV_PROT_WRITE) && fmt->cleaned(e) && !(e & fmt->dirty_flag));
	CHECK(fmt->entry_dirty(e));	/* its unpin still marks the page dirty */
}

/* The dirty log by the CPU's dirty flags (khv_mmu.hw_dirty). */
static void test_dirty_hw(void)
{
	unsigned long mask[KHV_PT_WORDS], kicks;
	u64 e;

	/* One flush when logging starts. */
	hw_logging_setup(false);
	CHECK(shim.kicks == 1 && take_all(0) == 0 && shim.kicks == 1);

	/* Written by the CPU, no fault: the next take reports it, cleans it, flushes. */
	cpu_write(0x1000);
	cpu_write(70 * 4096);
	memset(mask, 0xff, sizeof(mask));
	kicks = shim.kicks;
	CHECK(take(0, 0, mask, 16) == 2);
	CHECK(mask[0] == 1UL << 1 && mask[1] == 1UL << 6 && !bm[0] && !bm[1]);
	CHECK(shim.kicks == kicks + 1);
	e = leaf(0x1000, NULL);
	CHECK((fmt->entry_prot(e) & KHV_PROT_WRITE) && fmt->cleaned(e) && !(e & fmt->dirty_flag));
	CHECK(take_all(0) == 0 && shim.kicks == kicks + 1);

	/* Only the pages of the mask are harvested. */
	cpu_write(0x1000);
	cpu_write(70 * 4096);
	mask[0] = ~0UL;
	CHECK(take(0, 1, mask, 1) == 1 && mask[0] == 1UL << 6);
	CHECK((leaf(0x1000, NULL) & fmt->dirty_flag) && !bit(1));

	/* A write fault still logs (a page not mapped yet). */
	CHECK(fault(0x5000, KHV_PROT_WRITE) == KHV_MMU_LOGGED && bit(5));

	/* A get that keeps the bits: harvested into the bitmap, left there. */
	memset(mask, 0xff, sizeof(mask));
	down_read(&vm.slots_lock);
	CHECK(khv_mmu_harvest_dirty(&vm, 0, bm, mask, 16) == 2);	/* page 1's flag, page 5's preset */
	up_read(&vm.slots_lock);
	CHECK(bit(1) && bit(5) && !bit(70));
	CHECK(take_all(0) == 2);

	/* Zapped after the CPU wrote through a cleaned leaf: the bit is set then. */
	cpu_write(0x1000);
	zap(0, 4 * MiB);
	CHECK(bit(1) && !bit(5) && !bit(70));
	CHECK(shim.dirty_unpins == 3 && shim_pinned_pages() == 0);

	/* The write-protection mode never asks the CPU. */
	vm.mmu.hw_dirty = false;
	vm.slots[0].dirty_bitmap = NULL;
	vm_done(0);
}

/*
 * The flags and the CPU's log (khv_mmu.hw_log, VT-x PML): the CPU's writes
 * reach the bitmap through the backend's drain (khv_log_dirty_gpa() here,
 * as khv_log_dirty_gpas() does), so gets walk nothing but the leaves of
 * the bits they take.
 */
static void test_dirty_pml(void)
{
	unsigned long mask[KHV_PT_WORDS], kicks, drains;
	u64 e;

	hw_logging_setup(true);

	/* A write logged and drained: taken, its leaf cleaned, one drain and one flush. */
	cpu_write(0x1000);
	khv_log_dirty_gpa(&vm, 0x1000);
	/* A write whose log entry is not drained yet: no get walks to its flag. */
	cpu_write(70 * 4096);
	memset(mask, 0xff, sizeof(mask));
	kicks = shim.kicks;
	drains = shim.drains;
	CHECK(take(0, 0, mask, 16) == 1);
	CHECK(mask[0] == 1UL << 1 && !mask[1] && !bm[0] && !bm[1]);
	CHECK(shim.drains == drains + 1 && shim.kicks == kicks + 1);
	e = leaf(0x1000, NULL);
	CHECK((fmt->entry_prot(e) & KHV_PROT_WRITE) && fmt->cleaned(e) && !(e & fmt->dirty_flag));
	CHECK(leaf(70 * 4096, NULL) & fmt->dirty_flag);

	/* Nothing to take: a drain, no flush. */
	CHECK(take_all(0) == 0 && shim.drains == drains + 2 && shim.kicks == kicks + 1);

	/* Its entry drained later: the next take has it, and cleans the leaf. */
	khv_log_dirty_gpa(&vm, 70 * 4096);
	CHECK(take_all(0) == 1 && shim.kicks == kicks + 2);
	CHECK(!(leaf(70 * 4096, NULL) & fmt->dirty_flag) && fmt->cleaned(leaf(70 * 4096, NULL)));

	/* A bit without a flag (khv's own write): taken, no leaf to clean, no flush. */
	bm[0] |= 1UL << 3;
	kicks = shim.kicks;
	CHECK(take_all(0) == 1 && shim.kicks == kicks);

	/* KEEP: a drain, the bitmap as it is, no leaf read or cleaned. */
	cpu_write(0x1000);
	khv_log_dirty_gpa(&vm, 0x1000);
	drains = shim.drains;
	memset(mask, 0xff, sizeof(mask));
	down_read(&vm.slots_lock);
	CHECK(khv_mmu_harvest_dirty(&vm, 0, bm, mask, 16) == 0);
	up_read(&vm.slots_lock);
	CHECK(shim.drains == drains + 1 && bit(1) && (leaf(0x1000, NULL) & fmt->dirty_flag));
	CHECK(take_all(0) == 1);

	/* A zap of a written cleaned leaf logs it, as with the flags alone. */
	cpu_write(0x1000);
	zap(0, 4 * MiB);
	CHECK(bit(1) && !bit(70));
	CHECK(shim_pinned_pages() == 0);

	vm.mmu.hw_dirty = false;
	vm.mmu.hw_log = false;
	vm.slots[0].dirty_bitmap = NULL;
	vm_done(0);
}

static void test_dirty_wp_range(void)
{
	unsigned long i;

	vm_setup();
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);
	for (i = 0; i < 10; i++)
		CHECK(fault(i * 4096, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	/* Only [3, 7) of the pages, for bounds. */
	vm.slots[0].dirty_bitmap = bm;
	shim_set_writer(&vm.slots_lock, true);
	khv_mmu_log_start(&vm, 3 * 4096, 4 * 4096);
	khv_mmu_log_start(&vm, 0, 0);
	khv_mmu_log_start(&vm, 1ULL << KHV_MMU_GPA_BITS(levels), 4096);
	shim_set_writer(&vm.slots_lock, false);
	audit();
	for (i = 0; i < 10; i++)
		check_leaf_at(i * 4096, 1, shim_page_at(U + i * 4096),
			      i >= 3 && i < 7 ? RX | DIRTY : RWX);
	CHECK(shim.kicks == 1);
	vm.slots[0].dirty_bitmap = NULL;
	vm_done(0);
}

static void test_dirty_split(void)
{
	u64 gpa = 0x40000000;
	struct page *p, *q;
	unsigned long pins;

	vm_setup();
	shim_add_vma(U, 8 * MiB, true, true);
	add_slot(0, gpa, 4 * MiB, U, 0);
	CHECK(fault(gpa, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(fault(gpa + 2 * MiB, KHV_PROT_READ) == KHV_MMU_MAPPED);
	CHECK(vm.mmu.nr_large == 2);
	p = shim_page_at(U);
	q = shim_page_at(U + 2 * MiB);
	CHECK(p->pincount == 1);

	start_logging(0);
	CHECK(shim.kicks == 1);
	check_leaf_at(gpa, 2, p, RX | DIRTY);
	check_leaf_at(gpa + 2 * MiB, 2, q, RX | DIRTY);
	/* Reads and fetches go through the write-protected 2 MiB leaves. */
	CHECK(fault(gpa + 0x1000, KHV_PROT_READ | KHV_PROT_EXEC) == KHV_MMU_MAPPED);
	CHECK(vm.mmu.nr_large == 2);

	/* The first write splits: 512 leaves, the written one writable. */
	pins = shim.pins;
	CHECK(fault(gpa + 0x7000, KHV_PROT_WRITE) == KHV_MMU_LOGGED);
	CHECK(shim.kicks == 2);
	check_leaf_at(gpa + 0x7000, 1, p + 7, RWX);
	check_leaf_at(gpa + 0x8000, 1, p + 8, RX | DIRTY);
	check_leaf_at(gpa + 0x1ff000, 1, p + 511, RX | DIRTY);
	CHECK(vm.mmu.nr_large == 1 && vm.mmu.nr_pinned == 1024);
	CHECK(p->pincount == 512 && shim.pins == pins + 512);
	CHECK(bm[0] == 1UL << 7);
	/* The next write in that 2 MiB: in place. */
	CHECK(fault(gpa + 0x8000, KHV_PROT_WRITE) == KHV_MMU_LOGGED);
	CHECK(shim.pins == pins + 512 && shim.kicks == 2 && bit(8));
	check_logged(0);
	/* Taking the bits write-protects the small leaves again. */
	CHECK(take_all(0) == 2);
	check_leaf_at(gpa + 0x7000, 1, p + 7, RX | DIRTY);

	zap(gpa, 4 * MiB);
	CHECK(shim_pinned_pages() == 0 && p->dirty && q->dirty);
	vm.slots[0].dirty_bitmap = NULL;
	vm_done(0);
}

static void invalidate_first_2m(void)
{
	khv_mmu_invalidate_hva(&vm, U, U + 2 * MiB, true);
	khv_mmu_invalidate_end(&vm.mmu);
}

/* A THP-backed slot at gpa, mapped by a 2 MiB leaf, that starts logging. */
static void logging_2m_slot(u64 gpa)
{
	vm_setup();
	shim_add_vma(U, 4 * MiB, true, true);
	add_slot(0, gpa, 4 * MiB, U, 0);
	CHECK(fault(gpa, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	start_logging(0);
}

static void test_dirty_split_fallback(void)
{
	u64 gpa = 0x40000000;

	/* No memory for the page array: the leaf is zapped, the page mapped alone. */
	logging_2m_slot(gpa);
	shim.kmalloc_fail = true;
	CHECK(fault(gpa + 0x7000, KHV_PROT_WRITE) == KHV_MMU_LOGGED);
	shim.kmalloc_fail = false;
	check_leaf_at(gpa + 0x7000, 1, shim_page_at(U + 0x7000), RWX);
	CHECK(!leaf(gpa + 0x8000, NULL) && vm.mmu.nr_large == 0 && bit(7));
	check_logged(0);
	vm.slots[0].dirty_bitmap = NULL;
	vm_done(0);

	/* An invalidation while the split pins: nothing installed, no pin kept. */
	logging_2m_slot(gpa);
	shim.pin_hook = invalidate_first_2m;
	CHECK(fault(gpa + 0x7000, KHV_PROT_WRITE) == KHV_MMU_LOGGED);
	check_leaf_at(gpa + 0x7000, 1, shim_page_at(U + 0x7000), RWX);
	CHECK(vm.mmu.nr_large == 0 && vm.mmu.nr_pinned == 1 && shim_pinned_pages() == 1);
	check_logged(0);
	vm.slots[0].dirty_bitmap = NULL;
	vm_done(0);
}

struct test {
	const char *name;
	void (*fn)(void);
};

#define TEST(n)	{ #n, test_##n }

/* Run over every configuration in cfgs[]. */
static const struct test tests[] = {
	TEST(format),
	TEST(init),
	TEST(basic_4k),
	TEST(readonly),
	TEST(large),
	TEST(large_refused),
	TEST(large_verification),
	TEST(table_below),
	TEST(race),
	TEST(invalidate),
	TEST(notifier_locked_folios),
	TEST(notifier_nonblock),
	TEST(notifier_order),
	TEST(nowait),
	TEST(zap),
	TEST(zap_nomem),
	TEST(accounting),
	TEST(gpa_reach),
	TEST(stale_leaf),
	TEST(dirty_fault),
	TEST(dirty_take),
	TEST(dirty_hw),
	TEST(dirty_pml),
	TEST(dirty_wp_range),
	TEST(dirty_split),
	TEST(dirty_split_fallback),
	TEST(errors),
	TEST(destroy),
};

/* Whether @name is in the comma-separated list in environment variable @var. */
static bool listed(const char *var, const char *name)
{
	const char *l = getenv(var);
	size_t n = strlen(name);

	for (; l && *l; l += strcspn(l, ","), l += *l == ',')
		if (!strncmp(l, name, n) && (l[n] == ',' || !l[n]))
			return true;
	return false;
}

/*
 * MMU_TEST_CFGS=ept5,npt4 runs only those configurations, MMU_TEST_SKIP=format
 * skips tests by name (for debugging, and for mutants.sh experiments).
 */
int main(void)
{
	unsigned int c, t, n = 2;

	cur = "npt";
	test_npt_levels();
	printf("npt: khv_npt_levels: ok\n");
	cur = "ept";
	test_ept_levels();
	printf("ept: khv_ept_levels: ok\n");

	for (c = 0; c < ARRAY_SIZE(cfgs); c++) {
		cur = cfgs[c].name;
		fmt = cfgs[c].fmt;
		levels = cfgs[c].levels;
		if (getenv("MMU_TEST_CFGS") && !listed("MMU_TEST_CFGS", cur))
			continue;
		for (t = 0; t < ARRAY_SIZE(tests); t++) {
			if (listed("MMU_TEST_SKIP", tests[t].name))
				continue;
			tests[t].fn();
			printf("%s: %s: ok\n", cur, tests[t].name);
			n++;
		}
	}
	printf("mmu selftest: all tests passed (%u tests, %lu checks)\n", n, nr_checks);
	return 0;
}
