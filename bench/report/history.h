/* SPDX-License-Identifier: GPL-2.0 */
/*
 * history.h - the nightly history of runs (history.c).
 */
#ifndef TWINBENCH_HISTORY_H
#define TWINBENCH_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include "report_run.h"

/*
 * A history store, whatever keeps it: each backend fills this table, and every caller
 * goes through history_*() below. SQLite (a file, results/history.db) is the one
 * backend; a server database slots in as a second table chosen by history_open().
 */
struct history_backend {
	const char *name;
	int (*open)(const char *where, bool create, void **handle, char *err, size_t len);
	void (*close)(void *handle);
	int (*run_ids)(void *handle, struct name_list *ids, char *err, size_t len);
	int (*load_run)(void *handle, const char *run_id, struct run_data *run, char *err,
			size_t len);
	int (*add_run)(void *handle, const struct run_data *run, bool *replaced, char *err,
		       size_t len);
	/* Print one line per run (id, start, kernel, mode, clock) to stdout. */
	int (*list)(void *handle, char *err, size_t len);
};

/* An open history: its backend and that backend's handle. */
struct history {
	const struct history_backend *be;
	void *handle;
};

/* Open the history at @where; created when absent (with @create), else validated first. */
int history_open(const char *where, bool create, struct history **h, char *err, size_t len);
void history_close(struct history *h);
/* The run ids of the history, oldest first (by start time, then id). */
int history_run_ids(struct history *h, struct name_list *ids, char *err, size_t len);
/* One run of the history as a run_data: manifest, folder and samples (no summary). */
int history_load_run(struct history *h, const char *run_id, struct run_data *run, char *err,
		     size_t len);
/* Add or replace one run in a single transaction; *@replaced says it was there. */
int history_add_run(struct history *h, const struct run_data *run, bool *replaced,
		    char *err, size_t len);
/* Print the runs of the history, one a line. */
int history_list(struct history *h, char *err, size_t len);

/* twinbench history add RUN_DIR [--db FILE] | history list [--db FILE] */
int history_main(int argc, char **argv);

#endif /* TWINBENCH_HISTORY_H */
