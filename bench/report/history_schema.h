/* SPDX-License-Identifier: GPL-2.0 */
/*
 * history_schema.h - the one description of the history's schema (history_schema.c):
 * its tables, their columns and the version each appeared in. Both backends (SQLite,
 * PostgreSQL) create, validate and upgrade a database from it, each in its own dialect,
 * so there is one schema and one list of migrations, not one per backend.
 */
#ifndef TWINBENCH_HISTORY_SCHEMA_H
#define TWINBENCH_HISTORY_SCHEMA_H

#include <stddef.h>
#include "vec.h"

/* "TWBH": SQLite's PRAGMA application_id, PostgreSQL's twinbench_meta.application_id. */
#define HISTORY_APP_ID		0x54574248
/*
 * 1: runs and samples. 2: samples.boot. 3: the machine key of each run (machine_id,
 * cpu_model, cores, memory_bytes, tuning), its facts.tsv, and its comparisons
 * (summary.csv's verdict rows).
 */
#define HISTORY_VERSION		3

enum history_dialect { HISTORY_SQLITE, HISTORY_PG };
enum history_type { HISTORY_TEXT, HISTORY_INT, HISTORY_REAL };

/*
 * One column. Invariant: a table lists its columns in order of @since, so a database
 * upgraded by appending columns has them in the order a fresh one is created with.
 */
struct history_column {
	const char *name;
	enum history_type type;
	const char *dflt;	/* SQL literal for rows that predate the column, or NULL */
	unsigned int since;	/* schema version that added it */
};

/* One table: its columns and what holds them together. */
struct history_table {
	const char *name;
	unsigned int since;
	const struct history_column *cols;	/* ends with a NULL name */
	const char *constraints;		/* table constraints after the columns */
	const char *index;			/* "name ON table (cols)", or NULL */
};

/* The tables, in this order, ending with a NULL name. */
enum { HISTORY_RUNS, HISTORY_SAMPLES, HISTORY_COMPARISONS };
extern const struct history_table history_tables[];

/* The SQL (statements separated by ';') that creates the current schema in @d. */
void history_schema_create(enum history_dialect d, struct strbuf *out);
/* The SQL that upgrades a version @from database to HISTORY_VERSION, in @d. */
void history_schema_upgrade(enum history_dialect d, unsigned int from, struct strbuf *out);
/*
 * The names of the columns @t has at version @version, in order, into @out (room for
 * @max); returns their count, 0 when the table did not exist yet.
 */
size_t history_columns_at(const struct history_table *t, unsigned int version,
			  const char **out, size_t max);

#endif /* TWINBENCH_HISTORY_SCHEMA_H */
