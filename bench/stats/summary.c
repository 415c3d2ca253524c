// SPDX-License-Identifier: GPL-2.0
/*
 * summary.c - from samples.csv and settings.csv to summary.csv: for every
 * pair of arms, workload and metric, the ratio with its interval over boots,
 * the rank test's raw and Benjamini-Hochberg adjusted p, the three-way verdict
 * at the metric's margin, warning flags, and the queue settings that differed
 * between the two arms; and the terminal table.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "family.h"
#include "stats.h"
#include "summary.h"
#include "plan.h"
#include "util.h"

/* Settings that differ between arms by design, so they are never a "difference". */
static const char *const identity_settings[] = { "srcversion" };

static bool row_matches(const struct sample_row *r, const char *family, const char *arm,
			const char *workload)
{
	return !strcmp(r->family, family) && !strcmp(r->arm, arm) &&
	       !strcmp(r->workload, workload);
}

/* Valid values of one metric of one arm, with their boots; returns how many. */
static size_t collect(const struct sample_table *t, const char *family, const char *arm,
		      const char *workload, const char *metric, double *out, unsigned int *boot)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++) {
		const struct sample_row *r = &t->rows[i];

		if (r->valid && row_matches(r, family, arm, workload) &&
		    !strcmp(r->metric, metric)) {
			boot[n] = r->boot;
			out[n++] = r->value;
		}
	}
	return n;
}

/* Bimodality judged on the per-boot means of one arm, when it has enough boots. */
static bool boots_bimodal(const struct series *s)
{
	double *means = malloc((s->n ? s->n : 1) * sizeof(*means));
	struct sample_stats st;
	size_t k;

	if (!means)
		abort();
	k = stats_boot_means(s, means, NULL);
	stats_describe(means, k, &st);
	free(means);
	return k >= STATS_BIMODAL_MIN_BOOTS && st.bimodal;
}

/* Is @name one of the ';'-separated flags of @flags? */
static bool has_flag(const char *flags, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = flags; *p; ) {
		size_t len = strcspn(p, ";");

		if (len == n && !strncmp(p, name, n))
			return true;
		p += len + (p[len] == ';');
	}
	return false;
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
	for (size_t i = 0; i < ARRAY_LEN(identity_settings); i++)
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

void summary_compare_metric(const struct sample_table *samples, const char *family,
			    const struct arm_pair *pair, const char *workload,
			    const struct metric_info *mi, double margin, const char *diff,
			    struct summary_table *out)
{
	double *base = malloc((samples->n + 1) * sizeof(double));
	double *cand = malloc((samples->n + 1) * sizeof(double));
	unsigned int *bb = malloc((samples->n + 1) * sizeof(unsigned int));
	unsigned int *bc = malloc((samples->n + 1) * sizeof(unsigned int));
	struct summary_row row = { 0 };
	struct sample_stats sb, sc;
	struct series xb, xc;
	struct comparison c;

	if (!base || !cand || !bb || !bc)
		abort();
	xb = (struct series){ base, bb, collect(samples, family, pair->baseline, workload,
					       mi->name, base, bb) };
	xc = (struct series){ cand, bc, collect(samples, family, pair->candidate, workload,
					       mi->name, cand, bc) };
	if (!xb.n && !xc.n && !metric_recorded(samples, family, pair, workload, mi->name))
		goto out;
	snprintf(row.family, sizeof(row.family), "%s", family);
	snprintf(row.workload, sizeof(row.workload), "%s", workload);
	snprintf(row.metric, sizeof(row.metric), "%s", mi->name);
	snprintf(row.baseline, sizeof(row.baseline), "%s", pair->baseline);
	snprintf(row.candidate, sizeof(row.candidate), "%s", pair->candidate);
	snprintf(row.settings_diff, sizeof(row.settings_diff), "%s", diff);
	stats_describe(base, xb.n, &sb);
	stats_describe(cand, xc.n, &sc);
	row.n_base = xb.n;
	row.n_cand = xc.n;
	row.mean_base = sb.mean;
	row.mean_cand = sc.mean;
	if (stats_compare(&xb, &xc, mi->higher_is_better, margin, &c))
		append(row.flags, sizeof(row.flags), ";", !xb.n || !xc.n ? "missing-arm" :
		       mi->positive ? "bad-value" : "zero-value");
	row.ratio = c.ratio;
	row.ci_low = c.ci_low;
	row.ci_high = c.ci_high;
	row.p_value = c.p_value;
	row.p_adjusted = c.p_adjusted;
	row.p_rank = c.p_rank;
	row.verdict = c.verdict;
	row.margin = margin;
	row.mdd = c.mdd;
	row.units_base = c.units_base;
	row.units_cand = c.units_cand;
	row.cv_between = c.cv_between;
	row.cv_within = c.cv_within;
	if (xb.n && xc.n && !c.by_boot)
		append(row.flags, sizeof(row.flags), ";", "one-boot");
	if ((xb.n && sb.cv > STATS_HIGH_CV) || (xc.n && sc.cv > STATS_HIGH_CV))
		append(row.flags, sizeof(row.flags), ";", "high-cv");
	if (boots_bimodal(&xb) || boots_bimodal(&xc))
		append(row.flags, sizeof(row.flags), ";", "bimodal");
	if (c.outliers)
		append(row.flags, sizeof(row.flags), ";", "outlier");
	if (c.low_n || !xb.n || !xc.n)
		append(row.flags, sizeof(row.flags), ";", "low-n");
	if (has_invalid(samples, family, pair->baseline, workload) ||
	    has_invalid(samples, family, pair->candidate, workload))
		append(row.flags, sizeof(row.flags), ";", "invalid-samples");
	summary_table_add(out, &row);
out:
	free(base);
	free(cand);
	free(bb);
	free(bc);
}

/*
 * What tracing costs arm @arm on workload @w: its untraced samples against its traced
 * ones on the family's primary metric, reported as tracing_overhead = untraced mean over
 * traced mean (the interval inverted with it).
 */
static void compare_tracing(const struct sample_table *samples, const struct matrix_family *fam,
			    const char *arm, const struct workload *w, double margin,
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
	summary_compare_metric(samples, fam->name, &pair, w->name, mi, margin, "", out);
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

/* Whether row @r belongs to the secondary correction family (struct metric_info). */
static bool row_secondary(const struct summary_row *r)
{
	const struct metric_info *mi = metric_lookup(r->metric);

	return mi && mi->secondary;
}

/* Benjamini-Hochberg over the rows from @first on that are (or are not) @secondary. */
static void adjust_family(struct summary_table *t, size_t first, bool secondary)
{
	size_t n = t->n - first, m = 0;
	double *p = calloc(n ? n : 1, sizeof(*p)), *adj = calloc(n ? n : 1, sizeof(*adj));
	size_t *at = calloc(n ? n : 1, sizeof(*at));

	if (!p || !adj || !at)
		abort();
	for (size_t i = first; i < t->n; i++)
		if (row_secondary(&t->rows[i]) == secondary) {
			at[m] = i;
			p[m++] = t->rows[i].p_value;
		}
	stats_adjust_bh(p, m, adj);
	for (size_t i = 0; i < m; i++) {
		struct summary_row *r = &t->rows[at[i]];
		const struct metric_info *mi = metric_lookup(r->metric);
		struct comparison c = {
			.ratio = r->ratio, .ci_low = r->ci_low, .ci_high = r->ci_high,
			.p_value = r->p_value, .p_adjusted = adj[i], .p_rank = r->p_rank,
			.margin = r->margin,
			.low_n = has_flag(r->flags, "low-n"),
		};

		stats_judge(&c, mi ? mi->higher_is_better : false);
		r->p_adjusted = adj[i];
		r->verdict = c.verdict;
	}
	free(p);
	free(adj);
	free(at);
}

void summary_adjust(struct summary_table *t, size_t first)
{
	adjust_family(t, first, false);
	adjust_family(t, first, true);
}

/* Every metric but tracing_overhead of one pair and workload, each at its margin. */
static void compare_pair(const struct matrix *m, const struct sample_table *samples,
			 const char *family, const struct arm_pair *pair, const char *workload,
			 const char *diff, struct summary_table *out)
{
	for (const struct metric_info *mi = metric_table; mi->name; mi++)
		if (strcmp(mi->name, "tracing_overhead"))
			summary_compare_metric(samples, family, pair, workload, mi,
					       matrix_margin(m, mi->name), diff, out);
}

size_t summary_compute(const struct matrix *m, const struct sample_table *samples,
		       const struct settings_table *settings, struct summary_table *out)
{
	size_t first = out->n, unjudged = 0;
	char diff[RESULTS_TEXT_LEN];

	for (size_t f = 0; f < m->n_families; f++) {
		const struct matrix_family *fam = &m->families[f];
		double primary_margin = matrix_margin(m, fam->ops->primary_metric);

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
					compare_pair(m, samples, fam->name, &pair, wl->name, diff,
						     out);
				}
			}
		}
		for (size_t a = 0; a < fam->n_arms && m->trace == MATRIX_TRACE_BOTH; a++)
			for (size_t w = 0; w < m->n_workloads; w++)
				if (matrix_workload_applies(&m->workloads[w], fam) &&
				    family_arm_serves(fam->ops, fam->arms[a], m, &m->workloads[w],
						      NULL, 0))
					compare_tracing(samples, fam, fam->arms[a],
							&m->workloads[w], primary_margin, out);
	}
	summary_adjust(out, first);
	for (size_t i = first; i < out->n; i++)
		unjudged += !out->rows[i].n_base || !out->rows[i].n_cand;
	return unjudged;
}

/* Metrics shown in the terminal table; summary.csv has them all. */
static const char *const table_metrics[] = {
	"iops", "lat_p50", "lat_p99", "cpu_ns_per_io", "insn_per_io", "driver_insn_per_io",
	"pps", "cpu_ns_per_pkt", "tracing_overhead",
};

static bool in_table(const char *metric)
{
	for (size_t i = 0; i < ARRAY_LEN(table_metrics); i++)
		if (!strcmp(metric, table_metrics[i]))
			return true;
	return false;
}

void summary_print(FILE *f, const struct summary_table *sum, const char *clock)
{
	const char *last_family = "", *last_workload = "";

	fprintf(f, "\n  %-18s %-14s %12s %-14s %12s %8s %19s %8s %8s %-12s %s\n", "metric",
		"baseline", "mean", "candidate", "mean", "ratio", "95% CI", "p", "p adj",
		"verdict", "flags");
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
		fprintf(f, "  %-18s %-14s %12.6g %-14s %12.6g %8.4f %19s %8.2g %8.2g %-12s %s\n",
			r->metric, r->baseline, r->mean_base, r->candidate, r->mean_cand, r->ratio,
			ci, r->p_value, r->p_adjusted, verdict_name(r->verdict), r->flags);
		if (r->settings_diff[0] && !strcmp(r->metric, "iops"))
			fprintf(f, "  %-18s queue settings differ: %s\n", "", r->settings_diff);
	}
	fprintf(f, "\nratio = candidate / baseline (geometric means of per-boot means; of samples "
		"when one-boot); slower/faster: the interval lies beyond 1 +- margin, the "
		"adjusted p and the rank test's p (summary.csv: p_rank) < %.2g; equivalent: it "
		"lies within; inconclusive: neither, or low-n (clock: %s).\n", STATS_ALPHA, clock);
}
