/* SPDX-License-Identifier: GPL-2.0 */
/* khv-top's live view (ncurses): the only file that knows the terminal. */
#ifndef KHV_TOP_UI_H
#define KHV_TOP_UI_H

#include <stddef.h>

#include "opts.h"
#include "source.h"

/* Runs until 'q', a signal or o->iterations reads: a KT_EXIT_* status. */
int kt_ui_run(struct kt_source *s, const struct kt_opts *o, char *why, size_t why_len);

#endif /* KHV_TOP_UI_H */
