/* SPDX-License-Identifier: GPL-2.0 */
/*
 * exec.h - the executor of a plan (exec.c), where modules can be loaded: the guest,
 * or a host in host mode; run.c shares its sample files and its invalid-sample writer.
 */
#ifndef TWINBENCH_EXEC_H
#define TWINBENCH_EXEC_H

#include <stddef.h>
#include "matrix.h"
#include "plan.h"

/* twinbench exec --plan FILE --out DIR: execute a plan here (exec.c). */
int exec_main(int argc, char **argv);


/*
 * Execute the samples of @p not yet in @outdir/samples/ (exec.c). Returns 0
 * when every sample was valid, 1 when some failed or were invalid, and
 * EXIT_INTERRUPTED when a signal stopped it (what was loaded is unloaded).
 */
int exec_plan(const struct matrix *m, const struct plan *p, const char *outdir);

/*
 * Write plan entry @e as one invalid sample with @note (why it has no metrics), as
 * exec does for a failed sample; run.c uses it for a sample its watchdog stopped.
 */
int sample_write_invalid(const struct matrix *m, const char *outdir, const struct plan_entry *e,
			 const char *note);

/* exec_plan writes the index of the sample it is running here, under @outdir. */
#define EXEC_CURRENT_FILE	".exec-current"

/* File of plan entry @index under @outdir/@sub ("samples" or "settings"). */
void sample_path(char *buf, size_t size, const char *outdir, const char *sub,
		 unsigned int index);

#endif /* TWINBENCH_EXEC_H */
