// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the irq/ device models in userspace (lapic_test.c,
 * ioapic_test.c, pic_test.c,
 * pit_test.c): TAP output, one line per test, named <model>/<test>.
 */
#include "irq_test.h"

const char *cur;
int test_failed;
unsigned long nr_checks;

void shim_not_held(const char *file, int line)
{
	printf("# %s: %s:%d: lock not held\n", cur, file, line);
	test_failed = 1;
}

static const struct {
	const char *model;
	const struct irq_test *tests;
	const unsigned int *nr;
} suites[] = {
	{ "lapic", lapic_tests, &nr_lapic_tests },
	{ "ioapic", ioapic_tests, &nr_ioapic_tests },
	{ "pic", pic_tests, &nr_pic_tests },
	{ "pit", pit_tests, &nr_pit_tests },
};

int main(void)
{
	unsigned int s, i, n = 0, k = 0;
	int failures = 0;

	for (s = 0; s < ARRAY_SIZE(suites); s++)
		n += *suites[s].nr;
	printf("TAP version 13\n1..%u\n", n);
	for (s = 0; s < ARRAY_SIZE(suites); s++) {
		for (i = 0; i < *suites[s].nr; i++) {
			cur = suites[s].tests[i].name;
			test_failed = 0;
			suites[s].tests[i].fn();
			printf("%s %u %s/%s\n", test_failed ? "not ok" : "ok", ++k,
			       suites[s].model, cur);
			failures += test_failed;
		}
	}
	printf("# irq: %u tests, %lu checks, %d failed\n", n, nr_checks, failures);
	return failures ? 1 : 0;
}
