// SPDX-License-Identifier: GPL-2.0
/* khv-run: placeholder entry point while the machine is assembled. */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "khv-run: not yet\n");
	return 1;
}
