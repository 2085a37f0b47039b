/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's part of a VM's state in the snapshot stream: one VCPU
 * section per vCPU and one VM section (Documentation/khv/migration.rst,
 * "khv-run's snapshots").  Each payload is a version, then records
 * {u32 tag, u32 length, bytes}, each tag once; the bytes of a record are
 * the uAPI structure of its ioctl (fixed layout, little-endian), whose
 * length must be exactly that structure's.  khv checks every field of a
 * set (uapi.rst), so a record khv refuses is refused here with the
 * ioctl's name and error.
 *
 *   VCPU: CPUID (the table the vCPU was given: compared on load, never
 *         set, so a snapshot from another CPU or khv-run is refused),
 *         SREGS, REGS, XCRS, XSAVE, MSRS (u32 count, then {u32 index,
 *         u32 0, u64 value}), DEBUGREGS, LAPIC, MP_STATE (u32), EVENTS;
 *         loaded in migration.rst's order, whatever the order in the file.
 *   VM:   IRQCHIP (PIC pair, IOAPIC, PIT), CLOCK (kvmclock; absent when
 *         the host's TSC rate is unknown).
 */
#ifndef KHV_RUN_VMSTATE_H
#define KHV_RUN_VMSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libkhv.h"
#include "snapfield.h"

#define KR_VMSTATE_MAX_MSRS	256

/*
 * A stopped vCPU's state (every vCPU out of KHV_RUN).  msrs: the system's
 * KHV_GET_MSR_INDEX_LIST; those this vCPU lacks are skipped.  0 or -errno
 * with why.
 */
int kr_vmstate_save_vcpu(struct khv_vcpu *v, const uint32_t *msrs, uint32_t n_msrs,
			 struct kr_sbuf *b, char *why, size_t len);
/*
 * Into a vCPU created and given its CPUID as the saved one was: 0, or
 * -EPROTO (a malformed section, another CPUID) or khv's -errno, with why.
 */
int kr_vmstate_load_vcpu(struct khv_vcpu *v, const void *p, size_t n, char *why, size_t len);

/* After the vCPUs' state: the irqchip and kvmclock. */
int kr_vmstate_save_vm(struct khv_vm *vm, struct kr_sbuf *b, char *why, size_t len);
/*
 * After every vCPU's load (the IOAPIC's pending level interrupts must land
 * in restored local APICs).  realtime: kvmclock also counts the wall-clock
 * time since the save (a migration's downtime); a snapshot restored later
 * goes on from the saved time, as its TSCs do.
 */
int kr_vmstate_load_vm(struct khv_vm *vm, const void *p, size_t n, bool realtime, char *why,
		       size_t len);

#endif /* KHV_RUN_VMSTATE_H */
