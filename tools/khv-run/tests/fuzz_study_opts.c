// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target of the --study option (study.c, kr_study_parse): the bytes
 * are the option string (cut at the first NUL, as argv would).
 *
 * Checked beyond the sanitizers: a refusal is -EINVAL with one printable
 * "--study..." line; an accepted option is consistent (known events only,
 * at most 16 distinct leaves, MSRs and ports, each list entry's event
 * asked for, CR_WRITE with a CR or every CR, only CRs 0, 3, 4 and 8,
 * EXCEPTION with a vector or every vector, only those of
 * KHV_STUDY_EXCEPTIONS) and gives a struct khv_study that khv's own checks
 * accept
 * (core/study.c, khv_study_check); its canonical form (kr_study_format) is
 * accepted again and means the same.
 *
 * Built with clang -fsanitize=fuzzer; with -DKR_FUZZ_REPLAY instead, a main()
 * runs each file named on the command line once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../study.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct kr_study *a, const struct kr_study *b)
{
	return a->events == b->events && a->cpuid_all == b->cpuid_all &&
	       a->rdmsr_all == b->rdmsr_all && a->wrmsr_all == b->wrmsr_all &&
	       a->nr_cpuid == b->nr_cpuid && a->nr_msrs == b->nr_msrs &&
	       !memcmp(a->cpuid, b->cpuid, a->nr_cpuid * sizeof(a->cpuid[0])) &&
	       !memcmp(a->msrs, b->msrs, a->nr_msrs * sizeof(a->msrs[0])) &&
	       !memcmp(a->msr_ev, b->msr_ev, a->nr_msrs) &&
	       a->cr_all == b->cr_all && a->cr_write == b->cr_write &&
	       a->io_all == b->io_all && a->nr_ports == b->nr_ports &&
	       !memcmp(a->ports, b->ports, a->nr_ports * sizeof(a->ports[0])) &&
	       a->exc_all == b->exc_all && a->exceptions == b->exceptions;
}

static bool distinct16(const uint16_t *list, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = i + 1; j < n; j++)
			if (list[i] == list[j])
				return false;
	return true;
}

static bool distinct(const uint32_t *list, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = i + 1; j < n; j++)
			if (list[i] == list[j])
				return false;
	return true;
}

#define CRS	(KHV_STUDY_CR0 | KHV_STUDY_CR3 | KHV_STUDY_CR4 | KHV_STUDY_CR8)

static void check_ok(const struct kr_study *s)
{
	bool rd = s->rdmsr_all, wr = s->wrmsr_all;
	struct khv_study k;

	if (!s->events || (s->events & ~(uint64_t)KHV_STUDY_ALL))
		abort();
	if (s->nr_cpuid > KHV_STUDY_MAX_LIST || s->nr_msrs > KHV_STUDY_MAX_LIST ||
	    !distinct(s->cpuid, s->nr_cpuid) || !distinct(s->msrs, s->nr_msrs))
		abort();
	if (!!(s->events & KHV_STUDY_CPUID) != (s->cpuid_all || s->nr_cpuid))
		abort();
	for (unsigned int i = 0; i < s->nr_msrs; i++) {
		if (!s->msr_ev[i] || (s->msr_ev[i] & ~(KR_STUDY_RD | KR_STUDY_WR)))
			abort();
		rd |= !!(s->msr_ev[i] & KR_STUDY_RD);
		wr |= !!(s->msr_ev[i] & KR_STUDY_WR);
	}
	if (rd != !!(s->events & KHV_STUDY_RDMSR) || wr != !!(s->events & KHV_STUDY_WRMSR))
		abort();
	if ((s->cr_write & ~CRS) ||
	    !!(s->events & KHV_STUDY_CR_WRITE) != (s->cr_all || s->cr_write))
		abort();
	if (s->nr_ports > KHV_STUDY_MAX_LIST || !distinct16(s->ports, s->nr_ports) ||
	    !!(s->events & KHV_STUDY_IO) != (s->io_all || s->nr_ports))
		abort();
	if ((s->exceptions & ~KHV_STUDY_EXCEPTIONS) ||
	    !!(s->events & KHV_STUDY_EXCEPTION) != (s->exc_all || s->exceptions))
		abort();

	/* What khv_study_check() refuses, khv-run never asks. */
	kr_study_request(s, &k);
	if (k.events != s->events || k.nr_cpuid > KHV_STUDY_MAX_LIST ||
	    k.nr_msrs > KHV_STUDY_MAX_LIST || k.nr_ports > KHV_STUDY_MAX_LIST ||
	    (k.cr_write & ~CRS) || (k.exceptions & ~KHV_STUDY_EXCEPTIONS) || k.reserved32)
		abort();
	if ((k.nr_cpuid && !(k.events & KHV_STUDY_CPUID)) ||
	    (k.nr_msrs && !(k.events & (KHV_STUDY_RDMSR | KHV_STUDY_WRMSR))) ||
	    (k.cr_write && !(k.events & KHV_STUDY_CR_WRITE)) ||
	    (k.nr_ports && !(k.events & KHV_STUDY_IO)) ||
	    (k.exceptions && !(k.events & KHV_STUDY_EXCEPTION)))
		abort();
	/* Every CR, port or vector asked: khv's "every one", 0; else just what was named. */
	if (k.cr_write != (s->cr_all ? 0 : s->cr_write) ||
	    k.exceptions != (s->exc_all ? 0 : s->exceptions) ||
	    k.nr_ports != (s->io_all ? 0 : s->nr_ports) ||
	    memcmp(k.ports, s->ports, k.nr_ports * sizeof(k.ports[0])))
		abort();
	for (unsigned int i = k.nr_cpuid; i < KHV_STUDY_MAX_LIST; i++)
		if (k.cpuid[i])
			abort();
	for (unsigned int i = k.nr_msrs; i < KHV_STUDY_MAX_LIST; i++)
		if (k.msrs[i])
			abort();
	for (unsigned int i = k.nr_ports; i < KHV_STUDY_MAX_LIST; i++)
		if (k.ports[i])
			abort();
	for (unsigned int i = 0; i < sizeof(k.reserved) / sizeof(k.reserved[0]); i++)
		if (k.reserved[i])
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kr_study s, again;
	static char canon[2048];
	char *arg = malloc(size + 1), why[256];
	int err;

	if (!arg)
		return 0;
	memcpy(arg, data, size);
	arg[size] = 0;
	memset(why, 0x5a, sizeof(why));
	memset(&s, 0, sizeof(s));
	err = kr_study_parse(arg, &s, why, sizeof(why));
	if (err) {
		if (err != -EINVAL || !memchr(why, 0, sizeof(why)) || strncmp(why, "--study", 7))
			abort();
		for (const char *p = why; *p; p++)
			if (*p < ' ' || *p >= 0x7f)
				abort();
	} else {
		check_ok(&s);
		if ((size_t)kr_study_format(&s, canon, sizeof(canon)) >= sizeof(canon))
			abort();
		memset(&again, 0, sizeof(again));
		if (kr_study_parse(canon, &again, why, sizeof(why)) || !same(&s, &again))
			abort();
	}
	free(arg);
	return 0;
}

#include "fuzz_replay.h"
