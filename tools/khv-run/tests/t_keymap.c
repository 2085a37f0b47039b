// SPDX-License-Identifier: GPL-2.0
/* Keysyms to Linux key codes (keymap.c), as a VNC viewer sends them. */
#include <linux/input-event-codes.h>

#include <rfb/keysym.h>

#include "t.h"
#include "../keymap.h"

KR_TEST(keymap_keysyms)
{
	/* Letters in both cases, digits and their shifted symbols. */
	CHECK_EQ(kr_keymap_keysym('a'), KEY_A);
	CHECK_EQ(kr_keymap_keysym('A'), KEY_A);
	CHECK_EQ(kr_keymap_keysym('q'), KEY_Q);
	CHECK_EQ(kr_keymap_keysym('Z'), KEY_Z);
	CHECK_EQ(kr_keymap_keysym('m'), KEY_M);
	CHECK_EQ(kr_keymap_keysym('0'), KEY_0);
	CHECK_EQ(kr_keymap_keysym('1'), KEY_1);
	CHECK_EQ(kr_keymap_keysym('!'), KEY_1);
	CHECK_EQ(kr_keymap_keysym('@'), KEY_2);
	CHECK_EQ(kr_keymap_keysym(')'), KEY_0);
	/* Punctuation, plain and shifted. */
	CHECK_EQ(kr_keymap_keysym(' '), KEY_SPACE);
	CHECK_EQ(kr_keymap_keysym('-'), KEY_MINUS);
	CHECK_EQ(kr_keymap_keysym('_'), KEY_MINUS);
	CHECK_EQ(kr_keymap_keysym('"'), KEY_APOSTROPHE);
	CHECK_EQ(kr_keymap_keysym('|'), KEY_BACKSLASH);
	CHECK_EQ(kr_keymap_keysym('~'), KEY_GRAVE);
	CHECK_EQ(kr_keymap_keysym('?'), KEY_SLASH);
	CHECK_EQ(kr_keymap_keysym('>'), KEY_DOT);
	CHECK_EQ(kr_keymap_keysym('{'), KEY_LEFTBRACE);
	/* Every printable ASCII character has a key. */
	for (uint32_t c = 0x20; c < 0x7f; c++)
		CHECK(kr_keymap_keysym(c) != 0);
	/* Function keys, editing keys, modifiers, keypad. */
	CHECK_EQ(kr_keymap_keysym(XK_Return), KEY_ENTER);
	CHECK_EQ(kr_keymap_keysym(XK_BackSpace), KEY_BACKSPACE);
	CHECK_EQ(kr_keymap_keysym(XK_Escape), KEY_ESC);
	CHECK_EQ(kr_keymap_keysym(XK_F1), KEY_F1);
	CHECK_EQ(kr_keymap_keysym(XK_F12), KEY_F12);
	CHECK_EQ(kr_keymap_keysym(XK_Up), KEY_UP);
	CHECK_EQ(kr_keymap_keysym(XK_Page_Down), KEY_PAGEDOWN);
	CHECK_EQ(kr_keymap_keysym(XK_Delete), KEY_DELETE);
	CHECK_EQ(kr_keymap_keysym(XK_Shift_L), KEY_LEFTSHIFT);
	CHECK_EQ(kr_keymap_keysym(XK_Control_R), KEY_RIGHTCTRL);
	CHECK_EQ(kr_keymap_keysym(XK_Alt_L), KEY_LEFTALT);
	CHECK_EQ(kr_keymap_keysym(XK_ISO_Level3_Shift), KEY_RIGHTALT);
	CHECK_EQ(kr_keymap_keysym(XK_Super_L), KEY_LEFTMETA);
	CHECK_EQ(kr_keymap_keysym(XK_KP_Enter), KEY_KPENTER);
	CHECK_EQ(kr_keymap_keysym(XK_KP_7), KEY_KP7);
	CHECK_EQ(kr_keymap_keysym(XK_KP_Home), KEY_KP7);
	CHECK_EQ(kr_keymap_keysym(XK_Print), KEY_SYSRQ);
	CHECK_EQ(kr_keymap_keysym(XK_Pause), KEY_PAUSE);
	/* What no PC key types: nothing. */
	CHECK_EQ(kr_keymap_keysym(0), 0);
	CHECK_EQ(kr_keymap_keysym(0x1f), 0);
	CHECK_EQ(kr_keymap_keysym(0x7f), 0);
	CHECK_EQ(kr_keymap_keysym(0xe9), 0);	/* eacute: another layout's */
	CHECK_EQ(kr_keymap_keysym(0x20ac), 0);	/* EuroSign */
	CHECK_EQ(kr_keymap_keysym(0xffffffff), 0);
}
