// SPDX-License-Identifier: GPL-2.0
/*
 * test_facts.c - the run folder's facts: resolved from a matrix and the family tables,
 * written and read back unchanged, and read by the report instead of names: a workload
 * named "qd32" whose iodepth is 1 is drawn at queue depth 1 on the sweep plot.
 */
#include <limits.h>
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
#include "facts.h"
#include "matrix.h"
#include "report.h"
#include "report_run.h"
#include "util.h"

#define PLOTS_DIR	FIXTURES "/../../plots"
#define PROFILES	FIXTURES "/../../bench/profiles"

static void test_resolve_ablation_profile(void **state)
{
	struct matrix *m = calloc(1, sizeof(*m));
	struct facts f;
	char err[512];
	double qd;

	(void)state;
	assert_int_equal(matrix_load(PROFILES "/ablation.ini", m, err, sizeof(err)), 0);
	facts_resolve(m, &f);
	assert_int_equal(facts_arm_role(&f, "null", "rawnull"), ARM_RAW);
	assert_int_equal(facts_arm_role(&f, "null", "safenull"), ARM_SAFE);
	assert_int_equal(facts_arm_role(&f, "null", "safenull-nobounds"), ARM_VARIANT);
	assert_string_equal(facts_arm_get(&f, "null", "safenull-nobounds", "mechanism"), "bounds");
	assert_string_equal(facts_arm_get(&f, "nvme", "safenvme-nommio", "twin"), "safenvme");
	assert_string_equal(facts_arm_get(&f, "nvme", "safenvme-nommio", "module"),
			    "safenvme_nommio");
	assert_int_equal(facts_arm_role(&f, "null", "nosucharm"), ARM_NONE);
	assert_true(facts_workload_number(&f, "null", "randread-4k-qd32", "iodepth", &qd));
	assert_true(qd == 32);
	/* a net workload has no queue depth, and a null workload is not a net one */
	assert_false(facts_workload_number(&f, "net", "udp-64b", "iodepth", &qd));
	assert_false(facts_workload_number(&f, "net", "randread-4k-qd32", "bs", &qd));
	facts_free(&f);
	free(m);
}

static void test_write_read_round_trip(void **state)
{
	char path[] = "/tmp/test_facts-XXXXXX", err[512];
	struct facts a = { 0 }, b;
	struct fact *x;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	x = facts_add(&a, FACT_WORKLOAD, "null", "w1");
	facts_set(x, "iodepth", "%d", 7);
	facts_set(x, "rw", "randread");
	x = facts_add(&a, FACT_ARM, "null", "rawnull+trace");
	facts_set(x, "role", "raw");
	facts_set(x, "traced", "1");
	assert_int_equal(facts_write(path, &a, err, sizeof(err)), 0);
	assert_int_equal(facts_read(path, &b, err, sizeof(err)), 0);
	assert_int_equal(b.n, 2);
	assert_string_equal(fact_get(facts_find(&b, FACT_WORKLOAD, "null", "w1"), "rw"),
			    "randread");
	assert_int_equal(facts_arm_role(&b, "null", "rawnull+trace"), ARM_RAW);
	assert_null(facts_find(&b, FACT_ARM, "null", "w1"));
	facts_free(&b);
	/* a damaged line is refused with its file and line */
	assert_int_equal(file_write_atomic(path, "# twinbench facts 1\narm\tnull\n", 29, err,
					   sizeof(err)), 0);
	assert_int_equal(facts_read(path, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: not a facts line"));
	facts_free(&a);
	unlink(path);
}

/* Give workload @name of the scratch run's facts.tsv queue depth @qd (sed on the copy). */
static void set_iodepth(const char *run, const char *name, int qd)
{
	char cmd[2 * PATH_MAX];

	snprintf(cmd, sizeof(cmd), "sed -i 's/^\\(workload\tnull\t%s\t.*\\)iodepth=[0-9]*/"
		 "\\1iodepth=%d/' '%s/facts.tsv'", name, qd, run);
	assert_int_equal(system(cmd), 0);
}

/* The sweep plot's points of @arm (its block of sweep-qd-null.dat) at queue depth @qd. */
static size_t points_at(const char *run, size_t block, double qd, double *mean)
{
	char path[PATH_MAX + 64], line[256];
	size_t b = 0, n = 0, blank = 0;
	double x, y, sd;
	FILE *f;

	snprintf(path, sizeof(path), "%s/plots/sweep-qd-null.dat", run);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '\n') {
			if (++blank == 2)
				b++;
			continue;
		}
		blank = 0;
		if (line[0] != '#' && b == block && sscanf(line, "%lf %lf %lf", &x, &y, &sd) == 3 &&
		    x == qd) {
			*mean = y;
			n++;
		}
	}
	fclose(f);
	return n;
}

static void test_sweep_reads_iodepth_not_name(void **state)
{
	char dir[] = "/tmp/test_facts-run-XXXXXX", run[PATH_MAX], cmd[3 * PATH_MAX];
	char *argv[] = { "report", run, "--plots", PLOTS_DIR, NULL };
	struct sample_stats st;
	struct run_data data;
	char err[512];
	double mean;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(run, sizeof(run), "%s/run-base", dir);
	snprintf(cmd, sizeof(cmd), "cp -r '%s/run-base' '%s/'", FIXTURES, dir);
	assert_int_equal(system(cmd), 0);
	/* swap the queue depths: "randread-4k-qd32" now runs at 1, "randread-4k-qd1" at 32 */
	set_iodepth(run, "randread-4k-qd32", 1);
	set_iodepth(run, "randread-4k-qd1", 32);
	assert_int_equal(report_main(4, argv), 0);
	assert_int_equal(run_load(run, RUN_NEED_SAMPLES, &data, err, sizeof(err)), 0);
	assert_true(series_describe(&data, "null", "rawnull", "randread-4k-qd32", "iops", &st));
	/* block 0 is the first arm, rawnull: its one point at QD 1 is the "qd32" workload */
	assert_int_equal(points_at(run, 0, 1, &mean), 1);
	assert_true(fabs(mean - st.mean) <= 1e-6 * st.mean);
	assert_true(series_describe(&data, "null", "rawnull", "randread-4k-qd1", "iops", &st));
	assert_int_equal(points_at(run, 0, 32, &mean), 1);
	assert_true(fabs(mean - st.mean) <= 1e-6 * st.mean);
	run_free(&data);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_ablation_profile),
		cmocka_unit_test(test_write_read_round_trip),
		cmocka_unit_test(test_sweep_reads_iodepth_not_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
