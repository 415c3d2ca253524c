// SPDX-License-Identifier: GPL-2.0
/*
 * summary.c - from samples.csv and settings.csv to summary.csv: for every
 * pair of arms, workload and metric, the ratio of means with its bootstrap
 * interval, the Mann-Whitney p-value, the verdict, warning flags, and the
 * queue settings that differed between the two arms; and the terminal table.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "family.h"
#include "runner.h"
#include "stats.h"
#include "trace.h"

/* Below this many samples per arm the exact U test cannot reach p < 0.05. */
#define SUMMARY_MIN_N	4

/* Settings that differ between arms by design, so they are never a "difference". */
static const char *const identity_settings[] = { "srcversion" };

static bool row_matches(const struct sample_row *r, const char *family, const char *arm,
			const char *workload)
{
	return !strcmp(r->family, family) && !strcmp(r->arm, arm) &&
	       !strcmp(r->workload, workload);
}

/* Valid values of one metric of one arm; returns how many. */
static size_t collect(const struct sample_table *t, const char *family, const char *arm,
		      const char *workload, const char *metric, double *out)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++) {
		const struct sample_row *r = &t->rows[i];

		if (r->valid && row_matches(r, family, arm, workload) && !strcmp(r->metric, metric))
			out[n++] = r->value;
	}
	return n;
}

static bool has_invalid(const struct sample_table *t, const char *family, const char *arm,
			const char *workload)
{
	for (size_t i = 0; i < t->n; i++)
		if (!t->rows[i].valid && row_matches(&t->rows[i], family, arm, workload))
			return true;
	return false;
}

/* Any row, valid or not, of @metric for either arm: failed samples leave one. */
static bool metric_recorded(const struct sample_table *t, const char *family,
			    const struct arm_pair *pair, const char *workload, const char *metric)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct sample_row *r = &t->rows[i];

		if (!strcmp(r->metric, metric) &&
		    (row_matches(r, family, pair->baseline, workload) ||
		     row_matches(r, family, pair->candidate, workload)))
			return true;
	}
	return false;
}

static void append(char *buf, size_t size, const char *sep, const char *text)
{
	size_t used = strlen(buf);

	if (used + strlen(sep) + strlen(text) + 4 >= size) {
		if (used + 4 < size && !strstr(buf, "..."))
			strcat(buf, "...");
		return;
	}
	if (used)
		strcat(buf, sep);
	strcat(buf, text);
}

/* Is @value one of the '|'-separated entries of @list? */
static bool listed(const char *list, const char *value)
{
	size_t n = strlen(value);

	for (const char *p = list; *p; ) {
		size_t len = strcspn(p, "|");

		if (len == n && !strncmp(p, value, n))
			return true;
		p += len + (p[len] == '|');
	}
	return false;
}

/* The distinct values of @setting for one arm, in order of appearance, joined by '|'. */
static void setting_values(const struct settings_table *t, const char *family, const char *arm,
			   const char *workload, const char *setting, char *out, size_t size)
{
	out[0] = '\0';
	for (size_t i = 0; i < t->n; i++) {
		const struct setting_row *s = &t->rows[i];

		if (!strcmp(s->family, family) && !strcmp(s->arm, arm) &&
		    !strcmp(s->workload, workload) && !strcmp(s->setting, setting) &&
		    !listed(out, s->value))
			append(out, size, "|", s->value);
	}
}

static bool is_identity_setting(const char *name)
{
	for (size_t i = 0; i < sizeof(identity_settings) / sizeof(*identity_settings); i++)
		if (!strcmp(name, identity_settings[i]))
			return true;
	return false;
}

static void settings_diff(const struct settings_table *t, const char *family,
			  const struct arm_pair *pair, const char *workload, char *out, size_t size)
{
	out[0] = '\0';
	for (size_t i = 0; i < t->n; i++) {
		const struct setting_row *s = &t->rows[i];
		char vb[RESULTS_TEXT_LEN], vc[RESULTS_TEXT_LEN], item[RESULTS_TEXT_LEN * 2 + 40];
		bool first = true;

		if (strcmp(s->family, family) || strcmp(s->workload, workload) ||
		    (strcmp(s->arm, pair->baseline) && strcmp(s->arm, pair->candidate)) ||
		    is_identity_setting(s->setting))
			continue;
		for (size_t j = 0; j < i && first; j++)
			first = strcmp(t->rows[j].setting, s->setting) ||
				strcmp(t->rows[j].family, family) ||
				strcmp(t->rows[j].workload, workload) ||
				(strcmp(t->rows[j].arm, pair->baseline) &&
				 strcmp(t->rows[j].arm, pair->candidate));
		if (!first)
			continue;
		setting_values(t, family, pair->baseline, workload, s->setting, vb, sizeof(vb));
		setting_values(t, family, pair->candidate, workload, s->setting, vc, sizeof(vc));
		if (!strcmp(vb, vc))
			continue;
		snprintf(item, sizeof(item), "%s=%s/%s", s->setting, vb[0] ? vb : "-",
			 vc[0] ? vc : "-");
		append(out, size, ";", item);
	}
}

static void compare_metric(const struct sample_table *samples, const char *family,
			   const struct arm_pair *pair, const struct workload *w,
			   const struct metric_info *mi, uint64_t seed, const char *diff,
			   struct summary_table *out)
{
	double *base = malloc((samples->n + 1) * sizeof(double));
	double *cand = malloc((samples->n + 1) * sizeof(double));
	struct summary_row row = { 0 };
	struct sample_stats sb, sc;
	struct comparison c;
	size_t nb, nc;

	if (!base || !cand)
		abort();
	nb = collect(samples, family, pair->baseline, w->name, mi->name, base);
	nc = collect(samples, family, pair->candidate, w->name, mi->name, cand);
	if (!nb && !nc && !metric_recorded(samples, family, pair, w->name, mi->name))
		goto out;
	snprintf(row.family, sizeof(row.family), "%s", family);
	snprintf(row.workload, sizeof(row.workload), "%s", w->name);
	snprintf(row.metric, sizeof(row.metric), "%s", mi->name);
	snprintf(row.baseline, sizeof(row.baseline), "%s", pair->baseline);
	snprintf(row.candidate, sizeof(row.candidate), "%s", pair->candidate);
	snprintf(row.settings_diff, sizeof(row.settings_diff), "%s", diff);
	stats_describe(base, nb, &sb);
	stats_describe(cand, nc, &sc);
	row.n_base = nb;
	row.n_cand = nc;
	row.mean_base = sb.mean;
	row.mean_cand = sc.mean;
	if (stats_compare(base, nb, cand, nc, mi->higher_is_better, seed, &c)) {
		row.ratio = row.ci_low = row.ci_high = row.p_value = NAN;
		row.verdict = VERDICT_SAME;
		append(row.flags, sizeof(row.flags), ";", nb && nc ? "zero-baseline" :
		       "missing-arm");
	} else {
		row.ratio = c.ratio;
		row.ci_low = c.ci_low;
		row.ci_high = c.ci_high;
		row.p_value = c.p_value;
		row.verdict = c.verdict;
	}
	if ((nb && sb.cv > STATS_HIGH_CV) || (nc && sc.cv > STATS_HIGH_CV))
		append(row.flags, sizeof(row.flags), ";", "high-cv");
	if (sb.bimodal || sc.bimodal)
		append(row.flags, sizeof(row.flags), ";", "bimodal");
	if (nb < SUMMARY_MIN_N || nc < SUMMARY_MIN_N)
		append(row.flags, sizeof(row.flags), ";", "low-n");
	if (has_invalid(samples, family, pair->baseline, w->name) ||
	    has_invalid(samples, family, pair->candidate, w->name))
		append(row.flags, sizeof(row.flags), ";", "invalid-samples");
	summary_table_add(out, &row);
out:
	free(base);
	free(cand);
}

/*
 * What tracing costs arm @arm on workload @w: its untraced samples against its traced
 * ones on the family's primary metric, reported as tracing_overhead = untraced mean over
 * traced mean (the interval inverted with it).
 */
static void compare_tracing(const struct sample_table *samples, const struct matrix_family *fam,
			    const char *arm, const struct workload *w, uint64_t seed,
			    struct summary_table *out)
{
	const struct metric_info *mi = metric_lookup(fam->ops->primary_metric);
	struct arm_pair pair;
	struct summary_row *r;
	size_t n = out->n;
	double lo;

	if (!mi)
		return;
	snprintf(pair.baseline, sizeof(pair.baseline), "%s", arm);
	snprintf(pair.candidate, sizeof(pair.candidate), "%.24s%s", arm, TRACE_ARM_SUFFIX);
	compare_metric(samples, fam->name, &pair, w, mi, seed, "", out);
	if (out->n == n)
		return;
	r = &out->rows[n];
	snprintf(r->metric, sizeof(r->metric), "tracing_overhead");
	r->ratio = 1 / r->ratio;
	lo = 1 / r->ci_high;
	r->ci_high = 1 / r->ci_low;
	r->ci_low = lo;
}

/* @pair with both arm names given the traced suffix. */
static void traced_pair(const struct arm_pair *pair, struct arm_pair *out)
{
	snprintf(out->baseline, sizeof(out->baseline), "%.24s%s", pair->baseline,
		 TRACE_ARM_SUFFIX);
	snprintf(out->candidate, sizeof(out->candidate), "%.24s%s", pair->candidate,
		 TRACE_ARM_SUFFIX);
}

void summary_compute(const struct matrix *m, const struct sample_table *samples,
		     const struct settings_table *settings, uint64_t seed,
		     struct summary_table *out)
{
	char diff[RESULTS_TEXT_LEN];

	for (size_t f = 0; f < m->n_families; f++) {
		const struct matrix_family *fam = &m->families[f];

		if (!fam->selected)
			continue;
		for (size_t p = 0; p < fam->n_pairs; p++) {
			for (size_t w = 0; w < m->n_workloads; w++) {
				const struct workload *wl = &m->workloads[w];

				if (!matrix_workload_applies(wl, fam) ||
				    !family_arm_serves(fam->ops, fam->pairs[p].baseline, m, wl,
						       NULL, 0) ||
				    !family_arm_serves(fam->ops, fam->pairs[p].candidate, m, wl,
						       NULL, 0))
					continue;
				for (int t = 0; t < 2; t++) {
					struct arm_pair pair = fam->pairs[p];

					if ((t && m->trace == MATRIX_TRACE_OFF) ||
					    (!t && m->trace == MATRIX_TRACE_ON))
						continue;
					if (t)
						traced_pair(&fam->pairs[p], &pair);
					settings_diff(settings, fam->name, &pair, wl->name, diff,
						      sizeof(diff));
					for (const struct metric_info *mi = metric_table;
					     mi->name; mi++)
						if (strcmp(mi->name, "tracing_overhead"))
							compare_metric(samples, fam->name, &pair,
								       wl, mi, seed, diff, out);
				}
			}
		}
		for (size_t a = 0; a < fam->n_arms && m->trace == MATRIX_TRACE_BOTH; a++)
			for (size_t w = 0; w < m->n_workloads; w++)
				if (matrix_workload_applies(&m->workloads[w], fam) &&
				    family_arm_serves(fam->ops, fam->arms[a], m, &m->workloads[w],
						      NULL, 0))
					compare_tracing(samples, fam, fam->arms[a],
							&m->workloads[w], seed, out);
	}
}

/* Metrics shown in the terminal table; summary.csv has them all. */
static const char *const table_metrics[] = {
	"iops", "lat_p50", "lat_p99", "cpu_ns_per_io", "insn_per_io", "driver_insn_per_io",
	"pps", "cpu_ns_per_pkt", "tracing_overhead",
};

static bool in_table(const char *metric)
{
	for (size_t i = 0; i < sizeof(table_metrics) / sizeof(*table_metrics); i++)
		if (!strcmp(metric, table_metrics[i]))
			return true;
	return false;
}

void summary_print(FILE *f, const struct summary_table *sum, const char *clock)
{
	const char *last_family = "", *last_workload = "";

	fprintf(f, "\n  %-18s %-14s %12s %-14s %12s %8s %19s %8s %-7s %s\n", "metric", "baseline",
		"mean", "candidate", "mean", "ratio", "95% CI", "p", "verdict", "flags");
	for (size_t i = 0; i < sum->n; i++) {
		const struct summary_row *r = &sum->rows[i];
		char ci[40];

		if (!in_table(r->metric))
			continue;
		if (strcmp(r->family, last_family) || strcmp(r->workload, last_workload)) {
			fprintf(f, "%s / %s\n", r->family, r->workload);
			last_family = r->family;
			last_workload = r->workload;
		}
		snprintf(ci, sizeof(ci), "[%.4f, %.4f]", r->ci_low, r->ci_high);
		fprintf(f, "  %-18s %-14s %12.6g %-14s %12.6g %8.4f %19s %8.2g %-7s %s\n", r->metric,
			r->baseline, r->mean_base, r->candidate, r->mean_cand, r->ratio, ci,
			r->p_value, verdict_name(r->verdict), r->flags);
		if (r->settings_diff[0] && !strcmp(r->metric, "iops"))
			fprintf(f, "  %-18s queue settings differ: %s\n", "", r->settings_diff);
	}
	fprintf(f, "\nratio = candidate mean / baseline mean; verdict needs the interval to "
		"exclude 1 and p < %.2g (clock: %s).\n", STATS_ALPHA, clock);
}
