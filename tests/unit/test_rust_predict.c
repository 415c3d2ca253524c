// SPDX-License-Identifier: GPL-2.0
/*
 * test_rust_predict.c - the Rust side of the instruction profiles and the report section
 * "Does the C layer predict Rust?", on the hand-made run folder tests/fixtures/run-rust:
 * which Rust functions count as driver and which as layer, and the section's ratios,
 * overhead difference and intervals against values worked out by hand (see the fixture's
 * numbers in each test).
 */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "insn.h"
#include "report_insn.h"
#include "report_run.h"
#include "results.h"

static char scratch[] = "/tmp/test_rust_predict-XXXXXX";
static char run[sizeof(scratch) + 16];

/* A copy of the fixture with its instruction metrics merged, as `twinbench insn` does. */
static int setup(void **state)
{
	struct sample_table t = { 0 };
	char cmd[512], path[512], err[256];

	(void)state;
	strcpy(scratch, "/tmp/test_rust_predict-XXXXXX");
	if (!mkdtemp(scratch))
		return -1;
	snprintf(run, sizeof(run), "%s/run-rust", scratch);
	snprintf(cmd, sizeof(cmd), "cp -r '%s/run-rust' '%s/'", FIXTURES, scratch);
	if (system(cmd))
		return -1;
	snprintf(path, sizeof(path), "%s/samples.csv", run);
	if (results_load_samples(path, &t, err, sizeof(err)) ||
	    insn_merge(run, &t, err, sizeof(err)) != 6 ||
	    results_write_samples(path, &t, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", __func__, err);
		sample_table_free(&t);
		return -1;
	}
	sample_table_free(&t);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	return system(cmd);
}

static char *slurp(const char *name)
{
	char path[512], *buf = NULL;
	size_t len = 0;
	FILE *f, *out = open_memstream(&buf, &len);
	int c;

	snprintf(path, sizeof(path), "%s/%s", run, name);
	f = fopen(path, "r");
	assert_non_null(f);
	while ((c = fgetc(f)) != EOF)
		fputc(c, out);
	fclose(f);
	fclose(out);
	return buf;
}

/*
 * The Rust arm's own functions are driver, its local layer (a `layer` path), the kernel
 * crate and rust_helper_* are layer; for the raw C arm the same rust_helper_ stays kernel.
 */
static void test_rust_attribution(void **state)
{
	char *csv = slurp("insn-functions.csv");

	(void)state;
	assert_non_null(strstr(csv, ",_RNvCs1a_8rustnull17rustnull_transfer,rustnull,driver,"
			       "10.480,"));
	assert_non_null(strstr(csv, "E17queue_rq_callbackB8_,rustnull,layer,12.000,"));
	assert_non_null(strstr(csv, "10Operations8queue_rq,rustnull,driver,2.000,"));
	assert_non_null(strstr(csv, "rustnull,rr,5,rust_helper_blk_mq_rq_to_pdu,,layer,5.000,"));
	assert_non_null(strstr(csv, "6kernel5block2mq6tag_id,,layer,1.000,"));
	assert_non_null(strstr(csv, "rawnull,rr,4,rust_helper_blk_mq_rq_to_pdu,,kernel,1.000,"));
	assert_non_null(strstr(csv, "safenull,rr,4,safe_check,safenull,layer,4.000,"));
	free(csv);
}

/* The Rust arm minus the safe twin by class: driver 12.48 - 20.384, layer 18 - 4. */
static void test_rust_minus_safe_diff(void **state)
{
	char *csv = slurp("insn-diff.csv");

	(void)state;
	assert_non_null(strstr(csv, "null,rr,safenull,rustnull,[total],,driver,20.384,12.480,"
			       "-7.904\n"));
	assert_non_null(strstr(csv, "null,rr,safenull,rustnull,[total],,layer,4.000,18.000,"
			       "14.000\n"));
	assert_non_null(strstr(csv, "null,rr,rawnull,safenull,[total],,layer,0.000,4.000,"
			       "4.000\n"));
	free(csv);
}

#define near(x, y) assert_true(fabs((x) - (y)) < 1e-4 * fmax(1, fabs(y)))

/*
 * By hand. Whole path per I/O: raw {100, 103.2}, safe {110, 113.52}, rust {125, 129}; each
 * arm's second sample is 1.032 times its first, so the logs of every arm have the variance
 * v = ln(1.032)^2 / 2, Welch's degrees of freedom are 2 (t = 4.302653) and the log interval
 * is +-t * sqrt(v / 2 + v / 2) = +-0.0958321: rust/raw = 1.25 [1.135770, 1.375719] and
 * safe/raw = 1.1 [0.999478, 1.210632]. Driver plus layer: raw {20, 20.64}, safe
 * {24, 24.768}, rust {30, 30.96}: 1.5 [1.362924, 1.650862], 1.2 [1.090339, 1.320690].
 * The overheads' difference is rust - safe, with the overhead breakdown's Welch interval
 * (ablation_combine(): degrees of freedom rounded down): whole path 127 - 111.76 = 15.24,
 * variances 8 and 6.1952, se = sqrt(7.0976) = 2.664132, df = 7.0976^2 / (4^2 + 3.0976^2)
 * = 1.968 -> 1, t = 12.7062: [-18.6105, 49.0905]; driver plus layer 30.48 - 24.384 =
 * 6.096, variances 0.4608 and 0.294912, se = 0.614700: [-1.71447, 13.90647].
 */
static void test_section_numbers(void **state)
{
	struct run_data rd;
	struct rust_predict *rows;
	char err[256];
	size_t n;

	(void)state;
	assert_int_equal(run_load(run, RUN_NEED_SAMPLES, &rd, err, sizeof(err)), 0);
	n = rust_predict_rows(&rd, &rows);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].rust, "rustnull");
	assert_string_equal(rows[0].safe, "safenull");
	assert_string_equal(rows[0].raw, "rawnull");
	assert_string_equal(rust_predict_metric(0), "insn_per_io");
	assert_string_equal(rust_predict_metric(1), "driver_insn_per_io");
	assert_true(rows[0].m[0].have && rows[0].m[1].have);
	near(rows[0].m[0].raw, 101.6);
	near(rows[0].m[0].safe, 111.76);
	near(rows[0].m[0].rust, 127.0);
	near(rows[0].m[0].rust_raw.ratio, 1.25);
	near(rows[0].m[0].rust_raw.ci_low, 1.135770);
	near(rows[0].m[0].rust_raw.ci_high, 1.375719);
	near(rows[0].m[0].safe_raw.ratio, 1.1);
	near(rows[0].m[0].safe_raw.ci_low, 0.999478);
	near(rows[0].m[0].safe_raw.ci_high, 1.210632);
	near(rows[0].m[0].gap.value, 15.24);
	near(rows[0].m[0].gap.lo, -18.6105);
	near(rows[0].m[0].gap.hi, 49.0905);
	near(rows[0].m[1].rust_raw.ratio, 1.5);
	near(rows[0].m[1].rust_raw.ci_low, 1.362924);
	near(rows[0].m[1].rust_raw.ci_high, 1.650862);
	near(rows[0].m[1].safe_raw.ratio, 1.2);
	near(rows[0].m[1].safe_raw.ci_low, 1.090339);
	near(rows[0].m[1].safe_raw.ci_high, 1.320690);
	near(rows[0].m[1].gap.value, 6.096);
	near(rows[0].m[1].gap.lo, -1.71447);
	near(rows[0].m[1].gap.hi, 13.90647);
	free(rows);
	run_free(&rd);
}

/* The rendered section: its table row and the largest Rust-minus-safe function. */
static void test_section_text(void **state)
{
	struct run_data rd;
	char err[256], *md = NULL, *html = NULL;
	size_t md_len = 0, html_len = 0;
	struct doc d = { 0 };

	(void)state;
	assert_int_equal(run_load(run, RUN_NEED_SAMPLES, &rd, err, sizeof(err)), 0);
	d.md = open_memstream(&md, &md_len);
	d.html = open_memstream(&html, &html_len);
	section_rust_predict(&d, &rd);
	fclose(d.md);
	fclose(d.html);
	assert_non_null(strstr(md, "## Does the C layer predict Rust?"));
	assert_non_null(strstr(md, "| null | rr | rustnull | insn_per_io | 101.6 | 111.8 | 127.0 | "
			       "1.1000 [0.9995, 1.2106] | 1.2500 [1.1358, 1.3757] | "
			       "+15.2 [-18.6, +49.1] |"));
	assert_non_null(strstr(md, "| safenull_mq_queue_rq_adapter | safenull | driver | -20.4 |"));
	free(md);
	free(html);
	run_free(&rd);
}

/* A run without a Rust arm has no section and no rows. */
static void test_no_rust_arm(void **state)
{
	struct run_data rd;
	struct rust_predict *rows;
	char err[256], *md = NULL;
	size_t len = 0;
	struct doc d = { 0 };

	(void)state;
	assert_int_equal(run_load(FIXTURES "/run-base", RUN_NEED_SAMPLES, &rd, err, sizeof(err)),
			 0);
	assert_int_equal(rust_predict_rows(&rd, &rows), 0);
	assert_null(rows);
	d.md = open_memstream(&md, &len);
	d.html = fopen("/dev/null", "w");
	section_rust_predict(&d, &rd);
	fclose(d.md);
	fclose(d.html);
	assert_int_equal(len, 0);
	free(md);
	run_free(&rd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rust_attribution),
		cmocka_unit_test(test_rust_minus_safe_diff),
		cmocka_unit_test(test_section_numbers),
		cmocka_unit_test(test_section_text),
		cmocka_unit_test(test_no_rust_arm),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
