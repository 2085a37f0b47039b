// SPDX-License-Identifier: GPL-2.0
/*
 * ksm: KSM merges guest memory that the guest has mapped.  ksmd calls the
 * MMU notifier while it holds the lock of the page it is about to merge
 * (mm/ksm.c, try_to_merge_one_page -> write_protect_page); khv's notifier
 * then unmaps the page from the guest and drops its pin, marking the page
 * dirty, and must do that without taking the page (folio) lock.  Before,
 * it used unpin_user_pages_dirty_lock(), which sleeps on the lock of a page
 * not yet dirty: ksmd slept forever on a lock it held itself, with the
 * VMM's mmap_lock taken.
 *
 * The VMM, a child process, gives the guest 64 pages of MADV_MERGEABLE
 * memory (4 KiB pages) which the guest fills with one value.  The test runs
 * ksmd fast (pages_to_scan 1000, sleep_millisecs 1) and waits up to 20 s for
 * four more full scans: ksmd must get through them, and must have merged
 * pages (pages_sharing > 0: khv let go of them).  The guest then reads its
 * data back, and stores a new value into one page: the VMM sees it in that
 * page and in no other (the merged page was copied on write).  The kernel
 * log must show no trouble.  KSM's settings are put back afterwards, unless
 * ksmd hung (writing them would block on ksmd's mutex too).
 *
 * Skipped without /sys/kernel/mm/ksm (CONFIG_KSM), or without the right to
 * write there.
 */
#include <signal.h>
#include <stdlib.h>

#include "khvt_harness.h"
#include "pages.h"

#define KSM_DIR		"/sys/kernel/mm/ksm/"
#define KSM_PAGES	64
#define KSM_VALUE	0x6b736d6b736d6b73ULL	/* "sksmksmk" */
#define KSM_VALUE2	0x636f7079636f7079ULL	/* "ypocypoc" */
#define KSM_TOUCHED	7		/* the page the guest writes at the end */
#define KSM_SCANS	4
#define KSM_WAIT_MS	20000

static long ksm_get(const char *name)
{
	char path[128], buf[64];

	snprintf(path, sizeof(path), KSM_DIR "%s", name);
	if (!khvt_read_line(path, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}

static int ksm_set(const char *name, long val)
{
	char path[128], buf[32];
	int fd, len, ret = 0;

	snprintf(path, sizeof(path), KSM_DIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%ld\n", val);
	if (write(fd, buf, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

/* What the VMM tells the test after each step. */
struct ksm_report {
	int err;		/* 0, or the -errno of the step; 1: skip */
	uint32_t diff;		/* qwords the guest found changed */
	unsigned long vmm_diff;	/* qwords not as expected, seen by the VMM */
	unsigned long other;	/* of those, in pages the guest did not write */
};

static void ksm_send(int fd, const struct ksm_report *r)
{
	if (write(fd, r, sizeof(*r)) != sizeof(*r))
		_exit(1);
}

/* The VMM: fill, report, wait for the word, check and write, report. */
static void ksm_vmm(int to_test, int from_test)
{
	static struct pages_vm v;
	struct ksm_report rep = { 0 };
	uint32_t n = 0;
	char go;

	rep.err = pages_vm_create(&v, KSM_PAGES, MADV_MERGEABLE);
	if (rep.err) {
		fprintf(stderr, "# ksm: VM: %s\n", strerror(-rep.err));
		if (khvt_no_device(rep.err))
			rep.err = 1;
		ksm_send(to_test, &rep);
		_exit(1);
	}
	rep.err = pages_vm_call(&v, pages_fill, 0, KSM_PAGES, KSM_VALUE, true, &n);
	if (!rep.err && n != KSM_PAGES)
		rep.err = -EPROTO;
	ksm_send(to_test, &rep);
	if (rep.err || read(from_test, &go, 1) != 1)
		_exit(1);

	rep.err = pages_vm_call(&v, pages_check, 0, KSM_PAGES, KSM_VALUE, true, &rep.diff);
	if (!rep.err)
		rep.err = pages_vm_call(&v, pages_fill, KSM_TOUCHED, 1, KSM_VALUE2, true, &n);
	if (!rep.err) {
		rep.vmm_diff = pages_vm_diff(&v, KSM_TOUCHED, 1, KSM_VALUE2);
		rep.other = pages_vm_diff(&v, 0, KSM_TOUCHED, KSM_VALUE) +
			    pages_vm_diff(&v, KSM_TOUCHED + 1, KSM_PAGES - KSM_TOUCHED - 1,
					  KSM_VALUE);
		rep.vmm_diff += rep.other;
	}
	ksm_send(to_test, &rep);
	pages_vm_destroy(&v);
	_exit(0);
}

static const char *const ksm_knobs[] = { "run", "pages_to_scan", "sleep_millisecs" };

TEST(merge_guest_pages)
{
	long saved[3], start, scans = -1, sharing;
	int to_test[2], from_test[2], kmsg, err, i;
	struct ksm_report rep;
	bool hung = false;
	struct timespec t0;
	pid_t pid;

	for (i = 0; i < 3; i++) {
		saved[i] = ksm_get(ksm_knobs[i]);
		if (saved[i] < 0)
			SKIP(return, "no " KSM_DIR "%s (CONFIG_KSM)", ksm_knobs[i]);
	}
	err = ksm_set("sleep_millisecs", saved[2]);
	if (err)
		SKIP(return, "cannot write " KSM_DIR ": %s", strerror(-err));
	kmsg = khvt_kmsg_open();

	ASSERT_EQ(0, pipe(to_test));
	ASSERT_EQ(0, pipe(from_test));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(to_test[0]);
		close(from_test[1]);
		ksm_vmm(to_test[1], from_test[0]);
	}
	close(to_test[1]);
	close(from_test[0]);

	err = pages_read_within(to_test[0], &rep, sizeof(rep), 20000);
	if (!err && rep.err == 1) {
		pages_wait_child(pid, 20000);
		SKIP(return, "no khv device");
	}
	if (err || rep.err) {
		kill(pid, SIGKILL);
		pages_wait_child(pid, 20000);
		ASSERT_EQ(0, 1) TH_LOG("the VMM did not fill its memory: %s",
				       strerror(err ? -err : -rep.err));
	}

	/* ksmd at full speed; the knobs are put back below. */
	ASSERT_EQ(0, ksm_set("pages_to_scan", 1000));
	ASSERT_EQ(0, ksm_set("sleep_millisecs", 1));
	start = ksm_get("full_scans");
	ASSERT_EQ(0, ksm_set("run", 1));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (pages_ms_since(&t0) < KSM_WAIT_MS) {
		scans = ksm_get("full_scans");
		if (scans >= start + KSM_SCANS)
			break;
		usleep(20000);
	}
	sharing = ksm_get("pages_sharing");
	TH_LOG("full scans %ld -> %ld in %ld ms, pages_sharing %ld", start, scans,
	       pages_ms_since(&t0), sharing);
	if (scans < start + KSM_SCANS) {
		/* ksmd is stuck: leave the VMM (stuck on its mmap_lock) and the knobs. */
		hung = true;
		kill(pid, SIGKILL);
		if (kmsg >= 0)
			khvt_kmsg_problems(kmsg, NULL, 0);
		ASSERT_EQ(0, 1) TH_LOG("ksmd made %ld of %d full scans in %d s: it hangs",
				       scans - start, KSM_SCANS, KSM_WAIT_MS / 1000);
	}
	EXPECT_LT(0, sharing) TH_LOG("KSM merged none of the guest's identical pages");

	/* The guest reads what it wrote, then writes one page. */
	ASSERT_EQ(1, write(from_test[1], "c", 1));
	err = pages_read_within(to_test[0], &rep, sizeof(rep), 20000);
	EXPECT_EQ(0, err) TH_LOG("the VMM did not answer: %s", strerror(-err));
	if (!err) {
		EXPECT_EQ(0, rep.err) TH_LOG("guest check: %s", strerror(-rep.err));
		EXPECT_EQ(0u, rep.diff) TH_LOG("qwords the guest read back changed");
		EXPECT_EQ(0ul, rep.vmm_diff) TH_LOG("qwords not as the guest left them (%lu %s)",
						  rep.other, "in pages it did not write");
	}
	EXPECT_LE(0, pages_wait_child(pid, 20000)) TH_LOG("the VMM did not exit");

	if (!hung) {
		/* run first: the others are ksmd's speed. */
		for (i = 0; i < 3; i++)
			EXPECT_EQ(0, ksm_set(ksm_knobs[i], saved[i]));
	}
	if (kmsg >= 0) {
		EXPECT_EQ(0, khvt_kmsg_problems(kmsg, NULL, 0)) TH_LOG("the kernel log has trouble");
		close(kmsg);
	}
}

TEST_HARNESS_MAIN
