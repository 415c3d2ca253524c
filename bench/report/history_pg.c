// SPDX-License-Identifier: GPL-2.0
/*
 * history_pg.c - the history on a PostgreSQL server, shared by many machines, through
 * libpq. The database is named by a postgresql:// URL; the password comes from where libpq
 * looks (the URL, PGPASSFILE or ~/.pgpass, a service file), and every message shows the
 * URL with it masked. The schema is history_schema.c's, marked as ours and versioned by a
 * one-row table twinbench_meta. Opening takes a session-wide advisory lock while it
 * validates, creates or upgrades, so writers starting together do not race; a database
 * holding other tables, a newer version, or tables without our columns is refused
 * untouched. A run goes in as one transaction: a writer killed half way leaves nothing.
 */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include "history.h"
#include "history_schema.h"

#define MAX_COLUMNS	32

/* An open server history. Invariant: @conn is connected, @where is already masked. */
struct pg_history {
	PGconn *conn;
	char where[PATH_MAX];
};

/* The first line of libpq's message for @conn, without "ERROR:  " or "FATAL:  ". */
static void pg_message(PGconn *conn, const PGresult *res, char *out, size_t len)
{
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
	const char *p;

	if (!msg || !*msg)
		msg = PQerrorMessage(conn);
	for (p = msg; (p = strstr(p, ":  ")) && p - msg < 10; p += 3)
		msg = p + 3;
	snprintf(out, len, "%.*s", (int)strcspn(msg, "\n"), msg);
}

static int pg_fail(struct pg_history *pg, PGresult *res, const char *what, char *err,
		   size_t len)
{
	char msg[512];

	pg_message(pg->conn, res, msg, sizeof(msg));
	snprintf(err, len, "%s: %s: %s", pg->where, what, msg);
	PQclear(res);
	return -1;
}

/* Run a statement without results; 0, or -1 with @err. */
static int pg_exec(struct pg_history *pg, const char *sql, char *err, size_t len)
{
	PGresult *res = PQexec(pg->conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fail(pg, res, "query failed", err, len);
	PQclear(res);
	return 0;
}

/* The result of @sql with $1 = @arg (none when NULL); the caller checks and clears it. */
static PGresult *pg_query(struct pg_history *pg, const char *sql, const char *arg)
{
	return PQexecParams(pg->conn, sql, arg ? 1 : 0, NULL, &arg, NULL, NULL, 0);
}

/* Do our tables at @version have our columns, in order? */
static int pg_check_columns(struct pg_history *pg, unsigned int version, char *err,
			    size_t len)
{
	static const char sql[] =
		"SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
		" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname ="
		" current_schema() AND c.relname = $1 AND a.attnum > 0 AND NOT a.attisdropped"
		" ORDER BY a.attnum";

	for (const struct history_table *t = history_tables; t->name; t++) {
		const char *want[MAX_COLUMNS];
		size_t n = history_columns_at(t, version, want, MAX_COLUMNS);
		PGresult *res;
		bool ok;

		if (!n)
			continue;
		res = pg_query(pg, sql, t->name);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			return pg_fail(pg, res, "reading the schema", err, len);
		ok = (size_t)PQntuples(res) == n;
		for (size_t i = 0; ok && i < n; i++)
			ok = !strcmp(PQgetvalue(res, (int)i, 0), want[i]);
		PQclear(res);
		if (!ok) {
			snprintf(err, len, "%s: table '%s' does not have the twinbench history "
				 "columns; refusing to use this database", pg->where, t->name);
			return -1;
		}
	}
	return 0;
}

/*
 * The version of the database (0: empty, may be created), after checking it is ours;
 * -1 with @err when it is not, or is newer.
 */
static long pg_version(struct pg_history *pg, char *err, size_t len)
{
	/* pg_class, not information_schema: that shows only what this user may read */
	PGresult *res = pg_query(pg, "SELECT to_regclass('twinbench_meta') IS NOT NULL,"
				 " (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON"
				 " n.oid = c.relnamespace WHERE n.nspname = current_schema() AND"
				 " c.relkind IN ('r', 'p', 'v', 'm', 'f'))", NULL);
	long app, version, tables;
	bool meta;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fail(pg, res, "reading the schema", err, len);
	meta = !strcmp(PQgetvalue(res, 0, 0), "t");
	tables = atol(PQgetvalue(res, 0, 1));
	PQclear(res);
	if (!meta) {
		if (!tables)
			return 0;
		snprintf(err, len, "%s: not a twinbench history (%ld tables, no twinbench_meta); "
			 "refusing to touch it", pg->where, tables);
		return -1;
	}
	res = pg_query(pg, "SELECT application_id, version FROM twinbench_meta", NULL);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    PQnfields(res) != 2) {
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			return pg_fail(pg, res, "damaged history (twinbench_meta)", err, len);
		PQclear(res);
		snprintf(err, len, "%s: damaged history (twinbench_meta does not hold one row); "
			 "refusing to touch it", pg->where);
		return -1;
	}
	app = atol(PQgetvalue(res, 0, 0));
	version = atol(PQgetvalue(res, 0, 1));
	PQclear(res);
	if (app != HISTORY_APP_ID) {
		snprintf(err, len, "%s: not a twinbench history (application_id 0x%lx, expected "
			 "0x%x); refusing to touch it", pg->where, app, HISTORY_APP_ID);
		return -1;
	}
	if (version < 1 || version > HISTORY_VERSION) {
		snprintf(err, len, "%s: history schema version %ld, this twinbench knows %d; "
			 "refusing to touch it", pg->where, version, HISTORY_VERSION);
		return -1;
	}
	return pg_check_columns(pg, version, err, len) ? -1 : version;
}

/* Create (@from 0) or upgrade the schema in one transaction. */
static int pg_migrate(struct pg_history *pg, long from, char *err, size_t len)
{
	struct strbuf sql = { 0 };
	int rc;

	strbuf_addf(&sql, "BEGIN;");
	if (from) {
		history_schema_upgrade(HISTORY_PG, from, &sql);
		strbuf_addf(&sql, "UPDATE twinbench_meta SET version = %d;", HISTORY_VERSION);
	} else {
		history_schema_create(HISTORY_PG, &sql);
		strbuf_addf(&sql, "CREATE TABLE twinbench_meta (application_id BIGINT NOT NULL,"
			    " version INTEGER NOT NULL); INSERT INTO twinbench_meta VALUES"
			    " (%d, %d);", HISTORY_APP_ID, HISTORY_VERSION);
	}
	strbuf_addf(&sql, "COMMIT;");
	rc = pg_exec(pg, sql.s, err, len);
	if (rc)
		PQclear(PQexec(pg->conn, "ROLLBACK"));
	free(sql.s);
	return rc;
}

static int pg_open(const char *where, bool create, void **out, char *err, size_t len)
{
	struct pg_history *pg = calloc(1, sizeof(*pg));
	char lock[64], unlock[64];
	long version;

	if (!pg)
		abort();
	*out = NULL;
	history_mask(where, pg->where, sizeof(pg->where));
	/* a server that does not answer fails the night in seconds, unless told otherwise */
	setenv("PGCONNECT_TIMEOUT", "10", 0);
	pg->conn = PQconnectdb(where);
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		pg_fail(pg, NULL, "cannot connect", err, len);
		goto fail;
	}
	PQclear(PQexec(pg->conn, "SET client_min_messages = warning"));
	snprintf(lock, sizeof(lock), "SELECT pg_advisory_lock(%d)", HISTORY_APP_ID);
	snprintf(unlock, sizeof(unlock), "SELECT pg_advisory_unlock(%d)", HISTORY_APP_ID);
	if (pg_exec(pg, lock, err, len))
		goto fail;
	version = pg_version(pg, err, len);
	if (version == 0 && !create) {
		snprintf(err, len, "%s: empty history database (add a run first)", pg->where);
		version = -1;
	}
	if (version >= 0 && version < HISTORY_VERSION && pg_migrate(pg, version, err, len))
		version = -1;
	if (pg_exec(pg, unlock, err, len) || version < 0)
		goto fail;
	*out = pg;
	return 0;
fail:
	PQfinish(pg->conn);
	free(pg);
	return -1;
}

static void pg_close(void *handle)
{
	struct pg_history *pg = handle;

	PQfinish(pg->conn);
	free(pg);
}

/* @s into COPY's text format: backslash, tab, newline and carriage return escaped. */
static void copy_field(struct strbuf *b, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '\\':
			strbuf_addf(b, "\\\\");
			break;
		case '\t':
			strbuf_addf(b, "\\t");
			break;
		case '\n':
			strbuf_addf(b, "\\n");
			break;
		case '\r':
			strbuf_addf(b, "\\r");
			break;
		default:
			strbuf_addf(b, "%c", *s);
		}
}

/* One row of @t from @v as a line of COPY text. */
static void copy_row(struct strbuf *b, const struct history_table *t,
		     const struct history_value *v)
{
	for (int i = 0; t->cols[i].name; i++) {
		if (i)
			strbuf_addf(b, "\t");
		switch (t->cols[i].type) {
		case HISTORY_INT:
			strbuf_addf(b, "%lld", v[i].i);
			break;
		case HISTORY_REAL:
			strbuf_addf(b, "%.17g", v[i].d);
			break;
		default:
			copy_field(b, v[i].s ? v[i].s : "");
		}
	}
	strbuf_addf(b, "\n");
}

/* COPY @b (rows of @t) into the table. */
static int copy_in(struct pg_history *pg, const struct history_table *t, struct strbuf *b,
		   char *err, size_t len)
{
	char sql[64];
	PGresult *res;

	snprintf(sql, sizeof(sql), "COPY %s FROM STDIN", t->name);
	res = PQexec(pg->conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN)
		return pg_fail(pg, res, "copy", err, len);
	PQclear(res);
	if ((b->n && PQputCopyData(pg->conn, b->s, (int)b->n) != 1) ||
	    PQputCopyEnd(pg->conn, NULL) != 1)
		return pg_fail(pg, NULL, "copy", err, len);
	res = PQgetResult(pg->conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fail(pg, res, "copy", err, len);
	PQclear(res);
	while ((res = PQgetResult(pg->conn)))
		PQclear(res);
	return 0;
}

static int pg_insert_all(struct pg_history *pg, const struct run_data *run, char *err,
			 size_t len)
{
	const struct history_table *tables = history_tables;
	struct history_value v[MAX_COLUMNS];
	struct history_row row;
	struct strbuf b[3] = { 0 };
	char verdict[32];
	int rc = 0;

	history_row_build(run, &row);
	history_runs_values(run, &row, v);
	copy_row(&b[HISTORY_RUNS], &tables[HISTORY_RUNS], v);
	history_row_free(&row);
	for (size_t i = 0; i < run->samples.n; i++) {
		history_sample_values(run->id, &run->samples.rows[i], v);
		copy_row(&b[HISTORY_SAMPLES], &tables[HISTORY_SAMPLES], v);
	}
	for (size_t i = 0; i < run->summary.n; i++) {
		history_comparison_values(run->id, &run->summary.rows[i], v, verdict,
					  sizeof(verdict));
		copy_row(&b[HISTORY_COMPARISONS], &tables[HISTORY_COMPARISONS], v);
	}
	for (int t = HISTORY_RUNS; t <= HISTORY_COMPARISONS; t++) {
		if (!rc)
			rc = copy_in(pg, &tables[t], &b[t], err, len);
		free(b[t].s);
	}
	return rc;
}

static int pg_add_run(void *handle, const struct run_data *run, bool *replaced, char *err,
		      size_t len)
{
	struct pg_history *pg = handle;
	PGresult *res;
	char lock[96];

	if (pg_exec(pg, "BEGIN", err, len))
		return -1;
	/* one writer per run id at a time: the second replaces the first */
	snprintf(lock, sizeof(lock), "SELECT pg_advisory_xact_lock(%d, hashtext($1))",
		 HISTORY_APP_ID);
	res = pg_query(pg, lock, run->id);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		goto fail;
	PQclear(res);
	res = PQexecParams(pg->conn, "DELETE FROM runs WHERE run_id = $1", 1, NULL,
			   (const char *const[]){ run->id }, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		goto fail;
	*replaced = atoi(PQcmdTuples(res)) > 0;
	PQclear(res);
	if (pg_insert_all(pg, run, err, len) || pg_exec(pg, "COMMIT", err, len)) {
		PQclear(PQexec(pg->conn, "ROLLBACK"));
		return -1;
	}
	return 0;
fail:
	pg_fail(pg, res, "adding a run", err, len);
	PQclear(PQexec(pg->conn, "ROLLBACK"));
	return -1;
}

static const char *res_text(void *ctx, int col)
{
	const PGresult **r = ctx;

	return PQgetvalue(r[0], (int)(long)r[1], col);
}

static long long res_int(void *ctx, int col)
{
	return atoll(res_text(ctx, col));
}

static double res_real(void *ctx, int col)
{
	return strtod(res_text(ctx, col), NULL);
}

/* @sql with each "?" as $1 ("?" appears once, as the run id). */
static void pg_sql(const char *sql, char *out, size_t len)
{
	size_t n = 0;

	for (; *sql && n + 3 < len; sql++) {
		if (*sql == '?') {
			out[n++] = '$';
			out[n++] = '1';
		} else {
			out[n++] = *sql;
		}
	}
	out[n] = '\0';
}

/* Run a history_sql_* query for @arg, handing each row to @row; rows, or -1. */
static long pg_each_row(struct pg_history *pg, const char *query, const char *arg,
			void (*row)(const struct history_reader *r, struct run_data *run),
			struct run_data *run, char *err, size_t len)
{
	char sql[1024];
	const void *ctx[2];
	struct history_reader r = { res_text, res_int, res_real, ctx };
	PGresult *res;
	long n;

	pg_sql(query, sql, sizeof(sql));
	res = pg_query(pg, sql, arg);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fail(pg, res, "reading the history", err, len);
	n = PQntuples(res);
	ctx[0] = res;
	for (long i = 0; i < n; i++) {
		ctx[1] = (const void *)i;
		row(&r, run);
	}
	PQclear(res);
	return n;
}

static void add_id(const struct history_reader *r, struct run_data *run)
{
	name_list_add((struct name_list *)(void *)run, r->text(r->ctx, 0));
}

static int pg_run_ids(void *handle, struct name_list *ids, char *err, size_t len)
{
	return pg_each_row(handle, "SELECT run_id FROM runs ORDER BY started, run_id", NULL,
			   add_id, (struct run_data *)(void *)ids, err, len) < 0 ? -1 : 0;
}

static int pg_load_run(void *handle, const char *run_id, struct run_data *run, char *err,
		       size_t len)
{
	struct pg_history *pg = handle;
	long n;

	memset(run, 0, sizeof(*run));
	snprintf(run->id, sizeof(run->id), "%s", run_id);
	/* one snapshot for the run and its rows */
	if (pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, len))
		return -1;
	n = pg_each_row(pg, history_sql_run, run_id, history_read_run, run, err, len);
	if (n == 0)
		snprintf(err, len, "%s: no run '%s' in the history", pg->where, run_id);
	if (n <= 0 ||
	    pg_each_row(pg, history_sql_samples, run_id, history_read_sample, run, err,
			len) < 0 ||
	    pg_each_row(pg, history_sql_comparisons, run_id, history_read_comparison, run, err,
			len) < 0) {
		PQclear(PQexec(pg->conn, "ROLLBACK"));
		run_free(run);
		return -1;
	}
	return pg_exec(pg, "COMMIT", err, len);
}

static void list_row(const struct history_reader *r, struct run_data *unused)
{
	(void)unused;
	history_list_line(r);
}

static int pg_list(void *handle, char *err, size_t len)
{
	return pg_each_row(handle, history_sql_list, NULL, list_row, NULL, err, len) < 0 ?
	       -1 : 0;
}

const struct history_backend history_pg_backend = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.run_ids = pg_run_ids,
	.load_run = pg_load_run,
	.add_run = pg_add_run,
	.list = pg_list,
};
