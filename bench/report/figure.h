/* SPDX-License-Identifier: GPL-2.0 */
/*
 * figure.h - the one figure helper set (figure.c): a gnuplot data file and the
 * variables of its script in plots/, rendered to SVG and PNG; the report's plots and its
 * sections' charts (breakdown, instructions) all draw through it.
 */
#ifndef TWINBENCH_FIGURE_H
#define TWINBENCH_FIGURE_H

#include "report_run.h"

/* One rendered plot: RUN/plots/<base>.{svg,png} and what it shows. */
struct plot_entry {
	char base[160];
	char caption[256];
};

struct plot_list {
	struct plot_entry *v;
	size_t n, cap;
	struct text_list notes;		/* plots skipped, and why */
	struct text_list failures;	/* gnuplot warnings and errors */
};

void plot_list_free(struct plot_list *l);

/*
 * One gnuplot figure: its data file RUN/plots/<base>.dat and the variables
 * its script in plots/ reads; fig_render() runs gnuplot and adds it to a plot_list.
 */
struct figure {
	char dir[PATH_MAX];	/* the folder whose plots/ holds it: a run's, the dashboard's */
	char corner[256];	/* the small print in its corner */
	const char *scripts_dir;
	const char *script;	/* e.g. "relative.gp" */
	char base[160];		/* file name without extension in RUN/plots/ */
	char datafile[PATH_MAX];
	char vars[2048];	/* gnuplot assignments, "name='value'; ..." */
	size_t vars_len;
};

void fig_init(struct figure *fig, const struct run_data *run, const char *scripts_dir,
	      const char *script, const char *base);
/* A figure of no one run (the dashboard's): in @dir/plots/, @corner in its corner. */
void fig_init_dir(struct figure *fig, const char *dir, const char *corner,
		  const char *scripts_dir, const char *script, const char *base);
/*
 * The plots/ folder of gnuplot scripts: @opt (--plots), $TWINBENCH_PLOTS, plots/ beside
 * the binary's folder, or ./plots; -1 when the one chosen has no scripts.
 */
int fig_find_scripts(const char *opt, char *out, size_t len);
/* An <img> of @dir/plots/<base>.svg inlined as base64 with its caption, into @html. */
void fig_html(FILE *html, const char *dir, const struct plot_entry *p);
/* Append name='value' (quoted for gnuplot) or name=number to the script's variables. */
void fig_str(struct figure *fig, const char *name, const char *value);
void fig_num(struct figure *fig, const char *name, double value);
FILE *fig_open_data(struct figure *fig);
/* Gnuplot data fields: a quoted label, a number ("?" when not finite). */
void put_label(FILE *f, const char *s);
void put_num(FILE *f, double v);
/* Run gnuplot on the figure; record it in @out, or why it failed. 0 when clean. */
int fig_render(struct figure *fig, const char *caption, struct plot_list *out);
/* Width in pixels that gives each of @rows groups of @bars bars room for its label. */
double plot_width(size_t rows, size_t bars);

#endif /* TWINBENCH_FIGURE_H */
