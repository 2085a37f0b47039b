// SPDX-License-Identifier: GPL-2.0
/*
 * khv-top's live view: the VMs at the top, one picked; below, the exit
 * reasons of that VM (or of all VMs, merged by name) or its counters.
 * The figures come from model.c through source.c; this file only draws
 * them and reads keys (the keys are listed in opts.c's usage text).
 */
#include <curses.h>
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "ui.h"

enum table { TABLE_EXITS, TABLE_COUNTERS };

struct ui {
	struct kt_source *src;
	struct kt_vm_view *views;
	uint32_t nviews;
	bool has_sel;
	uint32_t sel;			/* the picked VM's id */
	bool all;			/* exits of every VM */
	enum kt_sort sort;
	enum kt_lat lat;
	enum table table;
	double interval;
	unsigned long reads;
	char status[160];		/* the last read's failure, if any */
};

static volatile sig_atomic_t ui_stop;

static void on_signal(int sig)
{
	(void)sig;
	ui_stop = 1;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A line of text at row y, cut to the screen's width. */
static void put_line(int y, int attr, const char *text)
{
	if (y < 0 || y >= LINES)
		return;
	move(y, 0);
	clrtoeol();
	if (attr)
		attron(attr);
	addnstr(text, COLS > 0 ? COLS : 0);
	if (attr) {
		/* A highlighted line spans the screen. */
		int x = (int)strlen(text);

		for (; x < COLS; x++)
			addch(' ');
		attroff(attr);
	}
}

static int sel_index(const struct ui *u)
{
	uint32_t i;

	for (i = 0; u->has_sel && i < u->nviews; i++)
		if (u->views[i].id == u->sel)
			return (int)i;
	return -1;
}

/* Keeps a picked VM that still exists, else picks the first. */
static void fix_sel(struct ui *u)
{
	if (sel_index(u) >= 0)
		return;
	u->has_sel = u->nviews > 0;
	if (u->has_sel)
		u->sel = u->views[0].id;
}

static void refresh_data(struct ui *u)
{
	int r;

	kt_views_free(u->views, u->nviews);
	u->views = NULL;
	u->nviews = 0;
	u->status[0] = '\0';
	r = kt_source_poll(u->src);
	if (!r)
		r = kt_source_views(u->src, &u->views, &u->nviews);
	if (r)
		snprintf(u->status, sizeof(u->status), "reading the VMs: %s", khv_strerror(r));
	u->reads++;
	fix_sel(u);
}

static void fmt_share(char *out, size_t size, const struct kt_vm_view *v, enum kt_share s)
{
	if (v->figures && v->shares_valid)
		snprintf(out, size, "%.1f", v->share[s]);
	else
		snprintf(out, size, "-");
}

static void fmt_pct(char *out, size_t size, const struct kt_pct *p)
{
	if (!p->valid)
		snprintf(out, size, "-");
	else
		snprintf(out, size, "%s%.2f", p->open ? ">" : "", p->us);
}

static int draw_vms(struct ui *u, int y, int rows)
{
	char line[512], comm[KT_COMM_SIZE], rate[32], sh[KT_SHARES][16];
	int first = 0, s = sel_index(u), i, k;

	snprintf(line, sizeof(line), "%6s %8s %-16s %5s %10s %6s %6s %6s %6s  %s", "ID", "PID",
		 "COMM", "VCPUS", "EXITS/S", "GUEST%", "KHV%", "USER%", "HALT%", "STATE");
	put_line(y++, A_BOLD, line);
	if (!u->nviews) {
		put_line(y++, 0, "  no VMs");
		return y;
	}
	if (s >= rows)
		first = s - rows + 1;
	for (i = first; i < (int)u->nviews && i < first + rows; i++) {
		const struct kt_vm_view *v = &u->views[i];
		char state[64];

		kt_printable(comm, sizeof(comm), v->comm, sizeof(v->comm));
		if (v->figures)
			kt_human_rate(rate, sizeof(rate), v->exit_rate);
		else
			snprintf(rate, sizeof(rate), "-");
		for (k = 0; k < KT_SHARES; k++)
			fmt_share(sh[k], sizeof(sh[k]), v, (enum kt_share)k);
		if (v->state == KT_DENIED)
			snprintf(state, sizeof(state), "denied (another user's VM)");
		else if (v->state == KT_ERROR)
			snprintf(state, sizeof(state), "error: %s", strerror(-v->err));
		else
			snprintf(state, sizeof(state), "%s%s", kt_state_name(v->state),
				 v->figures && v->total ? " (since start)" : "");
		snprintf(line, sizeof(line), "%6" PRIu32 " %8" PRId32 " %-16s %5" PRIu32
			 " %10s %6s %6s %6s %6s  %s", v->id, v->pid, comm, v->vcpus, rate,
			 sh[KT_SHARE_GUEST], sh[KT_SHARE_KHV], sh[KT_SHARE_USER], sh[KT_SHARE_HALT],
			 state);
		put_line(y++, i == s ? A_REVERSE : 0, line);
	}
	return y;
}

static int draw_exits(struct ui *u, int y, int rows, const struct kt_exit_row *src, uint32_t n,
		      const char *title)
{
	struct kt_exit_row *rows_sorted = NULL;
	char line[512], name[KT_NAME_SIZE], rate[32], count[32], p50[32], p99[32];
	uint32_t i;

	if (n) {
		rows_sorted = malloc(n * sizeof(*rows_sorted));
		if (!rows_sorted) {
			put_line(y++, 0, "  out of memory");
			return y;
		}
		memcpy(rows_sorted, src, n * sizeof(*rows_sorted));
		kt_sort_rows(rows_sorted, n, u->sort, u->lat);
	}
	snprintf(line, sizeof(line), "%s - sorted by %s, latency of %s exits", title,
		 kt_sort_name(u->sort), u->lat == KT_LAT_ALL ? "all" : kt_lat_name(u->lat));
	put_line(y++, A_BOLD, line);
	snprintf(line, sizeof(line), "  %-28s %6s %10s %12s %10s %10s", "EXIT REASON", "CODE",
		 "EXITS/S", "COUNT", "P50 us", "P99 us");
	put_line(y++, A_BOLD, line);
	if (!n)
		put_line(y++, 0, "  no exits yet");
	for (i = 0; i < n && rows-- > 0; i++) {
		const struct kt_exit_row *r = &rows_sorted[i];

		kt_printable(name, sizeof(name), r->name, sizeof(r->name));
		kt_human_rate(rate, sizeof(rate), r->rate);
		kt_human_count(count, sizeof(count), r->count);
		fmt_pct(p50, sizeof(p50), &r->lat[u->lat].p50);
		fmt_pct(p99, sizeof(p99), &r->lat[u->lat].p99);
		snprintf(line, sizeof(line), "  %-28s %#6" PRIx32 " %10s %12s %10s %10s", name,
			 r->code, rate, count, p50, p99);
		put_line(y++, 0, line);
	}
	free(rows_sorted);
	return y;
}

static int draw_counters(int y, int rows, const struct kt_vm_view *v, const char *title)
{
	char line[512], name[KT_NAME_SIZE], rate[32], value[32];
	uint32_t i;

	put_line(y++, A_BOLD, title);
	snprintf(line, sizeof(line), "  %-32s %10s %14s  %s", "COUNTER", "RATE/S", "VALUE", "UNIT");
	put_line(y++, A_BOLD, line);
	if (!v)
		put_line(y++, 0, "  no figures");
	for (i = 0; v && i < v->ncounters && rows > 0; i++) {
		const struct kt_counter_row *c = &v->counters[i];

		kt_printable(name, sizeof(name), c->name, sizeof(c->name));
		if (c->instant)
			snprintf(rate, sizeof(rate), "-");
		else
			kt_human_rate(rate, sizeof(rate), c->rate);
		kt_human_count(value, sizeof(value), c->value);
		snprintf(line, sizeof(line), "  %-32s %10s %14s  %s", name, rate, value,
			 kt_unit_name(c->unit));
		put_line(y++, 0, line);
		rows--;
	}
	return y;
}

static void draw(struct ui *u)
{
	char line[512], title[128], comm[KT_COMM_SIZE];
	int y = 0, vm_rows, s = sel_index(u);
	const struct kt_vm_view *v = s >= 0 ? &u->views[s] : NULL;

	erase();
	snprintf(line, sizeof(line), "khv-top - %" PRIu32 " VM%s, every %.2g s, read %lu%s%s",
		 u->nviews, u->nviews == 1 ? "" : "s", u->interval, u->reads,
		 u->status[0] ? " - " : "", u->status);
	put_line(y++, 0, line);
	y++;
	/* About a third of the screen for the VMs, the rest for the table. */
	vm_rows = (LINES - 8) / 3;
	if (vm_rows < 1)
		vm_rows = 1;
	y = draw_vms(u, y, vm_rows);
	y++;
	if (v)
		kt_printable(comm, sizeof(comm), v->comm, sizeof(v->comm));
	if (u->table == TABLE_COUNTERS) {
		if (v)
			snprintf(title, sizeof(title), "Counters of VM %" PRIu32 " (%s)", v->id, comm);
		else
			snprintf(title, sizeof(title), "Counters");
		draw_counters(y, LINES - y - 3, v && v->figures ? v : NULL, title);
	} else if (u->all) {
		struct kt_exit_row *all = NULL;
		uint32_t n = 0, i;
		int r = 0;

		for (i = 0; i < u->nviews && !r; i++)
			if (u->views[i].figures)
				r = kt_rows_merge(&all, &n, u->views[i].rows, u->views[i].nrows);
		snprintf(title, sizeof(title), "Exits of all VMs");
		draw_exits(u, y, LINES - y - 3, all, r ? 0 : n, title);
		free(all);
	} else {
		if (v)
			snprintf(title, sizeof(title), "Exits of VM %" PRIu32 " (%s)", v->id, comm);
		else
			snprintf(title, sizeof(title), "Exits");
		draw_exits(u, y, LINES - y - 3, v && v->figures ? v->rows : NULL,
			   v && v->figures ? v->nrows : 0, title);
	}
	put_line(LINES - 1, A_REVERSE,
		 " q quit  up/down VM  a all VMs  r/c/p/n sort  l latency  t exits/counters  +/- interval");
	refresh();
}

static void move_sel(struct ui *u, int by)
{
	int s = sel_index(u);

	if (s < 0)
		return;
	s += by;
	if (s < 0)
		s = 0;
	if (s >= (int)u->nviews)
		s = (int)u->nviews - 1;
	u->sel = u->views[s].id;
}

/* A key: false to quit. */
static bool key(struct ui *u, int ch)
{
	switch (ch) {
	case 'q':
	case 'Q':
		return false;
	case KEY_UP:
	case 'k':
		move_sel(u, -1);
		break;
	case KEY_DOWN:
	case 'j':
		move_sel(u, 1);
		break;
	case KEY_PPAGE:
		move_sel(u, -10);
		break;
	case KEY_NPAGE:
		move_sel(u, 10);
		break;
	case 'a':
		u->all = !u->all;
		u->table = TABLE_EXITS;
		break;
	case 'r':
		u->sort = KT_SORT_RATE;
		break;
	case 'c':
		u->sort = KT_SORT_COUNT;
		break;
	case 'p':
		u->sort = KT_SORT_P99;
		break;
	case 'n':
		u->sort = KT_SORT_NAME;
		break;
	case 'l':
		u->lat = (enum kt_lat)((u->lat + 1) % KT_LATS);
		break;
	case 't':
	case '\t':
		u->table = u->table == TABLE_EXITS ? TABLE_COUNTERS : TABLE_EXITS;
		break;
	case '+':
		u->interval = u->interval * 2 > KT_INTERVAL_MAX ? KT_INTERVAL_MAX : u->interval * 2;
		break;
	case '-':
		u->interval = u->interval / 2 < 0.25 ? 0.25 : u->interval / 2;
		break;
	}
	return true;
}

int kt_ui_run(struct kt_source *s, const struct kt_opts *o, char *why, size_t why_len)
{
	struct ui u = { .src = s, .sort = o->sort, .interval = o->interval };
	struct sigaction sa;
	double next;
	int status = KT_EXIT_OK;

	setlocale(LC_CTYPE, "");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (!initscr()) {
		snprintf(why, why_len, "the terminal cannot be set up (TERM?)");
		return KT_EXIT_FAIL;
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);

	refresh_data(&u);
	if ((o->has_vm || o->has_pid) && !s->matched) {
		endwin();
		if (o->has_vm)
			snprintf(why, why_len, "no VM with id %u", o->vm);
		else
			snprintf(why, why_len, "process %d has no VM", o->pid);
		kt_views_free(u.views, u.nviews);
		return KT_EXIT_NO_VM;
	}
	next = mono_now() + u.interval;
	while (!ui_stop) {
		double left;
		int ch;

		draw(&u);
		left = next - mono_now();
		if (left <= 0) {
			if (o->iterations && u.reads >= o->iterations)
				break;
			refresh_data(&u);
			next = mono_now() + u.interval;
			continue;
		}
		timeout((int)(left * 1000) + 1);
		ch = getch();
		if (ch == ERR || ch == KEY_RESIZE)
			continue;
		if (!key(&u, ch))
			break;
		if (ch == '+' || ch == '-')
			next = mono_now() + u.interval;
	}
	endwin();
	kt_views_free(u.views, u.nviews);
	return status;
}
