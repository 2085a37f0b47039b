// SPDX-License-Identifier: GPL-2.0
/* TEMPORARY wiring for the first boots: COM1 output, debug exit, reset. */
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>

#include "devices.h"
#include "machine.h"
#include "vmm.h"

struct kr_devices {
	struct kr_machine *m;
	uint8_t lcr, ier, mcr, scr;
};

static void com1(void *opaque, uint64_t off, uint8_t *d, unsigned int size, bool wr)
{
	struct kr_devices *dv = opaque;
	(void)size;
	if (wr) {
		if (off == 0 && !(dv->lcr & 0x80)) {
			if (write(1, d, 1) < 0) {
			}
		} else if (off == 3)
			dv->lcr = d[0];
		else if (off == 1 && !(dv->lcr & 0x80))
			dv->ier = d[0];
		else if (off == 4)
			dv->mcr = d[0];
		else if (off == 7)
			dv->scr = d[0];
		return;
	}
	switch (off) {
	case 1: d[0] = dv->lcr & 0x80 ? 0 : dv->ier; break;
	case 2: d[0] = 0xc1; break;
	case 3: d[0] = dv->lcr; break;
	case 4: d[0] = dv->mcr; break;
	case 5: d[0] = 0x60; break;
	case 6: d[0] = 0xb0; break;
	case 7: d[0] = dv->scr; break;
	default: d[0] = 0; break;
	}
}

static void dbgexit(void *opaque, uint64_t off, uint8_t *d, unsigned int size, bool write)
{
	struct kr_devices *dv = opaque;
	(void)off; (void)size;
	if (write)
		kr_machine_request(dv->m, KR_REQ_DEBUG_EXIT, (d[0] << 1) | 1, "debug exit");
}

static void kbd(void *opaque, uint64_t off, uint8_t *d, unsigned int size, bool write)
{
	struct kr_devices *dv = opaque;
	(void)size;
	(void)off;
	if (write && d[0] == 0xfe)
		kr_machine_request(dv->m, KR_REQ_RESET, 0, "i8042 reset");
	if (!write)
		d[0] = 0x1c;
}

int kr_devices_create(struct kr_machine *m, char *why, size_t len)
{
	struct kr_devices *dv = calloc(1, sizeof(*dv));
	(void)why; (void)len;
	dv->m = m;
	m->dev = dv;
	kr_bus_add(&m->pio, KR_PORT_COM1, 8, com1, dv, "com1");
	kr_bus_add(&m->pio, KR_PORT_DEBUG_EXIT, 1, dbgexit, dv, "debug-exit");
		kr_bus_add(&m->pio, KR_PORT_I8042_CMD, 1, kbd, dv, "i8042");
	return 0;
}

void kr_devices_destroy(struct kr_machine *m)
{
	free(m->dev);
	m->dev = NULL;
}

uint64_t kr_devices_rsdp(const struct kr_devices *d)
{
	(void)d;
	return 0;
}
