/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The replay main() of khv-run's fuzz targets (tests/fuzz_*.c): built with
 * -DKR_FUZZ_REPLAY instead of clang's -fsanitize=fuzzer, a target runs
 * LLVMFuzzerTestOneInput once on each file named on its command line (a
 * crash found by libFuzzer, under gdb).  Included last by each target; a
 * target with state to release defines KR_FUZZ_REPLAY_END first.
 */
#ifdef KR_FUZZ_REPLAY
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf;
		long n;

		if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
			perror(argv[i]);
			return 1;
		}
		buf = malloc(n ? n : 1);
		if (!buf || fread(buf, 1, n, f) != (size_t)n) {
			perror(argv[i]);
			return 1;
		}
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
		free(buf);
	}
#ifdef KR_FUZZ_REPLAY_END
	KR_FUZZ_REPLAY_END;
#endif
	printf("%d inputs replayed\n", argc - 1);
	return 0;
}
#endif
