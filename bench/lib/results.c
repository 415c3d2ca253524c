// SPDX-License-Identifier: GPL-2.0
/*
 * results.c - samples.csv, settings.csv and summary.csv: one column
 * description per file drives both the reader (libcsv) and the atomic writer,
 * so the three files cannot drift from each other or from the docs.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <csv.h>
#include "results.h"
#include "util.h"
#include "vec.h"
#include "../../plugin/insnclass.h"

const struct metric_info metric_table[] = {
	{ "iops", "IO/s", true, true, "I/O operations per second (fio)", false },
	{ "bw", "B/s", true, true, "bandwidth in bytes per second (fio)", false },
	{ "lat_p50", "ns", false, true, "median completion latency (fio clat)", false },
	{ "lat_p99", "ns", false, true, "99th percentile completion latency (fio clat)", false },
	{ "lat_p999", "ns", false, true, "99.9th percentile completion latency (fio clat)", false },
	{ "cpu_ns_per_io", "ns", false, true, "busy CPU time of all CPUs per I/O (/proc/stat)", false },
	{ "insn_per_io", "insn", false, true, "guest instructions per I/O (icount clock only)", false },
	{ "kernel_insn_per_io", "insn", false, false,
	  "guest kernel instructions per I/O (insncount plugin)", false },
	{ "driver_insn_per_io", "insn", false, false,
	  "instructions per I/O in the module under test and its safe layer (insncount plugin)", false },
	{ "core_insn_per_io", "insn", false, false,
	  "instructions per I/O in the block or net core (insncount plugin)", false },
	{ "wait_insn_per_io", "insn", false, false,
	  "instructions per I/O of sleeping, waking and the idle loop (insncount plugin)", false },
	{ "busy_insn_per_io", "insn", false, false,
	  "guest instructions per I/O without the wait ones (polled: without the poll loop's "
	  "empty turns) (insncount plugin)", false },
	{ "pollwait_insn_per_io", "insn", false, false,
	  "instructions per I/O of the poll loop's empty turns (insncount plugin, polled I/O)",
	  false },
#define CLASS_METRICS(id, name, what, glc, zen4)				\
	{ name "_per_io", "count", false, false, what ", per I/O (insncount plugin)", true }, \
	{ "driver_" name "_per_io", "count", false, false,			\
	  what ", per I/O in the driver and its layer (insncount plugin)", true },
	INSN_CLASSES(CLASS_METRICS)
#undef CLASS_METRICS
#define ESTIMATE_METRICS(id, name, title)					\
	{ "est_cycles_" name "_per_io", "est-cycles", false, false,		\
	  "estimated " title " CPU cycles per I/O from instruction classes (not a time)", true }, \
	{ "driver_est_cycles_" name "_per_io", "est-cycles", false, false,	\
	  "estimated " title " CPU cycles per I/O in the driver and its layer (not a time)", true },
	INSN_UARCHS(ESTIMATE_METRICS)
#undef ESTIMATE_METRICS
	{ "irqs_per_io", "irq", false, false, "hardware interrupts per I/O", false },
	{ "hardirq_ns_per_io", "ns", false, false, "hard interrupt time per I/O", false },
	{ "softirq_ns_per_io", "ns", false, false, "soft interrupt time per I/O", false },
	{ "driver_ns_per_io", "ns", false, false, "time in the driver per I/O (BPF)", false },
	{ "bpf_lat_p50", "ns", false, true, "median block request latency (BPF)", false },
	{ "bpf_lat_p99", "ns", false, true, "99th percentile block request latency (BPF)", false },
	{ "bpf_lat_p999", "ns", false, true, "99.9th percentile block request latency (BPF)", false },
	{ "tracing_overhead", "ratio", false, true, "IOPS without tracing over IOPS with it", false },
	{ "cycles_per_io", "cycles", false, true,
	  "CPU cycles of all CPUs per I/O (PMU, host mode)", false },
	{ "instructions_per_io", "insn", false, true,
	  "instructions of all CPUs per I/O (PMU, host mode)", false },
	{ "branch_misses_per_io", "misses", false, false,
	  "branch misses per I/O (PMU, host mode)", false },
	{ "cache_misses_per_io", "misses", false, false, "cache misses per I/O (PMU, host mode)", false },
	{ "ipc", "insn/cycle", true, true, "instructions per cycle (PMU, host mode)", false },
	{ "pps", "pkt/s", true, true, "packets per second (iperf3)", false },
	{ "bps", "b/s", true, true, "bits per second (iperf3)", false },
	{ "jitter_ms", "ms", false, false, "UDP jitter (iperf3)", false },
	{ "lost_pct", "%", false, false, "UDP packets lost (iperf3)", false },
	{ "cpu_ns_per_pkt", "ns", false, true, "busy CPU time of all CPUs per packet", false },
	{ NULL, NULL, false, false, NULL, false },
};

const struct metric_info *metric_lookup(const char *name)
{
	for (const struct metric_info *m = metric_table; m->name; m++)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

enum column_type { COL_STR, COL_UINT, COL_SIZE, COL_DOUBLE, COL_BOOL, COL_VERDICT };

struct column {
	const char *name;
	enum column_type type;
	size_t offset, size;
	bool optional;		/* added later: older files may lack it */
};

#define COLUMN(row, field, type) \
	{ #field, type, offsetof(struct row, field), sizeof(((struct row *)0)->field), false }
#define LATER_COLUMN(row, field, type) \
	{ #field, type, offsetof(struct row, field), sizeof(((struct row *)0)->field), true }

static const struct column sample_columns[] = {
	COLUMN(sample_row, family, COL_STR),
	COLUMN(sample_row, arm, COL_STR),
	COLUMN(sample_row, workload, COL_STR),
	COLUMN(sample_row, sample, COL_UINT),
	LATER_COLUMN(sample_row, boot, COL_UINT),
	COLUMN(sample_row, metric, COL_STR),
	COLUMN(sample_row, value, COL_DOUBLE),
	COLUMN(sample_row, unit, COL_STR),
	COLUMN(sample_row, valid, COL_BOOL),
	COLUMN(sample_row, note, COL_STR),
};

static const struct column setting_columns[] = {
	COLUMN(setting_row, family, COL_STR),
	COLUMN(setting_row, arm, COL_STR),
	COLUMN(setting_row, workload, COL_STR),
	COLUMN(setting_row, sample, COL_UINT),
	COLUMN(setting_row, setting, COL_STR),
	COLUMN(setting_row, value, COL_STR),
};

static const struct column summary_columns[] = {
	COLUMN(summary_row, family, COL_STR),
	COLUMN(summary_row, workload, COL_STR),
	COLUMN(summary_row, metric, COL_STR),
	COLUMN(summary_row, baseline, COL_STR),
	COLUMN(summary_row, candidate, COL_STR),
	COLUMN(summary_row, n_base, COL_SIZE),
	COLUMN(summary_row, n_cand, COL_SIZE),
	COLUMN(summary_row, mean_base, COL_DOUBLE),
	COLUMN(summary_row, mean_cand, COL_DOUBLE),
	COLUMN(summary_row, ratio, COL_DOUBLE),
	COLUMN(summary_row, ci_low, COL_DOUBLE),
	COLUMN(summary_row, ci_high, COL_DOUBLE),
	COLUMN(summary_row, p_value, COL_DOUBLE),
	COLUMN(summary_row, verdict, COL_VERDICT),
	COLUMN(summary_row, flags, COL_STR),
	COLUMN(summary_row, settings_diff, COL_STR),
	LATER_COLUMN(summary_row, p_adjusted, COL_DOUBLE),
	LATER_COLUMN(summary_row, p_rank, COL_DOUBLE),
	LATER_COLUMN(summary_row, margin, COL_DOUBLE),
	LATER_COLUMN(summary_row, mdd, COL_DOUBLE),
	LATER_COLUMN(summary_row, units_base, COL_SIZE),
	LATER_COLUMN(summary_row, units_cand, COL_SIZE),
	LATER_COLUMN(summary_row, cv_between, COL_DOUBLE),
	LATER_COLUMN(summary_row, cv_within, COL_DOUBLE),
};

/* A table in memory seen without its row type: rows, count, capacity. */
struct any_table {
	void *rows;
	size_t n, cap;
};

struct csv_format {
	const struct column *cols;
	size_t ncols, row_size;
};

#define FORMAT(cols, row) { cols, ARRAY_LEN(cols), sizeof(struct row) }

static const struct csv_format sample_format = FORMAT(sample_columns, sample_row);
static const struct csv_format setting_format = FORMAT(setting_columns, setting_row);
static const struct csv_format summary_format = FORMAT(summary_columns, summary_row);

static void any_table_add(struct any_table *t, size_t row_size, const void *row)
{
	t->rows = vec_grow(t->rows, t->n, &t->cap, row_size);
	memcpy((char *)t->rows + t->n++ * row_size, row, row_size);
}

void sample_table_add(struct sample_table *t, const struct sample_row *row)
{
	any_table_add((struct any_table *)t, sizeof(*row), row);
}

void settings_table_add(struct settings_table *t, const struct setting_row *row)
{
	any_table_add((struct any_table *)t, sizeof(*row), row);
}

void summary_table_add(struct summary_table *t, const struct summary_row *row)
{
	any_table_add((struct any_table *)t, sizeof(*row), row);
}

static void any_table_free(struct any_table *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

void sample_table_free(struct sample_table *t)
{
	any_table_free((struct any_table *)t);
}

void settings_table_free(struct settings_table *t)
{
	any_table_free((struct any_table *)t);
}

void summary_table_free(struct summary_table *t)
{
	any_table_free((struct any_table *)t);
}

int results_copy_field(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/* Parser state while libcsv hands over one field, then one end of record, at a time. */
struct csv_reader {
	const struct csv_format *fmt;
	struct any_table *table;
	const char *path;
	char *err;
	size_t errlen;
	size_t line, field;
	bool failed;
	char *row;
	size_t ncols;			/* columns the header named */
	const struct column *col[32];	/* the column of each field, from the header */
};

static void reader_fail(struct csv_reader *r, const char *fmt, ...)
{
	va_list ap;
	int off;

	if (r->failed)
		return;
	r->failed = true;
	off = snprintf(r->err, r->errlen, "%s:%zu: ", r->path, r->line);
	if (off < 0 || (size_t)off >= r->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(r->err + off, r->errlen - off, fmt, ap);
	va_end(ap);
}

static int parse_field(const struct column *c, const char *s, void *dst)
{
	char *end;

	switch (c->type) {
	case COL_STR:
		return results_copy_field(dst, c->size, s);
	case COL_UINT: {
		unsigned long v;

		errno = 0;
		v = strtoul(s, &end, 10);
		if (!*s || *end || errno || *s == '-' || v > 0xffffffffUL)
			return -1;
		*(unsigned int *)dst = v;
		return 0;
	}
	case COL_SIZE: {
		unsigned long long v;

		errno = 0;
		v = strtoull(s, &end, 10);
		if (!*s || *end || errno || *s == '-')
			return -1;
		*(size_t *)dst = v;
		return 0;
	}
	case COL_DOUBLE:
		errno = 0;
		*(double *)dst = strtod(s, &end);
		return !*s || *end || errno == ERANGE ? -1 : 0;
	case COL_BOOL:
		if (strcmp(s, "0") && strcmp(s, "1"))
			return -1;
		*(bool *)dst = s[0] == '1';
		return 0;
	case COL_VERDICT:
		return verdict_parse(s, dst);
	}
	return -1;
}

/* Header field @name at position r->field: the next expected column, skipping later ones. */
static void header_field(struct csv_reader *r, const char *name)
{
	size_t next = r->ncols ? r->col[r->ncols - 1] - r->fmt->cols + 1 : 0;

	while (next < r->fmt->ncols && r->fmt->cols[next].optional &&
	       strcmp(name, r->fmt->cols[next].name))
		next++;
	if (next >= r->fmt->ncols || r->ncols >= ARRAY_LEN(r->col)) {
		reader_fail(r, "header column %zu is '%s', expected no more", r->field, name);
		return;
	}
	if (strcmp(name, r->fmt->cols[next].name)) {
		reader_fail(r, "header column %zu is '%s', expected '%s'", r->field, name,
			    r->fmt->cols[next].name);
		return;
	}
	r->col[r->ncols++] = &r->fmt->cols[next];
}

static void reader_field(void *data, size_t len, void *user)
{
	struct csv_reader *r = user;
	const struct column *c;
	char buf[RESULTS_TEXT_LEN + 1];

	if (r->failed)
		return;
	if (len >= sizeof(buf)) {
		reader_fail(r, "column %zu: value too long", r->field + 1);
		return;
	}
	memcpy(buf, data ? data : "", len);
	buf[len] = '\0';
	if (r->line == 1) {
		r->field++;
		header_field(r, buf);
		return;
	}
	if (r->field >= r->ncols) {
		reader_fail(r, "more than %zu columns", r->ncols);
		return;
	}
	c = r->col[r->field++];
	if (parse_field(c, buf, r->row + c->offset))
		reader_fail(r, "column %s: bad value '%s'", c->name, buf);
}

/* A valid sample of a rate or time must be a finite positive number. */
static void check_sample(struct csv_reader *r)
{
	const struct sample_row *row = (const struct sample_row *)r->row;
	const struct metric_info *mi = metric_lookup(row->metric);

	if (!row->valid)
		return;
	if (!isfinite(row->value))
		reader_fail(r, "%s: value %g is not finite (mark the sample invalid instead)",
			    row->metric, row->value);
	else if (mi && mi->positive && row->value <= 0)
		reader_fail(r, "%s: value %g of a rate or time must be positive (mark the "
			    "sample invalid instead)", row->metric, row->value);
}

static void reader_record(int term, void *user)
{
	struct csv_reader *r = user;

	(void)term;
	if (!r->failed && r->line == 1) {
		for (size_t i = 0; i < r->fmt->ncols; i++) {
			bool named = false;

			for (size_t k = 0; k < r->ncols; k++)
				named |= r->col[k] == &r->fmt->cols[i];
			if (!named && !r->fmt->cols[i].optional) {
				reader_fail(r, "header lacks column '%s'", r->fmt->cols[i].name);
				break;
			}
		}
	} else if (!r->failed && r->field != r->ncols) {
		reader_fail(r, "%zu columns, expected %zu", r->field, r->ncols);
	}
	if (!r->failed && r->line > 1 && r->fmt == &sample_format)
		check_sample(r);
	if (!r->failed && r->line > 1)
		any_table_add(r->table, r->fmt->row_size, r->row);
	memset(r->row, 0, r->fmt->row_size);
	for (size_t i = 0; i < r->fmt->ncols; i++)
		if (r->fmt->cols[i].optional && r->fmt->cols[i].type == COL_DOUBLE)
			*(double *)(r->row + r->fmt->cols[i].offset) = NAN;
	r->field = 0;
	r->line++;
}

static int load_csv(const char *path, const struct csv_format *fmt, struct any_table *t,
		    char *err, size_t errlen)
{
	struct csv_reader r = {
		.fmt = fmt, .table = t, .path = path, .err = err, .errlen = errlen, .line = 1,
	};
	struct csv_parser p;
	char buf[8192];
	size_t got;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	r.row = calloc(1, fmt->row_size);
	if (!r.row || csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL))
		abort();
	for (size_t i = 0; i < fmt->ncols; i++)
		if (fmt->cols[i].optional && fmt->cols[i].type == COL_DOUBLE)
			*(double *)(r.row + fmt->cols[i].offset) = NAN;
	while (!r.failed && (got = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (csv_parse(&p, buf, got, reader_field, reader_record, &r) != got)
			reader_fail(&r, "%s", csv_strerror(csv_error(&p)));
	}
	if (!r.failed && ferror(f))
		reader_fail(&r, "read error: %s", strerror(errno));
	if (!r.failed && csv_fini(&p, reader_field, reader_record, &r))
		reader_fail(&r, "%s", csv_strerror(csv_error(&p)));
	if (!r.failed && r.line == 1)
		reader_fail(&r, "empty file, expected a header");
	csv_free(&p);
	free(r.row);
	fclose(f);
	return r.failed ? -1 : 0;
}

int results_load_samples(const char *path, struct sample_table *t, char *err, size_t len)
{
	return load_csv(path, &sample_format, (struct any_table *)t, err, len);
}

int results_load_settings(const char *path, struct settings_table *t, char *err, size_t len)
{
	return load_csv(path, &setting_format, (struct any_table *)t, err, len);
}

int results_load_summary(const char *path, struct summary_table *t, char *err, size_t len)
{
	return load_csv(path, &summary_format, (struct any_table *)t, err, len);
}

void results_write_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void write_field(FILE *f, const struct column *c, const char *row)
{
	const void *p = row + c->offset;

	switch (c->type) {
	case COL_STR:
		results_write_field(f, p);
		break;
	case COL_UINT:
		fprintf(f, "%u", *(const unsigned int *)p);
		break;
	case COL_SIZE:
		fprintf(f, "%zu", *(const size_t *)p);
		break;
	case COL_DOUBLE:
		fprintf(f, "%.15g", *(const double *)p);
		break;
	case COL_BOOL:
		fputc(*(const bool *)p ? '1' : '0', f);
		break;
	case COL_VERDICT:
		fputs(verdict_name(*(const enum verdict *)p), f);
		break;
	}
}

static int write_csv(const char *path, const struct csv_format *fmt, const struct any_table *t,
		     char *err, size_t errlen)
{
	char tmp[4096];
	FILE *f;
	int bad;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < fmt->ncols; i++)
		fprintf(f, "%s%s", i ? "," : "", fmt->cols[i].name);
	fputc('\n', f);
	for (size_t r = 0; r < t->n; r++) {
		const char *row = (const char *)t->rows + r * fmt->row_size;

		for (size_t i = 0; i < fmt->ncols; i++) {
			if (i)
				fputc(',', f);
			write_field(f, &fmt->cols[i], row);
		}
		fputc('\n', f);
	}
	bad = fflush(f) || ferror(f) || fsync(fileno(f));
	if (fclose(f) || bad || rename(tmp, path)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int results_write_samples(const char *path, const struct sample_table *t, char *err, size_t len)
{
	return write_csv(path, &sample_format, (const struct any_table *)t, err, len);
}

int results_write_settings(const char *path, const struct settings_table *t,
			   char *err, size_t len)
{
	return write_csv(path, &setting_format, (const struct any_table *)t, err, len);
}

int results_write_summary(const char *path, const struct summary_table *t, char *err, size_t len)
{
	return write_csv(path, &summary_format, (const struct any_table *)t, err, len);
}
