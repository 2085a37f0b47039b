// SPDX-License-Identifier: GPL-2.0
/* Statistics-file images for the tests, the sim and the corpus (image.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

const char *const ki_user_exits[KHV_EXIT_MAX] = {
	"unknown", "io", "mmio", "hlt", "shutdown", "fail_entry", "internal_error",
	"intr", "hypercall", "irq_window_open", "study",
};

const char *const ki_kernel_stats[KHV_KSTAT_MAX] = {
	"l1d_flush", "halt_sleep", "irq_injected", "halt_poll_hit", "halt_poll_miss",
	"tlb_flush", "npf_mapped", "npf_mmio", "irq_pic", "inject_interrupt", "inject_nmi",
	"inject_exception", "inject_soft", "inject_again", "inject_user", "npf_dirty",
	"pml_logged",
};

static void *grow(void *p, size_t n, size_t size)
{
	p = realloc(p, (n ? n : 1) * size);
	if (!p) {
		fprintf(stderr, "image: out of memory\n");
		abort();
	}
	return p;
}

void ki_init(struct ki *k, uint32_t vm_id)
{
	memset(k, 0, sizeof(*k));
	k->vm_id = vm_id;
	k->header_size = sizeof(struct khv_stats_header);
	k->desc_size = sizeof(struct khv_stats_desc);
}

void ki_free(struct ki *k)
{
	free(k->d);
	free(k->v);
	memset(k, 0, sizeof(*k));
}

uint32_t ki_add(struct ki *k, const char *name, uint32_t flags, uint32_t count, uint32_t code)
{
	struct ki_desc *d;

	if (strlen(name) >= KHV_STATS_NAME_SIZE) {
		fprintf(stderr, "image: name too long: %s\n", name);
		abort();
	}
	k->d = grow(k->d, k->nd + 1, sizeof(*k->d));
	d = &k->d[k->nd];
	memset(d, 0, sizeof(*d));
	strcpy(d->name, name);
	d->flags = flags;
	d->count = count;
	d->code = code;
	d->at = k->nv;
	k->v = grow(k->v, k->nv + count, sizeof(*k->v));
	memset(k->v + k->nv, 0, count * sizeof(*k->v));
	k->nv += count;
	return k->nd++;
}

uint64_t *ki_val(struct ki *k, const char *name)
{
	uint32_t i;

	for (i = 0; i < k->nd; i++)
		if (!strcmp(k->d[i].name, name))
			return k->v + k->d[i].at;
	return NULL;
}

uint64_t *ki_must(struct ki *k, const char *name)
{
	uint64_t *v = ki_val(k, name);

	if (!v) {
		fprintf(stderr, "image: no %s\n", name);
		abort();
	}
	return v;
}

void ki_set(struct ki *k, const char *name, uint64_t value)
{
	*ki_must(k, name) = value;
}

size_t ki_data_offset(const struct ki *k)
{
	return k->header_size + (size_t)k->nd * k->desc_size;
}

unsigned char *ki_image(const struct ki *k, size_t *len)
{
	size_t data_off = ki_data_offset(k), total = data_off + (size_t)k->nv * 8;
	unsigned char *img = calloc(1, total);
	struct khv_stats_header h;
	uint32_t i;

	if (!img)
		abort();
	memset(&h, 0, sizeof(h));
	h.magic = KHV_STATS_MAGIC;
	h.version = KHV_STATS_VERSION;
	h.header_size = k->header_size;
	h.desc_size = k->desc_size;
	h.num_desc = k->nd;
	h.flags = k->hflags;
	h.desc_offset = k->header_size;
	h.data_offset = data_off;
	h.data_size = (uint64_t)k->nv * 8;
	h.vm_id = k->vm_id;
	h.vcpu_id = k->vcpu_id;
	memcpy(img, &h, sizeof(h));
	for (i = 0; i < k->nd; i++) {
		struct khv_stats_desc d;

		memset(&d, 0, sizeof(d));
		d.flags = k->d[i].flags;
		d.count = k->d[i].count;
		d.offset = (uint64_t)k->d[i].at * 8;
		d.code = k->d[i].code;
		memcpy(d.name, k->d[i].name, sizeof(d.name));
		memcpy(img + k->header_size + (size_t)i * k->desc_size, &d, sizeof(d));
	}
	if (k->nv)
		memcpy(img + data_off, k->v, (size_t)k->nv * 8);
	*len = total;
	return img;
}

static void kernel_common(struct ki *k, uint32_t tsc_khz, bool vm, uint32_t vcpus,
			  const char *const *exits, const uint32_t *codes, uint32_t nexits)
{
	static const char *const ways[] = { "kernel", "user" };
	char name[KHV_STATS_NAME_SIZE];
	uint32_t i, w;

	ki_add(k, "alive", KI_INST | KHV_STATS_UNIT_BOOLEAN, 1, 0);
	ki_add(k, "tsc_khz", KI_INST | KHV_STATS_UNIT_KHZ, 1, 0);
	ki_add(k, "exit_timing", KI_INST | KHV_STATS_UNIT_BOOLEAN, 1, 0);
	if (vm) {
		ki_add(k, "vcpus", KI_INST, 1, 0);
		ki_add(k, "mmu/pages_pinned", KI_INST | KHV_STATS_UNIT_PAGES, 1, 0);
		ki_add(k, "mmu/table_pages", KI_INST | KHV_STATS_UNIT_PAGES, 1, 0);
		ki_add(k, "mmu/large_leaves", KI_INST, 1, 0);
	}
	ki_add(k, "time/guest", KI_CUM | KHV_STATS_UNIT_CYCLES, 1, 0);
	ki_add(k, "time/kernel", KI_CUM | KHV_STATS_UNIT_CYCLES, 1, 0);
	ki_add(k, "time/user", KI_CUM | KHV_STATS_UNIT_CYCLES, 1, 0);
	ki_add(k, "time/halt", KI_CUM | KHV_STATS_UNIT_NS, 1, 0);
	for (i = 0; i < KHV_EXIT_MAX; i++) {
		snprintf(name, sizeof(name), "user_exit/%s", ki_user_exits[i]);
		ki_add(k, name, KI_CUM, 1, 0);
	}
	for (i = 0; i < KHV_KSTAT_MAX; i++) {
		snprintf(name, sizeof(name), "kernel/%s", ki_kernel_stats[i]);
		ki_add(k, name, KI_CUM, 1, 0);
	}
	for (i = 0; i < nexits; i++) {
		snprintf(name, sizeof(name), "exit/%s/count", exits[i]);
		ki_add(k, name, KI_CUM, 1, codes[i]);
		for (w = 0; w < 2; w++) {
			snprintf(name, sizeof(name), "exit/%s/%s_cycles", exits[i], ways[w]);
			ki_add(k, name, KI_CUM | KHV_STATS_UNIT_CYCLES, 1, codes[i]);
			snprintf(name, sizeof(name), "exit/%s/%s_hist", exits[i], ways[w]);
			ki_add(k, name, KI_CUM | KI_HIST, KI_HIST_BUCKETS, codes[i]);
		}
	}
	ki_set(k, "alive", 1);
	ki_set(k, "tsc_khz", tsc_khz);
	ki_set(k, "exit_timing", 1);
	if (vm)
		ki_set(k, "vcpus", vcpus);
}

void ki_kernel_vm(struct ki *k, uint32_t tsc_khz, uint32_t vcpus, const char *const *exits,
		  const uint32_t *codes, uint32_t nexits)
{
	kernel_common(k, tsc_khz, true, vcpus, exits, codes, nexits);
}

void ki_kernel_vcpu(struct ki *k, uint32_t vcpu_id, uint32_t tsc_khz, const char *const *exits,
		    const uint32_t *codes, uint32_t nexits)
{
	k->hflags = KHV_STATS_F_VCPU;
	k->vcpu_id = vcpu_id;
	kernel_common(k, tsc_khz, false, 1, exits, codes, nexits);
}

uint32_t ki_bucket(uint64_t value, uint32_t nbuckets)
{
	uint32_t fls = 0;

	while (fls < 64 && (value >> fls))
		fls++;
	return fls < nbuckets - 1 ? fls : nbuckets - 1;
}

void ki_exit(struct ki *k, const char *reason, bool user, uint64_t cycles, uint64_t n)
{
	const char *way = user ? "user" : "kernel";
	char name[KHV_STATS_NAME_SIZE];

	snprintf(name, sizeof(name), "exit/%s/count", reason);
	*ki_must(k, name) += n;
	snprintf(name, sizeof(name), "exit/%s/%s_cycles", reason, way);
	*ki_must(k, name) += cycles * n;
	snprintf(name, sizeof(name), "exit/%s/%s_hist", reason, way);
	ki_must(k, name)[ki_bucket(cycles, KI_HIST_BUCKETS)] += n;
}
