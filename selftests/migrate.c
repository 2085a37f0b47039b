// SPDX-License-Identifier: GPL-2.0
/*
 * migrate: move_pages(2) moves guest memory that the guest has mapped to
 * another NUMA node and back.  Migration locks each page and then unmaps
 * it, which calls the MMU notifier with the page still locked (mm/migrate.c,
 * __unmap_and_move -> try_to_migrate); khv's notifier must drop its pin
 * without taking that lock.  Before, unpin_user_pages_dirty_lock() slept on
 * it and move_pages() never returned.  With the pin gone the pages really
 * move; the guest then reads its data from the new pages and its stores
 * reach the VMM's memory.
 *
 * The VMM, a child process, gives the guest 16 pages (4 KiB) that it fills,
 * asks move_pages() where they are, moves them to the node they are on (no
 * migration), to another node with memory and back, and reports after each
 * call; the test allows each call 20 s.  Every page must have moved each
 * way, the guest must read its data back and the VMM must see what the
 * guest stores afterwards; the kernel log must show no trouble.
 *
 * Skipped without move_pages (ENOSYS) or with fewer than two nodes with
 * memory; make check boots its lanes with numa=fake=2 for this test.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "khvt_harness.h"
#include "pages.h"

#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE	(1 << 1)
#endif

#define MG_PAGES	16
#define MG_VALUE	0x6d696772617465ULL	/* "migrate" */
#define MG_VALUE2	0x616761696eULL		/* "again" */
#define MG_WAIT_MS	20000

static long mg_move_pages(unsigned long n, void **pages, const int *nodes, int *status)
{
	return syscall(__NR_move_pages, 0, n, pages, nodes, status, nodes ? MPOL_MF_MOVE : 0);
}

/* The first two nodes with memory, from sysfs ("0-1", "0,2", "0"); false if fewer. */
static bool mg_two_nodes(int node[2])
{
	char buf[256], *p = buf;
	int n = 0;

	if (!khvt_read_line("/sys/devices/system/node/has_memory", buf, sizeof(buf)))
		return false;
	while (*p && n < 2) {
		long a = strtol(p, &p, 10), b = a;

		if (*p == '-')
			b = strtol(p + 1, &p, 10);
		for (; a <= b && n < 2; a++)
			node[n++] = (int)a;
		if (*p == ',')
			p++;
		else
			break;
	}
	return n == 2;
}

/* One report per step from the VMM. */
struct mg_report {
	int err;		/* 0, -errno, or 1: skip */
	long ret;		/* move_pages() */
	int moved;		/* pages whose status is the node asked for */
	int first_status;	/* status of a page that did not move */
	uint32_t diff;		/* qwords the guest found changed */
	unsigned long vmm_diff;	/* qwords not as the guest left them */
};

static void mg_send(int fd, const struct mg_report *r)
{
	if (write(fd, r, sizeof(*r)) != sizeof(*r))
		_exit(1);
}

/* Move every page to @to (or, with @other, to whichever of @node it is not on). */
static void mg_step(int fd, void **addr, const int node[2], int to, bool other)
{
	int target[MG_PAGES], status[MG_PAGES], i;
	struct mg_report rep = { 0 };

	rep.ret = mg_move_pages(MG_PAGES, addr, NULL, status);
	if (rep.ret) {
		rep.err = -errno;
		mg_send(fd, &rep);
		_exit(1);
	}
	for (i = 0; i < MG_PAGES; i++)
		target[i] = !other ? (to < 0 ? status[i] : to) :
			    status[i] == node[0] ? node[1] : node[0];
	rep.ret = mg_move_pages(MG_PAGES, addr, target, status);
	if (rep.ret < 0)
		rep.err = -errno;
	rep.first_status = 0;
	for (i = 0; i < MG_PAGES; i++) {
		if (status[i] == target[i])
			rep.moved++;
		else if (!rep.first_status)
			rep.first_status = status[i] ? status[i] : -1;
	}
	mg_send(fd, &rep);
}

static void mg_vmm(int fd, const int node[2])
{
	static struct pages_vm v;
	struct mg_report rep = { 0 };
	void *addr[MG_PAGES];
	uint32_t n = 0;
	int i;

	rep.err = pages_vm_create(&v, MG_PAGES, -1);
	if (rep.err) {
		fprintf(stderr, "# migrate: VM: %s\n", strerror(-rep.err));
		if (khvt_no_device(rep.err))
			rep.err = 1;
		mg_send(fd, &rep);
		_exit(1);
	}
	rep.err = pages_vm_call(&v, pages_fill, 0, MG_PAGES, MG_VALUE, true, &n);
	if (!rep.err && n != MG_PAGES)
		rep.err = -EPROTO;
	mg_send(fd, &rep);
	if (rep.err)
		_exit(1);
	for (i = 0; i < MG_PAGES; i++)
		addr[i] = v.mem + i * PAGE_BYTES;

	mg_step(fd, addr, node, -1, false);	/* where they are: no migration */
	mg_step(fd, addr, node, 0, true);	/* to the other node */
	mg_step(fd, addr, node, 0, true);	/* and back */

	rep = (struct mg_report){ 0 };
	rep.err = pages_vm_call(&v, pages_check, 0, MG_PAGES, MG_VALUE, true, &rep.diff);
	if (!rep.err)
		rep.err = pages_vm_call(&v, pages_fill, 0, MG_PAGES, MG_VALUE2, true, &n);
	if (!rep.err)
		rep.vmm_diff = pages_vm_diff(&v, 0, MG_PAGES, MG_VALUE2);
	mg_send(fd, &rep);
	pages_vm_destroy(&v);
	_exit(0);
}

TEST(move_pages_of_a_running_guest)
{
	static const char *const what[] = {
		"fill", "move to the same node", "move to the other node", "move back", "check",
	};
	struct mg_report rep;
	int fds[2], node[2], kmsg, step, err;
	pid_t pid;

	errno = 0;
	if (mg_move_pages(0, NULL, NULL, NULL) < 0 && errno == ENOSYS)
		SKIP(return, "no move_pages (CONFIG_NUMA, CONFIG_MIGRATION)");
	if (!mg_two_nodes(node))
		SKIP(return, "fewer than two NUMA nodes with memory (boot with numa=fake=2)");
	TH_LOG("nodes %d and %d", node[0], node[1]);
	kmsg = khvt_kmsg_open();

	ASSERT_EQ(0, pipe(fds));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(fds[0]);
		mg_vmm(fds[1], node);
	}
	close(fds[1]);

	for (step = 0; step < 5; step++) {
		err = pages_read_within(fds[0], &rep, sizeof(rep), MG_WAIT_MS);
		if (!err && step == 0 && rep.err == 1) {
			pages_wait_child(pid, MG_WAIT_MS);
			SKIP(return, "no khv device");
		}
		if (err) {
			kill(pid, SIGKILL);
			if (kmsg >= 0)
				khvt_kmsg_problems(kmsg, NULL, 0);
			ASSERT_EQ(0, 1) TH_LOG("%s: no answer within %d s (%s): move_pages hangs?",
					       what[step], MG_WAIT_MS / 1000, strerror(-err));
		}
		ASSERT_EQ(0, rep.err) TH_LOG("%s: %s", what[step], strerror(-rep.err));
		if (step >= 1 && step <= 3) {
			TH_LOG("%s: move_pages %ld, %d of %d pages there", what[step], rep.ret,
			       rep.moved, MG_PAGES);
			EXPECT_EQ(0, rep.ret);
			EXPECT_EQ(MG_PAGES, rep.moved)
				TH_LOG("%s: a page stayed (status %d)", what[step], rep.first_status);
		}
		if (step == 4) {
			EXPECT_EQ(0u, rep.diff) TH_LOG("qwords the guest read back changed");
			EXPECT_EQ(0ul, rep.vmm_diff) TH_LOG("guest stores the VMM does not see");
		}
	}
	close(fds[0]);
	EXPECT_LE(0, pages_wait_child(pid, MG_WAIT_MS)) TH_LOG("the VMM did not exit");
	if (kmsg >= 0) {
		EXPECT_EQ(0, khvt_kmsg_problems(kmsg, NULL, 0)) TH_LOG("the kernel log has trouble");
		close(kmsg);
	}
}

TEST_HARNESS_MAIN
