// SPDX-License-Identifier: GPL-2.0
/* The seed corpus (seeds.h). */
#include <stdio.h>
#include <stdlib.h>

#include "seeds.h"
#include "synth.h"

static const char *const names[KTR_SEEDS] = {
	"empty", "one-exit", "basic", "processes", "lost", "handle-ns", "workload", "odd",
};

const char *ktr_seed_name(unsigned int i)
{
	return i < KTR_SEEDS ? names[i] : NULL;
}

static void build(struct synth *s, unsigned int i)
{
	uint16_t msr, io, hlt;

	sy_init(s, SY_START, SY_START + SY_MS);
	switch (i) {
	case 0:		/* nothing recorded */
		break;
	case 1:
		msr = sy_name(s, 0x7c, "svm_msr");
		sy_entry(s, 7, 0, 10 * SY_US);
		sy_exit(s, 7, 0, 20 * SY_US, msr, 1);
		sy_entry(s, 7, 0, 25 * SY_US);
		sy_proc(s, 7, "khv-run");
		s->t.h.pid = 7;
		snprintf(s->t.h.comm, sizeof(s->t.h.comm), "khv-run");
		break;
	case 2:		/* every event type, one vCPU */
		msr = sy_name(s, 0x7c, "svm_msr");
		io = sy_name(s, 0x7b, "svm_ioio");
		hlt = sy_name(s, 0x78, "svm_hlt");
		sy_entry(s, 7, 0, 100 * SY_US);
		sy_exit(s, 7, 0, 200 * SY_US, msr, 1);
		sy_entry(s, 7, 0, 210 * SY_US);
		sy_exit(s, 7, 0, 300 * SY_US, io, 0);
		sy_uexit(s, 7, 0, 302 * SY_US, 1, 0);
		sy_entry(s, 7, 0, 352 * SY_US);
		sy_exit(s, 7, 0, 400 * SY_US, hlt, 1);
		sy_halt(s, 7, 0, 403 * SY_US, 0);
		sy_halt(s, 7, 0, 603 * SY_US, 1);
		sy_entry(s, 7, 0, 606 * SY_US);
		sy_exit(s, 7, 0, 900 * SY_US, msr, 1);
		sy_proc(s, 7, "khv-run");
		break;
	case 3:		/* every VM: two processes, out of order */
		sy_workload(s, 30, 2, 0.002, 20000, 1);
		sy_workload(s, 40, 1, 0.002, 20000, 2);
		sy_proc(s, 30, "khv-run");
		sy_proc(s, 40, "other-vmm");
		sy_shuffle(s, 9);
		break;
	case 4:		/* lost events, counted and not */
		msr = sy_name(s, 0x7c, "svm_msr");
		sy_entry(s, 7, 0, 10 * SY_US);
		sy_exit(s, 7, 0, 100 * SY_US, msr, 1);
		sy_lost(s, 1, 150 * SY_US, 300 * SY_US, 40);
		sy_entry(s, 7, 0, 400 * SY_US);
		sy_exit(s, 7, 1, 250 * SY_US, msr, 1);
		sy_lost(s, 2, 500 * SY_US, 600 * SY_US, KTR_LOST_UNKNOWN);
		sy_entry(s, 7, 1, 700 * SY_US);
		s->t.h.overrun = 40;
		s->t.h.dropped = 3;
		break;
	case 5:		/* a khv whose khv_exit has handle_ns */
		s->t.h.flags |= KTR_F_HANDLE_NS;
		msr = sy_name(s, 0x1f, "vmx_msr_write");
		sy_entry(s, 7, 0, 0);
		sy_exit(s, 7, 0, 50 * SY_US, msr, 1);
		s->t.rec[1].handle_ns = 5000;
		sy_entry(s, 7, 0, 60 * SY_US);
		break;
	case 6:		/* a small VM at work */
		sy_workload(s, 9, 2, 0.03, 3000, 4);
		sy_proc(s, 9, "khv-run");
		break;
	default:	/* odd but valid: out-of-window times, anomalies, no time */
		msr = sy_name(s, 0x7c, "svm_msr");
		s->t.h.end_ns = s->t.h.start_ns;
		sy_entry(s, 7, 0, 0);
		sy_entry(s, 7, 0, 0);
		sy_exit(s, 7, 0, 0, msr, -22);
		sy_exit(s, 7, 0, 0, msr, 1);
		s->t.rec[3].ts = 0;
		sy_halt(s, 7, 3, 0, 1);
		s->t.rec[4].ts = ~0ull;
		sy_uexit(s, 8, 0, 0, 99, -1);
		break;
	}
}

unsigned char *ktr_seed_image(unsigned int i, size_t *len)
{
	struct synth s;
	unsigned char *img;

	build(&s, i);
	img = ktr_image(&s.t, len);
	sy_free(&s);
	return img;
}
