// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace unit tests of mmu/mmu.c and mmu/npt.c, built unchanged against
 * the shim (shim.h, shim.c).  Run: make -C mmu/selftest run
 */
#include <stdio.h>
#include <stdlib.h>

#include "shim.h"
#include "shim_test.h"
#include "core/khv.h"

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: %s: CHECK FAILED: %s\n",	\
			__FILE__, __LINE__, __func__, #c);		\
		abort();						\
	}								\
} while (0)

#define MiB		(1UL << 20)
#define GiB		(1UL << 30)
#define U		SHIM_USER_BASE
#define RWX		(KHV_PROT_READ | KHV_PROT_WRITE | KHV_PROT_EXEC)
#define RX		(KHV_PROT_READ | KHV_PROT_EXEC)

static struct khv_vm vm;
static const struct khv_mmu_format *fmt = &khv_npt_format;

static void vm_setup(int levels)
{
	shim_reset();
	memset(&vm, 0, sizeof(vm));
	vm.mm = shim_current_mm();
	CHECK(khv_mmu_init(&vm.mmu, fmt, levels) == 0);
	CHECK(vm.mmu.nr_tables == 1 && shim.tables_live == 1);
	CHECK(vm.mmu.root_pa == page_to_phys(virt_to_page(vm.mmu.root)));
}

static void add_slot(int id, u64 gpa, u64 size, unsigned long uaddr, u32 flags)
{
	vm.slots[id] = (struct khv_memslot){ gpa, size, uaddr, flags, (u32)id };
}

/* A fault as core would issue it; afterwards a vCPU may cache anything mapped. */
static int fault(u64 gpa, unsigned int access)
{
	int readers = vm.slots_lock.readers;
	int r = khv_mmu_fault(&vm, gpa, access);

	CHECK(vm.slots_lock.readers == readers && !vm.mmu.lock.held);
	shim_observe(&vm);
	return r;
}

static void zap(u64 gpa, u64 size)
{
	shim_set_writer(&vm.slots_lock, true);
	khv_mmu_zap_range(&vm, gpa, size);
	shim_set_writer(&vm.slots_lock, false);
	CHECK(!vm.mmu.lock.held);
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

/* Destroy (no vCPU left) and check that nothing leaked. */
static void vm_done(int expected_warnings)
{
	unsigned long pfn;

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

static void test_npt_format(void)
{
	u64 pa = 0x123456789000ULL, e;

	CHECK(fmt->make_table(pa) == (pa | 0x27));		/* P RW US A */
	e = fmt->make_leaf(pa, 1, RWX);
	CHECK(e == (pa | 0x67));				/* P RW US A D */
	CHECK(fmt->make_leaf(pa, 1, RX) == (pa | 0x25));	/* no RW, no D */
	CHECK(fmt->make_leaf(pa, 1, KHV_PROT_READ) == (pa | 0x25 | (1ULL << 63)));
	CHECK(fmt->make_leaf(0x40000000ULL, 2, RWX) == (0x40000000ULL | 0xe7));
	CHECK(fmt->entry_prot(e) == RWX);
	CHECK(fmt->entry_prot(fmt->make_leaf(pa, 1, RX)) == RX);
	CHECK(fmt->entry_prot(fmt->make_leaf(pa, 2, KHV_PROT_READ)) == KHV_PROT_READ);
	CHECK(fmt->entry_prot(0) == 0);
	CHECK(fmt->is_present(e) && !fmt->is_present(e & ~1ULL));
	CHECK(fmt->is_leaf(fmt->make_table(pa), 1));
	CHECK(!fmt->is_leaf(fmt->make_table(pa), 2));
	CHECK(fmt->is_leaf(fmt->make_leaf(0x40000000ULL, 2, RWX), 2));
	CHECK(!fmt->is_leaf(0x80 | 1, 4));			/* PS reserved up there */
	CHECK(fmt->entry_pa(e, 1) == pa);
	CHECK(fmt->entry_pa(fmt->make_table(pa), 3) == pa);
	/* A 2 MiB leaf with the PAT bit (12) set: not part of the address. */
	CHECK(fmt->entry_pa(0x40200000ULL | 0x1000 | 0x81, 2) == 0x40200000ULL);
	CHECK(fmt->entry_pa((1ULL << 63) | pa | 0x67, 1) == pa);
	shim_la57 = true;
	CHECK(khv_npt_levels() == 5);
	shim_la57 = false;
	CHECK(khv_npt_levels() == 4);
	CHECK(KHV_MMU_GPA_BITS(4) == 48 && KHV_MMU_GPA_BITS(5) == 57);
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

	vm_setup(4);
	shim_add_vma(U, 16 * MiB, true, false);
	add_slot(0, gpa, 16 * MiB, U, 0);
	/* A slot whose memory is not mapped in the process. */
	add_slot(1, 64 * MiB, 1 * MiB, U + 512 * MiB, 0);

	CHECK(fault(gpa + 0x1234, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	e = leaf(gpa + 0x1000, &level);
	p = shim_page_at(U + 0x1000);
	CHECK(e && level == 1 && p);
	CHECK(fmt->entry_pa(e, 1) == page_to_phys(p));
	CHECK(fmt->entry_prot(e) == RWX);
	CHECK(e & 4);						/* US */
	CHECK(!(e & 0x18));					/* PWT PCD: WB */
	CHECK(vm.mmu.nr_pinned == 1 && vm.mmu.nr_large == 0);
	CHECK(vm.mmu.nr_tables == 4 && shim.tables_live == 4);
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
	CHECK(fmt->entry_prot(leaf(gpa + 0x5000, NULL)) == RWX);

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

	vm_setup(4);
	shim_add_vma(U, 1 * MiB, false, false);
	add_slot(0, gpa, 1 * MiB, U, KHV_MEM_READONLY);

	CHECK(fault(gpa, KHV_PROT_WRITE) == KHV_MMU_MMIO);
	CHECK(shim.pins == 0 && !leaf(gpa, NULL));
	CHECK(fault(gpa, KHV_PROT_READ) == KHV_MMU_MAPPED);
	e = leaf(gpa, &level);
	CHECK(e && level == 1 && fmt->entry_prot(e) == RX);
	CHECK(!(e & 2) && !(e & (1ULL << 63)));
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

	vm_setup(4);
	shim_add_vma(U, 8 * MiB, true, true);
	add_slot(0, gpa, 8 * MiB, U, 0);

	CHECK(fault(gpa + 0x3000, KHV_PROT_EXEC) == KHV_MMU_MAPPED);
	e = leaf(gpa + 0x1ff000, &level);
	p = shim_page_at(U);
	CHECK(e && level == 2 && (e & 0x80));
	CHECK(fmt->entry_pa(e, 2) == page_to_phys(p));
	CHECK(head_of(p) == p && p->order == 9 && p->pincount == 1);
	CHECK(vm.mmu.nr_large == 1 && vm.mmu.nr_pinned == 512);
	CHECK(vm.mmu.nr_tables == 3);				/* no level-1 table */
	CHECK(fmt->entry_prot(e) == RWX);
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
	vm_setup(4);
	shim_add_vma(U, 8 * MiB, true, true);
	add_slot(0, 0x40000000, 4 * MiB, U + 4096, 0);
	CHECK(fault(0x40000000 + 2 * MiB, KHV_PROT_READ) == KHV_MMU_MAPPED);
	CHECK(leaf(0x40000000 + 2 * MiB, &level) && level == 1);
	CHECK(vm.mmu.nr_large == 0 && vm.mmu.nr_pinned == 1);
	vm_done(0);

	/* The aligned 2 MiB guest range is not all inside the slot. */
	vm_setup(4);
	shim_add_vma(U, 8 * MiB, true, true);
	add_slot(0, 0x40000000, 2 * MiB - 4096, U, 0);
	add_slot(1, 0x40000000 + 3 * MiB, 2 * MiB, U + 3 * MiB, 0);
	CHECK(fault(0x40000000, KHV_PROT_READ) == KHV_MMU_MAPPED);
	CHECK(fault(0x40000000 + 4 * MiB, KHV_PROT_READ) == KHV_MMU_MAPPED);
	CHECK(vm.mmu.nr_large == 0 && vm.mmu.nr_pinned == 2);
	vm_done(0);

	/* The folio is not a 2 MiB run: small pages. */
	vm_setup(4);
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
	vm_setup(4);
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);
	map_thp(U + 2 * MiB, 0);
	shim_map(U + 2 * MiB + 0x1ff000, shim_alloc_folio(0, 0), true);
	expect_4k_over_thp();
	vm_done(0);

	/* One page of the run not writable (still COW-shared after fork). */
	vm_setup(4);
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);
	pfn = map_thp(U + 2 * MiB, 0);
	shim_map(U + 2 * MiB + 0x7000, pfn + 7, false);
	expect_4k_over_thp();
	vm_done(0);

	/* A "large folio" that is not physically 2 MiB aligned. */
	vm_setup(4);
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);
	map_thp(U + 2 * MiB, 1);
	expect_4k_over_thp();
	vm_done(0);

	/* The THP mapped at the wrong offset (hva block != folio start). */
	vm_setup(4);
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
	vm_setup(4);
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
	vm_setup(4);
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

	vm_setup(4);
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
	vm_setup(4);
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);
	shim.pin_hook = race_hook;
	CHECK(fault(0x3000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	p = shim_page_at(U + 0x3000);
	CHECK(head_of(p)->pincount == 1 && vm.mmu.nr_pinned == 1);
	vm_done(0);

	/* The same with a 2 MiB leaf. */
	vm_setup(4);
	shim_add_vma(U, 4 * MiB, true, true);
	add_slot(0, 0, 4 * MiB, U, 0);
	shim.pin_hook = race_hook_large;
	CHECK(fault(0x200000 + 0x5000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	p = shim_page_at(U + 2 * MiB);
	CHECK(p->pincount == 1 && vm.mmu.nr_large == 1 && vm.mmu.nr_pinned == 512);
	vm_done(0);
}

static void map_many(u64 gpa, int n)
{
	int i;

	for (i = 0; i < n; i++)
		CHECK(fault(gpa + (u64)i * 4096, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
}

static void test_zap(void)
{
	vm_setup(4);
	shim_add_vma(U, 8 * MiB, true, false);
	shim_add_vma(U + 8 * MiB, 4 * MiB, true, true);
	add_slot(0, 0, 8 * MiB, U, 0);
	add_slot(1, 1 * GiB, 4 * MiB, U + 8 * MiB, 0);
	map_many(0x1ff000, 300);			/* crosses a 2 MiB line */
	CHECK(fault(1 * GiB, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(vm.mmu.nr_pinned == 300 + 512 && vm.mmu.nr_large == 1);
	CHECK(vm.mmu.nr_tables == 1 + 1 + 2 + 2);	/* root, L3, 2 L2, 2 L1 */

	/* Nothing mapped there: no flush. */
	zap(4 * MiB, 4 * MiB);
	CHECK(shim.kicks == 0 && vm.mmu.nr_pinned == 812);

	/* Partial: [0x200000, 0x210000) keeps its table. */
	zap(0x200000, 0x10000);
	CHECK(shim.kicks == 1 && vm.mmu.nr_pinned == 812 - 16);
	CHECK(vm.mmu.nr_tables == 6);
	CHECK(!leaf(0x200000, NULL) && leaf(0x210000, NULL) && leaf(0x1ff000, NULL));

	/*
	 * From the middle of the [2 MiB, 4 MiB) table to past its end: the
	 * table keeps the leaves below the range, and stays.
	 */
	zap(0x300000, 5 * MiB);
	CHECK(shim.kicks == 2 && vm.mmu.nr_tables == 6);
	CHECK(leaf(0x2ff000, NULL) && !leaf(0x300000, NULL) && leaf(0x1ff000, NULL));
	CHECK(vm.mmu.nr_pinned == 812 - 16 - (0x32b000 - 0x300000) / 4096);

	/* The whole first slot: its tables under a fully covered span go. */
	zap(0, 8 * MiB);
	CHECK(shim.kicks == 3 && vm.mmu.nr_pinned == 512);
	CHECK(vm.mmu.nr_tables == 4);		/* root, L3, both L2 */
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
	vm_setup(4);
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

	vm_setup(4);
	shim_add_vma(U, 1 * GiB, true, false);
	add_slot(0, 4 * GiB, 1 * GiB, U, 0);
	map_many(4 * GiB + 100 * MiB, 2560);
	CHECK(vm.mmu.nr_pinned == 2560 && shim_pinned_pages() == 2560);
	CHECK(shim.faulted_in == 2560);
	vm_done(0);

	/* The same with THP: five 2 MiB leaves, one pin each. */
	vm_setup(4);
	shim_add_vma(U, 1 * GiB, true, true);
	add_slot(0, 4 * GiB, 1 * GiB, U, 0);
	for (i = 0; i < 2560; i++)
		CHECK(fault(4 * GiB + 100 * MiB + (u64)i * 4096, KHV_PROT_READ) ==
		      KHV_MMU_MAPPED);
	CHECK(vm.mmu.nr_pinned == 2560 && vm.mmu.nr_large == 5);
	CHECK(shim_pinned_pages() == 5 && shim.faulted_in == 2560);
	vm_done(0);
}

static void test_levels(void)
{
	u64 high = 1ULL << 50;

	vm_setup(5);
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, high, 4 * MiB, U, 0);
	add_slot(1, 0, 4 * MiB, U, 0);			/* aliases: not faulted */
	CHECK(fault(high + 0x1000, KHV_PROT_READ) == KHV_MMU_MAPPED);
	CHECK(vm.mmu.nr_tables == 5 && leaf(high + 0x1000, NULL));
	CHECK(vm.mmu.root[(high >> 48) & 511] != 0);
	zap(high, 4 * MiB);
	/* The level-1 table went; the ones spanning more than 4 MiB stay. */
	CHECK(vm.mmu.nr_tables == 4 && !leaf(high + 0x1000, NULL));
	zap(0, 1ULL << 57);
	CHECK(vm.mmu.nr_tables == 1);
	vm_done(0);

	/* A 4-level table cannot reach 2^50: -EFAULT, nothing pinned. */
	vm_setup(4);
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, high, 4 * MiB, U, 0);
	CHECK(fault(high, KHV_PROT_READ) == -EFAULT);
	CHECK(shim.pins == 0);
	zap(high, 4 * MiB);
	vm_done(0);
}

/* A present leaf lacking a permission its slot grants gets replaced. */
static void test_stale_leaf(void)
{
	struct page *p;
	u64 *pte;
	int level;

	vm_setup(4);
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);
	CHECK(fault(0x1000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	p = shim_page_at(U + 0x1000);
	CHECK(leaf(0x1000, &level) && level == 1);
	/* Make it read-only behind mmu.c's back (an older mapping). */
	pte = vm.mmu.root;
	for (level = 4; level > 1; level--)
		pte = phys_to_virt(fmt->entry_pa(pte[(0x1000ULL >> (12 + 9 * (level - 1))) & 511],
						 level));
	pte[1] = fmt->make_leaf(page_to_phys(p), 1, RX);
	shim_observe(&vm);
	CHECK(fault(0x1000, KHV_PROT_WRITE) == KHV_MMU_MAPPED);
	CHECK(shim.kicks == 1);
	CHECK(fmt->entry_prot(leaf(0x1000, NULL)) == RWX);
	CHECK(head_of(p)->pincount == 1 && vm.mmu.nr_pinned == 1);
	vm_done(0);
}

static void test_errors(void)
{
	vm_setup(4);
	shim_add_vma(U, 4 * MiB, true, false);
	add_slot(0, 0, 4 * MiB, U, 0);

	/* No memory for a table: -ENOMEM, the pin is dropped. */
	shim.alloc_page_budget = 1;			/* L3 yes, L2 no */
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
	zap(U64_MAX - 4095, 4096);
	CHECK(shim.kicks == 0 && vm.mmu.nr_pinned == 1);
	vm_done(0);
}

static void test_destroy(void)
{
	vm_setup(5);
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

int main(void)
{
	test_npt_format();
	test_init();
	test_basic_4k();
	test_readonly();
	test_large();
	test_large_refused();
	test_large_verification();
	test_table_below();
	test_race();
	test_zap();
	test_zap_nomem();
	test_accounting();
	test_levels();
	test_stale_leaf();
	test_errors();
	test_destroy();
	printf("mmu selftest: all tests passed\n");
	return 0;
}
