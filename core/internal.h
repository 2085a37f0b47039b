/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations private to core/: nothing outside core/ includes this. */
#ifndef KHV_CORE_INTERNAL_H
#define KHV_CORE_INTERNAL_H

#include "khv.h"

/* vm.c */
int khv_vm_create(void);

/* mmu_notifier.c */
int khv_mmu_notifier_register(struct khv_vm *vm);
void khv_mmu_notifier_unregister(struct khv_vm *vm);
void khv_vm_put(struct khv_vm *vm);

/* vcpu.c */
int khv_vcpu_create(struct khv_vm *vm, unsigned long id);
void khv_vcpu_free(struct khv_vcpu *vcpu);
void khv_vcpu_module_init(void);
void khv_vcpu_module_exit(void);

/* events.c */
int khv_inject_event(struct khv_vcpu *vcpu, const struct khv_event *ev);
int khv_get_vcpu_events(struct khv_vcpu *vcpu, struct khv_vcpu_events *ev);
int khv_set_vcpu_events(struct khv_vcpu *vcpu, const struct khv_vcpu_events *ev);

/* ioeventfd.c */
int khv_ioeventfd(struct khv_vm *vm, const struct khv_ioeventfd *args);
bool khv_ioeventfd_write(struct khv_vm *vm, bool pio, u64 addr, u32 len, u64 val);
void khv_ioeventfd_release(struct khv_vm *vm);

/* memslot.c */
int khv_set_memory_region(struct khv_vm *vm, const struct khv_userspace_memory_region *r);
void khv_memslots_free(struct khv_vm *vm);

/* dirty_log.c */
unsigned long *khv_dirty_bitmap_alloc(u64 size);
void khv_dirty_bitmap_free(unsigned long *bitmap);
long khv_dirty_log_ioctl(struct khv_vm *vm, struct khv_dirty_log __user *argp, bool clear);

/* array.c: header + entries ioctl arguments */
int khv_array_capacity(const void __user *argp, u32 *cap);
int khv_array_out(void __user *argp, u32 cap, const void *ents, u32 n, size_t esize);

/* cpuid.c */
int khv_get_supported_cpuid(struct khv_cpuid __user *argp);
int khv_cpuid_init(void);
void khv_cpuid_exit(void);
int khv_vcpu_set_cpuid(struct khv_vcpu *vcpu, struct khv_cpuid __user *argp);
int khv_vcpu_get_cpuid(struct khv_vcpu *vcpu, struct khv_cpuid __user *argp);
int khv_vcpu_cpuid_default(struct khv_vcpu *vcpu);

/* msr.c */
int khv_check_apic_base(u64 v);
int khv_get_msr(struct khv_vcpu *vcpu, u32 index, u64 *data, bool host);
int khv_set_msr(struct khv_vcpu *vcpu, u32 index, u64 data, bool host);
long khv_msrs_ioctl(struct khv_vcpu *vcpu, struct khv_msrs __user *argp, bool set);
int khv_get_msr_index_list(struct khv_msr_list __user *argp);

/* exits.c */
int khv_complete_userspace_exit(struct khv_vcpu *vcpu);
bool khv_xcr0_allowed(struct khv_vcpu *vcpu, u64 v);

/* state.c */
void khv_get_debugregs(struct khv_vcpu *vcpu, struct khv_debugregs *d);
int khv_set_debugregs(struct khv_vcpu *vcpu, const struct khv_debugregs *d);
void khv_get_xcrs(struct khv_vcpu *vcpu, struct khv_xcrs *x);
int khv_set_xcrs(struct khv_vcpu *vcpu, const struct khv_xcrs *x);

/* study.c */
long khv_study_ioctl(struct khv_vcpu *vcpu, struct khv_study __user *argp, bool set);
int khv_study_complete(struct khv_vcpu *vcpu);
u64 khv_study_offered(void);

/* tsc_aux.c: before each entry, interrupts off; most find the value there. */
DECLARE_PER_CPU(u64, khv_tsc_aux_msr);
void khv_tsc_aux_switch(struct khv_vcpu *vcpu);
void khv_tsc_aux_drop(void);

static inline void khv_tsc_aux_load(struct khv_vcpu *vcpu)
{
	if (unlikely(__this_cpu_read(khv_tsc_aux_msr) != vcpu->tsc_aux))
		khv_tsc_aux_switch(vcpu);
}

/* stats.c */
const char *khv_exit_name(u32 hw_code);
long khv_exit_stats_ioctl(struct khv_vcpu *vcpu, struct khv_exit_stats __user *argp);
const char *khv_user_exit_name(u32 reason);
const char *khv_kstat_name(u32 kstat);

/* stats_fd.c: statistics files and the host's list of VMs */
int khv_stats_fd(struct khv_vm_stats *vs, struct khv_vcpu_stats *s, u32 vcpu_id);
void khv_vms_add(struct khv_vm *vm);
void khv_vms_del(struct khv_vm *vm);
long khv_get_vms(struct khv_vm_list __user *argp);
long khv_open_stats(const struct khv_stats_open __user *argp);

#endif /* KHV_CORE_INTERNAL_H */
