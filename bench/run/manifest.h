/* SPDX-License-Identifier: GPL-2.0 */
/*
 * manifest.h - writing and reading manifest.json, the description of a run.
 */
#ifndef TWINBENCH_MANIFEST_H
#define TWINBENCH_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "matrix.h"

/* What the runner decided, for manifest.json; the rest is gathered on the spot. */
struct manifest_info {
	const char *top;		/* the source tree */
	const char *rundir;
	const char *run_id;
	const char *profile;
	const char *mode, *mode_reason;
	const char *clock;
	int icount_shift;		/* -1 in the wall clock */
	const char *kver;		/* kernel the samples run on */
	uint64_t seed;
	const char *kernel_facts;	/* scripts/kernels.sh's kernel.env; NULL: host mode */
	const char *kernel_config;	/* its .config; NULL: /boot/config-KVER */
	const char *module_root;	/* where lib/modules/KVER is; NULL: / */
	const char *module_dir;		/* our modules for that kernel; NULL: this tree */
};

int manifest_write(const struct manifest_info *mi, const struct matrix *m, char *err,
		   size_t len);
/* The mode and profile of an existing run, for --resume. */
int manifest_read_mode(const char *rundir, char *mode, size_t mode_len, char *profile,
		       size_t profile_len, char *err, size_t len);

/* The kernel line (kernel.line) of an existing run, for --resume; -1 when it has none. */
int manifest_read_kernel_line(const char *rundir, char *line, size_t size);

/*
 * Record in manifest.json's "concurrent_runs" the other runs (lock.h entries: pid, run,
 * mode, clock) seen running beside this one; an empty list says none was.
 */
int manifest_set_concurrent(const char *rundir, json_t *runs, char *err, size_t len);
/*
 * Set manifest.json's top-level @key to @value (the reference is taken, also on error),
 * rewriting the file atomically.
 */
int manifest_set(const char *rundir, const char *key, json_t *value, char *err, size_t len);

#endif /* TWINBENCH_MANIFEST_H */
