// SPDX-License-Identifier: GPL-2.0
/* khv-top's reads of /dev/khv and of the VMs' statistics files (source.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "source.h"

uint64_t kt_boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int kt_source_open(struct kt_source *s, const char *device, char *why, size_t why_len)
{
	const char *path = device;
	int r;

	memset(s, 0, sizeof(*s));
	s->sys.fd = -1;
	if (!path) {
		path = getenv("KHV_DEVICE");
		if (!path || !*path)
			path = "/dev/khv";
	}
	r = khv_open(&s->sys, path);
	if (r < 0) {
		snprintf(why, why_len, "%s: %s", path, khv_strerror(r));
		return r;
	}
	r = khv_check_extension(&s->sys, KHV_CAP_STATS_FD);
	if (r <= 0) {
		snprintf(why, why_len,
			 "%s: this khv has no statistics files (KHV_CAP_STATS_FD%s%s): a newer khv.ko is needed",
			 path, r < 0 ? ": " : "", r < 0 ? khv_strerror(r) : "");
		khv_close(&s->sys);
		return -ENOTSUP;
	}
	return 0;
}

void kt_source_filter(struct kt_source *s, bool has_vm, uint32_t vm, bool has_pid, int32_t pid)
{
	s->has_vm = has_vm;
	s->vm = vm;
	s->has_pid = has_pid;
	s->pid = pid;
}

static void vm_close(struct kt_vm *vm)
{
	if (vm->open) {
		khv_stats_close(&vm->st);
		kt_layout_free(&vm->layout);
	}
	kt_snap_free(&vm->prev);
	kt_snap_free(&vm->cur);
	vm->open = vm->have_cur = vm->have_prev = false;
}

/* The list, grown until it holds every VM. */
static int list_vms(struct kt_source *s, uint32_t *n)
{
	int r, tries;

	for (tries = 0; tries < 8; tries++) {
		r = khv_list_vms(&s->sys, s->list, s->list_cap, n);
		if (r != -E2BIG)
			return r;
		/* More than we had room for: *n is how many there are now. */
		{
			uint32_t cap = *n + 16;
			struct khv_vm_info *l = realloc(s->list, cap * sizeof(*l));

			if (!l)
				return -ENOMEM;
			s->list = l;
			s->list_cap = cap;
		}
	}
	return -EAGAIN;
}

static bool wanted(const struct kt_source *s, const struct khv_vm_info *info)
{
	return (!s->has_vm || info->vm_id == s->vm) && (!s->has_pid || info->pid == s->pid);
}

static struct kt_vm *find_vm(struct kt_source *s, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < s->nvms; i++)
		if (s->vms[i].info.vm_id == id)
			return &s->vms[i];
	return NULL;
}

static int cmp_vm(const void *a, const void *b)
{
	uint32_t x = ((const struct kt_vm *)a)->info.vm_id, y = ((const struct kt_vm *)b)->info.vm_id;

	return x < y ? -1 : x > y;
}

/* Opens vm's file: false when the VM has gone meanwhile (drop it unseen). */
static bool vm_open(struct kt_source *s, struct kt_vm *vm)
{
	int fd = khv_open_stats(&s->sys, vm->info.vm_id, -1), r;

	if (fd == -ESRCH)
		return false;
	if (fd == -EACCES || fd == -EPERM) {
		vm->state = KT_DENIED;
		vm->err = fd;
		return true;
	}
	if (fd < 0) {
		vm->state = KT_ERROR;
		vm->err = fd;
		return true;
	}
	r = khv_stats_init(&vm->st, fd);	/* takes fd, even on failure */
	if (!r) {
		r = kt_layout_build(&vm->layout, &vm->st);
		if (r)
			khv_stats_close(&vm->st);
	}
	if (r) {
		vm->state = KT_ERROR;
		vm->err = r;
		return true;
	}
	vm->open = true;
	vm->have_cur = vm->have_prev = false;
	return true;
}

/* Reads vm's values again: the last read becomes the previous one. */
static void vm_read(struct kt_vm *vm)
{
	struct kt_snap t;
	int r;

	if (vm->have_cur) {
		t = vm->prev;
		vm->prev = vm->cur;
		vm->cur = t;
		vm->have_prev = true;
	}
	r = khv_stats_read(&vm->st);
	if (!r)
		r = kt_snap_take(&vm->cur, &vm->st, kt_boottime_ns());
	if (r) {
		/* Start again with a new file at the next read. */
		vm_close(vm);
		vm->state = KT_ERROR;
		vm->err = r;
		return;
	}
	vm->have_cur = true;
	vm->state = KT_RUNNING;
	vm->err = 0;
	if (vm->layout.alive >= 0 && !kt_snap_val(&vm->cur, vm->layout.alive))
		vm->state = KT_GONE;
}

static void remove_vm(struct kt_source *s, uint32_t i)
{
	vm_close(&s->vms[i]);
	s->vms[i] = s->vms[--s->nvms];
}

int kt_source_poll(struct kt_source *s)
{
	uint32_t n = 0, i;
	int r;

	/* Those shown gone last time go now. */
	for (i = s->nvms; i-- > 0;)
		if (s->vms[i].drop)
			remove_vm(s, i);

	r = list_vms(s, &n);
	if (r)
		return r;
	for (i = 0; i < s->nvms; i++)
		s->vms[i].listed = false;
	for (i = 0; i < n; i++) {
		struct kt_vm *vm;

		if (!wanted(s, &s->list[i]))
			continue;
		vm = find_vm(s, s->list[i].vm_id);
		if (!vm) {
			struct kt_vm *vms = realloc(s->vms, (s->nvms + 1) * sizeof(*vms));

			if (!vms)
				return -ENOMEM;
			s->vms = vms;
			vm = &vms[s->nvms++];
			memset(vm, 0, sizeof(*vm));
		}
		vm->info = s->list[i];
		vm->listed = true;
		s->matched = true;
	}

	for (i = s->nvms; i-- > 0;) {
		struct kt_vm *vm = &s->vms[i];

		if (!vm->open) {
			/* Never read and off the list: nothing to show. */
			if (!vm->listed || !vm_open(s, vm)) {
				remove_vm(s, i);
				continue;
			}
		}
		if (!vm->open)
			continue;	/* denied, error: tried again next time */
		vm_read(vm);
		if (vm->state == KT_ERROR)
			continue;
		if (!vm->listed)
			vm->state = KT_GONE;
		if (vm->state == KT_GONE)
			vm->drop = true;
	}
	if (s->nvms > 1)
		qsort(s->vms, s->nvms, sizeof(*s->vms), cmp_vm);
	return 0;
}

int kt_source_views(const struct kt_source *s, struct kt_vm_view **views, uint32_t *n)
{
	struct kt_vm_view *v = calloc(s->nvms ? s->nvms : 1, sizeof(*v));
	uint32_t i;

	*views = NULL;
	*n = 0;
	if (!v)
		return -ENOMEM;
	for (i = 0; i < s->nvms; i++) {
		const struct kt_vm *vm = &s->vms[i];
		struct kt_vm_ident who = {
			.id = vm->info.vm_id, .pid = vm->info.pid, .comm = vm->info.comm,
			.nr_vcpus = vm->info.nr_vcpus, .created_ns = vm->info.created_ns,
		};

		if (vm->open && vm->have_cur) {
			if (kt_vm_compute(&v[i], &who, &vm->layout, vm->have_prev ? &vm->prev : NULL,
					  &vm->cur)) {
				kt_views_free(v, i);
				return -ENOMEM;
			}
			if (vm->state == KT_GONE)
				v[i].state = KT_GONE;
		} else {
			kt_vm_blank(&v[i], &who, vm->state, vm->err);
		}
	}
	*views = v;
	*n = s->nvms;
	return 0;
}

void kt_views_free(struct kt_vm_view *views, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n && views; i++)
		kt_vm_view_free(&views[i]);
	free(views);
}

void kt_source_close(struct kt_source *s)
{
	while (s->nvms)
		remove_vm(s, s->nvms - 1);
	free(s->vms);
	free(s->list);
	khv_close(&s->sys);
	memset(s, 0, sizeof(*s));
	s->sys.fd = -1;
}
