// SPDX-License-Identifier: GPL-2.0
/*
 * khv-run: boot a Linux (or Multiboot) kernel in a khv VM (khv-run.1).
 *
 * Threads: this one runs the I/O loop (evloop.c: consoles, control socket,
 * signals, device back ends) and the VM's life cycle; one thread per vCPU
 * (vcpu.c).  A run ends with a request (vmm.h); a reset rebuilds the
 * machine in the same process unless --no-reboot.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "chardev.h"
#include "devices.h"
#include "machine.h"
#include "migrate.h"
#include "snapshot.h"
#include "vmm.h"
#include "vnc.h"

#define KR_VERSION		"0.1"
#define KR_DEFAULT_RAM		(512ull << 20)

static const char usage_text[] =
	"Usage: khv-run --kernel FILE [options]\n"
	"Boot a kernel in a khv virtual machine.\n"
	"\n"
	"  -k, --kernel FILE     Linux bzImage (64-bit boot protocol)\n"
	"  -i, --initrd FILE     initial ramdisk\n"
	"  -a, --append TEXT     kernel command line\n"
	"  -m, --memory SIZE     guest RAM: bytes, or with K, M, G suffix (default 512M)\n"
	"  -c, --cpus N          vCPUs (default 1)\n"
	"      --serial WHERE    COM1 on stdio (default), pty, file:PATH, unix:PATH or none\n"
	"      --console WHERE   a virtio console (the guest's hvc0) on the same kinds;\n"
	"                        --console stdio makes the default --serial none\n"
	"      --rng             a virtio-rng device (entropy from the host's getrandom)\n"
	"      --vnc HOST:PORT[,password-file=FILE]\n"
	"                        a graphical console over VNC (PORT auto: the first free\n"
	"                        from 5900); implies --display bochs and --tablet unless\n"
	"                        they are given\n"
	"      --display MODEL   a display adapter: bochs (bochs-display), vga (the same\n"
	"                        with a VGA class code) or none\n"
	"      --tablet          a virtio tablet (absolute pointer) for the VNC console\n"
	"      --no-tablet       no tablet, even with --vnc\n"
	"      --virtio-keyboard a virtio keyboard; the VNC console's keys go to it\n"
	"                        rather than to the PS/2 keyboard\n"
	"      --net BACKEND     a virtio-net device (up to 4): tap=NAME[,mac=M][,vhdr=on|off],\n"
	"                        fd=N[,mac=M] or user[,mac=M][,hostfwd=tcp::HPORT-:GPORT]\n"
	"      --disk path=FILE[,ro][,cache=writeback|writethrough|none][,discard=on|off]\n"
	"             [,serial=TEXT][,queues=N]   a virtio-blk disk (repeat for more)\n"
	"      --disk nbd=URI[,ro][,discard=on|off][,serial=TEXT][,queues=N]\n"
	"                        the same on an NBD export (nbd://, nbd+unix://)\n"
	"      --control PATH    control socket (Documentation/khv/khv-run-control.rst)\n"
	"      --restore FILE    start from a snapshot (the control socket's snapshot-save)\n"
	"                        taken with the same options; refused when a disk changed\n"
	"                        since, unless --restore-changed-disks\n"
	"      --incoming URI    start from a live migration: wait on tcp:HOST:PORT or\n"
	"                        unix:PATH for another khv-run's migrate (same options)\n"
	"      --paused          start with the vCPUs paused: the control socket's cont\n"
	"                        runs them (with --restore and --incoming too)\n"
	"      --device PATH     the khv device (default $KHV_DEVICE or /dev/khv)\n"
	"      --no-reboot       exit on guest reset instead of rebooting\n"
	"      --no-kvmclock     hide the paravirtual clock from the guest\n"
	"      --hugepages       guest RAM in hugetlb pages (reserved: vm.nr_hugepages;\n"
	"                        --memory a multiple of 2M)\n"
	"      --trace-io        print every port and MMIO access that exits to khv-run\n"
	"      --study EVENT[,EVENT...]\n"
	"                        print each of these guest events, as khv handles it, on\n"
	"                        every vCPU: cpuid[:LEAF], rdmsr[:INDEX], wrmsr[:INDEX],\n"
	"                        msr[:INDEX] (both), rdtsc, hlt, cr (CR writes) or cr0,\n"
	"                        cr3, cr4, cr8, cr8-read, invlpg, pause, io[:PORT],\n"
	"                        exception[:VECTOR] (a number or a name: 14, pf, #PF)\n"
	"                        (khv's study mode)\n"
	"      --study-log FILE  append those lines to FILE instead of stderr\n"
	"  -h, --help            this text\n"
	"  -V, --version         version\n"
	"\n"
	"On a terminal, stdio is raw (^C goes to the guest): type ^A x to quit, ^A ^A\n"
	"for a ^A, ^A h for help.\n"
	"\n"
	"Exit status: 0 guest power-off (or reset with --no-reboot, or quit); 2 usage\n"
	"error; 4 unusable kernel, initrd or disk image; 6 host error (no /dev/khv,\n"
	"not enough memory, a khv without the events --study asks); 8 the guest\n"
	"stopped on a khv internal error; odd values (code << 1) | 1 from the\n"
	"debug-exit port 0xf4.\n";

enum { OPT_SERIAL = 256, OPT_CONSOLE, OPT_RNG, OPT_NET, OPT_DISK, OPT_CONTROL, OPT_DEVICE, OPT_NO_REBOOT, OPT_NO_KVMCLOCK, OPT_TRACE_IO,
       OPT_HUGEPAGES, OPT_VNC, OPT_DISPLAY, OPT_TABLET, OPT_NO_TABLET, OPT_VIRTIO_KEYBOARD,
       OPT_STUDY, OPT_STUDY_LOG, OPT_RESTORE, OPT_RESTORE_CHANGED, OPT_INCOMING, OPT_PAUSED };

static const struct option options[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "append", required_argument, NULL, 'a' },
	{ "memory", required_argument, NULL, 'm' },
	{ "cpus", required_argument, NULL, 'c' },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "rng", no_argument, NULL, OPT_RNG },
	{ "vnc", required_argument, NULL, OPT_VNC },
	{ "display", required_argument, NULL, OPT_DISPLAY },
	{ "tablet", no_argument, NULL, OPT_TABLET },
	{ "no-tablet", no_argument, NULL, OPT_NO_TABLET },
	{ "virtio-keyboard", no_argument, NULL, OPT_VIRTIO_KEYBOARD },
	{ "net", required_argument, NULL, OPT_NET },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "no-reboot", no_argument, NULL, OPT_NO_REBOOT },
	{ "no-kvmclock", no_argument, NULL, OPT_NO_KVMCLOCK },
	{ "trace-io", no_argument, NULL, OPT_TRACE_IO },
	{ "hugepages", no_argument, NULL, OPT_HUGEPAGES },
	{ "study", required_argument, NULL, OPT_STUDY },
	{ "study-log", required_argument, NULL, OPT_STUDY_LOG },
	{ "restore", required_argument, NULL, OPT_RESTORE },
	{ "restore-changed-disks", no_argument, NULL, OPT_RESTORE_CHANGED },
	{ "incoming", required_argument, NULL, OPT_INCOMING },
	{ "paused", no_argument, NULL, OPT_PAUSED },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int usage_error(const char *fmt, const char *arg)
	__attribute__((format(printf, 1, 0)));

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "khv-run: ");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	fprintf(stderr, fmt, arg);
#pragma GCC diagnostic pop
	fprintf(stderr, "\nTry 'khv-run --help'.\n");
	return KR_EXIT_USAGE;
}

/* "512M", "2G", "1073741824": bytes, or 0 when malformed. */
static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 0: break;
	default: return 0;
	}
	if (*end || v > (~0ull >> shift))
		return 0;
	return v << shift;
}

static int parse_args(int argc, char **argv, struct kr_config *cfg)
{
	char why[256];
	int opt, display = -1, tablet = -1;	/* -1: not given */

	*cfg = (struct kr_config){ .ram = KR_DEFAULT_RAM, .nr_vcpus = 1,
				   .kvmclock = true, .cmdline = "", .kernel_fd = -1,
				   .initrd_fd = -1, .study_fd = STDERR_FILENO };
	while ((opt = getopt_long(argc, argv, "k:i:a:m:c:hV", options, NULL)) != -1) {
		char *end;
		unsigned long n;

		switch (opt) {
		case 'k': cfg->kernel = optarg; break;
		case 'i': cfg->initrd = optarg; break;
		case 'a': cfg->cmdline = optarg; break;
		case 'm':
			cfg->ram = parse_size(optarg);
			if (cfg->ram < (16ull << 20) || cfg->ram % 4096)
				return usage_error("--memory %s: want a size of at least 16M, "
						   "a multiple of 4K", optarg);
			break;
		case 'c':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 || n > KR_MAX_VCPUS)
				return usage_error("--cpus %s: want 1 to " "64", optarg);
			cfg->nr_vcpus = n;
			break;
		case OPT_SERIAL:
		case OPT_CONSOLE:
			if (kr_chardev_parse(optarg, why, sizeof(why)))
				return usage_error(opt == OPT_SERIAL ? "--serial %s" : "--console %s",
						   why);
			if (opt == OPT_SERIAL)
				cfg->serial = optarg;
			else
				cfg->console = optarg;
			break;
		case OPT_RNG: cfg->rng = true; break;
		case OPT_VNC: cfg->vnc = optarg; break;
		case OPT_DISPLAY:
			if (!strcmp(optarg, "bochs"))
				display = KR_DISPLAY_IS_BOCHS;
			else if (!strcmp(optarg, "vga"))
				display = KR_DISPLAY_IS_VGA;
			else if (!strcmp(optarg, "none"))
				display = KR_DISPLAY_NONE;
			else
				return usage_error("--display %s: want bochs, vga or none", optarg);
			break;
		case OPT_TABLET: tablet = 1; break;
		case OPT_NO_TABLET: tablet = 0; break;
		case OPT_VIRTIO_KEYBOARD: cfg->virtio_keyboard = true; break;
		case OPT_NET: {
			if (cfg->n_nets == KR_MAX_NETS)
				return usage_error("--net %s: at most 4 network devices", optarg);
			if (kr_net_parse(optarg, &cfg->net[cfg->n_nets], why, sizeof(why)))
				return usage_error("%s", why);
			cfg->n_nets++;
			break;
		}
		case OPT_DISK: {
			struct kr_disk_opts *o;

			if (cfg->nr_disks == KR_DISK_MAX_DISKS)
				return usage_error("--disk %s: at most 16 disks", optarg);
			o = realloc(cfg->disk_opts, (cfg->nr_disks + 1) * sizeof(*o));
			if (!o)
				return usage_error("--disk %s: out of memory", optarg);
			cfg->disk_opts = o;
			if (kr_disk_parse(optarg, &o[cfg->nr_disks], why, sizeof(why)))
				return usage_error("%s", why);
			cfg->nr_disks++;
			break;
		}
		case OPT_CONTROL: cfg->control = optarg; break;
		case OPT_DEVICE: cfg->device = optarg; break;
		case OPT_NO_REBOOT: cfg->no_reboot = true; break;
		case OPT_NO_KVMCLOCK: cfg->kvmclock = false; break;
		case OPT_TRACE_IO: cfg->trace_io = true; break;
		case OPT_HUGEPAGES: cfg->hugepages = true; break;
		case OPT_STUDY:
			if (kr_study_parse(optarg, &cfg->study, why, sizeof(why)))
				return usage_error("%s", why);
			break;
		case OPT_STUDY_LOG: cfg->study_log = optarg; break;
		case OPT_RESTORE: cfg->restore = optarg; break;
		case OPT_RESTORE_CHANGED: cfg->restore_changed_disks = true; break;
		case OPT_PAUSED: cfg->paused = true; break;
		case OPT_INCOMING:
			if (kr_migrate_parse_uri(optarg, why, sizeof(why)))
				return usage_error("--incoming %s", why);
			cfg->incoming = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'V':
			printf("khv-run " KR_VERSION "\n");
			exit(0);
		default:
			fprintf(stderr, "Try 'khv-run --help'.\n");
			return KR_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	/* A VNC console shows an adapter and points with a tablet unless told otherwise. */
	cfg->display = display >= 0 ? display : cfg->vnc ? KR_DISPLAY_IS_BOCHS : KR_DISPLAY_NONE;
	cfg->tablet = tablet >= 0 ? tablet : cfg->vnc != NULL;
	if (cfg->vnc && cfg->display == KR_DISPLAY_NONE)
		return usage_error("%s", "--vnc with --display none: nothing to show");
	/* One console on stdio: the virtio one takes it from COM1's default. */
	if (!cfg->serial)
		cfg->serial = cfg->console && !strcmp(cfg->console, "stdio") ? "none" : "stdio";
	if (cfg->console && !strcmp(cfg->console, "stdio") && !strcmp(cfg->serial, "stdio"))
		return usage_error("%s", "--serial and --console cannot both be on stdio");
	if (!cfg->kernel)
		return usage_error("%s", "no kernel: --kernel FILE is required");
	if (cfg->hugepages && cfg->ram % KR_RAM_ALIGN)
		return usage_error("%s", "--hugepages: --memory must be a multiple of 2M");
	if (cfg->incoming && cfg->restore)
		return usage_error("%s", "--incoming and --restore: one or the other");
	if (cfg->restore_changed_disks && !cfg->restore)
		return usage_error("%s", "--restore-changed-disks without --restore");
	if (cfg->study_log && !cfg->study.events)
		return usage_error("%s", "--study-log without --study: nothing to log");
	return 0;
}

static void kr_nets_close(struct kr_config *cfg)
{
	for (unsigned int i = 0; i < cfg->n_nets; i++)
		kr_net_close(&cfg->net_be[i]);
}

struct kr_signals {
	int fd;
	struct kr_machine *m;
};

static void on_signal(void *opaque, int fd, uint32_t events)
{
	struct kr_signals *s = opaque;
	struct signalfd_siginfo si;
	char why[64];

	(void)events;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGWINCH) {
		if (s->m)
			kr_devices_winch(s->m->dev);
		return;
	}
	snprintf(why, sizeof(why), "host signal %s", strsignal(si.ssi_signo));
	if (s->m)
		kr_machine_request(s->m, KR_REQ_QUIT, 0, KR_REASON_SIGNAL, why);
}

/* The control socket's loop has something ready: its callbacks, here. */
static void kr_ctl_loop_ready(void *opaque, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	kr_loop_poll(opaque);
}

/* SHUTDOWN or RESET for the control socket's clients. */
static void kr_event(struct kr_control *control, const char *name, const char *reason)
{
	if (control && reason)
		kr_control_event(control, name,
				 kr_control_reason(!strncmp(reason, "guest", 5), reason));
}

int main(int argc, char **argv)
{
	static struct kr_machine machine;
	struct kr_machine *m = &machine;
	struct kr_signals sigs = { .fd = -1 };
	struct kr_config cfg;
	struct kr_control *control = NULL;
	struct kr_loop *loop, *ctl_loop;
	sigset_t set;
	int status = parse_args(argc, argv, &cfg);

	if (status)
		return status;
	if (cfg.study_log) {
		/*
		 * Appended, one write() per line; a FIFO with no reader fails
		 * here rather than hanging, then writes wait for room.
		 */
		int fd = open(cfg.study_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
			      O_NOCTTY | O_NONBLOCK, 0644);

		if (fd < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)) {
			/* Out of memory or fds is ours; a bad path is the user's. */
			bool host = errno == ENOMEM || errno == EMFILE || errno == ENFILE;

			fprintf(stderr, "khv-run: --study-log %s: %s\n", cfg.study_log,
				strerror(errno));
			if (fd >= 0)
				close(fd);
			return host ? KR_EXIT_HOST : KR_EXIT_USAGE;
		}
		cfg.study_fd = fd;
	}
	cfg.study_crlf = isatty(cfg.study_fd);
	/* Signals arrive through the loop; no thread takes them directly. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGPIPE);
	loop = kr_loop_new();
	ctl_loop = kr_loop_new();
	sigs.fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	/* A migration's destination takes its disks' locks when the source hands them over. */
	for (unsigned int i = 0; cfg.incoming && i < cfg.nr_disks; i++)
		cfg.disk_opts[i].unlocked = true;
	{
		char why[256];

		status = kr_images_load(&cfg, why, sizeof(why));
		if (status) {
			fprintf(stderr, "khv-run: %s\n", why);
			kr_images_free(&cfg);
			return status;
		}
		for (unsigned int i = 0; i < KR_MAX_NETS; i++)
			cfg.net_be[i].fd = -1;
		for (unsigned int i = 0; i < cfg.n_nets; i++) {
			int err = kr_net_open(&cfg.net[i], i, &cfg.net_be[i], why, sizeof(why));

			if (err) {
				fprintf(stderr, "khv-run: %s\n", why);
				kr_nets_close(&cfg);
				kr_images_free(&cfg);
				return err == -EINVAL || err == -EBADF ? KR_EXIT_USAGE : KR_EXIT_HOST;
			}
		}
	}
	if (!loop || !ctl_loop || sigs.fd < 0 ||
	    kr_loop_add(loop, sigs.fd, EPOLLIN, on_signal, &sigs)) {
		fprintf(stderr, "khv-run: cannot set up the I/O loop: %s\n", strerror(errno));
		return KR_EXIT_HOST;
	}
	{
		char why[256];

		status = kr_consoles_open(&cfg, loop, m, why, sizeof(why));
		if (status) {
			fprintf(stderr, "khv-run: %s\n", why);
			kr_nets_close(&cfg);
			kr_images_free(&cfg);
			return status;
		}
	}
	if (cfg.vnc) {
		char why[256];

		/* A bad address or a port in use is the caller's to fix: usage. */
		cfg.vnc_srv = kr_vnc_open(cfg.vnc, "khv-run", why, sizeof(why));
		if (!cfg.vnc_srv || kr_vnc_start(cfg.vnc_srv)) {
			fprintf(stderr, "khv-run: %s\n", cfg.vnc_srv ? "cannot start the VNC thread" : why);
			kr_vnc_close(cfg.vnc_srv);
			kr_consoles_close(&cfg);
			kr_nets_close(&cfg);
			kr_images_free(&cfg);
			return KR_EXIT_USAGE;
		}
		fprintf(stderr, "khv-run: VNC server on %s\n", kr_vnc_address(cfg.vnc_srv));
	}
	if (cfg.control) {
		int err = kr_control_open(cfg.control, ctl_loop, &kr_vmm_control_ops, m, &control);

		/* Its own loop, nested: migrate.c serves it alone while it waits. */
		if (!err)
			err = kr_loop_add(loop, kr_loop_fd(ctl_loop), EPOLLIN, kr_ctl_loop_ready,
					  ctl_loop);

		if (err) {
			fprintf(stderr, "khv-run: --control %s: %s\n", cfg.control, strerror(-err));
			kr_vnc_close(cfg.vnc_srv);
			kr_consoles_close(&cfg);
			kr_nets_close(&cfg);
			kr_images_free(&cfg);
			return KR_EXIT_USAGE;
		}
	}
	for (;;) {
		char why[256] = "";
		enum kr_request req;
		const char *reason;

		/* A reboot reads the images again; the guest's copy is all it needs. */
		status = cfg.kernel_buf ? 0 : kr_images_read(&cfg, why, sizeof(why));
		if (status) {
			fprintf(stderr, "khv-run: %s\n", why);
			break;
		}
		status = kr_machine_create(m, &cfg, loop, why, sizeof(why));
		kr_images_drop(&cfg);
		m->control = control;
		m->ctl_loop = ctl_loop;
		/* The first machine only: the guest's reboots boot. */
		if (!status && cfg.restore) {
			status = kr_snapshot_restore(m, cfg.restore, cfg.restore_changed_disks ?
						     KR_RESTORE_CHANGED_DISKS : 0, why,
						     sizeof(why));
			if (!status)
				fprintf(stderr, "khv-run: restored from %s\n", cfg.restore);
			cfg.restore = NULL;
		}
		if (!status && cfg.incoming) {
			status = kr_migrate_incoming(m, cfg.incoming, why, sizeof(why));
			if (!status) {
				fprintf(stderr, "khv-run: migrated in from %s\n", cfg.incoming);
				kr_devices_announce(m->dev);
			}
			cfg.incoming = NULL;
		}
		/* --paused: the first machine only, as --restore. */
		if (!status && kr_vcpus_start(m, cfg.paused)) {
			snprintf(why, sizeof(why), "cannot start the vCPU threads");
			status = KR_EXIT_HOST;
		}
		cfg.paused = false;
		if (status) {
			fprintf(stderr, "khv-run: %s\n", why);
			kr_vcpus_stop(m);
			kr_machine_destroy(m);
			break;
		}
		sigs.m = m;
		for (;;) {
			pthread_mutex_lock(&m->lock);
			req = m->req;
			pthread_mutex_unlock(&m->lock);
			if (req != KR_REQ_NONE)
				break;
			if (kr_loop_run(loop)) {
				kr_machine_request(m, KR_REQ_ERROR, KR_EXIT_HOST, KR_REASON_ERROR,
						   "epoll failed");
				break;
			}
		}
		sigs.m = NULL;
		kr_vcpus_stop(m);
		req = m->req;
		status = m->code;
		reason = m->reason;
		snprintf(why, sizeof(why), "%s", m->why);
		kr_machine_destroy(m);
		if (req == KR_REQ_RESET && !cfg.no_reboot) {
			fprintf(stderr, "khv-run: guest reset (%s): rebooting\n", why);
			kr_event(control, "RESET", reason);
			continue;
		}
		kr_event(control, "SHUTDOWN", reason);
		if (req == KR_REQ_RESET || req == KR_REQ_POWEROFF || req == KR_REQ_QUIT)
			status = KR_EXIT_POWEROFF;
		if (req != KR_REQ_POWEROFF && req != KR_REQ_DEBUG_EXIT)
			fprintf(stderr, "khv-run: stopped: %s\n", why);
		break;
	}
	if (control) {
		/* The last replies and events go out before the socket closes. */
		kr_control_close(control);
	}
	kr_vnc_close(cfg.vnc_srv);
	kr_consoles_close(&cfg);
	close(sigs.fd);
	kr_loop_free(loop);
	kr_loop_free(ctl_loop);
	kr_nets_close(&cfg);
	kr_images_free(&cfg);
	if (cfg.study_log)
		close(cfg.study_fd);
	return status;
}
