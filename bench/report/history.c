// SPDX-License-Identifier: GPL-2.0
/*
 * history.c - twinbench history: the SQLite database of every run that was
 * added (results/history.db), the memory behind the nightly dashboard. A run
 * goes in as one transaction and adding it again replaces it, so the history
 * never holds a run twice. A file that is not our database (damaged, foreign,
 * newer) is refused before anything is written to it.
 */
#include <errno.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "history.h"

/* "TWBH" in PRAGMA application_id, and the schema version in PRAGMA user_version. */
#define HISTORY_APP_ID		0x54574248
/* 2: samples.boot (a version 1 file gains it, every sample in boot 1, when opened). */
#define HISTORY_VERSION		2

static const char history_schema[] =
	"CREATE TABLE runs ("
	" run_id TEXT PRIMARY KEY,"
	" started TEXT NOT NULL,"
	" dir TEXT NOT NULL,"
	" kernel TEXT NOT NULL,"
	" mode TEXT NOT NULL,"
	" clock TEXT NOT NULL,"
	" profile TEXT NOT NULL,"
	" git_commit TEXT NOT NULL,"
	" manifest TEXT NOT NULL,"
	" added TEXT NOT NULL);"
	"CREATE TABLE samples ("
	" run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,"
	" family TEXT NOT NULL,"
	" arm TEXT NOT NULL,"
	" workload TEXT NOT NULL,"
	" sample INTEGER NOT NULL,"
	" metric TEXT NOT NULL,"
	" value REAL NOT NULL,"
	" unit TEXT NOT NULL,"
	" valid INTEGER NOT NULL,"
	" note TEXT NOT NULL,"
	" boot INTEGER NOT NULL DEFAULT 1,"
	" PRIMARY KEY (run_id, family, arm, workload, sample, metric));"
	"CREATE INDEX samples_series ON samples (family, arm, workload, metric);";

/* The columns each table must have, in order, for the file to be ours. */
static const char *const runs_columns[] = {
	"run_id", "started", "dir", "kernel", "mode", "clock", "profile", "git_commit",
	"manifest", "added", NULL,
};
static const char *const samples_columns[] = {
	"run_id", "family", "arm", "workload", "sample", "metric", "value", "unit", "valid",
	"note", "boot", NULL,
};
/* Version 1 had all but the last. */
static const char *const samples_columns_v1[] = {
	"run_id", "family", "arm", "workload", "sample", "metric", "value", "unit", "valid",
	"note", NULL,
};

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

static int check_columns(sqlite3 *db, const char *table, const char *const *want,
			 const char *path, char *err, size_t len)
{
	char sql[64];
	sqlite3_stmt *st;
	size_t i = 0;
	int rc;

	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, len, "%s: %s", path, sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);

		if (!want[i] || !name || strcmp(name, want[i]))
			break;
		i++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || want[i]) {
		snprintf(err, len, "%s: table '%s' does not have the twinbench history columns; "
			 "refusing to use this file", path, table);
		return -1;
	}
	return 0;
}

/*
 * Check, read-only, that @path is a healthy twinbench history of our version or of
 * version 1 (then *@old is set).
 */
static int history_validate(const char *path, bool *old, char *err, size_t len)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long app = 0, version = 0;
	int ret = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, len, "%s: cannot open: %s", path, db ? sqlite3_errmsg(db) : "no memory");
		goto out;
	}
	if (pragma_int(db, "PRAGMA application_id", &app) != SQLITE_OK ||
	    pragma_int(db, "PRAGMA user_version", &version) != SQLITE_OK) {
		snprintf(err, len, "%s: not a usable SQLite database (%s); refusing to touch it",
			 path, sqlite3_errmsg(db));
		goto out;
	}
	if (app != HISTORY_APP_ID) {
		snprintf(err, len, "%s: not a twinbench history (SQLite application_id 0x%lx, "
			 "expected 0x%x); refusing to touch it", path, app, HISTORY_APP_ID);
		goto out;
	}
	*old = version == 1;
	if (version != HISTORY_VERSION && !*old) {
		snprintf(err, len, "%s: history schema version %ld, this twinbench knows %d; "
			 "refusing to touch it", path, version, HISTORY_VERSION);
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
	if (check_columns(db, "runs", runs_columns, path, err, len) ||
	    check_columns(db, "samples", *old ? samples_columns_v1 : samples_columns, path,
			   err, len))
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

static int history_create(sqlite3 *db, const char *path, char *err, size_t len)
{
	char pragmas[128];

	snprintf(pragmas, sizeof(pragmas), "PRAGMA application_id = %d; PRAGMA user_version = %d;",
		 HISTORY_APP_ID, HISTORY_VERSION);
	if (exec_sql(db, "BEGIN IMMEDIATE", path, err, len))
		return -1;
	if (exec_sql(db, history_schema, path, err, len) ||
	    exec_sql(db, pragmas, path, err, len)) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return exec_sql(db, "COMMIT", path, err, len);
}

static int sqlite_open(const char *path, bool create, void **out, char *err, size_t len)
{
	static const char upgrade[] =
		"BEGIN IMMEDIATE; ALTER TABLE samples ADD COLUMN boot INTEGER NOT NULL DEFAULT 1;"
		" PRAGMA user_version = 2; COMMIT;";
	struct stat sb;
	bool fresh, old = false;
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
	if (!fresh && history_validate(path, &old, err, len))
		return -1;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		snprintf(err, len, "%s: cannot open: %s", path, db ? sqlite3_errmsg(db) : "no memory");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 10000);
	if (exec_sql(db, "PRAGMA foreign_keys = ON", path, err, len) ||
	    (fresh && history_create(db, path, err, len)) ||
	    (old && exec_sql(db, upgrade, path, err, len)) ||
	    exec_sql(db, "PRAGMA journal_mode = WAL", path, err, len)) {
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

static int bind_text(sqlite3_stmt *st, int col, const char *s)
{
	return sqlite3_bind_text(st, col, s ? s : "", -1, SQLITE_TRANSIENT);
}

static int insert_run(sqlite3 *db, const struct run_data *run)
{
	static const char sql[] =
		"INSERT INTO runs (run_id, started, dir, kernel, mode, clock, profile, git_commit,"
		" manifest, added) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	static const char *const keys[] = {
		"started", NULL, "release", "mode", "clock", "profile", "git_commit",
	};
	char buf[7][64], added[32], *manifest;
	time_t now = time(NULL);
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	strftime(added, sizeof(added), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	manifest = json_dumps(run->manifest, JSON_COMPACT | JSON_SORT_KEYS);
	bind_text(st, 1, run->id);
	for (int i = 0; i < 7; i++) {
		const char *v = keys[i] ? manifest_get(run->manifest, keys[i], buf[i],
						       sizeof(buf[i])) : run->dir;

		if (i == 0 && !v)
			v = run->id;
		bind_text(st, 2 + i, v);
	}
	bind_text(st, 9, manifest ? manifest : "{}");
	bind_text(st, 10, added);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	free(manifest);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int insert_samples(sqlite3 *db, const struct run_data *run)
{
	static const char sql[] =
		"INSERT INTO samples (run_id, family, arm, workload, sample, metric, value, unit,"
		" valid, note, boot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	int rc = SQLITE_DONE;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	for (size_t i = 0; i < run->samples.n && rc == SQLITE_DONE; i++) {
		const struct sample_row *r = &run->samples.rows[i];

		sqlite3_reset(st);
		bind_text(st, 1, run->id);
		bind_text(st, 2, r->family);
		bind_text(st, 3, r->arm);
		bind_text(st, 4, r->workload);
		sqlite3_bind_int64(st, 5, r->sample);
		bind_text(st, 6, r->metric);
		sqlite3_bind_double(st, 7, r->value);
		bind_text(st, 8, r->unit);
		sqlite3_bind_int(st, 9, r->valid);
		bind_text(st, 10, r->note);
		sqlite3_bind_int64(st, 11, r->boot ? r->boot : 1);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int sqlite_add_run(void *db, const struct run_data *run, bool *replaced, char *err,
		    size_t len)
{
	const char *path = sqlite3_db_filename(db, "main");
	sqlite3_stmt *st;
	long found = 0;

	if (exec_sql(db, "BEGIN IMMEDIATE", path, err, len))
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM runs WHERE run_id = ?", -1, &st,
			       NULL) != SQLITE_OK)
		goto fail;
	bind_text(st, 1, run->id);
	if (sqlite3_step(st) == SQLITE_ROW)
		found = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	*replaced = found > 0;
	if (sqlite3_prepare_v2(db, "DELETE FROM runs WHERE run_id = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	bind_text(st, 1, run->id);
	found = sqlite3_step(st);
	sqlite3_finalize(st);
	if (found != SQLITE_DONE || insert_run(db, run) || insert_samples(db, run))
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

static void copy_column(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	const char *v = (const char *)sqlite3_column_text(st, col);
	size_t n = v ? strnlen(v, size - 1) : 0;

	memcpy(dst, v ? v : "", n);
	dst[n] = '\0';
}

static int sqlite_load_run(void *db, const char *run_id, struct run_data *run, char *err,
		     size_t len)
{
	static const char run_sql[] = "SELECT dir, manifest FROM runs WHERE run_id = ?";
	static const char samples_sql[] =
		"SELECT family, arm, workload, sample, metric, value, unit, valid, note, boot"
		" FROM samples WHERE run_id = ? ORDER BY rowid";
	const char *path = sqlite3_db_filename(db, "main");
	sqlite3_stmt *st = NULL;
	json_error_t jerr;
	int rc;

	memset(run, 0, sizeof(*run));
	snprintf(run->id, sizeof(run->id), "%s", run_id);
	if (sqlite3_prepare_v2(db, run_sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	bind_text(st, 1, run_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			snprintf(err, len, "%s: no run '%s' in the history", path, run_id);
		else
			snprintf(err, len, "%s: %s", path, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	copy_column(run->dir, sizeof(run->dir), st, 0);
	run->manifest = json_loads((const char *)sqlite3_column_text(st, 1), 0, &jerr);
	sqlite3_finalize(st);
	if (!run->manifest)
		run->manifest = json_object();
	if (sqlite3_prepare_v2(db, samples_sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	bind_text(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sample_row r = { 0 };

		copy_column(r.family, sizeof(r.family), st, 0);
		copy_column(r.arm, sizeof(r.arm), st, 1);
		copy_column(r.workload, sizeof(r.workload), st, 2);
		r.sample = (unsigned int)sqlite3_column_int64(st, 3);
		copy_column(r.metric, sizeof(r.metric), st, 4);
		r.value = sqlite3_column_double(st, 5);
		copy_column(r.unit, sizeof(r.unit), st, 6);
		r.valid = sqlite3_column_int(st, 7);
		copy_column(r.note, sizeof(r.note), st, 8);
		r.boot = (unsigned int)sqlite3_column_int64(st, 9);
		sample_table_add(&run->samples, &r);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
fail:
	snprintf(err, len, "%s: reading run '%s': %s", path, run_id, sqlite3_errmsg(db));
	run_free(run);
	return -1;
}

static int sqlite_list(void *db, char *err, size_t len);

static void sqlite_close(void *db)
{
	sqlite3_close(db);
}

/* The SQLite file backend: results/history.db. */
static const struct history_backend sqlite_backend = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.run_ids = sqlite_run_ids,
	.load_run = sqlite_load_run,
	.add_run = sqlite_add_run,
	.list = sqlite_list,
};

int history_open(const char *path, bool create, struct history **out, char *err, size_t len)
{
	struct history *h = calloc(1, sizeof(*h));

	if (!h)
		abort();
	h->be = &sqlite_backend;
	if (h->be->open(path, create, &h->handle, err, len)) {
		free(h);
		*out = NULL;
		return -1;
	}
	*out = h;
	return 0;
}

void history_close(struct history *h)
{
	if (!h)
		return;
	h->be->close(h->handle);
	free(h);
}

int history_run_ids(struct history *h, struct name_list *ids, char *err, size_t len)
{
	return h->be->run_ids(h->handle, ids, err, len);
}

int history_load_run(struct history *h, const char *run_id, struct run_data *run, char *err,
		     size_t len)
{
	return h->be->load_run(h->handle, run_id, run, err, len);
}

int history_add_run(struct history *h, const struct run_data *run, bool *replaced, char *err,
		    size_t len)
{
	return h->be->add_run(h->handle, run, replaced, err, len);
}

int history_list(struct history *h, char *err, size_t len)
{
	return h->be->list(h->handle, err, len);
}

static int sqlite_list(void *db, char *err, size_t len)
{
	static const char sql[] =
		"SELECT r.run_id, r.started, r.kernel, r.profile, r.dir, count(s.run_id),"
		" coalesce(sum(s.valid = 0), 0) FROM runs r LEFT JOIN samples s USING (run_id)"
		" GROUP BY r.run_id ORDER BY r.started, r.run_id";
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, len, "%s", sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		printf("%s\t%s\t%s\t%s\t%s\t%lld values\t%lld invalid\n",
		       (const char *)sqlite3_column_text(st, 0),
		       (const char *)sqlite3_column_text(st, 1),
		       (const char *)sqlite3_column_text(st, 2),
		       (const char *)sqlite3_column_text(st, 3),
		       (const char *)sqlite3_column_text(st, 4),
		       (long long)sqlite3_column_int64(st, 5),
		       (long long)sqlite3_column_int64(st, 6));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, len, "%s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static void history_usage(FILE *f)
{
	fprintf(f, "usage: twinbench history add RUN_DIR [--db FILE]\n"
		"       twinbench history list [--db FILE]\n"
		"  FILE defaults to %s; list prints run id, start, kernel, profile, folder,\n"
		"  sample values and invalid values, oldest first\n", HISTORY_DEFAULT_DB);
}

int history_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *dbpath = HISTORY_DEFAULT_DB, *cmd;
	char err[REPORT_ERR_LEN];
	struct run_data run;
	bool replaced, add;
	struct history *db;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dbpath = optarg;
			break;
		case 'h':
			history_usage(stdout);
			return 0;
		default:
			history_usage(stderr);
			return 2;
		}
	}
	cmd = optind < argc ? argv[optind] : "";
	add = !strcmp(cmd, "add");
	if (!(add && argc - optind == 2) && !(!strcmp(cmd, "list") && argc - optind == 1)) {
		history_usage(stderr);
		return 2;
	}
	if (add && run_load(argv[optind + 1], RUN_NEED_SAMPLES, &run, err, sizeof(err))) {
		fprintf(stderr, "history: %s\n", err);
		return 2;
	}
	if (history_open(dbpath, add, &db, err, sizeof(err))) {
		fprintf(stderr, "history: %s\n", err);
		if (add)
			run_free(&run);
		return 2;
	}
	if (!add) {
		ret = history_list(db, err, sizeof(err));
	} else {
		ret = history_add_run(db, &run, &replaced, err, sizeof(err));
		if (!ret)
			printf("history: %s run %s (%zu sample values) in %s\n",
			       replaced ? "replaced" : "added", run.id, run.samples.n, dbpath);
		run_free(&run);
	}
	if (ret)
		fprintf(stderr, "history: %s\n", err);
	history_close(db);
	return ret ? 2 : 0;
}
