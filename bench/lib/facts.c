// SPDX-License-Identifier: GPL-2.0
/*
 * facts.c - resolves, writes and reads facts.tsv: a magic line, then one tab-separated line
 * per fact, "family|workload|arm FAMILY NAME key=value...".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "facts.h"
#include "family.h"
#include "matrix.h"
#include "plan.h"
#include "util.h"
#include "vec.h"

#define FACTS_MAGIC "# twinbench facts 1"

static const char *const kind_names[] = {
	[FACT_FAMILY] = "family", [FACT_WORKLOAD] = "workload", [FACT_ARM] = "arm",
};

struct fact *facts_add(struct facts *f, enum fact_kind kind, const char *family,
		       const char *name)
{
	struct fact *fact = VEC_PUSH(f->v, f->n, f->cap);

	memset(fact, 0, sizeof(*fact));
	fact->kind = kind;
	snprintf(fact->family, sizeof(fact->family), "%s", family);
	snprintf(fact->name, sizeof(fact->name), "%s", name);
	return fact;
}

void facts_set(struct fact *fact, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (fact->n_keys == FACTS_MAX_KEYS)
		return;
	snprintf(fact->keys[fact->n_keys].key, FACTS_KEY_LEN, "%s", key);
	va_start(ap, fmt);
	vsnprintf(fact->keys[fact->n_keys].value, FACTS_VALUE_LEN, fmt, ap);
	va_end(ap);
	fact->n_keys++;
}

static void resolve_workload(struct facts *out, const struct matrix_family *fam,
			     const struct workload *w)
{
	struct fact *f = facts_add(out, FACT_WORKLOAD, fam->name, w->name);
	const struct queue_settings *q = &w->queue;

	facts_set(f, "rw", "%s", w->rw);
	facts_set(f, "bs", "%u", w->bs);
	if (matrix_rw_is_block(w->rw))
		facts_set(f, "iodepth", "%u", w->iodepth);
	if (w->hipri)
		facts_set(f, "hipri", "1");
	facts_set(f, "numjobs", "%u", w->numjobs);
	facts_set(f, "cpus", "%s", w->cpus);
	if (!matrix_rw_is_block(w->rw))
		return;
	if (q->scheduler[0])
		facts_set(f, "scheduler", "%s", q->scheduler);
#define QUEUE_FACT(k) do { if (q->k >= 0) facts_set(f, #k, "%d", q->k); } while (0)
	QUEUE_FACT(iostats);
	QUEUE_FACT(add_random);
	QUEUE_FACT(nomerges);
	QUEUE_FACT(rq_affinity);
	QUEUE_FACT(max_sectors_kb);
	QUEUE_FACT(nr_requests);
#undef QUEUE_FACT
}

static void resolve_arm(struct facts *out, const struct matrix_family *fam,
			const struct family_arm *arm, bool traced)
{
	char name[sizeof(((struct fact *)0)->name)];
	struct fact *f;

	snprintf(name, sizeof(name), "%s%s", arm->name, traced ? TRACE_ARM_SUFFIX : "");
	f = facts_add(out, FACT_ARM, fam->name, name);
	facts_set(f, "role", "%s", arm_role_name(arm->role));
	facts_set(f, "module", "%s", arm->module);
	if (arm->twin)
		facts_set(f, "twin", "%s", arm->twin);
	if (arm->mechanism)
		facts_set(f, "mechanism", "%s", arm->mechanism);
	if (traced)
		facts_set(f, "traced", "1");
}

void facts_resolve(const struct matrix *m, struct facts *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < m->n_families; i++) {
		const struct matrix_family *fam = &m->families[i];
		struct fact *ff = facts_add(out, FACT_FAMILY, fam->name, fam->name);

		facts_set(ff, "primary_metric", "%s", fam->ops->primary_metric);
		facts_set(ff, "unit_metric", "%s", fam->ops->unit_metric);
		for (size_t w = 0; w < m->n_workloads; w++)
			if (matrix_workload_applies(&m->workloads[w], fam))
				resolve_workload(out, fam, &m->workloads[w]);
		for (size_t a = 0; a < fam->n_arms; a++) {
			const struct family_arm *arm = family_find_arm(fam->ops, fam->arms[a]);

			if (!arm)
				continue;
			resolve_arm(out, fam, arm, false);
			if (m->trace != MATRIX_TRACE_OFF)
				resolve_arm(out, fam, arm, true);
		}
	}
}

void facts_format(const struct facts *f, struct strbuf *out)
{
	struct strbuf b = { 0 };

	strbuf_addf(&b, "%s\n", FACTS_MAGIC);
	for (size_t i = 0; i < f->n; i++) {
		const struct fact *fact = &f->v[i];

		strbuf_addf(&b, "%s\t%s\t%s", kind_names[fact->kind], fact->family, fact->name);
		for (size_t k = 0; k < fact->n_keys; k++)
			strbuf_addf(&b, "\t%s=%s", fact->keys[k].key, fact->keys[k].value);
		strbuf_addf(&b, "\n");
	}
	*out = b;
}

int facts_write(const char *path, const struct facts *f, char *err, size_t len)
{
	struct strbuf b;
	int rc;

	facts_format(f, &b);
	rc = file_write_atomic(path, b.s, b.n, err, len);
	free(b.s);
	return rc;
}

static int parse_line(struct facts *f, char *line)
{
	char *save = NULL, *kind = strtok_r(line, "\t", &save);
	char *family = strtok_r(NULL, "\t", &save), *name = strtok_r(NULL, "\t", &save);
	struct fact *fact;
	int k;

	if (!kind || !family || !name)
		return -1;
	for (k = 0; k < 3 && strcmp(kind, kind_names[k]); k++)
		;
	if (k == 3)
		return -1;
	fact = facts_add(f, k, family, name);
	for (char *kv = strtok_r(NULL, "\t", &save); kv; kv = strtok_r(NULL, "\t", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq || eq == kv || fact->n_keys == FACTS_MAX_KEYS)
			return -1;
		*eq = '\0';
		facts_set(fact, kv, "%s", eq + 1);
	}
	return 0;
}

/* Read the facts of stream @in, named @path in messages; closes @in. */
static int facts_read_stream(FILE *in, const char *path, struct facts *f, char *err,
			     size_t len)
{
	char line[2048];
	int lineno = 0;

	while (fgets(line, sizeof(line), in)) {
		char *t = strtrim(line);

		lineno++;
		if (lineno == 1 ? strcmp(t, FACTS_MAGIC) != 0 : *t && parse_line(f, t)) {
			fclose(in);
			facts_free(f);
			return seterr(err, len, "%s:%d: not a facts line", path, lineno);
		}
	}
	fclose(in);
	if (!lineno)
		return seterr(err, len, "%s: empty", path);
	return 0;
}

int facts_read(const char *path, struct facts *f, char *err, size_t len)
{
	FILE *in;

	memset(f, 0, sizeof(*f));
	in = fopen(path, "r");
	if (!in)
		return seterr(err, len, "%s: %s", path, strerror(errno));
	return facts_read_stream(in, path, f, err, len);
}

int facts_parse(const char *text, const char *name, struct facts *f, char *err, size_t len)
{
	FILE *in;

	memset(f, 0, sizeof(*f));
	in = fmemopen((void *)text, strlen(text), "r");
	if (!in)
		return seterr(err, len, "%s: %s", name, strerror(errno));
	return facts_read_stream(in, name, f, err, len);
}

void facts_free(struct facts *f)
{
	free(f->v);
	memset(f, 0, sizeof(*f));
}

const struct fact *facts_find(const struct facts *f, enum fact_kind kind, const char *family,
			      const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].kind == kind && !strcmp(f->v[i].family, family) &&
		    !strcmp(f->v[i].name, name))
			return &f->v[i];
	return NULL;
}

const char *fact_get(const struct fact *fact, const char *key)
{
	for (size_t k = 0; fact && k < fact->n_keys; k++)
		if (!strcmp(fact->keys[k].key, key))
			return fact->keys[k].value;
	return NULL;
}

bool facts_workload_number(const struct facts *f, const char *family, const char *workload,
			   const char *key, double *out)
{
	const char *v = fact_get(facts_find(f, FACT_WORKLOAD, family, workload), key);
	char *end;

	if (!v || !*v)
		return false;
	*out = strtod(v, &end);
	return !*end;
}

enum arm_role facts_arm_role(const struct facts *f, const char *family, const char *arm)
{
	const char *role = facts_arm_get(f, family, arm, "role");

	return role ? arm_role_parse(role) : ARM_NONE;
}

const char *facts_arm_get(const struct facts *f, const char *family, const char *arm,
			  const char *key)
{
	return fact_get(facts_find(f, FACT_ARM, family, arm), key);
}

const char *facts_family_get(const struct facts *f, const char *family, const char *key)
{
	return fact_get(facts_find(f, FACT_FAMILY, family, family), key);
}
