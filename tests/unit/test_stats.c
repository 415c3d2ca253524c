// SPDX-License-Identifier: GPL-2.0
/*
 * test_stats.c - the statistics behind every verdict against answers worked
 * out by hand, samples drawn from known distributions, and a bimodal set.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "stats.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void assert_close(double got, double want, double tol)
{
	if (fabs(got - want) > tol)
		fail_msg("got %.10g, want %.10g (tolerance %g)", got, want, tol);
}

/* Normal deviates by Box-Muller from the seeded generator. */
static void draw_normal(struct rng *r, double mean, double sd, double *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double u1 = (rng_next(r) >> 11) * 0x1.0p-53;
		double u2 = (rng_next(r) >> 11) * 0x1.0p-53;

		if (u1 <= 0)
			u1 = 0x1.0p-53;
		x[i] = mean + sd * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
	}
}

static void test_describe_hand(void **state)
{
	const double x[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
	struct sample_stats s;

	(void)state;
	stats_describe(x, N_OF(x), &s);
	assert_int_equal(s.n, 8);
	assert_close(s.mean, 5, 1e-12);
	assert_close(s.median, 4.5, 1e-12);
	assert_close(s.sd, sqrt(32.0 / 7), 1e-12);
	assert_close(s.cv, sqrt(32.0 / 7) / 5, 1e-12);
	assert_close(s.min, 2, 0);
	assert_close(s.max, 9, 0);
	assert_false(s.bimodal);
}

static void test_describe_edges(void **state)
{
	const double one = 42;
	struct sample_stats s;

	(void)state;
	stats_describe(NULL, 0, &s);
	assert_true(isnan(s.mean));
	stats_describe(&one, 1, &s);
	assert_close(s.mean, 42, 0);
	assert_close(s.median, 42, 0);
	assert_close(s.sd, 0, 0);
	assert_true(isnan(s.bimodality_coef));
}

static void test_quantile(void **state)
{
	const double x[] = { 1, 2, 3, 4 };

	(void)state;
	assert_close(stats_quantile(x, 4, 0.5), 2.5, 1e-12);
	assert_close(stats_quantile(x, 4, 0.25), 1.75, 1e-12);
	assert_close(stats_quantile(x, 4, 1), 4, 0);
	assert_close(stats_quantile(x, 4, 0), 1, 0);
}

/* {1,2,3,4,10}: m2 = 10, m3 = 36, m4 = 278.8, BC = (1.296 + 1) / 2.788 (by hand). */
static void test_bimodality_coef_hand(void **state)
{
	const double x[] = { 1, 2, 3, 4, 10 };

	(void)state;
	assert_close(stats_bimodality_coef(x, N_OF(x)), 2.296 / 2.788, 1e-12);
	assert_true(isnan(stats_bimodality_coef(x, 3)));
}

/* Known shapes: two equal spikes give 1, a large normal sample about 1/3. */
static void test_bimodality_coef_shapes(void **state)
{
	const double spikes[] = { 0, 0, 0, 0, 1, 1, 1, 1 };
	static double normal[20000];
	struct rng r;

	(void)state;
	assert_close(stats_bimodality_coef(spikes, N_OF(spikes)), 1, 1e-12);
	rng_seed(&r, 11);
	draw_normal(&r, 0, 1, normal, N_OF(normal));
	assert_close(stats_bimodality_coef(normal, N_OF(normal)), 1.0 / 3, 0.01);
}

static void test_bimodal_sets(void **state)
{
	const double two_levels[] = { 100, 101, 99, 100, 102, 120, 121, 119, 120, 122 };
	const double uniform[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	const double outlier[] = { 100, 101, 99, 100, 102, 101, 100, 99, 100, 150 };
	double normal[40];
	struct sample_stats s;
	struct rng r;

	(void)state;
	stats_describe(two_levels, N_OF(two_levels), &s);
	assert_true(s.bimodal);
	assert_true(s.bimodality_coef > STATS_BIMODAL_BC);
	stats_describe(uniform, N_OF(uniform), &s);
	assert_false(s.bimodal);
	stats_describe(outlier, N_OF(outlier), &s);
	assert_false(s.bimodal);
	rng_seed(&r, 7);
	draw_normal(&r, 1000, 10, normal, N_OF(normal));
	stats_describe(normal, N_OF(normal), &s);
	assert_false(s.bimodal);
}

/* Exact U: {1,2,3} vs {4,5,6}: one of C(6,3) = 20 orderings per tail -> p = 0.1. */
static void test_mann_whitney_exact(void **state)
{
	const double a3[] = { 1, 2, 3 }, b3[] = { 4, 5, 6 };
	const double a5[] = { 1, 2, 3, 4, 5 }, b5[] = { 6, 7, 8, 9, 10 };
	const double a4[] = { 1, 3, 5, 7 }, b4[] = { 2, 4, 6, 8 };
	bool exact;

	(void)state;
	assert_close(stats_mann_whitney(a3, 3, b3, 3, &exact), 0.1, 1e-12);
	assert_true(exact);
	assert_close(stats_mann_whitney(b3, 3, a3, 3, &exact), 0.1, 1e-12);
	assert_close(stats_mann_whitney(a5, 5, b5, 5, &exact), 2.0 / 252, 1e-12);
	/* U = 6 of 16; P(U <= 6) = 24/70 for m = n = 4 */
	assert_close(stats_mann_whitney(a4, 4, b4, 4, &exact), 48.0 / 70, 1e-12);
}

/*
 * Ties: {1,2,2,3} vs {2,3,4,5}: R = 12.5, U = 2.5, mu = 8,
 * sigma^2 = 16/12 * (9 - 30/56), z = (5.5 - 0.5) / sigma, p = erfc(z / sqrt 2).
 */
static void test_mann_whitney_ties(void **state)
{
	const double a[] = { 1, 2, 2, 3 }, b[] = { 2, 3, 4, 5 };
	double sigma = sqrt(16.0 / 12 * (9 - 30.0 / 56));
	bool exact;

	(void)state;
	assert_close(stats_mann_whitney(a, 4, b, 4, &exact),
		     erfc(5.0 / sigma / M_SQRT2), 1e-12);
	assert_false(exact);
	assert_close(stats_mann_whitney(a, 4, a, 4, &exact), 1.0, 1e-12);
}

static void test_compare_constant(void **state)
{
	const double base[] = { 100, 100, 100, 100, 100 };
	const double cand[] = { 110, 110, 110, 110, 110 };
	struct comparison c;

	(void)state;
	assert_int_equal(stats_compare(base, 5, cand, 5, true, 1, &c), 0);
	assert_close(c.ratio, 1.1, 1e-12);
	assert_close(c.ci_low, 1.1, 1e-12);
	assert_close(c.ci_high, 1.1, 1e-12);
	/* all tied within arms: sigma = sqrt(25/12 * (11 - 240/90)), z = 12 / sigma */
	assert_close(c.p_value, erfc(12 / sqrt(25.0 / 12 * (11 - 240.0 / 90)) / M_SQRT2), 1e-12);
	assert_int_equal(c.verdict, VERDICT_FASTER);
	assert_int_equal(stats_compare(base, 5, cand, 5, false, 1, &c), 0);
	assert_int_equal(c.verdict, VERDICT_SLOWER);
	/* three samples per arm cannot reach p < 0.05 (exact p = 0.1): no verdict */
	assert_int_equal(stats_compare((double[]){ 1, 2, 3 }, 3, (double[]){ 7, 8, 9 }, 3,
				       true, 1, &c), 0);
	assert_close(c.p_value, 0.1, 1e-12);
	assert_int_equal(c.verdict, VERDICT_SAME);
	assert_int_equal(stats_compare(base, 0, cand, 5, true, 1, &c), -1);
	assert_int_equal(stats_compare((double[]){ 0, 0 }, 2, cand, 5, true, 1, &c), -1);
}

static void test_compare_normal(void **state)
{
	double base[60], same[60], shifted[60];
	struct comparison c, again;
	struct rng r;

	(void)state;
	rng_seed(&r, 2026);
	draw_normal(&r, 1000, 10, base, 60);
	draw_normal(&r, 1000, 10, same, 60);
	draw_normal(&r, 1020, 10, shifted, 60);

	assert_int_equal(stats_compare(base, 60, shifted, 60, true, 5, &c), 0);
	assert_true(c.ci_low < 1.02 && 1.02 < c.ci_high);
	assert_true(c.ci_low > 1);
	assert_true(c.p_value < 1e-6);
	assert_false(c.exact_p);
	assert_int_equal(c.verdict, VERDICT_FASTER);
	assert_int_equal(stats_compare(base, 60, shifted, 60, false, 5, &c), 0);
	assert_int_equal(c.verdict, VERDICT_SLOWER);

	assert_int_equal(stats_compare(base, 60, same, 60, true, 5, &c), 0);
	assert_true(c.ci_low < 1 && 1 < c.ci_high);
	assert_int_equal(c.verdict, VERDICT_SAME);
	/* interval width ~ 2 * 1.96 * sqrt(2/60) * 10 / 1000 */
	assert_close(c.ci_high - c.ci_low, 2 * 1.96 * sqrt(2.0 / 60) * 0.01, 0.003);

	/* fixed seed: the same interval twice */
	assert_int_equal(stats_compare(base, 60, same, 60, true, 5, &again), 0);
	assert_close(again.ci_low, c.ci_low, 0);
	assert_close(again.ci_high, c.ci_high, 0);
}

static void test_rng(void **state)
{
	struct rng a, b;
	unsigned int seen[6] = { 0 };

	(void)state;
	rng_seed(&a, 99);
	rng_seed(&b, 99);
	for (int i = 0; i < 100; i++)
		assert_int_equal(rng_next(&a), rng_next(&b));
	for (int i = 0; i < 6000; i++)
		seen[rng_below(&a, 6)]++;
	for (int i = 0; i < 6; i++)
		assert_true(seen[i] > 850 && seen[i] < 1150);
}

static void test_verdict_names(void **state)
{
	enum verdict v;

	(void)state;
	assert_string_equal(verdict_name(VERDICT_FASTER), "faster");
	assert_int_equal(verdict_parse("slower", &v), 0);
	assert_int_equal(v, VERDICT_SLOWER);
	assert_int_equal(verdict_parse("better", &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_describe_hand),
		cmocka_unit_test(test_describe_edges),
		cmocka_unit_test(test_quantile),
		cmocka_unit_test(test_bimodality_coef_hand),
		cmocka_unit_test(test_bimodality_coef_shapes),
		cmocka_unit_test(test_bimodal_sets),
		cmocka_unit_test(test_mann_whitney_exact),
		cmocka_unit_test(test_mann_whitney_ties),
		cmocka_unit_test(test_compare_constant),
		cmocka_unit_test(test_compare_normal),
		cmocka_unit_test(test_rng),
		cmocka_unit_test(test_verdict_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
