// SPDX-License-Identifier: GPL-2.0
/*
 * history_schema.c - the history's tables as data, and the SQL each backend runs to
 * create or upgrade them. A migration only ever adds: a table, or columns at the end of
 * one (with a default for the rows already there), so one list says both what a
 * version-N database holds and how to bring it to the current version.
 */
#include <string.h>
#include "history_schema.h"

static const struct history_column runs_columns[] = {
	{ "run_id", HISTORY_TEXT, NULL, 1 },
	{ "started", HISTORY_TEXT, NULL, 1 },
	{ "dir", HISTORY_TEXT, NULL, 1 },
	{ "kernel", HISTORY_TEXT, NULL, 1 },
	{ "mode", HISTORY_TEXT, NULL, 1 },
	{ "clock", HISTORY_TEXT, NULL, 1 },
	{ "profile", HISTORY_TEXT, NULL, 1 },
	{ "git_commit", HISTORY_TEXT, NULL, 1 },
	{ "manifest", HISTORY_TEXT, NULL, 1 },
	{ "added", HISTORY_TEXT, NULL, 1 },
	{ "machine_id", HISTORY_TEXT, "''", 3 },
	{ "cpu_model", HISTORY_TEXT, "''", 3 },
	{ "cores", HISTORY_INT, "0", 3 },
	{ "memory_bytes", HISTORY_INT, "0", 3 },
	{ "tuning", HISTORY_TEXT, "''", 3 },
	{ "facts", HISTORY_TEXT, "''", 3 },
	{ NULL },
};

static const struct history_column samples_columns[] = {
	{ "run_id", HISTORY_TEXT, NULL, 1 },
	{ "family", HISTORY_TEXT, NULL, 1 },
	{ "arm", HISTORY_TEXT, NULL, 1 },
	{ "workload", HISTORY_TEXT, NULL, 1 },
	{ "sample", HISTORY_INT, NULL, 1 },
	{ "metric", HISTORY_TEXT, NULL, 1 },
	{ "value", HISTORY_REAL, NULL, 1 },
	{ "unit", HISTORY_TEXT, NULL, 1 },
	{ "valid", HISTORY_INT, NULL, 1 },
	{ "note", HISTORY_TEXT, NULL, 1 },
	{ "boot", HISTORY_INT, "1", 2 },
	{ NULL },
};

static const struct history_column comparisons_columns[] = {
	{ "run_id", HISTORY_TEXT, NULL, 3 },
	{ "family", HISTORY_TEXT, NULL, 3 },
	{ "workload", HISTORY_TEXT, NULL, 3 },
	{ "metric", HISTORY_TEXT, NULL, 3 },
	{ "baseline", HISTORY_TEXT, NULL, 3 },
	{ "candidate", HISTORY_TEXT, NULL, 3 },
	{ "ratio", HISTORY_REAL, NULL, 3 },
	{ "ci_low", HISTORY_REAL, NULL, 3 },
	{ "ci_high", HISTORY_REAL, NULL, 3 },
	{ "p_adjusted", HISTORY_REAL, NULL, 3 },
	{ "verdict", HISTORY_TEXT, NULL, 3 },
	{ NULL },
};

const struct history_table history_tables[] = {
	{ "runs", 1, runs_columns, "PRIMARY KEY (run_id)", NULL },
	{ "samples", 1, samples_columns,
	  "PRIMARY KEY (run_id, family, arm, workload, sample, metric), "
	  "FOREIGN KEY (run_id) REFERENCES runs (run_id) ON DELETE CASCADE",
	  "samples_series ON samples (family, arm, workload, metric)" },
	{ "comparisons", 3, comparisons_columns,
	  "PRIMARY KEY (run_id, family, workload, metric, baseline, candidate), "
	  "FOREIGN KEY (run_id) REFERENCES runs (run_id) ON DELETE CASCADE", NULL },
	{ NULL },
};

static const char *type_name(enum history_dialect d, enum history_type t)
{
	switch (t) {
	case HISTORY_INT:
		return d == HISTORY_PG ? "BIGINT" : "INTEGER";
	case HISTORY_REAL:
		return d == HISTORY_PG ? "DOUBLE PRECISION" : "REAL";
	default:
		return "TEXT";
	}
}

static void column_sql(enum history_dialect d, const struct history_column *c,
		       struct strbuf *out)
{
	strbuf_addf(out, "%s %s NOT NULL", c->name, type_name(d, c->type));
	if (c->dflt)
		strbuf_addf(out, " DEFAULT %s", c->dflt);
}

static void table_sql(enum history_dialect d, const struct history_table *t,
		      struct strbuf *out)
{
	strbuf_addf(out, "CREATE TABLE %s (", t->name);
	for (const struct history_column *c = t->cols; c->name; c++) {
		column_sql(d, c, out);
		strbuf_addf(out, ", ");
	}
	strbuf_addf(out, "%s);", t->constraints);
	if (t->index)
		strbuf_addf(out, "CREATE INDEX %s;", t->index);
}

void history_schema_create(enum history_dialect d, struct strbuf *out)
{
	for (const struct history_table *t = history_tables; t->name; t++)
		table_sql(d, t, out);
}

void history_schema_upgrade(enum history_dialect d, unsigned int from, struct strbuf *out)
{
	for (unsigned int v = from + 1; v <= HISTORY_VERSION; v++)
		for (const struct history_table *t = history_tables; t->name; t++) {
			if (t->since == v) {
				table_sql(d, t, out);
				continue;
			}
			for (const struct history_column *c = t->cols; c->name; c++) {
				if (c->since != v || t->since >= v)
					continue;
				strbuf_addf(out, "ALTER TABLE %s ADD COLUMN ", t->name);
				column_sql(d, c, out);
				strbuf_addf(out, ";");
			}
		}
}

size_t history_columns_at(const struct history_table *t, unsigned int version,
			  const char **out, size_t max)
{
	size_t n = 0;

	if (t->since > version)
		return 0;
	for (const struct history_column *c = t->cols; c->name && n < max; c++)
		if (c->since <= version)
			out[n++] = c->name;
	return n;
}
