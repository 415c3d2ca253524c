// SPDX-License-Identifier: GPL-2.0
/*
 * report_compare.c - twinbench compare BASE CAND: judges every series of one run
 * against another (a baseline night and a candidate night) with the same
 * statistics the runner uses within a run (boots as the unit), corrected across
 * the series, and calls a regression only when the verdict is "slower" with the
 * threshold as the practical margin.
 */
#include <getopt.h>
#include <math.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include "history.h"
#include "report_compare.h"
#include "vec.h"

struct series series_with_boots(const struct sample_table *t, const char *family,
				const char *arm, const char *workload, const char *metric,
				double **x, unsigned int **boot)
{
	size_t n = 0;

	*x = malloc((t->n ? t->n : 1) * sizeof(**x));
	*boot = malloc((t->n ? t->n : 1) * sizeof(**boot));
	if (!*x || !*boot)
		abort();
	for (size_t i = 0; i < t->n; i++) {
		const struct sample_row *r = &t->rows[i];

		if (!r->valid || strcmp(r->metric, metric) || strcmp(r->arm, arm) ||
		    strcmp(r->workload, workload) || strcmp(r->family, family))
			continue;
		(*x)[n] = r->value;
		(*boot)[n++] = r->boot;
	}
	return (struct series){ *x, *boot, n };
}

void regression_rejudge(struct regression_check *rc, const char *metric)
{
	const struct metric_info *mi = metric_lookup(metric);

	stats_judge(&rc->cmp, mi ? mi->higher_is_better : false);
	rc->regressed = rc->cmp.verdict == VERDICT_SLOWER;
	rc->improved = rc->cmp.verdict == VERDICT_FASTER;
}

int regression_judge(const struct series *base, const struct series *cand, const char *metric,
		     double threshold_pct, struct regression_check *out)
{
	const struct metric_info *mi = metric_lookup(metric);

	memset(out, 0, sizeof(*out));
	if (stats_compare(base, cand, mi ? mi->higher_is_better : false, threshold_pct / 100,
			  &out->cmp))
		return -1;
	stats_describe(base->x, base->n, &out->base);
	stats_describe(cand->x, cand->n, &out->cand);
	regression_rejudge(out, metric);
	return 0;
}

void regression_flags(const struct regression_check *rc, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s", rc->cmp.by_boot ? "" : "one-boot;",
		 rc->cmp.low_n ? "low-n;" : "", rc->cmp.outliers ? "outlier;" : "");
	if (*out)
		out[strlen(out) - 1] = '\0';
}

static void warn_mismatch(const struct run_data *base, const struct run_data *cand,
			  const char *key, FILE *out)
{
	char b1[64], b2[64];
	const char *vb = manifest_get(base->manifest, key, b1, sizeof(b1));
	const char *vc = manifest_get(cand->manifest, key, b2, sizeof(b2));

	if (vb && vc && strcmp(vb, vc))
		fprintf(out, "warning: %s differs: %s in %s, %s in %s\n", key, vb, base->id, vc,
			cand->id);
}

/* Does @t have any row, valid or not, of this series? */
static bool series_recorded(const struct sample_table *t, const struct sample_row *key)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct sample_row *r = &t->rows[i];

		if (!strcmp(r->metric, key->metric) && !strcmp(r->arm, key->arm) &&
		    !strcmp(r->workload, key->workload) && !strcmp(r->family, key->family))
			return true;
	}
	return false;
}

/* What became of one series in compare_runs(). */
enum item_state {
	ITEM_JUDGED,
	ITEM_NO_VALID,		/* in both runs, no valid samples on a side */
	ITEM_BASE_ONLY,
	ITEM_CAND_ONLY,
	ITEM_NOT_POSITIVE,	/* values the ratio cannot take (counts of 0): not judged */
};

/* One series of compare_runs() on its way from judging to printing. */
struct compare_item {
	const struct sample_row *key;
	struct regression_check rc;
	size_t nb, nc;
	enum item_state state;
};

static void print_item(FILE *out, const struct compare_item *it)
{
	const struct sample_row *r = it->key;
	const struct regression_check *rc = &it->rc;
	char flags[64];

	if (it->state == ITEM_NO_VALID || it->state == ITEM_NOT_POSITIVE) {
		fprintf(out, "%-6s %-10s %-20s %-16s %s (%zu base, %zu cand)\n", r->family, r->arm,
			r->workload, r->metric, it->state == ITEM_NO_VALID ? "NO VALID SAMPLES" :
			"not judged: values not all positive", it->nb, it->nc);
		return;
	}
	regression_flags(rc, flags, sizeof(flags));
	fprintf(out, "%-6s %-10s %-20s %-16s %12.6g %12.6g %7.4f [%7.4f,%7.4f] %9.3g %9.3g "
		"%-12s %-11s %s\n", r->family, r->arm, r->workload, r->metric, rc->base.mean,
		rc->cand.mean, rc->cmp.ratio, rc->cmp.ci_low, rc->cmp.ci_high, rc->cmp.p_value,
		rc->cmp.p_adjusted, verdict_name(rc->cmp.verdict), rc->regressed ? "REGRESSION" :
		rc->improved ? "improvement" : "", flags);
}

int compare_runs(const struct run_data *base, const struct run_data *cand, double threshold_pct,
		 bool all_metrics, FILE *out, struct compare_totals *totals, char *err, size_t len)
{
	const struct run_data *side[2] = { base, cand };
	struct compare_item *items = NULL;
	size_t items_cap = 0;
	struct name_list seen = { 0 };
	size_t n = 0, judged = 0;
	double *p, *adj;
	char key[256];

	memset(totals, 0, sizeof(*totals));
	if (!base->samples.n || !cand->samples.n) {
		snprintf(err, len, "%s: no samples to compare", base->samples.n ? cand->dir : base->dir);
		return -1;
	}
	warn_mismatch(base, cand, "release", out);
	warn_mismatch(base, cand, "mode", out);
	warn_mismatch(base, cand, "clock", out);
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < side[k]->samples.n; i++) {
			const struct sample_row *r = &side[k]->samples.rows[i];
			struct compare_item *it;
			double *xb, *xc;
			unsigned int *bb, *bc;
			struct series sb, sc;

			if (!all_metrics && !is_key_metric(r->metric))
				continue;
			snprintf(key, sizeof(key), "%s/%s/%s/%s", r->family, r->arm, r->workload,
				 r->metric);
			if (name_list_find(&seen, key) >= 0)
				continue;
			name_list_add(&seen, key);
			it = VEC_PUSH(items, n, items_cap);
			memset(it, 0, sizeof(*it));
			it->key = r;
			if (!series_recorded(&side[!k]->samples, r)) {
				it->state = k ? ITEM_CAND_ONLY : ITEM_BASE_ONLY;
				continue;
			}
			sb = series_with_boots(&base->samples, r->family, r->arm, r->workload,
					       r->metric, &xb, &bb);
			sc = series_with_boots(&cand->samples, r->family, r->arm, r->workload,
					       r->metric, &xc, &bc);
			it->nb = sb.n;
			it->nc = sc.n;
			if (regression_judge(&sb, &sc, r->metric, threshold_pct, &it->rc))
				it->state = sb.n && sc.n ? ITEM_NOT_POSITIVE : ITEM_NO_VALID;
			free(xb);
			free(bb);
			free(xc);
			free(bc);
		}
	}
	p = malloc((n ? n : 1) * sizeof(*p));
	adj = malloc((n ? n : 1) * sizeof(*adj));
	if (!p || !adj)
		abort();
	for (size_t i = 0; i < n; i++)
		p[i] = items[i].state == ITEM_JUDGED ? items[i].rc.cmp.p_value : NAN;
	stats_adjust_bh(p, n, adj);
	fprintf(out, "compare %s (base) -> %s (candidate), threshold %.1f %% (the practical "
		"margin of every verdict)\n", base->id, cand->id, threshold_pct);
	fprintf(out, "%-6s %-10s %-20s %-16s %12s %12s %7s %17s %9s %9s %-12s %-11s %s\n",
		"family", "arm", "workload", "metric", "base", "cand", "ratio", "95% CI", "p",
		"p adj", "verdict", "", "flags");
	for (size_t i = 0; i < n; i++) {
		struct compare_item *it = &items[i];

		if (it->state == ITEM_BASE_ONLY || it->state == ITEM_CAND_ONLY)
			continue;
		if (it->state == ITEM_JUDGED) {
			it->rc.cmp.p_adjusted = adj[i];
			regression_rejudge(&it->rc, it->key->metric);
			judged++;
			totals->regressions += it->rc.regressed;
			totals->improvements += it->rc.improved;
		} else {
			totals->missing += it->state == ITEM_NO_VALID;
		}
		print_item(out, it);
	}
	totals->series = judged;
	for (size_t i = 0; i < n; i++) {
		const struct sample_row *r = items[i].key;

		if (items[i].state != ITEM_BASE_ONLY && items[i].state != ITEM_CAND_ONLY)
			continue;
		fprintf(out, "only in the %s run: %s %s %s %s\n",
			items[i].state == ITEM_BASE_ONLY ? "base" :
			"candidate", r->family, r->arm, r->workload, r->metric);
		totals->one_sided++;
	}
	fprintf(out, "%zu series compared, %zu regressions, %zu improvements, %zu without valid "
		"samples on a side, %zu in one run only\n", totals->series, totals->regressions,
		totals->improvements, totals->missing, totals->one_sided);
	free(p);
	free(adj);
	free(items);
	name_list_free(&seen);
	return 0;
}

static void compare_usage(FILE *f)
{
	fprintf(f, "usage: twinbench compare BASE_RUN CAND_RUN [--threshold PCT] [--all-metrics]\n"
		"                         [--db FILE]\n"
		"  a run is a run folder, or with --db a run id of the history\n"
		"  exit 0: no regression, 1: regression beyond PCT (default %.1f), 2: error or a\n"
		"  series without valid samples on a side\n",
		REGRESSION_DEFAULT_PCT);
}

/* A run folder, or a run id looked up in the history @dbpath when there is no such folder. */
static int load_either(const char *arg, const char *dbpath, struct run_data *run, char *err,
		       size_t len)
{
	struct stat sb;
	struct history *db;
	int ret;

	if (stat(arg, &sb) == 0 || !dbpath)
		return run_load(arg, RUN_NEED_SAMPLES, run, err, len);
	if (history_open(dbpath, false, &db, err, len))
		return -1;
	ret = history_load_run(db, arg, run, err, len);
	history_close(db);
	return ret;
}

/* Parse a threshold in percent: a finite number in [0, 100). */
static int parse_pct(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !isfinite(v) || v < 0 || v >= 100)
		return -1;
	*out = v;
	return 0;
}

int compare_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threshold", required_argument, NULL, 't' },
		{ "all-metrics", no_argument, NULL, 'a' },
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	double threshold = REGRESSION_DEFAULT_PCT;
	const char *dbpath = NULL;
	struct run_data base, cand;
	struct compare_totals totals;
	char err[REPORT_ERR_LEN];
	bool all = false;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:ad:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_pct(optarg, &threshold)) {
				fprintf(stderr, "compare: --threshold '%s': want a percentage in [0, 100)\n",
					optarg);
				return 2;
			}
			break;
		case 'a':
			all = true;
			break;
		case 'd':
			dbpath = optarg;
			break;
		case 'h':
			compare_usage(stdout);
			return 0;
		default:
			compare_usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		compare_usage(stderr);
		return 2;
	}
	if (load_either(argv[optind], dbpath, &base, err, sizeof(err))) {
		fprintf(stderr, "compare: %s\n", err);
		return 2;
	}
	if (load_either(argv[optind + 1], dbpath, &cand, err, sizeof(err))) {
		fprintf(stderr, "compare: %s\n", err);
		run_free(&base);
		return 2;
	}
	ret = compare_runs(&base, &cand, threshold, all, stdout, &totals, err, sizeof(err));
	if (ret)
		fprintf(stderr, "compare: %s\n", err);
	run_free(&cand);
	run_free(&base);
	if (ret)
		return 2;
	if (totals.missing) {
		fprintf(stderr, "compare: %zu series have no valid samples on a side: no verdict "
			"for them\n", totals.missing);
		return 2;
	}
	return totals.regressions ? 1 : 0;
}
