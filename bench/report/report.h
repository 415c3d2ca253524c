/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report.h - the reporting side of twinbench: turning a run folder into plots
 * and a report, keeping the nightly history, comparing two runs and rendering
 * the trend dashboard: the entry points main.c dispatches to. Each module of
 * report/ has its own header for the rest.
 */
#ifndef TWINBENCH_REPORT_H
#define TWINBENCH_REPORT_H

/* twinbench report RUN_DIR: data files, plots, report.md and report.html */
int report_main(int argc, char **argv);

/* twinbench history add RUN_DIR [--db FILE] | history list [--db FILE] */
int history_main(int argc, char **argv);

/* twinbench compare BASE_RUN CAND_RUN [--threshold PCT]: regression verdict between runs */
int compare_main(int argc, char **argv);

/* twinbench dashboard [--db FILE] [-o DIR]: static HTML trend page from the history */
int dashboard_main(int argc, char **argv);

#endif /* TWINBENCH_REPORT_H */
