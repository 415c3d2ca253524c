/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report_compare.h - judging one run against another (report_compare.c): the series
 * of the key metrics, with the within-run statistics.
 */
#ifndef TWINBENCH_REPORT_COMPARE_H
#define TWINBENCH_REPORT_COMPARE_H

#include "report_run.h"

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

/* twinbench compare BASE_RUN CAND_RUN [--threshold PCT]: regression verdict between runs */
int compare_main(int argc, char **argv);

#endif /* TWINBENCH_REPORT_COMPARE_H */
