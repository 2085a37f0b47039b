/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the benchmark's guest payload (guest.S) and the host program agree
 * on.  Included by C and by the assembler, so only #defines here.
 */
#ifndef KHV_BENCH_GUEST_H
#define KHV_BENCH_GUEST_H

/* Guest physical layout: one RAM slot from 0, the payload copied to LOAD. */
#define BENCH_GUEST_MEM_SIZE	0x10000
#define BENCH_GUEST_LOAD	0x1000

/*
 * Ports.  Neither backend has a device model on them (the KVM driver makes
 * no PIT, and the irqchip's devices sit elsewhere), so every OUT to them
 * leaves the kernel, except BENCH_PORT_DOORBELL in the msi loop, which has
 * an ioeventfd.
 */
#define BENCH_PORT_LOOP		0x80	/* one per iteration of the I/O loop */
#define BENCH_PORT_DONE		0x81	/* once, at the end of every loop */
#define BENCH_PORT_READY	0x82	/* interrupt loops: set up, start timing */
#define BENCH_PORT_FAIL		0x83	/* interrupt loops: AL = BENCH_FAIL_* */
#define BENCH_PORT_DOORBELL	0x84	/* msi loop: the ioeventfd */

/* Why an interrupt loop gave up (AL of the OUT to BENCH_PORT_FAIL). */
#define BENCH_FAIL_NO_X2APIC	1	/* CPUID.1:ECX[21] clear */
#define BENCH_FAIL_NO_DEADLINE	2	/* CPUID.1:ECX[24] clear */

/* The iteration count is passed in ESI; the loops count it down to 0. */

/*
 * The dirty loop: a second slot, logged, of BENCH_DIRTY_PAGES pages from
 * BENCH_DIRTY_GPA (real mode reaches it through ES); each iteration writes
 * a byte in every page, then reports BENCH_PORT_LOOP, where the host gets
 * the slot's dirty log.
 */
#define BENCH_DIRTY_GPA		0x10000
#define BENCH_DIRTY_PAGES	192

/*
 * The sparse dirty loop: a large logged slot (BENCH_SPARSE_PAGES pages from
 * BENCH_SPARSE_GPA, above 1 MiB: reached through an ES with a 4 GiB limit,
 * "unreal" mode) of which each iteration writes one page in every
 * BENCH_SPARSE_STRIDE, BENCH_SPARSE_WRITTEN pages: a large guest that
 * writes little per pre-copy pass.
 */
#define BENCH_SPARSE_GPA	0x10000000
#define BENCH_SPARSE_PAGES	32768
#define BENCH_SPARSE_STRIDE	64
#define BENCH_SPARSE_WRITTEN	(BENCH_SPARSE_PAGES / BENCH_SPARSE_STRIDE)

/*
 * The interrupt loops (a second VM, with the in-kernel irqchip).  They run
 * in real mode with interrupts through the IVT at 0, and reach the local
 * APIC through the x2APIC MSRs, which real mode can use.
 */
#define BENCH_VEC_TIMER		0x40	/* LVT timer, vCPU 0 */
#define BENCH_VEC_IPI0		0x41	/* IPIs to vCPU 0 */
#define BENCH_VEC_IPI1		0x42	/* IPIs to vCPU 1 */
#define BENCH_VEC_MSI		0x43	/* the irqfd's MSI, to vCPU 0 */

/* Variables the handlers keep and the host checks (32-bit, at DS = 0). */
#define BENCH_VAR_COUNT0	0x0800	/* interrupts handled by vCPU 0 */
#define BENCH_VAR_COUNT1	0x0804	/* interrupts handled by vCPU 1 */
#define BENCH_VAR_LATE		0x0808	/* hlt-timer: deadline passed before HLT */
#define BENCH_VAR_DELAY		0x0810	/* hlt-timer: TSC cycles to the deadline, 64-bit */

/* Stacks (SS = 0): one per vCPU, below the top of RAM. */
#define BENCH_STACK0		0xf000
#define BENCH_STACK1		0xe000

/* x2APIC MSRs: 0x800 + (xAPIC register offset >> 4). */
#define MSR_APIC_BASE		0x1b
#define MSR_TSC_DEADLINE	0x6e0
#define MSR_X2APIC_EOI		0x80b
#define MSR_X2APIC_SVR		0x80f
#define MSR_X2APIC_ICR		0x830
#define MSR_X2APIC_LVTT		0x832
#define MSR_X2APIC_TMICT	0x838
#define MSR_X2APIC_TDCR		0x83e

#endif /* KHV_BENCH_GUEST_H */
