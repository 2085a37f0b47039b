// SPDX-License-Identifier: GPL-2.0
/* The fuzzer's random numbers: splitmix64, and boundary values. */
#include "fuzz.h"

uint64_t fuzz_next(struct fuzz_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t fuzz_below(struct fuzz_rng *r, uint64_t n)
{
	return n ? fuzz_next(r) % n : 0;
}

bool fuzz_chance(struct fuzz_rng *r, unsigned int percent)
{
	return fuzz_below(r, 100) < percent;
}

/*
 * Values where validation code tends to be wrong: the ends of every
 * integer width, powers of two and their neighbours, page and 2 MiB edges,
 * canonical-address edges; sometimes plain random bits.
 */
uint64_t fuzz_value(struct fuzz_rng *r)
{
	static const uint64_t edges[] = {
		0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
		0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull, 0xfff, 0x1000,
		0x1fffff, 0x200000, 0x00007fffffffffffull, 0x0000800000000000ull,
		0xffff800000000000ull, 0x00ffffffffffffffull, 0xfee00000, 0xfec00000,
	};
	uint64_t v;

	switch (fuzz_below(r, 4)) {
	case 0:
		return edges[fuzz_below(r, sizeof(edges) / sizeof(edges[0]))];
	case 1:
		v = 1ull << fuzz_below(r, 64);
		return v + fuzz_below(r, 3) - 1;
	case 2:
		return fuzz_below(r, 0x10000);
	default:
		return fuzz_next(r);
	}
}

void fuzz_bytes(struct fuzz_rng *r, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)fuzz_next(r);
}
