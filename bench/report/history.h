/* SPDX-License-Identifier: GPL-2.0 */
/*
 * history.h - the nightly history of runs (history.c).
 */
#ifndef TWINBENCH_HISTORY_H
#define TWINBENCH_HISTORY_H

#include "report_run.h"

/* Open the history database; it is created when absent, else validated first. */
struct sqlite3;
int history_open(const char *path, bool create, struct sqlite3 **db, char *err, size_t len);
/* The run ids of the history, oldest first (by start time, then id). */
int history_run_ids(struct sqlite3 *db, struct name_list *ids, char *err, size_t len);
/* One run of the history as a run_data: manifest, folder and samples (no summary). */
int history_load_run(struct sqlite3 *db, const char *run_id, struct run_data *run, char *err,
		     size_t len);
/* Add or replace one run in a single transaction; *@replaced says it was there. */
int history_add_run(struct sqlite3 *db, const struct run_data *run, bool *replaced,
		    char *err, size_t len);

#endif /* TWINBENCH_HISTORY_H */
