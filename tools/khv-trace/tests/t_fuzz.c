// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_trace.c without libFuzzer: its corpus (tests/corpus/trace/, which
 * must be what gen_corpus writes), every truncation of each seed, and
 * mutated seeds (header and record fields set to edge values, random byte
 * flips), all through LLVMFuzzerTestOneInput(), which aborts on a broken
 * invariant.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "seeds.h"
#include "t.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef KTR_CORPUS_DIR
#define KTR_CORPUS_DIR "tests/corpus/trace"
#endif

static unsigned int runs;

static void run(const unsigned char *img, size_t len)
{
	unsigned char *copy = malloc(len ? len : 1);

	if (!copy)
		abort();
	memcpy(copy, img, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
	runs++;
}

KTR_TEST(fuzz_corpus_replay)
{
	unsigned int i, files = 0;
	DIR *d = opendir(KTR_CORPUS_DIR);
	struct dirent *e;

	CHECK(d != NULL);
	while (d && (e = readdir(d))) {
		char path[4096];
		unsigned char *buf, *want = NULL;
		size_t len = 0, want_len = 0;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", KTR_CORPUS_DIR, e->d_name);
		buf = (unsigned char *)t_read_file(path, &len);
		CHECK(buf != NULL);
		for (i = 0; i < KTR_SEEDS; i++)
			if (!strcmp(e->d_name, ktr_seed_name(i)))
				want = ktr_seed_image(i, &want_len);
		CHECK(want != NULL);
		CHECK(want && buf && want_len == len && !memcmp(want, buf, len));
		if (buf)
			run(buf, len);
		free(buf);
		free(want);
		files++;
	}
	if (d)
		closedir(d);
	CHECK_EQ(files, KTR_SEEDS);
}

KTR_TEST(fuzz_truncated)
{
	unsigned int i;
	size_t len, cut;

	runs = 0;
	for (i = 0; i < KTR_SEEDS; i++) {
		unsigned char *img = ktr_seed_image(i, &len);

		for (cut = 0; cut <= len; cut += cut < 300 ? 1 : 61)
			run(img, cut);
		free(img);
	}
	CHECK(runs > 1000);
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ull;
}

/* Header and record fields set to edges; then bytes flipped at random. */
KTR_TEST(fuzz_flips)
{
	static const uint64_t edges[] = { 0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff,
					  ~0ull, 1ull << 63 };
	static const unsigned int widths[] = { 1, 2, 4, 8 };
	uint64_t x = 12345;
	unsigned int i, f, e, w;
	size_t len, off;

	runs = 0;
	for (i = 0; i < KTR_SEEDS; i++) {
		unsigned char *img = ktr_seed_image(i, &len), *c = malloc(len);

		for (off = 0; off + 8 <= len && off < 512; off += 4) {
			for (e = 0; e < sizeof(edges) / sizeof(edges[0]); e++) {
				w = widths[(off / 4 + e) % 4];
				memcpy(c, img, len);
				memcpy(c + off, &edges[e], w);
				run(c, len);
			}
		}
		for (f = 0; f < 300; f++) {
			memcpy(c, img, len);
			for (e = 0; e < 1 + f % 4; e++)
				c[rnd(&x) % len] ^= (unsigned char)(1u << (rnd(&x) % 8));
			run(c, len);
		}
		free(c);
		free(img);
	}
	CHECK(runs > 3000);
}
