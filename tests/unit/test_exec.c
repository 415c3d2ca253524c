// SPDX-License-Identifier: GPL-2.0
/*
 * test_exec.c - the executor's side that needs no module: where a sample's files go, the
 * invalid sample it (and the runner's watchdog) writes, and that a plan whose samples are
 * all there runs nothing again (an existing sample file means done).
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
#include <cmocka.h>
#include "exec.h"
#include "matrix.h"
#include "plan.h"
#include "results.h"
#include "util.h"

static char dir[64];
static struct matrix m;

static int setup(void **state)
{
	char err[512];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_exec-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return matrix_load(FIXTURES "/matrix/good.ini", &m, err, sizeof(err));
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void test_sample_path(void **state)
{
	char path[PATH_MAX];

	(void)state;
	sample_path(path, sizeof(path), "/out", "samples", 7);
	assert_string_equal(path, "/out/samples/0007.csv");
	sample_path(path, sizeof(path), "/out", "settings", 1234);
	assert_string_equal(path, "/out/settings/1234.csv");
}

/* The invalid sample: one row of the family's primary metric, not valid, with the note. */
static void test_invalid_sample(void **state)
{
	const struct plan_entry e = { .index = 3, .family = "null", .arm = "rawnull",
				      .workload = "randread-4k-qd1", .sample = 2, .boot = 1 };
	struct sample_table t = { 0 };
	char path[PATH_MAX], err[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/samples", dir);
	assert_int_equal(mkdir_p(path, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/settings", dir);
	assert_int_equal(mkdir_p(path, err, sizeof(err)), 0);
	assert_int_equal(sample_write_invalid(&m, dir, &e, "watchdog: no progress"), 0);
	sample_path(path, sizeof(path), dir, "samples", 3);
	assert_int_equal(results_load_samples(path, &t, err, sizeof(err)), 0);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.rows[0].metric, "iops");
	assert_string_equal(t.rows[0].arm, "rawnull");
	assert_int_equal(t.rows[0].sample, 2);
	assert_false(t.rows[0].valid);
	assert_string_equal(t.rows[0].note, "watchdog: no progress");
	sample_table_free(&t);
}

/* Every sample file there: exec_plan loads nothing and reports success. */
static void test_done_plan_runs_nothing(void **state)
{
	struct plan p;

	(void)state;
	plan_build(&m, 1, &p);
	assert_true(p.n > 0);
	for (size_t i = 0; i < p.n; i++)
		assert_int_equal(sample_write_invalid(&m, dir, &p.entries[i], "done before"), 0);
	assert_int_equal(exec_plan(&m, &p, dir), 0);
	plan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_path),
		cmocka_unit_test(test_invalid_sample),
		cmocka_unit_test(test_done_plan_runs_nothing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
