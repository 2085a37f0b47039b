// SPDX-License-Identifier: GPL-2.0
/*
 * Which device sits where: the legacy PC devices on their ports and ISA
 * IRQs (machine.h), fw_cfg, and the ACPI tables that describe them.  The
 * interrupt controllers and the PIT are khv's, in the kernel.  Each device
 * is its own file behind dev.h; this file only creates and wires them, and
 * turns their callbacks (reset, power-off, debug exit) into requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acpi.h"
#include "devices.h"
#include "fw_cfg.h"
#include "i8042.h"
#include "machine.h"
#include "notify.h"
#include "pci.h"
#include "pm.h"
#include "post.h"
#include "rtc.h"
#include "serial.h"
#include "virtio_rng.h"
#include "vmm.h"

struct kr_devices {
	struct kr_machine *m;
	struct kr_serial *com1;
	int com1_file;			/* --serial file:PATH, else -1 */
	struct kr_rtc *rtc;
	struct kr_i8042 *i8042;
	struct kr_pm *pm;
	struct kr_post *post;
	struct kr_fw_cfg *fw_cfg;
	struct kr_pci *pci;
	struct kr_virtio_rng *rng;
	struct kr_notify *rng_notify;
};

/* An ISA or PCI line of the in-kernel irqchip. */
static void kr_gsi_set(void *opaque, unsigned int gsi, int level)
{
	struct kr_machine *m = opaque;

	khv_vm_irq_line(&m->vm, gsi, level);
}

static struct kr_irq kr_gsi(struct kr_machine *m, unsigned int gsi)
{
	return (struct kr_irq){ .set = kr_gsi_set, .opaque = m, .gsi = gsi };
}

static int kr_vm_ioeventfd(void *opaque, const struct khv_ioeventfd *args)
{
	struct kr_machine *m = opaque;

	return khv_vm_ioeventfd(&m->vm, args);
}

/* A PCI device's MSI-X message, as it would write it to the APIC. */
static int kr_msi_send(void *opaque, uint64_t address, uint32_t data)
{
	struct kr_machine *m = opaque;

	return khv_vm_signal_msi(&m->vm, address, data) < 0 ? -1 : 0;
}

static void kr_on_reset(void *opaque)
{
	struct kr_devices *d = opaque;

	kr_machine_request(d->m, KR_REQ_RESET, 0, KR_REASON_GUEST_RESET, "guest reset (i8042)");
}

static void kr_on_pci_reset(void *opaque)
{
	struct kr_devices *d = opaque;

	kr_machine_request(d->m, KR_REQ_RESET, 0, KR_REASON_GUEST_RESET,
			   "guest reset (reset control register)");
}

static void kr_on_poweroff(void *opaque)
{
	struct kr_devices *d = opaque;

	kr_machine_request(d->m, KR_REQ_POWEROFF, 0, KR_REASON_GUEST_SHUTDOWN,
			   "guest power-off (ACPI S5)");
}

static void kr_on_debug_exit(void *opaque, int status)
{
	struct kr_devices *d = opaque;
	char why[48];

	snprintf(why, sizeof(why), "debug exit, status %d", status);
	kr_machine_request(d->m, KR_REQ_DEBUG_EXIT, status, KR_REASON_GUEST_DEBUG_EXIT, why);
}

static int kr_serial(struct kr_devices *d, char *why, size_t len)
{
	struct kr_machine *m = d->m;
	const char *where = m->cfg->serial;
	struct kr_irq irq = kr_gsi(m, KR_GSI_COM1);

	if (!strcmp(where, "none"))
		return 0;
	if (!strcmp(where, "stdio")) {
		d->com1 = kr_serial_create_stdio(KR_PORT_COM1, &irq, m->loop);
	} else if (!strcmp(where, "pty")) {
		char path[64];

		d->com1 = kr_serial_create_pty(KR_PORT_COM1, &irq, m->loop, path, sizeof(path));
		if (d->com1)
			fprintf(stderr, "khv-run: serial console on %s\n", path);
	} else {
		d->com1_file = open(where + strlen("file:"),
				    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (d->com1_file < 0) {
			snprintf(why, len, "--serial %s: %s", where, strerror(errno));
			return KR_EXIT_USAGE;
		}
		d->com1 = kr_serial_create(KR_PORT_COM1, &irq, m->loop, -1, d->com1_file);
	}
	if (!d->com1) {
		snprintf(why, len, "COM1 on %s: %s", where, strerror(errno));
		return KR_EXIT_HOST;
	}
	return kr_serial_attach(d->com1, &m->pio) ? KR_EXIT_HOST : 0;
}

/* The PCI host bridge with its devices (one slot each, from 1 on). */
static int kr_pci(struct kr_devices *d, char *why, size_t len)
{
	struct kr_machine *m = d->m;
	struct kr_pci_params pp = {
		.intx = { .set = kr_gsi_set, .opaque = m },
		.msi = { .send = kr_msi_send, .opaque = m },
		.reset = kr_on_pci_reset, .reset_opaque = d,
	};

	d->pci = kr_pci_create(&pp);
	if (!d->pci || kr_pci_attach(d->pci, &m->pio, &m->mmio)) {
		snprintf(why, len, "PCI host bridge: %s", strerror(errno));
		return KR_EXIT_HOST;
	}
	if (m->cfg->rng) {
		d->rng = kr_virtio_rng_create(d->pci, -1, &m->mem);
		if (d->rng)
			d->rng_notify = kr_notify_create(kr_virtio_rng_transport(d->rng), 1,
							 m->loop, kr_vm_ioeventfd, m);
		if (!d->rng || !d->rng_notify) {
			snprintf(why, len, "virtio-rng: %s", strerror(errno));
			return KR_EXIT_HOST;
		}
	}
	return 0;
}

int kr_devices_create(struct kr_machine *m, char *why, size_t len)
{
	struct kr_devices *d = calloc(1, sizeof(*d));
	struct kr_rtc_params rp = { .irq = kr_gsi(m, KR_GSI_RTC), .loop = m->loop };
	struct kr_pm_params pp = { .sci = kr_gsi(m, KR_GSI_SCI), .poweroff = kr_on_poweroff };
	struct kr_fw_cfg_config fc = { .mem = &m->mem, .nb_cpus = m->nr_vcpus };
	struct kr_acpi_config ac = {
		.nr_vcpus = m->nr_vcpus, .ram_below_4g = m->mem.low_size,
		.ram_above_4g = m->mem.high_size, .have_i8042 = true,
	};
	struct kr_irq kbd = kr_gsi(m, KR_GSI_I8042);
	int err;

	if (!d) {
		snprintf(why, len, "out of memory");
		return KR_EXIT_HOST;
	}
	d->m = m;
	d->com1_file = -1;
	m->dev = d;
	err = kr_serial(d, why, len);
	if (err)
		return err;
	pp.opaque = d;
	d->rtc = kr_rtc_create(&rp);
	d->i8042 = kr_i8042_create(&kbd, kr_on_reset, d);
	d->pm = kr_pm_create(&pp);
	d->post = kr_post_create(kr_on_debug_exit, d);
	if (!d->rtc || !d->i8042 || !d->pm || !d->post || kr_fw_cfg_create(&fc, &d->fw_cfg)) {
		snprintf(why, len, "cannot create the legacy devices: %s", strerror(errno));
		return KR_EXIT_HOST;
	}
	kr_rtc_set_mem_sizes(d->rtc, m->mem.low_size, m->mem.high_size);
	err = kr_rtc_attach(d->rtc, &m->pio);
	if (!err)
		err = kr_i8042_attach(d->i8042, &m->pio);
	if (!err)
		err = kr_pm_attach(d->pm, &m->pio);
	if (!err)
		err = kr_post_attach(d->post, &m->pio);
	if (!err)
		err = kr_fw_cfg_attach(d->fw_cfg, &m->pio);
	if (err) {
		snprintf(why, len, "device ports: %s", strerror(-err));
		return KR_EXIT_HOST;
	}
	err = kr_pci(d, why, len);
	if (err)
		return err;
	err = kr_acpi_build(m->mem.low, m->mem.low_size, &ac);
	if (err) {
		snprintf(why, len, "ACPI tables: %s", strerror(-err));
		return KR_EXIT_HOST;
	}
	return 0;
}

void kr_devices_destroy(struct kr_machine *m)
{
	struct kr_devices *d = m->dev;

	if (!d)
		return;
	kr_serial_destroy(d->com1);
	if (d->com1_file >= 0)
		close(d->com1_file);
	kr_rtc_destroy(d->rtc);
	kr_i8042_destroy(d->i8042);
	kr_pm_destroy(d->pm);
	kr_post_destroy(d->post);
	kr_fw_cfg_destroy(d->fw_cfg);
	kr_notify_destroy(d->rng_notify);
	kr_virtio_rng_destroy(d->rng);
	kr_pci_destroy(d->pci);
	free(d);
	m->dev = NULL;
}

uint64_t kr_devices_rsdp(const struct kr_devices *d)
{
	(void)d;
	return KR_RSDP_ADDR;
}

void kr_devices_power_button(struct kr_devices *d)
{
	if (d && d->pm)
		kr_pm_power_button(d->pm);
}
