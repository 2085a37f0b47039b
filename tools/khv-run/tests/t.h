/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khv-run's unit-test harness.  Each test file declares its groups with
 * KR_TEST(name) { ... }; they register themselves (a constructor), so
 * adding a file adds its tests.  Each CHECK counts as one check; a group
 * fails when any of its checks does.  Output is TAP: one line per group.
 * Tests run under ASan and UBSan (Makefile) and need no /dev/khv.
 */
#ifndef KHV_RUN_T_H
#define KHV_RUN_T_H

#include <stdint.h>
#include <stdio.h>

void t_check(int ok, const char *expr, const char *file, int line);
void t_check_eq(unsigned long long a, unsigned long long b, const char *ea, const char *eb,
		const char *file, int line);
void t_check_str(const char *a, const char *b, const char *ea, const char *file, int line);
void t_register(const char *name, void (*fn)(void));

#define CHECK(c)	t_check(!!(c), #c, __FILE__, __LINE__)
/* Compares as 64-bit patterns: pass same-signedness values. */
#define CHECK_EQ(a, b)	t_check_eq((unsigned long long)(a), (unsigned long long)(b), \
				   #a, #b, __FILE__, __LINE__)
#define CHECK_STR(a, b)	t_check_str((a), (b), #a, __FILE__, __LINE__)

#define KR_TEST(name)							\
	static void t_##name(void);					\
	__attribute__((constructor)) static void t_reg_##name(void)	\
	{								\
		t_register(#name, t_##name);				\
	}								\
	static void t_##name(void)

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* Number of open file descriptors of this process (to catch leaks). */
int t_count_fds(void);

#endif
