// SPDX-License-Identifier: GPL-2.0
/*
 * matrix.c - reads a matrix INI file with inih and checks every value, the
 * cross-references (arms, families) and the family's own limits (block size
 * against the device), reporting the first problem as "file:line: message".
 *
 * Sections: [run], [workloads] (defaults for every workload), [family NAME],
 * [workload NAME]. docs/methodology.md and bench/profiles/ show examples.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ini.h>
#include "family.h"
#include "matrix.h"
#include "results.h"
#include "util.h"

#define MAX_LINE	200	/* inih's line buffer */
#define MAX_IODEPTH	4096
#define MAX_NUMJOBS	64

enum section_kind { SEC_NONE, SEC_RUN, SEC_DEFAULTS, SEC_FAMILY, SEC_WORKLOAD };

struct parse_state {
	struct matrix *m;
	FILE *file;
	int line;		/* line of the text inih is working on */
	int next_line;
	enum section_kind kind;
	struct matrix_family *family;
	struct workload *workload;
	struct workload defaults;
	unsigned int run_set, family_set;
	bool failed;
	char *err;
	size_t errlen;
};

static void fail_at(struct parse_state *st, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail_at(struct parse_state *st, int line, const char *fmt, ...)
{
	va_list ap;
	int off;

	if (st->failed)
		return;
	st->failed = true;
	off = snprintf(st->err, st->errlen, "%s:%d: ", st->m->path, line);
	if (off < 0 || (size_t)off >= st->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(st->err + off, st->errlen - off, fmt, ap);
	va_end(ap);
}

int parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v, mult = 1;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (tolower((unsigned char)*end)) {
	case '\0':
		break;
	case 'k':
		mult = 1ULL << 10;
		break;
	case 'm':
		mult = 1ULL << 20;
		break;
	case 'g':
		mult = 1ULL << 30;
		break;
	default:
		return -1;
	}
	if (*end && end[1] && strcasecmp(end + 1, "i") && strcasecmp(end + 1, "ib") &&
	    strcasecmp(end + 1, "b"))
		return -1;
	if (v > ~0ULL / mult)
		return -1;
	*out = v * mult;
	return 0;
}

static int parse_uint(const char *s, unsigned long long min, unsigned long long max,
		      unsigned long long *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end || *out < min || *out > max ? -1 : 0;
}

/* Workload keys: each parses into a workload and sets one bit of workload.set. */
typedef int (*key_parser)(struct parse_state *st, struct workload *w, const char *v);

static const char *const block_rw[] = { "read", "write", "randread", "randwrite" };
static const char *const net_rw[] = { "udp", "tcp" };

static bool rw_in(const char *rw, const char *const *kinds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rw, kinds[i]))
			return true;
	return false;
}

bool matrix_rw_is_block(const char *rw)
{
	return rw_in(rw, block_rw, ARRAY_LEN(block_rw));
}

bool matrix_rw_is_net(const char *rw)
{
	return rw_in(rw, net_rw, ARRAY_LEN(net_rw));
}

/* Which rw kinds exist is the parser's business; which family runs which, the family's. */
static int parse_rw(struct parse_state *st, struct workload *w, const char *v)
{
	if (!matrix_rw_is_block(v) && !matrix_rw_is_net(v)) {
		fail_at(st, st->line, "rw = %s: expected read, write, randread, randwrite (block) "
			"or udp, tcp (net)", v);
		return -1;
	}
	snprintf(w->rw, sizeof(w->rw), "%s", v);
	return 0;
}

static int parse_bs(struct parse_state *st, struct workload *w, const char *v)
{
	unsigned long long bs;

	if (parse_size(v, &bs) || bs == 0 || bs > (1ULL << 31)) {
		fail_at(st, st->line, "bs = %s: expected a size such as 512, 4k or 1472", v);
		return -1;
	}
	w->bs = bs;
	w->bs_line = st->line;
	return 0;
}

static int parse_iodepth(struct parse_state *st, struct workload *w, const char *v)
{
	unsigned long long qd;

	if (parse_uint(v, 1, MAX_IODEPTH, &qd)) {
		fail_at(st, st->line, "iodepth = %s: expected 1 to %d", v, MAX_IODEPTH);
		return -1;
	}
	w->iodepth = qd;
	return 0;
}

static int parse_numjobs(struct parse_state *st, struct workload *w, const char *v)
{
	unsigned long long n;

	if (parse_uint(v, 1, MAX_NUMJOBS, &n)) {
		fail_at(st, st->line, "numjobs = %s: expected 1 to %d", v, MAX_NUMJOBS);
		return -1;
	}
	w->numjobs = n;
	return 0;
}

/* hipri = 0|1: polled completions (io_uring IOPOLL); the device needs poll queues. */
static int parse_hipri(struct parse_state *st, struct workload *w, const char *v)
{
	if (strcmp(v, "0") && strcmp(v, "1")) {
		fail_at(st, st->line, "hipri = %s: expected 0 or 1 (1: polled completions, "
			"which need poll queues on the device)", v);
		return -1;
	}
	w->hipri = *v == '1';
	return 0;
}

static int parse_cpus(struct parse_state *st, struct workload *w, const char *v)
{
	bool ok = *v && isdigit((unsigned char)*v) && strlen(v) < sizeof(w->cpus);

	for (const char *p = v; ok && *p; p++)
		ok = isdigit((unsigned char)*p) || *p == ',' || *p == '-';
	if (!ok) {
		fail_at(st, st->line, "cpus = %s: expected a CPU list such as 0 or 0-1,3", v);
		return -1;
	}
	snprintf(w->cpus, sizeof(w->cpus), "%s", v);
	return 0;
}

static int parse_family_ref(struct parse_state *st, struct workload *w, const char *v)
{
	if (!family_find(v)) {
		fail_at(st, st->line, "family = %s: unknown family (known: %s)", v,
			family_names());
		return -1;
	}
	snprintf(w->family, sizeof(w->family), "%s", v);
	return 0;
}

static int parse_scheduler(struct parse_state *st, struct workload *w, const char *v)
{
	bool ok = *v && strlen(v) < sizeof(w->queue.scheduler);

	for (const char *p = v; ok && *p; p++)
		ok = isalnum((unsigned char)*p) || *p == '-' || *p == '_';
	if (!ok) {
		fail_at(st, st->line, "scheduler = %s: expected a scheduler name such as none", v);
		return -1;
	}
	snprintf(w->queue.scheduler, sizeof(w->queue.scheduler), "%s", v);
	return 0;
}

/* A queue setting: a number in [min, max], or "keep" to leave the kernel's value. */
static int parse_queue_int(struct parse_state *st, const char *key, const char *v, int min,
			   int max, int *out)
{
	unsigned long long n;

	if (!strcmp(v, "keep")) {
		*out = -1;
		return 0;
	}
	if (parse_uint(v, min, max, &n)) {
		fail_at(st, st->line, "%s = %s: expected %d to %d, or keep", key, v, min, max);
		return -1;
	}
	*out = n;
	return 0;
}

#define QUEUE_KEY(field, min, max)						\
static int parse_##field(struct parse_state *st, struct workload *w, const char *v)	\
{										\
	return parse_queue_int(st, #field, v, min, max, &w->queue.field);	\
}

QUEUE_KEY(iostats, 0, 1)
QUEUE_KEY(add_random, 0, 1)
QUEUE_KEY(nomerges, 0, 2)
QUEUE_KEY(rq_affinity, 0, 2)
QUEUE_KEY(max_sectors_kb, 4, 1 << 20)
QUEUE_KEY(nr_requests, 4, 1 << 16)

static const struct {
	const char *name;
	key_parser parse;
	bool required;
} workload_keys[] = {
	{ "family", parse_family_ref, false },
	{ "rw", parse_rw, true },
	{ "bs", parse_bs, true },
	{ "iodepth", parse_iodepth, true },
	{ "numjobs", parse_numjobs, false },
	{ "cpus", parse_cpus, false },
	{ "scheduler", parse_scheduler, false },
	{ "iostats", parse_iostats, false },
	{ "add_random", parse_add_random, false },
	{ "nomerges", parse_nomerges, false },
	{ "rq_affinity", parse_rq_affinity, false },
	{ "max_sectors_kb", parse_max_sectors_kb, false },
	{ "nr_requests", parse_nr_requests, false },
	{ "hipri", parse_hipri, false },
};

#define N_WORKLOAD_KEYS ARRAY_LEN(workload_keys)

/* Values of keys a workload leaves out when [workloads] does too. */
static void builtin_defaults(struct workload *w)
{
	w->numjobs = 1;
	snprintf(w->cpus, sizeof(w->cpus), "0");
	snprintf(w->queue.scheduler, sizeof(w->queue.scheduler), "none");
	w->queue.iostats = 0;
	w->queue.add_random = 0;
	w->queue.nomerges = 0;
	w->queue.rq_affinity = 1;
	w->queue.max_sectors_kb = -1;
	w->queue.nr_requests = -1;
}

static int workload_key(struct parse_state *st, struct workload *w, const char *name,
			const char *value)
{
	for (size_t i = 0; i < N_WORKLOAD_KEYS; i++) {
		if (strcmp(name, workload_keys[i].name))
			continue;
		if (w->set & (1U << i)) {
			fail_at(st, st->line, "%s given twice in this section", name);
			return -1;
		}
		if (workload_keys[i].parse(st, w, value))
			return -1;
		w->set |= 1U << i;
		return 0;
	}
	fail_at(st, st->line, "unknown key '%s' in a workload section", name);
	return -1;
}

/* Check that nothing required is missing from @w or [workloads]. */
static void workload_finish(struct parse_state *st, struct workload *w)
{
	unsigned int set = w->set | st->defaults.set;

	for (size_t i = 0; i < N_WORKLOAD_KEYS; i++)
		if (workload_keys[i].required && !(set & (1U << i)) &&
		    !(workload_keys[i].parse == parse_iodepth && matrix_rw_is_net(w->rw)))
			fail_at(st, w->line, "workload '%s': %s is not set (here or in "
				"[workloads])", w->name, workload_keys[i].name);
}

/* margin = PCT or margin.METRIC = PCT: a finite percentage in [0, 50). */
static int margin_key(struct parse_state *st, const char *name, const char *value)
{
	struct matrix *m = st->m;
	const char *metric = name[6] == '.' ? name + 7 : NULL;
	char *end;
	double v = strtod(value, &end);

	if (end == value || *end || !isfinite(v) || v < 0 || v >= 50) {
		fail_at(st, st->line, "%s = %s: expected a percentage in [0, 50)", name, value);
		return -1;
	}
	if (!metric) {
		m->margin_pct = v;
		return 0;
	}
	if (!metric_lookup(metric)) {
		fail_at(st, st->line, "%s: unknown metric '%s'", name, metric);
		return -1;
	}
	for (size_t i = 0; i < m->n_margins; i++) {
		if (!strcmp(m->margins[i].metric, metric)) {
			fail_at(st, st->line, "%s given twice in [run]", name);
			return -1;
		}
	}
	if (m->n_margins == MATRIX_MAX_MARGINS) {
		fail_at(st, st->line, "more than %d per-metric margins", MATRIX_MAX_MARGINS);
		return -1;
	}
	snprintf(m->margins[m->n_margins].metric, sizeof(m->margins[0].metric), "%s", metric);
	m->margins[m->n_margins++].pct = v;
	return 0;
}

double matrix_margin(const struct matrix *m, const char *metric)
{
	for (size_t i = 0; i < m->n_margins; i++)
		if (!strcmp(m->margins[i].metric, metric))
			return m->margins[i].pct / 100;
	return m->margin_pct / 100;
}

/* trace_duty = ON/PERIOD (ms, 0 < ON < PERIOD <= 3600000) or off (always attached). */
static int trace_duty_key(struct parse_state *st, const char *value)
{
	struct matrix_trace_rate *r = &st->m->trace_rate;
	unsigned int on, period;
	char c;

	if (!strcmp(value, "off")) {
		r->duty_on_ms = r->duty_period_ms = 0;
		return 0;
	}
	if (sscanf(value, "%u/%u%c", &on, &period, &c) != 2 || !on || on >= period ||
	    period > 3600000 || !isdigit((unsigned char)value[0])) {
		fail_at(st, st->line, "trace_duty = %s: expected ON/PERIOD in ms "
			"(0 < ON < PERIOD <= 3600000) or off", value);
		return -1;
	}
	r->duty_on_ms = on;
	r->duty_period_ms = period;
	return 0;
}

static int run_key(struct parse_state *st, const char *name, const char *value)
{
	static const char *const keys[] = { "samples", "ios", "warmup_ios", "timeout", "seed",
					    "trace", "trace_sample", "boots", "trace_duty" };
	static const char *const trace_modes[] = { "off", "on", "both" };
	struct matrix *m = st->m;
	unsigned long long v;
	size_t i;

	if (!strncmp(name, "margin", 6) && (!name[6] || name[6] == '.'))
		return margin_key(st, name, value);
	for (i = 0; i < 9 && strcmp(name, keys[i]); i++)
		;
	if (i == 9) {
		fail_at(st, st->line, "unknown key '%s' in [run] (expected samples, boots, ios, "
			"warmup_ios, timeout, seed, trace, trace_sample, trace_duty, margin or "
			"margin.METRIC)",
			name);
		return -1;
	}
	if (st->run_set & (1U << i)) {
		fail_at(st, st->line, "%s given twice in [run]", name);
		return -1;
	}
	st->run_set |= 1U << i;
	switch (i) {
	case 0:
		if (parse_uint(value, 1, 10000, &v))
			break;
		m->samples = v;
		return 0;
	case 1:
		if (parse_uint(value, 1, 1ULL << 40, &v))
			break;
		m->ios = v;
		m->ios_line = st->line;
		return 0;
	case 2:
		if (parse_uint(value, 0, 1ULL << 40, &v))
			break;
		m->warmup_ios = v;
		return 0;
	case 3:
		if (parse_uint(value, 1, 86400, &v))
			break;
		m->timeout = v;
		return 0;
	case 4:
		if (parse_uint(value, 0, ~0ULL, &v))
			break;
		m->seed = v;
		m->seed_given = true;
		return 0;
	case 5:
		for (v = 0; v < 3; v++) {
			if (!strcmp(value, trace_modes[v])) {
				m->trace = v;
				return 0;
			}
		}
		fail_at(st, st->line, "trace = %s: expected off, on or both", value);
		return -1;
	case 6:
		if (parse_uint(value, 1, 1000000, &v))
			break;
		m->trace_rate.sample = v;
		return 0;
	case 7:
		if (parse_uint(value, 1, 1000, &v))
			break;
		m->boots = v;
		m->boots_line = st->line;
		return 0;
	case 8:
		return trace_duty_key(st, value);
	}
	fail_at(st, st->line, "%s = %s: expected a whole number in range", name, value);
	return -1;
}

static int family_arms(struct parse_state *st, struct matrix_family *f, const char *value)
{
	char buf[MAX_LINE], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", value);
	for (char *a = strtok_r(buf, " ,\t", &save); a; a = strtok_r(NULL, " ,\t", &save)) {
		if (!family_find_arm(f->ops, a)) {
			char known[256] = "";

			for (const struct family_arm *k = f->ops->arms; k->name; k++)
				snprintf(known + strlen(known), sizeof(known) - strlen(known),
					 "%s%s", known[0] ? " " : "", k->name);
			fail_at(st, st->line, "unknown arm '%s' in family %s (known: %s)", a,
				f->name, known);
			return -1;
		}
		for (size_t i = 0; i < f->n_arms; i++) {
			if (!strcmp(f->arms[i], a)) {
				fail_at(st, st->line, "arm '%s' listed twice", a);
				return -1;
			}
		}
		if (f->n_arms == MATRIX_MAX_ARMS) {
			fail_at(st, st->line, "more than %d arms", MATRIX_MAX_ARMS);
			return -1;
		}
		snprintf(f->arms[f->n_arms++], MATRIX_NAME_LEN, "%s", a);
	}
	if (!f->n_arms) {
		fail_at(st, st->line, "arms is empty");
		return -1;
	}
	f->arms_line = st->line;
	return 0;
}

static bool family_has_arm(const struct matrix_family *f, const char *arm)
{
	for (size_t i = 0; i < f->n_arms; i++)
		if (!strcmp(f->arms[i], arm))
			return true;
	return false;
}

static int family_pairs(struct parse_state *st, struct matrix_family *f, const char *value)
{
	char buf[MAX_LINE], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", value);
	for (char *p = strtok_r(buf, " ,\t", &save); p; p = strtok_r(NULL, " ,\t", &save)) {
		char *colon = strchr(p, ':');
		struct arm_pair *pair;

		if (!colon || colon == p || !colon[1]) {
			fail_at(st, st->line, "compare: '%s' is not BASELINE:CANDIDATE", p);
			return -1;
		}
		*colon = '\0';
		if (f->n_pairs == MATRIX_MAX_PAIRS) {
			fail_at(st, st->line, "more than %d pairs", MATRIX_MAX_PAIRS);
			return -1;
		}
		pair = &f->pairs[f->n_pairs++];
		if (strlen(p) >= MATRIX_NAME_LEN || strlen(colon + 1) >= MATRIX_NAME_LEN) {
			fail_at(st, st->line, "compare: arm name too long");
			return -1;
		}
		strcpy(pair->baseline, p);
		strcpy(pair->candidate, colon + 1);
	}
	return 0;
}

static int family_key(struct parse_state *st, const char *name, const char *value)
{
	static const char *const keys[] = { "arms", "params", "compare" };
	struct matrix_family *f = st->family;
	size_t i;

	for (i = 0; i < 3 && strcmp(name, keys[i]); i++)
		;
	if (i == 3) {
		fail_at(st, st->line, "unknown key '%s' in [family %s] (expected arms, params "
			"or compare)", name, f->name);
		return -1;
	}
	if (st->family_set & (1U << i)) {
		fail_at(st, st->line, "%s given twice in [family %s]", name, f->name);
		return -1;
	}
	st->family_set |= 1U << i;
	switch (i) {
	case 0:
		return family_arms(st, f, value);
	case 1: {
		char why[200];

		if (strlen(value) >= sizeof(f->params) ||
		    f->ops->check_params(value, why, sizeof(why))) {
			fail_at(st, st->line, "params: %s", strlen(value) >= sizeof(f->params) ?
				"too long" : why);
			return -1;
		}
		snprintf(f->params, sizeof(f->params), "%s", value);
		f->params_line = st->line;
		return 0;
	}
	default:
		f->compare_line = st->line;
		return family_pairs(st, f, value);
	}
}

static void begin_section(struct parse_state *st, const char *name)
{
	struct matrix *m = st->m;
	const char *arg = strchr(name, ' ');
	char kind[32];
	size_t klen = arg ? (size_t)(arg - name) : strlen(name);

	if (st->workload)
		workload_finish(st, st->workload);
	st->family = NULL;
	st->workload = NULL;
	snprintf(kind, sizeof(kind), "%.*s", (int)(klen < 31 ? klen : 31), name);
	while (arg && *arg == ' ')
		arg++;

	if (!strcmp(kind, "run") && !arg) {
		st->kind = SEC_RUN;
	} else if (!strcmp(kind, "workloads") && !arg) {
		if (m->n_workloads)
			return fail_at(st, st->line, "[workloads] must come before the first "
				       "[workload NAME]");
		st->kind = SEC_DEFAULTS;
	} else if (!strcmp(kind, "family") && arg && *arg) {
		struct matrix_family *f;

		if (matrix_family_by_name(m, arg))
			return fail_at(st, st->line, "[family %s] given twice", arg);
		if (!family_find(arg))
			return fail_at(st, st->line, "unknown family '%s' (known: %s)", arg,
				       family_names());
		if (m->n_families == MATRIX_MAX_FAMILIES)
			return fail_at(st, st->line, "more than %d families", MATRIX_MAX_FAMILIES);
		f = &m->families[m->n_families++];
		f->ops = family_find(arg);
		snprintf(f->name, sizeof(f->name), "%s", arg);
		snprintf(f->params, sizeof(f->params), "%s", f->ops->default_params);
		f->selected = true;
		f->line = st->line;
		st->family = f;
		st->family_set = 0;
		st->kind = SEC_FAMILY;
	} else if (!strcmp(kind, "workload") && arg && *arg) {
		struct workload *w;
		bool ok = strlen(arg) < sizeof(w->name);

		for (const char *p = arg; ok && *p; p++)
			ok = isalnum((unsigned char)*p) || strchr("-_.+", *p);
		if (!ok)
			return fail_at(st, st->line, "workload name '%s': use letters, digits "
				       "and -_.+ (up to %zu)", arg, sizeof(w->name) - 1);
		if (matrix_workload_by_name(m, arg))
			return fail_at(st, st->line, "[workload %s] given twice", arg);
		if (m->n_workloads == MATRIX_MAX_WORKLOADS)
			return fail_at(st, st->line, "more than %d workloads",
				       MATRIX_MAX_WORKLOADS);
		w = &m->workloads[m->n_workloads++];
		*w = st->defaults;
		w->set = 0;
		snprintf(w->name, sizeof(w->name), "%s", arg);
		w->line = st->line;
		st->workload = w;
		st->kind = SEC_WORKLOAD;
	} else {
		fail_at(st, st->line, "unknown section [%s] (expected [run], [workloads], "
			"[family NAME] or [workload NAME])", name);
	}
}

/* inih's line reader: counts lines and sees section headers before inih does. */
static char *read_line(char *str, int num, void *stream)
{
	struct parse_state *st = stream;
	char *s, *end;
	size_t n;

	if (st->failed || !fgets(str, num, st->file))
		return NULL;
	st->line = st->next_line++;
	n = strlen(str);
	if (n && str[n - 1] != '\n' && !feof(st->file)) {
		fail_at(st, st->line, "line longer than %d characters", num - 2);
		return NULL;
	}
	s = strtrim(strcpy((char[MAX_LINE + 1]){ 0 }, str));
	if (*s != '[')
		return str;
	end = strchr(s, ']');
	if (!end) {
		fail_at(st, st->line, "section header without ']'");
		return NULL;
	}
	*end = '\0';
	begin_section(st, strtrim(s + 1));
	return str;
}

static int handle_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	struct workload *w;

	(void)section;
	if (st->failed)
		return 0;
	switch (st->kind) {
	case SEC_NONE:
		fail_at(st, st->line, "key '%s' before any section", name);
		return 0;
	case SEC_RUN:
		return !run_key(st, name, value);
	case SEC_FAMILY:
		return !family_key(st, name, value);
	case SEC_DEFAULTS:
	case SEC_WORKLOAD:
		w = st->kind == SEC_WORKLOAD ? st->workload : &st->defaults;
		if (st->kind == SEC_DEFAULTS && !strcmp(name, "family")) {
			fail_at(st, st->line, "family belongs in a [workload NAME] section");
			return 0;
		}
		return !workload_key(st, w, name, value);
	}
	return 0;
}

/* Checks that need the whole file: arms, pairs, workloads against each family. */
static void check_matrix(struct parse_state *st)
{
	struct matrix *m = st->m;

	if (!m->n_families)
		return fail_at(st, st->line, "no [family NAME] section");
	if (!m->n_workloads)
		return fail_at(st, st->line, "no [workload NAME] section");
	if (m->samples % m->boots)
		return fail_at(st, m->boots_line, "boots = %u does not divide samples = %u "
			       "(every boot runs the same number of rounds)", m->boots, m->samples);
	for (size_t i = 0; i < m->n_families && !st->failed; i++) {
		struct matrix_family *f = &m->families[i];

		if (!f->n_arms)
			return fail_at(st, f->line, "[family %s]: arms is not set", f->name);
		for (size_t p = 0; p < f->n_pairs; p++) {
			if (!family_has_arm(f, f->pairs[p].baseline) ||
			    !family_has_arm(f, f->pairs[p].candidate))
				return fail_at(st, f->compare_line, "compare names %s:%s, "
					       "but arms does not list both",
					       f->pairs[p].baseline, f->pairs[p].candidate);
		}
	}
	for (size_t i = 0; i < m->n_workloads && !st->failed; i++) {
		const struct workload *w = &m->workloads[i];
		bool used = false;

		for (size_t j = 0; j < m->n_families && !st->failed; j++) {
			const struct matrix_family *f = &m->families[j];
			char why[200];
			int line = w->line;

			if (!matrix_workload_applies(w, f))
				continue;
			used = true;
			if (f->ops->check_workload(f->params, m, w, &line, why, sizeof(why)))
				fail_at(st, line, "workload '%s' on family %s: %s", w->name,
					f->name, why);
		}
		if (!used && !st->failed)
			fail_at(st, w->line, "workload '%s': family %s is not in this matrix",
				w->name, w->family);
	}
}

/* Appends one default pair; the arm limit keeps the pairs within MATRIX_MAX_PAIRS. */
static void add_pair(struct matrix_family *f, const char *base, const char *cand)
{
	if (f->n_pairs == MATRIX_MAX_PAIRS)
		return;
	snprintf(f->pairs[f->n_pairs].baseline, MATRIX_NAME_LEN, "%s", base);
	snprintf(f->pairs[f->n_pairs++].candidate, MATRIX_NAME_LEN, "%s", cand);
}

/*
 * Pairs a family compares when the matrix names none: raw vs upstream, safe vs
 * raw; safe vs upstream only when there is no raw arm to go between them; each Rust
 * arm (a Rust twin, or upstream's rnull) vs the upstream, the raw and the safe arm; each
 * safe variant (ablation) vs the safe twin and vs the raw one.
 */
static void default_pairs(struct matrix_family *f)
{
	static const enum arm_role order[][2] = {
		{ ARM_UPSTREAM, ARM_RAW },
		{ ARM_RAW, ARM_SAFE },
		{ ARM_UPSTREAM, ARM_SAFE },
	};
	static const enum arm_role against_rust[] = { ARM_UPSTREAM, ARM_RAW, ARM_SAFE };
	const size_t n_against = ARRAY_LEN(against_rust);
	const char *first[ARM_NONE + 1] = { 0 };

	if (f->n_pairs)
		return;
	for (size_t i = 0; i < f->n_arms; i++) {
		const struct family_arm *a = family_find_arm(f->ops, f->arms[i]);

		if (!first[a->role])
			first[a->role] = a->name;
	}
	for (size_t o = 0; o < ARRAY_LEN(order); o++) {
		if (o == 2 && f->n_pairs)
			continue;
		if (first[order[o][0]] && first[order[o][1]])
			add_pair(f, first[order[o][0]], first[order[o][1]]);
	}
	for (size_t i = 0; i < f->n_arms; i++) {
		const struct family_arm *a = family_find_arm(f->ops, f->arms[i]);

		for (size_t k = 0; a->role == ARM_RUST && k < n_against; k++)
			if (first[against_rust[k]])
				add_pair(f, first[against_rust[k]], a->name);
	}
	for (size_t i = 0; i < f->n_arms; i++) {
		const struct family_arm *a = family_find_arm(f->ops, f->arms[i]);

		if (a->role != ARM_VARIANT)
			continue;
		for (size_t j = 0; j < f->n_arms; j++) {
			const struct family_arm *b = family_find_arm(f->ops, f->arms[j]);

			if (b->role == ARM_SAFE || b->role == ARM_RAW)
				add_pair(f, b->name, a->name);
		}
	}
}

int matrix_load(const char *path, struct matrix *m, char *err, size_t len)
{
	struct parse_state st = { .m = m, .next_line = 1, .err = err, .errlen = len };
	int rc;

	memset(m, 0, sizeof(*m));
	if (strlen(path) >= sizeof(m->path))
		return seterr(err, len, "%s: path too long", path);
	strcpy(m->path, path);
	m->samples = 5;
	m->trace_rate = (struct matrix_trace_rate){ MATRIX_TRACE_SAMPLE_DEFAULT,
		MATRIX_TRACE_DUTY_ON_DEFAULT, MATRIX_TRACE_DUTY_PERIOD_DEFAULT };
	m->boots = 1;
	m->margin_pct = MATRIX_DEFAULT_MARGIN_PCT;
	m->ios = 100000;
	m->warmup_ios = 10000;
	m->timeout = 600;
	builtin_defaults(&st.defaults);
	if (family_registration_errors())
		return seterr(err, len, "%s: a device family failed to register (see above)",
			      path);
	st.file = fopen(path, "r");
	if (!st.file)
		return seterr(err, len, "%s: %s", path, strerror(errno));
	ini_allow_multiline = false;
	rc = ini_parse_stream(read_line, &st, handle_key, &st);
	fclose(st.file);
	if (!st.failed && rc > 0)
		fail_at(&st, rc, "syntax error (expected [section] or key = value)");
	if (!st.failed && rc < 0)
		fail_at(&st, 0, "cannot parse (inih error %d)", rc);
	if (!st.failed && st.workload)
		workload_finish(&st, st.workload);
	if (!st.failed)
		check_matrix(&st);
	for (size_t i = 0; i < m->n_families; i++)
		default_pairs(&m->families[i]);
	return st.failed ? -1 : 0;
}

int matrix_select_families(struct matrix *m, const char *list, char *err, size_t len)
{
	char buf[256], *save = NULL;

	if (!list || !*list || !strcmp(list, "all"))
		return 0;
	for (size_t i = 0; i < m->n_families; i++)
		m->families[i].selected = false;
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *n = strtok_r(buf, " ,", &save); n; n = strtok_r(NULL, " ,", &save)) {
		struct matrix_family *f = (struct matrix_family *)matrix_family_by_name(m, n);

		if (!f)
			return seterr(err, len, "--families: '%s' is not a family of %s", n,
				      m->path);
		f->selected = true;
	}
	return 0;
}

bool matrix_workload_applies(const struct workload *w, const struct matrix_family *f)
{
	return !w->family[0] || !strcmp(w->family, f->name);
}

const struct matrix_family *matrix_family_by_name(const struct matrix *m, const char *name)
{
	for (size_t i = 0; i < m->n_families; i++)
		if (!strcmp(m->families[i].name, name))
			return &m->families[i];
	return NULL;
}

const struct workload *matrix_workload_by_name(const struct matrix *m, const char *name)
{
	for (size_t i = 0; i < m->n_workloads; i++)
		if (!strcmp(m->workloads[i].name, name))
			return &m->workloads[i];
	return NULL;
}

void matrix_drop_arm(struct matrix_family *f, const char *arm)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n_arms; i++)
		if (strcmp(f->arms[i], arm))
			memmove(f->arms[n++], f->arms[i], MATRIX_NAME_LEN);
	f->n_arms = n;
	n = 0;
	for (size_t i = 0; i < f->n_pairs; i++)
		if (strcmp(f->pairs[i].baseline, arm) && strcmp(f->pairs[i].candidate, arm))
			f->pairs[n++] = f->pairs[i];
	f->n_pairs = n;
}
