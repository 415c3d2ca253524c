// SPDX-License-Identifier: GPL-2.0
/*
 * plan.c - builds, writes and reads plan.tsv: a header of "# key=value" lines
 * and one tab-separated line per sample: index, family, arm, workload, sample,
 * boot (plans written before boots have no boot column: one boot).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "family.h"
#include "plan.h"
#include "rng.h"
#include "util.h"
#include "vec.h"

#define PLAN_MAGIC "# twinbench plan 1"

static void plan_add(struct plan *p, const struct plan_entry *e, size_t *cap)
{
	*VEC_PUSH(p->entries, p->n, *cap) = *e;
}

void plan_build(const struct matrix *m, uint64_t seed, struct plan *p)
{
	size_t cap = 0, round_start;
	struct rng r;

	p->entries = NULL;
	p->n = 0;
	p->seed = seed;
	rng_seed(&r, seed);
	for (unsigned int s = 1; s <= m->samples; s++) {
		unsigned int boot = (s - 1) / (m->samples / m->boots) + 1;

		round_start = p->n;
		for (size_t f = 0; f < m->n_families; f++) {
			const struct matrix_family *fam = &m->families[f];

			if (!fam->selected)
				continue;
			for (size_t w = 0; w < m->n_workloads; w++) {
				if (!matrix_workload_applies(&m->workloads[w], fam))
					continue;
				for (size_t a = 0; a < 2 * fam->n_arms; a++) {
					struct plan_entry e = { .sample = s, .boot = boot };
					bool traced = a >= fam->n_arms;

					if ((traced && m->trace == MATRIX_TRACE_OFF) ||
					    (!traced && m->trace == MATRIX_TRACE_ON) ||
					    !family_arm_serves(fam->ops, fam->arms[a % fam->n_arms],
							       m, &m->workloads[w], NULL, 0))
						continue;

					snprintf(e.family, sizeof(e.family), "%s", fam->name);
					snprintf(e.arm, sizeof(e.arm), "%s%s",
						 fam->arms[a % fam->n_arms],
						 traced ? TRACE_ARM_SUFFIX : "");
					snprintf(e.workload, sizeof(e.workload), "%s",
						 m->workloads[w].name);
					plan_add(p, &e, &cap);
				}
			}
		}
		for (size_t i = p->n - 1; i > round_start; i--) {
			size_t j = round_start + rng_below(&r, i - round_start + 1);
			struct plan_entry t = p->entries[i];

			p->entries[i] = p->entries[j];
			p->entries[j] = t;
		}
	}
	for (size_t i = 0; i < p->n; i++)
		p->entries[i].index = i + 1;
}

int plan_write(const char *path, const struct plan *p, char *err, size_t len)
{
	size_t size = 4096 + p->n * 200, off = 0;
	char *buf = malloc(size);
	int rc;

	if (!buf)
		abort();
	off += snprintf(buf + off, size - off, "%s\n# matrix=%s\n# clock=%s\n"
			"# icount_shift=%d\n# seed=%" PRIu64 "\n"
			"index\tfamily\tarm\tworkload\tsample\tboot\n",
			PLAN_MAGIC, p->matrix, p->clock, p->icount_shift, p->seed);
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_entry *e = &p->entries[i];

		off += snprintf(buf + off, size - off, "%u\t%s\t%s\t%s\t%u\t%u\n", e->index,
				e->family, e->arm, e->workload, e->sample, e->boot);
	}
	rc = file_write_atomic(path, buf, off, err, len);
	free(buf);
	return rc;
}

static int header_line(struct plan *p, char *line)
{
	char *eq = strchr(line, '='), *key = line + 2;

	if (!eq)
		return -1;
	*eq = '\0';
	if (!strcmp(key, "matrix"))
		return snprintf(p->matrix, sizeof(p->matrix), "%s", eq + 1) <
		       (int)sizeof(p->matrix) ? 0 : -1;
	if (!strcmp(key, "clock"))
		return snprintf(p->clock, sizeof(p->clock), "%s", eq + 1) <
		       (int)sizeof(p->clock) ? 0 : -1;
	if (!strcmp(key, "icount_shift"))
		return sscanf(eq + 1, "%d", &p->icount_shift) == 1 ? 0 : -1;
	if (!strcmp(key, "seed"))
		return sscanf(eq + 1, "%" SCNu64, &p->seed) == 1 ? 0 : -1;
	return -1;
}

int plan_read(const char *path, struct plan *p, char *err, size_t len)
{
	char line[512];
	size_t cap = 0;
	int lineno = 0, fields;
	FILE *f;

	memset(p, 0, sizeof(*p));
	f = fopen(path, "r");
	if (!f)
		return seterr(err, len, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		struct plan_entry e;
		char *t = strtrim(line);

		lineno++;
		if (lineno == 1) {
			if (strcmp(t, PLAN_MAGIC))
				goto bad;
			continue;
		}
		if (!strncmp(t, "# ", 2)) {
			if (header_line(p, t))
				goto bad;
			continue;
		}
		if (!*t || !strncmp(t, "index\t", 6))
			continue;
		memset(&e, 0, sizeof(e));
		e.boot = 1;
		fields = sscanf(t, "%u\t%31[^\t]\t%31[^\t]\t%63[^\t]\t%u\t%u", &e.index,
				e.family, e.arm, e.workload, &e.sample, &e.boot);
		if (fields < 5 || !e.boot || e.index != p->n + 1)
			goto bad;
		plan_add(p, &e, &cap);
	}
	fclose(f);
	if (!p->matrix[0] || !p->clock[0])
		return seterr(err, len, "%s: header lacks matrix= or clock=", path);
	return 0;
bad:
	fclose(f);
	plan_free(p);
	return seterr(err, len, "%s:%d: not a plan line", path, lineno);
}

void plan_free(struct plan *p)
{
	free(p->entries);
	p->entries = NULL;
	p->n = 0;
}
