// SPDX-License-Identifier: LGPL-2.1-or-later
/* libkhv unit tests: runs every group and prints the summary. */
#include <dirent.h>
#include <string.h>

#include "test.h"

static unsigned int passed, failed;

void t_check(int ok, const char *expr, const char *file, int line)
{
	if (ok) {
		passed++;
		return;
	}
	failed++;
	printf("#   FAILED %s:%d: %s\n", file, line, expr);
}

void t_check_eq(unsigned long long a, unsigned long long b, const char *ea,
		const char *eb, const char *file, int line)
{
	if (a == b) {
		passed++;
		return;
	}
	failed++;
	printf("#   FAILED %s:%d: %s == %s: %lld (0x%llx) != %lld (0x%llx)\n",
	       file, line, ea, eb, (long long)a, a, (long long)b, b);
}

void t_check_str(const char *a, const char *b, const char *ea, const char *file, int line)
{
	if (a && b && !strcmp(a, b)) {
		passed++;
		return;
	}
	failed++;
	printf("#   FAILED %s:%d: %s: \"%s\" != \"%s\"\n", file, line, ea,
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
	return n - 1;	/* the directory's own fd */
}

static const struct {
	const char *name;
	void (*fn)(void);
} groups[] = {
	{ "struct layout", test_layout },
	{ "ioctl numbers", test_ioctl_numbers },
	{ "argument checks", test_args },
	{ "khv_open", test_open },
	{ "fake device", test_fake_device },
	{ "sregs helpers", test_sregs },
	{ "identity map", test_idmap },
	{ "names and strerror", test_names },
	{ "statistics files", test_stats },
};

int main(void)
{
	unsigned int i, p0, f0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%zu\n", ARRAY_SIZE(groups));
	for (i = 0; i < ARRAY_SIZE(groups); i++) {
		p0 = passed;
		f0 = failed;
		groups[i].fn();
		printf("%s %u - %s (%u checks%s)\n", failed == f0 ? "ok" : "not ok", i + 1,
		       groups[i].name, passed - p0 + failed - f0,
		       failed == f0 ? "" : ", some failed");
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
