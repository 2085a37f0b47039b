/* SPDX-License-Identifier: GPL-2.0 */
/* The machine's devices: which device sits where (devices.c). */
#ifndef KHV_RUN_DEVICES_H
#define KHV_RUN_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#include "e820.h"

struct kr_machine;
struct kr_devices;
struct kr_config;
struct kr_loop;

/*
 * Open the consoles' back ends of cfg (--serial, --console) once, for all
 * the machines of this process; the path of a pty or socket goes to stderr.
 * 0, or an exit status with a sentence in why (and nothing left open).
 * The ^A x quit of a terminal asks m to quit.
 */
int kr_consoles_open(struct kr_config *cfg, struct kr_loop *loop, struct kr_machine *m,
		     char *why, size_t len);
void kr_consoles_close(struct kr_config *cfg);

int kr_devices_create(struct kr_machine *m, char *why, size_t len);
void kr_devices_destroy(struct kr_machine *m);
/* The ACPI RSDP's address, 0 when the machine has no ACPI tables. */
uint64_t kr_devices_rsdp(const struct kr_devices *d);
/* The ACPI power button (control socket's system_powerdown). */
void kr_devices_power_button(struct kr_devices *d);
/* The terminal was resized (SIGWINCH): tell the virtio console. */
void kr_devices_winch(struct kr_devices *d);

#endif
