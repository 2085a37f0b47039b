// SPDX-License-Identifier: GPL-2.0
/*
 * The i8042 PS/2 controller with a keyboard on its first port (i8042.h).
 *
 * What Linux's i8042 driver does with it: flush the output buffer (reads
 * while OBF), self-test (0xaa -> 0x55), read and write the command byte
 * (0x20/0x60) and compare two reads of it, disable and enable the ports
 * (0xad/0xae/0xa7/0xa8), probe the AUX port (loop 0xd3, test 0xa9) and
 * multiplexers (0xd3 loops expecting data back unchanged), and send bytes
 * to the keyboard (writes to the data port), which ps2kbd.c answers; atkbd
 * then finds an MF II keyboard.  The output buffer holds one byte; a read
 * when it is empty returns the last byte again, as the chip's latch does.
 * The keyboard's bytes move into it when it is empty and the keyboard
 * port is enabled, translated from set 2 to set 1 when the command byte
 * says so (the 8042's translation, on by default as firmware leaves it).
 *
 * Locking: k->lock covers the controller's state.  kr_irq_set() is called
 * with it held (the in-kernel irqchip never calls back into a device, and
 * the lock keeps the levels in order).  The reset callback is called after
 * the lock is dropped, since it may do anything to the machine.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "i8042.h"
#include "machine.h"
#include "ps2kbd.h"

/* Status register */
#define STS_OBF		0x01	/* output buffer full */
#define STS_SYS		0x04	/* system flag, from the command byte */
#define STS_CMD		0x08	/* last write went to the command port */
#define STS_UNLOCKED	0x10	/* keyboard not inhibited by a keylock */
#define STS_AUXDATA	0x20	/* the byte in the output buffer is from AUX */
/* Command byte (controller RAM byte 0) */
#define CTR_KBDINT	0x01
#define CTR_SYS		0x04
#define CTR_KBDDIS	0x10
#define CTR_AUXDIS	0x20
#define CTR_XLATE	0x40
/* Output port */
#define OUT_RESET	0x01	/* low: CPU reset */
#define OUT_A20		0x02
#define OUT_KBD_IRQ	0x10
#define OUT_AUX_IRQ	0x20

#define CMD_READ_RAM	0x20	/* 0x20-0x3f */
#define CMD_WRITE_RAM	0x60	/* 0x60-0x7f: takes a data byte */
#define CMD_AUX_DISABLE	0xa7
#define CMD_AUX_ENABLE	0xa8
#define CMD_AUX_TEST	0xa9
#define CMD_SELF_TEST	0xaa
#define CMD_KBD_TEST	0xab
#define CMD_KBD_DISABLE	0xad
#define CMD_KBD_ENABLE	0xae
#define CMD_READ_OUT	0xd0
#define CMD_WRITE_OUT	0xd1
#define CMD_KBD_LOOP	0xd2	/* data byte back as if from the keyboard */
#define CMD_AUX_LOOP	0xd3	/* data byte back as if from the mouse */
#define CMD_AUX_SEND	0xd4	/* data byte to the mouse */
#define CMD_PULSE	0xf0	/* 0xf0-0xff: pulse output port bits 3:0 that are 0 */

#define I8042_RAM	32
#define SELF_TEST_OK	0x55
#define PORT_TEST_OK	0x00

struct kr_i8042 {
	pthread_mutex_t lock;
	struct kr_irq irq;
	void (*reset)(void *opaque);
	void *opaque;

	uint8_t ram[I8042_RAM];	/* ram[0]: the command byte */
	uint8_t out;		/* output buffer */
	bool obf, aux;		/* full, and from the AUX port */
	bool last_cmd;		/* STS_CMD */
	uint8_t pending;	/* command waiting for its data byte, 0: none */
	uint8_t outport;
	int line;
	struct kr_ps2kbd kbd;
	bool xlate_break;	/* translating: an F0 came, the next byte is a break */
};

static void i8042_update_irq(struct kr_i8042 *k)
{
	int level = k->obf && !k->aux && (k->ram[0] & CTR_KBDINT);

	if (level != k->line) {
		k->line = level;
		kr_irq_set(&k->irq, level);
	}
}

static void i8042_output(struct kr_i8042 *k, uint8_t v, bool aux)
{
	k->out = v;
	k->obf = true;
	k->aux = aux;
}

/* Keyboard bytes into an empty output buffer, translated when asked. */
static void i8042_pull_kbd(struct kr_i8042 *k)
{
	while (!k->obf && !(k->ram[0] & CTR_KBDDIS) && kr_ps2kbd_pending(&k->kbd)) {
		uint8_t v = kr_ps2kbd_pop(&k->kbd);

		if (k->ram[0] & CTR_XLATE) {
			if (v == 0xf0) {
				k->xlate_break = true;
				continue;
			}
			v = kr_ps2kbd_xlate(v, k->xlate_break);
			k->xlate_break = false;
		}
		i8042_output(k, v, false);
	}
}

static uint8_t i8042_status(const struct kr_i8042 *k)
{
	return (k->obf ? STS_OBF : 0) | (k->obf && k->aux ? STS_AUXDATA : 0) |
	       (k->ram[0] & CTR_SYS ? STS_SYS : 0) | (k->last_cmd ? STS_CMD : 0) | STS_UNLOCKED;
}

/* Returns true when the command resets the CPU. */
static bool i8042_command(struct kr_i8042 *k, uint8_t cmd)
{
	k->pending = 0;
	if (cmd >= CMD_READ_RAM && cmd < CMD_READ_RAM + I8042_RAM) {
		i8042_output(k, k->ram[cmd - CMD_READ_RAM], false);
		return false;
	}
	if ((cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + I8042_RAM) ||
	    (cmd >= CMD_WRITE_OUT && cmd <= CMD_AUX_SEND)) {
		k->pending = cmd;
		return false;
	}
	if (cmd >= CMD_PULSE)
		return !(cmd & OUT_RESET);
	switch (cmd) {
	case CMD_AUX_DISABLE:
		k->ram[0] |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		k->ram[0] &= ~CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		i8042_output(k, PORT_TEST_OK, false);
		break;
	case CMD_SELF_TEST:
		i8042_output(k, SELF_TEST_OK, false);
		break;
	case CMD_KBD_DISABLE:
		k->ram[0] |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		k->ram[0] &= ~CTR_KBDDIS;
		break;
	case CMD_READ_OUT:
		i8042_output(k, k->outport | (k->obf && !k->aux ? OUT_KBD_IRQ : 0) |
				(k->obf && k->aux ? OUT_AUX_IRQ : 0), false);
		break;
	default:
		break;		/* A20 gate, passwords, vendor commands: ignored */
	}
	return false;
}

/* A write to the data port.  Returns true when it resets the CPU. */
static bool i8042_data(struct kr_i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + I8042_RAM) {
		k->ram[cmd - CMD_WRITE_RAM] = v;
		return false;
	}
	switch (cmd) {
	case CMD_WRITE_OUT:
		/* A20 stays on whatever bit 1 says: the machine has no A20 gate. */
		k->outport = v | OUT_RESET;
		return !(v & OUT_RESET);
	case CMD_KBD_LOOP:
		i8042_output(k, v, false);
		break;
	case CMD_AUX_LOOP:
		i8042_output(k, v, true);
		break;
	case 0:
		/* To the keyboard, which that re-enables, as on the 8042. */
		k->ram[0] &= ~CTR_KBDDIS;
		kr_ps2kbd_write(&k->kbd, v);
		break;
	default:
		break;		/* to the mouse, which is not there */
	}
	return false;
}

static void i8042_io(struct kr_i8042 *k, bool cmd_port, uint8_t *data, bool write)
{
	bool reset = false;

	pthread_mutex_lock(&k->lock);
	if (write) {
		k->last_cmd = cmd_port;
		reset = cmd_port ? i8042_command(k, *data) : i8042_data(k, *data);
	} else if (cmd_port) {
		*data = i8042_status(k);
	} else {
		*data = k->out;
		k->obf = false;
	}
	/* The line drops before the next byte raises it: an edge per byte. */
	i8042_update_irq(k);
	i8042_pull_kbd(k);
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
	if (reset && k->reset)
		k->reset(k->opaque);
}

/* Each port is one byte: bytes of a wider access past it stay unclaimed. */
static void i8042_data_io(void *opaque, uint64_t offset, uint8_t *data, unsigned int size,
			  bool write)
{
	if (!offset && size)
		i8042_io(opaque, false, data, write);
}

static void i8042_cmd_io(void *opaque, uint64_t offset, uint8_t *data, unsigned int size,
			 bool write)
{
	if (!offset && size)
		i8042_io(opaque, true, data, write);
}

struct kr_i8042 *kr_i8042_create(const struct kr_irq *irq, void (*reset)(void *opaque),
				 void *opaque)
{
	struct kr_i8042 *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	pthread_mutex_init(&k->lock, NULL);
	if (irq)
		k->irq = *irq;
	k->reset = reset;
	k->opaque = opaque;
	/* As firmware leaves it: POST passed, translation on, no mouse. */
	k->ram[0] = CTR_KBDINT | CTR_SYS | CTR_XLATE | CTR_AUXDIS;
	k->outport = OUT_RESET | OUT_A20;
	kr_ps2kbd_reset(&k->kbd);
	return k;
}

void kr_i8042_key(struct kr_i8042 *k, unsigned int keycode, bool down)
{
	pthread_mutex_lock(&k->lock);
	kr_ps2kbd_key(&k->kbd, keycode, down);
	i8042_pull_kbd(k);
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

uint8_t kr_i8042_leds(struct kr_i8042 *k)
{
	uint8_t leds;

	pthread_mutex_lock(&k->lock);
	leds = k->kbd.leds;
	pthread_mutex_unlock(&k->lock);
	return leds;
}

int kr_i8042_attach(struct kr_i8042 *k, struct kr_bus *pio)
{
	int ret = kr_bus_add(pio, KR_PORT_I8042_DATA, 1, i8042_data_io, k, "i8042");

	return ret ? ret : kr_bus_add(pio, KR_PORT_I8042_CMD, 1, i8042_cmd_io, k, "i8042");
}

void kr_i8042_destroy(struct kr_i8042 *k)
{
	if (!k)
		return;
	pthread_mutex_destroy(&k->lock);
	free(k);
}

/* ---- snapshot ----------------------------------------------------------- */

/*
 * The state, in this order: the 32 bytes of RAM, the output buffer (u8),
 * then flags: full, from AUX, last write to the command port; the command
 * waiting for its data byte and the output port (u8 each); flags: an F0
 * waiting to be translated, the line's level; then the keyboard's state
 * (kr_ps2kbd_save(), with its own version).
 */
int kr_i8042_save(struct kr_i8042 *k, struct kr_sbuf *b)
{
	int ret;

	pthread_mutex_lock(&k->lock);
	kr_sbuf_begin(b, KR_I8042_STATE_VERSION);
	kr_sbuf_bytes(b, k->ram, sizeof(k->ram));
	kr_sbuf_u8(b, k->out);
	kr_sbuf_bool(b, k->obf);
	kr_sbuf_bool(b, k->aux);
	kr_sbuf_bool(b, k->last_cmd);
	kr_sbuf_u8(b, k->pending);
	kr_sbuf_u8(b, k->outport);
	kr_sbuf_bool(b, k->xlate_break);
	kr_sbuf_bool(b, k->line);
	ret = kr_ps2kbd_save(&k->kbd, b);
	pthread_mutex_unlock(&k->lock);
	return ret;
}

/* A command i8042_command() leaves waiting for its data byte. */
static bool i8042_takes_data(uint8_t cmd)
{
	return (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + I8042_RAM) ||
	       (cmd >= CMD_WRITE_OUT && cmd <= CMD_AUX_SEND);
}

int kr_i8042_load(struct kr_i8042 *k, struct kr_sget *g)
{
	uint8_t ram[I8042_RAM], out, pending, outport;
	bool obf, aux, last_cmd, xlate_break, line;
	struct kr_ps2kbd kbd;

	if (kr_sget_begin(g, KR_I8042_STATE_VERSION))
		return -EPROTO;
	kr_sget_bytes(g, ram, sizeof(ram));
	out = kr_sget_u8(g);
	obf = kr_sget_bool(g);
	aux = kr_sget_bool(g);
	last_cmd = kr_sget_bool(g);
	pending = kr_sget_u8(g);
	outport = kr_sget_u8(g);
	xlate_break = kr_sget_bool(g);
	line = kr_sget_bool(g);
	if (g->bad)
		return -EPROTO;
	if (pending && !i8042_takes_data(pending))
		return kr_sget_fail(g, "command %#x waits for a data byte, which it takes none of",
				    pending);
	/* Nothing can clear the output port's reset bit but a reset. */
	if (!(outport & OUT_RESET))
		return kr_sget_fail(g, "output port %#x holds the CPU in reset", outport);
	/* At rest the line always follows the buffer and the command byte. */
	if (line != (obf && !aux && (ram[0] & CTR_KBDINT)))
		return kr_sget_fail(g, "line level %d where the output buffer says %d", line,
				    obf && !aux && (ram[0] & CTR_KBDINT));
	if (kr_ps2kbd_load(&kbd, g) || kr_sget_done(g))
		return -EPROTO;

	pthread_mutex_lock(&k->lock);
	memcpy(k->ram, ram, sizeof(ram));
	k->out = out;
	k->obf = obf;
	k->aux = aux;
	k->last_cmd = last_cmd;
	k->pending = pending;
	k->outport = outport;
	k->xlate_break = xlate_break;
	k->line = line;
	k->kbd = kbd;
	pthread_mutex_unlock(&k->lock);
	return 0;
}
