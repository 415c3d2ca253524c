/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report_run.h - a run folder as the reporting side reads it (report_run.c): its
 * manifest, tables and facts, and the lookups every report, comparison and chart needs.
 */
#ifndef TWINBENCH_REPORT_RUN_H
#define TWINBENCH_REPORT_RUN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>
#include "facts.h"
#include "results.h"
#include "stats.h"
#include "util.h"

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

/*
 * The twinbench run command that repeats @run (profile or matrix, families, kernel line,
 * mode, clock and seed from its manifest), for the report and the plain-text summary.
 */
void run_command(const struct run_data *run, char *out, size_t len);

/* Families, and arms of one family (raw, safe, upstream order), of a run. */
void run_families(const struct run_data *run, struct name_list *out);
void run_arms(const struct run_data *run, const char *family, struct name_list *out);
void run_workloads(const struct run_data *run, const char *family, struct name_list *out);

#endif /* TWINBENCH_REPORT_RUN_H */
