/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio input device (virtio 1.2 section 5.8, device ID 18): a tablet
 * (absolute pointer, as QEMU's virtio-tablet-pci) or a keyboard, fed by the
 * VNC console.  Linux drives it with virtio_input: an evdev device like any
 * other.  Modern virtio-pci only, no device feature bits.
 *
 * Queues: eventq (0) carries device events to the driver, one struct
 * virtio_input_event (le16 type, le16 code, le32 value) per buffer;
 * statusq (1) carries the driver's events to the device (keyboard LEDs,
 * repeat settings), which are consumed, the LEDs recorded, and every
 * buffer given back.
 *
 * Configuration (5.8.4): select, subsel, size, reserved[5], then a 128-byte
 * union.  The driver writes select and subsel (nothing else is writable)
 * and reads size and the answer; size is 0 for a selection the device does
 * not support.  See virtio_input.c for the answers of each kind.
 *
 * Reports.  Each input call makes at most one report: the events that
 * changed since the last one, then EV_SYN/SYN_REPORT (a call that changes
 * nothing makes none).  Events go into the driver's eventq buffers as far
 * as there are buffers; the rest wait in the device, in order, and go out
 * when the driver posts more (its notification), so a report may reach
 * the driver in two parts but always whole and in order.  At most
 * KR_VINPUT_QUEUE events wait: a new report that does not fit makes room by
 * dropping the oldest waiting reports whole, never part of one (a report
 * whose first events already went out stays: the next oldest goes).  A
 * device reset (status 0 or machine reset) drops everything waiting and
 * forgets the pointer state and the LEDs.
 *
 * Threads and locking: the input calls come from any thread (the VNC
 * server's) while vCPU threads (or the I/O thread, through an ioeventfd)
 * notify the queues, read the configuration and reset the device.  d->lock
 * covers all the device's state (configuration selection, the waiting
 * events, the pointer state, the LEDs) and is held across kr_virtio_pop()
 * and kr_virtio_push() (device lock -> transport queue lock, the order
 * virtio_pci.c allows); kr_virtio_notify(), which may send an MSI or set
 * the INTx line, is called after it is dropped, as virtio_console.c does
 * from its I/O thread.  reset takes d->lock, so it waits for a delivery in
 * progress.  Nothing here blocks on the guest.  destroy only once no input
 * call can come any more and the vCPUs are stopped.
 */
#ifndef KHV_RUN_VIRTIO_INPUT_H
#define KHV_RUN_VIRTIO_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio_pci.h"

#define KR_VIRTIO_ID_INPUT	18
#define KR_VINPUT_EVENTQ	0
#define KR_VINPUT_STATUSQ	1
#define KR_VINPUT_QUEUE_SIZE	64	/* entries per virtqueue at most (Linux posts 64) */
#define KR_VINPUT_QUEUE		256	/* events waiting for buffers, at most */
#define KR_VINPUT_ABS_MAX	32767	/* ABS_X and ABS_Y: 0 .. this */
#define KR_VINPUT_EVENT_SIZE	8	/* struct virtio_input_event */

/* Configuration selectors (5.8.2) and layout. */
#define KR_VINPUT_CFG_UNSET	0x00
#define KR_VINPUT_CFG_ID_NAME	0x01
#define KR_VINPUT_CFG_ID_SERIAL	0x02
#define KR_VINPUT_CFG_ID_DEVIDS	0x03
#define KR_VINPUT_CFG_PROP_BITS	0x10
#define KR_VINPUT_CFG_EV_BITS	0x11
#define KR_VINPUT_CFG_ABS_INFO	0x12
#define KR_VINPUT_CFG_SELECT	0	/* offsets in the configuration */
#define KR_VINPUT_CFG_SUBSEL	1
#define KR_VINPUT_CFG_SIZE	2
#define KR_VINPUT_CFG_U		8
#define KR_VINPUT_CFG_LEN	136	/* select, subsel, size, 5 reserved, 128 */

/* struct virtio_input_devids: bus, vendor, product, version (virtio_input.c). */
#define KR_VINPUT_BUS_VIRTUAL	0x06	/* BUS_VIRTUAL of <linux/input.h> */
#define KR_VINPUT_VENDOR	0x6b68	/* "kh" */
#define KR_VINPUT_PRODUCT_KEYBOARD	0x0001
#define KR_VINPUT_PRODUCT_TABLET	0x0002
#define KR_VINPUT_VERSION	0x0001

enum kr_vinput_kind { KR_VINPUT_TABLET, KR_VINPUT_KEYBOARD };

struct kr_virtio_input;

/* Plug it into pci (slot < 0: first free).  NULL + errno (EINVAL: kind). */
struct kr_virtio_input *kr_virtio_input_create(struct kr_pci *pci, int slot,
					       const struct kr_mem *mem, enum kr_vinput_kind kind);
void kr_virtio_input_destroy(struct kr_virtio_input *d);
struct kr_virtio_pci *kr_virtio_input_transport(struct kr_virtio_input *d);

/*
 * Tablet: the pointer at (x, y) of a w x h screen (0 and w - 1 are 0 and
 * KR_VINPUT_ABS_MAX; outside the screen is clamped), buttons as RFB's mask:
 * bit 0 left, 1 middle, 2 right, 3/4 wheel up/down, 5/6 wheel left/right,
 * 7/8 back/forward (BTN_SIDE/BTN_EXTRA).  A wheel bit that goes from clear
 * to set is one notch (REL_WHEEL +1 up, -1 down; REL_HWHEEL -1 left, +1
 * right), its release nothing.  Nothing on a keyboard.
 */
void kr_virtio_input_pointer(struct kr_virtio_input *d, int x, int y, int w, int h,
			     unsigned int buttons);
/*
 * Keyboard: a Linux key code (KEY_ESC .. KEY_MICMUTE) pressed or released,
 * value 1 or 0; the guest's input core makes its own autorepeat (EV_REP).
 * Other codes, and any call on a tablet, are ignored.
 */
void kr_virtio_input_key(struct kr_virtio_input *d, unsigned int keycode, bool down);
/* Keyboard: the LEDs the driver last set, bit LED_NUML, LED_CAPSL, LED_SCROLLL... */
unsigned int kr_virtio_input_leds(struct kr_virtio_input *d);

/*
 * Snapshots (snapfield.h): the configuration selection, the events waiting
 * for buffers (a report partly delivered included), the pointer state and
 * the LEDs, then the transport's (virtio_pci.h).  The load refuses a
 * snapshot of the other kind.  After a load the machine calls
 * kr_virtio_pci_kick_all() on kr_virtio_input_transport(): the waiting
 * events go out as soon as there are buffers.  The stats are this
 * process's, not state.
 */
int kr_virtio_input_save(struct kr_virtio_input *d, struct kr_sbuf *b);
int kr_virtio_input_load(struct kr_virtio_input *d, struct kr_sget *g);

struct kr_virtio_input_stats {
	uint64_t reports;		/* made by input calls */
	uint64_t events;		/* delivered into the driver's buffers */
	uint64_t dropped;		/* reports dropped whole, the queue being full */
};
void kr_virtio_input_get_stats(struct kr_virtio_input *d, struct kr_virtio_input_stats *st);

#endif
