// SPDX-License-Identifier: GPL-2.0
/*
 * history.c - twinbench history: the database of every run that was added, the memory
 * behind the nightly dashboard, on one machine (a SQLite file) or shared by a fleet (a
 * PostgreSQL server). What does not depend on the backend lives here: choosing it, what
 * a run's rows hold, reading them back, and the subcommands. A run goes in as one
 * transaction and adding it again replaces it, so the history never holds a run twice;
 * a database that is not ours (damaged, foreign, newer) is refused untouched.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "history.h"
#include "history_schema.h"
#include "vec.h"

bool history_is_url(const char *where)
{
	return !strncmp(where, "postgresql://", 13) || !strncmp(where, "postgres://", 11);
}

void history_mask(const char *where, char *out, size_t len)
{
	const char *scheme = strstr(where, "://"), *at, *colon, *pw;
	struct strbuf b = { 0 };

	if (!history_is_url(where) || !scheme) {
		snprintf(out, len, "%s", where);
		return;
	}
	at = strchr(scheme + 3, '@');
	colon = at ? memchr(scheme + 3, ':', at - scheme - 3) : NULL;
	if (colon)
		strbuf_addf(&b, "%.*s:***%.*s", (int)(colon - where), where,
			    (int)strcspn(at, "?"), at);
	else
		strbuf_addf(&b, "%.*s", (int)strcspn(where, "?"), where);
	/* query parameters, with password=... masked */
	for (const char *q = strchr(where, '?'); q && *q; ) {
		size_t n = strcspn(q + 1, "&");

		pw = q + 1;
		if (!strncmp(pw, "password=", 9))
			strbuf_addf(&b, "%cpassword=***", *q);
		else
			strbuf_addf(&b, "%c%.*s", *q, (int)n, pw);
		q = pw[n] ? pw + n : NULL;
	}
	snprintf(out, len, "%s", b.s ? b.s : "");
	free(b.s);
}

const char *history_where(const char *opt)
{
	const char *env = getenv(HISTORY_ENV);

	if (opt)
		return opt;
	return env && *env ? env : HISTORY_DEFAULT_DB;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void history_machine_of(json_t *manifest, struct history_machine *m)
{
	static const char *const identity[] = { "machine_id", "cpu_model", "cores",
						"memory_bytes" };
	json_t *host = json_object_get(manifest, "host"), *v;
	const char *keys[64], *key, *s;
	size_t n = 0, used = 0;

	memset(m, 0, sizeof(*m));
	s = json_string_value(json_object_get(host, "machine_id"));
	snprintf(m->id, sizeof(m->id), "%s", s ? s : "unknown");
	s = json_string_value(json_object_get(host, "cpu_model"));
	snprintf(m->cpu_model, sizeof(m->cpu_model), "%s", s ? s : "unknown");
	m->cores = json_integer_value(json_object_get(host, "cores"));
	m->memory_bytes = json_integer_value(json_object_get(host, "memory_bytes"));
	json_object_foreach(host, key, v) {
		bool skip = false;

		for (size_t i = 0; i < ARRAY_SIZE(identity); i++)
			skip |= !strcmp(key, identity[i]);
		if (!skip && n < ARRAY_SIZE(keys))
			keys[n++] = key;
	}
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (size_t i = 0; i < n && used < sizeof(m->tuning); i++) {
		char *text;

		v = json_object_get(host, keys[i]);
		text = json_is_string(v) ? strdup(json_string_value(v)) :
		       json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		used += snprintf(m->tuning + used, sizeof(m->tuning) - used, "%s%s=%s",
				 i ? " " : "", keys[i], text ? text : "?");
		free(text);
	}
}

void history_machine_key(const struct history_machine *m, char *out, size_t len)
{
	snprintf(out, len, "%s|%s|%lld|%lld|%s", m->id, m->cpu_model, m->cores,
		 m->memory_bytes, m->tuning);
}

void history_machine_label(const struct history_machine *m, char *out, size_t len)
{
	unsigned int hash = 2166136261u;

	/* FNV-1a of the tuning tells one machine's tunings apart */
	for (const char *c = m->tuning; *c; c++)
		hash = (hash ^ (unsigned char)*c) * 16777619u;
	snprintf(out, len, "%.8s %s, %lld CPUs, %.0f GiB, tuning %04x", m->id, m->cpu_model,
		 m->cores, m->memory_bytes / (1024.0 * 1024 * 1024), hash & 0xffff);
}

void history_row_build(const struct run_data *run, struct history_row *row)
{
	static const struct {
		const char *key;
		size_t off, size;
	} text[] = {
		{ "started", offsetof(struct history_row, started), sizeof(row->started) },
		{ "release", offsetof(struct history_row, kernel), sizeof(row->kernel) },
		{ "mode", offsetof(struct history_row, mode), sizeof(row->mode) },
		{ "clock", offsetof(struct history_row, clock), sizeof(row->clock) },
		{ "profile", offsetof(struct history_row, profile), sizeof(row->profile) },
		{ "git_commit", offsetof(struct history_row, commit), sizeof(row->commit) },
	};
	time_t now = time(NULL);

	memset(row, 0, sizeof(*row));
	for (size_t i = 0; i < ARRAY_SIZE(text); i++) {
		char buf[128];
		const char *v = manifest_get(run->manifest, text[i].key, buf, sizeof(buf));

		snprintf((char *)row + text[i].off, text[i].size, "%s", v ? v : "");
	}
	if (!row->started[0])
		snprintf(row->started, sizeof(row->started), "%s", run->id);
	strftime(row->added, sizeof(row->added), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	history_machine_of(run->manifest, &row->machine);
	row->manifest = json_dumps(run->manifest, JSON_COMPACT | JSON_SORT_KEYS);
	if (!row->manifest)
		row->manifest = strdup("{}");
	facts_format(&run->facts, &row->facts);
}

void history_row_free(struct history_row *row)
{
	free(row->manifest);
	free(row->facts.s);
	memset(row, 0, sizeof(*row));
}

size_t history_runs_values(const struct run_data *run, const struct history_row *row,
			   struct history_value *v)
{
	const char *text[] = { run->id, row->started, run->dir, row->kernel, row->mode,
			       row->clock, row->profile, row->commit, row->manifest, row->added,
			       row->machine.id, row->machine.cpu_model };
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(text); i++)
		v[n++] = (struct history_value){ .s = text[i] };
	v[n++] = (struct history_value){ .i = row->machine.cores };
	v[n++] = (struct history_value){ .i = row->machine.memory_bytes };
	v[n++] = (struct history_value){ .s = row->machine.tuning };
	v[n++] = (struct history_value){ .s = row->facts.s ? row->facts.s : "" };
	return n;
}

size_t history_sample_values(const char *run_id, const struct sample_row *r,
			     struct history_value *v)
{
	size_t n = 0;

	v[n++] = (struct history_value){ .s = run_id };
	v[n++] = (struct history_value){ .s = r->family };
	v[n++] = (struct history_value){ .s = r->arm };
	v[n++] = (struct history_value){ .s = r->workload };
	v[n++] = (struct history_value){ .i = r->sample };
	v[n++] = (struct history_value){ .s = r->metric };
	v[n++] = (struct history_value){ .d = r->value };
	v[n++] = (struct history_value){ .s = r->unit };
	v[n++] = (struct history_value){ .i = r->valid };
	v[n++] = (struct history_value){ .s = r->note };
	v[n++] = (struct history_value){ .i = r->boot ? r->boot : 1 };
	return n;
}

size_t history_comparison_values(const char *run_id, const struct summary_row *r,
				 struct history_value *v, char *verdict, size_t len)
{
	size_t n = 0;

	snprintf(verdict, len, "%s", verdict_name(r->verdict));
	v[n++] = (struct history_value){ .s = run_id };
	v[n++] = (struct history_value){ .s = r->family };
	v[n++] = (struct history_value){ .s = r->workload };
	v[n++] = (struct history_value){ .s = r->metric };
	v[n++] = (struct history_value){ .s = r->baseline };
	v[n++] = (struct history_value){ .s = r->candidate };
	v[n++] = (struct history_value){ .d = r->ratio };
	v[n++] = (struct history_value){ .d = r->ci_low };
	v[n++] = (struct history_value){ .d = r->ci_high };
	v[n++] = (struct history_value){ .d = r->p_adjusted };
	v[n++] = (struct history_value){ .s = verdict };
	return n;
}

const char history_sql_run[] = "SELECT dir, manifest, facts FROM runs WHERE run_id = ?";
const char history_sql_samples[] =
	"SELECT family, arm, workload, sample, metric, value, unit, valid, note, boot"
	" FROM samples WHERE run_id = ? ORDER BY family, arm, workload, sample, metric";
const char history_sql_comparisons[] =
	"SELECT family, workload, metric, baseline, candidate, ratio, ci_low, ci_high,"
	" p_adjusted, verdict FROM comparisons WHERE run_id = ?"
	" ORDER BY family, workload, metric, baseline, candidate";
const char history_sql_list[] =
	"SELECT r.run_id, r.started, r.kernel, r.profile, r.dir,"
	" (SELECT count(*) FROM samples s WHERE s.run_id = r.run_id),"
	" (SELECT count(*) FROM samples s WHERE s.run_id = r.run_id AND s.valid = 0),"
	" r.machine_id FROM runs r ORDER BY r.started, r.run_id";

static void copy_text(char *dst, size_t size, const char *v)
{
	snprintf(dst, size, "%s", v ? v : "");
}

void history_read_run(const struct history_reader *r, struct run_data *run)
{
	char err[REPORT_ERR_LEN];
	const char *facts = r->text(r->ctx, 2);

	copy_text(run->dir, sizeof(run->dir), r->text(r->ctx, 0));
	run->manifest = json_loads(r->text(r->ctx, 1) ? r->text(r->ctx, 1) : "", 0, NULL);
	if (!run->manifest)
		run->manifest = json_object();
	if (facts && *facts && facts_parse(facts, "facts", &run->facts, err, sizeof(err)))
		memset(&run->facts, 0, sizeof(run->facts));
}

void history_read_sample(const struct history_reader *r, struct run_data *run)
{
	struct sample_row s = { 0 };

	copy_text(s.family, sizeof(s.family), r->text(r->ctx, 0));
	copy_text(s.arm, sizeof(s.arm), r->text(r->ctx, 1));
	copy_text(s.workload, sizeof(s.workload), r->text(r->ctx, 2));
	s.sample = (unsigned int)r->integer(r->ctx, 3);
	copy_text(s.metric, sizeof(s.metric), r->text(r->ctx, 4));
	s.value = r->real(r->ctx, 5);
	copy_text(s.unit, sizeof(s.unit), r->text(r->ctx, 6));
	s.valid = (int)r->integer(r->ctx, 7);
	copy_text(s.note, sizeof(s.note), r->text(r->ctx, 8));
	s.boot = (unsigned int)r->integer(r->ctx, 9);
	sample_table_add(&run->samples, &s);
}

void history_read_comparison(const struct history_reader *r, struct run_data *run)
{
	struct summary_row s = { 0 };

	copy_text(s.family, sizeof(s.family), r->text(r->ctx, 0));
	copy_text(s.workload, sizeof(s.workload), r->text(r->ctx, 1));
	copy_text(s.metric, sizeof(s.metric), r->text(r->ctx, 2));
	copy_text(s.baseline, sizeof(s.baseline), r->text(r->ctx, 3));
	copy_text(s.candidate, sizeof(s.candidate), r->text(r->ctx, 4));
	s.ratio = r->real(r->ctx, 5);
	s.ci_low = r->real(r->ctx, 6);
	s.ci_high = r->real(r->ctx, 7);
	s.p_adjusted = r->real(r->ctx, 8);
	if (verdict_parse(r->text(r->ctx, 9) ? r->text(r->ctx, 9) : "", &s.verdict))
		s.verdict = VERDICT_INCONCLUSIVE;
	summary_table_add(&run->summary, &s);
}

void history_list_line(const struct history_reader *r)
{
	printf("%s\t%s\t%s\t%s\t%s\t%lld values\t%lld invalid\t%s\n", r->text(r->ctx, 0),
	       r->text(r->ctx, 1), r->text(r->ctx, 2), r->text(r->ctx, 3), r->text(r->ctx, 4),
	       r->integer(r->ctx, 5), r->integer(r->ctx, 6), r->text(r->ctx, 7));
}

int history_open(const char *where, bool create, struct history **out, char *err, size_t len)
{
	struct history *h = calloc(1, sizeof(*h));

	if (!h)
		abort();
	h->be = history_is_url(where) ? &history_pg_backend : &history_sqlite_backend;
	if (h->be->open(where, create, &h->handle, err, len)) {
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

/* Copy every run of @from that @to lacks into @to; the count into *@pushed. */
static int history_push(struct history *from, struct history *to, size_t *pushed, char *err,
			size_t len)
{
	struct name_list have = { 0 }, want = { 0 };
	int ret = history_run_ids(to, &have, err, len) ||
		  history_run_ids(from, &want, err, len) ? -1 : 0;

	*pushed = 0;
	for (size_t i = 0; i < want.n && !ret; i++) {
		struct run_data run;
		bool replaced;

		if (name_list_find(&have, want.names[i]) >= 0)
			continue;
		ret = history_load_run(from, want.names[i], &run, err, len);
		if (ret)
			break;
		ret = history_add_run(to, &run, &replaced, err, len);
		*pushed += !ret;
		run_free(&run);
	}
	name_list_free(&have);
	name_list_free(&want);
	return ret;
}

static void history_usage(FILE *f)
{
	fprintf(f, "usage: twinbench history add RUN_DIR [--db WHERE]\n"
		"       twinbench history list [--db WHERE]\n"
		"       twinbench history push FROM [--db WHERE]\n"
		"  WHERE: a SQLite file or a postgresql:// URL (credentials from the URL,\n"
		"  PGPASSFILE or a service file); defaults to $%s, else %s.\n"
		"  list prints run id, start, kernel, profile, folder, sample values, invalid\n"
		"  values and machine id, oldest first; push copies the runs of the history FROM\n"
		"  that WHERE lacks (a night's backlog)\n", HISTORY_ENV, HISTORY_DEFAULT_DB);
}

int history_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *opt_db = NULL, *where, *cmd;
	char err[REPORT_ERR_LEN], shown[PATH_MAX];
	struct history *db, *from = NULL;
	struct run_data run;
	bool replaced, add, push;
	size_t pushed;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			opt_db = optarg;
			break;
		case 'h':
			history_usage(stdout);
			return 0;
		default:
			history_usage(stderr);
			return 2;
		}
	}
	where = history_where(opt_db);
	history_mask(where, shown, sizeof(shown));
	cmd = optind < argc ? argv[optind] : "";
	add = !strcmp(cmd, "add");
	push = !strcmp(cmd, "push");
	if (!((add || push) && argc - optind == 2) && !(!strcmp(cmd, "list") &&
							 argc - optind == 1)) {
		history_usage(stderr);
		return 2;
	}
	if (add && run_load(argv[optind + 1], RUN_NEED_SAMPLES, &run, err, sizeof(err))) {
		fprintf(stderr, "history: %s\n", err);
		return 2;
	}
	if (push && history_open(argv[optind + 1], false, &from, err, sizeof(err))) {
		fprintf(stderr, "history: %s\n", err);
		return 2;
	}
	if (history_open(where, add || push, &db, err, sizeof(err))) {
		fprintf(stderr, "history: %s\n", err);
		if (add)
			run_free(&run);
		history_close(from);
		return 2;
	}
	if (push) {
		ret = history_push(from, db, &pushed, err, sizeof(err));
		if (!ret)
			printf("history: pushed %zu runs from %s to %s\n", pushed,
			       argv[optind + 1], shown);
		history_close(from);
	} else if (!add) {
		ret = history_list(db, err, sizeof(err));
	} else {
		ret = history_add_run(db, &run, &replaced, err, sizeof(err));
		if (!ret)
			printf("history: %s run %s (%zu sample values) in %s\n",
			       replaced ? "replaced" : "added", run.id, run.samples.n, shown);
		run_free(&run);
	}
	if (ret)
		fprintf(stderr, "history: %s\n", err);
	history_close(db);
	return ret ? 2 : 0;
}
