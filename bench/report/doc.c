// SPDX-License-Identifier: GPL-2.0
/*
 * doc.c - the report document: each heading, paragraph, list item, table and figure is
 * written once, to the Markdown and the HTML file side by side.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "doc.h"
#include "report_html.h"

static void doc_vtext(struct doc *d, const char *fmt, va_list ap, char **out)
{
	(void)d;
	if (vasprintf(out, fmt, ap) < 0) {
		perror("twinbench");
		exit(1);
	}
}

void doc_heading(struct doc *d, int level, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	doc_vtext(d, fmt, ap, &text);
	va_end(ap);
	fprintf(d->md, "\n%.*s %s\n\n", level, "######", text);
	fprintf(d->html, "<h%d>", level);
	html_escape(d->html, text);
	fprintf(d->html, "</h%d>\n", level);
	free(text);
}

void doc_para(struct doc *d, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	doc_vtext(d, fmt, ap, &text);
	va_end(ap);
	fprintf(d->md, "%s\n\n", text);
	fputs("<p>", d->html);
	html_escape(d->html, text);
	fputs("</p>\n", d->html);
	free(text);
}

void doc_item(struct doc *d, const char *cls, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	doc_vtext(d, fmt, ap, &text);
	va_end(ap);
	if (!d->in_list)
		fputs("<ul>\n", d->html);
	d->in_list = true;
	fprintf(d->md, "- %s\n", text);
	fprintf(d->html, "<li class=\"%s\">", cls);
	html_escape(d->html, text);
	fputs("</li>\n", d->html);
	free(text);
}

void doc_list_end(struct doc *d)
{
	if (d->in_list) {
		fputs("</ul>\n", d->html);
		fputc('\n', d->md);
	}
	d->in_list = false;
}

void doc_code(struct doc *d, const char *text)
{
	fprintf(d->md, "```\n%s```\n\n", text);
	fputs("<pre>", d->html);
	html_escape(d->html, text);
	fputs("</pre>\n", d->html);
}

static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
}

void table_begin(struct doc *d, struct table *t, const char *const *heads)
{
	size_t n = 0;

	while (heads[n] && n < MAX_COLS)
		n++;
	t->ncols = n;
	fputc('|', d->md);
	fputs("<table>\n<tr>", d->html);
	for (size_t i = 0; i < n; i++) {
		fputc(' ', d->md);
		md_cell(d->md, heads[i]);
		fputs(" |", d->md);
		fputs("<th>", d->html);
		html_escape(d->html, heads[i]);
		fputs("</th>", d->html);
	}
	fputs("\n|", d->md);
	for (size_t i = 0; i < n; i++)
		fputs(t->numeric[i] ? "---:|" : "---|", d->md);
	fputs("</tr>\n", d->html);
	fputc('\n', d->md);
}

/* Write the cells of @t as one row; in HTML a verdict cell is coloured by its verdict. */
void table_row(struct doc *d, struct table *t)
{
	fputc('|', d->md);
	fputs("<tr>", d->html);
	for (size_t i = 0; i < t->ncols; i++) {
		const char *c = t->cells[i];

		fputc(' ', d->md);
		md_cell(d->md, t->cells[i]);
		fputs(" |", d->md);
		fprintf(d->html, "<td class=\"%s\">", t->numeric[i] ? "num" :
			!strncmp(c, "slower", 6) ? "slower" : !strncmp(c, "faster", 6) ? "faster" :
			"");
		html_escape(d->html, t->cells[i]);
		fputs("</td>", d->html);
	}
	fputc('\n', d->md);
	fputs("</tr>\n", d->html);
}

void table_end(struct doc *d)
{
	fputc('\n', d->md);
	fputs("</table>\n", d->html);
}

void cellf(struct table *t, size_t col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->cells[col], CELL_LEN, fmt, ap);
	va_end(ap);
}

/* "mean ± sd" for people: 4 significant digits, both scaled by k/M/G from 10000 on. */
void fmt_mean_sd(char *out, size_t len, double mean, double sd)
{
	const char *prefix = si_scale(&mean, &sd, 10000);

	snprintf(out, len, "%.4g ± %.2g%s%s", mean, isfinite(sd) ? sd : 0.0, *prefix ? " " : "",
		 prefix);
}

void doc_figure(struct doc *d, const struct run_data *run, const struct plot_entry *p)
{
	fprintf(d->md, "![%s](plots/%s.svg)\n\n*%s* ([PNG](plots/%s.png))\n\n", p->base, p->base,
		p->caption, p->base);
	fig_html(d->html, run->dir, p);
}
