/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzz target's seed corpus (tests/corpus/trace/): files as the
 * recorder writes them, made from synthetic traces.  gen_corpus writes
 * them; the unit tests check the committed ones are these, byte for byte.
 */
#ifndef KHV_TRACE_SEEDS_H
#define KHV_TRACE_SEEDS_H

#include <stddef.h>

#define KTR_SEEDS	8

const char *ktr_seed_name(unsigned int i);
/* The seed's file image, malloc'ed. */
unsigned char *ktr_seed_image(unsigned int i, size_t *len);

#endif /* KHV_TRACE_SEEDS_H */
