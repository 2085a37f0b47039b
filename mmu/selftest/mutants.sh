#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC2034 # the settings below are read by scripts/mutants.sh
#
# Mutation check of the mmu selftest: each mutant below is one deliberate
# bug in a scratch copy of mmu/ (never in the tree itself), and the harness
# must fail on every one.  Run: make -C mmu/selftest mutants
#
# A mutant is "file@@old@@new": the one line of mmu/file that contains old
# gets old replaced by new.  A mutant whose text no longer matches exactly
# one line is reported as stale: update it with the source.  The
# environment reaches mmu_test: MMU_TEST_CFGS=ept5 MMU_TEST_SKIP=format
# shows what the checks on installed entries catch on their own.
# The runner is scripts/mutants.sh.
set -u

name=mmu
subdir=mmu
copy=(mmu)
harness=mmu/selftest
bin=mmu_test
fail_re='CHECK FAILED|WARN_ON|ERROR|runtime error'
mutants=(
	# ---- ept.c: the entry encoding
	'ept.c@@(6ULL << 3)@@(6ULL << 2)'
	'ept.c@@(6ULL << 3)@@(0ULL << 3)'
	'ept.c@@(6ULL << 3)@@(4ULL << 3)'
	'ept.c@@EPT_R | EPT_MT_WB | EPT_IPAT | EPT_A;@@EPT_R | EPT_MT_WB | EPT_A;'
	'ept.c@@EPT_IPAT	BIT_ULL(6)@@EPT_IPAT	BIT_ULL(7)'
	'ept.c@@EPT_RWX | EPT_A;@@EPT_RWX | EPT_A | EPT_LARGE;'
	'ept.c@@EPT_RWX | EPT_A;@@EPT_RWX | EPT_A | EPT_MT_WB;'
	'ept.c@@EPT_RWX | EPT_A;@@EPT_RWX | EPT_A | EPT_IPAT;'
	'ept.c@@EPT_RWX | EPT_A;@@EPT_R | EPT_W | EPT_A;'
	'ept.c@@EPT_RWX | EPT_A;@@EPT_RWX;'
	'ept.c@@	if (level > 1)@@	if (level >= 1)'
	'ept.c@@	if (level > 1)@@	if (level > 2)'
	'ept.c@@	if (level > 1)@@	if (level > 1 || !(pa & (SZ_2M - 1)))'
	'ept.c@@u64 e = EPT_R | EPT_MT_WB@@u64 e = (prot & KHV_PROT_READ ? EPT_R : 0) | EPT_MT_WB'
	'ept.c@@e |= EPT_W | EPT_D;@@e |= EPT_W;'
	'ept.c@@e |= EPT_W | EPT_D;@@e |= EPT_D;'
	'ept.c@@u64 e = EPT_R | EPT_MT_WB | EPT_IPAT | EPT_A;@@u64 e = EPT_R | EPT_MT_WB | EPT_IPAT | EPT_A | EPT_D;'
	'ept.c@@		e |= EPT_X;@@		e |= EPT_W;'
	'ept.c@@	if (prot & KHV_PROT_EXEC)@@	if (prot & KHV_PROT_READ)'
	'ept.c@@EPT_A		BIT_ULL(8)@@EPT_A		BIT_ULL(10)'
	'ept.c@@EPT_D		BIT_ULL(9)@@EPT_D		BIT_ULL(11)'
	'ept.c@@GENMASK_ULL(51, 12)@@GENMASK_ULL(47, 12)'
	'ept.c@@GENMASK_ULL(51, 12)@@GENMASK_ULL(63, 12)'
	'ept.c@@GENMASK_ULL(51, 12)@@GENMASK_ULL(51, 0)'
	'ept.c@@GENMASK_ULL(51, 12)@@GENMASK_ULL(52, 12)'
	# ---- ept.c: decoding
	'ept.c@@return level == 1 || ((level == 2 || level == 3) && (entry & EPT_LARGE));@@return level == 1 || (entry & EPT_LARGE);'
	'ept.c@@return level == 1 || ((level == 2 || level == 3) && (entry & EPT_LARGE));@@return level == 1 || (level == 2 && (entry & EPT_LARGE));'
	'ept.c@@return level == 1 || ((level == 2 || level == 3) && (entry & EPT_LARGE));@@return level == 1 || (level != 3 && (entry & EPT_LARGE));'
	'ept.c@@GENMASK_ULL(12 + 9 * (level - 1) - 1, 0)@@GENMASK_ULL(12 + 9 * level - 1, 0)'
	'ept.c@@if (level > 1 && ept_is_leaf(entry, level))@@if (0)'
	'ept.c@@return entry & EPT_RWX;@@return entry & EPT_R;'
	'ept.c@@return entry & EPT_RWX;@@return entry & GENMASK_ULL(5, 0);'
	'ept.c@@		prot |= KHV_PROT_WRITE;@@		prot |= KHV_PROT_EXEC;'
	'ept.c@@if (entry & EPT_X)@@if (entry & EPT_R)'
	'ept.c@@	if (entry & EPT_R)@@	if (entry & EPT_RWX)'
	# ---- ept.c: khv_ept_levels()
	'ept.c@@EPT_CAP_WALK5	BIT_ULL(7)@@EPT_CAP_WALK5	BIT_ULL(6)'
	'ept.c@@if (!pgtable_l5_enabled() || rdmsrl_safe@@if (rdmsrl_safe'
	'ept.c@@rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP, &cap))@@(rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP, &cap), 0))'
	'ept.c@@rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP@@rdmsrl_safe(0x48b'
	'ept.c@@(cap & EPT_CAP_WALK5) ? 5 : 4;@@5;'
	'ept.c@@(cap & EPT_CAP_WALK5) ? 5 : 4;@@4;'
	# ---- mmu.c / mmu.h: the walk at 4 and 5 levels
	'mmu.c@@for (l = mmu->levels; ; l--) {@@for (l = 4; ; l--) {'
	'internal.h@@return 1ULL << KHV_MMU_GPA_BITS(mmu->levels);@@return 1ULL << KHV_MMU_GPA_BITS(4 + 0 * mmu->levels);'
	'mmu.h@@(12 + 9 * (levels))@@(13 + 9 * (levels))'
	'internal.h@@return (gpa >> khv_level_shift(level)) & (KHV_PT_ENTRIES - 1);@@return (gpa >> khv_level_shift(level)) & 255;'
	'mmu.c@@done = khv_zap_table(&z, mmu->root, mmu->levels, 0);@@done = khv_zap_table(&z, mmu->root, 4, 0);'
	'mmu.c@@khv_destroy_table(mmu, mmu->root, mmu->levels);@@khv_destroy_table(mmu, mmu->root, 4);'
	'mmu.c@@if (eb < z->start || eb + size > z->end)@@if (eb < z->start || eb + size > z->end || level == 5)'
	# ---- invalidations (the MMU notifier) and allocation under mmu->lock
	'mmu.c@@if (!khv_mmu_invalidate_quiet(mmu, f->seq, f->large ? ALIGN_DOWN(f->hva, SZ_2M) : f->hva,@@if (0 && !khv_mmu_invalidate_quiet(mmu, f->seq, f->large ? ALIGN_DOWN(f->hva, SZ_2M) : f->hva,'
	'mmu.c@@(!mmu->invalidate_active ||@@(1 ||'
	'mmu.c@@quiet = mmu->invalidate_seq == seq &&@@quiet = (seq || 1) &&'
	'mmu.c@@hva >= mmu->invalidate_end || hva + len <= mmu->invalidate_start);@@hva >= mmu->invalidate_end || (len && 0));'
	'mmu.c@@hva >= mmu->invalidate_end || hva + len <= mmu->invalidate_start);@@hva >= mmu->invalidate_end || hva + 0 * len <= mmu->invalidate_start);'
	'mmu.c@@f->large ? SZ_2M : PAGE_SIZE))@@PAGE_SIZE))'
	'mmu.c@@mmu->invalidate_start = min(mmu->invalidate_start, start);@@mmu->invalidate_start = start;'
	'mmu.c@@mmu->invalidate_active--;@@mmu->invalidate_active -= 0;'
	'mmu.c@@page = alloc_page(GFP_NOWAIT | __GFP_ACCOUNT | __GFP_ZERO | __GFP_NOWARN);@@page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);'
	'mmu.c@@c = kmalloc(PAGE_SIZE, GFP_NOWAIT | __GFP_NOWARN);@@c = kmalloc(PAGE_SIZE, GFP_KERNEL | __GFP_NOWARN);'
	'mmu.c@@if (!mmu->spare) {@@if (0) {'
	# ---- the MMU notifier's start: never sleeps, no folio lock, begin first
	'mmu.c@@if (flags & KHV_ZAP_NOTIFIER)@@if (flags & 0)'
	'mmu.c@@if (flags & KHV_ZAP_NOTIFIER)@@if (flags | 1)'
	'mmu.c@@khv_batch_release(&z.batch, flags);@@khv_batch_release(&z.batch, 0);'
	'mmu.c@@if (!folio_test_dirty(folio))@@if (0)'
	'mmu.c@@	khv_mmu_invalidate_begin(&vm->mmu, start, end);@@	;'
	'mmu.c@@unsigned int flags = KHV_ZAP_NOTIFIER | (blockable ? 0 : KHV_ZAP_NONBLOCK);@@unsigned int flags = KHV_ZAP_NOTIFIER | (blockable & 0);'
	'mmu.c@@if (!done && !(flags & KHV_ZAP_NONBLOCK))@@if (!done)'
	'mmu.c@@if (!z->left || !khv_pvec_add(@@if (!khv_pvec_add('
	# ---- the dirty log: every page a vCPU can write without a fault is logged
	'mmu.c@@		set_bit(f->dirty_bit, f->dirty_bitmap);@@		(void)f;'
	'mmu.c@@			f.prot &= ~KHV_PROT_WRITE;@@			(void)f;'
	'mmu.c@@if (!f.dirty_bitmap && khv_slot_allows_large(slot, f.gpa))@@if (khv_slot_allows_large(slot, f.gpa))'
	'dirty.c@@changed += khv_log_start_2m(mmu, at, gpa, end);@@khv_log_start_2m(mmu, at, gpa, end);'
	'dirty.c@@changed += khv_wp_page(mmu, base + ((u64)b << PAGE_SHIFT));@@khv_wp_page(mmu, base + ((u64)b << PAGE_SHIFT));'
	'dirty.c@@} while (!try_cmpxchg(ep, &old, fmt->write_protect(old)));@@} while (0);'
	'dirty.c@@took = old & mask[w];@@took = mask[w];'
	'dirty.c@@if (mmu->hw_dirty && !mmu->hw_log && mmu->root)@@if (mmu->hw_dirty && mmu->root)'
	'dirty.c@@if (mmu->hw_log && took && mmu->root)@@if (0)'
	'dirty.c@@if (mmu->hw_log && mmu->root)@@if (0)'
	'dirty.c@@if (mmu->hw_log) {@@if (0) {'
	'dirty.c@@if (page < start || page >= end)@@if (page < start || page >= end + SZ_2M)'
	'dirty.c@@			if (i == idx)@@			if (i == idx + 1)'
	'dirty.c@@t[i] = old_dirty ? fmt->write_protect(t[i]) :@@t[i] = 0 ? fmt->write_protect(t[i]) :'
	'dirty.c@@ret = slot->dirty_bitmap ? KHV_MMU_LOGGED : KHV_MMU_MAPPED;@@ret = KHV_MMU_MAPPED;'
	'dirty.c@@		/* No vCPU may use the 2 MiB translation when its pin goes. */@@		unpin_user_pages_dirty_lock(&old, 1, old_dirty);'
	'npt.c@@return entry & ~NPT_RW;@@return entry & ~(NPT_RW | NPT_D);'
	'ept.c@@return entry & ~EPT_W;@@return entry & ~(EPT_W | EPT_D);'
	# ---- npt.c, for comparison
	'npt.c@@NPT_P | NPT_RW | NPT_US | NPT_A;@@NPT_P | NPT_RW | NPT_A;'
	'npt.c@@e |= NPT_RW | NPT_D;@@e |= NPT_RW;'
)

. "$(dirname "$0")/../../scripts/mutants.sh"
mutants_main
