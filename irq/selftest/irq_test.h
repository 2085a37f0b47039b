/* SPDX-License-Identifier: GPL-2.0 */
/* The irq/ unit tests' harness: checks that report and go on, test tables. */
#ifndef KHV_IRQ_TEST_H
#define KHV_IRQ_TEST_H

#include <stdio.h>

#include "shim.h"

extern const char *cur;
extern int test_failed;
extern unsigned long nr_checks;

#define CHECK(cond, ...) do {						\
	nr_checks++;							\
	if (!(cond)) {							\
		printf("# %s: %s:%d: %s: ", cur, __FILE__, __LINE__, #cond);	\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		test_failed = 1;					\
	}								\
} while (0)
#define CHECK_EQ(a, b) do {						\
	unsigned long long _a = (a), _b = (b);				\
	CHECK(_a == _b, "0x%llx != 0x%llx", _a, _b);			\
} while (0)

struct irq_test {
	const char *name;
	void (*fn)(void);
};

extern const struct irq_test lapic_tests[], ioapic_tests[], pic_tests[], pit_tests[];
extern const unsigned int nr_lapic_tests, nr_ioapic_tests, nr_pic_tests, nr_pit_tests;

#endif
