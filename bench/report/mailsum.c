// SPDX-License-Identifier: GPL-2.0
/*
 * mailsum.c - the plain-text summary: a header naming the run and its kernel, two lines
 * per compared pair of arms (what is compared; both arms' means with their relative
 * standard deviation, the change with its 95 % interval, the verdict), and the command
 * that runs it again, folded to 80 columns.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mailsum.h"
#include "util.h"
#include "vec.h"

/* "47.85k ±  1%": a mean for people and its relative standard deviation. */
static void fmt_arm(char *out, size_t len, const struct sample_stats *st)
{
	double v = st->mean;
	const char *si = si_scale(&v, NULL, 10000);
	double rsd = st->mean ? 100 * st->sd / fabs(st->mean) : NAN;

	if (isfinite(rsd))
		snprintf(out, len, "%9.4g%-1s ±%3.0f%%", v, si, rsd);
	else
		snprintf(out, len, "%9.4g%-1s   n/a", v, si);
}

/* Append @text to @b folded at MAILSUM_COLUMNS, continuation lines indented by 4. */
static void add_folded(struct strbuf *b, const char *text)
{
	size_t col = 0;
	const char *p = text;

	while (*p) {
		size_t word = strcspn(p, " ");

		if (col && col + 1 + word + 2 > MAILSUM_COLUMNS) {
			strbuf_addf(b, " \\\n    ");
			col = 4;
		} else if (col) {
			strbuf_addf(b, " ");
			col++;
		}
		strbuf_addf(b, "%.*s", (int)word, p);
		col += word;
		p += word;
		while (*p == ' ')
			p++;
	}
	strbuf_addf(b, "\n");
}

static void add_row(struct strbuf *b, const struct run_data *run, const struct summary_row *s)
{
	struct sample_stats base = { 0 }, cand = { 0 };
	char a[32], c[32], head[256];

	series_describe(run, s->family, s->baseline, s->workload, s->metric, &base);
	series_describe(run, s->family, s->candidate, s->workload, s->metric, &cand);
	base.mean = s->mean_base;
	cand.mean = s->mean_cand;
	fmt_arm(a, sizeof(a), &base);
	fmt_arm(c, sizeof(c), &cand);
	snprintf(head, sizeof(head), "%s %s %s: %s -> %s", s->family, s->workload, s->metric,
		 s->baseline, s->candidate);
	strbuf_addf(b, "%.*s\n", MAILSUM_COLUMNS, head);
	strbuf_addf(b, "  %s  %s  %+6.1f%% [%+.1f%%, %+.1f%%]  %s\n", a, c,
		    100 * (s->ratio - 1), 100 * (s->ci_low - 1), 100 * (s->ci_high - 1),
		    verdict_name(s->verdict));
}

int mailsum_write(const struct run_data *run, char *err, size_t len)
{
	char b1[64], b2[16], b3[16], b4[16], path[PATH_MAX + 16], command[1024];
	const char *release = manifest_get(run->manifest, "release", b1, sizeof(b1));
	const char *line = manifest_get(run->manifest, "line", b2, sizeof(b2));
	const char *mode = manifest_get(run->manifest, "mode", b3, sizeof(b3));
	const char *clock = manifest_get(run->manifest, "clock", b4, sizeof(b4));
	struct strbuf b = { 0 };
	size_t rows = 0;
	int rc;

	strbuf_addf(&b, "twinbench %.60s\n", run->id);
	strbuf_addf(&b, "kernel %.40s%s%.8s%s, %.8s mode, %.8s clock\n",
		    release ? release : "unknown", line ? " (KERNEL=" : "", line ? line : "",
		    line ? ")" : "", mode ? mode : "?", clock ? clock : "?");
	strbuf_addf(&b, "\n%-15s %-15s %s\n", "  baseline", "  candidate",
		    "  change [95% CI]   verdict");
	for (size_t i = 0; i < run->summary.n; i++) {
		const struct summary_row *s = &run->summary.rows[i];
		const char *primary = facts_family_get(&run->facts, s->family, "primary_metric");

		if (!primary || strcmp(s->metric, primary))
			continue;
		add_row(&b, run, s);
		rows++;
	}
	if (!rows)
		strbuf_addf(&b, "(no comparisons: summary.csv has none of the families' primary "
			    "metrics)\n");
	strbuf_addf(&b, "\nmean ±relative sd of the samples; change = candidate/baseline - 1 "
		    "of\nthe per-boot geometric means, Welch interval; docs/methodology.md\n");
	strbuf_addf(&b, "\nreproduce:\n");
	run_command(run, command, sizeof(command));
	add_folded(&b, command);
	strbuf_addf(&b, "full report: %.66s\n", "report.html in the run folder");
	path_printf(path, sizeof(path), "%s/" MAILSUM_FILE, run->dir);
	rc = file_write_atomic(path, b.s, b.n, err, len);
	free(b.s);
	return rc;
}
