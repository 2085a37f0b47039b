// SPDX-License-Identifier: GPL-2.0
/*
 * The --study option (study.h): parse it, print it back, turn it into
 * khv's struct khv_study, and print each KHV_EXIT_STUDY as one line.
 *
 * The option string is outside input: anything wrong in it is one line
 * naming the item, never a crash; nothing is read past its NUL.  Parsing
 * runs on the main thread before any VM; kr_study_wanted(), kr_study_line()
 * and kr_study_log() run on the vCPU threads, on the read-only struct and
 * their own run page, with nothing shared but the log's fd (one write()
 * per line): no lock, no allocation.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "study.h"
#include "strbuf.h"

#define SHOW	40	/* at most this much of an item is quoted back */
#define EVENTS	"expected cpuid[:LEAF], rdmsr[:INDEX], wrmsr[:INDEX], msr[:INDEX], " \
		"rdtsc, hlt, cr, cr0, cr3, cr4, cr8, cr8-read, invlpg, pause, io[:PORT], " \
		"exception[:VECTOR] or desc"
/* The vectors khv studies (KHV_STUDY_EXCEPTIONS), as the option names them. */
#define VECTORS	"de (0), db (1), bp (3), of (4), br (5), ud (6), nm (7), ts (10), np (11), " \
		"ss (12), gp (13), pf (14), mf (16), ac (17) and xm (19)"
/* NMI, #DF, #MC: the host's, never studied. */
#define HOST_VECTORS	((1u << 2) | (1u << 8) | (1u << 18))

/* By event number (KHV_STUDY_EV_*): the name in the option and the lines. */
static const char *const event_names[] = {
	[KHV_STUDY_EV_CPUID] = "cpuid",
	[KHV_STUDY_EV_RDMSR] = "rdmsr",
	[KHV_STUDY_EV_WRMSR] = "wrmsr",
	[KHV_STUDY_EV_RDTSC] = "rdtsc",
	[KHV_STUDY_EV_HLT] = "hlt",
	[KHV_STUDY_EV_CR_WRITE] = "cr-write",
	[KHV_STUDY_EV_CR8_READ] = "cr8-read",
	[KHV_STUDY_EV_INVLPG] = "invlpg",
	[KHV_STUDY_EV_PAUSE] = "pause",
	[KHV_STUDY_EV_IO] = "io",
	[KHV_STUDY_EV_EXCEPTION] = "exception",
	[KHV_STUDY_EV_DESC] = "desc",
};

/*
 * By vector: the exception's name, as the lines show it; the option takes
 * it in any case, with or without its '#' (exception:pf, exception:#PF),
 * and writes it back lowercase without '#'.  Besides the vectors khv
 * studies, those of the others that have a name, for the messages that
 * refuse them; the rest (9, 15, 22-27, 31) are reserved.
 */
static const char *const vector_names[32] = {
	[0] = "#DE", [1] = "#DB", [2] = "NMI", [3] = "#BP", [4] = "#OF", [5] = "#BR",
	[6] = "#UD", [7] = "#NM", [8] = "#DF", [10] = "#TS", [11] = "#NP", [12] = "#SS",
	[13] = "#GP", [14] = "#PF", [16] = "#MF", [17] = "#AC", [18] = "#MC", [19] = "#XM",
	[20] = "#VE", [21] = "#CP", [28] = "#HV", [29] = "#VC", [30] = "#SX",
};

/* The events without a list: the name alone, no :VALUE. */
static const struct {
	const char *name;
	uint64_t event;
	uint32_t cr;		/* KHV_STUDY_CR_WRITE: that CR's bit in cr_write */
} plain[] = {
	{ "rdtsc", KHV_STUDY_RDTSC, 0 },
	{ "hlt", KHV_STUDY_HLT, 0 },
	{ "cr", KHV_STUDY_CR_WRITE, 0 },		/* every CR: cr_all */
	{ "cr0", KHV_STUDY_CR_WRITE, KHV_STUDY_CR0 },
	{ "cr3", KHV_STUDY_CR_WRITE, KHV_STUDY_CR3 },
	{ "cr4", KHV_STUDY_CR_WRITE, KHV_STUDY_CR4 },
	{ "cr8", KHV_STUDY_CR_WRITE, KHV_STUDY_CR8 },
	{ "cr8-read", KHV_STUDY_CR8_READ, 0 },
	{ "invlpg", KHV_STUDY_INVLPG, 0 },
	{ "pause", KHV_STUDY_PAUSE, 0 },
	{ "desc", KHV_STUDY_DESC, 0 },
};

/* The registers of a CR8 read's destination (run->study.cr.gpr), as encoded. */
static const char *const gpr_names[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* At most SHOW bytes of s[0..n) for a message: printable, one line. */
static void quote(char *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < SHOW; i++)
		out[i] = s[i] >= ' ' && s[i] < 0x7f ? s[i] : '?';
	strcpy(out + i, n > SHOW ? "..." : "");
}

static int bad(char *why, size_t len, const char *item, size_t n, const char *what)
{
	char q[SHOW + 4];

	quote(q, item, n);
	snprintf(why, len, "--study: '%s': %s", q, what);
	return -EINVAL;
}

static bool is(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && !memcmp(s, word, n);
}

/* A 32-bit number: 0x and hex digits, or decimal digits; no sign, no space. */
static bool parse_u32(const char *s, size_t n, uint32_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		n -= 2;
	}
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		v = v * base + d;
		if (v > UINT32_MAX)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

static int find(const uint32_t *list, unsigned int n, uint32_t v)
{
	for (unsigned int i = 0; i < n; i++)
		if (list[i] == v)
			return (int)i;
	return -1;
}

static bool have_port(const uint16_t *list, unsigned int n, uint16_t v)
{
	for (unsigned int i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

/* s[0..n) is upper, ignoring the case of s's ASCII letters. */
static bool same_nocase(const char *s, size_t n, const char *upper)
{
	if (n != strlen(upper))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 'a' + 'A') : s[i];

		if (c != upper[i])
			return false;
	}
	return true;
}

/* VECTOR: a number, or a name of vector_names ('#' optional): 0 to 31, or -1. */
static int parse_vector(const char *s, size_t n)
{
	uint32_t v;

	if (parse_u32(s, n, &v))
		return v < 32 ? (int)v : -1;
	if (n && s[0] == '#') {
		s++;
		n--;
	}
	for (int i = 0; i < 32; i++) {
		const char *name = vector_names[i];

		if (name && same_nocase(s, n, name[0] == '#' ? name + 1 : name))
			return i;
	}
	return -1;
}

/* "cr" and digits: a control register by its number. */
static bool is_crn(const char *s, size_t n)
{
	if (n < 3 || s[0] != 'c' || s[1] != 'r')
		return false;
	for (size_t i = 2; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* One item, it[0..n): NAME or NAME:VALUE. */
static int parse_item(const char *it, size_t n, struct kr_study *s, char *why, size_t len)
{
	const char *colon = memchr(it, ':', n);
	size_t name_n = colon ? (size_t)(colon - it) : n;
	const char *val = colon ? colon + 1 : NULL;
	size_t val_n = colon ? n - name_n - 1 : 0;
	unsigned int ev = 0;
	uint32_t v;
	int i;

	if (is(it, name_n, "cpuid")) {
		s->events |= KHV_STUDY_CPUID;
		if (!colon) {
			s->cpuid_all = true;
			return 0;
		}
		if (!parse_u32(val, val_n, &v))
			return bad(why, len, it, n, "a CPUID leaf is a 32-bit number, hex with 0x "
				   "or decimal");
		if (find(s->cpuid, s->nr_cpuid, v) >= 0)
			return 0;
		if (s->nr_cpuid == KHV_STUDY_MAX_LIST)
			return bad(why, len, it, n, "more than 16 CPUID leaves (khv's limit; "
				   "plain cpuid studies every leaf)");
		s->cpuid[s->nr_cpuid++] = v;
		return 0;
	}
	if (is(it, name_n, "rdmsr"))
		ev = KR_STUDY_RD;
	else if (is(it, name_n, "wrmsr"))
		ev = KR_STUDY_WR;
	else if (is(it, name_n, "msr"))
		ev = KR_STUDY_RD | KR_STUDY_WR;
	if (ev) {
		if (ev & KR_STUDY_RD)
			s->events |= KHV_STUDY_RDMSR;
		if (ev & KR_STUDY_WR)
			s->events |= KHV_STUDY_WRMSR;
		if (!colon) {
			s->rdmsr_all |= !!(ev & KR_STUDY_RD);
			s->wrmsr_all |= !!(ev & KR_STUDY_WR);
			return 0;
		}
		if (!parse_u32(val, val_n, &v))
			return bad(why, len, it, n, "an MSR index is a 32-bit number, hex with 0x "
				   "or decimal");
		i = find(s->msrs, s->nr_msrs, v);
		if (i >= 0) {
			s->msr_ev[i] |= ev;
			return 0;
		}
		if (s->nr_msrs == KHV_STUDY_MAX_LIST)
			return bad(why, len, it, n, "more than 16 MSRs (khv's limit, for rdmsr and "
				   "wrmsr together; plain rdmsr or wrmsr studies every MSR)");
		s->msrs[s->nr_msrs] = v;
		s->msr_ev[s->nr_msrs++] = ev;
		return 0;
	}
	if (is(it, name_n, "io")) {
		s->events |= KHV_STUDY_IO;
		if (!colon) {
			s->io_all = true;
			return 0;
		}
		if (!parse_u32(val, val_n, &v) || v > UINT16_MAX)
			return bad(why, len, it, n, "an I/O port is a 16-bit number, hex with 0x "
				   "or decimal");
		if (have_port(s->ports, s->nr_ports, (uint16_t)v))
			return 0;
		if (s->nr_ports == KHV_STUDY_MAX_LIST)
			return bad(why, len, it, n, "more than 16 I/O ports (khv's limit; "
				   "plain io studies every port)");
		s->ports[s->nr_ports++] = (uint16_t)v;
		return 0;
	}
	if (is(it, name_n, "exception")) {
		char what[256];

		s->events |= KHV_STUDY_EXCEPTION;
		if (!colon) {
			s->exc_all = true;
			return 0;
		}
		i = parse_vector(val, val_n);
		if (i < 0)
			return bad(why, len, it, n, "an exception vector is a number 0-31, hex with "
				   "0x or decimal, or a name, with or without '#': de, db, bp, of, br, "
				   "ud, nm, ts, np, ss, gp, pf, mf, ac or xm");
		if (!(KHV_STUDY_EXCEPTIONS & (1u << i))) {
			snprintf(what, sizeof(what), "khv does not study vector %d (%s%s); it "
				 "studies " VECTORS, i, vector_names[i] ? vector_names[i] : "reserved",
				 HOST_VECTORS & (1u << i) ? ", the host's" : "");
			return bad(why, len, it, n, what);
		}
		s->exceptions |= 1u << i;
		return 0;
	}
	for (i = 0; i < (int)(sizeof(plain) / sizeof(plain[0])); i++) {
		char what[80];

		if (!is(it, name_n, plain[i].name))
			continue;
		if (colon) {
			snprintf(what, sizeof(what), "%s takes no :VALUE%s", plain[i].name,
				 is(it, name_n, "cr") ? " (cr0, cr3, cr4 and cr8 are one CR each)" :
				 "");
			return bad(why, len, it, n, what);
		}
		s->events |= plain[i].event;
		if (plain[i].event == KHV_STUDY_CR_WRITE) {
			s->cr_write |= plain[i].cr;
			s->cr_all |= !plain[i].cr;
		}
		return 0;
	}
	if (is_crn(it, name_n))
		return bad(why, len, it, n, "khv studies writes to cr0, cr3, cr4 and cr8 only "
			   "(cr: all four)");
	return bad(why, len, it, n, "unknown event; " EVENTS);
}

int kr_study_parse(const char *arg, struct kr_study *s, char *why, size_t len)
{
	const char *p = arg;

	if (!arg || !*arg) {
		snprintf(why, len, "--study: empty; " EVENTS);
		return -EINVAL;
	}
	for (;;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		int err;

		if (!n) {
			char q[SHOW + 4];

			quote(q, arg, strlen(arg));
			snprintf(why, len, "--study '%s': an empty item", q);
			return -EINVAL;
		}
		err = parse_item(p, n, s, why, len);
		if (err)
			return err;
		if (!c)
			return 0;
		p = c + 1;
	}
}

int kr_study_format(const struct kr_study *s, char *buf, size_t len)
{
	static const char *const msr_names[] = { NULL, "rdmsr", "wrmsr", "msr" };
	size_t n = 0;

	if (len)
		buf[0] = 0;
	if (s->cpuid_all)
		kr_put(buf, len, &n, "%scpuid", n ? "," : "");
	for (unsigned int i = 0; i < s->nr_cpuid; i++)
		kr_put(buf, len, &n, "%scpuid:0x%x", n ? "," : "", s->cpuid[i]);
	if (s->rdmsr_all)
		kr_put(buf, len, &n, "%srdmsr", n ? "," : "");
	if (s->wrmsr_all)
		kr_put(buf, len, &n, "%swrmsr", n ? "," : "");
	for (unsigned int i = 0; i < s->nr_msrs; i++)
		kr_put(buf, len, &n, "%s%s:0x%x", n ? "," : "", msr_names[s->msr_ev[i] & 3],
		    s->msrs[i]);
	if (s->events & KHV_STUDY_RDTSC)
		kr_put(buf, len, &n, "%srdtsc", n ? "," : "");
	if (s->events & KHV_STUDY_HLT)
		kr_put(buf, len, &n, "%shlt", n ? "," : "");
	if (s->cr_all)
		kr_put(buf, len, &n, "%scr", n ? "," : "");
	for (unsigned int i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (s->cr_write & plain[i].cr)
			kr_put(buf, len, &n, "%s%s", n ? "," : "", plain[i].name);
	if (s->events & KHV_STUDY_CR8_READ)
		kr_put(buf, len, &n, "%scr8-read", n ? "," : "");
	if (s->events & KHV_STUDY_INVLPG)
		kr_put(buf, len, &n, "%sinvlpg", n ? "," : "");
	if (s->events & KHV_STUDY_PAUSE)
		kr_put(buf, len, &n, "%spause", n ? "," : "");
	if (s->events & KHV_STUDY_DESC)
		kr_put(buf, len, &n, "%sdesc", n ? "," : "");
	if (s->io_all)
		kr_put(buf, len, &n, "%sio", n ? "," : "");
	for (unsigned int i = 0; i < s->nr_ports; i++)
		kr_put(buf, len, &n, "%sio:0x%x", n ? "," : "", s->ports[i]);
	if (s->exc_all)
		kr_put(buf, len, &n, "%sexception", n ? "," : "");
	for (unsigned int i = 0; i < 32; i++) {
		const char *name = vector_names[i];

		if (!(s->exceptions & (1u << i)))
			continue;
		if (name && name[0] == '#')	/* the parser's: every one it keeps */
			kr_put(buf, len, &n, "%sexception:%c%c", n ? "," : "", name[1] - 'A' + 'a',
			    name[2] - 'A' + 'a');
		else
			kr_put(buf, len, &n, "%sexception:%u", n ? "," : "", i);
	}
	return (int)n;
}

int kr_study_names(uint64_t events, char *buf, size_t len)
{
	size_t n = 0;

	if (len)
		buf[0] = 0;
	for (unsigned int i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++)
		if (events & (1ull << i))
			kr_put(buf, len, &n, "%s%s", n ? "," : "", event_names[i]);
	if (events & ~(uint64_t)KHV_STUDY_ALL)
		kr_put(buf, len, &n, "%s0x%llx", n ? "," : "",
		    (unsigned long long)(events & ~(uint64_t)KHV_STUDY_ALL));
	return (int)n;
}

int kr_study_check(const struct kr_study *s, int caps, char *why, size_t len)
{
	uint64_t missing = s->events & ~(uint64_t)(caps > 0 ? caps : 0);
	char names[128];	/* all eleven names: 71 */

	if (!missing)
		return 0;
	if (caps <= 0) {
		snprintf(why, len, "--study: this khv has no study mode (KHV_CAP_STUDY)");
		return -EOPNOTSUPP;
	}
	kr_study_names(missing, names, sizeof(names));
	snprintf(why, len, "--study: this khv does not study %s (KHV_CAP_STUDY 0x%x)", names,
		 (unsigned int)caps);
	return -EOPNOTSUPP;
}

void kr_study_request(const struct kr_study *s, struct khv_study *k)
{
	memset(k, 0, sizeof(*k));
	k->events = s->events;
	/* A list only for an event asked for, and none for "every one" (khv's rules). */
	if ((s->events & KHV_STUDY_CPUID) && !s->cpuid_all) {
		k->nr_cpuid = s->nr_cpuid;
		memcpy(k->cpuid, s->cpuid, s->nr_cpuid * sizeof(s->cpuid[0]));
	}
	if ((s->events & (KHV_STUDY_RDMSR | KHV_STUDY_WRMSR)) && !s->rdmsr_all && !s->wrmsr_all) {
		k->nr_msrs = s->nr_msrs;
		memcpy(k->msrs, s->msrs, s->nr_msrs * sizeof(s->msrs[0]));
	}
	if ((s->events & KHV_STUDY_CR_WRITE) && !s->cr_all)
		k->cr_write = s->cr_write;
	if ((s->events & KHV_STUDY_IO) && !s->io_all) {
		k->nr_ports = s->nr_ports;
		memcpy(k->ports, s->ports, s->nr_ports * sizeof(s->ports[0]));
	}
	if ((s->events & KHV_STUDY_EXCEPTION) && !s->exc_all)
		k->exceptions = s->exceptions;
}

static bool msr_wanted(const struct kr_study *s, uint32_t index, unsigned int ev)
{
	int i = find(s->msrs, s->nr_msrs, index);

	return i >= 0 && (s->msr_ev[i] & ev);
}

bool kr_study_wanted(const struct kr_study *s, const struct khv_run *run)
{
	switch (run->study.event) {
	case KHV_STUDY_EV_RDMSR:
		return s->rdmsr_all || msr_wanted(s, run->study.msr.index, KR_STUDY_RD);
	case KHV_STUDY_EV_WRMSR:
		return s->wrmsr_all || msr_wanted(s, run->study.msr.index, KR_STUDY_WR);
	default:
		/*
		 * khv's own lists (cpuid[], cr_write, ports[], exceptions) are
		 * exact for the others
		 */
		return true;
	}
}

/* "exception 14 #PF error 0x2 cr2 0xADDR during delivery", "exception 1 #DB by int1" */
static void exception_line(const struct khv_run *run, char *buf, size_t len, size_t *n)
{
	uint32_t vector = run->study.exception.vector;
	const char *name = vector < 32 ? vector_names[vector] : NULL;

	kr_put(buf, len, n, "exception %u%s%s", vector, name ? " " : "", name ? name : "");
	if (run->study.exception.int1)
		kr_put(buf, len, n, " by int1");
	if (run->study.exception.has_error_code)
		kr_put(buf, len, n, " error 0x%x", run->study.exception.error_code);
	/* CR2 for #PF, DR6's bits for #DB; any other's (cannot happen) as it is. */
	if (run->study.exception.has_payload)
		kr_put(buf, len, n, " %s 0x%llx", vector == 14 ? "cr2" : vector == 1 ? "dr6" :
		    "payload", (unsigned long long)run->study.exception.payload);
	if (run->study.exception.during_delivery)
		kr_put(buf, len, n, " during delivery");
}

/*
 * "desc sgdt -> base 0xB limit 0xL at 0xADDR", "desc str -> 0x30 into rax",
 * "desc ltr <- 0x30 base 0xB limit 0xL from rdx": what a store stores and
 * where, what a load loads and from where.
 */
static void desc_line(const struct khv_run *run, char *buf, size_t len, size_t *n)
{
	static const char *const insns[] = {
		[KHV_DESC_SGDT] = "sgdt", [KHV_DESC_SIDT] = "sidt", [KHV_DESC_LGDT] = "lgdt",
		[KHV_DESC_LIDT] = "lidt", [KHV_DESC_SLDT] = "sldt", [KHV_DESC_STR] = "str",
		[KHV_DESC_LLDT] = "lldt", [KHV_DESC_LTR] = "ltr",
	};
	uint8_t insn = run->study.desc.insn;
	bool load = insn == KHV_DESC_LGDT || insn == KHV_DESC_LIDT || insn == KHV_DESC_LLDT ||
		    insn == KHV_DESC_LTR;
	bool table = insn <= KHV_DESC_LIDT;

	if (insn < sizeof(insns) / sizeof(insns[0]))
		kr_put(buf, len, n, "desc %s %s ", insns[insn], load ? "<-" : "->");
	else	/* cannot happen */
		kr_put(buf, len, n, "desc %u %s ", insn, load ? "<-" : "->");
	if (!table)
		kr_put(buf, len, n, "0x%x%s", run->study.desc.selector, load ? " " : "");
	if (table || load)
		kr_put(buf, len, n, "base 0x%llx limit 0x%x",
		    (unsigned long long)run->study.desc.base, run->study.desc.limit);
	if (run->study.desc.mem)
		kr_put(buf, len, n, " %s 0x%llx", load ? "from" : "at",
		    (unsigned long long)run->study.desc.addr);
	else
		kr_put(buf, len, n, " %s %s", load ? "from" : "into",
		    gpr_names[run->study.desc.gpr & 15]);
}

int kr_study_line(const struct khv_run *run, unsigned int vcpu, char *buf, size_t len)
{
	size_t n = 0;

	if (len)
		buf[0] = 0;
	kr_put(buf, len, &n, "khv-run: study vcpu %u rip 0x%llx ", vcpu,
	    (unsigned long long)run->study.rip);
	switch (run->study.event) {
	case KHV_STUDY_EV_CPUID:
		kr_put(buf, len, &n, "cpuid leaf 0x%x subleaf 0x%x -> eax 0x%x ebx 0x%x ecx 0x%x "
		    "edx 0x%x", run->study.cpuid.leaf, run->study.cpuid.subleaf,
		    run->study.cpuid.eax, run->study.cpuid.ebx, run->study.cpuid.ecx,
		    run->study.cpuid.edx);
		break;
	case KHV_STUDY_EV_RDMSR:
		kr_put(buf, len, &n, "rdmsr 0x%x -> 0x%llx%s", run->study.msr.index,
		    (unsigned long long)run->study.msr.value, run->study.msr.gp ? " (#GP)" : "");
		break;
	case KHV_STUDY_EV_WRMSR:
		kr_put(buf, len, &n, "wrmsr 0x%x <- 0x%llx", run->study.msr.index,
		    (unsigned long long)run->study.msr.value);
		break;
	case KHV_STUDY_EV_RDTSC:
		kr_put(buf, len, &n, "%s -> 0x%llx", run->study.rdtsc.rdtscp ? "rdtscp" : "rdtsc",
		    (unsigned long long)run->study.rdtsc.tsc);
		if (run->study.rdtsc.rdtscp)
			kr_put(buf, len, &n, " aux 0x%x", run->study.rdtsc.aux);
		break;
	case KHV_STUDY_EV_HLT:
		kr_put(buf, len, &n, "hlt");
		break;
	case KHV_STUDY_EV_CR_WRITE:
		kr_put(buf, len, &n, "cr%u <- 0x%llx (was 0x%llx)", run->study.cr.cr,
		    (unsigned long long)run->study.cr.value, (unsigned long long)run->study.cr.old);
		break;
	case KHV_STUDY_EV_CR8_READ:
		if (run->study.cr.gpr < 16)
			kr_put(buf, len, &n, "cr8 -> 0x%llx (into %s)",
			    (unsigned long long)run->study.cr.value, gpr_names[run->study.cr.gpr]);
		else	/* cannot happen: 4 bits of ModRM and REX */
			kr_put(buf, len, &n, "cr8 -> 0x%llx (into gpr %u)",
			    (unsigned long long)run->study.cr.value, run->study.cr.gpr);
		break;
	case KHV_STUDY_EV_INVLPG:
		kr_put(buf, len, &n, "invlpg 0x%llx", (unsigned long long)run->study.invlpg.addr);
		break;
	case KHV_STUDY_EV_PAUSE:
		kr_put(buf, len, &n, "pause");
		break;
	case KHV_STUDY_EV_IO:
		kr_put(buf, len, &n, "io %s%s port 0x%x size %u", run->study.io.in ? "in" : "out",
		    run->study.io.string ? "s" : "", run->study.io.port, run->study.io.size);
		/* What OUT writes; INS and OUTS have their data in guest memory. */
		if (!run->study.io.in && !run->study.io.string)
			kr_put(buf, len, &n, " value 0x%x", run->study.io.value);
		if (run->study.io.rep)
			kr_put(buf, len, &n, " rep");
		break;
	case KHV_STUDY_EV_EXCEPTION:
		exception_line(run, buf, len, &n);
		break;
	case KHV_STUDY_EV_DESC:
		desc_line(run, buf, len, &n);
		break;
	default:
		kr_put(buf, len, &n, "event %u", run->study.event);
		break;
	}
	return (int)n;
}

int kr_study_log(int fd, bool crlf, const struct khv_run *run, unsigned int vcpu)
{
	char buf[KR_STUDY_LINE_MAX];
	size_t n = (size_t)kr_study_line(run, vcpu, buf, sizeof(buf) - 2), off = 0;

	if (n > sizeof(buf) - 3)
		n = sizeof(buf) - 3;	/* cannot happen: the longest line is 157 */
	if (crlf)
		buf[n++] = '\r';
	buf[n++] = '\n';
	while (off < n) {
		ssize_t w = write(fd, buf + off, n - off);
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (!w)
			return -EIO;
		if (errno != EAGAIN)
			return -errno;		/* EINTR too: a kick, let the vCPU stop */
		/* A non-blocking fd (a terminal shared with stdio): wait for room. */
		if (poll(&p, 1, -1) < 0)
			return -errno;
	}
	return 0;
}
