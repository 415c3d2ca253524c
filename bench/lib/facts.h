/* SPDX-License-Identifier: GPL-2.0 */
/*
 * facts.h - the facts of a run folder (facts.tsv), written once by the runner from the
 * matrix and the family tables, read by every later stage: each workload's resolved keys
 * (rw, bs, iodepth, numjobs, ...), each arm's role, module and, for a safe variant, its
 * twin and mechanism, and each family's primary and per-unit metrics. Summaries, reports, history and dashboard read these instead of
 * reading anything out of a name.
 */
#ifndef TWINBENCH_FACTS_H
#define TWINBENCH_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include "role.h"

#define FACTS_FILE		"facts.tsv"
#define FACTS_MAX_KEYS		16
#define FACTS_KEY_LEN		32
#define FACTS_VALUE_LEN		64

/* What a fact describes: a family (its metrics), a workload of it, an arm of it. */
enum fact_kind { FACT_FAMILY, FACT_WORKLOAD, FACT_ARM };

/* One line of facts.tsv: a workload of a family, or an arm of a family, and its keys. */
struct fact {
	enum fact_kind kind;
	char family[32];
	char name[72];
	size_t n_keys;
	struct {
		char key[FACTS_KEY_LEN];
		char value[FACTS_VALUE_LEN];
	} keys[FACTS_MAX_KEYS];
};

struct facts {
	struct fact *v;
	size_t n, cap;
};

struct matrix;

/* The facts of @m's families (selected or not): its workloads' keys, its arms' roles. */
void facts_resolve(const struct matrix *m, struct facts *out);
/* Write @f to @path atomically; 0 or -1 with @err. */
int facts_write(const char *path, const struct facts *f, char *err, size_t len);
struct strbuf;
/* The text of facts.tsv for @f, into a new *@out (the caller frees out->s). */
void facts_format(const struct facts *f, struct strbuf *out);
/* Parse @text, the text of a facts.tsv named @name in messages; as facts_read(). */
int facts_parse(const char *text, const char *name, struct facts *f, char *err, size_t len);
/* Read @path into @f; 0 or -1 with "path:line: message" in @err. */
int facts_read(const char *path, struct facts *f, char *err, size_t len);
void facts_free(struct facts *f);

/* Add a fact (facts_resolve, tests); returns it for facts_set(). */
struct fact *facts_add(struct facts *f, enum fact_kind kind, const char *family,
		       const char *name);
void facts_set(struct fact *fact, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The fact of @kind named @name in @family, or NULL. */
const struct fact *facts_find(const struct facts *f, enum fact_kind kind, const char *family,
			      const char *name);
/* The value of @key in @fact (may be NULL), or NULL. */
const char *fact_get(const struct fact *fact, const char *key);
/* The number @key of workload @workload of @family; false when it has none. */
bool facts_workload_number(const struct facts *f, const char *family, const char *workload,
			   const char *key, double *out);
/* A key of family @family ("primary_metric", "unit_metric"), or NULL. */
const char *facts_family_get(const struct facts *f, const char *family, const char *key);
/* The role of arm @arm of @family; ARM_NONE when the facts do not name it. */
enum arm_role facts_arm_role(const struct facts *f, const char *family, const char *arm);
/* A key of arm @arm of @family ("module", "twin", "mechanism"), or NULL. */
const char *facts_arm_get(const struct facts *f, const char *family, const char *arm,
			  const char *key);

#endif /* TWINBENCH_FACTS_H */
