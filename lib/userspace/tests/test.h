/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A minimal test harness for libkhv's unit tests: each CHECK counts as one
 * test; failures print file:line and the values; main() prints a summary
 * and the final "N passed, M failed" line.
 */
#ifndef LIBKHV_TEST_H
#define LIBKHV_TEST_H

#include <stdint.h>
#include <stdio.h>

#include "libkhv.h"

void t_check(int ok, const char *expr, const char *file, int line);
void t_check_eq(unsigned long long a, unsigned long long b, const char *ea,
		const char *eb, const char *file, int line);
void t_check_str(const char *a, const char *b, const char *ea, const char *file, int line);

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define CHECK(c)	t_check(!!(c), #c, __FILE__, __LINE__)
/* Compares as 64-bit patterns: pass same-signedness values (ints with ints). */
#define CHECK_EQ(a, b)	t_check_eq((unsigned long long)(a), (unsigned long long)(b), \
				   #a, #b, __FILE__, __LINE__)
#define CHECK_STR(a, b)	t_check_str((a), (b), #a, __FILE__, __LINE__)

/* Test groups, one per file. */
void test_layout(void);
void test_ioctl_numbers(void);
void test_args(void);
void test_open(void);
void test_fake_device(void);
void test_sregs(void);
void test_idmap(void);
void test_names(void);
void test_stats(void);

/* Number of open file descriptors of this process (to catch leaks). */
int t_count_fds(void);

#endif /* LIBKHV_TEST_H */
