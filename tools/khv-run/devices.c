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
#include "snapfield.h"
#include "snapstream.h"
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
	/* A restore: which devices had their section (kr_devices_list order). */
	uint64_t loaded;
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

/* ---- snapshots ------------------------------------------------------------- */

/* A device's save/load pair, its instance behind void *. */
struct kr_dev_state {
	char name[24];
	void *dev;
	int (*save)(void *dev, struct kr_sbuf *b);
	int (*load)(void *dev, struct kr_sget *g);
	struct kr_virtio_pci *vp;	/* its virtio transport, or NULL */
};

#define KR_STATE_PAIR(type, fn)							\
	static int fn##_save_any(void *dev, struct kr_sbuf *b)			\
	{									\
		return fn##_save((type *)dev, b);				\
	}									\
	static int fn##_load_any(void *dev, struct kr_sget *g)			\
	{									\
		return fn##_load((type *)dev, g);				\
	}

KR_STATE_PAIR(struct kr_serial, kr_serial)
KR_STATE_PAIR(struct kr_rtc, kr_rtc)
KR_STATE_PAIR(struct kr_i8042, kr_i8042)
KR_STATE_PAIR(struct kr_pm, kr_pm)
KR_STATE_PAIR(struct kr_post, kr_post)
KR_STATE_PAIR(struct kr_fw_cfg, kr_fw_cfg)
KR_STATE_PAIR(struct kr_pci, kr_pci)
KR_STATE_PAIR(struct kr_display, kr_display)
KR_STATE_PAIR(struct kr_virtio_rng, kr_virtio_rng)
KR_STATE_PAIR(struct kr_virtio_blk, kr_virtio_blk)
KR_STATE_PAIR(struct kr_virtio_net, kr_virtio_net)
KR_STATE_PAIR(struct kr_virtio_console, kr_virtio_console)
KR_STATE_PAIR(struct kr_virtio_input, kr_virtio_input)

#define KR_MAX_DEV_STATES	(8 + KR_DISK_MAX_DISKS + KR_MAX_NETS + 4)

static void kr_dev_add(struct kr_dev_state *e, unsigned int *n, const char *name, void *dev,
		       int (*save)(void *, struct kr_sbuf *), int (*load)(void *, struct kr_sget *),
		       struct kr_virtio_pci *vp)
{
	if (!dev)
		return;
	e[*n] = (struct kr_dev_state){ .dev = dev, .save = save, .load = load, .vp = vp };
	snprintf(e[*n].name, sizeof(e[*n].name), "%s", name);
	(*n)++;
}

#define KR_DEV_ADD(e, n, name, fn, dev, vp)					\
	kr_dev_add(e, n, name, dev, fn##_save_any, fn##_load_any, vp)

/*
 * The machine's devices with state, in a fixed order: the PCI bus (its
 * functions' configuration spaces) before the devices behind it.
 */
static unsigned int kr_devices_list(struct kr_devices *d, struct kr_dev_state *e)
{
	unsigned int n = 0;
	char name[24];

	KR_DEV_ADD(e, &n, "serial", kr_serial, d->com1, NULL);
	KR_DEV_ADD(e, &n, "rtc", kr_rtc, d->rtc, NULL);
	KR_DEV_ADD(e, &n, "i8042", kr_i8042, d->i8042, NULL);
	KR_DEV_ADD(e, &n, "pm", kr_pm, d->pm, NULL);
	KR_DEV_ADD(e, &n, "post", kr_post, d->post, NULL);
	KR_DEV_ADD(e, &n, "fw_cfg", kr_fw_cfg, d->fw_cfg, NULL);
	KR_DEV_ADD(e, &n, "pci", kr_pci, d->pci, NULL);
	if (d->rng)
		KR_DEV_ADD(e, &n, "virtio-rng", kr_virtio_rng, d->rng,
			   kr_virtio_rng_transport(d->rng));
	for (unsigned int i = 0; i < KR_DISK_MAX_DISKS; i++) {
		if (!d->blk[i])
			continue;
		snprintf(name, sizeof(name), "virtio-blk%u", i);
		KR_DEV_ADD(e, &n, name, kr_virtio_blk, d->blk[i],
			   kr_virtio_blk_transport(d->blk[i]));
	}
	for (unsigned int i = 0; i < KR_MAX_NETS; i++) {
		if (!d->net[i])
			continue;
		snprintf(name, sizeof(name), "virtio-net%u", i);
		KR_DEV_ADD(e, &n, name, kr_virtio_net, d->net[i],
			   kr_virtio_net_transport(d->net[i]));
	}
	if (d->con)
		KR_DEV_ADD(e, &n, "virtio-console", kr_virtio_console, d->con,
			   kr_virtio_console_transport(d->con));
	KR_DEV_ADD(e, &n, "display", kr_display, d->display, NULL);
	if (d->tablet)
		KR_DEV_ADD(e, &n, "virtio-tablet", kr_virtio_input, d->tablet,
			   kr_virtio_input_transport(d->tablet));
	if (d->vkbd)
		KR_DEV_ADD(e, &n, "virtio-keyboard", kr_virtio_input, d->vkbd,
			   kr_virtio_input_transport(d->vkbd));
	return n;
}

int kr_devices_freeze(struct kr_devices *d, char *why, size_t len)
{
	struct kr_dev_state e[KR_MAX_DEV_STATES];
	unsigned int n = kr_devices_list(d, e);

	(void)why;
	(void)len;
	for (unsigned int i = 0; i < n; i++)
		if (e[i].vp)
			kr_virtio_pci_freeze(e[i].vp, true);
	/* A disk worker in the middle of a batch finishes it; none starts another. */
	for (unsigned int i = 0; i < KR_DISK_MAX_DISKS; i++)
		if (d->blk[i])
			kr_virtio_blk_drain(d->blk[i]);
	return 0;
}

void kr_devices_thaw(struct kr_devices *d)
{
	struct kr_dev_state e[KR_MAX_DEV_STATES];
	unsigned int n = kr_devices_list(d, e);

	for (unsigned int i = 0; i < n; i++) {
		if (!e[i].vp)
			continue;
		kr_virtio_pci_freeze(e[i].vp, false);
		kr_virtio_pci_kick_all(e[i].vp);
	}
}

int kr_devices_save(struct kr_devices *d, struct kr_snap_writer *w, char *why, size_t len)
{
	struct kr_dev_state e[KR_MAX_DEV_STATES];
	unsigned int n = kr_devices_list(d, e);
	struct kr_sbuf b = { 0 };
	int err = 0;

	for (unsigned int i = 0; !err && i < n; i++) {
		struct iovec v;

		b.len = 0;
		kr_sbuf_u8(&b, strlen(e[i].name));
		kr_sbuf_bytes(&b, e[i].name, strlen(e[i].name));
		err = e[i].save(e[i].dev, &b);
		if (err) {
			snprintf(why, len, "%s: cannot save its state: %s", e[i].name,
				 strerror(-err));
			break;
		}
		if (b.oom) {
			snprintf(why, len, "%s: out of memory", e[i].name);
			err = -ENOMEM;
			break;
		}
		v = (struct iovec){ b.p, b.len };
		err = kr_snap_write_section(w, KR_SNAP_DEVICE, i, &v, 1);
		if (err)
			snprintf(why, len, "writing: %s", strerror(-err));
	}
	kr_sbuf_free(&b);
	return err;
}

int kr_devices_load(struct kr_devices *d, uint32_t instance, const void *p, size_t n, char *why,
		    size_t len)
{
	struct kr_dev_state e[KR_MAX_DEV_STATES];
	unsigned int nd = kr_devices_list(d, e);
	const uint8_t *b = p;
	struct kr_sget g;
	char name[256];
	unsigned int i;

	if (!n || b[0] >= n) {
		snprintf(why, len, "device section %u: no name", instance);
		return -EPROTO;
	}
	memcpy(name, b + 1, b[0]);
	name[b[0]] = 0;
	for (i = 0; i < nd; i++)
		if (!strcmp(e[i].name, name))
			break;
	if (i == nd || strlen(name) != b[0]) {
		snprintf(why, len, "the snapshot has a device %.64s that this machine has not "
			 "(another command line?)", name);
		return -EPROTO;
	}
	if (d->loaded & (1ull << i)) {
		snprintf(why, len, "%s: a second section", e[i].name);
		return -EPROTO;
	}
	d->loaded |= 1ull << i;
	kr_sget_init(&g, b + 1 + b[0], n - 1 - b[0], e[i].name);
	if (e[i].load(e[i].dev, &g) || kr_sget_done(&g)) {
		if (!g.bad)
			kr_sget_fail(&g, "refused");
		snprintf(why, len, "%s", g.why);
		return -EPROTO;
	}
	return 0;
}

int kr_devices_loaded(struct kr_devices *d, char *why, size_t len)
{
	struct kr_dev_state e[KR_MAX_DEV_STATES];
	unsigned int n = kr_devices_list(d, e);

	for (unsigned int i = 0; i < n; i++) {
		if (!(d->loaded & (1ull << i))) {
			snprintf(why, len, "the snapshot has no state for %s (another command "
				 "line?)", e[i].name);
			return -EPROTO;
		}
	}
	for (unsigned int i = 0; i < n; i++)
		if (e[i].vp)
			kr_virtio_pci_kick_all(e[i].vp);
	return 0;
}

void kr_devices_announce(struct kr_devices *d)
{
	for (unsigned int i = 0; i < KR_MAX_NETS; i++)
		if (d->net[i])
			kr_virtio_net_announce(d->net[i]);
}
