// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - descriptive statistics, Welch intervals on log units, the exact
 * rank test, Benjamini-Hochberg, the outlier and bimodality rules and the
 * three-way verdict behind every twinbench judgement.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "stats.h"
#include "util.h"


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

/* Continued fraction of the regularised incomplete beta function (modified Lentz). */
static double beta_fraction(double a, double b, double x)
{
	const double tiny = 1e-300;
	double c = 1, d = 1 - (a + b) * x / (a + 1), h;

	d = 1 / (fabs(d) < tiny ? tiny : d);
	h = d;
	for (int m = 1; m <= 300; m++) {
		double aa = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)), delta;

		d = 1 + aa * d;
		c = 1 + aa / c;
		d = 1 / (fabs(d) < tiny ? tiny : d);
		c = fabs(c) < tiny ? tiny : c;
		h *= d * c;
		aa = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
		d = 1 + aa * d;
		c = 1 + aa / c;
		d = 1 / (fabs(d) < tiny ? tiny : d);
		c = fabs(c) < tiny ? tiny : c;
		delta = d * c;
		h *= delta;
		if (fabs(delta - 1) < 1e-15)
			break;
	}
	return h;
}

static double incomplete_beta(double a, double b, double x)
{
	double front;

	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
	if (x < (a + 1) / (a + b + 2))
		return front * beta_fraction(a, b, x) / a;
	return 1 - front * beta_fraction(b, a, 1 - x) / b;
}

double stats_t_cdf(double t, double df)
{
	double tail;

	if (isinf(df))
		return 0.5 * erfc(-t / M_SQRT2);
	tail = 0.5 * incomplete_beta(df / 2, 0.5, df / (df + t * t));
	return t > 0 ? 1 - tail : tail;
}

double stats_t_quantile(double p, double df)
{
	double lo = -1, hi = 1;

	while (stats_t_cdf(lo, df) > p)
		lo *= 2;
	while (stats_t_cdf(hi, df) < p)
		hi *= 2;
	for (int i = 0; i < 200 && hi - lo > 1e-12 * fmax(1, fabs(hi)); i++) {
		double mid = (lo + hi) / 2;

		if (stats_t_cdf(mid, df) < p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

struct ranked {
	double v;
	int group;
};

static int cmp_ranked(const void *a, const void *b)
{
	return cmp_double(&((const struct ranked *)a)->v, &((const struct ranked *)b)->v);
}

/*
 * Two-sided exact p of the doubled rank sum @w of @na of the @n doubled mid-ranks @r2:
 * count[k][s] is the number of k-subsets of the ranks seen so far summing to s, so the
 * last row holds the whole permutation distribution, ties included.
 */
static double rank_sum_exact(const long *r2, size_t n, size_t na, long w)
{
	long total = n * (n + 1), expect = na * (n + 1), dev = labs(w - expect);
	size_t width = total + 1;
	double *count = calloc((na + 1) * width, sizeof(*count)), all = 0, extreme = 0;

	if (!count)
		abort();
	count[0] = 1;
	for (size_t i = 0; i < n; i++)
		for (size_t k = i + 1 < na ? i + 1 : na; k >= 1; k--)
			for (long s = total; s >= r2[i]; s--)
				count[k * width + s] += count[(k - 1) * width + s - r2[i]];
	for (long s = 0; s <= total; s++) {
		all += count[na * width + s];
		if (labs(s - expect) >= dev)
			extreme += count[na * width + s];
	}
	free(count);
	return extreme / all;
}

/* The same p by random relabelling from a fixed seed: (1 + extreme) / (1 + rounds). */
static double rank_sum_monte_carlo(const long *r2, size_t n, size_t na, long w)
{
	long expect = na * (n + 1), dev = labs(w - expect);
	long *v = malloc(n * sizeof(*v));
	size_t extreme = 0;
	struct rng r;

	if (!v)
		abort();
	memcpy(v, r2, n * sizeof(*v));
	rng_seed(&r, 0x72616e6bULL);
	for (size_t round = 0; round < STATS_PERMUTATIONS; round++) {
		long s = 0;

		for (size_t i = 0; i < na; i++) {
			size_t j = i + rng_below(&r, n - i);
			long t = v[i];

			v[i] = v[j];
			v[j] = t;
			s += v[i];
		}
		extreme += labs(s - expect) >= dev;
	}
	free(v);
	return (1.0 + extreme) / (1.0 + STATS_PERMUTATIONS);
}

double stats_mann_whitney(const double *a, size_t na, const double *b, size_t nb, bool *exact)
{
	size_t n = na + nb, i, j;
	struct ranked *r;
	long *r2, w = 0;
	double p;

	if (exact)
		*exact = false;
	if (!na || !nb)
		return NAN;
	r = malloc(n * sizeof(*r));
	r2 = malloc(n * sizeof(*r2));
	if (!r || !r2)
		abort();
	for (i = 0; i < na; i++)
		r[i] = (struct ranked){ a[i], 0 };
	for (i = 0; i < nb; i++)
		r[na + i] = (struct ranked){ b[i], 1 };
	qsort(r, n, sizeof(*r), cmp_ranked);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && r[j].v == r[i].v; j++)
			;
		for (size_t k = i; k < j; k++) {
			r2[k] = i + 1 + j;	/* twice the mid-rank (i + 1 + j) / 2 */
			if (r[k].group == 0)
				w += r2[k];
		}
	}
	free(r);
	if (n <= STATS_EXACT_MAX_N) {
		p = rank_sum_exact(r2, n, na, w);
		if (exact)
			*exact = true;
	} else {
		p = rank_sum_monte_carlo(r2, n, na, w);
	}
	free(r2);
	return fmin(p, 1.0);
}

double stats_min_p(size_t na, size_t nb)
{
	double ways = 1;

	if (!na || !nb)
		return 1;
	for (size_t i = 1; i <= nb; i++)
		ways = ways * (na + i) / i;
	return fmin(2 / ways, 1.0);
}

/*
 * A value is an outlier when it lies outside the prediction interval of the others
 * (their mean +- t * sd * sqrt(1 + 1/(n-1))) at a level that flags normal data in at
 * most STATS_OUTLIER_RATE of arms (Bonferroni over the n values); the others' spread
 * is floored at STATS_OUTLIER_FLOOR of their mean, since constant arms have none.
 */
size_t stats_outliers(const double *x, size_t n, bool *out)
{
	double t, sum = 0, sumsq = 0;
	size_t count = 0;

	memset(out, 0, n * sizeof(*out));
	if (n < 3)
		return 0;
	t = stats_t_quantile(1 - STATS_OUTLIER_RATE / (2.0 * n), n - 2);
	for (size_t i = 0; i < n; i++) {
		sum += x[i];
		sumsq += x[i] * x[i];
	}
	for (size_t i = 0; i < n; i++) {
		double m = (sum - x[i]) / (n - 1);
		double var = fmax((sumsq - x[i] * x[i] - (n - 1) * m * m) / (n - 2), 0);
		double sd = fmax(sqrt(var), STATS_OUTLIER_FLOOR * fabs(m));

		out[i] = fabs(x[i] - m) > t * sd * sqrt(1 + 1.0 / (n - 1));
		count += out[i];
	}
	return count;
}

static unsigned int boot_of(const struct series *s, size_t i)
{
	return s->boot ? s->boot[i] : 0;
}

size_t stats_boot_means(const struct series *s, double *out, unsigned int *labels)
{
	size_t k = 0;
	unsigned int last = 0;
	bool any = false;

	for (;;) {
		unsigned int next = 0;
		bool found = false;
		double sum = 0;
		size_t n = 0;

		for (size_t i = 0; i < s->n; i++) {
			unsigned int b = boot_of(s, i);

			if ((!any || b > last) && (!found || b < next)) {
				next = b;
				found = true;
			}
		}
		if (!found)
			return k;
		for (size_t i = 0; i < s->n; i++) {
			if (boot_of(s, i) == next) {
				sum += s->x[i];
				n++;
			}
		}
		if (labels)
			labels[k] = next;
		out[k++] = sum / n;
		last = next;
		any = true;
	}
}

/* Sum of squared deviations of log values from their boot's mean log; adds to *df. */
static double within_boot_ss(const struct series *s, size_t *df)
{
	double ss = 0;
	size_t boots = 0;

	for (size_t i = 0; i < s->n; i++) {
		double sum = 0;
		size_t n = 0;
		bool first = true;

		for (size_t j = 0; j < i && first; j++)
			first = boot_of(s, j) != boot_of(s, i);
		if (!first)
			continue;
		boots++;
		for (size_t j = i; j < s->n; j++) {
			if (boot_of(s, j) == boot_of(s, i)) {
				sum += log(s->x[j]);
				n++;
			}
		}
		for (size_t j = i; j < s->n; j++)
			if (boot_of(s, j) == boot_of(s, i))
				ss += (log(s->x[j]) - sum / n) * (log(s->x[j]) - sum / n);
	}
	*df += s->n - boots;
	return ss;
}

/* @s without its outliers, into @x and @boot (sized s->n); returns the count kept. */
static size_t drop_outliers(const struct series *s, double *x, unsigned int *boot)
{
	bool *out = malloc((s->n ? s->n : 1) * sizeof(*out));
	size_t k = 0;

	if (!out)
		abort();
	stats_outliers(s->x, s->n, out);
	for (size_t i = 0; i < s->n; i++) {
		if (out[i])
			continue;
		x[k] = s->x[i];
		boot[k++] = boot_of(s, i);
	}
	free(out);
	return k;
}

static void log_moments(const double *x, size_t n, double *mean, double *var)
{
	double sum = 0, ss = 0;

	for (size_t i = 0; i < n; i++)
		sum += log(x[i]);
	*mean = sum / n;
	for (size_t i = 0; i < n; i++)
		ss += (log(x[i]) - *mean) * (log(x[i]) - *mean);
	*var = n > 1 ? ss / (n - 1) : NAN;
}

static bool all_positive(const struct series *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (!isfinite(s->x[i]) || s->x[i] <= 0)
			return false;
	return s->n > 0;
}

/* Welch's interval on log units, and the detectable difference at its width. */
static void welch_log(const double *b, size_t nb, const double *c, size_t nc,
		      struct comparison *out)
{
	double mb, vb, mc, vc, se2, df, tq, tp;

	log_moments(b, nb, &mb, &vb);
	log_moments(c, nc, &mc, &vc);
	out->ratio = exp(mc - mb);
	if (nb < 2 || nc < 2)
		return;
	se2 = vb / nb + vc / nc;
	if (se2 <= 0) {
		out->ci_low = out->ci_high = out->ratio;
		out->p_value = mc == mb ? 1 : 0;
		out->mdd = out->margin;
		return;
	}
	df = se2 * se2 / ((vb / nb) * (vb / nb) / (nb - 1) + (vc / nc) * (vc / nc) / (nc - 1));
	tq = stats_t_quantile((1 + STATS_CI_LEVEL) / 2, df);
	tp = stats_t_quantile(STATS_POWER, df);
	out->ci_low = exp(mc - mb - tq * sqrt(se2));
	out->ci_high = exp(mc - mb + tq * sqrt(se2));
	out->p_value = 2 * stats_t_cdf(-fabs(mc - mb) / sqrt(se2), df);
	out->mdd = exp(log1p(out->margin) + (tq + tp) * sqrt(se2)) - 1;
}

int stats_compare(const struct series *base, const struct series *cand, bool higher_is_better,
		  double margin, struct comparison *out)
{
	const struct series *side[2] = { base, cand };
	double *x[2], *units[2], ss_within = 0, ss_between = 0;
	size_t df_within = 0, df_between = 0, nu[2], boots[2];
	unsigned int *boot[2];

	memset(out, 0, sizeof(*out));
	out->ratio = out->ci_low = out->ci_high = out->p_value = out->p_adjusted = NAN;
	out->p_rank = NAN;
	out->mdd = out->cv_between = out->cv_within = NAN;
	out->margin = margin;
	out->verdict = VERDICT_INCONCLUSIVE;
	if (!all_positive(base) || !all_positive(cand))
		return -1;
	for (int k = 0; k < 2; k++) {
		struct series kept;
		double m, v;

		x[k] = malloc(side[k]->n * sizeof(double));
		boot[k] = malloc(side[k]->n * sizeof(unsigned int));
		units[k] = malloc(side[k]->n * sizeof(double));
		if (!x[k] || !boot[k] || !units[k])
			abort();
		kept = (struct series){ x[k], boot[k], drop_outliers(side[k], x[k], boot[k]) };
		out->outliers += side[k]->n - kept.n;
		boots[k] = stats_boot_means(&kept, units[k], NULL);
		ss_within += within_boot_ss(&kept, &df_within);
		if (boots[k] > 1) {
			log_moments(units[k], boots[k], &m, &v);
			ss_between += v * (boots[k] - 1);
			df_between += boots[k] - 1;
		}
		nu[k] = kept.n;
	}
	out->by_boot = boots[0] > 1 || boots[1] > 1;
	for (int k = 0; k < 2 && !out->by_boot; k++)
		memcpy(units[k], x[k], nu[k] * sizeof(double));
	if (out->by_boot) {
		nu[0] = boots[0];
		nu[1] = boots[1];
	}
	out->units_base = nu[0];
	out->units_cand = nu[1];
	out->cv_within = df_within ? sqrt(ss_within / df_within) : NAN;
	out->cv_between = df_between ? sqrt(ss_between / df_between) : NAN;
	welch_log(units[0], nu[0], units[1], nu[1], out);
	out->p_rank = stats_mann_whitney(units[0], nu[0], units[1], nu[1], &out->exact_p);
	out->p_adjusted = out->p_value;
	out->low_n = nu[0] < 2 || nu[1] < 2 || stats_min_p(nu[0], nu[1]) >= STATS_ALPHA;
	stats_judge(out, higher_is_better);
	for (int k = 0; k < 2; k++) {
		free(x[k]);
		free(boot[k]);
		free(units[k]);
	}
	return 0;
}

void stats_judge(struct comparison *c, bool higher_is_better)
{
	double lo = 1 - c->margin, hi = 1 + c->margin;

	c->verdict = VERDICT_INCONCLUSIVE;
	if (c->low_n || isnan(c->ci_low) || isnan(c->ci_high))
		return;
	if ((c->ci_low > hi || c->ci_high < lo) && c->p_adjusted < STATS_ALPHA &&
	    c->p_rank < STATS_ALPHA)
		c->verdict = (c->ratio > 1) == higher_is_better ? VERDICT_FASTER : VERDICT_SLOWER;
	else if (c->ci_low >= lo && c->ci_high <= hi)
		c->verdict = VERDICT_EQUIVALENT;
}

/*
 * The largest energy statistic over the splits of the points @order[0..n) (indices
 * into the distance matrix @d of side @dim), and its split into *@at. The sums of
 * distances between and within the segments are updated as the split moves right.
 */
static double energy_max(const double *d, size_t dim, const size_t *order, size_t n,
			 size_t *at)
{
	double between = 0, within_a = 0, within_b = 0, best = -INFINITY;

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			within_b += d[order[i] * dim + order[j]];
	for (size_t t = 1; t < n; t++) {
		size_t moved = order[t - 1];
		double to_a = 0, to_b = 0, na = t, nb = n - t, q;

		for (size_t i = 0; i < t - 1; i++)
			to_a += d[moved * dim + order[i]];
		for (size_t i = t; i < n; i++)
			to_b += d[moved * dim + order[i]];
		within_b -= to_b;
		between += to_b - to_a;
		within_a += to_a;
		q = 2 * between / (na * nb);
		if (na > 1)
			q -= within_a / (na * (na - 1) / 2);
		if (nb > 1)
			q -= within_b / (nb * (nb - 1) / 2);
		q *= na * nb / n;
		if (t == 1 || q > best + 1e-12 * fabs(best)) {
			best = q;
			*at = t;
		}
	}
	return best;
}

/* Next lexicographic permutation of @v[0..n); false after the last. */
static bool next_permutation(size_t *v, size_t n)
{
	size_t i = n - 1, j = n - 1, t;

	while (i > 0 && v[i - 1] >= v[i])
		i--;
	if (!i)
		return false;
	while (v[j] <= v[i - 1])
		j--;
	t = v[i - 1];
	v[i - 1] = v[j];
	v[j] = t;
	for (j = n - 1; i < j; i++, j--) {
		t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
	return true;
}

/* One E-divisive split of @x[0..n) with its permutation p. */
static void change_split(const double *x, size_t n, struct change_point *out)
{
	double *d = calloc(n * n, sizeof(*d));
	size_t *order = calloc(n, sizeof(*order)), at = 0, extreme = 0, rounds = 0;
	struct rng r;

	if (!d || !order)
		abort();
	for (size_t i = 0; i < n; i++) {
		order[i] = i;
		for (size_t j = 0; j < n; j++)
			d[i * n + j] = fabs(x[i] - x[j]);
	}
	out->stat = energy_max(d, n, order, n, &out->at);
	if (n <= STATS_CHANGE_EXACT_N) {
		do {
			extreme += energy_max(d, n, order, n, &at) >= out->stat * (1 - 1e-9);
			rounds++;
		} while (next_permutation(order, n));
		out->p = (double)extreme / rounds;
	} else {
		rng_seed(&r, 0x65646976ULL);
		for (rounds = 0; rounds < STATS_PERMUTATIONS / 10; rounds++) {
			for (size_t i = n - 1; i > 0; i--) {
				size_t j = rng_below(&r, i + 1), t = order[i];

				order[i] = order[j];
				order[j] = t;
			}
			extreme += energy_max(d, n, order, n, &at) >= out->stat * (1 - 1e-9);
		}
		out->p = (1.0 + extreme) / (1.0 + rounds);
	}
	out->found = out->stat > 0 && out->p < STATS_ALPHA;
	free(d);
	free(order);
}

void stats_change_point(const double *x, size_t n, struct change_point *out)
{
	struct change_point earlier;

	memset(out, 0, sizeof(*out));
	out->p = 1;
	if (n < STATS_CHANGE_MIN_N)
		return;
	change_split(x, n, out);
	while (out->found && out->at >= STATS_CHANGE_MIN_N) {
		change_split(x, out->at, &earlier);
		if (!earlier.found)
			break;
		*out = earlier;
	}
}

static double kendall_s(const double *x, const size_t *order, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			s += (x[order[j]] > x[order[i]]) - (x[order[j]] < x[order[i]]);
	return s;
}

void stats_trend(const double *x, size_t n, struct trend *out)
{
	size_t *order, extreme = 0, rounds = 0, k = 0;
	double *slopes, *sorted;

	memset(out, 0, sizeof(*out));
	out->p = 1;
	if (n < STATS_CHANGE_MIN_N)
		return;
	order = malloc(n * sizeof(*order));
	slopes = malloc(n * n * sizeof(*slopes));
	if (!order || !slopes)
		abort();
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	out->s = kendall_s(x, order, n);
	if (n <= STATS_CHANGE_EXACT_N) {
		do {
			extreme += fabs(kendall_s(x, order, n)) >= fabs(out->s) - 1e-9;
			rounds++;
		} while (next_permutation(order, n));
		out->p = (double)extreme / rounds;
	} else {
		double var = n * (n - 1.0) * (2 * n + 5) / 18;

		sorted = sorted_copy(x, n);
		for (size_t i = 0, j; i < n; i = j) {
			for (j = i + 1; j < n && sorted[j] == sorted[i]; j++)
				;
			var -= (j - i) * (j - i - 1.0) * (2 * (j - i) + 5) / 18;
		}
		free(sorted);
		out->p = var > 0 ? erfc(fmax(fabs(out->s) - 1, 0) / sqrt(var) / M_SQRT2) : 1;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			slopes[k++] = (x[j] - x[i]) / (j - i);
	qsort(slopes, k, sizeof(*slopes), cmp_double);
	sorted = sorted_copy(x, n);
	out->change = stats_quantile(slopes, k, 0.5) * (n - 1) / stats_quantile(sorted, n, 0.5);
	free(sorted);
	free(slopes);
	free(order);
}

struct indexed_p {
	double p;
	size_t i;
};

static int cmp_indexed_p(const void *a, const void *b)
{
	return cmp_double(&((const struct indexed_p *)a)->p, &((const struct indexed_p *)b)->p);
}

void stats_adjust_bh(const double *p, size_t n, double *adj)
{
	struct indexed_p *v = malloc((n ? n : 1) * sizeof(*v));
	size_t m = 0;
	double running = 1;

	if (!v)
		abort();
	for (size_t i = 0; i < n; i++) {
		adj[i] = NAN;
		if (!isnan(p[i]))
			v[m++] = (struct indexed_p){ p[i], i };
	}
	qsort(v, m, sizeof(*v), cmp_indexed_p);
	for (size_t k = m; k > 0; k--) {
		running = fmin(running, v[k - 1].p * m / k);
		adj[v[k - 1].i] = running;
	}
	free(v);
}
