/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report.h - the reporting side of twinbench: turning a run folder into plots
 * and a report, keeping the nightly history, comparing two runs and rendering
 * the trend dashboard. main.c dispatches to the *_main entry points; the rest
 * is shared between report*.c, history.c, dashboard.c and their unit tests.
 */
#ifndef TWINBENCH_REPORT_H
#define TWINBENCH_REPORT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>
#include "facts.h"
#include "results.h"
#include "stats.h"
#include "util.h"

/* twinbench report RUN_DIR: data files, plots, report.md and report.html */
int report_main(int argc, char **argv);

/* twinbench history add RUN_DIR [--db FILE] | history list [--db FILE] */
int history_main(int argc, char **argv);

/* twinbench compare BASE_RUN CAND_RUN [--threshold PCT]: regression verdict between runs */
int compare_main(int argc, char **argv);

/* twinbench dashboard [--db FILE] [-o DIR]: static HTML trend page from the history */
int dashboard_main(int argc, char **argv);

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif
#define REPORT_ERR_LEN		(PATH_MAX + 512)
/* Longest "family/arm/workload/metric" key a name_list holds. */
#define REPORT_KEY_LEN		192
/* Default history database and dashboard folder, relative to the working directory. */
#define HISTORY_DEFAULT_DB	"results/history.db"
#define DASHBOARD_DEFAULT_DIR	"results/dashboard"
/* Default regression threshold of compare, nightly and the dashboard, in percent. */
#define REGRESSION_DEFAULT_PCT	5.0
/* Seed of every bootstrap between runs, so a comparison repeats exactly. */
#define REGRESSION_SEED		0x7477696eULL

/* One run folder in memory: its manifest and its tables. */
struct run_data {
	char dir[PATH_MAX];
	char id[128];
	json_t *manifest;		/* never NULL after run_load() */
	struct sample_table samples;
	struct summary_table summary;	/* empty when summary.csv is absent */
	struct settings_table settings;	/* empty when settings.csv is absent */
	struct facts facts;		/* facts.tsv: each workload's keys, each arm's role */
};

/* What run_load() must find besides samples.csv and manifest.json. */
enum run_need { RUN_NEED_SAMPLES = 0, RUN_NEED_SUMMARY = 1 };

/* Load a run folder; 0, or -1 with "file[:line]: message" in @err. */
int run_load(const char *dir, enum run_need need, struct run_data *run, char *err, size_t len);
void run_free(struct run_data *run);

/*
 * The text of the manifest value whose key path ends in @key ("governor" finds
 * "host.governor"), or NULL. Numbers and booleans are printed into @buf.
 */
const char *manifest_get(json_t *manifest, const char *key, char *buf, size_t len);

/* Role of arm @arm of @family in @run, as the run folder's facts.tsv records it. */
enum arm_role run_arm_role(const struct run_data *run, const char *family, const char *arm);

/* A list of distinct names in order of first appearance. */
struct name_list {
	char (*names)[REPORT_KEY_LEN];
	size_t n, cap;
};

/* Index of @name in @l, adding it if absent. */
size_t name_list_add(struct name_list *l, const char *name);
/* Index of @name in @l, or -1. */
long name_list_find(const struct name_list *l, const char *name);
void name_list_free(struct name_list *l);

/*
 * Values of the valid samples of one series (family, arm, workload, metric) in
 * @t, into a growing array *@out (freed by the caller); returns their count.
 */
size_t series_values(const struct sample_table *t, const char *family, const char *arm,
		     const char *workload, const char *metric, double **out);


/* A growing list of formatted lines: notes, warnings. */
struct text_list {
	char **lines;
	size_t n, cap;
};

void text_list_addf(struct text_list *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void text_list_free(struct text_list *l);

/*
 * Descriptive statistics of one series' valid samples in @run; false when the
 * series has none.
 */
bool series_describe(const struct run_data *run, const char *family, const char *arm,
		     const char *workload, const char *metric, struct sample_stats *st);

/* Whether @run has samples of @metric in @family. */
bool family_has_metric(const struct run_data *run, const char *family, const char *metric);

/*
 * Scale @v (and @other alongside, may be NULL) by 1000 while |@v| >= @limit; returns the
 * SI prefix ("", "k", "M", "G", "T") that undoes the scaling, for numbers people read.
 */
const char *si_scale(double *v, double *other, double limit);

/* The throughput metric a family is judged by (iops, bps, pps or bw), or NULL. */
const char *family_throughput_metric(const struct run_data *run, const char *family);

/* Families, and arms of one family (raw, safe, upstream order), of a run. */
void run_families(const struct run_data *run, struct name_list *out);
void run_arms(const struct run_data *run, const char *family, struct name_list *out);
void run_workloads(const struct run_data *run, const char *family, struct name_list *out);

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

/*
 * Write the gnuplot data files of @run into RUN/plots/ and render every plot
 * with the scripts in @scripts_dir. Fills @out; returns the number of plots
 * gnuplot failed on or warned about (0 is success), or -1 with @err.
 */
int report_plots(const struct run_data *run, const char *scripts_dir, struct plot_list *out,
		 char *err, size_t len);
void plot_list_free(struct plot_list *l);

/*
 * The report document (report.c), shared with the sections kept in files of their own
 * (report_ablation.c): written once, to Markdown and HTML side by side.
 */
#define CELL_LEN	160
#define MAX_COLS	16

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
void doc_figure(struct doc *d, const struct run_data *run, const struct plot_entry *p);
/* A table: set t->numeric[] first, then table_begin, cellf and table_row per row, table_end. */
void table_begin(struct doc *d, struct table *t, const char *const *heads);
void table_row(struct doc *d, struct table *t);
void table_end(struct doc *d);
void cellf(struct table *t, size_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "mean ± sd" for people: 4 significant digits, both scaled by k/M/G from 10000 on. */
void fmt_mean_sd(char *out, size_t len, double mean, double sd);

/*
 * One gnuplot figure (report_plots.c): its data file RUN/plots/<base>.dat and the variables
 * its script in plots/ reads; fig_render() runs gnuplot and adds it to a plot_list.
 */
struct figure {
	const struct run_data *run;
	const char *scripts_dir;
	const char *script;	/* e.g. "relative.gp" */
	char base[160];		/* file name without extension in RUN/plots/ */
	char datafile[PATH_MAX];
	char vars[2048];	/* gnuplot assignments, "name='value'; ..." */
	size_t vars_len;
};

void fig_init(struct figure *fig, const struct run_data *run, const char *scripts_dir,
	      const char *script, const char *base);
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

/* The "Overhead breakdown" section and its waterfall chart (report_ablation.c). */
void section_ablation(struct doc *d, const struct run_data *run, const struct plot_list *pl);
void plot_ablation(const struct run_data *run, const char *scripts_dir, const char *family,
		   struct plot_list *out);

/* The "Where the instructions go" section and its chart (report_insn.c). */
void section_insn(struct doc *d, const struct run_data *run, const struct plot_list *pl);
void plot_insn(const struct run_data *run, const char *scripts_dir, const char *family,
	       struct plot_list *out);

/* The metrics compare, nightly and the dashboard judge by default. */
extern const char *const key_metrics[];
bool is_key_metric(const char *metric);

/* One series judged between two runs. */
struct regression_check {
	struct comparison cmp;
	struct sample_stats base, cand;
	bool regressed;		/* verdict slower at the threshold as margin */
	bool improved;		/* verdict faster at the threshold as margin */
};

/*
 * Judge the candidate series against the baseline series of @metric with the
 * within-run statistics (stats_compare, boots as the unit), @threshold_pct
 * being the practical margin: a regression is a "slower" verdict, whose
 * interval lies wholly beyond the threshold in the worse direction.
 * Returns 0, or -1 when either side is empty or holds a bad value.
 */
int regression_judge(const struct series *base, const struct series *cand, const char *metric,
		     double threshold_pct, struct regression_check *out);

/* Re-derive rc->regressed/improved after rc->cmp.p_adjusted changed. */
void regression_rejudge(struct regression_check *rc, const char *metric);

/* The valid values of one series with their boots; *x and *boot are the caller's to free. */
struct series series_with_boots(const struct sample_table *t, const char *family,
				const char *arm, const char *workload, const char *metric,
				double **x, unsigned int **boot);

/* Flags of a judged series for people: one-boot, low-n, outlier; "" when none. */
void regression_flags(const struct regression_check *rc, char *out, size_t len);

/* Counts of compare_runs(). */
struct compare_totals {
	size_t series, regressions, improvements;
	size_t missing;		/* in both runs, but no valid samples on one side */
	size_t one_sided;	/* in one run only */
};

/*
 * Compare every series of the key metrics (all metrics when @all_metrics) of
 * @cand against @base, with Benjamini-Hochberg across the series judged; print
 * a table to @out (series of one run only listed apart), fill @totals. 0, or
 * -1 with @err.
 */
int compare_runs(const struct run_data *base, const struct run_data *cand, double threshold_pct,
		 bool all_metrics, FILE *out, struct compare_totals *totals, char *err, size_t len);

/* Write @s with HTML special characters escaped. */
void html_escape(FILE *f, const char *s);
/* Write the base64 encoding of the file @path; 0, or -1 when it cannot be read. */
int base64_file(FILE *f, const char *path);
/* The shared <head> and style of the report and the dashboard, up to and including <body>. */
void html_page_begin(FILE *f, const char *title);
void html_page_end(FILE *f);

/* @to as a path relative to the directory @from_dir (both made absolute first). */
int relative_path(const char *from_dir, const char *to, char *out, size_t len);

/* Open the history database; it is created when absent, else validated first. */
struct sqlite3;
int history_open(const char *path, bool create, struct sqlite3 **db, char *err, size_t len);
/* The run ids of the history, oldest first (by start time, then id). */
int history_run_ids(struct sqlite3 *db, struct name_list *ids, char *err, size_t len);
/* One run of the history as a run_data: manifest, folder and samples (no summary). */
int history_load_run(struct sqlite3 *db, const char *run_id, struct run_data *run, char *err,
		     size_t len);
/* Add or replace one run in a single transaction; *@replaced says it was there. */
int history_add_run(struct sqlite3 *db, const struct run_data *run, bool *replaced,
		    char *err, size_t len);

#endif /* TWINBENCH_REPORT_H */
