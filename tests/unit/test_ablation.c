// SPDX-License-Identifier: GPL-2.0
/*
 * test_ablation.c - the overhead breakdown's arithmetic (bench/ablation.h) against answers
 * worked out by hand: each mechanism's cost, the whole gap, the sum of the parts, the
 * interaction term and their Welch intervals.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "ablation.h"
#include "family.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void assert_close(double got, double want, double tol)
{
	if (fabs(got - want) > tol)
		fail_msg("got %.10g, want %.10g (tolerance %g)", got, want, tol);
}

static void set_part(struct ablation_breakdown *b, const char *mech, const double *x, size_t n)
{
	struct ablation_part *p = &b->parts[b->n_parts++];

	snprintf(p->mechanism, sizeof(p->mechanism), "%s", mech);
	ablation_group_of(x, n, &p->variant);
}

static void test_t_quantile(void **state)
{
	(void)state;
	assert_close(ablation_t975(1), 12.7062, 1e-4);
	assert_close(ablation_t975(4), 2.7764, 1e-4);
	assert_close(ablation_t975(4.9), 2.7764, 1e-4);	/* fractional df rounds down */
	assert_close(ablation_t975(40), 2.0211, 2e-4);
	assert_close(ablation_t975(1e9), 1.96, 1e-3);
	assert_true(isnan(ablation_t975(0.5)));
}

static void test_group(void **state)
{
	const double x[] = { 1, 2, 3, 4 };
	struct ablation_group g;

	(void)state;
	ablation_group_of(x, N_OF(x), &g);
	assert_int_equal(g.n, 4);
	assert_close(g.mean, 2.5, 1e-12);
	assert_close(g.var, 5.0 / 3.0, 1e-12);
	ablation_group_of(x, 1, &g);
	assert_true(isnan(g.var));
}

/* Exact counts (no spread): safe 110, raw 100, without bounds 106, without arc 107. */
static void exact_breakdown(struct ablation_breakdown *b)
{
	const double safe[] = { 110, 110, 110, 110 }, raw[] = { 100, 100, 100, 100 };
	const double nob[] = { 106, 106, 106, 106 }, noarc[] = { 107, 107, 107, 107 };

	memset(b, 0, sizeof(*b));
	ablation_group_of(safe, N_OF(safe), &b->safe);
	ablation_group_of(raw, N_OF(raw), &b->raw);
	set_part(b, "bounds", nob, N_OF(nob));
	set_part(b, "arc", noarc, N_OF(noarc));
}

/* The exact breakdown: costs 4 and 3 of a gap of 10, so 3 left as interaction. */
static void test_exact_interaction(void **state)
{
	struct ablation_breakdown b;

	(void)state;
	exact_breakdown(&b);
	assert_int_equal(ablation_compute(&b), 0);
	assert_close(b.parts[0].cost.value, 4, 1e-12);
	assert_close(b.parts[1].cost.value, 3, 1e-12);
	assert_close(b.parts[1].cost.lo, 3, 1e-12);
	assert_close(b.parts[1].cost.hi, 3, 1e-12);
	assert_close(b.gap.value, 10, 1e-12);
	assert_close(b.sum.value, 7, 1e-12);
	assert_close(b.interaction.value, 3, 1e-12);
	assert_false(b.adds_up);
}

/*
 * The exact breakdown with every mechanism out measured too (none = 101): of the interaction 3,
 * 1 is left without a switch (none - raw) and 2 is overlap ((safe - none) - sum = 9 - 7).
 * With spread on none {100, 102}: the residual's interval is none's alone (raw is a point),
 * mean 1, se^2 = 2/2, df 1, half width 12.7062, so it holds 0.
 */
static void test_none_splits_interaction(void **state)
{
	const double none[] = { 101, 101, 101, 101 }, spread[] = { 100, 102 };
	struct ablation_breakdown b;

	(void)state;
	exact_breakdown(&b);
	ablation_group_of(none, N_OF(none), &b.none);
	assert_int_equal(ablation_compute(&b), 0);
	assert_close(b.interaction.value, 3, 1e-12);
	assert_close(b.residual.value, 1, 1e-12);
	assert_close(b.overlap.value, 2, 1e-12);
	assert_close(b.overlap.lo, 2, 1e-12);
	assert_false(b.all_switched);

	ablation_group_of(spread, N_OF(spread), &b.none);
	assert_int_equal(ablation_compute(&b), 0);
	assert_close(b.residual.value, 1, 1e-12);
	assert_close(b.residual.lo, 1 - 12.7062, 1e-3);
	assert_close(b.residual.hi, 1 + 12.7062, 1e-3);
	assert_close(b.overlap.value, 2, 1e-12);
	assert_true(b.all_switched);
}

/* Parts that add up exactly: interaction 0. */
static void test_exact_additive(void **state)
{
	const double safe[] = { 110, 110 }, raw[] = { 100, 100 };
	const double v1[] = { 106, 106 }, v2[] = { 104, 104 };
	struct ablation_breakdown b;

	(void)state;
	memset(&b, 0, sizeof(b));
	ablation_group_of(safe, N_OF(safe), &b.safe);
	ablation_group_of(raw, N_OF(raw), &b.raw);
	set_part(&b, "bounds", v1, N_OF(v1));
	set_part(&b, "reqref", v2, N_OF(v2));
	assert_int_equal(ablation_compute(&b), 0);
	assert_close(b.sum.value, 10, 1e-12);
	assert_close(b.interaction.value, 0, 1e-12);
	assert_true(b.adds_up);
}

/*
 * With spread: safe {10, 12}, raw {0, 2}: gap 10, se^2 = 2/2 + 2/2 = 2, Welch df = 2,
 * t = 4.3027, half width 4.3027 * sqrt(2) = 6.0849. One variant {9, 11}: cost 1 with the
 * same interval width; sum = safe - variant = 1; interaction = gap - sum = 10 - 1 = 9, whose
 * coefficients are (1 - 1) safe - raw + variant: se^2 = 2/2 + 2/2 = 2 as well.
 */
static void test_welch_intervals(void **state)
{
	const double safe[] = { 10, 12 }, raw[] = { 0, 2 }, var[] = { 9, 11 };
	const double half = 4.3027 * sqrt(2);
	struct ablation_breakdown b;

	(void)state;
	memset(&b, 0, sizeof(b));
	ablation_group_of(safe, N_OF(safe), &b.safe);
	ablation_group_of(raw, N_OF(raw), &b.raw);
	set_part(&b, "guards", var, N_OF(var));
	assert_int_equal(ablation_compute(&b), 0);
	assert_close(b.gap.value, 10, 1e-12);
	assert_close(b.gap.lo, 10 - half, 1e-3);
	assert_close(b.gap.hi, 10 + half, 1e-3);
	assert_close(b.parts[0].cost.value, 1, 1e-12);
	assert_close(b.parts[0].cost.hi - b.parts[0].cost.lo, 2 * half, 2e-3);
	assert_close(b.sum.value, 1, 1e-12);
	assert_close(b.interaction.value, 9, 1e-12);
	assert_close(b.interaction.hi - b.interaction.lo, 2 * half, 2e-3);
	assert_false(b.adds_up);
}

/* One sample of an arm: the value stands, its interval is unknown; no samples: an error. */
static void test_unknown_spread(void **state)
{
	const double one[] = { 5 }, two[] = { 1, 3 };
	struct ablation_group g[2];
	const double coef[] = { 1, -1 };
	struct ablation_estimate e;

	(void)state;
	ablation_group_of(one, 1, &g[0]);
	ablation_group_of(two, 2, &g[1]);
	assert_int_equal(ablation_combine(g, coef, 2, &e), 0);
	assert_close(e.value, 3, 1e-12);
	assert_true(isnan(e.lo) && isnan(e.hi));
	ablation_group_of(one, 0, &g[0]);
	assert_int_equal(ablation_combine(g, coef, 2, &e), -1);
}

/* The family tables name each variant's twin and mechanism, which facts.tsv carries on. */
static void test_mechanism_names(void **state)
{
	const struct family_arm *a;

	(void)state;
	a = family_find_arm(family_find("null"), "safenull-nobounds");
	assert_non_null(a);
	assert_int_equal(a->role, ARM_VARIANT);
	assert_string_equal(a->mechanism, "bounds");
	assert_string_equal(a->twin, "safenull");
	a = family_find_arm(family_find("nvme"), "safenvme-nommio");
	assert_non_null(a);
	assert_string_equal(a->mechanism, "mmio");
	a = family_find_arm(family_find("null"), "safenull");
	assert_int_equal(a->role, ARM_SAFE);
	assert_null(a->mechanism);
	assert_null(a->twin);
	assert_null(family_find_arm(family_find("null"), "rawnull-nobounds"));
	a = family_find_arm(family_find("net"), "safenet-noall");
	assert_non_null(a);
	assert_string_equal(a->mechanism, "all");
	assert_string_equal(a->module, "safenet_noall");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_t_quantile),
		cmocka_unit_test(test_group),
		cmocka_unit_test(test_exact_interaction),
		cmocka_unit_test(test_none_splits_interaction),
		cmocka_unit_test(test_exact_additive),
		cmocka_unit_test(test_welch_intervals),
		cmocka_unit_test(test_unknown_spread),
		cmocka_unit_test(test_mechanism_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
