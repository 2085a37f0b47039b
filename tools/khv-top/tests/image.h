/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A builder of statistics-file images in the kernel's format
 * (uapi/linux/khv.h; core/stats_fd.c makes the real ones): descriptors in
 * the order they are added, values packed after them.  ki_kernel_vm() adds
 * the names a VM's file has, in core/stats_fd.c's order; the ki_exit()
 * family plays what the kernel counts on an exit.
 */
#ifndef KHV_TOP_TESTS_IMAGE_H
#define KHV_TOP_TESTS_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/khv.h>

#define KI_HIST_BUCKETS		40	/* the kernel's KHV_HIST_BUCKETS */
#define KI_CUM			KHV_STATS_TYPE_CUMULATIVE
#define KI_INST			KHV_STATS_TYPE_INSTANT
#define KI_HIST			(KHV_STATS_UNIT_CYCLES | KHV_STATS_SHAPE_LOG2_HIST)

struct ki_desc {
	char name[KHV_STATS_NAME_SIZE];
	uint32_t flags, count, code;
	uint32_t at;			/* index of its first value */
};

struct ki {
	struct ki_desc *d;
	uint32_t nd;
	uint64_t *v;
	uint32_t nv;
	uint32_t vm_id, vcpu_id, hflags;
	uint32_t header_size;		/* default sizeof(struct khv_stats_header) */
	uint32_t desc_size;		/* default sizeof(struct khv_stats_desc) */
};

void ki_init(struct ki *k, uint32_t vm_id);
void ki_free(struct ki *k);
/* Adds a descriptor (values 0): its index.  Aborts on a name too long. */
uint32_t ki_add(struct ki *k, const char *name, uint32_t flags, uint32_t count, uint32_t code);
/* The values of the first descriptor called name; NULL if there is none. */
uint64_t *ki_val(struct ki *k, const char *name);
/* ki_val(), aborting when absent (a test's mistake). */
uint64_t *ki_must(struct ki *k, const char *name);
void ki_set(struct ki *k, const char *name, uint64_t value);

/* The file's image: malloc'd, *len bytes. */
unsigned char *ki_image(const struct ki *k, size_t *len);
/* The values alone, as they sit at the image's data_offset. */
size_t ki_data_offset(const struct ki *k);

/*
 * A VM's file as core/stats_fd.c describes it: alive 1, tsc_khz,
 * exit_timing 1, vcpus, the MMU figures, the time/, user_exit/ and kernel/
 * names, and the five names of each of the nexits exit reasons.
 */
void ki_kernel_vm(struct ki *k, uint32_t tsc_khz, uint32_t vcpus, const char *const *exits,
		  const uint32_t *codes, uint32_t nexits);
/* The same for a vCPU's file (no vcpus, no mmu/ names; KHV_STATS_F_VCPU). */
void ki_kernel_vcpu(struct ki *k, uint32_t vcpu_id, uint32_t tsc_khz, const char *const *exits,
		    const uint32_t *codes, uint32_t nexits);

/*
 * n exits of reason handled in cycles each, in the kernel (user false) or
 * through userspace: count, cycles and histogram (time/ is up to the test).
 */
void ki_exit(struct ki *k, const char *reason, bool user, uint64_t cycles, uint64_t n);
/* The log2 bucket of a value, as the kernel picks it (fls64, capped). */
uint32_t ki_bucket(uint64_t value, uint32_t nbuckets);

/* The user exit names and kernel counters of core/stats.c, without prefix. */
extern const char *const ki_user_exits[KHV_EXIT_MAX];
extern const char *const ki_kernel_stats[KHV_KSTAT_MAX];

#endif /* KHV_TOP_TESTS_IMAGE_H */
