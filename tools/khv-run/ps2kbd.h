/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A PS/2 (AT) keyboard: what sits on the i8042's first port (i8042.c).
 *
 * It answers the commands Linux's atkbd and i8042 drivers send (reset,
 * identify, scancode set, LEDs, typematic rate, enable/disable scanning,
 * defaults, echo, resend) with an ACK (0xfa) and their replies, and turns
 * key presses (Linux key codes, <linux/input-event-codes.h>) into make and
 * break codes of scancode set 2 (the default) or set 1, E0-prefixed keys,
 * Print Screen's and Pause's long sequences included.  Set 3 is refused
 * (0xfe), as keyboards that lack it do.  Keys the keyboard does not have
 * are ignored.
 *
 * Bytes wait in two queues: replies to commands first (a command's ACK
 * comes before any key already waiting, so the driver's command sees its
 * answer), then key codes, up to KR_PS2KBD_QUEUE bytes; a key sequence that
 * does not fit whole is dropped whole (a real keyboard would send an
 * overrun code; dropping keeps every sequence intact).
 *
 * No lock of its own: the controller's lock covers it.  The 8042's set 2
 * to set 1 translation is the controller's job: kr_ps2kbd_xlate().
 */
#ifndef KHV_RUN_PS2KBD_H
#define KHV_RUN_PS2KBD_H

#include <stdbool.h>
#include <stdint.h>

#include "snapfield.h"

#define KR_PS2KBD_QUEUE		32
/* The layout kr_ps2kbd_save() writes (snapfield.h). */
#define KR_PS2KBD_STATE_VERSION	1

struct kr_ps2kbd {
	uint8_t reply[8], keys[KR_PS2KBD_QUEUE];
	unsigned int n_reply, n_keys;
	uint8_t last;		/* the last byte sent, for 0xfe (resend) */
	uint8_t set;		/* scancode set: 1 or 2 */
	uint8_t leds;		/* bit 0 scroll, 1 num, 2 caps lock */
	uint8_t typematic;
	uint8_t arg_for;	/* a command waiting for its argument, 0: none */
	bool scanning;
};

void kr_ps2kbd_reset(struct kr_ps2kbd *k);
/* A byte from the controller (a command or a command's argument). */
void kr_ps2kbd_write(struct kr_ps2kbd *k, uint8_t v);
/* A key pressed (down) or released: its codes queued while scanning. */
void kr_ps2kbd_key(struct kr_ps2kbd *k, unsigned int keycode, bool down);
bool kr_ps2kbd_pending(const struct kr_ps2kbd *k);
/* The next byte for the controller (kr_ps2kbd_pending() first). */
uint8_t kr_ps2kbd_pop(struct kr_ps2kbd *k);

/*
 * The 8042's translation of one set-2 byte into set 1 (the controller
 * keeps the F0 break prefix's state: break true ORs in 0x80).  Bytes that
 * are no set-2 key code (ACK, BAT, E0, E1...) pass unchanged, except the
 * keyboard ID's 0x83, which becomes 0x41 as it does on a real 8042.
 */
uint8_t kr_ps2kbd_xlate(uint8_t set2, bool brk);

/*
 * The keyboard's state for a snapshot, inside its controller's (the
 * controller's lock held): both queues and their bytes, the last byte
 * sent, scancode set, LEDs, typematic rate, the command waiting for its
 * argument, scanning.  save: 0 or -ENOMEM.  load: 0, or -EPROTO with the
 * reason in g and k unchanged; it reads its part only, the controller's
 * load ends with kr_sget_done().
 */
int kr_ps2kbd_save(struct kr_ps2kbd *k, struct kr_sbuf *b);
int kr_ps2kbd_load(struct kr_ps2kbd *k, struct kr_sget *g);

#endif
