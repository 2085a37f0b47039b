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
#include "chardev.h"
#include "devices.h"
#include "display.h"
#include "fw_cfg.h"
#include "i8042.h"
#include "machine.h"
#include "notify.h"
#include "pci.h"
#include "pm.h"
#include "post.h"
#include "rtc.h"
#include "serial.h"
#include "virtio_blk.h"
#include "virtio_console.h"
#include "virtio_input.h"
#include "virtio_net.h"
#include "virtio_rng.h"
#include "vmm.h"
#include "vnc.h"

struct kr_devices {
	struct kr_machine *m;
	struct kr_serial *com1;
	struct kr_virtio_console *con;
	struct kr_rtc *rtc;
	struct kr_i8042 *i8042;
	struct kr_pm *pm;
	struct kr_post *post;
	struct kr_fw_cfg *fw_cfg;
	struct kr_pci *pci;
	struct kr_virtio_rng *rng;
	struct kr_notify *rng_notify;
	struct kr_virtio_blk *blk[KR_DISK_MAX_DISKS];	/* one per --disk */
	struct kr_notify *blk_notify[KR_DISK_MAX_DISKS];
	struct kr_virtio_net *net[KR_MAX_NETS];
	struct kr_display *display;
	struct kr_virtio_input *tablet, *vkbd;
	struct kr_notify *tablet_notify, *vkbd_notify;
	bool vnc_attached;
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

static void kr_on_console_quit(void *opaque)
{
	struct kr_machine *m = opaque;

	kr_machine_request(m, KR_REQ_QUIT, 0, KR_REASON_HOST_UI, "^A x on the console");
}

/*
 * A console's back end (chardev.h) for option opt; a pty's path goes to
 * stderr for the user.  NULL with *err and why.
 */
static struct kr_chardev *kr_console_chardev(struct kr_loop *loop, struct kr_machine *m,
					     const char *opt, const char *label,
					     const char *spec, char *why, size_t len, int *err)
{
	struct kr_chardev *c;
	char msg[192];

	c = kr_chardev_open(spec, loop, msg, sizeof(msg));
	if (!c) {
		/* Out of memory or fds is ours; a bad path or a busy stdio is the user's. */
		bool host = errno == ENOMEM || errno == EMFILE || errno == ENFILE;

		snprintf(why, len, "%s %s", opt, msg);
		*err = host ? KR_EXIT_HOST : KR_EXIT_USAGE;
		return NULL;
	}
	kr_chardev_set_quit(c, kr_on_console_quit, m);
	if (kr_chardev_kind(c) == KR_CHARDEV_PTY || kr_chardev_kind(c) == KR_CHARDEV_UNIX)
		fprintf(stderr, "khv-run: %s on %s\n", label, kr_chardev_path(c));
	return c;
}

int kr_consoles_open(struct kr_config *cfg, struct kr_loop *loop, struct kr_machine *m,
		     char *why, size_t len)
{
	int err = 0;

	if (strcmp(cfg->serial, "none")) {
		cfg->serial_chr = kr_console_chardev(loop, m, "--serial", "serial console",
						     cfg->serial, why, len, &err);
		if (!cfg->serial_chr)
			return err;
	}
	if (cfg->console) {
		cfg->console_chr = kr_console_chardev(loop, m, "--console", "virtio console",
						      cfg->console, why, len, &err);
		if (!cfg->console_chr) {
			kr_consoles_close(cfg);
			return err;
		}
	}
	return 0;
}

void kr_consoles_close(struct kr_config *cfg)
{
	kr_chardev_destroy(cfg->serial_chr);
	kr_chardev_destroy(cfg->console_chr);
	cfg->serial_chr = NULL;
	cfg->console_chr = NULL;
}

/* COM1 on --serial's back end (none: no UART at all). */
static int kr_serial(struct kr_devices *d, char *why, size_t len)
{
	struct kr_machine *m = d->m;
	struct kr_irq irq = kr_gsi(m, KR_GSI_COM1);

	if (!m->cfg->serial_chr)
		return 0;
	d->com1 = kr_serial_create_chardev(KR_PORT_COM1, &irq, m->cfg->serial_chr);
	if (!d->com1) {
		snprintf(why, len, "COM1: %s", strerror(errno));
		return KR_EXIT_HOST;
	}
	return kr_serial_attach(d->com1, &m->pio) ? KR_EXIT_HOST : 0;
}

/* A virtio console (the guest's hvc0) on --console's back end. */
static int kr_console(struct kr_devices *d, char *why, size_t len)
{
	struct kr_machine *m = d->m;

	if (!m->cfg->console_chr)
		return 0;
	d->con = kr_virtio_console_create(d->pci, -1, &m->mem, m->loop, m->cfg->console_chr);
	if (!d->con) {
		snprintf(why, len, "virtio-console: %s", strerror(errno));
		return KR_EXIT_HOST;
	}
	return 0;
}

static int kr_vram_map(void *opaque, bool map, uint64_t gpa, uint64_t size, void *hva)
{
	return kr_machine_map_vram(opaque, map, gpa, size, hva);
}

/* The VNC console's keys: to the virtio keyboard when there is one, else PS/2. */
static void kr_vnc_key(void *opaque, unsigned int code, bool down)
{
	struct kr_devices *d = opaque;

	if (d->vkbd)
		kr_virtio_input_key(d->vkbd, code, down);
	else
		kr_i8042_key(d->i8042, code, down);
}

static void kr_vnc_pointer(void *opaque, int x, int y, int w, int h, unsigned int buttons)
{
	struct kr_devices *d = opaque;

	if (d->tablet)
		kr_virtio_input_pointer(d->tablet, x, y, w, h, buttons);
}

/* A virtio-input device of this kind, with its queues' ioeventfds. */
static int kr_input(struct kr_devices *d, enum kr_vinput_kind kind, struct kr_virtio_input **dev,
		    struct kr_notify **notify, char *why, size_t len)
{
	struct kr_machine *m = d->m;

	*dev = kr_virtio_input_create(d->pci, -1, &m->mem, kind);
	if (*dev)
		*notify = kr_notify_create(kr_virtio_input_transport(*dev), 2, m->loop,
					   kr_vm_ioeventfd, m);
	if (!*dev || !*notify) {
		snprintf(why, len, "virtio-input: %s", strerror(errno));
		return KR_EXIT_HOST;
	}
	return 0;
}

/* The display adapter and the input devices of the graphical console. */
static int kr_graphics(struct kr_devices *d, char *why, size_t len)
{
	struct kr_machine *m = d->m;
	const struct kr_config *cfg = m->cfg;
	struct kr_display_params p = {
		.kind = cfg->display == KR_DISPLAY_IS_VGA ? KR_DISPLAY_VGA : KR_DISPLAY_BOCHS,
		.map = kr_vram_map, .opaque = m,
	};
	int err = 0;

	if (cfg->display != KR_DISPLAY_NONE) {
		d->display = kr_display_create(d->pci, -1, &p);
		if (!d->display) {
			snprintf(why, len, "display adapter: %s", strerror(errno));
			return KR_EXIT_HOST;
		}
	}
	if (cfg->tablet)
		err = kr_input(d, KR_VINPUT_TABLET, &d->tablet, &d->tablet_notify, why, len);
	if (!err && cfg->virtio_keyboard)
		err = kr_input(d, KR_VINPUT_KEYBOARD, &d->vkbd, &d->vkbd_notify, why, len);
	return err;
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
	for (unsigned int i = 0; i < m->cfg->nr_disks; i++) {
		struct kr_disk_info info;

		kr_disk_query(m->cfg->disks[i], &info);
		d->blk[i] = kr_virtio_blk_create(d->pci, -1, &m->mem, m->cfg->disks[i]);
		if (d->blk[i]) {
			/* The kernel wakes the queue's worker itself. */
			unsigned int nq = kr_virtio_blk_num_queues(d->blk[i]);
			int fds[KR_VIRTIO_MAX_QUEUES];

			for (unsigned int q = 0; q < nq && q < KR_VIRTIO_MAX_QUEUES; q++)
				fds[q] = kr_virtio_blk_queue_fd(d->blk[i], q);
			d->blk_notify[i] = kr_notify_create_fds(kr_virtio_blk_transport(d->blk[i]),
								nq, fds, kr_vm_ioeventfd, m);
		}
		if (!d->blk[i] || !d->blk_notify[i]) {
			snprintf(why, len, "virtio-blk %s (%s): %s", info.name, info.path,
				 strerror(errno));
			return KR_EXIT_HOST;
		}
	}
	for (unsigned int i = 0; i < m->cfg->n_nets; i++) {
		d->net[i] = kr_virtio_net_create(d->pci, -1, &m->mem, m->loop, &m->cfg->net_be[i]);
		if (!d->net[i]) {
			snprintf(why, len, "virtio-net %u: %s", i, strerror(errno));
			return KR_EXIT_HOST;
		}
	}
	int err = kr_console(d, why, len);

	return err ? err : kr_graphics(d, why, len);
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
	if (m->cfg->vnc_srv) {
		struct kr_vnc_input in = { kr_vnc_key, kr_vnc_pointer, d };

		kr_vnc_attach(m->cfg->vnc_srv, d->display, &in);
		d->vnc_attached = true;
	}
	return 0;
}

void kr_devices_destroy(struct kr_machine *m)
{
	struct kr_devices *d = m->dev;

	if (!d)
		return;
	/* First: no VNC event reaches a device from here on. */
	if (d->vnc_attached)
		kr_vnc_detach(m->cfg->vnc_srv);
	kr_serial_destroy(d->com1);	/* detaches from its back end, which stays */
	kr_rtc_destroy(d->rtc);
	kr_i8042_destroy(d->i8042);
	kr_pm_destroy(d->pm);
	kr_post_destroy(d->post);
	kr_fw_cfg_destroy(d->fw_cfg);
	kr_notify_destroy(d->rng_notify);
	kr_virtio_rng_destroy(d->rng);
	kr_virtio_console_destroy(d->con);
	for (unsigned int i = 0; i < KR_DISK_MAX_DISKS; i++) {
		kr_notify_destroy(d->blk_notify[i]);
		kr_virtio_blk_destroy(d->blk[i]);	/* joins its workers */
	}
	for (unsigned int i = 0; i < KR_MAX_NETS; i++)
		kr_virtio_net_destroy(d->net[i]);
	kr_notify_destroy(d->tablet_notify);
	kr_virtio_input_destroy(d->tablet);
	kr_notify_destroy(d->vkbd_notify);
	kr_virtio_input_destroy(d->vkbd);
	kr_display_destroy(d->display);	/* unmaps its memory from the VM */
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

void kr_devices_winch(struct kr_devices *d)
{
	uint16_t cols, rows;

	if (d && d->con && kr_chardev_winsize(d->m->cfg->console_chr, &cols, &rows))
		kr_virtio_console_resize(d->con, cols, rows);
}
