/* SPDX-License-Identifier: GPL-2.0 */
/*
 * X11 keysyms (what an RFB KeyEvent carries) to Linux key codes
 * (<linux/input-event-codes.h>), the currency of khv-run's keyboards: the
 * PS/2 keyboard turns them into scancodes, the virtio keyboard sends them
 * as they are.
 *
 * A US layout: a symbol maps to the key that types it ('A' and 'a' to
 * KEY_A, '!' to KEY_1); the viewer sends Shift itself, so the guest,
 * whatever its layout, sees the keys a US keyboard would have pressed.
 */
#ifndef KHV_RUN_KEYMAP_H
#define KHV_RUN_KEYMAP_H

#include <stdint.h>

/* The key code for keysym, or 0 when no key of a PC keyboard types it. */
unsigned int kr_keymap_keysym(uint32_t keysym);

#endif
