// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - twinbench report RUN_DIR: rebuilds the plots, report.md and a
 * self-contained report.html of one run folder from that folder alone. The
 * order is what a maintainer asks first: the verdicts, then the absolute
 * numbers, the plots, everything that makes a number doubtful, and how to run
 * it again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "doc.h"
#include "figure.h"
#include "mailsum.h"
#include "report.h"
#include "report_ablation.h"
#include "report_html.h"
#include "report_insn.h"
#include "report_plots.h"
#include "report_run.h"

/* Mean tracing_overhead above which the report says tracing distorts the numbers. */
#define TRACING_OVERHEAD_WARN	1.03

/* "ratio [low, high]" as every table prints it. */
static void fmt_ratio(char *out, size_t len, double r, double lo, double hi)
{
	snprintf(out, len, "%.4f [%.4f, %.4f]", r, lo, hi);
}

static const struct summary_row *summary_find(const struct run_data *run, const char *family,
					      const char *workload, const char *metric,
					      enum arm_role cand, enum arm_role base)
{
	for (size_t i = 0; i < run->summary.n; i++) {
		const struct summary_row *s = &run->summary.rows[i];

		if (!strcmp(s->family, family) && !strcmp(s->workload, workload) &&
		    !strcmp(s->metric, metric) && run_arm_role(run, family, s->candidate) == cand &&
		    run_arm_role(run, family, s->baseline) == base)
			return s;
	}
	return NULL;
}

static void pair_cells(struct table *t, size_t col, const struct summary_row *s)
{
	if (!s) {
		cellf(t, col, "-");
		cellf(t, col + 1, "-");
		cellf(t, col + 2, "-");
		return;
	}
	fmt_ratio(t->cells[col], CELL_LEN, s->ratio, s->ci_low, s->ci_high);
	cellf(t, col + 1, "%.3g", s->p_value);
	cellf(t, col + 2, "%s%s%s", verdict_name(s->verdict), s->flags[0] ? " (" : "",
	      s->flags[0] ? s->flags : "");
	if (s->flags[0])
		strncat(t->cells[col + 2], ")", CELL_LEN - strlen(t->cells[col + 2]) - 1);
}

static void section_verdicts(struct doc *d, const struct run_data *run)
{
	static const char *const heads[] = {
		"family", "workload", "metric", "safe/raw ratio [95% CI]", "p", "verdict",
		"raw/upstream ratio [95% CI]", "p", "verdict", NULL,
	};
	struct name_list fams = { 0 };
	struct table t = { .numeric = { [3] = true, [4] = true, [6] = true, [7] = true } };

	doc_heading(d, 2, "Verdicts");
	if (!run->summary.n) {
		doc_para(d, "This run has no summary.csv: no verdicts. Run `twinbench run --resume "
			 "%s` to finish it.", run->dir);
		return;
	}
	doc_para(d, "Ratio = candidate / baseline of the throughput metric (and of the "
		 "instructions and CPU time per I/O where the run has them): the ratio of geometric "
		 "means of the units (per-boot means where an arm ran in several boots, samples "
		 "otherwise), with its 95 %% Welch interval on log values, the exact rank test's p and "
		 "the Benjamini-Hochberg adjusted p across the run's series. The verdict is faster or "
		 "slower only when the interval lies beyond the metric's margin and both p < %.2g, "
		 "equivalent when the interval lies inside 1 +/- margin, inconclusive otherwise "
		 "(docs/methodology.md); flags in brackets. Every metric's comparison is in the "
		 "appendix.", STATS_ALPHA);
	table_begin(d, &t, heads);
	run_families(run, &fams);
	for (size_t f = 0; f < fams.n; f++) {
		const char *metrics[] = { family_throughput_metric(run, fams.names[f]),
					  "insn_per_io", "cpu_ns_per_io", "cpu_ns_per_pkt" };
		struct name_list wls = { 0 };

		run_workloads(run, fams.names[f], &wls);
		for (size_t w = 0; w < wls.n; w++)
			for (size_t m = 0; m < ARRAY_SIZE(metrics); m++) {
				const struct summary_row *sr, *ru;

				if (!metrics[m])
					continue;
				sr = summary_find(run, fams.names[f], wls.names[w], metrics[m],
						  ARM_SAFE, ARM_RAW);
				ru = summary_find(run, fams.names[f], wls.names[w], metrics[m],
						  ARM_RAW, ARM_UPSTREAM);
				if (!sr && !ru)
					continue;
				cellf(&t, 0, "%s", fams.names[f]);
				cellf(&t, 1, "%s", wls.names[w]);
				cellf(&t, 2, "%s", metrics[m]);
				pair_cells(&t, 3, sr);
				pair_cells(&t, 6, ru);
				table_row(d, &t);
			}
		name_list_free(&wls);
	}
	table_end(d);
	name_list_free(&fams);
}

/*
 * The Rust question side by side: does the C model of the safe layer (safe vs raw twin)
 * predict what a real Rust driver costs (rnull vs null_blk)? Only when the run has one.
 */
static void section_rust(struct doc *d, const struct run_data *run)
{
	static const char *const heads[] = {
		"family", "workload", "metric", "null_blk", "rnull", "rust/C ratio [95% CI]",
		"verdict", "rawnull", "safenull", "safe/raw ratio [95% CI]", "verdict", NULL,
	};
	static const char *const metrics[] = {
		"insn_per_io", "driver_insn_per_io", "iops", "lat_p50", "cpu_ns_per_io",
	};
	struct name_list fams = { 0 };
	struct table t = { .numeric = { [3] = true, [4] = true, [5] = true, [7] = true,
					[8] = true, [9] = true } };
	bool any = false;

	for (size_t i = 0; i < run->summary.n && !any; i++)
		any = run_arm_role(run, run->summary.rows[i].family,
				   run->summary.rows[i].candidate) == ARM_RUST;
	if (!any)
		return;
	doc_heading(d, 2, "Rust: rnull against null_blk, beside safe against raw");
	doc_para(d, "The upstream Rust null block driver against the C one (same device shape, "
		 "same queue settings), next to the safe twin against the raw twin: the C model "
		 "of the Rust abstractions' checks. Means of the samples; ratio = candidate / "
		 "baseline with its 95 %% Welch interval on log values (docs/rust-arm.md).");
	table_begin(d, &t, heads);
	run_families(run, &fams);
	for (size_t f = 0; f < fams.n; f++) {
		struct name_list wls = { 0 };

		run_workloads(run, fams.names[f], &wls);
		for (size_t w = 0; w < wls.n; w++)
			for (size_t m = 0; m < ARRAY_SIZE(metrics); m++) {
				const struct summary_row *rc, *sr;

				rc = summary_find(run, fams.names[f], wls.names[w], metrics[m],
						  ARM_RUST, ARM_UPSTREAM);
				sr = summary_find(run, fams.names[f], wls.names[w], metrics[m],
						  ARM_SAFE, ARM_RAW);
				if (!rc)
					continue;
				cellf(&t, 0, "%s", fams.names[f]);
				cellf(&t, 1, "%s", wls.names[w]);
				cellf(&t, 2, "%s", metrics[m]);
				cellf(&t, 3, "%.6g", rc->mean_base);
				cellf(&t, 4, "%.6g", rc->mean_cand);
				fmt_ratio(t.cells[5], CELL_LEN, rc->ratio, rc->ci_low, rc->ci_high);
				cellf(&t, 6, "%s", verdict_name(rc->verdict));
				if (sr) {
					cellf(&t, 7, "%.6g", sr->mean_base);
					cellf(&t, 8, "%.6g", sr->mean_cand);
					fmt_ratio(t.cells[9], CELL_LEN, sr->ratio, sr->ci_low,
						  sr->ci_high);
					cellf(&t, 10, "%s", verdict_name(sr->verdict));
				} else {
					for (size_t c = 7; c <= 10; c++)
						cellf(&t, c, "-");
				}
				table_row(d, &t);
			}
		name_list_free(&wls);
	}
	table_end(d);
	name_list_free(&fams);
}

static void section_all_comparisons(struct doc *d, const struct run_data *run)
{
	static const char *const heads[] = {
		"family", "workload", "metric", "baseline", "candidate", "n base/cand",
		"mean base", "mean cand", "ratio [95% CI]", "p", "verdict", "flags",
		"settings differ", NULL,
	};
	struct table t = { .numeric = { [5] = true, [6] = true, [7] = true, [8] = true,
					[9] = true } };

	if (!run->summary.n)
		return;
	doc_heading(d, 2, "Appendix: every comparison (summary.csv)");
	table_begin(d, &t, heads);
	for (size_t i = 0; i < run->summary.n; i++) {
		const struct summary_row *s = &run->summary.rows[i];

		cellf(&t, 0, "%s", s->family);
		cellf(&t, 1, "%s", s->workload);
		cellf(&t, 2, "%s", s->metric);
		cellf(&t, 3, "%s", s->baseline);
		cellf(&t, 4, "%s", s->candidate);
		cellf(&t, 5, "%zu/%zu", s->n_base, s->n_cand);
		cellf(&t, 6, "%.6g", s->mean_base);
		cellf(&t, 7, "%.6g", s->mean_cand);
		fmt_ratio(t.cells[8], CELL_LEN, s->ratio, s->ci_low, s->ci_high);
		cellf(&t, 9, "%.3g", s->p_value);
		cellf(&t, 10, "%s", verdict_name(s->verdict));
		cellf(&t, 11, "%s", s->flags);
		cellf(&t, 12, "%s", s->settings_diff);
		table_row(d, &t);
	}
	table_end(d);
}

/* Samples of one arm and workload, valid and all (a sample counts once, not per metric). */
static void count_samples(const struct run_data *run, const char *family, const char *arm,
			  const char *workload, size_t *valid, size_t *all)
{
	struct name_list seen = { 0 };
	char key[32];

	*valid = 0;
	for (size_t i = 0; i < run->samples.n; i++) {
		const struct sample_row *r = &run->samples.rows[i];

		if (strcmp(r->family, family) || strcmp(r->arm, arm) || strcmp(r->workload, workload))
			continue;
		snprintf(key, sizeof(key), "%u", r->sample);
		if (name_list_find(&seen, key) >= 0)
			continue;
		name_list_add(&seen, key);
		*valid += r->valid;
	}
	*all = seen.n;
	name_list_free(&seen);
}

static void section_absolute(struct doc *d, const struct run_data *run)
{
	static const char *const shown[] = {
		"iops", "bw", "pps", "bps", "lat_p50", "lat_p99", "lat_p999", "cpu_ns_per_io",
		"insn_per_io", "cycles_per_io", "ipc", "cpu_ns_per_pkt", "jitter_ms", "lost_pct",
		NULL,
	};
	struct name_list fams = { 0 };

	doc_heading(d, 2, "Absolute numbers");
	doc_para(d, "Mean ± standard deviation of the valid samples of every arm; n counts valid "
		 "samples of all samples taken. Every metric is in the appendix.");
	run_families(run, &fams);
	for (size_t f = 0; f < fams.n; f++) {
		struct name_list arms = { 0 }, wls = { 0 };
		char heads_buf[MAX_COLS][CELL_LEN];
		const char *heads[MAX_COLS + 1], *cols[MAX_COLS];
		struct table t = { 0 };
		size_t nc = 0, nh = 3;

		heads[0] = "workload";
		heads[1] = "arm";
		heads[2] = "n";
		for (const char *const *m = shown; *m && nh < MAX_COLS; m++) {
			const struct metric_info *mi = metric_lookup(*m);

			if (!family_has_metric(run, fams.names[f], *m))
				continue;
			snprintf(heads_buf[nh], CELL_LEN, "%s (%s)", *m, mi ? mi->unit : "?");
			heads[nh] = heads_buf[nh];
			t.numeric[nh] = true;
			cols[nc++] = *m;
			nh++;
		}
		heads[nh] = NULL;
		doc_heading(d, 3, "%s", fams.names[f]);
		table_begin(d, &t, heads);
		run_arms(run, fams.names[f], &arms);
		run_workloads(run, fams.names[f], &wls);
		for (size_t w = 0; w < wls.n; w++)
			for (size_t a = 0; a < arms.n; a++) {
				size_t valid, all;

				count_samples(run, fams.names[f], arms.names[a], wls.names[w], &valid,
					      &all);
				if (!all)
					continue;
				cellf(&t, 0, "%s", wls.names[w]);
				cellf(&t, 1, "%s", arms.names[a]);
				cellf(&t, 2, "%zu/%zu", valid, all);
				for (size_t c = 0; c < nc; c++) {
					struct sample_stats st;

					if (series_describe(run, fams.names[f], arms.names[a],
							    wls.names[w], cols[c], &st))
						fmt_mean_sd(t.cells[3 + c], CELL_LEN, st.mean,
							    st.sd);
					else
						cellf(&t, 3 + c, "-");
				}
				table_row(d, &t);
			}
		table_end(d);
		name_list_free(&arms);
		name_list_free(&wls);
	}
	name_list_free(&fams);
}

static void section_plots(struct doc *d, const struct run_data *run, const struct plot_list *pl)
{
	doc_heading(d, 2, "Plots");
	if (!pl->n)
		doc_para(d, "No plots were rendered.");
	for (size_t i = 0; i < pl->n; i++)
		doc_figure(d, run, &pl->v[i]);
	for (size_t i = 0; i < pl->notes.n; i++)
		doc_item(d, "note", "%s", pl->notes.lines[i]);
	doc_list_end(d);
}

static void warn_samples(const struct run_data *run, struct text_list *w)
{
	struct name_list seen = { 0 };
	char key[REPORT_KEY_LEN];

	for (size_t i = 0; i < run->samples.n; i++) {
		const struct sample_row *r = &run->samples.rows[i];

		if (r->valid)
			continue;
		snprintf(key, sizeof(key), "%s/%s/%s/%u", r->family, r->arm, r->workload,
			 r->sample);
		if (name_list_find(&seen, key) >= 0)
			continue;
		name_list_add(&seen, key);
		text_list_addf(w, "invalid sample: %s %s %s sample %u: %s", r->family, r->arm,
			       r->workload, r->sample, r->note[0] ? r->note : "no reason given");
	}
	name_list_free(&seen);
}

static void warn_spread(const struct run_data *run, struct text_list *w)
{
	struct name_list fams = { 0 };

	run_families(run, &fams);
	for (size_t f = 0; f < fams.n; f++) {
		const char *tm = family_throughput_metric(run, fams.names[f]);
		struct name_list arms = { 0 }, wls = { 0 };

		run_arms(run, fams.names[f], &arms);
		run_workloads(run, fams.names[f], &wls);
		for (size_t wl = 0; tm && wl < wls.n; wl++)
			for (size_t a = 0; a < arms.n; a++) {
				struct sample_stats st;
				bool high;

				if (!series_describe(run, fams.names[f], arms.names[a],
						     wls.names[wl], tm, &st))
					continue;
				high = st.cv > STATS_HIGH_CV;
				if (!high && !st.bimodal)
					continue;
				text_list_addf(w, "%s%s%s: %s %s %s %s: CV %.1f %% over %zu samples "
					       "(limit %.0f %%), bimodality coefficient %.2f",
					       high ? "high variance" : "",
					       high && st.bimodal ? ", " : "",
					       st.bimodal ? "bimodal" : "", fams.names[f],
					       arms.names[a], wls.names[wl], tm, st.cv * 100, st.n,
					       STATS_HIGH_CV * 100, st.bimodality_coef);
			}
		name_list_free(&arms);
		name_list_free(&wls);
	}
	name_list_free(&fams);
}

/* Queue settings that differed between two arms: one line per pair and difference. */
static void warn_summary(const struct run_data *run, struct text_list *w)
{
	struct name_list seen = { 0 };
	char key[REPORT_KEY_LEN + RESULTS_TEXT_LEN];

	for (size_t i = 0; i < run->summary.n; i++) {
		const struct summary_row *s = &run->summary.rows[i];
		struct name_list wls = { 0 };
		char list[512] = "";

		if (!s->settings_diff[0])
			continue;
		snprintf(key, sizeof(key), "%s/%s/%s/%s", s->family, s->candidate, s->baseline,
			 s->settings_diff);
		key[REPORT_KEY_LEN - 1] = '\0';
		if (name_list_find(&seen, key) >= 0)
			continue;
		name_list_add(&seen, key);
		for (size_t k = i; k < run->summary.n; k++) {
			const struct summary_row *o = &run->summary.rows[k];

			if (!strcmp(o->family, s->family) && !strcmp(o->candidate, s->candidate) &&
			    !strcmp(o->baseline, s->baseline) &&
			    !strcmp(o->settings_diff, s->settings_diff))
				name_list_add(&wls, o->workload);
		}
		for (size_t k = 0; k < wls.n; k++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 k ? ", " : "", wls.names[k]);
		text_list_addf(w, "queue settings differ: %s %s vs %s: %s (%s/%s) in %s",
			       s->family, s->candidate, s->baseline, s->settings_diff, s->baseline,
			       s->candidate, list);
		name_list_free(&wls);
	}
	name_list_free(&seen);
}

static void warn_tracing(const struct run_data *run, struct text_list *w)
{
	struct name_list fams = { 0 };

	run_families(run, &fams);
	for (size_t f = 0; f < fams.n; f++) {
		struct name_list arms = { 0 }, wls = { 0 };
		double lo = INFINITY, hi = -INFINITY;
		size_t over = 0, all = 0;

		run_arms(run, fams.names[f], &arms);
		run_workloads(run, fams.names[f], &wls);
		for (size_t wl = 0; wl < wls.n; wl++)
			for (size_t a = 0; a < arms.n; a++) {
				struct sample_stats st;

				if (!series_describe(run, fams.names[f], arms.names[a], wls.names[wl],
						     "tracing_overhead", &st))
					continue;
				all++;
				over += st.mean > TRACING_OVERHEAD_WARN;
				lo = fmin(lo, st.mean);
				hi = fmax(hi, st.mean);
			}
		if (over)
			text_list_addf(w, "tracing overhead: %s: untraced IOPS %.1f..%.1f %% above "
				       "traced in %zu of %zu arm/workload pairs (limit %.0f %%): "
				       "traced metrics run slower than the untraced ones",
				       fams.names[f], (lo - 1) * 100, (hi - 1) * 100, over, all,
				       (TRACING_OVERHEAD_WARN - 1) * 100);
		name_list_free(&arms);
		name_list_free(&wls);
	}
	name_list_free(&fams);
}

static bool truthy(const char *v)
{
	return v && (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on") ||
		     !strcmp(v, "yes") || !strcmp(v, "active") || !strcmp(v, "running"));
}

static void warn_host(const struct run_data *run, struct text_list *w)
{
	static const char *const knobs[] = { "governor", "turbo", "smt", "irqbalance", NULL };
	char buf[64], unknown[96] = "";
	const char *v;

	for (const char *const *k = knobs; *k; k++)
		if (!manifest_get(run->manifest, *k, buf, sizeof(buf)))
			snprintf(unknown + strlen(unknown), sizeof(unknown) - strlen(unknown),
				 "%s%s", unknown[0] ? ", " : "", *k);
	if (unknown[0])
		text_list_addf(w, "host tuning unknown: the manifest has no value for %s (not "
			       "readable on this host), so the host may be untuned", unknown);

	v = manifest_get(run->manifest, "git_dirty", buf, sizeof(buf));
	if (truthy(v))
		text_list_addf(w, "uncommitted changes: the tree had local changes when this ran, so "
			       "its commit alone does not reproduce it");
	v = manifest_get(run->manifest, "governor", buf, sizeof(buf));
	if (v && strcmp(v, "performance"))
		text_list_addf(w, "untuned host: CPU frequency governor is '%s', not 'performance'",
			       v);
	v = manifest_get(run->manifest, "turbo", buf, sizeof(buf));
	if (truthy(v))
		text_list_addf(w, "untuned host: turbo/boost is on (clock speed varies with load)");
	v = manifest_get(run->manifest, "smt", buf, sizeof(buf));
	if (truthy(v))
		text_list_addf(w, "untuned host: SMT is on (a sibling thread shares the core)");
	v = manifest_get(run->manifest, "irqbalance", buf, sizeof(buf));
	if (truthy(v))
		text_list_addf(w, "untuned host: irqbalance is running (interrupts move between "
			       "CPUs)");
	v = manifest_get(run->manifest, "taint_gained", buf, sizeof(buf));
	if (v && strpbrk(v, RESULTS_TAINT_PROBLEMS))
		text_list_addf(w, "host kernel: tainted '%s' during the run, a warning, oops or "
			       "lockup outside the samples' windows: read the host's dmesg", v);
	v = manifest_get(run->manifest, "governors_mixed", buf, sizeof(buf));
	if (truthy(v))
		text_list_addf(w, "untuned host: the CPUs run different frequency governors");
	v = manifest_get(run->manifest, "isolated_cpus", buf, sizeof(buf));
	if (!(v && v[0]) && (v = manifest_get(run->manifest, "mode", buf, sizeof(buf))) &&
	    !strcmp(v, "host"))
		text_list_addf(w, "untuned host: no isolated CPUs (isolcpus=), so other tasks "
			       "share the measured CPUs");
}

static void warn_console(const struct run_data *run, struct text_list *w)
{
	static const char *const bad[] = {
		"WARNING:", "BUG:", "Oops", "soft lockup", "hard LOCKUP", "blocked for more than",
		"Kernel panic", "general protection fault", "Call Trace:", "RCU stall",
		"rcu_sched self-detected stall", NULL,
	};
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0, lineno = 0, hits = 0;
	FILE *f;

	path_printf(path, sizeof(path), "%s/console.log", run->dir);
	f = fopen(path, "r");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		for (const char *const *b = bad; *b; b++) {
			if (!strstr(line, *b))
				continue;
			if (++hits <= 10)
				text_list_addf(w, "guest log: console.log:%zu: %s", lineno, line);
			break;
		}
	}
	if (hits > 10)
		text_list_addf(w, "guest log: %zu more problem lines in console.log", hits - 10);
	free(line);
	fclose(f);
}

static void section_warnings(struct doc *d, const struct run_data *run,
			     const struct plot_list *pl)
{
	struct text_list w = { 0 };

	warn_samples(run, &w);
	warn_console(run, &w);
	warn_spread(run, &w);
	warn_summary(run, &w);
	warn_tracing(run, &w);
	warn_host(run, &w);
	for (size_t i = 0; i < pl->failures.n; i++)
		text_list_addf(&w, "plot: %s", pl->failures.lines[i]);
	doc_heading(d, 2, "Warnings (%zu)", w.n);
	if (!w.n)
		doc_para(d, "None: every sample valid, no kernel problems in the guest log, spread "
			 "below %.0f %%, host tuned.", STATS_HIGH_CV * 100);
	for (size_t i = 0; i < w.n; i++)
		doc_item(d, "warn", "%s", w.lines[i]);
	doc_list_end(d);
	text_list_free(&w);
}

static void flatten(json_t *v, const char *prefix, struct table *t, struct doc *d)
{
	char key[CELL_LEN];
	const char *k;
	json_t *child;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, k, child) {
			snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", k);
			flatten(child, key, t, d);
		}
		return;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, child) {
			snprintf(key, sizeof(key), "%s[%zu]", prefix, i);
			flatten(child, key, t, d);
		}
		return;
	}
	cellf(t, 0, "%s", prefix);
	if (json_is_string(v)) {
		cellf(t, 1, "%s", json_string_value(v));
	} else {
		char *s = json_dumps(v, JSON_ENCODE_ANY);

		cellf(t, 1, "%s", s ? s : "?");
		free(s);
	}
	table_row(d, t);
}

static void section_environment(struct doc *d, const struct run_data *run)
{
	static const char *const heads[] = { "manifest key", "value", NULL };
	struct table t = { 0 };
	char b1[64], command[1024];
	const char *commit = manifest_get(run->manifest, "git_commit", b1, sizeof(b1));
	char *cmds;

	doc_heading(d, 2, "Environment");
	table_begin(d, &t, heads);
	flatten(run->manifest, "", &t, d);
	table_end(d);
	doc_heading(d, 2, "Reproduce");
	doc_para(d, "From a checkout of the same commit, on a machine like the one above (the "
		 "seed repeats the sample order):");
	run_command(run, command, sizeof(command));
	if (asprintf(&cmds, "git checkout %s\nscripts/install-deps.sh\nmake\n%s\n"
		     "# this report again, from its run folder alone:\nmake report RUN=%s\n",
		     commit ? commit : "<commit>", command, run->dir) < 0) {
		perror("twinbench");
		exit(1);
	}
	doc_code(d, cmds);
	free(cmds);
}

/* The other files of the run folder a reader may want next, when they are there. */
static void section_files(struct doc *d, const struct run_data *run)
{
	static const char *const files[][2] = {
		{ "samples.csv", "every sample value, valid or not" },
		{ "summary.csv", "every comparison, as the runner computed it" },
		{ "settings.csv", "the queue settings in force during each sample" },
		{ "manifest.json", "the environment" },
		{ "console.log", "the guest's console (VM mode)" },
		{ "insn-functions.csv", "instructions per I/O by function, per arm (QEMU plugin)" },
		{ "insn-diff.csv", "safe arm minus raw arm, instructions per I/O by function" },
		{ "plots", "gnuplot data files (.dat) and figures (.svg, .png)" },
	};
	char path[PATH_MAX];

	doc_heading(d, 2, "Files in this run folder");
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		path_printf(path, sizeof(path), "%s/%s", run->dir, files[i][0]);
		if (!access(path, F_OK))
			doc_item(d, "", "%s: %s", files[i][0], files[i][1]);
	}
	doc_list_end(d);
}

/* Appendix: every metric of every arm, described. */
static void section_appendix(struct doc *d, const struct run_data *run)
{
	static const char *const heads[] = {
		"family", "workload", "arm", "metric", "unit", "n", "mean", "median", "sd", "CV %",
		"min", "max", NULL,
	};
	struct table t = { .numeric = { [5] = true, [6] = true, [7] = true, [8] = true,
					[9] = true, [10] = true, [11] = true } };
	struct name_list seen = { 0 };
	char key[REPORT_KEY_LEN];

	doc_heading(d, 2, "Appendix: every metric");
	table_begin(d, &t, heads);
	for (size_t i = 0; i < run->samples.n; i++) {
		const struct sample_row *r = &run->samples.rows[i];
		struct sample_stats st;

		snprintf(key, sizeof(key), "%s/%s/%s/%s", r->family, r->workload, r->arm, r->metric);
		if (name_list_find(&seen, key) >= 0)
			continue;
		name_list_add(&seen, key);
		if (!series_describe(run, r->family, r->arm, r->workload, r->metric, &st))
			continue;
		cellf(&t, 0, "%s", r->family);
		cellf(&t, 1, "%s", r->workload);
		cellf(&t, 2, "%s", r->arm);
		cellf(&t, 3, "%s", r->metric);
		cellf(&t, 4, "%s", r->unit);
		cellf(&t, 5, "%zu", st.n);
		cellf(&t, 6, "%.6g", st.mean);
		cellf(&t, 7, "%.6g", st.median);
		cellf(&t, 8, "%.3g", isfinite(st.sd) ? st.sd : 0.0);
		cellf(&t, 9, "%.2f", isfinite(st.cv) ? st.cv * 100 : 0.0);
		cellf(&t, 10, "%.6g", st.min);
		cellf(&t, 11, "%.6g", st.max);
		table_row(d, &t);
	}
	table_end(d);
	name_list_free(&seen);
}

static void section_title(struct doc *d, const struct run_data *run)
{
	char b1[64], b2[64], b3[64], b4[64], b5[128];
	const char *kernel = manifest_get(run->manifest, "release", b1, sizeof(b1));
	const char *mode = manifest_get(run->manifest, "mode", b2, sizeof(b2));
	const char *clock = manifest_get(run->manifest, "clock", b3, sizeof(b3));
	const char *started = manifest_get(run->manifest, "started", b4, sizeof(b4));
	const char *fixture = manifest_get(run->manifest, "fixture", b5, sizeof(b5));
	size_t valid = 0;

	for (size_t i = 0; i < run->samples.n; i++)
		valid += run->samples.rows[i].valid;
	fprintf(d->md, "# twinbench report: %s\n\n", run->id);
	fputs("<h1>twinbench report: ", d->html);
	html_escape(d->html, run->id);
	fputs("</h1>\n", d->html);
	doc_para(d, "Kernel %s, %s mode, %s clock, started %s; %zu of %zu sample values valid.",
		 kernel ? kernel : "unknown", mode ? mode : "unknown", clock ? clock : "unknown",
		 started ? started : "unknown", valid, run->samples.n);
	if (fixture)
		doc_para(d, "FIXTURE: %s.", fixture);
}

static int write_report(const struct run_data *run, const struct plot_list *pl, char *err,
			size_t len)
{
	char md_path[PATH_MAX], html_path[PATH_MAX], md_tmp[PATH_MAX], html_tmp[PATH_MAX];
	char title[256];
	struct doc d = { 0 };
	int bad;

	path_printf(md_path, sizeof(md_path), "%s/report.md", run->dir);
	path_printf(html_path, sizeof(html_path), "%s/report.html", run->dir);
	path_printf(md_tmp, sizeof(md_tmp), "%s.tmp", md_path);
	path_printf(html_tmp, sizeof(html_tmp), "%s.tmp", html_path);
	d.md = fopen(md_tmp, "w");
	d.html = d.md ? fopen(html_tmp, "w") : NULL;
	if (!d.md || !d.html) {
		snprintf(err, len, "%s: %s", d.md ? html_tmp : md_tmp, strerror(errno));
		if (d.md)
			fclose(d.md);
		unlink(md_tmp);
		return -1;
	}
	snprintf(title, sizeof(title), "twinbench report: %s", run->id);
	html_page_begin(d.html, title);
	section_title(&d, run);
	section_verdicts(&d, run);
	section_rust(&d, run);
	section_ablation(&d, run, pl);
	section_insn(&d, run, pl);
	section_rust_predict(&d, run);
	section_absolute(&d, run);
	section_plots(&d, run, pl);
	section_warnings(&d, run, pl);
	section_environment(&d, run);
	section_files(&d, run);
	section_all_comparisons(&d, run);
	section_appendix(&d, run);
	html_page_end(d.html);
	bad = ferror(d.md) | ferror(d.html);
	bad |= fclose(d.md) | fclose(d.html);
	if (bad || rename(md_tmp, md_path) || rename(html_tmp, html_path)) {
		snprintf(err, len, "%s: cannot write the report", run->dir);
		unlink(md_tmp);
		unlink(html_tmp);
		return -1;
	}
	return 0;
}

/* Copy RUN/@name to stdout (the plain-text summary after the paths). */
static void print_file(const char *dir, const char *name)
{
	char path[PATH_MAX + 64], err[256], *text;
	size_t size;

	path_printf(path, sizeof(path), "%s/%s", dir, name);
	text = file_read(path, &size, err, sizeof(err));
	if (text)
		fwrite(text, 1, size, stdout);
	free(text);
}

static void report_usage(FILE *f)
{
	fprintf(f, "usage: twinbench report RUN_DIR [--plots DIR]\n"
		"  writes RUN_DIR/plots/, RUN_DIR/report.md, RUN_DIR/report.html and the\n"
		"  plain-text RUN_DIR/summary.txt (80 columns, for a mailing-list reply)\n"
		"  exit 0: done, 1: written but a plot failed, 2: bad input\n");
}

int report_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "plots", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char err[REPORT_ERR_LEN], scripts[PATH_MAX];
	const char *plots_opt = NULL;
	struct plot_list pl;
	struct run_data run;
	int c, failed;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			plots_opt = optarg;
			break;
		case 'h':
			report_usage(stdout);
			return 0;
		default:
			report_usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		report_usage(stderr);
		return 2;
	}
	if (fig_find_scripts(plots_opt, scripts, sizeof(scripts))) {
		fprintf(stderr, "report: %s: no gnuplot scripts (relative.gp) there; pass --plots "
			"DIR\n", scripts);
		return 2;
	}
	if (run_load(argv[optind], RUN_NEED_SAMPLES, &run, err, sizeof(err))) {
		fprintf(stderr, "report: %s\n", err);
		return 2;
	}
	failed = report_plots(&run, scripts, &pl, err, sizeof(err));
	if (failed < 0 || write_report(&run, &pl, err, sizeof(err))) {
		fprintf(stderr, "report: %s\n", err);
		plot_list_free(&pl);
		run_free(&run);
		return 2;
	}
	if (mailsum_write(&run, err, sizeof(err))) {
		fprintf(stderr, "report: %s\n", err);
		plot_list_free(&pl);
		run_free(&run);
		return 2;
	}
	for (size_t i = 0; i < pl.failures.n; i++)
		fprintf(stderr, "report: %s\n", pl.failures.lines[i]);
	printf("report: %s/report.md, %s/report.html, %zu plots in %s/plots/\n", run.dir, run.dir,
	       pl.n, run.dir);
	printf("summary: %s/" MAILSUM_FILE "\n", run.dir);
	print_file(run.dir, MAILSUM_FILE);
	plot_list_free(&pl);
	run_free(&run);
	return failed ? 1 : 0;
}
