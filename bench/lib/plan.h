/* SPDX-License-Identifier: GPL-2.0 */
/*
 * plan.h - the ordered list of samples of a run (plan.tsv). The host writes
 * it once; `twinbench exec` works through it wherever modules can be loaded.
 */
#ifndef TWINBENCH_PLAN_H
#define TWINBENCH_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include "matrix.h"

/* A traced sample runs under its arm's name and this suffix (never pooled untraced). */
#define TRACE_ARM_SUFFIX	"+trace"

struct plan_entry {
	unsigned int index;		/* 1-based; names samples/<NNNN>.csv */
	char family[MATRIX_NAME_LEN];
	char arm[MATRIX_NAME_LEN];
	char workload[64];
	unsigned int sample;		/* 1-based, per family, arm and workload */
	unsigned int boot;		/* 1-based guest boot the sample runs in */
};

struct plan {
	char matrix[256];		/* matrix file, relative to the plan's folder */
	char clock[16];			/* icount or wall */
	int icount_shift;		/* -1 in the wall clock */
	uint64_t seed;
	struct plan_entry *entries;
	size_t n;
};

/*
 * Order the samples of the selected families of @m: round after round (one
 * sample of every arm and workload per round), shuffled within each round by
 * @seed, so no arm always runs first or right after another; the rounds are
 * split evenly over m->boots boots, so a boot's level hits every arm alike. Arms whose fixed
 * device cannot serve a workload (family_arm_serves()) get no samples of it.
 */
void plan_build(const struct matrix *m, uint64_t seed, struct plan *p);
int plan_write(const char *path, const struct plan *p, char *err, size_t len);
int plan_read(const char *path, struct plan *p, char *err, size_t len);
void plan_free(struct plan *p);

#endif /* TWINBENCH_PLAN_H */
