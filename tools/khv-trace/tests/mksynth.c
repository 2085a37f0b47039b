// SPDX-License-Identifier: GPL-2.0
/*
 * Writes synthetic trace files for the end-to-end test (e2e.sh) and for
 * trying the report by hand:
 *   mksynth workload FILE [VCPUS SECONDS RATE]   a VM at work (synth.c)
 *   mksynth empty FILE                           nothing recorded
 *   mksynth processes FILE                       two VMMs, every VM recorded
 *   mksynth incomplete FILE                      a recorder that died
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../trace_file.h"
#include "synth.h"

static int write_image(const struct synth *s, const char *path)
{
	size_t len;
	unsigned char *img = ktr_image(&s->t, &len);
	FILE *f = fopen(path, "wb");
	int bad = !img || !f || fwrite(img, 1, len, f) != len;

	if (f && fclose(f))
		bad = 1;
	free(img);
	if (bad)
		perror(path);
	return bad;
}

int main(int argc, char **argv)
{
	struct synth s;
	int r;

	if (argc < 3) {
		fprintf(stderr, "usage: mksynth workload|empty|processes|incomplete FILE [VCPUS SECONDS RATE]\n");
		return 2;
	}
	sy_init(&s, SY_START, SY_START + 2000 * SY_MS);
	if (!strcmp(argv[1], "workload")) {
		unsigned int v = argc > 3 ? (unsigned int)atoi(argv[3]) : 4;
		double secs = argc > 4 ? atof(argv[4]) : 2.0, rate = argc > 5 ? atof(argv[5]) : 2000;

		s.t.h.pid = 4242;
		snprintf(s.t.h.comm, sizeof(s.t.h.comm), "khv-run");
		sy_proc(&s, 4242, "khv-run");
		sy_workload(&s, 4242, v, secs, rate, 1);
	} else if (!strcmp(argv[1], "empty")) {
		s.t.h.pid = 4242;
		snprintf(s.t.h.comm, sizeof(s.t.h.comm), "khv-run");
	} else if (!strcmp(argv[1], "processes")) {
		sy_proc(&s, 4242, "khv-run");
		sy_proc(&s, 5151, "vmm<&>#2");
		sy_workload(&s, 4242, 2, 1.0, 1500, 2);
		sy_workload(&s, 5151, 1, 1.0, 800, 3);
	} else if (!strcmp(argv[1], "incomplete")) {
		sy_workload(&s, 4242, 1, 0.01, 1000, 1);
		s.t.h.flags = 0;
	} else {
		fprintf(stderr, "mksynth: unknown kind %s\n", argv[1]);
		return 2;
	}
	r = write_image(&s, argv[2]);
	sy_free(&s);
	return r;
}
