/* SPDX-License-Identifier: GPL-2.0 */
/*
 * runner.h - the running side of twinbench: subcommands (main.c dispatches to
 * them) and the pieces run.c, exec.c and summary.c share.
 */
#ifndef TWINBENCH_RUNNER_H
#define TWINBENCH_RUNNER_H

#include <signal.h>
#include <stdint.h>
#include "matrix.h"
#include "plan.h"
#include "results.h"

/* twinbench run: validate, pick the mode, execute, summarise (run.c). */
int run_main(int argc, char **argv);
/* twinbench check: validate a matrix and print its plan (run.c). */
int check_main(int argc, char **argv);
/* twinbench summarise RUN_DIR: merge samples and recompute summary.csv (run.c). */
int summarise_main(int argc, char **argv);
/* twinbench exec --plan FILE --out DIR: execute a plan here (exec.c). */
int exec_main(int argc, char **argv);

/* Exit statuses shared by the subcommands. */
#define EXIT_BAD_INPUT		2
#define EXIT_INTERRUPTED	130

/* Set by SIGINT/SIGTERM; long loops stop cleanly when it is non-zero. */
extern volatile sig_atomic_t stop_signal;
void install_stop_handlers(void);

/*
 * Execute the samples of @p not yet in @outdir/samples/ (exec.c). Returns 0
 * when every sample was valid, 1 when some failed or were invalid, and
 * EXIT_INTERRUPTED when a signal stopped it (what was loaded is unloaded).
 */
int exec_plan(const struct matrix *m, const struct plan *p, const char *outdir);

/*
 * Write plan entry @e as one invalid sample with @note (why it has no metrics), as
 * exec does for a failed sample; run.c uses it for a sample its watchdog stopped.
 */
int sample_write_invalid(const struct matrix *m, const char *outdir, const struct plan_entry *e,
			 const char *note);

/* exec_plan writes the index of the sample it is running here, under @outdir. */
#define EXEC_CURRENT_FILE	".exec-current"

/* File of plan entry @index under @outdir/@sub ("samples" or "settings"). */
void sample_path(char *buf, size_t size, const char *outdir, const char *sub,
		 unsigned int index);

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
 * adjusted p (tracing_overhead rows were inverted with their metric's direction kept).
 */
void summary_adjust(struct summary_table *t, size_t first);
/* Print the readable comparison table of @sum to @f. */
void summary_print(FILE *f, const struct summary_table *sum, const char *clock);

#endif /* TWINBENCH_RUNNER_H */
