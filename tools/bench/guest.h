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
 * no in-kernel irqchip or PIT), so every OUT leaves the kernel.
 */
#define BENCH_PORT_LOOP		0x80	/* one per iteration of the I/O loop */
#define BENCH_PORT_DONE		0x81	/* once, at the end of either loop */

/* The iteration count is passed in ESI; the loops count it down to 0. */

#endif /* KHV_BENCH_GUEST_H */
