/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What selftests khvrun and khvrun_io share: the second-level guest's files
 * (the lane's image, or the environment), the guest's report checked, the
 * fixture and the guest's command line.  Each includes it once, after the
 * harness and khvrun_util.h.
 */
#ifndef KHVRUN_GUEST_H
#define KHVRUN_GUEST_H

#define KR_BOOT_TIMEOUT		240	/* s: one boot of the test kernel, nested */
/* What the guest kernel must never print (as scripts/check-log.sh judges hosts). */
static const char *const bad_words[] = {
	"BUG:", "WARNING:", "Oops", "Call Trace", "Kernel panic", "general protection",
	"unchecked MSR access", "soft lockup", "hung task", "UBSAN:", "invalid opcode",
};

static inline const char *kernel(void) { return env_or("KHVRUN_KERNEL", "/khv/l2/vmlinuz"); }
static inline const char *initrd(void) { return env_or("KHVRUN_INITRD", "/khv/l2/initrd.cpio.gz"); }
static inline const char *vmlinux(void) { return env_or("KHVRUN_VMLINUX", "/khv/l2/vmlinux"); }
static inline const char *khv_top(void) { return env_or("KHVRUN_TOP", "/khv/l2/khv-top"); }
static inline const char *khv_trace(void) { return env_or("KHVRUN_TRACE", "/khv/l2/khv-trace"); }

/*
 * The kernel for a test whose subject is not the boot protocol: the same
 * kernel uncompressed, entered by PVH, when the lane has it.  Its own
 * decompressor costs a nested boot about 5 s of 13 in the lane's test
 * machine; the bzImage path keeps its tests (poweroff_1_vcpu, bad_input,
 * and selftest libvirt's guests).  The reboot is one of the others: there
 * khv-run loads the ELF image again into the rebuilt VM.
 */
static inline const char *quick_kernel(void)
{
	return access(vmlinux(), R_OK) ? kernel() : vmlinux();
}

static inline int have_files(void)
{
	return !access(bin(), X_OK) && !access(kernel(), R_OK) && !access(initrd(), R_OK);
}

/*
 * KHVRUN_ONLY=NAME (the environment, or the test machine's kernel command
 * line, which Linux hands to init's environment): only the tests whose
 * name holds NAME run, the others skip; for working on one test.
 */
#define NEED_FILES() do {							\
	const char *only_ = getenv("KHVRUN_ONLY");				\
									\
	if (only_ && *only_ && !strstr(_metadata->name, only_))		\
		SKIP(return, "KHVRUN_ONLY=%s", only_);				\
	if (!have_files())							\
		SKIP(return, "no khv-run, kernel or initrd (%s, %s, %s)",	\
		     bin(), kernel(), initrd());				\
	if (access("/dev/khv", R_OK | W_OK))					\
		SKIP(return, "no /dev/khv");					\
} while (0)

/* The guest's report line, checked; and its console free of warnings. */
static inline void check_guest(struct __test_metadata *_metadata, const struct kr_out *o,
			       int cpus, int boots)
{
	char want[64];

	ksft_print_msg("%s: khv-run ran %.1f s\n", _metadata->name, o->secs);
	snprintf(want, sizeof(want), "KHVRUN-INIT cpus=%d ", cpus);
	EXPECT_EQ(boots, count(o->buf, want))
		TH_LOG("want %d x \"%s\"", boots, want);
	EXPECT_EQ(boots, count(o->buf, "acpi=yes"));
	EXPECT_EQ(boots, count(o->buf, " mce=yes "))
		TH_LOG("Linux set up no machine-check device (core/mce.c)");
	for (size_t i = 0; i < sizeof(bad_words) / sizeof(bad_words[0]); i++) {
		const char *w = bad_words[i];

		EXPECT_EQ(0, count(o->buf, w))
			TH_LOG("the guest printed \"%s\"", w);
	}
	if (_metadata->passed)
		return;
	/* The tail of the console says what went wrong. */
	TH_LOG("khv-run status %d after %.1f s; last output:\n%s", o->status, o->secs,
	       o->buf + (o->len > 3000 ? o->len - 3000 : 0));
}

/* The harness's default limit of 30 s per test is one nested boot at best. */
FIXTURE(khvrun) {
	int unused;
};

FIXTURE_SETUP(khvrun)
{
}

FIXTURE_TEARDOWN(khvrun)
{
}

/*
 * loglevel=5: the console carries warnings and worse (what check_guest
 * looks for) but not the 20 KB of boot messages, which cost a nested boot
 * about 3 s of COM1 exits alone and 25-30 s in make check's lane khvrun
 * (poweroff_1_vcpu kept them all until the lane needed the time back; a
 * full boot log is one khv-run without loglevel=5 away).
 * cryptomgr.notests: no self-test of every crypto algorithm at boot (as
 * the lanes boot the test machine, scripts/lib.sh KERNEL_ARGS).
 * pci=noearly: QEMU's -cpu max is an AMD family 0xf (K8) part, and on
 * those Linux looks for a K8 GART twice before the PCI core runs, reading
 * the vendor ID of every slot of all 256 buses through ports 0xcf8/0xcfc:
 * about 33,000 port exits to khv-run, 1.3 s of a nested boot's 4.5.  No
 * CPU a lab host has today is of a GART family; khv-run's PCI devices are
 * found by the PCI core as before.
 */
#define CMDLINE(action) \
	"console=ttyS0 panic=-1 cryptomgr.notests loglevel=5 pci=noearly khvrun=" action

/* Bad input: one line on stderr (plus the --help hint for usage errors). */
static inline void try_bad_input(struct __test_metadata *_metadata, const char **argv,
				 int status, const char *words)
{
	struct kr_out o;

	ASSERT_EQ(0, kr_run(&o, 30, NULL, 0, argv));
	EXPECT_EQ(status, o.status) TH_LOG("output: %s", o.buf);
	EXPECT_NE(NULL, strstr(o.buf, words)) TH_LOG("output: %s", o.buf);
	EXPECT_EQ(0, count(o.buf, "KHVRUN-INIT"));
	EXPECT_GE(2, count(o.buf, "\n")) TH_LOG("output: %s", o.buf);
	free(o.buf);
}

#endif
