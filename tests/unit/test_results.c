// SPDX-License-Identifier: GPL-2.0
/*
 * test_results.c - the run-folder tables: CSV round trips with awkward text,
 * readers refusing broken files with "file:line: message", the metric table,
 * and summary_compute on hand-made samples with known verdicts, flags and
 * queue-setting differences.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "matrix.h"
#include "results.h"
#include "summary.h"

static char tmp_path[] = "/tmp/test_results_XXXXXX";

static const char *write_tmp(const char *text)
{
	FILE *f;
	int fd;

	strcpy(tmp_path, "/tmp/test_results_XXXXXX");
	fd = mkstemp(tmp_path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return tmp_path;
}

static struct sample_row row(const char *arm, const char *workload, unsigned int sample,
			     const char *metric, double value, bool valid, const char *note)
{
	struct sample_row r = { .sample = sample, .value = value, .valid = valid };
	const struct metric_info *mi = metric_lookup(metric);

	strcpy(r.family, "null");
	strcpy(r.arm, arm);
	strcpy(r.workload, workload);
	strcpy(r.metric, metric);
	strcpy(r.unit, mi ? mi->unit : "?");
	strcpy(r.note, note);
	return r;
}

static void test_samples_round_trip(void **state)
{
	struct sample_table t = { 0 }, back = { 0 };
	struct sample_row r;
	char err[512];

	(void)state;
	r = row("rawnull", "randread-4k-qd1", 1, "iops", 57841.25, true, "");
	sample_table_add(&t, &r);
	r = row("safenull", "randread-4k-qd1", 2, "iops", NAN, false,
		"fio-failed: fio exited 1: \"x\", y\nz");
	sample_table_add(&t, &r);
	r = row("null_blk", "randread-4k-qd1", 3, "lat_p99", 1.5e-7, true, "a,b");
	sample_table_add(&t, &r);
	write_tmp("");
	assert_int_equal(results_write_samples(tmp_path, &t, err, sizeof(err)), 0);
	assert_int_equal(results_load_samples(tmp_path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 3);
	assert_string_equal(back.rows[0].arm, "rawnull");
	assert_true(back.rows[0].value == 57841.25);
	assert_true(back.rows[0].valid);
	assert_true(isnan(back.rows[1].value));
	assert_false(back.rows[1].valid);
	assert_string_equal(back.rows[1].note, "fio-failed: fio exited 1: \"x\", y\nz");
	assert_int_equal(back.rows[1].sample, 2);
	assert_true(back.rows[2].value == 1.5e-7);
	assert_string_equal(back.rows[2].note, "a,b");
	assert_string_equal(back.rows[2].unit, "ns");
	/* readers append */
	assert_int_equal(results_load_samples(tmp_path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 6);
	unlink(tmp_path);
	sample_table_free(&t);
	sample_table_free(&back);
}

static void expect_load_error(const char *text, int line, const char *message)
{
	struct sample_table t = { 0 };
	char err[512], want[600];

	write_tmp(text);
	assert_int_equal(results_load_samples(tmp_path, &t, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:%d: %s", tmp_path, line, message);
	if (strcmp(err, want))
		fail_msg("got  %s\nwant %s", err, want);
	unlink(tmp_path);
	sample_table_free(&t);
}

#define HEADER "family,arm,workload,sample,metric,value,unit,valid,note\n"

static void test_broken_samples(void **state)
{
	(void)state;
	expect_load_error("", 1, "empty file, expected a header");
	expect_load_error("family,arms,workload,sample,metric,value,unit,valid,note\n", 1,
			  "header column 2 is 'arms', expected 'arm'");
	expect_load_error(HEADER "null,rawnull,w,1,iops,12,IO/s,1\n", 2,
			  "8 columns, expected 9");
	expect_load_error(HEADER "null,rawnull,w,1,iops,12,IO/s,1,\nnull,rawnull,w,1,iops,abc,"
			  "IO/s,1,\n", 3, "column value: bad value 'abc'");
	expect_load_error(HEADER "null,rawnull,w,-1,iops,12,IO/s,1,\n", 2,
			  "column sample: bad value '-1'");
	expect_load_error(HEADER "null,rawnull,w,1,iops,12,IO/s,yes,\n", 2,
			  "column valid: bad value 'yes'");
	expect_load_error(HEADER "null,rawnull,w,1,iops,12,IO/s,1,\"open\n", 2,
			  "error parsing data while strict checking enabled");
	/* bad values of valid samples: refused with file:line, before any statistics */
	expect_load_error(HEADER "null,rawnull,w,1,iops,12,IO/s,1,\nnull,rawnull,w,2,iops,nan,"
			  "IO/s,1,\n", 3, "iops: value nan is not finite (mark the sample invalid instead)");
	expect_load_error(HEADER "null,rawnull,w,1,iops,inf,IO/s,1,\n", 2,
			  "iops: value inf is not finite (mark the sample invalid instead)");
	expect_load_error(HEADER "null,rawnull,w,1,iops,0,IO/s,1,\n", 2,
			  "iops: value 0 of a rate or time must be positive (mark the sample "
			  "invalid instead)");
	expect_load_error(HEADER "null,rawnull,w,1,lat_p99,-3,ns,1,\n", 2,
			  "lat_p99: value -3 of a rate or time must be positive (mark the "
			  "sample invalid instead)");
	expect_load_error("family,arm,workload,sample,boot,metric,value,unit,valid\n", 1,
			  "header lacks column 'note'");
}

/* The boot column is read when present, and absent in files older than it. */
static void test_samples_boot_column(void **state)
{
	struct sample_table t = { 0 };
	char err[512];

	(void)state;
	write_tmp("family,arm,workload,sample,boot,metric,value,unit,valid,note\n"
		  "null,rawnull,w,1,2,iops,12,IO/s,1,\n"
		  "null,rawnull,w,2,3,irqs_per_io,0,irq,1,\n"
		  "null,rawnull,w,3,3,iops,nan,IO/s,0,kernel-warning\n");
	assert_int_equal(results_load_samples(tmp_path, &t, err, sizeof(err)), 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.rows[0].boot, 2);
	assert_int_equal(t.rows[1].boot, 3);
	/* a count may be 0; an invalid sample may hold anything */
	assert_true(t.rows[1].value == 0);
	sample_table_free(&t);
	write_tmp(HEADER "null,rawnull,w,1,iops,12,IO/s,1,\n");
	assert_int_equal(results_load_samples(tmp_path, &t, err, sizeof(err)), 0);
	assert_int_equal(t.rows[0].boot, 0);
	unlink(tmp_path);
	sample_table_free(&t);
}

static void test_summary_round_trip(void **state)
{
	struct summary_table t = { 0 }, back = { 0 };
	struct summary_row r = { .n_base = 5, .n_cand = 4, .mean_base = 100, .mean_cand = 99,
				 .ratio = 0.99, .ci_low = 0.98, .ci_high = 1.001,
				 .p_value = 0.03, .verdict = VERDICT_SLOWER };
	char err[512];

	(void)state;
	strcpy(r.family, "null");
	strcpy(r.workload, "randread-4k-qd1");
	strcpy(r.metric, "iops");
	strcpy(r.baseline, "rawnull");
	strcpy(r.candidate, "safenull");
	strcpy(r.flags, "high-cv;low-n");
	strcpy(r.settings_diff, "scheduler=none/mq-deadline");
	summary_table_add(&t, &r);
	r.ratio = NAN;
	r.verdict = VERDICT_INCONCLUSIVE;
	summary_table_add(&t, &r);
	write_tmp("");
	assert_int_equal(results_write_summary(tmp_path, &t, err, sizeof(err)), 0);
	assert_int_equal(results_load_summary(tmp_path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 2);
	assert_memory_equal(&back.rows[0], &t.rows[0], sizeof(r));
	assert_true(isnan(back.rows[1].ratio));
	assert_int_equal(back.rows[1].verdict, VERDICT_INCONCLUSIVE);
	unlink(tmp_path);
	summary_table_free(&t);
	summary_table_free(&back);
}

static void test_metric_table(void **state)
{
	static const char *const names[] = {
		"iops", "bw", "lat_p50", "lat_p99", "lat_p999", "cpu_ns_per_io", "insn_per_io",
		"irqs_per_io", "hardirq_ns_per_io", "softirq_ns_per_io", "driver_ns_per_io",
		"bpf_lat_p50", "bpf_lat_p99", "bpf_lat_p999", "tracing_overhead", "pps", "bps",
		"jitter_ms", "lost_pct", "cpu_ns_per_pkt",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!metric_lookup(names[i]))
			fail_msg("metric %s missing", names[i]);
	assert_true(metric_lookup("iops")->higher_is_better);
	assert_false(metric_lookup("lat_p99")->higher_is_better);
	assert_string_equal(metric_lookup("insn_per_io")->unit, "insn");
	assert_null(metric_lookup("speed"));
}

static const struct summary_row *find(const struct summary_table *s, const char *workload,
				      const char *metric, const char *candidate)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->rows[i].workload, workload) && !strcmp(s->rows[i].metric, metric) &&
		    !strcmp(s->rows[i].candidate, candidate))
			return &s->rows[i];
	fail_msg("no summary row %s %s %s", workload, metric, candidate);
	return NULL;
}

static void add_setting(struct settings_table *t, const char *arm, unsigned int sample,
			const char *name, const char *value)
{
	struct setting_row s = { .sample = sample };

	strcpy(s.family, "null");
	strcpy(s.arm, arm);
	strcpy(s.workload, "randread-4k-qd1");
	strcpy(s.setting, name);
	strcpy(s.value, value);
	settings_table_add(t, &s);
}

/*
 * randread-4k-qd1: null_blk iops 100 x5, rawnull 110 x5 (raw 10 % faster),
 * safenull 100/150 alternating (high CV, no verdict). Latency: rawnull higher
 * (slower). write-128k-qd16: three samples each (low-n), one invalid. All in one
 * boot, so every row says one-boot.
 */
static void test_summary_compute(void **state)
{
	struct sample_table s = { 0 };
	struct settings_table st = { 0 };
	struct summary_table sum = { 0 };
	const struct summary_row *r;
	struct matrix *m = calloc(1, sizeof(*m));
	char path[512], err[512];
	struct sample_row x;

	(void)state;
	snprintf(path, sizeof(path), "%s/matrix/good.ini", FIXTURES);
	if (matrix_load(path, m, err, sizeof(err)))
		fail_msg("%s", err);
	for (unsigned int i = 1; i <= 5; i++) {
		x = row("null_blk", "randread-4k-qd1", i, "iops", 100, true, "");
		sample_table_add(&s, &x);
		x = row("rawnull", "randread-4k-qd1", i, "iops", 110, true, "");
		sample_table_add(&s, &x);
		x = row("safenull", "randread-4k-qd1", i, "iops", i % 2 ? 100 : 150, true, "");
		sample_table_add(&s, &x);
		x = row("null_blk", "randread-4k-qd1", i, "lat_p50", 1000, true, "");
		sample_table_add(&s, &x);
		x = row("rawnull", "randread-4k-qd1", i, "lat_p50", 1100, true, "");
		sample_table_add(&s, &x);
		add_setting(&st, "null_blk", i, "scheduler", "none");
		add_setting(&st, "rawnull", i, "scheduler", i == 5 ? "mq-deadline" : "none");
		add_setting(&st, "null_blk", i, "srcversion", "AAAA");
		add_setting(&st, "rawnull", i, "srcversion", "BBBB");
		add_setting(&st, "null_blk", i, "iostats", "0");
		add_setting(&st, "rawnull", i, "iostats", "0");
	}
	for (unsigned int i = 1; i <= 3; i++) {
		x = row("rawnull", "write-128k-qd16", i, "iops", 50 + i / 10.0, true, "");
		sample_table_add(&s, &x);
		x = row("safenull", "write-128k-qd16", i, "iops", i == 2 ? NAN : 40 + i / 10.0,
			i != 2, i == 2 ? "kernel-warning: WARNING: CPU: 0" : "");
		sample_table_add(&s, &x);
	}
	/* two compared series lack an arm: write-128k-qd16 null_blk, safenull's lat_p50 */
	assert_int_equal(summary_compute(m, &s, &st, &sum), 2);

	r = find(&sum, "randread-4k-qd1", "iops", "rawnull");
	assert_string_equal(r->baseline, "null_blk");
	assert_int_equal(r->n_base, 5);
	assert_true(fabs(r->ratio - 1.1) < 1e-12);
	assert_true(fabs(r->ci_low - 1.1) < 1e-12 && fabs(r->ci_high - 1.1) < 1e-12);
	/* rank test exact: 2 of the C(10,5) = 252 relabellings are as extreme */
	assert_true(fabs(r->p_rank - 2.0 / 252) < 1e-12);
	/* constant arms: Welch's p is 0, and stays 0 adjusted */
	assert_true(r->p_value == 0 && r->p_adjusted == 0);
	assert_true(fabs(r->margin - 0.01) < 1e-12);
	assert_int_equal(r->units_base, 5);
	assert_int_equal(r->verdict, VERDICT_FASTER);
	assert_string_equal(r->flags, "one-boot");
	/* srcversion differs by design and is not reported; the scheduler is */
	assert_string_equal(r->settings_diff, "scheduler=none/none|mq-deadline");

	r = find(&sum, "randread-4k-qd1", "lat_p50", "rawnull");
	assert_int_equal(r->verdict, VERDICT_SLOWER);

	r = find(&sum, "randread-4k-qd1", "iops", "safenull");
	assert_string_equal(r->baseline, "rawnull");
	assert_true(fabs(r->mean_cand - 120) < 1e-12);
	assert_non_null(strstr(r->flags, "high-cv"));

	r = find(&sum, "write-128k-qd16", "iops", "safenull");
	assert_int_equal(r->n_base, 3);
	assert_int_equal(r->n_cand, 2);
	assert_int_equal(r->verdict, VERDICT_INCONCLUSIVE);
	assert_string_equal(r->flags, "one-boot;low-n;invalid-samples");

	r = find(&sum, "write-128k-qd16", "iops", "rawnull");
	assert_int_equal(r->n_base, 0);
	assert_true(isnan(r->ratio));
	assert_string_equal(r->flags, "missing-arm;low-n");

	summary_table_free(&sum);
	sample_table_free(&s);
	settings_table_free(&st);
	free(m);
}

/*
 * Boots as the unit: 5 boots of 2 samples. The boot levels (2 % apart) hit both arms
 * alike; safenull is 5 % slower in every boot; rawnull vs null_blk differs only in one
 * rawnull boot, by 2 %, within the boot-to-boot spread: no verdict of change.
 */
static void test_summary_boots(void **state)
{
	static const double level[5] = { 1000, 1020, 990, 1010, 980 };
	struct sample_table s = { 0 };
	struct settings_table st = { 0 };
	struct summary_table sum = { 0 };
	const struct summary_row *r;
	struct matrix *m = calloc(1, sizeof(*m));
	char path[512], err[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/matrix/good.ini", FIXTURES);
	if (matrix_load(path, m, err, sizeof(err)))
		fail_msg("%s", err);
	for (unsigned int i = 0; i < 10; i++) {
		double v = level[i / 2] + (i % 2 ? 1 : -1);
		struct sample_row x;

		x = row("null_blk", "randread-4k-qd1", i + 1, "iops", v, true, "");
		x.boot = i / 2 + 1;
		sample_table_add(&s, &x);
		x = row("rawnull", "randread-4k-qd1", i + 1, "iops", i / 2 == 4 ? v * 1.02 : v,
			true, "");
		x.boot = i / 2 + 1;
		sample_table_add(&s, &x);
		x = row("safenull", "randread-4k-qd1", i + 1, "iops", v * 1.02 * 0.95, true, "");
		x.boot = i / 2 + 1;
		sample_table_add(&s, &x);
	}
	assert_int_equal(summary_compute(m, &s, &st, &sum), 0);
	r = find(&sum, "randread-4k-qd1", "iops", "rawnull");
	assert_int_equal(r->units_base, 5);
	assert_int_equal(r->units_cand, 5);
	assert_null(strstr(r->flags, "one-boot"));
	assert_true(r->cv_between > 0.01);
	assert_true(r->cv_within < 0.002);
	assert_true(r->verdict != VERDICT_FASTER && r->verdict != VERDICT_SLOWER);
	r = find(&sum, "randread-4k-qd1", "iops", "safenull");
	assert_int_equal(r->verdict, VERDICT_SLOWER);
	assert_true(r->mdd > 0.01);
	summary_table_free(&sum);
	sample_table_free(&s);
	settings_table_free(&st);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples_round_trip),
		cmocka_unit_test(test_broken_samples),
		cmocka_unit_test(test_samples_boot_column),
		cmocka_unit_test(test_summary_round_trip),
		cmocka_unit_test(test_metric_table),
		cmocka_unit_test(test_summary_compute),
		cmocka_unit_test(test_summary_boots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
