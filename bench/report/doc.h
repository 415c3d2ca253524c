/* SPDX-License-Identifier: GPL-2.0 */
/*
 * doc.h - the report document (doc.c): headings, paragraphs, lists, tables and
 * figures, written once to Markdown and HTML side by side.
 */
#ifndef TWINBENCH_DOC_H
#define TWINBENCH_DOC_H

#include <stdarg.h>
#include "figure.h"

/*
 * The report document (report.c), shared with the sections kept in files of their own
 * (report_ablation.c): written once, to Markdown and HTML side by side.
 */
#define CELL_LEN	160
#define MAX_COLS	20

struct doc {
	FILE *md, *html;
	bool in_list;
};

struct table {
	size_t ncols;
	char cells[MAX_COLS][CELL_LEN];
	bool numeric[MAX_COLS];
};

void doc_heading(struct doc *d, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void doc_para(struct doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A list item of class @cls (the HTML list's); doc_list_end() closes the list. */
void doc_item(struct doc *d, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void doc_list_end(struct doc *d);
/* A block of preformatted text. */
void doc_code(struct doc *d, const char *text);
void doc_figure(struct doc *d, const struct run_data *run, const struct plot_entry *p);
/* A table: set t->numeric[] first, then table_begin, cellf and table_row per row, table_end. */
void table_begin(struct doc *d, struct table *t, const char *const *heads);
void table_row(struct doc *d, struct table *t);
void table_end(struct doc *d);
void cellf(struct table *t, size_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "mean ± sd" for people: 4 significant digits, both scaled by k/M/G from 10000 on. */
void fmt_mean_sd(char *out, size_t len, double mean, double sd);

#endif /* TWINBENCH_DOC_H */
