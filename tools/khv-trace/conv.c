// SPDX-License-Identifier: GPL-2.0
/* libtraceevent records of khv's tracepoints into file records (conv.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"

const char *const ktr_event_names[KTR_EV_MAX] = {
	[KTR_EV_ENTRY] = "khv_entry",
	[KTR_EV_EXIT] = "khv_exit",
	[KTR_EV_UEXIT] = "khv_userspace_exit",
	[KTR_EV_HALT] = "khv_halt",
};

enum { NUM, STR };

static const struct field_spec {
	enum ktr_event ev;
	enum ktr_field f;
	const char *name;
	int kind;
	bool required;
} specs[] = {
	{ KTR_EV_ENTRY, KTR_FL_VCPU, "vcpu_id", NUM, true },
	{ KTR_EV_ENTRY, KTR_FL_RIP, "rip", NUM, true },
	{ KTR_EV_EXIT, KTR_FL_VCPU, "vcpu_id", NUM, true },
	{ KTR_EV_EXIT, KTR_FL_CODE, "hw_code", NUM, true },
	{ KTR_EV_EXIT, KTR_FL_RIP, "rip", NUM, true },
	{ KTR_EV_EXIT, KTR_FL_INFO1, "info1", NUM, true },
	{ KTR_EV_EXIT, KTR_FL_INFO2, "info2", NUM, true },
	{ KTR_EV_EXIT, KTR_FL_RET, "ret", NUM, true },
	{ KTR_EV_EXIT, KTR_FL_NAME, "name", STR, true },
	{ KTR_EV_EXIT, KTR_FL_HANDLE, "handle_ns", NUM, false },
	{ KTR_EV_UEXIT, KTR_FL_VCPU, "vcpu_id", NUM, true },
	{ KTR_EV_UEXIT, KTR_FL_CODE, "reason", NUM, true },
	{ KTR_EV_UEXIT, KTR_FL_RET, "ret", NUM, true },
	{ KTR_EV_HALT, KTR_FL_VCPU, "vcpu_id", NUM, true },
	{ KTR_EV_HALT, KTR_FL_CODE, "mp_state", NUM, true },
	{ KTR_EV_HALT, KTR_FL_WAKE, "wake", NUM, true },
};

/* Events without which there is nothing to record. */
static bool event_required(enum ktr_event e)
{
	return e == KTR_EV_ENTRY || e == KTR_EV_EXIT;
}

__attribute__((format(printf, 3, 4)))
static int bad(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *field_unusable(const struct tep_format_field *f, int kind)
{
	if (kind == STR) {
		if (f->flags & TEP_FIELD_IS_DYNAMIC)
			return f->size == 4 ? NULL : "a string location that is not 4 bytes";
		if ((f->flags & TEP_FIELD_IS_ARRAY) && f->size > 0)
			return NULL;
		return "not a string";
	}
	if (f->flags & (TEP_FIELD_IS_ARRAY | TEP_FIELD_IS_DYNAMIC | TEP_FIELD_IS_STRING))
		return "not a number";
	if (f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8)
		return "not a 1, 2, 4 or 8-byte number";
	return NULL;
}

int ktr_conv_init(struct ktr_conv *c, struct tep_handle *tep, char *why, size_t why_len)
{
	unsigned int e, i;

	memset(c, 0, sizeof(*c));
	c->tep = tep;
	for (e = 0; e < KTR_EV_MAX; e++) {
		struct ktr_conv_event *ce = &c->ev[e];

		ce->ev = tep_find_event_by_name(tep, "khv", ktr_event_names[e]);
		ce->id = ce->ev ? ce->ev->id : -1;
		if (!ce->ev && event_required(e))
			return bad(why, why_len, "no event khv:%s (not a khv this tool knows)",
				   ktr_event_names[e]);
	}
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		const struct field_spec *s = &specs[i];
		struct ktr_conv_event *ce = &c->ev[s->ev];
		struct tep_format_field *f;
		const char *no;

		if (!ce->ev)
			continue;
		f = tep_find_field(ce->ev, s->name);
		if (!f) {
			if (!s->required)
				continue;
			return bad(why, why_len,
				   "khv:%s has no field %s (not a khv this tool knows)",
				   ktr_event_names[s->ev], s->name);
		}
		if ((no = field_unusable(f, s->kind)))
			return bad(why, why_len, "khv:%s's field %s is %s", ktr_event_names[s->ev],
				   s->name, no);
		ce->f[s->f] = f;
	}
	c->handle_ns = c->ev[KTR_EV_EXIT].f[KTR_FL_HANDLE] != NULL;
	return 0;
}

void ktr_conv_free(struct ktr_conv *c)
{
	free(c->tids);
	free(c->names);
	free(c->procs);
	free(c->last_ts);
	memset(c, 0, sizeof(*c));
}

/* A numeric field of rec, sign-extended when signed; false if outside rec. */
static bool num(const struct tep_format_field *f, const struct tep_record *rec, uint64_t *v)
{
	unsigned long long x;

	*v = 0;
	if (!f)
		return true;
	if (f->offset < 0 || (long)f->offset + f->size > rec->size)
		return false;
	if (tep_read_number_field((struct tep_format_field *)f, rec->data, &x))
		return false;
	if ((f->flags & TEP_FIELD_IS_SIGNED) && f->size < 8) {
		unsigned int bits = (unsigned int)f->size * 8;

		if (x & (1ull << (bits - 1)))
			x |= ~0ull << bits;
	}
	*v = x;
	return true;
}

/* The exit's name string into out (truncated, NUL-terminated, printable). */
static bool str(const struct ktr_conv_event *ce, const struct tep_record *rec, char *out,
		size_t out_len)
{
	const struct tep_format_field *f = ce->f[KTR_FL_NAME];
	const char *base = rec->data, *p;
	struct tep_record copy = *rec;
	size_t i, n;
	int len = 0;

	out[0] = 0;
	if (f->offset < 0 || (long)f->offset + f->size > rec->size)
		return false;
	if (f->flags & TEP_FIELD_IS_DYNAMIC) {
		p = tep_get_field_raw(NULL, ce->ev, f->name, &copy, &len, 0);
		if (!p || len < 0 || p < base || p + len > base + rec->size)
			return false;
	} else {
		p = base + f->offset;
		len = f->size;
	}
	n = strnlen(p, (size_t)len);
	if (n >= out_len)
		n = out_len - 1;
	for (i = 0; i < n; i++)
		out[i] = (p[i] >= 0x20 && p[i] <= 0x7e) ? p[i] : '?';
	out[n] = 0;
	if (!n)
		memcpy(out, "?", 2);
	return true;
}

static void sanitize(char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && s[i]; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			s[i] = '?';
	s[len - 1] = 0;
}

static int add_proc(struct ktr_conv *c, uint32_t pid, const char *comm)
{
	uint32_t i;

	for (i = 0; i < c->nprocs; i++)
		if (c->procs[i].pid == pid)
			return 0;
	if (c->nprocs == c->procs_cap) {
		uint32_t cap = c->procs_cap ? c->procs_cap * 2 : 8;
		struct ktr_proc *p = realloc(c->procs, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->procs = p;
		c->procs_cap = cap;
	}
	memset(&c->procs[c->nprocs], 0, sizeof(c->procs[0]));
	c->procs[c->nprocs].pid = pid;
	snprintf(c->procs[c->nprocs].comm, KTR_COMM_LEN, "%s", comm);
	sanitize(c->procs[c->nprocs].comm, KTR_COMM_LEN);
	c->nprocs++;
	return 0;
}

static size_t tid_slot(const struct ktr_conv *c, uint32_t tid)
{
	size_t i = (size_t)((tid * 2654435761u) & (c->tid_cap - 1));

	while (c->tids[i].tid && c->tids[i].tid != tid)
		i = (i + 1) & (c->tid_cap - 1);
	return i;
}

static int grow_tids(struct ktr_conv *c)
{
	struct ktr_tid *old = c->tids;
	size_t old_cap = c->tid_cap, i;

	c->tid_cap = old_cap ? old_cap * 2 : 64;
	c->tids = calloc(c->tid_cap, sizeof(*c->tids));
	if (!c->tids) {
		c->tids = old;
		c->tid_cap = old_cap;
		return -ENOMEM;
	}
	for (i = 0; i < old_cap; i++)
		if (old[i].tid)
			c->tids[tid_slot(c, old[i].tid)] = old[i];
	free(old);
	return 0;
}

/* The process of thread tid (cached); -ENOMEM or 0. */
static int pid_of(struct ktr_conv *c, uint32_t tid, uint32_t *pid)
{
	char comm[KTR_COMM_LEN] = "";
	size_t i;
	int r;

	if (!tid) {		/* the idle task: not a VM's */
		*pid = c->default_pid;
		return 0;
	}
	if ((c->ntids + 1) * 2 > c->tid_cap && (r = grow_tids(c)))
		return r;
	i = tid_slot(c, tid);
	if (c->tids[i].tid) {
		*pid = c->tids[i].pid;
		return 0;
	}
	if (!c->proc_of || c->proc_of(c->proc_ctx, tid, pid, comm)) {
		/* Gone already: -p's process, else a process of its own. */
		*pid = c->default_pid ? c->default_pid : tid;
		comm[0] = 0;
	}
	c->tids[i].tid = tid;
	c->tids[i].pid = *pid;
	c->ntids++;
	return add_proc(c, *pid, comm);
}

/* The name table's index of (code, name); -ENOMEM, -E2BIG or 0. */
static int name_index(struct ktr_conv *c, uint32_t code, const char *name, uint16_t *idx)
{
	uint32_t i;

	for (i = 0; i < c->nnames; i++) {
		if (c->names[i].code == code && !strcmp(c->names[i].name, name)) {
			*idx = (uint16_t)i;
			return 0;
		}
	}
	if (c->nnames >= KTR_NO_NAME)
		return -E2BIG;
	if (c->nnames == c->names_cap) {
		uint32_t cap = c->names_cap ? c->names_cap * 2 : 32;
		struct ktr_name *n = realloc(c->names, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		c->names = n;
		c->names_cap = cap;
	}
	memset(&c->names[c->nnames], 0, sizeof(c->names[0]));
	c->names[c->nnames].code = code;
	snprintf(c->names[c->nnames].name, KTR_NAME_LEN, "%s", name);
	*idx = (uint16_t)c->nnames++;
	return 0;
}

static int note_cpu(struct ktr_conv *c, unsigned int cpu, uint64_t ts, uint64_t *prev)
{
	if (cpu >= c->ncpus) {
		uint32_t n = cpu + 1, i;
		uint64_t *p = realloc(c->last_ts, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		for (i = c->ncpus; i < n; i++)
			p[i] = c->start_ns;
		c->last_ts = p;
		c->ncpus = n;
	}
	*prev = c->last_ts[cpu];
	if (ts > c->last_ts[cpu])
		c->last_ts[cpu] = ts;
	return 0;
}

int ktr_conv_record(struct ktr_conv *c, const struct tep_record *rec, struct ktr_rec out[2],
		    unsigned int *n)
{
	struct tep_record copy = *rec;
	const struct ktr_conv_event *ce = NULL;
	struct ktr_rec *r;
	uint64_t v, prev;
	unsigned int e, cpu;
	int type, tid, err;
	char name[KTR_NAME_LEN];

	*n = 0;
	if (rec->size < 8 || !rec->data || rec->cpu < 0 || rec->cpu > 65535) {
		c->bad++;
		return 0;
	}
	cpu = (unsigned int)rec->cpu;
	if ((err = note_cpu(c, cpu, rec->ts, &prev)))
		return err;
	if (rec->missed_events) {
		r = &out[(*n)++];
		memset(r, 0, sizeof(*r));
		r->type = KTR_LOST;
		r->name = KTR_NO_NAME;
		r->cpu = (uint16_t)cpu;
		r->ts = prev < rec->ts ? prev : rec->ts;
		r->info2 = rec->ts;
		r->info1 = rec->missed_events > 0 ? (uint64_t)rec->missed_events : KTR_LOST_UNKNOWN;
		c->lost_markers++;
		if (rec->missed_events > 0)
			c->lost_known += (uint64_t)rec->missed_events;
		else
			c->lost_unknown = true;
	}

	type = tep_data_type(c->tep, &copy);
	for (e = 0; e < KTR_EV_MAX; e++)
		if (c->ev[e].ev && c->ev[e].id == type)
			ce = &c->ev[e];
	if (!ce) {
		c->other++;
		return 0;
	}
	r = &out[*n];
	memset(r, 0, sizeof(*r));
	r->ts = rec->ts;
	r->cpu = (uint16_t)cpu;
	r->name = KTR_NO_NAME;
	tid = tep_data_pid(c->tep, &copy);
	r->tid = tid > 0 ? (uint32_t)tid : 0;

	if (!num(ce->f[KTR_FL_VCPU], rec, &v))
		goto malformed;
	r->vcpu = (uint32_t)v;
	if (!num(ce->f[KTR_FL_RIP], rec, &r->rip) ||
	    !num(ce->f[KTR_FL_INFO1], rec, &r->info1) ||
	    !num(ce->f[KTR_FL_INFO2], rec, &r->info2))
		goto malformed;
	if (!num(ce->f[KTR_FL_CODE], rec, &v))
		goto malformed;
	r->code = (uint32_t)v;
	if (!num(ce->f[KTR_FL_RET], rec, &v))
		goto malformed;
	r->ret = (int32_t)v;
	switch (ce - c->ev) {
	case KTR_EV_ENTRY:
		r->type = KTR_ENTRY;
		break;
	case KTR_EV_EXIT:
		r->type = KTR_EXIT;
		if (!num(ce->f[KTR_FL_HANDLE], rec, &v))
			goto malformed;
		r->handle_ns = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
		if (!str(ce, rec, name, sizeof(name)))
			goto malformed;
		if ((err = name_index(c, r->code, name, &r->name)))
			return err;
		break;
	case KTR_EV_UEXIT:
		r->type = KTR_UEXIT;
		break;
	default:
		r->type = KTR_HALT;
		if (!num(ce->f[KTR_FL_WAKE], rec, &v))
			goto malformed;
		r->flags = v ? KTR_HALT_WAKE : 0;
		break;
	}
	if ((err = pid_of(c, r->tid, &r->pid)))
		return err;
	(*n)++;
	c->events++;
	return 0;

malformed:
	c->bad++;
	return 0;
}
