/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tools' unit-test harness (unit.c is its runner): UNIT_TEST(name)
 * { ... } declares a group, which registers itself (a constructor), so
 * adding a file adds its tests; each CHECK is one check, a group fails
 * when one of its checks does.  Output is TAP, one line per group, then a
 * summary.  khv-run's and khv-top's tests/t.h name it KR_TEST and KT_TEST.
 */
#ifndef KHV_TOOLS_UNIT_H
#define KHV_TOOLS_UNIT_H

#include <stdint.h>
#include <stdio.h>

void t_check(int ok, const char *expr, const char *file, int line);
void t_check_eq(unsigned long long a, unsigned long long b, const char *ea, const char *eb,
		const char *file, int line);
void t_check_near(double a, double b, double tol, const char *ea, const char *eb,
		  const char *file, int line);
void t_check_str(const char *a, const char *b, const char *ea, const char *file, int line);
void t_register(const char *name, void (*fn)(void));
/* Open file descriptors of this process (leak checks). */
int t_count_fds(void);
/* A whole file, with a NUL after it (free() it), its size in *len if len; NULL on error. */
char *t_read_file(const char *path, size_t *len);

#define CHECK(c)		t_check(!!(c), #c, __FILE__, __LINE__)
/* As 64-bit patterns: give both sides the same signedness. */
#define CHECK_EQ(a, b)		t_check_eq((unsigned long long)(a), (unsigned long long)(b), \
					   #a, #b, __FILE__, __LINE__)
#define CHECK_NEAR(a, b, tol)	t_check_near((a), (b), (tol), #a, #b, __FILE__, __LINE__)
#define CHECK_STR(a, b)		t_check_str((a), (b), #a, __FILE__, __LINE__)

#define UNIT_TEST(name)							\
	static void t_##name(void);					\
	__attribute__((constructor)) static void t_reg_##name(void)	\
	{								\
		t_register(#name, t_##name);				\
	}								\
	static void t_##name(void)

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#endif /* KHV_TOOLS_UNIT_H */
