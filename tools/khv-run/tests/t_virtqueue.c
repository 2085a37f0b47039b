// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueues (virtqueue.c) against rings built by hand in fake guest
 * RAM: chains direct and indirect, the used ring, interrupt and notify
 * suppression, index wrap-around, and every malformed chain we can think
 * of (each must break the queue, never touch memory outside RAM).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "t.h"
#include "../virtqueue.h"

#define LOW_SIZE	0x100000ull
#define HIGH_SIZE	0x10000ull
#define QDESC		0x1000ull
#define QAVAIL		0x2000ull
#define QUSED		0x3000ull
#define BUF		0x10000ull
#define ITABLE		0x8000ull	/* an indirect table */
#define HOLE		0xd0000000ull

struct vqt {
	struct kr_mem mem;
	struct kr_vq vq;
	uint16_t size, avail_idx;
	struct iovec iov[8];
	struct kr_vq_elem e;
};

static void vqt_init(struct vqt *t, uint16_t size, bool event_idx, bool indirect)
{
	memset(t, 0, sizeof(*t));
	t->mem.low = aligned_alloc(4096, LOW_SIZE);
	t->mem.high = aligned_alloc(4096, HIGH_SIZE);
	t->mem.low_size = LOW_SIZE;
	t->mem.high_size = HIGH_SIZE;
	if (!t->mem.low || !t->mem.high)
		abort();
	memset(t->mem.low, 0, LOW_SIZE);
	memset(t->mem.high, 0, HIGH_SIZE);
	t->size = size;
	t->e.iov = t->iov;
	t->e.cap = ARRAY_SIZE(t->iov);
	if (kr_vq_init(&t->vq, &t->mem, size, QDESC, QAVAIL, QUSED, event_idx, indirect))
		abort();
}

static void vqt_fini(struct vqt *t)
{
	free(t->mem.low);
	free(t->mem.high);
}

static uint8_t *ram(struct vqt *t, uint64_t gpa)
{
	return kr_gpa(&t->mem, gpa, 1);
}

static void desc_at(struct vqt *t, uint64_t table, unsigned int i, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	uint8_t *p = ram(t, table + 16ull * i);

	kr_put_le(p, 8, addr);
	kr_put_le(p + 8, 4, len);
	kr_put_le(p + 12, 2, flags);
	kr_put_le(p + 14, 2, next);
}

static void desc(struct vqt *t, unsigned int i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	desc_at(t, QDESC, i, addr, len, flags, next);
}

static void avail(struct vqt *t, uint16_t head)
{
	kr_put_le(ram(t, QAVAIL + 4 + 2 * (t->avail_idx % t->size)), 2, head);
	t->avail_idx++;
	kr_put_le(ram(t, QAVAIL + 2), 2, t->avail_idx);
}

static uint16_t used_idx(struct vqt *t)
{
	return kr_get_le(ram(t, QUSED + 2), 2);
}

static int pop(struct vqt *t)
{
	return kr_vq_pop(&t->vq, &t->e);
}

KR_TEST(vq_init_layout)
{
	struct vqt t;
	struct kr_vq vq;

	vqt_init(&t, 8, false, false);
	CHECK_EQ(kr_vq_init(&vq, &t.mem, 0, QDESC, QAVAIL, QUSED, 0, 0), -EINVAL);
	CHECK_EQ(kr_vq_init(&vq, &t.mem, 3, QDESC, QAVAIL, QUSED, 0, 0), -EINVAL);
	CHECK_EQ(kr_vq_init(&vq, &t.mem, 96, QDESC, QAVAIL, QUSED, 0, 0), -EINVAL);
	CHECK_EQ(kr_vq_init(&vq, &t.mem, 32768, 0x90000, QAVAIL, QUSED, 0, 0), -EINVAL);
	CHECK_EQ(kr_vq_init(&vq, &t.mem, 32768, 0x80000, 0x8000, 0x40000, 0, 0), 0);
	CHECK_EQ(kr_vq_init(&vq, &t.mem, 8, QDESC + 8, QAVAIL, QUSED, 0, 0), -EINVAL);
	CHECK_EQ(kr_vq_init(&vq, &t.mem, 8, QDESC, QAVAIL + 1, QUSED, 0, 0), -EINVAL);
	CHECK_EQ(kr_vq_init(&vq, &t.mem, 8, QDESC, QAVAIL, QUSED + 2, 0, 0), -EINVAL);
	CHECK_EQ(kr_vq_init(&vq, &t.mem, 8, QDESC, QAVAIL, QUSED + 4, 0, 0), 0);
	/* Parts outside RAM, at the hole, across the end of RAM. */
	CHECK_EQ(kr_vq_init(&vq, &t.mem, 8, HOLE, QAVAIL, QUSED, 0, 0), -EINVAL);
	CHECK_EQ(kr_vq_init(&vq, &t.mem, 8, QDESC, LOW_SIZE - 16, QUSED, 0, 0), -EINVAL);
	CHECK_EQ(kr_vq_init(&vq, &t.mem, 8, QDESC, QAVAIL, LOW_SIZE, 0, 0), -EINVAL);
	CHECK_EQ(kr_vq_init(&vq, &t.mem, 8, QDESC, QAVAIL, ~0ull - 3, 0, 0), -EINVAL);
	CHECK_EQ(kr_vq_init(&vq, &t.mem, 8, KR_4G, KR_4G + 0x100, KR_4G + 0x200, 0, 0), 0);
	CHECK_EQ(kr_vq_init(&vq, &t.mem, 8, KR_4G, KR_4G + 0x100, KR_4G + HIGH_SIZE - 8, 0, 0),
		 -EINVAL);
	vqt_fini(&t);
}

KR_TEST(vq_direct_chain)
{
	struct vqt t;

	vqt_init(&t, 8, false, false);
	CHECK_EQ(pop(&t), 0);
	desc(&t, 5, BUF, 16, KR_VQ_DESC_F_NEXT, 2);
	desc(&t, 2, BUF + 0x100, 0, KR_VQ_DESC_F_NEXT, 7);	/* empty: skipped */
	desc(&t, 7, KR_4G + 0x40, 8, KR_VQ_DESC_F_NEXT, 0);	/* high RAM */
	desc(&t, 0, BUF + 0x1000, 512, KR_VQ_DESC_F_WRITE, 0);
	avail(&t, 5);
	CHECK_EQ(pop(&t), 1);
	CHECK_EQ(t.e.head, 5);
	CHECK_EQ(t.e.n_out, 2);
	CHECK_EQ(t.e.n_in, 1);
	CHECK_EQ(t.e.out_bytes, 24);
	CHECK_EQ(t.e.in_bytes, 512);
	CHECK(t.iov[0].iov_base == ram(&t, BUF) && t.iov[0].iov_len == 16);
	CHECK(t.iov[1].iov_base == t.mem.high + 0x40 && t.iov[1].iov_len == 8);
	CHECK(t.iov[2].iov_base == ram(&t, BUF + 0x1000) && t.iov[2].iov_len == 512);
	CHECK_EQ(pop(&t), 0);
	/* The used ring: entry, then index. */
	kr_vq_push(&t.vq, &t.e, 100);
	CHECK_EQ(used_idx(&t), 1);
	CHECK_EQ(kr_get_le(ram(&t, QUSED + 4), 4), 5);
	CHECK_EQ(kr_get_le(ram(&t, QUSED + 8), 4), 100);
	/* A device claiming more than the writable bytes is capped. */
	desc(&t, 1, BUF, 32, KR_VQ_DESC_F_WRITE, 0);
	avail(&t, 1);
	CHECK_EQ(pop(&t), 1);
	kr_vq_push(&t.vq, &t.e, 4096);
	CHECK_EQ(kr_get_le(ram(&t, QUSED + 12), 4), 1);
	CHECK_EQ(kr_get_le(ram(&t, QUSED + 16), 4), 32);
	CHECK_EQ(used_idx(&t), 2);
	vqt_fini(&t);
}

/* Several chains given back under one used->idx store. */
KR_TEST(vq_push_n)
{
	struct vqt t;
	struct iovec iov[3][8];
	struct kr_vq_elem e[3];
	const struct kr_vq_elem *ep[3] = { &e[0], &e[1], &e[2] };
	const uint32_t len[3] = { 64, 64, 5000 };

	vqt_init(&t, 8, false, false);
	for (unsigned int i = 0; i < 3; i++) {
		desc(&t, i, BUF + 0x100 * i, 64, KR_VQ_DESC_F_WRITE, 0);
		avail(&t, i);
		e[i] = (struct kr_vq_elem){ .iov = iov[i], .cap = 8 };
		CHECK_EQ(kr_vq_pop(&t.vq, &e[i]), 1);
	}
	kr_vq_push_n(&t.vq, ep, len, 0);
	CHECK_EQ(used_idx(&t), 0);
	kr_vq_push_n(&t.vq, ep, len, 3);
	CHECK_EQ(used_idx(&t), 3);
	for (unsigned int i = 0; i < 3; i++) {
		CHECK_EQ(kr_get_le(ram(&t, QUSED + 4 + 8 * i), 4), i);
		CHECK_EQ(kr_get_le(ram(&t, QUSED + 8 + 8 * i), 4), 64);	/* capped */
	}
	CHECK(kr_vq_need_interrupt(&t.vq));
	vqt_fini(&t);
}

KR_TEST(vq_indirect)
{
	struct vqt t;

	vqt_init(&t, 4, false, true);
	/* A single indirect descriptor (its WRITE flag is ignored). */
	desc_at(&t, ITABLE, 0, BUF, 10, KR_VQ_DESC_F_NEXT, 2);
	desc_at(&t, ITABLE, 2, BUF + 0x100, 20, KR_VQ_DESC_F_NEXT | KR_VQ_DESC_F_WRITE, 1);
	desc_at(&t, ITABLE, 1, BUF + 0x200, 30, KR_VQ_DESC_F_WRITE, 0);
	desc(&t, 3, ITABLE, 3 * 16, KR_VQ_DESC_F_INDIRECT | KR_VQ_DESC_F_WRITE, 0);
	avail(&t, 3);
	CHECK_EQ(pop(&t), 1);
	CHECK_EQ(t.e.head, 3);
	CHECK_EQ(t.e.n_out, 1);
	CHECK_EQ(t.e.n_in, 2);
	CHECK(t.iov[2].iov_base == ram(&t, BUF + 0x200) && t.iov[2].iov_len == 30);
	/* Direct descriptors, then one indirect ending the chain (2.7.5.3.2). */
	desc(&t, 0, BUF + 0x300, 4, KR_VQ_DESC_F_NEXT, 1);
	desc(&t, 1, ITABLE + 0x100, 16, KR_VQ_DESC_F_INDIRECT, 0);
	desc_at(&t, ITABLE + 0x100, 0, BUF + 0x400, 64, KR_VQ_DESC_F_WRITE, 0);
	avail(&t, 0);
	CHECK_EQ(pop(&t), 1);
	CHECK_EQ(t.e.n_out, 1);
	CHECK_EQ(t.e.n_in, 1);
	CHECK_EQ(t.e.in_bytes, 64);
	/* An indirect table may be longer than the ring. */
	for (unsigned int i = 0; i < 7; i++)
		desc_at(&t, ITABLE + 0x200, i, BUF + i * 0x10, 8, KR_VQ_DESC_F_NEXT, i + 1);
	desc_at(&t, ITABLE + 0x200, 7, BUF + 0x80, 8, 0, 0);
	desc(&t, 2, ITABLE + 0x200, 8 * 16, KR_VQ_DESC_F_INDIRECT, 0);
	avail(&t, 2);
	CHECK_EQ(pop(&t), 1);
	CHECK_EQ(t.e.n_out, 8);
	vqt_fini(&t);
}

/* Each of these chains is malformed: the pop fails and the queue stays broken. */
KR_TEST(vq_hostile_chains)
{
	enum { OUTSIDE, HOLE_ADDR, STRADDLE, WRAP, LOOP, SELF_LOOP, NEXT_RANGE, HEAD_RANGE,
	       AHEAD, RW_ORDER, TOO_MANY, IND_OFF, IND_NEXT, IND_IN_IND, IND_LEN, IND_ZERO,
	       IND_OUTSIDE, IND_LOOP, IND_NEXT_RANGE, IND_WRAP, CASES };
	struct vqt t;

	for (int c = 0; c < CASES; c++) {
		uint16_t head = 0;

		vqt_init(&t, 4, false, c != IND_OFF);
		switch (c) {
		case OUTSIDE:
			desc(&t, 0, LOW_SIZE, 16, 0, 0);
			break;
		case HOLE_ADDR:
			desc(&t, 0, HOLE, 16, KR_VQ_DESC_F_WRITE, 0);
			break;
		case STRADDLE:
			desc(&t, 0, LOW_SIZE - 8, 16, KR_VQ_DESC_F_WRITE, 0);
			break;
		case WRAP:
			desc(&t, 0, ~0ull - 4, 16, 0, 0);
			break;
		case LOOP:		/* empty buffers: no iovec limit to hit first */
			desc(&t, 0, BUF, 0, KR_VQ_DESC_F_NEXT, 1);
			desc(&t, 1, BUF, 0, KR_VQ_DESC_F_NEXT, 0);
			break;
		case SELF_LOOP:
			desc(&t, 2, BUF, 0, KR_VQ_DESC_F_NEXT, 2);
			head = 2;
			break;
		case NEXT_RANGE:
			desc(&t, 0, BUF, 1, KR_VQ_DESC_F_NEXT, 4);
			break;
		case HEAD_RANGE:
			head = 4;
			break;
		case AHEAD:
			desc(&t, 0, BUF, 1, 0, 0);
			break;
		case RW_ORDER:
			desc(&t, 0, BUF, 1, KR_VQ_DESC_F_NEXT | KR_VQ_DESC_F_WRITE, 1);
			desc(&t, 1, BUF, 1, 0, 0);
			break;
		case TOO_MANY:		/* 9 buffers for an iovec of 8 */
			for (unsigned int i = 0; i < 9; i++)
				desc_at(&t, ITABLE, i, BUF, 1, i < 8 ? KR_VQ_DESC_F_NEXT : 0,
					i + 1);
			desc(&t, 0, ITABLE, 9 * 16, KR_VQ_DESC_F_INDIRECT, 0);
			break;
		case IND_OFF:		/* KR_VIRTIO_F_INDIRECT_DESC not negotiated */
		case IND_IN_IND:
			desc_at(&t, ITABLE, 0, ITABLE + 0x100, 16, KR_VQ_DESC_F_INDIRECT, 0);
			desc_at(&t, ITABLE + 0x100, 0, BUF, 16, 0, 0);
			desc(&t, 0, ITABLE, 16, KR_VQ_DESC_F_INDIRECT, 0);
			if (c == IND_OFF)
				desc_at(&t, ITABLE, 0, BUF, 16, 0, 0);
			break;
		case IND_NEXT:
			desc_at(&t, ITABLE, 0, BUF, 16, 0, 0);
			desc(&t, 0, ITABLE, 16, KR_VQ_DESC_F_INDIRECT | KR_VQ_DESC_F_NEXT, 1);
			desc(&t, 1, BUF, 16, 0, 0);
			break;
		case IND_LEN:
			desc(&t, 0, ITABLE, 24, KR_VQ_DESC_F_INDIRECT, 0);
			break;
		case IND_ZERO:
			desc(&t, 0, ITABLE, 0, KR_VQ_DESC_F_INDIRECT, 0);
			break;
		case IND_OUTSIDE:
			desc(&t, 0, LOW_SIZE - 16, 32, KR_VQ_DESC_F_INDIRECT, 0);
			break;
		case IND_LOOP:
			desc_at(&t, ITABLE, 0, BUF, 0, KR_VQ_DESC_F_NEXT, 1);
			desc_at(&t, ITABLE, 1, BUF, 0, KR_VQ_DESC_F_NEXT, 0);
			desc(&t, 0, ITABLE, 2 * 16, KR_VQ_DESC_F_INDIRECT, 0);
			break;
		case IND_NEXT_RANGE:
			desc_at(&t, ITABLE, 0, BUF, 1, KR_VQ_DESC_F_NEXT, 2);
			desc_at(&t, ITABLE, 2, BUF, 1, 0, 0);	/* there, but past len */
			desc(&t, 0, ITABLE, 2 * 16, KR_VQ_DESC_F_INDIRECT, 0);
			break;
		case IND_WRAP:
			desc(&t, 0, ~0ull - 15, 32, KR_VQ_DESC_F_INDIRECT, 0);
			break;
		}
		avail(&t, head);
		if (c == AHEAD)
			kr_put_le(ram(&t, QAVAIL + 2), 2, 5);	/* 5 in a ring of 4 */
		CHECK_EQ(pop(&t), -EIO);
		CHECK(t.vq.broken);
		/* Fixing the ring does not revive the queue: only a new setup does. */
		desc(&t, 0, BUF, 16, 0, 0);
		kr_put_le(ram(&t, QAVAIL + 2), 2, 1);
		kr_put_le(ram(&t, QAVAIL + 4), 2, 0);
		CHECK_EQ(pop(&t), -EIO);
		CHECK_EQ(used_idx(&t), 0);
		CHECK_EQ(kr_vq_init(&t.vq, &t.mem, 4, QDESC, QAVAIL, QUSED, false, false), 0);
		CHECK_EQ(pop(&t), 1);
		vqt_fini(&t);
	}
}

/* More than 4 GiB in one chain (2.7.4: the driver must not): needs that much RAM. */
KR_TEST(vq_chain_over_4g)
{
	uint64_t big = 5ull << 30;
	struct vqt t;
	uint8_t *high;

	high = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		    -1, 0);
	CHECK(high != MAP_FAILED);
	if (high == MAP_FAILED)
		return;
	vqt_init(&t, 4, false, false);
	free(t.mem.high);
	t.mem.high = high;
	t.mem.high_size = big;
	desc(&t, 0, KR_4G, 0xffffffffu, KR_VQ_DESC_F_NEXT | KR_VQ_DESC_F_WRITE, 1);
	desc(&t, 1, KR_4G, 1, KR_VQ_DESC_F_WRITE, 0);
	avail(&t, 0);
	CHECK_EQ(pop(&t), -EIO);
	CHECK_EQ(kr_vq_init(&t.vq, &t.mem, 4, QDESC, QAVAIL, QUSED, false, false), 0);
	desc(&t, 1, KR_4G, 0, KR_VQ_DESC_F_WRITE, 0);	/* exactly 4 GiB - 1: fine */
	CHECK_EQ(pop(&t), 1);
	CHECK_EQ(t.e.in_bytes, 0xffffffffu);
	munmap(high, big);
	t.mem.high = NULL;
	vqt_fini(&t);
}

KR_TEST(vq_interrupt_suppression)
{
	struct vqt t;
	uint8_t *used_event, *avail_event;

	/* Without EVENT_IDX: the NO_INTERRUPT flag. */
	vqt_init(&t, 4, false, false);
	CHECK(!kr_vq_need_interrupt(&t.vq));		/* nothing used yet */
	desc(&t, 0, BUF, 4, KR_VQ_DESC_F_WRITE, 0);
	avail(&t, 0);
	CHECK_EQ(pop(&t), 1);
	kr_vq_push(&t.vq, &t.e, 4);
	CHECK(kr_vq_need_interrupt(&t.vq));
	CHECK(!kr_vq_need_interrupt(&t.vq));
	avail(&t, 0);
	CHECK_EQ(pop(&t), 1);
	kr_vq_push(&t.vq, &t.e, 4);
	kr_put_le(ram(&t, QAVAIL), 2, KR_VQ_AVAIL_F_NO_INTERRUPT);
	CHECK(!kr_vq_need_interrupt(&t.vq));
	vqt_fini(&t);

	/* With EVENT_IDX: used_event, and the flag is ignored. */
	vqt_init(&t, 4, true, false);
	used_event = ram(&t, QAVAIL + 4 + 2 * 4);
	avail_event = ram(&t, QUSED + 4 + 8 * 4);
	kr_put_le(ram(&t, QAVAIL), 2, KR_VQ_AVAIL_F_NO_INTERRUPT);
	desc(&t, 0, BUF, 4, KR_VQ_DESC_F_WRITE, 0);
	for (int i = 0; i < 3; i++)
		avail(&t, 0);
	CHECK_EQ(pop(&t), 1);
	kr_vq_push(&t.vq, &t.e, 4);			/* used 1 */
	CHECK(kr_vq_need_interrupt(&t.vq));		/* used_event 0: the 0->1 step */
	CHECK(!kr_vq_need_interrupt(&t.vq));		/* nothing new */
	CHECK_EQ(pop(&t), 1);
	kr_vq_push(&t.vq, &t.e, 4);			/* used 2 */
	kr_put_le(used_event, 2, 0);			/* wanted one at 0->1: had it */
	CHECK(!kr_vq_need_interrupt(&t.vq));
	CHECK_EQ(pop(&t), 1);
	kr_vq_push(&t.vq, &t.e, 4);			/* used 3 */
	kr_put_le(used_event, 2, 2);			/* wants the 2->3 step */
	CHECK(kr_vq_need_interrupt(&t.vq));
	/* Empty: avail_event tells the driver to notify for slot 3. */
	CHECK_EQ(kr_get_le(avail_event, 2), 0);
	CHECK_EQ(pop(&t), 0);
	CHECK_EQ(kr_get_le(avail_event, 2), 3);
	vqt_fini(&t);
}

/* The 16-bit indices wrap: 70000 chains through a ring of 4. */
KR_TEST(vq_index_wrap)
{
	struct vqt t;
	unsigned int ok = 0;

	vqt_init(&t, 4, true, false);
	for (unsigned int i = 0; i < 70000; i++) {
		uint16_t d = i % 4;

		desc(&t, d, BUF + 8 * d, 8, KR_VQ_DESC_F_WRITE, 0);
		avail(&t, d);
		if (pop(&t) != 1 || t.e.head != d)
			break;
		kr_vq_push(&t.vq, &t.e, 8);
		kr_put_le(ram(&t, QAVAIL + 4 + 8), 2, i);	/* used_event: every one */
		if (!kr_vq_need_interrupt(&t.vq) || pop(&t) != 0)
			break;
		ok++;
	}
	CHECK_EQ(ok, 70000);
	CHECK_EQ(used_idx(&t), (uint16_t)70000);
	CHECK_EQ(kr_get_le(ram(&t, QUSED + 4 + 8 * 4), 2), (uint16_t)70000);
	vqt_fini(&t);
}

static bool page_dirty(const uint64_t *bits, uint64_t page)
{
	return bits[page / 64] >> (page % 64) & 1;
}

/*
 * A migration's view of the VMM's own writes (kr_mem_dirty): the pages of
 * a pushed chain's writable buffers (low and high RAM), the used ring's
 * entry and index, and avail_event; nothing for readable buffers, nothing
 * for a push of 0 bytes' buffers, nothing while tracking is off.
 */
KR_TEST(vq_dirty_tracking)
{
	uint64_t low[LOW_SIZE / 4096 / 64] = { 0 }, high[1] = { 0 };
	struct vqt t;
	unsigned int set = 0;

	vqt_init(&t, 8, true, false);
	/* Off: a push marks nothing (and there is nowhere to mark). */
	desc(&t, 0, BUF + 0x3000, 16, KR_VQ_DESC_F_WRITE, 0);
	avail(&t, 0);
	CHECK_EQ(pop(&t), 1);
	kr_vq_push(&t.vq, &t.e, 16);

	t.mem.dirty[0] = low;
	t.mem.dirty[1] = high;
	/* Readable 0x10000 (1 page), writable 0x11ff0 + 0x20 (2 pages), high 0x40. */
	desc(&t, 1, BUF, 16, KR_VQ_DESC_F_NEXT, 2);
	desc(&t, 2, BUF + 0x1ff0, 0x20, KR_VQ_DESC_F_WRITE | KR_VQ_DESC_F_NEXT, 3);
	desc(&t, 3, KR_4G + 0x2000, 8, KR_VQ_DESC_F_WRITE, 0);
	avail(&t, 1);
	CHECK_EQ(pop(&t), 1);
	CHECK(!page_dirty(low, BUF / 4096));
	kr_vq_push(&t.vq, &t.e, 0x28);
	CHECK(!page_dirty(low, BUF / 4096));		/* read, not written */
	CHECK(page_dirty(low, (BUF + 0x1000) / 4096));
	CHECK(page_dirty(low, (BUF + 0x2000) / 4096));
	CHECK(page_dirty(high, 2));
	CHECK(page_dirty(low, QUSED / 4096));		/* entry and index */
	for (unsigned int i = 0; i < LOW_SIZE / 4096; i++)
		set += page_dirty(low, i);
	CHECK_EQ(set, 3u);
	CHECK_EQ(high[0], 1ull << 2);

	/* A push that wrote nothing marks only the ring; an empty pop marks avail_event. */
	memset(low, 0, sizeof(low));
	high[0] = 0;
	desc(&t, 4, BUF + 0x5000, 16, KR_VQ_DESC_F_WRITE, 0);
	avail(&t, 4);
	CHECK_EQ(pop(&t), 1);
	kr_vq_push(&t.vq, &t.e, 0);
	CHECK(!page_dirty(low, (BUF + 0x5000) / 4096));
	CHECK(page_dirty(low, QUSED / 4096));
	memset(low, 0, sizeof(low));
	CHECK_EQ(pop(&t), 0);
	CHECK(page_dirty(low, QUSED / 4096));		/* avail_event, in the used ring */
	vqt_fini(&t);
}
