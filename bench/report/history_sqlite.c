// SPDX-License-Identifier: GPL-2.0
/*
 * history_sqlite.c - the history in a SQLite file (results/history.db by default), in WAL
 * mode, marked as ours by PRAGMA application_id and versioned by PRAGMA user_version.
 * A file that is not SQLite, another program's, of a newer version, or failing
 * quick_check is refused before anything is written to it; an older one is upgraded by
 * history_schema.c's migrations in one transaction.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "history.h"
#include "history_schema.h"

/* The most columns a table of history_schema.c has. */
#define MAX_COLUMNS	32

static int pragma_int(sqlite3 *db, const char *sql, long *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = (long)sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* Does table @t of @db have exactly the columns it has at schema @version? */
static int check_columns(sqlite3 *db, const struct history_table *t, unsigned int version,
			 const char *path, char *err, size_t len)
{
	const char *want[MAX_COLUMNS];
	size_t n = history_columns_at(t, version, want, MAX_COLUMNS), i = 0;
	char sql[64];
	sqlite3_stmt *st;
	int rc;

	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", t->name);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, len, "%s: %s", path, sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);

		if (i == n || !name || strcmp(name, want[i]))
			break;
		i++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || i != n) {
		snprintf(err, len, "%s: table '%s' does not have the twinbench history columns; "
			 "refusing to use this file", path, t->name);
		return -1;
	}
	return 0;
}

/* Check, read-only, that @path is a healthy twinbench history; its version in *@version. */
static int history_validate(const char *path, long *version, char *err, size_t len)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long app = 0;
	int ret = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, len, "%s: cannot open: %s", path, db ? sqlite3_errmsg(db) : "no memory");
		goto out;
	}
	if (pragma_int(db, "PRAGMA application_id", &app) != SQLITE_OK ||
	    pragma_int(db, "PRAGMA user_version", version) != SQLITE_OK) {
		snprintf(err, len, "%s: not a usable SQLite database (%s); refusing to touch it",
			 path, sqlite3_errmsg(db));
		goto out;
	}
	if (app != HISTORY_APP_ID) {
		snprintf(err, len, "%s: not a twinbench history (SQLite application_id 0x%lx, "
			 "expected 0x%x); refusing to touch it", path, app, HISTORY_APP_ID);
		goto out;
	}
	if (*version < 1 || *version > HISTORY_VERSION) {
		snprintf(err, len, "%s: history schema version %ld, this twinbench knows %d; "
			 "refusing to touch it", path, *version, HISTORY_VERSION);
		goto out;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(st, 0), "ok")) {
		char why[160];

		snprintf(why, sizeof(why), "%s", st && sqlite3_column_text(st, 0) ?
			 (const char *)sqlite3_column_text(st, 0) : sqlite3_errmsg(db));
		for (char *p = why; (p = strchr(p, '\n')); )
			*p = ' ';
		snprintf(err, len, "%s: damaged database (quick_check: %s); refusing to touch it",
			 path, why);
		goto out;
	}
	for (const struct history_table *t = history_tables; t->name; t++)
		if (t->since <= *version && check_columns(db, t, *version, path, err, len))
			goto out;
	ret = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ret;
}

static int exec_sql(sqlite3 *db, const char *sql, const char *path, char *err, size_t len)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, len, "%s: %s", path, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

/* Create the schema (@from 0) or upgrade a version @from file, in one transaction. */
static int history_migrate(sqlite3 *db, long from, const char *path, char *err, size_t len)
{
	struct strbuf sql = { 0 };
	int rc;

	strbuf_addf(&sql, "BEGIN IMMEDIATE;");
	if (from)
		history_schema_upgrade(HISTORY_SQLITE, from, &sql);
	else
		history_schema_create(HISTORY_SQLITE, &sql);
	strbuf_addf(&sql, "PRAGMA application_id = %d; PRAGMA user_version = %d; COMMIT;",
		    HISTORY_APP_ID, HISTORY_VERSION);
	rc = exec_sql(db, sql.s, path, err, len);
	if (rc)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	free(sql.s);
	return rc;
}

static int sqlite_open(const char *path, bool create, void **out, char *err, size_t len)
{
	struct stat sb;
	bool fresh;
	long version = 0;
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE;

	*out = NULL;
	if (stat(path, &sb) == 0) {
		fresh = sb.st_size == 0;
		if (!S_ISREG(sb.st_mode)) {
			snprintf(err, len, "%s: not a regular file", path);
			return -1;
		}
	} else if (errno == ENOENT) {
		if (!create) {
			snprintf(err, len, "%s: no such history database (add a run first)", path);
			return -1;
		}
		fresh = true;
		flags |= SQLITE_OPEN_CREATE;
	} else {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fresh && !create) {
		snprintf(err, len, "%s: empty history database (add a run first)", path);
		return -1;
	}
	if (!fresh && history_validate(path, &version, err, len))
		return -1;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		snprintf(err, len, "%s: cannot open: %s", path, db ? sqlite3_errmsg(db) : "no memory");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 10000);
	if (exec_sql(db, "PRAGMA foreign_keys = ON", path, err, len) ||
	    (version < HISTORY_VERSION && history_migrate(db, version, path, err, len)) ||
	    exec_sql(db, "PRAGMA journal_mode = WAL", path, err, len)) {
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

/* INSERT INTO @t with one "?" per column. */
static int prepare_insert(sqlite3 *db, const struct history_table *t, sqlite3_stmt **st)
{
	struct strbuf sql = { 0 };
	int rc;

	strbuf_addf(&sql, "INSERT INTO %s VALUES (", t->name);
	for (const struct history_column *c = t->cols; c->name; c++)
		strbuf_addf(&sql, "%s?", c == t->cols ? "" : ", ");
	strbuf_addf(&sql, ")");
	rc = sqlite3_prepare_v2(db, sql.s, -1, st, NULL);
	free(sql.s);
	return rc == SQLITE_OK ? 0 : -1;
}

/* Bind and run one row of @t from @v; 0 when it went in. */
static int insert_row(sqlite3_stmt *st, const struct history_table *t,
		      const struct history_value *v)
{
	sqlite3_reset(st);
	for (int i = 0; t->cols[i].name; i++)
		switch (t->cols[i].type) {
		case HISTORY_INT:
			sqlite3_bind_int64(st, i + 1, v[i].i);
			break;
		case HISTORY_REAL:
			sqlite3_bind_double(st, i + 1, v[i].d);
			break;
		default:
			sqlite3_bind_text(st, i + 1, v[i].s ? v[i].s : "", -1, SQLITE_TRANSIENT);
		}
	return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

static int insert_all(sqlite3 *db, const struct run_data *run)
{
	const struct history_table *runs = &history_tables[HISTORY_RUNS];
	const struct history_table *samples = &history_tables[HISTORY_SAMPLES];
	const struct history_table *cmps = &history_tables[HISTORY_COMPARISONS];
	struct history_value v[MAX_COLUMNS];
	struct history_row row;
	sqlite3_stmt *st;
	char verdict[32];
	int rc;

	history_row_build(run, &row);
	history_runs_values(run, &row, v);
	rc = prepare_insert(db, runs, &st) || insert_row(st, runs, v);
	sqlite3_finalize(st);
	history_row_free(&row);
	if (rc || prepare_insert(db, samples, &st))
		return -1;
	for (size_t i = 0; i < run->samples.n && !rc; i++) {
		history_sample_values(run->id, &run->samples.rows[i], v);
		rc = insert_row(st, samples, v);
	}
	sqlite3_finalize(st);
	if (rc || prepare_insert(db, cmps, &st))
		return -1;
	for (size_t i = 0; i < run->summary.n && !rc; i++) {
		history_comparison_values(run->id, &run->summary.rows[i], v, verdict,
					  sizeof(verdict));
		rc = insert_row(st, cmps, v);
	}
	sqlite3_finalize(st);
	return rc;
}

static int sqlite_add_run(void *db, const struct run_data *run, bool *replaced, char *err,
			  size_t len)
{
	const char *path = sqlite3_db_filename(db, "main");
	sqlite3_stmt *st;
	int rc;

	if (exec_sql(db, "BEGIN IMMEDIATE", path, err, len))
		return -1;
	if (sqlite3_prepare_v2(db, "DELETE FROM runs WHERE run_id = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, run->id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	*replaced = sqlite3_changes(db) > 0;
	if (rc != SQLITE_DONE || insert_all(db, run))
		goto fail;
	return exec_sql(db, "COMMIT", path, err, len);
fail:
	snprintf(err, len, "%s: adding run %s: %s", path, run->id, sqlite3_errmsg(db));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int sqlite_run_ids(void *db, struct name_list *ids, char *err, size_t len)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT run_id FROM runs ORDER BY started, run_id", -1, &st,
			       NULL) != SQLITE_OK) {
		snprintf(err, len, "%s: %s", sqlite3_db_filename(db, "main"), sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		name_list_add(ids, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, len, "%s: %s", sqlite3_db_filename(db, "main"), sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static const char *col_text(void *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

static long long col_int(void *st, int col)
{
	return sqlite3_column_int64(st, col);
}

static double col_real(void *st, int col)
{
	return sqlite3_column_double(st, col);
}

/*
 * Run @sql (one "?", bound to @arg unless NULL) and hand each row to @row; returns the
 * number of rows, or -1.
 */
static long each_row(sqlite3 *db, const char *sql, const char *arg,
		     void (*row)(const struct history_reader *r, struct run_data *run),
		     struct run_data *run)
{
	struct history_reader r = { col_text, col_int, col_real, NULL };
	sqlite3_stmt *st;
	long n = 0;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	r.ctx = st;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row(&r, run);
		n++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? n : -1;
}

static int sqlite_load_run(void *db, const char *run_id, struct run_data *run, char *err,
			   size_t len)
{
	const char *path = sqlite3_db_filename(db, "main");
	long n;

	memset(run, 0, sizeof(*run));
	snprintf(run->id, sizeof(run->id), "%s", run_id);
	n = each_row(db, history_sql_run, run_id, history_read_run, run);
	if (n == 0) {
		snprintf(err, len, "%s: no run '%s' in the history", path, run_id);
		run_free(run);
		return -1;
	}
	if (n < 0 || each_row(db, history_sql_samples, run_id, history_read_sample, run) < 0 ||
	    each_row(db, history_sql_comparisons, run_id, history_read_comparison, run) < 0) {
		snprintf(err, len, "%s: reading run '%s': %s", path, run_id, sqlite3_errmsg(db));
		run_free(run);
		return -1;
	}
	return 0;
}

static void list_row(const struct history_reader *r, struct run_data *unused)
{
	(void)unused;
	history_list_line(r);
}

static int sqlite_list(void *db, char *err, size_t len)
{
	if (each_row(db, history_sql_list, NULL, list_row, NULL) >= 0)
		return 0;
	snprintf(err, len, "%s: %s", sqlite3_db_filename(db, "main"), sqlite3_errmsg(db));
	return -1;
}

static void sqlite_close(void *db)
{
	sqlite3_close(db);
}

const struct history_backend history_sqlite_backend = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.run_ids = sqlite_run_ids,
	.load_run = sqlite_load_run,
	.add_run = sqlite_add_run,
	.list = sqlite_list,
};
