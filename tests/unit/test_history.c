// SPDX-License-Identifier: GPL-2.0
/*
 * test_history.c - the history database: a run goes in and comes back out
 * value for value (samples, facts, comparisons), adding it twice keeps one copy, and a
 * damaged, foreign or newer file is refused and left byte for byte as it was; a slow
 * drift over nights that no night-to-night comparison calls is flagged by the dashboard.
 * The parts every backend shares: the schema description (columns in version order, a
 * migrated file equal to a fresh one), each table's row values, the machine a run is
 * keyed by, which history --db or TWINBENCH_DB names, and the masking of passwords.
 * (The PostgreSQL backend is tested against a real server by tests/host/fleet.sh.)
 */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <unistd.h>
#include <cmocka.h>
#include "dashboard.h"
#include "history.h"
#include "history_schema.h"
#include "report.h"
#include "report_compare.h"
#include "report_html.h"
#include "report_run.h"

struct scratch {
	char dir[PATH_MAX];
	char db[PATH_MAX + 32];
};

static int scratch_setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));

	snprintf(s->dir, sizeof(s->dir), "/tmp/twinbench-test-history.XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(s->db, sizeof(s->db), "%s/history.db", s->dir);
	*state = s;
	return 0;
}

static int scratch_teardown(void **state)
{
	struct scratch *s = *state;
	char cmd[PATH_MAX + 16];
	int rc;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	rc = system(cmd);
	free(s);
	return rc ? -1 : 0;
}

static void load_fixture(const char *name, struct run_data *run)
{
	char dir[PATH_MAX], err[REPORT_ERR_LEN];

	snprintf(dir, sizeof(dir), "%s/%s", FIXTURES, name);
	if (run_load(dir, RUN_NEED_SAMPLES, run, err, sizeof(err)))
		fail_msg("%s", err);
}

static void add_fixture(const char *db_path, const char *name, bool want_replaced)
{
	char err[REPORT_ERR_LEN];
	struct run_data run;
	bool replaced;
	struct history *db;

	load_fixture(name, &run);
	if (history_open(db_path, true, &db, err, sizeof(err)))
		fail_msg("%s", err);
	if (history_add_run(db, &run, &replaced, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(replaced, want_replaced);
	history_close(db);
	run_free(&run);
}

static long query_long(const char *db_path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long v = -1;

	assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void test_round_trip(void **state)
{
	struct scratch *s = *state;
	struct run_data run;
	sqlite3_stmt *st;
	sqlite3 *db;
	size_t checked = 0;

	add_fixture(s->db, "run-base", false);
	load_fixture("run-base", &run);
	assert_int_equal(sqlite3_open_v2(s->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT value, unit, valid, note FROM samples "
					    "WHERE run_id = ? AND family = ? AND arm = ? AND "
					    "workload = ? AND sample = ? AND metric = ?", -1, &st,
					    NULL), SQLITE_OK);
	for (size_t i = 0; i < run.samples.n; i++) {
		const struct sample_row *r = &run.samples.rows[i];

		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, run.id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, r->family, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, r->arm, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, r->workload, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, r->sample);
		sqlite3_bind_text(st, 6, r->metric, -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_true(sqlite3_column_double(st, 0) == r->value);
		assert_string_equal((const char *)sqlite3_column_text(st, 1), r->unit);
		assert_int_equal(sqlite3_column_int(st, 2), r->valid);
		assert_string_equal((const char *)sqlite3_column_text(st, 3), r->note);
		checked++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_int_equal(checked, run.samples.n);
	assert_int_equal(query_long(s->db, "SELECT count(*) FROM samples"), (long)run.samples.n);
	assert_int_equal(query_long(s->db, "SELECT count(*) FROM runs WHERE run_id = "
				    "'fixture-base' AND kernel = '6.1.0-56-amd64' AND "
				    "started = '2026-11-01T02:00:00Z'"), 1);
	run_free(&run);
}

static void test_add_twice_keeps_one(void **state)
{
	struct scratch *s = *state;
	long once;

	add_fixture(s->db, "run-base", false);
	add_fixture(s->db, "run-same", false);
	once = query_long(s->db, "SELECT count(*) FROM samples");
	add_fixture(s->db, "run-base", true);
	assert_int_equal(query_long(s->db, "SELECT count(*) FROM samples"), once);
	assert_int_equal(query_long(s->db, "SELECT count(*) FROM runs"), 2);
	assert_int_equal(query_long(s->db, "PRAGMA application_id"), 0x54574248);
}

static void test_wal_mode(void **state)
{
	struct scratch *s = *state;
	char err[REPORT_ERR_LEN];
	struct history *db;
	sqlite3_stmt *st;

	add_fixture(s->db, "run-base", false);
	assert_int_equal(history_open(s->db, false, &db, err, sizeof(err)), 0);
	/* the SQLite backend's handle is the database connection */
	assert_int_equal(sqlite3_prepare_v2(db->handle, "PRAGMA journal_mode", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	history_close(db);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n ? n : 1);
	assert_int_equal(fread(buf, 1, n, f), (size_t)n);
	fclose(f);
	*len = n;
	return buf;
}

/* history_open must fail with a message naming the file and leave it unchanged. */
static void assert_refused(const char *path, const char *why)
{
	char err[REPORT_ERR_LEN] = "";
	size_t before_len, after_len;
	char *before = read_all(path, &before_len), *after;
	struct history *db = NULL;

	assert_int_equal(history_open(path, true, &db, err, sizeof(err)), -1);
	assert_null(db);
	if (!strstr(err, path) || !strstr(err, why))
		fail_msg("unclear refusal: '%s' (want '%s')", err, why);
	assert_null(strchr(err, '\n'));
	after = read_all(path, &after_len);
	assert_int_equal(before_len, after_len);
	assert_memory_equal(before, after, before_len);
	free(before);
	free(after);
}

static void test_refuses_garbage(void **state)
{
	struct scratch *s = *state;
	FILE *f = fopen(s->db, "wb");

	for (int i = 0; i < 8192; i++)
		fputc((i * 7919) & 0xff, f);
	fclose(f);
	assert_refused(s->db, "not a usable SQLite database");
}

static void test_refuses_foreign(void **state)
{
	struct scratch *s = *state;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(s->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE runs (x); INSERT INTO runs VALUES (1)",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_refused(s->db, "not a twinbench history");
}

static void test_refuses_newer_schema(void **state)
{
	struct scratch *s = *state;
	sqlite3 *db;

	add_fixture(s->db, "run-base", false);
	assert_int_equal(sqlite3_open(s->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99; PRAGMA wal_checkpoint"
				      "(TRUNCATE); PRAGMA journal_mode = DELETE", NULL, NULL,
				      NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_refused(s->db, "schema version 99");
}

static void test_refuses_damaged(void **state)
{
	struct scratch *s = *state;
	sqlite3 *db;
	FILE *f;

	add_fixture(s->db, "run-base", false);
	assert_int_equal(sqlite3_open(s->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); "
				      "PRAGMA journal_mode = DELETE", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* Overwrite pages in the middle of the file: the header stays ours. */
	f = fopen(s->db, "r+b");
	assert_non_null(f);
	fseek(f, 5 * 4096, SEEK_SET);
	for (int i = 0; i < 3 * 4096; i++)
		fputc(0xa5, f);
	fclose(f);
	assert_refused(s->db, "damaged database");
}

static void test_missing_db_for_reading(void **state)
{
	struct scratch *s = *state;
	char err[REPORT_ERR_LEN];
	struct history *db;

	assert_int_equal(history_open(s->db, false, &db, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no such history database"));
	assert_int_equal(access(s->db, F_OK), -1);
}

/* Add run-base as night @k of a history, its IOPS scaled by @factor. */
static void add_night(const char *db_path, int k, double factor)
{
	char err[REPORT_ERR_LEN], id[32], started[32];
	struct run_data run;
	bool replaced;
	struct history *db;

	load_fixture("run-base", &run);
	snprintf(id, sizeof(id), "night-%d", k);
	snprintf(run.id, sizeof(run.id), "%s", id);
	snprintf(started, sizeof(started), "2026-11-%02dT02:00:00Z", k + 1);
	json_object_set_new(run.manifest, "started", json_string(started));
	for (size_t i = 0; i < run.samples.n; i++)
		if (!strcmp(run.samples.rows[i].metric, "iops"))
			run.samples.rows[i].value *= factor;
	if (history_open(db_path, true, &db, err, sizeof(err)) ||
	    history_add_run(db, &run, &replaced, err, sizeof(err)))
		fail_msg("%s", err);
	history_close(db);
	run_free(&run);
}

static int judge_latest(const struct scratch *s, char *page, size_t len)
{
	char out[PATH_MAX + 16], html[PATH_MAX + 32];
	char *argv[] = { "dashboard", "--db", (char *)s->db, "-o", out, "--judge-latest", NULL };
	FILE *f;
	size_t n;
	int rc;

	snprintf(out, sizeof(out), "%s/dash", s->dir);
	rc = dashboard_main(6, argv);
	snprintf(html, sizeof(html), "%s/index.html", out);
	f = fopen(html, "r");
	assert_non_null(f);
	n = fread(page, 1, len - 1, f);
	page[n] = '\0';
	fclose(f);
	return rc;
}

/*
 * Five nights losing 2 % of IOPS each (night 4 is 0.922 of night 0): night against
 * night is never a regression at the 5 % threshold, nor is night 4 against the pooled
 * nights before it (0.951); the trend test flags the drift, from night 0 on.
 */
static void test_drift_flagged(void **state)
{
	struct scratch *s = *state;
	struct compare_totals totals;
	struct run_data a, b;
	char err[REPORT_ERR_LEN];
	static char page[1 << 22];
	FILE *devnull = fopen("/dev/null", "w");
	struct history *db;

	for (int k = 0; k < 5; k++)
		add_night(s->db, k, pow(0.98, k));
	assert_int_equal(history_open(s->db, false, &db, err, sizeof(err)), 0);
	for (int k = 1; k < 5; k++) {
		char ia[16], ib[16];

		snprintf(ia, sizeof(ia), "night-%d", k - 1);
		snprintf(ib, sizeof(ib), "night-%d", k);
		assert_int_equal(history_load_run(db, ia, &a, err, sizeof(err)), 0);
		assert_int_equal(history_load_run(db, ib, &b, err, sizeof(err)), 0);
		assert_int_equal(compare_runs(&a, &b, 5.0, false, devnull, &totals, err,
					      sizeof(err)), 0);
		assert_int_equal(totals.regressions, 0);
		run_free(&a);
		run_free(&b);
	}
	history_close(db);
	fclose(devnull);
	assert_int_equal(judge_latest(s, page, sizeof(page)), 1);
	assert_non_null(strstr(page, "<tr class=\"drift\">"));
	assert_non_null(strstr(page, "trend</td><td>since night-0</td>"));
	assert_null(strstr(page, "<tr class=\"slower\">"));
}

/* Five nights wandering by a few tenths of a percent: no drift, no regression. */
static void test_no_drift_in_noise(void **state)
{
	static const double factor[5] = { 1, 0.995, 1.003, 0.998, 1.001 };
	struct scratch *s = *state;
	static char page[1 << 22];

	for (int k = 0; k < 5; k++)
		add_night(s->db, k, factor[k]);
	assert_int_equal(judge_latest(s, page, sizeof(page)), 0);
	assert_null(strstr(page, "<tr class=\"drift\">"));
}

/* The columns of @table in the SQLite file @path, comma-joined. */
static void file_columns(const char *path, const char *table, char *out, size_t len)
{
	char sql[64];
	sqlite3 *db;
	sqlite3_stmt *st;
	size_t n = 0;

	out[0] = '\0';
	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		n += snprintf(out + n, len - n, "%s,", (const char *)sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The description's columns of @t at the current version, comma-joined. */
static void schema_columns(const struct history_table *t, char *out, size_t len)
{
	const char *cols[64];
	size_t n = history_columns_at(t, HISTORY_VERSION, cols, 64), used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		used += snprintf(out + used, len - used, "%s,", cols[i]);
}

/*
 * A version 1 history (no samples.boot, no machine key, facts or comparisons) is upgraded
 * in place to the current version, keeps its samples, and then has the columns a fresh
 * history is created with.
 */
static void test_upgrades_version_1(void **state)
{
	struct scratch *s = *state;
	char err[REPORT_ERR_LEN];
	long before;
	sqlite3 *db;
	struct history *h;

	add_fixture(s->db, "run-base", false);
	before = query_long(s->db, "SELECT count(*) FROM samples");
	assert_int_equal(sqlite3_open(s->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE comparisons; "
				      "ALTER TABLE samples DROP COLUMN boot; "
				      "ALTER TABLE runs DROP COLUMN machine_id; "
				      "ALTER TABLE runs DROP COLUMN cpu_model; "
				      "ALTER TABLE runs DROP COLUMN cores; "
				      "ALTER TABLE runs DROP COLUMN memory_bytes; "
				      "ALTER TABLE runs DROP COLUMN tuning; "
				      "ALTER TABLE runs DROP COLUMN facts; "
				      "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(history_open(s->db, false, &h, err, sizeof(err)), 0);
	history_close(h);
	assert_int_equal(query_long(s->db, "PRAGMA user_version"), HISTORY_VERSION);
	assert_int_equal(query_long(s->db, "SELECT count(*) FROM samples WHERE boot = 1"),
			 before);
	assert_int_equal(query_long(s->db, "SELECT count(*) FROM runs WHERE machine_id = '' "
				    "AND cores = 0"), 1);
	assert_int_equal(query_long(s->db, "SELECT count(*) FROM comparisons"), 0);
	for (int t = 0; t < 3; t++) {
		char have[1024], want[1024];

		file_columns(s->db, history_tables[t].name, have, sizeof(have));
		schema_columns(&history_tables[t], want, sizeof(want));
		assert_string_equal(have, want);
	}
	/* the upgraded file takes a run, and is refused by nothing */
	add_fixture(s->db, "run-base", true);
	assert_true(query_long(s->db, "SELECT count(*) FROM comparisons") > 0);
}

/* Every table lists its columns in order of the version that added them. */
static void test_schema_columns_in_version_order(void **state)
{
	(void)state;
	for (const struct history_table *t = history_tables; t->name; t++) {
		unsigned int last = t->since;

		for (const struct history_column *c = t->cols; c->name; c++) {
			assert_true(c->since >= last);
			assert_true(c->since <= HISTORY_VERSION);
			/* a column added to an existing table needs a value for the old rows */
			if (c->since > t->since)
				assert_non_null(c->dflt);
			last = c->since;
		}
	}
}

/* A fresh file has exactly the described columns; the row values fill each table's. */
static void test_schema_matches_rows(void **state)
{
	struct scratch *s = *state;
	char have[1024], want[1024], verdict[32];
	struct history_value v[64];
	struct history_row row;
	struct run_data run;
	size_t ncols[3] = { 0 };

	add_fixture(s->db, "run-base", false);
	for (int t = 0; t < 3; t++) {
		file_columns(s->db, history_tables[t].name, have, sizeof(have));
		schema_columns(&history_tables[t], want, sizeof(want));
		assert_string_equal(have, want);
		for (const struct history_column *c = history_tables[t].cols; c->name; c++)
			ncols[t]++;
	}
	load_fixture("run-base", &run);
	history_row_build(&run, &row);
	assert_int_equal(history_runs_values(&run, &row, v), ncols[0]);
	for (size_t i = 0; i < ncols[0]; i++)
		if (history_tables[0].cols[i].type == HISTORY_TEXT)
			assert_non_null(v[i].s);
	assert_string_equal(v[0].s, "fixture-base");
	assert_string_equal(v[3].s, "6.1.0-56-amd64");
	assert_int_equal(history_sample_values(run.id, &run.samples.rows[0], v), ncols[1]);
	assert_int_equal(history_comparison_values(run.id, &run.summary.rows[0], v, verdict,
						   sizeof(verdict)), ncols[2]);
	assert_string_equal(v[10].s, verdict_name(run.summary.rows[0].verdict));
	history_row_free(&row);
	run_free(&run);
}

/* A run read back has its facts (roles, primary metric) and its comparisons. */
static void test_load_has_facts_and_comparisons(void **state)
{
	struct scratch *s = *state;
	char err[REPORT_ERR_LEN];
	struct run_data want, got;
	struct history *db;

	add_fixture(s->db, "run-base", false);
	load_fixture("run-base", &want);
	assert_int_equal(history_open(s->db, false, &db, err, sizeof(err)), 0);
	assert_int_equal(history_load_run(db, "fixture-base", &got, err, sizeof(err)), 0);
	history_close(db);
	assert_int_equal(got.samples.n, want.samples.n);
	assert_int_equal(got.summary.n, want.summary.n);
	assert_int_equal(got.facts.n, want.facts.n);
	assert_int_equal(run_arm_role(&got, "null", "safenull"), ARM_SAFE);
	assert_string_equal(facts_family_get(&got.facts, "null", "primary_metric"), "iops");
	for (size_t i = 0; i < want.summary.n; i++) {
		const struct summary_row *w = &want.summary.rows[i];
		bool found = false;

		for (size_t j = 0; j < got.summary.n && !found; j++) {
			const struct summary_row *g = &got.summary.rows[j];

			found = !strcmp(g->workload, w->workload) && !strcmp(g->metric, w->metric) &&
				!strcmp(g->baseline, w->baseline) &&
				!strcmp(g->candidate, w->candidate) && g->ratio == w->ratio &&
				g->ci_low == w->ci_low && g->verdict == w->verdict;
		}
		if (!found)
			fail_msg("comparison %s %s %s/%s not read back", w->workload, w->metric,
				 w->candidate, w->baseline);
	}
	run_free(&want);
	run_free(&got);
}

/* The machine key: identity and tuning from the host object, tuning sorted by key. */
static void test_machine_key(void **state)
{
	json_t *a = json_loads("{\"host\": {\"cpu_model\": \"X\", \"machine_id\": \"abc123\","
			       " \"smt\": false, \"governor\": \"performance\", \"cores\": 4,"
			       " \"memory_bytes\": 8589934592}}", 0, NULL);
	json_t *b = json_loads("{\"host\": {\"governor\": \"performance\", \"smt\": false,"
			       " \"machine_id\": \"abc123\", \"cores\": 4, \"cpu_model\": \"X\","
			       " \"memory_bytes\": 8589934592}}", 0, NULL);
	struct history_machine ma, mb;
	char ka[1024], kb[1024], label[256];

	(void)state;
	history_machine_of(a, &ma);
	history_machine_of(b, &mb);
	assert_string_equal(ma.id, "abc123");
	assert_string_equal(ma.cpu_model, "X");
	assert_int_equal(ma.cores, 4);
	assert_int_equal(ma.memory_bytes, 8589934592LL);
	assert_string_equal(ma.tuning, "governor=performance smt=false");
	history_machine_key(&ma, ka, sizeof(ka));
	history_machine_key(&mb, kb, sizeof(kb));
	assert_string_equal(ka, kb);
	history_machine_label(&ma, label, sizeof(label));
	assert_non_null(strstr(label, "abc123 X, 4 CPUs, 8 GiB"));
	/* another tuning is another machine */
	json_object_set_new(json_object_get(b, "host"), "smt", json_true());
	history_machine_of(b, &mb);
	history_machine_key(&mb, kb, sizeof(kb));
	assert_string_not_equal(ka, kb);
	/* a run from before the machine key */
	json_object_del(a, "host");
	history_machine_of(a, &ma);
	assert_string_equal(ma.id, "unknown");
	json_decref(a);
	json_decref(b);
}

static void test_mask(void **state)
{
	static const char *const cases[][2] = {
		{ "results/history.db", "results/history.db" },
		{ "postgresql://u:secret@db.lab:5432/fleet", "postgresql://u:***@db.lab:5432/fleet" },
		{ "postgres://u@db/fleet", "postgres://u@db/fleet" },
		{ "postgresql://db/fleet?user=u&password=secret&sslmode=require",
		  "postgresql://db/fleet?user=u&password=***&sslmode=require" },
		{ "postgresql://u:secret@db/fleet?password=other",
		  "postgresql://u:***@db/fleet?password=***" },
		{ "postgresql://[::1]:5432/fleet", "postgresql://[::1]:5432/fleet" },
	};
	char out[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		history_mask(cases[i][0], out, sizeof(out));
		assert_string_equal(out, cases[i][1]);
		assert_null(strstr(out, "secret"));
	}
	assert_true(history_is_url("postgresql://x/y"));
	assert_false(history_is_url("postgresql.db"));
}

static void test_where(void **state)
{
	(void)state;
	unsetenv(HISTORY_ENV);
	assert_string_equal(history_where(NULL), HISTORY_DEFAULT_DB);
	setenv(HISTORY_ENV, "postgresql://db/fleet", 1);
	assert_string_equal(history_where(NULL), "postgresql://db/fleet");
	assert_string_equal(history_where("other.db"), "other.db");
	setenv(HISTORY_ENV, "", 1);
	assert_string_equal(history_where(NULL), HISTORY_DEFAULT_DB);
	unsetenv(HISTORY_ENV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(test_add_twice_keeps_one, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_wal_mode, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(test_refuses_garbage, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_refuses_foreign, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_refuses_newer_schema, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_refuses_damaged, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_drift_flagged, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_no_drift_in_noise, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_upgrades_version_1, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_missing_db_for_reading, scratch_setup,
						scratch_teardown),
		cmocka_unit_test(test_schema_columns_in_version_order),
		cmocka_unit_test_setup_teardown(test_schema_matches_rows, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_load_has_facts_and_comparisons, scratch_setup,
						scratch_teardown),
		cmocka_unit_test(test_machine_key),
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_where),
	};

	/* the dashboard's gnuplot scripts, wherever the tests run from */
	setenv("TWINBENCH_PLOTS", FIXTURES "/../../plots", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
