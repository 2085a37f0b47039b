// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's own page tables, walked in software: for the instruction fetch
 * of the decoder and for the memory operand of string port I/O, which the
 * hardware hands to khv as guest linear addresses.
 *
 * The walk follows the architecture: present, reserved bits (RSVD in the
 * error code), R/W with CR0.WP, U/S, NX (EFER.NXE), SMEP and SMAP (with
 * RFLAGS.AC), 4M/2M/1G pages.  Reserved address bits are those of the CPU
 * the guest runs on (boot_cpu_data.x86_phys_bits), because it is that CPU,
 * not the guest's CPUID, that walks the same tables while the guest runs.
 * Protection keys are not checked.  Segment limits and types are not checked
 * either: the hardware did that before it exited.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/msr-index.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>
#include <asm/trap_pf.h>
#include <asm/trapnr.h>

#include "khv.h"
#include "emulate.h"

#define KHV_PTE_P	BIT_ULL(0)
#define KHV_PTE_RW	BIT_ULL(1)
#define KHV_PTE_US	BIT_ULL(2)
#define KHV_PTE_A	BIT_ULL(5)
#define KHV_PTE_D	BIT_ULL(6)
#define KHV_PTE_PS	BIT_ULL(7)
#define KHV_PTE_NX	BIT_ULL(63)

/* How often a walk is redone when an entry changes under the A/D update. */
#define KHV_AD_RETRIES	4

/* One walk: the entries it used, for the accessed/dirty update. */
struct khv_walk {
	int levels;		/* 2: 32-bit, 3: PAE, 4, 5: long mode */
	int n;			/* entries recorded, top first */
	u64 pte_gpa[5];
	u64 pte[5];
};

static bool khv_wide(const struct khv_walk *w)
{
	return w->levels > 2;
}

/* Reserved-bit mask of one present entry at level (1 = page table). */
static u64 khv_rsvd_mask(const struct khv_walk *w, int level, u64 pte, bool nxe, bool pse)
{
	unsigned int maxphy = min_t(unsigned int, boot_cpu_data.x86_phys_bits, 52);
	u64 high = maxphy < 52 ? GENMASK_ULL(51, maxphy) : 0;

	if (!khv_wide(w)) {
		/* 32-bit paging: only a 4M page has reserved bits (PSE-36). */
		if (level == 2 && pse && (pte & KHV_PTE_PS)) {
			u64 m = BIT_ULL(21);

			if (maxphy < 40)
				m |= GENMASK_ULL(20, 13 + maxphy - 32);
			return m;
		}
		return 0;
	}
	if (w->levels == 3 && level == 3)
		/* PAE PDPTE: no R/W, U/S, A, PS or NX. */
		return GENMASK_ULL(63, maxphy) | GENMASK_ULL(8, 5) | GENMASK_ULL(2, 1);
	if (!nxe)
		high |= KHV_PTE_NX;
	if (level >= 4)
		return high | KHV_PTE_PS;
	if (pte & KHV_PTE_PS) {
		if (level == 3)
			return high | GENMASK_ULL(29, 13);
		if (level == 2)
			return high | GENMASK_ULL(20, 13);
	}
	return high;
}

/* Whether the entry maps a page rather than pointing to a table. */
static bool khv_is_leaf(const struct khv_walk *w, int level, u64 pte, bool pse)
{
	if (level == 1)
		return true;
	if (!(pte & KHV_PTE_PS))
		return false;
	if (!khv_wide(w))
		return level == 2 && pse;
	return level == 2 || (level == 3 && w->levels >= 4);
}

static u64 khv_leaf_gpa(const struct khv_walk *w, int level, u64 pte, u64 gva)
{
	if (!khv_wide(w)) {
		if (level == 1)
			return (pte & 0xfffff000) | (gva & 0xfff);
		/* 4M page: PA 39:32 sit in PDE bits 20:13. */
		return (pte & 0xffc00000) | (((pte >> 13) & 0xff) << 32) | (gva & 0x3fffff);
	}
	if (level == 3)
		return (pte & GENMASK_ULL(51, 30)) | (gva & GENMASK_ULL(29, 0));
	if (level == 2)
		return (pte & GENMASK_ULL(51, 21)) | (gva & GENMASK_ULL(20, 0));
	return (pte & GENMASK_ULL(51, 12)) | (gva & 0xfff);
}

static unsigned int khv_index(const struct khv_walk *w, int level, u64 gva)
{
	if (!khv_wide(w))
		return (gva >> (12 + 10 * (level - 1))) & 0x3ff;
	if (w->levels == 3 && level == 3)
		return (gva >> 30) & 3;
	return (gva >> (12 + 9 * (level - 1))) & 0x1ff;
}

static int khv_walk(struct khv_vcpu *vcpu, u64 gva, unsigned int access,
		    struct khv_walk *w, u64 *gpa, u32 *pf_error)
{
	u64 cr0 = khv_ops->get_cr(vcpu, 0), cr4 = khv_ops->get_cr(vcpu, 4);
	u64 efer = khv_ops->get_efer(vcpu), cr3 = khv_ops->get_cr(vcpu, 3);
	bool user_access = access & KHV_GVA_USER, write = access & KHV_GVA_WRITE;
	bool fetch = access & KHV_GVA_FETCH, pse = cr4 & X86_CR4_PSE;
	bool writable = true, user = true, nx = false, nxe;
	u64 table, pte = 0;
	u32 ec = 0;
	int level;

	w->n = 0;
	if (!(cr0 & X86_CR0_PG)) {
		w->levels = 0;
		*gpa = (efer & EFER_LMA) ? gva : (u32)gva;
		return 0;
	}
	if (!(cr4 & X86_CR4_PAE)) {
		w->levels = 2;
		table = cr3 & 0xfffff000;
		gva = (u32)gva;
	} else if (!(efer & EFER_LMA)) {
		w->levels = 3;
		table = cr3 & 0xffffffe0;
		gva = (u32)gva;
	} else {
		int bits = (cr4 & X86_CR4_LA57) ? 57 : 48;

		w->levels = (cr4 & X86_CR4_LA57) ? 5 : 4;
		table = cr3 & GENMASK_ULL(51, 12);
		if ((u64)sign_extend64(gva, bits - 1) != gva)
			return -EINVAL;
	}
	nxe = khv_wide(w) && (efer & EFER_NX);

	if (write)
		ec |= X86_PF_WRITE;
	if (user_access)
		ec |= X86_PF_USER;
	if (fetch && (nxe || (cr4 & X86_CR4_SMEP)))
		ec |= X86_PF_INSTR;

	for (level = w->levels; level >= 1; level--) {
		unsigned int size = khv_wide(w) ? 8 : 4;
		u64 pte_gpa = table + khv_index(w, level, gva) * size;

		pte = 0;
		if (khv_read_guest(vcpu->vm, pte_gpa, &pte, size))
			return -EIO;
		w->pte_gpa[w->n] = pte_gpa;
		w->pte[w->n++] = pte;

		if (!(pte & KHV_PTE_P)) {
			*pf_error = ec;
			return -EFAULT;
		}
		if (pte & khv_rsvd_mask(w, level, pte, nxe, pse)) {
			*pf_error = ec | X86_PF_PROT | X86_PF_RSVD;
			return -EFAULT;
		}
		if (!(w->levels == 3 && level == 3)) {
			writable &= !!(pte & KHV_PTE_RW);
			user &= !!(pte & KHV_PTE_US);
		}
		if (nxe && (pte & KHV_PTE_NX))
			nx = true;
		if (khv_is_leaf(w, level, pte, pse))
			break;
		table = khv_wide(w) ? pte & GENMASK_ULL(51, 12) : pte & 0xfffff000;
	}

	if ((user_access && !user) ||
	    (write && !writable && (user_access || (cr0 & X86_CR0_WP))) ||
	    (fetch && nx) ||
	    (!user_access && user && fetch && (cr4 & X86_CR4_SMEP)) ||
	    (!user_access && user && !fetch && (cr4 & X86_CR4_SMAP) &&
	     !(vcpu->rflags & X86_EFLAGS_AC))) {
		*pf_error = ec | X86_PF_PROT;
		return -EFAULT;
	}
	*gpa = khv_leaf_gpa(w, level, pte, gva);
	return 0;
}

/*
 * Atomic updates of a guest entry, through the VMM's mapping of the slot:
 * another vCPU may be changing the same entry.  0 done, 1 the entry changed,
 * < 0 not reachable.
 */
static int khv_cmpxchg_user32(u32 __user *p, u32 old, u32 new)
{
	if (!access_ok(p, sizeof(*p)))
		return -EFAULT;
	return __try_cmpxchg_user(p, &old, new, khv_efault32);
}

static int khv_cmpxchg_user64(u64 __user *p, u64 old, u64 new)
{
	if (!access_ok(p, sizeof(*p)))
		return -EFAULT;
	return __try_cmpxchg_user(p, &old, new, khv_efault64);
}

static int khv_gpte_update(struct khv_vcpu *vcpu, u64 gpa, u64 old, u64 new, bool wide)
{
	struct khv_vm *vm = vcpu->vm;
	const struct khv_memslot *s;
	void __user *p;
	int r = -EIO;

	if (current->mm != vm->mm)
		return -EIO;
	down_read(&vm->slots_lock);
	s = khv_find_slot(vm, gpa);
	/* Tables in a read-only slot keep their bits: the guest cannot write there either. */
	if (s && !(s->flags & KHV_MEM_READONLY)) {
		p = (void __user *)(unsigned long)(s->uaddr + (gpa - s->gpa));
		if (wide)
			r = khv_cmpxchg_user64(p, old, new);
		else
			r = khv_cmpxchg_user32(p, old, new);
		/* A write khv made for the guest: the dirty log must see it. */
		if (!r)
			khv_mark_dirty(s, gpa);
	}
	up_read(&vm->slots_lock);
	return r;
}

/*
 * Set the accessed bits of every entry used and the dirty bit of the leaf
 * for a write, as the hardware does on a successful translation.  Returns 1
 * when an entry changed since it was read (walk again), else 0.
 */
static int khv_set_accessed_dirty(struct khv_vcpu *vcpu, const struct khv_walk *w, bool write)
{
	int i;

	for (i = 0; i < w->n; i++) {
		u64 bits = KHV_PTE_A;

		/* PAE PDPTEs have no accessed bit. */
		if (w->levels == 3 && i == 0)
			continue;
		if (write && i == w->n - 1)
			bits |= KHV_PTE_D;
		if ((w->pte[i] & bits) == bits)
			continue;
		if (khv_gpte_update(vcpu, w->pte_gpa[i], w->pte[i], w->pte[i] | bits,
				    khv_wide(w)) == 1)
			return 1;
	}
	return 0;
}

int khv_gva_to_gpa(struct khv_vcpu *vcpu, u64 gva, unsigned int access,
		   u64 *gpa, u32 *pf_error)
{
	struct khv_walk w;
	int tries, err;

	for (tries = 0; ; tries++) {
		err = khv_walk(vcpu, gva, access, &w, gpa, pf_error);
		if (err || tries == KHV_AD_RETRIES)
			return err;
		if (!khv_set_accessed_dirty(vcpu, &w, access & KHV_GVA_WRITE))
			return 0;
	}
}

void khv_queue_page_fault(struct khv_vcpu *vcpu, u64 addr, u32 error_code)
{
	/* The backend loads CR2 as it delivers the #PF (the payload). */
	khv_queue_exception(vcpu, X86_TRAP_PF, true, error_code);
	vcpu->exception.has_payload = true;
	vcpu->exception.payload = addr;
}

/* Walk, and for a fault queue what the guest must see. */
static int khv_translate_or_fault(struct khv_vcpu *vcpu, u64 gva, unsigned int access, u64 *gpa)
{
	u32 pf_error = 0;
	int err = khv_gva_to_gpa(vcpu, gva, access, gpa, &pf_error);

	if (err == -EFAULT)
		khv_queue_page_fault(vcpu, gva, pf_error);
	else if (err == -EINVAL)
		khv_inject_gp(vcpu);
	return err == -EINVAL ? -EFAULT : err;
}

static int khv_access_guest_virt(struct khv_vcpu *vcpu, u64 gva, void *buf, size_t len,
				 unsigned int access)
{
	bool wrap32 = !(khv_ops->get_efer(vcpu) & EFER_LMA);
	bool write = access & KHV_GVA_WRITE;

	if (khv_ops->get_cpl(vcpu) == 3)
		access |= KHV_GVA_USER;
	while (len) {
		size_t chunk;
		u64 gpa;
		int err;

		if (wrap32)
			gva = (u32)gva;
		chunk = min_t(u64, len, PAGE_SIZE - (gva & (PAGE_SIZE - 1)));
		err = khv_translate_or_fault(vcpu, gva, access, &gpa);
		if (err)
			return err;
		if (buf) {
			err = write ? khv_write_guest(vcpu->vm, gpa, buf, chunk) :
				      khv_read_guest(vcpu->vm, gpa, buf, chunk);
			if (err)
				return -EIO;
			buf += chunk;
		}
		gva += chunk;
		len -= chunk;
	}
	return 0;
}

int khv_read_guest_virt(struct khv_vcpu *vcpu, u64 gva, void *buf, size_t len,
			unsigned int access)
{
	return khv_access_guest_virt(vcpu, gva, buf, len, access & ~KHV_GVA_WRITE);
}

int khv_write_guest_virt(struct khv_vcpu *vcpu, u64 gva, const void *buf, size_t len)
{
	return khv_access_guest_virt(vcpu, gva, (void *)buf, len, KHV_GVA_WRITE);
}

int khv_probe_guest_virt(struct khv_vcpu *vcpu, u64 gva, size_t len, unsigned int access)
{
	return khv_access_guest_virt(vcpu, gva, NULL, len, access);
}

u64 khv_linear_addr(struct khv_vcpu *vcpu, enum khv_seg seg, u64 offset, int addr_size)
{
	struct khv_segment s, cs;

	if (addr_size == 2)
		offset = (u16)offset;
	else if (addr_size == 4)
		offset = (u32)offset;

	khv_ops->get_segment(vcpu, &cs, KHV_SEG_CS);
	if ((khv_ops->get_efer(vcpu) & EFER_LMA) && cs.l) {
		/* 64-bit mode: flat, except FS and GS. */
		if (seg != KHV_SEG_FS && seg != KHV_SEG_GS)
			return offset;
		khv_ops->get_segment(vcpu, &s, seg);
		return s.base + offset;
	}
	if (seg == KHV_SEG_CS)
		s = cs;
	else
		khv_ops->get_segment(vcpu, &s, seg);
	return (u32)(s.base + offset);
}
