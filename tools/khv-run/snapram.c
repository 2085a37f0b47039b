// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory in the snapshot and migration stream (snapram.h).  Runs of
 * zero pages go as one header each; other runs as up to KR_RAM_RUN pages
 * straight from guest memory (the writer's iovec points into it: no copy).
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "snapram.h"

static bool kr_page_zero(const uint8_t *p)
{
	static const uint8_t zero[KR_RAM_PAGE];

	return !memcmp(p, zero, KR_RAM_PAGE);
}

static int kr_ram_run(struct kr_snap_writer *w, const struct kr_ram_region *r, uint64_t first,
		      uint32_t pages, bool zero)
{
	uint8_t h[KR_RAM_HDR];
	uint64_t gpa = htole64(r->gpa + first * KR_RAM_PAGE);
	uint32_t n = htole32(pages), flags = htole32(zero ? KR_RAM_ZERO : 0);
	struct iovec v[2] = {
		{ h, sizeof(h) },
		{ r->hva + first * KR_RAM_PAGE, zero ? 0 : (size_t)pages * KR_RAM_PAGE },
	};

	if (r->bounce && !zero) {
		memcpy(r->bounce, v[1].iov_base, v[1].iov_len);
		v[1].iov_base = r->bounce;
	}

	memcpy(h, &gpa, 8);
	memcpy(h + 8, &n, 4);
	memcpy(h + 12, &flags, 4);
	return kr_snap_write_section(w, KR_SNAP_RAM, 0, v, 2);
}

static bool kr_dirty(const uint64_t *dirty, uint64_t page)
{
	return !dirty || (dirty[page / 64] >> (page % 64) & 1);
}

int kr_ram_write(struct kr_snap_writer *w, const struct kr_ram_region *r,
		 const uint64_t *dirty, uint64_t *sent, uint64_t *zero)
{
	uint64_t npages = r->size / KR_RAM_PAGE, p = 0;
	uint64_t n_sent = 0, n_zero = 0;
	int err = 0;

	while (!err && p < npages) {
		uint64_t start;
		bool z;

		if (!kr_dirty(dirty, p)) {
			p++;
			continue;
		}
		/* A run: dirty pages in a row, all zero or none zero, at most KR_RAM_RUN. */
		start = p;
		z = kr_page_zero(r->hva + p * KR_RAM_PAGE);
		while (p < npages && p - start < KR_RAM_RUN && kr_dirty(dirty, p) &&
		       kr_page_zero(r->hva + p * KR_RAM_PAGE) == z)
			p++;
		err = kr_ram_run(w, r, start, (uint32_t)(p - start), z);
		n_sent += p - start;
		if (z)
			n_zero += p - start;
	}
	if (sent)
		*sent = n_sent;
	if (zero)
		*zero = n_zero;
	return err;
}

int kr_ram_load(const void *payload, size_t len, const struct kr_ram_region *regions,
		unsigned int n, char *why, size_t why_len)
{
	const uint8_t *p = payload;
	uint64_t gpa, size;
	uint32_t pages, flags;
	unsigned int i;

	if (len < KR_RAM_HDR) {
		snprintf(why, why_len, "RAM section of %zu bytes: no header", len);
		return -EPROTO;
	}
	memcpy(&gpa, p, 8);
	memcpy(&pages, p + 8, 4);
	memcpy(&flags, p + 12, 4);
	gpa = le64toh(gpa);
	pages = le32toh(pages);
	flags = le32toh(flags);
	if (gpa % KR_RAM_PAGE || !pages || pages > KR_RAM_RUN || (flags & ~KR_RAM_ZERO)) {
		snprintf(why, why_len, "RAM section: gpa %#llx, %u pages, flags %#x: malformed",
			 (unsigned long long)gpa, pages, flags);
		return -EPROTO;
	}
	size = (uint64_t)pages * KR_RAM_PAGE;
	if (len != KR_RAM_HDR + ((flags & KR_RAM_ZERO) ? 0 : size)) {
		snprintf(why, why_len, "RAM section at gpa %#llx: %zu bytes for %u pages",
			 (unsigned long long)gpa, len, pages);
		return -EPROTO;
	}
	for (i = 0; i < n; i++) {
		const struct kr_ram_region *r = &regions[i];

		if (gpa < r->gpa || gpa - r->gpa >= r->size || size > r->size - (gpa - r->gpa))
			continue;
		if (flags & KR_RAM_ZERO) {
			/*
			 * Only pages not zero already: a fresh guest's untouched
			 * memory reads as the host's zero page, and stays
			 * unallocated when it is only read.
			 */
			for (uint64_t off = 0; off < size; off += KR_RAM_PAGE)
				if (!kr_page_zero(r->hva + (gpa - r->gpa) + off))
					memset(r->hva + (gpa - r->gpa) + off, 0, KR_RAM_PAGE);
		} else {
			memcpy(r->hva + (gpa - r->gpa), p + KR_RAM_HDR, size);
		}
		return 0;
	}
	snprintf(why, why_len, "RAM section: %u pages at gpa %#llx are not this VM's RAM",
		 pages, (unsigned long long)gpa);
	return -EPROTO;
}
