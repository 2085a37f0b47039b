/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One khv-run VM: its configuration (from the command line), the machine
 * built from it (machine.c), its vCPU threads (vcpu.c) and the requests
 * that end a run (power-off, reset, errors), which main.c acts on.
 */
#ifndef KHV_RUN_VMM_H
#define KHV_RUN_VMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "libkhv.h"
#include "dev.h"
#include "control.h"
#include "disk.h"
#include "evloop.h"
#include "net_opts.h"
#include "study.h"

/* Exit status classes (khv-run.1); the debug-exit port gives odd codes. */
#define KR_EXIT_POWEROFF	0
#define KR_EXIT_USAGE		2	/* bad option or argument */
#define KR_EXIT_IMAGE		4	/* kernel, initrd or disk unusable */
#define KR_EXIT_HOST		6	/* /dev/khv, memory, threads... */
#define KR_EXIT_GUEST		8	/* the guest hit an internal error of khv */

#define KR_MAX_VCPUS		KHV_MAX_VCPUS

/* The VM's memory slots (machine.c). */
#define KR_SLOT_LOW		0	/* RAM below the PCI hole */
#define KR_SLOT_HIGH		1	/* RAM from 4 GiB */
#define KR_SLOT_VRAM		2	/* the display adapter's BAR 0, where the guest puts it */
#define KR_MAX_NETS		4

struct kr_chardev;

struct kr_config {
	const char *kernel, *initrd, *cmdline;
	uint64_t ram;			/* bytes */
	unsigned int nr_vcpus;
	const char *serial;		/* a chardev spec (chardev.h) */
	const char *console;		/* a virtio console's chardev spec, or NULL */
	const char *control;		/* socket path or NULL */
	const char *device;		/* /dev/khv by default */
	bool no_reboot;
	bool kvmclock;
	bool trace_io;			/* every exit to userspace on stderr */
	/*
	 * --study: the events on every vCPU (study.h); their lines go to
	 * study_fd (stderr, or --study-log's file, opened once by main.c),
	 * ending in "\r\n" on a terminal (study_crlf: it may be in raw mode).
	 */
	struct kr_study study;
	const char *study_log;
	int study_fd;
	bool study_crlf;
	bool hugepages;			/* guest RAM in hugetlb pages (--hugepages) */
	/* --restore: the first machine starts from this snapshot (snapshot.h). */
	const char *restore;
	bool restore_changed_disks;	/* --restore-changed-disks */
	bool paused;			/* --paused: the first machine waits for cont */
	/* --incoming: the first machine waits for a migration here (migrate.h). */
	const char *incoming;
	bool rng;			/* a virtio-rng device */
	/* --display: none, or the adapter's kind + 1 (display.h) */
	enum { KR_DISPLAY_NONE, KR_DISPLAY_IS_BOCHS, KR_DISPLAY_IS_VGA } display;
	bool tablet;			/* a virtio tablet (--tablet) */
	bool virtio_keyboard;		/* a virtio keyboard (--virtio-keyboard) */
	const char *vnc;		/* --vnc's spec, or NULL */
	/* The VNC server, opened once (main.c) and outliving the machine's rebuilds. */
	struct kr_vnc *vnc_srv;
	unsigned int n_nets;		/* --net, in order */
	struct kr_net_opts net[KR_MAX_NETS];
	/* Their backends, opened once (main.c): they outlive the machine's rebuilds. */
	struct kr_net_backend net_be[KR_MAX_NETS];
	/*
	 * The consoles' back ends (--serial, --console), opened once by
	 * kr_consoles_open() and borrowed by each machine: a pty keeps its
	 * path, a socket its client and a terminal its raw mode across the
	 * guest's reboots.  NULL: none.
	 */
	struct kr_chardev *serial_chr, *console_chr;
	/* --disk, in order (vda, vdb...); opened once by kr_images_load(). */
	struct kr_disk_opts *disk_opts;
	struct kr_disk **disks;
	unsigned int nr_disks;

	/*
	 * The images: their files opened and checked once before any VM
	 * (kr_images_load), read again for each reboot (kr_images_read) and
	 * dropped once the guest has its copy (kr_images_drop), so that the
	 * VMM does not keep megabytes of kernel and initrd while the guest
	 * runs.  A reboot reads the files khv-run opened: a path replaced by
	 * a new file does not change what boots, a file rewritten in place does.
	 */
	int kernel_fd, initrd_fd;	/* -1: not open */
	uint8_t *kernel_buf, *initrd_buf;
	size_t kernel_len, initrd_len;
	enum { KR_KERNEL_BZIMAGE, KR_KERNEL_PVH, KR_KERNEL_MULTIBOOT } kernel_kind;
};

/* Why the vCPUs were stopped; the first request wins. */
enum kr_request {
	KR_REQ_NONE,
	KR_REQ_POWEROFF,		/* ACPI S5 */
	KR_REQ_RESET,			/* reboot: rebuild the machine */
	KR_REQ_QUIT,			/* control socket or a signal */
	KR_REQ_DEBUG_EXIT,		/* port 0xf4: exit status in code */
	KR_REQ_ERROR,			/* exit status in code */
};

struct kr_machine;

struct kr_vcpu {
	struct kr_machine *m;
	struct khv_vcpu vcpu;
	unsigned int index;
	pthread_t thread;
	bool started;
	int tid;			/* for query-vcpus */
};

enum kr_run_state { KR_RUNNING, KR_PAUSED, KR_STOPPING };

struct kr_machine {
	const struct kr_config *cfg;
	struct khv_sys sys;
	struct khv_vm vm;
	bool sys_open, vm_open;
	struct kr_mem mem;
	struct kr_bus pio, mmio;
	struct kr_loop *loop;
	unsigned int nr_vcpus;
	struct kr_vcpu vcpus[KR_MAX_VCPUS];

	/* Run state and requests: lock covers state, req, code, why. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum kr_run_state state;
	unsigned int in_guest;		/* vCPUs not parked (for stop) */
	enum kr_request req;
	int code;
	const char *reason;		/* KR_REASON_*: the control socket's words */
	char why[192];

	/*
	 * An outgoing migration (migrate.c), NULL before the first; migrated:
	 * it completed, the VM is the destination's now and must not run here.
	 */
	struct kr_migration *mig;
	bool migrated;

	/* Devices (their own files; opaque here). */
	struct kr_devices *dev;
	struct kr_control *control;	/* the socket outlives the machine: main.c */
	struct kr_loop *ctl_loop;	/* the control socket's loop, nested in loop */
	/*
	 * A migration is coming in (kr_migrate_incoming, on the I/O thread):
	 * the control socket, served meanwhile, answers queries only.
	 */
	bool incoming;
	unsigned long unclaimed_pio, unclaimed_mmio;
};

/* machine.c */
/* Open, read and check the kernel and initrd: KR_EXIT_IMAGE with why, or 0. */
int kr_images_load(struct kr_config *cfg, char *why, size_t why_len);
int kr_images_read(struct kr_config *cfg, char *why, size_t why_len);
void kr_images_drop(struct kr_config *cfg);
void kr_images_free(struct kr_config *cfg);
int kr_machine_create(struct kr_machine *m, const struct kr_config *cfg, struct kr_loop *loop,
		      char *why, size_t why_len);
void kr_machine_destroy(struct kr_machine *m);
/* The display's video memory as guest memory at gpa (map), or not (0 or -errno). */
int kr_machine_map_vram(struct kr_machine *m, bool map, uint64_t gpa, uint64_t size, void *hva);
/*
 * Guest RAM, KR_RAM_ALIGN-aligned: anonymous with THP asked for, or with
 * huge, hugetlb pages of the default size (size a multiple of it); NULL
 * with errno on failure.
 */
#define KR_RAM_ALIGN	(2ull << 20)
void *kr_ram_alloc(uint64_t size, bool huge);

/* vmm_control.c: the control socket's commands on this machine. */
extern const struct kr_control_ops kr_vmm_control_ops;

/* vcpu.c */
int kr_vcpus_start(struct kr_machine *m, bool paused);
/* Stop every vCPU thread for good and join it. */
void kr_vcpus_stop(struct kr_machine *m);
/* stop/cont of the control socket: parked vCPUs keep their state. */
void kr_vcpus_pause(struct kr_machine *m);
void kr_vcpus_resume(struct kr_machine *m);
/*
 * Any thread: end the run (first request wins) and wake the main loop.
 * reason: who asked, in the words of the SHUTDOWN and RESET events
 * (Documentation/khv/khv-run-control.rst); why: a sentence for stderr.
 */
void kr_machine_request(struct kr_machine *m, enum kr_request req, int code, const char *reason,
			const char *why);

#define KR_REASON_GUEST_SHUTDOWN	"guest-shutdown"
#define KR_REASON_GUEST_RESET		"guest-reset"
#define KR_REASON_GUEST_DEBUG_EXIT	"guest-debug-exit"
#define KR_REASON_QMP_QUIT		"host-qmp-quit"
#define KR_REASON_QMP_RESET		"host-qmp-system-reset"
#define KR_REASON_SIGNAL		"host-signal"
#define KR_REASON_HOST_UI		"host-ui"	/* ^A x on a console */
#define KR_REASON_ERROR			"host-error"

#endif
