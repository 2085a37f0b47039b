/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest memory in the snapshot and migration stream (snapstream.h): RAM
 * sections, each a run of 4 KiB pages at one guest physical address.
 *
 *   payload: u64 gpa (4 KiB aligned), u32 pages (1..KR_RAM_RUN), u32 flags,
 *            then pages * 4096 bytes, or nothing with KR_RAM_ZERO (pages
 *            that are all zero: most of a fresh guest's memory)
 *
 * A writer sends a region's pages, all of them (a snapshot, a migration's
 * first pass) or those a dirty bitmap names (a migration's later passes).
 * A reader checks that every page it is given lies in the VM's RAM before
 * it writes any.
 */
#ifndef KHV_RUN_SNAPRAM_H
#define KHV_RUN_SNAPRAM_H

#include <stddef.h>
#include <stdint.h>

#include "snapstream.h"

#define KR_RAM_PAGE		4096u
#define KR_RAM_RUN		256u		/* pages per section: 1 MiB */
#define KR_RAM_ZERO		(1u << 0)	/* every page of the run is zero */
#define KR_RAM_HDR		16u

/* A piece of guest RAM: size bytes at gpa, mapped at hva in the VMM. */
struct kr_ram_region {
	uint64_t gpa;
	uint64_t size;		/* a multiple of 4 KiB */
	uint8_t *hva;
	/*
	 * NULL: pages go out straight from guest memory (the guest stopped).
	 * Else KR_RAM_RUN pages the writer copies each run into first: with
	 * the guest running (a migration's passes) a page may change between
	 * the section's CRC and its write, which the reader would refuse; a
	 * copy is what the CRC covers, and a page written meanwhile is dirty
	 * and goes again.
	 */
	uint8_t *bounce;
};

/*
 * The pages of region r as RAM sections: all of them with dirty NULL, else
 * those whose bit is set in dirty (bit n: page n of the region).  *sent
 * (may be NULL) counts the pages sent, *zero those sent as zero runs.
 * 0 or the writer's -errno.
 */
int kr_ram_write(struct kr_snap_writer *w, const struct kr_ram_region *r,
		 const uint64_t *dirty, uint64_t *sent, uint64_t *zero);

/*
 * One RAM section's payload into the regions: 0, or -EPROTO with the reason
 * in why (len bytes) for a malformed header or a run that is not all in
 * one region's RAM; nothing is written then.
 */
int kr_ram_load(const void *payload, size_t len, const struct kr_ram_region *regions,
		unsigned int n, char *why, size_t why_len);

#endif /* KHV_RUN_SNAPRAM_H */
