// SPDX-License-Identifier: GPL-2.0
/*
 * dashboard.c - twinbench dashboard: one static HTML page (no server, no
 * script) drawn from the history database: a trend chart per key metric and
 * arm over the runs, one line per workload, each point linking to its run's
 * report, and every point that regressed against the run before it marked.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "report.h"

#define CHART_W		760
#define CHART_H		290
#define PLOT_L		120
#define PLOT_R		580
#define PLOT_T		28
#define PLOT_B		200
#define PLOT_W		(PLOT_R - PLOT_L)
#define PLOT_H		(PLOT_B - PLOT_T)

static const char *const palette[] = {
	"#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf",
};

/* The runs of the history, oldest first, with their samples of the key metrics. */
struct history_runs {
	struct run_data *runs;
	char (*links)[PATH_MAX];	/* report.html relative to the output folder */
	size_t n;
};

static int load_runs(sqlite3 *db, const char *outdir, struct history_runs *h, char *err,
		     size_t len)
{
	struct name_list ids = { 0 };
	int ret = 0;

	memset(h, 0, sizeof(*h));
	if (history_run_ids(db, &ids, err, len))
		return -1;
	h->runs = calloc(ids.n ? ids.n : 1, sizeof(*h->runs));
	h->links = calloc(ids.n ? ids.n : 1, sizeof(*h->links));
	if (!h->runs || !h->links) {
		perror("twinbench");
		exit(1);
	}
	for (size_t i = 0; i < ids.n && !ret; i++) {
		char rel[PATH_MAX];

		ret = history_load_run(db, ids.names[i], &h->runs[i], err, len);
		if (ret)
			break;
		h->n++;
		if (relative_path(outdir, h->runs[i].dir, rel, sizeof(rel)))
			snprintf(rel, sizeof(rel), "%s", h->runs[i].dir);
		path_printf(h->links[i], sizeof(h->links[i]), "%s/report.html", rel);
	}
	name_list_free(&ids);
	return ret;
}

static void free_runs(struct history_runs *h)
{
	for (size_t i = 0; i < h->n; i++)
		run_free(&h->runs[i]);
	free(h->runs);
	free(h->links);
}

/* One point of a trend: a run's mean, and its judgement against the run before. */
struct point {
	bool present;
	struct sample_stats st;
	bool regressed;
	size_t prev;		/* index of the run it was judged against */
	struct comparison cmp;
};

static void series_points(const struct history_runs *h, const char *family, const char *arm,
			  const char *workload, const char *metric, double threshold,
			  struct point *pts)
{
	double *prev = NULL, *cur = NULL;
	size_t nprev = 0, iprev = 0;

	for (size_t i = 0; i < h->n; i++) {
		size_t n = series_values(&h->runs[i].samples, family, arm, workload, metric, &cur);
		struct regression_check rc;

		memset(&pts[i], 0, sizeof(pts[i]));
		if (!n)
			continue;
		pts[i].present = true;
		stats_describe(cur, n, &pts[i].st);
		if (nprev && !regression_judge(prev, nprev, cur, n, metric, threshold, &rc)) {
			pts[i].regressed = rc.regressed;
			pts[i].prev = iprev;
			pts[i].cmp = rc.cmp;
		}
		free(prev);
		prev = cur;
		cur = NULL;
		nprev = n;
		iprev = i;
	}
	free(prev);
	free(cur);
}

static void fmt_value(char *out, size_t len, double v)
{
	const char *prefix = si_scale(&v, NULL, 1000);

	snprintf(out, len, "%.4g%s", v, prefix);
}

/* Mean over the runs of one line's points: the 100 % of its chart. */
static double line_scale(const struct point *p, size_t n)
{
	double sum = 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (p[i].present) {
			sum += p[i].st.mean;
			k++;
		}
	return k && sum != 0 ? sum / k / 100.0 : NAN;
}

/* A step of 1, 2 or 5 times a power of ten that cuts @range into about 5 parts. */
static double nice_step(double range)
{
	double raw = range / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;

	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static void chart_axes(FILE *f, const struct history_runs *h, double lo, double hi, double step,
		       const char *ylabel)
{
	size_t every = h->n > 12 ? (h->n + 11) / 12 : 1;
	char buf[32];

	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fff\" "
		"stroke=\"#999\"/>\n", PLOT_L, PLOT_T, PLOT_W, PLOT_H);
	for (double y = ceil(lo / step) * step; y <= hi + step * 1e-9; y += step) {
		double py = PLOT_B - (y - lo) / (hi - lo) * PLOT_H;

		snprintf(buf, sizeof(buf), "%g %%", fabs(y) < step * 1e-9 ? 0 : y);
		fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
			"<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s</text>\n",
			PLOT_L, PLOT_R, py, py, PLOT_L - 5, py + 4, buf);
	}
	fprintf(f, "<text x=\"14\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\" "
		"transform=\"rotate(-90 14 %d)\">", (PLOT_T + PLOT_B) / 2, (PLOT_T + PLOT_B) / 2);
	html_escape(f, ylabel);
	fputs("</text>\n", f);
	for (size_t i = 0; i < h->n; i++) {
		double px = PLOT_L + (h->n > 1 ? (double)i / (h->n - 1) : 0.5) * PLOT_W;

		if (i % every && i + 1 != h->n)
			continue;

		fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"end\" "
			"transform=\"rotate(-35 %.1f %d)\">", px, PLOT_B + 14, px, PLOT_B + 14);
		html_escape(f, h->runs[i].id);
		fputs("</text>\n", f);
	}
}

static double point_x(const struct history_runs *h, size_t i)
{
	return PLOT_L + (h->n > 1 ? (double)i / (h->n - 1) : 0.5) * PLOT_W;
}

/* The chart of one family, metric and arm; returns the number of regressions marked. */
static size_t chart(FILE *f, const struct history_runs *h, const char *family,
		    const char *metric, const char *arm, const struct name_list *wls,
		    double threshold)
{
	const struct metric_info *mi = metric_lookup(metric);
	struct point *pts = calloc(wls->n * h->n, sizeof(*pts));
	double *scale = calloc(wls->n, sizeof(*scale));
	double lo = INFINITY, hi = -INFINITY, step;
	char ylabel[96], buf[64];
	size_t marked = 0, lines = 0;

	if (!pts || !scale) {
		perror("twinbench");
		exit(1);
	}
	for (size_t w = 0; w < wls->n; w++) {
		series_points(h, family, arm, wls->names[w], metric, threshold, &pts[w * h->n]);
		scale[w] = line_scale(&pts[w * h->n], h->n);
		for (size_t i = 0; i < h->n; i++)
			if (pts[w * h->n + i].present && isfinite(scale[w])) {
				lo = fmin(lo, pts[w * h->n + i].st.mean / scale[w]);
				hi = fmax(hi, pts[w * h->n + i].st.mean / scale[w]);
			}
	}
	if (!isfinite(lo))
		goto out;
	lo = fmin(lo, 99);
	hi = fmax(hi, 101);
	step = nice_step(hi - lo);
	lo = floor(lo / step) * step;
	hi = ceil(hi / step) * step;
	snprintf(ylabel, sizeof(ylabel), "%s, %% of the line's mean", metric);
	fprintf(f, "<div class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" class=\"trend\">\n<title>",
		CHART_W, CHART_H, CHART_W, CHART_H);
	html_escape(f, family);
	fprintf(f, " %s %s over runs</title>\n<text x=\"%d\" y=\"17\" font-size=\"13\" "
		"font-weight=\"bold\">", metric, arm, PLOT_L);
	html_escape(f, family);
	fputs(" · ", f);
	html_escape(f, arm);
	fprintf(f, " · %s%s</text>\n", metric, mi && mi->higher_is_better ? " (higher is better)" :
		" (lower is better)");
	chart_axes(f, h, lo, hi, step, ylabel);
	for (size_t w = 0; w < wls->n; w++) {
		const struct point *p = &pts[w * h->n];
		const char *color = palette[w % ARRAY_SIZE(palette)];
		bool any = false;

		for (size_t i = 0; i < h->n; i++)
			any |= p[i].present;
		if (!any || !isfinite(scale[w]))
			continue;
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" points=\"",
			color);
		for (size_t i = 0; i < h->n; i++)
			if (p[i].present)
				fprintf(f, "%.1f,%.1f ", point_x(h, i),
					PLOT_B - (p[i].st.mean / scale[w] - lo) / (hi - lo) *
					PLOT_H);
		fputs("\"/>\n", f);
		for (size_t i = 0; i < h->n; i++) {
			double x = point_x(h, i), y;

			if (!p[i].present)
				continue;
			y = PLOT_B - (p[i].st.mean / scale[w] - lo) / (hi - lo) * PLOT_H;
			fmt_value(buf, sizeof(buf), p[i].st.mean);
			fputs("<a href=\"", f);
			html_escape(f, h->links[i]);
			fprintf(f, "\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"%s>"
				"<title>", x, y, p[i].regressed ? "5" : "3.5",
				p[i].regressed ? "#d62728" : color,
				p[i].regressed ? " class=\"regression\"" : "");
			html_escape(f, h->runs[i].id);
			fputs(" · ", f);
			html_escape(f, wls->names[w]);
			fprintf(f, ": %s %s, mean of %zu (CV %.1f %%)", buf, mi ? mi->unit : "",
				p[i].st.n, isfinite(p[i].st.cv) ? p[i].st.cv * 100 : 0.0);
			if (p[i].regressed) {
				fprintf(f, "; REGRESSION against ");
				html_escape(f, h->runs[p[i].prev].id);
				fprintf(f, ": ratio %.4f [%.4f, %.4f], p %.3g", p[i].cmp.ratio,
					p[i].cmp.ci_low, p[i].cmp.ci_high, p[i].cmp.p_value);
			}
			fputs("</title></circle></a>\n", f);
			if (p[i].regressed) {
				fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"9\" fill=\"none\" "
					"stroke=\"#d62728\" stroke-width=\"2\"/>\n", x, y);
				marked++;
			}
		}
		fprintf(f, "<rect x=\"%d\" y=\"%zu\" width=\"12\" height=\"3\" fill=\"%s\"/>"
			"<text x=\"%d\" y=\"%zu\" font-size=\"11\">", PLOT_R + 14,
			PLOT_T + 6 + lines * 16, color, PLOT_R + 30, PLOT_T + 10 + lines * 16);
		html_escape(f, wls->names[w]);
		fputs("</text>\n", f);
		lines++;
	}
	fputs("</svg></div>\n", f);
out:
	free(scale);
	free(pts);
	return marked;
}

/* One regression found in the history, for the table at the top. */
struct regression_row {
	size_t run, series;
	struct point pt;
};

static int cmp_regression(const void *a, const void *b)
{
	const struct regression_row *x = a, *y = b;

	if (x->run != y->run)
		return x->run < y->run ? 1 : -1;
	return (x->series > y->series) - (x->series < y->series);
}

/* A table of every regression in the history, newest first; returns their count. */
static size_t regression_table(FILE *f, const struct history_runs *h, double threshold)
{
	struct name_list series = { 0 };
	struct regression_row *rows = NULL;
	char key[REPORT_KEY_LEN];
	struct point *pts = calloc(h->n ? h->n : 1, sizeof(*pts));
	size_t count = 0;

	if (!pts) {
		perror("twinbench");
		exit(1);
	}
	for (size_t i = 0; i < h->n; i++)
		for (size_t r = 0; r < h->runs[i].samples.n; r++) {
			const struct sample_row *s = &h->runs[i].samples.rows[r];

			if (!is_key_metric(s->metric))
				continue;
			snprintf(key, sizeof(key), "%s\t%s\t%s\t%s", s->family, s->arm,
				 s->workload, s->metric);
			name_list_add(&series, key);
		}
	for (size_t k = 0; k < series.n; k++) {
		char copy[REPORT_KEY_LEN], *fam, *arm, *wl, *metric, *save;

		snprintf(copy, sizeof(copy), "%s", series.names[k]);
		fam = strtok_r(copy, "\t", &save);
		arm = strtok_r(NULL, "\t", &save);
		wl = strtok_r(NULL, "\t", &save);
		metric = strtok_r(NULL, "\t", &save);
		if (!metric)
			continue;
		series_points(h, fam, arm, wl, metric, threshold, pts);
		for (size_t run = 0; run < h->n; run++) {
			if (!pts[run].regressed)
				continue;
			rows = realloc(rows, (count + 1) * sizeof(*rows));
			if (!rows) {
				perror("twinbench");
				exit(1);
			}
			rows[count].run = run;
			rows[count].series = k;
			rows[count].pt = pts[run];
			count++;
		}
	}
	qsort(rows, count, sizeof(*rows), cmp_regression);
	fputs("<table class=\"regressions\">\n<tr><th>run</th><th>against</th><th>family</th>"
	      "<th>arm</th><th>workload</th><th>metric</th><th>ratio [95% CI]</th><th>p</th>"
	      "</tr>\n", f);
	for (size_t i = 0; i < count; i++) {
		const struct regression_row *r = &rows[i];

		fputs("<tr class=\"slower\"><td><a href=\"", f);
		html_escape(f, h->links[r->run]);
		fputs("\">", f);
		html_escape(f, h->runs[r->run].id);
		fputs("</a></td><td>", f);
		html_escape(f, h->runs[r->pt.prev].id);
		fputs("</td><td>", f);
		for (char *c = series.names[r->series]; *c; c++) {
			char one[2] = { *c, '\0' };

			if (*c == '\t')
				fputs("</td><td>", f);
			else
				html_escape(f, one);
		}
		fprintf(f, "</td><td class=\"num\">%.4f [%.4f, %.4f]</td><td class=\"num\">%.3g"
			"</td></tr>\n", r->pt.cmp.ratio, r->pt.cmp.ci_low, r->pt.cmp.ci_high,
			r->pt.cmp.p_value);
	}
	if (!count)
		fputs("<tr><td colspan=\"8\">none</td></tr>\n", f);
	fputs("</table>\n", f);
	free(rows);
	free(pts);
	name_list_free(&series);
	return count;
}

/* The runs of the history, newest first, each linking to its report. */
static void runs_table(FILE *f, const struct history_runs *h)
{
	static const char *const keys[] = { "started", "release", "mode", "clock", "profile",
					     "git_commit" };

	fputs("<table class=\"runs\">\n<tr><th>run</th><th>started</th><th>kernel</th>"
	      "<th>mode</th><th>clock</th><th>profile</th><th>commit</th><th>invalid values</th>"
	      "</tr>\n", f);
	for (size_t i = h->n; i-- > 0; ) {
		const struct run_data *run = &h->runs[i];
		size_t invalid = 0;
		char buf[64];

		for (size_t r = 0; r < run->samples.n; r++)
			invalid += !run->samples.rows[r].valid;
		fputs("<tr><td><a href=\"", f);
		html_escape(f, h->links[i]);
		fputs("\">", f);
		html_escape(f, run->id);
		fputs("</a></td>", f);
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
			const char *v = manifest_get(run->manifest, keys[k], buf, sizeof(buf));

			char cell[16];

			/* A commit reads well in its short form. */
			snprintf(cell, sizeof(cell), "%.12s", v ? v : "-");
			fputs("<td>", f);
			html_escape(f, strcmp(keys[k], "git_commit") ? (v ? v : "-") : cell);
			fputs("</td>", f);
		}
		fprintf(f, "<td class=\"num\">%zu of %zu</td></tr>\n", invalid, run->samples.n);
	}
	fputs("</table>\n", f);
}

static int write_dashboard(const struct history_runs *h, const char *dbpath, const char *outdir,
			   double threshold, char *err, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	struct name_list fams = { 0 };
	size_t regressions;
	FILE *f;

	path_printf(path, sizeof(path), "%s/index.html", outdir);
	path_printf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, len, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	html_page_begin(f, "twinbench nightly dashboard");
	fputs("<h1>twinbench nightly dashboard</h1>\n<p>", f);
	fprintf(f, "%zu runs from the history ", h->n);
	html_escape(f, dbpath);
	if (h->n) {
		fputs(", ", f);
		html_escape(f, h->runs[0].id);
		fputs(" to ", f);
		html_escape(f, h->runs[h->n - 1].id);
	}
	fprintf(f, ". Each point is the mean of one run's valid samples and links to that run's "
		"report; a line is drawn as %% of its own mean over the history (hover a point "
		"for its value), so drift shows at the same scale for every workload. A red ring marks a regression against the previous run of the same series: "
		"a significant change in the worse direction (bootstrap interval of the ratio "
		"excludes 1 and Mann-Whitney p &lt; %.2g) larger than %.1f %%.</p>\n", STATS_ALPHA,
		threshold);
	fputs("<h2>Regressions</h2>\n", f);
	regressions = regression_table(f, h, threshold);
	fprintf(f, "<p class=\"note\">%zu regressions in the history.</p>\n", regressions);
	fputs("<h2>Runs</h2>\n", f);
	runs_table(f, h);
	for (size_t i = 0; i < h->n; i++)
		run_families(&h->runs[i], &fams);
	for (size_t fi = 0; fi < fams.n; fi++) {
		struct name_list arms = { 0 }, wls = { 0 };

		for (size_t i = 0; i < h->n; i++) {
			run_arms(&h->runs[i], fams.names[fi], &arms);
			run_workloads(&h->runs[i], fams.names[fi], &wls);
		}
		fputs("<h2>", f);
		html_escape(f, fams.names[fi]);
		fputs("</h2>\n", f);
		for (const char *const *m = key_metrics; *m; m++) {
			bool any = false;

			for (size_t i = 0; i < h->n && !any; i++)
				for (size_t r = 0; r < h->runs[i].samples.n && !any; r++)
					any = !strcmp(h->runs[i].samples.rows[r].metric, *m) &&
					      !strcmp(h->runs[i].samples.rows[r].family,
						      fams.names[fi]);
			if (!any)
				continue;
			fprintf(f, "<h3>%s</h3>\n", *m);
			for (size_t a = 0; a < arms.n; a++)
				chart(f, h, fams.names[fi], *m, arms.names[a], &wls, threshold);
		}
		name_list_free(&arms);
		name_list_free(&wls);
	}
	if (!h->n)
		fputs("<p>The history holds no runs yet: twinbench history add RUN_DIR.</p>\n", f);
	html_page_end(f);
	name_list_free(&fams);
	if (ferror(f) | fclose(f) || rename(tmp, path)) {
		snprintf(err, len, "%s: cannot write the dashboard", path);
		unlink(tmp);
		return -1;
	}
	printf("dashboard: %s (%zu runs, %zu regressions marked)\n", path, h->n, regressions);
	return 0;
}

static void dashboard_usage(FILE *f)
{
	fprintf(f, "usage: twinbench dashboard [--db FILE] [-o DIR] [--threshold PCT]\n"
		"  FILE defaults to %s, DIR to %s (DIR/index.html)\n", HISTORY_DEFAULT_DB,
		DASHBOARD_DEFAULT_DIR);
}

int dashboard_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "threshold", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *dbpath = HISTORY_DEFAULT_DB, *outdir = DASHBOARD_DEFAULT_DIR;
	double threshold = REGRESSION_DEFAULT_PCT;
	char err[REPORT_ERR_LEN], *end;
	struct history_runs h;
	sqlite3 *db;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:o:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dbpath = optarg;
			break;
		case 'o':
			outdir = optarg;
			break;
		case 't':
			threshold = strtod(optarg, &end);
			if (end == optarg || *end || !isfinite(threshold) || threshold < 0 ||
			    threshold >= 100) {
				fprintf(stderr, "dashboard: --threshold '%s': want a percentage in "
					"[0, 100)\n", optarg);
				return 2;
			}
			break;
		case 'h':
			dashboard_usage(stdout);
			return 0;
		default:
			dashboard_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		dashboard_usage(stderr);
		return 2;
	}
	if (mkdir(outdir, 0755) && errno != EEXIST) {
		fprintf(stderr, "dashboard: %s: %s\n", outdir, strerror(errno));
		return 2;
	}
	if (history_open(dbpath, false, &db, err, sizeof(err))) {
		fprintf(stderr, "dashboard: %s\n", err);
		return 2;
	}
	ret = load_runs(db, outdir, &h, err, sizeof(err));
	sqlite3_close(db);
	if (!ret)
		ret = write_dashboard(&h, dbpath, outdir, threshold, err, sizeof(err));
	if (ret)
		fprintf(stderr, "dashboard: %s\n", err);
	free_runs(&h);
	return ret ? 2 : 0;
}
