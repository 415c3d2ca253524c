// SPDX-License-Identifier: GPL-2.0
/*
 * report_compare.c - twinbench compare BASE CAND: judges every series of one run
 * against another (a baseline night and a candidate night) with the same
 * statistics the runner uses within a run, then calls a regression only when
 * the change is significant, in the worse direction, and beyond a threshold.
 */
#include <getopt.h>
#include <math.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

int regression_judge(const double *base, size_t nb, const double *cand, size_t nc,
		     const char *metric, double threshold_pct, struct regression_check *out)
{
	const struct metric_info *mi = metric_lookup(metric);
	bool higher_is_better = mi ? mi->higher_is_better : false;
	double change;
	bool worse;

	memset(out, 0, sizeof(*out));
	if (stats_compare(base, nb, cand, nc, higher_is_better, REGRESSION_SEED, &out->cmp))
		return -1;
	stats_describe(base, nb, &out->base);
	stats_describe(cand, nc, &out->cand);
	change = fabs(out->cmp.ratio - 1.0) * 100.0;
	worse = out->cmp.verdict == VERDICT_SLOWER;
	if (out->cmp.verdict != VERDICT_SAME && change > threshold_pct) {
		out->regressed = worse;
		out->improved = !worse;
	}
	return 0;
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

static const char *mark(const struct regression_check *rc)
{
	if (rc->regressed)
		return "REGRESSION";
	if (rc->improved)
		return "improvement";
	return "";
}

int compare_runs(const struct run_data *base, const struct run_data *cand, double threshold_pct,
		 bool all_metrics, FILE *out, struct compare_totals *totals, char *err, size_t len)
{
	struct name_list seen = { 0 };
	double *vb = NULL, *vc = NULL;
	char key[256];

	memset(totals, 0, sizeof(*totals));
	if (!base->samples.n || !cand->samples.n) {
		snprintf(err, len, "%s: no samples to compare", base->samples.n ? cand->dir : base->dir);
		return -1;
	}
	warn_mismatch(base, cand, "release", out);
	warn_mismatch(base, cand, "mode", out);
	warn_mismatch(base, cand, "clock", out);
	fprintf(out, "compare %s (base) -> %s (candidate), threshold %.1f %%\n", base->id, cand->id,
		threshold_pct);
	fprintf(out, "%-6s %-10s %-20s %-16s %12s %12s %7s %17s %9s %-7s %s\n", "family", "arm",
		"workload", "metric", "base", "cand", "ratio", "95% CI", "p", "verdict", "");
	for (size_t i = 0; i < base->samples.n; i++) {
		const struct sample_row *r = &base->samples.rows[i];
		struct regression_check rc;
		size_t nb, nc;

		if (!all_metrics && !is_key_metric(r->metric))
			continue;
		snprintf(key, sizeof(key), "%s/%s/%s/%s", r->family, r->arm, r->workload, r->metric);
		if (name_list_find(&seen, key) >= 0)
			continue;
		name_list_add(&seen, key);
		nb = series_values(&base->samples, r->family, r->arm, r->workload, r->metric, &vb);
		nc = series_values(&cand->samples, r->family, r->arm, r->workload, r->metric, &vc);
		if (regression_judge(vb, nb, vc, nc, r->metric, threshold_pct, &rc)) {
			fprintf(out, "%-6s %-10s %-20s %-16s missing valid samples (%zu base, %zu cand)\n",
				r->family, r->arm, r->workload, r->metric, nb, nc);
			totals->missing++;
			continue;
		}
		totals->series++;
		totals->regressions += rc.regressed;
		totals->improvements += rc.improved;
		fprintf(out, "%-6s %-10s %-20s %-16s %12.6g %12.6g %7.4f [%7.4f,%7.4f] %9.3g %-7s %s\n",
			r->family, r->arm, r->workload, r->metric, rc.base.mean, rc.cand.mean,
			rc.cmp.ratio, rc.cmp.ci_low, rc.cmp.ci_high, rc.cmp.p_value,
			verdict_name(rc.cmp.verdict), mark(&rc));
	}
	fprintf(out, "%zu series compared, %zu regressions, %zu improvements, %zu without samples\n",
		totals->series, totals->regressions, totals->improvements, totals->missing);
	free(vb);
	free(vc);
	name_list_free(&seen);
	return 0;
}

static void compare_usage(FILE *f)
{
	fprintf(f, "usage: twinbench compare BASE_RUN CAND_RUN [--threshold PCT] [--all-metrics]\n"
		"                         [--db FILE]\n"
		"  a run is a run folder, or with --db a run id of the history\n"
		"  exit 0: no regression, 1: regression beyond PCT (default %.1f), 2: error\n",
		REGRESSION_DEFAULT_PCT);
}

/* A run folder, or a run id looked up in the history @dbpath when there is no such folder. */
static int load_either(const char *arg, const char *dbpath, struct run_data *run, char *err,
		       size_t len)
{
	struct stat sb;
	sqlite3 *db;
	int ret;

	if (stat(arg, &sb) == 0 || !dbpath)
		return run_load(arg, RUN_NEED_SAMPLES, run, err, len);
	if (history_open(dbpath, false, &db, err, len))
		return -1;
	ret = history_load_run(db, arg, run, err, len);
	sqlite3_close(db);
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
	return totals.regressions ? 1 : 0;
}
