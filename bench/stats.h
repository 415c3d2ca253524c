/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stats.h - the statistics twinbench uses to judge one arm against another:
 * descriptive numbers per arm, a bootstrap confidence interval for the ratio
 * of means, the Mann-Whitney U test, a bimodality test, and the seeded random
 * generator that makes all of it (and the sample order) reproducible.
 * docs/methodology.md explains the choices.
 */
#ifndef TWINBENCH_STATS_H
#define TWINBENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Two-sided significance level of every verdict. */
#define STATS_ALPHA		0.05
/* Confidence level of the bootstrap interval. */
#define STATS_CI_LEVEL		0.95
/* Bootstrap resamples per comparison. */
#define STATS_BOOTSTRAP_ROUNDS	10000
/* Coefficient of variation above which an arm is flagged "high-cv". */
#define STATS_HIGH_CV		0.03
/* Bimodality coefficient of a uniform distribution; above it suggests two modes. */
#define STATS_BIMODAL_BC	(5.0 / 9.0)
/* Largest sample count for which the Mann-Whitney p-value is computed exactly. */
#define STATS_EXACT_MAX_N	30

/* Descriptive statistics of one arm's samples of one metric. */
struct sample_stats {
	size_t n;
	double mean, median, sd, cv, min, max;
	bool bimodal;
	double bimodality_coef;	/* NAN when n < 4 */
};

enum verdict { VERDICT_SAME, VERDICT_FASTER, VERDICT_SLOWER };

/* Candidate against baseline: ratio = mean(candidate) / mean(baseline). */
struct comparison {
	double ratio, ci_low, ci_high, p_value;
	enum verdict verdict;
	bool exact_p;		/* p-value from the exact U distribution */
};

/* Fill @out with the statistics of @x[0..n); n may be 0 (then all NAN). */
void stats_describe(const double *x, size_t n, struct sample_stats *out);

/*
 * Compare @cand against @base. The verdict is faster/slower only when the
 * bootstrap interval of the ratio excludes 1 and the Mann-Whitney p-value is
 * below STATS_ALPHA; "faster" follows @higher_is_better. Returns 0, or -1 when
 * either side is empty or the baseline mean is 0.
 */
int stats_compare(const double *base, size_t nb, const double *cand, size_t nc,
		  bool higher_is_better, uint64_t seed, struct comparison *out);

/* Two-sided Mann-Whitney U p-value; sets *exact when it was computed exactly. */
double stats_mann_whitney(const double *a, size_t na, const double *b, size_t nb, bool *exact);

/*
 * Bimodality coefficient (skewness^2 + 1) / kurtosis from population moments:
 * 1 for two equal spikes, 5/9 for a uniform, 1/3 for a normal; NAN when n < 4.
 */
double stats_bimodality_coef(const double *x, size_t n);

/* The q-quantile (0..1) of @sorted[0..n) with linear interpolation. */
double stats_quantile(const double *sorted, size_t n, double q);

const char *verdict_name(enum verdict v);
/* Parse "same", "faster" or "slower"; returns 0 or -1. */
int verdict_parse(const char *s, enum verdict *v);

/* xoshiro256** state, seeded through splitmix64: same seed, same stream. */
struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform integer in [0, bound); bound must be > 0. */
uint64_t rng_below(struct rng *r, uint64_t bound);

#endif /* TWINBENCH_STATS_H */
