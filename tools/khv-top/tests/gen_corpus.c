// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the seed corpus of fuzz_stats.c: statistics files as the kernel
 * makes them, and a few a later khv or an odd one could.  Deterministic:
 * `make corpus` writes tests/corpus/stats/, and `make check` compares a
 * fresh run with what is committed there.
 *
 * Usage: gen_corpus DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"

static int write_file(const char *dir, const char *name, const unsigned char *img, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(img, 1, len, f) != len || fclose(f)) {
		perror(path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int i;
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 1;
	}
	for (i = 0; i < KC_SEEDS; i++) {
		struct ki k;
		unsigned char *img;
		size_t len;

		kc_seed(&k, i);
		img = ki_image(&k, &len);
		bad |= write_file(argv[1], kc_seed_name(i), img, len);
		free(img);
		ki_free(&k);
	}
	return bad;
}
