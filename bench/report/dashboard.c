// SPDX-License-Identifier: GPL-2.0
/*
 * dashboard.c - twinbench dashboard: one static HTML page (no server, no
 * script) drawn from the history database: a trend chart per key metric and
 * arm over the runs, one line per workload, each point linking to its run's
 * report, every point that regressed against a baseline of earlier runs
 * marked, and drift (a trend test and a change-point test over the runs) shown
 * where it starts.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "history.h"
#include "dashboard.h"
#include "report_compare.h"
#include "report_html.h"
#include "report_run.h"
#include "vec.h"

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

static int load_runs(struct history *db, const char *outdir, struct history_runs *h, char *err,
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

/* Earlier nights pooled into the baseline a night is judged against. */
#define DRIFT_BASELINE_RUNS	5
/* Nights (ending at the judged one) the trend test looks at. */
#define DRIFT_WINDOW_RUNS	10

/*
 * One point of a trend: a run's mean, its judgement against the baseline of the
 * earlier nights, and whether it belongs to a significant drift.
 */
struct point {
	bool present;
	struct sample_stats st;
	bool regressed;		/* slower than the pooled baseline, beyond the threshold */
	size_t first, prev;	/* the baseline's first and last night */
	struct comparison cmp;
	bool drift;		/* a night of a significant worsening trend or change */
	bool drift_end;		/* the night the drift was found at */
	size_t drift_from;	/* the last night before the drift */
	double drift_change;	/* relative size of the drift, in the worse direction < 0 */
	double drift_p;
	const char *drift_test;	/* "trend" (Mann-Kendall) or "change point" (E-divisive) */
};

/* Is a relative change @change of @metric worse by more than @threshold percent? */
static bool worse_beyond(const char *metric, double change, double threshold)
{
	const struct metric_info *mi = metric_lookup(metric);
	double worse = mi && mi->higher_is_better ? -change : change;

	return worse > threshold / 100;
}

/* The baseline of night @i: up to DRIFT_BASELINE_RUNS earlier nights of the series, pooled. */
static struct series pooled_baseline(const struct history_runs *h, const struct point *pts,
				     size_t i, bool by_boot, const char *family, const char *arm,
				     const char *workload, const char *metric, double **x,
				     unsigned int **boot, size_t *first, size_t *prev)
{
	size_t n = 0, used = 0;

	*x = NULL;
	*boot = NULL;
	for (size_t j = i; j-- > 0 && used < DRIFT_BASELINE_RUNS; ) {
		double *v;
		unsigned int *b;
		struct series one;

		if (!pts[j].present)
			continue;
		one = series_with_boots(&h->runs[j].samples, family, arm, workload, metric, &v,
					&b);
		*x = vec_realloc(*x, (n + one.n + 1) * sizeof(**x));
		*boot = vec_realloc(*boot, (n + one.n + 1) * sizeof(**boot));
		for (size_t k = 0; k < one.n; k++) {
			(*x)[n] = v[k];
			/* with boots as the unit, each night's boots are units of their own */
			(*boot)[n++] = by_boot ? (unsigned int)(j * 1000 + b[k]) : b[k];
		}
		free(v);
		free(b);
		if (!used++)
			*prev = j;
		*first = j;
	}
	return (struct series){ *x, *boot, n };
}

/* Mark the nights of a drift found at night @at reaching back to @from. */
static void mark_drift(struct point *pts, size_t from, size_t at, double change, double p,
		       const char *test)
{
	for (size_t j = from + 1; j <= at; j++)
		pts[j].drift = pts[j].present;
	pts[at].drift_end = true;
	pts[at].drift_from = from;
	pts[at].drift_change = change;
	pts[at].drift_p = p;
	pts[at].drift_test = test;
}

/*
 * Drift over the means of the present nights: a Mann-Kendall trend over the last
 * DRIFT_WINDOW_RUNS nights ending at each night, and E-divisive over the whole series;
 * either counts when significant and worse than @threshold over its span.
 */
static void series_drift(const struct history_runs *h, struct point *pts, const char *metric,
			 double threshold)
{
	size_t *idx = malloc((h->n ? h->n : 1) * sizeof(*idx)), m = 0;
	double *means = malloc((h->n ? h->n : 1) * sizeof(*means));
	struct change_point cp;

	if (!idx || !means)
		abort();
	for (size_t i = 0; i < h->n; i++) {
		if (!pts[i].present)
			continue;
		idx[m] = i;
		means[m++] = pts[i].st.mean;
	}
	for (size_t e = STATS_CHANGE_MIN_N - 1; e < m; e++) {
		size_t k = e + 1 > DRIFT_WINDOW_RUNS ? e + 1 - DRIFT_WINDOW_RUNS : 0;
		struct trend t;

		stats_trend(means + k, e - k + 1, &t);
		if (t.p < STATS_ALPHA && worse_beyond(metric, t.change, threshold))
			mark_drift(pts, idx[k], idx[e], t.change, t.p, "trend");
	}
	stats_change_point(means, m, &cp);
	if (cp.found) {
		double before = 0, after = 0, change;

		for (size_t i = 0; i < m; i++)
			*(i < cp.at ? &before : &after) += means[i];
		change = (after / (m - cp.at)) / (before / cp.at) - 1;
		if (worse_beyond(metric, change, threshold) && !pts[idx[m - 1]].drift_end)
			mark_drift(pts, idx[cp.at - 1], idx[m - 1], change, cp.p, "change point");
	}
	free(idx);
	free(means);
}

/* Does @s come from more than one boot? */
static bool several_boots(const struct series *s)
{
	for (size_t i = 1; i < s->n; i++)
		if (s->boot[i] != s->boot[0])
			return true;
	return false;
}

static void series_points(const struct history_runs *h, const char *family, const char *arm,
			  const char *workload, const char *metric, double threshold,
			  struct point *pts)
{
	for (size_t i = 0; i < h->n; i++) {
		double *cur, *base;
		unsigned int *cb, *bb;
		struct series sc = series_with_boots(&h->runs[i].samples, family, arm, workload,
						     metric, &cur, &cb);
		struct series sb;
		struct regression_check rc;

		memset(&pts[i], 0, sizeof(pts[i]));
		pts[i].present = sc.n > 0;
		if (sc.n) {
			stats_describe(cur, sc.n, &pts[i].st);
			sb = pooled_baseline(h, pts, i, several_boots(&sc), family, arm, workload,
					     metric, &base, &bb, &pts[i].first, &pts[i].prev);
			if (sb.n && !regression_judge(&sb, &sc, metric, threshold, &rc)) {
				pts[i].regressed = rc.regressed;
				pts[i].cmp = rc.cmp;
			}
			free(base);
			free(bb);
		}
		free(cur);
		free(cb);
	}
	series_drift(h, pts, metric, threshold);
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
				html_escape(f, h->runs[p[i].first].id);
				fputs("..", f);
				html_escape(f, h->runs[p[i].prev].id);
				fprintf(f, ": ratio %.4f [%.4f, %.4f], p %.3g", p[i].cmp.ratio,
					p[i].cmp.ci_low, p[i].cmp.ci_high, p[i].cmp.p_value);
			}
			if (p[i].drift)
				fputs("; part of a DRIFT", f);
			fputs("</title></circle></a>\n", f);
			if (p[i].regressed) {
				fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"9\" fill=\"none\" "
					"stroke=\"#d62728\" stroke-width=\"2\"/>\n", x, y);
				marked++;
			}
			if (p[i].drift)
				fprintf(f, "<rect class=\"drift\" x=\"%.1f\" y=\"%.1f\" width=\"14\" "
					"height=\"14\" fill=\"none\" stroke=\"#ff7f0e\" "
					"stroke-width=\"2\"/>\n", x - 7, y - 7);
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

/*
 * A table of every regression against a night's baseline and every drift in the
 * history, newest first; returns their count, and in *@latest those of the newest run.
 */
static size_t regression_table(FILE *f, const struct history_runs *h, double threshold,
			       size_t *latest)
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
			if (!pts[run].regressed && !pts[run].drift_end)
				continue;
			rows = vec_realloc(rows, (count + 1) * sizeof(*rows));
			rows[count].run = run;
			rows[count].series = k;
			rows[count].pt = pts[run];
			count++;
		}
	}
	qsort(rows, count, sizeof(*rows), cmp_regression);
	*latest = 0;
	for (size_t i = 0; i < count; i++)
		*latest += rows[i].run + 1 == h->n;
	fputs("<table class=\"regressions\">\n<tr><th>run</th><th>found</th><th>against</th>"
	      "<th>family</th><th>arm</th><th>workload</th><th>metric</th>"
	      "<th>ratio [95% CI] or change</th><th>p</th></tr>\n", f);
	for (size_t i = 0; i < count; i++) {
		const struct regression_row *r = &rows[i];
		bool drift = !r->pt.regressed;

		fprintf(f, "<tr class=\"%s\"><td><a href=\"", drift ? "drift" : "slower");
		html_escape(f, h->links[r->run]);
		fputs("\">", f);
		html_escape(f, h->runs[r->run].id);
		fprintf(f, "</a></td><td>%s</td><td>", drift ? r->pt.drift_test :
			"against the baseline");
		if (drift) {
			fputs("since ", f);
			html_escape(f, h->runs[r->pt.drift_from].id);
		} else {
			html_escape(f, h->runs[r->pt.first].id);
			if (r->pt.first != r->pt.prev) {
				fputs(" .. ", f);
				html_escape(f, h->runs[r->pt.prev].id);
			}
		}
		fputs("</td><td>", f);
		for (char *c = series.names[r->series]; *c; c++) {
			char one[2] = { *c, '\0' };

			if (*c == '\t')
				fputs("</td><td>", f);
			else
				html_escape(f, one);
		}
		if (drift)
			fprintf(f, "</td><td class=\"num\">%+.1f %%</td><td class=\"num\">%.3g"
				"</td></tr>\n", r->pt.drift_change * 100, r->pt.drift_p);
		else
			fprintf(f, "</td><td class=\"num\">%.4f [%.4f, %.4f]</td>"
				"<td class=\"num\">%.3g</td></tr>\n", r->pt.cmp.ratio,
				r->pt.cmp.ci_low, r->pt.cmp.ci_high, r->pt.cmp.p_adjusted);
	}
	if (!count)
		fputs("<tr><td colspan=\"9\">none</td></tr>\n", f);
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
			   double threshold, size_t *latest, char *err, size_t len)
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
		"for its value), so drift shows at the same scale for every workload. A red ring "
		"marks a regression against the baseline of up to %d earlier runs of the same "
		"series pooled: a \"slower\" verdict with %.1f %% as the margin (the interval of "
		"the ratio lies wholly beyond it, exact rank test p &lt; %.2g; boots as the unit "
		"where runs have several). An orange square marks the runs of a drift: a "
		"Mann-Kendall trend over up to %d runs, or an E-divisive change point over the "
		"whole series, significant at %.2g and worse than %.1f %% over its span.</p>\n",
		DRIFT_BASELINE_RUNS, threshold, STATS_ALPHA, DRIFT_WINDOW_RUNS, STATS_ALPHA,
		threshold);
	fputs("<h2>Regressions and drift</h2>\n", f);
	regressions = regression_table(f, h, threshold, latest);
	fprintf(f, "<p class=\"note\">%zu regressions and drifts in the history.</p>\n",
		regressions);
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
	printf("dashboard: %s (%zu runs, %zu regressions and drifts marked, %zu at the newest "
	       "run)\n", path, h->n, regressions, *latest);
	return 0;
}

static void dashboard_usage(FILE *f)
{
	fprintf(f, "usage: twinbench dashboard [--db FILE] [-o DIR] [--threshold PCT] "
		"[--judge-latest]\n"
		"  FILE defaults to %s, DIR to %s (DIR/index.html)\n"
		"  --judge-latest: exit 1 when the newest run regressed against its baseline or\n"
		"  ends a drift\n", HISTORY_DEFAULT_DB, DASHBOARD_DEFAULT_DIR);
}

int dashboard_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "threshold", required_argument, NULL, 't' },
		{ "judge-latest", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *dbpath = HISTORY_DEFAULT_DB, *outdir = DASHBOARD_DEFAULT_DIR;
	double threshold = REGRESSION_DEFAULT_PCT;
	char err[REPORT_ERR_LEN], *end;
	struct history_runs h;
	bool judge = false;
	size_t latest = 0;
	struct history *db;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:o:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			judge = true;
			break;
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
	history_close(db);
	if (!ret)
		ret = write_dashboard(&h, dbpath, outdir, threshold, &latest, err, sizeof(err));
	if (ret)
		fprintf(stderr, "dashboard: %s\n", err);
	free_runs(&h);
	return ret ? 2 : judge && latest ? 1 : 0;
}
