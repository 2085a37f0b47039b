/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PS/2 controller (i8042) at KR_PORT_I8042_DATA/CMD, with nothing on
 * its ports: enough for a guest to probe it, find that no keyboard answers,
 * and reset the machine through it (output port bit 0, command 0xfe).
 *
 * Interrupt: ISA IRQ 1 (KR_GSI_I8042, edge-triggered on a PC), level = a
 * byte waits in the output buffer and the command byte enables the
 * keyboard interrupt.  The auxiliary (mouse) port's IRQ 12 is not wired, so
 * Linux's test of it fails (after 250 ms) and it registers no AUX port;
 * a DSDT that lists the keyboard (PNP0303) but no mouse (PNP0F13) makes
 * Linux skip that test altogether.
 */
#ifndef KHV_RUN_I8042_H
#define KHV_RUN_I8042_H

#include <stdint.h>

#include "dev.h"

struct kr_i8042;

/*
 * irq copied (NULL: none).  reset(opaque) is called, without the device's
 * lock, when the guest pulses or clears the CPU reset line; it runs on the
 * vCPU's thread and may stop the machine.  NULL with errno on failure.
 */
struct kr_i8042 *kr_i8042_create(const struct kr_irq *irq, void (*reset)(void *opaque),
				 void *opaque);
/* Registers the data and command ports.  0 or -errno (kr_bus_add). */
int kr_i8042_attach(struct kr_i8042 *k, struct kr_bus *pio);
/* Not while a vCPU may still access it.  NULL is allowed. */
void kr_i8042_destroy(struct kr_i8042 *k);

#endif
