/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest side of the khv selftests: the guest physical memory layout and
 * the port numbers guest code reports on.  Included by the C tests and by the
 * guest payloads (.S), so only preprocessor definitions live here.
 *
 * Slot 0 is KHVT_MEM_SIZE bytes at guest physical 0:
 *
 *   0x00000  real-mode IVT
 *   0x01000  GDT (selectors below)
 *   0x02000  IDT (256 gates; 16 bytes each in long mode, 8 in 32-bit mode)
 *   0x03000  default exception stubs (lib/stubs.S), one per vector 0..31
 *   0x04000  the test's payload (at most 16 KiB)
 *   0x08000  data area, 16 KiB
 *   0x0c000  stack (grows down from 0xf000)
 *   0x10000  identity page tables for long mode (6 pages: 4 GiB, 2 MiB pages)
 *
 * Everything a real-mode guest touches sits below 64 KiB, so real-mode
 * payloads run with every segment base 0.
 */
#ifndef KHVT_GUEST_H
#define KHVT_GUEST_H

#define GUEST_IVT		0x0000
#define GUEST_GDT		0x1000
#define GUEST_IDT		0x2000
#define GUEST_STUBS		0x3000
#define GUEST_STUB_SIZE		16		/* bytes per vector stub */
#define GUEST_CODE		0x4000
#define GUEST_CODE_MAX		0x4000
#define GUEST_DATA		0x8000
#define GUEST_DATA_SIZE		0x4000
#define GUEST_STACK_TOP		0xf000
#define GUEST_PT		0x10000
#define GUEST_MAP_SIZE		0x100000000	/* identity-mapped range in long mode */
#define KHVT_MEM_SIZE		0x200000	/* slot 0 */

/* A guest physical address outside every slot, mapped by the identity map. */
#define GUEST_MMIO		0xd0000000

/* GDT selectors (lib/khvt.c writes the descriptors). */
#define SEL_CODE64		0x08
#define SEL_DATA		0x10
#define SEL_CODE32		0x18

/*
 * Ports.  Ports below 0x100 are used with the imm8 forms of IN/OUT, the
 * others through DX.
 */
#define PORT_OUT8		0x40	/* pio: OUT imm8 forms */
#define PORT_IN8		0x41
#define PORT_ECHO		0x50	/* a guest echoes a value it computed */
#define PORT_MARK		0x51	/* a guest marks a step (value: step number) */
#define PORT_STR_OUTB		0x60	/* pio: string I/O */
#define PORT_STR_OUTW		0x61
#define PORT_STR_OUTL		0x62
#define PORT_STR_INB		0x63
#define PORT_STR_INW		0x64
#define PORT_STR_INL		0x65
#define PORT_DX_OUT16		0x1234	/* pio: DX forms */
#define PORT_DX_OUT32		0x1238
#define PORT_DX_IN16		0x1240
#define PORT_DX_IN32		0x1244

/* Element counts of the pio test's string instructions (data at GUEST_DATA). */
#define PIO_N_OUTSB		37
#define PIO_N_OUTSW		1000
#define PIO_N_OUTSL		3000	/* 12000 bytes: more than one run page of data */
#define PIO_N_INSB		100
#define PIO_N_INSW		1000
#define PIO_N_INSL		3000

/* lib/stubs.S: an exception nobody expected. RAX=vector RBX=error RCX=RIP RSI=CR2. */
#define PORT_EXC		0x5ee

/* lib/server.S: the long-mode command server. */
#define PORT_SRV_OP		0x5e0	/* IN: next SRV_* operation */
#define PORT_SRV_ARG		0x5e1	/* IN: next 32-bit argument */
#define PORT_SRV_RES		0x5e2	/* OUT: next 32-bit result */
#define PORT_SRV_FAULT		0x5e3	/* OUT: vector; RBX = error code */

#define SRV_HALT		0	/* HLT, then wait for the next op */
#define SRV_CPUID		1	/* args eax, ecx; results eax ebx ecx edx */
#define SRV_RDMSR		2	/* arg index; results lo, hi */
#define SRV_WRMSR		3	/* args index, lo, hi; result 0 */
#define SRV_READ64		4	/* args addr lo, hi; results lo, hi */
#define SRV_WRITE64		5	/* args addr lo, hi, value lo, hi; result 0 */

/* A distinctive value a guest writes into registers it does not use. */
#define GUEST_POISON		0x5a5a5a5a

#endif /* KHVT_GUEST_H */
