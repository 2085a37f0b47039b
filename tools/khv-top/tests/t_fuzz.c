// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_stats.c without libFuzzer: its corpus (tests/corpus/stats/, which
 * must be what gen_corpus writes), every truncation of each seed, and
 * mutated seeds - header fields and descriptor fields set to edge values,
 * random byte flips - all through LLVMFuzzerTestOneInput(), which aborts
 * on a broken invariant.  Some mutants must be refused and some accepted.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "libkhv.h"
#include "t.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef KT_CORPUS_DIR
#define KT_CORPUS_DIR "tests/corpus/stats"
#endif

static unsigned int accepted, refused;

/* Runs the target on a copy (ASan catches any read past size) and tallies. */
static void run(const unsigned char *img, size_t len)
{
	unsigned char *copy = malloc(len ? len : 1);
	struct khv_stats st;

	if (!copy)
		abort();
	memcpy(copy, img, len);
	LLVMFuzzerTestOneInput(copy, len);
	if (khv_stats_parse(&st, copy, len)) {
		refused++;
	} else {
		accepted++;
		khv_stats_close(&st);
	}
	free(copy);
}

/* The committed corpus: each file is one of the seeds, byte for byte. */
KT_TEST(fuzz_corpus_replay)
{
	unsigned int i, files = 0;
	DIR *d = opendir(KT_CORPUS_DIR);
	struct dirent *e;

	CHECK(d != NULL);
	while (d && (e = readdir(d))) {
		char path[4096];
		unsigned char *buf, *want;
		size_t len = 0, want_len;
		struct ki k;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", KT_CORPUS_DIR, e->d_name);
		buf = (unsigned char *)t_read_file(path, &len);
		CHECK(buf != NULL);
		if (!buf)
			continue;
		accepted = refused = 0;
		run(buf, len);
		CHECK_EQ(accepted, 1);
		for (i = 0; i < KC_SEEDS; i++)
			if (!strcmp(e->d_name, kc_seed_name(i)))
				break;
		CHECK(i < KC_SEEDS);
		if (i < KC_SEEDS) {
			kc_seed(&k, i);
			want = ki_image(&k, &want_len);
			CHECK(want_len == len && !memcmp(want, buf, len));
			free(want);
			ki_free(&k);
		}
		free(buf);
		files++;
	}
	if (d)
		closedir(d);
	CHECK_EQ(files, KC_SEEDS);
}

/* Every length short of the whole file is refused (the data is needed too). */
KT_TEST(fuzz_truncated)
{
	unsigned int i;

	for (i = 0; i < KC_SEEDS; i++) {
		unsigned char *img;
		size_t len, n;
		struct ki k;

		kc_seed(&k, i);
		img = ki_image(&k, &len);
		accepted = refused = 0;
		for (n = 0; n < len; n++)
			run(img, n);
		CHECK_EQ(refused, len);
		CHECK_EQ(accepted, 0);
		free(img);
		ki_free(&k);
	}
}

static void put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* Header and descriptor fields at edge values. */
KT_TEST(fuzz_fields)
{
	static const uint64_t edges[] = {
		0, 1, 7, 8, 40, 64, 65, 72, 88, 0x7fffffff, 0x80000000ull, 0xffffffffull,
		0x100000000ull, 64ull << 20, UINT64_MAX, UINT64_MAX - 7,
	};
	static const struct {
		size_t off;
		int size;
	} hdr[] = {
		{ offsetof(struct khv_stats_header, magic), 4 },
		{ offsetof(struct khv_stats_header, version), 4 },
		{ offsetof(struct khv_stats_header, header_size), 4 },
		{ offsetof(struct khv_stats_header, desc_size), 4 },
		{ offsetof(struct khv_stats_header, num_desc), 4 },
		{ offsetof(struct khv_stats_header, flags), 4 },
		{ offsetof(struct khv_stats_header, desc_offset), 8 },
		{ offsetof(struct khv_stats_header, data_offset), 8 },
		{ offsetof(struct khv_stats_header, data_size), 8 },
	};
	static const struct {
		size_t off;
		int size;
	} desc[] = {
		{ offsetof(struct khv_stats_desc, flags), 4 },
		{ offsetof(struct khv_stats_desc, count), 4 },
		{ offsetof(struct khv_stats_desc, offset), 8 },
		{ offsetof(struct khv_stats_desc, code), 4 },
	};
	unsigned int s, f, e, i;

	accepted = refused = 0;
	for (s = 0; s < KC_SEEDS; s++) {
		unsigned char *img, *mut;
		size_t len;
		struct ki k;

		kc_seed(&k, s);
		img = ki_image(&k, &len);
		mut = malloc(len);
		if (!mut)
			abort();
		for (f = 0; f < ARRAY_SIZE(hdr); f++)
			for (e = 0; e < ARRAY_SIZE(edges); e++) {
				memcpy(mut, img, len);
				if (hdr[f].size == 4)
					put32(mut + hdr[f].off, (uint32_t)edges[e]);
				else
					put64(mut + hdr[f].off, edges[e]);
				run(mut, len);
			}
		/* The first, a middle and the last descriptor; then flag values. */
		for (i = 0; i < k.nd; i += k.nd > 2 ? (k.nd - 1) / 2 : 1) {
			size_t at = k.header_size + (size_t)i * k.desc_size;

			for (f = 0; f < ARRAY_SIZE(desc); f++)
				for (e = 0; e < ARRAY_SIZE(edges); e++) {
					memcpy(mut, img, len);
					if (desc[f].size == 4)
						put32(mut + at + desc[f].off, (uint32_t)edges[e]);
					else
						put64(mut + at + desc[f].off, edges[e]);
					run(mut, len);
				}
			for (e = 0; e < 0x1000; e += 0x11) {
				memcpy(mut, img, len);
				put32(mut + at + offsetof(struct khv_stats_desc, flags), e);
				run(mut, len);
			}
			/* A name without its NUL, an empty one. */
			memcpy(mut, img, len);
			memset(mut + at + offsetof(struct khv_stats_desc, name), 'x', KHV_STATS_NAME_SIZE);
			run(mut, len);
			mut[at + offsetof(struct khv_stats_desc, name)] = '\0';
			run(mut, len);
		}
		free(mut);
		free(img);
		ki_free(&k);
	}
	CHECK(accepted > 100);
	CHECK(refused > 1000);
}

/* Random flips: mostly in the header and descriptors, where meaning is. */
KT_TEST(fuzz_flips)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned int s, round, j;
	unsigned int data_ok = 1;

	accepted = refused = 0;
	for (s = 0; s < KC_SEEDS; s++) {
		unsigned char *img, *mut;
		size_t len, meta;
		struct ki k;

		kc_seed(&k, s);
		img = ki_image(&k, &len);
		meta = ki_data_offset(&k);
		mut = malloc(len);
		if (!mut)
			abort();
		for (round = 0; round < 1500; round++) {
			unsigned int flips = 1 + round % 4;
			bool data_only = round % 5 == 4;

			memcpy(mut, img, len);
			for (j = 0; j < flips; j++) {
				size_t at;

				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				if (data_only)
					at = meta + x % (len - meta);
				else
					at = (x >> 8) % (round % 2 ? meta : len);
				mut[at] ^= (unsigned char)(1u << (x >> 40) % 8);
			}
			if (data_only) {
				/* Values are free: such a file is always taken. */
				unsigned int before = accepted;

				run(mut, len);
				data_ok &= accepted == before + 1;
			} else {
				run(mut, len);
			}
		}
		free(mut);
		free(img);
		ki_free(&k);
	}
	CHECK(data_ok);
	CHECK(accepted > 1000);
	CHECK(refused > 100);
}
