/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio input device (virtio 1.2 section 5.8, device ID 18): a tablet
 * (absolute pointer) or a keyboard, fed by the VNC console.  Linux drives
 * it with virtio_input (evdev events, as from any input device).
 *
 * Queues: eventq (0) carries device events to the driver, one struct
 * virtio_input_event (le16 type, le16 code, le32 value) per buffer;
 * statusq (1) carries the driver's events to the device (keyboard LEDs),
 * which are recorded and returned.  The configuration answers the
 * driver's select/subsel queries: name, serial, device IDs, property and
 * event bits, absolute axis ranges (X and Y: 0..KR_VINPUT_ABS_MAX).
 *
 * Each input call makes one report: the events that changed, then
 * EV_SYN/SYN_REPORT.  Reports wait in the device while the driver has no
 * buffers (up to KR_VINPUT_QUEUE events); a report that does not fit
 * drops the oldest whole reports first, never half of one, so the guest
 * never sees a torn report.  A device reset drops them all.
 *
 * Locking: d->lock covers the state and the waiting events and is held
 * across pops and pushes (device lock -> transport queue lock, the order
 * virtio_pci.c allows); kr_virtio_notify() is called after it is dropped.
 * The input calls may come from any thread (the VNC server's) while vCPU
 * threads notify the queues.
 */
#ifndef KHV_RUN_VIRTIO_INPUT_H
#define KHV_RUN_VIRTIO_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio_pci.h"

#define KR_VIRTIO_ID_INPUT	18
#define KR_VINPUT_QUEUE_SIZE	64
#define KR_VINPUT_QUEUE		256	/* events waiting for buffers, at most */
#define KR_VINPUT_ABS_MAX	32767

/* Configuration selectors (5.8.4). */
#define KR_VINPUT_CFG_UNSET	0x00
#define KR_VINPUT_CFG_ID_NAME	0x01
#define KR_VINPUT_CFG_ID_SERIAL	0x02
#define KR_VINPUT_CFG_ID_DEVIDS	0x03
#define KR_VINPUT_CFG_PROP_BITS	0x10
#define KR_VINPUT_CFG_EV_BITS	0x11
#define KR_VINPUT_CFG_ABS_INFO	0x12
#define KR_VINPUT_CFG_LEN	136	/* select, subsel, size, 5 reserved, 128 */

enum kr_vinput_kind { KR_VINPUT_TABLET, KR_VINPUT_KEYBOARD };

struct kr_virtio_input;

/* Plug it into pci (slot < 0: first free).  NULL + errno. */
struct kr_virtio_input *kr_virtio_input_create(struct kr_pci *pci, int slot,
					       const struct kr_mem *mem, enum kr_vinput_kind kind);
void kr_virtio_input_destroy(struct kr_virtio_input *d);
struct kr_virtio_pci *kr_virtio_input_transport(struct kr_virtio_input *d);

/*
 * Tablet: the pointer at (x, y) of a w x h screen, buttons as RFB's mask
 * (bit 0 left, 1 middle, 2 right, 3/4 wheel up/down, 5/6 wheel left/right).
 */
void kr_virtio_input_pointer(struct kr_virtio_input *d, int x, int y, int w, int h,
			     unsigned int buttons);
/* Keyboard: a Linux key code pressed or released. */
void kr_virtio_input_key(struct kr_virtio_input *d, unsigned int keycode, bool down);
/* Keyboard: the LEDs the driver last set (bit LED_NUML, LED_CAPSL...). */
unsigned int kr_virtio_input_leds(struct kr_virtio_input *d);

#endif
