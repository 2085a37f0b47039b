// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the seed corpus of fuzz_trace.c (seeds.c).  Deterministic: `make
 * corpus` writes tests/corpus/trace/, and `make check` compares a fresh
 * run with what is committed there.
 *
 * Usage: gen_corpus DIR
 */
#include <stdio.h>
#include <stdlib.h>

#include "seeds.h"

int main(int argc, char **argv)
{
	unsigned int i;
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 1;
	}
	for (i = 0; i < KTR_SEEDS; i++) {
		char path[4096];
		size_t len;
		unsigned char *img = ktr_seed_image(i, &len);
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", argv[1], ktr_seed_name(i));
		f = fopen(path, "wb");
		if (!img || !f || fwrite(img, 1, len, f) != len || fclose(f)) {
			perror(path);
			bad = 1;
		}
		free(img);
	}
	return bad;
}
