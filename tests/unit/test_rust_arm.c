// SPDX-License-Identifier: GPL-2.0
/*
 * test_rust_arm.c - the rust arm of the null family (rnull) in the matrix, plan and
 * summary: its role and default comparison against null_blk beside safe vs raw, the
 * rust profile matching the other arms to rnull's fixed device, and the workloads rnull
 * cannot serve (blocks below 4096 bytes, a span past 4 GiB) left out of the plan and the
 * summary, with their reasons.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "family.h"
#include "matrix.h"
#include "plan.h"
#include "summary.h"

static struct matrix m;

static void load(const char *path)
{
	char err[512];

	if (matrix_load(path, &m, err, sizeof(err)))
		fail_msg("%s", err);
}

static void load_fixture(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/matrix/%s", FIXTURES, name);
	load(path);
}

static bool has_pair(const struct matrix_family *f, const char *base, const char *cand)
{
	for (size_t i = 0; i < f->n_pairs; i++)
		if (!strcmp(f->pairs[i].baseline, base) && !strcmp(f->pairs[i].candidate, cand))
			return true;
	return false;
}

static size_t plan_count(const struct plan *p, const char *arm, const char *workload)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += !strcmp(p->entries[i].arm, arm) &&
		     (!workload || !strcmp(p->entries[i].workload, workload));
	return n;
}

static void test_rnull_arm(void **state)
{
	const struct family_ops *ops = family_find("null");
	const struct family_arm *a;

	(void)state;
	assert_non_null(ops);
	a = family_find_arm(ops, "rnull");
	assert_non_null(a);
	assert_int_equal(a->role, ARM_RUST);
	assert_string_equal(a->module, "rnull_mod");
	assert_string_equal(a->device, "/dev/rnullb%d");
	assert_true(a->no_params);
	assert_false(family_find_arm(ops, "rawnull")->no_params);
}

static void test_rust_profile(void **state)
{
	static const char *const matched[] = {
		"submit_queues=1", "hw_queue_depth=256", "bs=4096", "gb=4", "irqmode=0",
		"memory_backed=0",
	};
	char path[512];
	struct plan p;

	(void)state;
	snprintf(path, sizeof(path), "%s/../../bench/profiles/rust.ini", FIXTURES);
	load(path);
	assert_int_equal(m.families[0].n_arms, 4);
	for (size_t i = 0; i < sizeof(matched) / sizeof(matched[0]); i++)
		assert_non_null(strstr(m.families[0].params, matched[i]));
	assert_true(has_pair(&m.families[0], "null_blk", "rnull"));
	assert_true(has_pair(&m.families[0], "rawnull", "safenull"));
	assert_true(has_pair(&m.families[0], "null_blk", "rawnull"));
	/* a Rust arm is also compared with the raw and the safe twin */
	assert_true(has_pair(&m.families[0], "rawnull", "rnull"));
	assert_true(has_pair(&m.families[0], "safenull", "rnull"));
	assert_int_equal(m.families[0].n_pairs, 5);
	assert_non_null(matrix_workload_by_name(&m, "randread-4k-qd1"));
	assert_non_null(matrix_workload_by_name(&m, "randread-4k-qd32"));
	plan_build(&m, 7, &p);
	/* rnull serves every workload of its own profile: nothing skipped */
	assert_int_equal(p.n, 4 * 2 * m.samples);
	assert_int_equal(plan_count(&p, "rnull", NULL), 2 * m.samples);
	plan_free(&p);
}

static void test_skips(void **state)
{
	const struct family_ops *ops;
	char why[256];
	struct plan p;

	(void)state;
	load_fixture("rust-skips.ini");
	ops = m.families[0].ops;
	assert_false(family_arm_serves(ops, "rnull", &m,
				       matrix_workload_by_name(&m, "randread-512b-qd32"), why,
				       sizeof(why)));
	assert_non_null(strstr(why, "4096-byte blocks"));
	assert_false(family_arm_serves(ops, "rnull", &m,
				       matrix_workload_by_name(&m, "read-128k-qd8"), why,
				       sizeof(why)));
	assert_non_null(strstr(why, "span more than"));
	assert_true(family_arm_serves(ops, "rnull", &m,
				      matrix_workload_by_name(&m, "randread-4k-qd32"), why,
				      sizeof(why)));
	assert_string_equal(why, "");
	/* the C arms serve all three */
	for (size_t w = 0; w < m.n_workloads; w++)
		assert_true(family_arm_serves(ops, "null_blk", &m, &m.workloads[w], why,
					      sizeof(why)));

	plan_build(&m, 1, &p);
	assert_int_equal(plan_count(&p, "rnull", "randread-512b-qd32"), 0);
	assert_int_equal(plan_count(&p, "rnull", "read-128k-qd8"), 0);
	assert_int_equal(plan_count(&p, "rnull", "randread-4k-qd32"), m.samples);
	assert_int_equal(plan_count(&p, "null_blk", NULL), 3 * m.samples);
	assert_int_equal(plan_count(&p, "safenull", NULL), 3 * m.samples);
	assert_int_equal(p.n, (3 * 3 + 1) * m.samples);
	for (size_t i = 0; i < p.n; i++)
		assert_int_equal(p.entries[i].index, i + 1);
	plan_free(&p);
}

static void test_summary_leaves_out_skipped(void **state)
{
	struct sample_table samples = { 0 };
	struct settings_table settings = { 0 };
	struct summary_table sum = { 0 };
	size_t rust_4k = 0, rust_other = 0, safe_raw = 0;
	struct plan p;

	(void)state;
	load_fixture("rust-skips.ini");
	m.families[0].selected = true;
	/* every planned sample, with an IOPS value; rnull has none of the skipped workloads */
	plan_build(&m, 1, &p);
	for (size_t i = 0; i < p.n; i++) {
		struct sample_row r = { .sample = p.entries[i].sample, .valid = true,
					.value = 1000 + i };

		snprintf(r.family, sizeof(r.family), "%s", p.entries[i].family);
		snprintf(r.arm, sizeof(r.arm), "%s", p.entries[i].arm);
		snprintf(r.workload, sizeof(r.workload), "%s", p.entries[i].workload);
		snprintf(r.metric, sizeof(r.metric), "iops");
		sample_table_add(&samples, &r);
	}
	plan_free(&p);
	summary_compute(&m, &samples, &settings, &sum);
	for (size_t i = 0; i < sum.n; i++) {
		const struct summary_row *r = &sum.rows[i];

		if (!strcmp(r->candidate, "rnull"))
			*(strcmp(r->workload, "randread-4k-qd32") ? &rust_other : &rust_4k) += 1;
		safe_raw += !strcmp(r->baseline, "rawnull") && !strcmp(r->candidate, "safenull");
	}
	/*
	 * one iops row per compared pair and workload: rnull's (against null_blk, rawnull and
	 * safenull) only on the 4 KiB one, no missing-arm
	 */
	assert_int_equal(rust_4k, 3);
	assert_int_equal(rust_other, 0);
	assert_int_equal(safe_raw, 3);
	for (size_t i = 0; i < sum.n; i++)
		assert_null(strstr(sum.rows[i].flags, "missing-arm"));
	summary_table_free(&sum);
	sample_table_free(&samples);
}

static void test_explicit_compare(void **state)
{
	(void)state;
	load_fixture("rust-compare.ini");
	assert_int_equal(m.families[0].n_pairs, 1);
	assert_true(has_pair(&m.families[0], "null_blk", "rnull"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rnull_arm),
		cmocka_unit_test(test_rust_profile),
		cmocka_unit_test(test_skips),
		cmocka_unit_test(test_summary_leaves_out_skipped),
		cmocka_unit_test(test_explicit_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
