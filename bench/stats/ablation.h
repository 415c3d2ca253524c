/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ablation.h - the overhead breakdown (GitHub issue 8): what each safe-layer mechanism costs.
 * A mechanism's cost is mean(safe twin) - mean(safe twin built without it); the parts are set
 * against the whole gap, mean(safe) - mean(raw), and what is left over is the interaction
 * term. With the safe twin built with every mechanism out (the "noall" variant) the term
 * splits in two: what the layer still costs with no mechanism left (none - raw: work no
 * switch removes) and the overlap of the mechanisms (the rest: work two switches both
 * remove, counted in neither part alone). Every figure carries a 95 % Welch interval,
 * computed from the arms' sample variances.
 */
#ifndef TWINBENCH_ABLATION_H
#define TWINBENCH_ABLATION_H

#include <stdbool.h>
#include <stddef.h>

#define ABLATION_MAX_PARTS	16
#define ABLATION_NAME_LEN	32

/* One arm's samples: their mean, (unbiased) variance and count. */
struct ablation_group {
	double mean, var;
	size_t n;
};

/* An estimate with its 95 % interval; lo/hi are NAN when an arm has fewer than 2 samples. */
struct ablation_estimate {
	double value, lo, hi;
};

/*
 * sum(coef[i] * mean of group i) with its 95 % interval (Welch-Satterthwaite degrees of
 * freedom, Student t quantile); -1 when a group has no samples.
 */
int ablation_combine(const struct ablation_group *g, const double *coef, size_t n,
		     struct ablation_estimate *out);

/* The two-sided 95 % Student t quantile for @df degrees of freedom (df >= 1). */
double ablation_t975(double df);

/* Fill @g from @n values. */
void ablation_group_of(const double *x, size_t n, struct ablation_group *g);

/* One mechanism: the variant arm that lacks it and what it costs (safe - variant). */
struct ablation_part {
	char mechanism[ABLATION_NAME_LEN];	/* "bounds", from the arm "safenull-nobounds" */
	struct ablation_group variant;
	struct ablation_estimate cost;
};

struct ablation_breakdown {
	struct ablation_group raw, safe;
	struct ablation_group none;		/* the noall variant; none.n == 0 without one */
	struct ablation_part parts[ABLATION_MAX_PARTS];
	size_t n_parts;
	struct ablation_estimate gap;		/* safe - raw */
	struct ablation_estimate sum;		/* sum of the parts' costs */
	struct ablation_estimate interaction;	/* gap - sum */
	bool adds_up;				/* the interaction's interval holds 0 */
	/* With a noall variant (none.n > 0), interaction = residual + overlap. */
	struct ablation_estimate residual;	/* none - raw */
	struct ablation_estimate overlap;	/* (safe - none) - sum */
	bool all_switched;			/* the residual's interval holds 0 */
};

/*
 * Compute every cost, the gap, the sum and the interaction of @b from its groups (raw,
 * safe, each part's variant and, if it has samples, none; filled by the caller), and with
 * none the residual and the overlap. 0, or -1 when a group is empty.
 */
int ablation_compute(struct ablation_breakdown *b);

#endif /* TWINBENCH_ABLATION_H */
