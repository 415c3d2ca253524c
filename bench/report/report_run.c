// SPDX-License-Identifier: GPL-2.0
/*
 * report_run.c - a run folder as the reporting side reads it: the manifest and
 * the tables (through the runner's readers in results.c), plus the small
 * lookups every report, comparison and chart needs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "matrix.h"
#include "report_run.h"
#include "vec.h"

const char *const key_metrics[] = {
	"iops", "bw", "lat_p50", "lat_p99", "cpu_ns_per_io", "insn_per_io",
	"pps", "bps", "cpu_ns_per_pkt", NULL,
};

bool is_key_metric(const char *metric)
{
	for (const char *const *m = key_metrics; *m; m++)
		if (!strcmp(*m, metric))
			return true;
	return false;
}

static int load_manifest(const char *path, struct run_data *run, char *err, size_t len)
{
	json_error_t jerr;

	run->manifest = json_load_file(path, 0, &jerr);
	if (!run->manifest) {
		snprintf(err, len, "%s:%d: %s", path, jerr.line, jerr.text);
		return -1;
	}
	if (!json_is_object(run->manifest)) {
		snprintf(err, len, "%s:1: manifest is not a JSON object", path);
		return -1;
	}
	return 0;
}

static void set_run_id(struct run_data *run)
{
	json_t *id = json_object_get(run->manifest, "run_id");
	const char *base;
	size_t n;

	if (json_is_string(id) && json_string_length(id) > 0) {
		snprintf(run->id, sizeof(run->id), "%s", json_string_value(id));
		return;
	}
	base = strrchr(run->dir, '/');
	base = base ? base + 1 : run->dir;
	n = strnlen(base, sizeof(run->id) - 1);
	memcpy(run->id, base, n);
	run->id[n] = '\0';
}

/*
 * The run's facts.tsv; a run folder from before it was written has its matrix copy, which
 * is resolved against the family tables as the runner would have.
 */
static int load_facts(struct run_data *run, char *err, size_t len)
{
	char path[PATH_MAX];
	struct matrix *m;
	int rc;

	path_printf(path, sizeof(path), "%s/" FACTS_FILE, run->dir);
	if (access(path, F_OK) == 0)
		return facts_read(path, &run->facts, err, len);
	path_printf(path, sizeof(path), "%s/matrix.ini", run->dir);
	if (access(path, F_OK))
		return seterr(err, len, "%s/" FACTS_FILE ": %s", run->dir, strerror(ENOENT));
	m = malloc(sizeof(*m));
	if (!m)
		abort();
	rc = matrix_load(path, m, err, len);
	if (!rc)
		facts_resolve(m, &run->facts);
	free(m);
	return rc;
}

int run_load(const char *dir, enum run_need need, struct run_data *run, char *err, size_t len)
{
	char path[PATH_MAX];

	memset(run, 0, sizeof(*run));
	if (len)
		err[0] = '\0';
	if (!realpath(dir, run->dir)) {
		snprintf(err, len, "%s: %s", dir, strerror(errno));
		return -1;
	}
	path_printf(path, sizeof(path), "%s/manifest.json", run->dir);
	if (load_manifest(path, run, err, len))
		goto fail;
	set_run_id(run);
	path_printf(path, sizeof(path), "%s/samples.csv", run->dir);
	if (results_load_samples(path, &run->samples, err, len))
		goto fail;
	path_printf(path, sizeof(path), "%s/summary.csv", run->dir);
	if (need == RUN_NEED_SUMMARY || access(path, F_OK) == 0)
		if (results_load_summary(path, &run->summary, err, len))
			goto fail;
	path_printf(path, sizeof(path), "%s/settings.csv", run->dir);
	if (access(path, F_OK) == 0 && results_load_settings(path, &run->settings, err, len))
		goto fail;
	if (load_facts(run, err, len))
		goto fail;
	return 0;
fail:
	run_free(run);
	return -1;
}

void run_free(struct run_data *run)
{
	json_decref(run->manifest);
	run->manifest = NULL;
	sample_table_free(&run->samples);
	summary_table_free(&run->summary);
	settings_table_free(&run->settings);
	facts_free(&run->facts);
}

static json_t *find_key(json_t *obj, const char *key)
{
	const char *k;
	json_t *v, *found;

	if (!json_is_object(obj))
		return NULL;
	v = json_object_get(obj, key);
	if (v)
		return v;
	json_object_foreach(obj, k, v) {
		found = find_key(v, key);
		if (found)
			return found;
	}
	return NULL;
}

const char *manifest_get(json_t *manifest, const char *key, char *buf, size_t len)
{
	json_t *v = find_key(manifest, key);

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
	else
		return NULL;
	return buf;
}

enum arm_role run_arm_role(const struct run_data *run, const char *family, const char *arm)
{
	return facts_arm_role(&run->facts, family, arm);
}
long name_list_find(const struct name_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->names[i], name))
			return (long)i;
	return -1;
}

size_t name_list_add(struct name_list *l, const char *name)
{
	long i = name_list_find(l, name);

	if (i >= 0)
		return (size_t)i;
	l->names = vec_grow(l->names, l->n, &l->cap, sizeof(*l->names));
	snprintf(l->names[l->n], sizeof(l->names[l->n]), "%s", name);
	return l->n++;
}

void name_list_free(struct name_list *l)
{
	free(l->names);
	memset(l, 0, sizeof(*l));
}

size_t series_values(const struct sample_table *t, const char *family, const char *arm,
		     const char *workload, const char *metric, double **out)
{
	size_t n = 0, cap = 0;
	double *v = NULL;

	for (size_t i = 0; i < t->n; i++) {
		const struct sample_row *r = &t->rows[i];

		if (!r->valid || strcmp(r->metric, metric) || strcmp(r->arm, arm) ||
		    strcmp(r->workload, workload) || strcmp(r->family, family))
			continue;
		v = vec_grow(v, n, &cap, sizeof(*v));
		v[n++] = r->value;
	}
	free(*out);
	*out = v;
	return n;
}

void text_list_addf(struct text_list *l, const char *fmt, ...)
{
	va_list ap;
	char *line;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	if (!line) {
		fputs("twinbench: out of memory\n", stderr);
		abort();
	}
	*VEC_PUSH(l->lines, l->n, l->cap) = line;
}

void text_list_free(struct text_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->lines[i]);
	free(l->lines);
	memset(l, 0, sizeof(*l));
}

bool series_describe(const struct run_data *run, const char *family, const char *arm,
		     const char *workload, const char *metric, struct sample_stats *st)
{
	double *v = NULL;
	size_t n = series_values(&run->samples, family, arm, workload, metric, &v);

	stats_describe(v, n, st);
	free(v);
	return n > 0;
}

bool family_has_metric(const struct run_data *run, const char *family, const char *metric)
{
	for (size_t i = 0; i < run->samples.n; i++)
		if (!strcmp(run->samples.rows[i].metric, metric) &&
		    !strcmp(run->samples.rows[i].family, family))
			return true;
	return false;
}

const char *si_scale(double *v, double *other, double limit)
{
	static const char *const prefix[] = { "", "k", "M", "G", "T" };
	size_t p = 0;

	while (fabs(*v) >= limit && p + 1 < ARRAY_SIZE(prefix)) {
		*v /= 1000;
		if (other)
			*other /= 1000;
		p++;
	}
	return prefix[p];
}

const char *family_throughput_metric(const struct run_data *run, const char *family)
{
	static const char *const order[] = { "iops", "bps", "pps", "bw", NULL };

	for (const char *const *m = order; *m; m++)
		if (family_has_metric(run, family, *m))
			return *m;
	return NULL;
}

void run_families(const struct run_data *run, struct name_list *out)
{
	for (size_t i = 0; i < run->samples.n; i++)
		name_list_add(out, run->samples.rows[i].family);
}

void run_arms(const struct run_data *run, const char *family, struct name_list *out)
{
	static const enum arm_role order[] = {
		ARM_RAW, ARM_SAFE, ARM_VARIANT, ARM_UPSTREAM, ARM_RUST, ARM_NONE
	};

	for (size_t k = 0; k < ARRAY_SIZE(order); k++)
		for (size_t i = 0; i < run->samples.n; i++) {
			const struct sample_row *r = &run->samples.rows[i];

			if (!strcmp(r->family, family) &&
			    run_arm_role(run, family, r->arm) == order[k])
				name_list_add(out, r->arm);
		}
}

void run_workloads(const struct run_data *run, const char *family, struct name_list *out)
{
	for (size_t i = 0; i < run->samples.n; i++)
		if (!strcmp(run->samples.rows[i].family, family))
			name_list_add(out, run->samples.rows[i].workload);
}

void run_command(const struct run_data *run, char *out, size_t len)
{
	char b1[64], b2[PATH_MAX], b3[64], b4[64], b5[32], b6[32], families[256] = "";
	const char *profile = manifest_get(run->manifest, "profile", b1, sizeof(b1));
	const char *matrix = manifest_get(run->manifest, "matrix", b2, sizeof(b2));
	const char *mode = manifest_get(run->manifest, "mode", b3, sizeof(b3));
	const char *clock = manifest_get(run->manifest, "clock", b4, sizeof(b4));
	const char *seed = manifest_get(run->manifest, "seed", b5, sizeof(b5));
	const char *line = manifest_get(run->manifest, "line", b6, sizeof(b6));
	bool by_profile = profile && strcmp(profile, "custom");
	struct name_list fams = { 0 };

	run_families(run, &fams);
	for (size_t i = 0; i < fams.n; i++)
		snprintf(families + strlen(families), sizeof(families) - strlen(families), "%s%s",
			 i ? "," : "", fams.names[i]);
	name_list_free(&fams);
	snprintf(out, len, "bench/twinbench run %s %s --families %s%s%s%s%s%s%s%s%s",
		 by_profile ? "--profile" : "--matrix",
		 by_profile ? profile : matrix ? matrix : "<matrix>", families,
		 line ? " --kernel " : "", line ? line : "", mode ? " --mode " : "",
		 mode ? mode : "", clock ? " --clock " : "", clock ? clock : "",
		 seed ? " --seed " : "", seed ? seed : "");
}
