// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - descriptive statistics, bootstrap ratio intervals, the
 * Mann-Whitney U test and the bimodality test behind every twinbench verdict.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "stats.h"

/* Minimum separation, in pooled within-group standard deviations, of two modes. */
#define BIMODAL_MIN_SEPARATION	4.0
/* Minimum samples for the bimodality test, and per mode. */
#define BIMODAL_MIN_N		5
#define BIMODAL_MIN_GROUP	2

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double *sorted_copy(const double *x, size_t n)
{
	double *s = malloc((n ? n : 1) * sizeof(*s));

	if (!s)
		abort();
	memcpy(s, x, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return s;
}

static double mean_of(const double *x, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += x[i];
	return sum / n;
}

static double sum_sq_dev(const double *x, size_t n, double mean)
{
	double ss = 0;

	for (size_t i = 0; i < n; i++)
		ss += (x[i] - mean) * (x[i] - mean);
	return ss;
}

double stats_quantile(const double *sorted, size_t n, double q)
{
	double pos, frac;
	size_t lo;

	if (!n)
		return NAN;
	pos = q * (n - 1);
	lo = (size_t)pos;
	if (lo >= n - 1)
		return sorted[n - 1];
	frac = pos - lo;
	return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

double stats_bimodality_coef(const double *x, size_t n)
{
	double mean, m2 = 0, m3 = 0, m4 = 0;

	if (n < 4)
		return NAN;
	mean = mean_of(x, n);
	for (size_t i = 0; i < n; i++) {
		double d = x[i] - mean;

		m2 += d * d;
		m3 += d * d * d;
		m4 += d * d * d * d;
	}
	m2 /= n;
	m3 /= n;
	m4 /= n;
	if (m2 <= 0)
		return NAN;
	/* population moments: the small-sample corrections hide two clusters at n ~ 10 */
	return (m3 * m3 / (m2 * m2 * m2) + 1) / (m4 / (m2 * m2));
}

/*
 * Two modes: the bimodality coefficient is above that of a uniform
 * distribution, and the widest gap in the sorted samples splits them into two
 * groups of at least BIMODAL_MIN_GROUP that lie BIMODAL_MIN_SEPARATION pooled
 * standard deviations apart.
 */
static bool is_bimodal(const double *sorted, size_t n, double bc)
{
	size_t split = 0, nl, nr;
	double gap = -1, ml, mr, sw;

	if (n < BIMODAL_MIN_N || isnan(bc) || bc <= STATS_BIMODAL_BC)
		return false;
	for (size_t i = 1; i < n; i++) {
		if (sorted[i] - sorted[i - 1] > gap) {
			gap = sorted[i] - sorted[i - 1];
			split = i;
		}
	}
	nl = split;
	nr = n - split;
	if (nl < BIMODAL_MIN_GROUP || nr < BIMODAL_MIN_GROUP)
		return false;
	ml = mean_of(sorted, nl);
	mr = mean_of(sorted + nl, nr);
	sw = sqrt((sum_sq_dev(sorted, nl, ml) + sum_sq_dev(sorted + nl, nr, mr)) / (n - 2));
	return gap > 0 && gap > BIMODAL_MIN_SEPARATION * sw;
}

void stats_describe(const double *x, size_t n, struct sample_stats *out)
{
	double *s;

	memset(out, 0, sizeof(*out));
	out->n = n;
	if (!n) {
		out->mean = out->median = out->sd = out->cv = NAN;
		out->min = out->max = out->bimodality_coef = NAN;
		return;
	}
	s = sorted_copy(x, n);
	out->mean = mean_of(s, n);
	out->median = stats_quantile(s, n, 0.5);
	out->sd = n > 1 ? sqrt(sum_sq_dev(s, n, out->mean) / (n - 1)) : 0;
	out->cv = out->mean != 0 ? out->sd / fabs(out->mean) : 0;
	out->min = s[0];
	out->max = s[n - 1];
	out->bimodality_coef = stats_bimodality_coef(s, n);
	out->bimodal = is_bimodal(s, n, out->bimodality_coef);
	free(s);
}

/*
 * P(U <= u) for samples sized m and n without ties. count(i, j, k) is the
 * number of orderings of i first-sample and j second-sample values in which
 * k pairs have the first-sample value above; the largest value is either from
 * the first sample (it tops all j others) or from the second.
 */
static double exact_u_cdf(size_t m, size_t n, double u)
{
	size_t su = m * n + 1, sj = (n + 1) * su;
	double *count = calloc((m + 1) * sj, sizeof(*count));
	double *c, total = 0, below = 0;

	if (!count)
		abort();
	for (size_t i = 0; i <= m; i++) {
		for (size_t j = 0; j <= n; j++) {
			c = count + i * sj + j * su;
			if (!i || !j) {
				c[0] = 1;
				continue;
			}
			for (size_t k = 0; k <= i * j; k++) {
				c[k] = count[i * sj + (j - 1) * su + k];
				if (k >= j)
					c[k] += count[(i - 1) * sj + j * su + k - j];
			}
		}
	}
	c = count + m * sj + n * su;
	for (size_t k = 0; k < su; k++) {
		total += c[k];
		if ((double)k <= u + 1e-9)
			below += c[k];
	}
	free(count);
	return below / total;
}

struct ranked {
	double v;
	int group;
};

static int cmp_ranked(const void *a, const void *b)
{
	return cmp_double(&((const struct ranked *)a)->v, &((const struct ranked *)b)->v);
}

double stats_mann_whitney(const double *a, size_t na, const double *b, size_t nb, bool *exact)
{
	size_t n = na + nb, i, j;
	struct ranked *r;
	double rank_sum_a = 0, tie_term = 0, u, mu, sigma, z, p;
	bool ties = false;

	if (exact)
		*exact = false;
	if (!na || !nb)
		return NAN;
	r = malloc(n * sizeof(*r));
	if (!r)
		abort();
	for (i = 0; i < na; i++)
		r[i] = (struct ranked){ a[i], 0 };
	for (i = 0; i < nb; i++)
		r[na + i] = (struct ranked){ b[i], 1 };
	qsort(r, n, sizeof(*r), cmp_ranked);
	for (i = 0; i < n; i = j) {
		double t, mid_rank;

		for (j = i + 1; j < n && r[j].v == r[i].v; j++)
			;
		t = j - i;
		mid_rank = (i + 1 + j) / 2.0;
		if (t > 1) {
			ties = true;
			tie_term += t * t * t - t;
		}
		for (size_t k = i; k < j; k++)
			if (r[k].group == 0)
				rank_sum_a += mid_rank;
	}
	free(r);
	u = rank_sum_a - na * (na + 1) / 2.0;
	mu = na * (double)nb / 2.0;

	if (!ties && na <= STATS_EXACT_MAX_N && nb <= STATS_EXACT_MAX_N) {
		double lo = exact_u_cdf(na, nb, u);
		double hi = 1 - exact_u_cdf(na, nb, u - 1);

		if (exact)
			*exact = true;
		p = 2 * fmin(lo, hi);
		return fmin(p, 1.0);
	}
	sigma = sqrt(na * (double)nb / 12.0 * ((n + 1) - tie_term / (n * (double)(n - 1))));
	if (sigma <= 0)
		return 1.0;
	z = (fabs(u - mu) - 0.5) / sigma;
	if (z < 0)
		z = 0;
	return fmin(erfc(z / M_SQRT2), 1.0);
}

static double resampled_mean(struct rng *r, const double *x, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += x[rng_below(r, n)];
	return sum / n;
}

int stats_compare(const double *base, size_t nb, const double *cand, size_t nc,
		  bool higher_is_better, uint64_t seed, struct comparison *out)
{
	double mb, mc, *ratios, tail = (1 - STATS_CI_LEVEL) / 2;
	size_t rounds = STATS_BOOTSTRAP_ROUNDS, kept = 0;
	struct rng r;
	bool differs;

	memset(out, 0, sizeof(*out));
	out->ratio = out->ci_low = out->ci_high = out->p_value = NAN;
	out->verdict = VERDICT_SAME;
	if (!nb || !nc)
		return -1;
	mb = mean_of(base, nb);
	mc = mean_of(cand, nc);
	if (mb == 0)
		return -1;
	out->ratio = mc / mb;

	ratios = malloc(rounds * sizeof(*ratios));
	if (!ratios)
		abort();
	rng_seed(&r, seed);
	for (size_t i = 0; i < rounds; i++) {
		double b = resampled_mean(&r, base, nb);
		double c = resampled_mean(&r, cand, nc);

		if (b != 0)
			ratios[kept++] = c / b;
	}
	qsort(ratios, kept, sizeof(*ratios), cmp_double);
	out->ci_low = stats_quantile(ratios, kept, tail);
	out->ci_high = stats_quantile(ratios, kept, 1 - tail);
	free(ratios);

	out->p_value = stats_mann_whitney(base, nb, cand, nc, &out->exact_p);
	differs = out->p_value < STATS_ALPHA && (out->ci_low > 1 || out->ci_high < 1);
	if (differs)
		out->verdict = (out->ratio > 1) == higher_is_better ? VERDICT_FASTER :
								     VERDICT_SLOWER;
	return 0;
}

static const char *const verdict_names[] = {
	[VERDICT_SAME] = "same",
	[VERDICT_FASTER] = "faster",
	[VERDICT_SLOWER] = "slower",
};

const char *verdict_name(enum verdict v)
{
	return (unsigned int)v < 3 ? verdict_names[v] : "?";
}

int verdict_parse(const char *s, enum verdict *v)
{
	for (unsigned int i = 0; i < 3; i++) {
		if (!strcmp(s, verdict_names[i])) {
			*v = (enum verdict)i;
			return 0;
		}
	}
	return -1;
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

uint64_t rng_below(struct rng *r, uint64_t bound)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % bound, x;

	do
		x = rng_next(r);
	while (x >= limit);
	return x % bound;
}
