// SPDX-License-Identifier: GPL-2.0
/*
 * test_stats.c - the statistics behind every verdict against answers worked
 * out by hand or enumerated, and simulations with fixed seeds: interval
 * coverage, the family-wise false verdict rate, boot-long levels.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "results.h"
#include "stats.h"
#include "summary.h"

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
 * Ties: {1,2,2,3} vs {2,3,4,5} have mid-ranks {1,3,3,5.5} and {3,5.5,7,8}: W = 12.5
 * against E = 18; 14 of the C(8,4) = 70 relabellings lie as far from E (enumerated).
 */
static void test_mann_whitney_ties(void **state)
{
	const double a[] = { 1, 2, 2, 3 }, b[] = { 2, 3, 4, 5 };
	bool exact;

	(void)state;
	assert_close(stats_mann_whitney(a, 4, b, 4, &exact), 14.0 / 70, 1e-12);
	assert_true(exact);
	assert_close(stats_mann_whitney(a, 4, a, 4, &exact), 1.0, 1e-12);
}

/* Constant arms (the icount clock): the exact p of 3 vs 3 is 2/20, of 4 vs 4 2/70. */
static void test_mann_whitney_constant_arms(void **state)
{
	const double a[] = { 645, 645, 645, 645 }, b[] = { 644, 644, 644, 644 };
	bool exact;

	(void)state;
	assert_close(stats_mann_whitney(a, 3, b, 3, &exact), 0.100, 1e-12);
	assert_true(exact);
	assert_close(stats_mann_whitney(a, 4, b, 4, &exact), 2.0 / 70, 1e-12);
	assert_close(2.0 / 70, 0.0286, 1e-4);
	assert_close(stats_min_p(3, 3), 0.1, 1e-12);
	assert_close(stats_min_p(4, 4), 2.0 / 70, 1e-12);
}

/* Beyond STATS_EXACT_MAX_N values the p comes from seeded relabelling, close to the exact. */
static void test_mann_whitney_monte_carlo(void **state)
{
	double a[50], b[50];
	bool exact;
	double p;

	(void)state;
	for (int i = 0; i < 50; i++) {
		a[i] = i % 7;
		b[i] = (i % 7) + (i % 3 == 0);
	}
	p = stats_mann_whitney(a, 50, b, 50, &exact);
	assert_false(exact);
	assert_true(p > 0 && p < 1);
	assert_close(stats_mann_whitney(a, 50, b, 50, &exact), p, 0);
	/* the same ranks, 40 per arm, counted exactly: the estimate agrees within its error */
	assert_close(stats_mann_whitney(a, 40, b, 40, &exact),
		     stats_mann_whitney(a, 40, b, 40, NULL), 0);
	assert_true(exact);
}

static void test_t_distribution(void **state)
{
	(void)state;
	assert_close(stats_t_quantile(0.975, 1), 12.7062047, 1e-6);
	assert_close(stats_t_quantile(0.975, 4), 2.7764451, 1e-6);
	assert_close(stats_t_quantile(0.975, 30), 2.0422725, 1e-6);
	assert_close(stats_t_quantile(0.80, 9), 0.8834039, 1e-6);
	assert_close(stats_t_cdf(0, 3), 0.5, 1e-12);
	assert_close(stats_t_cdf(-2.7764451, 4), 0.025, 1e-7);
}

/* Benjamini-Hochberg by hand: sorted 0.01 0.03 0.04 0.2 of 4, step-up minima. */
static void test_adjust_bh(void **state)
{
	const double p[] = { 0.01, 0.04, 0.03, 0.2, NAN };
	double adj[5];

	(void)state;
	stats_adjust_bh(p, 5, adj);
	assert_close(adj[0], 0.04, 1e-12);
	assert_close(adj[1], 0.04 * 4 / 3, 1e-12);
	assert_close(adj[2], 0.04 * 4 / 3, 1e-12);
	assert_close(adj[3], 0.2, 1e-12);
	assert_true(isnan(adj[4]));
}

static int compare_plain(const double *b, size_t nb, const double *c, size_t nc, bool hib,
			 double margin, struct comparison *out)
{
	return stats_compare(&(struct series){ b, NULL, nb }, &(struct series){ c, NULL, nc },
			     hib, margin, out);
}

static void test_compare_constant(void **state)
{
	const double base[] = { 100, 100, 100, 100, 100 };
	const double cand[] = { 110, 110, 110, 110, 110 };
	const double d645[] = { 645, 645, 645, 645 }, d644[] = { 644, 644, 644, 644 };
	struct comparison c;

	(void)state;
	assert_int_equal(compare_plain(base, 5, cand, 5, true, 0.01, &c), 0);
	assert_close(c.ratio, 1.1, 1e-12);
	assert_close(c.ci_low, 1.1, 1e-12);
	assert_close(c.ci_high, 1.1, 1e-12);
	assert_close(c.p_rank, 2.0 / 252, 1e-12);
	assert_true(c.exact_p);
	assert_int_equal(c.verdict, VERDICT_FASTER);
	assert_int_equal(compare_plain(base, 5, cand, 5, false, 0.01, &c), 0);
	assert_int_equal(c.verdict, VERDICT_SLOWER);
	assert_int_equal(compare_plain(base, 5, base, 5, false, 0.01, &c), 0);
	assert_int_equal(c.verdict, VERDICT_EQUIVALENT);

	/* 3 vs 3 cannot reach p < 0.05: low-n withholds the verdict */
	assert_int_equal(compare_plain(base, 3, cand, 3, true, 0.01, &c), 0);
	assert_true(c.low_n);
	assert_close(c.p_rank, 0.1, 1e-12);
	assert_int_equal(c.verdict, VERDICT_INCONCLUSIVE);

	/* one instruction in 645: equivalent within a 1 % margin, slower with margin 0 */
	assert_int_equal(compare_plain(d644, 4, d645, 4, false, 0.01, &c), 0);
	assert_int_equal(c.verdict, VERDICT_EQUIVALENT);
	assert_int_equal(compare_plain(d644, 4, d645, 4, false, 0, &c), 0);
	assert_int_equal(c.verdict, VERDICT_SLOWER);
	assert_int_equal(compare_plain(d644, 4, d644, 4, false, 0, &c), 0);
	assert_int_equal(c.verdict, VERDICT_EQUIVALENT);
}

/* Every bad value refuses the comparison: nothing, NaN, infinity, zero, negative. */
static void test_compare_bad_data(void **state)
{
	const double good[] = { 100, 101, 99, 100 };
	const double bad[][4] = {
		{ 100, NAN, 99, 100 }, { 100, INFINITY, 99, 100 }, { 100, 0, 99, 100 },
		{ 100, -5, 99, 100 },
	};
	struct comparison c;

	(void)state;
	assert_int_equal(compare_plain(good, 0, good, 4, true, 0.01, &c), -1);
	assert_int_equal(compare_plain(good, 4, good, 0, true, 0.01, &c), -1);
	for (size_t i = 0; i < N_OF(bad); i++) {
		assert_int_equal(compare_plain(good, 4, bad[i], 4, true, 0.01, &c), -1);
		assert_int_equal(compare_plain(bad[i], 4, good, 4, true, 0.01, &c), -1);
	}
}

/* A real 3 % loss with one sample ten times too high: the outlier is left out, flagged. */
static void test_compare_outlier(void **state)
{
	double base[6], cand[6];
	struct comparison c;
	struct rng r;

	(void)state;
	rng_seed(&r, 31);
	draw_normal(&r, 1000, 3, base, 6);
	draw_normal(&r, 970, 3, cand, 6);
	cand[2] *= 10;
	assert_int_equal(compare_plain(base, 6, cand, 6, true, 0.01, &c), 0);
	assert_int_equal(c.outliers, 1);
	assert_int_equal(c.verdict, VERDICT_SLOWER);
	assert_true(c.ci_high < 0.99);
}

/*
 * Coverage of the 95 % interval of the ratio, by simulation: unequal spreads (2 % and
 * 3 %), a true ratio of 1.03, 4000 runs per n; it must cover at least 93 % at the
 * profiles' sizes (the percentile bootstrap it replaces covered 85-92 % there).
 */
static void test_interval_coverage(void **state)
{
	const size_t sizes[] = { 4, 5, 10 };
	const int runs = 4000;
	struct rng r;

	(void)state;
	rng_seed(&r, 4242);
	for (size_t k = 0; k < N_OF(sizes); k++) {
		size_t n = sizes[k];
		double base[10], cand[10];
		int covered = 0;

		for (int i = 0; i < runs; i++) {
			struct comparison c;

			draw_normal(&r, 1000, 20, base, n);
			draw_normal(&r, 1030, 30.9, cand, n);
			assert_int_equal(compare_plain(base, n, cand, n, true, 0.01, &c), 0);
			covered += c.ci_low <= 1.03 && 1.03 <= c.ci_high;
		}
		print_message("interval coverage at n=%zu: %.1f %%\n", n, 100.0 * covered / runs);
		assert_true(covered >= 0.93 * runs);
	}
}

/*
 * 100 equal series per run at n = 10, margin 0 (the hardest case), 400 runs: the share of
 * runs with any faster/slower verdict after Benjamini-Hochberg must be at most 5 %.
 */
static void test_familywise_false_verdicts(void **state)
{
	enum { SERIES = 100, RUNS = 400, N = 10 };
	struct comparison c[SERIES];
	double p[SERIES], adj[SERIES], base[N], cand[N];
	int runs_with_false = 0;
	struct rng r;

	(void)state;
	rng_seed(&r, 100);
	for (int run = 0; run < RUNS; run++) {
		int any = 0;

		for (int s = 0; s < SERIES; s++) {
			draw_normal(&r, 1000, 3, base, N);
			draw_normal(&r, 1000, 3, cand, N);
			assert_int_equal(compare_plain(base, N, cand, N, true, 0, &c[s]), 0);
			p[s] = c[s].p_value;
		}
		stats_adjust_bh(p, SERIES, adj);
		for (int s = 0; s < SERIES; s++) {
			c[s].p_adjusted = adj[s];
			stats_judge(&c[s], true);
			any |= c[s].verdict == VERDICT_FASTER || c[s].verdict == VERDICT_SLOWER;
		}
		runs_with_false += any;
	}
	print_message("runs with a false verdict: %d of %d\n", runs_with_false, RUNS);
	assert_true(runs_with_false <= 0.05 * RUNS);
}

/*
 * Boots as the unit: 5 boots of 2 samples, 0.3 % noise within a boot and 2 % between
 * boots. A 2 % shift of one whole candidate boot is within the boot spread: no verdict of
 * change. Taken as 10 independent samples, the same values would be called slower.
 */
static void test_boot_shift(void **state)
{
	static const unsigned int boots[10] = { 1, 1, 2, 2, 3, 3, 4, 4, 5, 5 };
	double base[10], cand[10], level[5];
	int false_calls = 0, naive_calls = 0, real_calls = 0;
	struct rng r;

	(void)state;
	rng_seed(&r, 55);
	for (int run = 0; run < 200; run++) {
		struct comparison c;

		draw_normal(&r, 1000, 20, level, 5);
		for (int i = 0; i < 10; i++) {
			draw_normal(&r, level[i / 2], 3, &base[i], 1);
			draw_normal(&r, level[i / 2], 3, &cand[i], 1);
		}
		cand[8] *= 0.98;
		cand[9] *= 0.98;
		assert_int_equal(stats_compare(&(struct series){ base, boots, 10 },
					       &(struct series){ cand, boots, 10 }, true, 0.01,
					       &c), 0);
		assert_true(c.by_boot);
		assert_int_equal(c.units_cand, 5);
		false_calls += c.verdict == VERDICT_SLOWER || c.verdict == VERDICT_FASTER;
		if (run == 0) {
			assert_close(c.cv_within, 0.003, 0.002);
			assert_true(c.cv_between > 0.01);
		}
		/* one boot with the shift, the rest equal: the old independent-samples view */
		draw_normal(&r, 1000, 3, base, 10);
		draw_normal(&r, 1000, 3, cand, 10);
		for (int i = 5; i < 10; i++)
			base[i] *= 1.02;
		assert_int_equal(compare_plain(base, 10, cand, 10, true, 0, &c), 0);
		naive_calls += c.verdict == VERDICT_SLOWER;
		/* a real 5 % loss of every candidate boot is found through the same spread */
		draw_normal(&r, 1000, 3, level, 5);
		for (int i = 0; i < 10; i++) {
			draw_normal(&r, level[i / 2], 3, &base[i], 1);
			draw_normal(&r, level[i / 2] * 0.95, 3, &cand[i], 1);
		}
		assert_int_equal(stats_compare(&(struct series){ base, boots, 10 },
					       &(struct series){ cand, boots, 10 }, true, 0.01,
					       &c), 0);
		real_calls += c.verdict == VERDICT_SLOWER;
	}
	print_message("boot shift: %d false calls by boot, %d as samples; real loss found "
		      "%d of 200\n", false_calls, naive_calls, real_calls);
	assert_true(false_calls <= 10);
	assert_true(real_calls >= 180);
}

/*
 * Drift over five nights losing 2 % each: Mann-Kendall S = -10, and only the two
 * monotone orderings of 5! reach |S| = 10, so p = 2/120; Sen's slope is the median of
 * the ten pairwise slopes, -1.940598, times 4 over the median 96.04: -8.08 %.
 * E-divisive alone cannot see it: the best split (after night 2, statistic 6.4 on
 * 0 -2 -4 -6 -7.8) is matched by 40 of the 120 orderings.
 */
static void test_trend_and_change_point(void **state)
{
	double drift[5], flat[5] = { 100, 100.2, 99.9, 100.1, 100 };
	const double ramp[5] = { 0, -2, -4, -6, -7.8 };
	const double step[10] = { 1000, 1001, 999, 1000, 1000.5, 1000, 950, 951, 949, 950 };
	struct change_point cp;
	struct trend t;

	(void)state;
	for (int k = 0; k < 5; k++)
		drift[k] = 100 * pow(0.98, k);
	stats_trend(drift, 5, &t);
	assert_close(t.s, -10, 0);
	assert_close(t.p, 2.0 / 120, 1e-12);
	assert_close(t.change, -1.940598 * 4 / 96.04, 1e-6);
	stats_trend(flat, 5, &t);
	assert_true(t.p > 0.5);
	stats_trend(drift, 4, &t);
	assert_close(t.p, 1, 0);

	stats_change_point(ramp, 5, &cp);
	assert_int_equal(cp.at, 2);
	assert_close(cp.stat, 6.4, 1e-9);
	assert_close(cp.p, 40.0 / 120, 1e-12);
	assert_false(cp.found);
	/* a 5 % step after six nights, ten nights in all (seeded Monte Carlo) */
	stats_change_point(step, 10, &cp);
	assert_true(cp.found);
	assert_int_equal(cp.at, 6);
	assert_close(cp.stat, 236.16, 1e-6);
	assert_true(cp.p < 0.01);
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
	assert_string_equal(verdict_name(VERDICT_EQUIVALENT), "equivalent");
	assert_int_equal(verdict_parse("slower", &v), 0);
	assert_int_equal(v, VERDICT_SLOWER);
	assert_int_equal(verdict_parse("inconclusive", &v), 0);
	assert_int_equal(v, VERDICT_INCONCLUSIVE);
	/* summary.csv files of older runs said "same" for no evidence */
	assert_int_equal(verdict_parse("same", &v), 0);
	assert_int_equal(v, VERDICT_INCONCLUSIVE);
	assert_int_equal(verdict_parse("better", &v), -1);
}

/*
 * The instruction classes are secondary metrics: a run with many of them adjusts its
 * measured metrics' p values exactly as a run without them would.
 */
static void test_secondary_family(void **state)
{
	static const char *const primary[] = { "iops", "lat_p99", "insn_per_io" };
	static const double pp[] = { 0.01, 0.04, 0.03 };
	struct summary_table t = { 0 };
	double alone[3];

	(void)state;
	for (int with = 0; with < 2; with++) {
		t.n = 0;
		for (size_t i = 0; i < 3; i++) {
			struct summary_row r = { .p_value = pp[i], .ratio = 1.1,
						 .ci_low = 1.05, .ci_high = 1.15 };

			snprintf(r.metric, sizeof(r.metric), "%s", primary[i]);
			summary_table_add(&t, &r);
		}
		for (size_t i = 0; with && i < 20; i++) {
			struct summary_row r = { .p_value = 0.9, .ratio = 1, .ci_low = 0.9,
						 .ci_high = 1.1 };

			snprintf(r.metric, sizeof(r.metric), "%s",
				 i % 2 ? "atomic_per_io" : "driver_jcc_per_io");
			assert_non_null(metric_lookup(r.metric));
			assert_true(metric_lookup(r.metric)->secondary);
			summary_table_add(&t, &r);
		}
		summary_adjust(&t, 0);
		for (size_t i = 0; i < 3; i++) {
			if (!with)
				alone[i] = t.rows[i].p_adjusted;
			else
				assert_close(t.rows[i].p_adjusted, alone[i], 1e-12);
		}
	}
	assert_close(alone[0], 0.03, 1e-12);
	assert_close(t.rows[3].p_adjusted, 0.9, 1e-12);
	free(t.rows);
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
		cmocka_unit_test(test_mann_whitney_constant_arms),
		cmocka_unit_test(test_mann_whitney_monte_carlo),
		cmocka_unit_test(test_t_distribution),
		cmocka_unit_test(test_adjust_bh),
		cmocka_unit_test(test_compare_constant),
		cmocka_unit_test(test_compare_bad_data),
		cmocka_unit_test(test_compare_outlier),
		cmocka_unit_test(test_interval_coverage),
		cmocka_unit_test(test_familywise_false_verdicts),
		cmocka_unit_test(test_boot_shift),
		cmocka_unit_test(test_trend_and_change_point),
		cmocka_unit_test(test_rng),
		cmocka_unit_test(test_verdict_names),
		cmocka_unit_test(test_secondary_family),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
