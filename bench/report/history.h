/* SPDX-License-Identifier: GPL-2.0 */
/*
 * history.h - the history of runs, on whichever backend keeps it (history.c): a SQLite
 * file (history_sqlite.c, the default) or a PostgreSQL server shared by many machines
 * (history_pg.c), both with the schema of history_schema.h.
 */
#ifndef TWINBENCH_HISTORY_H
#define TWINBENCH_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include "report_run.h"
#include "vec.h"

/* The environment variable that names the history when --db does not. */
#define HISTORY_ENV		"TWINBENCH_DB"

/*
 * A history store, whatever keeps it: each backend fills this table, and every caller
 * goes through history_*() below. history_open() picks the backend from where the
 * history is: a postgresql:// (or postgres://) URL is the server, anything else a file.
 */
struct history_backend {
	const char *name;
	int (*open)(const char *where, bool create, void **handle, char *err, size_t len);
	void (*close)(void *handle);
	int (*run_ids)(void *handle, struct name_list *ids, char *err, size_t len);
	int (*load_run)(void *handle, const char *run_id, struct run_data *run, char *err,
			size_t len);
	int (*add_run)(void *handle, const struct run_data *run, bool *replaced, char *err,
		       size_t len);
	/* Print one line per run (history_list_line()) to stdout. */
	int (*list)(void *handle, char *err, size_t len);
};

extern const struct history_backend history_sqlite_backend;
extern const struct history_backend history_pg_backend;

/* An open history: its backend and that backend's handle. */
struct history {
	const struct history_backend *be;
	void *handle;
};

/* Open the history at @where; created when absent (with @create), else validated first. */
int history_open(const char *where, bool create, struct history **h, char *err, size_t len);
void history_close(struct history *h);
/* The run ids of the history, oldest first (by start time, then id). */
int history_run_ids(struct history *h, struct name_list *ids, char *err, size_t len);
/* One run of the history: manifest, folder, facts, samples and comparisons. */
int history_load_run(struct history *h, const char *run_id, struct run_data *run, char *err,
		     size_t len);
/* Add or replace one run in a single transaction; *@replaced says it was there. */
int history_add_run(struct history *h, const struct run_data *run, bool *replaced,
		    char *err, size_t len);
/* Print the runs of the history, one a line. */
int history_list(struct history *h, char *err, size_t len);

/* Is @where a PostgreSQL connection URL? */
bool history_is_url(const char *where);
/* @where for messages: a URL's password (user:PASSWORD@, password=...) as "***". */
void history_mask(const char *where, char *out, size_t len);
/* The history @opt names (--db), else $TWINBENCH_DB, else HISTORY_DEFAULT_DB. */
const char *history_where(const char *opt);

/*
 * The machine a run ran on, as its manifest's host object records it: the stable
 * machine id, CPU model, CPU count, memory, and the host's tuning (every other host key,
 * "key=value" sorted by key). Runs are keyed by it with the kernel release and commit.
 */
struct history_machine {
	char id[64];
	char cpu_model[128];
	long long cores, memory_bytes;
	char tuning[512];
};

void history_machine_of(json_t *manifest, struct history_machine *m);
/* One string naming the machine and its tuning, equal exactly for runs of one machine. */
void history_machine_key(const struct history_machine *m, char *out, size_t len);
/*
 * A short label for people: the id's first 8 characters, the CPU, cores and memory, and
 * 4 hex digits that tell the machine's tunings apart.
 */
void history_machine_label(const struct history_machine *m, char *out, size_t len);

/* One value of a row, as its column's type in history_schema.h reads it. */
struct history_value {
	const char *s;
	long long i;
	double d;
};

/* What every backend stores of a run: the runs row, built once from the run. */
struct history_row {
	char started[128], kernel[128], mode[32], clock[32], profile[64], commit[64];
	char added[32];
	struct history_machine machine;
	char *manifest;		/* compact JSON */
	struct strbuf facts;	/* facts.tsv's text */
};

void history_row_build(const struct run_data *run, struct history_row *row);
void history_row_free(struct history_row *row);
/*
 * The values of one row of runs, samples or comparisons, in the order of that table's
 * columns in history_schema.c; returns their count.
 */
size_t history_runs_values(const struct run_data *run, const struct history_row *row,
			   struct history_value *v);
size_t history_sample_values(const char *run_id, const struct sample_row *r,
			     struct history_value *v);
size_t history_comparison_values(const char *run_id, const struct summary_row *r,
				 struct history_value *v, char *verdict, size_t len);

/* A row of a query, as a backend reads it: column @col as text, integer or number. */
struct history_reader {
	const char *(*text)(void *ctx, int col);
	long long (*integer)(void *ctx, int col);
	double (*real)(void *ctx, int col);
	void *ctx;
};

/* The queries both backends run to read a run back ("?" the run id), and their readers. */
extern const char history_sql_run[];
extern const char history_sql_samples[];
extern const char history_sql_comparisons[];
extern const char history_sql_list[];
/* Fill @run's folder, manifest and facts from a history_sql_run row. */
void history_read_run(const struct history_reader *r, struct run_data *run);
void history_read_sample(const struct history_reader *r, struct run_data *run);
void history_read_comparison(const struct history_reader *r, struct run_data *run);
/* Print one history_sql_list row as history list does. */
void history_list_line(const struct history_reader *r);

/* twinbench history add RUN_DIR | list | push FROM [--db WHERE] */
int history_main(int argc, char **argv);

#endif /* TWINBENCH_HISTORY_H */
