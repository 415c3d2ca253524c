// SPDX-License-Identifier: GPL-2.0
/*
 * report_ablation.c - the report's "Overhead breakdown" section and waterfall chart (GitHub
 * issue 8): for each family whose run holds ablation arms (<safe twin>-no<mechanism>, the
 * safe twin built without one mechanism, drivers-safe/kernel/ablation.mk), what each
 * mechanism costs per I/O (safe minus safe-without-it), the sum of the parts against the
 * whole gap between the safe and the raw twin, and the interaction term that is left over.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ablation.h"
#include "doc.h"
#include "family.h"
#include "figure.h"
#include "report_ablation.h"
#include "report_insn.h"

/*
 * The per-I/O metrics a breakdown is given in, most exact first; CPU time only where no
 * instruction counts were taken (in the icount clock it is a coarse image of them).
 */
static const char *const ablation_metrics[] = { "driver_insn_per_io", "insn_per_io", NULL };
static const char *const ablation_fallback_metric = "cpu_ns_per_io";

/* Mechanisms in the order of drivers-safe/kernel/ablation.mk, so tables line up. */
static const char *const mechanism_order[] = {
	"error", "checked", "bounds", "arc", "guards", "reqref", "mmio", "skbown", "adapter",
	"result", NULL
};

static size_t mechanism_rank(const char *mech)
{
	size_t i;

	for (i = 0; mechanism_order[i] && strcmp(mechanism_order[i], mech); i++)
		;
	return i;
}

/* The metrics of @family's breakdown in @run, NULL-terminated into @out (room for 3). */
static size_t breakdown_metrics(const struct run_data *run, const char *family,
				const char **out)
{
	size_t n = 0;

	for (const char *const *m = ablation_metrics; *m; m++)
		if (family_has_metric(run, family, *m))
			out[n++] = *m;
	if (!n && family_has_metric(run, family, ablation_fallback_metric))
		out[n++] = ablation_fallback_metric;
	out[n] = NULL;
	return n;
}

/* The mechanism safe variant @arm lacks ("bounds"), as the run folder records it, or NULL. */
static const char *arm_mechanism(const struct run_data *run, const char *family,
				 const char *arm)
{
	return run_arm_role(run, family, arm) == ARM_VARIANT ?
	       facts_arm_get(&run->facts, family, arm, "mechanism") : NULL;
}

static void group_of_series(const struct run_data *run, const char *family, const char *arm,
			    const char *workload, const char *metric, struct ablation_group *g)
{
	double *v = NULL;
	size_t n = series_values(&run->samples, family, arm, workload, metric, &v);

	ablation_group_of(v, n, g);
	free(v);
}

/* The first raw and safe twins among @family's @arms in @run, NULL where there is none. */
static void twins_of(const struct run_data *run, const char *family,
		     const struct name_list *arms, const char **raw, const char **safe)
{
	*raw = *safe = NULL;
	for (size_t a = 0; a < arms->n; a++) {
		const char *name = arms->names[a];

		if (!*raw && run_arm_role(run, family, name) == ARM_RAW)
			*raw = name;
		else if (!*safe && run_arm_role(run, family, name) == ARM_SAFE)
			*safe = name;
	}
}

/* The breakdown of one family, workload and metric in @run; false when it cannot be made. */
static bool breakdown_of(const struct run_data *run, const char *family, const char *workload,
			 const char *metric, struct ablation_breakdown *b)
{
	struct name_list arms = { 0 };
	const char *raw, *safe;
	bool ok;

	memset(b, 0, sizeof(*b));
	run_arms(run, family, &arms);
	twins_of(run, family, &arms, &raw, &safe);
	for (size_t a = 0; safe && a < arms.n; a++) {
		const char *mech = arm_mechanism(run, family, arms.names[a]);
		const char *twin = facts_arm_get(&run->facts, family, arms.names[a], "twin");
		struct ablation_part *p = &b->parts[b->n_parts];

		if (!mech || !twin || strcmp(twin, safe))
			continue;
		if (!strcmp(mech, FAMILY_MECHANISM_ALL)) {
			group_of_series(run, family, arms.names[a], workload, metric, &b->none);
			continue;
		}
		if (b->n_parts == ABLATION_MAX_PARTS)
			continue;
		group_of_series(run, family, arms.names[a], workload, metric, &p->variant);
		if (!p->variant.n)
			continue;
		snprintf(p->mechanism, sizeof(p->mechanism), "%s", mech);
		b->n_parts++;
	}
	for (size_t i = 1; i < b->n_parts; i++)
		for (size_t j = i; j && mechanism_rank(b->parts[j].mechanism) <
				     mechanism_rank(b->parts[j - 1].mechanism); j--) {
			struct ablation_part tmp = b->parts[j];

			b->parts[j] = b->parts[j - 1];
			b->parts[j - 1] = tmp;
		}
	ok = raw && safe && b->n_parts;
	if (ok) {
		group_of_series(run, family, raw, workload, metric, &b->raw);
		group_of_series(run, family, safe, workload, metric, &b->safe);
		ok = !ablation_compute(b);
	}
	name_list_free(&arms);
	return ok;
}

/*
 * "12.3 [11.9, 12.7]" per I/O, to a tenth (an instruction count per I/O is exact to far
 * less); "12.3" when the interval is a point, "12.3 [?]" when it is unknown.
 */
static void fmt_estimate(char *out, size_t len, const struct ablation_estimate *e)
{
	double v = fabs(e->value) < 0.05 ? 0 : e->value;

	if (isnan(e->lo) || fabs(e->hi - e->lo) < 0.05)
		snprintf(out, len, "%.1f%s", v, isnan(e->lo) ? " [?]" : "");
	else
		snprintf(out, len, "%.1f [%.1f, %.1f]", e->value, e->lo, e->hi);
}

static bool family_has_ablation(const struct run_data *run, const char *family)
{
	struct name_list arms = { 0 };
	bool found = false;

	run_arms(run, family, &arms);
	for (size_t a = 0; a < arms.n && !found; a++)
		found = arm_mechanism(run, family, arms.names[a]) != NULL;
	name_list_free(&arms);
	return found;
}

/* One table: a row per workload, a column per mechanism. */
static void breakdown_table(struct doc *d, const struct run_data *run, const char *family,
			    const char *metric)
{
	struct name_list wls = { 0 };
	const char *heads[MAX_COLS + 1] = { 0 };
	char names[ABLATION_MAX_PARTS][ABLATION_NAME_LEN + 8];
	struct ablation_breakdown b;
	struct table t = { 0 };
	bool begun = false, split = false;

	run_workloads(run, family, &wls);
	for (size_t w = 0; w < wls.n; w++) {
		size_t col = 0;

		if (!breakdown_of(run, family, wls.names[w], metric, &b))
			continue;
		if (b.n_parts + 8 > MAX_COLS)
			b.n_parts = MAX_COLS - 8;
		if (!begun) {
			heads[col++] = "workload";
			heads[col++] = "raw";
			heads[col++] = "safe - raw";
			for (size_t p = 0; p < b.n_parts; p++) {
				snprintf(names[p], sizeof(names[p]), "%s", b.parts[p].mechanism);
				heads[col++] = names[p];
			}
			heads[col++] = "sum of parts";
			heads[col++] = "interaction";
			split = b.none.n > 0;
			if (split) {
				heads[col++] = "overlap";
				heads[col++] = "no switch";
			}
			heads[col] = NULL;
			for (size_t c = 1; c < col; c++)
				t.numeric[c] = true;
			doc_para(d, "%s, %s per I/O: mean of the raw twin, then each part with its "
				 "95 %% interval.", family, metric);
			table_begin(d, &t, heads);
			begun = true;
		}
		col = 0;
		cellf(&t, col++, "%s", wls.names[w]);
		cellf(&t, col++, "%.1f", b.raw.mean);
		fmt_estimate(t.cells[col], CELL_LEN, &b.gap);
		if (b.raw.mean)
			snprintf(t.cells[col] + strlen(t.cells[col]),
				 CELL_LEN - strlen(t.cells[col]), " (%+.2f %%)",
				 100 * b.gap.value / b.raw.mean);
		col++;
		for (size_t p = 0; p < b.n_parts; p++)
			fmt_estimate(t.cells[col++], CELL_LEN, &b.parts[p].cost);
		fmt_estimate(t.cells[col++], CELL_LEN, &b.sum);
		fmt_estimate(t.cells[col], CELL_LEN, &b.interaction);
		if (!b.adds_up)
			snprintf(t.cells[col] + strlen(t.cells[col]),
				 CELL_LEN - strlen(t.cells[col]), " (parts do not add up)");
		col++;
		if (split && b.none.n) {
			fmt_estimate(t.cells[col++], CELL_LEN, &b.overlap);
			fmt_estimate(t.cells[col], CELL_LEN, &b.residual);
			if (!b.all_switched)
				snprintf(t.cells[col] + strlen(t.cells[col]),
					 CELL_LEN - strlen(t.cells[col]), " (left without a switch)");
		} else if (split) {
			cellf(&t, col++, "-");
			cellf(&t, col, "-");
		}
		table_row(d, &t);
	}
	if (begun)
		table_end(d);
	name_list_free(&wls);
}

/*
 * What "no switch" is made of, by function: the noall variant minus the raw twin per
 * workload, from the exact instruction counts (runs without the plugin have none).
 */
static void residual_functions(struct doc *d, const struct run_data *run, const char *family)
{
	struct name_list arms = { 0 }, wls = { 0 };
	const char *raw, *safe, *all = NULL;

	run_arms(run, family, &arms);
	twins_of(run, family, &arms, &raw, &safe);
	for (size_t a = 0; safe && a < arms.n && !all; a++) {
		const char *mech = arm_mechanism(run, family, arms.names[a]);
		const char *twin = facts_arm_get(&run->facts, family, arms.names[a], "twin");

		if (mech && twin && !strcmp(twin, safe) && !strcmp(mech, FAMILY_MECHANISM_ALL))
			all = arms.names[a];
	}
	run_workloads(run, family, &wls);
	for (size_t w = 0; raw && all && w < wls.n; w++) {
		doc_para(d, "What 'no switch' is in %s, by function: %s minus %s, driver and "
			 "layer instructions per I/O (exact counts; counterpart functions paired "
			 "through the twin map).", wls.names[w], all, raw);
		if (!insn_pair_driver_table(d, run, family, wls.names[w], raw, all))
			doc_para(d, "No instruction profiles in this run.");
	}
	name_list_free(&wls);
	name_list_free(&arms);
}

void section_ablation(struct doc *d, const struct run_data *run, const struct plot_list *pl)
{
	struct name_list families = { 0 };
	const char *metrics[ARRAY_SIZE(ablation_metrics) + 1];
	bool any = false;

	run_families(run, &families);
	for (size_t f = 0; f < families.n; f++) {
		const char *fam = families.names[f];
		char base[160];

		if (!family_has_ablation(run, fam))
			continue;
		if (!any)
			doc_heading(d, 2, "Overhead breakdown");
		if (!any)
			doc_para(d, "Each mechanism's cost is the safe twin minus the safe twin "
				 "built without that mechanism (arm <safe>-no<mechanism>), per "
				 "I/O. 'sum of parts' sets them against the whole gap (safe - "
				 "raw); 'interaction' is the gap minus the sum: mechanisms that "
				 "overlap, and layer work no switch removes. Where the run has the "
				 "safe twin built with every mechanism out (<safe>-noall), the "
				 "interaction splits into 'no switch' (that variant minus raw: "
				 "what the layer costs with no mechanism left) and 'overlap' (the "
				 "rest: work two mechanisms share, removed by either switch). "
				 "Intervals are 95 %% Welch intervals of the difference of means; a "
				 "point value has no sample spread (the instruction counts repeat "
				 "exactly).");
		any = true;
		doc_heading(d, 3, "%s", fam);
		breakdown_metrics(run, fam, metrics);
		for (const char **m = metrics; *m; m++)
			breakdown_table(d, run, fam, *m);
		residual_functions(d, run, fam);
		snprintf(base, sizeof(base), "ablation-%s", fam);
		for (size_t i = 0; i < pl->n; i++)
			if (!strcmp(pl->v[i].base, base))
				doc_figure(d, run, &pl->v[i]);
	}
	name_list_free(&families);
}

/* Waterfall bars of one breakdown into @f; returns the number of bars. */
static size_t waterfall_rows(FILE *f, const char *workload, const struct ablation_breakdown *b,
			     double *ymin, double *ymax)
{
	size_t bars = b->n_parts + (b->none.n ? 2 : 1), rows = 0;
	double level = b->raw.mean;
	char label[192];

	snprintf(label, sizeof(label), "%s: raw", workload);
	put_label(f, label);
	fprintf(f, "0 %.9g %.9g %.9g 1\n", level, level, level);
	rows++;

	for (size_t p = 0; p < bars; p++) {
		const struct ablation_estimate *e;
		const char *name;
		double top;

		if (p < b->n_parts) {
			e = &b->parts[p].cost;
			name = b->parts[p].mechanism;
		} else if (!b->none.n) {
			e = &b->interaction;
			name = "interaction";
		} else {
			e = p == b->n_parts ? &b->overlap : &b->residual;
			name = p == b->n_parts ? "overlap" : "no switch";
		}
		top = level + e->value;
		snprintf(label, sizeof(label), "%s", name);
		put_label(f, label);
		put_num(f, level);
		put_num(f, top);
		put_num(f, isnan(e->lo) ? top : level + e->lo);
		put_num(f, isnan(e->hi) ? top : level + e->hi);
		fprintf(f, "%d\n", p < b->n_parts ? 2 : 3);
		*ymin = fmin(*ymin, fmin(level, top));
		*ymax = fmax(*ymax, fmax(level, top));
		level = top;
		rows++;
	}
	snprintf(label, sizeof(label), "%s: safe", workload);
	put_label(f, label);
	fprintf(f, "0 %.9g %.9g %.9g 4\n", b->safe.mean, b->safe.mean, b->safe.mean);
	*ymin = fmin(*ymin, fmin(b->raw.mean, b->safe.mean));
	*ymax = fmax(*ymax, fmax(b->raw.mean, b->safe.mean));
	return rows + 1;
}

void plot_ablation(const struct run_data *run, const char *scripts_dir, const char *family,
		   struct plot_list *out)
{
	const char *metrics[ARRAY_SIZE(ablation_metrics) + 1], *metric;
	struct name_list wls = { 0 };
	struct ablation_breakdown b;
	char base[160], title[256], caption[256];
	double ymin = INFINITY, ymax = -INFINITY, pad;
	struct figure fig;
	size_t rows = 0;
	FILE *f;

	if (!family_has_ablation(run, family))
		return;
	if (!breakdown_metrics(run, family, metrics))
		return;
	metric = metrics[0];
	snprintf(base, sizeof(base), "ablation-%s", family);
	fig_init(&fig, run, scripts_dir, "ablation.gp", base);
	f = fig_open_data(&fig);
	if (!f)
		return;
	fprintf(f, "# %s %s: waterfall from the raw twin through each mechanism's cost and the "
		"interaction term to the safe twin; from to low high kind(1 raw 2 part 3 "
		"interaction 4 safe)\n", family, metric);
	run_workloads(run, family, &wls);
	for (size_t w = 0; w < wls.n; w++)
		if (breakdown_of(run, family, wls.names[w], metric, &b))
			rows += waterfall_rows(f, wls.names[w], &b, &ymin, &ymax);
	fclose(f);
	name_list_free(&wls);
	if (!rows) {
		text_list_addf(&out->notes, "%s: no complete ablation breakdown, chart skipped",
			       family);
		return;
	}
	pad = fmax((ymax - ymin) * 0.5, fabs(ymax) * 0.002);
	fig_num(&fig, "plotwidth", plot_width(rows, 1));
	fig_num(&fig, "ymin", fmax(0, ymin - pad));
	fig_num(&fig, "ymax", ymax + pad);
	snprintf(title, sizeof(title), "%s: overhead breakdown, %s", family, metric);
	fig_str(&fig, "plottitle", title);
	fig_str(&fig, "ylab", metric);
	snprintf(caption, sizeof(caption), "%s: from the raw twin, each mechanism's cost (safe "
		 "minus safe without it, 95 %% interval) and the interaction term up to the safe "
		 "twin, %s; the y axis does not start at 0.", family, metric);
	fig_render(&fig, caption, out);
}
