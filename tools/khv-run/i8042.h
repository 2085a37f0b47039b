/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PS/2 controller (i8042) at KR_PORT_I8042_DATA/CMD with a PS/2
 * keyboard (ps2kbd.h) on its first port and nothing on the second: a
 * guest probes it, finds the keyboard, gets the keys the VNC console
 * sends (kr_i8042_key), and can reset the machine through it (output port
 * bit 0, command 0xfe).
 *
 * Interrupt: ISA IRQ 1 (KR_GSI_I8042, edge-triggered on a PC), level = a
 * byte waits in the output buffer and the command byte enables the
 * keyboard interrupt; the line drops at each read, so every byte is an
 * edge.  The auxiliary (mouse) port's IRQ 12 is not wired, so
 * Linux's test of it fails (after 250 ms) and it registers no AUX port;
 * a DSDT that lists the keyboard (PNP0303) but no mouse (PNP0F13) makes
 * Linux skip that test altogether.
 */
#ifndef KHV_RUN_I8042_H
#define KHV_RUN_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "dev.h"
#include "snapfield.h"

/* The layout kr_i8042_save() writes (snapfield.h). */
#define KR_I8042_STATE_VERSION	1

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
/*
 * A key (a Linux key code) pressed or released on the keyboard: any
 * thread (the VNC server's) while vCPUs run.  Dropped while the keyboard
 * does not scan (disabled by the guest, or its queue full).
 */
void kr_i8042_key(struct kr_i8042 *k, unsigned int keycode, bool down);
/* The keyboard's LEDs as the guest set them: bit 0 scroll, 1 num, 2 caps. */
uint8_t kr_i8042_leds(struct kr_i8042 *k);
/* Not while a vCPU may still access it.  NULL is allowed. */
void kr_i8042_destroy(struct kr_i8042 *k);

/*
 * The controller's state for a snapshot (snapfield.h's contract): its RAM
 * (the command byte first), the output buffer and its flags, the command
 * waiting for a data byte, the output port, the translation's pending
 * break prefix, the line's level, then the keyboard's (ps2kbd.h).  save: 0
 * or -ENOMEM.  load: into a controller just created, before any vCPU runs;
 * 0 or -EPROTO with the reason in g; it does not drive the line (the
 * irqchip's own state restores it).
 */
int kr_i8042_save(struct kr_i8042 *k, struct kr_sbuf *b);
int kr_i8042_load(struct kr_i8042 *k, struct kr_sget *g);

#endif
