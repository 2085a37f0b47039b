/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkhv: a thin C library over the /dev/khv ioctl ABI (uapi/linux/khv.h).
 *
 * Conventions: every function that can fail returns 0 (or a non-negative
 * value where documented) on success and a negative errno on failure; errno
 * itself is not relied upon.  Handles are plain structs the caller owns, so
 * nothing is allocated behind the caller's back except guest memory, which
 * khv_guest_mem_alloc() returns explicitly.
 */
#ifndef LIBKHV_H
#define LIBKHV_H

#include <stddef.h>
#include <stdint.h>
#include <linux/khv.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LIBKHV_DEFAULT_DEVICE "/dev/khv"

struct khv_sys {
	int fd;
	int api_version;
};

struct khv_vm {
	int fd;
	struct khv_sys *sys;
};

struct khv_vcpu {
	int fd;
	uint32_t id;
	struct khv_vm *vm;
	struct khv_run *run;	/* mmap of the vCPU fd */
	size_t run_size;
};

/* --- system -------------------------------------------------------------- */
/* Open path (NULL: $KHV_DEVICE, else /dev/khv) and check the API version:
 * -EPROTO when the module speaks another version. */
int khv_open(struct khv_sys *sys, const char *path);
void khv_close(struct khv_sys *sys);
/* >= 0: the capability's value (0 = absent). */
int khv_check_extension(struct khv_sys *sys, unsigned int cap);
/* Fill *out (capacity max) with the supported CPUID; *nent gets the count. */
int khv_get_supported_cpuid(struct khv_sys *sys, struct khv_cpuid_entry *out,
			    uint32_t max, uint32_t *nent);
/* The MSRs a save reads (KHV_GET_MSR_INDEX_LIST), capacity max; *n gets the count. */
int khv_get_msr_index_list(struct khv_sys *sys, uint32_t *out, uint32_t max, uint32_t *n);

/* --- VM ------------------------------------------------------------------- */
int khv_vm_create(struct khv_sys *sys, struct khv_vm *vm);
void khv_vm_destroy(struct khv_vm *vm);
/* Add, move (new gpa, same slot) or, with size 0, delete a memory slot. */
int khv_vm_set_memory(struct khv_vm *vm, uint32_t slot, uint32_t flags,
		      uint64_t gpa, uint64_t size, void *hva);
/*
 * The dirty log of a slot with KHV_MEM_LOG_DIRTY (KHV_CAP_DIRTY_LOG): the
 * bits of its pages [first_page, first_page + num_pages) into bitmap
 * ((num_pages + 63) / 64 words), cleared unless flags has
 * KHV_DIRTY_LOG_KEEP; returns how many are set, or -errno.  The clear
 * takes the bits set in bitmap out (0 or -errno).  first_page: a multiple
 * of 64.
 */
int khv_vm_get_dirty_log(struct khv_vm *vm, uint32_t slot, uint32_t flags, uint64_t first_page,
			 uint64_t num_pages, uint64_t *bitmap);
int khv_vm_clear_dirty_log(struct khv_vm *vm, uint32_t slot, uint64_t first_page,
			   uint64_t num_pages, const uint64_t *bitmap);

/*
 * The in-kernel interrupt controllers (before any vCPU): local APICs,
 * IOAPIC, PIC, PIT.  irq: ISA IRQ 0-15 (not 2) or IOAPIC pin 16-23;
 * level 1 asserts, 0 deasserts.  khv_vm_signal_msi returns how many local
 * APICs took the message.
 */
int khv_vm_create_irqchip(struct khv_vm *vm);
int khv_vm_irq_line(struct khv_vm *vm, uint32_t irq, int level);
int khv_vm_signal_msi(struct khv_vm *vm, uint64_t address, uint32_t data);
/* KHV_IRQFD / KHV_IOEVENTFD, as the uAPI describes them. */
int khv_vm_irqfd(struct khv_vm *vm, const struct khv_irqfd *args);
int khv_vm_ioeventfd(struct khv_vm *vm, const struct khv_ioeventfd *args);
/* Save and restore of the PIC pair, IOAPIC and PIT (KHV_GET/SET_IRQCHIP). */
int khv_vm_get_irqchip(struct khv_vm *vm, struct khv_irqchip_state *state);
/* The guest's kvmclock, VM-wide (KHV_CAP_SAVE_STATE). */
int khv_vm_get_clock(struct khv_vm *vm, struct khv_clock_data *c);
int khv_vm_set_clock(struct khv_vm *vm, const struct khv_clock_data *c);
int khv_vm_set_irqchip(struct khv_vm *vm, const struct khv_irqchip_state *state);

/* Page-aligned anonymous memory for guest RAM, zero filled; NULL on failure. */
void *khv_guest_mem_alloc(size_t size);
void khv_guest_mem_free(void *mem, size_t size);

/* --- vCPU ----------------------------------------------------------------- */
int khv_vcpu_create(struct khv_vm *vm, uint32_t id, struct khv_vcpu *vcpu);
void khv_vcpu_destroy(struct khv_vcpu *vcpu);
/* One KHV_RUN: 0 with vcpu->run->exit_reason set, or -errno (-EINTR on a signal). */
int khv_vcpu_run(struct khv_vcpu *vcpu);
/* Port I/O data of the current KHV_EXIT_IO exit. */
void *khv_vcpu_io_data(struct khv_vcpu *vcpu);

int khv_vcpu_get_regs(struct khv_vcpu *vcpu, struct khv_regs *regs);
int khv_vcpu_set_regs(struct khv_vcpu *vcpu, const struct khv_regs *regs);
int khv_vcpu_get_sregs(struct khv_vcpu *vcpu, struct khv_sregs *sregs);
int khv_vcpu_set_sregs(struct khv_vcpu *vcpu, const struct khv_sregs *sregs);
int khv_vcpu_get_xsave(struct khv_vcpu *vcpu, struct khv_xsave *xsave);
int khv_vcpu_set_xsave(struct khv_vcpu *vcpu, const struct khv_xsave *xsave);
/* One MSR each; -ENOENT when khv does not support it, -EINVAL when refused. */
int khv_vcpu_get_msr(struct khv_vcpu *vcpu, uint32_t index, uint64_t *value);
int khv_vcpu_set_msr(struct khv_vcpu *vcpu, uint32_t index, uint64_t value);
int khv_vcpu_set_cpuid(struct khv_vcpu *vcpu, const struct khv_cpuid_entry *e, uint32_t n);
int khv_vcpu_get_cpuid(struct khv_vcpu *vcpu, struct khv_cpuid_entry *out,
		       uint32_t max, uint32_t *nent);
int khv_vcpu_inject_exception(struct khv_vcpu *vcpu, uint8_t vector,
			      int has_error_code, uint32_t error_code);
int khv_vcpu_inject_interrupt(struct khv_vcpu *vcpu, uint8_t vector);
int khv_vcpu_inject_nmi(struct khv_vcpu *vcpu);
/* KHV_MP_STATE_*: sleeping application processors, halted vCPUs (irqchip). */
int khv_vcpu_get_mp_state(struct khv_vcpu *vcpu, uint32_t *state);
int khv_vcpu_set_mp_state(struct khv_vcpu *vcpu, uint32_t state);
/* Save and restore: pending events, and the local APIC (irqchip). */
int khv_vcpu_get_events(struct khv_vcpu *vcpu, struct khv_vcpu_events *events);
int khv_vcpu_set_events(struct khv_vcpu *vcpu, const struct khv_vcpu_events *events);
int khv_vcpu_get_lapic(struct khv_vcpu *vcpu, struct khv_lapic_state *state);
int khv_vcpu_set_lapic(struct khv_vcpu *vcpu, const struct khv_lapic_state *state);
/* ... the debug registers and XCR0 (KHV_CAP_SAVE_STATE). */
int khv_vcpu_get_debugregs(struct khv_vcpu *vcpu, struct khv_debugregs *d);
int khv_vcpu_set_debugregs(struct khv_vcpu *vcpu, const struct khv_debugregs *d);
int khv_vcpu_get_xcrs(struct khv_vcpu *vcpu, struct khv_xcrs *x);
int khv_vcpu_set_xcrs(struct khv_vcpu *vcpu, const struct khv_xcrs *x);
/*
 * Study mode (KHV_CAP_STUDY): the events delivered as KHV_EXIT_STUDY exits;
 * an all-zero struct khv_study turns it off.
 */
int khv_vcpu_set_study(struct khv_vcpu *vcpu, const struct khv_study *study);
int khv_vcpu_get_study(struct khv_vcpu *vcpu, struct khv_study *study);
/* Non-zero exit counters; *nent gets the count. */
int khv_vcpu_get_exit_stats(struct khv_vcpu *vcpu, struct khv_exit_stat *out,
			    uint32_t max, uint32_t *nent);

/* --- statistics files (KHV_CAP_STATS_FD, uapi/linux/khv.h) ---------------- */
/* A new statistics file descriptor (KHV_GET_STATS_FD), or -errno. */
int khv_vm_stats_fd(struct khv_vm *vm);
int khv_vcpu_stats_fd(struct khv_vcpu *vcpu);
/* The host's VMs (KHV_GET_VMS); *nent gets the count (-E2BIG: max too small). */
int khv_list_vms(struct khv_sys *sys, struct khv_vm_info *out, uint32_t max, uint32_t *nent);
/* Any VM's statistics (KHV_OPEN_STATS): vcpu_id < 0 for the VM's file; fd or -errno. */
int khv_open_stats(struct khv_sys *sys, uint32_t vm_id, int32_t vcpu_id);

/*
 * A statistics file, parsed: the header, the descriptors (copied to
 * sizeof(struct khv_stats_desc) each, whatever the file's desc_size) and,
 * after khv_stats_read(), the values.  The struct is the caller's; its
 * buffers are freed by khv_stats_close().
 */
struct khv_stats {
	int fd;				/* -1 for a parsed buffer */
	struct khv_stats_header hdr;
	struct khv_stats_desc *desc;
	uint32_t ndesc;
	uint64_t *data;			/* hdr.data_size / 8 values */
	uint32_t ndata;
};

/* At most this many descriptors and this much data are accepted. */
#define KHV_STATS_MAX_DESCS	65536u
#define KHV_STATS_MAX_DATA	(64u << 20)

/*
 * Parse the header and descriptors of statistics file fd, which it takes:
 * khv_stats_close() closes it, and so does a failure.  -EPROTO: not a
 * statistics file, or a version this library does not know; -EBADMSG: a
 * layout that does not add up (a descriptor outside the data, a name
 * without its NUL, a scalar of two values...).  Descriptors of a type,
 * unit or shape this library does not know are kept: the caller skips them.
 */
int khv_stats_init(struct khv_stats *st, int fd);
/* The same checks on an image of a whole file in memory (header, descriptors, values). */
int khv_stats_parse(struct khv_stats *st, const void *buf, size_t len);
/* Read the values again (pread at data_offset): 0 or -errno. */
int khv_stats_read(struct khv_stats *st);
/* Index of the descriptor called name, or -ENOENT. */
int khv_stats_find(const struct khv_stats *st, const char *name);
/* The values of descriptor i (desc[i].count of them), NULL if i is out of range. */
const uint64_t *khv_stats_values(const struct khv_stats *st, uint32_t i);
void khv_stats_close(struct khv_stats *st);

/* --- register helpers (pure functions on structs, no ioctl) --------------- */
/* Real mode at reset-like state with CS.base = cs_base. */
void khv_sregs_real_mode(struct khv_sregs *s, uint16_t cs_selector);
/* 32-bit protected mode, flat 4 GiB code/data segments, paging off. */
void khv_sregs_protected_flat(struct khv_sregs *s);
/* 64-bit long mode, flat segments, CR3 = pml4_gpa, PAE+PG+LME+LMA. */
void khv_sregs_long_mode(struct khv_sregs *s, uint64_t pml4_gpa);
/*
 * Build 4-level identity page tables mapping [0, map_size) with 2 MiB pages,
 * in guest memory at mem (host pointer of guest physical address tables_gpa).
 * Uses 4 KiB for the PML4, one page for the PDPT and one page per GiB of PD.
 * Returns the bytes used, or -EINVAL when map_size exceeds 512 GiB.
 */
long khv_build_identity_map(void *mem, uint64_t tables_gpa, uint64_t map_size);

/* --- names and errors ----------------------------------------------------- */
const char *khv_exit_reason_name(uint32_t reason);	/* "IO", "MMIO", ... */
const char *khv_internal_error_name(uint32_t suberror);
/* A sentence about what a negative errno from this library means for khv. */
const char *khv_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif /* LIBKHV_H */
