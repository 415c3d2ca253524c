// SPDX-License-Identifier: GPL-2.0
/*
 * test_report.c - the report of a fixture run folder: every plot renders with
 * gnuplot without a warning, the report carries the numbers of summary.csv
 * and the planted problems, report.html is self-contained, and compare flags
 * the planted regression and nothing in a planted non-change.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "history.h"
#include "report.h"
#include "report_compare.h"
#include "report_html.h"
#include "report_insn.h"
#include "report_run.h"

#define PLOTS_DIR	FIXTURES "/../../plots"

/* A scratch copy of a fixture run, so the test never writes into the tree. */
struct scratch {
	char dir[PATH_MAX];
	char run[PATH_MAX + 64];
};

static void scratch_copy(struct scratch *s, const char *fixture)
{
	char cmd[3 * PATH_MAX];

	snprintf(s->dir, sizeof(s->dir), "/tmp/twinbench-test-report.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->run, sizeof(s->run), "%s/%s", s->dir, fixture);
	snprintf(cmd, sizeof(cmd), "cp -r '%s/%s' '%s/'", FIXTURES, fixture, s->dir);
	assert_int_equal(system(cmd), 0);
}

static void scratch_remove(struct scratch *s)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	assert_int_equal(system(cmd), 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;

	if (!f)
		fail_msg("%s: cannot open", path);
	n = getdelim(&buf, &len, '\0', f);
	fclose(f);
	if (n < 0)
		fail_msg("%s: cannot read", path);
	return buf;
}

static int run_report(const char *run)
{
	char *argv[] = { "report", (char *)run, "--plots", PLOTS_DIR, NULL };

	return report_main(4, argv);
}

static void test_every_plot_renders(void **state)
{
	static const char *const plots[] = {
		"relative-null", "relative-net", "absolute-null-iops", "absolute-null-bw",
		"absolute-net-pps", "absolute-net-bps", "latency-null", "overhead-null",
		"sweep-qd-null", "sweep-bs-null", "sweep-payload-net",
		"latdist-null-randread-4k-qd32", NULL,
	};
	char path[2 * PATH_MAX];
	struct scratch s;
	struct stat st;

	(void)state;
	scratch_copy(&s, "run-base");
	/* 0 means gnuplot exited cleanly and printed nothing on stderr for every plot. */
	assert_int_equal(run_report(s.run), 0);
	for (const char *const *p = plots; *p; p++)
		for (const char *ext = "svg"; ext; ext = strcmp(ext, "svg") ? NULL : "png") {
			snprintf(path, sizeof(path), "%s/plots/%s.%s", s.run, *p, ext);
			if (stat(path, &st) || st.st_size < 1000)
				fail_msg("%s: missing or empty", path);
		}
	scratch_remove(&s);
}

static void test_report_has_summary_numbers(void **state)
{
	struct summary_table sum = { 0 };
	char path[2 * PATH_MAX], err[REPORT_ERR_LEN], want[128];
	struct scratch s;
	char *md, *html;

	(void)state;
	scratch_copy(&s, "run-base");
	assert_int_equal(run_report(s.run), 0);
	snprintf(path, sizeof(path), "%s/summary.csv", s.run);
	assert_int_equal(results_load_summary(path, &sum, err, sizeof(err)), 0);
	assert_true(sum.n > 100);
	snprintf(path, sizeof(path), "%s/report.md", s.run);
	md = slurp(path);
	snprintf(path, sizeof(path), "%s/report.html", s.run);
	html = slurp(path);
	for (size_t i = 0; i < sum.n; i++) {
		const struct summary_row *r = &sum.rows[i];
		char line[512];

		snprintf(line, sizeof(line), "| %s | %s | %s | %s | %s | %zu/%zu | %.6g | %.6g | "
			 "%.4f [%.4f, %.4f] | %.3g | %s |", r->family, r->workload, r->metric,
			 r->baseline, r->candidate, r->n_base, r->n_cand, r->mean_base,
			 r->mean_cand, r->ratio, r->ci_low, r->ci_high, r->p_value,
			 verdict_name(r->verdict));
		if (!strstr(md, line))
			fail_msg("report.md lacks summary row %zu: %s", i + 1, line);
		snprintf(want, sizeof(want), "<td class=\"num\">%.4f [%.4f, %.4f]</td>", r->ratio,
			 r->ci_low, r->ci_high);
		if (!strstr(html, want))
			fail_msg("report.html lacks %s", want);
	}
	/* The verdict table comes first. */
	assert_true(strstr(md, "## Verdicts") < strstr(md, "## Absolute numbers"));
	assert_true(strstr(md, "## Absolute numbers") < strstr(md, "## Plots"));
	assert_true(strstr(md, "## Plots") < strstr(md, "## Warnings"));
	assert_true(strstr(md, "## Warnings") < strstr(md, "## Environment"));
	assert_true(strstr(md, "## Environment") < strstr(md, "## Reproduce"));
	free(md);
	free(html);
	summary_table_free(&sum);
	scratch_remove(&s);
}

static void test_report_warns_planted_problems(void **state)
{
	static const char *const wanted[] = {
		"invalid sample: null rawnull randwrite-4k-qd32 sample 3: kernel-warning",
		"guest log: console.log:4: ",
		"high variance, bimodal: null safenull randread-4k-qd1 iops",
		"governor is 'powersave'",
		"turbo/boost is on",
		"SMT is on",
		"irqbalance is running",
		"host kernel: tainted 'WOE' during the run",
		"tracing overhead: null:",
		"FIXTURE: synthetic data",
		"bench/twinbench run --profile nightly --families null,net --mode vm --clock icount "
		"--seed 1007",
		NULL,
	};
	char path[2 * PATH_MAX];
	struct scratch s;
	char *md;

	(void)state;
	scratch_copy(&s, "run-base");
	assert_int_equal(run_report(s.run), 0);
	snprintf(path, sizeof(path), "%s/report.md", s.run);
	md = slurp(path);
	for (const char *const *w = wanted; *w; w++)
		if (!strstr(md, *w))
			fail_msg("report.md lacks '%s'", *w);
	free(md);
	scratch_remove(&s);
}

static void test_clean_run_has_no_host_warnings(void **state)
{
	char path[2 * PATH_MAX];
	struct scratch s;
	char *md;

	(void)state;
	scratch_copy(&s, "run-same");
	assert_int_equal(run_report(s.run), 0);
	snprintf(path, sizeof(path), "%s/report.md", s.run);
	md = slurp(path);
	assert_null(strstr(md, "untuned host"));
	assert_null(strstr(md, "host kernel:"));
	assert_null(strstr(md, "guest log:"));
	/* run-same has no BPF histograms: the report says the plot was skipped. */
	assert_non_null(strstr(md, "no BPF latency histograms"));
	free(md);
	scratch_remove(&s);
}

/*
 * The by-function table under the breakdown: only driver and layer rows of the pair, the
 * largest first, the rest and the sum from the [total] rows (a known answer).
 */
static void test_pair_driver_table(void **state)
{
	static const char csv[] =
		"family,workload,baseline,candidate,function,module,class,base_insn_per_io,"
		"cand_insn_per_io,diff_insn_per_io\n"
		"null,w,rawnull,safenull-noall,[total],,driver,40.000,50.000,10.000\n"
		"null,w,rawnull,safenull-noall,[total],,layer,0.000,3.000,3.000\n"
		"null,w,rawnull,safenull-noall,[total],,core,900.000,1000.000,100.000\n"
		"null,w,rawnull,safenull-noall,f_core,vmlinux,core,10.000,60.000,50.000\n"
		"null,w,rawnull,safenull-noall,f_small,m,driver,1.000,0.800,-0.200\n"
		"null,w,rawnull,safenull-noall,f_layer,m,layer,0.000,4.000,4.000\n"
		"null,w,rawnull,safenull-noall,f_big,m,driver,20.000,28.000,8.000\n"
		"null,w,rawnull,safenull,[total],,driver,40.000,46.000,6.000\n";
	struct run_data run = { 0 };
	struct doc d = { 0 };
	char path[PATH_MAX + 32], *md = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	snprintf(run.dir, sizeof(run.dir), "/tmp/twinbench-test-pair.XXXXXX");
	assert_non_null(mkdtemp(run.dir));
	snprintf(path, sizeof(path), "%s/insn-diff.csv", run.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(csv, f);
	fclose(f);
	d.md = open_memstream(&md, &len);
	d.html = fopen("/dev/null", "w");
	assert_true(insn_pair_driver_table(&d, &run, "null", "w", "rawnull", "safenull-noall"));
	assert_false(insn_pair_driver_table(&d, &run, "null", "w", "rawnull", "safenull-nobounds"));
	fclose(d.md);
	fclose(d.html);
	assert_non_null(strstr(md, "| f_big | driver | 20.0 | 28.0 | +8.0 |"));
	assert_true(strstr(md, "| f_big |") < strstr(md, "| f_layer | layer | 0.0 | 4.0 | +4.0 |"));
	assert_null(strstr(md, "f_core"));
	assert_null(strstr(md, "| f_small |"));
	assert_non_null(strstr(md, "| the rest (1 functions) | - | - | - | +1.0 |"));
	assert_non_null(strstr(md, "| all (driver_insn_per_io) | - | - | - | +13.0 |"));
	free(md);
	unlink(path);
	rmdir(run.dir);
}

static void test_html_is_self_contained(void **state)
{
	char path[2 * PATH_MAX];
	struct scratch s;
	size_t images = 0;
	char *html;

	(void)state;
	scratch_copy(&s, "run-base");
	assert_int_equal(run_report(s.run), 0);
	snprintf(path, sizeof(path), "%s/report.html", s.run);
	html = slurp(path);
	for (const char *p = html; (p = strstr(p, "src=\"data:image/svg+xml;base64,")); p++)
		images++;
	assert_int_equal(images, 12);
	assert_null(strstr(html, "src=\"plots/"));
	assert_null(strstr(html, "<script"));
	free(html);
	scratch_remove(&s);
}

static void test_report_refuses_bad_folder(void **state)
{
	char *argv[] = { "report", "/nonexistent/run", "--plots", PLOTS_DIR, NULL };
	char *argv2[] = { "report", FIXTURES "/run-base", "--plots", "/nonexistent", NULL };

	(void)state;
	assert_int_equal(report_main(4, argv), 2);
	assert_int_equal(report_main(4, argv2), 2);
}

/* Run compare_runs and collect the lines it marked as regressions. */
static size_t compare_fixtures(const char *base, const char *cand, double pct, char **out)
{
	struct run_data b, c;
	struct compare_totals totals;
	char err[REPORT_ERR_LEN];
	size_t len = 0;
	FILE *mem = open_memstream(out, &len);

	assert_non_null(mem);
	assert_int_equal(run_load(base, RUN_NEED_SAMPLES, &b, err, sizeof(err)), 0);
	assert_int_equal(run_load(cand, RUN_NEED_SAMPLES, &c, err, sizeof(err)), 0);
	assert_int_equal(compare_runs(&b, &c, pct, false, mem, &totals, err, sizeof(err)), 0);
	fclose(mem);
	assert_true(totals.series > 50);
	assert_int_equal(totals.missing, 0);
	run_free(&b);
	run_free(&c);
	return totals.regressions;
}

static void test_compare_flags_planted_regression(void **state)
{
	char *out = NULL, *line, *save = NULL;
	size_t marked = 0;

	(void)state;
	assert_true(compare_fixtures(FIXTURES "/run-base", FIXTURES "/run-regress", 5.0, &out) > 0);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(line, "REGRESSION"))
			continue;
		marked++;
		if (!strstr(line, " safenull ") || !strstr(line, " randread-4k-qd32 "))
			fail_msg("regression outside the planted series: %s", line);
	}
	assert_true(marked >= 1);
	free(out);
	out = NULL;
	/* Above the planted 10 % drop the same data is no regression. */
	assert_int_equal(compare_fixtures(FIXTURES "/run-base", FIXTURES "/run-regress", 15.0,
					  &out), 0);
	free(out);
}

static void test_compare_ignores_planted_non_change(void **state)
{
	char *out = NULL;

	(void)state;
	assert_int_equal(compare_fixtures(FIXTURES "/run-base", FIXTURES "/run-same", 5.0, &out),
			 0);
	assert_null(strstr(out, "REGRESSION"));
	free(out);
}

static void test_regression_direction(void **state)
{
	const double base[] = { 100, 101, 99, 100, 100.5 };
	const double lower[] = { 90, 91, 89, 90, 90.5 };
	const struct series sb = { base, NULL, 5 }, sl = { lower, NULL, 5 };
	const struct series none = { lower, NULL, 0 };
	struct regression_check rc;

	(void)state;
	/* Fewer IOPS is a regression; less latency is an improvement. */
	assert_int_equal(regression_judge(&sb, &sl, "iops", 5.0, &rc), 0);
	assert_true(rc.regressed);
	assert_false(rc.improved);
	assert_int_equal(regression_judge(&sb, &sl, "lat_p99", 5.0, &rc), 0);
	assert_false(rc.regressed);
	assert_true(rc.improved);
	assert_int_equal(regression_judge(&sb, &none, "iops", 5.0, &rc), -1);
	/* a 10 % drop is not beyond a 15 % threshold: the interval must clear the margin */
	assert_int_equal(regression_judge(&sb, &sl, "iops", 15.0, &rc), 0);
	assert_false(rc.regressed);
}

/*
 * Missing data is never "no regression": a series whose candidate samples are all
 * invalid is counted (compare exits 2 on it), and series of one run only are listed.
 */
static void test_compare_missing_data(void **state)
{
	struct run_data b, c;
	struct compare_totals totals;
	char err[REPORT_ERR_LEN], *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);

	(void)state;
	assert_int_equal(run_load(FIXTURES "/run-base", RUN_NEED_SAMPLES, &b, err, sizeof(err)),
			 0);
	assert_int_equal(run_load(FIXTURES "/run-same", RUN_NEED_SAMPLES, &c, err, sizeof(err)),
			 0);
	for (size_t i = 0; i < c.samples.n; i++) {
		struct sample_row *r = &c.samples.rows[i];

		if (!strcmp(r->arm, "safenull") && !strcmp(r->workload, "randread-4k-qd32"))
			r->valid = false;
		if (!strcmp(r->arm, "rawnull") && !strcmp(r->workload, "randread-64k-qd32"))
			snprintf(r->arm, sizeof(r->arm), "rawnull2");
	}
	assert_int_equal(compare_runs(&b, &c, 5.0, false, mem, &totals, err, sizeof(err)), 0);
	fclose(mem);
	/* the key metrics of the invalidated series: iops bw lat_p50 lat_p99 cpu_ns_per_io */
	assert_int_equal(totals.missing, 5);
	/* the renamed series: in the base run only, and in the candidate only */
	assert_int_equal(totals.one_sided, 10);
	assert_non_null(strstr(out, "only in the candidate run: null rawnull2 randread-64k-qd32"));
	assert_non_null(strstr(out, "NO VALID SAMPLES (5 base, 0 cand)"));
	assert_int_equal(totals.regressions, 0);
	free(out);
	run_free(&b);
	run_free(&c);
}

static void test_relative_path(void **state)
{
	char out[PATH_MAX];

	(void)state;
	assert_int_equal(relative_path("/tmp", "/tmp", out, sizeof(out)), 0);
	assert_string_equal(out, ".");
	assert_int_equal(relative_path("/usr/share", "/usr/bin", out, sizeof(out)), 0);
	assert_string_equal(out, "../bin");
	assert_int_equal(relative_path("/usr", "/usr/share/doc", out, sizeof(out)), 0);
	assert_string_equal(out, "share/doc");
	assert_int_equal(relative_path("/usr/share/doc", "/usr", out, sizeof(out)), 0);
	assert_string_equal(out, "../..");
	assert_int_equal(relative_path("/nonexistent-dir", "/usr", out, sizeof(out)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_plot_renders),
		cmocka_unit_test(test_report_has_summary_numbers),
		cmocka_unit_test(test_report_warns_planted_problems),
		cmocka_unit_test(test_clean_run_has_no_host_warnings),
		cmocka_unit_test(test_pair_driver_table),
		cmocka_unit_test(test_html_is_self_contained),
		cmocka_unit_test(test_report_refuses_bad_folder),
		cmocka_unit_test(test_compare_flags_planted_regression),
		cmocka_unit_test(test_compare_ignores_planted_non_change),
		cmocka_unit_test(test_regression_direction),
		cmocka_unit_test(test_compare_missing_data),
		cmocka_unit_test(test_relative_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
