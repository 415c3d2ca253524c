// SPDX-License-Identifier: GPL-2.0
/*
 * report_insn.c - the report's "Where the instructions go" section and chart (GitHub issue
 * 10): from the plugin's exact per-I/O instruction counts (insn-diff.csv, written by
 * insn_merge()), what the safe twin executes per I/O beyond the raw twin, split by where the
 * code lives (driver module, safe layer, the block/net core it calls, the rest of the
 * kernel) and by function, counterpart functions paired through the twin map. Runs without
 * the plugin have no insn-diff.csv and no section. Then (issue 22) the instruction classes
 * per I/O of the raw, safe and Rust twins and the cycle estimate of docs/insn-classes.md:
 * where the safe twin's extra estimated cycles come from, by class, next to its extra
 * instructions, and next to measured cycles where a PMU gave them.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "doc.h"
#include "facts.h"
#include "figure.h"
#include "insn.h"
#include "report_insn.h"
#include "vec.h"

/* Functions listed per pair: the largest mean differences. */
#define INSN_SHOWN_FUNCTIONS	12
/* Smaller mean differences (instructions per I/O) are left out of the function table. */
#define INSN_MIN_DIFF		0.5

/* The classes of insn-diff.csv, in the order the tables and the chart show them. */
static const char *const insn_classes[] = { "driver", "layer", "core", "kernel" };
#define N_CLASSES ARRAY_SIZE(insn_classes)

/* One line of insn-diff.csv. */
struct insn_diff {
	char family[RESULTS_NAME_LEN], workload[RESULTS_WORKLOAD_LEN];
	char baseline[RESULTS_NAME_LEN], candidate[RESULTS_NAME_LEN];
	char function[128], module[64], class[16];
	double base, cand, diff;
};

struct insn_diffs {
	struct insn_diff *v;
	size_t n;
};

/* Split a CSV line of plain fields (insn-diff.csv quotes nothing) into @f; their count. */
static size_t csv_split(char *line, char **f, size_t max)
{
	size_t n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		f[n++] = line;
		line = strchr(line, ',');
		if (!line)
			break;
		*line++ = '\0';
	}
	return n;
}

/* Read RUN/insn-diff.csv; false when the run has none (no plugin) or it cannot be read. */
static bool insn_diffs_load(const struct run_data *run, struct insn_diffs *out)
{
	char path[PATH_MAX], *line = NULL, *f[10];
	size_t cap = 0, alloc = 0;
	FILE *in;

	out->v = NULL;
	out->n = 0;
	path_printf(path, sizeof(path), "%s/insn-diff.csv", run->dir);
	in = fopen(path, "r");
	if (!in)
		return false;
	while (getline(&line, &cap, in) > 0) {
		struct insn_diff *r;

		if (csv_split(line, f, 10) != 10 || !strcmp(f[0], "family"))
			continue;
		r = VEC_PUSH(out->v, out->n, alloc);
		snprintf(r->family, sizeof(r->family), "%s", f[0]);
		snprintf(r->workload, sizeof(r->workload), "%s", f[1]);
		snprintf(r->baseline, sizeof(r->baseline), "%s", f[2]);
		snprintf(r->candidate, sizeof(r->candidate), "%s", f[3]);
		snprintf(r->function, sizeof(r->function), "%s", f[4]);
		snprintf(r->module, sizeof(r->module), "%s", f[5]);
		snprintf(r->class, sizeof(r->class), "%s", f[6]);
		r->base = strtod(f[7], NULL);
		r->cand = strtod(f[8], NULL);
		r->diff = strtod(f[9], NULL);
	}
	free(line);
	fclose(in);
	return out->n > 0;
}

/* A raw-to-safe pair (safe-minus-raw is what the section is about). */
static bool raw_to_safe(const struct run_data *run, const struct insn_diff *r)
{
	return run_arm_role(run, r->family, r->baseline) == ARM_RAW &&
	       run_arm_role(run, r->family, r->candidate) == ARM_SAFE;
}

static bool same_pair(const struct insn_diff *a, const struct insn_diff *b)
{
	return !strcmp(a->family, b->family) && !strcmp(a->baseline, b->baseline) &&
	       !strcmp(a->candidate, b->candidate);
}

/* The [total] difference of @class for one pair and workload; NAN when not recorded. */
static double class_total(const struct insn_diffs *t, const struct insn_diff *pair,
			  const char *workload, const char *class)
{
	for (size_t i = 0; i < t->n; i++)
		if (same_pair(&t->v[i], pair) && !strcmp(t->v[i].workload, workload) &&
		    !strcmp(t->v[i].function, "[total]") && !strcmp(t->v[i].class, class))
			return t->v[i].diff;
	return NAN;
}

/* Per function of one pair: its mean, least and largest difference over the workloads. */
struct insn_fn {
	const struct insn_diff *first;
	double sum, min, max;
	size_t n;
};

static int fn_by_size(const void *a, const void *b)
{
	const struct insn_fn *x = a, *y = b;
	double dx = fabs(x->sum / x->n), dy = fabs(y->sum / y->n);

	return dx < dy ? 1 : dx > dy ? -1 : strcmp(x->first->function, y->first->function);
}

static void pair_functions(struct doc *d, const struct insn_diffs *t, const struct insn_diff *p,
			   size_t n_workloads, size_t top)
{
	static const char *const heads[] = { "function", "module", "class", "mean diff/IO",
					     "min", "max", "workloads", NULL };
	struct insn_fn *fns = calloc(t->n, sizeof(*fns));
	struct table tab = { .numeric = { false, false, false, true, true, true, true } };
	size_t n = 0, shown = 0;

	if (!fns)
		abort();
	for (size_t i = 0; i < t->n; i++) {
		const struct insn_diff *r = &t->v[i];
		size_t k;

		if (!same_pair(r, p) || !strcmp(r->function, "[total]"))
			continue;
		for (k = 0; k < n; k++)
			if (!strcmp(fns[k].first->function, r->function) &&
			    !strcmp(fns[k].first->module, r->module))
				break;
		if (k == n)
			fns[n++] = (struct insn_fn){ .first = r, .min = INFINITY, .max = -INFINITY };
		fns[k].sum += r->diff;
		fns[k].min = fmin(fns[k].min, r->diff);
		fns[k].max = fmax(fns[k].max, r->diff);
		fns[k].n++;
	}
	qsort(fns, n, sizeof(*fns), fn_by_size);
	for (size_t k = 0; k < n && shown < top; k++) {
		if (fabs(fns[k].sum / fns[k].n) < INSN_MIN_DIFF)
			break;
		if (!shown++)
			table_begin(d, &tab, heads);
		cellf(&tab, 0, "%s", fns[k].first->function);
		cellf(&tab, 1, "%s", fns[k].first->module[0] ? fns[k].first->module : "vmlinux");
		cellf(&tab, 2, "%s", fns[k].first->class);
		cellf(&tab, 3, "%+.1f", fns[k].sum / fns[k].n);
		cellf(&tab, 4, "%+.1f", fns[k].min);
		cellf(&tab, 5, "%+.1f", fns[k].max);
		cellf(&tab, 6, "%zu of %zu", fns[k].n, n_workloads);
		table_row(d, &tab);
	}
	if (shown)
		table_end(d);
	else
		doc_para(d, "No function differs by %.1f instructions per I/O or more.",
			 INSN_MIN_DIFF);
	free(fns);
}

/* The workloads of one pair, in file order. */
static void pair_workloads(const struct insn_diffs *t, const struct insn_diff *p,
			   struct name_list *out)
{
	for (size_t i = 0; i < t->n; i++)
		if (same_pair(&t->v[i], p))
			name_list_add(out, t->v[i].workload);
}

static void pair_section(struct doc *d, const struct insn_diffs *t, const struct insn_diff *p)
{
	static const char *const heads[] = { "workload", "driver", "layer", "core", "kernel",
					     "total", NULL };
	struct table tab = { .numeric = { false, true, true, true, true, true } };
	struct name_list wls = { 0 };

	doc_heading(d, 3, "%s: %s minus %s", p->family, p->candidate, p->baseline);
	pair_workloads(t, p, &wls);
	table_begin(d, &tab, heads);
	for (size_t w = 0; w < wls.n; w++) {
		double sum = 0;

		cellf(&tab, 0, "%s", wls.names[w]);
		for (size_t c = 0; c < N_CLASSES; c++) {
			double v = class_total(t, p, wls.names[w], insn_classes[c]);

			cellf(&tab, 1 + c, isnan(v) ? "-" : "%+.1f", v);
			sum += isnan(v) ? 0 : v;
		}
		cellf(&tab, 5, "%+.1f", sum);
		table_row(d, &tab);
	}
	table_end(d);
	doc_para(d, "Functions with the largest difference (instructions per I/O, %s minus %s, "
		 "mean over the workloads where the function ran). Counterpart functions of the "
		 "twin map (twins.tsv) are one row, raw/safe; a function without a counterpart "
		 "shows its whole count:", p->candidate, p->baseline);
	pair_functions(d, t, p, wls.n, INSN_SHOWN_FUNCTIONS);
	name_list_free(&wls);
}

/* Largest |difference| first. */
static int diff_by_size(const void *a, const void *b)
{
	const struct insn_diff *x = *(const struct insn_diff *const *)a;
	const struct insn_diff *y = *(const struct insn_diff *const *)b;

	return fabs(x->diff) < fabs(y->diff) ? 1 : fabs(x->diff) > fabs(y->diff) ? -1 :
	       strcmp(x->function, y->function);
}

/* A driver or layer row of insn-diff.csv: what driver_insn_per_io counts. */
static bool driver_class(const struct insn_diff *r)
{
	return !strcmp(r->class, "driver") || !strcmp(r->class, "layer");
}

bool insn_pair_driver_table(struct doc *d, const struct run_data *run, const char *family,
			    const char *workload, const char *base, const char *cand)
{
	static const char *const heads[] = { "function", "class", "raw", "variant",
					     "difference", NULL };
	struct table tab = { .numeric = { false, false, true, true, true } };
	const struct insn_diff **rows;
	double total = 0, shown_sum = 0;
	size_t n = 0, shown = 0;
	bool have = false;
	struct insn_diffs t;

	if (!insn_diffs_load(run, &t))
		return false;
	rows = calloc(t.n, sizeof(*rows));
	if (!rows)
		abort();
	for (size_t i = 0; i < t.n; i++) {
		const struct insn_diff *r = &t.v[i];

		if (strcmp(r->family, family) || strcmp(r->workload, workload) ||
		    strcmp(r->baseline, base) || strcmp(r->candidate, cand) || !driver_class(r))
			continue;
		if (!strcmp(r->function, "[total]")) {
			total += r->diff;
			have = true;
		} else {
			rows[n++] = r;
		}
	}
	if (!have)
		goto out;
	qsort(rows, n, sizeof(*rows), diff_by_size);
	table_begin(d, &tab, heads);
	for (size_t k = 0; k < n && shown < INSN_SHOWN_FUNCTIONS; k++, shown++) {
		if (fabs(rows[k]->diff) < INSN_MIN_DIFF)
			break;
		cellf(&tab, 0, "%s", rows[k]->function);
		cellf(&tab, 1, "%s", rows[k]->class);
		cellf(&tab, 2, "%.1f", rows[k]->base);
		cellf(&tab, 3, "%.1f", rows[k]->cand);
		cellf(&tab, 4, "%+.1f", rows[k]->diff);
		table_row(d, &tab);
		shown_sum += rows[k]->diff;
	}
	if (shown < n) {
		cellf(&tab, 0, "the rest (%zu functions)", n - shown);
		cellf(&tab, 1, "-");
		cellf(&tab, 2, "-");
		cellf(&tab, 3, "-");
		cellf(&tab, 4, "%+.1f", total - shown_sum);
		table_row(d, &tab);
	}
	cellf(&tab, 0, "all (driver_insn_per_io)");
	cellf(&tab, 1, "-");
	cellf(&tab, 2, "-");
	cellf(&tab, 3, "-");
	cellf(&tab, 4, "%+.1f", total);
	table_row(d, &tab);
	table_end(d);
out:
	free(rows);
	free(t.v);
	return have;
}

/* Instruction classes and the cycle estimate --------------------------------------- */

/* The arms the class section compares, by role: the raw, the safe and the Rust twin. */
#define CLASS_ARMS	3
static const enum arm_role class_roles[CLASS_ARMS] = { ARM_RAW, ARM_SAFE, ARM_RUST };

/* What a PMU measured per I/O, when the run has it (host mode on bare metal). */
#define PMU_CYCLES_METRIC	"cycles_per_io"

static const char *predict_arm(const struct run_data *run, const char *family,
			       enum arm_role role);

/* The mean of the valid samples of @metric of one arm and workload; NAN when none. */
static double arm_mean(const struct run_data *run, const char *family, const char *arm,
		       const char *workload, const char *metric)
{
	double sum = 0;
	size_t n = 0;

	for (size_t i = 0; arm && i < run->samples.n; i++) {
		const struct sample_row *r = &run->samples.rows[i];

		if (r->valid && !strcmp(r->metric, metric) && !strcmp(r->arm, arm) &&
		    !strcmp(r->workload, workload) && !strcmp(r->family, family)) {
			sum += r->value;
			n++;
		}
	}
	return n ? sum / n : NAN;
}

/* The arms of @family by class_roles (NULL for a role it lacks); false without raw and safe. */
static bool class_arms(const struct run_data *run, const char *family,
		       const char *arms[CLASS_ARMS])
{
	for (int a = 0; a < CLASS_ARMS; a++)
		arms[a] = predict_arm(run, family, class_roles[a]);
	return arms[0] && arms[1];
}

/* Whether @family's raw arm has class counts in @workload (a plugin with classes ran). */
static bool has_classes(const struct run_data *run, const char *family, const char *raw,
			const char *workload)
{
	char metric[RESULTS_NAME_LEN];

	snprintf(metric, sizeof(metric), "%s_per_io", insn_class_table[INSN_CLASS_JCC].name);
	return !isnan(arm_mean(run, family, raw, workload, metric));
}

/* A class metric's name: "C_per_io" or "driver_C_per_io". */
static void class_metric(char *out, size_t len, bool driver, int c)
{
	snprintf(out, len, "%s%s_per_io", driver ? "driver_" : "", insn_class_table[c].name);
}

/* Per I/O of one arm: instructions, class counts; whole path or driver plus layer. */
struct class_counts {
	double insns, cls[N_INSN_CLASSES];
};

static void class_counts_of(const struct run_data *run, const char *family, const char *arm,
			    const char *workload, bool driver, struct class_counts *out)
{
	char metric[RESULTS_NAME_LEN];

	out->insns = arm_mean(run, family, arm, workload,
			      driver ? "driver_insn_per_io" : "insn_per_io");
	for (int c = 0; c < N_INSN_CLASSES; c++) {
		class_metric(metric, sizeof(metric), driver, c);
		out->cls[c] = arm_mean(run, family, arm, workload, metric);
	}
}

static double estimate_of(const struct class_counts *k, enum insn_uarch u)
{
	double cls[N_INSN_CLASSES];

	for (int c = 0; c < N_INSN_CLASSES; c++)
		cls[c] = isnan(k->cls[c]) ? 0 : k->cls[c];
	return insn_estimate(cls, k->insns, u);
}

static void cell_diff(struct table *t, size_t col, double a, double b)
{
	if (isnan(a) || isnan(b))
		cellf(t, col, "-");
	else
		cellf(t, col, "%+.2f", b - a);
}

static void cell_value(struct table *t, size_t col, double v)
{
	if (isnan(v))
		cellf(t, col, "-");
	else
		cellf(t, col, "%.2f", v);
}

/* One row of the class table: the whole path and driver plus layer of each arm. */
static void class_row(struct table *t, const char *what, const double whole[CLASS_ARMS],
		      const double driver[CLASS_ARMS])
{
	cellf(t, 0, "%s", what);
	for (int a = 0; a < CLASS_ARMS; a++) {
		cell_value(t, 1 + a, whole[a]);
		cell_value(t, 6 + a, driver[a]);
	}
	for (int a = 1; a < CLASS_ARMS; a++) {
		cell_diff(t, 3 + a, whole[0], whole[a]);
		cell_diff(t, 8 + a, driver[0], driver[a]);
	}
}

/* The estimated cycle difference of arm @a over raw, as a sentence, with the measured cycles. */
static void class_summary(struct doc *d, const char *const arms[CLASS_ARMS], int a,
			  const struct class_counts k[CLASS_ARMS],
			  const struct class_counts kd[CLASS_ARMS])
{
	char text[2048];
	size_t used = 0;

	used += snprintf(text + used, sizeof(text) - used, "%s minus %s: %+.1f instructions per "
			 "I/O (%+.2f %% of %s's)", arms[a], arms[0], k[a].insns - k[0].insns,
			 100 * (k[a].insns - k[0].insns) / k[0].insns, arms[0]);
	for (int u = 0; u < N_INSN_UARCHS && used < sizeof(text); u++) {
		double e0 = estimate_of(&k[0], u), e = estimate_of(&k[a], u);

		used += snprintf(text + used, sizeof(text) - used, "; estimated %+.1f cycles per "
				 "I/O on %s (%+.2f %% of %s's estimated %.0f)", e - e0,
				 insn_uarch_titles[u], 100 * (e - e0) / e0, arms[0], e0);
	}
	for (int u = 0; u < N_INSN_UARCHS && used < sizeof(text); u++) {
		double e0 = estimate_of(&k[0], u);
		double dd = estimate_of(&kd[a], u) - estimate_of(&kd[0], u);

		used += snprintf(text + used, sizeof(text) - used, "%s %+.1f on %s (%+.2f %% of "
				 "%s's estimated whole path)", u ? ";" : ". Driver plus layer alone "
				 "(exact counts):", dd, insn_uarch_titles[u], 100 * dd / e0, arms[0]);
	}
	doc_para(d, "%s.", text);
}

/* Measured cycles per I/O next to the estimate, or one line saying there are none. */
static void class_pmu(struct doc *d, const struct run_data *run, const char *family,
		      const char *workload, const char *const arms[CLASS_ARMS],
		      const struct class_counts k[CLASS_ARMS])
{
	bool any = false;

	for (int a = 0; a < CLASS_ARMS; a++) {
		double m = arm_mean(run, family, arms[a], workload, PMU_CYCLES_METRIC);

		if (!arms[a] || isnan(m))
			continue;
		any = true;
		doc_para(d, "%s: measured %.0f cycles per I/O (PMU, %s); the estimate is %.0f "
			 "(%s, %.2f of measured) and %.0f (%s, %.2f of measured).", arms[a], m,
			 PMU_CYCLES_METRIC, estimate_of(&k[a], INSN_UARCH_GLC),
			 insn_uarch_titles[INSN_UARCH_GLC], estimate_of(&k[a], INSN_UARCH_GLC) / m,
			 estimate_of(&k[a], INSN_UARCH_ZEN4), insn_uarch_titles[INSN_UARCH_ZEN4],
			 estimate_of(&k[a], INSN_UARCH_ZEN4) / m);
	}
	if (!any)
		doc_para(d, "No measured cycles per I/O to set the estimate against (%s comes only "
			 "from host mode on a machine with a PMU).", PMU_CYCLES_METRIC);
}

static void class_workload(struct doc *d, const struct run_data *run, const char *family,
			   const char *workload, const char *const arms[CLASS_ARMS])
{
	static const char *const heads[] = {
		"per I/O", "raw", "safe", "Rust", "safe-raw", "Rust-raw", "driver raw",
		"driver safe", "driver Rust", "driver safe-raw", "driver Rust-raw", NULL,
	};
	struct table tab = { .numeric = { false, true, true, true, true, true, true, true, true,
					  true, true } };
	struct class_counts k[CLASS_ARMS], kd[CLASS_ARMS];
	double whole[CLASS_ARMS], driver[CLASS_ARMS];
	char what[64];

	for (int a = 0; a < CLASS_ARMS; a++) {
		class_counts_of(run, family, arms[a], workload, false, &k[a]);
		class_counts_of(run, family, arms[a], workload, true, &kd[a]);
	}
	doc_heading(d, 3, "%s %s: %s, %s%s%s", family, workload, arms[0], arms[1],
		    arms[2] ? ", " : "", arms[2] ? arms[2] : "");
	table_begin(d, &tab, heads);
	for (int a = 0; a < CLASS_ARMS; a++) {
		whole[a] = k[a].insns;
		driver[a] = kd[a].insns;
	}
	class_row(&tab, "instructions", whole, driver);
	table_row(d, &tab);
	for (int c = 0; c < N_INSN_CLASSES; c++) {
		if (isnan(k[0].cls[c]))
			continue;
		for (int a = 0; a < CLASS_ARMS; a++) {
			whole[a] = k[a].cls[c];
			driver[a] = kd[a].cls[c];
		}
		class_row(&tab, insn_class_table[c].name, whole, driver);
		table_row(d, &tab);
	}
	for (int u = 0; u < N_INSN_UARCHS; u++) {
		for (int a = 0; a < CLASS_ARMS; a++) {
			whole[a] = arms[a] ? estimate_of(&k[a], u) : NAN;
			driver[a] = arms[a] ? estimate_of(&kd[a], u) : NAN;
		}
		snprintf(what, sizeof(what), "est. cycles, %s", insn_uarch_titles[u]);
		class_row(&tab, what, whole, driver);
		table_row(d, &tab);
	}
	table_end(d);
	for (int a = 1; a < CLASS_ARMS; a++)
		if (arms[a] && !isnan(k[a].insns))
			class_summary(d, arms, a, k, kd);
	class_pmu(d, run, family, workload, arms, k);
}

static void section_classes(struct doc *d, const struct run_data *run,
			    const struct plot_list *pl)
{
	struct name_list fams = { 0 };
	bool any = false;

	run_families(run, &fams);
	for (size_t f = 0; f < fams.n; f++) {
		const char *arms[CLASS_ARMS];
		struct name_list wls = { 0 };
		char base[160];

		if (!class_arms(run, fams.names[f], arms))
			continue;
		run_workloads(run, fams.names[f], &wls);
		for (size_t w = 0; w < wls.n; w++) {
			if (!has_classes(run, fams.names[f], arms[0], wls.names[w]))
				continue;
			if (!any) {
				doc_heading(d, 2, "What the extra instructions cost (an estimate)");
				doc_para(d, "Executed instructions per I/O by class (QEMU plugin; "
					 "docs/insn-classes.md): the whole path and driver plus layer, "
					 "means over the samples; the samples.csv metrics <class>_per_io "
					 "are compared between arms with intervals like every other "
					 "metric. The estimated cycles weigh each class by a published "
					 "cost for Golden Cove and Zen 4 and every other instruction by "
					 "a flat cost: an estimate of CPU work, not a time.");
				any = true;
			}
			snprintf(base, sizeof(base), "insnclass-%s", fams.names[f]);
			for (size_t i = 0; i < pl->n && w == 0; i++)
				if (!strcmp(pl->v[i].base, base))
					doc_figure(d, run, &pl->v[i]);
			class_workload(d, run, fams.names[f], wls.names[w], arms);
		}
		name_list_free(&wls);
	}
	name_list_free(&fams);
}

/* The header of the chart's data: the flat cost, then each class that costs extra. */
static void plot_classes_header(FILE *f, size_t *cols)
{
	fprintf(f, "label flat-cost");
	*cols = 1;
	for (int c = 0; c < N_INSN_CLASSES; c++)
		if (insn_class_extra(c, INSN_UARCH_GLC) || insn_class_extra(c, INSN_UARCH_ZEN4)) {
			fprintf(f, " %s", insn_class_table[c].name);
			(*cols)++;
		}
	fputc('\n', f);
}

/* One bar: @cand minus @raw on @u, its extra instructions at the flat cost, then by class. */
static void plot_classes_bar(FILE *f, const char *label, const struct class_counts *raw,
			     const struct class_counts *cand, enum insn_uarch u)
{
	put_label(f, label);
	fputc(' ', f);
	put_num(f, (cand->insns - raw->insns) * insn_cost_other[u]);
	for (int c = 0; c < N_INSN_CLASSES; c++) {
		double d = isnan(cand->cls[c]) ? 0 : cand->cls[c] - raw->cls[c];

		if (!insn_class_extra(c, INSN_UARCH_GLC) && !insn_class_extra(c, INSN_UARCH_ZEN4))
			continue;
		fputc(' ', f);
		put_num(f, d * insn_class_extra(c, u));
	}
	fputc('\n', f);
}

/*
 * The chart of where a family's extra estimated cycles come from: per workload, candidate
 * (safe, Rust), path (whole, driver plus layer) and microarchitecture, the difference from
 * raw split into its extra instructions at the flat cost and, per class, its extra count
 * times what the class costs beyond the flat cost (the parts add up to the difference).
 */
static void plot_classes(const struct run_data *run, const char *scripts_dir, const char *family,
			 struct plot_list *out)
{
	const char *arms[CLASS_ARMS];
	struct name_list wls = { 0 };
	char title[256], caption[320];
	struct figure fig;
	size_t rows = 0, cols = 0;
	FILE *f = NULL;

	if (!class_arms(run, family, arms))
		return;
	run_workloads(run, family, &wls);
	for (size_t w = 0; w < wls.n; w++) {
		struct class_counts k[2][CLASS_ARMS];

		if (!has_classes(run, family, arms[0], wls.names[w]))
			continue;
		if (!f) {
			snprintf(title, sizeof(title), "insnclass-%s", family);
			fig_init(&fig, run, scripts_dir, "insnclass.gp", title);
			f = fig_open_data(&fig);
			if (!f)
				goto out;
			plot_classes_header(f, &cols);
		}
		for (int p = 0; p < 2; p++)
			for (int a = 0; a < CLASS_ARMS; a++)
				class_counts_of(run, family, arms[a], wls.names[w], p, &k[p][a]);
		for (int a = 1; a < CLASS_ARMS; a++)
			for (int p = 0; p < 2 && arms[a] && !isnan(k[0][a].insns); p++)
				for (int u = 0; u < N_INSN_UARCHS; u++) {
					char label[200];

					snprintf(label, sizeof(label), "%s%s%s %s %s (%+.0f insn)",
						 wls.n > 1 ? wls.names[w] : "", wls.n > 1 ? " " : "",
						 arms[a], p ? "driver" : "whole", insn_uarch_names[u],
						 k[p][a].insns - k[p][0].insns);
					plot_classes_bar(f, label, &k[p][0], &k[p][a], u);
					rows++;
				}
	}
	if (!f)
		goto out;
	fclose(f);
	fig_num(&fig, "plotwidth", plot_width(rows, 1));
	fig_num(&fig, "ncols", (double)cols + 1);
	snprintf(title, sizeof(title), "%s: where the extra estimated cycles come from", family);
	fig_str(&fig, "plottitle", title);
	fig_str(&fig, "ylab", "minus raw: estimated cycles per I/O (not a time)");
	snprintf(caption, sizeof(caption), "%s: estimated CPU cycles per I/O beyond the raw twin, "
		 "whole path and driver plus layer, by instruction class, for Golden Cove (glc) "
		 "and Zen 4; each label gives the extra instructions. An estimate of CPU work, "
		 "not a time (docs/insn-classes.md).", family);
	fig_render(&fig, caption, out);
out:
	name_list_free(&wls);
}

void section_insn(struct doc *d, const struct run_data *run, const struct plot_list *pl)
{
	struct insn_diffs t;
	struct name_list fams = { 0 };
	bool any = false;

	if (!insn_diffs_load(run, &t))
		return;
	for (size_t i = 0; i < t.n && !any; i++)
		any = raw_to_safe(run, &t.v[i]);
	if (!any)
		goto out;
	doc_heading(d, 2, "Where the instructions go");
	doc_para(d, "Exact guest instructions per I/O (QEMU plugin, icount clock) that each safe "
		 "arm executes beyond the raw twin, by where the code lives: driver (the module), "
		 "layer (the safe abstraction layer's out-of-line functions), core (the block or "
		 "net core the driver calls) and kernel (everything else in the measured window). "
		 "Means over the samples; from insn-diff.csv.");
	for (size_t i = 0; i < t.n; i++)
		if (raw_to_safe(run, &t.v[i]))
			name_list_add(&fams, t.v[i].family);
	for (size_t f = 0; f < fams.n; f++) {
		char base[160];

		snprintf(base, sizeof(base), "insn-%s", fams.names[f]);
		for (size_t i = 0; i < pl->n; i++)
			if (!strcmp(pl->v[i].base, base))
				doc_figure(d, run, &pl->v[i]);
	}
	for (size_t i = 0; i < t.n; i++) {
		bool seen = false;

		if (!raw_to_safe(run, &t.v[i]))
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = same_pair(&t.v[j], &t.v[i]);
		if (!seen)
			pair_section(d, &t, &t.v[i]);
	}
	name_list_free(&fams);
out:
	free(t.v);
	section_classes(d, run, pl);
}

void plot_insn(const struct run_data *run, const char *scripts_dir, const char *family,
	       struct plot_list *out)
{
	char base[160], title[256], caption[256];
	struct insn_diffs t;
	struct figure fig;
	size_t rows = 0, pairs = 0;
	FILE *f;

	plot_classes(run, scripts_dir, family, out);
	if (!insn_diffs_load(run, &t))
		return;
	for (size_t i = 0; i < t.n; i++) {
		bool seen = false;

		if (strcmp(t.v[i].family, family) || !raw_to_safe(run, &t.v[i]))
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = same_pair(&t.v[j], &t.v[i]);
		pairs += !seen;
	}
	if (!pairs)
		goto out;
	snprintf(base, sizeof(base), "insn-%s", family);
	fig_init(&fig, run, scripts_dir, "insn.gp", base);
	f = fig_open_data(&fig);
	if (!f)
		goto out;
	fprintf(f, "idx label driver layer core kernel\n");
	for (size_t i = 0; i < t.n; i++) {
		const struct insn_diff *r = &t.v[i];
		char label[160];
		bool seen = false;

		if (strcmp(r->family, family) || !raw_to_safe(run, r))
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = same_pair(&t.v[j], r) && !strcmp(t.v[j].workload, r->workload);
		if (seen)
			continue;
		if (pairs > 1)
			snprintf(label, sizeof(label), "%s %s", r->workload, r->candidate);
		else
			snprintf(label, sizeof(label), "%s", r->workload);
		fprintf(f, "%zu ", ++rows);
		put_label(f, label);
		for (size_t c = 0; c < N_CLASSES; c++) {
			fputc(' ', f);
			put_num(f, class_total(&t, r, r->workload, insn_classes[c]));
		}
		fputc('\n', f);
	}
	fclose(f);
	fig_num(&fig, "plotwidth", plot_width(rows, N_CLASSES));
	fig_num(&fig, "nrows", rows);
	snprintf(title, sizeof(title), "%s: where the safe twin's extra instructions go", family);
	fig_str(&fig, "plottitle", title);
	fig_str(&fig, "ylab", "safe minus raw, instructions per I/O");
	snprintf(caption, sizeof(caption), "%s: instructions per I/O the safe arm executes beyond "
		 "the raw twin, by where the code lives (driver, safe layer, block/net core, rest "
		 "of the kernel); exact counts from the QEMU plugin.", family);
	fig_render(&fig, caption, out);
out:
	free(t.v);
}

/* Does the C layer predict Rust? ------------------------------------------------------- */

static const char *const predict_metrics[RUST_PREDICT_METRICS] = {
	"insn_per_io", "driver_insn_per_io",
};

/* Functions of the Rust-minus-safe difference listed per Rust arm. */
#define PREDICT_TOP_FUNCTIONS	8

const char *rust_predict_metric(size_t i)
{
	return i < RUST_PREDICT_METRICS ? predict_metrics[i] : NULL;
}

/* One arm's valid samples of one metric and workload, with the boot of each. */
struct predict_series {
	double *x;
	unsigned int *boot;
	size_t n, cap, cap_boot;
};

static void predict_series_load(const struct run_data *run, const char *family, const char *arm,
				const char *workload, const char *metric,
				struct predict_series *s)
{
	s->n = 0;
	for (size_t i = 0; i < run->samples.n; i++) {
		const struct sample_row *r = &run->samples.rows[i];

		if (!r->valid || strcmp(r->metric, metric) || strcmp(r->arm, arm) ||
		    strcmp(r->workload, workload) || strcmp(r->family, family))
			continue;
		s->x = vec_grow(s->x, s->n, &s->cap, sizeof(*s->x));
		s->boot = vec_grow(s->boot, s->n, &s->cap_boot, sizeof(*s->boot));
		s->x[s->n] = r->value;
		s->boot[s->n++] = r->boot;
	}
}

/* The first arm of @family with role @role and no tracing, by the run's facts; NULL if none. */
static const char *predict_arm(const struct run_data *run, const char *family,
			       enum arm_role role)
{
	for (size_t i = 0; i < run->facts.n; i++) {
		const struct fact *f = &run->facts.v[i];

		if (f->kind == FACT_ARM && !strcmp(f->family, family) &&
		    facts_arm_role(&run->facts, family, f->name) == role && !fact_get(f, "traced"))
			return f->name;
	}
	return NULL;
}

static double series_mean(const struct predict_series *s)
{
	double sum = 0;

	for (size_t i = 0; i < s->n; i++)
		sum += s->x[i];
	return sum / s->n;
}

/* Fills metric @k of @row from the samples; false when an arm has none. */
static bool predict_metric(const struct run_data *run, struct rust_predict *row, size_t k,
			   struct predict_series *s)
{
	const char *arms[3] = { row->rust, row->safe, row->raw };
	struct series sr[3];
	struct ablation_group g[2];
	static const double coef[2] = { 1, -1 };
	struct rust_predict_value *m = &row->m[k];

	for (int a = 0; a < 3; a++) {
		predict_series_load(run, row->family, arms[a], row->workload, predict_metrics[k],
				    &s[a]);
		if (!s[a].n)
			return false;
		sr[a] = (struct series){ s[a].x, s[a].boot, s[a].n };
	}
	m->rust = series_mean(&s[0]);
	m->safe = series_mean(&s[1]);
	m->raw = series_mean(&s[2]);
	if (stats_compare(&sr[2], &sr[0], false, 0, &m->rust_raw) ||
	    stats_compare(&sr[2], &sr[1], false, 0, &m->safe_raw))
		return false;
	ablation_group_of(s[0].x, s[0].n, &g[0]);
	ablation_group_of(s[1].x, s[1].n, &g[1]);
	return !ablation_combine(g, coef, 2, &m->gap);
}

size_t rust_predict_rows(const struct run_data *run, struct rust_predict **out)
{
	struct predict_series s[3] = { 0 };
	size_t n = 0, cap = 0;

	*out = NULL;
	for (size_t i = 0; i < run->facts.n; i++) {
		const struct fact *f = &run->facts.v[i];
		const char *raw, *safe;
		struct name_list wls = { 0 };

		if (f->kind != FACT_ARM ||
		    facts_arm_role(&run->facts, f->family, f->name) != ARM_RUST ||
		    fact_get(f, "traced"))
			continue;
		raw = predict_arm(run, f->family, ARM_RAW);
		safe = predict_arm(run, f->family, ARM_SAFE);
		if (!raw || !safe)
			continue;
		run_workloads(run, f->family, &wls);
		for (size_t w = 0; w < wls.n; w++) {
			struct rust_predict row = { 0 };
			bool any = false;

			snprintf(row.family, sizeof(row.family), "%s", f->family);
			snprintf(row.workload, sizeof(row.workload), "%s", wls.names[w]);
			snprintf(row.rust, sizeof(row.rust), "%.*s", (int)sizeof(row.rust) - 1, f->name);
			snprintf(row.safe, sizeof(row.safe), "%.*s", (int)sizeof(row.safe) - 1, safe);
			snprintf(row.raw, sizeof(row.raw), "%.*s", (int)sizeof(row.raw) - 1, raw);
			for (size_t k = 0; k < RUST_PREDICT_METRICS; k++) {
				row.m[k].have = predict_metric(run, &row, k, s);
				any |= row.m[k].have;
			}
			if (any)
				*VEC_PUSH(*out, n, cap) = row;
		}
		name_list_free(&wls);
	}
	for (int a = 0; a < 3; a++) {
		free(s[a].x);
		free(s[a].boot);
	}
	return n;
}

static void predict_ratio(struct table *t, size_t col, const struct comparison *c)
{
	cellf(t, col, "%.4f [%.4f, %.4f]", c->ratio, c->ci_low, c->ci_high);
}

/* The largest Rust-minus-safe differences by function over the workloads (insn-diff.csv). */
static void predict_functions(struct doc *d, const struct insn_diffs *t, const char *family,
			      const char *safe, const char *rust)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].family, family) && !strcmp(t->v[i].baseline, safe) &&
		    !strcmp(t->v[i].candidate, rust)) {
			struct name_list wls = { 0 };

			doc_para(d, "%s: functions with the largest difference, %s minus %s "
				 "(instructions per I/O, mean over the workloads where the function "
				 "ran; counterparts paired through the twin map, other Rust functions by "
				 "their demangled paths):",
				 family, rust, safe);
			pair_workloads(t, &t->v[i], &wls);
			pair_functions(d, t, &t->v[i], wls.n, PREDICT_TOP_FUNCTIONS);
			name_list_free(&wls);
			return;
		}
}

void section_rust_predict(struct doc *d, const struct run_data *run)
{
	static const char *const heads[] = {
		"family", "workload", "Rust arm", "metric", "raw", "safe", "Rust",
		"safe/raw [95% CI]", "rust/raw [95% CI]", "(rust-raw)-(safe-raw) per I/O [95% CI]",
		NULL,
	};
	struct table tab = { .numeric = { [4] = true, [5] = true, [6] = true, [7] = true,
					  [8] = true, [9] = true } };
	struct rust_predict *rows;
	struct insn_diffs diffs;
	size_t n = rust_predict_rows(run, &rows);
	bool have_diffs;

	if (!n)
		return;
	doc_heading(d, 2, "Does the C layer predict Rust?");
	doc_para(d, "The safe C twin models at run time what the Rust abstractions do; here it "
		 "is set against the Rust twin, both measured against the raw twin. Exact guest "
		 "instructions per I/O (QEMU plugin): the whole path (insn_per_io) and driver plus "
		 "layer (driver_insn_per_io). Ratios of geometric means with their 95 %% Welch "
		 "intervals on log values; the last column is what Rust costs beyond the safe "
		 "twin's overhead, rust minus safe per I/O with its 95 %% Welch interval: an "
		 "interval holding 0 means the C layer predicts Rust's cost at this precision.");
	table_begin(d, &tab, heads);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < RUST_PREDICT_METRICS; k++) {
			const struct rust_predict_value *m = &rows[i].m[k];

			if (!m->have)
				continue;
			cellf(&tab, 0, "%s", rows[i].family);
			cellf(&tab, 1, "%s", rows[i].workload);
			cellf(&tab, 2, "%s", rows[i].rust);
			cellf(&tab, 3, "%s", predict_metrics[k]);
			cellf(&tab, 4, "%.1f", m->raw);
			cellf(&tab, 5, "%.1f", m->safe);
			cellf(&tab, 6, "%.1f", m->rust);
			predict_ratio(&tab, 7, &m->safe_raw);
			predict_ratio(&tab, 8, &m->rust_raw);
			if (isnan(m->gap.lo))
				cellf(&tab, 9, "%+.1f [-]", m->gap.value);
			else
				cellf(&tab, 9, "%+.1f [%+.1f, %+.1f]", m->gap.value, m->gap.lo,
				      m->gap.hi);
			table_row(d, &tab);
		}
	table_end(d);
	have_diffs = insn_diffs_load(run, &diffs);
	for (size_t i = 0; i < n && have_diffs; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(rows[j].family, rows[i].family) &&
			       !strcmp(rows[j].rust, rows[i].rust);
		if (!seen)
			predict_functions(d, &diffs, rows[i].family, rows[i].safe, rows[i].rust);
	}
	free(diffs.v);
	free(rows);
}
