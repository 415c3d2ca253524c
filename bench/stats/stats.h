/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stats.h - the statistics twinbench uses to judge one arm against another:
 * descriptive numbers per arm, boots as the unit, an interval for the ratio,
 * an exact rank test, the correction across series, a three-way verdict with a
 * practical margin, and outlier and bimodality rules; its random draws come
 * from lib/rng.h, so the same seed gives the same answers.
 * docs/methodology.md explains the choices.
 */
#ifndef TWINBENCH_STATS_H
#define TWINBENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rng.h"
#include "verdict.h"

/* Two-sided significance level of every test, after the correction across series. */
#define STATS_ALPHA		0.05
/* Confidence level of every interval. */
#define STATS_CI_LEVEL		0.95
/* Power the smallest detectable difference is quoted at. */
#define STATS_POWER		0.80
/* Coefficient of variation above which an arm is flagged "high-cv". */
#define STATS_HIGH_CV		0.03
/* Bimodality coefficient of a uniform distribution; above it suggests two modes. */
#define STATS_BIMODAL_BC	(5.0 / 9.0)
/* Fewest boots per arm on whose means the bimodality flag is judged. */
#define STATS_BIMODAL_MIN_BOOTS	10
/* The rank test counts its exact permutation distribution up to this many values in all. */
#define STATS_EXACT_MAX_N	80
/* Random relabellings of the rank test beyond that, from a fixed seed. */
#define STATS_PERMUTATIONS	20000
/* Share of arms of normal noise in which the outlier rule may flag a value. */
#define STATS_OUTLIER_RATE	0.001
/* Floor of the spread the outlier rule judges by, relative to the mean (constant arms). */
#define STATS_OUTLIER_FLOOR	0.001

/* Descriptive statistics of one arm's samples of one metric. */
struct sample_stats {
	size_t n;
	double mean, median, sd, cv, min, max;
	bool bimodal;
	double bimodality_coef;	/* NAN when n < 4 */
};

/* One arm's values of one metric with the boot each came from (boot may be NULL: one boot). */
struct series {
	const double *x;
	const unsigned int *boot;
	size_t n;
};

/*
 * Candidate against baseline. The units are the per-boot means when either arm has two
 * or more boots, else the samples. ratio, its interval and p: Welch's t on the
 * logarithms of the units (a ratio of geometric means); p_rank: the exact rank test on
 * the units, which needs no distribution but cannot go below 2 / C(na + nb, na).
 */
struct comparison {
	double ratio, ci_low, ci_high;
	double p_value;		/* Welch, raw */
	double p_adjusted;	/* after stats_adjust_bh(); equal to p_value until then */
	double p_rank;		/* rank test on mid-ranks, raw */
	double margin;		/* practical margin, relative (0.01 = 1 %) */
	double mdd;		/* smallest relative difference detectable at this n */
	double cv_between;	/* spread of the boot means, pooled over both arms */
	double cv_within;	/* spread of the samples within their boots, pooled */
	size_t units_base, units_cand;
	size_t outliers;	/* samples left out by the outlier rule, both arms */
	bool by_boot, exact_p, low_n;
	enum verdict verdict;
};

/* Fill @out with the statistics of @x[0..n); n may be 0 (then all NAN). */
void stats_describe(const double *x, size_t n, struct sample_stats *out);

/*
 * Compare @cand against @base (struct comparison says how) with practical @margin;
 * "faster" follows @higher_is_better. Samples the outlier rule (stats_outliers()) marks
 * are left out and counted. Returns 0, or -1 when either side
 * has no value, or a value that is not finite and positive.
 */
int stats_compare(const struct series *base, const struct series *cand, bool higher_is_better,
		  double margin, struct comparison *out);

/* (Re)derive out->verdict from its interval, margin, low_n and p_adjusted. */
void stats_judge(struct comparison *c, bool higher_is_better);

/* Benjamini-Hochberg adjusted p-values of @p[0..n) into @adj (NAN entries stay NAN). */
void stats_adjust_bh(const double *p, size_t n, double *adj);

/*
 * Two-sided p of the rank-sum test on mid-ranks (ties allowed): the exact permutation
 * distribution up to STATS_EXACT_MAX_N values, Monte Carlo from a fixed seed beyond;
 * sets *exact when it was exact.
 */
double stats_mann_whitney(const double *a, size_t na, const double *b, size_t nb, bool *exact);

/* Smallest two-sided p the rank test can give with @na and @nb values. */
double stats_min_p(size_t na, size_t nb);

/* Student's t: distribution function and quantile with @df degrees of freedom. */
double stats_t_cdf(double t, double df);
double stats_t_quantile(double p, double df);

/*
 * Per-boot means of @s into @out (ascending boot number) and, when @labels is not NULL,
 * each one's boot number into @labels; the boots' count returned. With no boot labels,
 * one boot (numbered 0).
 */
size_t stats_boot_means(const struct series *s, double *out, unsigned int *labels);

/* Which values of @x[0..n) the outlier rule marks (into @out); returns how many. */
size_t stats_outliers(const double *x, size_t n, bool *out);

/* Fewest points a change-point test runs on (below it no split can reach STATS_ALPHA). */
#define STATS_CHANGE_MIN_N	5
/* Largest series whose every ordering the change-point test enumerates. */
#define STATS_CHANGE_EXACT_N	8

/* A change in level of a sequence: the second segment starts at index @at. */
struct change_point {
	size_t at;
	double stat;		/* the energy statistic at that split */
	double p;		/* permutation p of the largest statistic over all splits */
	bool found;		/* p < STATS_ALPHA */
};

/*
 * E-divisive means (Matteson and James 2014, energy distance with exponent 1) on
 * @x[0..n): the split maximising the divergence between the segments before and after,
 * judged by a permutation test of the maximum (every ordering up to
 * STATS_CHANGE_EXACT_N points, seeded Monte Carlo beyond). When significant, the
 * segment before it is searched again, so @out names the earliest significant change.
 */
void stats_change_point(const double *x, size_t n, struct change_point *out);

/* A monotone trend of a sequence (Mann-Kendall) and its size (Sen's slope). */
struct trend {
	double s;		/* Kendall's S: concordant minus discordant pairs */
	double p;		/* two-sided; exact by enumeration up to STATS_CHANGE_EXACT_N */
	double change;		/* Sen's slope times (n - 1), relative to the median */
};

/* Mann-Kendall trend test on @x[0..n) in index order; p = 1 below STATS_CHANGE_MIN_N. */
void stats_trend(const double *x, size_t n, struct trend *out);

/*
 * Bimodality coefficient (skewness^2 + 1) / kurtosis from population moments:
 * 1 for two equal spikes, 5/9 for a uniform, 1/3 for a normal; NAN when n < 4.
 */
double stats_bimodality_coef(const double *x, size_t n);

/* The q-quantile (0..1) of @sorted[0..n) with linear interpolation. */
double stats_quantile(const double *sorted, size_t n, double q);

#endif /* TWINBENCH_STATS_H */
