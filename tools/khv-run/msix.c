// SPDX-License-Identifier: GPL-2.0
/*
 * MSI-X state of one function (msix.h).
 *
 * The table is kept as the bytes the guest sees (16 per vector: address
 * low, address high, data, vector control), so that an access of any size
 * at any offset has one meaning: each byte is merged under its write mask.
 *
 * Locking: m->lock covers the table, the PBA and the enable/function mask
 * bits.  It is a leaf: nothing is called with it held.  Messages are sent
 * and the route hook is called after it is dropped, so a vector masked by
 * one vCPU while another raises it may still go out once: the same race a
 * real function has between its pending logic and a posted mask write.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "msix.h"

#define ENTRY_CTRL		12	/* vector control, bit 0: masked */
#define ENTRY_CTRL_MASKED	0x01

struct kr_msix {
	pthread_mutex_t lock;
	unsigned int nvec;
	bool enabled;
	bool fmask;
	uint8_t *table;		/* nvec * 16 bytes */
	uint64_t *pba;
	struct kr_msi msi;
	kr_msix_route_fn *route_fn;
	void *route_opaque;
};

/* Which bits of each byte of an entry the guest may write. */
static uint8_t entry_wmask(unsigned int byte)
{
	if (byte == 0)
		return 0xfc;	/* the address is dword aligned: bits 1:0 read 0 */
	if (byte < ENTRY_CTRL)
		return 0xff;
	if (byte == ENTRY_CTRL)
		return ENTRY_CTRL_MASKED;
	return 0;		/* reserved */
}

static void msix_clear(struct kr_msix *m)
{
	memset(m->table, 0, kr_msix_table_size(m->nvec));
	for (unsigned int v = 0; v < m->nvec; v++)
		m->table[v * KR_MSIX_ENTRY_SIZE + ENTRY_CTRL] = ENTRY_CTRL_MASKED;
	memset(m->pba, 0, kr_msix_pba_size(m->nvec));
	m->enabled = false;
	m->fmask = false;
}

struct kr_msix *kr_msix_create(unsigned int nvec, const struct kr_msi *msi)
{
	struct kr_msix *m;

	if (!nvec || nvec > KR_MSIX_MAX_VECTORS)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->nvec = nvec;
	m->table = malloc(kr_msix_table_size(nvec));
	m->pba = malloc(kr_msix_pba_size(nvec));
	if (!m->table || !m->pba) {
		kr_msix_destroy(m);
		return NULL;
	}
	if (msi)
		m->msi = *msi;
	msix_clear(m);
	return m;
}

void kr_msix_destroy(struct kr_msix *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m->table);
	free(m->pba);
	free(m);
}

unsigned int kr_msix_vectors(const struct kr_msix *m)
{
	return m->nvec;
}

void kr_msix_set_route_hook(struct kr_msix *m, kr_msix_route_fn *fn, void *opaque)
{
	pthread_mutex_lock(&m->lock);
	m->route_fn = fn;
	m->route_opaque = opaque;
	pthread_mutex_unlock(&m->lock);
}

/* With m->lock held. */
static bool vector_masked(const struct kr_msix *m, unsigned int v)
{
	return m->table[v * KR_MSIX_ENTRY_SIZE + ENTRY_CTRL] & ENTRY_CTRL_MASKED;
}

static bool vector_deliverable(const struct kr_msix *m, unsigned int v)
{
	return m->enabled && !m->fmask && !vector_masked(m, v);
}

static void vector_message(const struct kr_msix *m, unsigned int v, uint64_t *address,
			   uint32_t *data)
{
	const uint8_t *e = &m->table[v * KR_MSIX_ENTRY_SIZE];

	*address = kr_get_le(e, 8);
	*data = kr_get_le(e + 8, 4);
}

static bool pending(const struct kr_msix *m, unsigned int v)
{
	return m->pba[v / 64] & (1ull << (v % 64));
}

static void send(struct kr_msix *m, uint64_t address, uint32_t data)
{
	if (m->msi.send)
		m->msi.send(m->msi.opaque, address, data);
}

/*
 * Send every pending vector that is deliverable now, one at a time with the
 * lock dropped around each send.  Each round clears a pending bit, and a
 * deliverable vector is never made pending, so this ends.
 */
static void flush_pending(struct kr_msix *m)
{
	for (unsigned int round = 0; round < m->nvec; round++) {
		uint64_t address;
		uint32_t data;
		unsigned int v;

		pthread_mutex_lock(&m->lock);
		for (v = 0; v < m->nvec; v++)
			if (pending(m, v) && vector_deliverable(m, v))
				break;
		if (v == m->nvec) {
			pthread_mutex_unlock(&m->lock);
			return;
		}
		m->pba[v / 64] &= ~(1ull << (v % 64));
		vector_message(m, v, &address, &data);
		pthread_mutex_unlock(&m->lock);
		send(m, address, data);
	}
}

static void route_changed(struct kr_msix *m, unsigned int first, unsigned int last)
{
	kr_msix_route_fn *fn;
	void *opaque;

	pthread_mutex_lock(&m->lock);
	fn = m->route_fn;
	opaque = m->route_opaque;
	pthread_mutex_unlock(&m->lock);
	if (!fn)
		return;
	for (unsigned int v = first; v <= last && v < m->nvec; v++)
		fn(opaque, v);
}

uint16_t kr_msix_control(struct kr_msix *m)
{
	uint16_t ctl;

	pthread_mutex_lock(&m->lock);
	ctl = (m->nvec - 1) | (m->fmask ? KR_MSIX_CTL_FMASK : 0) |
	      (m->enabled ? KR_MSIX_CTL_ENABLE : 0);
	pthread_mutex_unlock(&m->lock);
	return ctl;
}

void kr_msix_write_control(struct kr_msix *m, uint16_t ctl)
{
	bool changed;

	pthread_mutex_lock(&m->lock);
	changed = m->enabled != !!(ctl & KR_MSIX_CTL_ENABLE) ||
		  m->fmask != !!(ctl & KR_MSIX_CTL_FMASK);
	m->enabled = ctl & KR_MSIX_CTL_ENABLE;
	m->fmask = ctl & KR_MSIX_CTL_FMASK;
	pthread_mutex_unlock(&m->lock);
	if (!changed)
		return;
	flush_pending(m);
	route_changed(m, 0, m->nvec - 1);
}

bool kr_msix_enabled(struct kr_msix *m)
{
	bool on;

	pthread_mutex_lock(&m->lock);
	on = m->enabled;
	pthread_mutex_unlock(&m->lock);
	return on;
}

void kr_msix_table_io(struct kr_msix *m, uint64_t offset, uint8_t *data, unsigned int size,
		      bool write)
{
	uint64_t len = kr_msix_table_size(m->nvec);
	bool unmasked = false;

	if (size > 8)
		return;
	pthread_mutex_lock(&m->lock);
	for (unsigned int i = 0; i < size; i++) {
		uint64_t o = offset + i;
		uint8_t *b, wm;

		if (o < offset || o >= len) {
			if (!write)
				data[i] = 0xff;
			continue;
		}
		b = &m->table[o];
		if (!write) {
			data[i] = *b;
			continue;
		}
		wm = entry_wmask(o % KR_MSIX_ENTRY_SIZE);
		if (o % KR_MSIX_ENTRY_SIZE == ENTRY_CTRL && (*b & ENTRY_CTRL_MASKED) &&
		    !(data[i] & ENTRY_CTRL_MASKED))
			unmasked = true;
		*b = (*b & ~wm) | (data[i] & wm);
	}
	pthread_mutex_unlock(&m->lock);
	if (!write || offset >= len || !size)
		return;
	if (unmasked)
		flush_pending(m);
	route_changed(m, offset / KR_MSIX_ENTRY_SIZE,
		      (offset + size - 1) / KR_MSIX_ENTRY_SIZE);
}

void kr_msix_pba_io(struct kr_msix *m, uint64_t offset, uint8_t *data, unsigned int size,
		    bool write)
{
	uint64_t len = kr_msix_pba_size(m->nvec);

	if (write || size > 8)
		return;		/* read-only */
	pthread_mutex_lock(&m->lock);
	for (unsigned int i = 0; i < size; i++) {
		uint64_t o = offset + i;

		data[i] = o >= offset && o < len ? m->pba[o / 8] >> (8 * (o % 8)) : 0xff;
	}
	pthread_mutex_unlock(&m->lock);
}

void kr_msix_reset(struct kr_msix *m)
{
	pthread_mutex_lock(&m->lock);
	msix_clear(m);
	pthread_mutex_unlock(&m->lock);
	route_changed(m, 0, m->nvec - 1);
}

enum kr_msix_result kr_msix_notify(struct kr_msix *m, unsigned int vector)
{
	uint64_t address;
	uint32_t data;

	if (vector >= m->nvec)
		return KR_MSIX_BAD_VECTOR;
	pthread_mutex_lock(&m->lock);
	if (!m->enabled) {
		pthread_mutex_unlock(&m->lock);
		return KR_MSIX_DISABLED;
	}
	if (m->fmask || vector_masked(m, vector)) {
		m->pba[vector / 64] |= 1ull << (vector % 64);
		pthread_mutex_unlock(&m->lock);
		return KR_MSIX_PENDING;
	}
	vector_message(m, vector, &address, &data);
	pthread_mutex_unlock(&m->lock);
	send(m, address, data);
	return KR_MSIX_SENT;
}

bool kr_msix_route(struct kr_msix *m, unsigned int v, uint64_t *address, uint32_t *data)
{
	bool on;

	if (v >= m->nvec)
		return false;
	pthread_mutex_lock(&m->lock);
	vector_message(m, v, address, data);
	on = vector_deliverable(m, v);
	pthread_mutex_unlock(&m->lock);
	return on;
}

/* ---- snapshot ------------------------------------------------------------ */

static unsigned int pba_words(unsigned int nvec)
{
	return kr_msix_pba_size(nvec) / 8;
}

int kr_msix_save(struct kr_msix *m, struct kr_sbuf *b)
{
	pthread_mutex_lock(&m->lock);
	kr_sbuf_begin(b, KR_MSIX_STATE_VERSION);
	kr_sbuf_u16(b, m->nvec);
	kr_sbuf_bool(b, m->enabled);
	kr_sbuf_bool(b, m->fmask);
	kr_sbuf_bytes(b, m->table, kr_msix_table_size(m->nvec));
	for (unsigned int w = 0; w < pba_words(m->nvec); w++)
		kr_sbuf_u64(b, m->pba[w]);
	pthread_mutex_unlock(&m->lock);
	return b->oom ? -ENOMEM : 0;
}

/*
 * Check a loaded table and PBA as if the guest and the device had made
 * them: only bits the table keeps, no pending bit past the last vector,
 * and none on a vector that is deliverable (it would have gone out when it
 * became so).  Only m->nvec is m's: the rest is what was read.
 */
static int check_loaded(struct kr_msix *m, struct kr_sget *g, const uint8_t *table,
			const uint64_t *pba, bool enabled, bool fmask)
{
	for (unsigned int o = 0; o < kr_msix_table_size(m->nvec); o++) {
		uint8_t extra = table[o] & ~entry_wmask(o % KR_MSIX_ENTRY_SIZE);

		if (extra)
			return kr_sget_fail(g, "vector %u: entry byte %u holds bits 0x%02x it cannot",
					    o / KR_MSIX_ENTRY_SIZE, o % KR_MSIX_ENTRY_SIZE, extra);
	}
	if (m->nvec % 64 && pba[m->nvec / 64] >> (m->nvec % 64))
		return kr_sget_fail(g, "pending bits 0x%llx past the %u vectors",
				    (unsigned long long)(pba[m->nvec / 64] >> (m->nvec % 64)),
				    m->nvec);
	for (unsigned int v = 0; v < m->nvec; v++) {
		bool masked = table[v * KR_MSIX_ENTRY_SIZE + ENTRY_CTRL] & ENTRY_CTRL_MASKED;

		if (pba[v / 64] & (1ull << (v % 64)) && enabled && !fmask && !masked)
			return kr_sget_fail(g, "vector %u is pending but neither masked nor off",
					    v);
	}
	return 0;
}

int kr_msix_load(struct kr_msix *m, struct kr_sget *g)
{
	uint64_t tlen = kr_msix_table_size(m->nvec);
	unsigned int nvec, words = pba_words(m->nvec);
	uint8_t *table = NULL;
	uint64_t *pba = NULL;
	bool enabled, fmask;
	int ret = -EPROTO;

	if (kr_sget_begin(g, KR_MSIX_STATE_VERSION))
		return -EPROTO;
	nvec = kr_sget_u16(g);
	enabled = kr_sget_bool(g);
	fmask = kr_sget_bool(g);
	if (g->bad)
		return -EPROTO;
	if (nvec != m->nvec)
		return kr_sget_fail(g, "%u vectors in the snapshot, %u here", nvec, m->nvec);
	/* Read into copies: m is only changed once all of it was checked. */
	table = malloc(tlen);
	pba = malloc(words * sizeof(*pba));
	if (!table || !pba) {
		kr_sget_fail(g, "no memory for a table of %u vectors", m->nvec);
		goto out;
	}
	kr_sget_bytes(g, table, tlen);
	for (unsigned int w = 0; w < words; w++)
		pba[w] = kr_sget_u64(g);
	if (g->bad || check_loaded(m, g, table, pba, enabled, fmask) || kr_sget_done(g))
		goto out;
	pthread_mutex_lock(&m->lock);
	memcpy(m->table, table, tlen);
	memcpy(m->pba, pba, words * sizeof(*pba));
	m->enabled = enabled;
	m->fmask = fmask;
	pthread_mutex_unlock(&m->lock);
	/* Whatever routes the vectors (an irqfd each) follows, as after a guest write. */
	route_changed(m, 0, m->nvec - 1);
	ret = 0;
out:
	free(table);
	free(pba);
	return ret;
}
