/* SPDX-License-Identifier: GPL-2.0 */
/*
 * results.h - the files of a run folder as tables in memory: samples.csv,
 * settings.csv and summary.csv (columns fixed in docs/architecture.md), their
 * readers and atomic writers, and the one table of metric metadata.
 */
#ifndef TWINBENCH_RESULTS_H
#define TWINBENCH_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "verdict.h"

/*
 * The kernel's taint letters that say it hit a problem, not what was loaded: a machine
 * check (M), a bad page (B), an oops (D), a warning (W), a soft lockup (L). One of them in
 * manifest.json's kernel_taint.taint_gained is a problem no sample's log check saw.
 */
#define RESULTS_TAINT_PROBLEMS "MBDWL"

#define RESULTS_NAME_LEN	32	/* family, arm, metric, unit, setting */
#define RESULTS_WORKLOAD_LEN	64
#define RESULTS_TEXT_LEN	256	/* note, setting value, flags, settings_diff */

/* What a metric measures and which direction is better. */
struct metric_info {
	const char *name;
	const char *unit;
	bool higher_is_better;
	bool positive;		/* a rate or time: a valid value must be finite and > 0 */
	const char *description;
	/*
	 * Derived from another metric's measurement (the instruction classes and their cycle
	 * estimates): judged in a correction family of its own, so that adding such detail
	 * never weakens the verdicts of the measured metrics.
	 */
	bool secondary;
};

/* The metric table, terminated by an entry with a NULL name. */
extern const struct metric_info metric_table[];
/* The entry named @name, or NULL. */
const struct metric_info *metric_lookup(const char *name);

/* One row of samples.csv: one metric of one sample. */
struct sample_row {
	char family[RESULTS_NAME_LEN];
	char arm[RESULTS_NAME_LEN];
	char workload[RESULTS_WORKLOAD_LEN];
	unsigned int sample;
	unsigned int boot;		/* 1-based guest boot; 0 in files older than the column */
	char metric[RESULTS_NAME_LEN];
	double value;
	char unit[RESULTS_NAME_LEN];
	bool valid;
	char note[RESULTS_TEXT_LEN];
};

/* One row of settings.csv: one queue setting in force during one sample. */
struct setting_row {
	char family[RESULTS_NAME_LEN];
	char arm[RESULTS_NAME_LEN];
	char workload[RESULTS_WORKLOAD_LEN];
	unsigned int sample;
	char setting[RESULTS_NAME_LEN];
	char value[RESULTS_TEXT_LEN];
};

/* One row of summary.csv: one metric of one workload, candidate arm against baseline arm. */
struct summary_row {
	char family[RESULTS_NAME_LEN];
	char workload[RESULTS_WORKLOAD_LEN];
	char metric[RESULTS_NAME_LEN];
	char baseline[RESULTS_NAME_LEN];
	char candidate[RESULTS_NAME_LEN];
	size_t n_base, n_cand;
	double mean_base, mean_cand;
	double ratio, ci_low, ci_high, p_value;
	enum verdict verdict;
	char flags[RESULTS_TEXT_LEN];		/* ';'-separated: high-cv, bimodal, ... */
	double p_adjusted;			/* Benjamini-Hochberg over the run's rows */
	double p_rank;				/* exact rank test on mid-ranks */
	double margin, mdd;			/* practical margin, detectable difference */
	size_t units_base, units_cand;		/* boots (or samples with one boot) */
	double cv_between, cv_within;		/* boot-to-boot and within-boot spread */
	char settings_diff[RESULTS_TEXT_LEN];	/* ';'-separated setting=base/cand */
};

struct sample_table {
	struct sample_row *rows;
	size_t n, cap;
};

struct settings_table {
	struct setting_row *rows;
	size_t n, cap;
};

struct summary_table {
	struct summary_row *rows;
	size_t n, cap;
};

void sample_table_add(struct sample_table *t, const struct sample_row *row);
void settings_table_add(struct settings_table *t, const struct setting_row *row);
void summary_table_add(struct summary_table *t, const struct summary_row *row);
void sample_table_free(struct sample_table *t);
void settings_table_free(struct settings_table *t);
void summary_table_free(struct summary_table *t);

/*
 * Readers append the rows of @path to @t (which may already hold rows). The
 * header line must name the columns of docs/architecture.md in order; columns
 * added later (boot, and summary.csv's from p_adjusted on) may be absent, as in
 * older run folders. A valid sample whose value is not finite, or not positive
 * for a rate or time, is refused. On error they return -1 and put
 * "path:line: message" in @err.
 */
int results_load_samples(const char *path, struct sample_table *t, char *err, size_t len);
int results_load_settings(const char *path, struct settings_table *t, char *err, size_t len);
int results_load_summary(const char *path, struct summary_table *t, char *err, size_t len);

/* Writers replace @path atomically (a temporary file renamed over it); 0 or -1 with @err. */
int results_write_samples(const char *path, const struct sample_table *t, char *err, size_t len);
int results_write_settings(const char *path, const struct settings_table *t,
			   char *err, size_t len);
int results_write_summary(const char *path, const struct summary_table *t, char *err, size_t len);

/* Copy @src into a results field of @size bytes; returns -1 when it does not fit. */
int results_copy_field(char *dst, size_t size, const char *src);

/* Write @s as one CSV field, quoted when it holds a comma, quote or line break. */
void results_write_field(FILE *f, const char *s);

#endif /* TWINBENCH_RESULTS_H */
