/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The seed images of the fuzz corpus (tests/corpus/stats/, written by
 * gen_corpus.c), also built in memory by the unit tests.
 */
#ifndef KHV_TOP_TESTS_CORPUS_H
#define KHV_TOP_TESTS_CORPUS_H

#include "image.h"

enum {
	KC_VM_SVM,	/* a VM's file, AMD names, 2 vCPUs, some traffic */
	KC_VM_VMX,	/* Intel names, 4 vCPUs, exit_timing off */
	KC_VCPU,	/* a vCPU's file */
	KC_FUTURE,	/* bigger header and descriptors, names not known yet */
	KC_MINIMAL,	/* one exit reason, its count and a 2-bucket histogram */
	KC_GONE,	/* "alive" 0 */
	KC_SEEDS
};

/* Seed i, built into k (ki_free() it). */
void kc_seed(struct ki *k, unsigned int i);
const char *kc_seed_name(unsigned int i);

#endif /* KHV_TOP_TESTS_CORPUS_H */
