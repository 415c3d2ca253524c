/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report_insn.h - the "Where the instructions go" section and its chart (report_insn.c).
 */
#ifndef TWINBENCH_REPORT_INSN_H
#define TWINBENCH_REPORT_INSN_H

#include "ablation.h"
#include "doc.h"
#include "stats.h"

/* The "Where the instructions go" section and its chart (report_insn.c). */
void section_insn(struct doc *d, const struct run_data *run, const struct plot_list *pl);
void plot_insn(const struct run_data *run, const char *scripts_dir, const char *family,
	       struct plot_list *out);

/*
 * Arm @cand minus arm @base in @workload of @family, by driver and layer function
 * (insn-diff.csv, counterparts paired through the twin map): the largest differences, the
 * rest in one row and the sum, which is the pair's driver_insn_per_io difference. False,
 * with nothing written, when insn-diff.csv has no such pair.
 */
bool insn_pair_driver_table(struct doc *d, const struct run_data *run, const char *family,
			    const char *workload, const char *base, const char *cand);

/* The metrics "Does the C layer predict Rust?" compares: the whole path, driver plus layer. */
#define RUST_PREDICT_METRICS	2

/*
 * One family, workload and Rust arm of "Does the C layer predict Rust?", against the raw
 * and the safe twin of its family: per metric, rust/raw and safe/raw (ratios of geometric
 * means with their 95 % intervals, stats_compare()) and the difference of the overheads,
 * (rust - raw) - (safe - raw) per I/O, with its 95 % Welch interval (ablation_combine()).
 */
struct rust_predict_value {
	bool have;			/* every arm has samples of the metric */
	double rust, safe, raw;		/* means */
	struct comparison rust_raw, safe_raw;
	struct ablation_estimate gap;
};

struct rust_predict {
	char family[RESULTS_NAME_LEN], workload[RESULTS_WORKLOAD_LEN];
	char rust[RESULTS_NAME_LEN], safe[RESULTS_NAME_LEN], raw[RESULTS_NAME_LEN];
	struct rust_predict_value m[RUST_PREDICT_METRICS];
};

/* The metric of column @i of struct rust_predict (insn_per_io, driver_insn_per_io). */
const char *rust_predict_metric(size_t i);

/*
 * The rows of the section for @run: one per Rust arm, family and workload where the family
 * also has a raw and a safe arm with instruction samples; their count (*@out freed by the
 * caller; 0 with *@out NULL when none).
 */
size_t rust_predict_rows(const struct run_data *run, struct rust_predict **out);

/* The "Does the C layer predict Rust?" section; nothing when the run has no such row. */
void section_rust_predict(struct doc *d, const struct run_data *run);

#endif /* TWINBENCH_REPORT_INSN_H */
