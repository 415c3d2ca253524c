// SPDX-License-Identifier: GPL-2.0
/*
 * dashboard.c - twinbench dashboard: one self-contained HTML page drawn from the history,
 * one machine's or a fleet's. Runs are grouped by the machine they ran on (its id, CPU,
 * memory and tuning) and kernel release; within a group every series is judged against
 * that group's earlier nights (a pooled baseline, and drift: a trend test and a
 * change-point test). The page has the latest verdicts of each machine, every regression
 * and drift, and per kernel one chart per pair of arms and workload: the pair's ratio over
 * the nights, one line per machine, regressions and drift marked. The charts are gnuplot
 * figures (figure.h), inlined as the reports' are.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dashboard.h"
#include "figure.h"
#include "history.h"
#include "report_compare.h"
#include "report_html.h"
#include "report_run.h"
#include "vec.h"

/* One run of the history with what the page needs of it. */
struct night {
	struct run_data run;
	char link[PATH_MAX];		/* its report.html relative to the output folder */
	struct history_machine machine;
	char label[256];		/* history_machine_label() */
	char kernel[128];
	size_t machine_no, kernel_no;	/* index in struct fleet's machines, kernels */
};

/* Some runs of the history, oldest first: all of them, or one group's. */
struct history_runs {
	struct night **v;
	size_t n;
};

/* The whole history: its runs, its machines (each by its first run) and its kernels. */
struct fleet {
	struct night *nights;
	size_t n;
	size_t *machines;	/* index of each machine's first night */
	size_t n_machines;
	struct name_list kernels;
};

static int load_fleet(struct history *db, const char *outdir, struct fleet *fl, char *err,
		      size_t len)
{
	struct name_list ids = { 0 };
	int ret = 0;

	memset(fl, 0, sizeof(*fl));
	if (history_run_ids(db, &ids, err, len))
		return -1;
	fl->nights = calloc(ids.n ? ids.n : 1, sizeof(*fl->nights));
	fl->machines = calloc(ids.n ? ids.n : 1, sizeof(*fl->machines));
	if (!fl->nights || !fl->machines)
		abort();
	for (size_t i = 0; i < ids.n && !ret; i++) {
		struct night *nt = &fl->nights[i];
		char rel[PATH_MAX], key[1024], other[1024], buf[128];
		const char *release;
		size_t m;

		ret = history_load_run(db, ids.names[i], &nt->run, err, len);
		if (ret)
			break;
		fl->n++;
		if (relative_path(outdir, nt->run.dir, rel, sizeof(rel)))
			snprintf(rel, sizeof(rel), "%s", nt->run.dir);
		path_printf(nt->link, sizeof(nt->link), "%s/report.html", rel);
		history_machine_of(nt->run.manifest, &nt->machine);
		history_machine_label(&nt->machine, nt->label, sizeof(nt->label));
		release = manifest_get(nt->run.manifest, "release", buf, sizeof(buf));
		snprintf(nt->kernel, sizeof(nt->kernel), "%s", release ? release : "unknown");
		nt->kernel_no = name_list_add(&fl->kernels, nt->kernel);
		history_machine_key(&nt->machine, key, sizeof(key));
		for (m = 0; m < fl->n_machines; m++) {
			history_machine_key(&fl->nights[fl->machines[m]].machine, other,
					    sizeof(other));
			if (!strcmp(key, other))
				break;
		}
		if (m == fl->n_machines)
			fl->machines[fl->n_machines++] = i;
		nt->machine_no = m;
	}
	name_list_free(&ids);
	return ret;
}

static void free_fleet(struct fleet *fl)
{
	for (size_t i = 0; i < fl->n; i++)
		run_free(&fl->nights[i].run);
	free(fl->nights);
	free(fl->machines);
	name_list_free(&fl->kernels);
}

/* The runs of machine @m on kernel @k (all kernels when @k is -1), oldest first. */
static void group_runs(const struct fleet *fl, size_t m, long k, struct history_runs *h)
{
	h->v = calloc(fl->n ? fl->n : 1, sizeof(*h->v));
	h->n = 0;
	if (!h->v)
		abort();
	for (size_t i = 0; i < fl->n; i++)
		if (fl->nights[i].machine_no == m && (k < 0 || fl->nights[i].kernel_no == (size_t)k))
			h->v[h->n++] = &fl->nights[i];
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
		one = series_with_boots(&h->v[j]->run.samples, family, arm, workload, metric, &v,
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
static void series_drift(size_t n, struct point *pts, const char *metric, double threshold)
{
	size_t *idx = calloc(n ? n : 1, sizeof(*idx)), m = 0;
	double *means = calloc(n ? n : 1, sizeof(*means));
	struct change_point cp;

	if (!idx || !means)
		abort();
	for (size_t i = 0; i < n; i++) {
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
		struct series sc = series_with_boots(&h->v[i]->run.samples, family, arm, workload,
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
	series_drift(h->n, pts, metric, threshold);
}

/* The metric a family's pairs are drawn by: its facts' primary metric, else its throughput. */
static const char *primary_metric(const struct run_data *run, const char *family)
{
	const char *m = facts_family_get(&run->facts, family, "primary_metric");

	return m ? m : family_throughput_metric(run, family);
}

/* The comparison of @cand against @base of one workload and metric in @run, or NULL. */
static const struct summary_row *find_comparison(const struct run_data *run, const char *family,
						 const char *workload, const char *metric,
						 const char *base, const char *cand)
{
	for (size_t i = 0; i < run->summary.n; i++) {
		const struct summary_row *r = &run->summary.rows[i];

		if (!strcmp(r->family, family) && !strcmp(r->workload, workload) &&
		    !strcmp(r->metric, metric) && !strcmp(r->baseline, base) &&
		    !strcmp(r->candidate, cand))
			return r;
	}
	return NULL;
}

/* One regression or drift found in a group, for the table and the judgement. */
struct regression_row {
	const struct night *night, *first, *prev, *from;
	bool newest;		/* at the newest run of its group */
	char series[REPORT_KEY_LEN];
	struct point pt;
};

struct regressions {
	struct regression_row *v;
	size_t n, cap;
};

static int cmp_regression(const void *a, const void *b)
{
	const struct regression_row *x = a, *y = b;

	if (x->night != y->night)
		return x->night < y->night ? 1 : -1;
	return strcmp(x->series, y->series);
}

/* Every regression and drift of the key metrics within one group of runs. */
static void group_regressions(const struct history_runs *h, double threshold,
			      struct regressions *out)
{
	struct name_list series = { 0 };
	struct point *pts = calloc(h->n ? h->n : 1, sizeof(*pts));
	char key[REPORT_KEY_LEN];

	if (!pts)
		abort();
	for (size_t i = 0; i < h->n; i++)
		for (size_t r = 0; r < h->v[i]->run.samples.n; r++) {
			const struct sample_row *s = &h->v[i]->run.samples.rows[r];

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
		for (size_t i = 0; i < h->n; i++) {
			struct regression_row *row;

			if (!pts[i].regressed && !pts[i].drift_end)
				continue;
			row = VEC_PUSH(out->v, out->n, out->cap);
			row->night = h->v[i];
			row->first = h->v[pts[i].first];
			row->prev = h->v[pts[i].prev];
			row->from = h->v[pts[i].drift_from];
			row->newest = i + 1 == h->n;
			snprintf(row->series, sizeof(row->series), "%s", series.names[k]);
			row->pt = pts[i];
		}
	}
	free(pts);
	name_list_free(&series);
}

/* Regressions and drift of every group (machine and kernel), newest first. */
static void fleet_regressions(const struct fleet *fl, double threshold, struct regressions *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t m = 0; m < fl->n_machines; m++)
		for (size_t k = 0; k < fl->kernels.n; k++) {
			struct history_runs h;

			group_runs(fl, m, (long)k, &h);
			if (h.n)
				group_regressions(&h, threshold, out);
			free(h.v);
		}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_regression);
}

static void run_link(FILE *f, const struct night *nt)
{
	fputs("<a href=\"", f);
	html_escape(f, nt->link);
	fputs("\">", f);
	html_escape(f, nt->run.id);
	fputs("</a>", f);
}

/* Tables longer than this start folded, so the charts below are in sight. */
#define REGRESSION_ROWS_OPEN	12

static void regression_table(FILE *f, const struct regressions *rg)
{
	fprintf(f, "<details%s><summary>%zu regressions and drifts in the history, newest "
		"first</summary>\n", rg->n <= REGRESSION_ROWS_OPEN ? " open" : "", rg->n);
	fputs("<table class=\"regressions\">\n<tr><th>run</th><th>found</th><th>against</th>"
	      "<th>machine</th><th>kernel</th><th>family</th><th>arm</th><th>workload</th>"
	      "<th>metric</th><th>ratio [95% CI] or change</th><th>p</th></tr>\n", f);
	for (size_t i = 0; i < rg->n; i++) {
		const struct regression_row *r = &rg->v[i];
		bool drift = !r->pt.regressed;

		fprintf(f, "<tr class=\"%s\"><td>", drift ? "drift" : "slower");
		run_link(f, r->night);
		fprintf(f, "</td><td>%s</td><td>", drift ? r->pt.drift_test :
			"against the baseline");
		if (drift) {
			fputs("since ", f);
			html_escape(f, r->from->run.id);
		} else {
			html_escape(f, r->first->run.id);
			if (r->first != r->prev) {
				fputs(" .. ", f);
				html_escape(f, r->prev->run.id);
			}
		}
		fputs("</td><td>", f);
		html_escape(f, r->night->label);
		fputs("</td><td>", f);
		html_escape(f, r->night->kernel);
		fputs("</td><td>", f);
		for (const char *c = r->series; *c; c++) {
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
	if (!rg->n)
		fputs("<tr><td colspan=\"11\">none</td></tr>\n", f);
	fputs("</table></details>\n", f);
}

/*
 * One row per machine: its newest run, that run's verdicts on each family's primary
 * metric (as the run's own summary judged its pairs), the pairs it found slower, and the
 * regressions and drift found at that run against the machine's earlier runs.
 */
static void latest_table(FILE *f, const struct fleet *fl, const struct regressions *rg)
{
	fputs("<table class=\"latest\">\n<tr><th>machine</th><th>kernel</th><th>newest run"
	      "</th><th>commit</th><th>pairs: slower / faster / equivalent / inconclusive</th>"
	      "<th>slower pairs</th><th>regressions and drifts at this run</th></tr>\n", f);
	for (size_t m = 0; m < fl->n_machines; m++) {
		const struct night *nt = NULL;
		size_t marks = 0, count[4] = { 0 };
		struct strbuf slower = { 0 };
		char buf[64], commit[16];
		const char *c;

		for (size_t i = 0; i < fl->n; i++)
			if (fl->nights[i].machine_no == m)
				nt = &fl->nights[i];
		for (size_t i = 0; i < rg->n; i++)
			marks += rg->v[i].night == nt;
		c = manifest_get(nt->run.manifest, "git_commit", buf, sizeof(buf));
		snprintf(commit, sizeof(commit), "%.12s", c ? c : "-");
		for (size_t i = 0; i < nt->run.summary.n; i++) {
			const struct summary_row *r = &nt->run.summary.rows[i];
			const char *pm = primary_metric(&nt->run, r->family);

			if (!pm || strcmp(r->metric, pm))
				continue;
			count[r->verdict]++;
			if (r->verdict == VERDICT_SLOWER)
				strbuf_addf(&slower, "%s%s %s: %s vs %s %.3f", slower.n ? "; " : "",
					    r->family, r->workload, r->candidate, r->baseline,
					    r->ratio);
		}
		fprintf(f, "<tr class=\"latest %s\"><td>", marks ? "slower" : "same");
		html_escape(f, nt->label);
		fputs("</td><td>", f);
		html_escape(f, nt->kernel);
		fputs("</td><td>", f);
		run_link(f, nt);
		fputs("</td><td>", f);
		html_escape(f, commit);
		fprintf(f, "</td><td class=\"num\">%zu / %zu / %zu / %zu</td><td>",
			count[VERDICT_SLOWER], count[VERDICT_FASTER], count[VERDICT_EQUIVALENT],
			count[VERDICT_INCONCLUSIVE]);
		html_escape(f, slower.s ? slower.s : "none");
		fprintf(f, "</td><td class=\"num\">%zu</td></tr>\n", marks);
		free(slower.s);
	}
	fputs("</table>\n", f);
}

static void machines_table(FILE *f, const struct fleet *fl)
{
	fputs("<table class=\"machines\">\n<tr><th>machine</th><th>machine id</th><th>CPU</th>"
	      "<th>CPUs</th><th>memory</th><th>tuning</th><th>runs</th><th>kernels</th></tr>\n",
	      f);
	for (size_t m = 0; m < fl->n_machines; m++) {
		const struct night *first = &fl->nights[fl->machines[m]];
		struct name_list kernels = { 0 };
		size_t runs = 0;

		for (size_t i = 0; i < fl->n; i++)
			if (fl->nights[i].machine_no == m) {
				runs++;
				name_list_add(&kernels, fl->nights[i].kernel);
			}
		fputs("<tr><td>", f);
		html_escape(f, first->label);
		fputs("</td><td>", f);
		html_escape(f, first->machine.id);
		fputs("</td><td>", f);
		html_escape(f, first->machine.cpu_model);
		fprintf(f, "</td><td class=\"num\">%lld</td><td class=\"num\">%.1f GiB</td><td>",
			first->machine.cores, first->machine.memory_bytes / 1073741824.0);
		html_escape(f, first->machine.tuning);
		fprintf(f, "</td><td class=\"num\">%zu</td><td>", runs);
		for (size_t k = 0; k < kernels.n; k++) {
			html_escape(f, kernels.names[k]);
			fputs(k + 1 < kernels.n ? ", " : "", f);
		}
		fputs("</td></tr>\n", f);
		name_list_free(&kernels);
	}
	fputs("</table>\n", f);
}

/* The runs of the history, newest first, each linking to its report. */
static void runs_table(FILE *f, const struct fleet *fl)
{
	static const char *const keys[] = { "started", "mode", "clock", "profile", "git_commit" };

	fputs("<table class=\"runs\">\n<tr><th>run</th><th>machine</th><th>kernel</th>"
	      "<th>started</th><th>mode</th><th>clock</th><th>profile</th><th>commit</th>"
	      "<th>invalid values</th></tr>\n", f);
	for (size_t i = fl->n; i-- > 0; ) {
		const struct night *nt = &fl->nights[i];
		size_t invalid = 0;

		for (size_t r = 0; r < nt->run.samples.n; r++)
			invalid += !nt->run.samples.rows[r].valid;
		fputs("<tr><td>", f);
		run_link(f, nt);
		fputs("</td><td>", f);
		html_escape(f, nt->label);
		fputs("</td><td>", f);
		html_escape(f, nt->kernel);
		fputs("</td>", f);
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
			char buf[64], cell[16];
			const char *v = manifest_get(nt->run.manifest, keys[k], buf, sizeof(buf));

			/* A commit reads well in its short form. */
			snprintf(cell, sizeof(cell), "%.12s", v ? v : "-");
			fputs("<td>", f);
			html_escape(f, strcmp(keys[k], "git_commit") ? (v ? v : "-") : cell);
			fputs("</td>", f);
		}
		fprintf(f, "<td class=\"num\">%zu of %zu</td></tr>\n", invalid, nt->run.samples.n);
	}
	fputs("</table>\n", f);
}

/* One pair of one workload on one kernel: a chart, one line per machine. */
struct pair_chart {
	size_t kernel;
	char family[RESULTS_NAME_LEN], workload[RESULTS_WORKLOAD_LEN];
	char metric[RESULTS_NAME_LEN], base[RESULTS_NAME_LEN], cand[RESULTS_NAME_LEN];
};

/* Mark in @pts the runs of @h where arm @arm's @metric regressed against its baseline. */
static void mark_arm_regressions(const struct history_runs *h, const struct pair_chart *pc,
				 const char *arm, double threshold, bool *regressed)
{
	struct point *arm_pts = calloc(h->n ? h->n : 1, sizeof(*arm_pts));

	if (!arm_pts)
		abort();
	series_points(h, pc->family, arm, pc->workload, pc->metric, threshold, arm_pts);
	for (size_t i = 0; i < h->n; i++)
		regressed[i] |= arm_pts[i].regressed;
	free(arm_pts);
}

/* The nights a chart marks: "started ratio" lines, regressions and drift apart. */
struct chart_marks {
	struct strbuf regressed, drift;
	size_t n_regressed, n_drift;
	char first[64], last[64];	/* the earliest and latest night drawn */
};

/* A night's start time as the chart's x value. */
static const char *night_started(const struct night *nt)
{
	const char *s = json_string_value(json_object_get(nt->run.manifest, "started"));

	return s && *s ? s : "?";
}

/*
 * Write one machine's line of @pc (its block of the data file), its legend word, its
 * marks; returns false when the machine has no night with this comparison.
 */
static bool machine_line(FILE *data, const struct history_runs *h, const struct pair_chart *pc,
			 double threshold, struct strbuf *titles, struct strbuf *caption,
			 struct chart_marks *marks)
{
	struct point *pts = calloc(h->n ? h->n : 1, sizeof(*pts));
	bool *regressed = calloc(h->n ? h->n : 1, sizeof(*regressed));
	size_t present = 0, marked = 0, drift = 0;

	if (!pts || !regressed)
		abort();
	for (size_t i = 0; i < h->n; i++) {
		const struct summary_row *r = find_comparison(&h->v[i]->run, pc->family,
							      pc->workload, pc->metric,
							      pc->base, pc->cand);

		pts[i].present = r && isfinite(r->ratio);
		if (pts[i].present) {
			pts[i].st.mean = r->ratio;
			pts[i].cmp.ci_low = r->ci_low;
			pts[i].cmp.ci_high = r->ci_high;
			present++;
		}
	}
	if (present) {
		series_drift(h->n, pts, pc->metric, threshold);
		mark_arm_regressions(h, pc, pc->base, threshold, regressed);
		mark_arm_regressions(h, pc, pc->cand, threshold, regressed);
		for (size_t i = 0; i < h->n; i++) {
			if (!pts[i].present)
				continue;
			fprintf(data, "%s ", night_started(h->v[i]));
			if (!marks->first[0] || strcmp(night_started(h->v[i]), marks->first) < 0)
				snprintf(marks->first, sizeof(marks->first), "%s",
					 night_started(h->v[i]));
			if (strcmp(night_started(h->v[i]), marks->last) > 0)
				snprintf(marks->last, sizeof(marks->last), "%s",
					 night_started(h->v[i]));
			put_num(data, pts[i].st.mean);
			put_num(data, pts[i].cmp.ci_low);
			put_num(data, pts[i].cmp.ci_high);
			fputc('\n', data);
			if (regressed[i]) {
				strbuf_addf(&marks->regressed, "%s %.9g\n", night_started(h->v[i]),
					    pts[i].st.mean);
				marks->n_regressed++;
				marked++;
			}
			if (pts[i].drift) {
				strbuf_addf(&marks->drift, "%s %.9g\n", night_started(h->v[i]),
					    pts[i].st.mean);
				marks->n_drift++;
				drift++;
			}
		}
		fputs("\n\n", data);
		strbuf_addf(titles, "%s\"%s\"", titles->n ? " " : "", h->v[0]->label);
		strbuf_addf(caption, "%s%s (%zu nights", caption->n ? "; " : "", h->v[0]->label,
			    present);
		if (marked)
			strbuf_addf(caption, ", %zu with a regression", marked);
		if (drift)
			strbuf_addf(caption, ", %zu in a drift", drift);
		strbuf_addf(caption, ")");
	}
	free(pts);
	free(regressed);
	return present > 0;
}

/* Render the chart of @pc into @pl; returns 0, or -1 when gnuplot failed. */
static int draw_pair(const struct fleet *fl, const struct pair_chart *pc, size_t no,
		     const char *outdir, const char *scripts, double threshold,
		     struct plot_list *pl, size_t *lines, size_t *marked)
{
	struct strbuf titles = { 0 }, caption = { 0 };
	struct chart_marks marks = { 0 };
	char base[64], title[320], corner[256], ylab[96];
	struct figure fig;
	FILE *data;
	int rc;

	snprintf(base, sizeof(base), "fleet-%zu", no);
	snprintf(corner, sizeof(corner), "twinbench dashboard · kernel %s",
		 fl->kernels.names[pc->kernel]);
	fig_init_dir(&fig, outdir, corner, scripts, "fleet.gp", base);
	data = fig_open_data(&fig);
	if (!data)
		return -1;
	*lines = 0;
	for (size_t m = 0; m < fl->n_machines; m++) {
		struct history_runs h;

		group_runs(fl, m, (long)pc->kernel, &h);
		if (h.n && machine_line(data, &h, pc, threshold, &titles, &caption, &marks))
			++*lines;
		free(h.v);
	}
	if (marks.n_regressed)
		fprintf(data, "%s\n\n", marks.regressed.s);
	if (marks.n_drift)
		fprintf(data, "%s\n\n", marks.drift.s);
	fclose(data);
	*marked = marks.n_regressed + marks.n_drift;
	fig_num(&fig, "nreg", (double)marks.n_regressed);
	fig_str(&fig, "xfirst", marks.first);
	fig_str(&fig, "xlast", marks.last);
	fig_num(&fig, "ndrift", (double)marks.n_drift);
	free(marks.regressed.s);
	free(marks.drift.s);
	snprintf(title, sizeof(title), "%s %s: %s / %s, %s", pc->family, pc->workload, pc->cand,
		 pc->base, pc->metric);
	snprintf(ylab, sizeof(ylab), "%s ratio, %s / %s", pc->metric, pc->cand, pc->base);
	fig_str(&fig, "plottitle", title);
	fig_str(&fig, "titles", titles.s ? titles.s : "");
	fig_str(&fig, "ylab", ylab);
	fig_num(&fig, "nseries", (double)*lines);
	strbuf_addf(&caption, ". Kernel %s; the band is each night's 95 %% interval.",
		    fl->kernels.names[pc->kernel]);
	rc = *lines ? fig_render(&fig, caption.s, pl) : 0;
	free(titles.s);
	free(caption.s);
	return rc;
}

/* Every pair chart of kernel @k, in order of first appearance. */
static void kernel_pairs(const struct fleet *fl, size_t k, struct pair_chart **out, size_t *n)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < fl->n; i++) {
		const struct run_data *run = &fl->nights[i].run;

		if (fl->nights[i].kernel_no != k)
			continue;
		for (size_t r = 0; r < run->summary.n; r++) {
			const struct summary_row *s = &run->summary.rows[r];
			const char *pm = primary_metric(run, s->family);
			struct pair_chart pc = { .kernel = k };
			bool seen = false;

			if (!pm || strcmp(s->metric, pm))
				continue;
			snprintf(pc.family, sizeof(pc.family), "%s", s->family);
			snprintf(pc.workload, sizeof(pc.workload), "%s", s->workload);
			snprintf(pc.metric, sizeof(pc.metric), "%s", s->metric);
			snprintf(pc.base, sizeof(pc.base), "%s", s->baseline);
			snprintf(pc.cand, sizeof(pc.cand), "%s", s->candidate);
			for (size_t j = 0; j < *n && !seen; j++)
				seen = !memcmp(&(*out)[j], &pc, sizeof(pc));
			if (!seen)
				*VEC_PUSH(*out, *n, cap) = pc;
		}
	}
}

/*
 * The charts of every kernel, those with a regression or drift marked first (what needs a
 * look leads); 0, or -1 when a chart failed (listed on stderr).
 */
static int charts(FILE *f, const struct fleet *fl, const char *outdir, const char *scripts,
		  double threshold)
{
	struct plot_list pl = { 0 };
	char plots[PATH_MAX], err[256];
	size_t no = 0;
	int ret = 0;

	path_printf(plots, sizeof(plots), "%s/plots", outdir);
	if (mkdir_p(plots, err, sizeof(err))) {
		fprintf(stderr, "dashboard: %s\n", err);
		return -1;
	}
	for (size_t k = 0; k < fl->kernels.n; k++) {
		struct pair_chart *pcs;
		size_t n;

		kernel_pairs(fl, k, &pcs, &n);
		fputs("<h2>Kernel ", f);
		html_escape(f, fl->kernels.names[k]);
		fputs("</h2>\n", f);
		if (!n)
			fputs("<p class=\"note\">No run of this kernel has comparisons.</p>\n", f);
		size_t *plot = calloc(n ? n : 1, sizeof(*plot)), *lines = calloc(n ? n : 1,
			sizeof(*lines)), *marked = calloc(n ? n : 1, sizeof(*marked));

		if (!plot || !lines || !marked)
			abort();
		for (size_t i = 0; i < n; i++) {
			size_t before = pl.n;

			if (draw_pair(fl, &pcs[i], no++, outdir, scripts, threshold, &pl, &lines[i],
				      &marked[i]))
				ret = -1;
			plot[i] = pl.n == before ? SIZE_MAX : before;
		}
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < n; i++) {
				if (plot[i] == SIZE_MAX || (marked[i] == 0) != (pass == 1))
					continue;
				fprintf(f, "<div class=\"trend\" data-lines=\"%zu\">\n", lines[i]);
				fig_html(f, outdir, &pl.v[plot[i]]);
				fputs("</div>\n", f);
			}
		free(plot);
		free(lines);
		free(marked);
		free(pcs);
	}
	for (size_t i = 0; i < pl.failures.n; i++)
		fprintf(stderr, "dashboard: %s\n", pl.failures.lines[i]);
	plot_list_free(&pl);
	return ret;
}

static int write_dashboard(const struct fleet *fl, const char *shown, const char *outdir,
			   const char *scripts, double threshold, const char *machine,
			   size_t *latest, char *err, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	struct regressions rg;
	int plots;
	FILE *f;

	path_printf(path, sizeof(path), "%s/index.html", outdir);
	path_printf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, len, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	fleet_regressions(fl, threshold, &rg);
	*latest = 0;
	for (size_t i = 0; i < rg.n; i++)
		*latest += rg.v[i].newest &&
			   (!machine || !strcmp(rg.v[i].night->machine.id, machine));
	html_page_begin(f, "twinbench dashboard");
	fputs("<h1>twinbench dashboard</h1>\n<p>", f);
	fprintf(f, "%zu runs of %zu machines on %zu kernels from the history ", fl->n,
		fl->n_machines, fl->kernels.n);
	html_escape(f, shown);
	fprintf(f, ". Runs are grouped by machine (its id, CPU, memory and tuning) and kernel; "
		"each series is judged against its group's earlier runs. A regression is a "
		"\"slower\" verdict against the baseline of up to %d earlier runs of the same "
		"series pooled, with %.1f %% as the margin (the interval of the ratio lies wholly "
		"beyond it, exact rank test p &lt; %.2g; boots as the unit where runs have "
		"several). A drift is a Mann-Kendall trend over up to %d runs, or an E-divisive "
		"change point over the whole series, significant at %.2g and worse than %.1f %% "
		"over its span. In the charts each line is one machine's ratio of a pair of arms "
		"over its runs, a red ring where either arm regressed, an orange square on the "
		"runs of a drift of the ratio.</p>\n", DRIFT_BASELINE_RUNS, threshold,
		STATS_ALPHA, DRIFT_WINDOW_RUNS, STATS_ALPHA, threshold);
	fputs("<h2>Latest verdicts per machine</h2>\n", f);
	if (fl->n)
		latest_table(f, fl, &rg);
	fputs("<h2>Regressions and drift</h2>\n", f);
	regression_table(f, &rg);
	plots = charts(f, fl, outdir, scripts, threshold);
	fputs("<h2>Machines</h2>\n", f);
	machines_table(f, fl);
	fputs("<h2>Runs</h2>\n", f);
	runs_table(f, fl);
	if (!fl->n)
		fputs("<p>The history holds no runs yet: twinbench history add RUN_DIR.</p>\n", f);
	html_page_end(f);
	if (ferror(f) | fclose(f) || rename(tmp, path)) {
		snprintf(err, len, "%s: cannot write the dashboard", path);
		unlink(tmp);
		free(rg.v);
		return -1;
	}
	printf("dashboard: %s (%zu runs, %zu machines, %zu regressions and drifts marked, %zu "
	       "at the newest run%s)\n", path, fl->n, fl->n_machines, rg.n, *latest,
	       machine ? " of that machine" : "s");
	free(rg.v);
	if (plots)
		snprintf(err, len, "%s: a chart failed (gnuplot)", path);
	return plots;
}

static void dashboard_usage(FILE *f)
{
	fprintf(f, "usage: twinbench dashboard [--db WHERE] [-o DIR] [--threshold PCT] "
		"[--plots DIR]\n"
		"                           [--judge-latest] [--machine ID]\n"
		"  WHERE: a SQLite file or a postgresql:// URL, default $%s, else %s;\n"
		"  DIR defaults to %s (DIR/index.html, DIR/plots/)\n"
		"  --judge-latest: exit 1 when the newest run of a machine (of machine ID only,\n"
		"  with --machine) regressed against its baseline or ends a drift\n",
		HISTORY_ENV, HISTORY_DEFAULT_DB, DASHBOARD_DEFAULT_DIR);
}

int dashboard_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "threshold", required_argument, NULL, 't' },
		{ "plots", required_argument, NULL, 'p' },
		{ "judge-latest", no_argument, NULL, 'j' },
		{ "machine", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *opt_db = NULL, *outdir = DASHBOARD_DEFAULT_DIR, *plots_opt = NULL;
	const char *machine = NULL, *where;
	double threshold = REGRESSION_DEFAULT_PCT;
	char err[REPORT_ERR_LEN], scripts[PATH_MAX], shown[PATH_MAX], *end;
	struct fleet fl;
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
		case 'm':
			machine = optarg;
			break;
		case 'd':
			opt_db = optarg;
			break;
		case 'o':
			outdir = optarg;
			break;
		case 'p':
			plots_opt = optarg;
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
	if (fig_find_scripts(plots_opt, scripts, sizeof(scripts))) {
		fprintf(stderr, "dashboard: no gnuplot scripts in %s (--plots DIR or "
			"TWINBENCH_PLOTS)\n", scripts);
		return 2;
	}
	if (mkdir(outdir, 0755) && errno != EEXIST) {
		fprintf(stderr, "dashboard: %s: %s\n", outdir, strerror(errno));
		return 2;
	}
	where = history_where(opt_db);
	history_mask(where, shown, sizeof(shown));
	if (history_open(where, false, &db, err, sizeof(err))) {
		fprintf(stderr, "dashboard: %s\n", err);
		return 2;
	}
	ret = load_fleet(db, outdir, &fl, err, sizeof(err));
	history_close(db);
	if (!ret)
		ret = write_dashboard(&fl, shown, outdir, scripts, threshold, machine, &latest, err,
				      sizeof(err));
	if (ret)
		fprintf(stderr, "dashboard: %s\n", err);
	free_fleet(&fl);
	return ret ? 2 : judge && latest ? 1 : 0;
}
