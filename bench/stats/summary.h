/* SPDX-License-Identifier: GPL-2.0 */
/*
 * summary.h - the comparisons of a run (summary.c): every pair of arms, per workload and
 * metric, judged over the valid samples, and the readable table of them.
 */
#ifndef TWINBENCH_SUMMARY_H
#define TWINBENCH_SUMMARY_H

#include <stdio.h>
#include "matrix.h"
#include "results.h"

/*
 * Compare every pair of arms of every selected family of @m, per workload and
 * metric, over the valid samples (summary.c), with the p-values adjusted across
 * the rows added; returns how many rows lack valid samples of an arm.
 */
size_t summary_compute(const struct matrix *m, const struct sample_table *samples,
		       const struct settings_table *settings, struct summary_table *out);
/*
 * Append to @out the row of one metric of one workload, @pair->candidate against
 * @pair->baseline, at practical @margin (no row when neither arm recorded the metric).
 */
void summary_compare_metric(const struct sample_table *samples, const char *family,
			    const struct arm_pair *pair, const char *workload,
			    const struct metric_info *mi, double margin, const char *diff,
			    struct summary_table *out);
/*
 * Benjamini-Hochberg over the rows of @t from @first on, then each verdict again at its
 * adjusted p (tracing_overhead rows were inverted with their metric's direction kept). The
 * measured metrics and the secondary ones (struct metric_info) are two families, each
 * adjusted on its own.
 */
void summary_adjust(struct summary_table *t, size_t first);
/* Print the readable comparison table of @sum to @f. */
void summary_print(FILE *f, const struct summary_table *sum, const char *clock);

#endif /* TWINBENCH_SUMMARY_H */
