/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where khv-top's figures come from: /dev/khv's list of VMs (KHV_GET_VMS)
 * and each VM's statistics file (KHV_OPEN_STATS), kept open from one read
 * to the next (its layout never changes; only the values are read again).
 *
 * A VM that goes is shown once more with its last figures (state "gone":
 * off the list, or its file reads "alive" 0), then dropped.  One that goes
 * between the list and KHV_OPEN_STATS (ESRCH) is dropped unseen.  Another
 * user's VM (EACCES) is listed without figures ("denied"); a file that
 * cannot be read or parsed leaves "error", and is tried again at the next
 * read.
 */
#ifndef KHV_TOP_SOURCE_H
#define KHV_TOP_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

struct kt_vm {
	struct khv_vm_info info;
	bool listed;			/* in the last KHV_GET_VMS */
	bool open;			/* st and layout are set up */
	bool have_cur, have_prev;
	bool drop;			/* shown for the last time: dropped at the next read */
	enum kt_state state;
	int err;
	struct khv_stats st;
	struct kt_layout layout;
	struct kt_snap prev, cur;
};

struct kt_source {
	struct khv_sys sys;
	bool has_vm, has_pid;		/* the filter: only these VMs */
	uint32_t vm;
	int32_t pid;
	bool matched;			/* the filter has matched a VM */
	struct kt_vm *vms;		/* by id */
	uint32_t nvms;
	struct khv_vm_info *list;
	uint32_t list_cap;
};

/*
 * Opens the device (NULL: $KHV_DEVICE, else /dev/khv).  0, -ENOTSUP when it
 * has no statistics files (KHV_CAP_STATS_FD), or -errno; why gets a line.
 */
int kt_source_open(struct kt_source *s, const char *device, char *why, size_t why_len);
/* Keep only the VM with this id, or the VMs of this process (before a read). */
void kt_source_filter(struct kt_source *s, bool has_vm, uint32_t vm, bool has_pid, int32_t pid);
/* Lists the VMs and reads their files: 0 or -errno (KHV_GET_VMS failed, memory). */
int kt_source_poll(struct kt_source *s);
/*
 * The VMs' views after a poll, by id: *views is an array of *n the caller
 * frees with kt_views_free().  0 or -ENOMEM.
 */
int kt_source_views(const struct kt_source *s, struct kt_vm_view **views, uint32_t *n);
void kt_views_free(struct kt_vm_view *views, uint32_t n);
void kt_source_close(struct kt_source *s);

/* CLOCK_BOOTTIME in ns (the clock of khv_vm_info.created_ns). */
uint64_t kt_boottime_ns(void);

#endif /* KHV_TOP_SOURCE_H */
