// SPDX-License-Identifier: GPL-2.0
/*
 * The unit-test runner of the tools (khv-run, khv-top): every registered
 * group, or those named on the command line, in name order; TAP, one line
 * per group with its number of checks, and a "N passed, M failed" summary.
 */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define T_MAX_GROUPS	512

static struct {
	const char *name;
	void (*fn)(void);
} groups[T_MAX_GROUPS];
static unsigned int n_groups, passed, failed;

void t_register(const char *name, void (*fn)(void))
{
	if (n_groups == T_MAX_GROUPS) {
		fprintf(stderr, "too many test groups\n");
		abort();
	}
	groups[n_groups].name = name;
	groups[n_groups++].fn = fn;
}

void t_check(int ok, const char *expr, const char *file, int line)
{
	if (ok) {
		passed++;
		return;
	}
	failed++;
	printf("#   FAILED %s:%d: %s\n", file, line, expr);
}

void t_check_eq(unsigned long long a, unsigned long long b, const char *ea, const char *eb,
		const char *file, int line)
{
	if (a == b) {
		passed++;
		return;
	}
	failed++;
	printf("#   FAILED %s:%d: %s == %s: %lld (0x%llx) != %lld (0x%llx)\n", file, line, ea, eb,
	       (long long)a, a, (long long)b, b);
}

void t_check_near(double a, double b, double tol, const char *ea, const char *eb,
		  const char *file, int line)
{
	if (fabs(a - b) <= tol) {
		passed++;
		return;
	}
	failed++;
	printf("#   FAILED %s:%d: %s ~ %s: %.9g != %.9g (within %g)\n", file, line, ea, eb, a, b,
	       tol);
}

void t_check_str(const char *a, const char *b, const char *ea, const char *file, int line)
{
	if (a && b && !strcmp(a, b)) {
		passed++;
		return;
	}
	failed++;
	printf("#   FAILED %s:%d: %s:\n#     got  \"%s\"\n#     want \"%s\"\n", file, line, ea,
	       a ? a : "(null)", b ? b : "(null)");
}

int t_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own */
}

char *t_read_file(const char *path, size_t *len)
{
	char *buf = NULL;
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET)) {
		buf = calloc(1, (size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		if (buf && len)
			*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

static int cmp_group(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int wanted(const char *name, int argc, char **argv)
{
	int i;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int i, n = 0, bad = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Constructors run in link order: sorted, the report is stable. */
	qsort(groups, n_groups, sizeof(groups[0]), cmp_group);
	for (i = 0; i < n_groups; i++)
		n += wanted(groups[i].name, argc, argv);
	printf("1..%u\n", n);
	n = 0;
	for (i = 0; i < n_groups; i++) {
		unsigned int f0 = failed, p0 = passed;

		if (!wanted(groups[i].name, argc, argv))
			continue;
		groups[i].fn();
		n++;
		if (failed != f0)
			bad++;
		printf("%s %u - %s (%u checks)\n", failed == f0 ? "ok" : "not ok", n,
		       groups[i].name, passed - p0 + failed - f0);
	}
	printf("# %u passed, %u failed (checks); %u groups, %u failed\n", passed, failed, n, bad);
	return failed ? 1 : 0;
}
