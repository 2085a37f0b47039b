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

/*
 * Snapshots (snapshot.c).  Every device's state is a DEVICE section whose
 * payload is its name (u8 length, bytes) and then what the device's own
 * save wrote (snapfield.h).
 *
 * freeze: with the vCPUs paused, on the I/O thread: no virtqueue is
 * popped any more and every request already taken is done (its data in
 * guest memory, its disk I/O returned), so guest memory and the disks
 * stay as they are while a snapshot is written.  0, or -errno with why.
 * thaw: the VM goes on after the save; every queue is looked at again.
 */
struct kr_snap_writer;
int kr_devices_freeze(struct kr_devices *d, char *why, size_t len);
void kr_devices_thaw(struct kr_devices *d);
/* Every device's section into w (frozen): 0, or -errno with why. */
int kr_devices_save(struct kr_devices *d, struct kr_snap_writer *w, char *why, size_t len);
/* One DEVICE section into the device it names: 0, or -EPROTO with why. */
int kr_devices_load(struct kr_devices *d, uint32_t instance, const void *p, size_t n, char *why,
		    size_t len);
/*
 * At the stream's end: every device must have had its section (-EPROTO
 * with why, else 0); then every queue is looked at, as the driver may
 * have notified before the snapshot for chains no device had taken.
 */
int kr_devices_loaded(struct kr_devices *d, char *why, size_t len);
/* After a migration came in: each network device announces the guest's MAC. */
void kr_devices_announce(struct kr_devices *d);

#endif
