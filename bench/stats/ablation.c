// SPDX-License-Identifier: GPL-2.0
/*
 * ablation.c - the overhead breakdown's arithmetic: each mechanism's cost (safe minus the
 * variant without it), the whole gap (safe minus raw), their sum and the interaction, as
 * linear combinations of group means with Welch-Satterthwaite intervals.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include "ablation.h"
#include "util.h"

/* Two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom. */
static const double t975_table[] = {
	12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
	2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
	2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
};

double ablation_t975(double df)
{
	const double z = 1.959964;

	if (df < 1)
		return NAN;
	if (df < ARRAY_LEN(t975_table) + 1)
		return t975_table[(size_t)floor(df) - 1];
	/* Cornish-Fisher expansion about the normal quantile: within 1e-4 from 30 on. */
	return z + (z * z * z + z) / (4 * df) +
	       (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * df * df);
}

void ablation_group_of(const double *x, size_t n, struct ablation_group *g)
{
	double sum = 0, ss = 0;

	g->n = n;
	for (size_t i = 0; i < n; i++)
		sum += x[i];
	g->mean = n ? sum / n : NAN;
	for (size_t i = 0; i < n; i++)
		ss += (x[i] - g->mean) * (x[i] - g->mean);
	g->var = n > 1 ? ss / (n - 1) : NAN;
}

int ablation_combine(const struct ablation_group *g, const double *coef, size_t n,
		     struct ablation_estimate *out)
{
	double value = 0, se2 = 0, dfden = 0, half;
	bool known = true;

	for (size_t i = 0; i < n; i++) {
		double v;

		if (!g[i].n)
			return -1;
		value += coef[i] * g[i].mean;
		if (!coef[i])
			continue;
		if (g[i].n < 2) {
			known = false;
			continue;
		}
		v = coef[i] * coef[i] * g[i].var / g[i].n;
		se2 += v;
		dfden += v * v / (g[i].n - 1);
	}
	out->value = value;
	if (!known) {
		out->lo = out->hi = NAN;
		return 0;
	}
	half = se2 > 0 ? ablation_t975(se2 * se2 / dfden) * sqrt(se2) : 0;
	out->lo = value - half;
	out->hi = value + half;
	return 0;
}

/* True when @e's interval holds 0 (a point estimate: when it is 0). */
static bool holds_zero(const struct ablation_estimate *e)
{
	return isnan(e->lo) ? e->value == 0 : e->lo <= 0 && e->hi >= 0;
}

int ablation_compute(struct ablation_breakdown *b)
{
	struct ablation_group g[ABLATION_MAX_PARTS + 3];
	double coef[ABLATION_MAX_PARTS + 3];
	size_t k = b->n_parts, none = k + 2;

	if (k > ABLATION_MAX_PARTS)
		return -1;
	g[0] = b->safe;
	g[1] = b->raw;
	for (size_t i = 0; i < k; i++) {
		g[i + 2] = b->parts[i].variant;
		coef[i + 2] = 0;
	}
	g[none] = b->none;
	coef[none] = 0;
	coef[0] = 1;
	coef[1] = 0;
	for (size_t i = 0; i < k; i++) {
		coef[i + 2] = -1;
		if (ablation_combine(g, coef, k + 2, &b->parts[i].cost))
			return -1;
		coef[i + 2] = 0;
	}
	coef[1] = -1;
	if (ablation_combine(g, coef, 2, &b->gap))
		return -1;
	/* sum = k * safe - sum(variants); interaction = gap - sum. */
	coef[0] = (double)k;
	coef[1] = 0;
	for (size_t i = 0; i < k; i++)
		coef[i + 2] = -1;
	if (ablation_combine(g, coef, k + 2, &b->sum))
		return -1;
	coef[0] = 1.0 - (double)k;
	coef[1] = -1;
	for (size_t i = 0; i < k; i++)
		coef[i + 2] = 1;
	if (ablation_combine(g, coef, k + 2, &b->interaction))
		return -1;
	b->adds_up = holds_zero(&b->interaction);
	if (!b->none.n)
		return 0;
	/* overlap = (1 - k) * safe + sum(variants) - none; residual = none - raw. */
	coef[1] = 0;
	coef[none] = -1;
	if (ablation_combine(g, coef, k + 3, &b->overlap))
		return -1;
	for (size_t i = 0; i < none; i++)
		coef[i] = i == 1 ? -1 : 0;
	coef[none] = 1;
	if (ablation_combine(g, coef, k + 3, &b->residual))
		return -1;
	b->all_switched = holds_zero(&b->residual);
	return 0;
}
