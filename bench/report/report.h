/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report.h - twinbench report: a run folder's plots, report.md, report.html and
 * summary.txt (report.c); the history, compare and dashboard entry points are in
 * history.h, report_compare.h and dashboard.h.
 */
#ifndef TWINBENCH_REPORT_H
#define TWINBENCH_REPORT_H

/* twinbench report RUN_DIR: data files, plots, report.md and report.html */
int report_main(int argc, char **argv);

#endif /* TWINBENCH_REPORT_H */
