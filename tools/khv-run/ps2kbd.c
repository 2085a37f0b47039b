// SPDX-License-Identifier: GPL-2.0
/*
 * The PS/2 keyboard (ps2kbd.h).  Scancodes as IBM's AT and MF II keyboards
 * send them: one table gives each key its set-1 and set-2 code, and, since
 * the 8042's translation maps each set-2 code to the same key's set-1 code,
 * the same table is the translation.
 */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <stddef.h>
#include <string.h>

#include "ps2kbd.h"

#define KBD_ACK		0xfa
#define KBD_BAT_OK	0xaa
#define KBD_ECHO	0xee
#define KBD_RESEND	0xfe
#define KBD_ID0		0xab
#define KBD_ID1		0x83	/* MF II keyboard */

#define CMD_LEDS	0xed
#define CMD_ECHO	0xee
#define CMD_SCANSET	0xf0
#define CMD_IDENTIFY	0xf2
#define CMD_TYPEMATIC	0xf3
#define CMD_ENABLE	0xf4
#define CMD_DISABLE	0xf5	/* and defaults */
#define CMD_DEFAULTS	0xf6
#define CMD_RESEND	0xfe
#define CMD_RESET	0xff

#define PFX_EXT		0xe0
#define PFX_BREAK2	0xf0	/* set 2 break prefix */

struct key {
	uint16_t code;		/* Linux key code */
	uint8_t s1, s2;
	bool ext;		/* E0-prefixed in both sets */
};

static const struct key keys[] = {
	{ KEY_ESC, 0x01, 0x76 }, { KEY_1, 0x02, 0x16 }, { KEY_2, 0x03, 0x1e },
	{ KEY_3, 0x04, 0x26 }, { KEY_4, 0x05, 0x25 }, { KEY_5, 0x06, 0x2e },
	{ KEY_6, 0x07, 0x36 }, { KEY_7, 0x08, 0x3d }, { KEY_8, 0x09, 0x3e },
	{ KEY_9, 0x0a, 0x46 }, { KEY_0, 0x0b, 0x45 }, { KEY_MINUS, 0x0c, 0x4e },
	{ KEY_EQUAL, 0x0d, 0x55 }, { KEY_BACKSPACE, 0x0e, 0x66 }, { KEY_TAB, 0x0f, 0x0d },
	{ KEY_Q, 0x10, 0x15 }, { KEY_W, 0x11, 0x1d }, { KEY_E, 0x12, 0x24 },
	{ KEY_R, 0x13, 0x2d }, { KEY_T, 0x14, 0x2c }, { KEY_Y, 0x15, 0x35 },
	{ KEY_U, 0x16, 0x3c }, { KEY_I, 0x17, 0x43 }, { KEY_O, 0x18, 0x44 },
	{ KEY_P, 0x19, 0x4d }, { KEY_LEFTBRACE, 0x1a, 0x54 }, { KEY_RIGHTBRACE, 0x1b, 0x5b },
	{ KEY_ENTER, 0x1c, 0x5a }, { KEY_LEFTCTRL, 0x1d, 0x14 }, { KEY_A, 0x1e, 0x1c },
	{ KEY_S, 0x1f, 0x1b }, { KEY_D, 0x20, 0x23 }, { KEY_F, 0x21, 0x2b },
	{ KEY_G, 0x22, 0x34 }, { KEY_H, 0x23, 0x33 }, { KEY_J, 0x24, 0x3b },
	{ KEY_K, 0x25, 0x42 }, { KEY_L, 0x26, 0x4b }, { KEY_SEMICOLON, 0x27, 0x4c },
	{ KEY_APOSTROPHE, 0x28, 0x52 }, { KEY_GRAVE, 0x29, 0x0e }, { KEY_LEFTSHIFT, 0x2a, 0x12 },
	{ KEY_BACKSLASH, 0x2b, 0x5d }, { KEY_Z, 0x2c, 0x1a }, { KEY_X, 0x2d, 0x22 },
	{ KEY_C, 0x2e, 0x21 }, { KEY_V, 0x2f, 0x2a }, { KEY_B, 0x30, 0x32 },
	{ KEY_N, 0x31, 0x31 }, { KEY_M, 0x32, 0x3a }, { KEY_COMMA, 0x33, 0x41 },
	{ KEY_DOT, 0x34, 0x49 }, { KEY_SLASH, 0x35, 0x4a }, { KEY_RIGHTSHIFT, 0x36, 0x59 },
	{ KEY_KPASTERISK, 0x37, 0x7c }, { KEY_LEFTALT, 0x38, 0x11 }, { KEY_SPACE, 0x39, 0x29 },
	{ KEY_CAPSLOCK, 0x3a, 0x58 }, { KEY_F1, 0x3b, 0x05 }, { KEY_F2, 0x3c, 0x06 },
	{ KEY_F3, 0x3d, 0x04 }, { KEY_F4, 0x3e, 0x0c }, { KEY_F5, 0x3f, 0x03 },
	{ KEY_F6, 0x40, 0x0b }, { KEY_F7, 0x41, 0x83 }, { KEY_F8, 0x42, 0x0a },
	{ KEY_F9, 0x43, 0x01 }, { KEY_F10, 0x44, 0x09 }, { KEY_NUMLOCK, 0x45, 0x77 },
	{ KEY_SCROLLLOCK, 0x46, 0x7e }, { KEY_KP7, 0x47, 0x6c }, { KEY_KP8, 0x48, 0x75 },
	{ KEY_KP9, 0x49, 0x7d }, { KEY_KPMINUS, 0x4a, 0x7b }, { KEY_KP4, 0x4b, 0x6b },
	{ KEY_KP5, 0x4c, 0x73 }, { KEY_KP6, 0x4d, 0x74 }, { KEY_KPPLUS, 0x4e, 0x79 },
	{ KEY_KP1, 0x4f, 0x69 }, { KEY_KP2, 0x50, 0x72 }, { KEY_KP3, 0x51, 0x7a },
	{ KEY_KP0, 0x52, 0x70 }, { KEY_KPDOT, 0x53, 0x71 }, { KEY_102ND, 0x56, 0x61 },
	{ KEY_F11, 0x57, 0x78 }, { KEY_F12, 0x58, 0x07 },
	{ KEY_KPENTER, 0x1c, 0x5a, true }, { KEY_RIGHTCTRL, 0x1d, 0x14, true },
	{ KEY_KPSLASH, 0x35, 0x4a, true }, { KEY_RIGHTALT, 0x38, 0x11, true },
	{ KEY_HOME, 0x47, 0x6c, true }, { KEY_UP, 0x48, 0x75, true },
	{ KEY_PAGEUP, 0x49, 0x7d, true }, { KEY_LEFT, 0x4b, 0x6b, true },
	{ KEY_RIGHT, 0x4d, 0x74, true }, { KEY_END, 0x4f, 0x69, true },
	{ KEY_DOWN, 0x50, 0x72, true }, { KEY_PAGEDOWN, 0x51, 0x7a, true },
	{ KEY_INSERT, 0x52, 0x70, true }, { KEY_DELETE, 0x53, 0x71, true },
	{ KEY_LEFTMETA, 0x5b, 0x1f, true }, { KEY_RIGHTMETA, 0x5c, 0x27, true },
	{ KEY_COMPOSE, 0x5d, 0x2f, true },
};

static const struct key *find_key(unsigned int code)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].code == code)
			return &keys[i];
	return NULL;
}

uint8_t kr_ps2kbd_xlate(uint8_t set2, bool brk)
{
	uint8_t v = set2;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (keys[i].s2 == set2) {
			v = keys[i].s1;
			break;
		}
	}
	return brk ? v | 0x80 : v;
}

static void reply(struct kr_ps2kbd *k, uint8_t v)
{
	if (k->n_reply < sizeof(k->reply))
		k->reply[k->n_reply++] = v;
}

void kr_ps2kbd_reset(struct kr_ps2kbd *k)
{
	memset(k, 0, sizeof(*k));
	k->set = 2;
	k->typematic = 0x2b;	/* 10.9 characters a second after 500 ms */
	k->scanning = true;
}

/* Defaults (0xf5, 0xf6): the set, the rate; keys waiting are dropped. */
static void defaults(struct kr_ps2kbd *k, bool scanning)
{
	k->set = 2;
	k->typematic = 0x2b;
	k->n_keys = 0;
	k->scanning = scanning;
}

static void argument(struct kr_ps2kbd *k, uint8_t cmd, uint8_t v)
{
	switch (cmd) {
	case CMD_LEDS:
		k->leds = v & 7;
		reply(k, KBD_ACK);
		break;
	case CMD_TYPEMATIC:
		k->typematic = v & 0x7f;
		reply(k, KBD_ACK);
		break;
	case CMD_SCANSET:
		if (v == 0) {
			reply(k, KBD_ACK);
			reply(k, k->set);
		} else if (v == 1 || v == 2) {
			k->set = v;
			k->n_keys = 0;
			reply(k, KBD_ACK);
		} else {
			reply(k, KBD_RESEND);
		}
		break;
	}
}

void kr_ps2kbd_write(struct kr_ps2kbd *k, uint8_t v)
{
	uint8_t cmd = k->arg_for;

	k->arg_for = 0;
	/* A command byte where an argument was expected is a command. */
	if (cmd && v < CMD_LEDS) {
		argument(k, cmd, v);
		return;
	}
	switch (v) {
	case CMD_LEDS:
	case CMD_TYPEMATIC:
	case CMD_SCANSET:
		k->arg_for = v;
		reply(k, KBD_ACK);
		break;
	case CMD_ECHO:
		reply(k, KBD_ECHO);
		break;
	case CMD_IDENTIFY:
		reply(k, KBD_ACK);
		reply(k, KBD_ID0);
		reply(k, KBD_ID1);
		break;
	case CMD_ENABLE:
		k->n_keys = 0;
		k->scanning = true;
		reply(k, KBD_ACK);
		break;
	case CMD_DISABLE:
		defaults(k, false);
		reply(k, KBD_ACK);
		break;
	case CMD_DEFAULTS:
		defaults(k, true);
		reply(k, KBD_ACK);
		break;
	case CMD_RESEND:
		reply(k, k->last);
		break;
	case CMD_RESET:
		kr_ps2kbd_reset(k);
		reply(k, KBD_ACK);
		reply(k, KBD_BAT_OK);
		break;
	default:
		reply(k, KBD_RESEND);	/* not a command this keyboard knows */
		break;
	}
}

/* A whole sequence, or nothing. */
static void queue(struct kr_ps2kbd *k, const uint8_t *seq, unsigned int n)
{
	if (k->n_keys + n > sizeof(k->keys))
		return;
	memcpy(k->keys + k->n_keys, seq, n);
	k->n_keys += n;
}

static void special(struct kr_ps2kbd *k, unsigned int code, bool down)
{
	static const uint8_t pause1[] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
	static const uint8_t pause2[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
	static const uint8_t prt1_make[] = { 0xe0, 0x2a, 0xe0, 0x37 };
	static const uint8_t prt1_break[] = { 0xe0, 0xb7, 0xe0, 0xaa };
	static const uint8_t prt2_make[] = { 0xe0, 0x12, 0xe0, 0x7c };
	static const uint8_t prt2_break[] = { 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12 };

	if (code == KEY_PAUSE) {
		/* One sequence at the press, none at the release. */
		if (down && k->set == 1)
			queue(k, pause1, sizeof(pause1));
		else if (down)
			queue(k, pause2, sizeof(pause2));
	} else if (k->set == 1) {
		if (down)
			queue(k, prt1_make, sizeof(prt1_make));
		else
			queue(k, prt1_break, sizeof(prt1_break));
	} else {
		if (down)
			queue(k, prt2_make, sizeof(prt2_make));
		else
			queue(k, prt2_break, sizeof(prt2_break));
	}
}

void kr_ps2kbd_key(struct kr_ps2kbd *k, unsigned int keycode, bool down)
{
	const struct key *key;
	uint8_t seq[3];
	unsigned int n = 0;

	if (!k->scanning)
		return;
	if (keycode == KEY_PAUSE || keycode == KEY_SYSRQ) {
		special(k, keycode, down);
		return;
	}
	key = find_key(keycode);
	if (!key)
		return;
	if (key->ext)
		seq[n++] = PFX_EXT;
	if (k->set == 1) {
		seq[n++] = down ? key->s1 : key->s1 | 0x80;
	} else {
		if (!down)
			seq[n++] = PFX_BREAK2;
		seq[n++] = key->s2;
	}
	queue(k, seq, n);
}

bool kr_ps2kbd_pending(const struct kr_ps2kbd *k)
{
	return k->n_reply || k->n_keys;
}

uint8_t kr_ps2kbd_pop(struct kr_ps2kbd *k)
{
	uint8_t v;

	if (k->n_reply) {
		v = k->reply[0];
		memmove(k->reply, k->reply + 1, --k->n_reply);
	} else if (k->n_keys) {
		v = k->keys[0];
		memmove(k->keys, k->keys + 1, --k->n_keys);
	} else {
		return 0;
	}
	k->last = v;
	return v;
}

/*
 * The state, in this order: the reply queue's count (u8) and bytes, the
 * key queue's count (u8) and bytes, then as u8: the last byte sent, the
 * scancode set, the LEDs, the typematic byte, the command waiting for its
 * argument; scanning (flag).
 */
int kr_ps2kbd_save(struct kr_ps2kbd *k, struct kr_sbuf *b)
{
	kr_sbuf_begin(b, KR_PS2KBD_STATE_VERSION);
	kr_sbuf_u8(b, k->n_reply);
	kr_sbuf_bytes(b, k->reply, k->n_reply);
	kr_sbuf_u8(b, k->n_keys);
	kr_sbuf_bytes(b, k->keys, k->n_keys);
	kr_sbuf_u8(b, k->last);
	kr_sbuf_u8(b, k->set);
	kr_sbuf_u8(b, k->leds);
	kr_sbuf_u8(b, k->typematic);
	kr_sbuf_u8(b, k->arg_for);
	kr_sbuf_bool(b, k->scanning);
	return b->oom ? -ENOMEM : 0;
}

int kr_ps2kbd_load(struct kr_ps2kbd *k, struct kr_sget *g)
{
	struct kr_ps2kbd n = { 0 };

	if (kr_sget_begin(g, KR_PS2KBD_STATE_VERSION))
		return -EPROTO;
	n.n_reply = kr_sget_u8(g);
	if (n.n_reply > sizeof(n.reply))
		return kr_sget_fail(g, "%u keyboard replies in a queue of %zu", n.n_reply,
				    sizeof(n.reply));
	kr_sget_bytes(g, n.reply, n.n_reply);
	n.n_keys = kr_sget_u8(g);
	if (n.n_keys > sizeof(n.keys))
		return kr_sget_fail(g, "%u key bytes in a queue of %zu", n.n_keys,
				    sizeof(n.keys));
	kr_sget_bytes(g, n.keys, n.n_keys);
	n.last = kr_sget_u8(g);
	n.set = kr_sget_u8(g);
	n.leds = kr_sget_u8(g);
	n.typematic = kr_sget_u8(g);
	n.arg_for = kr_sget_u8(g);
	n.scanning = kr_sget_bool(g);
	if (g->bad)
		return -EPROTO;
	if (n.set != 1 && n.set != 2)
		return kr_sget_fail(g, "keyboard scancode set %u (1 or 2)", n.set);
	if (n.leds & ~7)
		return kr_sget_fail(g, "keyboard LEDs %#x (3 bits)", n.leds);
	if (n.typematic & ~0x7f)
		return kr_sget_fail(g, "keyboard typematic byte %#x (7 bits)", n.typematic);
	if (n.arg_for && n.arg_for != CMD_LEDS && n.arg_for != CMD_TYPEMATIC &&
	    n.arg_for != CMD_SCANSET)
		return kr_sget_fail(g, "keyboard waits for an argument of %#x, which takes none",
				    n.arg_for);
	*k = n;
	return 0;
}
