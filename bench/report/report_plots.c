// SPDX-License-Identifier: GPL-2.0
/*
 * report_plots.c - the figures of a run: writes one gnuplot data file per
 * figure into RUN/plots/ and renders it with the matching script in plots/
 * (SVG and PNG). Anything gnuplot prints on stderr counts as a failure, so a
 * figure is either clean or reported.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "figure.h"
#include "report_ablation.h"
#include "report_compare.h"
#include "report_insn.h"
#include "report_plots.h"
#include "vec.h"

static const char *metric_unit(const char *metric)
{
	const struct metric_info *mi = metric_lookup(metric);

	return mi ? mi->unit : "";
}

/* Candidate/baseline pairs of one family and metric in summary.csv, safe/raw first. */
static void summary_pairs(const struct run_data *run, const char *family, const char *metric,
			  struct name_list *pairs)
{
	char key[REPORT_KEY_LEN];

	for (int pass = 0; pass < 3; pass++)
		for (size_t i = 0; i < run->summary.n; i++) {
			const struct summary_row *s = &run->summary.rows[i];
			enum arm_role b = run_arm_role(run, family, s->baseline);
			enum arm_role c = run_arm_role(run, family, s->candidate);
			int kind = (c == ARM_SAFE && b == ARM_RAW) ? 0 :
				   (c == ARM_RAW && b == ARM_UPSTREAM) ? 1 : 2;

			if (kind != pass || strcmp(s->family, family) || strcmp(s->metric, metric))
				continue;
			snprintf(key, sizeof(key), "%s/%s", s->candidate, s->baseline);
			name_list_add(pairs, key);
		}
}

static const struct summary_row *find_summary(const struct run_data *run, const char *family,
					      const char *workload, const char *metric,
					      const char *pair)
{
	char key[REPORT_KEY_LEN];

	for (size_t i = 0; i < run->summary.n; i++) {
		const struct summary_row *s = &run->summary.rows[i];

		if (strcmp(s->family, family) || strcmp(s->workload, workload) ||
		    strcmp(s->metric, metric))
			continue;
		snprintf(key, sizeof(key), "%s/%s", s->candidate, s->baseline);
		if (!strcmp(key, pair))
			return s;
	}
	return NULL;
}

static void plot_relative(const struct run_data *run, const char *dir, const char *family,
			  const char *tm, struct plot_list *out)
{
	struct name_list pairs = { 0 }, wls = { 0 };
	struct figure fig;
	char base[160], title[160], caption[256], ylab[128];
	size_t rows = 0;
	FILE *f;

	summary_pairs(run, family, tm, &pairs);
	if (!pairs.n) {
		text_list_addf(&out->notes, "%s: no %s comparisons in summary.csv, relative "
			       "throughput plot skipped", family, tm);
		goto out;
	}
	snprintf(base, sizeof(base), "relative-%s", family);
	fig_init(&fig, run, dir, "relative.gp", base);
	f = fig_open_data(&fig);
	if (!f)
		goto out;
	run_workloads(run, family, &wls);
	fprintf(f, "# %s %s: ratio of means candidate/baseline, 95 %% Welch interval on log values\n",
		family, tm);
	fputs("idx workload ", f);
	for (size_t p = 0; p < pairs.n; p++)
		fprintf(f, "\"%s\" lo hi ", pairs.names[p]);
	fputc('\n', f);
	for (size_t w = 0; w < wls.n; w++) {
		bool any = false;

		for (size_t p = 0; p < pairs.n; p++)
			any |= find_summary(run, family, wls.names[w], tm, pairs.names[p]) != NULL;
		if (!any)
			continue;
		fprintf(f, "%zu ", ++rows);
		put_label(f, wls.names[w]);
		for (size_t p = 0; p < pairs.n; p++) {
			const struct summary_row *s = find_summary(run, family, wls.names[w], tm,
								   pairs.names[p]);

			put_num(f, s ? s->ratio : NAN);
			put_num(f, s ? s->ci_low : NAN);
			put_num(f, s ? s->ci_high : NAN);
		}
		fputc('\n', f);
	}
	fclose(f);
	snprintf(title, sizeof(title), "%s: relative throughput (%s), candidate / baseline",
		 family, tm);
	snprintf(ylab, sizeof(ylab), "%s ratio, candidate / baseline (95 %% CI)", tm);
	fig_str(&fig, "plottitle", title);
	fig_str(&fig, "ylab", ylab);
	fig_num(&fig, "nseries", pairs.n);
	fig_num(&fig, "nrows", rows);
	snprintf(caption, sizeof(caption), "%s: %s of each candidate relative to its baseline, "
		 "ratio with its 95 %% Welch interval on log values; above 1 is faster.", family, tm);
	fig_render(&fig, caption, out);
out:
	name_list_free(&pairs);
	name_list_free(&wls);
}

static void plot_absolute(const struct run_data *run, const char *dir, const char *family,
			  const char *metric, struct plot_list *out)
{
	struct name_list arms = { 0 }, wls = { 0 };
	struct sample_stats st;
	struct figure fig;
	char base[160], title[160], caption[256], ylab[128];
	FILE *f;

	snprintf(base, sizeof(base), "absolute-%s-%s", family, metric);
	fig_init(&fig, run, dir, "absolute.gp", base);
	f = fig_open_data(&fig);
	if (!f)
		return;
	run_arms(run, family, &arms);
	run_workloads(run, family, &wls);
	fprintf(f, "# %s %s (%s): mean and standard deviation of the valid samples per arm\n",
		family, metric, metric_unit(metric));
	fputs("workload ", f);
	for (size_t a = 0; a < arms.n; a++)
		fprintf(f, "\"%s\" sd ", arms.names[a]);
	fputc('\n', f);
	for (size_t w = 0; w < wls.n; w++) {
		put_label(f, wls.names[w]);
		for (size_t a = 0; a < arms.n; a++) {
			bool ok = series_describe(run, family, arms.names[a], wls.names[w], metric,
						  &st);

			put_num(f, ok ? st.mean : NAN);
			put_num(f, ok ? (isfinite(st.sd) ? st.sd : 0) : NAN);
		}
		fputc('\n', f);
	}
	fclose(f);
	fig_num(&fig, "plotwidth", plot_width(wls.n, arms.n));
	snprintf(title, sizeof(title), "%s: %s of every arm", family, metric);
	snprintf(ylab, sizeof(ylab), "%s (%s), mean ± sd", metric, metric_unit(metric));
	fig_str(&fig, "plottitle", title);
	fig_str(&fig, "ylab", ylab);
	fig_num(&fig, "nseries", arms.n);
	snprintf(caption, sizeof(caption), "%s: absolute %s (%s) of every arm, mean of the valid "
		 "samples with the standard deviation as error bar.", family, metric,
		 metric_unit(metric));
	fig_render(&fig, caption, out);
	name_list_free(&arms);
	name_list_free(&wls);
}

static void plot_latency(const struct run_data *run, const char *dir, const char *family,
			 struct plot_list *out)
{
	static const char *const pcts[] = { "lat_p50", "lat_p99", "lat_p999" };
	struct name_list arms = { 0 }, wls = { 0 };
	struct sample_stats st;
	struct figure fig;
	char base[160], title[160], caption[256], label[160];
	size_t rows = 0;
	FILE *f;

	snprintf(base, sizeof(base), "latency-%s", family);
	fig_init(&fig, run, dir, "latency.gp", base);
	f = fig_open_data(&fig);
	if (!f)
		return;
	run_arms(run, family, &arms);
	run_workloads(run, family, &wls);
	fprintf(f, "# %s fio completion latency percentiles, mean over samples, microseconds\n",
		family);
	fputs("label p50 p99 p99.9\n", f);
	for (size_t w = 0; w < wls.n; w++)
		for (size_t a = 0; a < arms.n; a++) {
			bool any = false;

			for (size_t p = 0; p < 3; p++)
				any |= series_describe(run, family, arms.names[a], wls.names[w],
						       pcts[p], &st);
			if (!any)
				continue;
			snprintf(label, sizeof(label), "%s/%s", wls.names[w], arms.names[a]);
			put_label(f, label);
			rows++;
			for (size_t p = 0; p < 3; p++) {
				bool ok = series_describe(run, family, arms.names[a], wls.names[w],
							  pcts[p], &st);

				put_num(f, ok && st.mean > 0 ? st.mean / 1000.0 : NAN);
			}
			fputc('\n', f);
		}
	fclose(f);
	fig_num(&fig, "plotwidth", plot_width(rows, 3));
	snprintf(title, sizeof(title), "%s: completion latency percentiles per arm", family);
	fig_str(&fig, "plottitle", title);
	fig_str(&fig, "ylab", "completion latency (µs, log scale)");
	snprintf(caption, sizeof(caption), "%s: fio completion latency p50, p99 and p99.9 per "
		 "workload and arm (mean over samples, log scale).", family);
	fig_render(&fig, caption, out);
	name_list_free(&arms);
	name_list_free(&wls);
}

static void plot_overhead(const struct run_data *run, const char *dir, const char *family,
			  struct plot_list *out)
{
	static const char *const parts[] = {
		"driver_ns_per_io", "hardirq_ns_per_io", "softirq_ns_per_io",
	};
	struct name_list arms = { 0 }, wls = { 0 };
	struct sample_stats st;
	struct figure fig;
	char base[160], title[160], caption[320], label[160];
	bool overlap = false;
	double irqs_max = 0;
	size_t rows = 0;
	FILE *f;

	snprintf(base, sizeof(base), "overhead-%s", family);
	fig_init(&fig, run, dir, "overhead.gp", base);
	f = fig_open_data(&fig);
	if (!f)
		return;
	run_arms(run, family, &arms);
	run_workloads(run, family, &wls);
	fprintf(f, "# %s CPU time per I/O (ns): driver, hardirq, softirq, rest of cpu_ns_per_io;"
		" irqs per I/O\n", family);
	fputs("label driver hardirq softirq \"other CPU\" irqs\n", f);
	for (size_t w = 0; w < wls.n; w++)
		for (size_t a = 0; a < arms.n; a++) {
			double sum = 0, cpu;

			if (!series_describe(run, family, arms.names[a], wls.names[w],
					     "cpu_ns_per_io", &st))
				continue;
			cpu = st.mean;
			snprintf(label, sizeof(label), "%s/%s", wls.names[w], arms.names[a]);
			put_label(f, label);
			rows++;
			for (size_t p = 0; p < 3; p++) {
				bool ok = series_describe(run, family, arms.names[a], wls.names[w],
							  parts[p], &st);

				put_num(f, ok ? st.mean : 0);
				sum += ok ? st.mean : 0;
			}
			overlap |= sum > cpu;
			put_num(f, cpu > sum ? cpu - sum : 0);
			if (series_describe(run, family, arms.names[a], wls.names[w], "irqs_per_io",
					    &st)) {
				put_num(f, st.mean);
				irqs_max = fmax(irqs_max, st.mean);
			} else {
				put_num(f, NAN);
			}
			fputc('\n', f);
		}
	fclose(f);
	fig_num(&fig, "plotwidth", plot_width(rows, 1));
	fig_num(&fig, "y2max", irqs_max > 0 ? irqs_max * 1.25 : 1);
	snprintf(title, sizeof(title), "%s: CPU time per I/O, stacked", family);
	fig_str(&fig, "plottitle", title);
	fig_str(&fig, "ylab", "CPU time per I/O (ns)");
	snprintf(caption, sizeof(caption), "%s: where the CPU time of one I/O goes (driver, hard "
		 "and soft interrupts, the rest of cpu_ns_per_io), IRQs per I/O on the right "
		 "axis.%s", family, overlap ? " The parts add up to more than the CPU time in "
		 "some bars (driver time inside interrupts is counted twice), so 'other CPU' is "
		 "0 there." : "");
	fig_render(&fig, caption, out);
	name_list_free(&arms);
	name_list_free(&wls);
}

/* The workload key a sweep plot puts on its x axis. */
enum sweep_param { SWEEP_QD, SWEEP_SIZE };

/*
 * The value of @param in workload @workload of @family, as the run folder's facts give it,
 * and the workload's shape: the other keys of its job ("rw=randread,bs=4096,numjobs=1"),
 * which the workloads of one line of the plot share. False when the workload has no such key.
 */
static bool workload_param(const struct run_data *run, const char *family,
			   const char *workload, enum sweep_param param, double *value,
			   char *shape, size_t len)
{
	static const char *const shape_keys[] = { "rw", "bs", "iodepth", "numjobs" };
	const char *swept = param == SWEEP_QD ? "iodepth" : "bs";
	const struct fact *f = facts_find(&run->facts, FACT_WORKLOAD, family, workload);
	size_t used = 0;

	if (!facts_workload_number(&run->facts, family, workload, swept, value) || *value <= 0)
		return false;
	shape[0] = '\0';
	for (size_t k = 0; k < ARRAY_SIZE(shape_keys); k++) {
		const char *v = fact_get(f, shape_keys[k]);

		if (v && strcmp(shape_keys[k], swept))
			used += snprintf(shape + used, used < len ? len - used : 0, "%s%s=%s",
					 used ? "," : "", shape_keys[k], v);
	}
	return true;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One line of a sweep plot: an arm and a workload shape, at several parameter values. */
static size_t sweep_series_points(const struct run_data *run, const char *family,
				  const char *arm, const char *shape, enum sweep_param param,
				  const char *metric, FILE *f)
{
	struct name_list wls = { 0 };
	double xs[64];
	size_t nx = 0, written = 0;
	char s[RESULTS_WORKLOAD_LEN];
	struct sample_stats st;
	double x;

	run_workloads(run, family, &wls);
	for (size_t w = 0; w < wls.n && nx < 64; w++)
		if (workload_param(run, family, wls.names[w], param, &x, s, sizeof(s)) &&
		    !strcmp(s, shape))
			xs[nx++] = x;
	qsort(xs, nx, sizeof(xs[0]), cmp_double);
	for (size_t i = 0; i < nx; i++)
		for (size_t w = 0; w < wls.n; w++) {
			if (!workload_param(run, family, wls.names[w], param, &x, s,
					    sizeof(s)) ||
			    strcmp(s, shape) || x != xs[i])
				continue;
			if (!series_describe(run, family, arm, wls.names[w], metric, &st))
				continue;
			if (f)
				fprintf(f, "%.9g %.9g %.9g\n", x, st.mean, isfinite(st.sd) ? st.sd : 0);
			written++;
		}
	name_list_free(&wls);
	return written;
}

static void plot_sweep(const struct run_data *run, const char *dir, const char *family,
		       const char *metric, enum sweep_param param, struct plot_list *out)
{
	struct name_list shapes = { 0 }, arms = { 0 }, wls = { 0 };
	bool net = !strcmp(family, "net");
	const char *what = param == SWEEP_QD ? "queue depth" : net ? "payload size" : "block size";
	char base[160], title[160], caption[256], ylab[128], titles[1024] = "";
	char shape[RESULTS_WORKLOAD_LEN];
	size_t nseries = 0, used = 0;
	struct figure fig;
	double x;
	FILE *f;

	run_workloads(run, family, &wls);
	for (size_t w = 0; w < wls.n; w++)
		if (workload_param(run, family, wls.names[w], param, &x, shape, sizeof(shape)))
			name_list_add(&shapes, shape);
	run_arms(run, family, &arms);
	snprintf(base, sizeof(base), "sweep-%s-%s", param == SWEEP_QD ? "qd" : net ? "payload" :
		 "bs", family);
	fig_init(&fig, run, dir, "sweep.gp", base);
	f = NULL;
	for (size_t s = 0; s < shapes.n; s++)
		for (size_t a = 0; a < arms.n; a++) {
			if (sweep_series_points(run, family, arms.names[a], shapes.names[s], param,
						metric, NULL) < 2)
				continue;
			if (!f) {
				f = fig_open_data(&fig);
				if (!f)
					goto out;
				fprintf(f, "# %s %s against %s: x mean sd, one block per arm and "
					"workload shape\n", family, metric, what);
			} else {
				fputs("\n\n", f);
			}
			sweep_series_points(run, family, arms.names[a], shapes.names[s], param,
					    metric, f);
			used += snprintf(titles + used, used < sizeof(titles) ?
					 sizeof(titles) - used : 0, "%s%s%s%s", used ? " " : "",
					 arms.names[a], shapes.n > 1 ? ":" : "",
					 shapes.n > 1 ? shapes.names[s] : "");
			nseries++;
		}
	if (!f) {
		text_list_addf(&out->notes, "%s: no workloads that differ only in %s, %s sweep "
			       "skipped", family, what, what);
		goto out;
	}
	fclose(f);
	snprintf(title, sizeof(title), "%s: %s against %s", family, metric, what);
	snprintf(ylab, sizeof(ylab), "%s (%s), mean ± sd", metric, metric_unit(metric));
	fig_str(&fig, "plottitle", title);
	fig_str(&fig, "ylab", ylab);
	fig_str(&fig, "xlab", param == SWEEP_QD ? "queue depth (I/Os in flight, log scale)" :
		net ? "UDP payload (bytes, log scale)" : "block size (bytes, log scale)");
	fig_str(&fig, "titles", titles);
	fig_num(&fig, "nseries", nseries);
	snprintf(caption, sizeof(caption), "%s: %s (%s) against %s, one line per arm and "
		 "workload shape, mean with standard deviation.", family, metric,
		 metric_unit(metric), what);
	fig_render(&fig, caption, out);
out:
	name_list_free(&shapes);
	name_list_free(&arms);
	name_list_free(&wls);
}

/* The merged BPF latency histogram of one arm and workload: bucket upper bounds and counts. */
struct latency_hist {
	char arm[RESULTS_NAME_LEN];
	char workload[RESULTS_WORKLOAD_LEN];
	size_t n, cap;
	double *high, *count;
};

static void hist_add(struct latency_hist *h, double high, double count)
{
	size_t i = 0;

	while (i < h->n && h->high[i] < high)
		i++;
	if (i < h->n && h->high[i] == high) {
		h->count[i] += count;
		return;
	}
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 64;
		h->high = vec_realloc(h->high, h->cap * sizeof(*h->high));
		h->count = vec_realloc(h->count, h->cap * sizeof(*h->count));
	}
	memmove(h->high + i + 1, h->high + i, (h->n - i) * sizeof(*h->high));
	memmove(h->count + i + 1, h->count + i, (h->n - i) * sizeof(*h->count));
	h->high[i] = high;
	h->count[i] = count;
	h->n++;
}

/*
 * Merge the block latency histogram of twintrace's JSON @path (block.histogram.buckets:
 * [low_ns, high_ns, count]) into @h. Returns the number of requests it held, or -1.
 */
static long hist_merge_json(const char *path, struct latency_hist *h, struct plot_list *out)
{
	json_t *root, *buckets, *b;
	json_error_t jerr;
	long total = 0;
	size_t i;

	root = json_load_file(path, 0, &jerr);
	if (!root) {
		text_list_addf(&out->notes, "%s:%d: %s (histogram skipped)", path, jerr.line,
			       jerr.text);
		return -1;
	}
	buckets = json_object_get(json_object_get(json_object_get(root, "block"), "histogram"),
				  "buckets");
	json_array_foreach(buckets, i, b) {
		json_t *high = json_array_get(b, 1), *count = json_array_get(b, 2);

		if (!json_is_integer(high) || !json_is_integer(count))
			continue;
		hist_add(h, (double)json_integer_value(high), (double)json_integer_value(count));
		total += (long)json_integer_value(count);
	}
	json_decref(root);
	return total;
}

/* Histograms of every valid sample that has samples/<NNNN>.trace.json, merged per arm. */
static size_t collect_histograms(const struct run_data *run, const char *family,
				 const char *workload, struct latency_hist *hists, size_t max,
				 struct plot_list *out)
{
	char pattern[PATH_MAX], json[PATH_MAX], err[REPORT_ERR_LEN];
	size_t nh = 0;
	glob_t g;

	path_printf(pattern, sizeof(pattern), "%s/samples/[0-9]*.csv", run->dir);
	if (glob(pattern, 0, NULL, &g))
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct sample_table t = { 0 };
		const struct sample_row *r;
		size_t k;

		path_printf(json, sizeof(json), "%.*s.trace.json", (int)(strlen(g.gl_pathv[i]) - 4),
		      g.gl_pathv[i]);
		if (access(json, R_OK) || results_load_samples(g.gl_pathv[i], &t, err, sizeof(err)) ||
		    !t.n) {
			sample_table_free(&t);
			continue;
		}
		r = &t.rows[0];
		if (r->valid && !strcmp(r->family, family) && !strcmp(r->workload, workload)) {
			for (k = 0; k < nh && strcmp(hists[k].arm, r->arm); k++)
				;
			if (k == nh && nh < max) {
				memset(&hists[nh], 0, sizeof(hists[nh]));
				snprintf(hists[nh].arm, sizeof(hists[nh].arm), "%s", r->arm);
				snprintf(hists[nh].workload, sizeof(hists[nh].workload), "%s",
					 workload);
				nh++;
			}
			if (k < nh)
				hist_merge_json(json, &hists[k], out);
		}
		sample_table_free(&t);
	}
	globfree(&g);
	return nh;
}

static void plot_latdist(const struct run_data *run, const char *dir, const char *family,
			 struct plot_list *out)
{
	struct name_list arms = { 0 }, wls = { 0 };
	struct latency_hist hists[8];
	char base[160], title[192], caption[420], titles[512], rate_buf[32], duty_buf[32];
	const char *rate, *duty;
	size_t plotted = 0;

	run_arms(run, family, &arms);
	run_workloads(run, family, &wls);
	for (size_t w = 0; w < wls.n; w++) {
		size_t nh = collect_histograms(run, family, wls.names[w], hists, 8, out);
		size_t nseries = 0, used = 0;
		struct figure fig;
		FILE *f = NULL;

		snprintf(base, sizeof(base), "latdist-%s-%s", family, wls.names[w]);
		fig_init(&fig, run, dir, "latdist.gp", base);
		for (size_t a = 0; a < arms.n; a++)
			for (size_t k = 0; k < nh; k++) {
				double total = 0, done = 0;

				if (strcmp(hists[k].arm, arms.names[a]))
					continue;
				for (size_t b = 0; b < hists[k].n; b++)
					total += hists[k].count[b];
				if (total <= 0)
					continue;
				if (!f) {
					f = fig_open_data(&fig);
					if (!f)
						break;
					fprintf(f, "# %s %s: BPF block latency, fraction of requests "
						"slower than each bucket's upper bound (ns)\n", family,
						wls.names[w]);
				} else {
					fputs("\n\n", f);
				}
				for (size_t b = 0; b < hists[k].n; b++) {
					done += hists[k].count[b];
					if (total - done <= 0)
						break;
					fprintf(f, "%.9g %.9g\n", hists[k].high[b],
						(total - done) / total);
				}
				used += snprintf(titles + used, used < sizeof(titles) ?
						 sizeof(titles) - used : 0, "%s%s", used ? " " : "",
						 hists[k].arm);
				nseries++;
			}
		for (size_t k = 0; k < nh; k++) {
			free(hists[k].high);
			free(hists[k].count);
		}
		if (!f)
			continue;
		fclose(f);
		snprintf(title, sizeof(title), "%s %s: block request latency distribution (BPF)",
			 family, wls.names[w]);
		fig_str(&fig, "plottitle", title);
		fig_str(&fig, "titles", titles);
		fig_num(&fig, "nseries", nseries);
		rate = manifest_get(run->manifest, "trace_sample", rate_buf, sizeof(rate_buf));
		duty = manifest_get(run->manifest, "trace_duty", duty_buf, sizeof(duty_buf));
		snprintf(caption, sizeof(caption), "%s %s: fraction of block requests slower than "
			 "a latency (issue to completion, twintrace histograms of all valid samples "
			 "merged per arm; one request in %s timed%s%s%s).", family, wls.names[w],
			 rate ? rate : "1", duty && strcmp(duty, "off") ?
			 ", while attached: ON/PERIOD ms " : "", duty && strcmp(duty, "off") ?
			 duty : "", duty && strcmp(duty, "off") ? " (trace_duty)" : "");
		fig_render(&fig, caption, out);
		plotted++;
	}
	if (!plotted)
		text_list_addf(&out->notes, "%s: no BPF latency histograms (samples/<NNNN>.trace.json)"
			       " in this run, latency distribution plot skipped", family);
	name_list_free(&arms);
	name_list_free(&wls);
}

/*
 * Per-boot means of one arm's valid samples of @metric in @workload, with their boot
 * numbers (*means and *boots are the caller's to free); returns how many boots.
 */
static size_t arm_boot_means(const struct run_data *run, const char *family, const char *arm,
			     const char *workload, const char *metric, double **means,
			     unsigned int **boots)
{
	double *x;
	unsigned int *b;
	struct series s = series_with_boots(&run->samples, family, arm, workload, metric, &x, &b);
	size_t k;

	*means = malloc((s.n ? s.n : 1) * sizeof(**means));
	*boots = malloc((s.n ? s.n : 1) * sizeof(**boots));
	if (!*means || !*boots)
		abort();
	k = stats_boot_means(&s, *means, *boots);
	free(x);
	free(b);
	return k;
}

/*
 * One figure per workload of @family whose arms ran in more than one boot: each arm's
 * per-boot means of the family's primary metric, its mean over boots as a line. Returns
 * how many figures it drew.
 */
static size_t plot_boots(const struct run_data *run, const char *dir, const char *family,
			 struct plot_list *out)
{
	const char *metric = facts_family_get(&run->facts, family, "primary_metric");
	struct name_list arms = { 0 }, wls = { 0 };
	char base[160], title[192], caption[256], ylab[128], titles[512];
	size_t drawn = 0;

	if (!metric || !family_has_metric(run, family, metric))
		return 0;
	run_arms(run, family, &arms);
	run_workloads(run, family, &wls);
	for (size_t w = 0; w < wls.n; w++) {
		size_t nseries = 0, used = 0, most = 0;
		struct figure fig;
		FILE *f;

		for (size_t a = 0; a < arms.n; a++) {
			double *m;
			unsigned int *b;
			size_t k = arm_boot_means(run, family, arms.names[a], wls.names[w], metric,
						  &m, &b);

			most = k > most ? k : most;
			free(m);
			free(b);
		}
		if (most < 2)
			continue;
		snprintf(base, sizeof(base), "boots-%s-%s", family, wls.names[w]);
		fig_init(&fig, run, dir, "boots.gp", base);
		f = fig_open_data(&fig);
		if (!f)
			break;
		fprintf(f, "# %s %s %s (%s): boot, mean of the boot's valid samples, mean over the "
			"arm's boots; one block per arm\n", family, wls.names[w], metric,
			metric_unit(metric));
		for (size_t a = 0; a < arms.n; a++) {
			double *m, sum = 0;
			unsigned int *b;
			size_t k = arm_boot_means(run, family, arms.names[a], wls.names[w], metric,
						  &m, &b);

			if (k) {
				for (size_t i = 0; i < k; i++)
					sum += m[i];
				fputs(nseries ? "\n\n" : "", f);
				for (size_t i = 0; i < k; i++)
					fprintf(f, "%u %.9g %.9g\n", b[i], m[i], sum / k);
				used += snprintf(titles + used, used < sizeof(titles) ?
						 sizeof(titles) - used : 0, "%s%s", used ? " " : "",
						 arms.names[a]);
				nseries++;
			}
			free(m);
			free(b);
		}
		fclose(f);
		snprintf(title, sizeof(title), "%s %s: %s per boot", family, wls.names[w], metric);
		snprintf(ylab, sizeof(ylab), "%s (%s), mean of each boot", metric,
			 metric_unit(metric));
		fig_str(&fig, "plottitle", title);
		fig_str(&fig, "ylab", ylab);
		fig_str(&fig, "titles", titles);
		fig_num(&fig, "nseries", nseries);
		snprintf(caption, sizeof(caption), "%s %s: %s per boot and arm (points: mean of the "
			 "boot's valid samples; dashed: mean over boots). Flag bimodal is judged on "
			 "these means from %d boots: coefficient above 5/9, two groups 4 sd apart.",
			 family, wls.names[w], metric, STATS_BIMODAL_MIN_BOOTS);
		fig_render(&fig, caption, out);
		drawn++;
	}
	name_list_free(&arms);
	name_list_free(&wls);
	return drawn;
}

int report_plots(const struct run_data *run, const char *scripts_dir, struct plot_list *out,
		 char *err, size_t len)
{
	static const char *const throughput[] = { "iops", "bw", "pps", "bps", NULL };
	struct name_list families = { 0 };
	char dir[PATH_MAX];
	size_t boot_figs = 0;

	memset(out, 0, sizeof(*out));
	path_printf(dir, sizeof(dir), "%s/plots", run->dir);
	if (mkdir(dir, 0755) && errno != EEXIST) {
		snprintf(err, len, "%s: %s", dir, strerror(errno));
		return -1;
	}
	run_families(run, &families);
	for (size_t i = 0; i < families.n; i++) {
		const char *fam = families.names[i];
		const char *tm = family_throughput_metric(run, fam);

		if (!tm)
			continue;
		plot_relative(run, scripts_dir, fam, tm, out);
		for (const char *const *m = throughput; *m; m++)
			if (family_has_metric(run, fam, *m))
				plot_absolute(run, scripts_dir, fam, *m, out);
		if (family_has_metric(run, fam, "lat_p50"))
			plot_latency(run, scripts_dir, fam, out);
		if (strcmp(fam, "net"))
			plot_latdist(run, scripts_dir, fam, out);
		if (family_has_metric(run, fam, "cpu_ns_per_io"))
			plot_overhead(run, scripts_dir, fam, out);
		else
			text_list_addf(&out->notes, "%s: no cpu_ns_per_io samples, overhead plot "
				       "skipped", fam);
		if (strcmp(fam, "net"))
			plot_sweep(run, scripts_dir, fam, tm, SWEEP_QD, out);
		plot_sweep(run, scripts_dir, fam, tm, SWEEP_SIZE, out);
		plot_ablation(run, scripts_dir, fam, out);
		plot_insn(run, scripts_dir, fam, out);
		boot_figs += plot_boots(run, scripts_dir, fam, out);
	}
	if (families.n && !boot_figs)
		text_list_addf(&out->notes, "one boot per arm in this run: no plot of per-boot "
			       "means (samples are the units, flag one-boot)");
	name_list_free(&families);
	return (int)out->failures.n;
}
